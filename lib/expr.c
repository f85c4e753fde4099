/* expr.c - see expr.h.
 *
 * A recursive-descent parser builds a small tree in an arena; evaluation
 * walks it.  Pruning (expr_may_match) evaluates the same tree over sets of
 * possible truth values, so one definition of each operator serves both. */
#include "expr.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "diag.h"
#include "json.h"
#include "timeutil.h"

#define EXPR_MAX_DEPTH 200

enum op {
	OP_LIT, OP_COL,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, /* keep in this order: see flip() */
	OP_AND, OP_OR, OP_NOT, OP_ISNULL, OP_IN, OP_LIKE, OP_TRUTH,
};

/* A string literal read as each type it could be compared with, worked out
 * once at compile time instead of per record. */
struct alt {
	bool num_ok, bool_ok, date_ok, ts_ok;
	struct value num;
	bool b;
	int64_t date, ts;
};

/* LIKE pattern after escapes are resolved: bytes 0..255, and two
 * wildcards outside the byte range so no input byte can pose as one. */
enum { LIKE_ANY = 256, LIKE_ONE = 257 };

struct node {
	enum op op;
	bool neg;                 /* NOT IN, NOT LIKE, IS NOT NULL */
	struct node *l, *r;
	struct node **list;       /* OP_IN items */
	size_t nlist;
	struct value v;           /* OP_LIT */
	struct alt *alt;          /* OP_LIT strings */
	size_t col;               /* OP_COL: index into expr.cols */
	const uint16_t *pat;      /* OP_LIKE */
	size_t patlen;
	const char *prefix;       /* OP_LIKE: the literal bytes before the first wildcard */
	size_t prefixlen;
};

struct column {
	char *name;      /* dotted */
	char **seg;
	size_t *seglen;
	size_t nseg;
	/* where seg[0] was found in the last record of this layout
	 * (expr_eval_layout), so records that share it skip the search */
	uint64_t layout;
	uint32_t pos;    /* UINT32_MAX: absent */
};

struct expr {
	struct arena arena;
	struct node *root;
	struct column *cols;
	size_t ncols;
	/* when root compares a top-level column with a literal, the usual
	 * filter: its parts, for expr_eval_layout's short way; col NULL else */
	struct column *cmp_col;
	const struct value *cmp_lit;
	enum op cmp_op;
};

/* ---- lexer and parser ---- */

struct parser {
	const char *src, *p;
	struct expr *e;
	struct expr_error *err;
	bool failed;
	int depth;
};

