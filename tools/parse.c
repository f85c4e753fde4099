/* weir-parse - raw JSON events to typed records.
 *
 * Reads records (NDJSON or framed; plain events or the Kafka envelopes
 * weir-ingest writes, whose value holds the event), casts each to a schema,
 * filters and projects it, and writes typed records.  Spark's from_json turns
 * what it cannot read into silent NULLs; here every record that cannot be
 * typed is counted and, by choice, dead-lettered with the reason, the field
 * and where it came from, dropped, or fatal.  Control records pass through in
 * order.  --infer proposes a schema from the first records to start from. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base64.h"
#include "buf.h"
#include "cast.h"
#include "diag.h"
#include "envelope.h"
#include "expr.h"
#include "json.h"
#include "opt.h"
#include "record.h"
#include "schema.h"
#include "timeutil.h"
#include "value.h"

static const char help[] =
	"usage: weir-parse [-q] [--framed] [-s SCHEMA|@FILE] [-c LIST] [-w EXPR] [-m LIST]\n"
	"       [--envelope auto|yes|no] [-t FORMAT]... [--epoch auto|s|ms|us]\n"
	"       [-e dlq|drop|fail] [-d FILE] [FILE...]\n"
	"usage: weir-parse --infer [--sample N] [--envelope auto|yes|no] [FILE...]\n"
	"\n"
	"Type raw JSON events by a schema, filter and project them, dead-letter the bad ones.\n"
	"\n"
	"  -s, --schema=SCHEMA    columns as DDL (\"id BIGINT NOT NULL, ts TIMESTAMP\") or\n"
	"                         Delta schema JSON; @FILE reads the schema from FILE\n"
	"  -c, --select=LIST      output columns, \"a.b AS c, d, *\" (default: all)\n"
	"  -w, --where=EXPR       keep only records for which EXPR is true\n"
	"  -m, --meta=LIST        add Kafka envelope fields as columns: topic, partition,\n"
	"                         offset, timestamp, timestamp_type, key, headers\n"
	"                         (\"offset AS off\")\n"
	"      --envelope=MODE    read Kafka envelopes: auto (by the first record), yes, no\n"
	"  -t, --ts-format=FMT    strptime-like timestamp pattern tried before ISO-8601\n"
	"                         (repeatable), e.g. \"%d/%b/%Y:%H:%M:%S %z\"\n"
	"      --epoch=UNIT       unit of epoch numbers: auto (by magnitude), s, ms, us\n"
	"  -e, --on-error=MODE    bad records: dlq (default with --dlq), drop, or fail\n"
	"                         (default without --dlq)\n"
	"  -d, --dlq=FILE         append dead letters to FILE (NDJSON)\n"
	"      --framed           write the framed binary encoding (also WEIR_FRAMED=1)\n"
	"  -q, --quiet            do not print the counts on stderr at exit\n"
	"      --infer            print a DDL schema inferred from the first records\n"
	"      --sample=N         records --infer reads (default 1000)\n"
	"      --help             show this help\n"
	"      --version          show the version\n"
	"\n"
	"Exit status: 0 when the input was read to its end (bad records dead-lettered\n"
	"or dropped), 1 when --on-error fail met a bad record, 2 on usage or system\n"
	"errors.  SIGUSR1 prints the counts on stderr.\n";

enum on_error { ON_ERROR_UNSET, ON_ERROR_DLQ, ON_ERROR_DROP, ON_ERROR_FAIL };
enum envelope_mode { ENV_AUTO, ENV_YES, ENV_NO };

/* Envelope fields that --meta can turn into columns. */
enum meta_field { M_TOPIC, M_PARTITION, M_OFFSET, M_TIMESTAMP, M_TIMESTAMP_TYPE, M_KEY, M_HEADERS, M_NMETA };

static const struct {
	const char *name;
	enum tkind kind;
} meta_fields[M_NMETA] = {
	[M_TOPIC] = {"topic", T_STRING}, [M_PARTITION] = {"partition", T_INT},
	[M_OFFSET] = {"offset", T_LONG}, [M_TIMESTAMP] = {"timestamp", T_TIMESTAMP},
	[M_TIMESTAMP_TYPE] = {"timestamp_type", T_STRING}, [M_KEY] = {"key", T_STRING},
	[M_HEADERS] = {"headers", T_ARRAY},
};

/* A column path ("user.id", "`odd name`.x") with its output name; a path of
 * no segments is "*". */
struct item {
	char **seg;
	size_t *seglen;
	size_t nseg;
	char *name;
	struct value key;     /* name as the string value written per row */
	enum meta_field meta; /* --meta items */
	long *idx;            /* typed --select: field index at each step */
};

struct options {
	struct type *schema;
	struct item *select, *meta;
	size_t nselect, nmeta;
	struct expr *where;
	enum envelope_mode envelope;
	struct cast_opts cast;
	enum on_error on_error;
	const char *dlq;
	bool framed, quiet, infer;
	long sample;
};

static struct options opt;

/* Counts for the exit summary and SIGUSR1; written by the main loop only. */
static struct {
	uint64_t read, good, bad, filtered, coerced, control;
} cnt;

