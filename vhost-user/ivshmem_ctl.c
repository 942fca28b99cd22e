/*
 * ivshmem_ctl - the virtio-vmbuf control device over an ivshmem region.
 *
 * State machine (device_state): RESET --DRIVER_OK + valid queues--> LIVE;
 * any violation --> BROKEN; driver_status 0 --> RESET from anywhere. The
 * device reads the config area only when the config doorbell rings, copies
 * it, and validates the copy.
 */
#include "ivshmem_ctl.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ivshmem.h"
#include "virtqueue.h"
#include "../host/log.h"
#include "../host/util.h"
#include "../kmod/include/uapi/linux/virtio_vmbuf.h"

#define IVCTL_VM_PEER 1

struct ivctl {
	int sock;
	int memfd;
	uint8_t *map;
	size_t size;
	int doorbell[VIRTIO_VMBUF_CTL_VECTORS];	/* guest -> daemon */
	int irq[VIRTIO_VMBUF_CTL_VECTORS];	/* daemon -> guest */
	struct vq vq[VIRTIO_VMBUF_NUM_VQS];
	uint32_t state;
	int32_t error;
	uint32_t generation;
	char name[VIRTIO_VMBUF_NAME_MAX];
	/* Events waiting for an event-queue buffer: a ring of IVCTL_PENDING_MAX. */
	struct virtio_vmbuf_event pending[IVCTL_PENDING_MAX];
	/* What the guest can make us log at will: breaks and resets. */
	struct log_ratelimit rl;
	unsigned int pend_head, pend_count;
	bool lost;
	const struct ivctl_ops *ops;
	void *opaque;
};

static void *ivctl_map(void *opaque, uint64_t addr, uint64_t len)
{
	struct ivctl *c = opaque;

	/* Rings and buffers live in the driver's part of the region only. */
	if (addr < VIRTIO_VMBUF_CTL_DATA_OFFSET || addr > c->size || len > c->size - addr)
		return NULL;
	return c->map + addr;
}

static const char *ivctl_reason(int err)
{
	switch (err) {
	case -ELOOP: return "descriptor chain loops";
	case -ERANGE: return "descriptor index out of range";
	case -EFAULT: return "buffer outside the region";
	case -E2BIG: return "descriptor chain too long";
	case -EOVERFLOW: return "available index ran ahead of the ring";
	case -EINVAL: return "invalid queue layout or descriptor flags";
	default: return strerror(-err);
	}
}

static struct virtio_vmbuf_ctl_cfg *ivctl_cfg(struct ivctl *c)
{
	return (struct virtio_vmbuf_ctl_cfg *)(c->map + VIRTIO_VMBUF_CTL_CFG_OFFSET);
}

