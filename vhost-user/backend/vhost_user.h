/*
 * vhost_user - the vhost-user protocol as vmbufd's backend speaks it (QEMU
 * docs/interop/vhost-user.rst): the message header, the request numbers,
 * the feature bits and the payloads of the requests the backend handles.
 * Host byte order (the protocol is native-endian on a Unix socket).
 */
#ifndef VMBUF_VHOST_USER_H
#define VMBUF_VHOST_USER_H

#include <stdint.h>

enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_GET_SHMEM_CONFIG = 44,
	VHOST_USER_REQUEST_MAX = 64,
};

/* Requests of the backend channel (backend to frontend). */
enum vhost_user_backend_request {
	VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,	/* payload none: re-read the config */
	VHOST_USER_BACKEND_SHMEM_MAP = 9,
	VHOST_USER_BACKEND_SHMEM_UNMAP = 10,
};

/* Header flags. */
#define VHOST_USER_VERSION		1u
#define VHOST_USER_VERSION_MASK		3u
#define VHOST_USER_REPLY		(1u << 2)
#define VHOST_USER_NEED_REPLY		(1u << 3)

/* Virtio feature bits the backend offers (GET_FEATURES). */
#define VHOST_USER_F_PROTOCOL_FEATURES	30
#define VHOST_USER_VIRTIO_F_VERSION_1	32

/* Protocol feature bits. */
#define VHOST_USER_PROTOCOL_F_REPLY_ACK		3
#define VHOST_USER_PROTOCOL_F_BACKEND_REQ	5
#define VHOST_USER_PROTOCOL_F_CONFIG		9
#define VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD	10
#define VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS	15
/*
 * Shared memory regions (SHMEM_MAP/UNMAP), as QEMU 11.1.3 of trixie-backports
 * numbers it; the patches proposed upstream said 20, which that build masks
 * off. Not trusted on its own: the backend counts the feature as there only
 * when the frontend, having accepted the bit, also asks GET_SHMEM_CONFIG.
 */
#define VHOST_USER_PROTOCOL_F_SHMEM		22

/* SET_VRING_KICK/CALL/ERR: queue index and "no fd attached". */
#define VHOST_USER_VRING_IDX_MASK	0xffu
#define VHOST_USER_VRING_NOFD		(1u << 8)

#define VHOST_USER_MAX_REGIONS		8	/* SET_MEM_TABLE without CONFIGURE_MEM_SLOTS */
#define VHOST_USER_MAX_SHMEM_REGIONS	256
#define VHOST_USER_MAX_CONFIG		256
#define VHOST_USER_PAYLOAD_MAX		512	/* larger messages are refused */

struct vhost_user_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;		/* payload bytes that follow */
};

struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;		/* frontend (QEMU) virtual addresses */
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vhost_user_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

struct vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_region regions[VHOST_USER_MAX_REGIONS];
};

/* ADD_MEM_REG and REM_MEM_REG: one region (ADD carries its fd). */
struct vhost_user_mem_reg {
	uint64_t padding;
	struct vhost_user_region region;
};

struct vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHOST_USER_MAX_CONFIG];
};

/* GET_SHMEM_CONFIG's reply: the size of each shared memory region (shmid = index). */
struct vhost_user_shmem_config {
	uint32_t nregions;
	uint32_t padding;
	uint64_t memory_sizes[VHOST_USER_MAX_SHMEM_REGIONS];
};

#define VHOST_USER_SHMEM_MAP_RW		(1ull << 0)

/* SHMEM_MAP (with the fd to map) and SHMEM_UNMAP. */
struct vhost_user_shmem_map {
	uint8_t shmid;
	uint8_t padding[7];
	uint64_t fd_offset;
	uint64_t shm_offset;
	uint64_t len;
	uint64_t flags;
};

_Static_assert(sizeof(struct vhost_user_hdr) == 12, "header");
_Static_assert(sizeof(struct vhost_user_shmem_config) == 2056, "shmem config");
_Static_assert(sizeof(struct vhost_user_shmem_map) == 40, "shmem map");
_Static_assert(sizeof(struct vhost_user_vring_addr) == 40, "vring addr");
_Static_assert(sizeof(struct vhost_user_region) == 32, "region");
_Static_assert(sizeof(struct vhost_user_memory) == 8 + 8 * 32, "memory");
_Static_assert(sizeof(struct vhost_user_config) <= VHOST_USER_PAYLOAD_MAX, "config fits");

#endif
