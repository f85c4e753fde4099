/* diag.h - diagnostics, exit statuses and checked allocation for every weir tool.
 *
 * Messages read "weir-NAME: what went wrong: detail" (ARCHITECTURE §7).  Exit
 * statuses: 0 ok, 1 a negative answer or partial failure a man page defines,
 * 2 usage or system error.  Library code reports with these too but only the
 * die helpers exit. */
#ifndef WEIR_DIAG_H
#define WEIR_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum { EXIT_OK = 0, EXIT_NEGATIVE = 1, EXIT_TROUBLE = 2 };

extern const char *diag_prog; /* "weir-NAME", set by diag_init */
extern int diag_verbose;      /* -v count */

void diag_init(const char *prog);
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnerr(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* appends ": strerror(errno)" */
void verbose(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void die_errno(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Flush and close stdout; a failed write (>/dev/full) is a system error, a
 * closed pipe downstream is not worth a message.  Returns the status to exit
 * with: `status` when stdout is fine, EXIT_TROUBLE otherwise. */
int finish_stdout(int status);
/* Called by writers that see EPIPE: leave quietly, the reader is gone. */
_Noreturn void exit_epipe(void);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* As xrealloc, on a 64-byte (cache line) boundary; `old` bytes are kept. */
void *xrealloc_lines(void *p, size_t old, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
