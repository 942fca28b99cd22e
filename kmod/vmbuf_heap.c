// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf heaps: /dev/dma_heap/vmbuf-<pool>.
 *
 * Where the kernel exports dma_heap_add() (Linux 7.x), the heap is the
 * dma-heap core's. The core cannot remove a heap, so a heap lives on after
 * its pool's device went (allocations then fail with -ENODEV, and a pool of
 * the same name coming back gets it again) and pins the module: vmbuf.ko
 * stays loaded once it registered one.
 *
 * Kernels up to 6.x do not export it, so the heap is a misc
 * device whose node is dma_heap/vmbuf-<pool> and whose one ioctl,
 * DMA_HEAP_IOCTL_ALLOC, applies exactly the dma-heap core's checks
 * (drivers/dma-buf/dma-heap.c): command matched by number with the
 * core's size handling, fd must be 0, fd_flags within O_CLOEXEC|O_ACCMODE,
 * heap_flags 0, len rounded up to a page and non-zero. Unlike the core, the
 * fd is installed only after copy_to_user() succeeded.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-heap.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/dma-heap.h>

#include "vmbuf.h"

#ifdef VMBUF_HAVE_DMA_HEAP_ADD

MODULE_INFO(import_ns, "DMA_BUF_HEAP");

/* A heap of the dma-heap core (never freed) and the pool it allocates from, if any. */
struct vmbuf_core_heap {
	struct list_head link;		/* vmbuf_core_heaps */
	char name[VIRTIO_VMBUF_NAME_MAX + 8];
	struct dma_heap *heap;
	struct vmbuf_pool *pool;	/* under vmbuf_core_heaps_lock */
};

static LIST_HEAD(vmbuf_core_heaps);
static DEFINE_MUTEX(vmbuf_core_heaps_lock);

/* The core checked fd_flags, heap_flags and len (page-aligned, not 0) already. */
static struct dma_buf *vmbuf_core_heap_allocate(struct dma_heap *heap, unsigned long len,
						u32 fd_flags, u64 heap_flags)
{
	struct vmbuf_core_heap *h = dma_heap_get_drvdata(heap);
	struct vmbuf_pool *pool;
	struct dma_buf *dmabuf;

	mutex_lock(&vmbuf_core_heaps_lock);
	pool = h->pool;
	if (pool)
		vmbuf_pool_get(pool);
	mutex_unlock(&vmbuf_core_heaps_lock);
	if (!pool)
		return ERR_PTR(-ENODEV);	/* the pool's device went away */
	dmabuf = vmbuf_buffer_alloc(pool, len, fd_flags);
	vmbuf_pool_put(pool);
	return dmabuf;
}

static const struct dma_heap_ops vmbuf_core_heap_ops = {
	.allocate = vmbuf_core_heap_allocate,
};

int vmbuf_heap_register(struct vmbuf_pool *pool)
{
	struct dma_heap_export_info exp_info = { .ops = &vmbuf_core_heap_ops };
	struct vmbuf_core_heap *h;
	int ret = 0;

	snprintf(pool->heap_name, sizeof(pool->heap_name), "vmbuf-%s", pool->name);
	snprintf(pool->heap_node, sizeof(pool->heap_node), "dma_heap/vmbuf-%s", pool->name);
	mutex_lock(&vmbuf_core_heaps_lock);
	list_for_each_entry(h, &vmbuf_core_heaps, link)
		if (!strcmp(h->name, pool->heap_name))
			goto found;
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h) {
		ret = -ENOMEM;
		goto out;
	}
	strscpy(h->name, pool->heap_name, sizeof(h->name));
	exp_info.name = h->name;
	exp_info.priv = h;
	h->heap = dma_heap_add(&exp_info);
	if (IS_ERR(h->heap)) {
		ret = PTR_ERR(h->heap);
		kfree(h);
		dev_err(pool->dev, "cannot add heap %s: %d\n", pool->heap_node, ret);
		goto out;
	}
	/* The core keeps the heap, and our ops, for good. */
	if (list_empty(&vmbuf_core_heaps))
		__module_get(THIS_MODULE);
	list_add(&h->link, &vmbuf_core_heaps);
found:
	h->pool = pool;
	pool->heap_registered = true;
out:
	mutex_unlock(&vmbuf_core_heaps_lock);
	return ret;
}

