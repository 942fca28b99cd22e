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
#include <sys/types.h>
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
	/* The event queue (64 entries; fakevm_events() posts its buffers). */
	struct vring_desc *edesc;
	struct vring_avail *eavail;
	struct vring_used *eused;
	uint16_t eavail_idx, elast_used;
};

/* A real vmbufd started for a test: its socket directory and log. */
struct fakevm_daemon {
	pid_t pid;
	char dir[64];
	char sockdir[128];
	char log[128];
};

/*
 * Start @bin with a config file of "[vmbufd] socket-dir = DIR/run, state-dir =
 * DIR/state" (DIR: d->dir, a new temporary directory) and then
 * @config (VMs and pools), logging to d->log; waits for host.sock.
 * Returns 0 or -1.
 */
int fakevm_daemon_start(struct fakevm_daemon *d, const char *bin, const char *config);
/* Start it again with the same files (after fakevm_daemon_stop()); the log grows. */
int fakevm_daemon_run(struct fakevm_daemon *d, const char *bin);
/* Is it still running? */
int fakevm_daemon_alive(struct fakevm_daemon *d);
/* SIGTERM and wait: its exit status as waitpid() gives it. */
int fakevm_daemon_stop(struct fakevm_daemon *d);

/*
 * Join pool @pool as VM @name (SOCKDIR/VM/pool-POOL.sock) and map its
 * @size bytes of memory: the pointer, or NULL. The socket stays open in *sock.
 */
void *fakevm_pool_map(const char *sockdir, const char *name, const char *pool, size_t size,
		      int *sock);

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

/*
 * Post @n requests (at most num / 2) at once, ring once, and wait up to
 * @ms for every response; request i's response goes to resp[i] (at most
 * VIRTIO_VMBUF_MSG_MAX bytes each). Returns how many responses came.
 */
int fakevm_call_many(struct fakevm *vm, const void *const *reqs, const size_t *lens,
		     unsigned int n, uint8_t (*resp)[VIRTIO_VMBUF_MSG_MAX], int ms);

/*
 * Post every event buffer the event queue holds (64), wait up to @ms for the
 * device to fill them and copy at most @max filled ones to @out. Returns how
 * many it copied. The event queue starts with no buffer posted: events wait
 * in the device until this is called.
 */
int fakevm_events(struct fakevm *vm, struct virtio_vmbuf_event *out, unsigned int max, int ms);

/* HELLO, then the response status. */
int32_t fakevm_hello(struct fakevm *vm, struct virtio_vmbuf_hello_resp *out);

/*
 * One request through fakevm_call(): the response's status (0 or a negative
 * errno), -ETIMEDOUT when none came. The response goes to @resp (NULL: not
 * wanted). The helpers below build the common requests.
 */
int32_t fakevm_request(struct fakevm *vm, const void *req, size_t len, void *resp, size_t cap);
int32_t fakevm_alloc(struct fakevm *vm, uint32_t pool, uint64_t size, uint64_t *id);
/* Export buffer @id as @name (NULL: none) to VM @to (NULL: nobody else); its handle. */
int32_t fakevm_export(struct fakevm *vm, uint64_t id, const char *name, const char *to,
		      uint8_t *handle);
/* Import by @name, or by @handle when @name is NULL; the import id. */
int32_t fakevm_import(struct fakevm *vm, const char *name, const uint8_t *handle, uint64_t *id);

#endif
