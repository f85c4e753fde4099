/* lake-cat.c - weir-lake-cat: look inside Delta Lake tables and Parquet
 * files, as records.
 *
 * A table reads as the rows of its snapshot at a version (lib/delta*.c
 * replays the log), or as a stream of the rows each new commit adds
 * (--follow), which makes a table a source for the next pipeline: a commit
 * appears whole (put-if-absent), so a reader never sees half of one.  With
 * --checkpoint-interval such a stream carries barriers, always between two
 * commits, whose source is the next version to read; --resume-from goes on
 * from the version the sink recorded (lib/resume.c), so a table-to-table
 * chain is exactly-once across restarts, as one that starts at weir-ingest.
 *
 * The Parquet modes exist so the Parquet library (lib/parquet.c) can be
 * exercised and checked against other engines from the shell: --parquet
 * reads a file's rows (NDJSON or framed), its schema or its footer, and
 * --write-parquet writes records from stdin into one file, which is how the
 * tests prove that what we write DuckDB reads back.  Each mode is one static
 * function; main only picks the mode. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "delta.h"
#include "diag.h"
#include "json.h"
#include "opt.h"
#include "parquet.h"
#include "record.h"
#include "resume.h"
#include "schema.h"
#include "timeutil.h"

static const char help[] =
	"usage: weir-lake-cat [-V N | -T TIME] [--columns LIST] [--where PRED] [--framed] [-v] TABLE\n"
	"       weir-lake-cat --describe [-V N | -T TIME] TABLE\n"
	"       weir-lake-cat --history [--limit N] TABLE\n"
	"       weir-lake-cat [-f [--interval TIME] | --changes-since N] [--columns LIST] [--where PRED]\n"
	"              [--checkpoint-interval N|DURATION [--resume-from SINK --app-id ID] [--end-of-stream]]\n"
	"              [--framed] TABLE\n"
	"       weir-lake-cat --parquet FILE [--columns LIST] [--row-groups LIST] [--framed]\n"
	"       weir-lake-cat --parquet FILE --schema [--json]\n"
	"       weir-lake-cat --parquet FILE --meta\n"
	"       weir-lake-cat --write-parquet FILE --schema SCHEMA [--codec NAME]\n"
	"              [--row-group-size SIZE] [--page-size SIZE] [--no-dictionary]\n"
	"\n"
	"Read Delta Lake tables and Parquet files as records.\n"
	"\n"
	"Delta tables:\n"
	"  -V, --at-version N        the table as of version N (default: the latest)\n"
	"  -T, --as-of TIME          the table as of the last commit at or before TIME (ISO-8601)\n"
	"  -c, --columns LIST        only these top-level columns, in this order (a,b,c)\n"
	"      --where PRED          only rows where PRED holds; skips partitions and files\n"
	"                            that cannot match (partition values, add.stats)\n"
	"      --describe            print schema, protocol, partitions, files, bytes, last\n"
	"                            checkpoint and txns as one JSON object\n"
	"      --history             print one JSON object per commit, newest first\n"
	"      --limit N             with --history: the newest N commits only\n"
	"  -f, --follow              after the rows, stream the rows of each new commit\n"
	"      --interval TIME       how often --follow looks for commits (default 100ms)\n"
	"      --changes-since N     only the rows added by commits after version N\n"
	"      --checkpoint-interval N|DURATION\n"
	"                            barriers: after the snapshot (or --changes-since), then\n"
	"                            after the commit that brings N rows or DURATION\n"
	"      --resume-from SINK    go on from the version the last barrier of --app-id ID\n"
	"                            committed to the table SINK recorded, after a restore\n"
	"      --app-id ID           the application id the sink commits as\n"
	"      --end-of-stream       without -f: the end of the log is the end of the stream\n"
	"                            for good: a watermark at infinity, a last barrier\n"
	"  -v, --verbose             report files skipped by --where, and where a resumed\n"
	"                            run starts, on stderr\n"
	"\n"
	"Parquet files:\n"
	"  -p, --parquet FILE        print the rows of a Parquet file as records\n"
	"  -c, --columns LIST        only these top-level columns, in this order (a,b,c)\n"
	"      --row-groups LIST     only these row groups, numbered from 0 (0,2)\n"
	"  -s, --schema              print the file's schema as DDL instead of rows\n"
	"      --json                with --schema: Delta's JSON schema instead of DDL\n"
	"      --meta                print the footer (row groups, columns, encodings,\n"
	"                            codecs, sizes, statistics) as one JSON object\n"
	"      --framed              write framed records instead of NDJSON\n"
	"\n"
	"Writing a Parquet file (records on stdin, NDJSON or framed):\n"
	"  -w, --write-parquet FILE  write the records to FILE\n"
	"  -s, --schema SCHEMA       the file's schema, DDL or Delta JSON (required)\n"
	"      --codec NAME          zstd (default), snappy, gzip, lz4_raw, brotli, none\n"
	"      --row-group-size SIZE target uncompressed row group size (default 128M)\n"
	"      --page-size SIZE      target page size (default 1M)\n"
	"      --no-dictionary       PLAIN values only\n"
	"\n"
	"      --help                show this help\n"
	"      --version             show the version\n";

enum { OPT_JSON = OPT_TOOL_FIRST, OPT_META, OPT_FRAMED, OPT_CODEC, OPT_RG_SIZE, OPT_PAGE_SIZE, OPT_NO_DICT,
       OPT_ROW_GROUPS, OPT_WHERE, OPT_HISTORY, OPT_DESCRIBE, OPT_CHANGES, OPT_LIMIT, OPT_INTERVAL, OPT_CHECKPOINT,
       OPT_RESUME_FROM, OPT_APP_ID, OPT_END_OF_STREAM };

struct opts {
	/* a Parquet file, read or written */
	const char *parquet, *write_parquet;
	const char *row_groups;
	bool schema, json, meta, no_dict;
	const char *schema_text;
	const char *codec;
	int64_t rg_size, page_size;
	/* both */
	const char *columns;
	bool framed;
	/* a table */
	const char *table;
	int64_t version;      /* -1 latest */
	const char *as_of;
	const char *where;
	bool history, describe, follow;
	int64_t changes_since; /* -1: no */
	int64_t limit;         /* --history entries, 0 all */
	int64_t interval_us;   /* --follow polling */
	int64_t cp_rows, cp_us; /* --checkpoint-interval: by rows or by time, 0 not */
	const char *resume_from, *app_id;
	bool end_of_stream;
};

