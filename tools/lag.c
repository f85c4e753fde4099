/* lag.c - weir-lag: is the pipeline keeping up?
 *
 * Answers the first on-call question for Kafka consumer groups and for the
 * Delta tables weir writes, in the forms the ecosystem already reads: the
 * kafka-consumer-groups --describe table, kafka-lag-exporter's metrics
 * (offset lag, and lag in seconds interpolated from a history of log-end
 * offsets), and Burrow's status rules over a sliding window of samples
 * (notes/kafka.md §3).
 *
 * Both Burrow and the exporter are daemons that remember; weir-lag is meant
 * for cron, so the memory lives in a small state file (--state) that every
 * run reads, extends with one sample per partition, and replaces atomically.
 * --watch keeps the same memory in the process.
 *
 * Only requests every broker (and librdkafka's mock) serves are needed:
 * Metadata, OffsetFetch with an explicit partition list (the mock answers
 * "all partitions" with nothing) and ListOffsets for -1/-2.  Group listing
 * and member descriptions use the admin API only after ListGroups proved
 * the broker has it: DescribeConsumerGroups against the mock leaves the
 * handle unable to shut down.  A watchdog bounds every run anyway. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "delta.h"
#include "diag.h"
#include "json.h"
#include "kafka.h"
#include "kconf.h"
#include "keyed.h"
#include "opt.h"
#include "state.h"
#include "timeutil.h"
#include "value.h"

static const char help[] =
	"usage: weir-lag -b BROKERS [-g GROUP]... [-t TOPIC]... [OPTIONS]\n"
	"       weir-lag -b BROKERS -g GROUP --commit TOPIC:PARTITION:OFFSET...\n"
	"       weir-lag --table PATH [--app-id ID [-b BROKERS]] [OPTIONS]\n"
	"\n"
	"Report consumer-group and Delta table lag, Burrow status and Prometheus metrics.\n"
	"\n"
	"  -b, --brokers LIST       bootstrap servers, host:port,...\n"
	"  -g, --group GROUP        consumer group (repeatable); without -g, every group\n"
	"                           the broker lists (weir-broker cannot list groups)\n"
	"  -t, --topic TOPIC        only these topics (repeatable); default: the topics\n"
	"                           the group has committed offsets or members on\n"
	"      --commit T:P:OFFSET  set the group's committed offset of partition P of\n"
	"                           topic T (repeatable), then exit; the group must have\n"
	"                           no active members\n"
	"      --table PATH         a Delta table: its freshness (age of the last commit)\n"
	"      --app-id ID          with --table: lag of the source offsets the writer\n"
	"                           with this app id committed (weir-lake-write --app-id):\n"
	"                           source topics need -b, source tables lag in versions\n"
	"      --max-age DURATION   with --table: exit 1 when the last commit is older\n"
	"  -s, --state FILE         keep samples between runs in FILE: lag in seconds\n"
	"                           and status need a history\n"
	"      --window N           samples in Burrow's evaluation window (default 10)\n"
	"      --history N          end-offset points for lag in seconds (default 60)\n"
	"      --allowed-lag N      lag that still counts as caught up (default 0)\n"
	"      --fail-on STATUS     exit 1 when a group's status is STATUS or worse:\n"
	"                           WARN or ERR (needs --state or --watch)\n"
	"      --json               one JSON object per partition and per group\n"
	"      --prom               Prometheus text format, kafka-lag-exporter names\n"
	"      --cluster NAME       cluster_name label of --prom (default \"default\")\n"
	"  -o, --output FILE        replace FILE atomically with each report\n"
	"  -w, --watch DURATION     report again every DURATION, with trend sparklines\n"
	"      --count N            with --watch: stop after N reports\n"
	"      --no-members         do not ask the broker for group members\n"
	"      --now MS             the sample's time in ms since the epoch (replays, tests)\n"
	"  -m, --timeout DURATION   broker request timeout (default 10s)\n"
	"  -X, --property K=V       Kafka client property (repeatable; -X dump lists them)\n"
	"  -F, --properties FILE    Kafka client properties file\n"
	"  -v, --verbose            say more on stderr\n"
	"      --help               show this help\n"
	"      --version            show the version\n";

enum {
	OPT_COMMIT = OPT_TOOL_FIRST,
	OPT_TABLE,
	OPT_APP_ID,
	OPT_MAX_AGE,
	OPT_WINDOW,
	OPT_HISTORY,
	OPT_ALLOWED_LAG,
	OPT_FAIL_ON,
	OPT_JSON,
	OPT_PROM,
	OPT_CLUSTER,
	OPT_COUNT,
	OPT_NO_MEMBERS,
	OPT_NOW,
};

static const struct option longopts[] = {
	{"brokers", required_argument, NULL, 'b'},
	{"group", required_argument, NULL, 'g'},
	{"topic", required_argument, NULL, 't'},
	{"commit", required_argument, NULL, OPT_COMMIT},
	{"table", required_argument, NULL, OPT_TABLE},
	{"app-id", required_argument, NULL, OPT_APP_ID},
	{"max-age", required_argument, NULL, OPT_MAX_AGE},
	{"state", required_argument, NULL, 's'},
	{"window", required_argument, NULL, OPT_WINDOW},
	{"history", required_argument, NULL, OPT_HISTORY},
	{"allowed-lag", required_argument, NULL, OPT_ALLOWED_LAG},
	{"fail-on", required_argument, NULL, OPT_FAIL_ON},
	{"json", no_argument, NULL, OPT_JSON},
	{"prom", no_argument, NULL, OPT_PROM},
	{"cluster", required_argument, NULL, OPT_CLUSTER},
	{"output", required_argument, NULL, 'o'},
	{"watch", required_argument, NULL, 'w'},
	{"count", required_argument, NULL, OPT_COUNT},
	{"no-members", no_argument, NULL, OPT_NO_MEMBERS},
	{"now", required_argument, NULL, OPT_NOW},
	{"timeout", required_argument, NULL, 'm'},
	{"property", required_argument, NULL, 'X'},
	{"properties", required_argument, NULL, 'F'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* Burrow's statuses, in its order (core/protocol/evaluator.go); the index is
 * the value of the burrow_* status metrics.  ST_NONE stands for NOTFOUND: a
 * partition without a committed offset has nothing to evaluate. */
enum status { ST_NONE, ST_OK, ST_WARN, ST_ERR, ST_STOP, ST_STALL, ST_REWIND };
static const char *const status_names[] = {"NOTFOUND", "OK", "WARN", "ERR", "STOP", "STALL", "REWIND"};

enum format { FMT_TABLE, FMT_JSON, FMT_PROM };

struct commit_arg {
	char *topic;
	int32_t partition;
	int64_t offset;
};

struct options {
	const char *brokers;
	char **groups;
	size_t ngroups;
	char **topics;
	size_t ntopics;
	struct commit_arg *commits;
	size_t ncommits;
	const char *table, *app_id;
	int64_t max_age_ms; /* -1: none */
	const char *state_path;
	size_t window, history;
	int64_t allowed_lag;
	enum status fail_on; /* ST_NONE: never */
	enum format format;
	const char *cluster;
	const char *output;
	int64_t watch_ms; /* 0: one report */
	int64_t count;    /* 0: unbounded */
	bool members;
	int64_t now_ms; /* -1: the wall clock */
	int timeout_ms;
	bool dump_conf;
	struct kconf kc;
};

/* ---- the state: sample histories per partition ---- */

/* A point of kafka-lag-exporter's lookup table: a log-end offset and when
 * it was seen. */
struct point {
	int64_t offset, ms;
};

/* An entry of Burrow's window: the committed offset, its commit time, and
 * the log-end offset of the same sample (Burrow keeps those in a ring of
 * broker offsets beside the commits; one sample fills both). */
struct entry {
	int64_t offset, ts, end;
};

/* The history of one partition: end-offset points when group is NULL,
 * otherwise the group's window on it. */
struct hist {
	struct keyent ke; /* key: group (or nothing), topic, partition */
	char *group, *topic;
	int32_t partition;
	int64_t at; /* group windows: time of the last sample recorded */
	struct point *pts;
	struct entry *win;
	size_t n;
};

struct state {
	struct keytab tab;
	struct hist **h; /* in order of creation, which is the file's order */
	size_t n, cap;
	struct buf key;
};

/* The history of (group, topic, partition), created empty when absent. */
static struct hist *state_get(struct state *s, const char *group, const char *topic, int32_t partition)
{
	buf_reset(&s->key);
	buf_putc(&s->key, group ? 'g' : 't');
	if (group)
		buf_put(&s->key, group, strlen(group) + 1);
	buf_put(&s->key, topic, strlen(topic) + 1);
	buf_put(&s->key, &partition, sizeof partition);
	uint64_t hash = key_hash(s->key.p, s->key.len);
	struct keyent *e = keytab_find(&s->tab, s->key.p, s->key.len, hash);
	if (e)
		return KEYED_OF(e, struct hist, ke);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->h = xrealloc(s->h, s->cap * sizeof *s->h);
	}
	struct hist *h = xmalloc(sizeof *h + s->key.len);
	*h = (struct hist){.group = group ? xstrdup(group) : NULL, .topic = xstrdup(topic), .partition = partition,
			   .at = -1};
	memcpy(h + 1, s->key.p, s->key.len);
	h->ke = (struct keyent){hash, (const char *)(h + 1), (uint32_t)s->key.len};
	keytab_insert(&s->tab, &h->ke);
	s->h[s->n++] = h;
	return h;
}

