/*
 * util - small helpers used across vmbufd, vmbufctl and the tests.
 *
 * Project-wide return convention: functions returning int give 0 (or a
 * positive count) on success and a negative errno on failure; functions
 * returning pointers give NULL only for "not found" and say so. Ownership
 * moves with "*out = x; x = NULL;" and the _cleanup_ helpers below release
 * whatever was not moved.
 */
#ifndef VMBUF_UTIL_H
#define VMBUF_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* Return the fd and forget it, for ownership transfer out of a _cleanup_close_. */
static inline int fd_steal(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

static inline void *ptr_steal(void *pp)
{
	void *p = *(void **)pp;

	*(void **)pp = NULL;
	return p;
}

/* Round up to a power-of-two alignment; 0 when it would overflow. */
static inline uint64_t align_up(uint64_t v, uint64_t align)
{
	if (v > UINT64_MAX - (align - 1))
		return 0;
	return (v + align - 1) & ~(align - 1);
}

static inline int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static inline bool mem_is_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Copy a NUL-terminated string into a fixed field, NUL-padded; -ENAMETOOLONG. */
int str_to_field(char *field, size_t size, const char *s);

/* Copy a fixed field (maybe not terminated) into a C string of size + 1. */
void field_to_str(char *out, const char *field, size_t size);

/*
 * Parse a size with an optional K, M or G suffix (powers of 1024).
 * Returns 0 or -EINVAL / -ERANGE.
 */
int parse_size(const char *s, uint64_t *out);

/* A DRM fourcc code, as struct vmbuf_meta carries it ('XR24', 'AR24', 'NV12'). */
#define FOURCC(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* Parse an unsigned integer (decimal or 0x hex) that uses the whole string. */
int parse_u64(const char *s, uint64_t *out);

/* A valid object name: 1..31 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
int name_valid(const char *s);

/*
 * Split a comma-separated list of VM names (modified in place) into @vms,
 * which holds @max; *@n counts what is there and grows. -EINVAL for a name
 * that is not valid, -E2BIG past @max.
 */
int vm_list_parse(char *list, const char **vms, unsigned int *n, unsigned int max);

/* The symbolic name of errno @e ("EACCES"), or "?" for a value without one. */
const char *errno_name(int e);

/* snprintf that fails with -ENAMETOOLONG instead of truncating. */
int str_printf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct iovec;
/*
 * sendmsg() of @iov with @fd (if >= 0) attached as SCM_RIGHTS, never blocking,
 * never raising SIGPIPE. Returns bytes sent or -errno.
 */
ssize_t sock_send_fd(int sock, const struct iovec *iov, int iovcnt, int fd);

/* Write all of buf to fd (blocking fds only). */
int write_all(int fd, const void *buf, size_t len);

#endif
