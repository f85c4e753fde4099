/* weir-ingest - the Kafka end of a weir pipeline: a kcat-class client that
 * consumes topics (alone or in a consumer group), produces, lists metadata,
 * looks up offsets by time, and reads dumps and archives as if they were a
 * topic.
 *
 * Messages travel as Kafka envelopes (lib/envelope.h) instead of kcat's -J,
 * which cannot carry bytes that are not UTF-8.  Consuming is one loop for
 * every source (a partition set, a group assignment, a list of files) that
 * keeps, per source partition, the offset of the next record: that is what
 * a barrier (--checkpoint-interval) reports, and what a restart seeks to, so
 * the cut it describes is exact whatever the input. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "buf.h"
#include "diag.h"
#include "envelope.h"
#include "json.h"
#include "kafka.h"
#include "kconf.h"
#include "lines.h"
#include "opt.h"
#include "record.h"
#include "resume.h"
#include "timeutil.h"

static const char help[] =
	"usage: weir-ingest -C -b BROKERS -t TOPIC... [-p PARTITION]... [-o OFFSET]... [-e]\n"
	"       [-c COUNT] [--raw] [--checkpoint-interval N|DURATION] [--ordered [--idle D]]\n"
	"       [--resume-from TABLE --app-id ID] [--end-of-stream] [--framed]\n"
	"       weir-ingest -G GROUP -b BROKERS [-o OFFSET]... [-e] [-c COUNT]\n"
	"       [--checkpoint-interval N|DURATION] [--resume-from TABLE --app-id ID]\n"
	"       [--end-of-stream] [--framed] TOPIC|^REGEX...\n"
	"       weir-ingest -P -b BROKERS [-t TOPIC] [-p PARTITION] [-k KEY] [-K DELIM]\n"
	"       [-D DELIM] [-H NAME[=VALUE]]... [-z CODEC] [-Z] [--raw]\n"
	"       [--app-id ID --checkpoint-topic TOPIC] [FILE...]\n"
	"       weir-ingest -L -b BROKERS [-t TOPIC]... [-J]\n"
	"       weir-ingest -Q -b BROKERS -t TOPIC[:PARTITION]:TIME... [-J]\n"
	"       weir-ingest -B [--raw] [-K DELIM] [-D DELIM] [-c COUNT]\n"
	"       [--checkpoint-interval N|DURATION] [--resume-from TABLE --app-id ID]\n"
	"       [--end-of-stream] [--framed] [FILE...]\n"
	"\n"
	"Consume, produce, inspect Kafka topics, and backfill from dumps, as Kafka envelopes.\n"
	"\n"
	"modes:\n"
	"  -C, --consume            read partitions of the topics (no group)\n"
	"  -G, --group GROUP        read as a member of a consumer group, committing\n"
	"  -P, --produce            write envelopes (or raw records) from FILEs or stdin\n"
	"  -L, --list               list brokers, topics and partitions\n"
	"  -Q, --query              look up the first offset at or after a time\n"
	"  -B, --backfill           read FILEs and archives as if they were a topic\n"
	"options:\n"
	"  -b, --brokers LIST       bootstrap brokers host:port,...\n"
	"  -t, --topic TOPIC        topic (repeatable)\n"
	"  -p, --partition N        partition (consume: repeatable; default all)\n"
	"  -o, --offset OFFSET      start: beginning, end, stored, N, -N (N before the end),\n"
	"                           s@TIME; stop: e@TIME (TIME: ms or ISO-8601)\n"
	"  -e, --exit               stop at the end of every partition\n"
	"  -c, --count N            stop after N records\n"
	"  -m, --timeout DURATION   metadata and lookup timeout (default 5s)\n"
	"  -r, --raw                records are bare values, not envelopes\n"
	"  -D, --delimiter DELIM    raw record delimiter (default \\n)\n"
	"  -K, --key-delimiter DELIM  raw records are KEY DELIM VALUE\n"
	"  -k, --key KEY            key for records that have none\n"
	"  -H, --header NAME[=VALUE]  add a header to every message (repeatable)\n"
	"  -z, --compression CODEC  none, gzip, snappy, lz4, zstd\n"
	"  -Z, --null-empty         raw: an empty key or value is sent as null\n"
	"  -J, --json               -L, -Q: JSON output\n"
	"  -X, --property KEY=VALUE  librdkafka property (repeatable); -X list, -X dump\n"
	"  -F, --config FILE        librdkafka properties file\n"
	"  -d, --debug CONTEXTS     librdkafka debug contexts\n"
	"      --checkpoint-interval N|DURATION\n"
	"                           emit a barrier every N records or every DURATION\n"
	"      --resume-from TABLE|kafka:TOPIC  start at the offsets of the last barrier\n"
	"                           committed for --app-id ID, after a restore record\n"
	"      --app-id ID          the application id the sink commits as; -P: produce\n"
	"                           each barrier's records in one transaction\n"
	"      --checkpoint-topic TOPIC  -P --app-id: topic of the barrier checkpoints\n"
	"      --ordered            -C: merge partitions by timestamp in a fixed order\n"
	"                           (a replay interleaves them the same way)\n"
	"      --idle DURATION      --ordered: a partition without records holds the\n"
	"                           others back no longer than DURATION\n"
	"      --end-of-stream      the end (-e, -c, e@, -B) ends the stream for good: a\n"
	"                           watermark at infinity before the last barrier\n"
	"      --framed             framed binary output\n"
	"  -v, --verbose            more messages (repeat for librdkafka logs)\n"
	"      --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"$WEIR_KAFKA_CONFIG names a properties file read before -F and -X.\n";

enum mode { M_NONE, M_CONSUME, M_GROUP, M_PRODUCE, M_LIST, M_QUERY, M_BACKFILL };

enum start_kind { S_DEFAULT, S_BEGINNING, S_END, S_STORED, S_ABS, S_TAIL, S_TIME };

enum {
	OPT_CHECKPOINT = OPT_TOOL_FIRST, OPT_FRAMED, OPT_RESUME_FROM, OPT_APP_ID, OPT_ORDERED, OPT_CHECKPOINT_TOPIC,
	OPT_IDLE, OPT_END_OF_STREAM
};

struct options {
	enum mode mode;
	const char *group;
	const char *brokers;
	char **topics;
	size_t ntopics;
	int32_t *partitions;
	size_t npartitions;
	enum start_kind start;
	int64_t start_val;  /* S_ABS offset, S_TAIL count, S_TIME ms */
	int64_t end_ts;     /* e@: -1 when none */
	bool exit_eof;
	int64_t count;      /* -1: unlimited */
	int timeout_ms;
	bool raw;
	struct buf delim, key_delim;
	const char *key;
	char **headers;
	size_t nheaders;
	const char *codec;
	bool null_empty;
	bool json;
	int64_t cp_records; /* barrier every N records, 0: not by count */
	int64_t cp_us;      /* barrier every DURATION, 0: not by time */
	const char *resume_from; /* a Delta table written with --app-id */
	const char *app_id;
	const char *checkpoint_topic; /* -P --app-id: where each barrier's checkpoint goes */
	bool ordered;
	int64_t idle_us;    /* --ordered --idle: how long an empty partition holds the others */
	bool end_of_stream; /* the end of the input closes the stream for good */
	bool framed;
	char **files;
	size_t nfiles;
	/* -X, -F and -d in command-line order, applied over the defaults */
	char **conf_args;   /* "X:k=v", "F:path" */
	size_t nconf;
	bool conf_list, conf_dump;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* ---- small parsers ---- */

/* "\n", "\t", "\r", "\\", "\0", "\xNN" escapes, so a delimiter can be any byte */
static void parse_delim(const char *s, struct buf *out, const char *what)
{
	buf_reset(out);
	for (; *s; s++) {
		if (*s != '\\') {
			buf_putc(out, *s);
			continue;
		}
		s++;
		switch (*s) {
		case 'n': buf_putc(out, '\n'); break;
		case 't': buf_putc(out, '\t'); break;
		case 'r': buf_putc(out, '\r'); break;
		case '0': buf_putc(out, '\0'); break;
		case '\\': buf_putc(out, '\\'); break;
		case 'x': {
			char hex[3] = {0};
			if (!s[1] || !s[2])
				die(EXIT_TROUBLE, "bad %s: '\\x' needs two hex digits", what);
			hex[0] = s[1];
			hex[1] = s[2];
			char *end;
			long v = strtol(hex, &end, 16);
			if (*end)
				die(EXIT_TROUBLE, "bad %s: '\\x%s' is not hex", what, hex);
			buf_putc(out, (char)v);
			s += 2;
			break;
		}
		default:
			die(EXIT_TROUBLE, "bad %s: unknown escape '\\%c'", what, *s ? *s : ' ');
		}
	}
	if (!out->len)
		die(EXIT_TROUBLE, "bad %s: empty", what);
}

/* milliseconds since the epoch, or an ISO-8601 time (UTC unless it says) */
static bool parse_time_ms(const char *s, int64_t *ms)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s && !*end && !errno && v >= 0) {
		*ms = v;
		return true;
	}
	int64_t us;
	bool zone;
	if (parse_iso_timestamp(s, strlen(s), &us, &zone)) {
		*ms = us / 1000;
		return true;
	}
	return false;
}

static void parse_offset(struct options *o, const char *s)
{
	int64_t t;
	if (!strncmp(s, "e@", 2)) {
		if (!parse_time_ms(s + 2, &t))
			die(EXIT_TROUBLE, "invalid end time: '%s'", s);
		o->end_ts = t;
		return;
	}
	if (o->start != S_DEFAULT)
		die(EXIT_TROUBLE, "more than one start offset: '%s'", s);
	if (!strcmp(s, "beginning")) {
		o->start = S_BEGINNING;
	} else if (!strcmp(s, "end")) {
		o->start = S_END;
	} else if (!strcmp(s, "stored")) {
		o->start = S_STORED;
	} else if (!strncmp(s, "s@", 2)) {
		if (!parse_time_ms(s + 2, &t))
			die(EXIT_TROUBLE, "invalid start time: '%s'", s);
		o->start = S_TIME;
		o->start_val = t;
	} else if (s[0] == '-') {
		o->start = S_TAIL;
		o->start_val = parse_int(s + 1, "offset", 1, INT64_MAX / 2);
	} else {
		o->start = S_ABS;
		o->start_val = parse_int(s, "offset", 0, INT64_MAX / 2);
	}
}

/* ---- Kafka configuration ---- */

static void add_conf_arg(struct options *o, char kind, const char *arg)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%c:%s", kind, arg);
	o->conf_args = xrealloc(o->conf_args, (o->nconf + 1) * sizeof *o->conf_args);
	o->conf_args[o->nconf++] = buf_cstr(&b);
}

/* The tool's defaults for the mode, then $WEIR_KAFKA_CONFIG, then -F and -X
 * in the order given: the user always has the last word. */
