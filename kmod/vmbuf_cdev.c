// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/vmbuf: the guest's control node. VMBUF_IOC_INFO reports the VM's
 * name, quota and pools (with this guest's usage of each).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmbuf.h>

#include "vmbuf.h"

static int vmbuf_cdev_info(void __user *uarg)
{
	struct vmbuf_info *info;
	struct vmbuf_pool *pool;
	int ret = 0;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	mutex_lock(&vmbuf_lock);
	if (!vmbuf_ctl) {
		ret = -ENODEV;
		goto out_unlock;
	}
	info->version = VIRTIO_VMBUF_VERSION;
	info->quota_bytes = vmbuf_ctl->quota;
	memcpy(info->vm_name, vmbuf_ctl->vm_name, VMBUF_NAME_MAX);
	list_for_each_entry(pool, &vmbuf_pools, link) {
		struct vmbuf_pool_desc *d;

		if (!pool->matched || info->npools >= VMBUF_MAX_POOLS)
			continue;
		d = &info->pools[info->npools++];
		d->pool_id = pool->pool_id;
		d->flags = pool->heap_registered ? VMBUF_POOL_HEAP : 0;
		d->size = pool->size;
		mutex_lock(&pool->lock);
		d->used = pool->used;
		d->buffers = pool->nbuffers;
		mutex_unlock(&pool->lock);
		memcpy(d->name, pool->name, VMBUF_NAME_MAX);
	}
out_unlock:
	mutex_unlock(&vmbuf_lock);
	if (!ret && copy_to_user(uarg, info, sizeof(*info)))
		ret = -EFAULT;
	kfree(info);
	return ret;
}

static long vmbuf_cdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case VMBUF_IOC_INFO:
		return vmbuf_cdev_info((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vmbuf_cdev_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = vmbuf_cdev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice vmbuf_cdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmbuf",
	.fops = &vmbuf_cdev_fops,
	.mode = 0666,
};

int vmbuf_cdev_init(void)
{
	return misc_register(&vmbuf_cdev);
}

void vmbuf_cdev_exit(void)
{
	misc_deregister(&vmbuf_cdev);
}
