// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf over virtio (transport T2): the virtio-vmbuf device that QEMU's
 * vhost-user-test-device-pci shows (virtio-id VIRTIO_VMBUF_DEVICE_ID), served
 * by vmbufd's vhost-user backend.
 *
 * The driver binds only when the configuration space carries the vmbuf magic
 * and version. The control queue carries one request per call, an out
 * buffer and an in buffer of up to VIRTIO_VMBUF_MSG_MAX bytes each; a
 * semaphore keeps callers to what the ring holds; waits end when the caller
 * is killed. A caller that times out or is killed leaves its buffers to the
 * device: the completion frees them when the device answers late (and
 * vmbuf_call_late() gives back what the request made), device removal when
 * it never does. The event queue
 * holds VMBUF_VIRTIO_EVENTS posted 128-byte buffers, reposted as they are
 * read.
 *
 * Pools: when HELLO's locators are of kind SHM the VM maps no pool. The
 * device maps each buffer this VM allocated or imported into its shared
 * memory region 0 (a BAR of the device, given struct pages and a
 * write-back mapping here) and answers ALLOC and IMPORT with the buffer's
 * offset in the region; every pool of HELLO becomes a vmbuf_pool over the
 * whole region. Otherwise pools are found by their own transport (ivshmem
 * pool devices) and matched to HELLO by locator.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kref.h>
#include <linux/memremap.h>
#include <linux/scatterlist.h>
#include <linux/semaphore.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "vmbuf.h"

#define VMBUF_VIRTIO_EVENTS	64

struct vmbuf_virtio_req {
	struct list_head link;		/* vmbuf_virtio.inflight, while the device has it */
	struct completion done;
	u32 len;			/* response bytes the device wrote */
	bool abandoned;			/* the caller gave up: the completion frees it */
	bool aborted;			/* the device went away: its caller gets -ENODEV */
	u8 req[VIRTIO_VMBUF_MSG_MAX];
	u8 resp[VIRTIO_VMBUF_MSG_MAX];
};

struct vmbuf_virtio {
	struct vmbuf_dev dev;
	struct virtio_device *vdev;
	struct virtqueue *ctl, *evt;
	spinlock_t ctl_lock;		/* IRQ-safe: the control queue, next_id */
	spinlock_t evt_lock;		/* IRQ-safe: the event queue */
	struct semaphore slots;		/* requests the control ring can hold */
	u64 next_id;
	struct list_head inflight;	/* requests the device has, under ctl_lock */
	bool gone;			/* the device said GONE, under ctl_lock */
	struct work_struct gone_work;
	struct virtio_vmbuf_event *events;

	/* Pools over shared memory region 0, where the device maps single buffers (SHM). */
	struct vmbuf_pool **pools;
	unsigned int npools;
};

static struct vmbuf_virtio *to_vv(struct vmbuf_dev *dev)
{
	return container_of(dev, struct vmbuf_virtio, dev);
}

static void vmbuf_virtio_ctl_done(struct virtqueue *vq)
{
	struct vmbuf_virtio *vv = vq->vdev->priv;
	struct vmbuf_virtio_req *r;
	unsigned long flags;
	unsigned int len;

	spin_lock_irqsave(&vv->ctl_lock, flags);
	do {
		virtqueue_disable_cb(vq);
		while ((r = virtqueue_get_buf(vq, &len))) {
			list_del_init(&r->link);
			r->len = min_t(u32, len, VIRTIO_VMBUF_MSG_MAX);
			if (r->abandoned) {
				vmbuf_call_late(r->req, r->resp, r->len);
				kfree(r);
				up(&vv->slots);
			} else {
				complete(&r->done);
			}
		}
	} while (!virtqueue_enable_cb(vq));
	spin_unlock_irqrestore(&vv->ctl_lock, flags);
}

/* Give event buffer @ev to the device; under evt_lock. */
static int vmbuf_virtio_post(struct vmbuf_virtio *vv, struct virtio_vmbuf_event *ev)
{
	struct scatterlist sg;

	sg_init_one(&sg, ev, sizeof(*ev));
	return virtqueue_add_inbuf(vv->evt, &sg, 1, ev, GFP_ATOMIC);
}

