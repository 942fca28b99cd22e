/*
 * vmbuf-view - show a VM's export on the host, frame by frame, in step with
 * its timeline: wait for point k, draw, and (--release) give the buffer back
 * by signalling the release timeline, so a producer ring such as the demo's
 * runs against the viewer as it would against a consuming VM.
 *
 * A window through SDL2 (one texture upload per frame), or no window at all
 * with --png-dir (one PNG per frame). docs/display.md tells the ring
 * convention and why there is no zero-copy path yet.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <SDL.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "libvmbuf.h"
#include "snapshot.h"
#include "textforms.h"
#include "util.h"

#define RING_MAX 8

struct frame {
	struct vmbuf_buffer *b;
	const uint8_t *px;
	struct image img;
	char name[40];
};

struct view {
	struct vmbuf_client *c;
	struct frame f[RING_MAX];
	unsigned int ring;		/* 1: one export; N: NAME0..NAME(N-1) */
	const uint8_t *frames_tl;	/* timeline of frame points: the first buffer's */
	const uint8_t *release_tl;	/* --release: the second buffer's (the first's if alone) */
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	const char *path;		/* how frames reach the screen, for title and --verbose */
	bool quit;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmbuf-view [OPTION]... (NAME | -H HANDLE)\n"
		"Show a VM's export on the host, one frame per timeline point: wait for point 1,\n"
		"draw, wait for point 2, ... The export must allow host clients (VMBUF_EXPORT_HOST)\n"
		"and describe its image in its metadata: XRGB8888, ARGB8888 or NV12.\n"
		"\n"
		"  -r, --ring N          a ring of N buffers (2..8) exported as NAME0..NAME(N-1):\n"
		"                        frame k is in NAMEk%%N, points on NAME0's timeline (the\n"
		"                        demo's producer: vmbuf-demo produce -n NAME)\n"
		"  -R, --release         give each frame back once drawn: signal k+1 on the release\n"
		"                        timeline (NAME1's in a ring, else the export's own; it must\n"
		"                        allow importers to signal), and 1 when ready\n"
		"  -f, --frames N        stop after N frames (default: until the window closes)\n"
		"  -k, --keep            after the last frame, keep showing it until a line or the\n"
		"                        end of standard input (or the window closes)\n"
		"  -p, --png-dir DIR     no window: write every frame as DIR/frame-NNNNNN.png\n"
		"  -t, --timeout MS      give up when the export is not there, or a point does not\n"
		"                        come, within MS (default 30000)\n"
		"  -H, --handle HEX      the export by its handle instead of its name\n"
		"  -s, --socket-dir DIR  the daemon's socket directory (default /run/vmbuf, or\n"
		"                        $VMBUF_SOCKET_DIR)\n"
		"  -v, --verbose         one line per frame, and how frames reach the screen\n"
		"  -h, --help            this help\n"
		"\n"
		"The window's title shows the export, its VM, size, format, frames per second and\n"
		"how frames are drawn. Keys: q or Escape quits.\n"
		"Exit status: 0 after --frames frames or when the window is closed; 1 when the\n"
		"export cannot be imported or shown, a point does not come in time (ETIMEDOUT),\n"
		"the export is revoked (ECANCELED) or its VM goes away (ENODEV); 2 on usage errors.\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Import @f, waiting up to @timeout_ms for an export that is not there yet. */
static int import_one(struct view *v, struct frame *f, const char *name, const uint8_t *handle,
		      int timeout_ms)
{
	double deadline = now_s() + timeout_ms / 1e3;
	int r;

	while (!(f->b = vmbuf_buffer_import(v->c, name, handle)) && errno == ENOENT &&
	       now_s() < deadline)
		usleep(100 * 1000);
	if (!f->b) {
		fprintf(stderr, "vmbuf-view: import '%s': %s (%s)\n", f->name, strerror(errno),
			errno_name(errno));
		return -1;
	}
	f->px = vmbuf_buffer_map(f->b);
	r = f->px ? image_layout(&f->img, vmbuf_buffer_meta(f->b), vmbuf_buffer_size(f->b)) :
		    -errno;
	if (r < 0) {
		fprintf(stderr, "vmbuf-view: '%s': %s (%s)\n", f->name,
			r == -EOPNOTSUPP ? "its metadata names no format this viewer draws" :
			r == -EINVAL ? "its metadata does not describe an image that fits the buffer" :
				       strerror(-r), errno_name(-r));
		return -1;
	}
	return 0;
}

