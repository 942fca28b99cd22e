/* expect - the frame vmbuf-render should produce (see expect.h). */
#include "expect.h"

#include <string.h>

static uint32_t load(const struct pixels *im, uint32_t x, uint32_t y)
{
	uint32_t v;

	memcpy(&v, im->px + (size_t)y * im->stride + (size_t)x * 4, sizeof(v));
	return im->opaque ? v | 0xff000000u : v;
}

uint32_t expect_pixel(const struct pixels *src, uint32_t at_x, uint32_t at_y, uint32_t clear,
		      uint32_t x, uint32_t y)
{
	if (x >= at_x && x - at_x < src->width && y >= at_y && y - at_y < src->height)
		return load(src, x - at_x, y - at_y);
	return clear;
}

long expect_check(const struct pixels *frame, const struct pixels *src, uint32_t at_x, uint32_t at_y,
		  uint32_t clear)
{
	for (uint32_t y = 0; y < frame->height; y++)
		for (uint32_t x = 0; x < frame->width; x++)
			if (load(frame, x, y) != expect_pixel(src, at_x, at_y, clear, x, y))
				return (long)y * frame->width + x;
	return -1;
}
