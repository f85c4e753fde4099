/* schema_fuzz.c - libFuzzer target for the schema parsers.
 *
 * The first byte picks DDL or Delta schema JSON.  A schema either side
 * accepts must write back in both forms and read back equal: DDL -> DDL,
 * Delta JSON -> Delta JSON, and DDL -> Delta JSON -> DDL.  And type_merge:
 * a schema merged into itself adds nothing, into an empty struct every
 * top-level field, and a merge done again adds nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "schema.h"

static void same_or_die(const struct type *t, const char *text, bool json)
{
	char err[256];
	struct type *u = json ? schema_parse_delta(text, strlen(text), err, sizeof err) : schema_parse_ddl(text, err, sizeof err);
	if (!u || !type_equal(t, u))
		abort();
	type_free(u);
}

static void merges_or_die(const struct type *t)
{
	char err[256];
	size_t added = 0;
	struct type *same = type_clone(t);
	if (!type_merge(same, t, true, &added, "", err, sizeof err) || added || !type_equal(same, t))
		abort();
	type_free(same);
	struct type *grown = type_new(T_STRUCT);
	if (!type_merge(grown, t, true, &added, "", err, sizeof err) || added != t->nfields)
		abort();
	added = 0;
	if (!type_merge(grown, t, true, &added, "", err, sizeof err) || added)
		abort();
	type_free(grown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	char err[256];
	bool ddl = data[0] & 1;
	struct type *t = ddl ? schema_parse_ddl(s, err, sizeof err) : schema_parse_delta(s, size - 1, err, sizeof err);
	if (t) {
		struct buf b = BUF_INIT;
		schema_write_delta(&b, t);
		same_or_die(t, buf_cstr(&b), true);
		if (ddl) {
			/* DDL cannot say containsNull, so only DDL-born schemas
			 * survive the trip through DDL */
			buf_reset(&b);
			schema_write_ddl(&b, t);
			same_or_die(t, buf_cstr(&b), false);
		}
		buf_free(&b);
		if (t->kind == T_STRUCT)
			merges_or_die(t);
		type_free(t);
	}
	free(s);
	return 0;
}
