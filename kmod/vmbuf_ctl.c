// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf control device: the guest's private ivshmem-doorbell region holding
 * the virtio-vmbuf config and the control and event split virtqueues.
 *
 * Requests use fixed slots: slot i owns descriptors 2i (request, readable)
 * and 2i + 1 (response, writable) and a 2 KiB buffer in the region, so no
 * descriptor allocation is needed and a slot is busy from submit to the
 * used-ring entry that returns it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/semaphore.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "vmbuf.h"

/* Layout of the driver's part of the control region. */
#define CTL_DESC	(VMBUF_IVSHMEM_CTL_DATA_OFFSET)
#define CTL_AVAIL	(CTL_DESC + 16 * VMBUF_CTL_QUEUE_SIZE)
#define CTL_USED	(CTL_AVAIL + 1024)
#define EVT_DESC	(CTL_USED + 1024)
#define EVT_AVAIL	(EVT_DESC + 16 * VMBUF_CTL_QUEUE_SIZE)
#define EVT_USED	(EVT_AVAIL + 1024)
#define SLOT_BASE	(16 * 1024)
#define SLOT_SIZE	(2 * VIRTIO_VMBUF_MSG_MAX)
#define EVT_BUF_BASE	(SLOT_BASE + VMBUF_CTL_SLOTS * SLOT_SIZE)
#define EVT_BUF_SIZE	sizeof(struct virtio_vmbuf_event)

static_assert(CTL_AVAIL + 6 + 2 * VMBUF_CTL_QUEUE_SIZE <= CTL_USED);
static_assert(CTL_USED + 6 + 8 * VMBUF_CTL_QUEUE_SIZE <= EVT_DESC);
static_assert(EVT_USED + 6 + 8 * VMBUF_CTL_QUEUE_SIZE <= SLOT_BASE);
static_assert(EVT_BUF_BASE + VMBUF_EVT_QUEUE_SIZE * EVT_BUF_SIZE <= VMBUF_IVSHMEM_CTL_SIZE);
static_assert(VMBUF_EVT_QUEUE_SIZE == VMBUF_CTL_QUEUE_SIZE);

static void vmbuf_ctl_ring(struct vmbuf_ctl *ctl, unsigned int vector)
{
	/* The config and ring writes must reach the device before the doorbell. */
	mb();
	iowrite32(VMBUF_IVSHMEM_DAEMON_PEER << 16 | vector, ctl->regs + VMBUF_IVSHMEM_REG_DOORBELL);
}

static u8 *slot_req(struct vmbuf_ctl *ctl, unsigned int i)
{
	return ctl->region + SLOT_BASE + i * SLOT_SIZE;
}

static u8 *slot_resp(struct vmbuf_ctl *ctl, unsigned int i)
{
	return slot_req(ctl, i) + VIRTIO_VMBUF_MSG_MAX;
}

static irqreturn_t vmbuf_ctl_irq(int irq, void *data)
{
	struct vmbuf_ctl *ctl = data;
	unsigned long flags;
	u16 used_idx;

	spin_lock_irqsave(&ctl->vq_lock, flags);
	used_idx = le16_to_cpu(READ_ONCE(ctl->used->idx));
	/* Read the index before the entries it covers. */
	virt_rmb();
	while (ctl->last_used != used_idx) {
		struct vring_used_elem *e = &ctl->used->ring[ctl->last_used % VMBUF_CTL_QUEUE_SIZE];
		u32 id = le32_to_cpu(READ_ONCE(e->id));
		u32 len = le32_to_cpu(READ_ONCE(e->len));
		unsigned int slot = id / 2;

		ctl->last_used++;
		if (id % 2 || slot >= VMBUF_CTL_SLOTS || !ctl->slots[slot].busy) {
			dev_warn_ratelimited(&ctl->pdev->dev, "device returned bad id %u\n", id);
			continue;
		}
		ctl->slots[slot].resp_len = min_t(u32, len, VIRTIO_VMBUF_MSG_MAX);
		complete(&ctl->slots[slot].done);
	}
	spin_unlock_irqrestore(&ctl->vq_lock, flags);
	return IRQ_HANDLED;
}

