/* json.c - see json.h */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "diag.h"
#include "timeutil.h"

/* The position in the text is not kept here but passed to and returned by
 * each function (NULL after an error), so that it stays in a register
 * rather than going through memory between every two steps. */
struct parser {
	const char *end, *start;
	struct arena *a;
	struct json_error *err;
	/* scratch stack of values for arrays/objects under construction */
	struct value *stack;
	size_t top, cap;
	int depth;
	/* json_parse_record: the keys of the last record, expected again at
	 * the top level, and the layout of the one read */
	struct layout *layout;
	uint64_t layout_id;
};

static const char *fail(struct parser *ps, const char *at, const char *msg)
{
	if (ps->err) {
		ps->err->offset = (size_t)(at - ps->start);
		ps->err->msg = msg;
	}
	return NULL;
}

static inline const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Reserve the next slot of the scratch stack.  Values are parsed in place
 * there rather than built in a temporary and copied: the copy would read
 * back bytes just written by narrower stores, which stalls the CPU's store
 * forwarding on every value. */
static inline size_t reserve(struct parser *ps)
{
	if (__builtin_expect(ps->top == ps->cap, 0)) {
		ps->cap = ps->cap ? ps->cap * 2 : 64;
		ps->stack = xrealloc(ps->stack, ps->cap * sizeof *ps->stack);
	}
	return ps->top++;
}

int utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str, *e = s + n;
	while (s < e) {
		/* ASCII fast path, 8 bytes at a time */
		while (e - s >= 8) {
			uint64_t w;
			memcpy(&w, s, 8);
			if (w & 0x8080808080808080ull)
				break;
			s += 8;
		}
		if (s >= e)
			break;
		unsigned char c = *s;
		if (c < 0x80) {
			s++;
			continue;
		}
		int len;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return 0;
		if (e - s < len)
			return 0;
		for (int i = 1; i < len; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		s += len;
	}
	return 1;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The string whose opening quote is at p. */
static const char *parse_string(struct parser *ps, const char *p, struct value *v)
{
	const char *s = p + 1, *q = s, *end = ps->end;
	bool escapes = false, ascii = true;
	while (q < end) {
		/* skip 8 plain ASCII bytes at a time: no quote, backslash,
		 * control character or byte of a multi-byte sequence */
		while (end - q >= 8) {
			uint64_t w;
			memcpy(&w, q, 8);
			uint64_t m = json_special(w);
			if (m) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				/* the lowest flagged byte is never a false alarm */
				q += __builtin_ctzll(m) >> 3;
#endif
				break;
			}
			q += 8;
		}
		if (q >= end)
			break;
		unsigned char c = (unsigned char)*q;
		if (c >= 0x80) {
			ascii = false;
			q++;
			continue;
		}
		if (c == '"')
			break;
		if (c == '\\') {
			escapes = true;
			q += 2;
			continue;
		}
		if (c < 0x20)
			return fail(ps, q, "control character in string");
		q++;
	}
	if (q >= end)
		return fail(ps, end, "unterminated string");
	if (!ascii && !utf8_valid(s, (size_t)(q - s)))
		return fail(ps, s, "invalid UTF-8 in string");
	v->type = V_STRING;
	if (!escapes) {
		/* the quote ended it, nothing was escaped, the UTF-8 is valid:
		 * writing it back needs no look at its bytes */
		v->scale = VS_PLAIN;
		v->s = s;
		v->n = (uint32_t)(q - s);
		return q + 1;
	}
	char *o = arena_alloc(ps->a, (size_t)(q - s) + 1), *start = o;
	for (const char *r = s; r < q;) {
		if (*r != '\\') {
			*o++ = *r++;
			continue;
		}
		r++;
		switch (*r++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			if (q - r < 4 || hex4(r, &cp))
				return fail(ps, r, "bad \\u escape");
			r += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (q - r < 6 || r[0] != '\\' || r[1] != 'u' || hex4(r + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return fail(ps, r, "unpaired surrogate in \\u escape");
				r += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return fail(ps, r, "unpaired surrogate in \\u escape");
			}
			o += put_utf8(o, cp);
			break;
		}
		default:
			return fail(ps, r - 1, "bad escape in string");
		}
	}
	v->s = start;
	v->n = (uint32_t)(o - start);
	return q + 1;
}

