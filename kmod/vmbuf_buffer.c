// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbuf buffers: a physically contiguous range of a pool exported as a
 * dma-buf. The daemon allocates the range (ALLOC) and frees it when the
 * dma-buf is released (FREE, or RELEASE for an import); the range reads as
 * zero when allocated because the daemon zeroes every range it frees.
 *
 * Recycling: a released buffer this VM allocated, never exported and no
 * larger than recycle_max_size (recycle_max_size_shm where the device maps
 * single buffers) is kept on its pool's list instead (up to
 * recycle_max_buffers and recycle_max_bytes per pool), and the
 * next allocation of the same size there takes it, zeroed here, with no
 * round trip to the daemon. A kept buffer stays charged to the VM (the
 * daemon sees it held) until it is reused or given back: recycle_ms after
 * the last release, when an allocation fails for want of room, and when the
 * pool goes. Exported buffers are never kept: an importer may still hold
 * their pages. Nor is anything of an earlier session (vmbuf_dev_session): the
 * daemon released it at BYE or reset and may have given it to another VM, and
 * its id may name another buffer now, so it is neither reused nor freed.
 *
 * Locking follows the dma-buf convention: map/unmap run under the
 * reservation lock taken by the core and only flip the attachment's state;
 * attach/detach/begin/end_cpu_access take buf->lock.
 *
 * User mappings are filled at fault time (a 2 MiB window around the fault
 * at once), so vmbuf_buffer_revoke() can take them away when the pool's
 * device goes: a later access gets SIGBUS, and no mapping can slip in
 * between (the fault handler checks the pool under buf->lock). Every buffer
 * holds a reference on its pool.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "vmbuf.h"

static unsigned int vmbuf_recycle_max_size = SZ_1M;
module_param_named(recycle_max_size, vmbuf_recycle_max_size, uint, 0644);
MODULE_PARM_DESC(recycle_max_size,
		 "Largest released buffer kept for reuse where the VM maps the pool whole, in bytes (0: keep none)");

/*
 * Where the device maps buffers one by one (SHM locators), reuse also
 * saves a map, an unmap and the host's page faults on first touch, so it
 * pays for larger buffers; where the pool is mapped whole, the daemon
 * zeroes freed memory off the guest's CPU, which reuse would move onto it.
 */
static unsigned int vmbuf_recycle_max_size_shm = SZ_32M;
module_param_named(recycle_max_size_shm, vmbuf_recycle_max_size_shm, uint, 0644);
MODULE_PARM_DESC(recycle_max_size_shm,
		 "Largest released buffer kept for reuse where the device maps single buffers, in bytes (0: keep none)");

static unsigned int vmbuf_recycle_max_buffers = 8;
module_param_named(recycle_max_buffers, vmbuf_recycle_max_buffers, uint, 0644);
MODULE_PARM_DESC(recycle_max_buffers, "Released buffers kept for reuse per pool");

static unsigned int vmbuf_recycle_max_bytes = SZ_64M;
module_param_named(recycle_max_bytes, vmbuf_recycle_max_bytes, uint, 0644);
MODULE_PARM_DESC(recycle_max_bytes, "Bytes of released buffers kept for reuse per pool");

static unsigned int vmbuf_recycle_ms = 1000;
module_param_named(recycle_ms, vmbuf_recycle_ms, uint, 0644);
MODULE_PARM_DESC(recycle_ms, "How long kept buffers wait for reuse before going back (ms)");

struct vmbuf_recycled {
	struct list_head link;		/* pool->recycled */
	u64 id, offset, size;
	int session;			/* the id is the daemon's in this session only */
};

struct vmbuf_attachment {
	struct list_head link;
	struct device *dev;
	struct sg_table table;
	bool mapped;
};

