/*
 * bench_scale - does the daemon's cost grow with what it holds?
 *
 * The real vmbufd (argv[1]) with 16 fake VMs (fakevm.h: the real protocol
 * over real rings and doorbells, no QEMU) in one pool. For each size N it
 * fills the daemon with N live buffers, every one exported under a name and
 * importable by the next VM, then times a mixed load of single requests
 * round-robin over the VMs (in rounds; the median round is printed), each
 * cycle one of:
 *   ALLOC + EXPORT + SIGNAL + REVOKE + FREE       (a short-lived buffer)
 *   IMPORT by handle + IMPORT by name + RELEASE x2 (random live exports)
 *   WATCH + QUERY                                  (a random live timeline)
 * and prints requests/s, p50 and p99 latency, and the daemon's anonymous
 * memory per live buffer (RssAnon growth over the ALLOCs of the fill,
 * divided by N) and per export (over the EXPORTs), with the ratios to the
 * smallest size measured in the same run. Flat means the ratios stay near
 * 1.00.
 *
 *   bench_scale VMBUFD [--sizes 1000,10000,100000] [--cycles N] [--rounds N] [--vms N]
 *
 * Exits 1 only when a request fails or the daemon dies; the numbers are for
 * docs/benchmarks.md, not pass/fail (this machine is too noisy for that).
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fakevm.h"

#define MAX_VMS 64
#define MAX_SIZES 8
#define BATCH 32	/* fakevm_call_many(): half the 64-entry ring */
#define BUF_SIZE 4096

struct live {
	uint64_t id;
	uint8_t handle[VIRTIO_VMBUF_HANDLE_SIZE];
	unsigned int owner;
	unsigned int seq;
};

static struct fakevm vms[MAX_VMS];
static unsigned int nvms = 16;
static struct live *live;
static unsigned int nlive;
static int failed;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void vm_name(char *out, size_t n, unsigned int i)
{
	snprintf(out, n, "v%02u", i);
}

static void buf_name(char *out, size_t n, unsigned int vm, unsigned int seq)
{
	snprintf(out, n, "b%02u-%07u", vm, seq);
}

static int32_t status_of(const void *resp, int len)
{
	const struct virtio_vmbuf_resp *r = resp;

	return len < (int)sizeof(*r) ? -1000 : (int32_t)le32toh(r->status);
}

static void fail(const char *what, int32_t status)
{
	if (failed++ < 10)
		fprintf(stderr, "bench_scale: %s failed (status %d)\n", what, status);
}

static long rss_anon_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void make_alloc(struct virtio_vmbuf_alloc *a)
{
	memset(a, 0, sizeof(*a));
	a->hdr.type = htole32(VIRTIO_VMBUF_REQ_ALLOC);
	a->pool_id = htole32(1);
	a->size = htole64(BUF_SIZE);
}

static void make_export(struct virtio_vmbuf_export *x, unsigned int vm, uint64_t id,
			unsigned int seq)
{
	memset(x, 0, sizeof(*x));
	x->hdr.type = htole32(VIRTIO_VMBUF_REQ_EXPORT);
	x->buffer_id = htole64(id);
	x->flags = htole32(VIRTIO_VMBUF_EXPORT_SIGNAL);
	x->naccess = htole32(1);
	buf_name(x->name, sizeof(x->name), vm, seq);
	vm_name(x->access[0], sizeof(x->access[0]), (vm + 1) % nvms);
	x->meta.width = htole32(64);
	x->meta.height = htole32(16);
}

