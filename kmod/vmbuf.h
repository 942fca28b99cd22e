/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmbuf.ko internals: the control device (one per guest), pool devices (one
 * per pool), buffers (one per dma-buf) and the glue between them.
 *
 * Locking: vmbuf_lock (mutex) guards the device list and pool matching;
 * vmbuf_ctl_sem (rw_semaphore) is held for reading across a request to the
 * daemon, so requests from many processes run in parallel and only the
 * control device's probe and removal (writers) wait for them; vmbuf_ctl
 * changes only under both;
 * ctl->vq_lock (spinlock, IRQ-safe) guards the control ring; pool->lock
 * (mutex) guards a pool's buffer list; buf->lock guards attachments.
 * Functions return 0 or a negative errno.
 */
#ifndef VMBUF_INTERNAL_H
#define VMBUF_INTERNAL_H

#include <linux/completion.h>
#include <linux/dma-buf.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/virtio_vmbuf.h>
#include <linux/vmbuf_ivshmem.h>

#include <linux/vmbuf.h>

#define VMBUF_CTL_QUEUE_SIZE	64
#define VMBUF_EVT_QUEUE_SIZE	64
#define VMBUF_CTL_SLOTS		(VMBUF_CTL_QUEUE_SIZE / 2)	/* out + in descriptor each */

struct vmbuf_slot {
	struct completion done;
	u32 resp_len;
	bool busy;
	bool lost;		/* timed out: never reused */
};

struct vmbuf_ctl {
	struct pci_dev *pdev;
	void __iomem *regs;		/* BAR0: ivshmem registers */
	void *region;			/* BAR2: control region, write-back */
	resource_size_t region_size;
	struct vmbuf_ivshmem_ctl_cfg *cfg;

	/* Control queue (driver side). */
	spinlock_t vq_lock;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	u16 avail_idx;
	u16 last_used;
	u64 next_id;
	struct semaphore slots_free;
	struct vmbuf_slot slots[VMBUF_CTL_SLOTS];

	/* Event queue: every descriptor is one posted 128-byte buffer. */
	spinlock_t evt_lock;
	struct vring_desc *evt_desc;
	struct vring_avail *evt_avail;
	struct vring_used *evt_used;
	u16 evt_avail_idx;
	u16 evt_last_used;

	wait_queue_head_t cfg_wq;
	bool live;

	/* From HELLO. */
	char vm_name[VIRTIO_VMBUF_NAME_MAX + 1];
	u64 quota;
	u32 fence_timeout_ms;
	u32 npools;
	struct virtio_vmbuf_pool_info pools[VIRTIO_VMBUF_MAX_POOLS];
};

struct vmbuf_pool {
	struct list_head link;		/* vmbuf_pools */
	struct pci_dev *pdev;
	void __iomem *regs;
	u16 position;			/* IVPosition: the daemon's unforgeable id */
	struct dev_pagemap pgmap;
	void *vaddr;
	phys_addr_t phys;
	resource_size_t size;

	bool matched;			/* confirmed by HELLO */
	u32 pool_id;
	u64 data_offset;
	char name[VIRTIO_VMBUF_NAME_MAX + 1];

	bool heap_registered;
	char heap_name[VIRTIO_VMBUF_NAME_MAX + 8];
	char heap_node[VIRTIO_VMBUF_NAME_MAX + 20];
	struct miscdevice heap;

	/* Doorbells from pool peers (VMBUF_IOC_DOORBELL). */
	bool has_irq;
	atomic64_t doorbells;
	wait_queue_head_t doorbell_wq;

	struct mutex lock;		/* guards buffers, used, nbuffers */
	struct list_head buffers;
	u64 used;
	u32 nbuffers;
};

struct vmbuf_buffer {
	struct vmbuf_pool *pool;
	struct list_head link;		/* pool->buffers */
	u64 id;				/* buffer id, or import id when imported */
	u64 offset, size;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	bool imported;

	/* Sharing state, under vmbuf_lock. */
	bool exported;
	u8 handle[VMBUF_HANDLE_SIZE];
	char name[VMBUF_NAME_MAX];
	char owner[VMBUF_NAME_MAX];
	struct vmbuf_meta meta;

	struct mutex lock;		/* guards attachments */
	struct list_head attachments;
};

extern struct mutex vmbuf_lock;
extern struct rw_semaphore vmbuf_ctl_sem;
extern struct vmbuf_ctl *vmbuf_ctl;	/* under vmbuf_lock or vmbuf_ctl_sem */
extern struct list_head vmbuf_pools;	/* under vmbuf_lock */
extern unsigned int vmbuf_timeout_ms;

/* vmbuf_ctl.c */
int vmbuf_ctl_probe(struct pci_dev *pdev, void __iomem *regs);
void vmbuf_ctl_remove(struct vmbuf_ctl *ctl);
int vmbuf_ctl_call(struct vmbuf_ctl *ctl, void *req, size_t req_len, void *resp,
		   size_t resp_len);

/* vmbuf_pool.c */
int vmbuf_pool_probe(struct pci_dev *pdev, void __iomem *regs,
		     const struct vmbuf_ivshmem_region *hdr);
void vmbuf_pool_remove(struct vmbuf_pool *pool);
void vmbuf_pools_match(void);	/* under vmbuf_lock */

/* vmbuf_heap.c */
int vmbuf_heap_register(struct vmbuf_pool *pool);
void vmbuf_heap_unregister(struct vmbuf_pool *pool);

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
/* Send one request to the daemon under vmbuf_lock; -ENODEV without a device. */
int vmbuf_call(void *req, size_t req_len, void *resp, size_t resp_len);

/* vmbuf_cdev.c */
int vmbuf_cdev_init(void);
void vmbuf_cdev_exit(void);
/* Deliver a device event to every open /dev/vmbuf (any context). */
void vmbuf_cdev_event(const struct virtio_vmbuf_event *ev);

/* vmbuf_pool.c */
int vmbuf_pool_ioctl_doorbell(struct vmbuf_doorbell __user *uarg);
/* The pool matched to daemon pool @pool_id, or NULL. */
struct vmbuf_pool *vmbuf_pool_by_id(u32 pool_id);

/* vmbuf_fence.c */
int vmbuf_fence_init(void);
void vmbuf_fence_exit(void);
unsigned int vmbuf_fence_timeout(void);
/* TIMELINE_REACHED from the event interrupt: complete the fences it covers. */
void vmbuf_fence_event(const struct virtio_vmbuf_event *ev);
/* Complete every pending fence with @error (device gone). */
void vmbuf_fences_fail_all(int error);
int vmbuf_fence_ioctl_fence(struct vmbuf_fence __user *uarg);
int vmbuf_fence_ioctl_signal(struct vmbuf_signal __user *uarg);
int vmbuf_fence_ioctl_attach(struct vmbuf_attach __user *uarg);
struct seq_file;
void vmbuf_fence_debugfs_show(struct seq_file *s);

/* vmbuf_debugfs.c */
void vmbuf_debugfs_init(void);
void vmbuf_debugfs_exit(void);

#endif
