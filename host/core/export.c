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

struct export *export_by_handle(struct core *c, const uint8_t *handle)
{
	struct export *e, *found = NULL;

	list_for_each(e, &c->exports, link)
		if (handle_eq(e->handle, handle))
			found = e;
	return found;
}

struct export *export_by_name(struct core *c, const struct pool *p, const char *name)
{
	struct export *e;

	list_for_each(e, &c->exports, link)
		if (e->buf->pool == p && e->name[0] && !strcmp(e->name, name))
			return e;
	return NULL;
}

bool export_allows(const struct export *e, const struct core_vm *vm)
{
	if (vm->is_host)
		return (e->flags & VIRTIO_VMBUF_EXPORT_HOST) || e->buf->owner == vm;
	return (e->flags & VIRTIO_VMBUF_EXPORT_POOL) || e->allowed[vm->slot - 1] ||
	       e->buf->owner == vm;
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
	memcpy(ev.name, e->name, sizeof(ev.name));
	str_to_field(ev.vm, sizeof(ev.vm), e->buf->owner->cfg->name);
	while ((vm = vm_next(c, &i)))
		if (vm != e->buf->owner && vm_in_pool(vm, e->buf->pool) && export_allows(e, vm))
			vm_send_event(vm, &ev);
}

void export_destroy(struct export *e, int32_t error)
{
	timeline_end(e, error);
	export_notify(e, VIRTIO_VMBUF_EVT_REVOKED);
	vm_log_info(e->buf->owner, "export '%s' (%02x%02x...) of vm '%s' revoked", e->name[0] ? e->name : "-",
		 e->handle[0], e->handle[1], e->buf->owner->cfg->name);
	e->buf->export = NULL;
	list_del(&e->link);
	free(e);
}
