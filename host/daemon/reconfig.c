/*
 * reconfig - configuration changes at run time (see reconfig.h): load,
 * check, write the drop-in, apply. Applying goes in an order where each
 * step finds what it needs: VMs that go (or whose pools change) leave the
 * transports and the core first, then the pools that go; the core follows
 * the new configuration; new pools, then new VMs, come last.
 */
#include "reconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "ivshmem_server.h"
#include "log.h"
#include "pool.h"
#include "util.h"
#include "vhost_user_server.h"

static const char *kind(const struct reconfig_change *ch)
{
	return ch->pool ? "pool" : "vm";
}

static int dropin_name(const struct reconfig_change *ch, char *buf, size_t len)
{
	return str_printf(buf, len, "%s-%s.conf", kind(ch), ch->name);
}

/* Where @cfg defines the VM or pool @ch names: its file index, or -1. */
static int defined_in(const struct config *cfg, const struct reconfig_change *ch,
		      unsigned int *line)
{
	int i = ch->pool ? config_find_pool(cfg, ch->name) : config_find_vm(cfg, ch->name);

	if (i < 0)
		return -1;
	*line = ch->pool ? cfg->pools[i].line : cfg->vms[i].line;
	return (int)(ch->pool ? cfg->pools[i].file : cfg->vms[i].file);
}

/* Is file @file of @cfg the drop-in called @name? */
static bool is_file(const struct config *cfg, unsigned int file, const char *name)
{
	const char *path = cfg->files[file];
	size_t n = strlen(path), k = strlen(name);

	return config_is_dropin(file) && n > k && path[n - k - 1] == '/' &&
	       !strcmp(path + n - k, name);
}

/* What the request itself must be, against the configuration as it is. */
static int check_request(const struct reconfig *rc, const struct reconfig_change *ch,
			 char *msg, size_t len)
{
	char name[CONFIG_NAME_MAX + 16];
	unsigned int line;
	int file;

	if (ch->op == RECONFIG_RELOAD)
		return 0;
	dropin_name(ch, name, sizeof(name));
	file = defined_in(rc->cfg, ch, &line);
	switch (ch->op) {
	case RECONFIG_RELOAD:
		return 0;
	case RECONFIG_REMOVE:
		if (file < 0) {
			snprintf(msg, len, "no %s '%s'", kind(ch), ch->name);
			return -ENOENT;
		}
		if (!is_file(rc->cfg, file, name)) {
			snprintf(msg, len, "%s '%s' is defined in %s:%u, not added at run time: "
				 "edit that file and reload", kind(ch), ch->name,
				 rc->cfg->files[file], line);
			return -EPERM;
		}
		return 0;
	case RECONFIG_ADD:
	case RECONFIG_SET:
		if (file >= 0 && (ch->op == RECONFIG_ADD || !is_file(rc->cfg, file, name))) {
			snprintf(msg, len, "%s '%s' exists already (%s:%u)", kind(ch), ch->name,
				 rc->cfg->files[file], line);
			return -EEXIST;
		}
		break;
	}
	return 0;
}

/* The new drop-in holds exactly the section it is named for. */
static int check_shape(const struct reconfig_change *ch, const struct config *next, char *msg,
		       size_t len)
{
	char name[CONFIG_NAME_MAX + 16];
	unsigned int right = 0, wrong = 0;

	if (ch->op != RECONFIG_ADD && ch->op != RECONFIG_SET)
		return 0;
	dropin_name(ch, name, sizeof(name));
	for (unsigned int i = 0; i < next->nvms; i++) {
		if (!is_file(next, next->vms[i].file, name))
			continue;
		if (ch->pool || strcmp(next->vms[i].name, ch->name))
			wrong++;
		else
			right++;
	}
	for (unsigned int i = 0; i < next->npools; i++) {
		if (!is_file(next, next->pools[i].file, name))
			continue;
		if (!ch->pool || strcmp(next->pools[i].name, ch->name))
			wrong++;
		else
			right++;
	}
	if (right != 1 || wrong) {
		snprintf(msg, len, "the text must define [%s %s] and nothing else", kind(ch), ch->name);
		return -EINVAL;
	}
	return 0;
}

