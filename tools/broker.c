/* weir-broker - an embedded Kafka-protocol broker for development and tests.
 *
 * A thin daemon around librdkafka's mock cluster (rdkafka_mock.h): real Kafka
 * protocol on 127.0.0.1, in memory, gone when the process ends.  kcat -M does
 * the same without a way to change anything once it runs; tests need to create
 * topics and break brokers while clients are connected, so this one reads
 * commands on stdin and answers each with one line on stdout ("ok ..." or
 * "error: ...") that a test can wait for before it goes on. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "buf.h"
#include "diag.h"
#include "kafka.h"
#include "opt.h"

static const char help[] =
	"usage: weir-broker [--brokers N] [--topic NAME:PARTITIONS]... [--port-file FILE]\n"
	"       [--no-stdin] [-v]\n"
	"\n"
	"Run an in-memory Kafka-protocol broker for development and tests.\n"
	"\n"
	"  -n, --brokers N          brokers in the cluster (default 1)\n"
	"  -t, --topic NAME:PARTS   create a topic with PARTS partitions (repeatable)\n"
	"  -p, --port-file FILE     also write the bootstrap address to FILE\n"
	"  -s, --no-stdin           do not read commands; run until a signal\n"
	"  -v, --verbose            log librdkafka's mock cluster activity\n"
	"      --help               show this help\n"
	"      --version            show the version\n"
	"\n"
	"The bootstrap address (host:port,...) is the first line on stdout.  The\n"
	"broker runs until SIGTERM, SIGINT or end of stdin.  Commands on stdin, one\n"
	"per line, each answered by one line \"ok\" or \"error: ...\" on stdout:\n"
	"  topic NAME PARTITIONS        create a topic\n"
	"  down ID|all, up ID|all       stop or restart a broker's listener\n"
	"  rtt ID|all MS                delay every response\n"
	"  err API COUNT CODE...        fail the next COUNT requests of API\n"
	"  brokererr ID API CODE RTT    fail one request of API on broker ID\n"
	"  clearerr API                 drop queued errors of API\n"
	"  topicerr NAME CODE           Metadata reports CODE for a topic\n"
	"  leader NAME PART ID          move a partition's leader (-1: none)\n"
	"  follower NAME PART ID        set a partition's preferred replica\n"
	"  wmarks NAME PART LOW HIGH    the follower's watermarks\n"
	"  coordinator group|transaction KEY ID\n"
	"  apiversion API MIN MAX       limit an API's versions (-1 -1: disable)\n"
	"  rack ID|all RACK             set a broker's rack\n"
	"  ping                         answer \"ok\"\n"
	"  quit                         stop the broker\n"
	"API is a request name (Produce, Fetch, Metadata, ...) or number; CODE a\n"
	"Kafka error name (NOT_LEADER_FOR_PARTITION, _TRANSPORT, ...) or number.\n";

struct options {
	int brokers;
	char **topics; /* "NAME:PARTS" */
	size_t ntopics;
	const char *port_file;
	bool no_stdin;
};

/* Kafka protocol request types (ApiKey), by the names the protocol guide
 * uses; rdkafka_protocol.h is not installed. */