/* Comma-separated list into a NULL-terminated array (the strings point into
 * a copy of s). */
static char **split_list(const char *s, size_t *n)
{
	char *copy = xstrdup(s);
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	char **v = xcalloc(cap + 1, sizeof *v);
	*n = 0;
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
		v[(*n)++] = tok;
	if (!*n)
		free(copy);
	return v;
}

static void free_list(char **v)
{
	if (v && v[0])
		free(v[0]);
	free(v);
}

static int cat_parquet(const struct opts *o)
{
	char err[512];
	struct pq_file *f = pq_open(o->parquet, err, sizeof err);
	if (!f)
		die(EXIT_TROUBLE, "cannot read '%s': %s", o->parquet, err);
	if (o->meta || o->schema) {
		struct buf b = BUF_INIT;
		if (o->meta)
			pq_meta_json(f, &b);
		else if (o->json)
			schema_write_delta(&b, pq_schema(f));
		else
			schema_write_ddl(&b, pq_schema(f));
		buf_putc(&b, '\n');
		fwrite(b.p, 1, b.len, stdout);
		buf_free(&b);
		pq_close(f);
		return finish_stdout(EXIT_OK);
	}
	size_t ncols = 0, nrgs = 0;
	char **cols = o->columns ? split_list(o->columns, &ncols) : NULL;
	int *rgs = NULL;
	if (o->row_groups) {
		char **v = split_list(o->row_groups, &nrgs);
		rgs = xcalloc(nrgs + 1, sizeof *rgs);
		for (size_t i = 0; i < nrgs; i++)
			rgs[i] = (int)parse_int(v[i], "row group", 0, INT32_MAX);
		free_list(v);
	}
	struct pq_cursor *c = pq_cursor_open(f, (const char *const *)cols, ncols, rgs, nrgs, err, sizeof err);
	if (!c)
		die(EXIT_TROUBLE, "cannot read '%s': %s", o->parquet, err);
	struct rec_writer *w = rec_writer_open(STDOUT_FILENO, rec_want_framed(o->framed));
	if (rec_writer_framed(w)) {
		/* the schema of the projection, in its order */
		const struct type *full = pq_schema(f);
		struct type *t = type_new(T_STRUCT);
		for (size_t i = 0; i < (cols ? ncols : full->nfields); i++) {
			long k = cols ? type_field_index(full, cols[i]) : (long)i;
			type_add_field(t, full->fields[k].name, type_clone(full->fields[k].type), full->fields[k].nullable);
		}
		rec_writer_schema(w, t);
		type_free(t);
	}
	struct arena a = {0};
	struct value row;
	int rc, status = EXIT_OK;
	while ((rc = pq_next(c, &a, &row, err, sizeof err)) > 0) {
		rec_write(w, &row);
		arena_reset(&a);
	}
	rec_writer_close(w);
	if (rc < 0) {
		warnx("cannot read '%s': %s", o->parquet, err);
		status = EXIT_TROUBLE;
	}
	arena_free(&a);
	pq_cursor_close(c);
	pq_close(f);
	free_list(cols);
	free(rgs);
	return finish_stdout(status);
}

/* ---- tables ---- */

static volatile sig_atomic_t table_stop;

static void table_on_signal(int sig)
{
	(void)sig;
	table_stop = 1;
}

static void table_die(const char *table, const char *err)
{
	die(EXIT_TROUBLE, "cannot read table '%s': %s", table, err);
}

