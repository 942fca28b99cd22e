/*
 * setup - the core's pools and VMs: made from the configuration at start,
 * added and removed at run time (the daemon's reconfig.c decides what, the
 * transports follow). A VM's slot and a pool's id stay the same for their
 * life; a free one is reused by the next addition, so whatever pointed at
 * the old one is cleaned first: access lists name slots, buffers name whom
 * they are charged to.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core-internal.h"
#include "log.h"

static uint64_t vm_name_hash(const struct core *c, const char *name)
{
	return hash_bytes(&c->key, name, strlen(name));
}

struct core_vm *core_vm_by_name(struct core *c, const char *name)
{
	struct core_vm *vm;

	hmap_for_each_hash(vm, &c->vms_by_name, vm_name_hash(c, name), name_node)
		if (!strcmp(vm->cfg->name, name))
			return vm;
	return NULL;
}

struct pool *core_pool_by_name(struct core *c, const char *name)
{
	for (unsigned int i = 0; i < c->npools; i++)
		if (c->pools[i].id && !strcmp(c->pools[i].name, name))
			return &c->pools[i];
	return NULL;
}

/* Host clients are members of every pool. */
static void hosts_set_pools(struct core *c)
{
	for (unsigned int i = 0; i < CORE_HOST_SLOTS; i++) {
		struct core_vm *h = &c->hosts[i];

		h->npools = 0;
		for (unsigned int p = 0; p < c->npools && h->npools < CONFIG_POOLS_PER_VM; p++)
			if (c->pools[p].id)
				h->pools[h->npools++] = &c->pools[p];
	}
}

int core_pool_add(struct core *c, const struct config_pool *pc, struct pool **out)
{
	unsigned int i = 0;
	struct pool *p;
	int r;

	while (i < CONFIG_MAX_POOLS && c->pools[i].id)
		i++;
	if (i == CONFIG_MAX_POOLS)
		return -ENOSPC;
	p = &c->pools[i];
	r = pool_create(p, i + 1, pc->name, pc->size);
	if (r < 0) {
		log_err("pool '%s': cannot create %llu-byte memfd: %s", pc->name,
			(unsigned long long)pc->size, strerror(-r));
		memset(p, 0, sizeof(*p));
		return r;
	}
	p->reclaim = pc->reclaim;
	if (i >= c->npools)
		c->npools = i + 1;
	hosts_set_pools(c);
	*out = p;
	return 0;
}

int core_pool_busy(struct core *c, const struct pool *p, char *why, size_t len)
{
	struct core_vm *vm;
	unsigned int i = 0;

	if (p->nbuffers) {
		snprintf(why, len, "%u buffer(s) of it are held", p->nbuffers);
		return -EBUSY;
	}
	while ((vm = vm_next(c, &i)))
		if (!vm->is_host && vm->connected && vm_in_pool(vm, p)) {
			snprintf(why, len, "vm '%s', a member, is connected", vm->cfg->name);
			return -EBUSY;
		}
	return 0;
}

void core_pool_remove(struct core *c, struct pool *p)
{
	struct core_vm *vm;
	unsigned int i = 0;

	while ((vm = vm_next(c, &i))) {
		unsigned int k = 0;

		for (unsigned int j = 0; j < vm->npools; j++)
			if (vm->pools[j] != p)
				vm->pools[k++] = vm->pools[j];
		vm->npools = k;
	}
	pool_destroy(p);
	memset(p, 0, sizeof(*p));
	hosts_set_pools(c);
}

/* @vm's pools, as the configuration says (a member from either side). */
static void vm_pools_from_config(struct core *c, struct core_vm *vm)
{
	const struct config *cfg = c->cfg;
	unsigned int idx = (unsigned int)(vm->cfg - cfg->vms);

	vm->npools = 0;
	for (unsigned int i = 0; i < cfg->npools; i++) {
		struct pool *p;

		if (!cfg->pools[i].member[idx] || !(p = core_pool_by_name(c, cfg->pools[i].name)))
			continue;
		if (vm->npools < CONFIG_POOLS_PER_VM)
			vm->pools[vm->npools++] = p;
	}
}

int core_vm_add(struct core *c, const struct config_vm *vc, struct core_vm **out)
{
	unsigned int i = 0;
	struct core_vm *vm;

	while (i < CONFIG_MAX_VMS && c->vms[i].cfg)
		i++;
	if (i == CONFIG_MAX_VMS)
		return -ENOSPC;
	vm = &c->vms[i];
	memset(vm, 0, sizeof(*vm));
	vm->core = c;
	vm->cfg = vc;
	vm->slot = i + 1;
	list_init(&vm->buffers);
	list_init(&vm->imports);
	list_init(&vm->waiters);
	vm_pools_from_config(c, vm);
	hmap_insert(&c->vms_by_name, &vm->name_node, vm_name_hash(c, vc->name));
	if (i >= c->nvms)
		c->nvms = i + 1;
	*out = vm;
	return 0;
}

