/*
 * libvirt - libvirt-xml and libvirt-hook (see libvirt.h).
 *
 * The hook parses the domain XML with libxml2, with no network and no
 * entity expansion, and turns the vmbuf element into the text of one [vm]
 * section, through the same checks as `vmbufctl vm add`; the daemon then
 * checks that text like its own files (docs/libvirt.md).
 */
#include "libvirt.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "hostproto.h"
#include <linux/virtio_vmbuf.h>
#include <linux/vmbuf_ivshmem.h>
#include "util.h"

#define DEFAULT_CONFIG "/etc/vmbuf/vmbufd.conf"
#define HOOK_XML_MAX (16u << 20)	/* libvirt's own limit on domain XML is 10 MiB */

/* One ivshmem-doorbell <shmem> on socket SOCKET_DIR/VM/@sock. */
static void xml_shmem(const struct config *cfg, const char *vm, const char *name,
		      const char *sock, int vectors)
{
	printf("<shmem name='vmbuf-%s'>\n"
	       "  <model type='ivshmem-doorbell'/>\n"
	       "  <server path='%s/%s/%s.sock'/>\n"
	       "  <msi vectors='%d' ioeventfd='on'/>\n"
	       "</shmem>\n", name, cfg->socket_dir, vm, sock, vectors);
}

/* ivshmem: the control device and one device per pool, for <devices>. */
static void xml_ivshmem(const struct config *cfg, int v)
{
	const char *vm = cfg->vms[v].name;
	char name[CONFIG_NAME_MAX + 8], sock[CONFIG_NAME_MAX + 8];

	snprintf(name, sizeof(name), "ctl-%s", vm);
	xml_shmem(cfg, vm, name, "ctl", VMBUF_IVSHMEM_CTL_VECTORS);
	for (unsigned int p = 0; p < cfg->npools; p++) {
		if (!cfg->pools[p].member[v])
			continue;
		snprintf(name, sizeof(name), "pool-%s", cfg->pools[p].name);
		snprintf(sock, sizeof(sock), "pool-%s", cfg->pools[p].name);
		xml_shmem(cfg, vm, name, sock, VMBUF_IVSHMEM_POOL_VECTORS);
	}
}

/*
 * vhost-user: libvirt has no element for QEMU's generic vhost-user device,
 * so the device goes in as QEMU arguments; guest RAM must be a shared memfd.
 * Pools need no device: vmbufd maps single buffers into the device's region.
 */
static void xml_vhost_user(const struct config *cfg, int v)
{
	const char *vm = cfg->vms[v].name;

	printf("<!-- Put these directly under <domain>, which must declare\n"
	       "     xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'. libvirt marks the\n"
	       "     domain tainted (custom-argv): it does not manage this device. -->\n"
	       "<memoryBacking>\n"
	       "  <source type='memfd'/>\n"
	       "  <access mode='shared'/>\n"
	       "</memoryBacking>\n"
	       "<qemu:commandline>\n"
	       "  <qemu:arg value='-chardev'/>\n"
	       "  <qemu:arg value='socket,id=vmbuf-ctl,path=%s/%s/vhost-user.sock'/>\n"
	       "  <qemu:arg value='-device'/>\n"
	       "  <qemu:arg value='vhost-user-test-device-pci,chardev=vmbuf-ctl,virtio-id=%d,"
	       "num_vqs=%d,config_size=%zu'/>\n"
	       "</qemu:commandline>\n", cfg->socket_dir, vm, VIRTIO_VMBUF_DEVICE_ID,
	       VIRTIO_VMBUF_NUM_VQS, sizeof(struct virtio_vmbuf_config));
}

/* 32M rather than 33554432, as people write it. */
static void size_text(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "KMG";
	int u = -1;

	while (u < 2 && v && !(v & 1023))
		v >>= 10, u++;
	snprintf(buf, len, "%llu%.*s", (unsigned long long)v, u >= 0, u >= 0 ? units + u : "");
}

