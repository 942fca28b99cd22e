/*
 * vmbuf-render - virglrenderer rendering into vmbuf buffers, on the host.
 *
 * The output is a pool buffer exported under a name; virglrenderer renders
 * into a resource backed by that buffer's pages (clear, then a textured quad
 * through a vertex and a fragment shader) and reads the result back into
 * them; the frame is checked against what it must hold, and a timeline point
 * is signalled per frame. The texture is a guest's export read through its
 * pages (--from, the reverse direction) or a pattern made here.
 *
 * renderer.c drives virglrenderer, virgl_cmd.c encodes its command stream,
 * expect.c says what a frame must hold. docs/display.md tells the path.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "expect.h"
#include "image.h"
#include "libvmbuf.h"
#include "renderer.h"
#include "textforms.h"
#include "util.h"

#define VMS_MAX 8

struct job {
	struct vmbuf_client *c;
	const char *name, *pool, *from;
	const char *vms[VMS_MAX];
	unsigned int nvms, flags;
	uint32_t width, height, clear;
	uint32_t at_x, at_y;
	bool at_given, sync, hold, gles;
	uint64_t frames;
	int timeout_ms, verbose;
	/* What runs. */
	struct renderer *r;
	struct vmbuf_buffer *out, *in;
	uint8_t handle[VMBUF_HANDLE_SIZE];
	struct pixels frame, src;
	uint8_t *own;		/* the texture made here (no --from) */
	int t_out, t_src;
};

static const char *prog = "vmbuf-render";

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmbuf-render [OPTION]... NAME\n"
		"Render frames with virglrenderer into a vmbuf buffer exported as NAME (ARGB8888,\n"
		"metadata: width, height, stride). virglrenderer renders into a resource backed\n"
		"by the buffer's pages: a clear, then a textured quad (vertex and fragment\n"
		"shaders, nearest filtering, no scaling), read back into the pages. Each frame is\n"
		"checked against what it must hold, pixel for pixel, then timeline point 1, 2,\n"
		"3, ... is signalled. The texture is the export SRC (--from: a VM's frame, read\n"
		"from its pages every frame) or, without --from, a pattern made here: half the\n"
		"output's size, filled with seq:N at frame N (the fill of 'vmbuf export -f').\n"
		"Renders with EGL and no window system or render node (llvmpipe where there is\n"
		"no GPU). Prints 'export NAME: WxH AR24 handle HEX' (the handle is a capability:\n"
		"give it only to whom may use it) and 'frame N: sum HEX' per frame (FNV-1a of the\n"
		"whole buffer, as 'vmbuf import --sum' prints it in a guest).\n"
		"\n"
		"  -p, --pool POOL       the pool holding the output buffer (required)\n"
		"  -t, --to VM[,VM...]   VMs allowed to import (up to 8)\n"
		"  -P, --pool-members    every member of the pool may import\n"
		"  -i, --from SRC        the texture: export SRC (ARGB8888 or XRGB8888 with width\n"
		"                        and height metadata; it must allow host clients)\n"
		"      --sync            frame N waits for point N of SRC's timeline first\n"
		"  -W, --width W         output width in pixels (default 256)\n"
		"  -H, --height H        output height in pixels (default 192)\n"
		"  -a, --at X,Y          where the texture's top-left pixel lands (default: centred)\n"
		"  -C, --clear 0xRRGGBB  the clear colour (default 0x204080; alpha 0xff)\n"
		"  -f, --frames N        render N frames (default 1)\n"
		"  -k, --hold            keep the export after the last frame until standard input\n"
		"                        ends (default: withdraw it and exit)\n"
		"  -T, --timeout SEC     --sync: wait up to SEC for each point (default 30)\n"
		"      --gles            a GLES context instead of desktop GL\n"
		"  -s, --socket-dir DIR  vmbufd's socket directory (default /run/vmbuf, or\n"
		"                        $VMBUF_SOCKET_DIR)\n"
		"  -v, --verbose         one line per frame on what was done and checked\n"
		"  -h, --help            this text\n"
		"\n"
		"A frame that does not hold what it must is signalled with EIO, and vmbuf-render\n"
		"exits naming the first wrong pixel. SRC must not change while a frame renders\n"
		"(--sync gives the producer the point to write after).\n"
		"Exit status: 0 after the last frame, 1 on failure (the message names the object\n"
		"and the cause), 2 on a usage error.\n");
}

