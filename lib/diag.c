/* diag.c - see diag.h */
#include "diag.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *diag_prog = "weir";
int diag_verbose;

void diag_init(const char *prog)
{
	diag_prog = prog;
	/* Writers check every write; EPIPE then ends the tool quietly instead of
	 * a signal death that hides which stage went first. */
	signal(SIGPIPE, SIG_IGN);
}

static void vmsg(const char *fmt, va_list ap, int errnum)
{
	char line[4096];
	int n = snprintf(line, sizeof line, "%s: ", diag_prog);
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	int m = vsnprintf(line + n, sizeof line - n, fmt, ap);
	if (m > 0)
		n += m;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	if (errnum)
		n += snprintf(line + n, sizeof line - n, ": %s", strerror(errnum));
	if ((size_t)n >= sizeof line - 1)
		n = sizeof line - 2;
	line[n++] = '\n';
	/* one write so lines from concurrent stages do not interleave */
	ssize_t w = write(2, line, n);
	(void)w;
}

void warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

void warnerr(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
}

void verbose(int level, const char *fmt, ...)
{
	if (diag_verbose < level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	exit(status);
}

void die_errno(int status, const char *fmt, ...)
{
	int e = errno;
	if (e == EPIPE)
		exit_epipe();
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
	exit(status);
}

void exit_epipe(void)
{
	_exit(EXIT_TROUBLE);
}

int finish_stdout(int status)
{
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno == EPIPE)
			return EXIT_TROUBLE;
		warnerr("write failure on standard output");
		return EXIT_TROUBLE;
	}
	return status;
}

static _Noreturn void oom(size_t n)
{
	die(EXIT_TROUBLE, "out of memory: %zu bytes", n);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xrealloc_lines(void *p, size_t old, size_t n)
{
	void *q = aligned_alloc(64, n ? (n + 63) & ~(size_t)63 : 64);
	if (!q)
		oom(n);
	if (p)
		memcpy(q, p, old < n ? old : n);
	free(p);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}
