/* evtime.h - event time and watermarks (ARCHITECTURE §3).
 *
 * watermark = max event time seen - delay, never decreasing; a record is late
 * iff its time <= watermark; a window [start, end) is final iff end <=
 * watermark.  All times are microseconds since the epoch. */
#ifndef WEIR_EVTIME_H
#define WEIR_EVTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "value.h"

#define WM_NONE INT64_MIN   /* nothing seen yet: nothing is late */
#define WM_END INT64_MAX    /* end of input: everything is final */

enum time_unit { TU_SECONDS, TU_MILLIS, TU_MICROS };

/* The event times the tools take: years 1 to 9999, the range of Spark's and
 * Delta's timestamps.  With durations no longer than DURATION_MAX_US
 * (opt.h), no window end, watermark or bound computed from them overflows;
 * a time outside is a bad record, not a window in year -290308. */
#define EVTIME_MIN (-62135596800LL * 1000000)     /* 0001-01-01T00:00:00Z */
#define EVTIME_MAX (253402300800LL * 1000000 - 1) /* 9999-12-31T23:59:59.999999Z */
static inline bool evtime_ok(int64_t us) { return us >= EVTIME_MIN && us <= EVTIME_MAX; }

/* The event time in `v`, the value of the record's field `name` (NULL
 * when the record has none): a timestamp (with or without zone), a date
 * (midnight), an ISO-8601 string, or a number of `unit` since the epoch
 * (Kafka timestamps are milliseconds, the default of the tools; fractions
 * of a microsecond cut off toward zero, as Spark casts numbers).  NULL
 * when *us holds it, else the tools' bad-record message ("event time
 * field 'ts' is not a time", "... is outside years 1 to 9999"), in msg. */
const char *event_time(const struct value *v, const char *name, enum time_unit unit, int64_t *us, char *msg,
		       size_t msglen);
/* "s", "ms", "us"; false for anything else */
bool parse_time_unit(const char *s, enum time_unit *unit);
/* --advance: "record" (the watermark moves with every record) or "barrier"
 * (only at barriers, so that a replay cuts the same micro-batches); false
 * for anything else */
bool parse_advance(const char *s, bool *at_barrier);

struct watermark {
	int64_t delay;    /* microseconds */
	int64_t max_seen; /* WM_NONE until the first event */
	int64_t wm;       /* current watermark */
};

void wm_init(struct watermark *w, int64_t delay);
/* Note an event time; returns true when the watermark moved. */
bool wm_observe(struct watermark *w, int64_t t);
/* Recompute the watermark from max_seen now (for --advance barrier, where
 * observations only take effect at barriers). */
bool wm_advance_to(struct watermark *w, int64_t wm);
static inline bool wm_is_late(const struct watermark *w, int64_t t) { return w->wm != WM_NONE && t <= w->wm; }
static inline int64_t wm_candidate(const struct watermark *w)
{
	return w->max_seen == WM_NONE ? WM_NONE : w->max_seen - w->delay;
}

/* floor division and modulo for alignment of windows before the epoch */
static inline int64_t floor_div(int64_t a, int64_t b) { int64_t q = a / b; return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }
static inline int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

#endif