static void perr(struct parser *ps, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(struct parser *ps, const char *at, const char *fmt, ...)
{
	if (ps->failed)
		return;
	ps->failed = true;
	if (!ps->err)
		return;
	ps->err->pos = (size_t)(at - ps->src);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
	va_end(ap);
}

static void skip_ws(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static bool ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Case-insensitive keyword at the cursor, not followed by a name character. */
static bool peek_word(struct parser *ps, const char *w)
{
	skip_ws(ps);
	size_t n = strlen(w);
	return !strncasecmp(ps->p, w, n) && !ident_char((unsigned char)ps->p[n]);
}

static bool eat_word(struct parser *ps, const char *w)
{
	if (!peek_word(ps, w))
		return false;
	ps->p += strlen(w);
	return true;
}

static bool eat(struct parser *ps, const char *tok)
{
	skip_ws(ps);
	size_t n = strlen(tok);
	if (strncmp(ps->p, tok, n))
		return false;
	ps->p += n;
	return true;
}

static bool is_reserved(const char *s, size_t n)
{
	static const char *words[] = {"AND", "OR", "NOT", "IS", "IN", "LIKE", "BETWEEN", "TRUE", "FALSE", "NULL"};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strlen(words[i]) == n && !strncasecmp(s, words[i], n))
			return true;
	return false;
}

static struct node *new_node(struct parser *ps, enum op op)
{
	struct node *n = arena_alloc(&ps->e->arena, sizeof *n);
	memset(n, 0, sizeof *n);
	n->op = op;
	return n;
}

/* A quoted string ('' or "" doubles the quote; backslash escapes as in Spark
 * SQL).  Returns arena text, or NULL on error. */
static char *quoted(struct parser *ps, size_t *len)
{
	const char *start = ps->p;
	char q = *ps->p++;
	struct buf b = BUF_INIT;
	for (;;) {
		char c = *ps->p;
		if (!c) {
			buf_free(&b);
			perr(ps, start, "unterminated string");
			return NULL;
		}
		ps->p++;
		if (c == q) {
			if (*ps->p != q)
				break;
			ps->p++;
		} else if (c == '\\') {
			c = *ps->p;
			if (!c)
				continue; /* reported as unterminated next round */
			ps->p++;
			switch (c) {
			case '%':
			case '_':
				/* kept escaped for LIKE, as Spark SQL does */
				buf_putc(&b, '\\');
				break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '0': c = '\0'; break;
			default: break;
			}
		}
		buf_putc(&b, c);
	}
	if (!utf8_valid(b.p ? b.p : "", b.len)) {
		buf_free(&b);
		perr(ps, start, "invalid UTF-8 in string");
		return NULL;
	}
	char *s = arena_strndup(&ps->e->arena, b.p ? b.p : "", b.len);
	*len = b.len;
	buf_free(&b);
	return s;
}

/* Parse a number span the way JSON reads numbers, so 12.30 is a decimal. */
static bool text_number(const char *s, size_t n, struct value *out)
{
	if (!n || (s[0] != '-' && !isdigit((unsigned char)s[0])))
		return false;
	struct arena a = {0};
	struct json_error je;
	int rc = json_parse(&a, s, n, out, &je);
	arena_free(&a);
	return !rc && value_is_number(out);
}

static void fill_alt(struct parser *ps, struct node *n)
{
	struct alt *a = arena_alloc(&ps->e->arena, sizeof *a);
	memset(a, 0, sizeof *a);
	const char *s = n->v.s;
	size_t len = n->v.n;
	a->num_ok = text_number(s, len, &a->num);
	if (!a->num_ok && (len == 3 || len == 8 || len == 9)) {
		double d = NAN;
		if (!strncasecmp(s, "NaN", len) && len == 3)
			a->num_ok = true;
		else if (len == 8 && !strncasecmp(s, "Infinity", 8))
			a->num_ok = true, d = INFINITY;
		else if (len == 9 && !strncasecmp(s, "-Infinity", 9))
			a->num_ok = true, d = -INFINITY;
		a->num = value_float(d);
	}
	if (len == 4 && !strncasecmp(s, "true", 4))
		a->bool_ok = a->b = true;
	else if (len == 5 && !strncasecmp(s, "false", 5))
		a->bool_ok = true;
	a->date_ok = parse_iso_date(s, len, &a->date);
	bool zone;
	a->ts_ok = parse_iso_timestamp(s, len, &a->ts, &zone);
	n->alt = a;
}

static size_t add_column(struct parser *ps, struct buf *name, char **seg, size_t nseg)
{
	struct expr *e = ps->e;
	for (size_t i = 0; i < e->ncols; i++)
		if (!strcmp(e->cols[i].name, buf_cstr(name)))
			return i;
	e->cols = xrealloc(e->cols, (e->ncols + 1) * sizeof *e->cols);
	struct column *c = &e->cols[e->ncols];
	c->name = arena_strndup(&e->arena, name->p, name->len);
	c->seg = arena_alloc(&e->arena, nseg * sizeof *c->seg);
	c->seglen = arena_alloc(&e->arena, nseg * sizeof *c->seglen);
	for (size_t i = 0; i < nseg; i++) {
		c->seg[i] = seg[i];
		c->seglen[i] = strlen(seg[i]);
	}
	c->nseg = nseg;
	c->layout = 0;
	return e->ncols++;
}

static struct node *column(struct parser *ps)
{
	struct buf name = BUF_INIT;
	char *seg[64];
	size_t nseg = 0;
	for (;;) {
		const char *at = ps->p;
		char *s;
		size_t len;
		if (*ps->p == '`') {
			/* `` inside backquotes is one backquote */
			struct buf b = BUF_INIT;
			ps->p++;
			for (;;) {
				if (!*ps->p) {
					buf_free(&b);
					buf_free(&name);
					perr(ps, at, "unterminated `name`");
					return NULL;
				}
				if (*ps->p == '`' && ps->p[1] != '`')
					break;
				if (*ps->p == '`')
					ps->p++;
				buf_putc(&b, *ps->p++);
			}
			ps->p++;
			len = b.len;
			if (!len) {
				buf_free(&name);
				perr(ps, at, "empty `name`");
				return NULL;
			}
			s = arena_strndup(&ps->e->arena, b.p, len);
			buf_free(&b);
		} else {
			while (ident_char((unsigned char)*ps->p))
				ps->p++;
			len = (size_t)(ps->p - at);
			s = arena_strndup(&ps->e->arena, at, len);
		}
		if (nseg == sizeof seg / sizeof *seg) {
			buf_free(&name);
			perr(ps, at, "column path too long");
			return NULL;
		}
		seg[nseg++] = s;
		if (name.len)
			buf_putc(&name, '.');
		buf_put(&name, s, len);
		if (*ps->p == '.' && (ident_start((unsigned char)ps->p[1]) || ps->p[1] == '`')) {
			ps->p++;
			continue;
		}
		break;
	}
	struct node *n = new_node(ps, OP_COL);
	n->col = add_column(ps, &name, seg, nseg);
	buf_free(&name);
	return n;
}

static struct node *literal_string(struct parser *ps)
{
	size_t len;
	char *s = quoted(ps, &len);
	if (!s)
		return NULL;
	struct node *n = new_node(ps, OP_LIT);
	n->v = value_str(s, len);
	fill_alt(ps, n);
	return n;
}

/* DATE '...', TIMESTAMP '...', TIMESTAMP_NTZ '...' */
static struct node *typed_literal(struct parser *ps, enum vtype t)
{
	skip_ws(ps);
	const char *at = ps->p;
	size_t len;
	char *s = quoted(ps, &len);
	if (!s)
		return NULL;
	struct node *n = new_node(ps, OP_LIT);
	n->v.type = (uint8_t)t;
	bool zone = false, ok;
	if (t == V_DATE)
		ok = parse_iso_date(s, len, &n->v.i);
	else
		ok = parse_iso_timestamp(s, len, &n->v.i, &zone) && !(t == V_TIMESTAMP_NTZ && zone);
	if (!ok) {
		perr(ps, at, "bad %s literal", vtype_name(t));
		return NULL;
	}
	return n;
}

static struct node *parse_or(struct parser *ps);

static struct node *operand(struct parser *ps)
{
	skip_ws(ps);
	const char *at = ps->p;
	unsigned char c = (unsigned char)*ps->p;
	if (c == '(') {
		ps->p++;
		struct node *n = parse_or(ps);
		if (!n)
			return NULL;
		if (!eat(ps, ")")) {
			perr(ps, ps->p, "expected ')'");
			return NULL;
		}
		return n;
	}
	if (c == '\'' || c == '"')
		return literal_string(ps);
	if (c == '-' || isdigit(c)) {
		const char *q = ps->p + (c == '-');
		if (!isdigit((unsigned char)*q)) {
			perr(ps, at, "expected a number after '-' (there is no arithmetic)");
			return NULL;
		}
		while (isalnum((unsigned char)*q) || *q == '.' ||
		       ((*q == '+' || *q == '-') && (q[-1] == 'e' || q[-1] == 'E')))
			q++;
		struct node *n = new_node(ps, OP_LIT);
		if (!text_number(ps->p, (size_t)(q - ps->p), &n->v)) {
			perr(ps, at, "bad number");
			return NULL;
		}
		ps->p = q;
		return n;
	}
	if (c == '`')
		return column(ps);
	if (ident_start(c)) {
		const char *e = ps->p;
		while (ident_char((unsigned char)*e))
			e++;
		size_t len = (size_t)(e - ps->p);
		const char *after = e;
		while (isspace((unsigned char)*after))
			after++;
		bool quote_next = *after == '\'' || *after == '"';
		if (quote_next && len == 4 && !strncasecmp(at, "DATE", 4)) {
			ps->p = e;
			return typed_literal(ps, V_DATE);
		}
		if (quote_next && len == 9 && !strncasecmp(at, "TIMESTAMP", 9)) {
			ps->p = e;
			return typed_literal(ps, V_TIMESTAMP);
		}
		if (quote_next && len == 13 && !strncasecmp(at, "TIMESTAMP_NTZ", 13)) {
			ps->p = e;
			return typed_literal(ps, V_TIMESTAMP_NTZ);
		}
		if (len == 4 && !strncasecmp(at, "TRUE", 4)) {
			ps->p = e;
			struct node *n = new_node(ps, OP_LIT);
			n->v = value_bool(true);
			return n;
		}
		if (len == 5 && !strncasecmp(at, "FALSE", 5)) {
			ps->p = e;
			struct node *n = new_node(ps, OP_LIT);
			n->v = value_bool(false);
			return n;
		}
		if (len == 4 && !strncasecmp(at, "NULL", 4)) {
			ps->p = e;
			return new_node(ps, OP_LIT);
		}
		if (is_reserved(at, len)) {
			perr(ps, at, "expected a value, not '%.*s'", (int)len, at);
			return NULL;
		}
		return column(ps);
	}
	if (!c)
		perr(ps, at, "unexpected end of expression");
	else
		perr(ps, at, "unexpected character '%c'", isprint(c) ? c : '?');
	return NULL;
}

static int cmp_op(struct parser *ps)
{
	skip_ws(ps);
	static const struct {
		const char *tok;
		enum op op;
	} ops[] = {
		{"==", OP_EQ}, {"!=", OP_NE}, {"<>", OP_NE}, {"<=", OP_LE}, {">=", OP_GE},
		{"=", OP_EQ}, {"<", OP_LT}, {">", OP_GT},
	};
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
		if (eat(ps, ops[i].tok))
			return ops[i].op;
	return -1;
}

static struct node *binary(struct parser *ps, enum op op, struct node *l, struct node *r)
{
	struct node *n = new_node(ps, op);
	n->l = l;
	n->r = r;
	return n;
}

static struct node *like_pattern(struct parser *ps, struct node *n)
{
	skip_ws(ps);
	const char *at = ps->p;
	if (*ps->p != '\'' && *ps->p != '"') {
		perr(ps, at, "LIKE needs a quoted pattern");
		return NULL;
	}
	size_t len;
	char *s = quoted(ps, &len);
	if (!s)
		return NULL;
	/* a backslash left after quoted() escapes the next character */
	uint16_t *pat = arena_alloc(&ps->e->arena, (len + 1) * sizeof *pat);
	char *prefix = arena_alloc(&ps->e->arena, len + 1);
	size_t k = 0;
	bool wild = false;
	n->prefixlen = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' && i + 1 < len) {
			c = (unsigned char)s[++i];
		} else if (c == '%' || c == '_') {
			pat[k++] = c == '%' ? LIKE_ANY : LIKE_ONE;
			wild = true;
			continue;
		}
		if (!wild)
			prefix[n->prefixlen++] = (char)c;
		pat[k++] = c;
	}
	n->pat = pat;
	n->patlen = k;
	n->prefix = prefix;
	return n;
}

