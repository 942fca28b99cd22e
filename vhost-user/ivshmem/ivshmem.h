/*
 * ivshmem - the ivshmem server protocol (QEMU docs/specs/ivshmem-spec.rst),
 * both ends.
 *
 * The server speaks first on a stream socket: the protocol version (0), the
 * client's own peer id, the shared memory fd (value -1), then eventfds: for
 * every peer one message per vector (value = peer id, fd attached, the N-th
 * message for a peer carries vector N-1), the client's own id included; a
 * message with a peer id and no fd says that peer is gone. Each message is a
 * little-endian int64 plus at most one fd.
 *
 * Return convention: 0 or positive on success, negative errno on failure.
 */
#ifndef VMBUF_IVSHMEM_H
#define VMBUF_IVSHMEM_H

#include <stdint.h>

#define IVSHMEM_PROTOCOL_VERSION 0
#define IVSHMEM_SHM_MSG (-1)

/*
 * The peer id (IVPosition) of VM slot @slot on the device of pool @pool_id:
 * stable for the VM, set by QEMU from the daemon's greeting, so no guest can
 * forge it. It is the pool's locator on this transport (HELLO).
 */
struct core_vm_ops;
/*
 * How the core reaches a VM whose pools are ivshmem devices, whatever carries
 * its control device: events to the device model (opaque: its struct
 * device), IVPosition locators. Defined in ivshmem_server.c.
 */
extern const struct core_vm_ops ivshmem_pool_core_ops;

static inline uint16_t ivshmem_position(unsigned int pool_id, unsigned int slot)
{
	/* Pool ids start at 1: every pool position is VMBUF_IVSHMEM_POOL_POSITION_MIN or more. */
	return (uint16_t)(pool_id << 8 | slot);
}

/* Send one message; @fd < 0 sends none. Never blocks (EAGAIN is an error). */
int ivshmem_send(int sock, int64_t value, int fd);

/* Send the greeting: version, own id, shared memory. */
int ivshmem_send_setup(int sock, uint16_t own_id, int shm_fd);

/* Send @n eventfds for @peer (one message per vector, in vector order). */
int ivshmem_send_peer(int sock, uint16_t peer, const int *fds, unsigned int n);

/*
 * Receive one message (client side, blocking). *fd is the attached fd or
 * -1; extra fds are closed. Returns 0, -ECONNRESET at end of stream, or a
 * negative errno.
 */
int ivshmem_recv(int sock, int64_t *value, int *fd);

#endif