static void state_free(struct state *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->h[i]->group);
		free(s->h[i]->topic);
		free(s->h[i]->pts);
		free(s->h[i]->win);
		free(s->h[i]);
	}
	free(s->h);
	keytab_free(&s->tab);
	buf_free(&s->key);
	memset(s, 0, sizeof *s);
}

/* kafka-lag-exporter's LookupTable.addPoint: points arrive in time order
 * with offsets that never go down, a flat run keeps only its first and last
 * point, and the table slides over the newest `limit` points.  Where the
 * exporter drops a point whose offset went down, this starts the table
 * over: a state file outlives the topic it describes (deleted and created
 * again, or the mock broker restarted), and the old points would poison
 * every later estimate. */
static void points_add(struct hist *h, size_t limit, int64_t offset, int64_t ms)
{
	if (h->n && ms <= h->pts[h->n - 1].ms)
		return;
	if (h->n && offset < h->pts[h->n - 1].offset)
		h->n = 0;
	if (h->n >= 2 && h->pts[h->n - 1].offset == offset && h->pts[h->n - 2].offset == offset) {
		h->pts[h->n - 1].ms = ms;
		return;
	}
	if (h->n == limit) {
		memmove(h->pts, h->pts + 1, (h->n - 1) * sizeof *h->pts);
		h->n--;
	}
	if (!h->pts)
		h->pts = xmalloc(limit * sizeof *h->pts);
	h->pts[h->n++] = (struct point){offset, ms};
}

/* kafka-lag-exporter's LookupTable.lookup and its use: when was the record
 * at `committed` produced, by linear interpolation between the newest pair
 * of points around it, or extrapolation along the first and last points;
 * the lag is the time since then.  NaN with too few points.  A table that
 * is one flat line gives ±Inf or NaN, as the exporter's arithmetic does. */
static double lag_seconds(const struct point *p, size_t n, int64_t committed, int64_t now)
{
	if (n && committed == p[n - 1].offset)
		return 0;
	if (n < 2)
		return NAN;
	const struct point *l = &p[0], *r = &p[n - 1];
	for (size_t i = n - 1; i > 0; i--)
		if (p[i - 1].offset <= committed && committed <= p[i].offset) {
			l = &p[i - 1];
			r = &p[i];
			break;
		}
	double dx = (double)(r->ms - l->ms), dy = (double)(r->offset - l->offset);
	double produced = (double)r->ms - (double)(r->offset - committed) * dx / dy;
	return ((double)now - produced) / 1000;
}

static int64_t entry_lag(const struct entry *e)
{
	return e->end > e->offset ? e->end - e->offset : 0;
}

/* Burrow's evaluator (core/internal/evaluator/caching.go at HEAD, rules in
 * notes/kafka.md §3) over a window, oldest entry first; the last entry is
 * the current sample.  Pure, so tests can drive every status from a
 * scripted state file.
 *
 * One rule is weir's: a window of fewer than two entries is OK.  Burrow's
 * entries are commits, so a single old commit is evidence of a stopped
 * consumer; a single sample of ours was taken just now and shows neither
 * progress nor its absence. */
static enum status burrow_status(const struct entry *w, size_t n, int64_t now, int64_t allowed)
{
	if (!n)
		return ST_NONE;
	const struct entry *last = &w[n - 1];
	if (entry_lag(last) <= allowed || n < 2)
		return ST_OK;

	/* stopped: no commit for longer than the window spans, and the
	 * partition was not caught up at any time the window remembers */
	bool recently_caught_up = false;
	for (size_t i = 0; i < n; i++)
		if (w[i].end <= last->offset)
			recently_caught_up = true;
	if (now - last->ts > last->ts - w[0].ts && !recently_caught_up)
		return ST_STOP;

	/* rewound: the offset went back and never regained where it was */
	for (size_t i = 1; i < n; i++) {
		if (w[i].offset >= w[i - 1].offset)
			continue;
		bool regained = false;
		for (size_t j = i + 1; j < n; j++)
			if (w[j].offset >= w[i - 1].offset)
				regained = true;
		if (!regained)
			return ST_REWIND;
	}

	for (size_t i = 0; i < n; i++)
		if (entry_lag(&w[i]) <= allowed)
			return ST_OK;
	bool moved = false;
	for (size_t i = 1; i < n; i++)
		if (w[i].offset != w[i - 1].offset)
			moved = true;
	if (!moved)
		return ST_STALL;
	for (size_t i = 1; i < n; i++)
		if (entry_lag(&w[i]) < entry_lag(&w[i - 1]))
			return ST_OK;
	return ST_WARN;
}

/* Append a sample to a group's window.  Offset fetches report no commit
 * times, so a committed offset is dated by the first sample that saw it,
 * and an unchanged offset keeps that date: to weir-lag a consumer that
 * commits the same offset again looks like one that stopped committing,
 * unless the broker says an active member owns the partition (then the
 * sample counts as a fresh commit, as the periodic commits of a live Java
 * consumer would for Burrow).  Table mode knows real commit times. */
static void window_add(struct hist *h, size_t limit, int64_t offset, int64_t commit_ms, bool owned, int64_t end,
		       int64_t now)
{
	if (h->at >= 0 && now <= h->at)
		return; /* not newer than what is recorded: a replay or a clock step */
	int64_t ts = commit_ms;
	if (ts < 0)
		ts = h->n && h->win[h->n - 1].offset == offset && !owned ? h->win[h->n - 1].ts : now;
	if (h->n == limit) {
		memmove(h->win, h->win + 1, (h->n - 1) * sizeof *h->win);
		h->n--;
	}
	if (!h->win)
		h->win = xmalloc(limit * sizeof *h->win);
	h->win[h->n++] = (struct entry){offset, ts, end};
	h->at = now;
}

#define STATE_MAGIC "{\"weir-lag-state\":1}"

static _Noreturn void state_bad(const char *path, size_t line, const char *what)
{
	die(EXIT_TROUBLE, "bad state file '%s' line %zu: %s", path, line, what);
}

static int64_t json_int(const struct value *o, const char *key, const char *path, size_t line)
{
	const struct value *v = value_getz(o, key);
	if (!v || v->type != V_INT)
		state_bad(path, line, key);
	return v->i;
}

/* Read the state file: a header line, then one JSON object per history
 * (weir-lag(1) documents the format).  A missing or empty file is a fresh
 * start; anything else that is not a weir-lag state file is refused rather
 * than overwritten. */
static void state_load_file(struct state *s, const struct options *o)
{
	FILE *f = fopen(o->state_path, "r");
	if (!f) {
		if (errno == ENOENT)
			return;
		die_errno(EXIT_TROUBLE, "cannot read state file '%s'", o->state_path);
	}
	struct arena a = {0};
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC))
				die(EXIT_TROUBLE, "'%s' is not a weir-lag state file (refusing to overwrite it)",
				    o->state_path);
			continue;
		}
		struct value v;
		struct json_error je;
		arena_reset(&a);
		if (json_parse(&a, line, (size_t)len, &v, &je))
			state_bad(o->state_path, lineno, je.msg);
		if (v.type != V_OBJECT)
			state_bad(o->state_path, lineno, "not an object");
		const struct value *g = value_getz(&v, "group"), *t = value_getz(&v, "topic");
		if (!t || t->type != V_STRING || (g && g->type != V_STRING))
			state_bad(o->state_path, lineno, "topic or group");
		char *topic = xstrndup(t->s, t->n), *group = g ? xstrndup(g->s, g->n) : NULL;
		int64_t part = json_int(&v, "partition", o->state_path, lineno);
		if (part < 0 || part > INT32_MAX)
			state_bad(o->state_path, lineno, "partition");
		struct hist *h = state_get(s, group, topic, (int32_t)part);
		free(topic);
		free(group);
		if (g)
			h->at = json_int(&v, "at", o->state_path, lineno);
		const struct value *arr = value_getz(&v, g ? "window" : "ends");
		if (!arr || arr->type != V_ARRAY)
			state_bad(o->state_path, lineno, g ? "window" : "ends");
		size_t width = g ? 3 : 2, limit = g ? o->window : o->history;
		/* a smaller --window or --history than last time keeps the newest */
		size_t skip = arr->n > limit ? arr->n - limit : 0;
		h->n = 0;
		for (size_t i = skip; i < arr->n; i++) {
			const struct value *e = &arr->a[i];
			if (e->type != V_ARRAY || e->n != width)
				state_bad(o->state_path, lineno, "sample");
			for (size_t k = 0; k < width; k++)
				if (e->a[k].type != V_INT)
					state_bad(o->state_path, lineno, "sample");
			if (g) {
				if (!h->win)
					h->win = xmalloc(limit * sizeof *h->win);
				h->win[h->n++] = (struct entry){e->a[0].i, e->a[1].i, e->a[2].i};
			} else {
				if (!h->pts)
					h->pts = xmalloc(limit * sizeof *h->pts);
				h->pts[h->n++] = (struct point){e->a[0].i, e->a[1].i};
			}
		}
	}
	if (ferror(f))
		die_errno(EXIT_TROUBLE, "cannot read state file '%s'", o->state_path);
	free(line);
	fclose(f);
	arena_free(&a);
}

