/*
 * timeline - the cross-VM fence timelines, one per export.
 *
 * Like a Vulkan timeline semaphore: a 64-bit value that only grows, starting
 * at 0 when the buffer is exported. SIGNAL moves it forward (the owner, or
 * any allowed importer when the export has VIRTIO_VMBUF_EXPORT_SIGNAL) and
 * may carry the producer's error; WATCH asks for one TIMELINE_REACHED event
 * when the value reaches a point (or answers "reached" at once). When the
 * export ends, every waiter hears TIMELINE_REACHED with value UINT64_MAX and
 * the reason: -ECANCELED (revoked or freed) or -ENODEV (the owner is gone).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core-internal.h"
#include "log.h"
#include "util.h"

static void timeline_event(struct export *e, struct core_vm *vm, uint64_t value, int32_t error)
{
	struct virtio_vmbuf_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = htole32(VIRTIO_VMBUF_EVT_TIMELINE_REACHED);
	memcpy(ev.handle, e->handle, sizeof(ev.handle));
	ev.pool_id = htole32(e->buf->pool->id);
	ev.value = htole64(value);
	ev.error = htole32((uint32_t)error);
	memcpy(ev.name, e->name, sizeof(ev.name));
	core_send_event(vm, &ev);
}

/*
 * Wake every waiter at or below @value: one event per VM, however many of its
 * waiters it covers (the guest completes all its fences up to @value).
 */
static void timeline_wake(struct export *e, uint64_t value, int32_t error)
{
	bool told[CORE_MAX_SLOTS] = { false };
	struct waiter *w, *tmp;

	list_for_each_safe(w, tmp, &e->waiters, link) {
		if (w->value > value)
			break;	/* sorted */
		if (!told[w->vm->slot - 1]) {
			told[w->vm->slot - 1] = true;
			timeline_event(e, w->vm, value, error);
		}
		w->vm->nwaiters--;
		list_del(&w->link);
		free(w);
	}
}

void timeline_end(struct export *e, int32_t error)
{
	timeline_wake(e, UINT64_MAX, error);
}

void timeline_vm_gone(struct core_vm *vm)
{
	struct export *e;

	list_for_each(e, &vm->core->exports, link) {
		struct waiter *w, *tmp;

		list_for_each_safe(w, tmp, &e->waiters, link) {
			if (w->vm != vm)
				continue;
			list_del(&w->link);
			free(w);
		}
	}
	vm->nwaiters = 0;
}

/* The export named by @handle if @vm may use its timeline: 0 or -errno. */
static int timeline_lookup(struct core_vm *vm, const uint8_t *handle, struct export **out)
{
	*out = share_export_by_handle(vm->core, handle);
	return share_may_use(vm, *out);
}

ssize_t timeline_signal(struct core_vm *vm, const void *req, size_t len, void *out)
{
	const struct virtio_vmbuf_signal *s = req;
	struct virtio_vmbuf_timeline_resp *r = out;
	struct export *e;
	uint64_t value;
	int32_t error;
	int err;

	if (len < sizeof(*s))
		return -EBADMSG;
	value = le64toh(s->value);
	error = (int32_t)le32toh(s->error);
	if (s->flags || error > 0 || error < -4095)
		return -EINVAL;
	err = timeline_lookup(vm, s->handle, &e);
	if (err < 0)
		return err;
	if (e->buf->owner != vm && !(e->flags & VIRTIO_VMBUF_EXPORT_SIGNAL))
		return -EACCES;
	if (value <= e->tl_value) {
		r->value = htole64(e->tl_value);
		return -EINVAL;	/* a timeline only grows */
	}
	e->tl_value = value;
	e->tl_error = error;
	timeline_wake(e, value, error);
	r->value = htole64(value);
	r->error = htole32((uint32_t)error);
	return sizeof(*r);
}

ssize_t timeline_watch(struct core_vm *vm, const void *req, size_t len, void *out)
{
	const struct virtio_vmbuf_watch *wq = req;
	struct virtio_vmbuf_timeline_resp *r = out;
	struct waiter *w, *it;
	struct export *e;
	uint64_t value;
	int err;

	if (len < sizeof(*wq))
		return -EBADMSG;
	value = le64toh(wq->value);
	err = timeline_lookup(vm, wq->handle, &e);
	if (err < 0)
		return err;
	r->value = htole64(e->tl_value);
	r->error = htole32((uint32_t)e->tl_error);
	if (value <= e->tl_value) {
		r->reached = htole32(1);
		return sizeof(*r);
	}
	if (vm->nwaiters >= vm->cfg->max_waiters)
		return -ENOSPC;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->vm = vm;
	w->value = value;
	/* Keep the list sorted so a signal stops at the first waiter above it. */
	list_for_each(it, &e->waiters, link)
		if (it->value > value)
			break;
	list_add_tail(&it->link, &w->link);
	vm->nwaiters++;
	return sizeof(*r);
}