static struct node *predicate(struct parser *ps)
{
	struct node *l = operand(ps);
	if (!l)
		return NULL;
	int op = cmp_op(ps);
	if (op >= 0) {
		struct node *r = operand(ps);
		return r ? binary(ps, (enum op)op, l, r) : NULL;
	}
	if (eat_word(ps, "IS")) {
		struct node *n = new_node(ps, OP_ISNULL);
		n->l = l;
		n->neg = eat_word(ps, "NOT");
		if (!eat_word(ps, "NULL")) {
			perr(ps, ps->p, "expected NULL or NOT NULL after IS");
			return NULL;
		}
		return n;
	}
	bool neg = false;
	if (peek_word(ps, "NOT")) {
		const char *save = ps->p;
		eat_word(ps, "NOT");
		if (!peek_word(ps, "IN") && !peek_word(ps, "LIKE") && !peek_word(ps, "BETWEEN")) {
			ps->p = save;
			perr(ps, save, "expected IN, LIKE or BETWEEN after NOT");
			return NULL;
		}
		neg = true;
	}
	if (eat_word(ps, "IN")) {
		struct node *n = new_node(ps, OP_IN);
		n->l = l;
		n->neg = neg;
		if (!eat(ps, "(")) {
			perr(ps, ps->p, "expected '(' after IN");
			return NULL;
		}
		size_t cap = 0;
		do {
			struct node *item = operand(ps);
			if (!item)
				return NULL;
			if (n->nlist == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				struct node **nl = arena_alloc(&ps->e->arena, ncap * sizeof *nl);
				if (cap)
					memcpy(nl, n->list, cap * sizeof *nl);
				n->list = nl;
				cap = ncap;
			}
			n->list[n->nlist++] = item;
		} while (eat(ps, ","));
		if (!eat(ps, ")")) {
			perr(ps, ps->p, "expected ',' or ')' in IN list");
			return NULL;
		}
		return n;
	}
	if (eat_word(ps, "LIKE")) {
		struct node *n = new_node(ps, OP_LIKE);
		n->l = l;
		n->neg = neg;
		return like_pattern(ps, n);
	}
	if (eat_word(ps, "BETWEEN")) {
		struct node *lo = operand(ps);
		if (!lo)
			return NULL;
		if (!eat_word(ps, "AND")) {
			perr(ps, ps->p, "expected AND in BETWEEN");
			return NULL;
		}
		struct node *hi = operand(ps);
		if (!hi)
			return NULL;
		struct node *n = binary(ps, OP_AND, binary(ps, OP_GE, l, lo), binary(ps, OP_LE, l, hi));
		if (neg) {
			struct node *x = new_node(ps, OP_NOT);
			x->l = n;
			n = x;
		}
		return n;
	}
	/* a lone operand is a predicate of its own: a boolean column, TRUE, (a OR b) */
	if (l->op == OP_COL || l->op == OP_LIT) {
		struct node *n = new_node(ps, OP_TRUTH);
		n->l = l;
		return n;
	}
	return l;
}

