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
#include "util.h"

struct vmbuf_client {
	int fd;
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
	close(c->fd);
	free(c);
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
