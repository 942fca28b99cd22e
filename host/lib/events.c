/*
 * events - libvmbuf's events and timelines: the events client.c queued,
 * SIGNAL, blocking waits and eventfd watches for event loops.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "libvmbuf-internal.h"
#include "util.h"
#include <vmbuf/wire.h>

int vmbuf_signal(struct vmbuf_client *c, const uint8_t *handle, uint64_t value, int error)
{
	struct virtio_vmbuf_signal req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_SIGNAL),
					   .value = htole64(value),
					   .error = htole32((uint32_t)error) };
	struct virtio_vmbuf_timeline_resp resp;
	int r = client_hello(c);

	if (r < 0)
		return lib_fail(r);
	memcpy(req.handle, handle, sizeof(req.handle));
	r = client_vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	return r < 0 ? lib_fail(r) : 0;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Take a queued TIMELINE event for @handle at or above @value: its error, or 1 if none. */
static int take_timeline(struct vmbuf_client *c, const uint8_t *handle, uint64_t value)
{
	for (unsigned int i = 0; i < c->ev_count; i++) {
		struct virtio_vmbuf_event *e = &c->events[(c->ev_head + i) % EVENTS_MAX];

		if (le32toh(e->type) == VIRTIO_VMBUF_EVT_TIMELINE_REACHED &&
		    !memcmp(e->handle, handle, VMBUF_HANDLE_SIZE) && le64toh(e->value) >= value)
			return (int32_t)le32toh(e->error);
	}
	return 1;
}

int vmbuf_wait(struct vmbuf_client *c, const uint8_t *handle, uint64_t value, int timeout_ms)
{
	struct virtio_vmbuf_watch req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_WATCH),
					  .value = htole64(value) };
	struct virtio_vmbuf_timeline_resp resp;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int r = client_hello(c);

	if (r < 0)
		return lib_fail(r);
	memcpy(req.handle, handle, sizeof(req.handle));
	r = client_vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	if (r < 0)
		return lib_fail(r);
	if (le32toh(resp.reached)) {
		r = (int32_t)le32toh(resp.error);
		return r < 0 ? lib_fail(r) : 0;
	}
	for (;;) {
		int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
		uint8_t ignored[8];
		size_t len;
		bool event;

		r = take_timeline(c, handle, value);
		if (r <= 0)
			return r < 0 ? lib_fail(r) : 0;
		if (deadline >= 0 && left <= 0)
			return lib_fail(-ETIMEDOUT);
		r = client_recv_packet(c, ignored, sizeof(ignored), &len, NULL, &event, left);
		if (r < 0)
			return lib_fail(r);
	}
}

int vmbuf_next_event(struct vmbuf_client *c, struct vmbuf_event *ev, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int r = client_hello(c);

	if (r < 0)
		return lib_fail(r);
	while (!c->ev_count) {
		int left = deadline < 0 ? -1 : (int)(deadline - now_ms());
		uint8_t ignored[8];
		size_t len;
		bool event;

		if (deadline >= 0 && left <= 0)
			return lib_fail(-ETIMEDOUT);
		r = client_recv_packet(c, ignored, sizeof(ignored), &len, NULL, &event, left);
		if (r < 0)
			return lib_fail(r);
	}
	vmbuf_event_from_wire(ev, &c->events[c->ev_head]);
	c->ev_head = (c->ev_head + 1) % EVENTS_MAX;
	c->ev_count--;
	return 0;
}

int vmbuf_watch(struct vmbuf_client *c, const uint8_t *handle, uint64_t value)
{
	struct virtio_vmbuf_watch req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_WATCH),
					  .value = htole64(value) };
	struct virtio_vmbuf_timeline_resp resp;
	struct watch *w = NULL;
	int r = client_hello(c);

	if (r < 0)
		return lib_fail(r);
	for (unsigned int i = 0; !w && i < WATCHES_MAX; i++)
		if (c->watches[i].efd < 0)
			w = &c->watches[i];
	if (!w)
		return lib_fail(-ENOSPC);
	/* Registered before asking, so an event racing the answer cannot be missed. */
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		return -1;
	w->fired = false;
	w->error = 0;
	w->value = value;
	memcpy(w->handle, handle, sizeof(w->handle));
	memcpy(req.handle, handle, sizeof(req.handle));
	r = client_vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	if (r < 0) {
		close(w->efd);
		w->efd = -1;
		return lib_fail(r);
	}
	if (le32toh(resp.reached) && !w->fired)
		client_watch_fire(w, (int32_t)le32toh(resp.error));
	return w->efd;
}

int vmbuf_watch_error(struct vmbuf_client *c, int efd)
{
	for (unsigned int i = 0; i < WATCHES_MAX; i++) {
		struct watch *w = &c->watches[i];

		if (w->efd == efd) {
			int e = w->fired ? w->error : -EINPROGRESS;

			/* The caller owns the eventfd; forget it once reported. */
			if (w->fired)
				w->efd = -1;
			return e;
		}
	}
	return -ENOENT;
}

void vmbuf_watch_cancel(struct vmbuf_client *c, int efd)
{
	for (unsigned int i = 0; i < WATCHES_MAX; i++) {
		if (c->watches[i].efd == efd) {
			close(efd);
			c->watches[i].efd = -1;
			return;
		}
	}
}

int vmbuf_client_dispatch(struct vmbuf_client *c)
{
	for (;;) {
		uint8_t ignored[8];
		size_t len;
		bool event;
		int r = client_recv_packet(c, ignored, sizeof(ignored), &len, NULL, &event, 0);

		if (r == -ETIMEDOUT)
			return 0;
		if (r < 0)
			return lib_fail(r);
	}
}
