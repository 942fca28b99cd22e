/*
 * hostapi - host.sock server. Clients are untrusted local processes: every
 * request is length-checked, a malformed one gets -EBADMSG, a long answer
 * (STATUS) goes out as fast as the client reads it while its next requests
 * wait, a client that cannot take a short answer is dropped, and nothing a
 * client does blocks the loop. HOSTAPI_ROOT_SLOTS of the host slots are
 * root's, so host-group users cannot lock root out.
 */
#include "hostapi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core.h"
#include <endian.h>
#include <linux/virtio_vmbuf.h>
#include "hostproto.h"
#include "list.h"
#include "log.h"
#include "loop.h"
#include "reconfig.h"
#include "socket.h"
#include "util.h"

struct hostapi_client {
	struct list link;
	struct hostapi *h;
	int fd;
	struct ucred cred;
	struct loop_source *src;
	struct core_vm *vm;	/* the client's "host" pseudo-VM */
	bool lost;		/* an event could not be sent */
	/* An answer still going out (STATUS), as fast as the client reads it. */
	char *out;
	size_t out_len, out_off;
	/* A request the core left waiting (core_vm_request() returned 0). */
	uint8_t *waiting;
	size_t waiting_len;
};

/* Host slots only root may take: a host-group user cannot lock root out. */
#define HOSTAPI_ROOT_SLOTS 4

struct hostapi {
	struct loop *loop;
	struct core *core;
	struct reconfig *rc;
	int fd;
	gid_t group;
	char path[108];
	struct loop_source *src;
	struct list clients;
	unsigned int nclients, nroot;
};

static void client_free(struct hostapi_client *cl)
{
	cl->h->nclients--;
	cl->h->nroot -= cl->cred.uid == 0;
	free(cl->out);
	free(cl->waiting);
	core_host_detach(cl->vm);
	loop_remove(cl->src);
	list_del(&cl->link);
	close(cl->fd);
	free(cl);
}

static int client_send_fd(struct hostapi_client *cl, int32_t status, uint32_t flags,
			  const void *buf, size_t len, int fd)
{
	struct vmbuf_host_resp r = { .status = status, .flags = flags, .len = len };
	struct iovec iov[2] = { { &r, sizeof(r) }, { (void *)buf, len } };
	ssize_t n = sock_send_fd(cl->fd, iov, len ? 2 : 1, fd);

	return n < 0 ? (int)n : 0;
}

static int client_send(struct hostapi_client *cl, int32_t status, uint32_t flags, const void *buf,
		       size_t len)
{
	return client_send_fd(cl, status, flags, buf, len, -1);
}

/* The core's events for the client's pseudo-VM. */
static void client_core_event(void *opaque, const struct virtio_vmbuf_event *ev)
{
	struct hostapi_client *cl = opaque;
	struct virtio_vmbuf_event e = *ev;

	if (cl->out) {
		cl->lost = true;	/* never between the packets of an answer */
		return;
	}
	if (cl->lost)
		e.flags |= htole32(VIRTIO_VMBUF_EVT_F_LOST);
	/* A client that does not read its events loses them, never the daemon's time. */
	cl->lost = client_send(cl, 0, VMBUF_HOST_RESP_EVENT, &e, sizeof(e)) < 0;
}

/*
 * One request to the core. One that must wait is kept, and the client's
 * later requests stay unread (no EPOLLIN) until client_core_resume().
 */
static int client_request(struct hostapi_client *cl, const uint8_t *payload, size_t len)
{
	uint8_t resp[VIRTIO_VMBUF_MSG_MAX];
	size_t n = core_vm_request(cl->vm, payload, len, resp, sizeof(resp));
	int r;

	if (n == 0) {
		if (payload != cl->waiting) {
			cl->waiting = malloc(len ? len : 1);
			if (!cl->waiting)
				return -ENOMEM;
			memcpy(cl->waiting, payload, len);
			cl->waiting_len = len;
		}
		return loop_set_events(cl->src, 0);
	}
	if (payload == cl->waiting) {
		free(cl->waiting);
		cl->waiting = NULL;
		r = loop_set_events(cl->src, EPOLLIN);
		if (r < 0)
			return r;
	}
	return client_send(cl, 0, 0, resp, n);
}

static void client_core_resume(void *opaque)
{
	struct hostapi_client *cl = opaque;
	int r;

	if (!cl->waiting)
		return;
	r = client_request(cl, cl->waiting, cl->waiting_len);
	if (r < 0) {
		log_info("host client pid %d: dropped: %s", (int)cl->cred.pid, strerror(-r));
		client_free(cl);
	}
}

/* Host clients map no pool through a transport: no locators. */
static const struct core_vm_ops client_core_ops = {
	.event = client_core_event,
	.resume = client_core_resume,
	.locator_kind = VIRTIO_VMBUF_LOCATOR_NONE,
};

