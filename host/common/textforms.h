/*
 * textforms - what the guest tools and vmbufctl both read and write as text:
 *
 * Fill patterns written and checked on both sides of a shared buffer: "0xNN"
 * (every byte NN) or "seq:SEED" (byte i is (i * 131 + SEED * 7 + (i >> 12))
 * & 0xff, so every page differs); tests/vm/vmkit.py has the same formula.
 *
 * Handles: 32 lowercase hex digits.
 */
#ifndef VMBUF_TEXTFORMS_H
#define VMBUF_TEXTFORMS_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0 or -EINVAL. */
int pattern_parse(const char *spec, int *is_seq, uint8_t *value);
void pattern_fill(uint8_t *p, size_t len, int is_seq, uint8_t value);
/* Index of the first byte that differs from the pattern, or -1. */
long pattern_check(const uint8_t *p, size_t len, int is_seq, uint8_t value);

/*
 * FNV-1a, 64 bits, of @len bytes: the "sum HEX" the tools print so that a
 * test can compare what one side wrote with what the other reads.
 */
uint64_t sum_fnv1a(const void *p, size_t len);

#define HANDLE_HEX_LEN 32

/* Format a 16-byte handle into @out (HANDLE_HEX_LEN + 1 bytes). */
void handle_format(char *out, const uint8_t *handle);
/* Parse 32 hex digits into a 16-byte handle: 0 or -EINVAL. */
int handle_parse(uint8_t *handle, const char *hex);

#endif
