/* cast.c - see cast.h */
#include "cast.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "buf.h"
#include "diag.h"
#include "json.h"
#include "timeutil.h"

static bool fail(struct cast *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct cast *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof c->reason, fmt, ap);
	va_end(ap);
	c->nseg = 0;
	return false;
}

/* Record where we were on the way out of a failed cast. */
static bool unwind_name(struct cast *c, const char *name, size_t len)
{
	if (c->nseg < CAST_MAX_PATH) {
		c->seg[c->nseg].name = name;
		c->seg[c->nseg].len = len;
		c->nseg++;
	}
	return false;
}

static bool unwind_index(struct cast *c, uint64_t i)
{
	if (c->nseg < CAST_MAX_PATH) {
		c->seg[c->nseg].name = NULL;
		c->seg[c->nseg].index = i;
		c->nseg++;
	}
	return false;
}

static void format_path(struct cast *c)
{
	size_t k = 0, cap = sizeof c->field;
	c->field[0] = 0;
	for (int i = c->nseg - 1; i >= 0 && k + 24 < cap; i--) {
		int n;
		if (c->seg[i].name)
			n = snprintf(c->field + k, cap - k, "%s%.*s", k ? "." : "",
				     (int)(c->seg[i].len > 200 ? 200 : c->seg[i].len), c->seg[i].name);
		else
			n = snprintf(c->field + k, cap - k, "[%llu]", (unsigned long long)c->seg[i].index);
		if (n < 0 || (size_t)n >= cap - k)
			break;
		k += (size_t)n;
	}
}

/* A short, printable rendering of an offending value for messages. */
static const char *show(const struct value *v, char *out, size_t cap)
{
	struct buf b = BUF_INIT;
	json_write(&b, v);
	if (b.len > 40)
		snprintf(out, cap, "%.37s...", b.p);
	else
		snprintf(out, cap, "%.*s", (int)b.len, b.p);
	buf_free(&b);
	return out;
}

bool decimal_parse(const char *s, size_t n, int128_t *unscaled, int *scale)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	int128_t u = 0;
	int digits = 0, sc = 0;
	bool any = false;
	while (i < n && isdigit((unsigned char)s[i])) {
		if (u || s[i] != '0') {
			if (++digits > 38)
				return false;
		}
		u = u * 10 + (s[i++] - '0');
		any = true;
	}
	if (i < n && s[i] == '.') {
		i++;
		bool frac = false;
		while (i < n && isdigit((unsigned char)s[i])) {
			if (u || s[i] != '0')
				if (++digits > 38)
					return false;
			if (sc >= 76)
				return false;
			u = u * 10 + (s[i++] - '0');
			sc++;
			frac = true;
		}
		if (!frac && !any)
			return false;
		any = true;
	}
	if (!any)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		bool eneg = false;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			eneg = s[i++] == '-';
		if (i >= n)
			return false;
		long e = 0;
		while (i < n && isdigit((unsigned char)s[i])) {
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
			i++;
		}
		sc += eneg ? (int)e : -(int)e;
	}
	if (i != n)
		return false;
	if (!u) {
		*unscaled = 0;
		*scale = sc < 0 ? 0 : sc > 38 ? 38 : sc;
		return true;
	}
	while (sc > 38) {
		/* only trailing zeros may go */
		if (u % 10)
			return false;
		u /= 10;
		sc--;
	}
	while (sc < 0) {
		if (u > pow10_128(38) / 10)
			return false;
		u *= 10;
		sc++;
		if (++digits > 38 && u)
			return false;
	}
	*unscaled = neg ? -u : u;
	*scale = sc;
	return true;
}

/* A string that names a double: decimal syntax or NaN/Infinity/-Infinity
 * (the canonical forms); never strtod's hex floats or "inf". */
static bool text_double(const char *s, size_t n, double *out)
{
	if (n == 3 && !strncasecmp(s, "NaN", 3)) {
		*out = NAN;
		return true;
	}
	if ((n == 8 && !strncasecmp(s, "Infinity", 8)) || (n == 9 && !strncasecmp(s, "+Infinity", 9))) {
		*out = INFINITY;
		return true;
	}
	if (n == 9 && !strncasecmp(s, "-Infinity", 9)) {
		*out = -INFINITY;
		return true;
	}
	if (!n || n > 400)
		return false;
	bool digit = false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (isdigit((unsigned char)ch))
			digit = true;
		else if (ch != '-' && ch != '+' && ch != '.' && ch != 'e' && ch != 'E')
			return false;
	}
	if (!digit)
		return false;
	char tmp[401];
	memcpy(tmp, s, n);
	tmp[n] = 0;
	char *end;
	errno = 0;
	*out = strtod(tmp, &end);
	return end == tmp + n;
}