/* Send @n requests as VM @v in batches; check every status; call @done on each response. */
static void batch(unsigned int v, const void *const *reqs, const size_t *lens, unsigned int n,
		  const char *what, void (*done)(unsigned int i, const uint8_t *resp),
		  unsigned int base)
{
	static uint8_t resp[BATCH][VIRTIO_VMBUF_MSG_MAX];

	for (unsigned int at = 0; at < n && !failed; at += BATCH) {
		unsigned int k = n - at < BATCH ? n - at : BATCH;

		if (fakevm_call_many(&vms[v], reqs + at, lens + at, k, resp, 10000) != (int)k) {
			fail(what, -1);
			return;
		}
		for (unsigned int i = 0; i < k; i++) {
			int32_t st = status_of(resp[i], sizeof(struct virtio_vmbuf_resp));

			if (st != 0) {
				fail(what, st);
				return;
			}
			if (done)
				done(base + at + i, resp[i]);
		}
	}
}

static void alloc_done(unsigned int i, const uint8_t *resp)
{
	live[i].id = le64toh(((const struct virtio_vmbuf_alloc_resp *)resp)->buffer_id);
}

static void export_done(unsigned int i, const uint8_t *resp)
{
	memcpy(live[i].handle, ((const struct virtio_vmbuf_export_resp *)resp)->handle,
	       VIRTIO_VMBUF_HANDLE_SIZE);
}

/* Fill, first pass: @per_vm buffers per VM (live[] in VM order). */
static void fill_alloc(unsigned int per_vm)
{
	struct virtio_vmbuf_alloc a;
	const void **reqs = calloc(per_vm, sizeof(*reqs));
	size_t *lens = calloc(per_vm, sizeof(*lens));

	make_alloc(&a);
	for (unsigned int i = 0; i < per_vm; i++) {
		reqs[i] = &a;
		lens[i] = sizeof(a);
	}
	for (unsigned int v = 0; v < nvms && !failed; v++) {
		for (unsigned int i = 0; i < per_vm; i++) {
			live[nlive + i].owner = v;
			live[nlive + i].seq = nlive + i;
		}
		batch(v, reqs, lens, per_vm, "fill ALLOC", alloc_done, nlive);
		nlive += per_vm;
	}
	free(reqs);
	free(lens);
}

/* Fill, second pass: export every buffer under a name, importable by the next VM. */
static void fill_export(unsigned int per_vm)
{
	struct virtio_vmbuf_export *xs = calloc(per_vm, sizeof(*xs));
	const void **reqs = calloc(per_vm, sizeof(*reqs));
	size_t *lens = calloc(per_vm, sizeof(*lens));

	for (unsigned int v = 0; v < nvms && !failed; v++) {
		unsigned int base = v * per_vm;

		for (unsigned int i = 0; i < per_vm; i++) {
			make_export(&xs[i], v, live[base + i].id, live[base + i].seq);
			reqs[i] = &xs[i];
			lens[i] = sizeof(xs[i]);
		}
		batch(v, reqs, lens, per_vm, "fill EXPORT", export_done, base);
	}
	free(xs);
	free(reqs);
	free(lens);
}

/* Free everything the fill made (FREE ends the export too). */
static void drain(unsigned int per_vm)
{
	struct virtio_vmbuf_free *fs = calloc(per_vm, sizeof(*fs));
	const void **reqs = calloc(per_vm, sizeof(*reqs));
	size_t *lens = calloc(per_vm, sizeof(*lens));

	for (unsigned int v = 0; v < nvms && !failed; v++) {
		for (unsigned int i = 0; i < per_vm; i++) {
			fs[i] = (struct virtio_vmbuf_free){ .hdr.type = htole32(VIRTIO_VMBUF_REQ_FREE),
							    .buffer_id = htole64(live[v * per_vm + i].id) };
			reqs[i] = &fs[i];
			lens[i] = sizeof(fs[i]);
		}
		batch(v, reqs, lens, per_vm, "drain FREE", NULL, 0);
	}
	nlive = 0;
	free(fs);
	free(reqs);
	free(lens);
}

static double *lat;
static size_t nlat, cap_lat;

