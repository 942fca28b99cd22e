/*
 * timeline - the cross-VM fence timeline every export carries, and the VMs
 * waiting on it.
 *
 * Like a Vulkan timeline semaphore: a 64-bit value that only grows, starting
 * at 0 when the buffer is exported (signal.c moves it). A waiter is told
 * once, with one TIMELINE_REACHED event per VM however many of its points a
 * value covers. When the export ends, every waiter hears TIMELINE_REACHED
 * with value UINT64_MAX and the reason: -ECANCELED (revoked or freed) or
 * -ENODEV (the owner is gone).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core-internal.h"
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
	str_to_field(ev.name, sizeof(ev.name), e->name);
	vm_send_event(vm, &ev);
}

static void waiter_free(struct waiter *w)
{
	w->vm->nwaiters--;
	list_del(&w->link);
	list_del(&w->vm_link);
	free(w);
}

void timeline_wake(struct export *e, uint64_t value, int32_t error)
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
		waiter_free(w);
	}
	fast_slot_want(e);	/* waiters left: the signallers' bit taken, set it again */
}

void timeline_end(struct export *e, int32_t error)
{
	timeline_wake(e, UINT64_MAX, error);
}

int timeline_add_waiter(struct export *e, struct core_vm *vm, uint64_t value)
{
	struct waiter *w, *it;

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
	list_add_tail(&vm->waiters, &w->vm_link);
	vm->nwaiters++;
	fast_slot_want(e);
	return 0;
}

int timeline_remove_waiter(struct export *e, struct core_vm *vm, uint64_t value)
{
	struct waiter *w;

	list_for_each(w, &e->waiters, link) {
		if (w->vm != vm || w->value != value)
			continue;
		waiter_free(w);
		return 0;
	}
	return -ENOENT;
}

void timeline_vm_gone(struct core_vm *vm)
{
	struct waiter *w, *tmp;

	list_for_each_safe(w, tmp, &vm->waiters, vm_link)
		waiter_free(w);
}
