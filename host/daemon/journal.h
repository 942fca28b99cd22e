/*
 * journal - vmbufd under systemd: log lines go to the journal with
 * structured fields, and the service manager hears when the daemon is ready
 * and when it stops (Type=notify). Outside systemd both do nothing.
 */
#ifndef VMBUF_JOURNAL_H
#define VMBUF_JOURNAL_H

/*
 * When standard error is the journal (JOURNAL_STREAM names it), log there:
 * MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, and VM, POOL, HANDLE_PREFIX taken from
 * the line ("vm 'a': ...", "pool 'p'", "(5f3a...)"), for journalctl VM=a.
 */
void journal_init(const char *ident);

#include <stddef.h>

/* The fields of @line: VM, POOL, HANDLE_PREFIX ("" when absent), each at most @n bytes. */
void journal_fields(const char *line, char *vm, char *pool, char *handle, size_t n);

/* sd_notify(): READY=1 once every socket listens, STOPPING=1 at shutdown. */
void journal_ready(void);
void journal_stopping(void);

#endif
