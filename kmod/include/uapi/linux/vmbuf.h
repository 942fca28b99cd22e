/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * vmbuf guest UAPI: ioctls of /dev/vmbuf. Buffers themselves are allocated
 * through the standard dma-heap UAPI on /dev/dma_heap/vmbuf-<pool>.
 *
 * The ioctl magic 0xB7 is not registered in Linux's ioctl-number.rst.
 * All structs are free of implicit padding; sizes are asserted below.
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
 * @reserved: zero
 * @name: pool name
 */
struct vmbuf_pool_desc {
	__u32 pool_id;
	__u32 flags;
	__u64 size;
	__u64 used;
	__u32 buffers;
	__u32 reserved;
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

#define VMBUF_IOC_MAGIC		0xB7
#define VMBUF_IOC_INFO		_IOR(VMBUF_IOC_MAGIC, 0x00, struct vmbuf_info)

_Static_assert(sizeof(struct vmbuf_pool_desc) == 64, "vmbuf_pool_desc");
_Static_assert(sizeof(struct vmbuf_info) == 48 + 16 * 64, "vmbuf_info");

#endif /* _UAPI_LINUX_VMBUF_H */
