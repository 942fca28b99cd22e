/*
 * device - the virtio-vmbuf device model, the same on every transport.
 *
 * One struct device per connected VM: its state (RESET, LIVE, BROKEN; see
 * linux/virtio_vmbuf.h), the control queue (pop a request, let the core
 * answer it, push the response), the event queue (events wait in the device
 * until the driver posts buffers for them) and breaking the device when the
 * driver violates the protocol. Nothing is processed on a device that is
 * not LIVE; a broken device stays broken until the driver resets it.
 *
 * The transport owns the memory the queues live in (struct vq_mem) and the
 * notifications, given through struct device_ops; it calls
 * device_set_status() when the driver writes its status, device_reset()
 * when the connection goes, and device_kick() when the driver notifies a
 * queue. The device answers
 * requests through the core (core_vm_request()) for the VM it was made for,
 * and device_core_ops is what the transport connects that VM with, so the
 * core's events reach device_event().
 */
#ifndef VMBUF_DEVICE_H
#define VMBUF_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "virtqueue.h"
#include <linux/virtio_vmbuf.h>

struct core_vm;

struct device_ops {
	/* Interrupt the driver: queue @vq has used buffers. */
	void (*notify)(void *opaque, unsigned int vq);
	/* The state changed (or the driver asked for it): show it to the driver. */
	void (*state)(void *opaque, uint32_t state, int32_t error);
	/*
	 * Call device_kick(@vq) again from the event loop, after other sources
	 * ran: the queue had more work than one turn's budget, or it broke
	 * while the core was calling in (breaking then would reset the VM in
	 * the middle of the core's work).
	 */
	void (*rekick)(void *opaque, unsigned int vq);
};

/* Where the driver placed one queue. */
struct device_queue {
	uint16_t size;
	bool enable;
	uint64_t desc, avail, used;
};

/* Events waiting for an event-queue buffer: up to DEVICE_PENDING_MAX, then the oldest go. */
#define DEVICE_PENDING_MAX 256

struct device {
	struct core_vm *vm;
	char name[VIRTIO_VMBUF_NAME_MAX];
	uint32_t state;
	int32_t error;
	struct vq vq[VIRTIO_VMBUF_NUM_VQS];
	struct virtio_vmbuf_event pending[DEVICE_PENDING_MAX];
	unsigned int pend_head, pend_count;
	bool lost;
	const struct device_ops *ops;
	void *opaque;
};

/* For core_vm_connect(): the core's events go to the device's event queue. */
void device_core_event(void *device, const struct virtio_vmbuf_event *ev);
/* For core_vm_connect(): a request that waited is taken from the control queue again. */
void device_core_resume(void *device);
/* For core_vm_connect(): the daemon stops (core_shutdown()): device_gone(). */
void device_core_gone(void *device);

/* A device in state RESET for @vm. */
void device_init(struct device *d, struct core_vm *vm, const struct device_ops *ops,
		 void *opaque);

/*
 * The driver wrote VIRTIO_CONFIG_S_* @status: 0 resets the device
 * (device_reset()); DRIVER_OK in state RESET starts it with queues @q
 * (VIRTIO_VMBUF_NUM_VQS of them) in @mem: LIVE, or BROKEN when a queue is
 * invalid. Anything else changes nothing. Every call ends by showing the
 * state to the driver (device_ops.state).
 */
void device_set_status(struct device *d, uint32_t status, const struct vq_mem *mem,
		       const struct device_queue *q);

/* Back to RESET: forget the queues and events, release the VM's state. */
void device_reset(struct device *d);

/*
 * The transport stopped the queues without the driver resetting the device
 * (a VM paused): RESET until device_set_status() starts it again, with the
 * VM's state and the events waiting for it kept. The queues resume where
 * the driver's used indexes say.
 */
void device_pause(struct device *d);

/* A protocol violation: release the VM's state and stay BROKEN until a reset. */
void device_break(struct device *d, const char *what, int err);

/*
 * The daemon is going away: show GONE (error -ENODEV) to the driver and
 * answer nothing more; the VM's state stays as it is (memory the guest
 * still maps is not touched).
 */
void device_gone(struct device *d);

/* The driver notified queue @vq (or device_ops.rekick asked for it). */
void device_kick(struct device *d, unsigned int vq);

/*
 * Queue one event for the driver. It goes into the next buffer the driver
 * posted on the event queue; while there is none, up to DEVICE_PENDING_MAX
 * wait in the device. A TIMELINE_REACHED for an export whose news waits
 * already is merged into it. Beyond DEVICE_PENDING_MAX the oldest other
 * event is dropped (a timeline's only when all are timelines') and the next
 * delivered event carries VIRTIO_VMBUF_EVT_F_LOST.
 */
void device_event(struct device *d, const struct virtio_vmbuf_event *ev);

#endif
