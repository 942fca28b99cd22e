/*
 * vmbuf - the guest command-line tool: allocate buffers from vmbuf heaps,
 * fill and check them, show what the driver knows.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
		"  alloc [OPTION]...         allocate a buffer from /dev/dma_heap/vmbuf-POOL\n"
		"    -p, --pool=POOL         pool to allocate from (default: the first pool)\n"
		"    -s, --size=SIZE         bytes, with K, M or G suffix (default 1M)\n"
		"    -f, --fill=PATTERN      write PATTERN: 0xNN (every byte) or seq:SEED\n"
		"    -c, --check=PATTERN     verify the buffer holds PATTERN (0x00 checks zeroing)\n"
		"    -k, --hold              keep the buffer until standard input closes or a\n"
		"                            line is read, then free it\n"
		"\n"
		"Access goes through mmap() bracketed by DMA_BUF_IOCTL_SYNC. alloc prints\n"
		"'allocated SIZE bytes from POOL' and, with --hold, 'holding' once ready.\n"
		"Exit status: 0 on success, 1 on failure (the message names the cause),\n"
		"2 on a usage error.\n");
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

static int cmd_info(void)
{
	struct vmbuf_info info;
	int r = vg_info(&info);

	if (r < 0) {
		fprintf(stderr, "%s: info: /dev/vmbuf: %s\n", prog,
			r == -ENODEV ? "no vmbuf control device (is vmbufd running?)" :
				       strerror(-r));
		return 1;
	}
	printf("vm %.32s\nprotocol %u\nquota %llu\n", info.vm_name, info.version,
	       (unsigned long long)info.quota_bytes);
	for (unsigned int i = 0; i < info.npools && i < VMBUF_MAX_POOLS; i++) {
		struct vmbuf_pool_desc *p = &info.pools[i];

		printf("pool %.32s id %u size %llu used %llu buffers %u heap %s\n", p->name,
		       p->pool_id, (unsigned long long)p->size, (unsigned long long)p->used,
		       p->buffers, p->flags & VMBUF_POOL_HEAP ? "yes" : "no");
	}
	return 0;
}

static int cmd_alloc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "fill", required_argument, NULL, 'f' },
		{ "check", required_argument, NULL, 'c' },
		{ "hold", no_argument, NULL, 'k' },
		{ 0 }
	};
	const char *pool = NULL, *fill = NULL, *check = NULL;
	unsigned long long size = 1 << 20;
	int fill_seq = 0, check_seq = 0, hold = 0, c, fd;
	uint8_t fill_v = 0, check_v = 0;
	struct vmbuf_info info;
	uint8_t *map;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:s:f:c:k", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pool = optarg; break;
		case 's':
			if (parse_size(optarg, &size) < 0) {
				fprintf(stderr, "%s: alloc: bad size '%s'\n", prog, optarg);
				return 2;
			}
			break;
		case 'f': fill = optarg; break;
		case 'c': check = optarg; break;
		case 'k': hold = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if ((fill && vg_pattern_parse(fill, &fill_seq, &fill_v) < 0) ||
	    (check && vg_pattern_parse(check, &check_seq, &check_v) < 0)) {
		fprintf(stderr, "%s: alloc: a pattern is 0xNN or seq:SEED\n", prog);
		return 2;
	}
	if (!pool) {
		if (vg_info(&info) < 0 || info.npools == 0) {
			fprintf(stderr, "%s: alloc: no pool given and none found\n", prog);
			return 1;
		}
		pool = info.pools[0].name;
	}
	fd = vg_alloc(pool, size);
	if (fd < 0) {
		fprintf(stderr, "%s: alloc %llu bytes from pool '%s': %s (%s)\n", prog, size, pool,
			fd == -ENOMEM ? "pool has no room" :
			fd == -EDQUOT ? "over this VM's quota" :
			fd == -ENOENT ? "no such heap" : strerror(-fd), strerrorname_np(-fd));
		return 1;
	}
	printf("allocated %llu bytes from %s\n", size, pool);
	if (fill || check) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			fprintf(stderr, "%s: alloc: mmap: %s\n", prog, strerror(errno));
			return 1;
		}
		vg_sync(fd, 1, fill != NULL);
		if (check) {
			long at = vg_pattern_check(map, size, check_seq, check_v);

			if (at >= 0) {
				fprintf(stderr, "%s: alloc: check '%s' failed at byte %ld (0x%02x)\n",
					prog, check, at, map[at]);
				return 1;
			}
			printf("check %s ok\n", check);
		}
		if (fill) {
			vg_pattern_fill(map, size, fill_seq, fill_v);
			printf("filled %s\n", fill);
		}
		vg_sync(fd, 0, fill != NULL);
		munmap(map, size);
	}
	if (hold) {
		char line[16];

		printf("holding\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			(void)0;
	}
	close(fd);
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
	fprintf(stderr, "%s: unknown command '%s' (try --help)\n", prog, argv[1]);
	return 2;
}