static struct node *parse_not(struct parser *ps)
{
	if (++ps->depth > EXPR_MAX_DEPTH) {
		perr(ps, ps->p, "expression nested too deep");
		return NULL;
	}
	struct node *n;
	if (eat_word(ps, "NOT")) {
		struct node *x = parse_not(ps);
		if (!x)
			return NULL;
		n = new_node(ps, OP_NOT);
		n->l = x;
	} else {
		n = predicate(ps);
	}
	ps->depth--;
	return n;
}

static struct node *parse_and(struct parser *ps)
{
	struct node *l = parse_not(ps);
	while (l && eat_word(ps, "AND")) {
		struct node *r = parse_not(ps);
		l = r ? binary(ps, OP_AND, l, r) : NULL;
	}
	return l;
}

static struct node *parse_or(struct parser *ps)
{
	if (++ps->depth > EXPR_MAX_DEPTH) {
		perr(ps, ps->p, "expression nested too deep");
		return NULL;
	}
	struct node *l = parse_and(ps);
	while (l && eat_word(ps, "OR")) {
		struct node *r = parse_and(ps);
		l = r ? binary(ps, OP_OR, l, r) : NULL;
	}
	ps->depth--;
	return l;
}

struct expr *expr_compile(const char *src, struct expr_error *err)
{
	struct expr *e = xcalloc(1, sizeof *e);
	struct parser ps = {.src = src, .p = src, .e = e, .err = err};
	skip_ws(&ps);
	if (!utf8_valid(src, strlen(src)))
		perr(&ps, src, "expression is not valid UTF-8");
	else if (!*ps.p)
		perr(&ps, ps.p, "empty expression");
	else
		e->root = parse_or(&ps);
	skip_ws(&ps);
	if (!ps.failed && *ps.p)
		perr(&ps, ps.p, "unexpected text after the expression");
	if (ps.failed || !e->root) {
		if (!ps.failed)
			perr(&ps, ps.p, "bad expression");
		expr_free(e);
		return NULL;
	}
	const struct node *n = e->root;
	if (n->op >= OP_EQ && n->op <= OP_GE && n->l->op == OP_COL && n->r->op == OP_LIT &&
	    e->cols[n->l->col].nseg == 1) {
		e->cmp_col = &e->cols[n->l->col];
		e->cmp_lit = &n->r->v;
		e->cmp_op = n->op;
	}
	return e;
}

void expr_free(struct expr *e)
{
	if (!e)
		return;
	free(e->cols);
	arena_free(&e->arena);
	free(e);
}

size_t expr_ncolumns(const struct expr *e) { return e->ncols; }
const char *expr_column(const struct expr *e, size_t i) { return i < e->ncols ? e->cols[i].name : NULL; }

