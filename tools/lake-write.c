/* weir-lake-write - append (or overwrite, or merge by key) a record stream
 * into a Delta Lake table: Parquet data files plus an atomic commit per
 * batch.
 *
 * A batch ends at a barrier (exactly-once with --app-id: the commit carries
 * txn{appId, version = barrier id} and a barrier already in the table is
 * skipped), or, without barriers, at --max-rows/--max-bytes/--max-interval
 * and at the end of input.  Data files are written under their final names
 * before the commit, so a kill -9 can leave orphan files but never a
 * visible partial batch.  Records that do not fit the table schema go to
 * --dlq or stop the write, per --on-error.  With --merge-on the batch is a
 * set of upserts and deletes by key (lib/deltamerge.c) instead of rows to
 * append. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delta.h"
#include "deltamerge.h"
#include "diag.h"
#include "json.h"
#include "opt.h"
#include "parquet.h"
#include "record.h"
#include "timeutil.h"

static const char help[] =
	"usage: weir-lake-write [-s SCHEMA] [-p COLS] [-m append|overwrite] [-w PRED] [--merge-schema]\n"
	"       [--dlq FILE] [--on-error dlq|drop|fail] [-a ID] [--max-rows N] [--max-bytes SIZE]\n"
	"       [--max-interval TIME] [--target-file-size SIZE] [--compression CODEC]\n"
	"       [--merge-on KEYS [--delete-when PRED] [--order-by COL] [--cdc debezium]] [-v] TABLE\n"
	"\n"
	"Write a record stream into a Delta Lake table, one atomic commit per batch.\n"
	"\n"
	"  -s, --schema SCHEMA      schema for a new table (DDL or Delta JSON; framed input brings its own)\n"
	"  -p, --partition-by COLS  partition a new table by these columns (comma-separated)\n"
	"  -m, --mode MODE          append (default) or overwrite (each commit replaces the table)\n"
	"  -w, --replace-where PRED with overwrite: replace only the partitions PRED selects\n"
	"      --merge-schema       add the columns and struct members the table lacks (nullable)\n"
	"                           instead of rejecting records\n"
	"      --dlq FILE           append records that do not fit the table to FILE as NDJSON\n"
	"      --on-error MODE      dlq (default with --dlq), drop, or fail (default without --dlq)\n"
	"  -a, --app-id ID          exactly-once: commit barrier N as txn{ID, N}; skip committed barriers\n"
	"      --max-rows N         without barriers: commit every N rows\n"
	"      --max-bytes SIZE     without barriers: commit every SIZE bytes of input\n"
	"      --max-interval TIME  without barriers: commit at most TIME after a batch's first row\n"
	"      --target-file-size SIZE  start a new data file past SIZE (default 128M)\n"
	"      --compression CODEC  zstd (default), snappy, gzip or none\n"
	"      --merge-on KEYS      merge each batch by these key columns: upsert rows, delete keys\n"
	"      --delete-when PRED   with --merge-on: records matching PRED delete their key\n"
	"      --order-by COL       with --merge-on: the last change per key by COL wins (default: arrival)\n"
	"      --cdc debezium       with --merge-on: read Debezium change events (op c/r/u/d)\n"
	"  -v, --verbose            report each commit on stderr\n"
	"      --help               show this help\n"
	"      --version            show the version\n";

enum on_error { ON_DLQ, ON_DROP, ON_FAIL };

struct options {
	const char *table;
	const char *schema;
	const char *partition_by;
	bool overwrite;
	const char *replace_where;
	bool merge_schema;
	const char *dlq;
	enum on_error on_error;
	bool on_error_set;
	const char *app_id;
	int64_t max_rows, max_bytes, max_interval_us;
	int64_t target_file_size;
	enum pq_codec codec;
	struct delta_merge_opts merge; /* merge.keys set: --merge-on */
};

/* One open data file per partition of the batch. */
struct pfile {
	char *dir;  /* partition directory, Hive-escaped ("" unpartitioned) */
	struct delta_map pv;
	struct pq_writer *w;
	char *name; /* relative path, unescaped */
};

struct writer {
	const struct options *o;
	struct delta_snapshot *snap;   /* NULL until the table exists */
	int64_t read_version;          /* last version we know (-1: no table) */
	struct delta_metadata meta;    /* the table's metadata as this batch writes it */
	struct delta_protocol protocol;
	bool meta_changed;             /* commit meta with the batch */
	bool protocol_changed;         /* commit protocol with the batch */
	bool creating;
	struct type *data_schema;      /* meta.schema without partition columns */
	struct delta_conformer conf;   /* records to meta.schema */
	long *part_idx;                /* schema index of each partition column */
	struct delta_pred *replace;
	struct pfile *open;
	size_t nopen;
	struct delta_file *adds;       /* closed files of the batch */
	size_t nadds;
	int64_t rows, bytes, batch_start_us, rejected;
	bool checkpointed;             /* a barrier or restore came: rows commit only at barriers */
	struct arena arena;
	struct buf path;
	FILE *dlq;
	struct rec_writer *out;
	const struct type *stream_schema; /* last framed schema reconciled */
	struct delta_merge *merge;     /* --merge-on: the batch's changes */
	int64_t tombstones;            /* --cdc: null values ignored */
};

static volatile sig_atomic_t stop_requested;
static int wake_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	int e = errno;
	ssize_t w = write(wake_pipe[1], "x", 1);
	(void)w;
	errno = e;
}

static const char *codec_ext(enum pq_codec c)
{
	switch (c) {
	case PQ_SNAPPY: return "snappy.";
	case PQ_GZIP: return "gz.";
	case PQ_ZSTD: return "zstd.";
	default: return "";
	}
}

/* ---- table state ---- */

static void set_schema(struct writer *w, struct type *schema)
{
	type_free(w->meta.schema);
	w->meta.schema = schema;
	struct buf b = BUF_INIT;
	schema_write_delta(&b, schema);
	free(w->meta.schema_string);
	w->meta.schema_string = buf_cstr(&b);
	delta_conformer_free(&w->conf);
	delta_conformer_init(&w->conf, schema);
	type_free(w->data_schema);
	w->data_schema = type_new(T_STRUCT);
	free(w->part_idx);
	w->part_idx = xcalloc(w->meta.npartition_columns + 1, sizeof *w->part_idx);
	for (size_t i = 0; i < w->meta.npartition_columns; i++)
		w->part_idx[i] = type_field_index(schema, w->meta.partition_columns[i]);
	for (size_t i = 0; i < schema->nfields; i++) {
		bool part = false;
		for (size_t k = 0; k < w->meta.npartition_columns; k++)
			part |= w->part_idx[k] == (long)i;
		if (!part) {
			struct field *f = type_add_field(w->data_schema, schema->fields[i].name,
							 type_clone(schema->fields[i].type), schema->fields[i].nullable);
			free(f->metadata);
			f->metadata = xstrdup(schema->fields[i].metadata);
		}
	}
}

