/* join.c - weir-join: join a record stream with a table or with another stream.
 *
 * Enrichment joins each record of the stream with reference data (a file or
 * a Delta table) held in a hash table; the stream side needs no state.
 * Correlation joins two live streams on equal keys and a time range (clicks
 * with the impressions of the last five minutes): both sides are held in
 * state until the watermark proves they can match nothing more, which is
 * also when an outer join knows a row found no partner and writes it padded
 * with nulls.  The rules are Spark's stream-stream join (notes §3): late rows
 * (event time <= the watermark, the minimum over both inputs) are dropped,
 * state is evicted by the watermark through the time range, and both are
 * exact at barriers with --advance barrier.
 *
 * Two inputs are read with poll(), one record at a time from whichever is
 * ready, and barriers are aligned as in Flink (ARCHITECTURE §4): an input
 * that delivered barrier N is not read until the other has delivered it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delta.h"
#include "diag.h"
#include "evtime.h"
#include "frame.h"
#include "json.h"
#include "keyed.h"
#include "opt.h"
#include "record.h"
#include "state.h"
#include "timeutil.h"

static const char help[] =
	"usage: weir-join -r FILE|TABLE -o KEYS [-j inner|left|semi|anti] [--refresh D] [-p PREFIX]\n"
	"       [--max-state SIZE] [--stats] [--framed]\n"
	"       weir-join -R FILE [-L FILE] -o KEYS -b RANGE [-j TYPE] [-t FIELD] [-u UNIT]\n"
	"       [-d D] [-a record|barrier] [--max-drift D] [--no-flush] [-l FILE] [-s DIR]\n"
	"       [-p PREFIX] [--max-state SIZE] [--stats] [--framed]\n"
	"\n"
	"Join a stream with a table, or two streams on keys and a time range.\n"
	"\n"
	"  -r, --right FILE|TABLE   the table: NDJSON or framed records, or a Delta table,\n"
	"                           held in memory\n"
	"      --refresh D          reload the table when it changed (a Delta table: a new\n"
	"                           version), checking every D\n"
	"  -R, --right-stream FILE  the right input of a stream-stream join (file or FIFO)\n"
	"  -L, --left-stream FILE   the left input (default standard input)\n"
	"  -o, --on KEYS            equal keys: 'id' (same name both sides, written once)\n"
	"                           or 'l.a=r.b', comma-separated\n"
	"  -j, --type TYPE          inner (default), left, right, full, semi or anti\n"
	"  -b, --between RANGE      time range of a stream join, e.g.\n"
	"                           'r.ts - 10m AND r.ts + 5m' (left ts within it)\n"
	"  -t, --time FIELD         left event time column when RANGE does not name it\n"
	"  -u, --time-unit s|ms|us  unit of numeric event times (default ms)\n"
	"  -d, --delay D            watermark delay of both inputs (default 0)\n"
	"      --left-delay D, --right-delay D   per input\n"
	"  -a, --advance MODE       move the watermark per record (default) or only at\n"
	"                           barriers (record|barrier)\n"
	"      --no-flush           keep the watermark and state at end of input\n"
	"      --max-drift D        stop reading an input D ahead of the other in event time\n"
	"  -p, --prefix PREFIX      prefix every right column (default: only those whose\n"
	"                           name a left column has, with 'right_')\n"
	"  -l, --late FILE          append late records to FILE\n"
	"  -s, --state DIR          snapshot state there on barriers, load on restore\n"
	"      --max-state SIZE     fail instead of holding more state than SIZE\n"
	"      --stats              print counts and state size to stderr at exit\n"
	"      --framed             write the framed binary encoding\n"
	"      --help, --version\n";

enum {
	OPT_REFRESH = OPT_TOOL_FIRST, OPT_LEFT_DELAY, OPT_RIGHT_DELAY, OPT_NO_FLUSH, OPT_MAX_DRIFT, OPT_MAX_STATE,
	OPT_STATS, OPT_FRAMED,
};

static const struct option longopts[] = {
	{"right", required_argument, NULL, 'r'},
	{"refresh", required_argument, NULL, OPT_REFRESH},
	{"right-stream", required_argument, NULL, 'R'},
	{"left-stream", required_argument, NULL, 'L'},
	{"on", required_argument, NULL, 'o'},
	{"type", required_argument, NULL, 'j'},
	{"between", required_argument, NULL, 'b'},
	{"time", required_argument, NULL, 't'},
	{"time-unit", required_argument, NULL, 'u'},
	{"delay", required_argument, NULL, 'd'},
	{"left-delay", required_argument, NULL, OPT_LEFT_DELAY},
	{"right-delay", required_argument, NULL, OPT_RIGHT_DELAY},
	{"advance", required_argument, NULL, 'a'},
	{"no-flush", no_argument, NULL, OPT_NO_FLUSH},
	{"max-drift", required_argument, NULL, OPT_MAX_DRIFT},
	{"prefix", required_argument, NULL, 'p'},
	{"late", required_argument, NULL, 'l'},
	{"state", required_argument, NULL, 's'},
	{"max-state", required_argument, NULL, OPT_MAX_STATE},
	{"stats", no_argument, NULL, OPT_STATS},
	{"framed", no_argument, NULL, OPT_FRAMED},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{0},
};

enum jtype { J_INNER, J_LEFT, J_RIGHT, J_FULL, J_SEMI, J_ANTI };
static const char *const jtype_names[] = {"inner", "left", "right", "full", "semi", "anti"};

static struct opts {
	const char *right, *right_stream, *left_stream;
	const char *on, *between, *time;
	enum jtype type;
	enum time_unit unit;
	int64_t refresh;                  /* -1: never */
	int64_t delay[2];                 /* -1: not given */
	bool advance_barrier, no_flush;
	int64_t max_drift;                /* -1: inputs are never held back */
	const char *prefix;               /* NULL: rename on collision only */
	const char *late, *state_dir;
	int64_t max_state;
	bool stats, framed;
} opt = {.unit = TU_MILLIS, .refresh = -1, .delay = {-1, -1}, .max_drift = -1};

enum { L, R };

/* Column names seen on one side, in first-seen order: the columns an outer
 * row pads with nulls when that side has no row. */
#define COLSET_MAX 4096
struct colset {
	char **names;
	uint32_t *lens;
	size_t n, cap;
	bool full_warned;
};

/* A row held in stream-join state.  The record follows as framed value
 * bytes, the key bytes after it. */
struct row {
	struct heapent he; /* t: event time */
	struct row *prev, *next;
	struct group *g;
	bool matched;
	uint32_t len;
};

/* Rows of one side that share a key; the key bytes follow the struct. */
struct group {
	struct keyent ke;
	struct row *head, *tail;
};

/* A row of the static table, decoded once into the table's arena. */
struct srow {
	struct value v;
	struct srow *next;
};

/* A key of the static table and its rows, both as values (for the general
 * path) and as the JSON text of their right columns ("name":"x","tier":1),
 * so the common case - NDJSON out, no clash of column names - splices text
 * instead of building and writing every joined row.  After the struct: the
 * key bytes, then per row a uint32 length and the text. */
struct tgroup {
	struct keyent ke;
	struct srow *rows, *last;
	uint32_t nrows, textlen;
};

struct side {
	const char *what;      /* "left", "right" */
	struct keyspec ks;
	char *time;            /* event time column */
	struct watermark wm;
	struct rec_reader *r;
	int fd;
	bool eof;
	bool ended;            /* upstream said its stream is over (a watermark at +inf) */
	bool checkpointed;     /* a barrier or restore came on it */
	int64_t barrier;       /* barrier id delivered and waiting for the other input, -1 none */
	struct buf barrier_rec; /* its JSON text, for merging the sources */
	struct keytab tab;
	struct theap heap;
	size_t rows, bytes;
	uint64_t records;
	struct colset cols;
};