static int client_pool_fd(struct hostapi_client *cl, const struct vmbuf_host_req *req)
{
	char name[33];
	struct pool *p;
	uint64_t size;

	field_to_str(name, req->name, sizeof(req->name));
	p = core_pool_by_name(cl->h->core, name);
	if (!p)
		return client_send(cl, -ENOENT, 0, NULL, 0);
	size = p->size;
	return client_send_fd(cl, 0, 0, &size, sizeof(size), p->memfd);
}

/*
 * Send what is left of cl->out in packets of at most VMBUF_HOST_PAYLOAD_MAX,
 * as far as the socket takes them. While some is left the client's requests
 * wait (EPOLLOUT instead of EPOLLIN): 0, or -errno to drop the client.
 */
static int client_flush(struct hostapi_client *cl)
{
	while (cl->out_off < cl->out_len) {
		size_t left = cl->out_len - cl->out_off;
		size_t n = left > VMBUF_HOST_PAYLOAD_MAX ? VMBUF_HOST_PAYLOAD_MAX : left;
		int r = client_send(cl, 0, n < left ? VMBUF_HOST_RESP_MORE : 0,
				    cl->out + cl->out_off, n);

		if (r == -EAGAIN)
			return loop_set_events(cl->src, EPOLLOUT);
		if (r < 0)
			return r;
		cl->out_off += n;
	}
	free(cl->out);
	cl->out = NULL;
	return loop_set_events(cl->src, EPOLLIN);
}

static int client_status(struct hostapi_client *cl)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return client_send(cl, -ENOMEM, 0, NULL, 0);
	r = core_status_json(cl->h->core, f);
	if (fclose(f) != 0 && r >= 0)
		r = -EIO;
	if (r < 0) {
		free(buf);
		return client_send(cl, r, 0, NULL, 0);
	}
	cl->out = buf;
	cl->out_len = len;
	cl->out_off = 0;
	return client_flush(cl);
}

static int client_read(struct hostapi_client *cl, const struct vmbuf_host_req *req)
{
	char name[33];
	struct pool *p;

	if (cl->cred.uid != 0)
		return client_send(cl, -EPERM, 0, NULL, 0);
	field_to_str(name, req->name, sizeof(req->name));
	p = core_pool_by_name(cl->h->core, name);
	if (!p)
		return client_send(cl, -ENOENT, 0, NULL, 0);
	if (req->len > VMBUF_HOST_PAYLOAD_MAX || req->offset > p->size ||
	    req->len > p->size - req->offset)
		return client_send(cl, -EINVAL, 0, NULL, 0);
	return client_send(cl, 0, 0, p->map + req->offset, req->len);
}

static bool has_payload(uint32_t op)
{
	return op == VMBUF_HOST_REQUEST || op == VMBUF_HOST_CONFIG_ADD || op == VMBUF_HOST_CONFIG_SET;
}

/*
 * A configuration change (root or the host group, as every client here).
 * Whatever the outcome, the client gets the message; the change is logged.
 */
static int client_config(struct hostapi_client *cl, const struct vmbuf_host_req *req,
			 const uint8_t *payload)
{
	static const enum reconfig_op ops[] = {
		[VMBUF_HOST_CONFIG_ADD] = RECONFIG_ADD,
		[VMBUF_HOST_CONFIG_SET] = RECONFIG_SET,
		[VMBUF_HOST_CONFIG_REMOVE] = RECONFIG_REMOVE,
		[VMBUF_HOST_CONFIG_RELOAD] = RECONFIG_RELOAD,
	};
	char name[33], text[VMBUF_HOST_CONFIG_TEXT_MAX + 1], msg[600];
	struct reconfig_change ch = { .op = ops[req->op], .name = name, .text = text };
	size_t len = has_payload(req->op) ? req->len : 0;	/* checked by the caller */
	int r;

	field_to_str(name, req->name, sizeof(req->name));
	memcpy(text, payload, len);
	text[len] = '\0';
	if (req->op != VMBUF_HOST_CONFIG_RELOAD && req->offset != VMBUF_HOST_KIND_VM &&
	    req->offset != VMBUF_HOST_KIND_POOL)
		return client_send(cl, -EINVAL, 0, NULL, 0);
	if (memchr(text, '\0', len))
		return client_send(cl, -EINVAL, 0, "the text holds a NUL byte", 25);
	ch.pool = req->offset == VMBUF_HOST_KIND_POOL;
	log_info("host client uid %d pid %d: configuration request", (int)cl->cred.uid,
		 (int)cl->cred.pid);
	r = reconfig_apply(cl->h->rc, &ch, msg, sizeof(msg));
	return client_send(cl, r, 0, msg, strlen(msg));
}

static size_t payload_max(uint32_t op)
{
	return op == VMBUF_HOST_REQUEST ? VMBUF_HOST_REQUEST_MAX : VMBUF_HOST_CONFIG_TEXT_MAX;
}

