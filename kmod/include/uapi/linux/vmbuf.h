/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * vmbuf guest UAPI: ioctls of /dev/vmbuf. Buffers themselves are allocated
 * through the standard dma-heap UAPI on /dev/dma_heap/vmbuf-<pool>; these
 * ioctls share them with other VMs and the host (export, import, revoke,
 * query). read() on /dev/vmbuf returns whole struct vmbuf_event records for
 * events that happen after the open; poll() says when one is waiting.
 *
 * The ioctl magic 0xB7 is not registered in Linux's ioctl-number.rst.
 * All structs are free of implicit padding; their sizes are asserted in
 * kmod/include/vmbuf/wire.h, with the constants the device protocol shares.
 */
#ifndef _UAPI_LINUX_VMBUF_H
#define _UAPI_LINUX_VMBUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VMBUF_NAME_MAX		32
#define VMBUF_MAX_POOLS		16

/**
 * struct vmbuf_pool_desc - one pool as the guest sees it
 * @pool_id: the daemon's pool id
 * @flags: VMBUF_POOL_HEAP when /dev/dma_heap/vmbuf-<name> exists
 * @size: pool size in bytes
 * @used: bytes this guest currently holds in the pool
 * @buffers: buffers this guest currently holds in the pool
 * @position: this VM's peer id on the pool's device (for VMBUF_IOC_DOORBELL)
 * @name: pool name
 */
struct vmbuf_pool_desc {
	__u32 pool_id;
	__u32 flags;
	__u64 size;
	__u64 used;
	__u32 buffers;
	__u32 position;
	char name[VMBUF_NAME_MAX];
};

#define VMBUF_POOL_HEAP		(1u << 0)

/**
 * struct vmbuf_info - VMBUF_IOC_INFO result
 * @version: protocol version spoken with the device
 * @npools: entries used in @pools
 * @quota_bytes: this VM's quota (0: none)
 * @vm_name: this VM's name in the daemon's configuration
 * @pools: pools this VM is a member of
 */
struct vmbuf_info {
	__u32 version;
	__u32 npools;
	__u64 quota_bytes;
	char vm_name[VMBUF_NAME_MAX];
	struct vmbuf_pool_desc pools[VMBUF_MAX_POOLS];
};

#define VMBUF_HANDLE_SIZE	16
#define VMBUF_MAX_ACCESS	8

/**
 * struct vmbuf_meta - what the exporter says about the buffer's contents
 * @width: pixels
 * @height: pixels
 * @fourcc: DRM fourcc, 0 for none
 * @nplanes: planes used in @offsets and @strides (0..4)
 * @modifier: DRM format modifier
 * @offsets: plane offsets, bytes
 * @strides: plane strides, bytes
 * @label: free-form text, NUL-padded
 * @reserved: zero
 */
struct vmbuf_meta {
	__u32 width;
	__u32 height;
	__u32 fourcc;
	__u32 nplanes;
	__u64 modifier;
	__u32 offsets[4];
	__u32 strides[4];
	char label[64];
	__u8 reserved[136];
};

/* struct vmbuf_export.flags: who may import besides the VMs in @access. */
#define VMBUF_EXPORT_POOL	(1u << 0)	/* every member of the buffer's pool */
#define VMBUF_EXPORT_HOST	(1u << 1)	/* host clients */
#define VMBUF_EXPORT_SIGNAL	(1u << 2)	/* importers may signal the timeline */
/*
 * The timeline in pool memory too, where the transport allows it: a signal
 * with no error reaches the waiting VMs by pool doorbell, not through the
 * daemon. Needs VMBUF_EXPORT_SIGNAL. Any member of the pool could forge its
 * value (docs/security.md); VMBUF_QUERY_FAST says whether it got a slot.
 */
#define VMBUF_EXPORT_FAST	(1u << 3)

/**
 * struct vmbuf_export - VMBUF_IOC_EXPORT: share a buffer this VM allocated
 * @fd: dma-buf fd from a /dev/dma_heap/vmbuf-* heap of this guest (EXDEV for
 *	any other dma-buf, EPERM for an imported one, EBUSY if already exported)
 * @flags: VMBUF_EXPORT_*
 * @naccess: names used in @access
 * @reserved: zero
 * @name: unique in the pool (EEXIST), or empty to share by handle only
 * @access: names of VMs allowed to import
 * @meta: given to importers
 * @handle: out: the export's handle, a capability: whoever holds it and is
 *	allowed can import
 */
struct vmbuf_export {
	__s32 fd;
	__u32 flags;
	__u32 naccess;
	__u32 reserved;
	char name[VMBUF_NAME_MAX];
	char access[VMBUF_MAX_ACCESS][VMBUF_NAME_MAX];
	struct vmbuf_meta meta;
	__u8 handle[VMBUF_HANDLE_SIZE];
};

