/*
 * core - vmbufd's state and the virtio-vmbuf request semantics, independent
 * of any transport. Transports identify the VM a request came from (by the
 * socket it arrived on) and call core_vm_request(); they never look inside.
 *
 * Lifetime: a VM exists for the daemon's whole life (it comes from the
 * config); it is "connected" while a transport has it. core_vm_disconnect()
 * and core_vm_reset() release everything the VM holds.
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

/* Where the core sends events (OFFERED, REVOKED, PEER_GONE) for a connected VM. */
typedef void (*core_event_fn)(void *opaque, struct core_vm *vm,
			      const struct virtio_vmbuf_event *ev);

int core_new(struct core **out, const struct config *cfg);
void core_free(struct core *c);
void core_set_event_sink(struct core *c, core_event_fn fn, void *opaque);

unsigned int core_vm_count(const struct core *c);
struct core_vm *core_vm_at(struct core *c, unsigned int i);
struct core_vm *core_vm_by_name(struct core *c, const char *name);
const char *core_vm_name(const struct core_vm *vm);

unsigned int core_pool_count(const struct core *c);
struct pool *core_pool_at(struct core *c, unsigned int i);
struct pool *core_pool_by_name(struct core *c, const char *name);
bool core_pool_has_member(const struct core *c, const struct pool *p, const struct core_vm *vm);

/* ivshmem peer id of @vm on @pool's device: (pool id << 8) | VM slot. */
uint16_t core_pool_position(const struct pool *p, const struct core_vm *vm);

/* The VM's slot (1-based, its index in the config + 1). */
unsigned int core_vm_slot(const struct core_vm *vm);

/*
 * Host clients: core_host_attach() gives a connected pseudo-VM named "host",
 * a member of every pool, allowed to import exports flagged
 * VIRTIO_VMBUF_EXPORT_HOST; NULL when all slots are in use.
 * core_host_detach() releases everything it held.
 */
struct core_vm *core_host_attach(struct core *c);
void core_host_detach(struct core_vm *vm);
bool core_vm_is_host(const struct core_vm *vm);

/* A pointer the transport keeps with a VM (e.g. its connection). */
void core_vm_set_user(struct core_vm *vm, void *user);
void *core_vm_user(const struct core_vm *vm);

/* -EBUSY when the VM is already connected. */
int core_vm_connect(struct core_vm *vm);
void core_vm_disconnect(struct core_vm *vm);
/*
 * Driver reset: release everything (exports revoked, imports released, peers
 * told PEER_GONE), stay connected, expect HELLO again.
 */
void core_vm_reset(struct core_vm *vm);

/*
 * Handle one request of @len bytes (copied out of guest memory by the
 * transport) and write the response to @resp. Returns the response length,
 * at most @cap (give VIRTIO_VMBUF_MSG_MAX to always get a whole response).
 * Any byte sequence at any alignment is a valid input; requests longer than
 * VIRTIO_VMBUF_MSG_MAX get -EMSGSIZE.
 */
size_t core_vm_request(struct core_vm *vm, const void *req, size_t len, void *resp, size_t cap);

/* Write the daemon's state as one JSON object (see docs/vmbufctl.md). */
int core_status_json(struct core *c, FILE *out);

#endif