/* Out of line: inlined, its 128-bit arithmetic made parse_value save and
 * restore registers for every value, strings included. */
static __attribute__((noinline)) const char *parse_number(struct parser *ps, const char *p, struct value *v)
{
	const char *s = p, *q = s, *end = ps->end;
	bool neg = false;
	if (q < end && *q == '-')
		neg = true, q++;
	if (q >= end || *q < '0' || *q > '9')
		return fail(ps, s, "invalid number");
	if (*q == '0' && q + 1 < end && q[1] >= '0' && q[1] <= '9')
		return fail(ps, s, "leading zero in number");
	int128_t mant = 0;
	int ndig = 0, scale = 0;
	bool frac = false, expo = false;
	while (q < end && *q >= '0' && *q <= '9') {
		if (ndig < 38)
			mant = mant * 10 + (*q - '0');
		if (mant || ndig)
			ndig++;
		q++;
	}
	if (q < end && *q == '.') {
		frac = true;
		q++;
		if (q >= end || *q < '0' || *q > '9')
			return fail(ps, q, "invalid number");
		while (q < end && *q >= '0' && *q <= '9') {
			if (ndig < 38)
				mant = mant * 10 + (*q - '0');
			ndig++;
			scale++;
			q++;
		}
	}
	if (q < end && (*q == 'e' || *q == 'E')) {
		expo = true;
		q++;
		if (q < end && (*q == '+' || *q == '-'))
			q++;
		if (q >= end || *q < '0' || *q > '9')
			return fail(ps, q, "invalid number");
		while (q < end && *q >= '0' && *q <= '9')
			q++;
	}
	if (neg && mant == 0 && !expo) {
		/* -0 and -0.0 only mean something as a double; a decimal or
		 * integer zero would drop the sign, and a double written as -0.0
		 * must read back as itself */
		v->type = V_FLOAT;
		v->f = -0.0;
		return q;
	}
	if (!expo && ndig <= 38 && scale <= 38) {
		if (!frac && ndig <= 18) {
			v->type = V_INT;
			v->i = (int64_t)(neg ? -mant : mant);
			return q;
		}
		if (!frac && ndig <= 19) {
			/* the int64 edge: 19 digits fit when within range */
			int128_t m = neg ? -mant : mant;
			if (m >= INT64_MIN && m <= INT64_MAX) {
				v->type = V_INT;
				v->i = (int64_t)m;
				return q;
			}
		}
		v->type = V_DECIMAL;
		v->d = neg ? -mant : mant;
		v->scale = (uint8_t)scale;
		return q;
	}
	char tmp[64];
	size_t len = (size_t)(q - s);
	char *heap = NULL, *txt = tmp;
	if (len >= sizeof tmp)
		txt = heap = xmalloc(len + 1);
	memcpy(txt, s, len);
	txt[len] = 0;
	v->type = V_FLOAT;
	v->f = strtod(txt, NULL);
	free(heap);
	return q;
}

/* The key at p (a quote) as key i of the expected layout when its text is
 * that key's: a comparison instead of a scan.  The layout's keys are plain,
 * so equal bytes and a quote make the same key, escapes and all.  NULL when
 * it is not. */
static inline const char *expected_key(const struct layout *l, const char *p, const char *end, struct value *v,
					size_t i)
{
	const char *s = p + 1;
	size_t avail = (size_t)(end - s);
	if (i >= l->n || avail <= l->len[i] || s[l->len[i]] != '"' || !layout_key_eq(l, (uint32_t)i, s, l->len[i], avail))
		return NULL;
	v->type = V_STRING;
	v->scale = VS_PLAIN;
	v->n = l->len[i];
	v->s = s;
	return s + l->len[i] + 1;
}

/* Where a value goes: a stack slot (which may move while nested values are
 * parsed, so it is found again by index) or, at the top, the caller's. */
#define TOP ((size_t)-1)
static inline struct value *slot(struct parser *ps, size_t idx, struct value *top)
{
	return idx == TOP ? top : &ps->stack[idx];
}

