/* timeutil.c - see timeutil.h.  Civil-date conversions follow Howard
 * Hinnant's well-known days-from-civil derivation (eras of 400 years). */
#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int floordiv(int64_t a, int64_t b, int64_t *q)
{
	*q = a / b;
	int64_t r = a % b;
	if (r < 0) {
		(*q)--;
		r += b;
	}
	return (int)r;
}

/* exactly `width` decimal digits of v, zero-padded */
static void put_digits(char *out, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

int format_date(char *out, int64_t days)
{
	/* rows in a stream mostly share their day: remember the last one */
	static __thread int64_t memo_days = INT64_MIN;
	static __thread char memo[11];
	if (days == memo_days) {
		memcpy(out, memo, 11);
		return 10;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y >= 0 && y <= 9999) {
		/* by hand: windows and sinks format one of these per row */
		put_digits(out, (unsigned)y, 4);
		out[4] = '-';
		put_digits(out + 5, m, 2);
		out[7] = '-';
		put_digits(out + 8, d, 2);
		out[10] = 0;
		memcpy(memo, out, 11);
		memo_days = days;
		return 10;
	}
	return sprintf(out, "%+05lld-%02u-%02u", (long long)y, m, d);
}

int format_timestamp(char *out, int64_t micros, bool ntz)
{
	/* timestamps in a stream mostly share their second: remember the
	 * last one's "YYYY-MM-DDTHH:MM:SS" */
	static __thread int64_t memo_secs = INT64_MIN;
	static __thread char memo[19];
	int64_t secs, days;
	int us = floordiv(micros, 1000000, &secs), n;
	if (secs == memo_secs) {
		memcpy(out, memo, 19);
		n = 19;
	} else {
		int sod = floordiv(secs, 86400, &days);
		n = format_date(out, days);
		char *p = out + n;
		p[0] = 'T';
		put_digits(p + 1, (unsigned)(sod / 3600), 2);
		p[3] = ':';
		put_digits(p + 4, (unsigned)(sod / 60 % 60), 2);
		p[6] = ':';
		put_digits(p + 7, (unsigned)(sod % 60), 2);
		n += 9;
		if (n == 19) {
			memcpy(memo, out, 19);
			memo_secs = secs;
		}
	}
	out[n] = '.';
	put_digits(out + n + 1, (unsigned)us, 6);
	n += 7;
	if (!ntz)
		out[n++] = 'Z';
	out[n] = 0;
	return n;
}

static bool digits(const char *s, size_t n, size_t at, int cnt, int *out)
{
	if (at + cnt > n)
		return false;
	int v = 0;
	for (int i = 0; i < cnt; i++) {
		char c = s[at + i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*out = v;
	return true;
}

static int mdays(int64_t y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* "YYYY-MM-DD" at the start; returns the bytes used or 0 */
static size_t date_prefix(const char *s, size_t n, int64_t *days)
{
	/* timestamps in a stream mostly share their day: remember the last */
	static __thread char memo[10];
	static __thread int64_t memo_days = INT64_MIN;
	if (n >= 10 && memo_days != INT64_MIN && !memcmp(s, memo, 10)) {
		*days = memo_days;
		return 10;
	}
	int y, m, d;
	if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !digits(s, n, 5, 2, &m) || s[7] != '-' ||
	    !digits(s, n, 8, 2, &d))
		return 0;
	if (m < 1 || m > 12 || d < 1 || d > mdays(y, m))
		return 0;
	*days = days_from_civil(y, (unsigned)m, (unsigned)d);
	memcpy(memo, s, 10);
	memo_days = *days;
	return 10;
}

bool parse_iso_date(const char *s, size_t n, int64_t *days)
{
	return date_prefix(s, n, days) == n && n == 10;
}

bool parse_iso_timestamp(const char *s, size_t n, int64_t *micros, bool *has_zone)
{
	/* timestamps in a stream mostly share their second: remember the
	 * last "YYYY-MM-DDTHH:MM:SS" read and the seconds it means */
	static __thread char memo[19];
	static __thread int64_t memo_secs = INT64_MIN;
	int64_t secs, frac = 0;
	size_t i;
	bool time, leap = false;
	*has_zone = false;
	if (n >= 19 && memo_secs != INT64_MIN && !memcmp(s, memo, 19)) {
		secs = memo_secs;
		i = 19;
		time = true;
	} else {
		int64_t days;
		i = date_prefix(s, n, &days);
		if (!i)
			return false;
		secs = days * 86400;
		time = i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ');
		if (time) {
			int hh, mm, ss = 0;
			if (!digits(s, n, i + 1, 2, &hh) || i + 3 >= n || s[i + 3] != ':' || !digits(s, n, i + 4, 2, &mm))
				return false;
			i += 6;
			if (i < n && s[i] == ':') {
				if (!digits(s, n, i + 1, 2, &ss))
					return false;
				i += 3;
			}
			if (hh > 23 || mm > 59 || ss > 60)
				return false;
			leap = ss == 60;
			secs += hh * 3600 + mm * 60 + ss - leap;
			if (i == 19 && !leap) {
				/* all 19 bytes were read: the same bytes are the same second */
				memcpy(memo, s, 19);
				memo_secs = secs;
			}
		}
	}
	if (time && i < n && (s[i] == '.' || s[i] == ',')) {
		i++;
		int nd = 0;
		int64_t f = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (nd < 6)
				f = f * 10 + (s[i] - '0');
			nd++;
			i++;
		}
		if (!nd)
			return false;
		for (int k = nd; k < 6; k++)
			f *= 10;
		frac = f;
	}
	/* A leap second, whatever its fraction, reads as the last microsecond
	 * of its minute, as the formats' parser (cast.c) reads it: after every
	 * other time of that minute, and still inside it, its window and day. */
	if (leap)
		frac = 999999;
	int64_t off = 0;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		*has_zone = true;
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		int sign = s[i] == '-' ? -1 : 1, oh, om = 0, os = 0;
		if (!digits(s, n, i + 1, 2, &oh))
			return false;
		i += 3;
		if (i < n && s[i] == ':')
			i++;
		if (i < n && digits(s, n, i, 2, &om)) {
			i += 2;
			if (i < n && s[i] == ':' && digits(s, n, i + 1, 2, &os))
				i += 3; /* Spark 4 writes seconds in offsets */
		}
		if (oh > 18 || om > 59 || os > 59)
			return false;
		off = sign * (oh * 3600 + om * 60 + os);
		*has_zone = true;
	}
	if (i != n)
		return false;
	*micros = ((secs - off) * 1000000) + frac;
	return true;
}

int64_t now_micros(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t mono_micros(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
