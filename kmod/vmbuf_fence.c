// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf cross-VM fences: one dma_fence per awaited point of an export's
 * timeline ("timeline of handle H reaches value V").
 *
 * A fence is put on the pending list before WATCH is sent, so a
 * TIMELINE_REACHED event can never be missed between the two. It is
 * signalled from the event interrupt (vmbuf_fence_event), by the watchdog
 * with -ETIMEDOUT, or with -ENODEV when the device goes away. Cross-VM fences
 * are indefinite in the kernel's sense; the watchdog bounds them, so no
 * fence waits forever. The signalling path neither allocates nor takes a
 * reservation lock: it takes vmbuf_fences_lock (a spinlock) only.
 *
 * References: the caller's, one for the pending list, one for the armed
 * watchdog. Whoever removes the fence from the list drops the list's; the
 * timer's is dropped by the timer callback, or by whoever deactivates the
 * timer before it ran.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sync_file.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "vmbuf.h"

unsigned int vmbuf_fence_timeout_ms = 10000;
module_param_named(fence_timeout_ms, vmbuf_fence_timeout_ms, uint, 0644);
MODULE_PARM_DESC(fence_timeout_ms,
		 "Longest a cross-VM fence waits before it signals -ETIMEDOUT (ms); the daemon may lower it");

struct vmbuf_fence_obj {
	struct dma_fence base;
	spinlock_t lock;		/* the dma_fence's lock */
	struct list_head link;		/* vmbuf_fences while pending */
	bool pending;
	u8 handle[VMBUF_HANDLE_SIZE];
	u64 value;
	unsigned long deadline;		/* jiffies */
	struct timer_list watchdog;
};

/* Guards vmbuf_fences and every fence's pending state; taken in IRQ context. */
static DEFINE_SPINLOCK(vmbuf_fences_lock);
static LIST_HEAD(vmbuf_fences);
static u64 vmbuf_fence_context;
static struct workqueue_struct *vmbuf_wq;
static atomic64_t vmbuf_fence_seqno = ATOMIC64_INIT(0);

static const char *vmbuf_fence_driver_name(struct dma_fence *f)
{
	return KBUILD_MODNAME;
}

static const char *vmbuf_fence_timeline_name(struct dma_fence *f)
{
	return "cross-vm";
}

static const struct dma_fence_ops vmbuf_fence_ops = {
	.get_driver_name = vmbuf_fence_driver_name,
	.get_timeline_name = vmbuf_fence_timeline_name,
};

/* Under vmbuf_fences_lock: complete a pending fence and drop the list's reference. */
static void vmbuf_fence_complete(struct vmbuf_fence_obj *f, int error)
{
	if (!f->pending)
		return;
	f->pending = false;
	list_del_init(&f->link);
	if (error)
		dma_fence_set_error(&f->base, error);
	dma_fence_signal(&f->base);
	dma_fence_put(&f->base);
}

/* Under vmbuf_fences_lock: stop the watchdog; drop its reference if it had not run. */
static void vmbuf_fence_disarm(struct vmbuf_fence_obj *f)
{
	if (del_timer(&f->watchdog))
		dma_fence_put(&f->base);
}

static void vmbuf_fence_watchdog(struct timer_list *t)
{
	struct vmbuf_fence_obj *f = from_timer(f, t, watchdog);
	unsigned long flags;
	bool cookie;

	cookie = dma_fence_begin_signalling();
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	if (f->pending)
		pr_debug("fence for value %llu timed out\n", f->value);
	vmbuf_fence_complete(f, -ETIMEDOUT);
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	dma_fence_end_signalling(cookie);
	dma_fence_put(&f->base);
}

static unsigned int vmbuf_fence_timeout(void)
{
	unsigned int ms = vmbuf_fence_timeout_ms;

	mutex_lock(&vmbuf_lock);
	if (vmbuf_dev && vmbuf_dev->fence_timeout_ms && vmbuf_dev->fence_timeout_ms < ms)
		ms = vmbuf_dev->fence_timeout_ms;
	mutex_unlock(&vmbuf_lock);
	return ms ? ms : 1;
}

