/*
 * snapshot - write a shared buffer's image as a PNG, as its metadata describes
 * it: XRGB8888 ('XR24', RGB), ARGB8888 ('AR24', RGBA) or NV12 ('NV12', RGB,
 * BT.601 limited range). The metadata comes from the exporter and is checked
 * against the buffer's size before any pixel is read.
 */
#ifndef VMBUF_SNAPSHOT_H
#define VMBUF_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct vmbuf_meta;

/* Returns 0, -EINVAL (metadata does not fit), -EOPNOTSUPP (format) or -EIO. */
int snapshot_png(const uint8_t *buf, size_t size, const struct vmbuf_meta *m, const char *path);

#endif