/* The schema of the rows written: the projection of the table schema. */
static struct type *projected_schema(const struct type *sch, char **cols, size_t ncols)
{
	if (!cols)
		return type_clone(sch);
	struct type *t = type_new(T_STRUCT);
	for (size_t i = 0; i < ncols; i++) {
		long idx = type_field_index(sch, cols[i]);
		if (idx >= 0 && type_field_index(t, sch->fields[idx].name) < 0)
			type_add_field(t, sch->fields[idx].name, type_clone(sch->fields[idx].type), sch->fields[idx].nullable);
	}
	return t;
}

struct table_reader {
	const struct opts *o;
	char **cols;
	size_t ncols;
	struct delta_pred *pred;
	struct rec_writer *out;
	struct arena arena;
	int64_t rows, skipped;
	/* --checkpoint-interval */
	int64_t barrier_id;      /* the last barrier written (or restored) */
	int64_t since_barrier;   /* rows written since then */
	int64_t next_barrier_us; /* monotonic deadline of a time interval, set by
				    the first row after a barrier */
	struct resume res;       /* --resume-from */
};

/* Write the rows of files (of snapshot s). */
static void emit_files(struct table_reader *tr, const struct delta_snapshot *s, const struct delta_file *files,
		       size_t nfiles)
{
	char err[1024];
	if (tr->pred) {
		delta_pred_free(tr->pred);
		tr->pred = NULL;
	}
	if (tr->o->where) {
		tr->pred = delta_pred_parse(tr->o->where, err, sizeof err);
		if (!tr->pred)
			die(EXIT_TROUBLE, "bad --where: %s", err);
		if (!delta_pred_bind(tr->pred, &s->meta, false, err, sizeof err))
			die(EXIT_TROUBLE, "bad --where: %s", err);
	}
	struct type *ps = projected_schema(s->meta.schema, tr->cols, tr->ncols);
	rec_writer_schema(tr->out, ps);
	type_free(ps);
	struct delta_scan *sc = delta_scan_open(s, files, nfiles, (const char *const *)tr->cols, tr->ncols, tr->pred,
						err, sizeof err);
	if (!sc)
		die(EXIT_TROUBLE, "%s", err);
	struct value row;
	int rc;
	while ((rc = delta_scan_next(sc, &tr->arena, &row, err, sizeof err)) > 0) {
		rec_write(tr->out, &row);
		tr->rows++;
		if (++tr->since_barrier == 1 && tr->o->cp_us)
			tr->next_barrier_us = mono_micros() + tr->o->cp_us;
	}
	if (rc < 0)
		table_die(tr->o->table, err);
	tr->skipped += (int64_t)delta_scan_skipped(sc);
	delta_scan_close(sc);
}

static void put_kv_map(struct buf *b, const struct delta_map *m)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < m->n; i++) {
		if (i)
			buf_putc(b, ',');
		json_write_string(b, m->kv[i].key, strlen(m->kv[i].key));
		buf_putc(b, ':');
		if (m->kv[i].val)
			json_write_string(b, m->kv[i].val, strlen(m->kv[i].val));
		else
			buf_puts(b, "null");
	}
	buf_putc(b, '}');
}

static void put_names(struct buf *b, char **l, size_t n)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		json_write_string(b, l[i], strlen(l[i]));
	}
	buf_putc(b, ']');
}

static void put_time_ms(struct buf *b, int64_t ms)
{
	char t[48];
	if (ms < 0) {
		buf_puts(b, "null");
		return;
	}
	format_timestamp(t, ms * 1000, false);
	json_write_string(b, t, strlen(t));
}

static void write_line(struct buf *b)
{
	buf_putc(b, '\n');
	if (fwrite(b->p, 1, b->len, stdout) != b->len)
		die_errno(EXIT_TROUBLE, "write error on standard output");
	buf_reset(b);
}

static void describe(const struct opts *o, const struct delta_snapshot *s)
{
	struct buf b = BUF_INIT;
	int64_t bytes = 0;
	for (size_t i = 0; i < s->nfiles; i++)
		bytes += s->files[i].size;
	buf_puts(&b, "{\"table\":");
	json_write_string(&b, o->table, strlen(o->table));
	buf_printf(&b, ",\"version\":%lld,\"timestamp\":", (long long)s->version);
	put_time_ms(&b, s->timestamp);
	buf_puts(&b, ",\"id\":");
	json_write_string(&b, s->meta.id, strlen(s->meta.id));
	if (s->meta.name) {
		buf_puts(&b, ",\"name\":");
		json_write_string(&b, s->meta.name, strlen(s->meta.name));
	}
	struct buf ddl = BUF_INIT;
	schema_write_ddl(&ddl, s->meta.schema);
	buf_puts(&b, ",\"schema\":");
	json_write_string(&b, ddl.p ? ddl.p : "", ddl.len);
	buf_free(&ddl);
	buf_puts(&b, ",\"partitionColumns\":");
	put_names(&b, s->meta.partition_columns, s->meta.npartition_columns);
	buf_printf(&b, ",\"protocol\":{\"minReaderVersion\":%d,\"minWriterVersion\":%d", s->protocol.min_reader,
		   s->protocol.min_writer);
	if (s->protocol.reader_features) {
		buf_puts(&b, ",\"readerFeatures\":");
		put_names(&b, s->protocol.reader_features, s->protocol.nreader_features);
	}
	if (s->protocol.writer_features) {
		buf_puts(&b, ",\"writerFeatures\":");
		put_names(&b, s->protocol.writer_features, s->protocol.nwriter_features);
	}
	buf_puts(&b, "},\"configuration\":");
	put_kv_map(&b, &s->meta.configuration);
	buf_printf(&b, ",\"numFiles\":%zu,\"sizeInBytes\":%lld,\"lastCheckpoint\":", s->nfiles, (long long)bytes);
	if (s->checkpoint >= 0)
		buf_printf(&b, "%lld", (long long)s->checkpoint);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"txns\":[");
	for (size_t i = 0; i < s->ntxns; i++) {
		if (i)
			buf_putc(&b, ',');
		buf_puts(&b, "{\"appId\":");
		json_write_string(&b, s->txns[i].app_id, strlen(s->txns[i].app_id));
		buf_printf(&b, ",\"version\":%lld}", (long long)s->txns[i].version);
	}
	buf_puts(&b, "]}");
	write_line(&b);
	buf_free(&b);
}

