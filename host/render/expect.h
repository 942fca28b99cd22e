/*
 * expect - what vmbuf-render's frame must hold, computed on the CPU: the
 * clear colour everywhere but the texture's rectangle, the texture's pixels
 * unchanged inside it. The readback check compares the rendered frame with it.
 *
 * Pixels are BGRA8888 in memory (little-endian 0xAARRGGBB words).
 */
#ifndef VMBUF_RENDER_EXPECT_H
#define VMBUF_RENDER_EXPECT_H

#include <stdbool.h>
#include <stdint.h>

struct pixels {
	const uint8_t *px;
	uint32_t width, height, stride;
	bool opaque; /* XRGB: the 4th byte reads as 0xff */
};

/* The pixel the frame should hold at (@x, @y). */
uint32_t expect_pixel(const struct pixels *src, uint32_t at_x, uint32_t at_y, uint32_t clear,
		      uint32_t x, uint32_t y);
/*
 * Compare @frame with the expectation: -1 when every pixel matches, else the
 * index (y * width + x) of the first that does not.
 */
long expect_check(const struct pixels *frame, const struct pixels *src, uint32_t at_x, uint32_t at_y,
		  uint32_t clear);

#endif
