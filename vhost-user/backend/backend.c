/*
 * backend - the vhost-user backend of one VM (see backend.h).
 *
 * Messages are assembled from a non-blocking socket: the header first,
 * then exactly its payload, so fds that arrive belong to the message being
 * read. request.c-style table: {name, payload size range, fds allowed,
 * handler, replies}; the table's checks run before any handler. The device
 * model starts when both rings are complete and pauses (keeping the VM's
 * session) at the first GET_VRING_BASE, which is how the frontend stops the
 * rings for a VM that pauses and for a guest that resets alike.
 */
#include "backend.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "core.h"
#include "device.h"
#include "ivshmem.h"
#include "log.h"
#include "loop.h"
#include "util.h"
#include "vhost_user.h"

#define VUB_MAX_FDS VHOST_USER_MAX_REGIONS
/*
 * Memory slots with CONFIGURE_MEM_SLOTS, as many as the kernel's vhost has:
 * on SHMEM the frontend adds a slot for every buffer mapped into the VM.
 */
#define VUB_MAX_SLOTS 509

struct vub_region {
	uint64_t gpa, size, qva, mmap_offset;
	uint8_t *map;		/* mmap of [0, mmap_offset + size) of the region's fd */
	size_t map_len;
};

struct vub_vring {
	struct vub *b;
	unsigned int index;
	uint16_t num;
	bool has_addr, enabled;
	uint64_t desc, used, avail;	/* frontend virtual addresses */
	int kick, call, err;
	struct loop_source *kick_src;
};

struct vub {
	struct device dev;
	struct loop *loop;
	int sock;
	struct core_vm *vm;
	bool connected;
	uint64_t features, protocol_features;
	unsigned int nregions;
	struct vub_region regions[VUB_MAX_SLOTS];
	struct vub_vring vr[VIRTIO_VMBUF_NUM_VQS];
	int backend_fd;		/* the backend channel: our requests to the frontend */
	int wake;		/* written when a frontend message waits in @hdr */
	bool msg_ready;		/* a whole frontend message waits, unhandled */
	bool gone_unread;	/* told GONE; the guest has not read the config since */
	/* Per-buffer mappings into shared memory region 0 (SHMEM negotiated). */
	bool shm;
	struct alloc shm_alloc;
	/* The message being read: header, payload (aligned), the fds that came with it. */
	struct vhost_user_hdr hdr;
	union {
		uint8_t bytes[VHOST_USER_PAYLOAD_MAX];
		uint64_t align;
	} payload;
	size_t in_len;			/* header and payload bytes read so far */
	int fds[VUB_MAX_FDS];
	unsigned int nfds;
	/* The reply a handler prepared. */
	union {
		uint8_t bytes[sizeof(struct vhost_user_shmem_config)];
		uint64_t u64;
	} out;
	uint32_t out_len;
};

static const uint64_t vub_features = 1ull << VHOST_USER_VIRTIO_F_VERSION_1 |
				     1ull << VHOST_USER_F_PROTOCOL_FEATURES;
static const uint64_t vub_protocol_features = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK |
					      1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ |
					      1ull << VHOST_USER_PROTOCOL_F_CONFIG |
					      1ull << VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD |
					      1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS |
					      1ull << VHOST_USER_PROTOCOL_F_SHMEM;

/* How long a map waits for the frontend to acknowledge it. */
#define VUB_BACKEND_TIMEOUT_MS 2000

/* ---- guest memory ---- */

static void vub_unmap_all(struct vub *b)
{
	for (unsigned int i = 0; i < b->nregions; i++)
		munmap(b->regions[i].map, b->regions[i].map_len);
	b->nregions = 0;
}

/* Guest-physical [addr, addr + len) as a pointer, or NULL when it is not all in one region. */
static void *vub_map_gpa(void *opaque, uint64_t addr, uint64_t len)
{
	struct vub *b = opaque;

	for (unsigned int i = 0; i < b->nregions; i++) {
		const struct vub_region *r = &b->regions[i];
		uint64_t off = addr - r->gpa;

		if (addr >= r->gpa && off <= r->size && len <= r->size - off)
			return r->map + r->mmap_offset + off;
	}
	return NULL;
}

/* A frontend virtual address as guest-physical: 0 and *gpa set, or -EFAULT. */
static int vub_qva_to_gpa(const struct vub *b, uint64_t qva, uint64_t *gpa)
{
	for (unsigned int i = 0; i < b->nregions; i++) {
		const struct vub_region *r = &b->regions[i];

		if (qva >= r->qva && qva - r->qva < r->size) {
			*gpa = r->gpa + (qva - r->qva);
			return 0;
		}
	}
	return -EFAULT;
}

