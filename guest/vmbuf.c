/*
 * vmbuf - the guest command-line tool: allocate buffers from vmbuf heaps,
 * share them with other VMs (export, import, revoke), watch events.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "libvmbuf_guest.h"

static const char *prog = "vmbuf";

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmbuf COMMAND [OPTION]...\n"
		"Use vmbuf shared-memory heaps from inside a guest.\n"
		"\n"
		"Commands:\n"
		"  info                      this VM's name, quota and pools with usage\n"
		"  alloc [BUFFER OPTIONS]    allocate a buffer from /dev/dma_heap/vmbuf-POOL\n"
		"  export [BUFFER OPTIONS] [EXPORT OPTIONS]\n"
		"                            allocate a buffer and share it; prints 'handle HEX'\n"
		"  import (-n NAME | -H HANDLE) [-c PAT] [-f PAT] [--sum] [-k]\n"
		"                            map another VM's export; prints size, owner, metadata\n"
		"  revoke HANDLE             withdraw an export of this VM (imports stay valid)\n"
		"  events [-n COUNT] [-t SECONDS]\n"
		"                            print events (OFFERED, REVOKED, PEER_GONE, TIMELINE)\n"
		"  signal HANDLE VALUE [-e ERRNO] [-a POINT]\n"
		"                            advance the export's timeline to VALUE (with an error);\n"
		"                            with -a, when the timeline reaches POINT (the kernel\n"
		"                            does it from the fence callback; returns at once)\n"
		"  wait HANDLE VALUE [-t MS] wait for the timeline to reach VALUE; prints 'reached',\n"
		"                            'error NAME' (exit 1) or 'pending' after MS (exit 3)\n"
		"  pingpong lead|follow ...  fence or doorbell round-trip benchmark (pingpong --help)\n"
		"\n"
		"Buffer options:\n"
		"  -p, --pool=POOL           pool (default: this VM's first pool)\n"
		"  -s, --size=SIZE           bytes, with K, M or G suffix (default 1M)\n"
		"  -f, --fill=PAT            write PAT: 0xNN (every byte) or seq:SEED\n"
		"  -c, --check=PAT           verify the buffer holds PAT (0x00 checks zeroing)\n"
		"      --sum                 print 'sum HEX': FNV-1a (64 bits) of every byte\n"
		"  -k, --hold                keep the buffer and read commands from standard\n"
		"                            input: 'check PAT', 'fill PAT', 'attach VALUE' (make\n"
		"                            implicit sync wait for that timeline point),\n"
		"                            'implicit MS' (poll the buffer and its exported\n"
		"                            sync_file together), 'watch N VALUE' (hold N fences\n"
		"                            for that point), 'drop' (close them), 'map' (keep a\n"
		"                            mapping), 'peek OFFSET' (read a byte through it),\n"
		"                            'quit' (or EOF)\n"
		"Export options:\n"
		"  -n, --name=NAME           name, unique in the pool (default: handle only)\n"
		"  -t, --to=VM[,VM...]       VMs allowed to import (up to 8)\n"
		"  -P, --pool-members        every member of the pool may import\n"
		"  -S, --signalers           importers may signal the timeline too\n"
		"  -F, --fast                a fast timeline (implies -S): signals with no error\n"
		"                            reach waiting VMs by pool doorbell, not through vmbufd;\n"
		"                            any pool member could forge its value (ivshmem only;\n"
		"                            prints 'fast timeline' when it got one)\n"
		"      --host                host clients may import\n"
		"      --width=W --height=H --fourcc=XR24 --stride=BYTES --label=TEXT\n"
		"                            metadata handed to importers\n"
		"\n"
		"Access goes through mmap() bracketed by DMA_BUF_IOCTL_SYNC. With --hold, the tool\n"
		"prints 'holding' once ready and answers each command on its own line.\n"
		"Exit status: 0 on success, 1 on failure (the message names the object and the\n"
		"cause), 2 on a usage error.\n");
}

static const char *errname(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "?";
}

static int parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Map @fd, then check and/or fill: returns 0, or 1 after printing why not. */
static int touch(int fd, size_t size, const char *check, const char *fill, int sum)
{
	int check_seq = 0, fill_seq = 0;
	uint8_t check_v = 0, fill_v = 0;
	uint8_t *map;
	int ret = 0;

	if ((check && pattern_parse(check, &check_seq, &check_v) < 0) ||
	    (fill && pattern_parse(fill, &fill_seq, &fill_v) < 0)) {
		fprintf(stderr, "%s: a pattern is 0xNN or seq:SEED\n", prog);
		return 1;
	}
	if (!check && !fill && !sum)
		return 0;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n", prog, strerror(errno));
		return 1;
	}
	vg_sync(fd, 1, fill != NULL);
	if (sum)
		printf("sum %016llx\n", (unsigned long long)sum_fnv1a(map, size));
	if (check) {
		long at = pattern_check(map, size, check_seq, check_v);

		if (at >= 0) {
			printf("check %s failed at byte %ld (0x%02x)\n", check, at, map[at]);
			ret = 1;
		} else {
			printf("check %s ok\n", check);
		}
	}
	if (fill) {
		pattern_fill(map, size, fill_seq, fill_v);
		printf("filled %s\n", fill);
	}
	vg_sync(fd, 0, fill != NULL);
	munmap(map, size);
	return ret;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Poll the dma-buf and its exported sync_file together until both are ready. */
