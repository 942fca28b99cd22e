// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf cross-VM fences: one dma_fence per awaited point of an export's
 * timeline ("timeline of handle H reaches value V").
 *
 * A fence is put on the pending list before WATCH is sent, so a
 * TIMELINE_REACHED event can never be missed between the two. It is
 * signalled from the event interrupt (vmbuf_fence_event), by the watchdog
 * with -ETIMEDOUT, or with -ENODEV when the device goes away. Cross-VM
 * fences are indefinite in the kernel's sense; the watchdog bounds them, so
 * no fence waits forever. The signalling path neither allocates nor takes
 * a reservation lock: it takes vmbuf_fences_lock (a spinlock) only.
 *
 * A watch lasts as long as somebody holds its fence (a sync_file, a
 * reservation object, a callback): the module holds no reference of its
 * own. When the last one goes, the release work takes the fence off the
 * list, stops the watchdog and, if the daemon still keeps a waiter for it,
 * gives it back with UNWATCH; a fence that times out gives its waiter back
 * at once. So no wait occupies the VM's max-waiters for longer than
 * somebody cares. Closing /dev/vmbuf cancels nothing: a sync_file handed to
 * another process keeps its meaning. Each user may hold at most
 * max_fences_per_user pending fences (-ENOSPC beyond).
 *
 * When the device says events were lost, every pending point is asked for
 * again (QUERY), so a lost event costs a round trip, not a watchdog period.
 *
 * A fence on a fast timeline (vmbuf_fast.c) is also completed from its
 * pool's doorbell when the slot shows the point reached; its WATCH goes out
 * from the ordered worker VMBUF_FAST_DELAY later, and only if the fence is
 * still pending then, so creating it never waits for the daemon, and a point
 * reached at once costs the daemon nothing. The daemon still delivers
 * errors, ENODEV and the export's end to the fences it watches.
 * Every fence pins the module until it is freed: its ops live here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
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

/*
 * How long VMBUF_IOC_WAIT on a fast timeline sleeps on the pool's doorbell
 * with no fence before it makes one (and so has the daemon watch for
 * errors, the export's end and the signaller's death).
 */
static unsigned int vmbuf_fast_wait_ms = 10;
module_param_named(fast_wait_ms, vmbuf_fast_wait_ms, uint, 0644);
MODULE_PARM_DESC(fast_wait_ms,
		 "How long a wait on a fast timeline goes without a fence first (ms; 0: never)");

static unsigned int vmbuf_max_fences_per_user = 256;
module_param_named(max_fences_per_user, vmbuf_max_fences_per_user, uint, 0644);
MODULE_PARM_DESC(max_fences_per_user,
		 "Pending cross-VM fences one user may hold (ENOSPC beyond)");

/* Whose fences count against max_fences_per_user: one per uid with open files. */
struct vmbuf_user {
	struct list_head link;		/* vmbuf_users */
	kuid_t uid;
	unsigned int refs;		/* open files and live fences */
	unsigned int nfences;		/* pending fences */
};

struct vmbuf_fence_obj {
	struct dma_fence base;
	spinlock_t lock;		/* the dma_fence's lock */
	struct list_head link;		/* vmbuf_fences while pending */
	bool pending;
	bool watching;			/* the daemon keeps a waiter for it */
	bool unwatch_at_release;	/* give it back when released */
	struct vmbuf_user *user;
	u8 handle[VMBUF_HANDLE_SIZE];
	u64 value;
	unsigned long deadline;		/* jiffies */
	struct vmbuf_fast_tl *fast;	/* its fast timeline (referenced), or NULL */
	struct delayed_work watch;	/* fast: WATCH from a worker (holds a reference) */
	struct timer_list watchdog;
	struct work_struct unwatch;	/* the daemon's waiter goes back (holds a reference) */
	struct work_struct release;	/* the last reference went */
};

/* Guards vmbuf_fences, vmbuf_users and every fence's state; IRQ-safe. */
static DEFINE_SPINLOCK(vmbuf_fences_lock);
static LIST_HEAD(vmbuf_fences);
static LIST_HEAD(vmbuf_users);
static u64 vmbuf_fence_context;
static struct workqueue_struct *vmbuf_wq;
static atomic64_t vmbuf_fence_seqno = ATOMIC64_INIT(0);
static struct work_struct vmbuf_requery_work;
static atomic_t vmbuf_requeries = ATOMIC_INIT(0);
static atomic64_t vmbuf_fences_made = ATOMIC64_INIT(0);
static atomic64_t vmbuf_light_waits = ATOMIC64_INIT(0);	/* reached with no fence */

