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
#include "config.h"
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
	gid_t gid;
	char socket_dir[256];
	struct vus_vm *vms[CONFIG_MAX_VMS];	/* by slot - 1 */
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

static void vus_vm_free(struct vus_vm *v)
{
	vus_close(v, "daemon stopping or VM removed");
	socket_unserve(v->listen_src, v->listen, v->path);
	if (v->dir[0])
		rmdir(v->dir);	/* once the ivshmem sockets are gone too */
	free(v);
}

int vhost_user_server_vm_add(struct vhost_user_server *s, struct core_vm *vm)
{
	unsigned int slot = core_vm_slot(vm);
	const char *name = core_vm_name(vm);
	struct vus_vm *v;
	int r;

	if (slot < 1 || slot > CONFIG_MAX_VMS || s->vms[slot - 1])
		return -EEXIST;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->srv = s;
	v->vm = vm;
	v->listen = -1;
	r = str_printf(v->dir, sizeof(v->dir), "%s/%s", s->socket_dir, name);
	if (r >= 0)
		r = socket_dir_make(v->dir, 0750, s->gid);
	if (r >= 0)
		r = str_printf(v->path, sizeof(v->path), "%s/vhost-user.sock", v->dir);
	if (r >= 0)
		r = socket_serve_unix(s->loop, v->path, SOCK_STREAM, 0660, s->gid, vus_accept, v,
				      &v->listen, &v->listen_src);
	if (r < 0) {
		log_err("vm '%s': socket '%s': %s", name, v->path, strerror(-r));
		vus_vm_free(v);
		return r;
	}
	s->vms[slot - 1] = v;
	return 0;
}

void vhost_user_server_vm_remove(struct vhost_user_server *s, const struct core_vm *vm)
{
	unsigned int slot = core_vm_slot(vm);

	if (slot < 1 || slot > CONFIG_MAX_VMS || !s->vms[slot - 1])
		return;
	vus_vm_free(s->vms[slot - 1]);
	s->vms[slot - 1] = NULL;
}

int vhost_user_server_new(struct vhost_user_server **out, struct loop *loop, struct core *core,
			  const char *socket_dir, gid_t gid)
{
	struct vhost_user_server *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->core = core;
	s->gid = gid;
	if (str_printf(s->socket_dir, sizeof(s->socket_dir), "%s", socket_dir) < 0) {
		free(s);
		return -ENAMETOOLONG;
	}
	for (unsigned int i = 0; r >= 0 && i < core_vm_count(core); i++)
		if (core_vm_at(core, i))
			r = vhost_user_server_vm_add(s, core_vm_at(core, i));
	if (r < 0) {
		vhost_user_server_free(s);
		return r;
	}
	*out = s;
	return 0;
}

bool vhost_user_server_gone_unread(const struct vhost_user_server *s)
{
	for (unsigned int i = 0; i < CONFIG_MAX_VMS; i++)
		if (s->vms[i] && s->vms[i]->conn && vub_gone_unread(s->vms[i]->conn))
			return true;
	return false;
}

void vhost_user_server_free(struct vhost_user_server *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < CONFIG_MAX_VMS; i++)
		if (s->vms[i])
			vus_vm_free(s->vms[i]);
	free(s);
}