static void split_columns(const char *s, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	char *copy = xstrdup(s), *save = NULL;
	for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		while (*c == ' ')
			c++;
		size_t len = strlen(c);
		while (len && c[len - 1] == ' ')
			c[--len] = 0;
		if (!len)
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		(*out)[(*n)++] = xstrdup(c);
	}
	free(copy);
}

/* Plan a new table from a schema. */
static void plan_create(struct writer *w, struct type *schema)
{
	const struct options *o = w->o;
	delta_metadata_free(&w->meta);
	char id[37];
	delta_uuid(id);
	w->meta.id = xstrdup(id);
	w->meta.provider = xstrdup("parquet");
	w->meta.created_time = now_micros() / 1000;
	if (o->partition_by)
		split_columns(o->partition_by, &w->meta.partition_columns, &w->meta.npartition_columns);
	for (size_t i = 0; i < w->meta.npartition_columns; i++) {
		long idx = type_field_index(schema, w->meta.partition_columns[i]);
		if (idx < 0)
			die(EXIT_TROUBLE, "partition column '%s' is not in the schema", w->meta.partition_columns[i]);
		enum tkind k = schema->fields[idx].type->kind;
		if (!tkind_is_primitive(k) || k == T_BINARY || k == T_VOID)
			die(EXIT_TROUBLE, "partition column '%s' has type %s, which cannot partition a table",
			    w->meta.partition_columns[i], tkind_name(k));
		/* the log's spelling of the name is the schema's */
		free(w->meta.partition_columns[i]);
		w->meta.partition_columns[i] = xstrdup(schema->fields[idx].name);
	}
	if (schema->nfields == w->meta.npartition_columns)
		die(EXIT_TROUBLE, "the schema needs at least one column that is not a partition column");
	set_schema(w, schema);
	delta_protocol_free(&w->protocol);
	delta_protocol_for(NULL, schema, &w->protocol);
	w->meta_changed = w->protocol_changed = true;
	w->creating = true;
}

/* Load (or reload) the table; false when it does not exist yet. */
static bool load_table(struct writer *w)
{
	char err[1024];
	int64_t latest = delta_latest_version(w->o->table, err, sizeof err);
	if (latest == -2)
		die(EXIT_TROUBLE, "%s", err);
	delta_snapshot_free(w->snap);
	w->snap = NULL;
	if (latest < 0)
		return false;
	w->snap = delta_open(w->o->table, DELTA_LATEST, err, sizeof err);
	if (!w->snap)
		die(EXIT_TROUBLE, "cannot read table '%s': %s", w->o->table, err);
	if (delta_check_write(w->snap, err, sizeof err))
		die(EXIT_TROUBLE, "cannot write table '%s': %s", w->o->table, err);
	w->read_version = w->snap->version;
	return true;
}

static void adopt_table(struct writer *w)
{
	const struct options *o = w->o;
	const struct delta_snapshot *s = w->snap;
	delta_metadata_free(&w->meta);
	delta_metadata_copy(&w->meta, &s->meta);
	delta_protocol_free(&w->protocol);
	delta_protocol_copy(&w->protocol, &s->protocol);
	w->creating = false;
	w->meta_changed = w->protocol_changed = false;
	set_schema(w, type_clone(s->meta.schema));
	if (o->partition_by) {
		char **cols;
		size_t n;
		split_columns(o->partition_by, &cols, &n);
		bool same = n == s->meta.npartition_columns;
		for (size_t i = 0; same && i < n; i++)
			same = !strcasecmp(cols[i], s->meta.partition_columns[i]);
		for (size_t i = 0; i < n; i++)
			free(cols[i]);
		free(cols);
		if (!same)
			die(EXIT_TROUBLE, "table '%s' is partitioned differently (--partition-by '%s')", o->table,
			    o->partition_by);
	}
	if (o->overwrite || o->merge.keys) {
		const struct delta_kv *ao = delta_map_get(&s->meta.configuration, "delta.appendOnly");
		if (ao && ao->val && !strcmp(ao->val, "true"))
			die(EXIT_TROUBLE, "table '%s' is append-only (delta.appendOnly): cannot %s", o->table,
			    o->overwrite ? "overwrite" : "merge");
	}
}

/* A new schema for the batch's commit, with the protocol it needs. */
static void evolve(struct writer *w, struct type *schema)
{
	set_schema(w, schema);
	w->meta_changed = true;
	struct delta_protocol np;
	if (delta_protocol_for(&w->protocol, schema, &np)) {
		delta_protocol_free(&w->protocol);
		w->protocol = np;
		w->protocol_changed = true;
	}
}

/* Bring a schema (from --schema or a framed stream) into the table's:
 * equal, or with --merge-schema new nullable columns and struct members
 * (at any depth; type_merge). */
static void reconcile_schema(struct writer *w, const struct type *in, const char *what)
{
	struct type *merged = NULL;
	for (size_t i = 0; i < in->nfields; i++) {
		const struct field *f = &in->fields[i];
		long idx = type_field_index(w->meta.schema, f->name);
		if (idx >= 0) {
			const struct field *tf = &w->meta.schema->fields[idx];
			if (type_equal(tf->type, f->type))
				continue;
			/* a copy to merge into, also without --merge-schema: the error
			 * then says which member differs */
			struct type *t = type_clone(tf->type);
			size_t added = 0;
			char err[512];
			if (!type_merge(t, f->type, true, &added, f->name, err, sizeof err))
				die(EXIT_TROUBLE, "%s: %s", what, err);
			if (added && !w->o->merge_schema)
				die(EXIT_TROUBLE, "%s: column '%s' has struct members that table '%s' lacks (use --merge-schema to "
				    "add them)", what, f->name, w->o->table);
			if (!added) {
				/* members the table has and the stream lacks are written as null */
				type_free(t);
				continue;
			}
			if (!merged)
				merged = type_clone(w->meta.schema);
			type_free(merged->fields[idx].type);
			merged->fields[idx].type = t;
			continue;
		}
		if (!w->o->merge_schema)
			die(EXIT_TROUBLE, "%s: column '%s' is not in table '%s' (use --merge-schema to add it)", what,
			    f->name, w->o->table);
		if (!merged)
			merged = type_clone(w->meta.schema);
		type_add_field(merged, f->name, type_clone(f->type), true);
	}
	if (merged)
		evolve(w, merged);
}

