/*
 * ivshmem server protocol framing: one int64 with SCM_RIGHTS for at most one
 * fd per sendmsg(), so each fd arrives with the 8 bytes it belongs to.
 */
#include "ivshmem.h"

#include "util.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ivshmem_send(int sock, int64_t value, int fd)
{
	uint64_t le = htole64((uint64_t)value);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	ssize_t n = sock_send_fd(sock, &iov, 1, fd);

	if (n < 0)
		return (int)n;
	return n == sizeof(le) ? 0 : -EIO;
}

int ivshmem_send_setup(int sock, uint16_t own_id, int shm_fd)
{
	int r;

	r = ivshmem_send(sock, IVSHMEM_PROTOCOL_VERSION, -1);
	if (r >= 0)
		r = ivshmem_send(sock, own_id, -1);
	if (r >= 0)
		r = ivshmem_send(sock, IVSHMEM_SHM_MSG, shm_fd);
	return r;
}

int ivshmem_send_peer(int sock, uint16_t peer, const int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		int r = ivshmem_send(sock, peer, fds[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

int ivshmem_recv(int sock, int64_t *value, int *fd)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint64_t le;
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t nfds;
		int fds[4];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
		for (size_t i = 0; i < nfds; i++) {
			if (*fd < 0)
				*fd = fds[i];
			else
				close(fds[i]);
		}
	}
	if (n == 0)
		return -ECONNRESET;
	if (n != sizeof(le)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EPROTO;
	}
	*value = (int64_t)le64toh(le);
	return 0;
}
