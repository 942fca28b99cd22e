/*
 * config - vmbufd's configuration file.
 *
 *   [vmbufd]                  socket-dir, socket-group, fence-timeout-ms, host-group,
 *                             state-dir
 *   [vm NAME]                 quota (size, 0 = none), max-buffers, max-waiters,
 *                             fence-timeout-ms (at most the daemon's), pools (names)
 *   [pool NAME]               size (power of two >= 2M), members (VM names),
 *                             reclaim (yes: give freed pages back to the host)
 *
 * A VM is in a pool when either side names the other (pool members, VM
 * pools). '#' starts a comment; sizes take K, M, G suffixes.
 *
 * The main file is followed by the drop-ins of STATE-DIR/vmbufd.conf.d
 * (*.conf in name order: [vm] and [pool] sections only), which the daemon
 * writes for `vmbufctl vm|pool add` and removes for `remove`; all of it is
 * one configuration, checked as one. The parser refuses anything it does
 * not understand, with "FILE:LINE: problem" in @err.
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
#define CONFIG_PATH_MAX 256
/* The main file and a drop-in per VM and pool. */
#define CONFIG_MAX_FILES (1 + CONFIG_MAX_VMS + CONFIG_MAX_POOLS)
#define CONFIG_DROPIN_DIR "vmbufd.conf.d"	/* in state-dir */

struct config_vm {
	char name[CONFIG_NAME_MAX];
	uint64_t quota;		/* bytes, 0: none */
	uint32_t max_buffers;
	uint32_t max_waiters;		/* timeline watches pending at once */
	uint32_t fence_timeout_ms;	/* 0: the daemon's */
	unsigned int file, line;	/* where it is defined: config.files[file] */
};

struct config_pool {
	char name[CONFIG_NAME_MAX];
	uint64_t size;
	bool member[CONFIG_MAX_VMS];	/* indexed like config.vms */
	bool reclaim;
	unsigned int file, line;
};

struct config {
	char socket_dir[CONFIG_PATH_MAX];
	char state_dir[CONFIG_PATH_MAX];	/* the drop-ins are in CONFIG_DROPIN_DIR under it */
	char host_group[CONFIG_NAME_MAX];	/* "" : root only */
	char socket_group[CONFIG_NAME_MAX];	/* group of the VM sockets ("": root's) */
	uint32_t fence_timeout_ms;
	unsigned int nvms, npools, nfiles;
	struct config_vm vms[CONFIG_MAX_VMS];
	struct config_pool pools[CONFIG_MAX_POOLS];
	char files[CONFIG_MAX_FILES][CONFIG_PATH_MAX];	/* [0]: the main file */
};

/* Defaults only (no VMs, no pools). */
void config_init(struct config *cfg);

/*
 * Parse @f (named @path in messages) into @cfg as a main file with no
 * drop-ins. Returns 0 or -EINVAL with @err set.
 */
int config_parse(struct config *cfg, FILE *f, const char *path, char *err, size_t errlen);

/* Parse the main file @path and its drop-ins. 0 or -errno with @err set. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/*
 * The configuration as it would be with drop-in @dropin (a file name such
 * as "vm-NAME.conf") replaced: left out, and with @text (may be NULL) parsed
 * in its place, named as that file. The files themselves are not touched.
 */
int config_load_change(struct config *cfg, const char *path, const char *dropin,
		       const char *text, char *err, size_t errlen);

/* "STATE-DIR/vmbufd.conf.d[/NAME]": 0 or -ENAMETOOLONG. */
int config_dropin_path(const struct config *cfg, const char *name, char *buf, size_t len);

/* Is the file a section came from a drop-in? */
static inline bool config_is_dropin(unsigned int file)
{
	return file != 0;
}

/* Index of the VM or pool called @name, or -1. */
int config_find_vm(const struct config *cfg, const char *name);
int config_find_pool(const struct config *cfg, const char *name);

#endif
