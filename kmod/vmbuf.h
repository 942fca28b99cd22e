/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmbuf.ko internals. The files, each calling only those listed before it:
 *
 *   vmbuf_call.c     the device in use and vmbuf_call(), the one way to the daemon
 *   vmbuf_buffer.c   a range of a pool as a dma-buf (the exporter)
 *   vmbuf_heap.c     /dev/dma_heap/vmbuf-<pool>
 *   vmbuf_pool.c     pool memory a transport found, matched to HELLO by locator
 *   vmbuf_fence.c    cross-VM dma_fences, per open file
 *   vmbuf_file.c     an open /dev/vmbuf: the handles and events it may see
 *   vmbuf_cdev.c     /dev/vmbuf: file operations and ioctls
 *   vmbuf_dev.c      what transports call: a device comes (HELLO) or goes, events
 *   vmbuf_ivshmem.c  transport T1: the ivshmem PCI driver, its rings, pool BARs
 *   vmbuf_virtio.c   transport T2: the virtio driver of the vhost-user device
 *   vmbuf_debugfs.c  /sys/kernel/debug/vmbuf
 *   vmbuf_main.c     module init and exit
 *
 * A transport fills struct vmbuf_transport_ops and embeds struct vmbuf_dev
 * (its control device) and struct vmbuf_pool (each pool's memory) in its
 * own structs; nothing above vmbuf_dev.c knows which transport it runs on.
 *
 * Locking: vmbuf_lock (mutex) guards vmbuf_pools, pool matching and the
 * sharing state of buffers; vmbuf_dev_sem (rw_semaphore) is held for
 * reading across a request to the daemon (vmbuf_call()), so requests from
 * many processes run in parallel, and for writing only where a device
 * comes or goes; vmbuf_dev changes only under both. pool->lock (mutex)
 * guards a pool's buffer list; buf->lock guards its attachments.
 * Functions return 0 or a negative errno.
 */
#ifndef VMBUF_INTERNAL_H
#define VMBUF_INTERNAL_H

#include <linux/bits.h>
#include <linux/dma-buf.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/poll.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/virtio_vmbuf.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <linux/vmbuf.h>

struct seq_file;
struct vmbuf_dev;
struct vmbuf_pool;
struct vmbuf_user;

/**
 * struct vmbuf_transport_ops - what a transport does for the layers above it
 * @name: "ivshmem", ...
 * @call: send one request of @req_len bytes and wait for its response
 *	(at most @resp_len bytes). Returns 0 when a response came (its status
 *	is in it), or a negative errno: see vmbuf_call(). A request it gave up
 *	on keeps its place until the device answers it, and the answer goes to
 *	vmbuf_call_late(). Called only through vmbuf_call().
 * @doorbell: ring peer @peer of @pool (0: none), then, when @timeout_ms is
 *	not 0, wait up to that long for the pool's interrupt count to differ
 *	from *@count; store the count. NULL: VMBUF_IOC_DOORBELL is unsupported.
 * @debugfs_show: transport state for /sys/kernel/debug/vmbuf/device
 */
struct vmbuf_transport_ops {
	const char *name;
	int (*call)(struct vmbuf_dev *dev, void *req, size_t req_len, void *resp,
		    size_t resp_len);
	int (*doorbell)(struct vmbuf_pool *pool, u32 peer, u32 timeout_ms, u64 *count);
	void (*debugfs_show)(struct vmbuf_dev *dev, struct seq_file *s);
};

/* The control device of one transport, as the layers above see it. */
struct vmbuf_dev {
	struct device *dev;
	const struct vmbuf_transport_ops *ops;

	/* From HELLO. */
	u64 features;			/* VIRTIO_VMBUF_F_* both sides have */
	char vm_name[VIRTIO_VMBUF_NAME_MAX + 1];
	u64 quota;
	u32 fence_timeout_ms;
	u32 locator_kind;
	u32 npools;
	struct virtio_vmbuf_pool_info pools[VIRTIO_VMBUF_MAX_POOLS];
};

/*
 * Pool memory a transport found (a BAR, a shared memory region) for one of
 * HELLO's pools. Reference-counted (vmbuf_pool.c): it outlives its device
 * while buffers hold it; @release is the transport's, for the last put.
 */
struct vmbuf_pool {
	struct kref ref;
	void (*release)(struct vmbuf_pool *pool);
	struct list_head link;		/* vmbuf_pools, while its device is there */
	struct device *dev;		/* referenced */
	const struct vmbuf_transport_ops *ops;
	u32 locator_kind;		/* VIRTIO_VMBUF_LOCATOR_* */
	u64 locator;			/* as HELLO names it: unforgeable by other VMs */
	void *vaddr;			/* write-back, with struct pages */
	phys_addr_t phys;
	resource_size_t size;

	bool dead;			/* its device went away; set under @lock */
	u32 pool_id;
	u64 data_offset;
	char name[VIRTIO_VMBUF_NAME_MAX + 1];

	bool heap_registered;
	char heap_name[VIRTIO_VMBUF_NAME_MAX + 8];
	char heap_node[VIRTIO_VMBUF_NAME_MAX + 20];
	struct miscdevice heap;

	struct mutex lock;		/* guards buffers, used, nbuffers, dead, recycled */
	struct list_head buffers;
	u64 used;
	u32 nbuffers;

	/* Freed small buffers kept for reuse, still the VM's (vmbuf_buffer.c). */
	struct list_head recycled;
	u32 nrecycled;
	u64 recycled_bytes;
	struct delayed_work recycle_flush;	/* holds a pool reference while queued */

	wait_queue_head_t fast_wq;	/* its doorbell rang: light waits (vmbuf_fast.c) */
};

struct vmbuf_buffer {
	struct vmbuf_pool *pool;
	struct list_head link;		/* pool->buffers */
	u64 id;				/* buffer id, or import id when imported */
	u64 offset, size;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	bool imported;
	int session;			/* vmbuf_dev_session when it was made */

	/* Sharing state, under vmbuf_lock. */
	bool exported;
	u8 handle[VMBUF_HANDLE_SIZE];
	char name[VMBUF_NAME_MAX];
	char owner[VMBUF_NAME_MAX];
	struct vmbuf_meta meta;

	struct vmbuf_fast_tl *fast;	/* its fast timeline (vmbuf_fast.c), or NULL */

	struct dma_buf *dmabuf;
	struct mutex lock;		/* guards attachments, mapping, nvmas */
	struct list_head attachments;
	struct address_space *mapping;	/* of the dma-buf's file, once mmapped */
	unsigned int nvmas;		/* user mappings */
};

extern struct mutex vmbuf_lock;
extern unsigned int vmbuf_timeout_ms;

/* vmbuf_call.c */
extern struct rw_semaphore vmbuf_dev_sem;
extern struct vmbuf_dev *vmbuf_dev;	/* under vmbuf_lock or vmbuf_dev_sem */
int vmbuf_call_init(void);
void vmbuf_call_exit(void);
/*
 * Send one request to the daemon: the response's status, -ENODEV without a
 * device, -EINTR when the caller was killed before the request went out,
 * -ECANCELED when it was killed after, -ETIMEDOUT after vmbuf_timeout_ms.
 */
int vmbuf_call(void *req, size_t req_len, void *resp, size_t resp_len);
/* Does the device in use have VIRTIO_VMBUF_F_* @feature? */
bool vmbuf_call_has(u64 feature);
/*
 * Give back a range: FREE for our own buffers, RELEASE for imports. From a
 * dying process (or one killed before the request went out) it is queued
 * to a worker instead, so it is sent whatever happens to the caller.
 */
int vmbuf_call_let_go(bool imported, u64 id);
/* The same, always from a worker (any context, never waits). */
void vmbuf_call_let_go_later(bool imported, u64 id);
/* SIGNAL @handle's timeline to @value (with @error) in the daemon, and wait for the answer. */
int vmbuf_call_signal(const u8 *handle, u64 value, int error);
/*
 * The transport got the answer to request @req after its caller gave up
 * (any context): give back what a successful ALLOC or IMPORT created.
 */
void vmbuf_call_late(const void *req, const void *resp, size_t resp_len);

/*
 * Changes whenever the control device comes or goes: buffer ids are the
 * daemon's for one session only (vmbuf_dev.c).
 */
extern atomic_t vmbuf_dev_session;

/* vmbuf_buffer.c */
struct dma_buf *vmbuf_buffer_alloc(struct vmbuf_pool *pool, u64 len, u32 fd_flags);
/*
 * Wrap an imported range in a new dma-buf whose release sends RELEASE of
 * @import_id. On failure the import is released.
 */
struct dma_buf *vmbuf_buffer_import(struct vmbuf_pool *pool, u64 import_id, u64 offset,
				    u64 size, u32 fd_flags, struct vmbuf_buffer **out);
/* The vmbuf buffer behind @dmabuf, or NULL when another driver exported it. */
struct vmbuf_buffer *vmbuf_buffer_of(struct dma_buf *dmabuf);
/* Its pool's device went away: take the user mappings away (under pool->lock). */
void vmbuf_buffer_revoke(struct vmbuf_buffer *buf);
/*
 * The pool's recycled buffers: set up with the pool; given back to the
 * daemon (from a worker) when the pool goes, after it is marked dead.
 */
void vmbuf_recycle_init(struct vmbuf_pool *pool);
void vmbuf_recycle_stop(struct vmbuf_pool *pool);

/* vmbuf_heap.c */
int vmbuf_heap_register(struct vmbuf_pool *pool);
void vmbuf_heap_unregister(struct vmbuf_pool *pool);

/* vmbuf_pool.c */
extern struct list_head vmbuf_pools;	/* under vmbuf_lock */
/* HELLO's pool located at (@locator_kind, @locator), or NULL; under vmbuf_lock. */
const struct virtio_vmbuf_pool_info *vmbuf_pool_info(u32 locator_kind, u64 locator);
/*
 * Use @pool (filled in by its transport: dev, ops, locator, memory, release)
 * as HELLO's pool @pi and give it a heap: 0, or -EINVAL when the sizes differ.
 * The transport holds the first reference until vmbuf_pool_remove().
 */
int vmbuf_pool_add(struct vmbuf_pool *pool, const struct virtio_vmbuf_pool_info *pi);
/* The pool's device goes: see vmbuf_pool.c; drops the transport's reference. */
void vmbuf_pool_remove(struct vmbuf_pool *pool);
void vmbuf_pool_get(struct vmbuf_pool *pool);
void vmbuf_pool_put(struct vmbuf_pool *pool);
/* The pool of daemon pool @pool_id, referenced (vmbuf_pool_put()), or NULL. */
struct vmbuf_pool *vmbuf_pool_by_id(u32 pool_id);

/*
 * One open /dev/vmbuf (vmbuf_file.c). Its handles and event ring are under
 * vmbuf_file.c's lock.
 */
#define VMBUF_FILE_EVENTS	64	/* event records waiting to be read */
#define VMBUF_FILE_HANDLES	4096	/* handles one file may name (ENOSPC beyond) */
#define VMBUF_FILE_MADE		BIT(0)	/* it exported the buffer */
#define VMBUF_FILE_IMPORTED	BIT(1)	/* it imported it */

struct vmbuf_file {
	struct list_head link;		/* vmbuf_files */
	wait_queue_head_t wq;
	bool all_handles;		/* opened with CAP_SYS_ADMIN: the VM's view */
	struct vmbuf_user *user;	/* who opened it: its fences count there */
	struct list_head handles;	/* struct vmbuf_file_handle */
	unsigned int nhandles;
	unsigned int head, count;
	bool lost;
	struct vmbuf_event ring[VMBUF_FILE_EVENTS];
};

/*
 * vmbuf_fast.c: fast timelines, where an export has a slot in its pool's
 * first page and this VM maps the pool.
 */
struct vmbuf_fast_tl {
	struct kref ref;
	struct list_head link;		/* the module's, while its buffer lives */
	struct vmbuf_pool *pool;	/* referenced */
	struct virtio_vmbuf_fast_slot *slot;
	u8 handle[VMBUF_HANDLE_SIZE];
	u16 tag;			/* the slot is this export's while it shows it */
	u16 self;			/* this VM's bit in the slot's waiting mask */
	spinlock_t lock;		/* guards pending */
	u64 pending;			/* newest value raised here, not yet sent */
	struct delayed_work send;	/* sends it (holds a reference while queued) */
};

/* How long a fence on a fast timeline waits before it asks the daemon to WATCH. */
#define VMBUF_FAST_DELAY	msecs_to_jiffies(2)

extern struct workqueue_struct *vmbuf_fast_wq;	/* ordered: SIGNALs, fast WATCHes */
int vmbuf_fast_init(void);
void vmbuf_fast_exit(void);
/* The slot from EXPORT's or IMPORT's response (0: none), once the handle is set. */
void vmbuf_fast_set(struct vmbuf_buffer *buf, u16 slot, u16 tag);
/* The buffer goes: its timeline is not found any more. */
void vmbuf_fast_unset(struct vmbuf_buffer *buf);
/* A reference to @handle's fast timeline in this VM, or NULL. */
struct vmbuf_fast_tl *vmbuf_fast_get(const u8 *handle);
void vmbuf_fast_put(struct vmbuf_fast_tl *tl);
/*
 * Be rung when it changes, then look again (any context): 1 when @value is
 * reached, 0 when armed, -EAGAIN when the slot cannot be used.
 */
int vmbuf_fast_arm(const struct vmbuf_fast_tl *tl, u64 value);
/*
 * Raise it to @value, ring the VMs waiting, queue the SIGNAL for the daemon
 * (may sleep): 0, -EINVAL when not above the slot's value, -EAGAIN when the
 * slot cannot be used (then signal through the daemon).
 */
int vmbuf_fast_signal(struct vmbuf_fast_tl *tl, u64 value);
/* Before a signal with an error: nobody uses the slot any more (may sleep). */
void vmbuf_fast_slow(struct vmbuf_fast_tl *tl);
/*
 * Sleep until the slot shows @value, for at most @timeout jiffies, with no
 * fence and no request: 1 reached, 0 timed out, -EAGAIN when the slot
 * cannot be used (it went slow, or another export has it), -ERESTARTSYS.
 */
long vmbuf_fast_wait(const struct vmbuf_fast_tl *tl, u64 value, unsigned long timeout);

/* vmbuf_fence.c */
/* @pool's doorbell rang (any context): complete the fast fences its slots reached. */
void vmbuf_fence_fast_poll(struct vmbuf_pool *pool);
int vmbuf_fence_init(void);
void vmbuf_fence_exit(void);
/* TIMELINE_REACHED from the event interrupt: complete the fences it covers. */
void vmbuf_fence_event(const struct virtio_vmbuf_event *ev);
/* Events were lost (any context): ask the device for every point a fence waits on. */
void vmbuf_fence_requery(void);
/* Complete every pending fence with @error (device gone). */
void vmbuf_fences_fail_all(int error);
/* Complete every pending fence of @handle with @error (its pool went away). */
void vmbuf_fence_end(const u8 *handle, int error);
/* The caller's user (euid), for fence accounting: NULL without memory. */
struct vmbuf_user *vmbuf_user_get(void);
void vmbuf_user_put(struct vmbuf_user *u);
int vmbuf_fence_ioctl_fence(struct vmbuf_file *file, struct vmbuf_fence __user *uarg);
int vmbuf_fence_ioctl_signal(struct vmbuf_file *file, struct vmbuf_signal __user *uarg);
int vmbuf_fence_ioctl_wait(struct vmbuf_file *file, struct vmbuf_wait __user *uarg);
int vmbuf_fence_ioctl_attach(struct vmbuf_file *file, struct vmbuf_attach __user *uarg);
void vmbuf_fence_debugfs_show(struct seq_file *s);

/* vmbuf_file.c */
struct vmbuf_file *vmbuf_file_open(void);
void vmbuf_file_close(struct vmbuf_file *f);
/* May @f name @handle (0 or VMBUF_FILE_MADE/IMPORTED: made or imported it that way)? */
bool vmbuf_file_knows(struct vmbuf_file *f, const u8 *handle, unsigned int flags);
/* @f made or imported @handle (@flags): 0, -ENOSPC or -ENOMEM. */
int vmbuf_file_learn(struct vmbuf_file *f, const u8 *handle, unsigned int flags);
void vmbuf_file_forget(struct vmbuf_file *f, const u8 *handle);
/* Deliver a device event to every open file that may see it (any context). */
void vmbuf_files_post(const struct virtio_vmbuf_event *ev);
ssize_t vmbuf_file_read(struct vmbuf_file *f, char __user *ubuf, size_t len, bool block);
__poll_t vmbuf_file_poll(struct vmbuf_file *f, struct file *file, poll_table *wait);

/* vmbuf_cdev.c */
int vmbuf_cdev_init(void);
void vmbuf_cdev_exit(void);

/* vmbuf_dev.c: what transports call. */
/* Reserve the one device slot before touching a device: 0 or -EBUSY. */
int vmbuf_dev_claim(void);
void vmbuf_dev_unclaim(void);
/* The claimed @dev is live: HELLO through @dev->ops, then put it in use and match pools. */
int vmbuf_dev_add(struct vmbuf_dev *dev);
/* Take @dev out of use (waits for requests in flight); fences end with -ENODEV. */
void vmbuf_dev_remove(struct vmbuf_dev *dev);
/* An event from the device (any context). */
void vmbuf_dev_event(const struct virtio_vmbuf_event *ev);

/* vmbuf_ivshmem.c */
int vmbuf_ivshmem_init(void);
void vmbuf_ivshmem_exit(void);

/* vmbuf_virtio.c */
int vmbuf_virtio_init(void);
void vmbuf_virtio_exit(void);

/* vmbuf_debugfs.c */
void vmbuf_debugfs_init(void);
void vmbuf_debugfs_exit(void);

#endif
