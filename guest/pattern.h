/*
 * pattern - fill patterns written and checked on both sides of a shared
 * buffer (guest tools, vmbufctl, tests): "0xNN" (every byte NN) or
 * "seq:SEED" (byte i is (i * 131 + SEED * 7 + (i >> 12)) & 0xff, so every
 * page differs). tests/vm/vmkit.py has the same formula.
 */
#ifndef VMBUF_PATTERN_H
#define VMBUF_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0 or -EINVAL. */
int pattern_parse(const char *spec, int *is_seq, uint8_t *value);
void pattern_fill(uint8_t *p, size_t len, int is_seq, uint8_t value);
/* Index of the first byte that differs from the pattern, or -1. */
long pattern_check(const uint8_t *p, size_t len, int is_seq, uint8_t value);

#endif
