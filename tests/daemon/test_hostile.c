/*
 * test_hostile - a hostile guest against the real vmbufd.
 *
 * Starts vmbufd (path in argv[1]) with two VMs, "evil" and "good". "evil"
 * connects to its control socket as QEMU would and writes malformed queue
 * layouts, descriptor chains and requests; each must be rejected (device
 * BROKEN with the documented error, or an error response) and "good" must
 * keep being served. Ends with random ring garbage and a clean SIGTERM
 * (under ASan a leak or overflow makes the daemon's exit status non-zero).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakevm.h"
#include "../check.h"

#define LIVE (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK)

static struct fakevm_daemon vmbufd;

static int daemon_alive(void)
{
	return fakevm_daemon_alive(&vmbufd);
}

static int32_t call_status(struct fakevm *vm, const void *req, size_t len, void *resp, size_t cap)
{
	struct virtio_vmbuf_resp *r = resp;

	if (fakevm_call(vm, req, len, resp, cap) < (int)sizeof(*r))
		return 1;	/* no response */
	return (int32_t)le32toh(r->status);
}

/* "good" still works end to end: HELLO, ALLOC, FREE. */
static void check_good(struct fakevm *good, const char *after)
{
	struct virtio_vmbuf_alloc a = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					.pool_id = htole32(1), .size = htole64(65536) };
	struct virtio_vmbuf_alloc_resp ar;
	struct virtio_vmbuf_free fr = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_FREE) };
	struct virtio_vmbuf_resp r;
	int32_t s;

	s = call_status(good, &a, sizeof(a), &ar, sizeof(ar));
	fr.buffer_id = ar.buffer_id;
	CHECK(s == 0 && le64toh(ar.size) == 65536 &&
	      call_status(good, &fr, sizeof(fr), &r, sizeof(r)) == 0 && daemon_alive(),
	      "well-behaved VM still served after %s", after);
}

/* Reset "evil" and expect the device to come back to life. */
static void recover(struct fakevm *evil, const char *after)
{
	CHECK(fakevm_setup(evil) == 0 && fakevm_hello(evil, NULL) == 0,
	      "evil VM recovers by reset after %s", after);
}

static void expect_broken(struct fakevm *evil, int32_t want, const char *what)
{
	int32_t err = 0;
	int state = (int)le32toh(evil->cfg->device_state);

	err = (int32_t)le32toh(evil->cfg->device_error);
	CHECK(state == VIRTIO_VMBUF_STATE_BROKEN && err == want, "%s: device broken with %d (got state %d, error %d)",
	      what, want, state, err);
}

