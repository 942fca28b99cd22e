/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * vmbuf over ivshmem (transport T1): how the virtio-vmbuf device of
 * linux/virtio_vmbuf.h is laid out on QEMU's ivshmem-doorbell devices.
 *
 * Per VM one control device: its region (a memfd only this VM and the
 * daemon map) starts with struct vmbuf_ivshmem_region, holds struct
 * vmbuf_ivshmem_ctl_cfg at VMBUF_IVSHMEM_CTL_CFG_OFFSET, and the two split
 * virtqueues plus their buffers anywhere at or above data_offset;
 * descriptor addresses are byte offsets into the region. Notifications are
 * ivshmem doorbells: the driver writes the daemon's peer id and a vector
 * into the doorbell register, the daemon interrupts the driver on the same
 * vector. Per pool one device whose region is the pool's memory (first page:
 * the region header; HELLO's locator is the device's IVPosition).
 */
#ifndef _UAPI_LINUX_VMBUF_IVSHMEM_H
#define _UAPI_LINUX_VMBUF_IVSHMEM_H

#include <linux/types.h>
#include <linux/virtio_vmbuf.h>

#define VMBUF_IVSHMEM_MAGIC		0x46424d56u	/* "VMBF" */

/* struct vmbuf_ivshmem_region.kind */
#define VMBUF_IVSHMEM_KIND_CTL		1
#define VMBUF_IVSHMEM_KIND_POOL		2

/* Control region: size and placement. */
#define VMBUF_IVSHMEM_CTL_SIZE		(1u << 20)
#define VMBUF_IVSHMEM_CTL_CFG_OFFSET	256
#define VMBUF_IVSHMEM_CTL_DATA_OFFSET	4096

/*
 * Doorbell vectors of the control device. The driver rings the daemon's
 * peer id with these; the daemon interrupts the driver on them.
 */
#define VMBUF_IVSHMEM_VEC_CTL		0	/* control queue: request / response */
#define VMBUF_IVSHMEM_VEC_EVENT		1	/* event queue: buffers / events */
#define VMBUF_IVSHMEM_VEC_CONFIG	2	/* status change / state change */
#define VMBUF_IVSHMEM_CTL_VECTORS	3
#define VMBUF_IVSHMEM_POOL_VECTORS	1	/* pool devices: VM-to-VM doorbell */
#define VMBUF_IVSHMEM_DAEMON_PEER	0	/* the daemon's ivshmem peer id */

/*
 * Peer ids, which QEMU shows in the read-only IVPosition register and which
 * come from the daemon's socket, never from guest memory: the guest tells
 * its devices apart by them. The VM's control device has
 * VMBUF_IVSHMEM_CTL_POSITION; a pool device has (pool id << 8) | VM slot,
 * at least VMBUF_IVSHMEM_POOL_POSITION_MIN (pool ids start at 1). A pool
 * device is used only when HELLO names its position as a pool's locator;
 * the region header of a pool, which every member can write, decides
 * nothing.
 */
#define VMBUF_IVSHMEM_CTL_POSITION	1
#define VMBUF_IVSHMEM_POOL_POSITION_MIN	0x100

/* BAR0 registers of an ivshmem device (QEMU docs/specs/ivshmem-spec.rst). */
#define VMBUF_IVSHMEM_REG_INTRMASK	0
#define VMBUF_IVSHMEM_REG_INTRSTATUS	4
#define VMBUF_IVSHMEM_REG_IVPOSITION	8
#define VMBUF_IVSHMEM_REG_DOORBELL	12	/* peer id << 16 | vector */

/**
 * struct vmbuf_ivshmem_region - header at offset 0 of every region
 * @magic: VMBUF_IVSHMEM_MAGIC; the guest binds only devices carrying it
 * @version: VIRTIO_VMBUF_VERSION
 * @kind: VMBUF_IVSHMEM_KIND_CTL or VMBUF_IVSHMEM_KIND_POOL
 * @size: size of the region in bytes (a power of two)
 * @data_offset: first byte the driver (ctl) or the allocator (pool) uses
 * @pool_id: pool id (pool regions), 0 (control regions)
 * @vectors: doorbell vectors the daemon provides for this device
 * @name: pool name or VM name, NUL-padded
 * @reserved: zero
 *
 * Written by the daemon when the region is created. Every member of a pool
 * can write the pool's header, so a guest trusts only what the HELLO
 * response (received through its private control region) says; a control
 * region is private, and its header is checked only on a device whose
 * IVPosition is VMBUF_IVSHMEM_CTL_POSITION.
 */
struct vmbuf_ivshmem_region {
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
 * struct vmbuf_ivshmem_queue_cfg - one virtqueue, written by the driver
 * @size: entries, a power of two in 1..VIRTIO_VMBUF_QUEUE_MAX
 * @enable: 1 to use the queue
 * @reserved: zero
 * @desc: offset of the descriptor table (16-byte aligned)
 * @avail: offset of the available ring (2-byte aligned)
 * @used: offset of the used ring (4-byte aligned)
 */
struct vmbuf_ivshmem_queue_cfg {
	__le16 size;
	__le16 enable;
	__le32 reserved;
	__le64 desc;
	__le64 avail;
	__le64 used;
};

/**
 * struct vmbuf_ivshmem_ctl_cfg - control device configuration
 * @driver_status: driver writes VIRTIO_CONFIG_S_* bits, then rings
 *	VMBUF_IVSHMEM_VEC_CONFIG; 0 resets the device (the VM's buffers are freed)
 * @reserved0: zero
 * @queues: the driver's virtqueue layout, read when DRIVER_OK is set
 * @device_state: written by the device: VIRTIO_VMBUF_STATE_* (linux/virtio_vmbuf.h)
 * @device_error: written by the device: 0, or why it is broken (negative errno)
 * @generation: written by the device: bumped on every state change
 * @reserved1: zero
 *
 * The device copies what it needs when the driver rings the config vector,
 * and never reads these fields again until the next ring: later writes by
 * the guest change nothing.
 */
struct vmbuf_ivshmem_ctl_cfg {
	__le32 driver_status;
	__le32 reserved0;
	struct vmbuf_ivshmem_queue_cfg queues[VIRTIO_VMBUF_NUM_VQS];
	__le32 device_state;
	__le32 device_error;
	__le32 generation;
	__le32 reserved1;
};

#endif /* _UAPI_LINUX_VMBUF_IVSHMEM_H */