static int fail(const char *what, const char *object, int err)
{
	fprintf(stderr, "%s: %s '%s': %s (%s)\n", prog, what, object, strerror(err),
		errno_name(err));
	return 1;
}

static int parse_dim(const char *s, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, &v) < 0 || !v || v > 16384)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_at(struct job *j, const char *s)
{
	unsigned int x, y;
	int n = 0;

	if (sscanf(s, "%u,%u%n", &x, &y, &n) != 2 || s[n])
		return -1;
	j->at_x = x;
	j->at_y = y;
	j->at_given = true;
	return 0;
}

/* The texture: SRC's pages, or a buffer of our own. */
static int texture_setup(struct job *j)
{
	if (j->from) {
		struct image img;
		uint8_t *px;
		size_t size;
		int err;

		j->in = vmbuf_buffer_import(j->c, j->from, NULL);
		if (!j->in)
			return fail("import", j->from, errno);
		/* Another VM's metadata: checked against the buffer before a pixel is read. */
		size = vmbuf_buffer_size(j->in);
		err = image_layout(&img, vmbuf_buffer_meta(j->in), size);
		if (!err && img.format == IMAGE_NV12)
			err = -EOPNOTSUPP;
		if (err) {
			fprintf(stderr, "%s: import '%s': metadata is not an XRGB8888 or ARGB8888 "
				"picture that fits its %zu bytes (%s)\n", prog, j->from, size,
				errno_name(-err));
			return 1;
		}
		px = vmbuf_buffer_map(j->in);
		if (!px)
			return fail("map", j->from, errno);
		j->src = (struct pixels){ .px = px + img.offsets[0], .width = img.width,
					  .height = img.height, .stride = img.strides[0],
					  .opaque = img.format == IMAGE_XRGB8888 };
		j->t_src = renderer_texture(j->r, j->src.width, j->src.height, j->src.stride,
					    px + img.offsets[0], size - img.offsets[0],
					    j->src.opaque ? RENDERER_OPAQUE : 0);
	} else {
		j->src = (struct pixels){ .width = j->width / 2 ? j->width / 2 : 1,
					 .height = j->height / 2 ? j->height / 2 : 1 };
		j->src.stride = j->src.width * 4;
		j->own = calloc(j->src.height, j->src.stride);
		if (!j->own)
			return fail("texture for", j->name, ENOMEM);
		j->src.px = j->own;
		j->t_src = renderer_texture(j->r, j->src.width, j->src.height, j->src.stride,
					    j->own, (size_t)j->src.height * j->src.stride, 0);
	}
	if (j->t_src < 0) {
		fprintf(stderr, "%s: texture %ux%u (stride %u) from '%s': %s (%s)\n", prog,
			j->src.width, j->src.height, j->src.stride, j->from ? j->from : "here",
			strerror(-j->t_src), errno_name(-j->t_src));
		return 1;
	}
	if (j->src.width > j->width || j->src.height > j->height) {
		fprintf(stderr, "%s: texture '%s' is %ux%u, larger than the %ux%u output\n", prog,
			j->from, j->src.width, j->src.height, j->width, j->height);
		return 1;
	}
	if (!j->at_given) {
		j->at_x = (j->width - j->src.width) / 2;
		j->at_y = (j->height - j->src.height) / 2;
	} else if (j->at_x > j->width - j->src.width || j->at_y > j->height - j->src.height) {
		fprintf(stderr, "%s: the %ux%u texture at %u,%u leaves the %ux%u output\n", prog,
			j->src.width, j->src.height, j->at_x, j->at_y, j->width, j->height);
		return 1;
	}
	return 0;
}