/* Queue layouts the device must refuse at DRIVER_OK. */
static void bad_layouts(struct fakevm *evil, struct fakevm *good)
{
	static const struct {
		const char *what;
		unsigned int size;
		uint64_t desc, avail, used;
		unsigned int enable;
	} cases[] = {
		{ "ring size 0", 0, 8192, 16384, 20480, 1 },
		{ "ring size 32768 (over the maximum)", 32768, 8192, 16384, 20480, 1 },
		{ "ring size 3 (not a power of two)", 3, 8192, 16384, 20480, 1 },
		{ "descriptor table in the header page", 64, 0, 16384, 20480, 1 },
		{ "descriptor table past the region", 64, VMBUF_IVSHMEM_CTL_SIZE - 512, 16384, 20480, 1 },
		{ "used ring address overflowing 64 bits", 64, 8192, 16384, UINT64_MAX - 7, 1 },
		{ "misaligned descriptor table", 64, 8200, 16384, 20480, 1 },
		{ "queue not enabled", 64, 8192, 16384, 20480, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int32_t err;
		int state;

		fakevm_set_status(evil, 0, NULL);
		fakevm_queue(evil, 0, cases[i].size, cases[i].desc, cases[i].avail, cases[i].used,
			     cases[i].enable);
		fakevm_queue(evil, 1, 64, 32768, 40960, 45056, 1);
		state = fakevm_set_status(evil, LIVE, &err);
		CHECK(state == VIRTIO_VMBUF_STATE_BROKEN && err == -EINVAL,
		      "%s: refused with EINVAL", cases[i].what);
		check_good(good, cases[i].what);
	}
	recover(evil, "bad layouts");
}

/* Post one chain on the live queue built from @d[0..n) starting at @head and ring. */
static void post(struct fakevm *evil, const struct vring_desc *d, unsigned int n, uint16_t head,
		 uint16_t idx_bump)
{
	for (unsigned int i = 0; i < n; i++)
		evil->desc[i] = d[i];
	evil->avail->ring[evil->avail_idx % evil->num] = htole16(head);
	evil->avail_idx += idx_bump;
	__atomic_store_n(&evil->avail->idx, htole16(evil->avail_idx), __ATOMIC_RELEASE);
	fakevm_ring(evil, VMBUF_IVSHMEM_VEC_CTL);
	fakevm_wait_irq(evil, VMBUF_IVSHMEM_VEC_CONFIG, 2000);
}

static void bad_chains(struct fakevm *evil, struct fakevm *good)
{
	const uint64_t req = 64 * 1024, resp = req + 4096;
	const uint16_t NEXT = htole16(VRING_DESC_F_NEXT), WR = htole16(VRING_DESC_F_WRITE);
	struct {
		const char *what;
		struct vring_desc d[3];
		unsigned int n;
		uint16_t head, bump;
		int32_t err;
	} cases[] = {
		{ "descriptor loop", { { htole64(req), 0, NEXT, htole16(1) },
				       { htole64(req), 0, NEXT, htole16(0) } },
		  2, 0, 1, -ELOOP },
		{ "self-referencing descriptor with a length", { { htole64(req), htole32(16), NEXT, 0 } },
		  1, 0, 1, -E2BIG },
		{ "buffer outside the region", { { htole64(VMBUF_IVSHMEM_CTL_SIZE), htole32(16), 0, 0 } },
		  1, 0, 1, -EFAULT },
		{ "length running past the region", { { htole64(req), htole32(0xffffffff), 0, 0 } },
		  1, 0, 1, -EFAULT },
		{ "buffer in the config page", { { htole64(256), htole32(16), 0, 0 } },
		  1, 0, 1, -EFAULT },
		{ "head index out of range", { { htole64(req), htole32(16), 0, 0 } },
		  1, 200, 1, -ERANGE },
		{ "next index out of range", { { htole64(req), htole32(16), NEXT, htole16(999) } },
		  1, 0, 1, -ERANGE },
		{ "indirect descriptor", { { htole64(req), htole32(16), htole16(VRING_DESC_F_INDIRECT), 0 } },
		  1, 0, 1, -EINVAL },
		{ "readable after writable", { { htole64(resp), htole32(64), NEXT | WR, htole16(1) },
					       { htole64(req), htole32(16), 0, 0 } },
		  2, 0, 1, -EINVAL },
		{ "available index jumps ahead", { { htole64(req), htole32(16), 0, 0 } },
		  1, 0, 1000, -EOVERFLOW },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		recover(evil, "previous case");
		post(evil, cases[i].d, cases[i].n, cases[i].head, cases[i].bump);
		expect_broken(evil, cases[i].err, cases[i].what);
		check_good(good, cases[i].what);
	}
	recover(evil, "bad chains");
}

static void bad_requests(struct fakevm *evil, struct fakevm *good)
{
	uint8_t resp[VIRTIO_VMBUF_MSG_MAX];
	struct virtio_vmbuf_hdr h = { .type = htole32(77) };
	struct virtio_vmbuf_alloc a = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					.pool_id = htole32(1), .size = htole64(4096) };
	struct virtio_vmbuf_free f = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_FREE),
				       .buffer_id = htole64(12345) };
	struct virtio_vmbuf_hello hello = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
					    .version = htole32(99) };
	uint8_t big[2048];

	fakevm_setup(evil);
	CHECK(call_status(evil, &a, sizeof(a), resp, sizeof(resp)) == -EPROTO,
	      "ALLOC before HELLO: EPROTO");
	CHECK(call_status(evil, &hello, sizeof(hello), resp, sizeof(resp)) == -EPROTONOSUPPORT,
	      "HELLO with version 99: EPROTONOSUPPORT");
	CHECK(fakevm_hello(evil, NULL) == 0, "HELLO");
	CHECK(call_status(evil, &h, sizeof(h), resp, sizeof(resp)) == -EOPNOTSUPP,
	      "unknown type: EOPNOTSUPP");
	CHECK(call_status(evil, &h, 4, resp, sizeof(resp)) == -EBADMSG, "4-byte request: EBADMSG");
	CHECK(call_status(evil, &a, sizeof(a) - 8, resp, sizeof(resp)) == -EBADMSG,
	      "truncated ALLOC: EBADMSG");
	h.flags = htole32(1);
	CHECK(call_status(evil, &h, sizeof(h), resp, sizeof(resp)) == -EBADMSG,
	      "non-zero header flags: EBADMSG");
	a.pool_id = htole32(9);
	CHECK(call_status(evil, &a, sizeof(a), resp, sizeof(resp)) == -ENOENT,
	      "ALLOC in a pool that is not ours: ENOENT");
	a.pool_id = htole32(1);
	a.size = 0;
	CHECK(call_status(evil, &a, sizeof(a), resp, sizeof(resp)) == -EINVAL, "ALLOC size 0: EINVAL");
	a.size = htole64(UINT64_MAX);
	CHECK(call_status(evil, &a, sizeof(a), resp, sizeof(resp)) == -EINVAL,
	      "ALLOC size 2^64-1: EINVAL");
	a.size = htole64(1ull << 40);
	CHECK(call_status(evil, &a, sizeof(a), resp, sizeof(resp)) == -ENOMEM,
	      "ALLOC larger than the pool: ENOMEM");
	a.size = htole64(4096);
	a.flags = htole32(1);
	CHECK(call_status(evil, &a, sizeof(a), resp, sizeof(resp)) == -EINVAL,
	      "ALLOC with flags: EINVAL");
	CHECK(call_status(evil, &f, sizeof(f), resp, sizeof(resp)) == -ENOENT,
	      "FREE of an unknown id: ENOENT");
	memset(big, 0, sizeof(big));
	memcpy(big, &hello, sizeof(hello));
	CHECK(call_status(evil, big, sizeof(big), resp, sizeof(resp)) == -EMSGSIZE,
	      "2 KiB request: EMSGSIZE");

	/* good's buffer ids are not evil's to free. */
	{
		struct virtio_vmbuf_alloc ga = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
						 .pool_id = htole32(1), .size = htole64(4096) };
		struct virtio_vmbuf_alloc_resp ar;
		struct virtio_vmbuf_resp r;

		call_status(good, &ga, sizeof(ga), &ar, sizeof(ar));
		f.buffer_id = ar.buffer_id;
		CHECK(call_status(evil, &f, sizeof(f), resp, sizeof(resp)) == -ENOENT,
		      "FREE of another VM's buffer id: ENOENT");
		CHECK(call_status(good, &f, sizeof(f), &r, sizeof(r)) == 0, "owner frees it");
	}
	/* Quota: good has 8M. */
	{
		struct virtio_vmbuf_alloc ga = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
						 .pool_id = htole32(1), .size = htole64(9 << 20) };
		struct virtio_vmbuf_alloc_resp ar;

		CHECK(call_status(good, &ga, sizeof(ga), &ar, sizeof(ar)) == -EDQUOT,
		      "over quota: EDQUOT");
	}
	check_good(good, "bad requests");
}

