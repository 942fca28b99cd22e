/*
 * listener - a display listener on one console of QEMU's D-Bus display
 * (-display dbus): it registers with org.qemu.Display1.Console.RegisterListener
 * over a socketpair, serves org.qemu.Display1.Listener on the peer-to-peer
 * connection QEMU opens on it, and hands every Scanout and Update to @ops.
 * Runs in the thread-default GMainContext; @ops are called from it.
 *
 * Only the copy path (Scanout/Update with pixel data) is offered: the
 * listener's Interfaces property is empty, so QEMU sends no shared-memory
 * maps, and ScanoutDMABUF (gl=on) is refused with NotSupported.
 */
#ifndef VMBUF_CAPTURE_LISTENER_H
#define VMBUF_CAPTURE_LISTENER_H

#include <stddef.h>
#include <stdint.h>

struct listener_ops {
	void (*scanout)(void *opaque, uint32_t width, uint32_t height, uint32_t stride,
			uint32_t format, const uint8_t *data, size_t len);
	void (*update)(void *opaque, int32_t x, int32_t y, int32_t w, int32_t h, uint32_t stride,
		       uint32_t format, const uint8_t *data, size_t len);
	void (*disable)(void *opaque);
	/* QEMU closed the connection (it exited, or dropped the listener). */
	void (*closed)(void *opaque);
};

struct listener;

/*
 * Connect to the bus at @address (NULL: the session bus), wait up to
 * @timeout_ms for QEMU's display to appear there, and register on console
 * @console. NULL on failure, with a message in *@error (free it).
 */
struct listener *listener_new(const char *address, unsigned int console, int timeout_ms,
			      const struct listener_ops *ops, void *opaque, char **error);
/* The VM's name as QEMU has it (-name), or "" without one. */
const char *listener_vm_name(const struct listener *l);
void listener_free(struct listener *l);

#endif
