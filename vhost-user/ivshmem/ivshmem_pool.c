/*
 * ivshmem_pool - the ivshmem server protocol for a pool's members (see
 * ivshmem_pool.h for why a position's eventfds live as long as the daemon).
 * A member that connects gets the greeting, every other position's
 * eventfds and its own; the others get its eventfds the first time only. A
 * member that is not reading (its QEMU stopped) stays a member: it misses a
 * newcomer's eventfds, which is logged, and only its own doorbells suffer.
 */
#include "ivshmem_pool.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ivshmem.h"
#include "log.h"
#include "util.h"
#include <linux/vmbuf_ivshmem.h>

static void ivpool_peer_free(struct ivpool_peer *m)
{
	if (!m)
		return;
	for (unsigned int i = 0; i < VMBUF_IVSHMEM_POOL_VECTORS; i++)
		closep(&m->irq[i]);
	closep(&m->sock);
	free(m);
}

int ivpool_init(struct ivpool *p, unsigned int id, const char *name, int shm_fd, uint64_t size)
{
	struct vmbuf_ivshmem_region hdr = {
		.magic = htole32(VMBUF_IVSHMEM_MAGIC),
		.version = htole16(VIRTIO_VMBUF_VERSION),
		.kind = htole16(VMBUF_IVSHMEM_KIND_POOL),
		.size = htole64(size),
		.data_offset = htole64(VIRTIO_VMBUF_POOL_DATA_OFFSET),
		.pool_id = htole32(id),
		.vectors = htole32(VMBUF_IVSHMEM_POOL_VECTORS),
	};

	_Static_assert(sizeof(hdr) <= VIRTIO_VMBUF_POOL_DATA_OFFSET, "header fits the first page");
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->shm_fd = shm_fd;
	str_to_field(hdr.name, sizeof(hdr.name), name);
	if (pwrite(shm_fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return -errno ? -errno : -EIO;
	return 0;
}

void ivpool_fini(struct ivpool *p)
{
	for (unsigned int i = 0; i < IVPOOL_MAX_PEERS; i++) {
		ivpool_peer_free(p->peers[i]);
		p->peers[i] = NULL;
	}
}

/* @slot's position, with eventfds made at its first connection: NULL without memory or fds. */
static struct ivpool_peer *ivpool_peer_get(struct ivpool *p, unsigned int slot, uint16_t position)
{
	struct ivpool_peer *m = p->peers[slot];

	if (m)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->position = position;
	m->sock = -1;
	for (unsigned int i = 0; i < VMBUF_IVSHMEM_POOL_VECTORS; i++)
		m->irq[i] = -1;
	for (unsigned int i = 0; i < VMBUF_IVSHMEM_POOL_VECTORS; i++) {
		m->irq[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (m->irq[i] < 0) {
			ivpool_peer_free(m);
			return NULL;
		}
	}
	p->peers[slot] = m;
	return m;
}

int ivpool_join(struct ivpool *p, unsigned int slot, int sock, uint16_t position)
{
	struct ivpool_peer *m;
	int r;

	if (slot >= IVPOOL_MAX_PEERS || (p->peers[slot] && p->peers[slot]->sock >= 0)) {
		close(sock);
		return -EBUSY;
	}
	m = ivpool_peer_get(p, slot, position);
	if (!m) {
		close(sock);
		return -ENOMEM;
	}
	/* Every position that ever connected, its own last (QEMU learns its own vectors then). */
	r = ivshmem_send_setup(sock, position, p->shm_fd);
	for (unsigned int i = 0; r >= 0 && i < IVPOOL_MAX_PEERS; i++)
		if (p->peers[i] && i != slot)
			r = ivshmem_send_peer(sock, p->peers[i]->position, p->peers[i]->irq,
					      VMBUF_IVSHMEM_POOL_VECTORS);
	if (r >= 0)
		r = ivshmem_send_peer(sock, position, m->irq, VMBUF_IVSHMEM_POOL_VECTORS);
	if (r < 0) {
		close(sock);
		return r;
	}
	m->sock = sock;
	/* The others know this position's eventfds already, unless it is new. */
	for (unsigned int i = 0; !m->announced && i < IVPOOL_MAX_PEERS; i++) {
		struct ivpool_peer *o = p->peers[i];

		if (o && o != m && o->sock >= 0 &&
		    ivshmem_send_peer(o->sock, position, m->irq, VMBUF_IVSHMEM_POOL_VECTORS) < 0)
			log_warn("pool '%s': peer %u not reading; its doorbells may be stale",
				 p->name, o->position);
	}
	m->announced = true;
	return 0;
}

void ivpool_leave(struct ivpool *p, unsigned int slot)
{
	if (slot < IVPOOL_MAX_PEERS && p->peers[slot]) {
		closep(&p->peers[slot]->sock);
		p->peers[slot]->sock = -1;
	}
}

int ivpool_sock(const struct ivpool *p, unsigned int slot)
{
	return slot < IVPOOL_MAX_PEERS && p->peers[slot] ? p->peers[slot]->sock : -1;
}
