/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * virtio-vmbuf: the device protocol between the guest driver (vmbuf.ko) and
 * the device (vmbufd). One header, shared by the kernel module, the daemon,
 * the tests and the tools; docs/protocol.md is the prose specification.
 *
 * Everything is little-endian. Every region (the per-VM control region and
 * each pool) starts with struct virtio_vmbuf_region. The control region also
 * holds struct virtio_vmbuf_ctl_cfg at VIRTIO_VMBUF_CTL_CFG_OFFSET, and the
 * two split virtqueues (control, event) plus their buffers anywhere at or
 * above data_offset; descriptor addresses are byte offsets into that region.
 *
 * Control messages start with struct virtio_vmbuf_hdr; every request gets
 * exactly one response starting with struct virtio_vmbuf_resp, whose status
 * is 0 or a negative Linux errno.
 */
#ifndef _UAPI_LINUX_VIRTIO_VMBUF_H
#define _UAPI_LINUX_VIRTIO_VMBUF_H

#include <linux/types.h>

#define VIRTIO_VMBUF_MAGIC		0x46424d56u	/* "VMBF" */
#define VIRTIO_VMBUF_VERSION		1

/* struct virtio_vmbuf_region.kind */
#define VIRTIO_VMBUF_KIND_CTL		1
#define VIRTIO_VMBUF_KIND_POOL		2

#define VIRTIO_VMBUF_NAME_MAX		32	/* including the NUL */
#define VIRTIO_VMBUF_MAX_POOLS		16	/* pools one VM can see */
#define VIRTIO_VMBUF_MSG_MAX		1024	/* largest request or response */
#define VIRTIO_VMBUF_QUEUE_MAX		1024	/* largest ring the device accepts */

/* Fixed sizes and placement. */
#define VIRTIO_VMBUF_CTL_SIZE		(1u << 20)	/* control region, bytes */
#define VIRTIO_VMBUF_CTL_CFG_OFFSET	256
#define VIRTIO_VMBUF_CTL_DATA_OFFSET	4096
#define VIRTIO_VMBUF_POOL_DATA_OFFSET	4096
#define VIRTIO_VMBUF_POOL_MIN		(2u << 20)	/* pools are powers of two >= 2 MiB */

/* Virtqueues of the control device. */
#define VIRTIO_VMBUF_VQ_CTL		0
#define VIRTIO_VMBUF_VQ_EVENT		1
#define VIRTIO_VMBUF_NUM_VQS		2

/*
 * ivshmem doorbell vectors of the control device. The guest rings the
 * daemon's peer id with these; the daemon interrupts the guest on them.
 */
#define VIRTIO_VMBUF_VEC_CTL		0	/* control queue: request / response */
#define VIRTIO_VMBUF_VEC_EVENT		1	/* event queue: buffers / events */
#define VIRTIO_VMBUF_VEC_CONFIG		2	/* status change / state change */
#define VIRTIO_VMBUF_CTL_VECTORS	3
#define VIRTIO_VMBUF_POOL_VECTORS	1	/* pool devices: VM-to-VM doorbell */
#define VIRTIO_VMBUF_DAEMON_PEER	0	/* the daemon's ivshmem peer id */

/**
 * struct virtio_vmbuf_region - header at offset 0 of every region
 * @magic: VIRTIO_VMBUF_MAGIC; the guest binds only devices carrying it
 * @version: VIRTIO_VMBUF_VERSION
 * @kind: VIRTIO_VMBUF_KIND_CTL or VIRTIO_VMBUF_KIND_POOL
 * @size: size of the region in bytes (a power of two)
 * @data_offset: first byte the driver (ctl) or the allocator (pool) uses
 * @pool_id: pool id (pool regions), 0 (control regions)
 * @vectors: doorbell vectors the daemon provides for this device
 * @name: pool name or VM name, NUL-padded
 * @reserved: zero
 *
 * Written by the daemon when the region is created. Every member of a pool
 * can write the pool's header, so a guest trusts only what the HELLO
 * response (received through its private control region) says.
 */
