/*
 * hostapi - the daemon's end of host.sock: accepts local clients, checks
 * their credentials (root, or the configured host-group), answers requests.
 * Each client is a pseudo-VM "host" of the core (core_host_attach()),
 * reached through its own struct core_vm_ops.
 */
#ifndef VMBUF_HOSTAPI_H
#define VMBUF_HOSTAPI_H

#include <sys/types.h>

struct core;
struct loop;
struct hostapi;
struct reconfig;

/*
 * Listen on @path (an existing stale socket is replaced). Configuration
 * requests (VMBUF_HOST_CONFIG_*) go to @rc (reconfig.h).
 */
int hostapi_new(struct hostapi **out, struct loop *loop, struct core *core, struct reconfig *rc,
		const char *path, gid_t group);
void hostapi_free(struct hostapi *h);

#endif