/* Would @vm be in other pools under @next (index @k there) than it is now? */
static bool pools_change(const struct core_vm *vm, const struct config *next, int k)
{
	unsigned int now = core_vm_pool_count(vm), then = 0;

	for (unsigned int i = 0; i < next->npools; i++) {
		bool found = false;

		if (!next->pools[i].member[k])
			continue;
		then++;
		for (unsigned int j = 0; j < now; j++)
			found |= !strcmp(core_vm_pool(vm, j)->name, next->pools[i].name);
		if (!found)
			return true;
	}
	return now != then;
}

/* Does pool @p go (or get a new size, which is the same) under @next? */
static bool pool_goes(const struct pool *p, const struct config *next)
{
	int k = config_find_pool(next, p->name);

	return k < 0 || next->pools[k].size != p->size;
}

/* Does @vm go, or come back with other pools (it is in a pool that goes)? */
static bool vm_goes(const struct core_vm *vm, const struct config *next)
{
	int k = config_find_vm(next, core_vm_name(vm));

	if (k < 0 || pools_change(vm, next, k))
		return true;
	for (unsigned int i = 0; i < core_vm_pool_count(vm); i++)
		if (pool_goes(core_vm_pool(vm, i), next))
			return true;
	return false;
}

static int check_same(const char *key, const char *was, const char *now, char *msg, size_t len)
{
	if (!strcmp(was, now))
		return 0;
	snprintf(msg, len, "[vmbufd] %s changed ('%s', now '%s'): that needs a restart of vmbufd",
		 key, was, now);
	return -EINVAL;
}

/* What runs must allow the change. */
static int check_running(const struct reconfig *rc, const struct config *next, char *msg,
			 size_t len)
{
	const struct config *cur = rc->cfg;
	struct core *c = rc->core;
	int r;

	if ((r = check_same("socket-dir", cur->socket_dir, next->socket_dir, msg, len)) < 0 ||
	    (r = check_same("state-dir", cur->state_dir, next->state_dir, msg, len)) < 0 ||
	    (r = check_same("socket-group", cur->socket_group, next->socket_group, msg, len)) < 0 ||
	    (r = check_same("host-group", cur->host_group, next->host_group, msg, len)) < 0)
		return r;
	for (unsigned int i = 0; i < core_pool_count(c); i++) {
		struct pool *p = core_pool_at(c, i);
		const char *vm;
		char why[128];

		if (!p || !pool_goes(p, next))
			continue;
		r = core_pool_busy(c, p, why, sizeof(why));
		if (r >= 0 && ivshmem_server_pool_busy(rc->ivshmem, p, &vm)) {
			snprintf(why, sizeof(why), "vm '%s' has it mapped", vm);
			r = -EBUSY;
		}
		if (r < 0) {
			snprintf(msg, len, "pool '%s' is in use (%s): it cannot be %s now", p->name,
				 why, config_find_pool(next, p->name) < 0 ? "removed" : "resized");
			return r;
		}
	}
	for (unsigned int i = 0; i < core_vm_count(c); i++) {
		struct core_vm *vm = core_vm_at(c, i);
		int k;

		if (!vm || !core_vm_connected(vm))
			continue;
		k = config_find_vm(next, core_vm_name(vm));
		if (k >= 0 && vm_goes(vm, next)) {
			snprintf(msg, len, "vm '%s' is connected: its pools can change only while it is "
				 "not", core_vm_name(vm));
			return -EBUSY;
		}
	}
	return 0;
}

