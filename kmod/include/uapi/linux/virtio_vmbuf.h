/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * virtio-vmbuf: the device protocol between the guest driver (vmbuf.ko) and
 * the device (vmbufd), whatever carries it. One header, shared by the kernel
 * module, the daemon, the tests and the tools; docs/protocol.md is the prose
 * specification. How a transport lays the device out lives beside it:
 * linux/vmbuf_ivshmem.h for ivshmem (transport T1).
 *
 * Everything is little-endian. The device has two split virtqueues
 * (VIRTIO_VMBUF_VQ_CTL: requests from the driver, one response each;
 * VIRTIO_VMBUF_VQ_EVENT: buffers the driver posts, filled with events).
 * Control messages start with struct virtio_vmbuf_hdr; every request gets
 * exactly one response starting with struct virtio_vmbuf_resp, whose status
 * is 0 or a negative Linux errno.
 */
#ifndef _UAPI_LINUX_VIRTIO_VMBUF_H
#define _UAPI_LINUX_VIRTIO_VMBUF_H

#include <linux/types.h>

#define VIRTIO_VMBUF_VERSION		2

#define VIRTIO_VMBUF_NAME_MAX		32	/* including the NUL */
#define VIRTIO_VMBUF_MAX_POOLS		16	/* pools one VM can see */
#define VIRTIO_VMBUF_MSG_MAX		1024	/* largest request or response */
#define VIRTIO_VMBUF_QUEUE_MAX		1024	/* largest ring the device accepts */

/* Pools are powers of two >= 2 MiB; the first page is kept for a transport's header. */
#define VIRTIO_VMBUF_POOL_MIN		(2u << 20)
#define VIRTIO_VMBUF_POOL_DATA_OFFSET	4096

/*
 * On virtio transports (vhost-user): the device id, and the configuration
 * space the device shows, which the driver checks before it binds. 37 is
 * VIRTIO_ID_DMABUF in Linux's virtio_ids.h, reserved with no published
 * device specification and no driver; see docs/protocol.md for the choice.
 */
#define VIRTIO_VMBUF_DEVICE_ID		37
#define VIRTIO_VMBUF_CONFIG_MAGIC	0x46424d56u	/* "VMBF" */

/**
 * struct virtio_vmbuf_config - the device's configuration space (read-only)
 * @magic: VIRTIO_VMBUF_CONFIG_MAGIC
 * @version: VIRTIO_VMBUF_VERSION
 * @state: VIRTIO_VMBUF_STATE_*; the device raises a configuration change
 *	interrupt when it becomes VIRTIO_VMBUF_STATE_GONE
 * @reserved: zero
 */
struct virtio_vmbuf_config {
	__le32 magic;
	__le32 version;
	__le32 state;
	__le32 reserved;
};

/* Virtqueues. */
#define VIRTIO_VMBUF_VQ_CTL		0
#define VIRTIO_VMBUF_VQ_EVENT		1
#define VIRTIO_VMBUF_NUM_VQS		2

/*
 * Device states, as the device model sees them: RESET until the driver
 * sets DRIVER_OK with valid queues, LIVE, BROKEN after a protocol
 * violation until the driver resets the device, GONE when the device is
 * going away (the daemon stops): it answers nothing any more, and the
 * driver fails what it waits for with -ENODEV at once. How a transport
 * shows them to the driver is its own (see linux/vmbuf_ivshmem.h).
 */
#define VIRTIO_VMBUF_STATE_RESET	0
#define VIRTIO_VMBUF_STATE_LIVE		1
#define VIRTIO_VMBUF_STATE_BROKEN	2
#define VIRTIO_VMBUF_STATE_GONE		3

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
	VIRTIO_VMBUF_REQ_QUERY = 11,		/* with VIRTIO_VMBUF_F_QUERY */
	VIRTIO_VMBUF_REQ_UNWATCH = 12,		/* with VIRTIO_VMBUF_F_QUERY */
	VIRTIO_VMBUF_REQ_BYE = 13,		/* with VIRTIO_VMBUF_F_SESSION */
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

/*
 * HELLO: first request after DRIVER_OK. The driver sends the features it
 * knows, the device answers those it has: both use what both have.
 */
#define VIRTIO_VMBUF_F_NONE		0
/* QUERY and UNWATCH; TIMELINE_REACHED events coalesced per export (see Events). */
#define VIRTIO_VMBUF_F_QUERY		(1ull << 0)
/*
 * Sessions: a session is what the VM holds from one HELLO on. A second
 * HELLO starts a new one (the old one is released, as at a reset); BYE (a
 * bare header, answered with no payload) ends it while the driver leaves.
 * A transport may stop and restart the queues (a VM paused on vhost-user)
 * without ending it.
 */
#define VIRTIO_VMBUF_F_SESSION		(1ull << 1)
/*
 * Fast timelines: an export with VIRTIO_VMBUF_EXPORT_FAST may get a slot
 * in its pool's first page (struct virtio_vmbuf_fast_slot), where the
 * drivers of its VMs signal and wait without the device (see below).
 * Offered only where the VM maps the whole pool (LOCATOR_IVPOSITION).
 */
#define VIRTIO_VMBUF_F_FAST		(1ull << 2)

struct virtio_vmbuf_hello {
	struct virtio_vmbuf_hdr hdr;
	__le32 version;
	__le32 reserved;
	__le64 features;
};