static bool vub_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Check and map region @r from @fd (not taken). */
static int vub_region_map(struct vub_region *r, const struct vhost_user_region *w, int fd)
{
	struct stat st;
	uint64_t end;
	void *p;

	if (w->memory_size == 0 || w->guest_phys_addr > UINT64_MAX - w->memory_size ||
	    w->userspace_addr > UINT64_MAX - w->memory_size ||
	    w->mmap_offset > UINT64_MAX - w->memory_size)
		return -EINVAL;
	end = w->mmap_offset + w->memory_size;
	/* Only files whose size we can check: touching a page past the end would be SIGBUS. */
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < end || end > SIZE_MAX)
		return -EINVAL;
	p = mmap(NULL, end, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*r = (struct vub_region){ .gpa = w->guest_phys_addr, .size = w->memory_size,
				  .qva = w->userspace_addr, .mmap_offset = w->mmap_offset,
				  .map = p, .map_len = end };
	return 0;
}

/* ---- the device model over the rings ---- */

static void vub_notify(void *opaque, unsigned int vq)
{
	struct vub *b = opaque;
	uint64_t one = 1;

	if (b->vr[vq].call >= 0 && write(b->vr[vq].call, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_warn("vm '%s': call eventfd of queue %u: %s", b->dev.name, vq, strerror(errno));
}

static int vub_backend_send(struct vub *b, uint32_t request, const void *body, uint32_t size,
			    int fd, bool wait);

static void vub_state(void *opaque, uint32_t state, int32_t error)
{
	struct vub *b = opaque;
	uint64_t one = 1;
	int r;

	/*
	 * GONE is in the configuration space (GET_CONFIG): tell the frontend to
	 * raise the guest's configuration interrupt; nobody waits for it.
	 */
	if (state == VIRTIO_VMBUF_STATE_GONE) {
		/* Acknowledged: QEMU raised the interrupt; the guest then reads GET_CONFIG. */
		r = vub_backend_send(b, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, NULL, 0, -1, true);
		if (r < 0)
			log_debug("vm '%s': configuration change: %s", b->dev.name, strerror(-r));
		b->gone_unread = r == 0;
		return;
	}
	/* virtio has no BROKEN: tell the frontend through the queues' error eventfds. */
	if (state != VIRTIO_VMBUF_STATE_BROKEN)
		return;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++)
		if (b->vr[i].err >= 0 && write(b->vr[i].err, &one, sizeof(one)) < 0)
			log_debug("vm '%s': error eventfd of queue %u: %s", b->dev.name, i,
				  strerror(errno));
	(void)error;
}

static void vub_rekick(void *opaque, unsigned int vq)
{
	struct vub *b = opaque;
	uint64_t one = 1;

	if (b->vr[vq].kick >= 0 && write(b->vr[vq].kick, &one, sizeof(one)) < 0)
		log_warn("vm '%s': re-arming queue %u: %s", b->dev.name, vq, strerror(errno));
}

static const struct device_ops vub_device_ops = {
	.notify = vub_notify,
	.state = vub_state,
	.rekick = vub_rekick,
};

static void vub_kick(struct loop_source *src, uint32_t events, void *data)
{
	struct vub_vring *vr = data;
	uint64_t v;

	(void)src;
	(void)events;
	if (read(vr->kick, &v, sizeof(v)) < 0 && errno == EAGAIN)
		return;
	device_kick(&vr->b->dev, vr->index);
}

static bool vub_vring_ready(const struct vub *b, const struct vub_vring *vr)
{
	bool need_enable = b->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES);

	return vr->num && vr->has_addr && vr->kick >= 0 && (vr->enabled || !need_enable);
}

/* Both rings are complete: start the device model over them. */
static int vub_try_start(struct vub *b)
{
	struct device_queue q[VIRTIO_VMBUF_NUM_VQS];
	struct vq_mem mem = { .map = vub_map_gpa, .opaque = b };

	if (b->dev.state != VIRTIO_VMBUF_STATE_RESET)
		return 0;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++) {
		struct vub_vring *vr = &b->vr[i];

		if (!vub_vring_ready(b, vr))
			return 0;
		q[i] = (struct device_queue){ .size = vr->num, .enable = true };
		if (vub_qva_to_gpa(b, vr->desc, &q[i].desc) < 0 ||
		    vub_qva_to_gpa(b, vr->avail, &q[i].avail) < 0 ||
		    vub_qva_to_gpa(b, vr->used, &q[i].used) < 0)
			q[i].enable = false;	/* the device model breaks on it */
	}
	device_set_status(&b->dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_DRIVER_OK, &mem, q);
	return 0;
}