/* The metadata element for VM @v: what the hook turns back into its section. */
static void xml_metadata(const struct config *cfg, int v)
{
	const struct config_vm *vm = &cfg->vms[v];
	char quota[32];

	size_text(quota, sizeof(quota), vm->quota);
	printf("<vmbuf:vm xmlns:vmbuf='%s' name='%s' quota='%s' max-buffers='%u' "
	       "max-waiters='%u'", VMBUF_LIBVIRT_NS, vm->name, quota, vm->max_buffers,
	       vm->max_waiters);
	if (vm->fence_timeout_ms)
		printf(" fence-timeout-ms='%u'", vm->fence_timeout_ms);
	printf(">\n");
	for (unsigned int p = 0; p < cfg->npools; p++)
		if (cfg->pools[p].member[v])
			printf("  <vmbuf:pool name='%s'/>\n", cfg->pools[p].name);
	printf("</vmbuf:vm>\n");
}

static int xml_usage(void)
{
	fprintf(stderr, "vmbufctl: usage: libvirt-xml [-c CONFIG] [-t ivshmem|vhost-user] "
			"[--devices | --metadata] VM [--pools P,...] [--quota SIZE] ...\n");
	return 2;
}

int libvirt_cmd_xml(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG, *vm = NULL, *transport = "ivshmem";
	bool devices = true, metadata = true;
	static struct config cfg;
	char err[512], text[VMBUF_HOST_CONFIG_TEXT_MAX], dropin[CONFIG_NAME_MAX + 16];
	int i, v;

	for (i = 1; i < argc && !vm; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			path = argv[++i];
		else if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "--transport")) && i + 1 < argc)
			transport = argv[++i];
		else if (!strcmp(argv[i], "--devices"))
			metadata = false;
		else if (!strcmp(argv[i], "--metadata"))
			devices = false;
		else if (argv[i][0] != '-')
			vm = argv[i];
		else
			return xml_usage();
	}
	if (!vm || (!devices && !metadata))
		return xml_usage();
	if (strcmp(transport, "ivshmem") && strcmp(transport, "vhost-user")) {
		fprintf(stderr, "vmbufctl: libvirt-xml: unknown transport '%s' (ivshmem, vhost-user)\n",
			transport);
		return 2;
	}
	config_init(&cfg);
	if (config_load(&cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmbufctl: %s\n", err);
		return 1;
	}
	v = config_find_vm(&cfg, vm);
	if (i < argc) {
		/* A VM libvirt will register: its section as the hook would set it. */
		if (v >= 0 && !config_is_dropin(cfg.vms[v].file)) {
			fprintf(stderr, "vmbufctl: libvirt-xml '%s': defined in %s:%u; options are for "
				"a VM the hook registers (EEXIST)\n", vm, cfg.files[0], cfg.vms[v].line);
			return 1;
		}
		v = admin_vm_section(vm, "libvirt-xml", argc - i, argv + i, text, sizeof(text));
		if (v)
			return v;
		snprintf(dropin, sizeof(dropin), "vm-%s.conf", vm);
		config_init(&cfg);
		if (config_load_change(&cfg, path, dropin, text, err, sizeof(err)) < 0) {
			fprintf(stderr, "vmbufctl: libvirt-xml '%s': %s\n", vm, err);
			return 1;
		}
		v = config_find_vm(&cfg, vm);
	} else if (v < 0) {
		fprintf(stderr, "vmbufctl: libvirt-xml '%s': no such VM in %s (ENOENT); add it, or "
			"give its --pools for the libvirt hook\n", vm, path);
		return 1;
	}
	if (devices) {
		printf("<!-- vmbuf for VM '%s' (from %s), %s transport -->\n", vm, path, transport);
		if (!strcmp(transport, "ivshmem"))
			xml_ivshmem(&cfg, v);
		else
			xml_vhost_user(&cfg, v);
	}
	if (devices && metadata)
		printf("<!-- Under <metadata>, for the libvirt hook (docs/libvirt.md): -->\n");
	if (metadata)
		xml_metadata(&cfg, v);
	return 0;
}

/* ---- the hook ---- */

struct hook_vm {
	char name[CONFIG_NAME_MAX];
	char text[VMBUF_HOST_CONFIG_TEXT_MAX];	/* the [vm] section */
};

static bool is_vmbuf(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       !strcmp((const char *)n->ns->href, VMBUF_LIBVIRT_NS) &&
	       !strcmp((const char *)n->name, name);
}

