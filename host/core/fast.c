/*
 * fast - the fast-timeline slots in the first page of a pool. The daemon
 * hands them out and cleans them, and sets bit 0 of a slot's waiting mask
 * while it keeps waiters on the export's timeline, so that the signaller
 * tells it at once rather than coalesced. The rest of a slot, while an
 * export holds it, is the drivers' (linux/virtio_vmbuf.h, "Fast
 * timelines"), and the daemon never reads it, so nothing a pool member
 * writes there can change what the daemon decides.
 */
#include <endian.h>
#include <string.h>

#include "core-internal.h"

static struct virtio_vmbuf_fast_slot *slot_at(struct pool *p, unsigned int i)
{
	return (struct virtio_vmbuf_fast_slot *)(p->map + VIRTIO_VMBUF_FAST_OFFSET) + i;
}

bool fast_vm_can(const struct core_vm *vm)
{
	return vm->ops && vm->ops->locator_kind == VIRTIO_VMBUF_LOCATOR_IVPOSITION;
}

void fast_slot_take(struct export *e)
{
	struct pool *p = e->buf->pool;
	struct virtio_vmbuf_fast_slot *s;

	for (unsigned int i = 0; i < VIRTIO_VMBUF_FAST_SLOTS; i++) {
		if (p->fast_used[i])
			continue;
		p->fast_used[i] = true;
		/* A tag tells this export's use of the slot from an earlier one's. */
		if (++p->fast_next_tag == 0)
			p->fast_next_tag = 1;
		s = slot_at(p, i);
		memset(s, 0, sizeof(*s));
		s->tag = htole16(p->fast_next_tag);
		e->fast_slot = (uint16_t)(i + 1);
		e->fast_tag = p->fast_next_tag;
		return;
	}
}

void fast_slot_give(struct export *e)
{
	struct pool *p = e->buf->pool;

	if (!e->fast_slot)
		return;
	memset(slot_at(p, e->fast_slot - 1u), 0, sizeof(struct virtio_vmbuf_fast_slot));
	p->fast_used[e->fast_slot - 1u] = false;
	e->fast_slot = 0;
}

void fast_slot_want(struct export *e)
{
	uint64_t *w;

	if (!e->fast_slot || list_empty(&e->waiters))
		return;
	w = (uint64_t *)&slot_at(e->buf->pool, e->fast_slot - 1u)->waiting[0];
	/* Drivers take the bits with an atomic exchange: set ours atomically too. */
	__atomic_fetch_or(w, htole64(1), __ATOMIC_SEQ_CST);
}
