/*
 * test_events - an event flood in one pool must not cost a fence in another
 * (issue: each VM has one event queue; the daemon dropped the oldest event
 * after 256, timeline events included, and a fence then waited for its
 * watchdog).
 *
 * The real vmbufd (argv[1]), two fake VMs in pools p1 and p2. "b" watches
 * point 1 of an export of "a" in p2 and posts no event buffer for a while,
 * as a busy guest would not. "a" makes 200 export and revoke pairs in p1
 * that "b" may import (400 OFFERED and REVOKED events for "b") and signals
 * point 1 in p2 after the first 50. When "b" reads its events at last, the
 * TIMELINE_REACHED for point 1 must be among them, LOST must be flagged
 * (the OFFERED/REVOKED flood overflowed), and repeated signals of one
 * timeline must arrive merged into one event with the newest value.
 * QUERY tells the value without waiting; UNWATCH takes a watch back.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "fakevm.h"
#include "../check.h"

static uint8_t resp[VIRTIO_VMBUF_MSG_MAX];

static int32_t call(struct fakevm *vm, const void *req, size_t len)
{
	memset(resp, 0, sizeof(resp));
	if (fakevm_call(vm, req, len, resp, sizeof(resp)) < (int)sizeof(struct virtio_vmbuf_resp))
		return 1;
	return (int32_t)le32toh(((struct virtio_vmbuf_resp *)resp)->status);
}

static uint64_t alloc(struct fakevm *vm, uint32_t pool)
{
	uint64_t id;

	return fakevm_alloc(vm, pool, 4096, &id) ? 0 : id;
}

/* Export buffer @id to VM "b"; 0 and the handle in @handle. */
static int32_t export_buf(struct fakevm *vm, uint64_t id, uint8_t *handle)
{
	return fakevm_export(vm, id, NULL, "b", handle);
}

static int32_t revoke_export(struct fakevm *vm, const uint8_t *handle)
{
	struct virtio_vmbuf_revoke r = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_REVOKE) };

	memcpy(r.handle, handle, sizeof(r.handle));
	return call(vm, &r, sizeof(r));
}

static int32_t signal_tl(struct fakevm *vm, const uint8_t *handle, uint64_t value, int32_t error)
{
	struct virtio_vmbuf_signal s = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_SIGNAL),
					 .value = htole64(value),
					 .error = htole32((uint32_t)error) };

	memcpy(s.handle, handle, sizeof(s.handle));
	return call(vm, &s, sizeof(s));
}

/* WATCH or UNWATCH (@type) of @value. */
static int32_t watch(struct fakevm *vm, uint32_t type, const uint8_t *handle, uint64_t value)
{
	struct virtio_vmbuf_watch w = { .hdr.type = htole32(type), .value = htole64(value) };

	memcpy(w.handle, handle, sizeof(w.handle));
	return call(vm, &w, sizeof(w));
}

static int32_t query(struct fakevm *vm, const uint8_t *handle, uint64_t *value, int32_t *error)
{
	struct virtio_vmbuf_query q = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_QUERY) };
	const struct virtio_vmbuf_timeline_resp *r = (void *)resp;
	int32_t s;

	memcpy(q.handle, handle, sizeof(q.handle));
	s = call(vm, &q, sizeof(q));
	*value = le64toh(r->value);
	*error = (int32_t)le32toh(r->error);
	return s;
}

/* Read every event waiting for @vm (64 per round); counts what the test looks for. */
struct seen {
	unsigned int total, lost, offered, revoked, timeline;
	uint64_t value;
	int32_t error;
};

