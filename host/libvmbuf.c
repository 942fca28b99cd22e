/*
 * libvmbuf - the host client library: framing of host.sock requests and
 * answers (hostproto.h). Inside, functions return negative errno; the public
 * functions convert to -1/NULL and errno in one place each (fail()).
 */
#include "libvmbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hostproto.h"
#include "udmabuf.h"
#include "util.h"
#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_vmbuf.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#define EVENTS_MAX 64
#define WATCHES_MAX 64

struct watch {
	int efd;		/* -1: free slot */
	bool fired;
	int error;
	uint8_t handle[VIRTIO_VMBUF_HANDLE_SIZE];
	uint64_t value;
};

struct pool_ref {
	uint32_t id;
	char name[VIRTIO_VMBUF_NAME_MAX + 1];
	int memfd;		/* -1 until first needed */
	uint64_t size;
};

struct vmbuf_client {
	int fd;
	bool hello;
	uint64_t next_id;
	unsigned int npools;
	struct pool_ref pools[VIRTIO_VMBUF_MAX_POOLS];
	/* Events that arrived while waiting for an answer. */
	struct virtio_vmbuf_event events[EVENTS_MAX];
	unsigned int ev_head, ev_count;
	bool ev_lost;
	struct watch watches[WATCHES_MAX];
};

struct vmbuf_buffer {
	struct vmbuf_client *c;
	bool imported, exported;
	uint64_t id;		/* buffer id, or import id */
	uint32_t pool_id;
	uint64_t offset, size;
	void *map;
	int dmabuf;
	uint8_t handle[VMBUF_HANDLE_SIZE];
	char owner[VIRTIO_VMBUF_NAME_MAX + 1];
	struct vmbuf_meta meta;
};

static int fail(int r)
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
		fail(r);
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

static void fire(struct watch *w, int error)
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
			fire(w, (int32_t)le32toh(e->error));
	}
}

static void queue_event(struct vmbuf_client *c, const void *payload, size_t len)
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
static int recv_packet(struct vmbuf_client *c, void *buf, size_t cap, size_t *len, int *fd,
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
		queue_event(c, pkt + sizeof(r), r.len);
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
		r = recv_packet(c, resp, cap, rlen, fd, &event, -1);
	} while (r == 0 && event);
	return r;
}

/* One virtio-vmbuf request as the "host" VM: returns the response's status. */
static int vm_call(struct vmbuf_client *c, void *req, size_t len, void *resp, size_t cap)
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

static int hello(struct vmbuf_client *c)
{
	struct virtio_vmbuf_hello req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
					  .version = htole32(VIRTIO_VMBUF_VERSION) };
	struct virtio_vmbuf_hello_resp resp;
	int r;

	if (c->hello)
		return 0;
	r = vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
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

static struct pool_ref *pool_by_id(struct vmbuf_client *c, uint32_t id)
{
	for (unsigned int i = 0; i < c->npools; i++)
		if (c->pools[i].id == id)
			return &c->pools[i];
	return NULL;
}

static struct pool_ref *pool_by_name(struct vmbuf_client *c, const char *name)
{
	for (unsigned int i = 0; i < c->npools; i++)
		if (!strcmp(c->pools[i].name, name))
			return &c->pools[i];
	return NULL;
}

static int pool_memfd(struct vmbuf_client *c, struct pool_ref *p)
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
		if (r.status < 0)
			return r.status;
		if (r.len != (size_t)n - sizeof(r))
			return -EPROTO;
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
		fail(r);
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
		return fail(-EINVAL);
	r = call(c, &req, &data, &got);
	if (r < 0)
		return fail(r);
	if (got > len)
		return fail(-EPROTO);
	memcpy(buf, data, got);
	return (ssize_t)got;
}

static void meta_from_wire(struct vmbuf_meta *m, const struct virtio_vmbuf_meta *w)
{
	memset(m, 0, sizeof(*m));
	m->width = le32toh(w->width);
	m->height = le32toh(w->height);
	m->fourcc = le32toh(w->fourcc);
	m->nplanes = le32toh(w->nplanes);
	m->modifier = le64toh(w->modifier);
	for (int i = 0; i < 4; i++) {
		m->offsets[i] = le32toh(w->offsets[i]);
		m->strides[i] = le32toh(w->strides[i]);
	}
	memcpy(m->label, w->label, sizeof(m->label) - 1);
}

