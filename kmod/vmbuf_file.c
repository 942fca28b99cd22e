// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf files: what one open /dev/vmbuf sees. Each open file has its own
 * view: the handles it may name (exports it made, exports it imported) and
 * a ring of VMBUF_FILE_EVENTS event records, for the events that arrived
 * after it was opened and concern it. When the ring overflows it loses the
 * oldest record and flags the next VMBUF_EVENT_LOST; poll() is readable
 * when a record waits.
 *
 * Handles are capabilities, and every user who may open /dev/vmbuf shares
 * the VM's identity towards the daemon, so the module keeps them apart: a
 * file is told about an export (REVOKED, TIMELINE) only when it knows its
 * handle, and an OFFERED record carries the handle only to a file that knows
 * it already. A file opened with CAP_SYS_ADMIN acts for the whole VM and
 * sees every handle.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <vmbuf/wire.h>

#include "vmbuf.h"

/* A handle a file may name. */
struct vmbuf_file_handle {
	struct list_head link;		/* vmbuf_file.handles */
	u8 handle[VMBUF_HANDLE_SIZE];
	unsigned int flags;		/* VMBUF_FILE_* */
};

/* Guards vmbuf_files and every file's handles and ring; taken from the event interrupt. */
static DEFINE_SPINLOCK(vmbuf_files_lock);
static LIST_HEAD(vmbuf_files);

/* Under vmbuf_files_lock. */
static struct vmbuf_file_handle *vmbuf_file_find(struct vmbuf_file *f, const u8 *handle)
{
	struct vmbuf_file_handle *h;

	list_for_each_entry(h, &f->handles, link)
		if (!memcmp(h->handle, handle, VMBUF_HANDLE_SIZE))
			return h;
	return NULL;
}

bool vmbuf_file_knows(struct vmbuf_file *f, const u8 *handle, unsigned int flags)
{
	struct vmbuf_file_handle *h;
	unsigned long irqflags;
	bool ret;

	if (f->all_handles)
		return true;
	spin_lock_irqsave(&vmbuf_files_lock, irqflags);
	h = vmbuf_file_find(f, handle);
	ret = h && (!flags || (h->flags & flags));
	spin_unlock_irqrestore(&vmbuf_files_lock, irqflags);
	return ret;
}

int vmbuf_file_learn(struct vmbuf_file *f, const u8 *handle, unsigned int flags)
{
	struct vmbuf_file_handle *h, *n;
	unsigned long irqflags;
	int ret = 0;

	n = kzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return -ENOMEM;
	memcpy(n->handle, handle, VMBUF_HANDLE_SIZE);
	n->flags = flags;
	spin_lock_irqsave(&vmbuf_files_lock, irqflags);
	h = vmbuf_file_find(f, handle);
	if (h) {
		h->flags |= flags;
	} else if (f->nhandles >= VMBUF_FILE_HANDLES) {
		ret = -ENOSPC;
	} else {
		list_add(&n->link, &f->handles);
		f->nhandles++;
		n = NULL;
	}
	spin_unlock_irqrestore(&vmbuf_files_lock, irqflags);
	kfree(n);
	return ret;
}

/* Under vmbuf_files_lock. */
static void vmbuf_file_drop(struct vmbuf_file *f, struct vmbuf_file_handle *h)
{
	list_del(&h->link);
	f->nhandles--;
	kfree(h);
}

void vmbuf_file_forget(struct vmbuf_file *f, const u8 *handle)
{
	struct vmbuf_file_handle *h;
	unsigned long irqflags;

	spin_lock_irqsave(&vmbuf_files_lock, irqflags);
	h = vmbuf_file_find(f, handle);
	if (h)
		vmbuf_file_drop(f, h);
	spin_unlock_irqrestore(&vmbuf_files_lock, irqflags);
}

/* Under vmbuf_files_lock: add @e to @f's ring. */
static void vmbuf_file_push(struct vmbuf_file *f, const struct vmbuf_event *e)
{
	unsigned int tail;

	if (f->count == VMBUF_FILE_EVENTS) {
		f->head = (f->head + 1) % VMBUF_FILE_EVENTS;
		f->count--;
		f->lost = true;
	}
	tail = (f->head + f->count) % VMBUF_FILE_EVENTS;
	f->ring[tail] = *e;
	if (f->lost) {
		f->ring[tail].flags |= VMBUF_EVENT_LOST;
		f->lost = false;
	}
	f->count++;
	wake_up_interruptible(&f->wq);
}

