/*
 * vmbuf-capture - any VM's screen as a vmbuf export. Listens to one console
 * of QEMU's D-Bus display (the VM needs no vmbuf at all), keeps one pool
 * buffer holding the screen as XRGB8888, copies only the damaged rectangles
 * into it, and signals one timeline point per update, so vmbuf-view or a VM
 * importing the export sees the screen in step with it.
 *
 * listener.c speaks D-Bus, screen.c checks and copies pixels, this file owns
 * the export and the options. docs/display.md tells the whole path.
 */
#include <errno.h>
#include <getopt.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libvmbuf.h"
#include "listener.h"
#include "screen.h"
#include "textforms.h"
#include "util.h"

#define VMS_MAX 8

struct capture {
	struct vmbuf_client *c;
	const char *name, *pool;
	const char *vms[VMS_MAX];
	unsigned int nvms, flags, console;
	bool full;
	int verbose;			/* -v: scanouts; -vv: every point */
	const char *vm;			/* QEMU's -name, for the label and messages */
	struct vmbuf_buffer *b;
	uint8_t *px;			/* the export's pages, mapped */
	uint8_t handle[VMBUF_HANDLE_SIZE];
	uint8_t *shadow;		/* --full: the frame kept privately */
	struct screen_geom g;
	uint64_t point;			/* last timeline point signalled */
	uint64_t frames;		/* --frames: stop after this many points (0: never) */
	/* Counts for --stats. */
	uint64_t updates, scanouts, rejected, bytes;
	double started;
	GMainLoop *loop;
	int status;
	/* Registering again: the way to learn a size QEMU changed without a Scanout. */
	struct listener *l;
	const char *bus;
	int timeout_ms;
	guint resync_id;
	double last_resync;
	bool warned_format;
};

static const char *prog = "vmbuf-capture";
static const struct listener_ops ops;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmbuf-capture [OPTION]... NAME\n"
		"Export a VM's screen as the vmbuf export NAME: listen to one console of QEMU's\n"
		"D-Bus display (-display dbus,gl=off), keep one pool buffer holding the screen as\n"
		"XRGB8888 (metadata: width, height, stride), copy each damaged rectangle into it\n"
		"and signal timeline point 1, 2, 3, ... once each update is in. The VM itself\n"
		"needs no vmbuf. Host clients may always import the export (vmbuf-view NAME).\n"
		"Prints 'export NAME: WxH FOURCC handle HEX' at each export (the handle is the\n"
		"export's capability: give it only to whom may use it).\n"
		"\n"
		"  -b, --bus ADDRESS     D-Bus address where the VM's QEMU has its display\n"
		"                        (default: the session bus, $DBUS_SESSION_BUS_ADDRESS)\n"
		"  -c, --console N       the QEMU console (default 0: the first display)\n"
		"  -p, --pool POOL       the pool holding the buffer (required)\n"
		"  -t, --to VM[,VM...]   VMs allowed to import (up to 8)\n"
		"  -P, --pool-members    every member of the pool may import\n"
		"  -f, --frames N        exit after N timeline points (default: until QEMU exits)\n"
		"  -T, --timeout SEC     wait up to SEC for QEMU's display to appear (default 30)\n"
		"      --full            copy the whole frame at every update, not the damaged\n"
		"                        rectangle (the baseline the benchmark compares with)\n"
		"      --stats           print updates, updates/s and bytes copied at exit\n"
		"  -s, --socket-dir DIR  vmbufd's socket directory (default /run/vmbuf, or\n"
		"                        $VMBUF_SOCKET_DIR)\n"
		"  -v, --verbose         one line per scanout (size, format) on standard output;\n"
		"                        twice: one line per timeline point (rectangle, bytes)\n"
		"  -h, --help            this text\n"
		"\n"
		"When the VM's screen changes size, the export is replaced by one of the new size\n"
		"under the same name: importers see ECANCELED and import NAME again. When QEMU\n"
		"exits, every later point is signalled with ENODEV and the export withdrawn. A reader\n"
		"may see an update being copied; a point says every update before it is in.\n"
		"Exit status: 0 when QEMU exits or after --frames points, 1 on failure (the message\n"
		"names the object and the cause), 2 on a usage error.\n");
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fail(struct capture *k, const char *what, int err)
{
	fprintf(stderr, "%s: %s '%s' in pool '%s': %s (%s)\n", prog, what, k->name, k->pool,
		strerror(err), errno_name(err));
	k->status = 1;
	g_main_loop_quit(k->loop);
}

