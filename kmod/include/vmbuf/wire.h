/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * vmbuf/wire.h - what ties the device protocol (linux/virtio_vmbuf.h), the
 * ivshmem layout (linux/vmbuf_ivshmem.h) and the guest UAPI (linux/vmbuf.h)
 * together, for the kernel module and userspace alike:
 *
 * - the size of every struct that crosses a boundary, asserted once;
 * - every constant the UAPI repeats from the protocol, asserted equal;
 * - the conversions between the little-endian wire structs and the UAPI's
 *   native ones (metadata, events), written once.
 *
 * Not a UAPI header: it is included by vmbuf.ko, libvmbuf and the tools.
 */
#ifndef VMBUF_WIRE_H
#define VMBUF_WIRE_H

#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/string.h>
#define vmbuf_le32(x)	le32_to_cpu(x)
#define vmbuf_le64(x)	le64_to_cpu(x)
#define vmbuf_cpu32(x)	cpu_to_le32(x)
#define vmbuf_cpu64(x)	cpu_to_le64(x)
#else
#include <endian.h>
#include <string.h>
#define vmbuf_le32(x)	le32toh(x)
#define vmbuf_le64(x)	le64toh(x)
#define vmbuf_cpu32(x)	htole32(x)
#define vmbuf_cpu64(x)	htole64(x)
#endif

#include <linux/virtio_vmbuf.h>
#include <linux/vmbuf.h>
#include <linux/vmbuf_ivshmem.h>

/* Device protocol and ivshmem layout. */
_Static_assert(sizeof(struct vmbuf_ivshmem_region) == 96, "region header");
_Static_assert(sizeof(struct vmbuf_ivshmem_queue_cfg) == 32, "queue cfg");
_Static_assert(sizeof(struct vmbuf_ivshmem_ctl_cfg) == 88, "ctl cfg");
_Static_assert(sizeof(struct virtio_vmbuf_config) == 16, "config");
_Static_assert(sizeof(struct virtio_vmbuf_hdr) == 16, "hdr");
_Static_assert(sizeof(struct virtio_vmbuf_resp) == 16, "resp");
_Static_assert(sizeof(struct virtio_vmbuf_hello) == 32, "hello");
_Static_assert(sizeof(struct virtio_vmbuf_pool_info) == 56, "pool info");
_Static_assert(__builtin_offsetof(struct virtio_vmbuf_pool_info, locator) == 8, "locator");
_Static_assert(sizeof(struct virtio_vmbuf_hello_resp) == 80 + 16 * 56, "hello resp");
_Static_assert(sizeof(struct virtio_vmbuf_hello_resp) <= VIRTIO_VMBUF_MSG_MAX, "msg max");
_Static_assert(sizeof(struct virtio_vmbuf_alloc) == 32, "alloc");
_Static_assert(sizeof(struct virtio_vmbuf_alloc_resp) == 40, "alloc resp");
_Static_assert(sizeof(struct virtio_vmbuf_free) == 24, "free");
_Static_assert(sizeof(struct virtio_vmbuf_meta) == 256, "meta");
_Static_assert(sizeof(struct virtio_vmbuf_export) == 576, "export");
_Static_assert(sizeof(struct virtio_vmbuf_export) <= VIRTIO_VMBUF_MSG_MAX, "export fits");
_Static_assert(sizeof(struct virtio_vmbuf_export_resp) == 40, "export resp");
_Static_assert(sizeof(struct virtio_vmbuf_fast_slot) == 48, "fast slot");
_Static_assert(sizeof(struct vmbuf_ivshmem_region) <= VIRTIO_VMBUF_FAST_OFFSET,
	       "fast slots after the region header");
_Static_assert(VIRTIO_VMBUF_FAST_OFFSET + VIRTIO_VMBUF_FAST_SLOTS *
	       sizeof(struct virtio_vmbuf_fast_slot) <= VIRTIO_VMBUF_POOL_DATA_OFFSET,
	       "fast slots before the data");
_Static_assert(sizeof(struct virtio_vmbuf_import) == 72, "import");
_Static_assert(sizeof(struct virtio_vmbuf_import_resp) == 384, "import resp");
_Static_assert(sizeof(struct virtio_vmbuf_release) == 24, "release");
_Static_assert(sizeof(struct virtio_vmbuf_revoke) == 32, "revoke");
_Static_assert(sizeof(struct virtio_vmbuf_event) == 128, "event");
_Static_assert(sizeof(struct virtio_vmbuf_signal) == 48, "signal");
_Static_assert(sizeof(struct virtio_vmbuf_watch) == 40, "watch");
_Static_assert(sizeof(struct virtio_vmbuf_query) == 32, "query");
_Static_assert(sizeof(struct virtio_vmbuf_timeline_resp) == 32, "timeline resp");
_Static_assert(__builtin_offsetof(struct vmbuf_ivshmem_region, name) == 32, "name");
_Static_assert(__builtin_offsetof(struct vmbuf_ivshmem_ctl_cfg, device_state) == 72, "state");
_Static_assert(VMBUF_IVSHMEM_CTL_CFG_OFFSET + sizeof(struct vmbuf_ivshmem_ctl_cfg) <=
	       VMBUF_IVSHMEM_CTL_DATA_OFFSET, "ctl cfg fits below data");

