/* parquet_threads.c - the Parquet writer with a helper thread compressing
 * pages (pq_write_opts.threads) must write the same bytes as without one,
 * and pq_writer_reached must agree with pq_writer_bytes.  Two writers are
 * fed at once, as lake-write feeds one per partition, with pages and row
 * groups small enough that many pages are in flight.  Built and run by
 * tests/parquet.bats; prints a report the test compares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "parquet.h"
#include "schema.h"

#define ROWS 20000

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* a row as NDJSON: ids, repeated and distinct strings, nulls, a decimal, a
 * struct and a list */
static void row(struct buf *b, uint64_t *s, int i)
{
	buf_reset(b);
	buf_printf(b, "{\"id\":%d,\"k\":%d,\"s\":", i, (int)(rnd(s) % 50));
	if (rnd(s) % 7 == 0)
		buf_puts(b, "null");
	else if (rnd(s) % 2)
		buf_printf(b, "\"u-%llu\"", (unsigned long long)(rnd(s) % 100000));
	else
		buf_printf(b, "\"page-%d\"", (int)(rnd(s) % 30));
	buf_printf(b, ",\"d\":%d.%02d,\"st\":{\"x\":%d},\"arr\":[", (int)(rnd(s) % 1000), (int)(rnd(s) % 100),
		   (int)(rnd(s) % 5));
	for (int k = (int)(rnd(s) % 4); k > 0; k--)
		buf_printf(b, "%d%s", (int)(rnd(s) % 9), k > 1 ? "," : "");
	buf_puts(b, "]}");
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char tmp[65536];
	size_t got;
	while ((got = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_put(&b, tmp, got);
	fclose(f);
	*n = b.len;
	return b.p ? b.p : calloc(1, 1);
}

int main(int argc, char **argv)
{
	char err[256];
	if (argc != 2)
		return 2;
	struct type *t = schema_parse_ddl("id BIGINT NOT NULL, k INT, s STRING, d DECIMAL(7,2), st STRUCT<x: INT>, "
					  "arr ARRAY<INT>",
					  err, sizeof err);
	static const char *const codecs[] = {"zstd", "snappy", "gzip"};
	const enum pq_codec codec_of[] = {PQ_ZSTD, PQ_SNAPPY, PQ_GZIP};
	for (int c = 0; c < 3; c++) {
		long disagree = 0, checks = 0;
		int64_t bytes[2][2] = {{0}};
		for (int threads = 1; threads <= 2; threads++) {
			struct pq_write_opts o;
			pq_write_opts_default(&o);
			o.codec = codec_of[c];
			o.page_bytes = 700;
			o.row_group_bytes = 60000;
			o.threads = threads;
			struct pq_writer *w[2];
			for (int k = 0; k < 2; k++) {
				char path[4096];
				snprintf(path, sizeof path, "%s.%d.%d", argv[1], threads, k);
				if (!(w[k] = pq_writer_open(path, t, &o, err, sizeof err)))
					return fprintf(stderr, "%s\n", err), 2;
			}
			uint64_t seed = 88172645463325252ull;
			struct arena a = {0};
			struct buf b = BUF_INIT;
			for (int i = 0; i < ROWS; i++) {
				struct value v;
				struct json_error je;
				row(&b, &seed, i);
				arena_reset(&a);
				struct pq_writer *x = w[rnd(&seed) % 2];
				if (json_parse(&a, b.p, b.len, &v, &je) || pq_write_row(x, &v, err, sizeof err) < 0)
					return fprintf(stderr, "row %d: %s\n", i, err), 2;
				if (i % 97 == 0) {
					/* near the size, where the bounds of pages in flight do not settle it */
					int64_t at = bytes[threads - 1][x == w[1]] + (int64_t)(rnd(&seed) % 4000);
					bool r = pq_writer_reached(x, at);
					int64_t now = pq_writer_bytes(x);
					disagree += r != (now >= at);
					checks++;
					bytes[threads - 1][x == w[1]] = now;
				}
			}
			for (int k = 0; k < 2; k++)
				if (pq_writer_close(w[k], NULL, err, sizeof err) < 0)
					return fprintf(stderr, "%s\n", err), 2;
			buf_free(&b);
			arena_free(&a);
		}
		int same = 0;
		for (int k = 0; k < 2; k++) {
			char p1[4096], p2[4096];
			snprintf(p1, sizeof p1, "%s.1.%d", argv[1], k);
			snprintf(p2, sizeof p2, "%s.2.%d", argv[1], k);
			size_t n1, n2;
			char *f1 = slurp(p1, &n1), *f2 = slurp(p2, &n2);
			same += f1 && f2 && n1 == n2 && n1 > 1000 && !memcmp(f1, f2, n1);
			free(f1);
			free(f2);
		}
		printf("%s: files alike %d of 2, reached disagrees %ld of %s\n", codecs[c], same, disagree,
		       checks > 300 ? "over 300" : "too few");
	}
	type_free(t);
	return 0;
}