static void state_save_file(const struct state *s, const char *path)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, STATE_MAGIC "\n");
	for (size_t i = 0; i < s->n; i++) {
		const struct hist *h = s->h[i];
		if (!h->n)
			continue;
		buf_putc(&b, '{');
		if (h->group) {
			buf_puts(&b, "\"group\":");
			json_write_string(&b, h->group, strlen(h->group));
			buf_putc(&b, ',');
		}
		buf_puts(&b, "\"topic\":");
		json_write_string(&b, h->topic, strlen(h->topic));
		buf_printf(&b, ",\"partition\":%" PRId32, h->partition);
		if (h->group)
			buf_printf(&b, ",\"at\":%" PRId64, h->at);
		buf_puts(&b, h->group ? ",\"window\":[" : ",\"ends\":[");
		for (size_t k = 0; k < h->n; k++) {
			if (h->group)
				buf_printf(&b, "%s[%" PRId64 ",%" PRId64 ",%" PRId64 "]", k ? "," : "", h->win[k].offset,
					   h->win[k].ts, h->win[k].end);
			else
				buf_printf(&b, "%s[%" PRId64 ",%" PRId64 "]", k ? "," : "", h->pts[k].offset, h->pts[k].ms);
		}
		buf_puts(&b, "]}\n");
	}
	char err[512];
	if (state_write_file(path, b.p, b.len, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	buf_free(&b);
}

/* ---- one report ---- */

/* What a source committed to a table names (see source_kind). */
enum source_kind { SRC_TOPIC, SRC_TABLE, SRC_OTHER };

struct row {
	const char *group; /* the group, or the table writer's app id */
	char *topic;
	int32_t partition;
	int64_t committed; /* -1: none */
	int64_t commit_ms; /* table mode: time of the commit that recorded it; else -1 */
	int64_t start, end; /* log-start and log-end offsets, -1 unknown */
	enum source_kind source; /* table mode: what topic names */
	char *consumer, *host, *client; /* the owning member; NULL prints '-' */
	int64_t lag;                    /* -1 unknown */
	double lag_s;                   /* NaN unknown */
	enum status status;
	const struct hist *win; /* the window, for trends; NULL without history */
};

struct group_report {
	char *group;
	struct row *rows;
	size_t nrows;
	enum status status; /* Burrow's group status: STOP, STALL, REWIND count as ERR */
	int64_t total_lag, max_lag;
	double max_lag_s;
	bool has_commits;
};

struct table_report {
	const char *path;
	int64_t version;
	int64_t commit_ms;
};

struct report {
	int64_t now;
	int64_t poll_ms;
	struct group_report *groups;
	size_t ngroups;
	struct table_report *table; /* table mode */
	bool history;               /* --state or --watch: seconds and status mean something */
	bool partial;               /* some partition's offsets could not be fetched */
};

static int row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int c = strcmp(a->topic, b->topic);
	return c ? c : (a->partition > b->partition) - (a->partition < b->partition);
}

static void report_free(struct report *r)
{
	for (size_t g = 0; g < r->ngroups; g++) {
		struct group_report *gr = &r->groups[g];
		for (size_t i = 0; i < gr->nrows; i++) {
			free(gr->rows[i].topic);
			free(gr->rows[i].consumer);
			free(gr->rows[i].host);
			free(gr->rows[i].client);
		}
		free(gr->rows);
		free(gr->group);
	}
	free(r->groups);
	free(r->table);
	memset(r, 0, sizeof *r);
}

/* ---- Kafka ---- */

struct client {
	const char *group; /* NULL: no group.id */
	rd_kafka_t *rk;
};

static const char *brokers_shown(const struct options *o)
{
	const char *b = o->brokers ? o->brokers : kconf_get(&o->kc, "bootstrap.servers");
	return b ? b : "";
}

/* How long a client may take to shut down: librdkafka's teardown can hang
 * after broker trouble (notes/kafka.md §2), and a pending commit to a
 * broker that went away holds it up. */
static int shutdown_bound(const struct options *o)
{
	int s = o->timeout_ms / 1000;
	return s < 1 ? 1 : s > 5 ? 5 : s;
}

static rd_kafka_t *client_new(const struct options *o, const char *group)
{
	struct kconf kc = {0};
	/* lag is measured against the high watermark, as kafka-consumer-groups
	 * does; librdkafka's consumer default (read_committed) would ask for
	 * the last stable offset instead */
	kconf_set(&kc, "isolation.level", "read_uncommitted");
	kconf_set(&kc, "enable.auto.commit", "false");
	kconf_set(&kc, "enable.auto.offset.store", "false");
	/* connection failures are retried quietly; what finally fails is
	 * reported once, by weir-lag, with the object it concerns */
	if (!diag_verbose)
		kconf_set(&kc, "log_level", "2");
	for (size_t i = 0; i < o->kc.n; i++)
		kconf_set(&kc, o->kc.keys[i], o->kc.vals[i]);
	if (group)
		kconf_set(&kc, "group.id", group);
	char err[512];
	rd_kafka_conf_t *conf = kafka_conf(&kc, o->brokers, err, sizeof err);
	kconf_free(&kc);
	if (!conf)
		die(EXIT_TROUBLE, "%s", err);
	if (o->dump_conf) {
		kafka_dump_conf(conf, stdout);
		rd_kafka_conf_destroy(conf);
		exit(finish_stdout(EXIT_OK));
	}
	return kafka_new(RD_KAFKA_CONSUMER, conf);
}

/* Group names from ListConsumerGroups.  Returns false when the broker
 * cannot list groups (the mock cannot), with the reason in why. */
static bool list_groups(rd_kafka_t *rk, const struct options *o, char ***names, size_t *n, char *why, size_t whylen)
{
	char err[512];
	rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
	rd_kafka_AdminOptions_set_request_timeout(ao, o->timeout_ms, err, sizeof err);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_ListConsumerGroups(rk, ao, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, o->timeout_ms + 1000);
	bool ok = false;
	*names = NULL;
	*n = 0;
	if (!ev) {
		snprintf(why, whylen, "no answer to ListGroups");
	} else if (rd_kafka_event_error(ev)) {
		snprintf(why, whylen, "%s", rd_kafka_event_error_string(ev));
	} else {
		const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
		size_t nerr, nvalid;
		const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
		const rd_kafka_ConsumerGroupListing_t **valid = rd_kafka_ListConsumerGroups_result_valid(res, &nvalid);
		if (nerr) {
			snprintf(why, whylen, "%s", rd_kafka_error_string(errs[0]));
		} else {
			ok = true;
			*names = xcalloc(nvalid ? nvalid : 1, sizeof **names);
			for (size_t i = 0; i < nvalid; i++)
				(*names)[(*n)++] = xstrdup(rd_kafka_ConsumerGroupListing_group_id(valid[i]));
		}
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(ao);
	return ok;
}

static int strp_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Member ownership of the group's partitions, from DescribeConsumerGroups,
 * filled into rows (sorted); assigned partitions that have no row yet are
 * appended (kafka-consumer-groups lists them with offset '-').  Only called
 * once ListGroups worked on this cluster. */
static void describe_members(rd_kafka_t *rk, const struct options *o, struct group_report *gr, size_t *cap,
			     bool table_output)
{
	char err[512];
	rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
	rd_kafka_AdminOptions_set_request_timeout(ao, o->timeout_ms, err, sizeof err);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	const char *g = gr->group;
	rd_kafka_DescribeConsumerGroups(rk, &g, 1, ao, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, o->timeout_ms + 1000);
	if (!ev || rd_kafka_event_error(ev)) {
		warnx("cannot describe consumer group '%s': %s", g, ev ? rd_kafka_event_error_string(ev) : "no answer");
		goto out;
	}
	size_t ndesc;
	const rd_kafka_ConsumerGroupDescription_t **descs =
		rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev), &ndesc);
	for (size_t d = 0; d < ndesc; d++) {
		const rd_kafka_error_t *e = rd_kafka_ConsumerGroupDescription_error(descs[d]);
		if (e) {
			warnx("cannot describe consumer group '%s': %s", g, rd_kafka_error_string(e));
			continue;
		}
		rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(descs[d]);
		/* kafka-consumer-groups says these on stderr too; only for people */
		if (table_output && st == RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY)
			warnx("consumer group '%s' has no active members", g);
		if (table_output && (st == RD_KAFKA_CONSUMER_GROUP_STATE_PREPARING_REBALANCE ||
				     st == RD_KAFKA_CONSUMER_GROUP_STATE_COMPLETING_REBALANCE))
			warnx("consumer group '%s' is rebalancing", g);
		size_t nm = rd_kafka_ConsumerGroupDescription_member_count(descs[d]);
		size_t nsorted = gr->nrows;
		for (size_t m = 0; m < nm; m++) {
			const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(descs[d], m);
			const rd_kafka_MemberAssignment_t *as = rd_kafka_MemberDescription_assignment(md);
			const rd_kafka_topic_partition_list_t *l = as ? rd_kafka_MemberAssignment_partitions(as) : NULL;
			for (int i = 0; l && i < l->cnt; i++) {
				struct row key = {.topic = l->elems[i].topic, .partition = l->elems[i].partition};
				struct row *r = bsearch(&key, gr->rows, nsorted, sizeof *gr->rows, row_cmp);
				if (!r) {
					if (o->ntopics && !bsearch(&key.topic, o->topics, o->ntopics, sizeof *o->topics,
								   strp_cmp))
						continue;
					if (gr->nrows == *cap) {
						*cap = *cap ? *cap * 2 : 16;
						gr->rows = xrealloc(gr->rows, *cap * sizeof *gr->rows);
					}
					r = &gr->rows[gr->nrows++];
					*r = (struct row){.group = gr->group, .topic = xstrdup(key.topic),
							  .partition = key.partition, .committed = -1, .commit_ms = -1,
							  .start = -1, .end = -1};
				}
				free(r->consumer);
				free(r->host);
				free(r->client);
				const char *id = rd_kafka_MemberDescription_consumer_id(md);
				const char *host = rd_kafka_MemberDescription_host(md);
				const char *client = rd_kafka_MemberDescription_client_id(md);
				r->consumer = xstrdup(id ? id : "");
				r->host = host ? xstrdup(host) : NULL;
				r->client = client ? xstrdup(client) : NULL;
			}
		}
	}
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(ao);
}

