/* envelope.c - see envelope.h */
#include "envelope.h"

#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "json.h"
#include "timeutil.h"

static void put_int(struct buf *b, int64_t v)
{
	char d[24];
	int k = 0;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do {
		d[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	buf_grow(b, 21);
	if (v < 0)
		b->p[b->len++] = '-';
	while (k)
		b->p[b->len++] = d[--k];
}

/* ,"NAME":"text" or ,"NAME_b64":"base64" or ,"NAME":null; `lead` is the
 * text before the name ("," or "{"). */
static void put_bytes(struct buf *b, const char *lead, const char *name, const void *p, size_t n)
{
	buf_puts(b, lead);
	buf_putc(b, '"');
	buf_puts(b, name);
	if (!p) {
		buf_put(b, "\":null", 6);
		return;
	}
	if (utf8_valid(p, n)) {
		buf_put(b, "\":", 2);
		json_write_string(b, p, n);
		return;
	}
	buf_put(b, "_b64\":\"", 7);
	base64_encode(b, p, n);
	buf_putc(b, '"');
}

void env_write(struct buf *b, const struct env_msg *m)
{
	buf_put(b, "{\"topic\":", 9);
	json_write_string(b, m->topic, strlen(m->topic));
	buf_put(b, ",\"partition\":", 13);
	put_int(b, m->partition);
	buf_put(b, ",\"offset\":", 10);
	put_int(b, m->offset);
	if (m->tstype == ENV_TS_NONE || m->timestamp < 0) {
		buf_puts(b, ",\"timestamp\":null,\"timestamp_type\":\"none\"");
	} else {
		buf_put(b, ",\"timestamp\":", 13);
		put_int(b, m->timestamp);
		buf_puts(b, m->tstype == ENV_TS_CREATE ? ",\"timestamp_type\":\"create\"" : ",\"timestamp_type\":\"log_append\"");
	}
	put_bytes(b, ",", "key", m->key, m->key_len);
	if (m->nheaders) {
		buf_put(b, ",\"headers\":[", 12);
		for (size_t i = 0; i < m->nheaders; i++) {
			const struct env_header *h = &m->headers[i];
			put_bytes(b, i ? ",{" : "{", "name", h->name, h->name_len);
			put_bytes(b, ",", "value", h->value, h->value_len);
			buf_putc(b, '}');
		}
		buf_putc(b, ']');
	}
	put_bytes(b, ",", "value", m->value, m->value_len);
	buf_putc(b, '}');
}

/* ---- reading ---- */

static bool fail(char *err, size_t errlen, const char *fmt, const char *field)
{
	snprintf(err, errlen, fmt, field);
	return false;
}

/* A bytes field given as text, as base64 (b64), or as other JSON (its text). */
static bool get_bytes(const struct value *v, bool b64, struct arena *a, const void **p, size_t *n, const char *field,
		      char *err, size_t errlen)
{
	if (v->type == V_NULL) {
		*p = NULL;
		*n = 0;
		return true;
	}
	if (b64) {
		if (v->type != V_STRING)
			return fail(err, errlen, "'%s' is not a base64 string", field);
		unsigned char *out = arena_alloc(a, v->n / 4 * 3 + 3);
		long len = base64_decode(out, v->s, v->n);
		if (len < 0)
			return fail(err, errlen, "'%s' is not valid base64", field);
		*p = out;
		*n = (size_t)len;
		return true;
	}
	if (v->type == V_STRING) {
		*p = v->s ? v->s : "";
		*n = v->n;
		return true;
	}
	struct buf t = BUF_INIT;
	json_write(&t, v);
	char *s = arena_alloc(a, t.len + 1);
	memcpy(s, t.p, t.len);
	*p = s;
	*n = t.len;
	buf_free(&t);
	return true;
}

static bool is(const struct value *k, const char *name)
{
	size_t n = strlen(name);
	return k->n == n && !memcmp(k->s, name, n);
}

static bool read_headers(const struct value *v, struct arena *a, struct env_msg *m, char *err, size_t errlen)
{
	if (v->type == V_NULL)
		return true;
	if (v->type != V_ARRAY)
		return fail(err, errlen, "'%s' is not an array", "headers");
	m->headers = arena_alloc(a, (v->n ? v->n : 1) * sizeof *m->headers);
	m->nheaders = v->n;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct value *h = &v->a[i];
		struct env_header *o = &m->headers[i];
		bool have_name = false, have_value = false;
		if (h->type != V_OBJECT)
			return fail(err, errlen, "'%s' holds something other than {\"name\":...,\"value\":...}", "headers");
		for (uint32_t j = 0; j < h->n; j++) {
			const struct value *k = &h->a[2 * j], *x = &h->a[2 * j + 1];
			const void *p;
			size_t n;
			if (is(k, "name") || is(k, "name_b64")) {
				if (have_name)
					return fail(err, errlen, "a header has two names%s", "");
				if (x->type == V_NULL || (!is(k, "name_b64") && x->type != V_STRING))
					return fail(err, errlen, "a header name is not a string%s", "");
				if (!get_bytes(x, is(k, "name_b64"), a, &p, &n, "name_b64", err, errlen))
					return false;
				o->name = p;
				o->name_len = n;
				have_name = true;
			} else if (is(k, "value") || is(k, "value_b64")) {
				if (have_value)
					return fail(err, errlen, "a header has two values%s", "");
				if (!get_bytes(x, is(k, "value_b64"), a, &o->value, &o->value_len, "value_b64", err, errlen))
					return false;
				have_value = true;
			} else {
				char f[64];
				snprintf(f, sizeof f, "%.*s", (int)(k->n < 40 ? k->n : 40), k->s);
				return fail(err, errlen, "unknown header field '%s'", f);
			}
		}
		if (!have_name)
			return fail(err, errlen, "a header has no '%s'", "name");
		if (!have_value) {
			o->value = NULL;
			o->value_len = 0;
		}
	}
	return true;
}

bool env_read(const struct value *obj, struct arena *a, struct env_msg *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	m->partition = -1;
	m->offset = -1;
	m->timestamp = -1;
	if (obj->type != V_OBJECT)
		return fail(err, errlen, "not a JSON object%s", "");
	bool have_key = false, have_value = false;
	for (uint32_t i = 0; i < obj->n; i++) {
		const struct value *k = &obj->a[2 * i], *v = &obj->a[2 * i + 1];
		if (is(k, "topic")) {
			if (v->type == V_NULL)
				continue;
			if (v->type != V_STRING || !v->n || memchr(v->s, 0, v->n))
				return fail(err, errlen, "'%s' is not a topic name", "topic");
			m->topic = arena_strndup(a, v->s, v->n);
		} else if (is(k, "partition")) {
			if (v->type == V_NULL)
				continue;
			if (v->type != V_INT || v->i < 0 || v->i > INT32_MAX)
				return fail(err, errlen, "'%s' is not a partition number", "partition");
			m->partition = (int32_t)v->i;
		} else if (is(k, "timestamp")) {
			int64_t us;
			bool zone;
			if (v->type == V_NULL)
				continue;
			if (v->type == V_INT && v->i >= 0)
				m->timestamp = v->i;
			else if (v->type == V_STRING && parse_iso_timestamp(v->s, v->n, &us, &zone) && us >= 0)
				m->timestamp = us / 1000;
			else
				return fail(err, errlen, "'%s' is not milliseconds since the epoch or an ISO-8601 time",
					    "timestamp");
		} else if (is(k, "key") || is(k, "key_b64")) {
			if (have_key)
				return fail(err, errlen, "both 'key' and 'key_b64'%s", "");
			if (!get_bytes(v, is(k, "key_b64"), a, &m->key, &m->key_len, "key_b64", err, errlen))
				return false;
			have_key = true;
		} else if (is(k, "value") || is(k, "value_b64")) {
			if (have_value)
				return fail(err, errlen, "both 'value' and 'value_b64'%s", "");
			if (!get_bytes(v, is(k, "value_b64"), a, &m->value, &m->value_len, "value_b64", err, errlen))
				return false;
			have_value = true;
		} else if (is(k, "headers")) {
			if (!read_headers(v, a, m, err, errlen))
				return false;
		} else if (is(k, "offset") || is(k, "timestamp_type")) {
			/* where a consumed message was; producing it again puts
			 * it somewhere new */
		} else {
			char f[64];
			snprintf(f, sizeof f, "%.*s", (int)(k->n < 40 ? k->n : 40), k->s);
			return fail(err, errlen, "unknown field '%s'", f);
		}
	}
	return true;
}