static const struct {
	const char *name;
	int16_t key;
} apis[] = {
	{"Produce", 0}, {"Fetch", 1}, {"ListOffsets", 2}, {"Metadata", 3},
	{"OffsetCommit", 8}, {"OffsetFetch", 9}, {"FindCoordinator", 10},
	{"JoinGroup", 11}, {"Heartbeat", 12}, {"LeaveGroup", 13}, {"SyncGroup", 14},
	{"DescribeGroups", 15}, {"ListGroups", 16}, {"SaslHandshake", 17},
	{"ApiVersions", 18}, {"CreateTopics", 19}, {"DeleteTopics", 20},
	{"DeleteRecords", 21}, {"InitProducerId", 22}, {"OffsetForLeaderEpoch", 23},
	{"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25}, {"EndTxn", 26},
	{"TxnOffsetCommit", 28}, {"DescribeConfigs", 32}, {"AlterConfigs", 33},
	{"SaslAuthenticate", 36}, {"CreatePartitions", 37}, {"DeleteGroups", 42},
	{"IncrementalAlterConfigs", 44}, {"OffsetDelete", 47},
};

static bool to_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_api(const char *s, int16_t *key)
{
	long long v;
	if (to_int(s, 0, 32767, &v)) {
		*key = (int16_t)v;
		return true;
	}
	for (size_t i = 0; i < sizeof apis / sizeof *apis; i++)
		if (!strcasecmp(s, apis[i].name)) {
			*key = apis[i].key;
			return true;
		}
	return false;
}

/* An error code by number or by the name rd_kafka_err2name gives, with or
 * without the RD_KAFKA_RESP_ERR_ prefix. */
static bool parse_code(const char *s, rd_kafka_resp_err_t *err)
{
	long long v;
	if (to_int(s, -200, 32767, &v)) {
		*err = (rd_kafka_resp_err_t)v;
		return true;
	}
	if (!strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18))
		s += 18;
	const struct rd_kafka_err_desc *d;
	size_t n;
	rd_kafka_get_err_descs(&d, &n);
	for (size_t i = 0; i < n; i++)
		if (d[i].name && !strcasecmp(s, d[i].name)) {
			*err = d[i].code;
			return true;
		}
	return false;
}

static bool parse_broker_id(const char *s, int brokers, int32_t *id)
{
	long long v;
	if (!strcmp(s, "all")) {
		*id = -1;
		return true;
	}
	if (!to_int(s, 1, brokers, &v))
		return false;
	*id = (int32_t)v;
	return true;
}

