/* opt.c - see opt.h */
#include "opt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static void print_synopsis(FILE *f, const char *help)
{
	const char *end = strstr(help, "\n\n");
	size_t n = end ? (size_t)(end - help) + 1 : strlen(help);
	fwrite(help, 1, n, f);
}

void usage_error(const char *help, const char *fmt, ...)
{
	if (fmt) {
		char msg[1024];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		warnx("%s", msg);
	}
	print_synopsis(stderr, help);
	fprintf(stderr, "Try '%s --help' for more information.\n", diag_prog);
	exit(EXIT_TROUBLE);
}

void opt_common(int c, const char *help)
{
	switch (c) {
	case OPT_HELP:
		fputs(help, stdout);
		exit(finish_stdout(EXIT_OK));
	case OPT_VERSION:
		printf("%s %s\n", diag_prog, WEIR_VERSION);
		exit(finish_stdout(EXIT_OK));
	case '?':
	case ':':
		/* getopt already named the option */
		usage_error(help, NULL);
	}
}

int64_t parse_int(const char *s, const char *what, int64_t min, int64_t max)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno == ERANGE)
		die(EXIT_TROUBLE, "invalid %s: '%s'", what, s);
	if (v < min || v > max)
		die(EXIT_TROUBLE, "%s out of range: '%s' (%lld to %lld)", what, s, (long long)min, (long long)max);
	return v;
}

double parse_double(const char *s, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno == ERANGE || isnan(v))
		die(EXIT_TROUBLE, "invalid %s: '%s'", what, s);
	return v;
}

int64_t duration_us(const char *s)
{
	char *end;
	errno = 0;
	if (!*s)
		return -1;
	double v = strtod(s, &end);
	if (errno == ERANGE || end == s || isnan(v) || v < 0)
		return -1;
	double mul;
	if (!*end || !strcmp(end, "s"))
		mul = 1e6;
	else if (!strcmp(end, "us") || !strcmp(end, "µs"))
		mul = 1;
	else if (!strcmp(end, "ms"))
		mul = 1e3;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60e6;
	else if (!strcmp(end, "h"))
		mul = 3600e6;
	else if (!strcmp(end, "d"))
		mul = 86400e6;
	else
		return -1;
	double us = v * mul;
	if (us > 9.2e18)
		return -1;
	return (int64_t)llround(us);
}

int64_t parse_duration(const char *s, const char *what)
{
	int64_t us = duration_us(s);
	if (us > DURATION_MAX_US)
		die(EXIT_TROUBLE, "invalid %s: '%s' (longer than 10000 years)", what, s);
	if (us < 0)
		die(EXIT_TROUBLE, "invalid %s: '%s' (want e.g. 500ms, 10s, 5m, 2h, 7d)", what, s);
	return us;
}

void parse_checkpoint_interval(const char *s, int64_t *records, int64_t *us)
{
	if (*s && strspn(s, "0123456789") == strlen(s)) {
		*records = parse_int(s, "checkpoint interval", 1, INT64_MAX);
		return;
	}
	*us = parse_duration(s, "checkpoint interval");
	if (*us <= 0)
		die(EXIT_TROUBLE, "invalid checkpoint interval: '%s'", s);
}

int64_t parse_size(const char *s, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	double mul = 1;
	if (end != s)
		switch (*end) {
		case 'k': case 'K': mul = 1024.0; end++; break;
		case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
		case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
		case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
		}
	if (*end == 'B' || *end == 'b')
		end++;
	if (end == s || *end || errno == ERANGE || isnan(v) || v < 0 || v * mul > 9.2e18)
		die(EXIT_TROUBLE, "invalid %s: '%s' (want e.g. 512k, 128M, 1G)", what, s);
	return (int64_t)(v * mul);
}