static int vmbuf_attach(struct dma_buf *dmabuf, struct dma_buf_attachment *attachment)
{
	struct vmbuf_buffer *buf = dmabuf->priv;
	struct vmbuf_attachment *a;
	struct scatterlist *sg;
	unsigned int n, i;
	unsigned long pfn = PHYS_PFN(buf->pool->phys + buf->offset);
	u64 left = buf->size;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	/* Contiguous, but one entry holds at most SZ_1G (unsigned int length). */
	n = DIV_ROUND_UP_ULL(buf->size, SZ_1G);
	ret = sg_alloc_table(&a->table, n, GFP_KERNEL);
	if (ret) {
		kfree(a);
		return ret;
	}
	for_each_sgtable_sg(&a->table, sg, i) {
		unsigned int len = min_t(u64, left, SZ_1G);

		sg_set_page(sg, pfn_to_page(pfn), len, 0);
		pfn += len >> PAGE_SHIFT;
		left -= len;
	}
	a->dev = attachment->dev;
	INIT_LIST_HEAD(&a->link);
	attachment->priv = a;

	mutex_lock(&buf->lock);
	list_add(&a->link, &buf->attachments);
	mutex_unlock(&buf->lock);
	return 0;
}

static void vmbuf_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attachment)
{
	struct vmbuf_buffer *buf = dmabuf->priv;
	struct vmbuf_attachment *a = attachment->priv;

	mutex_lock(&buf->lock);
	list_del(&a->link);
	mutex_unlock(&buf->lock);
	sg_free_table(&a->table);
	kfree(a);
}

static struct sg_table *vmbuf_map_dma_buf(struct dma_buf_attachment *attachment,
					  enum dma_data_direction dir)
{
	struct vmbuf_attachment *a = attachment->priv;
	int ret;

	ret = dma_map_sgtable(attachment->dev, &a->table, dir, 0);
	if (ret)
		return ERR_PTR(ret);
	a->mapped = true;
	return &a->table;
}

static void vmbuf_unmap_dma_buf(struct dma_buf_attachment *attachment, struct sg_table *table,
				enum dma_data_direction dir)
{
	struct vmbuf_attachment *a = attachment->priv;

	a->mapped = false;
	dma_unmap_sgtable(attachment->dev, table, dir, 0);
}

static int vmbuf_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	struct vmbuf_buffer *buf = dmabuf->priv;
	struct vmbuf_attachment *a;

	mutex_lock(&buf->lock);
	list_for_each_entry(a, &buf->attachments, link)
		if (a->mapped)
			dma_sync_sgtable_for_cpu(a->dev, &a->table, dir);
	mutex_unlock(&buf->lock);
	return 0;
}

static int vmbuf_end_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	struct vmbuf_buffer *buf = dmabuf->priv;
	struct vmbuf_attachment *a;

	mutex_lock(&buf->lock);
	list_for_each_entry(a, &buf->attachments, link)
		if (a->mapped)
			dma_sync_sgtable_for_device(a->dev, &a->table, dir);
	mutex_unlock(&buf->lock);
	return 0;
}

/* Pages filled per fault: a 2 MiB window (or the whole mapping if smaller). */
#define VMBUF_FAULT_PAGES	512

/*
 * Map [@start, @end) of @vma (under buf->lock, the pool alive). Only the
 * page at @must may fail; a neighbour that is mapped already is fine.
 */
static vm_fault_t vmbuf_insert(struct vm_area_struct *vma, struct vmbuf_buffer *buf,
			       unsigned long start, unsigned long end, unsigned long must)
{
	unsigned long pfn = PHYS_PFN(buf->pool->phys + buf->offset) + vma->vm_pgoff;
	unsigned long addr;

	for (addr = start; addr < end; addr += PAGE_SIZE) {
		vm_fault_t r = vmf_insert_pfn(vma, addr,
					      pfn + ((addr - vma->vm_start) >> PAGE_SHIFT));

		if (r & VM_FAULT_ERROR && addr == must)
			return r;
	}
	return VM_FAULT_NOPAGE;
}

static vm_fault_t vmbuf_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vmbuf_buffer *buf = vma->vm_private_data;
	unsigned long start, end;
	vm_fault_t ret;

	start = max(vma->vm_start, ALIGN_DOWN(vmf->address, VMBUF_FAULT_PAGES * PAGE_SIZE));
	end = min(vma->vm_end, start + VMBUF_FAULT_PAGES * PAGE_SIZE);
	mutex_lock(&buf->lock);
	if (READ_ONCE(buf->pool->dead))
		ret = VM_FAULT_SIGBUS;	/* the pool's device is gone */
	else
		ret = vmbuf_insert(vma, buf, start, end, vmf->address & PAGE_MASK);
	mutex_unlock(&buf->lock);
	return ret;
}