/* One timed request; returns the response status. */
static int32_t timed(unsigned int v, const void *req, size_t len, void *resp, size_t cap)
{
	double t0 = now_us();
	int n = fakevm_call(&vms[v], req, len, resp, cap);

	if (nlat < cap_lat)
		lat[nlat++] = now_us() - t0;
	return status_of(resp, n);
}

static unsigned int seed = 12345;

static void cycle_short_lived(unsigned int v, unsigned int k)
{
	uint8_t resp[VIRTIO_VMBUF_MSG_MAX];
	struct virtio_vmbuf_alloc a;
	struct virtio_vmbuf_export x;
	struct virtio_vmbuf_signal s;
	struct virtio_vmbuf_revoke rv;
	struct virtio_vmbuf_free f;
	uint64_t id;
	int32_t st;

	make_alloc(&a);
	if ((st = timed(v, &a, sizeof(a), resp, sizeof(resp))) != 0)
		return fail("ALLOC", st);
	id = le64toh(((struct virtio_vmbuf_alloc_resp *)resp)->buffer_id);
	make_export(&x, v, id, 9000000 + k);
	if ((st = timed(v, &x, sizeof(x), resp, sizeof(resp))) != 0)
		return fail("EXPORT", st);
	memset(&s, 0, sizeof(s));
	s.hdr.type = htole32(VIRTIO_VMBUF_REQ_SIGNAL);
	memcpy(s.handle, ((struct virtio_vmbuf_export_resp *)resp)->handle, sizeof(s.handle));
	memcpy(rv.handle, s.handle, sizeof(rv.handle));
	s.value = htole64(1);
	if ((st = timed(v, &s, sizeof(s), resp, sizeof(resp))) != 0)
		return fail("SIGNAL", st);
	rv.hdr = (struct virtio_vmbuf_hdr){ .type = htole32(VIRTIO_VMBUF_REQ_REVOKE) };
	if ((st = timed(v, &rv, sizeof(rv), resp, sizeof(resp))) != 0)
		return fail("REVOKE", st);
	f = (struct virtio_vmbuf_free){ .hdr.type = htole32(VIRTIO_VMBUF_REQ_FREE),
					.buffer_id = htole64(id) };
	if ((st = timed(v, &f, sizeof(f), resp, sizeof(resp))) != 0)
		return fail("FREE", st);
}

static void cycle_imports(void)
{
	const struct live *l = &live[rand_r(&seed) % nlive];
	const struct live *m = &live[rand_r(&seed) % nlive];
	unsigned int v = (l->owner + 1) % nvms, w = (m->owner + 1) % nvms;
	uint8_t resp[VIRTIO_VMBUF_MSG_MAX];
	struct virtio_vmbuf_import im;
	struct virtio_vmbuf_release r;
	uint64_t id1, id2;
	int32_t st;

	memset(&im, 0, sizeof(im));
	im.hdr.type = htole32(VIRTIO_VMBUF_REQ_IMPORT);
	memcpy(im.handle, l->handle, sizeof(im.handle));
	if ((st = timed(v, &im, sizeof(im), resp, sizeof(resp))) != 0)
		return fail("IMPORT by handle", st);
	id1 = le64toh(((struct virtio_vmbuf_import_resp *)resp)->import_id);
	memset(&im, 0, sizeof(im));
	im.hdr.type = htole32(VIRTIO_VMBUF_REQ_IMPORT);
	im.flags = htole32(VIRTIO_VMBUF_IMPORT_BY_NAME);
	buf_name(im.name, sizeof(im.name), m->owner, m->seq);
	if ((st = timed(w, &im, sizeof(im), resp, sizeof(resp))) != 0)
		return fail("IMPORT by name", st);
	id2 = le64toh(((struct virtio_vmbuf_import_resp *)resp)->import_id);
	r = (struct virtio_vmbuf_release){ .hdr.type = htole32(VIRTIO_VMBUF_REQ_RELEASE),
					   .import_id = htole64(id1) };
	if ((st = timed(v, &r, sizeof(r), resp, sizeof(resp))) != 0)
		return fail("RELEASE", st);
	r.import_id = htole64(id2);
	if ((st = timed(w, &r, sizeof(r), resp, sizeof(resp))) != 0)
		return fail("RELEASE", st);
}

