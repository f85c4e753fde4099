/* envelope_fuzz.c - libFuzzer target for the Kafka envelope.
 *
 * The promise is that every message survives: whatever bytes a key, value
 * or header holds, env_write followed by json_parse and env_read gives them
 * back exactly.  Odd first byte: the rest is cut into a key, a value and
 * headers (names and values), written, read back and compared.  Even first
 * byte: the rest is JSON given to env_read as -P would; what it accepts must
 * write and read back to the same message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "envelope.h"
#include "json.h"
#include "value.h"

static int same(const void *a, size_t an, const void *b, size_t bn)
{
	if (!a || !b)
		return !a && !b;
	return an == bn && (!an || !memcmp(a, b, an));
}

static void check_roundtrip(const struct env_msg *m)
{
	struct buf b = BUF_INIT;
	env_write(&b, m);
	struct arena a = {0};
	struct value v;
	struct json_error je;
	if (json_parse(&a, b.p, b.len, &v, &je))
		abort(); /* an envelope that is not JSON */
	struct env_msg r;
	char err[256];
	if (!env_read(&v, &a, &r, err, sizeof err))
		abort(); /* an envelope its own reader refuses */
	if (strcmp(r.topic, m->topic) || r.partition != m->partition || r.timestamp != (m->tstype ? m->timestamp : -1))
		abort();
	if (!same(r.key, r.key_len, m->key, m->key_len) || !same(r.value, r.value_len, m->value, m->value_len))
		abort();
	if (r.nheaders != m->nheaders)
		abort();
	for (size_t i = 0; i < r.nheaders; i++)
		if (!same(r.headers[i].name, r.headers[i].name_len, m->headers[i].name, m->headers[i].name_len) ||
		    !same(r.headers[i].value, r.headers[i].value_len, m->headers[i].value, m->headers[i].value_len))
			abort();
	arena_free(&a);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	if (data[0] & 1) {
		/* bytes: a cut every 7th byte of the input's length, roughly */
		struct env_header h[4];
		struct env_msg m = {.topic = "t", .partition = 3, .offset = 9, .timestamp = 1700000000000,
				    .tstype = ENV_TS_CREATE, .headers = h};
		size_t cut = n / 4, off = 0;
		m.key = data[0] & 2 ? NULL : p;
		m.key_len = m.key ? cut : 0;
		off += cut;
		m.nheaders = (data[0] >> 2) & 3;
		for (size_t i = 0; i < m.nheaders; i++) {
			size_t hn = cut / 2;
			h[i].name = p + off;
			h[i].name_len = hn;
			h[i].value = (data[0] >> 4) & (1u << i) ? NULL : p + off + hn;
			h[i].value_len = h[i].value ? cut - hn : 0;
			off += cut / 2;
		}
		m.value = data[0] & 0x80 ? NULL : p + (off < n ? off : n);
		m.value_len = m.value ? n - (off < n ? off : n) : 0;
		check_roundtrip(&m);
		return 0;
	}
	struct arena a = {0};
	struct value v;
	struct json_error je;
	if (json_parse(&a, p, n, &v, &je) == 0) {
		struct env_msg m;
		char err[256];
		if (env_read(&v, &a, &m, err, sizeof err)) {
			if (!m.topic)
				m.topic = "t";
			if (m.partition < 0)
				m.partition = 0;
			m.offset = 0;
			m.tstype = m.timestamp >= 0 ? ENV_TS_CREATE : ENV_TS_NONE;
			check_roundtrip(&m);
		}
	}
	arena_free(&a);
	return 0;
}
