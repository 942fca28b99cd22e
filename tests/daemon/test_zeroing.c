/*
 * test_zeroing - one VM freeing huge buffers must not stall the daemon for
 * the others (issue: a single memset of each freed range ran inside the event
 * loop; FREE of 510 MiB kept every other VM waiting for it).
 *
 * The real vmbufd (argv[1]) with two fake VMs in one 512 MiB pool. "flood"
 * allocates the largest buffer the pool holds, writes every page of it
 * through its pool mapping (so the daemon really has to zero it) and frees
 * it, in a loop, from a child process. Meanwhile "good" times HELLO round
 * trips (the request the review timed). Its p99 while "flood" runs must stay below
 * GOOD_P99_MAX_MS; the result is printed as a ratio to its p99 measured
 * before the flood, on the same daemon. "flood" itself must keep getting its
 * memory back (each ALLOC waits until the previous buffer is zeroed) and
 * every byte it gets must read as zero.
 */
#include <endian.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakevm.h"
#include "../check.h"

#define POOL_SIZE (512ull << 20)
#define BIG (POOL_SIZE - (2ull << 20))	/* the largest 2 MiB-aligned buffer */
#define GOOD_ROUNDS 300
#define GOOD_P99_MAX_MS 20.0
#define FLOOD_SECONDS 6
#define FLOOD_PAIRS 15	/* 30 requests: the 32 slots of a 64-entry ring, nearly */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int32_t alloc(struct fakevm *vm, uint64_t size, uint64_t *id, uint64_t *off)
{
	struct virtio_vmbuf_alloc a = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					.pool_id = htole32(1), .size = htole64(size) };
	struct virtio_vmbuf_alloc_resp r;

	memset(&r, 0, sizeof(r));
	if (fakevm_call(vm, &a, sizeof(a), &r, sizeof(r)) < (int)sizeof(r.resp))
		return 1;
	*id = le64toh(r.buffer_id);
	*off = le64toh(r.offset);
	return (int32_t)le32toh(r.resp.status);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * p99 of GOOD_ROUNDS HELLO round trips, in ms; -1 when one failed. (HELLO
 * takes no buffer id, so the flooder's ids stay predictable.)
 */
static double good_p99(struct fakevm *good)
{
	static double t[GOOD_ROUNDS];

	for (int i = 0; i < GOOD_ROUNDS; i++) {
		double t0 = now_ms();

		if (fakevm_hello(good, NULL) != 0)
			return -1;
		t[i] = now_ms() - t0;
		usleep(2000);
	}
	qsort(t, GOOD_ROUNDS, sizeof(t[0]), cmp_double);
	return t[GOOD_ROUNDS * 99 / 100];
}

/*
 * The flooding VM, in a child: what the review's attacker did, a ring full
 * of FREE and ALLOC pairs of the largest buffer, posted at once (buffer ids
 * are sequential: each ALLOC gets the id the next FREE names). Before the
 * fix every FREE zeroed 510 MiB inside the loop, FLOOD_PAIRS of them per
 * doorbell. Exit status 0 when the buffer each batch ends with reads as zero.
 */
static int flood(const char *sockdir)
{
	struct virtio_vmbuf_alloc a = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					.pool_id = htole32(1), .size = htole64(BIG) };
	struct virtio_vmbuf_free f[FLOOD_PAIRS];
	static uint8_t resp[2 * FLOOD_PAIRS][VIRTIO_VMBUF_MSG_MAX];
	const void *reqs[2 * FLOOD_PAIRS];
	size_t lens[2 * FLOOD_PAIRS];
	double end = now_ms() + FLOOD_SECONDS * 1e3;
	struct fakevm vm;
	uint64_t id, off;
	uint8_t *pool;
	int sock, rounds = 0;

	if (fakevm_connect(&vm, sockdir, "flood") < 0 || fakevm_setup(&vm) < 0 ||
	    fakevm_hello(&vm, NULL) != 0)
		return 2;
	pool = fakevm_pool_map(sockdir, "flood", "p", POOL_SIZE, &sock);
	if (!pool || alloc(&vm, BIG, &id, &off) != 0)
		return 3;
	while (now_ms() < end) {
		const struct virtio_vmbuf_alloc_resp *last = (void *)resp[2 * FLOOD_PAIRS - 1];

		memset(pool + off, 0xa5, BIG);	/* the daemon must really zero it */
		for (unsigned int i = 0; i < FLOOD_PAIRS; i++) {
			f[i] = (struct virtio_vmbuf_free){ .hdr.type = htole32(VIRTIO_VMBUF_REQ_FREE),
							   .buffer_id = htole64(id + i) };
			reqs[2 * i] = &f[i];
			lens[2 * i] = sizeof(f[i]);
			reqs[2 * i + 1] = &a;
			lens[2 * i + 1] = sizeof(a);
		}
		memset(resp, 0, sizeof(resp));
		if (fakevm_call_many(&vm, reqs, lens, 2 * FLOOD_PAIRS, resp, 30000) !=
		    2 * FLOOD_PAIRS)
			return 4;
		if (last->resp.status != 0)
			return 5;
		id = le64toh(last->buffer_id);
		off = le64toh(last->offset);
		for (uint64_t i = 0; i < BIG; i += 4096)
			if (pool[off + i] || pool[off + i + 4095])
				return 6;
		rounds++;
	}
	printf("# flood: %d batches of %d FREE and ALLOC pairs of %llu MiB\n", rounds,
	       FLOOD_PAIRS, (unsigned long long)(BIG >> 20));
	return rounds >= 1 ? 0 : 7;
}

int main(int argc, char **argv)
{
	struct fakevm_daemon d;
	struct fakevm good;
	double idle, busy;
	pid_t child;
	int status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: test_zeroing PATH-TO-VMBUFD\n");
		return 2;
	}
	if (fakevm_daemon_start(&d, argv[1], "[vm flood]\n[vm good]\nquota = 8M\n"
				"[pool p]\nsize = 512M\nmembers = flood good\n") < 0)
		return 1;
	CHECK(fakevm_connect(&good, d.sockdir, "good") == 0 && fakevm_setup(&good) == 0 &&
	      fakevm_hello(&good, NULL) == 0, "good VM connects");
	idle = good_p99(&good);
	CHECK(idle > 0, "good VM: p99 of HELLO, daemon otherwise idle: %.2f ms", idle);

	child = fork();
	if (child == 0)
		_exit(flood(d.sockdir));
	usleep(500000);	/* let the flood get going */
	busy = good_p99(&good);
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "flooding VM: served, and the buffers it got read as zero (status %d)",
	      WEXITSTATUS(status));
	CHECK(busy > 0 && busy < GOOD_P99_MAX_MS,
	      "good VM: p99 while another VM frees %llu MiB buffers: %.2f ms (bound %.0f ms)",
	      (unsigned long long)(BIG >> 20), busy, GOOD_P99_MAX_MS);
	printf("# good VM p99 under flood / idle: %.1fx (%.2f ms / %.2f ms)\n", busy / idle, busy,
	       idle);
	fakevm_close(&good);
	status = fakevm_daemon_stop(&d);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "vmbufd exits 0 on SIGTERM");
	return check_done();
}
