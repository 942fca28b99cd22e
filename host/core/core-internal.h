/*
 * core-internal - the core's objects and the functions its files offer each
 * other. Not for transports (they use core.h).
 *
 * Files, each calling only the ones listed before it:
 *   vm.c        VM lookups, pool membership, event delivery
 *   timeline.c  a timeline's waiters: wake, end, forget a VM
 *   fast.c      fast-timeline slots in a pool's first page
 *   export.c    exports: lookup by handle and name, access, destroy
 *   buffer.c    buffers: ALLOC, FREE, references
 *   share.c     EXPORT, IMPORT, RELEASE, REVOKE; a VM's imports
 *   signal.c    SIGNAL, WATCH
 *   core.c      the core, VM lifecycle (connect, reset, host clients), HELLO
 *   setup.c     the core's pools and VMs: at start and at run time
 *   request.c   the request table: length and state checks, dispatch
 *   status.c    the JSON state for vmbufctl
 *
 * Lifetimes: a buffer has one reference for its owner (until FREE, reset or
 * disconnect) and one per import; its range goes back to the pool when the
 * last reference goes, and only then leaves its allocator's quota. An export belongs to its buffer and ends at REVOKE,
 * at the owner's FREE, or when the owner goes away; imports outlive it.
 *
 * Request handlers get a private, aligned copy of a request at least as
 * long as the table says (request.c) and return the response length or a
 * negative errno; a failed request changes nothing.
 *
 * Cost: every lookup a request makes (buffer and import by id, export by
 * handle and by name) is a hash table probe, keyed with a per-daemon random
 * key (hash.h), so no request slows down with what the daemon holds
 * (tests/daemon/bench_scale.c measures it).
 */
#ifndef VMBUF_CORE_INTERNAL_H
#define VMBUF_CORE_INTERNAL_H

#include <sys/types.h>

#include "core.h"
#include "hash.h"
#include "hashmap.h"
#include "list.h"
#include "log.h"
#include <linux/virtio_vmbuf.h>

struct export;

/* Host clients (host.sock) act as VMs named "host" in slots after the configured VMs. */
#define CORE_MAX_SLOTS (CONFIG_MAX_VMS + CORE_HOST_SLOTS)

struct buffer {
	struct list link;	/* core.buffers */
	struct list owner_link;	/* owner's buffers, while the owner holds it */
	struct hmap_node id_node;	/* core.buffers_by_id */
	struct list imports;	/* struct import.buf_link */
	uint64_t id;
	struct pool *pool;
	uint64_t off, size;
	struct core_vm *owner;	/* NULL once the owner let go */
	struct core_vm *charged;	/* whose quota pays: the allocator, until the last holder */
	uint64_t addr;		/* where the owner reaches it (vm_map()) */
	unsigned int refs;
	struct export *export;
};

/* A VM waiting for an export's timeline to reach a value. */
struct waiter {
	struct list link;	/* export.waiters, sorted by value */
	struct list vm_link;	/* core_vm.waiters */
	struct core_vm *vm;
	uint64_t value;
};

/*
 * The part of struct virtio_vmbuf_meta before its reserved bytes (which
 * EXPORT requires to be zero): what an export keeps, and only when it is
 * not all zero.
 */
#define EXPORT_META_LEN offsetof(struct virtio_vmbuf_meta, reserved)

struct export {
	struct hmap_node handle_node;	/* core.exports_by_handle */
	struct hmap_node name_node;	/* core.exports_by_name, when named */
	uint64_t tl_value;	/* the timeline: only grows */
	int32_t tl_error;	/* error signalled with tl_value */
	uint32_t flags;
	struct list waiters;
	struct buffer *buf;
	uint8_t *meta;		/* EXPORT_META_LEN bytes, or NULL: all zero */
	uint8_t handle[VIRTIO_VMBUF_HANDLE_SIZE];
	uint8_t access[VIRTIO_VMBUF_MAX_ACCESS];	/* VM slots allowed; 0: unused */
	uint16_t fast_slot;	/* index + 1 in the pool's fast slots (fast.c), 0: none */
	uint16_t fast_tag;
	char name[];		/* NUL-terminated, "" when unnamed */
};

