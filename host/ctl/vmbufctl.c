/*
 * vmbufctl - command-line client of vmbufd's host socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "hostproto.h"
#include "config.h"
#include "libvirt.h"
#include "snapshot.h"
#include "textforms.h"
#include "libvmbuf.h"
#include <linux/virtio_vmbuf.h>
#include <linux/vmbuf_ivshmem.h>
#include "util.h"

static const char *socket_dir = "/run/vmbuf";

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmbufctl [OPTION]... COMMAND [ARG]...\n"
		"Inspect and control the vmbuf daemon (vmbufd) through SOCKET_DIR/host.sock.\n"
		"\n"
		"Commands:\n"
		"  status [--json]             pools (size, used bytes, buffers with owner,\n"
		"                              offset and size) and VMs (connected, usage)\n"
		"  libvirt-xml [-c CONFIG] [-t TRANSPORT] [--devices | --metadata] VM [VM-OPTION]...\n"
		"                              print what VM needs in its libvirt domain, read from\n"
		"                              the daemon's configuration (default\n"
		"                              /etc/vmbuf/vmbufd.conf), or, for a VM the libvirt hook\n"
		"                              will register, from the options of 'vm add' (--pools,\n"
		"                              --quota, ...). The devices: for TRANSPORT ivshmem\n"
		"                              (default) <shmem> devices (control device and one per\n"
		"                              pool), for virsh attach-device --config or pasting into\n"
		"                              <devices>; for vhost-user (QEMU >= 10.2) a shared memfd\n"
		"                              <memoryBacking> and a <qemu:commandline> for the\n"
		"                              vhost-user device, to put directly under <domain>\n"
		"                              (libvirt marks such a domain tainted). Then the\n"
		"                              <vmbuf:vm> element for <metadata>: with it, the hook\n"
		"                              adds the VM when the domain starts and removes it\n"
		"                              when it stops (docs/libvirt.md)\n"
		"  libvirt-hook [-c CONFIG] DOMAIN OPERATION SUBOPERATION [EXTRA]\n"
		"                              the libvirt QEMU hook (libvirtd runs it as\n"
		"                              /etc/libvirt/hooks/qemu.d/vmbuf, domain XML on\n"
		"                              standard input): 'prepare begin' sets the VM the\n"
		"                              domain's <vmbuf:vm> describes, 'release end' removes it\n"
		"  import (-n NAME | -H HANDLE) [-c PAT] [-f PAT] [-k]\n"
		"                              import a VM's export (it must allow the host): print\n"
		"                              size, owner, metadata and whether a dma-buf came\n"
		"                              from /dev/udmabuf; check or fill a pattern (0xNN or\n"
		"                              seq:SEED); with -k hold it until a line on stdin\n"
		"  export -p POOL -s SIZE [-f PAT] [-n NAME] [-t VM,...] [-P] [-O] [-S] [-k]\n"
		"                              allocate in POOL from the host, fill, share with the\n"
		"                              VMs named (-P: all pool members, -O: other host\n"
		"                              clients, -S: importers may signal); prints 'handle HEX'.\n"
		"                              Each vmbufctl process is its own host client: only\n"
		"                              the exporting one owns the buffer\n"
		"  signal HANDLE VALUE [-e ERRNO]\n"
		"                              advance an export's timeline\n"
		"  wait HANDLE VALUE [-t MS]   wait until the timeline reaches VALUE\n"
		"  snapshot (NAME | -H HANDLE) OUT.png\n"
		"                              import an export the host may see and write its\n"
		"                              image as PNG, per its metadata: XRGB8888, ARGB8888\n"
		"                              or NV12\n"
		"  list                        pools and exports this host client may see\n"
		"  read POOL OFFSET LENGTH     write LENGTH bytes of POOL at OFFSET to standard\n"
		"       [--hex]                output (raw, or a hex dump with --hex); root only;\n"
		"                              LENGTH <= 65536; numbers may be 0x hex\n"
		"\n"
		"Configuration at run time (root or the daemon's host-group; each change is\n"
		"checked like vmbufd.conf, takes effect at once and is kept as a drop-in in\n"
		"STATE-DIR/vmbufd.conf.d, so it survives a restart):\n"
		"  vm add NAME [--pools P,...] [--quota SIZE] [--max-buffers N]\n"
		"         [--max-waiters N] [--fence-timeout-ms MS]\n"
		"                              a new VM: its sockets appear under SOCKET_DIR/NAME\n"
		"  vm remove NAME              a VM added so: disconnected if running (its buffers\n"
		"                              are released, as at its death), sockets removed\n"
		"  pool add NAME --size SIZE [--members VM,...] [--reclaim]\n"
		"                              a new pool (a member must not be running: EBUSY)\n"
		"  pool remove NAME            a pool added so, unless in use (buffers held or a\n"
		"                              member connected: EBUSY)\n"
		"  reload                      read vmbufd.conf and the drop-ins again (as SIGHUP);\n"
		"                              a file that does not check changes nothing\n"
		"\n"
		"Options:\n"
		"  -s, --socket-dir=DIR        the daemon's socket directory (default /run/vmbuf,\n"
		"                              or $VMBUF_SOCKET_DIR)\n"
		"  -h, --help                  show this help and exit\n"
		"\n"
		"Exit status: 0 on success, 1 when the daemon refused or failed the request,\n"
		"2 on a usage error.\n");
}

static struct vmbuf_client *client(void)
{
	struct vmbuf_client *c = vmbuf_client_connect(socket_dir);

	if (!c)
		fprintf(stderr, "vmbufctl: cannot reach vmbufd at %s/host.sock: %s\n", socket_dir,
			strerror(errno));
	return c;
}

/* The daemon's state, parsed (json-c): the root object, or NULL after printing why. */
static struct json_object *status_fetch(void)
{
	_cleanup_free_ char *json = NULL;
	struct vmbuf_client *c = client();
	struct json_object *root;

