/* record.c - see record.h */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "frame.h"
#include "json.h"

#define READ_CHUNK (256u << 10)

struct rec_reader {
	int fd;
	char *name;
	char *buf;
	size_t cap, start, end; /* unread bytes are buf[start, end) */
	bool eof, detected, framed;
	uint64_t pos;
	size_t max_record;
	struct arena arena;
	struct type *schema;
	uint64_t schema_version;
	struct layout layout;
	/* row frames: the record they make, whose keys (the schema's) stay
	 * while each frame fills in the values, and the layout id every such
	 * record shares; row NULL when there is no struct schema to give them */
	struct value *row;
	uint32_t row_n;
	uint64_t row_layout;
	struct rec_field weir; /* "@weir", which tells controls from data */
	struct rec_writer *flush_first;
	char control_kind[64];
};

struct rec_writer {
	int fd;
	bool framed, magic_done, schema_pending;
	struct buf out;
	struct buf scratch;
	struct type *schema;
	/* the lengths of the schema's top-level field names: records with
	 * exactly these keys go out as row frames; NULL when the schema is no
	 * struct */
	uint32_t *row_len;
	uint32_t row_n;
	uint64_t row_layout; /* a layout id seen to have exactly those keys */
};

size_t rec_max_record(void)
{
	const char *e = getenv("WEIR_MAX_RECORD");
	if (e) {
		char *end;
		unsigned long long v = strtoull(e, &end, 10);
		if (!*end && v >= 1024)
			return (size_t)v;
	}
	return REC_MAX_DEFAULT;
}

struct rec_reader *rec_reader_open(int fd, const char *name)
{
	struct rec_reader *r = xcalloc(1, sizeof *r);
	r->fd = fd;
	r->name = xstrdup(name);
	r->max_record = rec_max_record();
	rec_field_init(&r->weir, "@weir", 5);
	r->cap = READ_CHUNK * 2;
	r->buf = xmalloc(r->cap + FRAME_PAD);
	return r;
}

void rec_reader_close(struct rec_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->name);
	arena_free(&r->arena);
	type_free(r->schema);
	layout_free(&r->layout);
	free(r->row);
	free(r);
}

bool rec_reader_framed(const struct rec_reader *r) { return r->framed; }
const struct type *rec_reader_schema(const struct rec_reader *r) { return r->schema; }
uint64_t rec_reader_schema_version(const struct rec_reader *r) { return r->schema_version; }
const char *rec_reader_name(const struct rec_reader *r) { return r->name; }
int rec_reader_fd(const struct rec_reader *r) { return r->fd; }
void rec_reader_flush_before_block(struct rec_reader *r, struct rec_writer *w) { r->flush_first = w; }

bool rec_reader_buffered(const struct rec_reader *r)
{
	if (r->start >= r->end)
		return r->eof;
	if (!r->framed)
		return memchr(r->buf + r->start, '\n', r->end - r->start) != NULL || r->eof;
	return true;
}

/* Read more input, keeping buf[start, end); returns bytes read, 0 at EOF. */
static size_t fill(struct rec_reader *r)
{
	if (r->eof)
		return 0;
	if (r->start > 0 && (r->end == r->start || r->cap - r->end < READ_CHUNK)) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < READ_CHUNK) {
		/* Never beyond what the longest acceptable record needs: callers
		 * ask for more only while they hold at most max_record bytes, so
		 * this still leaves a whole chunk free, and hostile input cannot
		 * make a reader hold twice the limit. */
		size_t cap = r->cap * 2, limit = r->max_record + 2 * READ_CHUNK;
		r->cap = cap < limit ? cap : limit > r->cap ? limit : r->cap;
		r->buf = xrealloc(r->buf, r->cap + FRAME_PAD);
	}
	if (r->flush_first)
		rec_flush(r->flush_first);
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n > 0) {
			r->end += (size_t)n;
			return (size_t)n;
		}
		if (n == 0) {
			r->eof = true;
			return 0;
		}
		if (errno != EINTR)
			die_errno(EXIT_TROUBLE, "read error on '%s'", r->name);
	}
}

