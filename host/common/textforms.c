/* textforms - fill patterns and handle text, shared by guest tools and vmbufctl. */
#include "textforms.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int pattern_parse(const char *spec, int *is_seq, uint8_t *value)
{
	unsigned long v;
	char *end;

	*is_seq = !strncmp(spec, "seq:", 4);
	if (*is_seq)
		spec += 4;
	errno = 0;
	v = strtoul(spec, &end, 0);
	if (errno || end == spec || *end || v > 255)
		return -EINVAL;
	*value = v;
	return 0;
}

static inline uint8_t pattern_byte(size_t i, uint8_t seed)
{
	return (uint8_t)(i * 131 + seed * 7 + (i >> 12));
}

void pattern_fill(uint8_t *p, size_t len, int is_seq, uint8_t value)
{
	if (!is_seq) {
		memset(p, value, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		p[i] = pattern_byte(i, value);
}

long pattern_check(const uint8_t *p, size_t len, int is_seq, uint8_t value)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (is_seq ? pattern_byte(i, value) : value))
			return (long)i;
	return -1;
}

void handle_format(char *out, const uint8_t *handle)
{
	for (int i = 0; i < HANDLE_HEX_LEN / 2; i++)
		sprintf(out + 2 * i, "%02x", handle[i]);
}

int handle_parse(uint8_t *handle, const char *hex)
{
	if (strlen(hex) != HANDLE_HEX_LEN)
		return -EINVAL;
	for (int i = 0; i < HANDLE_HEX_LEN / 2; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		handle[i] = v;
	}
	return 0;
}

uint64_t sum_fnv1a(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}