/* The memory table changed under live rings: point them into the new mappings. */
static int vub_remap_rings(struct vub *b)
{
	if (b->dev.state != VIRTIO_VMBUF_STATE_LIVE)
		return 0;
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++) {
		struct vub_vring *vr = &b->vr[i];
		struct vq *vq = &b->dev.vq[i];
		uint16_t last_avail = vq->last_avail, used_idx = vq->used_idx;
		struct vq_mem mem = vq->mem;	/* vq_init() clears *vq first */
		uint64_t d, a, u;
		int r = -EFAULT;

		if (vub_qva_to_gpa(b, vr->desc, &d) == 0 && vub_qva_to_gpa(b, vr->avail, &a) == 0 &&
		    vub_qva_to_gpa(b, vr->used, &u) == 0)
			r = vq_init(vq, &mem, vr->num, VIRTIO_VMBUF_QUEUE_MAX, d, a, u);
		if (r < 0) {
			device_break(&b->dev, "rings after a memory table change", r);
			return 0;
		}
		vq->last_avail = last_avail;
		vq->used_idx = used_idx;
	}
	return 0;
}

/* ---- per-buffer mappings (SHMEM): the backend channel ---- */

static int vub_read(struct vub *b);
static int vub_dispatch(struct vub *b);
static void vub_drop_fds(struct vub *b);

/*
 * While we wait for the frontend to answer on the backend channel, it may be
 * waiting for us: QEMU adds a memory slot for every mapping it makes
 * (ADD_MEM_REG) and waits for our reply before it answers the map. So the
 * wait also reads the frontend's messages: memory slot changes are handled
 * on the spot (they only add or drop mappings), anything else stays read
 * but unhandled until the wait is over (the wait ends at once: that
 * frontend is busy with something else), and the wake eventfd makes the
 * owner's loop come back for it. 1: a reply is waiting; 0: give up now.
 */
static int vub_wait_backend(struct vub *b)
{
	struct pollfd p[2] = { { .fd = b->backend_fd, .events = POLLIN },
			       { .fd = b->sock, .events = POLLIN } };
	uint64_t one = 1;
	int r;

	for (;;) {
		r = poll(p, b->msg_ready ? 1 : 2, VUB_BACKEND_TIMEOUT_MS);
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		if (p[0].revents)
			return 1;
		r = vub_read(b);
		if (r < 0)
			return r;
		if (r != 1)
			continue;
		if (b->hdr.request != VHOST_USER_ADD_MEM_REG &&
		    b->hdr.request != VHOST_USER_REM_MEM_REG) {
			b->msg_ready = true;
			if (write(b->wake, &one, sizeof(one)) < 0)
				return -errno;
			return -EBUSY;
		}
		r = vub_dispatch(b);
		vub_drop_fds(b);
		b->in_len = 0;
		if (r < 0)
			return r;
	}
}

static bool vub_has(const struct vub *b, unsigned int protocol_feature)
{
	return b->protocol_features & (1ull << protocol_feature);
}

/*
 * Send one request of @size bytes on the backend channel, with @fd when it
 * maps one; with @wait, wait for its acknowledgement too (REPLY_ACK). 0 or a
 * negative errno.
 */
static int vub_backend_send(struct vub *b, uint32_t request, const void *body, uint32_t size,
			    int fd, bool wait)
{
	bool ack = wait && vub_has(b, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	struct vhost_user_hdr h = { request,
				    VHOST_USER_VERSION | (ack ? VHOST_USER_NEED_REPLY : 0), size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, size } };
	struct {
		struct vhost_user_hdr h;
		uint64_t status;
	} __attribute__((packed)) reply;
	size_t got = 0;
	ssize_t n;

	if (b->backend_fd < 0)
		return -ENOTCONN;
	n = sock_send_fd(b->backend_fd, iov, size ? 2 : 1, fd);
	if (n < 0)
		return (int)n;
	if ((size_t)n != sizeof(h) + size)
		return -EIO;
	while (ack && got < sizeof(reply)) {
		int r = vub_wait_backend(b);

		if (r < 0)
			return r;
		n = recv(b->backend_fd, (uint8_t *)&reply + got, sizeof(reply) - got, MSG_DONTWAIT);
		if (n <= 0)
			return n < 0 && errno != EAGAIN ? -errno : -ECONNRESET;
		got += (size_t)n;
	}
	if (!ack)
		return 0;
	if (reply.h.request != request || !(reply.h.flags & VHOST_USER_REPLY) ||
	    reply.h.size != sizeof(reply.status))
		return -EPROTO;
	return reply.status ? -EIO : 0;
}

