/*
 * pool - one shared-memory pool: a sealed memfd, the daemon's mapping of
 * it and the allocator over its data area. The first
 * VIRTIO_VMBUF_POOL_DATA_OFFSET bytes are never allocated: a transport may
 * put a header there (ivshmem does).
 *
 * The memfd can only be punched, never shrunk or grown (F_SEAL_SHRINK,
 * F_SEAL_GROW, F_SEAL_SEAL), so every mapping of it stays valid.
 *
 * Freed ranges are zeroed before they can be allocated again, but not at
 * once: pool_release() queues them and pool_clean() zeroes a bounded number
 * of bytes per call (the daemon calls it between other work), so freeing
 * half a gigabyte never stalls the daemon. A range is unusable until it is
 * clean; an allocation that only dirty memory could satisfy gets -EAGAIN.
 */
#ifndef VMBUF_POOL_H
#define VMBUF_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include <linux/virtio_vmbuf.h>

struct pool {
	unsigned int id;	/* 1-based, as on the wire */
	char name[32];
	uint64_t size;
	int memfd;
	uint8_t *map;
	struct alloc alloc;
	unsigned int nbuffers;
	bool reclaim;		/* punch freed ranges out (pages back to the host) */
	/* Released ranges waiting to be zeroed, oldest first (a ring of ndirty). */
	struct alloc_range *dirty;
	unsigned int dirty_head, ndirty, dirty_cap;
	uint64_t dirty_bytes;	/* in those ranges, the part already zeroed included */
	uint64_t dirty_done;	/* bytes of the oldest range already zeroed */
	/* Fast-timeline slots in the first page (fast.c). */
	bool fast_used[VIRTIO_VMBUF_FAST_SLOTS];
	uint16_t fast_next_tag;
};

/* Create the memfd and seal it. On failure @p needs no destroy. */
int pool_create(struct pool *p, unsigned int id, const char *name, uint64_t size);
void pool_destroy(struct pool *p);

/*
 * Allocate @size bytes (rounded up to a page; 2 MiB aligned from 2 MiB up).
 * The range reads as zero. Returns 0, -EINVAL, -ENOMEM, or -EAGAIN when the
 * memory that could satisfy it is still being zeroed (try again after
 * pool_clean() made progress).
 */
int pool_alloc(struct pool *p, uint64_t size, uint64_t *off, uint64_t *out_size);

/*
 * Give back a range pool_alloc() gave. It is queued for zeroing: memset of
 * the pages that are resident (pages stay resident: the next first touch is
 * cheap), or with @reclaim punched out of the memfd (pages go back to the
 * host; the next touch of each faults a fresh one in). Never fails; O(1).
 */
void pool_release(struct pool *p, uint64_t off, uint64_t size);

/* How many bytes pool_clean() may zero per call in the daemon: about 0.3 ms of memset. */
#define POOL_CLEAN_STEP (2ull << 20)

/*
 * Zero up to @budget bytes of queued ranges, oldest first (pages that are
 * not resident read as zero already and cost almost nothing), and hand the
 * finished ranges back to the allocator. Returns the number of ranges that
 * became allocatable (0 when nothing finished).
 */
unsigned int pool_clean(struct pool *p, uint64_t budget);

/* Bytes held by buffers (allocated, not waiting for zeroing). */
uint64_t pool_used(const struct pool *p);

#endif
