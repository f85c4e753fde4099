/* window.c - weir-window: tumbling, sliding and session windows over event
 * time, with watermarks and SQL-style aggregates.
 *
 * The semantics are Spark Structured Streaming's (ARCHITECTURE §3,
 * notes/streaming-semantics.md): watermark = max event time - delay; a
 * record is late iff its time <= watermark (for a window: iff the window's
 * end <= watermark); append emits a window once when it becomes final,
 * update emits the rows a batch changed, complete the whole table.  With
 * --advance barrier the records between two barriers are one micro-batch
 * whose watermark was fixed at the previous barrier, which reproduces
 * Spark's results row for row; by default every record is a batch of its
 * own, so output is as early as the watermark allows.
 *
 * Why it is shaped this way: per record the work is one lookup of the group
 * key (interned, so a key living in many windows is stored once) in an
 * open-addressing table; the key lists its windows newest first, so the
 * windows a record falls in are a step or two away, and aggregate state
 * sits in fixed-size slots of a slab, so steady state allocates nothing.
 * Fields are found by position in records that share their keys.  Windows
 * sit in a heap by end, so finalizing is proportional to what is emitted and
 * memory to open windows x keys.  Snapshots on barriers (ARCHITECTURE §4)
 * make a crash anywhere replayable to identical output. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "evtime.h"
#include "frame.h"
#include "json.h"
#include "opt.h"
#include "record.h"
#include "schema.h"
#include "sketch.h"
#include "state.h"
#include "timeutil.h"
#include "value.h"

static const char help[] =
	"usage: weir-window (--tumble SIZE | --slide SIZE,EVERY | --session GAP)\n"
	"       -t FIELD|now -a AGGS [-b KEYS] [-d DELAY] [--offset D] [--time-unit s|ms|us]\n"
	"       [--emit append|update|complete] [--advance record|barrier] [--late FILE]\n"
	"       [--no-flush] [--max-state ROWS|SIZE] [--state DIR] [--framed] [-v] [FILE...]\n"
	"\n"
	"Aggregate records over event-time windows with watermarks.\n"
	"\n"
	"  --tumble SIZE          fixed windows [start, start+SIZE)\n"
	"  --slide SIZE,EVERY     windows of SIZE starting every EVERY\n"
	"  --session GAP          per key, events at most GAP apart form one window\n"
	"  --offset D             shift window alignment from the epoch by D (may be negative)\n"
	"  -t, --time FIELD|now   event time field (dotted path), or processing time\n"
	"      --time-unit U      unit of numeric event times: s, ms (default) or us\n"
	"  -b, --by KEYS          group keys, comma-separated field paths\n"
	"  -a, --agg AGGS         e.g. 'count(*) AS n, sum(amount) AS total'; functions:\n"
	"                         count(*), count(x), sum, avg, min, max, first, last,\n"
	"                         count_distinct, approx_count_distinct,\n"
	"                         approx_percentile(x, p), stddev\n"
	"  -d, --delay D          watermark delay (default 0): late iff time <= max - D\n"
	"      --emit MODE        append (default), update or complete, as in Spark\n"
	"      --advance WHEN     watermark moves per record (default) or at barriers\n"
	"      --late FILE        write late records to FILE (NDJSON)\n"
	"      --no-flush         at end of input, do not flush windows that are not final\n"
	"      --max-state N      fail (exit 2) when state exceeds N rows, or a size (512M)\n"
	"      --state DIR        snapshot state on barriers, load it on restore\n"
	"      --framed           framed binary output (also WEIR_FRAMED=1)\n"
	"  -v, --verbose          report counts at the end\n"
	"      --help, --version\n";

#define NIL UINT32_MAX

enum wkind { W_TUMBLE, W_SLIDE, W_SESSION };
enum emit { EMIT_APPEND, EMIT_UPDATE, EMIT_COMPLETE };
enum afn {
	A_COUNT_STAR, A_COUNT, A_SUM, A_AVG, A_MIN, A_MAX, A_FIRST, A_LAST,
	A_COUNT_DISTINCT, A_APPROX_DISTINCT, A_PERCENTILE, A_STDDEV,
};

static const char *const afn_names[] = {
	"count", "count", "sum", "avg", "min", "max", "first", "last",
	"count_distinct", "approx_count_distinct", "approx_percentile", "stddev",
};

/* A field path split once at startup, so records are not re-scanned for dots. */
struct path {
	char *text;
	size_t n;
	char **part;
	size_t *len;
	struct rec_field top; /* part[0], found by position in records of one layout */
};

struct agg {
	enum afn fn;
	struct path arg; /* n == 0 for count(*) */
	double p;        /* approx_percentile */
	char *name;
	size_t off;      /* of its state in an entry */
	bool number;     /* its argument must be a number */
	const struct type *in_type; /* the argument's type when the input has a schema */
};

static struct opts {
	enum wkind kind;
	int64_t size, slide, gap, offset;
	bool have_window;
	struct path time;
	bool proc_time;
	enum time_unit unit;
	struct path *keys;
	size_t nkeys;
	struct agg *aggs;
	size_t naggs;
	int64_t delay;
	enum emit emit;
	bool advance_barrier;
	const char *late_path;
	bool no_flush;
	uint64_t max_rows, max_bytes;
	const char *state_dir;
	bool framed;
	char **files;
	size_t nfiles;
} o;

/* ---- aggregate state ---- */

struct st_sum {
	union {
		int128_t i; /* kind 1, 2: exact, at `scale` */
		double f;   /* kind 3 */
	};
	int64_t n;   /* non-null values, for avg */
	uint8_t kind; /* 0 nothing yet, 1 integer, 2 decimal, 3 float */
	uint8_t scale;
};

struct st_dev {
	int64_t n;
	double mean, m2;
};

/* A value kept by min/max/first/last: scalars inline; strings and binary
 * own a copy; nested values own their framed encoding. */
struct st_val {
	struct value v;
	uint64_t seq;
	char *own;
	uint32_t own_len;
	uint8_t has;
};

/* count_distinct: the canonical encodings of the distinct values. */
struct dset {
	uint32_t *slot; /* offset+1 into bytes; 0 empty */
	uint64_t *hash; /* parallel to slot */
	uint32_t mask, n;
	struct buf bytes;
};

static size_t agg_size(enum afn fn)
{
	switch (fn) {
	case A_COUNT_STAR:
	case A_COUNT:
		return sizeof(int64_t);
	case A_SUM:
	case A_AVG:
		return sizeof(struct st_sum);
	case A_STDDEV:
		return sizeof(struct st_dev);
	case A_MIN:
	case A_MAX:
	case A_FIRST:
	case A_LAST:
		return sizeof(struct st_val);
	default:
		return sizeof(void *);
	}
}

static size_t agg_align(enum afn fn)
{
	switch (fn) {
	case A_SUM:
	case A_AVG:
		return _Alignof(struct st_sum);
	case A_MIN:
	case A_MAX:
	case A_FIRST:
	case A_LAST:
		return _Alignof(struct st_val);
	default:
		return 8;
	}
}

/* ---- tables ---- */

struct slot {
	uint32_t tag, idx; /* idx NIL = empty */
};

struct table {
	struct slot *s;
	uint32_t mask, n;
};

/* Keys this long or shorter live in the key itself: most do, and then
 * finding one touches a single cache line after the table's. */
#define KEY_INLINE 16

/* 32 bytes, so a key costs one cache line to look at; its hash is
 * computed again on the rare occasions (deletion) it is wanted. */
struct key {
	union {
		unsigned char *heap;
		unsigned char inl[KEY_INLINE];
	} b; /* the key values, framed encoding, one after another */
	uint32_t len;
	uint32_t refs; /* entries of the key; 0 idle (see key_sweep), KEY_FREE a free slot */
	uint32_t stamp; /* panes: the window last emitted for it */
};
_Static_assert(sizeof(struct key) == 32, "a key fills half a cache line");

/* What a record reads, its start and the link to its key's older entry,
 * comes last, next to the aggregate state, so that with the slab on cache
 * lines the part a record touches spans one line more often. */
struct entry {
	int64_t end;
	uint64_t seq;   /* creation order: output order among equal ends */
	uint32_t key;
	uint32_t next;  /* the window's list, or the key's sessions */
	uint32_t newer; /* tumble and slide: the key's entries (and older) */
	uint32_t dnext; /* rows changed in this batch (update mode) */
	uint32_t gen;   /* bumped on free, so stale heap items are recognized */
	uint8_t live, dirty;
	uint32_t older;
	int64_t start;
};

struct win {
	int64_t start;
	uint32_t head, tail;
};

/* A window (or pane) start found for a record, kept for the next. */
struct aligned {
	int64_t start;
	bool ok;
};

struct hitem {
	int64_t t;
	uint64_t seq;
	uint32_t idx, gen;
};

struct heap {
	struct hitem *a;
	size_t n, cap;
};

static struct st {
	/* entries: a slab of fixed-size records, header then aggregate slots */
	unsigned char *ent;
	size_t stride;
	uint32_t nent, capent, live;
	uint32_t *efree;
	uint32_t nefree, capefree;

	struct key *keys;
	/* each key's entries: sessions sorted by start (W_SESSION), else
	 * windows (or panes) newest first, so a record finds them without a
	 * lookup.  Beside the keys, not in them: a record's entry is then found
	 * from the table's slot while the key is still being compared, instead
	 * of after (most keys miss the first-level cache). */
	uint32_t *key_ents;
	uint32_t nkeys, capkeys;
	uint32_t *kfree;
	uint32_t nkfree, capkfree;
	uint32_t nidle; /* keys in the table without entries */
	struct table ktab;

	struct win *wins;
	uint32_t nwins, capwins;
	uint32_t *wfree;
	uint32_t nwfree, capwfree;
	struct table wtab;
	int64_t cache_start;
	uint32_t cache_win;
	struct aligned last_window, last_pane; /* of the latest record */

	struct heap heap; /* windows (or panes) by start, or sessions by end */

	/* panes (see "panes" below): entries are panes of this width */
	bool panes;
	int64_t pane, span;  /* pane width; what an entry covers, pane or window */
	int64_t next_emit;   /* the first window not yet emitted */
	bool have_next;
	/* sums: the largest unscaled magnitude and the scales seen since the
	 * panes began, the records since, and how many more keep it exact */
	uint64_t sum_umax, sum_n, sum_limit;
	uint8_t sum_smin, sum_smax;
	bool sum_seen;
	uint32_t stamp;
	struct wkey *wkeys;  /* a window's keys in order */
	const struct value **args; /* a record's aggregate arguments */
	size_t nwkeys;
	unsigned char *tmp_ent; /* a window's combined entry */
	uint32_t dhead, dtail; /* dirty list */

	struct watermark wm;  /* wm.wm: the watermark in force */
	int64_t upstream;     /* latest watermark record from upstream */
	int64_t announced;    /* last watermark record written */
	uint64_t seq, rseq;   /* entries created, data records read */
	uint64_t heap_bytes;  /* key bytes and aggregate data outside the slab */
	bool owning;          /* some aggregate state owns memory (agg_free has work) */
	bool plain;           /* every aggregate is count(*), count, sum or avg */
	bool grew;            /* an entry was created since check_limits */
	bool finalized;       /* a window became final since the last announcement */

	uint64_t nlate, nbad, nrecords, nrows;
	uint64_t peak_rows;

	struct arena out_arena, tmp_arena;
	struct buf scratch;
	/* NDJSON rows from parts (see emit_ndjson): ',"name":' per column,
	 * and the window columns of the last row with the first name, which
	 * the next rows nearly always share; out: the writer's buffer, NULL
	 * when the output is framed (then prefix holds the encoded window
	 * times, see emit_framed_row) */
	struct buf names, prefix, *out;
	struct buf row; /* a framed row's payload (emit_framed_row) */
	size_t *name_off;
	size_t row_room;
	int64_t prefix_start, prefix_end;
	bool prefix_ok;
	struct rec_writer *w, *late;
	struct type *schema; /* framed output: announced columns */
	bool *guessed; /* per column after the window's: see fits_column */
	struct type *in_schema;     /* a copy: the reader's goes with the reader */
	const struct type *in_src; /* the reader's, to notice a new schema frame */
	bool schema_done;
	/* fast_record: whether the options allow it, the layout it knows and
	 * where that layout puts the time, the key and each argument */
	bool fast_ok;
	uint64_t fast_layout;
	uint32_t fast_time, fast_key;
	uint32_t *fast_pos; /* each aggregate's argument (count(*): none) */
	uint32_t *fast_num, fast_nnum; /* the positions of arguments that must be numbers */
	/* the arguments' values as they lie in fast_base, the values of the
	 * last record: a reader decodes each row of a schema into one array */
	const struct value **fast_args, *fast_base;
} S;

static inline struct entry *E(uint32_t i)
{
	return (struct entry *)(S.ent + (size_t)i * S.stride);
}

/* Aggregate state follows the header; each state at its own alignment
 * (see run), so an entry wastes no padding on 8-byte states. */
#define ST_OFF ((sizeof(struct entry) + 7) & ~(size_t)7)

static inline unsigned char *ST(struct entry *e)
{
	return (unsigned char *)e + ST_OFF;
}

static void tab_init(struct table *t, uint32_t cap)
{
	t->s = xmalloc(cap * sizeof *t->s);
	for (uint32_t i = 0; i < cap; i++)
		t->s[i].idx = NIL;
	t->mask = cap - 1;
	t->n = 0;
}

static void tab_put(struct table *t, uint32_t tag, uint32_t idx);

static void tab_grow(struct table *t)
{
	struct table old = *t;
	tab_init(t, (old.mask + 1) * 2);
	for (uint32_t i = 0; i <= old.mask; i++)
		if (old.s[i].idx != NIL)
			tab_put(t, old.s[i].tag, old.s[i].idx);
	free(old.s);
}

static void tab_put(struct table *t, uint32_t tag, uint32_t idx)
{
	if ((t->n + 1) * 4 > (t->mask + 1) * 3)
		tab_grow(t);
	uint32_t i = tag & t->mask;
	while (t->s[i].idx != NIL)
		i = (i + 1) & t->mask;
	t->s[i].tag = tag;
	t->s[i].idx = idx;
	t->n++;
}

/* Linear probing deletes by shifting later members of the cluster back, so
 * lookups never need tombstones. */
static void tab_del(struct table *t, uint32_t tag, uint32_t idx)
{
	uint32_t i = tag & t->mask;
	while (t->s[i].idx != idx)
		i = (i + 1) & t->mask;
	for (uint32_t j = (i + 1) & t->mask; t->s[j].idx != NIL; j = (j + 1) & t->mask) {
		uint32_t home = t->s[j].tag & t->mask;
		/* move j into the hole at i unless its home lies in (i, j] */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->s[i] = t->s[j];
			i = j;
		}
	}
	t->s[i].idx = NIL;
	t->n--;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint32_t pool_take(uint32_t *freel, uint32_t *nfree, uint32_t *n, uint32_t *cap, void **arr, size_t size)
{
	if (*nfree)
		return freel[--*nfree];
	if (*n == *cap) {
		/* on cache lines: a 32-byte key then never straddles two */
		size_t old = (size_t)*cap * size;
		*cap = *cap ? *cap * 2 : 1024;
		*arr = xrealloc_lines(*arr, old, (size_t)*cap * size);
	}
	return (*n)++;
}

static void pool_give(uint32_t **freel, uint32_t *nfree, uint32_t *capfree, uint32_t i)
{
	if (*nfree == *capfree) {
		*capfree = *capfree ? *capfree * 2 : 1024;
		*freel = xrealloc(*freel, (size_t)*capfree * sizeof **freel);
	}
	(*freel)[(*nfree)++] = i;
}

/* ---- heap ---- */