/* Shortest decimal text of a double, as an exact decimal. */
static bool double_decimal(double d, int128_t *u, int *scale)
{
	if (!isfinite(d))
		return false;
	struct buf b = BUF_INIT;
	json_write_double(&b, d);
	bool ok = decimal_parse(b.p, b.len, u, scale);
	buf_free(&b);
	return ok;
}

/* A number value or numeric string as an exact decimal; false with *isnum
 * telling whether it was a number at all (a double may not be exact). */
static bool as_decimal(const struct value *v, int128_t *u, int *scale)
{
	switch (v->type) {
	case V_INT:
		*u = v->i;
		*scale = 0;
		return true;
	case V_DECIMAL:
		*u = v->d;
		*scale = v->scale;
		return true;
	case V_FLOAT:
		return double_decimal(v->f, u, scale);
	case V_STRING:
		return decimal_parse(v->s, v->n, u, scale);
	default:
		return false;
	}
}

static int128_t abs128(int128_t x)
{
	return x < 0 ? -x : x;
}

/* Rescale to `to` digits after the point, rounding half up (away from
 * zero, as SQL CAST); false when the result has more than `prec` digits. */
static bool rescale(int128_t *u, int from, int to, int prec)
{
	if (from > to) {
		int128_t p = pow10_128(from - to), q = *u / p, r = *u % p;
		if (abs128(r) * 2 >= p)
			q += *u < 0 ? -1 : 1;
		*u = q;
	} else if (from < to) {
		int room = prec - (to - from);
		if (room < 0 ? *u != 0 : abs128(*u) >= pow10_128(room))
			return false;
		*u *= pow10_128(to - from);
	}
	return abs128(*u) < pow10_128(prec);
}

static bool cast_int(struct cast *c, const struct type *t, const struct value *in, struct value *out)
{
	static const int64_t lim[][2] = {
		[T_BYTE] = {-128, 127}, [T_SHORT] = {-32768, 32767},
		[T_INT] = {INT32_MIN, INT32_MAX}, [T_LONG] = {INT64_MIN, INT64_MAX},
	};
	char tmp[48];
	int128_t u;
	int scale;
	if (in->type == V_INT) {
		u = in->i;
		scale = 0;
	} else if (in->type == V_FLOAT) {
		double d = in->f;
		if (!isfinite(d) || d != floor(d))
			return fail(c, "not an integer: %s", show(in, tmp, sizeof tmp));
		if (d < -9.3e18 || d > 9.3e18)
			return fail(c, "out of range for %s: %s", tkind_name(t->kind), show(in, tmp, sizeof tmp));
		u = (int128_t)d;
		scale = 0;
	} else if (in->type == V_DECIMAL || in->type == V_STRING) {
		if (!as_decimal(in, &u, &scale))
			return fail(c, "not a number: %s", show(in, tmp, sizeof tmp));
		if (in->type == V_STRING)
			c->coerced = true;
		int128_t p = pow10_128(scale);
		if (u % p)
			return fail(c, "not an integer: %s", show(in, tmp, sizeof tmp));
		u /= p;
	} else {
		return fail(c, "expected %s, got %s", tkind_name(t->kind), vtype_name((enum vtype)in->type));
	}
	if (u < lim[t->kind][0] || u > lim[t->kind][1])
		return fail(c, "out of range for %s: %s", tkind_name(t->kind), show(in, tmp, sizeof tmp));
	*out = value_int((int64_t)u);
	return true;
}

static bool cast_float(struct cast *c, const struct type *t, const struct value *in, struct value *out)
{
	char tmp[48];
	double d;
	if (in->type == V_STRING) {
		if (!text_double(in->s, in->n, &d))
			return fail(c, "not a number: %s", show(in, tmp, sizeof tmp));
		c->coerced = true;
	} else if (!value_to_double(in, &d)) {
		return fail(c, "expected %s, got %s", tkind_name(t->kind), vtype_name((enum vtype)in->type));
	}
	if (t->kind == T_FLOAT && isfinite(d)) {
		if (fabs(d) > FLT_MAX)
			return fail(c, "out of range for float: %s", show(in, tmp, sizeof tmp));
		/* 0.1 stays 0.1 rather than becoming 0.10000000149011612 */
		d = float_shortest((float)d);
	}
	*out = value_float(d);
	return true;
}

