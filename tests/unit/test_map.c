/*
 * test_map - the core on a transport that maps buffers into a VM one at a
 * time (core_vm_ops.map/unmap, as the vhost-user transport's shared memory
 * region does): ALLOC and IMPORT answer with the transport's address, every
 * mapping is taken away exactly once (FREE, RELEASE, REVOKE for importers,
 * disconnection), and a failed map fails its request and keeps nothing.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "../check.h"
#include "core_harness.h"
#include <linux/virtio_vmbuf.h>

static void sink(struct core_vm *vm, const struct virtio_vmbuf_event *ev)
{
	(void)vm;
	(void)ev;
}

/* Each VM's mappings: addr -> size, addresses handed out from 0x10000 up. */
static struct mapping {
	struct core_vm *vm;
	uint64_t addr, size;
	int live;
} maps[32];
static unsigned int nmaps;
static int fail_next;

static int test_map(void *opaque, const struct pool *p, uint64_t off, uint64_t size, uint64_t *addr)
{
	(void)p;
	(void)off;
	if (fail_next) {
		fail_next = 0;
		return -ENOSPC;
	}
	maps[nmaps] = (struct mapping){ opaque, 0x10000 * (nmaps + 1), size, 1 };
	*addr = maps[nmaps++].addr;
	return 0;
}

static int unmapped_twice;

static void test_unmap(void *opaque, uint64_t addr, uint64_t size)
{
	for (unsigned int i = 0; i < nmaps; i++)
		if (maps[i].vm == opaque && maps[i].addr == addr && maps[i].size == size) {
			unmapped_twice += !maps[i].live;
			maps[i].live = 0;
			return;
		}
	unmapped_twice++;	/* never mapped: as bad */
}

static const struct core_vm_ops map_ops = {
	.event = harness_event,
	.map = test_map,
	.unmap = test_unmap,
};

static unsigned int live_maps(const char *vm)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nmaps; i++)
		n += maps[i].live && maps[i].vm == core_vm_by_name(c, vm);
	return n;
}

static void connect(const char *vm)
{
	struct virtio_vmbuf_hello h = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
					.version = htole32(VIRTIO_VMBUF_VERSION) };
	struct core_vm *v = core_vm_by_name(c, vm);

	core_vm_connect(v, &map_ops, v);
	req(vm, &h, sizeof(h));
}

int main(void)
{
	static struct config cfg;
	const char *text = "[vm a]\n[vm b]\n[pool p]\nsize = 4M\nmembers = a b\n";
	struct virtio_vmbuf_alloc al = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					 .pool_id = htole32(1), .size = htole64(8192) };
	struct virtio_vmbuf_export ex = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_EXPORT),
					  .flags = htole32(VIRTIO_VMBUF_EXPORT_POOL) };
	struct virtio_vmbuf_import im = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_IMPORT) };
	struct virtio_vmbuf_revoke rv = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_REVOKE) };
	struct virtio_vmbuf_release rl = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_RELEASE) };
	struct virtio_vmbuf_free fr = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_FREE) };
	uint64_t buf, addr, imp, imp2;
	char err[256];

	log_init("test_map", LOG_ERR);
	CHECK(harness_setup(&cfg, text, err, sizeof(err)) == 0, "setup (%s)", err);
	connect("a");
	connect("b");

	CHECK(req("a", &al, sizeof(al)) == 0, "ALLOC on a mapping transport");
	buf = le64toh(((struct virtio_vmbuf_alloc_resp *)resp)->buffer_id);
	addr = le64toh(((struct virtio_vmbuf_alloc_resp *)resp)->offset);
	CHECK(addr == 0x10000 && live_maps("a") == 1 && maps[0].size == 8192,
	      "ALLOC answers with the transport's address, the whole buffer mapped");

	fail_next = 1;
	CHECK(req("a", &al, sizeof(al)) == -ENOSPC && live_maps("a") == 1 &&
	      pool_used(core_pool_by_name(c, "p")) == 8192,
	      "a map that fails fails ALLOC with its errno; nothing kept");

	ex.buffer_id = htole64(buf);
	CHECK(req("a", &ex, sizeof(ex)) == 0, "export to the pool");
	memcpy(im.handle, ((struct virtio_vmbuf_export_resp *)resp)->handle, 16);
	memcpy(rv.handle, im.handle, 16);
	CHECK(req("b", &im, sizeof(im)) == 0 && live_maps("b") == 1, "IMPORT maps into the importer");
	imp = le64toh(((struct virtio_vmbuf_import_resp *)resp)->import_id);
	CHECK(le64toh(((struct virtio_vmbuf_import_resp *)resp)->offset) == maps[1].addr,
	      "IMPORT answers with the importer's address");
	CHECK(req("b", &im, sizeof(im)) == 0 && live_maps("b") == 2, "a second import: a second mapping");
	imp2 = le64toh(((struct virtio_vmbuf_import_resp *)resp)->import_id);
	rl.import_id = htole64(imp2);
	CHECK(req("b", &rl, sizeof(rl)) == 0 && live_maps("b") == 1, "RELEASE unmaps that import");

	CHECK(req("a", &rv, sizeof(rv)) == 0 && live_maps("b") == 0 && live_maps("a") == 1,
	      "REVOKE takes the pages from importers, not from the owner");
	rl.import_id = htole64(imp);
	CHECK(req("b", &rl, sizeof(rl)) == 0 && !unmapped_twice,
	      "RELEASE after REVOKE: no second unmap");
	CHECK(pool_used(core_pool_by_name(c, "p")) == 8192, "the owner still holds the memory");

	fr.buffer_id = htole64(buf);
	CHECK(req("a", &fr, sizeof(fr)) == 0 && live_maps("a") == 0, "FREE unmaps the owner's mapping");

	CHECK(req("a", &al, sizeof(al)) == 0 && live_maps("a") == 1, "allocate again");
	core_vm_disconnect(core_vm_by_name(c, "a"));
	CHECK(live_maps("a") == 0 && !unmapped_twice && pool_used(core_pool_by_name(c, "p")) == 0,
	      "disconnection unmaps everything, once");
	core_free(c);
	return check_done();
}
