/*
 * fuzz_request - libFuzzer target for the daemon's request handling: every
 * input is one control-queue request from a guest, fed to core_vm_request()
 * of a VM that is a member of two pools. The first byte picks whether the
 * VM said HELLO first, so both states are explored. The rest is a series of
 * requests, each preceded by its length byte; a length byte of 255 means
 * "the rest of the input" (EXPORT is longer than 254 bytes). Everything the
 * input allocated, exported or imported is released (and zeroed) after each
 * run, so no state leaks between runs. An ALLOC the core makes wait (it
 * returned 0) is handed in again after core_clean(), as the daemon does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include <linux/virtio_vmbuf.h>

static void fuzz_event(void *opaque, const struct virtio_vmbuf_event *ev)
{
	(void)opaque;
	(void)ev;
}

static const struct core_vm_ops fuzz_ops = { .event = fuzz_event };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct core *core;
static struct core_vm *vm;
static struct config cfg;

static void setup(void)
{
	static const char text[] = "[vm a]\nquota = 6M\nmax-buffers = 64\n[vm b]\n"
				   "[pool p]\nsize = 4M\nmembers = a b\n"
				   "[pool q]\nsize = 2M\nmembers = a\n";
	char err[256];
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	log_init("fuzz", LOG_ERR);
	config_init(&cfg);
	if (config_parse(&cfg, f, "fuzz", err, sizeof(err)) < 0 || core_new(&core, &cfg) < 0)
		__builtin_trap();
	fclose(f);
	vm = core_vm_by_name(core, "a");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct virtio_vmbuf_hello hello = {
		.hdr.type = 1, .version = VIRTIO_VMBUF_VERSION,	/* little-endian host */
	};
	uint8_t resp[VIRTIO_VMBUF_MSG_MAX];
	size_t n;

	if (!core)
		setup();
	if (size < 1)
		return 0;
	core_vm_connect(vm, &fuzz_ops, NULL);
	if (data[0] & 1)
		core_vm_request(vm, &hello, sizeof(hello), resp, sizeof(resp));
	data++;
	size--;
	/* The input may hold several requests separated by their own length byte. */
	while (size) {
		size_t len = data[0] == 255 || data[0] >= size ? size - 1 : data[0];

		n = core_vm_request(vm, data + 1, len, resp, sizeof(resp));
		if (n == 0) {
			/*
			 * An ALLOC waits for freed memory to be zeroed: do what the
			 * daemon's loop does, then hand it in again. Once nothing is
			 * left to zero it must be answered.
			 */
			while (core_clean(core, UINT64_MAX))
				;
			n = core_vm_request(vm, data + 1, len, resp, sizeof(resp));
		}
		if (n < sizeof(struct virtio_vmbuf_resp) || n > sizeof(resp))
			__builtin_trap();
		data += 1 + len;
		size -= 1 + len;
	}
	core_vm_disconnect(vm);
	while (core_clean(core, UINT64_MAX))
		;
	return 0;
}