static Uint32 sdl_format(enum image_format f)
{
	return f == IMAGE_NV12 ? SDL_PIXELFORMAT_NV12 :
	       f == IMAGE_ARGB8888 ? SDL_PIXELFORMAT_ARGB8888 : SDL_PIXELFORMAT_RGB888;
}

static int window_open(struct view *v)
{
	const struct image *img = &v->f[0].img;
	SDL_Rect usable;
	int w = img->width, h = img->height;

	if (SDL_Init(SDL_INIT_VIDEO) < 0) {
		fprintf(stderr, "vmbuf-view: no window: %s (--png-dir works without a display)\n",
			SDL_GetError());
		return -1;
	}
	/* Native size when it fits, else scaled down to the screen, aspect kept. */
	if (SDL_GetDisplayUsableBounds(0, &usable) == 0 && (w > usable.w || h > usable.h)) {
		double s = SDL_min((double)usable.w / w, (double)usable.h / h);

		w = w * s, h = h * s;
	}
	v->win = SDL_CreateWindow("vmbuf-view", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w,
				  h, SDL_WINDOW_RESIZABLE);
	v->ren = v->win ? SDL_CreateRenderer(v->win, -1, 0) : NULL;
	v->tex = v->ren ? SDL_CreateTexture(v->ren, sdl_format(img->format),
					    SDL_TEXTUREACCESS_STREAMING, img->width, img->height) :
			  NULL;
	if (!v->tex) {
		fprintf(stderr, "vmbuf-view: window: %s\n", SDL_GetError());
		return -1;
	}
	SDL_RenderSetLogicalSize(v->ren, img->width, img->height);
	return 0;
}

static void window_close(struct view *v)
{
	if (v->tex)
		SDL_DestroyTexture(v->tex);
	if (v->ren)
		SDL_DestroyRenderer(v->ren);
	if (v->win)
		SDL_DestroyWindow(v->win);
	SDL_Quit();
}

static void pump(struct view *v)
{
	SDL_Event ev;

	while (v->win && SDL_PollEvent(&ev))
		if (ev.type == SDL_QUIT ||
		    (ev.type == SDL_KEYDOWN && (ev.key.keysym.sym == SDLK_q ||
						ev.key.keysym.sym == SDLK_ESCAPE)))
			v->quit = true;
}

/* One frame on the screen: one upload into the streaming texture, then a copy. */
static int draw(struct view *v, const struct frame *f)
{
	const struct image *img = &f->img;
	int r;

	if (img->format != v->f[0].img.format || img->width != v->f[0].img.width ||
	    img->height != v->f[0].img.height) {
		fprintf(stderr, "vmbuf-view: '%s' is not the size or format of '%s'\n", f->name,
			v->f[0].name);
		return -1;
	}
	if (img->format == IMAGE_NV12)
		r = SDL_UpdateNVTexture(v->tex, NULL, f->px + img->offsets[0], img->strides[0],
					f->px + img->offsets[1], img->strides[1]);
	else
		r = SDL_UpdateTexture(v->tex, NULL, f->px + img->offsets[0], img->strides[0]);
	if (r < 0 || SDL_RenderClear(v->ren) < 0 || SDL_RenderCopy(v->ren, v->tex, NULL, NULL) < 0) {
		fprintf(stderr, "vmbuf-view: drawing '%s': %s\n", f->name, SDL_GetError());
		return -1;
	}
	SDL_RenderPresent(v->ren);
	return 0;
}

static void set_title(struct view *v, double fps)
{
	const struct frame *f = &v->f[0];
	char title[256];

	snprintf(title, sizeof(title), "vmbuf-view: %s%s from VM '%s', %ux%u %s, %.1f fps, %s",
		 f->name, v->ring > 1 ? " ring" : "", vmbuf_buffer_owner(f->b), f->img.width,
		 f->img.height, image_format_name(f->img.format), fps, v->path);
	SDL_SetWindowTitle(v->win, title);
}