	if (!c)
		return NULL;
	json = vmbuf_client_status_json(c);
	vmbuf_client_disconnect(c);
	if (!json) {
		fprintf(stderr, "vmbufctl: status: %s\n", strerror(errno));
		return NULL;
	}
	root = json_tokener_parse(json);
	if (!root)
		fprintf(stderr, "vmbufctl: status: the daemon's answer is not JSON\n");
	return root;
}

/* Member @key of @o: its text, "" when missing; "-" for null. */
static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "";
	return v ? json_object_get_string(v) : "-";
}

static uint64_t ju64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

static struct json_object *jarray(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ?
		       v : NULL;
}

static int cmd_status(int argc, char **argv)
{
	bool as_json = argc > 1 && !strcmp(argv[1], "--json");
	struct json_object *root, *pools, *vms;

	if (argc > 2 || (argc == 2 && !as_json)) {
		fprintf(stderr, "vmbufctl: status takes only --json\n");
		return 2;
	}
	root = status_fetch();
	if (!root)
		return 1;
	if (as_json) {
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
		json_object_put(root);
		return 0;
	}
	pools = jarray(root, "pools");
	vms = jarray(root, "vms");
	printf("%-16s %12s %12s %12s %8s\n", "POOL", "SIZE", "USED", "ZEROING", "BUFFERS");
	for (size_t i = 0; pools && i < json_object_array_length(pools); i++) {
		struct json_object *p = json_object_array_get_idx(pools, i);
		struct json_object *bufs = jarray(p, "buffers");
		size_t nb = bufs ? json_object_array_length(bufs) : 0;

		printf("%-16s %12s %12s %12s %8zu\n", jstr(p, "name"), jstr(p, "size"),
		       jstr(p, "used"), jstr(p, "zeroing"), nb);
		for (size_t j = 0; j < nb; j++) {
			struct json_object *b = json_object_array_get_idx(bufs, j);
			char seg[64];

			snprintf(seg, sizeof(seg), "buffer %s", jstr(b, "id"));
			printf("  %-14s owner %-12s offset %-12s size %s\n", seg, jstr(b, "owner"),
			       jstr(b, "offset"), jstr(b, "size"));
		}
	}
	printf("\n%-16s %9s %8s %8s %12s %12s\n", "VM", "CONNECTED", "BUFFERS", "IMPORTS", "USED",
	       "QUOTA");
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *v = json_object_array_get_idx(vms, i);

		printf("%-16s %9s %8s %8s %12s %12s\n", jstr(v, "name"),
		       !strcmp(jstr(v, "connected"), "true") ? "yes" : "no", jstr(v, "buffers"),
		       jstr(v, "imports"), jstr(v, "used"),
		       ju64(v, "quota") ? jstr(v, "quota") : "none");
	}
	printf("\n%-16s %10s %8s %14s %10s %10s %10s\n", "VM", "REQUESTS", "ERRORS", "ALLOCATED",
	       "SIGNALLED", "WAITED", "ABANDONED");
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *v = json_object_array_get_idx(vms, i), *k;

		if (!json_object_object_get_ex(v, "counters", &k))
			continue;
		printf("%-16s %10s %8s %14s %10s %10s %10s\n", jstr(v, "name"),
		       jstr(k, "requests"), jstr(k, "errors"), jstr(k, "bytes_allocated"),
		       jstr(k, "fences_signalled"), jstr(k, "fences_waited"),
		       jstr(k, "waits_abandoned"));
	}
	json_object_put(root);
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	static char data[VMBUF_HOST_PAYLOAD_MAX];
	uint64_t offset, length;
	struct vmbuf_client *c;
	bool hex = false;
	ssize_t len;

	if (argc == 5 && !strcmp(argv[4], "--hex"))
		hex = true;
	else if (argc != 4) {
		fprintf(stderr, "vmbufctl: usage: read POOL OFFSET LENGTH [--hex]\n");
		return 2;
	}
	if (strlen(argv[1]) >= 32 || parse_u64(argv[2], &offset) < 0 ||
	    parse_u64(argv[3], &length) < 0 || length > sizeof(data)) {
		fprintf(stderr, "vmbufctl: read: bad pool name, offset or length (at most 65536)\n");
		return 2;
	}
	c = client();
	if (!c)
		return 1;
	len = vmbuf_client_read_pool(c, argv[1], offset, data, length);
	if (len < 0) {
		int e = errno;

		fprintf(stderr, "vmbufctl: read pool '%s' at %s: %s (%s)\n", argv[1], argv[2],
			e == ENOENT ? "no such pool" :
			e == EPERM ? "only root may read pool memory" :
			e == EINVAL ? "range outside the pool" : strerror(e), errno_name(e));
		vmbuf_client_disconnect(c);
		return 1;
	}
	vmbuf_client_disconnect(c);
	if (!hex)
		return write_all(STDOUT_FILENO, data, len) < 0;
	for (ssize_t i = 0; i < len; i += 16) {
		printf("%08llx ", (unsigned long long)(offset + i));
		for (ssize_t j = i; j < i + 16 && j < len; j++)
			printf(" %02x", (unsigned char)data[j]);
		printf("\n");
	}
	return 0;
}

