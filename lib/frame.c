/* frame.c - see frame.h */
#include "frame.h"

#include <string.h>

#include "json.h"

/* Encoders write through a pointer into room reserved once per value:
 * records are written value by value, and a size check per byte showed. */
static inline unsigned char *put_i128(unsigned char *p, int128_t d)
{
	/* zigzag over 128 bits, then LEB128 (at most 19 bytes) */
	unsigned __int128 z = ((unsigned __int128)d << 1) ^ (unsigned __int128)(d >> 127);
	while (z >= 0x80) {
		*p++ = (unsigned char)((unsigned)z | 0x80);
		z >>= 7;
	}
	*p++ = (unsigned char)z;
	return p;
}

/* the most a value's tag and body take, its elements aside */
#define PUT_ROOM 32

void frame_put_value(struct buf *b, const struct value *v)
{
	bool bytes = v->type == V_STRING || v->type == V_BINARY;
	buf_grow(b, PUT_ROOM + (bytes ? v->n : 0));
	unsigned char *p = (unsigned char *)b->p + b->len;
	*p++ = v->type;
	switch (v->type) {
	case V_NULL:
		break;
	case V_BOOL:
		*p++ = v->b ? 1 : 0;
		break;
	case V_INT:
	case V_DATE:
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		p = frame_varint_at(p, zigzag64(v->i));
		break;
	case V_FLOAT: {
		/* IEEE 754 binary64, little-endian whatever the host */
		uint64_t bits;
		memcpy(&bits, &v->f, 8);
		for (int i = 0; i < 8; i++)
			*p++ = (unsigned char)(bits >> (8 * i));
		break;
	}
	case V_DECIMAL:
		*p++ = v->scale;
		p = put_i128(p, v->d);
		break;
	case V_STRING:
	case V_BINARY:
		p = frame_varint_at(p, v->n);
		if (v->n)
			memcpy(p, v->s, v->n);
		p += v->n;
		break;
	case V_ARRAY:
	case V_MAP:
		p = frame_varint_at(p, v->n);
		b->len = (size_t)(p - (unsigned char *)b->p);
		for (uint32_t i = 0; i < (v->type == V_MAP ? 2 * v->n : v->n); i++)
			frame_put_value(b, &v->a[i]);
		return;
	case V_OBJECT:
		/* keys without their tag: they are always strings */
		p = frame_varint_at(p, v->n);
		b->len = (size_t)(p - (unsigned char *)b->p);
		for (uint32_t i = 0; i < v->n; i++) {
			const struct value *k = &v->a[2 * i];
			buf_grow(b, 10 + k->n);
			p = frame_varint_at((unsigned char *)b->p + b->len, k->n);
			if (k->n)
				memcpy(p, k->s, k->n);
			b->len = (size_t)(p + k->n - (unsigned char *)b->p);
			frame_put_value(b, &v->a[2 * i + 1]);
		}
		return;
	}
	b->len = (size_t)(p - (unsigned char *)b->p);
}

void frame_put_row(struct buf *b, const struct value *obj)
{
	for (uint32_t i = 0; i < obj->n; i++)
		frame_put_value(b, &obj->a[2 * i + 1]);
}

