/*
 * backend - vmbufd as the vhost-user backend of one VM's virtio-vmbuf device
 * (transport T2): the frontend is the VM's QEMU on a connected socket.
 *
 * The backend reads the frontend's messages (vhost_user.h) from its socket
 * without ever blocking, one handler per request behind one table that
 * checks the payload size and the number of fds first; every fd received
 * has one owner on every path (extra fds are closed, a rejected message's
 * fds too). It maps the guest memory the frontend shares (SET_MEM_TABLE),
 * and when both virtqueues are set up and enabled it starts the device
 * model (device.h) over them, translating guest-physical addresses with
 * overflow-safe bounds checks. Kicks come on the queues' kick eventfds,
 * interrupts go out on their call eventfds.
 *
 * A protocol violation (a malformed message, an unknown request that wants
 * a reply, a socket error) makes vub_sock_ready() return a negative errno:
 * the owner then closes the connection with vub_free(), which releases
 * everything the VM held.
 *
 * Return convention (util.h): 0 or a negative errno.
 */
#ifndef VMBUF_VHOST_USER_BACKEND_H
#define VMBUF_VHOST_USER_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

struct core_vm;
struct loop;
struct vub;

/*
 * Serve @vm over the connected @sock (ownership taken, also on failure):
 * kick eventfds are watched on @loop. The VM is connected to the core for
 * the life of the backend (-EBUSY when it is connected already).
 */
int vub_new(struct vub **out, struct loop *loop, int sock, struct core_vm *vm);
/* Disconnect the VM from the core, unmap its memory, close every fd. */
void vub_free(struct vub *b);

/*
 * The daemon told the VM it stops (device GONE) and the guest has not read
 * its configuration since: the daemon waits a little for it before it
 * closes the connection (a guest learns GONE only through GET_CONFIG).
 */
bool vub_gone_unread(const struct vub *b);

int vub_sock(const struct vub *b);
/*
 * An eventfd to watch beside the socket, with the same handling: it fires
 * when a frontend message was read early and waits to be handled.
 */
int vub_wake_fd(const struct vub *b);

/*
 * The socket is readable (@hup: the peer hung up): handle every whole
 * message. Returns 0, or a negative errno when the connection must end.
 */
int vub_sock_ready(struct vub *b, bool hup);

/* "GET_FEATURES", ... for logs; "unknown" for anything else. */
const char *vub_request_name(uint32_t request);

#endif