static void cycle_timeline(void)
{
	const struct live *l = &live[rand_r(&seed) % nlive];
	unsigned int v = (l->owner + 1) % nvms;
	uint8_t resp[VIRTIO_VMBUF_MSG_MAX];
	struct virtio_vmbuf_watch w;
	struct virtio_vmbuf_query q;
	int32_t st;

	memset(&w, 0, sizeof(w));
	/* Value 0 is reached already: answered at once, nothing stays waiting. */
	w.hdr.type = htole32(VIRTIO_VMBUF_REQ_WATCH);
	memcpy(w.handle, l->handle, sizeof(w.handle));
	if ((st = timed(v, &w, sizeof(w), resp, sizeof(resp))) != 0)
		return fail("WATCH", st);
	memset(&q, 0, sizeof(q));
	q.hdr.type = htole32(VIRTIO_VMBUF_REQ_QUERY);
	memcpy(q.handle, l->handle, sizeof(q.handle));
	if ((st = timed(v, &q, sizeof(q), resp, sizeof(resp))) != 0)
		return fail("QUERY", st);
}

/*
 * The throughput load: per VM, BATCH requests of each kind in flight at
 * once (as a busy guest driver posts them), so the daemon works through
 * them back to back and the figure is its cost, not the wake-up latency of
 * an idle CPU. Returns the number of requests sent.
 */
static uint64_t short_ids[BATCH], import_ids[2 * BATCH];
static uint8_t short_handles[BATCH][VIRTIO_VMBUF_HANDLE_SIZE];

static void short_alloc_done(unsigned int i, const uint8_t *resp)
{
	short_ids[i] = le64toh(((const struct virtio_vmbuf_alloc_resp *)resp)->buffer_id);
}

static void short_export_done(unsigned int i, const uint8_t *resp)
{
	memcpy(short_handles[i], ((const struct virtio_vmbuf_export_resp *)resp)->handle,
	       VIRTIO_VMBUF_HANDLE_SIZE);
}

static void import_done(unsigned int i, const uint8_t *resp)
{
	import_ids[i] = le64toh(((const struct virtio_vmbuf_import_resp *)resp)->import_id);
}

/* A random live export VM @v may import: one owned by the VM before it. */
static const struct live *importable(unsigned int v, unsigned int per_vm)
{
	return &live[((v + nvms - 1) % nvms) * per_vm + rand_r(&seed) % per_vm];
}

