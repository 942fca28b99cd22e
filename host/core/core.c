/*
 * core - the life of a VM connection (connect, driver reset, disconnect;
 * host clients attached as pseudo-VMs), HELLO, the request that opens a
 * session, and BYE, the one that ends it. (setup.c makes the core.)
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core-internal.h"
#include "log.h"
#include "util.h"

void core_shutdown(struct core *c)
{
	struct core_vm *vm;
	unsigned int i = 0;

	while ((vm = vm_next(c, &i)))
		if (vm->connected && vm->ops && vm->ops->gone)
			vm->ops->gone(vm->opaque);
}

int core_vm_connect(struct core_vm *vm, const struct core_vm_ops *ops, void *opaque)
{
	if (vm->connected)
		return -EBUSY;
	vm->ops = ops;
	vm->opaque = opaque;
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
		buffer_disown(vm, b, -ENODEV);
	share_vm_gone(vm);
	if (n || m)
		vm_log_info(vm, "vm '%s': released %u buffer(s) and %u import(s)", vm->cfg->name, n, m);
	else if (was)
		log_debug("vm '%s': reset with nothing held", vm->cfg->name);
	vm->hello = false;
	vm->blocked = NULL;
}

void core_vm_disconnect(struct core_vm *vm)
{
	core_vm_reset(vm);
	vm->connected = false;
	vm->ops = NULL;
	vm->opaque = NULL;
}

struct core_vm *core_host_attach(struct core *c, const struct core_vm_ops *ops, void *opaque)
{
	for (unsigned int i = 0; i < CORE_HOST_SLOTS; i++) {
		struct core_vm *h = &c->hosts[i];

		if (h->attached)
			continue;
		h->attached = true;
		core_vm_connect(h, ops, opaque);
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
}

ssize_t core_req_bye(struct core_vm *vm, const void *req, void *out)
{
	(void)req;
	(void)out;
	core_vm_reset(vm);
	return sizeof(struct virtio_vmbuf_resp);
}

ssize_t core_req_hello(struct core_vm *vm, const void *req, void *out)
{
	const struct virtio_vmbuf_hello *h = req;
	struct virtio_vmbuf_hello_resp *r = out;
	const struct core_vm_ops *ops = vm->ops;
	uint32_t timeout = vm->core->cfg->fence_timeout_ms;

	r->version = htole32(VIRTIO_VMBUF_VERSION);
	if (le32toh(h->version) != VIRTIO_VMBUF_VERSION)
		return -EPROTONOSUPPORT;
	/* A driver that greets again started over: what the old session held goes. */
	if (vm->hello)
		core_vm_reset(vm);
	if (vm->cfg->fence_timeout_ms && vm->cfg->fence_timeout_ms < timeout)
		timeout = vm->cfg->fence_timeout_ms;
	r->features = htole64(VIRTIO_VMBUF_F_QUERY | VIRTIO_VMBUF_F_SESSION |
			      (fast_vm_can(vm) ? VIRTIO_VMBUF_F_FAST : 0));
	r->quota_bytes = htole64(vm->cfg->quota);
	r->fence_timeout_ms = htole32(timeout);
	r->locator_kind = htole32(ops ? ops->locator_kind : VIRTIO_VMBUF_LOCATOR_NONE);
	str_to_field(r->vm_name, sizeof(r->vm_name), vm->cfg->name);
	r->npools = htole32(vm->npools);
	for (unsigned int i = 0; i < vm->npools; i++) {
		struct virtio_vmbuf_pool_info *pi = &r->pools[i];
		const struct pool *p = vm->pools[i];

		pi->pool_id = htole32(p->id);
		/* Where the VM sees whole pools, their first page is the transport's. */
		pi->data_offset = htole32(ops && ops->map ? 0 : (uint32_t)p->alloc.base);
		pi->locator = htole64(ops && ops->locate ? ops->locate(vm->opaque, p) : 0);
		pi->size = htole64(p->size);
		str_to_field(pi->name, sizeof(pi->name), p->name);
	}
	vm->hello = true;
	vm_log_info(vm, "vm '%s': hello, %u pool(s)", vm->cfg->name, vm->npools);
	return sizeof(*r);
}
