/* schema.c - see schema.h */
#include "schema.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "json.h"

static const struct {
	const char *delta;
	enum tkind kind;
} kind_names[] = {
	{"boolean", T_BOOLEAN}, {"byte", T_BYTE}, {"short", T_SHORT}, {"integer", T_INT},
	{"long", T_LONG}, {"float", T_FLOAT}, {"double", T_DOUBLE}, {"decimal", T_DECIMAL},
	{"string", T_STRING}, {"binary", T_BINARY}, {"date", T_DATE}, {"timestamp", T_TIMESTAMP},
	{"timestamp_ntz", T_TIMESTAMP_NTZ}, {"struct", T_STRUCT}, {"array", T_ARRAY}, {"map", T_MAP},
	{"void", T_VOID},
};

const char *tkind_name(enum tkind k)
{
	for (size_t i = 0; i < sizeof kind_names / sizeof *kind_names; i++)
		if (kind_names[i].kind == k)
			return kind_names[i].delta;
	return "unknown";
}

bool tkind_is_primitive(enum tkind k)
{
	return k != T_STRUCT && k != T_ARRAY && k != T_MAP;
}

struct type *type_new(enum tkind kind)
{
	struct type *t = xcalloc(1, sizeof *t);
	t->kind = kind;
	t->contains_null = true;
	if (kind == T_DECIMAL)
		t->precision = 10;
	return t;
}

void type_free(struct type *t)
{
	if (!t)
		return;
	type_free(t->elem);
	type_free(t->key);
	type_free(t->val);
	for (size_t i = 0; i < t->nfields; i++) {
		free(t->fields[i].name);
		free(t->fields[i].metadata);
		type_free(t->fields[i].type);
	}
	free(t->fields);
	free(t->by_name);
	free(t);
}

struct type *type_clone(const struct type *t)
{
	if (!t)
		return NULL;
	struct type *c = xmalloc(sizeof *c);
	*c = *t;
	c->elem = type_clone(t->elem);
	c->key = type_clone(t->key);
	c->val = type_clone(t->val);
	if (t->by_name) {
		c->by_name = xmalloc((t->by_name_mask + 1) * sizeof *c->by_name);
		memcpy(c->by_name, t->by_name, (t->by_name_mask + 1) * sizeof *c->by_name);
	}
	if (t->nfields) {
		c->fields = xcalloc(t->nfields, sizeof *c->fields);
		for (size_t i = 0; i < t->nfields; i++) {
			c->fields[i].name = xstrdup(t->fields[i].name);
			c->fields[i].metadata = xstrdup(t->fields[i].metadata);
			c->fields[i].nullable = t->fields[i].nullable;
			c->fields[i].type = type_clone(t->fields[i].type);
		}
	}
	return c;
}

bool type_equal(const struct type *a, const struct type *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case T_DECIMAL:
		return a->precision == b->precision && a->scale == b->scale;
	case T_ARRAY:
		return a->contains_null == b->contains_null && type_equal(a->elem, b->elem);
	case T_MAP:
		return a->contains_null == b->contains_null && type_equal(a->key, b->key) && type_equal(a->val, b->val);
	case T_STRUCT:
		if (a->nfields != b->nfields)
			return false;
		for (size_t i = 0; i < a->nfields; i++)
			if (strcmp(a->fields[i].name, b->fields[i].name) || a->fields[i].nullable != b->fields[i].nullable ||
			    !type_equal(a->fields[i].type, b->fields[i].type))
				return false;
		return true;
	default:
		return true;
	}
}

/* Structs up to this many fields are scanned, not indexed by name. */
#define FIELDS_SCAN 16

/* The slot of st->by_name for name: its field's, or the empty one it would take. */
static size_t name_slot(const struct type *st, const char *name, size_t len)
{
	size_t i = hash_name_folded(name, len) & st->by_name_mask;
	for (; st->by_name[i]; i = (i + 1) & st->by_name_mask) {
		const char *fn = st->fields[st->by_name[i] - 1].name;
		if (strlen(fn) == len && !strncasecmp(fn, name, len))
			break;
	}
	return i;
}

/* Field i into the index (unless an earlier one has its name), grown at half full. */
static void index_field(struct type *st, size_t i)
{
	if (!st->by_name || 2 * st->nfields > st->by_name_mask + 1) {
		size_t cap = 64;
		while (cap < 4 * st->nfields)
			cap *= 2;
		free(st->by_name);
		st->by_name = xcalloc(cap, sizeof *st->by_name);
		st->by_name_mask = cap - 1;
		for (size_t j = 0; j < i; j++)
			index_field(st, j);
	}
	const char *name = st->fields[i].name;
	size_t at = name_slot(st, name, strlen(name));
	if (!st->by_name[at])
		st->by_name[at] = (uint32_t)i + 1;
}