static struct {
	struct side s[2];
	bool using[64];          /* key i is written once (the 'id' form of --on) */
	int64_t lo, hi;          /* left time - right time must lie in [lo, hi] */
	bool stream;
	int64_t wm;              /* the join's watermark: min over inputs */
	int64_t wm_sent;         /* last watermark written downstream */
	int64_t restored;        /* restore id already loaded, -1 none */
	struct rec_writer *out, *late_w;
	struct arena tmp;        /* output rows, decoded state rows */
	struct arena table;      /* the static table's values */
	struct buf null_text;    /* the table's columns as nulls, for left rows without a match */
	struct buf shape;        /* names of the last left record's columns */
	uint32_t shape_n;
	bool shape_valid, shape_clash;
	bool delta;              /* the table is a Delta table */
	int64_t t_version;       /* its version loaded */
	struct type *schema[2];  /* of the inputs, when they announce one */
	uint64_t schema_seen[2];
	struct buf key, scratch;
	uint64_t output, late, bad;
	size_t peak_rows;        /* most rows held in stream-join state */
	char fingerprint[1024];
	/* the static table file as loaded: a change in any of these makes
	 * --refresh reload it (an editor's rename gives a new inode) */
	ino_t t_ino;
	off_t t_size;
	struct timespec t_mtime;
	int64_t next_check;
} st = {.wm = WM_NONE, .wm_sent = WM_NONE, .restored = -1};

/* ---- option parsing ---- */

/* --on: "id", "l.a=r.b" or "r.b=l.a", comma-separated. */
static void parse_on(const char *spec)
{
	const char *p = spec;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		while (n && *p == ' ')
			p++, n--;
		while (n && p[n - 1] == ' ')
			n--;
		const char *eq = memchr(p, '=', n);
		if (st.s[L].ks.n >= sizeof st.using / sizeof st.using[0])
			usage_error(help, "too many keys in --on");
		if (!eq) {
			if (!n || p[0] == '.' || p[n - 1] == '.')
				usage_error(help, "invalid --on: '%s'", spec);
			st.using[st.s[L].ks.n] = !memchr(p, '.', n);
			keyspec_add(&st.s[L].ks, p, n);
			keyspec_add(&st.s[R].ks, p, n);
		} else {
			const char *a = p, *b = eq + 1;
			size_t an = (size_t)(eq - p), bn = n - an - 1;
			while (an && a[an - 1] == ' ')
				an--;
			while (bn && *b == ' ')
				b++, bn--;
			if (an < 3 || bn < 3 || a[1] != '.' || b[1] != '.' || (a[0] != 'l' && a[0] != 'r') ||
			    b[0] != (a[0] == 'l' ? 'r' : 'l'))
				usage_error(help, "invalid --on: '%.*s' (want l.COL=r.COL)", (int)n, p);
			if (a[0] == 'r') {
				const char *t = a;
				size_t tn = an;
				a = b, an = bn, b = t, bn = tn;
			}
			st.using[st.s[L].ks.n] = false;
			keyspec_add(&st.s[L].ks, a + 2, an - 2);
			keyspec_add(&st.s[R].ks, b + 2, bn - 2);
		}
		if (!comma)
			break;
		p = comma + 1;
	}
}

/* --between: [S.F BETWEEN] O.F [+|- D] AND O.F [+|- D], where S and O are
 * l and r in either order and keywords are case-insensitive.  Sets the time
 * columns and [lo, hi] for left time - right time. */
struct lexer {
	const char *s, *p;
};

static _Noreturn void bad_range(const struct lexer *lx, const char *what)
{
	usage_error(help, "invalid --between: %s at '%s' in '%s'", what, *lx->p ? lx->p : "end", lx->s);
}

static void skip_ws(struct lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t')
		lx->p++;
}

static bool keyword(struct lexer *lx, const char *kw)
{
	skip_ws(lx);
	size_t n = strlen(kw);
	if (strncasecmp(lx->p, kw, n) || (lx->p[n] && lx->p[n] != ' ' && lx->p[n] != '\t'))
		return false;
	lx->p += n;
	return true;
}

static bool is_colchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '@' || c == '$';
}

/* "l.ts" or "r.ts": the side, and the column in *col. */
static int column_ref(struct lexer *lx, char **col)
{
	skip_ws(lx);
	if ((lx->p[0] != 'l' && lx->p[0] != 'r') || lx->p[1] != '.' || !is_colchar(lx->p[2]) || lx->p[2] == '.')
		bad_range(lx, "expected l.COLUMN or r.COLUMN");
	int side = lx->p[0] == 'l' ? L : R;
	const char *start = lx->p + 2;
	lx->p = start;
	while (is_colchar(*lx->p))
		lx->p++;
	*col = xstrndup(start, (size_t)(lx->p - start));
	return side;
}

/* O.F [+|- D]: the offset in microseconds. */
static int64_t bound(struct lexer *lx, int *side, char **col)
{
	*side = column_ref(lx, col);
	skip_ws(lx);
	if (*lx->p != '+' && *lx->p != '-')
		return 0;
	bool neg = *lx->p++ == '-';
	skip_ws(lx);
	const char *start = lx->p;
	while (*lx->p && *lx->p != ' ' && *lx->p != '\t')
		lx->p++;
	char *d = xstrndup(start, (size_t)(lx->p - start));
	int64_t us = duration_us(d);
	free(d);
	if (us < 0) {
		lx->p = start;
		bad_range(lx, "expected a duration such as 10m");
	}
	return neg ? -us : us;
}

static void parse_between(const char *spec)
{
	struct lexer lx = {spec, spec};
	char *subject = NULL, *c1, *c2;
	int sside = -1, s1, s2;
	const char *save = lx.p;
	/* a subject is a column followed by BETWEEN */
	skip_ws(&lx);
	if ((lx.p[0] == 'l' || lx.p[0] == 'r') && lx.p[1] == '.') {
		char *col;
		int side = column_ref(&lx, &col);
		if (keyword(&lx, "between")) {
			sside = side;
			subject = col;
		} else {
			free(col);
			lx.p = save;
		}
	}
	int64_t a = bound(&lx, &s1, &c1);
	if (!keyword(&lx, "and"))
		bad_range(&lx, "expected AND");
	int64_t b = bound(&lx, &s2, &c2);
	skip_ws(&lx);
	if (*lx.p)
		bad_range(&lx, "unexpected text");
	if (s1 != s2 || strcmp(c1, c2))
		usage_error(help, "invalid --between: both bounds must use the same column in '%s'", spec);
	if (sside == s1)
		usage_error(help, "invalid --between: the bounds must name the other input than '%s'", spec);
	if (a > b)
		usage_error(help, "invalid --between: the lower bound is above the upper one in '%s'", spec);
	int other = s1, subj = other == L ? R : L;
	st.s[other].time = c1;
	free(c2);
	if (subject)
		st.s[subj].time = subject;
	else
		st.s[subj].time = xstrdup(opt.time ? opt.time : c1);
	if (other == R) {
		/* left within [right + a, right + b] */
		st.lo = a;
		st.hi = b;
	} else {
		/* right within [left + a, left + b]: left - right in [-b, -a] */
		st.lo = -b;
		st.hi = -a;
	}
}

/* ---- column sets ---- */

static long colset_find(const struct colset *cs, const char *name, size_t n)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->lens[i] == n && !memcmp(cs->names[i], name, n))
			return (long)i;
	return -1;
}

static void colset_add(struct colset *cs, const char *name, size_t n)
{
	if (cs->n == COLSET_MAX) {
		if (!cs->full_warned)
			warnx("more than %d distinct columns: outer rows pad only the first ones", COLSET_MAX);
		cs->full_warned = true;
		return;
	}
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? 2 * cs->cap : 16;
		cs->names = xrealloc(cs->names, cs->cap * sizeof *cs->names);
		cs->lens = xrealloc(cs->lens, cs->cap * sizeof *cs->lens);
	}
	cs->names[cs->n] = xstrndup(name, n);
	cs->lens[cs->n++] = (uint32_t)n;
}