/* ---- lists: --select and --meta ---- */

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/* One name, bare or `quoted`; NULL and *err on bad syntax. */
static char *list_name(const char **pp, const char **err)
{
	const char *p = *pp;
	struct buf b = BUF_INIT;
	if (*p == '`') {
		for (p++;; p++) {
			if (!*p) {
				buf_free(&b);
				*err = "unterminated `name`";
				return NULL;
			}
			if (*p == '`') {
				if (p[1] != '`')
					break;
				p++;
			}
			buf_putc(&b, *p);
		}
		p++;
		if (!b.len) {
			*err = "empty `name`";
			buf_free(&b);
			return NULL;
		}
	} else {
		while (name_char((unsigned char)*p))
			buf_putc(&b, *p++);
		if (!b.len) {
			*err = "expected a column name";
			return NULL;
		}
	}
	*pp = p;
	return buf_cstr(&b);
}

static void skip_space(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n')
		(*p)++;
}

static struct item *parse_list(const char *s, const char *what, size_t *count)
{
	struct item *items = NULL;
	size_t n = 0;
	const char *p = s, *err = NULL;
	for (;;) {
		skip_space(&p);
		items = xrealloc(items, (n + 1) * sizeof *items);
		struct item *it = &items[n++];
		memset(it, 0, sizeof *it);
		if (*p == '*') {
			p++;
			it->name = xstrdup("*");
		} else {
			for (;;) {
				char *seg = list_name(&p, &err);
				if (!seg)
					goto bad;
				it->seg = xrealloc(it->seg, (it->nseg + 1) * sizeof *it->seg);
				it->seglen = xrealloc(it->seglen, (it->nseg + 1) * sizeof *it->seglen);
				it->seg[it->nseg] = seg;
				it->seglen[it->nseg++] = strlen(seg);
				if (*p != '.')
					break;
				p++;
			}
			skip_space(&p);
			if (!strncasecmp(p, "AS", 2) && (p[2] == ' ' || p[2] == '\t' || p[2] == '`')) {
				p += 2;
				skip_space(&p);
				if (!(it->name = list_name(&p, &err)))
					goto bad;
			} else {
				it->name = xstrdup(it->seg[it->nseg - 1]);
			}
		}
		json_set_str(&it->key, it->name, strlen(it->name));
		skip_space(&p);
		if (!*p)
			break;
		if (*p != ',') {
			err = "expected ',' between columns";
			goto bad;
		}
		p++;
	}
	*count = n;
	return items;
bad:
	die(EXIT_TROUBLE, "bad %s: %s at offset %zu: '%s'", what, err, (size_t)(p - s), s);
}

/* ---- Kafka envelopes ---- */

/* The shape that tells an envelope from a plain event, for --envelope auto:
 * a string topic, an integer partition and a value (weir-records(5)). */
static bool envelope_shaped(const struct value *rec)
{
	const struct value *t = value_get(rec, "topic", 5), *p = value_get(rec, "partition", 9);
	return t && t->type == V_STRING && p && p->type == V_INT &&
	       (value_get(rec, "value", 5) || value_get(rec, "value_b64", 9));
}

/* An envelope read by lib/envelope, as weir-ingest -P reads it, plus the
 * fields a producer ignores but a consumer's row may want. */
struct envelope {
	struct env_msg m;
	const struct value *offset, *tstype;
};

static bool envelope_read(const struct value *rec, struct arena *a, struct envelope *e, char *err, size_t errlen)
{
	if (!env_read(rec, a, &e->m, err, errlen))
		return false;
	e->offset = value_get(rec, "offset", 6);
	e->tstype = value_get(rec, "timestamp_type", 14);
	return true;
}

static struct type *meta_type(enum meta_field m)
{
	if (m != M_HEADERS)
		return type_new(meta_fields[m].kind);
	struct type *h = type_new(T_STRUCT), *a = type_new(T_ARRAY);
	type_add_field(h, "name", type_new(T_STRING), false);
	type_add_field(h, "value", type_new(T_STRING), true);
	a->elem = h;
	a->contains_null = false;
	return a;
}

/* Kafka bytes as a string column: the text when it is UTF-8, else its
 * base64 (the form the envelope carried it in). */
static struct value bytes_text(const void *p, size_t n, struct arena *a)
{
	if (!p)
		return value_null();
	if (utf8_valid(p, n))
		return value_str(p, n);
	struct buf b = BUF_INIT;
	base64_encode(&b, p, n);
	struct value v = value_str(arena_strndup(a, b.p ? b.p : "", b.len), b.len);
	buf_free(&b);
	return v;
}

static struct value meta_headers(const struct env_msg *m, struct arena *a)
{
	if (!m->nheaders)
		return value_null();
	struct value out = {.type = V_ARRAY, .n = (uint32_t)m->nheaders};
	out.a = arena_alloc(a, m->nheaders * sizeof *out.a);
	for (size_t i = 0; i < m->nheaders; i++) {
		const struct env_header *h = &m->headers[i];
		struct value *pair = arena_alloc(a, 4 * sizeof *pair);
		value_set_str(&pair[0], "name", 4);
		pair[1] = bytes_text(h->name, h->name_len, a);
		value_set_str(&pair[2], "value", 5);
		pair[3] = bytes_text(h->value, h->value_len, a);
		out.a[i] = (struct value){.type = V_OBJECT, .n = 2, .a = pair};
	}
	return out;
}

