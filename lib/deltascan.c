/* deltascan.c - rows of a table's data files, and records made to fit the
 * table schema (see delta.h).
 *
 * Data files hold only the data columns of the schema they were written
 * with: partition columns come from add.partitionValues, columns added to
 * the table later read as null, and each value takes the table's type. */
#include "delta.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "diag.h"
#include "parquet.h"
#include "timeutil.h"

/* ---- conform ---- */

/* "field 'a.b': detail" */
static bool __attribute__((format(printf, 4, 5))) cfail(struct buf *path, char *err, size_t errlen, const char *fmt, ...)
{
	int n = snprintf(err, errlen, "field '%s'", path->len ? buf_cstr(path) : "(record)");
	if (n < 0 || (size_t)n >= errlen)
		return false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static bool int_range(enum tkind k, int64_t v)
{
	switch (k) {
	case T_BYTE: return v >= -128 && v <= 127;
	case T_SHORT: return v >= -32768 && v <= 32767;
	case T_INT: return v >= INT32_MIN && v <= INT32_MAX;
	default: return true;
	}
}

static bool to_decimal(const struct value *v, int precision, int scale, int128_t *out)
{
	int128_t u;
	if (v->type == V_INT) {
		u = (int128_t)v->i * pow10_128(scale);
	} else if (v->type == V_DECIMAL) {
		u = v->d;
		if (v->scale <= scale) {
			u *= pow10_128(scale - v->scale);
		} else {
			int128_t p = pow10_128(v->scale - scale);
			if (u % p)
				return false; /* would lose digits */
			u /= p;
		}
	} else if (v->type == V_FLOAT && isfinite(v->f)) {
		double x = v->f * (double)pow10_128(scale);
		if (fabs(x) >= 1e17)
			return false;
		u = (int128_t)llround(x);
	} else {
		return false;
	}
	int128_t lim = pow10_128(precision);
	if (u >= lim || u <= -lim)
		return false;
	*out = u;
	return true;
}

/* Which members of object ix->obj no field of a struct type takes, as
 * flags from a: of members of one name the last (the one the record
 * holds), when no field has its name or its field took a member whose name
 * differs from it only in case (column names ignore case, so the two cannot
 * both be kept).  member[f] is the member field f took (member_names_find),
 * -1 for none; no two fields take one member, as no two field names are
 * equal ignoring case. */
static bool *strays(struct arena *a, const struct member_names *ix, const long *member, size_t nfields)
{
	const struct value *obj = ix->obj;
	bool *stray = arena_alloc(a, obj->n ? obj->n : 1);
	for (uint32_t i = 0; i < obj->n; i++)
		stray[i] = obj->a[2 * i].type == V_STRING;
	for (size_t f = 0; f < nfields; f++)
		if (member[f] >= 0)
			stray[member[f]] = false;
	for (uint32_t i = 0; i < obj->n; i++)
		if (stray[i] && member_names_shadowed(ix, i))
			stray[i] = false;
	return stray;
}

static bool stray_fail(const struct type *st, const struct member_names *ix, long m, struct buf *path, char *err,
		       size_t errlen)
{
	const struct value *obj = ix->obj, *k = &obj->a[2 * m];
	long f = type_field_index_n(st, k->s, k->n);
	if (path->len)
		buf_putc(path, '.');
	buf_put(path, k->s, k->n);
	if (f < 0)
		return cfail(path, err, errlen, " is not in the table schema");
	const struct value *taken = &obj->a[2 * member_names_find(ix, st->fields[f].name, strlen(st->fields[f].name))];
	return cfail(path, err, errlen, " and '%.*s' are one column: column names ignore case", (int)taken->n,
		     taken->s);
}

bool delta_conform(struct arena *a, const struct type *t, bool nullable, const struct value *v, struct value *out,
		   struct buf *path, char *err, size_t errlen)
{
	if (!v || v->type == V_NULL) {
		*out = value_null();
		return nullable || cfail(path, err, errlen, " is null but the column is NOT NULL");
	}
	*out = *v;
	switch (t->kind) {
	case T_BOOLEAN:
		return v->type == V_BOOL || cfail(path, err, errlen, ": expected a boolean, got %s", vtype_name(v->type));
	case T_BYTE:
	case T_SHORT:
	case T_INT:
	case T_LONG: {
		int128_t u;
		if (v->type == V_INT) {
			out->i = v->i;
		} else if ((v->type == V_DECIMAL || v->type == V_FLOAT) && to_decimal(v, 38, 0, &u) &&
			   u >= INT64_MIN && u <= INT64_MAX && (v->type != V_FLOAT || (double)u == v->f)) {
			*out = value_int((int64_t)u);
		} else {
			return cfail(path, err, errlen, ": expected an integer, got %s", vtype_name(v->type));
		}
		if (!int_range(t->kind, out->i))
			return cfail(path, err, errlen, ": out of range for %s", tkind_name(t->kind));
		return true;
	}
	case T_FLOAT:
	case T_DOUBLE: {
		double d;
		if (value_to_double(v, &d)) {
			*out = value_float(t->kind == T_FLOAT ? (double)(float)d : d);
			return true;
		}
		if (v->type == V_STRING && ((v->n == 3 && !memcmp(v->s, "NaN", 3)) || (v->n == 8 && !memcmp(v->s, "Infinity", 8)) ||
					    (v->n == 9 && !memcmp(v->s, "-Infinity", 9)))) {
			*out = value_float(v->s[0] == 'N' ? NAN : v->s[0] == '-' ? -INFINITY : INFINITY);
			return true;
		}
		return cfail(path, err, errlen, ": expected a number, got %s", vtype_name(v->type));
	}
	case T_DECIMAL: {
		int128_t u;
		if (!to_decimal(v, t->precision, t->scale, &u))
			return cfail(path, err, errlen, ": not a decimal that fits (%d,%d) without losing digits", t->precision, t->scale);
		out->type = V_DECIMAL;
		out->scale = (uint8_t)t->scale;
		out->d = u;
		return true;
	}
	case T_STRING:
		return v->type == V_STRING || cfail(path, err, errlen, ": expected a string, got %s", vtype_name(v->type));
	case T_BINARY:
		if (v->type == V_BINARY)
			return true;
		if (v->type == V_STRING) {
			unsigned char *b = arena_alloc(a, v->n * 3 / 4 + 3);
			long n = base64_decode(b, v->s, v->n);
			if (n >= 0) {
				out->type = V_BINARY;
				out->s = (const char *)b;
				out->n = (uint32_t)n;
				return true;
			}
		}
		return cfail(path, err, errlen, ": expected base64 binary, got %s", vtype_name(v->type));
	case T_DATE: {
		int64_t d;
		if (v->type == V_DATE)
			return true;
		if (v->type == V_STRING && parse_iso_date(v->s, v->n, &d)) {
			*out = value_typed_int(V_DATE, d);
			return true;
		}
		return cfail(path, err, errlen, ": expected a date (YYYY-MM-DD), got %s", vtype_name(v->type));
	}
	case T_TIMESTAMP:
	case T_TIMESTAMP_NTZ: {
		enum vtype want = t->kind == T_TIMESTAMP ? V_TIMESTAMP : V_TIMESTAMP_NTZ;
		int64_t us;
		bool zone;
		if (v->type == want)
			return true;
		if (v->type == V_STRING && parse_iso_timestamp(v->s, v->n, &us, &zone) && !(zone && want == V_TIMESTAMP_NTZ)) {
			*out = value_typed_int(want, us);
			return true;
		}
		return cfail(path, err, errlen, ": expected a %s, got %s",
			     want == V_TIMESTAMP ? "timestamp" : "timestamp_ntz (no zone)", vtype_name(v->type));
	}
	case T_STRUCT: {
		if (v->type != V_OBJECT)
			return cfail(path, err, errlen, ": expected an object, got %s", vtype_name(v->type));
		struct value o = {.type = V_OBJECT, .n = (uint32_t)t->nfields};
		o.a = arena_alloc(a, (t->nfields ? t->nfields : 1) * 2 * sizeof *o.a);
		long *member = arena_alloc(a, (t->nfields ? t->nfields : 1) * sizeof *member);
		struct member_names ix;
		member_names_init(&ix, a, v);
		size_t plen = path->len, matched = 0;
		for (size_t i = 0; i < t->nfields; i++) {
			const struct field *f = &t->fields[i];
			size_t len = strlen(f->name);
			long m = member[i] = member_names_find(&ix, f->name, len);
			matched += m >= 0;
			if (plen)
				buf_putc(path, '.');
			buf_put(path, f->name, len);
			o.a[2 * i] = value_str(f->name, len);
			if (!delta_conform(a, f->type, f->nullable, m >= 0 ? &v->a[2 * m + 1] : NULL, &o.a[2 * i + 1], path,
					   err, errlen))
				return false;
			path->len = plen;
		}
		/* fewer members taken than there are: some are strays.  A null
		 * one is as good as an absent member (the table reads null for it
		 * either way), so refusing the record for it would lose data to
		 * save none. */
		if (matched < v->n) {
			const bool *stray = strays(a, &ix, member, t->nfields);
			for (uint32_t m = 0; m < v->n; m++)
				if (stray[m] && v->a[2 * m + 1].type != V_NULL)
					return stray_fail(t, &ix, m, path, err, errlen);
		}
		*out = o;
		return true;
	}
	case T_ARRAY: {
		if (v->type != V_ARRAY)
			return cfail(path, err, errlen, ": expected an array, got %s", vtype_name(v->type));
		struct value o = {.type = V_ARRAY, .n = v->n};
		o.a = arena_alloc(a, (v->n ? v->n : 1) * sizeof *o.a);
		size_t plen = path->len;
		for (uint32_t i = 0; i < v->n; i++) {
			buf_printf(path, "[%u]", i);
			if (!delta_conform(a, t->elem, t->contains_null, &v->a[i], &o.a[i], path, err, errlen))
				return false;
			path->len = plen;
		}
		*out = o;
		return true;
	}
	case T_MAP: {
		if (v->type != V_OBJECT && v->type != V_MAP)
			return cfail(path, err, errlen, ": expected a map (object), got %s", vtype_name(v->type));
		struct value o = {.type = V_MAP, .n = v->n};
		o.a = arena_alloc(a, (v->n ? v->n : 1) * 2 * sizeof *o.a);
		size_t plen = path->len;
		for (uint32_t i = 0; i < v->n; i++) {
			const struct value *k = &v->a[2 * i];
			buf_puts(path, "{key}");
			if (k->type == V_STRING && t->key->kind != T_STRING && t->key->kind != T_BINARY) {
				/* JSON object keys are text: "1" for an integer key */
				char *text = xstrndup(k->s, k->n);
				int rc = delta_partition_value(text, t->key, a, &o.a[2 * i]);
				free(text);
				if (rc || o.a[2 * i].type == V_NULL)
					return cfail(path, err, errlen, ": bad map key for type %s", tkind_name(t->key->kind));
			} else if (!delta_conform(a, t->key, false, k, &o.a[2 * i], path, err, errlen)) {
				return false;
			}
			path->len = plen;
			buf_puts(path, "{value}");
			if (!delta_conform(a, t->val, t->contains_null, &v->a[2 * i + 1], &o.a[2 * i + 1], path, err, errlen))
				return false;
			path->len = plen;
		}
		if (v->type == V_OBJECT && t->key->kind == T_STRING)
			o.type = V_OBJECT; /* keep the canonical form of string-keyed maps */
		*out = o;
		return true;
	}
	case T_VOID:
		*out = value_null();
		return true;
	}
	return false;
}

/* ---- scan ---- */

struct delta_scan {
	const struct delta_snapshot *s;
	const struct delta_file *files;
	size_t nfiles, next, skipped;
	const struct delta_pred *pred;
	long *cols;      /* schema field index per output column, then predicate-only ones */
	size_t ncols, nout;
	bool *is_part;
	struct pq_file *pf;
	struct pq_cursor *cur;
	struct arena file_arena;
	struct value *partvals; /* per output column, for the current file */
	long *pos;              /* per output column, its place in the file's rows (-1: none) */
	bool *fill;             /* per output column: the file's type lacks struct members the table has */
	struct value *names;    /* per output column, its name as a value */
	struct buf path;
};

static void close_file(struct delta_scan *sc)
{
	if (sc->cur)
		pq_cursor_close(sc->cur);
	if (sc->pf)
		pq_close(sc->pf);
	sc->cur = NULL;
	sc->pf = NULL;
	arena_reset(&sc->file_arena);
}

static bool is_partition_column(const struct delta_metadata *m, const char *name)
{
	for (size_t i = 0; i < m->npartition_columns; i++)
		if (!strcasecmp(m->partition_columns[i], name))
			return true;
	return false;
}

static void add_col(struct delta_scan *sc, long idx)
{
	for (size_t i = 0; i < sc->ncols; i++)
		if (sc->cols[i] == idx)
			return;
	sc->cols[sc->ncols++] = idx;
}

struct delta_scan *delta_scan_open(const struct delta_snapshot *s, const struct delta_file *files, size_t nfiles,
				   const char *const *columns, size_t ncolumns, const struct delta_pred *pred,
				   char *err, size_t errlen)
{
	const struct type *sch = s->meta.schema;
	struct delta_scan *sc = xcalloc(1, sizeof *sc);
	sc->s = s;
	sc->files = files;
	sc->nfiles = nfiles;
	sc->pred = pred;
	const char **pcols = NULL;
	size_t npcols = pred ? delta_pred_columns(pred, &pcols) : 0;
	sc->cols = xcalloc(sch->nfields + 1, sizeof *sc->cols);
	if (columns) {
		for (size_t i = 0; i < ncolumns; i++) {
			long idx = type_field_index(sch, columns[i]);
			if (idx < 0) {
				snprintf(err, errlen, "no column '%s' in the table", columns[i]);
				delta_scan_close(sc);
				return NULL;
			}
			add_col(sc, idx);
		}
	} else {
		for (size_t i = 0; i < sch->nfields; i++)
			add_col(sc, (long)i);
	}
	sc->nout = sc->ncols;
	for (size_t i = 0; i < npcols; i++) {
		char *top = xstrdup(pcols[i]);
		char *dot = strchr(top, '.');
		if (dot)
			*dot = 0;
		long idx = type_field_index(sch, top);
		free(top);
		if (idx >= 0)
			add_col(sc, idx);
	}
	sc->is_part = xcalloc(sc->ncols + 1, sizeof *sc->is_part);
	for (size_t i = 0; i < sc->ncols; i++)
		sc->is_part[i] = is_partition_column(&s->meta, sch->fields[sc->cols[i]].name);
	sc->partvals = xcalloc(sc->ncols + 1, sizeof *sc->partvals);
	sc->pos = xcalloc(sc->ncols + 1, sizeof *sc->pos);
	sc->fill = xcalloc(sc->ncols + 1, sizeof *sc->fill);
	sc->names = xcalloc(sc->ncols + 1, sizeof *sc->names);
	for (size_t i = 0; i < sc->ncols; i++) {
		const char *name = sch->fields[sc->cols[i]].name;
		sc->names[i] = value_str(name, strlen(name));
	}
	return sc;
}

static int open_next(struct delta_scan *sc, char *err, size_t errlen)
{
	const struct type *sch = sc->s->meta.schema;
	for (;;) {
		close_file(sc);
		if (sc->next >= sc->nfiles)
			return 0;
		const struct delta_file *f = &sc->files[sc->next++];
		if (sc->pred && !delta_pred_may_match(sc->pred, &sc->s->meta, f)) {
			sc->skipped++;
			continue;
		}
		for (size_t i = 0; i < sc->ncols; i++) {
			sc->partvals[i] = value_null();
			if (!sc->is_part[i])
				continue;
			const struct field *fd = &sch->fields[sc->cols[i]];
			const struct delta_kv *kv = NULL;
			for (size_t k = 0; k < f->partition_values.n; k++)
				if (!strcasecmp(f->partition_values.kv[k].key, fd->name))
					kv = &f->partition_values.kv[k];
			if (kv && delta_partition_value(kv->val, fd->type, &sc->file_arena, &sc->partvals[i])) {
				snprintf(err, errlen, "file '%s': bad partition value '%s' for column '%s'", f->path, kv->val,
					 fd->name);
				return -1;
			}
		}
		if (!delta_file_path(sc->s->root, f->path, &sc->path, err, errlen))
			return -1;
		char perr[256];
		sc->pf = pq_open(buf_cstr(&sc->path), perr, sizeof perr);
		if (!sc->pf) {
			snprintf(err, errlen, "%s", perr);
			return -1;
		}
		/* the data columns this file has, by the file's own spelling */
		const struct type *fs = pq_schema(sc->pf);
		const char **want = xcalloc(sc->ncols + 1, sizeof *want);
		size_t nwant = 0;
		for (size_t i = 0; i < sc->ncols; i++) {
			if (sc->is_part[i])
				continue;
			const struct field *tf = &sch->fields[sc->cols[i]];
			long fi = type_field_index(fs, tf->name);
			sc->pos[i] = fi >= 0 ? (long)nwant : -1;
			sc->fill[i] = false;
			if (fi < 0)
				continue;
			want[nwant++] = fs->fields[fi].name;
			/* written before the table's schema grew members: does the
			 * file's type grow, merged with the table's? */
			if (!type_equal(fs->fields[fi].type, tf->type)) {
				struct type *t = type_clone(fs->fields[fi].type);
				size_t added = 0;
				type_merge(t, tf->type, false, &added, "", perr, sizeof perr);
				sc->fill[i] = added > 0;
				type_free(t);
			}
		}
		sc->cur = pq_cursor_open(sc->pf, want, nwant, NULL, 0, perr, sizeof perr);
		free(want);
		if (!sc->cur) {
			snprintf(err, errlen, "'%s': %s", buf_cstr(&sc->path), perr);
			return -1;
		}
		return 1;
	}
}

/* A value of a file written before the table's type grew struct members:
 * each struct in the table's member order, the members the file lacks
 * null (Delta's reading of added columns, at any depth). */
static void fill_members(struct arena *a, const struct type *t, struct value *v)
{
	if (t->kind == T_STRUCT && v->type == V_OBJECT) {
		struct value *o = arena_alloc(a, (t->nfields ? t->nfields : 1) * 2 * sizeof *o);
		struct member_names ix;
		member_names_init(&ix, a, v);
		for (size_t i = 0; i < t->nfields; i++) {
			const struct field *f = &t->fields[i];
			size_t len = strlen(f->name);
			long m = member_names_find(&ix, f->name, len);
			o[2 * i] = value_str(f->name, len);
			o[2 * i + 1] = m >= 0 ? v->a[2 * m + 1] : value_null();
			fill_members(a, f->type, &o[2 * i + 1]);
		}
		v->n = (uint32_t)t->nfields;
		v->a = o;
	} else if (t->kind == T_ARRAY && v->type == V_ARRAY) {
		/* the elements are the file's row's, in the arena: filled in place */
		for (uint32_t i = 0; i < v->n; i++)
			fill_members(a, t->elem, &v->a[i]);
	} else if (t->kind == T_MAP && (v->type == V_OBJECT || v->type == V_MAP)) {
		for (uint32_t i = 0; i < v->n; i++)
			fill_members(a, t->val, &v->a[2 * i + 1]);
	}
}

/* The file's value in the table's type: only relabelling and widening,
 * never anything that could change a value. */
static void as_table_type(const struct type *t, struct value *v)
{
	if (v->type == V_TIMESTAMP_NTZ && t->kind == T_TIMESTAMP)
		v->type = V_TIMESTAMP;
	else if (v->type == V_TIMESTAMP && t->kind == T_TIMESTAMP_NTZ)
		v->type = V_TIMESTAMP_NTZ;
	else if (v->type == V_INT && (t->kind == T_FLOAT || t->kind == T_DOUBLE))
		*v = value_float((double)v->i);
	else if (v->type == V_FLOAT && t->kind == T_FLOAT)
		v->f = (double)(float)v->f;
}

int delta_scan_next(struct delta_scan *sc, struct arena *a, struct value *row, char *err, size_t errlen)
{
	const struct type *sch = sc->s->meta.schema;
	for (;;) {
		if (!sc->cur) {
			int rc = open_next(sc, err, errlen);
			if (rc <= 0)
				return rc;
		}
		struct value fr;
		char perr[256];
		arena_reset(a); /* rows that fail the predicate leave nothing behind */
		int rc = pq_next(sc->cur, a, &fr, perr, sizeof perr);
		if (rc < 0) {
			snprintf(err, errlen, "'%s': %s", buf_cstr(&sc->path), perr);
			return -1;
		}
		if (rc == 0) {
			close_file(sc);
			continue;
		}
		struct value o = {.type = V_OBJECT, .n = (uint32_t)sc->ncols};
		o.a = arena_alloc(a, (sc->ncols ? sc->ncols : 1) * 2 * sizeof *o.a);
		for (size_t i = 0; i < sc->ncols; i++) {
			o.a[2 * i] = sc->names[i];
			if (sc->is_part[i]) {
				o.a[2 * i + 1] = sc->partvals[i];
				continue;
			}
			/* the cursor yields the file's columns in the order asked for */
			long p = sc->pos[i];
			o.a[2 * i + 1] = p >= 0 && (uint32_t)p < fr.n ? fr.a[2 * p + 1] : value_null();
			if (sc->fill[i])
				fill_members(a, sch->fields[sc->cols[i]].type, &o.a[2 * i + 1]);
			as_table_type(sch->fields[sc->cols[i]].type, &o.a[2 * i + 1]);
		}
		if (sc->pred && !delta_pred_eval_row(sc->pred, &o))
			continue;
		o.n = (uint32_t)sc->nout;
		*row = o;
		return 1;
	}
}

size_t delta_scan_skipped(const struct delta_scan *sc)
{
	return sc->skipped;
}

void delta_scan_close(struct delta_scan *sc)
{
	if (!sc)
		return;
	close_file(sc);
	arena_free(&sc->file_arena);
	free(sc->cols);
	free(sc->is_part);
	free(sc->partvals);
	free(sc->pos);
	free(sc->fill);
	free(sc->names);
	buf_free(&sc->path);
	free(sc);
}

void delta_conformer_init(struct delta_conformer *c, const struct type *schema)
{
	memset(c, 0, sizeof *c);
	c->schema = schema;
	size_t n = schema->nfields ? schema->nfields : 1;
	c->member = xcalloc(n, sizeof *c->member);
	c->len = xcalloc(n, sizeof *c->len);
	for (size_t i = 0; i < schema->nfields; i++)
		c->len[i] = strlen(schema->fields[i].name);
}

void delta_conformer_free(struct delta_conformer *c)
{
	layout_free(&c->keys);
	free(c->member);
	free(c->len);
	free(c->unknown);
	memset(c, 0, sizeof *c);
}

/* The keys of v are the layout's: layout_note's test, with the bytes of
 * short keys compared in line (these are a record's column names). */
static bool same_keys(const struct layout *l, const struct value *v)
{
	if (!l->id || v->n != l->n)
		return false;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct value *k = &v->a[2 * i];
		if (k->n != l->len[i])
			return false;
		const char *t = l->bytes + l->off[i];
		if (k->n > 16) {
			if (memcmp(k->s, t, k->n))
				return false;
			continue;
		}
		for (uint32_t j = 0; j < k->n; j++)
			if (k->s[j] != t[j])
				return false;
	}
	return true;
}

