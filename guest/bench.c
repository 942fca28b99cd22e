/*
 * vmbuf-bench - allocation rate and CPU bandwidth of a vmbuf heap against
 * /dev/dma_heap/system, measured in the same guest in the same run.
 *
 *   alloc      allocate + free (close) a buffer, for 4 KiB, 1 MiB, 8 MiB, 32 MiB
 *   alloc+use  the same, touching every page through mmap in between: the fair
 *              comparison, since vmbuf memory is zeroed lazily (first touch)
 *   bandwidth  write (memset) and read (sum) through mmap, 32 MiB, after a warm-up
 *
 * Every line prints both rates and vmbuf/system. Usage:
 *   vmbuf-bench -p POOL [-n ITERATIONS] [-b BANDWIDTH_PASSES]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "libvmbuf_guest.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Allocate from @path; returns a dma-buf fd or -errno. */
static int heap_alloc(const char *path, size_t len)
{
	int heap = open(path, O_RDWR | O_CLOEXEC), fd = -1, r;

	if (heap < 0)
		return -errno;
	r = vg_heap_ioctl(heap, len, 0, O_RDWR | O_CLOEXEC, 0, &fd);
	close(heap);
	return r < 0 ? r : fd;
}

/* Allocations + frees per second (touching every page first with @touch), or -errno. */
static double alloc_rate(const char *path, size_t len, int n, int touch)
{
	double t0 = now_s();

	for (int i = 0; i < n; i++) {
		int fd = heap_alloc(path, len);

		if (fd < 0)
			return fd;
		if (touch) {
			volatile uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

			if (p == MAP_FAILED) {
				close(fd);
				return -errno;
			}
			for (size_t off = 0; off < len; off += 4096)
				p[off] = 1;
			munmap((void *)p, len);
		}
		close(fd);
	}
	return n / (now_s() - t0);
}

/* MB/s writing (@write) or reading the buffer through mmap, @passes times. */
static double bandwidth(const char *path, size_t len, int passes, int write, volatile uint64_t *sink)
{
	int fd = heap_alloc(path, len);
	uint64_t *p, sum = 0;
	double t0, t;

	if (fd < 0)
		return fd;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	memset(p, 1, len);	/* warm-up: fault everything in */
	t0 = now_s();
	for (int i = 0; i < passes; i++) {
		vg_sync(fd, 1, write);
		if (write) {
			memset(p, i, len);
		} else {
			for (size_t w = 0; w < len / 8; w++)
				sum += p[w];
		}
		vg_sync(fd, 0, write);
	}
	t = now_s() - t0;
	*sink = sum;
	munmap(p, len);
	close(fd);
	return (double)len * passes / t / 1e6;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 1 << 20, 8 << 20, 32 << 20 };
	const char *pool = NULL;
	char vpath[96];
	const char *spath = "/dev/dma_heap/system";
	int n = 100, passes = 8, c;
	volatile uint64_t sink;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt(argc, argv, "p:n:b:")) != -1) {
		switch (c) {
		case 'p': pool = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'b': passes = atoi(optarg); break;
		default: pool = NULL; optind = argc; break;
		}
	}
	if (!pool || n < 1 || passes < 1) {
		fprintf(stderr, "Usage: vmbuf-bench -p POOL [-n ITERATIONS] [-b PASSES]\n"
				"Compare /dev/dma_heap/vmbuf-POOL with /dev/dma_heap/system in this guest.\n");
		return 2;
	}
	vg_heap_path(vpath, sizeof(vpath), pool);
	if (access(spath, R_OK) < 0) {
		fprintf(stderr, "vmbuf-bench: %s: %s (no baseline)\n", spath, strerror(errno));
		return 1;
	}
	printf("%-28s %14s %14s %8s\n", "test", "vmbuf", "system", "ratio");
	for (size_t t = 0; t < 2 * sizeof(sizes) / sizeof(sizes[0]); t++) {
		size_t i = t % (sizeof(sizes) / sizeof(sizes[0]));
		int touch = t >= sizeof(sizes) / sizeof(sizes[0]);
		/* Alternate the order so neither heap always runs first. */
		double v = alloc_rate(vpath, sizes[i], n, touch), s = alloc_rate(spath, sizes[i], n, touch);
		double v2 = alloc_rate(vpath, sizes[i], n, touch);
		char name[48];

		if (v < 0 || s < 0 || v2 < 0) {
			fprintf(stderr, "vmbuf-bench: allocation of %zu bytes failed: %s\n", sizes[i],
				strerror(-(int)(v < 0 ? v : s < 0 ? s : v2)));
			return 1;
		}
		v = (v + v2) / 2;
		snprintf(name, sizeof(name), "alloc+%sfree %zu KiB", touch ? "touch+" : "",
			 sizes[i] >> 10);
		printf("%-28s %10.0f op/s %10.0f op/s %7.2fx\n", name, v, s, v / s);
	}
	for (int write = 1; write >= 0; write--) {
		double v = bandwidth(vpath, 32 << 20, passes, write, &sink);
		double s = bandwidth(spath, 32 << 20, passes, write, &sink);

		if (v < 0 || s < 0)
			return 1;
		printf("%-28s %9.0f MB/s %9.0f MB/s %7.2fx\n",
		       write ? "CPU write 32 MiB (mmap)" : "CPU read 32 MiB (mmap)", v, s, v / s);
	}
	return 0;
}
