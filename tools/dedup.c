/* dedup.c - weir-dedup: drop records whose key was seen recently.
 *
 * At-least-once sources redeliver, producers retry and CDC replays, so a
 * pipeline needs a stage that lets the first record of a key through and
 * drops its repeats.  Remembering every key forever would grow without
 * bound, so a key is remembered for a bounded time: with --within, Spark's
 * dropDuplicatesWithinWatermark (the first record wins and its key expires
 * at its event time + D once the watermark reaches that), with --ttl for a
 * span of processing time.  --keep last is for bounded input: it holds every
 * key's latest record and writes them at the end.
 *
 * State is snapshotted on barriers and restored on restore records
 * (ARCHITECTURE §4), so a restarted pipeline drops exactly the duplicates an
 * uninterrupted one would have. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	"usage: weir-dedup [-k COLS] [-w D -t FIELD [-d D] [-a record|barrier]] [-T D]\n"
	"       [--keep first|last] [-l FILE] [-s DIR] [--max-state SIZE] [--stats]\n"
	"       [--framed] [FILE]\n"
	"\n"
	"Drop duplicate records by key, remembering keys for a bounded time.\n"
	"\n"
	"  -k, --key COLS           key columns, comma-separated paths (default: the\n"
	"                           whole record)\n"
	"  -w, --within D           remember a key until the watermark reaches its\n"
	"                           first event time + D (needs --time)\n"
	"  -t, --time FIELD         event time column (timestamp, ISO text or number)\n"
	"  -u, --time-unit s|ms|us  unit of numeric event times (default ms)\n"
	"  -d, --delay D            watermark delay (default: the --within value)\n"
	"  -a, --advance MODE       move the watermark per record (default) or only at\n"
	"                           barriers, as Spark's micro-batches do\n"
	"  -T, --ttl D              remember a key for D of processing time\n"
	"      --keep first|last    which record of a key to write; last holds all\n"
	"                           keys until end of input (default first)\n"
	"  -l, --late FILE          append late records to FILE (they are counted)\n"
	"  -s, --state DIR          snapshot state there on barriers, load on restore\n"
	"      --max-state SIZE     fail instead of holding more state than SIZE\n"
	"      --stats              print counts and state size to stderr at exit\n"
	"      --framed             write the framed binary encoding\n"
	"      --help, --version\n";

enum { OPT_KEEP = OPT_TOOL_FIRST, OPT_MAX_STATE, OPT_STATS, OPT_FRAMED };

static const struct option longopts[] = {
	{"key", required_argument, NULL, 'k'},
	{"within", required_argument, NULL, 'w'},
	{"time", required_argument, NULL, 't'},
	{"time-unit", required_argument, NULL, 'u'},
	{"delay", required_argument, NULL, 'd'},
	{"advance", required_argument, NULL, 'a'},
	{"ttl", required_argument, NULL, 'T'},
	{"keep", required_argument, NULL, OPT_KEEP},
	{"late", required_argument, NULL, 'l'},
	{"state", required_argument, NULL, 's'},
	{"max-state", required_argument, NULL, OPT_MAX_STATE},
	{"stats", no_argument, NULL, OPT_STATS},
	{"framed", no_argument, NULL, OPT_FRAMED},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{0},
};

static struct opts {
	const char *key;       /* NULL: the whole record */
	int64_t within;        /* -1: not given */
	const char *time;
	enum time_unit unit;
	int64_t delay;         /* -1: not given */
	bool advance_barrier;
	int64_t ttl;           /* -1: not given */
	bool keep_last;
	const char *late;
	const char *state_dir;
	int64_t max_state;     /* bytes; 0: no limit */
	bool stats;
	bool framed;
	const char *input;
} opt = {.within = -1, .unit = TU_MILLIS, .delay = -1, .ttl = -1};

/* A remembered key.  The key bytes follow the struct. */
struct entry {
	struct keyent ke;
	struct heapent he; /* t: when the key expires (event or processing time) */
	char form;         /* --keep last: 'J' JSON text, 'F' framed value */
	uint32_t reclen;
	char *rec;         /* --keep last: the latest record */
};

