/*
 * pool - one shared-memory pool: a sealed memfd, the daemon's mapping of
 * it and the allocator over its data area. The first
 * VIRTIO_VMBUF_POOL_DATA_OFFSET bytes are never allocated: a transport may
 * put a header there (ivshmem does).
 *
 * The memfd can only be punched, never shrunk or grown (F_SEAL_SHRINK,
 * F_SEAL_GROW, F_SEAL_SEAL), so every mapping of it stays valid.
 */
#ifndef VMBUF_POOL_H
#define VMBUF_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"

struct pool {
	unsigned int id;	/* 1-based, as on the wire */
	char name[32];
	uint64_t size;
	int memfd;
	uint8_t *map;
	struct alloc alloc;
	unsigned int nbuffers;
	bool reclaim;		/* punch freed ranges out (pages back to the host) */
};

/* Create the memfd and seal it. On failure @p needs no destroy. */
int pool_create(struct pool *p, unsigned int id, const char *name, uint64_t size);
void pool_destroy(struct pool *p);

/*
 * Allocate @size bytes (rounded up to a page; 2 MiB aligned from 2 MiB up).
 * The range reads as zero. Returns 0, -EINVAL or -ENOMEM.
 */
int pool_alloc(struct pool *p, uint64_t size, uint64_t *off, uint64_t *out_size);

/*
 * Zero and return a range pool_alloc() gave: memset (pages stay resident: the
 * next first touch is cheap), or with @reclaim punched out of the memfd (pages
 * go back to the host; the next touch of each faults a fresh one in).
 */
int pool_release(struct pool *p, uint64_t off, uint64_t size);

#endif
