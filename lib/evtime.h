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

/* The instant in `v`: a timestamp (with or without zone), a date (midnight),
 * an ISO-8601 string, or a number of `unit` since the epoch (Kafka
 * timestamps are milliseconds, the default of the tools).  False when v
 * holds none of these. */
bool value_as_micros(const struct value *v, enum time_unit unit, int64_t *us);
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