/* Eight input bytes as a little-endian number. */
static inline uint64_t le64(const unsigned char *q)
{
	uint64_t w;
	memcpy(&w, q, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* A varint of at most 8 bytes decoded from one load (eight bytes must be
 * readable): the 7-bit groups are squeezed together pairwise instead of
 * byte by byte.  NULL when it is longer, for the caller's slow path. */
static inline const unsigned char *varint8(const unsigned char *q, uint64_t *out)
{
	uint64_t w = le64(q), stop = ~w & 0x8080808080808080ull;
	if (!stop)
		return NULL;
	int bytes = (__builtin_ctzll(stop) >> 3) + 1;
	if (bytes < 8)
		w &= (1ull << (8 * bytes)) - 1;
	w = ((w & 0x7f007f007f007f00ull) >> 1) | (w & 0x007f007f007f007full);
	w = ((w & 0x3fff00003fff0000ull) >> 2) | (w & 0x00003fff00003fffull);
	w = ((w & 0x0fffffff00000000ull) >> 4) | (w & 0x000000000fffffffull);
	*out = w;
	return q + bytes;
}

/* Whether 8 bytes may be loaded at q: always when the input is padded
 * (frame_get_record's, FRAME_PAD), else when they are before end.  `pad`
 * is a constant at every call, so each decoder is compiled both ways. */
#define ROOM8(q, end, pad) ((pad) ? (q) < (end) : (end) - (q) >= 8)

/* Most varints in records (lengths, counts, small numbers) are one or two
 * bytes: decode those here, longer ones from one load when the input
 * allows, and the rest byte by byte.  The position goes by value and the
 * new one comes back (NULL on malformed input): kept in a register, it is
 * not reloaded after every byte-sized store into a value, which C must
 * assume could alias it. */
static inline __attribute__((always_inline)) const unsigned char *varint(const unsigned char *q,
									  const unsigned char *end, uint64_t *out,
									  bool pad)
{
	if (__builtin_expect(q < end && *q < 0x80, 1)) {
		*out = *q;
		return q + 1;
	}
	/* two bytes (ids, small amounts) without the wide decode */
	if (end - q >= 2 && q[1] < 0x80) {
		*out = (q[0] & 0x7fu) | (uint64_t)q[1] << 7;
		return q + 2;
	}
	const unsigned char *r;
	if (ROOM8(q, end, pad) && (r = varint8(q, out)))
		return r <= end ? r : NULL;
	/* as get_uvarint, in line: this is the last field of most records */
	uint64_t v = 0;
	for (int shift = 0; shift < 70 && q < end; shift += 7) {
		unsigned char c = *q++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return q;
		}
	}
	return NULL;
}

/* utf8_valid with the common case, short ASCII text, done in line; the
 * tail in one load too when the input has room for it (see ROOM8) */
static inline __attribute__((always_inline)) bool text_ok(const unsigned char *s, size_t n,
							  const unsigned char *end, bool pad)
{
	size_t i = 0;
	uint64_t w;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			return utf8_valid((const char *)s + i, n - i);
	}
	if (i < n && ROOM8(s + i, end, pad)) {
		memcpy(&w, s + i, 8);
		return !(w & first_bytes_mask(n - i) & 0x8080808080808080ull) || utf8_valid((const char *)s + i, n - i);
	}
	for (; i < n; i++)
		if (s[i] & 0x80)
			return utf8_valid((const char *)s + i, n - i);
	return true;
}

static inline __attribute__((always_inline)) const unsigned char *get_bytes(const unsigned char *q,
									    const unsigned char *end,
									    struct value *v, bool text, bool pad)
{
	uint64_t n;
	if (!(q = varint(q, end, &n, pad)) || n > (uint64_t)(end - q))
		return NULL;
	/* strings are UTF-8 in every encoding; only binary may hold anything */
	if (text && !text_ok(q, (size_t)n, end, pad))
		return NULL;
	v->s = (const char *)q;
	v->n = (uint32_t)n;
	return q + n;
}

/* integers, dates and timestamps: a zigzag varint */
static inline __attribute__((always_inline)) const unsigned char *get_int(const unsigned char *q,
									  const unsigned char *end,
									  struct value *v, bool pad)
{
	uint64_t u;
	if (!(q = varint(q, end, &u, pad)))
		return NULL;
	v->i = unzigzag64(u);
	return q;
}

static inline __attribute__((always_inline)) const unsigned char *get_decimal(const unsigned char *q,
									      const unsigned char *end,
									      struct value *v, bool pad)
{
	if (q >= end || *q > 38)
		return NULL;
	v->scale = *q++;
	uint64_t u;
	const unsigned char *r;
	if (ROOM8(q, end, pad) && (r = varint8(q, &u))) {
		v->d = (int128_t)(u >> 1) ^ -(int128_t)(u & 1);
		return r <= end ? r : NULL;
	}
	unsigned __int128 z = 0;
	for (int shift = 0;; shift += 7) {
		if (q >= end || shift > 126)
			return NULL;
		unsigned char c = *q++;
		z |= (unsigned __int128)(c & 0x7f) << shift;
		if (!(c & 0x80))
			break;
	}
	v->d = (int128_t)(z >> 1) ^ -(int128_t)(z & 1);
	return q;
}