/* Check and fill through the mapping; returns 0 or 1 after printing why. */
static int buffer_touch(struct vmbuf_buffer *b, const char *check, const char *fill)
{
	int seq;
	uint8_t v;
	uint8_t *p;

	if (!check && !fill)
		return 0;
	p = vmbuf_buffer_map(b);
	if (!p) {
		fprintf(stderr, "vmbufctl: map: %s\n", strerror(errno));
		return 1;
	}
	if (check) {
		long at;

		if (pattern_parse(check, &seq, &v) < 0)
			return 1;
		at = pattern_check(p, vmbuf_buffer_size(b), seq, v);
		if (at >= 0) {
			printf("check %s failed at byte %ld\n", check, at);
			return 1;
		}
		printf("check %s ok\n", check);
	}
	if (fill) {
		if (pattern_parse(fill, &seq, &v) < 0)
			return 1;
		pattern_fill(p, vmbuf_buffer_size(b), seq, v);
		printf("filled %s\n", fill);
	}
	return 0;
}

static void hold_until_line(void)
{
	char line[16];

	printf("holding\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		(void)0;
}

static int cmd_import(int argc, char **argv)
{
	const char *name = NULL, *hex = NULL, *check = NULL, *fill = NULL;
	uint8_t handle[VMBUF_HANDLE_SIZE];
	char out[2 * VMBUF_HANDLE_SIZE + 1];
	struct vmbuf_client *c;
	struct vmbuf_buffer *b;
	const struct vmbuf_meta *m;
	int hold = 0, ret, opt, dmabuf;

	optind = 1;
	while ((opt = getopt(argc, argv, "n:H:c:f:k")) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'H': hex = optarg; break;
		case 'c': check = optarg; break;
		case 'f': fill = optarg; break;
		case 'k': hold = 1; break;
		default: return 2;
		}
	}
	if (!name == !hex || (hex && handle_parse(handle, hex) < 0)) {
		fprintf(stderr, "vmbufctl: usage: import (-n NAME | -H HANDLE) [-c PAT] [-f PAT] [-k]\n");
		return 2;
	}
	c = client();
	if (!c)
		return 1;
	b = vmbuf_buffer_import(c, name, hex ? handle : NULL);
	if (!b) {
		int e = errno;

		fprintf(stderr, "vmbufctl: import '%s': %s (%s)\n", name ? name : hex,
			e == ENOENT ? "no such export" :
			e == EACCES ? "not shared with the host" : strerror(e), errno_name(e));
		vmbuf_client_disconnect(c);
		return 1;
	}
	m = vmbuf_buffer_meta(b);
	handle_format(out, vmbuf_buffer_handle(b));
	dmabuf = vmbuf_buffer_dmabuf(b);
	printf("imported %llu bytes from VM '%s' (handle %s) as %s\n",
	       (unsigned long long)vmbuf_buffer_size(b), vmbuf_buffer_owner(b), out,
	       dmabuf >= 0 ? "a udmabuf dma-buf" : "memfd + offset (no /dev/udmabuf)");
	printf("meta %ux%u fourcc %.4s stride %u label '%s'\n", m->width, m->height,
	       m->fourcc ? (const char *)&m->fourcc : "----", m->strides[0], m->label);
	ret = buffer_touch(b, check, fill);
	if (!ret && hold)
		hold_until_line();
	vmbuf_buffer_release(b);
	vmbuf_client_disconnect(c);
	return ret;
}