static void vmbuf_virtio_evt_done(struct virtqueue *vq)
{
	struct vmbuf_virtio *vv = vq->vdev->priv;
	struct virtio_vmbuf_event *buf, ev;
	bool reposted = false;
	unsigned long flags;
	unsigned int len;

	spin_lock_irqsave(&vv->evt_lock, flags);
	do {
		virtqueue_disable_cb(vq);
		while ((buf = virtqueue_get_buf(vq, &len))) {
			memcpy(&ev, buf, sizeof(ev));
			if (!vmbuf_virtio_post(vv, buf))
				reposted = true;
			if (len >= sizeof(ev))
				vmbuf_dev_event(&ev);
			else
				dev_warn_ratelimited(&vv->vdev->dev, "short event (%u bytes)\n",
						     len);
		}
	} while (!virtqueue_enable_cb(vq));
	if (reposted)
		virtqueue_kick(vq);
	spin_unlock_irqrestore(&vv->evt_lock, flags);
}

static int vmbuf_virtio_call(struct vmbuf_dev *dev, void *req, size_t req_len, void *resp,
			     size_t resp_len)
{
	struct vmbuf_virtio *vv = to_vv(dev);
	struct virtio_vmbuf_hdr *hdr = req;
	struct scatterlist out, in, *sgs[] = { &out, &in };
	struct vmbuf_virtio_req *r;
	unsigned long flags;
	long left;
	u64 id;
	int ret;

	if (WARN_ON(req_len > VIRTIO_VMBUF_MSG_MAX || resp_len > VIRTIO_VMBUF_MSG_MAX ||
		    resp_len < sizeof(struct virtio_vmbuf_resp)))
		return -EINVAL;
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	init_completion(&r->done);
	sg_init_one(&out, r->req, req_len);
	sg_init_one(&in, r->resp, sizeof(r->resp));
	INIT_LIST_HEAD(&r->link);
	if (down_killable(&vv->slots)) {
		kfree(r);
		return -EINTR;
	}

	spin_lock_irqsave(&vv->ctl_lock, flags);
	id = ++vv->next_id;
	hdr->id = cpu_to_le64(id);
	memcpy(r->req, req, req_len);
	ret = vv->gone ? -ENODEV : virtqueue_add_sgs(vv->ctl, sgs, 1, 1, r, GFP_ATOMIC);
	if (!ret) {
		list_add_tail(&r->link, &vv->inflight);
		virtqueue_kick(vv->ctl);
	}
	spin_unlock_irqrestore(&vv->ctl_lock, flags);
	if (ret) {
		up(&vv->slots);
		kfree(r);
		return ret;
	}

	left = wait_for_completion_killable_timeout(&r->done, msecs_to_jiffies(vmbuf_timeout_ms));
	spin_lock_irqsave(&vv->ctl_lock, flags);
	if (r->aborted) {
		/* The device still has its buffers: removal frees them. */
		r->abandoned = true;
		spin_unlock_irqrestore(&vv->ctl_lock, flags);
		return -ENODEV;
	}
	if (left <= 0 && !completion_done(&r->done)) {
		/* The device still owns the buffers: the completion frees them. */
		r->abandoned = true;
		spin_unlock_irqrestore(&vv->ctl_lock, flags);
		if (left < 0)
			return -ECANCELED;
		dev_err_ratelimited(&vv->vdev->dev, "request %u timed out after %u ms\n",
				    le32_to_cpu(hdr->type), vmbuf_timeout_ms);
		return -ETIMEDOUT;
	}
	spin_unlock_irqrestore(&vv->ctl_lock, flags);
	memset(resp, 0, resp_len);
	memcpy(resp, r->resp, min_t(size_t, resp_len, r->len));
	ret = r->len < sizeof(struct virtio_vmbuf_resp) ||
	      le64_to_cpu(((struct virtio_vmbuf_resp *)r->resp)->id) != id ? -EPROTO : 0;
	kfree(r);
	up(&vv->slots);
	return ret;
}

static void vmbuf_virtio_debugfs_show(struct vmbuf_dev *dev, struct seq_file *s)
{
	struct vmbuf_virtio *vv = to_vv(dev);

	seq_printf(s, "control ring: %u entries\nrequests: %llu\ngone: %d\n",
		   virtqueue_get_vring_size(vv->ctl), vv->next_id, vv->gone);
}