void vmbuf_files_post(const struct virtio_vmbuf_event *ev)
{
	struct vmbuf_file_handle *h;
	struct vmbuf_event e, redacted;
	struct vmbuf_file *f;
	unsigned long flags;

	vmbuf_event_from_wire(&e, ev);
	redacted = e;
	memset(redacted.handle, 0, sizeof(redacted.handle));
	spin_lock_irqsave(&vmbuf_files_lock, flags);
	list_for_each_entry(f, &vmbuf_files, link) {
		h = f->all_handles ? NULL : vmbuf_file_find(f, e.handle);
		switch (e.type) {
		case VMBUF_EVENT_PEER_GONE:
			vmbuf_file_push(f, &e);
			break;
		case VMBUF_EVENT_OFFERED:
			/* Anyone here may import it by name; the handle only for who has it. */
			vmbuf_file_push(f, f->all_handles || h ? &e : &redacted);
			break;
		default:	/* REVOKED, TIMELINE: about one export */
			if (f->all_handles || h)
				vmbuf_file_push(f, &e);
			/* A revoked handle names nothing any more. */
			if (h && e.type == VMBUF_EVENT_REVOKED)
				vmbuf_file_drop(f, h);
			break;
		}
	}
	spin_unlock_irqrestore(&vmbuf_files_lock, flags);
}

struct vmbuf_file *vmbuf_file_open(void)
{
	struct vmbuf_file *f;
	unsigned long flags;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return NULL;
	init_waitqueue_head(&f->wq);
	INIT_LIST_HEAD(&f->handles);
	f->all_handles = capable(CAP_SYS_ADMIN);
	f->user = vmbuf_user_get();
	if (!f->user) {
		kfree(f);
		return NULL;
	}
	spin_lock_irqsave(&vmbuf_files_lock, flags);
	list_add_tail(&f->link, &vmbuf_files);
	spin_unlock_irqrestore(&vmbuf_files_lock, flags);
	return f;
}

void vmbuf_file_close(struct vmbuf_file *f)
{
	struct vmbuf_file_handle *h, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&vmbuf_files_lock, flags);
	list_del(&f->link);
	list_for_each_entry_safe(h, tmp, &f->handles, link)
		vmbuf_file_drop(f, h);
	spin_unlock_irqrestore(&vmbuf_files_lock, flags);
	vmbuf_user_put(f->user);
	kfree(f);
}

static bool vmbuf_file_pending(struct vmbuf_file *f)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&vmbuf_files_lock, flags);
	ret = f->count > 0;
	spin_unlock_irqrestore(&vmbuf_files_lock, flags);
	return ret;
}

ssize_t vmbuf_file_read(struct vmbuf_file *f, char __user *ubuf, size_t len, bool block)
{
	struct vmbuf_event e;
	unsigned long flags;
	ssize_t done = 0;
	int ret;

	if (len < sizeof(e))
		return -EINVAL;
	if (block) {
		ret = wait_event_interruptible(f->wq, vmbuf_file_pending(f));
		if (ret)
			return ret;
	}
	while (len - done >= sizeof(e)) {
		spin_lock_irqsave(&vmbuf_files_lock, flags);
		if (!f->count) {
			spin_unlock_irqrestore(&vmbuf_files_lock, flags);
			break;
		}
		e = f->ring[f->head];
		f->head = (f->head + 1) % VMBUF_FILE_EVENTS;
		f->count--;
		spin_unlock_irqrestore(&vmbuf_files_lock, flags);
		if (copy_to_user(ubuf + done, &e, sizeof(e)))
			return done ? done : -EFAULT;
		done += sizeof(e);
	}
	return done ? done : -EAGAIN;
}

__poll_t vmbuf_file_poll(struct vmbuf_file *f, struct file *file, poll_table *wait)
{
	poll_wait(file, &f->wq, wait);
	return vmbuf_file_pending(f) ? EPOLLIN | EPOLLRDNORM : 0;
}
