/* parquet.h - Apache Parquet files, read and written from the specification
 * (parquet-format: parquet.thrift, Encodings.md, LogicalTypes.md).
 *
 * Rows cross this interface as struct value objects keyed by column name,
 * typed per the Delta type tree in schema.h, so the Delta module and the
 * tools never see pages or levels.  Every error is returned as text in err
 * (room errlen); nothing here exits.
 *
 * CONTRACT (issue 4 implements it; the Delta module codes against it). */
#ifndef WEIR_PARQUET_H
#define WEIR_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "value.h"

/* ---- reading ---- */

struct pq_file;

/* Open and read the footer.  The whole file is checked against its own size
 * before anything is allocated from its declared lengths. */
struct pq_file *pq_open(const char *path, char *err, size_t errlen);
/* The same over bytes in memory (kept by the caller until pq_close): for
 * fuzzing and for files already read. */
struct pq_file *pq_open_mem(const void *p, size_t n, char *err, size_t errlen);
void pq_close(struct pq_file *f);

/* The file's schema as Delta types (logical annotations applied; INT64
 * timestamps become T_TIMESTAMP when isAdjustedToUTC, T_TIMESTAMP_NTZ
 * otherwise; INT96 and legacy TIMESTAMP_MILLIS/MICROS without a logical type
 * carry no zone and read as T_TIMESTAMP_NTZ, as DuckDB and Arrow read them:
 * a Delta `timestamp` column stored as INT96 (Spark's default) must be
 * re-typed by the caller from the table schema (same microseconds);
 * unsigned 64-bit integers read as decimal(20,0); legacy list/map shapes
 * normalised). */
const struct type *pq_schema(const struct pq_file *f);
int pq_num_row_groups(const struct pq_file *f);
/* Footer facts as one JSON object (for --meta): created_by, row groups,
 * columns with encodings, codecs, sizes and statistics. */
void pq_meta_json(const struct pq_file *f, struct buf *out);

/* Min/max/null count of a top-level primitive column in a row group, from
 * the column chunk statistics; false when the file has none. */
struct pq_stats {
	struct value min, max; /* strings point into the file's footer */
	int64_t null_count;    /* -1 when unknown */
	bool has_minmax;
};
bool pq_row_group_stats(const struct pq_file *f, int rg, const char *column, struct pq_stats *st);

/* A row cursor over a projection (columns NULL = all, in file order;
 * otherwise top-level names, matched exactly then case-insensitively, in the
 * order given; an unknown name is an error) and a subset of row groups
 * (row_groups NULL = all).  Values produced by pq_next live in `a` (the
 * caller resets it), except object keys (column and field names), which
 * point into the file's schema and stay valid until pq_close.  Structs are
 * V_OBJECT, lists V_ARRAY, maps V_MAP (pairs; keys of any type). */
struct pq_cursor;
struct pq_cursor *pq_cursor_open(struct pq_file *f, const char *const *columns, size_t ncolumns,
				 const int *row_groups, size_t nrow_groups, char *err, size_t errlen);
/* 1 = a row in *row, 0 = end, -1 = error (err set). */
int pq_next(struct pq_cursor *c, struct arena *a, struct value *row, char *err, size_t errlen);
void pq_cursor_close(struct pq_cursor *c);

/* ---- writing ---- */

enum pq_codec { PQ_UNCOMPRESSED, PQ_SNAPPY, PQ_GZIP, PQ_ZSTD, PQ_LZ4_RAW, PQ_BROTLI };

struct pq_write_opts {
	enum pq_codec codec;        /* default PQ_ZSTD */
	int level;                  /* codec level, 0 = codec default */
	int64_t row_group_bytes;    /* target uncompressed row group size, default 128 MiB */
	int64_t page_bytes;         /* target page size, default 1 MiB */
	int64_t dict_limit_bytes;   /* dictionary size past which a column falls back to PLAIN, default 1 MiB */
	bool no_dictionary;
	int threads;                /* > 1: pages are compressed on a helper thread while rows are encoded */
};
void pq_write_opts_default(struct pq_write_opts *o);

struct pq_writer;
/* Columns follow the schema; a row missing a nullable field writes null;
 * fields the schema does not have are ignored; names match exactly, then
 * case-insensitively.  Besides typed values, a row may carry the canonical
 * NDJSON forms (ARCHITECTURE §2) of a column's type: ISO strings for dates
 * and timestamps, base64 for binary, numbers with a fraction for decimals,
 * "NaN"/"Infinity" for floats, objects (V_OBJECT) for maps.  The file is
 * written to `path` directly: callers wanting atomicity write a temporary
 * name and rename or link it. */
struct pq_writer *pq_writer_open(const char *path, const struct type *schema, const struct pq_write_opts *o,
				 char *err, size_t errlen);
/* -1 with err when the row does not fit the schema (a required field null,
 * a value of the wrong type); the row is then not written. */
int pq_write_row(struct pq_writer *w, const struct value *row, char *err, size_t errlen);
/* Bytes written so far plus buffered (for target file sizes); waits for
 * pages being compressed. */
int64_t pq_writer_bytes(struct pq_writer *w);
/* pq_writer_bytes(w) >= bytes, waiting for pages being compressed only when
 * their sizes decide it (true too when the writer has failed). */
bool pq_writer_reached(struct pq_writer *w, int64_t bytes);

/* What Delta's add.stats needs: per leaf column (dotted path through
 * structs; columns inside lists and maps are not included), over the whole
 * file. */
struct pq_col_stats {
	char *path;
	enum tkind kind;
	struct value min, max; /* valid when has_minmax; strings are owned by the stats */
	bool has_minmax;
	int64_t null_count;
};
struct pq_file_stats {
	int64_t num_rows;
	int64_t file_bytes;
	struct pq_col_stats *cols;
	size_t ncols;
};
/* Finish the file (footer, fsync).  stats may be NULL. */
int pq_writer_close(struct pq_writer *w, struct pq_file_stats *stats, char *err, size_t errlen);
/* Abandon a file: close and unlink it. */
void pq_writer_abort(struct pq_writer *w);
void pq_file_stats_free(struct pq_file_stats *s);

#endif
