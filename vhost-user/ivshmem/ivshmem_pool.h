/*
 * ivshmem_pool - transport T1's ivshmem server for one pool.
 *
 * Each member VM connects on its own socket (/run/vmbuf/<vm>/pool-<pool>.sock),
 * so the daemon knows who it is, and gets the pool memfd and the doorbell
 * eventfds of every other connected member, so members can ring each other
 * without the daemon in the path. A member's peer id (its IVPosition) is
 * given by the caller and is stable for the VM (see ivshmem_position()).
 * ivpool_init() writes the region header (linux/vmbuf_ivshmem.h) into the
 * first page of the pool, which the core never allocates.
 */
#ifndef VMBUF_IVSHMEM_POOL_H
#define VMBUF_IVSHMEM_POOL_H

#include <stdint.h>

#define IVPOOL_MAX_PEERS 256

struct ivpool_peer;

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

/* @slot's connection closed: drop it and tell the remaining members it is gone. */
void ivpool_leave(struct ivpool *p, unsigned int slot);

int ivpool_sock(const struct ivpool *p, unsigned int slot);

#endif