static int output_setup(struct job *j)
{
	struct vmbuf_meta meta = { 0 };
	char hex[HANDLE_HEX_LEN + 1];
	uint64_t size = (uint64_t)j->width * j->height * 4;

	j->out = vmbuf_buffer_alloc(j->c, j->pool, size);
	if (!j->out)
		return fail("allocate in pool", j->pool, errno);
	j->frame = (struct pixels){ .width = j->width, .height = j->height,
				   .stride = j->width * 4 };
	j->frame.px = vmbuf_buffer_map(j->out);
	if (!j->frame.px)
		return fail("map", j->name, errno);
	j->t_out = renderer_texture(j->r, j->width, j->height, j->frame.stride,
				    (void *)j->frame.px, vmbuf_buffer_size(j->out),
				    RENDERER_TARGET);
	if (j->t_out < 0)
		return fail("render target for", j->name, -j->t_out);
	meta.width = j->width;
	meta.height = j->height;
	meta.fourcc = FOURCC('A', 'R', '2', '4');
	meta.nplanes = 1;
	meta.strides[0] = j->frame.stride;
	snprintf(meta.label, sizeof(meta.label), "vmbuf-render%s%s", j->from ? " of " : "",
		 j->from ? j->from : "");
	if (vmbuf_buffer_export(j->out, j->name, j->flags, j->nvms ? j->vms : NULL, j->nvms,
				&meta, j->handle) < 0)
		return fail("export", j->name, errno);
	handle_format(hex, j->handle);
	printf("export '%s': %ux%u AR24 handle %s\n", j->name, j->width, j->height, hex);
	return 0;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int frame(struct job *j, uint64_t n)
{
	float rgba[4] = { (float)(j->clear >> 16 & 0xff) / 255.0f,
			  (float)(j->clear >> 8 & 0xff) / 255.0f,
			  (float)(j->clear & 0xff) / 255.0f, 1.0f };
	uint32_t clear = 0xff000000u | j->clear;
	double t0 = now_ms();
	long bad;
	int err;

	if (j->sync && vmbuf_wait(j->c, vmbuf_buffer_handle(j->in), n, j->timeout_ms) < 0)
		return fail("wait for the next point of", j->from, errno);
	if (j->own)
		pattern_fill(j->own, (size_t)j->src.height * j->src.stride, 1, (uint8_t)n);
	err = renderer_upload(j->r, j->t_src);
	if (!err)
		err = renderer_compose(j->r, j->t_out, j->t_src, rgba, j->at_x, j->at_y);
	if (!err)
		err = renderer_readback(j->r, j->t_out);
	if (err) {
		vmbuf_signal(j->c, j->handle, n, err);
		return fail("render frame of", j->name, -err);
	}
	bad = expect_check(&j->frame, &j->src, j->at_x, j->at_y, clear);
	if (bad >= 0) {
		uint32_t x = (uint32_t)(bad % j->width), y = (uint32_t)(bad / j->width), got;

		memcpy(&got, j->frame.px + (size_t)bad * 4, sizeof(got));
		vmbuf_signal(j->c, j->handle, n, -EIO);
		fprintf(stderr, "%s: frame %llu of '%s': pixel %u,%u is 0x%08x, should be 0x%08x\n",
			prog, (unsigned long long)n, j->name, x, y, got,
			expect_pixel(&j->src, j->at_x, j->at_y, clear, x, y));
		return 1;
	}
	if (vmbuf_signal(j->c, j->handle, n, 0) < 0)
		return fail("signal", j->name, errno);
	printf("frame %llu: sum %016llx\n", (unsigned long long)n,
	       (unsigned long long)sum_fnv1a(j->frame.px, vmbuf_buffer_size(j->out)));
	if (j->verbose)
		printf("%s: frame %llu: %ux%u texture at %u,%u on 0x%08x, %u pixels as they must "
		       "be, %.1f ms\n", prog, (unsigned long long)n, j->src.width, j->src.height,
		       j->at_x, j->at_y, clear, j->width * j->height, now_ms() - t0);
	return 0;
}

/* --hold: until standard input ends (or the daemon goes away). */
static void hold(struct job *j)
{
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
			       { .fd = vmbuf_client_fd(j->c), .events = POLLIN } };
	char buf[256];

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		if (p[0].revents && read(0, buf, sizeof(buf)) <= 0)
			return;
		if (p[1].revents && vmbuf_client_dispatch(j->c) < 0)
			return;
	}
}