struct virtio_vmbuf_region {
	__le32 magic;
	__le16 version;
	__le16 kind;
	__le64 size;
	__le64 data_offset;
	__le32 pool_id;
	__le32 vectors;
	char name[VIRTIO_VMBUF_NAME_MAX];
	__le64 reserved[4];
};

/**
 * struct virtio_vmbuf_queue_cfg - one virtqueue, written by the driver
 * @size: entries, a power of two in 1..VIRTIO_VMBUF_QUEUE_MAX
 * @enable: 1 to use the queue
 * @reserved: zero
 * @desc: offset of the descriptor table (16-byte aligned)
 * @avail: offset of the available ring (2-byte aligned)
 * @used: offset of the used ring (4-byte aligned)
 */
struct virtio_vmbuf_queue_cfg {
	__le16 size;
	__le16 enable;
	__le32 reserved;
	__le64 desc;
	__le64 avail;
	__le64 used;
};

/* struct virtio_vmbuf_ctl_cfg.device_state */
#define VIRTIO_VMBUF_STATE_RESET	0
#define VIRTIO_VMBUF_STATE_LIVE		1
#define VIRTIO_VMBUF_STATE_BROKEN	2

/**
 * struct virtio_vmbuf_ctl_cfg - control device configuration
 * @driver_status: driver writes VIRTIO_CONFIG_S_* bits, then rings
 *	VIRTIO_VMBUF_VEC_CONFIG; 0 resets the device (the VM's buffers are freed)
 * @reserved0: zero
 * @queues: the driver's virtqueue layout, read when DRIVER_OK is set
 * @device_state: written by the device: VIRTIO_VMBUF_STATE_*
 * @device_error: written by the device: 0, or why it is broken (negative errno)
 * @generation: written by the device: bumped on every state change
 * @reserved1: zero
 *
 * The device copies what it needs when the driver rings the config vector,
 * and never reads these fields again until the next ring: later writes by
 * the guest change nothing.
 */
struct virtio_vmbuf_ctl_cfg {
	__le32 driver_status;
	__le32 reserved0;
	struct virtio_vmbuf_queue_cfg queues[VIRTIO_VMBUF_NUM_VQS];
	__le32 device_state;
	__le32 device_error;
	__le32 generation;
	__le32 reserved1;
};

/* Request types (struct virtio_vmbuf_hdr.type). */
enum virtio_vmbuf_type {
	VIRTIO_VMBUF_REQ_HELLO = 1,
	VIRTIO_VMBUF_REQ_ALLOC = 2,
	VIRTIO_VMBUF_REQ_FREE = 3,
	VIRTIO_VMBUF_REQ_EXPORT = 4,
	VIRTIO_VMBUF_REQ_IMPORT = 5,
	VIRTIO_VMBUF_REQ_RELEASE = 6,
	VIRTIO_VMBUF_REQ_REVOKE = 7,
	VIRTIO_VMBUF_REQ_TIMELINE_CREATE = 8,	/* reserved: standalone timelines */
	VIRTIO_VMBUF_REQ_SIGNAL = 9,
	VIRTIO_VMBUF_REQ_WATCH = 10,
};

/**
 * struct virtio_vmbuf_hdr - start of every request
 * @type: enum virtio_vmbuf_type
 * @flags: zero
 * @id: chosen by the driver, echoed in the response
 */
struct virtio_vmbuf_hdr {
	__le32 type;
	__le32 flags;
	__le64 id;
};

/**
 * struct virtio_vmbuf_resp - start of every response
 * @type: the request's type
 * @status: 0 or a negative Linux errno (two's complement)
 * @id: the request's id
 */
struct virtio_vmbuf_resp {
	__le32 type;
	__le32 status;
	__le64 id;
};

/* HELLO: first request after DRIVER_OK. */
#define VIRTIO_VMBUF_F_NONE		0

struct virtio_vmbuf_hello {
	struct virtio_vmbuf_hdr hdr;
	__le32 version;
	__le32 reserved;
	__le64 features;
};