/*
 * The configuration changed: when the daemon stopped (GONE in the
 * configuration space), what waits for it ends now with -ENODEV and the
 * device leaves use. Buffers stay mapped.
 */
static void vmbuf_virtio_gone_work(struct work_struct *work)
{
	struct vmbuf_virtio *vv = container_of(work, struct vmbuf_virtio, gone_work);
	struct vmbuf_virtio_req *r;
	unsigned int i, n;
	u32 state;

	virtio_cread_le(vv->vdev, struct virtio_vmbuf_config, state, &state);
	if (state != VIRTIO_VMBUF_STATE_GONE)
		return;	/* another change of the configuration */
	spin_lock_irq(&vv->ctl_lock);
	if (vv->gone) {
		spin_unlock_irq(&vv->ctl_lock);
		return;
	}
	vv->gone = true;
	list_for_each_entry(r, &vv->inflight, link) {
		if (!r->abandoned) {
			r->aborted = true;
			complete(&r->done);
		}
	}
	spin_unlock_irq(&vv->ctl_lock);
	/* Callers waiting for room get it, see the device gone, and leave. */
	n = virtqueue_get_vring_size(vv->ctl);
	for (i = 0; i < n; i++)
		up(&vv->slots);
	dev_warn(&vv->vdev->dev, "vmbufd stopped: requests and fences end with ENODEV\n");
	vmbuf_dev_remove(&vv->dev);
}

/* Any context (the configuration interrupt): reading the configuration may sleep. */
static void vmbuf_virtio_config_changed(struct virtio_device *vdev)
{
	struct vmbuf_virtio *vv = vdev->priv;

	if (vv)
		schedule_work(&vv->gone_work);
}

static const struct vmbuf_transport_ops vmbuf_virtio_ops = {
	.name = "virtio",
	.call = vmbuf_virtio_call,
	.debugfs_show = vmbuf_virtio_debugfs_show,
};

static int vmbuf_virtio_find_vqs(struct vmbuf_virtio *vv)
{
	struct virtqueue *vqs[VIRTIO_VMBUF_NUM_VQS];
	int ret;
#ifdef VMBUF_HAVE_VIRTQUEUE_INFO	/* Kbuild probes for it */
	struct virtqueue_info info[VIRTIO_VMBUF_NUM_VQS] = {
		[VIRTIO_VMBUF_VQ_CTL] = { "vmbuf-ctl", vmbuf_virtio_ctl_done },
		[VIRTIO_VMBUF_VQ_EVENT] = { "vmbuf-event", vmbuf_virtio_evt_done },
	};

	ret = virtio_find_vqs(vv->vdev, VIRTIO_VMBUF_NUM_VQS, vqs, info, NULL);
#else
	vq_callback_t *callbacks[VIRTIO_VMBUF_NUM_VQS] = {
		[VIRTIO_VMBUF_VQ_CTL] = vmbuf_virtio_ctl_done,
		[VIRTIO_VMBUF_VQ_EVENT] = vmbuf_virtio_evt_done,
	};
	static const char * const names[VIRTIO_VMBUF_NUM_VQS] = {
		[VIRTIO_VMBUF_VQ_CTL] = "vmbuf-ctl",
		[VIRTIO_VMBUF_VQ_EVENT] = "vmbuf-event",
	};

	ret = virtio_find_vqs(vv->vdev, VIRTIO_VMBUF_NUM_VQS, vqs, callbacks, names, NULL);
#endif
	if (ret)
		return ret;
	vv->ctl = vqs[VIRTIO_VMBUF_VQ_CTL];
	vv->evt = vqs[VIRTIO_VMBUF_VQ_EVENT];
	return 0;
}

/* After a reset: free what the device never gave back (abandoned requests, event buffers). */
static void vmbuf_virtio_free_unused(struct vmbuf_virtio *vv)
{
	void *buf;

	while ((buf = virtqueue_detach_unused_buf(vv->ctl))) {
		list_del(&((struct vmbuf_virtio_req *)buf)->link);
		kfree(buf);
	}
	while (virtqueue_detach_unused_buf(vv->evt))
		;
}

/*
 * Shared memory region 0 with struct pages, shared by the pools over it and
 * kept, like they are, until their last buffer is released.
 */
struct vmbuf_virtio_shm {
	struct kref ref;
	struct dev_pagemap pgmap;
};

