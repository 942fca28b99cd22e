/*
 * vhost_user_server - transport T2 in the daemon: for every VM of the core,
 * SOCKET_DIR/VM/vhost-user.sock, where the VM's QEMU connects its
 * vhost-user-test-device-pci (virtio-id 37) for the VM's control device.
 * One connection per VM at a time; it connects the VM to the core (a VM
 * connected through ivshmem's ctl.sock is refused with EBUSY, and the other
 * way round). Pools stay ivshmem devices (vhost-user/ivshmem/).
 *
 * Return convention (util.h): 0 or a negative errno, with the cause logged.
 */
#ifndef VMBUF_VHOST_USER_SERVER_H
#define VMBUF_VHOST_USER_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

struct core;
struct core_vm;
struct loop;
struct vhost_user_server;

/* Listen in the VM directories under @socket_dir (made by the caller, or made here). */
int vhost_user_server_new(struct vhost_user_server **out, struct loop *loop, struct core *core,
			  const char *socket_dir, gid_t gid);
/* At run time: a VM the core added; one it is about to forget (its connection closes). */
int vhost_user_server_vm_add(struct vhost_user_server *s, struct core_vm *vm);
void vhost_user_server_vm_remove(struct vhost_user_server *s, const struct core_vm *vm);
void vhost_user_server_free(struct vhost_user_server *s);
/* After core_shutdown(): is a VM yet to read that its device is GONE? */
bool vhost_user_server_gone_unread(const struct vhost_user_server *s);

#endif
