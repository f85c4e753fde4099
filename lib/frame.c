/* frame.c - see frame.h */
#include "frame.h"

#include <string.h>

#include "json.h"

void frame_put(struct buf *b, enum frame_kind kind, const void *payload, size_t n)
{
	buf_putc(b, (char)kind);
	buf_uvarint(b, n);
	buf_put(b, payload, n);
}

static void put_i128(struct buf *b, int128_t d)
{
	/* zigzag over 128 bits, then LEB128 */
	unsigned __int128 z = ((unsigned __int128)d << 1) ^ (unsigned __int128)(d >> 127);
	buf_grow(b, 19);
	while (z >= 0x80) {
		b->p[b->len++] = (char)((unsigned)z | 0x80);
		z >>= 7;
	}
	b->p[b->len++] = (char)z;
}

void frame_put_value(struct buf *b, const struct value *v)
{
	buf_putc(b, (char)v->type);
	switch (v->type) {
	case V_NULL:
		return;
	case V_BOOL:
		buf_putc(b, v->b ? 1 : 0);
		return;
	case V_INT:
	case V_DATE:
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		buf_uvarint(b, zigzag64(v->i));
		return;
	case V_FLOAT: {
		/* IEEE 754 binary64, little-endian whatever the host */
		uint64_t bits;
		char le[8];
		memcpy(&bits, &v->f, 8);
		for (int i = 0; i < 8; i++)
			le[i] = (char)(bits >> (8 * i));
		buf_put(b, le, 8);
		return;
	}
	case V_DECIMAL:
		buf_putc(b, (char)v->scale);
		put_i128(b, v->d);
		return;
	case V_STRING:
	case V_BINARY:
		buf_uvarint(b, v->n);
		buf_put(b, v->s, v->n);
		return;
	case V_ARRAY:
		buf_uvarint(b, v->n);
		for (uint32_t i = 0; i < v->n; i++)
			frame_put_value(b, &v->a[i]);
		return;
	case V_OBJECT:
		/* keys without their tag: they are always strings */
		buf_uvarint(b, v->n);
		for (uint32_t i = 0; i < v->n; i++) {
			buf_uvarint(b, v->a[2 * i].n);
			buf_put(b, v->a[2 * i].s, v->a[2 * i].n);
			frame_put_value(b, &v->a[2 * i + 1]);
		}
		return;
	case V_MAP:
		buf_uvarint(b, v->n);
		for (uint32_t i = 0; i < 2 * v->n; i++)
			frame_put_value(b, &v->a[i]);
		return;
	}
}

/* Most varints in records (lengths, counts, small numbers) are one byte:
 * decode those here and leave the rest to get_uvarint. */
static inline int varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	if (__builtin_expect(*p < end && **p < 0x80, 1)) {
		*out = *(*p)++;
		return 0;
	}
	return get_uvarint(p, end, out);
}

static int get_bytes(const unsigned char **p, const unsigned char *end, struct value *v)
{
	uint64_t n;
	if (varint(p, end, &n) || n > (uint64_t)(end - *p) || n > UINT32_MAX)
		return -1;
	/* strings are UTF-8 in every encoding; only binary may hold anything */
	if (v->type == V_STRING && !utf8_valid((const char *)*p, (size_t)n))
		return -1;
	v->s = (const char *)*p;
	v->n = (uint32_t)n;
	*p += n;
	return 0;
}

static int get_value(struct arena *a, const unsigned char **p, const unsigned char *end, struct value *v, int depth)
{
	if (*p >= end || depth > FRAME_MAX_DEPTH)
		return -1;
	/* every case sets the member it uses; clearing the rest is enough */
	v->scale = 0;
	v->n = 0;
	v->d = 0;
	v->type = *(*p)++;
	uint64_t u;
	switch (v->type) {
	case V_NULL:
		return 0;
	case V_BOOL:
		if (*p >= end || **p > 1)
			return -1;
		v->b = *(*p)++;
		return 0;
	case V_INT:
	case V_DATE:
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		if (varint(p, end, &u))
			return -1;
		v->i = unzigzag64(u);
		return 0;
	case V_FLOAT: {
		if (end - *p < 8)
			return -1;
		uint64_t bits = 0;
		for (int i = 0; i < 8; i++)
			bits |= (uint64_t)(*p)[i] << (8 * i);
		memcpy(&v->f, &bits, 8);
		*p += 8;
		return 0;
	}
	case V_DECIMAL: {
		if (*p >= end || **p > 38)
			return -1;
		v->scale = *(*p)++;
		unsigned __int128 z = 0;
		for (int shift = 0;; shift += 7) {
			if (*p >= end || shift > 126)
				return -1;
			unsigned char c = *(*p)++;
			z |= (unsigned __int128)(c & 0x7f) << shift;
			if (!(c & 0x80))
				break;
		}
		v->d = (int128_t)(z >> 1) ^ -(int128_t)(z & 1);
		return 0;
	}
	case V_STRING:
	case V_BINARY:
		return get_bytes(p, end, v);
	case V_ARRAY:
	case V_OBJECT:
	case V_MAP: {
		if (varint(p, end, &u))
			return -1;
		uint64_t cnt = v->type == V_ARRAY ? u : 2 * u;
		/* every element takes at least one byte: a lying count cannot
		 * make us allocate more than the input justifies */
		if (u > UINT32_MAX || cnt > (uint64_t)(end - *p))
			return -1;
		v->n = (uint32_t)u;
		v->a = arena_alloc(a, (cnt ? cnt : 1) * sizeof *v->a);
		for (uint64_t i = 0; i < cnt; i++) {
			if (v->type == V_OBJECT && i % 2 == 0) {
				v->a[i] = (struct value){.type = V_STRING};
				if (get_bytes(p, end, &v->a[i]))
					return -1;
			} else if (get_value(a, p, end, &v->a[i], depth + 1)) {
				return -1;
			}
		}
		return 0;
	}
	default:
		return -1;
	}
}

int frame_get_value(struct arena *a, const unsigned char **p, const unsigned char *end, struct value *v)
{
	return get_value(a, p, end, v, 0);
}
