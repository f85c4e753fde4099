/* deltapath.c - partition values, Hive-style directory names, the URI
 * paths of add actions, and add.stats (see delta.h).
 *
 * A partition directory name goes through two escapings: Hive's (Spark
 * ExternalCatalogUtils.escapePathName) for the directory, then URI
 * escaping for add.path, which is why a ':' in a timestamp appears as %253A
 * in the log.  Readers never parse directory names; partitionValues is the
 * truth. */
#include "delta.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "diag.h"
#include "json.h"
#include "parquet.h"
#include "timeutil.h"

static const char hexdig[] = "0123456789ABCDEF";

void delta_hive_escape(struct buf *b, const char *s)
{
	if (!s) {
		buf_puts(b, "__HIVE_DEFAULT_PARTITION__");
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || strchr("\"#%'*/:=?\\{[]^", c)) {
			buf_putc(b, '%');
			buf_putc(b, hexdig[c >> 4]);
			buf_putc(b, hexdig[c & 15]);
		} else {
			buf_putc(b, (char)c);
		}
	}
}

/* java.net.URI's path characters: unreserved, punctuation and '/' '@' stay */
void delta_uri_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c && strchr("-_.!~*'()/,;:$&+=@", c))) {
			buf_putc(b, (char)c);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hexdig[c >> 4]);
			buf_putc(b, hexdig[c & 15]);
		}
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool delta_uri_unescape(const char *s, struct buf *out)
{
	buf_reset(out);
	if (!*s || *s == '/' || strchr(s, '\\'))
		return false;
	/* a scheme ("s3:", "file:") before any '/' makes it absolute */
	const char *colon = strchr(s, ':'), *slash = strchr(s, '/');
	if (colon && (!slash || colon < slash))
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '%') {
			int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
			if (h < 0 || l < 0)
				return false;
			char c = (char)(h * 16 + l);
			if (!c)
				return false;
			buf_putc(out, c);
			p += 2;
		} else {
			buf_putc(out, *p);
		}
	}
	/* no component may climb out of the table */
	const char *d = buf_cstr(out);
	if (*d == '/')
		return false;
	for (const char *c = d; c;) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if ((n == 2 && c[0] == '.' && c[1] == '.') || n == 0)
			return false;
		c = e ? e + 1 : NULL;
	}
	return true;
}

bool delta_file_path(const char *root, const char *uri, struct buf *out, char *err, size_t errlen)
{
	struct buf rel = BUF_INIT;
	bool ok = delta_uri_unescape(uri, &rel);
	buf_reset(out);
	if (ok)
		buf_printf(out, "%s/%s", root, buf_cstr(&rel));
	else
		snprintf(err, errlen, "file path '%.200s' is not a plain path inside the table", uri);
	buf_free(&rel);
	return ok;
}

char *delta_partition_string(const struct value *v)
{
	char tmp[64];
	int n;
	struct buf b = BUF_INIT;
	switch (v->type) {
	case V_NULL:
		return NULL;
	case V_BOOL:
		return xstrdup(v->b ? "true" : "false");
	case V_INT:
		snprintf(tmp, sizeof tmp, "%lld", (long long)v->i);
		return xstrdup(tmp);
	case V_FLOAT:
		json_write_double(&b, v->f);
		if (b.p[0] == '"') { /* NaN, Infinity: the text without quotes */
			char *s = xstrndup(b.p + 1, b.len - 2);
			buf_free(&b);
			return s;
		}
		return buf_cstr(&b);
	case V_DECIMAL:
		decimal_format(tmp, v->d, v->scale);
		return xstrdup(tmp);
	case V_STRING:
	case V_BINARY:
		/* Delta reads an empty partition value as null */
		return v->n ? xstrndup(v->s, v->n) : NULL;
	case V_DATE:
		format_date(tmp, v->i);
		return xstrdup(tmp);
	case V_TIMESTAMP:
		format_timestamp(tmp, v->i, false);
		return xstrdup(tmp);
	case V_TIMESTAMP_NTZ:
		n = format_timestamp(tmp, v->i, true);
		if (n > 10)
			tmp[10] = ' ';
		return xstrdup(tmp);
	default:
		return NULL;
	}
}

