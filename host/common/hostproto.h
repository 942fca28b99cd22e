/*
 * hostproto - wire format of /run/vmbuf/host.sock (SOCK_SEQPACKET), shared
 * by vmbufd and vmbufctl. One request per packet; the answer is one or more
 * packets, each a struct vmbuf_host_resp followed by @len payload bytes,
 * all but the last flagged VMBUF_HOST_RESP_MORE. Host byte order (local).
 */
#ifndef VMBUF_HOSTPROTO_H
#define VMBUF_HOSTPROTO_H

#include <stdint.h>

#define VMBUF_HOST_SOCK "host.sock"
#define VMBUF_HOST_PAYLOAD_MAX 65536

enum vmbuf_host_op {
	VMBUF_HOST_STATUS = 1,	/* payload: JSON (docs/vmbufctl.md) */
	VMBUF_HOST_READ = 2,	/* root only: @len bytes of pool @name at @offset */
	/*
	 * One virtio-vmbuf request of @len bytes follows the header; the answer's
	 * payload is the response. The client acts as a VM named "host" that is a
	 * member of every pool (docs/protocol.md).
	 */
	VMBUF_HOST_REQUEST = 3,
	/* The memfd of pool @name, attached with SCM_RIGHTS; payload: its size (u64). */
	VMBUF_HOST_POOL_FD = 4,
	/*
	 * The configuration at run time (docs/vmbufctl.md): the VM or pool
	 * (@offset: VMBUF_HOST_KIND_*) called @name. ADD and SET carry a drop-in's
	 * text (@len bytes, at most VMBUF_HOST_CONFIG_TEXT_MAX) after the header;
	 * SET replaces a drop-in of that name, ADD refuses a name in use (EEXIST).
	 * REMOVE takes away what ADD or SET made; RELOAD reads the files again (as
	 * SIGHUP does). The answer's payload is a one-line message: what changed,
	 * or why nothing did.
	 */
	VMBUF_HOST_CONFIG_ADD = 5,
	VMBUF_HOST_CONFIG_SET = 6,
	VMBUF_HOST_CONFIG_REMOVE = 7,
	VMBUF_HOST_CONFIG_RELOAD = 8,
};

#define VMBUF_HOST_KIND_VM 1
#define VMBUF_HOST_KIND_POOL 2
#define VMBUF_HOST_CONFIG_TEXT_MAX 4096

#define VMBUF_HOST_REQUEST_MAX 1024	/* VIRTIO_VMBUF_MSG_MAX */

struct vmbuf_host_req {
	uint32_t op;
	uint32_t flags;		/* zero */
	uint64_t offset;
	uint64_t len;
	char name[32];
};

#define VMBUF_HOST_RESP_MORE 1u
/* Unsolicited, between answers: the payload is one struct virtio_vmbuf_event. */
#define VMBUF_HOST_RESP_EVENT 2u

struct vmbuf_host_resp {
	int32_t status;		/* 0 or negative errno */
	uint32_t flags;
	uint32_t len;
	uint32_t reserved;
};

_Static_assert(sizeof(struct vmbuf_host_req) == 56, "vmbuf_host_req");
_Static_assert(sizeof(struct vmbuf_host_resp) == 16, "vmbuf_host_resp");

#endif