static void vmbuf_vm_open(struct vm_area_struct *vma)
{
	struct vmbuf_buffer *buf = vma->vm_private_data;

	mutex_lock(&buf->lock);
	buf->nvmas++;
	mutex_unlock(&buf->lock);
}

static void vmbuf_vm_close(struct vm_area_struct *vma)
{
	struct vmbuf_buffer *buf = vma->vm_private_data;

	mutex_lock(&buf->lock);
	buf->nvmas--;
	mutex_unlock(&buf->lock);
}

static const struct vm_operations_struct vmbuf_vm_ops = {
	.fault = vmbuf_fault,
	.open = vmbuf_vm_open,
	.close = vmbuf_vm_close,
};

static int vmbuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct vmbuf_buffer *buf = dmabuf->priv;

	/* The core checked pgoff + pages against the size. Host RAM: write-back. */
	if (READ_ONCE(buf->pool->dead))
		return -ENODEV;
#ifdef VMBUF_HAVE_VM_FLAGS_SET	/* Kbuild probes for it: Linux 6.3 on */
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
#else
	vma->vm_flags |= VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP;
#endif
	vma->vm_ops = &vmbuf_vm_ops;
	vma->vm_private_data = buf;
	mutex_lock(&buf->lock);
	buf->mapping = vma->vm_file->f_mapping;
	buf->nvmas++;
	/*
	 * A small mapping is filled now, as the system heap's is: no fault on
	 * first touch. Revocation zaps these pages like faulted ones.
	 */
	if (vma->vm_end - vma->vm_start <= VMBUF_FAULT_PAGES * PAGE_SIZE &&
	    !READ_ONCE(buf->pool->dead))
		vmbuf_insert(vma, buf, vma->vm_start, vma->vm_end, 0);
	mutex_unlock(&buf->lock);
	return 0;
}

void vmbuf_buffer_revoke(struct vmbuf_buffer *buf)
{
	mutex_lock(&buf->lock);
	/* A mapping exists only while a vma holds the dma-buf's file, and so its inode. */
	if (buf->nvmas)
		unmap_mapping_range(buf->mapping, 0, 0, 1);
	mutex_unlock(&buf->lock);
}

static int vmbuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct vmbuf_buffer *buf = dmabuf->priv;

	/* The pool is in the kernel's linear map already (write-back). */
	iosys_map_set_vaddr(map, buf->pool->vaddr + buf->offset);
	return 0;
}

static void vmbuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
}

/* Keep a released buffer for reuse? Then it is not given back now. */
static bool vmbuf_recycle_keep(struct vmbuf_pool *pool, struct vmbuf_buffer *buf)
{
	bool shm = pool->locator_kind == VIRTIO_VMBUF_LOCATOR_SHM;
	unsigned int max = shm ? READ_ONCE(vmbuf_recycle_max_size_shm) :
				 READ_ONCE(vmbuf_recycle_max_size);
	struct vmbuf_recycled *r;

	if (buf->imported || buf->exported || buf->size > max ||
	    buf->session != atomic_read(&vmbuf_dev_session))
		return false;
	r = kmalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return false;
	r->id = buf->id;
	r->offset = buf->offset;
	r->size = buf->size;
	r->session = buf->session;
	mutex_lock(&pool->lock);
	if (pool->dead || pool->nrecycled >= READ_ONCE(vmbuf_recycle_max_buffers) ||
	    pool->recycled_bytes + r->size > READ_ONCE(vmbuf_recycle_max_bytes)) {
		mutex_unlock(&pool->lock);
		kfree(r);
		return false;
	}
	list_add(&r->link, &pool->recycled);
	pool->nrecycled++;
	pool->recycled_bytes += r->size;
	/* A newly queued flush holds a reference on the pool until it has run. */
	if (!mod_delayed_work(system_wq, &pool->recycle_flush,
			      msecs_to_jiffies(READ_ONCE(vmbuf_recycle_ms))))
		vmbuf_pool_get(pool);
	mutex_unlock(&pool->lock);
	return true;
}

/* Zero @len bytes, letting others run between 2 MiB steps. */
static void vmbuf_zero(void *p, u64 len)
{
	while (len) {
		u64 n = min_t(u64, len, SZ_2M);

		memset(p, 0, n);
		p += n;
		len -= n;
		if (len)
			cond_resched();
	}
}