struct vmbuf_user *vmbuf_user_get(void)
{
	struct vmbuf_user *u, *n;
	kuid_t uid = current_euid();
	unsigned long flags;

	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return NULL;
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	list_for_each_entry(u, &vmbuf_users, link) {
		if (uid_eq(u->uid, uid)) {
			u->refs++;
			spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
			kfree(n);
			return u;
		}
	}
	n->uid = uid;
	n->refs = 1;
	list_add(&n->link, &vmbuf_users);
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	return n;
}

/* Under vmbuf_fences_lock; returns what to kfree() after unlocking. */
static struct vmbuf_user *vmbuf_user_unref(struct vmbuf_user *u)
{
	if (--u->refs)
		return NULL;
	list_del(&u->link);
	return u;
}

void vmbuf_user_put(struct vmbuf_user *u)
{
	unsigned long flags;

	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	u = vmbuf_user_unref(u);
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	kfree(u);
}

static const char *vmbuf_fence_driver_name(struct dma_fence *f)
{
	return KBUILD_MODNAME;
}

static const char *vmbuf_fence_timeline_name(struct dma_fence *f)
{
	return "cross-vm";
}

static void vmbuf_fence_release(struct dma_fence *fence)
{
	struct vmbuf_fence_obj *f = container_of(fence, struct vmbuf_fence_obj, base);

	/* Any context: the clean-up may sleep (the watchdog, UNWATCH). */
	queue_work(vmbuf_wq, &f->release);
}

static const struct dma_fence_ops vmbuf_fence_ops = {
	.get_driver_name = vmbuf_fence_driver_name,
	.get_timeline_name = vmbuf_fence_timeline_name,
	.release = vmbuf_fence_release,
};

/* Under vmbuf_fences_lock: complete a pending fence. */
static void vmbuf_fence_complete(struct vmbuf_fence_obj *f, int error)
{
	if (!f->pending)
		return;
	f->pending = false;
	list_del_init(&f->link);
	f->user->nfences--;
	if (error)
		dma_fence_set_error(&f->base, error);
	dma_fence_signal(&f->base);
}

/*
 * Under vmbuf_fences_lock: @f ends without the daemon's event (it timed
 * out): give the daemon's waiter back now, or at release when the fence is
 * being released already.
 */
static void vmbuf_fence_give_back(struct vmbuf_fence_obj *f)
{
	if (!f->watching)
		return;
	f->watching = false;
	if (!dma_fence_get_rcu(&f->base))
		f->unwatch_at_release = true;
	else if (!queue_work(vmbuf_wq, &f->unwatch))
		dma_fence_put(&f->base);
}

static void vmbuf_fence_send_unwatch(struct vmbuf_fence_obj *f)
{
	struct virtio_vmbuf_watch req = {
		.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_UNWATCH),
		.value = cpu_to_le64(f->value),
	};
	struct virtio_vmbuf_resp resp;

	memcpy(req.handle, f->handle, sizeof(req.handle));
	if (vmbuf_call_has(VIRTIO_VMBUF_F_QUERY))
		vmbuf_call(&req, sizeof(req), &resp, sizeof(resp));	/* ENOENT: it came */
}

static void vmbuf_fence_unwatch_work(struct work_struct *work)
{
	struct vmbuf_fence_obj *f = container_of(work, struct vmbuf_fence_obj, unwatch);

	vmbuf_fence_send_unwatch(f);
	dma_fence_put(&f->base);
}

static void vmbuf_fence_watch_work(struct work_struct *work);

static void vmbuf_fence_release_work(struct work_struct *work)
{
	struct vmbuf_fence_obj *f = container_of(work, struct vmbuf_fence_obj, release);
	struct vmbuf_user *gone;
	unsigned long flags;
	bool unwatch;

	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	if (f->pending) {
		/* Nobody waits for it any more: leave quietly. */
		f->pending = false;
		list_del_init(&f->link);
		f->user->nfences--;
	}
	unwatch = f->watching || f->unwatch_at_release;
	f->watching = false;
	gone = vmbuf_user_unref(f->user);
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	kfree(gone);
	timer_delete_sync(&f->watchdog);
	if (unwatch)
		vmbuf_fence_send_unwatch(f);
	vmbuf_fast_put(f->fast);
	dma_fence_free(&f->base);
	module_put(THIS_MODULE);
}

