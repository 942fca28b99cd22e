/*
 * vmbuf-demo - the two-VM frame demo: a producer VM draws animated frames
 * into a ring of three 1920x1080 XRGB8888 buffers from its vmbuf heap; a
 * consumer VM imports them and checks every frame. No byte is copied.
 *
 * Timelines: the export "NAME0" carries the frame clock (the producer
 * signals k once frame k is drawn into buffer k % 3); the export "NAME1"
 * carries releases (the consumer signals k when it is done with frame k, so
 * the producer may draw frame k + 3 into that buffer).
 *
 * Each frame: a gradient that moves with k, the frame counter as 32 bit
 * squares in the top-left corner, and a footer row holding k and a checksum
 * of everything above it. The consumer verifies counter and checksum.
 *
 *   vmbuf-demo produce -p POOL -n NAME -t CONSUMER [-f FRAMES]
 *   vmbuf-demo consume -n NAME [-f FRAMES]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "libvmbuf_guest.h"

#define W 1920
#define H 1080
#define FRAME_BYTES (W * H * 4)
#define RING 3
#define FOOTER_ROW (H - 1)

struct ring {
	int fd[RING];
	uint32_t *px[RING];
	uint8_t handle[RING][VMBUF_HANDLE_SIZE];
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Wait for a release fence; its signalling time minus @sent_ms is the frame's latency. */
static int release_wait(int fd, double sent_ms, double *lat_ms)
{
	int r = vg_fence_wait(fd, 60000);

	if (r == 1)
		*lat_ms = vg_fence_timestamp_ns(fd) / 1e6 - sent_ms;
	close(fd);
	return r;
}

/* Checksum of rows 0..H-2: a 64-bit FNV-style fold of 64-bit words. */
static uint64_t frame_sum(const uint32_t *px)
{
	const uint64_t *w = (const uint64_t *)px;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < (size_t)W * FOOTER_ROW / 2; i++)
		h = (h ^ w[i]) * 1099511628211ull;
	return h;
}

static void draw(uint32_t *px, uint64_t k)
{
	for (int y = 0; y < FOOTER_ROW; y++) {
		uint32_t *row = px + (size_t)y * W;
		uint32_t g = (uint32_t)((y + k * 3) & 0xff);

		for (int x = 0; x < W; x++)
			row[x] = (uint32_t)((x + k * 8) & 0xff) << 16 | g << 8 |
				 (uint32_t)((x + y + k) & 0xff);
	}
	/* The counter: 32 squares of 24x24, white for 1 bits, in the top-left. */
	for (int b = 0; b < 32; b++)
		for (int y = 8; y < 32; y++)
			for (int x = 8 + b * 28; x < 32 + b * 28; x++)
				px[(size_t)y * W + x] = (k >> (31 - b)) & 1 ? 0xffffff : 0x202020;
	px[(size_t)FOOTER_ROW * W + 0] = (uint32_t)k;
	px[(size_t)FOOTER_ROW * W + 1] = (uint32_t)(k >> 32);
	{
		uint64_t s = frame_sum(px);

		px[(size_t)FOOTER_ROW * W + 2] = (uint32_t)s;
		px[(size_t)FOOTER_ROW * W + 3] = (uint32_t)(s >> 32);
	}
}

static uint64_t footer(const uint32_t *px, int i)
{
	return px[(size_t)FOOTER_ROW * W + 2 * i] |
	       (uint64_t)px[(size_t)FOOTER_ROW * W + 2 * i + 1] << 32;
}

static int wait_point(const uint8_t *handle, uint64_t v)
{
	int r;

	/* A fence waits at most the fence timeout; the peer may still be starting. */
	for (int i = 0; i < 6; i++) {
		r = vg_wait(handle, v, 30000);
		if (r != -ETIMEDOUT)
			break;
	}
	return r;
}

