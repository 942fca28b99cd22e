// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf over ivshmem (transport T1, linux/vmbuf_ivshmem.h).
 *
 * Binds the ivshmem-doorbell devices (1af4:1110) the daemon gave this VM,
 * told apart by their IVPosition (the control device's is
 * VMBUF_IVSHMEM_CTL_POSITION; a pool device's is the locator HELLO gives its
 * pool), and leaves every other ivshmem device alone.
 *
 * The control device's region holds the virtio-vmbuf config and two
 * driver-side split rings (struct vmbuf_vring). Requests use fixed slots:
 * slot i owns descriptors 2i (request, readable) and 2i + 1 (response,
 * writable) and a 2 KiB buffer in the region, so no descriptor allocation is
 * needed and a slot is busy from submit to the used-ring entry that returns
 * it, also when its caller gave up on it (killed, or timed out): the late
 * answer frees the slot and goes to vmbuf_call_late(). Every descriptor of
 * the event ring is one posted event buffer.
 * Doorbells go to the daemon's peer id; its interrupts arrive on one MSI-X
 * vector per queue plus one for configuration changes.
 *
 * A pool device's BAR2 is the pool's host memory: it gets struct pages and
 * a write-back mapping through memremap_pages(MEMORY_DEVICE_GENERIC), kept
 * until the pool's last buffer is released.
 * Its locator is the IVPosition register (set by QEMU from the daemon's
 * socket, so no other VM can forge it); its one vector carries raw
 * doorbells from pool peers (VMBUF_IOC_DOORBELL).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/memremap.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/semaphore.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/vmbuf_ivshmem.h>

#include "vmbuf.h"

#define PCI_VENDOR_ID_IVSHMEM	0x1af4
#define PCI_DEVICE_ID_IVSHMEM	0x1110

#define VMBUF_QUEUE_SIZE	64
#define VMBUF_CTL_SLOTS		(VMBUF_QUEUE_SIZE / 2)	/* out + in descriptor each */

/* Layout of the driver's part of the control region. */
#define CTL_DESC	(VMBUF_IVSHMEM_CTL_DATA_OFFSET)
#define CTL_AVAIL	(CTL_DESC + 16 * VMBUF_QUEUE_SIZE)
#define CTL_USED	(CTL_AVAIL + 1024)
#define EVT_DESC	(CTL_USED + 1024)
#define EVT_AVAIL	(EVT_DESC + 16 * VMBUF_QUEUE_SIZE)
#define EVT_USED	(EVT_AVAIL + 1024)
#define SLOT_BASE	(16 * 1024)
#define SLOT_SIZE	(2 * VIRTIO_VMBUF_MSG_MAX)
#define EVT_BUF_BASE	(SLOT_BASE + VMBUF_CTL_SLOTS * SLOT_SIZE)
#define EVT_BUF_SIZE	sizeof(struct virtio_vmbuf_event)

static_assert(CTL_AVAIL + 6 + 2 * VMBUF_QUEUE_SIZE <= CTL_USED);
static_assert(CTL_USED + 6 + 8 * VMBUF_QUEUE_SIZE <= EVT_DESC);
static_assert(EVT_USED + 6 + 8 * VMBUF_QUEUE_SIZE <= SLOT_BASE);
static_assert(EVT_BUF_BASE + VMBUF_QUEUE_SIZE * EVT_BUF_SIZE <= VMBUF_IVSHMEM_CTL_SIZE);
/* Each queue has the vector of its number; configuration changes come after them. */
static_assert(VMBUF_IVSHMEM_VEC_CTL == VIRTIO_VMBUF_VQ_CTL);
static_assert(VMBUF_IVSHMEM_VEC_EVENT == VIRTIO_VMBUF_VQ_EVENT);

/* The driver's side of one split ring in the control region; under its owner's lock. */
struct vmbuf_vring {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	u16 avail_idx;		/* next avail entry to fill */
	u16 last_used;		/* next used entry to read */
	u16 used_idx;		/* the device's used index, as last read */
};

struct vmbuf_slot {
	struct completion done;
	u32 resp_len;
	bool busy;
	bool lost;		/* its caller gave up: free again when the device answers */
	bool aborted;		/* the device went away: its caller gets -ENODEV */
};