/* Note the columns of a record; records of a typed stream all have the
 * columns already seen, in the same order, which is checked first. */
static void colset_note(struct colset *cs, const struct value *rec)
{
	for (uint32_t i = 0; i < rec->n; i++) {
		const struct value *k = &rec->a[2 * i];
		if (i < cs->n && cs->lens[i] == k->n && !memcmp(cs->names[i], k->s, k->n))
			continue;
		if (colset_find(cs, k->s, k->n) < 0)
			colset_add(cs, k->s, k->n);
	}
}

static void colset_free(struct colset *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->names[i]);
	free(cs->names);
	free(cs->lens);
	memset(cs, 0, sizeof *cs);
}

/* ---- output ---- */

/* Is the top-level column `name` a key written once (the 'id' form)? */
static bool using_key(const char *name, size_t n)
{
	const struct keyspec *ks = &st.s[R].ks;
	for (size_t i = 0; i < ks->n; i++)
		if (st.using[i] && strlen(ks->paths[i]) == n && !memcmp(ks->paths[i], name, n))
			return true;
	return false;
}

/* Does the left side have column `name`: the record l when there is one,
 * else the schema ls, else the columns its records have had. */
static bool left_has(const struct value *l, const struct type *ls, const char *name, size_t n)
{
	if (l)
		return value_get(l, name, n) != NULL;
	if (ls) {
		for (size_t i = 0; i < ls->nfields; i++)
			if (strlen(ls->fields[i].name) == n && !memcmp(ls->fields[i].name, name, n))
				return true;
		return false;
	}
	return colset_find(&st.s[L].cols, name, n) >= 0;
}

/* The output name of right column `name`: prefixed when --prefix says so or
 * when the left side has a column of that name (again until it is free). */
static struct value right_name(const struct value *l, const struct type *ls, const char *name, size_t n)
{
	const char *pre = opt.prefix ? opt.prefix : "right_";
	if (!opt.prefix && !left_has(l, ls, name, n))
		return value_str(name, n);
	struct buf b = BUF_INIT;
	buf_puts(&b, pre);
	buf_put(&b, name, n);
	while (left_has(l, ls, b.p, b.len)) {
		struct buf c = BUF_INIT;
		buf_puts(&c, pre);
		buf_put(&c, b.p, b.len);
		buf_free(&b);
		b = c;
	}
	struct value v = value_str(arena_strndup(&st.tmp, b.p, b.len), b.len);
	buf_free(&b);
	return v;
}

/* Write the joined row of l and r; either may be NULL (the outer side with
 * no partner), whose columns are then nulls - except keys written once,
 * which take the other side's value. */
static void emit(const struct value *l, const struct value *r)
{
	const struct colset *lc = &st.s[L].cols, *rc = &st.s[R].cols;
	size_t nl = l ? l->n : lc->n, nr = r ? r->n : rc->n;
	struct value *pairs = arena_alloc(&st.tmp, 2 * (nl + nr) * sizeof *pairs);
	size_t n = 0;
	if (l) {
		memcpy(pairs, l->a, 2 * nl * sizeof *pairs);
		n = nl;
	} else {
		for (size_t i = 0; i < nl; i++) {
			pairs[2 * n] = value_str(lc->names[i], lc->lens[i]);
			const struct value *kv = using_key(lc->names[i], lc->lens[i]) ? value_get(r, lc->names[i], lc->lens[i]) : NULL;
			pairs[2 * n + 1] = kv ? *kv : value_null();
			n++;
		}
	}
	for (size_t i = 0; i < nr; i++) {
		const char *name = r ? r->a[2 * i].s : rc->names[i];
		size_t len = r ? r->a[2 * i].n : rc->lens[i];
		if (using_key(name, len))
			continue;
		pairs[2 * n] = right_name(l, NULL, name, len);
		pairs[2 * n + 1] = r ? r->a[2 * i + 1] : value_null();
		n++;
	}
	struct value out = {.type = V_OBJECT, .n = (uint32_t)n, .a = pairs};
	rec_write(st.out, &out);
	st.output++;
}

static void emit_left_only(const struct value *l)
{
	rec_write(st.out, l);
	st.output++;
}

/* Framed output says what its rows are when both sides say it of theirs
 * (a framed input's schema frame, a Delta table's schema): the left
 * columns, then the right ones named as in emit(); columns of a side that
 * an outer join may pad with nulls are nullable. */
static void announce_schema(void)
{
	if (!rec_writer_framed(st.out))
		return;
	const struct type *ls = st.schema[L], *rs = st.schema[R];
	struct type *out = NULL;
	if (ls && (opt.type == J_SEMI || opt.type == J_ANTI)) {
		out = type_clone(ls);
	} else if (ls && rs && ls->kind == T_STRUCT && rs->kind == T_STRUCT) {
		bool lnull = opt.type == J_RIGHT || opt.type == J_FULL, rnull = opt.type == J_LEFT || opt.type == J_FULL;
		out = type_new(T_STRUCT);
		for (size_t i = 0; i < ls->nfields; i++) {
			const struct field *f = &ls->fields[i];
			bool key = using_key(f->name, strlen(f->name));
			type_add_field(out, f->name, type_clone(f->type), f->nullable || (lnull && !key));
		}
		for (size_t i = 0; i < rs->nfields; i++) {
			const struct field *f = &rs->fields[i];
			if (using_key(f->name, strlen(f->name)))
				continue;
			struct value name = right_name(NULL, ls, f->name, strlen(f->name));
			char *z = xstrndup(name.s, name.n);
			type_add_field(out, z, type_clone(f->type), f->nullable || rnull);
			free(z);
		}
		arena_reset(&st.tmp);
	}
	rec_writer_schema(st.out, out);
	type_free(out);
}

/* Keep up with the schema frames of input i. */
static void note_schema(int i, const struct rec_reader *r)
{
	uint64_t v = rec_reader_schema_version(r);
	if (v == st.schema_seen[i])
		return;
	st.schema_seen[i] = v;
	type_free(st.schema[i]);
	st.schema[i] = rec_reader_schema(r) ? type_clone(rec_reader_schema(r)) : NULL;
	announce_schema();
}

static void report_bad(const struct rec_reader *r, uint64_t pos, const char *what)
{
	if (++st.bad <= 10)
		warnx("bad record %" PRIu64 " in '%s': %s", pos, rec_reader_name(r), what);
	if (st.bad == 10)
		warnx("further bad records are counted, not shown");
}

/* ---- the static table ---- */

static void free_table(void)
{
	struct keytab *t = &st.s[R].tab;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].e)
			free(KEYED_OF(t->slots[i].e, struct tgroup, ke));
	keytab_free(t);
	arena_free(&st.table);
	colset_free(&st.s[R].cols);
	buf_free(&st.null_text);
	st.s[R].rows = 0;
	st.s[R].bytes = 0;
}

static bool table_changed(void)
{
	if (st.delta) {
		char err[512];
		int64_t v = delta_latest_version(opt.right, err, sizeof err);
		if (v < -1)
			warnx("cannot check table '%s' for a new version: %s", opt.right, err);
		return v > st.t_version;
	}
	struct stat sb;
	if (stat(opt.right, &sb))
		return false; /* being replaced: keep the old one until the new is there */
	return sb.st_ino != st.t_ino || sb.st_size != st.t_size || sb.st_mtim.tv_sec != st.t_mtime.tv_sec ||
	       sb.st_mtim.tv_nsec != st.t_mtime.tv_nsec;
}

/* The right columns of row v (or nulls for every right column) as JSON
 * member text, named as when the left side has none of them. */
