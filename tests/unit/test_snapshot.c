/*
 * test_snapshot - vmbufctl's PNG writer: XRGB8888, ARGB8888 and NV12 images
 * built in memory are written and read back with libpng; metadata that does
 * not fit the buffer (a hostile exporter) is refused before a pixel is read.
 */
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvmbuf.h"
#include "snapshot.h"
#include "../check.h"

#define FOURCC(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* Read back pixel (x, y) of @path as RGB(A) bytes into @px; returns channels or -1. */
static int png_pixel(const char *path, uint32_t x, uint32_t y, uint8_t *px)
{
	png_image img;
	uint8_t *buf;
	int ch;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		return -1;
	ch = img.format & PNG_FORMAT_FLAG_ALPHA ? 4 : 3;
	buf = malloc(PNG_IMAGE_SIZE(img));
	if (!buf || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
		free(buf);
		return -1;
	}
	memcpy(px, buf + ((size_t)y * img.width + x) * ch, ch);
	free(buf);
	return ch;
}

int main(void)
{
	char path[] = "/tmp/vmbuf-snapshot-XXXXXX";
	struct vmbuf_meta m = { .width = 64, .height = 32 };
	size_t size = 64 * 32 * 4;
	uint8_t *buf = calloc(1, size * 2), px[4];
	int fd = mkstemp(path);

	close(fd);
	/* XRGB8888: pixel (5, 7) = R 0x10, G 0x20, B 0x30. */
	m.fourcc = FOURCC('X', 'R', '2', '4');
	memcpy(buf + (7 * 64 + 5) * 4, (uint8_t[]){ 0x30, 0x20, 0x10, 0x99 }, 4);
	CHECK(snapshot_png(buf, size, &m, path) == 0 && png_pixel(path, 5, 7, px) == 3 &&
	      px[0] == 0x10 && px[1] == 0x20 && px[2] == 0x30, "XRGB8888 to RGB");
	m.fourcc = FOURCC('A', 'R', '2', '4');
	CHECK(snapshot_png(buf, size, &m, path) == 0 && png_pixel(path, 5, 7, px) == 4 &&
	      px[0] == 0x10 && px[3] == 0x99, "ARGB8888 keeps alpha");

	/* NV12: Y 235 and neutral chroma is white; Y 16 is black. */
	m.fourcc = FOURCC('N', 'V', '1', '2');
	m.strides[0] = 0;
	memset(buf, 16, 64 * 32);
	memset(buf + 64 * 32, 128, 64 * 16);
	buf[3 * 64 + 9] = 235;
	CHECK(snapshot_png(buf, size, &m, path) == 0 && png_pixel(path, 9, 3, px) == 3 &&
	      px[0] == 255 && px[1] == 255 && px[2] == 255 && png_pixel(path, 0, 0, px) == 3 &&
	      px[0] == 0, "NV12 to RGB (BT.601 limited range)");

	/* Hostile metadata. */
	m.fourcc = FOURCC('X', 'R', '2', '4');
	m.strides[0] = 0;
	m.height = 33;
	CHECK(snapshot_png(buf, size, &m, path) == -EINVAL, "one row too many: EINVAL");
	m.height = 32;
	m.offsets[0] = 8;
	CHECK(snapshot_png(buf, size, &m, path) == -EINVAL, "offset pushes the last row out: EINVAL");
	m.offsets[0] = 0;
	m.strides[0] = 100;
	CHECK(snapshot_png(buf, size, &m, path) == -EINVAL, "stride below the row size: EINVAL");
	m.strides[0] = 0xffffffff;
	CHECK(snapshot_png(buf, size, &m, path) == -EINVAL, "huge stride: EINVAL");
	m.strides[0] = 0;
	m.width = 0;
	CHECK(snapshot_png(buf, size, &m, path) == -EINVAL, "zero width: EINVAL");
	m.width = 64;
	m.fourcc = FOURCC('Y', 'U', 'Y', 'V');
	CHECK(snapshot_png(buf, size, &m, path) == -EOPNOTSUPP, "unknown format: EOPNOTSUPP");
	m.fourcc = FOURCC('N', 'V', '1', '2');
	m.nplanes = 2;
	m.offsets[1] = size * 2;
	CHECK(snapshot_png(buf, size, &m, path) == -EINVAL, "NV12 chroma plane outside: EINVAL");
	unlink(path);
	free(buf);
	return check_done();
}