static const rd_kafka_metadata_t *get_metadata(rd_kafka_t *rk, const struct options *o)
{
	const rd_kafka_metadata_t *md;
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, o->timeout_ms);
	if (e)
		die(EXIT_TROUBLE, "cannot get metadata from '%s': %s", brokers_shown(o), rd_kafka_err2str(e));
	return md;
}

/* The partitions a group is asked about: every partition of the -t topics,
 * or of every topic (the broker then tells which ones it has offsets for).
 * The group's committed offsets come with them. */
static void group_rows(rd_kafka_t *rk, const struct options *o, const rd_kafka_metadata_t *md, struct group_report *gr,
		       size_t *cap, bool *partial)
{
	for (size_t i = 0; i < o->ntopics; i++) {
		int t = 0;
		while (t < md->topic_cnt && (md->topics[t].err || strcmp(md->topics[t].topic, o->topics[i])))
			t++;
		if (t == md->topic_cnt) {
			warnx("topic '%s' does not exist", o->topics[i]);
			*partial = true;
		}
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(64);
	for (int t = 0; t < md->topic_cnt; t++) {
		const rd_kafka_metadata_topic_t *mt = &md->topics[t];
		if (mt->err)
			continue;
		if (o->ntopics && !bsearch(&mt->topic, o->topics, o->ntopics, sizeof *o->topics, strp_cmp))
			continue;
		for (int p = 0; p < mt->partition_cnt; p++)
			rd_kafka_topic_partition_list_add(l, mt->topic, mt->partitions[p].id);
	}
	if (l->cnt) {
		rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, o->timeout_ms);
		if (e)
			die(EXIT_TROUBLE, "cannot fetch committed offsets of group '%s': %s", gr->group, rd_kafka_err2str(e));
	}
	*cap = (size_t)l->cnt + 1;
	gr->rows = xcalloc(*cap, sizeof *gr->rows);
	for (int i = 0; i < l->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &l->elems[i];
		if (tp->err) {
			warnx("cannot fetch committed offset of group '%s' on '%s' partition %" PRId32 ": %s", gr->group,
			      tp->topic, tp->partition, rd_kafka_err2str(tp->err));
			continue;
		}
		bool committed = tp->offset >= 0;
		if (!committed && !o->ntopics)
			continue;
		gr->has_commits |= committed;
		gr->rows[gr->nrows++] = (struct row){.group = gr->group, .topic = xstrdup(tp->topic),
						     .partition = tp->partition, .committed = committed ? tp->offset : -1,
						     .commit_ms = -1, .start = -1, .end = -1};
	}
	rd_kafka_topic_partition_list_destroy(l);
	qsort(gr->rows, gr->nrows, sizeof *gr->rows, row_cmp);
}

/* Log-start and log-end offsets of every partition in the report, two
 * batched ListOffsets rounds (offsets_for_times with the -2/-1 sentinels;
 * query_watermark_offsets would cost two round trips per partition). */
static void fetch_watermarks(rd_kafka_t *rk, const struct options *o, struct report *r)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(64);
	for (size_t g = 0; g < r->ngroups; g++)
		for (size_t i = 0; i < r->groups[g].nrows; i++) {
			const struct row *w = &r->groups[g].rows[i];
			if (w->source == SRC_TOPIC && !rd_kafka_topic_partition_list_find(l, w->topic, w->partition))
				rd_kafka_topic_partition_list_add(l, w->topic, w->partition);
		}
	if (!l->cnt) {
		rd_kafka_topic_partition_list_destroy(l);
		return;
	}
	rd_kafka_topic_partition_list_t *lo = rd_kafka_topic_partition_list_copy(l);
	for (int i = 0; i < l->cnt; i++) {
		l->elems[i].offset = RD_KAFKA_OFFSET_END;
		lo->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
	}
	rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, l, o->timeout_ms);
	if (!e)
		e = rd_kafka_offsets_for_times(rk, lo, o->timeout_ms);
	if (e)
		die(EXIT_TROUBLE, "cannot fetch log-end offsets from '%s': %s", brokers_shown(o), rd_kafka_err2str(e));
	rd_kafka_topic_partition_list_sort(l, NULL, NULL);
	rd_kafka_topic_partition_list_sort(lo, NULL, NULL);
	for (size_t g = 0; g < r->ngroups; g++)
		for (size_t i = 0; i < r->groups[g].nrows; i++) {
			struct row *w = &r->groups[g].rows[i];
			if (w->source != SRC_TOPIC)
				continue;
			const rd_kafka_topic_partition_t *hi = rd_kafka_topic_partition_list_find(l, w->topic, w->partition);
			const rd_kafka_topic_partition_t *lw = rd_kafka_topic_partition_list_find(lo, w->topic, w->partition);
			if (hi->err || hi->offset < 0) {
				if (!r->partial || diag_verbose)
					warnx("cannot fetch log-end offset of '%s' partition %" PRId32 ": %s", w->topic,
					      w->partition, rd_kafka_err2str(hi->err));
				r->partial = true;
				continue;
			}
			w->end = hi->offset;
			w->start = !lw->err && lw->offset >= 0 ? lw->offset : -1;
		}
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_topic_partition_list_destroy(lo);
}

/* Table mode without a broker: the source topics' rows stay without an
 * end, which the report says, once per topic (rows are sorted by topic). */
static void no_broker(const struct options *o, struct report *r)
{
	for (size_t g = 0; g < r->ngroups; g++)
		for (size_t i = 0; i < r->groups[g].nrows; i++) {
			const struct row *w = &r->groups[g].rows[i];
			if (w->source != SRC_TOPIC || (i && !strcmp(w->topic, r->groups[g].rows[i - 1].topic)))
				continue;
			warnx("table '%s': source topic '%s' needs -b BROKERS for its log-end offsets", o->table, w->topic);
			r->partial = true;
		}
}

/* ---- table mode: the offsets a Delta table has committed ---- */

static int64_t table_newest(const char *root)
{
	char err[512];
	int64_t v = delta_latest_version(root, err, sizeof err);
	if (v == -2)
		die(EXIT_TROUBLE, "%s", err);
	if (v < 0)
		die(EXIT_TROUBLE, "'%s' is not a Delta table: no commit in its _delta_log", root);
	return v;
}

/* One commit's actions; false when the file is gone (cleaned up). */
static bool table_commit(const char *root, int64_t version, struct arena *a, struct value **acts, size_t *n)
{
	char err[512];
	int rc = delta_read_commit(root, version, a, acts, n, err, sizeof err);
	if (rc < 0)
		die(EXIT_TROUBLE, "table '%s': %s", root, err);
	return rc == 0;
}

static bool is_str(const struct value *v, const char *s)
{
	return v && v->type == V_STRING && v->n == strlen(s) && !memcmp(v->s, s, v->n);
}

/* What a committed source names.  weir-lake-cat's barriers name the Delta
 * table they read, with one partition, 0, at the next version to read;
 * weir-ingest -B's name the files it read.  A topic name has no '/', and a
 * directory with a _delta_log is a table (a relative path is taken from
 * the working directory, as the writer's was). */
static enum source_kind source_kind(const char *name)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/_delta_log", name);
	struct stat st;
	bool dir = stat(buf_cstr(&b), &st) == 0 && S_ISDIR(st.st_mode);
	buf_free(&b);
	return dir ? SRC_TABLE : strchr(name, '/') ? SRC_OTHER : SRC_TOPIC;
}

/* The source offsets of the newest commit by app_id: weir-lake-write puts
 * them in commitInfo.weir.sources, shaped like a barrier's sources
 * ({"topic":{"partition":next offset}}), beside txn.appId and
 * commitInfo.weir.appId. */