struct field *type_add_field(struct type *st, const char *name, struct type *ft, bool nullable)
{
	st->fields = xrealloc(st->fields, (st->nfields + 1) * sizeof *st->fields);
	struct field *f = &st->fields[st->nfields++];
	f->name = xstrdup(name);
	f->type = ft;
	f->nullable = nullable;
	f->metadata = xstrdup("{}");
	if (st->nfields > FIELDS_SCAN && st->nfields <= UINT32_MAX)
		index_field(st, st->nfields - 1);
	return f;
}

long type_field_index(const struct type *st, const char *name)
{
	return type_field_index_n(st, name, strlen(name));
}

long type_field_index_n(const struct type *st, const char *name, size_t len)
{
	if (st->by_name) {
		uint32_t f = st->by_name[name_slot(st, name, len)];
		return (long)f - 1;
	}
	for (size_t i = 0; i < st->nfields; i++)
		if (strlen(st->fields[i].name) == len && !strncasecmp(st->fields[i].name, name, len))
			return (long)i;
	return -1;
}

/* Delta's name of t's type, with a decimal's precision and scale. */
static const char *delta_type_name(const struct type *t, char *b, size_t n)
{
	if (t->kind != T_DECIMAL)
		return tkind_name(t->kind);
	snprintf(b, n, "decimal(%d,%d)", t->precision, t->scale);
	return b;
}

/* type_merge at the member path `path` (dotted, for errors). */
static bool merge_at(struct type *t, const struct type *in, bool strict, size_t *added, struct buf *path, char *err,
		     size_t errlen)
{
	if (t->kind != in->kind || (t->kind == T_DECIMAL && (t->precision != in->precision || t->scale != in->scale)) ||
	    (t->kind == T_MAP && !type_equal(t->key, in->key))) {
		if (!strict)
			return true; /* t stands; the caller's cast judges the values */
		char want[32], got[32];
		snprintf(err, errlen, "column '%s' is %s but the table has %s (type changes are not supported)",
			 buf_cstr(path), delta_type_name(in, got, sizeof got), delta_type_name(t, want, sizeof want));
		return false;
	}
	size_t len = path->len;
	bool ok = true;
	if (t->kind == T_ARRAY) {
		buf_puts(path, ".element");
		ok = merge_at(t->elem, in->elem, strict, added, path, err, errlen);
	} else if (t->kind == T_MAP) {
		buf_puts(path, ".value");
		ok = merge_at(t->val, in->val, strict, added, path, err, errlen);
	}
	for (size_t i = 0; ok && t->kind == T_STRUCT && i < in->nfields; i++) {
		const struct field *f = &in->fields[i];
		path->len = len;
		buf_printf(path, "%s%s", len ? "." : "", f->name);
		long k = type_field_index(t, f->name);
		if (k < 0) {
			type_add_field(t, f->name, type_clone(f->type), true);
			++*added;
			continue;
		}
		const struct field *tf = &t->fields[k];
		ok = merge_at(tf->type, f->type, strict, added, path, err, errlen);
	}
	path->len = len;
	return ok;
}

bool type_merge(struct type *t, const struct type *in, bool strict, size_t *added, const char *name, char *err,
		size_t errlen)
{
	struct buf path = {0};
	buf_puts(&path, name);
	bool ok = merge_at(t, in, strict, added, &path, err, errlen);
	buf_free(&path);
	return ok;
}

/* ---- DDL ---- */

struct ddl {
	const char *s, *p;
	char *err;
	size_t errlen;
	bool failed;
};

static void ddl_fail(struct ddl *d, const char *what)
{
	if (d->failed)
		return;
	d->failed = true;
	if (*d->p)
		snprintf(d->err, d->errlen, "%s: near '%.20s'", what, d->p);
	else
		snprintf(d->err, d->errlen, "%s: at end of schema", what);
}

static void ddl_ws(struct ddl *d)
{
	while (isspace((unsigned char)*d->p))
		d->p++;
}

static bool ddl_eat(struct ddl *d, char c)
{
	ddl_ws(d);
	if (*d->p == c) {
		d->p++;
		return true;
	}
	return false;
}

static char *ddl_ident_text(struct ddl *d);

