/* expr_fuzz.c - libFuzzer target for the filter language.
 *
 * Compiles the input; an expression that compiles is evaluated over a few
 * fixed records, and pruning is checked for soundness against them: when a
 * record makes it true, the record's own values (as single values and as
 * [v, v] ranges) must not be pruned, and "must match" must never claim a
 * record the expression rejects.  Evaluation by a layout's positions must
 * agree with evaluation by names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "json.h"
#include "value.h"

static const char *const records[] = {
	"{\"a\":1,\"b\":\"x\",\"c\":null,\"d\":{\"e\":2.5},\"ts\":\"2024-01-01T00:00:00Z\",\"t\":true}",
	"{\"a\":-3,\"b\":\"abc%_\",\"c\":[1,2],\"d\":{\"e\":null},\"ts\":\"1999-12-31\",\"t\":\"false\"}",
	"{\"a\":\"7\",\"b\":null,\"d\":5,\"ts\":1700000000,\"t\":null,\"A\":9}",
	"{}",
};

struct ctx {
	const struct value *rec;
	int mode; /* 0 value, 1 range [v, v], 2 unknown */
};

static void lookup(void *p, const char *column, struct expr_colinfo *info)
{
	struct ctx *c = p;
	const struct value *v = value_path(c->rec, column);
	if (!v || c->mode == 2)
		return; /* unknown */
	if (c->mode == 0) {
		info->kind = EXPR_COL_VALUE;
		info->value = *v;
		return;
	}
	if (v->type == V_ARRAY || v->type == V_OBJECT || v->type == V_MAP)
		return;
	info->kind = EXPR_COL_RANGE;
	info->row_count = 1;
	info->null_count = v->type == V_NULL;
	if (v->type != V_NULL)
		info->min = info->max = *v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	struct expr_error err;
	struct expr *e = expr_compile(s, &err);
	if (!e) {
		if (err.pos > size)
			abort();
	} else {
		for (size_t i = 0; i < expr_ncolumns(e); i++)
			if (!expr_column(e, i))
				abort();
		for (size_t r = 0; r < sizeof records / sizeof *records; r++) {
			struct arena a = {0};
			struct value rec;
			if (json_parse(&a, records[r], strlen(records[r]), &rec, NULL))
				abort();
			enum expr_truth t = expr_eval(e, &rec);
			/* by position in a layout (r + 1 names records[r]'s keys),
			 * first found and then known: the same truth */
			if (expr_eval_layout(e, &rec, r + 1) != t || expr_eval_layout(e, &rec, r + 1) != t)
				abort();
			/* `a.b` names one key with a dot; value_path would split it */
			for (int mode = 0; mode < 3 && !strchr(s, '`'); mode++) {
				struct ctx c = {&rec, mode};
				if (t == EXPR_TRUE && !expr_may_match(e, lookup, &c))
					abort();
				if (t != EXPR_TRUE && expr_must_match(e, lookup, &c))
					abort();
			}
			arena_free(&a);
		}
		expr_free(e);
	}
	free(s);
	return 0;
}
