// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf fast timelines: an export's timeline kept in a slot of its pool's
 * first page as well (linux/virtio_vmbuf.h, "Fast timelines"), so a signal
 * with no error reaches the waiting VMs by a pool doorbell, VM to VM, and
 * the daemon hears of it afterwards from a worker.
 *
 * Each buffer exported or imported with a slot holds one struct
 * vmbuf_fast_tl, found by handle. A signaller raises the slot's value,
 * takes the waiting bits and rings those VMs; a waiter sets its bit and
 * reads the value again before it sleeps (vmbuf_fence.c), so one of the two
 * always sees the other. The SIGNALs for the daemon are coalesced per
 * timeline (only the newest value matters: one SIGNAL per
 * fast_signal_ms at most) unless the daemon has waiters there (it
 * sets bit 0 of the waiting mask): then the SIGNAL goes at once. One
 * ordered worker sends them in order; it also carries the fences' WATCH
 * requests.
 *
 * The slot is written by every member of the pool: a value read there is a
 * hint that may wake a waiter early, never a decision of the daemon's.
 * A signal with an error marks the slot slow first and goes through the
 * daemon alone; from then on nobody uses the slot.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "vmbuf.h"

static DEFINE_SPINLOCK(vmbuf_fast_lock);	/* guards vmbuf_fast_tls */
static LIST_HEAD(vmbuf_fast_tls);
struct workqueue_struct *vmbuf_fast_wq;

static unsigned int vmbuf_fast_signal_ms = 20;
module_param_named(fast_signal_ms, vmbuf_fast_signal_ms, uint, 0644);
MODULE_PARM_DESC(fast_signal_ms,
		 "How long a fast signal may wait to reach the daemon when it has no waiters there (ms)");

static void vmbuf_fast_free(struct kref *ref)
{
	struct vmbuf_fast_tl *tl = container_of(ref, struct vmbuf_fast_tl, ref);

	vmbuf_pool_put(tl->pool);
	kfree(tl);
	module_put(THIS_MODULE);
}

void vmbuf_fast_put(struct vmbuf_fast_tl *tl)
{
	if (tl)
		kref_put(&tl->ref, vmbuf_fast_free);
}

/* Send the newest value raised here to the daemon; repeats while more come. */
static void vmbuf_fast_send_work(struct work_struct *work)
{
	struct vmbuf_fast_tl *tl = container_of(to_delayed_work(work), struct vmbuf_fast_tl, send);
	u64 value;
	int ret;

	for (;;) {
		spin_lock(&tl->lock);
		value = tl->pending;
		tl->pending = 0;
		spin_unlock(&tl->lock);
		if (!value)
			break;
		ret = vmbuf_call_signal(tl->handle, value, 0);
		/* EINVAL: another VM's signal went past this one first. */
		if (ret && ret != -EINVAL && ret != -ENOENT && ret != -ENODEV)
			pr_warn_ratelimited("SIGNAL of %llu for a fast timeline failed: %d\n",
					    value, ret);
	}
	vmbuf_fast_put(tl);
}

void vmbuf_fast_set(struct vmbuf_buffer *buf, u16 slot, u16 tag)
{
	struct vmbuf_pool *pool = buf->pool;
	struct vmbuf_fast_tl *tl;

	/* Only where this VM maps the pool whole and rings its members. */
	if (!slot || slot > VIRTIO_VMBUF_FAST_SLOTS || !vmbuf_call_has(VIRTIO_VMBUF_F_FAST) ||
	    pool->locator_kind != VIRTIO_VMBUF_LOCATOR_IVPOSITION || !pool->ops->doorbell)
		return;
	tl = kzalloc(sizeof(*tl), GFP_KERNEL_ACCOUNT);
	if (!tl)
		return;		/* the daemon's timeline works alone */
	/* A SIGNAL may still be queued after its buffer went: the module stays till then. */
	__module_get(THIS_MODULE);
	kref_init(&tl->ref);
	spin_lock_init(&tl->lock);
	INIT_DELAYED_WORK(&tl->send, vmbuf_fast_send_work);
	vmbuf_pool_get(pool);
	tl->pool = pool;
	tl->slot = (struct virtio_vmbuf_fast_slot *)(pool->vaddr + VIRTIO_VMBUF_FAST_OFFSET) +
		   (slot - 1);
	tl->tag = tag;
	tl->self = pool->locator & 0xff;	/* (pool id << 8) | VM slot */
	memcpy(tl->handle, buf->handle, sizeof(tl->handle));
	buf->fast = tl;
	spin_lock(&vmbuf_fast_lock);
	list_add(&tl->link, &vmbuf_fast_tls);
	spin_unlock(&vmbuf_fast_lock);
}

void vmbuf_fast_unset(struct vmbuf_buffer *buf)
{
	struct vmbuf_fast_tl *tl = buf->fast;

	if (!tl)
		return;
	spin_lock(&vmbuf_fast_lock);
	list_del(&tl->link);
	spin_unlock(&vmbuf_fast_lock);
	buf->fast = NULL;
	vmbuf_fast_put(tl);	/* a queued SIGNAL still goes out */
}

