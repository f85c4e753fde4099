/* gen-events - a deterministic clickstream for demos, tests and benchmarks.
 *
 * The same options and seed give the same bytes on every machine (own PRNG,
 * no locale, no clock unless --realtime), so a test can hold golden results
 * and a benchmark can be rerun on identical input.  Event time advances at
 * --rate events per second from --start; --late sets a fraction of events
 * back in time, --dup repeats recent events, --bad breaks some the ways
 * producers do: what watermark, window, dedup and dead-letter paths need to
 * be exercised.  Built by scripts/gen-events
 * on first use; fast enough for 10M events in a few seconds. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timeutil.h"

static const char usage[] =
	"usage: gen-events [-n COUNT] [--seed N] [--rate N] [--start TIME] [--users N]\n"
	"       [--late RATIO] [--lateness SECONDS] [--dup RATIO] [--bad RATIO]\n"
	"       [--ts iso|s|ms|us]\n"
	"       [--envelope TOPIC] [--partitions N] [--realtime]\n"
	"\n"
	"Write a deterministic clickstream as NDJSON on standard output.\n"
	"\n"
	"  -n, --count N        events to write (default 1000; 0: without end)\n"
	"      --seed N         seed of the generator (default 1)\n"
	"      --rate N         events per second of event time (default 100)\n"
	"      --start TIME     event time of the first event (ISO-8601, default\n"
	"                       2024-01-01T00:00:00Z)\n"
	"      --users N        distinct user_id values (default 1000)\n"
	"      --late RATIO     fraction of events set back in time, never before\n"
	"                       --start (default 0)\n"
	"      --lateness S     how far back at most, in seconds (default 300)\n"
	"      --dup RATIO      fraction of events that repeat a recent one (default 0)\n"
	"      --bad RATIO      fraction of malformed events: user_id not a number,\n"
	"                       ts not a time, or cut off after ts (default 0)\n"
	"      --ts FORM        ts as iso (default), or epoch s, ms, us numbers\n"
	"      --envelope TOPIC wrap events in weir-ingest's Kafka envelope\n"
	"      --partitions N   partitions of the envelope topic, by user (default 1)\n"
	"      --realtime       pace the output at --rate events per wall-clock second\n"
	"\n"
	"Events: {\"event_id\",\"user_id\",\"session\",\"ts\",\"action\",\"url\",\"amount\",\n"
	"\"country\",\"device\"}; amount is a decimal for purchases and null otherwise;\n"
	"a session ends after 30 minutes without events of its user.\n";

static struct {
	uint64_t count, seed;
	double rate, late, dup, bad, lateness;
	int64_t start, users;
	enum { TS_ISO, TS_S, TS_MS, TS_US } ts;
	const char *topic;
	int partitions;
	bool realtime;
} opt = {1000, 1, 100, 0, 0, 0, 300, 1704067200000000LL, 1000, TS_ISO, NULL, 1, false};

static uint64_t rng_state;

/* splitmix64: tiny, fast and the same everywhere */
static uint64_t next_u64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double next_unit(void)
{
	return (double)(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t below(uint64_t n)
{
	return n ? next_u64() % n : 0;
}

static char out[1 << 16];
static size_t outlen;

static void flush_out(void)
{
	size_t off = 0;
	while (off < outlen) {
		ssize_t n = write(1, out + off, outlen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EPIPE)
				perror("gen-events: write");
			exit(errno == EPIPE ? 0 : 2);
		}
		off += (size_t)n;
	}
	outlen = 0;
}

static void put(const char *s, size_t n)
{
	if (outlen + n > sizeof out)
		flush_out();
	memcpy(out + outlen, s, n);
	outlen += n;
}

static void puts_(const char *s)
{
	put(s, strlen(s));
}

static void put_u(uint64_t v)
{
	char d[24];
	int k = 0;
	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	char r[24];
	for (int i = 0; i < k; i++)
		r[i] = d[k - 1 - i];
	put(r, (size_t)k);
}

static void put_i(int64_t v)
{
	if (v < 0) {
		put("-", 1);
		put_u(-(uint64_t)v);
	} else {
		put_u((uint64_t)v);
	}
}

static void put_ts(int64_t us)
{
	char t[48];
	switch (opt.ts) {
	case TS_ISO:
		put("\"", 1);
		put(t, (size_t)format_timestamp(t, us, false));
		put("\"", 1);
		return;
	case TS_S:
		put_i(us / 1000000);
		return;
	case TS_MS:
		put_i(us / 1000);
		return;
	case TS_US:
		put_i(us);
		return;
	}
}

struct event {
	uint64_t id, user, session, product, cents;
	int64_t ts;
	int action, country, device;
	enum { GOOD, BAD_USER, BAD_TS, BAD_CUT } bad;
};

static const char *const actions[] = {"view", "click", "add_to_cart", "purchase"};
static const char *const countries[] = {"DE", "FR", "US", "GB", "JP", "BR", "IN", "NL"};
static const char *const devices[] = {"ios", "android", "web"};

/* the event as JSON, with quotes escaped when it goes inside an envelope */
static void put_event(const struct event *e, bool escaped)
{
	const char *q = escaped ? "\\\"" : "\"";
#define KEY(name) do { puts_(q); puts_(name); puts_(q); put(":", 1); } while (0)
	put("{", 1);
	KEY("event_id");
	puts_(q);
	put("e", 1);
	put_u(e->id);
	puts_(q);
	put(",", 1);
	KEY("user_id");
	if (e->bad == BAD_USER) {
		puts_(q);
		puts_("guest");
		puts_(q);
	} else {
		put_u(e->user);
	}
	put(",", 1);
	KEY("session");
	puts_(q);
	put("u", 1);
	put_u(e->user);
	put("-", 1);
	put_u(e->session);
	puts_(q);
	put(",", 1);
	KEY("ts");
	if (e->bad == BAD_TS) {
		puts_(q);
		puts_("yesterday");
		puts_(q);
	} else if (opt.ts == TS_ISO && escaped) {
		char t[48];
		puts_(q);
		put(t, (size_t)format_timestamp(t, e->ts, false));
		puts_(q);
	} else {
		put_ts(e->ts);
	}
	if (e->bad == BAD_CUT)
		return; /* the producer died mid-write */
	put(",", 1);
	KEY("action");
	puts_(q);
	puts_(actions[e->action]);
	puts_(q);
	put(",", 1);
	KEY("url");
	puts_(q);
	put("/p/", 3);
	put_u(e->product);
	puts_(q);
	put(",", 1);
	KEY("amount");
	if (e->action == 3) {
		put_u(e->cents / 100);
		char c[3] = {'.', (char)('0' + e->cents / 10 % 10), (char)('0' + e->cents % 10)};
		put(c, 3);
	} else {
		put("null", 4);
	}
	put(",", 1);
	KEY("country");
	puts_(q);
	puts_(countries[e->country]);
	puts_(q);
	put(",", 1);
	KEY("device");
	puts_(q);
	puts_(devices[e->device]);
	puts_(q);
	put("}", 1);
#undef KEY
}

static int64_t num(const char *s, const char *what, int64_t min, int64_t max)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max) {
		fprintf(stderr, "gen-events: invalid %s: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static double ratio(const char *s, const char *what, double max)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !(v >= 0 && v <= max)) {
		fprintf(stderr, "gen-events: invalid %s: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	enum { O_SEED = 256, O_RATE, O_START, O_USERS, O_LATE, O_LATENESS, O_DUP, O_BAD, O_TS, O_ENV, O_PARTS, O_RT, O_HELP };
	static const struct option longopts[] = {
		{"count", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, O_SEED},
		{"rate", required_argument, NULL, O_RATE}, {"start", required_argument, NULL, O_START},
		{"users", required_argument, NULL, O_USERS}, {"late", required_argument, NULL, O_LATE},
		{"lateness", required_argument, NULL, O_LATENESS}, {"dup", required_argument, NULL, O_DUP},
		{"bad", required_argument, NULL, O_BAD},
		{"ts", required_argument, NULL, O_TS}, {"envelope", required_argument, NULL, O_ENV},
		{"partitions", required_argument, NULL, O_PARTS}, {"realtime", no_argument, NULL, O_RT},
		{"help", no_argument, NULL, O_HELP}, {0},
	};
	int c;
	bool zone;
	while ((c = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': opt.count = (uint64_t)num(optarg, "--count", 0, INT64_MAX); break;
		case O_SEED: opt.seed = (uint64_t)num(optarg, "--seed", 0, INT64_MAX); break;
		case O_RATE: opt.rate = ratio(optarg, "--rate", 1e9); break;
		case O_START:
			if (!parse_iso_timestamp(optarg, strlen(optarg), &opt.start, &zone)) {
				fprintf(stderr, "gen-events: invalid --start: '%s'\n", optarg);
				return 2;
			}
			break;
		case O_USERS: opt.users = num(optarg, "--users", 1, 100000000); break;
		case O_LATE: opt.late = ratio(optarg, "--late", 1); break;
		case O_LATENESS: opt.lateness = ratio(optarg, "--lateness", 1e9); break;
		case O_DUP: opt.dup = ratio(optarg, "--dup", 1); break;
		case O_BAD: opt.bad = ratio(optarg, "--bad", 1); break;
		case O_TS:
			if (!strcmp(optarg, "iso")) opt.ts = TS_ISO;
			else if (!strcmp(optarg, "s")) opt.ts = TS_S;
			else if (!strcmp(optarg, "ms")) opt.ts = TS_MS;
			else if (!strcmp(optarg, "us")) opt.ts = TS_US;
			else {
				fprintf(stderr, "gen-events: --ts must be iso, s, ms or us\n");
				return 2;
			}
			break;
		case O_ENV: opt.topic = optarg; break;
		case O_PARTS: opt.partitions = (int)num(optarg, "--partitions", 1, 100000); break;
		case O_RT: opt.realtime = true; break;
		case O_HELP: fputs(usage, stdout); return fflush(stdout) ? 2 : 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc || opt.rate <= 0) {
		fputs(usage, stderr);
		return 2;
	}
	rng_state = opt.seed;
	int64_t *last_seen = calloc((size_t)opt.users, sizeof *last_seen);
	uint32_t *sessions = calloc((size_t)opt.users, sizeof *sessions);
	uint64_t *offsets = calloc((size_t)opt.partitions, sizeof *offsets);
	enum { RECENT = 256 };
	struct event recent[RECENT];
	uint64_t nrecent = 0, id = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!last_seen || !sessions || !offsets) {
		fprintf(stderr, "gen-events: out of memory\n");
		return 2;
	}
	for (uint64_t i = 0; !opt.count || i < opt.count; i++) {
		struct event e;
		if (nrecent && next_unit() < opt.dup) {
			e = recent[below(nrecent < RECENT ? nrecent : RECENT)];
		} else {
			e.id = ++id;
			e.ts = opt.start + (int64_t)llround((double)(e.id - 1) * 1e6 / opt.rate);
			/* a few users are much busier than the rest, as in real traffic */
			uint64_t u = next_unit() < 0.2 ? below((uint64_t)opt.users / 50 + 1) : below((uint64_t)opt.users);
			e.user = u + 1;
			if (e.ts - last_seen[u] > 30LL * 60 * 1000000 || !sessions[u])
				sessions[u]++;
			last_seen[u] = e.ts;
			e.session = sessions[u];
			double a = next_unit();
			e.action = a < 0.6 ? 0 : a < 0.85 ? 1 : a < 0.95 ? 2 : 3;
			e.product = below(5000) + 1;
			e.cents = below(50000) + 99;
			e.country = (int)below(8);
			e.device = (int)below(3);
			/* a late event happened a while ago, but not before the
			 * stream began: nothing precedes --start */
			if (opt.late > 0 && next_unit() < opt.late) {
				e.ts -= (int64_t)(next_unit() * opt.lateness * 1e6) + 1;
				if (e.ts < opt.start)
					e.ts = opt.start;
			}
			e.bad = GOOD;
			if (opt.bad > 0 && next_unit() < opt.bad)
				e.bad = (int)below(3) + BAD_USER;
			recent[nrecent++ % RECENT] = e;
		}
		if (opt.topic) {
			int p = (int)(e.user % (uint64_t)opt.partitions);
			put("{\"topic\":\"", 10);
			puts_(opt.topic);
			put("\",\"partition\":", 14);
			put_u((uint64_t)p);
			put(",\"offset\":", 10);
			put_u(offsets[p]++);
			put(",\"timestamp\":", 13);
			put_i(e.ts / 1000 + 5); /* the broker saw it a little after it happened */
			put(",\"timestamp_type\":\"create\",\"key\":\"", 34);
			put_u(e.user);
			put("\",\"value\":\"", 11);
			put_event(&e, true);
			put("\"}\n", 3);
		} else {
			put_event(&e, false);
			put("\n", 1);
		}
		if (opt.realtime) {
			flush_out();
			double due = (double)(i + 1) / opt.rate;
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			double el = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
			if (due > el) {
				struct timespec d = {(time_t)(due - el), (long)((due - el - (double)(time_t)(due - el)) * 1e9)};
				nanosleep(&d, NULL);
			}
		}
	}
	flush_out();
	return 0;
}