/* One command line; the answer goes to `reply` ("ok" or "error: ..."). */
static void run_command(rd_kafka_mock_cluster_t *mc, int brokers, char *line, struct buf *reply, bool *quit)
{
	char *argv[16] = {0};
	int argc = 0;
	for (char *tok = strtok(line, " \t"); tok; tok = strtok(NULL, " \t")) {
		if (argc == (int)(sizeof argv / sizeof *argv)) {
			buf_puts(reply, "error: too many arguments");
			return;
		}
		argv[argc++] = tok;
	}
	if (!argc)
		return;
	const char *cmd = argv[0];
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	int32_t id;
	int16_t api;
	long long a, b;
	rd_kafka_resp_err_t code;

#define NEED(n, usage)                                                     \
	do {                                                               \
		if (argc != (n)) {                                         \
			buf_printf(reply, "error: usage: %s", usage);      \
			return;                                            \
		}                                                          \
	} while (0)
#define BAD(what, arg)                                                     \
	do {                                                               \
		buf_printf(reply, "error: bad %s: '%s'", what, arg);       \
		return;                                                    \
	} while (0)

	if (!strcmp(cmd, "ping")) {
		NEED(1, "ping");
	} else if (!strcmp(cmd, "quit")) {
		NEED(1, "quit");
		*quit = true;
	} else if (!strcmp(cmd, "topic")) {
		NEED(3, "topic NAME PARTITIONS");
		if (!to_int(argv[2], 1, 100000, &a))
			BAD("partition count", argv[2]);
		err = rd_kafka_mock_topic_create(mc, argv[1], (int)a, brokers < 3 ? brokers : 3);
	} else if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
		NEED(2, "down|up ID|all");
		if (!parse_broker_id(argv[1], brokers, &id))
			BAD("broker id", argv[1]);
		err = cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(mc, id) : rd_kafka_mock_broker_set_up(mc, id);
	} else if (!strcmp(cmd, "rtt")) {
		NEED(3, "rtt ID|all MS");
		if (!parse_broker_id(argv[1], brokers, &id))
			BAD("broker id", argv[1]);
		if (!to_int(argv[2], 0, 3600000, &a))
			BAD("round-trip time", argv[2]);
		err = rd_kafka_mock_broker_set_rtt(mc, id, (int)a);
	} else if (!strcmp(cmd, "err")) {
		if (argc < 4) {
			buf_puts(reply, "error: usage: err API COUNT CODE...");
			return;
		}
		if (!parse_api(argv[1], &api))
			BAD("API", argv[1]);
		if (!to_int(argv[2], 1, 100000, &a))
			BAD("count", argv[2]);
		/* COUNT requests fail with the codes given, the last one
		 * repeated: "err Produce 3 _TRANSPORT" fails three. */
		if (argc - 3 > a) {
			buf_puts(reply, "error: more codes than COUNT");
			return;
		}
		rd_kafka_resp_err_t *codes = xmalloc((size_t)a * sizeof *codes);
		for (int i = 3; i < argc; i++)
			if (!parse_code(argv[i], &codes[i - 3])) {
				free(codes);
				BAD("error code", argv[i]);
			}
		for (long long i = argc - 3; i < a; i++)
			codes[i] = codes[argc - 4];
		rd_kafka_mock_push_request_errors_array(mc, api, (size_t)a, codes);
		free(codes);
	} else if (!strcmp(cmd, "brokererr")) {
		NEED(5, "brokererr ID API CODE RTT");
		if (!parse_broker_id(argv[1], brokers, &id) || id < 0)
			BAD("broker id", argv[1]);
		if (!parse_api(argv[2], &api))
			BAD("API", argv[2]);
		if (!parse_code(argv[3], &code))
			BAD("error code", argv[3]);
		if (!to_int(argv[4], 0, 3600000, &a))
			BAD("round-trip time", argv[4]);
		err = rd_kafka_mock_broker_push_request_error_rtts(mc, id, api, 1, code, (int)a);
	} else if (!strcmp(cmd, "clearerr")) {
		NEED(2, "clearerr API");
		if (!parse_api(argv[1], &api))
			BAD("API", argv[1]);
		rd_kafka_mock_clear_request_errors(mc, api);
	} else if (!strcmp(cmd, "topicerr")) {
		NEED(3, "topicerr NAME CODE");
		if (!parse_code(argv[2], &code))
			BAD("error code", argv[2]);
		rd_kafka_mock_topic_set_error(mc, argv[1], code);
	} else if (!strcmp(cmd, "leader") || !strcmp(cmd, "follower")) {
		NEED(4, "leader|follower NAME PARTITION ID");
		if (!to_int(argv[2], 0, 100000, &a))
			BAD("partition", argv[2]);
		if (!to_int(argv[3], -1, cmd[0] == 'l' ? brokers : INT32_MAX, &b))
			BAD("broker id", argv[3]);
		err = cmd[0] == 'l' ? rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)a, (int32_t)b)
				    : rd_kafka_mock_partition_set_follower(mc, argv[1], (int32_t)a, (int32_t)b);
	} else if (!strcmp(cmd, "wmarks")) {
		NEED(5, "wmarks NAME PARTITION LOW HIGH");
		long long lo, hi;
		if (!to_int(argv[2], 0, 100000, &a))
			BAD("partition", argv[2]);
		if (!to_int(argv[3], -1, INT64_MAX, &lo))
			BAD("offset", argv[3]);
		if (!to_int(argv[4], -1, INT64_MAX, &hi))
			BAD("offset", argv[4]);
		err = rd_kafka_mock_partition_set_follower_wmarks(mc, argv[1], (int32_t)a, lo, hi);
	} else if (!strcmp(cmd, "coordinator")) {
		NEED(4, "coordinator group|transaction KEY ID");
		if (strcmp(argv[1], "group") && strcmp(argv[1], "transaction"))
			BAD("coordinator type", argv[1]);
		if (!to_int(argv[3], -1, INT32_MAX, &a))
			BAD("broker id", argv[3]);
		err = rd_kafka_mock_coordinator_set(mc, argv[1], argv[2], (int32_t)a);
	} else if (!strcmp(cmd, "apiversion")) {
		NEED(4, "apiversion API MIN MAX");
		if (!parse_api(argv[1], &api))
			BAD("API", argv[1]);
		if (!to_int(argv[2], -1, 100, &a))
			BAD("version", argv[2]);
		if (!to_int(argv[3], -1, 100, &b))
			BAD("version", argv[3]);
		err = rd_kafka_mock_set_apiversion(mc, api, (int16_t)a, (int16_t)b);
	} else if (!strcmp(cmd, "rack")) {
		NEED(3, "rack ID|all RACK");
		if (!parse_broker_id(argv[1], brokers, &id))
			BAD("broker id", argv[1]);
		err = rd_kafka_mock_broker_set_rack(mc, id, argv[2]);
	} else {
		buf_printf(reply, "error: unknown command: '%s'", cmd);
		return;
	}