/* A value that holds no other values, or NULL when v's tag is a container
 * (or malformed, which get_value tells apart).  In line, so the elements
 * of a record cost no call each. */
static inline __attribute__((always_inline)) const unsigned char *get_scalar(const unsigned char *q, const unsigned char *end, struct value *v,
					      unsigned char type, bool *container, bool pad)
{
	/* every case sets the member it uses; clearing the rest is enough */
	v->type = type;
	v->scale = 0;
	v->n = 0;
	v->d = 0;
	/* The common types by conditional branches first: a record loop meets
	 * them in the same order record after record, which these predict
	 * and the switch's one indirect jump does not. */
	if (type == V_STRING)
		return get_bytes(q, end, v, true, pad);
	if (type == V_INT || type == V_TIMESTAMP)
		return get_int(q, end, v, pad);
	if (type == V_DECIMAL)
		return get_decimal(q, end, v, pad);
	/* nullable columns alternate with it */
	if (type == V_NULL)
		return q;
	switch (type) {
	case V_BOOL:
		if (q >= end || *q > 1)
			return NULL;
		v->b = *q;
		return q + 1;
	case V_DATE:
	case V_TIMESTAMP_NTZ:
		return get_int(q, end, v, pad);
	case V_FLOAT: {
		if (end - q < 8)
			return NULL;
		uint64_t bits = 0;
		for (int i = 0; i < 8; i++)
			bits |= (uint64_t)q[i] << (8 * i);
		memcpy(&v->f, &bits, 8);
		return q + 8;
	}
	case V_BINARY:
		return get_bytes(q, end, v, false, pad);
	case V_ARRAY:
	case V_OBJECT:
	case V_MAP:
		*container = true;
		return NULL;
	default:
		return NULL;
	}
}

static const unsigned char *get_value(struct arena *a, const unsigned char *q, const unsigned char *end, struct value *v,
				      int depth)
{
	if (q >= end || depth > FRAME_MAX_DEPTH)
		return NULL;
	unsigned char type = *q++;
	bool container = false;
	const unsigned char *r = get_scalar(q, end, v, type, &container, false);
	if (!container)
		return r;
	uint64_t u;
	if (!(q = varint(q, end, &u, false)))
		return NULL;
	uint64_t cnt = type == V_ARRAY ? u : 2 * u;
	/* every element takes at least one byte: a lying count cannot make us
	 * allocate more than the input justifies */
	if (u > UINT32_MAX || cnt > (uint64_t)(end - q))
		return NULL;
	struct value *items = arena_alloc(a, (cnt ? cnt : 1) * sizeof *items);
	v->n = (uint32_t)u;
	v->a = items;
	for (uint64_t i = 0; i < cnt; i++) {
		if (type == V_OBJECT && i % 2 == 0) {
			/* keys have no tag: they are always strings */
			items[i].d = 0;
			items[i].type = V_STRING;
			items[i].scale = 0;
			q = get_bytes(q, end, &items[i], true, false);
		} else if (q < end) {
			unsigned char t = *q;
			container = false;
			r = get_scalar(q + 1, end, &items[i], t, &container, false);
			q = container ? get_value(a, q, end, &items[i], depth + 1) : r;
		} else {
			q = NULL;
		}
		if (!q)
			return NULL;
	}
	return q;
}

