/* envelope.h - the Kafka envelope: one Kafka message as one record
 * (ARCHITECTURE §2, specified in weir-records(5) "KAFKA ENVELOPE").
 *
 *   {"topic":"t","partition":0,"offset":42,"timestamp":1700000000123,
 *    "timestamp_type":"create","key":"k",
 *    "headers":[{"name":"h","value":"v"},{"name":"n","value":null}],
 *    "value":"..."}
 *
 * Everything a message has survives: keys, values, header names and header
 * values that are not valid UTF-8 are written base64-encoded under the field
 * name with "_b64" appended ("key_b64", "value_b64", "name_b64") instead of
 * the plain one, so no byte is ever replaced.  Null key or value is JSON
 * null; "headers" is left out when a message has none. */
#ifndef WEIR_ENVELOPE_H
#define WEIR_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "value.h"

enum env_tstype { ENV_TS_NONE, ENV_TS_CREATE, ENV_TS_LOG_APPEND };

struct env_header {
	const char *name;
	size_t name_len;
	const void *value; /* NULL: null value */
	size_t value_len;
};

struct env_msg {
	const char *topic; /* NUL-terminated; NULL when absent (reading) */
	int32_t partition; /* -1 when absent */
	int64_t offset;    /* -1 when absent */
	int64_t timestamp; /* milliseconds since the epoch; -1 when absent */
	enum env_tstype tstype;
	const void *key;   /* NULL: null key */
	size_t key_len;
	const void *value; /* NULL: null value */
	size_t value_len;
	struct env_header *headers;
	size_t nheaders;
};

/* Append m as one JSON object (no newline). */
void env_write(struct buf *b, const struct env_msg *m);

/* Read an envelope record into m; bytes that need decoding (base64, values
 * given as JSON other than a string) go to the arena, the rest points into
 * obj.  Fields: topic, partition, timestamp (milliseconds, or an ISO-8601
 * string), key/key_b64, headers, value/value_b64; offset and timestamp_type
 * are accepted and ignored, so consumed envelopes can be produced again.  A
 * key or value that is a JSON object, array, number or boolean stands for
 * its JSON text.  Returns false with a message in err for anything else. */
bool env_read(const struct value *obj, struct arena *a, struct env_msg *m, char *err, size_t errlen);

#endif
