/*
 * test_share - export/import semantics straight through core_vm_request():
 * access rules and their errnos, names per pool, reference counting, and
 * the events each step sends (captured through the harness's transport ops);
 * fast-timeline slots (who gets one, what the daemon writes, reuse, running out).
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "pool.h"
#include "../check.h"
#include "core_harness.h"
#include <linux/virtio_vmbuf.h>

static struct {
	struct core_vm *to;
	struct virtio_vmbuf_event ev;
} events[64];
static unsigned int nevents;

static void sink(struct core_vm *vm, const struct virtio_vmbuf_event *ev)
{
	if (nevents < 64) {
		events[nevents].to = vm;
		events[nevents].ev = *ev;
		nevents++;
	}
}

static int got_event(const char *vm, uint32_t type, const char *about)
{
	for (unsigned int i = 0; i < nevents; i++)
		if (events[i].to == core_vm_by_name(c, vm) && le32toh(events[i].ev.type) == type &&
		    !strcmp(events[i].ev.vm, about))
			return 1;
	return 0;
}

static uint64_t alloc(const char *vm, uint32_t pool, uint64_t size)
{
	struct virtio_vmbuf_alloc a = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					.pool_id = htole32(pool), .size = htole64(size) };

	return req(vm, &a, sizeof(a)) ? 0 : le64toh(((struct virtio_vmbuf_alloc_resp *)resp)->buffer_id);
}

static int32_t export(const char *vm, uint64_t id, const char *name, uint32_t flags,
		      const char *to, uint8_t *handle)
{
	static struct virtio_vmbuf_export x;
	int32_t s;

	memset(&x, 0, sizeof(x));
	x.hdr.type = htole32(VIRTIO_VMBUF_REQ_EXPORT);
	x.buffer_id = htole64(id);
	x.flags = htole32(flags);
	strcpy(x.name, name);
	if (to) {
		strcpy(x.access[0], to);
		x.naccess = htole32(1);
	}
	x.meta.width = htole32(640);
	strcpy(x.meta.label, "test");
	s = req(vm, &x, sizeof(x));
	if (!s && handle)
		memcpy(handle, ((struct virtio_vmbuf_export_resp *)resp)->handle, 16);
	return s;
}

static int32_t import(const char *vm, const uint8_t *handle, const char *name, uint64_t *id)
{
	struct virtio_vmbuf_import x = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_IMPORT) };
	struct virtio_vmbuf_import_resp *r = (void *)resp;
	int32_t s;

	if (name) {
		x.flags = htole32(VIRTIO_VMBUF_IMPORT_BY_NAME);
		strcpy(x.name, name);
	} else {
		memcpy(x.handle, handle, 16);
	}
	s = req(vm, &x, sizeof(x));
	if (!s && id)
		*id = le64toh(r->import_id);
	return s;
}

static int32_t simple(const char *vm, uint32_t type, uint64_t id, const uint8_t *handle)
{
	union {
		struct virtio_vmbuf_free f;
		struct virtio_vmbuf_revoke r;
	} u;

	memset(&u, 0, sizeof(u));
	u.f.hdr.type = htole32(type);
	if (handle) {
		memcpy(u.r.handle, handle, 16);
		return req(vm, &u.r, sizeof(u.r));
	}
	u.f.buffer_id = htole64(id);
	return req(vm, &u.f, sizeof(u.f));
}

static uint64_t used(const char *pool)
{
	return pool_used(core_pool_by_name(c, pool));
}

int main(void)
{
	static struct config cfg;
	const char *text = "[vm a]\n[vm b]\n[vm c]\n[vm d]\nmax-buffers = 2\n"
			   "[pool p]\nsize = 8M\nmembers = a b c d\n[pool q]\nsize = 2M\nmembers = a\n"
			   "[pool r]\nsize = 2M\nmembers = d\n"
			   "[vm e]\n[vm f]\n[vm g]\n[pool s]\nsize = 2M\nmembers = e f g\n";
	uint8_t h1[16], h2[16], bogus[16] = { 1, 2, 3 };
	uint64_t b1, b2, i1, i2, i3;
	char err[256];

	log_init("test_share", LOG_ERR);
	CHECK(harness_setup(&cfg, text, err, sizeof(err)) == 0, "setup (%s)", err);
	hello("a");
	hello("b");
	hello("c");
	hello("d");

	b1 = alloc("a", 1, 1 << 20);
	CHECK(b1 && export("a", b1, "cam0", 0, "b", h1) == 0, "a exports cam0 to b");
	CHECK(got_event("b", VIRTIO_VMBUF_EVT_OFFERED, "a") &&
	      !got_event("c", VIRTIO_VMBUF_EVT_OFFERED, "a") &&
	      !got_event("a", VIRTIO_VMBUF_EVT_OFFERED, "a"), "OFFERED reaches b only");
	CHECK(export("a", b1, "again", 0, NULL, NULL) == -EBUSY, "second export: EBUSY");
	CHECK(export("b", b1, "x", 0, NULL, NULL) == -ENOENT, "export of another VM's buffer: ENOENT");
	b2 = alloc("a", 1, 4096);
	CHECK(export("a", b2, "cam0", 0, NULL, NULL) == -EEXIST, "name taken in the pool: EEXIST");
	CHECK(export("a", b2, "bad/name", 0, NULL, NULL) == -EINVAL, "invalid name: EINVAL");
	CHECK(export("a", b2, "x", 0, "nobody", NULL) == -EINVAL, "unknown VM in access list: EINVAL");
	CHECK(export("a", b2, "x", 1u << 7, NULL, NULL) == -EINVAL, "unknown flag: EINVAL");

	CHECK(import("b", NULL, "cam0", &i1) == 0, "b imports by name");
	{
		struct virtio_vmbuf_import_resp *r = (void *)resp;

		CHECK(!strcmp(r->owner, "a") && !strcmp(r->name, "cam0") &&
		      le32toh(r->meta.width) == 640 && !strcmp(r->meta.label, "test") &&
		      !memcmp(r->handle, h1, 16) && le64toh(r->size) == 1 << 20,
		      "import returns owner, name, handle, size and metadata");
	}
	CHECK(import("b", h1, NULL, &i2) == 0, "b imports again by handle");
	CHECK(simple("a", VIRTIO_VMBUF_REQ_RELEASE, i2, NULL) == -ENOENT,
	      "releasing another VM's import id: ENOENT");
	{
		struct virtio_vmbuf_export x = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_EXPORT),
						 .buffer_id = htole64(b2) };

		x.meta.reserved[135] = 1;
		CHECK(req("a", &x, sizeof(x)) == -EINVAL, "metadata with reserved bytes set: EINVAL");
	}
	CHECK(import("c", NULL, "cam0", NULL) == -EACCES, "c by name: EACCES");
	CHECK(import("c", h1, NULL, NULL) == -EACCES, "c by handle: EACCES");
	CHECK(import("b", bogus, NULL, NULL) == -ENOENT, "random handle: ENOENT");
	CHECK(import("b", NULL, "nope", NULL) == -ENOENT, "unknown name: ENOENT");

	/* Handle-only export in pool q (d is not a member). */
	{
		uint64_t bq = alloc("a", 2, 4096);

		CHECK(export("a", bq, "", VIRTIO_VMBUF_EXPORT_POOL, "d", h2) == 0, "handle-only export in q");
		CHECK(import("d", h2, NULL, NULL) == -ENXIO, "d not in q: ENXIO");
		CHECK(import("a", h2, NULL, NULL) == 0 &&
		      ((struct virtio_vmbuf_import_resp *)resp)->name[0] == 0,
		      "a handle-only export imports with an empty name");
		CHECK(simple("a", VIRTIO_VMBUF_REQ_FREE, bq, NULL) == 0, "free it");
	}

	/* Revoke: importers keep the memory, new imports fail. */
	nevents = 0;
	CHECK(simple("b", VIRTIO_VMBUF_REQ_REVOKE, 0, h1) == -EPERM, "b cannot revoke a's export: EPERM");
	CHECK(simple("a", VIRTIO_VMBUF_REQ_REVOKE, 0, h1) == 0, "a revokes");
	CHECK(got_event("b", VIRTIO_VMBUF_EVT_REVOKED, "a"), "b gets REVOKED");
	CHECK(import("b", h1, NULL, NULL) == -ENOENT && import("b", NULL, "cam0", NULL) == -ENOENT,
	      "imports after revoke: ENOENT");
	CHECK(simple("a", VIRTIO_VMBUF_REQ_FREE, b1, NULL) == 0 && used("p") == (1 << 20) + 4096,
	      "owner frees, importers keep the pages");
	CHECK(simple("b", VIRTIO_VMBUF_REQ_RELEASE, i1, NULL) == 0 && used("p") == (1 << 20) + 4096,
	      "first import released, second holds");
	CHECK(simple("b", VIRTIO_VMBUF_REQ_RELEASE, i2, NULL) == 0 && used("p") == 4096,
	      "last import released: pages back");
	CHECK(simple("b", VIRTIO_VMBUF_REQ_RELEASE, i2, NULL) == -ENOENT, "double release: ENOENT");

	/* Import limit (d: max-buffers 2). */
	CHECK(export("a", b2, "small", VIRTIO_VMBUF_EXPORT_POOL, NULL, NULL) == 0, "export to all members");
	CHECK(import("d", NULL, "small", NULL) == 0 && import("d", NULL, "small", NULL) == 0 &&
	      import("d", NULL, "small", NULL) == -ENOSPC, "import limit: ENOSPC");

	/* The owner disconnects: exports revoked, PEER_GONE to pool peers, imports keep pages. */
	CHECK(import("c", NULL, "small", &i3) == 0, "c imports 'small'");
	nevents = 0;
	core_vm_disconnect(core_vm_by_name(c, "a"));
	CHECK(got_event("c", VIRTIO_VMBUF_EVT_PEER_GONE, "a") &&
	      got_event("c", VIRTIO_VMBUF_EVT_REVOKED, "a") && got_event("b", VIRTIO_VMBUF_EVT_PEER_GONE, "a"),
	      "peers get PEER_GONE and REVOKED");
	CHECK(used("p") == 4096 && used("q") == 0, "imported pages survive the owner");
	core_vm_disconnect(core_vm_by_name(c, "d"));
	CHECK(used("p") == 4096, "d's imports gone, c still holds");
	CHECK(simple("c", VIRTIO_VMBUF_REQ_RELEASE, i3, NULL) == 0 && used("p") == 0, "all memory back");

	/* Fast timelines: slots for VMs that map pools whole (e, f), none for g. */
	{
		static const struct core_vm_ops whole = {
			.event = harness_event, .locator_kind = VIRTIO_VMBUF_LOCATOR_IVPOSITION };
		struct virtio_vmbuf_hello hl = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
						 .version = htole32(VIRTIO_VMBUF_VERSION) };
		struct virtio_vmbuf_export_resp *xr = (void *)resp;
		struct virtio_vmbuf_import_resp *ir = (void *)resp;
		uint8_t *page = core_pool_by_name(c, "s")->map;
		struct virtio_vmbuf_fast_slot *slot =
			(void *)(page + VIRTIO_VMBUF_FAST_OFFSET);
		const uint32_t fast = VIRTIO_VMBUF_EXPORT_FAST | VIRTIO_VMBUF_EXPORT_SIGNAL;
		uint8_t hf[16], hn[16];
		uint16_t tag = 0;
		uint64_t bf, bn, ids[VIRTIO_VMBUF_FAST_SLOTS];
		unsigned int n = 0;

		for (const char *v = "ef"; *v; v++) {
			char name[2] = { *v, 0 };

			core_vm_connect(core_vm_by_name(c, name), &whole, core_vm_by_name(c, name));
			req(name, &hl, sizeof(hl));
			CHECK(le64toh(((struct virtio_vmbuf_hello_resp *)resp)->features) &
			      VIRTIO_VMBUF_F_FAST, "HELLO offers fast timelines to %s (maps pools whole)",
			      name);
		}
		hello("g");
		CHECK(!(le64toh(((struct virtio_vmbuf_hello_resp *)resp)->features) &
			VIRTIO_VMBUF_F_FAST), "HELLO offers none to g");

		bf = alloc("e", 4, 4096);
		CHECK(export("e", bf, "ff", VIRTIO_VMBUF_EXPORT_FAST, NULL, NULL) == -EINVAL,
		      "FAST without SIGNAL: EINVAL");
		memset(slot, 0xee, sizeof(*slot));	/* what an earlier user left */
		CHECK(export("e", bf, "ff", fast, "f", hf) == 0 && le16toh(xr->fast_slot) == 1 &&
		      (tag = le16toh(xr->fast_tag)) != 0, "a FAST export gets slot 1 and a tag");
		CHECK(le16toh(slot->tag) == tag && !slot->value && !slot->flags && !slot->waiting[0] &&
		      !slot->waiting[3], "the daemon zeroed the slot and wrote its tag");
		CHECK(import("f", hf, NULL, NULL) == 0 && le16toh(ir->fast_slot) == 1 &&
		      le16toh(ir->fast_tag) == tag, "f's import names the slot and tag");
		bn = alloc("e", 4, 4096);
		CHECK(export("e", bn, "plain", VIRTIO_VMBUF_EXPORT_POOL | VIRTIO_VMBUF_EXPORT_SIGNAL,
			     NULL, hn) == 0 && !xr->fast_slot, "a normal export gets no slot");
		CHECK(import("g", hn, NULL, NULL) == 0, "g imports the normal one");

		bf = alloc("g", 4, 4096);
		CHECK(export("g", bf, "gf", fast, NULL, NULL) == 0 && !xr->fast_slot,
		      "g's FAST export gets no slot (g maps no pool)");
		slot->value = htole64(7);	/* a driver used it */
		CHECK(simple("e", VIRTIO_VMBUF_REQ_REVOKE, 0, hf) == 0 && !slot->tag && !slot->value,
		      "REVOKE zeroes the slot");

		for (n = 0; n < VIRTIO_VMBUF_FAST_SLOTS; n++) {
			char name[8];

			snprintf(name, sizeof(name), "f%u", n);
			ids[n] = alloc("e", 4, 4096);
			if (!ids[n] || export("e", ids[n], name, fast, NULL, NULL) ||
			    !xr->fast_slot)
				break;
		}
		CHECK(n == VIRTIO_VMBUF_FAST_SLOTS && le16toh(slot->tag) != tag,
		      "all %u slots handed out, slot 1 again with a new tag", n);
		bf = alloc("e", 4, 4096);
		CHECK(export("e", bf, "over", fast, NULL, NULL) == 0 && !xr->fast_slot,
		      "no slot left: the export works without one");
		core_vm_disconnect(core_vm_by_name(c, "e"));
		CHECK(!slot[VIRTIO_VMBUF_FAST_SLOTS - 1].tag && !slot->tag,
		      "the owner's exports end with it: their slots are zeroed");
	}
	core_free(c);
	return check_done();
}