int frame_get_record(struct arena *a, struct layout *l, const unsigned char **p, const unsigned char *end,
		     struct value *v, uint64_t *layout)
{
	const unsigned char *q = *p;
	uint64_t u;
	*layout = 0;
	if (q >= end || *q != V_OBJECT)
		return frame_get_value(a, p, end, v);
	/* a key and a value take at least two bytes */
	if (!(q = varint(q + 1, end, &u, true)) || u > UINT32_MAX || 2 * u > (uint64_t)(end - q))
		return -1;
	struct value *items = arena_alloc(a, (u ? 2 * u : 1) * sizeof *items);
	bool same = l->id && u == l->n;
	/* restrict: the stores into items cannot change the layout */
	const uint32_t *restrict len = l->len;
	const uint64_t *restrict head = l->head;
	for (uint32_t i = 0; i < u; i++) {
		struct value *k = &items[2 * i];
		uint64_t n, w;
		if (same && q < end && *q == len[i] && *q < 8 &&
		    !((memcpy(&w, q + 1, 8), w ^ head[i]) & first_bytes_mask(*q))) {
			/* the layout's short key: its length byte and its bytes
			 * compared with two loads, nothing to validate */
			n = *q++;
			if (n > (uint64_t)(end - q))
				return -1;
		} else {
			if (!(q = varint(q, end, &n, true)) || n > (uint64_t)(end - q))
				return -1;
			/* a key the layout has was valid UTF-8 when it was first seen */
			if (!same || !layout_key_eq(l, i, (const char *)q, (size_t)n, (size_t)(end - q) + FRAME_PAD)) {
				same = false;
				if (!text_ok(q, (size_t)n, end, true))
					return -1;
			}
		}
		k->d = 0;
		k->type = V_STRING;
		k->scale = 0;
		k->n = (uint32_t)n;
		k->s = (const char *)q;
		q += n;
		if (q >= end)
			return -1;
		bool container = false;
		const unsigned char *r = get_scalar(q + 1, end, k + 1, *q, &container, true);
		q = container ? get_value(a, q, end, k + 1, 1) : r;
		if (!q)
			return -1;
	}
	v->d = 0;
	v->type = V_OBJECT;
	v->scale = 0;
	v->n = (uint32_t)u;
	v->a = items;
	if (!same)
		layout_set(l, v);
	*layout = l->id;
	*p = q;
	return 0;
}

/* Any value at q (its tag), as get_value decodes it inside a record: out
 * of line, for what get_canonical leaves. */
static __attribute__((noinline)) const unsigned char *get_any(struct arena *a, const unsigned char *q,
							      const unsigned char *end, struct value *v)
{
	bool container = false;
	const unsigned char *r = get_scalar(q + 1, end, v, *q, &container, true);
	return container ? get_value(a, q, end, v, 1) : r;
}

/* A varint of at most 8 bytes as frame_varint_at writes it (no needless high
 * zero group), from q < end in padded input; NULL otherwise. */
static inline __attribute__((always_inline)) const unsigned char *canonical_varint(const unsigned char *q,
										    const unsigned char *end,
										    uint64_t *out)
{
	/* One byte or two (ids, small amounts) without a branch on which:
	 * columns mix them record by record, and a mispredicted branch costs
	 * more than this arithmetic. */
	uint64_t b0 = q[0], b1 = q[1], two = b0 >> 7;
	if (!(b0 & b1 & 0x80)) {
		*out = (b0 & 0x7f) | (b1 << 7 & -two);
		/* the second byte is within the input, and not a needless zero group */
		return ((two & (b1 == 0)) | (q + 1 + two > end)) ? NULL : q + 1 + two;
	}
	/* three (amounts in cents, counters, row numbers): three bytes
	 * combined cost less than varint8's folding of eight */
	uint64_t b2 = q[2];
	if (!(b2 & 0x80)) {
		*out = (b0 & 0x7f) | (b1 & 0x7f) << 7 | b2 << 14;
		return b2 == 0 || q + 3 > end ? NULL : q + 3;
	}
	const unsigned char *r = varint8(q, out);
	return r && r <= end && r[-1] ? r : NULL;
}

/* The top bit of each of the first n bytes of a little-endian load. */
static const uint64_t high_bits[9] = {
	0, 0x80, 0x8080, 0x808080, 0x80808080, 0x8080808080, 0x808080808080, 0x80808080808080,
	0x8080808080808080,
};