static void detect(struct rec_reader *r)
{
	while (r->end - r->start < FRAME_MAGIC_LEN && fill(r))
		;
	r->detected = true;
	if (r->end - r->start >= FRAME_MAGIC_LEN && !memcmp(r->buf + r->start, FRAME_MAGIC, FRAME_MAGIC_LEN)) {
		r->framed = true;
		r->start += FRAME_MAGIC_LEN;
	}
}

bool rec_is_control(const struct value *v, const char **kind)
{
	if (v->type != V_OBJECT)
		return false;
	struct value *k = value_get(v, "@weir", 5);
	if (!k)
		return false;
	if (kind)
		*kind = k->type == V_STRING ? k->s : "";
	return true;
}

struct value *rec_field_find(const struct record *rec, struct rec_field *f)
{
	struct value *v = value_get(&rec->v, f->name, f->len);
	f->layout = rec->layout;
	f->pos = v ? (uint32_t)((v - rec->v.a) / 2) : UINT32_MAX;
	return v;
}

bool rec_control_id(const struct value *v, int64_t *id)
{
	const struct value *x = value_get(v, "id", 2);
	if (!x || x->type != V_INT)
		return false;
	*id = x->i;
	return true;
}

bool rec_control_committed(const struct value *v, int64_t *id)
{
	const struct value *x = value_get(v, "committed", 9);
	if (!x || x->type != V_INT)
		return false;
	*id = x->i;
	return true;
}

static enum rec_kind classify(struct rec_reader *r, struct record *rec)
{
	if (rec->v.type != V_OBJECT) {
		rec->kind = REC_BAD;
		rec->err = "record is not a JSON object";
		rec->err_offset = 0;
		return REC_BAD;
	}
	struct value *k = rec_field(rec, &r->weir);
	if (!k) {
		rec->kind = REC_DATA;
		return REC_DATA;
	}
	if (k->type != V_STRING || !k->n || k->n >= sizeof r->control_kind) {
		rec->kind = REC_BAD;
		rec->err = "control record without a kind";
		return REC_BAD;
	}
	memcpy(r->control_kind, k->s, k->n);
	r->control_kind[k->n] = 0;
	rec->control = r->control_kind;
	rec->kind = REC_CONTROL;
	return REC_CONTROL;
}

static enum rec_kind read_ndjson(struct rec_reader *r, struct record *rec)
{
	size_t scanned = 0;
	for (;;) {
		char *line = r->buf + r->start;
		size_t avail = r->end - r->start;
		char *nl = memchr(line + scanned, '\n', avail - scanned);
		if (!nl && avail > r->max_record) {
			/* Too long to hold: report it with its head and skip to the
			 * next newline without keeping the rest. */
			r->pos++;
			rec->kind = REC_BAD;
			rec->pos = r->pos;
			rec->err = "record longer than the limit (WEIR_MAX_RECORD)";
			rec->err_offset = r->max_record;
			rec->truncated = true;
			size_t keep = avail < 4096 ? avail : 4096;
			char *head = arena_alloc(&r->arena, keep);
			memcpy(head, line, keep);
			rec->raw = head;
			rec->rawlen = keep;
			for (;;) {
				r->start = r->end;
				if (!fill(r))
					break;
				char *e = memchr(r->buf + r->start, '\n', r->end - r->start);
				if (e) {
					r->start = (size_t)(e - r->buf) + 1;
					break;
				}
			}
			return REC_BAD;
		}
		if (!nl) {
			scanned = avail;
			if (fill(r))
				continue;
			if (!avail)
				return rec->kind = REC_EOF;
			nl = r->buf + r->end; /* last line without a newline */
			line = r->buf + r->start;
		}
		line = r->buf + r->start;
		size_t len = (size_t)(nl - line);
		r->start += len + (nl < r->buf + r->end);
		r->pos++;
		if (len > r->max_record) {
			/* one read brought the whole line in: same verdict as above */
			rec->kind = REC_BAD;
			rec->pos = r->pos;
			rec->err = "record longer than the limit (WEIR_MAX_RECORD)";
			rec->err_offset = r->max_record;
			rec->truncated = true;
			rec->raw = line;
			rec->rawlen = len < 4096 ? len : 4096;
			return REC_BAD;
		}
		if (len && line[len - 1] == '\r')
			len--;
		/* blank lines carry no record */
		size_t i = 0;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len) {
			scanned = 0;
			continue;
		}
		rec->raw = line;
		rec->rawlen = len;
		rec->pos = r->pos;
		struct json_error je;
		if (json_parse_record(&r->arena, line, len, &rec->v, &je, &r->layout, &rec->layout)) {
			rec->kind = REC_BAD;
			rec->err = je.msg;
			rec->err_offset = je.offset;
			return REC_BAD;
		}
		return classify(r, rec);
	}
}