/* One line per commit, newest first, as Spark's DESCRIBE HISTORY. */
static void history(const struct opts *o, int64_t latest)
{
	struct buf b = BUF_INIT;
	int64_t shown = 0;
	for (int64_t v = latest; v >= 0 && (!o->limit || shown < o->limit); v--) {
		struct arena a = {0};
		struct value *acts;
		size_t n;
		char err[1024];
		int rc = delta_read_commit(o->table, v, &a, &acts, &n, err, sizeof err);
		if (rc > 0) {
			arena_free(&a);
			break; /* older commits were cleaned up behind a checkpoint */
		}
		if (rc < 0)
			table_die(o->table, err);
		buf_printf(&b, "{\"version\":%lld,\"timestamp\":", (long long)v);
		put_time_ms(&b, delta_commit_time(o->table, v, acts, n));
		const struct value *ci = NULL;
		for (size_t i = 0; i < n && !ci; i++)
			ci = value_getz(&acts[i], "commitInfo");
		static const char *const keys[] = {"operation", "operationParameters", "operationMetrics", "readVersion",
						   "isolationLevel", "isBlindAppend", "engineInfo", "weir"};
		for (size_t k = 0; ci && k < sizeof keys / sizeof *keys; k++) {
			const struct value *x = value_getz(ci, keys[k]);
			if (x) {
				buf_printf(&b, ",\"%s\":", keys[k]);
				json_write(&b, x);
			}
		}
		buf_puts(&b, ",\"txn\":[");
		bool first = true;
		for (size_t i = 0; i < n; i++) {
			const struct value *t = value_getz(&acts[i], "txn");
			if (!t)
				continue;
			if (!first)
				buf_putc(&b, ',');
			first = false;
			json_write(&b, t);
		}
		buf_putc(&b, ']');
		buf_putc(&b, '}');
		write_line(&b);
		arena_free(&a);
		shown++;
	}
	buf_free(&b);
}

/* Rows added by commit v (data changes only).  The snapshot is reopened
 * when the commit changes the metadata, so new columns show up. */
static void emit_commit(struct table_reader *tr, struct delta_snapshot **snap, int64_t v)
{
	const struct opts *o = tr->o;
	struct arena a = {0};
	struct value *acts;
	size_t n;
	char err[1024];
	if (delta_read_commit(o->table, v, &a, &acts, &n, err, sizeof err))
		table_die(o->table, err);
	bool reopen = false, removes = false;
	struct delta_file *adds = xcalloc(n + 1, sizeof *adds);
	size_t nadds = 0;
	for (size_t i = 0; i < n; i++) {
		const struct value *x;
		if (value_getz(&acts[i], "metaData") || value_getz(&acts[i], "protocol"))
			reopen = true;
		if ((x = value_getz(&acts[i], "remove"))) {
			const struct value *dc = value_getz(x, "dataChange");
			removes |= !dc || dc->type != V_BOOL || dc->b;
		}
		if ((x = value_getz(&acts[i], "add"))) {
			if (delta_file_from_json(x, true, &adds[nadds], err, sizeof err))
				table_die(o->table, err);
			if (adds[nadds].data_change)
				nadds++;
			else
				delta_file_free(&adds[nadds]);
		}
	}
	arena_free(&a);
	if (reopen || !*snap) {
		delta_snapshot_free(*snap);
		if (!(*snap = delta_open(o->table, v, err, sizeof err)))
			table_die(o->table, err);
	}
	if (removes)
		warnx("version %lld of '%s' removes data; only its added rows are streamed", (long long)v, o->table);
	emit_files(tr, *snap, adds, nadds);
	for (size_t i = 0; i < nadds; i++)
		delta_file_free(&adds[i]);
	free(adds);
}

/* ---- barriers and resuming (--checkpoint-interval, --resume-from) ---- */