/* an identifier, `quoted identifier`, or bare word; returns malloc'd text */
static char *ddl_ident(struct ddl *d)
{
	const char *at = d->p;
	char *name = ddl_ident_text(d);
	/* names reach Delta JSON and file paths, which hold only UTF-8 */
	if (name && !utf8_valid(name, strlen(name))) {
		d->p = at;
		ddl_ws(d);
		ddl_fail(d, "column name is not UTF-8");
		free(name);
		return NULL;
	}
	return name;
}

static char *ddl_ident_text(struct ddl *d)
{
	ddl_ws(d);
	if (*d->p == '`') {
		struct buf b = BUF_INIT;
		d->p++;
		for (;;) {
			if (!*d->p) {
				buf_free(&b);
				ddl_fail(d, "unterminated `name`");
				return NULL;
			}
			if (*d->p == '`') {
				if (d->p[1] != '`')
					break;
				d->p++; /* `` is a literal backquote */
			}
			buf_putc(&b, *d->p++);
		}
		d->p++;
		if (!b.len) {
			buf_free(&b);
			ddl_fail(d, "empty column name");
			return NULL;
		}
		return buf_cstr(&b);
	}
	const char *st = d->p;
	while (isalnum((unsigned char)*d->p) || *d->p == '_' || (unsigned char)*d->p >= 0x80)
		d->p++;
	if (d->p == st) {
		ddl_fail(d, "expected a name");
		return NULL;
	}
	return xstrndup(st, (size_t)(d->p - st));
}

static bool ddl_word(struct ddl *d, const char *w)
{
	ddl_ws(d);
	size_t n = strlen(w);
	if (!strncasecmp(d->p, w, n) && !isalnum((unsigned char)d->p[n]) && d->p[n] != '_') {
		d->p += n;
		return true;
	}
	return false;
}

static long ddl_number(struct ddl *d)
{
	ddl_ws(d);
	if (!isdigit((unsigned char)*d->p)) {
		ddl_fail(d, "expected a number");
		return -1;
	}
	long v = 0;
	while (isdigit((unsigned char)*d->p) && v < 1000)
		v = v * 10 + (*d->p++ - '0');
	return v;
}

static struct type *ddl_type(struct ddl *d, int depth);

static bool ddl_fields(struct ddl *d, struct type *st, char close, int depth)
{
	for (;;) {
		char *name = ddl_ident(d);
		if (!name)
			return false;
		/* STRUCT<a: INT> and STRUCT<a INT> are both Spark */
		if (close)
			ddl_eat(d, ':');
		struct type *ft = ddl_type(d, depth + 1);
		if (!ft) {
			free(name);
			return false;
		}
		bool nullable = true;
		if (ddl_word(d, "NOT")) {
			if (!ddl_word(d, "NULL")) {
				free(name);
				type_free(ft);
				ddl_fail(d, "expected NULL after NOT");
				return false;
			}
			nullable = false;
		}
		if (ddl_word(d, "COMMENT")) {
			ddl_ws(d);
			char q = *d->p;
			if (q != '\'' && q != '"') {
				free(name);
				type_free(ft);
				ddl_fail(d, "expected a quoted comment");
				return false;
			}
			const char *e = strchr(d->p + 1, q);
			if (!e) {
				free(name);
				type_free(ft);
				ddl_fail(d, "unterminated comment");
				return false;
			}
			d->p = e + 1;
		}
		if (type_field_index(st, name) >= 0) {
			ddl_fail(d, "duplicate column name");
			snprintf(d->err, d->errlen, "duplicate column name: '%s'", name);
			free(name);
			type_free(ft);
			return false;
		}
		type_add_field(st, name, ft, nullable);
		free(name);
		if (ddl_eat(d, ','))
			continue;
		return true;
	}
}

