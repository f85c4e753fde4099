/* opt.h - the pieces of option handling every tool shares.
 *
 * Tools use getopt_long with a table that has "help" and "version" entries;
 * their help text is one string whose first paragraph ("usage: ..." lines up
 * to the first blank line) is the SYNOPSIS their man page repeats (a test
 * compares the two).  Numbers are parsed with full checking, never atoi. */
#ifndef WEIR_OPT_H
#define WEIR_OPT_H

#include <stdint.h>

#define WEIR_VERSION "0.1.0"

/* Long-option values for --help and --version, outside the char range. */
enum { OPT_HELP = 0x1000, OPT_VERSION, OPT_TOOL_FIRST };

/* Handle the option char getopt_long returned when it is one every tool has:
 * OPT_HELP prints `help` to stdout and exits 0, OPT_VERSION the version, '?'
 * or ':' prints the usage paragraph of `help` to stderr and exits 2.  Returns
 * for anything else. */
void opt_common(int c, const char *help);
/* Print the synopsis of `help` and `msg` (when not NULL) to stderr; exit 2. */
_Noreturn void usage_error(const char *help, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number parsers; on bad input they die with status 2 naming `what`. */
int64_t parse_int(const char *s, const char *what, int64_t min, int64_t max);
double parse_double(const char *s, const char *what);
/* "250ms", "10s", "5m", "2h", "7d", "1500us"; a bare number means seconds.
 * Returns microseconds, at most DURATION_MAX_US: 10000 years, so that an
 * event time (evtime.h) plus or minus a duration cannot overflow. */
#define DURATION_MAX_US (3652425LL * 86400 * 1000000)
int64_t parse_duration(const char *s, const char *what);
/* Same, returning -1 instead of dying and without the cap; for parsers
 * that report their own errors. */
int64_t duration_us(const char *s);
/* --checkpoint-interval N|DURATION: a barrier every N records, which sets
 * *records, or every DURATION, which sets *us (in microseconds). */
void parse_checkpoint_interval(const char *s, int64_t *records, int64_t *us);
/* "128M", "4k", "1G", "100" (bytes); binary multiples. */
int64_t parse_size(const char *s, const char *what);

#endif
