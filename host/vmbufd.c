/*
 * vmbufd - the vmbuf host daemon. Wires the core to transport T1: for every
 * VM a control socket and one socket per pool it belongs to, plus the host
 * client socket, all served from one epoll loop that never blocks on a
 * guest. SIGTERM and SIGINT stop it cleanly (sockets removed, memory freed).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "hostapi.h"
#include "hostproto.h"
#include "log.h"
#include "loop.h"
#include "util.h"
#include "../vhost-user/ivshmem_ctl.h"
#include "../vhost-user/ivshmem_pool.h"
#include "../kmod/include/uapi/linux/virtio_vmbuf.h"

#ifndef VMBUF_VERSION
#define VMBUF_VERSION "0"
#endif
#define DEFAULT_CONFIG "/etc/vmbuf/vmbufd.conf"

struct daemon;
struct vm_conn;

struct doorbell {
	struct vm_conn *vc;
	unsigned int vector;
	struct loop_source *src;
};

struct pool_conn {
	struct vm_conn *vc;
	struct pool_srv *ps;
	int listen;
	struct loop_source *listen_src, *sock_src;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct pool_srv {
	struct pool *pool;
	struct ivpool iv;
};

struct vm_conn {
	struct daemon *d;
	struct core_vm *vm;
	unsigned int slot;
	int listen;
	struct loop_source *listen_src, *sock_src;
	struct ivctl *ctl;
	struct doorbell db[VIRTIO_VMBUF_CTL_VECTORS];
	unsigned int npools;
	struct pool_conn pools[CONFIG_POOLS_PER_VM];
	char dir[256];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct daemon {
	struct config *cfg;
	struct core *core;
	struct loop *loop;
	struct hostapi *host;
	int sigfd;
	bool quit;
	struct vm_conn *vms;
	struct pool_srv *pools;
};

/* Group given access to the VM directories and sockets (QEMU's), or -1. */
static gid_t socket_gid = (gid_t)-1;

static int own(const char *path)
{
	if (socket_gid != (gid_t)-1 && chown(path, 0, socket_gid) < 0)
		return -errno;
	return 0;
}

static int listen_unix(const char *path, int *out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	/* Replace a stale socket, never any other kind of file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0660) < 0 ||
	    own(path) < 0 || listen(fd, 4) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

static int accept_one(int lfd)
{
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

/* Returns true when the peer hung up; drains anything it sent. */
static bool sock_hung_up(int fd, uint32_t events)
{
	char buf[64];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0)
			return true;
		if (errno == EINTR)
			continue;
		return errno != EAGAIN || (events & (EPOLLHUP | EPOLLERR));
	}
}

/* ---- control device ---- */

static size_t vm_request(void *opaque, const void *req, size_t len, void *resp, size_t cap)
{
	struct vm_conn *vc = opaque;

	return core_vm_request(vc->vm, req, len, resp, cap);
}

static void vm_reset(void *opaque)
{
	struct vm_conn *vc = opaque;

	core_vm_reset(vc->vm);
}

static const struct ivctl_ops vm_ctl_ops = {
	.request = vm_request,
	.reset = vm_reset,
};

static void on_core_event(void *opaque, struct core_vm *vm, const struct virtio_vmbuf_event *ev)
{
	struct daemon *d = opaque;
	struct vm_conn *vc;

	if (core_vm_is_host(vm)) {
		hostapi_event(vm, ev);
		return;
	}
	vc = &d->vms[core_vm_slot(vm) - 1];
	if (vc->ctl)
		ivctl_event(vc->ctl, ev, sizeof(*ev));
}

static void vm_ctl_close(struct vm_conn *vc)
{
	if (!vc->ctl)
		return;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_CTL_VECTORS; i++) {
		loop_remove(vc->db[i].src);
		vc->db[i].src = NULL;
	}
	loop_remove(vc->sock_src);
	vc->sock_src = NULL;
	ivctl_free(vc->ctl);
	vc->ctl = NULL;
	core_vm_disconnect(vc->vm);
	log_info("vm '%s': control connection closed", core_vm_name(vc->vm));
}

static void vm_doorbell(struct loop_source *src, uint32_t events, void *data)
{
	struct doorbell *db = data;

	(void)src;
	(void)events;
	ivctl_doorbell(db->vc->ctl, db->vector);
}

