/*
 * vmbufctl - command-line client of vmbufd's host socket.
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostproto.h"
#include "config.h"
#include "libvmbuf.h"
#include <linux/virtio_vmbuf.h>
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
		"  libvirt-xml [-c CONFIG] VM  print the <shmem> devices VM needs in its libvirt\n"
		"                              domain (control device and one per pool), read from\n"
		"                              the daemon's configuration (default\n"
		"                              /etc/vmbuf/vmbufd.conf); for virsh attach-device\n"
		"                              --config, one element at a time, or pasting\n"
		"  read POOL OFFSET LENGTH     write LENGTH bytes of POOL at OFFSET to standard\n"
		"       [--hex]                output (raw, or a hex dump with --hex); root only;\n"
		"                              LENGTH <= 65536; numbers may be 0x hex\n"
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

/* A minimal reader for the daemon's own JSON, enough for the text view. */
static const char *json_next(const char *p, const char *key, char *val, size_t vlen)
{
	char pat[64];
	const char *q;
	size_t n;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(p, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	if (*p == '"') {
		q = strchr(p + 1, '"');
		n = q ? (size_t)(q - p - 1) : 0;
		p++;
	} else {
		q = p + strcspn(p, ",}]");
		n = q - p;
	}
	if (n >= vlen)
		n = vlen - 1;
	memcpy(val, p, n);
	val[n] = '\0';
	return q;
}

static int cmd_status(int argc, char **argv)
{
	_cleanup_free_ char *json = NULL;
	bool as_json = argc > 1 && !strcmp(argv[1], "--json");
	struct vmbuf_client *c;
	const char *p, *vms;

	if (argc > 2 || (argc == 2 && !as_json)) {
		fprintf(stderr, "vmbufctl: status takes only --json\n");
		return 2;
	}
	c = client();
	if (!c)
		return 1;
	json = vmbuf_client_status_json(c);
	if (!json) {
		fprintf(stderr, "vmbufctl: status: %s\n", strerror(errno));
		vmbuf_client_disconnect(c);
		return 1;
	}
	vmbuf_client_disconnect(c);
	if (as_json) {
		fputs(json, stdout);
		return 0;
	}
	vms = strstr(json, "\"vms\":");
	printf("%-16s %12s %12s %8s\n", "POOL", "SIZE", "USED", "BUFFERS");
	for (p = json; (p = strstr(p, "{\"name\":")) && (!vms || p < vms);) {
		char name[64], size[32], used[32], seg[64];
		const char *end = strstr(p, "]}");
		unsigned int nb = 0;

		json_next(p, "name", name, sizeof(name));
		json_next(p, "size", size, sizeof(size));
		json_next(p, "used", used, sizeof(used));
		for (const char *b = p; (b = strstr(b, "\"owner\":")) && end && b < end; b++)
			nb++;
		printf("%-16s %12s %12s %8u\n", name, size, used, nb);
		for (const char *b = strstr(p, "\"buffers\":["); b && end && b < end;) {
			char id[32], owner[64], off[32], sz[32];

			b = strstr(b, "{\"id\":");
			if (!b || b > end)
				break;
			json_next(b, "id", id, sizeof(id));
			json_next(b, "owner", owner, sizeof(owner));
			json_next(b, "offset", off, sizeof(off));
			json_next(b, "size", sz, sizeof(sz));
			snprintf(seg, sizeof(seg), "buffer %s", id);
			printf("  %-14s owner %-12s offset %-12s size %s\n", seg, owner, off, sz);
			b++;
		}
		p = end ? end : p + 1;
	}
	printf("\n%-16s %9s %8s %12s %12s\n", "VM", "CONNECTED", "BUFFERS", "USED", "QUOTA");
	for (p = vms; p && (p = strstr(p, "{\"name\":"));) {
		char name[64], conn[8], nb[16], used[32], quota[32];

		json_next(p, "name", name, sizeof(name));
		json_next(p, "connected", conn, sizeof(conn));
		json_next(p, "buffers", nb, sizeof(nb));
		json_next(p, "used", used, sizeof(used));
		json_next(p, "quota", quota, sizeof(quota));
		printf("%-16s %9s %8s %12s %12s\n", name, !strcmp(conn, "true") ? "yes" : "no", nb,
		       used, !strcmp(quota, "0") ? "none" : quota);
		p++;
	}
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
			e == EINVAL ? "range outside the pool" : strerror(e), strerrorname_np(e));
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

static int cmd_libvirt_xml(int argc, char **argv)
{
	const char *path = "/etc/vmbuf/vmbufd.conf", *vm = NULL;
	static struct config cfg;
	char err[512];
	int v;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			path = argv[++i];
		else if (!vm && argv[i][0] != '-')
			vm = argv[i];
		else
			vm = NULL, argc = 0;
	}
	if (!vm) {
		fprintf(stderr, "vmbufctl: usage: libvirt-xml [-c CONFIG] VM\n");
		return 2;
	}
	config_init(&cfg);
	if (config_load(&cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmbufctl: %s\n", err);
		return 1;
	}
	v = config_find_vm(&cfg, vm);
	if (v < 0) {
		fprintf(stderr, "vmbufctl: libvirt-xml '%s': no such VM in %s (ENOENT)\n", vm, path);
		return 1;
	}
	printf("<!-- vmbuf devices of VM '%s' (from %s) -->\n", vm, path);
	printf("<shmem name='vmbuf-ctl-%s'>\n"
	       "  <model type='ivshmem-doorbell'/>\n"
	       "  <server path='%s/%s/ctl.sock'/>\n"
	       "  <msi vectors='%d' ioeventfd='on'/>\n"
	       "</shmem>\n", vm, cfg.socket_dir, vm, VIRTIO_VMBUF_CTL_VECTORS);
	for (unsigned int p = 0; p < cfg.npools; p++) {
		if (!cfg.pools[p].member[v])
			continue;
		printf("<shmem name='vmbuf-pool-%s'>\n"
		       "  <model type='ivshmem-doorbell'/>\n"
		       "  <server path='%s/%s/pool-%s.sock'/>\n"
		       "  <msi vectors='%d' ioeventfd='on'/>\n"
		       "</shmem>\n", cfg.pools[p].name, cfg.socket_dir, vm, cfg.pools[p].name,
		       VIRTIO_VMBUF_POOL_VECTORS);
	}
	return 0;
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
		return cmd_libvirt_xml(argc, argv);
	fprintf(stderr, "vmbufctl: unknown command '%s' (try --help)\n", argv[0]);
	return 2;
}
