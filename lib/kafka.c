/* kafka.c - see kafka.h */
#include "kafka.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"

rd_kafka_conf_t *kafka_conf(const struct kconf *c, const char *brokers, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* librdkafka logs to stderr itself; prefix nothing and keep it quiet
	 * unless asked, our own diagnostics say what failed */
	rd_kafka_conf_set(conf, "log_level", diag_verbose > 1 ? "7" : diag_verbose ? "6" : "3", NULL, 0);
	for (size_t i = 0; i < c->n; i++) {
		char e[512];
		if (rd_kafka_conf_set(conf, c->keys[i], c->vals[i], e, sizeof e) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "bad Kafka property '%s': %s", c->keys[i], e);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	if (brokers) {
		char e[512];
		if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, e, sizeof e) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "bad broker list '%s': %s", brokers, e);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	return conf;
}

rd_kafka_t *kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
	char err[512];
	rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
	if (!rk)
		die(EXIT_TROUBLE, "cannot create Kafka client: %s", err);
	return rk;
}

void kafka_dump_conf(rd_kafka_conf_t *conf, FILE *out)
{
	size_t cnt;
	const char **arr = rd_kafka_conf_dump(conf, &cnt);
	for (size_t i = 0; i + 1 < cnt; i += 2)
		fprintf(out, "%s = %s\n", arr[i], kconf_shown(arr[i], arr[i + 1]));
	rd_kafka_conf_dump_free(arr, cnt);
}

static const char *watchdog_what = "shutdown";
static int watchdog_status = EXIT_TROUBLE;

static void on_alarm(int sig)
{
	(void)sig;
	char msg[256];
	int n = snprintf(msg, sizeof msg, "%s: %s: timed out\n", diag_prog, watchdog_what);
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
	_exit(watchdog_status);
}

void kafka_watchdog(int seconds, const char *what)
{
	watchdog_what = what;
	watchdog_status = EXIT_TROUBLE;
	signal(SIGALRM, on_alarm);
	alarm((unsigned)seconds);
}

void kafka_destroy_bounded(rd_kafka_t *rk, int seconds, int status)
{
	fflush(stdout);
	watchdog_what = "Kafka client shutdown";
	watchdog_status = status;
	signal(SIGALRM, on_alarm);
	alarm((unsigned)seconds);
	rd_kafka_destroy(rk);
	alarm(0);
}