/* ---- files ---- */

static void discard_batch(struct writer *w);

static void close_pfile(struct writer *w, struct pfile *p)
{
	char err[1024];
	struct pq_file_stats st = {0};
	if (pq_writer_close(p->w, &st, err, sizeof err)) {
		/* a full disk: nothing of this batch may stay behind */
		p->w = NULL;
		buf_reset(&w->path);
		buf_printf(&w->path, "%s/%s", w->o->table, p->name);
		char *failed = buf_cstr(&w->path);
		unlink(failed);
		failed = xstrdup(failed);
		discard_batch(w);
		die(EXIT_TROUBLE, "cannot write data file '%s': %s", failed, err);
	}
	p->w = NULL;
	w->adds = xrealloc(w->adds, (w->nadds + 1) * sizeof *w->adds);
	struct delta_file *f = &w->adds[w->nadds++];
	memset(f, 0, sizeof *f);
	struct buf b = BUF_INIT;
	delta_uri_escape(&b, p->name);
	f->path = buf_cstr(&b);
	delta_map_copy(&f->partition_values, &p->pv);
	f->size = st.file_bytes;
	f->time = now_micros() / 1000;
	f->data_change = true;
	struct buf sj = BUF_INIT;
	delta_stats_json(&sj, &st, w->data_schema);
	f->stats = buf_cstr(&sj);
	pq_file_stats_free(&st);
}

static void free_pfile(struct pfile *p)
{
	free(p->dir);
	free(p->name);
	delta_map_free(&p->pv);
}

static void close_all(struct writer *w)
{
	for (size_t i = 0; i < w->nopen; i++) {
		close_pfile(w, &w->open[i]);
		free_pfile(&w->open[i]);
	}
	w->nopen = 0;
}

static void unlink_added(struct writer *w, struct delta_file *f)
{
	struct buf p = BUF_INIT;
	char err[256];
	if (delta_file_path(w->o->table, f->path, &p, err, sizeof err))
		unlink(buf_cstr(&p));
	buf_free(&p);
}

/* Drop the batch: its files were never committed. */
static void discard_batch(struct writer *w)
{
	for (size_t i = 0; i < w->nopen; i++) {
		if (w->open[i].w)
			pq_writer_abort(w->open[i].w);
		free_pfile(&w->open[i]);
	}
	w->nopen = 0;
	for (size_t i = 0; i < w->nadds; i++) {
		unlink_added(w, &w->adds[i]);
		delta_file_free(&w->adds[i]);
	}
	w->nadds = 0;
	w->rows = w->bytes = 0;
	if (w->merge)
		delta_merge_reset(w->merge);
}

static void mkdirs(const char *path)
{
	char *p = xstrdup(path);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		mkdir(p, 0777);
		*s = '/';
	}
	free(p);
}

static struct pfile *file_for(struct writer *w, const char *dir, const struct delta_map *pv)
{
	for (size_t i = 0; i < w->nopen; i++)
		if (!strcmp(w->open[i].dir, dir))
			return &w->open[i];
	w->open = xrealloc(w->open, (w->nopen + 1) * sizeof *w->open);
	struct pfile *p = &w->open[w->nopen++];
	memset(p, 0, sizeof *p);
	p->dir = xstrdup(dir);
	delta_map_copy(&p->pv, pv);
	char id[37];
	delta_uuid(id);
	struct buf name = BUF_INIT;
	buf_printf(&name, "%s%spart-00000-%s-c000.%sparquet", dir, *dir ? "/" : "", id, codec_ext(w->o->codec));
	p->name = buf_cstr(&name);
	buf_reset(&w->path);
	buf_printf(&w->path, "%s/%s", w->o->table, p->name);
	mkdirs(buf_cstr(&w->path));
	struct pq_write_opts po;
	pq_write_opts_default(&po);
	po.codec = w->o->codec;
	po.threads = 2;
	char err[1024];
	p->w = pq_writer_open(buf_cstr(&w->path), w->data_schema, &po, err, sizeof err);
	if (!p->w)
		die(EXIT_TROUBLE, "cannot create data file '%s': %s", buf_cstr(&w->path), err);
	return p;
}

/* ---- records ---- */

static void reject(struct writer *w, const struct record *rec, const char *reason)
{
	w->rejected++;
	if (w->o->on_error == ON_FAIL)
		die(EXIT_TROUBLE, "record %llu: %s", (unsigned long long)rec->pos, reason);
	if (w->o->on_error == ON_DROP)
		return;
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"error\":");
	json_write_string(&b, reason, strlen(reason));
	buf_printf(&b, ",\"source\":\"stdin\",\"pos\":%llu,", (unsigned long long)rec->pos);
	if (rec->raw && rec->raw[0] == '{') {
		buf_puts(&b, "\"raw\":");
		json_write_string(&b, rec->raw, rec->rawlen);
	} else {
		buf_puts(&b, "\"record\":");
		json_write(&b, &rec->v);
	}
	buf_puts(&b, "}\n");
	if (fwrite(b.p, 1, b.len, w->dlq) != b.len || fflush(w->dlq))
		die_errno(EXIT_TROUBLE, "cannot write to '%s'", w->o->dlq);
	buf_free(&b);
}

static size_t merge_value(struct type *t, const struct value *v);

/* Whether an NDJSON value says what type a new column or member would
 * have: not a null, nor an object whose members all say nothing (a struct
 * without members, which Parquet cannot store). */
static bool says_type(const struct value *v)
{
	if (v->type == V_NULL)
		return false;
	if (v->type != V_OBJECT)
		return true;
	for (uint32_t i = 0; i < v->n; i++)
		if (says_type(&v->a[2 * i + 1]))
			return true;
	return false;
}

/* The type of a new column or member (NDJSON with --merge-schema) for a
 * value that says_type. */
