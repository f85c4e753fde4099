/* value.c - see value.h */
#include "value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"

struct arena_block {
	struct arena_block *next;
	size_t size;
	_Alignas(16) unsigned char data[];
};

void *arena_alloc_slow(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t size = b ? b->size * 2 : 64 * 1024;
	if (size > 64 << 20)
		size = 64 << 20;
	if (size < n)
		size = n;
	struct arena_block *nb = xmalloc(sizeof *nb + size);
	nb->size = size;
	nb->next = b;
	if (b)
		a->older += (size_t)(a->cur - a->base);
	a->chained = b != NULL;
	a->head = nb;
	a->base = nb->data;
	a->cur = nb->data + n;
	a->lim = nb->data + size;
	return nb->data;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void arena_reset_slow(struct arena *a)
{
	/* Keep only the newest (largest) block so steady-state reading reuses it. */
	struct arena_block *b = a->head, *rest = b->next;
	while (rest) {
		struct arena_block *n = rest->next;
		free(rest);
		rest = n;
	}
	b->next = NULL;
	a->chained = false;
	a->cur = a->base;
	a->older = 0;
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *n = b->next;
		free(b);
		b = n;
	}
	memset(a, 0, sizeof *a);
}

const char *vtype_name(enum vtype t)
{
	static const char *names[V_NTYPES] = {
		"null", "boolean", "integer", "float", "decimal", "string", "binary",
		"date", "timestamp", "timestamp_ntz", "array", "object", "map",
	};
	return t < V_NTYPES ? names[t] : "unknown";
}

struct value *value_get(const struct value *obj, const char *key, size_t klen)
{
	if (!obj || obj->type != V_OBJECT)
		return NULL;
	for (uint32_t i = obj->n; i-- > 0;) {
		struct value *k = &obj->a[2 * i];
		/* first byte before memcmp: most keys differ there */
		if (k->n == klen && (!klen || k->s[0] == key[0]) && !memcmp(k->s, key, klen))
			return &obj->a[2 * i + 1];
	}
	return NULL;
}

bool value_shadowed(const struct value *obj, uint32_t i)
{
	const struct value *k = &obj->a[2 * i];
	for (uint32_t j = i + 1; j < obj->n; j++) {
		const struct value *later = &obj->a[2 * j];
		if (later->n == k->n && !memcmp(later->s, k->s, k->n))
			return true;
	}
	return false;
}

double float_shortest(float x)
{
	if (!isfinite(x))
		return x;
	char tmp[32];
	for (int prec = 6; prec <= 9; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, (double)x);
		if (strtof(tmp, NULL) == x)
			break;
	}
	return strtod(tmp, NULL);
}

/* Objects up to this many members are scanned, not indexed. */
#define NAMES_SCAN 16

static inline bool fold_eq(const struct value *k, const char *name, size_t len)
{
	return k->type == V_STRING && k->n == len && !strncasecmp(k->s, name, len);
}

/* The slot of ix->last for name: its member's, or the empty one it would take. */
static uint32_t last_slot(const struct member_names *ix, const char *name, size_t len)
{
	uint32_t i = (uint32_t)hash_bytes(name, len, 0) & ix->mask;
	for (; ix->last[i]; i = (i + 1) & ix->mask) {
		const struct value *k = &ix->obj->a[2 * (ix->last[i] - 1)];
		if (k->n == len && !memcmp(k->s, name, len))
			break;
	}
	return i;
}

static uint32_t folded_slot(const struct member_names *ix, const char *name, size_t len)
{
	uint32_t i = (uint32_t)hash_name_folded(name, len) & ix->mask;
	while (ix->first_folded[i] && !fold_eq(&ix->obj->a[2 * (ix->first_folded[i] - 1)], name, len))
		i = (i + 1) & ix->mask;
	return i;
}