static void client_event(struct loop_source *src, uint32_t events, void *data)
{
	struct hostapi_client *cl = data;
	union {
		struct vmbuf_host_req req;
		uint8_t b[sizeof(struct vmbuf_host_req) + VMBUF_HOST_CONFIG_TEXT_MAX];
	} in;
	struct vmbuf_host_req req;
	ssize_t n;
	int r;

	(void)src;
	if (cl->waiting) {
		/* Only a hang-up reaches us while a request waits (no EPOLLIN). */
		if (events & (EPOLLHUP | EPOLLERR))
			client_free(cl);
		return;
	}
	if (cl->out) {
		r = (events & (EPOLLHUP | EPOLLERR)) ? -ECONNRESET : client_flush(cl);
		if (r < 0)
			client_free(cl);
		return;
	}
	n = recv(cl->fd, &in, sizeof(in), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(cl);
		return;
	}
	memcpy(&req, &in.req, (size_t)n < sizeof(req) ? (size_t)n : sizeof(req));
	if ((size_t)n < sizeof(req) || req.flags || (size_t)n > sizeof(in) ||
	    (has_payload(req.op) ? req.len != (size_t)n - sizeof(req) || req.len > payload_max(req.op) :
				   (size_t)n != sizeof(req))) {
		r = client_send(cl, -EBADMSG, 0, NULL, 0);
	} else {
		switch (req.op) {
		case VMBUF_HOST_REQUEST:
			r = client_request(cl, in.b + sizeof(req), req.len);
			break;
		case VMBUF_HOST_POOL_FD:
			r = client_pool_fd(cl, &req);
			break;
		case VMBUF_HOST_STATUS:
			r = client_status(cl);
			break;
		case VMBUF_HOST_READ:
			r = client_read(cl, &req);
			break;
		case VMBUF_HOST_CONFIG_ADD:
		case VMBUF_HOST_CONFIG_SET:
		case VMBUF_HOST_CONFIG_REMOVE:
		case VMBUF_HOST_CONFIG_RELOAD:
			r = client_config(cl, &req, in.b + sizeof(req));
			break;
		default:
			r = client_send(cl, -EOPNOTSUPP, 0, NULL, 0);
			break;
		}
	}
	if (r < 0) {
		log_info("host client pid %d: dropped: %s", (int)cl->cred.pid, strerror(-r));
		client_free(cl);
	}
}

static bool cred_allowed(const struct hostapi *h, const struct ucred *c)
{
	return c->uid == 0 || (h->group != (gid_t)-1 && c->gid == h->group);
}

static void hostapi_accept(struct loop_source *src, uint32_t events, void *data)
{
	struct hostapi *h = data;
	struct hostapi_client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	(void)src;
	(void)events;
	fd = socket_accept(h->fd);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || !cred_allowed(h, &cred)) {
		log_warn("host client uid %d pid %d refused: not root or in host-group",
			 (int)cred.uid, (int)cred.pid);
		close(fd);
		return;
	}
	if (cred.uid != 0 && h->nclients - h->nroot >= CORE_HOST_SLOTS - HOSTAPI_ROOT_SLOTS) {
		log_warn("host client uid %d pid %d refused: the slots left are root's",
			 (int)cred.uid, (int)cred.pid);
		close(fd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return;
	}
	cl->vm = core_host_attach(h->core, &client_core_ops, cl);
	if (!cl->vm) {
		log_warn("host client pid %d refused: too many host clients", (int)cred.pid);
		close(fd);
		free(cl);
		return;
	}
	cl->h = h;
	cl->fd = fd;
	cl->cred = cred;
	list_init(&cl->link);
	if (loop_add(h->loop, fd, EPOLLIN, client_event, cl, &cl->src) < 0) {
		core_host_detach(cl->vm);
		close(fd);
		free(cl);
		return;
	}
	list_add_tail(&h->clients, &cl->link);
	h->nclients++;
	h->nroot += cred.uid == 0;
}

int hostapi_new(struct hostapi **out, struct loop *loop, struct core *core, struct reconfig *rc,
		const char *path, gid_t group)
{
	struct hostapi *h;
	int r;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->core = core;
	h->rc = rc;
	h->group = group;
	list_init(&h->clients);
	r = str_printf(h->path, sizeof(h->path), "%s", path);
	if (r >= 0)
		r = socket_serve_unix(loop, path, SOCK_SEQPACKET, group != (gid_t)-1 ? 0660 : 0600,
				      group, hostapi_accept, h, &h->fd, &h->src);
	if (r < 0) {
		free(h);
		return r;
	}
	*out = h;
	return 0;
}

void hostapi_free(struct hostapi *h)
{
	struct hostapi_client *cl, *tmp;

	if (!h)
		return;
	list_for_each_safe(cl, tmp, &h->clients, link)
		client_free(cl);
	socket_unserve(h->src, h->fd, h->path);
	free(h);
}