struct vmbuf_ivshmem_ctl {
	struct vmbuf_dev dev;
	struct pci_dev *pdev;
	void __iomem *regs;		/* BAR0: ivshmem registers */
	void *region;			/* BAR2: control region, write-back */
	struct vmbuf_ivshmem_ctl_cfg *cfg;
	bool live;
	bool gone;			/* the daemon said GONE; under ctl_lock */
	struct work_struct gone_work;

	spinlock_t ctl_lock;		/* IRQ-safe: the control ring and the slots */
	struct vmbuf_vring ctl;
	u64 next_id;
	struct semaphore slots_free;
	struct vmbuf_slot slots[VMBUF_CTL_SLOTS];

	spinlock_t evt_lock;		/* IRQ-safe: the event ring */
	struct vmbuf_vring evt;

	wait_queue_head_t cfg_wq;
};

/* The probed control device, to tell it from pool devices at removal. */
static struct vmbuf_ivshmem_ctl *vmbuf_ivshmem_ctl_dev;

struct vmbuf_ivshmem_pool {
	struct vmbuf_pool pool;
	struct pci_dev *pdev;
	void __iomem *regs;
	struct dev_pagemap pgmap;
	bool has_irq;
	atomic64_t doorbells;
	wait_queue_head_t doorbell_wq;
};

/* ---- rings ---- */

static void vmbuf_vring_init(struct vmbuf_vring *r, void *region, u64 desc, u64 avail, u64 used)
{
	r->desc = region + desc;
	r->avail = region + avail;
	r->used = region + used;
	r->avail_idx = 0;
	r->last_used = 0;
	r->used_idx = 0;
}

static void vmbuf_vring_set_desc(struct vmbuf_vring *r, u16 i, u64 addr, u32 len, u16 flags,
				 u16 next)
{
	r->desc[i].addr = cpu_to_le64(addr);
	r->desc[i].len = cpu_to_le32(len);
	r->desc[i].flags = cpu_to_le16(flags);
	r->desc[i].next = cpu_to_le16(next);
}

/* Offer the chain starting at @head; the device sees it at vmbuf_vring_publish(). */
static void vmbuf_vring_add(struct vmbuf_vring *r, u16 head)
{
	r->avail->ring[r->avail_idx % VMBUF_QUEUE_SIZE] = cpu_to_le16(head);
	r->avail_idx++;
}

static void vmbuf_vring_publish(struct vmbuf_vring *r)
{
	/* Descriptors and ring entries before the index that publishes them. */
	virt_wmb();
	WRITE_ONCE(r->avail->idx, cpu_to_le16(r->avail_idx));
}

/*
 * Read the device's used index. Returns false, and reads nothing more,
 * when it claims more entries than the ring holds: a broken device.
 */
static bool vmbuf_vring_sync_used(struct vmbuf_vring *r)
{
	u16 idx = le16_to_cpu(READ_ONCE(r->used->idx));

	if ((u16)(idx - r->last_used) > VMBUF_QUEUE_SIZE)
		return false;
	r->used_idx = idx;
	/* Read the index before the entries it covers. */
	virt_rmb();
	return true;
}

/* The next used entry up to the index last synced: true with its id and length. */
static bool vmbuf_vring_next_used(struct vmbuf_vring *r, u32 *id, u32 *len)
{
	struct vring_used_elem *e;

	if (r->last_used == r->used_idx)
		return false;
	e = &r->used->ring[r->last_used % VMBUF_QUEUE_SIZE];
	*id = le32_to_cpu(READ_ONCE(e->id));
	*len = le32_to_cpu(READ_ONCE(e->len));
	r->last_used++;
	return true;
}

/* ---- control device ---- */

static struct vmbuf_ivshmem_ctl *to_ctl(struct vmbuf_dev *dev)
{
	return container_of(dev, struct vmbuf_ivshmem_ctl, dev);
}

static void vmbuf_ctl_ring(struct vmbuf_ivshmem_ctl *ctl, unsigned int vector)
{
	/* The config and ring writes must reach the device before the doorbell. */
	mb();
	iowrite32(VMBUF_IVSHMEM_DAEMON_PEER << 16 | vector,
		  ctl->regs + VMBUF_IVSHMEM_REG_DOORBELL);
}

static u8 *slot_req(struct vmbuf_ivshmem_ctl *ctl, unsigned int i)
{
	return ctl->region + SLOT_BASE + i * SLOT_SIZE;
}

