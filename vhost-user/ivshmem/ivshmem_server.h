/*
 * ivshmem_server - transport T1 in the daemon: for every configured VM,
 * SOCKET_DIR/VM/ctl.sock (its private control device, ivshmem_ctl.c) and
 * SOCKET_DIR/VM/pool-POOL.sock for each pool it belongs to (ivshmem_pool.c),
 * all served from the daemon's loop. A connection on a VM's ctl.sock
 * connects that VM to the core; its end disconnects it.
 *
 * Return convention (util.h): 0 or a negative errno, with the cause logged.
 */
#ifndef VMBUF_IVSHMEM_SERVER_H
#define VMBUF_IVSHMEM_SERVER_H

#include <sys/types.h>

struct core;
struct loop;
struct ivshmem_server;

/* Create the VM directories under @socket_dir (group @gid, (gid_t)-1: root's) and listen. */
int ivshmem_server_new(struct ivshmem_server **out, struct loop *loop, struct core *core,
		       const char *socket_dir, gid_t gid);
/* Close every connection (the VMs are disconnected), remove the sockets and directories. */
void ivshmem_server_free(struct ivshmem_server *s);

#endif
