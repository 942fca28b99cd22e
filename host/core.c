/*
 * core - VMs, pools and buffers, and one handler per request type.
 *
 * Every request is a byte string from a guest. Handlers check the length
 * for their type, every field, the VM's rights and its limits before they
 * change anything; a failed request changes nothing. Buffer ids are looked
 * up only among the requesting VM's own buffers, so another VM's id reads
 * as ENOENT. Sharing (export, import, events) lives in share.c.
 */
#include "core-internal.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "list.h"
#include "log.h"
#include "util.h"
#include "../kmod/include/uapi/linux/virtio_vmbuf.h"

int core_new(struct core **out, const struct config *cfg)
{
	struct core *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->cfg = cfg;
	c->next_buffer_id = 1;
	c->next_import_id = 1;
	list_init(&c->buffers);
	list_init(&c->exports);
	for (unsigned int i = 0; i < cfg->npools; i++) {
		r = pool_create(&c->pools[i], i + 1, cfg->pools[i].name, cfg->pools[i].size);
		if (r < 0) {
			log_err("pool '%s': cannot create %llu-byte memfd: %s", cfg->pools[i].name,
				(unsigned long long)cfg->pools[i].size, strerror(-r));
			core_free(c);
			return r;
		}
		c->pools[i].reclaim = cfg->pools[i].reclaim;
		c->npools++;
	}
	snprintf(c->host_cfg.name, sizeof(c->host_cfg.name), "host");
	c->host_cfg.max_buffers = 4096;
	c->host_cfg.max_waiters = 1024;
	for (unsigned int i = 0; i < CORE_HOST_SLOTS; i++) {
		struct core_vm *h = &c->hosts[i];

		h->core = c;
		h->cfg = &c->host_cfg;
		h->slot = CONFIG_MAX_VMS + 1 + i;
		h->is_host = true;
		list_init(&h->buffers);
		list_init(&h->imports);
		for (unsigned int p = 0; p < cfg->npools && p < CONFIG_POOLS_PER_VM; p++)
			h->pools[h->npools++] = &c->pools[p];
	}
	for (unsigned int i = 0; i < cfg->nvms; i++) {
		struct core_vm *vm = &c->vms[i];

		vm->core = c;
		vm->cfg = &cfg->vms[i];
		vm->slot = i + 1;
		list_init(&vm->buffers);
		list_init(&vm->imports);
		for (unsigned int p = 0; p < cfg->npools; p++)
			if (cfg->pools[p].member[i])
				vm->pools[vm->npools++] = &c->pools[p];
		c->nvms++;
	}
	*out = c;
	return 0;
}

void core_set_event_sink(struct core *c, core_event_fn fn, void *opaque)
{
	c->event_fn = fn;
	c->event_opaque = opaque;
}

void core_send_event(struct core_vm *vm, const struct virtio_vmbuf_event *ev)
{
	if (vm->connected && vm->core->event_fn)
		vm->core->event_fn(vm->core->event_opaque, vm, ev);
}

void core_free(struct core *c)
{
	if (!c)
		return;
	c->event_fn = NULL;
	for (unsigned int i = 0; i < c->nvms; i++)
		core_vm_reset(&c->vms[i]);
	for (unsigned int i = 0; i < CORE_HOST_SLOTS; i++)
		core_vm_reset(&c->hosts[i]);
	for (unsigned int i = 0; i < c->npools; i++)
		pool_destroy(&c->pools[i]);
	free(c);
}

unsigned int core_vm_count(const struct core *c)
{
	return c->nvms;
}

struct core_vm *core_vm_at(struct core *c, unsigned int i)
{
	return i < c->nvms ? &c->vms[i] : NULL;
}

struct core_vm *core_vm_by_name(struct core *c, const char *name)
{
	int i = config_find_vm(c->cfg, name);

	return i < 0 ? NULL : &c->vms[i];
}

const char *core_vm_name(const struct core_vm *vm)
{
	return vm->cfg->name;
}

unsigned int core_pool_count(const struct core *c)
{
	return c->npools;
}

struct pool *core_pool_at(struct core *c, unsigned int i)
{
	return i < c->npools ? &c->pools[i] : NULL;
}

struct pool *core_pool_by_name(struct core *c, const char *name)
{
	int i = config_find_pool(c->cfg, name);