struct import {
	struct list link;	/* importer's imports */
	struct list buf_link;	/* buffer.imports */
	struct hmap_node id_node;	/* core.imports_by_id */
	struct core_vm *vm;	/* the importer */
	uint64_t id;
	struct buffer *buf;
	uint64_t addr;		/* where the importer reaches it (vm_map()) */
	bool mapped;		/* false once REVOKE took the pages away */
};

/* What a VM did, for `vmbufctl status` (docs/vmbufctl.md); only ever grows. */
struct core_vm_counters {
	uint64_t requests;		/* handled, HELLO included */
	uint64_t errors;		/* of those, answered with an error */
	uint64_t bytes_allocated;	/* by ALLOC, in all */
	uint64_t fences_signalled;	/* SIGNALs that moved a timeline */
	uint64_t fences_waited;		/* WATCHes that waited */
	uint64_t waits_abandoned;	/* UNWATCHes: waits the guest gave up (timed out, dropped) */
};

struct core_vm {
	struct core *core;
	const struct config_vm *cfg;	/* NULL: a free slot */
	struct hmap_node name_node;	/* core.vms_by_name */
	unsigned int slot;	/* 1-based; host clients above CONFIG_MAX_VMS */
	bool is_host;
	bool attached;		/* host slots: in use */
	const struct core_vm_ops *ops;	/* the transport's, while connected */
	void *opaque;
	bool connected;
	bool hello;
	uint64_t used;		/* bytes charged to it: its buffers, until their last holder */
	unsigned int nbuffers, nimports, nwaiters;
	unsigned int npools;
	struct pool *pools[CONFIG_POOLS_PER_VM];
	struct list buffers;	/* struct buffer.owner_link */
	struct list imports;	/* struct import.link */
	struct list waiters;	/* struct waiter.vm_link */
	struct pool *blocked;	/* a request waits for zeroing in this pool */
	struct core_vm_counters counters;
	struct log_ratelimit log_rl;	/* core_vm_may_log() */
};

struct core {
	const struct config *cfg;
	uint64_t next_buffer_id, next_import_id;
	unsigned int npools, nvms;	/* slots in use are below (a free one: id 0, cfg NULL) */
	struct list buffers;
	struct hash_key key;	/* for every table below */
	struct hmap buffers_by_id, imports_by_id;
	struct hmap exports_by_handle, exports_by_name;
	struct hmap vms_by_name;
	struct config_vm host_cfg;
	struct core_vm nobody;	/* charged for what removed VMs allocated, until freed */
	struct pool pools[CONFIG_MAX_POOLS];
	struct core_vm vms[CONFIG_MAX_VMS];
	struct core_vm hosts[CORE_HOST_SLOTS];
};

/* An info line @vm can cause at will: rate-limited per VM (core_vm_may_log()). */
#define vm_log_info(vm, ...)                     \
	do {                                     \
		if (core_vm_may_log(vm))         \
			log_info(__VA_ARGS__);   \
	} while (0)

/* vm.c */
/* Every configured VM, then every attached host client: for (i = 0; (vm = vm_next(c, &i));) */
struct core_vm *vm_next(struct core *c, unsigned int *i);
bool vm_in_pool(const struct core_vm *vm, const struct pool *p);
/* Do @a and @b (distinct) share a pool? */
bool vm_shares_pool(const struct core_vm *a, const struct core_vm *b);
/* Send @ev to @vm if it is connected. */
void vm_send_event(struct core_vm *vm, const struct virtio_vmbuf_event *ev);
/* Make a range of @p reachable by @vm through its transport (core_vm_ops.map). */
int vm_map(struct core_vm *vm, const struct pool *p, uint64_t off, uint64_t size, uint64_t *addr);
void vm_unmap(struct core_vm *vm, uint64_t addr, uint64_t size);
/* Hand @vm's waiting request in again (core_vm_ops.resume). */
void vm_resume(struct core_vm *vm);