static bool cast_decimal(struct cast *c, const struct type *t, const struct value *in, struct value *out)
{
	char tmp[48];
	int128_t u;
	int scale;
	if (in->type != V_INT && in->type != V_DECIMAL && in->type != V_FLOAT && in->type != V_STRING)
		return fail(c, "expected %s, got %s", "decimal", vtype_name((enum vtype)in->type));
	if (!as_decimal(in, &u, &scale))
		return fail(c, "not a number: %s", show(in, tmp, sizeof tmp));
	if (in->type == V_STRING)
		c->coerced = true;
	if (!rescale(&u, scale, t->scale, t->precision))
		return fail(c, "out of range for decimal(%d,%d): %s", t->precision, t->scale, show(in, tmp, sizeof tmp));
	out->type = V_DECIMAL;
	out->scale = (uint8_t)t->scale;
	out->d = u;
	return true;
}

static bool cast_bool(struct cast *c, const struct value *in, struct value *out)
{
	char tmp[48];
	if (in->type == V_BOOL) {
		*out = *in;
		return true;
	}
	if (in->type == V_STRING) {
		if (in->n == 4 && !strncasecmp(in->s, "true", 4))
			*out = value_bool(true);
		else if (in->n == 5 && !strncasecmp(in->s, "false", 5))
			*out = value_bool(false);
		else
			return fail(c, "not a boolean: %s", show(in, tmp, sizeof tmp));
		c->coerced = true;
		return true;
	}
	if (in->type == V_INT && (in->i == 0 || in->i == 1)) {
		*out = value_bool(in->i == 1);
		c->coerced = true;
		return true;
	}
	return fail(c, "not a boolean: %s", show(in, tmp, sizeof tmp));
}

static bool cast_string(struct cast *c, const struct value *in, struct value *out)
{
	if (in->type == V_STRING) {
		*out = *in;
		return true;
	}
	/* anything else as its canonical JSON text, as Spark's from_json does
	 * for string fields; strings of other types lose their quotes */
	struct buf b = BUF_INIT;
	json_write(&b, in);
	size_t off = b.len >= 2 && b.p[0] == '"';
	*out = value_str(arena_strndup(c->arena, b.p + off, b.len - 2 * off), b.len - 2 * off);
	buf_free(&b);
	c->coerced = true;
	return true;
}

static bool cast_binary(struct cast *c, const struct value *in, struct value *out)
{
	char tmp[48];
	if (in->type == V_BINARY) {
		*out = *in;
		return true;
	}
	if (in->type != V_STRING)
		return fail(c, "expected base64 text for binary, got %s", vtype_name((enum vtype)in->type));
	unsigned char *p = arena_alloc(c->arena, in->n / 4 * 3 + 3);
	long n = base64_decode(p, in->s, in->n);
	if (n < 0)
		return fail(c, "not base64: %s", show(in, tmp, sizeof tmp));
	out->type = V_BINARY;
	out->s = (const char *)p;
	out->n = (uint32_t)n;
	return true;
}

/* ---- time ---- */

static bool epoch_micros(const struct cast *c, const struct value *v, int64_t *us)
{
	int128_t u;
	int scale;
	double d;
	if (v->type == V_FLOAT) {
		if (!isfinite(v->f) || fabs(v->f) > 9e18)
			return false;
		d = v->f;
		u = (int128_t)d;
		scale = 0;
	} else if (!as_decimal(v, &u, &scale)) {
		return false;
	}
	int128_t whole = u / pow10_128(scale);
	enum epoch_unit unit = c->opts ? c->opts->epoch : EPOCH_AUTO;
	if (unit == EPOCH_AUTO) {
		int128_t a = abs128(whole);
		unit = a < (int128_t)100000000000LL ? EPOCH_S : a < (int128_t)100000000000000LL ? EPOCH_MS : EPOCH_US;
	}
	int64_t mul = unit == EPOCH_S ? 1000000 : unit == EPOCH_MS ? 1000 : 1;
	if (v->type == V_FLOAT) {
		double x = v->f * (double)mul;
		if (fabs(x) > 9e18)
			return false;
		*us = (int64_t)llround(x);
		return true;
	}
	/* exact for decimals: scaled * mul / 10^scale, rounded toward floor;
	 * digits below a microsecond go first so the product cannot overflow */
	if (abs128(whole) > (int128_t)INT64_MAX / mul)
		return false;
	if (scale > 6) {
		int128_t p = pow10_128(scale - 6), q = u / p;
		if (u % p && u < 0)
			q--;
		u = q;
		scale = 6;
	}
	int128_t x = u * mul, p = pow10_128(scale), q = x / p;
	if (x % p && x < 0)
		q--;
	*us = (int64_t)q;
	return true;
}

