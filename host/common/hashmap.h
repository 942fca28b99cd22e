/*
 * hashmap - intrusive hash table with chaining, for lookups that must not
 * slow down with what the daemon holds (buffers by id, exports by handle
 * and by name).
 *
 * The caller computes the 64-bit hash (hash.h: keyed, so that guests
 * cannot choose keys that collide) and compares keys itself while walking
 * the entries of one hash:
 *
 *	hmap_for_each_hash(e, &map, h, node)
 *		if (e->id == id)
 *			return e;
 *
 * The bucket array doubles when there are more entries than buckets (so
 * chains stay O(1) long on average) and never shrinks. Inserting cannot
 * fail: when the array cannot grow, chains get longer. Not thread-safe.
 */
#ifndef VMBUF_HASHMAP_H
#define VMBUF_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct hmap_node {
	struct hmap_node *next;
	uint64_t hash;
};

struct hmap {
	struct hmap_node **buckets;
	size_t mask;	/* buckets - 1 */
	size_t count;
};

/* An empty map with its first buckets: 0 or -ENOMEM. */
int hmap_init(struct hmap *h);
void hmap_fini(struct hmap *h);
/* File @n under @hash. */
void hmap_insert(struct hmap *h, struct hmap_node *n, uint64_t hash);
/* Take @n out; it must be in @h. */
void hmap_remove(struct hmap *h, struct hmap_node *n);

/* The first node filed under @hash, then the next one (NULL at the end). */
static inline struct hmap_node *hmap_first(const struct hmap *h, uint64_t hash)
{
	struct hmap_node *n = h->buckets[hash & h->mask];

	while (n && n->hash != hash)
		n = n->next;
	return n;
}

static inline struct hmap_node *hmap_next(const struct hmap_node *n)
{
	uint64_t hash = n->hash;

	for (n = n->next; n && n->hash != hash; n = n->next)
		;
	return (struct hmap_node *)n;
}

/* Every entry filed under @hash (they may differ in key: compare it). */
#define hmap_for_each_hash(pos, map, hash, member)                                        \
	for (struct hmap_node *hmap__n = hmap_first(map, hash);                            \
	     hmap__n && ((pos) = container_of(hmap__n, __typeof__(*(pos)), member), 1);   \
	     hmap__n = hmap_next(hmap__n))

#endif