static irqreturn_t vmbuf_cfg_irq(int irq, void *data)
{
	struct vmbuf_ctl *ctl = data;

	wake_up_all(&ctl->cfg_wq);
	return IRQ_HANDLED;
}

/* Put event buffer @id (descriptor @id) back on the available ring; under evt_lock. */
static void vmbuf_evt_post(struct vmbuf_ctl *ctl, u16 id)
{
	ctl->evt_desc[id].addr = cpu_to_le64(EVT_BUF_BASE + id * EVT_BUF_SIZE);
	ctl->evt_desc[id].len = cpu_to_le32(EVT_BUF_SIZE);
	ctl->evt_desc[id].flags = cpu_to_le16(VRING_DESC_F_WRITE);
	ctl->evt_desc[id].next = 0;
	ctl->evt_avail->ring[ctl->evt_avail_idx % VMBUF_EVT_QUEUE_SIZE] = cpu_to_le16(id);
	ctl->evt_avail_idx++;
}

static void vmbuf_evt_publish(struct vmbuf_ctl *ctl)
{
	/* Descriptors and ring entries before the index that publishes them. */
	virt_wmb();
	WRITE_ONCE(ctl->evt_avail->idx, cpu_to_le16(ctl->evt_avail_idx));
	vmbuf_ctl_ring(ctl, VMBUF_IVSHMEM_VEC_EVENT);
}

static irqreturn_t vmbuf_evt_irq(int irq, void *data)
{
	struct vmbuf_ctl *ctl = data;
	struct virtio_vmbuf_event ev;
	bool reposted = false;
	unsigned long flags;
	u16 used_idx;

	spin_lock_irqsave(&ctl->evt_lock, flags);
	used_idx = le16_to_cpu(READ_ONCE(ctl->evt_used->idx));
	/* Read the index before the entries and buffers it covers. */
	virt_rmb();
	while (ctl->evt_last_used != used_idx) {
		struct vring_used_elem *e =
			&ctl->evt_used->ring[ctl->evt_last_used % VMBUF_EVT_QUEUE_SIZE];
		u32 id = le32_to_cpu(READ_ONCE(e->id));

		ctl->evt_last_used++;
		if (id >= VMBUF_EVT_QUEUE_SIZE) {
			dev_warn_ratelimited(&ctl->pdev->dev, "bad event buffer id %u\n", id);
			continue;
		}
		memcpy(&ev, ctl->region + EVT_BUF_BASE + id * EVT_BUF_SIZE, sizeof(ev));
		vmbuf_evt_post(ctl, id);
		reposted = true;
		if (le32_to_cpu(ev.type) == VIRTIO_VMBUF_EVT_TIMELINE_REACHED)
			vmbuf_fence_event(&ev);
		vmbuf_cdev_event(&ev);
	}
	if (reposted)
		vmbuf_evt_publish(ctl);
	spin_unlock_irqrestore(&ctl->evt_lock, flags);
	return IRQ_HANDLED;
}

