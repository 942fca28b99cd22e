/*
 * share - exports, imports and the events they cause.
 *
 * An export turns a buffer into something other VMs (and later host
 * clients) can import: by its handle (128 random bits, a capability) or by
 * its name (unique among the live exports of its pool, visible only inside
 * that pool). The importer is the VM whose socket the request came through;
 * it must be a member of the buffer's pool (-ENXIO otherwise) and allowed by
 * the export (-EACCES otherwise). Every import holds a reference on the
 * buffer, so memory returns to the pool only when the owner and every
 * importer have let go.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

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

struct export *share_export_by_handle(struct core *c, const uint8_t *handle)
{
	struct export *e, *found = NULL;

	list_for_each(e, &c->exports, link)
		if (handle_eq(e->handle, handle))
			found = e;
	return found;
}

static struct export *export_by_name(struct core *c, const struct pool *p, const char *name)
{
	struct export *e;

	list_for_each(e, &c->exports, link)
		if (e->buf->pool == p && e->name[0] && !strcmp(e->name, name))
			return e;
	return NULL;
}

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

static bool share_export_allows(const struct export *e, const struct core_vm *vm)
{
	if (vm->is_host)
		return (e->flags & VIRTIO_VMBUF_EXPORT_HOST) || e->buf->owner == vm;
	return (e->flags & VIRTIO_VMBUF_EXPORT_POOL) || e->allowed[vm->slot - 1] ||
	       e->buf->owner == vm;
}

int share_may_use(const struct core_vm *vm, const struct export *e)
{
	if (!e)
		return -ENOENT;
	if (!core_vm_in_pool(vm, e->buf->pool))
		return -ENXIO;
	if (!share_export_allows(e, vm))
		return -EACCES;
	return 0;
}

static void event_fill(struct virtio_vmbuf_event *ev, uint32_t type, const struct export *e)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = htole32(type);
	if (!e)
		return;
	memcpy(ev->handle, e->handle, sizeof(ev->handle));
	ev->pool_id = htole32(e->buf->pool->id);
	ev->value = htole64(e->buf->size);
	memcpy(ev->name, e->name, sizeof(ev->name));
	if (e->buf->owner)
		str_to_field(ev->vm, sizeof(ev->vm), e->buf->owner->cfg->name);
}

/* Tell every other VM the export allows (and that is in its pool). */
static void export_notify(struct core *c, const struct export *e, uint32_t type)
{
	struct virtio_vmbuf_event ev;

	unsigned int i = 0;
	struct core_vm *vm;

	event_fill(&ev, type, e);
	while ((vm = core_vm_next(c, &i))) {
		if (vm != e->buf->owner && core_vm_in_pool(vm, e->buf->pool) &&
		    share_export_allows(e, vm))
			core_send_event(vm, &ev);
	}
}

static void export_destroy(struct export *e, int32_t error)
{
	timeline_end(e, error);
	export_notify(e->buf->owner->core, e, VIRTIO_VMBUF_EVT_REVOKED);
	log_info("export '%s' (%02x%02x...) of vm '%s' revoked", e->name[0] ? e->name : "-",
		 e->handle[0], e->handle[1], e->buf->owner->cfg->name);
	e->buf->export = NULL;
	list_del(&e->link);
	free(e);
}

void share_buffer_unref(struct buffer *b)
{
	int r;

	if (--b->refs)
		return;
	r = pool_release(b->pool, b->off, b->size);
	if (r < 0)
		log_err("pool '%s': releasing [%llu, +%llu) failed: %s", b->pool->name,
			(unsigned long long)b->off, (unsigned long long)b->size, strerror(-r));
	list_del(&b->link);
	free(b);
}

void share_buffer_disown(struct core_vm *vm, struct buffer *b, int32_t why)
{
	if (b->export)
		export_destroy(b->export, why);
	list_del(&b->owner_link);
	vm->used -= b->size;
	vm->nbuffers--;
	b->owner = NULL;
	share_buffer_unref(b);
}

void share_vm_gone(struct core_vm *vm)
{
	struct core *c = vm->core;
	struct virtio_vmbuf_event ev;
	struct import *im, *tmp;

	timeline_vm_gone(vm);
	list_for_each_safe(im, tmp, &vm->imports, link) {
		list_del(&im->link);
		share_buffer_unref(im->buf);
		free(im);
	}
	vm->nimports = 0;
	if (!vm->hello)
		return;
	event_fill(&ev, VIRTIO_VMBUF_EVT_PEER_GONE, NULL);
	str_to_field(ev.vm, sizeof(ev.vm), vm->cfg->name);
	{
		unsigned int i = 0;
		struct core_vm *o;

		while ((o = core_vm_next(c, &i))) {
			bool shares = false;

			for (unsigned int p = 0; o != vm && p < o->npools; p++)
				shares |= core_vm_in_pool(vm, o->pools[p]);
			if (shares)
				core_send_event(o, &ev);
		}
	}
}

