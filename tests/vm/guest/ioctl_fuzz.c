/*
 * ioctl_fuzz - random sequences of every /dev/vmbuf and heap ioctl with
 * random arguments, from several processes at once, for a bounded time: a
 * guest-side fuzzer for vmbuf.ko, run on the debug kernel (KASAN, lockdep,
 * UBSAN) where any report fails the test.
 *
 *   ioctl_fuzz SECONDS PROCESSES SEED POOL PEER
 *
 * Each process keeps a few open /dev/vmbuf files, dma-buf fds, handles it
 * exported and sync_files, and mixes well-formed requests (so the calls get
 * past the argument checks) with garbage, bad pointers, unknown commands,
 * stray fds and closes at random points. Prints "fuzz done ops N" and the
 * counts of successes; exits 0 unless a child died of a signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libvmbuf_guest.h"

#define SLOTS 8

static uint64_t rng;
static char heap_path[96];
static const char *peer;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned int pick(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

struct state {
	int dev[SLOTS];			/* /dev/vmbuf files */
	int buf[SLOTS];			/* dma-buf fds */
	size_t buf_size[SLOTS];
	int sync[SLOTS];		/* sync_files */
	uint8_t handle[SLOTS][VMBUF_HANDLE_SIZE];
	unsigned int nhandles;
	unsigned long ops, ok;
};

static int any_fd(struct state *s)
{
	switch (pick(6)) {
	case 0: return s->dev[pick(SLOTS)];
	case 1: return s->sync[pick(SLOTS)];
	case 2: return (int)pick(64) - 2;		/* anything, stdin, closed, negative */
	default: return s->buf[pick(SLOTS)];
	}
}

static int dev_fd(struct state *s)
{
	int *d = &s->dev[pick(SLOTS)];

	if (*d < 0)
		*d = open("/dev/vmbuf", O_RDWR | O_CLOEXEC | (pick(2) ? O_NONBLOCK : 0));
	return *d;
}

static void fill_random(void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = (uint8_t)rnd();
}

static const uint8_t *some_handle(struct state *s, uint8_t *scratch)
{
	if (s->nhandles && pick(4))
		return s->handle[pick(s->nhandles < SLOTS ? s->nhandles : SLOTS)];
	fill_random(scratch, VMBUF_HANDLE_SIZE);
	return scratch;
}

/* An argument pointer: the struct, or garbage the kernel must refuse with EFAULT. */
static void *arg_ptr(void *good)
{
	switch (pick(16)) {
	case 0: return NULL;
	case 1: return (void *)0x10;
	case 2: return (void *)~0ul;
	default: return good;
	}
}

static void op_alloc(struct state *s)
{
	static const uint64_t sizes[] = { 0, 1, 4096, 4097, 65536, 1 << 20, 3 << 20, 1ull << 40 };
	int heap = open(heap_path, O_RDWR | O_CLOEXEC), slot = pick(SLOTS);
	struct dma_heap_allocation_data d = { .len = sizes[pick(8)], .fd_flags = O_RDWR | O_CLOEXEC };

	if (heap < 0)
		return;
	if (!pick(8))
		d.fd = (uint32_t)rnd();
	if (!pick(8))
		d.fd_flags = (uint32_t)rnd();
	if (!pick(8))
		d.heap_flags = rnd();
	if (ioctl(heap, pick(10) ? DMA_HEAP_IOCTL_ALLOC : (unsigned long)rnd(), arg_ptr(&d)) == 0) {
		s->ok++;
		if (s->buf[slot] >= 0)
			close(s->buf[slot]);
		s->buf[slot] = (int)d.fd;
		s->buf_size[slot] = d.len;
	}
	close(heap);
}

