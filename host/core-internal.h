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

struct export {
	struct list link;	/* core.exports */
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
	unsigned int slot;	/* 1-based */
	bool connected;
	bool hello;
	uint64_t used;		/* bytes of buffers it owns */
	unsigned int nbuffers, nimports;
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
	struct pool pools[CONFIG_MAX_POOLS];
	struct core_vm vms[CONFIG_MAX_VMS];
};

bool core_vm_in_pool(const struct core_vm *vm, const struct pool *p);

/* share.c: one handler per sharing request (length already checked by type). */
ssize_t share_export(struct core_vm *vm, const void *req, size_t len, void *out);
ssize_t share_import(struct core_vm *vm, const void *req, size_t len, void *out);
ssize_t share_release(struct core_vm *vm, const void *req, size_t len, void *out);
ssize_t share_revoke(struct core_vm *vm, const void *req, size_t len, void *out);

/* The owner lets go of @b (FREE, reset, disconnect): ends its export. */
void share_buffer_disown(struct core_vm *vm, struct buffer *b);
void share_buffer_unref(struct buffer *b);

/* Release every import of @vm; tell the VMs sharing a pool with it that it is gone. */
void share_vm_gone(struct core_vm *vm);

/* Send @ev to @vm if it is connected. */
void core_send_event(struct core_vm *vm, const struct virtio_vmbuf_event *ev);

#endif