static void vm_ctl_sock(struct loop_source *src, uint32_t events, void *data)
{
	struct vm_conn *vc = data;

	(void)src;
	if (sock_hung_up(ivctl_sock(vc->ctl), events))
		vm_ctl_close(vc);
}

static void vm_ctl_accept(struct loop_source *src, uint32_t events, void *data)
{
	struct vm_conn *vc = data;
	const char *name = core_vm_name(vc->vm);
	int fd, r;

	(void)src;
	(void)events;
	fd = accept_one(vc->listen);
	if (fd < 0)
		return;
	if (vc->ctl || core_vm_connect(vc->vm) < 0) {
		log_warn("vm '%s': second control connection refused (EBUSY)", name);
		close(fd);
		return;
	}
	r = ivctl_new(&vc->ctl, fd, name, &vm_ctl_ops, vc);
	if (r < 0) {
		log_err("vm '%s': control device setup failed: %s", name, strerror(-r));
		vc->ctl = NULL;
		core_vm_disconnect(vc->vm);
		return;
	}
	r = loop_add(vc->d->loop, ivctl_sock(vc->ctl), EPOLLIN, vm_ctl_sock, vc, &vc->sock_src);
	for (unsigned int i = 0; r >= 0 && i < VIRTIO_VMBUF_CTL_VECTORS; i++)
		r = loop_add(vc->d->loop, ivctl_doorbell_fd(vc->ctl, i), EPOLLIN, vm_doorbell,
			     &vc->db[i], &vc->db[i].src);
	if (r < 0) {
		log_err("vm '%s': cannot watch control device: %s", name, strerror(-r));
		vm_ctl_close(vc);
		return;
	}
	log_info("vm '%s': control connection open", name);
}

/* ---- pool devices ---- */

static void pool_conn_close(struct pool_conn *pc)
{
	loop_remove(pc->sock_src);
	pc->sock_src = NULL;
	ivpool_leave(&pc->ps->iv, pc->vc->slot);
	log_info("vm '%s': pool '%s' connection closed", core_vm_name(pc->vc->vm),
		 pc->ps->pool->name);
}

static void pool_conn_sock(struct loop_source *src, uint32_t events, void *data)
{
	struct pool_conn *pc = data;

	(void)src;
	if (sock_hung_up(ivpool_sock(&pc->ps->iv, pc->vc->slot), events))
		pool_conn_close(pc);
}

static void pool_conn_accept(struct loop_source *src, uint32_t events, void *data)
{
	struct pool_conn *pc = data;
	const char *vm = core_vm_name(pc->vc->vm);
	int fd, r;

	(void)src;
	(void)events;
	fd = accept_one(pc->listen);
	if (fd < 0)
		return;
	r = ivpool_join(&pc->ps->iv, pc->vc->slot, fd,
			core_pool_position(pc->ps->pool, pc->vc->vm));
	if (r < 0) {
		log_warn("vm '%s': pool '%s' connection refused: %s", vm, pc->ps->pool->name,
			 r == -EBUSY ? "already connected (EBUSY)" : strerror(-r));
		return;
	}
	r = loop_add(pc->vc->d->loop, ivpool_sock(&pc->ps->iv, pc->vc->slot), EPOLLIN,
		     pool_conn_sock, pc, &pc->sock_src);
	if (r < 0) {
		ivpool_leave(&pc->ps->iv, pc->vc->slot);
		return;
	}
	log_info("vm '%s': pool '%s' connection open", vm, pc->ps->pool->name);
}

/* ---- setup and teardown ---- */

