/*
 * buffer - libvmbuf's buffers: imports of guest exports, allocations of the
 * host's own, their export, and the ways to reach their bytes (the pool's
 * memfd, a mapping, a udmabuf dma-buf).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libvmbuf-internal.h"
#include "udmabuf.h"
#include "util.h"
#include <vmbuf/wire.h>

/* A buffer for the range [@offset, +@size) of pool @pool_id that the daemon gave as @id. */
static struct vmbuf_buffer *buffer_new(struct vmbuf_client *c, bool imported, uint64_t id,
				       uint32_t pool_id, uint64_t offset, uint64_t size)
{
	struct vmbuf_buffer *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->c = c;
	b->dmabuf = -1;
	b->imported = imported;
	b->id = id;
	b->pool_id = pool_id;
	b->offset = offset;
	b->size = size;
	return b;
}

struct vmbuf_buffer *vmbuf_buffer_import(struct vmbuf_client *c, const char *name,
					 const uint8_t *handle)
{
	struct virtio_vmbuf_import req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_IMPORT) };
	struct virtio_vmbuf_import_resp resp;
	struct vmbuf_buffer *b;
	int r = client_hello(c);

	if (r < 0)
		return lib_fail(r), NULL;
	if (name) {
		req.flags = htole32(VIRTIO_VMBUF_IMPORT_BY_NAME);
		if (str_to_field(req.name, sizeof(req.name), name) < 0)
			return lib_fail(-EINVAL), NULL;
	} else if (handle) {
		memcpy(req.handle, handle, sizeof(req.handle));
	} else {
		return lib_fail(-EINVAL), NULL;
	}
	r = client_vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	if (r < 0)
		return lib_fail(r), NULL;
	b = buffer_new(c, true, le64toh(resp.import_id), le32toh(resp.pool_id),
		       le64toh(resp.offset), le64toh(resp.size));
	if (!b)
		return NULL;
	memcpy(b->handle, resp.handle, sizeof(b->handle));
	field_to_str(b->owner, resp.owner, VIRTIO_VMBUF_NAME_MAX);
	vmbuf_meta_from_wire(&b->meta, &resp.meta);
	return b;
}

struct vmbuf_buffer *vmbuf_buffer_alloc(struct vmbuf_client *c, const char *pool, uint64_t size)
{
	struct virtio_vmbuf_alloc req = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC),
					  .size = htole64(size) };
	struct virtio_vmbuf_alloc_resp resp;
	struct vmbuf_buffer *b;
	struct pool_ref *p;
	int r = client_hello(c);

	if (r < 0)
		return lib_fail(r), NULL;
	p = client_pool_by_name(c, pool);
	if (!p)
		return lib_fail(-ENOENT), NULL;
	req.pool_id = htole32(p->id);
	r = client_vm_call(c, &req, sizeof(req), &resp, sizeof(resp));
	if (r < 0)
		return lib_fail(r), NULL;
	b = buffer_new(c, false, le64toh(resp.buffer_id), p->id, le64toh(resp.offset),
		       le64toh(resp.size));
	if (!b)
		return NULL;
	snprintf(b->owner, sizeof(b->owner), "host");
	return b;
}

int vmbuf_buffer_export(struct vmbuf_buffer *b, const char *name, unsigned int flags,
			const char *const *vms, unsigned int nvms, const struct vmbuf_meta *meta,
			uint8_t *handle)
{
	_cleanup_free_ struct virtio_vmbuf_export *req = calloc(1, sizeof(*req));
	struct virtio_vmbuf_export_resp resp;
	int r;

	if (!req)
		return -1;
	if (b->imported || nvms > VIRTIO_VMBUF_MAX_ACCESS)
		return lib_fail(b->imported ? -EPERM : -EINVAL);
	req->hdr.type = htole32(VIRTIO_VMBUF_REQ_EXPORT);
	req->buffer_id = htole64(b->id);
	req->flags = htole32(flags);
	req->naccess = htole32(nvms);
	if (name && str_to_field(req->name, sizeof(req->name), name) < 0)
		return lib_fail(-EINVAL);
	for (unsigned int i = 0; i < nvms; i++)
		if (str_to_field(req->access[i], sizeof(req->access[i]), vms[i]) < 0)
			return lib_fail(-EINVAL);
	if (meta) {
		vmbuf_meta_to_wire(&req->meta, meta);
		b->meta = *meta;
	}
	r = client_vm_call(b->c, req, sizeof(*req), &resp, sizeof(resp));
	if (r < 0)
		return lib_fail(r);
	b->exported = true;
	memcpy(b->handle, resp.handle, sizeof(b->handle));
	if (handle)
		memcpy(handle, resp.handle, sizeof(resp.handle));
	return 0;
}

int vmbuf_buffer_memfd(struct vmbuf_buffer *b, uint64_t *offset)
{
	struct pool_ref *p = client_pool_by_id(b->c, b->pool_id);
	int fd;

	if (!p)
		return lib_fail(-ENXIO);
	fd = client_pool_memfd(b->c, p);
	if (fd < 0)
		return lib_fail(fd);
	if (offset)
		*offset = b->offset;
	return fd;
}

void *vmbuf_buffer_map(struct vmbuf_buffer *b)
{
	int fd;

	if (b->map)
		return b->map;
	fd = vmbuf_buffer_memfd(b, NULL);
	if (fd < 0)
		return NULL;
	b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b->offset);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return NULL;
	}
	return b->map;
}

int vmbuf_buffer_dmabuf(struct vmbuf_buffer *b)
{
	int fd;

	if (b->dmabuf >= 0)
		return b->dmabuf;
	fd = vmbuf_buffer_memfd(b, NULL);
	if (fd < 0)
		return -1;
	fd = udmabuf_create(fd, b->offset, b->size);
	if (fd < 0)
		return lib_fail(fd);
	b->dmabuf = fd;
	return fd;
}

uint64_t vmbuf_buffer_size(const struct vmbuf_buffer *b)
{
	return b->size;
}

const struct vmbuf_meta *vmbuf_buffer_meta(const struct vmbuf_buffer *b)
{
	return &b->meta;
}

const uint8_t *vmbuf_buffer_handle(const struct vmbuf_buffer *b)
{
	return b->imported || b->exported ? b->handle : NULL;
}

const char *vmbuf_buffer_owner(const struct vmbuf_buffer *b)
{
	return b->owner;
}

void vmbuf_buffer_release(struct vmbuf_buffer *b)
{
	union {
		struct virtio_vmbuf_release rel;
		struct virtio_vmbuf_free fr;
	} req;
	struct virtio_vmbuf_resp resp;

	if (!b)
		return;
	if (b->map)
		munmap(b->map, b->size);
	closep(&b->dmabuf);
	memset(&req, 0, sizeof(req));
	req.rel.hdr.type = htole32(b->imported ? VIRTIO_VMBUF_REQ_RELEASE : VIRTIO_VMBUF_REQ_FREE);
	req.rel.import_id = htole64(b->id);
	client_vm_call(b->c, &req, sizeof(req), &resp, sizeof(resp));
	free(b);
}