/* ---- evaluation ---- */

static const struct value null_value = {.type = V_NULL};

/* Where column values come from: a record, or (for pruning) what the caller
 * told us per column; `known[i]` false means the value is not one value. */
struct env {
	const struct expr *e;
	const struct value *rec;
	uint64_t layout;                 /* rec's, or 0 */
	const struct expr_colinfo *info; /* pruning only */
};

static const struct value *member(const struct value *obj, const char *name, size_t n)
{
	const struct value *v = value_get(obj, name, n);
	if (v || !obj || obj->type != V_OBJECT)
		return v;
	for (uint32_t i = obj->n; i-- > 0;) {
		const struct value *k = &obj->a[2 * i];
		if (k->n == n && !strncasecmp(k->s, name, n))
			return &obj->a[2 * i + 1];
	}
	return NULL;
}

static inline const struct value *column_value(const struct env *env, size_t idx)
{
	if (env->info) {
		const struct expr_colinfo *ci = &env->info[idx];
		return ci->kind == EXPR_COL_VALUE ? &ci->value : NULL;
	}
	struct column *c = &env->e->cols[idx];
	const struct value *v = env->rec;
	size_t i = 0;
	if (env->layout && v->type == V_OBJECT) {
		if (c->layout != env->layout) {
			const struct value *f = member(v, c->seg[0], c->seglen[0]);
			c->layout = env->layout;
			c->pos = f ? (uint32_t)((f - v->a) / 2) : UINT32_MAX;
		}
		v = c->pos == UINT32_MAX ? NULL : &v->a[2 * (size_t)c->pos + 1];
		i = 1;
	}
	for (; i < c->nseg && v; i++)
		v = member(v, c->seg[i], c->seglen[i]);
	return v ? v : &null_value;
}

static bool str_to(const char *s, size_t n, enum vtype want, struct value *out)
{
	bool zone;
	switch (want) {
	case V_INT:
	case V_FLOAT:
	case V_DECIMAL:
		return text_number(s, n, out);
	case V_BOOL:
		if (n == 4 && !strncasecmp(s, "true", 4))
			*out = value_bool(true);
		else if (n == 5 && !strncasecmp(s, "false", 5))
			*out = value_bool(false);
		else
			return false;
		return true;
	case V_DATE:
		out->type = V_DATE;
		return parse_iso_date(s, n, &out->i);
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		out->type = (uint8_t)want;
		return parse_iso_timestamp(s, n, &out->i, &zone);
	default:
		return false;
	}
}

/* Read a string as `want`, using the literal's precomputed forms if any. */
static bool coerce(const struct value *s, const struct alt *alt, enum vtype want, struct value *out)
{
	if (!alt)
		return str_to(s->s, s->n, want, out);
	switch (want) {
	case V_INT:
	case V_FLOAT:
	case V_DECIMAL:
		*out = alt->num;
		return alt->num_ok;
	case V_BOOL:
		*out = value_bool(alt->b);
		return alt->bool_ok;
	case V_DATE:
		*out = value_typed_int(V_DATE, alt->date);
		return alt->date_ok;
	case V_TIMESTAMP:
	case V_TIMESTAMP_NTZ:
		*out = value_typed_int(want, alt->ts);
		return alt->ts_ok;
	default:
		return false;
	}
}

static bool is_temporal(int t)
{
	return t == V_DATE || t == V_TIMESTAMP || t == V_TIMESTAMP_NTZ;
}

static int64_t temporal_micros(const struct value *v)
{
	return v->type == V_DATE ? v->i * 86400 * 1000000 : v->i;
}

/* Integers and decimals, and timestamps of either kind, compared as
 * value_cmp would, in a few instructions; false for other types. */
static inline bool cmp_fixed(const struct value *a, const struct value *b, int *out)
{
	if (a->type == V_INT || a->type == V_DECIMAL) {
		if (b->type != V_INT && b->type != V_DECIMAL)
			return false;
		*out = decimal_cmp(a->type == V_INT ? a->i : a->d, a->type == V_INT ? 0 : a->scale,
				   b->type == V_INT ? b->i : b->d, b->type == V_INT ? 0 : b->scale);
		return true;
	}
	if ((a->type == V_TIMESTAMP || a->type == V_TIMESTAMP_NTZ) &&
	    (b->type == V_TIMESTAMP || b->type == V_TIMESTAMP_NTZ)) {
		*out = (a->i > b->i) - (a->i < b->i);
		return true;
	}
	return false;
}

/* Compare a and b (alts: literal forms of string literals, or NULL); false
 * when the comparison is unknown (NULL, or types that do not compare). */
