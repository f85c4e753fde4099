/* frame_fuzz.c - libFuzzer target for the framed reader (and NDJSON reader:
 * the reader detects which from the first bytes, so both get fuzzed).
 *
 * Every record read must re-encode and decode to an equal value; nothing
 * may read outside the input or allocate beyond what it justifies.  Fields
 * found through rec_field (by position within a layout) must be the ones
 * value_get finds. */
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
	struct arena a = {0};
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
		if (rec.kind == REC_DATA)
			check_fields(&rec);
		arena_reset(&a);
	}
	rec_reader_close(r);
	close(fd);
	buf_free(&b);
	arena_free(&a);
	return 0;
}