static void op_export(struct state *s)
{
	struct vmbuf_export x;
	int slot = pick(SLOTS);

	memset(&x, 0, sizeof(x));
	x.fd = pick(4) ? s->buf[slot] : any_fd(s);
	x.flags = pick(4) ? (uint32_t)pick(16) : (uint32_t)rnd();	/* POOL..FAST */
	x.naccess = pick(4) ? 1 : (uint32_t)pick(16);
	snprintf(x.access[0], sizeof(x.access[0]), "%s", peer);
	if (pick(2))
		snprintf(x.name, sizeof(x.name), "fz%u", pick(16));
	if (!pick(8))
		fill_random(&x, sizeof(x));
	if (ioctl(dev_fd(s), VMBUF_IOC_EXPORT, arg_ptr(&x)) == 0) {
		s->ok++;
		memcpy(s->handle[s->nhandles++ % SLOTS], x.handle, VMBUF_HANDLE_SIZE);
	}
}

static void op_import(struct state *s)
{
	struct vmbuf_import im;
	uint8_t scratch[VMBUF_HANDLE_SIZE];
	int slot = pick(SLOTS);

	memset(&im, 0, sizeof(im));
	im.flags = pick(2) ? VMBUF_IMPORT_BY_NAME : 0;
	im.fd_flags = pick(8) ? O_RDWR | O_CLOEXEC : (uint32_t)rnd();
	snprintf(im.name, sizeof(im.name), "fz%u", pick(16));
	memcpy(im.handle, some_handle(s, scratch), sizeof(im.handle));
	if (!pick(8))
		fill_random(&im, sizeof(im));
	if (ioctl(dev_fd(s), VMBUF_IOC_IMPORT, arg_ptr(&im)) == 0) {
		s->ok++;
		if (s->buf[slot] >= 0)
			close(s->buf[slot]);
		s->buf[slot] = im.fd;
		s->buf_size[slot] = im.size;
	}
}

static void op_fence(struct state *s)
{
	struct vmbuf_fence f = { .value = pick(4) ? pick(8) : rnd() };
	uint8_t scratch[VMBUF_HANDLE_SIZE];
	int slot = pick(SLOTS);

	memcpy(f.handle, some_handle(s, scratch), sizeof(f.handle));
	if (!pick(16))
		f.flags = (uint32_t)rnd();
	if (ioctl(dev_fd(s), VMBUF_IOC_FENCE, arg_ptr(&f)) == 0) {
		s->ok++;
		if (s->sync[slot] >= 0)
			close(s->sync[slot]);
		s->sync[slot] = f.fd;
	}
}

static void op_signal(struct state *s)
{
	struct vmbuf_signal sg = { .value = pick(4) ? pick(16) : rnd(),
				   .error = pick(4) ? 0 : -(int32_t)pick(200),
				   .wait_fd = pick(2) ? -1 : any_fd(s) };
	uint8_t scratch[VMBUF_HANDLE_SIZE];

	memcpy(sg.handle, some_handle(s, scratch), sizeof(sg.handle));
	if (ioctl(dev_fd(s), VMBUF_IOC_SIGNAL, arg_ptr(&sg)) == 0)
		s->ok++;
}

static void op_misc(struct state *s)
{
	union {
		struct vmbuf_info info;
		struct vmbuf_revoke rv;
		struct vmbuf_query q;
		struct vmbuf_attach at;
		struct vmbuf_doorbell db;
		struct vmbuf_wait w;
		uint8_t raw[4096];
	} u;
	uint8_t scratch[VMBUF_HANDLE_SIZE];
	unsigned long cmd;

	memset(&u, 0, sizeof(u));
	switch (pick(8)) {
	case 0:
		cmd = VMBUF_IOC_INFO;
		break;
	case 1:
		cmd = VMBUF_IOC_REVOKE;
		memcpy(u.rv.handle, some_handle(s, scratch), VMBUF_HANDLE_SIZE);
		break;
	case 2:
		cmd = VMBUF_IOC_QUERY;
		u.q.fd = any_fd(s);
		break;
	case 3:
		cmd = VMBUF_IOC_ATTACH;
		u.at.fd = any_fd(s);
		u.at.value = pick(8);
		u.at.flags = pick(16) ? 0 : (uint32_t)rnd();
		break;
	case 4:
		cmd = VMBUF_IOC_DOORBELL;
		u.db.pool_id = pick(4);
		u.db.peer = pick(4) ? 0 : (uint32_t)rnd();
		u.db.timeout_ms = pick(3);
		break;
	case 6:
		cmd = VMBUF_IOC_WAIT;
		memcpy(u.w.handle, some_handle(s, scratch), VMBUF_HANDLE_SIZE);
		u.w.value = pick(4) ? pick(16) : rnd();
		u.w.timeout_ms = pick(3);
		u.w.flags = pick(16) ? 0 : (uint32_t)rnd();
		break;
	case 5:		/* a command of ours with a wrong size, or nobody's */
		cmd = _IOC(pick(4), VMBUF_IOC_MAGIC, pick(16), pick(2048));
		fill_random(&u, pick(2048));
		break;
	default:
		cmd = (unsigned long)rnd();
		fill_random(&u, sizeof(u));
		break;
	}
	if (ioctl(pick(8) ? dev_fd(s) : any_fd(s), cmd, arg_ptr(&u)) == 0)
		s->ok++;
}

