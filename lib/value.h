/* value.h - the in-memory form of a record and of everything inside it.
 *
 * One model serves NDJSON and the framed encoding (ARCHITECTURE §2): a record
 * is a V_OBJECT.  Values produced while reading a record live in an arena that
 * the reader resets per record, so parsing allocates nothing per value;
 * stateful tools that keep values copy them (value_copy) into their own arena
 * or serialize them with frame_put_value.
 *
 * JSON numbers with a fraction and no exponent read as V_DECIMAL with the
 * scale written, so "12.30" stays 12.30 through every stage and sums of money
 * are exact; other non-integers read as V_FLOAT. */
#ifndef WEIR_VALUE_H
#define WEIR_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum vtype {
	V_NULL,
	V_BOOL,
	V_INT,           /* i: byte, short, integer and long all live here */
	V_FLOAT,         /* f: float and double */
	V_DECIMAL,       /* d: unscaled, scale */
	V_STRING,        /* s, n bytes of UTF-8 */
	V_BINARY,        /* s, n bytes */
	V_DATE,          /* i: days since 1970-01-01 */
	V_TIMESTAMP,     /* i: microseconds since the epoch, UTC */
	V_TIMESTAMP_NTZ, /* i: microseconds, wall clock without zone */
	V_ARRAY,         /* a: n elements */
	V_OBJECT,        /* a: n pairs as 2n values, keys V_STRING; structs and string-keyed maps */
	V_MAP,           /* a: n pairs as 2n values, keys of any type */
	V_NTYPES
};

typedef __int128 int128_t;

/* The scale of a V_STRING whose bytes are known to need no escaping in JSON
 * (valid UTF-8 without '"', '\\' or control characters): a JSON reader
 * knows it for free of every string it read without escapes, and writers
 * then copy the bytes instead of looking at each.  0 means unknown, so every
 * other way of making a string stays correct without knowing of it. */
#define VS_PLAIN 1

struct value {
	uint8_t type;
	uint8_t scale; /* V_DECIMAL; V_STRING: VS_PLAIN or 0 */
	uint32_t n;
	union {
		bool b;
		int64_t i;
		double f;
		int128_t d;
		const char *s;
		struct value *a;
	};
};

/* A bump allocator; reset frees everything at once but keeps the largest
 * block.  Both are in line: readers allocate and reset per record. */
struct arena {
	struct arena_block *head;
	size_t older; /* bytes handed out from blocks before head since the last reset */
	unsigned char *base, *cur, *lim; /* head's data, its free part */
	bool chained;      /* head has older blocks, which reset frees */
};

void *arena_alloc_slow(struct arena *a, size_t n);
void arena_reset_slow(struct arena *a);
static inline void *arena_alloc(struct arena *a, size_t n)
{
	/* never the empty block's NULL, even for nothing */
	n = n ? (n + 15) & ~(size_t)15 : 16;
	if ((size_t)(a->lim - a->cur) < n)
		return arena_alloc_slow(a, n);
	void *p = a->cur;
	a->cur += n;
	return p;
}
/* Bytes handed out since the last reset (as rounded). */
static inline size_t arena_used(const struct arena *a)
{
	return a->older + (size_t)(a->cur - a->base);
}
char *arena_strndup(struct arena *a, const char *s, size_t n);
static inline void arena_reset(struct arena *a)
{
	if (a->chained) {
		arena_reset_slow(a);
		return;
	}
	a->cur = a->base;
}
void arena_free(struct arena *a);

static inline struct value value_null(void) { struct value v = {.type = V_NULL}; return v; }
static inline struct value value_int(int64_t i) { struct value v = {.type = V_INT, .i = i}; return v; }
static inline struct value value_float(double f) { struct value v = {.type = V_FLOAT, .f = f}; return v; }
/* A float as the double its shortest text names: FLOAT 1.1 is 1.1, not
 * 1.100000023841858 (what a FLOAT column's values print as). */
double float_shortest(float x);
static inline struct value value_bool(bool b) { struct value v = {.type = V_BOOL, .b = b}; return v; }
static inline struct value value_str(const char *s, size_t n) { struct value v = {.type = V_STRING, .n = (uint32_t)n, .s = s}; return v; }
static inline struct value value_typed_int(enum vtype t, int64_t i) { struct value v = {.type = (uint8_t)t, .i = i}; return v; }
/* Set *v to a string in place: in hot loops this avoids building a
 * temporary whose partial stores stall the 16-byte copy that follows. */
static inline void value_set_str(struct value *v, const char *s, size_t n)
{
	v->type = V_STRING;
	v->scale = 0;
	v->n = (uint32_t)n;
	v->s = s;
}