static void build_kconf(const struct options *o, struct kconf *c)
{
	char err[512];
	switch (o->mode) {
	case M_CONSUME:
	case M_GROUP:
		kconf_set(c, "enable.partition.eof", "true");
		/* a group's first read starts where -C does, at the beginning */
		kconf_set(c, "auto.offset.reset", "earliest");
		/* offsets are stored only once the records are written out */
		kconf_set(c, "enable.auto.offset.store", "false");
		if (o->mode == M_CONSUME)
			kconf_set(c, "enable.auto.commit", "false");
		else
			kconf_set(c, "group.id", o->group);
		break;
	case M_PRODUCE:
		kconf_set(c, "enable.idempotence", "true");
		if (o->app_id)
			kconf_set(c, "transactional.id", o->app_id);
		if (o->codec)
			kconf_set(c, "compression.type", o->codec);
		break;
	default:
		break;
	}
	if (!kconf_load_env(c, err, sizeof err))
		die(EXIT_TROUBLE, "%s", err);
	for (size_t i = 0; i < o->nconf; i++) {
		const char *a = o->conf_args[i] + 2;
		bool ok = o->conf_args[i][0] == 'F' ? kconf_load_file(c, a, err, sizeof err)
						    : kconf_set_arg(c, a, err, sizeof err);
		if (!ok)
			die(EXIT_TROUBLE, "%s", err);
	}
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		char buf[512];
		rd_kafka_fatal_error(rk, buf, sizeof buf);
		warnx("fatal Kafka error: %s", buf);
		return;
	}
	/* brokers coming and going are retried by librdkafka; worth a word
	 * only when asked */
	verbose(1, "kafka: %s: %s", rd_kafka_err2name(err), reason);
}

static rd_kafka_conf_t *make_conf(const struct options *o, const struct kconf *c, void *opaque)
{
	char err[512];
	rd_kafka_conf_t *conf = kafka_conf(c, o->brokers, err, sizeof err);
	if (!conf)
		die(EXIT_TROUBLE, "%s", err);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_opaque(conf, opaque);
	return conf;
}

/* Metadata for one topic (or all when topic is NULL) within the timeout; an
 * unreachable cluster ends the run, as a negative answer. */
static const rd_kafka_metadata_t *get_metadata(rd_kafka_t *rk, const char *topic, int timeout_ms, const char *brokers)
{
	const rd_kafka_metadata_t *md = NULL;
	rd_kafka_topic_t *rkt = topic ? rd_kafka_topic_new(rk, topic, NULL) : NULL;
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, topic ? 0 : 1, rkt, &md, timeout_ms);
	if (rkt)
		rd_kafka_topic_destroy(rkt);
	if (e)
		die(EXIT_NEGATIVE, "cannot get metadata from '%s': %s", brokers ? brokers : "bootstrap.servers",
		    rd_kafka_err2str(e));
	return md;
}

/* ---- the output ---- */

struct output {
	struct rec_writer *w; /* envelopes and control records */
	bool raw;
	struct buf rawbuf;     /* --raw: bare values */
	const struct buf *delim, *key_delim;
	struct buf line;
	struct arena arena;
};

static void raw_flush(struct output *out)
{
	rec_write_buf(1, &out->rawbuf);
}

static void out_flush(struct output *out)
{
	if (out->raw)
		raw_flush(out);
	else
		rec_flush(out->w);
}

static void out_env(struct output *out, const struct env_msg *m)
{
	if (out->raw) {
		if (out->key_delim) {
			if (m->key)
				buf_put(&out->rawbuf, m->key, m->key_len);
			buf_put(&out->rawbuf, out->key_delim->p, out->key_delim->len);
		}
		if (m->value)
			buf_put(&out->rawbuf, m->value, m->value_len);
		buf_put(&out->rawbuf, out->delim->p, out->delim->len);
		if (out->rawbuf.len >= (256u << 10))
			raw_flush(out);
		return;
	}
	buf_reset(&out->line);
	env_write(&out->line, m);
	struct record rec = {.kind = REC_DATA, .raw = out->line.p, .rawlen = out->line.len};
	if (rec_writer_framed(out->w)) {
		struct json_error je;
		arena_reset(&out->arena);
		if (json_parse(&out->arena, out->line.p, out->line.len, &rec.v, &je))
			die(EXIT_TROUBLE, "internal error: envelope is not JSON: %s", je.msg);
	}
	rec_forward(out->w, &rec);
}

/* An NDJSON line that is already an envelope, checked by the caller. */
static void out_line(struct output *out, const char *p, size_t n, const struct value *v)
{
	struct record rec = {.kind = REC_DATA, .raw = p, .rawlen = n, .v = *v};
	rec_forward(out->w, &rec);
}

static void out_control(struct output *out, const char *json)
{
	struct value v;
	struct json_error je;
	arena_reset(&out->arena);
	if (json_parse(&out->arena, json, strlen(json), &v, &je))
		die(EXIT_TROUBLE, "internal error: control record is not JSON: %s", je.msg);
	rec_write_control(out->w, &v);
}

/* ---- positions: the next offset of every source partition ---- */

struct part {
	bool active;   /* assigned and being read */
	bool done;     /* -e reached the end, or e@ passed */
	bool dirty;    /* records written since the offset was last stored */
	int64_t next;  /* offset of the next record to read */
	/* -B --resume-from: the lines the restored barrier covered */
	bool resume_known;
	int64_t resume_upto;
};

struct topic {
	char *name;
	struct part *parts;
	int32_t nparts;
	const void *handle; /* the rd_kafka_topic_t messages point at, for a fast lookup */
};

struct positions {
	struct topic *topics;
	size_t ntopics;
	struct topic *last;
};

static struct topic *topic_get(struct positions *ps, const char *name)
{
	for (size_t i = 0; i < ps->ntopics; i++)
		if (!strcmp(ps->topics[i].name, name))
			return &ps->topics[i];
	ps->topics = xrealloc(ps->topics, (ps->ntopics + 1) * sizeof *ps->topics);
	struct topic *t = &ps->topics[ps->ntopics++];
	memset(t, 0, sizeof *t);
	t->name = xstrdup(name);
	ps->last = NULL;
	return t;
}

static struct part *part_get(struct topic *t, int32_t p)
{
	if (p >= t->nparts) {
		t->parts = xrealloc(t->parts, (size_t)(p + 1) * sizeof *t->parts);
		memset(t->parts + t->nparts, 0, (size_t)(p + 1 - t->nparts) * sizeof *t->parts);
		t->nparts = p + 1;
	}
	return &t->parts[p];
}

static struct part *part_of(struct positions *ps, const rd_kafka_message_t *m)
{
	struct topic *t = ps->last;
	if (!t || t->handle != m->rkt) {
		t = topic_get(ps, rd_kafka_topic_name(m->rkt));
		t->handle = m->rkt;
		ps->last = t;
	}
	return part_get(t, m->partition);
}

static int cmp_topic(const void *a, const void *b)
{
	return strcmp(((const struct topic *)a)->name, ((const struct topic *)b)->name);
}

/* {"topic":{"partition":next,...},...} of the active partitions, topics in
 * name order so equal cuts print equal */
static void sources_json(struct positions *ps, struct buf *b)
{
	qsort(ps->topics, ps->ntopics, sizeof *ps->topics, cmp_topic);
	ps->last = NULL;
	buf_putc(b, '{');
	bool first_t = true;
	for (size_t i = 0; i < ps->ntopics; i++) {
		struct topic *t = &ps->topics[i];
		bool first_p = true;
		for (int32_t p = 0; p < t->nparts; p++) {
			if (!t->parts[p].active)
				continue;
			if (first_p) {
				if (!first_t)
					buf_putc(b, ',');
				json_write_string(b, t->name, strlen(t->name));
				buf_put(b, ":{", 2);
				first_t = false;
			} else {
				buf_putc(b, ',');
			}
			buf_printf(b, "\"%d\":%lld", (int)p, (long long)t->parts[p].next);
			first_p = false;
		}
		if (!first_p)
			buf_putc(b, '}');
	}
	buf_putc(b, '}');
}

/* ---- the consuming loop, shared by -C, -G and -B ---- */

struct ingest {
	const struct options *o;
	struct kconf kc;
	rd_kafka_t *rk;
	rd_kafka_queue_t *queue;
	rd_kafka_topic_t **rkts;   /* -C: one per topic */
	struct positions pos;
	struct output out;
	int64_t emitted;           /* records written */
	int64_t since_barrier;     /* records since the last barrier */
	int64_t barrier_id;
	int64_t next_barrier_us;   /* monotonic deadline for the time interval, set by
				      the first record after a barrier */
	bool failed;               /* an error worth exit status 1 */
	bool stopping;
	bool assigned;             /* -G: an assignment has been received */
	struct env_header *hdrs;
	size_t hdrs_cap;
	struct resume res;         /* --resume-from: the restored barrier, its sources, and
				      the newest barrier the sink is known to have committed */
};

/* ---- --resume-from: where the table's last barrier cut the sources ---- */

/* The last checkpoint of the app id in a checkpoint topic, as a
 * transactional -P writes them (key: the app id; value:
 * {"barrier":N,"sources":{...}}), read committed: 0 and no sources when
 * there is none.  The topic is read whole; compaction keeps it short. */
static int64_t kafka_checkpoint(const struct ingest *x, const char *topic, struct arena *a, struct value *sources)
{
	const struct options *o = x->o;
	struct kconf kc = {0};
	/* the connection and security settings, not the producer's own */
	for (size_t i = 0; i < x->kc.n; i++)
		if (strcmp(x->kc.keys[i], "transactional.id") && strcmp(x->kc.keys[i], "enable.idempotence") &&
		    strcmp(x->kc.keys[i], "compression.type"))
			kconf_set(&kc, x->kc.keys[i], x->kc.vals[i]);
	/* a checkpoint of an aborted transaction must not count */
	kconf_set(&kc, "isolation.level", "read_committed");
	kconf_set(&kc, "enable.partition.eof", "true");
	kconf_set(&kc, "enable.auto.commit", "false");
	rd_kafka_t *rk = kafka_new(RD_KAFKA_CONSUMER, make_conf(o, &kc, NULL));
	kconf_free(&kc);
	const rd_kafka_metadata_t *md = get_metadata(rk, topic, o->timeout_ms, o->brokers);
	int64_t id = 0;
	*sources = (struct value){.type = V_OBJECT};
	if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
		rd_kafka_metadata_destroy(md);
		kafka_destroy_bounded(rk, 10, EXIT_TROUBLE);
		return 0;
	}
	if (md->topic_cnt != 1 || md->topics[0].err)
		die(EXIT_NEGATIVE, "checkpoint topic '%s': %s", topic,
		    rd_kafka_err2str(md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	int nparts = md->topics[0].partition_cnt, open = 0;
	int32_t *started = xcalloc((size_t)nparts + 1, sizeof *started);
	for (int i = 0; i < nparts; i++) {
		int32_t p = md->topics[0].partitions[i].id;
		int64_t lo, hi;
		rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, o->timeout_ms);
		if (e)
			die(EXIT_NEGATIVE, "cannot read checkpoint topic '%s' partition %d: %s", topic, (int)p, rd_kafka_err2str(e));
		if (hi <= lo)
			continue;
		if (rd_kafka_consume_start_queue(rkt, p, lo, q))
			die(EXIT_NEGATIVE, "cannot read checkpoint topic '%s' partition %d: %s", topic, (int)p,
			    rd_kafka_err2str(rd_kafka_last_error()));
		started[open++] = p;
	}
	int nstarted = open;
	rd_kafka_metadata_destroy(md);
	/* to the end of every partition: the last checkpoint of ours wins
	 * (one key lands in one partition, in order) */
	size_t klen = strlen(o->app_id);
	struct buf last = BUF_INIT;
	int64_t last_offset = -1;
	int64_t deadline = mono_micros() + (int64_t)o->timeout_ms * 1000;
	while (open > 0) {
		rd_kafka_message_t *m = rd_kafka_consume_queue(q, 100);
		if (!m) {
			if (mono_micros() > deadline)
				die(EXIT_NEGATIVE, "cannot read checkpoint topic '%s': no answer within the timeout", topic);
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			open--;
		} else if (m->err) {
			die(EXIT_NEGATIVE, "cannot read checkpoint topic '%s': %s", topic, rd_kafka_message_errstr(m));
		} else if (m->key_len == klen && !memcmp(m->key, o->app_id, klen)) {
			buf_reset(&last);
			buf_put(&last, m->payload, m->len);
			last_offset = m->offset;
		}
		deadline = mono_micros() + (int64_t)o->timeout_ms * 1000;
		rd_kafka_message_destroy(m);
	}
	if (last_offset >= 0) {
		struct value v;
		struct json_error je;
		const struct value *b, *src;
		char *text = arena_strndup(a, last.p, last.len);
		if (json_parse(a, text, last.len, &v, &je) || !(b = value_getz(&v, "barrier")) || b->type != V_INT ||
		    b->i < 0 || !(src = value_getz(&v, "sources")) || src->type != V_OBJECT)
			die(EXIT_TROUBLE, "checkpoint topic '%s' offset %lld: not a checkpoint of weir-ingest -P", topic,
			    (long long)last_offset);
		id = b->i;
		*sources = *src;
	}
	buf_free(&last);
	for (int i = 0; i < nstarted; i++)
		rd_kafka_consume_stop(rkt, started[i]);
	free(started);
	rd_kafka_queue_destroy(q);
	rd_kafka_topic_destroy(rkt);
	kafka_destroy_bounded(rk, 10, EXIT_TROUBLE);
	return id;
}