static void implicit(int fd, int timeout_ms)
{
	struct dma_buf_export_sync_file x = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	long ready_at[2] = { -1, -1 };
	struct timespec t0;

	if (ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &x) < 0) {
		printf("implicit failed %s\n", errname(errno));
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((ready_at[0] < 0 || ready_at[1] < 0) && ms_since(&t0) < timeout_ms) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = x.fd, .events = POLLIN } };

		if (poll(p, 2, timeout_ms - ms_since(&t0)) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if ((p[i].revents & POLLIN) && ready_at[i] < 0)
				ready_at[i] = ms_since(&t0);
	}
	if (ready_at[0] < 0 || ready_at[1] < 0)
		printf("implicit timeout dmabuf=%d syncfile=%d\n", ready_at[0] >= 0, ready_at[1] >= 0);
	else
		printf("implicit ready dmabuf=1 syncfile=1 status=%d apart=%ld ms after %ld ms\n",
		       vg_fence_wait(x.fd, 0), labs(ready_at[0] - ready_at[1]), ready_at[0]);
	close(x.fd);
}

/* Fences 'watch' holds until 'drop'. */
static int held_fences[1024];
static unsigned int nheld;

/* Hold @n more fences for @value of @fd's timeline: "watching N", or the first error. */
static void watch(int fd, unsigned int n, uint64_t value)
{
	struct vmbuf_query q = { .fd = fd };
	int r = vg_ioctl(VMBUF_IOC_QUERY, &q);

	for (unsigned int i = 0; r >= 0 && i < n; i++) {
		if (nheld == sizeof(held_fences) / sizeof(held_fences[0]))
			r = -EMFILE;
		else if ((r = vg_fence(q.handle, value)) >= 0)
			held_fences[nheld++] = r;
	}
	if (r < 0)
		printf("watch failed %s with %u held\n", errname(-r), nheld);
	else
		printf("watching %u\n", nheld);
}

static void drop_fences(void)
{
	while (nheld)
		close(held_fences[--nheld]);
	printf("dropped\n");
}

/* The mapping 'map' keeps for 'peek'. */
static volatile uint8_t *kept_map;

