/*
 * core - vmbufd's state and the meaning of every virtio-vmbuf request,
 * independent of any transport. The core never includes a transport:
 * transports call it.
 *
 * A transport identifies the VM a request came from (by the socket it
 * arrived on), connects it with core_vm_connect() and a struct core_vm_ops
 * (how to reach that VM), hands it every request with core_vm_request(),
 * and disconnects it when its connection ends. Host clients (host.sock) are
 * pseudo-VMs named "host", attached the same way with core_host_attach().
 *
 * Lifetime: a configured VM exists for the daemon's whole life; it is
 * "connected" while a transport has it. core_vm_reset() and
 * core_vm_disconnect() release everything the VM holds.
 *
 * Return convention (util.h): 0 or a negative errno; lookups return NULL
 * for "not found".
 */
#ifndef VMBUF_CORE_H
#define VMBUF_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "pool.h"

struct core;
struct core_vm;
struct virtio_vmbuf_event;

/* How the core reaches one connected VM: filled in by its transport. */
struct core_vm_ops {
	/*
	 * Deliver one event (OFFERED, REVOKED, PEER_GONE, TIMELINE_REACHED).
	 * Never blocks: a transport that cannot queue it drops it and flags a
	 * later one VIRTIO_VMBUF_EVT_F_LOST.
	 */
	void (*event)(void *opaque, const struct virtio_vmbuf_event *ev);
	/* What HELLO's pool locators mean on this transport: VIRTIO_VMBUF_LOCATOR_*. */
	uint32_t locator_kind;
	/* Where this VM finds @pool's memory (NULL: every locator is 0). */
	uint64_t (*locate)(void *opaque, const struct pool *pool);
	/*
	 * For transports that give a VM one buffer at a time instead of whole
	 * pools (NULL: the VM reaches a buffer at its pool offset). map() makes
	 * [@off, @off + @size) of @pool reachable by the VM and says where
	 * (*addr, in the terms of locator_kind), before the request that needs
	 * it is answered: 0 or a negative errno, which fails that request.
	 * unmap() takes a mapping away again; it cannot fail.
	 */
	int (*map)(void *opaque, const struct pool *pool, uint64_t off, uint64_t size,
		   uint64_t *addr);
	void (*unmap)(void *opaque, uint64_t addr, uint64_t size);
	/*
	 * A request core_vm_request() left waiting (it returned 0) can make
	 * progress now: hand it in again. Called from core_clean(), never from
	 * inside a request.
	 */
	void (*resume)(void *opaque);
	/*
	 * The daemon stops (core_shutdown()): tell the VM now, so that what it
	 * waits for ends at once. NULL: nothing to tell (host clients see their
	 * socket close).
	 */
	void (*gone)(void *opaque);
};

int core_new(struct core **out, const struct config *cfg);
/*
 * Tell every connected VM that the daemon stops (core_vm_ops.gone), before
 * the transports close. Nothing is released or zeroed: guests may still
 * map their buffers.
 */
void core_shutdown(struct core *c);
void core_free(struct core *c);

/*
 * VM slots and pool ids to look at: core_vm_at(c, i) is the VM in slot i + 1
 * and core_pool_at(c, i) the pool with id i + 1, or NULL for a free one.
 */
unsigned int core_vm_count(const struct core *c);
struct core_vm *core_vm_at(struct core *c, unsigned int i);
struct core_vm *core_vm_by_name(struct core *c, const char *name);
const char *core_vm_name(const struct core_vm *vm);
/* The VM's slot: 1-based, its index in the config + 1, stable for the daemon's life. */
unsigned int core_vm_slot(const struct core_vm *vm);
/*
 * May a log line that @vm can cause at will go out now? At most 10 per 10 s
 * per VM, then one line saying how many were not logged (docs/security.md).
 */