/* struct virtio_vmbuf_hello_resp.locator_kind: what a pool's @locator means. */
#define VIRTIO_VMBUF_LOCATOR_NONE	0	/* the VM maps no pool (host clients) */
#define VIRTIO_VMBUF_LOCATOR_IVPOSITION	1	/* ivshmem: IVPosition of the pool's device */
/*
 * virtio shared memory region (vhost-user SHMEM): @locator is the region's
 * id; the VM maps no pool, the device maps each buffer the VM allocated or
 * imported into the region, and ALLOC and IMPORT answer with the buffer's
 * offset in the region instead of in the pool.
 */
#define VIRTIO_VMBUF_LOCATOR_SHM	2

/**
 * struct virtio_vmbuf_pool_info - a pool the VM is a member of
 * @pool_id: id used in ALLOC
 * @data_offset: first allocatable byte
 * @locator: where the VM finds the pool's memory, filled in by the transport
 *	(see @locator_kind of the HELLO response). It comes through the VM's
 *	private control path and names something no other VM can forge; the
 *	guest matches pool memory by it, never by bytes inside a pool.
 * @size: pool size in bytes
 * @name: pool name
 */
struct virtio_vmbuf_pool_info {
	__le32 pool_id;
	__le32 data_offset;
	__le64 locator;
	__le64 size;
	char name[VIRTIO_VMBUF_NAME_MAX];
};

struct virtio_vmbuf_hello_resp {
	struct virtio_vmbuf_resp resp;
	__le32 version;
	__le32 npools;
	__le64 features;
	__le64 quota_bytes;	/* 0: no quota */
	__le32 fence_timeout_ms;	/* the longest a guest lets a cross-VM fence wait */
	__le32 locator_kind;	/* VIRTIO_VMBUF_LOCATOR_*, for every pool below */
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
/* The timeline in pool memory too (with VIRTIO_VMBUF_F_FAST; needs EXPORT_SIGNAL). */
#define VIRTIO_VMBUF_EXPORT_FAST	(1u << 3)
#define VIRTIO_VMBUF_EXPORT_FLAGS	(VIRTIO_VMBUF_EXPORT_POOL | VIRTIO_VMBUF_EXPORT_HOST | \
					 VIRTIO_VMBUF_EXPORT_SIGNAL | VIRTIO_VMBUF_EXPORT_FAST)

/*
 * Fast timelines. A pool's first page holds, from VIRTIO_VMBUF_FAST_OFFSET,
 * VIRTIO_VMBUF_FAST_SLOTS slots; EXPORT and IMPORT answer with @fast_slot
 * (index + 1, 0: none) and @fast_tag (the slot's tag while it belongs to
 * this export) where the device gave the export a slot and the VM maps the
 * pool. The device zeroes a slot and writes its tag at EXPORT, zeroes it
 * again when the export ends, and otherwise only sets bit 0 of @waiting
 * (atomically) while it has waiters of its own on the timeline; the rest
 * of the slot is the drivers'. A driver signals a point with no error by
 * raising @value (atomically, only upwards), then taking @waiting (atomic
 * exchange with 0) and ringing the pool doorbell of every VM slot whose bit
 * was set; it sends SIGNAL to the device afterwards, off the waiter's path:
 * at once when bit 0 was set, else when it likes (coalesced). A waiter
 * sets its own bit (the VM slot, the low 8 bits of its pool device's
 * IVPosition) and reads @value again before it sleeps. A signal with an
 * error sets VIRTIO_VMBUF_FAST_F_SLOW first and goes through the device
 * only; from then on drivers ignore the slot. Every member of the pool
 * can write the slot: it is a hint among members who trust each other
 * with the pool's data (docs/security.md); the device's timeline, errors
 * and ENODEV stay as without it.
 */
#define VIRTIO_VMBUF_FAST_OFFSET	512
#define VIRTIO_VMBUF_FAST_SLOTS		74	/* (4096 - 512) / 48 */
#define VIRTIO_VMBUF_FAST_F_SLOW	(1u << 0)

struct virtio_vmbuf_fast_slot {
	__le64 value;
	__le16 tag;
	__le16 reserved;
	__le32 flags;
	__le64 waiting[4];	/* bit n: VM slot n waits; bit 0: the device does */
};

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
	__le16 fast_slot;	/* see Fast timelines; 0: none */
	__le16 fast_tag;
	__le32 reserved;
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
	__le16 fast_slot;	/* see Fast timelines; 0: none */
	__le16 fast_tag;
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
 * struct virtio_vmbuf_query - QUERY: an export's timeline now, no waiting
 * @hdr: type VIRTIO_VMBUF_REQ_QUERY
 * @handle: the export
 *
 * Answered with struct virtio_vmbuf_timeline_resp (@reached 0). A driver
 * that saw VIRTIO_VMBUF_EVT_F_LOST asks it for every point it waits on.
 * UNWATCH (struct virtio_vmbuf_watch) drops one waiter of this VM at exactly
 * @value, for a wait the driver gave up (timed out, cancelled); -ENOENT when
 * there is none (the event is on its way).
 */
struct virtio_vmbuf_query {
	struct virtio_vmbuf_hdr hdr;
	__u8 handle[VIRTIO_VMBUF_HANDLE_SIZE];
};

/**
 * struct virtio_vmbuf_timeline_resp - answer to SIGNAL, WATCH and QUERY
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

#endif /* _UAPI_LINUX_VIRTIO_VMBUF_H */