/* Keep @fd and answer commands from stdin until 'quit' or EOF. */
static int hold(int fd, size_t size)
{
	char line[128];

	printf("holding\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		char *arg;

		line[strcspn(line, "\r\n")] = '\0';
		arg = strchr(line, ' ');
		if (arg)
			*arg++ = '\0';
		if (!strcmp(line, "quit"))
			break;
		else if (!strcmp(line, "check") && arg)
			touch(fd, size, arg, NULL, 0);
		else if (!strcmp(line, "fill") && arg)
			touch(fd, size, NULL, arg, 0);
		else if (!strcmp(line, "attach") && arg) {
			struct vmbuf_attach at = { .fd = fd, .value = strtoull(arg, NULL, 0) };
			int r = vg_ioctl(VMBUF_IOC_ATTACH, &at);

			if (r < 0)
				printf("attach failed %s\n", errname(-r));
			else
				printf("attached %s\n", arg);
		} else if (!strcmp(line, "implicit") && arg)
			implicit(fd, atoi(arg));
		else if (!strcmp(line, "watch") && arg && strchr(arg, ' '))
			watch(fd, strtoul(arg, NULL, 0), strtoull(strchr(arg, ' ') + 1, NULL, 0));
		else if (!strcmp(line, "drop"))
			drop_fences();
		else if (!strcmp(line, "map")) {
			void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

			kept_map = m == MAP_FAILED ? NULL : m;
			printf(kept_map ? "mapped\n" : "map failed %s\n", errname(errno));
		} else if (!strcmp(line, "peek") && arg && kept_map) {
			size_t off = strtoul(arg, NULL, 0) % size;

			printf("peek %zu 0x%02x\n", off, kept_map[off]);	/* SIGBUS once revoked */
		}
		else if (line[0])
			printf("unknown command '%s' (check, fill, attach, implicit, watch, drop, "
			       "map, peek, quit)\n", line);
		fflush(stdout);
	}
	return 0;
}

struct buf_opts {
	const char *pool, *fill, *check;
	unsigned long long size;
	int hold, sum;
};

/* Allocate per @o; returns the dma-buf fd or -1 after printing why. */
static int alloc_buffer(struct buf_opts *o)
{
	static struct vmbuf_info info;
	int fd;

	if (!o->pool) {
		if (vg_info(&info) < 0 || info.npools == 0) {
			fprintf(stderr, "%s: alloc: no pool given and none found\n", prog);
			return -1;
		}
		o->pool = info.pools[0].name;
	}
	fd = vg_alloc(o->pool, o->size);
	if (fd < 0) {
		fprintf(stderr, "%s: alloc %llu bytes from pool '%s': %s (%s)\n", prog, o->size,
			o->pool,
			fd == -ENOMEM ? "pool has no room" :
			fd == -EDQUOT ? "over this VM's quota" :
			fd == -ENOENT ? "no such heap" :
			fd == -EACCES ? "the heap is root's" :
			fd == -ENODEV ? "no vmbuf device (is vmbufd running?)" : strerror(-fd),
			errname(-fd));
		return -1;
	}
	printf("allocated %llu bytes from %s\n", o->size, o->pool);
	return fd;
}

enum { OPT_HOST = 256, OPT_WIDTH, OPT_HEIGHT, OPT_FOURCC, OPT_STRIDE, OPT_LABEL, OPT_SUM };

static const struct option buf_long[] = {
	{ "pool", required_argument, NULL, 'p' },
	{ "size", required_argument, NULL, 's' },
	{ "fill", required_argument, NULL, 'f' },
	{ "check", required_argument, NULL, 'c' },
	{ "hold", no_argument, NULL, 'k' },
	{ "name", required_argument, NULL, 'n' },
	{ "handle", required_argument, NULL, 'H' },
	{ "to", required_argument, NULL, 't' },
	{ "pool-members", no_argument, NULL, 'P' },
	{ "signalers", no_argument, NULL, 'S' },
	{ "fast", no_argument, NULL, 'F' },
	{ "host", no_argument, NULL, OPT_HOST },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "height", required_argument, NULL, OPT_HEIGHT },
	{ "fourcc", required_argument, NULL, OPT_FOURCC },
	{ "stride", required_argument, NULL, OPT_STRIDE },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "sum", no_argument, NULL, OPT_SUM },
	{ 0 }
};

/* Buffer options common to alloc, export and import; returns 0, or 2 on a usage error. */
static int buf_opt(struct buf_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'p': o->pool = arg; return 0;
	case 's':
		if (parse_size(arg, &o->size) < 0) {
			fprintf(stderr, "%s: bad size '%s'\n", prog, arg);
			return 2;
		}
		return 0;
	case 'f': o->fill = arg; return 0;
	case 'c': o->check = arg; return 0;
	case 'k': o->hold = 1; return 0;
	case OPT_SUM: o->sum = 1; return 0;
	default: usage(stderr); return 2;
	}
}

static int finish(int fd, size_t size, struct buf_opts *o)
{
	int ret = touch(fd, size, o->check, o->fill, o->sum);

	if (!ret && o->hold)
		ret = hold(fd, size);
	close(fd);
	return ret;
}

