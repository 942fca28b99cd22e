/*
 * ivshmem_ctl - transport T1's control device for one VM: the VM's private
 * ivshmem-doorbell region holding the virtio-vmbuf config and virtqueues.
 *
 * The VM's QEMU connects to /run/vmbuf/<vm>/ctl.sock; ivctl_new() creates a
 * fresh region for that connection and sends the ivshmem greeting. The
 * daemon is peer VIRTIO_VMBUF_DAEMON_PEER, the VM is peer 1. The owner
 * polls ivctl_doorbell_fd() for each vector and calls ivctl_doorbell();
 * requests go to ops->request, driver resets to ops->reset.
 *
 * A protocol violation marks the device BROKEN (device_state, device_error)
 * and nothing is processed until the driver resets it.
 */
#ifndef VMBUF_IVSHMEM_CTL_H
#define VMBUF_IVSHMEM_CTL_H

#include <stddef.h>

struct ivctl_ops {
	/* See core_vm_request(). */
	size_t (*request)(void *opaque, const void *req, size_t len, void *resp, size_t cap);
	/* The driver reset the device (or broke it): release the VM's state. */
	void (*reset)(void *opaque);
};

struct ivctl;

/* Takes ownership of @sock (also on failure). */
int ivctl_new(struct ivctl **out, int sock, const char *vm_name, const struct ivctl_ops *ops,
	      void *opaque);
void ivctl_free(struct ivctl *c);

int ivctl_sock(const struct ivctl *c);
int ivctl_doorbell_fd(const struct ivctl *c, unsigned int vector);

/* The doorbell of @vector rang: drain it and do the work. */
void ivctl_doorbell(struct ivctl *c, unsigned int vector);

/*
 * Queue one event (struct virtio_vmbuf_event) for the driver. It goes into
 * the next buffer the driver posted on the event queue; while there is none,
 * up to IVCTL_PENDING_MAX wait in the device, and beyond that the oldest are
 * dropped and the next delivered event carries VIRTIO_VMBUF_EVT_F_LOST.
 */
#define IVCTL_PENDING_MAX 256
void ivctl_event(struct ivctl *c, const void *ev, size_t len);

#endif
