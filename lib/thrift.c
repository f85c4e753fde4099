/* thrift.c - see thrift.h */
#include "thrift.h"

#include <string.h>

void tc_init(struct tc_reader *r, const void *p, size_t n)
{
	r->p = p;
	r->end = r->p + n;
	r->depth = 0;
	r->err = NULL;
}

bool tc_fail(struct tc_reader *r, const char *msg)
{
	if (!r->err)
		r->err = msg;
	return false;
}

static bool varint(struct tc_reader *r, uint64_t *v)
{
	if (r->err)
		return false;
	if (get_uvarint(&r->p, r->end, v) < 0)
		return tc_fail(r, "truncated or overlong varint");
	return true;
}

bool tc_struct_begin(struct tc_reader *r)
{
	if (r->err)
		return false;
	if (++r->depth > TC_MAX_DEPTH)
		return tc_fail(r, "structures nested too deeply");
	return true;
}

void tc_struct_end(struct tc_reader *r)
{
	r->depth--;
}

int tc_field(struct tc_reader *r, int16_t *last, int16_t *id, int *type)
{
	if (r->err)
		return -1;
	if (r->p >= r->end)
		return tc_fail(r, "truncated structure"), -1;
	uint8_t h = *r->p++;
	if (h == TC_STOP)
		return 0;
	*type = h & 15;
	if (*type == TC_STOP || *type > TC_STRUCT)
		return tc_fail(r, "bad field type"), -1;
	if (h >> 4) {
		*id = (int16_t)(*last + (h >> 4));
	} else {
		uint64_t u;
		if (!varint(r, &u))
			return -1;
		int64_t s = unzigzag64(u);
		if (s < INT16_MIN || s > INT16_MAX)
			return tc_fail(r, "bad field id"), -1;
		*id = (int16_t)s;
	}
	*last = *id;
	return 1;
}

bool tc_i64(struct tc_reader *r, int type, int64_t *v)
{
	if (type != TC_I64 && type != TC_I32 && type != TC_I16 && type != TC_I8)
		return tc_fail(r, "field has the wrong type");
	if (type == TC_I8) {
		if (r->p >= r->end)
			return tc_fail(r, "truncated byte");
		*v = (int8_t)*r->p++;
		return true;
	}
	uint64_t u;
	if (!varint(r, &u))
		return false;
	*v = unzigzag64(u);
	return true;
}

bool tc_i32(struct tc_reader *r, int type, int32_t *v)
{
	int64_t w;
	if (!tc_i64(r, type, &w))
		return false;
	if (w < INT32_MIN || w > INT32_MAX)
		return tc_fail(r, "32-bit field out of range");
	*v = (int32_t)w;
	return true;
}

bool tc_bool(struct tc_reader *r, int type, bool *v)
{
	if (type != TC_TRUE && type != TC_FALSE)
		return tc_fail(r, "field has the wrong type");
	*v = type == TC_TRUE;
	return true;
}

bool tc_binary(struct tc_reader *r, int type, const uint8_t **p, uint32_t *n)
{
	if (type != TC_BINARY)
		return tc_fail(r, "field has the wrong type");
	uint64_t len;
	if (!varint(r, &len))
		return false;
	if (len > (uint64_t)(r->end - r->p))
		return tc_fail(r, "binary field longer than its structure");
	*p = r->p;
	*n = (uint32_t)len;
	r->p += len;
	return true;
}

bool tc_list(struct tc_reader *r, int type, int *elem, uint32_t *n)
{
	if (type != TC_LIST && type != TC_SET)
		return tc_fail(r, "field has the wrong type");
	if (r->err)
		return false;
	if (r->p >= r->end)
		return tc_fail(r, "truncated list");
	uint8_t h = *r->p++;
	uint64_t count = h >> 4;
	*elem = h & 15;
	if (count == 15 && !varint(r, &count))
		return false;
	if (*elem == TC_STOP || *elem > TC_STRUCT)
		return tc_fail(r, "bad list element type");
	/* every element takes at least one byte, except booleans... which take
	 * one too in lists */
	if (count > (uint64_t)(r->end - r->p))
		return tc_fail(r, "list longer than its structure");
	*n = (uint32_t)count;
	return true;
}

bool tc_elem_i32(struct tc_reader *r, int elem, int32_t *v)
{
	return tc_i32(r, elem, v);
}