static int cmd_alloc(int argc, char **argv)
{
	struct buf_opts o = { .size = 1 << 20 };
	int c, r, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:s:f:c:k", buf_long, NULL)) != -1)
		if ((r = buf_opt(&o, c, optarg)))
			return r;
	fd = alloc_buffer(&o);
	return fd < 0 ? 1 : finish(fd, o.size, &o);
}

static int cmd_export(int argc, char **argv)
{
	static struct vmbuf_export x;
	struct buf_opts o = { .size = 1 << 20 };
	char hex[2 * VMBUF_HANDLE_SIZE + 1];
	int c, r, fd;

	memset(&x, 0, sizeof(x));
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:s:f:c:kn:t:PSF", buf_long, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (strlen(optarg) >= sizeof(x.name)) {
				fprintf(stderr, "%s: export: name longer than 31 bytes\n", prog);
				return 2;
			}
			strcpy(x.name, optarg);
			break;
		case 't':
			for (char *save = NULL, *tok = strtok_r(optarg, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (x.naccess == VMBUF_MAX_ACCESS || strlen(tok) >= VMBUF_NAME_MAX) {
					fprintf(stderr, "%s: export: at most 8 VM names of 31 bytes\n",
						prog);
					return 2;
				}
				strcpy(x.access[x.naccess++], tok);
			}
			break;
		case 'P': x.flags |= VMBUF_EXPORT_POOL; break;
		case 'S': x.flags |= VMBUF_EXPORT_SIGNAL; break;
		case 'F': x.flags |= VMBUF_EXPORT_FAST | VMBUF_EXPORT_SIGNAL; break;
		case OPT_HOST: x.flags |= VMBUF_EXPORT_HOST; break;
		case OPT_WIDTH: x.meta.width = strtoul(optarg, NULL, 0); break;
		case OPT_HEIGHT: x.meta.height = strtoul(optarg, NULL, 0); break;
		case OPT_FOURCC: x.meta.fourcc = vg_fourcc(optarg); break;
		case OPT_STRIDE:
			x.meta.nplanes = 1;
			x.meta.strides[0] = strtoul(optarg, NULL, 0);
			break;
		case OPT_LABEL: snprintf(x.meta.label, sizeof(x.meta.label), "%s", optarg); break;
		default:
			if ((r = buf_opt(&o, c, optarg)))
				return r;
		}
	}
	fd = alloc_buffer(&o);
	if (fd < 0)
		return 1;
	r = touch(fd, o.size, o.check, o.fill, o.sum);
	if (r) {
		close(fd);
		return r;
	}
	x.fd = fd;
	r = vg_ioctl(VMBUF_IOC_EXPORT, &x);
	if (r < 0) {
		fprintf(stderr, "%s: export '%s': %s (%s)\n", prog, x.name,
			r == -EEXIST ? "name already used in the pool" :
			r == -EINVAL ? "bad name or unknown VM in --to" :
			r == -EBUSY ? "already exported" : strerror(-r), errname(-r));
		close(fd);
		return 1;
	}
	handle_format(hex, x.handle);
	printf("handle %s\nexported '%s'\n", hex, x.name);
	if (vg_fast(fd))
		printf("fast timeline\n");
	o.fill = o.check = NULL;
	return finish(fd, o.size, &o);
}

