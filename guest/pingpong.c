/*
 * pingpong - round-trip latency between two guests, the benchmark behind
 * 'vmbuf pingpong'. Two modes over the same pair of VMs:
 *
 *   fence     the cross-VM timeline through vmbufd: the leader writes round k
 *             into a shared buffer and signals 2k; the follower waits for 2k,
 *             checks the word, writes its own and signals 2k + 1; the leader
 *             waits for 2k + 1 and checks. Every round checks the data.
 *   doorbell  the raw ivshmem doorbells of the pool device, VM to VM, no
 *             daemon in the path: the baseline.
 *
 * The leader prints "pingpong MODE rounds N errors E p50 X us p99 Y us".
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

int pingpong_main(int argc, char **argv);

struct pp {
	int lead;
	size_t size;		/* shared buffer bytes */
	int copy;		/* copy the frame into the buffer every round (baseline) */
	int fast;		/* a fast timeline (VMBUF_EXPORT_FAST) */
	const char *pool, *name, *peer;
	unsigned int peer_pos;
	long rounds;
	double *rtt;
	long errors;
};

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(struct pp *p, const char *mode, double total_us)
{
	qsort(p->rtt, p->rounds, sizeof(double), cmp_double);
	printf("pingpong %s rounds %ld errors %ld p50 %.1f us p99 %.1f us rate %.1f/s size %zu\n",
	       mode, p->rounds, p->errors, p->rtt[p->rounds / 2], p->rtt[p->rounds * 99 / 100],
	       p->rounds / (total_us / 1e6), p->size);
}

static int pool_id(const char *pool)
{
	struct vmbuf_info info;

	if (vg_info(&info) < 0)
		return -1;
	for (unsigned int i = 0; i < info.npools; i++)
		if (!strcmp(info.pools[i].name, pool))
			return info.pools[i].pool_id;
	return -1;
}

static int doorbell(uint32_t pool, uint32_t peer, uint32_t timeout_ms, uint64_t *count)
{
	struct vmbuf_doorbell d = { .pool_id = pool, .peer = peer, .timeout_ms = timeout_ms,
				    .count = *count };
	int r = vg_ioctl(VMBUF_IOC_DOORBELL, &d);

	*count = d.count;
	return r;
}

