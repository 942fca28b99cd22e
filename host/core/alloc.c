/*
 * alloc - sorted array of free extents. Allocation splits an extent into up
 * to three (head padding, the allocation, tail); freeing inserts and merges
 * with both neighbours. O(free extents) per call, which stays small because
 * freeing coalesces.
 */
#include "alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include <stdbool.h>

static int alloc_reserve(struct alloc *a, unsigned int n)
{
	struct alloc_range *p;
	unsigned int cap;

	if (n <= a->cap)
		return 0;
	cap = a->cap ? a->cap * 2 : 16;
	while (cap < n)
		cap *= 2;
	p = realloc(a->free, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->free = p;
	a->cap = cap;
	return 0;
}

static int alloc_insert(struct alloc *a, unsigned int at, uint64_t off, uint64_t len)
{
	int r = alloc_reserve(a, a->nfree + 1);

	if (r < 0)
		return r;
	memmove(&a->free[at + 1], &a->free[at], (a->nfree - at) * sizeof(*a->free));
	a->free[at] = (struct alloc_range){ off, len };
	a->nfree++;
	return 0;
}

static void alloc_remove(struct alloc *a, unsigned int at)
{
	memmove(&a->free[at], &a->free[at + 1], (a->nfree - at - 1) * sizeof(*a->free));
	a->nfree--;
}

int alloc_init(struct alloc *a, uint64_t base, uint64_t size)
{
	memset(a, 0, sizeof(*a));
	if (size == 0 || base > UINT64_MAX - size)
		return -EINVAL;
	a->base = base;
	a->size = size;
	return alloc_insert(a, 0, base, size);
}

void alloc_fini(struct alloc *a)
{
	free(a->free);
	memset(a, 0, sizeof(*a));
}

int alloc_get(struct alloc *a, uint64_t len, uint64_t align, uint64_t *off)
{
	if (len == 0 || !is_pow2(align))
		return -EINVAL;
	for (unsigned int i = 0; i < a->nfree; i++) {
		struct alloc_range f = a->free[i];
		uint64_t start = align_up(f.off, align);
		uint64_t head, tail;
		int r;

		if (start < f.off || start - f.off >= f.len || f.len - (start - f.off) < len)
			continue;
		head = start - f.off;
		tail = f.len - head - len;
		/* Reserve first so a failed insert leaves the allocator unchanged. */
		r = alloc_reserve(a, a->nfree + 1);
		if (r < 0)
			return r;
		if (head && tail) {
			a->free[i].len = head;
			alloc_insert(a, i + 1, start + len, tail);
		} else if (head) {
			a->free[i].len = head;
		} else if (tail) {
			a->free[i] = (struct alloc_range){ start + len, tail };
		} else {
			alloc_remove(a, i);
		}
		a->used += len;
		*off = start;
		return 0;
	}
	return -ENOMEM;
}

int alloc_free(struct alloc *a, uint64_t off, uint64_t len)
{
	unsigned int i = 0;
	bool merge_prev, merge_next;

	if (len == 0 || off < a->base || off - a->base > a->size || len > a->size - (off - a->base))
		return -EINVAL;
	while (i < a->nfree && a->free[i].off < off)
		i++;
	/* Must not overlap the neighbours. */
	if (i > 0 && a->free[i - 1].off + a->free[i - 1].len > off)
		return -EINVAL;
	if (i < a->nfree && off + len > a->free[i].off)
		return -EINVAL;
	merge_prev = i > 0 && a->free[i - 1].off + a->free[i - 1].len == off;
	merge_next = i < a->nfree && off + len == a->free[i].off;
	if (merge_prev && merge_next) {
		a->free[i - 1].len += len + a->free[i].len;
		alloc_remove(a, i);
	} else if (merge_prev) {
		a->free[i - 1].len += len;
	} else if (merge_next) {
		a->free[i].off = off;
		a->free[i].len += len;
	} else {
		int r = alloc_insert(a, i, off, len);

		if (r < 0)
			return r;
	}
	a->used -= len;
	return 0;
}

uint64_t alloc_largest(const struct alloc *a)
{
	uint64_t m = 0;

	for (unsigned int i = 0; i < a->nfree; i++)
		if (a->free[i].len > m)
			m = a->free[i].len;
	return m;
}