static void table_rows(const struct options *o, int64_t newest, struct group_report *gr)
{
	struct arena a = {0};
	bool found = false;
	for (int64_t v = newest; v >= 0 && !found; v--) {
		struct value *acts;
		size_t n;
		arena_reset(&a);
		if (!table_commit(o->table, v, &a, &acts, &n))
			break; /* older commits were cleaned up */
		bool ours = false;
		const struct value *sources = NULL;
		for (size_t i = 0; i < n; i++) {
			const struct value *txn = value_getz(&acts[i], "txn");
			const struct value *ci = value_getz(&acts[i], "commitInfo");
			if (txn && is_str(value_getz(txn, "appId"), o->app_id))
				ours = true;
			if (ci && is_str(value_path(ci, "weir.appId"), o->app_id))
				ours = true;
			if (ci)
				sources = value_path(ci, "weir.sources");
		}
		if (!ours)
			continue;
		found = true;
		if (!sources || sources->type != V_OBJECT || !sources->n) {
			warnx("table '%s' version %" PRId64 ": the newest commit of app id '%s' records no source offsets",
			      o->table, v, o->app_id);
			break;
		}
		int64_t ms = delta_commit_time(o->table, v, acts, n);
		size_t cap = 0;
		for (uint32_t t = 0; t < sources->n; t++) {
			const struct value *topic = &sources->a[2 * t], *parts = &sources->a[2 * t + 1];
			if (parts->type != V_OBJECT)
				die(EXIT_TROUBLE, "table '%s' version %" PRId64 ": bad sources of topic '%.*s'", o->table, v,
				    (int)topic->n, topic->s);
			char *name = xstrndup(topic->s, topic->n);
			enum source_kind kind = source_kind(name);
			/* a table's end is the version its reader would read next */
			int64_t next_version = kind == SRC_TABLE ? table_newest(name) + 1 : -1;
			if (kind == SRC_OTHER)
				warnx("table '%s': source '%s' is neither a Kafka topic nor a Delta table: its lag is unknown",
				      o->table, name);
			for (uint32_t p = 0; p < parts->n; p++) {
				const struct value *pk = &parts->a[2 * p], *off = &parts->a[2 * p + 1];
				char pbuf[16];
				snprintf(pbuf, sizeof pbuf, "%.*s", (int)(pk->n < 15 ? pk->n : 15), pk->s);
				char *end;
				errno = 0;
				long pn = strtol(pbuf, &end, 10);
				if (!*pbuf || *end || errno || pn < 0 || pn > INT32_MAX || off->type != V_INT || off->i < 0)
					die(EXIT_TROUBLE, "table '%s' version %" PRId64 ": bad source offset of '%.*s' partition '%s'",
					    o->table, v, (int)topic->n, topic->s, pbuf);
				if (gr->nrows == cap) {
					cap = cap ? cap * 2 : 16;
					gr->rows = xrealloc(gr->rows, cap * sizeof *gr->rows);
				}
				gr->rows[gr->nrows++] = (struct row){.group = gr->group, .topic = xstrdup(name),
								     .partition = (int32_t)pn, .committed = off->i,
								     .commit_ms = ms, .start = -1, .end = next_version,
								     .source = kind};
				gr->has_commits = true;
			}
			free(name);
		}
	}
	if (!found)
		warnx("table '%s' has no commit by app id '%s'", o->table, o->app_id);
	arena_free(&a);
	if (gr->nrows)
		qsort(gr->rows, gr->nrows, sizeof *gr->rows, row_cmp);
}

static struct table_report *table_freshness(const struct options *o, int64_t newest)
{
	struct arena a = {0};
	struct value *acts;
	size_t n;
	if (!table_commit(o->table, newest, &a, &acts, &n))
		die(EXIT_TROUBLE, "table '%s': version %" PRId64 " has no commit file", o->table, newest);
	struct table_report *t = xmalloc(sizeof *t);
	*t = (struct table_report){o->table, newest, delta_commit_time(o->table, newest, acts, n)};
	arena_free(&a);
	return t;
}

/* ---- evaluation ---- */

/* Lag, lag in seconds and status of every row, recording this sample in
 * the state; then the group figures (Burrow's group status, the
 * exporter's max and sum). */
static void evaluate(struct report *r, struct state *s, const struct options *o)
{
	for (size_t g = 0; g < r->ngroups; g++) {
		struct group_report *gr = &r->groups[g];
		gr->status = r->history && gr->has_commits ? ST_OK : ST_NONE;
		gr->max_lag_s = NAN;
		for (size_t i = 0; i < gr->nrows; i++) {
			struct row *w = &gr->rows[i];
			w->lag = -1;
			w->lag_s = NAN;
			w->status = ST_NONE;
			if (w->end < 0)
				continue;
			struct hist *ph = state_get(s, NULL, w->topic, w->partition);
			points_add(ph, o->history, w->end, r->now);
			struct hist *wh = state_get(s, w->group, w->topic, w->partition);
			if (w->committed < 0) {
				wh->n = 0; /* commits expired or were deleted: the old window says nothing now */
				continue;
			}
			w->lag = w->end > w->committed ? w->end - w->committed : 0;
			window_add(wh, o->window, w->committed, w->commit_ms, w->consumer != NULL, w->end, r->now);
			if (r->history) {
				w->lag_s = lag_seconds(ph->pts, ph->n, w->committed, r->now);
				w->status = burrow_status(wh->win, wh->n, r->now, o->allowed_lag);
				w->win = wh;
			}
			gr->total_lag += w->lag;
			if (w->lag > gr->max_lag)
				gr->max_lag = w->lag;
			if (!isnan(w->lag_s) && (isnan(gr->max_lag_s) || w->lag_s > gr->max_lag_s))
				gr->max_lag_s = w->lag_s;
			enum status st = w->status > ST_ERR ? ST_ERR : w->status;
			if (st > gr->status)
				gr->status = st;
		}
	}
}

/* ---- output ---- */

static void put_dash_or_int(struct buf *b, int64_t v, int width)
{
	char s[32];
	if (v < 0)
		snprintf(s, sizeof s, "-");
	else
		snprintf(s, sizeof s, "%" PRId64, v);
	buf_printf(b, "%-*s", width, s);
}

static const char *dash(const char *s)
{
	return s ? s : "-";
}

static void fmt_seconds(char *out, size_t n, double s)
{
	if (isnan(s))
		snprintf(out, n, "-");
	else if (isinf(s))
		snprintf(out, n, "%sinf", s < 0 ? "-" : "");
	else
		snprintf(out, n, "%.3f", s);
}

/* The lag of each sample in the window as a sparkline, scaled to the
 * largest lag it shows. */
static void sparkline(struct buf *b, const struct hist *h)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	if (!h || !h->n) {
		buf_putc(b, '-');
		return;
	}
	int64_t max = 0;
	for (size_t i = 0; i < h->n; i++)
		if (entry_lag(&h->win[i]) > max)
			max = entry_lag(&h->win[i]);
	for (size_t i = 0; i < h->n; i++) {
		int64_t v = entry_lag(&h->win[i]);
		buf_puts(b, bars[max ? (int)((double)v * 7 / (double)max + 0.5) : 0]);
	}
}

static size_t maxlen(size_t a, const char *s)
{
	size_t n = strlen(dash(s));
	return n > a ? n : a;
}

/* kafka-consumer-groups --describe, column for column (ConsumerGroupCommand
 * printOffsets): a blank line, then header and rows, group, topic, consumer
 * and host at least 15 wide.  With a history, LAG-SECONDS and STATUS follow
 * CLIENT-ID, and TREND under --watch; then one line of totals. */
static void render_group_table(struct buf *b, const struct report *r, const struct group_report *gr, bool trend)
{
	size_t wg = maxlen(15, gr->group), wt = 15, wc = 15, wh = 15, wcl = 15;
	for (size_t i = 0; i < gr->nrows; i++) {
		const struct row *w = &gr->rows[i];
		wt = maxlen(wt, w->topic);
		wc = maxlen(wc, w->consumer);
		wh = maxlen(wh, w->host);
		wcl = maxlen(wcl, w->client);
	}
	buf_printf(b, "\n%-*s %-*s %-10s %-15s %-15s %-15s %-*s %-*s ", (int)wg, "GROUP", (int)wt, "TOPIC", "PARTITION",
		   "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", (int)wc, "CONSUMER-ID", (int)wh, "HOST");
	if (r->history)
		buf_printf(b, "%-*s %-15s %s%s\n", (int)wcl, "CLIENT-ID", "LAG-SECONDS", trend ? "STATUS   " : "STATUS",
			   trend ? "TREND" : "");
	else
		buf_puts(b, "CLIENT-ID\n");
	for (size_t i = 0; i < gr->nrows; i++) {
		const struct row *w = &gr->rows[i];
		char part[16];
		snprintf(part, sizeof part, "%" PRId32, w->partition);
		buf_printf(b, "%-*s %-*s %-10s ", (int)wg, gr->group, (int)wt, w->topic, part);
		put_dash_or_int(b, w->committed, 15);
		buf_putc(b, ' ');
		put_dash_or_int(b, w->end, 15);
		buf_putc(b, ' ');
		put_dash_or_int(b, w->committed >= 0 ? w->lag : -1, 15);
		buf_printf(b, " %-*s %-*s ", (int)wc, dash(w->consumer), (int)wh, dash(w->host));
		if (!r->history) {
			buf_printf(b, "%s\n", dash(w->client));
			continue;
		}
		char secs[32];
		fmt_seconds(secs, sizeof secs, w->lag_s);
		const char *st = w->status == ST_NONE ? "-" : status_names[w->status];
		buf_printf(b, "%-*s %-15s ", (int)wcl, dash(w->client), secs);
		if (trend) {
			buf_printf(b, "%-8s ", st);
			sparkline(b, w->win);
			buf_putc(b, '\n');
		} else {
			buf_printf(b, "%s\n", st);
		}
	}
	buf_printf(b, "TOTAL-LAG %" PRId64 " MAX-LAG %" PRId64, gr->total_lag, gr->max_lag);
	if (r->history) {
		char secs[32];
		fmt_seconds(secs, sizeof secs, gr->max_lag_s);
		buf_printf(b, " MAX-LAG-SECONDS %s STATUS %s", secs,
			   gr->status == ST_NONE ? "-" : status_names[gr->status]);
	}
	buf_putc(b, '\n');
}