int vmbuf_ctl_call(struct vmbuf_ctl *ctl, void *req, size_t req_len, void *resp,
		   size_t resp_len)
{
	struct virtio_vmbuf_hdr *hdr = req;
	struct virtio_vmbuf_resp *r = resp;
	unsigned long flags, left;
	unsigned int i;
	u64 id;
	u16 head;

	if (WARN_ON(req_len > VIRTIO_VMBUF_MSG_MAX || resp_len > VIRTIO_VMBUF_MSG_MAX ||
		    resp_len < sizeof(*r)))
		return -EINVAL;
	if (!ctl->live)
		return -ENODEV;
	down(&ctl->slots_free);

	spin_lock_irqsave(&ctl->vq_lock, flags);
	for (i = 0; i < VMBUF_CTL_SLOTS; i++)
		if (!ctl->slots[i].busy && !ctl->slots[i].lost)
			break;
	if (i == VMBUF_CTL_SLOTS) {
		/* Only lost slots remain: the device stopped answering. */
		spin_unlock_irqrestore(&ctl->vq_lock, flags);
		up(&ctl->slots_free);
		return -EIO;
	}
	ctl->slots[i].busy = true;
	reinit_completion(&ctl->slots[i].done);
	id = ++ctl->next_id;
	hdr->id = cpu_to_le64(id);
	memcpy(slot_req(ctl, i), req, req_len);

	head = 2 * i;
	ctl->desc[head].addr = cpu_to_le64(SLOT_BASE + i * SLOT_SIZE);
	ctl->desc[head].len = cpu_to_le32(req_len);
	ctl->desc[head].flags = cpu_to_le16(VRING_DESC_F_NEXT);
	ctl->desc[head].next = cpu_to_le16(head + 1);
	ctl->desc[head + 1].addr = cpu_to_le64(SLOT_BASE + i * SLOT_SIZE + VIRTIO_VMBUF_MSG_MAX);
	ctl->desc[head + 1].len = cpu_to_le32(VIRTIO_VMBUF_MSG_MAX);
	ctl->desc[head + 1].flags = cpu_to_le16(VRING_DESC_F_WRITE);
	ctl->desc[head + 1].next = 0;
	ctl->avail->ring[ctl->avail_idx % VMBUF_CTL_QUEUE_SIZE] = cpu_to_le16(head);
	/* Descriptors and ring entry before the index that publishes them. */
	virt_wmb();
	ctl->avail_idx++;
	WRITE_ONCE(ctl->avail->idx, cpu_to_le16(ctl->avail_idx));
	spin_unlock_irqrestore(&ctl->vq_lock, flags);
	vmbuf_ctl_ring(ctl, VMBUF_IVSHMEM_VEC_CTL);

	left = wait_for_completion_timeout(&ctl->slots[i].done,
					   msecs_to_jiffies(vmbuf_timeout_ms));
	spin_lock_irqsave(&ctl->vq_lock, flags);
	if (!left) {
		/* The device may still write this slot: never hand it out again. */
		ctl->slots[i].lost = true;
		spin_unlock_irqrestore(&ctl->vq_lock, flags);
		dev_err(&ctl->pdev->dev, "request %u timed out after %u ms\n",
			le32_to_cpu(hdr->type), vmbuf_timeout_ms);
		return -ETIMEDOUT;
	}
	memset(resp, 0, resp_len);
	memcpy(resp, slot_resp(ctl, i), min_t(size_t, resp_len, ctl->slots[i].resp_len));
	ctl->slots[i].busy = false;
	spin_unlock_irqrestore(&ctl->vq_lock, flags);
	up(&ctl->slots_free);

	if (ctl->slots[i].resp_len < sizeof(*r) || le64_to_cpu(r->id) != id)
		return -EPROTO;
	return (s32)le32_to_cpu(r->status);
}

/* Write @status, ring the config doorbell and wait for the device's answer. */
static int vmbuf_ctl_set_status(struct vmbuf_ctl *ctl, u32 status, u32 want_state)
{
	u32 gen = le32_to_cpu(READ_ONCE(ctl->cfg->generation));
	long left;
	u32 state;

	WRITE_ONCE(ctl->cfg->driver_status, cpu_to_le32(status));
	vmbuf_ctl_ring(ctl, VMBUF_IVSHMEM_VEC_CONFIG);
	left = wait_event_timeout(ctl->cfg_wq,
				  le32_to_cpu(READ_ONCE(ctl->cfg->generation)) != gen,
				  msecs_to_jiffies(vmbuf_timeout_ms));
	if (!left) {
		dev_err(&ctl->pdev->dev, "device did not answer status %#x (is vmbufd running?)\n",
			status);
		return -ETIMEDOUT;
	}
	/* The device wrote state and error before the generation we saw. */
	virt_rmb();
	state = le32_to_cpu(READ_ONCE(ctl->cfg->device_state));
	if (state != want_state) {
		s32 err = le32_to_cpu(READ_ONCE(ctl->cfg->device_error));

		dev_err(&ctl->pdev->dev, "device state %u, error %d\n", state, err);
		return err < 0 ? err : -EIO;
	}
	return 0;
}

