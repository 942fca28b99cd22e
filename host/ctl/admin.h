/*
 * admin - the vmbufctl commands that change the daemon's configuration at
 * run time: vm add|remove, pool add|remove, reload (VMBUF_HOST_CONFIG_* on
 * host.sock). The daemon checks a change exactly as it checks its files and
 * keeps it as a drop-in, so it survives a restart (docs/vmbufctl.md).
 */
#ifndef VMBUF_ADMIN_H
#define VMBUF_ADMIN_H

#include <stddef.h>
#include <stdint.h>

/*
 * One configuration request: @op VMBUF_HOST_CONFIG_*, @kind VMBUF_HOST_KIND_*,
 * @text (ADD, SET) the drop-in. Returns 0 or -errno; @msg gets the daemon's
 * answer (what changed, or why nothing did) or why it could not be asked.
 */
int admin_request(const char *socket_dir, uint32_t op, uint32_t kind, const char *name,
		  const char *text, char *msg, size_t len);

/*
 * A drop-in's text: "# @origin", "[@kind @name]", then one line per
 * admin_section_line(). Refused (-EINVAL, why in @err): a name or value that
 * could change the section's shape (line breaks, '#', brackets, '='); commas
 * in a value become spaces (lists).
 */
int admin_section_start(char *text, size_t len, const char *kind, const char *name,
			const char *origin, char *err, size_t errlen);
int admin_section_line(char *text, size_t len, const char *key, const char *val, char *err,
		       size_t errlen);

/*
 * The [vm @name] section for the options of `vm add` in @argv (--pools,
 * --quota, ...): 0, or 2 after a usage message on stderr.
 */
int admin_vm_section(const char *name, const char *origin, int argc, char **argv, char *text,
		     size_t len);

/* vmbufctl vm ..., pool ..., reload (@argv[0] is the command): the exit status. */
int admin_cmd_vm(const char *socket_dir, int argc, char **argv);
int admin_cmd_pool(const char *socket_dir, int argc, char **argv);
int admin_cmd_reload(const char *socket_dir, int argc, char **argv);

#endif