/* timeline.c: every export carries a timeline (value 0 when exported). */
/* Wake every waiter at or below @value: one event per VM. */
void timeline_wake(struct export *e, uint64_t value, int32_t error);
/* The export ends: every waiter hears TIMELINE_REACHED with @error. */
void timeline_end(struct export *e, int32_t error);
/* Wait for @value: 0, -ENOSPC (the VM's limit) or -ENOMEM. */
int timeline_add_waiter(struct export *e, struct core_vm *vm, uint64_t value);
/* Drop one waiter of @vm at exactly @value: 0 or -ENOENT. */
int timeline_remove_waiter(struct export *e, struct core_vm *vm, uint64_t value);
/* @vm goes away: drop its waiters everywhere. */
void timeline_vm_gone(struct core_vm *vm);

/*
 * fast.c - fast-timeline slots (linux/virtio_vmbuf.h, "Fast timelines"):
 * given to a FAST export whose exporter maps the whole pool, zeroed and
 * tagged when taken, zeroed when given back. No slot free: the export
 * simply has none (its timeline works through the daemon alone).
 */
void fast_slot_take(struct export *e);
void fast_slot_give(struct export *e);
/* Where @e has a slot and waiters in the daemon: ask its signallers to tell at once. */
void fast_slot_want(struct export *e);
/* Does @vm map pools whole (so it can use slots)? */
bool fast_vm_can(const struct core_vm *vm);

/* export.c */
/*
 * Export @b (it has none) as @name ("" for none) with a fresh handle; no VM
 * allowed yet, nobody told. NULL: out of memory or randomness.
 */
struct export *export_new(struct buffer *b, const char *name, uint32_t flags);
/* Let @vm import @e: 0, or -ENOSPC when VIRTIO_VMBUF_MAX_ACCESS VMs are named already. */
int export_allow(struct export *e, const struct core_vm *vm);
/* The VM in @slot is gone: take it off @e's access list (the slot may be reused). */
void export_forget_slot(struct export *e, unsigned int slot);
struct export *export_by_handle(struct core *c, const uint8_t *handle);
/* The live export called @name in @p, or NULL. */
struct export *export_by_name(struct core *c, const struct pool *p, const char *name);
/* Does the export's access list (or flags) let @vm in? */
bool export_allows(const struct export *e, const struct core_vm *vm);
/*
 * May @vm import @e or use its timeline? 0, -ENOENT (no export), -ENXIO (not a
 * member of its pool) or -EACCES (not allowed by the export).
 */
int export_may_use(const struct core_vm *vm, const struct export *e);
/* Tell every VM @e allows (other than its owner) about it: OFFERED or REVOKED. */
void export_notify(struct export *e, uint32_t type);
/* End @e: waiters hear @error, allowed VMs REVOKED. */
void export_destroy(struct export *e, int32_t error);

/* buffer.c */
/* ALLOC: -EAGAIN when it must wait for zeroing (the VM is then blocked on that pool). */
ssize_t buffer_req_alloc(struct core_vm *vm, const void *req, void *out);
ssize_t buffer_req_free(struct core_vm *vm, const void *req, void *out);
/* @vm's own buffer @id, or NULL (another VM's id reads as not found). */
struct buffer *buffer_of_vm(struct core_vm *vm, uint64_t id);
/*
 * The owner lets go of @b: FREE (@why -ECANCELED) or the owner going away
 * (-ENODEV). Ends its export; timeline waiters hear @why.
 */
void buffer_disown(struct core_vm *vm, struct buffer *b, int32_t why);
void buffer_unref(struct buffer *b);

/* share.c */
ssize_t share_req_export(struct core_vm *vm, const void *req, void *out);
ssize_t share_req_import(struct core_vm *vm, const void *req, void *out);
ssize_t share_req_release(struct core_vm *vm, const void *req, void *out);
ssize_t share_req_revoke(struct core_vm *vm, const void *req, void *out);
/* Release every import of @vm; tell the VMs sharing a pool with it that it is gone. */
void share_vm_gone(struct core_vm *vm);

/* signal.c */
ssize_t signal_req_signal(struct core_vm *vm, const void *req, void *out);
ssize_t signal_req_watch(struct core_vm *vm, const void *req, void *out);
ssize_t signal_req_query(struct core_vm *vm, const void *req, void *out);
ssize_t signal_req_unwatch(struct core_vm *vm, const void *req, void *out);

/* core.c */
ssize_t core_req_hello(struct core_vm *vm, const void *req, void *out);
ssize_t core_req_bye(struct core_vm *vm, const void *req, void *out);

#endif
