/*
 * screen - checks and copies of QEMU display surfaces (see screen.h).
 */
#include <errno.h>
#include <string.h>

#include "screen.h"
#include "util.h"


unsigned int screen_bpp(uint32_t format)
{
	switch (format) {
	case PIXMAN_X8R8G8B8:
	case PIXMAN_A8R8G8B8:
		return 4;
	case PIXMAN_R5G6B5:
		return 2;
	default:
		return 0;
	}
}

uint32_t screen_fourcc(uint32_t format)
{
	return format == PIXMAN_A8R8G8B8 ? FOURCC('A', 'R', '2', '4') : FOURCC('X', 'R', '2', '4');
}

/* @rows rows of @row bytes, @stride apart, fit in @len (all in 64 bits: no overflow). */
static int rows_fit(uint64_t rows, uint64_t row, uint64_t stride, size_t len)
{
	if (stride < row)
		return 0;
	return rows == 0 || (rows - 1) * stride + row <= (uint64_t)len;
}

int screen_check_scanout(uint32_t width, uint32_t height, uint32_t stride, uint32_t format,
			 size_t len)
{
	unsigned int bpp = screen_bpp(format);

	if (!bpp)
		return -ENOTSUP;
	if (width == 0 || height == 0 || width > SCREEN_MAX_DIM || height > SCREEN_MAX_DIM)
		return -E2BIG;
	if (!rows_fit(height, (uint64_t)width * bpp, stride, len))
		return -EINVAL;
	return 0;
}

int screen_check_update(const struct screen_geom *g, int32_t x, int32_t y, int32_t w, int32_t h,
			uint32_t stride, uint32_t format, size_t len)
{
	unsigned int bpp = screen_bpp(format);

	if (format != g->format || !bpp)
		return -ENOTSUP;
	if (x < 0 || y < 0 || w <= 0 || h <= 0)
		return -EINVAL;
	if ((uint64_t)x + (uint64_t)w > SCREEN_MAX_DIM || (uint64_t)y + (uint64_t)h > SCREEN_MAX_DIM)
		return -EINVAL;
	if (!rows_fit((uint64_t)h, (uint64_t)w * bpp, stride, len))
		return -EINVAL;
	if ((uint64_t)x + (uint64_t)w > g->width || (uint64_t)y + (uint64_t)h > g->height)
		return -ERANGE;
	return 0;
}

static void row_from_565(uint8_t *d, const uint8_t *s, uint32_t w)
{
	for (uint32_t i = 0; i < w; i++) {
		uint16_t p = (uint16_t)(s[2 * i] | s[2 * i + 1] << 8);
		uint8_t r = (p >> 11) & 0x1f, g = (p >> 5) & 0x3f, b = p & 0x1f;

		d[4 * i + 0] = (uint8_t)(b << 3 | b >> 2);
		d[4 * i + 1] = (uint8_t)(g << 2 | g >> 4);
		d[4 * i + 2] = (uint8_t)(r << 3 | r >> 2);
		d[4 * i + 3] = 0xff;
	}
}

size_t screen_copy(uint8_t *dst, uint32_t dst_stride, uint32_t x, uint32_t y, uint32_t w,
		   uint32_t h, const uint8_t *src, uint32_t src_stride, uint32_t format)
{
	size_t row = (size_t)w * 4;

	for (uint32_t r = 0; r < h; r++) {
		uint8_t *d = dst + (size_t)(y + r) * dst_stride + (size_t)x * 4;
		const uint8_t *s = src + (size_t)r * src_stride;

		if (format == PIXMAN_R5G6B5)
			row_from_565(d, s, w);
		else
			memcpy(d, s, row);
	}
	return row * h;
}