static int cmd_export(int argc, char **argv)
{
	const char *pool = NULL, *name = NULL, *fill = NULL, *vms[8];
	unsigned long long size = 0;
	unsigned int nvms = 0, flags = 0;
	uint8_t handle[VMBUF_HANDLE_SIZE];
	char out[2 * VMBUF_HANDLE_SIZE + 1];
	struct vmbuf_client *c;
	struct vmbuf_buffer *b;
	int hold = 0, ret = 0, opt;

	optind = 1;
	while ((opt = getopt(argc, argv, "p:s:f:n:t:PSOk")) != -1) {
		switch (opt) {
		case 'p': pool = optarg; break;
		case 's': {
			uint64_t v;

			if (parse_size(optarg, &v) < 0)
				return 2;
			size = v;
			break;
		}
		case 'f': fill = optarg; break;
		case 'n': name = optarg; break;
		case 't':
			if (vm_list_parse(optarg, vms, &nvms, 8) < 0) {
				fprintf(stderr, "vmbufctl: export: -t takes at most 8 valid VM names\n");
				return 2;
			}
			break;
		case 'P': flags |= VMBUF_EXPORT_POOL; break;
		case 'S': flags |= VMBUF_EXPORT_SIGNAL; break;
		case 'O': flags |= VMBUF_EXPORT_HOST; break;
		case 'k': hold = 1; break;
		default: return 2;
		}
	}
	if (!pool || !size) {
		fprintf(stderr, "vmbufctl: usage: export -p POOL -s SIZE [-f PAT] [-n NAME] [-t VM,...] [-P] [-O] [-S] [-k]\n");
		return 2;
	}
	c = client();
	if (!c)
		return 1;
	b = vmbuf_buffer_alloc(c, pool, size);
	if (!b) {
		fprintf(stderr, "vmbufctl: export: allocate %llu bytes in pool '%s': %s (%s)\n", size,
			pool, strerror(errno), errno_name(errno));
		vmbuf_client_disconnect(c);
		return 1;
	}
	if (buffer_touch(b, NULL, fill) ||
	    vmbuf_buffer_export(b, name, flags, vms, nvms, NULL, handle) < 0) {
		fprintf(stderr, "vmbufctl: export '%s': %s (%s)\n", name ? name : "", strerror(errno),
			errno_name(errno));
		ret = 1;
	} else {
		handle_format(out, handle);
		printf("handle %s\nexported '%s'\n", out, name ? name : "");
		if (hold)
			hold_until_line();
	}
	vmbuf_buffer_release(b);
	vmbuf_client_disconnect(c);
	return ret;
}