static irqreturn_t vmbuf_ctl_irq(int irq, void *data)
{
	struct vmbuf_ivshmem_ctl *ctl = data;
	unsigned long flags;
	u32 id, len;

	spin_lock_irqsave(&ctl->ctl_lock, flags);
	if (!vmbuf_vring_sync_used(&ctl->ctl))
		dev_warn_ratelimited(&ctl->pdev->dev, "control queue: bad used index\n");
	while (vmbuf_vring_next_used(&ctl->ctl, &id, &len)) {
		unsigned int slot = id / 2;

		if (id % 2 || slot >= VMBUF_CTL_SLOTS || !ctl->slots[slot].busy) {
			dev_warn_ratelimited(&ctl->pdev->dev, "device returned bad id %u\n", id);
			continue;
		}
		len = min_t(u32, len, VIRTIO_VMBUF_MSG_MAX);
		if (ctl->slots[slot].lost) {
			/* Its caller gave up: give back what it made, and the slot. */
			vmbuf_call_late(slot_req(ctl, slot), slot_req(ctl, slot) +
					VIRTIO_VMBUF_MSG_MAX, len);
			ctl->slots[slot].lost = false;
			ctl->slots[slot].busy = false;
			up(&ctl->slots_free);
			continue;
		}
		ctl->slots[slot].resp_len = len;
		complete(&ctl->slots[slot].done);
	}
	spin_unlock_irqrestore(&ctl->ctl_lock, flags);
	return IRQ_HANDLED;
}

static irqreturn_t vmbuf_cfg_irq(int irq, void *data)
{
	struct vmbuf_ivshmem_ctl *ctl = data;

	wake_up_all(&ctl->cfg_wq);
	/* Not an answer to a status we wrote: the daemon is going away. */
	if (READ_ONCE(ctl->live) &&
	    le32_to_cpu(READ_ONCE(ctl->cfg->device_state)) == VIRTIO_VMBUF_STATE_GONE)
		schedule_work(&ctl->gone_work);
	return IRQ_HANDLED;
}

/*
 * The daemon stopped (GONE): what waits for it ends now with -ENODEV, and
 * the device leaves use, so later requests fail at once. Buffers stay
 * mapped: their memory is still there.
 */
static void vmbuf_ctl_gone_work(struct work_struct *work)
{
	struct vmbuf_ivshmem_ctl *ctl = container_of(work, struct vmbuf_ivshmem_ctl, gone_work);
	unsigned int i;

	spin_lock_irq(&ctl->ctl_lock);
	if (ctl->gone) {
		spin_unlock_irq(&ctl->ctl_lock);
		return;
	}
	ctl->gone = true;
	for (i = 0; i < VMBUF_CTL_SLOTS; i++) {
		if (ctl->slots[i].busy && !ctl->slots[i].lost) {
			ctl->slots[i].aborted = true;
			complete(&ctl->slots[i].done);
		}
	}
	spin_unlock_irq(&ctl->ctl_lock);
	/* Callers waiting for a slot get one, see the device gone, and leave. */
	for (i = 0; i < VMBUF_CTL_SLOTS; i++)
		up(&ctl->slots_free);
	dev_warn(&ctl->pdev->dev, "vmbufd stopped: requests and fences end with ENODEV\n");
	vmbuf_dev_remove(&ctl->dev);
}

/* Put event buffer @id (descriptor @id) back on the available ring; under evt_lock. */
static void vmbuf_evt_post(struct vmbuf_ivshmem_ctl *ctl, u16 id)
{
	vmbuf_vring_set_desc(&ctl->evt, id, EVT_BUF_BASE + id * EVT_BUF_SIZE, EVT_BUF_SIZE,
			     VRING_DESC_F_WRITE, 0);
	vmbuf_vring_add(&ctl->evt, id);
}

