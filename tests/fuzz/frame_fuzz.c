/* frame_fuzz.c - libFuzzer target for the framed reader (and NDJSON reader:
 * the reader detects which from the first bytes, so both get fuzzed).
 *
 * Every record read must re-encode and decode to an equal value, as a data
 * frame's value and as a row frame's values; the data records written
 * again, with their layouts, by a framed writer that announces the schemas
 * the input did (row frames where the keys allow, copied when the input's
 * were written as the writer would) must read back as the same records.
 * Nothing may read outside the input or allocate beyond what it justifies.
 * Fields found through rec_field (by position within a layout) must be the
 * ones value_get finds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "record.h"
#include "value.h"

/* The first keys of the records, each looked up with its own rec_field
 * that lives across records, and a name that is rarely there. */
#define NFIELDS 6
static char names[NFIELDS][64];
static struct rec_field fields[NFIELDS + 1];

static void check_fields(const struct record *rec)
{
	if (rec->v.type != V_OBJECT)
		return;
	for (uint32_t i = 0; i < NFIELDS && i < rec->v.n; i++) {
		const struct value *k = &rec->v.a[2 * i];
		if (k->n >= sizeof names[i])
			continue;
		if (fields[i].len != k->n || memcmp(names[i], k->s, k->n)) {
			memcpy(names[i], k->s, k->n);
			rec_field_init(&fields[i], names[i], k->n);
		}
	}
	for (int i = 0; i <= NFIELDS; i++) {
		if (!fields[i].name)
			continue;
		if (rec_field(rec, &fields[i]) != value_get(&rec->v, fields[i].name, fields[i].len))
			abort();
	}
}

/* rec.v as a row frame's payload and back, its keys given */
static void check_row(struct arena *a, struct buf *b, const struct value *v)
{
	buf_reset(b);
	frame_put_row(b, v);
	buf_grow(b, FRAME_PAD); /* frame_get_row may load past the end */
	struct value *items = arena_alloc(a, (v->n ? 2 * (size_t)v->n : 1) * sizeof *items);
	for (uint32_t i = 0; i < v->n; i++)
		items[2 * i] = v->a[2 * i];
	const unsigned char *p = (const unsigned char *)b->p;
	struct value w = {.type = V_OBJECT, .n = v->n, .a = items};
	if (frame_get_row(a, items, v->n, p, p + b->len) < 0 || !value_eq(v, &w))
		abort();
}

/* The records written to fd read back as recs[0, n). */
static void check_written(int fd, const struct value *recs, size_t n)
{
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	struct rec_reader *r = rec_reader_open(fd, "written");
	struct record rec;
	for (size_t i = 0; i < n; i++)
		if (rec_read(r, &rec) != REC_DATA || !value_eq(&rec.v, &recs[i]))
			abort();
	if (rec_read(r, &rec) != REC_EOF)
		abort();
	rec_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fields[NFIELDS].name)
		rec_field_init(&fields[NFIELDS], "x", 1);
	int fd = memfd_create("frame_fuzz", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	struct rec_reader *r = rec_reader_open(fd, "fuzz");
	struct record rec;
	struct buf b = BUF_INIT;
	struct arena a = {0}, keep = {0};
	int out = memfd_create("frame_fuzz_out", 0);
	if (out < 0)
		abort();
	struct rec_writer *wr = rec_writer_open(out, true);
	uint64_t version = 0;
	struct value *recs = NULL;
	size_t nrecs = 0, caprecs = 0;
	int guard = 0;
	while (rec_read(r, &rec) != REC_EOF && guard++ < 100000) {
		if (rec.kind == REC_BAD)
			continue;
		buf_reset(&b);
		frame_put_value(&b, &rec.v);
		const unsigned char *p = (const unsigned char *)b.p;
		struct value w;
		if (frame_get_value(&a, &p, p + b.len, &w) || p != (const unsigned char *)b.p + b.len)
			abort();
		if (!value_eq(&rec.v, &w))
			abort();
		if (rec.raw_row) {
			/* the claim that lets writers copy the frame */
			buf_reset(&b);
			frame_put_row(&b, &rec.v);
			if (b.len != rec.rawlen || memcmp(b.p, rec.raw, b.len))
				abort();
		}
		if (rec.kind == REC_DATA) {
			check_fields(&rec);
			check_row(&a, &b, &rec.v);
			if (rec_reader_schema_version(r) != version) {
				version = rec_reader_schema_version(r);
				rec_writer_schema(wr, rec_reader_schema(r));
			}
			rec_write_record(wr, &rec);
			if (nrecs == caprecs) {
				caprecs = caprecs ? 2 * caprecs : 64;
				if (!(recs = realloc(recs, caprecs * sizeof *recs)))
					abort();
			}
			value_copy(&keep, &recs[nrecs++], &rec.v);
		}
		arena_reset(&a);
	}
	rec_writer_close(wr);
	check_written(out, recs, nrecs);
	rec_reader_close(r);
	close(fd);
	close(out);
	buf_free(&b);
	arena_free(&a);
	arena_free(&keep);
	free(recs);
	return 0;
}