static void ivctl_irq(struct ivctl *c, unsigned int vector)
{
	uint64_t one = 1;

	if (write(c->irq[vector], &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("vm '%s': interrupt vector %u: %s", c->name, vector, strerror(errno));
}

static void ivctl_publish(struct ivctl *c, uint32_t state, int32_t error)
{
	struct virtio_vmbuf_ctl_cfg *cfg = ivctl_cfg(c);

	c->state = state;
	c->error = error;
	c->generation++;
	__atomic_store_n(&cfg->device_error, htole32((uint32_t)error), __ATOMIC_RELAXED);
	__atomic_store_n(&cfg->device_state, htole32(state), __ATOMIC_RELAXED);
	/* Release: state and error before the generation the driver waits on. */
	__atomic_store_n(&cfg->generation, htole32(c->generation), __ATOMIC_RELEASE);
	ivctl_irq(c, VIRTIO_VMBUF_VEC_CONFIG);
}

static void ivctl_drop_events(struct ivctl *c)
{
	c->pend_head = c->pend_count = 0;
	c->lost = false;
}

/* Move pending events into the buffers the driver posted. */
static void ivctl_flush_events(struct ivctl *c)
{
	struct vq *vq = &c->vq[VIRTIO_VMBUF_VQ_EVENT];
	bool pushed = false;
	struct vq_elem e;

	if (c->state != VIRTIO_VMBUF_STATE_LIVE)
		return;
	while (c->pend_count) {
		struct virtio_vmbuf_event *ev = &c->pending[c->pend_head];
		int r = vq_pop(vq, &e);

		if (r <= 0)
			break;
		if (c->lost) {
			ev->flags |= htole32(VIRTIO_VMBUF_EVT_F_LOST);
			c->lost = false;
		}
		if (vq_push(vq, &e, vq_elem_write(&e, ev, sizeof(*ev))) < 0)
			break;
		pushed = true;
		c->pend_head = (c->pend_head + 1) % IVCTL_PENDING_MAX;
		c->pend_count--;
	}
	if (pushed)
		ivctl_irq(c, VIRTIO_VMBUF_VEC_EVENT);
}

void ivctl_event(struct ivctl *c, const void *ev, size_t len)
{
	unsigned int tail;

	if (c->pend_count == IVCTL_PENDING_MAX) {
		/* Drop the oldest: the newest says most about the present. */
		c->pend_head = (c->pend_head + 1) % IVCTL_PENDING_MAX;
		c->pend_count--;
		if (!c->lost)
			log_warn("vm '%s': event queue full, dropping events", c->name);
		c->lost = true;
	}
	tail = (c->pend_head + c->pend_count) % IVCTL_PENDING_MAX;
	memset(&c->pending[tail], 0, sizeof(c->pending[tail]));
	memcpy(&c->pending[tail], ev, len < sizeof(c->pending[tail]) ? len : sizeof(c->pending[tail]));
	c->pend_count++;
	ivctl_flush_events(c);
	if (c->vq[VIRTIO_VMBUF_VQ_EVENT].broken) {
		/*
		 * Called from inside the core: breaking the device now would reset
		 * this VM in the middle of the core's work. Ring our own event
		 * doorbell so the loop breaks it next.
		 */
		uint64_t one = 1;

		if (write(c->doorbell[VIRTIO_VMBUF_VEC_EVENT], &one, sizeof(one)) < 0)
			log_warn("vm '%s': deferring event queue failure: %s", c->name,
				 strerror(errno));
	}
}

static void ivctl_break(struct ivctl *c, const char *what, int err)
{
	char who[64];

	snprintf(who, sizeof(who), "vm '%s'", c->name);
	if (log_ratelimit(&c->rl, who))
		log_warn("vm '%s': %s: %s; device broken until the driver resets it", c->name, what,
			 ivctl_reason(err));
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++)
		vq_reset(&c->vq[i]);
	ivctl_drop_events(c);
	c->ops->reset(c->opaque);
	ivctl_publish(c, VIRTIO_VMBUF_STATE_BROKEN, err);
}

static void ivctl_config(struct ivctl *c)
{
	struct virtio_vmbuf_ctl_cfg cfg;
	struct vq_mem mem = { .map = ivctl_map, .opaque = c };
	uint32_t status;

	/* One copy; later guest writes change nothing we validated. */
	memcpy(&cfg, ivctl_cfg(c), sizeof(cfg));
	status = le32toh(cfg.driver_status);

	if (status == 0) {
		if (c->state != VIRTIO_VMBUF_STATE_RESET) {
			for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++)
				vq_reset(&c->vq[i]);
			ivctl_drop_events(c);
			c->ops->reset(c->opaque);
			if (log_get_level() >= LOG_INFO) {
				char who[64];

				snprintf(who, sizeof(who), "vm '%s'", c->name);
				if (log_ratelimit(&c->rl, who))
					log_info("vm '%s': device reset by the driver", c->name);
			}
		}
		ivctl_publish(c, VIRTIO_VMBUF_STATE_RESET, 0);
		return;
	}
	if (!(status & VIRTIO_CONFIG_S_DRIVER_OK) || c->state != VIRTIO_VMBUF_STATE_RESET) {
		/* Nothing to do yet, or already live/broken: answer with the state. */
		ivctl_publish(c, c->state, c->error);
		return;
	}
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++) {
		const struct virtio_vmbuf_queue_cfg *q = &cfg.queues[i];
		int r = -EINVAL;

		if (le16toh(q->enable) == 1)
			r = vq_init(&c->vq[i], &mem, le16toh(q->size), VIRTIO_VMBUF_QUEUE_MAX,
				       le64toh(q->desc), le64toh(q->avail), le64toh(q->used));
		if (r < 0) {
			char what[32];

			snprintf(what, sizeof(what), "queue %u setup", i);
			ivctl_break(c, what, r);
			return;
		}
	}
	log_info("vm '%s': device live (control queue %u, event queue %u entries)", c->name,
		 c->vq[0].num, c->vq[1].num);
	ivctl_publish(c, VIRTIO_VMBUF_STATE_LIVE, 0);
}