static const char *parse_value(struct parser *ps, const char *p, size_t idx, struct value *top);

/* The array or object whose bracket is at p. */
static const char *parse_container(struct parser *ps, const char *p, size_t idx, struct value *top, bool object)
{
	const char *end = ps->end;
	if (++ps->depth > JSON_MAX_DEPTH)
		return fail(ps, p, "nesting too deep");
	p++;
	size_t base = ps->top;
	bool record = object && ps->depth == 1 && ps->layout, same = false;
	/* the expected keys in a copy, which the compiler can keep in
	 * registers while the values are stored */
	struct layout want = {0};
	/* while the keys are the expected ones, the members go straight
	 * where they stay, direct[0, 2 * nd), rather than through the stack */
	struct value *direct = NULL;
	size_t nd = 0;
	if (record) {
		want = *ps->layout;
		same = want.id && want.plain;
		if (same && want.n)
			direct = arena_alloc(ps->a, 2 * (size_t)want.n * sizeof *direct);
	}
	p = skip_ws(p, end);
	char close = object ? '}' : ']';
	if (p < end && *p == close) {
		p++;
	} else {
		for (;;) {
			p = skip_ws(p, end);
			if (object) {
				if (p >= end || *p != '"')
					return fail(ps, p, p >= end ? "truncated object" : "expected string key");
				const char *q = NULL;
				if (direct && nd < want.n) {
					memset(&direct[2 * nd], 0, sizeof *direct);
					q = expected_key(&want, p, end, &direct[2 * nd], nd);
				}
				if (!q) {
					if (direct) {
						/* not the expected keys: the stack from here on */
						for (size_t i = 0; i < 2 * nd; i++) {
							size_t k = reserve(ps);
							ps->stack[k] = direct[i];
						}
						direct = NULL;
					}
					same = false;
					size_t k = reserve(ps);
					memset(&ps->stack[k], 0, sizeof ps->stack[k]);
					if (!(q = parse_string(ps, p, &ps->stack[k])))
						return NULL;
				}
				p = skip_ws(q, end);
				if (p >= end || *p != ':')
					return fail(ps, p, "expected ':'");
				p = skip_ws(p + 1, end);
			}
			if (direct)
				p = parse_value(ps, p, TOP, &direct[2 * nd++ + 1]);
			else
				p = parse_value(ps, p, reserve(ps), NULL);
			if (!p)
				return NULL;
			p = skip_ws(p, end);
			if (p >= end)
				return fail(ps, p, object ? "truncated object" : "truncated array");
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p == close) {
				p++;
				break;
			}
			return fail(ps, p, object ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	size_t cnt = direct ? 2 * nd : ps->top - base;
	if (cnt > UINT32_MAX)
		return fail(ps, p, "too many elements");
	struct value *items = direct;
	if (!items) {
		items = arena_alloc(ps->a, (cnt ? cnt : 1) * sizeof *items);
		if (cnt) /* the stack may not exist yet: NULL + 0 is undefined */
			memcpy(items, ps->stack + base, cnt * sizeof *items);
	}
	ps->top = base;
	ps->depth--;
	struct value *v = slot(ps, idx, top);
	v->type = object ? V_OBJECT : V_ARRAY;
	v->n = (uint32_t)(object ? cnt / 2 : cnt);
	v->a = items;
	if (record)
		ps->layout_id = same && v->n == want.n ? want.id : layout_note(ps->layout, v);
	return p;
}

static const char *literal(struct parser *ps, const char *p, const char *word, size_t n)
{
	if ((size_t)(ps->end - p) < n || memcmp(p, word, n))
		return fail(ps, p, "invalid literal");
	return p + n;
}

static const char *parse_value(struct parser *ps, const char *p, size_t idx, struct value *top)
{
	if (p >= ps->end)
		return fail(ps, p, "unexpected end of input");
	struct value *v = slot(ps, idx, top);
	memset(v, 0, sizeof *v);
	switch (*p) {
	case '{':
		return parse_container(ps, p, idx, top, true);
	case '[':
		return parse_container(ps, p, idx, top, false);
	case '"':
		return parse_string(ps, p, v);
	case 't':
		v->type = V_BOOL;
		v->b = true;
		return literal(ps, p, "true", 4);
	case 'f':
		v->type = V_BOOL;
		return literal(ps, p, "false", 5);
	case 'n':
		v->type = V_NULL;
		return literal(ps, p, "null", 4);
	default:
		if (*p == '-' || (*p >= '0' && *p <= '9'))
			return parse_number(ps, p, v);
		return fail(ps, p, "unexpected character");
	}
}

static int parse(struct arena *a, const char *p, size_t n, struct value *out, struct json_error *err,
		 struct layout *l, uint64_t *layout)
{
	static __thread struct value *stack;
	static __thread size_t cap;
	struct parser ps = {.end = p + n, .start = p, .a = a, .err = err, .stack = stack, .cap = cap,
			    .layout = l};
	const char *q = parse_value(&ps, skip_ws(p, ps.end), TOP, out);
	int rc = q ? 0 : -1;
	if (q && (q = skip_ws(q, ps.end)) != ps.end) {
		fail(&ps, q, "trailing characters after JSON value");
		rc = -1;
	}
	/* keep the scratch stack for the next record */
	stack = ps.stack;
	cap = ps.cap;
	if (layout)
		*layout = rc ? 0 : ps.layout_id;
	return rc;
}

int json_parse(struct arena *a, const char *p, size_t n, struct value *out, struct json_error *err)
{
	return parse(a, p, n, out, err, NULL, NULL);
}

int json_parse_record(struct arena *a, const char *p, size_t n, struct value *out, struct json_error *err,
		      struct layout *l, uint64_t *layout)
{
	return parse(a, p, n, out, err, l, layout);
}

/* ---- writing ---- */

/* "s" at p, for n bytes that need no escaping; returns the end.  Room for
 * n + 2 bytes is the caller's. */
static inline char *put_quoted(char *p, const char *s, size_t n)
{
	*p = '"';
	copy_short(p + 1, s, n);
	p[n + 1] = '"';
	return p + n + 2;
}

void json_write_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_grow(b, n + 2);
	if (n <= 16) {
		/* the usual short string, all its bytes checked at once (padded
		 * with spaces, which need no escaping) and copied without a call */
		uint64_t w[2] = {0x2020202020202020ull, 0x2020202020202020ull};
		copy_short((char *)w, s, n);
		if (!(json_special(w[0]) | json_special(w[1]))) {
			b->len = (size_t)(put_quoted(b->p + b->len, s, n) - b->p);
			return;
		}
	}
	b->p[b->len++] = '"';
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		/* 8 bytes at a time while none needs a second look */
		while (n - run >= 8) {
			uint64_t w;
			memcpy(&w, s + run, 8);
			if (json_special(w))
				break;
			run += 8;
		}
		while (run < n) {
			unsigned char c = (unsigned char)s[run];
			if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
				break;
			run++;
		}
		buf_put(b, s + i, run - i);
		i = run;
		if (i >= n)
			break;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			/* copy a whole valid UTF-8 sequence, replace invalid bytes */
			size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
			if (len > 1 && i + len <= n && utf8_valid(s + i, len)) {
				buf_put(b, s + i, len);
				i += len;
			} else {
				buf_puts(b, "\xef\xbf\xbd");
				i++;
			}
			continue;
		}
		char esc[7] = {'\\', 0};
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
		}
		buf_put(b, esc, esc[1] == 'u' ? 6 : 2);
		i++;
	}
	buf_putc(b, '"');
}