/* A pending, armed fence for (@handle, @value). The caller owns one reference. */
static struct vmbuf_fence_obj *vmbuf_fence_new(const u8 *handle, u64 value)
{
	unsigned long timeout = msecs_to_jiffies(vmbuf_fence_timeout());
	struct vmbuf_fence_obj *f;
	unsigned long flags;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, &vmbuf_fence_ops, &f->lock, vmbuf_fence_context,
		       atomic64_inc_return(&vmbuf_fence_seqno));
	memcpy(f->handle, handle, sizeof(f->handle));
	f->value = value;
	f->deadline = jiffies + timeout;
	INIT_LIST_HEAD(&f->link);
	timer_setup(&f->watchdog, vmbuf_fence_watchdog, 0);

	dma_fence_get(&f->base);	/* the list's */
	dma_fence_get(&f->base);	/* the watchdog's */
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	f->pending = true;
	list_add_tail(&f->link, &vmbuf_fences);
	mod_timer(&f->watchdog, f->deadline);
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	return f;
}

/* Complete @f now (point already reached, or WATCH failed). */
static void vmbuf_fence_finish(struct vmbuf_fence_obj *f, int error)
{
	unsigned long flags;
	bool cookie;

	cookie = dma_fence_begin_signalling();
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	vmbuf_fence_disarm(f);
	vmbuf_fence_complete(f, error);
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	dma_fence_end_signalling(cookie);
}

void vmbuf_fence_event(const struct virtio_vmbuf_event *ev)
{
	u64 value = le64_to_cpu(ev->value);
	int error = (s32)le32_to_cpu(ev->error);
	struct vmbuf_fence_obj *f, *tmp;
	unsigned long flags;
	bool cookie;

	if (error > 0 || error < -MAX_ERRNO)
		error = -EPROTO;
	cookie = dma_fence_begin_signalling();
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	list_for_each_entry_safe(f, tmp, &vmbuf_fences, link) {
		if (f->value > value || memcmp(f->handle, ev->handle, VMBUF_HANDLE_SIZE))
			continue;
		vmbuf_fence_disarm(f);
		vmbuf_fence_complete(f, error);
	}
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	dma_fence_end_signalling(cookie);
}

void vmbuf_fences_fail_all(int error)
{
	struct vmbuf_fence_obj *f, *tmp;
	unsigned long flags;
	bool cookie;

	cookie = dma_fence_begin_signalling();
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	list_for_each_entry_safe(f, tmp, &vmbuf_fences, link) {
		vmbuf_fence_disarm(f);
		vmbuf_fence_complete(f, error);
	}
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	dma_fence_end_signalling(cookie);
}

/* A fence for (@handle, @value), after asking the daemon to watch. Caller owns a reference. */
static struct dma_fence *vmbuf_fence_watch(const u8 *handle, u64 value)
{
	struct virtio_vmbuf_watch req = {
		.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_WATCH),
		.value = cpu_to_le64(value),
	};
	struct virtio_vmbuf_timeline_resp resp;
	struct vmbuf_fence_obj *f;
	int ret;

	f = vmbuf_fence_new(handle, value);
	if (!f)
		return ERR_PTR(-ENOMEM);
	memcpy(req.handle, handle, sizeof(req.handle));
	ret = vmbuf_call(&req, sizeof(req), &resp, sizeof(resp));
	if (ret) {
		vmbuf_fence_finish(f, ret);
		dma_fence_put(&f->base);
		return ERR_PTR(ret);
	}
	if (le32_to_cpu(resp.reached))
		vmbuf_fence_finish(f, (s32)le32_to_cpu(resp.error));
	return &f->base;
}

int vmbuf_fence_ioctl_fence(struct vmbuf_fence __user *uarg)
{
	struct vmbuf_fence x;
	struct sync_file *sf;
	struct dma_fence *fence;
	int fd, ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (x.flags)
		return -EINVAL;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	fence = vmbuf_fence_watch(x.handle, x.value);
	if (IS_ERR(fence)) {
		ret = PTR_ERR(fence);
		goto err_fd;
	}
	sf = sync_file_create(fence);
	dma_fence_put(fence);
	if (!sf) {
		ret = -ENOMEM;
		goto err_fd;
	}
	if (put_user(fd, &uarg->fd)) {
		fput(sf->file);
		ret = -EFAULT;
		goto err_fd;
	}
	fd_install(fd, sf->file);
	return 0;

err_fd:
	put_unused_fd(fd);
	return ret;
}

static int vmbuf_fence_signal_now(const u8 *handle, u64 value, int error)
{
	struct virtio_vmbuf_signal req = {
		.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_SIGNAL),
		.value = cpu_to_le64(value),
		.error = cpu_to_le32((u32)error),
	};
	struct virtio_vmbuf_timeline_resp resp;

	memcpy(req.handle, handle, sizeof(req.handle));
	return vmbuf_call(&req, sizeof(req), &resp, sizeof(resp));
}