static int digits_at(const char *s, size_t n, size_t *i, int min, int max, int *out)
{
	int v = 0, k = 0;
	while (*i < n && k < max && isdigit((unsigned char)s[*i])) {
		v = v * 10 + (s[(*i)++] - '0');
		k++;
	}
	*out = v;
	return k >= min;
}

static const char *const month_names[] = {"january", "february", "march", "april", "may", "june", "july",
					  "august", "september", "october", "november", "december"};
static const char *const day_names[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

/* Match a name from the table, full or its first three letters. */
static int name_at(const char *s, size_t n, size_t *i, const char *const *names, int count, bool full)
{
	for (int k = 0; k < count; k++) {
		size_t len = full ? strlen(names[k]) : 3;
		if (n - *i >= len && !strncasecmp(s + *i, names[k], len)) {
			*i += len;
			return k;
		}
	}
	return -1;
}

struct tm_parts {
	int year, mon, day, yday, hour, min, sec, hour12;
	int64_t frac_us, epoch;
	int pm;                /* -1 none, 0 am, 1 pm */
	bool has_year, has_yday, has_epoch, has_zone;
	int64_t zone_s;
};

/* Run fmt over s; with s NULL only checks the pattern. */
static bool run_format(const char *fmt, const char *s, size_t n, struct tm_parts *t, char *err, size_t errlen)
{
	size_t i = 0;
	memset(t, 0, sizeof *t);
	t->year = 1970;
	t->mon = t->day = 1;
	t->pm = -1;
	bool check = s == NULL;
	for (const char *f = fmt; *f; f++) {
		if (*f == ' ') {
			while (!check && i < n && isspace((unsigned char)s[i]))
				i++;
			continue;
		}
		if (*f != '%') {
			if (!check && (i >= n || s[i] != *f))
				return false;
			i++;
			continue;
		}
		f++;
		if (check) {
			if (!*f || !strchr("YmdeHIMSfpzZbhBaAjysTF%", *f)) {
				snprintf(err, errlen, "unknown directive '%%%.1s'", *f ? f : "");
				return false;
			}
			continue;
		}
		int v;
		switch (*f) {
		case 'Y': {
			bool neg = i < n && s[i] == '-';
			i += neg;
			if (!digits_at(s, n, &i, 4, 4, &v))
				return false;
			t->year = neg ? -v : v;
			t->has_year = true;
			break;
		}
		case 'y':
			if (!digits_at(s, n, &i, 2, 2, &v))
				return false;
			t->year = v < 69 ? 2000 + v : 1900 + v;
			t->has_year = true;
			break;
		case 'm':
			if (!digits_at(s, n, &i, 1, 2, &t->mon))
				return false;
			break;
		case 'e':
			if (i < n && s[i] == ' ')
				i++;
			/* FALLTHROUGH */
		case 'd':
			if (!digits_at(s, n, &i, 1, 2, &t->day))
				return false;
			break;
		case 'j':
			if (!digits_at(s, n, &i, 1, 3, &t->yday) || t->yday < 1 || t->yday > 366)
				return false;
			t->has_yday = true;
			break;
		case 'H':
			if (!digits_at(s, n, &i, 1, 2, &t->hour))
				return false;
			break;
		case 'I':
			if (!digits_at(s, n, &i, 1, 2, &t->hour12) || t->hour12 < 1 || t->hour12 > 12)
				return false;
			break;
		case 'M':
			if (!digits_at(s, n, &i, 1, 2, &t->min))
				return false;
			break;
		case 'S':
			if (!digits_at(s, n, &i, 1, 2, &t->sec))
				return false;
			break;
		case 'T':
			if (!digits_at(s, n, &i, 1, 2, &t->hour) || i >= n || s[i++] != ':' ||
			    !digits_at(s, n, &i, 1, 2, &t->min) || i >= n || s[i++] != ':' ||
			    !digits_at(s, n, &i, 1, 2, &t->sec))
				return false;
			break;
		case 'F': {
			bool neg = i < n && s[i] == '-';
			i += neg;
			if (!digits_at(s, n, &i, 4, 4, &t->year) || i >= n || s[i++] != '-' ||
			    !digits_at(s, n, &i, 1, 2, &t->mon) || i >= n || s[i++] != '-' ||
			    !digits_at(s, n, &i, 1, 2, &t->day))
				return false;
			if (neg)
				t->year = -t->year;
			t->has_year = true;
			break;
		}
		case 'f': {
			int k = 0;
			int64_t us = 0;
			while (i < n && isdigit((unsigned char)s[i])) {
				if (k < 6)
					us = us * 10 + (s[i] - '0');
				k++;
				i++;
			}
			if (!k || k > 9)
				return false;
			for (int z = k; z < 6; z++)
				us *= 10;
			t->frac_us = us;
			break;
		}
		case 'p':
			if (n - i >= 2 && !strncasecmp(s + i, "AM", 2))
				t->pm = 0;
			else if (n - i >= 2 && !strncasecmp(s + i, "PM", 2))
				t->pm = 1;
			else
				return false;
			i += 2;
			break;
		case 'z': {
			if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
				i++;
				t->has_zone = true;
				t->zone_s = 0;
				break;
			}
			if (i >= n || (s[i] != '+' && s[i] != '-'))
				return false;
			int sign = s[i++] == '-' ? -1 : 1, hh, mm = 0;
			if (!digits_at(s, n, &i, 2, 2, &hh))
				return false;
			if (i < n && s[i] == ':')
				i++;
			if (i < n && isdigit((unsigned char)s[i]) && !digits_at(s, n, &i, 2, 2, &mm))
				return false;
			if (hh > 18 || mm > 59)
				return false;
			t->has_zone = true;
			t->zone_s = sign * (hh * 3600 + mm * 60);
			break;
		}
		case 'Z':
			/* only zones that need no database */
			if (n - i >= 3 && (!strncasecmp(s + i, "UTC", 3) || !strncasecmp(s + i, "GMT", 3)))
				i += 3;
			else if (i < n && (s[i] == 'Z' || s[i] == 'z'))
				i++;
			else
				return false;
			t->has_zone = true;
			t->zone_s = 0;
			break;
		case 'b':
		case 'h':
		case 'B': {
			size_t save = i;
			int m = name_at(s, n, &i, month_names, 12, true);
			if (m < 0) {
				i = save;
				m = name_at(s, n, &i, month_names, 12, false);
			}
			if (m < 0)
				return false;
			t->mon = m + 1;
			break;
		}
		case 'a':
		case 'A': {
			size_t save = i;
			if (name_at(s, n, &i, day_names, 7, true) < 0) {
				i = save;
				if (name_at(s, n, &i, day_names, 7, false) < 0)
					return false;
			}
			break;
		}
		case 's': {
			bool neg = i < n && s[i] == '-';
			i += neg;
			int64_t e = 0;
			int k = 0;
			while (i < n && isdigit((unsigned char)s[i]) && k < 12) {
				e = e * 10 + (s[i++] - '0');
				k++;
			}
			if (!k)
				return false;
			t->epoch = neg ? -e : e;
			t->has_epoch = true;
			break;
		}
		case '%':
			if (i >= n || s[i] != '%')
				return false;
			i++;
			break;
		default:
			return false;
		}
	}
	return check || i == n;
}

