/*
 * fence_flood - many timelines at once, for the lost-events scenario.
 *
 *   fence_flood export POOL PEER N
 *	allocate N 4 KiB buffers in POOL, export each to VM PEER as "ffI";
 *	print "exported N", then per line of standard input: "signal V" signals
 *	every timeline to V ("signalled V"), "quit" ends.
 *   fence_flood wait N VALUE TIMEOUT_MS
 *	import ff0..ffN-1 by name and hold a fence for VALUE on each; print
 *	"armed N"; after a line "go" on standard input, wait up to TIMEOUT_MS
 *	for all of them and print "done ok=K error=E pending=P last_ms=M" (M:
 *	from "go" to the last fence that completed).
 * Exit status 0 when every fence completed without error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libvmbuf_guest.h"

#define MAX_TIMELINES 1024

static uint8_t handles[MAX_TIMELINES][VMBUF_HANDLE_SIZE];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int do_export(const char *pool, const char *peer, unsigned int n)
{
	char line[64];

	for (unsigned int i = 0; i < n; i++) {
		struct vmbuf_export x = { .naccess = 1 };
		int fd = vg_alloc(pool, 4096), r;

		if (fd < 0) {
			fprintf(stderr, "fence_flood: alloc %u: %s\n", i, strerror(-fd));
			return 1;
		}
		x.fd = fd;
		snprintf(x.name, sizeof(x.name), "ff%u", i);
		snprintf(x.access[0], sizeof(x.access[0]), "%s", peer);
		r = vg_ioctl(VMBUF_IOC_EXPORT, &x);
		if (r < 0) {
			fprintf(stderr, "fence_flood: export ff%u: %s\n", i, strerror(-r));
			return 1;
		}
		memcpy(handles[i], x.handle, VMBUF_HANDLE_SIZE);
	}
	printf("exported %u\n", n);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long long v;
		int bad = 0;

		if (!strncmp(line, "quit", 4))
			break;
		if (sscanf(line, "signal %llu", &v) != 1)
			continue;
		for (unsigned int i = 0; i < n; i++)
			bad += vg_signal(handles[i], v, 0, -1) < 0;
		printf("signalled %llu errors %d\n", v, bad);
		fflush(stdout);
	}
	return 0;
}

static int do_wait(unsigned int n, uint64_t value, int timeout_ms)
{
	static struct pollfd p[MAX_TIMELINES];
	unsigned int ok = 0, err = 0, left = n;
	double go, last = 0;
	char line[64];

	for (unsigned int i = 0; i < n; i++) {
		struct vmbuf_import im = { .flags = VMBUF_IMPORT_BY_NAME, .fd_flags = O_RDWR };
		int r;

		snprintf(im.name, sizeof(im.name), "ff%u", i);
		r = vg_ioctl(VMBUF_IOC_IMPORT, &im);
		if (r < 0) {
			fprintf(stderr, "fence_flood: import ff%u: %s\n", i, strerror(-r));
			return 1;
		}
		r = vg_fence(im.handle, value);
		if (r < 0) {
			fprintf(stderr, "fence_flood: fence %u: %s\n", i, strerror(-r));
			return 1;
		}
		p[i] = (struct pollfd){ .fd = r, .events = POLLIN };
	}
	printf("armed %u\n", n);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "go", 2))
		;
	go = now_ms();
	while (left && now_ms() - go < timeout_ms) {
		if (poll(p, n, 100) < 0 && errno != EINTR)
			return 1;
		for (unsigned int i = 0; i < n; i++) {
			int r;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			r = vg_fence_wait(p[i].fd, 0);
			if (r == 0)
				continue;
			ok += r == 1;
			err += r < 0;
			close(p[i].fd);
			p[i].fd = -1;
			left--;
			last = now_ms() - go;
		}
	}
	printf("done ok=%u error=%u pending=%u last_ms=%.0f\n", ok, err, left, last);
	return ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "export"))
		return do_export(argv[2], argv[3], (unsigned int)atoi(argv[4]) % MAX_TIMELINES);
	if (argc == 5 && !strcmp(argv[1], "wait"))
		return do_wait((unsigned int)atoi(argv[2]) % MAX_TIMELINES,
			       strtoull(argv[3], NULL, 0), atoi(argv[4]));
	fprintf(stderr, "usage: fence_flood export POOL PEER N | wait N VALUE TIMEOUT_MS\n");
	return 2;
}
