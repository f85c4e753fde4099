/* timeutil.h - dates and instants in the canonical forms (ARCHITECTURE §2),
 * with proleptic Gregorian arithmetic that needs no time zone database. */
#ifndef WEIR_TIMEUTIL_H
#define WEIR_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* "YYYY-MM-DD"; returns the length written (out has room for 16) */
int format_date(char *out, int64_t days);
/* "YYYY-MM-DDTHH:MM:SS.ffffff" plus "Z" unless ntz; out has room for 40 */
int format_timestamp(char *out, int64_t micros, bool ntz);

/* Parse ISO-8601 / RFC 3339 and the common relatives: "2024-01-02",
 * "2024-01-02T03:04:05", "2024-01-02 03:04:05.123456789", "...Z",
 * "...+05:30", "...-0800".  The fraction keeps microseconds (extra digits are
 * truncated).  *has_zone tells whether a zone was given; without one the
 * wall clock is returned as if UTC.  Returns false on anything else. */
bool parse_iso_timestamp(const char *s, size_t n, int64_t *micros, bool *has_zone);
bool parse_iso_date(const char *s, size_t n, int64_t *days);

/* Wall clock in microseconds since the epoch. */
int64_t now_micros(void);
/* A monotonic clock in microseconds, for intervals. */
int64_t mono_micros(void);

#endif
