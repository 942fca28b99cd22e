/*
 * pool - memfd-backed shared memory. The daemon zeroes every freed range
 * before it can be allocated again, so a buffer never shows the previous
 * owner's bytes to the next VM and no guest has to trust itself (or a peer)
 * to clear memory. By default with memset, keeping the pages resident; with
 * "reclaim = yes" by punching the range out of the memfd, which gives the
 * pages back to the host at the price of a fault per page on next use
 * (docs/benchmarks.md measures both).
 *
 * Zeroing happens in steps between other work (pool_clean()), never inside
 * the request that freed the memory: one memset of 512 MiB took the daemon
 * away from every other VM for hundreds of milliseconds. Pages that are not
 * resident in the memfd (never touched, or punched) are holes and read as
 * zero already: mincore() finds them, so they cost almost nothing.
 */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include <linux/virtio_vmbuf.h>

#define POOL_PAGE 4096ull
#define POOL_HUGE (2ull << 20)
/* Pages one mincore() call looks at. */
#define POOL_SCAN_PAGES 512
/* What looking at a page that is not resident costs, against zeroing one (4096). */
#define POOL_SCAN_COST 128

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
	/* What waits for zeroing is not zeroed: the memory goes away with the memfd. */
	if (p->map)
		munmap(p->map, p->size);
	closep(&p->memfd);
	alloc_fini(&p->alloc);
	free(p->dirty);
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
		return p->ndirty ? -EAGAIN : r;
	p->nbuffers++;
	*out_size = len;
	return 0;
}

void pool_release(struct pool *p, uint64_t off, uint64_t size)
{
	if (p->ndirty == p->dirty_cap) {
		unsigned int cap = p->dirty_cap ? 2 * p->dirty_cap : 16;
		struct alloc_range *d = malloc(cap * sizeof(*d));

		if (!d) {
			/* No room to queue it: zero it now rather than lose it. */
			memset(p->map + off, 0, size);
			if (alloc_free(&p->alloc, off, size) == 0)
				p->nbuffers--;
			return;
		}
		for (unsigned int i = 0; i < p->ndirty; i++)
			d[i] = p->dirty[(p->dirty_head + i) % p->dirty_cap];
		free(p->dirty);
		p->dirty = d;
		p->dirty_cap = cap;
		p->dirty_head = 0;
	}
	p->dirty[(p->dirty_head + p->ndirty) % p->dirty_cap] = (struct alloc_range){ off, size };
	p->ndirty++;
	p->dirty_bytes += size;
	p->nbuffers--;
}

/* Zero [off, off + len) (at most POOL_SCAN_PAGES pages); returns what it cost. */
static uint64_t pool_zero(struct pool *p, uint64_t off, uint64_t len)
{
	unsigned char resident[POOL_SCAN_PAGES];
	size_t pages = len / POOL_PAGE;
	uint64_t cost = 0;

	if (p->reclaim &&
	    fallocate(p->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
		return len / 2;
	if (mincore(p->map + off, len, resident) < 0) {
		memset(p->map + off, 0, len);
		return len;
	}
	for (size_t i = 0; i < pages;) {
		size_t run = 0;

		while (i + run < pages && (resident[i + run] & 1))
			run++;
		if (run) {
			memset(p->map + off + i * POOL_PAGE, 0, run * POOL_PAGE);
			cost += run * POOL_PAGE;
			i += run;
		} else {
			cost += POOL_SCAN_COST;	/* a hole: reads as zero already */
			i++;
		}
	}
	return cost;
}

unsigned int pool_clean(struct pool *p, uint64_t budget)
{
	unsigned int finished = 0;
	uint64_t spent = 0;

	while (p->ndirty && spent < budget) {
		struct alloc_range *r = &p->dirty[p->dirty_head];
		uint64_t n = r->len - p->dirty_done;

		if (n > POOL_SCAN_PAGES * POOL_PAGE)
			n = POOL_SCAN_PAGES * POOL_PAGE;
		spent += pool_zero(p, r->off + p->dirty_done, n);
		p->dirty_done += n;
		if (p->dirty_done < r->len)
			continue;
		if (alloc_free(&p->alloc, r->off, r->len) < 0)
			log_err("pool '%s': [%llu, +%llu) was not allocated", p->name,
				(unsigned long long)r->off, (unsigned long long)r->len);
		p->dirty_bytes -= r->len;
		p->dirty_done = 0;
		p->dirty_head = (p->dirty_head + 1) % p->dirty_cap;
		p->ndirty--;
		finished++;
	}
	return finished;
}

uint64_t pool_used(const struct pool *p)
{
	return p->alloc.used - p->dirty_bytes;
}
