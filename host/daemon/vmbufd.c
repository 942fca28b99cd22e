/*
 * vmbufd - the vmbuf host daemon's program: options, configuration, the
 * core, and the transports started on one epoll loop that never blocks on a
 * guest (ivshmem: vhost-user/ivshmem/ivshmem_server.c; host clients:
 * hostapi.c). SIGTERM and SIGINT stop it cleanly (sockets removed, memory
 * freed); SIGHUP reads the configuration again (reconfig.c).
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
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "hostapi.h"
#include "hostproto.h"
#include "journal.h"
#include "ivshmem_server.h"
#include "vhost_user_server.h"
#include "log.h"
#include "loop.h"
#include "reconfig.h"
#include "socket.h"
#include "util.h"

#ifndef VMBUF_VERSION
#define VMBUF_VERSION "0"
#endif
#define DEFAULT_CONFIG "/etc/vmbuf/vmbufd.conf"

struct daemon {
	struct reconfig rc;	/* the configuration (rc.cfg) and what runs from it */
	struct core *core;
	struct loop *loop;
	struct ivshmem_server *ivshmem;
	struct vhost_user_server *vhost_user;
	struct hostapi *host;
	int sigfd;
	bool quit;
};

/* A group from the config: its gid, (gid_t)-1 for none, or -ENOENT (logged). */
static int config_group(const char *what, const char *name, gid_t *gid)
{
	struct group *g;

	*gid = (gid_t)-1;
	if (!name[0])
		return 0;
	g = getgrnam(name);
	if (!g) {
		log_err("%s '%s': no such group", what, name);
		return -ENOENT;
	}
	*gid = g->gr_gid;
	return 0;
}

static int daemon_setup(struct daemon *d)
{
	const struct config *cfg = d->rc.cfg;
	gid_t vm_gid, host_gid;
	char path[512];
	int r;

	r = config_group("socket-group", cfg->socket_group, &vm_gid);
	if (r >= 0)
		r = config_group("host-group", cfg->host_group, &host_gid);
	if (r < 0)
		return r;
	r = socket_dir_make(cfg->socket_dir, 0755, (gid_t)-1);
	if (r < 0) {
		log_err("socket directory '%s': %s", cfg->socket_dir, strerror(-r));
		return r;
	}
	r = ivshmem_server_new(&d->ivshmem, d->loop, d->core, cfg->socket_dir, vm_gid);
	if (r >= 0)
		r = vhost_user_server_new(&d->vhost_user, d->loop, d->core, cfg->socket_dir, vm_gid);
	if (r < 0)
		return r;
	d->rc.core = d->core;
	d->rc.ivshmem = d->ivshmem;
	d->rc.vhost_user = d->vhost_user;
	r = str_printf(path, sizeof(path), "%s/%s", cfg->socket_dir, VMBUF_HOST_SOCK);
	if (r >= 0)
		r = hostapi_new(&d->host, d->loop, d->core, &d->rc, path, host_gid);
	if (r < 0)
		log_err("host socket '%s': %s", path, strerror(-r));
	return r;
}

static void daemon_teardown(struct daemon *d)
{
	hostapi_free(d->host);
	d->host = NULL;
	vhost_user_server_free(d->vhost_user);
	d->vhost_user = NULL;
	ivshmem_server_free(d->ivshmem);
	d->ivshmem = NULL;
}

/*
 * A VM without a quota may fill a pool it shares with others: valid, but
 * rarely meant; say so (on standard error, the check still passes).
 */
static void config_warn_quotas(const struct config *cfg)
{
	for (unsigned int p = 0; p < cfg->npools; p++) {
		unsigned int members = 0;

		for (unsigned int v = 0; v < cfg->nvms; v++)
			members += cfg->pools[p].member[v];
		for (unsigned int v = 0; members > 1 && v < cfg->nvms; v++)
			if (cfg->pools[p].member[v] && !cfg->vms[v].quota)
				fprintf(stderr, "%s:%u: warning: vm '%s' has no quota and can fill "
					"pool '%s', which %u VMs share\n", cfg->files[cfg->vms[v].file],
					cfg->vms[v].line,
					cfg->vms[v].name, cfg->pools[p].name, members);
	}
}

/* How long a stopping daemon waits for vhost-user guests to read that it stops. */
#define DAEMON_GONE_GRACE_MS 1000

