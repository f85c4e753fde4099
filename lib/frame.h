/* frame.h - the framed binary record encoding (specified in weir-records(5)).
 *
 * A stream starts with FRAME_MAGIC, then frames: a kind byte, a varint
 * payload length, the payload.  'S' carries a Delta schema JSON (empty =
 * untyped), 'D' one record as a tagged value, 'R' one record whose keys are
 * the schema's top-level field names in order as its values alone (nearly
 * every record: no key bytes to write, read or compare), 'C' one control
 * record as JSON text.  Values are self-describing (tag byte first), so types
 * survive without the schema; the schema adds what values cannot say
 * (nullability, decimal precision, column order for tables). */
#ifndef WEIR_FRAME_H
#define WEIR_FRAME_H

#include "buf.h"
#include "value.h"

#define FRAME_MAGIC "\xffWR1"
#define FRAME_MAGIC_LEN 4

enum frame_kind { FRAME_SCHEMA = 'S', FRAME_DATA = 'D', FRAME_ROW = 'R', FRAME_CONTROL = 'C' };

#define FRAME_MAX_DEPTH 256

void frame_put_value(struct buf *b, const struct value *v);
/* A varint (LEB128) at p, which has room for 10 bytes; returns the end.
 * In line: encoders write rows value by value, and most are one byte. */
static inline unsigned char *frame_varint_at(unsigned char *p, uint64_t u)
{
	while (u >= 0x80) {
		*p++ = (unsigned char)(u | 0x80);
		u >>= 7;
	}
	*p++ = (unsigned char)u;
	return p;
}
/* Decode one value from [*p, end); strings point into the input.  Returns 0,
 * or -1 on malformed input (never reads outside the range). */
int frame_get_value(struct arena *a, const unsigned char **p, const unsigned char *end, struct value *v);

/* Decode a record: like frame_get_value, and when the value is an object,
 * its keys are checked against l (the previous record's) and l becomes
 * this record's; *layout is then l->id (0 for anything else).  It may load
 * (never use) up to FRAME_PAD bytes past end, so the input must have them. */
#define FRAME_PAD 8
int frame_get_record(struct arena *a, struct layout *l, const unsigned char **p, const unsigned char *end,
		     struct value *v, uint64_t *layout);

/* A row frame's payload: the values of obj (a V_OBJECT) without its keys. */
void frame_put_row(struct buf *b, const struct value *obj);
/* Decode a row frame's payload [p, end) into the values of the n pairs
 * at items (the keys are the caller's), under the same rules and padding
 * as frame_get_record.  Returns 0 when the payload is byte for byte what
 * frame_put_row writes for those values (as good as always: a copy of it
 * may stand for encoding them again), 1 when it may not be (non-minimal
 * varints, nested or long values); -1 on a malformed value; -2 when the
 * payload ends before the n values do, -3 when it goes on after them. */
int frame_get_row(struct arena *a, struct value *items, uint32_t n, const unsigned char *p,
		  const unsigned char *end);

/* Append a whole frame (kind, length, payload).  In line: writers copying
 * rows through call it per record, and most lengths are one byte. */
static inline void frame_put(struct buf *b, enum frame_kind kind, const void *payload, size_t n)
{
	if (n < 0x80) {
		buf_grow(b, 2 + n);
		char *p = b->p + b->len;
		p[0] = (char)kind;
		p[1] = (char)n;
		if (n) /* an empty payload may be NULL */
			memcpy(p + 2, payload, n);
		b->len += 2 + n;
		return;
	}
	buf_putc(b, (char)kind);
	buf_uvarint(b, n);
	buf_put(b, payload, n);
}

#endif
