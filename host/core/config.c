/*
 * config - INI-style parser for vmbufd.conf and its drop-ins. Two passes:
 * lines of every file are parsed into sections as they come (syntax, keys,
 * values), then cross-references are checked (pool members and VM pools
 * name known sections, pools per VM). Every message names the file and line.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include <linux/virtio_vmbuf.h>

#define DEFAULT_SOCKET_DIR "/run/vmbuf"
#define DEFAULT_STATE_DIR "/var/lib/vmbuf"
#define DEFAULT_FENCE_TIMEOUT_MS 10000
#define DEFAULT_MAX_BUFFERS 4096
#define DEFAULT_MAX_WAITERS 1024

enum section { SEC_NONE, SEC_DAEMON, SEC_VM, SEC_POOL };

/* A list of names in a value, kept until every file is read: where it was. */
struct name_list {
	char *names;
	unsigned int file, line;
};

struct parser {
	struct config *cfg;
	unsigned int file;	/* the file being read: cfg->files[file] */
	unsigned int line;
	enum section sec;
	int idx;
	char *err;
	size_t errlen;
	/* Raw lists, resolved after all VMs and pools are known. */
	struct name_list members[CONFIG_MAX_POOLS];	/* [pool] members */
	struct name_list pools[CONFIG_MAX_VMS];		/* [vm] pools */
};

static int perr_at(struct parser *p, unsigned int file, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int perr_at(struct parser *p, unsigned int file, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "%s:%u: ", p->cfg->files[file], line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define perr(p, line, ...) perr_at(p, (p)->file, line, __VA_ARGS__)

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket_dir, sizeof(cfg->socket_dir), "%s", DEFAULT_SOCKET_DIR);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", DEFAULT_STATE_DIR);
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

/* In a "first at" message: nothing for the file being read, else its path. */
static const char *where_file(const struct parser *p, unsigned int file)
{
	return file == p->file ? "" : p->cfg->files[file];
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
		if (config_is_dropin(p->file))
			return perr(p, p->line, "[vmbufd] belongs in the main file, not in a drop-in");
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

		if (config_find_vm(cfg, name) >= 0) {
			const struct config_vm *o = &cfg->vms[config_find_vm(cfg, name)];

			return perr(p, p->line, "VM '%s' defined twice (first at %s%s%u)", name,
				    where_file(p, o->file), o->file == p->file ? "line " : ":",
				    o->line);
		}
		if (cfg->nvms >= CONFIG_MAX_VMS)
			return perr(p, p->line, "too many VMs (at most %d)", CONFIG_MAX_VMS);
		p->idx = cfg->nvms++;
		vm = &cfg->vms[p->idx];
		snprintf(vm->name, sizeof(vm->name), "%s", name);
		vm->max_buffers = DEFAULT_MAX_BUFFERS;
		vm->max_waiters = DEFAULT_MAX_WAITERS;
		vm->file = p->file;
		vm->line = p->line;
		p->sec = SEC_VM;
	} else {
		struct config_pool *pool;

		if (config_find_pool(cfg, name) >= 0) {
			const struct config_pool *o = &cfg->pools[config_find_pool(cfg, name)];

			return perr(p, p->line, "pool '%s' defined twice (first at %s%s%u)", name,
				    where_file(p, o->file), o->file == p->file ? "line " : ":",
				    o->line);
		}
		if (cfg->npools >= CONFIG_MAX_POOLS)
			return perr(p, p->line, "too many pools (at most %d)", CONFIG_MAX_POOLS);
		p->idx = cfg->npools++;
		pool = &cfg->pools[p->idx];
		snprintf(pool->name, sizeof(pool->name), "%s", name);
		pool->file = p->file;
		pool->line = p->line;
		p->sec = SEC_POOL;
	}
	return 0;
}