/* The record row frames fill in: the schema's top-level field names as
 * keys, and one layout id for every row frame under this schema (a data
 * frame with the same keys may get another, which costs its tools one
 * lookup by name). */
static void set_row(struct rec_reader *r)
{
	const struct type *t = r->schema;
	if (t->kind != T_STRUCT || t->nfields > UINT32_MAX)
		return;
	size_t n = t->nfields;
	r->row_n = (uint32_t)n;
	r->row = xcalloc(n ? 2 * n : 1, sizeof *r->row);
	for (size_t i = 0; i < n; i++)
		value_set_str(&r->row[2 * i], t->fields[i].name, strlen(t->fields[i].name));
	struct value obj = {.type = V_OBJECT, .n = r->row_n, .a = r->row};
	layout_set(&r->layout, &obj);
	r->row_layout = r->layout.id;
}

/* A row frame's record, every member of rec set but pos: in line, so
 * that the usual record (rec_read) is neither cleared first nor called for. */
static inline __attribute__((always_inline)) enum rec_kind read_row(struct rec_reader *r, struct record *rec,
								    const unsigned char *q, size_t len)
{
	const unsigned char *end = q + len;
	rec->raw = (const char *)q;
	rec->rawlen = len;
	rec->truncated = false;
	rec->err_offset = 0;
	rec->control = NULL;
	const char *err = "row frame without a struct schema";
	int rc = 0;
	if (r->row) {
		rc = frame_get_row(&r->arena, r->row, r->row_n, q, end);
		err = rc >= 0 ? NULL
		      : rc == -2 ? "row frame shorter than its schema"
		      : rc == -3 ? "row frame longer than its schema" : "corrupt row frame";
	}
	if (err) {
		rec->kind = REC_BAD;
		rec->err = err;
		rec->v = (struct value){.type = V_NULL};
		rec->layout = 0;
		rec->raw_row = false;
		return REC_BAD;
	}
	rec->kind = REC_DATA;
	rec->err = NULL;
	rec->v = (struct value){.type = V_OBJECT, .n = r->row_n, .a = r->row};
	rec->layout = r->row_layout;
	rec->raw_row = rc == 0;
	return REC_DATA;
}

static bool frame_kind_known(unsigned char kind)
{
	return kind == FRAME_SCHEMA || kind == FRAME_DATA || kind == FRAME_ROW || kind == FRAME_CONTROL;
}

/* Whether the input ends inside the header of the frame at r->start: a
 * kind byte, then nothing but varint bytes that say more follow. */
static bool header_cut(const struct rec_reader *r)
{
	if (!frame_kind_known((unsigned char)r->buf[r->start]))
		return false;
	for (size_t i = r->start + 1; i < r->end; i++)
		if (!((unsigned char)r->buf[i] & 0x80))
			return false;
	return r->end - r->start < 11;
}

