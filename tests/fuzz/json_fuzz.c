/* json_fuzz.c - libFuzzer target for the JSON scanner and the casts.
 *
 * Any input: json_parse must not crash, and what it accepts must write back
 * canonically and read again with the same canonical text (a number beyond
 * the double range becomes the string "Infinity", so values are compared by
 * their text, not by type).
 * An object is also cast to a schema holding every type, which runs the
 * cast rules (numbers, timestamps, base64, nesting) over hostile values.
 * Each input is read again as a record, expecting the previous input's
 * keys (json_parse_record), and cast by that layout: both must give what
 * the plain reading and cast give. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cast.h"
#include "json.h"
#include "schema.h"
#include "value.h"

static struct type *all_types;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!all_types) {
		char err[256];
		all_types = schema_parse_ddl(
			"b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, f FLOAT, d DOUBLE, "
			"dec DECIMAL(20,4), dec38 DECIMAL(38,38), s STRING, bin BINARY, dt DATE, ts TIMESTAMP, "
			"ntz TIMESTAMP_NTZ, arr ARRAY<INT>, m MAP<STRING,DOUBLE>, mi MAP<INT,STRING>, "
			"st STRUCT<a STRING NOT NULL, b ARRAY<STRUCT<c DECIMAL(5,2)>>>, v VOID",
			err, sizeof err);
		if (!all_types)
			abort();
	}
	static struct layout layout;
	static struct cast c;
	struct arena a = {0};
	struct value v, r;
	struct json_error je, jr;
	uint64_t id;
	int rc = json_parse(&a, (const char *)data, size, &v, &je);
	if (json_parse_record(&a, (const char *)data, size, &r, &jr, &layout, &id) != rc)
		abort();
	if (rc == 0) {
		struct buf b1 = BUF_INIT, b2 = BUF_INIT;
		json_write(&b1, &v);
		json_write(&b2, &r);
		if (b1.len != b2.len || memcmp(b1.p, b2.p, b1.len))
			abort(); /* the record reading differs */
		if (v.type == V_OBJECT) {
			if (id != layout.id || layout.n != r.n)
				abort();
			for (uint32_t i = 0; i < r.n; i++)
				if (!layout_key_eq(&layout, i, r.a[2 * i].s, r.a[2 * i].n, 0))
					abort(); /* a layout that is not the record's keys */
		} else if (id) {
			abort();
		}
		buf_reset(&b2);
		struct arena a2 = {0};
		struct value w;
		if (json_parse(&a2, b1.p, b1.len, &w, &je))
			abort(); /* canonical output that does not read back */
		json_write(&b2, &w);
		if (b1.len != b2.len || memcmp(b1.p, b2.p, b1.len))
			abort(); /* canonical text is not a fixed point */
		if (v.type == V_OBJECT) {
			static const char *fmts[] = {"%d/%b/%Y:%H:%M:%S %z", "%s.%f", "%Y%j %I%p"};
			struct cast_opts co = {.epoch = (enum epoch_unit)(size % 4), .ts_formats = fmts, .nts_formats = 3};
			c.opts = &co;
			c.arena = &a2;
			struct value out;
			bool ok = cast_record(&c, all_types, &v, 0, &out), coerced = c.coerced;
			char reason[sizeof c.reason], field[sizeof c.field];
			strcpy(reason, c.reason);
			strcpy(field, c.field);
			buf_reset(&b1);
			if (ok)
				json_write(&b1, &out);
			if (cast_record(&c, all_types, &r, id, &out) != ok || c.coerced != coerced ||
			    strcmp(c.reason, reason) || strcmp(c.field, field))
				abort(); /* the cast by layout differs */
			buf_reset(&b2);
			if (ok)
				json_write(&b2, &out);
			if (b1.len != b2.len || memcmp(b1.p, b2.p, b1.len))
				abort();
		}
		buf_free(&b1);
		buf_free(&b2);
		arena_free(&a2);
	} else if (je.offset > size || jr.offset != je.offset || strcmp(jr.msg, je.msg)) {
		abort();
	}
	arena_free(&a);
	return 0;
}
