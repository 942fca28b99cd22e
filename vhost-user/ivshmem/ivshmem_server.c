/*
 * ivshmem_server - the daemon's ivshmem listeners (see ivshmem_server.h).
 *
 * One struct ivvm per configured VM: its directory, its control socket and
 * the control device of the current connection (at most one: a second
 * connection is refused with EBUSY), and one struct ivconn per pool it is a
 * member of. One struct ivpool per pool serves all of the pool's members.
 */
#include "ivshmem_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core.h"
#include "device.h"
#include "ivshmem.h"
#include "ivshmem_ctl.h"
#include "ivshmem_pool.h"
#include "log.h"
#include "loop.h"
#include "socket.h"
#include "util.h"
#include <linux/vmbuf_ivshmem.h>

#define IVSOCK_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct ivvm;

struct ivdoorbell {
	struct ivvm *vm;
	unsigned int vector;
	struct loop_source *src;
};

/* One VM's connection to one pool's device. */
struct ivconn {
	struct ivvm *vm;
	struct ivpool *pool;
	const struct pool *core_pool;
	int listen;
	struct loop_source *listen_src, *sock_src;
	char path[IVSOCK_PATH_MAX];
};

struct ivvm {
	struct ivshmem_server *srv;
	struct core_vm *vm;
	unsigned int slot;
	int listen;
	struct loop_source *listen_src, *sock_src;
	struct ivctl *ctl;
	struct ivdoorbell db[VMBUF_IVSHMEM_CTL_VECTORS];
	unsigned int npools;
	struct ivconn pools[CONFIG_POOLS_PER_VM];
	char dir[256];
	char path[IVSOCK_PATH_MAX];
};

struct ivshmem_server {
	struct loop *loop;
	struct core *core;
	gid_t gid;
	unsigned int nvms, npools;
	struct ivvm *vms;
	struct ivpool *pools;
};

/* ---- control device ---- */

static uint64_t ivvm_locate(void *device, const struct pool *p)
{
	struct device *d = device;

	return ivshmem_position(p->id, core_vm_slot(d->vm));
}

const struct core_vm_ops ivshmem_pool_core_ops = {
	.event = device_core_event,
	.resume = device_core_resume,
	.gone = device_core_gone,
	.locator_kind = VIRTIO_VMBUF_LOCATOR_IVPOSITION,
	.locate = ivvm_locate,
};

static void ivvm_ctl_close(struct ivvm *v)
{
	if (!v->ctl)
		return;
	for (unsigned int i = 0; i < VMBUF_IVSHMEM_CTL_VECTORS; i++) {
		loop_remove(v->db[i].src);
		v->db[i].src = NULL;
	}
	loop_remove(v->sock_src);
	v->sock_src = NULL;
	core_vm_disconnect(v->vm);
	ivctl_free(v->ctl);
	v->ctl = NULL;
	log_info("vm '%s': control connection closed", core_vm_name(v->vm));
}

static void ivvm_doorbell(struct loop_source *src, uint32_t events, void *data)
{
	struct ivdoorbell *db = data;

	(void)src;
	(void)events;
	ivctl_doorbell(db->vm->ctl, db->vector);
}

static void ivvm_ctl_sock(struct loop_source *src, uint32_t events, void *data)
{
	struct ivvm *v = data;

	(void)src;
	if (socket_hung_up(ivctl_sock(v->ctl), events))
		ivvm_ctl_close(v);
}

static void ivvm_ctl_accept(struct loop_source *src, uint32_t events, void *data)
{
	struct ivvm *v = data;
	struct loop *loop = v->srv->loop;
	const char *name = core_vm_name(v->vm);
	int fd, r;

	(void)src;
	(void)events;
	fd = socket_accept_exclusive(v->listen, v->ctl, name, "control");
	if (fd < 0)
		return;
	r = ivctl_new(&v->ctl, fd, v->vm);
	if (r >= 0)
		r = core_vm_connect(v->vm, &ivshmem_pool_core_ops, ivctl_device(v->ctl));
	if (r < 0) {
		log_err("vm '%s': control device setup failed: %s", name, strerror(-r));
		ivctl_free(v->ctl);
		v->ctl = NULL;
		return;
	}
	r = loop_add(loop, ivctl_sock(v->ctl), EPOLLIN, ivvm_ctl_sock, v, &v->sock_src);
	for (unsigned int i = 0; r >= 0 && i < VMBUF_IVSHMEM_CTL_VECTORS; i++)
		r = loop_add(loop, ivctl_doorbell_fd(v->ctl, i), EPOLLIN, ivvm_doorbell, &v->db[i],
			     &v->db[i].src);
	if (r < 0) {
		log_err("vm '%s': cannot watch control device: %s", name, strerror(-r));
		ivvm_ctl_close(v);
		return;
	}
	log_info("vm '%s': control connection open", name);
}

/* ---- pool devices ---- */

static void ivconn_close(struct ivconn *pc)
{
	loop_remove(pc->sock_src);
	pc->sock_src = NULL;
	ivpool_leave(pc->pool, pc->vm->slot);
	log_info("vm '%s': pool '%s' connection closed", core_vm_name(pc->vm->vm),
		 pc->core_pool->name);
}

static void ivconn_sock(struct loop_source *src, uint32_t events, void *data)
{
	struct ivconn *pc = data;

	(void)src;
	if (socket_hung_up(ivpool_sock(pc->pool, pc->vm->slot), events))
		ivconn_close(pc);
}

