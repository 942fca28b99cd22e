/*
 * udmabuf_test - runs in a 6.12 guest, which has /dev/udmabuf: exercises the
 * udmabuf helper libvmbuf uses for host imports (host/udmabuf.c) against a
 * memfd laid out like a pool (sealed against shrinking and growing), the way
 * it meets a pool on a host that has udmabuf. Prints TAP and PASS or FAIL.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "textforms.h"
#include "udmabuf.h"

#define POOL (2u << 20)
#define OFF 4096u
#define SIZE (1u << 20)

static int n, failures;

static void check(int ok, const char *what, int err)
{
	n++;
	failures += !ok;
	printf("%s %d - %s", ok ? "ok" : "not ok", n, what);
	if (!ok && err)
		printf(" (%s)", strerrorname_np(err));
	printf("\n");
}

int main(void)
{
	int memfd, loose, fd;
	uint8_t *pool, *view;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memfd = memfd_create("pool", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	check(memfd >= 0 && ftruncate(memfd, POOL) == 0 &&
	      fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0,
	      "a sealed 2 MiB memfd, like a pool", errno);
	pool = mmap(NULL, POOL, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	check(pool != MAP_FAILED, "map the pool", errno);
	if (pool == MAP_FAILED)
		goto out;
	pattern_fill(pool + OFF, SIZE, 1, 11);

	fd = udmabuf_create(memfd, OFF, SIZE);
	check(fd >= 0, "udmabuf over [4096, +1 MiB)", fd < 0 ? -fd : 0);
	if (fd >= 0) {
		struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };

		check(lseek(fd, 0, SEEK_END) == SIZE, "the dma-buf has the range's size", errno);
		view = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		check(view != MAP_FAILED, "mmap the dma-buf", errno);
		if (view != MAP_FAILED) {
			check(ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) == 0, "DMA_BUF_IOCTL_SYNC", errno);
			check(pattern_check(view, SIZE, 1, 11) == -1,
			      "the dma-buf shows the memfd's bytes at the offset", 0);
			memset(view, 0x77, 4096);
			check(pool[OFF] == 0x77 && pool[OFF + 4095] == 0x77,
			      "writes through the dma-buf land in the memfd (same pages)", 0);
			s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
			ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
			munmap(view, SIZE);
		}
		close(fd);
	}
	check(udmabuf_create(memfd, 100, SIZE) == -EINVAL, "unaligned offset: EINVAL", 0);
	check(udmabuf_create(memfd, POOL - 4096, SIZE) == -EINVAL, "range past the end: EINVAL", 0);
	loose = memfd_create("loose", MFD_CLOEXEC);
	check(loose >= 0 && ftruncate(loose, POOL) == 0 && udmabuf_create(loose, 0, SIZE) == -EINVAL,
	      "a memfd not sealed against shrinking: EINVAL", 0);
out:
	printf("1..%d\n%s\n", n, failures ? "FAIL" : "PASS");
	return failures != 0;
}