static bool compare(const struct value *a, const struct alt *aa, const struct value *b, const struct alt *ba, int *out)
{
	if (a->type == V_NULL || b->type == V_NULL)
		return false;
	struct value tmp;
	if (a->type == V_STRING && b->type != V_STRING && b->type != V_BINARY) {
		if (!coerce(a, aa, (enum vtype)b->type, &tmp))
			return false;
		a = &tmp;
	} else if (b->type == V_STRING && a->type != V_STRING && a->type != V_BINARY) {
		if (!coerce(b, ba, (enum vtype)a->type, &tmp))
			return false;
		b = &tmp;
	}
	if (value_is_number(a) && value_is_number(b)) {
		*out = value_cmp(a, b);
		return true;
	}
	if (is_temporal(a->type) && is_temporal(b->type)) {
		int64_t x = temporal_micros(a), y = temporal_micros(b);
		*out = (x > y) - (x < y);
		return true;
	}
	bool bytes_a = a->type == V_STRING || a->type == V_BINARY, bytes_b = b->type == V_STRING || b->type == V_BINARY;
	if (bytes_a && bytes_b) {
		size_t n = a->n < b->n ? a->n : b->n;
		int c = memcmp(a->s, b->s, n);
		*out = c ? (c < 0 ? -1 : 1) : (a->n > b->n) - (a->n < b->n);
		return true;
	}
	if (a->type != b->type && !(a->type == V_OBJECT && b->type == V_MAP) && !(a->type == V_MAP && b->type == V_OBJECT))
		return false;
	*out = value_cmp(a, b);
	return true;
}

static enum expr_truth cmp_truth(enum op op, int c)
{
	bool r;
	switch (op) {
	case OP_EQ: r = c == 0; break;
	case OP_NE: r = c != 0; break;
	case OP_LT: r = c < 0; break;
	case OP_LE: r = c <= 0; break;
	case OP_GT: r = c > 0; break;
	default: r = c >= 0; break;
	}
	return r ? EXPR_TRUE : EXPR_FALSE;
}

static bool like_match(const char *s, size_t n, const uint16_t *p, size_t m)
{
	/* Greedy match with backtracking to the last '%': linear in practice,
	 * O(n*m) at worst, never exponential. */
	size_t i = 0, j = 0, star_j = (size_t)-1, star_i = 0;
	while (i < n) {
		if (j < m && p[j] == LIKE_ONE) {
			/* one character, which in UTF-8 may be several bytes */
			i++;
			while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
				i++;
			j++;
		} else if (j < m && p[j] == LIKE_ANY) {
			star_j = j++;
			star_i = i;
		} else if (j < m && p[j] == (unsigned char)s[i]) {
			i++;
			j++;
		} else if (star_j != (size_t)-1) {
			j = star_j + 1;
			i = ++star_i;
		} else {
			return false;
		}
	}
	while (j < m && p[j] == LIKE_ANY)
		j++;
	return j == m;
}

static enum expr_truth eval(const struct env *env, const struct node *n);

static const struct value *truth_value(const struct env *env, const struct node *n, struct value *tmp)
{
	enum expr_truth t = eval(env, n);
	*tmp = t == EXPR_UNKNOWN ? value_null() : value_bool(t == EXPR_TRUE);
	return tmp;
}

/* The value of an operand node; sub-expressions become booleans or NULL.
 * NULL pointer: not known (pruning only).  In line: a filter evaluates
 * one or two per record, and the calls cost more than the work. */
static inline __attribute__((always_inline)) const struct value *operand_value(const struct env *env,
									      const struct node *n,
									      struct value *tmp)
{
	if (n->op == OP_LIT)
		return &n->v;
	if (n->op == OP_COL)
		return column_value(env, n->col);
	return truth_value(env, n, tmp);
}

static const struct alt *alt_of(const struct node *n)
{
	return n->op == OP_LIT ? n->alt : NULL;
}

static enum expr_truth eval_like(const struct env *env, const struct node *n)
{
	struct value tmp;
	const struct value *v = operand_value(env, n->l, &tmp);
	if (v->type == V_NULL)
		return EXPR_UNKNOWN;
	bool m;
	if (v->type == V_STRING || v->type == V_BINARY) {
		m = like_match(v->s, v->n, n->pat, n->patlen);
	} else if (v->type == V_ARRAY || v->type == V_OBJECT || v->type == V_MAP) {
		return EXPR_UNKNOWN;
	} else {
		/* numbers, dates and timestamps match in their canonical text */
		struct buf b = BUF_INIT;
		json_write(&b, v);
		size_t off = b.len && b.p[0] == '"';
		m = like_match(b.p + off, b.len - 2 * off, n->pat, n->patlen);
		buf_free(&b);
	}
	return m != n->neg ? EXPR_TRUE : EXPR_FALSE;
}

static enum expr_truth eval_in(const struct env *env, const struct node *n)
{
	struct value t1, t2;
	const struct value *v = operand_value(env, n->l, &t1);
	if (v->type == V_NULL)
		return EXPR_UNKNOWN;
	bool unknown = false;
	for (size_t i = 0; i < n->nlist; i++) {
		const struct value *x = operand_value(env, n->list[i], &t2);
		int c;
		if (!compare(v, alt_of(n->l), x, alt_of(n->list[i]), &c))
			unknown = true;
		else if (c == 0)
			return n->neg ? EXPR_FALSE : EXPR_TRUE;
	}
	if (unknown)
		return EXPR_UNKNOWN;
	return n->neg ? EXPR_TRUE : EXPR_FALSE;
}

static enum expr_truth not3(enum expr_truth t)
{
	return t == EXPR_UNKNOWN ? t : t == EXPR_TRUE ? EXPR_FALSE : EXPR_TRUE;
}

