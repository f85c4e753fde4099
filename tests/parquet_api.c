/* parquet_api.c - checks the parts of lib/parquet.h the command line does
 * not reach: the file statistics pq_writer_close returns (what Delta's
 * add.stats is made of) and pq_row_group_stats (row-group skipping).  Built
 * and run by tests/parquet.bats; prints a report the test compares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "parquet.h"
#include "schema.h"

static void show(const char *what, const struct value *v)
{
	struct buf b = BUF_INIT;
	json_write(&b, v);
	printf("%s=%.*s", what, (int)b.len, b.p);
	buf_free(&b);
}

int main(int argc, char **argv)
{
	char err[256];
	if (argc != 2)
		return 2;
	struct type *t = schema_parse_ddl("id BIGINT NOT NULL, s STRING, d DECIMAL(5,2), st STRUCT<x: INT>, arr ARRAY<INT>", err,
					  sizeof err);
	struct pq_write_opts o;
	pq_write_opts_default(&o);
	o.row_group_bytes = 1; /* a row group per row */
	struct pq_writer *w = pq_writer_open(argv[1], t, &o, err, sizeof err);
	if (!w)
		return fprintf(stderr, "%s\n", err), 2;
	static const char *rows[] = {
		"{\"id\":5,\"s\":\"pear\",\"d\":1.5,\"st\":{\"x\":-3},\"arr\":[9]}",
		"{\"id\":-2,\"s\":null,\"d\":-10.25,\"st\":null,\"arr\":null}",
		"{\"id\":7,\"s\":\"apple\",\"d\":null,\"st\":{\"x\":null},\"arr\":[]}",
	};
	struct arena a = {0};
	for (size_t i = 0; i < 3; i++) {
		struct value v;
		struct json_error je;
		if (json_parse(&a, rows[i], strlen(rows[i]), &v, &je) || pq_write_row(w, &v, err, sizeof err) < 0)
			return fprintf(stderr, "row %zu: %s\n", i, err), 2;
	}
	struct value bad = {.type = V_OBJECT};
	printf("empty row: %d %s\n", pq_write_row(w, &bad, err, sizeof err), err);
	struct pq_file_stats st;
	if (pq_writer_close(w, &st, err, sizeof err) < 0)
		return fprintf(stderr, "%s\n", err), 2;
	printf("rows=%lld cols=%zu\n", (long long)st.num_rows, st.ncols);
	for (size_t i = 0; i < st.ncols; i++) {
		printf("%s %s nulls=%lld ", st.cols[i].path, tkind_name(st.cols[i].kind), (long long)st.cols[i].null_count);
		if (st.cols[i].has_minmax) {
			show("min", &st.cols[i].min);
			show(" max", &st.cols[i].max);
		}
		printf("\n");
	}
	pq_file_stats_free(&st);

	struct pq_file *f = pq_open(argv[1], err, sizeof err);
	if (!f)
		return fprintf(stderr, "%s\n", err), 2;
	printf("row groups=%d\n", pq_num_row_groups(f));
	const char *cols[] = {"id", "s", "d", "st", "nope"};
	for (int g = 0; g < pq_num_row_groups(f); g++)
		for (size_t c = 0; c < 5; c++) {
			struct pq_stats ps;
			bool ok = pq_row_group_stats(f, g, cols[c], &ps);
			printf("rg%d %s: %s nulls=%lld", g, cols[c], ok ? "yes" : "no", (long long)ps.null_count);
			if (ps.has_minmax) {
				show(" min", &ps.min);
				show(" max", &ps.max);
			}
			printf("\n");
		}
	pq_close(f);
	arena_free(&a);
	type_free(t);
	return 0;
}
