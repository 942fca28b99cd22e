/*
 * status - the daemon's state as one JSON object for vmbufctl and
 * libvmbuf (pools with their buffers and exports, VMs, host clients); the
 * fields are documented in docs/vmbufctl.md. Handles are capabilities: only
 * a 4-byte prefix is ever written.
 */
#include <errno.h>

#include "core-internal.h"

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
		fprintf(out, ",\"id\":%u,\"size\":%llu,\"used\":%llu,\"zeroing\":%llu,"
			"\"largest_free\":%llu,\"buffers\":[",
			p->id, (unsigned long long)p->size, (unsigned long long)pool_used(p),
			(unsigned long long)p->dirty_bytes, (unsigned long long)alloc_largest(&p->alloc));
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
		fprintf(out, ",\"connected\":%s,\"buffers\":%u,\"imports\":%u,\"waiters\":%u,"
			"\"used\":%llu,\"quota\":%llu}",
			vm->connected ? "true" : "false", vm->nbuffers, vm->nimports, vm->nwaiters,
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