/* Random bytes everywhere the driver may write, then kicks; bounded and seeded. */
static void garbage(struct fakevm *evil, struct fakevm *good)
{
	unsigned int seed = 1234;

	for (int round = 0; round < 300; round++) {
		fakevm_setup(evil);
		for (size_t i = 4096; i < 80 * 1024; i += 4) {
			uint32_t v = (uint32_t)rand_r(&seed);

			if (round % 3 == 0)
				v &= 0x0003003f;	/* small values: plausible indexes */
			memcpy(evil->map + i, &v, 4);
		}
		fakevm_ring(evil, VMBUF_IVSHMEM_VEC_CTL);
		fakevm_ring(evil, VMBUF_IVSHMEM_VEC_EVENT);
		if (round % 50 == 0)
			fakevm_wait_irq(evil, VMBUF_IVSHMEM_VEC_CONFIG, 200);
	}
	CHECK(daemon_alive(), "daemon alive after 300 rounds of ring garbage");
	recover(evil, "ring garbage");
	check_good(good, "ring garbage");
}

/*
 * A guest looping driver reset and HELLO (a stock guest does it with rmmod and
 * insmod): every line it causes goes through its log rate limit (checked at
 * the end, with the other lines it caused).
 */
static void hello_loop(struct fakevm *evil, struct fakevm *good)
{
	int ok = 0;

	for (int i = 0; i < 200; i++)
		ok += fakevm_setup(evil) == 0 && fakevm_hello(evil, NULL) == 0;
	CHECK(ok == 200, "200 rounds of reset and HELLO answered (%d)", ok);
	check_good(good, "reset and HELLO loop");
}

int main(int argc, char **argv)
{
	struct fakevm evil, good, dup;
	int status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: test_hostile PATH-TO-VMBUFD\n");
		return 2;
	}
	if (fakevm_daemon_start(&vmbufd, argv[1], "[vm evil]\n[vm good]\nquota = 8M\n"
				"[pool p]\nsize = 16M\nmembers = evil good\n") < 0)
		return 1;
	if (fakevm_connect(&good, vmbufd.sockdir, "good") < 0 || fakevm_setup(&good) < 0 ||
	    fakevm_hello(&good, NULL) != 0) {
		printf("not ok - good VM could not connect\n");
		kill(vmbufd.pid, SIGKILL);
		return 1;
	}
	CHECK(fakevm_connect(&evil, vmbufd.sockdir, "evil") == 0, "evil VM connects");
	CHECK(fakevm_connect(&dup, vmbufd.sockdir, "good") < 0, "second connection as 'good' refused");

	bad_layouts(&evil, &good);
	bad_chains(&evil, &good);
	bad_requests(&evil, &good);
	hello_loop(&evil, &good);
	garbage(&evil, &good);

	/* Disconnect mid-stream; the daemon releases and carries on. */
	fakevm_close(&evil);
	usleep(100000);
	check_good(&good, "evil disconnected");
	fakevm_close(&good);

	status = fakevm_daemon_stop(&vmbufd);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "vmbufd exits 0 on SIGTERM (no sanitizer report)");
	{
		/* Hundreds of breaks, resets and HELLOs: the guest must not flood the log. */
		FILE *f = fopen(vmbufd.log, "r");
		char line[512];
		int evil_lines = 0, limited = 0;

		while (f && fgets(line, sizeof(line), f)) {
			evil_lines += strstr(line, "vm 'evil'") != NULL;
			limited += strstr(line, "too many events") != NULL;
		}
		if (f)
			fclose(f);
		CHECK(evil_lines > 0 && evil_lines <= 25 && limited >= 1,
		      "a guest breaking, resetting and greeting in a loop is rate-limited in the "
		      "log (%d lines)",
		      evil_lines);
	}
	return check_done();
}