static struct type *infer_type(const struct value *v)
{
	switch (v->type) {
	case V_BOOL: return type_new(T_BOOLEAN);
	case V_INT: return type_new(T_LONG);
	case V_FLOAT: case V_DECIMAL: return type_new(T_DOUBLE);
	case V_DATE: return type_new(T_DATE);
	case V_TIMESTAMP: return type_new(T_TIMESTAMP);
	case V_TIMESTAMP_NTZ: return type_new(T_TIMESTAMP_NTZ);
	case V_BINARY: return type_new(T_BINARY);
	case V_OBJECT: {
		struct type *t = type_new(T_STRUCT);
		for (uint32_t i = 0; i < v->n; i++) {
			const struct value *k = &v->a[2 * i], *x = &v->a[2 * i + 1];
			if (!says_type(x) || value_shadowed(v, i) || type_field_index_n(t, k->s, k->n) >= 0)
				continue;
			char *name = xstrndup(k->s, k->n);
			type_add_field(t, name, infer_type(x), true);
			free(name);
		}
		return t;
	}
	case V_ARRAY: {
		/* the first element's type, with the members of objects after it */
		struct type *t = type_new(T_ARRAY);
		t->contains_null = true;
		for (uint32_t i = 0; i < v->n; i++) {
			if (!says_type(&v->a[i]))
				continue;
			if (!t->elem)
				t->elem = infer_type(&v->a[i]);
			else
				merge_value(t->elem, &v->a[i]);
		}
		if (!t->elem)
			t->elem = type_new(T_STRING);
		return t;
	}
	default: return type_new(T_STRING);
	}
}

/* The field of struct type t that an object member's key names, ignoring
 * case as Delta does; NULL when none. */
static struct field *member_field(const struct type *t, const struct value *k)
{
	long f = type_field_index_n(t, k->s, k->n);
	return f < 0 ? NULL : &t->fields[f];
}

/* The members of an NDJSON value that its type lacks, at any depth
 * (struct members, array elements, map values), added to t as nullable
 * and typed by infer_type; how many.  A member whose type differs from
 * its field's is left to the cast, which refuses the record. */
static size_t merge_value(struct type *t, const struct value *v)
{
	size_t added = 0;
	if (t->kind == T_STRUCT && v->type == V_OBJECT) {
		for (uint32_t i = 0; i < v->n; i++) {
			const struct value *k = &v->a[2 * i], *x = &v->a[2 * i + 1];
			if (value_shadowed(v, i))
				continue;
			struct field *f = member_field(t, k);
			if (f) {
				added += merge_value(f->type, x);
				continue;
			}
			if (!says_type(x))
				continue;
			char *name = xstrndup(k->s, k->n);
			type_add_field(t, name, infer_type(x), true);
			free(name);
			added++;
		}
	} else if (t->kind == T_ARRAY && v->type == V_ARRAY) {
		for (uint32_t i = 0; i < v->n; i++)
			added += merge_value(t->elem, &v->a[i]);
	} else if (t->kind == T_MAP && v->type == V_OBJECT) {
		for (uint32_t i = 0; i < v->n; i++)
			added += merge_value(t->val, &v->a[2 * i + 1]);
	}
	return added;
}

/* With --merge-schema, for a record that does not fit the table: the
 * schema with its new members as nullable columns, and the new members of
 * its objects as nullable members of their struct columns (merge_value);
 * NULL when it has none.  Records that fit are not looked at. */
static struct type *grown_schema(const struct writer *w, const struct value *v)
{
	struct type *grown = type_clone(w->meta.schema);
	if (!merge_value(grown, v)) {
		type_free(grown);
		return NULL;
	}
	return grown;
}

/* The grown schema becomes the table's once a record is in on it. */
static void grow(struct writer *w, struct type *grown)
{
	/* files already open have the old columns: finish them first */
	close_all(w);
	evolve(w, grown);
}

static void ensure_table(struct writer *w, const struct rec_reader *r)
{
	if (w->meta.schema)
		return;
	const struct type *fs = rec_reader_schema(r);
	if (w->snap) {
		adopt_table(w);
	} else {
		struct type *schema = NULL;
		char err[512];
		if (w->o->schema) {
			schema = schema_parse(w->o->schema, err, sizeof err);
			if (!schema)
				die(EXIT_TROUBLE, "bad --schema: %s", err);
		} else if (fs) {
			schema = type_clone(fs);
		} else {
			die(EXIT_TROUBLE, "table '%s' does not exist: give --schema or a typed (framed) stream to create it",
			    w->o->table);
		}
		plan_create(w, schema);
	}
	if (w->o->schema && w->snap) {
		char err[512];
		struct type *given = schema_parse(w->o->schema, err, sizeof err);
		if (!given)
			die(EXIT_TROUBLE, "bad --schema: %s", err);
		reconcile_schema(w, given, "--schema");
		type_free(given);
	}
	if (w->o->replace_where) {
		char err[512];
		w->replace = delta_pred_parse(w->o->replace_where, err, sizeof err);
		if (!w->replace)
			die(EXIT_TROUBLE, "bad --replace-where: %s", err);
		if (!delta_pred_bind(w->replace, &w->meta, true, err, sizeof err))
			die(EXIT_TROUBLE, "bad --replace-where: %s (only partition columns can be used)", err);
	}
	if (w->merge) {
		char err[512];
		if (!delta_merge_bind(w->merge, w->meta.schema, err, sizeof err))
			die(EXIT_TROUBLE, "bad --merge-on: %s", err);
	}
}

