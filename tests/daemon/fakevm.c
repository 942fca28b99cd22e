/* fakevm - userspace control-device driver for daemon tests (see fakevm.h). */
#include "fakevm.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ivshmem.h"

#define Q_DESC 4096
#define Q_AVAIL (Q_DESC + 16 * 64)
#define Q_USED (Q_AVAIL + 1024)
#define E_DESC (Q_USED + 1024)
#define E_AVAIL (E_DESC + 16 * 64)
#define E_USED (E_AVAIL + 1024)
#define BUF_REQ (64 * 1024)
#define BUF_RESP (BUF_REQ + 4096)

int fakevm_connect(struct fakevm *vm, const char *sockdir, const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	unsigned int ndb = 0, nirq = 0;
	int shm = -1;
	int64_t v;
	int fd;

	memset(vm, 0, sizeof(*vm));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s/ctl.sock", sockdir, name);
	vm->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vm->sock < 0 || connect(vm->sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	if (ivshmem_recv(vm->sock, &v, &fd) < 0 || v != 0)
		return -EPROTO;
	if (ivshmem_recv(vm->sock, &vm->id, &fd) < 0)
		return -EPROTO;
	while (ndb < VMBUF_IVSHMEM_CTL_VECTORS || nirq < VMBUF_IVSHMEM_CTL_VECTORS || shm < 0) {
		if (ivshmem_recv(vm->sock, &v, &fd) < 0 || fd < 0)
			return -EPROTO;
		if (v == -1)
			shm = fd;
		else if (v == VMBUF_IVSHMEM_DAEMON_PEER && ndb < VMBUF_IVSHMEM_CTL_VECTORS)
			vm->doorbell[ndb++] = fd;
		else if (v == vm->id && nirq < VMBUF_IVSHMEM_CTL_VECTORS)
			vm->irq[nirq++] = fd;
		else
			return -EPROTO;
	}
	vm->size = VMBUF_IVSHMEM_CTL_SIZE;
	vm->map = mmap(NULL, vm->size, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
	close(shm);
	if (vm->map == MAP_FAILED)
		return -errno;
	vm->cfg = (void *)(vm->map + VMBUF_IVSHMEM_CTL_CFG_OFFSET);
	return 0;
}

void fakevm_close(struct fakevm *vm)
{
	for (unsigned int i = 0; i < VMBUF_IVSHMEM_CTL_VECTORS; i++) {
		close(vm->doorbell[i]);
		close(vm->irq[i]);
	}
	if (vm->map && vm->map != MAP_FAILED)
		munmap(vm->map, vm->size);
	close(vm->sock);
	memset(vm, 0, sizeof(*vm));
}

void fakevm_ring(struct fakevm *vm, unsigned int vector)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(vm->doorbell[vector], &one, sizeof(one)) < 0)
		perror("fakevm: doorbell");
}

int fakevm_wait_irq(struct fakevm *vm, unsigned int vector, int ms)
{
	struct pollfd p = { .fd = vm->irq[vector], .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, ms) != 1)
		return 0;
	return read(vm->irq[vector], &v, sizeof(v)) == sizeof(v);
}

int fakevm_set_status(struct fakevm *vm, uint32_t status, int32_t *error)
{
	uint32_t gen = le32toh(__atomic_load_n(&vm->cfg->generation, __ATOMIC_ACQUIRE));

	vm->cfg->driver_status = htole32(status);
	fakevm_ring(vm, VMBUF_IVSHMEM_VEC_CONFIG);
	for (int i = 0; i < 100; i++) {
		fakevm_wait_irq(vm, VMBUF_IVSHMEM_VEC_CONFIG, 100);
		if (le32toh(__atomic_load_n(&vm->cfg->generation, __ATOMIC_ACQUIRE)) != gen)
			break;
	}
	if (error)
		*error = (int32_t)le32toh(vm->cfg->device_error);
	return (int)le32toh(vm->cfg->device_state);
}

void fakevm_queue(struct fakevm *vm, unsigned int q, unsigned int size, uint64_t desc,
		  uint64_t avail, uint64_t used, unsigned int enable)
{
	struct vmbuf_ivshmem_queue_cfg *c = &vm->cfg->queues[q];

	c->size = htole16(size);
	c->enable = htole16(enable);
	c->desc = htole64(desc);
	c->avail = htole64(avail);
	c->used = htole64(used);
}

int fakevm_setup(struct fakevm *vm)
{
	if (fakevm_set_status(vm, 0, NULL) != VIRTIO_VMBUF_STATE_RESET)
		return -1;
	memset(vm->map + Q_DESC, 0, BUF_RESP + 4096 - Q_DESC);
	fakevm_queue(vm, 0, 64, Q_DESC, Q_AVAIL, Q_USED, 1);
	fakevm_queue(vm, 1, 64, E_DESC, E_AVAIL, E_USED, 1);
	vm->num = 64;
	vm->desc = (void *)(vm->map + Q_DESC);
	vm->avail = (void *)(vm->map + Q_AVAIL);
	vm->used = (void *)(vm->map + Q_USED);
	vm->avail_idx = vm->last_used = 0;
	return fakevm_set_status(vm, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				 VIRTIO_CONFIG_S_DRIVER_OK, NULL) == VIRTIO_VMBUF_STATE_LIVE ? 0 : -1;
}

int fakevm_call(struct fakevm *vm, const void *req, size_t len, void *resp, size_t cap)
{
	uint16_t head = (vm->avail_idx * 2) % vm->num;

	memcpy(vm->map + BUF_REQ, req, len);
	vm->desc[head] = (struct vring_desc){ htole64(BUF_REQ), htole32(len),
					       htole16(VRING_DESC_F_NEXT), htole16(head + 1) };
	vm->desc[head + 1] = (struct vring_desc){ htole64(BUF_RESP), htole32(4096),
						   htole16(VRING_DESC_F_WRITE), 0 };
	vm->avail->ring[vm->avail_idx % vm->num] = htole16(head);
	vm->avail_idx++;
	__atomic_store_n(&vm->avail->idx, htole16(vm->avail_idx), __ATOMIC_RELEASE);
	fakevm_ring(vm, VMBUF_IVSHMEM_VEC_CTL);
	for (int i = 0; i < 50; i++) {
		if (le16toh(__atomic_load_n(&vm->used->idx, __ATOMIC_ACQUIRE)) != vm->last_used) {
			struct vring_used_elem *e = &vm->used->ring[vm->last_used % vm->num];
			uint32_t n = le32toh(e->len);

			vm->last_used++;
			memcpy(resp, vm->map + BUF_RESP, n < cap ? n : cap);
			return (int)n;
		}
		fakevm_wait_irq(vm, VMBUF_IVSHMEM_VEC_CTL, 100);
	}
	return -1;
}

int32_t fakevm_hello(struct fakevm *vm, struct virtio_vmbuf_hello_resp *out)
{
	struct virtio_vmbuf_hello req = {
		.hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
		.version = htole32(VIRTIO_VMBUF_VERSION),
	};
	struct virtio_vmbuf_hello_resp r;

	memset(&r, 0, sizeof(r));
	if (fakevm_call(vm, &req, sizeof(req), &r, sizeof(r)) < (int)sizeof(r.resp))
		return -ETIMEDOUT;
	if (out)
		*out = r;
	return (int32_t)le32toh(r.resp.status);
}