/**
 * struct virtio_vmbuf_pool_info - a pool the VM is a member of
 * @pool_id: id used in ALLOC
 * @position: the ivshmem peer id (IVPosition) the daemon gave this VM on the
 *	pool's device; the guest matches devices by it, not by the region header
 * @flags: zero
 * @size: pool size in bytes
 * @data_offset: first allocatable byte
 * @name: pool name
 */
struct virtio_vmbuf_pool_info {
	__le32 pool_id;
	__le16 position;
	__le16 flags;
	__le64 size;
	__le64 data_offset;
	char name[VIRTIO_VMBUF_NAME_MAX];
};

struct virtio_vmbuf_hello_resp {
	struct virtio_vmbuf_resp resp;
	__le32 version;
	__le32 npools;
	__le64 features;
	__le64 quota_bytes;	/* 0: no quota */
	__le32 fence_timeout_ms;	/* the longest a guest lets a cross-VM fence wait */
	__le32 reserved;
	char vm_name[VIRTIO_VMBUF_NAME_MAX];
	struct virtio_vmbuf_pool_info pools[VIRTIO_VMBUF_MAX_POOLS];
};

/* ALLOC: size is rounded up to a page by the device; memory reads as zero. */
struct virtio_vmbuf_alloc {
	struct virtio_vmbuf_hdr hdr;
	__le32 pool_id;
	__le32 flags;	/* zero */
	__le64 size;
};

struct virtio_vmbuf_alloc_resp {
	struct virtio_vmbuf_resp resp;
	__le64 buffer_id;
	__le64 offset;
	__le64 size;
};

/* FREE: the response carries no payload. */
struct virtio_vmbuf_free {
	struct virtio_vmbuf_hdr hdr;
	__le64 buffer_id;
};

/**
 * struct virtio_vmbuf_meta - what an exporter says about a buffer (opaque to
 * the device, returned verbatim on import)
 * @width: pixels
 * @height: pixels
 * @fourcc: DRM fourcc (drm_fourcc.h), 0 for none
 * @nplanes: planes used in @offsets and @strides (0..4)
 * @modifier: DRM format modifier
 * @offsets: plane offsets in bytes
 * @strides: plane strides in bytes
 * @label: free-form, NUL-padded
 * @reserved: zero
 */
struct virtio_vmbuf_meta {
	__le32 width;
	__le32 height;
	__le32 fourcc;
	__le32 nplanes;
	__le64 modifier;
	__le32 offsets[4];
	__le32 strides[4];
	char label[64];
	__u8 reserved[136];
};

#define VIRTIO_VMBUF_HANDLE_SIZE	16
#define VIRTIO_VMBUF_MAX_ACCESS		8

/* EXPORT flags: who may import, besides the VMs listed by name. */
#define VIRTIO_VMBUF_EXPORT_POOL	(1u << 0)	/* every member of the buffer's pool */
#define VIRTIO_VMBUF_EXPORT_HOST	(1u << 1)	/* host clients (host.sock) */
#define VIRTIO_VMBUF_EXPORT_SIGNAL	(1u << 2)	/* importers may signal its timeline */
#define VIRTIO_VMBUF_EXPORT_FLAGS	(VIRTIO_VMBUF_EXPORT_POOL | VIRTIO_VMBUF_EXPORT_HOST | \
					 VIRTIO_VMBUF_EXPORT_SIGNAL)

/**
 * struct virtio_vmbuf_export - share a buffer this VM allocated
 * @hdr: type VIRTIO_VMBUF_REQ_EXPORT
 * @buffer_id: from ALLOC
 * @flags: VIRTIO_VMBUF_EXPORT_*
 * @naccess: entries used in @access
 * @name: unique among the pool's live exports, or empty for handle-only
 * @access: VM names allowed to import
 * @meta: returned to importers
 */
struct virtio_vmbuf_export {
	struct virtio_vmbuf_hdr hdr;
	__le64 buffer_id;
	__le32 flags;
	__le32 naccess;
	char name[VIRTIO_VMBUF_NAME_MAX];
	char access[VIRTIO_VMBUF_MAX_ACCESS][VIRTIO_VMBUF_NAME_MAX];
	struct virtio_vmbuf_meta meta;
};