static int run_doorbell(struct pp *p)
{
	int id = pool_id(p->pool);
	uint64_t c = 0;
	double start;

	if (id < 0 || doorbell(id, 0, 0, &c) < 0) {
		fprintf(stderr, "vmbuf: pingpong: pool '%s' has no doorbells here\n", p->pool);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	start = now_us();
	for (long k = 0; k < p->rounds; k++) {
		double t0 = now_us();

		if (p->lead) {
			if (doorbell(id, p->peer_pos, 10000, &c) < 0)
				p->errors++;
			p->rtt[k] = now_us() - t0;
		} else {
			uint64_t ignore = c;

			if (doorbell(id, 0, 10000, &c) < 0)
				p->errors++;
			/*
			 * Ring only. The count this returns may already include the
			 * leader's next doorbell, so it must not become the count we
			 * wait to see change.
			 */
			doorbell(id, p->peer_pos, 0, &ignore);
		}
	}
	if (p->lead)
		report(p, "doorbell", now_us() - start);
	else
		printf("follow done rounds %ld errors %ld\n", p->rounds, p->errors);
	return p->errors != 0;
}

/* The buffer both sides write: word 0 by the leader, word 1 by the follower. */
static volatile uint64_t *map_words(int fd, size_t size)
{
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return m == MAP_FAILED ? NULL : m;
}

/*
 * Wait for point @value: through the sync_file @fd asked for ahead of time,
 * or on a fast timeline (@fd -1) in the kernel, where asking costs no round
 * trip to vmbufd. 1 when reached.
 */
static int wait_point(const uint8_t *handle, int fd, uint64_t value)
{
	int r = fd < 0 ? vg_wait(handle, value, 10000) : vg_fence_wait(fd, 10000);

	if (fd >= 0)
		close(fd);
	return r;
}

static int run_fence(struct pp *p)
{
	static struct vmbuf_export x;
	static struct vmbuf_import im;
	uint8_t *handle;
	volatile uint64_t *w;
	uint8_t *frame = NULL;
	double start;
	int fd, r, next, fast;

	if (p->lead) {
		fd = vg_alloc(p->pool, p->size);
		if (fd < 0) {
			fprintf(stderr, "vmbuf: pingpong: alloc in '%s': %s\n", p->pool, strerror(-fd));
			return 1;
		}
		x.fd = fd;
		x.flags = VMBUF_EXPORT_SIGNAL | (p->fast ? VMBUF_EXPORT_FAST : 0);
		x.naccess = 1;
		snprintf(x.name, sizeof(x.name), "%s", p->name);
		snprintf(x.access[0], sizeof(x.access[0]), "%s", p->peer);
		r = vg_ioctl(VMBUF_IOC_EXPORT, &x);
		if (r < 0) {
			fprintf(stderr, "vmbuf: pingpong: export '%s': %s\n", p->name, strerror(-r));
			return 1;
		}
		handle = x.handle;
		printf("exported\n");
		fflush(stdout);
		/* The follower signals 1 once it imported. */
		for (int i = 0; i < 12 && (r = vg_wait(handle, 1, 10000)) != 1; i++)
			;
		if (r != 1) {
			fprintf(stderr, "vmbuf: pingpong: follower never came\n");
			return 1;
		}
	} else {
		im.flags = VMBUF_IMPORT_BY_NAME;
		im.fd_flags = O_RDWR | O_CLOEXEC;
		snprintf(im.name, sizeof(im.name), "%s", p->name);
		for (int i = 0; i < 600 && (r = vg_ioctl(VMBUF_IOC_IMPORT, &im)) == -ENOENT; i++)
			usleep(100000);
		if (r < 0) {
			fprintf(stderr, "vmbuf: pingpong: import '%s': %s\n", p->name, strerror(-r));
			return 1;
		}
		fd = im.fd;
		handle = im.handle;
		if (vg_signal(handle, 1, 0, -1) < 0)
			return 1;
	}
	/* Whether the timeline is fast decides how to wait (the follower learns it here). */
	fast = vg_fast(fd);
	if (p->fast && !fast) {
		fprintf(stderr, "vmbuf: pingpong: '%s' got no fast timeline (ivshmem only)\n",
			p->name);
		return 1;
	}
	p->fast = fast;
	w = map_words(fd, p->size);
	if (!w)
		return 1;
	if (p->copy) {
		/* The baseline: the frame lives in private memory and is copied in each round. */
		frame = malloc(p->size);
		if (!frame)
			return 1;
		memset(frame, 0x5a, p->size);
	}
	start = now_us();
	/*
	 * Ask for the next point before anything can signal it, as a pipeline
	 * would: the leader before it signals, the follower right after it
	 * signalled (its next point needs the leader's turn first). That keeps
	 * the WATCH round trip off the critical path. A fast timeline needs
	 * none of that: a fence on it never waits for the daemon.
	 */
	next = p->fast ? -1 : vg_fence(handle, p->lead ? 3 : 2);
	for (long k = 1; k <= p->rounds; k++) {
		double t0;
		int cur = next;

		if (p->lead) {
			t0 = now_us();
			vg_sync(fd, 1, 1);
			if (p->copy) {
				((uint64_t *)frame)[0] = k;
				memcpy((void *)w, frame, p->size);
			} else {
				w[0] = k;
			}
			vg_sync(fd, 0, 1);
			if (vg_signal(handle, 2 * k, 0, -1) < 0 ||
			    wait_point(handle, cur, 2 * k + 1) != 1)
				p->errors++;
			p->rtt[k - 1] = now_us() - t0;
			if (k < p->rounds && !p->fast)
				next = vg_fence(handle, 2 * k + 3);
			vg_sync(fd, 1, 0);
			if (w[1] != (uint64_t)k)
				p->errors++;
			vg_sync(fd, 0, 0);
		} else {
			if (wait_point(handle, cur, 2 * k) != 1)
				p->errors++;
			vg_sync(fd, 1, 1);
			if (w[0] != (uint64_t)k)
				p->errors++;
			w[1] = k;
			vg_sync(fd, 0, 1);
			if (vg_signal(handle, 2 * k + 1, 0, -1) < 0)
				p->errors++;
			if (k < p->rounds && !p->fast)
				next = vg_fence(handle, 2 * k + 2);
		}
	}
	if (p->lead)
		report(p, p->copy ? "copy" : p->fast ? "fast" : "fence", now_us() - start);
	else
		printf("follow done rounds %ld errors %ld\n", p->rounds, p->errors);
	free(frame);
	close(fd);
	return p->errors != 0;
}

static void pp_usage(FILE *out)
{
	fprintf(out,
		"Usage: vmbuf pingpong lead -p POOL -n NAME -t PEER_VM [-r ROUNDS]\n"
		"       vmbuf pingpong follow -n NAME [-r ROUNDS]\n"
		"       vmbuf pingpong lead|follow --doorbell PEER_POSITION -p POOL [-r ROUNDS]\n"
		"Leader options: -s SIZE (shared buffer, default 4K), --copy (copy a private\n"
		"SIZE-byte frame into it every round: the copying baseline for a hand-off),\n"
		"--fast (a fast timeline: signals reach the peer by pool doorbell; mode 'fast').\n"
		"Measure round trips between two VMs. Fence mode (default): the leader exports a\n"
		"page named NAME to PEER_VM and the two alternate timeline signals through vmbufd,\n"
		"checking the page's contents every round. Doorbell mode: raw pool doorbells, no\n"
		"daemon in the path (the follower must print 'ready' before the leader starts;\n"
		"positions are shown by 'vmbuf info'). The leader prints\n"
		"'pingpong MODE rounds N errors E p50 X us p99 Y us rate R/s size S'.\n"
		"Default: 1000 rounds.\n");
}

int pingpong_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "to", required_argument, NULL, 't' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "doorbell", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "copy", no_argument, NULL, 'c' },
		{ "fast", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct pp p = { .rounds = 1000, .size = 4096 };
	int c, ret;

	if (argc < 2 || (strcmp(argv[1], "lead") && strcmp(argv[1], "follow"))) {
		pp_usage(argc > 1 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc > 1 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	p.lead = !strcmp(argv[1], "lead");
	optind = 2;
	while ((c = getopt_long(argc, argv, "p:n:t:r:d:s:cFh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': p.pool = optarg; break;
		case 'n': p.name = optarg; break;
		case 't': p.peer = optarg; break;
		case 'r': p.rounds = strtol(optarg, NULL, 0); break;
		case 'd': p.peer_pos = strtoul(optarg, NULL, 0); break;
		case 's': p.size = strtoul(optarg, NULL, 0); break;
		case 'c': p.copy = 1; break;
		case 'F': p.fast = 1; break;
		case 'h': pp_usage(stdout); return 0;
		default: pp_usage(stderr); return 2;
		}
	}
	if (p.rounds < 1 || p.size < 4096 || (p.peer_pos && !p.pool) ||
	    (!p.peer_pos && (!p.name || (p.lead && (!p.pool || !p.peer))))) {
		pp_usage(stderr);
		return 2;
	}
	p.rtt = calloc(p.rounds, sizeof(double));
	if (!p.rtt)
		return 1;
	ret = p.peer_pos ? run_doorbell(&p) : run_fence(&p);
	free(p.rtt);
	return ret;
}
