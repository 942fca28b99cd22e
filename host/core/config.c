/*
 * config - INI-style parser for vmbufd.conf. Two passes: lines are parsed
 * into sections as they come (syntax, keys, values), then cross-references
 * are checked (pool members name known VMs, pools per VM). Every message
 * names the file and line.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "util.h"
#include <linux/virtio_vmbuf.h>

#define DEFAULT_SOCKET_DIR "/run/vmbuf"
#define DEFAULT_FENCE_TIMEOUT_MS 10000
#define DEFAULT_MAX_BUFFERS 4096
#define DEFAULT_MAX_WAITERS 1024

enum section { SEC_NONE, SEC_DAEMON, SEC_VM, SEC_POOL };

struct parser {
	struct config *cfg;
	const char *path;
	unsigned int line;
	enum section sec;
	int idx;
	char *err;
	size_t errlen;
	/* Raw member lists, resolved after all VMs are known. */
	char *members[CONFIG_MAX_POOLS];
	unsigned int members_line[CONFIG_MAX_POOLS];
};

static int perr(struct parser *p, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "%s:%u: ", p->path, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket_dir, sizeof(cfg->socket_dir), "%s", DEFAULT_SOCKET_DIR);
	cfg->fence_timeout_ms = DEFAULT_FENCE_TIMEOUT_MS;
}

int config_find_vm(const struct config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->nvms; i++)
		if (!strcmp(cfg->vms[i].name, name))
			return i;
	return -1;
}

int config_find_pool(const struct config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->npools; i++)
		if (!strcmp(cfg->pools[i].name, name))
			return i;
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_section(struct parser *p, char *s)
{
	struct config *cfg = p->cfg;
	char *end = strchr(s, ']');
	char *kind, *name;

	if (!end || trim(end + 1)[0])
		return perr(p, p->line, "malformed section header");
	*end = '\0';
	kind = trim(s + 1);
	name = kind + strcspn(kind, " \t");
	if (*name)
		*name++ = '\0';
	name = trim(name);

	if (!strcmp(kind, "vmbufd")) {
		if (*name)
			return perr(p, p->line, "[vmbufd] takes no name");
		p->sec = SEC_DAEMON;
		return 0;
	}
	if (strcmp(kind, "vm") && strcmp(kind, "pool"))
		return perr(p, p->line, "unknown section '%s' (expected vmbufd, vm or pool)",
			    kind);
	if (!name_valid(name))
		return perr(p, p->line,
			    "invalid %s name '%s' (1-31 of A-Z a-z 0-9 _ . -, not starting with . or -)",
			    kind, name);
	if (!strcmp(kind, "vm")) {
		struct config_vm *vm;

		if (!strcmp(name, "host"))
			return perr(p, p->line, "'host' is reserved for host clients");

		if (config_find_vm(cfg, name) >= 0)
			return perr(p, p->line, "VM '%s' defined twice (first at line %u)", name,
				    cfg->vms[config_find_vm(cfg, name)].line);
		if (cfg->nvms >= CONFIG_MAX_VMS)
			return perr(p, p->line, "too many VMs (at most %d)", CONFIG_MAX_VMS);
		p->idx = cfg->nvms++;
		vm = &cfg->vms[p->idx];
		snprintf(vm->name, sizeof(vm->name), "%s", name);
		vm->max_buffers = DEFAULT_MAX_BUFFERS;
		vm->max_waiters = DEFAULT_MAX_WAITERS;
		vm->line = p->line;
		p->sec = SEC_VM;
	} else {
		struct config_pool *pool;

		if (config_find_pool(cfg, name) >= 0)
			return perr(p, p->line, "pool '%s' defined twice (first at line %u)", name,
				    cfg->pools[config_find_pool(cfg, name)].line);
		if (cfg->npools >= CONFIG_MAX_POOLS)
			return perr(p, p->line, "too many pools (at most %d)", CONFIG_MAX_POOLS);
		p->idx = cfg->npools++;
		pool = &cfg->pools[p->idx];
		snprintf(pool->name, sizeof(pool->name), "%s", name);
		pool->line = p->line;
		p->sec = SEC_POOL;
	}
	return 0;
}