/* A kept buffer of @size bytes, off the list, or NULL. */
static struct vmbuf_recycled *vmbuf_recycle_take(struct vmbuf_pool *pool, u64 size)
{
	int session = atomic_read(&vmbuf_dev_session);
	struct vmbuf_recycled *r, *found = NULL;

	mutex_lock(&pool->lock);
	list_for_each_entry(r, &pool->recycled, link) {
		if (r->size == size && r->session == session && !pool->dead) {
			list_del(&r->link);
			pool->nrecycled--;
			pool->recycled_bytes -= r->size;
			found = r;
			break;
		}
	}
	mutex_unlock(&pool->lock);
	return found;
}

/* Give every kept buffer back to the daemon; returns how many there were. */
static unsigned int vmbuf_recycle_drop(struct vmbuf_pool *pool, bool later)
{
	struct vmbuf_recycled *r, *next;
	unsigned int n = 0;
	LIST_HEAD(list);

	mutex_lock(&pool->lock);
	list_splice_init(&pool->recycled, &list);
	pool->nrecycled = 0;
	pool->recycled_bytes = 0;
	mutex_unlock(&pool->lock);
	list_for_each_entry_safe(r, next, &list, link) {
		/* Of an earlier session: the daemon has let go of it already. */
		bool current_session = r->session == atomic_read(&vmbuf_dev_session);

		if (current_session && later)
			vmbuf_call_let_go_later(false, r->id);
		else if (current_session)
			vmbuf_call_let_go(false, r->id);
		kfree(r);
		n++;
	}
	return n;
}

static void vmbuf_recycle_work(struct work_struct *work)
{
	struct vmbuf_pool *pool = container_of(to_delayed_work(work), struct vmbuf_pool,
					       recycle_flush);

	/* From a worker: never wait here for a device that may be going. */
	vmbuf_recycle_drop(pool, true);
	vmbuf_pool_put(pool);
}

void vmbuf_recycle_init(struct vmbuf_pool *pool)
{
	INIT_LIST_HEAD(&pool->recycled);
	INIT_DELAYED_WORK(&pool->recycle_flush, vmbuf_recycle_work);
}

void vmbuf_recycle_stop(struct vmbuf_pool *pool)
{
	/* The pool is dead: nothing is kept any more, and no flush queued anew. */
	if (cancel_delayed_work_sync(&pool->recycle_flush))
		vmbuf_pool_put(pool);
	vmbuf_recycle_drop(pool, true);
}

static void vmbuf_release(struct dma_buf *dmabuf)
{
	struct vmbuf_buffer *buf = dmabuf->priv;
	struct vmbuf_pool *pool = buf->pool;
	int ret = 0;

	vmbuf_fast_unset(buf);
	if (!vmbuf_recycle_keep(pool, buf))
		ret = vmbuf_call_let_go(buf->imported, buf->id);
	if (ret)
		dev_warn(pool->dev, "pool '%s': %s of %llu failed: %d\n", pool->name,
			 buf->imported ? "RELEASE" : "FREE", buf->id, ret);

	mutex_lock(&pool->lock);
	list_del(&buf->link);
	pool->used -= buf->size;
	pool->nbuffers--;
	mutex_unlock(&pool->lock);
	mutex_destroy(&buf->lock);
	kfree(buf);
	vmbuf_pool_put(pool);
}

static const struct dma_buf_ops vmbuf_dma_buf_ops = {
	.attach = vmbuf_attach,
	.detach = vmbuf_detach,
	.map_dma_buf = vmbuf_map_dma_buf,
	.unmap_dma_buf = vmbuf_unmap_dma_buf,
	.begin_cpu_access = vmbuf_begin_cpu_access,
	.end_cpu_access = vmbuf_end_cpu_access,
	.mmap = vmbuf_mmap,
	.vmap = vmbuf_vmap,
	.vunmap = vmbuf_vunmap,
	.release = vmbuf_release,
};

struct vmbuf_buffer *vmbuf_buffer_of(struct dma_buf *dmabuf)
{
	return dmabuf->ops == &vmbuf_dma_buf_ops ? dmabuf->priv : NULL;
}