/* {"@weir":KIND,"KEY":VAL}: a restore or a watermark */
static void write_control(struct table_reader *tr, const char *kind, const char *key, int64_t val)
{
	struct value pairs[4] = {value_str("@weir", 5), value_str(kind, strlen(kind)), value_str(key, strlen(key)),
				 value_int(val)};
	struct value v = {.type = V_OBJECT, .n = 2, .a = pairs};
	rec_write_control(tr->out, &v);
}

/* The cut before version `next`: every row written so far comes from an
 * earlier version, every row after it from `next` on.  The source is the
 * table as named on the command line (as weir-ingest -B names a file by its
 * path) with one partition, 0, whose position is the next version. */
static void barrier(struct table_reader *tr, int64_t next)
{
	const struct opts *o = tr->o;
	struct value part[2] = {value_str("0", 1), value_int(next)};
	struct value src[2] = {value_str(o->table, strlen(o->table)), {.type = V_OBJECT, .n = 1, .a = part}};
	struct value pairs[8] = {value_str("@weir", 5), value_str("barrier", 7), value_str("id", 2),
				 value_int(++tr->barrier_id), value_str("sources", 7), {.type = V_OBJECT, .n = 1, .a = src}};
	uint32_t n = 3;
	if (o->resume_from) {
		/* the newest barrier the sink has committed, so that stateful
		 * stages drop the snapshots no restart will ask for */
		resume_refresh(&tr->res);
		if (tr->res.committed > 0) {
			pairs[6] = value_str("committed", 9);
			pairs[7] = value_int(tr->res.committed);
			n = 4;
		}
	}
	struct value v = {.type = V_OBJECT, .n = n, .a = pairs};
	rec_write_control(tr->out, &v);
	tr->since_barrier = 0;
}

/* After a commit, or at a poll that found none: a barrier when the
 * interval is up.  The clock of a time interval starts at the first row
 * after a barrier, so an idle table writes no empty barriers. */
static void barrier_if_due(struct table_reader *tr, int64_t next)
{
	const struct opts *o = tr->o;
	if (tr->since_barrier &&
	    ((o->cp_rows && tr->since_barrier >= o->cp_rows) || (o->cp_us && mono_micros() >= tr->next_barrier_us)))
		barrier(tr, next);
}

/* A barrier for the rows since the last one, after the snapshot or
 * catch-up and at the end of a run, so that none waits for the interval or
 * stays uncommitted.  With --end-of-stream, when the log `ended` (not a
 * signal, not --follow), first a watermark at infinity, and the barrier
 * even without rows, so that stateful stages close every window into the
 * last commit. */
static void barrier_for_rest(struct table_reader *tr, int64_t next, bool ended)
{
	if (!tr->o->cp_rows && !tr->o->cp_us)
		return;
	if (tr->o->end_of_stream && ended) {
		write_control(tr, "watermark", "t", INT64_MAX);
		barrier(tr, next);
	} else if (tr->since_barrier) {
		barrier(tr, next);
	}
}

/* --resume-from: the last barrier of the app id the sink committed, and the
 * version of this table it recorded as the next to read, checked against
 * the log before anything is written.  Writes restore N (0 when there is
 * none yet: a fresh start) and returns that version, or -1 to start
 * afresh. */
static int64_t resume(struct table_reader *tr, int64_t latest)
{
	const struct opts *o = tr->o;
	char err[1024];
	if (!strncmp(o->resume_from, "kafka:", 6))
		die(EXIT_TROUBLE,
		    "cannot resume from '%s': a checkpoint topic holds the barriers of weir-ingest -P; weir-lake-cat "
		    "resumes from the Delta table its barriers are committed to",
		    o->resume_from);
	if (resume_load(&tr->res, o->resume_from, o->app_id, err, sizeof err) < 0)
		die(EXIT_TROUBLE, "cannot resume from '%s': %s", o->resume_from, err);
	long long id = (long long)tr->res.barrier;
	int64_t next = -1;
	if (tr->res.version >= 0) {
		int rc = resume_position(&tr->res, o->table, 0, &next);
		if (rc == 0) {
			/* a table named otherwise then ("./t" for "t"), or another
			 * pipeline's sink: what it read helps to tell */
			struct buf names = BUF_INIT;
			const struct value *src = &tr->res.sources;
			for (uint32_t i = 0; i < src->n; i++)
				buf_printf(&names, "%s'%.*s'", i ? ", " : "", (int)src->a[2 * i].n, src->a[2 * i].s);
			die(EXIT_TROUBLE, "cannot resume from '%s': barrier %lld has no version of table '%s' (its sources: %s)",
			    o->resume_from, id, o->table, names.len ? buf_cstr(&names) : "none");
		}
		if (rc < 0)
			die(EXIT_TROUBLE, "cannot resume from '%s': barrier %lld has a bad version for table '%s'", o->resume_from,
			    id, o->table);
		/* past the end: not the table the barrier was cut from */
		if (next > latest + 1 && latest < 0)
			die(EXIT_TROUBLE, "cannot resume from '%s': barrier %lld read '%s' up to version %lld, but '%s' is not a "
			    "Delta table", o->resume_from, id, o->table, (long long)next - 1, o->table);
		if (next > latest + 1)
			die(EXIT_TROUBLE, "cannot resume from '%s': barrier %lld read '%s' up to version %lld, past its latest "
			    "version %lld", o->resume_from, id, o->table, (long long)next - 1, (long long)latest);
		/* cleaned up behind a checkpoint, which keeps the files but not
		 * which commit added them */
		if (next <= latest) {
			struct arena a = {0};
			struct value *acts;
			size_t n;
			int gone = delta_read_commit(o->table, next, &a, &acts, &n, err, sizeof err);
			arena_free(&a);
			if (gone < 0)
				table_die(o->table, err);
			if (gone)
				die(EXIT_TROUBLE, "cannot resume from '%s': barrier %lld goes on at version %lld of '%s', which is "
				    "no longer in its log", o->resume_from, id, (long long)next, o->table);
		}
		verbose(1, "resuming from barrier %lld, committed in version %lld of '%s': '%s' from version %lld", id,
			(long long)tr->res.version, o->resume_from, o->table, (long long)next);
	} else if (tr->res.seen >= 0) {
		verbose(1, "no barrier of app id '%s' in '%s' yet: starting afresh", o->app_id, o->resume_from);
	}
	write_control(tr, "restore", "id", tr->res.barrier);
	tr->barrier_id = tr->res.barrier;
	return next;
}