void vmbuf_heap_unregister(struct vmbuf_pool *pool)
{
	struct vmbuf_core_heap *h;

	mutex_lock(&vmbuf_core_heaps_lock);
	list_for_each_entry(h, &vmbuf_core_heaps, link)
		if (h->pool == pool)
			h->pool = NULL;
	mutex_unlock(&vmbuf_core_heaps_lock);
	pool->heap_registered = false;
}

#else	/* the misc device with the core's ABI */

static long vmbuf_heap_alloc(struct vmbuf_pool *pool, unsigned int ucmd, void __user *uarg)
{
	const unsigned int kcmd = DMA_HEAP_IOCTL_ALLOC;
	struct dma_heap_allocation_data data;
	unsigned int in_size, out_size;
	struct dma_buf *dmabuf;
	int fd;

	/* Sizes as the core computes them: the user's, clipped to ours. */
	out_size = _IOC_SIZE(ucmd);
	in_size = out_size;
	if ((ucmd & kcmd & IOC_IN) == 0)
		in_size = 0;
	if ((ucmd & kcmd & IOC_OUT) == 0)
		out_size = 0;
	in_size = min_t(unsigned int, in_size, sizeof(data));
	out_size = min_t(unsigned int, out_size, sizeof(data));

	memset(&data, 0, sizeof(data));
	if (copy_from_user(&data, uarg, in_size))
		return -EFAULT;
	if (data.fd)
		return -EINVAL;
	if (data.fd_flags & ~(u32)(O_CLOEXEC | O_ACCMODE))
		return -EINVAL;
	if (data.heap_flags)
		return -EINVAL;
	if (!PAGE_ALIGN(data.len))
		return -EINVAL;

	dmabuf = vmbuf_buffer_alloc(pool, PAGE_ALIGN(data.len), data.fd_flags);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	fd = get_unused_fd_flags(data.fd_flags);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	data.fd = fd;
	if (copy_to_user(uarg, &data, out_size)) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

static long vmbuf_heap_ioctl(struct file *file, unsigned int ucmd, unsigned long arg)
{
	struct vmbuf_pool *pool = file->private_data;

	/* The core has one command; it matches by number. */
	if (_IOC_NR(ucmd) != _IOC_NR(DMA_HEAP_IOCTL_ALLOC))
		return -EINVAL;
	return vmbuf_heap_alloc(pool, ucmd, (void __user *)arg);
}

/* misc_open() gave us the miscdevice, under misc_mtx: removal cannot run meanwhile. */
static int vmbuf_heap_open(struct inode *inode, struct file *file)
{
	struct vmbuf_pool *pool = container_of(file->private_data, struct vmbuf_pool, heap);

	if (READ_ONCE(pool->dead))
		return -ENODEV;
	vmbuf_pool_get(pool);	/* an open heap keeps the pool, not its device */
	file->private_data = pool;
	return nonseekable_open(inode, file);
}

static int vmbuf_heap_release(struct inode *inode, struct file *file)
{
	vmbuf_pool_put(file->private_data);
	return 0;
}

static const struct file_operations vmbuf_heap_fops = {
	.owner = THIS_MODULE,
	.open = vmbuf_heap_open,
	.release = vmbuf_heap_release,
	.unlocked_ioctl = vmbuf_heap_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

int vmbuf_heap_register(struct vmbuf_pool *pool)
{
	int ret;

	snprintf(pool->heap_name, sizeof(pool->heap_name), "vmbuf-%s", pool->name);
	snprintf(pool->heap_node, sizeof(pool->heap_node), "dma_heap/vmbuf-%s", pool->name);
	pool->heap.minor = MISC_DYNAMIC_MINOR;
	pool->heap.name = pool->heap_name;
	pool->heap.nodename = pool->heap_node;
	pool->heap.fops = &vmbuf_heap_fops;
	pool->heap.parent = pool->dev;
	ret = misc_register(&pool->heap);
	if (ret) {
		dev_err(pool->dev, "cannot register heap %s: %d\n", pool->heap_node, ret);
		return ret;
	}
	pool->heap_registered = true;
	return 0;
}

void vmbuf_heap_unregister(struct vmbuf_pool *pool)
{
	if (!pool->heap_registered)
		return;
	misc_deregister(&pool->heap);
	pool->heap_registered = false;
}

#endif