static unsigned int pipelined_round(unsigned int per_vm, unsigned int *seq)
{
	static union {
		struct virtio_vmbuf_alloc a;
		struct virtio_vmbuf_export x;
		struct virtio_vmbuf_signal s;
		struct virtio_vmbuf_import im;
		struct virtio_vmbuf_release rl;
		struct virtio_vmbuf_watch w;
		struct virtio_vmbuf_query q;
		struct virtio_vmbuf_revoke rv;
		struct virtio_vmbuf_free f;
	} r[2 * BATCH];
	const void *reqs[2 * BATCH];
	size_t lens[2 * BATCH];
	unsigned int sent = 0;

	for (unsigned int i = 0; i < 2 * BATCH; i++)
		reqs[i] = &r[i];
#define SEND(v, n, what, done)                                   \
	do {                                                      \
		batch(v, reqs, lens, n, what, done, 0);           \
		sent += n;                                        \
	} while (0)
	for (unsigned int v = 0; v < nvms && !failed; v++) {
		for (unsigned int i = 0; i < BATCH; i++) {
			make_alloc(&r[i].a);
			lens[i] = sizeof(r[i].a);
		}
		SEND(v, BATCH, "ALLOC", short_alloc_done);
		for (unsigned int i = 0; i < BATCH; i++) {
			make_export(&r[i].x, v, short_ids[i], 9000000 + (*seq)++);
			lens[i] = sizeof(r[i].x);
		}
		SEND(v, BATCH, "EXPORT", short_export_done);
		for (unsigned int i = 0; i < BATCH; i++) {
			memset(&r[i].s, 0, sizeof(r[i].s));
			r[i].s.hdr.type = htole32(VIRTIO_VMBUF_REQ_SIGNAL);
			memcpy(r[i].s.handle, short_handles[i], VIRTIO_VMBUF_HANDLE_SIZE);
			r[i].s.value = htole64(1);
			lens[i] = sizeof(r[i].s);
		}
		SEND(v, BATCH, "SIGNAL", NULL);
		for (unsigned int i = 0; i < 2 * BATCH; i++) {
			const struct live *l = importable(v, per_vm);

			memset(&r[i].im, 0, sizeof(r[i].im));
			r[i].im.hdr.type = htole32(VIRTIO_VMBUF_REQ_IMPORT);
			if (i % 2) {
				r[i].im.flags = htole32(VIRTIO_VMBUF_IMPORT_BY_NAME);
				buf_name(r[i].im.name, sizeof(r[i].im.name), l->owner, l->seq);
			} else {
				memcpy(r[i].im.handle, l->handle, VIRTIO_VMBUF_HANDLE_SIZE);
			}
			lens[i] = sizeof(r[i].im);
		}
		SEND(v, 2 * BATCH, "IMPORT", import_done);
		for (unsigned int i = 0; i < 2 * BATCH; i++) {
			r[i].rl = (struct virtio_vmbuf_release){
				.hdr.type = htole32(VIRTIO_VMBUF_REQ_RELEASE),
				.import_id = htole64(import_ids[i])
			};
			lens[i] = sizeof(r[i].rl);
		}
		SEND(v, 2 * BATCH, "RELEASE", NULL);
		for (unsigned int i = 0; i < 2 * BATCH; i++) {
			const struct live *l = importable(v, per_vm);

			/* WATCH of value 0 is answered at once: nothing stays waiting. */
			memset(&r[i].w, 0, sizeof(r[i].w));
			r[i].w.hdr.type = htole32(i % 2 ? VIRTIO_VMBUF_REQ_QUERY : VIRTIO_VMBUF_REQ_WATCH);
			memcpy(r[i].w.handle, l->handle, VIRTIO_VMBUF_HANDLE_SIZE);
			lens[i] = i % 2 ? sizeof(r[i].q) : sizeof(r[i].w);
		}
		SEND(v, 2 * BATCH, "WATCH/QUERY", NULL);
		for (unsigned int i = 0; i < BATCH; i++) {
			r[i].rv = (struct virtio_vmbuf_revoke){ .hdr.type = htole32(VIRTIO_VMBUF_REQ_REVOKE) };
			memcpy(r[i].rv.handle, short_handles[i], VIRTIO_VMBUF_HANDLE_SIZE);
			lens[i] = sizeof(r[i].rv);
			r[BATCH + i].f = (struct virtio_vmbuf_free){
				.hdr.type = htole32(VIRTIO_VMBUF_REQ_FREE),
				.buffer_id = htole64(short_ids[i])
			};
			lens[BATCH + i] = sizeof(r[BATCH + i].f);
		}
		SEND(v, 2 * BATCH, "REVOKE/FREE", NULL);
	}
#undef SEND
	return sent;
}

