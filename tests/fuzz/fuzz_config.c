/*
 * fuzz_config - libFuzzer target for the configuration parser, which reads
 * what root writes in vmbufd.conf and also what any host-group user sends
 * as a drop-in (vmbufctl vm|pool add, the libvirt hook). Every input is one
 * file's text. A file that parses must describe a configuration the rest
 * of the daemon may rely on; a file that does not must say where and why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct config *cfg)
{
	for (unsigned int i = 0; i < cfg->nvms; i++) {
		const struct config_vm *vm = &cfg->vms[i];
		unsigned int pools = 0;

		if (!vm->name[0] || memchr(vm->name, '\0', sizeof(vm->name)) == NULL ||
		    vm->file >= cfg->nfiles)
			abort();
		for (unsigned int j = 0; j < i; j++)
			if (!strcmp(cfg->vms[j].name, vm->name))
				abort();	/* a name twice */
		for (unsigned int p = 0; p < cfg->npools; p++)
			pools += cfg->pools[p].member[i];
		if (pools > CONFIG_POOLS_PER_VM)
			abort();
	}
	for (unsigned int p = 0; p < cfg->npools; p++) {
		const struct config_pool *pool = &cfg->pools[p];

		if (pool->size < (2u << 20) || (pool->size & (pool->size - 1)))
			abort();	/* a power of two from 2M */
		for (unsigned int i = cfg->nvms; i < CONFIG_MAX_VMS; i++)
			if (pool->member[i])
				abort();	/* a member that is no VM */
		for (unsigned int j = 0; j < p; j++)
			if (!strcmp(cfg->pools[j].name, pool->name))
				abort();
	}
	if (cfg->nvms > CONFIG_MAX_VMS || cfg->npools > CONFIG_MAX_POOLS ||
	    cfg->socket_dir[0] != '/' || cfg->state_dir[0] != '/')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char err[512] = "";
	FILE *f = fmemopen((void *)data, size, "r");

	if (!f)
		return 0;
	config_init(&cfg);
	if (config_parse(&cfg, f, "fuzz.conf", err, sizeof(err)) == 0)
		check(&cfg);
	else if (strncmp(err, "fuzz.conf", 9) != 0)
		abort();	/* a refusal names the file (and its line) */
	fclose(f);
	return 0;
}
