/*
 * hash - SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash for
 * hash tables whose keys guests choose (names) or guess (handles, ids).
 * With a random key per process, no guest can make entries collide on
 * purpose and turn O(1) lookups into a walk of everything.
 */
#ifndef VMBUF_HASH_H
#define VMBUF_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_key {
	uint64_t k0, k1;
};

/* A fresh random key (getrandom()): 0 or -errno. */
int hash_key_init(struct hash_key *key);
uint64_t hash_bytes(const struct hash_key *key, const void *data, size_t len);

static inline uint64_t hash_u64(const struct hash_key *key, uint64_t v)
{
	return hash_bytes(key, &v, sizeof(v));
}

#endif
