/* cast.h - values to a schema's types, with one set of rules for every tool
 * that types records (weir-parse, weir-lake-write --schema).
 *
 * The rules, in short (weir-parse(1) has the full table): JSON's own form of
 * a type is taken as is; a string holding a number, boolean, date or
 * timestamp is converted (the record counts as "coerced"); numbers never
 * lose digits silently except that decimals round half-up to the column's
 * scale as SQL CAST does; a value that does not fit is an error naming the
 * field, never a silent NULL.  Timestamps read ISO-8601 with or without an
 * offset (without one the wall clock is UTC), strptime-like patterns, and
 * epoch numbers in seconds, milliseconds or microseconds. */
#ifndef WEIR_CAST_H
#define WEIR_CAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "value.h"

enum epoch_unit {
	EPOCH_AUTO, /* by magnitude: |n| < 1e11 seconds, < 1e14 milliseconds, else microseconds */
	EPOCH_S,
	EPOCH_MS,
	EPOCH_US,
};

struct cast_opts {
	enum epoch_unit epoch;
	const char *const *ts_formats; /* tried in order before ISO-8601 */
	size_t nts_formats;
};

#define CAST_MAX_PATH 32

struct cast {
	const struct cast_opts *opts;
	struct arena *arena; /* strings and containers the cast creates */
	bool coerced;        /* some value was converted from another JSON type */
	/* after a failure: */
	char reason[200];
	char field[256];     /* path of the failing value: "items[2].sku" */
	/* the failing path, innermost first, while unwinding */
	struct {
		const char *name; /* NULL: an array index */
		size_t len;
		uint64_t index;
	} seg[CAST_MAX_PATH];
	int nseg;
	/* the top-level fields of records of one layout (record.h), found by
	 * name in the first: each field's member, UINT32_MAX when none, and
	 * its name as a key */
	const struct type *layout_type;
	uint64_t layout;
	uint32_t *member;
	struct value *keys;
	size_t nmember;
};

/* Cast a record (a V_OBJECT) to the struct type
 * st: the result has st's fields in order; fields of `in` that st lacks are
 * dropped.  Returns false with c->reason and c->field set.  A nonzero
 * layout is the record's (struct record): the fields are then looked up by
 * name once per layout, and st must stay allocated until cast_free. */
bool cast_record(struct cast *c, const struct type *st, const struct value *in, uint64_t layout, struct value *out);
/* Free what c keeps from record to record. */
void cast_free(struct cast *c);

/* Timestamp patterns, strptime-like: %Y %m %d %e %H %I %M %S %f %p %z %Z %b
 * %B %a %A %j %y %s %T %F %%; a space matches any run of white space.
 * ts_format_check validates one at startup (err gets the reason). */
bool ts_format_check(const char *fmt, char *err, size_t errlen);
/* The instant `s` denotes by `fmt`; *has_zone tells whether %z/%Z/%s set it. */
bool ts_format_parse(const char *fmt, const char *s, size_t n, int64_t *micros, bool *has_zone);

/* Exact decimal text ("-12.30", "1.5e3") to unscaled/scale (scale 0..38);
 * false when not a number or more than 38 digits are needed. */
bool decimal_parse(const char *s, size_t n, int128_t *unscaled, int *scale);

/* The supported range of dates and timestamps (years 0001 to 9999, as Spark
 * and Delta). */
#define DATE_MIN_DAYS (-719162)
#define DATE_MAX_DAYS 2932896
#define TS_MIN_MICROS (-62135596800000000LL)
#define TS_MAX_MICROS (253402300799999999LL)

#endif