static irqreturn_t vmbuf_evt_irq(int irq, void *data)
{
	struct vmbuf_ivshmem_ctl *ctl = data;
	struct virtio_vmbuf_event ev;
	bool reposted = false;
	unsigned long flags;
	u32 id, len;

	spin_lock_irqsave(&ctl->evt_lock, flags);
	if (!vmbuf_vring_sync_used(&ctl->evt))
		dev_warn_ratelimited(&ctl->pdev->dev, "event queue: bad used index\n");
	while (vmbuf_vring_next_used(&ctl->evt, &id, &len)) {
		if (id >= VMBUF_QUEUE_SIZE) {
			dev_warn_ratelimited(&ctl->pdev->dev, "bad event buffer id %u\n", id);
			continue;
		}
		memcpy(&ev, ctl->region + EVT_BUF_BASE + id * EVT_BUF_SIZE, sizeof(ev));
		vmbuf_evt_post(ctl, id);
		reposted = true;
		vmbuf_dev_event(&ev);
	}
	if (reposted) {
		vmbuf_vring_publish(&ctl->evt);
		vmbuf_ctl_ring(ctl, VMBUF_IVSHMEM_VEC_EVENT);
	}
	spin_unlock_irqrestore(&ctl->evt_lock, flags);
	return IRQ_HANDLED;
}

static int vmbuf_ivshmem_call(struct vmbuf_dev *dev, void *req, size_t req_len, void *resp,
			      size_t resp_len)
{
	struct vmbuf_ivshmem_ctl *ctl = to_ctl(dev);
	struct virtio_vmbuf_hdr *hdr = req;
	struct virtio_vmbuf_resp *r = resp;
	unsigned long flags;
	unsigned int i;
	long left;
	u32 got;
	u64 id;

	if (WARN_ON(req_len > VIRTIO_VMBUF_MSG_MAX || resp_len > VIRTIO_VMBUF_MSG_MAX ||
		    resp_len < sizeof(*r)))
		return -EINVAL;
	if (!ctl->live || READ_ONCE(ctl->gone))
		return -ENODEV;
	if (down_killable(&ctl->slots_free))
		return -EINTR;

	spin_lock_irqsave(&ctl->ctl_lock, flags);
	if (ctl->gone) {
		spin_unlock_irqrestore(&ctl->ctl_lock, flags);
		up(&ctl->slots_free);
		return -ENODEV;
	}
	for (i = 0; i < VMBUF_CTL_SLOTS; i++)
		if (!ctl->slots[i].busy && !ctl->slots[i].lost)
			break;
	if (i == VMBUF_CTL_SLOTS) {
		/* Only lost slots remain: the device stopped answering. */
		spin_unlock_irqrestore(&ctl->ctl_lock, flags);
		up(&ctl->slots_free);
		return -EIO;
	}
	ctl->slots[i].busy = true;
	reinit_completion(&ctl->slots[i].done);
	id = ++ctl->next_id;
	hdr->id = cpu_to_le64(id);
	memcpy(slot_req(ctl, i), req, req_len);
	vmbuf_vring_set_desc(&ctl->ctl, 2 * i, SLOT_BASE + i * SLOT_SIZE, req_len,
			     VRING_DESC_F_NEXT, 2 * i + 1);
	vmbuf_vring_set_desc(&ctl->ctl, 2 * i + 1, SLOT_BASE + i * SLOT_SIZE + VIRTIO_VMBUF_MSG_MAX,
			     VIRTIO_VMBUF_MSG_MAX, VRING_DESC_F_WRITE, 0);
	vmbuf_vring_add(&ctl->ctl, 2 * i);
	vmbuf_vring_publish(&ctl->ctl);
	spin_unlock_irqrestore(&ctl->ctl_lock, flags);
	vmbuf_ctl_ring(ctl, VMBUF_IVSHMEM_VEC_CTL);

	left = wait_for_completion_killable_timeout(&ctl->slots[i].done,
						    msecs_to_jiffies(vmbuf_timeout_ms));
	spin_lock_irqsave(&ctl->ctl_lock, flags);
	if (ctl->slots[i].aborted) {
		/* Never answered, never reused: the device is gone. */
		ctl->slots[i].aborted = false;
		ctl->slots[i].lost = true;
		spin_unlock_irqrestore(&ctl->ctl_lock, flags);
		return -ENODEV;
	}
	if (left <= 0 && !completion_done(&ctl->slots[i].done)) {
		/* The device may still write this slot: it comes back with the answer. */
		ctl->slots[i].lost = true;
		spin_unlock_irqrestore(&ctl->ctl_lock, flags);
		if (left < 0)
			return -ECANCELED;
		dev_err_ratelimited(&ctl->pdev->dev, "request %u timed out after %u ms\n",
				    le32_to_cpu(hdr->type), vmbuf_timeout_ms);
		return -ETIMEDOUT;
	}
	got = ctl->slots[i].resp_len;
	memset(resp, 0, resp_len);
	memcpy(resp, slot_req(ctl, i) + VIRTIO_VMBUF_MSG_MAX, min_t(size_t, resp_len, got));
	ctl->slots[i].busy = false;
	spin_unlock_irqrestore(&ctl->ctl_lock, flags);
	up(&ctl->slots_free);

	if (got < sizeof(*r) || le64_to_cpu(r->id) != id)
		return -EPROTO;
	return 0;
}