/* Wait for point @k, keeping the window alive: 0, -errno, or 1 when told to quit. */
static int wait_point(struct view *v, uint64_t k, int timeout_ms)
{
	int efd = vmbuf_watch(v->c, v->frames_tl, k), r;
	double deadline = now_s() + timeout_ms / 1e3;
	struct pollfd p[2] = { { .fd = efd, .events = POLLIN },
			       { .fd = vmbuf_client_fd(v->c), .events = POLLIN } };

	if (efd < 0)
		return -errno;
	for (;;) {
		pump(v);
		if (v->quit || now_s() > deadline) {
			vmbuf_watch_cancel(v->c, efd);
			return v->quit ? 1 : -ETIMEDOUT;
		}
		r = poll(p, 2, v->win ? 15 : 250);
		if (r < 0 && errno != EINTR) {
			r = -errno;
			vmbuf_watch_cancel(v->c, efd);
			return r;
		}
		if (r > 0 && p[1].revents && vmbuf_client_dispatch(v->c) < 0) {
			r = -errno;
			vmbuf_watch_cancel(v->c, efd);
			return r;
		}
		if (r > 0 && (p[0].revents & POLLIN))
			break;
	}
	r = vmbuf_watch_error(v->c, efd);
	close(efd);
	return r;
}

static int give_back(struct view *v, uint64_t value)
{
	if (vmbuf_signal(v->c, v->release_tl, value, 0) == 0)
		return 0;
	fprintf(stderr, "vmbuf-view: release %llu on '%s': %s (%s)%s\n",
		(unsigned long long)value, v->f[v->ring > 1].name, strerror(errno),
		errno_name(errno),
		errno == EACCES ? ": the export does not let importers signal" : "");
	return -1;
}

static int run(struct view *v, long frames, const char *png_dir, int timeout_ms, bool release,
	       bool verbose)
{
	double t0 = now_s(), tick = t0;
	long shown = 0, since = 0;

	if (release && give_back(v, 1) < 0)
		return 1;
	for (uint64_t k = 1; !frames || shown < frames; k++) {
		const struct frame *f = &v->f[k % v->ring];
		int r = wait_point(v, k, timeout_ms);

		if (r == 1)
			break;
		if (r < 0) {
			fprintf(stderr, "vmbuf-view: frame %llu of '%s': %s (%s)\n",
				(unsigned long long)k, v->f[0].name,
				r == -ETIMEDOUT ? "did not come in time" :
				r == -ECANCELED ? "the export was revoked" :
				r == -ENODEV ? "the exporting VM is gone" : strerror(-r),
				errno_name(-r));
			return 1;
		}
		if (png_dir) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/frame-%06llu.png", png_dir,
				 (unsigned long long)k);
			r = snapshot_png(f->px, vmbuf_buffer_size(f->b), vmbuf_buffer_meta(f->b), path);
			if (r < 0) {
				fprintf(stderr, "vmbuf-view: %s: %s\n", path, strerror(-r));
				return 1;
			}
		} else if (draw(v, f) < 0) {
			return 1;
		}
		shown++, since++;
		if (verbose)
			printf("frame %llu shown (%s)\n", (unsigned long long)k, f->name);
		if (release && give_back(v, k + 1) < 0)
			return 1;
		if (v->win && now_s() - tick >= 1.0) {
			set_title(v, since / (now_s() - tick));
			tick = now_s(), since = 0;
		}
	}
	printf("vmbuf-view: %ld frames of '%s' in %.1f s (%.1f fps)\n", shown, v->f[0].name,
	       now_s() - t0, shown / SDL_max(now_s() - t0, 1e-9));
	return 0;
}

