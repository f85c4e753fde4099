/* expr-prune.c - table test of expr_may_match / expr_must_match, the
 * pruning half of lib/expr that no weir-parse option reaches: partition
 * values and min/max/null-count stats against filters.  Built and run by
 * tests/parse.bats; prints each failing case and exits 1 if any. */
#include <stdio.h>
#include <string.h>

#include "expr.h"
#include "json.h"

struct col {
	const char *name;
	int kind;          /* EXPR_COL_VALUE or EXPR_COL_RANGE */
	const char *a, *b; /* VALUE: a; RANGE: min a, max b ("null": unknown) */
	long nulls, rows;
};

struct tcase {
	const char *expr;
	struct col cols[3];
	int may, must;
};

#define V(n, x) {n, EXPR_COL_VALUE, x, NULL, 0, 0}
#define R(n, lo, hi, nulls, rows) {n, EXPR_COL_RANGE, lo, hi, nulls, rows}

static const struct tcase cases[] = {
	{"p = 'a'", {V("p", "\"a\"")}, 1, 1},
	{"p = 'a'", {V("p", "\"b\"")}, 0, 0},
	{"p = 'a' AND x > 5", {V("p", "\"a\"")}, 1, 0},
	{"p = 'b' AND x > 5", {V("p", "\"a\"")}, 0, 0},
	{"p IS NULL", {V("p", "null")}, 1, 1},
	{"x > 5", {R("x", "1", "3", 0, 10)}, 0, 0},
	{"x > 5", {R("x", "6", "9", 0, 10)}, 1, 1},
	{"x > 5", {R("x", "6", "9", 2, 10)}, 1, 0},
	{"5 < x", {R("x", "1", "5", 0, 10)}, 0, 0},
	{"x IS NULL", {R("x", "1", "3", 0, 10)}, 0, 0},
	{"x IS NOT NULL", {R("x", "null", "null", 10, 10)}, 0, 0},
	{"x IS NOT NULL", {R("x", "1", "2", 0, 10)}, 1, 1},
	{"x BETWEEN 3 AND 4", {R("x", "1", "2", 0, 10)}, 0, 0},
	{"x IN (1, 10)", {R("x", "2", "9", 0, 10)}, 0, 0},
	{"x IN (1, 5)", {R("x", "2", "9", 0, 10)}, 1, 0},
	{"NOT x > 5", {R("x", "6", "9", 0, 10)}, 0, 0},
	{"x <> 5", {R("x", "5", "5", 0, 3)}, 0, 0},
	{"x = 5", {R("x", "5", "5", 0, 3)}, 1, 1},
	{"x < 5", {R("x", "null", "9", 0, 10)}, 1, 0},
	{"x < 5", {R("x", "null", "9", -1, -1)}, 1, 0},
	{"ts >= TIMESTAMP '2024-01-02T00:00:00Z'", {R("ts", "\"2024-01-01T00:00:00Z\"", "\"2024-01-01T23:59:59Z\"", 0, 5)}, 0, 0},
	{"ts >= TIMESTAMP '2024-01-02T00:00:00Z'", {R("ts", "\"2024-01-01T00:00:00Z\"", "\"2024-01-02T00:00:00Z\"", 0, 5)}, 1, 0},
	{"url LIKE '/p/%'", {R("url", "\"/a\"", "\"/c\"", 0, 5)}, 0, 0},
	{"url LIKE '/p/%'", {R("url", "\"/a\"", "\"/q\"", 0, 5)}, 1, 0},
	{"url LIKE '/p/%'", {R("url", "\"/p/x\"", "\"/q\"", 0, 5)}, 1, 0},
	{"url LIKE '/p/%'", {R("url", "\"/pa\"", "\"/q\"", 0, 5)}, 0, 0},
	{"x > 5 OR p = 'a'", {R("x", "1", "3", 0, 10), V("p", "\"b\"")}, 0, 0},
	{"x > 5 OR p = 'a'", {R("x", "1", "3", 0, 10), V("p", "\"a\"")}, 1, 1},
	{"d = DATE '2024-01-02'", {V("d", "\"2024-01-02\"")}, 1, 1},
	{"d = DATE '2024-01-02'", {V("d", "\"2024-01-03\"")}, 0, 0},
	{"amount > 10.5", {R("amount", "10.50", "10.50", 0, 1)}, 0, 0},
	{"y = 1", {{0}}, 1, 0},
	{"TRUE", {{0}}, 1, 1},
	{"FALSE OR NULL", {{0}}, 0, 0},
};

struct ctx {
	const struct tcase *c;
	struct arena *a;
};

static struct value parse(struct arena *a, const char *json)
{
	struct value v;
	if (json_parse(a, json, strlen(json), &v, NULL)) {
		fprintf(stderr, "bad JSON in a case: %s\n", json);
		v = value_null();
	}
	return v;
}

static void lookup(void *p, const char *column, struct expr_colinfo *info)
{
	struct ctx *x = p;
	for (int i = 0; i < 3 && x->c->cols[i].name; i++) {
		const struct col *c = &x->c->cols[i];
		if (strcmp(c->name, column))
			continue;
		info->kind = c->kind;
		if (c->kind == EXPR_COL_VALUE) {
			info->value = parse(x->a, c->a);
		} else {
			info->min = parse(x->a, c->a);
			info->max = parse(x->a, c->b);
			info->null_count = c->nulls;
			info->row_count = c->rows;
		}
	}
}

int main(void)
{
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const struct tcase *c = &cases[i];
		struct expr_error err;
		struct expr *e = expr_compile(c->expr, &err);
		if (!e) {
			printf("%s: does not compile: %s\n", c->expr, err.msg);
			bad = 1;
			continue;
		}
		struct arena a = {0};
		struct ctx x = {c, &a};
		int may = expr_may_match(e, lookup, &x), must = expr_must_match(e, lookup, &x);
		if (may != c->may || must != c->must) {
			printf("case %zu, %s: may %d must %d, want %d %d\n", i, c->expr, may, must, c->may, c->must);
			bad = 1;
		}
		arena_free(&a);
		expr_free(e);
	}
	return bad;
}