/* The one vmbuf element under <domain><metadata>, NULL if none; -EINVAL if two. */
static int find_element(xmlNode *root, xmlNode **out, char *err, size_t len)
{
	*out = NULL;
	if (!root || root->type != XML_ELEMENT_NODE || strcmp((const char *)root->name, "domain")) {
		snprintf(err, len, "the XML on standard input is not a <domain>");
		return -EINVAL;
	}
	for (xmlNode *m = root->children; m; m = m->next) {
		if (m->type != XML_ELEMENT_NODE || m->ns || strcmp((const char *)m->name, "metadata"))
			continue;
		for (xmlNode *n = m->children; n; n = n->next) {
			if (!is_vmbuf(n, "vm"))
				continue;
			if (*out) {
				snprintf(err, len, "two <vmbuf:vm> elements in <metadata>");
				return -EINVAL;
			}
			*out = n;
		}
	}
	return 0;
}

/* "K='V'" of an attribute, or of a pool's name, checked and added to the section. */
static int element_to_section(xmlNode *e, const char *domain, struct hook_vm *vm, char *err,
			      size_t len)
{
	static const char *const keys[] = { "quota", "max-buffers", "max-waiters",
					    "fence-timeout-ms" };
	char pools[CONFIG_POOLS_PER_VM * (CONFIG_NAME_MAX + 1)] = "", origin[160];
	xmlChar *name = xmlGetNoNsProp(e, (const xmlChar *)"name");
	int r;

	snprintf(vm->name, sizeof(vm->name), "%s", name ? (const char *)name : domain);
	if (name && strlen((const char *)name) >= sizeof(vm->name))
		vm->name[0] = '\0';	/* refused just below, as any bad name */
	xmlFree(name);
	snprintf(origin, sizeof(origin), "Set by libvirt's hook for domain '%.64s' (vmbufctl "
		 "libvirt-hook); removed at its release.", domain);
	r = admin_section_start(vm->text, sizeof(vm->text), "vm", vm->name, origin, err, len);
	for (xmlAttr *a = e->properties; r >= 0 && a; a = a->next) {
		const char *key = (const char *)a->name;
		unsigned int k = 0;
		xmlChar *val;

		if (!strcmp(key, "name"))
			continue;
		while (k < ARRAY_SIZE(keys) && strcmp(key, keys[k]))
			k++;
		if (a->ns || k == ARRAY_SIZE(keys)) {
			snprintf(err, len, "<vmbuf:vm>: unknown attribute '%s' (name, quota, "
				 "max-buffers, max-waiters, fence-timeout-ms)", key);
			return -EINVAL;
		}
		val = xmlNodeGetContent((xmlNode *)a);
		r = admin_section_line(vm->text, sizeof(vm->text), key, val ? (char *)val : "",
				       err, len);
		xmlFree(val);
	}
	for (xmlNode *n = e->children; r >= 0 && n; n = n->next) {
		xmlChar *pool;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!is_vmbuf(n, "pool")) {
			snprintf(err, len, "<vmbuf:vm>: unknown element <%s> (only <vmbuf:pool "
				 "name='POOL'/>)", (const char *)n->name);
			return -EINVAL;
		}
		pool = xmlGetNoNsProp(n, (const xmlChar *)"name");
		if (!pool || !*pool || strpbrk((const char *)pool, " \t,") ||
		    strlen(pools) + strlen((const char *)pool) + 2 > sizeof(pools)) {
			snprintf(err, len, "<vmbuf:pool>: a name= without spaces or commas, at most "
				 "%d pools", CONFIG_POOLS_PER_VM);
			xmlFree(pool);
			return -EINVAL;
		}
		strcat(strcat(pools, *pools ? " " : ""), (const char *)pool);
		xmlFree(pool);
	}
	if (r >= 0 && *pools)
		r = admin_section_line(vm->text, sizeof(vm->text), "pools", pools, err, len);
	return r;
}

