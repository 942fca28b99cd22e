// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf.ko: guest driver for virtio-vmbuf over ivshmem (transport T1).
 *
 * Binds ivshmem-doorbell devices (1af4:1110) whose BAR2 starts with the
 * vmbuf region header and leaves every other ivshmem device alone. The
 * control device talks to vmbufd; pool devices provide the memory and the
 * /dev/dma_heap/vmbuf-<pool> heaps.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "vmbuf.h"

#define PCI_VENDOR_ID_IVSHMEM	0x1af4
#define PCI_DEVICE_ID_IVSHMEM	0x1110

/* Guards vmbuf_pools, pool matching and (with vmbuf_ctl_sem) vmbuf_ctl. */
DEFINE_MUTEX(vmbuf_lock);
/* Readers: requests to the daemon. Writers: setting or clearing vmbuf_ctl. */
DECLARE_RWSEM(vmbuf_ctl_sem);
struct vmbuf_ctl *vmbuf_ctl;
LIST_HEAD(vmbuf_pools);

unsigned int vmbuf_timeout_ms = 10000;
module_param_named(timeout_ms, vmbuf_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "How long to wait for the daemon to answer a request (ms)");

enum vmbuf_kind { VMBUF_KIND_NONE, VMBUF_KIND_CTL, VMBUF_KIND_POOL };

/* Read the region header through a temporary mapping; the device is ours only if it matches. */
static int vmbuf_read_header(struct pci_dev *pdev, struct vmbuf_ivshmem_region *hdr)
{
	resource_size_t len = pci_resource_len(pdev, 2);
	void *map;

	if (!(pci_resource_flags(pdev, 2) & IORESOURCE_MEM) || len < PAGE_SIZE)
		return -ENODEV;
	map = memremap(pci_resource_start(pdev, 2), PAGE_SIZE, MEMREMAP_WB);
	if (!map)
		return -ENOMEM;
	memcpy(hdr, map, sizeof(*hdr));
	memunmap(map);
	if (le32_to_cpu(hdr->magic) != VMBUF_IVSHMEM_MAGIC)
		return -ENODEV;
	if (le16_to_cpu(hdr->version) != VIRTIO_VMBUF_VERSION) {
		dev_err(&pdev->dev, "region version %u, this driver speaks %u\n",
			le16_to_cpu(hdr->version), VIRTIO_VMBUF_VERSION);
		return -ENODEV;
	}
	if (le64_to_cpu(hdr->size) != len) {
		dev_err(&pdev->dev, "region header size does not match BAR2\n");
		return -ENODEV;
	}
	return 0;
}

static int vmbuf_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vmbuf_ivshmem_region hdr;
	void __iomem *regs;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = vmbuf_read_header(pdev, &hdr);
	if (ret)
		return ret;	/* someone else's ivshmem device: stay away */
	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return ret;
	regs = pcim_iomap_table(pdev)[0];
	ret = pci_request_region(pdev, 2, KBUILD_MODNAME);
	if (ret)
		return ret;
	pci_set_master(pdev);

	switch (le16_to_cpu(hdr.kind)) {
	case VMBUF_IVSHMEM_KIND_CTL:
		ret = vmbuf_ctl_probe(pdev, regs);
		break;
	case VMBUF_IVSHMEM_KIND_POOL:
		ret = vmbuf_pool_probe(pdev, regs, &hdr);
		break;
	default:
		dev_err(&pdev->dev, "unknown region kind %u\n", le16_to_cpu(hdr.kind));
		ret = -ENODEV;
	}
	if (ret)
		pci_release_region(pdev, 2);
	return ret;
}

static void vmbuf_remove(struct pci_dev *pdev)
{
	void *drv = pci_get_drvdata(pdev);

	if (drv && drv == vmbuf_ctl)
		vmbuf_ctl_remove(drv);
	else if (drv)
		vmbuf_pool_remove(drv);
	pci_release_region(pdev, 2);
}

static const struct pci_device_id vmbuf_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_IVSHMEM, PCI_DEVICE_ID_IVSHMEM) },
	{ }
};
MODULE_DEVICE_TABLE(pci, vmbuf_ids);

static struct pci_driver vmbuf_driver = {
	.name = KBUILD_MODNAME,
	.id_table = vmbuf_ids,
	.probe = vmbuf_probe,
	.remove = vmbuf_remove,
};

static int __init vmbuf_init(void)
{
	int ret;

	ret = vmbuf_fence_init();
	if (ret)
		return ret;
	ret = vmbuf_cdev_init();
	if (ret)
		goto err_fence;
	vmbuf_debugfs_init();
	ret = pci_register_driver(&vmbuf_driver);
	if (ret)
		goto err_debugfs;
	return 0;

err_debugfs:
	vmbuf_debugfs_exit();
	vmbuf_cdev_exit();
err_fence:
	vmbuf_fence_exit();
	return ret;
}

static void __exit vmbuf_exit(void)
{
	pci_unregister_driver(&vmbuf_driver);
	vmbuf_debugfs_exit();
	vmbuf_cdev_exit();
	vmbuf_fence_exit();
}

module_init(vmbuf_init);
module_exit(vmbuf_exit);

MODULE_DESCRIPTION("vmbuf: dma-buf heaps over hypervisor-shared memory (virtio-vmbuf over ivshmem)");
MODULE_LICENSE("GPL");
MODULE_INFO(import_ns, "DMA_BUF");