static struct value meta_value(const struct envelope *e, enum meta_field m, struct arena *a)
{
	if (!e)
		return value_null();
	switch (m) {
	case M_TOPIC:
		return e->m.topic ? value_str(e->m.topic, strlen(e->m.topic)) : value_null();
	case M_PARTITION:
		return e->m.partition >= 0 ? value_int(e->m.partition) : value_null();
	case M_OFFSET:
		return e->offset && e->offset->type == V_INT ? *e->offset : value_null();
	case M_TIMESTAMP:
		/* Kafka timestamps are milliseconds since the epoch */
		if (e->m.timestamp < 0 || e->m.timestamp > TS_MAX_MICROS / 1000)
			return value_null();
		return value_typed_int(V_TIMESTAMP, e->m.timestamp * 1000);
	case M_TIMESTAMP_TYPE:
		return e->tstype && e->tstype->type == V_STRING ? *e->tstype : value_null();
	case M_KEY:
		return bytes_text(e->m.key, e->m.key_len, a);
	case M_HEADERS:
		return meta_headers(&e->m, a);
	default:
		return value_null();
	}
}

/* ---- the row type: schema columns, then meta columns ---- */

static struct type *row_type(const struct type *schema)
{
	struct type *t = schema ? type_clone(schema) : type_new(T_STRUCT);
	for (size_t i = 0; i < opt.nmeta; i++) {
		if (type_field_index(t, opt.meta[i].name) >= 0)
			die(EXIT_TROUBLE, "--meta column '%s' is also a schema column (rename it with AS)", opt.meta[i].name);
		type_add_field(t, opt.meta[i].name, meta_type(opt.meta[i].meta), true);
	}
	return t;
}

/* Resolve --select against a known row type; returns the output type. */
static struct type *select_type(const struct type *row, bool resolve)
{
	struct type *out = type_new(T_STRUCT);
	for (size_t i = 0; i < opt.nselect; i++) {
		struct item *it = &opt.select[i];
		if (!it->nseg) {
			for (size_t k = 0; k < row->nfields; k++) {
				if (type_field_index(out, row->fields[k].name) >= 0)
					die(EXIT_TROUBLE, "--select names column '%s' twice", row->fields[k].name);
				type_add_field(out, row->fields[k].name, type_clone(row->fields[k].type), row->fields[k].nullable);
			}
			continue;
		}
		const struct type *t = row;
		bool nullable = false;
		free(it->idx);
		it->idx = xmalloc(it->nseg * sizeof *it->idx);
		for (size_t k = 0; k < it->nseg && t; k++) {
			long fi = t->kind == T_STRUCT ? type_field_index(t, it->seg[k]) : -1;
			if (fi < 0 && resolve)
				die(EXIT_TROUBLE, "--select: no column '%s' in the schema", it->seg[k]);
			it->idx[k] = fi;
			nullable |= fi < 0 || t->fields[fi].nullable;
			t = fi < 0 ? NULL : t->fields[fi].type;
		}
		if (!resolve) {
			/* rows typed upstream are looked up by name; a column the
			 * upstream schema lacks is always null */
			free(it->idx);
			it->idx = NULL;
		}
		if (type_field_index(out, it->name) >= 0)
			die(EXIT_TROUBLE, "--select names column '%s' twice", it->name);
		type_add_field(out, it->name, t ? type_clone(t) : type_new(T_STRING), nullable);
	}
	return out;
}

