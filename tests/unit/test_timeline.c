/*
 * test_timeline - timeline semantics through core_vm_request(): who may
 * signal, values only grow, WATCH answers at once or later by event, events
 * carry the producer's error, and ending the export wakes every waiter with
 * -ECANCELED (revoke) or -ENODEV (owner gone).
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "../check.h"
#include "core_harness.h"
#include <linux/virtio_vmbuf.h>

static struct {
	struct core_vm *to;
	uint64_t value;
	int32_t error;
} evs[64];
static unsigned int nevs;

static void sink(struct core_vm *vm, const struct virtio_vmbuf_event *ev)
{
	if (le32toh(ev->type) == VIRTIO_VMBUF_EVT_TIMELINE_REACHED && nevs < 64) {
		evs[nevs].to = vm;
		evs[nevs].value = le64toh(ev->value);
		evs[nevs].error = (int32_t)le32toh(ev->error);
		nevs++;
	}
}

/* a allocates and exports a page to b with @flags; returns the handle. */
static void export(uint32_t flags, uint8_t *handle, uint64_t *id)
{
	static struct virtio_vmbuf_export x;
	struct virtio_vmbuf_alloc a = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					.pool_id = htole32(1), .size = htole64(4096) };

	req("a", &a, sizeof(a));
	*id = le64toh(((struct virtio_vmbuf_alloc_resp *)resp)->buffer_id);
	memset(&x, 0, sizeof(x));
	x.hdr.type = htole32(VIRTIO_VMBUF_REQ_EXPORT);
	x.buffer_id = htole64(*id);
	x.flags = htole32(flags);
	x.naccess = htole32(1);
	strcpy(x.access[0], "b");
	req("a", &x, sizeof(x));
	memcpy(handle, ((struct virtio_vmbuf_export_resp *)resp)->handle, 16);
}

static int32_t sig(const char *vm, const uint8_t *h, uint64_t v, int32_t err)
{
	struct virtio_vmbuf_signal s = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_SIGNAL),
					 .value = htole64(v), .error = htole32((uint32_t)err) };

	memcpy(s.handle, h, 16);
	return req(vm, &s, sizeof(s));
}

/* Returns the status; *reached set from the response. */
static int32_t watch(const char *vm, const uint8_t *h, uint64_t v, int *reached)
{
	struct virtio_vmbuf_watch w = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_WATCH),
					.value = htole64(v) };
	int32_t s;

	memcpy(w.handle, h, 16);
	s = req(vm, &w, sizeof(w));
	if (reached)
		*reached = le32toh(((struct virtio_vmbuf_timeline_resp *)resp)->reached);
	return s;
}

int main(void)
{
	static struct config cfg;
	const char *text = "[vmbufd]\nfence-timeout-ms = 5000\n[vm a]\n[vm b]\nmax-waiters = 3\n"
			   "fence-timeout-ms = 700\n[vm c]\n[pool p]\nsize = 4M\nmembers = a b c\n";
	uint8_t h[16], h2[16];
	uint64_t id, id2;
	int reached;
	char err[256];

	log_init("test_timeline", LOG_ERR);
	CHECK(harness_setup(&cfg, text, err, sizeof(err)) == 0, "setup (%s)", err);
	hello("a");
	hello("c");
	{
		struct virtio_vmbuf_hello hl = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
						 .version = htole32(VIRTIO_VMBUF_VERSION) };

		core_vm_connect(core_vm_by_name(c, "b"), &harness_ops, core_vm_by_name(c, "b"));
		req("b", &hl, sizeof(hl));
		CHECK(le32toh(((struct virtio_vmbuf_hello_resp *)resp)->fence_timeout_ms) == 700,
		      "HELLO: a VM's fence timeout may be lower than the daemon's");
	}
	export(0, h, &id);

	CHECK(watch("b", h, 2, &reached) == 0 && !reached, "b watches 2: pending");
	CHECK(watch("b", h, 1, &reached) == 0 && !reached, "b watches 1: pending");
	CHECK(sig("b", h, 1, 0) == -EACCES, "b may not signal without EXPORT_SIGNAL: EACCES");
	CHECK(sig("c", h, 1, 0) == -EACCES, "c (not allowed) may not signal: EACCES");
	CHECK(watch("c", h, 1, NULL) == -EACCES, "c may not watch: EACCES");
	CHECK(sig("a", h, 1, 0) == 0 && nevs == 1 && evs[0].value == 1 && evs[0].to ==
	      core_vm_by_name(c, "b"), "a signals 1: one event to b");
	CHECK(sig("a", h, 1, 0) == -EINVAL && sig("a", h, 0, 0) == -EINVAL,
	      "equal or lower value: EINVAL");
	CHECK(sig("a", h, 5, -5) == 0 && nevs == 2 && evs[1].value == 5 && evs[1].error == -5,
	      "a signals 5 with EIO: b's remaining waiter hears value 5 and the error");
	CHECK(watch("b", h, 4, &reached) == 0 && reached &&
	      (int32_t)le32toh(((struct virtio_vmbuf_timeline_resp *)resp)->error) == -5,
	      "watch below the value: reached at once, with the error");
	CHECK(sig("a", h, 6, 1) == -EINVAL, "positive error: EINVAL");
	CHECK(watch("b", h, 7, NULL) == 0 && watch("b", h, 8, NULL) == 0 &&
	      watch("b", h, 9, NULL) == 0 && watch("b", h, 10, NULL) == -ENOSPC,
	      "max-waiters: ENOSPC");

	/* Revoke: every waiter hears -ECANCELED, once per VM. */
	nevs = 0;
	{
		struct virtio_vmbuf_revoke r = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_REVOKE) };

		memcpy(r.handle, h, 16);
		CHECK(req("a", &r, sizeof(r)) == 0 && nevs == 1 && evs[0].error == -ECANCELED &&
		      evs[0].value == UINT64_MAX, "revoke: one TIMELINE_REACHED with ECANCELED");
	}
	CHECK(watch("b", h, 11, NULL) == -ENOENT, "watch after revoke: ENOENT");

	/* Importers may signal when allowed; the owner dying ends the timeline with ENODEV. */
	export(VIRTIO_VMBUF_EXPORT_SIGNAL, h2, &id2);
	CHECK(sig("b", h2, 1, 0) == 0, "b signals with EXPORT_SIGNAL");
	CHECK(watch("b", h2, 3, NULL) == 0, "b waits for 3");
	nevs = 0;
	core_vm_disconnect(core_vm_by_name(c, "a"));
	CHECK(nevs == 1 && evs[0].error == -ENODEV && evs[0].to == core_vm_by_name(c, "b"),
	      "owner gone: waiter hears ENODEV");
	core_free(c);
	return check_done();
}