#define VMBUF_IMPORT_BY_NAME	(1u << 0)

/**
 * struct vmbuf_import - VMBUF_IOC_IMPORT: a new dma-buf over an export's pages
 * @flags: VMBUF_IMPORT_BY_NAME to look up @name in this VM's pools, else @handle
 * @fd_flags: O_CLOEXEC and access mode of the new fd
 * @handle: in: the handle; out: the export's handle
 * @name: in: the name; out: the export's name
 * @fd: out: the dma-buf fd
 * @pool_id: out: the pool
 * @size: out: bytes
 * @owner: out: the exporting VM
 * @meta: out: the exporter's metadata
 *
 * Errors: ENOENT (no such export), EACCES (not allowed), ENXIO (this VM is
 * not a member of the buffer's pool), ENOSPC (import limit).
 */
struct vmbuf_import {
	__u32 flags;
	__u32 fd_flags;
	__u8 handle[VMBUF_HANDLE_SIZE];
	char name[VMBUF_NAME_MAX];
	__s32 fd;
	__u32 pool_id;
	__u64 size;
	char owner[VMBUF_NAME_MAX];
	struct vmbuf_meta meta;
};

/*
 * VMBUF_IOC_REVOKE: withdraw an export this file made (EPERM for another's,
 * unless the file was opened with CAP_SYS_ADMIN); imports stay valid.
 */
struct vmbuf_revoke {
	__u8 handle[VMBUF_HANDLE_SIZE];
};

#define VMBUF_QUERY_EXPORTED	(1u << 0)
#define VMBUF_QUERY_IMPORTED	(1u << 1)
#define VMBUF_QUERY_FAST	(1u << 2)	/* its timeline has a slot in pool memory */

/**
 * struct vmbuf_query - VMBUF_IOC_QUERY: what this guest knows of a vmbuf dma-buf
 * @fd: in: the dma-buf
 * @flags: out: VMBUF_QUERY_*
 * @size: out: bytes
 * @pool_id: out: the pool
 * @reserved: zero
 * @handle: out: the export's handle (exported or imported buffers)
 * @name: out: the export's name
 * @owner: out: the exporting VM (imported buffers)
 * @meta: out: metadata (exported or imported buffers)
 */
struct vmbuf_query {
	__s32 fd;
	__u32 flags;
	__u64 size;
	__u32 pool_id;
	__u32 reserved;
	__u8 handle[VMBUF_HANDLE_SIZE];
	char name[VMBUF_NAME_MAX];
	char owner[VMBUF_NAME_MAX];
	struct vmbuf_meta meta;
};

/* struct vmbuf_event.type */
#define VMBUF_EVENT_OFFERED	1	/* @handle, @name, @vm (exporter), @value: size */
#define VMBUF_EVENT_REVOKED	2	/* @handle, @name, @vm (exporter) */
#define VMBUF_EVENT_PEER_GONE	3	/* @vm disconnected: its exports are revoked */
#define VMBUF_EVENT_TIMELINE	4	/* @handle's timeline reached @value, @error */

/* struct vmbuf_event.flags */
#define VMBUF_EVENT_LOST	(1u << 0)	/* earlier events were dropped */

/**
 * struct vmbuf_event - one record of read() on /dev/vmbuf
 * @type: VMBUF_EVENT_*
 * @flags: VMBUF_EVENT_LOST
 * @handle: the export concerned
 * @pool_id: its pool
 * @error: 0 or a negative errno
 * @value: type-specific
 * @id: type-specific
 * @name: the export's name
 * @vm: the VM concerned
 * @reserved: zero
 */
struct vmbuf_event {
	__u32 type;
	__u32 flags;
	__u8 handle[VMBUF_HANDLE_SIZE];
	__u32 pool_id;
	__s32 error;
	__u64 value;
	__u64 id;
	char name[VMBUF_NAME_MAX];
	char vm[VMBUF_NAME_MAX];
	__u8 reserved[16];
};

/**
 * struct vmbuf_fence - VMBUF_IOC_FENCE: a sync_file for "the timeline of export
 *	@handle reaches @value"
 * @handle: the export (this VM's or one it may import)
 * @value: the point
 * @flags: zero
 * @fd: out: sync_file fd (O_CLOEXEC). Its fence signals when the point is
 *	reached, with the producer's error if any; with -ETIMEDOUT when the
 *	fence timeout passes first; with -ENODEV when the exporting VM or this
 *	device goes away, -ECANCELED when the export is revoked or freed.
 *	The wait lasts as long as somebody holds the fence; closing /dev/vmbuf
 *	does not end it.
 *
 * Errors: EPERM (this file neither exported nor imported @handle, and was
 * not opened with CAP_SYS_ADMIN), ENOSPC (the user's pending fences reached
 * the module's max_fences_per_user, or the VM's max-waiters), ENOENT, EACCES.
 */