/* The daemon's CPU time so far in ns (/proc/PID/schedstat), or -1. */
static double cpu_ns(pid_t pid)
{
	char path[64];
	double ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lf", &ns) != 1)
		ns = -1;
	fclose(f);
	return ns;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	unsigned int size;
	double rps, cpu, p50, p99, buf_bytes, exp_bytes;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: bench_scale VMBUFD [--sizes N,N,...] [--cycles N] [--rounds N] [--vms N]\n"
		"  --sizes   live buffers to hold, each a multiple of the VM count at most\n"
		"            65000 per VM (default 1000,10000,100000)\n"
		"  --cycles  one-at-a-time request cycles per round (default 300)\n"
		"  --rounds  timed rounds per size; the median round is printed (default 7)\n"
		"  --vms     fake VMs (default 16)\n");
	return 2;
}

/* One timed round of @cycles cycles: requests/s, p50, p99. */
static void round_run(unsigned int cycles, unsigned int *k, double out[3])
{
	double t0, t1;

	nlat = 0;
	t0 = now_us();
	for (unsigned int c = 0; c < cycles && !failed; c++, (*k)++) {
		switch (*k % 3) {
		case 0:
			cycle_short_lived(*k % nvms, *k);
			break;
		case 1:
			cycle_imports();
			break;
		default:
			cycle_timeline();
			break;
		}
	}
	t1 = now_us();
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	out[0] = nlat / ((t1 - t0) / 1e6);
	out[1] = nlat ? lat[nlat / 2] : 0;
	out[2] = nlat ? lat[nlat * 99 / 100] : 0;
}

static int cmp_round(const void *a, const void *b)
{
	return cmp_double(a, b);	/* by requests/s, the first field */
}