static int vub_map(void *device, const struct pool *p, uint64_t off, uint64_t size, uint64_t *addr)
{
	struct vub *b = container_of(device, struct vub, dev);
	struct vhost_user_shmem_map m = { .shmid = 0, .fd_offset = off, .len = size,
					  .flags = VHOST_USER_SHMEM_MAP_RW };
	int r;

	/* Large buffers 2 MiB aligned where there is room: huge pages in the guest. */
	r = alloc_get(&b->shm_alloc, size, size >= (2u << 20) ? 2u << 20 : 4096, &m.shm_offset);
	if (r < 0 && size >= (2u << 20))
		r = alloc_get(&b->shm_alloc, size, 4096, &m.shm_offset);
	if (r < 0)
		return -ENOSPC;	/* the VM's region is full */
	r = vub_backend_send(b, VHOST_USER_BACKEND_SHMEM_MAP, &m, sizeof(m), p->memfd, true);
	if (r < 0) {
		log_warn("vm '%s': SHMEM_MAP of %llu bytes of pool '%s': %s", b->dev.name,
			 (unsigned long long)size, p->name, strerror(-r));
		alloc_free(&b->shm_alloc, m.shm_offset, size);
		return r;
	}
	*addr = m.shm_offset;
	return 0;
}

static void vub_unmap(void *device, uint64_t addr, uint64_t size)
{
	struct vub *b = container_of(device, struct vub, dev);
	struct vhost_user_shmem_map m = { .shmid = 0, .shm_offset = addr, .len = size };
	int r = vub_backend_send(b, VHOST_USER_BACKEND_SHMEM_UNMAP, &m, sizeof(m), -1, true);

	if (r < 0 && r != -ENOTCONN)
		log_warn("vm '%s': SHMEM_UNMAP at %llu: %s", b->dev.name,
			 (unsigned long long)addr, strerror(-r));
	alloc_free(&b->shm_alloc, addr, size);
}

static uint64_t vub_locate(void *device, const struct pool *p)
{
	(void)device;
	(void)p;
	return 0;	/* every pool's buffers appear in shared memory region 0 */
}

/* How the core reaches a VM with per-buffer mappings. */
static const struct core_vm_ops vub_shm_core_ops = {
	.event = device_core_event,
	.resume = device_core_resume,
	.gone = device_core_gone,
	.locator_kind = VIRTIO_VMBUF_LOCATOR_SHM,
	.locate = vub_locate,
	.map = vub_map,
	.unmap = vub_unmap,
};

/* Region 0: room for every pool of the VM twice over (its own buffers and imports). */
static uint64_t vub_shm_size(const struct vub *b)
{
	uint64_t want = 2 * core_vm_pools_size(b->vm), size = 16u << 20;

	while (size < want && size < (64ull << 30))
		size <<= 1;
	return size;
}

/* ---- one handler per request ---- */

static void vub_reply_u64(struct vub *b, uint64_t v)
{
	b->out.u64 = v;
	b->out_len = sizeof(uint64_t);
}

/* Take the message's only fd (or -1), so it is not closed with the message. */
static int vub_take_fd(struct vub *b)
{
	return b->nfds ? fd_steal(&b->fds[0]) : -1;
}

static struct vub_vring *vub_vring(struct vub *b, uint32_t index)
{
	return index < VIRTIO_VMBUF_NUM_VQS ? &b->vr[index] : NULL;
}

static int vub_get_features(struct vub *b, const void *p)
{
	(void)p;
	vub_reply_u64(b, vub_features);
	return 0;
}

static int vub_set_features(struct vub *b, const void *p)
{
	uint64_t f;

	memcpy(&f, p, sizeof(f));
	if (f & ~vub_features)
		return -EINVAL;
	b->features = f;
	return 0;
}

static int vub_get_protocol_features(struct vub *b, const void *p)
{
	(void)p;
	vub_reply_u64(b, vub_protocol_features);
	return 0;
}

static int vub_set_protocol_features(struct vub *b, const void *p)
{
	uint64_t f;

	memcpy(&f, p, sizeof(f));
	if (f & ~vub_protocol_features)
		return -EINVAL;
	b->protocol_features = f;
	return 0;
}

static int vub_nothing(struct vub *b, const void *p)
{
	(void)b;
	(void)p;
	return 0;
}

static int vub_reset_owner(struct vub *b, const void *p)
{
	(void)p;
	device_reset(&b->dev);
	return 0;
}

static int vub_get_queue_num(struct vub *b, const void *p)
{
	(void)p;
	vub_reply_u64(b, VIRTIO_VMBUF_NUM_VQS);
	return 0;
}

/* Does @w overlap one of @n regions (guest-physical or frontend-virtual)? */
static bool vub_region_overlaps(const struct vhost_user_region *w, const struct vub_region *r,
				unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (vub_overlap(w->guest_phys_addr, w->memory_size, r[i].gpa, r[i].size) ||
		    vub_overlap(w->userspace_addr, w->memory_size, r[i].qva, r[i].size))
			return true;
	return false;
}

static int vub_get_max_mem_slots(struct vub *b, const void *p)
{
	(void)p;
	vub_reply_u64(b, VUB_MAX_SLOTS);
	return 0;
}