static int produce(const char *pool, const char *name, const char *peer, long frames)
{
	static struct vmbuf_export x;
	struct ring rg;
	double t0, lat, lat_sum = 0, lat_max = 0, sent[RING] = { 0 };
	int r, relfd[RING] = { -1, -1, -1 };

	for (int i = 0; i < RING; i++) {
		rg.fd[i] = vg_alloc(pool, FRAME_BYTES);
		if (rg.fd[i] < 0) {
			fprintf(stderr, "vmbuf-demo: alloc frame buffer in '%s': %s\n", pool,
				strerror(-rg.fd[i]));
			return 1;
		}
		rg.px[i] = mmap(NULL, FRAME_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, rg.fd[i], 0);
		memset(&x, 0, sizeof(x));
		x.fd = rg.fd[i];
		/* The host may import the frames too (for snapshots). */
		x.flags = VMBUF_EXPORT_HOST | (i == 1 ? VMBUF_EXPORT_SIGNAL : 0);
		x.naccess = 1;
		snprintf(x.name, sizeof(x.name), "%s%d", name, i);
		snprintf(x.access[0], sizeof(x.access[0]), "%s", peer);
		x.meta.width = W;
		x.meta.height = H;
		x.meta.fourcc = vg_fourcc("XR24");
		x.meta.nplanes = 1;
		x.meta.strides[0] = W * 4;
		snprintf(x.meta.label, sizeof(x.meta.label), "vmbuf-demo frame ring %d/3", i);
		r = vg_ioctl(VMBUF_IOC_EXPORT, &x);
		if (r < 0 || rg.px[i] == MAP_FAILED) {
			fprintf(stderr, "vmbuf-demo: export '%s': %s\n", x.name, strerror(-r));
			return 1;
		}
		memcpy(rg.handle[i], x.handle, VMBUF_HANDLE_SIZE);
	}
	printf("producer: 3 x %dx%d XRGB8888 buffers exported as %s0..%s2 to '%s'\n", W, H, name,
	       name, peer);
	fflush(stdout);
	/* The consumer signals release 0 once it imported everything. */
	if (wait_point(rg.handle[1], 0 + 1) != 1) {
		fprintf(stderr, "vmbuf-demo: the consumer never came\n");
		return 1;
	}
	t0 = now_ms();
	for (long k = 1; k <= frames + RING; k++) {
		int b = k % RING;

		/* Frame k reuses the buffer of frame k - 3: wait until it was released. */
		if (k > RING) {
			if (release_wait(relfd[b], sent[b], &lat) != 1) {
				fprintf(stderr, "vmbuf-demo: release of frame %ld never came\n", k - RING);
				return 1;
			}
			lat_sum += lat;
			lat_max = lat > lat_max ? lat : lat_max;
		}
		if (k > frames)
			continue;	/* draining the last releases */
		vg_sync(rg.fd[b], 1, 1);
		draw(rg.px[b], k);
		vg_sync(rg.fd[b], 0, 1);
		/* Ask for the release before the consumer can give it. */
		relfd[b] = vg_fence(rg.handle[1], (uint64_t)k + 1);
		sent[b] = now_ms();
		if (relfd[b] < 0 || vg_signal(rg.handle[0], k, 0, -1) < 0) {
			fprintf(stderr, "vmbuf-demo: signal frame %ld failed\n", k);
			return 1;
		}
	}
	printf("producer: %ld frames in %.2f s: %.1f fps; end-to-end latency (frame signalled "
	       "to frame released by the consumer) mean %.1f ms, max %.1f ms\n",
	       frames, (now_ms() - t0) / 1e3, frames / ((now_ms() - t0) / 1e3),
	       lat_sum / frames, lat_max);
	printf("holding\n");
	fflush(stdout);
	/* Keep the buffers (for the host's snapshot) until told. */
	{
		char line[16];

		if (!fgets(line, sizeof(line), stdin))
			(void)0;
	}
	return 0;
}

static int consume(const char *name, long frames)
{
	static struct vmbuf_import im[RING];
	long bad = 0;
	struct ring rg;
	int r;

	for (int i = 0; i < RING; i++) {
		im[i].flags = VMBUF_IMPORT_BY_NAME;
		im[i].fd_flags = O_RDWR | O_CLOEXEC;
		snprintf(im[i].name, sizeof(im[i].name), "%s%d", name, i);
		for (int t = 0; t < 600 && (r = vg_ioctl(VMBUF_IOC_IMPORT, &im[i])) == -ENOENT; t++)
			usleep(100000);
		if (r < 0) {
			fprintf(stderr, "vmbuf-demo: import '%s': %s\n", im[i].name, strerror(-r));
			return 1;
		}
		rg.fd[i] = im[i].fd;
		memcpy(rg.handle[i], im[i].handle, VMBUF_HANDLE_SIZE);
		rg.px[i] = mmap(NULL, im[i].size, PROT_READ, MAP_SHARED, rg.fd[i], 0);
		if (rg.px[i] == MAP_FAILED || im[i].meta.width != W || im[i].meta.height != H)
			return 1;
	}
	printf("consumer: imported 3 frames of %ux%u %.4s from '%s'\n", im[0].meta.width,
	       im[0].meta.height, (char *)&im[0].meta.fourcc, im[0].owner);
	fflush(stdout);
	if (vg_signal(rg.handle[1], 1, 0, -1) < 0)
		return 1;
	for (long k = 1; k <= frames; k++) {
		int b = k % RING;

		if (wait_point(rg.handle[0], k) != 1) {
			fprintf(stderr, "vmbuf-demo: frame %ld never came\n", k);
			return 1;
		}
		vg_sync(rg.fd[b], 1, 0);
		if (footer(rg.px[b], 0) != (uint64_t)k || footer(rg.px[b], 1) != frame_sum(rg.px[b]))
			bad++;
		vg_sync(rg.fd[b], 0, 0);
		if (vg_signal(rg.handle[1], (uint64_t)k + 1, 0, -1) < 0)
			return 1;
	}
	printf("consumer: %ld frames checked, dropped or corrupt: %ld\n", frames, bad);
	return bad != 0;
}

int main(int argc, char **argv)
{
	const char *pool = NULL, *name = "cam", *peer = NULL;
	long frames = 120;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || (strcmp(argv[1], "produce") && strcmp(argv[1], "consume"))) {
		fprintf(stderr,
			"Usage: vmbuf-demo produce -p POOL -n NAME -t CONSUMER_VM [-f FRAMES]\n"
			"       vmbuf-demo consume -n NAME [-f FRAMES]\n"
			"Share a ring of three 1920x1080 XRGB8888 frames between two VMs, one\n"
			"timeline point per frame, and check every frame's counter and checksum.\n");
		return 2;
	}
	optind = 2;
	while ((c = getopt(argc, argv, "p:n:t:f:")) != -1) {
		switch (c) {
		case 'p': pool = optarg; break;
		case 'n': name = optarg; break;
		case 't': peer = optarg; break;
		case 'f': frames = strtol(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (frames < 1 || strlen(name) > 24)
		return 2;
	if (!strcmp(argv[1], "produce")) {
		if (!pool || !peer)
			return 2;
		return produce(pool, name, peer, frames);
	}
	return consume(name, frames);
}