const char *vtype_name(enum vtype t);

/* Member lookup in a V_OBJECT; the last of duplicate keys wins, as in jq. */
struct value *value_get(const struct value *obj, const char *key, size_t klen);
struct value *value_getz(const struct value *obj, const char *key);
/* Whether member i of object obj has a namesake after it: of members of
 * one name the object holds the last, as value_get finds. */
bool value_shadowed(const struct value *obj, uint32_t i);

/* An object's member names, indexed when the object is too wide to scan
 * once per lookup: matching a schema's fields and a record's members one
 * scan each costs their product, which a record with thousands of members
 * (keys that are data) turns into milliseconds per record.  Narrow objects
 * get no index and are scanned. */
struct member_names {
	const struct value *obj;
	uint32_t *last;  /* member + 1 by name: the last of each name (0: empty slot) */
	uint32_t *first_folded; /* the first of each name ignoring ASCII case */
	uint32_t mask;
};
void member_names_init(struct member_names *ix, struct arena *a, const struct value *obj);
/* The member a column named name takes: the last member of exactly that
 * name, else the first whose name equals it ignoring ASCII case (column
 * names ignore case); -1 when there is none. */
long member_names_find(const struct member_names *ix, const char *name, size_t len);
/* value_shadowed, through the index */
bool member_names_shadowed(const struct member_names *ix, uint32_t i);
/* Dotted path "a.b.c" through nested objects; NULL when any step is missing. */
struct value *value_path(const struct value *obj, const char *path);

/* The key sequence of an object, remembered so that the next object with
 * the same keys in the same order (nearly every record of a stream) is
 * recognized for the cost of comparing keys, and its fields can be found by
 * position (record.h).  Ids are unique in the process and never 0. */
struct layout {
	uint64_t id;     /* 0 before the first object */
	uint32_t n, cap; /* keys, and room in off/len */
	size_t *off;
	uint32_t *len;
	uint64_t *head;  /* the first 8 bytes of each key, zero-padded */
	char *bytes;     /* key i at bytes + off[i]; padded for 8-byte loads */
	size_t size;
	bool plain;      /* every key was VS_PLAIN: JSON text equal to a key's
			    bytes and then a quote is that key */
};

/* Make l the layout of obj (a V_OBJECT) under a new id. */
void layout_set(struct layout *l, const struct value *obj);
/* l's id when obj's keys are l's, else layout_set and the new id. */
uint64_t layout_note(struct layout *l, const struct value *obj);
void layout_free(struct layout *l);

/* The bits of a loaded 8-byte word that hold its first n (< 8) bytes. */
static inline uint64_t first_bytes_mask(size_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (1ull << (8 * n)) - 1;
#else
	return n ? ~0ull << (64 - 8 * n) : 0;
#endif
}

/* Key k of a layout equals the n bytes at s: compared 8 bytes at a time when
 * s has at least `avail` readable bytes (the layout's keys are padded). */
static inline bool layout_key_eq(const struct layout *l, uint32_t k, const char *s, size_t n, size_t avail)
{
	if (n != l->len[k])
		return false;
	uint64_t x, y;
	if (n < 8 && avail >= 8) {
		/* the usual key, short: one load */
		memcpy(&x, s, 8);
		return !((x ^ l->head[k]) & first_bytes_mask(n));
	}
	const char *t = l->bytes + l->off[k];
	if (avail < ((n + 7) & ~(size_t)7))
		return !memcmp(s, t, n);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		memcpy(&y, t + i, 8);
		if (x != y)
			return false;
	}
	if (i == n)
		return true;
	memcpy(&x, s + i, 8);
	memcpy(&y, t + i, 8);
	return !((x ^ y) & first_bytes_mask(n - i));
}

/* Deep copy into an arena (strings included). */
void value_copy(struct arena *a, struct value *dst, const struct value *src);

/* Total order used by min/max, sort and keys: null first, then numbers
 * (int, decimal, float compared by value), then by type, then contents. */
int value_cmp(const struct value *x, const struct value *y);
bool value_eq(const struct value *x, const struct value *y);
/* Hash consistent with value_eq for keys (numbers of equal value hash equal). */
uint64_t value_hash(const struct value *v, uint64_t seed);
uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);
/* A name's hash ignoring ASCII case, as Delta compares column names: for
 * the indexes of member and field names (member_names, struct type). */
uint64_t hash_name_folded(const char *s, size_t n);