static enum rec_kind read_framed(struct rec_reader *r, struct record *rec)
{
	for (;;) {
		/* kind byte + up to 10 varint bytes */
		while (r->end - r->start < 11 && fill(r))
			;
		if (r->start == r->end)
			return rec->kind = REC_EOF;
		const unsigned char *p = (const unsigned char *)r->buf + r->start + 1, *e = (const unsigned char *)r->buf + r->end;
		unsigned char kind = (unsigned char)r->buf[r->start];
		uint64_t len;
		r->pos++;
		rec->pos = r->pos;
		rec->raw = NULL;
		rec->rawlen = 0;
		if (p < e && *p < 0x80) /* most frames are short */
			len = *p++;
		else if (get_uvarint(&p, e, &len))
			kind = 0;
		if (!kind && r->eof && header_cut(r)) {
			/* the writer stopped inside a frame's header (killed, say) */
			rec->kind = REC_BAD;
			rec->err = "truncated frame";
			r->start = r->end;
			return REC_BAD;
		}
		if (!frame_kind_known(kind)) {
			/* A broken frame header leaves no way to find the next frame. */
			rec->kind = REC_BAD;
			rec->err = "corrupt frame header";
			r->start = r->end;
			r->eof = true;
			return REC_BAD;
		}
		if (len > r->max_record) {
			rec->kind = REC_BAD;
			rec->err = "frame longer than the limit (WEIR_MAX_RECORD)";
			r->start = r->end;
			r->eof = true;
			return REC_BAD;
		}
		size_t hdr = (size_t)(p - (const unsigned char *)(r->buf + r->start));
		while (r->end - r->start < hdr + len)
			if (!fill(r)) {
				rec->kind = REC_BAD;
				rec->err = "truncated frame";
				r->start = r->end;
				return REC_BAD;
			}
		const char *payload = r->buf + r->start + hdr;
		r->start += hdr + len;
		rec->raw = payload;
		rec->rawlen = len;
		if (kind == FRAME_SCHEMA) {
			type_free(r->schema);
			r->schema = NULL;
			r->schema_version++;
			free(r->row);
			r->row = NULL;
			if (len) {
				char err[256];
				r->schema = schema_parse_delta(payload, len, err, sizeof err);
				if (!r->schema) {
					rec->kind = REC_BAD;
					rec->err = "bad schema frame";
					return REC_BAD;
				}
				set_row(r);
			}
			continue;
		}
		if (kind == FRAME_CONTROL) {
			struct json_error je;
			if (json_parse(&r->arena, payload, len, &rec->v, &je)) {
				rec->kind = REC_BAD;
				rec->err = je.msg;
				rec->err_offset = je.offset;
				return REC_BAD;
			}
			enum rec_kind k = classify(r, rec);
			if (k == REC_DATA) {
				rec->kind = REC_BAD;
				rec->err = "control frame without '@weir'";
				return REC_BAD;
			}
			return k;
		}
		const unsigned char *q = (const unsigned char *)payload;
		if (kind == FRAME_ROW)
			return read_row(r, rec, q, len);
		if (frame_get_record(&r->arena, &r->layout, &q, q + len, &rec->v, &rec->layout) ||
		    q != (const unsigned char *)payload + len) {
			rec->layout = 0;
			rec->kind = REC_BAD;
			rec->err = "corrupt data frame";
			return REC_BAD;
		}
		rec->kind = REC_DATA;
		if (rec->v.type != V_OBJECT) {
			rec->kind = REC_BAD;
			rec->err = "record is not an object";
		}
		return rec->kind;
	}
}

/* Any record but the usual one: out of line, so that rec_read saves no
 * registers for it. */
static __attribute__((noinline)) enum rec_kind read_any(struct rec_reader *r, struct record *rec)
{
	/* a copy of a zero record: memset compiles to a slow string store
	 * here, which showed per record */
	static const struct record empty;
	*rec = empty;
	if (!r->detected)
		detect(r);
	return r->framed ? read_framed(r, rec) : read_ndjson(r, rec);
}

