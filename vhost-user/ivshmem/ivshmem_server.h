/*
 * ivshmem_server - transport T1 in the daemon: for every VM of the core,
 * SOCKET_DIR/VM/ctl.sock (its private control device, ivshmem_ctl.c) and
 * SOCKET_DIR/VM/pool-POOL.sock for each pool it belongs to (ivshmem_pool.c),
 * all served from the daemon's loop. A connection on a VM's ctl.sock
 * connects that VM to the core; its end disconnects it.
 *
 * Return convention (util.h): 0 or a negative errno, with the cause logged.
 */
#ifndef VMBUF_IVSHMEM_SERVER_H
#define VMBUF_IVSHMEM_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

struct core;
struct core_vm;
struct loop;
struct pool;
struct ivshmem_server;

/*
 * Serve every pool and VM the core has: the VM directories under
 * @socket_dir (group @gid, (gid_t)-1: root's), their sockets.
 */
int ivshmem_server_new(struct ivshmem_server **out, struct loop *loop, struct core *core,
		       const char *socket_dir, gid_t gid);
/*
 * At run time, after the core changed: a pool the core made (the sockets
 * of its members that are here already), a VM (its directory and sockets);
 * before the core forgets them: their sockets go and their connections
 * close (a VM is disconnected from the core).
 */
int ivshmem_server_pool_add(struct ivshmem_server *s, const struct pool *p);
void ivshmem_server_pool_remove(struct ivshmem_server *s, const struct pool *p);
int ivshmem_server_vm_add(struct ivshmem_server *s, struct core_vm *vm);
void ivshmem_server_vm_remove(struct ivshmem_server *s, const struct core_vm *vm);
/* Does a QEMU hold a connection to pool @p (its memory mapped)? *vm: whose. */
bool ivshmem_server_pool_busy(const struct ivshmem_server *s, const struct pool *p,
			      const char **vm);
/* Close every connection (the VMs are disconnected), remove the sockets and directories. */
void ivshmem_server_free(struct ivshmem_server *s);

#endif
