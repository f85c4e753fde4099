/* deltamerge.c - MERGE by key, copy-on-write (see deltamerge.h).
 *
 * Keys are compared as keyed.h's canonical bytes of values made to fit the
 * table's types, so a key read from a data file, from a partition value or
 * from an NDJSON record is the same bytes.  Files are pruned with the
 * ranges delta_file_colinfo derives from partition values and stats: the
 * changes are sorted by each key column, and a file may hold an affected
 * key when some change lies inside its ranges on every column that has
 * one.  A file that survives pruning is read twice, its key columns first,
 * so that a file without an affected key is read but never rewritten; the
 * first pass notes the rows to drop, so the second looks nothing up.  Most
 * rows of a file hold no affected key: a Bloom filter in front of the hash
 * table answers them from cache. */
#include "deltamerge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "envelope.h"
#include "expr.h"
#include "json.h"
#include "keyed.h"

struct change {
	struct keyent ent;
	int kind;           /* MERGE_UPSERT or MERGE_DELETE */
	struct value row;   /* upsert: the row in the table schema */
	struct value order;
	struct value *keys; /* one per key column */
	bool found;         /* some row of the table has the key */
};

struct delta_merge {
	struct keyspec keys;
	struct type **key_type; /* copies: schemas come and go with snapshots */
	struct expr *del;
	char *order_by;
	bool order_is_column; /* order_by names a column of the table: compare it typed */
	char **control;     /* members only --delete-when/--order-by use: not written */
	size_t ncontrol;
	enum merge_cdc cdc;
	char *delete_text;

	struct arena arena; /* the batch's changes */
	struct arena scratch;
	struct keytab tab;
	struct change **ch; /* in order of first arrival */
	size_t n, cap;
	struct buf kbuf, path;
	struct merge_stats st;

	/* what the applied batch read, for the conflict rule */
	const struct delta_metadata *meta;
	size_t **sorted;    /* per key column: change indices sorted by that column */
	uint64_t *bloom;    /* over the key hashes, two bits a key */
	size_t bloom_mask;
	uint64_t *drop;     /* rows of the file being rewritten that go */
	size_t ndrop, drop_cap;
	char **read;        /* decoded paths of the files read, sorted */
	size_t nread;
};

struct delta_merge *delta_merge_new(const struct delta_merge_opts *o, char *err, size_t errlen)
{
	struct delta_merge *mg = xcalloc(1, sizeof *mg);
	mg->cdc = o->cdc;
	if (!keyspec_parse(&mg->keys, o->keys, err, errlen))
		goto fail;
	for (size_t i = 0; i < mg->keys.n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcasecmp(mg->keys.paths[i], mg->keys.paths[j])) {
				snprintf(err, errlen, "key column '%s' given twice", mg->keys.paths[i]);
				goto fail;
			}
	if (o->delete_when) {
		struct expr_error ee;
		if (!(mg->del = expr_compile(o->delete_when, &ee))) {
			snprintf(err, errlen, "%s at byte %zu", ee.msg, ee.pos);
			goto fail;
		}
		mg->delete_text = xstrdup(o->delete_when);
	}
	if (o->order_by)
		mg->order_by = xstrdup(o->order_by);
	else if (o->cdc == MERGE_CDC_DEBEZIUM)
		mg->order_by = xstrdup("source.ts_ms");
	mg->key_type = xcalloc(mg->keys.n, sizeof *mg->key_type);
	return mg;
fail:
	delta_merge_free(mg);
	return NULL;
}

static void clear_control(struct delta_merge *mg)
{
	for (size_t i = 0; i < mg->ncontrol; i++)
		free(mg->control[i]);
	free(mg->control);
	mg->control = NULL;
	mg->ncontrol = 0;
}

void delta_merge_free(struct delta_merge *mg)
{
	if (!mg)
		return;
	delta_merge_reset(mg);
	for (size_t i = 0; mg->key_type && i < mg->keys.n; i++)
		type_free(mg->key_type[i]);
	keyspec_free(&mg->keys);
	free(mg->key_type);
	expr_free(mg->del);
	clear_control(mg);
	free(mg->order_by);
	free(mg->delete_text);
	keytab_free(&mg->tab);
	free(mg->ch);
	free(mg->drop);
	arena_free(&mg->arena);
	arena_free(&mg->scratch);
	buf_free(&mg->kbuf);
	buf_free(&mg->path);
	free(mg);
}

