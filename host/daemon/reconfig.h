/*
 * reconfig - the daemon's configuration at run time: `vmbufctl vm|pool
 * add|remove` (through host.sock), SIGHUP and `vmbufctl reload`.
 *
 * A change is the whole configuration loaded again (the main file and its
 * drop-ins, with the one drop-in the change is about), checked as at start
 * and against what runs: a pool in use is neither removed nor resized, a
 * connected VM's pools do not change, [vmbufd] paths and groups need a
 * restart. Only then is the drop-in written (or removed) and the change
 * applied to the core and the transports. A change that cannot be made
 * changes nothing and says why.
 */
#ifndef VMBUF_RECONFIG_H
#define VMBUF_RECONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct core;
struct ivshmem_server;
struct vhost_user_server;

/* What runs, and what it was configured from. */
struct reconfig {
	struct core *core;
	struct ivshmem_server *ivshmem;
	struct vhost_user_server *vhost_user;
	struct config *cfg;		/* owned; replaced by each change */
	const char *path;		/* the main file */
	const char *socket_dir;		/* the -s override, or NULL */
};

enum reconfig_op {
	RECONFIG_RELOAD,	/* the files as they are now */
	RECONFIG_ADD,		/* a new VM or pool from @text: -EEXIST if the name is taken */
	RECONFIG_SET,		/* the same, replacing a drop-in of that name */
	RECONFIG_REMOVE,	/* a VM or pool of a drop-in: -EPERM for the main file's */
};

struct reconfig_change {
	enum reconfig_op op;
	bool pool;		/* a [pool] section, else a [vm] one */
	const char *name;
	const char *text;	/* ADD, SET: the section, as a drop-in file holds it */
};

/* 0 or -errno; @msg says what happened, or why nothing did, in one line. */
int reconfig_apply(struct reconfig *rc, const struct reconfig_change *ch, char *msg, size_t len);

#endif
