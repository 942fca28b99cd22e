/*
 * loop - epoll dispatch. Removal during dispatch is deferred: the source is
 * marked dead and freed after the batch, so a stale event pointer in the
 * batch never reaches a freed source.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "list.h"

struct loop_source {
	struct loop *loop;
	struct list link;
	int fd;
	bool dead;
	loop_cb cb;
	void *data;
};

struct loop {
	int epfd;
	bool dispatching;
	struct list live;
	struct list dead;
};

int loop_new(struct loop **out)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int r = -errno;

		free(loop);
		return r;
	}
	list_init(&loop->live);
	list_init(&loop->dead);
	*out = loop;
	return 0;
}

static void loop_reap(struct loop *loop)
{
	struct loop_source *s, *tmp;

	list_for_each_safe(s, tmp, &loop->dead, link) {
		list_del(&s->link);
		free(s);
	}
}

void loop_free(struct loop *loop)
{
	struct loop_source *s, *tmp;

	if (!loop)
		return;
	list_for_each_safe(s, tmp, &loop->live, link) {
		list_del(&s->link);
		free(s);
	}
	loop_reap(loop);
	close(loop->epfd);
	free(loop);
}

int loop_set_events(struct loop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(src->loop->epfd, EPOLL_CTL_MOD, src->fd, &ev) < 0 ? -errno : 0;
}

int loop_add(struct loop *loop, int fd, uint32_t events, loop_cb cb, void *data,
	     struct loop_source **out)
{
	struct epoll_event ev = { .events = events };
	struct loop_source *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->fd = fd;
	s->cb = cb;
	s->data = data;
	list_init(&s->link);
	ev.data.ptr = s;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;

		free(s);
		return r;
	}
	list_add_tail(&loop->live, &s->link);
	if (out)
		*out = s;
	return 0;
}

void loop_remove(struct loop_source *s)
{
	if (!s || s->dead)
		return;
	epoll_ctl(s->loop->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	s->dead = true;
	list_del(&s->link);
	list_add_tail(&s->loop->dead, &s->link);
	if (!s->loop->dispatching)
		loop_reap(s->loop);
}

int loop_dispatch(struct loop *loop, int timeout_ms)
{
	struct epoll_event evs[32];
	int n;

	n = epoll_wait(loop->epfd, evs, ARRAY_SIZE(evs), timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->dispatching = true;
	for (int i = 0; i < n; i++) {
		struct loop_source *s = evs[i].data.ptr;

		if (!s->dead)
			s->cb(s, evs[i].events, s->data);
	}
	loop->dispatching = false;
	loop_reap(loop);
	return 0;
}