/* "Signal when this fence completes": the callback may run in IRQ context, the call sleeps. */
struct vmbuf_deferred_signal {
	struct dma_fence_cb cb;
	struct work_struct work;
	struct dma_fence *fence;
	u8 handle[VMBUF_HANDLE_SIZE];
	u64 value;
	int error;
};

static void vmbuf_deferred_work(struct work_struct *work)
{
	struct vmbuf_deferred_signal *d = container_of(work, struct vmbuf_deferred_signal, work);
	int error = d->error ? d->error : d->fence->error;
	int ret;

	ret = vmbuf_fence_signal_now(d->handle, d->value, error);
	if (ret)
		pr_warn("deferred signal of value %llu failed: %d\n", d->value, ret);
	dma_fence_put(d->fence);
	kfree(d);
}

static void vmbuf_deferred_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct vmbuf_deferred_signal *d = container_of(cb, struct vmbuf_deferred_signal, cb);

	queue_work(vmbuf_wq, &d->work);
}

int vmbuf_fence_ioctl_signal(struct vmbuf_signal __user *uarg)
{
	struct vmbuf_deferred_signal *d;
	struct vmbuf_signal x;
	int ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (x.error > 0 || x.error < -MAX_ERRNO)
		return -EINVAL;
	if (x.wait_fd < 0)
		return vmbuf_fence_signal_now(x.handle, x.value, x.error);

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->fence = sync_file_get_fence(x.wait_fd);
	if (!d->fence) {
		kfree(d);
		return -EBADF;
	}
	memcpy(d->handle, x.handle, sizeof(d->handle));
	d->value = x.value;
	d->error = x.error;
	INIT_WORK(&d->work, vmbuf_deferred_work);
	ret = dma_fence_add_callback(d->fence, &d->cb, vmbuf_deferred_cb);
	if (ret == -ENOENT) {
		/* Already signalled: do it now, in this context. */
		vmbuf_deferred_work(&d->work);
		return 0;
	}
	return ret;
}

int vmbuf_fence_ioctl_attach(struct vmbuf_attach __user *uarg)
{
	struct vmbuf_buffer *buf;
	struct vmbuf_attach x;
	struct dma_buf *dmabuf;
	struct dma_fence *fence;
	u8 handle[VMBUF_HANDLE_SIZE];
	bool has_handle;
	int ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (x.flags)
		return -EINVAL;
	dmabuf = dma_buf_get(x.fd);
	if (IS_ERR(dmabuf))
		return -EBADF;
	buf = vmbuf_buffer_of(dmabuf);
	if (!buf) {
		ret = -EXDEV;
		goto out_put;
	}
	mutex_lock(&vmbuf_lock);
	has_handle = buf->exported || buf->imported;
	memcpy(handle, buf->handle, sizeof(handle));
	mutex_unlock(&vmbuf_lock);
	if (!has_handle) {
		ret = -ENOENT;	/* neither exported nor imported: no timeline */
		goto out_put;
	}
	fence = vmbuf_fence_watch(handle, x.value);
	if (IS_ERR(fence)) {
		ret = PTR_ERR(fence);
		goto out_put;
	}
	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (!ret) {
		ret = dma_resv_reserve_fences(dmabuf->resv, 1);
		if (!ret)
			dma_resv_add_fence(dmabuf->resv, fence, DMA_RESV_USAGE_WRITE);
		dma_resv_unlock(dmabuf->resv);
	}
	dma_fence_put(fence);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

void vmbuf_fence_debugfs_show(struct seq_file *s)
{
	struct vmbuf_fence_obj *f;
	unsigned long flags;

	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	list_for_each_entry(f, &vmbuf_fences, link)
		seq_printf(s, "waiter handle %*phN... value %llu seqno %llu expires_in_ms %d\n", 4,
			   f->handle, f->value, f->base.seqno,
			   jiffies_to_msecs(max_t(long, (long)(f->deadline - jiffies), 0)));
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
}

int vmbuf_fence_init(void)
{
	vmbuf_fence_context = dma_fence_context_alloc(1);
	vmbuf_wq = alloc_workqueue("vmbuf", 0, 0);
	return vmbuf_wq ? 0 : -ENOMEM;
}

void vmbuf_fence_exit(void)
{
	vmbuf_fences_fail_all(-ENODEV);
	destroy_workqueue(vmbuf_wq);
}
