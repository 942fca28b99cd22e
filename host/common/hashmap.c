/* hashmap - see hashmap.h. Buckets are singly linked chains, power-of-two many. */
#include "hashmap.h"

#include <errno.h>
#include <stdlib.h>

#define HMAP_MIN_BUCKETS 64

static int hmap_resize(struct hmap *h, size_t nbuckets)
{
	struct hmap_node **b = calloc(nbuckets, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; h->buckets && i <= h->mask; i++) {
		struct hmap_node *n = h->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nbuckets - 1)];
			b[n->hash & (nbuckets - 1)] = n;
		}
	}
	free(h->buckets);
	h->buckets = b;
	h->mask = nbuckets - 1;
	return 0;
}

int hmap_init(struct hmap *h)
{
	h->buckets = NULL;
	h->mask = 0;
	h->count = 0;
	return hmap_resize(h, HMAP_MIN_BUCKETS);
}

void hmap_fini(struct hmap *h)
{
	free(h->buckets);
	h->buckets = NULL;
	h->mask = h->count = 0;
}

void hmap_insert(struct hmap *h, struct hmap_node *n, uint64_t hash)
{
	struct hmap_node **slot;

	if (h->count > h->mask && h->mask < SIZE_MAX / 4 / sizeof(*h->buckets))
		(void)hmap_resize(h, (h->mask + 1) * 2);	/* on failure: longer chains */
	slot = &h->buckets[hash & h->mask];
	n->hash = hash;
	n->next = *slot;
	*slot = n;
	h->count++;
}

void hmap_remove(struct hmap *h, struct hmap_node *n)
{
	struct hmap_node **p = &h->buckets[n->hash & h->mask];

	while (*p != n)
		p = &(*p)->next;
	*p = n->next;
	n->next = NULL;
	h->count--;
}
