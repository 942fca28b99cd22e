// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf pool devices: one ivshmem-doorbell device per pool, its BAR2 the
 * pool's host memory. The BAR gets struct pages and a write-back mapping
 * through devm_memremap_pages(MEMORY_DEVICE_GENERIC), so buffers can be
 * mmapped, vmapped and DMA-mapped like RAM.
 *
 * A pool is used only once the control device's HELLO lists a pool whose
 * position equals this device's IVPosition register (set by QEMU from the
 * daemon's socket, so another VM cannot forge it) and whose size equals
 * the BAR's; the region header, writable by every member, is not trusted.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/uaccess.h>

#include "vmbuf.h"

static void vmbuf_pool_match_one(struct vmbuf_pool *pool)
{
	struct vmbuf_ctl *ctl = vmbuf_ctl;
	unsigned int i;

	if (!ctl || pool->matched)
		return;
	for (i = 0; i < ctl->npools; i++) {
		const struct virtio_vmbuf_pool_info *pi = &ctl->pools[i];

		if (le64_to_cpu(pi->locator) != pool->position)
			continue;
		if (le64_to_cpu(pi->size) != pool->size ||
		    le32_to_cpu(pi->data_offset) >= pool->size) {
			dev_err(&pool->pdev->dev, "pool size %pa does not match the daemon's\n",
				&pool->size);
			return;
		}
		pool->pool_id = le32_to_cpu(pi->pool_id);
		pool->data_offset = le32_to_cpu(pi->data_offset);
		memcpy(pool->name, pi->name, VIRTIO_VMBUF_NAME_MAX);
		pool->name[VIRTIO_VMBUF_NAME_MAX] = '\0';
		pool->matched = true;
		if (!vmbuf_heap_register(pool))
			dev_info(&pool->pdev->dev, "pool '%s': %pa bytes, heap %s\n", pool->name,
				 &pool->size, pool->heap_node);
		return;
	}
	dev_warn(&pool->pdev->dev, "no pool with position %#x in the daemon's list\n",
		 pool->position);
}

void vmbuf_pools_match(void)
{
	struct vmbuf_pool *pool;

	lockdep_assert_held(&vmbuf_lock);
	list_for_each_entry(pool, &vmbuf_pools, link)
		vmbuf_pool_match_one(pool);
}

static irqreturn_t vmbuf_pool_irq(int irq, void *data)
{
	struct vmbuf_pool *pool = data;

	atomic64_inc(&pool->doorbells);
	wake_up_all(&pool->doorbell_wq);
	return IRQ_HANDLED;
}

/* Peer doorbells are optional: a pool works without them. */
static void vmbuf_pool_setup_irq(struct vmbuf_pool *pool)
{
	struct pci_dev *pdev = pool->pdev;

	init_waitqueue_head(&pool->doorbell_wq);
	if (pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX) < 0)
		return;
	if (request_irq(pci_irq_vector(pdev, 0), vmbuf_pool_irq, 0, "vmbuf-pool", pool)) {
		pci_free_irq_vectors(pdev);
		return;
	}
	pool->has_irq = true;
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

int vmbuf_pool_ioctl_doorbell(struct vmbuf_doorbell __user *uarg)
{
	struct vmbuf_doorbell x;
	struct vmbuf_pool *found;
	long left;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	if (x.reserved || x.peer > 0xffff)
		return -EINVAL;
	found = vmbuf_pool_by_id(x.pool_id);
	if (!found)
		return -ENOENT;
	if (!found->has_irq)
		return -EOPNOTSUPP;
	if (x.peer)
		iowrite32(x.peer << 16, found->regs + VMBUF_IVSHMEM_REG_DOORBELL);
	if (x.timeout_ms) {
		left = wait_event_interruptible_timeout(found->doorbell_wq,
							(u64)atomic64_read(&found->doorbells) !=
							x.count,
							msecs_to_jiffies(x.timeout_ms));
		if (left < 0)
			return left;
		if (!left)
			return -ETIMEDOUT;
	}
	x.count = atomic64_read(&found->doorbells);
	return put_user(x.count, &uarg->count);
}

int vmbuf_pool_probe(struct pci_dev *pdev, void __iomem *regs,
		     const struct vmbuf_ivshmem_region *hdr)
{
	struct device *dev = &pdev->dev;
	struct vmbuf_pool *pool;
	void *vaddr;

	pool = devm_kzalloc(dev, sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return -ENOMEM;
	pool->pdev = pdev;
	pool->regs = regs;
	pool->position = ioread32(regs + VMBUF_IVSHMEM_REG_IVPOSITION);
	pool->phys = pci_resource_start(pdev, 2);
	pool->size = pci_resource_len(pdev, 2);
	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->buffers);
	if (!is_power_of_2(pool->size) || pool->size < VIRTIO_VMBUF_POOL_MIN ||
	    !IS_ALIGNED(pool->phys, VIRTIO_VMBUF_POOL_MIN)) {
		dev_err(dev, "pool BAR %pa+%pa is not a 2 MiB-aligned power of two\n",
			&pool->phys, &pool->size);
		return -EINVAL;
	}
	pool->pgmap.type = MEMORY_DEVICE_GENERIC;
	pool->pgmap.range.start = pool->phys;
	pool->pgmap.range.end = pool->phys + pool->size - 1;
	pool->pgmap.nr_range = 1;
	vaddr = devm_memremap_pages(dev, &pool->pgmap);
	if (IS_ERR(vaddr)) {
		dev_err(dev, "cannot map pool memory with struct pages: %ld\n", PTR_ERR(vaddr));
		return PTR_ERR(vaddr);
	}
	pool->vaddr = vaddr;
	vmbuf_pool_setup_irq(pool);
	pci_set_drvdata(pdev, pool);

	mutex_lock(&vmbuf_lock);
	list_add_tail(&pool->link, &vmbuf_pools);
	vmbuf_pool_match_one(pool);
	mutex_unlock(&vmbuf_lock);
	return 0;
}

void vmbuf_pool_remove(struct vmbuf_pool *pool)
{
	mutex_lock(&vmbuf_lock);
	list_del(&pool->link);
	mutex_unlock(&vmbuf_lock);
	vmbuf_heap_unregister(pool);
	if (pool->has_irq) {
		free_irq(pci_irq_vector(pool->pdev, 0), pool);
		pci_free_irq_vectors(pool->pdev);
	}
}
