/*
 * virtqueue - the device side of a virtio 1.x split virtqueue.
 *
 * Shared by both transports: the ivshmem transport maps ring addresses as
 * offsets into the control region, the vhost-user transport as guest
 * physical addresses through QEMU's memory table. Every byte the driver
 * wrote is hostile: ring placement, indexes, descriptor chains (loops,
 * lengths, order, count) are checked, and a violation marks the ring broken
 * until the driver resets it; every operation on a broken ring fails.
 *
 * Return convention: 0 or a positive value on success, a negative errno on
 * failure. The ring never blocks and never allocates.
 */
#ifndef VMBUF_VIRTQUEUE_H
#define VMBUF_VIRTQUEUE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Guest memory as the transport sees it. map() returns a host pointer for
 * [addr, addr + len) or NULL when any byte of it is outside the memory the
 * driver may use (len may be 0). It must not fail for a range it accepted
 * before while the ring is live.
 */
struct vq_mem {
	void *(*map)(void *opaque, uint64_t addr, uint64_t len);
	void *opaque;
};

#define VQ_MAX_IOV 8

struct vq_iov {
	uint8_t *base;
	uint32_t len;
};

/* One popped descriptor chain: readable (out) then writable (in) buffers. */
struct vq_elem {
	uint16_t head;
	uint16_t out_num;
	uint16_t in_num;
	uint64_t out_len;
	uint64_t in_len;
	struct vq_iov out[VQ_MAX_IOV];
	struct vq_iov in[VQ_MAX_IOV];
};

struct vq {
	struct vq_mem mem;
	uint16_t num;		/* 0: not set up */
	uint16_t last_avail;
	uint16_t used_idx;
	int broken;		/* 0 or the negative errno that broke it */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/*
 * Set up @vr over the driver's layout. @num must be a power of two in
 * 1..max_num; the three areas must be aligned (16, 2, 4) and mappable.
 * Returns 0 or -EINVAL; on failure @vr is left unset (num 0).
 */
int vq_init(struct vq *vr, const struct vq_mem *mem, unsigned int num,
	       unsigned int max_num, uint64_t desc, uint64_t avail, uint64_t used);

/* Forget the ring (driver reset). */
void vq_reset(struct vq *vr);

/*
 * Take the next available chain into @elem. Returns 1 when it took one, 0
 * when the ring is empty, a negative errno when the ring is (now) broken.
 */
int vq_pop(struct vq *vr, struct vq_elem *elem);

/*
 * Give back the chain the last vq_pop() took, unused: the next vq_pop()
 * takes it again and reads the driver's bytes anew (nothing is kept).
 */
void vq_unpop(struct vq *vr);

/* Copy up to @cap readable bytes of @elem into @buf; returns bytes copied. */
size_t vq_elem_read(const struct vq_elem *elem, void *buf, size_t cap);

/* Copy up to @len bytes into the writable part of @elem; returns bytes copied. */
size_t vq_elem_write(const struct vq_elem *elem, const void *buf, size_t len);

/* Return @elem to the driver, @written bytes written. Fails on a broken ring. */
int vq_push(struct vq *vr, const struct vq_elem *elem, uint32_t written);

#endif