bool ts_format_check(const char *fmt, char *err, size_t errlen)
{
	struct tm_parts t;
	if (!*fmt) {
		snprintf(err, errlen, "empty pattern");
		return false;
	}
	return run_format(fmt, NULL, 0, &t, err, errlen);
}

bool ts_format_parse(const char *fmt, const char *s, size_t n, int64_t *micros, bool *has_zone)
{
	struct tm_parts t;
	if (!run_format(fmt, s, n, &t, NULL, 0))
		return false;
	if (t.has_epoch) {
		*micros = t.epoch * 1000000 + t.frac_us;
		*has_zone = true;
		return true;
	}
	if (t.pm >= 0)
		t.hour = t.hour12 % 12 + (t.pm ? 12 : 0);
	else if (t.hour12)
		t.hour = t.hour12;
	if (t.year < 1 || t.year > 9999 || t.hour > 23 || t.min > 59 || t.sec > 60)
		return false;
	int64_t days;
	if (t.has_yday) {
		bool leap = (t.year % 4 == 0 && t.year % 100 != 0) || t.year % 400 == 0;
		if (t.yday > 365 + leap)
			return false;
		days = days_from_civil(t.year, 1, 1) + t.yday - 1;
	} else {
		static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		bool leap = (t.year % 4 == 0 && t.year % 100 != 0) || t.year % 400 == 0;
		if (t.mon < 1 || t.mon > 12 || t.day < 1 || t.day > mdays[t.mon - 1] || (t.mon == 2 && !leap && t.day > 28))
			return false;
		days = days_from_civil(t.year, (unsigned)t.mon, (unsigned)t.day);
	}
	int sec = t.sec == 60 ? 59 : t.sec;
	int64_t frac = t.sec == 60 ? 999999 : t.frac_us;
	*micros = (days * 86400 + t.hour * 3600 + t.min * 60 + sec - t.zone_s) * 1000000 + frac;
	*has_zone = t.has_zone;
	return true;
}