static void drain(struct fakevm *vm, const uint8_t *handle, struct seen *s)
{
	struct virtio_vmbuf_event ev[64];
	int n;

	memset(s, 0, sizeof(*s));
	while ((n = fakevm_events(vm, ev, 64, 500)) > 0) {
		for (int i = 0; i < n; i++) {
			s->total++;
			s->lost += !!(le32toh(ev[i].flags) & VIRTIO_VMBUF_EVT_F_LOST);
			switch (le32toh(ev[i].type)) {
			case VIRTIO_VMBUF_EVT_OFFERED:
				s->offered++;
				break;
			case VIRTIO_VMBUF_EVT_REVOKED:
				s->revoked++;
				break;
			case VIRTIO_VMBUF_EVT_TIMELINE_REACHED:
				if (memcmp(ev[i].handle, handle, VIRTIO_VMBUF_HANDLE_SIZE))
					break;
				s->timeline++;
				s->value = le64toh(ev[i].value);
				s->error = (int32_t)le32toh(ev[i].error);
				break;
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct fakevm_daemon d;
	struct fakevm a, b;
	uint8_t h2[VIRTIO_VMBUF_HANDLE_SIZE], h1[VIRTIO_VMBUF_HANDLE_SIZE];
	struct virtio_vmbuf_hello_resp hr;
	uint64_t b1, b2, value;
	struct seen s;
	int32_t error;
	int ok = 0, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: test_events PATH-TO-VMBUFD\n");
		return 2;
	}
	if (fakevm_daemon_start(&d, argv[1], "[vm a]\n[vm b]\n[pool p1]\nsize = 16M\n"
				"members = a b\n[pool p2]\nsize = 16M\nmembers = a b\n") < 0)
		return 1;
	CHECK(fakevm_connect(&a, d.sockdir, "a") == 0 && fakevm_setup(&a) == 0 &&
	      fakevm_hello(&a, NULL) == 0 && fakevm_connect(&b, d.sockdir, "b") == 0 &&
	      fakevm_setup(&b) == 0 && fakevm_hello(&b, &hr) == 0, "two VMs connect");
	CHECK(le64toh(hr.features) & VIRTIO_VMBUF_F_QUERY, "HELLO offers VIRTIO_VMBUF_F_QUERY");

	b2 = alloc(&a, 2);
	CHECK(b2 && export_buf(&a, b2, h2) == 0, "a exports a buffer of p2 to b");
	CHECK(watch(&b, VIRTIO_VMBUF_REQ_WATCH, h2, 1) == 0, "b watches point 1 of it");
	b1 = alloc(&a, 1);
	for (int i = 0; i < 200; i++) {
		ok += export_buf(&a, b1, h1) == 0 && revoke_export(&a, h1) == 0;
		if (i == 50)
			ok += signal_tl(&a, h2, 1, 0) == 0;
	}
	CHECK(ok == 201, "a: 200 export and revoke pairs in p1, a signal in p2 (%d)", ok);
	drain(&b, h2, &s);
	CHECK(s.timeline == 1 && s.value == 1 && s.error == 0,
	      "b: the TIMELINE_REACHED of p2 survived 400 events of p1 (%u seen, value %llu)",
	      s.timeline, (unsigned long long)s.value);
	CHECK(s.lost >= 1 && s.total < 402, "b: the flood overflowed, flagged LOST (%u of %u events)",
	      s.total, 402);

	/*
	 * Signals of one timeline while b does not read: one event, newest value,
	 * first error. (First 32 pairs in p1 fill the 64 buffers b posted.)
	 */
	for (int i = 0; i < 32; i++)
		if (export_buf(&a, b1, h1) == 0)
			revoke_export(&a, h1);
	ok = watch(&b, VIRTIO_VMBUF_REQ_WATCH, h2, 2) == 0;
	ok += signal_tl(&a, h2, 2, -EIO) == 0;
	ok += watch(&b, VIRTIO_VMBUF_REQ_WATCH, h2, 3) == 0;
	ok += signal_tl(&a, h2, 3, 0) == 0;
	ok += watch(&b, VIRTIO_VMBUF_REQ_WATCH, h2, 5) == 0;
	ok += signal_tl(&a, h2, 5, 0) == 0;
	drain(&b, h2, &s);
	CHECK(ok == 6 && s.timeline == 1 && s.value == 5 && s.error == -EIO,
	      "three signals merge into one event: value %llu, error %d (the first one's)",
	      (unsigned long long)s.value, s.error);

	CHECK(query(&b, h2, &value, &error) == 0 && value == 5 && error == 0,
	      "QUERY: the value now, with its error");
	CHECK(watch(&b, VIRTIO_VMBUF_REQ_WATCH, h2, 9) == 0 &&
	      watch(&b, VIRTIO_VMBUF_REQ_UNWATCH, h2, 9) == 0 &&
	      watch(&b, VIRTIO_VMBUF_REQ_UNWATCH, h2, 9) == -ENOENT,
	      "UNWATCH takes one watch back, a second one gets ENOENT");
	signal_tl(&a, h2, 10, 0);
	drain(&b, h2, &s);
	CHECK(s.timeline == 0, "no event for a watch taken back");
	{
		uint8_t bad[VIRTIO_VMBUF_HANDLE_SIZE] = { 1 };

		CHECK(query(&b, bad, &value, &error) == -ENOENT, "QUERY of an unknown handle: ENOENT");
	}
	CHECK(revoke_export(&a, h2) == 0 && query(&b, h2, &value, &error) == -ENOENT,
	      "QUERY after REVOKE: ENOENT");

	fakevm_close(&a);
	fakevm_close(&b);
	status = fakevm_daemon_stop(&d);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "vmbufd exits 0 on SIGTERM");
	return check_done();
}