void member_names_init(struct member_names *ix, struct arena *a, const struct value *obj)
{
	*ix = (struct member_names){.obj = obj};
	if (obj->n <= NAMES_SCAN)
		return;
	uint32_t cap = 64;
	while (cap < 2 * (uint64_t)obj->n)
		cap *= 2;
	ix->mask = cap - 1;
	ix->last = arena_alloc(a, 2 * (size_t)cap * sizeof *ix->last);
	ix->first_folded = ix->last + cap;
	memset(ix->last, 0, 2 * (size_t)cap * sizeof *ix->last);
	for (uint32_t m = 0; m < obj->n; m++) {
		const struct value *k = &obj->a[2 * m];
		ix->last[last_slot(ix, k->s, k->n)] = m + 1;
		uint32_t f = folded_slot(ix, k->s, k->n);
		if (!ix->first_folded[f])
			ix->first_folded[f] = m + 1;
	}
}

long member_names_find(const struct member_names *ix, const char *name, size_t len)
{
	const struct value *obj = ix->obj;
	if (!ix->last) {
		const struct value *v = value_get(obj, name, len);
		if (v)
			return (long)((v - obj->a) / 2);
		for (uint32_t m = 0; m < obj->n; m++)
			if (fold_eq(&obj->a[2 * m], name, len))
				return (long)m;
		return -1;
	}
	uint32_t m = ix->last[last_slot(ix, name, len)];
	if (!m)
		m = ix->first_folded[folded_slot(ix, name, len)];
	return (long)m - 1;
}

bool member_names_shadowed(const struct member_names *ix, uint32_t i)
{
	if (!ix->last)
		return value_shadowed(ix->obj, i);
	const struct value *k = &ix->obj->a[2 * i];
	return ix->last[last_slot(ix, k->s, k->n)] != i + 1;
}

struct value *value_getz(const struct value *obj, const char *key)
{
	return value_get(obj, key, strlen(key));
}

struct value *value_path(const struct value *obj, const char *path)
{
	const struct value *cur = obj;
	for (;;) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		struct value *next = value_get(cur, path, n);
		if (!next || !dot)
			return next;
		cur = next;
		path = dot + 1;
	}
}

void layout_set(struct layout *l, const struct value *obj)
{
	static uint64_t ids;
	size_t size = 8;
	for (uint32_t i = 0; i < obj->n; i++)
		size += (obj->a[2 * i].n + 7) & ~(size_t)7;
	if (obj->n > l->cap) {
		l->cap = obj->n;
		l->off = xrealloc(l->off, l->cap * sizeof *l->off);
		l->len = xrealloc(l->len, l->cap * sizeof *l->len);
		l->head = xrealloc(l->head, l->cap * sizeof *l->head);
	}
	if (size > l->size) {
		l->size = size;
		l->bytes = xrealloc(l->bytes, size);
	}
	memset(l->bytes, 0, size);
	size_t off = 0;
	l->plain = true;
	for (uint32_t i = 0; i < obj->n; i++) {
		const struct value *k = &obj->a[2 * i];
		l->plain &= k->scale == VS_PLAIN;
		if (k->n)
			memcpy(l->bytes + off, k->s, k->n);
		l->off[i] = off;
		l->len[i] = k->n;
		memcpy(&l->head[i], l->bytes + off, 8);
		off += (k->n + 7) & ~(size_t)7;
	}
	l->n = obj->n;
	l->id = __atomic_add_fetch(&ids, 1, __ATOMIC_RELAXED);
}

uint64_t layout_note(struct layout *l, const struct value *obj)
{
	if (obj->n == l->n && l->id) {
		uint32_t i = 0;
		while (i < obj->n && layout_key_eq(l, i, obj->a[2 * i].s, obj->a[2 * i].n, 0))
			i++;
		if (i == obj->n)
			return l->id;
	}
	layout_set(l, obj);
	return l->id;
}

void layout_free(struct layout *l)
{
	free(l->off);
	free(l->len);
	free(l->head);
	free(l->bytes);
	memset(l, 0, sizeof *l);
}

void value_copy(struct arena *a, struct value *dst, const struct value *src)
{
	*dst = *src;
	switch (src->type) {
	case V_STRING:
	case V_BINARY:
		dst->s = arena_strndup(a, src->s, src->n);
		break;
	case V_ARRAY:
	case V_OBJECT:
	case V_MAP: {
		size_t cnt = src->type == V_ARRAY ? src->n : 2 * (size_t)src->n;
		struct value *items = arena_alloc(a, cnt * sizeof *items);
		for (size_t i = 0; i < cnt; i++)
			value_copy(a, &items[i], &src->a[i]);
		dst->a = items;
		break;
	}
	}
}

