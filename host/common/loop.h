/*
 * loop - a single-threaded epoll loop with one callback per fd.
 *
 * Callbacks run one at a time and may add or remove any source, including
 * their own. A removed source's callback is never called again, even for
 * events already collected in the same epoll_wait() batch.
 */
#ifndef VMBUF_LOOP_H
#define VMBUF_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct loop_source;

typedef void (*loop_cb)(struct loop_source *src, uint32_t events, void *data);

int loop_new(struct loop **out);
void loop_free(struct loop *loop);

/* Watch @fd (not owned) for @events (EPOLLIN...). *out may be NULL. */
int loop_add(struct loop *loop, int fd, uint32_t events, loop_cb cb, void *data,
	     struct loop_source **out);
void loop_remove(struct loop_source *src);
/* Watch @src's fd for @events instead. 0 or -errno. */
int loop_set_events(struct loop_source *src, uint32_t events);

/* Run one batch, waiting up to @timeout_ms (-1: forever). Returns 0 or -errno. */
int loop_dispatch(struct loop *loop, int timeout_ms);

#endif