static void right_text(struct buf *b, const struct value *v)
{
	const struct colset *rc = &st.s[R].cols;
	size_t n = v ? v->n : rc->n;
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		const char *name = v ? v->a[2 * i].s : rc->names[i];
		size_t len = v ? v->a[2 * i].n : rc->lens[i];
		if (using_key(name, len))
			continue;
		if (!first)
			buf_putc(b, ',');
		first = false;
		if (opt.prefix) {
			struct buf pn = BUF_INIT;
			buf_puts(&pn, opt.prefix);
			buf_put(&pn, name, len);
			json_write_string(b, pn.p, pn.len);
			buf_free(&pn);
		} else {
			json_write_string(b, name, len);
		}
		buf_putc(b, ':');
		if (v)
			json_write(b, &v->a[2 * i + 1]);
		else
			buf_puts(b, "null");
	}
}

/* Give every key its rows' text, moving the group to a block that holds it
 * after the key. */
static void compile_table(void)
{
	struct keytab *t = &st.s[R].tab;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i].e)
			continue;
		struct tgroup *g = KEYED_OF(t->slots[i].e, struct tgroup, ke);
		buf_reset(&b);
		for (const struct srow *r = g->rows; r; r = r->next) {
			size_t at = b.len;
			uint32_t len = 0;
			buf_put(&b, &len, 4);
			right_text(&b, &r->v);
			len = (uint32_t)(b.len - at - 4);
			memcpy(b.p + at, &len, 4);
		}
		size_t klen = g->ke.klen;
		g = xrealloc(g, sizeof *g + klen + b.len);
		g->ke.key = (const char *)(g + 1);
		memcpy((char *)(g + 1) + klen, b.p, b.len);
		g->textlen = (uint32_t)b.len;
		t->slots[i].e = &g->ke;
		st.s[R].bytes += sizeof *g + klen + b.len;
	}
	buf_free(&b);
	right_text(&st.null_text, NULL);
}

static void table_add(const struct value *row)
{
	struct side *s = &st.s[R];
	buf_reset(&st.key);
	if (keyspec_encode(&s->ks, row, &st.key))
		return; /* a null key matches nothing */
	colset_note(&s->cols, row);
	uint64_t h = key_hash(st.key.p, st.key.len);
	struct keyent *ke = keytab_find(&s->tab, st.key.p, st.key.len, h);
	struct tgroup *g;
	if (ke) {
		g = KEYED_OF(ke, struct tgroup, ke);
	} else {
		g = xcalloc(1, sizeof *g + st.key.len);
		memcpy(g + 1, st.key.p, st.key.len);
		g->ke.key = (const char *)(g + 1);
		g->ke.klen = (uint32_t)st.key.len;
		g->ke.hash = h;
		keytab_insert(&s->tab, &g->ke);
	}
	struct srow *sr = arena_alloc(&st.table, sizeof *sr);
	value_copy(&st.table, &sr->v, row);
	/* a key's rows join in the table's order */
	sr->next = NULL;
	if (g->last)
		g->last->next = sr;
	else
		g->rows = sr;
	g->last = sr;
	g->nrows++;
	s->rows++;
	if (opt.max_state && (int64_t)(arena_used(&st.table) + keytab_bytes(&s->tab)) > opt.max_state)
		die(EXIT_TROUBLE, "table '%s' exceeds --max-state", opt.right);
}

static void load_file(void)
{
	int fd = open(opt.right, O_RDONLY);
	if (fd < 0)
		die_errno(EXIT_TROUBLE, "cannot open '%s'", opt.right);
	struct stat sb;
	if (fstat(fd, &sb))
		die_errno(EXIT_TROUBLE, "cannot stat '%s'", opt.right);
	st.t_ino = sb.st_ino;
	st.t_size = sb.st_size;
	st.t_mtime = sb.st_mtim;
	struct rec_reader *r = rec_reader_open(fd, opt.right);
	struct record rec;
	enum rec_kind k;
	while ((k = rec_read(r, &rec)) != REC_EOF) {
		if (k == REC_BAD)
			report_bad(r, rec.pos, rec.err);
		else if (k == REC_DATA)
			table_add(&rec.v);
	}
	type_free(st.schema[R]);
	st.schema[R] = rec_reader_schema(r) ? type_clone(rec_reader_schema(r)) : NULL;
	rec_reader_close(r);
	close(fd);
}

static _Noreturn void table_die(const char *err)
{
	die(EXIT_TROUBLE, "cannot read table '%s': %s", opt.right, err);
}

static void load_delta(void)
{
	char err[512];
	struct delta_snapshot *snap = delta_open(opt.right, DELTA_LATEST, err, sizeof err);
	if (!snap)
		table_die(err);
	st.t_version = snap->version;
	type_free(st.schema[R]);
	st.schema[R] = type_clone(snap->meta.schema);
	/* the table's columns, also those no row has a value for */
	for (size_t i = 0; i < snap->meta.schema->nfields; i++)
		colset_add(&st.s[R].cols, snap->meta.schema->fields[i].name, strlen(snap->meta.schema->fields[i].name));
	struct delta_scan *sc = delta_scan_open(snap, snap->files, snap->nfiles, NULL, 0, NULL, err, sizeof err);
	if (!sc)
		table_die(err);
	struct arena a = {0};
	struct value row;
	int rc;
	while ((rc = delta_scan_next(sc, &a, &row, err, sizeof err)) > 0)
		table_add(&row);
	if (rc < 0)
		table_die(err);
	delta_scan_close(sc);
	arena_free(&a);
	delta_snapshot_free(snap);
}

static void load_table(void)
{
	free_table();
	st.shape_valid = false;
	if (st.delta)
		load_delta();
	else
		load_file();
	compile_table();
	st.s[R].bytes += arena_used(&st.table) + keytab_bytes(&st.s[R].tab);
	announce_schema();
	verbose(1, "loaded %zu rows from '%s'", st.s[R].rows, opt.right);
}

static void maybe_refresh(void)
{
	int64_t now = mono_micros();
	if (now < st.next_check)
		return;
	st.next_check = now + opt.refresh;
	if (table_changed())
		load_table();
}

/* Do the names of the right columns clash with the left record's?  Records
 * of a stream mostly share one shape, so the answer is kept for the last
 * shape seen. */
static bool names_clash(const struct value *l)
{
	bool same = st.shape_valid && st.shape_n == l->n;
	const char *p = st.shape.p, *end = p + st.shape.len;
	for (uint32_t i = 0; same && i < l->n; i++) {
		const struct value *k = &l->a[2 * i];
		uint32_t len;
		if ((size_t)(end - p) < 4 + (size_t)k->n)
			same = false;
		else {
			memcpy(&len, p, 4);
			same = len == k->n && !memcmp(p + 4, k->s, k->n);
			p += 4 + k->n;
		}
	}
	if (same)
		return st.shape_clash;
	buf_reset(&st.shape);
	for (uint32_t i = 0; i < l->n; i++) {
		uint32_t len = l->a[2 * i].n;
		buf_put(&st.shape, &len, 4);
		buf_put(&st.shape, l->a[2 * i].s, len);
	}
	st.shape_n = l->n;
	st.shape_valid = true;
	st.shape_clash = false;
	const struct colset *rc = &st.s[R].cols;
	for (size_t i = 0; i < rc->n && !st.shape_clash; i++) {
		if (using_key(rc->names[i], rc->lens[i]))
			continue;
		struct value name = right_name(l, NULL, rc->names[i], rc->lens[i]);
		size_t plen = opt.prefix ? strlen(opt.prefix) : 0;
		st.shape_clash = name.n != plen + rc->lens[i];
	}
	arena_reset(&st.tmp);
	return st.shape_clash;
}

/* Write left record text with `text` spliced in as more members. */
static void splice_row(const struct record *rec, const char *text, size_t n)
{
	size_t ln = rec->rawlen;
	const char *lp = rec->raw;
	while (ln && lp[ln - 1] != '}')
		ln--;
	ln--; /* the closing brace */
	size_t k = ln;
	while (k && (lp[k - 1] == ' ' || lp[k - 1] == '\t' || lp[k - 1] == '\r'))
		k--;
	bool empty = lp[k - 1] == '{';
	buf_reset(&st.scratch);
	buf_put(&st.scratch, lp, ln);
	if (n) {
		if (!empty)
			buf_putc(&st.scratch, ',');
		buf_put(&st.scratch, text, n);
	}
	buf_putc(&st.scratch, '}');
	rec_write_ndjson(st.out, st.scratch.p, st.scratch.len);
	st.output++;
}