static struct {
	struct keyspec ks;
	struct keytab tab;
	struct theap heap;          /* entries that expire */
	struct entry **order;       /* --keep last: entries in first-seen order */
	size_t norder, order_cap;
	struct watermark wm;
	size_t bytes, peak_keys;    /* entries' own memory; most keys held */
	uint64_t in, out, dups, late, bad;
	struct buf key, scratch;
	struct rec_writer *out_w, *late_w;
	char fingerprint[512];      /* options a snapshot must agree with */
} st;

static size_t state_bytes(void)
{
	return st.bytes + keytab_bytes(&st.tab) + st.heap.cap * sizeof *st.heap.a +
	       st.order_cap * sizeof *st.order;
}

static void drop_entry(struct entry *e)
{
	keytab_remove(&st.tab, &e->ke);
	st.bytes -= sizeof *e + e->ke.klen + e->reclen;
	free(e->rec);
	free(e);
}

/* Forget every key whose expiry is at or before `limit`. */
static void evict_until(int64_t limit)
{
	struct heapent *h;
	while ((h = theap_top(&st.heap)) && h->t <= limit) {
		theap_remove(&st.heap, h);
		drop_entry(KEYED_OF(h, struct entry, he));
	}
}

static struct entry *add_entry(const char *key, size_t klen, uint64_t hash, int64_t expires)
{
	struct entry *e = xcalloc(1, sizeof *e + klen);
	memcpy(e + 1, key, klen);
	e->ke.key = (const char *)(e + 1);
	e->ke.klen = (uint32_t)klen;
	e->ke.hash = hash;
	keytab_insert(&st.tab, &e->ke);
	e->he.t = expires;
	if (expires != INT64_MAX)
		theap_push(&st.heap, &e->he);
	if (opt.keep_last) {
		if (st.norder == st.order_cap) {
			st.order_cap = st.order_cap ? 2 * st.order_cap : 1024;
			st.order = xrealloc(st.order, st.order_cap * sizeof *st.order);
		}
		st.order[st.norder++] = e;
	}
	st.bytes += sizeof *e + klen;
	if (st.tab.count > st.peak_keys)
		st.peak_keys = st.tab.count;
	if (opt.max_state && (int64_t)state_bytes() > opt.max_state)
		die(EXIT_TROUBLE, "state exceeds --max-state: %zu keys in %zu bytes", st.tab.count, state_bytes());
	return e;
}

static void store_record(struct entry *e, char form, const char *p, size_t n)
{
	st.bytes -= e->reclen;
	free(e->rec);
	e->rec = xmalloc(n ? n : 1);
	memcpy(e->rec, p, n);
	e->reclen = (uint32_t)n;
	e->form = form;
	st.bytes += n;
}

/* --keep last keeps the record as read: NDJSON text stays byte for byte. */
static void keep_record(struct entry *e, const struct record *rec)
{
	if (rec->raw && rec->raw[0] == '{') {
		store_record(e, 'J', rec->raw, rec->rawlen);
		return;
	}
	buf_reset(&st.scratch);
	frame_put_value(&st.scratch, &rec->v);
	store_record(e, 'F', st.scratch.p, st.scratch.len);
}

static void write_kept(const struct entry *e, struct arena *a)
{
	struct record rec = {.kind = REC_DATA};
	if (e->form == 'J') {
		rec.raw = e->rec;
		rec.rawlen = e->reclen;
		struct json_error je;
		if (json_parse(a, e->rec, e->reclen, &rec.v, &je))
			die(EXIT_TROUBLE, "corrupt kept record: %s", je.msg);
	} else {
		const unsigned char *p = (const unsigned char *)e->rec;
		if (frame_get_value(a, &p, p + e->reclen, &rec.v))
			die(EXIT_TROUBLE, "corrupt kept record");
	}
	rec_forward(st.out_w, &rec);
}

