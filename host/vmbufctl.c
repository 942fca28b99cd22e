/*
 * vmbufctl - command-line client of vmbufd's host socket.
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hostproto.h"
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

static int host_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", socket_dir, VMBUF_HOST_SOCK);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = -errno;

		fprintf(stderr, "vmbufctl: cannot reach vmbufd at %s: %s\n", addr.sun_path,
			strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* Send @req, collect the whole answer into *out (malloc'd). Returns status. */
static int host_call(const struct vmbuf_host_req *req, char **out, size_t *outlen)
{
	_cleanup_close_ int fd = host_connect();
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (fd < 0)
		return fd;
	if (send(fd, req, sizeof(*req), MSG_NOSIGNAL) < 0)
		return -errno;
	for (;;) {
		static char pkt[sizeof(struct vmbuf_host_resp) + VMBUF_HOST_PAYLOAD_MAX];
		struct vmbuf_host_resp r;
		ssize_t n = recv(fd, pkt, sizeof(pkt), 0);
		char *nb;

		if (n < 0)
			return -errno;
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
	struct vmbuf_host_req req = { .op = VMBUF_HOST_STATUS };
	_cleanup_free_ char *json = NULL;
	bool as_json = argc > 1 && !strcmp(argv[1], "--json");
	size_t len;
	const char *p, *vms;
	int r;

	if (argc > 2 || (argc == 2 && !as_json)) {
		fprintf(stderr, "vmbufctl: status takes only --json\n");
		return 2;
	}
	r = host_call(&req, &json, &len);
	if (r < 0) {
		fprintf(stderr, "vmbufctl: status: %s\n", strerror(-r));
		return 1;
	}
	if (as_json) {
		fwrite(json, 1, len, stdout);
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
	struct vmbuf_host_req req = { .op = VMBUF_HOST_READ };
	_cleanup_free_ char *data = NULL;
	bool hex = false;
	size_t len;
	int r;

	if (argc == 5 && !strcmp(argv[4], "--hex"))
		hex = true;
	else if (argc != 4) {
		fprintf(stderr, "vmbufctl: usage: read POOL OFFSET LENGTH [--hex]\n");
		return 2;
	}
	if (str_to_field(req.name, sizeof(req.name), argv[1]) < 0 ||
	    parse_u64(argv[2], &req.offset) < 0 || parse_u64(argv[3], &req.len) < 0) {
		fprintf(stderr, "vmbufctl: read: bad pool name, offset or length\n");
		return 2;
	}
	r = host_call(&req, &data, &len);
	if (r < 0) {
		fprintf(stderr, "vmbufctl: read pool '%s' at %s: %s (%s)\n", argv[1], argv[2],
			r == -ENOENT ? "no such pool" :
			r == -EPERM ? "only root may read pool memory" :
			r == -EINVAL ? "range outside the pool or longer than 65536" : strerror(-r),
			strerrorname_np(-r));
		return 1;
	}
	if (!hex)
		return write_all(STDOUT_FILENO, data, len) < 0;
	for (size_t i = 0; i < len; i += 16) {
		printf("%08llx ", (unsigned long long)(req.offset + i));
		for (size_t j = i; j < i + 16 && j < len; j++)
			printf(" %02x", (unsigned char)data[j]);
		printf("\n");
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
	fprintf(stderr, "vmbufctl: unknown command '%s' (try --help)\n", argv[0]);
	return 2;
}