/* Every column --where names must exist when the schema is known. */
static void check_where_columns(const struct type *row)
{
	for (size_t i = 0; i < expr_ncolumns(opt.where); i++) {
		const char *col = expr_column(opt.where, i);
		char *path = xstrdup(col), *save = NULL;
		const struct type *t = row;
		for (char *seg = strtok_r(path, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
			long fi = t && t->kind == T_STRUCT ? type_field_index(t, seg) : -1;
			if (fi < 0)
				die(EXIT_TROUBLE, "--where: no column '%s' in the schema", col);
			t = t->fields[fi].type;
		}
		free(path);
	}
}

/* ---- dead letters ---- */

struct source {
	const char *input;
	bool framed;
	const struct record *rec;
	bool envelope;        /* a Kafka envelope: its position goes in dead letters */
};

static int dlq_fd = -1;

static void dlq_write(const struct source *src, const char *reason, const char *field)
{
	struct buf b = BUF_INIT;
	const struct record *rec = src->rec;
	buf_puts(&b, "{\"reason\":");
	json_write_string(&b, reason, strlen(reason));
	buf_puts(&b, ",\"field\":");
	if (field && *field)
		json_write_string(&b, field, strlen(field));
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"input\":");
	json_write_string(&b, src->input, strlen(src->input));
	buf_printf(&b, ",\"%s\":%llu", src->framed ? "frame" : "line", (unsigned long long)rec->pos);
	if (src->envelope) {
		/* from the record as it came, even when it is not a good envelope */
		for (int m = M_TOPIC; m <= M_OFFSET; m++) {
			const struct value *v = value_getz(&rec->v, meta_fields[m].name);
			bool ok = v && (m == M_TOPIC ? v->type == V_STRING : v->type == V_INT);
			buf_printf(&b, ",\"%s\":", meta_fields[m].name);
			if (ok)
				json_write(&b, v);
			else
				buf_puts(&b, "null");
		}
	}
	if (src->framed && rec->kind != REC_BAD) {
		/* a frame is binary; its record as canonical JSON is what a person
		 * can read and replay */
		struct buf t = BUF_INIT;
		json_write(&t, &rec->v);
		buf_puts(&b, ",\"raw\":");
		json_write_string(&b, t.p, t.len);
		buf_free(&t);
	} else if (rec->raw && utf8_valid(rec->raw, rec->rawlen)) {
		buf_puts(&b, ",\"raw\":");
		json_write_string(&b, rec->raw, rec->rawlen);
	} else if (rec->raw) {
		buf_puts(&b, ",\"raw_base64\":\"");
		base64_encode(&b, rec->raw, rec->rawlen);
		buf_putc(&b, '"');
	}
	if (rec->truncated)
		buf_puts(&b, ",\"truncated\":true");
	buf_puts(&b, "}\n");
	size_t off = 0;
	while (off < b.len) {
		ssize_t w = write(dlq_fd, b.p + off, b.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		/* unlike stdout, a reader gone from the dead letters loses data:
		 * say so instead of leaving quietly */
		if (w < 0 && errno == EPIPE)
			die(EXIT_TROUBLE, "dead-letter file '%s' closed by its reader", opt.dlq);
		if (w < 0)
			die_errno(EXIT_TROUBLE, "write failure on dead-letter file '%s'", opt.dlq);
		off += (size_t)w;
	}
	buf_free(&b);
}

/* A record that cannot be typed: count it, then dead-letter, drop or stop. */
static void bad_record(struct rec_writer *out, const struct source *src, const char *reason, const char *field)
{
	cnt.bad++;
	if (opt.on_error == ON_ERROR_DLQ) {
		dlq_write(src, reason, field);
		return;
	}
	if (opt.on_error == ON_ERROR_DROP)
		return;
	rec_writer_close(out);
	if (field && *field)
		die(EXIT_NEGATIVE, "bad record at %s %llu of '%s': %s: field '%s'", src->framed ? "frame" : "line",
		    (unsigned long long)src->rec->pos, src->input, reason, field);
	die(EXIT_NEGATIVE, "bad record at %s %llu of '%s': %s", src->framed ? "frame" : "line",
	    (unsigned long long)src->rec->pos, src->input, reason);
}

/* ---- counts ---- */

static size_t fmt_u64(char *out, uint64_t v)
{
	char d[24];
	size_t k = 0, n = 0;
	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k)
		out[n++] = d[--k];
	return n;
}

/* Async-signal-safe: only write(2) and stack memory. */
static void print_counts(void)
{
	static const char *const names[] = {"read ", ", good ", ", bad ", ", filtered ", ", coerced ", ", control "};
	uint64_t vals[] = {cnt.read, cnt.good, cnt.bad, cnt.filtered, cnt.coerced, cnt.control};
	char line[256];
	size_t n = 0;
	for (const char *p = diag_prog; *p && n < 40; p++)
		line[n++] = *p;
	line[n++] = ':';
	line[n++] = ' ';
	for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
		for (const char *p = names[i]; *p; p++)
			line[n++] = *p;
		n += fmt_u64(line + n, vals[i]);
	}
	line[n++] = '\n';
	ssize_t w = write(2, line, n);
	(void)w;
}

static void on_sigusr1(int sig)
{
	(void)sig;
	int e = errno;
	print_counts();
	errno = e;
}

/* ---- typing one record ---- */

struct typer {
	struct arena arena;   /* per record */
	struct cast cast;
	struct type *row;     /* schema + meta, NULL when untyped */
	struct type *out;     /* what is written, NULL when untyped */
	uint64_t upstream;    /* rec_reader_schema_version the types follow */
	bool decided, envelope;
};

static const struct value *lookup(const struct value *v, const struct item *it)
{
	for (size_t k = 0; k < it->nseg && v; k++) {
		const struct value *next = value_get(v, it->seg[k], it->seglen[k]);
		if (!next && v->type == V_OBJECT)
			for (uint32_t i = v->n; i-- > 0;)
				if (v->a[2 * i].n == it->seglen[k] && !strncasecmp(v->a[2 * i].s, it->seg[k], it->seglen[k])) {
					next = &v->a[2 * i + 1];
					break;
				}
		v = next;
	}
	return v;
}

static void project(struct typer *ty, const struct value *row, struct value *out)
{
	size_t n = 0;
	for (size_t i = 0; i < opt.nselect; i++)
		n += opt.select[i].nseg ? 1 : row->n;
	struct value *a = arena_alloc(&ty->arena, (n ? 2 * n : 1) * sizeof *a);
	size_t k = 0;
	for (size_t i = 0; i < opt.nselect; i++) {
		const struct item *it = &opt.select[i];
		if (!it->nseg) {
			memcpy(a + 2 * k, row->a, 2 * (size_t)row->n * sizeof *a);
			k += row->n;
			continue;
		}
		const struct value *v;
		if (it->idx) {
			/* typed rows hold the schema's fields in order */
			v = row;
			for (size_t s = 0; s < it->nseg && v; s++)
				v = v->type == V_OBJECT ? &v->a[2 * it->idx[s] + 1] : NULL;
		} else {
			v = lookup(row, it);
		}
		a[2 * k] = it->key;
		if (v)
			a[2 * k + 1] = *v;
		else
			memset(&a[2 * k + 1], 0, sizeof a[2 * k + 1]);
		k++;
	}
	out->type = V_OBJECT;
	out->n = (uint32_t)k;
	out->a = a;
}