/* Write a row that fits the table schema into its partition's open file. */
static int put_row(struct writer *w, const struct value *row, char *err, size_t errlen)
{
	if (!w->meta.npartition_columns) {
		/* one file for the batch, and the row is its data as it is */
		static const struct delta_map none;
		struct pfile *p = w->nopen ? &w->open[0] : file_for(w, "", &none);
		if (pq_write_row(p->w, row, err, errlen))
			return -1;
		if (pq_writer_reached(p->w, w->o->target_file_size)) {
			close_pfile(w, p);
			free_pfile(p);
			w->nopen = 0;
		}
		return 0;
	}
	/* partition directory and values */
	struct buf dir = BUF_INIT;
	struct delta_map pv = {0};
	for (size_t i = 0; i < w->meta.npartition_columns; i++) {
		const struct value *v = &row->a[2 * w->part_idx[i] + 1];
		char *s = delta_partition_string(v);
		const char *name = w->meta.partition_columns[i];
		if (i)
			buf_putc(&dir, '/');
		delta_hive_escape(&dir, name);
		buf_putc(&dir, '=');
		delta_hive_escape(&dir, s);
		delta_map_set(&pv, name, s);
		free(s);
	}
	struct value data = {.type = V_OBJECT, .n = 0};
	data.a = arena_alloc(&w->arena, (row->n ? row->n : 1) * 2 * sizeof *data.a);
	for (uint32_t i = 0; i < row->n; i++) {
		bool part = false;
		for (size_t k = 0; k < w->meta.npartition_columns; k++)
			part |= w->part_idx[k] == (long)i;
		if (!part) {
			data.a[2 * data.n] = row->a[2 * i];
			data.a[2 * data.n + 1] = row->a[2 * i + 1];
			data.n++;
		}
	}
	struct pfile *p = file_for(w, dir.p ? buf_cstr(&dir) : "", &pv);
	buf_free(&dir);
	delta_map_free(&pv);
	if (pq_write_row(p->w, &data, err, errlen))
		return -1;
	if (pq_writer_reached(p->w, w->o->target_file_size)) {
		close_pfile(w, p);
		free_pfile(p);
		*p = w->open[--w->nopen];
	}
	return 0;
}

/* A row of a merge: rows kept from rewritten files and the upserts. */
static int emit_row(void *ctx, const struct value *row, char *err, size_t errlen)
{
	struct writer *w = ctx;
	arena_reset(&w->arena);
	return put_row(w, row, err, errlen);
}

static void write_record(struct writer *w, const struct rec_reader *r, const struct record *rec)
{
	ensure_table(w, r);
	const struct type *fs = rec_reader_schema(r);
	if (fs && fs != w->stream_schema) {
		w->stream_schema = fs;
		struct type *before = type_clone(w->meta.schema);
		reconcile_schema(w, fs, "stream schema");
		if (!type_equal(before, w->meta.schema)) {
			/* the open files have the old columns; evolve after them */
			struct type *now = type_clone(w->meta.schema);
			set_schema(w, before);
			close_all(w);
			set_schema(w, now);
		} else {
			type_free(before);
		}
	}
	arena_reset(&w->arena);
	char err[512];
	const struct value *in = &rec->v;
	struct merge_change ch;
	if (w->merge) {
		int kind = delta_merge_decode(w->merge, in, &w->arena, &ch, err, sizeof err);
		if (kind == MERGE_TOMBSTONE) {
			w->tombstones++;
			return;
		}
		if (kind == MERGE_REJECT) {
			reject(w, rec, err);
			return;
		}
		in = &ch.row;
	}
	/* --merge-schema: a record that does not fit may have new columns or
	 * members; it is tried again on the schema with them, which becomes
	 * the table's only if the record goes in: a record refused must not
	 * leave columns behind */
	bool may_grow = w->o->merge_schema && in->type == V_OBJECT && (!w->merge || ch.kind == MERGE_UPSERT);
	struct type *grown = NULL;
	if (!w->rows)
		w->batch_start_us = mono_micros();
	if (w->merge) {
		/* fails without side effects, so it can be tried again */
		int rc = delta_merge_add(w->merge, w->meta.schema, &ch, err, sizeof err);
		if (rc && may_grow && (grown = grown_schema(w, in)))
			rc = delta_merge_add(w->merge, grown, &ch, err, sizeof err);
		if (rc) {
			type_free(grown);
			reject(w, rec, err);
			return;
		}
		if (grown)
			grow(w, grown);
		w->rows++;
		w->bytes += (int64_t)rec->rawlen;
		return;
	}
	struct value row;
	buf_reset(&w->path);
	bool fits = delta_conform_record(&w->conf, &w->arena, in, rec->layout, &row, &w->path, err, sizeof err);
	if (!fits && may_grow && (grown = grown_schema(w, in))) {
		buf_reset(&w->path);
		fits = delta_conform(&w->arena, grown, false, in, &row, &w->path, err, sizeof err);
	}
	if (fits && w->replace && !delta_pred_eval_row(w->replace, &row)) {
		fits = false;
		snprintf(err, sizeof err, "%s", "record does not match --replace-where");
	}
	if (!fits) {
		type_free(grown);
		reject(w, rec, err);
		return;
	}
	if (grown)
		grow(w, grown);
	if (put_row(w, &row, err, sizeof err)) {
		reject(w, rec, err);
		return;
	}
	w->rows++;
	w->bytes += (int64_t)rec->rawlen;
}

/* ---- commits ---- */

/* Remember our own txn so a repeated barrier is skipped without a reload. */
static void set_txn(struct delta_snapshot *s, const char *app_id, int64_t version)
{
	for (size_t i = 0; i < s->ntxns; i++)
		if (!strcmp(s->txns[i].app_id, app_id)) {
			s->txns[i].version = version;
			return;
		}
	s->txns = xrealloc(s->txns, (s->ntxns + 1) * sizeof *s->txns);
	s->txns[s->ntxns++] = (struct delta_txn){xstrdup(app_id), version, -1};
}


static bool read_partition(void *ctx, const struct delta_map *pv)
{
	struct writer *w = ctx;
	struct delta_file f = {0};
	f.partition_values = *pv;
	return delta_pred_may_match(w->replace, &w->meta, &f);
}

static char *partition_by_json(const struct delta_metadata *m)
{
	struct buf inner = BUF_INIT, b = BUF_INIT;
	buf_putc(&inner, '[');
	for (size_t i = 0; i < m->npartition_columns; i++) {
		if (i)
			buf_putc(&inner, ',');
		json_write_string(&inner, m->partition_columns[i], strlen(m->partition_columns[i]));
	}
	buf_putc(&inner, ']');
	json_write_string(&b, inner.p, inner.len);
	buf_free(&inner);
	return buf_cstr(&b);
}

/* Commit the batch; barrier may be NULL.  Returns false when a barrier's
 * batch was already in the table (and so dropped). */
