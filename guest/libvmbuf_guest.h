/*
 * libvmbuf-guest - a small library over vmbuf's guest interfaces: the
 * dma-heap ALLOC ioctl on /dev/dma_heap/vmbuf-<pool> and /dev/vmbuf.
 * Functions return 0 or a file descriptor on success, a negative errno on
 * failure, and never print.
 */
#ifndef VMBUF_GUEST_H
#define VMBUF_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include <linux/vmbuf.h>

/* Path of the heap of @pool ("/dev/dma_heap/vmbuf-<pool>") into @buf. */
int vg_heap_path(char *buf, size_t size, const char *pool);

/* Allocate @len bytes from @pool's heap; returns a dma-buf fd (O_RDWR|O_CLOEXEC). */
int vg_alloc(const char *pool, uint64_t len);

/* Raw DMA_HEAP_IOCTL_ALLOC on an open heap fd, for ABI tests. Returns 0 or -errno. */
int vg_heap_ioctl(int heap_fd, uint64_t len, uint32_t fd, uint32_t fd_flags, uint64_t heap_flags,
		  int *out_fd);

/* DMA_BUF_IOCTL_SYNC start/end around CPU access. */
int vg_sync(int buf_fd, int start, int write);

/* VMBUF_IOC_INFO. */
int vg_info(struct vmbuf_info *info);

/*
 * The process's /dev/vmbuf, opened once and kept (O_CLOEXEC): the module
 * gives each open file its own view of handles and events, and a file's
 * fences end when it is closed. Returns the fd or -errno.
 */
int vg_dev(void);

/* Run one ioctl on vg_dev() (EXPORT, IMPORT, REVOKE, QUERY, ...). Returns 0 or -errno. */
int vg_ioctl(unsigned long cmd, void *arg);

/*
 * A descriptor of vg_dev()'s open file for reading events (O_CLOEXEC, plus
 * @flags such as O_NONBLOCK, which the two then share): the process hears
 * about the handles it made or imported through vg_ioctl().
 */
int vg_events_open(int flags);


/* VMBUF_IOC_FENCE: a sync_file fd for (handle, value), or -errno. */
int vg_fence(const uint8_t *handle, uint64_t value);

/* VMBUF_IOC_SIGNAL now (@wait_fd < 0) or when @wait_fd completes. */
int vg_signal(const uint8_t *handle, uint64_t value, int32_t error, int wait_fd);

/*
 * Wait up to @timeout_ms for sync_file @fd. Returns 1 when signalled without
 * error, 0 when still pending after @timeout_ms, the fence's negative error
 * when it completed with one.
 */
int vg_fence_wait(int fd, int timeout_ms);

/* CLOCK_MONOTONIC time (ns) at which sync_file @fd's fence signalled, or 0. */
uint64_t vg_fence_timestamp_ns(int fd);

/*
 * Wait for (handle, value) in the kernel (VMBUF_IOC_WAIT: the same fence, no
 * sync_file): returns as vg_fence_wait() does.
 */
int vg_wait(const uint8_t *handle, uint64_t value, int timeout_ms);

/* Does vmbuf dma-buf @fd's timeline have a slot in pool memory here (VMBUF_QUERY_FAST)? */
int vg_fast(int fd);

/* DRM fourcc from its four characters ("XR24"); 0 for a string of another length. */
uint32_t vg_fourcc(const char *s);

/* Fill patterns and handle text live in textforms.h. */
#include "textforms.h"

#endif