bool value_to_double(const struct value *v, double *out)
{
	switch (v->type) {
	case V_INT:
		*out = (double)v->i;
		return true;
	case V_FLOAT:
		*out = v->f;
		return true;
	case V_DECIMAL:
		*out = decimal_quotient(v->d, v->scale, 1);
		return true;
	default:
		return false;
	}
}

/* a constant table: decimal arithmetic asks for these per value */
#define P19 ((int128_t)10000000000000000000ull)
const int128_t pow10_table[39] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000ull,
	100000000000ull, 1000000000000ull, 10000000000000ull, 100000000000000ull,
	1000000000000000ull, 10000000000000000ull, 100000000000000000ull, 1000000000000000000ull,
	P19 * 1, P19 * 10, P19 * 100, P19 * 1000, P19 * 10000, P19 * 100000, P19 * 1000000,
	P19 * 10000000, P19 * 100000000, P19 * 1000000000, P19 * 10000000000ull,
	P19 * 100000000000ull, P19 * 1000000000000ull, P19 * 10000000000000ull,
	P19 * 100000000000000ull, P19 * 1000000000000000ull, P19 * 10000000000000000ull,
	P19 * 100000000000000000ull, P19 * 1000000000000000000ull, P19 * 10000000000000000000ull,
};
#undef P19

const char decimal_pairs[200] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
			       "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
			       "8081828384858687888990919293949596979899";
const uint32_t pow10_u32[10] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
};

/* Magnitudes beyond 32 bits and scales beyond 9 digits: all the digits,
 * then the whole part and the fraction copied out.  128-bit division is a
 * library call per digit, so only until the rest fits 64 bits. */
int decimal_format_wide(char *out, unsigned __int128 u, bool neg, int scale)
{
	char digits[48], *end = digits + sizeof digits, *q = end;
	while (u >> 64) {
		*--q = (char)('0' + (int)(u % 10));
		u /= 10;
	}
	uint64_t u64 = (uint64_t)u;
	while (u64 >= 100) {
		q -= 2;
		memcpy(q, decimal_pairs + 2 * (u64 % 100), 2);
		u64 /= 100;
	}
	if (u64 >= 10) {
		q -= 2;
		memcpy(q, decimal_pairs + 2 * u64, 2);
	} else {
		*--q = (char)('0' + u64);
	}
	while (end - q <= scale)
		*--q = '0';
	int nd = (int)(end - q), whole = scale > 0 ? nd - scale : nd, len = neg;
	out[0] = '-';
	memcpy(out + len, q, (size_t)whole);
	len += whole;
	if (scale > 0) {
		out[len++] = '.';
		memcpy(out + len, q + whole, (size_t)scale);
		len += scale;
	}
	out[len] = 0;
	return len;
}

double decimal_quotient(int128_t unscaled, int scale, int64_t n)
{
	/* both operands doubles exactly: the division rounds once (n <= 2^53
	 * keeps n * 10^22 within 128 bits) */
	const int128_t exact = (int128_t)1 << 53;
	if (unscaled <= exact && unscaled >= -exact && scale <= 22 && n <= exact) {
		int128_t divisor = n * pow10_128(scale);
		double dd = (double)divisor;
		if ((int128_t)dd == divisor)
			return (double)unscaled / dd;
	}
	/* else long division gives digits enough to tell the nearest double
	 * even next to a halfway point (16 + 19 for n + 38 for the scale),
	 * then a 1 when anything is left, and strtod rounds */
	unsigned __int128 u = unscaled < 0 ? -(unsigned __int128)unscaled : (unsigned __int128)unscaled;
	uint64_t d = (uint64_t)n, r = (uint64_t)(u % d);
	char text[192], *p = text;
	if (unscaled < 0)
		*p++ = '-';
	int len = decimal_format_wide(p, u / d, false, 0), exp = -scale;
	int significant = u / d ? len : 0;
	for (p += len; significant < 76 && r; exp--) {
		unsigned __int128 x = (unsigned __int128)r * 10;
		int digit = (int)(x / d);
		r = (uint64_t)(x % d);
		*p++ = (char)('0' + digit);
		significant += significant || digit;
	}
	if (r) {
		*p++ = '1';
		exp--;
	}
	snprintf(p, (size_t)(text + sizeof text - p), "e%d", exp);
	return strtod(text, NULL);
}