/* --keep: the last frame stays (redrawn on expose) until stdin has a line or ends. */
static void linger(struct view *v)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char line[64];

	while (!v->quit) {
		pump(v);
		if (poll(&p, 1, v->win ? 30 : -1) > 0) {
			if (!fgets(line, sizeof(line), stdin) || strchr(line, '\n'))
				break;
		}
		if (v->ren) {
			SDL_RenderClear(v->ren);
			SDL_RenderCopy(v->ren, v->tex, NULL, NULL);
			SDL_RenderPresent(v->ren);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ring", required_argument, NULL, 'r' },
		{ "release", no_argument, NULL, 'R' },
		{ "frames", required_argument, NULL, 'f' },
		{ "keep", no_argument, NULL, 'k' },
		{ "png-dir", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "handle", required_argument, NULL, 'H' },
		{ "socket-dir", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct view v = { .ring = 1 };
	const char *socket_dir = NULL, *png_dir = NULL, *name = NULL;
	uint8_t handle[VMBUF_HANDLE_SIZE];
	bool by_handle = false, release = false, verbose = false, keep = false;
	long frames = 0, timeout_ms = 30000;
	int c, status = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "r:Rf:kp:t:H:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r': v.ring = strtoul(optarg, NULL, 10); break;
		case 'R': release = true; break;
		case 'f': frames = strtol(optarg, NULL, 10); break;
		case 'k': keep = true; break;
		case 'p': png_dir = optarg; break;
		case 't': timeout_ms = strtol(optarg, NULL, 10); break;
		case 'H':
			if (handle_parse(handle, optarg) < 0) {
				fprintf(stderr, "vmbuf-view: '%s' is not a handle (32 hex digits)\n",
					optarg);
				return 2;
			}
			by_handle = true;
			break;
		case 's': socket_dir = optarg; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind != argc || !!name == by_handle || v.ring < 1 || v.ring > RING_MAX ||
	    (by_handle && v.ring > 1) || frames < 0 || timeout_ms < 1 || timeout_ms > 3600000 ||
	    (name && strlen(name) > 30)) {
		usage(stderr);
		return 2;
	}
	v.c = vmbuf_client_connect(socket_dir);
	if (!v.c) {
		fprintf(stderr, "vmbuf-view: cannot reach vmbufd: %s\n", strerror(errno));
		return 1;
	}
	for (unsigned int i = 0; i < v.ring; i++) {
		struct frame *f = &v.f[i];

		if (by_handle)
			snprintf(f->name, sizeof(f->name), "%.8s...", argv[optind - 1]);
		else if (v.ring > 1)
			snprintf(f->name, sizeof(f->name), "%s%u", name, i);
		else
			snprintf(f->name, sizeof(f->name), "%s", name);
		if (import_one(&v, f, by_handle ? NULL : f->name, by_handle ? handle : NULL,
			       timeout_ms) < 0)
			goto out;
	}
	v.frames_tl = vmbuf_buffer_handle(v.f[0].b);
	v.release_tl = vmbuf_buffer_handle(v.f[v.ring > 1].b);
	{
		int fd = vmbuf_buffer_dmabuf(v.f[0].b);

		/* A udmabuf could go into GL with EGL_EXT_image_dma_buf_import: not done yet. */
		v.path = fd >= 0 ? "texture upload (udmabuf present; dma-buf import into GL not "
				   "implemented)" :
				   "texture upload (no /dev/udmabuf on this host)";
	}
	if (png_dir)
		v.path = "PNG files";
	if (verbose)
		printf("vmbuf-view: '%s' from VM '%s': %ux%u %s, %u buffer(s); drawing by %s\n",
		       v.f[0].name, vmbuf_buffer_owner(v.f[0].b), v.f[0].img.width,
		       v.f[0].img.height, image_format_name(v.f[0].img.format), v.ring, v.path);
	if (!png_dir && window_open(&v) < 0)
		goto out;
	if (v.win)
		set_title(&v, 0);
	status = run(&v, frames, png_dir, timeout_ms, release, verbose);
	if (status == 0 && keep)
		linger(&v);
out:
	if (!png_dir)
		window_close(&v);
	for (unsigned int i = 0; i < v.ring; i++)
		if (v.f[i].b)
			vmbuf_buffer_release(v.f[i].b);
	vmbuf_client_disconnect(v.c);
	return status;
}
