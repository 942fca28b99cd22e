/*
 * buffer - ranges of a pool a VM allocated: ALLOC and FREE, and the
 * references that keep a range out of the pool while its owner or any
 * importer holds it.
 *
 * ALLOC checks the VM's pool membership, buffer limit and quota before it
 * takes anything; the range comes zeroed (pool.c zeroes at release). The
 * bytes stay charged to the allocating VM until the last holder lets go
 * (its FREE included): importing one's own export and freeing it cannot
 * hold memory beyond the quota. Buffer
 * ids are looked up only among the requesting VM's own buffers, so another
 * VM's id reads as ENOENT.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core-internal.h"
#include "log.h"

static struct pool *vm_pool(struct core_vm *vm, uint32_t pool_id)
{
	for (unsigned int i = 0; i < vm->npools; i++)
		if (vm->pools[i]->id == pool_id)
			return vm->pools[i];
	return NULL;
}

struct buffer *buffer_of_vm(struct core_vm *vm, uint64_t id)
{
	struct core *c = vm->core;
	struct buffer *b;

	hmap_for_each_hash(b, &c->buffers_by_id, hash_u64(&c->key, id), id_node)
		if (b->id == id && b->owner == vm)
			return b;
	return NULL;
}

void buffer_unref(struct buffer *b)
{
	if (--b->refs)
		return;
	b->charged->used -= b->size;
	hmap_remove(&b->charged->core->buffers_by_id, &b->id_node);
	pool_release(b->pool, b->off, b->size);
	list_del(&b->link);
	free(b);
}

bool core_clean(struct core *c, uint64_t budget)
{
	bool busy = false;

	for (unsigned int i = 0; i < c->npools; i++) {
		struct pool *p = &c->pools[i];
		struct core_vm *vm;
		unsigned int k = 0;

		if (!p->ndirty)
			continue;
		if (pool_clean(p, budget)) {
			for (k = 0; (vm = vm_next(c, &k));)
				if (vm->blocked == p)
					vm_resume(vm);
		}
		busy |= p->ndirty != 0;
	}
	return busy;
}

void buffer_disown(struct core_vm *vm, struct buffer *b, int32_t why)
{
	if (b->export)
		export_destroy(b->export, why);
	list_del(&b->owner_link);
	vm_unmap(vm, b->addr, b->size);
	vm->nbuffers--;
	b->owner = NULL;
	buffer_unref(b);
}

ssize_t buffer_req_alloc(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_alloc *a = req;
	struct virtio_vmbuf_alloc_resp *r = out;
	uint64_t size, off, got;
	struct buffer *b;
	struct pool *p;
	int err;

	size = le64toh(a->size);
	if (a->flags || size == 0)
		return -EINVAL;
	p = vm_pool(vm, le32toh(a->pool_id));
	if (!p)
		return -ENOENT;
	if (vm->nbuffers >= vm->cfg->max_buffers)
		return -ENOSPC;
	if (vm->cfg->quota && (size > vm->cfg->quota || vm->used > vm->cfg->quota - size))
		return -EDQUOT;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	err = pool_alloc(p, size, &off, &got);
	if (err < 0) {
		free(b);
		if (err == -EAGAIN)
			vm->blocked = p;	/* resumed by core_clean() */
		return err;
	}
	if (vm->cfg->quota && vm->used + got > vm->cfg->quota)
		err = -EDQUOT;	/* page rounding took it over the quota */
	else
		err = vm_map(vm, p, off, got, &b->addr);
	if (err < 0) {
		pool_release(p, off, got);
		free(b);
		return err;
	}
	b->id = vm->core->next_buffer_id++;
	b->pool = p;
	b->off = off;
	b->size = got;
	b->owner = vm;
	b->charged = vm;
	b->refs = 1;
	list_init(&b->imports);
	list_add_tail(&vm->core->buffers, &b->link);
	list_add_tail(&vm->buffers, &b->owner_link);
	hmap_insert(&vm->core->buffers_by_id, &b->id_node, hash_u64(&vm->core->key, b->id));
	vm->used += got;
	vm->nbuffers++;
	vm->counters.bytes_allocated += got;
	r->buffer_id = htole64(b->id);
	r->offset = htole64(b->addr);
	r->size = htole64(got);
	log_debug("vm '%s': alloc buffer %llu in '%s' at %llu, %llu bytes", vm->cfg->name,
		  (unsigned long long)b->id, p->name, (unsigned long long)off,
		  (unsigned long long)got);
	return sizeof(*r);
}

ssize_t buffer_req_free(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_free *f = req;
	struct buffer *b;

	(void)out;
	b = buffer_of_vm(vm, le64toh(f->buffer_id));
	if (!b)
		return -ENOENT;
	log_debug("vm '%s': free buffer %llu", vm->cfg->name, (unsigned long long)b->id);
	buffer_disown(vm, b, -ECANCELED);
	return sizeof(struct virtio_vmbuf_resp);
}