bool core_vm_may_log(struct core_vm *vm);
/* The bytes of every pool @vm is a member of, added up. */
uint64_t core_vm_pools_size(const struct core_vm *vm);
/* Is a transport connected for @vm? */
bool core_vm_connected(const struct core_vm *vm);
/* The pools @vm is a member of: core_vm_pool(vm, i) for i < core_vm_pool_count(vm). */
unsigned int core_vm_pool_count(const struct core_vm *vm);
struct pool *core_vm_pool(const struct core_vm *vm, unsigned int i);

unsigned int core_pool_count(const struct core *c);
struct pool *core_pool_at(struct core *c, unsigned int i);
struct pool *core_pool_by_name(struct core *c, const char *name);
bool core_pool_has_member(const struct core *c, const struct pool *p, const struct core_vm *vm);

/*
 * Changes at run time (the daemon's reconfig.c decides, the transports
 * follow; nothing is told to guests here).
 *
 * core_set_config(): the configuration to follow from now on; every VM and
 * pool the core has is looked up in it by name (new limits apply at once),
 * and VMs and pools point into it, so it must outlive the next call.
 * core_pool_add() makes a pool (-ENOSPC: no free id; memfd errors);
 * core_pool_busy() says whether one may go (-EBUSY and why: buffers held,
 * a member connected); core_pool_remove() drops one that is not busy.
 * core_vm_add() makes a VM in a free slot (-ENOSPC), member of the pools
 * the configuration gives it; core_vm_remove() disconnects @vm (as its
 * death would) and frees its slot.
 */
void core_set_config(struct core *c, const struct config *cfg);
int core_pool_add(struct core *c, const struct config_pool *pc, struct pool **out);
int core_pool_busy(struct core *c, const struct pool *p, char *why, size_t len);
void core_pool_remove(struct core *c, struct pool *p);
int core_vm_add(struct core *c, const struct config_vm *vc, struct core_vm **out);
void core_vm_remove(struct core_vm *vm);

/* Connect @vm through a transport: -EBUSY when it is connected already. */
int core_vm_connect(struct core_vm *vm, const struct core_vm_ops *ops, void *opaque);
void core_vm_disconnect(struct core_vm *vm);
/*
 * Driver reset: release everything (exports revoked, imports released, peers
 * told PEER_GONE), stay connected, expect HELLO again.
 */
void core_vm_reset(struct core_vm *vm);

/* Host clients connected at once, at most. */
#define CORE_HOST_SLOTS 32

/*
 * Host clients: a connected pseudo-VM named "host", a member of every pool,
 * allowed to import exports flagged VIRTIO_VMBUF_EXPORT_HOST; NULL when all
 * slots are in use. core_host_detach() releases everything it held.
 */
struct core_vm *core_host_attach(struct core *c, const struct core_vm_ops *ops, void *opaque);
void core_host_detach(struct core_vm *vm);

/*
 * Handle one request of @len bytes (copied out of guest memory by the
 * transport) and write the response to @resp. Returns the response length,
 * at most @cap (give VIRTIO_VMBUF_MSG_MAX to always get a whole response).
 * Any byte sequence at any alignment is a valid input; requests longer than
 * VIRTIO_VMBUF_MSG_MAX get -EMSGSIZE. See request.c for the table.
 *
 * Returns 0 when the request must wait (an ALLOC that only memory still
 * being zeroed could satisfy): nothing changed; the transport keeps the
 * request, and the VM's later ones behind it, and hands it in again when
 * core_vm_ops.resume is called.
 */
size_t core_vm_request(struct core_vm *vm, const void *req, size_t len, void *resp, size_t cap);

/*
 * Zero up to @budget bytes of freed memory (pool.h) and resume the VMs
 * whose requests waited for it. The daemon calls it after every turn of its
 * loop; returns true while memory is still waiting (call again soon).
 */
bool core_clean(struct core *c, uint64_t budget);

/* "ALLOC", "EXPORT", ... for logs; "unknown" for anything else. */
const char *core_request_name(uint32_t type);
/* "OFFERED", "REVOKED", ... for logs; "unknown" for anything else. */
const char *core_event_name(uint32_t type);

/* Write the daemon's state as one JSON object (see docs/vmbufctl.md). */
int core_status_json(struct core *c, FILE *out);

#endif