#undef NEED
#undef BAD
	if (err)
		buf_printf(reply, "error: %s: %s", cmd, rd_kafka_err2str(err));
	else
		buf_puts(reply, "ok");
}

/* Every line must reach the test that waits for it, and a broken stdout is
 * a system error like in every other tool. */
static void say(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(1, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die_errno(EXIT_TROUBLE, "write failure on standard output");
		}
		s += w;
		n -= (size_t)w;
	}
}

static void write_port_file(const char *path, const char *addr)
{
	/* written under a temporary name and renamed, so a reader that sees
	 * the file sees all of it */
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(buf_cstr(&tmp), "w");
	if (!f)
		die_errno(EXIT_TROUBLE, "cannot write port file '%s'", path);
	fprintf(f, "%s\n", addr);
	if (fclose(f) != 0 || rename(buf_cstr(&tmp), path) != 0) {
		int e = errno;
		unlink(buf_cstr(&tmp));
		errno = e;
		die_errno(EXIT_TROUBLE, "cannot write port file '%s'", path);
	}
	buf_free(&tmp);
}

/* Serve commands until stdin ends, "quit", or a signal (via signalfd, so a
 * signal can never land in the middle of a mock call). */
static void serve(rd_kafka_mock_cluster_t *mc, const struct options *o, int sigfd)
{
	struct buf in = BUF_INIT, reply = BUF_INIT;
	bool quit = false, eof = o->no_stdin;
	while (!quit) {
		struct pollfd pf[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
		if (poll(pf, eof ? 1 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die_errno(EXIT_TROUBLE, "poll");
		}
		if (pf[0].revents)
			break;
		if (eof || !pf[1].revents)
			continue;
		buf_grow(&in, 4096);
		ssize_t n = read(0, in.p + in.len, 4096);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die_errno(EXIT_TROUBLE, "read error on standard input");
		}
		if (n == 0) {
			if (!in.len)
				break;
			buf_putc(&in, '\n'); /* a last command without a newline */
			eof = true;
		}
		in.len += (size_t)n;
		char *nl;
		size_t start = 0;
		while (!quit && (nl = memchr(in.p + start, '\n', in.len - start))) {
			*nl = 0;
			char *line = in.p + start;
			start = (size_t)(nl - in.p) + 1;
			line += strspn(line, " \t\r");
			line[strcspn(line, "\r")] = 0;
			if (!*line || *line == '#')
				continue;
			verbose(1, "command: %s", line);
			buf_reset(&reply);
			run_command(mc, o->brokers, line, &reply, &quit);
			if (!strncmp(reply.p, "error", 5))
				warnx("%.*s", (int)reply.len - 7, reply.p + 7);
			buf_putc(&reply, '\n');
			say(reply.p, reply.len);
		}
		memmove(in.p, in.p + start, in.len - start);
		in.len -= start;
		if (eof)
			break;
	}
	buf_free(&in);
	buf_free(&reply);
}

static void parse_topic(const char *arg, char **name, int *parts)
{
	const char *colon = strrchr(arg, ':');
	long long v;
	if (!colon || colon == arg || !to_int(colon + 1, 1, 100000, &v))
		die(EXIT_TROUBLE, "bad topic: '%s' (want NAME:PARTITIONS)", arg);
	*name = xstrndup(arg, (size_t)(colon - arg));
	*parts = (int)v;
}

int main(int argc, char **argv)
{
	diag_init("weir-broker");
	static const struct option longopts[] = {
		{"brokers", required_argument, NULL, 'n'},
		{"topic", required_argument, NULL, 't'},
		{"port-file", required_argument, NULL, 'p'},
		{"no-stdin", no_argument, NULL, 's'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	struct options o = {.brokers = 1};
	int c;
	while ((c = getopt_long(argc, argv, "n:t:p:sv", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.brokers = (int)parse_int(optarg, "broker count", 1, 100); break;
		case 't':
			o.topics = xrealloc(o.topics, (o.ntopics + 1) * sizeof *o.topics);
			o.topics[o.ntopics++] = optarg;
			break;
		case 'p': o.port_file = optarg; break;
		case 's': o.no_stdin = true; break;
		case 'v': diag_verbose++; break;
		default: opt_common(c, help);
		}
	}
	if (optind < argc)
		usage_error(help, "unexpected argument: '%s'", argv[optind]);
	/* validate every topic before anything starts */
	char **names = xcalloc(o.ntopics, sizeof *names);
	int *parts = xcalloc(o.ntopics, sizeof *parts);
	for (size_t i = 0; i < o.ntopics; i++)
		parse_topic(o.topics[i], &names[i], &parts[i]);

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	/* a shell starts background jobs with SIGINT ignored, and an ignored
	 * signal never reaches the signalfd */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* blocked before librdkafka starts its threads, which inherit the mask */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	int sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sigfd < 0)
		die_errno(EXIT_TROUBLE, "signalfd");

	/* The cluster needs a client handle to live in; this one never
	 * connects anywhere (no bootstrap.servers), so its warning about that
	 * is noise: only errors are logged unless -v. */
	struct kconf none = {0};
	char err[512];
	rd_kafka_conf_t *conf = kafka_conf(&none, NULL, err, sizeof err);
	if (!conf)
		die(EXIT_TROUBLE, "%s", err);
	rd_kafka_t *rk = kafka_new(RD_KAFKA_PRODUCER, conf);
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, o.brokers);
	if (!mc)
		die(EXIT_TROUBLE, "cannot start the mock cluster");
	for (size_t i = 0; i < o.ntopics; i++) {
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, names[i], parts[i], o.brokers < 3 ? o.brokers : 3);
		if (e)
			die(EXIT_TROUBLE, "cannot create topic '%s': %s", names[i], rd_kafka_err2str(e));
		free(names[i]);
	}
	free(names);
	free(parts);
	free(o.topics);

	const char *addr = rd_kafka_mock_cluster_bootstraps(mc);
	struct buf line = BUF_INIT;
	buf_printf(&line, "%s\n", addr);
	say(line.p, line.len);
	buf_free(&line);
	if (o.port_file)
		write_port_file(o.port_file, addr);
	verbose(1, "listening on %s", addr);

	serve(mc, &o, sigfd);

	/* a stuck teardown must not keep a test waiting */
	kafka_watchdog(10, "mock cluster shutdown");
	rd_kafka_mock_cluster_destroy(mc);
	kafka_destroy_bounded(rk, 10, EXIT_OK);
	close(sigfd);
	/* a port file left behind would point the next reader at nothing */
	if (o.port_file)
		unlink(o.port_file);
	return EXIT_OK;
}
