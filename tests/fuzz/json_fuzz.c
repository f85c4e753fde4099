/* json_fuzz.c - libFuzzer target for the JSON scanner and the casts.
 *
 * Any input: json_parse must not crash, and what it accepts must write back
 * canonically and read again with the same canonical text (a number beyond
 * the double range becomes the string "Infinity", so values are compared by
 * their text, not by type).
 * An object is also cast to a schema holding every type, which runs the
 * cast rules (numbers, timestamps, base64, nesting) over hostile values. */
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
	struct arena a = {0};
	struct value v;
	struct json_error je;
	if (json_parse(&a, (const char *)data, size, &v, &je) == 0) {
		struct buf b1 = BUF_INIT, b2 = BUF_INIT;
		json_write(&b1, &v);
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
			struct cast c = {.opts = &co, .arena = &a2};
			struct value out;
			if (cast_record(&c, all_types, &v, &out)) {
				buf_reset(&b2);
				json_write(&b2, &out);
			}
		}
		buf_free(&b1);
		buf_free(&b2);
		arena_free(&a2);
	} else if (je.offset > size) {
		abort();
	}
	arena_free(&a);
	return 0;
}
