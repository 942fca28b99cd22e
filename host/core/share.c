/*
 * share - the sharing requests: EXPORT (a buffer the VM owns becomes an
 * export, see export.c), IMPORT (a reference to another VM's export),
 * RELEASE (drop an import) and REVOKE (the owner ends an export; imports
 * stay valid; on transports that map buffers one at a time their pages go
 * away). Every import holds a reference on the buffer, so memory returns to
 * the pool only when the owner and every importer have let go.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core-internal.h"
#include "log.h"
#include "util.h"

/* A fixed-size name field from a guest: NUL-terminated inside the field, valid or empty. */
static int field_name(const char *field, char *out, bool allow_empty)
{
	size_t n = strnlen(field, VIRTIO_VMBUF_NAME_MAX);

	if (n == VIRTIO_VMBUF_NAME_MAX)
		return -EINVAL;
	memcpy(out, field, n + 1);
	if (n == 0)
		return allow_empty ? 0 : -EINVAL;
	return name_valid(out) ? 0 : -EINVAL;
}

/* Drop import @im of @vm: its mapping, its reference. */
static void share_import_free(struct core_vm *vm, struct import *im)
{
	list_del(&im->link);
	list_del(&im->buf_link);
	hmap_remove(&vm->core->imports_by_id, &im->id_node);
	vm->nimports--;
	if (im->mapped)
		vm_unmap(vm, im->addr, im->buf->size);
	buffer_unref(im->buf);
	free(im);
}

/*
 * REVOKE on transports that map buffers one at a time: the owner's intent is
 * that nobody reaches the pages through this export any more, so existing
 * imports lose their mappings too (they read zeros); the imports themselves,
 * and the memory, stay until each importer releases them.
 */
static void share_unmap_imports(struct buffer *b)
{
	struct import *im;

	list_for_each(im, &b->imports, buf_link) {
		if (!im->mapped)
			continue;
		vm_unmap(im->vm, im->addr, b->size);
		im->mapped = false;
	}
}

void share_vm_gone(struct core_vm *vm)
{
	struct virtio_vmbuf_event ev;
	struct import *im, *tmp;
	unsigned int i = 0;
	struct core_vm *o;

	timeline_vm_gone(vm);
	list_for_each_safe(im, tmp, &vm->imports, link)
		share_import_free(vm, im);
	if (!vm->hello)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = htole32(VIRTIO_VMBUF_EVT_PEER_GONE);
	str_to_field(ev.vm, sizeof(ev.vm), vm->cfg->name);
	while ((o = vm_next(vm->core, &i)))
		if (vm_shares_pool(vm, o))
			vm_send_event(o, &ev);
}

ssize_t share_req_export(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_export *x = req;
	struct virtio_vmbuf_export_resp *r = out;
	struct core *c = vm->core;
	uint32_t flags, naccess;
	char name[VIRTIO_VMBUF_NAME_MAX];
	struct core_vm *allowed[VIRTIO_VMBUF_MAX_ACCESS];
	uint8_t *meta = NULL;
	struct buffer *b;
	struct export *e;

	flags = le32toh(x->flags);
	naccess = le32toh(x->naccess);
	if ((flags & ~VIRTIO_VMBUF_EXPORT_FLAGS) || naccess > VIRTIO_VMBUF_MAX_ACCESS)
		return -EINVAL;
	/* A fast timeline is signalled by whoever may wait on it: say so. */
	if ((flags & VIRTIO_VMBUF_EXPORT_FAST) && !(flags & VIRTIO_VMBUF_EXPORT_SIGNAL))
		return -EINVAL;
	if (field_name(x->name, name, true) < 0)
		return -EINVAL;
	b = buffer_of_vm(vm, le64toh(x->buffer_id));
	if (!b)
		return -ENOENT;
	if (b->export)
		return -EBUSY;
	if (name[0] && export_by_name(c, b->pool, name))
		return -EEXIST;
	for (uint32_t i = 0; i < naccess; i++) {
		char vmname[VIRTIO_VMBUF_NAME_MAX];

		if (field_name(x->access[i], vmname, false) < 0 ||
		    !(allowed[i] = core_vm_by_name(c, vmname)) || allowed[i]->is_host)
			return -EINVAL;
	}
	if (!mem_is_zero(x->meta.reserved, sizeof(x->meta.reserved)))
		return -EINVAL;
	if (!mem_is_zero(&x->meta, EXPORT_META_LEN)) {
		meta = malloc(EXPORT_META_LEN);
		if (!meta)
			return -ENOMEM;
		memcpy(meta, &x->meta, EXPORT_META_LEN);
	}
	e = export_new(b, name, flags);
	if (!e) {
		free(meta);
		return -ENOMEM;
	}
	e->meta = meta;
	for (uint32_t i = 0; i < naccess; i++)
		export_allow(e, allowed[i]);	/* at most VIRTIO_VMBUF_MAX_ACCESS: fits */
	if ((flags & VIRTIO_VMBUF_EXPORT_FAST) && fast_vm_can(vm))
		fast_slot_take(e);
	memcpy(r->handle, e->handle, sizeof(r->handle));
	r->fast_slot = htole16(e->fast_slot);
	r->fast_tag = htole16(e->fast_tag);
	vm_log_info(vm, "vm '%s': exported buffer %llu as '%s' (%02x%02x...)", vm->cfg->name,
		 (unsigned long long)b->id, name[0] ? name : "-", e->handle[0], e->handle[1]);
	export_notify(e, VIRTIO_VMBUF_EVT_OFFERED);
	return sizeof(*r);
}