static void ivctl_control(struct ivctl *c)
{
	uint8_t req[VIRTIO_VMBUF_MSG_MAX], resp[VIRTIO_VMBUF_MSG_MAX];
	struct vq *vq = &c->vq[VIRTIO_VMBUF_VQ_CTL];
	unsigned int budget = 4u * vq->num;
	bool pushed = false;
	struct vq_elem e;
	int r = 0;

	while (budget-- && (r = vq_pop(vq, &e)) > 0) {
		size_t len, rlen;

		if (e.out_len > sizeof(req)) {
			struct virtio_vmbuf_resp *rr = (void *)resp;

			memset(rr, 0, sizeof(*rr));
			vq_elem_read(&e, rr, sizeof(struct virtio_vmbuf_hdr));
			rr->status = htole32((uint32_t)-EMSGSIZE);
			rlen = sizeof(*rr);
		} else {
			len = vq_elem_read(&e, req, sizeof(req));
			rlen = c->ops->request(c->opaque, req, len, resp, sizeof(resp));
		}
		if (e.in_len < rlen && e.in_len >= sizeof(struct virtio_vmbuf_resp)) {
			struct virtio_vmbuf_resp *rr = (void *)resp;

			rr->status = htole32((uint32_t)-EMSGSIZE);
			rlen = sizeof(*rr);
		}
		r = vq_push(vq, &e, vq_elem_write(&e, resp, rlen));
		if (r < 0)
			break;
		pushed = true;
	}
	if (pushed)
		ivctl_irq(c, VIRTIO_VMBUF_VEC_CTL);
	if (vq->broken) {
		ivctl_break(c, "control queue", vq->broken);
		return;
	}
	if (budget == UINT32_MAX && r > 0) {
		/* Out of budget with work left: come back after other sources ran. */
		uint64_t one = 1;

		if (write(c->doorbell[VIRTIO_VMBUF_VEC_CTL], &one, sizeof(one)) < 0)
			log_warn("vm '%s': re-arming doorbell: %s", c->name, strerror(errno));
	}
}

void ivctl_doorbell(struct ivctl *c, unsigned int vector)
{
	uint64_t v;

	if (vector >= VIRTIO_VMBUF_CTL_VECTORS)
		return;
	if (read(c->doorbell[vector], &v, sizeof(v)) < 0 && errno == EAGAIN)
		return;
	switch (vector) {
	case VIRTIO_VMBUF_VEC_CONFIG:
		ivctl_config(c);
		break;
	case VIRTIO_VMBUF_VEC_CTL:
		if (c->state == VIRTIO_VMBUF_STATE_LIVE)
			ivctl_control(c);
		break;
	case VIRTIO_VMBUF_VEC_EVENT:
		/* New event buffers: deliver what waited for them. */
		ivctl_flush_events(c);
		if (c->vq[VIRTIO_VMBUF_VQ_EVENT].broken)
			ivctl_break(c, "event queue", c->vq[VIRTIO_VMBUF_VQ_EVENT].broken);
		break;
	}
}

int ivctl_new(struct ivctl **out, int sock, const char *vm_name, const struct ivctl_ops *ops,
	      void *opaque)
{
	struct virtio_vmbuf_region *hdr;
	struct ivctl *c;
	int r = -ENOMEM;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(sock);
		return -ENOMEM;
	}
	c->sock = sock;
	c->memfd = -1;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_CTL_VECTORS; i++)
		c->doorbell[i] = c->irq[i] = -1;
	c->ops = ops;
	c->opaque = opaque;
	c->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10000, 10);
	c->size = VIRTIO_VMBUF_CTL_SIZE;
	snprintf(c->name, sizeof(c->name), "%s", vm_name);

	c->memfd = memfd_create("vmbuf-ctl", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (c->memfd < 0 || ftruncate(c->memfd, c->size) < 0 ||
	    fcntl(c->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail_errno;
	c->map = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		goto fail_errno;
	}
	for (unsigned int i = 0; i < VIRTIO_VMBUF_CTL_VECTORS; i++) {
		c->doorbell[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		c->irq[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (c->doorbell[i] < 0 || c->irq[i] < 0)
			goto fail_errno;
	}
	hdr = (struct virtio_vmbuf_region *)c->map;
	hdr->magic = htole32(VIRTIO_VMBUF_MAGIC);
	hdr->version = htole16(VIRTIO_VMBUF_VERSION);
	hdr->kind = htole16(VIRTIO_VMBUF_KIND_CTL);
	hdr->size = htole64(c->size);
	hdr->data_offset = htole64(VIRTIO_VMBUF_CTL_DATA_OFFSET);
	hdr->vectors = htole32(VIRTIO_VMBUF_CTL_VECTORS);
	str_to_field(hdr->name, sizeof(hdr->name), vm_name);

	r = ivshmem_send_setup(sock, IVCTL_VM_PEER, c->memfd);
	if (r >= 0)
		r = ivshmem_send_peer(sock, VIRTIO_VMBUF_DAEMON_PEER, c->doorbell,
				      VIRTIO_VMBUF_CTL_VECTORS);
	if (r >= 0)
		r = ivshmem_send_peer(sock, IVCTL_VM_PEER, c->irq, VIRTIO_VMBUF_CTL_VECTORS);
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
	for (unsigned int i = 0; i < VIRTIO_VMBUF_CTL_VECTORS; i++) {
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
	return vector < VIRTIO_VMBUF_CTL_VECTORS ? c->doorbell[vector] : -1;
}
