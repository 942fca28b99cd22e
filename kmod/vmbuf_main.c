// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf.ko: dma-buf heaps over hypervisor-shared memory, for the
 * virtio-vmbuf device of vmbufd. Module init and exit: the layers that need
 * setting up (fences, /dev/vmbuf, debugfs) and the transports (ivshmem,
 * virtio).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "vmbuf.h"

/* Guards vmbuf_pools, pool matching, buffers' sharing state and (with vmbuf_dev_sem) vmbuf_dev. */
DEFINE_MUTEX(vmbuf_lock);

unsigned int vmbuf_timeout_ms = 10000;
module_param_named(timeout_ms, vmbuf_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "How long to wait for the daemon to answer a request (ms)");

static int __init vmbuf_init(void)
{
	int ret;

	ret = vmbuf_call_init();
	if (ret)
		return ret;
	ret = vmbuf_fence_init();
	if (ret)
		goto err_call;
	ret = vmbuf_cdev_init();
	if (ret)
		goto err_fence;
	vmbuf_debugfs_init();
	ret = vmbuf_ivshmem_init();
	if (ret)
		goto err_debugfs;
	ret = vmbuf_virtio_init();
	if (ret)
		goto err_ivshmem;
	return 0;

err_ivshmem:
	vmbuf_ivshmem_exit();
err_debugfs:
	vmbuf_debugfs_exit();
	vmbuf_cdev_exit();
err_fence:
	vmbuf_fence_exit();
err_call:
	vmbuf_call_exit();
	return ret;
}

static void __exit vmbuf_exit(void)
{
	vmbuf_virtio_exit();
	vmbuf_ivshmem_exit();
	vmbuf_debugfs_exit();
	vmbuf_cdev_exit();
	vmbuf_fence_exit();
	vmbuf_call_exit();
}

module_init(vmbuf_init);
module_exit(vmbuf_exit);

MODULE_DESCRIPTION("vmbuf: dma-buf heaps over hypervisor-shared memory (virtio-vmbuf)");
MODULE_LICENSE("GPL");
MODULE_INFO(import_ns, "DMA_BUF");