/* Set x->barrier_id to the last barrier the table (or checkpoint topic)
 * committed for the app id, 0 when there is none yet (no table, or no
 * commit of ours): a fresh start from the configured offsets. */
static void load_resume(struct ingest *x)
{
	const struct options *o = x->o;
	char err[1024];
	if (!strncmp(o->resume_from, "kafka:", 6)) {
		x->res = (struct resume){.table = o->resume_from, .app_id = o->app_id, .version = -1, .seen = -1};
		x->barrier_id = x->res.barrier = x->res.committed =
			kafka_checkpoint(x, o->resume_from + 6, &x->res.arena, &x->res.sources);
		verbose(1, "resuming from barrier %lld of checkpoint topic '%s'", (long long)x->barrier_id, o->resume_from + 6);
		return;
	}
	if (resume_load(&x->res, o->resume_from, o->app_id, err, sizeof err) < 0)
		die(EXIT_TROUBLE, "cannot resume from '%s': %s", o->resume_from, err);
	x->barrier_id = x->res.barrier;
	if (x->res.version >= 0)
		verbose(1, "resuming from barrier %lld, committed in version %lld of '%s'", (long long)x->res.barrier,
			(long long)x->res.version, o->resume_from);
	else if (x->res.seen >= 0)
		verbose(1, "no barrier of app id '%s' in '%s' yet: starting afresh", o->app_id, o->resume_from);
}

/* The restored offset of a partition; false when the barrier did not cover
 * it (it starts where -o says). */
static bool resume_offset(const struct ingest *x, const char *topic, int32_t part, int64_t *off)
{
	if (!x->o->resume_from)
		return false;
	int rc = resume_position(&x->res, topic, part, off);
	if (rc < 0)
		die(EXIT_TROUBLE, "cannot resume from '%s': barrier %lld has a bad offset for topic '%s' partition %d",
		    x->o->resume_from, (long long)x->barrier_id, topic, (int)part);
	return rc > 0;
}

/* The first record of a resumed run: stateful stages load snapshot N (or,
 * for 0, start empty), and the barriers go on from N + 1. */
static void emit_restore(struct ingest *x)
{
	char rec[64];
	snprintf(rec, sizeof rec, "{\"@weir\":\"restore\",\"id\":%lld}", (long long)x->barrier_id);
	out_control(&x->out, rec);
}

static void barrier(struct ingest *x)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "{\"@weir\":\"barrier\",\"id\":%lld,\"sources\":", (long long)++x->barrier_id);
	sources_json(&x->pos, &b);
	/* --resume-from a table: the newest barrier of ours among the commits
	 * made since the last look, so that stateful stages can drop the
	 * snapshots no restart will ask for */
	if (x->o->resume_from && strncmp(x->o->resume_from, "kafka:", 6))
		resume_refresh(&x->res);
	if (x->res.committed > 0)
		buf_printf(&b, ",\"committed\":%lld", (long long)x->res.committed);
	buf_putc(&b, '}');
	out_control(&x->out, buf_cstr(&b));
	buf_free(&b);
	x->since_barrier = 0;
}

/* A record was written: count it, and cut when the interval is up.  The
 * clock of a time interval starts at the first record after a barrier, so
 * a quiet spell (a group join, an idle topic) neither ends an interval at
 * once nor writes empty ones. */
static void written(struct ingest *x)
{
	const struct options *o = x->o;
	x->emitted++;
	if (++x->since_barrier == 1 && o->cp_us)
		x->next_barrier_us = mono_micros() + o->cp_us;
	if (o->count >= 0 && x->emitted >= o->count)
		x->stopping = true;
	if ((o->cp_records && x->since_barrier >= o->cp_records) || (o->cp_us && mono_micros() >= x->next_barrier_us))
		barrier(x);
}

/* The end of a run: a barrier for the records since the last one.  With
 * --end-of-stream, when the input `ended` (not a signal, not a failure),
 * first a watermark at infinity, and the barrier even without records, so
 * that stateful stages close every window into the last commit. */
static void last_barrier(struct ingest *x, bool ended)
{
	if (!x->o->cp_records && !x->o->cp_us)
		return;
	if (x->o->end_of_stream && ended) {
		out_control(&x->out, "{\"@weir\":\"watermark\",\"t\":9223372036854775807}");
		barrier(x);
	} else if (x->since_barrier) {
		barrier(x);
	}
}

static bool auto_commit(const struct ingest *x)
{
	const char *ac = kconf_get(&x->kc, "enable.auto.commit");
	return !(ac && !strcmp(ac, "false"));
}

/* Written out: now the offsets may be stored for the group to commit.
 * When the topic has gone quiet (`quiet`) they are committed at once rather
 * than at the next auto-commit tick, so a rebalance soon after hands over
 * fewer records to be read again. */
static void flush_and_store(struct ingest *x, bool quiet)
{
	out_flush(&x->out);
	if (x->o->mode != M_GROUP)
		return;
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
	for (size_t i = 0; i < x->pos.ntopics; i++) {
		struct topic *t = &x->pos.topics[i];
		for (int32_t p = 0; p < t->nparts; p++)
			if (t->parts[p].active && t->parts[p].dirty) {
				rd_kafka_topic_partition_list_add(l, t->name, p)->offset = t->parts[p].next;
				t->parts[p].dirty = false;
			}
	}
	if (l->cnt) {
		rd_kafka_resp_err_t e = rd_kafka_offsets_store(x->rk, l);
		if (e)
			verbose(1, "cannot store offsets: %s", rd_kafka_err2str(e));
		else if (quiet && auto_commit(x))
			rd_kafka_commit(x->rk, NULL, 1);
	}
	rd_kafka_topic_partition_list_destroy(l);
}

static bool all_done(struct ingest *x)
{
	if (x->o->mode == M_GROUP && !x->assigned)
		return false;
	bool any = false;
	for (size_t i = 0; i < x->pos.ntopics; i++) {
		struct topic *t = &x->pos.topics[i];
		for (int32_t p = 0; p < t->nparts; p++)
			if (t->parts[p].active) {
				if (!t->parts[p].done)
					return false;
				any = true;
			}
	}
	return any;
}

/* Decide where each partition of `l` starts, as an absolute offset, so the
 * position of every partition is known before its first record (barriers
 * need it).  This is the one place a start is chosen: -o, the group's
 * committed offset, and auto.offset.reset for a group without one.  Returns
 * false (reported) when a lookup fails. */
static bool resolve_starts(struct ingest *x, rd_kafka_topic_partition_list_t *l)
{
	const struct options *o = x->o;
	int n = l->cnt;
	if (!n)
		return true;
	enum start_kind kind = o->start;
	if (kind == S_DEFAULT)
		kind = o->mode == M_GROUP ? S_STORED : S_BEGINNING;
	int64_t *want = xcalloc((size_t)n, sizeof *want); /* -1: from the reset policy */
	bool ok = true;
	if (kind == S_STORED) {
		rd_kafka_resp_err_t e = rd_kafka_committed(x->rk, l, o->timeout_ms);
		if (e) {
			warnx("cannot fetch committed offsets: %s", rd_kafka_err2str(e));
			free(want);
			return false;
		}
		for (int i = 0; i < n; i++)
			want[i] = l->elems[i].offset >= 0 ? l->elems[i].offset : -1;
	}
	/* low and high watermarks, and the offsets for a start time, each in
	 * one batched lookup */
	rd_kafka_topic_partition_list_t *lo = rd_kafka_topic_partition_list_copy(l);
	rd_kafka_topic_partition_list_t *hi = rd_kafka_topic_partition_list_copy(l);
	rd_kafka_topic_partition_list_t *at = kind == S_TIME ? rd_kafka_topic_partition_list_copy(l) : NULL;
	for (int i = 0; i < n; i++) {
		lo->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
		hi->elems[i].offset = RD_KAFKA_OFFSET_END;
		if (at)
			at->elems[i].offset = o->start_val;
	}
	rd_kafka_topic_partition_list_t *lists[3] = {lo, hi, at};
	for (int k = 0; k < 3 && ok; k++) {
		if (!lists[k])
			continue;
		rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(x->rk, lists[k], o->timeout_ms);
		if (e) {
			warnx("cannot look up offsets: %s", rd_kafka_err2str(e));
			ok = false;
			break;
		}
		for (int i = 0; i < n; i++)
			if (lists[k]->elems[i].err) {
				warnx("cannot look up offsets of topic '%s' partition %d: %s", l->elems[i].topic,
				      (int)l->elems[i].partition, rd_kafka_err2str(lists[k]->elems[i].err));
				ok = false;
			}
	}
	const char *reset = kconf_get(&x->kc, "auto.offset.reset");
	bool reset_end = reset && (!strcmp(reset, "latest") || !strcmp(reset, "largest") || !strcmp(reset, "end"));
	for (int i = 0; ok && i < n; i++) {
		int64_t l0 = lo->elems[i].offset, h = hi->elems[i].offset, s;
		switch (kind) {
		case S_BEGINNING: s = l0; break;
		case S_END: s = h; break;
		case S_ABS: s = o->start_val; break;
		case S_TAIL: s = h - o->start_val < l0 ? l0 : h - o->start_val; break;
		/* no message at or after the time: start at the end */
		case S_TIME: s = at->elems[i].offset >= 0 ? at->elems[i].offset : h; break;
		default: s = want[i] >= 0 ? want[i] : reset_end ? h : l0; break;
		}
		int64_t r;
		if (resume_offset(x, l->elems[i].topic, l->elems[i].partition, &r)) {
			/* below the log start, records of the cut are gone; above
			 * its end, the topic is not the one the table read */
			if (r < l0 || r > h) {
				warnx("cannot resume topic '%s' partition %d at offset %lld (barrier %lld): it holds offsets %lld to %lld",
				      l->elems[i].topic, (int)l->elems[i].partition, (long long)r, (long long)x->barrier_id,
				      (long long)l0, (long long)h);
				ok = false;
			}
			s = r;
		}
		l->elems[i].offset = s;
	}
	free(want);
	rd_kafka_topic_partition_list_destroy(lo);
	rd_kafka_topic_partition_list_destroy(hi);
	if (at)
		rd_kafka_topic_partition_list_destroy(at);
	return ok;
}

