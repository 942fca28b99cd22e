/*
 * test_config - vmbufd.conf parsing: a table of good and bad files, pool
 * membership from either side, and a main file with drop-ins on disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "../check.h"

static int parse(const char *text, struct config *cfg, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	config_init(cfg);
	r = config_parse(cfg, f, "test.conf", err, errlen);
	fclose(f);
	return r;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* A main file and drop-ins in a temporary state-dir, as the daemon reads them. */
static void dropins(void)
{
	static struct config cfg;
	char dir[] = "/tmp/test_config.XXXXXX", main_path[256], d[256], path[300], text[512], err[512];

	CHECK(mkdtemp(dir) != NULL, "temporary state-dir");
	snprintf(main_path, sizeof(main_path), "%s/vmbufd.conf", dir);
	snprintf(text, sizeof(text), "[vmbufd]\nstate-dir = %s\n[vm a]\n[pool p]\nsize = 2M\nmembers = a\n",
		 dir);
	write_file(main_path, text);
	config_init(&cfg);
	CHECK(config_load(&cfg, main_path, err, sizeof(err)) == 0 && cfg.nvms == 1 && cfg.nfiles == 1,
	      "no drop-in directory: the main file alone (%s)", err);
	config_dropin_path(&cfg, NULL, d, sizeof(d));
	mkdir(d, 0755);
	snprintf(path, sizeof(path), "%s/vm-b.conf", d);
	write_file(path, "[vm b]\nquota = 4M\npools = p q\n");
	snprintf(path, sizeof(path), "%s/pool-q.conf", d);
	write_file(path, "[pool q]\nsize = 4M\n");
	snprintf(path, sizeof(path), "%s/notes.txt", d);
	write_file(path, "not a drop-in\n");
	config_init(&cfg);
	CHECK(config_load(&cfg, main_path, err, sizeof(err)) == 0 && cfg.nvms == 2 &&
	      cfg.npools == 2 && cfg.nfiles == 3, "drop-ins read, other files ignored (%s)", err);
	CHECK(config_find_vm(&cfg, "b") == 1 && cfg.vms[1].quota == 4ull << 20 &&
	      cfg.pools[0].member[1] && cfg.pools[1].member[1] && !cfg.pools[1].member[0] &&
	      config_is_dropin(cfg.vms[1].file) && !config_is_dropin(cfg.vms[0].file) &&
	      strstr(cfg.files[cfg.vms[1].file], "vmbufd.conf.d/vm-b.conf"),
	      "a drop-in VM joins pools of the main file and of other drop-ins");
	config_init(&cfg);
	CHECK(config_load_change(&cfg, main_path, "vm-b.conf", NULL, err, sizeof(err)) == 0 &&
	      cfg.nvms == 1, "a drop-in left out (remove)");
	config_init(&cfg);
	CHECK(config_load_change(&cfg, main_path, "pool-q.conf", NULL, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "vm-b.conf:3: VM 'b' names unknown pool 'q'"),
	      "leaving out a pool another drop-in uses says which line needs it (%s)", err);
	config_init(&cfg);
	CHECK(config_load_change(&cfg, main_path, "vm-c.conf", "[vm c]\npools = q\n", err,
				 sizeof(err)) == 0 && cfg.nvms == 3 && cfg.pools[1].member[2],
	      "a new drop-in from text (add) (%s)", err);
	config_init(&cfg);
	CHECK(config_load_change(&cfg, main_path, "vm-c.conf", "[vm a]\n", err, sizeof(err)) ==
		      -EINVAL && strstr(err, "vm-c.conf:1: VM 'a' defined twice (first at ") &&
	      strstr(err, "/vmbufd.conf:3)"), "a name taken in another file: both places named (%s)",
	      err);
	config_init(&cfg);
	CHECK(config_load_change(&cfg, main_path, "vm-c.conf", "[vmbufd]\n", err, sizeof(err)) ==
		      -EINVAL && strstr(err, "[vmbufd] belongs in the main file"),
	      "[vmbufd] in a drop-in: refused (%s)", err);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0, "clean up");
}

