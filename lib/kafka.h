/* kafka.h - librdkafka handles built the same way in every tool: properties
 * from struct kconf, bootstrap servers from -b, errors as text, and a bounded
 * shutdown because rd_kafka_destroy can hang after broker faults
 * (notes/kafka.md §2). */
#ifndef WEIR_KAFKA_H
#define WEIR_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "kconf.h"

/* A configuration from `c` with bootstrap.servers = brokers (when not NULL).
 * Returns NULL with the librdkafka message in err on a rejected property. */
rd_kafka_conf_t *kafka_conf(const struct kconf *c, const char *brokers, char *err, size_t errlen);
/* rd_kafka_new with a conf from kafka_conf; dies (status 2) on failure. */
rd_kafka_t *kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf);
/* Print the effective configuration, secrets redacted (-X dump). */
void kafka_dump_conf(rd_kafka_conf_t *conf, FILE *out);
/* Destroy a handle, but give up after `seconds` and _exit(status) rather than
 * hang in librdkafka's teardown. */
void kafka_destroy_bounded(rd_kafka_t *rk, int seconds, int status);
/* Arm a watchdog: if the process is still running after `seconds`, print
 * "what: timed out" and _exit(2).  0 disarms. */
void kafka_watchdog(int seconds, const char *what);

#endif