	return i < 0 ? NULL : &c->pools[i];
}

unsigned int core_vm_slot(const struct core_vm *vm)
{
	return vm->slot;
}

struct core_vm *core_vm_next(struct core *c, unsigned int *i)
{
	while (*i < c->nvms + CORE_HOST_SLOTS) {
		unsigned int k = (*i)++;

		if (k < c->nvms)
			return &c->vms[k];
		if (c->hosts[k - c->nvms].attached)
			return &c->hosts[k - c->nvms];
	}
	return NULL;
}

struct core_vm *core_host_attach(struct core *c)
{
	for (unsigned int i = 0; i < CORE_HOST_SLOTS; i++) {
		struct core_vm *h = &c->hosts[i];

		if (h->attached)
			continue;
		h->attached = true;
		h->user = NULL;
		core_vm_connect(h);
		return h;
	}
	return NULL;
}

void core_host_detach(struct core_vm *vm)
{
	if (!vm || !vm->is_host)
		return;
	core_vm_disconnect(vm);
	vm->attached = false;
	vm->user = NULL;
}

bool core_vm_is_host(const struct core_vm *vm)
{
	return vm->is_host;
}

void core_vm_set_user(struct core_vm *vm, void *user)
{
	vm->user = user;
}

void *core_vm_user(const struct core_vm *vm)
{
	return vm->user;
}

bool core_vm_in_pool(const struct core_vm *vm, const struct pool *p)
{
	if (vm->is_host)
		return true;
	for (unsigned int i = 0; i < vm->npools; i++)
		if (vm->pools[i] == p)
			return true;
	return false;
}

bool core_pool_has_member(const struct core *c, const struct pool *p, const struct core_vm *vm)
{
	if (vm->is_host)
		return true;
	return c->cfg->pools[p->id - 1].member[vm->slot - 1];
}

uint16_t core_pool_position(const struct pool *p, const struct core_vm *vm)
{
	return (uint16_t)(p->id << 8 | vm->slot);
}

int core_vm_connect(struct core_vm *vm)
{
	if (vm->connected)
		return -EBUSY;
	vm->connected = true;
	vm->hello = false;
	return 0;
}

void core_vm_reset(struct core_vm *vm)
{
	struct buffer *b, *tmp;
	unsigned int n = vm->nbuffers, m = vm->nimports;
	bool was = vm->hello;

	list_for_each_safe(b, tmp, &vm->buffers, owner_link)
		share_buffer_disown(vm, b, -ENODEV);
	share_vm_gone(vm);
	if (n || m)
		log_info("vm '%s': released %u buffer(s) and %u import(s)", vm->cfg->name, n, m);
	else if (was)
		log_debug("vm '%s': reset with nothing held", vm->cfg->name);
	vm->hello = false;
}

void core_vm_disconnect(struct core_vm *vm)
{
	core_vm_reset(vm);
	vm->connected = false;
}

static struct pool *vm_pool(struct core_vm *vm, uint32_t pool_id)
{
	for (unsigned int i = 0; i < vm->npools; i++)
		if (vm->pools[i]->id == pool_id)
			return vm->pools[i];
	return NULL;
}

static struct buffer *vm_buffer(struct core_vm *vm, uint64_t id)
{
	struct buffer *b;

	list_for_each(b, &vm->buffers, owner_link)
		if (b->id == id)
			return b;
	return NULL;
}

/* Each handler returns the response length or a negative errno (header only). */