bool delta_merge_bind(struct delta_merge *mg, const struct type *schema, char *err, size_t errlen)
{
	for (size_t i = 0; i < mg->keys.n; i++) {
		long idx = type_field_index(schema, mg->keys.paths[i]);
		if (idx < 0) {
			snprintf(err, errlen, "key column '%s' is not in the table", mg->keys.paths[i]);
			return false;
		}
		const struct type *t = schema->fields[idx].type;
		if (!tkind_is_primitive(t->kind) || t->kind == T_VOID) {
			snprintf(err, errlen, "key column '%s' has type %s (keys must be primitive columns)",
				 mg->keys.paths[i], tkind_name(t->kind));
			return false;
		}
		/* rows read back carry the schema's spelling */
		free(mg->keys.paths[i]);
		mg->keys.paths[i] = xstrdup(schema->fields[idx].name);
		type_free(mg->key_type[i]);
		mg->key_type[i] = type_clone(t);
	}
	mg->order_is_column = mg->order_by && mg->cdc == MERGE_CDC_NONE && !strchr(mg->order_by, '.') &&
			      type_field_index(schema, mg->order_by) >= 0;
	/* the top-level names of the columns --delete-when and --order-by use
	 * that the table lacks */
	clear_control(mg);
	size_t nused = mg->del ? expr_ncolumns(mg->del) : 0;
	for (size_t i = 0; mg->cdc == MERGE_CDC_NONE && i <= nused; i++) {
		const char *c = i < nused ? expr_column(mg->del, i) : mg->order_by;
		if (!c)
			continue;
		char *top = xstrndup(c, strcspn(c, "."));
		bool known = type_field_index(schema, top) >= 0;
		for (size_t k = 0; !known && k < mg->ncontrol; k++)
			known = !strcasecmp(mg->control[k], top);
		if (known) {
			free(top);
			continue;
		}
		mg->control = xrealloc(mg->control, (mg->ncontrol + 1) * sizeof *mg->control);
		mg->control[mg->ncontrol++] = top;
	}
	return true;
}

const struct merge_stats *delta_merge_stats(const struct delta_merge *mg)
{
	return &mg->st;
}

/* ---- reading changes ---- */

/* A member by name: exactly, else ignoring case (as records fit the schema). */
static const struct value *member_ci(const struct value *obj, const char *name)
{
	const struct value *v = value_getz(obj, name);
	for (uint32_t i = 0; !v && i < obj->n; i++) {
		const struct value *k = &obj->a[2 * i];
		if (k->type == V_STRING && strlen(name) == k->n && !strncasecmp(k->s, name, k->n))
			v = &obj->a[2 * i + 1];
	}
	return v;
}

static bool control_member(const struct delta_merge *mg, const struct value *name)
{
	for (size_t i = 0; i < mg->ncontrol; i++)
		if (strlen(mg->control[i]) == name->n && !strncasecmp(mg->control[i], name->s, name->n))
			return true;
	return false;
}

static int plain_change(struct delta_merge *mg, const struct value *rec, struct arena *a, struct merge_change *ch)
{
	ch->kind = mg->del && expr_match(mg->del, rec) ? MERGE_DELETE : MERGE_UPSERT;
	if (mg->order_by) {
		const struct value *o = value_path(rec, mg->order_by);
		ch->order = o ? *o : value_null();
	}
	ch->row = *rec;
	ch->row.a = arena_alloc(a, (rec->n ? rec->n : 1) * 2 * sizeof *rec->a);
	ch->row.n = 0;
	for (uint32_t i = 0; i < rec->n; i++) {
		if (control_member(mg, &rec->a[2 * i]))
			continue;
		ch->row.a[2 * ch->row.n] = rec->a[2 * i];
		ch->row.a[2 * ch->row.n + 1] = rec->a[2 * i + 1];
		ch->row.n++;
	}
	return ch->kind;
}

static const struct value *parse_text(const char *p, size_t n, struct arena *a, char *err, size_t errlen)
{
	struct value *parsed = arena_alloc(a, sizeof *parsed);
	struct json_error je;
	if (json_parse(a, p, n, parsed, &je)) {
		snprintf(err, errlen, "the message value is not JSON: %s at byte %zu", je.msg, je.offset);
		return NULL;
	}
	return parsed;
}