static bool parse_decimal(const char *s, int scale, int128_t *out)
{
	const char *p = s;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	int128_t v = 0;
	int frac = -1, digits = 0;
	for (; *p; p++) {
		if (*p == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			return false;
		if (frac >= scale)
			continue; /* extra fraction digits truncate */
		if (++digits > 38)
			return false;
		v = v * 10 + (*p - '0');
		if (frac >= 0)
			frac++;
	}
	if (!digits)
		return false;
	for (int f = frac < 0 ? 0 : frac; f < scale; f++)
		v *= 10;
	*out = neg ? -v : v;
	return true;
}

int delta_partition_value(const char *s, const struct type *t, struct arena *a, struct value *out)
{
	*out = value_null();
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	switch (t->kind) {
	case T_BOOLEAN:
		if (strcmp(s, "true") && strcmp(s, "false"))
			return -1;
		*out = value_bool(!strcmp(s, "true"));
		return 0;
	case T_BYTE:
	case T_SHORT:
	case T_INT:
	case T_LONG: {
		long long v = strtoll(s, &end, 10);
		if (*end || errno)
			return -1;
		*out = value_int(v);
		return 0;
	}
	case T_FLOAT:
	case T_DOUBLE: {
		double d = strtod(s, &end);
		if (*end)
			return -1;
		*out = value_float(d);
		return 0;
	}
	case T_DECIMAL: {
		int128_t d;
		if (!parse_decimal(s, t->scale, &d))
			return -1;
		out->type = V_DECIMAL;
		out->scale = (uint8_t)t->scale;
		out->d = d;
		return 0;
	}
	case T_STRING:
	case T_BINARY: {
		size_t n = strlen(s);
		*out = value_str(arena_strndup(a, s, n), n);
		out->type = t->kind == T_STRING ? V_STRING : V_BINARY;
		return 0;
	}
	case T_DATE: {
		int64_t d;
		if (!parse_iso_date(s, strlen(s), &d))
			return -1;
		*out = value_typed_int(V_DATE, d);
		return 0;
	}
	case T_TIMESTAMP:
	case T_TIMESTAMP_NTZ: {
		int64_t us;
		bool zone;
		/* Spark writes "2021-09-08 11:11:11" in its session zone; UTC here */
		if (!parse_iso_timestamp(s, strlen(s), &us, &zone))
			return -1;
		*out = value_typed_int(t->kind == T_TIMESTAMP ? V_TIMESTAMP : V_TIMESTAMP_NTZ, us);
		return 0;
	}
	default:
		return -1;
	}
}

/* ---- stats ---- */

static bool minmax_kind(enum tkind k)
{
	switch (k) {
	case T_BYTE: case T_SHORT: case T_INT: case T_LONG: case T_FLOAT: case T_DOUBLE: case T_DECIMAL:
	case T_STRING: case T_DATE: case T_TIMESTAMP: case T_TIMESTAMP_NTZ:
		return true;
	default:
		return false;
	}
}

#define STATS_STRING_PREFIX 32

/* Strings are cut to a prefix of 32 characters; a cut max gets U+10FFFF
 * so it stays an upper bound. */
static void stats_string(struct buf *b, const struct value *v, bool is_max)
{
	size_t i = 0, chars = 0;
	while (i < v->n && chars < STATS_STRING_PREFIX) {
		unsigned char c = (unsigned char)v->s[i];
		i += c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		chars++;
	}
	if (i >= v->n) {
		json_write_string(b, v->s, v->n);
		return;
	}
	struct buf t = BUF_INIT;
	buf_put(&t, v->s, i);
	if (is_max)
		buf_puts(&t, "\xf4\x8f\xbf\xbf");
	json_write_string(b, t.p, t.len);
	buf_free(&t);
}

static void stats_value(struct buf *b, const struct value *v, bool is_max)
{
	char tmp[48];
	int64_t us;
	switch (v->type) {
	case V_STRING:
		stats_string(b, v, is_max);
		return;
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		/* milliseconds, as Spark writes them; a max rounds up so it stays a bound */
		us = v->i - ((v->i % 1000) + 1000) % 1000;
		if (is_max && us != v->i)
			us += 1000;
		format_timestamp(tmp, us, v->type == V_TIMESTAMP_NTZ);
		/* "....ffffff[Z]" -> "....fff[Z]" */
		{
			size_t n = strlen(tmp), dot = 19;
			memmove(tmp + dot + 4, tmp + dot + 7, n - (dot + 7) + 1);
		}
		json_write_string(b, tmp, strlen(tmp));
		return;
	default:
		json_write(b, v);
	}
}

struct stats_ctx {
	const struct pq_file_stats *st;
	struct buf path;
};

static const struct pq_col_stats *col_stats(const struct pq_file_stats *st, const char *path)
{
	for (size_t i = 0; i < st->ncols; i++)
		if (!strcmp(st->cols[i].path, path))
			return &st->cols[i];
	return NULL;
}

/* which: 0 min, 1 max, 2 nullCount; returns whether anything was written */
static bool stats_struct(struct buf *b, struct stats_ctx *c, const struct type *t, int which, int *budget)
{
	bool any = false;
	buf_putc(b, '{');
	for (size_t i = 0; i < t->nfields && *budget > 0; i++) {
		const struct field *f = &t->fields[i];
		size_t plen = c->path.len;
		if (plen)
			buf_putc(&c->path, '.');
		buf_puts(&c->path, f->name);
		size_t mark = b->len;
		if (any)
			buf_putc(b, ',');
		json_write_string(b, f->name, strlen(f->name));
		buf_putc(b, ':');
		bool wrote = false;
		if (f->type->kind == T_STRUCT) {
			wrote = stats_struct(b, c, f->type, which, budget);
		} else {
			(*budget)--;
			const struct pq_col_stats *cs = col_stats(c->st, buf_cstr(&c->path));
			if (cs && which == 2 && cs->null_count >= 0) {
				buf_printf(b, "%lld", (long long)cs->null_count);
				wrote = true;
			} else if (cs && which < 2 && cs->has_minmax && minmax_kind(f->type->kind)) {
				const struct value *v = which ? &cs->max : &cs->min;
				bool nan = v->type == V_FLOAT && isnan(v->f);
				if (!nan) {
					stats_value(b, v, which == 1);
					wrote = true;
				}
			}
		}
		if (wrote)
			any = true;
		else
			b->len = mark;
		c->path.len = plen;
	}
	buf_putc(b, '}');
	return any;
}

void delta_stats_json(struct buf *b, const struct pq_file_stats *st, const struct type *schema)
{
	struct stats_ctx c = {st, BUF_INIT};
	static const char *const names[] = {"minValues", "maxValues", "nullCount"};
	buf_printf(b, "{\"numRecords\":%lld", (long long)st->num_rows);
	for (int which = 0; which < 3; which++) {
		int budget = 32;
		buf_printf(b, ",\"%s\":", names[which]);
		stats_struct(b, &c, schema, which, &budget);
	}
	buf_putc(b, '}');
	buf_free(&c.path);
}
