/*
 * libvmbuf - host client library for vmbufd (SPDX-License-Identifier: MIT).
 *
 * A client talks to the daemon over SOCKET_DIR/host.sock (default /run/vmbuf),
 * which admits root and members of the daemon's host-group. One client is one
 * connection; calls on it are synchronous and not thread-safe (use one client
 * per thread).
 *
 * Errors: functions returning a pointer return NULL, functions returning int
 * or ssize_t return -1; both set errno. Errno values are the daemon's, e.g.
 * EACCES (not allowed), ENOENT (no such pool), EPERM (root only).
 */
#ifndef LIBVMBUF_H
#define LIBVMBUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The guest UAPI's types, shared with guests: struct vmbuf_meta, struct
 * vmbuf_event, VMBUF_HANDLE_SIZE, VMBUF_EXPORT_*, VMBUF_EVENT_* (installed
 * as <vmbuf/linux/vmbuf.h>; pkg-config's Cflags put it on the path).
 */
#include <linux/vmbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vmbuf_client;

/*
 * Connect to the daemon. @socket_dir may be NULL for $VMBUF_SOCKET_DIR or
 * /run/vmbuf. Returns a client to free with vmbuf_client_disconnect().
 */
struct vmbuf_client *vmbuf_client_connect(const char *socket_dir);

/* Close the connection and free @c (NULL is fine). */
void vmbuf_client_disconnect(struct vmbuf_client *c);

/*
 * The daemon's state as one JSON object (pools with their buffers, VMs), as
 * documented in docs/vmbufctl.md. Returns a NUL-terminated string to free().
 */
char *vmbuf_client_status_json(struct vmbuf_client *c);

/*
 * Copy @len bytes (at most 65536) of pool @pool at @offset into @buf. Root
 * only (EPERM otherwise); EINVAL when the range leaves the pool. Returns the
 * bytes copied.
 */
ssize_t vmbuf_client_read_pool(struct vmbuf_client *c, const char *pool, uint64_t offset,
			       void *buf, size_t len);

struct vmbuf_buffer;

/*
 * Import an export by @name (looked up in every pool) or, when @name is NULL,
 * by @handle. The export must allow host clients (VMBUF_EXPORT_HOST): EACCES
 * otherwise, ENOENT when there is no such export. The buffer holds a
 * reference on the pages until vmbuf_buffer_release().
 */
struct vmbuf_buffer *vmbuf_buffer_import(struct vmbuf_client *c, const char *name,
					 const uint8_t *handle);

/* Allocate @size bytes (rounded up to a page) in pool @pool; the memory reads as zero. */
struct vmbuf_buffer *vmbuf_buffer_alloc(struct vmbuf_client *c, const char *pool, uint64_t size);

/*
 * Share a buffer this client allocated: with the @nvms VMs in @vms and as
 * @flags (VMBUF_EXPORT_POOL, VMBUF_EXPORT_HOST, VMBUF_EXPORT_SIGNAL) say, under @name (unique in the pool; NULL for handle only), with
 * @meta (may be NULL). Writes the handle (a capability) to @handle.
 */
int vmbuf_buffer_export(struct vmbuf_buffer *b, const char *name, unsigned int flags,
			const char *const *vms, unsigned int nvms, const struct vmbuf_meta *meta,
			uint8_t *handle);

/* The buffer's bytes, mapped shared and writable (mapped once, unmapped at release). */
void *vmbuf_buffer_map(struct vmbuf_buffer *b);

/*
 * A dma-buf fd over the buffer's pages from /dev/udmabuf (owned by the buffer,
 * closed at release). ENODEV when the host has no udmabuf: use
 * vmbuf_buffer_map() or vmbuf_buffer_memfd() instead.
 */
int vmbuf_buffer_dmabuf(struct vmbuf_buffer *b);

/* The pool's memfd (owned by the client) and the buffer's offset in it. */
int vmbuf_buffer_memfd(struct vmbuf_buffer *b, uint64_t *offset);

uint64_t vmbuf_buffer_size(const struct vmbuf_buffer *b);
const struct vmbuf_meta *vmbuf_buffer_meta(const struct vmbuf_buffer *b);
const uint8_t *vmbuf_buffer_handle(const struct vmbuf_buffer *b);	/* NULL if not shared */
const char *vmbuf_buffer_owner(const struct vmbuf_buffer *b);	/* exporting VM or "host" */

/* Let go: RELEASE an import, FREE an allocation (ending its export). */
void vmbuf_buffer_release(struct vmbuf_buffer *b);

/* Advance the timeline of export @handle to @value (with @error, 0 or -errno). */
int vmbuf_signal(struct vmbuf_client *c, const uint8_t *handle, uint64_t value, int error);

/*
 * Wait up to @timeout_ms (-1: forever) for the timeline of @handle to reach
 * @value. Returns 0; or -1 with errno ETIMEDOUT (this call gave up), the
 * producer's error, ECANCELED (export revoked) or ENODEV (its VM is gone).
 */
int vmbuf_wait(struct vmbuf_client *c, const uint8_t *handle, uint64_t value, int timeout_ms);

/*
 * An eventfd (O_CLOEXEC|O_NONBLOCK) that becomes readable when the timeline of
 * @handle reaches @value: for event loops. The library writes it from
 * vmbuf_client_dispatch(), which the loop calls whenever vmbuf_client_fd() is
 * readable (vmbuf_wait() and vmbuf_next_event() dispatch too). At most 64
 * watches per client (ENOSPC).
 *
 * The eventfd belongs to the library until vmbuf_watch_error() has returned
 * the result for it (0, or a negative errno as for vmbuf_wait(); -EINPROGRESS
 * before it fired): then the caller closes it. vmbuf_watch_cancel() gives up
 * a watch and closes the eventfd.
 */
int vmbuf_watch(struct vmbuf_client *c, const uint8_t *handle, uint64_t value);
int vmbuf_watch_error(struct vmbuf_client *c, int eventfd);
void vmbuf_watch_cancel(struct vmbuf_client *c, int eventfd);

/* Read what the daemon sent without blocking; fire the eventfds it completes. 0 or -1. */
int vmbuf_client_dispatch(struct vmbuf_client *c);

/*
 * The next event (struct vmbuf_event of linux/vmbuf.h: OFFERED, REVOKED,
 * PEER_GONE, TIMELINE), waiting up to @timeout_ms: 0, or -1 with errno ETIMEDOUT.
 */
int vmbuf_next_event(struct vmbuf_client *c, struct vmbuf_event *ev, int timeout_ms);

/* The connection's fd: readable when an event may be waiting (for poll loops). */
int vmbuf_client_fd(const struct vmbuf_client *c);

#ifdef __cplusplus
}
#endif

#endif
