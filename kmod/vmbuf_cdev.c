// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/vmbuf: the guest's control node.
 *
 * ioctls: INFO (this VM and its pools), EXPORT (a vmbuf dma-buf fd -> a
 * handle other VMs can import), IMPORT (handle or name -> a new dma-buf over
 * the same pool pages), REVOKE, QUERY (what is known of a vmbuf dma-buf).
 * DOORBELL (a pool's raw doorbells, where the transport has them).
 * read() and poll() deliver event records (vmbuf_file.c).
 *
 * The node is root's (0600): every user who may open it acts as the VM
 * towards the daemon. A udev rule may give it to a group; each open file
 * then has its own view (vmbuf_file.c): it names only the handles it made
 * or imported (REVOKE only its own exports, FENCE and SIGNAL only those;
 * EPERM otherwise) and hears only of those; fences count against the
 * user's max_fences_per_user (vmbuf_fence.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmbuf.h>

#include <vmbuf/wire.h>

#include "vmbuf.h"

static int vmbuf_cdev_open(struct inode *inode, struct file *file)
{
	file->private_data = vmbuf_file_open();
	if (!file->private_data)
		return -ENOMEM;
	return nonseekable_open(inode, file);
}

static int vmbuf_cdev_release(struct inode *inode, struct file *file)
{
	vmbuf_file_close(file->private_data);
	return 0;
}

static ssize_t vmbuf_cdev_read(struct file *file, char __user *ubuf, size_t len, loff_t *off)
{
	return vmbuf_file_read(file->private_data, ubuf, len, !(file->f_flags & O_NONBLOCK));
}

static __poll_t vmbuf_cdev_poll(struct file *file, poll_table *wait)
{
	return vmbuf_file_poll(file->private_data, file, wait);
}

static int vmbuf_cdev_info(void __user *uarg)
{
	struct vmbuf_info *info;
	struct vmbuf_pool *pool;
	int ret = 0;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	mutex_lock(&vmbuf_lock);
	if (!vmbuf_dev) {
		ret = -ENODEV;
		goto out_unlock;
	}
	info->version = VIRTIO_VMBUF_VERSION;
	info->quota_bytes = vmbuf_dev->quota;
	memcpy(info->vm_name, vmbuf_dev->vm_name, VMBUF_NAME_MAX);
	list_for_each_entry(pool, &vmbuf_pools, link) {
		struct vmbuf_pool_desc *d;

		if (info->npools >= VMBUF_MAX_POOLS)
			continue;
		d = &info->pools[info->npools++];
		d->pool_id = pool->pool_id;
		d->flags = pool->heap_registered ? VMBUF_POOL_HEAP : 0;
		d->size = pool->size;
		mutex_lock(&pool->lock);
		d->used = pool->used;
		d->buffers = pool->nbuffers;
		mutex_unlock(&pool->lock);
		/* Only ivshmem pools have peer ids to ring (VMBUF_IOC_DOORBELL). */
		if (vmbuf_dev->locator_kind == VIRTIO_VMBUF_LOCATOR_IVPOSITION)
			d->position = pool->locator;
		memcpy(d->name, pool->name, VMBUF_NAME_MAX);
	}
out_unlock:
	mutex_unlock(&vmbuf_lock);
	if (!ret && copy_to_user(uarg, info, sizeof(*info)))
		ret = -EFAULT;
	kfree(info);
	return ret;
}

static bool vmbuf_str_ok(const char *s, size_t size)
{
	return strnlen(s, size) < size;
}

static bool vmbuf_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

static int vmbuf_cdev_export(struct vmbuf_file *file, struct vmbuf_export __user *uarg)
{
	struct virtio_vmbuf_export_resp resp;
	struct virtio_vmbuf_export *req;
	struct vmbuf_export *x;
	struct vmbuf_buffer *buf;
	struct dma_buf *dmabuf;
	unsigned int i;
	int ret;

	x = memdup_user(uarg, sizeof(*x));
	if (IS_ERR(x))
		return PTR_ERR(x);
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	ret = -ENOMEM;
	if (!req)
		goto out_free;
	ret = -EINVAL;
	if (x->flags & ~(VMBUF_EXPORT_POOL | VMBUF_EXPORT_HOST | VMBUF_EXPORT_SIGNAL |
			 VMBUF_EXPORT_FAST) ||
	    x->reserved ||
	    x->naccess > VMBUF_MAX_ACCESS || !vmbuf_str_ok(x->name, sizeof(x->name)) ||
	    !vmbuf_zero(x->meta.reserved, sizeof(x->meta.reserved)) || x->meta.nplanes > 4)
		goto out_free;
	for (i = 0; i < x->naccess; i++)
		if (!vmbuf_str_ok(x->access[i], sizeof(x->access[i])))
			goto out_free;

	dmabuf = dma_buf_get(x->fd);
	if (IS_ERR(dmabuf)) {
		ret = -EBADF;
		goto out_free;
	}
	buf = vmbuf_buffer_of(dmabuf);
	if (!buf) {
		ret = -EXDEV;	/* not ours: exporting guest RAM is the vhost-user transport's */
		goto out_put;
	}
	if (buf->imported) {
		ret = -EPERM;
		goto out_put;
	}
	req->hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_EXPORT);
	req->buffer_id = cpu_to_le64(buf->id);
	req->flags = cpu_to_le32(x->flags);
	req->naccess = cpu_to_le32(x->naccess);
	memcpy(req->name, x->name, sizeof(req->name));
	memcpy(req->access, x->access, sizeof(req->access));
	vmbuf_meta_to_wire(&req->meta, &x->meta);
	ret = vmbuf_call(req, sizeof(*req), &resp, sizeof(resp));
	if (ret)
		goto out_put;
	ret = vmbuf_file_learn(file, resp.handle, VMBUF_FILE_MADE);
	if (ret) {
		struct virtio_vmbuf_revoke rv = {
			.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_REVOKE),
		};
		struct virtio_vmbuf_resp rr;

		/* This file could not name it: take the export back. */
		memcpy(rv.handle, resp.handle, sizeof(rv.handle));
		vmbuf_call(&rv, sizeof(rv), &rr, sizeof(rr));
		goto out_put;
	}

	mutex_lock(&vmbuf_lock);
	buf->exported = true;
	memcpy(buf->handle, resp.handle, sizeof(buf->handle));
	memcpy(buf->name, x->name, sizeof(buf->name));
	buf->meta = x->meta;
	mutex_unlock(&vmbuf_lock);
	vmbuf_fast_set(buf, le16_to_cpu(resp.fast_slot), le16_to_cpu(resp.fast_tag));
	if (copy_to_user(uarg->handle, resp.handle, sizeof(resp.handle)))
		ret = -EFAULT;
