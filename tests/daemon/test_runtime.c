/*
 * test_runtime - VMs and pools added and removed while the daemon runs
 * (vmbufctl vm|pool add|remove, reload, SIGHUP), against the real vmbufd
 * (argv[1]) and vmbufctl (argv[2]), with fake VMs speaking the protocol:
 *   - a VM added at run time gets its sockets at once, connects, sees its
 *     pools in HELLO and shares buffers with a VM of the main file;
 *   - a pool in use is not removed (EBUSY), a connected VM's pools do not
 *     change (EBUSY), the main file's VMs are not removed (EPERM), a name
 *     in use is refused (EEXIST), a bad value is refused with the parser's
 *     message, and none of these changes anything;
 *   - removing a connected VM disconnects it: its peers hear PEER_GONE, what
 *     it held is released, its sockets go;
 *   - a VM added in the slot of a removed one is not allowed what the old
 *     one was (EACCES);
 *   - changes survive a restart (drop-ins); SIGHUP with a drop-in that does
 *     not parse changes nothing and logs why.
 */
#include <endian.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakevm.h"
#include "../check.h"

static struct fakevm_daemon d;
static const char *vmbufd, *vmbufctl;

/* vmbufctl ARGS...: its exit status; its output (both streams) in @out. */
static int ctl(char *out, size_t len, const char *args)
{
	char cmd[1024];
	FILE *p;
	size_t n;
	int status;

	snprintf(cmd, sizeof(cmd), "%s -s %s %s 2>&1", vmbufctl, d.sockdir, args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool exists(const char *vm, const char *file)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/%s", d.sockdir, vm, file);
	return stat(path, &st) == 0;
}

static int status_has(const char *text)
{
	char out[8192];

	ctl(out, sizeof(out), "status --json");
	return strstr(out, text) != NULL;
}

static bool log_has(const char *text)
{
	char buf[65536];
	FILE *f = fopen(d.log, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, text) != NULL;
}

static int connect_vm(struct fakevm *vm, const char *name, struct virtio_vmbuf_hello_resp *h)
{
	if (fakevm_connect(vm, d.sockdir, name) < 0 || fakevm_setup(vm) < 0)
		return -1;
	return fakevm_hello(vm, h);
}

/* Is there a PEER_GONE from @who among @vm's events? */
static bool peer_gone(struct fakevm *vm, const char *who)
{
	struct virtio_vmbuf_event ev[64];
	int n;

	for (int round = 0; round < 5; round++) {
		n = fakevm_events(vm, ev, 64, 200);
		for (int i = 0; i < n; i++)
			if (le32toh(ev[i].type) == VIRTIO_VMBUF_EVT_PEER_GONE && !strcmp(ev[i].vm, who))
				return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct virtio_vmbuf_hello_resp h;
	struct fakevm a, b, c;
	uint8_t handle[VIRTIO_VMBUF_HANDLE_SIZE];
	uint64_t buf, imp;
	char out[4096], path[256];
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: test_runtime VMBUFD VMBUFCTL\n");
		return 2;
	}
	vmbufd = argv[1];
	vmbufctl = argv[2];
	CHECK(fakevm_daemon_start(&d, vmbufd, "[vm a]\nquota = 8M\n[pool p]\nsize = 8M\nmembers = a\n") == 0,
	      "daemon starts with VM a and pool p");

	/* A VM added at run time works like one of the main file. */
	CHECK(!exists("b", "ctl.sock"), "no VM b yet");
	CHECK(ctl(out, sizeof(out), "vm add b --pools p --quota 4M") == 0 && strstr(out, "1 VM added"),
	      "vm add b: %s", out);
	CHECK(exists("b", "ctl.sock") && exists("b", "pool-p.sock") && exists("b", "vhost-user.sock"),
	      "b's sockets exist at once");
	CHECK(connect_vm(&a, "a", &h) == 0, "a connects");
	CHECK(connect_vm(&b, "b", &h) == 0 && le32toh(h.npools) == 1 && !strcmp(h.pools[0].name, "p") &&
	      le64toh(h.quota_bytes) == 4ull << 20, "b connects; HELLO: pool p, quota 4M");
	CHECK(fakevm_alloc(&a, 1, 4096, &buf) == 0 && fakevm_export(&a, buf, "frame", "b", handle) == 0,
	      "a exports 'frame' to b");
	CHECK(fakevm_import(&b, "frame", NULL, &imp) == 0, "b imports it");
	CHECK(fakevm_alloc(&b, 1, 8192, &buf) == 0 && fakevm_export(&b, buf, "bframe", "a", NULL) == 0 &&
	      fakevm_import(&a, "bframe", NULL, &imp) == 0, "b exports 8 KiB 'bframe' to a, a imports");

	/* Refusals change nothing. */
	CHECK(ctl(out, sizeof(out), "vm add b") == 1 && strstr(out, "exists already") &&
	      strstr(out, "(EEXIST)"), "vm add b again: EEXIST (%s)", out);
	CHECK(ctl(out, sizeof(out), "vm remove a") == 1 && strstr(out, "vmbufd.conf:") &&
	      strstr(out, "(EPERM)"), "removing a VM of the main file: EPERM, names the line (%s)", out);
	CHECK(ctl(out, sizeof(out), "vm add c --quota lots") == 1 &&
	      strstr(out, "vm-c.conf:3: quota must be a size") && strstr(out, "(EINVAL)"),
	      "a bad value: the parser's message, file and line (%s)", out);
	CHECK(ctl(out, sizeof(out), "pool add q --size 2M --members b") == 1 &&
	      strstr(out, "vm 'b' is connected") && strstr(out, "(EBUSY)"),
	      "a connected VM's pools do not change: EBUSY (%s)", out);
	CHECK(!status_has("\"q\"") && !exists("b", "pool-q.sock"), "and pool q was not made");
	CHECK(ctl(out, sizeof(out), "pool add q --size 2M") == 0, "pool q with no members (%s)", out);
	CHECK(ctl(out, sizeof(out), "vm add c --pools q") == 0 && exists("c", "pool-q.sock"),
	      "vm c in pool q (%s)", out);
	CHECK(ctl(out, sizeof(out), "pool remove q") == 1 && strstr(out, "names unknown pool 'q'"),
	      "a pool another drop-in names is not removed (%s)", out);
	CHECK(ctl(out, sizeof(out), "vm remove c") == 0 && !exists("c", "ctl.sock") &&
	      ctl(out, sizeof(out), "pool remove q") == 0 && !status_has("\"q\""),
	      "vm c, then pool q, removed (%s)", out);

	/* Removing a connected VM: as its death. */
	CHECK(ctl(out, sizeof(out), "vm remove b") == 0 && !exists("b", "ctl.sock") &&
	      strstr(out, "1 VM removed"), "vm remove b while it is connected (%s)", out);
	CHECK(peer_gone(&a, "b"), "a hears PEER_GONE from b");
	CHECK(!status_has("\"b\"") && status_has("\"used\":12288"),
	      "b is gone from the status; p holds a's buffer and b's, which a imported");
	fakevm_close(&b);

	/* c takes b's slot: b's right to a's export is not c's. */
	CHECK(ctl(out, sizeof(out), "vm add c --pools p") == 0, "vm c added in b's slot (%s)", out);
	CHECK(connect_vm(&c, "c", &h) == 0 && fakevm_import(&c, "frame", NULL, NULL) == -EACCES,
	      "c cannot import what a allowed b (EACCES)");
	CHECK(status_has("\"name\":\"c\",\"connected\":true,\"buffers\":0,\"imports\":0,"
			 "\"waiters\":0,\"used\":0,"),
	      "c is charged nothing of what b left behind");
	{
		struct virtio_vmbuf_release r = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_RELEASE),
						  .import_id = htole64(imp) };

		CHECK(fakevm_request(&a, &r, sizeof(r), NULL, 0) == 0 && status_has("\"used\":4096"),
		      "a releases b's buffer: its pages go back to p");
	}
	fakevm_close(&c);
	fakevm_close(&a);

	/* What vmbufctl added is there after a restart. */
	CHECK(fakevm_daemon_stop(&d) == 0 && fakevm_daemon_run(&d, vmbufd) == 0,
	      "the daemon restarts");
	CHECK(exists("c", "ctl.sock") && status_has("\"c\""), "vm c is back after the restart");

	/* SIGHUP: a drop-in that does not parse changes nothing; a good one applies. */
	snprintf(path, sizeof(path), "%s/state/vmbufd.conf.d/zz.conf", d.dir);
	f = fopen(path, "w");
	fputs("[vm zz]\nquota = 1X\n", f);
	fclose(f);
	kill(d.pid, SIGHUP);
	usleep(300000);
	CHECK(log_has("zz.conf:2: quota must be a size") && !status_has("\"zz\"") &&
	      status_has("\"c\""), "SIGHUP with a bad drop-in: nothing changes, the log says why");
	f = fopen(path, "w");
	fputs("[vm zz]\npools = p\n", f);
	fclose(f);
	kill(d.pid, SIGHUP);
	usleep(300000);
	CHECK(status_has("\"zz\"") && exists("zz", "pool-p.sock"), "SIGHUP with a good one: vm zz");
	CHECK(ctl(out, sizeof(out), "reload") == 0 && strstr(out, "no change"), "reload: no change");
	CHECK(fakevm_daemon_stop(&d) == 0, "the daemon stops cleanly");
	snprintf(path, sizeof(path), "rm -rf %s", d.dir);
	if (system(path) != 0)
		return 1;
	return check_done();
}
