/* evtime.c - see evtime.h */
#include "evtime.h"

#include <math.h>
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

bool value_as_micros(const struct value *v, enum time_unit unit, int64_t *us)
{
	static const int64_t mul[] = {1000000, 1000, 1};
	bool zone;
	double d;
	switch (v->type) {
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		*us = v->i;
		return true;
	case V_DATE:
		*us = v->i * 86400 * 1000000;
		return true;
	case V_STRING:
		return parse_iso_timestamp(v->s, v->n, us, &zone);
	case V_INT:
		if (v->i > INT64_MAX / mul[unit] || v->i < INT64_MIN / mul[unit])
			return false;
		*us = v->i * mul[unit];
		return true;
	case V_DECIMAL:
	case V_FLOAT:
		value_to_double(v, &d);
		d *= (double)mul[unit];
		if (!isfinite(d) || fabs(d) > 9e18)
			return false;
		*us = (int64_t)llround(d);
		return true;
	default:
		return false;
	}
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
