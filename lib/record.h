/* record.h - reading and writing record streams (ARCHITECTURE §2).
 *
 * A reader detects the encoding from the first bytes (FRAME_MAGIC or text)
 * and yields data records, control records ({"@weir": KIND, ...}) and bad
 * records, each with its position, so a tool can forward controls in order
 * and send bad input to a dead-letter file without stopping.  A record's
 * values live until the next rec_read on the same reader, and are the
 * reader's: a tool that changes a record changes a copy (row frames fill
 * one record in place, its keys kept from record to record).
 *
 * A writer buffers and writes with write(2); it flushes at control records
 * (a barrier must reach the next stage) and, when linked to a reader, before
 * that reader blocks, so a quiet stream never holds output back. */
#ifndef WEIR_RECORD_H
#define WEIR_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "value.h"

/* Records longer than this are reported bad instead of buffered whole, so
 * memory stays bounded on hostile input.  WEIR_MAX_RECORD overrides. */
#define REC_MAX_DEFAULT (16u << 20)
/* The limit in force: WEIR_MAX_RECORD when set (at least 1024), else the default. */
size_t rec_max_record(void);

enum rec_kind { REC_EOF, REC_DATA, REC_CONTROL, REC_BAD };

struct record {
	enum rec_kind kind;
	struct value v;     /* REC_DATA, REC_CONTROL: an object */
	const char *raw;    /* the input bytes: an NDJSON line (no newline) or a frame payload */
	size_t rawlen;      /* for a too-long record only its first bytes are kept */
	bool truncated;     /* raw is only the head of the record */
	uint64_t pos;       /* 1-based: the line number for NDJSON, the frame number (schema frames too) for framed input */
	const char *err;    /* REC_BAD: what is wrong */
	size_t err_offset;  /* REC_BAD: byte offset in raw */
	const char *control; /* REC_CONTROL: the kind ("barrier", ...) NUL-terminated */
	uint64_t layout;    /* REC_DATA: nonzero when v has the keys, in order, of every
			       record with the same layout (struct layout); 0 unknown */
	bool raw_row;       /* REC_DATA from a row frame whose payload (raw) is what
			       frame_put_row writes for v's values */
};

/* A top-level field of records, found by name in the first record of a
 * layout and by its position in the records that follow with that layout:
 * a stage whose records all have the same keys looks each field up once. */
struct rec_field {
	const char *name; /* the caller's, kept */
	size_t len;
	uint64_t layout;
	uint32_t pos; /* UINT32_MAX: absent */
};

static inline void rec_field_init(struct rec_field *f, const char *name, size_t len)
{
	f->name = name;
	f->len = len;
	f->layout = 0;
	f->pos = UINT32_MAX;
}
struct value *rec_field_find(const struct record *rec, struct rec_field *f);
/* The field in rec->v (an object), as value_get would find it; NULL when absent. */
static inline struct value *rec_field(const struct record *rec, struct rec_field *f)
{
	if (rec->layout && rec->layout == f->layout)
		return f->pos == UINT32_MAX ? NULL : &rec->v.a[2 * (size_t)f->pos + 1];
	return rec_field_find(rec, f);
}

struct rec_reader;
struct rec_writer;

struct rec_reader *rec_reader_open(int fd, const char *name);
enum rec_kind rec_read(struct rec_reader *r, struct record *rec);
bool rec_reader_framed(const struct rec_reader *r);
/* The latest schema announced by a framed stream; NULL for NDJSON. */
const struct type *rec_reader_schema(const struct rec_reader *r);
/* Counts the schema frames read so far, so a tool that passes records
 * through can tell when to announce a new schema downstream. */
uint64_t rec_reader_schema_version(const struct rec_reader *r);
const char *rec_reader_name(const struct rec_reader *r);
int rec_reader_fd(const struct rec_reader *r);
/* True when a whole record may be waiting in the buffer (so poll() on the fd
 * is not the whole story). */
bool rec_reader_buffered(const struct rec_reader *r);
void rec_reader_flush_before_block(struct rec_reader *r, struct rec_writer *w);
void rec_reader_close(struct rec_reader *r);

/* framed when asked or when WEIR_FRAMED=1 is set for the whole pipeline */
bool rec_want_framed(bool flag);
struct rec_writer *rec_writer_open(int fd, bool framed);
int rec_writer_fd(const struct rec_writer *w);
bool rec_writer_framed(const struct rec_writer *w);
/* Announce the schema of the records that follow (framed: a schema frame). */
void rec_writer_schema(struct rec_writer *w, const struct type *t);
void rec_write(struct rec_writer *w, const struct value *v);
/* Write a data record as read (rec->v unchanged), as rec_write would, its
 * layout saving the check of its keys per record: a framed writer copies a
 * row frame's payload when it is what the writer would encode
 * (rec->raw_row, keys the announced schema's). */
void rec_write_record(struct rec_writer *w, const struct record *rec);
/* Write a row frame whose payload is already encoded: the values of the
 * announced schema's fields, in order, as frame_put_row writes them.  The
 * writer must be framed. */
void rec_write_row(struct rec_writer *w, const void *payload, size_t n);
void rec_write_control(struct rec_writer *w, const struct value *v);
/* Forward an input record unchanged; for NDJSON to NDJSON this copies the
 * line without re-encoding it. */
void rec_forward(struct rec_writer *w, const struct record *rec);
/* Write one record given as the text of a JSON object (no newline), for a
 * tool that splices records from input text; the writer must not be framed. */
void rec_write_ndjson(struct rec_writer *w, const char *text, size_t n);
/* The same without a copy, for a tool that renders its records' text
 * itself: append the text of one JSON object (no newline) to the buffer
 * rec_ndjson_out gives, then call rec_ndjson_end, which ends the line and
 * flushes when the buffer is full: only whole lines go out.
 * Nothing else may be written to w in between.  The buffer is w's for its
 * life (its bytes may move as it grows); the writer must not be framed. */
struct buf *rec_ndjson_out(struct rec_writer *w);
void rec_ndjson_end(struct rec_writer *w);
void rec_flush(struct rec_writer *w);
/* Write all of b to fd and empty it; dies (status 2) on a write error and
 * leaves quietly on EPIPE.  For output that bypasses a rec_writer. */
void rec_write_buf(int fd, struct buf *b);
/* Flush and free; dies (status 2) when the output failed. */
void rec_writer_close(struct rec_writer *w);

/* Build a control record {"@weir": kind, ...extra pairs} in the arena. */
bool rec_is_control(const struct value *v, const char **kind);
/* The integer "id" of a barrier or restore record; false when it has none. */
bool rec_control_id(const struct value *v, int64_t *id);
/* The integer "committed" of a barrier: the last barrier the sink had
 * committed when the source cut this one (snapshots before it are of no
 * more use); false when it has none. */
bool rec_control_committed(const struct value *v, int64_t *id);

#endif