/* A scalar value at q (its tag; q < end, input padded) in the form
 * frame_put_value writes it, with a length below 128: what rows nearly
 * always hold, decoded with few tests.  NULL for anything else, valid or
 * not, which get_any judges.  So a row whose values all pass here is, byte
 * for byte, what frame_put_row writes for them. */
static inline __attribute__((always_inline)) const unsigned char *get_canonical(const unsigned char *q,
										 const unsigned char *end,
										 struct value *v)
{
	unsigned char t = *q++;
	uint64_t u;
	/* the members a type does not use are zero, as get_scalar leaves them */
	*v = (struct value){.type = t};
	switch (t) {
	case V_NULL:
		return q;
	case V_STRING:
	case V_BINARY:
		/* q may be end, its byte the padding's: the length test fails */
		u = *q++;
		if (u >= 0x80 || (ptrdiff_t)u > end - q)
			return NULL;
		/* ASCII text of up to 16 bytes by two loads and masks, the second
		 * load at q again when there are 8 bytes or fewer: no branch on
		 * the length, which varies from record to record */
		if (t == V_STRING &&
		    (u > 16 || ((le64(q) & high_bits[u > 8 ? 8 : u]) | (le64(q + (u > 8 ? 8 : 0)) & high_bits[u > 8 ? u - 8 : 0]))) &&
		    !text_ok(q, (size_t)u, end, true))
			return NULL;
		v->n = (uint32_t)u;
		v->s = (const char *)q;
		return q + u;
	case V_INT:
	case V_DATE:
		if (q >= end || !(q = canonical_varint(q, end, &u)))
			return NULL;
		v->i = unzigzag64(u);
		return q;
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ: {
		/* microseconds since the epoch take eight bytes these decades:
		 * varint8 at once, without canonical_varint's short cases */
		const unsigned char *r;
		if (q >= end || !(r = varint8(q, &u)) || r > end || (!r[-1] && r != q + 1))
			return NULL;
		v->i = unzigzag64(u);
		return r;
	}
	case V_DECIMAL:
		/* below 2^56 the 128-bit zigzag is the 64-bit one */
		if (end - q < 2 || *q > 38)
			return NULL;
		v->scale = *q;
		if (!(q = canonical_varint(q + 1, end, &u)))
			return NULL;
		v->d = unzigzag64(u);
		return q;
	case V_BOOL:
		if (q >= end || *q > 1)
			return NULL;
		v->b = *q;
		return q + 1;
	case V_FLOAT: {
		if (end - q < 8)
			return NULL;
		uint64_t bits = le64(q);
		memcpy(&v->f, &bits, 8);
		return q + 8;
	}
	default:
		return NULL;
	}
}

/* frame_get_row from the value at v on, once a value has left the short
 * path: apart, so that the short path's loop has no call in it. */
static __attribute__((noinline)) int get_row_rest(struct arena *a, struct value *v, const struct value *stop,
						  const unsigned char *q, const unsigned char *end)
{
	for (; v < stop; v += 2) {
		if (q >= end)
			return -2;
		const unsigned char *r = get_canonical(q, end, v);
		if (!r && !(r = get_any(a, q, end, v)))
			return -1;
		q = r;
	}
	return q == end ? 1 : -3;
}

int frame_get_row(struct arena *a, struct value *items, uint32_t n, const unsigned char *q, const unsigned char *end)
{
	for (struct value *v = items + 1, *stop = items + 2 * (size_t)n; v < stop; v += 2) {
		if (q >= end)
			return -2;
		const unsigned char *r = get_canonical(q, end, v);
		if (!r)
			return get_row_rest(a, v, stop, q, end);
		q = r;
	}
	return q == end ? 0 : -3;
}

int frame_get_value(struct arena *a, const unsigned char **p, const unsigned char *end, struct value *v)
{
	const unsigned char *q = get_value(a, *p, end, v, 0);
	if (!q)
		return -1;
	*p = q;
	return 0;
}