static int cmp_num(const struct value *x, const struct value *y)
{
	if (x->type != V_FLOAT && y->type != V_FLOAT) {
		int128_t a = x->type == V_INT ? x->i : x->d, b = y->type == V_INT ? y->i : y->d;
		int sa = x->type == V_INT ? 0 : x->scale, sb = y->type == V_INT ? 0 : y->scale;
		return decimal_cmp(a, sa, b, sb);
	}
	double a, b;
	value_to_double(x, &a);
	value_to_double(y, &b);
	/* NaN sorts after every number, equal to itself, as in Spark */
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return (a > b) - (a < b);
}

static int type_rank(const struct value *v)
{
	return value_is_number(v) ? V_INT : v->type;
}

int value_cmp(const struct value *x, const struct value *y)
{
	int rx = type_rank(x), ry = type_rank(y);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	switch (rx) {
	case V_NULL:
		return 0;
	case V_BOOL:
		return (int)x->b - (int)y->b;
	case V_INT:
		return cmp_num(x, y);
	case V_STRING:
	case V_BINARY: {
		size_t n = x->n < y->n ? x->n : y->n;
		int c = memcmp(x->s, y->s, n);
		if (c)
			return c < 0 ? -1 : 1;
		return (x->n > y->n) - (x->n < y->n);
	}
	case V_DATE:
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		return (x->i > y->i) - (x->i < y->i);
	default: {
		size_t cx = x->type == V_ARRAY ? x->n : 2 * (size_t)x->n;
		size_t cy = y->type == V_ARRAY ? y->n : 2 * (size_t)y->n;
		for (size_t i = 0; i < cx && i < cy; i++) {
			int c = value_cmp(&x->a[i], &y->a[i]);
			if (c)
				return c;
		}
		return (cx > cy) - (cx < cy);
	}
	}
}

bool value_eq(const struct value *x, const struct value *y)
{
	return value_cmp(x, y) == 0;
}

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	/* FNV-1a over 8-byte words with a final avalanche: quick and good enough
	 * for hash tables keyed by record fields. */
	const unsigned char *s = p;
	uint64_t h = seed ^ 0xcbf29ce484222325ull ^ (n * 0x9e3779b97f4a7c15ull);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	while (n--)
		h = (h ^ *s++) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

uint64_t hash_name_folded(const char *s, size_t n)
{
	/* FNV-1a over the bytes, upper case as lower, then a final mix: the
	 * tables take the low bits, which must depend on every byte */
	uint64_t h = 0xcbf29ce484222325ull ^ n;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 0x100000001b3ull;
	}
	h ^= h >> 29;
	return h * 0xbf58476d1ce4e5b9ull ^ h >> 32;
}

uint64_t value_hash(const struct value *v, uint64_t seed)
{
	switch (v->type) {
	case V_NULL:
		return hash_bytes("", 0, seed ^ 1);
	case V_BOOL:
		return hash_bytes(&v->b, 1, seed ^ 2);
	case V_INT:
	case V_FLOAT:
	case V_DECIMAL: {
		/* equal numbers must hash equal whatever their type: hash integral
		 * values as int64, others by their double */
		double d;
		value_to_double(v, &d);
		if (v->type == V_INT || (d == floor(d) && fabs(d) < 9e18)) {
			int64_t i = v->type == V_INT ? v->i : (int64_t)d;
			return hash_bytes(&i, 8, seed ^ 3);
		}
		return hash_bytes(&d, 8, seed ^ 4);
	}
	case V_STRING:
	case V_BINARY:
		return hash_bytes(v->s, v->n, seed ^ v->type);
	case V_DATE:
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		return hash_bytes(&v->i, 8, seed ^ v->type);
	default: {
		uint64_t h = seed ^ v->type;
		size_t cnt = v->type == V_ARRAY ? v->n : 2 * (size_t)v->n;
		for (size_t i = 0; i < cnt; i++)
			h = value_hash(&v->a[i], h * 31 + i);
		return h;
	}
	}
}