ssize_t share_req_import(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_import *x = req;
	struct virtio_vmbuf_import_resp *r = out;
	struct core *c = vm->core;
	struct export *e = NULL;
	struct import *im;
	uint32_t flags;
	int err;

	flags = le32toh(x->flags);
	if ((flags & ~VIRTIO_VMBUF_IMPORT_BY_NAME) || x->reserved)
		return -EINVAL;
	if (flags & VIRTIO_VMBUF_IMPORT_BY_NAME) {
		char name[VIRTIO_VMBUF_NAME_MAX];

		if (field_name(x->name, name, false) < 0)
			return -EINVAL;
		/* Names are visible only inside the pools the importer belongs to. */
		for (unsigned int i = 0; !e && i < vm->npools; i++)
			e = export_by_name(c, vm->pools[i], name);
	} else {
		e = export_by_handle(c, x->handle);
	}
	err = export_may_use(vm, e);
	if (err < 0)
		return err;
	if (vm->nimports >= vm->cfg->max_buffers)
		return -ENOSPC;
	im = calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	err = vm_map(vm, e->buf->pool, e->buf->off, e->buf->size, &im->addr);
	if (err < 0) {
		free(im);
		return err;
	}
	im->mapped = true;
	im->id = c->next_import_id++;
	im->vm = vm;
	im->buf = e->buf;
	e->buf->refs++;
	list_add_tail(&vm->imports, &im->link);
	list_add_tail(&e->buf->imports, &im->buf_link);
	hmap_insert(&c->imports_by_id, &im->id_node, hash_u64(&c->key, im->id));
	vm->nimports++;

	r->import_id = htole64(im->id);
	r->offset = htole64(im->addr);
	r->size = htole64(e->buf->size);
	r->pool_id = htole32(e->buf->pool->id);
	if (e->fast_slot && fast_vm_can(vm)) {
		r->fast_slot = htole16(e->fast_slot);
		r->fast_tag = htole16(e->fast_tag);
	}
	memcpy(r->handle, e->handle, sizeof(r->handle));
	str_to_field(r->owner, sizeof(r->owner), e->buf->owner->cfg->name);
	str_to_field(r->name, sizeof(r->name), e->name);
	if (e->meta)
		memcpy(&r->meta, e->meta, EXPORT_META_LEN);
	vm_log_info(vm, "vm '%s': imported '%s' (%02x%02x...) of vm '%s' as import %llu", vm->cfg->name,
		 e->name[0] ? e->name : "-", e->handle[0], e->handle[1], e->buf->owner->cfg->name,
		 (unsigned long long)im->id);
	return sizeof(*r);
}

ssize_t share_req_release(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_release *x = req;
	struct core *c = vm->core;
	uint64_t id = le64toh(x->import_id);
	struct import *im;

	(void)out;
	/* Another VM's import id reads as not found. */
	hmap_for_each_hash(im, &c->imports_by_id, hash_u64(&c->key, id), id_node) {
		if (im->id != id || im->vm != vm)
			continue;
		share_import_free(vm, im);
		return sizeof(struct virtio_vmbuf_resp);
	}
	return -ENOENT;
}

ssize_t share_req_revoke(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_revoke *x = req;
	struct buffer *b;
	struct export *e;

	(void)out;
	e = export_by_handle(vm->core, x->handle);
	if (!e)
		return -ENOENT;
	if (e->buf->owner != vm)
		return -EPERM;
	b = e->buf;
	export_destroy(e, -ECANCELED);
	share_unmap_imports(b);
	return sizeof(struct virtio_vmbuf_resp);
}
