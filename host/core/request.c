/*
 * request - where every virtio-vmbuf request enters the core.
 *
 * core_vm_request() copies the request into an aligned private buffer,
 * checks the header (length, flags, HELLO first) and the minimum length the
 * table gives for its type, then calls the type's handler; the handler
 * checks every field and the VM's rights before it changes anything. The
 * response always starts with the request's type and id and a status.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "core-internal.h"
#include "util.h"

struct request_type {
	const char *name;
	size_t min_len;
	ssize_t (*handler)(struct core_vm *vm, const void *req, void *out);
};

static const struct request_type requests[] = {
	[VIRTIO_VMBUF_REQ_HELLO] = { "HELLO", sizeof(struct virtio_vmbuf_hello), core_req_hello },
	[VIRTIO_VMBUF_REQ_ALLOC] = { "ALLOC", sizeof(struct virtio_vmbuf_alloc), buffer_req_alloc },
	[VIRTIO_VMBUF_REQ_FREE] = { "FREE", sizeof(struct virtio_vmbuf_free), buffer_req_free },
	[VIRTIO_VMBUF_REQ_EXPORT] = { "EXPORT", sizeof(struct virtio_vmbuf_export),
				      share_req_export },
	[VIRTIO_VMBUF_REQ_IMPORT] = { "IMPORT", sizeof(struct virtio_vmbuf_import),
				      share_req_import },
	[VIRTIO_VMBUF_REQ_RELEASE] = { "RELEASE", sizeof(struct virtio_vmbuf_release),
				       share_req_release },
	[VIRTIO_VMBUF_REQ_REVOKE] = { "REVOKE", sizeof(struct virtio_vmbuf_revoke),
				      share_req_revoke },
	[VIRTIO_VMBUF_REQ_TIMELINE_CREATE] = { "TIMELINE_CREATE", 0, NULL },	/* reserved */
	[VIRTIO_VMBUF_REQ_SIGNAL] = { "SIGNAL", sizeof(struct virtio_vmbuf_signal),
				      signal_req_signal },
	[VIRTIO_VMBUF_REQ_WATCH] = { "WATCH", sizeof(struct virtio_vmbuf_watch), signal_req_watch },
	[VIRTIO_VMBUF_REQ_QUERY] = { "QUERY", sizeof(struct virtio_vmbuf_query), signal_req_query },
	[VIRTIO_VMBUF_REQ_UNWATCH] = { "UNWATCH", sizeof(struct virtio_vmbuf_watch),
				       signal_req_unwatch },
	[VIRTIO_VMBUF_REQ_BYE] = { "BYE", sizeof(struct virtio_vmbuf_hdr), core_req_bye },
};

static const char *const events[] = {
	[VIRTIO_VMBUF_EVT_OFFERED] = "OFFERED",
	[VIRTIO_VMBUF_EVT_REVOKED] = "REVOKED",
	[VIRTIO_VMBUF_EVT_PEER_GONE] = "PEER_GONE",
	[VIRTIO_VMBUF_EVT_TIMELINE_REACHED] = "TIMELINE_REACHED",
};

const char *core_request_name(uint32_t type)
{
	return type < ARRAY_SIZE(requests) && requests[type].name ? requests[type].name :
								      "unknown";
}

const char *core_event_name(uint32_t type)
{
	return type < ARRAY_SIZE(events) && events[type] ? events[type] : "unknown";
}

static ssize_t request_dispatch(struct core_vm *vm, uint32_t type, const void *in, size_t len,
				void *out)
{
	const struct request_type *t = type < ARRAY_SIZE(requests) ? &requests[type] : NULL;

	if (type != VIRTIO_VMBUF_REQ_HELLO && !vm->hello)
		return -EPROTO;
	if (!t || !t->handler)
		return -EOPNOTSUPP;
	if (len < t->min_len)
		return -EBADMSG;
	return t->handler(vm, in, out);
}

size_t core_vm_request(struct core_vm *vm, const void *req, size_t len, void *resp, size_t cap)
{
	/* Aligned private copies: the handlers cast, the caller's bytes may be anywhere. */
	union {
		struct virtio_vmbuf_hdr h;
		uint64_t align;
		uint8_t b[VIRTIO_VMBUF_MSG_MAX];
	} in = { 0 }, out = { 0 };
	struct virtio_vmbuf_resp *r = (void *)out.b;
	size_t rlen;
	uint32_t type;
	ssize_t n;

	memcpy(in.b, req, len < sizeof(in.b) ? len : sizeof(in.b));
	type = le32toh(in.h.type);
	r->type = in.h.type;
	r->id = in.h.id;

	if (len > sizeof(in.b))
		n = -EMSGSIZE;
	else if (len < sizeof(in.h) || in.h.flags)
		n = -EBADMSG;
	else
		n = request_dispatch(vm, type, in.b, len, out.b);
	if (n == -EAGAIN)
		return 0;	/* nothing changed: the transport hands it in again */
	vm->counters.requests++;
	vm->counters.errors += n < 0;
	if (n < 0) {
		r->status = htole32((uint32_t)(int32_t)n);
		/* A HELLO of another version still learns ours. */
		rlen = type == VIRTIO_VMBUF_REQ_HELLO && n == -EPROTONOSUPPORT ?
			       sizeof(struct virtio_vmbuf_hello_resp) : sizeof(*r);
	} else {
		r->status = 0;
		rlen = (size_t)n;
	}
	if (rlen > cap)
		rlen = cap;
	memcpy(resp, out.b, rlen);
	return rlen;
}