static enum expr_truth eval(const struct env *env, const struct node *n)
{
	struct value t1, t2;
	switch (n->op) {
	case OP_AND: {
		enum expr_truth l = eval(env, n->l);
		if (l == EXPR_FALSE)
			return l;
		enum expr_truth r = eval(env, n->r);
		if (r == EXPR_FALSE)
			return r;
		return l == EXPR_TRUE && r == EXPR_TRUE ? EXPR_TRUE : EXPR_UNKNOWN;
	}
	case OP_OR: {
		enum expr_truth l = eval(env, n->l);
		if (l == EXPR_TRUE)
			return l;
		enum expr_truth r = eval(env, n->r);
		if (r == EXPR_TRUE)
			return r;
		return l == EXPR_FALSE && r == EXPR_FALSE ? EXPR_FALSE : EXPR_UNKNOWN;
	}
	case OP_NOT:
		return not3(eval(env, n->l));
	case OP_ISNULL: {
		const struct value *v = operand_value(env, n->l, &t1);
		return (v->type == V_NULL) != n->neg ? EXPR_TRUE : EXPR_FALSE;
	}
	case OP_IN:
		return eval_in(env, n);
	case OP_LIKE:
		return eval_like(env, n);
	case OP_TRUTH: {
		const struct value *v = operand_value(env, n->l, &t1);
		struct value b;
		if (v->type == V_BOOL)
			return v->b ? EXPR_TRUE : EXPR_FALSE;
		if (v->type == V_STRING && coerce(v, alt_of(n->l), V_BOOL, &b))
			return b.b ? EXPR_TRUE : EXPR_FALSE;
		return EXPR_UNKNOWN;
	}
	case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE: {
		const struct value *a = operand_value(env, n->l, &t1), *b = operand_value(env, n->r, &t2);
		int c;
		if (!compare(a, alt_of(n->l), b, alt_of(n->r), &c))
			return EXPR_UNKNOWN;
		return cmp_truth(n->op, c);
	}
	default:
		/* OP_LIT / OP_COL never reach here: predicate() wraps them */
		return EXPR_UNKNOWN;
	}
}

enum expr_truth expr_eval(const struct expr *e, const struct value *rec)
{
	return expr_eval_layout(e, rec, 0);
}

/* Out of line, so that the usual filter calls nothing and saves no
 * registers. */
static __attribute__((noinline)) enum expr_truth eval_record(const struct expr *e, const struct value *rec,
							     uint64_t layout)
{
	struct env env = {.e = e, .rec = rec, .layout = layout};
	return eval(&env, e->root);
}

enum expr_truth expr_eval_layout(const struct expr *e, const struct value *rec, uint64_t layout)
{
	/* The usual filter, a top-level column compared with a number or a
	 * timestamp, without the dispatch and calls of eval: a filter runs
	 * per record.  The column's place is known once eval has seen a
	 * record of this layout. */
	const struct column *c = e->cmp_col;
	if (c && layout && c->layout == layout && rec->type == V_OBJECT) {
		const struct value *v = c->pos == UINT32_MAX ? &null_value : &rec->a[2 * (size_t)c->pos + 1];
		int cmp;
		if (v->type == V_NULL)
			return EXPR_UNKNOWN;
		if (cmp_fixed(v, e->cmp_lit, &cmp))
			return cmp_truth(e->cmp_op, cmp);
	}
	return eval_record(e, rec, layout);
}

/* ---- pruning: the same operators over sets of possible outcomes ---- */

enum { S_F = 1 << EXPR_FALSE, S_T = 1 << EXPR_TRUE, S_U = 1 << EXPR_UNKNOWN, S_ALL = S_F | S_T | S_U };

static enum expr_truth and3(enum expr_truth a, enum expr_truth b)
{
	if (a == EXPR_FALSE || b == EXPR_FALSE)
		return EXPR_FALSE;
	return a == EXPR_TRUE && b == EXPR_TRUE ? EXPR_TRUE : EXPR_UNKNOWN;
}

static enum expr_truth or3(enum expr_truth a, enum expr_truth b)
{
	if (a == EXPR_TRUE || b == EXPR_TRUE)
		return EXPR_TRUE;
	return a == EXPR_FALSE && b == EXPR_FALSE ? EXPR_FALSE : EXPR_UNKNOWN;
}

static unsigned combine(unsigned ls, unsigned rs, enum expr_truth (*f)(enum expr_truth, enum expr_truth))
{
	unsigned out = 0;
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 3; b++)
			if ((ls & 1u << a) && (rs & 1u << b))
				out |= 1u << f((enum expr_truth)a, (enum expr_truth)b);
	return out;
}

/* True when every column under n has a single known value. */
static bool all_known(const struct env *env, const struct node *n)
{
	if (!n)
		return true;
	if (n->op == OP_COL)
		return env->info[n->col].kind == EXPR_COL_VALUE;
	if (!all_known(env, n->l) || !all_known(env, n->r))
		return false;
	for (size_t i = 0; i < n->nlist; i++)
		if (!all_known(env, n->list[i]))
			return false;
	return true;
}

static enum op flip(enum op op)
{
	switch (op) {
	case OP_LT: return OP_GT;
	case OP_LE: return OP_GE;
	case OP_GT: return OP_LT;
	case OP_GE: return OP_LE;
	default: return op;
	}
}

/* Outcomes of `column op literal` over rows whose non-null values lie in
 * [min, max]. */