static void put_time(struct buf *b, int64_t ms)
{
	char t[40];
	format_timestamp(t, ms * 1000, false);
	buf_puts(b, t);
}

static void render_table_info(struct buf *b, const struct report *r)
{
	const struct table_report *t = r->table;
	size_t wp = maxlen(15, t->path);
	char age[32];
	fmt_seconds(age, sizeof age, (double)(r->now - t->commit_ms) / 1000);
	buf_printf(b, "\n%-*s %-10s %-27s %s\n%-*s %-10" PRId64 " ", (int)wp, "TABLE", "VERSION", "LAST-COMMIT",
		   "AGE-SECONDS", (int)wp, t->path, t->version);
	put_time(b, t->commit_ms);
	buf_printf(b, " %s\n", age);
}

static void json_str_field(struct buf *b, const char *key, const char *s)
{
	buf_printf(b, ",\"%s\":", key);
	if (s)
		json_write_string(b, s, strlen(s));
	else
		buf_puts(b, "null");
}

static void json_int_field(struct buf *b, const char *key, int64_t v)
{
	if (v < 0)
		buf_printf(b, ",\"%s\":null", key);
	else
		buf_printf(b, ",\"%s\":%" PRId64, key, v);
}

/* Seconds as a JSON number; unknown (NaN) is null, infinities take the
 * canonical strings. */
static void json_secs_field(struct buf *b, const char *key, double s)
{
	buf_printf(b, ",\"%s\":", key);
	if (isnan(s))
		buf_puts(b, "null");
	else if (isinf(s))
		buf_puts(b, s < 0 ? "\"-Infinity\"" : "\"Infinity\"");
	else
		buf_printf(b, "%.3f", s);
}

static void render_json(struct buf *b, const struct report *r)
{
	char now[40];
	format_timestamp(now, r->now * 1000, false);
	if (r->table) {
		buf_puts(b, "{\"type\":\"table\"");
		json_str_field(b, "table", r->table->path);
		buf_printf(b, ",\"version\":%" PRId64 ",\"last_commit\":", r->table->version);
		char t[40];
		format_timestamp(t, r->table->commit_ms * 1000, false);
		json_write_string(b, t, strlen(t));
		json_secs_field(b, "age_seconds", (double)(r->now - r->table->commit_ms) / 1000);
		buf_printf(b, ",\"time\":\"%s\"}\n", now);
	}
	for (size_t g = 0; g < r->ngroups; g++) {
		const struct group_report *gr = &r->groups[g];
		for (size_t i = 0; i < gr->nrows; i++) {
			const struct row *w = &gr->rows[i];
			buf_puts(b, "{\"type\":\"partition\"");
			json_str_field(b, "group", gr->group);
			json_str_field(b, "topic", w->topic);
			buf_printf(b, ",\"partition\":%" PRId32, w->partition);
			json_int_field(b, "offset", w->committed);
			json_int_field(b, "end", w->end);
			json_int_field(b, "start", w->start);
			json_int_field(b, "lag", w->committed >= 0 ? w->lag : -1);
			json_secs_field(b, "lag_seconds", w->lag_s);
			json_str_field(b, "status", w->status == ST_NONE ? NULL : status_names[w->status]);
			json_str_field(b, "consumer_id", w->consumer);
			json_str_field(b, "host", w->host);
			json_str_field(b, "client_id", w->client);
			buf_printf(b, ",\"time\":\"%s\"}\n", now);
		}
		buf_puts(b, "{\"type\":\"group\"");
		json_str_field(b, "group", gr->group);
		json_str_field(b, "status", gr->status == ST_NONE ? NULL : status_names[gr->status]);
		buf_printf(b, ",\"partitions\":%zu,\"total_lag\":%" PRId64 ",\"max_lag\":%" PRId64, gr->nrows,
			   gr->total_lag, gr->max_lag);
		json_secs_field(b, "max_lag_seconds", gr->max_lag_s);
		buf_printf(b, ",\"time\":\"%s\"}\n", now);
	}
}

/* Prometheus text exposition format 0.0.4: label values escape \, " and
 * newline; HELP text escapes \ and newline. */
static void prom_label(struct buf *b, const char *name, const char *v, bool first)
{
	buf_printf(b, "%s%s=\"", first ? "" : ",", name);
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			buf_putc(b, '\\');
		if (*p == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *p);
	}
	buf_putc(b, '"');
}

