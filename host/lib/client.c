/*
 * client - libvmbuf's connection to host.sock: connect, the framing of
 * requests and answers (hostproto.h), the events that arrive between
 * answers (queued; the watches they complete fire), HELLO and the pools it
 * lists, the status and read requests.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <endian.h>

#include "hostproto.h"
#include "libvmbuf-internal.h"
#include "util.h"

int lib_fail(int r)
{
	errno = -r;
	return -1;
}

struct vmbuf_client *vmbuf_client_connect(const char *socket_dir)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct vmbuf_client *c;
	const char *env = getenv("VMBUF_SOCKET_DIR");
	int r;

	if (!socket_dir)
		socket_dir = env && *env ? env : "/run/vmbuf";
	if (str_printf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", socket_dir,
		       VMBUF_HOST_SOCK) < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_MAX_POOLS; i++)
		c->pools[i].memfd = -1;
	for (unsigned int i = 0; i < WATCHES_MAX; i++)
		c->watches[i].efd = -1;
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		lib_fail(r);
		return NULL;
	}
	return c;
}

void vmbuf_client_disconnect(struct vmbuf_client *c)
{
	if (!c)
		return;
	for (unsigned int i = 0; i < c->npools; i++)
		closep(&c->pools[i].memfd);
	for (unsigned int i = 0; i < WATCHES_MAX; i++)
		closep(&c->watches[i].efd);
	close(c->fd);
	free(c);
}

int vmbuf_client_fd(const struct vmbuf_client *c)
{
	return c->fd;
}

void client_watch_fire(struct watch *w, int error)
{
	uint64_t one = 1;

	w->fired = true;
	w->error = error;
	if (write(w->efd, &one, sizeof(one)) < 0)
		w->error = -EIO;
}

/* A TIMELINE event completes the watches it covers. */
static void fire_watches(struct vmbuf_client *c, const struct virtio_vmbuf_event *e)
{
	if (le32toh(e->type) != VIRTIO_VMBUF_EVT_TIMELINE_REACHED)
		return;
	for (unsigned int i = 0; i < WATCHES_MAX; i++) {
		struct watch *w = &c->watches[i];

		if (w->efd >= 0 && !w->fired && le64toh(e->value) >= w->value &&
		    !memcmp(w->handle, e->handle, sizeof(w->handle)))
			client_watch_fire(w, (int32_t)le32toh(e->error));
	}
}

/* An event arrived: queue it and fire the watches it completes. */
static void client_queue_event(struct vmbuf_client *c, const void *payload, size_t len)
{
	struct virtio_vmbuf_event *e;

	if (c->ev_count == EVENTS_MAX) {
		c->ev_head = (c->ev_head + 1) % EVENTS_MAX;
		c->ev_count--;
		c->ev_lost = true;
	}
	e = &c->events[(c->ev_head + c->ev_count) % EVENTS_MAX];
	memset(e, 0, sizeof(*e));
	memcpy(e, payload, len < sizeof(*e) ? len : sizeof(*e));
	if (c->ev_lost) {
		e->flags |= htole32(VIRTIO_VMBUF_EVT_F_LOST);
		c->ev_lost = false;
	}
	c->ev_count++;
	fire_watches(c, e);
}

/*
 * Receive one packet: an answer (returns its status, payload in @buf, fd in
 * *fd) or, with @event set, an event. Waits up to @timeout_ms.
 */
int client_recv_packet(struct vmbuf_client *c, void *buf, size_t cap, size_t *len, int *fd,
		       bool *event, int timeout_ms)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint8_t pkt[sizeof(struct vmbuf_host_resp) + VIRTIO_VMBUF_MSG_MAX];
	struct iovec iov = { pkt, sizeof(pkt) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			      .msg_controllen = sizeof(ctl.b) };
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	struct vmbuf_host_resp r;
	ssize_t n;

	if (fd)
		*fd = -1;
	n = poll(&p, 1, timeout_ms);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		int got;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(&got, CMSG_DATA(cm), sizeof(got));
		if (fd)
			*fd = got;
		else
			close(got);
	}
	if ((size_t)n < sizeof(r))
		return -EPROTO;
	memcpy(&r, pkt, sizeof(r));
	if (r.len != (size_t)n - sizeof(r))
		return -EPROTO;
	*event = r.flags & VMBUF_HOST_RESP_EVENT;
	if (*event) {
		client_queue_event(c, pkt + sizeof(r), r.len);
		return 0;
	}
	*len = r.len < cap ? r.len : cap;
	memcpy(buf, pkt + sizeof(r), *len);
	return r.status;
}

/* Send one host request (with @payload) and return the answer, queueing events. */
static int host_call(struct vmbuf_client *c, uint32_t op, const char *name, const void *payload,
		     size_t plen, void *resp, size_t cap, size_t *rlen, int *fd)
{
	uint8_t pkt[sizeof(struct vmbuf_host_req) + VIRTIO_VMBUF_MSG_MAX];
	struct vmbuf_host_req req = { .op = op, .len = plen };
	bool event;
	int r;

	if (plen > VIRTIO_VMBUF_MSG_MAX || (name && str_to_field(req.name, sizeof(req.name), name) < 0))
		return -EINVAL;
	memcpy(pkt, &req, sizeof(req));
	if (plen)
		memcpy(pkt + sizeof(req), payload, plen);
	if (send(c->fd, pkt, sizeof(req) + plen, MSG_NOSIGNAL) < 0)
		return -errno;
	do {
		r = client_recv_packet(c, resp, cap, rlen, fd, &event, -1);
	} while (r == 0 && event);
	return r;
}