static void vmbuf_fence_watchdog(struct timer_list *t)
{
	struct vmbuf_fence_obj *f = container_of(t, struct vmbuf_fence_obj, watchdog);
	unsigned long flags;
	bool cookie;

	/* No reference: the release work stops this timer before it frees @f. */
	cookie = dma_fence_begin_signalling();
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	if (f->pending) {
		pr_debug("fence for value %llu timed out\n", f->value);
		vmbuf_fence_give_back(f);
		vmbuf_fence_complete(f, -ETIMEDOUT);
	}
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	dma_fence_end_signalling(cookie);
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

/* A pending, armed fence for (@handle, @value) of @file's user. The caller owns the reference. */
static struct vmbuf_fence_obj *vmbuf_fence_new(struct vmbuf_file *file, const u8 *handle,
					       u64 value, struct vmbuf_fast_tl *fast)
{
	unsigned long timeout = msecs_to_jiffies(vmbuf_fence_timeout());
	struct vmbuf_user *u = file->user;
	struct vmbuf_fence_obj *f;
	unsigned long flags;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f) {
		vmbuf_fast_put(fast);
		return ERR_PTR(-ENOMEM);
	}
	spin_lock_init(&f->lock);
	memcpy(f->handle, handle, sizeof(f->handle));
	f->value = value;
	f->deadline = jiffies + timeout;
	INIT_LIST_HEAD(&f->link);
	INIT_WORK(&f->unwatch, vmbuf_fence_unwatch_work);
	INIT_WORK(&f->release, vmbuf_fence_release_work);
	INIT_DELAYED_WORK(&f->watch, vmbuf_fence_watch_work);
	timer_setup(&f->watchdog, vmbuf_fence_watchdog, 0);

	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	if (u->nfences >= vmbuf_max_fences_per_user) {
		spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
		kfree(f);
		vmbuf_fast_put(fast);
		return ERR_PTR(-ENOSPC);
	}
	u->nfences++;
	u->refs++;
	f->user = u;
	f->fast = fast;		/* the fence's reference from now on */
	f->pending = true;
	f->watching = true;	/* from the WATCH on; vmbuf_fence_finish() says otherwise */
	__module_get(THIS_MODULE);	/* dropped by the release work */
	dma_fence_init(&f->base, &vmbuf_fence_ops, &f->lock, vmbuf_fence_context,
		       atomic64_inc_return(&vmbuf_fence_seqno));
	list_add_tail(&f->link, &vmbuf_fences);
	mod_timer(&f->watchdog, f->deadline);
	atomic64_inc(&vmbuf_fences_made);
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	return f;
}

/* Complete @f now: the point was reached already, or WATCH failed (no waiter either way). */
static void vmbuf_fence_finish(struct vmbuf_fence_obj *f, int error)
{
	unsigned long flags;
	bool cookie;

	cookie = dma_fence_begin_signalling();
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	timer_delete(&f->watchdog);
	f->watching = false;
	vmbuf_fence_complete(f, error);
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	dma_fence_end_signalling(cookie);
}

/* Which pending fences vmbuf_fences_complete() completes, and how. */
struct vmbuf_fence_match {
	const u8 *handle;		/* only this export's, or NULL: any */
	u64 value;			/* only points up to this one */
	struct vmbuf_pool *fast_pool;	/* only fast fences of it whose slot shows them reached */
	bool give_back;			/* the daemon still keeps their waiters: give them back */
	int error;
};

static void vmbuf_fences_complete(const struct vmbuf_fence_match *m)
{
	struct vmbuf_fence_obj *f, *tmp;
	unsigned long flags;
	bool cookie;

	cookie = dma_fence_begin_signalling();
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	list_for_each_entry_safe(f, tmp, &vmbuf_fences, link) {
		if (f->value > m->value ||
		    (m->handle && memcmp(f->handle, m->handle, VMBUF_HANDLE_SIZE)))
			continue;
		/* A fast fence not reached is armed again here, or left to the daemon. */
		if (m->fast_pool && (!f->fast || f->fast->pool != m->fast_pool ||
				     vmbuf_fast_arm(f->fast, f->value) != 1))
			continue;
		timer_delete(&f->watchdog);
		if (m->give_back)
			vmbuf_fence_give_back(f);
		else
			f->watching = false;	/* no waiter left (a fast one's SIGNAL wakes it) */
		if (m->fast_pool && cancel_delayed_work(&f->watch))
			dma_fence_put(&f->base);	/* the worker's: the WATCH never went out */
		vmbuf_fence_complete(f, m->error);
	}
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	dma_fence_end_signalling(cookie);
}