static void meta_to_wire(struct virtio_vmbuf_meta *w, const struct vmbuf_meta *m)
{
	memset(w, 0, sizeof(*w));
	w->width = htole32(m->width);
	w->height = htole32(m->height);
	w->fourcc = htole32(m->fourcc);
	w->nplanes = htole32(m->nplanes);
	w->modifier = htole64(m->modifier);
	for (int i = 0; i < 4; i++) {
		w->offsets[i] = htole32(m->offsets[i]);
		w->strides[i] = htole32(m->strides[i]);
	}
	memcpy(w->label, m->label, sizeof(w->label) - 1);
}

static struct vmbuf_buffer *buffer_new(struct vmbuf_client *c)
{
	struct vmbuf_buffer *b = calloc(1, sizeof(*b));

	if (b) {
		b->c = c;
		b->dmabuf = -1;
	}
	return b;
}

struct vmbuf_buffer *vmbuf_buffer_import(struct vmbuf_client *c, const char *name,
					 const uint8_t *handle)
{
	struct virtio_vmbuf_import req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_IMPORT) };
	struct virtio_vmbuf_import_resp resp;
	struct vmbuf_buffer *b;
	int r = hello(c);

	if (r < 0)
		return fail(r), NULL;
	if (name) {
		req.flags = htole32(VIRTIO_VMBUF_IMPORT_BY_NAME);
		if (str_to_field(req.name, sizeof(req.name), name) < 0)
			return fail(-EINVAL), NULL;
	} else if (handle) {
		memcpy(req.handle, handle, sizeof(req.handle));
	} else {
		return fail(-EINVAL), NULL;
	}
	r = vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	if (r < 0)
		return fail(r), NULL;
	b = buffer_new(c);
	if (!b)
		return NULL;
	b->imported = true;
	b->id = le64toh(resp.import_id);
	b->pool_id = le32toh(resp.pool_id);
	b->offset = le64toh(resp.offset);
	b->size = le64toh(resp.size);
	memcpy(b->handle, resp.handle, sizeof(b->handle));
	field_to_str(b->owner, resp.owner, VIRTIO_VMBUF_NAME_MAX);
	meta_from_wire(&b->meta, &resp.meta);
	return b;
}

struct vmbuf_buffer *vmbuf_buffer_alloc(struct vmbuf_client *c, const char *pool, uint64_t size)
{
	struct virtio_vmbuf_alloc req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					  .size = htole64(size) };
	struct virtio_vmbuf_alloc_resp resp;
	struct vmbuf_buffer *b;
	struct pool_ref *p;
	int r = hello(c);

	if (r < 0)
		return fail(r), NULL;
	p = pool_by_name(c, pool);
	if (!p)
		return fail(-ENOENT), NULL;
	req.pool_id = htole32(p->id);
	r = vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	if (r < 0)
		return fail(r), NULL;
	b = buffer_new(c);
	if (!b)
		return NULL;
	b->id = le64toh(resp.buffer_id);
	b->pool_id = p->id;
	b->offset = le64toh(resp.offset);
	b->size = le64toh(resp.size);
	snprintf(b->owner, sizeof(b->owner), "host");
	return b;
}

int vmbuf_buffer_export(struct vmbuf_buffer *b, const char *name, unsigned int flags,
			const char *const *vms, unsigned int nvms, const struct vmbuf_meta *meta,
			uint8_t *handle)
{
	_cleanup_free_ struct virtio_vmbuf_export *req = calloc(1, sizeof(*req));
	struct virtio_vmbuf_export_resp resp;
	int r;

	if (!req)
		return -1;
	if (b->imported || nvms > VIRTIO_VMBUF_MAX_ACCESS)
		return fail(b->imported ? -EPERM : -EINVAL);
	req->hdr.type = htole32(VIRTIO_VMBUF_REQ_EXPORT);
	req->buffer_id = htole64(b->id);
	req->flags = htole32(flags);
	req->naccess = htole32(nvms);
	if (name && str_to_field(req->name, sizeof(req->name), name) < 0)
		return fail(-EINVAL);
	for (unsigned int i = 0; i < nvms; i++)
		if (str_to_field(req->access[i], sizeof(req->access[i]), vms[i]) < 0)
			return fail(-EINVAL);
	if (meta) {
		meta_to_wire(&req->meta, meta);
		b->meta = *meta;
	}
	r = vm_call(b->c, req, sizeof(*req), &resp, sizeof(resp));
	if (r < 0)
		return fail(r);
	b->exported = true;
	memcpy(b->handle, resp.handle, sizeof(b->handle));
	if (handle)
		memcpy(handle, resp.handle, sizeof(resp.handle));
	return 0;
}