struct vmbuf_virtio_pool {
	struct vmbuf_pool pool;
	struct vmbuf_virtio_shm *shm;
};

static void vmbuf_virtio_shm_free(struct kref *ref)
{
	struct vmbuf_virtio_shm *shm = container_of(ref, struct vmbuf_virtio_shm, ref);

	memunmap_pages(&shm->pgmap);
	kfree(shm);
}

static void vmbuf_virtio_pool_release(struct vmbuf_pool *p)
{
	struct vmbuf_virtio_pool *vp = container_of(p, struct vmbuf_virtio_pool, pool);

	kref_put(&vp->shm->ref, vmbuf_virtio_shm_free);
	kfree(vp);
}

/* Locator kind SHM: pools over shared memory region 0, one vmbuf_pool per HELLO pool. */
static int vmbuf_virtio_shm_pools(struct vmbuf_virtio *vv)
{
	struct device *dev = &vv->vdev->dev;
	struct virtio_shm_region region;
	struct vmbuf_virtio_shm *shm;
	unsigned int i;
	void *vaddr;
	int ret = 0;

	if (!virtio_get_shm_region(vv->vdev, &region, 0)) {
		dev_err(dev, "the device maps buffers but has no shared memory region 0\n");
		return -ENODEV;
	}
	if (!region.len || !IS_ALIGNED(region.addr, SZ_2M) || !IS_ALIGNED(region.len, SZ_2M)) {
		dev_err(dev, "shared memory region %#llx+%#llx is not 2 MiB aligned\n",
			region.addr, region.len);
		return -EINVAL;
	}
	shm = kzalloc(sizeof(*shm), GFP_KERNEL);
	if (!shm)
		return -ENOMEM;
	kref_init(&shm->ref);
	shm->pgmap.type = MEMORY_DEVICE_GENERIC;
	shm->pgmap.range.start = region.addr;
	shm->pgmap.range.end = region.addr + region.len - 1;
	shm->pgmap.nr_range = 1;
	vaddr = memremap_pages(&shm->pgmap, dev_to_node(dev));
	if (IS_ERR(vaddr)) {
		dev_err(dev, "cannot map the shared memory region with struct pages: %ld\n",
			PTR_ERR(vaddr));
		kfree(shm);
		return PTR_ERR(vaddr);
	}
	vv->pools = kcalloc(vv->dev.npools, sizeof(*vv->pools), GFP_KERNEL);
	for (i = 0; vv->pools && i < vv->dev.npools; i++) {
		struct vmbuf_virtio_pool *vp = kzalloc(sizeof(*vp), GFP_KERNEL);
		struct vmbuf_pool *pool;

		if (!vp) {
			ret = -ENOMEM;
			break;
		}
		pool = &vp->pool;
		pool->dev = dev;
		pool->ops = &vmbuf_virtio_ops;
		pool->release = vmbuf_virtio_pool_release;
		pool->locator_kind = VIRTIO_VMBUF_LOCATOR_SHM;
		pool->locator = le64_to_cpu(vv->dev.pools[i].locator);
		pool->phys = region.addr;
		pool->vaddr = vaddr;
		pool->size = region.len;
		vp->shm = shm;
		kref_get(&shm->ref);
		ret = vmbuf_pool_add(pool, &vv->dev.pools[i]);
		if (ret) {
			kref_put(&shm->ref, vmbuf_virtio_shm_free);
			kfree(vp);
			break;
		}
		vv->pools[vv->npools++] = pool;
	}
	kref_put(&shm->ref, vmbuf_virtio_shm_free);	/* the pools hold it now */
	if (!vv->pools)
		return -ENOMEM;
	if (!ret)
		dev_info(dev, "buffers mapped one at a time into a %llu MiB region\n",
			 region.len >> 20);
	return ret;
}

static void vmbuf_virtio_remove_pools(struct vmbuf_virtio *vv)
{
	while (vv->npools)
		vmbuf_pool_remove(vv->pools[--vv->npools]);
	kfree(vv->pools);
	vv->pools = NULL;
}