/* Announce the schema of the rows written; without a base (untyped
 * events) there is none. */
static void set_types(struct typer *ty, struct rec_writer *w, const struct type *base, bool typed_rows)
{
	type_free(ty->row);
	type_free(ty->out);
	ty->row = ty->out = NULL;
	if (base) {
		ty->row = row_type(base);
		ty->out = opt.nselect ? select_type(ty->row, typed_rows) : type_clone(ty->row);
	}
	rec_writer_schema(w, ty->out);
}

/* The event inside an envelope: its value parsed as JSON.  NULL with
 * *reason set when there is none. */
static const struct value *envelope_event(struct arena *a, const struct envelope *env, const char **reason,
					  char *why, size_t whylen)
{
	if (!env->m.value) {
		*reason = "value is null (a tombstone)";
		return NULL;
	}
	struct value *parsed = arena_alloc(a, sizeof *parsed);
	struct json_error je;
	if (json_parse(a, env->m.value, env->m.value_len, parsed, &je)) {
		snprintf(why, whylen, "value is not JSON: %s at byte %zu", je.msg, je.offset);
		*reason = why;
		return NULL;
	}
	return parsed;
}

/* Extract, type, filter and project one data record. */
static void handle_data(struct typer *ty, struct rec_writer *w, struct source *src, struct rec_reader *r)
{
	const struct value *event = &src->rec->v, *row;
	struct envelope env;
	struct value typed, full, projected;
	const char *reason = NULL, *field = NULL;
	char why[160];
	cnt.read++;
	arena_reset(&ty->arena);
	if (!ty->decided) {
		ty->envelope = opt.envelope == ENV_YES || (opt.envelope == ENV_AUTO && envelope_shaped(event));
		ty->decided = true;
	}
	if (!opt.schema && rec_reader_schema_version(r) != ty->upstream) {
		/* a framed input announced (another) schema: pass it on */
		ty->upstream = rec_reader_schema_version(r);
		set_types(ty, w, rec_reader_schema(r), false);
	}
	src->envelope = ty->envelope;
	if (ty->envelope) {
		char err[128];
		if (!envelope_read(event, &ty->arena, &env, err, sizeof err)) {
			snprintf(why, sizeof why, "not a Kafka envelope: %s", err);
			reason = why;
			goto bad;
		}
		field = "value";
		if (!(event = envelope_event(&ty->arena, &env, &reason, why, sizeof why)))
			goto bad;
		if (event->type != V_OBJECT) {
			reason = "value is not a JSON object";
			goto bad;
		}
	}
	row = event;
	if (opt.schema) {
		ty->cast.arena = &ty->arena;
		if (!cast_record(&ty->cast, opt.schema, event, ty->envelope ? 0 : src->rec->layout, &typed)) {
			reason = ty->cast.reason;
			field = ty->cast.field;
			goto bad;
		}
		row = &typed;
	}
	if (opt.nmeta) {
		size_t n = row->n + opt.nmeta;
		struct value *a = arena_alloc(&ty->arena, 2 * n * sizeof *a);
		memcpy(a, row->a, 2 * (size_t)row->n * sizeof *a);
		for (size_t i = 0; i < opt.nmeta; i++) {
			a[2 * (row->n + i)] = opt.meta[i].key;
			a[2 * (row->n + i) + 1] = meta_value(ty->envelope ? &env : NULL, opt.meta[i].meta, &ty->arena);
		}
		full.type = V_OBJECT;
		full.n = (uint32_t)n;
		full.a = a;
		row = &full;
	}
	/* the record as read: its layout lets --where find columns by position */
	if (opt.where && !expr_match_layout(opt.where, row, row == &src->rec->v ? src->rec->layout : 0)) {
		cnt.filtered++;
		return;
	}
	if (opt.nselect) {
		project(ty, row, &projected);
		row = &projected;
	}
	if (opt.schema && ty->cast.coerced)
		cnt.coerced++;
	cnt.good++;
	if (row == &src->rec->v)
		rec_write_record(w, src->rec);
	else
		rec_write(w, row);
	return;
bad:
	bad_record(w, src, reason, field);
}

static void typer_free(struct typer *ty)
{
	arena_free(&ty->arena);
	cast_free(&ty->cast);
	type_free(ty->row);
	type_free(ty->out);
}

/* Open an input; when it cannot be, the records of the inputs before it
 * still reach stdout (w may be NULL) before the error ends the run. */
static int open_input(const char *name, struct rec_writer *w)
{
	if (!strcmp(name, "-"))
		return 0;
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (w)
			rec_flush(w);
		errno = e;
		die_errno(EXIT_TROUBLE, "cannot open '%s'", name);
	}
	return fd;
}