static unsigned range_cmp(const struct expr_colinfo *ci, enum op op, const struct value *lit, const struct alt *alt)
{
	int cmin = -2, cmax = 2; /* -2/2: bound unknown, below/above everything */
	if (ci->min.type != V_NULL && !compare(&ci->min, NULL, lit, alt, &cmin))
		return S_ALL;
	if (ci->max.type != V_NULL && !compare(&ci->max, NULL, lit, alt, &cmax))
		return S_ALL;
	bool t, f;
	switch (op) {
	case OP_EQ: t = cmin <= 0 && cmax >= 0; f = !(cmin == 0 && cmax == 0); break;
	case OP_NE: t = !(cmin == 0 && cmax == 0); f = cmin <= 0 && cmax >= 0; break;
	case OP_LT: t = cmin < 0; f = cmax >= 0; break;
	case OP_LE: t = cmin <= 0; f = cmax > 0; break;
	case OP_GT: t = cmax > 0; f = cmin <= 0; break;
	default: t = cmax >= 0; f = cmin < 0; break;
	}
	return (t ? S_T : 0) | (f ? S_F : 0);
}

/* Which of non-null / null rows may exist. */
static void range_rows(const struct expr_colinfo *ci, bool *values, bool *nulls)
{
	*nulls = ci->null_count != 0;
	*values = !(ci->null_count >= 0 && ci->row_count >= 0 && ci->null_count >= ci->row_count);
}

static unsigned mset(const struct env *env, const struct node *n);

static unsigned range_pred(const struct env *env, const struct node *n)
{
	const struct node *col = n->l, *lit = n->r;
	enum op op = n->op;
	if (n->op >= OP_EQ && n->op <= OP_GE && col->op != OP_COL) {
		col = n->r;
		lit = n->l;
		op = flip(op);
	}
	if (col->op != OP_COL || env->info[col->col].kind != EXPR_COL_RANGE)
		return S_ALL;
	const struct expr_colinfo *ci = &env->info[col->col];
	bool values, nulls;
	range_rows(ci, &values, &nulls);
	unsigned s = 0;
	if (n->op == OP_ISNULL) {
		if (nulls)
			s |= n->neg ? S_F : S_T;
		if (values)
			s |= n->neg ? S_T : S_F;
		return s;
	}
	if (nulls)
		s |= S_U;
	if (!values)
		return s;
	if (n->op >= OP_EQ && n->op <= OP_GE) {
		if (lit->op != OP_LIT)
			return S_ALL;
		if (lit->v.type == V_NULL)
			return s | S_U;
		return s | range_cmp(ci, op, &lit->v, lit->alt);
	}
	if (n->op == OP_IN) {
		unsigned in = 0;
		for (size_t i = 0; i < n->nlist; i++) {
			const struct node *x = n->list[i];
			if (x->op != OP_LIT)
				return S_ALL;
			if (x->v.type == V_NULL) {
				in |= S_U;
				continue;
			}
			in |= range_cmp(ci, OP_EQ, &x->v, x->alt) & S_T;
		}
		in |= S_F | S_U; /* not worth being precise about */
		if (n->neg)
			in = (in & S_U) | (in & S_T ? S_F : 0) | (in & S_F ? S_T : 0);
		return s | in;
	}
	if (n->op == OP_LIKE && !n->neg && n->prefixlen && ci->min.type == V_STRING && ci->max.type == V_STRING) {
		/* rows below the prefix or above every string that has it cannot match */
		const struct value *mn = &ci->min, *mx = &ci->max;
		size_t k = n->prefixlen;
		int cmax = memcmp(mx->s, n->prefix, mx->n < k ? mx->n : k);
		bool below = cmax < 0 || (cmax == 0 && mx->n < k);
		bool above = memcmp(mn->s, n->prefix, mn->n < k ? mn->n : k) > 0;
		return s | S_F | (below || above ? 0 : S_T);
	}
	return S_ALL;
}

static unsigned mset(const struct env *env, const struct node *n)
{
	switch (n->op) {
	case OP_AND:
		return combine(mset(env, n->l), mset(env, n->r), and3);
	case OP_OR:
		return combine(mset(env, n->l), mset(env, n->r), or3);
	case OP_NOT: {
		unsigned s = mset(env, n->l);
		return (s & S_U) | (s & S_T ? S_F : 0) | (s & S_F ? S_T : 0);
	}
	default:
		if (all_known(env, n))
			return 1u << eval(env, n);
		return range_pred(env, n);
	}
}

/* The outcomes e may have over the rows the lookup describes. */
static unsigned outcomes(const struct expr *e, expr_colinfo_fn lookup, void *ctx)
{
	struct expr_colinfo *info = xcalloc(e->ncols ? e->ncols : 1, sizeof *info);
	for (size_t i = 0; i < e->ncols; i++) {
		info[i].kind = EXPR_COL_UNKNOWN;
		info[i].null_count = info[i].row_count = -1;
		lookup(ctx, e->cols[i].name, &info[i]);
	}
	struct env env = {.e = e, .info = info};
	unsigned s = mset(&env, e->root);
	free(info);
	return s;
}

bool expr_may_match(const struct expr *e, expr_colinfo_fn lookup, void *ctx)
{
	return (outcomes(e, lookup, ctx) & S_T) != 0;
}

bool expr_must_match(const struct expr *e, expr_colinfo_fn lookup, void *ctx)
{
	return outcomes(e, lookup, ctx) == S_T;
}