/*
 * The daemon says @handle reached @value (its waiters there are gone):
 * complete the pending fences up to @value with @error (any context); with
 * @all, every pending fence of @handle whatever its value (the export ended).
 */
static void vmbuf_fence_reached(const u8 *handle, u64 value, int error, bool all)
{
	struct vmbuf_fence_match m = { .handle = handle, .value = all ? U64_MAX : value,
				       .error = error };

	if (error > 0 || error < -MAX_ERRNO)
		m.error = -EPROTO;
	vmbuf_fences_complete(&m);
}

void vmbuf_fence_end(const u8 *handle, int error)
{
	/* The export goes on in the daemon: its waiters for these go back. */
	struct vmbuf_fence_match m = { .handle = handle, .value = U64_MAX, .give_back = true,
				       .error = error };

	vmbuf_fences_complete(&m);
}

void vmbuf_fence_event(const struct virtio_vmbuf_event *ev)
{
	vmbuf_fence_reached(ev->handle, le64_to_cpu(ev->value), (s32)le32_to_cpu(ev->error),
			    false);
}

void vmbuf_fences_fail_all(int error)
{
	/* The device is gone: so are its waiters. */
	struct vmbuf_fence_match m = { .value = U64_MAX, .error = error };

	vmbuf_fences_complete(&m);
}

/* Events were lost: ask for every handle a fence waits on, complete what was reached. */
static void vmbuf_fence_requery_work(struct work_struct *work)
{
	struct virtio_vmbuf_query req = { .hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_QUERY) };
	struct virtio_vmbuf_timeline_resp resp;
	struct vmbuf_fence_obj *f;
	unsigned int n = 0, max = 0, i;
	unsigned long flags;
	u8 (*handles)[VMBUF_HANDLE_SIZE];
	int ret;

	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	list_for_each_entry(f, &vmbuf_fences, link)
		max++;
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	if (!max || !vmbuf_call_has(VIRTIO_VMBUF_F_QUERY))
		return;
	handles = kmalloc_array(max, VMBUF_HANDLE_SIZE, GFP_KERNEL);
	if (!handles)
		return;	/* the watchdogs still bound every fence */
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	list_for_each_entry(f, &vmbuf_fences, link) {
		for (i = 0; i < n; i++)
			if (!memcmp(handles[i], f->handle, VMBUF_HANDLE_SIZE))
				break;
		if (i == n && n < max)
			memcpy(handles[n++], f->handle, VMBUF_HANDLE_SIZE);
	}
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
	atomic_inc(&vmbuf_requeries);
	for (i = 0; i < n; i++) {
		memcpy(req.handle, handles[i], sizeof(req.handle));
		ret = vmbuf_call(&req, sizeof(req), &resp, sizeof(resp));
		if (!ret)
			vmbuf_fence_reached(handles[i], le64_to_cpu(resp.value),
					    (s32)le32_to_cpu(resp.error), false);
		else if (ret == -ENOENT || ret == -EACCES || ret == -ENXIO)
			vmbuf_fence_reached(handles[i], 0, -ECANCELED, true);	/* it ended */
	}
	kfree(handles);
}

void vmbuf_fence_requery(void)
{
	queue_work(vmbuf_wq, &vmbuf_requery_work);
}

/*
 * A fence for (@handle, @value), charged to @file's user, after asking the
 * daemon to watch. The caller owns the reference.
 */
static int vmbuf_fence_send_watch(struct vmbuf_fence_obj *f)
{
	struct virtio_vmbuf_watch req = {
		.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_WATCH),
		.value = cpu_to_le64(f->value),
	};
	struct virtio_vmbuf_timeline_resp resp;
	int ret;

	memcpy(req.handle, f->handle, sizeof(req.handle));
	ret = vmbuf_call(&req, sizeof(req), &resp, sizeof(resp));
	if (ret)
		vmbuf_fence_finish(f, ret);
	else if (le32_to_cpu(resp.reached))
		vmbuf_fence_finish(f, (s32)le32_to_cpu(resp.error));
	return ret;
}