static inline bool hless(const struct hitem *a, const struct hitem *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct heap *h, struct hitem it)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 256;
		h->a = xrealloc(h->a, h->cap * sizeof *h->a);
	}
	size_t i = h->n++;
	while (i && hless(&it, &h->a[(i - 1) / 2])) {
		h->a[i] = h->a[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->a[i] = it;
}

static struct hitem heap_pop(struct heap *h)
{
	struct hitem top = h->a[0], last = h->a[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && hless(&h->a[c + 1], &h->a[c]))
			c++;
		if (!hless(&h->a[c], &last))
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	if (h->n)
		h->a[i] = last;
	return top;
}

/* ---- values ---- */

static inline const struct value *lookup(const struct record *rec, struct path *p)
{
	const struct value *v = rec_field(rec, &p->top);
	for (size_t i = 1; i < p->n && v; i++)
		v = value_get(v, p->part[i], p->len[i]);
	return v;
}

/* One encoding per value for grouping and distinct counting: numbers equal
 * in value encode equal (1, 1.0 and 1.00 are one key), as value_eq says. */
static void put_canonical_slow(struct buf *b, const struct value *v)
{
	struct value c = *v;
	if (c.type == V_DECIMAL) {
		while (c.scale && c.d % 10 == 0) {
			c.d /= 10;
			c.scale--;
		}
		if (!c.scale && c.d >= INT64_MIN && c.d <= INT64_MAX)
			c = value_int((int64_t)c.d);
	} else if (c.type == V_FLOAT && c.f == floor(c.f) && fabs(c.f) < 9e18) {
		c = value_int((int64_t)c.f);
	}
	frame_put_value(b, &c);
}

static inline void put_canonical(struct buf *b, const struct value *v)
{
	if (v->type == V_STRING && v->n < 16) {
		/* the usual key, as frame_put_value writes it, without its
		 * checks; copy_short, not a byte loop, whose exit keys of
		 * varying lengths mispredict */
		buf_grow(b, 2 + v->n);
		char *p = b->p + b->len;
		*p++ = V_STRING;
		*p++ = (char)v->n;
		copy_short(p, v->s, v->n);
		b->len += 2 + v->n;
		return;
	}
	put_canonical_slow(b, v);
}

static void keep_value(struct st_val *s, const struct value *v)
{
	free(s->own);
	S.heap_bytes -= s->own_len;
	s->own = NULL;
	s->own_len = 0;
	s->v = *v;
	s->has = 1;
	switch (v->type) {
	case V_STRING:
	case V_BINARY:
		s->own = xmalloc(v->n ? v->n : 1);
		memcpy(s->own, v->s, v->n);
		s->own_len = v->n;
		s->v.s = s->own;
		break;
	case V_ARRAY:
	case V_OBJECT:
	case V_MAP:
		buf_reset(&S.scratch);
		frame_put_value(&S.scratch, v);
		s->own = xmalloc(S.scratch.len);
		memcpy(s->own, S.scratch.p, S.scratch.len);
		s->own_len = (uint32_t)S.scratch.len;
		s->v.a = NULL;
		break;
	}
	S.heap_bytes += s->own_len;
}

/* The kept value, decoding nested ones into the arena. */
static struct value kept(const struct st_val *s, struct arena *a)
{
	if (s->v.type != V_ARRAY && s->v.type != V_OBJECT && s->v.type != V_MAP)
		return s->v;
	struct value v;
	const unsigned char *p = (const unsigned char *)s->own;
	if (frame_get_value(a, &p, p + s->own_len, &v))
		return value_null();
	return v;
}

static int kept_cmp(const struct st_val *s, const struct value *v)
{
	struct value k = kept(s, &S.tmp_arena);
	return value_cmp(&k, v);
}

/* ---- sums ---- */

/* 10^38: sums stay exact below it */
#define P38 ((int128_t)10000000000000000000ull * (int128_t)10000000000000000000ull)

static void sum_to_float(struct st_sum *s)
{
	if (s->kind == 1 || s->kind == 2)
		s->f = (double)s->i / (double)pow10_128(s->scale);
	s->kind = 3;
}

static bool rescale(int128_t *x, int by)
{
	int128_t lim = pow10_128(37);
	while (by-- > 0) {
		if (*x >= lim || *x <= -lim)
			return false;
		*x *= 10;
	}
	return true;
}

static void sum_add_slow(struct st_sum *s, const struct value *v)
{
	if (v->type == V_FLOAT || s->kind == 3) {
		double d;
		value_to_double(v, &d);
		sum_to_float(s);
		s->f += d;
		return;
	}
	int128_t x = v->type == V_INT ? v->i : v->d;
	int sc = v->type == V_INT ? 0 : v->scale;
	if (s->kind == 0) {
		s->kind = v->type == V_INT ? 1 : 2;
		s->scale = (uint8_t)sc;
		s->i = x;
		return;
	}
	if (v->type == V_DECIMAL)
		s->kind = 2;
	if (sc > s->scale) {
		if (!rescale(&s->i, sc - s->scale)) {
			sum_to_float(s);
			s->f += (double)x / (double)pow10_128(sc);
			return;
		}
		s->scale = (uint8_t)sc;
	} else if (sc < s->scale && !rescale(&x, s->scale - sc)) {
		sum_to_float(s);
		s->f += (double)x / (double)pow10_128(sc);
		return;
	}
	int128_t r;
	if (__builtin_add_overflow(s->i, x, &r) || r >= P38 || r <= -P38) {
		sum_to_float(s);
		s->f += (double)x / (double)pow10_128(s->scale);
		return;
	}
	s->i = r;
}

/* |x| < 2^99, judged by the high half: two such add up to less than 10^38 */
static inline bool small128(int128_t x)
{
	return (uint64_t)(x >> 64) + (1ull << 35) < (1ull << 36);
}

static inline void sum_add(struct st_sum *s, const struct value *v)
{
	s->n++;
	/* the usual case, a money column: one exact addition */
	if (v->type == V_DECIMAL && s->kind == 2 && v->scale == s->scale && small128(s->i) && small128(v->d))
		s->i += v->d;
	else
		sum_add_slow(s, v);
}

static void sum_merge(struct st_sum *into, const struct st_sum *from)
{
	if (!from->kind)
		return;
	/* the exact cases in one step, as sum_add would do them */
	bool whole = from->kind == 2 || (from->kind == 1 && from->i >= INT64_MIN && from->i <= INT64_MAX);
	if (whole && !into->kind) {
		*into = *from;
		return;
	}
	if (whole && into->kind == from->kind && into->scale == from->scale && small128(into->i) && small128(from->i)) {
		into->i += from->i;
		into->n += from->n;
		return;
	}
	int64_t n = into->n + from->n;
	struct value v;
	if (from->kind == 3)
		v = value_float(from->f);
	else if (from->kind == 1 && from->i >= INT64_MIN && from->i <= INT64_MAX)
		v = value_int((int64_t)from->i);
	else
		v = (struct value){.type = V_DECIMAL, .scale = from->scale, .d = from->i};
	sum_add(into, &v);
	into->n = n;
}

static struct value sum_result(const struct st_sum *s)
{
	switch (s->kind) {
	case 1:
		if (s->i >= INT64_MIN && s->i <= INT64_MAX)
			return value_int((int64_t)s->i);
		return (struct value){.type = V_DECIMAL, .scale = 0, .d = s->i};
	case 2:
		return (struct value){.type = V_DECIMAL, .scale = s->scale, .d = s->i};
	case 3:
		return value_float(s->f);
	default:
		return value_null();
	}
}

/* ---- exact distinct sets ---- */

static void dset_add(struct dset **pd, const unsigned char *p, size_t n)
{
	struct dset *d = *pd;
	if (!d) {
		d = *pd = xcalloc(1, sizeof *d);
		d->mask = 7;
		d->slot = xcalloc(8, sizeof *d->slot);
		d->hash = xcalloc(8, sizeof *d->hash);
		S.heap_bytes += sizeof *d + 8 * 12;
	}
	uint64_t h = hash_bytes(p, n, 0x5eed);
	uint32_t i = (uint32_t)h & d->mask;
	for (; d->slot[i]; i = (i + 1) & d->mask) {
		if (d->hash[i] != h)
			continue;
		const unsigned char *q = (const unsigned char *)d->bytes.p + d->slot[i] - 1;
		uint64_t len;
		get_uvarint(&q, (const unsigned char *)d->bytes.p + d->bytes.len, &len);
		if (len == n && !memcmp(q, p, n))
			return;
	}
	size_t before = d->bytes.cap;
	d->slot[i] = (uint32_t)d->bytes.len + 1;
	d->hash[i] = h;
	buf_uvarint(&d->bytes, n);
	buf_put(&d->bytes, p, n);
	S.heap_bytes += d->bytes.cap - before;
	if (++d->n * 2 > d->mask + 1) {
		uint32_t ocap = d->mask + 1, *os = d->slot;
		uint64_t *oh = d->hash;
		d->mask = ocap * 2 - 1;
		d->slot = xcalloc(ocap * 2, sizeof *d->slot);
		d->hash = xcalloc(ocap * 2, sizeof *d->hash);
		for (uint32_t j = 0; j < ocap; j++) {
			if (!os[j])
				continue;
			uint32_t k = (uint32_t)oh[j] & d->mask;
			while (d->slot[k])
				k = (k + 1) & d->mask;
			d->slot[k] = os[j];
			d->hash[k] = oh[j];
		}
		free(os);
		free(oh);
		S.heap_bytes += (uint64_t)ocap * 12;
	}
}

/* Walk the members of a set: calls f on each encoding. */
static void dset_each(const struct dset *d, void (*f)(void *, const unsigned char *, size_t), void *arg)
{
	const unsigned char *p = (const unsigned char *)d->bytes.p, *end = p + d->bytes.len;
	while (p < end) {
		uint64_t len;
		get_uvarint(&p, end, &len);
		f(arg, p, len);
		p += len;
	}
}

static void dset_add_cb(void *arg, const unsigned char *p, size_t n)
{
	dset_add(arg, p, n);
}

static size_t dset_free(struct dset *d)
{
	if (!d)
		return 0;
	size_t bytes = sizeof *d + (size_t)(d->mask + 1) * 12 + d->bytes.cap;
	free(d->slot);
	free(d->hash);
	buf_free(&d->bytes);
	free(d);
	return bytes;
}

/* ---- aggregates ---- */

static bool needs_number(enum afn fn)
{
	return fn == A_SUM || fn == A_AVG || fn == A_STDDEV || fn == A_PERCENTILE;
}

/* In line in the record loop: for count and sum the call cost more than
 * the update. */
static inline __attribute__((always_inline)) void agg_update(const struct agg *a, unsigned char *st,
							    const struct value *v, uint64_t rseq)
{
	bool null = !v || v->type == V_NULL;
	switch (a->fn) {
	case A_COUNT_STAR:
		(*(int64_t *)st)++;
		return;
	case A_COUNT:
		if (!null)
			(*(int64_t *)st)++;
		return;
	case A_SUM:
	case A_AVG:
		if (!null)
			sum_add((struct st_sum *)st, v);
		return;
	case A_STDDEV: {
		double x;
		if (null || !value_to_double(v, &x))
			return;
		struct st_dev *s = (struct st_dev *)st;
		s->n++;
		double d = x - s->mean;
		s->mean += d / (double)s->n;
		s->m2 += d * (x - s->mean);
		return;
	}
	case A_MIN:
	case A_MAX: {
		struct st_val *s = (struct st_val *)st;
		if (null)
			return;
		if (!s->has || (a->fn == A_MIN ? kept_cmp(s, v) > 0 : kept_cmp(s, v) < 0)) {
			keep_value(s, v);
			s->seq = rseq; /* which of equal values came first, for panes */
		}
		return;
	}
	case A_FIRST:
	case A_LAST: {
		struct st_val *s = (struct st_val *)st;
		if (a->fn == A_LAST || !s->has) {
			keep_value(s, null ? &(struct value){.type = V_NULL} : v);
			s->seq = rseq;
		}
		return;
	}
	case A_COUNT_DISTINCT:
	case A_APPROX_DISTINCT: {
		if (null)
			return;
		buf_reset(&S.scratch);
		put_canonical(&S.scratch, v);
		if (a->fn == A_COUNT_DISTINCT) {
			dset_add((struct dset **)st, (unsigned char *)S.scratch.p, S.scratch.len);
			return;
		}
		struct hll **ph = (struct hll **)st;
		if (!*ph)
			*ph = xcalloc(1, sizeof **ph);
		size_t before = hll_bytes(*ph);
		hll_add(*ph, hash_bytes(S.scratch.p, S.scratch.len, 0x4c4c));
		S.heap_bytes += hll_bytes(*ph) - before;
		return;
	}
	case A_PERCENTILE: {
		double x;
		if (null || !value_to_double(v, &x) || isnan(x))
			return;
		struct dds **pd = (struct dds **)st;
		if (!*pd)
			*pd = xcalloc(1, sizeof **pd);
		size_t before = dds_bytes(*pd);
		dds_add(*pd, x);
		S.heap_bytes += dds_bytes(*pd) - before;
		return;
	}
	}
}

/* Fold the state `from` into `into`, as if into's records had been joined by
 * from's: a session absorbed by another (move: from's memory is taken, and
 * the caller frees from next) or a pane combined into its window (from is
 * left as it was).  Of equal minima or maxima (1 and 1.0) the one that came
 * first stays, as agg_update keeps it, so a result does not depend on how
 * records were grouped on the way. */
static void agg_fold(const struct agg *a, unsigned char *into, unsigned char *from, bool move)
{
	switch (a->fn) {
	case A_COUNT_STAR:
	case A_COUNT:
		*(int64_t *)into += *(const int64_t *)from;
		return;
	case A_SUM:
	case A_AVG:
		sum_merge((struct st_sum *)into, (const struct st_sum *)from);
		return;
	case A_STDDEV: {
		struct st_dev *x = (struct st_dev *)into;
		const struct st_dev *y = (const struct st_dev *)from;
		if (!y->n)
			return;
		/* Chan et al.'s pairwise update of the centred second moment */
		double n = (double)(x->n + y->n), d = y->mean - x->mean;
		x->m2 += y->m2 + d * d * (double)x->n * (double)y->n / n;
		x->mean += d * (double)y->n / n;
		x->n += y->n;
		return;
	}
	case A_MIN:
	case A_MAX:
	case A_FIRST:
	case A_LAST: {
		struct st_val *x = (struct st_val *)into, *y = (struct st_val *)from;
		if (!y->has)
			return;
		struct value yv = kept(y, &S.tmp_arena);
		bool take = !x->has;
		if (!take && (a->fn == A_MIN || a->fn == A_MAX)) {
			int c = kept_cmp(x, &yv);
			take = (a->fn == A_MIN ? c > 0 : c < 0) || (c == 0 && y->seq < x->seq);
		} else if (!take) {
			take = a->fn == A_FIRST ? y->seq < x->seq : y->seq > x->seq;
		}
		if (!take)
			return;
		if (move) {
			free(x->own);
			S.heap_bytes -= x->own_len;
			*x = *y;
			memset(y, 0, sizeof *y);
		} else {
			keep_value(x, &yv);
			x->seq = y->seq;
		}
		return;
	}
	case A_COUNT_DISTINCT: {
		const struct dset *y = *(struct dset *const *)from;
		if (y)
			dset_each(y, dset_add_cb, (struct dset **)into);
		return;
	}
	case A_APPROX_DISTINCT: {
		struct hll **x = (struct hll **)into, **y = (struct hll **)from;
		if (!*y)
			return;
		if (!*x && move) {
			*x = *y;
			*y = NULL;
			return;
		}
		if (!*x)
			*x = xcalloc(1, sizeof **x);
		size_t before = hll_bytes(*x);
		hll_merge(*x, *y);
		S.heap_bytes += hll_bytes(*x) - before;
		return;
	}
	case A_PERCENTILE: {
		struct dds **x = (struct dds **)into, **y = (struct dds **)from;
		if (!*y)
			return;
		if (!*x && move) {
			*x = *y;
			*y = NULL;
			return;
		}
		if (!*x)
			*x = xcalloc(1, sizeof **x);
		size_t before = dds_bytes(*x);
		dds_merge(*x, *y);
		S.heap_bytes += dds_bytes(*x) - before;
		return;
	}
	}
}

static struct value agg_result(const struct agg *a, unsigned char *st, struct arena *ar)
{
	switch (a->fn) {
	case A_COUNT_STAR:
	case A_COUNT:
		return value_int(*(int64_t *)st);
	case A_SUM:
		return sum_result((struct st_sum *)st);
	case A_AVG: {
		struct st_sum *s = (struct st_sum *)st;
		if (!s->n)
			return value_null();
		if (s->kind == 3)
			return value_float(s->f / (double)s->n);
		return value_float(decimal_quotient(s->i, s->scale, s->n));
	}
	case A_STDDEV: {
		struct st_dev *s = (struct st_dev *)st;
		if (s->n < 2)
			return value_null();
		return value_float(sqrt(s->m2 / (double)(s->n - 1)));
	}
	case A_MIN:
	case A_MAX:
	case A_FIRST:
	case A_LAST: {
		struct st_val *s = (struct st_val *)st;
		return s->has ? kept(s, ar) : value_null();
	}
	case A_COUNT_DISTINCT: {
		struct dset *d = *(struct dset **)st;
		return value_int(d ? d->n : 0);
	}
	case A_APPROX_DISTINCT: {
		struct hll *h = *(struct hll **)st;
		return value_int(h ? (int64_t)llround(hll_estimate(h)) : 0);
	}
	case A_PERCENTILE: {
		struct dds *d = *(struct dds **)st;
		return d && d->n ? value_float(dds_quantile(d, a->p)) : value_null();
	}
	}
	return value_null();
}

static void agg_free(const struct agg *a, unsigned char *st)
{
	switch (a->fn) {
	case A_MIN:
	case A_MAX:
	case A_FIRST:
	case A_LAST: {
		struct st_val *s = (struct st_val *)st;
		free(s->own);
		S.heap_bytes -= s->own_len;
		break;
	}
	case A_COUNT_DISTINCT:
		S.heap_bytes -= dset_free(*(struct dset **)st);
		break;
	case A_APPROX_DISTINCT: {
		struct hll *h = *(struct hll **)st;
		if (h) {
			S.heap_bytes -= hll_bytes(h);
			hll_free(h);
			free(h);
		}
		break;
	}
	case A_PERCENTILE: {
		struct dds *d = *(struct dds **)st;
		if (d) {
			S.heap_bytes -= dds_bytes(d);
			dds_free(d);
			free(d);
		}
		break;
	}
	default:
		break;
	}
}

/* ---- keys and entries ---- */

static inline const unsigned char *key_bytes(const struct key *k)
{
	return k->len <= KEY_INLINE ? k->b.inl : k->b.heap;
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

/* A short key (n <= KEY_INLINE) as two words, zero past its end as in an
 * inline key; p holds at least KEY_INLINE readable bytes (the scratch
 * buffer and inline keys do). */
static inline void key_words(const unsigned char *p, uint32_t n, uint64_t w[2])
{
	w[0] = load64(p);
	w[1] = load64(p + 8);
	if (n < 8) {
		w[0] &= first_bytes_mask(n);
		w[1] = 0;
	} else if (n < 16) {
		w[1] &= first_bytes_mask(n - 8);
	}
}

/* The encoding put_canonical writes for a string of n <= KEY_INLINE - 2
 * bytes, as key_words would read it, built from the string in registers:
 * hashing it from the scratch buffer just written waited on store
 * forwarding, which fails for loads that span several stores. */
static inline void string_key_words(const char *s, uint32_t n, uint64_t w[2])
{
	const unsigned char *u = (const unsigned char *)s;
	uint64_t lo = 0, hi = 0;
	if (n >= 8) {
		lo = load64(u);
		hi = n == 8 ? 0 : load64(u + n - 8) >> (8 * (16 - n));
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, u, 4);
		memcpy(&y, u + n - 4, 4);
		lo = x | (uint64_t)y << (8 * (n - 4));
	} else if (n) {
		lo = u[0] | (uint64_t)u[n / 2] << (8 * (n / 2)) | (uint64_t)u[n - 1] << (8 * (n - 1));
	}
	w[0] = V_STRING | (uint64_t)n << 8 | lo << 16;
	w[1] = lo >> 48 | hi << 16;
}

/* A short key's hash: its two words mixed by one wide multiply, the halves
 * folded.  Every record waits on this before its table lookup, so no
 * finalizer follows: the fold spreads the product's bits well enough. */
static inline uint64_t key_mix(const uint64_t w[2], uint32_t n)
{
	unsigned __int128 m = (unsigned __int128)(w[0] ^ 0x9e3779b97f4a7c15ull) * (w[1] ^ 0xd6e8feb86659fd93ull ^ n);
	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static inline uint64_t key_hash(const unsigned char *p, uint32_t n)
{
	if (n > KEY_INLINE)
		return hash_bytes(p, n, 0x6b6579);
	uint64_t w[2];
	key_words(p, n, w);
	return key_mix(w, n);
}

/* Keys whose last entry goes stay in the table, idle, instead of being
 * deleted: most come back in the next window, and deleting and re-creating
 * every key at every window end cost more than all its records' lookups.
 * key_sweep deletes the idle ones when they outnumber a quarter of the keys
 * in use (plus IDLE_SLACK, which keeps small key sets from being swept at
 * all), before they would make the key table or array grow, and before
 * --max-state counts them against the limit. */
#define IDLE_SLACK 4096
#define KEY_FREE UINT32_MAX

static void key_sweep(void)
{
	for (uint32_t i = 0; i < S.nkeys && S.nidle; i++) {
		struct key *k = &S.keys[i];
		if (k->refs)
			continue;
		tab_del(&S.ktab, (uint32_t)key_hash(key_bytes(k), k->len), i);
		if (k->len > KEY_INLINE) {
			S.heap_bytes -= k->len;
			free(k->b.heap);
		}
		k->refs = KEY_FREE;
		pool_give(&S.kfree, &S.nkfree, &S.capkfree, i);
		S.nidle--;
	}
}

static uint32_t key_add(const unsigned char *p, uint32_t n, uint32_t tag);

/* The lookups in line, the insertion (once per key) not: every record pays
 * for this, and the call cost a fifth of it. */
static inline __attribute__((always_inline)) uint32_t key_intern_short(const uint64_t w[2], uint32_t n)
{
	uint32_t tag = (uint32_t)key_mix(w, n);
	const struct table *t = &S.ktab;
	for (uint32_t i = tag & t->mask; t->s[i].idx != NIL; i = (i + 1) & t->mask) {
		if (t->s[i].tag != tag)
			continue;
		const struct key *k = &S.keys[t->s[i].idx];
		if (k->len == n && load64(k->b.inl) == w[0] && load64(k->b.inl + 8) == w[1])
			return t->s[i].idx;
	}
	return key_add((const unsigned char *)w, n, tag);
}

static inline __attribute__((always_inline)) uint32_t key_intern(const unsigned char *p, uint32_t n)
{
	if (n <= KEY_INLINE) {
		uint64_t w[2];
		key_words(p, n, w);
		return key_intern_short(w, n);
	}
	uint32_t tag = (uint32_t)key_hash(p, n);
	const struct table *t = &S.ktab;
	for (uint32_t i = tag & t->mask; t->s[i].idx != NIL; i = (i + 1) & t->mask) {
		const struct key *k = &S.keys[t->s[i].idx];
		if (t->s[i].tag == tag && k->len == n && !memcmp(k->b.heap, p, n))
			return t->s[i].idx;
	}
	return key_add(p, n, tag);
}

static uint32_t key_add(const unsigned char *p, uint32_t n, uint32_t tag)
{
	struct table *t = &S.ktab;
	/* sweeping only when an eighth are idle: a sweep per insert would
	 * cost a pass over all keys each */
	bool grows = (t->n + 1) * 4 > (t->mask + 1) * 3 || (!S.nkfree && S.nkeys == S.capkeys);
	if (grows && S.nidle > t->n / 8)
		key_sweep();
	uint32_t cap = S.capkeys;
	uint32_t idx = pool_take(S.kfree, &S.nkfree, &S.nkeys, &S.capkeys, (void **)&S.keys, sizeof *S.keys);
	if (S.capkeys != cap)
		S.key_ents = xrealloc(S.key_ents, (size_t)S.capkeys * sizeof *S.key_ents);
	struct key *k = &S.keys[idx];
	k->len = n;
	k->refs = 0; /* idle until its first entry, which comes right away */
	S.nidle++;
	S.key_ents[idx] = NIL;
	k->stamp = 0;
	if (n <= KEY_INLINE) {
		memset(k->b.inl, 0, KEY_INLINE);
		memcpy(k->b.inl, p, n);
	} else {
		k->b.heap = xmalloc(n);
		memcpy(k->b.heap, p, n);
		S.heap_bytes += n;
	}
	tab_put(t, tag, idx);
	return idx;
}

static void key_unref(uint32_t idx)
{
	if (--S.keys[idx].refs)
		return;
	S.nidle++;
	if (S.nidle > (S.ktab.n - S.nidle) / 4 + IDLE_SLACK)
		key_sweep();
}

static uint64_t state_bytes(void)
{
	return (uint64_t)S.capent * S.stride + (uint64_t)S.capkeys * (sizeof(struct key) + sizeof *S.key_ents) +
	       (uint64_t)(S.ktab.mask + 1) * sizeof(struct slot) + S.heap.cap * sizeof(struct hitem) + S.heap_bytes;
}

static void check_limits(void)
{
	if (S.live > S.peak_rows)
		S.peak_rows = S.live;
	if (o.max_rows && S.live > o.max_rows)
		die(EXIT_TROUBLE, "state limit exceeded: %" PRIu32 " rows held, more than --max-state %" PRIu64,
		    S.live, o.max_rows);
	if (o.max_bytes && state_bytes() > o.max_bytes && S.nidle)
		key_sweep();
	if (o.max_bytes && state_bytes() > o.max_bytes)
		die(EXIT_TROUBLE, "state limit exceeded: %" PRIu64 " bytes held, more than --max-state %" PRIu64,
		    state_bytes(), o.max_bytes);
}

static uint32_t entry_new(uint32_t key, int64_t start, int64_t end, uint64_t seq)
{
	uint32_t idx;
	if (S.nefree) {
		idx = S.efree[--S.nefree];
	} else {
		if (S.nent == S.capent) {
			size_t old = (size_t)S.capent * S.stride;
			S.capent = S.capent ? S.capent * 2 : 1024;
			S.ent = xrealloc_lines(S.ent, old, (size_t)S.capent * S.stride);
		}
		idx = S.nent++;
		E(idx)->gen = 0;
	}
	struct entry *e = E(idx);
	uint32_t gen = e->gen;
	memset(e, 0, S.stride);
	e->gen = gen;
	e->start = start;
	e->end = end;
	e->seq = seq;
	e->key = key;
	e->next = e->dnext = NIL;
	e->live = 1;
	S.grew = true;
	if (!S.keys[key].refs++)
		S.nidle--;
	S.live++;
	return idx;
}

static void entry_free(uint32_t idx)
{
	struct entry *e = E(idx);
	for (size_t i = 0; i < o.naggs && S.owning; i++)
		agg_free(&o.aggs[i], ST(e) + o.aggs[i].off);
	e->live = 0;
	e->gen++;
	key_unref(e->key);
	S.live--;
	pool_give(&S.efree, &S.nefree, &S.capefree, idx);
}

static uint32_t win_get(int64_t start)
{
	if (S.cache_win != NIL && S.cache_start == start)
		return S.cache_win;
	uint32_t tag = (uint32_t)mix64((uint64_t)start);
	struct table *t = &S.wtab;
	for (uint32_t i = tag & t->mask; t->s[i].idx != NIL; i = (i + 1) & t->mask)
		if (t->s[i].tag == tag && S.wins[t->s[i].idx].start == start) {
			S.cache_start = start;
			return S.cache_win = t->s[i].idx;
		}
	uint32_t idx = pool_take(S.wfree, &S.nwfree, &S.nwins, &S.capwins, (void **)&S.wins, sizeof *S.wins);
	S.wins[idx] = (struct win){.start = start, .head = NIL, .tail = NIL};
	tab_put(t, tag, idx);
	heap_push(&S.heap, (struct hitem){.t = start, .idx = idx});
	S.cache_start = start;
	return S.cache_win = idx;
}

static void win_drop(uint32_t idx)
{
	tab_del(&S.wtab, (uint32_t)mix64((uint64_t)S.wins[idx].start), idx);
	if (S.cache_win == idx)
		S.cache_win = NIL;
	pool_give(&S.wfree, &S.nwfree, &S.capwfree, idx);
}

/* A walk over a key's windows, newest first, asking for the starts one
 * record touches, which come newest first too: finding them costs a step
 * or two along the key's list instead of a hash lookup per window. */
struct kwalk {
	uint32_t key, newer, at; /* `at` is the first entry not newer than asked */
};

static void kwalk_init(struct kwalk *w, uint32_t key)
{
	w->key = key;
	w->newer = NIL;
	w->at = S.key_ents[key];
}

static uint32_t kwalk_add(struct kwalk *w, int64_t start);

/* The key's entry of the window at `start`, created when new; starts asked
 * on one walk must decrease. */
static inline uint32_t kwalk_entry(struct kwalk *w, int64_t start, bool *created)
{
	for (uint32_t at = w->at; at != NIL;) {
		const struct entry *e = E(at);
		if (e->start < start)
			break;
		w->newer = at;
		w->at = at = e->older;
		if (e->start == start) {
			*created = false;
			return w->newer;
		}
	}
	*created = true;
	return kwalk_add(w, start);
}

/* A new entry for the key at `start`, linked in where the walk stands. */
static uint32_t kwalk_add(struct kwalk *w, int64_t start)
{
	uint32_t win = win_get(start);
	uint32_t idx = entry_new(w->key, start, start + S.span, S.seq++);
	struct entry *e = E(idx);
	e->older = w->at;
	e->newer = w->newer;
	if (w->at != NIL)
		E(w->at)->newer = idx;
	if (w->newer != NIL)
		E(w->newer)->older = idx;
	else
		S.key_ents[w->key] = idx;
	w->newer = idx;
	struct win *wn = &S.wins[win];
	if (wn->tail == NIL)
		wn->head = idx;
	else
		E(wn->tail)->next = idx;
	wn->tail = idx;
	return idx;
}

/* Take a window's entry off its key's list. */
static void kwalk_unlink(uint32_t idx)
{
	struct entry *e = E(idx);
	if (e->newer != NIL)
		E(e->newer)->older = e->older;
	else
		S.key_ents[e->key] = e->older;
	if (e->older != NIL)
		E(e->older)->newer = e->newer;
}

static void mark_dirty(uint32_t idx)
{
	struct entry *e = E(idx);
	if (o.emit != EMIT_UPDATE || e->dirty)
		return;
	e->dirty = 1;
	e->dnext = NIL;
	if (S.dtail == NIL)
		S.dhead = idx;
	else
		E(S.dtail)->dnext = idx;
	S.dtail = idx;
}

/* ---- output ---- */

static enum tkind kind_of_value(const struct value *v)
{
	switch (v->type) {
	case V_BOOL: return T_BOOLEAN;
	case V_INT: return T_LONG;
	case V_FLOAT: return T_DOUBLE;
	case V_DECIMAL: return T_DECIMAL;
	case V_BINARY: return T_BINARY;
	case V_DATE: return T_DATE;
	case V_TIMESTAMP: return T_TIMESTAMP;
	case V_TIMESTAMP_NTZ: return T_TIMESTAMP_NTZ;
	default: return T_STRING;
	}
}

static struct type *type_for_value(const struct value *v)
{
	struct type *t = type_new(kind_of_value(v));
	if (t->kind == T_DECIMAL) {
		t->precision = 38;
		t->scale = v->scale;
	}
	return t;
}

/* The declared type of output column i (after the two window columns), from
 * the input schema when there is one, else from the function; *guessed set
 * when nothing says it, v being NULL. */
static struct type *column_type(size_t col, const struct value *v, bool *guessed)
{
	*guessed = false;
	if (col < o.nkeys) {
		if (S.in_schema) {
			long f = type_field_index(S.in_schema, o.keys[col].text);
			if (f >= 0 && o.keys[col].n == 1)
				return type_clone(S.in_schema->fields[f].type);
		}
		*guessed = v->type == V_NULL;
		return type_for_value(v);
	}
	const struct agg *a = &o.aggs[col - o.nkeys];
	switch (a->fn) {
	case A_COUNT_STAR:
	case A_COUNT:
	case A_COUNT_DISTINCT:
	case A_APPROX_DISTINCT:
		return type_new(T_LONG);
	case A_AVG:
	case A_STDDEV:
	case A_PERCENTILE:
		return type_new(T_DOUBLE);
	default:
		/* a sum's type follows from its column's, as in Spark: the first
		 * window's value may be NULL and say nothing */
		if (a->in_type && a->fn == A_SUM && a->in_type->kind == T_DECIMAL) {
			struct type *t = type_new(T_DECIMAL);
			t->precision = 38;
			t->scale = a->in_type->scale;
			return t;
		}
		if (a->in_type && a->fn == A_SUM && (a->in_type->kind == T_BYTE || a->in_type->kind == T_SHORT ||
						     a->in_type->kind == T_INT || a->in_type->kind == T_LONG))
			return type_new(T_LONG);
		if (a->in_type && (a->fn != A_SUM || a->in_type->kind == T_DOUBLE || a->in_type->kind == T_FLOAT)) {
			struct type *t = type_clone(a->in_type);
			if (a->fn == A_SUM && t->kind == T_FLOAT)
				t->kind = T_DOUBLE;
			return t;
		}
		if (v->type == V_NULL) {
			*guessed = true;
			return type_new(a->fn == A_SUM ? T_DOUBLE : T_STRING);
		}
		return type_for_value(v);
	}
}

/* Make v a value of column type t when that loses nothing a reader of the
 * column would expect (integers into decimals and doubles, decimals into a
 * larger scale or a double); false when the column type must change. */
static bool conform(struct value *v, const struct type *t)
{
	if (v->type == V_NULL || v->type == V_ARRAY || v->type == V_OBJECT || v->type == V_MAP)
		return true;
	switch (t->kind) {
	case T_BYTE:
	case T_SHORT:
	case T_INT:
	case T_LONG:
		return v->type == V_INT;
	case T_FLOAT:
	case T_DOUBLE:
		if (v->type == V_INT || v->type == V_DECIMAL) {
			double d;
			value_to_double(v, &d);
			*v = value_float(d);
		}
		return v->type == V_FLOAT;
	case T_DECIMAL: {
		if (v->type != V_INT && v->type != V_DECIMAL)
			return false;
		int sc = v->type == V_INT ? 0 : v->scale;
		int128_t x = v->type == V_INT ? v->i : v->d;
		if (sc > t->scale || !rescale(&x, t->scale - sc))
			return false;
		*v = (struct value){.type = V_DECIMAL, .scale = (uint8_t)t->scale, .d = x};
		return true;
	}
	default:
		return kind_of_value(v) == t->kind;
	}
}

/* Whether v, made to fit output column c if it can be, may be written
 * under the column as announced.  A column announced from a NULL with
 * nothing else to go by (an untyped sum whose first window saw only nulls)
 * only guessed its type.  A value of the guessed kind settles it.  An exact
 * sum under a guessed DOUBLE stays a double when the double holds it
 * faithfully (integers to 2^53, decimals of 15 digits), so that a table
 * made from the first schema frame goes on taking the rows; a larger one
 * gets a new schema frame with its exact type instead of being rounded
 * into the guess, which a table downstream refuses loudly. */
static bool fits_column(struct value *v, size_t c)
{
	const struct type *t = S.schema->fields[c + 2].type;
	if (S.guessed[c] && v->type != V_NULL) {
		if (kind_of_value(v) == t->kind)
			S.guessed[c] = false;
		else if (t->kind != T_DOUBLE ||
			 !(v->type == V_INT ? v->i >= -(1LL << 53) && v->i <= 1LL << 53
			   : v->type == V_DECIMAL && v->d > -(int128_t)1000000000000000 && v->d < (int128_t)1000000000000000))
			return false;
	}
	return conform(v, t);
}

/* Framed output declares its columns before the first row; a later row whose
 * value cannot be made to fit its column gets a new schema frame. */
static void fit_schema(struct value *row)
{
	size_t ncol = o.nkeys + o.naggs;
	bool fits[ncol ? ncol : 1];
	bool all = S.schema_done;
	for (size_t c = 0; c < ncol && S.schema_done; c++) {
		fits[c] = fits_column(&row->a[2 * (c + 2) + 1], c);
		all = all && fits[c];
	}
	if (all)
		return;
	struct type *st = type_new(T_STRUCT);
	type_add_field(st, "window_start", type_new(T_TIMESTAMP), false);
	type_add_field(st, "window_end", type_new(T_TIMESTAMP), false);
	if (!S.guessed)
		S.guessed = xcalloc(ncol ? ncol : 1, sizeof *S.guessed);
	for (size_t c = 0; c < ncol; c++) {
		const struct value *v = &row->a[2 * (c + 2) + 1];
		struct type *t;
		bool guessed = false;
		if (!S.schema_done) {
			t = column_type(c, v, &guessed);
		} else if (fits[c]) {
			t = type_clone(S.schema->fields[c + 2].type);
			guessed = S.guessed[c];
		} else {
			t = type_for_value(v);
		}
		S.guessed[c] = guessed;
		enum afn fn = c >= o.nkeys ? o.aggs[c - o.nkeys].fn : A_FIRST;
		bool counts = fn == A_COUNT_STAR || fn == A_COUNT || fn == A_COUNT_DISTINCT || fn == A_APPROX_DISTINCT;
		type_add_field(st, c < o.nkeys ? o.keys[c].text : o.aggs[c - o.nkeys].name, t, !counts);
	}
	type_free(S.schema);
	S.schema = st;
	S.schema_done = true;
	rec_writer_schema(S.w, st);
}

/* NDJSON rows are rendered straight into the writer's buffer, byte for
 * byte what json_write makes of the row object, from parts rendered once
 * and from the usual values (short plain keys, counts, exact sums) written
 * without making them values or calling out for short copies. */

/* n bytes from s to d in 32-byte steps, without a call; returns d + n.
 * Both sides have room for n rounded up to 32: the parts are padded
 * (pad_text) and rows get room for that (S.row_room). */
static inline char *put_text(char *d, const char *s, size_t n)
{
	if (n <= 16) {
		memcpy(d, s, 16); /* a name, the usual part */
		return d + n;
	}
	for (size_t i = 0; i < n; i += 32)
		memcpy(d + i, s + i, 32);
	return d + n;
}

static void pad_text(struct buf *b)
{
	buf_grow(b, 32);
	memset(b->p + b->len, 0, 32);
}

/* A string key value of n bytes (0 < n, and it ends within KEY_INLINE) at
 * p in an inline key k, written quoted at d when it needs no escaping;
 * returns the end, NULL when it needs escaping.  Its bytes are loaded as
 * two words from the key's 32, past the string when it is shorter, and
 * the flags of those bytes ignored; d has room for 18 bytes. */
static inline char *put_plain_key(char *d, const struct key *k, const unsigned char *p, size_t n)
{
	_Static_assert(offsetof(struct key, b) + 2 * KEY_INLINE <= sizeof(struct key), "16 bytes from any inline string");
	const unsigned char *s = (const unsigned char *)k + offsetof(struct key, b) + (size_t)(p + 2 - k->b.inl);
	uint64_t lo = load64(s), hi = load64(s + 8);
	uint64_t keep_lo = n >= 8 ? ~0ull : first_bytes_mask(n);
	uint64_t keep_hi = n > 8 ? first_bytes_mask(n - 8) : 0;
	if ((json_special(lo) & keep_lo) | (json_special(hi) & keep_hi))
		return NULL;
	d[0] = '"';
	memcpy(d + 1, &lo, 8);
	memcpy(d + 9, &hi, 8);
	d[n + 1] = '"';
	return d + n + 2;
}

/* A count or an exact sum, the usual results, written at d as json_write
 * writes it (an integer is a decimal of scale 0) without making it a
 * value; returns the end, NULL for the others.  d has room for 42 bytes. */
static inline char *put_exact(char *d, const struct agg *a, const unsigned char *st)
{
	if (a->fn == A_COUNT_STAR || a->fn == A_COUNT)
		return d + decimal_format(d, *(const int64_t *)st, 0);
	const struct st_sum *s = (const struct st_sum *)st;
	if (a->fn != A_SUM || (s->kind != 1 && s->kind != 2))
		return NULL;
	return d + decimal_format(d, s->i, s->kind == 2 ? s->scale : 0);
}

static void emit_ndjson(struct entry *e)
{
	size_t ncol = o.nkeys + o.naggs;
	if (!S.name_off) {
		S.name_off = xmalloc((ncol + 1) * sizeof *S.name_off);
		for (size_t c = 0; c < ncol; c++) {
			const char *name = c < o.nkeys ? o.keys[c].text : o.aggs[c - o.nkeys].name;
			S.name_off[c] = S.names.len;
			buf_putc(&S.names, ',');
			json_write_string(&S.names, name, strlen(name));
			buf_putc(&S.names, ':');
		}
		S.name_off[ncol] = S.names.len;
		pad_text(&S.names);
		/* what the columns of a row may take written in place: the
		 * names, and per column a quoted inline key or a decimal (42
		 * bytes at most) and the 31 a step of put_text may write past
		 * an end; and the prefix's 31 and the closing brace */
		S.row_room = S.names.len + ncol * 80 + 48;
	}
	if (!S.prefix_ok || e->start != S.prefix_start || e->end != S.prefix_end) {
		struct value t = value_typed_int(V_TIMESTAMP, e->start);
		buf_reset(&S.prefix);
		buf_puts(&S.prefix, "{\"window_start\":");
		json_write(&S.prefix, &t);
		buf_puts(&S.prefix, ",\"window_end\":");
		t.i = e->end;
		json_write(&S.prefix, &t);
		buf_put(&S.prefix, S.names.p, S.name_off[ncol ? 1 : 0]);
		pad_text(&S.prefix);
		S.prefix_start = e->start;
		S.prefix_end = e->end;
		S.prefix_ok = true;
	}
	struct buf *b = S.out;
	buf_grow(b, S.prefix.len + S.row_room);
	char *d = put_text(b->p + b->len, S.prefix.p, S.prefix.len), *q;
	const struct key *k = &S.keys[e->key];
	const unsigned char *p = key_bytes(k), *end = p + k->len;
	for (size_t c = 0; c < o.nkeys; c++) {
		if (c)
			d = put_text(d, S.names.p + S.name_off[c], S.name_off[c + 1] - S.name_off[c]);
		if (end - p >= 2 && p[0] == V_STRING && p[1] < 0x80 && p[1] <= end - p - 2) {
			/* the usual key, a short string, straight from its encoding */
			size_t n = p[1];
			if (k->len <= KEY_INLINE && n && (q = put_plain_key(d, k, p, n))) {
				d = q;
				p += 2 + n;
				continue;
			}
			b->len = (size_t)(d - b->p);
			json_write_string(b, (const char *)p + 2, n);
			p += 2 + n;
		} else {
			b->len = (size_t)(d - b->p);
			struct value v;
			if (frame_get_value(&S.out_arena, &p, end, &v))
				v = value_null();
			json_write(b, &v);
		}
		/* room again for the columns left */
		buf_grow(b, S.row_room);
		d = b->p + b->len;
	}
	for (size_t i = 0, c = o.nkeys; i < o.naggs; i++, c++) {
		if (c)
			d = put_text(d, S.names.p + S.name_off[c], S.name_off[c + 1] - S.name_off[c]);
		const struct agg *a = &o.aggs[i];
		if ((q = put_exact(d, a, ST(e) + a->off))) {
			d = q;
			continue;
		}
		b->len = (size_t)(d - b->p);
		struct value v = agg_result(a, ST(e) + a->off, &S.out_arena);
		json_write(b, &v);
		buf_grow(b, S.row_room);
		d = b->p + b->len;
	}
	*d++ = '}';
	b->len = (size_t)(d - b->p);
	rec_ndjson_end(S.w);
}

/* Whether a key value with tag t is written to a column of kind k as it
 * is: what conform leaves alone, for the tags keys usually have. */
static bool key_fits(unsigned char t, enum tkind k)
{
	switch (t) {
	case V_NULL:
		return true;
	case V_STRING:
		return k == T_STRING;
	case V_INT:
		return k == T_LONG || k == T_INT || k == T_SHORT || k == T_BYTE;
	default:
		return false;
	}
}

/* A count, or an integer or decimal sum, as frame_put_value encodes what
 * agg_result and conform make of it for a column of type t, at d with
 * room for 32 bytes; returns the end, NULL for any other result. */
static inline unsigned char *put_exact_framed(unsigned char *d, const struct agg *a, const unsigned char *st,
					      const struct type *t)
{
	if (a->fn == A_COUNT_STAR || a->fn == A_COUNT) {
		if (t->kind != T_LONG)
			return NULL;
		*d++ = V_INT;
		return frame_varint_at(d, zigzag64(*(const int64_t *)st));
	}
	const struct st_sum *s = (const struct st_sum *)st;
	if (a->fn != A_SUM || s->i < INT64_MIN || s->i > INT64_MAX)
		return NULL;
	if (s->kind == 1 && t->kind == T_LONG) {
		*d++ = V_INT;
	} else if (s->kind == 2 && t->kind == T_DECIMAL && t->scale == s->scale) {
		/* below 2^63 the 128-bit zigzag is the 64-bit one */
		*d++ = V_DECIMAL;
		*d++ = s->scale;
	} else {
		return NULL;
	}
	return frame_varint_at(d, zigzag64((int64_t)s->i));
}

/* A framed row encoded straight from the entry, as the general way below
 * would encode it: the window's two times as the last row had them, the
 * key's bytes (frame_put_value's encoding) copied when each of its values
 * is one its column takes as it is, the results conformed to their
 * columns as fit_schema does.  false, with nothing written, when the row
 * may need a new schema: the general way decides. */
static bool emit_framed_row(struct entry *e)
{
	if (!S.schema_done)
		return false;
	const struct key *k = &S.keys[e->key];
	const unsigned char *key = key_bytes(k), *q = key, *end = key + k->len;
	for (size_t c = 0; c < o.nkeys; c++) {
		if (q >= end || !key_fits(*q, S.schema->fields[c + 2].type->kind))
			return false;
		if (*q == V_STRING) {
			if (end - q < 2 || q[1] >= 0x80)
				return false; /* a long string: its length takes more bytes */
			q += 2 + q[1];
		} else if (*q++ == V_INT) {
			while (q < end && *q & 0x80)
				q++;
			q++;
		}
	}
	if (q != end)
		return false;
	if (!S.prefix_ok || e->start != S.prefix_start || e->end != S.prefix_end) {
		struct value t = value_typed_int(V_TIMESTAMP, e->start);
		buf_reset(&S.prefix);
		frame_put_value(&S.prefix, &t);
		t.i = e->end;
		frame_put_value(&S.prefix, &t);
		S.prefix_start = e->start;
		S.prefix_end = e->end;
		S.prefix_ok = true;
	}
	struct buf *b = &S.row;
	buf_reset(b);
	buf_grow(b, S.prefix.len + k->len + 32 * o.naggs);
	memcpy(b->p, S.prefix.p, S.prefix.len);
	memcpy(b->p + S.prefix.len, key, k->len);
	unsigned char *d = (unsigned char *)b->p + S.prefix.len + k->len, *r;
	for (size_t i = 0; i < o.naggs; i++) {
		const struct agg *a = &o.aggs[i];
		const struct type *t = S.schema->fields[2 + o.nkeys + i].type;
		if ((r = put_exact_framed(d, a, ST(e) + a->off, t))) {
			d = r;
			continue;
		}
		b->len = (size_t)((char *)d - b->p);
		struct value v = agg_result(a, ST(e) + a->off, &S.out_arena);
		if (!fits_column(&v, o.nkeys + i))
			return false;
		frame_put_value(b, &v);
		buf_grow(b, 32 * (o.naggs - i));
		d = (unsigned char *)b->p + b->len;
	}
	rec_write_row(S.w, b->p, (size_t)((char *)d - b->p));
	return true;
}

static void emit_entry(struct entry *e)
{
	arena_reset(&S.out_arena);
	arena_reset(&S.tmp_arena);
	if (S.out)
		emit_ndjson(e);
	if (S.out || emit_framed_row(e)) {
		S.nrows++;
		return;
	}
	size_t ncol = 2 + o.nkeys + o.naggs;
	struct value row = {.type = V_OBJECT, .n = (uint32_t)ncol};
	row.a = arena_alloc(&S.out_arena, 2 * ncol * sizeof *row.a);
	row.a[0] = value_str("window_start", 12);
	row.a[1] = value_typed_int(V_TIMESTAMP, e->start);
	row.a[2] = value_str("window_end", 10);
	row.a[3] = value_typed_int(V_TIMESTAMP, e->end);
	struct key *k = &S.keys[e->key];
	const unsigned char *p = key_bytes(k), *end = p + k->len;
	for (size_t i = 0; i < o.nkeys; i++) {
		struct value *kv = &row.a[2 * (2 + i)];
		*kv = value_str(o.keys[i].text, strlen(o.keys[i].text));
		if (frame_get_value(&S.out_arena, &p, end, kv + 1))
			kv[1] = value_null();
	}
	for (size_t i = 0; i < o.naggs; i++) {
		struct value *av = &row.a[2 * (2 + o.nkeys + i)];
		*av = value_str(o.aggs[i].name, strlen(o.aggs[i].name));
		av[1] = agg_result(&o.aggs[i], ST(e) + o.aggs[i].off, &S.out_arena);
	}
	fit_schema(&row);
	rec_write(S.w, &row);
	S.nrows++;
}

static void announce_watermark(bool force)
{
	if (S.wm.wm == WM_NONE || S.wm.wm == S.announced || (!force && !S.finalized))
		return;
	arena_reset(&S.out_arena);
	struct value *pairs = arena_alloc(&S.out_arena, 4 * sizeof *pairs);
	pairs[0] = value_str("@weir", 5);
	pairs[1] = value_str("watermark", 9);
	pairs[2] = value_str("t", 1);
	pairs[3] = value_int(S.wm.wm);
	struct value v = {.type = V_OBJECT, .n = 2, .a = pairs};
	rec_write_control(S.w, &v);
	S.announced = S.wm.wm;
	S.finalized = false;
}

/* ---- panes: sliding windows made of slide-sized pieces ---- */

/* With --slide in append mode a record updates the one pane it falls in
 * (panes are as wide as the greatest common divisor of size and slide, so
 * windows are whole panes), and a window is its panes combined when it is
 * emitted: one update per record instead of one per window it is in.  Only
 * aggregates whose combination is exactly what updates in arrival order
 * give qualify (stddev and percentiles, in floating point, do not), and
 * sums only while no partial sum of any window can be inexact: a record
 * that would make the order matter (a float, or magnitudes near the
 * limits) first turns the panes into windows (leave_panes), and the run
 * goes on window by window.  Output is the same either way. */

static bool panes_possible(void)
{
	if (o.kind != W_SLIDE || o.size == o.slide || o.emit != EMIT_APPEND)
		return false;
	for (size_t i = 0; i < o.naggs; i++)
		if (o.aggs[i].fn == A_STDDEV || o.aggs[i].fn == A_PERCENTILE)
			return false;
	return true;
}

/* The mode a run starts in. */
static void panes_reset(void)
{
	S.panes = panes_possible();
	S.span = S.panes ? S.pane : o.size;
	S.have_next = false;
	S.sum_umax = S.sum_n = 0;
	S.sum_smin = S.sum_smax = 0;
	S.sum_seen = false;
	S.sum_limit = UINT64_MAX;
}

/* How many records keep sums exact in any order: records x the largest
 * unscaled magnitude (at the largest scale) far below 2^63, so no partial
 * sum of any window nears the limits where a sum rescales inexactly or
 * turns to floating point (and a sum of integers always fits an int64). */
static void sum_limit(void)
{
	double most = (double)S.sum_umax * (double)pow10_128(S.sum_smax - S.sum_smin);
	S.sum_limit = most < 1 ? UINT64_MAX : most > 4e18 ? 0 : (uint64_t)(4e18 / most);
}

/* Whether sums stay exact in any order with this record's values too:
 * integers, or decimals of scale 18 at most, and few and small enough. */
static bool sums_exact(const struct value *const *args)
{
	for (size_t i = 0; i < o.naggs; i++) {
		const struct value *v = args[i];
		if ((o.aggs[i].fn != A_SUM && o.aggs[i].fn != A_AVG) || !v || v->type == V_NULL)
			continue;
		uint64_t u;
		uint8_t sc = 0;
		if (v->type == V_INT) {
			u = v->i < 0 ? -(uint64_t)v->i : (uint64_t)v->i;
		} else if (v->type == V_DECIMAL && v->scale <= 18 && v->d > -(int128_t)INT64_MAX && v->d < INT64_MAX) {
			u = (uint64_t)(v->d < 0 ? -v->d : v->d);
			sc = v->scale;
		} else {
			return false;
		}
		if (!S.sum_seen || u > S.sum_umax || sc < S.sum_smin || sc > S.sum_smax) {
			if (!S.sum_seen || u > S.sum_umax)
				S.sum_umax = u;
			if (!S.sum_seen || sc < S.sum_smin)
				S.sum_smin = sc;
			if (!S.sum_seen || sc > S.sum_smax)
				S.sum_smax = sc;
			S.sum_seen = true;
			sum_limit();
		}
	}
	return ++S.sum_n <= S.sum_limit;
}

/* The first window start whose window ends after t. */
static int64_t window_after(int64_t t)
{
	int64_t s = t - o.size + 1;
	return s + floor_mod(o.offset - s, o.slide);
}

static uint32_t win_find(int64_t start)
{
	uint32_t tag = (uint32_t)mix64((uint64_t)start);
	const struct table *t = &S.wtab;
	for (uint32_t i = tag & t->mask; t->s[i].idx != NIL; i = (i + 1) & t->mask)
		if (t->s[i].tag == tag && S.wins[t->s[i].idx].start == start)
			return t->s[i].idx;
	return NIL;
}

/* leave_panes: the panes set aside while windows are built from them, and
 * each key's list of them */
static struct win *aside;
static size_t naside;
static uint32_t *aside_ents;

/* The newest of a key's panes. */
static uint32_t pane_list(uint32_t key)
{
	return aside_ents ? aside_ents[key] : S.key_ents[key];
}

/* The panes of `key` in the window at s, combined into a fresh entry. */
static struct entry *combine(uint32_t key, int64_t s)
{
	struct entry *t = (struct entry *)S.tmp_ent;
	memset(t, 0, S.stride);
	t->start = s;
	t->end = s + o.size;
	t->key = key;
	t->seq = UINT64_MAX;
	for (uint32_t i = pane_list(key); i != NIL; i = E(i)->older) {
		const struct entry *p = E(i);
		if (p->start >= s + o.size)
			continue;
		if (p->start < s)
			break;
		if (p->seq < t->seq)
			t->seq = p->seq;
		for (size_t a = 0; a < o.naggs; a++)
			agg_fold(&o.aggs[a], ST(t) + o.aggs[a].off, ST((struct entry *)p) + o.aggs[a].off, false);
	}
	return t;
}

/* The first entry of the pane at p, NIL when it has none: found in the
 * table of windows, or (leave_panes) among the panes set aside. */
static uint32_t table_pane(int64_t p)
{
	uint32_t w = win_find(p);
	return w == NIL ? NIL : S.wins[w].head;
}

static uint32_t aside_pane(int64_t p)
{
	size_t lo = 0, hi = naside;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (aside[mid].start < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < naside && aside[lo].start == p ? aside[lo].head : NIL;
}

struct wkey {
	uint64_t seq;
	uint32_t key;
};

static int cmp_wkey(const void *x, const void *y)
{
	const struct wkey *a = x, *b = y;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Call f on the keys of the window at s, each once, in the order of their
 * first record in the window, which is the order per-window entries have:
 * a key's earliest pane entry in the window was made by that record. */
static void window_keys(int64_t s, uint32_t (*pane)(int64_t), void (*f)(uint32_t key, int64_t s))
{
	if (++S.stamp == 0) {
		for (uint32_t i = 0; i < S.nkeys; i++)
			S.keys[i].stamp = 0;
		S.stamp = 1;
	}
	size_t n = 0;
	for (int64_t p = s; p < s + o.size; p += S.pane)
		for (uint32_t e = pane(p); e != NIL; e = E(e)->next) {
			struct key *k = &S.keys[E(e)->key];
			if (k->stamp == S.stamp)
				continue;
			k->stamp = S.stamp;
			if (n == S.nwkeys) {
				S.nwkeys = S.nwkeys ? 2 * S.nwkeys : 1024;
				S.wkeys = xrealloc(S.wkeys, S.nwkeys * sizeof *S.wkeys);
			}
			S.wkeys[n++].key = E(e)->key;
		}
	for (size_t i = 0; i < n; i++) {
		uint64_t seq = UINT64_MAX;
		for (uint32_t e = pane_list(S.wkeys[i].key); e != NIL && E(e)->start >= s; e = E(e)->older)
			if (E(e)->start < s + o.size && E(e)->seq < seq)
				seq = E(e)->seq;
		S.wkeys[i].seq = seq;
	}
	qsort(S.wkeys, n, sizeof *S.wkeys, cmp_wkey);
	for (size_t i = 0; i < n; i++)
		f(S.wkeys[i].key, s);
}

static void emit_combined(uint32_t key, int64_t s)
{
	struct entry *t = combine(key, s);
	emit_entry(t);
	for (size_t a = 0; a < o.naggs && S.owning; a++)
		agg_free(&o.aggs[a], ST(t) + o.aggs[a].off);
}

static void pane_drop(void)
{
	struct hitem it = heap_pop(&S.heap);
	for (uint32_t i = S.wins[it.idx].head; i != NIL;) {
		uint32_t next = E(i)->next;
		kwalk_unlink(i);
		entry_free(i);
		i = next;
	}
	win_drop(it.idx);
}

/* Emit every window that ends at or before wm, then forget the panes no
 * later window holds.  Windows without data are passed over for good:
 * records for them are late, and what falls in a pane they share with a
 * later window counts in that one only. */
static void finalize_panes(int64_t wm)
{
	while (S.heap.n) {
		int64_t s = window_after(S.heap.a[0].t);
		if (S.have_next && s < S.next_emit)
			s = S.next_emit;
		if (s > wm - o.size)
			break;
		window_keys(s, table_pane, emit_combined);
		S.next_emit = s + o.slide;
		S.have_next = true;
		while (S.heap.n && S.heap.a[0].t < S.next_emit)
			pane_drop();
		S.finalized = true;
	}
	if (wm != WM_END && (!S.have_next || window_after(wm) > S.next_emit)) {
		S.next_emit = window_after(wm);
		S.have_next = true;
		while (S.heap.n && S.heap.a[0].t < S.next_emit)
			pane_drop();
	}
}

/* A window entry for `key` at s, its panes combined (leave_panes). */
static void window_from_panes(uint32_t key, int64_t s)
{
	struct entry *t = combine(key, s);
	struct kwalk kw;
	bool created;
	kwalk_init(&kw, key);
	uint32_t idx = kwalk_entry(&kw, s, &created);
	/* the window takes over what the combination owns */
	memcpy(ST(E(idx)), ST(t), S.stride - ST_OFF);
	E(idx)->seq = t->seq;
}

static int cmp_win_start(const void *x, const void *y)
{
	const struct win *a = x, *b = y;
	return (a->start > b->start) - (a->start < b->start);
}

/* Turn the panes into the windows they make, as if the run had gone window
 * by window from its start: each window entry is its key's panes combined,
 * listed in the order of the key's first record in the window. */
static void leave_panes(void)
{
	naside = S.heap.n;
	aside = xmalloc((naside ? naside : 1) * sizeof *aside);
	for (size_t i = 0; i < naside; i++) {
		aside[i] = S.wins[S.heap.a[i].idx];
		win_drop(S.heap.a[i].idx);
	}
	S.heap.n = 0;
	qsort(aside, naside, sizeof *aside, cmp_win_start);
	/* each key's panes set aside, so its list can take windows */
	aside_ents = xmalloc((S.nkeys ? S.nkeys : 1) * sizeof *aside_ents);
	for (uint32_t i = 0; i < S.nkeys; i++)
		aside_ents[i] = NIL;
	for (size_t i = 0; i < naside; i++)
		for (uint32_t e = aside[i].head; e != NIL; e = E(e)->next)
			if (aside_ents[E(e)->key] == NIL) {
				aside_ents[E(e)->key] = S.key_ents[E(e)->key];
				S.key_ents[E(e)->key] = NIL;
			}
	S.panes = false;
	S.span = o.size;
	if (naside) {
		int64_t s = window_after(aside[0].start);
		if (S.have_next && s < S.next_emit)
			s = S.next_emit;
		for (; s <= aside[naside - 1].start; s += o.slide)
			window_keys(s, aside_pane, window_from_panes);
	}
	for (size_t i = 0; i < naside; i++)
		for (uint32_t e = aside[i].head; e != NIL;) {
			uint32_t next = E(e)->next;
			entry_free(e);
			e = next;
		}
	free(aside);
	free(aside_ents);
	aside = NULL;
	aside_ents = NULL;
}

/* ---- the watermark and what it finalizes ---- */

/* Emit (append) or drop (update) every window whose end <= wm. */
static void finalize(int64_t wm)
{
	if (o.emit == EMIT_COMPLETE)
		return;
	if (S.panes) {
		finalize_panes(wm);
		return;
	}
	while (S.heap.n && S.heap.a[0].t <= wm - (o.kind == W_SESSION ? 0 : o.size)) {
		struct hitem it = heap_pop(&S.heap);
		if (o.kind == W_SESSION) {
			struct entry *e = E(it.idx);
			if (!e->live || e->gen != it.gen)
				continue; /* absorbed by a merge */
			if (e->end > it.t) {
				/* extended since it was queued: queue it at its real end */
				heap_push(&S.heap, (struct hitem){.t = e->end, .seq = e->seq, .idx = it.idx, .gen = e->gen});
				continue;
			}
			if (o.emit == EMIT_APPEND)
				emit_entry(e);
			/* unlink from the key's session list */
			uint32_t *pp = &S.key_ents[e->key];
			while (*pp != it.idx)
				pp = &E(*pp)->next;
			*pp = e->next;
			entry_free(it.idx);
		} else {
			struct win *w = &S.wins[it.idx];
			for (uint32_t i = w->head; i != NIL;) {
				struct entry *e = E(i);
				uint32_t next = e->next;
				if (o.emit == EMIT_APPEND)
					emit_entry(e);
				kwalk_unlink(i);
				entry_free(i);
				i = next;
			}
			win_drop(it.idx);
		}
		S.finalized = true;
	}
}

static void set_watermark(int64_t wm)
{
	if (wm_advance_to(&S.wm, wm))
		finalize(S.wm.wm);
}

/* The watermark the observations so far allow: the tool's own, or a later
 * one from upstream (whose records at or before it will never come). */
static int64_t candidate(void)
{
	int64_t c = wm_candidate(&S.wm);
	if (S.upstream != WM_NONE && (c == WM_NONE || S.upstream > c))
		c = S.upstream;
	return c;
}

static int cmp_rows(const void *x, const void *y)
{
	const struct entry *a = E(*(const uint32_t *)x), *b = E(*(const uint32_t *)y);
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Every live entry in output order: by window end, then creation. */
static uint32_t *all_entries(size_t *n)
{
	uint32_t *v = xmalloc((S.live ? S.live : 1) * sizeof *v);
	*n = 0;
	for (uint32_t i = 0; i < S.nent; i++)
		if (E(i)->live)
			v[(*n)++] = i;
	qsort(v, *n, sizeof *v, cmp_rows);
	return v;
}

/* End of a micro-batch: output what the mode asks for, then let the
 * watermark move (Spark's no-data batch runs right after the advance). */
static void end_batch(bool table)
{
	if (o.emit == EMIT_UPDATE) {
		for (uint32_t i = S.dhead; i != NIL;) {
			struct entry *e = E(i);
			uint32_t next = e->dnext;
			e->dirty = 0;
			emit_entry(e);
			i = next;
		}
		S.dhead = S.dtail = NIL;
	} else if (o.emit == EMIT_COMPLETE && table) {
		size_t n;
		uint32_t *v = all_entries(&n);
		for (size_t i = 0; i < n; i++)
			emit_entry(E(v[i]));
		free(v);
	}
	set_watermark(candidate());
}

/* ---- records ---- */

static void late_record(const struct record *rec)
{
	S.nlate++;
	if (S.late)
		rec_forward(S.late, rec);
}

static void bad_record(const struct rec_reader *r, const struct record *rec, const char *fmt, const char *what)
{
	S.nbad++;
	char msg[512];
	snprintf(msg, sizeof msg, fmt, what);
	warnx("bad record at '%s' record %" PRIu64 ": %s", rec_reader_name(r), rec->pos, msg);
}

/* The start of the last window (or pane) `unit` long holding ts: records
 * come in time order roughly, so mostly the one of the record before (a
 * division less). */
static inline int64_t align(int64_t ts, int64_t unit, struct aligned *a)
{
	if (!a->ok || ts < a->start || (uint64_t)ts - (uint64_t)a->start >= (uint64_t)unit) {
		a->start = ts - floor_mod(ts - o.offset, unit);
		a->ok = true;
	}
	return a->start;
}

static inline __attribute__((always_inline)) void add_to(uint32_t idx, const struct value *const *args)
{
	unsigned char *st = ST(E(idx));
	const struct agg *a = o.aggs, *end = a + o.naggs;
	if (S.plain) {
		/* the usual aggregates, a count or an addition each: agg_update's
		 * switch over every function cost more than the updates */
		for (; a < end; a++, args++) {
			unsigned char *p = st + a->off;
			const struct value *v = *args;
			if (a->fn == A_COUNT_STAR)
				(*(int64_t *)p)++;
			else if (v && v->type != V_NULL) {
				if (a->fn == A_COUNT)
					(*(int64_t *)p)++;
				else
					sum_add((struct st_sum *)p, v);
			}
		}
	} else {
		/* a local: stores into the state could alias S */
		uint64_t rseq = S.rseq;
		for (; a < end; a++)
			agg_update(a, st + a->off, *args++, rseq);
	}
	if (o.emit == EMIT_UPDATE)
		mark_dirty(idx);
}

static void session_add(uint32_t key, int64_t t, const struct value *const *args)
{
	int64_t s = t, e = t + o.gap;
	uint32_t target = NIL, *pp = &S.key_ents[key];
	while (*pp != NIL) {
		uint32_t i = *pp;
		struct entry *x = E(i);
		if (x->start > e)
			break; /* sorted by start: nothing later can touch [s, e) */
		if (x->end < s) {
			pp = &x->next;
			continue;
		}
		if (target == NIL) {
			target = i;
			pp = &x->next;
			continue;
		}
		/* [s, e) bridges target and x: fold x into target */
		struct entry *tg = E(target);
		for (size_t a = 0; a < o.naggs; a++)
			agg_fold(&o.aggs[a], ST(tg) + o.aggs[a].off, ST(x) + o.aggs[a].off, true);
		if (x->end > tg->end)
			tg->end = x->end;
		*pp = x->next;
		entry_free(i);
	}
	if (target == NIL) {
		target = entry_new(key, s, e, S.seq++);
		struct entry *n = E(target);
		n->next = *pp;
		*pp = target;
		heap_push(&S.heap, (struct hitem){.t = e, .seq = n->seq, .idx = target, .gen = n->gen});
	} else {
		struct entry *tg = E(target);
		/* sessions before target end before s, so the order by start holds */
		if (s < tg->start)
			tg->start = s;
		if (e > tg->end)
			tg->end = e;
	}
	add_to(target, args);
}

/* A record's group key: short ones as the words of their encoding, longer
 * ones in the scratch buffer. */
struct rkey {
	uint64_t w[2];
	uint32_t n;
};

static inline __attribute__((always_inline)) void record_key(const struct record *rec, struct rkey *k)
{
	if (o.nkeys == 1) {
		/* the usual key, one short string, without the scratch buffer */
		const struct value *v = lookup(rec, &o.keys[0]);
		if (v && v->type == V_STRING && v->n <= KEY_INLINE - 2) {
			string_key_words(v->s, v->n, k->w);
			k->n = v->n + 2;
			return;
		}
	}
	buf_reset(&S.scratch);
	for (size_t i = 0; i < o.nkeys; i++) {
		const struct value *kv = lookup(rec, &o.keys[i]);
		put_canonical(&S.scratch, kv ? kv : &(struct value){.type = V_NULL});
	}
	k->n = (uint32_t)S.scratch.len;
	if (k->n <= KEY_INLINE)
		key_words((unsigned char *)S.scratch.p, k->n, k->w);
}

static inline __attribute__((always_inline)) uint32_t rkey_intern(const struct rkey *k)
{
	if (k->n <= KEY_INLINE)
		return key_intern_short(k->w, k->n);
	return key_intern((unsigned char *)S.scratch.p, k->n);
}

/* What every data record ends with: a late one is counted, state that grew
 * is checked against --max-state, and a new latest time may move the
 * watermark and so output rows (update mode: every record does). */
static inline __attribute__((always_inline)) void record_done(const struct record *rec, int64_t ts, bool any)
{
	if (!any) {
		late_record(rec);
	} else if (S.grew || S.owning) {
		S.grew = false;
		check_limits();
	}
	bool later = S.wm.max_seen == WM_NONE || ts > S.wm.max_seen;
	if (later)
		S.wm.max_seen = ts;
	if (!o.advance_barrier && (later || o.emit == EMIT_UPDATE)) {
		end_batch(false);
		announce_watermark(false);
	}
}

#define NUMBER_TYPES (1u << V_NULL | 1u << V_INT | 1u << V_FLOAT | 1u << V_DECIMAL)

/* A record at ts into every tumbling or sliding window (not panes) that
 * holds it and is not final under wm; false when there is none (late).
 * The key is interned only then. */
static inline __attribute__((always_inline)) bool add_windows(int64_t ts, int64_t wm, const struct rkey *rk,
							      const struct value *const *args)
{
	/* locals: the aggregates' stores could alias the options */
	int64_t size = o.size, slide = o.slide;
	int64_t st = align(ts, slide, &S.last_window);
	/* the latest window holding ts ends last: when it is final, all are */
	if (wm != WM_NONE && st + size <= wm)
		return false;
	struct kwalk kw;
	kwalk_init(&kw, rkey_intern(rk));
	for (;;) {
		bool created;
		add_to(kwalk_entry(&kw, st, &created), args);
		/* tumbling windows: the one window is all */
		if (slide == size)
			return true;
		st -= slide;
		if (st <= ts - size || (wm != WM_NONE && st + size <= wm))
			return true;
	}
}

/* The usual record on a short path: its event time already a timestamp (a
 * typed stream's), one short string key, only plain aggregates, tumbling or
 * sliding windows without panes, and every field where the last record of
 * its layout had it.  False, having changed nothing, for any other record,
 * which slow_record then takes; the two must agree on every record both
 * can take (tests/window.bats runs both on the same events). */
static inline __attribute__((always_inline)) bool fast_record(const struct record *rec)
{
	if (rec->layout != S.fast_layout || !rec->layout || S.panes)
		return false;
	const struct value *a = rec->v.a, *tv = &a[S.fast_time], *kv = &a[S.fast_key];
	if (tv->type != V_TIMESTAMP || !evtime_ok(tv->i) || kv->type != V_STRING || kv->n > KEY_INLINE - 2)
		return false;
	for (uint32_t i = 0; i < S.fast_nnum; i++)
		if (!(NUMBER_TYPES >> a[S.fast_num[i]].type & 1))
			return false; /* slow_record says why */
	if (a != S.fast_base) {
		for (size_t i = 0; i < o.naggs; i++)
			S.fast_args[i] = o.aggs[i].arg.n ? &a[S.fast_pos[i]] : NULL;
		S.fast_base = a;
	}
	S.rseq++;
	S.nrecords++;
	struct rkey rk = {.n = kv->n + 2};
	string_key_words(kv->s, kv->n, rk.w);
	int64_t ts = tv->i;
	record_done(rec, ts, add_windows(ts, o.emit == EMIT_COMPLETE ? WM_NONE : S.wm.wm, &rk, S.fast_args));
	return true;
}

/* After a record went the long way, which looked its fields up by name:
 * whether the next ones of its layout can take the short one. */
static void fast_learn(const struct record *rec)
{
	S.fast_layout = 0;
	S.fast_base = NULL;
	S.fast_nnum = 0;
	if (S.panes || !rec->layout)
		return;
	const struct rec_field *t = &o.time.top, *k = &o.keys[0].top;
	if (t->layout != rec->layout || t->pos == UINT32_MAX || k->layout != rec->layout || k->pos == UINT32_MAX)
		return;
	for (size_t i = 0; i < o.naggs; i++) {
		const struct rec_field *f = &o.aggs[i].arg.top;
		if (!o.aggs[i].arg.n)
			continue; /* count(*) */
		if (f->layout != rec->layout || f->pos == UINT32_MAX)
			return; /* absent: slow_record passes NULL */
		S.fast_pos[i] = 2 * f->pos + 1;
		if (o.aggs[i].number)
			S.fast_num[S.fast_nnum++] = S.fast_pos[i];
	}
	S.fast_time = 2 * t->pos + 1;
	S.fast_key = 2 * k->pos + 1;
	S.fast_layout = rec->layout;
}

static void slow_record(const struct rec_reader *r, const struct record *rec)
{
	int64_t ts;
	if (o.proc_time) {
		ts = now_micros();
	} else {
		char msg[512];
		if (event_time(lookup(rec, &o.time), o.time.text, o.unit, &ts, msg, sizeof msg)) {
			bad_record(r, rec, "%s", msg);
			return;
		}
	}
	const struct value **args = S.args;
	for (size_t i = 0; i < o.naggs; i++) {
		args[i] = o.aggs[i].arg.n ? lookup(rec, &o.aggs[i].arg) : NULL;
		if (o.aggs[i].number && args[i] && args[i]->type != V_NULL && !value_is_number(args[i])) {
			bad_record(r, rec, "'%s' is not a number", o.aggs[i].arg.text);
			return;
		}
	}
	S.rseq++;
	S.nrecords++;
	int64_t wm = o.emit == EMIT_COMPLETE ? WM_NONE : S.wm.wm;
	/* panes: whether the latest window holding ts is still open; before
	 * the key goes in the scratch buffer, which leave_panes may use */
	bool open = S.panes && (wm == WM_NONE || align(ts, o.slide, &S.last_window) + o.size > wm);
	if (open && !sums_exact(args))
		leave_panes();

	struct rkey rk;
	record_key(rec, &rk);

	bool any = false;
	if (o.kind == W_SESSION) {
		if (wm == WM_NONE || ts + o.gap > wm) {
			uint32_t key = rkey_intern(&rk);
			session_add(key, ts, args);
			any = true;
		}
	} else if (S.panes) {
		if (open) {
			int64_t p = align(ts, S.pane, &S.last_pane);
			struct kwalk kw;
			bool created;
			kwalk_init(&kw, rkey_intern(&rk));
			add_to(kwalk_entry(&kw, p, &created), args);
			any = true;
		}
	} else {
		any = add_windows(ts, wm, &rk, args);
	}
	record_done(rec, ts, any);
}

static void data_record(const struct rec_reader *r, const struct record *rec)
{
	if (!S.fast_ok) {
		slow_record(r, rec);
	} else if (!fast_record(rec)) {
		slow_record(r, rec);
		fast_learn(rec);
	}
}

/* ---- snapshots ---- */

#define SNAP_MAGIC "WEIRWIN3"

/* Everything that shapes the state: a snapshot is only loaded by a run with
 * the same windows, keys and aggregates. */
static void fingerprint(struct buf *b)
{
	static const char *const kinds[] = {"tumble", "slide", "session"}, *const emits[] = {"append", "update", "complete"};
	buf_printf(b, "%s size=%" PRId64 "us slide=%" PRId64 "us gap=%" PRId64 "us offset=%" PRId64 "us emit=%s by=",
		   kinds[o.kind], o.size, o.slide, o.gap, o.offset, emits[o.emit]);
	for (size_t i = 0; i < o.nkeys; i++)
		buf_printf(b, "%s%s", i ? "," : "", o.keys[i].text);
	buf_puts(b, " aggregates=");
	for (size_t i = 0; i < o.naggs; i++) {
		const struct agg *a = &o.aggs[i];
		buf_printf(b, "%s%s(%s", i ? "," : "", afn_names[a->fn], a->arg.n ? a->arg.text : "*");
		if (a->fn == A_PERCENTILE)
			buf_printf(b, ",%.17g", a->p);
		buf_putc(b, ')');
	}
}

static void put_i64(struct buf *b, int64_t v)
{
	buf_uvarint(b, zigzag64(v));
}

static int get_i64(const unsigned char **p, const unsigned char *end, int64_t *v)
{
	uint64_t u;
	if (get_uvarint(p, end, &u))
		return -1;
	*v = unzigzag64(u);
	return 0;
}

static int get_raw(const unsigned char **p, const unsigned char *end, void *dst, size_t n)
{
	if ((size_t)(end - *p) < n)
		return -1;
	memcpy(dst, *p, n);
	*p += n;
	return 0;
}

static void set_cb(void *arg, const unsigned char *p, size_t n)
{
	buf_uvarint(arg, n);
	buf_put(arg, p, n);
}

static void agg_save(struct buf *b, const struct agg *a, unsigned char *st)
{
	switch (a->fn) {
	case A_COUNT_STAR:
	case A_COUNT:
		put_i64(b, *(int64_t *)st);
		return;
	case A_SUM:
	case A_AVG: {
		struct st_sum *s = (struct st_sum *)st;
		/* both members, the one not in use as zero */
		int128_t i = s->kind == 3 ? 0 : s->i;
		double f = s->kind == 3 ? s->f : 0.0;
		buf_putc(b, (char)s->kind);
		buf_putc(b, (char)s->scale);
		buf_put(b, &i, sizeof i);
		buf_put(b, &f, 8);
		put_i64(b, s->n);
		return;
	}
	case A_STDDEV: {
		struct st_dev *s = (struct st_dev *)st;
		put_i64(b, s->n);
		buf_put(b, &s->mean, 8);
		buf_put(b, &s->m2, 8);
		return;
	}
	case A_MIN:
	case A_MAX:
	case A_FIRST:
	case A_LAST: {
		struct st_val *s = (struct st_val *)st;
		buf_putc(b, (char)s->has);
		if (s->has) {
			buf_uvarint(b, s->seq);
			struct value v = kept(s, &S.tmp_arena);
			frame_put_value(b, &v);
		}
		return;
	}
	case A_COUNT_DISTINCT: {
		struct dset *d = *(struct dset **)st;
		buf_uvarint(b, d ? d->n : 0);
		if (d)
			dset_each(d, set_cb, b);
		return;
	}
	case A_APPROX_DISTINCT: {
		struct hll *h = *(struct hll **)st;
		buf_putc(b, h != NULL);
		if (h)
			hll_save(b, h);
		return;
	}
	case A_PERCENTILE: {
		struct dds *d = *(struct dds **)st;
		buf_putc(b, d != NULL);
		if (d)
			dds_save(b, d);
		return;
	}
	}
}

static int agg_load(const struct agg *a, unsigned char *st, const unsigned char **p, const unsigned char *end)
{
	switch (a->fn) {
	case A_COUNT_STAR:
	case A_COUNT:
		return get_i64(p, end, (int64_t *)st);
	case A_SUM:
	case A_AVG: {
		struct st_sum *s = (struct st_sum *)st;
		int128_t i;
		double f;
		if (get_raw(p, end, &s->kind, 1) || get_raw(p, end, &s->scale, 1) || s->kind > 3 || s->scale > 38 ||
		    get_raw(p, end, &i, sizeof i) || get_raw(p, end, &f, 8))
			return -1;
		if (s->kind == 3)
			s->f = f;
		else
			s->i = i;
		return get_i64(p, end, &s->n);
	}
	case A_STDDEV: {
		struct st_dev *s = (struct st_dev *)st;
		return get_i64(p, end, &s->n) || get_raw(p, end, &s->mean, 8) || get_raw(p, end, &s->m2, 8) ? -1 : 0;
	}
	case A_MIN:
	case A_MAX:
	case A_FIRST:
	case A_LAST: {
		struct st_val *s = (struct st_val *)st;
		uint8_t has;
		if (get_raw(p, end, &has, 1) || has > 1)
			return -1;
		if (!has)
			return 0;
		uint64_t seq;
		struct value v;
		arena_reset(&S.tmp_arena);
		if (get_uvarint(p, end, &seq) || frame_get_value(&S.tmp_arena, p, end, &v))
			return -1;
		keep_value(s, &v);
		s->seq = seq;
		return 0;
	}
	case A_COUNT_DISTINCT: {
		uint64_t n;
		if (get_uvarint(p, end, &n))
			return -1;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t len;
			if (get_uvarint(p, end, &len) || len > (uint64_t)(end - *p))
				return -1;
			dset_add((struct dset **)st, *p, len);
			*p += len;
		}
		return 0;
	}
	case A_APPROX_DISTINCT:
	case A_PERCENTILE: {
		uint8_t present;
		if (get_raw(p, end, &present, 1) || present > 1)
			return -1;
		if (!present)
			return 0;
		if (a->fn == A_APPROX_DISTINCT) {
			struct hll *h = xcalloc(1, sizeof *h);
			*(struct hll **)st = h;
			if (hll_load(h, p, end))
				return -1;
			S.heap_bytes += hll_bytes(h);
		} else {
			struct dds *d = xcalloc(1, sizeof *d);
			*(struct dds **)st = d;
			if (dds_load(d, p, end))
				return -1;
			S.heap_bytes += dds_bytes(d);
		}
		return 0;
	}
	}
	return -1;
}

static int cmp_seq(const void *x, const void *y)
{
	const struct entry *a = E(*(const uint32_t *)x), *b = E(*(const uint32_t *)y);
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static void save_state(int64_t id)
{
	struct buf b = BUF_INIT, fp = BUF_INIT;
	fingerprint(&fp);
	buf_putc(&fp, 0);
	char err[512];
	if (snap_put_header(&b, SNAP_MAGIC, fp.p, S.late, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	buf_putc(&b, S.panes); /* entries are panes; their fields follow */
	put_i64(&b, S.wm.max_seen);
	put_i64(&b, S.wm.wm);
	put_i64(&b, S.upstream);
	put_i64(&b, S.announced);
	buf_uvarint(&b, S.seq);
	buf_uvarint(&b, S.rseq);
	if (S.panes) {
		buf_putc(&b, S.have_next);
		put_i64(&b, S.next_emit);
		buf_putc(&b, S.sum_seen);
		buf_uvarint(&b, S.sum_umax);
		buf_putc(&b, (char)S.sum_smin);
		buf_putc(&b, (char)S.sum_smax);
		buf_uvarint(&b, S.sum_n);
	}
	size_t n = 0;
	uint32_t *v = xmalloc((S.live ? S.live : 1) * sizeof *v);
	for (uint32_t i = 0; i < S.nent; i++)
		if (E(i)->live)
			v[n++] = i;
	/* creation order, so a restored window lists its rows as before */
	qsort(v, n, sizeof *v, cmp_seq);
	buf_uvarint(&b, n);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = E(v[i]);
		struct key *k = &S.keys[e->key];
		buf_uvarint(&b, k->len);
		buf_put(&b, key_bytes(k), k->len);
		put_i64(&b, e->start);
		put_i64(&b, e->end);
		buf_uvarint(&b, e->seq);
		for (size_t a = 0; a < o.naggs; a++)
			agg_save(&b, &o.aggs[a], ST(e) + o.aggs[a].off);
	}
	free(v);
	if (state_save(o.state_dir, id, &b, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	buf_free(&b);
	buf_free(&fp);
}

static void reset_state(void)
{
	for (uint32_t i = 0; i < S.nent; i++) {
		struct entry *e = E(i);
		if (!e->live)
			continue;
		if (o.kind != W_SESSION)
			kwalk_unlink(i);
		else
			S.key_ents[e->key] = NIL;
		entry_free(i);
	}
	if (o.kind != W_SESSION)
		for (size_t i = 0; i < S.heap.n; i++)
			win_drop(S.heap.a[i].idx);
	S.heap.n = 0;
	S.dhead = S.dtail = NIL;
}

static _Noreturn void corrupt(int64_t id)
{
	die(EXIT_TROUBLE, "corrupt state snapshot %" PRId64 " in '%s'", id, o.state_dir);
}

static void load_state(int64_t id)
{
	char err[2048]; /* room for the fingerprint in a mismatch */
	if (id == 0) {
		/* nothing committed yet: the initial state, and no snapshot
		 * of an earlier attempt may be taken for one of this run */
		reset_state();
		panes_reset();
		wm_init(&S.wm, o.delay);
		S.upstream = S.announced = WM_NONE;
		if (state_restore_zero(o.state_dir, S.late, err, sizeof err))
			die(EXIT_TROUBLE, "%s", err);
		return;
	}
	struct buf b = BUF_INIT, fp = BUF_INIT;
	struct snap_reader sr;
	fingerprint(&fp);
	buf_putc(&fp, 0);
	if (snap_open(o.state_dir, id, SNAP_MAGIC, fp.p, S.late, &b, &sr, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	reset_state();
	const unsigned char *p = sr.p, *end = sr.end;
	uint64_t len, seq, rseq, n;
	uint8_t panes, have_next = 0, sum_seen = 0;
	if (get_raw(&p, end, &panes, 1) || panes > 1 || (panes && !panes_possible()))
		corrupt(id);
	panes_reset();
	S.panes = panes;
	S.span = S.panes ? S.pane : o.size;
	if (get_i64(&p, end, &S.wm.max_seen) || get_i64(&p, end, &S.wm.wm) || get_i64(&p, end, &S.upstream) ||
	    get_i64(&p, end, &S.announced) || get_uvarint(&p, end, &seq) || get_uvarint(&p, end, &rseq) ||
	    (S.panes && (get_raw(&p, end, &have_next, 1) || have_next > 1 || get_i64(&p, end, &S.next_emit) ||
			 get_raw(&p, end, &sum_seen, 1) || sum_seen > 1 || get_uvarint(&p, end, &S.sum_umax) ||
			 get_raw(&p, end, &S.sum_smin, 1) || get_raw(&p, end, &S.sum_smax, 1) ||
			 S.sum_smin > S.sum_smax || S.sum_smax > 18 || get_uvarint(&p, end, &S.sum_n))) ||
	    get_uvarint(&p, end, &n))
		corrupt(id);
	S.have_next = have_next;
	S.sum_seen = sum_seen;
	if (S.panes && sum_seen)
		sum_limit();
	for (uint64_t i = 0; i < n; i++) {
		int64_t start, wend;
		uint64_t eseq;
		if (get_uvarint(&p, end, &len) || len > (uint64_t)(end - p))
			corrupt(id);
		/* key_intern reads a little past short keys: give it the scratch buffer */
		buf_reset(&S.scratch);
		buf_put(&S.scratch, p, len);
		uint32_t key = key_intern((unsigned char *)S.scratch.p, (uint32_t)len);
		p += len;
		if (get_i64(&p, end, &start) || get_i64(&p, end, &wend) || get_uvarint(&p, end, &eseq))
			corrupt(id);
		uint32_t idx;
		if (o.kind == W_SESSION) {
			if (wend <= start)
				corrupt(id);
			idx = entry_new(key, start, wend, eseq);
			uint32_t *pp = &S.key_ents[key];
			while (*pp != NIL && E(*pp)->start < start)
				pp = &E(*pp)->next;
			E(idx)->next = *pp;
			*pp = idx;
			heap_push(&S.heap, (struct hitem){.t = wend, .seq = eseq, .idx = idx, .gen = E(idx)->gen});
		} else {
			bool created;
			if (wend != start + S.span || floor_mod(start - o.offset, S.panes ? S.pane : o.slide))
				corrupt(id);
			struct kwalk kw;
			kwalk_init(&kw, key);
			idx = kwalk_entry(&kw, start, &created);
			if (!created)
				corrupt(id);
			E(idx)->seq = eseq;
		}
		for (size_t a = 0; a < o.naggs; a++)
			if (agg_load(&o.aggs[a], ST(E(idx)) + o.aggs[a].off, &p, end))
				corrupt(id);
	}
	if (p != end)
		corrupt(id);
	S.seq = seq;
	S.rseq = rseq;
	buf_free(&b);
	buf_free(&fp);
	state_prune(o.state_dir, id);
}

/* ---- control records ---- */

static void control_record(const struct rec_reader *r, const struct record *rec)
{
	const char *kind = rec->control;
	int64_t id;
	if (!strcmp(kind, "watermark")) {
		/* Consumed, not forwarded: downstream gets this tool's own
		 * watermark, which is in terms of window ends. */
		const struct value *t = value_get(&rec->v, "t", 1);
		if (!t || t->type != V_INT) {
			bad_record(r, rec, "%s", "watermark record without an integer 't'");
			return;
		}
		/* within event times' reach of windows (end of input apart),
		 * so that window arithmetic on it cannot overflow: below, it
		 * says nothing; above, that every window is final */
		int64_t up = t->i;
		if (up < EVTIME_MIN - DURATION_MAX_US)
			return;
		if (up > EVTIME_MAX + DURATION_MAX_US && up != WM_END)
			up = EVTIME_MAX + DURATION_MAX_US;
		if (S.upstream == WM_NONE || up > S.upstream)
			S.upstream = up;
		if (!o.advance_barrier) {
			set_watermark(candidate());
			announce_watermark(false);
		}
		return;
	}
	if (!strcmp(kind, "barrier")) {
		if (!rec_control_id(&rec->v, &id)) {
			bad_record(r, rec, "%s", "barrier without an integer 'id'");
			return;
		}
		end_batch(true);
		announce_watermark(true);
		if (S.late)
			rec_flush(S.late);
		rec_flush(S.w);
		int64_t committed;
		if (o.state_dir) {
			save_state(id);
			if (rec_control_committed(&rec->v, &committed))
				state_prune_below(o.state_dir, committed);
		}
	} else if (!strcmp(kind, "restore")) {
		if (!rec_control_id(&rec->v, &id)) {
			bad_record(r, rec, "%s", "restore without an integer 'id'");
			return;
		}
		if (o.state_dir)
			load_state(id);
		else if (id > 0)
			warnx("restore %" PRId64 " without --state: starting from empty state", id);
	}
	rec_forward(S.w, rec);
}

/* ---- the loop ---- */

/* Processing time moves while the input is quiet: wait for input no longer
 * than until the next window is due, then advance the watermark to now. */
static void wait_input(struct rec_reader *r)
{
	while (!rec_reader_buffered(r) && S.heap.n) {
		int64_t end = S.heap.a[0].t + (o.kind == W_SESSION ? 0 : o.size);
		if (S.panes) {
			int64_t s = window_after(S.heap.a[0].t);
			end = (S.have_next && s < S.next_emit ? S.next_emit : s) + o.size;
		}
		int64_t due = end + o.delay;
		int64_t now = now_micros();
		if (due <= now) {
			set_watermark(now - o.delay);
			announce_watermark(false);
			rec_flush(S.w);
			continue;
		}
		rec_flush(S.w);
		struct pollfd pfd = {.fd = rec_reader_fd(r), .events = POLLIN};
		int64_t ms = (due - now + 999) / 1000;
		int rc = poll(&pfd, 1, ms > 60000 ? 60000 : (int)ms);
		if (rc > 0 || (rc < 0 && errno != EINTR))
			return;
	}
}

static void use_schema(const struct type *src)
{
	S.in_src = src;
	type_free(S.in_schema);
	S.in_schema = src ? type_clone(src) : NULL;
	const struct type *t = S.in_schema;
	for (size_t i = 0; i < o.naggs; i++) {
		o.aggs[i].in_type = NULL;
		if (t && o.aggs[i].arg.n == 1) {
			long f = type_field_index(t, o.aggs[i].arg.text);
			if (f >= 0)
				o.aggs[i].in_type = t->fields[f].type;
		}
	}
}

static void read_input(struct rec_reader *r)
{
	struct record rec;
	rec_reader_flush_before_block(r, S.w);
	for (;;) {
		if (o.proc_time && !o.advance_barrier)
			wait_input(r);
		enum rec_kind k = rec_read(r, &rec);
		if (k == REC_EOF)
			return;
		if (rec_reader_schema(r) != S.in_src)
			use_schema(rec_reader_schema(r));
		if (k == REC_DATA)
			data_record(r, &rec);
		else if (k == REC_CONTROL)
			control_record(r, &rec);
		else
			bad_record(r, &rec, "%s", rec.err);
	}
}

static int run(void)
{
	S.w = rec_writer_open(1, rec_want_framed(o.framed));
	if (!rec_writer_framed(S.w))
		S.out = rec_ndjson_out(S.w);
	if (o.late_path) {
		/* appended to, as dedup, join and parse do: a pipeline resumed
		 * after a crash must not wipe the late records of the run before
		 * (a restore cuts off only those after its barrier: snap_open) */
		int fd = open(o.late_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (fd < 0)
			die_errno(EXIT_TROUBLE, "cannot open late-record file '%s'", o.late_path);
		S.late = rec_writer_open(fd, false);
	}
	if (o.state_dir) {
		char err[512];
		if (state_dir_init(o.state_dir, err, sizeof err))
			die(EXIT_TROUBLE, "%s", err);
	}
	/* offsets from the entry, which the stride keeps on 16 bytes */
	size_t at = ST_OFF;
	S.plain = true;
	for (size_t i = 0; i < o.naggs; i++) {
		size_t align = agg_align(o.aggs[i].fn);
		at = (at + align - 1) & ~(align - 1);
		o.aggs[i].off = at - ST_OFF;
		at += agg_size(o.aggs[i].fn);
		/* counts, sums and stddev live in their slots; the rest may not */
		enum afn fn = o.aggs[i].fn;
		bool plain = fn == A_COUNT_STAR || fn == A_COUNT || fn == A_SUM || fn == A_AVG;
		S.plain &= plain;
		S.owning |= !plain && fn != A_STDDEV;
		o.aggs[i].number = needs_number(fn);
	}
	S.stride = (at + 15) & ~(size_t)15;
	S.tmp_ent = xmalloc(S.stride);
	S.args = xmalloc(o.naggs * sizeof *S.args);
	/* fast_record's options; it reads top-level fields only */
	S.fast_ok = S.plain && !o.proc_time && o.kind != W_SESSION && o.nkeys == 1 && o.emit != EMIT_UPDATE &&
		    o.time.n == 1 && o.keys[0].n == 1;
	for (size_t i = 0; i < o.naggs; i++)
		S.fast_ok &= o.aggs[i].arg.n <= 1;
	S.fast_pos = xcalloc(o.naggs ? o.naggs : 1, sizeof *S.fast_pos);
	S.fast_num = xcalloc(o.naggs ? o.naggs : 1, sizeof *S.fast_num);
	S.fast_args = xcalloc(o.naggs ? o.naggs : 1, sizeof *S.fast_args);
	if (o.kind != W_SESSION) {
		S.pane = o.slide;
		for (int64_t b = o.size % S.pane; b;) {
			int64_t t = S.pane % b;
			S.pane = b;
			b = t;
		}
	}
	panes_reset();
	buf_grow(&S.scratch, 256); /* never NULL, even for an empty key */
	tab_init(&S.ktab, 1024);
	tab_init(&S.wtab, 64);
	S.cache_win = NIL;
	S.dhead = S.dtail = NIL;
	wm_init(&S.wm, o.delay);
	S.upstream = S.announced = WM_NONE;

	if (!o.nfiles) {
		struct rec_reader *r = rec_reader_open(0, "-");
		read_input(r);
		rec_reader_close(r);
	}
	for (size_t i = 0; i < o.nfiles; i++) {
		bool std = !strcmp(o.files[i], "-");
		int fd = std ? 0 : open(o.files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die_errno(EXIT_TROUBLE, "cannot open '%s'", o.files[i]);
		struct rec_reader *r = rec_reader_open(fd, o.files[i]);
		read_input(r);
		rec_reader_close(r);
		S.in_src = NULL;
		if (!std)
			close(fd);
	}
	/* End of input ends the last batch; then the watermark becomes +inf
	 * (Flink's behaviour) unless asked to stop where Spark would. */
	end_batch(true);
	if (!o.no_flush)
		set_watermark(WM_END);
	announce_watermark(true);
	rec_writer_close(S.w);
	if (S.late)
		rec_writer_close(S.late);
	if (S.nlate)
		warnx("%" PRIu64 " late record%s dropped%s", S.nlate, S.nlate == 1 ? "" : "s",
		      o.late_path ? "" : " (keep them with --late FILE)");
	verbose(1, "%" PRIu64 " records, %" PRIu64 " late, %" PRIu64 " bad, %" PRIu64 " rows out, peak %" PRIu64 " rows held",
		S.nrecords, S.nlate, S.nbad, S.nrows, S.peak_rows);
	return S.nbad ? EXIT_NEGATIVE : EXIT_OK;
}

/* ---- options ---- */

static void path_init(struct path *p, const char *text)
{
	p->text = xstrdup(text);
	p->n = 1;
	for (const char *c = text; *c; c++)
		p->n += *c == '.';
	p->part = xcalloc(p->n, sizeof *p->part);
	p->len = xcalloc(p->n, sizeof *p->len);
	const char *s = text;
	for (size_t i = 0; i < p->n; i++) {
		const char *dot = strchr(s, '.');
		size_t len = dot ? (size_t)(dot - s) : strlen(s);
		if (!len)
			usage_error(help, "empty component in field path '%s'", text);
		p->part[i] = xstrndup(s, len);
		p->len[i] = len;
		s += len + 1;
	}
	rec_field_init(&p->top, p->part[0], p->len[0]);
}

static int64_t signed_duration(const char *s, const char *what)
{
	if (*s == '-')
		return -parse_duration(s + 1, what);
	return parse_duration(*s == '+' ? s + 1 : s, what);
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return s;
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* "count(*) AS n, sum(amount) AS total, approx_percentile(lat, 0.99) AS p99" */
static void parse_aggs(const char *spec)
{
	const char *s = skip_ws(spec);
	while (*s) {
		const char *fs = s;
		while (word_char(*s))
			s++;
		size_t flen = (size_t)(s - fs);
		s = skip_ws(s);
		if (!flen || *s != '(')
			usage_error(help, "invalid aggregate near '%s' (want e.g. 'sum(amount) AS total')", fs);
		int fn = -1;
		for (int i = A_COUNT; i <= A_STDDEV; i++)
			if (strlen(afn_names[i]) == flen && !strncasecmp(fs, afn_names[i], flen))
				fn = i;
		if (fn < 0)
			usage_error(help, "unknown aggregate function '%.*s'", (int)flen, fs);
		s = skip_ws(s + 1);
		const char *as = s;
		while (*s && *s != ')' && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		char *arg = xstrndup(as, (size_t)(s - as));
		struct agg a = {.fn = (enum afn)fn};
		s = skip_ws(s);
		if (fn == A_PERCENTILE) {
			if (*s != ',')
				usage_error(help, "approx_percentile needs a fraction: approx_percentile(%s, 0.5)", arg);
			s = skip_ws(s + 1);
			char *end;
			errno = 0;
			a.p = strtod(s, &end);
			if (end == s || errno || !(a.p >= 0 && a.p <= 1))
				usage_error(help, "invalid percentile near '%s' (want a fraction from 0 to 1)", s);
			s = skip_ws(end);
		}
		if (*s != ')')
			usage_error(help, "invalid aggregate near '%s' (want e.g. 'sum(amount) AS total')", fs);
		s = skip_ws(s + 1);
		if (!strcmp(arg, "*")) {
			if (fn != A_COUNT)
				usage_error(help, "only count takes '*'");
			a.fn = A_COUNT_STAR;
		} else if (!*arg) {
			usage_error(help, "%s() needs a field", afn_names[fn]);
		} else {
			path_init(&a.arg, arg);
		}
		if (!strncasecmp(s, "as", 2) && !word_char(s[2]) && s[2]) {
			s = skip_ws(s + 2);
			const char *ns = s;
			while (word_char(*s))
				s++;
			if (s == ns)
				usage_error(help, "missing name after AS near '%s'", ns);
			a.name = xstrndup(ns, (size_t)(s - ns));
			s = skip_ws(s);
		} else {
			struct buf b = BUF_INIT;
			if (a.fn == A_PERCENTILE)
				buf_printf(&b, "%s(%s, %g)", afn_names[fn], arg, a.p);
			else
				buf_printf(&b, "%s(%s)", afn_names[fn], arg);
			a.name = buf_cstr(&b);
		}
		free(arg);
		o.aggs = xrealloc(o.aggs, (o.naggs + 1) * sizeof *o.aggs);
		o.aggs[o.naggs++] = a;
		if (*s == ',')
			s = skip_ws(s + 1);
		else if (*s)
			usage_error(help, "invalid aggregate list near '%s' (separate aggregates with ',')", s);
	}
	if (!o.naggs)
		usage_error(help, "--agg needs at least one aggregate");
}

static void parse_keys(const char *spec)
{
	char *copy = xstrdup(spec), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		t = (char *)skip_ws(t);
		size_t n = strlen(t);
		while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
			t[--n] = 0;
		if (!n)
			usage_error(help, "empty key in --by '%s'", spec);
		o.keys = xrealloc(o.keys, (o.nkeys + 1) * sizeof *o.keys);
		path_init(&o.keys[o.nkeys++], t);
	}
	free(copy);
	if (!o.nkeys)
		usage_error(help, "--by needs at least one key");
}

static void set_window(enum wkind kind)
{
	if (o.have_window)
		usage_error(help, "give one of --tumble, --slide and --session");
	o.have_window = true;
	o.kind = kind;
}

static void parse_opts(int argc, char **argv)
{
	enum {
		OPT_TUMBLE = OPT_TOOL_FIRST, OPT_SLIDE, OPT_SESSION, OPT_OFFSET, OPT_UNIT, OPT_EMIT, OPT_ADVANCE,
		OPT_LATE, OPT_NO_FLUSH, OPT_MAX_STATE, OPT_STATE, OPT_FRAMED,
	};
	static const struct option longs[] = {
		{"agg", required_argument, 0, 'a'},
		{"by", required_argument, 0, 'b'},
		{"delay", required_argument, 0, 'd'},
		{"time", required_argument, 0, 't'},
		{"verbose", no_argument, 0, 'v'},
		{"tumble", required_argument, 0, OPT_TUMBLE},
		{"slide", required_argument, 0, OPT_SLIDE},
		{"session", required_argument, 0, OPT_SESSION},
		{"offset", required_argument, 0, OPT_OFFSET},
		{"time-unit", required_argument, 0, OPT_UNIT},
		{"emit", required_argument, 0, OPT_EMIT},
		{"advance", required_argument, 0, OPT_ADVANCE},
		{"late", required_argument, 0, OPT_LATE},
		{"no-flush", no_argument, 0, OPT_NO_FLUSH},
		{"max-state", required_argument, 0, OPT_MAX_STATE},
		{"state", required_argument, 0, OPT_STATE},
		{"framed", no_argument, 0, OPT_FRAMED},
		{"help", no_argument, 0, OPT_HELP},
		{"version", no_argument, 0, OPT_VERSION},
		{0, 0, 0, 0},
	};
	const char *aggs = NULL, *time = NULL, *offset = NULL;
	o.unit = TU_MILLIS;
	int c;
	while ((c = getopt_long(argc, argv, "a:b:d:t:v", longs, NULL)) != -1) {
		switch (c) {
		case 'a':
			aggs = optarg;
			break;
		case 'b':
			parse_keys(optarg);
			break;
		case 'd':
			o.delay = parse_duration(optarg, "delay");
			break;
		case 't':
			time = optarg;
			break;
		case 'v':
			diag_verbose++;
			break;
		case OPT_TUMBLE:
			set_window(W_TUMBLE);
			o.size = o.slide = parse_duration(optarg, "window size");
			break;
		case OPT_SLIDE: {
			set_window(W_SLIDE);
			const char *comma = strchr(optarg, ',');
			if (!comma)
				usage_error(help, "--slide wants SIZE,EVERY (e.g. 10m,1m), not '%s'", optarg);
			char *sz = xstrndup(optarg, (size_t)(comma - optarg));
			o.size = parse_duration(sz, "window size");
			o.slide = parse_duration(comma + 1, "slide");
			free(sz);
			break;
		}
		case OPT_SESSION:
			set_window(W_SESSION);
			o.gap = parse_duration(optarg, "session gap");
			break;
		case OPT_OFFSET:
			offset = optarg;
			break;
		case OPT_UNIT:
			if (!parse_time_unit(optarg, &o.unit))
				usage_error(help, "invalid --time-unit '%s' (want s, ms or us)", optarg);
			break;
		case OPT_EMIT:
			if (!strcmp(optarg, "append"))
				o.emit = EMIT_APPEND;
			else if (!strcmp(optarg, "update"))
				o.emit = EMIT_UPDATE;
			else if (!strcmp(optarg, "complete"))
				o.emit = EMIT_COMPLETE;
			else
				usage_error(help, "invalid --emit '%s' (want append, update or complete)", optarg);
			break;
		case OPT_ADVANCE:
			if (!parse_advance(optarg, &o.advance_barrier))
				usage_error(help, "invalid --advance: '%s' (want record or barrier)", optarg);
			break;
		case OPT_LATE:
			o.late_path = optarg;
			break;
		case OPT_NO_FLUSH:
			o.no_flush = true;
			break;
		case OPT_MAX_STATE: {
			size_t n = strlen(optarg);
			if (n && optarg[n - 1] >= '0' && optarg[n - 1] <= '9')
				o.max_rows = (uint64_t)parse_int(optarg, "--max-state rows", 1, INT64_MAX);
			else
				o.max_bytes = (uint64_t)parse_size(optarg, "--max-state size");
			break;
		}
		case OPT_STATE:
			o.state_dir = optarg;
			break;
		case OPT_FRAMED:
			o.framed = true;
			break;
		default:
			opt_common(c, help);
		}
	}
	if (!o.have_window)
		usage_error(help, "give a window: --tumble, --slide or --session");
	if (!time)
		usage_error(help, "give the event time field with --time FIELD (or --time now)");
	if (!aggs)
		usage_error(help, "give the aggregates with --agg (e.g. 'count(*) AS n')");
	if (!strcmp(time, "now"))
		o.proc_time = true;
	else
		path_init(&o.time, time);
	parse_aggs(aggs);
	if (o.kind == W_SESSION) {
		if (o.gap <= 0)
			usage_error(help, "the session gap must be positive");
		if (offset)
			usage_error(help, "--offset applies to --tumble and --slide only");
		if (o.emit == EMIT_UPDATE)
			usage_error(help, "--emit update is not supported for session windows (as in Spark): "
					  "a merge would leave rows already sent stale");
	} else {
		if (o.size <= 0 || o.slide <= 0)
			usage_error(help, "window size and slide must be positive");
		if (o.slide > o.size)
			usage_error(help, "the slide must not be longer than the window");
		if (offset) {
			o.offset = signed_duration(offset, "offset");
			if (o.offset <= -o.slide || o.offset >= o.slide)
				usage_error(help, "--offset must be shorter than the %s", o.kind == W_TUMBLE ? "window" : "slide");
		}
	}
	/* names must be unique, or the output objects would lose columns */
	size_t ncol = o.nkeys + o.naggs;
	for (size_t i = 0; i < ncol; i++) {
		const char *ni = i < o.nkeys ? o.keys[i].text : o.aggs[i - o.nkeys].name;
		if (!strcmp(ni, "window_start") || !strcmp(ni, "window_end"))
			usage_error(help, "column name '%s' is taken by the window", ni);
		for (size_t j = 0; j < i; j++) {
			const char *nj = j < o.nkeys ? o.keys[j].text : o.aggs[j - o.nkeys].name;
			if (!strcmp(ni, nj))
				usage_error(help, "duplicate output column '%s' (use AS to rename)", ni);
		}
	}
	o.files = argv + optind;
	o.nfiles = (size_t)(argc - optind);
}

int main(int argc, char **argv)
{
	diag_init("weir-window");
	parse_opts(argc, argv);
	int status = run();
	return finish_stdout(status);
}
