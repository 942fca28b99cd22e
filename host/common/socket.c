/*
 * socket - listening unix sockets and their directories (see socket.h).
 */
#include "socket.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int socket_own(const char *path, gid_t gid)
{
	if (gid != (gid_t)-1 && chown(path, 0, gid) < 0)
		return -errno;
	return 0;
}

int socket_listen_unix(const char *path, int type, mode_t mode, gid_t gid, int *out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	/* Replace a stale socket, never any other kind of file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, mode) < 0 ||
	    socket_own(path, gid) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		unlink(path);
		return r;
	}
	*out = fd;
	return 0;
}

int socket_accept(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

int socket_accept_exclusive(int listen_fd, bool busy, const char *vm, const char *what)
{
	int fd = socket_accept(listen_fd);

	if (fd < 0 || !busy)
		return fd;
	log_warn("vm '%s': second %s connection refused (EBUSY)", vm, what);
	close(fd);
	return -EBUSY;
}

int socket_dir_make(const char *path, mode_t mode, gid_t gid)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return socket_own(path, gid);
}

bool socket_hung_up(int fd, uint32_t events)
{
	char buf[64];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0)
			return true;
		if (errno == EINTR)
			continue;
		return errno != EAGAIN || (events & (EPOLLHUP | EPOLLERR));
	}
}

int socket_serve_unix(struct loop *loop, const char *path, int type, mode_t mode, gid_t gid,
		      loop_cb cb, void *data, int *fd, struct loop_source **src)
{
	int r = socket_listen_unix(path, type, mode, gid, fd);

	if (r < 0) {
		*fd = -1;
		return r;
	}
	r = loop_add(loop, *fd, EPOLLIN, cb, data, src);
	if (r < 0) {
		socket_unserve(NULL, *fd, path);
		*fd = -1;
	}
	return r;
}

void socket_unserve(struct loop_source *src, int fd, const char *path)
{
	loop_remove(src);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}
