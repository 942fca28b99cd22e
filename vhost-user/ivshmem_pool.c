/*
 * ivshmem_pool - the ivshmem server protocol for a pool's members. New
 * members get the greeting, every existing member's eventfds and their own;
 * existing members get the newcomer's eventfds. A member that cannot be
 * written to (its QEMU stopped reading) is dropped.
 */
#include "ivshmem_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ivshmem.h"
#include "../host/log.h"
#include "../host/util.h"
#include "../kmod/include/uapi/linux/virtio_vmbuf.h"

struct ivpool_peer {
	int sock;
	uint16_t position;
	int irq[VIRTIO_VMBUF_POOL_VECTORS];
};

static void ivpool_peer_free(struct ivpool_peer *m)
{
	if (!m)
		return;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_POOL_VECTORS; i++)
		closep(&m->irq[i]);
	closep(&m->sock);
	free(m);
}

void ivpool_init(struct ivpool *p, const char *name, int shm_fd, unsigned int vectors)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->shm_fd = shm_fd;
	p->vectors = vectors > VIRTIO_VMBUF_POOL_VECTORS ? VIRTIO_VMBUF_POOL_VECTORS : vectors;
}

void ivpool_fini(struct ivpool *p)
{
	for (unsigned int i = 0; i < IVPOOL_MAX_PEERS; i++) {
		ivpool_peer_free(p->peers[i]);
		p->peers[i] = NULL;
	}
}

int ivpool_join(struct ivpool *p, unsigned int slot, int sock, uint16_t position)
{
	struct ivpool_peer *m;
	int r;

	if (slot >= IVPOOL_MAX_PEERS || p->peers[slot]) {
		close(sock);
		return -EBUSY;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(sock);
		return -ENOMEM;
	}
	m->sock = sock;
	m->position = position;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_POOL_VECTORS; i++)
		m->irq[i] = -1;
	for (unsigned int i = 0; i < p->vectors; i++) {
		m->irq[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (m->irq[i] < 0) {
			r = -errno;
			ivpool_peer_free(m);
			return r;
		}
	}
	r = ivshmem_send_setup(sock, position, p->shm_fd);
	for (unsigned int i = 0; r >= 0 && i < IVPOOL_MAX_PEERS; i++)
		if (p->peers[i])
			r = ivshmem_send_peer(sock, p->peers[i]->position, p->peers[i]->irq,
					      p->vectors);
	if (r >= 0)
		r = ivshmem_send_peer(sock, position, m->irq, p->vectors);
	if (r < 0) {
		ivpool_peer_free(m);
		return r;
	}
	for (unsigned int i = 0; i < IVPOOL_MAX_PEERS; i++) {
		struct ivpool_peer *o = p->peers[i];

		if (o && ivshmem_send_peer(o->sock, position, m->irq, p->vectors) < 0)
			log_warn("pool '%s': peer %u not reading; its doorbells may be stale",
				 p->name, o->position);
	}
	p->peers[slot] = m;
	return 0;
}

void ivpool_leave(struct ivpool *p, unsigned int slot)
{
	struct ivpool_peer *m;

	if (slot >= IVPOOL_MAX_PEERS || !(m = p->peers[slot]))
		return;
	p->peers[slot] = NULL;
	for (unsigned int i = 0; i < IVPOOL_MAX_PEERS; i++)
		if (p->peers[i])
			ivshmem_send(p->peers[i]->sock, m->position, -1);
	ivpool_peer_free(m);
}

int ivpool_sock(const struct ivpool *p, unsigned int slot)
{
	return slot < IVPOOL_MAX_PEERS && p->peers[slot] ? p->peers[slot]->sock : -1;
}