/* Write @status, ring the config doorbell and wait for the device's answer. */
static int vmbuf_ctl_set_status(struct vmbuf_ivshmem_ctl *ctl, u32 status, u32 want_state)
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

static void vmbuf_ctl_queue_cfg(struct vmbuf_ivshmem_queue_cfg *q, u64 desc, u64 avail,
				u64 used)
{
	q->size = cpu_to_le16(VMBUF_QUEUE_SIZE);
	q->enable = cpu_to_le16(1);
	q->reserved = 0;
	q->desc = cpu_to_le64(desc);
	q->avail = cpu_to_le64(avail);
	q->used = cpu_to_le64(used);
}

static void vmbuf_ivshmem_debugfs_show(struct vmbuf_dev *dev, struct seq_file *s)
{
	struct vmbuf_ivshmem_ctl *ctl = to_ctl(dev);

	seq_printf(s, "live: %d\ngone: %d\navail_idx: %u\nlast_used: %u\nrequests: %llu\n",
		   ctl->live && !ctl->gone, ctl->gone, ctl->ctl.avail_idx, ctl->ctl.last_used,
		   ctl->next_id);
}

static int vmbuf_ivshmem_doorbell(struct vmbuf_pool *p, u32 peer, u32 timeout_ms, u64 *count)
{
	struct vmbuf_ivshmem_pool *pool = container_of(p, struct vmbuf_ivshmem_pool, pool);
	long left;

	if (!pool->has_irq)
		return -EOPNOTSUPP;
	/* The registers go with the device: ring only while it is there. */
	mutex_lock(&p->lock);
	if (p->dead) {
		mutex_unlock(&p->lock);
		return -ENODEV;
	}
	if (peer)
		iowrite32(peer << 16, pool->regs + VMBUF_IVSHMEM_REG_DOORBELL);
	mutex_unlock(&p->lock);
	if (timeout_ms) {
		left = wait_event_interruptible_timeout(pool->doorbell_wq,
							(u64)atomic64_read(&pool->doorbells) !=
							*count || READ_ONCE(p->dead),
							msecs_to_jiffies(timeout_ms));
		if (left < 0)
			return left;
		if (READ_ONCE(p->dead))
			return -ENODEV;
		if (!left)
			return -ETIMEDOUT;
	}
	*count = atomic64_read(&pool->doorbells);
	return 0;
}

static const struct vmbuf_transport_ops vmbuf_ivshmem_ops = {
	.name = "ivshmem",
	.call = vmbuf_ivshmem_call,
	.doorbell = vmbuf_ivshmem_doorbell,
	.debugfs_show = vmbuf_ivshmem_debugfs_show,
};

static void vmbuf_ctl_free_irqs(struct vmbuf_ivshmem_ctl *ctl, unsigned int n)
{
	while (n--)
		free_irq(pci_irq_vector(ctl->pdev, n), ctl);
}