/* Numeric views; return false when the value is not numeric. */
bool value_to_double(const struct value *v, double *out);
/* In line: record loops ask it of every value. */
static inline bool value_is_number(const struct value *v)
{
	return v->type == V_INT || v->type == V_FLOAT || v->type == V_DECIMAL;
}

/* Decimal helpers: 10^k as int128 (k <= 38), text with the scale kept. */
extern const int128_t pow10_table[39];
/* in line: comparisons of decimals in filters ask for one per record */
static inline int128_t pow10_128(int k)
{
	return k <= 0 ? 1 : pow10_table[k < 38 ? k : 38];
}
/* Decimals a (scale sa) and b (scale sb), integers at scale 0, compared
 * exactly: the one with the smaller scale is brought to the other's by one
 * multiplication when that stays below 10^37; otherwise the other's whole
 * part at the smaller scale is compared first, then what it left over (as
 * doubles they could compare equal 27 digits in).  In line: filters compare
 * a column with a literal per record. */
static inline int decimal_cmp(int128_t a, int sa, int128_t b, int sb)
{
	/* a has the fewer digits after the point; sign flips when swapped */
	int sign = 1, d = sb - sa;
	if (d < 0) {
		int128_t t = a;
		a = b;
		b = t;
		sign = -1;
		d = -d;
	}
	int128_t lim = d <= 37 ? pow10_128(37 - d) : 1;
	if (d == 0 || (a < lim && a > -lim)) {
		a *= pow10_128(d);
		return sign * ((a > b) - (a < b));
	}
	/* b = q * 10^d + r with |r| < 10^d and r of b's sign */
	int128_t p = pow10_128(d), q = b / p, r = b % p;
	if (a != q)
		return sign * ((a > q) - (a < q));
	return sign * ((r < 0) - (r > 0));
}

/* "00".."99", and 10^k for k <= 9 */
extern const char decimal_pairs[200];
extern const uint32_t pow10_u32[10];
/* decimal_format of the magnitude u (negative when neg) at scale 0..9,
 * what most counts and sums are; in line for writers of those.  The
 * length comes first (the digit count from the bit length, which gives it
 * or one less), then the digits from the end, two at a time in 32-bit
 * arithmetic, the point among them: no temporary and no calls. */
static inline int decimal_format_short(char *out, uint32_t u, bool neg, int scale)
{
	int t = ((32 - __builtin_clz(u | 1)) * 1233) >> 12;
	int nd = t + ((u | 1) >= pow10_u32[t]);
	int len = neg + (nd > scale ? nd : scale + 1) + (scale > 0);
	char *q = out + len;
	*q = 0;
	out[0] = '-'; /* the first digit when there is no sign */
	int s = scale;
	for (; s >= 2; s -= 2) {
		q -= 2;
		memcpy(q, decimal_pairs + 2 * (u % 100), 2);
		u /= 100;
	}
	if (s) {
		*--q = (char)('0' + u % 10);
		u /= 10;
	}
	if (scale > 0)
		*--q = '.';
	while (u >= 100) {
		q -= 2;
		memcpy(q, decimal_pairs + 2 * (u % 100), 2);
		u /= 100;
	}
	if (u >= 10)
		memcpy(q - 2, decimal_pairs + 2 * u, 2);
	else
		q[-1] = (char)('0' + u);
	return len;
}

/* decimal_format of the magnitude u beyond decimal_format_short's reach:
 * all the digits, then the whole part and the fraction copied out. */
int decimal_format_wide(char *out, unsigned __int128 u, bool neg, int scale);

/* unscaled / 10^scale / n (n >= 1) rounded once to the nearest double, as
 * strtod rounds the exact quotient's text: a decimal as a double (n 1), an
 * exact sum's mean.  Dividing the double nearest the decimal instead
 * rounds twice (6353093552187065643.4 gave ...066e+18, not ...065e+18;
 * 0.3 / 3 gave 0.09999999999999999). */
double decimal_quotient(int128_t unscaled, int scale, int64_t n);

/* A decimal (an integer at scale 0) as JSON and Delta write it; writes at
 * most 42 bytes (the text and a NUL) and returns the length.  In line, so
 * that writers of counts and sums get the short path without a call. */
static inline int decimal_format(char *out, int128_t unscaled, int scale)
{
	bool neg = unscaled < 0;
	/* negate as unsigned so the most negative value survives */
	unsigned __int128 u = neg ? -(unsigned __int128)unscaled : (unsigned __int128)unscaled;
	if (scale < 0)
		scale = 0;
	if (u > UINT32_MAX || scale > 9)
		return decimal_format_wide(out, u, neg, scale);
	return decimal_format_short(out, (uint32_t)u, neg, scale);
}

#endif
