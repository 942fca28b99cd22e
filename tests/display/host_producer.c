/*
 * host_producer - a host client that exports one image for the viewer tests:
 * four quadrants of known colours in ARGB8888 or NV12 (the formats the VM
 * producer does not draw), exported to other host clients under NAME, then
 * timeline point 1. Prints "handle HEX" and "ready", waits for a line on
 * standard input, exits.
 *
 * Usage: host_producer SOCKET_DIR POOL NAME argb|nv12 WIDTH HEIGHT
 *
 * Quadrants (top-left, top-right, bottom-left, bottom-right): red, green,
 * blue, white; in NV12 as BT.601 limited-range Y'CbCr, each 2x2-aligned.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvmbuf.h"
#include "textforms.h"

#define FOURCC(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

static const uint8_t rgb[4][3] = { { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 255, 255, 255 } };
/* The same colours as Y', Cb, Cr (BT.601, limited range). */
static const uint8_t ycc[4][3] = { { 81, 90, 240 }, { 145, 54, 34 }, { 41, 240, 110 },
				   { 235, 128, 128 } };

static int quadrant(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	return (y >= h / 2) * 2 + (x >= w / 2);
}

int main(int argc, char **argv)
{
	struct vmbuf_meta meta = { 0 };
	struct vmbuf_client *c;
	struct vmbuf_buffer *b;
	uint8_t handle[VMBUF_HANDLE_SIZE], *px;
	char hex[HANDLE_HEX_LEN + 1], line[16];
	uint32_t w, h;
	uint64_t size;
	int nv12;

	if (argc != 7 || (strcmp(argv[4], "argb") && strcmp(argv[4], "nv12"))) {
		fprintf(stderr, "usage: host_producer SOCKET_DIR POOL NAME argb|nv12 WIDTH HEIGHT\n");
		return 2;
	}
	nv12 = !strcmp(argv[4], "nv12");
	w = strtoul(argv[5], NULL, 10) & ~3u;
	h = strtoul(argv[6], NULL, 10) & ~3u;
	size = nv12 ? (uint64_t)w * h * 3 / 2 : (uint64_t)w * h * 4;
	c = vmbuf_client_connect(argv[1]);
	b = c ? vmbuf_buffer_alloc(c, argv[2], size) : NULL;
	px = b ? vmbuf_buffer_map(b) : NULL;
	if (!px) {
		fprintf(stderr, "host_producer: %s\n", strerror(errno));
		return 1;
	}
	meta.width = w;
	meta.height = h;
	meta.nplanes = nv12 ? 2 : 1;
	meta.fourcc = nv12 ? FOURCC('N', 'V', '1', '2') : FOURCC('A', 'R', '2', '4');
	meta.strides[0] = nv12 ? w : w * 4;
	meta.strides[1] = nv12 ? w : 0;
	meta.offsets[1] = nv12 ? w * h : 0;
	snprintf(meta.label, sizeof(meta.label), "quadrants %s", argv[4]);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			int q = quadrant(x, y, w, h);

			if (nv12) {
				px[(size_t)y * w + x] = ycc[q][0];
				if (!(y & 1) && !(x & 1)) {
					uint8_t *uv = px + (size_t)w * h + (size_t)(y / 2) * w + x;

					uv[0] = ycc[q][1];
					uv[1] = ycc[q][2];
				}
			} else {
				uint8_t *p = px + ((size_t)y * w + x) * 4;

				p[0] = rgb[q][2];	/* B, G, R, A in memory */
				p[1] = rgb[q][1];
				p[2] = rgb[q][0];
				p[3] = 255;
			}
		}
	if (vmbuf_buffer_export(b, argv[3], VMBUF_EXPORT_HOST, NULL, 0, &meta, handle) < 0 ||
	    vmbuf_signal(c, handle, 1, 0) < 0) {
		fprintf(stderr, "host_producer: export '%s': %s\n", argv[3], strerror(errno));
		return 1;
	}
	handle_format(hex, handle);
	printf("handle %s\nready\n", hex);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		line[0] = '\0';
	vmbuf_buffer_release(b);
	vmbuf_client_disconnect(c);
	return 0;
}
