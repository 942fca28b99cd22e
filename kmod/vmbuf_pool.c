// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf pools: memory a transport found for a pool (an ivshmem BAR, ...),
 * mapped write-back with struct pages by the transport, so buffers can be
 * mmapped, vmapped and DMA-mapped like RAM.
 *
 * A pool is used only for a pool of HELLO whose locator the transport read
 * from something only the daemon controls (ivshmem: the device's
 * IVPosition register, set by QEMU from the daemon's socket) and whose size
 * equals the memory's. Bytes inside pool memory, which every member can
 * write, are never trusted.
 *
 * Lifetime: a pool is reference-counted. Its device holds one reference
 * until vmbuf_pool_remove(), every buffer one until its dma-buf is released,
 * every open heap file and lookup one while it uses the pool. When the
 * device goes (hot unplug, unbind) the pool is marked dead: no new buffer,
 * heap file or mapping; the user mappings of its buffers are taken away
 * (a later access gets SIGBUS), fences of its exports end with -ENODEV. The
 * memory and its struct pages stay until the last buffer is released,
 * because kernel users (vmap, DMA mappings of importers) cannot be
 * revoked; then the transport's release() frees the rest.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/slab.h>

#include "vmbuf.h"

LIST_HEAD(vmbuf_pools);

const struct virtio_vmbuf_pool_info *vmbuf_pool_info(u32 locator_kind, u64 locator)
{
	struct vmbuf_dev *dev = vmbuf_dev;
	unsigned int i;

	lockdep_assert_held(&vmbuf_lock);
	if (!dev || dev->locator_kind != locator_kind)
		return NULL;
	for (i = 0; i < dev->npools; i++)
		if (le64_to_cpu(dev->pools[i].locator) == locator)
			return &dev->pools[i];
	return NULL;
}

int vmbuf_pool_add(struct vmbuf_pool *pool, const struct virtio_vmbuf_pool_info *pi)
{
	/* Where the VM maps the whole pool, the memory must be exactly the pool. */
	if ((pool->locator_kind == VIRTIO_VMBUF_LOCATOR_IVPOSITION &&
	     le64_to_cpu(pi->size) != pool->size) || le32_to_cpu(pi->data_offset) >= pool->size) {
		dev_err(pool->dev, "pool '%.32s': %pa bytes here, the daemon says %llu\n",
			pi->name, &pool->size, le64_to_cpu(pi->size));
		return -EINVAL;
	}
	kref_init(&pool->ref);
	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->buffers);
	init_waitqueue_head(&pool->fast_wq);
	vmbuf_recycle_init(pool);
	get_device(pool->dev);
	pool->pool_id = le32_to_cpu(pi->pool_id);
	pool->data_offset = le32_to_cpu(pi->data_offset);
	memcpy(pool->name, pi->name, VIRTIO_VMBUF_NAME_MAX);
	pool->name[VIRTIO_VMBUF_NAME_MAX] = '\0';
	mutex_lock(&vmbuf_lock);
	list_add_tail(&pool->link, &vmbuf_pools);
	mutex_unlock(&vmbuf_lock);
	if (!vmbuf_heap_register(pool))
		dev_info(pool->dev, "pool '%s': %pa bytes, heap %s\n", pool->name, &pool->size,
			 pool->heap_node);
	return 0;
}

static void vmbuf_pool_free(struct kref *ref)
{
	struct vmbuf_pool *pool = container_of(ref, struct vmbuf_pool, ref);
	struct device *dev = pool->dev;

	mutex_destroy(&pool->lock);
	pool->release(pool);
	put_device(dev);
}

void vmbuf_pool_get(struct vmbuf_pool *pool)
{
	kref_get(&pool->ref);
}

void vmbuf_pool_put(struct vmbuf_pool *pool)
{
	kref_put(&pool->ref, vmbuf_pool_free);
}

struct vmbuf_pool *vmbuf_pool_by_id(u32 pool_id)
{
	struct vmbuf_pool *pool, *found = NULL;

	mutex_lock(&vmbuf_lock);
	list_for_each_entry(pool, &vmbuf_pools, link) {
		if (pool->pool_id == pool_id) {
			found = pool;
			vmbuf_pool_get(found);
			break;
		}
	}
	mutex_unlock(&vmbuf_lock);
	return found;
}

void vmbuf_pool_remove(struct vmbuf_pool *pool)
{
	struct vmbuf_buffer *buf;
	bool held;

	mutex_lock(&vmbuf_lock);
	list_del(&pool->link);
	mutex_unlock(&vmbuf_lock);
	vmbuf_heap_unregister(pool);

	mutex_lock(&pool->lock);
	pool->dead = true;
	list_for_each_entry(buf, &pool->buffers, link) {
		vmbuf_buffer_revoke(buf);
		if (buf->exported || buf->imported)
			vmbuf_fence_end(buf->handle, -ENODEV);
	}
	held = !list_empty(&pool->buffers);
	mutex_unlock(&pool->lock);
	wake_up_all(&pool->fast_wq);	/* light waits see it dead */
	vmbuf_recycle_stop(pool);
	dev_info(pool->dev, "pool '%s' removed%s\n", pool->name,
		 held ? "; its memory stays until its buffers are released" : "");
	vmbuf_pool_put(pool);
}