static int vmbuf_ctl_probe(struct pci_dev *pdev, void __iomem *regs)
{
	static const irq_handler_t handlers[VMBUF_IVSHMEM_CTL_VECTORS] = {
		[VMBUF_IVSHMEM_VEC_CTL] = vmbuf_ctl_irq,
		[VMBUF_IVSHMEM_VEC_EVENT] = vmbuf_evt_irq,
		[VMBUF_IVSHMEM_VEC_CONFIG] = vmbuf_cfg_irq,
	};
	struct device *dev = &pdev->dev;
	resource_size_t size = pci_resource_len(pdev, 2);
	struct vmbuf_ivshmem_ctl *ctl;
	unsigned int i = 0;
	u16 n;
	int ret;

	if (size < VMBUF_IVSHMEM_CTL_SIZE) {
		dev_err(dev, "control region too small (%pa)\n", &size);
		return -EINVAL;
	}
	ret = vmbuf_dev_claim();
	if (ret) {
		dev_err(dev, "a second vmbuf control device is not supported\n");
		return ret;
	}
	ret = -ENOMEM;
	ctl = devm_kzalloc(dev, sizeof(*ctl), GFP_KERNEL);
	if (!ctl)
		goto err_unclaim;
	ctl->dev.dev = dev;
	ctl->dev.ops = &vmbuf_ivshmem_ops;
	ctl->pdev = pdev;
	ctl->regs = regs;
	ctl->region = devm_memremap(dev, pci_resource_start(pdev, 2), size, MEMREMAP_WB);
	if (IS_ERR(ctl->region)) {
		ret = PTR_ERR(ctl->region);
		goto err_unclaim;
	}
	ctl->cfg = ctl->region + VMBUF_IVSHMEM_CTL_CFG_OFFSET;
	vmbuf_vring_init(&ctl->ctl, ctl->region, CTL_DESC, CTL_AVAIL, CTL_USED);
	vmbuf_vring_init(&ctl->evt, ctl->region, EVT_DESC, EVT_AVAIL, EVT_USED);
	spin_lock_init(&ctl->ctl_lock);
	spin_lock_init(&ctl->evt_lock);
	INIT_WORK(&ctl->gone_work, vmbuf_ctl_gone_work);
	sema_init(&ctl->slots_free, VMBUF_CTL_SLOTS);
	for (i = 0; i < VMBUF_CTL_SLOTS; i++)
		init_completion(&ctl->slots[i].done);
	init_waitqueue_head(&ctl->cfg_wq);

	ret = pci_alloc_irq_vectors(pdev, VMBUF_IVSHMEM_CTL_VECTORS, VMBUF_IVSHMEM_CTL_VECTORS,
				    PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(dev, "needs %d MSI-X vectors (vectors=%d on the device): %d\n",
			VMBUF_IVSHMEM_CTL_VECTORS, VMBUF_IVSHMEM_CTL_VECTORS, ret);
		goto err_unclaim;
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
	for (n = 0; n < VMBUF_QUEUE_SIZE; n++)
		vmbuf_evt_post(ctl, n);
	vmbuf_vring_publish(&ctl->evt);
	vmbuf_ctl_ring(ctl, VMBUF_IVSHMEM_VEC_EVENT);
	spin_unlock_irq(&ctl->evt_lock);

	ret = vmbuf_dev_add(&ctl->dev);
	if (ret)
		goto err_reset;
	pci_set_drvdata(pdev, ctl);
	vmbuf_ivshmem_ctl_dev = ctl;
	return 0;

err_reset:
	ctl->live = false;
	vmbuf_ctl_set_status(ctl, 0, VIRTIO_VMBUF_STATE_RESET);
err_free_irqs:
	vmbuf_ctl_free_irqs(ctl, i);
	pci_free_irq_vectors(pdev);
err_unclaim:
	vmbuf_dev_unclaim();
	return ret;
}

static void vmbuf_ctl_remove(struct vmbuf_ivshmem_ctl *ctl)
{
	WRITE_ONCE(ctl->live, false);
	cancel_work_sync(&ctl->gone_work);
	vmbuf_dev_remove(&ctl->dev);
	/* The daemon releases everything this VM held on reset (unless it is gone). */
	if (!ctl->gone)
		vmbuf_ctl_set_status(ctl, 0, VIRTIO_VMBUF_STATE_RESET);
	vmbuf_ctl_free_irqs(ctl, VMBUF_IVSHMEM_CTL_VECTORS);
	pci_free_irq_vectors(ctl->pdev);
	vmbuf_dev_unclaim();
}

/* ---- pool devices ---- */

static irqreturn_t vmbuf_pool_irq(int irq, void *data)
{
	struct vmbuf_ivshmem_pool *pool = data;

	atomic64_inc(&pool->doorbells);
	wake_up_all(&pool->doorbell_wq);
	vmbuf_fence_fast_poll(&pool->pool);	/* a peer may have raised a fast timeline */
	return IRQ_HANDLED;
}

/* Peer doorbells are optional: a pool works without them. */
static void vmbuf_pool_setup_irq(struct vmbuf_ivshmem_pool *pool)
{
	struct pci_dev *pdev = pool->pdev;

	if (pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX) < 0)
		return;
	if (request_irq(pci_irq_vector(pdev, 0), vmbuf_pool_irq, 0, "vmbuf-pool", pool)) {
		pci_free_irq_vectors(pdev);
		return;
	}
	pool->has_irq = true;
}