/* Take the partitions of `l` (offsets resolved) as positions. */
static void track(struct ingest *x, const rd_kafka_topic_partition_list_t *l, bool active)
{
	for (int i = 0; i < l->cnt; i++) {
		struct part *p = part_get(topic_get(&x->pos, l->elems[i].topic), l->elems[i].partition);
		p->active = active;
		p->done = false;
		p->dirty = false;
		if (active)
			p->next = l->elems[i].offset;
	}
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *l, void *opaque)
{
	struct ingest *x = opaque;
	bool cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		if (!resolve_starts(x, l)) {
			x->failed = true;
			x->stopping = true;
		}
		for (int i = 0; i < l->cnt; i++)
			verbose(1, "assigned topic '%s' partition %d from offset %lld", l->elems[i].topic,
				(int)l->elems[i].partition, (long long)l->elems[i].offset);
		track(x, l, true);
		x->assigned = true;
		rd_kafka_error_t *e = NULL;
		rd_kafka_resp_err_t re = 0;
		if (cooperative)
			e = rd_kafka_incremental_assign(rk, l);
		else
			re = rd_kafka_assign(rk, l);
		if (e || re) {
			warnx("cannot take assigned partitions: %s", e ? rd_kafka_error_string(e) : rd_kafka_err2str(re));
			if (e)
				rd_kafka_error_destroy(e);
			x->failed = x->stopping = true;
		}
		return;
	}
	/* revoked (or lost): what was written must be committed before the
	 * partitions go to another member */
	flush_and_store(x, false);
	if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && auto_commit(x) && !rd_kafka_assignment_lost(rk))
		rd_kafka_commit(rk, NULL, 0);
	track(x, l, false);
	if (cooperative) {
		rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, l);
		if (e)
			rd_kafka_error_destroy(e);
	} else {
		rd_kafka_assign(rk, NULL);
	}
}

static void copy_headers(struct ingest *x, const rd_kafka_message_t *m, struct env_msg *env)
{
	rd_kafka_headers_t *h;
	env->nheaders = 0;
	if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	size_t n = rd_kafka_header_cnt(h);
	if (n > x->hdrs_cap) {
		x->hdrs_cap = n;
		x->hdrs = xrealloc(x->hdrs, n * sizeof *x->hdrs);
	}
	for (size_t i = 0; i < n; i++) {
		const char *name;
		const void *val;
		size_t vlen;
		if (rd_kafka_header_get_all(h, i, &name, &val, &vlen))
			break;
		x->hdrs[i] = (struct env_header){name, strlen(name), val, vlen};
		env->nheaders = i + 1;
	}
	env->headers = x->hdrs;
}

/* One message or event from the queue. */
static void handle(struct ingest *x, rd_kafka_message_t *m)
{
	const struct options *o = x->o;
	if (m->err) {
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			struct part *p = part_of(&x->pos, m);
			if (p->active && !p->done) {
				p->next = m->offset;
				verbose(1, "end of topic '%s' partition %d at offset %lld", rd_kafka_topic_name(m->rkt),
					(int)m->partition, (long long)m->offset);
				if (o->exit_eof)
					p->done = true;
			}
			return;
		}
		const char *where = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
		if (where)
			warnx("topic '%s' partition %d: %s", where, (int)m->partition, rd_kafka_message_errstr(m));
		else
			warnx("%s", rd_kafka_message_errstr(m));
		/* errors a retry cannot mend end the run */
		switch (m->err) {
		case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
		case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
		case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
		case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
		case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
		case RD_KAFKA_RESP_ERR__FATAL:
			x->failed = x->stopping = true;
			break;
		default:
			break;
		}
		return;
	}
	if (o->count >= 0 && x->emitted >= o->count) {
		x->stopping = true;
		return;
	}
	struct part *p = part_of(&x->pos, m);
	if (!p->active || p->done)
		return; /* stopped: the end offset was reached before */
	rd_kafka_timestamp_type_t tt;
	int64_t ts = rd_kafka_message_timestamp(m, &tt);
	if (o->end_ts >= 0 && ts >= o->end_ts) {
		p->done = true;
		return;
	}
	struct env_msg env = {
		.topic = rd_kafka_topic_name(m->rkt),
		.partition = m->partition,
		.offset = m->offset,
		.timestamp = ts,
		.tstype = tt == RD_KAFKA_TIMESTAMP_CREATE_TIME ? ENV_TS_CREATE
			  : tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? ENV_TS_LOG_APPEND : ENV_TS_NONE,
		.key = m->key,
		.key_len = m->key_len,
		.value = m->payload,
		.value_len = m->len,
	};
	copy_headers(x, m, &env);
	out_env(&x->out, &env);
	p->next = m->offset + 1;
	p->dirty = true;
	written(x);
}

#define BATCH 4096

/* Nothing to read: write out what is pending (a quiet topic must not hold
 * records back), cut when the interval is up, and say how long to wait for
 * more, in ms. */
static int before_waiting(struct ingest *x, bool *flushed)
{
	if (!*flushed) {
		flush_and_store(x, true);
		*flushed = true;
	}
	if (x->o->cp_us && x->since_barrier && mono_micros() >= x->next_barrier_us)
		barrier(x);
	int wait = 200;
	if (x->o->cp_us && x->since_barrier) {
		int64_t left = (x->next_barrier_us - mono_micros()) / 1000;
		if (left < wait)
			wait = left < 1 ? 1 : (int)left;
	}
	return wait;
}

static void consume_loop(struct ingest *x)
{
	static rd_kafka_message_t *msgs[BATCH];
	bool flushed = true;
	while (!x->stopping && !stop_signal) {
		if ((x->o->exit_eof || x->o->end_ts >= 0) && all_done(x))
			break;
		/* take what is there without waiting; wait only when nothing is */
		ssize_t n = rd_kafka_consume_batch_queue(x->queue, 0, msgs, BATCH);
		if (n == 0)
			n = rd_kafka_consume_batch_queue(x->queue, before_waiting(x, &flushed), msgs, 1);
		if (n < 0) {
			warnx("cannot consume: %s", rd_kafka_err2str(rd_kafka_last_error()));
			x->failed = true;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (!x->stopping)
				handle(x, msgs[i]);
			rd_kafka_message_destroy(msgs[i]);
		}
		if (n)
			flushed = false;
	}
	last_barrier(x, !stop_signal && !x->failed);
	flush_and_store(x, false);
}

/* --ordered: a queue per partition, merged by message timestamp, ties to the
 * lane first in (topic, partition) order.  The merge only takes a record
 * when every partition has one waiting (or, with -e, has ended), so the
 * interleaving is a function of the offsets alone: a replay from a barrier
 * cut interleaves exactly as the first run did, and per-record watermarks
 * downstream decide the same.  A partition without data holds the others
 * back; that is the price. */
struct lane {
	rd_kafka_queue_t *q;
	struct part *p;
	const char *topic;
	int32_t partition;
	rd_kafka_message_t **msgs;
	size_t n, i;
	int64_t empty_since; /* --idle: monotonic time it ran out, 0 when it has records */
	bool at_end;         /* read to the end of its log, nothing since */
};

#define LANE_BATCH 1024

static int cmp_lane(const void *a, const void *b)
{
	const struct lane *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);
	return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* false on a consume error (reported).  A wait asks for one message: a
 * batch call waits until the batch is full or the time is up. */
static bool lane_fill(struct ingest *x, struct lane *L, int timeout_ms)
{
	ssize_t got = rd_kafka_consume_batch_queue(L->q, timeout_ms, L->msgs, timeout_ms ? 1 : LANE_BATCH);
	if (got < 0) {
		warnx("cannot consume topic '%s' partition %d: %s", L->topic, (int)L->partition,
		      rd_kafka_err2str(rd_kafka_last_error()));
		x->failed = true;
		return false;
	}
	L->n = (size_t)got;
	L->i = 0;
	return true;
}

static void ordered_loop(struct ingest *x, struct lane *lanes, size_t nl)
{
	qsort(lanes, nl, sizeof *lanes, cmp_lane);
	bool flushed = true;
	while (!x->stopping && !stop_signal) {
		if ((x->o->exit_eof || x->o->end_ts >= 0) && all_done(x))
			break;
		struct lane *pick = NULL, *wait_on = NULL, *idle = NULL;
		int64_t best = 0, now = 0;
		/* every lane is looked at, so that the --idle clocks of all the
		 * empty ones run at once */
		for (size_t k = 0; k < nl && !x->stopping; k++) {
			struct lane *L = &lanes[k];
			while (!L->p->done) {
				if (L->i == L->n && !lane_fill(x, L, 0))
					goto out;
				if (L->i == L->n) {
					/* --idle: a partition read to its end holds
					 * the others back only so long */
					if (x->o->idle_us && L->at_end) {
						now = now ? now : mono_micros();
						if (!L->empty_since)
							L->empty_since = now;
						if (now - L->empty_since >= x->o->idle_us) {
							idle = idle ? idle : L;
							break;
						}
					}
					wait_on = wait_on ? wait_on : L;
					break;
				}
				L->empty_since = 0;
				L->at_end = false;
				rd_kafka_message_t *m = L->msgs[L->i];
				if (m->err) {
					/* end of partition (done with -e) or an error */
					if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
						L->at_end = true;
					handle(x, m);
					rd_kafka_message_destroy(m);
					L->i++;
					continue;
				}
				int64_t ts = rd_kafka_message_timestamp(m, NULL);
				if (!pick || ts < best) {
					pick = L;
					best = ts;
				}
				break;
			}
		}
		if (x->stopping)
			break;
		if (wait_on || (!pick && idle)) {
			struct lane *L = wait_on ? wait_on : idle;
			int wait = before_waiting(x, &flushed);
			/* look again when the wait for this partition ends, or
			 * soon when all are idle and any may get records first */
			int64_t left = wait_on ? (L->empty_since + x->o->idle_us - mono_micros()) / 1000 : 10;
			if (x->o->idle_us && left < wait)
				wait = left < 1 ? 1 : (int)left;
			if (!lane_fill(x, L, wait))
				break;
			continue;
		}
		if (!pick)
			break; /* every partition has ended */
		handle(x, pick->msgs[pick->i]);
		rd_kafka_message_destroy(pick->msgs[pick->i]);
		pick->i++;
		flushed = false;
	}
out:
	last_barrier(x, !stop_signal && !x->failed);
	flush_and_store(x, false);
	for (size_t k = 0; k < nl; k++) {
		while (lanes[k].i < lanes[k].n)
			rd_kafka_message_destroy(lanes[k].msgs[lanes[k].i++]);
		rd_kafka_queue_destroy(lanes[k].q);
		free(lanes[k].msgs);
	}
}

