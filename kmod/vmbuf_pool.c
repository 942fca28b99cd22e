// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf pools: memory a transport found for a pool (an ivshmem BAR, ...),
 * mapped write-back with struct pages by the transport, so buffers can be
 * mmapped, vmapped and DMA-mapped like RAM.
 *
 * A pool is used only once the device's HELLO lists a pool whose locator
 * equals the one the transport read from something only the daemon
 * controls (ivshmem: the device's IVPosition register, set by QEMU from the
 * daemon's socket), and whose size equals the memory's. Bytes inside pool
 * memory, which every member can write, are never trusted. A transport that
 * maps buffers one at a time (virtio shared memory) makes the memory for
 * HELLO's pools itself: vmbuf_pool_add_bound().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "vmbuf.h"

LIST_HEAD(vmbuf_pools);

/* Use @pool as HELLO's pool @pi and give it its heap; under vmbuf_lock. */
static void vmbuf_pool_bind(struct vmbuf_pool *pool, const struct virtio_vmbuf_pool_info *pi)
{
	pool->pool_id = le32_to_cpu(pi->pool_id);
	pool->data_offset = le32_to_cpu(pi->data_offset);
	memcpy(pool->name, pi->name, VIRTIO_VMBUF_NAME_MAX);
	pool->name[VIRTIO_VMBUF_NAME_MAX] = '\0';
	pool->matched = true;
	if (!vmbuf_heap_register(pool))
		dev_info(pool->dev, "pool '%s': %pa bytes, heap %s\n", pool->name, &pool->size,
			 pool->heap_node);
}

static void vmbuf_pool_match_one(struct vmbuf_pool *pool)
{
	struct vmbuf_dev *dev = vmbuf_dev;
	unsigned int i;

	if (!dev || pool->matched || pool->locator_kind != dev->locator_kind)
		return;
	for (i = 0; i < dev->npools; i++) {
		const struct virtio_vmbuf_pool_info *pi = &dev->pools[i];

		if (le64_to_cpu(pi->locator) != pool->locator)
			continue;
		if (le64_to_cpu(pi->size) != pool->size ||
		    le32_to_cpu(pi->data_offset) >= pool->size) {
			dev_err(pool->dev, "pool size %pa does not match the daemon's\n",
				&pool->size);
			return;
		}
		vmbuf_pool_bind(pool, pi);
		return;
	}
	dev_warn(pool->dev, "no pool with locator %#llx in the daemon's list\n", pool->locator);
}

void vmbuf_pools_match(void)
{
	struct vmbuf_pool *pool;

	lockdep_assert_held(&vmbuf_lock);
	list_for_each_entry(pool, &vmbuf_pools, link)
		vmbuf_pool_match_one(pool);
}

struct vmbuf_pool *vmbuf_pool_by_id(u32 pool_id)
{
	struct vmbuf_pool *pool, *found = NULL;

	mutex_lock(&vmbuf_lock);
	list_for_each_entry(pool, &vmbuf_pools, link)
		if (pool->matched && pool->pool_id == pool_id)
			found = pool;
	mutex_unlock(&vmbuf_lock);
	return found;
}

void vmbuf_pool_add(struct vmbuf_pool *pool)
{
	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->buffers);
	mutex_lock(&vmbuf_lock);
	list_add_tail(&pool->link, &vmbuf_pools);
	vmbuf_pool_match_one(pool);
	mutex_unlock(&vmbuf_lock);
}

void vmbuf_pool_add_bound(struct vmbuf_pool *pool, const struct virtio_vmbuf_pool_info *pi)
{
	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->buffers);
	mutex_lock(&vmbuf_lock);
	list_add_tail(&pool->link, &vmbuf_pools);
	vmbuf_pool_bind(pool, pi);
	mutex_unlock(&vmbuf_lock);
}

void vmbuf_pool_remove(struct vmbuf_pool *pool)
{
	mutex_lock(&vmbuf_lock);
	list_del(&pool->link);
	mutex_unlock(&vmbuf_lock);
	vmbuf_heap_unregister(pool);
}
