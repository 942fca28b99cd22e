// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf_dev: what a transport calls when its control device comes or goes
 * and when the device sends an event. The module drives one device: a
 * transport claims the slot before it touches its device (a second control
 * device is refused with -EBUSY), says HELLO through it, and only then puts
 * it in use; removal waits for requests in flight, and every pending fence
 * ends with -ENODEV.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>

#include "vmbuf.h"

/* What this driver knows of the protocol (HELLO). */
#define VMBUF_DRIVER_FEATURES	(VIRTIO_VMBUF_F_QUERY | VIRTIO_VMBUF_F_SESSION | \
				 VIRTIO_VMBUF_F_FAST)

atomic_t vmbuf_dev_session = ATOMIC_INIT(0);

/* Under vmbuf_lock: a transport holds the one device slot. */
static bool vmbuf_dev_claimed;

int vmbuf_dev_claim(void)
{
	int ret = 0;

	mutex_lock(&vmbuf_lock);
	if (vmbuf_dev_claimed)
		ret = -EBUSY;
	vmbuf_dev_claimed = true;
	mutex_unlock(&vmbuf_lock);
	return ret;
}

void vmbuf_dev_unclaim(void)
{
	mutex_lock(&vmbuf_lock);
	vmbuf_dev_claimed = false;
	mutex_unlock(&vmbuf_lock);
}

static int vmbuf_dev_hello(struct vmbuf_dev *dev)
{
	struct virtio_vmbuf_hello req = {
		.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_HELLO),
		.version = cpu_to_le32(VIRTIO_VMBUF_VERSION),
		.features = cpu_to_le64(VMBUF_DRIVER_FEATURES),
	};
	struct virtio_vmbuf_hello_resp *r;
	int ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	ret = dev->ops->call(dev, &req, sizeof(req), r, sizeof(*r));
	if (!ret)
		ret = (s32)le32_to_cpu(r->resp.status);
	if (ret) {
		dev_err(dev->dev, "HELLO failed: %d (device speaks version %u, we %u)\n", ret,
			le32_to_cpu(r->version), VIRTIO_VMBUF_VERSION);
		goto out;
	}
	dev->features = le64_to_cpu(r->features) & VMBUF_DRIVER_FEATURES;
	dev->npools = min_t(u32, le32_to_cpu(r->npools), VIRTIO_VMBUF_MAX_POOLS);
	memcpy(dev->pools, r->pools, sizeof(dev->pools));
	dev->quota = le64_to_cpu(r->quota_bytes);
	dev->fence_timeout_ms = le32_to_cpu(r->fence_timeout_ms);
	dev->locator_kind = le32_to_cpu(r->locator_kind);
	memcpy(dev->vm_name, r->vm_name, VIRTIO_VMBUF_NAME_MAX);
	dev->vm_name[VIRTIO_VMBUF_NAME_MAX] = '\0';
	dev_info(dev->dev, "VM '%s', %u pool(s), transport %s\n", dev->vm_name, dev->npools,
		 dev->ops->name);
out:
	kfree(r);
	return ret;
}

int vmbuf_dev_add(struct vmbuf_dev *dev)
{
	int ret;

	ret = vmbuf_dev_hello(dev);
	if (ret)
		return ret;
	down_write(&vmbuf_dev_sem);
	mutex_lock(&vmbuf_lock);
	vmbuf_dev = dev;
	atomic_inc(&vmbuf_dev_session);
	mutex_unlock(&vmbuf_lock);
	up_write(&vmbuf_dev_sem);
	return 0;
}

/* The driver leaves: the daemon releases what this VM held (the device may outlive us). */
static void vmbuf_dev_bye(struct vmbuf_dev *dev)
{
	struct virtio_vmbuf_hdr req = { .type = cpu_to_le32(VIRTIO_VMBUF_REQ_BYE) };
	struct virtio_vmbuf_resp resp;

	if (dev->features & VIRTIO_VMBUF_F_SESSION)
		dev->ops->call(dev, &req, sizeof(req), &resp, sizeof(resp));
}

void vmbuf_dev_remove(struct vmbuf_dev *dev)
{
	vmbuf_dev_bye(dev);
	/* Waits for requests in flight; later ones see no device (ENODEV). */
	down_write(&vmbuf_dev_sem);
	mutex_lock(&vmbuf_lock);
	if (vmbuf_dev == dev)
		vmbuf_dev = NULL;
	atomic_inc(&vmbuf_dev_session);	/* what the VM keeps for reuse is void now */
	mutex_unlock(&vmbuf_lock);
	up_write(&vmbuf_dev_sem);
	vmbuf_fences_fail_all(-ENODEV);
}

void vmbuf_dev_event(const struct virtio_vmbuf_event *ev)
{
	/* The device dropped events: a fence's may be among them. */
	if (le32_to_cpu(ev->flags) & VIRTIO_VMBUF_EVT_F_LOST)
		vmbuf_fence_requery();
	if (le32_to_cpu(ev->type) == VIRTIO_VMBUF_EVT_TIMELINE_REACHED)
		vmbuf_fence_event(ev);
	vmbuf_files_post(ev);
}