static void vmbuf_ctl_queue_cfg(struct vmbuf_ivshmem_queue_cfg *q, u64 desc, u64 avail, u64 used)
{
	q->size = cpu_to_le16(VMBUF_CTL_QUEUE_SIZE);
	q->enable = cpu_to_le16(1);
	q->reserved = 0;
	q->desc = cpu_to_le64(desc);
	q->avail = cpu_to_le64(avail);
	q->used = cpu_to_le64(used);
}

static int vmbuf_ctl_hello(struct vmbuf_ctl *ctl)
{
	struct virtio_vmbuf_hello_resp *r;
	struct virtio_vmbuf_hello req = {
		.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_HELLO),
		.version = cpu_to_le32(VIRTIO_VMBUF_VERSION),
	};
	int ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	ret = vmbuf_ctl_call(ctl, &req, sizeof(req), r, sizeof(*r));
	if (ret) {
		dev_err(&ctl->pdev->dev, "HELLO failed: %d\n", ret);
		goto out;
	}
	ctl->npools = min_t(u32, le32_to_cpu(r->npools), VIRTIO_VMBUF_MAX_POOLS);
	memcpy(ctl->pools, r->pools, sizeof(ctl->pools));
	ctl->quota = le64_to_cpu(r->quota_bytes);
	ctl->fence_timeout_ms = le32_to_cpu(r->fence_timeout_ms);
	memcpy(ctl->vm_name, r->vm_name, VIRTIO_VMBUF_NAME_MAX);
	ctl->vm_name[VIRTIO_VMBUF_NAME_MAX] = '\0';
	dev_info(&ctl->pdev->dev, "VM '%s', %u pool(s)\n", ctl->vm_name, ctl->npools);
out:
	kfree(r);
	return ret;
}

static void vmbuf_ctl_free_irqs(struct vmbuf_ctl *ctl, unsigned int n)
{
	while (n--)
		free_irq(pci_irq_vector(ctl->pdev, n), ctl);
}

