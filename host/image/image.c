/* image - layouts and rows of a shared buffer's picture (see image.h). */
#include "image.h"

#include <errno.h>

#include "libvmbuf.h"
#include "util.h"

/* Does [off, off + stride * (rows - 1) + row_bytes) fit in @size? */
static int plane_fits(uint64_t off, uint64_t stride, uint64_t rows, uint64_t row_bytes, size_t size)
{
	if (!rows || stride < row_bytes || stride > (1u << 20) || rows > (1u << 16))
		return 0;
	return off <= size && stride * (rows - 1) + row_bytes <= size - off;
}

int image_layout(struct image *img, const struct vmbuf_meta *m, size_t size)
{
	*img = (struct image){ .width = m->width, .height = m->height,
			       .offsets = { m->offsets[0], m->offsets[1] },
			       .strides = { m->strides[0], m->strides[1] } };
	if (!m->width || !m->height || m->width > 16384 || m->height > 16384)
		return -EINVAL;
	if (m->fourcc == FOURCC('N', 'V', '1', '2')) {
		img->format = IMAGE_NV12;
		if (!img->strides[0])
			img->strides[0] = img->width;
		if (m->nplanes < 2) {
			img->offsets[1] = img->offsets[0] + img->strides[0] * img->height;
			img->strides[1] = img->strides[0];
		}
		if ((img->width & 1) ||
		    !plane_fits(img->offsets[0], img->strides[0], img->height, img->width, size) ||
		    !plane_fits(img->offsets[1], img->strides[1], (img->height + 1) / 2, img->width, size))
			return -EINVAL;
		return 0;
	}
	if (m->fourcc == FOURCC('X', 'R', '2', '4') || m->fourcc == FOURCC('A', 'R', '2', '4')) {
		img->format = m->fourcc == FOURCC('A', 'R', '2', '4') ? IMAGE_ARGB8888 : IMAGE_XRGB8888;
		if (!img->strides[0])
			img->strides[0] = img->width * 4;
		return plane_fits(img->offsets[0], img->strides[0], img->height,
				  (uint64_t)img->width * 4, size) ? 0 : -EINVAL;
	}
	return -EOPNOTSUPP;
}

const char *image_format_name(enum image_format f)
{
	return f == IMAGE_NV12 ? "NV12" : f == IMAGE_ARGB8888 ? "ARGB8888" : "XRGB8888";
}

unsigned int image_channels(const struct image *img)
{
	return img->format == IMAGE_ARGB8888 ? 4 : 3;
}

static uint8_t clamp(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : v;
}

void image_row(const struct image *img, const uint8_t *buf, uint32_t y, uint8_t *out)
{
	uint32_t w = img->width;

	if (img->format == IMAGE_NV12) {
		const uint8_t *yp = buf + img->offsets[0] + (size_t)y * img->strides[0];
		const uint8_t *uv = buf + img->offsets[1] + (size_t)(y / 2) * img->strides[1];

		for (uint32_t x = 0; x < w; x++) {
			int c = yp[x] - 16, d = uv[x & ~1u] - 128, e = uv[(x & ~1u) + 1] - 128;

			out[3 * x] = clamp((298 * c + 409 * e + 128) >> 8);
			out[3 * x + 1] = clamp((298 * c - 100 * d - 208 * e + 128) >> 8);
			out[3 * x + 2] = clamp((298 * c + 516 * d + 128) >> 8);
		}
		return;
	}
	{
		const uint8_t *row = buf + img->offsets[0] + (size_t)y * img->strides[0];
		unsigned int n = image_channels(img);

		/* Little-endian 32-bit pixels: bytes B, G, R, X/A. */
		for (uint32_t x = 0; x < w; x++) {
			out[n * x] = row[4 * x + 2];
			out[n * x + 1] = row[4 * x + 1];
			out[n * x + 2] = row[4 * x];
			if (n == 4)
				out[n * x + 3] = row[4 * x + 3];
		}
	}
}