static bool commit_batch(struct writer *w, const struct value *barrier)
{
	const struct options *o = w->o;
	int64_t barrier_id = -1;
	const struct value *sources = NULL;
	if (barrier) {
		const struct value *id = value_getz(barrier, "id");
		if (id && id->type == V_INT)
			barrier_id = id->i;
		sources = value_getz(barrier, "sources");
	}
	bool with_txn = o->app_id && barrier_id >= 0;
	if (!w->meta.schema) {
		if (!w->rows && !with_txn)
			return true; /* nothing to say */
		if (!w->snap && !o->schema)
			return true; /* no table and nothing to create it from: an empty batch */
	}
	close_all(w);
	char err[1024];
	for (int replan = 0;; replan++) {
		if (with_txn && w->snap && delta_txn_version(w->snap, o->app_id) >= barrier_id) {
			verbose(1, "barrier %lld already committed for app id '%s': skipped", (long long)barrier_id, o->app_id);
			discard_batch(w);
			return false;
		}
		/* an overwrite replaces what is there now; a merge rewrites the
		 * files that hold its keys */
		struct delta_file *removes = NULL;
		size_t nremoves = 0;
		if (w->merge) {
			if (delta_merge_apply(w->merge, w->snap, emit_row, w, &removes, &nremoves, err, sizeof err)) {
				discard_batch(w);
				die(EXIT_TROUBLE, "cannot merge into '%s': %s", o->table, err);
			}
			close_all(w);
		}
		if (o->overwrite && w->snap) {
			removes = xcalloc(w->snap->nfiles + 1, sizeof *removes);
			for (size_t i = 0; i < w->snap->nfiles; i++) {
				const struct delta_file *f = &w->snap->files[i];
				if (w->replace && !delta_pred_all_match(w->replace, &w->meta, f))
					continue;
				delta_file_copy(&removes[nremoves], f);
				removes[nremoves++].data_change = true;
			}
		}
		struct delta_txn txn = {(char *)o->app_id, barrier_id, -1};
		int64_t out_bytes = 0;
		for (size_t i = 0; i < w->nadds; i++)
			out_bytes += w->adds[i].size;
		char *pby = partition_by_json(&w->meta);
		struct buf params = BUF_INIT, metrics = BUF_INIT, extra = BUF_INIT;
		buf_printf(&params, "{\"mode\":\"%s\",\"partitionBy\":%s", o->overwrite ? "Overwrite" : "Append", pby);
		if (o->replace_where) {
			buf_puts(&params, ",\"predicate\":");
			json_write_string(&params, o->replace_where, strlen(o->replace_where));
		}
		buf_putc(&params, '}');
		free(pby);
		buf_printf(&metrics, "{\"numFiles\":\"%zu\",\"numOutputRows\":\"%lld\",\"numOutputBytes\":\"%lld\"", w->nadds,
			   (long long)w->rows, (long long)out_bytes);
		if (o->overwrite)
			buf_printf(&metrics, ",\"numRemovedFiles\":\"%zu\"", nremoves);
		buf_putc(&metrics, '}');
		if (w->merge) {
			buf_reset(&params);
			buf_reset(&metrics);
			delta_merge_commit_info(w->merge, w->nadds, &params, &metrics);
		}
		if (o->app_id || barrier) {
			buf_puts(&extra, "\"weir\":{");
			if (o->app_id) {
				buf_puts(&extra, "\"appId\":");
				json_write_string(&extra, o->app_id, strlen(o->app_id));
				buf_putc(&extra, ',');
			}
			buf_printf(&extra, "\"barrier\":%lld,\"sources\":", (long long)barrier_id);
			if (sources)
				json_write(&extra, sources);
			else
				buf_puts(&extra, "{}");
			buf_putc(&extra, '}');
		}
		struct delta_commit c = {
			.read_version = w->creating ? -1 : w->read_version,
			.protocol = w->protocol_changed ? &w->protocol : NULL,
			.meta = w->meta_changed ? &w->meta : NULL,
			.txn = with_txn ? &txn : NULL,
			.adds = w->adds,
			.nadds = w->nadds,
			.removes = removes,
			.nremoves = nremoves,
			.operation = w->merge ? "MERGE" : with_txn ? "STREAMING UPDATE" : "WRITE",
			.operation_parameters = buf_cstr(&params),
			.operation_metrics = buf_cstr(&metrics),
			.commit_info_extra = extra.len ? buf_cstr(&extra) : NULL,
			.read_whole_table = o->overwrite && !w->replace,
			.read_partition = o->overwrite && w->replace ? read_partition : NULL,
			.read_file = w->merge ? delta_merge_read_file : NULL,
			.read_ctx = w->merge ? (void *)w->merge : w,
		};
		int64_t version = -1;
		int rc = delta_commit(o->table, &c, &version, err, sizeof err);
		for (size_t i = 0; i < nremoves; i++)
			delta_file_free(&removes[i]);
		free(removes);
		buf_free(&params);
		buf_free(&metrics);
		buf_free(&extra);
		if (rc == DELTA_OK) {
			if (w->merge) {
				const struct merge_stats *st = delta_merge_stats(w->merge);
				verbose(1, "committed version %lld: merged %lld changes: %lld inserted, %lld updated, %lld deleted; "
					   "%lld of %lld files read, %lld rewritten, %zu written",
					(long long)version, (long long)st->source_rows, (long long)st->inserted,
					(long long)st->updated, (long long)st->deleted, (long long)st->files_read,
					(long long)st->files_before, (long long)st->files_removed, w->nadds);
				delta_merge_reset(w->merge);
			} else {
				verbose(1, "committed version %lld: %zu files, %lld rows", (long long)version, w->nadds,
					(long long)w->rows);
			}
			w->read_version = version;
			w->creating = false;
			w->meta_changed = w->protocol_changed = false;
			for (size_t i = 0; i < w->nadds; i++)
				delta_file_free(&w->adds[i]);
			w->nadds = 0;
			w->rows = w->bytes = 0;
			if (o->overwrite || w->merge || !w->snap)
				load_table(w); /* the next overwrite or merge must see these files */
			else if (with_txn)
				set_txn(w->snap, o->app_id, barrier_id);
			w->read_version = version;
			if (version > 0 && version % delta_checkpoint_interval(&w->meta) == 0 &&
			    delta_checkpoint(o->table, version, err, sizeof err))
				warnx("checkpoint at version %lld failed (the commit stands): %s", (long long)version, err);
			return true;
		}
		if (rc == DELTA_ERROR) {
			if (version >= 0)
				die(EXIT_TROUBLE, "version %lld committed but not synced: %s", (long long)version, err);
			discard_batch(w);
			die(EXIT_TROUBLE, "commit to '%s' failed: %s", o->table, err);
		}
		/* A conflict: look at the table as it is now and decide again.
		 * Appends survive a concurrent creation or schema change as long
		 * as the files we wrote still fit; everything else is a conflict. */
		if (replan >= 20 || o->overwrite || w->merge) {
			discard_batch(w);
			die(EXIT_NEGATIVE, "commit conflict on '%s': %s", o->table, err);
		}
		struct type *ours = type_clone(w->meta.schema);
		bool had_changes = w->meta_changed && !w->creating;
		char **pcols = w->meta.partition_columns;
		size_t npcols = w->meta.npartition_columns;
		w->meta.partition_columns = NULL;
		w->meta.npartition_columns = 0;
		load_table(w);
		adopt_table(w);
		bool same_parts = npcols == w->meta.npartition_columns;
		for (size_t i = 0; same_parts && i < npcols; i++)
			same_parts = !strcasecmp(pcols[i], w->meta.partition_columns[i]);
		for (size_t i = 0; i < npcols; i++)
			free(pcols[i]);
		free(pcols);
		if (!same_parts) {
			type_free(ours);
			discard_batch(w);
			die(EXIT_NEGATIVE, "commit conflict on '%s': the table is now partitioned differently", o->table);
		}
		/* our columns and struct members must all be there with the
		 * same types; those the table lacks now are added again */
		struct type *merged = type_clone(w->meta.schema);
		size_t added = 0;
		char terr[512];
		bool fits = type_merge(merged, ours, true, &added, "", terr, sizeof terr);
		type_free(ours);
		if (!fits) {
			type_free(merged);
			discard_batch(w);
			die(EXIT_NEGATIVE, "commit conflict on '%s': changed concurrently: %s", o->table, terr);
		}
		if (added) {
			evolve(w, merged);
		} else {
			type_free(merged);
			if (had_changes)
				w->meta_changed = true;
		}
		verbose(1, "lost a race (%s): retrying on version %lld", err, (long long)w->read_version);
	}
}

