/*
 * log - one line per event on stderr: "<prog>: <level>: <message>".
 * Handles are capabilities: log at most a short prefix of one (log_handle).
 */
#ifndef VMBUF_LOG_H
#define VMBUF_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_init(const char *prog, enum log_level max);
/*
 * Send every line to @sink instead of stderr (NULL: stderr again): the
 * daemon's journal, with the level and the formatted message.
 */
void log_set_sink(void (*sink)(enum log_level level, const char *line));
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * At most @burst events per @interval_ms pass log_ratelimit(); the first one
 * refused says so once. For log lines a guest can cause at will.
 */
struct log_ratelimit {
	unsigned int interval_ms, burst;
	unsigned int count, suppressed;
	long long window_start_ms;
};
#define LOG_RATELIMIT_INIT(ms, n) { .interval_ms = (ms), .burst = (n) }

/* True when this event may be logged; @what names the source in the summary line. */
int log_ratelimit(struct log_ratelimit *rl, const char *what);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
