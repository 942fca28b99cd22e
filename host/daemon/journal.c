/*
 * journal - the journal sink and readiness notification (see journal.h).
 * Fields come from the line itself: the daemon's messages name their
 * objects in one style (vm 'NAME', pool 'NAME', a handle as its 4-byte
 * prefix and "..."), so no call site has to change to be searchable.
 */
#include "journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"

/* The text of 'NAME' after @key ("vm '", "pool '") in @line, or "". */
static void journal_field(const char *line, const char *key, char *out, size_t n)
{
	const char *p = strstr(line, key), *q;

	out[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	q = strchr(p, '\'');
	if (q && (size_t)(q - p) < n) {
		memcpy(out, p, q - p);
		out[q - p] = '\0';
	}
}

/* "(5f3a09c2...)": the handle prefix the daemon logs instead of a handle. */
static void journal_handle(const char *line, char *out, size_t n)
{
	const char *p = line;

	out[0] = '\0';
	while ((p = strchr(p, '('))) {
		size_t k = strspn(p + 1, "0123456789abcdef");

		if (k >= 4 && k < n && !strncmp(p + 1 + k, "...)", 4)) {
			memcpy(out, p + 1, k);
			out[k] = '\0';
			return;
		}
		p++;
	}
}

void journal_fields(const char *line, char *vm, char *pool, char *handle, size_t n)
{
	journal_field(line, "vm '", vm, n);
	journal_field(line, "pool '", pool, n);
	journal_handle(line, handle, n);
}

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

static const char *journal_ident = "vmbufd";

static void journal_sink(enum log_level level, const char *line)
{
	/* syslog(3) priorities: err, warning, info, debug (syslog.h's names clash with ours). */
	static const int prio[] = { 3, 4, 6, 7 };
	char msg[1100], pri[16], ident[64], vm[56], pool[56], handle[56], v[40], p[40], h[40];
	struct iovec iov[6];
	int n = 0;

	journal_fields(line, v, p, h, sizeof(v));
#define JOURNAL_ADD(buf, ...)                                                          \
	do {                                                                           \
		snprintf(buf, sizeof(buf), __VA_ARGS__);                               \
		iov[n++] = (struct iovec){ .iov_base = buf, .iov_len = strlen(buf) }; \
	} while (0)
	JOURNAL_ADD(msg, "MESSAGE=%s", line);
	JOURNAL_ADD(pri, "PRIORITY=%d", prio[level]);
	JOURNAL_ADD(ident, "SYSLOG_IDENTIFIER=%s", journal_ident);
	if (v[0])
		JOURNAL_ADD(vm, "VM=%s", v);
	if (p[0])
		JOURNAL_ADD(pool, "POOL=%s", p);
	if (h[0])
		JOURNAL_ADD(handle, "HANDLE_PREFIX=%s", h);
#undef JOURNAL_ADD
	sd_journal_sendv(iov, n);
}

void journal_init(const char *ident)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	/* Only when standard error really is the journal stream systemd gave us. */
	if (!js || sscanf(js, "%lu:%lu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0 ||
	    st.st_dev != dev || st.st_ino != ino)
		return;
	journal_ident = ident;
	log_set_sink(journal_sink);
}

void journal_ready(void)
{
	sd_notify(0, "READY=1");
}

void journal_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

#else

void journal_init(const char *ident)
{
	(void)ident;
}

void journal_ready(void)
{
}

void journal_stopping(void)
{
}

#endif