int vmbuf_buffer_memfd(struct vmbuf_buffer *b, uint64_t *offset)
{
	struct pool_ref *p = pool_by_id(b->c, b->pool_id);
	int fd;

	if (!p)
		return fail(-ENXIO);
	fd = pool_memfd(b->c, p);
	if (fd < 0)
		return fail(fd);
	if (offset)
		*offset = b->offset;
	return fd;
}

void *vmbuf_buffer_map(struct vmbuf_buffer *b)
{
	int fd;

	if (b->map)
		return b->map;
	fd = vmbuf_buffer_memfd(b, NULL);
	if (fd < 0)
		return NULL;
	b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b->offset);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return NULL;
	}
	return b->map;
}

int vmbuf_buffer_dmabuf(struct vmbuf_buffer *b)
{
	int fd;

	if (b->dmabuf >= 0)
		return b->dmabuf;
	fd = vmbuf_buffer_memfd(b, NULL);
	if (fd < 0)
		return -1;
	fd = udmabuf_create(fd, b->offset, b->size);
	if (fd < 0)
		return fail(fd);
	b->dmabuf = fd;
	return fd;
}

uint64_t vmbuf_buffer_size(const struct vmbuf_buffer *b)
{
	return b->size;
}

const struct vmbuf_meta *vmbuf_buffer_meta(const struct vmbuf_buffer *b)
{
	return &b->meta;
}

const uint8_t *vmbuf_buffer_handle(const struct vmbuf_buffer *b)
{
	return b->imported || b->exported ? b->handle : NULL;
}

const char *vmbuf_buffer_owner(const struct vmbuf_buffer *b)
{
	return b->owner;
}

void vmbuf_buffer_release(struct vmbuf_buffer *b)
{
	union {
		struct virtio_vmbuf_release rel;
		struct virtio_vmbuf_free fr;
	} req;
	struct virtio_vmbuf_resp resp;

	if (!b)
		return;
	if (b->map)
		munmap(b->map, b->size);
	closep(&b->dmabuf);
	memset(&req, 0, sizeof(req));
	req.rel.hdr.type = htole32(b->imported ? VIRTIO_VMBUF_REQ_RELEASE : VIRTIO_VMBUF_REQ_FREE);
	req.rel.import_id = htole64(b->id);
	vm_call(b->c, &req, sizeof(req), &resp, sizeof(resp));
	free(b);
}

int vmbuf_signal(struct vmbuf_client *c, const uint8_t *handle, uint64_t value, int error)
{
	struct virtio_vmbuf_signal req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_SIGNAL),
					   .value = htole64(value),
					   .error = htole32((uint32_t)error) };
	struct virtio_vmbuf_timeline_resp resp;
	int r = hello(c);

	if (r < 0)
		return fail(r);
	memcpy(req.handle, handle, sizeof(req.handle));
	r = vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	return r < 0 ? fail(r) : 0;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Take a queued TIMELINE event for @handle at or above @value: its error, or 1 if none. */
static int take_timeline(struct vmbuf_client *c, const uint8_t *handle, uint64_t value)
{
	for (unsigned int i = 0; i < c->ev_count; i++) {
		struct virtio_vmbuf_event *e = &c->events[(c->ev_head + i) % EVENTS_MAX];

		if (le32toh(e->type) == VIRTIO_VMBUF_EVT_TIMELINE_REACHED &&
		    !memcmp(e->handle, handle, VMBUF_HANDLE_SIZE) && le64toh(e->value) >= value)
			return (int32_t)le32toh(e->error);
	}
	return 1;
}

