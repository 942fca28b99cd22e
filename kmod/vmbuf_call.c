// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf_call: the device in use and the one way to the daemon. A request
 * holds vmbuf_dev_sem for reading while the transport carries it, so
 * requests from many processes run in parallel and a device is taken out
 * of use (vmbuf_dev_remove(), a writer) only when none is in flight.
 *
 * Waits for the daemon end when the caller is killed, and never outlast
 * vmbuf_timeout_ms. What a caller gave up on is not lost: when the answer
 * comes late, vmbuf_call_late() gives back what it created (an ALLOC's
 * buffer, an IMPORT's import), and a FREE or RELEASE that cannot be sent by
 * a dying process is sent by vmbuf_release_wq instead.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "vmbuf.h"

/* Sends the FREEs and RELEASEs nobody waits for. */
static struct workqueue_struct *vmbuf_release_wq;

struct vmbuf_let_go {
	struct work_struct work;
	bool imported;
	u64 id;
};

/* Readers: requests to the daemon. Writers: setting or clearing vmbuf_dev. */
DECLARE_RWSEM(vmbuf_dev_sem);
struct vmbuf_dev *vmbuf_dev;

int vmbuf_call(void *req, size_t req_len, void *resp, size_t resp_len)
{
	int ret = -ENODEV;

	down_read(&vmbuf_dev_sem);
	if (vmbuf_dev)
		ret = vmbuf_dev->ops->call(vmbuf_dev, req, req_len, resp, resp_len);
	up_read(&vmbuf_dev_sem);
	if (ret)
		return ret;
	return (s32)le32_to_cpu(((struct virtio_vmbuf_resp *)resp)->status);
}

bool vmbuf_call_has(u64 feature)
{
	bool ret;

	down_read(&vmbuf_dev_sem);
	ret = vmbuf_dev && (vmbuf_dev->features & feature);
	up_read(&vmbuf_dev_sem);
	return ret;
}

static int vmbuf_call_let_go_now(bool imported, u64 id)
{
	struct virtio_vmbuf_release rel = {
		.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_RELEASE),
		.import_id = cpu_to_le64(id),
	};
	struct virtio_vmbuf_free req = {
		.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_FREE),
		.buffer_id = cpu_to_le64(id),
	};
	struct virtio_vmbuf_resp resp;

	static_assert(sizeof(rel) == sizeof(req));
	return vmbuf_call(imported ? (void *)&rel : (void *)&req, sizeof(req), &resp, sizeof(resp));
}

int vmbuf_call_signal(const u8 *handle, u64 value, int error)
{
	struct virtio_vmbuf_signal req = {
		.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_SIGNAL),
		.value = cpu_to_le64(value),
		.error = cpu_to_le32((u32)error),
	};
	struct virtio_vmbuf_timeline_resp resp;

	memcpy(req.handle, handle, sizeof(req.handle));
	return vmbuf_call(&req, sizeof(req), &resp, sizeof(resp));
}

static void vmbuf_let_go_work(struct work_struct *work)
{
	struct vmbuf_let_go *g = container_of(work, struct vmbuf_let_go, work);
	int ret = vmbuf_call_let_go_now(g->imported, g->id);

	if (ret && ret != -ENODEV)
		pr_warn_ratelimited("%s of %llu failed: %d\n", g->imported ? "RELEASE" : "FREE",
				    g->id, ret);
	kfree(g);
}

/* Queue a FREE or RELEASE (any context). */
void vmbuf_call_let_go_later(bool imported, u64 id)
{
	struct vmbuf_let_go *g = kzalloc(sizeof(*g), GFP_ATOMIC);

	if (!g)
		return;	/* the daemon releases it when the device resets */
	INIT_WORK(&g->work, vmbuf_let_go_work);
	g->imported = imported;
	g->id = id;
	queue_work(vmbuf_release_wq, &g->work);
}

int vmbuf_call_let_go(bool imported, u64 id)
{
	int ret = -EINTR;

	/* A dying process could not even queue its request: a worker sends it. */
	if (!(current->flags & PF_EXITING) && !fatal_signal_pending(current))
		ret = vmbuf_call_let_go_now(imported, id);
	if (ret == -EINTR) {
		vmbuf_call_let_go_later(imported, id);
		return 0;
	}
	return ret;
}

void vmbuf_call_late(const void *req, const void *resp, size_t resp_len)
{
	const struct virtio_vmbuf_hdr *h = req;
	const struct virtio_vmbuf_resp *r = resp;

	if (resp_len < sizeof(*r) || r->status)
		return;
	switch (le32_to_cpu(h->type)) {
	case VIRTIO_VMBUF_REQ_ALLOC:
		if (resp_len >= sizeof(struct virtio_vmbuf_alloc_resp))
			vmbuf_call_let_go_later(false, le64_to_cpu(((const struct
					virtio_vmbuf_alloc_resp *)resp)->buffer_id));
		break;
	case VIRTIO_VMBUF_REQ_IMPORT:
		if (resp_len >= sizeof(struct virtio_vmbuf_import_resp))
			vmbuf_call_let_go_later(true, le64_to_cpu(((const struct
					virtio_vmbuf_import_resp *)resp)->import_id));
		break;
	}
}

int vmbuf_call_init(void)
{
	vmbuf_release_wq = alloc_workqueue("vmbuf-release", WQ_UNBOUND, 0);
	return vmbuf_release_wq ? 0 : -ENOMEM;
}

void vmbuf_call_exit(void)
{
	destroy_workqueue(vmbuf_release_wq);	/* sends what is queued first */
}
