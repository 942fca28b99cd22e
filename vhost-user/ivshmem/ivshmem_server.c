/*
 * ivshmem_server - the daemon's ivshmem listeners (see ivshmem_server.h).
 *
 * One struct ivvm per VM (by slot): its directory, its control socket and
 * the control device of the current connection (at most one: a second
 * connection is refused with EBUSY), and one struct ivconn per pool it is a
 * member of. One struct ivpool per pool (by id) serves all of the pool's
 * members. VMs and pools come and go at run time (ivshmem_server_vm_add()...);
 * a pool position's eventfds stay with the pool, so a VM added in a slot
 * another VM had before gets that position's eventfds (ivshmem_pool.h).
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
	struct ivconn *pools[CONFIG_POOLS_PER_VM];
	char dir[256];
	char path[IVSOCK_PATH_MAX];
};

struct ivshmem_server {
	struct loop *loop;
	struct core *core;
	gid_t gid;
	char socket_dir[256];
	struct ivvm *vms[CONFIG_MAX_VMS];	/* by slot - 1 */
	struct ivpool *pools[CONFIG_MAX_POOLS];	/* by pool id - 1 */
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

/* Listen on SOCKET_DIR/VM/pool-POOL.sock for @v's connection to pool @cp. */
static int ivconn_add(struct ivshmem_server *s, struct ivvm *v, const struct pool *cp)
{
	struct ivconn *pc;
	int r;

	if (v->npools >= CONFIG_POOLS_PER_VM)
		return -ENOSPC;
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	*pc = (struct ivconn){ .vm = v, .pool = s->pools[cp->id - 1], .core_pool = cp, .listen = -1 };
	v->pools[v->npools++] = pc;
	r = str_printf(pc->path, sizeof(pc->path), "%s/pool-%s.sock", v->dir, cp->name);
	if (r >= 0)
		r = ivserver_listen(s, core_vm_name(v->vm), pc->path, ivconn_accept, pc, &pc->listen,
				    &pc->listen_src);
	return r;
}

static void ivconn_remove(struct ivvm *v, unsigned int i)
{
	struct ivconn *pc = v->pools[i];

	if (pc->sock_src)
		ivconn_close(pc);
	socket_unserve(pc->listen_src, pc->listen, pc->path);
	free(pc);
	v->pools[i] = v->pools[--v->npools];
}

static void ivvm_free(struct ivvm *v)
{
	ivvm_ctl_close(v);
	while (v->npools)
		ivconn_remove(v, v->npools - 1);
	socket_unserve(v->listen_src, v->listen, v->path);
	if (v->dir[0])
		rmdir(v->dir);
	free(v);
}

int ivshmem_server_vm_add(struct ivshmem_server *s, struct core_vm *vm)
{
	const char *name = core_vm_name(vm);
	unsigned int slot = core_vm_slot(vm);
	struct ivvm *v;
	int r;

	if (slot < 1 || slot > CONFIG_MAX_VMS || s->vms[slot - 1])
		return -EEXIST;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->srv = s;
	v->vm = vm;
	v->slot = slot;
	v->listen = -1;
	for (unsigned int i = 0; i < VMBUF_IVSHMEM_CTL_VECTORS; i++)
		v->db[i] = (struct ivdoorbell){ .vm = v, .vector = i };
	s->vms[slot - 1] = v;
	r = str_printf(v->dir, sizeof(v->dir), "%s/%s", s->socket_dir, name);
	if (r >= 0)
		r = socket_dir_make(v->dir, 0750, s->gid);
	if (r < 0) {
		log_err("vm '%s': directory '%s': %s", name, v->dir, strerror(-r));
		v->dir[0] = '\0';
		goto fail;
	}
	r = str_printf(v->path, sizeof(v->path), "%s/ctl.sock", v->dir);
	if (r >= 0)
		r = ivserver_listen(s, name, v->path, ivvm_ctl_accept, v, &v->listen,
				    &v->listen_src);
	for (unsigned int p = 0; r >= 0 && p < core_pool_count(s->core); p++) {
		struct pool *cp = core_pool_at(s->core, p);

		if (cp && s->pools[p] && core_pool_has_member(s->core, cp, vm))
			r = ivconn_add(s, v, cp);
	}
	if (r >= 0)
		return 0;
fail:
	s->vms[slot - 1] = NULL;
	ivvm_free(v);
	return r;
}

