/*
 * admin - vm add|remove, pool add|remove, reload (see admin.h). The
 * options become the lines of one [vm] or [pool] section, which the daemon
 * parses like its own files: a value with a line break or '#' is refused
 * here, everything else there.
 */
#include "admin.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "hostproto.h"
#include "util.h"

int admin_request(const char *socket_dir, uint32_t op, uint32_t kind, const char *name,
		  const char *text, char *msg, size_t len)
{
	union {
		struct vmbuf_host_req req;
		uint8_t b[sizeof(struct vmbuf_host_req) + VMBUF_HOST_CONFIG_TEXT_MAX];
	} out = { .req = { .op = op, .offset = kind } };
	struct {
		struct vmbuf_host_resp resp;
		char text[1024];
	} in;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t tlen = text ? strlen(text) : 0;
	ssize_t n;
	int fd, r;

	if (tlen > VMBUF_HOST_CONFIG_TEXT_MAX ||
	    (name && str_to_field(out.req.name, sizeof(out.req.name), name) < 0)) {
		snprintf(msg, len, "name or text too long");
		return -EINVAL;
	}
	out.req.len = tlen;
	if (tlen)
		memcpy(out.b + sizeof(out.req), text, tlen);
	if (str_printf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", socket_dir, VMBUF_HOST_SOCK) < 0) {
		snprintf(msg, len, "socket directory '%s' too long", socket_dir);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		snprintf(msg, len, "cannot reach vmbufd at %s: %s", sa.sun_path, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	/*
	 * One answer, one packet; events may come first (the client is a host
	 * client, in every pool: a VM this change removes is a PEER_GONE).
	 */
	r = send(fd, &out, sizeof(out.req) + tlen, MSG_NOSIGNAL) < 0 ? -errno : 0;
	do {
		n = r < 0 ? -1 : recv(fd, &in, sizeof(in) - 1, 0);
	} while (n >= (ssize_t)sizeof(in.resp) && (in.resp.flags & VMBUF_HOST_RESP_EVENT));
	if (r < 0 || n < 0) {
		r = r < 0 ? r : -errno;
		snprintf(msg, len, "talking to vmbufd: %s", strerror(-r));
		close(fd);
		return r;
	}
	close(fd);
	if (n < (ssize_t)sizeof(in.resp) || in.resp.len != n - sizeof(in.resp)) {
		snprintf(msg, len, n == 0 ? "vmbufd closed the connection (is this vmbufd older?)" :
					    "vmbufd's answer is malformed");
		return -EPROTO;
	}
	in.text[in.resp.len] = '\0';
	snprintf(msg, len, "%s", in.resp.len ? in.text :
				 in.resp.status == -EOPNOTSUPP ? "this vmbufd cannot change its configuration" :
				 strerror(-in.resp.status));
	return in.resp.status;
}

/* Report the outcome of one request as the command line asked it. */
static int report(const char *what, const char *name, int r, const char *msg)
{
	if (r < 0) {
		fprintf(stderr, "vmbufctl: %s '%s': %s (%s)\n", what, name ? name : "", msg,
			errno_name(-r));
		return 1;
	}
	printf("%s%s%s%s: %s\n", what, name ? " '" : "", name ? name : "", name ? "'" : "", msg);
	return 0;
}

int admin_section_start(char *text, size_t len, const char *kind, const char *name,
			const char *origin, char *err, size_t errlen)
{
	if (!*name || strlen(name) >= CONFIG_NAME_MAX || strpbrk(name, "\n\r#[] \t=")) {
		snprintf(err, errlen, "'%s' is not a %s name", name, kind);
		return -EINVAL;
	}
	snprintf(text, len, "# %s\n[%s %s]\n", origin, kind, name);
	return 0;
}

int admin_section_line(char *text, size_t len, const char *key, const char *val, char *err,
		       size_t errlen)
{
	size_t n = strlen(text);

	if (strpbrk(val, "\n\r#[]=") || !*val) {
		snprintf(err, errlen, "%s: '%s' is not a value", key, val);
		return -EINVAL;
	}
	if (snprintf(text + n, len - n, "%s = %s\n", key, val) >= (int)(len - n)) {
		snprintf(err, errlen, "%s: too long", key);
		return -E2BIG;
	}
	/* "a,b" -> "a b": what the files hold (they take both). */
	for (char *s = text + n; *s; s++)
		if (*s == ',')
			*s = ' ';
	return 0;
}

struct key_opt {
	const char *opt;	/* --opt on the command line */
	const char *key;	/* its line in the section */
	bool flag;		/* takes no value: "yes" */
};

static const struct key_opt vm_opts[] = {
	{ "pools", "pools", false },
	{ "quota", "quota", false },
	{ "max-buffers", "max-buffers", false },
	{ "max-waiters", "max-waiters", false },
	{ "fence-timeout-ms", "fence-timeout-ms", false },
	{ NULL, NULL, false },
};

static const struct key_opt pool_opts[] = {
	{ "size", "size", false },
	{ "members", "members", false },
	{ "reclaim", "reclaim", true },
	{ NULL, NULL, false },
};

static int usage_of(const char *kindname)
{
	if (!strcmp(kindname, "vm"))
		fprintf(stderr, "vmbufctl: usage: vm add NAME [--pools P,...] [--quota SIZE] "
				"[--max-buffers N] [--max-waiters N] [--fence-timeout-ms MS]\n"
				"       vm remove NAME\n");
	else
		fprintf(stderr, "vmbufctl: usage: pool add NAME --size SIZE [--members VM,...] "
				"[--reclaim]\n       pool remove NAME\n");
	return 2;
}

/* The section for @argv (options only), or 2 after a usage message. */
static int section_of(const char *kindname, const char *name, const char *origin,
		      const struct key_opt *opts, int argc, char **argv, char *text, size_t len)
{
	char err[256];

	if (admin_section_start(text, len, kindname, name, origin, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmbufctl: %s\n", err);
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		const struct key_opt *o = opts;

		while (o->opt && (strncmp(argv[i], "--", 2) || strcmp(argv[i] + 2, o->opt)))
			o++;
		if (!o->opt || (!o->flag && i + 1 >= argc))
			return usage_of(kindname);
		if (admin_section_line(text, len, o->key, o->flag ? "yes" : argv[++i], err,
				       sizeof(err)) < 0) {
			fprintf(stderr, "vmbufctl: --%s\n", err);
			return 2;
		}
	}
	return 0;
}

int admin_vm_section(const char *name, const char *origin, int argc, char **argv, char *text,
		     size_t len)
{
	return section_of("vm", name, origin, vm_opts, argc, argv, text, len);
}

static int cmd_kind(const char *socket_dir, int argc, char **argv, uint32_t kind,
		    const struct key_opt *opts)
{
	const char *kindname = argv[0], *name;
	char text[VMBUF_HOST_CONFIG_TEXT_MAX], what[32], msg[1024], origin[200];
	int r;

	if (argc < 3 || (strcmp(argv[1], "add") && strcmp(argv[1], "remove")))
		return usage_of(kindname);
	name = argv[2];
	snprintf(what, sizeof(what), "%s %s", kindname, argv[1]);
	if (!strcmp(argv[1], "remove")) {
		if (argc != 3)
			return usage_of(kindname);
		r = admin_request(socket_dir, VMBUF_HOST_CONFIG_REMOVE, kind, name, NULL, msg,
				  sizeof(msg));
		return report(what, name, r, msg);
	}
	snprintf(origin, sizeof(origin), "Added by 'vmbufctl %.32s add %.32s'; 'vmbufctl %.32s "
		 "remove %.32s' removes it.", kindname, name, kindname, name);
	r = section_of(kindname, name, origin, opts, argc - 3, argv + 3, text, sizeof(text));
	if (r)
		return r;
	r = admin_request(socket_dir, VMBUF_HOST_CONFIG_ADD, kind, name, text, msg, sizeof(msg));
	return report(what, name, r, msg);
}

int admin_cmd_vm(const char *socket_dir, int argc, char **argv)
{
	return cmd_kind(socket_dir, argc, argv, VMBUF_HOST_KIND_VM, vm_opts);
}

int admin_cmd_pool(const char *socket_dir, int argc, char **argv)
{
	return cmd_kind(socket_dir, argc, argv, VMBUF_HOST_KIND_POOL, pool_opts);
}

int admin_cmd_reload(const char *socket_dir, int argc, char **argv)
{
	char msg[1024];
	int r;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "vmbufctl: usage: reload\n");
		return 2;
	}
	r = admin_request(socket_dir, VMBUF_HOST_CONFIG_RELOAD, 0, NULL, NULL, msg, sizeof(msg));
	return report("reload", NULL, r, msg);
}
