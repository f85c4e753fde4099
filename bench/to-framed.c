/* to-framed.c - bench helper: NDJSON events to the framed encoding, with the
 * "ts" field typed as a timestamp, the way `weir-parse --schema` would type
 * it.  Only for bench/window.sh while no weir tool on main converts. */
#include <stdbool.h>
#include <stdlib.h>

#include "diag.h"
#include "record.h"
#include "schema.h"
#include "timeutil.h"

int main(void)
{
	diag_init("to-framed");
	char err[256];
	struct type *t = schema_parse_ddl("ts TIMESTAMP NOT NULL, key STRING, amount DECIMAL(12,2), n BIGINT", err, sizeof err);
	if (!t)
		die(2, "%s", err);
	struct rec_reader *r = rec_reader_open(0, "-");
	struct rec_writer *w = rec_writer_open(1, true);
	rec_writer_schema(w, t);
	struct record rec;
	while (rec_read(r, &rec) != REC_EOF) {
		if (rec.kind != REC_DATA)
			continue;
		struct value *ts = value_get(&rec.v, "ts", 2);
		int64_t us;
		bool zone;
		if (ts && ts->type == V_STRING && parse_iso_timestamp(ts->s, ts->n, &us, &zone))
			*ts = value_typed_int(V_TIMESTAMP, us);
		rec_write(w, &rec.v);
	}
	rec_writer_close(w);
	return 0;
}
