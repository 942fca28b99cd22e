/* test_virtqueue - device-side split ring over a plain buffer: pop, push, violations. */
#include <endian.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "virtqueue.h"
#include "../check.h"

#define MEM 65536
static uint8_t mem[MEM] __attribute__((aligned(16)));

static void *map(void *opaque, uint64_t addr, uint64_t len)
{
	(void)opaque;
	if (addr < 4096 || addr > MEM || len > MEM - addr)
		return NULL;
	return mem + addr;
}

static struct vring_desc *desc = (void *)(mem + 4096);
static struct vring_avail *avail = (void *)(mem + 8192);
static struct vring_used *used = (void *)(mem + 12288);

static void publish(uint16_t head, uint16_t idx)
{
	avail->ring[(idx - 1) % 8] = htole16(head);
	avail->idx = htole16(idx);
}

int main(void)
{
	const struct vq_mem m = { .map = map };
	struct vq vq;
	struct vq_elem e;
	char buf[64];

	CHECK(vq_init(&vq, &m, 8, 1024, 4096, 8192, 12288) == 0, "init 8 entries");
	CHECK(vq_pop(&vq, &e) == 0, "empty ring pops nothing");

	desc[0] = (struct vring_desc){ htole64(20000), htole32(5), htole16(VRING_DESC_F_NEXT), htole16(3) };
	desc[3] = (struct vring_desc){ htole64(30000), htole32(64), htole16(VRING_DESC_F_WRITE), 0 };
	memcpy(mem + 20000, "hello", 5);
	publish(0, 1);
	CHECK(vq_pop(&vq, &e) == 1 && e.head == 0 && e.out_num == 1 && e.in_num == 1 &&
	      e.out_len == 5 && e.in_len == 64, "pop a two-descriptor chain");
	CHECK(vq_elem_read(&e, buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5), "read request bytes");
	CHECK(vq_elem_write(&e, "world!", 6) == 6 && !memcmp(mem + 30000, "world!", 6), "write response");
	CHECK(vq_push(&vq, &e, 6) == 0 && le16toh(used->idx) == 1 && le32toh(used->ring[0].id) == 0 &&
	      le32toh(used->ring[0].len) == 6, "push publishes the used element");
	CHECK(vq_pop(&vq, &e) == 0, "ring empty again");

	CHECK(vq_init(&vq, &m, 0, 1024, 4096, 8192, 12288) == -EINVAL, "size 0 refused");
	CHECK(vq_init(&vq, &m, 6, 1024, 4096, 8192, 12288) == -EINVAL, "size 6 refused");
	CHECK(vq_init(&vq, &m, 2048, 1024, 4096, 8192, 12288) == -EINVAL, "size over max refused");
	CHECK(vq_init(&vq, &m, 8, 1024, 4097, 8192, 12288) == -EINVAL, "misaligned table refused");
	CHECK(vq_init(&vq, &m, 8, 1024, 0, 8192, 12288) == -EINVAL, "unmappable table refused");
	CHECK(vq_init(&vq, &m, 4096, 4096, 4096, 8192, MEM - 100) == -EINVAL, "used ring past end refused");

	memset(mem, 0, sizeof(mem));
	vq_init(&vq, &m, 8, 1024, 4096, 8192, 12288);
	desc[1] = (struct vring_desc){ htole64(20000), htole32(4), htole16(VRING_DESC_F_NEXT), htole16(2) };
	desc[2] = (struct vring_desc){ htole64(20000), htole32(4), htole16(VRING_DESC_F_NEXT), htole16(1) };
	publish(1, 1);
	CHECK(vq_pop(&vq, &e) == -ELOOP && vq.broken == -ELOOP, "loop detected");
	CHECK(vq_pop(&vq, &e) == -ELOOP && vq_push(&vq, &e, 0) == -ELOOP, "broken ring stays broken");

	memset(mem, 0, sizeof(mem));
	vq_init(&vq, &m, 16, 1024, 4096, 8192, 12288);
	for (int i = 0; i < 9; i++)
		desc[i] = (struct vring_desc){ htole64(20000 + 8 * i), htole32(8),
					       htole16(i < 8 ? VRING_DESC_F_NEXT : 0), htole16(i + 1) };
	publish(0, 1);
	CHECK(vq_pop(&vq, &e) == -E2BIG, "more than VQ_MAX_IOV buffers refused");

	memset(mem, 0, sizeof(mem));
	vq_init(&vq, &m, 8, 1024, 4096, 8192, 12288);
	desc[0] = (struct vring_desc){ htole64(MEM - 4), htole32(8), 0, 0 };
	publish(0, 1);
	CHECK(vq_pop(&vq, &e) == -EFAULT, "buffer crossing the end refused");

	memset(mem, 0, sizeof(mem));
	vq_init(&vq, &m, 8, 1024, 4096, 8192, 12288);
	avail->idx = htole16(9);
	CHECK(vq_pop(&vq, &e) == -EOVERFLOW, "available index more than a ring ahead");

	memset(mem, 0, sizeof(mem));
	vq_init(&vq, &m, 8, 1024, 4096, 8192, 12288);
	desc[0] = (struct vring_desc){ htole64(20000), htole32(0), 0, 0 };
	publish(0, 1);
	CHECK(vq_pop(&vq, &e) == 1 && e.out_num == 0 && e.in_num == 0, "zero-length buffers are skipped");
	return check_done();
}