struct vmbuf_fast_tl *vmbuf_fast_get(const u8 *handle)
{
	struct vmbuf_fast_tl *tl, *found = NULL;

	spin_lock(&vmbuf_fast_lock);
	list_for_each_entry(tl, &vmbuf_fast_tls, link) {
		if (!memcmp(tl->handle, handle, VMBUF_HANDLE_SIZE)) {
			kref_get(&tl->ref);
			found = tl;
			break;
		}
	}
	spin_unlock(&vmbuf_fast_lock);
	return found;
}

/* Is the slot still this export's and in use? (any context) */
static bool vmbuf_fast_usable(const struct vmbuf_fast_tl *tl)
{
	return !READ_ONCE(tl->pool->dead) && le16_to_cpu(READ_ONCE(tl->slot->tag)) == tl->tag &&
	       !(le32_to_cpu(READ_ONCE(tl->slot->flags)) & VIRTIO_VMBUF_FAST_F_SLOW);
}

int vmbuf_fast_arm(const struct vmbuf_fast_tl *tl, u64 value)
{
	if (!vmbuf_fast_usable(tl))
		return -EAGAIN;
	set_bit_le(tl->self, (unsigned long *)tl->slot->waiting);
	smp_mb__after_atomic();	/* the bit before the value: pairs with vmbuf_fast_signal() */
	return le64_to_cpu(READ_ONCE(tl->slot->value)) >= value;
}

/*
 * Take the slot's waiting bits and ring those VMs, this one included.
 * True when bit 0 was set: the daemon has waiters of its own there.
 */
static bool vmbuf_fast_ring(struct vmbuf_fast_tl *tl)
{
	struct vmbuf_pool *pool = tl->pool;
	bool self = false, daemon = false;
	unsigned int i;
	u64 count;

	for (i = 0; i < ARRAY_SIZE(tl->slot->waiting); i++) {
		u64 bits = le64_to_cpu(xchg((u64 *)&tl->slot->waiting[i], 0));

		while (bits) {
			unsigned int n = i * 64 + __ffs64(bits);

			bits &= bits - 1;
			if (n == tl->self)
				self = true;
			else if (n)	/* VM slots start at 1 */
				pool->ops->doorbell(pool, (pool->locator & ~0xffull) | n, 0,
						    &count);
			else
				daemon = true;
		}
	}
	if (self)
		vmbuf_fence_fast_poll(pool);
	return daemon;
}

int vmbuf_fast_signal(struct vmbuf_fast_tl *tl, u64 value)
{
	u64 *v = (u64 *)&tl->slot->value;
	u64 old, cur;
	bool daemon;

	if (!vmbuf_fast_usable(tl))
		return -EAGAIN;
	/* Only upwards, whoever else raises it at the same time. */
	cur = READ_ONCE(*v);
	do {
		old = cur;
		if (le64_to_cpu(old) >= value)
			return -EINVAL;
		cur = cmpxchg64(v, old, cpu_to_le64(value));
	} while (cur != old);
	/* cmpxchg64() and xchg() order the value before the bits. */
	daemon = vmbuf_fast_ring(tl);
	/* The daemon hears of it off the waiters' path, newest value only. */
	spin_lock(&tl->lock);
	if (value > tl->pending)
		tl->pending = value;
	spin_unlock(&tl->lock);
	/* A queued send holds a reference: where one was queued already, drop this one. */
	kref_get(&tl->ref);
	if (daemon) {
		if (mod_delayed_work(vmbuf_fast_wq, &tl->send, 0))
			vmbuf_fast_put(tl);
	} else if (!queue_delayed_work(vmbuf_fast_wq, &tl->send,
				       msecs_to_jiffies(READ_ONCE(vmbuf_fast_signal_ms)))) {
		vmbuf_fast_put(tl);
	}
	return 0;
}

void vmbuf_fast_slow(struct vmbuf_fast_tl *tl)
{
	__le32 *flags = &tl->slot->flags;

	/* Only drivers write the flags, and only this bit: no atomic needed. */
	if (vmbuf_fast_usable(tl)) {
		WRITE_ONCE(*flags, cpu_to_le32(le32_to_cpu(READ_ONCE(*flags)) |
					       VIRTIO_VMBUF_FAST_F_SLOW));
		smp_mb();	/* the flag before the bits: light waits see it, or are rung */
		vmbuf_fast_ring(tl);
	}
	/* What was raised here reaches the daemon before what comes next. */
	flush_delayed_work(&tl->send);
}

long vmbuf_fast_wait(const struct vmbuf_fast_tl *tl, u64 value, unsigned long timeout)
{
	long left;
	int r = 0;

	/* Arming sets this VM's bit before it reads: a signaller rings, or it sees the value. */
	left = wait_event_interruptible_timeout(tl->pool->fast_wq,
						(r = vmbuf_fast_arm(tl, value)) != 0, timeout);
	return left < 0 ? left : r;
}

int vmbuf_fast_init(void)
{
	vmbuf_fast_wq = alloc_ordered_workqueue("vmbuf-fast", 0);
	return vmbuf_fast_wq ? 0 : -ENOMEM;
}

void vmbuf_fast_exit(void)
{
	destroy_workqueue(vmbuf_fast_wq);
}