/*
 * A fast fence's WATCH, from the ordered worker: the daemon still delivers
 * errors, ENODEV and the end of the export, but the caller did not wait.
 */
static void vmbuf_fence_watch_work(struct work_struct *work)
{
	struct vmbuf_fence_obj *f = container_of(to_delayed_work(work), struct vmbuf_fence_obj,
						 watch);

	if (!dma_fence_is_signaled(&f->base))
		vmbuf_fence_send_watch(f);
	dma_fence_put(&f->base);
}

static struct dma_fence *vmbuf_fence_watch(struct vmbuf_file *file, const u8 *handle, u64 value)
{
	struct vmbuf_fast_tl *fast = vmbuf_fast_get(handle);
	struct vmbuf_fence_obj *f;
	int ret;

	f = vmbuf_fence_new(file, handle, value, fast);
	if (IS_ERR(f))
		return ERR_CAST(f);
	ret = fast ? vmbuf_fast_arm(fast, value) : -EAGAIN;
	if (ret == 1) {
		vmbuf_fence_finish(f, 0);	/* reached: no waiter needed */
		return &f->base;
	}
	if (ret == 0) {
		/* A point the slot reaches soon needs no waiter in the daemon at all. */
		dma_fence_get(&f->base);	/* for the worker */
		queue_delayed_work(vmbuf_fast_wq, &f->watch, VMBUF_FAST_DELAY);
		return &f->base;
	}
	ret = vmbuf_fence_send_watch(f);
	if (ret) {
		dma_fence_put(&f->base);
		return ERR_PTR(ret);
	}
	return &f->base;
}

void vmbuf_fence_fast_poll(struct vmbuf_pool *pool)
{
	struct vmbuf_fence_match m = { .value = U64_MAX, .fast_pool = pool };

	wake_up_all(&pool->fast_wq);
	vmbuf_fences_complete(&m);
}

int vmbuf_fence_ioctl_fence(struct vmbuf_file *file, struct vmbuf_fence __user *uarg)
{
	struct vmbuf_fence x;
	struct sync_file *sf;
	struct dma_fence *fence;
	int fd, ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (x.flags)
		return -EINVAL;
	if (!vmbuf_file_knows(file, x.handle, 0))
		return -EPERM;	/* neither made nor imported through this file */
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	fence = vmbuf_fence_watch(file, x.handle, x.value);
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

/*
 * On a fast timeline, first sleep on the pool's doorbell with no fence:
 * 1 when the slot showed @value, 0 when the caller's whole @timeout passed,
 * -EAGAIN when a fence must decide (the window passed, or the slot cannot
 * be used), with @timeout what is left of it; or -ERESTARTSYS.
 */
static long vmbuf_fence_wait_light(const u8 *handle, u64 value, unsigned long *timeout)
{
	unsigned long window = msecs_to_jiffies(READ_ONCE(vmbuf_fast_wait_ms));
	unsigned long start = jiffies, spent;
	struct vmbuf_fast_tl *fast;
	long r;

	if (!window)
		return -EAGAIN;
	fast = vmbuf_fast_get(handle);
	if (!fast)
		return -EAGAIN;
	r = vmbuf_fast_wait(fast, value, min(*timeout, window));
	vmbuf_fast_put(fast);
	if (r == 1)
		atomic64_inc(&vmbuf_light_waits);
	if (r)
		return r;
	if (*timeout <= window)
		return 0;
	spent = jiffies - start;
	*timeout = spent < *timeout ? *timeout - spent : 0;
	return -EAGAIN;
}

int vmbuf_fence_ioctl_wait(struct vmbuf_file *file, struct vmbuf_wait __user *uarg)
{
	struct dma_fence *fence;
	struct vmbuf_wait x;
	unsigned long timeout;
	long left;
	int ret = 0;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (x.flags || x.reserved)
		return -EINVAL;
	if (!vmbuf_file_knows(file, x.handle, 0))
		return -EPERM;
	timeout = msecs_to_jiffies(x.timeout_ms);
	left = vmbuf_fence_wait_light(x.handle, x.value, &timeout);
	if (left == 1) {
		x.error = 0;
		goto out;
	}
	if (left == 0)
		return -ETIME;
	if (left != -EAGAIN)
		return left;
	fence = vmbuf_fence_watch(file, x.handle, x.value);
	if (IS_ERR(fence))
		return PTR_ERR(fence);
	left = dma_fence_wait_timeout(fence, true, timeout);
	if (left > 0)
		x.error = min(dma_fence_get_status(fence), 0);	/* 1: reached, or its error */
	else
		ret = left ? left : -ETIME;
	dma_fence_put(fence);
out:
	if (!ret && put_user(x.error, &uarg->error))
		ret = -EFAULT;
	return ret;
}

static int vmbuf_fence_signal_now(const u8 *handle, u64 value, int error)
{
	struct vmbuf_fast_tl *fast = vmbuf_fast_get(handle);
	int ret = -EAGAIN;

	if (fast) {
		/* An error travels with the daemon's timeline only, and ends the slot's use. */
		if (error)
			vmbuf_fast_slow(fast);
		else
			ret = vmbuf_fast_signal(fast, value);
		vmbuf_fast_put(fast);
		if (ret != -EAGAIN)
			return ret;
	}
	return vmbuf_call_signal(handle, value, error);
}

/*
 * "Signal when this fence completes": the callback may run in IRQ context,
 * the call sleeps. It pins the module until it ran.
 */
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
		pr_warn_ratelimited("deferred signal of value %llu failed: %d\n", d->value, ret);
	dma_fence_put(d->fence);
	kfree(d);
	module_put(THIS_MODULE);
}