void core_vm_remove(struct core_vm *vm)
{
	struct core *c = vm->core;
	struct buffer *b;

	core_vm_disconnect(vm);
	/* Imports of its buffers outlive it: what they hold is charged to nobody now. */
	list_for_each(b, &c->buffers, link) {
		if (b->charged == vm)
			b->charged = &c->nobody;
		if (b->export)
			export_forget_slot(b->export, vm->slot);
	}
	c->nobody.used += vm->used;
	hmap_remove(&c->vms_by_name, &vm->name_node);
	memset(vm, 0, sizeof(*vm));
}

void core_set_config(struct core *c, const struct config *cfg)
{
	c->cfg = cfg;
	for (unsigned int i = 0; i < c->nvms; i++) {
		struct core_vm *vm = &c->vms[i];
		int k;

		if (!vm->cfg)
			continue;
		k = config_find_vm(cfg, vm->cfg->name);
		if (k >= 0)
			vm->cfg = &cfg->vms[k];	/* new limits apply at once */
	}
	for (unsigned int i = 0; i < c->npools; i++) {
		struct pool *p = &c->pools[i];
		int k = p->id ? config_find_pool(cfg, p->name) : -1;

		if (k >= 0)
			p->reclaim = cfg->pools[k].reclaim;
	}
}

int core_new(struct core **out, const struct config *cfg)
{
	struct core *c = calloc(1, sizeof(*c));
	struct core_vm *vm;
	struct pool *p;
	int r;

	if (!c)
		return -ENOMEM;
	c->cfg = cfg;
	c->next_buffer_id = 1;
	c->next_import_id = 1;
	list_init(&c->buffers);
	r = hash_key_init(&c->key);
	if (r < 0 || (r = hmap_init(&c->buffers_by_id)) < 0 || (r = hmap_init(&c->imports_by_id)) < 0 ||
	    (r = hmap_init(&c->exports_by_handle)) < 0 || (r = hmap_init(&c->exports_by_name)) < 0 ||
	    (r = hmap_init(&c->vms_by_name)) < 0) {
		core_free(c);
		return r;
	}
	snprintf(c->host_cfg.name, sizeof(c->host_cfg.name), "host");
	c->host_cfg.max_buffers = 4096;
	c->host_cfg.max_waiters = 1024;
	c->nobody.core = c;
	c->nobody.cfg = &c->host_cfg;
	for (unsigned int i = 0; i < CORE_HOST_SLOTS; i++) {
		struct core_vm *h = &c->hosts[i];

		h->core = c;
		h->cfg = &c->host_cfg;
		h->slot = CONFIG_MAX_VMS + 1 + i;
		h->is_host = true;
		list_init(&h->buffers);
		list_init(&h->imports);
		list_init(&h->waiters);
	}
	for (unsigned int i = 0; i < cfg->npools; i++) {
		r = core_pool_add(c, &cfg->pools[i], &p);
		if (r < 0) {
			core_free(c);
			return r;
		}
	}
	for (unsigned int i = 0; i < cfg->nvms; i++)
		core_vm_add(c, &cfg->vms[i], &vm);	/* at most CONFIG_MAX_VMS: fits */
	*out = c;
	return 0;
}

void core_free(struct core *c)
{
	if (!c)
		return;
	/* Nobody is told anything any more: the transports are gone. */
	for (unsigned int i = 0; i < c->nvms; i++)
		c->vms[i].ops = NULL;
	for (unsigned int i = 0; i < CORE_HOST_SLOTS; i++)
		c->hosts[i].ops = NULL;
	for (unsigned int i = 0; i < c->nvms; i++)
		if (c->vms[i].cfg)
			core_vm_reset(&c->vms[i]);
	for (unsigned int i = 0; i < CORE_HOST_SLOTS; i++)
		core_vm_reset(&c->hosts[i]);
	for (unsigned int i = 0; i < c->npools; i++)
		if (c->pools[i].id)
			pool_destroy(&c->pools[i]);
	hmap_fini(&c->buffers_by_id);
	hmap_fini(&c->imports_by_id);
	hmap_fini(&c->exports_by_handle);
	hmap_fini(&c->exports_by_name);
	hmap_fini(&c->vms_by_name);
	free(c);
}
