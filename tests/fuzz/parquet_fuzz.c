/* parquet_fuzz.c - libFuzzer target for the Parquet reader: open any bytes
 * as a file, print its footer, ask for statistics, and read every row.
 * Whatever the input, the reader must answer with a row or an error: no
 * crash, no sanitizer report, no hang, no allocation beyond the limits. */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "parquet.h"
#include "value.h"

/* rows are cheap to claim (an RLE run of nulls); stop a runaway file early */
#define MAX_ROWS 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct pq_file *f = pq_open_mem(data, size, err, sizeof err);
	if (!f)
		return 0;
	struct buf b = BUF_INIT;
	pq_meta_json(f, &b);
	buf_free(&b);
	const struct type *t = pq_schema(f);
	for (int g = 0; g < pq_num_row_groups(f); g++)
		for (size_t i = 0; i < t->nfields; i++) {
			struct pq_stats st;
			pq_row_group_stats(f, g, t->fields[i].name, &st);
		}
	struct pq_cursor *c = pq_cursor_open(f, NULL, 0, NULL, 0, err, sizeof err);
	if (c) {
		struct arena a = {0};
		struct value row;
		for (int n = 0; n < MAX_ROWS && pq_next(c, &a, &row, err, sizeof err) > 0; n++)
			arena_reset(&a);
		arena_free(&a);
		pq_cursor_close(c);
	}
	pq_close(f);
	return 0;
}
