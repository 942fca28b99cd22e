/*
 * test_hashmap - SipHash-2-4 against the paper's test vector, and the hash
 * table: insert, find, remove, growth, entries sharing a hash.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hashmap.h"
#include "../check.h"

struct item {
	struct hmap_node node;
	uint64_t key;
};

static struct item *find(struct hmap *h, const struct hash_key *k, uint64_t key)
{
	struct item *it;

	hmap_for_each_hash(it, h, hash_u64(k, key), node)
		if (it->key == key)
			return it;
	return NULL;
}

int main(void)
{
	/* The paper's appendix: key 00..0f, message 00..0e. */
	struct hash_key pk;
	uint8_t kb[16], msg[15];
	struct hash_key key;
	struct hmap h;
	enum { N = 100000 };
	struct item *items = calloc(N, sizeof(*items));
	int bad = 0;

	for (int i = 0; i < 16; i++)
		kb[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	memcpy(&pk.k0, kb, 8);
	memcpy(&pk.k1, kb + 8, 8);
	CHECK(hash_bytes(&pk, msg, sizeof(msg)) == 0xa129ca6149be45e5ULL,
	      "SipHash-2-4 matches the paper's test vector");
	CHECK(hash_key_init(&key) == 0, "random key");
	CHECK(hash_bytes(&key, "abc", 3) != hash_bytes(&key, "abd", 3), "different inputs differ");

	CHECK(hmap_init(&h) == 0, "init");
	CHECK(find(&h, &key, 1) == NULL, "an empty map finds nothing");
	for (uint64_t i = 0; i < N; i++) {
		items[i].key = i * 7;
		hmap_insert(&h, &items[i].node, hash_u64(&key, items[i].key));
	}
	CHECK(h.count == N, "100000 inserts");
	CHECK(h.mask + 1 >= N, "the bucket array grew with the entries");
	for (uint64_t i = 0; i < N; i++)
		bad |= find(&h, &key, i * 7) != &items[i];
	CHECK(!bad, "every entry is found by its key");
	CHECK(find(&h, &key, 3) == NULL, "a missing key is not found");
	for (uint64_t i = 0; i < N; i += 2)
		hmap_remove(&h, &items[i].node);
	for (uint64_t i = 0; i < N; i++)
		bad |= find(&h, &key, i * 7) != (i % 2 ? &items[i] : NULL);
	CHECK(!bad && h.count == N / 2, "removed entries are gone, the others stay");

	/* Two entries under one hash: the caller tells them apart by key. */
	{
		struct hmap s;
		struct item a = { .key = 1 }, b = { .key = 2 }, *it;
		int seen = 0;

		hmap_init(&s);
		hmap_insert(&s, &a.node, 42);
		hmap_insert(&s, &b.node, 42);
		hmap_for_each_hash(it, &s, 42, node)
			seen |= it == &a ? 1 : it == &b ? 2 : 4;
		CHECK(seen == 3, "both entries of one hash are walked");
		hmap_remove(&s, &b.node);
		seen = 0;
		hmap_for_each_hash(it, &s, 42, node)
			seen |= it == &a ? 1 : 2;
		CHECK(seen == 1, "after removing one, the other remains");
		hmap_fini(&s);
	}
	hmap_fini(&h);
	free(items);
	return check_done();
}