static int keep_list(struct parser *p, struct name_list *l, const char *val)
{
	free(l->names);
	l->names = strdup(val);
	if (!l->names)
		return -ENOMEM;
	l->file = p->file;
	l->line = p->line;
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
		if (!strcmp(key, "state-dir")) {
			if (val[0] != '/' || strlen(val) >= sizeof(cfg->state_dir) - 64)
				return perr(p, p->line, "state-dir must be an absolute path shorter than %zu bytes",
					    sizeof(cfg->state_dir) - 64);
			snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", val);
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
		if (!strcmp(key, "pools"))
			return keep_list(p, &p->pools[p->idx], val);
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
		if (!strcmp(key, "members"))
			return keep_list(p, &p->members[p->idx], val);
		break;
	}
	return perr(p, p->line, "unknown key '%s' in this section", key);
}

/* Is @name (a VM or pool index) listed twice in one list? Fills @seen. */
static int resolve_pool_members(struct parser *p, unsigned int i)
{
	struct config *cfg = p->cfg;
	struct config_pool *pool = &cfg->pools[i];
	struct name_list *l = &p->members[i];
	bool seen[CONFIG_MAX_VMS] = { false };
	char *save = NULL, *tok;

	for (tok = strtok_r(l->names, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		int vm = config_find_vm(cfg, tok);

		if (vm < 0)
			return perr_at(p, l->file, l->line,
				       "pool '%s' names unknown VM '%s' (define it with [vm %s])",
				       pool->name, tok, tok);
		if (seen[vm])
			return perr_at(p, l->file, l->line, "VM '%s' listed twice in pool '%s'", tok,
				       pool->name);
		seen[vm] = pool->member[vm] = true;
	}
	return 0;
}

static int resolve_vm_pools(struct parser *p, unsigned int i)
{
	struct config *cfg = p->cfg;
	struct name_list *l = &p->pools[i];
	bool seen[CONFIG_MAX_POOLS] = { false };
	char *save = NULL, *tok;

	for (tok = strtok_r(l->names, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		int pool = config_find_pool(cfg, tok);

		if (pool < 0)
			return perr_at(p, l->file, l->line,
				       "VM '%s' names unknown pool '%s' (define it with [pool %s])",
				       cfg->vms[i].name, tok, tok);
		if (seen[pool])
			return perr_at(p, l->file, l->line, "pool '%s' listed twice for VM '%s'", tok,
				       cfg->vms[i].name);
		seen[pool] = cfg->pools[pool].member[i] = true;
	}
	return 0;
}

static int resolve(struct parser *p)
{
	struct config *cfg = p->cfg;
	int r;

	for (unsigned int i = 0; i < cfg->npools; i++) {
		struct config_pool *pool = &cfg->pools[i];

		if (!pool->size)
			return perr_at(p, pool->file, pool->line, "pool '%s' has no size", pool->name);
		if (p->members[i].names && (r = resolve_pool_members(p, i)) < 0)
			return r;
	}
	for (unsigned int i = 0; i < cfg->nvms; i++)
		if (p->pools[i].names && (r = resolve_vm_pools(p, i)) < 0)
			return r;
	for (unsigned int v = 0; v < cfg->nvms; v++) {
		unsigned int n = 0;

		for (unsigned int i = 0; i < cfg->npools; i++)
			n += cfg->pools[i].member[v];
		if (n > CONFIG_POOLS_PER_VM)
			return perr_at(p, cfg->vms[v].file, cfg->vms[v].line,
				       "VM '%s' is in %u pools, more than %d", cfg->vms[v].name, n,
				       CONFIG_POOLS_PER_VM);
	}
	return 0;
}

/* Read one file (the main one first) into the configuration being built. */
static int parse_stream(struct parser *p, FILE *f, const char *path)
{
	struct config *cfg = p->cfg;
	char buf[1024];
	int r = 0;

	if (cfg->nfiles >= CONFIG_MAX_FILES || strlen(path) >= CONFIG_PATH_MAX) {
		snprintf(p->err, p->errlen, "%s: too many drop-ins, or a path too long", path);
		return -EINVAL;
	}
	p->file = cfg->nfiles++;
	snprintf(cfg->files[p->file], CONFIG_PATH_MAX, "%s", path);
	p->line = 0;
	p->sec = SEC_NONE;
	while (fgets(buf, sizeof(buf), f)) {
		char *s, *eq;

		p->line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			r = perr(p, p->line, "line longer than %zu bytes", sizeof(buf) - 2);
			break;
		}
		s = buf + strcspn(buf, "#");
		*s = '\0';
		s = trim(buf);
		if (!*s)
			continue;
		if (*s == '[') {
			r = parse_section(p, s);
		} else if ((eq = strchr(s, '='))) {
			*eq = '\0';
			r = parse_key(p, trim(s), trim(eq + 1));
		} else {
			r = perr(p, p->line, "expected 'key = value' or '[section]'");
		}
		if (r < 0)
			break;
	}
	if (r >= 0 && ferror(f))
		r = perr(p, p->line, "read error");
	return r;
}

static void parser_free(struct parser *p)
{
	for (unsigned int i = 0; i < CONFIG_MAX_POOLS; i++)
		free(p->members[i].names);
	for (unsigned int i = 0; i < CONFIG_MAX_VMS; i++)
		free(p->pools[i].names);
}

int config_parse(struct config *cfg, FILE *f, const char *path, char *err, size_t errlen)
{
	struct parser p = { .cfg = cfg, .err = err, .errlen = errlen };
	int r;

	if (errlen)
		err[0] = '\0';
	r = parse_stream(&p, f, path);
	if (r >= 0)
		r = resolve(&p);
	parser_free(&p);
	return r < 0 ? -EINVAL : 0;
}

int config_dropin_path(const struct config *cfg, const char *name, char *buf, size_t len)
{
	int n = name ? snprintf(buf, len, "%s/%s/%s", cfg->state_dir, CONFIG_DROPIN_DIR, name) :
		       snprintf(buf, len, "%s/%s", cfg->state_dir, CONFIG_DROPIN_DIR);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int parse_path(struct parser *p, const char *path)
{
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		r = -errno;
		snprintf(p->err, p->errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = parse_stream(p, f, path);
	fclose(f);
	return r;
}

static int is_dropin_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".conf") &&
	       (d->d_type == DT_REG || d->d_type == DT_UNKNOWN);
}

/* Every drop-in but @skip, in name order. */
static int parse_dropins(struct parser *p, const char *skip)
{
	char dir[CONFIG_PATH_MAX], path[CONFIG_PATH_MAX];
	struct dirent **names;
	int n, r = 0;

	if (config_dropin_path(p->cfg, NULL, dir, sizeof(dir)) < 0) {
		snprintf(p->err, p->errlen, "%s: state-dir too long", p->cfg->state_dir);
		return -ENAMETOOLONG;
	}
	n = scandir(dir, &names, is_dropin_name, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(p->err, p->errlen, "%s: %s", dir, strerror(-r));
		return r;
	}
	for (int i = 0; i < n; i++) {
		if (r >= 0 && !(skip && !strcmp(names[i]->d_name, skip))) {
			if (config_dropin_path(p->cfg, names[i]->d_name, path, sizeof(path)) < 0)
				r = -ENAMETOOLONG;
			else
				r = parse_path(p, path);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int config_load_change(struct config *cfg, const char *path, const char *dropin,
		       const char *text, char *err, size_t errlen)
{
	struct parser p = { .cfg = cfg, .err = err, .errlen = errlen };
	char where[CONFIG_PATH_MAX];
	int r;

	if (errlen)
		err[0] = '\0';
	r = parse_path(&p, path);
	if (r >= 0)
		r = parse_dropins(&p, dropin);
	if (r >= 0 && text && text[0]) {
		FILE *f = fmemopen((void *)text, strlen(text), "r");

		if (!f || config_dropin_path(cfg, dropin, where, sizeof(where)) < 0)
			r = -ENOMEM;
		else
			r = parse_stream(&p, f, where);
		if (f)
			fclose(f);
	}
	if (r >= 0)
		r = resolve(&p);
	parser_free(&p);
	return r < 0 ? r : 0;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	return config_load_change(cfg, path, NULL, NULL, err, errlen);
}