/* A string as an instant: patterns, then ISO-8601, then an epoch number. */
static bool string_instant(struct cast *c, const struct value *in, int64_t *us, bool *zone, bool *numeric)
{
	*numeric = false;
	if (c->opts)
		for (size_t i = 0; i < c->opts->nts_formats; i++)
			if (ts_format_parse(c->opts->ts_formats[i], in->s, in->n, us, zone))
				return true;
	if (parse_iso_timestamp(in->s, in->n, us, zone))
		return true;
	*zone = false;
	*numeric = true;
	return epoch_micros(c, in, us);
}

static bool ts_range(struct cast *c, int64_t us, const struct value *in, const char *what)
{
	char tmp[48];
	if (us < TS_MIN_MICROS || us > TS_MAX_MICROS)
		return fail(c, "%s out of range (years 0001 to 9999): %s", what, show(in, tmp, sizeof tmp));
	return true;
}

static bool cast_timestamp(struct cast *c, const struct type *t, const struct value *in, struct value *out)
{
	char tmp[48];
	bool ntz = t->kind == T_TIMESTAMP_NTZ, zone = false, numeric;
	int64_t us;
	const char *what = ntz ? "timestamp_ntz" : "timestamp";
	switch (in->type) {
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		us = in->i;
		if ((in->type == V_TIMESTAMP_NTZ) != ntz)
			c->coerced = true;
		break;
	case V_DATE:
		us = in->i * 86400 * 1000000;
		c->coerced = true;
		break;
	case V_STRING:
		if (!string_instant(c, in, &us, &zone, &numeric))
			return fail(c, "not a %s: %s", what, show(in, tmp, sizeof tmp));
		if (ntz && zone)
			return fail(c, "timestamp_ntz with a time zone: %s", show(in, tmp, sizeof tmp));
		if (numeric)
			c->coerced = true;
		break;
	case V_INT:
	case V_DECIMAL:
	case V_FLOAT:
		if (!epoch_micros(c, in, &us))
			return fail(c, "%s out of range: %s", what, show(in, tmp, sizeof tmp));
		c->coerced = true;
		break;
	default:
		return fail(c, "expected %s, got %s", what, vtype_name((enum vtype)in->type));
	}
	if (!ts_range(c, us, in, what))
		return false;
	*out = value_typed_int(ntz ? V_TIMESTAMP_NTZ : V_TIMESTAMP, us);
	return true;
}

static int64_t floor_days(int64_t us)
{
	int64_t d = us / 86400000000LL;
	if (us % 86400000000LL < 0)
		d--;
	return d;
}

static bool cast_date(struct cast *c, const struct value *in, struct value *out)
{
	char tmp[48];
	int64_t days, us;
	bool zone, numeric;
	switch (in->type) {
	case V_DATE:
		days = in->i;
		break;
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		days = floor_days(in->i);
		c->coerced = true;
		break;
	case V_STRING:
		if (parse_iso_date(in->s, in->n, &days))
			break;
		/* a timestamp's date: UTC when it has a zone, else its wall clock */
		if (!string_instant(c, in, &us, &zone, &numeric) || numeric)
			return fail(c, "not a date: %s", show(in, tmp, sizeof tmp));
		days = floor_days(us);
		break;
	default:
		return fail(c, "expected date, got %s", vtype_name((enum vtype)in->type));
	}
	if (days < DATE_MIN_DAYS || days > DATE_MAX_DAYS)
		return fail(c, "date out of range (years 0001 to 9999): %s", show(in, tmp, sizeof tmp));
	*out = value_typed_int(V_DATE, days);
	return true;
}

/* ---- nested ---- */

static bool cast_value(struct cast *c, const struct type *t, const struct value *in, struct value *out);

/* The member of obj named like a field, ignoring case as Delta does; the
 * last one when several match.  Only for fields no member names exactly. */
static const struct value *field_nocase(const struct value *obj, const char *name, size_t n)
{
	for (uint32_t i = obj->n; i-- > 0;) {
		const struct value *k = &obj->a[2 * i];
		if (k->n == n && !strncasecmp(k->s, name, n))
			return &obj->a[2 * i + 1];
	}
	return NULL;
}

/* The member of `in` (an object) that each field of t takes: found[i], or
 * NULL when there is none; a[2 * i] holds field i's name. */
