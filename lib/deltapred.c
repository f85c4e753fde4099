/* deltapred.c - predicates over a table's rows and files (see delta.h),
 * on top of weir's filter language (lib/expr): a file is described to
 * expr_may_match/expr_must_match by its partition values (one value per
 * column) and its add.stats (min, max, null count), so --where can skip
 * files and --replace-where can pick the files it replaces. */
#include "delta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "expr.h"
#include "json.h"

struct delta_pred {
	struct expr *e;
	const char **cols;
	size_t ncols;
};

struct delta_pred *delta_pred_parse(const char *s, char *err, size_t errlen)
{
	struct expr_error ee;
	struct expr *e = expr_compile(s, &ee);
	if (!e) {
		snprintf(err, errlen, "%s at byte %zu", ee.msg, ee.pos);
		return NULL;
	}
	struct delta_pred *p = xcalloc(1, sizeof *p);
	p->e = e;
	p->ncols = expr_ncolumns(e);
	p->cols = xcalloc(p->ncols + 1, sizeof *p->cols);
	for (size_t i = 0; i < p->ncols; i++)
		p->cols[i] = expr_column(e, i);
	return p;
}

void delta_pred_free(struct delta_pred *p)
{
	if (!p)
		return;
	expr_free(p->e);
	free(p->cols);
	free(p);
}

size_t delta_pred_columns(const struct delta_pred *p, const char ***names)
{
	*names = p->cols;
	return p->ncols;
}

/* The column's type along a dotted path through structs. */
static const struct type *path_type(const struct type *t, const char *path)
{
	char *copy = xstrdup(path), *save = NULL;
	for (char *part = strtok_r(copy, ".", &save); part && t; part = strtok_r(NULL, ".", &save)) {
		long i = t->kind == T_STRUCT ? type_field_index(t, part) : -1;
		t = i >= 0 ? t->fields[i].type : NULL;
	}
	free(copy);
	return t;
}

static bool is_partition(const struct delta_metadata *m, const char *col)
{
	for (size_t i = 0; i < m->npartition_columns; i++)
		if (!strcasecmp(m->partition_columns[i], col))
			return true;
	return false;
}

bool delta_pred_bind(struct delta_pred *p, const struct delta_metadata *m, bool only_partition, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < p->ncols; i++) {
		if (!path_type(m->schema, p->cols[i])) {
			snprintf(err, errlen, "no column '%s' in the table", p->cols[i]);
			return false;
		}
		if (only_partition && !is_partition(m, p->cols[i])) {
			snprintf(err, errlen, "column '%s' is not a partition column", p->cols[i]);
			return false;
		}
	}
	return true;
}

bool delta_pred_eval_row(const struct delta_pred *p, const struct value *row)
{
	return expr_match(p->e, row);
}

/* ---- files: ranges from partition values and stats ---- */

struct range {
	bool known;            /* min/max valid */
	struct value min, max;
	int64_t nulls, rows;   /* -1 unknown */
};

struct file_ctx {
	const struct delta_metadata *m;
	const struct delta_file *f;
	struct arena a;
	struct value stats;
	bool parsed;
};

static const struct value *stat_at(const struct value *stats, const char *section, const char *col)
{
	const struct value *s = value_getz(stats, section);
	return s ? value_path(s, col) : NULL;
}