/* Check a range from the daemon and wrap it; on failure the caller lets go of it. */
static struct dma_buf *vmbuf_buffer_wrap(struct vmbuf_pool *pool, bool imported, u64 id,
					 u64 off, u64 size, u32 fd_flags, int session,
					 struct vmbuf_buffer **out)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct vmbuf_buffer *buf;
	struct dma_buf *dmabuf;

	if (READ_ONCE(pool->dead))
		return ERR_PTR(-ENODEV);
	/* Trust but verify: the range must be inside the pool's data area. */
	if (!size || off < pool->data_offset || off > pool->size || size > pool->size - off ||
	    !PAGE_ALIGNED(off) || !PAGE_ALIGNED(size)) {
		dev_err(pool->dev, "daemon returned a bad range %llu+%llu\n", off, size);
		return ERR_PTR(-EPROTO);
	}
	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->pool = pool;
	buf->imported = imported;
	buf->id = id;
	buf->offset = off;
	buf->size = size;
	buf->session = session;
	buf->pid = task_tgid_nr(current);
	get_task_comm(buf->comm, current);
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->attachments);

	exp_info.exp_name = pool->heap_name;
	exp_info.ops = &vmbuf_dma_buf_ops;
	exp_info.size = size;
	exp_info.flags = fd_flags;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		mutex_destroy(&buf->lock);
		kfree(buf);
		return dmabuf;
	}
	buf->dmabuf = dmabuf;
	vmbuf_pool_get(pool);
	mutex_lock(&pool->lock);
	list_add_tail(&buf->link, &pool->buffers);
	pool->used += size;
	pool->nbuffers++;
	mutex_unlock(&pool->lock);
	if (out)
		*out = buf;
	return dmabuf;
}

struct dma_buf *vmbuf_buffer_alloc(struct vmbuf_pool *pool, u64 len, u32 fd_flags)
{
	struct virtio_vmbuf_alloc req = {
		.hdr.type = cpu_to_le32(VIRTIO_VMBUF_REQ_ALLOC),
		.pool_id = cpu_to_le32(pool->pool_id),
		.size = cpu_to_le64(len),
	};
	struct virtio_vmbuf_alloc_resp resp;
	struct vmbuf_recycled *r;
	struct dma_buf *dmabuf;
	int ret, session;
	u64 id;

	r = vmbuf_recycle_take(pool, PAGE_ALIGN(len));
	if (r) {
		/* Zero on allocation, as the daemon would have: it was somebody's. */
		vmbuf_zero(pool->vaddr + r->offset, r->size);
		dmabuf = vmbuf_buffer_wrap(pool, false, r->id, r->offset, r->size, fd_flags,
					   r->session, NULL);
		if (IS_ERR(dmabuf))
			vmbuf_call_let_go(false, r->id);
		kfree(r);
		return dmabuf;
	}
	/* Removal waits for requests in flight: an answer is of this session. */
	session = atomic_read(&vmbuf_dev_session);
	ret = vmbuf_call(&req, sizeof(req), &resp, sizeof(resp));
	/* Out of room: what this VM keeps for reuse may be what is missing. */
	if ((ret == -EDQUOT || ret == -ENOSPC || ret == -ENOMEM) && vmbuf_recycle_drop(pool, false))
		ret = vmbuf_call(&req, sizeof(req), &resp, sizeof(resp));
	if (ret)
		return ERR_PTR(ret);
	id = le64_to_cpu(resp.buffer_id);
	if (le64_to_cpu(resp.size) < len) {
		dmabuf = ERR_PTR(-EPROTO);
	} else {
		dmabuf = vmbuf_buffer_wrap(pool, false, id, le64_to_cpu(resp.offset),
					   le64_to_cpu(resp.size), fd_flags, session, NULL);
	}
	if (IS_ERR(dmabuf))
		vmbuf_call_let_go(false, id);
	return dmabuf;
}

struct dma_buf *vmbuf_buffer_import(struct vmbuf_pool *pool, u64 import_id, u64 offset,
				    u64 size, u32 fd_flags, struct vmbuf_buffer **out)
{
	struct dma_buf *dmabuf;

	dmabuf = vmbuf_buffer_wrap(pool, true, import_id, offset, size, fd_flags,
				   atomic_read(&vmbuf_dev_session), out);
	if (IS_ERR(dmabuf))
		vmbuf_call_let_go(true, import_id);
	return dmabuf;
}