/* -C: every partition (or those of -p) of every topic, without a group. */
static int run_consume(struct ingest *x)
{
	const struct options *o = x->o;
	rd_kafka_conf_t *conf = make_conf(o, &x->kc, x);
	x->rk = kafka_new(RD_KAFKA_CONSUMER, conf);
	x->queue = rd_kafka_queue_new(x->rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
	for (size_t i = 0; i < o->ntopics; i++) {
		const rd_kafka_metadata_t *md = get_metadata(x->rk, o->topics[i], o->timeout_ms, o->brokers);
		const rd_kafka_metadata_topic_t *t = &md->topics[0];
		if (md->topic_cnt != 1 || t->err)
			die(EXIT_NEGATIVE, "topic '%s': %s", o->topics[i],
			    rd_kafka_err2str(md->topic_cnt ? t->err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
		if (o->npartitions) {
			for (size_t j = 0; j < o->npartitions; j++) {
				if (o->partitions[j] >= t->partition_cnt)
					die(EXIT_NEGATIVE, "topic '%s' has no partition %d (it has %d)", o->topics[i],
					    (int)o->partitions[j], t->partition_cnt);
				rd_kafka_topic_partition_list_add(l, o->topics[i], o->partitions[j]);
			}
		} else {
			for (int j = 0; j < t->partition_cnt; j++)
				rd_kafka_topic_partition_list_add(l, o->topics[i], t->partitions[j].id);
		}
		rd_kafka_metadata_destroy(md);
	}
	if (!resolve_starts(x, l)) {
		/* librdkafka's teardown waits for every queue to go */
		rd_kafka_topic_partition_list_destroy(l);
		rd_kafka_queue_destroy(x->queue);
		return EXIT_NEGATIVE;
	}
	track(x, l, true);
	x->rkts = xcalloc(o->ntopics, sizeof *x->rkts);
	struct lane *lanes = o->ordered ? xcalloc((size_t)l->cnt, sizeof *lanes) : NULL;
	for (int i = 0; i < l->cnt; i++) {
		size_t ti = 0;
		while (strcmp(o->topics[ti], l->elems[i].topic))
			ti++;
		if (!x->rkts[ti])
			x->rkts[ti] = rd_kafka_topic_new(x->rk, o->topics[ti], NULL);
		verbose(1, "reading topic '%s' partition %d from offset %lld", l->elems[i].topic,
			(int)l->elems[i].partition, (long long)l->elems[i].offset);
		rd_kafka_queue_t *q = x->queue;
		if (lanes) {
			struct lane *L = &lanes[i];
			L->q = q = rd_kafka_queue_new(x->rk);
			L->topic = l->elems[i].topic;
			L->partition = l->elems[i].partition;
			L->p = part_get(topic_get(&x->pos, L->topic), L->partition);
			L->msgs = xmalloc(LANE_BATCH * sizeof *L->msgs);
		}
		if (rd_kafka_consume_start_queue(x->rkts[ti], l->elems[i].partition, l->elems[i].offset, q))
			die(EXIT_NEGATIVE, "cannot read topic '%s' partition %d: %s", l->elems[i].topic,
			    (int)l->elems[i].partition, rd_kafka_err2str(rd_kafka_last_error()));
	}
	if (lanes) {
		ordered_loop(x, lanes, (size_t)l->cnt);
		free(lanes);
	} else {
		consume_loop(x);
	}
	for (int i = 0; i < l->cnt; i++) {
		size_t ti = 0;
		while (strcmp(o->topics[ti], l->elems[i].topic))
			ti++;
		rd_kafka_consume_stop(x->rkts[ti], l->elems[i].partition);
	}
	rd_kafka_topic_partition_list_destroy(l);
	for (size_t i = 0; i < o->ntopics; i++)
		if (x->rkts[i])
			rd_kafka_topic_destroy(x->rkts[i]);
	rd_kafka_queue_destroy(x->queue);
	return x->failed ? EXIT_NEGATIVE : EXIT_OK;
}

/* -G: subscribe as a group member; offsets are stored once written and
 * committed by librdkafka, and at every revocation and at the end. */
static int run_group(struct ingest *x)
{
	const struct options *o = x->o;
	rd_kafka_conf_t *conf = make_conf(o, &x->kc, x);
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	x->rk = kafka_new(RD_KAFKA_CONSUMER, conf);
	/* fail early and clearly when no broker answers */
	rd_kafka_metadata_destroy(get_metadata(x->rk, NULL, o->timeout_ms, o->brokers));
	rd_kafka_poll_set_consumer(x->rk);
	x->queue = rd_kafka_queue_get_consumer(x->rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)o->ntopics);
	for (size_t i = 0; i < o->ntopics; i++)
		rd_kafka_topic_partition_list_add(l, o->topics[i], RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t e = rd_kafka_subscribe(x->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (e)
		die(EXIT_NEGATIVE, "cannot subscribe: %s", rd_kafka_err2str(e));
	consume_loop(x);
	rd_kafka_queue_destroy(x->queue);
	kafka_watchdog(o->timeout_ms / 1000 + 10, "leaving the consumer group");
	e = rd_kafka_consumer_close(x->rk);
	kafka_watchdog(0, "");
	if (e) {
		warnx("cannot leave the group cleanly: %s", rd_kafka_err2str(e));
		x->failed = true;
	}
	return x->failed ? EXIT_NEGATIVE : EXIT_OK;
}

/* ---- -B: files and archives as a topic ---- */

/* A raw record split at the first key delimiter, into env. */
static void split_raw(const struct options *o, const char *p, size_t n, struct env_msg *env)
{
	env->key = o->key;
	env->key_len = o->key ? strlen(o->key) : 0;
	env->value = p;
	env->value_len = n;
	if (o->key_delim.len) {
		const char *k = o->key_delim.len == 1 ? memchr(p, o->key_delim.p[0], n)
						       : memmem(p, n, o->key_delim.p, o->key_delim.len);
		if (k) {
			env->key = p;
			env->key_len = (size_t)(k - p);
			env->value = k + o->key_delim.len;
			env->value_len = n - env->key_len - o->key_delim.len;
		}
	}
	if (o->null_empty) {
		if (env->key && !env->key_len)
			env->key = NULL;
		if (!env->value_len)
			env->value = NULL;
	}
}

static void where(struct buf *b, const struct lines_rec *r)
{
	if (!strcmp(r->source, "-"))
		buf_printf(b, "line %llu", (unsigned long long)r->number);
	else if (r->member)
		buf_printf(b, "'%s' member '%s' line %llu", r->source, r->member, (unsigned long long)r->number);
	else
		buf_printf(b, "'%s' line %llu", r->source, (unsigned long long)r->number);
}

/* -B --resume-from: whether line r of its file or member is one the
 * restored barrier covered, which an earlier run read and the sink
 * committed. */
static bool read_before(struct ingest *x, struct part *p, const struct lines_rec *r)
{
	if (!x->o->resume_from)
		return false;
	if (!p->resume_known) {
		int64_t n;
		p->resume_upto = resume_offset(x, r->source, r->member_index, &n) ? n : 0;
		p->resume_known = true;
	}
	return (int64_t)r->number <= p->resume_upto;
}

/* After a resumed backfill read its inputs to the end: a file or member
 * with fewer lines than the barrier covered has changed since, and what
 * was committed from it is no longer what it holds. */
static void check_resumed_lengths(struct ingest *x)
{
	for (size_t i = 0; i < x->pos.ntopics; i++) {
		const struct topic *t = &x->pos.topics[i];
		for (int32_t m = 0; m < t->nparts; m++) {
			const struct part *p = &t->parts[m];
			if (!p->resume_known || p->next >= p->resume_upto)
				continue;
			warnx("cannot resume '%s' partition %d after line %lld (barrier %lld): it now ends at line %lld; it has "
			      "changed since",
			      t->name, (int)m, (long long)p->resume_upto, (long long)x->res.barrier, (long long)p->next);
			x->failed = true;
		}
	}
}

static int run_backfill(struct ingest *x)
{
	const struct options *o = x->o;
	struct lines *in = lines_open(o->files, o->nfiles, o->delim.p, o->delim.len, rec_max_record());
	struct arena arena = {0};
	struct buf msg = BUF_INIT;
	struct lines_rec r;
	int rc;
	if (o->count == 0)
		x->stopping = true;
	while (!x->stopping && !stop_signal && (rc = lines_next(in, &r)) != 0) {
		if (rc == -2)
			continue; /* a signal: the loop condition decides */
		if (rc < 0) {
			x->failed = true;
			continue;
		}
		struct part *p = part_get(topic_get(&x->pos, r.source), r.member_index);
		p->active = true;
		if (read_before(x, p, &r)) {
			p->next = (int64_t)r.number;
			continue;
		}
		buf_reset(&msg);
		if (r.err) {
			where(&msg, &r);
			warnx("%s: %s: skipped", buf_cstr(&msg), r.err);
			x->failed = true;
			p->next = (int64_t)r.number;
			continue;
		}
		if (o->raw) {
			struct env_msg env = {.topic = r.source, .partition = r.member_index,
					      .offset = (int64_t)r.number - 1, .tstype = ENV_TS_NONE, .timestamp = -1};
			split_raw(o, r.p, r.n, &env);
			out_env(&x->out, &env);
		} else {
			/* an envelope dump: passed on as it is, once it is known to be one */
			struct value v;
			struct json_error je;
			struct env_msg env;
			char err[256];
			arena_reset(&arena);
			if (json_parse(&arena, r.p, r.n, &v, &je)) {
				where(&msg, &r);
				warnx("%s: bad envelope: %s at byte %zu: skipped", buf_cstr(&msg), je.msg, je.offset + 1);
				x->failed = true;
				p->next = (int64_t)r.number;
				continue;
			}
			if (rec_is_control(&v, NULL)) {
				/* another run's cut; this run makes its own */
				p->next = (int64_t)r.number;
				continue;
			}
			if (!env_read(&v, &arena, &env, err, sizeof err)) {
				where(&msg, &r);
				warnx("%s: bad envelope: %s: skipped", buf_cstr(&msg), err);
				x->failed = true;
				p->next = (int64_t)r.number;
				continue;
			}
			out_line(&x->out, r.p, r.n, &v);
		}
		p->next = (int64_t)r.number;
		written(x);
	}
	if (o->resume_from && !stop_signal)
		check_resumed_lengths(x);
	last_barrier(x, !stop_signal);
	out_flush(&x->out);
	lines_close(in);
	arena_free(&arena);
	buf_free(&msg);
	return x->failed ? EXIT_NEGATIVE : EXIT_OK;
}

/* ---- -P ---- */

struct producer {
	const struct options *o;
	rd_kafka_t *rk;
	struct {
		char *name;
		rd_kafka_topic_t *rkt;
	} *topics;
	size_t ntopics;
	rd_kafka_headers_t *extra; /* -H */
	int64_t sent, failed;
	char **sources;            /* input names by index, for delivery errors */
	/* --app-id: one transaction per barrier */
	bool txn;
	bool checkpointed;         /* a barrier or restore came: commit only at barriers */
	int64_t committed;         /* last barrier committed, from the checkpoint topic */
	int64_t last_seen;         /* last barrier (or restore) id read */
	int64_t replayed;          /* records dropped as already committed */
	int64_t pending;           /* records produced in the open transaction */
	bool warned_ts0;           /* a timestamp 0 was reported */
};

/* A message's origin rides in its opaque: input index and record number. */
#define ORIGIN(src, num) ((void *)(uintptr_t)(((uint64_t)(src) << 44) | (num)))

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct producer *pr = opaque;
	/* purged by an abort: not produced, on purpose */
	if (!m->err || m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
		return;
	pr->failed++;
	if (pr->failed > 10)
		return; /* the total is told at the end */
	uint64_t o = (uint64_t)(uintptr_t)m->_private;
	const char *src = pr->sources[o >> 44];
	unsigned long long num = o & ((1ull << 44) - 1);
	if (!strcmp(src, "-"))
		warnx("line %llu: delivery to topic '%s' failed: %s", num, rd_kafka_topic_name(m->rkt),
		      rd_kafka_err2str(m->err));
	else
		warnx("'%s' line %llu: delivery to topic '%s' failed: %s", src, num, rd_kafka_topic_name(m->rkt),
		      rd_kafka_err2str(m->err));
}

static rd_kafka_topic_t *producer_topic(struct producer *pr, const char *name)
{
	for (size_t i = 0; i < pr->ntopics; i++)
		if (!strcmp(pr->topics[i].name, name))
			return pr->topics[i].rkt;
	pr->topics = xrealloc(pr->topics, (pr->ntopics + 1) * sizeof *pr->topics);
	pr->topics[pr->ntopics].name = xstrdup(name);
	pr->topics[pr->ntopics].rkt = rd_kafka_topic_new(pr->rk, name, NULL);
	return pr->topics[pr->ntopics++].rkt;
}

static bool send_one(struct producer *pr, const struct env_msg *m, void *origin, struct buf *err)
{
	const struct options *o = pr->o;
	const char *topic = m->topic ? m->topic : o->ntopics ? o->topics[0] : NULL;
	if (!topic) {
		buf_puts(err, "no topic (give -t or a \"topic\" field)");
		return false;
	}
	int32_t part = m->partition >= 0 ? m->partition : o->npartitions ? o->partitions[0] : RD_KAFKA_PARTITION_UA;
	rd_kafka_headers_t *h = NULL;
	if (pr->extra || m->nheaders) {
		h = pr->extra ? rd_kafka_headers_copy(pr->extra) : rd_kafka_headers_new(m->nheaders);
		for (size_t i = 0; i < m->nheaders; i++)
			rd_kafka_header_add(h, m->headers[i].name, (ssize_t)m->headers[i].name_len, m->headers[i].value,
					    m->headers[i].value ? (ssize_t)m->headers[i].value_len : 0);
	}
	rd_kafka_topic_t *rkt = producer_topic(pr, topic);
	/* an empty value must stay empty, not null: librdkafka takes NULL
	 * as null, so give it a pointer */
	void *val = m->value ? (void *)(m->value_len ? m->value : "") : NULL;
	if (m->timestamp == 0 && !pr->warned_ts0) {
		/* librdkafka reads a timestamp of 0 as "none given" and stamps
		 * the time of sending: say so rather than change it silently */
		warnx("timestamp 0 (1970-01-01T00:00:00Z) cannot be produced: librdkafka sends the current time "
		      "instead (said once)");
		pr->warned_ts0 = true;
	}
	for (;;) {
		rd_kafka_resp_err_t e = rd_kafka_producev(
			pr->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(part), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_VALUE(val, m->value_len), RD_KAFKA_V_KEY(m->key, m->key_len),
			RD_KAFKA_V_TIMESTAMP(m->timestamp >= 0 ? m->timestamp : 0), RD_KAFKA_V_OPAQUE(origin),
			RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			/* wait for deliveries to make room; never drop */
			rd_kafka_poll(pr->rk, 100);
			continue;
		}
		if (e) {
			if (h)
				rd_kafka_headers_destroy(h);
			buf_printf(err, "cannot produce to topic '%s': %s", topic, rd_kafka_err2str(e));
			return false;
		}
		break;
	}
	if ((++pr->sent & 1023) == 0)
		rd_kafka_poll(pr->rk, 0);
	return true;
}

/* ---- -P --app-id: a transaction per barrier ---- */

static void txn_ok(rd_kafka_error_t *e, const char *what)
{
	if (e)
		die(EXIT_TROUBLE, "cannot %s: %s", what, rd_kafka_error_string(e));
}

/* Barrier `id`: what was produced since the previous one, and the
 * checkpoint {"barrier":id,"sources":...} keyed by the app id, become
 * visible together, in one committed transaction; the next one opens. */
static void txn_commit_barrier(struct producer *pr, int64_t id, const struct value *sources)
{
	const struct options *o = pr->o;
	struct buf b = BUF_INIT;
	buf_printf(&b, "{\"barrier\":%lld,\"sources\":", (long long)id);
	if (sources && sources->type == V_OBJECT)
		json_write(&b, sources);
	else
		buf_puts(&b, "{}");
	buf_putc(&b, '}');
	rd_kafka_topic_t *rkt = producer_topic(pr, o->checkpoint_topic);
	for (;;) {
		rd_kafka_resp_err_t e = rd_kafka_producev(
			pr->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(b.p, b.len),
			RD_KAFKA_V_KEY(o->app_id, strlen(o->app_id)), RD_KAFKA_V_OPAQUE(ORIGIN(0, 0)), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			rd_kafka_poll(pr->rk, 100);
			continue;
		}
		if (e)
			die(EXIT_TROUBLE, "cannot produce the checkpoint of barrier %lld to topic '%s': %s", (long long)id,
			    o->checkpoint_topic, rd_kafka_err2str(e));
		break;
	}
	buf_free(&b);
	for (;;) {
		rd_kafka_error_t *e = rd_kafka_commit_transaction(pr->rk, -1);
		if (!e)
			break;
		if (rd_kafka_error_is_retriable(e)) {
			rd_kafka_error_destroy(e);
			continue;
		}
		/* nothing of this barrier is visible (to read_committed
		 * consumers): a restart produces it again */
		if (rd_kafka_error_txn_requires_abort(e))
			rd_kafka_error_destroy(rd_kafka_abort_transaction(pr->rk, -1));
		die(EXIT_TROUBLE, "cannot commit the transaction of barrier %lld: %s", (long long)id, rd_kafka_error_string(e));
	}
	verbose(1, "committed barrier %lld", (long long)id);
	pr->committed = id;
	txn_ok(rd_kafka_begin_transaction(pr->rk), "begin a transaction");
}

static bool kind_is(const struct value *k, const char *name)
{
	return k && k->type == V_STRING && k->n == strlen(name) && !memcmp(k->s, name, k->n);
}

/* A control record in the input of a transactional -P. */
static void txn_control(struct producer *pr, const struct value *v)
{
	int64_t id;
	const struct value *k = value_getz(v, "@weir");
	const char *kind = kind_is(k, "barrier") ? "barrier" : kind_is(k, "restore") ? "restore" : NULL;
	if (!kind)
		return;
	bool barrier = kind[0] == 'b';
	if (!rec_control_id(v, &id))
		die(EXIT_TROUBLE, "%s record without an integer id", kind);
	pr->checkpointed = true;
	pr->last_seen = id;
	if (!barrier) {
		/* restored further than this sink committed: the records in
		 * between would never be produced */
		if (id > pr->committed)
			die(EXIT_TROUBLE,
			    "restore %lld is past barrier %lld, the last one committed to topic '%s': resume the source "
			    "from kafka:%s",
			    (long long)id, (long long)pr->committed, pr->o->checkpoint_topic, pr->o->checkpoint_topic);
		return;
	}
	if (id > pr->committed) {
		txn_commit_barrier(pr, id, value_getz(v, "sources"));
		pr->pending = 0;
		return;
	}
	/* records came before a barrier this sink committed long ago, with
	 * no restore to say where the stream starts: a source that did not
	 * resume from the checkpoints, whose records would go out twice */
	if (pr->pending)
		die(EXIT_TROUBLE, "barrier %lld was committed before, but %lld records came before it without a restore: "
		    "resume the source from kafka:%s", (long long)id, (long long)pr->pending, pr->o->checkpoint_topic);
	verbose(1, "barrier %lld already committed: skipped", (long long)id);
}

static int run_produce(struct ingest *x)
{
	const struct options *o = x->o;
	struct producer pr = {.o = o};
	rd_kafka_conf_t *conf = make_conf(o, &x->kc, &pr);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	pr.rk = kafka_new(RD_KAFKA_PRODUCER, conf);
	pr.sources = o->nfiles ? o->files : (char *[]){"-"};
	rd_kafka_metadata_destroy(get_metadata(pr.rk, o->ntopics ? o->topics[0] : NULL, o->timeout_ms, o->brokers));
	if (o->app_id) {
		/* fences off an earlier instance and aborts what it left open,
		 * before its checkpoints are read */
		txn_ok(rd_kafka_init_transactions(pr.rk, o->timeout_ms), "initialize transactions");
		struct arena a = {0};
		struct value ignored;
		pr.txn = true;
		pr.committed = kafka_checkpoint(x, o->checkpoint_topic, &a, &ignored);
		/* until a restore or barrier says otherwise, records are new */
		pr.last_seen = pr.committed;
		arena_free(&a);
		verbose(1, "last barrier committed to '%s': %lld", o->checkpoint_topic, (long long)pr.committed);
		txn_ok(rd_kafka_begin_transaction(pr.rk), "begin a transaction");
	}
	if (o->nheaders) {
		pr.extra = rd_kafka_headers_new(o->nheaders);
		for (size_t i = 0; i < o->nheaders; i++) {
			const char *eq = strchr(o->headers[i], '=');
			if (eq)
				rd_kafka_header_add(pr.extra, o->headers[i], eq - o->headers[i], eq + 1, -1);
			else
				rd_kafka_header_add(pr.extra, o->headers[i], -1, NULL, 0);
		}
	}
	struct lines *in = lines_open(o->files, o->nfiles, o->delim.p, o->delim.len, rec_max_record());
	struct arena arena = {0};
	struct buf err = BUF_INIT, pos = BUF_INIT;
	struct lines_rec r;
	int rc;
	size_t src = 0;
	const char *last_source = NULL;
	bool bad_input = false;
	while (!stop_signal && (rc = lines_next(in, &r)) != 0) {
		if (rc == -2)
			continue;
		if (rc < 0) {
			bad_input = true;
			continue;
		}
		if (r.source != last_source) {
			/* inputs come in the order given; find this one's index */
			while (src < o->nfiles && o->files[src] != r.source)
				src++;
			last_source = r.source;
		}
		buf_reset(&err);
		struct env_msg env = {.partition = -1, .timestamp = -1};
		if (r.err) {
			buf_puts(&err, r.err);
		} else if (o->raw) {
			split_raw(o, r.p, r.n, &env);
		} else {
			struct value v;
			struct json_error je;
			char e[256];
			arena_reset(&arena);
			if (json_parse(&arena, r.p, r.n, &v, &je)) {
				buf_printf(&err, "bad envelope: %s at byte %zu", je.msg, je.offset + 1);
			} else if (rec_is_control(&v, NULL)) {
				if (pr.txn)
					txn_control(&pr, &v);
				continue; /* not a message */
			} else if (pr.txn && pr.last_seen < pr.committed) {
				pr.replayed++; /* in a barrier this sink committed before */
				continue;
			} else if (!env_read(&v, &arena, &env, e, sizeof e)) {
				buf_printf(&err, "bad envelope: %s", e);
			} else if (!env.key && !value_get(&v, "key", 3) && !value_get(&v, "key_b64", 7) && o->key) {
				env.key = o->key;
				env.key_len = strlen(o->key);
			}
		}
		if (!err.len && send_one(&pr, &env, ORIGIN(src, r.number), &err))
			pr.pending++;
		if (err.len) {
			buf_reset(&pos);
			where(&pos, &r);
			warnx("%s: %s: skipped", buf_cstr(&pos), buf_cstr(&err));
			bad_input = true;
		}
	}
	lines_close(in);
	arena_free(&arena);
	buf_free(&err);
	buf_free(&pos);
	if (pr.txn) {
		if (pr.replayed)
			verbose(1, "%lld records of committed barriers not produced again", (long long)pr.replayed);
		if (pr.checkpointed) {
			/* records after the last barrier belong to a barrier that
			 * never came: the source replays them after a restart */
			txn_ok(rd_kafka_abort_transaction(pr.rk, -1), "abort the open transaction");
		} else {
			txn_ok(rd_kafka_commit_transaction(pr.rk, -1), "commit the transaction");
		}
	}
	/* every message gets its report, delivered or failed (after at most
	 * message.timeout.ms); none is left behind */
	while (rd_kafka_outq_len(pr.rk) > 0)
		rd_kafka_flush(pr.rk, 1000);
	rd_kafka_poll(pr.rk, 0);
	if (pr.failed)
		warnx("%lld of %lld messages were not delivered", (long long)pr.failed, (long long)pr.sent);
	if (pr.extra)
		rd_kafka_headers_destroy(pr.extra);
	for (size_t i = 0; i < pr.ntopics; i++) {
		rd_kafka_topic_destroy(pr.topics[i].rkt);
		free(pr.topics[i].name);
	}
	free(pr.topics);
	x->rk = pr.rk;
	return pr.failed || bad_input ? EXIT_NEGATIVE : EXIT_OK;
}

/* ---- -L ---- */

static int cmp_md_topic(const void *a, const void *b)
{
	return strcmp(((const rd_kafka_metadata_topic_t *)a)->topic, ((const rd_kafka_metadata_topic_t *)b)->topic);
}

static int cmp_md_part(const void *a, const void *b)
{
	int32_t x = ((const rd_kafka_metadata_partition_t *)a)->id, y = ((const rd_kafka_metadata_partition_t *)b)->id;
	return (x > y) - (x < y);
}

static int cmp_md_broker(const void *a, const void *b)
{
	int32_t x = ((const rd_kafka_metadata_broker_t *)a)->id, y = ((const rd_kafka_metadata_broker_t *)b)->id;
	return (x > y) - (x < y);
}

static void put_ids(struct buf *b, const int32_t *ids, int n)
{
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s%d", i ? "," : "", (int)ids[i]);
}

static void list_topic(struct buf *b, rd_kafka_metadata_topic_t *t, bool json, bool first)
{
	qsort(t->partitions, (size_t)t->partition_cnt, sizeof *t->partitions, cmp_md_part);
	if (json) {
		buf_puts(b, first ? "{\"topic\":" : ",{\"topic\":");
		json_write_string(b, t->topic, strlen(t->topic));
		buf_puts(b, ",\"error\":");
		if (t->err)
			json_write_string(b, rd_kafka_err2str(t->err), strlen(rd_kafka_err2str(t->err)));
		else
			buf_puts(b, "null");
		buf_puts(b, ",\"partitions\":[");
		for (int j = 0; j < t->partition_cnt; j++) {
			const rd_kafka_metadata_partition_t *p = &t->partitions[j];
			buf_printf(b, "%s{\"partition\":%d,\"leader\":%d,\"replicas\":[", j ? "," : "", (int)p->id,
				   (int)p->leader);
			put_ids(b, p->replicas, p->replica_cnt);
			buf_puts(b, "],\"isrs\":[");
			put_ids(b, p->isrs, p->isr_cnt);
			buf_puts(b, "],\"error\":");
			if (p->err)
				json_write_string(b, rd_kafka_err2str(p->err), strlen(rd_kafka_err2str(p->err)));
			else
				buf_puts(b, "null");
			buf_putc(b, '}');
		}
		buf_puts(b, "]}");
		return;
	}
	buf_printf(b, "  topic \"%s\" with %d partitions:", t->topic, t->partition_cnt);
	if (t->err)
		buf_printf(b, " %s", rd_kafka_err2str(t->err));
	buf_putc(b, '\n');
	for (int j = 0; j < t->partition_cnt; j++) {
		const rd_kafka_metadata_partition_t *p = &t->partitions[j];
		buf_printf(b, "    partition %d, leader %d, replicas: ", (int)p->id, (int)p->leader);
		put_ids(b, p->replicas, p->replica_cnt);
		buf_puts(b, ", isrs: ");
		put_ids(b, p->isrs, p->isr_cnt);
		if (p->err)
			buf_printf(b, ", %s", rd_kafka_err2str(p->err));
		buf_putc(b, '\n');
	}
}

static int run_list(struct ingest *x)
{
	const struct options *o = x->o;
	x->rk = kafka_new(RD_KAFKA_PRODUCER, make_conf(o, &x->kc, x));
	size_t nq = o->ntopics ? o->ntopics : 1;
	const rd_kafka_metadata_t **mds = xcalloc(nq, sizeof *mds);
	for (size_t i = 0; i < nq; i++)
		mds[i] = get_metadata(x->rk, o->ntopics ? o->topics[i] : NULL, o->timeout_ms, o->brokers);
	/* brokers as the first answer saw them; topics from every answer */
	rd_kafka_metadata_t *md0 = (rd_kafka_metadata_t *)mds[0];
	qsort(md0->brokers, (size_t)md0->broker_cnt, sizeof *md0->brokers, cmp_md_broker);
	int ntop = 0;
	for (size_t i = 0; i < nq; i++)
		ntop += mds[i]->topic_cnt;
	rd_kafka_metadata_topic_t *all = xcalloc((size_t)ntop ? (size_t)ntop : 1, sizeof *all);
	ntop = 0;
	for (size_t i = 0; i < nq; i++)
		for (int j = 0; j < mds[i]->topic_cnt; j++)
			all[ntop++] = mds[i]->topics[j];
	qsort(all, (size_t)ntop, sizeof *all, cmp_md_topic);
	bool any_error = false;
	struct buf b = BUF_INIT;
	if (o->json) {
		buf_puts(&b, "{\"originating_broker\":{\"id\":");
		buf_printf(&b, "%d,\"name\":", (int)md0->orig_broker_id);
		json_write_string(&b, md0->orig_broker_name, strlen(md0->orig_broker_name));
		buf_puts(&b, "},\"brokers\":[");
		for (int i = 0; i < md0->broker_cnt; i++) {
			buf_printf(&b, "%s{\"id\":%d,\"host\":", i ? "," : "", (int)md0->brokers[i].id);
			json_write_string(&b, md0->brokers[i].host, strlen(md0->brokers[i].host));
			buf_printf(&b, ",\"port\":%d}", md0->brokers[i].port);
		}
		buf_puts(&b, "],\"topics\":[");
	} else {
		buf_printf(&b, "Metadata for %s (from broker %d: %s):\n", o->ntopics ? "the topics given" : "all topics",
			   (int)md0->orig_broker_id, md0->orig_broker_name);
		buf_printf(&b, " %d brokers:\n", md0->broker_cnt);
		for (int i = 0; i < md0->broker_cnt; i++)
			buf_printf(&b, "  broker %d at %s:%d\n", (int)md0->brokers[i].id, md0->brokers[i].host,
				   md0->brokers[i].port);
		buf_printf(&b, " %d topics:\n", ntop);
	}
	for (int i = 0; i < ntop; i++) {
		list_topic(&b, &all[i], o->json, i == 0);
		if (all[i].err)
			any_error = true;
	}
	if (o->json)
		buf_puts(&b, "]}\n");
	fwrite(b.p, 1, b.len, stdout);
	buf_free(&b);
	free(all);
	for (size_t i = 0; i < nq; i++)
		rd_kafka_metadata_destroy(mds[i]);
	free(mds);
	return any_error ? EXIT_NEGATIVE : EXIT_OK;
}

/* ---- -Q ---- */

/* TOPIC[:PARTITION]:TIME, TIME being ms, ISO-8601, beginning or end */
static void parse_query(const char *s, char **topic, int32_t *part, int64_t *ms)
{
	const char *c = strchr(s, ':');
	if (!c || c == s)
		die(EXIT_TROUBLE, "bad query: '%s' (want TOPIC[:PARTITION]:TIME)", s);
	*topic = xstrndup(s, (size_t)(c - s));
	const char *rest = c + 1;
	*part = -1;
	size_t digits = strspn(rest, "0123456789");
	if (digits && rest[digits] == ':') {
		char *p = xstrndup(rest, digits);
		*part = (int32_t)parse_int(p, "partition", 0, INT32_MAX);
		free(p);
		rest += digits + 1;
	}
	if (!strcmp(rest, "beginning"))
		*ms = RD_KAFKA_OFFSET_BEGINNING;
	else if (!strcmp(rest, "end"))
		*ms = RD_KAFKA_OFFSET_END;
	else if (!parse_time_ms(rest, ms))
		die(EXIT_TROUBLE, "bad query time: '%s'", rest);
}

/* One lookup per query: a partition named twice in one request gets one
 * answer for both. */
static int run_query(struct ingest *x)
{
	const struct options *o = x->o;
	/* a malformed query is a usage error before any connection is tried
	 * (whose failures librdkafka would log meanwhile) */
	for (size_t i = 0; i < o->ntopics; i++) {
		char *topic;
		int32_t part;
		int64_t ms;
		parse_query(o->topics[i], &topic, &part, &ms);
		free(topic);
	}
	x->rk = kafka_new(RD_KAFKA_PRODUCER, make_conf(o, &x->kc, x));
	int status = EXIT_OK;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < o->ntopics; i++) {
		char *topic;
		int32_t part;
		int64_t ms;
		parse_query(o->topics[i], &topic, &part, &ms);
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
		const rd_kafka_metadata_t *md = get_metadata(x->rk, topic, o->timeout_ms, o->brokers);
		if (md->topic_cnt != 1 || md->topics[0].err)
			die(EXIT_NEGATIVE, "topic '%s': %s", topic,
			    rd_kafka_err2str(md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
		int nparts = md->topics[0].partition_cnt;
		if (part >= nparts)
			die(EXIT_NEGATIVE, "topic '%s' has no partition %d (it has %d)", topic, (int)part, nparts);
		if (part >= 0) {
			rd_kafka_topic_partition_list_add(l, topic, part)->offset = ms;
		} else {
			rd_kafka_metadata_partition_t *ps = md->topics[0].partitions;
			qsort(ps, (size_t)nparts, sizeof *ps, cmp_md_part);
			for (int j = 0; j < nparts; j++)
				rd_kafka_topic_partition_list_add(l, topic, ps[j].id)->offset = ms;
		}
		rd_kafka_metadata_destroy(md);
		rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(x->rk, l, o->timeout_ms);
		if (e && e != RD_KAFKA_RESP_ERR__PARTIAL)
			die(EXIT_NEGATIVE, "cannot look up offsets: %s", rd_kafka_err2str(e));
		for (int j = 0; j < l->cnt; j++) {
			const rd_kafka_topic_partition_t *p = &l->elems[j];
			if (p->err) {
				warnx("topic '%s' partition %d: %s", p->topic, (int)p->partition, rd_kafka_err2str(p->err));
				status = EXIT_NEGATIVE;
				continue;
			}
			if (o->json) {
				buf_puts(&b, "{\"topic\":");
				json_write_string(&b, p->topic, strlen(p->topic));
				buf_printf(&b, ",\"partition\":%d,\"time\":%lld,\"offset\":%lld}\n", (int)p->partition,
					   (long long)ms, (long long)p->offset);
			} else {
				buf_printf(&b, "%s %d %lld %lld\n", p->topic, (int)p->partition, (long long)ms,
					   (long long)p->offset);
			}
		}
		rd_kafka_topic_partition_list_destroy(l);
		free(topic);
	}
	fwrite(b.p, 1, b.len, stdout);
	buf_free(&b);
	return status;
}

/* ---- main ---- */

static void set_mode(struct options *o, enum mode m)
{
	if (o->mode != M_NONE && o->mode != m)
		usage_error(help, "give only one of -C, -G, -P, -L, -Q, -B");
	o->mode = m;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"consume", no_argument, NULL, 'C'},
		{"group", required_argument, NULL, 'G'},
		{"produce", no_argument, NULL, 'P'},
		{"list", no_argument, NULL, 'L'},
		{"query", no_argument, NULL, 'Q'},
		{"backfill", no_argument, NULL, 'B'},
		{"brokers", required_argument, NULL, 'b'},
		{"topic", required_argument, NULL, 't'},
		{"partition", required_argument, NULL, 'p'},
		{"offset", required_argument, NULL, 'o'},
		{"exit", no_argument, NULL, 'e'},
		{"count", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 'm'},
		{"raw", no_argument, NULL, 'r'},
		{"delimiter", required_argument, NULL, 'D'},
		{"key-delimiter", required_argument, NULL, 'K'},
		{"key", required_argument, NULL, 'k'},
		{"header", required_argument, NULL, 'H'},
		{"compression", required_argument, NULL, 'z'},
		{"null-empty", no_argument, NULL, 'Z'},
		{"json", no_argument, NULL, 'J'},
		{"property", required_argument, NULL, 'X'},
		{"config", required_argument, NULL, 'F'},
		{"debug", required_argument, NULL, 'd'},
		{"checkpoint-interval", required_argument, NULL, OPT_CHECKPOINT},
		{"framed", no_argument, NULL, OPT_FRAMED},
		{"resume-from", required_argument, NULL, OPT_RESUME_FROM},
		{"app-id", required_argument, NULL, OPT_APP_ID},
		{"ordered", no_argument, NULL, OPT_ORDERED},
		{"checkpoint-topic", required_argument, NULL, OPT_CHECKPOINT_TOPIC},
		{"idle", required_argument, NULL, OPT_IDLE},
		{"end-of-stream", no_argument, NULL, OPT_END_OF_STREAM},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	o->end_ts = -1;
	o->count = -1;
	o->timeout_ms = 5000;
	buf_putc(&o->delim, '\n');
	int c;
	while ((c = getopt_long(argc, argv, "CG:PLQBb:t:p:o:ec:m:rD:K:k:H:z:ZJX:F:d:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'C': set_mode(o, M_CONSUME); break;
		case 'G': set_mode(o, M_GROUP); o->group = optarg; break;
		case 'P': set_mode(o, M_PRODUCE); break;
		case 'L': set_mode(o, M_LIST); break;
		case 'Q': set_mode(o, M_QUERY); break;
		case 'B': set_mode(o, M_BACKFILL); break;
		case 'b': o->brokers = optarg; break;
		case 't':
			o->topics = xrealloc(o->topics, (o->ntopics + 1) * sizeof *o->topics);
			o->topics[o->ntopics++] = optarg;
			break;
		case 'p':
			o->partitions = xrealloc(o->partitions, (o->npartitions + 1) * sizeof *o->partitions);
			o->partitions[o->npartitions++] = (int32_t)parse_int(optarg, "partition", 0, INT32_MAX);
			break;
		case 'o': parse_offset(o, optarg); break;
		case 'e': o->exit_eof = true; break;
		case 'c': o->count = parse_int(optarg, "count", 0, INT64_MAX); break;
		case 'm': {
			int64_t us = parse_duration(optarg, "timeout");
			if (us < 1000 || us > 3600e6)
				die(EXIT_TROUBLE, "timeout out of range: '%s' (1ms to 1h)", optarg);
			o->timeout_ms = (int)(us / 1000);
			break;
		}
		case 'r': o->raw = true; break;
		case 'D': parse_delim(optarg, &o->delim, "delimiter"); o->raw = true; break;
		case 'K': parse_delim(optarg, &o->key_delim, "key delimiter"); o->raw = true; break;
		case 'k': o->key = optarg; break;
		case 'H':
			if (optarg[0] == '=' || !optarg[0])
				die(EXIT_TROUBLE, "bad header: '%s' (want NAME[=VALUE])", optarg);
			o->headers = xrealloc(o->headers, (o->nheaders + 1) * sizeof *o->headers);
			o->headers[o->nheaders++] = optarg;
			break;
		case 'z': o->codec = optarg; break;
		case 'Z': o->null_empty = true; break;
		case 'J': o->json = true; break;
		case 'X':
			if (!strcmp(optarg, "list"))
				o->conf_list = true;
			else if (!strcmp(optarg, "dump"))
				o->conf_dump = true;
			else
				add_conf_arg(o, 'X', optarg);
			break;
		case 'F': add_conf_arg(o, 'F', optarg); break;
		case 'd': {
			struct buf b = BUF_INIT;
			buf_printf(&b, "debug=%s", optarg);
			add_conf_arg(o, 'X', buf_cstr(&b));
			buf_free(&b);
			break;
		}
		case OPT_CHECKPOINT: parse_checkpoint_interval(optarg, &o->cp_records, &o->cp_us); break;
		case OPT_FRAMED: o->framed = true; break;
		case OPT_RESUME_FROM: o->resume_from = optarg; break;
		case OPT_APP_ID: o->app_id = optarg; break;
		case OPT_ORDERED: o->ordered = true; break;
		case OPT_CHECKPOINT_TOPIC: o->checkpoint_topic = optarg; break;
		case OPT_END_OF_STREAM: o->end_of_stream = true; break;
		case OPT_IDLE:
			o->idle_us = parse_duration(optarg, "--idle");
			if (o->idle_us <= 0)
				die(EXIT_TROUBLE, "invalid --idle: '%s'", optarg);
			break;
		case 'v': diag_verbose++; break;
		default: opt_common(c, help);
		}
	}
	/* positional arguments: topics for -G, files for -P and -B */
	for (; optind < argc; optind++) {
		if (o->mode == M_GROUP) {
			o->topics = xrealloc(o->topics, (o->ntopics + 1) * sizeof *o->topics);
			o->topics[o->ntopics++] = argv[optind];
		} else if (o->mode == M_PRODUCE || o->mode == M_BACKFILL) {
			o->files = xrealloc(o->files, (o->nfiles + 1) * sizeof *o->files);
			o->files[o->nfiles++] = argv[optind];
		} else {
			usage_error(help, "unexpected argument: '%s'", argv[optind]);
		}
	}
}

static void validate(const struct options *o, const struct kconf *kc)
{
	if (o->conf_list || o->conf_dump)
		return;
	if (o->mode == M_NONE)
		usage_error(help, "give a mode: -C, -G, -P, -L, -Q or -B");
	if (o->mode != M_BACKFILL && !o->brokers && !kconf_get(kc, "bootstrap.servers"))
		usage_error(help, "no brokers: give -b or bootstrap.servers");
	if ((o->mode == M_CONSUME || o->mode == M_QUERY || o->mode == M_GROUP) && !o->ntopics)
		usage_error(help, o->mode == M_GROUP ? "no topics to subscribe to" : "no topic: give -t");
	bool consuming = o->mode == M_CONSUME || o->mode == M_GROUP || o->mode == M_BACKFILL;
	if ((o->cp_records || o->cp_us) && !consuming)
		usage_error(help, "--checkpoint-interval is for -C, -G and -B");
	if ((o->cp_records || o->cp_us) && o->raw && o->mode != M_BACKFILL)
		usage_error(help, "--checkpoint-interval needs envelopes, not --raw");
	if (o->resume_from && !consuming)
		usage_error(help, "--resume-from is for -C, -G and -B");
	if (o->app_id && !consuming && o->mode != M_PRODUCE)
		usage_error(help, "--app-id is for -C, -G, -B and -P");
	if (o->mode != M_PRODUCE && !o->resume_from != !o->app_id)
		usage_error(help, "--resume-from and --app-id go together");
	if (o->mode == M_PRODUCE && !o->app_id != !o->checkpoint_topic)
		usage_error(help, "-P: --app-id and --checkpoint-topic go together");
	if (o->checkpoint_topic && o->mode != M_PRODUCE)
		usage_error(help, "--checkpoint-topic is for -P");
	if (o->app_id && !*o->app_id)
		usage_error(help, "--app-id must not be empty");
	if (o->resume_from && !o->cp_records && !o->cp_us)
		usage_error(help, "--resume-from needs --checkpoint-interval: only barriers are committed");
	if (o->ordered && o->mode != M_CONSUME)
		usage_error(help, "--ordered is for -C");
	if (o->idle_us && !o->ordered)
		usage_error(help, "--idle goes with --ordered");
	if (o->end_of_stream && (!consuming || (!o->cp_records && !o->cp_us)))
		usage_error(help, "--end-of-stream is for -C, -G and -B with --checkpoint-interval");
	if (o->end_of_stream && o->mode != M_BACKFILL && !o->exit_eof && o->count < 0 && o->end_ts < 0)
		usage_error(help, "--end-of-stream needs an end: -e, -c or -o e@TIME");
	if (o->framed && !consuming)
		usage_error(help, "--framed is for -C, -G and -B");
	if (o->framed && o->raw && o->mode != M_BACKFILL)
		usage_error(help, "--framed and --raw exclude each other");
	if (o->mode == M_PRODUCE && (o->ntopics > 1 || o->npartitions > 1))
		usage_error(help, "-P takes at most one -t and one -p");
	if (o->mode == M_GROUP && o->npartitions)
		usage_error(help, "-p does not go with -G: the group assigns partitions");
	if (o->mode != M_CONSUME && o->mode != M_GROUP && (o->start != S_DEFAULT || o->end_ts >= 0 || o->exit_eof))
		usage_error(help, "-o and -e are for -C and -G");
	if (o->start == S_STORED && o->mode != M_GROUP)
		usage_error(help, "-o stored needs -G");
	if ((o->nheaders || o->codec || o->null_empty) && o->mode != M_PRODUCE)
		usage_error(help, "-H, -z and -Z are for -P");
	if (o->key && o->mode != M_PRODUCE && !(o->mode == M_BACKFILL && o->raw))
		usage_error(help, "-k is for -P and -B --raw");
	if (o->raw && (o->mode == M_LIST || o->mode == M_QUERY))
		usage_error(help, "--raw, -D and -K are for -C, -G, -P and -B");
	if (o->count >= 0 && !consuming)
		usage_error(help, "-c is for -C, -G and -B");
	if (o->npartitions && o->mode != M_CONSUME && o->mode != M_PRODUCE)
		usage_error(help, "-p is for -C and -P");
	if (o->ntopics && o->mode == M_BACKFILL)
		usage_error(help, "-t does not go with -B: each file is its own topic");
	if (o->json && o->mode != M_LIST && o->mode != M_QUERY)
		usage_error(help, "-J is for -L and -Q");
}

int main(int argc, char **argv)
{
	diag_init("weir-ingest");
	struct options o = {0};
	parse_args(argc, argv, &o);
	struct ingest x = {.o = &o};
	build_kconf(&o, &x.kc);
	validate(&o, &x.kc);
	if (o.conf_list) {
		rd_kafka_conf_properties_show(stdout);
		return finish_stdout(EXIT_OK);
	}
	if (o.conf_dump) {
		rd_kafka_conf_t *conf = make_conf(&o, &x.kc, NULL);
		kafka_dump_conf(conf, stdout);
		rd_kafka_conf_destroy(conf);
		return finish_stdout(EXIT_OK);
	}

	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a read of stdin must give way to the signal */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	bool consuming = o.mode == M_CONSUME || o.mode == M_GROUP || o.mode == M_BACKFILL;
	if (consuming) {
		x.out.raw = o.raw && o.mode != M_BACKFILL;
		x.out.delim = &o.delim;
		x.out.key_delim = o.key_delim.len ? &o.key_delim : NULL;
		if (!x.out.raw)
			x.out.w = rec_writer_open(1, rec_want_framed(o.framed));
		if (o.resume_from) {
			load_resume(&x);
			emit_restore(&x);
		}
	}
	int status;
	switch (o.mode) {
	case M_CONSUME: status = run_consume(&x); break;
	case M_GROUP: status = run_group(&x); break;
	case M_PRODUCE: status = run_produce(&x); break;
	case M_LIST: status = run_list(&x); break;
	case M_QUERY: status = run_query(&x); break;
	default: status = run_backfill(&x); break;
	}
	if (x.out.w)
		rec_writer_close(x.out.w);
	resume_free(&x.res);
	if (x.rk)
		kafka_destroy_bounded(x.rk, 10, status);
	return finish_stdout(status);
}
