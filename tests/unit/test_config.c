/* test_config - vmbufd.conf parsing: a table of good and bad files. */
#include <string.h>

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
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i].text, &cfg, err, sizeof(err));

		CHECK(r == -EINVAL && !strncmp(err, bad[i].want, strlen(bad[i].want)),
		      "refused: %s (got '%s')", bad[i].want, err);
	}
	return check_done();
}
