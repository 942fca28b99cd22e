/*
 * pool - memfd-backed shared memory. The daemon zeroes every freed range
 * before it can be allocated again, so a buffer never shows the previous
 * owner's bytes to the next VM and no guest has to trust itself (or a peer)
 * to clear memory. By default with memset, keeping the pages resident; with
 * "reclaim = yes" by punching the range out of the memfd, which gives the
 * pages back to the host at the price of a fault per page on next use
 * (docs/benchmarks.md measures both).
 */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"
#include <linux/virtio_vmbuf.h>

#define POOL_PAGE 4096ull
#define POOL_HUGE (2ull << 20)

int pool_create(struct pool *p, unsigned int id, const char *name, uint64_t size)
{
	char memfd_name[64];
	_cleanup_close_ int fd = -1;
	void *map;
	int r;

	memset(p, 0, sizeof(*p));
	p->memfd = -1;
	if (!is_pow2(size) || size < VIRTIO_VMBUF_POOL_MIN)
		return -EINVAL;
	snprintf(memfd_name, sizeof(memfd_name), "vmbuf-pool-%s", name);
	fd = memfd_create(memfd_name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size) < 0)
		return -errno;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -errno;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	r = alloc_init(&p->alloc, VIRTIO_VMBUF_POOL_DATA_OFFSET,
		       size - VIRTIO_VMBUF_POOL_DATA_OFFSET);
	if (r < 0) {
		munmap(map, size);
		return r;
	}
	p->id = id;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->size = size;
	p->map = map;
	p->memfd = fd_steal(&fd);
	return 0;
}

void pool_destroy(struct pool *p)
{
	if (p->map)
		munmap(p->map, p->size);
	closep(&p->memfd);
	alloc_fini(&p->alloc);
	memset(p, 0, sizeof(*p));
	p->memfd = -1;
}

int pool_alloc(struct pool *p, uint64_t size, uint64_t *off, uint64_t *out_size)
{
	uint64_t len = align_up(size, POOL_PAGE);
	int r;

	if (size == 0 || len == 0)
		return -EINVAL;
	if (len > p->size)
		return -ENOMEM;
	r = alloc_get(&p->alloc, len, len >= POOL_HUGE ? POOL_HUGE : POOL_PAGE, off);
	if (r < 0 && len >= POOL_HUGE)
		r = alloc_get(&p->alloc, len, POOL_PAGE, off);
	if (r < 0)
		return r;
	p->nbuffers++;
	*out_size = len;
	return 0;
}

int pool_release(struct pool *p, uint64_t off, uint64_t size)
{
	int r;

	if (!p->reclaim ||
	    fallocate(p->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, size) < 0)
		memset(p->map + off, 0, size);
	r = alloc_free(&p->alloc, off, size);
	if (r < 0)
		return r;
	p->nbuffers--;
	return 0;
}
