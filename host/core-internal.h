/*
 * core-internal - the core's objects, shared by core.c (VMs, pools,
 * dispatch, status) and share.c (buffers, exports, imports, events).
 * Not for transports.
 *
 * Lifetimes: a buffer has one reference for its owner (until FREE, reset or
 * disconnect) and one per import; its range goes back to the pool when the
 * last reference goes. An export belongs to its buffer and ends at REVOKE,
 * at the owner's FREE, or when the owner goes away; imports outlive it.
 */
#ifndef VMBUF_CORE_INTERNAL_H
#define VMBUF_CORE_INTERNAL_H

#include "core.h"
#include "list.h"
#include <linux/virtio_vmbuf.h>

struct export;

/* Host clients (host.sock) act as VMs named "host" in slots after the configured VMs. */
#define CORE_HOST_SLOTS 32
#define CORE_MAX_SLOTS (CONFIG_MAX_VMS + CORE_HOST_SLOTS)

struct buffer {
	struct list link;	/* core.buffers */
	struct list owner_link;	/* owner's buffers, while the owner holds it */
	uint64_t id;
	struct pool *pool;
	uint64_t off, size;
	struct core_vm *owner;	/* NULL once the owner let go */
	unsigned int refs;
	struct export *export;
};

/* A VM waiting for an export's timeline to reach a value. */
struct waiter {
	struct list link;	/* export.waiters, sorted by value */
	struct core_vm *vm;
	uint64_t value;
};

struct export {
	struct list link;	/* core.exports */
	uint64_t tl_value;	/* the timeline: only grows */
	int32_t tl_error;	/* error signalled with tl_value */
	struct list waiters;
	uint8_t handle[VIRTIO_VMBUF_HANDLE_SIZE];
	char name[VIRTIO_VMBUF_NAME_MAX];
	uint32_t flags;
	struct buffer *buf;
	bool allowed[CONFIG_MAX_VMS];	/* by VM slot - 1 */
	struct virtio_vmbuf_meta meta;
};

struct import {
	struct list link;	/* importer's imports */
	uint64_t id;
	struct buffer *buf;
};

struct core_vm {
	struct core *core;
	const struct config_vm *cfg;
	unsigned int slot;	/* 1-based; host clients above CONFIG_MAX_VMS */
	bool is_host;
	bool attached;		/* host slots: in use */
	void *user;		/* the transport's, see core_vm_set_user() */
	bool connected;
	bool hello;
	uint64_t used;		/* bytes of buffers it owns */
	unsigned int nbuffers, nimports, nwaiters;
	unsigned int npools;
	struct pool *pools[CONFIG_POOLS_PER_VM];
	struct list buffers;	/* struct buffer.owner_link */
	struct list imports;	/* struct import.link */
};

struct core {
	const struct config *cfg;
	uint64_t next_buffer_id, next_import_id;
	unsigned int npools, nvms;
	struct list buffers;
	struct list exports;
	core_event_fn event_fn;
	void *event_opaque;
	struct config_vm host_cfg;
	struct pool pools[CONFIG_MAX_POOLS];
	struct core_vm vms[CONFIG_MAX_VMS];
	struct core_vm hosts[CORE_HOST_SLOTS];
};

/* Every configured VM, then every attached host client: for (i = 0; (vm = ...(c, &i));) */
struct core_vm *core_vm_next(struct core *c, unsigned int *i);

bool core_vm_in_pool(const struct core_vm *vm, const struct pool *p);

/* share.c: one handler per sharing request (length already checked by type). */
ssize_t share_export(struct core_vm *vm, const void *req, size_t len, void *out);
ssize_t share_import(struct core_vm *vm, const void *req, size_t len, void *out);
ssize_t share_release(struct core_vm *vm, const void *req, size_t len, void *out);
ssize_t share_revoke(struct core_vm *vm, const void *req, size_t len, void *out);

/* timeline.c: every export carries a timeline (value 0 when exported). */
ssize_t timeline_signal(struct core_vm *vm, const void *req, size_t len, void *out);
ssize_t timeline_watch(struct core_vm *vm, const void *req, size_t len, void *out);
/* The export ends: every waiter hears TIMELINE_REACHED with @error. */
void timeline_end(struct export *e, int32_t error);
/* @vm goes away: drop its waiters everywhere. */
void timeline_vm_gone(struct core_vm *vm);

/* share.c helpers timeline.c uses. */
struct export *share_export_by_handle(struct core *c, const uint8_t *handle);
/*
 * May @vm import @e or use its timeline? 0, -ENOENT (no export), -ENXIO (not a
 * member of its pool) or -EACCES (not allowed by the export).
 */
int share_may_use(const struct core_vm *vm, const struct export *e);

/*
 * The owner lets go of @b: FREE (@why -ECANCELED) or the owner going away
 * (-ENODEV). Ends its export; timeline waiters hear @why.
 */
void share_buffer_disown(struct core_vm *vm, struct buffer *b, int32_t why);
void share_buffer_unref(struct buffer *b);

/* Release every import of @vm; tell the VMs sharing a pool with it that it is gone. */
void share_vm_gone(struct core_vm *vm);

/* Send @ev to @vm if it is connected. */
void core_send_event(struct core_vm *vm, const struct virtio_vmbuf_event *ev);

#endif