static struct type *ddl_type(struct ddl *d, int depth)
{
	if (depth > 64) {
		ddl_fail(d, "types nested too deep");
		return NULL;
	}
	static const struct {
		const char *word;
		enum tkind kind;
	} words[] = {
		{"BOOLEAN", T_BOOLEAN}, {"BOOL", T_BOOLEAN}, {"TINYINT", T_BYTE}, {"BYTE", T_BYTE},
		{"SMALLINT", T_SHORT}, {"SHORT", T_SHORT}, {"INTEGER", T_INT}, {"INT", T_INT},
		{"BIGINT", T_LONG}, {"LONG", T_LONG}, {"FLOAT", T_FLOAT}, {"REAL", T_FLOAT},
		{"DOUBLE", T_DOUBLE}, {"STRING", T_STRING}, {"VARCHAR", T_STRING}, {"CHAR", T_STRING},
		{"TEXT", T_STRING}, {"BINARY", T_BINARY}, {"DATE", T_DATE},
		{"TIMESTAMP_NTZ", T_TIMESTAMP_NTZ}, {"TIMESTAMP_LTZ", T_TIMESTAMP}, {"TIMESTAMP", T_TIMESTAMP},
		{"VOID", T_VOID},
	};
	ddl_ws(d);
	if (ddl_word(d, "DECIMAL") || ddl_word(d, "DEC") || ddl_word(d, "NUMERIC")) {
		struct type *t = type_new(T_DECIMAL);
		if (ddl_eat(d, '(')) {
			t->precision = (int)ddl_number(d);
			t->scale = ddl_eat(d, ',') ? (int)ddl_number(d) : 0;
			if (!ddl_eat(d, ')'))
				ddl_fail(d, "expected ')'");
		}
		if (!d->failed && (t->precision < 1 || t->precision > 38 || t->scale < 0 || t->scale > t->precision))
			ddl_fail(d, "decimal precision must be 1..38 and scale 0..precision");
		if (d->failed) {
			type_free(t);
			return NULL;
		}
		return t;
	}
	if (ddl_word(d, "ARRAY")) {
		struct type *t = type_new(T_ARRAY);
		if (!ddl_eat(d, '<') || !(t->elem = ddl_type(d, depth + 1)) || !ddl_eat(d, '>')) {
			ddl_fail(d, "expected ARRAY<type>");
			type_free(t);
			return NULL;
		}
		return t;
	}
	if (ddl_word(d, "MAP")) {
		struct type *t = type_new(T_MAP);
		if (!ddl_eat(d, '<') || !(t->key = ddl_type(d, depth + 1)) || !ddl_eat(d, ',') ||
		    !(t->val = ddl_type(d, depth + 1)) || !ddl_eat(d, '>')) {
			ddl_fail(d, "expected MAP<key type, value type>");
			type_free(t);
			return NULL;
		}
		return t;
	}
	if (ddl_word(d, "STRUCT")) {
		struct type *t = type_new(T_STRUCT);
		if (!ddl_eat(d, '<')) {
			ddl_fail(d, "expected STRUCT<name type, ...>");
			type_free(t);
			return NULL;
		}
		if (!ddl_eat(d, '>') && (!ddl_fields(d, t, '>', depth) || !ddl_eat(d, '>'))) {
			ddl_fail(d, "expected '>'");
			type_free(t);
			return NULL;
		}
		return t;
	}
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (ddl_word(d, words[i].word)) {
			/* VARCHAR(n)/CHAR(n): the length is not enforced, as in Delta */
			if (words[i].kind == T_STRING && ddl_eat(d, '(')) {
				ddl_number(d);
				if (!ddl_eat(d, ')'))
					ddl_fail(d, "expected ')'");
				if (d->failed)
					return NULL;
			}
			return type_new(words[i].kind);
		}
	ddl_fail(d, "unknown type");
	return NULL;
}

struct type *schema_parse_ddl(const char *s, char *err, size_t errlen)
{
	struct ddl d = {.s = s, .p = s, .err = err, .errlen = errlen};
	struct type *st = type_new(T_STRUCT);
	ddl_ws(&d);
	if (!*d.p) {
		snprintf(err, errlen, "empty schema");
		type_free(st);
		return NULL;
	}
	if (!ddl_fields(&d, st, 0, 0)) {
		type_free(st);
		return NULL;
	}
	ddl_ws(&d);
	if (*d.p) {
		ddl_fail(&d, "expected ',' between columns");
		type_free(st);
		return NULL;
	}
	return st;
}

