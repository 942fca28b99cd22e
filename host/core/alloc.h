/*
 * alloc - first-fit range allocator with alignment over [base, base + size).
 *
 * Used by pools; knows nothing about memory, only offsets. Free ranges are
 * kept sorted and coalesced. alloc_free() must be given exactly a range
 * alloc_get() returned. Not thread-safe (vmbufd is single-threaded).
 */
#ifndef VMBUF_ALLOC_H
#define VMBUF_ALLOC_H

#include <stdint.h>

struct alloc_range {
	uint64_t off, len;
};

struct alloc {
	uint64_t base, size, used;
	struct alloc_range *free;
	unsigned int nfree, cap;
};

int alloc_init(struct alloc *a, uint64_t base, uint64_t size);
void alloc_fini(struct alloc *a);

/* Find @len bytes aligned to @align (a power of two). Returns 0 or -ENOMEM. */
int alloc_get(struct alloc *a, uint64_t len, uint64_t align, uint64_t *off);

/* Return a range. Returns 0, or -EINVAL if it overlaps free space or the edges. */
int alloc_free(struct alloc *a, uint64_t off, uint64_t len);

/* Largest free range (for status and tests). */
uint64_t alloc_largest(const struct alloc *a);

#endif
