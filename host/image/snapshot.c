/* snapshot - buffer to PNG with libpng (see snapshot.h). */
#include "snapshot.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>

#include "image.h"

int snapshot_png(const uint8_t *buf, size_t size, const struct vmbuf_meta *m, const char *path)
{
	struct image img;
	png_structp png = NULL;
	png_infop info = NULL;
	uint8_t *row = NULL;
	/* libpng reports errors by longjmp: what is read after it must be volatile. */
	volatile int ret = -EIO;
	FILE *f = NULL;
	int r = image_layout(&img, m, size);

	if (r < 0)
		return r;
	row = malloc((size_t)img.width * 4);
	f = fopen(path, "wbe");
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!row || !f || !info)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	png_set_IHDR(png, info, img.width, img.height, 8,
		     image_channels(&img) == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_filter(png, 0, PNG_FILTER_NONE);
	png_write_info(png, info);
	for (uint32_t y = 0; y < img.height; y++) {
		image_row(&img, buf, y, row);
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
