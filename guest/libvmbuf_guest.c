/* libvmbuf-guest - guest-side helpers over the dma-heap and /dev/vmbuf UAPIs. */
#include "libvmbuf_guest.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/sync_file.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int vg_heap_path(char *buf, size_t size, const char *pool)
{
	int n = snprintf(buf, size, "/dev/dma_heap/vmbuf-%s", pool);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int vg_heap_ioctl(int heap_fd, uint64_t len, uint32_t fd, uint32_t fd_flags, uint64_t heap_flags,
		  int *out_fd)
{
	struct dma_heap_allocation_data d = {
		.len = len, .fd = fd, .fd_flags = fd_flags, .heap_flags = heap_flags,
	};

	if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &d) < 0)
		return -errno;
	*out_fd = d.fd;
	return 0;
}

int vg_alloc(const char *pool, uint64_t len)
{
	char path[96];
	int heap, fd, r;

	r = vg_heap_path(path, sizeof(path), pool);
	if (r < 0)
		return r;
	heap = open(path, O_RDWR | O_CLOEXEC);
	if (heap < 0)
		return -errno;
	r = vg_heap_ioctl(heap, len, 0, O_RDWR | O_CLOEXEC, 0, &fd);
	close(heap);
	return r < 0 ? r : fd;
}

int vg_sync(int buf_fd, int start, int write)
{
	struct dma_buf_sync s = {
		.flags = (start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) |
			 (write ? DMA_BUF_SYNC_RW : DMA_BUF_SYNC_READ),
	};

	return ioctl(buf_fd, DMA_BUF_IOCTL_SYNC, &s) < 0 ? -errno : 0;
}

/*
 * The process's one open /dev/vmbuf, opened at first use and kept: the
 * module gives each open file its own view (the handles it made or
 * imported) and ends a file's fences when it is closed.
 */
static int vg_dev_fd = -1;

int vg_dev(void)
{
	int fd = __atomic_load_n(&vg_dev_fd, __ATOMIC_ACQUIRE), expected = -1;

	if (fd >= 0)
		return fd;
	fd = open("/dev/vmbuf", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!__atomic_compare_exchange_n(&vg_dev_fd, &expected, fd, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		close(fd);	/* another thread was first */
		fd = expected;
	}
	return fd;
}

int vg_ioctl(unsigned long cmd, void *arg)
{
	int fd = vg_dev();

	if (fd < 0)
		return fd;
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int vg_info(struct vmbuf_info *info)
{
	return vg_ioctl(VMBUF_IOC_INFO, info);
}

int vg_events_open(int flags)
{
	int dev = vg_dev(), fd;

	if (dev < 0)
		return dev;
	fd = fcntl(dev, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (flags & O_NONBLOCK)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}


int vg_fence(const uint8_t *handle, uint64_t value)
{
	struct vmbuf_fence f = { .value = value };
	int r;

	memcpy(f.handle, handle, sizeof(f.handle));
	r = vg_ioctl(VMBUF_IOC_FENCE, &f);
	return r < 0 ? r : f.fd;
}

int vg_signal(const uint8_t *handle, uint64_t value, int32_t error, int wait_fd)
{
	struct vmbuf_signal sg = { .value = value, .error = error, .wait_fd = wait_fd };

	memcpy(sg.handle, handle, sizeof(sg.handle));
	return vg_ioctl(VMBUF_IOC_SIGNAL, &sg);
}

int vg_fence_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct sync_file_info info = { 0 };
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info) < 0)
		return -errno;
	return info.status;
}

uint64_t vg_fence_timestamp_ns(int fd)
{
	struct sync_fence_info fi = { 0 };
	struct sync_file_info info = { .num_fences = 1, .sync_fence_info = (uintptr_t)&fi };

	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info) < 0 || fi.status != 1)
		return 0;
	return fi.timestamp_ns;
}

int vg_wait(const uint8_t *handle, uint64_t value, int timeout_ms)
{
	struct vmbuf_wait w = { .value = value, .timeout_ms = timeout_ms < 0 ? 0 : timeout_ms };
	int r;

	memcpy(w.handle, handle, sizeof(w.handle));
	r = vg_ioctl(VMBUF_IOC_WAIT, &w);
	if (r == -ETIME)
		return 0;
	if (r < 0)
		return r;
	return w.error ? w.error : 1;
}

int vg_fast(int fd)
{
	struct vmbuf_query q = { .fd = fd };

	return vg_ioctl(VMBUF_IOC_QUERY, &q) == 0 && (q.flags & VMBUF_QUERY_FAST);
}

uint32_t vg_fourcc(const char *s)
{
	if (strlen(s) != 4)
		return 0;
	return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