static int vub_add_mem_reg(struct vub *b, const void *p)
{
	const struct vhost_user_mem_reg *m = p;
	int r;

	if (b->nfds != 1 || b->nregions == VUB_MAX_SLOTS ||
	    vub_region_overlaps(&m->region, b->regions, b->nregions))
		return -EINVAL;
	r = vub_region_map(&b->regions[b->nregions], &m->region, b->fds[0]);
	if (r < 0)
		return r;
	b->nregions++;
	return 0;
}

static int vub_rem_mem_reg(struct vub *b, const void *p)
{
	const struct vhost_user_mem_reg *m = p;

	for (unsigned int i = 0; i < b->nregions; i++) {
		struct vub_region *r = &b->regions[i];

		if (r->gpa != m->region.guest_phys_addr || r->size != m->region.memory_size ||
		    r->qva != m->region.userspace_addr)
			continue;
		munmap(r->map, r->map_len);
		*r = b->regions[--b->nregions];
		/* Rings that lived in it no longer translate: the device breaks. */
		return vub_remap_rings(b);
	}
	return -ENOENT;
}

static int vub_set_mem_table(struct vub *b, const void *p)
{
	const struct vhost_user_memory *m = p;
	struct vub_region regions[VHOST_USER_MAX_REGIONS];
	unsigned int n = m->nregions;
	int r = 0;

	if (n == 0 || n > VHOST_USER_MAX_REGIONS || b->hdr.size != 8 + n * sizeof(m->regions[0]) ||
	    b->nfds != n)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		const struct vhost_user_region *w = &m->regions[i];

		r = vub_region_overlaps(w, regions, i) ? -EINVAL : vub_region_map(&regions[i], w,
										 b->fds[i]);
		if (r < 0) {
			while (i--)
				munmap(regions[i].map, regions[i].map_len);
			return r;
		}
	}
	vub_unmap_all(b);
	memcpy(b->regions, regions, n * sizeof(regions[0]));
	b->nregions = n;
	return vub_remap_rings(b);
}

static int vub_set_vring_num(struct vub *b, const void *p)
{
	const struct vhost_user_vring_state *s = p;
	struct vub_vring *vr = vub_vring(b, s->index);

	if (!vr || s->num == 0 || s->num > VIRTIO_VMBUF_QUEUE_MAX || (s->num & (s->num - 1)))
		return -EINVAL;
	vr->num = (uint16_t)s->num;
	return 0;
}

static int vub_set_vring_addr(struct vub *b, const void *p)
{
	const struct vhost_user_vring_addr *a = p;
	struct vub_vring *vr = vub_vring(b, a->index);

	if (!vr)
		return -EINVAL;
	vr->desc = a->desc;
	vr->used = a->used;
	vr->avail = a->avail;
	vr->has_addr = true;
	return vub_try_start(b);
}

static int vub_set_vring_base(struct vub *b, const void *p)
{
	const struct vhost_user_vring_state *s = p;

	/* The ring starts where the driver's used index says (vq_init()); a fresh one at 0. */
	return vub_vring(b, s->index) && s->num <= UINT16_MAX ? 0 : -EINVAL;
}

static int vub_get_vring_base(struct vub *b, const void *p)
{
	const struct vhost_user_vring_state *s = p;
	struct vub_vring *vr = vub_vring(b, s->index);
	struct vhost_user_vring_state reply;

	if (!vr)
		return -EINVAL;
	reply = (struct vhost_user_vring_state){ .index = s->index,
						 .num = b->dev.vq[s->index].last_avail };
	/*
	 * The frontend stops the rings: the VM pauses, or the guest resets the
	 * device (the generic device sends the same for both). Either way the
	 * session stays: a paused VM resumes it when the rings come back, a
	 * guest driver that starts over says HELLO (which releases the old one)
	 * and one that leaves says BYE first.
	 */
	device_pause(&b->dev);
	loop_remove(vr->kick_src);
	vr->kick_src = NULL;
	closep(&vr->kick);
	vr->kick = -1;
	vr->enabled = false;
	memcpy(b->out.bytes, &reply, sizeof(reply));
	b->out_len = sizeof(reply);
	return 0;
}

/* KICK, CALL, ERR: u64 index | NOFD, one fd unless NOFD. */
static int vub_vring_fd(struct vub *b, const void *p, struct vub_vring **out, int *fd)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	*out = vub_vring(b, (uint32_t)(v & VHOST_USER_VRING_IDX_MASK));
	if (!*out || (v & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD)) ||
	    (v & VHOST_USER_VRING_NOFD ? b->nfds != 0 : b->nfds != 1))
		return -EINVAL;
	*fd = vub_take_fd(b);
	return 0;
}