/* Read standard input to its end (libvirt writes all of it) and find our VM. */
static int read_domain(const char *domain, struct hook_vm *vm, bool *found, char *err,
		       size_t len)
{
	size_t n = 0, cap = 0;
	char *buf = NULL;
	xmlDoc *doc;
	xmlNode *e;
	int r = 0;

	*found = false;
	for (;;) {
		ssize_t got;

		if (n == cap) {
			char *b = cap >= HOOK_XML_MAX ? NULL : realloc(buf, cap = cap ? 2 * cap : 65536);

			if (!b) {
				free(buf);
				snprintf(err, len, "the domain XML is larger than %u MiB",
					 HOOK_XML_MAX >> 20);
				return -E2BIG;
			}
			buf = b;
		}
		got = read(STDIN_FILENO, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			free(buf);
			snprintf(err, len, "reading the domain XML: %s", strerror(-r));
			return r;
		}
		if (got == 0)
			break;
		n += got;
	}
	doc = n ? xmlReadMemory(buf, n, "domain.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
						   XML_PARSE_NOWARNING) : NULL;
	free(buf);
	if (!doc) {
		snprintf(err, len, "the XML on standard input does not parse");
		return -EINVAL;
	}
	r = find_element(xmlDocGetRootElement(doc), &e, err, len);
	if (r >= 0 && e) {
		*found = true;
		r = element_to_section(e, domain, vm, err, len);
	}
	xmlFreeDoc(doc);
	return r;
}

int libvirt_cmd_hook(const char *socket_dir, int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG, *domain, *op, *subop;
	static struct config cfg;
	static struct hook_vm vm;
	char err[512], msg[1024];
	bool set, found = false;
	int i = 1, r;

	if (argc > 2 && !strcmp(argv[1], "-c"))
		path = argv[2], i = 3;
	if (argc - i < 3 || argc - i > 4) {
		fprintf(stderr, "vmbufctl: usage: libvirt-hook [-c CONFIG] DOMAIN OPERATION "
				"SUBOPERATION [EXTRA] < DOMAIN.xml (run by libvirtd)\n");
		return 2;
	}
	domain = argv[i], op = argv[i + 1], subop = argv[i + 2];
	r = read_domain(domain, &vm, &found, err, sizeof(err));
	set = !strcmp(subop, "begin") &&
	      (!strcmp(op, "prepare") || !strcmp(op, "reconnect") || !strcmp(op, "attach"));
	if (!set && (strcmp(op, "release") || strcmp(subop, "end")))
		return 0;
	if (r < 0) {
		/* A domain we cannot read must not start; one going away still goes. */
		fprintf(stderr, "vmbufctl: libvirt-hook '%s': %s (%s)\n", domain, err,
			errno_name(-r));
		return set;
	}
	if (!found)
		return 0;
	config_init(&cfg);
	if (access(path, F_OK) == 0) {
		if ((r = config_load(&cfg, path, err, sizeof(err))) < 0) {
			fprintf(stderr, "vmbufctl: libvirt-hook '%s': %s\n", domain, err);
			if (set)
				return 1;
		}
		socket_dir = cfg.socket_dir;
	}
	if (!set) {
		char sock[CONFIG_PATH_MAX + 16];

		/* The drop-in then stays until the domain next starts and stops (docs/libvirt.md). */
		snprintf(sock, sizeof(sock), "%s/%s", socket_dir, VMBUF_HOST_SOCK);
		if (access(sock, F_OK) < 0) {
			fprintf(stderr, "vmbufctl: libvirt-hook '%s': vm '%s' not removed: vmbufd is "
				"not running (no %s)\n", domain, vm.name, sock);
			return 0;
		}
		r = admin_request(socket_dir, VMBUF_HOST_CONFIG_REMOVE, VMBUF_HOST_KIND_VM, vm.name,
				  NULL, msg, sizeof(msg));
		/* Not there (ENOENT) or configured by hand (EPERM): nothing of ours to undo. */
		if (r < 0 && r != -ENOENT && r != -EPERM)
			fprintf(stderr, "vmbufctl: libvirt-hook '%s': vm '%s' not removed: %s (%s)\n",
				domain, vm.name, msg, errno_name(-r));
		return 0;
	}
	r = admin_request(socket_dir, VMBUF_HOST_CONFIG_SET, VMBUF_HOST_KIND_VM, vm.name, vm.text,
			  msg, sizeof(msg));
	if (r == -EEXIST) {
		/* In vmbufd.conf itself: the operator's word stands over the metadata. */
		fprintf(stderr, "vmbufctl: libvirt-hook '%s': vm '%s' is configured by hand; the "
			"metadata is not used (%s)\n", domain, vm.name, msg);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "vmbufctl: libvirt-hook '%s': vm '%s': %s (%s)\n", domain, vm.name,
			msg, errno_name(-r));
		return 1;
	}
	return 0;
}
