/*
 * test_quota - the quota rule: a buffer's bytes stay charged to the VM that
 * allocated it until the last holder lets go, so importing one's own export
 * and freeing it, or handing buffers to other VMs, never holds more memory
 * than the quota allows (the bypass an independent review found).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
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

static int32_t alloc(const char *vm, uint64_t size, uint64_t *id)
{
	struct virtio_vmbuf_alloc a = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					.pool_id = htole32(1), .size = htole64(size) };
	int32_t s = req(vm, &a, sizeof(a));

	*id = le64toh(((struct virtio_vmbuf_alloc_resp *)resp)->buffer_id);
	return s;
}

static int32_t export_import(const char *owner, uint64_t id, const char *importer,
			     uint64_t *import_id)
{
	struct virtio_vmbuf_export x = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_EXPORT),
					 .buffer_id = htole64(id),
					 .flags = htole32(VIRTIO_VMBUF_EXPORT_POOL) };
	struct virtio_vmbuf_import im = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_IMPORT) };
	int32_t s = req(owner, &x, sizeof(x));

	if (s)
		return s;
	memcpy(im.handle, ((struct virtio_vmbuf_export_resp *)resp)->handle, 16);
	s = req(importer, &im, sizeof(im));
	*import_id = le64toh(((struct virtio_vmbuf_import_resp *)resp)->import_id);
	return s;
}

static int32_t let_go(const char *vm, uint32_t type, uint64_t id)
{
	struct virtio_vmbuf_free f = { .hdr.type = htole32(type), .buffer_id = htole64(id) };

	return req(vm, &f, sizeof(f));
}

static uint64_t used(const char *vm)
{
	char *buf = NULL, *at, key[64];
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	uint64_t v = ~0ull;

	core_status_json(c, out);
	fclose(out);
	snprintf(key, sizeof(key), "{\"name\":\"%s\"", vm);
	at = strstr(buf, key);
	if (at && (at = strstr(at, "\"used\":")))
		v = strtoull(at + 7, NULL, 10);
	free(buf);
	return v;
}

int main(void)
{
	static struct config cfg;
	const char *text = "[vm a]\nquota = 2M\n[vm b]\nquota = 8M\n"
			   "[pool p]\nsize = 16M\nmembers = a b\n";
	uint64_t id, id2, imp, imp2;
	char err[256];

	log_init("test_quota", LOG_ERR);
	CHECK(harness_setup(&cfg, text, err, sizeof(err)) == 0, "setup (%s)", err);
	hello("a");
	hello("b");

	CHECK(alloc("a", 2 << 20, &id) == 0 && used("a") == 2u << 20, "a allocates its 2 MiB quota");
	CHECK(export_import("a", id, "a", &imp) == 0, "a imports its own export");
	CHECK(let_go("a", VIRTIO_VMBUF_REQ_FREE, id) == 0 && used("a") == 2u << 20,
	      "a frees it: the bytes stay charged while a's import holds them");
	CHECK(alloc("a", 1 << 20, &id2) == -EDQUOT, "so a cannot allocate past its quota: EDQUOT");
	CHECK(let_go("a", VIRTIO_VMBUF_REQ_RELEASE, imp) == 0 && used("a") == 0,
	      "a releases the import: the charge ends with the last holder");
	CHECK(alloc("a", 2 << 20, &id) == 0, "a can allocate again");

	CHECK(export_import("a", id, "b", &imp2) == 0 && used("b") == 0,
	      "b imports a's buffer: it is not charged to b");
	CHECK(let_go("a", VIRTIO_VMBUF_REQ_FREE, id) == 0 && used("a") == 2u << 20 &&
	      alloc("a", 4096, &id2) == -EDQUOT,
	      "a frees while b holds it: still a's bytes, a is still full");
	core_vm_disconnect(core_vm_by_name(c, "a"));
	CHECK(used("a") == 2u << 20, "a disconnects: charged until b lets go");
	CHECK(let_go("b", VIRTIO_VMBUF_REQ_RELEASE, imp2) == 0 && used("a") == 0 &&
	      pool_used(core_pool_by_name(c, "p")) == 0, "b releases: charge and memory gone");
	core_free(c);
	return check_done();
}
