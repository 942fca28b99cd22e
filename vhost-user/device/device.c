/*
 * device - the virtio-vmbuf device model (see device.h): state machine,
 * control queue, event queue, breaking. Transport-free: it knows queues
 * only through struct vq and the driver only through struct device_ops.
 */
#include "device.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

static const char *device_reason(int err)
{
	switch (err) {
	case -ELOOP: return "descriptor chain loops";
	case -ERANGE: return "descriptor index out of range";
	case -EFAULT: return "buffer outside the driver's memory";
	case -E2BIG: return "descriptor chain too long";
	case -EOVERFLOW: return "available index ran ahead of the ring";
	case -EINVAL: return "invalid queue layout or descriptor flags";
	default: return strerror(-err);
	}
}

static void device_show(struct device *d, uint32_t state, int32_t error)
{
	d->state = state;
	d->error = error;
	d->ops->state(d->opaque, state, error);
}

/* Forget queues and events and release what the VM held. */
static void device_clear(struct device *d)
{
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++)
		vq_reset(&d->vq[i]);
	d->pend_head = d->pend_count = 0;
	d->lost = false;
	core_vm_reset(d->vm);
}

void device_init(struct device *d, struct core_vm *vm, const struct device_ops *ops,
		 void *opaque)
{
	memset(d, 0, sizeof(*d));
	d->vm = vm;
	snprintf(d->name, sizeof(d->name), "%s", core_vm_name(vm));
	d->state = VIRTIO_VMBUF_STATE_RESET;
	d->ops = ops;
	d->opaque = opaque;
}

void device_break(struct device *d, const char *what, int err)
{
	if (core_vm_may_log(d->vm))
		log_warn("vm '%s': %s: %s; device broken until the driver resets it", d->name,
			 what, device_reason(err));
	device_clear(d);
	device_show(d, VIRTIO_VMBUF_STATE_BROKEN, err);
}

void device_reset(struct device *d)
{
	if (d->state == VIRTIO_VMBUF_STATE_GONE)
		return;	/* going away: nothing is answered any more */
	if (d->state != VIRTIO_VMBUF_STATE_RESET) {
		device_clear(d);
		if (core_vm_may_log(d->vm))
			log_info("vm '%s': device reset by the driver", d->name);
	}
	device_show(d, VIRTIO_VMBUF_STATE_RESET, 0);
}

void device_pause(struct device *d)
{
	if (d->state != VIRTIO_VMBUF_STATE_LIVE)
		return;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++)
		vq_reset(&d->vq[i]);
	log_debug("vm '%s': device paused", d->name);
	device_show(d, VIRTIO_VMBUF_STATE_RESET, 0);
}

static void device_flush_events(struct device *d);

void device_set_status(struct device *d, uint32_t status, const struct vq_mem *mem,
		       const struct device_queue *q)
{
	if (d->state == VIRTIO_VMBUF_STATE_GONE) {
		device_show(d, d->state, d->error);
		return;
	}
	if (status == 0) {
		device_reset(d);
		return;
	}
	if (!(status & VIRTIO_CONFIG_S_DRIVER_OK) || d->state != VIRTIO_VMBUF_STATE_RESET) {
		/* Nothing to do yet, or already live/broken: answer with the state. */
		device_show(d, d->state, d->error);
		return;
	}
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++) {
		int r = -EINVAL;

		if (q[i].enable)
			r = vq_init(&d->vq[i], mem, q[i].size, VIRTIO_VMBUF_QUEUE_MAX, q[i].desc,
				    q[i].avail, q[i].used);
		if (r < 0) {
			char what[32];

			snprintf(what, sizeof(what), "queue %u setup", i);
			device_break(d, what, r);
			return;
		}
	}
	if (core_vm_may_log(d->vm))
		log_info("vm '%s': device live (control queue %u, event queue %u entries)",
			 d->name, d->vq[VIRTIO_VMBUF_VQ_CTL].num, d->vq[VIRTIO_VMBUF_VQ_EVENT].num);
	device_show(d, VIRTIO_VMBUF_STATE_LIVE, 0);
	/* After a pause: what came meanwhile. */
	device_flush_events(d);
}

/* Move pending events into the buffers the driver posted. */
static void device_flush_events(struct device *d)
{
	struct vq *vq = &d->vq[VIRTIO_VMBUF_VQ_EVENT];
	bool pushed = false;
	struct vq_elem e;

	if (d->state != VIRTIO_VMBUF_STATE_LIVE)
		return;
	while (d->pend_count) {
		struct virtio_vmbuf_event *ev = &d->pending[d->pend_head];

		if (vq_pop(vq, &e) <= 0)
			break;
		if (d->lost) {
			ev->flags |= htole32(VIRTIO_VMBUF_EVT_F_LOST);
			d->lost = false;
		}
		if (vq_push(vq, &e, vq_elem_write(&e, ev, sizeof(*ev))) < 0)
			break;
		pushed = true;
		d->pend_head = (d->pend_head + 1) % DEVICE_PENDING_MAX;
		d->pend_count--;
	}
	if (pushed)
		d->ops->notify(d->opaque, VIRTIO_VMBUF_VQ_EVENT);
}

static bool device_is_timeline(const struct virtio_vmbuf_event *ev)
{
	return le32toh(ev->type) == VIRTIO_VMBUF_EVT_TIMELINE_REACHED;
}

/* Pending event @i, 0 the oldest. */
static struct virtio_vmbuf_event *device_pending(struct device *d, unsigned int i)
{
	return &d->pending[(d->pend_head + i) % DEVICE_PENDING_MAX];
}

