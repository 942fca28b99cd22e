/*
 * screen - a VM's display surface as QEMU's D-Bus display describes it, checked
 * before a byte is copied: Scanout gives the size and the whole frame, Update a
 * damaged rectangle. Nothing here knows D-Bus or vmbuf; every function is safe
 * on hostile geometry (QEMU relays what the guest's display device says).
 *
 * Formats are pixman's codes (what the D-Bus display sends). The copy target is
 * always XRGB8888/ARGB8888 in DRM's byte order (B, G, R, X), tightly packed.
 */
#ifndef VMBUF_CAPTURE_SCREEN_H
#define VMBUF_CAPTURE_SCREEN_H

#include <stddef.h>
#include <stdint.h>

#define SCREEN_MAX_DIM 16384

/* pixman_format_code_t values QEMU's surfaces use. */
#define PIXMAN_X8R8G8B8 0x20020888u
#define PIXMAN_A8R8G8B8 0x20028888u
#define PIXMAN_R5G6B5 0x10020565u

struct screen_geom {
	uint32_t width, height;
	uint32_t format;	/* the source's pixman format, fixed by the last Scanout */
};

/* The source's bytes per pixel for @format, or 0 if it is not one we copy. */
unsigned int screen_bpp(uint32_t format);
/* DRM fourcc of the copy target for a source in @format (XR24, or AR24 for a8r8g8b8). */
uint32_t screen_fourcc(uint32_t format);

/*
 * Whether a Scanout of @width x @height (@stride bytes per row, @len bytes of
 * data) can be taken: 0, -ENOTSUP (format), -E2BIG (dimensions), -EINVAL
 * (stride below a row, data shorter than the frame).
 */
int screen_check_scanout(uint32_t width, uint32_t height, uint32_t stride, uint32_t format,
			 size_t len);

/*
 * Whether an Update of the rectangle (@x, @y, @w, @h) can be taken onto @g:
 * 0, -EINVAL (negative or empty, past SCREEN_MAX_DIM, stride below a row,
 * data short), -ENOTSUP (a format other than the Scanout's) or -ERANGE (well
 * formed, but outside the screen @g knows: the screen may have grown).
 */
int screen_check_update(const struct screen_geom *g, int32_t x, int32_t y, int32_t w, int32_t h,
			uint32_t stride, uint32_t format, size_t len);

/*
 * Copy a checked rectangle of @w x @h pixels from @src (@src_stride, @format)
 * to (@x, @y) of the target @dst (@dst_stride bytes per row, 4 bytes a pixel).
 * Returns the bytes written.
 */
size_t screen_copy(uint8_t *dst, uint32_t dst_stride, uint32_t x, uint32_t y, uint32_t w,
		   uint32_t h, const uint8_t *src, uint32_t src_stride, uint32_t format);

#endif
