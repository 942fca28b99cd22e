/*
 * status - the daemon's state as one JSON object for vmbufctl and
 * libvmbuf (pools with their buffers and exports, VMs with their counters,
 * host clients); the fields are documented in docs/vmbufctl.md. Written
 * with json-c, which does the escaping. Handles are capabilities: only a
 * 4-byte prefix is ever written.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>

#include "core-internal.h"

/* json-c's constructors return NULL only without memory; json_object_object_add takes NULL. */
static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

static struct json_object *status_buffer(const struct buffer *b)
{
	struct json_object *o = json_object_new_object();
	char prefix[9];

	add_u64(o, "id", b->id);
	add_str(o, "owner", b->owner ? b->owner->cfg->name : NULL);
	add_u64(o, "offset", b->off);
	add_u64(o, "size", b->size);
	add_u64(o, "refs", b->refs);
	if (b->export) {
		struct json_object *x = json_object_new_object();

		/* A short prefix identifies, never grants. */
		snprintf(prefix, sizeof(prefix), "%02x%02x%02x%02x", b->export->handle[0],
			 b->export->handle[1], b->export->handle[2], b->export->handle[3]);
		add_str(x, "handle_prefix", prefix);
		add_str(x, "name", b->export->name);
		json_object_object_add(o, "export", x);
	}
	return o;
}

static struct json_object *status_pool(struct core *c, struct pool *p)
{
	struct json_object *o = json_object_new_object(), *bufs = json_object_new_array();
	struct buffer *b;

	add_str(o, "name", p->name);
	add_u64(o, "id", p->id);
	add_u64(o, "size", p->size);
	add_u64(o, "used", pool_used(p));
	add_u64(o, "zeroing", p->dirty_bytes);
	add_u64(o, "largest_free", alloc_largest(&p->alloc));
	list_for_each(b, &c->buffers, link)
		if (b->pool == p)
			json_object_array_add(bufs, status_buffer(b));
	json_object_object_add(o, "buffers", bufs);
	return o;
}

static struct json_object *status_vm(const struct core_vm *vm)
{
	struct json_object *o = json_object_new_object(), *n = json_object_new_object();
	const struct core_vm_counters *k = &vm->counters;

	add_str(o, "name", vm->cfg->name);
	json_object_object_add(o, "connected", json_object_new_boolean(vm->connected));
	add_u64(o, "buffers", vm->nbuffers);
	add_u64(o, "imports", vm->nimports);
	add_u64(o, "waiters", vm->nwaiters);
	add_u64(o, "used", vm->used);
	add_u64(o, "quota", vm->cfg->quota);
	add_u64(n, "requests", k->requests);
	add_u64(n, "errors", k->errors);
	add_u64(n, "bytes_allocated", k->bytes_allocated);
	add_u64(n, "fences_signalled", k->fences_signalled);
	add_u64(n, "fences_waited", k->fences_waited);
	add_u64(n, "waits_abandoned", k->waits_abandoned);
	json_object_object_add(o, "counters", n);
	return o;
}

int core_status_json(struct core *c, FILE *out)
{
	struct json_object *root = json_object_new_object(), *pools = json_object_new_array(),
			   *vms = json_object_new_array();
	unsigned int hosts = 0;
	int r = 0;

	if (!root || !pools || !vms) {
		json_object_put(root);
		json_object_put(pools);
		json_object_put(vms);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < c->npools; i++)
		if (c->pools[i].id)
			json_object_array_add(pools, status_pool(c, &c->pools[i]));
	for (unsigned int v = 0; v < c->nvms; v++)
		if (c->vms[v].cfg)
			json_object_array_add(vms, status_vm(&c->vms[v]));
	for (unsigned int i = 0; i < CORE_HOST_SLOTS; i++)
		hosts += c->hosts[i].attached;
	json_object_object_add(root, "pools", pools);
	json_object_object_add(root, "vms", vms);
	add_u64(root, "host_clients", hosts);
	if (fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN)) < 0)
		r = -EIO;
	json_object_put(root);
	return r < 0 || ferror(out) ? -EIO : 0;
}
