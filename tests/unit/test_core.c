/* test_core - request semantics straight through core_vm_request(). */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"
#include "log.h"
#include "../check.h"
#include <linux/virtio_vmbuf.h>

static struct core_vm *vm;
static uint8_t resp[VIRTIO_VMBUF_MSG_MAX];

static int32_t req(const void *r, size_t len)
{
	size_t n = core_vm_request(vm, r, len, resp, sizeof(resp));

	if (n < sizeof(struct virtio_vmbuf_resp) || n > sizeof(resp))
		return 1000;
	return (int32_t)le32toh(((struct virtio_vmbuf_resp *)resp)->status);
}

static int32_t alloc(uint32_t pool, uint64_t size, uint64_t *id, uint64_t *off)
{
	struct virtio_vmbuf_alloc a = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					.pool_id = htole32(pool), .size = htole64(size) };
	struct virtio_vmbuf_alloc_resp *r = (void *)resp;
	int32_t s = req(&a, sizeof(a));

	*id = le64toh(r->buffer_id);
	*off = le64toh(r->offset);
	return s;
}

/* A transport whose locator is recognisable: the pool id plus 0x1000. */
static uint64_t locate(void *opaque, const struct pool *p)
{
	(void)opaque;
	return 0x1000 + p->id;
}

static const struct core_vm_ops ops = {
	.locator_kind = VIRTIO_VMBUF_LOCATOR_IVPOSITION,
	.locate = locate,
};

static unsigned int resumed;

static void resume(void *opaque)
{
	(void)opaque;
	resumed++;
}

/* A transport that hands in waiting requests again, for VM z. */
static const struct core_vm_ops resume_ops = { .resume = resume };

static int32_t free_buf(uint64_t id)
{
	struct virtio_vmbuf_free f = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_FREE),
				       .buffer_id = htole64(id) };

	return req(&f, sizeof(f));
}