static int cmd_import(int argc, char **argv)
{
	static struct vmbuf_import x;
	struct buf_opts o = { 0 };
	const char *what = NULL;
	char hex[2 * VMBUF_HANDLE_SIZE + 1];
	int c, r;

	memset(&x, 0, sizeof(x));
	x.fd_flags = O_RDWR | O_CLOEXEC;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:c:kn:H:", buf_long, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (strlen(optarg) >= sizeof(x.name)) {
				fprintf(stderr, "%s: import: name longer than 31 bytes\n", prog);
				return 2;
			}
			strcpy(x.name, optarg);
			x.flags = VMBUF_IMPORT_BY_NAME;
			what = optarg;
			break;
		case 'H':
			if (handle_parse(x.handle, optarg) < 0) {
				fprintf(stderr, "%s: import: a handle is 32 hex digits\n", prog);
				return 2;
			}
			what = optarg;
			break;
		default:
			if ((r = buf_opt(&o, c, optarg)))
				return r;
		}
	}
	if (!what) {
		fprintf(stderr, "%s: import: give --name or --handle\n", prog);
		return 2;
	}
	r = vg_ioctl(VMBUF_IOC_IMPORT, &x);
	if (r < 0) {
		fprintf(stderr, "%s: import '%s': %s (%s)\n", prog, what,
			r == -ENOENT ? "no such export" :
			r == -EACCES ? "not shared with this VM" :
			r == -ENXIO ? "this VM is not a member of the buffer's pool" :
			r == -ENOSPC ? "this VM's import limit is reached" : strerror(-r),
			errname(-r));
		return 1;
	}
	handle_format(hex, x.handle);
	printf("imported %llu bytes of '%s' from VM '%s' (pool %u, handle %s)\n",
	       (unsigned long long)x.size, x.name, x.owner, x.pool_id, hex);
	printf("meta %ux%u fourcc %.4s stride %u label '%s'\n", x.meta.width, x.meta.height,
	       x.meta.fourcc ? (char *)&x.meta.fourcc : "----", x.meta.strides[0], x.meta.label);
	if (vg_fast(x.fd))
		printf("fast timeline\n");
	return finish(x.fd, x.size, &o);
}

static int cmd_revoke(int argc, char **argv)
{
	struct vmbuf_revoke rv;
	int r;

	if (argc != 2 || handle_parse(rv.handle, argv[1]) < 0) {
		fprintf(stderr, "%s: usage: revoke HANDLE (32 hex digits)\n", prog);
		return 2;
	}
	r = vg_ioctl(VMBUF_IOC_REVOKE, &rv);
	if (r < 0) {
		fprintf(stderr, "%s: revoke %.8s...: %s (%s)\n", prog, argv[1],
			r == -ENOENT ? "no such export" :
			r == -EPERM ? "exported by another VM" : strerror(-r), errname(-r));
		return 1;
	}
	printf("revoked\n");
	return 0;
}

static int parse_handle_value(int argc, char **argv, uint8_t *handle, unsigned long long *value)
{
	char *end;

	if (argc < 3 || handle_parse(handle, argv[1]) < 0)
		return -1;
	errno = 0;
	*value = strtoull(argv[2], &end, 0);
	return errno || *end || end == argv[2] ? -1 : 0;
}

static int cmd_signal(int argc, char **argv)
{
	unsigned long long value, after = 0;
	uint8_t handle[VMBUF_HANDLE_SIZE];
	int error = 0, wait_fd = -1, c, r;

	optind = 3;
	while ((c = getopt(argc, argv, "e:a:")) != -1) {
		switch (c) {
		case 'e': error = -abs(atoi(optarg)); break;
		case 'a': after = strtoull(optarg, NULL, 0); break;
		default: optind = -1; break;
		}
		if (optind < 0)
			break;
	}
	if (optind != argc || parse_handle_value(argc, argv, handle, &value) < 0) {
		fprintf(stderr, "%s: usage: signal HANDLE VALUE [-e ERRNO] [-a POINT]\n", prog);
		return 2;
	}
	if (after) {
		/* Signal VALUE when this timeline reaches POINT, without waiting here. */
		wait_fd = vg_fence(handle, after);
		if (wait_fd < 0) {
			fprintf(stderr, "%s: signal: fence for point %llu: %s (%s)\n", prog, after,
				strerror(-wait_fd), errname(-wait_fd));
			return 1;
		}
	}
	r = vg_signal(handle, value, error, wait_fd);
	if (wait_fd >= 0)
		close(wait_fd);
	if (r < 0) {
		fprintf(stderr, "%s: signal %.8s... to %llu: %s (%s)\n", prog, argv[1], value,
			r == -EACCES ? "this VM may not signal that timeline" :
			r == -EINVAL ? "not above the current value" :
			r == -ENOENT ? "no such export" : strerror(-r), errname(-r));
		return 1;
	}
	if (after)
		printf("will signal %llu when %llu is reached\n", value, after);
	else
		printf("signalled %llu\n", value);
	return 0;
}