static int parse_key(struct parser *p, const char *key, const char *val)
{
	struct config *cfg = p->cfg;
	uint64_t v;

	switch (p->sec) {
	case SEC_NONE:
		return perr(p, p->line, "'%s' outside a section", key);
	case SEC_DAEMON:
		if (!strcmp(key, "socket-dir")) {
			if (val[0] != '/' || strlen(val) >= sizeof(cfg->socket_dir) - 64)
				return perr(p, p->line, "socket-dir must be an absolute path shorter than %zu bytes",
					    sizeof(cfg->socket_dir) - 64);
			snprintf(cfg->socket_dir, sizeof(cfg->socket_dir), "%s", val);
			return 0;
		}
		if (!strcmp(key, "fence-timeout-ms")) {
			if (parse_u64(val, &v) < 0 || v == 0 || v > 3600000)
				return perr(p, p->line, "fence-timeout-ms must be 1..3600000, not '%s'", val);
			cfg->fence_timeout_ms = v;
			return 0;
		}
		if (!strcmp(key, "socket-group")) {
			if (!name_valid(val))
				return perr(p, p->line, "invalid group name '%s'", val);
			snprintf(cfg->socket_group, sizeof(cfg->socket_group), "%s", val);
			return 0;
		}
		if (!strcmp(key, "host-group")) {
			if (!name_valid(val))
				return perr(p, p->line, "invalid group name '%s'", val);
			snprintf(cfg->host_group, sizeof(cfg->host_group), "%s", val);
			return 0;
		}
		break;
	case SEC_VM:
		if (!strcmp(key, "quota")) {
			if (parse_size(val, &v) < 0)
				return perr(p, p->line, "quota must be a size such as 64M, not '%s'", val);
			cfg->vms[p->idx].quota = v;
			return 0;
		}
		if (!strcmp(key, "max-buffers")) {
			if (parse_u64(val, &v) < 0 || v == 0 || v > 65536)
				return perr(p, p->line, "max-buffers must be 1..65536, not '%s'", val);
			cfg->vms[p->idx].max_buffers = v;
			return 0;
		}
		if (!strcmp(key, "max-waiters")) {
			if (parse_u64(val, &v) < 0 || v == 0 || v > 65536)
				return perr(p, p->line, "max-waiters must be 1..65536, not '%s'", val);
			cfg->vms[p->idx].max_waiters = v;
			return 0;
		}
		if (!strcmp(key, "fence-timeout-ms")) {
			if (parse_u64(val, &v) < 0 || v == 0 || v > 3600000)
				return perr(p, p->line, "fence-timeout-ms must be 1..3600000, not '%s'", val);
			cfg->vms[p->idx].fence_timeout_ms = v;
			return 0;
		}
		break;
	case SEC_POOL:
		if (!strcmp(key, "size")) {
			if (parse_size(val, &v) < 0)
				return perr(p, p->line, "pool size must be a size such as 64M, not '%s'", val);
			if (!is_pow2(v) || v < VIRTIO_VMBUF_POOL_MIN || v > (64ull << 30))
				return perr(p, p->line,
					    "pool size %s must be a power of two from 2M to 64G", val);
			cfg->pools[p->idx].size = v;
			return 0;
		}
		if (!strcmp(key, "reclaim")) {
			if (strcmp(val, "yes") && strcmp(val, "no"))
				return perr(p, p->line, "reclaim must be yes or no, not '%s'", val);
			cfg->pools[p->idx].reclaim = !strcmp(val, "yes");
			return 0;
		}
		if (!strcmp(key, "members")) {
			free(p->members[p->idx]);
			p->members[p->idx] = strdup(val);
			if (!p->members[p->idx])
				return -ENOMEM;
			p->members_line[p->idx] = p->line;
			return 0;
		}
		break;
	}
	return perr(p, p->line, "unknown key '%s' in this section", key);
}

static int resolve(struct parser *p)
{
	struct config *cfg = p->cfg;
	unsigned int per_vm[CONFIG_MAX_VMS] = { 0 };

	for (unsigned int i = 0; i < cfg->npools; i++) {
		struct config_pool *pool = &cfg->pools[i];
		char *save = NULL, *tok;

		if (!pool->size)
			return perr(p, pool->line, "pool '%s' has no size", pool->name);
		if (!p->members[i])
			continue;
		for (tok = strtok_r(p->members[i], " \t,", &save); tok;
		     tok = strtok_r(NULL, " \t,", &save)) {
			int vm = config_find_vm(cfg, tok);

			if (vm < 0)
				return perr(p, p->members_line[i],
					    "pool '%s' names unknown VM '%s' (define it with [vm %s])",
					    pool->name, tok, tok);
			if (pool->member[vm])
				return perr(p, p->members_line[i], "VM '%s' listed twice in pool '%s'",
					    tok, pool->name);
			pool->member[vm] = true;
			if (++per_vm[vm] > CONFIG_POOLS_PER_VM)
				return perr(p, p->members_line[i], "VM '%s' is in more than %d pools",
					    tok, CONFIG_POOLS_PER_VM);
		}
	}
	return 0;
}

int config_parse(struct config *cfg, FILE *f, const char *path, char *err, size_t errlen)
{
	struct parser p = { .cfg = cfg, .path = path, .err = err, .errlen = errlen };
	char buf[1024];
	int r = 0;

	if (errlen)
		err[0] = '\0';
	while (fgets(buf, sizeof(buf), f)) {
		char *s, *eq;

		p.line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			r = perr(&p, p.line, "line longer than %zu bytes", sizeof(buf) - 2);
			break;
		}
		s = buf + strcspn(buf, "#");
		*s = '\0';
		s = trim(buf);
		if (!*s)
			continue;
		if (*s == '[') {
			r = parse_section(&p, s);
		} else if ((eq = strchr(s, '='))) {
			*eq = '\0';
			r = parse_key(&p, trim(s), trim(eq + 1));
		} else {
			r = perr(&p, p.line, "expected 'key = value' or '[section]'");
		}
		if (r < 0)
			break;
	}
	if (r >= 0 && ferror(f))
		r = perr(&p, p.line, "read error");
	if (r >= 0)
		r = resolve(&p);
	for (unsigned int i = 0; i < CONFIG_MAX_POOLS; i++)
		free(p.members[i]);
	return r < 0 ? -EINVAL : 0;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	r = config_parse(cfg, f, path, err, errlen);
	fclose(f);
	return r;
}
