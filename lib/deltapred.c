/* deltapred.c - the small predicate language of weir-lake-cat --where and
 * weir-lake-write --replace-where (see delta.h).
 *
 * Besides the truth on a row it answers two questions about a whole file
 * from its partition values and add.stats: "may a row match?" (to skip
 * files) and "must every row match?" (to pick the files --replace-where
 * replaces).  Both err on the safe side: unknown means may, never must. */
#include "delta.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "json.h"

enum pk { P_AND, P_OR, P_NOT, P_CMP, P_IN, P_ISNULL };
enum pop { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct pnode {
	enum pk k;
	enum pop op;
	bool neg;              /* P_ISNULL: IS NOT NULL; P_IN: NOT IN */
	char *col;
	const struct type *type;
	bool partition;
	struct value *lits;
	size_t nlits;
	struct pnode *l, *r;
};

struct delta_pred {
	struct pnode *root;
	struct arena a;
	const char **cols;
	size_t ncols;
};

struct parser {
	const char *s, *p;
	struct delta_pred *pred;
	char *err;
	size_t errlen;
	bool failed;
};

static void pfail(struct parser *ps, const char *what)
{
	if (!ps->failed)
		snprintf(ps->err, ps->errlen, "%s near '%.20s'", what, *ps->p ? ps->p : "end of predicate");
	ps->failed = true;
}

static void ws(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static bool word(struct parser *ps, const char *w)
{
	ws(ps);
	size_t n = strlen(w);
	if (strncasecmp(ps->p, w, n) || isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_')
		return false;
	ps->p += n;
	return true;
}

static bool eat(struct parser *ps, char c)
{
	ws(ps);
	if (*ps->p != c)
		return false;
	ps->p++;
	return true;
}

static struct pnode *node(struct parser *ps, enum pk k)
{
	struct pnode *n = arena_alloc(&ps->pred->a, sizeof *n);
	memset(n, 0, sizeof *n);
	n->k = k;
	return n;
}

static char *ident(struct parser *ps)
{
	ws(ps);
	const char *st = ps->p;
	if (*ps->p == '`') {
		const char *e = strchr(ps->p + 1, '`');
		if (!e) {
			pfail(ps, "unterminated `name`");
			return NULL;
		}
		ps->p = e + 1;
		return arena_strndup(&ps->pred->a, st + 1, (size_t)(e - st - 1));
	}
	if (!isalpha((unsigned char)*ps->p) && *ps->p != '_')
		return NULL;
	while (isalnum((unsigned char)*ps->p) || *ps->p == '_' || *ps->p == '.')
		ps->p++;
	return arena_strndup(&ps->pred->a, st, (size_t)(ps->p - st));
}

static bool literal(struct parser *ps, struct value *v)
{
	ws(ps);
	if (*ps->p == '\'' || *ps->p == '"') {
		char q = *ps->p++;
		struct buf b = BUF_INIT;
		for (;;) {
			if (!*ps->p) {
				buf_free(&b);
				pfail(ps, "unterminated string");
				return false;
			}
			if (*ps->p == q && ps->p[1] == q) {
				buf_putc(&b, q);
				ps->p += 2;
				continue;
			}
			if (*ps->p == q) {
				ps->p++;
				break;
			}
			buf_putc(&b, *ps->p++);
		}
		*v = value_str(arena_strndup(&ps->pred->a, b.p ? b.p : "", b.len), b.len);
		buf_free(&b);
		return true;
	}
	if (word(ps, "true") || word(ps, "false")) {
		*v = value_bool(tolower((unsigned char)ps->p[-1]) == 'e' && tolower((unsigned char)ps->p[-2]) == 'u');
		return true;
	}
	if (word(ps, "null")) {
		*v = value_null();
		return true;
	}
	const char *st = ps->p;
	if (*ps->p == '-' || *ps->p == '+')
		ps->p++;
	while (isdigit((unsigned char)*ps->p) || *ps->p == '.' || *ps->p == 'e' || *ps->p == 'E' ||
	       ((*ps->p == '-' || *ps->p == '+') && (ps->p[-1] == 'e' || ps->p[-1] == 'E')))
		ps->p++;
	if (ps->p == st)
		return false;
	struct json_error je;
	if (json_parse(&ps->pred->a, arena_strndup(&ps->pred->a, st, (size_t)(ps->p - st)), (size_t)(ps->p - st), v,
		       &je) ||
	    !value_is_number(v)) {
		ps->p = st;
		pfail(ps, "bad number");
		return false;
	}
	return true;
}

static struct pnode *p_or(struct parser *ps, int depth);

static void add_col(struct parser *ps, const char *c)
{
	struct delta_pred *p = ps->pred;
	for (size_t i = 0; i < p->ncols; i++)
		if (!strcmp(p->cols[i], c))
			return;
	p->cols = xrealloc(p->cols, (p->ncols + 1) * sizeof *p->cols);
	p->cols[p->ncols++] = c;
}

static struct pnode *p_primary(struct parser *ps, int depth)
{
	if (depth > 100) {
		pfail(ps, "predicate nested too deep");
		return NULL;
	}
	if (eat(ps, '(')) {
		struct pnode *n = p_or(ps, depth + 1);
		if (n && !eat(ps, ')'))
			pfail(ps, "expected ')'");
		return ps->failed ? NULL : n;
	}
	if (word(ps, "NOT")) {
		struct pnode *n = node(ps, P_NOT);
		n->l = p_primary(ps, depth + 1);
		return n->l ? n : NULL;
	}
	char *col = ident(ps);
	if (!col || ps->failed) {
		pfail(ps, "expected a column name");
		return NULL;
	}
	add_col(ps, col);
	if (word(ps, "IS")) {
		struct pnode *n = node(ps, P_ISNULL);
		n->col = col;
		n->neg = word(ps, "NOT");
		if (!word(ps, "NULL")) {
			pfail(ps, "expected NULL");
			return NULL;
		}
		return n;
	}
	bool neg = word(ps, "NOT");
	if (word(ps, "IN")) {
		struct pnode *n = node(ps, P_IN);
		n->col = col;
		n->neg = neg;
		if (!eat(ps, '(')) {
			pfail(ps, "expected '(' after IN");
			return NULL;
		}
		size_t cap = 4;
		n->lits = arena_alloc(&ps->pred->a, cap * sizeof *n->lits);
		do {
			if (n->nlits == cap) {
				struct value *nl = arena_alloc(&ps->pred->a, 2 * cap * sizeof *nl);
				memcpy(nl, n->lits, cap * sizeof *nl);
				n->lits = nl;
				cap *= 2;
			}
			if (!literal(ps, &n->lits[n->nlits++])) {
				pfail(ps, "expected a literal");
				return NULL;
			}
		} while (eat(ps, ','));
		if (!eat(ps, ')')) {
			pfail(ps, "expected ')'");
			return NULL;
		}
		return n;
	}
	if (neg) {
		pfail(ps, "expected IN after NOT");
		return NULL;
	}
	ws(ps);
	struct pnode *n = node(ps, P_CMP);
	n->col = col;
	static const struct {
		const char *t;
		enum pop op;
	} ops[] = {{"<=", OP_LE}, {">=", OP_GE}, {"<>", OP_NE}, {"!=", OP_NE}, {"==", OP_EQ},
		   {"=", OP_EQ},  {"<", OP_LT},  {">", OP_GT}};
	size_t i;
	for (i = 0; i < sizeof ops / sizeof *ops; i++)
		if (!strncmp(ps->p, ops[i].t, strlen(ops[i].t)))
			break;
	if (i == sizeof ops / sizeof *ops) {
		/* a bare column is a boolean test: "NOT deleted" */
		if (!*ps->p || *ps->p == ')' || !strncasecmp(ps->p, "AND", 3) || !strncasecmp(ps->p, "OR", 2)) {
			n->op = OP_EQ;
			n->lits = arena_alloc(&ps->pred->a, sizeof *n->lits);
			n->nlits = 1;
			n->lits[0] = value_bool(true);
			return n;
		}
		pfail(ps, "expected a comparison, IN or IS");
		return NULL;
	}
	ps->p += strlen(ops[i].t);
	n->op = ops[i].op;
	n->lits = arena_alloc(&ps->pred->a, sizeof *n->lits);
	n->nlits = 1;
	if (!literal(ps, n->lits)) {
		pfail(ps, "expected a literal");
		return NULL;
	}
	return n;
}

static struct pnode *p_and(struct parser *ps, int depth)
{
	struct pnode *l = p_primary(ps, depth);
	while (l && word(ps, "AND")) {
		struct pnode *n = node(ps, P_AND);
		n->l = l;
		n->r = p_primary(ps, depth);
		l = n->r ? n : NULL;
	}
	return l;
}

static struct pnode *p_or(struct parser *ps, int depth)
{
	struct pnode *l = p_and(ps, depth);
	while (l && word(ps, "OR")) {
		struct pnode *n = node(ps, P_OR);
		n->l = l;
		n->r = p_and(ps, depth);
		l = n->r ? n : NULL;
	}
	return l;
}

struct delta_pred *delta_pred_parse(const char *s, char *err, size_t errlen)
{
	struct delta_pred *p = xcalloc(1, sizeof *p);
	struct parser ps = {s, s, p, err, errlen, false};
	p->root = p_or(&ps, 0);
	ws(&ps);
	if (p->root && *ps.p)
		pfail(&ps, "unexpected text");
	if (!p->root || ps.failed) {
		if (!ps.failed)
			pfail(&ps, "empty predicate");
		delta_pred_free(p);
		return NULL;
	}
	return p;
}

void delta_pred_free(struct delta_pred *p)
{
	if (!p)
		return;
	arena_free(&p->a);
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

static bool bind(struct delta_pred *p, struct pnode *n, const struct delta_metadata *m, bool only_partition,
		 char *err, size_t errlen)
{
	if (n->k == P_AND || n->k == P_OR)
		return bind(p, n->l, m, only_partition, err, errlen) && bind(p, n->r, m, only_partition, err, errlen);
	if (n->k == P_NOT)
		return bind(p, n->l, m, only_partition, err, errlen);
	n->type = path_type(m->schema, n->col);
	if (!n->type) {
		snprintf(err, errlen, "no column '%s' in the table", n->col);
		return false;
	}
	n->partition = false;
	for (size_t i = 0; i < m->npartition_columns; i++)
		if (!strcasecmp(m->partition_columns[i], n->col))
			n->partition = true;
	if (only_partition && !n->partition) {
		snprintf(err, errlen, "column '%s' is not a partition column", n->col);
		return false;
	}
	/* literals take the column's type: '2024-01-02' is a date for a date column */
	for (size_t i = 0; i < n->nlits; i++) {
		struct value *v = &n->lits[i];
		if (v->type == V_NULL)
			continue;
		bool num_col = tkind_vtype(n->type->kind) == V_INT || tkind_vtype(n->type->kind) == V_FLOAT ||
			       n->type->kind == T_DECIMAL;
		if (v->type == V_STRING && n->type->kind != T_STRING) {
			char *text = xstrndup(v->s, v->n);
			int rc = delta_partition_value(text, n->type, &p->a, v);
			free(text);
			if (rc) {
				snprintf(err, errlen, "'%.*s' is not a %s for column '%s'", (int)v->n, v->s,
					 tkind_name(n->type->kind), n->col);
				return false;
			}
		} else if (value_is_number(v) != num_col || (v->type == V_BOOL) != (n->type->kind == T_BOOLEAN)) {
			snprintf(err, errlen, "a literal of the wrong type for column '%s' (%s)", n->col,
				 tkind_name(n->type->kind));
			return false;
		}
	}
	return true;
}

bool delta_pred_bind(struct delta_pred *p, const struct delta_metadata *m, bool only_partition, char *err,
		     size_t errlen)
{
	return bind(p, p->root, m, only_partition, err, errlen);
}

/* ---- rows: three-valued logic, 0 false, 1 true, 2 unknown ---- */

static int cmp_truth(enum pop op, int c)
{
	switch (op) {
	case OP_EQ: return c == 0;
	case OP_NE: return c != 0;
	case OP_LT: return c < 0;
	case OP_LE: return c <= 0;
	case OP_GT: return c > 0;
	case OP_GE: return c >= 0;
	}
	return 0;
}

static int eval(const struct pnode *n, const struct value *row)
{
	const struct value *v;
	int l, r;
	switch (n->k) {
	case P_AND:
		l = eval(n->l, row);
		if (l == 0)
			return 0;
		r = eval(n->r, row);
		return r == 0 ? 0 : (l == 2 || r == 2) ? 2 : 1;
	case P_OR:
		l = eval(n->l, row);
		if (l == 1)
			return 1;
		r = eval(n->r, row);
		return r == 1 ? 1 : (l == 2 || r == 2) ? 2 : 0;
	case P_NOT:
		l = eval(n->l, row);
		return l == 2 ? 2 : !l;
	case P_ISNULL:
		v = value_path(row, n->col);
		return (!v || v->type == V_NULL) != n->neg;
	case P_CMP:
		v = value_path(row, n->col);
		if (!v || v->type == V_NULL || n->lits[0].type == V_NULL)
			return 2;
		return cmp_truth(n->op, value_cmp(v, &n->lits[0]));
	case P_IN: {
		v = value_path(row, n->col);
		if (!v || v->type == V_NULL)
			return 2;
		bool unknown = false;
		for (size_t i = 0; i < n->nlits; i++) {
			if (n->lits[i].type == V_NULL)
				unknown = true;
			else if (value_eq(v, &n->lits[i]))
				return !n->neg;
		}
		return unknown ? 2 : n->neg;
	}
	}
	return 2;
}

bool delta_pred_eval_row(const struct delta_pred *p, const struct value *row)
{
	return eval(p->root, row) == 1;
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

static void col_range(struct file_ctx *fc, const struct pnode *n, struct range *r)
{
	memset(r, 0, sizeof *r);
	r->nulls = r->rows = -1;
	if (n->partition) {
		const struct delta_kv *kv = NULL;
		for (size_t i = 0; i < fc->f->partition_values.n; i++)
			if (!strcasecmp(fc->f->partition_values.kv[i].key, n->col))
				kv = &fc->f->partition_values.kv[i];
		struct value v;
		if (!kv || delta_partition_value(kv->val, n->type, &fc->a, &v))
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
	const struct value *nc = stat_at(&fc->stats, "nullCount", n->col);
	const struct value *mn = stat_at(&fc->stats, "minValues", n->col);
	const struct value *mx = stat_at(&fc->stats, "maxValues", n->col);
	if (nr && nr->type == V_INT)
		r->rows = nr->i;
	if (nc && nc->type == V_INT)
		r->nulls = nc->i;
	if (!mn || !mx || mn->type == V_NULL || mx->type == V_NULL || !tkind_is_primitive(n->type->kind))
		return;
	struct value lo = *mn, hi = *mx;
	if (mn->type == V_STRING && n->type->kind != T_STRING) {
		char *t1 = xstrndup(mn->s, mn->n), *t2 = xstrndup(mx->s, mx->n);
		int bad = delta_partition_value(t1, n->type, &fc->a, &lo) | delta_partition_value(t2, n->type, &fc->a, &hi);
		free(t1);
		free(t2);
		if (bad)
			return;
		/* timestamps in stats are cut to milliseconds */
		if (hi.type == V_TIMESTAMP || hi.type == V_TIMESTAMP_NTZ)
			hi.i += 999;
	}
	if (n->type->kind == T_STRING) {
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

static bool must(struct file_ctx *fc, const struct pnode *n);

static bool in_list(const struct pnode *n, const struct value *v)
{
	for (size_t i = 0; i < n->nlits; i++)
		if (value_eq(v, &n->lits[i]))
			return true;
	return false;
}

static bool may(struct file_ctx *fc, const struct pnode *n)
{
	struct range r;
	switch (n->k) {
	case P_AND: return may(fc, n->l) && may(fc, n->r);
	case P_OR: return may(fc, n->l) || may(fc, n->r);
	case P_NOT: return !must(fc, n->l);
	case P_ISNULL:
		col_range(fc, n, &r);
		if (n->neg)
			return !(r.nulls >= 0 && r.rows >= 0 && r.nulls >= r.rows);
		return r.nulls != 0;
	case P_CMP: {
		col_range(fc, n, &r);
		if (n->lits[0].type == V_NULL || (r.nulls >= 0 && r.rows >= 0 && r.nulls >= r.rows))
			return false;
		if (!r.known)
			return true;
		const struct value *x = &n->lits[0];
		switch (n->op) {
		case OP_EQ: return value_cmp(&r.min, x) <= 0 && value_cmp(&r.max, x) >= 0;
		case OP_NE: return !(value_cmp(&r.min, x) == 0 && value_cmp(&r.max, x) == 0);
		case OP_LT: return value_cmp(&r.min, x) < 0;
		case OP_LE: return value_cmp(&r.min, x) <= 0;
		case OP_GT: return value_cmp(&r.max, x) > 0;
		case OP_GE: return value_cmp(&r.max, x) >= 0;
		}
		return true;
	}
	case P_IN: {
		col_range(fc, n, &r);
		if (r.nulls >= 0 && r.rows >= 0 && r.nulls >= r.rows)
			return false;
		if (!r.known)
			return true;
		if (n->neg)
			return !(value_cmp(&r.min, &r.max) == 0 && in_list(n, &r.min));
		for (size_t i = 0; i < n->nlits; i++)
			if (n->lits[i].type != V_NULL && value_cmp(&r.min, &n->lits[i]) <= 0 &&
			    value_cmp(&r.max, &n->lits[i]) >= 0)
				return true;
		return false;
	}
	}
	return true;
}

static bool must(struct file_ctx *fc, const struct pnode *n)
{
	struct range r;
	switch (n->k) {
	case P_AND: return must(fc, n->l) && must(fc, n->r);
	case P_OR: return must(fc, n->l) || must(fc, n->r);
	case P_NOT: return !may(fc, n->l);
	case P_ISNULL:
		col_range(fc, n, &r);
		if (n->neg)
			return r.nulls == 0;
		return r.nulls >= 0 && r.rows >= 0 && r.nulls >= r.rows;
	case P_CMP: {
		col_range(fc, n, &r);
		if (!r.known || r.nulls != 0 || n->lits[0].type == V_NULL)
			return false;
		const struct value *x = &n->lits[0];
		switch (n->op) {
		case OP_EQ: return value_cmp(&r.min, x) == 0 && value_cmp(&r.max, x) == 0;
		case OP_NE: return value_cmp(&r.max, x) < 0 || value_cmp(&r.min, x) > 0;
		case OP_LT: return value_cmp(&r.max, x) < 0;
		case OP_LE: return value_cmp(&r.max, x) <= 0;
		case OP_GT: return value_cmp(&r.min, x) > 0;
		case OP_GE: return value_cmp(&r.min, x) >= 0;
		}
		return false;
	}
	case P_IN: {
		col_range(fc, n, &r);
		if (!r.known || r.nulls != 0 || value_cmp(&r.min, &r.max) != 0)
			return false;
		bool has_null = false;
		for (size_t i = 0; i < n->nlits; i++)
			has_null |= n->lits[i].type == V_NULL;
		return n->neg ? !in_list(n, &r.min) && !has_null : in_list(n, &r.min);
	}
	}
	return false;
}

bool delta_pred_may_match(const struct delta_pred *p, const struct delta_metadata *m, const struct delta_file *f)
{
	struct file_ctx fc = {m, f, {0}, {0}, false};
	bool r = may(&fc, p->root);
	arena_free(&fc.a);
	return r;
}

bool delta_pred_all_match(const struct delta_pred *p, const struct delta_metadata *m, const struct delta_file *f)
{
	struct file_ctx fc = {m, f, {0}, {0}, false};
	bool r = must(&fc, p->root);
	arena_free(&fc.a);
	return r;
}