struct virtio_vmbuf_export_resp {
	struct virtio_vmbuf_resp resp;
	__u8 handle[VIRTIO_VMBUF_HANDLE_SIZE];
};

#define VIRTIO_VMBUF_IMPORT_BY_NAME	(1u << 0)

/**
 * struct virtio_vmbuf_import - get a reference to an exported buffer
 * @hdr: type VIRTIO_VMBUF_REQ_IMPORT
 * @flags: VIRTIO_VMBUF_IMPORT_BY_NAME to use @name, else @handle
 * @reserved: zero
 * @handle: the export's handle
 * @name: the export's name, looked up in the pools of the importing VM
 */
struct virtio_vmbuf_import {
	struct virtio_vmbuf_hdr hdr;
	__le32 flags;
	__le32 reserved;
	__u8 handle[VIRTIO_VMBUF_HANDLE_SIZE];
	char name[VIRTIO_VMBUF_NAME_MAX];
};

struct virtio_vmbuf_import_resp {
	struct virtio_vmbuf_resp resp;
	__le64 import_id;
	__le64 offset;
	__le64 size;
	__le32 pool_id;
	__le32 reserved;
	__u8 handle[VIRTIO_VMBUF_HANDLE_SIZE];
	char owner[VIRTIO_VMBUF_NAME_MAX];
	char name[VIRTIO_VMBUF_NAME_MAX];
	struct virtio_vmbuf_meta meta;
};

/* RELEASE: drop an import; the response carries no payload. */
struct virtio_vmbuf_release {
	struct virtio_vmbuf_hdr hdr;
	__le64 import_id;
};

/* REVOKE: the owner withdraws an export; existing imports stay valid. */
struct virtio_vmbuf_revoke {
	struct virtio_vmbuf_hdr hdr;
	__u8 handle[VIRTIO_VMBUF_HANDLE_SIZE];
};

/**
 * struct virtio_vmbuf_signal - advance the timeline of an export
 * @hdr: type VIRTIO_VMBUF_REQ_SIGNAL
 * @handle: the export
 * @value: new value, greater than the current one
 * @error: 0, or a negative errno the producer reports with this point
 * @flags: zero
 */
struct virtio_vmbuf_signal {
	struct virtio_vmbuf_hdr hdr;
	__u8 handle[VIRTIO_VMBUF_HANDLE_SIZE];
	__le64 value;
	__le32 error;
	__le32 flags;
};

/**
 * struct virtio_vmbuf_watch - be told when an export's timeline reaches @value
 * @hdr: type VIRTIO_VMBUF_REQ_WATCH
 * @handle: the export
 * @value: the point to wait for
 */
struct virtio_vmbuf_watch {
	struct virtio_vmbuf_hdr hdr;
	__u8 handle[VIRTIO_VMBUF_HANDLE_SIZE];
	__le64 value;
};

/**
 * struct virtio_vmbuf_timeline_resp - answer to SIGNAL and WATCH
 * @resp: status
 * @value: the timeline's value now
 * @error: the error signalled with @value
 * @reached: WATCH: 1 when @value already satisfies the watch (no event follows)
 */
struct virtio_vmbuf_timeline_resp {
	struct virtio_vmbuf_resp resp;
	__le64 value;
	__le32 error;
	__le32 reached;
};

/* Events, device to driver on the event queue, one per writable buffer. */
enum virtio_vmbuf_event_type {
	VIRTIO_VMBUF_EVT_OFFERED = 1,		/* @handle, @name, @vm: exporter, @value: size */
	VIRTIO_VMBUF_EVT_REVOKED = 2,		/* @handle, @name, @vm: exporter */
	VIRTIO_VMBUF_EVT_PEER_GONE = 3,		/* @vm: the VM that disconnected */
	VIRTIO_VMBUF_EVT_TIMELINE_REACHED = 4,	/* @handle, @value reached, @error */
};