static void col_range(struct file_ctx *fc, const char *col, const struct type *type, bool partition, struct range *r)
{
	memset(r, 0, sizeof *r);
	r->nulls = r->rows = -1;
	if (partition) {
		const struct delta_kv *kv = NULL;
		for (size_t i = 0; i < fc->f->partition_values.n; i++)
			if (!strcasecmp(fc->f->partition_values.kv[i].key, col))
				kv = &fc->f->partition_values.kv[i];
		struct value v;
		if (!kv || delta_partition_value(kv->val, type, &fc->a, &v))
			return;
		r->rows = 1;
		if (v.type == V_NULL) {
			r->nulls = 1;
			return;
		}
		r->nulls = 0;
		r->known = true;
		r->min = r->max = v;
		return;
	}
	if (!fc->parsed) {
		fc->parsed = true;
		struct json_error je;
		fc->stats = value_null();
		if (fc->f->stats && json_parse(&fc->a, fc->f->stats, strlen(fc->f->stats), &fc->stats, &je))
			fc->stats = value_null();
	}
	const struct value *nr = value_getz(&fc->stats, "numRecords");
	const struct value *nc = stat_at(&fc->stats, "nullCount", col);
	const struct value *mn = stat_at(&fc->stats, "minValues", col);
	const struct value *mx = stat_at(&fc->stats, "maxValues", col);
	if (nr && nr->type == V_INT)
		r->rows = nr->i;
	if (nc && nc->type == V_INT)
		r->nulls = nc->i;
	if (!mn || !mx || mn->type == V_NULL || mx->type == V_NULL || !tkind_is_primitive(type->kind))
		return;
	struct value lo = *mn, hi = *mx;
	if (mn->type == V_STRING && type->kind != T_STRING) {
		char *t1 = xstrndup(mn->s, mn->n), *t2 = xstrndup(mx->s, mx->n);
		int bad = delta_partition_value(t1, type, &fc->a, &lo) | delta_partition_value(t2, type, &fc->a, &hi);
		free(t1);
		free(t2);
		if (bad)
			return;
		/* timestamps in stats are cut to milliseconds */
		if (hi.type == V_TIMESTAMP || hi.type == V_TIMESTAMP_NTZ)
			hi.i += 999;
	}
	if (type->kind == T_STRING) {
		/* a max cut to the 32-character prefix without the U+10FFFF mark
		 * is no bound */
		size_t chars = 0;
		for (uint32_t i = 0; i < mx->n; i++)
			chars += ((unsigned char)mx->s[i] & 0xc0) != 0x80;
		if (chars >= 32 && !(mx->n >= 4 && !memcmp(mx->s + mx->n - 4, "\xf4\x8f\xbf\xbf", 4)))
			return;
	}
	if (value_is_number(&lo) != value_is_number(&hi) || (lo.type != hi.type && !value_is_number(&lo)))
		return;
	r->known = true;
	r->min = lo;
	r->max = hi;
}

static void colinfo(void *ctx, const char *column, struct expr_colinfo *info)
{
	struct file_ctx *fc = ctx;
	const struct type *t = path_type(fc->m->schema, column);
	if (!t)
		return;
	bool part = is_partition(fc->m, column);
	struct range r;
	col_range(fc, column, t, part, &r);
	if (part) {
		if (r.rows == 1) {
			info->kind = EXPR_COL_VALUE;
			info->value = r.known ? r.min : value_null();
		}
		return;
	}
	info->kind = EXPR_COL_RANGE;
	info->min = r.known ? r.min : value_null();
	info->max = r.known ? r.max : value_null();
	info->null_count = r.nulls;
	info->row_count = r.rows;
}

void delta_file_colinfo(const struct delta_metadata *m, const struct delta_file *f, const char *column,
			struct arena *a, struct expr_colinfo *info)
{
	struct file_ctx fc = {m, f, {0}, {0}, false};
	memset(info, 0, sizeof *info);
	colinfo(&fc, column, info);
	struct value v = info->value, lo = info->min, hi = info->max;
	value_copy(a, &info->value, &v);
	value_copy(a, &info->min, &lo);
	value_copy(a, &info->max, &hi);
	arena_free(&fc.a);
}

bool delta_pred_may_match(const struct delta_pred *p, const struct delta_metadata *m, const struct delta_file *f)
{
	struct file_ctx fc = {m, f, {0}, {0}, false};
	bool r = expr_may_match(p->e, colinfo, &fc);
	arena_free(&fc.a);
	return r;
}

bool delta_pred_all_match(const struct delta_pred *p, const struct delta_metadata *m, const struct delta_file *f)
{
	struct file_ctx fc = {m, f, {0}, {0}, false};
	bool r = expr_must_match(p->e, colinfo, &fc);
	arena_free(&fc.a);
	return r;
}