/*
 * Withdraw the export: its importers' waits end with ECANCELED, or, with
 * @err, every point from the next on (the last value there is) with @err.
 */
static void screen_drop(struct capture *k, int err)
{
	if (!k->b)
		return;
	if (err)
		vmbuf_signal(k->c, k->handle, UINT64_MAX, -err);
	vmbuf_buffer_release(k->b);
	k->b = NULL;
	k->px = NULL;
	free(k->shadow);
	k->shadow = NULL;
}

/* A buffer and an export for a screen of @width x @height in @format. */
static int screen_export(struct capture *k, uint32_t width, uint32_t height, uint32_t format)
{
	struct vmbuf_meta meta = { 0 };
	uint64_t size = (uint64_t)width * height * 4;

	screen_drop(k, 0);
	k->b = vmbuf_buffer_alloc(k->c, k->pool, size);
	if (!k->b)
		return -errno;
	k->px = vmbuf_buffer_map(k->b);
	if (!k->px)
		return -errno;
	if (k->full && !(k->shadow = malloc(size)))
		return -ENOMEM;
	meta.width = width;
	meta.height = height;
	meta.nplanes = 1;
	meta.fourcc = screen_fourcc(format);
	meta.strides[0] = width * 4;
	snprintf(meta.label, sizeof(meta.label), "screen of %s:%u", k->vm, k->console);
	if (vmbuf_buffer_export(k->b, k->name, k->flags, k->nvms ? k->vms : NULL, k->nvms, &meta,
				k->handle) < 0)
		return -errno;
	k->g = (struct screen_geom){ .width = width, .height = height, .format = format };
	k->point = 0;
	{
		char hex[HANDLE_HEX_LEN + 1];

		handle_format(hex, k->handle);
		printf("%s: export '%s': %ux%u %.4s handle %s\n", prog, k->name, width, height,
		       (const char *)&meta.fourcc, hex);
	}
	return 0;
}

/* Every update of the frame is in: tell the timeline. */
static void screen_done(struct capture *k, const char *what, uint32_t x, uint32_t y, uint32_t w,
			uint32_t h, size_t copied)
{
	k->bytes += copied;
	if (vmbuf_signal(k->c, k->handle, ++k->point, 0) < 0) {
		fail(k, "signal", errno);
		return;
	}
	if (k->verbose > 1)
		printf("%s: point %llu: %s %ux%u at %u,%u (%zu bytes)\n", prog,
		       (unsigned long long)k->point, what, w, h, x, y, copied);
	if (k->frames && k->point >= k->frames)
		g_main_loop_quit(k->loop);
}

static void on_scanout(void *opaque, uint32_t width, uint32_t height, uint32_t stride,
		       uint32_t format, const uint8_t *data, size_t len)
{
	struct capture *k = opaque;
	int r = screen_check_scanout(width, height, stride, format, len);

	if (k->status)
		return;
	if (r < 0) {
		k->rejected++;
		if (!k->warned_format || r != -ENOTSUP)
			fprintf(stderr, "%s: VM '%s': scanout %ux%u format 0x%08x stride %u (%zu "
				"bytes) not taken: %s\n", prog, k->vm, width, height, format, stride,
				len, strerror(-r));
		k->warned_format |= r == -ENOTSUP;
		return;
	}
	if (!k->b || width != k->g.width || height != k->g.height ||
	    screen_fourcc(format) != screen_fourcc(k->g.format)) {
		r = screen_export(k, width, height, format);
		if (r < 0) {
			fail(k, "export", -r);
			return;
		}
	}
	k->g.format = format;
	k->scanouts++;
	if (k->verbose)
		printf("%s: VM '%s' console %u: %ux%u, pixman format 0x%08x, export '%s'\n", prog,
		       k->vm, k->console, width, height, format, k->name);
	if (k->shadow)
		screen_copy(k->shadow, width * 4, 0, 0, width, height, data, stride, format);
	screen_done(k, "scanout", 0, 0, width, height,
		    screen_copy(k->px, width * 4, 0, 0, width, height, data, stride, format));
}