void json_write_double(struct buf *b, double d)
{
	if (isnan(d)) {
		buf_puts(b, "\"NaN\"");
		return;
	}
	if (isinf(d)) {
		buf_puts(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		return;
	}
	char tmp[40];
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (!strpbrk(tmp, ".eEn"))
		tmp[n++] = '.', tmp[n++] = '0', tmp[n] = 0;
	buf_put(b, tmp, (size_t)n);
}

void json_set_str(struct value *v, const char *s, size_t n)
{
	value_set_str(v, s, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
			return;
	if (utf8_valid(s, n))
		v->scale = VS_PLAIN;
}

/* A string whose bytes need no escaping: one copy. */
static inline void write_plain(struct buf *b, const struct value *v)
{
	buf_grow(b, (size_t)v->n + 2);
	b->len = (size_t)(put_quoted(b->p + b->len, v->s, v->n) - b->p);
}

static void write_key(struct buf *b, const struct value *k)
{
	if (k->type == V_STRING) {
		if (k->scale == VS_PLAIN)
			write_plain(b, k);
		else
			json_write_string(b, k->s, k->n);
		return;
	}
	/* Spark's to_json writes non-string map keys in their text form */
	struct buf t = BUF_INIT;
	json_write(&t, k);
	if (t.len && t.p[0] == '"')
		buf_put(b, t.p, t.len);
	else
		json_write_string(b, t.p, t.len);
	buf_free(&t);
}

/* v when it holds no other values; false when it does.  In line in the
 * loop over an object's members, which are mostly such values. */
static inline __attribute__((always_inline)) bool write_scalar(struct buf *b, const struct value *v)
{
	char tmp[48];
	int n;
	switch (v->type) {
	case V_NULL:
		buf_put(b, "null", 4);
		return true;
	case V_BOOL:
		if (v->b)
			buf_put(b, "true", 4);
		else
			buf_put(b, "false", 5);
		return true;
	case V_INT: {
		/* hand-rolled: this is the hottest formatting path */
		char d[24];
		int k = 0;
		uint64_t u = v->i < 0 ? -(uint64_t)v->i : (uint64_t)v->i;
		do {
			d[k++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		buf_grow(b, 21);
		if (v->i < 0)
			b->p[b->len++] = '-';
		while (k)
			b->p[b->len++] = d[--k];
		return true;
	}
	case V_FLOAT:
		json_write_double(b, v->f);
		return true;
	case V_DECIMAL:
		buf_grow(b, 48);
		b->len += (size_t)decimal_format(b->p + b->len, v->d, v->scale);
		return true;
	case V_STRING:
		if (v->scale == VS_PLAIN)
			write_plain(b, v);
		else
			json_write_string(b, v->s, v->n);
		return true;
	case V_BINARY:
		buf_putc(b, '"');
		base64_encode(b, v->s, v->n);
		buf_putc(b, '"');
		return true;
	case V_DATE:
		buf_putc(b, '"');
		n = format_date(tmp, v->i);
		buf_put(b, tmp, (size_t)n);
		buf_putc(b, '"');
		return true;
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		buf_grow(b, 42);
		b->p[b->len] = '"';
		n = format_timestamp(b->p + b->len + 1, v->i, v->type == V_TIMESTAMP_NTZ);
		b->p[b->len + 1 + n] = '"';
		b->len += (size_t)n + 2;
		return true;
	default:
		return false;
	}
}

void json_write(struct buf *b, const struct value *v)
{
	if (write_scalar(b, v))
		return;
	switch (v->type) {
	case V_ARRAY:
		buf_putc(b, '[');
		for (uint32_t i = 0; i < v->n; i++) {
			if (i)
				buf_putc(b, ',');
			if (!write_scalar(b, &v->a[i]))
				json_write(b, &v->a[i]);
		}
		buf_putc(b, ']');
		return;
	case V_OBJECT:
	case V_MAP:
		buf_putc(b, '{');
		for (uint32_t i = 0; i < v->n; i++) {
			const struct value *k = &v->a[2 * i];
			if (k->type == V_STRING && k->scale == VS_PLAIN) {
				/* the usual key: ,"name": in one go */
				buf_grow(b, (size_t)k->n + 4);
				char *p = b->p + b->len;
				if (i)
					*p++ = ',';
				p = put_quoted(p, k->s, k->n);
				*p++ = ':';
				b->len = (size_t)(p - b->p);
			} else {
				if (i)
					buf_putc(b, ',');
				write_key(b, k);
				buf_putc(b, ':');
			}
			if (!write_scalar(b, &v->a[2 * i + 1]))
				json_write(b, &v->a[2 * i + 1]);
		}
		buf_putc(b, '}');
		return;
	}
}