/* The Debezium change event in a record: bare, in the JSON converter's
 * payload, or as JSON text in a Kafka envelope's value (weir-ingest) or
 * payload (kcat -J). */
static int debezium_change(struct delta_merge *mg, const struct value *rec, struct arena *a,
			   struct merge_change *ch, char *err, size_t errlen)
{
	const struct value *ev = rec;
	for (int depth = 0;; depth++) {
		if (ev->type == V_NULL)
			return MERGE_TOMBSTONE;
		if (ev->type == V_STRING && depth) {
			if (!(ev = parse_text(ev->s, ev->n, a, err, errlen)))
				return MERGE_REJECT;
			continue;
		}
		if (ev->type != V_OBJECT || depth > 4) {
			snprintf(err, errlen, "not a Debezium change event");
			return MERGE_REJECT;
		}
		if (value_getz(ev, "op"))
			break;
		if (value_getz(ev, "topic") && (value_getz(ev, "value") || value_getz(ev, "value_b64"))) {
			struct env_msg m;
			char why[256];
			if (!env_read(ev, a, &m, why, sizeof why)) {
				snprintf(err, errlen, "bad Kafka envelope: %s", why);
				return MERGE_REJECT;
			}
			if (!m.value)
				return MERGE_TOMBSTONE;
			if (!(ev = parse_text(m.value, m.value_len, a, err, errlen)))
				return MERGE_REJECT;
			continue;
		}
		const struct value *in = value_getz(ev, "payload");
		if (!in) {
			snprintf(err, errlen, "not a Debezium change event (no op, payload or envelope value)");
			return MERGE_REJECT;
		}
		ev = in;
	}
	const struct value *op = value_getz(ev, "op"), *before = value_getz(ev, "before"),
			   *after = value_getz(ev, "after");
	if (op->type != V_STRING || op->n != 1) {
		snprintf(err, errlen, "Debezium op is not a one-letter string");
		return MERGE_REJECT;
	}
	switch (op->s[0]) {
	case 'c':
	case 'r':
	case 'u':
		if (!after || after->type != V_OBJECT) {
			snprintf(err, errlen, "Debezium op '%c' without an after image", op->s[0]);
			return MERGE_REJECT;
		}
		ch->kind = MERGE_UPSERT;
		ch->row = *after;
		if (op->s[0] == 'u' && before && before->type == V_OBJECT)
			ch->before = *before;
		break;
	case 'd':
		if (!before || before->type != V_OBJECT) {
			snprintf(err, errlen, "Debezium delete without a before image (the key is unknown)");
			return MERGE_REJECT;
		}
		ch->kind = MERGE_DELETE;
		ch->row = *before;
		break;
	case 't':
		snprintf(err, errlen, "Debezium truncate events are not supported");
		return MERGE_REJECT;
	default:
		snprintf(err, errlen, "unknown Debezium op '%c'", op->s[0]);
		return MERGE_REJECT;
	}
	const struct value *o = value_path(ev, mg->order_by);
	ch->order = o ? *o : value_null();
	return ch->kind;
}

int delta_merge_decode(struct delta_merge *mg, const struct value *rec, struct arena *a, struct merge_change *ch,
		       char *err, size_t errlen)
{
	ch->kind = MERGE_REJECT;
	ch->row = ch->before = ch->order = value_null();
	if (mg->cdc == MERGE_CDC_DEBEZIUM)
		return debezium_change(mg, rec, a, ch, err, errlen);
	if (rec->type != V_OBJECT) {
		snprintf(err, errlen, "record is not an object");
		return MERGE_REJECT;
	}
	return plain_change(mg, rec, a, ch);
}

/* The key columns of a row that holds (at least) them, made to fit. */
static bool fit_keys(struct delta_merge *mg, const struct value *row, struct value *keys, char *err, size_t errlen)
{
	for (size_t i = 0; i < mg->keys.n; i++) {
		const struct value *x = row->type == V_OBJECT ? member_ci(row, mg->keys.paths[i]) : NULL;
		buf_reset(&mg->path);
		buf_puts(&mg->path, mg->keys.paths[i]);
		if (!delta_conform(&mg->scratch, mg->key_type[i], true, x, &keys[i], &mg->path, err, errlen))
			return false;
		if (keys[i].type == V_NULL) {
			snprintf(err, errlen, "key column '%s' is null", mg->keys.paths[i]);
			return false;
		}
	}
	return true;
}

