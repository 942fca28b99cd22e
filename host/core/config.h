/*
 * config - vmbufd's configuration file.
 *
 *   [vmbufd]                  socket-dir, socket-group, fence-timeout-ms, host-group
 *   [vm NAME]                 quota (size, 0 = none), max-buffers, max-waiters,
 *                             fence-timeout-ms (at most the daemon's)
 *   [pool NAME]               size (power of two >= 2M), members (VM names),
 *                             reclaim (yes: give freed pages back to the host)
 *
 * '#' starts a comment; sizes take K, M, G suffixes. config_parse() refuses
 * anything it does not understand, with "FILE:LINE: problem" in @err.
 */
#ifndef VMBUF_CONFIG_H
#define VMBUF_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_MAX_VMS 255	/* VM slots are 8 bits in ivshmem positions */
#define CONFIG_MAX_POOLS 64
#define CONFIG_POOLS_PER_VM 16	/* VIRTIO_VMBUF_MAX_POOLS */
#define CONFIG_NAME_MAX 32

struct config_vm {
	char name[CONFIG_NAME_MAX];
	uint64_t quota;		/* bytes, 0: none */
	uint32_t max_buffers;
	uint32_t max_waiters;		/* timeline watches pending at once */
	uint32_t fence_timeout_ms;	/* 0: the daemon's */
	unsigned int line;
};

struct config_pool {
	char name[CONFIG_NAME_MAX];
	uint64_t size;
	bool member[CONFIG_MAX_VMS];	/* indexed like config.vms */
	bool reclaim;
	unsigned int line;
};

struct config {
	char socket_dir[256];
	char host_group[CONFIG_NAME_MAX];	/* "" : root only */
	char socket_group[CONFIG_NAME_MAX];	/* group of the VM sockets ("": root's) */
	uint32_t fence_timeout_ms;
	unsigned int nvms, npools;
	struct config_vm vms[CONFIG_MAX_VMS];
	struct config_pool pools[CONFIG_MAX_POOLS];
};

/* Defaults only (no VMs, no pools). */
void config_init(struct config *cfg);

/* Parse @f (named @path in messages) into @cfg. Returns 0 or -EINVAL with @err set. */
int config_parse(struct config *cfg, FILE *f, const char *path, char *err, size_t errlen);

/* Parse a whole file by path. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* Index of the VM or pool called @name, or -1. */
int config_find_vm(const struct config *cfg, const char *name);
int config_find_pool(const struct config *cfg, const char *name);

#endif
