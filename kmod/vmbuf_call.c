// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf_call: the device in use and the one way to the daemon. A request
 * holds vmbuf_dev_sem for reading while the transport carries it, so
 * requests from many processes run in parallel and a device is taken out
 * of use (vmbuf_dev_remove(), a writer) only when none is in flight.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "vmbuf.h"

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

int vmbuf_call_let_go(bool imported, u64 id)
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
