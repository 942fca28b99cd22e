/*
 * ivshmem_ctl - transport T1's control device for one VM: the VM's private
 * ivshmem-doorbell region (linux/vmbuf_ivshmem.h) carrying the
 * virtio-vmbuf device model (device.h).
 *
 * The VM's QEMU connects to SOCKET_DIR/VM/ctl.sock; ivctl_new() creates a
 * fresh region for that connection and sends the ivshmem greeting. The
 * daemon is peer VMBUF_IVSHMEM_DAEMON_PEER, the VM is peer 1. The owner
 * polls ivctl_doorbell_fd() for each vector and calls ivctl_doorbell().
 * ivctl_device() is what the owner connects the VM to the core with
 * (device_core_event).
 */
#ifndef VMBUF_IVSHMEM_CTL_H
#define VMBUF_IVSHMEM_CTL_H

struct core_vm;
struct device;
struct ivctl;

/* Takes ownership of @sock (also on failure). */
int ivctl_new(struct ivctl **out, int sock, struct core_vm *vm);
void ivctl_free(struct ivctl *c);

int ivctl_sock(const struct ivctl *c);
int ivctl_doorbell_fd(const struct ivctl *c, unsigned int vector);
struct device *ivctl_device(struct ivctl *c);

/* The doorbell of @vector rang: drain it and do the work. */
void ivctl_doorbell(struct ivctl *c, unsigned int vector);

#endif
