/* snapshot - buffer to PNG with libpng (see snapshot.h). */
#include "snapshot.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>

#include "libvmbuf.h"

#define FOURCC(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* Does [off, off + stride * (rows - 1) + row_bytes) fit in @size? */
static int plane_fits(uint64_t off, uint64_t stride, uint64_t rows, uint64_t row_bytes, size_t size)
{
	if (!rows || stride < row_bytes || stride > (1u << 20) || rows > (1u << 16))
		return 0;
	return off <= size && stride * (rows - 1) + row_bytes <= size - off;
}

static uint8_t clamp(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* Row @y of the image as RGB or RGBA into @out. */
static void convert_row(const uint8_t *buf, const struct vmbuf_meta *m, uint32_t y, uint8_t *out)
{
	uint32_t w = m->width;

	if (m->fourcc == FOURCC('N', 'V', '1', '2')) {
		const uint8_t *yp = buf + m->offsets[0] + (size_t)y * m->strides[0];
		const uint8_t *uv = buf + m->offsets[1] + (size_t)(y / 2) * m->strides[1];

		for (uint32_t x = 0; x < w; x++) {
			int c = yp[x] - 16, d = uv[x & ~1u] - 128, e = uv[(x & ~1u) + 1] - 128;

			out[3 * x] = clamp((298 * c + 409 * e + 128) >> 8);
			out[3 * x + 1] = clamp((298 * c - 100 * d - 208 * e + 128) >> 8);
			out[3 * x + 2] = clamp((298 * c + 516 * d + 128) >> 8);
		}
		return;
	}
	{
		const uint8_t *row = buf + m->offsets[0] + (size_t)y * m->strides[0];
		int alpha = m->fourcc == FOURCC('A', 'R', '2', '4');
		int n = alpha ? 4 : 3;

		/* Little-endian 32-bit pixels: bytes B, G, R, X/A. */
		for (uint32_t x = 0; x < w; x++) {
			out[n * x] = row[4 * x + 2];
			out[n * x + 1] = row[4 * x + 1];
			out[n * x + 2] = row[4 * x];
			if (alpha)
				out[n * x + 3] = row[4 * x + 3];
		}
	}
}

int snapshot_png(const uint8_t *buf, size_t size, const struct vmbuf_meta *m, const char *path)
{
	struct vmbuf_meta mm = *m;
	png_structp png = NULL;
	png_infop info = NULL;
	uint8_t *row = NULL;
	/* libpng reports errors by longjmp: what is read after it must be volatile. */
	volatile int ret = -EIO, color;
	FILE *f = NULL;

	if (!mm.width || !mm.height || mm.width > 16384 || mm.height > 16384)
		return -EINVAL;
	if (mm.fourcc == FOURCC('N', 'V', '1', '2')) {
		if (!mm.strides[0])
			mm.strides[0] = mm.width;
		if (mm.nplanes < 2) {
			mm.offsets[1] = mm.offsets[0] + mm.strides[0] * mm.height;
			mm.strides[1] = mm.strides[0];
		}
		if ((mm.width & 1) || !plane_fits(mm.offsets[0], mm.strides[0], mm.height, mm.width, size) ||
		    !plane_fits(mm.offsets[1], mm.strides[1], (mm.height + 1) / 2, mm.width, size))
			return -EINVAL;
		color = PNG_COLOR_TYPE_RGB;
	} else if (mm.fourcc == FOURCC('X', 'R', '2', '4') || mm.fourcc == FOURCC('A', 'R', '2', '4')) {
		if (!mm.strides[0])
			mm.strides[0] = mm.width * 4;
		if (!plane_fits(mm.offsets[0], mm.strides[0], mm.height, (uint64_t)mm.width * 4, size))
			return -EINVAL;
		color = mm.fourcc == FOURCC('A', 'R', '2', '4') ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB;
	} else {
		return -EOPNOTSUPP;
	}
	row = malloc((size_t)mm.width * 4);
	f = fopen(path, "wbe");
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!row || !f || !info)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	png_set_IHDR(png, info, mm.width, mm.height, 8, color, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_filter(png, 0, PNG_FILTER_NONE);
	png_write_info(png, info);
	for (uint32_t y = 0; y < mm.height; y++) {
		convert_row(buf, &mm, y, row);
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	ret = 0;
out:
	png_destroy_write_struct(&png, &info);
	if (f && fclose(f) != 0)
		ret = -EIO;
	free(row);
	return ret;
}