static int cmd_snapshot(int argc, char **argv)
{
	const char *name = NULL, *out = NULL;
	uint8_t handle[VMBUF_HANDLE_SIZE];
	struct vmbuf_client *c;
	struct vmbuf_buffer *b;
	const struct vmbuf_meta *m;
	void *p;
	int r;

	if (argc == 3) {
		name = argv[1];
		out = argv[2];
	} else if (argc == 4 && !strcmp(argv[1], "-H") && handle_parse(handle, argv[2]) == 0) {
		out = argv[3];
	} else {
		fprintf(stderr, "vmbufctl: usage: snapshot (NAME | -H HANDLE) OUT.png\n");
		return 2;
	}
	c = client();
	if (!c)
		return 1;
	b = vmbuf_buffer_import(c, name, name ? NULL : handle);
	if (!b) {
		int e = errno;

		fprintf(stderr, "vmbufctl: snapshot '%s': %s (%s)\n", name ? name : argv[2],
			e == ENOENT ? "no such export" :
			e == EACCES ? "not shared with the host" : strerror(e), errno_name(e));
		vmbuf_client_disconnect(c);
		return 1;
	}
	m = vmbuf_buffer_meta(b);
	p = vmbuf_buffer_map(b);
	r = p ? snapshot_png(p, vmbuf_buffer_size(b), m, out) : -errno;
	if (r < 0)
		fprintf(stderr, "vmbufctl: snapshot '%s': %s (%s)\n", name ? name : argv[2],
			r == -EINVAL ? "its metadata does not describe an image inside the buffer" :
			r == -EOPNOTSUPP ? "pixel format not supported (XR24, AR24, NV12)" :
			strerror(-r), errno_name(-r));
	else
		printf("snapshot %ux%u %.4s from VM '%s' written to %s\n", m->width, m->height,
		       (const char *)&m->fourcc, vmbuf_buffer_owner(b), out);
	vmbuf_buffer_release(b);
	vmbuf_client_disconnect(c);
	return r < 0;
}

static int cmd_list(void)
{
	struct json_object *root = status_fetch(), *pools;

	if (!root)
		return 1;
	pools = jarray(root, "pools");
	printf("%-16s %-16s %-12s %12s %s\n", "POOL", "EXPORT", "OWNER", "SIZE", "HANDLE");
	for (size_t i = 0; pools && i < json_object_array_length(pools); i++) {
		struct json_object *p = json_object_array_get_idx(pools, i);
		struct json_object *bufs = jarray(p, "buffers");

		for (size_t j = 0; bufs && j < json_object_array_length(bufs); j++) {
			struct json_object *b = json_object_array_get_idx(bufs, j), *x;
			const char *name;

			if (!json_object_object_get_ex(b, "export", &x) || !x)
				continue;
			name = jstr(x, "name");
			printf("%-16s %-16s %-12s %12s %s...\n", jstr(p, "name"), name[0] ? name : "-",
			       jstr(b, "owner"), jstr(b, "size"), jstr(x, "handle_prefix"));
		}
	}
	json_object_put(root);
	return 0;
}

