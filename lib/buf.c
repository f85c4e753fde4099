/* buf.c - see buf.h */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void buf_grow_slow(struct buf *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra) {
		if (cap > SIZE_MAX / 2)
			die(EXIT_TROUBLE, "out of memory: buffer of %zu bytes", b->len + extra);
		cap *= 2;
	}
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len || !b->p) {
		buf_grow(b, n + 1);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += n;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *buf_cstr(struct buf *b)
{
	buf_grow(b, 1);
	b->p[b->len] = 0;
	return b->p;
}

void buf_uvarint(struct buf *b, uint64_t v)
{
	buf_grow(b, 10);
	while (v >= 0x80) {
		b->p[b->len++] = (char)(v | 0x80);
		v >>= 7;
	}
	b->p[b->len++] = (char)v;
}

int get_uvarint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	uint64_t v = 0;
	const unsigned char *q = *p;
	for (int shift = 0; shift < 70; shift += 7) {
		if (q >= end)
			return -1;
		unsigned char c = *q++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*p = q;
			*out = v;
			return 0;
		}
	}
	return -1;
}
