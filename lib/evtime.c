/* evtime.c - see evtime.h */
#include "evtime.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "timeutil.h"

bool parse_time_unit(const char *s, enum time_unit *unit)
{
	if (!strcmp(s, "s"))
		*unit = TU_SECONDS;
	else if (!strcmp(s, "ms"))
		*unit = TU_MILLIS;
	else if (!strcmp(s, "us"))
		*unit = TU_MICROS;
	else
		return false;
	return true;
}

bool parse_advance(const char *s, bool *at_barrier)
{
	if (strcmp(s, "record") && strcmp(s, "barrier"))
		return false;
	*at_barrier = !strcmp(s, "barrier");
	return true;
}

static bool value_as_micros(const struct value *v, enum time_unit unit, int64_t *us)
{
	static const int64_t mul[] = {1000000, 1000, 1};
	static const int digits[] = {6, 3, 0}; /* mul[unit] is 10^digits[unit] */
	bool zone;
	double d;
	switch (v->type) {
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		*us = v->i;
		return true;
	case V_DATE:
		if (v->i > INT64_MAX / 86400000000 || v->i < INT64_MIN / 86400000000)
			return false;
		*us = v->i * 86400 * 1000000;
		return true;
	case V_STRING:
		return parse_iso_timestamp(v->s, v->n, us, &zone);
	case V_INT:
		if (v->i > INT64_MAX / mul[unit] || v->i < INT64_MIN / mul[unit])
			return false;
		*us = v->i * mul[unit];
		return true;
	case V_DECIMAL: {
		/* exactly, truncated toward zero as Spark casts numbers to
		 * timestamps: a time a hair before a window's end is in it */
		int e = v->scale - digits[unit];
		int128_t x = v->d;
		if (e >= 0) {
			x /= pow10_128(e);
		} else {
			int128_t m = pow10_128(-e);
			if (x > INT64_MAX / m || x < INT64_MIN / m)
				return false;
			x *= m;
		}
		if (x > INT64_MAX || x < INT64_MIN)
			return false;
		*us = (int64_t)x;
		return true;
	}
	case V_FLOAT:
		d = v->f * (double)mul[unit];
		if (!isfinite(d) || fabs(d) > 9e18)
			return false;
		*us = (int64_t)d; /* truncated, as Spark's (d * 1e6).toLong */
		return true;
	default:
		return false;
	}
}

/* Whether s is an ISO-8601 time but for a year beyond 9999 or before 1 in
 * the expanded form ("10000-01-01", "+10000-...", "-0001-..."), which
 * parse_iso_timestamp does not take: such a time is out of range, not
 * malformed. */
static bool iso_year_out_of_range(const char *s, size_t n)
{
	size_t sign = n && (s[0] == '+' || s[0] == '-'), d = sign;
	while (d < n && s[d] >= '0' && s[d] <= '9')
		d++;
	size_t ndigits = d - sign;
	bool beyond = ndigits >= 5 && s[sign] != '0', before = sign && s[0] == '-' && ndigits >= 4;
	char rest[64] = "2000"; /* the same time in a year that parses */
	if (!(beyond || before) || d == n || s[d] != '-' || n - d > sizeof rest - 4)
		return false;
	memcpy(rest + 4, s + d, n - d);
	int64_t us;
	bool zone;
	return parse_iso_timestamp(rest, 4 + n - d, &us, &zone);
}

const char *event_time(const struct value *v, const char *name, enum time_unit unit, int64_t *us, char *msg,
		       size_t msglen)
{
	const char *why;
	if (!v) {
		snprintf(msg, msglen, "no event time field '%s'", name);
		return msg;
	}
	bool parsed = value_as_micros(v, unit, us);
	if (!parsed && !(v->type == V_STRING && iso_year_out_of_range(v->s, v->n)))
		why = "is not a time";
	else if (!parsed || !evtime_ok(*us))
		why = "is outside years 1 to 9999";
	else
		return NULL;
	snprintf(msg, msglen, "event time field '%s' %s", name, why);
	return msg;
}

void wm_init(struct watermark *w, int64_t delay)
{
	w->delay = delay;
	w->max_seen = WM_NONE;
	w->wm = WM_NONE;
}

bool wm_advance_to(struct watermark *w, int64_t wm)
{
	if (wm == WM_NONE || (w->wm != WM_NONE && wm <= w->wm))
		return false;
	w->wm = wm;
	return true;
}

bool wm_observe(struct watermark *w, int64_t t)
{
	if (w->max_seen == WM_NONE || t > w->max_seen)
		w->max_seen = t;
	return wm_advance_to(w, wm_candidate(w));
}