int main(int argc, char **argv)
{
	unsigned int sizes[MAX_SIZES] = { 1000, 10000, 100000 }, nsizes = 3, cycles = 300;
	unsigned int rounds = 7, nres = 0, k = 0, seq = 0;
	struct result res[MAX_SIZES];
	struct fakevm_daemon d;
	char *config;
	size_t config_len = 0;
	unsigned int max_size = 0, pool_mib = 2;
	long rss0;
	FILE *cf;

	if (argc < 2)
		return usage();
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			char *s = argv[++i], *tok;

			nsizes = 0;
			while ((tok = strsep(&s, ",")) && nsizes < MAX_SIZES)
				sizes[nsizes++] = (unsigned int)strtoul(tok, NULL, 10);
		} else if (!strcmp(argv[i], "--cycles") && i + 1 < argc) {
			cycles = (unsigned int)strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			rounds = (unsigned int)strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--vms") && i + 1 < argc) {
			nvms = (unsigned int)strtoul(argv[++i], NULL, 10);
		} else {
			return usage();
		}
	}
	if (nvms < 2 || nvms > MAX_VMS || !nsizes || !cycles || !rounds || rounds > 99)
		return usage();
	for (unsigned int i = 0; i < nsizes; i++) {
		if (sizes[i] < nvms || sizes[i] / nvms > 65000)
			return usage();
		max_size = sizes[i] > max_size ? sizes[i] : max_size;
	}

	/* Room for the largest fill and the short-lived buffers, with every ALLOC zeroed. */
	cf = open_memstream(&config, &config_len);
	for (unsigned int v = 0; v < nvms; v++)
		fprintf(cf, "[vm v%02u]\nquota = 0\nmax-buffers = 65536\n", v);
	while (pool_mib < (max_size * 2ull * BUF_SIZE >> 20) + 64)
		pool_mib *= 2;	/* a power of two */
	fprintf(cf, "[pool p]\nsize = %uM\nmembers =", pool_mib);
	for (unsigned int v = 0; v < nvms; v++)
		fprintf(cf, " v%02u", v);
	fprintf(cf, "\n");
	fclose(cf);
	if (fakevm_daemon_start(&d, argv[1], config) < 0) {
		free(config);
		return 1;
	}
	free(config);
	for (unsigned int v = 0; v < nvms; v++) {
		char name[16];

		vm_name(name, sizeof(name), v);
		if (fakevm_connect(&vms[v], d.sockdir, name) < 0 || fakevm_setup(&vms[v]) < 0 ||
		    fakevm_hello(&vms[v], NULL) != 0) {
			fprintf(stderr, "bench_scale: fake VM %s did not come up\n", name);
			fakevm_daemon_stop(&d);
			return 1;
		}
	}
	live = calloc(max_size, sizeof(*live));
	cap_lat = (size_t)cycles * 4;
	lat = calloc(cap_lat, sizeof(*lat));
	rss0 = rss_anon_kib(d.pid);

	for (unsigned int s = 0; s < nsizes && !failed; s++) {
		unsigned int per_vm = sizes[s] / nvms;
		double r[99][3], tput[99][2];
		long rss1;

		fill_alloc(per_vm);
		rss1 = rss_anon_kib(d.pid);
		fill_export(per_vm);
		res[s].size = nlive;
		res[s].buf_bytes = (rss1 - rss0) * 1024.0 / nlive;
		res[s].exp_bytes = (rss_anon_kib(d.pid) - rss1) * 1024.0 / nlive;
		for (unsigned int i = 0; i < rounds && !failed; i++) {
			double t0 = now_us(), c0 = cpu_ns(d.pid), n;

			n = pipelined_round(per_vm, &seq);
			tput[i][0] = n / ((now_us() - t0) / 1e6);
			tput[i][1] = (cpu_ns(d.pid) - c0) / n;
			round_run(cycles, &k, r[i]);
		}
		qsort(r, rounds, sizeof(r[0]), cmp_round);
		qsort(tput, rounds, sizeof(tput[0]), cmp_round);
		res[s].rps = tput[rounds / 2][0];
		res[s].cpu = tput[rounds / 2][1];
		res[s].p50 = r[rounds / 2][1];
		res[s].p99 = r[rounds / 2][2];
		drain(per_vm);
		if (!failed)
			nres++;
		if (!fakevm_daemon_alive(&d)) {
			fprintf(stderr, "bench_scale: vmbufd died (log: %s)\n", d.log);
			failed++;
		}
	}

	printf("bench_scale: %u fake VMs, median of %u rounds per size\n", nvms, rounds);
	printf("%8s %8s %8s %8s %8s %8s %8s | %7s %7s %7s %7s\n", "live", "req/s", "cpu ns",
	       "p50 us", "p99 us", "B/buf", "B/export", "req/s x", "cpu x", "p99 x", "B/buf x");
	for (unsigned int s = 0; s < nres; s++)
		printf("%8u %8.0f %8.0f %8.1f %8.1f %8.0f %8.0f | %7.2f %7.2f %7.2f %7.2f\n",
		       res[s].size, res[s].rps, res[s].cpu, res[s].p50, res[s].p99, res[s].buf_bytes,
		       res[s].exp_bytes, res[s].rps / res[0].rps, res[s].cpu / res[0].cpu,
		       res[s].p99 / res[0].p99, res[s].buf_bytes / res[0].buf_bytes);
	printf("req/s: %u requests of each kind in flight per VM (ALLOC EXPORT SIGNAL, IMPORT by\n"
	       "  handle and by name, RELEASE, WATCH QUERY, REVOKE FREE); cpu ns: the daemon's CPU\n"
	       "  time per request in that load. p50, p99: one request at a time (%u cycles of\n"
	       "  ALLOC..FREE, IMPORT x2 RELEASE x2, WATCH QUERY), wake-ups included.\n"
	       "B/buf, B/export: the daemon's RssAnon growth per live buffer, then per export\n"
	       "  (named, 120 bytes of metadata). x: ratio to the first row, same run.\n",
	       BATCH, cycles);
	for (unsigned int v = 0; v < nvms; v++)
		fakevm_close(&vms[v]);
	if (fakevm_daemon_stop(&d) != 0) {
		fprintf(stderr, "bench_scale: vmbufd did not exit cleanly (log: %s)\n", d.log);
		failed++;
	}
	free(live);
	free(lat);
	return failed ? 1 : 0;
}