enum { OPT_SYNC = 256, OPT_GLES };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "to", required_argument, NULL, 't' },
		{ "pool-members", no_argument, NULL, 'P' },
		{ "from", required_argument, NULL, 'i' },
		{ "sync", no_argument, NULL, OPT_SYNC },
		{ "width", required_argument, NULL, 'W' },
		{ "height", required_argument, NULL, 'H' },
		{ "at", required_argument, NULL, 'a' },
		{ "clear", required_argument, NULL, 'C' },
		{ "frames", required_argument, NULL, 'f' },
		{ "hold", no_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "gles", no_argument, NULL, OPT_GLES },
		{ "socket-dir", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct job j = { .flags = VMBUF_EXPORT_HOST, .width = 256, .height = 192,
			 .clear = 0x204080, .frames = 1 };
	const char *socket_dir = NULL, *why;
	uint64_t v, timeout = 30;
	bool bad = false;
	int c, status = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "p:t:Pi:W:H:a:C:f:kT:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': j.pool = optarg; break;
		case 't': bad |= vm_list_parse(optarg, j.vms, &j.nvms, VMS_MAX) < 0; break;
		case 'P': j.flags |= VMBUF_EXPORT_POOL; break;
		case 'i': j.from = optarg; break;
		case OPT_SYNC: j.sync = true; break;
		case 'W': bad |= parse_dim(optarg, &j.width) < 0; break;
		case 'H': bad |= parse_dim(optarg, &j.height) < 0; break;
		case 'a': bad |= parse_at(&j, optarg) < 0; break;
		case 'C':
			bad |= parse_u64(optarg, &v) < 0 || v > 0xffffff;
			j.clear = (uint32_t)v;
			break;
		case 'f': bad |= parse_u64(optarg, &j.frames) < 0 || !j.frames; break;
		case 'k': j.hold = true; break;
		case 'T': bad |= parse_u64(optarg, &timeout) < 0 || !timeout || timeout > 3600; break;
		case OPT_GLES: j.gles = true; break;
		case 's': socket_dir = optarg; break;
		case 'v': j.verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || bad || !j.pool || (j.sync && !j.from)) {
		usage(stderr);
		return 2;
	}
	j.name = argv[optind];
	j.timeout_ms = (int)timeout * 1000;
	if (!name_valid(j.name) || !name_valid(j.pool) || (j.from && !name_valid(j.from))) {
		const char *n = !name_valid(j.name) ? j.name : !name_valid(j.pool) ? j.pool : j.from;

		fprintf(stderr, "%s: '%s': not a valid name (1 to 31 of [A-Za-z0-9_.-])\n", prog, n);
		return 2;
	}
	j.c = vmbuf_client_connect(socket_dir);
	if (!j.c) {
		fprintf(stderr, "%s: cannot reach vmbufd: %s\n", prog, strerror(errno));
		return 1;
	}
	j.r = renderer_new(j.gles, &why);
	if (!j.r) {
		fprintf(stderr, "%s: virglrenderer: %s\n", prog, why);
		vmbuf_client_disconnect(j.c);
		return 1;
	}
	status = texture_setup(&j);
	if (!status)
		status = output_setup(&j);
	for (uint64_t n = 1; !status && n <= j.frames; n++)
		status = frame(&j, n);
	if (!status && j.hold)
		hold(&j);
	/* The renderer lets go of the pages before the buffers do. */
	renderer_free(j.r);
	vmbuf_buffer_release(j.out);
	vmbuf_buffer_release(j.in);
	free(j.own);
	vmbuf_client_disconnect(j.c);
	return status;
}