out_put:
	dma_buf_put(dmabuf);
out_free:
	kfree(req);
	kfree(x);
	return ret;
}

static int vmbuf_cdev_import(struct vmbuf_file *file, struct vmbuf_import __user *uarg)
{
	struct virtio_vmbuf_import req = { .hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_IMPORT) };
	struct virtio_vmbuf_import_resp *resp;
	struct vmbuf_import *x;
	struct vmbuf_buffer *buf;
	struct vmbuf_pool *pool;
	struct dma_buf *dmabuf;
	int fd, ret;

	x = memdup_user(uarg, sizeof(*x));
	if (IS_ERR(x))
		return PTR_ERR(x);
	resp = kzalloc(sizeof(*resp), GFP_KERNEL);
	ret = -ENOMEM;
	if (!resp)
		goto out_free;
	ret = -EINVAL;
	if (x->flags & ~VMBUF_IMPORT_BY_NAME || x->fd_flags & ~(u32)(O_CLOEXEC | O_ACCMODE) ||
	    !vmbuf_str_ok(x->name, sizeof(x->name)))
		goto out_free;
	req.flags = cpu_to_le32(x->flags);
	memcpy(req.handle, x->handle, sizeof(req.handle));
	memcpy(req.name, x->name, sizeof(req.name));
	ret = vmbuf_call(&req, sizeof(req), resp, sizeof(*resp));
	if (ret)
		goto out_free;

	ret = vmbuf_file_learn(file, resp->handle, VMBUF_FILE_IMPORTED);
	pool = ret ? NULL : vmbuf_pool_by_id(le32_to_cpu(resp->pool_id));
	if (!pool) {
		struct virtio_vmbuf_release rel = {
			.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_RELEASE),
			.import_id = resp->import_id,
		};
		struct virtio_vmbuf_resp rr;

		vmbuf_call(&rel, sizeof(rel), &rr, sizeof(rr));
		ret = ret ? ret : -ENXIO;
		goto out_free;
	}
	dmabuf = vmbuf_buffer_import(pool, le64_to_cpu(resp->import_id),
				     le64_to_cpu(resp->offset), le64_to_cpu(resp->size),
				     x->fd_flags, &buf);
	x->pool_id = pool->pool_id;
	vmbuf_pool_put(pool);	/* the buffer holds its own */
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto out_free;
	}
	mutex_lock(&vmbuf_lock);
	memcpy(buf->handle, resp->handle, sizeof(buf->handle));
	memcpy(buf->name, resp->name, sizeof(buf->name) - 1);
	memcpy(buf->owner, resp->owner, sizeof(buf->owner) - 1);
	vmbuf_meta_from_wire(&buf->meta, &resp->meta);
	mutex_unlock(&vmbuf_lock);
	vmbuf_fast_set(buf, le16_to_cpu(resp->fast_slot), le16_to_cpu(resp->fast_tag));

	fd = get_unused_fd_flags(x->fd_flags);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		ret = fd;
		goto out_free;
	}
	x->fd = fd;
	x->size = buf->size;
	memcpy(x->handle, buf->handle, sizeof(x->handle));
	memcpy(x->name, buf->name, sizeof(x->name));
	memcpy(x->owner, buf->owner, sizeof(x->owner));
	x->meta = buf->meta;
	if (copy_to_user(uarg, x, sizeof(*x))) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		ret = -EFAULT;
		goto out_free;
	}
	fd_install(fd, dmabuf->file);
	ret = 0;