enum rec_kind rec_read(struct rec_reader *r, struct record *rec)
{
	arena_reset(&r->arena);
	/* The usual frame first: a row under a struct schema (so the input
	 * is framed), with a one-byte length, whole in the buffer (never over
	 * the limit, which is at least 1024). */
	const unsigned char *h = (const unsigned char *)r->buf + r->start;
	size_t avail = r->end - r->start;
	if (r->row && avail >= 2 && h[0] == FRAME_ROW && h[1] < 0x80 && avail - 2 >= h[1]) {
		rec->pos = ++r->pos;
		r->start += 2 + (size_t)h[1];
		return read_row(r, rec, h + 2, h[1]);
	}
	return read_any(r, rec);
}

/* ---- writer ---- */

bool rec_want_framed(bool flag)
{
	const char *e = getenv("WEIR_FRAMED");
	return flag || (e && !strcmp(e, "1"));
}

struct rec_writer *rec_writer_open(int fd, bool framed)
{
	struct rec_writer *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->framed = framed;
	w->schema_pending = framed;
	return w;
}

bool rec_writer_framed(const struct rec_writer *w) { return w->framed; }

void rec_writer_schema(struct rec_writer *w, const struct type *t)
{
	type_free(w->schema);
	w->schema = type_clone(t);
	w->schema_pending = w->framed;
	free(w->row_len);
	w->row_len = NULL;
	w->row_layout = 0;
	t = w->schema;
	if (!w->framed || !t || t->kind != T_STRUCT || t->nfields > UINT32_MAX)
		return;
	w->row_n = (uint32_t)t->nfields;
	w->row_len = xmalloc((t->nfields ? t->nfields : 1) * sizeof *w->row_len);
	for (size_t i = 0; i < t->nfields; i++)
		w->row_len[i] = (uint32_t)strlen(t->fields[i].name);
}

/* Whether v (of the layout given, 0 when not known) has the announced
 * schema's top-level keys, in order, by comparing them. */
static __attribute__((noinline)) bool row_keys(struct rec_writer *w, const struct value *v, uint64_t layout)
{
	if (!w->row_len || v->type != V_OBJECT || v->n != w->row_n)
		return false;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct value *k = &v->a[2 * i];
		if (k->n != w->row_len[i] || (k->n && memcmp(k->s, w->schema->fields[i].name, k->n)))
			return false;
	}
	if (layout)
		w->row_layout = layout;
	return true;
}

/* The same, compared once per layout: row_layout is set only once a
 * record of that layout had the keys. */
static inline bool is_row(struct rec_writer *w, const struct value *v, uint64_t layout)
{
	return (layout && layout == w->row_layout) || row_keys(w, v, layout);
}

/* Append a frame whose payload put() encodes: straight into the output
 * behind a one-byte length, moved along when the length needs more.  In
 * line, so put is a direct call. */
static inline __attribute__((always_inline)) void put_frame(struct rec_writer *w, enum frame_kind kind,
							   void (*put)(struct buf *, const struct value *),
							   const struct value *v)
{
	struct buf *b = &w->out;
	buf_putc(b, (char)kind);
	size_t at = b->len;
	buf_putc(b, 0);
	put(b, v);
	size_t n = b->len - at - 1;
	if (n < 0x80) {
		b->p[at] = (char)n;
		return;
	}
	/* the longer length, encoded aside, then the payload moved for it */
	buf_reset(&w->scratch);
	buf_uvarint(&w->scratch, n);
	size_t k = w->scratch.len;
	buf_grow(b, k - 1);
	memmove(b->p + at + k, b->p + at + 1, n);
	memcpy(b->p + at, w->scratch.p, k);
	b->len += k - 1;
}