static void vmbuf_deferred_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct vmbuf_deferred_signal *d = container_of(cb, struct vmbuf_deferred_signal, cb);

	queue_work(vmbuf_wq, &d->work);
}

int vmbuf_fence_ioctl_signal(struct vmbuf_file *file, struct vmbuf_signal __user *uarg)
{
	struct vmbuf_deferred_signal *d;
	struct vmbuf_signal x;
	int ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (x.error > 0 || x.error < -MAX_ERRNO)
		return -EINVAL;
	if (!vmbuf_file_knows(file, x.handle, 0))
		return -EPERM;
	if (x.wait_fd < 0)
		return vmbuf_fence_signal_now(x.handle, x.value, x.error);

	d = kzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
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
	__module_get(THIS_MODULE);	/* dropped by vmbuf_deferred_work() */
	ret = dma_fence_add_callback(d->fence, &d->cb, vmbuf_deferred_cb);
	if (ret == -ENOENT) {
		/* Already signalled: do it now, in this context. */
		vmbuf_deferred_work(&d->work);
		return 0;
	}
	return ret;
}

int vmbuf_fence_ioctl_attach(struct vmbuf_file *file, struct vmbuf_attach __user *uarg)
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
	/* Holding the dma-buf is the capability here: no file check. */
	fence = vmbuf_fence_watch(file, handle, x.value);
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

	seq_printf(s, "requeries after lost events: %d\n", atomic_read(&vmbuf_requeries));
	seq_printf(s, "fences made: %lld\nwaits reached with no fence: %lld\n",
		   atomic64_read(&vmbuf_fences_made), atomic64_read(&vmbuf_light_waits));
	spin_lock_irqsave(&vmbuf_fences_lock, flags);
	list_for_each_entry(f, &vmbuf_fences, link)
		seq_printf(s, "waiter handle %*phN... value %llu seqno %llu expires_in_ms %d\n", 4,
			   f->handle, f->value, f->base.seqno,
			   jiffies_to_msecs(max_t(long, (long)(f->deadline - jiffies), 0)));
	spin_unlock_irqrestore(&vmbuf_fences_lock, flags);
}

int vmbuf_fence_init(void)
{
	int ret;

	vmbuf_fence_context = dma_fence_context_alloc(1);
	INIT_WORK(&vmbuf_requery_work, vmbuf_fence_requery_work);
	vmbuf_wq = alloc_workqueue("vmbuf", WQ_UNBOUND, 0);
	if (!vmbuf_wq)
		return -ENOMEM;
	ret = vmbuf_fast_init();
	if (ret)
		destroy_workqueue(vmbuf_wq);
	return ret;
}

void vmbuf_fence_exit(void)
{
	/*
	 * Every fence and deferred signal holds a module reference, so none is
	 * left here: no timer can still fire. The workqueues run what is queued.
	 */
	vmbuf_fast_exit();
	destroy_workqueue(vmbuf_wq);
}