static void prom_family(struct buf *b, const char *name, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void prom_value(struct buf *b, double v)
{
	if (isnan(v))
		buf_puts(b, " NaN\n");
	else if (isinf(v))
		buf_puts(b, v < 0 ? " -Inf\n" : " +Inf\n");
	else if (fabs(v) < 9e15 && v == (double)(int64_t)v)
		buf_printf(b, " %" PRId64 "\n", (int64_t)v);
	else
		buf_printf(b, " %.3f\n", v);
}

enum { PM_OFFSET, PM_LAG, PM_LAG_S, PM_STATUS };

static void prom_partition_family(struct buf *b, const struct report *r, const struct options *o, const char *name,
				  const char *help, int what)
{
	prom_family(b, name, help);
	for (size_t g = 0; g < r->ngroups; g++)
		for (size_t i = 0; i < r->groups[g].nrows; i++) {
			const struct row *w = &r->groups[g].rows[i];
			if (what == PM_STATUS && w->status == ST_NONE)
				continue;
			char part[16];
			snprintf(part, sizeof part, "%" PRId32, w->partition);
			buf_puts(b, name);
			buf_putc(b, '{');
			if (what == PM_STATUS) {
				prom_label(b, "cluster", o->cluster, true);
				prom_label(b, "consumer_group", w->group, false);
				prom_label(b, "topic", w->topic, false);
				prom_label(b, "partition", part, false);
			} else {
				prom_label(b, "cluster_name", o->cluster, true);
				prom_label(b, "group", w->group, false);
				prom_label(b, "topic", w->topic, false);
				prom_label(b, "partition", part, false);
				prom_label(b, "member_host", w->host, false);
				prom_label(b, "consumer_id", w->consumer, false);
				prom_label(b, "client_id", w->client, false);
			}
			buf_putc(b, '}');
			double v = what == PM_OFFSET ? (w->committed >= 0 ? (double)w->committed : NAN)
				   : what == PM_LAG  ? (w->committed >= 0 && w->lag >= 0 ? (double)w->lag : NAN)
				   : what == PM_LAG_S ? w->lag_s
						      : (double)w->status;
			prom_value(b, v);
		}
}

enum { GM_MAX_LAG, GM_MAX_LAG_S, GM_SUM_LAG, GM_STATUS };

static void prom_group_family(struct buf *b, const struct report *r, const struct options *o, const char *name,
			      const char *help, int what)
{
	prom_family(b, name, help);
	for (size_t g = 0; g < r->ngroups; g++) {
		const struct group_report *gr = &r->groups[g];
		if (!gr->has_commits || (what == GM_STATUS && gr->status == ST_NONE))
			continue; /* the exporter knows no such group */
		buf_puts(b, name);
		buf_putc(b, '{');
		prom_label(b, what == GM_STATUS ? "cluster" : "cluster_name", o->cluster, true);
		prom_label(b, what == GM_STATUS ? "consumer_group" : "group", gr->group, false);
		buf_putc(b, '}');
		prom_value(b, what == GM_MAX_LAG ? (double)gr->max_lag
			      : what == GM_MAX_LAG_S ? gr->max_lag_s
			      : what == GM_SUM_LAG ? (double)gr->total_lag
						   : (double)gr->status);
	}
}

/* Per group and topic sums, and per partition watermarks, each series once. */
static void prom_topic_families(struct buf *b, const struct report *r, const struct options *o)
{
	prom_family(b, "kafka_consumergroup_group_topic_sum_lag", "Sum of the offset lag of a group on a topic");
	for (size_t g = 0; g < r->ngroups; g++) {
		const struct group_report *gr = &r->groups[g];
		for (size_t i = 0; gr->has_commits && i < gr->nrows;) {
			size_t j = i;
			int64_t sum = 0;
			for (; j < gr->nrows && !strcmp(gr->rows[j].topic, gr->rows[i].topic); j++)
				if (gr->rows[j].committed >= 0 && gr->rows[j].lag > 0)
					sum += gr->rows[j].lag;
			buf_puts(b, "kafka_consumergroup_group_topic_sum_lag{");
			prom_label(b, "cluster_name", o->cluster, true);
			prom_label(b, "group", gr->group, false);
			prom_label(b, "topic", gr->rows[i].topic, false);
			buf_putc(b, '}');
			prom_value(b, (double)sum);
			i = j;
		}
	}
	for (int latest = 1; latest >= 0; latest--) {
		const char *name = latest ? "kafka_partition_latest_offset" : "kafka_partition_earliest_offset";
		prom_family(b, name, latest ? "Log-end offset of a partition" : "Log-start offset of a partition");
		/* rows of several groups may share partitions: print each once */
		struct state seen = {0};
		for (size_t g = 0; g < r->ngroups; g++)
			for (size_t i = 0; i < r->groups[g].nrows; i++) {
				const struct row *w = &r->groups[g].rows[i];
				size_t before = seen.n;
				state_get(&seen, NULL, w->topic, w->partition);
				if (seen.n == before)
					continue;
				char part[16];
				snprintf(part, sizeof part, "%" PRId32, w->partition);
				buf_printf(b, "%s{", name);
				prom_label(b, "cluster_name", o->cluster, true);
				prom_label(b, "topic", w->topic, false);
				prom_label(b, "partition", part, false);
				buf_putc(b, '}');
				int64_t v = latest ? w->end : w->start;
				prom_value(b, v < 0 ? NAN : (double)v);
			}
		state_free(&seen);
	}
}

static void render_prom(struct buf *b, const struct report *r, const struct options *o)
{
	if (r->ngroups) {
		prom_partition_family(b, r, o, "kafka_consumergroup_group_offset",
				      "Committed offset of a group on a partition", PM_OFFSET);
		prom_partition_family(b, r, o, "kafka_consumergroup_group_lag", "Offset lag of a group on a partition",
				      PM_LAG);
		prom_partition_family(b, r, o, "kafka_consumergroup_group_lag_seconds",
				      "Estimated time lag of a group on a partition, in seconds", PM_LAG_S);
		prom_group_family(b, r, o, "kafka_consumergroup_group_max_lag", "Largest offset lag of a group",
				  GM_MAX_LAG);
		prom_group_family(b, r, o, "kafka_consumergroup_group_max_lag_seconds",
				  "Largest estimated time lag of a group, in seconds", GM_MAX_LAG_S);
		prom_group_family(b, r, o, "kafka_consumergroup_group_sum_lag", "Sum of the offset lag of a group",
				  GM_SUM_LAG);
		prom_topic_families(b, r, o);
		if (r->history) {
			prom_group_family(b, r, o, "burrow_kafka_consumer_status",
					  "Burrow status of a group: 1 OK, 2 WARN, 3 ERR", GM_STATUS);
			prom_partition_family(b, r, o, "burrow_kafka_topic_partition_status",
					      "Burrow status of a partition: 1 OK, 2 WARN, 3 ERR, 4 STOP, 5 STALL, 6 REWIND",
					      PM_STATUS);
		}
	}
	if (r->table) {
		const char *fam[] = {"weir_table_version", "weir_table_last_commit_timestamp_seconds",
				     "weir_table_commit_age_seconds"};
		const char *helps[] = {"Newest version of a Delta table", "Time of the newest commit of a Delta table",
				       "Seconds since the newest commit of a Delta table"};
		double vals[] = {(double)r->table->version, (double)r->table->commit_ms / 1000,
				 (double)(r->now - r->table->commit_ms) / 1000};
		for (int i = 0; i < 3; i++) {
			prom_family(b, fam[i], helps[i]);
			buf_printf(b, "%s{", fam[i]);
			prom_label(b, "table", r->table->path, true);
			buf_putc(b, '}');
			prom_value(b, vals[i]);
		}
	}
	prom_family(b, "kafka_consumergroup_poll_time_ms", "Time the last poll of the cluster took, in ms");
	buf_puts(b, "kafka_consumergroup_poll_time_ms{");
	prom_label(b, "cluster_name", o->cluster, true);
	buf_putc(b, '}');
	prom_value(b, (double)r->poll_ms);
}

static void render(struct buf *b, const struct report *r, const struct options *o)
{
	switch (o->format) {
	case FMT_JSON:
		render_json(b, r);
		break;
	case FMT_PROM:
		render_prom(b, r, o);
		break;
	case FMT_TABLE:
		if (r->table)
			render_table_info(b, r);
		/* a group without rows has nothing to show; verdict() says why */
		for (size_t g = 0; g < r->ngroups; g++)
			if (r->groups[g].nrows)
				render_group_table(b, r, &r->groups[g], o->watch_ms > 0);
		break;
	}
}

/* ---- the run ---- */

struct session {
	struct client *clients; /* one per group: committed offsets are asked with the group's own group.id */
	size_t nclients;
	rd_kafka_t *base; /* for metadata and offsets: the first client, or a groupless one */
	bool members;     /* the cluster can describe groups */
	bool probed;      /* members is known */
	struct state st;
};

static void session_open(struct session *ss, const struct options *o)
{
	memset(ss, 0, sizeof *ss);
	if (o->table && (!o->app_id || !o->brokers))
		return; /* freshness, and sources that are tables, need no broker */
	kafka_watchdog(o->timeout_ms / 1000 * 3 + 10, "connecting to the brokers");
	rd_kafka_t *first = client_new(o, o->ngroups ? o->groups[0] : NULL);
	char **groups = o->groups;
	size_t ngroups = o->ngroups;
	if (!o->table && !o->ngroups) {
		char **listed, why[512];
		size_t nlisted;
		if (!list_groups(first, o, &listed, &nlisted, why, sizeof why))
			die(EXIT_TROUBLE, "cannot list the consumer groups of '%s': %s (name them with -g)",
			    brokers_shown(o), why);
		qsort(listed, nlisted, sizeof *listed, strp_cmp);
		groups = listed;
		ngroups = nlisted;
		ss->members = o->members;
		ss->probed = true;
	}
	ss->base = first;
	if (o->table) {
		kafka_watchdog(0, NULL);
		return;
	}
	ss->clients = xcalloc(ngroups ? ngroups : 1, sizeof *ss->clients);
	for (size_t g = 0; g < ngroups; g++) {
		ss->clients[g].group = groups[g];
		ss->clients[g].rk = g == 0 && o->ngroups ? first : client_new(o, groups[g]);
	}
	ss->nclients = ngroups;
	kafka_watchdog(0, NULL);
}

static void session_close(struct session *ss, const struct options *o, int status)
{
	for (size_t g = 0; g < ss->nclients; g++)
		if (ss->clients[g].rk != ss->base)
			kafka_destroy_bounded(ss->clients[g].rk, shutdown_bound(o), status);
	if (ss->base)
		kafka_destroy_bounded(ss->base, shutdown_bound(o), status);
	free(ss->clients);
	state_free(&ss->st);
}

static int64_t now_ms(const struct options *o)
{
	return o->now_ms >= 0 ? o->now_ms : now_micros() / 1000;
}

/* One report: query, sample, evaluate. */
static void collect(struct session *ss, const struct options *o, struct report *r)
{
	memset(r, 0, sizeof *r);
	int64_t t0 = mono_micros();
	r->now = now_ms(o);
	r->history = o->state_path || o->watch_ms > 0;
	/* every request has its own timeout; this catches what has none */
	kafka_watchdog(o->timeout_ms / 1000 * 4 + 10, "querying the brokers");
	if (o->table) {
		int64_t newest = table_newest(o->table);
		r->table = table_freshness(o, newest);
		if (o->app_id) {
			r->groups = xcalloc(1, sizeof *r->groups);
			r->ngroups = 1;
			r->groups[0].group = xstrdup(o->app_id);
			table_rows(o, newest, &r->groups[0]);
		}
	} else {
		const rd_kafka_metadata_t *md = get_metadata(ss->base, o);
		if (!ss->probed && o->members) {
			/* ListGroups doubles as the capability check for
			 * DescribeGroups; after Metadata, so that an unreachable
			 * cluster fails once, on Metadata */
			char **listed, why[512];
			size_t nlisted;
			ss->members = list_groups(ss->base, o, &listed, &nlisted, why, sizeof why);
			for (size_t i = 0; i < nlisted; i++)
				free(listed[i]);
			free(listed);
			if (!ss->members)
				verbose(1, "no group members: the broker cannot list groups: %s", why);
		}
		ss->probed = true;
		r->groups = xcalloc(ss->nclients ? ss->nclients : 1, sizeof *r->groups);
		r->ngroups = ss->nclients;
		for (size_t g = 0; g < ss->nclients; g++) {
			struct group_report *gr = &r->groups[g];
			size_t cap;
			gr->group = xstrdup(ss->clients[g].group);
			group_rows(ss->clients[g].rk, o, md, gr, &cap, &r->partial);
			if (ss->members) {
				describe_members(ss->base, o, gr, &cap, o->format == FMT_TABLE);
				qsort(gr->rows, gr->nrows, sizeof *gr->rows, row_cmp);
			}
		}
		rd_kafka_metadata_destroy(md);
	}
	if (ss->base)
		fetch_watermarks(ss->base, o, r);
	else if (o->table)
		no_broker(o, r);
	kafka_watchdog(0, NULL);
	r->poll_ms = (mono_micros() - t0) / 1000;
	evaluate(r, &ss->st, o);
}

static void emit(const struct buf *b, const struct options *o)
{
	if (o->output) {
		char err[512];
		if (state_write_file(o->output, b->p, b->len, err, sizeof err))
			die(EXIT_TROUBLE, "%s", err);
		return;
	}
	if (fwrite(b->p, 1, b->len, stdout) != b->len || fflush(stdout))
		die_errno(EXIT_TROUBLE, "write failure on standard output");
}

/* The exit status a report asks for: 1 when a group has a status at or
 * past --fail-on, a table is older than --max-age, a table has no commit of
 * the app id, a group has no committed offset at all, or offsets were
 * missing. */
static int verdict(const struct report *r, const struct options *o)
{
	int status = r->partial ? EXIT_NEGATIVE : EXIT_OK;
	for (size_t g = 0; g < r->ngroups; g++) {
		const struct group_report *gr = &r->groups[g];
		if (!gr->has_commits) {
			if (!r->table)
				warnx("consumer group '%s' has no committed offsets", gr->group);
			status = EXIT_NEGATIVE;
		}
		if (o->fail_on != ST_NONE && gr->status >= o->fail_on)
			status = EXIT_NEGATIVE;
	}
	if (r->table && o->max_age_ms >= 0 && r->now - r->table->commit_ms > o->max_age_ms)
		status = EXIT_NEGATIVE;
	return status;
}

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int run(const struct options *o)
{
	struct session ss;
	session_open(&ss, o);
	if (o->state_path)
		state_load_file(&ss.st, o);
	bool tty = o->watch_ms > 0 && !o->output && o->format == FMT_TABLE && isatty(1);
	if (o->watch_ms > 0) {
		struct sigaction sa = {.sa_handler = on_stop};
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	int status = EXIT_OK;
	struct buf b = BUF_INIT;
	for (int64_t n = 1;; n++) {
		int64_t started = mono_micros();
		struct report r;
		collect(&ss, o, &r);
		buf_reset(&b);
		if (tty) {
			buf_puts(&b, "\033[H\033[2J");
			buf_printf(&b, "weir-lag every %.3gs: ", (double)o->watch_ms / 1000);
			put_time(&b, r.now);
			buf_putc(&b, '\n');
		}
		render(&b, &r, o);
		emit(&b, o);
		if (o->state_path)
			state_save_file(&ss.st, o->state_path);
		status = verdict(&r, o);
		report_free(&r);
		if (!o->watch_ms || (o->count && n >= o->count))
			break;
		int64_t left = o->watch_ms * 1000 - (mono_micros() - started);
		if (left > 0 && !stop_requested) {
			struct timespec ts = {left / 1000000, left % 1000000 * 1000};
			nanosleep(&ts, NULL); /* a signal cuts it short */
		}
		if (stop_requested)
			break;
	}
	buf_free(&b);
	status = finish_stdout(status);
	session_close(&ss, o, status);
	return status;
}

/* --commit: standalone commits (group.id, no join), which any broker
 * accepts while the group has no active members. */
static int commit_offsets(const struct options *o)
{
	rd_kafka_t *rk = client_new(o, o->groups[0]);
	kafka_watchdog(o->timeout_ms / 1000 * 2 + 10, "committing offsets");
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)o->ncommits);
	for (size_t i = 0; i < o->ncommits; i++)
		rd_kafka_topic_partition_list_add(l, o->commits[i].topic, o->commits[i].partition)->offset =
			o->commits[i].offset;
	/* through a queue: the synchronous rd_kafka_commit has no timeout */
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_resp_err_t e = rd_kafka_commit_queue(rk, l, q, NULL, NULL);
	rd_kafka_event_t *ev = e ? NULL : rd_kafka_queue_poll(q, o->timeout_ms);
	if (!e)
		e = !ev ? RD_KAFKA_RESP_ERR__TIMED_OUT : rd_kafka_event_error(ev);
	int status = EXIT_OK;
	if (e) {
		warnx("cannot commit offsets of group '%s': %s", o->groups[0], rd_kafka_err2str(e));
		status = EXIT_TROUBLE;
	}
	const rd_kafka_topic_partition_list_t *res = ev ? rd_kafka_event_topic_partition_list(ev) : NULL;
	for (int i = 0; !e && res && i < res->cnt; i++)
		if (res->elems[i].err) {
			warnx("cannot commit offset of group '%s' on '%s' partition %" PRId32 ": %s", o->groups[0],
			      res->elems[i].topic, res->elems[i].partition, rd_kafka_err2str(res->elems[i].err));
			status = EXIT_TROUBLE;
		}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_topic_partition_list_destroy(l);
	kafka_watchdog(0, NULL);
	kafka_destroy_bounded(rk, shutdown_bound(o), status);
	return finish_stdout(status);
}