static void static_row(const struct record *rec)
{
	struct side *s = &st.s[R];
	st.s[L].records++;
	if (opt.refresh >= 0)
		maybe_refresh();
	buf_reset(&st.key);
	const struct tgroup *g = NULL;
	if (!keyspec_encode(&st.s[L].ks, &rec->v, &st.key)) {
		struct keyent *ke = keytab_find(&s->tab, st.key.p, st.key.len, key_hash(st.key.p, st.key.len));
		if (ke)
			g = KEYED_OF(ke, struct tgroup, ke);
	}
	if (opt.type == J_SEMI || opt.type == J_ANTI) {
		if ((g != NULL) == (opt.type == J_SEMI)) {
			rec_forward(st.out, rec);
			st.output++;
		}
		return;
	}
	if (!g && opt.type == J_INNER)
		return;
	/* raw[0] is '{' only for NDJSON input */
	if (!rec_writer_framed(st.out) && rec->raw && rec->raw[0] == '{' && !names_clash(&rec->v)) {
		if (!g) {
			splice_row(rec, st.null_text.p, st.null_text.len);
			return;
		}
		const char *p = (const char *)(g + 1) + g->ke.klen, *end = p + g->textlen;
		while (p < end) {
			uint32_t len;
			memcpy(&len, p, 4);
			splice_row(rec, p + 4, len);
			p += 4 + len;
		}
		return;
	}
	if (!g)
		emit(&rec->v, NULL);
	for (const struct srow *m = g ? g->rows : NULL; m; m = m->next)
		emit(&rec->v, &m->v);
	arena_reset(&st.tmp);
}

/* ---- stream-stream state ---- */

static size_t state_bytes(void)
{
	size_t b = 0;
	for (int i = 0; i < 2; i++)
		b += st.s[i].bytes + keytab_bytes(&st.s[i].tab) + st.s[i].heap.cap * sizeof(void *);
	return b;
}

static const char *row_data(const struct row *w)
{
	return (const char *)(w + 1);
}

static struct value row_value(const struct row *w)
{
	struct value v;
	const unsigned char *p = (const unsigned char *)row_data(w);
	if (frame_get_value(&st.tmp, &p, p + w->len, &v))
		die(EXIT_TROUBLE, "corrupt row in state");
	return v;
}

static struct row *store_row(struct side *s, const char *key, size_t klen, uint64_t h, int64_t t,
			     const struct value *v, bool matched)
{
	buf_reset(&st.scratch);
	frame_put_value(&st.scratch, v);
	struct keyent *ke = keytab_find(&s->tab, key, klen, h);
	struct group *g;
	if (ke) {
		g = KEYED_OF(ke, struct group, ke);
	} else {
		g = xcalloc(1, sizeof *g + klen);
		memcpy(g + 1, key, klen);
		g->ke.key = (const char *)(g + 1);
		g->ke.klen = (uint32_t)klen;
		g->ke.hash = h;
		keytab_insert(&s->tab, &g->ke);
		s->bytes += sizeof *g + klen;
	}
	struct row *w = xmalloc(sizeof *w + st.scratch.len);
	memcpy(w + 1, st.scratch.p, st.scratch.len);
	w->len = (uint32_t)st.scratch.len;
	w->matched = matched;
	w->g = g;
	w->next = NULL;
	w->prev = g->tail;
	if (g->tail)
		g->tail->next = w;
	else
		g->head = w;
	g->tail = w;
	w->he.t = t;
	theap_push(&s->heap, &w->he);
	s->rows++;
	s->bytes += sizeof *w + w->len;
	if (st.s[L].rows + st.s[R].rows > st.peak_rows)
		st.peak_rows = st.s[L].rows + st.s[R].rows;
	if (opt.max_state && (int64_t)state_bytes() > opt.max_state)
		die(EXIT_TROUBLE, "state exceeds --max-state: %zu rows in %zu bytes", st.s[L].rows + st.s[R].rows,
		    state_bytes());
	return w;
}

static void drop_row(struct side *s, struct row *w)
{
	struct group *g = w->g;
	theap_remove(&s->heap, &w->he);
	if (w->prev)
		w->prev->next = w->next;
	else
		g->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		g->tail = w->prev;
	s->rows--;
	s->bytes -= sizeof *w + w->len;
	free(w);
	if (!g->head) {
		keytab_remove(&s->tab, &g->ke);
		s->bytes -= sizeof *g + g->ke.klen;
		free(g);
	}
}

/* Does side i preserve its unmatched rows (outer), or write them (anti)? */
static bool preserves(int i)
{
	switch (opt.type) {
	case J_LEFT: return i == L;
	case J_RIGHT: return i == R;
	case J_FULL: return true;
	case J_ANTI: return i == L;
	default: return false;
	}
}

/* Write the row of side i that found no partner. */
static void emit_unmatched(int i, const struct value *v)
{
	if (opt.type == J_ANTI)
		emit_left_only(v);
	else if (i == L)
		emit(v, NULL);
	else
		emit(NULL, v);
}

/* Rows of side i that no future row of the other side can match: with
 * left - right in [lo, hi] and future rows after the watermark, a left row
 * is done when lt < wm + lo and a right row when rt < wm - hi.  (Spark's
 * state watermarks: strict, so a row exactly at the bound stays one more
 * round.)  Returns the bound, or WM_NONE when nothing can be evicted. */
static int64_t evict_bound(int i)
{
	if (st.wm == WM_NONE)
		return WM_NONE;
	if (st.wm == WM_END)
		return WM_END;
	int128_t b = (int128_t)st.wm + (i == L ? st.lo : -(int128_t)st.hi);
	if (b <= INT64_MIN + 1)
		return WM_NONE;
	return b >= INT64_MAX ? WM_END : (int64_t)b;
}

static void evict(void)
{
	for (int i = 0; i < 2; i++) {
		struct side *s = &st.s[i];
		int64_t bound = evict_bound(i);
		if (bound == WM_NONE)
			continue;
		struct heapent *h;
		while ((h = theap_top(&s->heap)) && (bound == WM_END || h->t < bound)) {
			struct row *w = KEYED_OF(h, struct row, he);
			if (!w->matched && preserves(i)) {
				struct value v = row_value(w);
				emit_unmatched(i, &v);
				arena_reset(&st.tmp);
			}
			drop_row(s, w);
		}
	}
}

static void update_watermark(void)
{
	/* An input at its end can send nothing more: its watermark is +inf,
	 * unless --no-flush keeps the state for inspection. */
	bool end_l = (st.s[L].eof && !opt.no_flush) || st.s[L].ended;
	bool end_r = (st.s[R].eof && !opt.no_flush) || st.s[R].ended;
	int64_t a = end_l ? WM_END : st.s[L].wm.wm, b = end_r ? WM_END : st.s[R].wm.wm;
	int64_t wm = a < b ? a : b;
	if (wm == WM_NONE || (st.wm != WM_NONE && wm <= st.wm))
		return;
	st.wm = wm;
	evict();
}

static bool time_match(int i, int64_t t, int64_t other)
{
	int128_t d = i == L ? (int128_t)t - other : (int128_t)other - t;
	return d >= st.lo && d <= st.hi;
}

