/* list - intrusive doubly linked list (a head is an empty element). */
#ifndef VMBUF_LIST_H
#define VMBUF_LIST_H

#include <stdbool.h>
#include "util.h"

struct list {
	struct list *prev, *next;
};

static inline void list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}

static inline void list_add_tail(struct list *head, struct list *e)
{
	e->prev = head->prev;
	e->next = head;
	head->prev->next = e;
	head->prev = e;
}

static inline void list_del(struct list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	list_init(e);
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

#define list_for_each_safe(pos, tmp, head, member)                              \
	for (pos = list_entry((head)->next, __typeof__(*pos), member),          \
	    tmp = list_entry(pos->member.next, __typeof__(*pos), member);       \
	     &pos->member != (head);                                             \
	     pos = tmp, tmp = list_entry(pos->member.next, __typeof__(*pos), member))

#define list_for_each(pos, head, member)                                        \
	for (pos = list_entry((head)->next, __typeof__(*pos), member);          \
	     &pos->member != (head);                                             \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

#endif