struct vmbuf_fence {
	__u8 handle[VMBUF_HANDLE_SIZE];
	__u64 value;
	__u32 flags;
	__s32 fd;
};

/**
 * struct vmbuf_signal - VMBUF_IOC_SIGNAL: advance the timeline of @handle
 * @handle: the export
 * @value: greater than the current value (EINVAL otherwise)
 * @error: 0 or a negative errno for consumers to see
 * @wait_fd: -1 to signal now; or a sync_file fd: signal when it completes
 *	(with its error, if any), and return at once
 */
struct vmbuf_signal {
	__u8 handle[VMBUF_HANDLE_SIZE];
	__u64 value;
	__s32 error;
	__s32 wait_fd;
};

/**
 * struct vmbuf_wait - VMBUF_IOC_WAIT: wait in the kernel for @handle's
 *	timeline to reach @value, with no sync_file (the same fence inside;
 *	on a fast timeline it first sleeps up to 10 ms on the pool's doorbell
 *	with no fence at all, and makes the fence only if the point is not
 *	reached by then)
 * @handle: the export (made or imported through this file: EPERM otherwise)
 * @value: the point
 * @timeout_ms: how long to wait; 0 only looks. ETIME when it passes first
 * @flags: zero
 * @error: out: 0 when the point was reached, or its negative errno (the
 *	producer's error, ECANCELED, ENODEV, ETIMEDOUT from the fence timeout)
 * @reserved: zero
 */
struct vmbuf_wait {
	__u8 handle[VMBUF_HANDLE_SIZE];
	__u64 value;
	__u32 timeout_ms;
	__u32 flags;
	__s32 error;
	__u32 reserved;
};

/**
 * struct vmbuf_attach - VMBUF_IOC_ATTACH: make a vmbuf dma-buf's implicit sync
 *	wait for a point of its export's timeline
 * @fd: dma-buf (exported or imported through vmbuf)
 * @flags: zero
 * @value: the point; a write fence is added to the buffer's reservation
 *	object, so poll() and DMA_BUF_IOCTL_EXPORT_SYNC_FILE wait for it
 */
struct vmbuf_attach {
	__s32 fd;
	__u32 flags;
	__u64 value;
};

/**
 * struct vmbuf_doorbell - VMBUF_IOC_DOORBELL: raw doorbells of a pool device
 *	(no daemon in the path; for latency baselines and tests)
 * @pool_id: the pool
 * @peer: ring this peer (its IVPosition, see VMBUF_IOC_INFO); 0: do not ring
 * @timeout_ms: then, if non-zero, wait up to this long for @count to move
 * @count: in: the count last seen; out: interrupts this pool device received
 */
struct vmbuf_doorbell {
	__u32 pool_id;
	__u32 peer;
	__u32 timeout_ms;
	__u32 reserved;
	__u64 count;
};

#define VMBUF_IOC_MAGIC		0xB7
#define VMBUF_IOC_INFO		_IOR(VMBUF_IOC_MAGIC, 0x00, struct vmbuf_info)
#define VMBUF_IOC_EXPORT	_IOWR(VMBUF_IOC_MAGIC, 0x01, struct vmbuf_export)
#define VMBUF_IOC_IMPORT	_IOWR(VMBUF_IOC_MAGIC, 0x02, struct vmbuf_import)
#define VMBUF_IOC_REVOKE	_IOW(VMBUF_IOC_MAGIC, 0x03, struct vmbuf_revoke)
#define VMBUF_IOC_QUERY		_IOWR(VMBUF_IOC_MAGIC, 0x04, struct vmbuf_query)
#define VMBUF_IOC_FENCE		_IOWR(VMBUF_IOC_MAGIC, 0x05, struct vmbuf_fence)
#define VMBUF_IOC_SIGNAL	_IOW(VMBUF_IOC_MAGIC, 0x06, struct vmbuf_signal)
#define VMBUF_IOC_ATTACH	_IOW(VMBUF_IOC_MAGIC, 0x07, struct vmbuf_attach)
#define VMBUF_IOC_DOORBELL	_IOWR(VMBUF_IOC_MAGIC, 0x08, struct vmbuf_doorbell)
#define VMBUF_IOC_WAIT		_IOWR(VMBUF_IOC_MAGIC, 0x09, struct vmbuf_wait)

#endif /* _UAPI_LINUX_VMBUF_H */