static void ddl_write_type(struct buf *b, const struct type *t)
{
	switch (t->kind) {
	case T_DECIMAL: buf_printf(b, "DECIMAL(%d,%d)", t->precision, t->scale); return;
	case T_ARRAY:
		buf_puts(b, "ARRAY<");
		ddl_write_type(b, t->elem);
		buf_putc(b, '>');
		return;
	case T_MAP:
		buf_puts(b, "MAP<");
		ddl_write_type(b, t->key);
		buf_putc(b, ',');
		ddl_write_type(b, t->val);
		buf_putc(b, '>');
		return;
	case T_STRUCT:
		buf_puts(b, "STRUCT<");
		schema_write_ddl(b, t);
		buf_putc(b, '>');
		return;
	default: {
		static const char *up[] = {
			[T_BOOLEAN] = "BOOLEAN", [T_BYTE] = "TINYINT", [T_SHORT] = "SMALLINT", [T_INT] = "INT",
			[T_LONG] = "BIGINT", [T_FLOAT] = "FLOAT", [T_DOUBLE] = "DOUBLE", [T_STRING] = "STRING",
			[T_BINARY] = "BINARY", [T_DATE] = "DATE", [T_TIMESTAMP] = "TIMESTAMP",
			[T_TIMESTAMP_NTZ] = "TIMESTAMP_NTZ", [T_VOID] = "VOID",
		};
		buf_puts(b, up[t->kind]);
	}
	}
}

static bool plain_ident(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

void schema_write_ddl(struct buf *b, const struct type *st)
{
	for (size_t i = 0; i < st->nfields; i++) {
		const struct field *f = &st->fields[i];
		if (i)
			buf_puts(b, ", ");
		if (plain_ident(f->name)) {
			buf_puts(b, f->name);
		} else {
			buf_putc(b, '`');
			for (const char *c = f->name; *c; c++) {
				if (*c == '`')
					buf_putc(b, '`');
				buf_putc(b, *c);
			}
			buf_putc(b, '`');
		}
		buf_putc(b, ' ');
		ddl_write_type(b, f->type);
		if (!f->nullable)
			buf_puts(b, " NOT NULL");
	}
}

/* ---- Delta JSON ---- */

static struct type *delta_type(const struct value *v, char *err, size_t errlen, int depth);

static struct type *delta_struct(const struct value *v, char *err, size_t errlen, int depth)
{
	struct value *fields = value_getz(v, "fields");
	if (!fields || fields->type != V_ARRAY) {
		snprintf(err, errlen, "struct type without a fields array");
		return NULL;
	}
	struct type *st = type_new(T_STRUCT);
	for (uint32_t i = 0; i < fields->n; i++) {
		struct value *f = &fields->a[i];
		struct value *name = value_getz(f, "name"), *ty = value_getz(f, "type"), *nul = value_getz(f, "nullable");
		if (!name || name->type != V_STRING || !ty) {
			snprintf(err, errlen, "struct field without name or type");
			type_free(st);
			return NULL;
		}
		if (memchr(name->s, 0, name->n)) {
			snprintf(err, errlen, "struct field name contains NUL");
			type_free(st);
			return NULL;
		}
		char *nm = xstrndup(name->s, name->n);
		if (type_field_index(st, nm) >= 0) {
			/* as the DDL parser says, and Delta forbids: names ignore case */
			snprintf(err, errlen, "duplicate column name: '%s'", nm);
			free(nm);
			type_free(st);
			return NULL;
		}
		struct type *ft = delta_type(ty, err, errlen, depth + 1);
		if (!ft) {
			free(nm);
			type_free(st);
			return NULL;
		}
		struct field *fld = type_add_field(st, nm, ft, !nul || nul->type != V_BOOL || nul->b);
		free(nm);
		struct value *md = value_getz(f, "metadata");
		if (md && md->type == V_OBJECT && md->n) {
			struct buf b = BUF_INIT;
			json_write(&b, md);
			free(fld->metadata);
			fld->metadata = buf_cstr(&b);
		}
	}
	return st;
}

static struct type *delta_type(const struct value *v, char *err, size_t errlen, int depth)
{
	if (depth > 64) {
		snprintf(err, errlen, "types nested too deep");
		return NULL;
	}
	if (v->type == V_STRING) {
		char name[64];
		if (v->n >= sizeof name) {
			snprintf(err, errlen, "unknown type '%.*s'", (int)(v->n > 40 ? 40 : v->n), v->s);
			return NULL;
		}
		memcpy(name, v->s, v->n);
		name[v->n] = 0;
		int p, s;
		if (sscanf(name, "decimal(%d ,%d)", &p, &s) == 2 || sscanf(name, "decimal(%d, %d)", &p, &s) == 2) {
			if (p < 1 || p > 38 || s < 0 || s > p) {
				snprintf(err, errlen, "bad decimal type '%s'", name);
				return NULL;
			}
			struct type *t = type_new(T_DECIMAL);
			t->precision = p;
			t->scale = s;
			return t;
		}
		for (size_t i = 0; i < sizeof kind_names / sizeof *kind_names; i++)
			if (tkind_is_primitive(kind_names[i].kind) && kind_names[i].kind != T_DECIMAL &&
			    !strcmp(name, kind_names[i].delta))
				return type_new(kind_names[i].kind);
		snprintf(err, errlen, "unknown type '%s'", name);
		return NULL;
	}
	struct value *tn = value_getz(v, "type");
	if (!tn || tn->type != V_STRING) {
		snprintf(err, errlen, "type object without a type name");
		return NULL;
	}
	if (tn->n == 6 && !memcmp(tn->s, "struct", 6))
		return delta_struct(v, err, errlen, depth);
	if (tn->n == 5 && !memcmp(tn->s, "array", 5)) {
		struct value *et = value_getz(v, "elementType"), *cn = value_getz(v, "containsNull");
		if (!et) {
			snprintf(err, errlen, "array type without elementType");
			return NULL;
		}
		struct type *t = type_new(T_ARRAY);
		t->contains_null = !cn || cn->type != V_BOOL || cn->b;
		if (!(t->elem = delta_type(et, err, errlen, depth + 1))) {
			type_free(t);
			return NULL;
		}
		return t;
	}
	if (tn->n == 3 && !memcmp(tn->s, "map", 3)) {
		struct value *kt = value_getz(v, "keyType"), *vt = value_getz(v, "valueType"),
			     *cn = value_getz(v, "valueContainsNull");
		if (!kt || !vt) {
			snprintf(err, errlen, "map type without keyType/valueType");
			return NULL;
		}
		struct type *t = type_new(T_MAP);
		t->contains_null = !cn || cn->type != V_BOOL || cn->b;
		if (!(t->key = delta_type(kt, err, errlen, depth + 1)) || !(t->val = delta_type(vt, err, errlen, depth + 1))) {
			type_free(t);
			return NULL;
		}
		return t;
	}
	snprintf(err, errlen, "unknown type '%.*s'", (int)(tn->n > 40 ? 40 : tn->n), tn->s);
	return NULL;
}

struct type *schema_parse_delta(const char *json, size_t n, char *err, size_t errlen)
{
	struct arena a = {0};
	struct value v;
	struct json_error je;
	struct type *t = NULL;
	if (json_parse(&a, json, n, &v, &je))
		snprintf(err, errlen, "schema JSON: %s at byte %zu", je.msg, je.offset);
	else if (v.type != V_OBJECT)
		snprintf(err, errlen, "schema JSON is not an object");
	else if ((t = delta_type(&v, err, errlen, 0)) && t->kind != T_STRUCT) {
		snprintf(err, errlen, "schema is not a struct type");
		type_free(t);
		t = NULL;
	}
	arena_free(&a);
	return t;
}

struct type *schema_parse(const char *s, char *err, size_t errlen)
{
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '{')
		return schema_parse_delta(s, strlen(s), err, errlen);
	return schema_parse_ddl(s, err, errlen);
}

