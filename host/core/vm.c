/*
 * vm - the VMs the core knows: configured VMs and attached host clients,
 * their pools, and what reaches a VM through its transport: events, and
 * buffers on transports that map them one at a time.
 * The bottom of the core: it calls no other core file.
 */
#include "core-internal.h"

#include <stdio.h>

struct core_vm *vm_next(struct core *c, unsigned int *i)
{
	while (*i < c->nvms + CORE_HOST_SLOTS) {
		unsigned int k = (*i)++;

		if (k < c->nvms) {
			if (c->vms[k].cfg)
				return &c->vms[k];
			continue;
		}
		if (c->hosts[k - c->nvms].attached)
			return &c->hosts[k - c->nvms];
	}
	return NULL;
}

bool vm_in_pool(const struct core_vm *vm, const struct pool *p)
{
	if (vm->is_host)
		return true;
	for (unsigned int i = 0; i < vm->npools; i++)
		if (vm->pools[i] == p)
			return true;
	return false;
}

bool vm_shares_pool(const struct core_vm *a, const struct core_vm *b)
{
	if (a == b)
		return false;
	for (unsigned int p = 0; p < b->npools; p++)
		if (vm_in_pool(a, b->pools[p]))
			return true;
	return false;
}

void vm_send_event(struct core_vm *vm, const struct virtio_vmbuf_event *ev)
{
	if (vm->connected && vm->ops && vm->ops->event)
		vm->ops->event(vm->opaque, ev);
}

int vm_map(struct core_vm *vm, const struct pool *p, uint64_t off, uint64_t size, uint64_t *addr)
{
	if (!vm->ops || !vm->ops->map) {
		*addr = off;
		return 0;
	}
	return vm->ops->map(vm->opaque, p, off, size, addr);
}

void vm_unmap(struct core_vm *vm, uint64_t addr, uint64_t size)
{
	if (vm->ops && vm->ops->unmap)
		vm->ops->unmap(vm->opaque, addr, size);
}

void vm_resume(struct core_vm *vm)
{
	vm->blocked = NULL;
	if (vm->connected && vm->ops && vm->ops->resume)
		vm->ops->resume(vm->opaque);
}

unsigned int core_vm_count(const struct core *c)
{
	return c->nvms;
}

struct core_vm *core_vm_at(struct core *c, unsigned int i)
{
	return i < c->nvms && c->vms[i].cfg ? &c->vms[i] : NULL;
}

const char *core_vm_name(const struct core_vm *vm)
{
	return vm->cfg->name;
}

unsigned int core_vm_slot(const struct core_vm *vm)
{
	return vm->slot;
}

bool core_vm_may_log(struct core_vm *vm)
{
	char who[CONFIG_NAME_MAX + 8];

	if (!vm->log_rl.burst)
		vm->log_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10000, 10);
	snprintf(who, sizeof(who), "vm '%s'", vm->cfg->name);
	return log_ratelimit(&vm->log_rl, who);
}

uint64_t core_vm_pools_size(const struct core_vm *vm)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < vm->npools; i++)
		n += vm->pools[i]->size;
	return n;
}

bool core_vm_connected(const struct core_vm *vm)
{
	return vm->connected;
}

unsigned int core_vm_pool_count(const struct core_vm *vm)
{
	return vm->npools;
}

struct pool *core_vm_pool(const struct core_vm *vm, unsigned int i)
{
	return i < vm->npools ? vm->pools[i] : NULL;
}

unsigned int core_pool_count(const struct core *c)
{
	return c->npools;
}

struct pool *core_pool_at(struct core *c, unsigned int i)
{
	return i < c->npools && c->pools[i].id ? &c->pools[i] : NULL;
}

bool core_pool_has_member(const struct core *c, const struct pool *p, const struct core_vm *vm)
{
	(void)c;
	return vm_in_pool(vm, p);
}
