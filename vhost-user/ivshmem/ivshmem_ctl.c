/*
 * ivshmem_ctl - the virtio-vmbuf device over a private ivshmem region.
 *
 * The glue between the device model and ivshmem: the region (a sealed memfd
 * with the region header and struct vmbuf_ivshmem_ctl_cfg), descriptor
 * addresses as offsets into the region's driver part, doorbell eventfds
 * (driver to daemon) and interrupt eventfds (daemon to driver), one pair
 * per vector. The device reads the config area only when the config
 * doorbell rings, copies it, and validates the copy.
 */
#include "ivshmem_ctl.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"
#include "device.h"
#include "ivshmem.h"
#include "log.h"
#include "util.h"
#include <linux/vmbuf_ivshmem.h>

#define IVCTL_VM_PEER VMBUF_IVSHMEM_CTL_POSITION

struct ivctl {
	struct device dev;
	int sock;
	int memfd;
	uint8_t *map;
	size_t size;
	uint32_t generation;
	int doorbell[VMBUF_IVSHMEM_CTL_VECTORS];	/* guest -> daemon */
	int irq[VMBUF_IVSHMEM_CTL_VECTORS];		/* daemon -> guest */
};

/* Each queue has the vector of the same number; the config vector comes after them. */
_Static_assert(VMBUF_IVSHMEM_VEC_CTL == VIRTIO_VMBUF_VQ_CTL &&
	       VMBUF_IVSHMEM_VEC_EVENT == VIRTIO_VMBUF_VQ_EVENT, "vector per queue");

static void *ivctl_map(void *opaque, uint64_t addr, uint64_t len)
{
	struct ivctl *c = opaque;

	/* Rings and buffers live in the driver's part of the region only. */
	if (addr < VMBUF_IVSHMEM_CTL_DATA_OFFSET || addr > c->size || len > c->size - addr)
		return NULL;
	return c->map + addr;
}

static struct vmbuf_ivshmem_ctl_cfg *ivctl_cfg(struct ivctl *c)
{
	return (struct vmbuf_ivshmem_ctl_cfg *)(c->map + VMBUF_IVSHMEM_CTL_CFG_OFFSET);
}

