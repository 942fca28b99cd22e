/* log - leveled, line-oriented logging to stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *log_prog = "vmbuf";
static enum log_level log_max = LOG_INFO;
static void (*log_sink)(enum log_level level, const char *line);

void log_set_sink(void (*sink)(enum log_level level, const char *line))
{
	log_sink = sink;
}

void log_init(const char *prog, enum log_level max)
{
	log_prog = prog;
	log_max = max;
}

enum log_level log_get_level(void)
{
	return log_max;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* One event, one line: fold any newline a caller let through. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_sink)
		log_sink(level, line);
	else
		fprintf(stderr, "%s: %s: %s\n", log_prog, names[level], line);
}

int log_ratelimit(struct log_ratelimit *rl, const char *what)
{
	struct timespec t;
	long long now;

	clock_gettime(CLOCK_MONOTONIC, &t);
	now = t.tv_sec * 1000LL + t.tv_nsec / 1000000;
	if (now - rl->window_start_ms >= rl->interval_ms) {
		if (rl->suppressed)
			log_msg(LOG_WARN, "%s: %u more event(s) not logged", what, rl->suppressed);
		rl->window_start_ms = now;
		rl->count = 0;
		rl->suppressed = 0;
	}
	if (rl->count < rl->burst) {
		rl->count++;
		return 1;
	}
	if (!rl->suppressed++)
		log_msg(LOG_WARN, "%s: too many events, logging at most %u per %u ms", what, rl->burst,
			rl->interval_ms);
	return 0;
}
