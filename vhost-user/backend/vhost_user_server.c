/*
 * vhost_user_server - the daemon's vhost-user listeners (see
 * vhost_user_server.h): one per VM, each with at most one backend
 * (backend.c) at a time.
 */
#include "vhost_user_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend.h"
#include "core.h"
#include "log.h"
#include "loop.h"
#include "socket.h"
#include "util.h"

struct vus_vm {
	struct vhost_user_server *srv;
	struct core_vm *vm;
	int listen;
	struct loop_source *listen_src, *sock_src, *wake_src;
	struct vub *conn;
	char dir[256];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct vhost_user_server {
	struct loop *loop;
	struct core *core;
	unsigned int nvms;
	struct vus_vm *vms;
};

static void vus_close(struct vus_vm *v, const char *why)
{
	if (!v->conn)
		return;
	loop_remove(v->sock_src);
	loop_remove(v->wake_src);
	v->sock_src = v->wake_src = NULL;
	vub_free(v->conn);
	v->conn = NULL;
	log_info("vm '%s': vhost-user connection closed (%s)", core_vm_name(v->vm), why);
}

static void vus_sock(struct loop_source *src, uint32_t events, void *data)
{
	struct vus_vm *v = data;
	int r;

	(void)src;
	r = vub_sock_ready(v->conn, events & (EPOLLHUP | EPOLLERR));
	if (r < 0)
		vus_close(v, r == -ECONNRESET ? "hung up" : strerror(-r));
}

static void vus_wake(struct loop_source *src, uint32_t events, void *data)
{
	struct vus_vm *v = data;
	int r;

	(void)src;
	(void)events;
	r = vub_sock_ready(v->conn, false);
	if (r < 0)
		vus_close(v, r == -ECONNRESET ? "hung up" : strerror(-r));
}

static void vus_accept(struct loop_source *src, uint32_t events, void *data)
{
	struct vus_vm *v = data;
	const char *name = core_vm_name(v->vm);
	int fd, r;

	(void)src;
	(void)events;
	fd = socket_accept_exclusive(v->listen, v->conn, name, "vhost-user");
	if (fd < 0)
		return;
	r = vub_new(&v->conn, v->srv->loop, fd, v->vm);
	if (r >= 0)
		r = loop_add(v->srv->loop, vub_sock(v->conn), EPOLLIN, vus_sock, v, &v->sock_src);
	if (r >= 0)
		r = loop_add(v->srv->loop, vub_wake_fd(v->conn), EPOLLIN, vus_wake, v, &v->wake_src);
	if (r < 0) {
		loop_remove(v->sock_src);
		v->sock_src = NULL;
		log_warn("vm '%s': vhost-user connection refused: %s", name,
			 r == -EBUSY ? "connected through another transport (EBUSY)" :
				       strerror(-r));
		vub_free(v->conn);
		v->conn = NULL;
		return;
	}
	log_info("vm '%s': vhost-user connection open", name);
}

int vhost_user_server_new(struct vhost_user_server **out, struct loop *loop, struct core *core,
			  const char *socket_dir, gid_t gid)
{
	struct vhost_user_server *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->core = core;
	s->vms = calloc(core_vm_count(core) + 1, sizeof(*s->vms));
	if (!s->vms)
		goto fail;
	for (; s->nvms < core_vm_count(core); s->nvms++) {
		struct vus_vm *v = &s->vms[s->nvms];
		const char *name;

		v->srv = s;
		v->vm = core_vm_at(core, s->nvms);
		v->listen = -1;
		name = core_vm_name(v->vm);
		r = str_printf(v->dir, sizeof(v->dir), "%s/%s", socket_dir, name);
		if (r >= 0)
			r = socket_dir_make(v->dir, 0750, gid);
		if (r >= 0)
			r = str_printf(v->path, sizeof(v->path), "%s/vhost-user.sock", v->dir);
		if (r >= 0)
			r = socket_serve_unix(loop, v->path, SOCK_STREAM, 0660, gid, vus_accept, v,
					      &v->listen, &v->listen_src);
		if (r < 0) {
			log_err("vm '%s': socket '%s': %s", name, v->path, strerror(-r));
			s->nvms++;
			goto fail;
		}
	}
	*out = s;
	return 0;

fail:
	vhost_user_server_free(s);
	return r;
}

bool vhost_user_server_gone_unread(const struct vhost_user_server *s)
{
	for (unsigned int i = 0; i < s->nvms; i++)
		if (s->vms[i].conn && vub_gone_unread(s->vms[i].conn))
			return true;
	return false;
}

void vhost_user_server_free(struct vhost_user_server *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->nvms; i++) {
		struct vus_vm *v = &s->vms[i];

		vus_close(v, "daemon stopping");
		socket_unserve(v->listen_src, v->listen, v->path);
		if (v->dir[0])
			rmdir(v->dir);
	}
	free(s->vms);
	free(s);
}
