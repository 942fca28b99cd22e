// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf events: what read() on /dev/vmbuf returns. Each open file has its
 * own ring of VMBUF_EVENTS_MAX records of the events that arrived after it
 * was opened; when it overflows it loses the oldest and flags the next
 * record VMBUF_EVENT_LOST. poll() is readable when a record waits.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <vmbuf/wire.h>

#include "vmbuf.h"

#define VMBUF_EVENTS_MAX 64

struct vmbuf_events {
	struct list_head link;		/* vmbuf_event_files */
	wait_queue_head_t wq;
	unsigned int head, count;
	bool lost;
	struct vmbuf_event ring[VMBUF_EVENTS_MAX];
};

/* Guards vmbuf_event_files and every file's ring; taken from the event interrupt. */
static DEFINE_SPINLOCK(vmbuf_events_lock);
static LIST_HEAD(vmbuf_event_files);

void vmbuf_events_post(const struct virtio_vmbuf_event *ev)
{
	struct vmbuf_events *f;
	struct vmbuf_event e;
	unsigned long flags;

	vmbuf_event_from_wire(&e, ev);
	spin_lock_irqsave(&vmbuf_events_lock, flags);
	list_for_each_entry(f, &vmbuf_event_files, link) {
		unsigned int tail;

		if (f->count == VMBUF_EVENTS_MAX) {
			f->head = (f->head + 1) % VMBUF_EVENTS_MAX;
			f->count--;
			f->lost = true;
		}
		tail = (f->head + f->count) % VMBUF_EVENTS_MAX;
		f->ring[tail] = e;
		if (f->lost) {
			f->ring[tail].flags |= VMBUF_EVENT_LOST;
			f->lost = false;
		}
		f->count++;
		wake_up_interruptible(&f->wq);
	}
	spin_unlock_irqrestore(&vmbuf_events_lock, flags);
}

struct vmbuf_events *vmbuf_events_open(void)
{
	struct vmbuf_events *f;
	unsigned long flags;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return NULL;
	init_waitqueue_head(&f->wq);
	spin_lock_irqsave(&vmbuf_events_lock, flags);
	list_add_tail(&f->link, &vmbuf_event_files);
	spin_unlock_irqrestore(&vmbuf_events_lock, flags);
	return f;
}

void vmbuf_events_close(struct vmbuf_events *f)
{
	unsigned long flags;

	spin_lock_irqsave(&vmbuf_events_lock, flags);
	list_del(&f->link);
	spin_unlock_irqrestore(&vmbuf_events_lock, flags);
	kfree(f);
}

static bool vmbuf_events_pending(struct vmbuf_events *f)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&vmbuf_events_lock, flags);
	ret = f->count > 0;
	spin_unlock_irqrestore(&vmbuf_events_lock, flags);
	return ret;
}

ssize_t vmbuf_events_read(struct vmbuf_events *f, char __user *ubuf, size_t len, bool block)
{
	struct vmbuf_event e;
	unsigned long flags;
	ssize_t done = 0;
	int ret;

	if (len < sizeof(e))
		return -EINVAL;
	if (block) {
		ret = wait_event_interruptible(f->wq, vmbuf_events_pending(f));
		if (ret)
			return ret;
	}
	while (len - done >= sizeof(e)) {
		spin_lock_irqsave(&vmbuf_events_lock, flags);
		if (!f->count) {
			spin_unlock_irqrestore(&vmbuf_events_lock, flags);
			break;
		}
		e = f->ring[f->head];
		f->head = (f->head + 1) % VMBUF_EVENTS_MAX;
		f->count--;
		spin_unlock_irqrestore(&vmbuf_events_lock, flags);
		if (copy_to_user(ubuf + done, &e, sizeof(e)))
			return done ? done : -EFAULT;
		done += sizeof(e);
	}
	return done ? done : -EAGAIN;
}

__poll_t vmbuf_events_poll(struct vmbuf_events *f, struct file *file, poll_table *wait)
{
	poll_wait(file, &f->wq, wait);
	return vmbuf_events_pending(f) ? EPOLLIN | EPOLLRDNORM : 0;
}