static void stream_row(int i, const struct record *rec)
{
	struct side *s = &st.s[i], *o = &st.s[!i];
	s->records++;
	int64_t t;
	char msg[512];
	if (event_time(value_path(&rec->v, s->time), s->time, opt.unit, &t, msg, sizeof msg)) {
		report_bad(s->r, rec->pos, msg);
		return;
	}
	if (st.wm != WM_NONE && t <= st.wm) {
		st.late++;
		if (st.late_w)
			rec_forward(st.late_w, rec);
		return;
	}
	if (preserves(L) || preserves(R))
		colset_note(&s->cols, &rec->v);

	buf_reset(&st.key);
	bool nullkey = keyspec_encode(&s->ks, &rec->v, &st.key) > 0;
	uint64_t h = key_hash(st.key.p, st.key.len);
	bool matched = false;
	struct keyent *ke = nullkey ? NULL : keytab_find(&o->tab, st.key.p, st.key.len, h);
	for (struct row *w = ke ? KEYED_OF(ke, struct group, ke)->head : NULL; w; w = w->next) {
		if (!time_match(i, t, w->he.t))
			continue;
		bool first = !matched;
		matched = true;
		switch (opt.type) {
		case J_SEMI:
			if (i == L) {
				if (first)
					emit_left_only(&rec->v);
			} else if (!w->matched) {
				struct value v = row_value(w);
				emit_left_only(&v);
			}
			break;
		case J_ANTI:
			break;
		default: {
			struct value v = row_value(w);
			if (i == L)
				emit(&rec->v, &v);
			else
				emit(&v, &rec->v);
		}
		}
		w->matched = true;
		arena_reset(&st.tmp);
		if (opt.type == J_SEMI && i == L)
			break; /* one match is all a semi join needs to know */
	}

	/* Keep the row unless it can match nothing later: a null key, a time
	 * already below its side's eviction bound, or a left row of a semi or
	 * anti join that has found its answer. */
	int64_t bound = evict_bound(i);
	bool useless = nullkey || (bound != WM_NONE && (bound == WM_END || t < bound)) ||
		       ((opt.type == J_SEMI || opt.type == J_ANTI) && i == L && matched);
	if (!useless)
		store_row(s, st.key.p, st.key.len, h, t, &rec->v, matched);
	else if (!matched && preserves(i))
		emit_unmatched(i, &rec->v);
	arena_reset(&st.tmp);

	if (opt.advance_barrier) {
		if (s->wm.max_seen == WM_NONE || t > s->wm.max_seen)
			s->wm.max_seen = t;
	} else if (wm_observe(&s->wm, t)) {
		update_watermark();
	}
}

/* ---- snapshots ---- */

#define SNAP_MAGIC "WJN2"

static void put_colset(struct buf *b, const struct colset *cs)
{
	buf_uvarint(b, cs->n);
	for (size_t i = 0; i < cs->n; i++) {
		buf_uvarint(b, cs->lens[i]);
		buf_put(b, cs->names[i], cs->lens[i]);
	}
}

