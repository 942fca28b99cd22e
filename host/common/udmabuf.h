/*
 * udmabuf - a dma-buf over a range of a sealed memfd, through /dev/udmabuf.
 * Used by libvmbuf for host imports; built into a guest test too, because the
 * hosts running the tests have no /dev/udmabuf but a 6.12 guest has.
 */
#ifndef VMBUF_UDMABUF_H
#define VMBUF_UDMABUF_H

#include <stdint.h>

/*
 * A dma-buf fd (O_CLOEXEC) over [@offset, @offset + @size) of @memfd, which must
 * be sealed against shrinking; offset and size page-aligned. Returns the fd,
 * -ENODEV without /dev/udmabuf, or another negative errno from the kernel.
 */
int udmabuf_create(int memfd, uint64_t offset, uint64_t size);

#endif