int vmbuf_wait(struct vmbuf_client *c, const uint8_t *handle, uint64_t value, int timeout_ms)
{
	struct virtio_vmbuf_watch req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_WATCH),
					  .value = htole64(value) };
	struct virtio_vmbuf_timeline_resp resp;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int r = hello(c);

	if (r < 0)
		return fail(r);
	memcpy(req.handle, handle, sizeof(req.handle));
	r = vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	if (r < 0)
		return fail(r);
	if (le32toh(resp.reached)) {
		r = (int32_t)le32toh(resp.error);
		return r < 0 ? fail(r) : 0;
	}
	for (;;) {
		int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
		uint8_t ignored[8];
		size_t len;
		bool event;

		r = take_timeline(c, handle, value);
		if (r <= 0)
			return r < 0 ? fail(r) : 0;
		if (deadline >= 0 && left <= 0)
			return fail(-ETIMEDOUT);
		r = recv_packet(c, ignored, sizeof(ignored), &len, NULL, &event, left);
		if (r < 0)
			return fail(r);
	}
}

int vmbuf_next_event(struct vmbuf_client *c, struct vmbuf_event *ev, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int r = hello(c);

	if (r < 0)
		return fail(r);
	while (!c->ev_count) {
		int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
		uint8_t ignored[8];
		size_t len;
		bool event;

		if (deadline >= 0 && left <= 0)
			return fail(-ETIMEDOUT);
		r = recv_packet(c, ignored, sizeof(ignored), &len, NULL, &event, left);
		if (r < 0)
			return fail(r);
	}
	{
		struct virtio_vmbuf_event *e = &c->events[c->ev_head];

		memset(ev, 0, sizeof(*ev));
		ev->type = le32toh(e->type);
		ev->flags = le32toh(e->flags);
		memcpy(ev->handle, e->handle, sizeof(ev->handle));
		ev->pool_id = le32toh(e->pool_id);
		ev->error = (int32_t)le32toh(e->error);
		ev->value = le64toh(e->value);
		field_to_str(ev->name, e->name, sizeof(ev->name) - 1);
		field_to_str(ev->vm, e->vm, sizeof(ev->vm) - 1);
		c->ev_head = (c->ev_head + 1) % EVENTS_MAX;
		c->ev_count--;
	}
	return 0;
}

int vmbuf_watch(struct vmbuf_client *c, const uint8_t *handle, uint64_t value)
{
	struct virtio_vmbuf_watch req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_WATCH),
					  .value = htole64(value) };
	struct virtio_vmbuf_timeline_resp resp;
	struct watch *w = NULL;
	int r = hello(c);

	if (r < 0)
		return fail(r);
	for (unsigned int i = 0; !w && i < WATCHES_MAX; i++)
		if (c->watches[i].efd < 0)
			w = &c->watches[i];
	if (!w)
		return fail(-ENOSPC);
	/* Registered before asking, so an event racing the answer cannot be missed. */
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		return -1;
	w->fired = false;
	w->error = 0;
	w->value = value;
	memcpy(w->handle, handle, sizeof(w->handle));
	memcpy(req.handle, handle, sizeof(req.handle));
	r = vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	if (r < 0) {
		close(w->efd);
		w->efd = -1;
		return fail(r);
	}
	if (le32toh(resp.reached) && !w->fired)
		fire(w, (int32_t)le32toh(resp.error));
	return w->efd;
}

int vmbuf_watch_error(struct vmbuf_client *c, int efd)
{
	for (unsigned int i = 0; i < WATCHES_MAX; i++) {
		struct watch *w = &c->watches[i];

		if (w->efd == efd) {
			int e = w->fired ? w->error : -EINPROGRESS;

			/* The caller owns the eventfd; forget it once reported. */
			if (w->fired)
				w->efd = -1;
			return e;
		}
	}
	return -ENOENT;
}

void vmbuf_watch_cancel(struct vmbuf_client *c, int efd)
{
	for (unsigned int i = 0; i < WATCHES_MAX; i++) {
		if (c->watches[i].efd == efd) {
			close(efd);
			c->watches[i].efd = -1;
			return;
		}
	}
}

int vmbuf_client_dispatch(struct vmbuf_client *c)
{
	for (;;) {
		uint8_t ignored[8];
		size_t len;
		bool event;
		int r = recv_packet(c, ignored, sizeof(ignored), &len, NULL, &event, 0);

		if (r == -ETIMEDOUT)
			return 0;
		if (r < 0)
			return fail(r);
	}
}