static void parse_commit(struct options *o, const char *arg)
{
	/* topic names cannot hold ':' (Kafka allows [a-zA-Z0-9._-]) */
	const char *c2 = strrchr(arg, ':');
	const char *c1 = c2 && c2 > arg ? memrchr(arg, ':', (size_t)(c2 - arg)) : NULL;
	if (!c1 || c1 == arg)
		usage_error(help, "--commit wants TOPIC:PARTITION:OFFSET: '%s'", arg);
	char *part = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
	o->commits = xrealloc(o->commits, (o->ncommits + 1) * sizeof *o->commits);
	o->commits[o->ncommits++] = (struct commit_arg){
		.topic = xstrndup(arg, (size_t)(c1 - arg)),
		.partition = (int32_t)parse_int(part, "partition", 0, INT32_MAX),
		.offset = parse_int(c2 + 1, "offset", 0, INT64_MAX),
	};
	free(part);
}

static void push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = (char *)s;
}

int main(int argc, char **argv)
{
	diag_init("weir-lag");
	struct options o = {
		.max_age_ms = -1, .window = 10, .history = 60, .cluster = "default",
		.members = true, .now_ms = -1, .timeout_ms = 10000,
	};
	char err[512];
	if (!kconf_load_env(&o.kc, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	int c;
	while ((c = getopt_long(argc, argv, "b:g:t:s:o:w:m:X:F:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o.brokers = optarg; break;
		case 'g': push(&o.groups, &o.ngroups, optarg); break;
		case 't': push(&o.topics, &o.ntopics, optarg); break;
		case OPT_COMMIT: parse_commit(&o, optarg); break;
		case OPT_TABLE: o.table = optarg; break;
		case OPT_APP_ID: o.app_id = optarg; break;
		case OPT_MAX_AGE: o.max_age_ms = parse_duration(optarg, "--max-age") / 1000; break;
		case 's': o.state_path = optarg; break;
		case OPT_WINDOW: o.window = (size_t)parse_int(optarg, "--window", 2, 10000); break;
		case OPT_HISTORY: o.history = (size_t)parse_int(optarg, "--history", 2, 100000); break;
		case OPT_ALLOWED_LAG: o.allowed_lag = parse_int(optarg, "--allowed-lag", 0, INT64_MAX); break;
		case OPT_FAIL_ON:
			if (!strcmp(optarg, "WARN"))
				o.fail_on = ST_WARN;
			else if (!strcmp(optarg, "ERR"))
				o.fail_on = ST_ERR;
			else
				usage_error(help, "--fail-on wants WARN or ERR: '%s'", optarg);
			break;
		case OPT_JSON: o.format = FMT_JSON; break;
		case OPT_PROM: o.format = FMT_PROM; break;
		case OPT_CLUSTER: o.cluster = optarg; break;
		case 'o': o.output = optarg; break;
		case 'w':
			o.watch_ms = parse_duration(optarg, "--watch") / 1000;
			if (o.watch_ms <= 0)
				usage_error(help, "--watch wants a duration of at least 1ms: '%s'", optarg);
			break;
		case OPT_COUNT: o.count = parse_int(optarg, "--count", 1, INT64_MAX); break;
		case OPT_NO_MEMBERS: o.members = false; break;
		case OPT_NOW: o.now_ms = parse_int(optarg, "--now", 0, INT64_MAX / 1000); break;
		case 'm': {
			int64_t ms = parse_duration(optarg, "--timeout") / 1000;
			if (ms < 1 || ms > 3600000)
				usage_error(help, "--timeout out of range: '%s' (1ms to 1h)", optarg);
			o.timeout_ms = (int)ms;
			break;
		}
		case 'X':
			if (!strcmp(optarg, "dump"))
				o.dump_conf = true;
			else if (!kconf_set_arg(&o.kc, optarg, err, sizeof err))
				usage_error(help, "%s", err);
			break;
		case 'F':
			if (!kconf_load_file(&o.kc, optarg, err, sizeof err))
				die(EXIT_TROUBLE, "%s", err);
			break;
		case 'v': diag_verbose++; break;
		default: opt_common(c, help);
		}
	}
	if (optind < argc)
		usage_error(help, "unexpected argument: '%s'", argv[optind]);
	if (!o.brokers)
		o.brokers = kconf_get(&o.kc, "bootstrap.servers");
	if (!o.brokers && !o.table)
		usage_error(help, "-b BROKERS is required");
	if (o.table && (o.ngroups || o.ntopics || o.ncommits))
		usage_error(help, "--table does not go with -g, -t or --commit");
	if (!o.table && (o.app_id || o.max_age_ms >= 0))
		usage_error(help, "--app-id and --max-age need --table");
	if (o.ncommits && o.ngroups != 1)
		usage_error(help, "--commit needs exactly one -g GROUP");
	if (o.fail_on != ST_NONE && !o.state_path && !o.watch_ms)
		usage_error(help, "--fail-on needs a history: --state FILE or --watch");
	if (o.now_ms >= 0 && o.watch_ms)
		usage_error(help, "--now does not go with --watch");
	if (o.count && !o.watch_ms)
		usage_error(help, "--count needs --watch");
	if (o.ntopics)
		qsort(o.topics, o.ntopics, sizeof *o.topics, strp_cmp);
	if (o.dump_conf) {
		client_new(&o, o.ngroups ? o.groups[0] : NULL);
	}
	int status = o.ncommits ? commit_offsets(&o) : run(&o);
	kconf_free(&o.kc);
	return status;
}
