/* buf.h - a growable byte buffer, the one string builder every module uses. */
#ifndef WEIR_BUF_H
#define WEIR_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
};

#define BUF_INIT {0, 0, 0}

void buf_grow_slow(struct buf *b, size_t extra);
/* Ensure room for extra more bytes.  In line, with buf_put: writers call
 * them per value, and the room is nearly always there. */
static inline void buf_grow(struct buf *b, size_t extra)
{
	if (__builtin_expect(b->len + extra > b->cap, 0))
		buf_grow_slow(b, extra);
}
static inline void buf_put(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	buf_grow(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* n bytes from s to d; the short strings of records, most of what is
 * written, without a call. */
static inline void copy_short(char *d, const char *s, size_t n)
{
	if (n > 16) {
		memcpy(d, s, n);
	} else if (n >= 8) {
		uint64_t x, y;
		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
		memcpy(d, &x, 8);
		memcpy(d + n - 8, &y, 8);
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}

void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);
/* NUL-terminate without counting the NUL, and return the bytes */
char *buf_cstr(struct buf *b);

static inline void buf_putc(struct buf *b, char c)
{
	if (__builtin_expect(b->len + 1 > b->cap, 0))
		buf_grow_slow(b, 1);
	b->p[b->len++] = c;
}

static inline void buf_reset(struct buf *b)
{
	b->len = 0;
}

/* Unsigned LEB128 varints and zigzag, shared by the framed encoding and Thrift. */
void buf_uvarint(struct buf *b, uint64_t v);
static inline uint64_t zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t unzigzag64(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}
/* Decode a varint from [*p, end); returns 0 on success, -1 when truncated or
 * longer than 10 bytes. */
int get_uvarint(const unsigned char **p, const unsigned char *end, uint64_t *out);

#endif