static void report_bad(const struct rec_reader *r, uint64_t pos, const char *what)
{
	if (++st.bad <= 10)
		warnx("bad record %" PRIu64 " in '%s': %s", pos, rec_reader_name(r), what);
	if (st.bad == 10)
		warnx("further bad records are counted, not shown");
}

static void on_data(const struct rec_reader *r, const struct record *rec)
{
	int64_t t = 0, expires = INT64_MAX;
	st.in++;
	if (opt.time) {
		char msg[512];
		if (event_time(value_path(&rec->v, opt.time), opt.time, opt.unit, &t, msg, sizeof msg)) {
			report_bad(r, rec->pos, msg);
			return;
		}
		if (wm_is_late(&st.wm, t)) {
			st.late++;
			if (st.late_w)
				rec_forward(st.late_w, rec);
			return;
		}
		if (opt.within >= 0)
			expires = t > INT64_MAX - opt.within ? INT64_MAX - 1 : t + opt.within;
	} else if (opt.ttl >= 0) {
		int64_t now = now_micros();
		evict_until(now);
		expires = opt.ttl > INT64_MAX - 1 - now ? INT64_MAX - 1 : now + opt.ttl;
	}

	buf_reset(&st.key);
	if (opt.key)
		keyspec_encode(&st.ks, &rec->v, &st.key);
	else
		key_encode_value(&st.key, &rec->v);
	uint64_t h = key_hash(st.key.p, st.key.len);
	struct keyent *ke = keytab_find(&st.tab, st.key.p, st.key.len, h);
	if (ke) {
		st.dups++;
		if (opt.keep_last)
			keep_record(KEYED_OF(ke, struct entry, ke), rec);
	} else {
		struct entry *e = add_entry(st.key.p, st.key.len, h, expires);
		if (opt.keep_last) {
			keep_record(e, rec);
		} else {
			rec_forward(st.out_w, rec);
			st.out++;
		}
	}

	if (opt.time) {
		if (opt.advance_barrier) {
			if (st.wm.max_seen == WM_NONE || t > st.wm.max_seen)
				st.wm.max_seen = t;
		} else if (wm_observe(&st.wm, t)) {
			evict_until(st.wm.wm);
		}
	}
}

/* ---- snapshots ---- */

#define SNAP_MAGIC "WDD2"