static bool batch_full(const struct writer *w)
{
	const struct options *o = w->o;
	if (o->app_id || o->overwrite || !w->rows)
		return false;
	return (o->max_rows && w->rows >= o->max_rows) || (o->max_bytes && w->bytes >= o->max_bytes) ||
	       (o->max_interval_us && mono_micros() - w->batch_start_us >= o->max_interval_us);
}

/* Wait for input or a signal; false when stopping.  With --max-interval a
 * quiet stream still commits on time. */
static bool wait_input(struct writer *w, struct rec_reader *r)
{
	for (;;) {
		if (stop_requested)
			return false;
		if (rec_reader_buffered(r))
			return true;
		int timeout = -1;
		if (w->o->max_interval_us && w->rows && !w->o->app_id && !w->o->overwrite) {
			int64_t left = w->batch_start_us + w->o->max_interval_us - mono_micros();
			if (left <= 0) {
				commit_batch(w, NULL);
				continue;
			}
			timeout = (int)((left + 999) / 1000);
		}
		struct pollfd pf[2] = {{rec_reader_fd(r), POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
		int n = poll(pf, 2, timeout);
		if (n < 0 && errno != EINTR)
			die_errno(EXIT_TROUBLE, "poll");
		if (n > 0 && pf[0].revents)
			return true;
	}
}

static void run(struct writer *w)
{
	struct rec_reader *r = rec_reader_open(0, "stdin");
	struct record rec;
	load_table(w);
	w->read_version = w->snap ? w->snap->version : -1;
	if (w->snap)
		ensure_table(w, r); /* options that do not fit the table fail before any input */
	for (;;) {
		if (!wait_input(w, r))
			break;
		enum rec_kind k = rec_read(r, &rec);
		if (k == REC_EOF)
			break;
		if (k == REC_BAD) {
			reject(w, &rec, rec.err);
			continue;
		}
		if (k == REC_CONTROL) {
			if (!strcmp(rec.control, "restore"))
				w->checkpointed = true;
			if (!strcmp(rec.control, "barrier")) {
				w->checkpointed = true;
				if (!w->meta.schema && (w->snap || w->o->schema || rec_reader_schema(r)))
					ensure_table(w, r);
				commit_batch(w, &rec.v);
			}
			rec_forward(w->out, &rec);
			continue;
		}
		write_record(w, r, &rec);
		if (batch_full(w))
			commit_batch(w, NULL);
	}
	/* End of input or a stop signal.  With --app-id, rows after the last
	 * barrier (or after a restore, when no barrier followed) belong to a
	 * barrier that never came: the source replays them after a restart, so
	 * committing them would duplicate. */
	if (w->o->app_id && w->checkpointed) {
		if (w->rows)
			warnx("%lld rows after the last barrier not committed (the source replays them)", (long long)w->rows);
		discard_batch(w);
	} else if (w->rows || w->nadds) {
		commit_batch(w, NULL);
	} else if (!w->snap && !w->meta.schema && w->o->schema && !stop_requested) {
		/* an empty stream still creates the table it was asked for */
		ensure_table(w, r);
		w->meta_changed = true;
		commit_batch(w, NULL);
	}
	if (w->tombstones)
		verbose(1, "%lld tombstones (null values) ignored", (long long)w->tombstones);
	if (w->rejected)
		warnx("%lld record%s rejected%s", (long long)w->rejected, w->rejected == 1 ? "" : "s",
		      w->o->on_error == ON_DLQ ? " (written to the dead-letter file)" : "");
	rec_reader_close(r);
}

int main(int argc, char **argv)
{
	diag_init("weir-lake-write");
	enum { O_MERGE = OPT_TOOL_FIRST, O_DLQ, O_ON_ERROR, O_MAX_ROWS, O_MAX_BYTES, O_MAX_INTERVAL, O_TARGET, O_CODEC,
	       O_MERGE_ON, O_DELETE_WHEN, O_ORDER_BY, O_CDC };
	static const struct option longopts[] = {
		{"schema", required_argument, 0, 's'},
		{"partition-by", required_argument, 0, 'p'},
		{"mode", required_argument, 0, 'm'},
		{"replace-where", required_argument, 0, 'w'},
		{"merge-schema", no_argument, 0, O_MERGE},
		{"dlq", required_argument, 0, O_DLQ},
		{"on-error", required_argument, 0, O_ON_ERROR},
		{"app-id", required_argument, 0, 'a'},
		{"max-rows", required_argument, 0, O_MAX_ROWS},
		{"max-bytes", required_argument, 0, O_MAX_BYTES},
		{"max-interval", required_argument, 0, O_MAX_INTERVAL},
		{"target-file-size", required_argument, 0, O_TARGET},
		{"compression", required_argument, 0, O_CODEC},
		{"merge-on", required_argument, 0, O_MERGE_ON},
		{"delete-when", required_argument, 0, O_DELETE_WHEN},
		{"order-by", required_argument, 0, O_ORDER_BY},
		{"cdc", required_argument, 0, O_CDC},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, OPT_HELP},
		{"version", no_argument, 0, OPT_VERSION},
		{0, 0, 0, 0},
	};
	struct options o = {.on_error = ON_FAIL, .target_file_size = 128 << 20, .codec = PQ_ZSTD};
	int c;
	while ((c = getopt_long(argc, argv, "s:p:m:w:a:v", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.schema = optarg; break;
		case 'p': o.partition_by = optarg; break;
		case 'm':
			if (!strcmp(optarg, "append"))
				o.overwrite = false;
			else if (!strcmp(optarg, "overwrite"))
				o.overwrite = true;
			else
				usage_error(help, "bad --mode '%s' (append or overwrite)", optarg);
			break;
		case 'w': o.replace_where = optarg; break;
		case O_MERGE: o.merge_schema = true; break;
		case O_DLQ: o.dlq = optarg; break;
		case O_ON_ERROR:
			o.on_error_set = true;
			if (!strcmp(optarg, "dlq"))
				o.on_error = ON_DLQ;
			else if (!strcmp(optarg, "drop"))
				o.on_error = ON_DROP;
			else if (!strcmp(optarg, "fail"))
				o.on_error = ON_FAIL;
			else
				usage_error(help, "bad --on-error '%s' (dlq, drop or fail)", optarg);
			break;
		case 'a': o.app_id = optarg; break;
		case O_MAX_ROWS: o.max_rows = parse_int(optarg, "--max-rows", 1, INT64_MAX); break;
		case O_MAX_BYTES: o.max_bytes = parse_size(optarg, "--max-bytes"); break;
		case O_MAX_INTERVAL: o.max_interval_us = parse_duration(optarg, "--max-interval"); break;
		case O_TARGET: o.target_file_size = parse_size(optarg, "--target-file-size"); break;
		case O_CODEC:
			if (!strcmp(optarg, "zstd"))
				o.codec = PQ_ZSTD;
			else if (!strcmp(optarg, "snappy"))
				o.codec = PQ_SNAPPY;
			else if (!strcmp(optarg, "gzip"))
				o.codec = PQ_GZIP;
			else if (!strcmp(optarg, "none"))
				o.codec = PQ_UNCOMPRESSED;
			else
				usage_error(help, "bad --compression '%s' (zstd, snappy, gzip or none)", optarg);
			break;
		case O_MERGE_ON: o.merge.keys = optarg; break;
		case O_DELETE_WHEN: o.merge.delete_when = optarg; break;
		case O_ORDER_BY: o.merge.order_by = optarg; break;
		case O_CDC:
			if (strcmp(optarg, "debezium"))
				usage_error(help, "bad --cdc '%s' (debezium)", optarg);
			o.merge.cdc = MERGE_CDC_DEBEZIUM;
			break;
		case 'v': diag_verbose++; break;
		default: opt_common(c, help);
		}
	}
	if (optind + 1 != argc)
		usage_error(help, optind < argc ? "one TABLE only" : "missing TABLE");
	o.table = argv[optind];
	if (o.dlq && !o.on_error_set)
		o.on_error = ON_DLQ;
	if (o.on_error == ON_DLQ && !o.dlq)
		usage_error(help, "--on-error dlq needs --dlq FILE");
	if (o.replace_where && !o.overwrite)
		usage_error(help, "--replace-where needs --mode overwrite");
	if (o.target_file_size < 1)
		usage_error(help, "--target-file-size must be positive");
	if (o.app_id && !*o.app_id)
		usage_error(help, "--app-id must not be empty");
	if (!o.merge.keys && (o.merge.delete_when || o.merge.order_by || o.merge.cdc))
		usage_error(help, "--delete-when, --order-by and --cdc need --merge-on KEYS");
	if (o.merge.keys && o.overwrite)
		usage_error(help, "--merge-on and --mode overwrite do not go together");
	if (o.merge.delete_when && o.merge.cdc)
		usage_error(help, "--cdc takes deletes from the change events: no --delete-when");

	struct writer w = {.o = &o, .read_version = -1};
	if (o.merge.keys) {
		char err[512];
		if (!(w.merge = delta_merge_new(&o.merge, err, sizeof err)))
			usage_error(help, "bad merge options: %s", err);
	}
	if (o.dlq && !(w.dlq = fopen(o.dlq, "a")))
		die_errno(EXIT_TROUBLE, "cannot open '%s'", o.dlq);
	if (pipe(wake_pipe))
		die_errno(EXIT_TROUBLE, "pipe");
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* a file size limit must be an error we report, not a silent death */
	signal(SIGXFSZ, SIG_IGN);
	/* as with Spark and delta-rs, a new table's parent directories are made
	 * too: `weir-lake-write lake/gold/t` must not need a mkdir -p first */
	mkdirs(o.table);
	if (mkdir(o.table, 0777) && errno != EEXIST)
		die_errno(EXIT_TROUBLE, "cannot create '%s'", o.table);
	w.out = rec_writer_open(1, rec_want_framed(false));
	run(&w);
	rec_writer_close(w.out);
	if (w.dlq && fclose(w.dlq))
		die_errno(EXIT_TROUBLE, "cannot write '%s'", o.dlq);
	delta_snapshot_free(w.snap);
	delta_metadata_free(&w.meta);
	delta_protocol_free(&w.protocol);
	type_free(w.data_schema);
	delta_conformer_free(&w.conf);
	free(w.part_idx);
	free(w.open);
	free(w.adds);
	delta_pred_free(w.replace);
	delta_merge_free(w.merge);
	arena_free(&w.arena);
	buf_free(&w.path);
	return finish_stdout(EXIT_OK);
}