static void delta_write_type(struct buf *b, const struct type *t)
{
	switch (t->kind) {
	case T_DECIMAL:
		buf_printf(b, "\"decimal(%d,%d)\"", t->precision, t->scale);
		return;
	case T_ARRAY:
		buf_puts(b, "{\"type\":\"array\",\"elementType\":");
		delta_write_type(b, t->elem);
		buf_printf(b, ",\"containsNull\":%s}", t->contains_null ? "true" : "false");
		return;
	case T_MAP:
		buf_puts(b, "{\"type\":\"map\",\"keyType\":");
		delta_write_type(b, t->key);
		buf_puts(b, ",\"valueType\":");
		delta_write_type(b, t->val);
		buf_printf(b, ",\"valueContainsNull\":%s}", t->contains_null ? "true" : "false");
		return;
	case T_STRUCT:
		schema_write_delta(b, t);
		return;
	default:
		buf_printf(b, "\"%s\"", tkind_name(t->kind));
	}
}

void schema_write_delta(struct buf *b, const struct type *st)
{
	buf_puts(b, "{\"type\":\"struct\",\"fields\":[");
	for (size_t i = 0; i < st->nfields; i++) {
		const struct field *f = &st->fields[i];
		if (i)
			buf_putc(b, ',');
		buf_puts(b, "{\"name\":");
		json_write_string(b, f->name, strlen(f->name));
		buf_puts(b, ",\"type\":");
		delta_write_type(b, f->type);
		buf_printf(b, ",\"nullable\":%s,\"metadata\":%s}", f->nullable ? "true" : "false", f->metadata);
	}
	buf_puts(b, "]}");
}