static void parse_stream(struct typer *ty, struct rec_writer *w, const char *name)
{
	int fd = open_input(name, w);
	struct rec_reader *r = rec_reader_open(fd, name);
	rec_reader_flush_before_block(r, w);
	ty->decided = false;
	if (!opt.schema && ty->upstream) {
		/* the previous input's schema does not describe this one */
		ty->upstream = 0;
		set_types(ty, w, NULL, false);
	}
	struct record rec;
	struct source src = {.input = name, .rec = &rec};
	bool detected = false;
	for (;;) {
		enum rec_kind k = rec_read(r, &rec);
		if (k == REC_EOF)
			break;
		if (!detected) { /* from the first bytes; a call per record showed */
			src.framed = rec_reader_framed(r);
			detected = true;
		}
		src.envelope = false;
		if (k == REC_CONTROL) {
			cnt.control++;
			rec_forward(w, &rec);
		} else if (k == REC_BAD) {
			cnt.read++;
			bad_record(w, &src, rec.err, NULL);
		} else {
			handle_data(ty, w, &src, r);
		}
	}
	rec_reader_close(r);
	if (fd)
		close(fd);
}

/* ---- --infer ---- */

enum { I_BOOL = 1, I_INT = 2, I_DEC = 4, I_FLOAT = 8, I_STR = 16, I_OBJ = 32, I_ARR = 64 };

struct ifield;

struct itype {
	unsigned seen;
	int intdig, scale;
	bool not_ts, not_date;
	struct ifield *fields;
	size_t nfields;
	struct itype *elem;
};

struct ifield {
	char *name;
	struct itype t;
};

static int ndigits(int128_t u)
{
	int n = 0;
	if (u < 0)
		u = -u;
	while (u) {
		n++;
		u /= 10;
	}
	return n;
}

static void infer_value(struct itype *t, const struct value *v, int depth)
{
	int64_t x;
	bool zone;
	switch (v->type) {
	case V_NULL:
		return;
	case V_BOOL:
		t->seen |= I_BOOL;
		return;
	case V_INT: {
		t->seen |= I_INT;
		int d = ndigits(v->i);
		if (d > t->intdig)
			t->intdig = d;
		return;
	}
	case V_DECIMAL: {
		t->seen |= I_DEC;
		int d = ndigits(v->d) - v->scale;
		if (d > t->intdig)
			t->intdig = d;
		if (v->scale > t->scale)
			t->scale = v->scale;
		return;
	}
	case V_FLOAT:
		t->seen |= I_FLOAT;
		return;
	case V_OBJECT:
		t->seen |= I_OBJ;
		if (depth > 60)
			return;
		for (uint32_t i = 0; i < v->n; i++) {
			const struct value *k = &v->a[2 * i];
			size_t f = 0;
			while (f < t->nfields && (strlen(t->fields[f].name) != k->n || memcmp(t->fields[f].name, k->s, k->n)))
				f++;
			if (f == t->nfields) {
				t->fields = xrealloc(t->fields, (t->nfields + 1) * sizeof *t->fields);
				memset(&t->fields[f], 0, sizeof t->fields[f]);
				t->fields[f].name = xstrndup(k->s, k->n);
				t->nfields++;
			}
			infer_value(&t->fields[f].t, &v->a[2 * i + 1], depth + 1);
		}
		return;
	case V_ARRAY:
		t->seen |= I_ARR;
		if (depth > 60)
			return;
		if (!t->elem)
			t->elem = xcalloc(1, sizeof *t->elem);
		for (uint32_t i = 0; i < v->n; i++)
			infer_value(t->elem, &v->a[i], depth + 1);
		return;
	default:
		/* strings, and typed values from a framed input, by their text */
		t->seen |= I_STR;
		if (v->type == V_STRING) {
			if (!t->not_date && !parse_iso_date(v->s, v->n, &x))
				t->not_date = true;
			if (!t->not_ts && !parse_iso_timestamp(v->s, v->n, &x, &zone))
				t->not_ts = true;
		} else {
			t->not_date |= v->type != V_DATE;
			t->not_ts |= v->type != V_TIMESTAMP && v->type != V_TIMESTAMP_NTZ && v->type != V_DATE;
		}
		return;
	}
}

static struct type *infer_type(const struct itype *t)
{
	switch (t->seen) {
	case 0:
		return type_new(T_STRING); /* only nulls seen: Spark's choice too */
	case I_BOOL:
		return type_new(T_BOOLEAN);
	case I_INT:
		return type_new(T_LONG);
	case I_INT | I_DEC:
	case I_DEC: {
		int p = t->intdig + t->scale;
		if (p > 38)
			return type_new(T_DOUBLE);
		struct type *d = type_new(T_DECIMAL);
		/* room to grow beyond the sample, as Spark's DECIMAL(10,0) default */
		d->precision = p < 10 ? 10 : p;
		if (d->precision - t->scale < t->intdig)
			d->precision = t->intdig + t->scale;
		d->scale = t->scale;
		return d;
	}
	case I_FLOAT:
	case I_FLOAT | I_INT:
	case I_FLOAT | I_DEC:
	case I_FLOAT | I_INT | I_DEC:
		return type_new(T_DOUBLE);
	case I_STR:
		return type_new(!t->not_date ? T_DATE : !t->not_ts ? T_TIMESTAMP : T_STRING);
	case I_OBJ: {
		struct type *st = type_new(T_STRUCT);
		for (size_t i = 0; i < t->nfields; i++)
			if (type_field_index(st, t->fields[i].name) < 0)
				type_add_field(st, t->fields[i].name, infer_type(&t->fields[i].t), true);
		return st;
	}
	case I_ARR: {
		struct type *at = type_new(T_ARRAY);
		at->elem = t->elem ? infer_type(t->elem) : type_new(T_STRING);
		return at;
	}
	default:
		/* mixed kinds: the JSON text keeps every value (string casts write it) */
		return type_new(T_STRING);
	}
}