static int make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int daemon_setup(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	char path[512];
	int r;

	if (cfg->socket_group[0]) {
		struct group *g = getgrnam(cfg->socket_group);

		if (!g) {
			log_err("socket-group '%s': no such group", cfg->socket_group);
			return -ENOENT;
		}
		socket_gid = g->gr_gid;
	}
	r = make_dir(cfg->socket_dir, 0755);
	if (r < 0) {
		log_err("socket directory '%s': %s", cfg->socket_dir, strerror(-r));
		return r;
	}
	d->pools = calloc(core_pool_count(d->core) + 1, sizeof(*d->pools));
	d->vms = calloc(core_vm_count(d->core) + 1, sizeof(*d->vms));
	if (!d->pools || !d->vms)
		return -ENOMEM;
	for (unsigned int i = 0; i < core_pool_count(d->core); i++) {
		struct pool *p = core_pool_at(d->core, i);

		d->pools[i].pool = p;
		ivpool_init(&d->pools[i].iv, p->name, p->memfd, VIRTIO_VMBUF_POOL_VECTORS);
	}
	for (unsigned int i = 0; i < core_vm_count(d->core); i++) {
		struct vm_conn *vc = &d->vms[i];

		vc->d = d;
		vc->vm = core_vm_at(d->core, i);
		vc->slot = i + 1;
		vc->listen = -1;
		for (unsigned int v = 0; v < VIRTIO_VMBUF_CTL_VECTORS; v++)
			vc->db[v] = (struct doorbell){ .vc = vc, .vector = v };
		r = str_printf(vc->dir, sizeof(vc->dir), "%s/%s", cfg->socket_dir,
			       core_vm_name(vc->vm));
		if (r >= 0)
			r = make_dir(vc->dir, 0750);
		if (r >= 0)
			r = own(vc->dir);
		if (r < 0) {
			log_err("vm '%s': directory '%s': %s", core_vm_name(vc->vm), vc->dir,
				strerror(-r));
			return r;
		}
		r = str_printf(vc->path, sizeof(vc->path), "%s/ctl.sock", vc->dir);
		if (r >= 0)
			r = listen_unix(vc->path, &vc->listen);
		if (r >= 0)
			r = loop_add(d->loop, vc->listen, EPOLLIN, vm_ctl_accept, vc, &vc->listen_src);
		if (r < 0) {
			log_err("vm '%s': socket '%s': %s", core_vm_name(vc->vm), vc->path,
				strerror(-r));
			return r;
		}
		for (unsigned int p = 0; p < core_pool_count(d->core); p++) {
			struct pool_conn *pc;

			if (!core_pool_has_member(d->core, d->pools[p].pool, vc->vm))
				continue;
			pc = &vc->pools[vc->npools++];
			pc->vc = vc;
			pc->ps = &d->pools[p];
			pc->listen = -1;
			r = str_printf(pc->path, sizeof(pc->path), "%s/pool-%s.sock", vc->dir,
				       d->pools[p].pool->name);
			if (r >= 0)
				r = listen_unix(pc->path, &pc->listen);
			if (r >= 0)
				r = loop_add(d->loop, pc->listen, EPOLLIN, pool_conn_accept, pc,
					     &pc->listen_src);
			if (r < 0) {
				log_err("vm '%s': socket '%s': %s", core_vm_name(vc->vm), pc->path,
					strerror(-r));
				return r;
			}
		}
	}
	r = str_printf(path, sizeof(path), "%s/%s", cfg->socket_dir, VMBUF_HOST_SOCK);
	if (r < 0) {
		log_err("host socket path too long");
		return r;
	}
	{
		gid_t gid = (gid_t)-1;

		if (cfg->host_group[0]) {
			struct group *g = getgrnam(cfg->host_group);

			if (!g) {
				log_err("host-group '%s': no such group", cfg->host_group);
				return -ENOENT;
			}
			gid = g->gr_gid;
		}
		r = hostapi_new(&d->host, d->loop, d->core, path, gid);
	}
	if (r < 0) {
		log_err("host socket '%s': %s", path, strerror(-r));
		return r;
	}
	return 0;
}

static void daemon_teardown(struct daemon *d)
{
	hostapi_free(d->host);
	for (unsigned int i = 0; d->vms && i < core_vm_count(d->core); i++) {
		struct vm_conn *vc = &d->vms[i];

		if (vc->d != d)
			continue;
		vm_ctl_close(vc);
		for (unsigned int p = 0; p < vc->npools; p++) {
			struct pool_conn *pc = &vc->pools[p];

			if (pc->sock_src)
				pool_conn_close(pc);
			loop_remove(pc->listen_src);
			if (pc->listen >= 0) {
				close(pc->listen);
				unlink(pc->path);
			}
		}
		loop_remove(vc->listen_src);
		if (vc->listen >= 0) {
			close(vc->listen);
			unlink(vc->path);
		}
		rmdir(vc->dir);
	}
	for (unsigned int i = 0; d->pools && i < core_pool_count(d->core); i++)
		if (d->pools[i].pool)
			ivpool_fini(&d->pools[i].iv);
	free(d->vms);
	free(d->pools);
}