ssize_t share_export(struct core_vm *vm, const void *req, size_t len, void *out)
{
	const struct virtio_vmbuf_export *x = req;
	struct virtio_vmbuf_export_resp *r = out;
	struct core *c = vm->core;
	uint32_t flags, naccess;
	char name[VIRTIO_VMBUF_NAME_MAX];
	struct buffer *b = NULL, *it;
	struct export *e;

	if (len < sizeof(*x))
		return -EBADMSG;
	flags = le32toh(x->flags);
	naccess = le32toh(x->naccess);
	if ((flags & ~VIRTIO_VMBUF_EXPORT_FLAGS) || naccess > VIRTIO_VMBUF_MAX_ACCESS)
		return -EINVAL;
	if (field_name(x->name, name, true) < 0)
		return -EINVAL;
	list_for_each(it, &vm->buffers, owner_link)
		if (it->id == le64toh(x->buffer_id))
			b = it;
	if (!b)
		return -ENOENT;
	if (b->export)
		return -EBUSY;
	if (name[0] && export_by_name(c, b->pool, name))
		return -EEXIST;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (uint32_t i = 0; i < naccess; i++) {
		char vmname[VIRTIO_VMBUF_NAME_MAX];
		struct core_vm *o;

		if (field_name(x->access[i], vmname, false) < 0 ||
		    !(o = core_vm_by_name(c, vmname)) || o->is_host) {
			free(e);
			return -EINVAL;
		}
		e->allowed[o->slot - 1] = true;
	}
	do {
		if (getrandom(e->handle, sizeof(e->handle), 0) != sizeof(e->handle)) {
			free(e);
			return -EIO;
		}
	} while (share_export_by_handle(c, e->handle));
	memcpy(e->name, name, sizeof(e->name));
	list_init(&e->waiters);
	e->flags = flags;
	e->meta = x->meta;
	e->buf = b;
	b->export = e;
	list_add_tail(&c->exports, &e->link);
	memcpy(r->handle, e->handle, sizeof(r->handle));
	log_info("vm '%s': exported buffer %llu as '%s' (%02x%02x...)", vm->cfg->name,
		 (unsigned long long)b->id, name[0] ? name : "-", e->handle[0], e->handle[1]);
	export_notify(c, e, VIRTIO_VMBUF_EVT_OFFERED);
	return sizeof(*r);
}

ssize_t share_import(struct core_vm *vm, const void *req, size_t len, void *out)
{
	const struct virtio_vmbuf_import *x = req;
	struct virtio_vmbuf_import_resp *r = out;
	struct core *c = vm->core;
	struct export *e = NULL;
	struct import *im;
	uint32_t flags;
	int err;

	if (len < sizeof(*x))
		return -EBADMSG;
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
		e = share_export_by_handle(c, x->handle);
	}
	err = share_may_use(vm, e);
	if (err < 0)
		return err;
	if (vm->nimports >= vm->cfg->max_buffers)
		return -ENOSPC;
	im = calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	im->id = c->next_import_id++;
	im->buf = e->buf;
	e->buf->refs++;
	list_add_tail(&vm->imports, &im->link);
	vm->nimports++;

	r->import_id = htole64(im->id);
	r->offset = htole64(e->buf->off);
	r->size = htole64(e->buf->size);
	r->pool_id = htole32(e->buf->pool->id);
	memcpy(r->handle, e->handle, sizeof(r->handle));
	str_to_field(r->owner, sizeof(r->owner), e->buf->owner->cfg->name);
	memcpy(r->name, e->name, sizeof(r->name));
	r->meta = e->meta;
	log_info("vm '%s': imported '%s' (%02x%02x...) of vm '%s' as import %llu", vm->cfg->name,
		 e->name[0] ? e->name : "-", e->handle[0], e->handle[1], e->buf->owner->cfg->name,
		 (unsigned long long)im->id);
	return sizeof(*r);
}

ssize_t share_release(struct core_vm *vm, const void *req, size_t len, void *out)
{
	const struct virtio_vmbuf_release *x = req;
	struct import *im;

	(void)out;
	if (len < sizeof(*x))
		return -EBADMSG;
	list_for_each(im, &vm->imports, link) {
		if (im->id != le64toh(x->import_id))
			continue;
		list_del(&im->link);
		vm->nimports--;
		share_buffer_unref(im->buf);
		free(im);
		return sizeof(struct virtio_vmbuf_resp);
	}
	return -ENOENT;
}

ssize_t share_revoke(struct core_vm *vm, const void *req, size_t len, void *out)
{
	const struct virtio_vmbuf_revoke *x = req;
	struct export *e;

	(void)out;
	if (len < sizeof(*x))
		return -EBADMSG;
	e = share_export_by_handle(vm->core, x->handle);
	if (!e)
		return -ENOENT;
	if (e->buf->owner != vm)
		return -EPERM;
	export_destroy(e, -ECANCELED);
	return sizeof(struct virtio_vmbuf_resp);
}