static void ivconn_accept(struct loop_source *src, uint32_t events, void *data)
{
	struct ivconn *pc = data;
	const char *vm = core_vm_name(pc->vm->vm);
	int fd, r;

	(void)src;
	(void)events;
	fd = socket_accept(pc->listen);
	if (fd < 0)
		return;
	r = ivpool_join(pc->pool, pc->vm->slot, fd,
			ivshmem_position(pc->core_pool->id, pc->vm->slot));
	if (r < 0) {
		log_warn("vm '%s': pool '%s' connection refused: %s", vm, pc->core_pool->name,
			 r == -EBUSY ? "already connected (EBUSY)" : strerror(-r));
		return;
	}
	r = loop_add(pc->vm->srv->loop, ivpool_sock(pc->pool, pc->vm->slot), EPOLLIN, ivconn_sock,
		     pc, &pc->sock_src);
	if (r < 0) {
		ivpool_leave(pc->pool, pc->vm->slot);
		return;
	}
	log_info("vm '%s': pool '%s' connection open", vm, pc->core_pool->name);
}

/* ---- setup and teardown ---- */

static int ivserver_listen(struct ivshmem_server *s, const char *vm, const char *path,
			   loop_cb cb, void *data, int *fd, struct loop_source **src)
{
	int r = socket_serve_unix(s->loop, path, SOCK_STREAM, 0660, s->gid, cb, data, fd, src);

	if (r < 0)
		log_err("vm '%s': socket '%s': %s", vm, path, strerror(-r));
	return r;
}

static int ivvm_setup(struct ivshmem_server *s, struct ivvm *v, const char *socket_dir)
{
	const char *name = core_vm_name(v->vm);
	int r;

	r = str_printf(v->dir, sizeof(v->dir), "%s/%s", socket_dir, name);
	if (r >= 0)
		r = socket_dir_make(v->dir, 0750, s->gid);
	if (r < 0) {
		log_err("vm '%s': directory '%s': %s", name, v->dir, strerror(-r));
		return r;
	}
	r = str_printf(v->path, sizeof(v->path), "%s/ctl.sock", v->dir);
	if (r >= 0)
		r = ivserver_listen(s, name, v->path, ivvm_ctl_accept, v, &v->listen,
				    &v->listen_src);
	for (unsigned int p = 0; r >= 0 && p < s->npools; p++) {
		struct pool *cp = core_pool_at(s->core, p);
		struct ivconn *pc;

		if (!core_pool_has_member(s->core, cp, v->vm))
			continue;
		pc = &v->pools[v->npools++];
		*pc = (struct ivconn){ .vm = v, .pool = &s->pools[p], .core_pool = cp, .listen = -1 };
		r = str_printf(pc->path, sizeof(pc->path), "%s/pool-%s.sock", v->dir, cp->name);
		if (r >= 0)
			r = ivserver_listen(s, name, pc->path, ivconn_accept, pc, &pc->listen,
					    &pc->listen_src);
	}
	return r;
}

int ivshmem_server_new(struct ivshmem_server **out, struct loop *loop, struct core *core,
		       const char *socket_dir, gid_t gid)
{
	struct ivshmem_server *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->core = core;
	s->gid = gid;
	s->pools = calloc(core_pool_count(core) + 1, sizeof(*s->pools));
	s->vms = calloc(core_vm_count(core) + 1, sizeof(*s->vms));
	if (!s->pools || !s->vms)
		goto fail;
	for (; s->npools < core_pool_count(core); s->npools++) {
		struct pool *p = core_pool_at(core, s->npools);

		r = ivpool_init(&s->pools[s->npools], p->id, p->name, p->memfd, p->size);
		if (r < 0) {
			log_err("pool '%s': writing the ivshmem header: %s", p->name, strerror(-r));
			goto fail;
		}
	}
	for (; s->nvms < core_vm_count(core); s->nvms++) {
		struct ivvm *v = &s->vms[s->nvms];

		v->srv = s;
		v->vm = core_vm_at(core, s->nvms);
		v->slot = s->nvms + 1;
		v->listen = -1;
		for (unsigned int i = 0; i < VMBUF_IVSHMEM_CTL_VECTORS; i++)
			v->db[i] = (struct ivdoorbell){ .vm = v, .vector = i };
		r = ivvm_setup(s, v, socket_dir);
		if (r < 0) {
			s->nvms++;	/* tear down what it made */
			goto fail;
		}
	}
	*out = s;
	return 0;

fail:
	ivshmem_server_free(s);
	return r;
}

void ivshmem_server_free(struct ivshmem_server *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->nvms; i++) {
		struct ivvm *v = &s->vms[i];

		ivvm_ctl_close(v);
		for (unsigned int p = 0; p < v->npools; p++) {
			struct ivconn *pc = &v->pools[p];

			if (pc->sock_src)
				ivconn_close(pc);
			socket_unserve(pc->listen_src, pc->listen, pc->path);
		}
		socket_unserve(v->listen_src, v->listen, v->path);
		if (v->dir[0])
			rmdir(v->dir);
	}
	for (unsigned int i = 0; i < s->npools; i++)
		ivpool_fini(&s->pools[i]);
	free(s->vms);
	free(s->pools);
	free(s);
}
