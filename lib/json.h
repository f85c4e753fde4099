/* json.h - a fast JSON reader into struct value and a writer of the canonical
 * value forms (ARCHITECTURE §2).
 *
 * The reader points strings without escapes straight into the input, so the
 * input must outlive the values; everything else comes from the arena. */
#ifndef WEIR_JSON_H
#define WEIR_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "value.h"

#define JSON_MAX_DEPTH 256

struct json_error {
	size_t offset;   /* byte offset in the input */
	const char *msg; /* static text */
};

/* Parse exactly one JSON text (surrounding white space allowed). */
int json_parse(struct arena *a, const char *p, size_t n, struct value *out, struct json_error *err);

/* json_parse for a record: when the text is an object, l becomes (or stays)
 * the layout of its keys and *layout is l's id (0 for anything else), as
 * records read from frames have.  The keys of l are expected, in order, as
 * the records of a stream nearly always repeat them, and are then compared
 * rather than scanned. */
int json_parse_record(struct arena *a, const char *p, size_t n, struct value *out, struct json_error *err,
		      struct layout *l, uint64_t *layout);

/* Append v in canonical form. */
void json_write(struct buf *b, const struct value *v);
void json_write_string(struct buf *b, const char *s, size_t n);
/* Doubles: shortest text that reads back to the same double, always with a
 * '.' or exponent so it reads back as a float; NaN/Infinity as strings. */
void json_write_double(struct buf *b, double d);

/* The high bit of each byte of w (8 bytes of a string, as memcpy loads
 * them) that a JSON string cannot hold as it is: a control character, '"'
 * or '\\', or a byte >= 0x80 that needs its UTF-8 sequence checked.
 * Nonzero when any is; may flag extra bytes above a true one, never miss
 * one, so the lowest flag on a little-endian machine is a true one.  In
 * line: writers of short strings check them a word at a time. */
static inline uint64_t json_special(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t q = w ^ (ones * '"'), s = w ^ (ones * '\\');
	return ((w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((s - ones) & ~s)) & highs);
}

/* Set *v to a string as value_set_str does, marked VS_PLAIN when its bytes
 * need no escaping: for names set up once and written with every record. */
void json_set_str(struct value *v, const char *s, size_t n);

/* True when [s, s+n) is valid UTF-8 (no overlongs, no surrogates). */
int utf8_valid(const char *s, size_t n);

#endif
