/*
 * image - a shared buffer's picture, as the exporter's metadata describes it:
 * XRGB8888 ('XR24'), ARGB8888 ('AR24') or NV12 ('NV12', BT.601 limited range).
 * The metadata comes from another VM: image_layout() checks it against the
 * buffer's size and fills in what may be left 0 (strides, the NV12 chroma
 * plane); nothing may read a pixel of a layout it refused.
 */
#ifndef VMBUF_IMAGE_H
#define VMBUF_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct vmbuf_meta;

enum image_format { IMAGE_XRGB8888, IMAGE_ARGB8888, IMAGE_NV12 };

struct image {
	enum image_format format;
	uint32_t width, height;		/* at most 16384 each */
	uint32_t offsets[2], strides[2];	/* [1]: NV12's interleaved chroma */
};

/* 0, -EINVAL (does not fit @size, or sizes out of range) or -EOPNOTSUPP. */
int image_layout(struct image *img, const struct vmbuf_meta *m, size_t size);

/* "XRGB8888" ... */
const char *image_format_name(enum image_format f);

/* 3 (RGB) or 4 (RGBA, for ARGB8888): the bytes per pixel image_row() writes. */
unsigned int image_channels(const struct image *img);

/* Row @y of a checked layout over @buf as RGB or RGBA bytes into @out. */
void image_row(const struct image *img, const uint8_t *buf, uint32_t y, uint8_t *out);

#endif