static int vub_set_vring_kick(struct vub *b, const void *p)
{
	struct vub_vring *vr;
	int fd, r;

	r = vub_vring_fd(b, p, &vr, &fd);
	if (r < 0)
		return r;
	if (fd < 0)
		return -EOPNOTSUPP;	/* polling rings without notifications */
	loop_remove(vr->kick_src);
	vr->kick_src = NULL;
	closep(&vr->kick);
	vr->kick = fd;
	r = loop_add(b->loop, fd, EPOLLIN, vub_kick, vr, &vr->kick_src);
	if (r < 0)
		return r;
	return vub_try_start(b);
}

static int vub_set_vring_call(struct vub *b, const void *p)
{
	struct vub_vring *vr;
	int fd, r;

	r = vub_vring_fd(b, p, &vr, &fd);
	if (r < 0)
		return r;
	closep(&vr->call);
	vr->call = fd;
	return 0;
}

static int vub_set_vring_err(struct vub *b, const void *p)
{
	struct vub_vring *vr;
	int fd, r;

	r = vub_vring_fd(b, p, &vr, &fd);
	if (r < 0)
		return r;
	closep(&vr->err);
	vr->err = fd;
	return 0;
}

static int vub_set_vring_enable(struct vub *b, const void *p)
{
	const struct vhost_user_vring_state *s = p;
	struct vub_vring *vr = vub_vring(b, s->index);

	if (!vr || s->num > 1)
		return -EINVAL;
	vr->enabled = s->num;
	return vub_try_start(b);
}

static int vub_set_backend_req_fd(struct vub *b, const void *p)
{
	(void)p;
	if (b->nfds != 1)
		return -EINVAL;
	closep(&b->backend_fd);
	b->backend_fd = vub_take_fd(b);
	return 0;
}

static int vub_get_config(struct vub *b, const void *p)
{
	const struct vhost_user_config *c = p;
	struct virtio_vmbuf_config cfg = {
		.magic = htole32(VIRTIO_VMBUF_CONFIG_MAGIC),
		.version = htole32(VIRTIO_VMBUF_VERSION),
		.state = htole32(b->dev.state),
	};
	struct vhost_user_config *reply = (void *)b->out.bytes;

	if (c->size > VHOST_USER_MAX_CONFIG || b->hdr.size != 12 + c->size ||
	    c->offset > VHOST_USER_MAX_CONFIG || c->size > VHOST_USER_MAX_CONFIG - c->offset)
		return -EINVAL;
	memset(reply, 0, sizeof(*reply));
	reply->offset = c->offset;
	reply->size = c->size;
	if (c->offset < sizeof(cfg))
		memcpy(reply->region, (uint8_t *)&cfg + c->offset,
		       c->size < sizeof(cfg) - c->offset ? c->size : sizeof(cfg) - c->offset);
	if (b->dev.state == VIRTIO_VMBUF_STATE_GONE)
		b->gone_unread = false;
	b->out_len = 12 + c->size;
	return 0;
}

static int vub_set_config(struct vub *b, const void *p)
{
	(void)b;
	(void)p;
	return -EPERM;	/* the configuration space is read-only */
}

/*
 * The frontend accepted the SHMEM bit and asks for the regions: from here on
 * the VM maps no pool; the core reaches it through vub_shm_core_ops.
 */
static int vub_get_shmem_config(struct vub *b, const void *p)
{
	struct vhost_user_shmem_config *c = (void *)b->out.bytes;
	uint64_t size = vub_shm_size(b);
	int r;

	(void)p;
	if (!vub_has(b, VHOST_USER_PROTOCOL_F_SHMEM))
		return -EPROTO;
	if (!b->shm) {
		r = alloc_init(&b->shm_alloc, 0, size);
		if (r < 0)
			return r;
		b->shm = true;
		core_vm_disconnect(b->vm);
		r = core_vm_connect(b->vm, &vub_shm_core_ops, &b->dev);
		if (r < 0)
			return r;
		log_info("vm '%s': buffers mapped one at a time into a %llu MiB region",
			 b->dev.name, (unsigned long long)(size >> 20));
	}
	memset(c, 0, sizeof(*c));
	c->nregions = 1;
	c->memory_sizes[0] = b->shm_alloc.size;
	b->out_len = sizeof(*c);
	return 0;
}

struct vub_request {
	const char *name;
	uint32_t min_size, max_size;	/* payload bytes */
	unsigned int max_fds;
	int (*handler)(struct vub *b, const void *payload);
	bool replies;			/* the protocol always answers it */
};

/* One table row: request, payload size range, fds allowed, handler, always answered. */
#define VUB_REQ(req, min, max, fds, fn, reply) \
	[VHOST_USER_##req] = { .name = #req, .min_size = (min), .max_size = (max), \
			       .max_fds = (fds), .handler = (fn), .replies = (reply) }