int vmbuf_ctl_probe(struct pci_dev *pdev, void __iomem *regs)
{
	static const irq_handler_t handlers[VMBUF_IVSHMEM_CTL_VECTORS] = {
		[VMBUF_IVSHMEM_VEC_CTL] = vmbuf_ctl_irq,
		[VMBUF_IVSHMEM_VEC_EVENT] = vmbuf_evt_irq,
		[VMBUF_IVSHMEM_VEC_CONFIG] = vmbuf_cfg_irq,
	};
	struct device *dev = &pdev->dev;
	struct vmbuf_ctl *ctl;
	unsigned int i;
	u16 n;
	int ret;

	if (vmbuf_ctl) {
		dev_err(dev, "a second vmbuf control device is not supported\n");
		return -EBUSY;
	}
	ctl = devm_kzalloc(dev, sizeof(*ctl), GFP_KERNEL);
	if (!ctl)
		return -ENOMEM;
	ctl->pdev = pdev;
	ctl->regs = regs;
	ctl->region_size = pci_resource_len(pdev, 2);
	if (ctl->region_size < VMBUF_IVSHMEM_CTL_SIZE) {
		dev_err(dev, "control region too small (%pa)\n", &ctl->region_size);
		return -EINVAL;
	}
	ctl->region = devm_memremap(dev, pci_resource_start(pdev, 2), ctl->region_size,
				    MEMREMAP_WB);
	if (IS_ERR(ctl->region))
		return PTR_ERR(ctl->region);
	ctl->cfg = ctl->region + VMBUF_IVSHMEM_CTL_CFG_OFFSET;
	ctl->desc = ctl->region + CTL_DESC;
	ctl->avail = ctl->region + CTL_AVAIL;
	ctl->used = ctl->region + CTL_USED;
	ctl->evt_desc = ctl->region + EVT_DESC;
	ctl->evt_avail = ctl->region + EVT_AVAIL;
	ctl->evt_used = ctl->region + EVT_USED;
	spin_lock_init(&ctl->vq_lock);
	spin_lock_init(&ctl->evt_lock);
	sema_init(&ctl->slots_free, VMBUF_CTL_SLOTS);
	for (i = 0; i < VMBUF_CTL_SLOTS; i++)
		init_completion(&ctl->slots[i].done);
	init_waitqueue_head(&ctl->cfg_wq);

	ret = pci_alloc_irq_vectors(pdev, VMBUF_IVSHMEM_CTL_VECTORS, VMBUF_IVSHMEM_CTL_VECTORS,
				    PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(dev, "needs %d MSI-X vectors (vectors=%d on the device): %d\n",
			VMBUF_IVSHMEM_CTL_VECTORS, VMBUF_IVSHMEM_CTL_VECTORS, ret);
		return ret;
	}
	for (i = 0; i < VMBUF_IVSHMEM_CTL_VECTORS; i++) {
		ret = request_irq(pci_irq_vector(pdev, i), handlers[i], 0, "vmbuf-ctl", ctl);
		if (ret)
			goto err_free_irqs;
	}

	/* Reset, lay out the rings, go live. */
	ret = vmbuf_ctl_set_status(ctl, 0, VIRTIO_VMBUF_STATE_RESET);
	if (ret)
		goto err_free_irqs;
	memset(ctl->region + VMBUF_IVSHMEM_CTL_DATA_OFFSET, 0,
	       SLOT_BASE - VMBUF_IVSHMEM_CTL_DATA_OFFSET);
	vmbuf_ctl_queue_cfg(&ctl->cfg->queues[VIRTIO_VMBUF_VQ_CTL], CTL_DESC, CTL_AVAIL, CTL_USED);
	vmbuf_ctl_queue_cfg(&ctl->cfg->queues[VIRTIO_VMBUF_VQ_EVENT], EVT_DESC, EVT_AVAIL,
			    EVT_USED);
	ret = vmbuf_ctl_set_status(ctl, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				   VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_VMBUF_STATE_LIVE);
	if (ret)
		goto err_free_irqs;
	ctl->live = true;
	spin_lock_irq(&ctl->evt_lock);
	for (n = 0; n < VMBUF_EVT_QUEUE_SIZE; n++)
		vmbuf_evt_post(ctl, n);
	vmbuf_evt_publish(ctl);
	spin_unlock_irq(&ctl->evt_lock);
	ret = vmbuf_ctl_hello(ctl);
	if (ret)
		goto err_reset;

	pci_set_drvdata(pdev, ctl);
	down_write(&vmbuf_ctl_sem);
	mutex_lock(&vmbuf_lock);
	vmbuf_ctl = ctl;
	vmbuf_pools_match();
	mutex_unlock(&vmbuf_lock);
	up_write(&vmbuf_ctl_sem);
	return 0;

err_reset:
	ctl->live = false;
	vmbuf_ctl_set_status(ctl, 0, VIRTIO_VMBUF_STATE_RESET);
err_free_irqs:
	vmbuf_ctl_free_irqs(ctl, i);
	pci_free_irq_vectors(pdev);
	return ret;
}

void vmbuf_ctl_remove(struct vmbuf_ctl *ctl)
{
	/* Waits for requests in flight; later ones see no device (ENODEV). */
	down_write(&vmbuf_ctl_sem);
	mutex_lock(&vmbuf_lock);
	vmbuf_ctl = NULL;
	mutex_unlock(&vmbuf_lock);
	up_write(&vmbuf_ctl_sem);
	ctl->live = false;
	vmbuf_fences_fail_all(-ENODEV);
	/* The daemon releases everything this VM held on reset. */
	vmbuf_ctl_set_status(ctl, 0, VIRTIO_VMBUF_STATE_RESET);
	vmbuf_ctl_free_irqs(ctl, VMBUF_IVSHMEM_CTL_VECTORS);
	pci_free_irq_vectors(ctl->pdev);
}