/* The commits after *done up to version `to`, each followed by a barrier
 * when the interval is up; a signal stops it between two commits. */
static void emit_commits(struct table_reader *tr, struct delta_snapshot **snap, int64_t *done, int64_t to)
{
	for (int64_t v = *done + 1; v <= to && !table_stop; v++) {
		emit_commit(tr, snap, v);
		*done = v;
		barrier_if_due(tr, v + 1);
	}
	rec_flush(tr->out);
}

static int table_main(const struct opts *o)
{
	char err[1024];
	int64_t version = o->version;
	if (o->as_of) {
		int64_t us;
		bool zone;
		if (!parse_iso_timestamp(o->as_of, strlen(o->as_of), &us, &zone))
			die(EXIT_TROUBLE, "bad --as-of time '%s' (ISO-8601 expected)", o->as_of);
		version = delta_version_at(o->table, us / 1000, err, sizeof err);
		if (version < 0)
			die(EXIT_NEGATIVE, "%s", err);
	}
	int64_t latest = delta_latest_version(o->table, err, sizeof err);
	if (latest == -2)
		table_die(o->table, err);
	if (latest < 0 && !o->follow)
		die(EXIT_TROUBLE, "'%s' is not a Delta table (no " DELTA_LOG ")", o->table);
	if (o->history) {
		history(o, latest);
		return EXIT_OK;
	}
	struct table_reader tr = {.o = o};
	if (o->columns)
		tr.cols = split_list(o->columns, &tr.ncols);
	tr.out = rec_writer_open(1, rec_want_framed(o->framed));
	/* with barriers a snapshot read is a stream too: it ends with one, and
	 * resumed it is the commits since the version the sink recorded */
	bool streaming = o->follow || o->changes_since >= 0 || o->cp_rows || o->cp_us;
	if (streaming) {
		/* no SA_RESTART: the sleep between polls gives way */
		struct sigaction sa = {0};
		sa.sa_handler = table_on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	int64_t from = o->resume_from ? resume(&tr, latest) : -1;
	struct delta_snapshot *s = NULL;
	int64_t done = -1; /* the last version whose rows are out */
	if (from >= 0) {
		done = from - 1;
	} else if (latest >= 0 && (o->describe || o->changes_since < 0)) {
		s = delta_open(o->table, version, err, sizeof err);
		if (!s)
			table_die(o->table, err);
		if (o->describe) {
			describe(o, s);
			delta_snapshot_free(s);
			rec_writer_close(tr.out);
			return EXIT_OK;
		}
		emit_files(&tr, s, s->files, s->nfiles);
		done = s->version;
	} else if (o->changes_since >= 0) {
		done = o->changes_since;
		if (latest >= 0 && done > latest)
			die(EXIT_TROUBLE, "--changes-since %lld is past the latest version %lld", (long long)done,
			    (long long)latest);
	}
	if (streaming)
		emit_commits(&tr, &s, &done, latest);
	/* one barrier after the snapshot or the catch-up, which without
	 * --follow is the last */
	barrier_for_rest(&tr, done + 1, !o->follow && !table_stop);
	rec_flush(tr.out);
	while (o->follow && !table_stop) {
		/* a commit is one file that appears whole (link()), so a version
		 * that is listed is complete */
		int64_t now = delta_latest_version(o->table, err, sizeof err);
		if (now == -2)
			table_die(o->table, err);
		if (now > done) {
			emit_commits(&tr, &s, &done, now);
			continue;
		}
		barrier_if_due(&tr, done + 1);
		struct timespec ts = {o->interval_us / 1000000, (o->interval_us % 1000000) * 1000};
		nanosleep(&ts, NULL);
	}
	if (o->follow)
		barrier_for_rest(&tr, done + 1, false);
	if (tr.skipped)
		verbose(1, "%lld files skipped by partition pruning and statistics", (long long)tr.skipped);
	delta_snapshot_free(s);
	delta_pred_free(tr.pred);
	free_list(tr.cols);
	arena_free(&tr.arena);
	resume_free(&tr.res);
	rec_writer_close(tr.out);
	return EXIT_OK;
}

static enum pq_codec codec_by_name(const char *s)
{
	static const struct {
		const char *name;
		enum pq_codec c;
	} names[] = {{"zstd", PQ_ZSTD}, {"snappy", PQ_SNAPPY}, {"gzip", PQ_GZIP}, {"lz4_raw", PQ_LZ4_RAW},
		     {"lz4", PQ_LZ4_RAW}, {"brotli", PQ_BROTLI}, {"none", PQ_UNCOMPRESSED},
		     {"uncompressed", PQ_UNCOMPRESSED}};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].c;
	usage_error(help, "unknown codec '%s'", s);
}

