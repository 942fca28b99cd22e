/*
 * export - exports: a buffer made importable by other VMs and host clients,
 * by its handle (128 random bits, a capability) or by its name (unique
 * among the live exports of its pool, visible only inside that pool).
 *
 * Access: an importer must be a member of the buffer's pool (-ENXIO
 * otherwise) and allowed by the export: named in its access list, or every
 * pool member with VIRTIO_VMBUF_EXPORT_POOL, or host clients with
 * VIRTIO_VMBUF_EXPORT_HOST (-EACCES otherwise). The owner always is.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core-internal.h"
#include "log.h"
#include "util.h"

/* Constant-time comparison: handles are secrets. */
static bool handle_eq(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (unsigned int i = 0; i < VIRTIO_VMBUF_HANDLE_SIZE; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static uint64_t handle_hash(const struct core *c, const uint8_t *handle)
{
	return hash_bytes(&c->key, handle, VIRTIO_VMBUF_HANDLE_SIZE);
}

/* Names are unique per pool: the key is the pool id and the name. */
static uint64_t name_hash(const struct core *c, const struct pool *p, const char *name)
{
	uint8_t key[sizeof(uint32_t) + VIRTIO_VMBUF_NAME_MAX];
	size_t n = strnlen(name, VIRTIO_VMBUF_NAME_MAX);

	memcpy(key, &p->id, sizeof(uint32_t));
	memcpy(key + sizeof(uint32_t), name, n);
	return hash_bytes(&c->key, key, sizeof(uint32_t) + n);
}

struct export *export_by_handle(struct core *c, const uint8_t *handle)
{
	struct export *e;

	hmap_for_each_hash(e, &c->exports_by_handle, handle_hash(c, handle), handle_node)
		if (handle_eq(e->handle, handle))
			return e;
	return NULL;
}

struct export *export_by_name(struct core *c, const struct pool *p, const char *name)
{
	struct export *e;

	hmap_for_each_hash(e, &c->exports_by_name, name_hash(c, p, name), name_node)
		if (e->buf->pool == p && !strcmp(e->name, name))
			return e;
	return NULL;
}

struct export *export_new(struct buffer *b, const char *name, uint32_t flags)
{
	struct core *c = b->owner->core;
	size_t len = strlen(name) + 1;
	struct export *e = calloc(1, sizeof(*e) + len);

	if (!e)
		return NULL;
	/* 128 random bits: a collision is as likely as guessing one, but cheap to rule out. */
	do {
		if (getrandom(e->handle, sizeof(e->handle), 0) != sizeof(e->handle)) {
			free(e);
			return NULL;
		}
	} while (export_by_handle(c, e->handle));
	memcpy(e->name, name, len);
	list_init(&e->waiters);
	e->flags = flags;
	e->buf = b;
	b->export = e;
	hmap_insert(&c->exports_by_handle, &e->handle_node, handle_hash(c, e->handle));
	if (name[0])
		hmap_insert(&c->exports_by_name, &e->name_node, name_hash(c, b->pool, name));
	return e;
}

int export_allow(struct export *e, const struct core_vm *vm)
{
	for (unsigned int i = 0; i < VIRTIO_VMBUF_MAX_ACCESS; i++) {
		if (e->access[i] == vm->slot)
			return 0;
		if (!e->access[i]) {
			e->access[i] = (uint8_t)vm->slot;
			return 0;
		}
	}
	return -ENOSPC;
}

void export_forget_slot(struct export *e, unsigned int slot)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < VIRTIO_VMBUF_MAX_ACCESS; i++)
		if (e->access[i] && e->access[i] != slot)
			e->access[k++] = e->access[i];
	while (k < VIRTIO_VMBUF_MAX_ACCESS)
		e->access[k++] = 0;
}

bool export_allows(const struct export *e, const struct core_vm *vm)
{
	if (vm->is_host)
		return (e->flags & VIRTIO_VMBUF_EXPORT_HOST) || e->buf->owner == vm;
	if ((e->flags & VIRTIO_VMBUF_EXPORT_POOL) || e->buf->owner == vm)
		return true;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_MAX_ACCESS && e->access[i]; i++)
		if (e->access[i] == vm->slot)
			return true;
	return false;
}

int export_may_use(const struct core_vm *vm, const struct export *e)
{
	if (!e)
		return -ENOENT;
	if (!vm_in_pool(vm, e->buf->pool))
		return -ENXIO;
	if (!export_allows(e, vm))
		return -EACCES;
	return 0;
}

void export_notify(struct export *e, uint32_t type)
{
	struct core *c = e->buf->owner->core;
	struct virtio_vmbuf_event ev;
	unsigned int i = 0;
	struct core_vm *vm;

	memset(&ev, 0, sizeof(ev));
	ev.type = htole32(type);
	memcpy(ev.handle, e->handle, sizeof(ev.handle));
	ev.pool_id = htole32(e->buf->pool->id);
	ev.value = htole64(e->buf->size);
	str_to_field(ev.name, sizeof(ev.name), e->name);
	str_to_field(ev.vm, sizeof(ev.vm), e->buf->owner->cfg->name);
	while ((vm = vm_next(c, &i)))
		if (vm != e->buf->owner && vm_in_pool(vm, e->buf->pool) && export_allows(e, vm))
			vm_send_event(vm, &ev);
}

void export_destroy(struct export *e, int32_t error)
{
	struct core *c = e->buf->owner->core;

	timeline_end(e, error);
	export_notify(e, VIRTIO_VMBUF_EVT_REVOKED);
	vm_log_info(e->buf->owner, "export '%s' (%02x%02x...) of vm '%s' revoked", e->name[0] ? e->name : "-",
		 e->handle[0], e->handle[1], e->buf->owner->cfg->name);
	fast_slot_give(e);
	e->buf->export = NULL;
	hmap_remove(&c->exports_by_handle, &e->handle_node);
	if (e->name[0])
		hmap_remove(&c->exports_by_name, &e->name_node);
	free(e->meta);
	free(e);
}