/* The last reference to the pool went (its device may be long gone). */
static void vmbuf_pool_release(struct vmbuf_pool *p)
{
	struct vmbuf_ivshmem_pool *pool = container_of(p, struct vmbuf_ivshmem_pool, pool);

	memunmap_pages(&pool->pgmap);
	kfree(pool);
}

/*
 * A device whose IVPosition HELLO names as a pool's locator: map its BAR2
 * as that pool. Not devm: the pool outlives the device while buffers of it
 * live (vmbuf_pool.c).
 */
static int vmbuf_pool_probe(struct pci_dev *pdev, void __iomem *regs,
			    const struct virtio_vmbuf_pool_info *pi)
{
	struct device *dev = &pdev->dev;
	struct vmbuf_ivshmem_pool *pool;
	struct vmbuf_pool *p;
	void *vaddr;
	int ret;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return -ENOMEM;
	p = &pool->pool;
	pool->pdev = pdev;
	pool->regs = regs;
	init_waitqueue_head(&pool->doorbell_wq);
	p->dev = dev;
	p->ops = &vmbuf_ivshmem_ops;
	p->release = vmbuf_pool_release;
	p->locator_kind = VIRTIO_VMBUF_LOCATOR_IVPOSITION;
	p->locator = ioread32(regs + VMBUF_IVSHMEM_REG_IVPOSITION);
	p->phys = pci_resource_start(pdev, 2);
	p->size = pci_resource_len(pdev, 2);
	ret = -EINVAL;
	if (!is_power_of_2(p->size) || p->size < VIRTIO_VMBUF_POOL_MIN ||
	    !IS_ALIGNED(p->phys, VIRTIO_VMBUF_POOL_MIN)) {
		dev_err(dev, "pool BAR %pa+%pa is not a 2 MiB-aligned power of two\n",
			&p->phys, &p->size);
		goto err_free;
	}
	pool->pgmap.type = MEMORY_DEVICE_GENERIC;
	pool->pgmap.range.start = p->phys;
	pool->pgmap.range.end = p->phys + p->size - 1;
	pool->pgmap.nr_range = 1;
	vaddr = memremap_pages(&pool->pgmap, dev_to_node(dev));
	if (IS_ERR(vaddr)) {
		ret = PTR_ERR(vaddr);
		dev_err(dev, "cannot map pool memory with struct pages: %d\n", ret);
		goto err_free;
	}
	p->vaddr = vaddr;
	ret = vmbuf_pool_add(p, pi);
	if (ret) {
		memunmap_pages(&pool->pgmap);
		goto err_free;
	}
	vmbuf_pool_setup_irq(pool);
	pci_set_drvdata(pdev, p);
	return 0;

err_free:
	kfree(pool);
	return ret;
}

static void vmbuf_pool_device_remove(struct vmbuf_pool *p)
{
	struct vmbuf_ivshmem_pool *pool = container_of(p, struct vmbuf_ivshmem_pool, pool);

	if (pool->has_irq) {
		free_irq(pci_irq_vector(pool->pdev, 0), pool);
		pci_free_irq_vectors(pool->pdev);
		pool->has_irq = false;
	}
	vmbuf_pool_get(p);
	vmbuf_pool_remove(p);		/* marks it dead */
	wake_up_all(&pool->doorbell_wq);	/* doorbell waiters see it gone */
	vmbuf_pool_put(p);
}

/* ---- the PCI driver ---- */

/*
 * Is this the VM's control device? Only the daemon's greeting gives a
 * device IVPosition VMBUF_IVSHMEM_CTL_POSITION; its region is private, so
 * its header can be checked too.
 */