bool tc_skip(struct tc_reader *r, int type)
{
	if (r->err)
		return false;
	uint64_t u;
	switch (type) {
	case TC_TRUE:
	case TC_FALSE:
		return true;
	case TC_I8:
		if (r->p >= r->end)
			return tc_fail(r, "truncated byte");
		r->p++;
		return true;
	case TC_I16:
	case TC_I32:
	case TC_I64:
		return varint(r, &u);
	case TC_DOUBLE:
		if (r->end - r->p < 8)
			return tc_fail(r, "truncated double");
		r->p += 8;
		return true;
	case TC_BINARY: {
		const uint8_t *p;
		uint32_t n;
		return tc_binary(r, type, &p, &n);
	}
	case TC_LIST:
	case TC_SET: {
		int elem;
		uint32_t n;
		if (!tc_list(r, type, &elem, &n))
			return false;
		if (!tc_struct_begin(r))
			return false;
		for (uint32_t i = 0; i < n; i++) {
			/* booleans inside lists are a whole byte */
			if (!tc_skip(r, elem == TC_TRUE || elem == TC_FALSE ? TC_I8 : elem))
				return false;
		}
		tc_struct_end(r);
		return true;
	}
	case TC_MAP: {
		if (!varint(r, &u))
			return false;
		if (u == 0)
			return true;
		if (u > (uint64_t)(r->end - r->p))
			return tc_fail(r, "map longer than its structure");
		if (r->p >= r->end)
			return tc_fail(r, "truncated map");
		uint8_t kv = *r->p++;
		int kt = kv >> 4, vt = kv & 15;
		if (!kt || kt > TC_STRUCT || !vt || vt > TC_STRUCT)
			return tc_fail(r, "bad map element type");
		if (!tc_struct_begin(r))
			return false;
		for (uint64_t i = 0; i < u; i++) {
			if (!tc_skip(r, kt == TC_TRUE || kt == TC_FALSE ? TC_I8 : kt) ||
			    !tc_skip(r, vt == TC_TRUE || vt == TC_FALSE ? TC_I8 : vt))
				return false;
		}
		tc_struct_end(r);
		return true;
	}
	case TC_STRUCT: {
		if (!tc_struct_begin(r))
			return false;
		int16_t last = 0, id;
		int t, rc;
		while ((rc = tc_field(r, &last, &id, &t)) > 0)
			if (!tc_skip(r, t))
				return false;
		tc_struct_end(r);
		return rc == 0;
	}
	}
	return tc_fail(r, "bad field type");
}

/* ---- writing ---- */

void tc_writer_init(struct tc_writer *w, struct buf *b)
{
	w->b = b;
	w->depth = 0;
	w->last[0] = 0;
}

static void field_header(struct tc_writer *w, int16_t id, int type)
{
	int16_t delta = (int16_t)(id - w->last[w->depth]);
	if (delta > 0 && delta <= 15) {
		buf_putc(w->b, (char)((delta << 4) | type));
	} else {
		buf_putc(w->b, (char)type);
		buf_uvarint(w->b, zigzag64(id));
	}
	w->last[w->depth] = id;
}

void tc_w_struct_begin(struct tc_writer *w, int16_t id)
{
	if (id)
		field_header(w, id, TC_STRUCT);
	w->last[++w->depth] = 0;
}

void tc_w_struct_end(struct tc_writer *w)
{
	buf_putc(w->b, TC_STOP);
	w->depth--;
}

void tc_w_i32(struct tc_writer *w, int16_t id, int32_t v)
{
	field_header(w, id, TC_I32);
	buf_uvarint(w->b, zigzag64(v));
}

void tc_w_i8(struct tc_writer *w, int16_t id, int8_t v)
{
	field_header(w, id, TC_I8);
	buf_putc(w->b, (char)v);
}

void tc_w_i64(struct tc_writer *w, int16_t id, int64_t v)
{
	field_header(w, id, TC_I64);
	buf_uvarint(w->b, zigzag64(v));
}

void tc_w_bool(struct tc_writer *w, int16_t id, bool v)
{
	field_header(w, id, v ? TC_TRUE : TC_FALSE);
}

void tc_w_binary(struct tc_writer *w, int16_t id, const void *p, size_t n)
{
	field_header(w, id, TC_BINARY);
	buf_uvarint(w->b, n);
	buf_put(w->b, p, n);
}

void tc_w_list(struct tc_writer *w, int16_t id, int elem, uint32_t n)
{
	field_header(w, id, TC_LIST);
	if (n < 15) {
		buf_putc(w->b, (char)((n << 4) | (uint32_t)elem));
	} else {
		buf_putc(w->b, (char)(0xf0 | elem));
		buf_uvarint(w->b, n);
	}
}

void tc_w_elem_i32(struct tc_writer *w, int32_t v)
{
	buf_uvarint(w->b, zigzag64(v));
}

void tc_w_elem_binary(struct tc_writer *w, const void *p, size_t n)
{
	buf_uvarint(w->b, n);
	buf_put(w->b, p, n);
}

void tc_w_empty(struct tc_writer *w, int16_t id)
{
	tc_w_struct_begin(w, id);
	tc_w_struct_end(w);
}