/* Drop pending event @i, keeping the others in order. */
static void device_pending_drop(struct device *d, unsigned int i)
{
	for (; i > 0; i--)
		*device_pending(d, i) = *device_pending(d, i - 1);
	d->pend_head = (d->pend_head + 1) % DEVICE_PENDING_MAX;
	d->pend_count--;
}

/*
 * A timeline's news waiting already: the newer value replaces it in place
 * (values only grow). The first error among them stays: a waiter woken by
 * the merged event must not miss the producer's error.
 */
static bool device_coalesce(struct device *d, const struct virtio_vmbuf_event *ev)
{
	for (unsigned int i = 0; i < d->pend_count; i++) {
		struct virtio_vmbuf_event *p = device_pending(d, i);

		if (!device_is_timeline(p) || memcmp(p->handle, ev->handle, sizeof(p->handle)))
			continue;
		p->value = ev->value;
		if (!p->error)
			p->error = ev->error;
		return true;
	}
	return false;
}

void device_event(struct device *d, const struct virtio_vmbuf_event *ev)
{
	unsigned int victim = 0;

	if (device_is_timeline(ev) && device_coalesce(d, ev)) {
		device_flush_events(d);
		return;
	}
	if (d->pend_count == DEVICE_PENDING_MAX) {
		/*
		 * Drop the oldest event that is not a timeline's: fences wait on
		 * those. Only a queue full of distinct timelines loses one; the
		 * driver then asks for the state of what it waits on (QUERY).
		 */
		while (victim < d->pend_count && device_is_timeline(device_pending(d, victim)))
			victim++;
		device_pending_drop(d, victim < d->pend_count ? victim : 0);
		if (!d->lost && core_vm_may_log(d->vm))
			log_warn("vm '%s': event queue full, dropping events", d->name);
		d->lost = true;
	}
	*device_pending(d, d->pend_count) = *ev;
	d->pend_count++;
	device_flush_events(d);
	/* Called from inside the core: break from the loop, not now. */
	if (d->vq[VIRTIO_VMBUF_VQ_EVENT].broken)
		d->ops->rekick(d->opaque, VIRTIO_VMBUF_VQ_EVENT);
}

void device_core_event(void *device, const struct virtio_vmbuf_event *ev)
{
	device_event(device, ev);
}

/* Answer the requests waiting on the control queue, at most 4 rounds of the ring a turn. */
static void device_control(struct device *d)
{
	uint8_t req[VIRTIO_VMBUF_MSG_MAX], resp[VIRTIO_VMBUF_MSG_MAX];
	struct vq *vq = &d->vq[VIRTIO_VMBUF_VQ_CTL];
	unsigned int budget = 4u * vq->num;
	bool pushed = false;
	struct vq_elem e;
	int r = 0;

	while (budget-- && (r = vq_pop(vq, &e)) > 0) {
		struct virtio_vmbuf_resp *rr = (void *)resp;
		size_t rlen;

		if (e.out_len > sizeof(req)) {
			memset(rr, 0, sizeof(*rr));
			vq_elem_read(&e, rr, sizeof(struct virtio_vmbuf_hdr));
			rr->status = htole32((uint32_t)-EMSGSIZE);
			rlen = sizeof(*rr);
		} else {
			size_t len = vq_elem_read(&e, req, sizeof(req));

			rlen = core_vm_request(d->vm, req, len, resp, sizeof(resp));
			if (rlen == 0) {
				/* It must wait (device_core_resume()): it and those behind it. */
				vq_unpop(vq);
				break;
			}
		}
		if (e.in_len < rlen && e.in_len >= sizeof(*rr)) {
			rr->status = htole32((uint32_t)-EMSGSIZE);
			rlen = sizeof(*rr);
		}
		r = vq_push(vq, &e, vq_elem_write(&e, resp, rlen));
		if (r < 0)
			break;
		pushed = true;
	}
	if (pushed)
		d->ops->notify(d->opaque, VIRTIO_VMBUF_VQ_CTL);
	if (vq->broken) {
		device_break(d, "control queue", vq->broken);
		return;
	}
	if (budget == UINT32_MAX && r > 0)
		d->ops->rekick(d->opaque, VIRTIO_VMBUF_VQ_CTL);
}

void device_gone(struct device *d)
{
	if (d->state == VIRTIO_VMBUF_STATE_GONE)
		return;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++)
		vq_reset(&d->vq[i]);
	d->pend_head = d->pend_count = 0;
	device_show(d, VIRTIO_VMBUF_STATE_GONE, -ENODEV);
}

void device_core_gone(void *device)
{
	device_gone(device);
}

void device_core_resume(void *device)
{
	struct device *d = device;

	d->ops->rekick(d->opaque, VIRTIO_VMBUF_VQ_CTL);
}

void device_kick(struct device *d, unsigned int vq)
{
	if (d->state != VIRTIO_VMBUF_STATE_LIVE)
		return;
	switch (vq) {
	case VIRTIO_VMBUF_VQ_CTL:
		device_control(d);
		break;
	case VIRTIO_VMBUF_VQ_EVENT:
		/* New event buffers: deliver what waited for them. */
		device_flush_events(d);
		if (d->vq[VIRTIO_VMBUF_VQ_EVENT].broken)
			device_break(d, "event queue", d->vq[VIRTIO_VMBUF_VQ_EVENT].broken);
		break;
	}
}