static void encode_keys(struct delta_merge *mg, const struct value *keys)
{
	buf_reset(&mg->kbuf);
	for (size_t i = 0; i < mg->keys.n; i++)
		key_encode_value(&mg->kbuf, &keys[i]);
}

/* The last change per key wins: by order value, then by arrival. */
static void put(struct delta_merge *mg, int kind, const struct value *keys, const struct value *row,
		const struct value *order)
{
	encode_keys(mg, keys);
	uint64_t h = key_hash(mg->kbuf.p, mg->kbuf.len);
	struct keyent *e = keytab_find(&mg->tab, mg->kbuf.p, mg->kbuf.len, h);
	struct change *c;
	if (e) {
		c = KEYED_OF(e, struct change, ent);
		if (mg->order_by && value_cmp(order, &c->order) < 0)
			return;
	} else {
		c = arena_alloc(&mg->arena, sizeof *c);
		memset(c, 0, sizeof *c);
		char *k = arena_alloc(&mg->arena, mg->kbuf.len ? mg->kbuf.len : 1);
		memcpy(k, mg->kbuf.p, mg->kbuf.len);
		c->ent.hash = h;
		c->ent.key = k;
		c->ent.klen = (uint32_t)mg->kbuf.len;
		c->keys = arena_alloc(&mg->arena, mg->keys.n * sizeof *c->keys);
		for (size_t i = 0; i < mg->keys.n; i++)
			value_copy(&mg->arena, &c->keys[i], &keys[i]);
		keytab_insert(&mg->tab, &c->ent);
		if (mg->n == mg->cap) {
			mg->cap = mg->cap ? 2 * mg->cap : 256;
			mg->ch = xrealloc(mg->ch, mg->cap * sizeof *mg->ch);
		}
		mg->ch[mg->n++] = c;
	}
	c->kind = kind;
	c->row = value_null();
	if (row)
		value_copy(&mg->arena, &c->row, row);
	value_copy(&mg->arena, &c->order, order);
}

int delta_merge_add(struct delta_merge *mg, const struct type *schema, const struct merge_change *ch, char *err,
		    size_t errlen)
{
	arena_reset(&mg->scratch);
	struct value *keys = arena_alloc(&mg->scratch, (mg->keys.n + 1) * sizeof *keys);
	struct value row = value_null(), order = ch->order;
	if (ch->kind == MERGE_UPSERT) {
		buf_reset(&mg->path);
		if (!delta_conform(&mg->scratch, schema, false, &ch->row, &row, &mg->path, err, errlen))
			return -1;
	}
	if (!fit_keys(mg, ch->kind == MERGE_UPSERT ? &row : &ch->row, keys, err, errlen))
		return -1;
	if (mg->order_is_column) {
		buf_reset(&mg->path);
		buf_puts(&mg->path, mg->order_by);
		const struct field *f = &schema->fields[type_field_index(schema, mg->order_by)];
		if (!delta_conform(&mg->scratch, f->type, true, &ch->order, &order, &mg->path, err, errlen))
			return -1;
	}
	/* an update that changes the key deletes the old one */
	struct value *old = NULL;
	if (ch->before.type == V_OBJECT) {
		old = arena_alloc(&mg->scratch, (mg->keys.n + 1) * sizeof *old);
		char ignored[256];
		bool same = true;
		if (fit_keys(mg, &ch->before, old, ignored, sizeof ignored))
			for (size_t i = 0; i < mg->keys.n; i++)
				same &= value_cmp(&old[i], &keys[i]) == 0;
		if (same)
			old = NULL;
	}
	mg->st.source_rows++;
	if (old)
		put(mg, MERGE_DELETE, old, NULL, &order);
	put(mg, ch->kind, keys, ch->kind == MERGE_UPSERT ? &row : NULL, &order);
	return 0;
}

/* ---- pruning ---- */

struct sort_ctx {
	const struct delta_merge *mg;
	size_t col;
};

static int cmp_change(const void *a, const void *b, void *ctx)
{
	const struct sort_ctx *sc = ctx;
	const struct change *x = sc->mg->ch[*(const size_t *)a], *y = sc->mg->ch[*(const size_t *)b];
	return value_cmp(&x->keys[sc->col], &y->keys[sc->col]);
}