static void start_frames(struct rec_writer *w)
{
	if (!w->magic_done) {
		buf_put(&w->out, FRAME_MAGIC, FRAME_MAGIC_LEN);
		w->magic_done = true;
	}
	if (w->schema_pending) {
		buf_reset(&w->scratch);
		if (w->schema)
			schema_write_delta(&w->scratch, w->schema);
		frame_put(&w->out, FRAME_SCHEMA, w->scratch.p, w->scratch.len);
		w->schema_pending = false;
	}
}

void rec_write_buf(int fd, struct buf *b)
{
	size_t off = 0;
	while (off < b->len) {
		ssize_t n = write(fd, b->p + off, b->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE)
				exit_epipe();
			die_errno(EXIT_TROUBLE, "write failure on standard output");
		}
		off += (size_t)n;
	}
	buf_reset(b);
}

int rec_writer_fd(const struct rec_writer *w) { return w->fd; }

void rec_flush(struct rec_writer *w)
{
	rec_write_buf(w->fd, &w->out);
}

static void maybe_flush(struct rec_writer *w)
{
	if (w->out.len >= (256u << 10))
		rec_flush(w);
}

/* rec_write for a record v whose layout id (struct record's) is known, 0
 * when not: a framed writer then checks once per layout whether v's keys
 * are those of the announced schema (a row frame) instead of per record. */
static void write_value(struct rec_writer *w, const struct value *v, uint64_t layout)
{
	if (w->framed) {
		start_frames(w);
		if (is_row(w, v, layout))
			put_frame(w, FRAME_ROW, frame_put_row, v);
		else
			put_frame(w, FRAME_DATA, frame_put_value, v);
	} else {
		json_write(&w->out, v);
		buf_putc(&w->out, '\n');
	}
	maybe_flush(w);
}

void rec_write(struct rec_writer *w, const struct value *v)
{
	write_value(w, v, 0);
}

void rec_write_row(struct rec_writer *w, const void *payload, size_t n)
{
	if (!w->magic_done || w->schema_pending)
		start_frames(w);
	frame_put(&w->out, FRAME_ROW, payload, n);
	maybe_flush(w);
}

void rec_write_record(struct rec_writer *w, const struct record *rec)
{
	if (w->framed && rec->raw_row && is_row(w, &rec->v, rec->layout)) {
		rec_write_row(w, rec->raw, rec->rawlen);
		return;
	}
	write_value(w, &rec->v, rec->layout);
}

void rec_write_control(struct rec_writer *w, const struct value *v)
{
	if (w->framed) {
		start_frames(w);
		buf_reset(&w->scratch);
		json_write(&w->scratch, v);
		frame_put(&w->out, FRAME_CONTROL, w->scratch.p, w->scratch.len);
	} else {
		json_write(&w->out, v);
		buf_putc(&w->out, '\n');
	}
	rec_flush(w);
}

void rec_forward(struct rec_writer *w, const struct record *rec)
{
	if (rec->kind == REC_CONTROL) {
		rec_write_control(w, &rec->v);
		return;
	}
	if (!w->framed && rec->raw && rec->raw[0] == '{') {
		buf_put(&w->out, rec->raw, rec->rawlen);
		buf_putc(&w->out, '\n');
		maybe_flush(w);
		return;
	}
	rec_write_record(w, rec);
}

void rec_write_ndjson(struct rec_writer *w, const char *text, size_t n)
{
	buf_put(&w->out, text, n);
	buf_putc(&w->out, '\n');
	maybe_flush(w);
}

struct buf *rec_ndjson_out(struct rec_writer *w)
{
	return &w->out;
}

void rec_ndjson_end(struct rec_writer *w)
{
	buf_putc(&w->out, '\n');
	maybe_flush(w);
}

void rec_writer_close(struct rec_writer *w)
{
	if (!w)
		return;
	if (w->framed && !w->magic_done)
		start_frames(w); /* an empty framed stream still says what it is */
	rec_flush(w);
	buf_free(&w->out);
	buf_free(&w->scratch);
	type_free(w->schema);
	free(w->row_len);
	free(w);
}