static int vmbuf_virtio_probe(struct virtio_device *vdev)
{
	struct vmbuf_virtio *vv;
	unsigned int i;
	u32 magic, version;
	int ret;

	virtio_cread_le(vdev, struct virtio_vmbuf_config, magic, &magic);
	virtio_cread_le(vdev, struct virtio_vmbuf_config, version, &version);
	if (magic != VIRTIO_VMBUF_CONFIG_MAGIC || version != VIRTIO_VMBUF_VERSION) {
		dev_err(&vdev->dev, "not a vmbuf device of version %u (magic %#x, version %u)\n",
			VIRTIO_VMBUF_VERSION, magic, version);
		return -ENODEV;
	}
	ret = vmbuf_dev_claim();
	if (ret) {
		dev_err(&vdev->dev, "a second vmbuf control device is not supported\n");
		return ret;
	}
	ret = -ENOMEM;
	vv = devm_kzalloc(&vdev->dev, sizeof(*vv), GFP_KERNEL);
	if (!vv)
		goto err_unclaim;
	vv->events = devm_kcalloc(&vdev->dev, VMBUF_VIRTIO_EVENTS, sizeof(*vv->events),
				  GFP_KERNEL);
	if (!vv->events)
		goto err_unclaim;
	vv->dev.dev = &vdev->dev;
	vv->dev.ops = &vmbuf_virtio_ops;
	vv->vdev = vdev;
	vdev->priv = vv;
	spin_lock_init(&vv->ctl_lock);
	spin_lock_init(&vv->evt_lock);
	INIT_LIST_HEAD(&vv->inflight);
	INIT_WORK(&vv->gone_work, vmbuf_virtio_gone_work);
	ret = vmbuf_virtio_find_vqs(vv);
	if (ret)
		goto err_unclaim;
	/* Each request takes two descriptors. */
	sema_init(&vv->slots, max(virtqueue_get_vring_size(vv->ctl) / 2, 1u));
	virtio_device_ready(vdev);

	spin_lock_irq(&vv->evt_lock);
	for (i = 0; i < VMBUF_VIRTIO_EVENTS; i++)
		if (vmbuf_virtio_post(vv, &vv->events[i]))
			break;	/* the ring holds fewer: enough */
	virtqueue_kick(vv->evt);
	spin_unlock_irq(&vv->evt_lock);
	ret = -ENOSPC;
	if (!i)
		goto err_reset;

	ret = vmbuf_dev_add(&vv->dev);
	if (ret)
		goto err_reset;
	if (vv->dev.locator_kind == VIRTIO_VMBUF_LOCATOR_SHM) {
		ret = vmbuf_virtio_shm_pools(vv);
		if (ret)
			goto err_remove;
	}
	return 0;

err_remove:
	vmbuf_virtio_remove_pools(vv);
	vmbuf_dev_remove(&vv->dev);
err_reset:
	virtio_reset_device(vdev);
	vmbuf_virtio_free_unused(vv);
	vdev->config->del_vqs(vdev);
err_unclaim:
	vmbuf_dev_unclaim();
	return ret;
}

static void vmbuf_virtio_remove(struct virtio_device *vdev)
{
	struct vmbuf_virtio *vv = vdev->priv;

	cancel_work_sync(&vv->gone_work);
	/* Waits for requests in flight; the daemon releases the VM's state at the reset. */
	vmbuf_virtio_remove_pools(vv);
	vmbuf_dev_remove(&vv->dev);
	virtio_reset_device(vdev);
	vmbuf_virtio_free_unused(vv);
	vdev->config->del_vqs(vdev);
	vmbuf_dev_unclaim();
}

static const struct virtio_device_id vmbuf_virtio_ids[] = {
	{ VIRTIO_VMBUF_DEVICE_ID, VIRTIO_DEV_ANY_ID },
	{ }
};
MODULE_DEVICE_TABLE(virtio, vmbuf_virtio_ids);

static struct virtio_driver vmbuf_virtio_driver = {
	.driver.name = KBUILD_MODNAME,
	.id_table = vmbuf_virtio_ids,
	.probe = vmbuf_virtio_probe,
	.remove = vmbuf_virtio_remove,
	.config_changed = vmbuf_virtio_config_changed,
};

int vmbuf_virtio_init(void)
{
	return register_virtio_driver(&vmbuf_virtio_driver);
}

void vmbuf_virtio_exit(void)
{
	unregister_virtio_driver(&vmbuf_virtio_driver);
}