static void itype_free(struct itype *t)
{
	for (size_t i = 0; i < t->nfields; i++) {
		free(t->fields[i].name);
		itype_free(&t->fields[i].t);
	}
	free(t->fields);
	if (t->elem) {
		itype_free(t->elem);
		free(t->elem);
	}
}

static int infer(char **files, int nfiles)
{
	struct itype root = {0};
	struct arena arena = {0};
	long seen = 0, bad = 0;
	for (int f = 0; f < nfiles && seen < opt.sample; f++) {
		int fd = open_input(files[f], NULL);
		struct rec_reader *r = rec_reader_open(fd, files[f]);
		struct record rec;
		bool decided = false, envelope = false;
		while (seen < opt.sample) {
			enum rec_kind k = rec_read(r, &rec);
			if (k == REC_EOF)
				break;
			if (k != REC_DATA) {
				bad += k == REC_BAD;
				continue;
			}
			const struct value *event = &rec.v;
			if (!decided) {
				envelope = opt.envelope == ENV_YES || (opt.envelope == ENV_AUTO && envelope_shaped(event));
				decided = true;
			}
			if (envelope) {
				struct envelope env;
				const char *reason;
				char why[160];
				arena_reset(&arena);
				if (!envelope_read(event, &arena, &env, why, sizeof why) ||
				    !(event = envelope_event(&arena, &env, &reason, why, sizeof why))) {
					bad++;
					continue;
				}
			}
			if (event->type != V_OBJECT) {
				bad++;
				continue;
			}
			infer_value(&root, event, 0);
			seen++;
		}
		rec_reader_close(r);
		if (fd)
			close(fd);
	}
	arena_free(&arena);
	if (!seen)
		die(EXIT_NEGATIVE, "no records to infer a schema from%s", bad ? " (all were bad)" : "");
	if (bad && !opt.quiet)
		warnx("skipped %ld bad records while inferring", bad);
	root.seen = I_OBJ;
	struct type *t = infer_type(&root);
	itype_free(&root);
	struct buf b = BUF_INIT;
	schema_write_ddl(&b, t);
	buf_putc(&b, '\n');
	fwrite(b.p, 1, b.len, stdout);
	buf_free(&b);
	type_free(t);
	return finish_stdout(EXIT_OK);
}

/* ---- options ---- */

static char *read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno(EXIT_TROUBLE, "cannot open schema file '%s'", path);
	struct buf b = BUF_INIT;
	for (;;) {
		buf_grow(&b, 65536);
		ssize_t n = read(fd, b.p + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno(EXIT_TROUBLE, "cannot read schema file '%s'", path);
		if (!n)
			break;
		b.len += (size_t)n;
		if (b.len > (16u << 20))
			die(EXIT_TROUBLE, "schema file '%s' is larger than 16 MiB", path);
	}
	close(fd);
	return buf_cstr(&b);
}

static void parse_schema(const char *arg)
{
	char *text = arg[0] == '@' ? read_file(arg + 1) : xstrdup(arg);
	char err[256];
	opt.schema = schema_parse(text, err, sizeof err);
	if (!opt.schema)
		die(EXIT_TROUBLE, "bad schema '%s': %s", arg[0] == '@' ? arg + 1 : arg, err);
	free(text);
}

static void parse_where(const char *arg)
{
	struct expr_error err;
	opt.where = expr_compile(arg, &err);
	if (!opt.where)
		die(EXIT_TROUBLE, "bad --where expression: %s at offset %zu: '%s'", err.msg, err.pos, arg);
}

static void parse_meta(const char *arg)
{
	opt.meta = parse_list(arg, "--meta", &opt.nmeta);
	for (size_t i = 0; i < opt.nmeta; i++) {
		struct item *it = &opt.meta[i];
		int m = -1;
		for (int k = 0; k < M_NMETA && it->nseg == 1; k++)
			if (!strcasecmp(it->seg[0], meta_fields[k].name))
				m = k;
		if (m < 0)
			die(EXIT_TROUBLE, "--meta: unknown envelope field '%s' (topic, partition, offset, timestamp, "
					  "timestamp_type, key, headers)", it->name);
		it->meta = (enum meta_field)m;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(opt.meta[k].name, it->name))
				die(EXIT_TROUBLE, "--meta names column '%s' twice", it->name);
	}
}

