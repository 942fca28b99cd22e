/*
 * fakevm - a userspace stand-in for a guest's vmbuf control device, for
 * tests that must write what no real driver would (malformed rings,
 * hostile requests). It speaks the ivshmem client protocol to the real
 * vmbufd, maps the control region and rings doorbells like QEMU would.
 */
#ifndef VMBUF_FAKEVM_H
#define VMBUF_FAKEVM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_ring.h>
#include <linux/vmbuf_ivshmem.h>

struct fakevm {
	int sock;
	int64_t id;
	uint8_t *map;
	size_t size;
	int doorbell[VMBUF_IVSHMEM_CTL_VECTORS];
	int irq[VMBUF_IVSHMEM_CTL_VECTORS];
	struct vmbuf_ivshmem_ctl_cfg *cfg;
	/* A well-formed control queue the helpers below use. */
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx, last_used;
};

/* Connect to SOCKDIR/VM/ctl.sock and complete the ivshmem greeting. */
int fakevm_connect(struct fakevm *vm, const char *sockdir, const char *name);
void fakevm_close(struct fakevm *vm);

/* Write driver_status, ring the config doorbell, wait for the answer. Returns device_state. */
int fakevm_set_status(struct fakevm *vm, uint32_t status, int32_t *error);

/* Write a queue layout (does not ring). */
void fakevm_queue(struct fakevm *vm, unsigned int q, unsigned int size, uint64_t desc,
		  uint64_t avail, uint64_t used, unsigned int enable);

/* Reset, lay out both queues well, go live. Returns 0 or -1. */
int fakevm_setup(struct fakevm *vm);

/* Ring @vector; wait up to @ms for interrupt @vector. Returns 1 if it came. */
void fakevm_ring(struct fakevm *vm, unsigned int vector);
int fakevm_wait_irq(struct fakevm *vm, unsigned int vector, int ms);

/*
 * Send one request of @len bytes through the good queue and wait for the
 * response. Returns the response length, or -1 on timeout.
 */
int fakevm_call(struct fakevm *vm, const void *req, size_t len, void *resp, size_t cap);

/* HELLO, then the response status. */
int32_t fakevm_hello(struct fakevm *vm, struct virtio_vmbuf_hello_resp *out);

#endif