static int cmd_wait(int argc, char **argv)
{
	unsigned long long value;
	uint8_t handle[VMBUF_HANDLE_SIZE];
	struct timespec t0;
	int timeout = 60000, r;

	if (parse_handle_value(argc, argv, handle, &value) < 0 ||
	    (argc == 5 && strcmp(argv[3], "-t")) || (argc != 3 && argc != 5)) {
		fprintf(stderr, "%s: usage: wait HANDLE VALUE [-t MS]\n", prog);
		return 2;
	}
	if (argc == 5)
		timeout = atoi(argv[4]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = vg_wait(handle, value, timeout);
	if (r == 1) {
		printf("reached %llu after %ld ms\n", value, ms_since(&t0));
		return 0;
	}
	if (r == 0) {
		printf("pending after %d ms\n", timeout);
		return 3;
	}
	printf("error %s after %ld ms\n", errname(-r), ms_since(&t0));
	return 1;
}

int pingpong_main(int argc, char **argv);

static int cmd_events(int argc, char **argv)
{
	static const char *const names[] = { "?", "OFFERED", "REVOKED", "PEER_GONE", "TIMELINE" };
	long count = -1, seconds = -1;
	struct timespec start, now;
	int c, fd;

	optind = 1;
	while ((c = getopt(argc, argv, "n:t:")) != -1) {
		switch (c) {
		case 'n': count = strtol(optarg, NULL, 0); break;
		case 't': seconds = strtol(optarg, NULL, 0); break;
		default: usage(stderr); return 2;
		}
	}
	fd = vg_events_open(0);
	if (fd < 0) {
		fprintf(stderr, "%s: events: /dev/vmbuf: %s (%s)\n", prog, strerror(-fd), errname(-fd));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (count != 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct vmbuf_event ev;
		char hex[2 * VMBUF_HANDLE_SIZE + 1];
		int wait = -1;

		if (seconds >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			wait = (int)(seconds * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
						      (now.tv_nsec - start.tv_nsec) / 1000000));
			if (wait <= 0)
				break;
		}
		if (poll(&p, 1, wait) <= 0)
			continue;
		if (read(fd, &ev, sizeof(ev)) != sizeof(ev))
			continue;
		handle_format(hex, ev.handle);
		printf("event %s handle %s name '%s' vm '%s' pool %u value %llu%s\n",
		       ev.type < 5 ? names[ev.type] : "?", hex, ev.name, ev.vm, ev.pool_id,
		       (unsigned long long)ev.value, ev.flags & VMBUF_EVENT_LOST ? " (lost some)" : "");
		fflush(stdout);
		if (count > 0)
			count--;
	}
	close(fd);
	return 0;
}

static int cmd_info(void)
{
	struct vmbuf_info info;
	int r = vg_info(&info);

	if (r < 0) {
		fprintf(stderr, "%s: info: /dev/vmbuf: %s (%s)\n", prog,
			r == -ENODEV ? "no vmbuf control device (is vmbufd running?)" :
				       strerror(-r), errname(-r));
		return 1;
	}
	printf("vm %.32s\nprotocol %u\nquota %llu\n", info.vm_name, info.version,
	       (unsigned long long)info.quota_bytes);
	for (unsigned int i = 0; i < info.npools && i < VMBUF_MAX_POOLS; i++) {
		struct vmbuf_pool_desc *p = &info.pools[i];

		printf("pool %.32s id %u size %llu used %llu buffers %u heap %s position %u\n",
		       p->name, p->pool_id, (unsigned long long)p->size,
		       (unsigned long long)p->used, p->buffers,
		       p->flags & VMBUF_POOL_HEAP ? "yes" : "no", p->position);
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "info"))
		return cmd_info();
	if (!strcmp(argv[1], "alloc"))
		return cmd_alloc(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "import"))
		return cmd_import(argc - 1, argv + 1);
	if (!strcmp(argv[1], "revoke"))
		return cmd_revoke(argc - 1, argv + 1);
	if (!strcmp(argv[1], "events"))
		return cmd_events(argc - 1, argv + 1);
	if (!strcmp(argv[1], "signal"))
		return cmd_signal(argc - 1, argv + 1);
	if (!strcmp(argv[1], "wait"))
		return cmd_wait(argc - 1, argv + 1);
	if (!strcmp(argv[1], "pingpong"))
		return pingpong_main(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s' (try --help)\n", prog, argv[1]);
	return 2;
}