static void on_signal(struct loop_source *src, uint32_t events, void *data)
{
	struct daemon *d = data;
	struct signalfd_siginfo si;

	(void)src;
	(void)events;
	if (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: shutting down", si.ssi_signo);
		d->quit = true;
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmbufd [OPTION]...\n"
		"Serve vmbuf shared-buffer pools to QEMU virtual machines.\n"
		"\n"
		"vmbufd reads its configuration (pools, VMs, quotas), creates one sealed memfd\n"
		"per pool and listens, for every VM, on SOCKET_DIR/VM/ctl.sock (the VM's private\n"
		"virtio-vmbuf control device, an ivshmem-doorbell server) and on\n"
		"SOCKET_DIR/VM/pool-POOL.sock for each pool the VM belongs to, plus\n"
		"SOCKET_DIR/host.sock for vmbufctl and libvmbuf.\n"
		"\n"
		"Options:\n"
		"  -c, --config=FILE       configuration file (default %s)\n"
		"  -s, --socket-dir=DIR    override the configured socket directory\n"
		"                          (default /run/vmbuf)\n"
		"      --check             validate the configuration, print a summary, exit\n"
		"  -v, --verbose           log debug events too\n"
		"  -q, --quiet             log warnings and errors only\n"
		"  -h, --help              show this help and exit\n"
		"  -V, --version           show the version and exit\n"
		"\n"
		"Signals: SIGTERM and SIGINT shut down cleanly; the VMs' devices stop working.\n"
		"Exit status: 0 on clean shutdown, 1 on a configuration or start-up error,\n"
		"2 on a usage error.\n"
		"See vmbufd(8), vmbufd.conf(5) and docs/ in the source tree.\n",
		DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket-dir", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	const char *config_path = DEFAULT_CONFIG, *socket_dir = NULL;
	enum log_level level = LOG_INFO;
	struct daemon d = { .sigfd = -1 };
	bool check = false;
	char err[512];
	sigset_t mask;
	int c, r, ret = 1;

	while ((c = getopt_long(argc, argv, "c:s:vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 's': socket_dir = optarg; break;
		case 'C': check = true; break;
		case 'v': level = LOG_DEBUG; break;
		case 'q': level = LOG_WARN; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vmbufd %s\n", VMBUF_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vmbufd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init("vmbufd", level);

	d.cfg = malloc(sizeof(*d.cfg));
	if (!d.cfg)
		return 1;
	config_init(d.cfg);
	if (config_load(d.cfg, config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmbufd: %s\n", err);
		free(d.cfg);
		return 1;
	}
	if (socket_dir) {
		if (socket_dir[0] != '/' || strlen(socket_dir) >= sizeof(d.cfg->socket_dir) - 64) {
			fprintf(stderr, "vmbufd: --socket-dir must be a short absolute path\n");
			free(d.cfg);
			return 2;
		}
		snprintf(d.cfg->socket_dir, sizeof(d.cfg->socket_dir), "%s", socket_dir);
	}
	if (check) {
		printf("%s: ok: %u VM(s), %u pool(s), sockets in %s\n", config_path, d.cfg->nvms,
		       d.cfg->npools, d.cfg->socket_dir);
		free(d.cfg);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	r = loop_new(&d.loop);
	if (r >= 0)
		r = core_new(&d.core, d.cfg);
	if (r >= 0 && d.sigfd >= 0)
		r = loop_add(d.loop, d.sigfd, EPOLLIN, on_signal, &d, NULL);
	if (r >= 0)
		r = daemon_setup(&d);
	if (r >= 0)
		core_set_event_sink(d.core, on_core_event, &d);
	if (r < 0) {
		log_err("start-up failed: %s", strerror(-r));
		goto out;
	}
	log_info("ready: %u VM(s), %u pool(s), sockets in %s", d.cfg->nvms, d.cfg->npools,
		 d.cfg->socket_dir);
	while (!d.quit) {
		r = loop_dispatch(d.loop, -1);
		if (r < 0) {
			log_err("event loop: %s", strerror(-r));
			goto out;
		}
	}
	ret = 0;
out:
	if (d.core) {
		core_set_event_sink(d.core, NULL, NULL);
		daemon_teardown(&d);
	}
	core_free(d.core);
	loop_free(d.loop);
	closep(&d.sigfd);
	free(d.cfg);
	return ret;
}