#define VUB_U64 sizeof(uint64_t)
#define VUB_STATE sizeof(struct vhost_user_vring_state)
#define VUB_ADDR sizeof(struct vhost_user_vring_addr)
#define VUB_CONFIG sizeof(struct vhost_user_config)
#define VUB_MEMREG sizeof(struct vhost_user_mem_reg)

static const struct vub_request vub_requests[VHOST_USER_REQUEST_MAX] = {
	VUB_REQ(GET_FEATURES, 0, 0, 0, vub_get_features, true),
	VUB_REQ(SET_FEATURES, VUB_U64, VUB_U64, 0, vub_set_features, false),
	VUB_REQ(SET_OWNER, 0, 0, 0, vub_nothing, false),
	VUB_REQ(RESET_OWNER, 0, 0, 0, vub_reset_owner, false),
	VUB_REQ(SET_MEM_TABLE, 8, sizeof(struct vhost_user_memory), VHOST_USER_MAX_REGIONS,
		vub_set_mem_table, false),
	VUB_REQ(SET_VRING_NUM, VUB_STATE, VUB_STATE, 0, vub_set_vring_num, false),
	VUB_REQ(SET_VRING_ADDR, VUB_ADDR, VUB_ADDR, 0, vub_set_vring_addr, false),
	VUB_REQ(SET_VRING_BASE, VUB_STATE, VUB_STATE, 0, vub_set_vring_base, false),
	VUB_REQ(GET_VRING_BASE, VUB_STATE, VUB_STATE, 0, vub_get_vring_base, true),
	VUB_REQ(SET_VRING_KICK, VUB_U64, VUB_U64, 1, vub_set_vring_kick, false),
	VUB_REQ(SET_VRING_CALL, VUB_U64, VUB_U64, 1, vub_set_vring_call, false),
	VUB_REQ(SET_VRING_ERR, VUB_U64, VUB_U64, 1, vub_set_vring_err, false),
	VUB_REQ(GET_PROTOCOL_FEATURES, 0, 0, 0, vub_get_protocol_features, true),
	VUB_REQ(SET_PROTOCOL_FEATURES, VUB_U64, VUB_U64, 0, vub_set_protocol_features, false),
	VUB_REQ(GET_QUEUE_NUM, 0, 0, 0, vub_get_queue_num, true),
	VUB_REQ(SET_VRING_ENABLE, VUB_STATE, VUB_STATE, 0, vub_set_vring_enable, false),
	VUB_REQ(SET_BACKEND_REQ_FD, 0, 0, 1, vub_set_backend_req_fd, false),
	VUB_REQ(GET_CONFIG, 12, VUB_CONFIG, 0, vub_get_config, true),
	VUB_REQ(SET_CONFIG, 12, VUB_CONFIG, 0, vub_set_config, false),
	VUB_REQ(GET_MAX_MEM_SLOTS, 0, 0, 0, vub_get_max_mem_slots, true),
	VUB_REQ(ADD_MEM_REG, VUB_MEMREG, VUB_MEMREG, 1, vub_add_mem_reg, false),
	VUB_REQ(REM_MEM_REG, VUB_MEMREG, VUB_MEMREG, 1, vub_rem_mem_reg, false),
	VUB_REQ(GET_SHMEM_CONFIG, 0, 0, 0, vub_get_shmem_config, true),
};

const char *vub_request_name(uint32_t request)
{
	return request < VHOST_USER_REQUEST_MAX && vub_requests[request].name ?
		       vub_requests[request].name : "unknown";
}

static int vub_send_reply(struct vub *b)
{
	struct vhost_user_hdr h = { .request = b->hdr.request,
				    .flags = VHOST_USER_VERSION | VHOST_USER_REPLY,
				    .size = b->out_len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { b->out.bytes, b->out_len } };
	ssize_t n = sock_send_fd(b->sock, iov, b->out_len ? 2 : 1, -1);

	if (n < 0)
		return (int)n;
	return (size_t)n == sizeof(h) + b->out_len ? 0 : -EIO;
}