static int vmbuf_ctl_check(struct pci_dev *pdev)
{
	resource_size_t len = pci_resource_len(pdev, 2);
	struct vmbuf_ivshmem_region hdr;
	void *map;

	if (!(pci_resource_flags(pdev, 2) & IORESOURCE_MEM) || len < PAGE_SIZE)
		return -ENODEV;
	map = memremap(pci_resource_start(pdev, 2), PAGE_SIZE, MEMREMAP_WB);
	if (!map)
		return -ENOMEM;
	memcpy(&hdr, map, sizeof(hdr));
	memunmap(map);
	if (le32_to_cpu(hdr.magic) != VMBUF_IVSHMEM_MAGIC ||
	    le16_to_cpu(hdr.kind) != VMBUF_IVSHMEM_KIND_CTL)
		return -ENODEV;
	if (le16_to_cpu(hdr.version) != VIRTIO_VMBUF_VERSION) {
		dev_err(&pdev->dev, "region version %u, this driver speaks %u\n",
			le16_to_cpu(hdr.version), VIRTIO_VMBUF_VERSION);
		return -ENODEV;
	}
	if (le64_to_cpu(hdr.size) != len) {
		dev_err(&pdev->dev, "region header size does not match BAR2\n");
		return -ENODEV;
	}
	return 0;
}

/*
 * Which device is which comes from the IVPosition register, which QEMU sets
 * from the daemon's socket and no guest can write: the control device has
 * VMBUF_IVSHMEM_CTL_POSITION, a pool device a position HELLO names. Bytes
 * in a pool region (which every member can write) decide nothing. A pool
 * device probed before the control device said HELLO waits (deferred
 * probe, retried when the control device is bound).
 */
static int vmbuf_ivshmem_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct virtio_vmbuf_pool_info pi;
	void __iomem *regs;
	bool found = false, live;
	u32 position;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return ret;
	regs = pcim_iomap_table(pdev)[0];
	position = ioread32(regs + VMBUF_IVSHMEM_REG_IVPOSITION);
	if (position == VMBUF_IVSHMEM_CTL_POSITION) {
		ret = vmbuf_ctl_check(pdev);
		if (ret)
			return ret;	/* someone else's ivshmem device: stay away */
	} else if (position >= VMBUF_IVSHMEM_POOL_POSITION_MIN && position <= U16_MAX) {
		mutex_lock(&vmbuf_lock);
		live = vmbuf_dev && vmbuf_dev->locator_kind == VIRTIO_VMBUF_LOCATOR_IVPOSITION;
		if (live && vmbuf_pool_info(VIRTIO_VMBUF_LOCATOR_IVPOSITION, position)) {
			pi = *vmbuf_pool_info(VIRTIO_VMBUF_LOCATOR_IVPOSITION, position);
			found = true;
		}
		mutex_unlock(&vmbuf_lock);
		if (!live)
			return -EPROBE_DEFER;	/* until the control device said HELLO */
		if (!found) {
			dev_info(&pdev->dev, "IVPosition %#x is no pool of this VM: left alone\n",
				 position);
			return -ENODEV;
		}
	} else {
		return -ENODEV;
	}
	ret = pci_request_region(pdev, 2, KBUILD_MODNAME);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = found ? vmbuf_pool_probe(pdev, regs, &pi) : vmbuf_ctl_probe(pdev, regs);
	if (ret)
		pci_release_region(pdev, 2);
	return ret;
}

static void vmbuf_ivshmem_remove(struct pci_dev *pdev)
{
	void *drv = pci_get_drvdata(pdev);

	if (drv && drv == vmbuf_ivshmem_ctl_dev) {
		vmbuf_ivshmem_ctl_dev = NULL;
		vmbuf_ctl_remove(drv);
	} else if (drv) {
		vmbuf_pool_device_remove(drv);
	}
	pci_release_region(pdev, 2);
}

static const struct pci_device_id vmbuf_ivshmem_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_IVSHMEM, PCI_DEVICE_ID_IVSHMEM) },
	{ }
};
MODULE_DEVICE_TABLE(pci, vmbuf_ivshmem_ids);

static struct pci_driver vmbuf_ivshmem_driver = {
	.name = KBUILD_MODNAME,
	.id_table = vmbuf_ivshmem_ids,
	.probe = vmbuf_ivshmem_probe,
	.remove = vmbuf_ivshmem_remove,
};

int vmbuf_ivshmem_init(void)
{
	return pci_register_driver(&vmbuf_ivshmem_driver);
}

void vmbuf_ivshmem_exit(void)
{
	pci_unregister_driver(&vmbuf_ivshmem_driver);
}