static int write_parquet(const struct opts *o)
{
	char err[512];
	struct type *schema = schema_parse(o->schema_text, err, sizeof err);
	if (!schema)
		die(EXIT_TROUBLE, "bad schema: %s", err);
	struct pq_write_opts wo;
	pq_write_opts_default(&wo);
	if (o->codec)
		wo.codec = codec_by_name(o->codec);
	if (o->rg_size)
		wo.row_group_bytes = o->rg_size;
	if (o->page_size)
		wo.page_bytes = o->page_size;
	wo.no_dictionary = o->no_dict;
	wo.threads = 2;
	struct pq_writer *w = pq_writer_open(o->write_parquet, schema, &wo, err, sizeof err);
	if (!w)
		die(EXIT_TROUBLE, "cannot write '%s': %s", o->write_parquet, err);
	struct rec_reader *r = rec_reader_open(STDIN_FILENO, "stdin");
	struct record rec;
	enum rec_kind k;
	while ((k = rec_read(r, &rec)) != REC_EOF) {
		if (k == REC_CONTROL)
			continue; /* a file has no place for them */
		if (k == REC_BAD) {
			pq_writer_abort(w);
			die(EXIT_TROUBLE, "stdin: record %llu: %s", (unsigned long long)rec.pos, rec.err);
		}
		if (pq_write_row(w, &rec.v, err, sizeof err) < 0) {
			pq_writer_abort(w);
			die(EXIT_TROUBLE, "stdin: record %llu: %s", (unsigned long long)rec.pos, err);
		}
	}
	rec_reader_close(r);
	if (pq_writer_close(w, NULL, err, sizeof err) < 0)
		die(EXIT_TROUBLE, "cannot write '%s': %s", o->write_parquet, err);
	type_free(schema);
	return finish_stdout(EXIT_OK);
}

