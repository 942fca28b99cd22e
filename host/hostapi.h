/*
 * hostapi - the daemon's end of host.sock: accepts local clients, checks
 * their credentials (root, or the configured host-group), answers requests.
 */
#ifndef VMBUF_HOSTAPI_H
#define VMBUF_HOSTAPI_H

#include <sys/types.h>

struct core;
struct loop;
struct hostapi;

/* Listen on @path (an existing stale socket is replaced). */
int hostapi_new(struct hostapi **out, struct loop *loop, struct core *core, const char *path,
		gid_t group);
void hostapi_free(struct hostapi *h);

struct core_vm;
struct virtio_vmbuf_event;
/* Deliver an event for host pseudo-VM @vm (the core's event sink calls this). */
void hostapi_event(struct core_vm *vm, const struct virtio_vmbuf_event *ev);

#endif