int main(int argc, char **argv)
{
	diag_init("weir-parse");
	enum { OPT_ENVELOPE = OPT_TOOL_FIRST, OPT_EPOCH, OPT_FRAMED, OPT_INFER, OPT_SAMPLE };
	static const struct option longopts[] = {
		{"schema", required_argument, NULL, 's'},
		{"select", required_argument, NULL, 'c'},
		{"where", required_argument, NULL, 'w'},
		{"meta", required_argument, NULL, 'm'},
		{"envelope", required_argument, NULL, OPT_ENVELOPE},
		{"ts-format", required_argument, NULL, 't'},
		{"epoch", required_argument, NULL, OPT_EPOCH},
		{"on-error", required_argument, NULL, 'e'},
		{"dlq", required_argument, NULL, 'd'},
		{"framed", no_argument, NULL, OPT_FRAMED},
		{"quiet", no_argument, NULL, 'q'},
		{"infer", no_argument, NULL, OPT_INFER},
		{"sample", required_argument, NULL, OPT_SAMPLE},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	const char **formats = NULL;
	size_t nformats = 0;
	opt.sample = 1000;
	int c;
	while ((c = getopt_long(argc, argv, "c:d:e:m:qs:t:w:", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (opt.schema)
				usage_error(help, "--schema given twice");
			parse_schema(optarg);
			break;
		case 'c':
			opt.select = parse_list(optarg, "--select", &opt.nselect);
			break;
		case 'w':
			parse_where(optarg);
			break;
		case 'm':
			parse_meta(optarg);
			break;
		case OPT_ENVELOPE:
			if (!strcmp(optarg, "auto"))
				opt.envelope = ENV_AUTO;
			else if (!strcmp(optarg, "yes"))
				opt.envelope = ENV_YES;
			else if (!strcmp(optarg, "no"))
				opt.envelope = ENV_NO;
			else
				usage_error(help, "--envelope must be auto, yes or no, not '%s'", optarg);
			break;
		case 't': {
			char err[128];
			if (!ts_format_check(optarg, err, sizeof err))
				usage_error(help, "bad --ts-format '%s': %s", optarg, err);
			formats = xrealloc(formats, (nformats + 1) * sizeof *formats);
			formats[nformats++] = optarg;
			break;
		}
		case OPT_EPOCH:
			if (!strcmp(optarg, "auto"))
				opt.cast.epoch = EPOCH_AUTO;
			else if (!strcmp(optarg, "s"))
				opt.cast.epoch = EPOCH_S;
			else if (!strcmp(optarg, "ms"))
				opt.cast.epoch = EPOCH_MS;
			else if (!strcmp(optarg, "us"))
				opt.cast.epoch = EPOCH_US;
			else
				usage_error(help, "--epoch must be auto, s, ms or us, not '%s'", optarg);
			break;
		case 'e':
			if (!strcmp(optarg, "dlq"))
				opt.on_error = ON_ERROR_DLQ;
			else if (!strcmp(optarg, "drop"))
				opt.on_error = ON_ERROR_DROP;
			else if (!strcmp(optarg, "fail"))
				opt.on_error = ON_ERROR_FAIL;
			else
				usage_error(help, "--on-error must be dlq, drop or fail, not '%s'", optarg);
			break;
		case 'd':
			opt.dlq = optarg;
			break;
		case OPT_FRAMED:
			opt.framed = true;
			break;
		case 'q':
			opt.quiet = true;
			break;
		case OPT_INFER:
			opt.infer = true;
			break;
		case OPT_SAMPLE:
			opt.sample = (long)parse_int(optarg, "--sample", 1, 1000000000);
			break;
		default:
			opt_common(c, help);
		}
	}
	opt.cast.ts_formats = formats;
	opt.cast.nts_formats = nformats;
	char *stdin_only[] = {"-"};
	char **files = optind < argc ? argv + optind : stdin_only;
	int nfiles = optind < argc ? argc - optind : 1;
	if (opt.infer) {
		if (opt.schema || opt.nselect || opt.where || opt.nmeta || opt.dlq || opt.on_error)
			usage_error(help, "--infer takes no schema, columns, filter or error handling");
		return infer(files, nfiles);
	}
	if (opt.on_error == ON_ERROR_UNSET)
		opt.on_error = opt.dlq ? ON_ERROR_DLQ : ON_ERROR_FAIL;
	if (opt.on_error == ON_ERROR_DLQ && !opt.dlq)
		usage_error(help, "--on-error dlq needs --dlq FILE");
	if (opt.dlq && opt.on_error != ON_ERROR_DLQ)
		usage_error(help, "--dlq is only used with --on-error dlq");

	struct typer ty = {.cast = {.opts = &opt.cast}};
	struct rec_writer *w = rec_writer_open(1, rec_want_framed(opt.framed));
	if (opt.schema) {
		struct type *row = row_type(opt.schema);
		if (opt.where)
			check_where_columns(row);
		type_free(row);
		set_types(&ty, w, opt.schema, true);
	}
	if (opt.dlq) {
		dlq_fd = open(opt.dlq, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (dlq_fd < 0)
			die_errno(EXIT_TROUBLE, "cannot open dead-letter file '%s'", opt.dlq);
	}
	struct sigaction sa = {.sa_handler = on_sigusr1, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	for (int f = 0; f < nfiles; f++)
		parse_stream(&ty, w, files[f]);
	rec_writer_close(w);
	typer_free(&ty);
	if (dlq_fd >= 0 && close(dlq_fd))
		die_errno(EXIT_TROUBLE, "write failure on dead-letter file '%s'", opt.dlq);
	if (!opt.quiet)
		print_counts();
	return EXIT_OK;
}
