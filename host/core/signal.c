/*
 * signal - the timeline requests. SIGNAL moves an export's timeline forward
 * (the owner, or any allowed importer when the export has
 * VIRTIO_VMBUF_EXPORT_SIGNAL) and may carry the producer's error; WATCH
 * asks for one TIMELINE_REACHED event when the value reaches a point, or
 * answers "reached" at once; QUERY tells the value now, for a driver that
 * lost events; UNWATCH takes back one WATCH the driver gave up on. Who may
 * use a timeline is who may import its export (export_may_use()).
 */
#include <endian.h>
#include <errno.h>

#include "core-internal.h"

ssize_t signal_req_signal(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_signal *s = req;
	struct virtio_vmbuf_timeline_resp *r = out;
	struct export *e;
	uint64_t value;
	int32_t error;
	int err;

	value = le64toh(s->value);
	error = (int32_t)le32toh(s->error);
	if (s->flags || error > 0 || error < -4095)
		return -EINVAL;
	e = export_by_handle(vm->core, s->handle);
	err = export_may_use(vm, e);
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
	vm->counters.fences_signalled++;
	timeline_wake(e, value, error);
	r->value = htole64(value);
	r->error = htole32((uint32_t)error);
	return sizeof(*r);
}

ssize_t signal_req_watch(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_watch *wq = req;
	struct virtio_vmbuf_timeline_resp *r = out;
	struct export *e;
	uint64_t value;
	int err;

	value = le64toh(wq->value);
	e = export_by_handle(vm->core, wq->handle);
	err = export_may_use(vm, e);
	if (err < 0)
		return err;
	r->value = htole64(e->tl_value);
	r->error = htole32((uint32_t)e->tl_error);
	if (value <= e->tl_value) {
		r->reached = htole32(1);
		return sizeof(*r);
	}
	err = timeline_add_waiter(e, vm, value);
	if (err < 0)
		return err;
	vm->counters.fences_waited++;
	return sizeof(*r);
}

ssize_t signal_req_query(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_query *q = req;
	struct virtio_vmbuf_timeline_resp *r = out;
	struct export *e = export_by_handle(vm->core, q->handle);
	int err = export_may_use(vm, e);

	if (err < 0)
		return err;
	r->value = htole64(e->tl_value);
	r->error = htole32((uint32_t)e->tl_error);
	return sizeof(*r);
}

ssize_t signal_req_unwatch(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_watch *wq = req;
	struct export *e = export_by_handle(vm->core, wq->handle);
	int err = export_may_use(vm, e);

	(void)out;
	if (err < 0)
		return err;
	err = timeline_remove_waiter(e, vm, le64toh(wq->value));
	if (err < 0)
		return err;
	vm->counters.waits_abandoned++;
	return sizeof(struct virtio_vmbuf_resp);
}