static void ivctl_irq(struct ivctl *c, unsigned int vector)
{
	uint64_t one = 1;

	if (write(c->irq[vector], &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("vm '%s': interrupt vector %u: %s", c->dev.name, vector, strerror(errno));
}

static void ivctl_notify(void *opaque, unsigned int vq)
{
	ivctl_irq(opaque, vq);
}

static void ivctl_state(void *opaque, uint32_t state, int32_t error)
{
	struct ivctl *c = opaque;
	struct vmbuf_ivshmem_ctl_cfg *cfg = ivctl_cfg(c);

	c->generation++;
	__atomic_store_n(&cfg->device_error, htole32((uint32_t)error), __ATOMIC_RELAXED);
	__atomic_store_n(&cfg->device_state, htole32(state), __ATOMIC_RELAXED);
	/* Release: state and error before the generation the driver waits on. */
	__atomic_store_n(&cfg->generation, htole32(c->generation), __ATOMIC_RELEASE);
	ivctl_irq(c, VMBUF_IVSHMEM_VEC_CONFIG);
}

static void ivctl_rekick(void *opaque, unsigned int vq)
{
	struct ivctl *c = opaque;
	uint64_t one = 1;

	/* Ring our own doorbell: the loop comes back to this queue after the others. */
	if (write(c->doorbell[vq], &one, sizeof(one)) < 0)
		log_warn("vm '%s': re-arming doorbell %u: %s", c->dev.name, vq, strerror(errno));
}

static const struct device_ops ivctl_device_ops = {
	.notify = ivctl_notify,
	.state = ivctl_state,
	.rekick = ivctl_rekick,
};

static void ivctl_config(struct ivctl *c)
{
	struct vmbuf_ivshmem_ctl_cfg cfg;
	struct device_queue q[VIRTIO_VMBUF_NUM_VQS];
	struct vq_mem mem = { .map = ivctl_map, .opaque = c };

	/* One copy; later guest writes change nothing we validated. */
	memcpy(&cfg, ivctl_cfg(c), sizeof(cfg));
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++)
		q[i] = (struct device_queue){
			.size = le16toh(cfg.queues[i].size),
			.enable = le16toh(cfg.queues[i].enable) == 1,
			.desc = le64toh(cfg.queues[i].desc),
			.avail = le64toh(cfg.queues[i].avail),
			.used = le64toh(cfg.queues[i].used),
		};
	device_set_status(&c->dev, le32toh(cfg.driver_status), &mem, q);
}

void ivctl_doorbell(struct ivctl *c, unsigned int vector)
{
	uint64_t v;

	if (vector >= VMBUF_IVSHMEM_CTL_VECTORS)
		return;
	if (read(c->doorbell[vector], &v, sizeof(v)) < 0 && errno == EAGAIN)
		return;
	if (vector == VMBUF_IVSHMEM_VEC_CONFIG)
		ivctl_config(c);
	else
		device_kick(&c->dev, vector);
}

int ivctl_new(struct ivctl **out, int sock, struct core_vm *vm)
{
	struct vmbuf_ivshmem_region *hdr;
	struct ivctl *c;
	int r = -ENOMEM;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(sock);
		return -ENOMEM;
	}
	device_init(&c->dev, vm, &ivctl_device_ops, c);
	c->sock = sock;
	c->memfd = -1;
	for (unsigned int i = 0; i < VMBUF_IVSHMEM_CTL_VECTORS; i++)
		c->doorbell[i] = c->irq[i] = -1;
	c->size = VMBUF_IVSHMEM_CTL_SIZE;

	c->memfd = memfd_create("vmbuf-ctl", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (c->memfd < 0 || ftruncate(c->memfd, c->size) < 0 ||
	    fcntl(c->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail_errno;
	c->map = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		goto fail_errno;
	}
	for (unsigned int i = 0; i < VMBUF_IVSHMEM_CTL_VECTORS; i++) {
		c->doorbell[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		c->irq[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (c->doorbell[i] < 0 || c->irq[i] < 0)
			goto fail_errno;
	}
	hdr = (struct vmbuf_ivshmem_region *)c->map;
	hdr->magic = htole32(VMBUF_IVSHMEM_MAGIC);
	hdr->version = htole16(VIRTIO_VMBUF_VERSION);
	hdr->kind = htole16(VMBUF_IVSHMEM_KIND_CTL);
	hdr->size = htole64(c->size);
	hdr->data_offset = htole64(VMBUF_IVSHMEM_CTL_DATA_OFFSET);
	hdr->vectors = htole32(VMBUF_IVSHMEM_CTL_VECTORS);
	str_to_field(hdr->name, sizeof(hdr->name), core_vm_name(vm));

	r = ivshmem_send_setup(sock, IVCTL_VM_PEER, c->memfd);
	if (r >= 0)
		r = ivshmem_send_peer(sock, VMBUF_IVSHMEM_DAEMON_PEER, c->doorbell,
				      VMBUF_IVSHMEM_CTL_VECTORS);
	if (r >= 0)
		r = ivshmem_send_peer(sock, IVCTL_VM_PEER, c->irq, VMBUF_IVSHMEM_CTL_VECTORS);
	if (r < 0)
		goto fail;
	*out = c;
	return 0;

fail_errno:
	r = -errno;
fail:
	ivctl_free(c);
	return r;
}

void ivctl_free(struct ivctl *c)
{
	if (!c)
		return;
	for (unsigned int i = 0; i < VMBUF_IVSHMEM_CTL_VECTORS; i++) {
		closep(&c->doorbell[i]);
		closep(&c->irq[i]);
	}
	if (c->map)
		munmap(c->map, c->size);
	closep(&c->memfd);
	closep(&c->sock);
	free(c);
}

int ivctl_sock(const struct ivctl *c)
{
	return c->sock;
}

int ivctl_doorbell_fd(const struct ivctl *c, unsigned int vector)
{
	return vector < VMBUF_IVSHMEM_CTL_VECTORS ? c->doorbell[vector] : -1;
}

struct device *ivctl_device(struct ivctl *c)
{
	return &c->dev;
}