/* Write the drop-in for an ADD or SET: a hidden temporary file, then rename. */
static int write_dropin(const struct config *cfg, const char *name, const char *text, char *msg,
			size_t len)
{
	char dir[CONFIG_PATH_MAX], path[CONFIG_PATH_MAX + 40], tmp[CONFIG_PATH_MAX + 40];
	int fd, r = 0;
	size_t n = strlen(text);

	if (config_dropin_path(cfg, NULL, dir, sizeof(dir)) < 0 ||
	    str_printf(path, sizeof(path), "%s/%s", dir, name) < 0 ||
	    str_printf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) < 0) {
		snprintf(msg, len, "state-dir path too long");
		return -ENAMETOOLONG;
	}
	if ((mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0755) < 0 && errno != EEXIST)) {
		r = -errno;
		snprintf(msg, len, "%s: %s", dir, strerror(-r));
		return r;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	if (fd >= 0 && close(fd) < 0 && r >= 0)
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		snprintf(msg, len, "%s: %s", path, strerror(-r));
		unlink(tmp);
	}
	return r;
}

static int remove_dropin(const struct config *cfg, const char *name, char *msg, size_t len)
{
	char path[CONFIG_PATH_MAX];

	if (config_dropin_path(cfg, name, path, sizeof(path)) < 0 ||
	    (unlink(path) < 0 && errno != ENOENT)) {
		snprintf(msg, len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

struct tally {
	unsigned int vms_added, vms_removed, vms_changed, pools_added, pools_removed;
	int err;
	char first[160];
};

static void failed(struct tally *t, int r, const char *what, const char *name)
{
	if (t->err)
		return;
	t->err = r;
	snprintf(t->first, sizeof(t->first), "%s '%s': %s", what, name, strerror(-r));
}

/* Make what runs match @next (checked); the old configuration is freed. */
static void apply(struct reconfig *rc, struct config *next, struct tally *t)
{
	static char back[CONFIG_MAX_VMS][CONFIG_NAME_MAX];	/* go, and come back with other pools */
	struct core *c = rc->core;
	struct core_vm *gone[CONFIG_MAX_VMS];
	unsigned int ngone = 0, nback = 0;

	for (unsigned int i = 0; i < core_vm_count(c); i++) {
		struct core_vm *vm = core_vm_at(c, i);

		if (vm && vm_goes(vm, next))
			gone[ngone++] = vm;
	}
	for (unsigned int i = 0; i < ngone; i++) {
		bool returns = config_find_vm(next, core_vm_name(gone[i])) >= 0;

		if (!returns)
			log_info("vm '%s': removed%s", core_vm_name(gone[i]),
				 core_vm_connected(gone[i]) ? " (it was connected)" : "");
		else
			snprintf(back[nback++], CONFIG_NAME_MAX, "%s", core_vm_name(gone[i]));
		t->vms_removed += !returns;
		ivshmem_server_vm_remove(rc->ivshmem, gone[i]);
		vhost_user_server_vm_remove(rc->vhost_user, gone[i]);
		core_vm_remove(gone[i]);
	}
	for (unsigned int i = 0; i < core_pool_count(c); i++) {
		struct pool *p = core_pool_at(c, i);

		if (!p || !pool_goes(p, next))
			continue;
		log_info("pool '%s': removed", p->name);
		t->pools_removed++;
		ivshmem_server_pool_remove(rc->ivshmem, p);
		core_pool_remove(c, p);
	}
	core_set_config(c, next);
	free(rc->cfg);
	rc->cfg = next;
	for (unsigned int i = 0; i < next->npools; i++) {
		struct pool *p;
		int r;

		if (core_pool_by_name(c, next->pools[i].name))
			continue;
		r = core_pool_add(c, &next->pools[i], &p);
		if (r >= 0) {
			r = ivshmem_server_pool_add(rc->ivshmem, p);
			if (r < 0)
				core_pool_remove(c, p);
		}
		if (r < 0) {
			failed(t, r, "pool", next->pools[i].name);
			continue;
		}
		log_info("pool '%s': added, %llu bytes", p->name, (unsigned long long)p->size);
		t->pools_added++;
	}
	for (unsigned int i = 0; i < next->nvms; i++) {
		struct core_vm *vm;
		unsigned int k;
		int r;

		if (core_vm_by_name(c, next->vms[i].name))
			continue;
		r = core_vm_add(c, &next->vms[i], &vm);
		if (r >= 0) {
			r = ivshmem_server_vm_add(rc->ivshmem, vm);
			if (r >= 0)
				r = vhost_user_server_vm_add(rc->vhost_user, vm);
			if (r < 0) {
				ivshmem_server_vm_remove(rc->ivshmem, vm);
				core_vm_remove(vm);
			}
		}
		if (r < 0) {
			failed(t, r, "vm", next->vms[i].name);
			continue;
		}
		for (k = 0; k < nback && strcmp(back[k], next->vms[i].name); k++)
			;
		log_info("vm '%s': %s, %u pool(s)", core_vm_name(vm), k < nback ? "pools changed" : "added",
			 core_vm_pool_count(vm));
		t->vms_added += k == nback;
		t->vms_changed += k < nback;
	}
}

/* "1 VM added, 2 VMs with other pools": what changed, or "no change". */
static void summary(const struct tally *t, char *msg, size_t len)
{
	const struct {
		unsigned int n;
		const char *one, *many;
	} parts[] = {
		{ t->vms_added, "VM added", "VMs added" },
		{ t->vms_removed, "VM removed", "VMs removed" },
		{ t->pools_added, "pool added", "pools added" },
		{ t->pools_removed, "pool removed", "pools removed" },
		{ t->vms_changed, "VM with other pools", "VMs with other pools" },
	};
	size_t at = 0;

	msg[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(parts) && at < len; i++)
		if (parts[i].n)
			at += snprintf(msg + at, len - at, "%s%u %s", at ? ", " : "", parts[i].n,
				       parts[i].n == 1 ? parts[i].one : parts[i].many);
	if (!at)
		snprintf(msg, len, "no change");
}

int reconfig_apply(struct reconfig *rc, const struct reconfig_change *ch, char *msg, size_t len)
{
	char name[CONFIG_NAME_MAX + 16], err[512];
	struct tally t = { 0 };
	struct config *next;
	int r;

	if (ch->op != RECONFIG_RELOAD && (!name_valid(ch->name) || dropin_name(ch, name, sizeof(name)) < 0)) {
		snprintf(msg, len, "invalid %s name '%s'", kind(ch), ch->name);
		return -EINVAL;
	}
	next = malloc(sizeof(*next));
	if (!next) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	config_init(next);
	r = check_request(rc, ch, msg, len);
	if (r < 0)
		goto refused;
	r = config_load_change(next, rc->path, ch->op == RECONFIG_RELOAD ? NULL : name,
			       ch->op == RECONFIG_ADD || ch->op == RECONFIG_SET ? ch->text : NULL,
			       err, sizeof(err));
	if (r < 0) {
		snprintf(msg, len, "%s", err);
		goto refused;
	}
	if (rc->socket_dir)
		snprintf(next->socket_dir, sizeof(next->socket_dir), "%s", rc->socket_dir);
	r = check_shape(ch, next, msg, len);
	if (r >= 0)
		r = check_running(rc, next, msg, len);
	if (r >= 0 && (ch->op == RECONFIG_ADD || ch->op == RECONFIG_SET))
		r = write_dropin(next, name, ch->text, msg, len);
	else if (r >= 0 && ch->op == RECONFIG_REMOVE)
		r = remove_dropin(next, name, msg, len);
	if (r < 0)
		goto refused;
	apply(rc, next, &t);
	if (t.err) {
		snprintf(msg, len, "applied in part: %s (the files say what the next reload tries)",
			 t.first);
		log_err("configuration change applied in part: %s", t.first);
		return t.err;
	}
	summary(&t, msg, len);
	log_info("configuration %s: %s", ch->op == RECONFIG_RELOAD ? "reloaded" : "changed", msg);
	return 0;

refused:
	log_warn("configuration change refused: %s", msg);
	free(next);
	return r;
}
