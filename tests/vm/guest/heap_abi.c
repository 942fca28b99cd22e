/*
 * heap_abi - runs inside a guest: checks that /dev/dma_heap/vmbuf-POOL
 * behaves like a dma-heap (argument checks, errors, zeroed memory, mmap
 * with DMA_BUF_IOCTL_SYNC). Prints TAP and a final "PASS" or "FAIL".
 *
 * Usage: heap_abi POOL POOL_SIZE
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libvmbuf_guest.h"

static int failures, n;

static void check(int ok, const char *what, int err)
{
	n++;
	if (ok) {
		printf("ok %d - %s\n", n, what);
	} else {
		failures++;
		printf("not ok %d - %s (got %s)\n", n, what, err ? strerrorname_np(err) : "success");
	}
}

static int expect_err(int heap, uint64_t len, uint32_t fd, uint32_t fd_flags, uint64_t heap_flags,
		      int want, const char *what)
{
	int out = -1;
	int r = vg_heap_ioctl(heap, len, fd, fd_flags, heap_flags, &out);

	if (r == 0)
		close(out);
	check(r == -want, what, -r);
	return r;
}

/* Map, optionally check for zero, fill, unmap. Returns the first non-zero index or -1. */
static long touch(int fd, size_t len, int fill)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	long nz;

	if (p == MAP_FAILED)
		return -2;
	vg_sync(fd, 1, 1);
	nz = pattern_check(p, len, 0, 0);
	if (fill >= 0)
		memset(p, fill, len);
	vg_sync(fd, 0, 1);
	munmap(p, len);
	return nz;
}

int main(int argc, char **argv)
{
	unsigned long long pool_size;
	char path[96];
	int heap, fd, fd2, r;
	long nz;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3) {
		fprintf(stderr, "usage: heap_abi POOL POOL_SIZE\n");
		return 2;
	}
	pool_size = strtoull(argv[2], NULL, 0);
	vg_heap_path(path, sizeof(path), argv[1]);
	heap = open(path, O_RDWR | O_CLOEXEC);
	check(heap >= 0, "open heap node", errno);
	if (heap < 0)
		goto out;

	expect_err(heap, 4096, 0, O_RDWR | O_NONBLOCK, 0, EINVAL, "fd_flags outside CLOEXEC|ACCMODE");
	expect_err(heap, 4096, 0, O_RDWR, 1, EINVAL, "non-zero heap_flags");
	expect_err(heap, 0, 0, O_RDWR, 0, EINVAL, "len 0");
	expect_err(heap, 4096, 3, O_RDWR, 0, EINVAL, "fd != 0 on input");
	{
		/* Another command number than ALLOC's. */
		unsigned long bad = _IOWR(DMA_HEAP_IOC_MAGIC, 0x1, struct dma_heap_allocation_data);
		struct dma_heap_allocation_data d = { .len = 4096, .fd_flags = O_RDWR };

		r = ioctl(heap, bad, &d);
		check(r < 0 && errno == EINVAL, "unknown command number", r < 0 ? errno : 0);
	}
	expect_err(heap, pool_size * 2, 0, O_RDWR, 0, ENOMEM, "larger than the pool");

	/* Fill most of the pool, then ask for more than what is left. */
	r = vg_heap_ioctl(heap, pool_size / 2, 0, O_RDWR | O_CLOEXEC, 0, &fd);
	check(r == 0, "allocate half the pool", -r);
	if (r == 0) {
		expect_err(heap, pool_size / 2 + 4096, 0, O_RDWR, 0, ENOMEM,
			   "more than the free space");
		close(fd);
	}
	r = vg_heap_ioctl(heap, 4096, 0, O_RDWR | O_CLOEXEC, 0, &fd);
	check(r == 0, "daemon still serves after ENOMEM", -r);
	if (r == 0)
		close(fd);

	/* Unaligned length rounds up to a page, as in the dma-heap core. */
	r = vg_heap_ioctl(heap, 100, 0, O_RDWR | O_CLOEXEC, 0, &fd);
	check(r == 0 && lseek(fd, 0, SEEK_END) == 4096, "len 100 rounds up to 4096", -r);
	if (r == 0)
		close(fd);

	/* Reused memory reads as zero: dirty a buffer, free it, allocate again. */
	r = vg_heap_ioctl(heap, 1 << 20, 0, O_RDWR | O_CLOEXEC, 0, &fd);
	check(r == 0, "allocate 1 MiB", -r);
	if (r == 0) {
		nz = touch(fd, 1 << 20, 0xA5);
		check(nz == -1, "new buffer reads as zero", nz == -2 ? errno : 0);
		close(fd);
		r = vg_heap_ioctl(heap, 1 << 20, 0, O_RDWR | O_CLOEXEC, 0, &fd2);
		check(r == 0, "allocate 1 MiB again", -r);
		if (r == 0) {
			nz = touch(fd2, 1 << 20, -1);
			check(nz == -1, "reused memory reads as zero", 0);
			close(fd2);
		}
	}

	/* mmap + write + sync, read back through a second mapping. */
	fd = vg_alloc(argv[1], 64 << 10);
	check(fd >= 0, "vg_alloc 64 KiB", fd < 0 ? -fd : 0);
	if (fd >= 0) {
		uint8_t *a = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		uint8_t *b = mmap(NULL, 64 << 10, PROT_READ, MAP_SHARED, fd, 0);

		check(a != MAP_FAILED && b != MAP_FAILED, "two mmaps", errno);
		if (a != MAP_FAILED && b != MAP_FAILED) {
			check(vg_sync(fd, 1, 1) == 0, "DMA_BUF_IOCTL_SYNC start", errno);
			pattern_fill(a, 64 << 10, 1, 7);
			check(vg_sync(fd, 0, 1) == 0, "DMA_BUF_IOCTL_SYNC end", errno);
			check(pattern_check(b, 64 << 10, 1, 7) == -1, "second mapping sees writes", 0);
			check(mmap(NULL, 128 << 10, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED,
			      "mmap beyond the buffer fails", 0);
		}
		close(fd);
	}
	close(heap);
out:
	printf("1..%d\n%s\n", n, failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