/* Guest UAPI. */
_Static_assert(sizeof(struct vmbuf_pool_desc) == 64, "vmbuf_pool_desc");
_Static_assert(sizeof(struct vmbuf_info) == 48 + 16 * 64, "vmbuf_info");
_Static_assert(sizeof(struct vmbuf_meta) == 256, "vmbuf_meta");
_Static_assert(sizeof(struct vmbuf_export) == 576, "vmbuf_export");
_Static_assert(sizeof(struct vmbuf_import) == 360, "vmbuf_import");
_Static_assert(sizeof(struct vmbuf_revoke) == 16, "vmbuf_revoke");
_Static_assert(sizeof(struct vmbuf_query) == 360, "vmbuf_query");
_Static_assert(sizeof(struct vmbuf_event) == 128, "vmbuf_event");
_Static_assert(sizeof(struct vmbuf_fence) == 32, "vmbuf_fence");
_Static_assert(sizeof(struct vmbuf_signal) == 32, "vmbuf_signal");
_Static_assert(sizeof(struct vmbuf_wait) == 40, "vmbuf_wait");
_Static_assert(sizeof(struct vmbuf_attach) == 16, "vmbuf_attach");
_Static_assert(sizeof(struct vmbuf_doorbell) == 24, "vmbuf_doorbell");

/* What the UAPI repeats from the protocol. */
_Static_assert(VMBUF_NAME_MAX == VIRTIO_VMBUF_NAME_MAX, "name size");
_Static_assert(VMBUF_HANDLE_SIZE == VIRTIO_VMBUF_HANDLE_SIZE, "handle size");
_Static_assert(VMBUF_MAX_POOLS == VIRTIO_VMBUF_MAX_POOLS, "pools");
_Static_assert(VMBUF_MAX_ACCESS == VIRTIO_VMBUF_MAX_ACCESS, "access list");
_Static_assert(VMBUF_EXPORT_POOL == VIRTIO_VMBUF_EXPORT_POOL, "export_pool");
_Static_assert(VMBUF_EXPORT_HOST == VIRTIO_VMBUF_EXPORT_HOST, "export_host");
_Static_assert(VMBUF_EXPORT_SIGNAL == VIRTIO_VMBUF_EXPORT_SIGNAL, "export_signal");
_Static_assert(VMBUF_EXPORT_FAST == VIRTIO_VMBUF_EXPORT_FAST, "export_fast");
_Static_assert(VMBUF_IMPORT_BY_NAME == VIRTIO_VMBUF_IMPORT_BY_NAME, "import_by_name");
_Static_assert(VMBUF_EVENT_OFFERED == VIRTIO_VMBUF_EVT_OFFERED, "event_offered");
_Static_assert(VMBUF_EVENT_REVOKED == VIRTIO_VMBUF_EVT_REVOKED, "event_revoked");
_Static_assert(VMBUF_EVENT_PEER_GONE == VIRTIO_VMBUF_EVT_PEER_GONE, "event_peer_gone");
_Static_assert(VMBUF_EVENT_TIMELINE == VIRTIO_VMBUF_EVT_TIMELINE_REACHED, "event_timeline");
_Static_assert(VMBUF_EVENT_LOST == VIRTIO_VMBUF_EVT_F_LOST, "event_lost");
_Static_assert(sizeof(struct vmbuf_meta) == sizeof(struct virtio_vmbuf_meta), "meta");

/* Wire metadata to the UAPI's (reserved bytes are not carried). */
static inline void vmbuf_meta_from_wire(struct vmbuf_meta *m, const struct virtio_vmbuf_meta *w)
{
	unsigned int i;

	memset(m, 0, sizeof(*m));
	m->width = vmbuf_le32(w->width);
	m->height = vmbuf_le32(w->height);
	m->fourcc = vmbuf_le32(w->fourcc);
	m->nplanes = vmbuf_le32(w->nplanes);
	m->modifier = vmbuf_le64(w->modifier);
	for (i = 0; i < 4; i++) {
		m->offsets[i] = vmbuf_le32(w->offsets[i]);
		m->strides[i] = vmbuf_le32(w->strides[i]);
	}
	memcpy(m->label, w->label, sizeof(m->label));
	m->label[sizeof(m->label) - 1] = '\0';
}

static inline void vmbuf_meta_to_wire(struct virtio_vmbuf_meta *w, const struct vmbuf_meta *m)
{
	unsigned int i;

	memset(w, 0, sizeof(*w));
	w->width = vmbuf_cpu32(m->width);
	w->height = vmbuf_cpu32(m->height);
	w->fourcc = vmbuf_cpu32(m->fourcc);
	w->nplanes = vmbuf_cpu32(m->nplanes);
	w->modifier = vmbuf_cpu64(m->modifier);
	for (i = 0; i < 4; i++) {
		w->offsets[i] = vmbuf_cpu32(m->offsets[i]);
		w->strides[i] = vmbuf_cpu32(m->strides[i]);
	}
	memcpy(w->label, m->label, sizeof(w->label));
	w->label[sizeof(w->label) - 1] = '\0';
}

/* A device event as a UAPI record; names come out NUL-terminated. */
static inline void vmbuf_event_from_wire(struct vmbuf_event *e, const struct virtio_vmbuf_event *w)
{
	memset(e, 0, sizeof(*e));
	e->type = vmbuf_le32(w->type);
	e->flags = vmbuf_le32(w->flags) & VMBUF_EVENT_LOST;
	memcpy(e->handle, w->handle, sizeof(e->handle));
	e->pool_id = vmbuf_le32(w->pool_id);
	e->error = (__s32)vmbuf_le32(w->error);
	e->value = vmbuf_le64(w->value);
	e->id = vmbuf_le64(w->id);
	memcpy(e->name, w->name, sizeof(e->name) - 1);
	memcpy(e->vm, w->vm, sizeof(e->vm) - 1);
}

#endif /* VMBUF_WIRE_H */