static gboolean resync(gpointer data)
{
	struct capture *k = data;
	char *err = NULL;

	k->resync_id = 0;
	k->last_resync = now_s();
	if (k->verbose)
		printf("%s: VM '%s': an update outside the %ux%u screen: registering again\n", prog,
		       k->vm, k->g.width, k->g.height);
	listener_free(k->l);
	k->l = listener_new(k->bus, k->console, k->timeout_ms, &ops, k, &err);
	if (!k->l) {
		fprintf(stderr, "%s: console %u on %s: %s\n", prog, k->console,
			k->bus ? k->bus : "the session bus", err);
		g_free(err);
		k->status = 1;
		g_main_loop_quit(k->loop);
	}
	return G_SOURCE_REMOVE;
}

static void on_update(void *opaque, int32_t x, int32_t y, int32_t w, int32_t h, uint32_t stride,
		      uint32_t format, const uint8_t *data, size_t len)
{
	struct capture *k = opaque;
	uint32_t dst_stride = k->g.width * 4;
	int r;

	if (k->status || !k->b)
		return;
	r = screen_check_update(&k->g, x, y, w, h, stride, format, len);
	if (r == -ERANGE && !k->resync_id && now_s() - k->last_resync > 1.0) {
		/*
		 * QEMU 10.0 switches surfaces without a Scanout when the new one is
		 * redrawn in pieces (VGA text mode): a new listener gets the current one.
		 */
		k->resync_id = g_idle_add(resync, k);
		return;
	}
	if (r < 0) {
		k->rejected++;
		fprintf(stderr, "%s: VM '%s': update %dx%d at %d,%d (stride %u, format 0x%08x, "
			"%zu bytes) of a %ux%u screen not taken: %s\n", prog, k->vm, w, h, x, y,
			stride, format, len, k->g.width, k->g.height, strerror(-r));
		return;
	}
	k->updates++;
	if (!k->shadow) {
		screen_done(k, "update", (uint32_t)x, (uint32_t)y, (uint32_t)w, (uint32_t)h,
			    screen_copy(k->px, dst_stride, (uint32_t)x, (uint32_t)y, (uint32_t)w,
					(uint32_t)h, data, stride, format));
		return;
	}
	/* The baseline: what a capture that cannot use the damage would copy. */
	screen_copy(k->shadow, dst_stride, (uint32_t)x, (uint32_t)y, (uint32_t)w, (uint32_t)h,
		    data, stride, format);
	memcpy(k->px, k->shadow, (size_t)dst_stride * k->g.height);
	screen_done(k, "update", (uint32_t)x, (uint32_t)y, (uint32_t)w, (uint32_t)h,
		    (size_t)dst_stride * k->g.height);
}

static void on_disable(void *opaque)
{
	struct capture *k = opaque;

	if (k->verbose)
		printf("%s: VM '%s' console %u: display disabled (the last frame stays)\n", prog,
		       k->vm, k->console);
}

static void on_closed(void *opaque)
{
	struct capture *k = opaque;

	if (k->verbose)
		printf("%s: VM '%s': QEMU closed the display connection\n", prog, k->vm);
	screen_drop(k, ENODEV);
	g_main_loop_quit(k->loop);
}