static void find_fields(const struct type *t, const struct value *a, const struct value *in, const struct value **found)
{
	size_t nf = t->nfields;
	for (size_t i = 0; i < nf; i++)
		found[i] = NULL;
	/* One pass over the members, guessing that they come in schema order
	 * (they usually do); a later duplicate replaces an earlier one, so the
	 * last wins as in value_get. */
	size_t guess = 0, missing = nf;
	for (uint32_t j = 0; j < in->n; j++) {
		const struct value *k = &in->a[2 * j];
		size_t i = guess < nf ? guess : 0, tries = 0;
		while (tries < nf && (a[2 * i].n != k->n || (k->n && a[2 * i].s[0] != k->s[0]) ||
				      memcmp(a[2 * i].s, k->s, k->n))) {
			i = i + 1 < nf ? i + 1 : 0;
			tries++;
		}
		if (tries == nf)
			continue;
		missing -= !found[i];
		found[i] = &in->a[2 * j + 1];
		guess = i + 1;
	}
	for (size_t i = 0; missing && i < nf; i++)
		if (!found[i])
			found[i] = field_nocase(in, a[2 * i].s, a[2 * i].n);
}

/* Field i of t from the member v (NULL: none) into *out. */
static inline bool cast_field(struct cast *c, const struct type *t, size_t i, const struct value *v, struct value *out)
{
	const struct field *f = &t->fields[i];
	if (!v || v->type == V_NULL) {
		if (!f->nullable) {
			fail(c, v ? "null in a NOT NULL field" : "missing required field");
			return unwind_name(c, f->name, strlen(f->name));
		}
		memset(out, 0, sizeof *out);
		return true;
	}
	/* what most fields of most records hold, a string for a string or an
	 * integer for a long column, kept as it is (as cast_string and
	 * cast_int would) without the call */
	if ((v->type == V_STRING && f->type->kind == T_STRING) || (v->type == V_INT && f->type->kind == T_LONG)) {
		*out = *v;
		return true;
	}
	if (!cast_value(c, f->type, v, out))
		return unwind_name(c, f->name, strlen(f->name));
	return true;
}

static bool cast_struct(struct cast *c, const struct type *t, const struct value *in, struct value *out)
{
	if (in->type != V_OBJECT)
		return fail(c, "expected an object, got %s", vtype_name((enum vtype)in->type));
	size_t nf = t->nfields;
	struct value *a = arena_alloc(c->arena, (nf ? 2 * nf : 1) * sizeof *a);
	const struct value *local[64], **found = nf <= 64 ? local : arena_alloc(c->arena, nf * sizeof *found);
	for (size_t i = 0; i < nf; i++)
		value_set_str(&a[2 * i], t->fields[i].name, strlen(t->fields[i].name));
	find_fields(t, a, in, found);
	for (size_t i = 0; i < nf; i++)
		if (!cast_field(c, t, i, found[i], &a[2 * i + 1]))
			return false;
	out->type = V_OBJECT;
	out->n = (uint32_t)nf;
	out->a = a;
	return true;
}

static bool cast_array(struct cast *c, const struct type *t, const struct value *in, struct value *out)
{
	if (in->type != V_ARRAY)
		return fail(c, "expected an array, got %s", vtype_name((enum vtype)in->type));
	struct value *a = arena_alloc(c->arena, (in->n ? in->n : 1) * sizeof *a);
	for (uint32_t i = 0; i < in->n; i++) {
		if (in->a[i].type == V_NULL) {
			if (!t->contains_null) {
				fail(c, "null element in an array that cannot hold nulls");
				return unwind_index(c, i);
			}
			a[i] = value_null();
		} else if (!cast_value(c, t->elem, &in->a[i], &a[i])) {
			return unwind_index(c, i);
		}
	}
	out->type = V_ARRAY;
	out->n = in->n;
	out->a = a;
	return true;
}