void ivshmem_server_vm_remove(struct ivshmem_server *s, const struct core_vm *vm)
{
	unsigned int slot = core_vm_slot(vm);

	if (slot < 1 || slot > CONFIG_MAX_VMS || !s->vms[slot - 1])
		return;
	ivvm_free(s->vms[slot - 1]);
	s->vms[slot - 1] = NULL;
}

int ivshmem_server_pool_add(struct ivshmem_server *s, const struct pool *p)
{
	struct ivpool *ip;
	int r;

	if (p->id < 1 || p->id > CONFIG_MAX_POOLS || s->pools[p->id - 1])
		return -EEXIST;
	ip = calloc(1, sizeof(*ip));
	if (!ip)
		return -ENOMEM;
	r = ivpool_init(ip, p->id, p->name, p->memfd, p->size);
	if (r < 0) {
		log_err("pool '%s': writing the ivshmem header: %s", p->name, strerror(-r));
		free(ip);
		return r;
	}
	s->pools[p->id - 1] = ip;
	/* VMs there already that are members get their socket for it. */
	for (unsigned int i = 0; r >= 0 && i < CONFIG_MAX_VMS; i++)
		if (s->vms[i] && core_pool_has_member(s->core, p, s->vms[i]->vm))
			r = ivconn_add(s, s->vms[i], p);
	if (r < 0)
		ivshmem_server_pool_remove(s, p);
	return r;
}

void ivshmem_server_pool_remove(struct ivshmem_server *s, const struct pool *p)
{
	struct ivpool *ip;

	if (p->id < 1 || p->id > CONFIG_MAX_POOLS || !(ip = s->pools[p->id - 1]))
		return;
	for (unsigned int i = 0; i < CONFIG_MAX_VMS; i++) {
		struct ivvm *v = s->vms[i];

		for (unsigned int k = 0; v && k < v->npools; k++)
			if (v->pools[k]->pool == ip)
				ivconn_remove(v, k--);
	}
	ivpool_fini(ip);
	free(ip);
	s->pools[p->id - 1] = NULL;
}

bool ivshmem_server_pool_busy(const struct ivshmem_server *s, const struct pool *p,
			      const char **vm)
{
	for (unsigned int i = 0; i < CONFIG_MAX_VMS; i++) {
		const struct ivvm *v = s->vms[i];

		for (unsigned int k = 0; v && k < v->npools; k++)
			if (v->pools[k]->core_pool == p && v->pools[k]->sock_src) {
				*vm = core_vm_name(v->vm);
				return true;
			}
	}
	return false;
}

int ivshmem_server_new(struct ivshmem_server **out, struct loop *loop, struct core *core,
		       const char *socket_dir, gid_t gid)
{
	struct ivshmem_server *s = calloc(1, sizeof(*s));
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
	for (unsigned int i = 0; r >= 0 && i < core_pool_count(core); i++)
		if (core_pool_at(core, i))
			r = ivshmem_server_pool_add(s, core_pool_at(core, i));
	for (unsigned int i = 0; r >= 0 && i < core_vm_count(core); i++)
		if (core_vm_at(core, i))
			r = ivshmem_server_vm_add(s, core_vm_at(core, i));
	if (r < 0) {
		ivshmem_server_free(s);
		return r;
	}
	*out = s;
	return 0;
}

void ivshmem_server_free(struct ivshmem_server *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < CONFIG_MAX_VMS; i++)
		if (s->vms[i])
			ivvm_free(s->vms[i]);
	for (unsigned int i = 0; i < CONFIG_MAX_POOLS; i++) {
		if (s->pools[i]) {
			ivpool_fini(s->pools[i]);
			free(s->pools[i]);
		}
	}
	free(s);
}