static void op_io(struct state *s)
{
	int slot = pick(SLOTS), fd = s->buf[slot];
	struct vmbuf_event ev[4];

	switch (pick(5)) {
	case 0: {	/* map, touch, sync, unmap */
		size_t n = s->buf_size[slot];
		uint8_t *m;

		if (fd < 0 || !n || n > (64u << 20))
			return;
		m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			return;
		vg_sync(fd, 1, 1);
		m[pick(n)] = (uint8_t)rnd();
		vg_sync(fd, 0, 1);
		munmap(m, n);
		s->ok++;
		break;
	}
	case 1: {	/* events, non-blocking */
		int d = dev_fd(s);

		if (d >= 0 && fcntl(d, F_GETFL) & O_NONBLOCK)
			s->ok += read(d, ev, pick(2) ? sizeof(ev) : pick(200)) > 0;
		break;
	}
	case 2: {	/* poll sync_files and buffers */
		struct pollfd p[2] = { { .fd = s->sync[pick(SLOTS)], .events = POLLIN },
				       { .fd = fd, .events = POLLIN | POLLOUT } };

		s->ok += poll(p, 2, 0) > 0;
		break;
	}
	case 3: {	/* close something */
		int *victims[] = { &s->dev[pick(SLOTS)], &s->buf[pick(SLOTS)], &s->sync[pick(SLOTS)] };
		int *v = victims[pick(3)];

		if (*v >= 0) {
			close(*v);
			*v = -1;
		}
		break;
	}
	default:	/* an exported sync_file of a buffer (implicit sync) */
		if (fd >= 0) {
			struct dma_buf_export_sync_file e = { .flags = DMA_BUF_SYNC_RW };

			if (ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e) == 0) {
				close(e.fd);
				s->ok++;
			}
		}
	}
}

static int child(double seconds)
{
	static void (*const ops[])(struct state *) = {
		op_alloc, op_alloc, op_export, op_import, op_fence, op_signal, op_misc, op_misc,
		op_io, op_io,
	};
	struct state s;
	struct timespec t0, t;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < SLOTS; i++)
		s.dev[i] = s.buf[i] = s.sync[i] = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ops[pick(sizeof(ops) / sizeof(ops[0]))](&s);
		s.ops++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	printf("child %d: ops %lu ok %lu\n", getpid(), s.ops, s.ok);
	return 0;	/* exit closes everything: the module must clean up */
}

int main(int argc, char **argv)
{
	int procs, status, bad = 0;
	double seconds;

	if (argc != 6) {
		fprintf(stderr, "usage: ioctl_fuzz SECONDS PROCESSES SEED POOL PEER\n");
		return 2;
	}
	seconds = atof(argv[1]);
	procs = atoi(argv[2]);
	rng = strtoull(argv[3], NULL, 0) | 1;
	vg_heap_path(heap_path, sizeof(heap_path), argv[4]);
	peer = argv[5];
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("fuzz seed %s, %d processes, %.0f s\n", argv[3], procs, seconds);
	for (int i = 0; i < procs; i++) {
		if (fork() == 0) {
			rng = rng * 6364136223846793005ull + (uint64_t)i + 1;
			_exit(child(seconds));
		}
	}
	while (wait(&status) > 0)
		bad += !WIFEXITED(status);
	printf("fuzz done, %d processes died of a signal\n", bad);
	return bad ? 1 : 0;
}