static bool cast_map(struct cast *c, const struct type *t, const struct value *in, struct value *out)
{
	if (in->type != V_OBJECT && in->type != V_MAP)
		return fail(c, "expected an object for a map, got %s", vtype_name((enum vtype)in->type));
	struct value *a = arena_alloc(c->arena, (in->n ? 2 * (size_t)in->n : 1) * sizeof *a);
	for (uint32_t i = 0; i < in->n; i++) {
		const struct value *k = &in->a[2 * i], *v = &in->a[2 * i + 1];
		const char *kname = k->type == V_STRING ? k->s : "?";
		size_t klen = k->type == V_STRING ? k->n : 1;
		if (k->type == V_NULL) {
			fail(c, "null map key");
			return unwind_name(c, "?", 1);
		}
		if (!cast_value(c, t->key, k, &a[2 * i])) {
			snprintf(c->reason + strlen(c->reason), sizeof c->reason - strlen(c->reason), " (map key)");
			c->nseg = 0;
			return unwind_name(c, kname, klen);
		}
		if (v->type == V_NULL) {
			if (!t->contains_null) {
				fail(c, "null value in a map that cannot hold nulls");
				return unwind_name(c, kname, klen);
			}
			a[2 * i + 1] = value_null();
		} else if (!cast_value(c, t->val, v, &a[2 * i + 1])) {
			return unwind_name(c, kname, klen);
		}
	}
	/* string-keyed maps are objects in the value model */
	out->type = t->key->kind == T_STRING ? V_OBJECT : V_MAP;
	out->n = in->n;
	out->a = a;
	return true;
}

static bool cast_value(struct cast *c, const struct type *t, const struct value *in, struct value *out)
{
	if (in->type == V_NULL) {
		*out = *in;
		return true;
	}
	switch (t->kind) {
	case T_BOOLEAN: return cast_bool(c, in, out);
	case T_BYTE: case T_SHORT: case T_INT: case T_LONG: return cast_int(c, t, in, out);
	case T_FLOAT: case T_DOUBLE: return cast_float(c, t, in, out);
	case T_DECIMAL: return cast_decimal(c, t, in, out);
	case T_STRING: return cast_string(c, in, out);
	case T_BINARY: return cast_binary(c, in, out);
	case T_DATE: return cast_date(c, in, out);
	case T_TIMESTAMP: case T_TIMESTAMP_NTZ: return cast_timestamp(c, t, in, out);
	case T_STRUCT: return cast_struct(c, t, in, out);
	case T_ARRAY: return cast_array(c, t, in, out);
	case T_MAP: return cast_map(c, t, in, out);
	case T_VOID: return fail(c, "expected null for a void field");
	}
	return fail(c, "unsupported type");
}

/* Find st's fields among the members of `in` by name for every record of
 * its layout. */
static void remember_layout(struct cast *c, const struct type *st, const struct value *in, uint64_t layout)
{
	size_t nf = st->nfields;
	if (nf > c->nmember) {
		c->member = xrealloc(c->member, nf * sizeof *c->member);
		c->keys = xrealloc(c->keys, nf * sizeof *c->keys);
		c->nmember = nf;
	}
	struct value *a = arena_alloc(c->arena, (nf ? 2 * nf : 1) * sizeof *a);
	const struct value **found = arena_alloc(c->arena, (nf ? nf : 1) * sizeof *found);
	for (size_t i = 0; i < nf; i++)
		json_set_str(&a[2 * i], st->fields[i].name, strlen(st->fields[i].name));
	find_fields(st, a, in, found);
	for (size_t i = 0; i < nf; i++) {
		c->member[i] = found[i] ? (uint32_t)((found[i] - in->a) / 2) : UINT32_MAX;
		c->keys[i] = a[2 * i];
	}
	c->layout_type = st;
	c->layout = layout;
}

/* cast_struct for a record of the remembered layout. */
static bool cast_known(struct cast *c, const struct type *st, const struct value *in, struct value *out)
{
	size_t nf = st->nfields;
	struct value *a = arena_alloc(c->arena, (nf ? 2 * nf : 1) * sizeof *a);
	for (size_t i = 0; i < nf; i++) {
		uint32_t m = c->member[i];
		a[2 * i] = c->keys[i];
		if (!cast_field(c, st, i, m == UINT32_MAX ? NULL : &in->a[2 * (size_t)m + 1], &a[2 * i + 1]))
			return false;
	}
	out->type = V_OBJECT;
	out->n = (uint32_t)nf;
	out->a = a;
	return true;
}

bool cast_record(struct cast *c, const struct type *st, const struct value *in, uint64_t layout, struct value *out)
{
	c->coerced = false;
	c->nseg = 0;
	c->reason[0] = c->field[0] = 0;
	bool ok;
	if (layout && in->type == V_OBJECT) {
		if (layout != c->layout || st != c->layout_type)
			remember_layout(c, st, in, layout);
		ok = cast_known(c, st, in, out);
	} else {
		ok = cast_struct(c, st, in, out);
	}
	if (!ok)
		format_path(c);
	return ok;
}

void cast_free(struct cast *c)
{
	free(c->member);
	free(c->keys);
	c->member = NULL;
	c->keys = NULL;
	c->nmember = 0;
	c->layout = 0;
	c->layout_type = NULL;
}