static ssize_t handle_hello(struct core_vm *vm, const void *req, size_t len, void *out)
{
	const struct virtio_vmbuf_hello *h = req;
	struct virtio_vmbuf_hello_resp *r = out;

	if (len < sizeof(*h))
		return -EBADMSG;
	r->version = htole32(VIRTIO_VMBUF_VERSION);
	if (le32toh(h->version) != VIRTIO_VMBUF_VERSION)
		return -EPROTONOSUPPORT;
	r->features = htole64(VIRTIO_VMBUF_F_NONE);
	r->quota_bytes = htole64(vm->cfg->quota);
	r->fence_timeout_ms = htole32(vm->cfg->fence_timeout_ms &&
				      vm->cfg->fence_timeout_ms < vm->core->cfg->fence_timeout_ms ?
				      vm->cfg->fence_timeout_ms : vm->core->cfg->fence_timeout_ms);
	str_to_field(r->vm_name, sizeof(r->vm_name), vm->cfg->name);
	r->npools = htole32(vm->npools);
	for (unsigned int i = 0; i < vm->npools; i++) {
		struct virtio_vmbuf_pool_info *pi = &r->pools[i];
		const struct pool *p = vm->pools[i];

		pi->pool_id = htole32(p->id);
		pi->position = htole16(core_pool_position(p, vm));
		pi->size = htole64(p->size);
		pi->data_offset = htole64(p->alloc.base);
		str_to_field(pi->name, sizeof(pi->name), p->name);
	}
	vm->hello = true;
	log_info("vm '%s': hello, %u pool(s)", vm->cfg->name, vm->npools);
	return sizeof(*r);
}

static ssize_t handle_alloc(struct core_vm *vm, const void *req, size_t len, void *out)
{
	const struct virtio_vmbuf_alloc *a = req;
	struct virtio_vmbuf_alloc_resp *r = out;
	uint64_t size, off, got;
	struct buffer *b;
	struct pool *p;
	int err;

	if (len < sizeof(*a))
		return -EBADMSG;
	size = le64toh(a->size);
	if (a->flags || size == 0)
		return -EINVAL;
	p = vm_pool(vm, le32toh(a->pool_id));
	if (!p)
		return -ENOENT;
	if (vm->nbuffers >= vm->cfg->max_buffers)
		return -ENOSPC;
	if (vm->cfg->quota && (size > vm->cfg->quota || vm->used > vm->cfg->quota - size))
		return -EDQUOT;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	err = pool_alloc(p, size, &off, &got);
	if (err < 0) {
		free(b);
		return err;
	}
	if (vm->cfg->quota && vm->used + got > vm->cfg->quota) {
		/* Page rounding took it over the quota. */
		pool_release(p, off, got);
		free(b);
		return -EDQUOT;
	}
	b->id = vm->core->next_buffer_id++;
	b->pool = p;
	b->off = off;
	b->size = got;
	b->owner = vm;
	b->refs = 1;
	list_add_tail(&vm->core->buffers, &b->link);
	list_add_tail(&vm->buffers, &b->owner_link);
	vm->used += got;
	vm->nbuffers++;
	r->buffer_id = htole64(b->id);
	r->offset = htole64(off);
	r->size = htole64(got);
	log_debug("vm '%s': alloc buffer %llu in '%s' at %llu, %llu bytes", vm->cfg->name,
		  (unsigned long long)b->id, p->name, (unsigned long long)off,
		  (unsigned long long)got);
	return sizeof(*r);
}

static ssize_t handle_free(struct core_vm *vm, const void *req, size_t len, void *out)
{
	const struct virtio_vmbuf_free *f = req;
	struct buffer *b;

	(void)out;
	if (len < sizeof(*f))
		return -EBADMSG;
	b = vm_buffer(vm, le64toh(f->buffer_id));
	if (!b)
		return -ENOENT;
	log_debug("vm '%s': free buffer %llu", vm->cfg->name, (unsigned long long)b->id);
	share_buffer_disown(vm, b, -ECANCELED);
	return sizeof(struct virtio_vmbuf_resp);
}