bool delta_conform_record(struct delta_conformer *c, struct arena *a, const struct value *v, uint64_t layout,
			  struct value *out, struct buf *path, char *err, size_t errlen)
{
	const struct type *t = c->schema;
	if (!v || v->type != V_OBJECT)
		return delta_conform(a, t, false, v, out, path, err, errlen);
	if (!layout) {
		if (!same_keys(&c->keys, v))
			layout_set(&c->keys, v);
		layout = c->keys.id;
	}
	if (layout != c->layout) {
		/* members depend on the keys alone: the same for every record of the layout */
		struct member_names ix;
		member_names_init(&ix, a, v);
		size_t matched = 0;
		for (size_t i = 0; i < t->nfields; i++) {
			c->member[i] = member_names_find(&ix, t->fields[i].name, c->len[i]);
			matched += c->member[i] >= 0;
		}
		c->nunknown = 0;
		if (matched < v->n) {
			const bool *stray = strays(a, &ix, c->member, t->nfields);
			c->unknown = xrealloc(c->unknown, v->n * sizeof *c->unknown);
			for (uint32_t i = 0; i < v->n; i++)
				if (stray[i])
					c->unknown[c->nunknown++] = i;
		}
		c->layout = layout;
	}
	struct value o = {.type = V_OBJECT, .n = (uint32_t)t->nfields};
	o.a = arena_alloc(a, (t->nfields ? t->nfields : 1) * 2 * sizeof *o.a);
	size_t plen = path->len;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct field *f = &t->fields[i];
		long m = c->member[i];
		const struct value *x = m >= 0 ? &v->a[2 * m + 1] : NULL;
		value_set_str(&o.a[2 * i], f->name, c->len[i]);
		if (!delta_conform(a, f->type, f->nullable, x, &o.a[2 * i + 1], path, err, errlen)) {
			/* again with the field on the path, for the message */
			path->len = plen;
			if (plen)
				buf_putc(path, '.');
			buf_put(path, f->name, c->len[i]);
			struct value again;
			delta_conform(a, f->type, f->nullable, x, &again, path, err, errlen);
			return false;
		}
	}
	for (size_t i = 0; i < c->nunknown; i++)
		if (v->a[2 * c->unknown[i] + 1].type != V_NULL) {
			struct member_names ix;
			member_names_init(&ix, a, v);
			return stray_fail(t, &ix, c->unknown[i], path, err, errlen);
		}
	*out = o;
	return true;
}