static void snapshot(int64_t id)
{
	struct buf b = BUF_INIT;
	char err[512];
	if (snap_put_header(&b, SNAP_MAGIC, st.fingerprint, st.late_w, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	buf_uvarint(&b, zigzag64(st.wm.max_seen));
	buf_uvarint(&b, zigzag64(st.wm.wm));
	buf_uvarint(&b, st.tab.count);
	for (size_t i = 0, n = opt.keep_last ? st.norder : st.tab.cap; i < n; i++) {
		struct entry *e;
		if (opt.keep_last) {
			e = st.order[i];
		} else {
			if (!st.tab.slots[i].e)
				continue;
			e = KEYED_OF(st.tab.slots[i].e, struct entry, ke);
		}
		buf_uvarint(&b, e->ke.klen);
		buf_put(&b, e->ke.key, e->ke.klen);
		buf_uvarint(&b, zigzag64(e->he.t));
		if (opt.keep_last) {
			buf_putc(&b, e->form);
			buf_uvarint(&b, e->reclen);
			buf_put(&b, e->rec, e->reclen);
		}
	}
	if (state_save(opt.state_dir, id, &b, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	buf_free(&b);
}

static void clear_state(void)
{
	for (size_t i = 0; i < st.tab.cap; i++)
		if (st.tab.slots[i].e) {
			struct entry *e = KEYED_OF(st.tab.slots[i].e, struct entry, ke);
			free(e->rec);
			free(e);
		}
	keytab_free(&st.tab);
	theap_free(&st.heap);
	free(st.order);
	st.order = NULL;
	st.norder = st.order_cap = 0;
	st.bytes = 0;
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
		clear_state();
		wm_init(&st.wm, opt.delay);
		if (state_restore_zero(opt.state_dir, st.late_w, err, sizeof err))
			die(EXIT_TROUBLE, "%s", err);
		return;
	}
	struct buf b = BUF_INIT;
	struct snap_reader sr;
	if (snap_open(opt.state_dir, id, SNAP_MAGIC, st.fingerprint, st.late_w, &b, &sr, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	clear_state();
	st.wm.max_seen = snap_int(&sr);
	st.wm.wm = snap_int(&sr);
	uint64_t count = snap_uvarint(&sr);
	for (uint64_t i = 0; i < count && !sr.bad; i++) {
		size_t klen = snap_uvarint(&sr);
		const char *key = snap_bytes(&sr, klen);
		int64_t expires = snap_int(&sr);
		if (sr.bad)
			break;
		uint64_t h = key_hash(key, klen);
		if (keytab_find(&st.tab, key, klen, h))
			corrupt(id);
		struct entry *e = add_entry(key, klen, h, expires);
		if (opt.keep_last) {
			const char *form = snap_bytes(&sr, 1);
			size_t n = snap_uvarint(&sr);
			const char *rec = snap_bytes(&sr, n);
			if (sr.bad || (*form != 'J' && *form != 'F'))
				corrupt(id);
			store_record(e, *form, rec, n);
		}
	}
	if (sr.bad || sr.p != sr.end)
		corrupt(id);
	buf_free(&b);
	state_prune(opt.state_dir, id);
}

static void on_control(const struct rec_reader *r, const struct record *rec)
{
	int64_t id;
	bool barrier = !strcmp(rec->control, "barrier"), restart = !strcmp(rec->control, "restore");
	if ((barrier || restart) && !rec_control_id(&rec->v, &id))
		die(EXIT_TROUBLE, "%s record %" PRIu64 " in '%s' has no integer id", rec->control, rec->pos,
		    rec_reader_name(r));
	if (barrier) {
		if (opt.time && opt.advance_barrier && wm_advance_to(&st.wm, wm_candidate(&st.wm)))
			evict_until(st.wm.wm);
		/* Output before the barrier must be downstream before the
		 * snapshot claims it was produced. */
		rec_flush(st.out_w);
		if (st.late_w)
			rec_flush(st.late_w);
		int64_t committed;
		if (opt.state_dir) {
			snapshot(id);
			if (rec_control_committed(&rec->v, &committed))
				state_prune_below(opt.state_dir, committed);
		}
	} else if (restart) {
		if (opt.state_dir)
			restore(id);
		else if (id > 0)
			warnx("restore %" PRId64 " without --state: continuing with empty state", id);
	}
	rec_forward(st.out_w, rec);
}

static int run(void)
{
	int fd = 0;
	if (opt.input && (fd = open(opt.input, O_RDONLY)) < 0)
		die_errno(EXIT_TROUBLE, "cannot open '%s'", opt.input);
	struct rec_reader *r = rec_reader_open(fd, opt.input ? opt.input : "<stdin>");
	st.out_w = rec_writer_open(1, rec_want_framed(opt.framed));
	rec_reader_flush_before_block(r, st.out_w);
	if (opt.late) {
		int lfd = open(opt.late, O_WRONLY | O_CREAT | O_APPEND, 0666);
		if (lfd < 0)
			die_errno(EXIT_TROUBLE, "cannot open '%s'", opt.late);
		st.late_w = rec_writer_open(lfd, false);
	}
	if (opt.state_dir) {
		char err[512];
		if (state_dir_init(opt.state_dir, err, sizeof err))
			die(EXIT_TROUBLE, "%s", err);
	}
	wm_init(&st.wm, opt.delay);

	struct record rec;
	uint64_t schema_seen = 0;
	for (;;) {
		enum rec_kind k = rec_read(r, &rec);
		if (k == REC_EOF)
			break;
		if (rec_reader_schema_version(r) != schema_seen) {
			schema_seen = rec_reader_schema_version(r);
			rec_writer_schema(st.out_w, rec_reader_schema(r));
		}
		if (k == REC_BAD)
			report_bad(r, rec.pos, rec.err);
		else if (k == REC_CONTROL)
			on_control(r, &rec);
		else
			on_data(r, &rec);
	}
	if (opt.keep_last) {
		struct arena a = {0};
		for (size_t i = 0; i < st.norder; i++) {
			write_kept(st.order[i], &a);
			arena_reset(&a);
			st.out++;
		}
		arena_free(&a);
	}
	rec_reader_close(r);
	if (opt.input)
		close(fd);
	if (st.late_w)
		rec_writer_close(st.late_w);
	if (opt.stats)
		warnx("stats: records=%" PRIu64 " passed=%" PRIu64 " duplicates=%" PRIu64 " late=%" PRIu64
		      " bad=%" PRIu64 " state_keys=%zu state_bytes=%zu peak_keys=%zu",
		      st.in, st.out, st.dups, st.late, st.bad, st.tab.count, state_bytes(), st.peak_keys);
	rec_flush(st.out_w);
	return st.bad ? EXIT_NEGATIVE : EXIT_OK;
}

int main(int argc, char **argv)
{
	diag_init("weir-dedup");
	int c;
	while ((c = getopt_long(argc, argv, "a:d:k:l:s:t:T:u:w:", longopts, NULL)) != -1) {
		opt_common(c, help);
		switch (c) {
		case 'a':
			if (!parse_advance(optarg, &opt.advance_barrier))
				usage_error(help, "invalid --advance: '%s' (want record or barrier)", optarg);
			break;
		case 'd': opt.delay = parse_duration(optarg, "--delay"); break;
		case 'k': opt.key = optarg; break;
		case 'l': opt.late = optarg; break;
		case 's': opt.state_dir = optarg; break;
		case 't': opt.time = optarg; break;
		case 'T': opt.ttl = parse_duration(optarg, "--ttl"); break;
		case 'u':
			if (!parse_time_unit(optarg, &opt.unit))
				usage_error(help, "invalid --time-unit: '%s' (want s, ms or us)", optarg);
			break;
		case 'w': opt.within = parse_duration(optarg, "--within"); break;
		case OPT_KEEP:
			if (strcmp(optarg, "first") && strcmp(optarg, "last"))
				usage_error(help, "invalid --keep: '%s' (want first or last)", optarg);
			opt.keep_last = !strcmp(optarg, "last");
			break;
		case OPT_MAX_STATE: opt.max_state = parse_size(optarg, "--max-state"); break;
		case OPT_STATS: opt.stats = true; break;
		case OPT_FRAMED: opt.framed = true; break;
		}
	}
	if (argc - optind > 1)
		usage_error(help, "too many arguments");
	opt.input = optind < argc && strcmp(argv[optind], "-") ? argv[optind] : NULL;
	if (!opt.time && (opt.within >= 0 || opt.delay >= 0 || opt.advance_barrier))
		usage_error(help, "--within, --delay and --advance need --time");
	if (opt.time && opt.ttl >= 0)
		usage_error(help, "--ttl is for streams without event time; use --within with --time");
	if (opt.keep_last && (opt.time || opt.ttl >= 0))
		usage_error(help, "--keep last holds keys until end of input; it takes no --time or --ttl");
	if (opt.delay < 0)
		opt.delay = opt.within >= 0 ? opt.within : 0;
	if (opt.key) {
		char err[256];
		if (!keyspec_parse(&st.ks, opt.key, err, sizeof err))
			usage_error(help, "invalid --key: %s", err);
	}
	snprintf(st.fingerprint, sizeof st.fingerprint, "key=%s;within=%" PRId64 ";ttl=%" PRId64 ";keep=%s",
		 opt.key ? opt.key : "*", opt.within, opt.ttl, opt.keep_last ? "last" : "first");
	int status = run();
	rec_writer_close(st.out_w);
	return finish_stdout(status);
}
