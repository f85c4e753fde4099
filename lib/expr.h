/* expr.h - the filter language of weir: weir-parse --where, weir-lake-write
 * --replace-where, weir-lake-cat --where, weir-lake-vacuum and MERGE
 * --delete-when all compile the same text with the same meaning.
 *
 *   action = "purchase" AND amount > 10
 *   NOT (country IN ('DE', 'FR') OR user.age IS NULL)
 *   ts >= TIMESTAMP '2024-01-01T00:00:00Z' AND url LIKE '/p/%'
 *
 * Grammar (keywords case-insensitive, precedence from loosest):
 *   expr   := expr OR expr | expr AND expr | NOT expr | pred
 *   pred   := operand [ cmp operand | IS [NOT] NULL | [NOT] IN (operand, ...)
 *             | [NOT] LIKE 'pattern' | [NOT] BETWEEN operand AND operand ]
 *   cmp    := = | == | != | <> | < | <= | > | >=
 *   operand:= column | literal | ( expr )
 *   column := name(.name)*   name: [A-Za-z_][A-Za-z0-9_]* or `any text`
 *   literal:= 'text' | "text" | [-]number | TRUE | FALSE | NULL
 *             | DATE 'YYYY-MM-DD' | TIMESTAMP '...' | TIMESTAMP_NTZ '...'
 *
 * SQL three-valued logic: a comparison with NULL is unknown, and a filter
 * keeps a record only when the expression is true.  Values of different
 * types are compared after converting the string side to the other side's
 * type (number, boolean, date, timestamp); when that fails, or the types
 * cannot be compared at all, the comparison is unknown.  A missing column
 * reads as NULL. */
#ifndef WEIR_EXPR_H
#define WEIR_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct expr;

struct expr_error {
	size_t pos;     /* byte offset in the source text */
	char msg[128];
};

/* Compile `src`; NULL with err filled on a syntax error. */
struct expr *expr_compile(const char *src, struct expr_error *err);
void expr_free(struct expr *e);

enum expr_truth { EXPR_FALSE, EXPR_TRUE, EXPR_UNKNOWN };

/* Evaluate over a record (a V_OBJECT); columns are paths through nested
 * objects, matched exactly first and case-insensitively when that fails. */
enum expr_truth expr_eval(const struct expr *e, const struct value *rec);
static inline bool expr_match(const struct expr *e, const struct value *rec)
{
	return expr_eval(e, rec) == EXPR_TRUE;
}
/* The same for a record whose keys, in order, are those of every record
 * with the same nonzero layout id (struct record's layout; 0 when not
 * known): its top-level columns are found by position, not by name.  The
 * positions are kept in e, so e serves one thread at a time. */
enum expr_truth expr_eval_layout(const struct expr *e, const struct value *rec, uint64_t layout);
static inline bool expr_match_layout(const struct expr *e, const struct value *rec, uint64_t layout)
{
	return expr_eval_layout(e, rec, layout) == EXPR_TRUE;
}

/* The distinct columns referenced, as dotted paths ("user.id"), in order of
 * first use; valid while e lives. */
size_t expr_ncolumns(const struct expr *e);
const char *expr_column(const struct expr *e, size_t i);

/* What a caller knows about a column across a set of rows (a partition, a
 * data file), for pruning without reading the rows. */
struct expr_colinfo {
	enum { EXPR_COL_UNKNOWN, EXPR_COL_VALUE, EXPR_COL_RANGE } kind;
	struct value value;      /* EXPR_COL_VALUE: every row has this value (NULL too) */
	struct value min, max;   /* EXPR_COL_RANGE: bounds of the non-null values;
				    V_NULL when the bound is not known */
	int64_t null_count;      /* EXPR_COL_RANGE: -1 when not known */
	int64_t row_count;       /* EXPR_COL_RANGE: -1 when not known */
};
/* Fill *info for `column` (a dotted path as expr_column returns); leaving
 * kind EXPR_COL_UNKNOWN is always correct. */
typedef void (*expr_colinfo_fn)(void *ctx, const char *column, struct expr_colinfo *info);

/* False only when no row the lookup describes can make e true: a partition
 * or file the caller may skip.  Sound, not complete: true means "maybe". */
bool expr_may_match(const struct expr *e, expr_colinfo_fn lookup, void *ctx);
/* True only when every row the lookup describes makes e true (a file that
 * --replace-where may drop whole).  Sound, not complete: false means "maybe
 * not". */
bool expr_must_match(const struct expr *e, expr_colinfo_fn lookup, void *ctx);

#endif