static void snapshot(int64_t id)
{
	struct buf b = BUF_INIT;
	char err[512];
	if (snap_put_header(&b, SNAP_MAGIC, st.fingerprint, st.late_w, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	buf_uvarint(&b, zigzag64(st.wm));
	for (int i = 0; i < 2; i++) {
		struct side *s = &st.s[i];
		buf_uvarint(&b, zigzag64(s->wm.max_seen));
		buf_uvarint(&b, zigzag64(s->wm.wm));
		put_colset(&b, &s->cols);
		buf_uvarint(&b, s->rows);
		/* key by key, each key's rows in arrival order, which restore keeps */
		for (size_t j = 0; j < s->tab.cap; j++) {
			if (!s->tab.slots[j].e)
				continue;
			struct group *g = KEYED_OF(s->tab.slots[j].e, struct group, ke);
			for (struct row *w = g->head; w; w = w->next) {
				buf_uvarint(&b, g->ke.klen);
				buf_put(&b, g->ke.key, g->ke.klen);
				buf_uvarint(&b, zigzag64(w->he.t));
				buf_putc(&b, w->matched);
				buf_uvarint(&b, w->len);
				buf_put(&b, row_data(w), w->len);
			}
		}
	}
	if (state_save(opt.state_dir, id, &b, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	buf_free(&b);
}

static void clear_side(struct side *s)
{
	struct heapent *h;
	while ((h = theap_top(&s->heap)))
		drop_row(s, KEYED_OF(h, struct row, he));
	colset_free(&s->cols);
}

static _Noreturn void corrupt(int64_t id)
{
	die(EXIT_TROUBLE, "corrupt state snapshot %" PRId64 " in '%s'", id, opt.state_dir);
}

static void restore(int64_t id)
{
	char err[2048]; /* room for the fingerprint in a mismatch */
	if (id == 0) {
		/* nothing committed yet: the initial state, and no snapshot
		 * of an earlier attempt may be taken for one of this run */
		st.wm = WM_NONE;
		for (int i = 0; i < 2; i++) {
			clear_side(&st.s[i]);
			wm_init(&st.s[i].wm, opt.delay[i] < 0 ? 0 : opt.delay[i]);
		}
		if (state_restore_zero(opt.state_dir, st.late_w, err, sizeof err))
			die(EXIT_TROUBLE, "%s", err);
		return;
	}
	struct buf b = BUF_INIT;
	struct snap_reader sr;
	if (snap_open(opt.state_dir, id, SNAP_MAGIC, st.fingerprint, st.late_w, &b, &sr, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	st.wm = snap_int(&sr);
	for (int i = 0; i < 2; i++) {
		struct side *s = &st.s[i];
		clear_side(s);
		s->wm.max_seen = snap_int(&sr);
		s->wm.wm = snap_int(&sr);
		uint64_t ncols = snap_uvarint(&sr);
		for (uint64_t j = 0; j < ncols && !sr.bad; j++) {
			size_t n = snap_uvarint(&sr);
			const char *name = snap_bytes(&sr, n);
			if (name)
				colset_add(&s->cols, name, n);
		}
		uint64_t rows = snap_uvarint(&sr);
		for (uint64_t j = 0; j < rows && !sr.bad; j++) {
			size_t klen = snap_uvarint(&sr);
			const char *key = snap_bytes(&sr, klen);
			int64_t t = snap_int(&sr);
			const char *matched = snap_bytes(&sr, 1);
			size_t len = snap_uvarint(&sr);
			const unsigned char *q = (const unsigned char *)snap_bytes(&sr, len);
			struct value v;
			if (sr.bad || frame_get_value(&st.tmp, &q, q + len, &v))
				corrupt(id);
			store_row(s, key, klen, key_hash(key, klen), t, &v, *matched);
			arena_reset(&st.tmp);
		}
	}
	if (sr.bad || sr.p != sr.end)
		corrupt(id);
	buf_free(&b);
	state_prune(opt.state_dir, id);
}

/* ---- control records and barrier alignment ---- */

/* Merge src's members into dst (objects recursively; dst wins on other
 * conflicts), so the forwarded barrier names the offsets of both inputs. */
static struct value merge_objects(const struct value *dst, const struct value *src)
{
	struct value *pairs = arena_alloc(&st.tmp, 2 * ((size_t)dst->n + src->n) * sizeof *pairs);
	memcpy(pairs, dst->a, 2 * (size_t)dst->n * sizeof *pairs);
	size_t n = dst->n;
	for (uint32_t i = 0; i < src->n; i++) {
		const struct value *k = &src->a[2 * i], *v = &src->a[2 * i + 1];
		size_t j;
		for (j = 0; j < n; j++)
			if (pairs[2 * j].n == k->n && !memcmp(pairs[2 * j].s, k->s, k->n))
				break;
		if (j == n) {
			pairs[2 * n] = *k;
			pairs[2 * n + 1] = *v;
			n++;
		} else if (pairs[2 * j + 1].type == V_OBJECT && v->type == V_OBJECT) {
			pairs[2 * j + 1] = merge_objects(&pairs[2 * j + 1], v);
		}
	}
	struct value out = {.type = V_OBJECT, .n = (uint32_t)n, .a = pairs};
	return out;
}

static void write_watermark(void)
{
	if (st.wm == WM_NONE || st.wm == st.wm_sent || st.wm == WM_END)
		return;
	struct value pairs[4] = {
		value_str("@weir", 5), value_str("watermark", 9), value_str("t", 1), value_int(st.wm),
	};
	struct value v = {.type = V_OBJECT, .n = 2, .a = pairs};
	rec_write_control(st.out, &v);
	st.wm_sent = st.wm;
}

/* An input at its end that holds no barrier back: it never carried
 * barriers, or it ended for good.  One that carried barriers and just
 * stopped (its upstream died) must not let barriers pass without it: its
 * records after its last barrier come again after a restart. */
static bool gone(const struct side *s)
{
	return s->eof && (!s->checkpointed || s->ended);
}

/* Barrier N has arrived on every input that is still open: the cut is
 * complete. */
static void complete_barrier(int64_t id)
{
	if (opt.advance_barrier) {
		for (int i = 0; i < 2; i++)
			wm_advance_to(&st.s[i].wm, wm_candidate(&st.s[i].wm));
		update_watermark();
	}
	write_watermark();
	rec_flush(st.out);
	if (st.late_w)
		rec_flush(st.late_w);
	if (opt.state_dir)
		snapshot(id);
	struct value merged = {0};
	bool have = false;
	int64_t committed = INT64_MAX, c;
	/* the inputs that delivered the barrier, then one that ended for good
	 * after an earlier barrier (held in barrier_rec): the cut holds its
	 * final offsets too */
	for (int k = 0; k < 4; k++) {
		struct side *s = &st.s[k % 2];
		bool ours = s->barrier == id;
		if (k < 2 ? !ours : ours || !s->eof || !s->ended || !s->barrier_rec.len)
			continue;
		struct value v;
		struct json_error je;
		if (json_parse(&st.tmp, s->barrier_rec.p, s->barrier_rec.len, &v, &je))
			die(EXIT_TROUBLE, "barrier record became unreadable: %s", je.msg);
		/* each input's is a lower bound of what the sink committed */
		committed = rec_control_committed(&v, &c) && c < committed ? c : committed;
		merged = have ? merge_objects(&merged, &v) : v;
		have = true;
		if (ours)
			s->barrier = -1;
	}
	if (opt.state_dir && committed != INT64_MAX)
		state_prune_below(opt.state_dir, committed);
	rec_write_control(st.out, &merged);
	arena_reset(&st.tmp);
}

static void on_control(int i, const struct record *rec)
{
	struct side *s = &st.s[i], *o = &st.s[!i];
	int64_t id;
	bool barrier = !strcmp(rec->control, "barrier"), restart = !strcmp(rec->control, "restore");
	if ((barrier || restart) && !rec_control_id(&rec->v, &id))
		die(EXIT_TROUBLE, "%s record %" PRIu64 " in '%s' has no integer id", rec->control, rec->pos,
		    rec_reader_name(s->r));
	if (barrier || restart)
		s->checkpointed = true;
	if (barrier) {
		if (o->barrier >= 0 && o->barrier != id)
			die(EXIT_TROUBLE, "barriers out of step: %" PRId64 " on the %s input, %" PRId64 " on the %s input",
			    id, s->what, o->barrier, o->what);
		s->barrier = id;
		buf_reset(&s->barrier_rec);
		json_write(&s->barrier_rec, &rec->v);
		if (!st.stream) {
			if (opt.refresh >= 0)
				maybe_refresh();
			s->barrier = -1;
			rec_forward(st.out, rec);
		} else if (gone(o) || o->barrier == id) {
			complete_barrier(id);
		}
	} else if (restart) {
		/* Every input of a restarted pipeline starts with the same restore;
		 * the first one loads the state, the others are the same news. */
		if (st.restored == id)
			return;
		if (st.restored >= 0)
			die(EXIT_TROUBLE, "restore %" PRId64 " on the %s input after restore %" PRId64, id, s->what,
			    st.restored);
		st.restored = id;
		if (opt.state_dir && st.stream)
			restore(id);
		else if (st.stream && id > 0)
			warnx("restore %" PRId64 " without --state: continuing with empty state", id);
		rec_forward(st.out, rec);
	} else if (!strcmp(rec->control, "watermark") && st.stream) {
		/* the join writes its own: the minimum over both inputs.  But
		 * an input whose stream is over for good (weir-ingest
		 * --end-of-stream) closes like one at its end, even with
		 * --no-flush, so the rows it frees come before the last barrier */
		const struct value *t = value_getz(&rec->v, "t");
		if (t && t->type == V_INT && t->i == WM_END) {
			s->ended = true;
			update_watermark();
		}
	} else {
		rec_forward(st.out, rec);
	}
}

/* ---- main loops ---- */

static struct rec_reader *open_input(struct side *s, const char *path)
{
	s->fd = 0;
	if (path && strcmp(path, "-") && (s->fd = open(path, O_RDONLY)) < 0)
		die_errno(EXIT_TROUBLE, "cannot open '%s'", path);
	s->r = rec_reader_open(s->fd, path && strcmp(path, "-") ? path : "<stdin>");
	rec_reader_flush_before_block(s->r, st.out);
	return s->r;
}

static void run_static(void)
{
	struct side *s = &st.s[L];
	load_table();
	open_input(s, NULL);
	struct record rec;
	enum rec_kind k;
	while ((k = rec_read(s->r, &rec)) != REC_EOF) {
		note_schema(L, s->r);
		if (k == REC_BAD)
			report_bad(s->r, rec.pos, rec.err);
		else if (k == REC_CONTROL)
			on_control(L, &rec);
		else
			static_row(&rec);
	}
	rec_reader_close(s->r);
}

/* With --max-drift, an input that is that far ahead of the other in event
 * time waits for it (Flink's watermark alignment): its rows could only wait
 * in state for the watermark, which the input behind holds back, so holding
 * the input keeps memory bounded and leaves the waiting to the pipe.  Never
 * when the other input has ended, waits at a barrier, or has sent nothing. */
static bool held_back(int i)
{
	const struct side *s = &st.s[i], *o = &st.s[!i];
	if (opt.max_drift < 0 || o->eof || o->barrier >= 0 || o->wm.max_seen == WM_NONE || s->wm.max_seen == WM_NONE)
		return false;
	return (int128_t)s->wm.max_seen - o->wm.max_seen > opt.max_drift;
}

/* The input to read next: one not waiting at a barrier, with a whole record
 * buffered or its descriptor readable; when both are, the one behind in
 * event time, else taking turns (so a file read in large chunks cannot
 * starve the other input).  -1 when both inputs are at their end. */
static int next_input(void)
{
	static int turn;
	for (;;) {
		int cand[2];
		bool buffered[2];
		nfds_t nc = 0, nb = 0;
		for (int k = 0; k < 2; k++) {
			int i = (turn + k) & 1;
			if (st.s[i].eof || st.s[i].barrier >= 0 || held_back(i))
				continue;
			buffered[nc] = rec_reader_buffered(st.s[i].r);
			nb += buffered[nc];
			cand[nc++] = i;
		}
		if (!nc)
			return -1;
		if (!buffered[0] || (nc == 2 && !buffered[1])) {
			/* Ask the kernel about the inputs with nothing buffered,
			 * without waiting when another one has a record ready. */
			struct pollfd pfd[2];
			for (nfds_t k = 0; k < nc; k++) {
				pfd[k].fd = buffered[k] ? -1 : rec_reader_fd(st.s[cand[k]].r);
				pfd[k].events = POLLIN;
				pfd[k].revents = 0;
			}
			if (!nb)
				rec_flush(st.out);
			if (poll(pfd, nc, nb ? 0 : -1) < 0) {
				if (errno == EINTR)
					continue;
				die_errno(EXIT_TROUBLE, "poll");
			}
			for (nfds_t k = 0; k < nc; k++)
				if (pfd[k].revents)
					buffered[k] = true;
		}
		if (nc == 2 && buffered[0] && buffered[1] && st.s[cand[1]].wm.max_seen < st.s[cand[0]].wm.max_seen) {
			/* Both have input: read the one behind in event time.  The
			 * other one's rows would only wait in state for the watermark,
			 * which the one behind holds back. */
			turn = cand[0];
			return cand[1];
		}
		for (nfds_t k = 0; k < nc; k++)
			if (buffered[k]) {
				turn = !cand[k];
				return cand[k];
			}
	}
}

static void run_stream(void)
{
	open_input(&st.s[L], opt.left_stream);
	open_input(&st.s[R], opt.right_stream);
	struct record rec;
	int i;
	while ((i = next_input()) >= 0) {
		struct side *s = &st.s[i];
		enum rec_kind k = rec_read(s->r, &rec);
		note_schema(i, s->r);
		if (k == REC_EOF) {
			s->eof = true;
			struct side *o = &st.s[!i];
			if (gone(s) && o->barrier >= 0)
				complete_barrier(o->barrier);
			update_watermark();
		} else if (k == REC_BAD) {
			report_bad(s->r, rec.pos, rec.err);
		} else if (k == REC_CONTROL) {
			on_control(i, &rec);
		} else {
			stream_row(i, &rec);
		}
	}
	for (i = 0; i < 2; i++) {
		struct side *s = &st.s[i];
		if (s->barrier >= 0)
			warnx("barrier %" PRId64 " of the %s input not forwarded: the %s input ended without the end of its "
			      "stream (a watermark at +inf), so its records after its last barrier come again after a restart",
			      s->barrier, s->what, st.s[!i].what);
		rec_reader_close(s->r);
	}
}

static void setup(void)
{
	st.s[L].what = "left";
	st.s[R].what = "right";
	for (int i = 0; i < 2; i++) {
		st.s[i].barrier = -1;
		wm_init(&st.s[i].wm, opt.delay[i] < 0 ? 0 : opt.delay[i]);
	}
	parse_on(opt.on);
	/* Outer rows without a left partner still carry the keys written once. */
	for (size_t i = 0; i < st.s[L].ks.n; i++)
		if (st.using[i])
			colset_add(&st.s[L].cols, st.s[L].ks.paths[i], strlen(st.s[L].ks.paths[i]));
	st.stream = opt.right_stream != NULL;
	if (st.stream)
		parse_between(opt.between);
	char lo[32], hi[32];
	snprintf(lo, sizeof lo, "%" PRId64, st.lo);
	snprintf(hi, sizeof hi, "%" PRId64, st.hi);
	snprintf(st.fingerprint, sizeof st.fingerprint, "on=%s;type=%s;range=%s,%s;time=%s,%s", opt.on,
		 jtype_names[opt.type], lo, hi, st.s[L].time ? st.s[L].time : "", st.s[R].time ? st.s[R].time : "");
}

int main(int argc, char **argv)
{
	diag_init("weir-join");
	int c;
	while ((c = getopt_long(argc, argv, "a:b:d:j:l:L:o:p:r:R:s:t:u:", longopts, NULL)) != -1) {
		opt_common(c, help);
		switch (c) {
		case 'a':
			if (!parse_advance(optarg, &opt.advance_barrier))
				usage_error(help, "invalid --advance: '%s' (want record or barrier)", optarg);
			break;
		case 'b': opt.between = optarg; break;
		case 'd': opt.delay[L] = opt.delay[R] = parse_duration(optarg, "--delay"); break;
		case 'j': {
			size_t k;
			for (k = 0; k < sizeof jtype_names / sizeof *jtype_names; k++)
				if (!strcmp(optarg, jtype_names[k]))
					break;
			if (k == sizeof jtype_names / sizeof *jtype_names)
				usage_error(help, "invalid --type: '%s' (want inner, left, right, full, semi or anti)", optarg);
			opt.type = (enum jtype)k;
			break;
		}
		case 'l': opt.late = optarg; break;
		case 'L': opt.left_stream = optarg; break;
		case 'o': opt.on = optarg; break;
		case 'p': opt.prefix = optarg; break;
		case 'r': opt.right = optarg; break;
		case 'R': opt.right_stream = optarg; break;
		case 's': opt.state_dir = optarg; break;
		case 't': opt.time = optarg; break;
		case 'u':
			if (!parse_time_unit(optarg, &opt.unit))
				usage_error(help, "invalid --time-unit: '%s' (want s, ms or us)", optarg);
			break;
		case OPT_REFRESH: opt.refresh = parse_duration(optarg, "--refresh"); break;
		case OPT_LEFT_DELAY: opt.delay[L] = parse_duration(optarg, "--left-delay"); break;
		case OPT_RIGHT_DELAY: opt.delay[R] = parse_duration(optarg, "--right-delay"); break;
		case OPT_NO_FLUSH: opt.no_flush = true; break;
		case OPT_MAX_DRIFT: opt.max_drift = parse_duration(optarg, "--max-drift"); break;
		case OPT_MAX_STATE: opt.max_state = parse_size(optarg, "--max-state"); break;
		case OPT_STATS: opt.stats = true; break;
		case OPT_FRAMED: opt.framed = true; break;
		}
	}
	if (optind < argc)
		usage_error(help, "unexpected argument '%s'", argv[optind]);
	if (!opt.on)
		usage_error(help, "--on is required");
	if (opt.prefix && !*opt.prefix)
		usage_error(help, "--prefix must not be empty");
	if (!opt.right == !opt.right_stream)
		usage_error(help, "give one of --right (a table) or --right-stream (a stream)");
	if (opt.right) {
		if (opt.type == J_RIGHT || opt.type == J_FULL)
			usage_error(help, "a stream-table join preserves only the stream: use inner, left, semi or anti");
		if (opt.between || opt.left_stream || opt.state_dir || opt.late || opt.advance_barrier ||
		    opt.delay[L] >= 0 || opt.delay[R] >= 0 || opt.no_flush || opt.time || opt.max_drift >= 0)
			usage_error(help, "--between, --left-stream, --time, --delay, --advance, --no-flush, --max-drift, "
					  "--late and --state are for stream-stream joins");
	} else {
		if (!opt.between)
			usage_error(help, "a stream-stream join needs --between to bound its state");
		if (opt.refresh >= 0)
			usage_error(help, "--refresh is for --right tables");
		if (!strcmp(opt.right_stream, "-") && (!opt.left_stream || !strcmp(opt.left_stream, "-")))
			usage_error(help, "the two inputs cannot both be standard input");
	}
	setup();

	st.out = rec_writer_open(1, rec_want_framed(opt.framed));
	if (opt.late) {
		int fd = open(opt.late, O_WRONLY | O_CREAT | O_APPEND, 0666);
		if (fd < 0)
			die_errno(EXIT_TROUBLE, "cannot open '%s'", opt.late);
		st.late_w = rec_writer_open(fd, false);
	}
	if (opt.state_dir) {
		char err[512];
		if (state_dir_init(opt.state_dir, err, sizeof err))
			die(EXIT_TROUBLE, "%s", err);
	}
	if (st.stream) {
		run_stream();
	} else {
		struct stat sb;
		char log[4200];
		snprintf(log, sizeof log, "%s/_delta_log", opt.right);
		st.delta = !stat(log, &sb) && S_ISDIR(sb.st_mode);
		run_static();
	}
	if (st.late_w)
		rec_writer_close(st.late_w);
	if (opt.stats)
		warnx("stats: left=%" PRIu64 " right=%" PRIu64 " output=%" PRIu64 " late=%" PRIu64 " bad=%" PRIu64
		      " state_rows=%zu state_bytes=%zu peak_rows=%zu",
		      st.s[L].records, st.stream ? st.s[R].records : (uint64_t)st.s[R].rows, st.output, st.late, st.bad,
		      st.stream ? st.s[L].rows + st.s[R].rows : st.s[R].rows,
		      st.stream ? state_bytes() : st.s[R].bytes,
		      st.stream ? st.peak_rows : st.s[R].rows);
	rec_writer_close(st.out);
	return finish_stdout(st.bad ? EXIT_NEGATIVE : EXIT_OK);
}