int main(void)
{
	static struct config cfg;
	struct virtio_vmbuf_hello h = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
					.hdr.id = htole64(42),
					.version = htole32(VIRTIO_VMBUF_VERSION) };
	struct virtio_vmbuf_hello_resp *hr = (void *)resp;
	struct core *c;
	struct pool *p;
	uint64_t id, off, id2, off2;
	char err[256];
	FILE *f;
	const char *text = "[vm a]\nquota = 4M\nmax-buffers = 3\n[vm b]\n[vm z]\n"
			   "[pool p]\nsize = 8M\nmembers = a b\n[pool q]\nsize = 2M\nmembers = b\n"
			   "reclaim = yes\n[pool z]\nsize = 64M\nmembers = z\n";

	log_init("test_core", LOG_ERR);
	config_init(&cfg);
	f = fmemopen((void *)text, strlen(text), "r");
	CHECK(config_parse(&cfg, f, "t", err, sizeof(err)) == 0, "config (%s)", err);
	fclose(f);
	CHECK(core_new(&c, &cfg) == 0, "core_new");
	vm = core_vm_by_name(c, "a");
	p = core_pool_by_name(c, "p");
	CHECK(vm && p && core_vm_connect(vm, &ops, NULL) == 0 &&
	      core_vm_connect(vm, &ops, NULL) == -EBUSY,
	      "connect once, second connect EBUSY");

	CHECK(alloc(1, 4096, &id, &off) == -EPROTO, "ALLOC before HELLO: EPROTO");
	CHECK(req(&h, sizeof(h)) == 0 && le64toh(hr->resp.id) == 42, "HELLO echoes the id");
	CHECK(le32toh(hr->npools) == 1 && !strcmp(hr->pools[0].name, "p") &&
	      le64toh(hr->pools[0].locator) == 0x1001 &&
	      le32toh(hr->locator_kind) == VIRTIO_VMBUF_LOCATOR_IVPOSITION &&
	      le32toh(hr->pools[0].data_offset) == VIRTIO_VMBUF_POOL_DATA_OFFSET &&
	      le64toh(hr->quota_bytes) == 4 << 20 && !strcmp(hr->vm_name, "a"),
	      "HELLO lists only a's pool, the transport's locator for it, and the quota");

	CHECK(alloc(2, 4096, &id, &off) == -ENOENT, "pool q is not a's: ENOENT");
	CHECK(alloc(1, 100, &id, &off) == 0 && off >= 4096 && off % 4096 == 0, "ALLOC 100 bytes");
	CHECK(le64toh(((struct virtio_vmbuf_alloc_resp *)resp)->size) == 4096, "rounded up to a page");
	memset(p->map + off, 0xab, 4096);
	CHECK(free_buf(id) == 0, "FREE");
	CHECK(free_buf(id) == -ENOENT, "double FREE: ENOENT");
	CHECK(p->map[off] == 0xab && pool_used(p) == 0 && p->dirty_bytes == 4096,
	      "a freed range waits for zeroing, out of the allocator");
	CHECK(!core_clean(c, POOL_CLEAN_STEP) && p->map[off] == 0 && p->dirty_bytes == 0,
	      "zeroed by the next clean step");
	CHECK(alloc(1, 4096, &id, &off2) == 0 && off2 == off && p->map[off] == 0 &&
	      p->map[off + 4095] == 0, "reused range reads as zero");
	CHECK(alloc(1, 5 << 20, &id2, &off) == -EDQUOT, "over quota: EDQUOT");
	CHECK(alloc(1, 4096, &id2, &off) == 0 && alloc(1, 4096, &id2, &off) == 0 &&
	      alloc(1, 4096, &id2, &off) == -ENOSPC, "max-buffers: ENOSPC");
	CHECK(pool_used(p) == 3 * 4096, "pool usage counts a's buffers");
	core_vm_disconnect(vm);
	CHECK(pool_used(p) == 0 && p->nbuffers == 0, "disconnect releases everything");
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);

		core_status_json(c, out);
		fclose(out);
		CHECK(strstr(buf, "\"name\":\"p\"") && strstr(buf, "\"used\":0") &&
		      strstr(buf, "\"connected\":false"), "status JSON");
		free(buf);
	}
	/* Zeroing keeps pages resident by default; reclaim gives them back to the host. */
	{
		struct pool *q = core_pool_by_name(c, "q");
		uint64_t o, sz;
		struct stat st0, st1;

		CHECK(!p->reclaim && q->reclaim, "reclaim from the config");
		pool_alloc(p, 1 << 20, &o, &sz);
		memset(p->map + o, 7, sz);
		fstat(p->memfd, &st0);
		pool_release(p, o, sz);
		pool_clean(p, UINT64_MAX);
		fstat(p->memfd, &st1);
		CHECK(st1.st_blocks == st0.st_blocks && p->map[o] == 0 && p->map[o + sz - 1] == 0,
		      "default: freed range zeroed, pages stay resident");
		pool_alloc(q, 1 << 20, &o, &sz);
		memset(q->map + o, 7, sz);
		fstat(q->memfd, &st0);
		pool_release(q, o, sz);
		pool_clean(q, UINT64_MAX);
		fstat(q->memfd, &st1);
		CHECK(st1.st_blocks + (1 << 20) / 512 <= st0.st_blocks && q->map[o] == 0,
		      "reclaim: freed range punched out (reads zero, pages returned)");
	}
	/* An ALLOC that only memory still being zeroed could satisfy waits for it. */
	{
		struct pool *z = core_pool_by_name(c, "z");
		uint64_t big = (62u << 20), zid, zoff;
		unsigned int steps = 0;

		vm = core_vm_by_name(c, "z");
		core_vm_connect(vm, &resume_ops, NULL);
		req(&h, sizeof(h));
		CHECK(alloc(3, big, &zid, &zoff) == 0 && free_buf(zid) == 0 &&
		      !core_clean(c, POOL_CLEAN_STEP),
		      "62 MiB never touched (holes in the memfd) are clean after one step");
		CHECK(alloc(3, big, &zid, &zoff) == 0, "z: ALLOC 62 MiB of 64");
		memset(z->map + zoff, 0x5a, big);
		CHECK(free_buf(zid) == 0 && z->dirty_bytes == big, "FREE is queued for zeroing");
		CHECK(core_vm_request(vm, &(struct virtio_vmbuf_alloc){
				.hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC), .pool_id = htole32(3),
				.size = htole64(big) }, sizeof(struct virtio_vmbuf_alloc), resp,
				sizeof(resp)) == 0 && resumed == 0,
		      "ALLOC that needs dirty memory waits (length 0, nothing changed)");
		while (core_clean(c, POOL_CLEAN_STEP))
			steps++;
		CHECK(steps >= 30 && resumed == 1,
		      "62 MiB are zeroed in %u steps of at most 2 MiB, then the VM is resumed once",
		      steps);
		CHECK(alloc(3, big, &zid, &zoff) == 0 && z->map[zoff] == 0 &&
		      z->map[zoff + big - 1] == 0 && z->map[zoff + big / 2] == 0,
		      "handed in again, the ALLOC gets zeroed memory");
		core_vm_disconnect(vm);
	}
	core_free(c);
	return check_done();
}
