// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs: /sys/kernel/debug/vmbuf/device (control device state, with the
 * transport's own lines) and
 * /sys/kernel/debug/vmbuf/pools (every pool and its buffers, with the
 * process that allocated each), in the spirit of ION's debugfs.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vmbuf.h"

static struct dentry *vmbuf_debugfs_root;

static int vmbuf_debugfs_device_show(struct seq_file *s, void *unused)
{
	down_read(&vmbuf_dev_sem);
	if (!vmbuf_dev) {
		seq_puts(s, "no control device\n");
	} else {
		seq_printf(s, "transport: %s\nvm: %s\nquota: %llu\npools: %u\n",
			   vmbuf_dev->ops->name, vmbuf_dev->vm_name, vmbuf_dev->quota,
			   vmbuf_dev->npools);
		if (vmbuf_dev->ops->debugfs_show)
			vmbuf_dev->ops->debugfs_show(vmbuf_dev, s);
	}
	up_read(&vmbuf_dev_sem);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vmbuf_debugfs_device);

static int vmbuf_debugfs_pools_show(struct seq_file *s, void *unused)
{
	struct vmbuf_pool *pool;
	struct vmbuf_buffer *buf;

	mutex_lock(&vmbuf_lock);
	list_for_each_entry(pool, &vmbuf_pools, link) {
		mutex_lock(&pool->lock);
		seq_printf(s, "pool %s id %u locator %#llx size %pa used %llu buffers %u heap %s\n",
			   pool->name, pool->pool_id,
			   pool->locator, &pool->size, pool->used, pool->nbuffers,
			   pool->heap_registered ? pool->heap_node : "-");
		list_for_each_entry(buf, &pool->buffers, link)
			seq_printf(s, "  buffer %llu offset %llu size %llu pid %d comm %s\n",
				   buf->id, buf->offset, buf->size, buf->pid, buf->comm);
		mutex_unlock(&pool->lock);
	}
	mutex_unlock(&vmbuf_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vmbuf_debugfs_pools);

static int vmbuf_debugfs_timelines_show(struct seq_file *s, void *unused)
{
	struct vmbuf_pool *pool;
	struct vmbuf_buffer *buf;

	mutex_lock(&vmbuf_lock);
	list_for_each_entry(pool, &vmbuf_pools, link) {
		mutex_lock(&pool->lock);
		list_for_each_entry(buf, &pool->buffers, link)
			if (buf->exported || buf->imported)
				seq_printf(s, "timeline handle %*phN... %s '%s' pool %s\n", 4,
					   buf->handle, buf->imported ? "imported" : "exported",
					   buf->name, pool->name);
		mutex_unlock(&pool->lock);
	}
	mutex_unlock(&vmbuf_lock);
	vmbuf_fence_debugfs_show(s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vmbuf_debugfs_timelines);

void vmbuf_debugfs_init(void)
{
	vmbuf_debugfs_root = debugfs_create_dir("vmbuf", NULL);
	debugfs_create_file("device", 0444, vmbuf_debugfs_root, NULL,
			    &vmbuf_debugfs_device_fops);
	debugfs_create_file("pools", 0444, vmbuf_debugfs_root, NULL, &vmbuf_debugfs_pools_fops);
	debugfs_create_file("timelines", 0444, vmbuf_debugfs_root, NULL,
			    &vmbuf_debugfs_timelines_fops);
}

void vmbuf_debugfs_exit(void)
{
	debugfs_remove_recursive(vmbuf_debugfs_root);
}