/*
 * Guests first: their pending requests and fences end now, with ENODEV.
 * ivshmem guests read the state from shared memory at once; vhost-user ones
 * ask for it (GET_CONFIG), so keep serving until they did, briefly.
 */
static void daemon_tell_guests(struct daemon *d)
{
	struct timespec t0, t;

	core_shutdown(d->core);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (vhost_user_server_gone_unread(d->vhost_user)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >
		    DAEMON_GONE_GRACE_MS) {
			log_warn("vhost-user guests did not read that the daemon stops");
			break;
		}
		loop_dispatch(d->loop, 20);
	}
}

static void on_signal(struct loop_source *src, uint32_t events, void *data)
{
	struct daemon *d = data;
	struct signalfd_siginfo si;

	(void)src;
	(void)events;
	if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		struct reconfig_change ch = { .op = RECONFIG_RELOAD };
		char msg[600];

		log_info("SIGHUP: reading the configuration again");
		reconfig_apply(&d->rc, &ch, msg, sizeof(msg));	/* logs the outcome */
		return;
	}
	log_info("signal %u: shutting down", si.ssi_signo);
	d->quit = true;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmbufd [OPTION]...\n"
		"Serve vmbuf shared-buffer pools to QEMU virtual machines.\n"
		"\n"
		"vmbufd reads its configuration (pools, VMs, quotas), creates one sealed memfd\n"
		"per pool and listens, for every VM, on the VM's virtio-vmbuf control device,\n"
		"through either transport:\n"
		"  SOCKET_DIR/VM/ctl.sock         an ivshmem-doorbell server (QEMU >= 7.2)\n"
		"  SOCKET_DIR/VM/vhost-user.sock  a vhost-user backend (QEMU >= 10.2)\n"
		"and on SOCKET_DIR/VM/pool-POOL.sock for each pool the VM belongs to, plus\n"
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
		"SIGHUP reads the configuration and its drop-ins again; a file that does not\n"
		"check, or a change that what runs does not allow, changes nothing (logged).\n"
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
	journal_init("vmbufd");

	d.rc.cfg = malloc(sizeof(*d.rc.cfg));
	if (!d.rc.cfg)
		return 1;
	config_init(d.rc.cfg);
	if (config_load(d.rc.cfg, config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmbufd: %s\n", err);
		free(d.rc.cfg);
		return 1;
	}
	d.rc.path = config_path;
	d.rc.socket_dir = socket_dir;
	if (socket_dir) {
		if (socket_dir[0] != '/' || strlen(socket_dir) >= sizeof(d.rc.cfg->socket_dir) - 64) {
			fprintf(stderr, "vmbufd: --socket-dir must be a short absolute path\n");
			free(d.rc.cfg);
			return 2;
		}
		snprintf(d.rc.cfg->socket_dir, sizeof(d.rc.cfg->socket_dir), "%s", socket_dir);
	}
	if (check) {
		config_warn_quotas(d.rc.cfg);
		printf("%s: ok: %u VM(s), %u pool(s), sockets in %s\n", config_path, d.rc.cfg->nvms,
		       d.rc.cfg->npools, d.rc.cfg->socket_dir);
		free(d.rc.cfg);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	r = loop_new(&d.loop);
	if (r >= 0)
		r = core_new(&d.core, d.rc.cfg);
	if (r >= 0 && d.sigfd >= 0)
		r = loop_add(d.loop, d.sigfd, EPOLLIN, on_signal, &d, NULL);
	if (r >= 0)
		r = daemon_setup(&d);
	if (r < 0) {
		log_err("start-up failed: %s", strerror(-r));
		goto out;
	}
	log_info("ready: %u VM(s), %u pool(s), sockets in %s", d.rc.cfg->nvms, d.rc.cfg->npools,
		 d.rc.cfg->socket_dir);
	journal_ready();
	while (!d.quit) {
		/* Freed memory is zeroed a step per turn, between everything else. */
		bool busy = core_clean(d.core, POOL_CLEAN_STEP);

		r = loop_dispatch(d.loop, busy ? 0 : -1);
		if (r < 0) {
			log_err("event loop: %s", strerror(-r));
			goto out;
		}
	}
	ret = 0;
	journal_stopping();
	daemon_tell_guests(&d);
out:
	daemon_teardown(&d);
	core_free(d.core);
	loop_free(d.loop);
	closep(&d.sigfd);
	free(d.rc.cfg);
	return ret;
}
