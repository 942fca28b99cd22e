/* udmabuf - UDMABUF_CREATE over a memfd range (see udmabuf.h). */
#include "udmabuf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <unistd.h>

int udmabuf_create(int memfd, uint64_t offset, uint64_t size)
{
	struct udmabuf_create u = {
		.memfd = memfd, .flags = UDMABUF_FLAGS_CLOEXEC, .offset = offset, .size = size,
	};
	int dev, fd, err;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	fd = ioctl(dev, UDMABUF_CREATE, &u);
	err = errno;
	close(dev);
	return fd < 0 ? -err : fd;
}
