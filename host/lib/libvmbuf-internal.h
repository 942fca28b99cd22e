/*
 * libvmbuf-internal - what libvmbuf's files share: the client and buffer
 * objects and the calls to the daemon. Not installed.
 *
 *   client.c  connection, framing of host.sock packets, queued events, HELLO,
 *             pools, status
 *   buffer.c  buffers: import, alloc, export, mappings, release (calls client.c)
 *   events.c  events, timelines (signal, wait) and eventfd watches (calls client.c)
 *
 * Inside, functions return a negative errno; each public function converts
 * at its end with lib_fail() (errno set, -1 returned).
 */
#ifndef LIBVMBUF_INTERNAL_H
#define LIBVMBUF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libvmbuf.h"
#include <linux/virtio_vmbuf.h>

#define EVENTS_MAX 64
#define WATCHES_MAX 64

struct watch {
	int efd;		/* -1: free slot */
	bool fired;
	int error;
	uint8_t handle[VIRTIO_VMBUF_HANDLE_SIZE];
	uint64_t value;
};

struct pool_ref {
	uint32_t id;
	char name[VIRTIO_VMBUF_NAME_MAX + 1];
	int memfd;		/* -1 until first needed */
	uint64_t size;
};

struct vmbuf_client {
	int fd;
	bool hello;
	uint64_t next_id;
	unsigned int npools;
	struct pool_ref pools[VIRTIO_VMBUF_MAX_POOLS];
	/* Events that arrived while waiting for an answer (wire format). */
	struct virtio_vmbuf_event events[EVENTS_MAX];
	unsigned int ev_head, ev_count;
	bool ev_lost;
	struct watch watches[WATCHES_MAX];
};

struct vmbuf_buffer {
	struct vmbuf_client *c;
	bool imported, exported;
	uint64_t id;		/* buffer id, or import id */
	uint32_t pool_id;
	uint64_t offset, size;
	void *map;
	int dmabuf;
	uint8_t handle[VMBUF_HANDLE_SIZE];
	char owner[VIRTIO_VMBUF_NAME_MAX + 1];
	struct vmbuf_meta meta;
};

/* Set errno from a negative errno and return -1: the library's one conversion. */
int lib_fail(int r);

/* client.c */
/*
 * Receive one packet, waiting up to @timeout_ms: an answer (returns its
 * status, payload in @buf, fd in *fd) or, with *event set, an event (queued).
 */
int client_recv_packet(struct vmbuf_client *c, void *buf, size_t cap, size_t *len, int *fd,
		       bool *event, int timeout_ms);
/* One virtio-vmbuf request as the "host" VM: returns the response's status. */
int client_vm_call(struct vmbuf_client *c, void *req, size_t len, void *resp, size_t cap);
/* Say HELLO once per connection (learn the pools). */
int client_hello(struct vmbuf_client *c);
struct pool_ref *client_pool_by_id(struct vmbuf_client *c, uint32_t id);
struct pool_ref *client_pool_by_name(struct vmbuf_client *c, const char *name);
/* The memfd of pool @p, asked for once: the fd (owned by the client) or -errno. */
int client_pool_memfd(struct vmbuf_client *c, struct pool_ref *p);

/* Complete watch @w with @error (0 or -errno): its eventfd becomes readable. */
void client_watch_fire(struct watch *w, int error);

#endif