static void build_sorted(struct delta_merge *mg)
{
	mg->sorted = xcalloc(mg->keys.n, sizeof *mg->sorted);
	for (size_t j = 0; j < mg->keys.n; j++) {
		mg->sorted[j] = xmalloc((mg->n ? mg->n : 1) * sizeof **mg->sorted);
		for (size_t i = 0; i < mg->n; i++)
			mg->sorted[j][i] = i;
		struct sort_ctx sc = {mg, j};
		if (mg->n)
			qsort_r(mg->sorted[j], mg->n, sizeof **mg->sorted, cmp_change, &sc);
	}
}

struct bound {
	bool has_lo, has_hi;
	struct value lo, hi;
};

static bool in_bound(const struct bound *b, const struct value *v)
{
	return (!b->has_lo || value_cmp(v, &b->lo) >= 0) && (!b->has_hi || value_cmp(v, &b->hi) <= 0);
}

/* May the file hold a row with one of the batch's keys? */
static bool may_hold(struct delta_merge *mg, const struct delta_metadata *m, const struct delta_file *f)
{
	if (!mg->n)
		return false;
	arena_reset(&mg->scratch);
	struct bound *b = arena_alloc(&mg->scratch, mg->keys.n * sizeof *b);
	long first = -1;
	for (size_t j = 0; j < mg->keys.n; j++) {
		struct expr_colinfo info;
		delta_file_colinfo(m, f, mg->keys.paths[j], &mg->scratch, &info);
		memset(&b[j], 0, sizeof b[j]);
		if (info.kind == EXPR_COL_VALUE) {
			if (info.value.type == V_NULL)
				return false; /* keys are never null */
			b[j] = (struct bound){true, true, info.value, info.value};
		} else if (info.kind == EXPR_COL_RANGE) {
			if (info.row_count >= 0 && info.null_count == info.row_count)
				return false; /* empty, or null throughout */
			b[j].has_lo = info.min.type != V_NULL;
			b[j].has_hi = info.max.type != V_NULL;
			b[j].lo = info.min;
			b[j].hi = info.max;
		}
		if (first < 0 && (b[j].has_lo || b[j].has_hi))
			first = (long)j;
	}
	if (first < 0)
		return true;
	/* walk the changes inside the first bounded column's range */
	const size_t *s = mg->sorted[first];
	size_t lo = 0, hi = mg->n;
	if (b[first].has_lo)
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (value_cmp(&mg->ch[s[mid]]->keys[first], &b[first].lo) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	for (size_t i = lo; i < mg->n; i++) {
		const struct change *c = mg->ch[s[i]];
		if (b[first].has_hi && value_cmp(&c->keys[first], &b[first].hi) > 0)
			break;
		bool in = true;
		for (size_t j = 0; in && j < mg->keys.n; j++)
			in = in_bound(&b[j], &c->keys[j]);
		if (in)
			return true;
	}
	return false;
}

static char *decoded_path(const char *uri)
{
	struct buf b = BUF_INIT;
	if (!delta_uri_unescape(uri, &b)) {
		buf_reset(&b);
		buf_puts(&b, uri);
	}
	return buf_cstr(&b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool delta_merge_read_file(void *ctx, const struct delta_file *f, bool removed)
{
	struct delta_merge *mg = ctx;
	if (!removed)
		return !mg->meta || may_hold(mg, mg->meta, f);
	char *p = decoded_path(f->path);
	bool hit = mg->nread && bsearch(&p, mg->read, mg->nread, sizeof *mg->read, cmp_str);
	free(p);
	return hit;
}

/* ---- applying ---- */

static void build_bloom(struct delta_merge *mg)
{
	size_t bits = 512;
	while (bits < 16 * mg->n)
		bits *= 2;
	mg->bloom = xcalloc(bits / 64, sizeof *mg->bloom);
	mg->bloom_mask = bits - 1;
	for (size_t i = 0; i < mg->n; i++) {
		uint64_t h = mg->ch[i]->ent.hash, b1 = h & mg->bloom_mask, b2 = (h >> 32) & mg->bloom_mask;
		mg->bloom[b1 / 64] |= 1ull << (b1 % 64);
		mg->bloom[b2 / 64] |= 1ull << (b2 % 64);
	}
}

/* The change for the key of a row of the key columns. */
static struct change *lookup_row(struct delta_merge *mg, const struct value *row)
{
	buf_reset(&mg->kbuf);
	for (size_t i = 0; i < mg->keys.n; i++)
		key_encode_value(&mg->kbuf, &row->a[2 * i + 1]);
	uint64_t h = key_hash(mg->kbuf.p, mg->kbuf.len), b1 = h & mg->bloom_mask, b2 = (h >> 32) & mg->bloom_mask;
	if (!(mg->bloom[b1 / 64] >> (b1 % 64) & 1) || !(mg->bloom[b2 / 64] >> (b2 % 64) & 1))
		return NULL;
	struct keyent *e = keytab_find(&mg->tab, mg->kbuf.p, mg->kbuf.len, h);
	return e ? KEYED_OF(e, struct change, ent) : NULL;
}

/* Pass 1: the rows of the file (key columns only) with an affected key. */
static int file_hits(struct delta_merge *mg, const struct delta_snapshot *s, const struct delta_file *f,
		     struct arena *a, char *err, size_t errlen)
{
	struct delta_scan *sc = delta_scan_open(s, f, 1, (const char *const *)mg->keys.paths, mg->keys.n, NULL, err,
						errlen);
	if (!sc)
		return -1;
	struct value row;
	int r;
	mg->ndrop = 0;
	for (uint64_t n = 0; (r = delta_scan_next(sc, a, &row, err, errlen)) > 0; n++) {
		struct change *c = lookup_row(mg, &row);
		if (!c)
			continue;
		c->found = true;
		if (c->kind == MERGE_DELETE)
			mg->st.deleted++;
		else
			mg->st.updated++;
		if (mg->ndrop == mg->drop_cap) {
			mg->drop_cap = mg->drop_cap ? 2 * mg->drop_cap : 256;
			mg->drop = xrealloc(mg->drop, mg->drop_cap * sizeof *mg->drop);
		}
		mg->drop[mg->ndrop++] = n;
	}
	delta_scan_close(sc);
	return r < 0 ? -1 : mg->ndrop > 0;
}

/* Pass 2: the rows the file keeps. */
static int rewrite_file(struct delta_merge *mg, const struct delta_snapshot *s, const struct delta_file *f,
			struct arena *a, merge_emit_fn emit, void *ctx, char *err, size_t errlen)
{
	struct delta_scan *sc = delta_scan_open(s, f, 1, NULL, 0, NULL, err, errlen);
	if (!sc)
		return -1;
	struct value row;
	int r;
	size_t next = 0;
	for (uint64_t n = 0; (r = delta_scan_next(sc, a, &row, err, errlen)) > 0; n++) {
		if (next < mg->ndrop && mg->drop[next] == n) {
			next++;
			continue;
		}
		mg->st.copied++;
		mg->st.output_rows++;
		if (emit(ctx, &row, err, errlen)) {
			r = -1;
			break;
		}
	}
	delta_scan_close(sc);
	return r < 0 ? -1 : 0;
}

int delta_merge_apply(struct delta_merge *mg, const struct delta_snapshot *s, merge_emit_fn emit, void *ctx,
		      struct delta_file **removes, size_t *nremoves, char *err, size_t errlen)
{
	*removes = NULL;
	*nremoves = 0;
	struct arena a = {0};
	int rc = 0;
	if (s) {
		/* key positions as the snapshot's schema has them */
		if (!delta_merge_bind(mg, s->meta.schema, err, errlen))
			return -1;
		mg->meta = &s->meta;
		build_sorted(mg);
		build_bloom(mg);
		mg->st.files_before = (int64_t)s->nfiles;
		for (size_t i = 0; i < s->nfiles && !rc; i++) {
			const struct delta_file *f = &s->files[i];
			if (!may_hold(mg, &s->meta, f))
				continue;
			mg->read = xrealloc(mg->read, (mg->nread + 1) * sizeof *mg->read);
			mg->read[mg->nread++] = decoded_path(f->path);
			mg->st.files_read++;
			int hits = file_hits(mg, s, f, &a, err, errlen);
			if (hits <= 0) {
				rc = hits;
				continue;
			}
			*removes = xrealloc(*removes, (*nremoves + 1) * sizeof **removes);
			delta_file_copy(&(*removes)[*nremoves], f);
			(*removes)[(*nremoves)++].data_change = true;
			mg->st.files_removed++;
			rc = rewrite_file(mg, s, f, &a, emit, ctx, err, errlen);
		}
		if (mg->nread)
			qsort(mg->read, mg->nread, sizeof *mg->read, cmp_str);
	}
	for (size_t i = 0; i < mg->n && !rc; i++) {
		struct change *c = mg->ch[i];
		if (c->kind != MERGE_UPSERT)
			continue;
		if (!c->found)
			mg->st.inserted++;
		mg->st.output_rows++;
		rc = emit(ctx, &c->row, err, errlen);
	}
	arena_free(&a);
	return rc ? -1 : 0;
}

static void put_metric(struct buf *b, const char *name, int64_t v, bool first)
{
	buf_printf(b, "%s\"%s\":\"%lld\"", first ? "" : ",", name, (long long)v);
}

void delta_merge_commit_info(const struct delta_merge *mg, size_t nadds, struct buf *params, struct buf *metrics)
{
	/* Spark writes these as strings holding JSON or SQL text */
	struct buf pred = BUF_INIT, s = BUF_INIT;
	for (size_t i = 0; i < mg->keys.n; i++)
		buf_printf(&pred, "%starget.%s = source.%s", i ? " AND " : "", mg->keys.paths[i], mg->keys.paths[i]);
	buf_puts(params, "{\"predicate\":");
	buf_putc(&s, '[');
	json_write_string(&s, pred.p, pred.len);
	buf_putc(&s, ']');
	json_write_string(params, s.p, s.len);
	buf_reset(&s);
	buf_puts(&s, "[{\"actionType\":\"delete\"");
	if (mg->delete_text || mg->cdc == MERGE_CDC_DEBEZIUM) {
		const char *dp = mg->delete_text ? mg->delete_text : "op = 'd'";
		buf_puts(&s, ",\"predicate\":");
		json_write_string(&s, dp, strlen(dp));
	}
	buf_puts(&s, "},{\"actionType\":\"update\"}]");
	buf_puts(params, ",\"matchedPredicates\":");
	json_write_string(params, s.p, s.len);
	buf_puts(params, ",\"notMatchedPredicates\":\"[{\\\"actionType\\\":\\\"insert\\\"}]\"");
	if (mg->order_by) {
		buf_puts(params, ",\"orderBy\":");
		json_write_string(params, mg->order_by, strlen(mg->order_by));
	}
	buf_putc(params, '}');
	buf_free(&pred);
	buf_free(&s);

	const struct merge_stats *st = &mg->st;
	buf_putc(metrics, '{');
	put_metric(metrics, "numSourceRows", st->source_rows, true);
	put_metric(metrics, "numTargetRowsInserted", st->inserted, false);
	put_metric(metrics, "numTargetRowsUpdated", st->updated, false);
	put_metric(metrics, "numTargetRowsDeleted", st->deleted, false);
	put_metric(metrics, "numTargetRowsCopied", st->copied, false);
	put_metric(metrics, "numOutputRows", st->output_rows, false);
	put_metric(metrics, "numTargetFilesBeforeSkipping", st->files_before, false);
	put_metric(metrics, "numTargetFilesAfterSkipping", st->files_read, false);
	put_metric(metrics, "numTargetFilesRemoved", st->files_removed, false);
	put_metric(metrics, "numTargetFilesAdded", (int64_t)nadds, false);
	buf_putc(metrics, '}');
}

void delta_merge_reset(struct delta_merge *mg)
{
	keytab_free(&mg->tab);
	memset(&mg->tab, 0, sizeof mg->tab);
	mg->n = 0;
	arena_reset(&mg->arena);
	if (mg->sorted)
		for (size_t j = 0; j < mg->keys.n; j++)
			free(mg->sorted[j]);
	free(mg->sorted);
	mg->sorted = NULL;
	free(mg->bloom);
	mg->bloom = NULL;
	for (size_t i = 0; i < mg->nread; i++)
		free(mg->read[i]);
	free(mg->read);
	mg->read = NULL;
	mg->nread = 0;
	mg->meta = NULL;
	memset(&mg->st, 0, sizeof mg->st);
}
