/*
 * socket - the daemon's listening unix sockets and the directories they live
 * in, shared by every transport and by host.sock.
 *
 * Return convention (util.h): 0 or a negative errno.
 */
#ifndef VMBUF_SOCKET_H
#define VMBUF_SOCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"

/*
 * Listen on @path with a non-blocking, close-on-exec socket of @type
 * (SOCK_STREAM, SOCK_SEQPACKET), mode @mode, group @gid ((gid_t)-1: root's).
 * A stale socket at @path is replaced, any other kind of file is not
 * (-EEXIST).
 */
int socket_listen_unix(const char *path, int type, mode_t mode, gid_t gid, int *out);

/*
 * socket_listen_unix() and watch the socket with @cb(@data) in @loop: *@fd
 * and *@src are set on success; on failure nothing is left behind (*@fd -1).
 */
int socket_serve_unix(struct loop *loop, const char *path, int type, mode_t mode, gid_t gid,
		      loop_cb cb, void *data, int *fd, struct loop_source **src);

/* Undo socket_serve_unix(): stop watching, close, unlink. @fd < 0: nothing to close. */
void socket_unserve(struct loop_source *src, int fd, const char *path);

/* Accept one connection, non-blocking and close-on-exec: the fd or -errno. */
int socket_accept(int listen_fd);

/*
 * Accept the one connection VM @vm may have on @listen_fd: the fd, or -EBUSY
 * when @busy (the connection is refused and closed, with a warning naming
 * @vm and @what), or another -errno.
 */
int socket_accept_exclusive(int listen_fd, bool busy, const char *vm, const char *what);

/* mkdir @path with @mode (an existing directory is fine) and give it to @gid. */
int socket_dir_make(const char *path, mode_t mode, gid_t gid);

/*
 * For a connection whose peer only ever hangs up (QEMU's ivshmem and the
 * like): drain what it sent; true when it is gone (@events from epoll).
 */
bool socket_hung_up(int fd, uint32_t events);

#endif
