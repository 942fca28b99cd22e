/*
 * ivshmem_pool - transport T1's ivshmem server for one pool.
 *
 * Each member VM connects on its own socket (/run/vmbuf/<vm>/pool-<pool>.sock),
 * so the daemon knows who it is, and gets the pool memfd and the doorbell
 * eventfds of every member, so members can ring each other without the
 * daemon in the path. A member's peer id (its IVPosition) is given by the
 * caller and is stable for the VM (see ivshmem_position()).
 *
 * A position's eventfds are made at its first connection and kept for the
 * daemon's life, and nobody is told when a member leaves: QEMU's ivshmem
 * frees a departed peer's eventfd array without forgetting it and writes
 * into it when the same id comes back, corrupting every other member's
 * QEMU (seen with QEMU 7.2 to 10.0 when a VM was killed and booted again).
 * A member that comes back gets the same eventfds, so its peers' doorbells
 * reach it again without any message.
 *
 * ivpool_init() writes the region header (linux/vmbuf_ivshmem.h) into the
 * first page of the pool, which the core never allocates.
 */
#ifndef VMBUF_IVSHMEM_POOL_H
#define VMBUF_IVSHMEM_POOL_H

#include <stdbool.h>
#include <stdint.h>

#define IVPOOL_MAX_PEERS 256

#include <linux/vmbuf_ivshmem.h>

/* One member position: its doorbell eventfds (from its first connection on) and its socket. */
struct ivpool_peer {
	uint16_t position;
	int irq[VMBUF_IVSHMEM_POOL_VECTORS];
	int sock;		/* -1 while the member is not connected */
	bool announced;		/* the other members were sent its eventfds */
};

struct ivpool {
	const char *name;
	int shm_fd;	/* not owned */
	struct ivpool_peer *peers[IVPOOL_MAX_PEERS];	/* by VM slot */
};

/* Serve pool @id called @name, whose memory is @shm_fd of @size bytes. */
int ivpool_init(struct ivpool *p, unsigned int id, const char *name, int shm_fd, uint64_t size);
void ivpool_fini(struct ivpool *p);

/*
 * @slot joins over @sock (ownership taken, also on failure) with peer id
 * @position. Returns -EBUSY if @slot is already connected.
 */
int ivpool_join(struct ivpool *p, unsigned int slot, int sock, uint16_t position);

/* @slot's connection closed: drop it (its eventfds stay; see above). */
void ivpool_leave(struct ivpool *p, unsigned int slot);

int ivpool_sock(const struct ivpool *p, unsigned int slot);

#endif
