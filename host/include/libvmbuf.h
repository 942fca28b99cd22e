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

#ifdef __cplusplus
}
#endif

#endif