/* One whole message is in b->in with its fds: check it against the table, handle, reply. */
static int vub_dispatch(struct vub *b)
{
	const struct vhost_user_hdr *h = &b->hdr;
	const struct vub_request *t = h->request < VHOST_USER_REQUEST_MAX ?
					      &vub_requests[h->request] : NULL;
	bool ack = (h->flags & VHOST_USER_NEED_REPLY) &&
		   (b->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	int r;

	b->out_len = 0;
	if (!t || !t->handler) {
		/* Nothing we offered needs it; answer if the frontend waits for an answer. */
		log_debug("vm '%s': vhost-user request %u not handled", b->dev.name, h->request);
		if (!ack)
			return 0;
		vub_reply_u64(b, 1);
		return vub_send_reply(b);
	}
	if (h->size < t->min_size || h->size > t->max_size || b->nfds > t->max_fds) {
		log_warn("vm '%s': vhost-user %s: %u payload bytes, %u fd(s): malformed",
			 b->dev.name, t->name, h->size, b->nfds);
		return -EBADMSG;
	}
	r = t->handler(b, b->payload.bytes);
	if (r < 0) {
		log_warn("vm '%s': vhost-user %s: %s", b->dev.name, t->name, strerror(-r));
		return r;
	}
	log_debug("vm '%s': vhost-user %s", b->dev.name, t->name);
	if (t->replies)
		return vub_send_reply(b);
	if (ack) {
		vub_reply_u64(b, 0);
		return vub_send_reply(b);
	}
	return 0;
}

static void vub_drop_fds(struct vub *b)
{
	for (unsigned int i = 0; i < b->nfds; i++)
		closep(&b->fds[i]);
	b->nfds = 0;
}

/*
 * Read what the socket has of the current message, never past it: 1 when it
 * is whole, 2 when some came, 0 when the socket has nothing now.
 */
static int vub_read(struct vub *b)
{
	union {
		char buf[CMSG_SPACE(VUB_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	const size_t hlen = sizeof(struct vhost_user_hdr);
	struct iovec iov = b->in_len < hlen ?
		(struct iovec){ (uint8_t *)&b->hdr + b->in_len, hlen - b->in_len } :
		(struct iovec){ b->payload.bytes + (b->in_len - hlen), hlen + b->hdr.size - b->in_len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	bool too_many = false;
	ssize_t n;

	n = recvmsg(b->sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t nfd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (b->nfds < VUB_MAX_FDS)
				b->fds[b->nfds++] = fd;
			else {
				close(fd);
				too_many = true;
			}
		}
	}
	if (too_many || (msg.msg_flags & MSG_CTRUNC))
		return -EBADMSG;
	b->in_len += (size_t)n;
	if (b->in_len == hlen && ((b->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
				  b->hdr.size > VHOST_USER_PAYLOAD_MAX))
		return -EBADMSG;
	return b->in_len >= hlen && b->in_len == hlen + b->hdr.size ? 1 : 2;
}

int vub_sock_ready(struct vub *b, bool hup)
{
	uint64_t v;

	if (read(b->wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	for (;;) {
		int r = b->msg_ready ? 1 : vub_read(b);

		b->msg_ready = false;
		if (r == 0)
			return hup ? -ECONNRESET : 0;
		if (r == 1) {
			r = vub_dispatch(b);
			vub_drop_fds(b);
			b->in_len = 0;
		}
		if (r < 0) {
			vub_drop_fds(b);
			return r;
		}
	}
}

/* ---- life ---- */

int vub_new(struct vub **out, struct loop *loop, int sock, struct core_vm *vm)
{
	struct vub *b = calloc(1, sizeof(*b));
	int r;

	if (!b) {
		close(sock);
		return -ENOMEM;
	}
	b->loop = loop;
	b->sock = sock;
	b->vm = vm;
	b->backend_fd = -1;
	b->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++)
		b->vr[i] = (struct vub_vring){ .b = b, .index = i, .kick = -1, .call = -1,
					       .err = -1 };
	device_init(&b->dev, vm, &vub_device_ops, b);
	if (b->wake < 0) {
		r = -errno;
		vub_free(b);
		return r;
	}
	r = core_vm_connect(vm, &ivshmem_pool_core_ops, &b->dev);
	if (r < 0) {
		vub_free(b);
		return r;
	}
	b->connected = true;
	*out = b;
	return 0;
}

void vub_free(struct vub *b)
{
	if (!b)
		return;
	/* The frontend is gone or going: its mappings go with it, nothing is sent. */
	closep(&b->backend_fd);
	b->backend_fd = -1;
	if (b->connected)
		core_vm_disconnect(b->vm);
	for (unsigned int i = 0; i < VIRTIO_VMBUF_NUM_VQS; i++) {
		loop_remove(b->vr[i].kick_src);
		closep(&b->vr[i].kick);
		closep(&b->vr[i].call);
		closep(&b->vr[i].err);
	}
	vub_drop_fds(b);
	vub_unmap_all(b);
	if (b->shm)
		alloc_fini(&b->shm_alloc);
	closep(&b->backend_fd);
	closep(&b->sock);
	closep(&b->wake);
	free(b);
}

bool vub_gone_unread(const struct vub *b)
{
	return b->gone_unread;
}

int vub_sock(const struct vub *b)
{
	return b->sock;
}

int vub_wake_fd(const struct vub *b)
{
	return b->wake;
}
