/*
 * test_screen - vmbuf-capture's checks of QEMU's display messages and its
 * copies: hostile geometry (outside the screen, overflowing, short data,
 * short strides, unknown formats) is refused before a byte moves; an update
 * lands exactly on its rectangle; r5g6b5 becomes the XRGB8888 it means.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "screen.h"
#include "../check.h"

#define W 64
#define H 48

int main(void)
{
	struct screen_geom g = { .width = W, .height = H, .format = PIXMAN_X8R8G8B8 };
	static uint8_t dst[W * H * 4], src[W * H * 4];
	uint16_t px565[4] = { 0xf800, 0x07e0, 0x001f, 0xffff };
	uint8_t row[16];
	size_t n;

	CHECK(screen_check_scanout(720, 400, 2880, PIXMAN_X8R8G8B8, 720 * 400 * 4) == 0,
	      "scanout: a VGA text screen is taken");
	CHECK(screen_check_scanout(720, 400, 4096, PIXMAN_X8R8G8B8, 399 * 4096 + 2880) == 0,
	      "scanout: a padded stride needs no padding after the last row");
	CHECK(screen_check_scanout(720, 400, 2880, PIXMAN_X8R8G8B8, 720 * 400 * 4 - 1) == -EINVAL,
	      "scanout: data one byte short is refused");
	CHECK(screen_check_scanout(720, 400, 2876, PIXMAN_X8R8G8B8, 1 << 24) == -EINVAL,
	      "scanout: a stride shorter than a row is refused");
	CHECK(screen_check_scanout(16384, 16384, UINT32_MAX, PIXMAN_X8R8G8B8, 1 << 20) == -EINVAL,
	      "scanout: a huge stride does not wrap around");
	CHECK(screen_check_scanout(0, 400, 0, PIXMAN_X8R8G8B8, 0) == -E2BIG &&
	      screen_check_scanout(16385, 1, 65540, PIXMAN_X8R8G8B8, 65540) == -E2BIG,
	      "scanout: empty or wider than 16384 is refused");
	CHECK(screen_check_scanout(64, 48, 128, PIXMAN_R5G6B5, 64 * 48 * 2) == 0 &&
	      screen_check_scanout(64, 48, 64, 0x08018000u, 64 * 48) == -ENOTSUP,
	      "scanout: r5g6b5 is taken, a8 (unknown here) is not");

	CHECK(screen_check_update(&g, 0, 0, W, H, W * 4, PIXMAN_X8R8G8B8, sizeof(src)) == 0,
	      "update: the whole screen");
	CHECK(screen_check_update(&g, W - 1, H - 1, 1, 1, 4, PIXMAN_X8R8G8B8, 4) == 0,
	      "update: the last pixel");
	CHECK(screen_check_update(&g, W - 1, 0, 2, 1, 8, PIXMAN_X8R8G8B8, 8) == -ERANGE &&
	      screen_check_update(&g, 0, H, 1, 1, 4, PIXMAN_X8R8G8B8, 4) == -ERANGE,
	      "update: one pixel past the right or bottom edge is refused (ERANGE)");
	CHECK(screen_check_update(&g, 0, 0, W + 1, 1, 4, PIXMAN_X8R8G8B8, 4) == -EINVAL,
	      "update: past the screen with short data is refused as malformed (EINVAL)");
	CHECK(screen_check_update(&g, 16000, 0, 385, 1, 1540, PIXMAN_X8R8G8B8, 1540) == -EINVAL,
	      "update: past 16384 is malformed, not a bigger screen");
	CHECK(screen_check_update(&g, -1, 0, 1, 1, 4, PIXMAN_X8R8G8B8, 4) == -EINVAL &&
	      screen_check_update(&g, 0, 0, 0, 1, 4, PIXMAN_X8R8G8B8, 4) == -EINVAL &&
	      screen_check_update(&g, 0, 0, 1, -5, 4, PIXMAN_X8R8G8B8, 4) == -EINVAL,
	      "update: negative or empty rectangles are refused");
	CHECK(screen_check_update(&g, INT32_MAX, 0, INT32_MAX, 1, 4, PIXMAN_X8R8G8B8, 4) ==
		      -EINVAL,
	      "update: x + width overflowing 32 bits is refused");
	CHECK(screen_check_update(&g, 0, 0, 4, 4, 16, PIXMAN_X8R8G8B8, 63) == -EINVAL &&
	      screen_check_update(&g, 0, 0, 4, 4, 12, PIXMAN_X8R8G8B8, 64) == -EINVAL,
	      "update: short data, short stride are refused");
	CHECK(screen_check_update(&g, 0, 0, 4, 4, 8, PIXMAN_R5G6B5, 32) == -ENOTSUP,
	      "update: a format other than the scanout's is refused");

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + 1);
	memset(dst, 0xee, sizeof(dst));
	n = screen_copy(dst, W * 4, 10, 20, 5, 3, src, 5 * 4, PIXMAN_X8R8G8B8);
	CHECK(n == 5 * 3 * 4, "copy: returns the bytes written (%zu)", n);
	{
		int ok = 1;

		for (uint32_t y = 0; y < H; y++)
			for (uint32_t x = 0; x < W * 4; x++) {
				uint8_t v = dst[y * W * 4 + x];
				int in = y >= 20 && y < 23 && x >= 40 && x < 60;
				uint8_t want = in ? src[(y - 20) * 20 + (x - 40)] : 0xee;

				ok &= v == want;
			}
		CHECK(ok, "copy: the rectangle lands at (10, 20), nothing around it moves");
	}
	n = screen_copy(row, 16, 0, 0, 4, 1, (const uint8_t *)px565, 8, PIXMAN_R5G6B5);
	CHECK(n == 16 && !memcmp(row, "\x00\x00\xff\xff\x00\xff\x00\xff\xff\x00\x00\xff"
				      "\xff\xff\xff\xff", 16),
	      "copy: r5g6b5 red, green, blue, white become XRGB8888 (B, G, R, X bytes)");
	CHECK(screen_fourcc(PIXMAN_A8R8G8B8) == 0x34325241 &&
	      screen_fourcc(PIXMAN_X8R8G8B8) == 0x34325258,
	      "fourcc: AR24 for a8r8g8b8, XR24 otherwise");
	return check_done();
}