/* vmbuf_wait() done the event-loop way: an eventfd, poll, dispatch. */
static int wait_eventfd(struct vmbuf_client *c, const uint8_t *handle, uint64_t value, int ms)
{
	int efd = vmbuf_watch(c, handle, value), r;
	struct pollfd p[2] = { { .fd = efd, .events = POLLIN },
			       { .fd = vmbuf_client_fd(c), .events = POLLIN } };

	if (efd < 0)
		return -1;
	for (;;) {
		r = poll(p, 2, ms);
		if (r <= 0) {
			int e = r == 0 ? ETIMEDOUT : errno;

			vmbuf_watch_cancel(c, efd);
			errno = e;
			return -1;
		}
		if (p[1].revents && vmbuf_client_dispatch(c) < 0)
			break;
		if (p[0].revents & POLLIN)
			break;
	}
	r = vmbuf_watch_error(c, efd);
	close(efd);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

static int cmd_timeline(int argc, char **argv, bool wait)
{
	uint8_t handle[VMBUF_HANDLE_SIZE];
	uint64_t value;
	struct vmbuf_client *c;
	int extra = 0, r;

	if ((argc != 3 && argc != 5) || handle_parse(handle, argv[1]) < 0 ||
	    parse_u64(argv[2], &value) < 0 ||
	    (argc == 5 && strcmp(argv[3], wait ? "-t" : "-e"))) {
		fprintf(stderr, "vmbufctl: usage: %s\n",
			wait ? "wait HANDLE VALUE [-t MS]" : "signal HANDLE VALUE [-e ERRNO]");
		return 2;
	}
	if (argc == 5)
		extra = atoi(argv[4]);
	c = client();
	if (!c)
		return 1;
	r = wait ? wait_eventfd(c, handle, value, argc == 5 ? extra : 60000) :
		   vmbuf_signal(c, handle, value, -abs(extra));
	if (r < 0)
		fprintf(stderr, "vmbufctl: %s %.8s... %llu: %s (%s)\n", wait ? "wait" : "signal",
			argv[1], (unsigned long long)value, strerror(errno), errno_name(errno));
	else
		printf("%s %llu\n", wait ? "reached" : "signalled", (unsigned long long)value);
	vmbuf_client_disconnect(c);
	return r < 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *env = getenv("VMBUF_SOCKET_DIR");
	int c;

	if (env && *env)
		socket_dir = env;
	while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': socket_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[0], "status"))
		return cmd_status(argc, argv);
	if (!strcmp(argv[0], "read"))
		return cmd_read(argc, argv);
	if (!strcmp(argv[0], "libvirt-xml"))
		return libvirt_cmd_xml(argc, argv);
	if (!strcmp(argv[0], "libvirt-hook"))
		return libvirt_cmd_hook(socket_dir, argc, argv);
	if (!strcmp(argv[0], "import"))
		return cmd_import(argc, argv);
	if (!strcmp(argv[0], "snapshot"))
		return cmd_snapshot(argc, argv);
	if (!strcmp(argv[0], "list"))
		return cmd_list();
	if (!strcmp(argv[0], "export"))
		return cmd_export(argc, argv);
	if (!strcmp(argv[0], "signal"))
		return cmd_timeline(argc, argv, false);
	if (!strcmp(argv[0], "wait"))
		return cmd_timeline(argc, argv, true);
	if (!strcmp(argv[0], "vm"))
		return admin_cmd_vm(socket_dir, argc, argv);
	if (!strcmp(argv[0], "pool"))
		return admin_cmd_pool(socket_dir, argc, argv);
	if (!strcmp(argv[0], "reload"))
		return admin_cmd_reload(socket_dir, argc, argv);
	fprintf(stderr, "vmbufctl: unknown command '%s' (try --help)\n", argv[0]);
	return 2;
}