/* struct virtio_vmbuf_event.flags */
#define VIRTIO_VMBUF_EVT_F_LOST		(1u << 0)	/* events were dropped before this one */

/**
 * struct virtio_vmbuf_event - one event
 * @type: enum virtio_vmbuf_event_type
 * @flags: VIRTIO_VMBUF_EVT_F_*
 * @handle: the export concerned
 * @pool_id: its pool
 * @error: 0 or a negative errno
 * @value: type-specific
 * @id: type-specific
 * @name: the export's name
 * @vm: the VM concerned
 * @reserved: zero
 */
struct virtio_vmbuf_event {
	__le32 type;
	__le32 flags;
	__u8 handle[VIRTIO_VMBUF_HANDLE_SIZE];
	__le32 pool_id;
	__le32 error;
	__le64 value;
	__le64 id;
	char name[VIRTIO_VMBUF_NAME_MAX];
	char vm[VIRTIO_VMBUF_NAME_MAX];
	__u8 reserved[16];
};

/* Layout checks: these structs are ABI. */
_Static_assert(sizeof(struct virtio_vmbuf_region) == 96, "region header");
_Static_assert(sizeof(struct virtio_vmbuf_queue_cfg) == 32, "queue cfg");
_Static_assert(sizeof(struct virtio_vmbuf_ctl_cfg) == 88, "ctl cfg");
_Static_assert(sizeof(struct virtio_vmbuf_hdr) == 16, "hdr");
_Static_assert(sizeof(struct virtio_vmbuf_resp) == 16, "resp");
_Static_assert(sizeof(struct virtio_vmbuf_hello) == 32, "hello");
_Static_assert(sizeof(struct virtio_vmbuf_pool_info) == 56, "pool info");
_Static_assert(sizeof(struct virtio_vmbuf_hello_resp) == 80 + 16 * 56, "hello resp");
_Static_assert(sizeof(struct virtio_vmbuf_hello_resp) <= VIRTIO_VMBUF_MSG_MAX, "msg max");
_Static_assert(sizeof(struct virtio_vmbuf_alloc) == 32, "alloc");
_Static_assert(sizeof(struct virtio_vmbuf_alloc_resp) == 40, "alloc resp");
_Static_assert(sizeof(struct virtio_vmbuf_free) == 24, "free");
_Static_assert(sizeof(struct virtio_vmbuf_meta) == 256, "meta");
_Static_assert(sizeof(struct virtio_vmbuf_export) == 576, "export");
_Static_assert(sizeof(struct virtio_vmbuf_export) <= VIRTIO_VMBUF_MSG_MAX, "export fits");
_Static_assert(sizeof(struct virtio_vmbuf_export_resp) == 32, "export resp");
_Static_assert(sizeof(struct virtio_vmbuf_import) == 72, "import");
_Static_assert(sizeof(struct virtio_vmbuf_import_resp) == 384, "import resp");
_Static_assert(sizeof(struct virtio_vmbuf_release) == 24, "release");
_Static_assert(sizeof(struct virtio_vmbuf_revoke) == 32, "revoke");
_Static_assert(sizeof(struct virtio_vmbuf_event) == 128, "event");
_Static_assert(sizeof(struct virtio_vmbuf_signal) == 48, "signal");
_Static_assert(sizeof(struct virtio_vmbuf_watch) == 40, "watch");
_Static_assert(sizeof(struct virtio_vmbuf_timeline_resp) == 32, "timeline resp");
_Static_assert(__builtin_offsetof(struct virtio_vmbuf_region, name) == 32, "name");
_Static_assert(__builtin_offsetof(struct virtio_vmbuf_ctl_cfg, device_state) == 72, "state");
_Static_assert(VIRTIO_VMBUF_CTL_CFG_OFFSET + sizeof(struct virtio_vmbuf_ctl_cfg) <=
	       VIRTIO_VMBUF_CTL_DATA_OFFSET, "ctl cfg fits below data");

#endif /* _UAPI_LINUX_VIRTIO_VMBUF_H */