static gboolean on_daemon(gint fd, GIOCondition cond, gpointer data)
{
	struct capture *k = data;

	(void)fd, (void)cond;
	if (vmbuf_client_dispatch(k->c) < 0) {
		fprintf(stderr, "%s: export '%s': lost vmbufd: %s\n", prog, k->name,
			strerror(errno));
		k->status = 1;
		g_main_loop_quit(k->loop);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer data)
{
	struct capture *k = data;

	g_main_loop_quit(k->loop);
	return G_SOURCE_CONTINUE;
}

static void print_stats(const struct capture *k)
{
	double secs = now_s() - k->started;
	uint64_t n = k->scanouts + k->updates;
	uint64_t frame = (uint64_t)k->g.width * k->g.height * 4;

	printf("%s: '%s': %llu scanouts, %llu updates in %.2f s (%.1f/s); %llu bytes copied, "
	       "%llu per update, a whole frame is %llu; %llu rejected\n",
	       prog, k->name, (unsigned long long)k->scanouts, (unsigned long long)k->updates,
	       secs, secs > 0 ? (double)n / secs : 0.0, (unsigned long long)k->bytes,
	       (unsigned long long)(n ? k->bytes / n : 0), (unsigned long long)frame,
	       (unsigned long long)k->rejected);
}

enum { OPT_FULL = 256, OPT_STATS };

static const struct listener_ops ops = {
	.scanout = on_scanout,
	.update = on_update,
	.disable = on_disable,
	.closed = on_closed,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bus", required_argument, NULL, 'b' },
		{ "console", required_argument, NULL, 'c' },
		{ "pool", required_argument, NULL, 'p' },
		{ "to", required_argument, NULL, 't' },
		{ "pool-members", no_argument, NULL, 'P' },
		{ "frames", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "full", no_argument, NULL, OPT_FULL },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "socket-dir", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct capture k = { .flags = VMBUF_EXPORT_HOST };
	const char *socket_dir = NULL, *bus = NULL;
	uint64_t console = 0, timeout = 30;
	bool stats = false, usage_error = false;
	char *err = NULL;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "b:c:p:t:Pf:T:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bus = optarg; break;
		case 'c': usage_error |= parse_u64(optarg, &console) < 0 || console > 255; break;
		case 'p': k.pool = optarg; break;
		case 't': usage_error |= vm_list_parse(optarg, k.vms, &k.nvms, VMS_MAX) < 0; break;
		case 'P': k.flags |= VMBUF_EXPORT_POOL; break;
		case 'f': usage_error |= parse_u64(optarg, &k.frames) < 0; break;
		case 'T': usage_error |= parse_u64(optarg, &timeout) < 0 || !timeout ||
					 timeout > 3600; break;
		case OPT_FULL: k.full = true; break;
		case OPT_STATS: stats = true; break;
		case 's': socket_dir = optarg; break;
		case 'v': k.verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || usage_error || !k.pool) {
		usage(stderr);
		return 2;
	}
	k.name = argv[optind];
	k.console = (unsigned int)console;
	if (!name_valid(k.name) || !name_valid(k.pool)) {
		fprintf(stderr, "%s: '%s': not a valid name (1 to 31 of [A-Za-z0-9_.-])\n", prog,
			name_valid(k.name) ? k.pool : k.name);
		return 2;
	}
	k.c = vmbuf_client_connect(socket_dir);
	if (!k.c) {
		fprintf(stderr, "%s: cannot reach vmbufd: %s\n", prog, strerror(errno));
		return 1;
	}
	k.loop = g_main_loop_new(NULL, FALSE);
	k.bus = bus;
	k.timeout_ms = (int)timeout * 1000;
	k.l = listener_new(bus, k.console, k.timeout_ms, &ops, &k, &err);
	if (!k.l) {
		fprintf(stderr, "%s: console %u on %s: %s\n", prog, k.console,
			bus ? bus : "the session bus", err);
		g_free(err);
		vmbuf_client_disconnect(k.c);
		return 1;
	}
	k.vm = listener_vm_name(k.l)[0] ? g_strdup(listener_vm_name(k.l)) : "unnamed VM";
	k.started = now_s();
	g_unix_fd_add(vmbuf_client_fd(k.c), G_IO_IN | G_IO_HUP | G_IO_ERR, on_daemon, &k);
	g_unix_signal_add(SIGINT, on_signal, &k);
	g_unix_signal_add(SIGTERM, on_signal, &k);
	g_main_loop_run(k.loop);
	if (stats)
		print_stats(&k);
	screen_drop(&k, 0);
	if (k.resync_id)
		g_source_remove(k.resync_id);
	listener_free(k.l);
	g_main_loop_unref(k.loop);
	vmbuf_client_disconnect(k.c);
	return k.status;
}