out_free:
	kfree(resp);
	kfree(x);
	return ret;
}

static int vmbuf_cdev_revoke(struct vmbuf_file *file, struct vmbuf_revoke __user *uarg)
{
	struct virtio_vmbuf_revoke req = { .hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_REVOKE) };
	struct virtio_vmbuf_resp resp;
	int ret;

	if (copy_from_user(req.handle, uarg->handle, sizeof(req.handle)))
		return -EFAULT;
	/* The daemon checks the VM; inside it, only the file that exported it. */
	if (!vmbuf_file_knows(file, req.handle, VMBUF_FILE_MADE))
		return -EPERM;
	ret = vmbuf_call(&req, sizeof(req), &resp, sizeof(resp));
	if (!ret)
		vmbuf_file_forget(file, req.handle);
	return ret;
}

static int vmbuf_cdev_query(struct vmbuf_query __user *uarg)
{
	struct vmbuf_buffer *buf;
	struct dma_buf *dmabuf;
	struct vmbuf_query *q;
	int ret = 0;

	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	if (get_user(q->fd, &uarg->fd)) {
		ret = -EFAULT;
		goto out_free;
	}
	dmabuf = dma_buf_get(q->fd);
	if (IS_ERR(dmabuf)) {
		ret = -EBADF;
		goto out_free;
	}
	buf = vmbuf_buffer_of(dmabuf);
	if (!buf) {
		ret = -EXDEV;
		goto out_put;
	}
	mutex_lock(&vmbuf_lock);
	q->flags = (buf->exported ? VMBUF_QUERY_EXPORTED : 0) |
		   (buf->imported ? VMBUF_QUERY_IMPORTED : 0) | (buf->fast ? VMBUF_QUERY_FAST : 0);
	q->size = buf->size;
	q->pool_id = buf->pool->pool_id;
	memcpy(q->handle, buf->handle, sizeof(q->handle));
	memcpy(q->name, buf->name, sizeof(q->name));
	memcpy(q->owner, buf->owner, sizeof(q->owner));
	q->meta = buf->meta;
	mutex_unlock(&vmbuf_lock);
	if (copy_to_user(uarg, q, sizeof(*q)))
		ret = -EFAULT;
out_put:
	dma_buf_put(dmabuf);
out_free:
	kfree(q);
	return ret;
}

static int vmbuf_cdev_doorbell(struct vmbuf_doorbell __user *uarg)
{
	struct vmbuf_doorbell x;
	struct vmbuf_pool *pool;
	int ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (x.reserved || x.peer > 0xffff)
		return -EINVAL;
	pool = vmbuf_pool_by_id(x.pool_id);
	if (!pool)
		return -ENOENT;
	ret = pool->ops->doorbell ? pool->ops->doorbell(pool, x.peer, x.timeout_ms, &x.count) :
				    -EOPNOTSUPP;
	vmbuf_pool_put(pool);
	if (ret)
		return ret;
	return put_user(x.count, &uarg->count);
}

static long vmbuf_cdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vmbuf_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VMBUF_IOC_INFO:
		return vmbuf_cdev_info(uarg);
	case VMBUF_IOC_EXPORT:
		return vmbuf_cdev_export(f, uarg);
	case VMBUF_IOC_IMPORT:
		return vmbuf_cdev_import(f, uarg);
	case VMBUF_IOC_REVOKE:
		return vmbuf_cdev_revoke(f, uarg);
	case VMBUF_IOC_QUERY:
		return vmbuf_cdev_query(uarg);
	case VMBUF_IOC_FENCE:
		return vmbuf_fence_ioctl_fence(f, uarg);
	case VMBUF_IOC_SIGNAL:
		return vmbuf_fence_ioctl_signal(f, uarg);
	case VMBUF_IOC_ATTACH:
		return vmbuf_fence_ioctl_attach(f, uarg);
	case VMBUF_IOC_WAIT:
		return vmbuf_fence_ioctl_wait(f, uarg);
	case VMBUF_IOC_DOORBELL:
		return vmbuf_cdev_doorbell(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vmbuf_cdev_fops = {
	.owner = THIS_MODULE,
	.open = vmbuf_cdev_open,
	.release = vmbuf_cdev_release,
	.read = vmbuf_cdev_read,
	.poll = vmbuf_cdev_poll,
	.unlocked_ioctl = vmbuf_cdev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice vmbuf_cdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmbuf",
	.fops = &vmbuf_cdev_fops,
	.mode = 0600,
};

int vmbuf_cdev_init(void)
{
	return misc_register(&vmbuf_cdev);
}

void vmbuf_cdev_exit(void)
{
	misc_deregister(&vmbuf_cdev);
}