int main(int argc, char **argv)
{
	diag_init("weir-lake-cat");
	/* --schema is a flag when reading and takes the schema when writing */
	bool writing = false;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-w") || !strncmp(argv[i], "--write-parquet", 15) || !strncmp(argv[i], "--write", 7))
			writing = true;
	struct option longopts[] = {
		{"parquet", required_argument, NULL, 'p'},
		{"columns", required_argument, NULL, 'c'},
		{"row-groups", required_argument, NULL, OPT_ROW_GROUPS},
		{"schema", writing ? required_argument : no_argument, NULL, 's'},
		{"json", no_argument, NULL, OPT_JSON},
		{"meta", no_argument, NULL, OPT_META},
		{"framed", no_argument, NULL, OPT_FRAMED},
		{"write-parquet", required_argument, NULL, 'w'},
		{"codec", required_argument, NULL, OPT_CODEC},
		{"row-group-size", required_argument, NULL, OPT_RG_SIZE},
		{"page-size", required_argument, NULL, OPT_PAGE_SIZE},
		{"no-dictionary", no_argument, NULL, OPT_NO_DICT},
		{"at-version", required_argument, NULL, 'V'},
		{"as-of", required_argument, NULL, 'T'},
		{"where", required_argument, NULL, OPT_WHERE},
		{"describe", no_argument, NULL, OPT_DESCRIBE},
		{"history", no_argument, NULL, OPT_HISTORY},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"follow", no_argument, NULL, 'f'},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"changes-since", required_argument, NULL, OPT_CHANGES},
		{"checkpoint-interval", required_argument, NULL, OPT_CHECKPOINT},
		{"resume-from", required_argument, NULL, OPT_RESUME_FROM},
		{"app-id", required_argument, NULL, OPT_APP_ID},
		{"end-of-stream", no_argument, NULL, OPT_END_OF_STREAM},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	struct opts o = {.version = -1, .changes_since = -1, .interval_us = 100000};
	bool table_only = false;
	int c;
	while ((c = getopt_long(argc, argv, writing ? "p:c:s:w:V:T:fv" : "p:c:sw:V:T:fv", longopts, NULL)) != -1) {
		if (strchr("VTf", c) || c >= OPT_WHERE)
			table_only = true;
		switch (c) {
		case 'p': o.parquet = optarg; break;
		case 'c': o.columns = optarg; break;
		case OPT_ROW_GROUPS: o.row_groups = optarg; break;
		case 's':
			o.schema = true;
			o.schema_text = optarg;
			break;
		case OPT_JSON: o.json = true; break;
		case OPT_META: o.meta = true; break;
		case OPT_FRAMED: o.framed = true; break;
		case 'w': o.write_parquet = optarg; break;
		case OPT_CODEC: o.codec = optarg; break;
		case OPT_RG_SIZE: o.rg_size = parse_size(optarg, "row group size"); break;
		case OPT_PAGE_SIZE: o.page_size = parse_size(optarg, "page size"); break;
		case OPT_NO_DICT: o.no_dict = true; break;
		case 'V': o.version = parse_int(optarg, "--at-version", 0, INT64_MAX); break;
		case 'T': o.as_of = optarg; break;
		case OPT_WHERE: o.where = optarg; break;
		case OPT_DESCRIBE: o.describe = true; break;
		case OPT_HISTORY: o.history = true; break;
		case OPT_LIMIT: o.limit = parse_int(optarg, "--limit", 1, INT64_MAX); break;
		case 'f': o.follow = true; break;
		case OPT_INTERVAL: o.interval_us = parse_duration(optarg, "--interval"); break;
		case OPT_CHANGES: o.changes_since = parse_int(optarg, "--changes-since", 0, INT64_MAX); break;
		case OPT_CHECKPOINT: parse_checkpoint_interval(optarg, &o.cp_rows, &o.cp_us); break;
		case OPT_RESUME_FROM: o.resume_from = optarg; break;
		case OPT_APP_ID: o.app_id = optarg; break;
		case OPT_END_OF_STREAM: o.end_of_stream = true; break;
		case 'v': diag_verbose++; break;
		default: opt_common(c, help);
		}
	}
	if (!o.parquet && !o.write_parquet && optind < argc) {
		if (optind + 1 < argc)
			usage_error(help, "unexpected argument '%s'", argv[optind + 1]);
		if (o.schema || o.meta || o.json || o.row_groups || o.codec || o.rg_size || o.page_size || o.no_dict)
			usage_error(help, "Parquet options need --parquet or --write-parquet");
		if ((o.version >= 0) + (o.as_of != NULL) + (o.changes_since >= 0) > 1)
			usage_error(help, "give one of --at-version, --as-of and --changes-since");
		if (o.history + o.describe + (o.follow || o.changes_since >= 0) > 1 ||
		    ((o.history || o.describe) && (o.columns || o.where || o.framed)))
			usage_error(help, "--history and --describe print metadata, not rows");
		if (o.limit && !o.history)
			usage_error(help, "--limit goes with --history");
		if (o.follow && (o.version >= 0 || o.as_of))
			usage_error(help, "--follow starts at the latest version or at --changes-since");
		bool checkpoints = o.cp_rows || o.cp_us;
		if (checkpoints && (o.version >= 0 || o.as_of || o.history || o.describe))
			usage_error(help, "--checkpoint-interval reads the latest version, --changes-since or --follow");
		if (!o.resume_from != !o.app_id)
			usage_error(help, "--resume-from and --app-id go together");
		if (o.app_id && !*o.app_id)
			usage_error(help, "--app-id must not be empty");
		if (o.resume_from && !checkpoints)
			usage_error(help, "--resume-from needs --checkpoint-interval: only barriers are committed");
		if (o.end_of_stream && !checkpoints)
			usage_error(help, "--end-of-stream goes with --checkpoint-interval");
		if (o.end_of_stream && o.follow)
			usage_error(help, "--end-of-stream needs an end: not with --follow");
		o.table = argv[optind];
		return finish_stdout(table_main(&o));
	}
	if (optind < argc)
		usage_error(help, "unexpected argument '%s'", argv[optind]);
	if (table_only)
		usage_error(help, "table options need a TABLE");
	if (o.write_parquet) {
		if (o.parquet || o.columns || o.row_groups || o.meta || o.json)
			usage_error(help, "--write-parquet takes only --schema and writing options");
		if (!o.schema_text)
			usage_error(help, "--write-parquet needs --schema");
		return write_parquet(&o);
	}
	if (o.parquet) {
		if (o.codec || o.rg_size || o.page_size || o.no_dict)
			usage_error(help, "writing options need --write-parquet");
		if ((o.meta && o.schema) || ((o.meta || o.schema) && (o.columns || o.row_groups || o.framed)))
			usage_error(help, "--schema and --meta print the file's metadata, not rows");
		if (o.json && !o.schema)
			usage_error(help, "--json goes with --schema");
		return cat_parquet(&o);
	}
	usage_error(help, "nothing to read: give a TABLE or --parquet FILE");
}
