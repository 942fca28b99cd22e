/*
 * core_harness - drives the core straight through core_vm_request(), as a
 * transport would (connected with harness_ops: events go to the test's sink()), for the sharing and timeline tests: a core built from a
 * config text, requests sent as a named VM, the last response in resp[].
 */
#ifndef VMBUF_CORE_HARNESS_H
#define VMBUF_CORE_HARNESS_H

#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include <linux/virtio_vmbuf.h>

static struct core *c;
static uint8_t resp[VIRTIO_VMBUF_MSG_MAX];

/* Every test defines where events go: @vm is the VM they were sent to. */
static void sink(struct core_vm *vm, const struct virtio_vmbuf_event *ev);

static inline void harness_event(void *opaque, const struct virtio_vmbuf_event *ev)
{
	sink(opaque, ev);
}

/* A transport that locates nothing and hands every event to sink(). */
static const struct core_vm_ops harness_ops = { .event = harness_event };

/* Parse @text into @cfg and build the core: 0, or -1 with the parser's message in @err. */
static inline int harness_setup(struct config *cfg, const char *text, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	config_init(cfg);
	r = config_parse(cfg, f, "t", err, errlen);
	fclose(f);
	return r < 0 || core_new(&c, cfg) < 0 ? -1 : 0;
}

/* Send a request as VM @vm; returns the response's status. */
static inline int32_t req(const char *vm, const void *r, size_t len)
{
	core_vm_request(core_vm_by_name(c, vm), r, len, resp, sizeof(resp));
	return (int32_t)le32toh(((struct virtio_vmbuf_resp *)resp)->status);
}

/* Connect @vm and say HELLO. */
static inline void hello(const char *vm)
{
	struct virtio_vmbuf_hello h = { .hdr.type = htole32(VIRTIO_VMBUF_REQ_HELLO),
					.version = htole32(VIRTIO_VMBUF_VERSION) };
	struct core_vm *v = core_vm_by_name(c, vm);

	core_vm_connect(v, &harness_ops, v);
	req(vm, &h, sizeof(h));
}

#endif
