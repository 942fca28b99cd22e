/*
 * Device-side split virtqueue (virtio 1.x, section 2.7). The device reads
 * the available ring, walks descriptor chains and publishes used elements.
 * INDIRECT descriptors and event-index suppression are not negotiated, so an
 * INDIRECT flag is a protocol violation.
 *
 * Concurrency: the driver runs on another CPU and can rewrite any ring byte
 * at any time. Each descriptor is copied once into a local before it is
 * checked and used, so a later rewrite cannot bypass a check.
 */
#include "virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <string.h>

static int vq_fail(struct vq *vr, int err)
{
	if (!vr->broken)
		vr->broken = err;
	return vr->broken;
}

int vq_init(struct vq *vr, const struct vq_mem *mem, unsigned int num,
	       unsigned int max_num, uint64_t desc, uint64_t avail, uint64_t used)
{
	uint64_t desc_len, avail_len, used_len;
	void *d, *a, *u;

	memset(vr, 0, sizeof(*vr));
	if (num == 0 || num > max_num || num > 32768 || (num & (num - 1)))
		return -EINVAL;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -EINVAL;

	desc_len = 16ull * num;
	avail_len = 6 + 2ull * num;		/* flags, idx, ring[num], used_event */
	used_len = 6 + 8ull * num;		/* flags, idx, ring[num], avail_event */
	d = mem->map(mem->opaque, desc, desc_len);
	a = mem->map(mem->opaque, avail, avail_len);
	u = mem->map(mem->opaque, used, used_len);
	if (!d || !a || !u)
		return -EINVAL;

	vr->mem = *mem;
	vr->num = num;
	vr->desc = d;
	vr->avail = a;
	vr->used = u;
	/* Start from what the driver published: a fresh ring has both at 0. */
	vr->used_idx = le16toh(__atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE));
	vr->last_avail = vr->used_idx;
	return 0;
}

void vq_reset(struct vq *vr)
{
	memset(vr, 0, sizeof(*vr));
}

static int vq_add_iov(struct vq *vr, struct vq_iov *iov, uint16_t *n,
			 uint64_t *total, uint64_t addr, uint32_t len)
{
	void *p;

	if (len == 0)
		return 0;
	if (*n >= VQ_MAX_IOV)
		return vq_fail(vr, -E2BIG);
	p = vr->mem.map(vr->mem.opaque, addr, len);
	if (!p)
		return vq_fail(vr, -EFAULT);
	iov[*n].base = p;
	iov[*n].len = len;
	(*n)++;
	*total += len;
	return 0;
}

int vq_pop(struct vq *vr, struct vq_elem *elem)
{
	uint16_t avail_idx, head, idx;
	unsigned int steps;
	bool seen_in = false;
	int r;

	if (vr->broken)
		return vr->broken;
	if (!vr->num)
		return -ENODEV;

	/* Acquire: ring entries below idx are valid once idx is seen. */
	avail_idx = le16toh(__atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE));
	if ((uint16_t)(avail_idx - vr->last_avail) > vr->num)
		return vq_fail(vr, -EOVERFLOW);
	if (avail_idx == vr->last_avail)
		return 0;

	head = le16toh(__atomic_load_n(&vr->avail->ring[vr->last_avail % vr->num],
				       __ATOMIC_RELAXED));
	if (head >= vr->num)
		return vq_fail(vr, -ERANGE);

	memset(elem, 0, offsetof(struct vq_elem, out));
	elem->head = head;
	idx = head;
	for (steps = 0;; steps++) {
		struct vring_desc d;
		uint16_t flags;

		/* A chain longer than the table must loop. */
		if (steps >= vr->num)
			return vq_fail(vr, -ELOOP);
		memcpy(&d, &vr->desc[idx], sizeof(d));
		flags = le16toh(d.flags);
		if (flags & VRING_DESC_F_INDIRECT)
			return vq_fail(vr, -EINVAL);
		if (flags & VRING_DESC_F_WRITE) {
			seen_in = true;
			r = vq_add_iov(vr, elem->in, &elem->in_num, &elem->in_len,
					  le64toh(d.addr), le32toh(d.len));
		} else {
			/* Readable buffers must come before writable ones. */
			if (seen_in)
				return vq_fail(vr, -EINVAL);
			r = vq_add_iov(vr, elem->out, &elem->out_num, &elem->out_len,
					  le64toh(d.addr), le32toh(d.len));
		}
		if (r < 0)
			return r;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		idx = le16toh(d.next);
		if (idx >= vr->num)
			return vq_fail(vr, -ERANGE);
	}
	vr->last_avail++;
	return 1;
}

void vq_unpop(struct vq *vr)
{
	vr->last_avail--;
}

size_t vq_elem_read(const struct vq_elem *elem, void *buf, size_t cap)
{
	size_t done = 0;

	for (unsigned int i = 0; i < elem->out_num && done < cap; i++) {
		size_t n = elem->out[i].len;

		if (n > cap - done)
			n = cap - done;
		memcpy((uint8_t *)buf + done, elem->out[i].base, n);
		done += n;
	}
	return done;
}

size_t vq_elem_write(const struct vq_elem *elem, const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < elem->in_num && done < len; i++) {
		size_t n = elem->in[i].len;

		if (n > len - done)
			n = len - done;
		memcpy(elem->in[i].base, (const uint8_t *)buf + done, n);
		done += n;
	}
	return done;
}

int vq_push(struct vq *vr, const struct vq_elem *elem, uint32_t written)
{
	struct vring_used_elem *ue;

	if (vr->broken)
		return vr->broken;
	if (!vr->num)
		return -ENODEV;
	ue = &vr->used->ring[vr->used_idx % vr->num];
	__atomic_store_n(&ue->id, htole32(elem->head), __ATOMIC_RELAXED);
	__atomic_store_n(&ue->len, htole32(written), __ATOMIC_RELAXED);
	vr->used_idx++;
	/* Release: the element and the data it covers before the new index. */
	__atomic_store_n(&vr->used->idx, htole16(vr->used_idx), __ATOMIC_RELEASE);
	return 0;
}
