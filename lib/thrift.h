/* thrift.h - the Thrift compact protocol, the encoding of every Parquet
 * footer and page header.
 *
 * The reader is a cursor over untrusted bytes: every length is checked
 * against what is left, nesting is bounded, and unknown fields are skipped
 * generically so files from newer writers still read.  The writer appends to
 * a buf and tracks field-id deltas per nesting level. */
#ifndef WEIR_THRIFT_H
#define WEIR_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
	TC_STOP = 0, TC_TRUE = 1, TC_FALSE = 2, TC_I8 = 3, TC_I16 = 4, TC_I32 = 5, TC_I64 = 6,
	TC_DOUBLE = 7, TC_BINARY = 8, TC_LIST = 9, TC_SET = 10, TC_MAP = 11, TC_STRUCT = 12,
};

#define TC_MAX_DEPTH 32

struct tc_reader {
	const uint8_t *p, *end;
	int depth;
	const char *err; /* first error, static text; every call fails once set */
};

void tc_init(struct tc_reader *r, const void *p, size_t n);
/* Enter a struct: the caller keeps `last` (the previous field id) for it. */
bool tc_struct_begin(struct tc_reader *r);
void tc_struct_end(struct tc_reader *r);
/* Next field of the current struct: 1 with *id and *type, 0 at the stop byte,
 * -1 on error. */
int tc_field(struct tc_reader *r, int16_t *last, int16_t *id, int *type);
/* Values; the field type is passed so mismatches are errors, not misreads. */
bool tc_i64(struct tc_reader *r, int type, int64_t *v);
bool tc_i32(struct tc_reader *r, int type, int32_t *v);
bool tc_bool(struct tc_reader *r, int type, bool *v);
bool tc_binary(struct tc_reader *r, int type, const uint8_t **p, uint32_t *n);
/* List header; *n is checked to be possible in the bytes left. */
bool tc_list(struct tc_reader *r, int type, int *elem, uint32_t *n);
/* A list element of a scalar type. */
bool tc_elem_i32(struct tc_reader *r, int elem, int32_t *v);
bool tc_skip(struct tc_reader *r, int type);
bool tc_fail(struct tc_reader *r, const char *msg);

struct tc_writer {
	struct buf *b;
	int depth;
	int16_t last[TC_MAX_DEPTH];
};

void tc_writer_init(struct tc_writer *w, struct buf *b);
void tc_w_struct_begin(struct tc_writer *w, int16_t id); /* id 0: a list element or the top level */
void tc_w_struct_end(struct tc_writer *w);
void tc_w_i32(struct tc_writer *w, int16_t id, int32_t v);
void tc_w_i64(struct tc_writer *w, int16_t id, int64_t v);
void tc_w_i8(struct tc_writer *w, int16_t id, int8_t v);
void tc_w_bool(struct tc_writer *w, int16_t id, bool v);
void tc_w_binary(struct tc_writer *w, int16_t id, const void *p, size_t n);
void tc_w_list(struct tc_writer *w, int16_t id, int elem, uint32_t n);
void tc_w_elem_i32(struct tc_writer *w, int32_t v);
void tc_w_elem_binary(struct tc_writer *w, const void *p, size_t n);
/* An empty struct as a field (union members such as StringType{}). */
void tc_w_empty(struct tc_writer *w, int16_t id);

#endif