/* One virtio-vmbuf request as the "host" VM: returns the response's status. */
int client_vm_call(struct vmbuf_client *c, void *req, size_t len, void *resp, size_t cap)
{
	struct virtio_vmbuf_hdr *h = req;
	size_t rlen = 0;
	int r;

	h->id = htole64(++c->next_id);
	memset(resp, 0, cap);
	r = host_call(c, VMBUF_HOST_REQUEST, NULL, req, len, resp, cap, &rlen, NULL);
	if (r < 0)
		return r;
	if (rlen < sizeof(struct virtio_vmbuf_resp))
		return -EPROTO;
	return (int32_t)le32toh(((struct virtio_vmbuf_resp *)resp)->status);
}

int client_hello(struct vmbuf_client *c)
{
	struct virtio_vmbuf_hello req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
					  .version = htole32(VIRTIO_VMBUF_VERSION) };
	struct virtio_vmbuf_hello_resp resp;
	int r;

	if (c->hello)
		return 0;
	r = client_vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	if (r < 0)
		return r;
	c->npools = le32toh(resp.npools);
	if (c->npools > VIRTIO_VMBUF_MAX_POOLS)
		c->npools = VIRTIO_VMBUF_MAX_POOLS;
	for (unsigned int i = 0; i < c->npools; i++) {
		c->pools[i].id = le32toh(resp.pools[i].pool_id);
		field_to_str(c->pools[i].name, resp.pools[i].name, VIRTIO_VMBUF_NAME_MAX);
		c->pools[i].memfd = -1;
	}
	c->hello = true;
	return 0;
}

struct pool_ref *client_pool_by_id(struct vmbuf_client *c, uint32_t id)
{
	for (unsigned int i = 0; i < c->npools; i++)
		if (c->pools[i].id == id)
			return &c->pools[i];
	return NULL;
}

struct pool_ref *client_pool_by_name(struct vmbuf_client *c, const char *name)
{
	for (unsigned int i = 0; i < c->npools; i++)
		if (!strcmp(c->pools[i].name, name))
			return &c->pools[i];
	return NULL;
}

int client_pool_memfd(struct vmbuf_client *c, struct pool_ref *p)
{
	size_t rlen = 0;
	int fd, r;

	if (p->memfd >= 0)
		return p->memfd;
	r = host_call(c, VMBUF_HOST_POOL_FD, p->name, NULL, 0, &p->size, sizeof(p->size), &rlen, &fd);
	if (r < 0)
		return r;
	if (fd < 0 || rlen != sizeof(p->size)) {
		closep(&fd);
		return -EPROTO;
	}
	p->memfd = fd;
	return fd;
}

/* Send @req and collect the answer (all packets) into a malloc'd buffer. */
static int call(struct vmbuf_client *c, const struct vmbuf_host_req *req, char **out,
		size_t *outlen)
{
	_cleanup_free_ char *buf = NULL, *pkt = NULL;
	size_t len = 0;

	if (send(c->fd, req, sizeof(*req), MSG_NOSIGNAL) < 0)
		return -errno;
	pkt = malloc(sizeof(struct vmbuf_host_resp) + VMBUF_HOST_PAYLOAD_MAX);
	if (!pkt)
		return -ENOMEM;
	for (;;) {
		struct vmbuf_host_resp r;
		ssize_t n = recv(c->fd, pkt, sizeof(r) + VMBUF_HOST_PAYLOAD_MAX, 0);
		char *nb;

		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if ((size_t)n < sizeof(r))
			return -EPROTO;
		memcpy(&r, pkt, sizeof(r));
		if (r.len != (size_t)n - sizeof(r))
			return -EPROTO;
		if (r.flags & VMBUF_HOST_RESP_EVENT) {
			/* Events come between answers (PEER_GONE, ...): keep them for later. */
			client_queue_event(c, pkt + sizeof(r), r.len);
			continue;
		}
		if (r.status < 0)
			return r.status;
		nb = realloc(buf, len + r.len + 1);
		if (!nb)
			return -ENOMEM;
		buf = nb;
		memcpy(buf + len, pkt + sizeof(r), r.len);
		len += r.len;
		buf[len] = '\0';
		if (!(r.flags & VMBUF_HOST_RESP_MORE))
			break;
	}
	*out = ptr_steal(&buf);
	*outlen = len;
	return 0;
}

char *vmbuf_client_status_json(struct vmbuf_client *c)
{
	struct vmbuf_host_req req = { .op = VMBUF_HOST_STATUS };
	char *json = NULL;
	size_t len;
	int r = call(c, &req, &json, &len);

	if (r < 0) {
		lib_fail(r);
		return NULL;
	}
	return json;
}

ssize_t vmbuf_client_read_pool(struct vmbuf_client *c, const char *pool, uint64_t offset,
			       void *buf, size_t len)
{
	struct vmbuf_host_req req = { .op = VMBUF_HOST_READ, .offset = offset, .len = len };
	_cleanup_free_ char *data = NULL;
	size_t got;
	int r;

	if (str_to_field(req.name, sizeof(req.name), pool) < 0)
		return lib_fail(-EINVAL);
	r = call(c, &req, &data, &got);
	if (r < 0)
		return lib_fail(r);
	if (got > len)
		return lib_fail(-EPROTO);
	memcpy(buf, data, got);
	return (ssize_t)got;
}