size_t core_vm_request(struct core_vm *vm, const void *req, size_t len, void *resp, size_t cap)
{
	/* Aligned private copies: the handlers cast, the caller's bytes may be anywhere. */
	union {
		struct virtio_vmbuf_hdr h;
		uint64_t align;
		uint8_t b[VIRTIO_VMBUF_MSG_MAX];
	} in = { 0 }, out = { 0 };
	struct virtio_vmbuf_resp *r = (void *)out.b;
	size_t rlen;
	uint32_t type;
	ssize_t n;

	memcpy(in.b, req, len < sizeof(in.b) ? len : sizeof(in.b));
	type = le32toh(in.h.type);
	r->type = in.h.type;
	r->id = in.h.id;

	if (len > sizeof(in.b))
		n = -EMSGSIZE;
	else if (len < sizeof(in.h) || in.h.flags)
		n = -EBADMSG;
	else if (type != VIRTIO_VMBUF_REQ_HELLO && !vm->hello)
		n = -EPROTO;
	else
		switch (type) {
		case VIRTIO_VMBUF_REQ_HELLO:
			n = handle_hello(vm, in.b, len, out.b);
			break;
		case VIRTIO_VMBUF_REQ_ALLOC:
			n = handle_alloc(vm, in.b, len, out.b);
			break;
		case VIRTIO_VMBUF_REQ_FREE:
			n = handle_free(vm, in.b, len, out.b);
			break;
		case VIRTIO_VMBUF_REQ_EXPORT:
			n = share_export(vm, in.b, len, out.b);
			break;
		case VIRTIO_VMBUF_REQ_IMPORT:
			n = share_import(vm, in.b, len, out.b);
			break;
		case VIRTIO_VMBUF_REQ_RELEASE:
			n = share_release(vm, in.b, len, out.b);
			break;
		case VIRTIO_VMBUF_REQ_REVOKE:
			n = share_revoke(vm, in.b, len, out.b);
			break;
		case VIRTIO_VMBUF_REQ_SIGNAL:
			n = timeline_signal(vm, in.b, len, out.b);
			break;
		case VIRTIO_VMBUF_REQ_WATCH:
			n = timeline_watch(vm, in.b, len, out.b);
			break;
		default:
			n = -EOPNOTSUPP;
			break;
		}
	if (n < 0) {
		r->status = htole32((uint32_t)(int32_t)n);
		rlen = type == VIRTIO_VMBUF_REQ_HELLO && n == -EPROTONOSUPPORT ?
			       sizeof(struct virtio_vmbuf_hello_resp) : sizeof(*r);
	} else {
		r->status = 0;
		rlen = (size_t)n;
	}
	if (rlen > cap)
		rlen = cap;
	memcpy(resp, out.b, rlen);
	return rlen;
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

int core_status_json(struct core *c, FILE *out)
{
	fputs("{\"pools\":[", out);
	for (unsigned int i = 0; i < c->npools; i++) {
		struct pool *p = &c->pools[i];
		bool first = true;
		struct buffer *b;

		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, p->name);
		fprintf(out, ",\"id\":%u,\"size\":%llu,\"used\":%llu,\"largest_free\":%llu,\"buffers\":[",
			p->id, (unsigned long long)p->size, (unsigned long long)p->alloc.used,
			(unsigned long long)alloc_largest(&p->alloc));
		list_for_each(b, &c->buffers, link) {
			if (b->pool != p)
				continue;
			fprintf(out, "%s{\"id\":%llu,\"owner\":", first ? "" : ",",
				(unsigned long long)b->id);
			if (b->owner)
				json_str(out, b->owner->cfg->name);
			else
				fputs("null", out);
			fprintf(out, ",\"offset\":%llu,\"size\":%llu,\"refs\":%u",
				(unsigned long long)b->off, (unsigned long long)b->size, b->refs);
			if (b->export) {
				/* Handles are capabilities: a short prefix identifies, never grants. */
				fprintf(out, ",\"export\":{\"handle_prefix\":\"%02x%02x%02x%02x\",\"name\":",
					b->export->handle[0], b->export->handle[1],
					b->export->handle[2], b->export->handle[3]);
				json_str(out, b->export->name);
				fputs("}", out);
			}
			fputs("}", out);
			first = false;
		}
		fputs("]}", out);
	}
	fputs("],\"vms\":[", out);
	for (unsigned int v = 0; v < c->nvms; v++) {
		struct core_vm *vm = &c->vms[v];

		fprintf(out, "%s{\"name\":", v ? "," : "");
		json_str(out, vm->cfg->name);
		fprintf(out, ",\"connected\":%s,\"buffers\":%u,\"imports\":%u,\"used\":%llu,\"quota\":%llu}",
			vm->connected ? "true" : "false", vm->nbuffers, vm->nimports,
			(unsigned long long)vm->used, (unsigned long long)vm->cfg->quota);
	}
	fputs("],\"host_clients\":", out);
	{
		unsigned int n = 0;

		for (unsigned int i = 0; i < CORE_HOST_SLOTS; i++)
			n += c->hosts[i].attached;
		fprintf(out, "%u}\n", n);
	}
	return ferror(out) ? -EIO : 0;
}