int main(void)
{
	static struct config cfg;
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "[vmbufd]\nbogus = 1\n", "test.conf:2: unknown key 'bogus'" },
		{ "[vm a]\n[pool p]\nsize = 3M\nmembers = a\n", "test.conf:3: pool size 3M must be a power of two" },
		{ "[vm a]\n[pool p]\nsize = 1M\n", "test.conf:3: pool size 1M must be a power of two from 2M" },
		{ "[vm a]\n[pool p]\nsize = 2M\n[pool p]\nsize = 4M\n", "test.conf:4: pool 'p' defined twice" },
		{ "[vm a]\n[vm a]\n", "test.conf:2: VM 'a' defined twice" },
		{ "[pool p]\nsize = 2M\nmembers = ghost\n", "test.conf:3: pool 'p' names unknown VM 'ghost'" },
		{ "[vm a]\n[pool p]\nsize = 2M\nmembers = a a\n", "test.conf:4: VM 'a' listed twice" },
		{ "[vm a]\n[pool p]\nmembers = a\n", "test.conf:2: pool 'p' has no size" },
		{ "[frob]\n", "test.conf:1: unknown section 'frob'" },
		{ "size = 2M\n", "test.conf:1: 'size' outside a section" },
		{ "[vm bad/name]\n", "test.conf:1: invalid vm name 'bad/name'" },
		{ "[vm a]\nquota = lots\n", "test.conf:2: quota must be a size" },
		{ "[vmbufd]\nsocket-dir = relative\n", "test.conf:2: socket-dir must be an absolute path" },
		{ "[vmbufd\n", "test.conf:1: malformed section header" },
		{ "[vm a]\njust words\n", "test.conf:2: expected 'key = value'" },
		{ "[vm a]\npools = q\n", "test.conf:2: VM 'a' names unknown pool 'q'" },
		{ "[vm a]\npools = p p\n[pool p]\nsize = 2M\n", "test.conf:2: pool 'p' listed twice for VM 'a'" },
		{ "[vmbufd]\nstate-dir = var\n", "test.conf:2: state-dir must be an absolute path" },
	};
	char err[512];

	CHECK(parse("# comment\n[vmbufd]\nsocket-dir = /tmp/x # trailing\nfence-timeout-ms = 500\n"
		    "[vm display]\nquota = 64M\n[vm camera]\n"
		    "[pool frames]\nsize = 64M\nmembers = display, camera\n"
		    "[pool small]\nsize = 2MiB\nmembers = camera\n", &cfg, err, sizeof(err)) == 0,
	      "a good file parses (%s)", err);
	CHECK(!strcmp(cfg.socket_dir, "/tmp/x") && cfg.fence_timeout_ms == 500, "daemon keys");
	CHECK(cfg.nvms == 2 && cfg.vms[0].quota == 64ull << 20 && cfg.vms[1].quota == 0, "VMs and quotas");
	CHECK(cfg.npools == 2 && cfg.pools[0].size == 64ull << 20 && cfg.pools[0].member[0] &&
	      cfg.pools[0].member[1] && !cfg.pools[1].member[0] && cfg.pools[1].member[1] &&
	      cfg.pools[1].size == 2ull << 20, "pools, sizes and members");
	CHECK(parse("", &cfg, err, sizeof(err)) == 0 && !strcmp(cfg.socket_dir, "/run/vmbuf"),
	      "empty file: defaults");
	CHECK(parse("[vm a]\npools = p, q\n[vm b]\n[pool p]\nsize = 2M\nmembers = a b\n"
		    "[pool q]\nsize = 2M\n", &cfg, err, sizeof(err)) == 0 &&
	      cfg.pools[0].member[0] && cfg.pools[0].member[1] && cfg.pools[1].member[0] &&
	      !cfg.pools[1].member[1], "membership from the VM side, the pool side or both (%s)", err);
	{
		char text[4096];
		int n = snprintf(text, sizeof(text), "[vm a]\npools =");

		for (int i = 0; i < 17; i++)
			n += snprintf(text + n, sizeof(text) - n, " p%d", i);
		n += snprintf(text + n, sizeof(text) - n, "\n");
		for (int i = 0; i < 17; i++)
			n += snprintf(text + n, sizeof(text) - n, "[pool p%d]\nsize = 2M\n", i);
		CHECK(parse(text, &cfg, err, sizeof(err)) == -EINVAL &&
		      strstr(err, "test.conf:1: VM 'a' is in 17 pools, more than 16"),
		      "more than 16 pools per VM: refused at the VM (%s)", err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i].text, &cfg, err, sizeof(err));

		CHECK(r == -EINVAL && !strncmp(err, bad[i].want, strlen(bad[i].want)),
		      "refused: %s (got '%s')", bad[i].want, err);
	}
	dropins();
	return check_done();
}
