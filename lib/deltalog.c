/* deltalog.c - listing and replaying a Delta log (see delta.h).
 *
 * The directory listing is the truth: _last_checkpoint is never needed,
 * because a local listing is cheap and a stale hint (delta-rs
 * table_failed_last_checkpoint_update) must not decide what a reader sees.
 * Replay starts from the newest complete checkpoint at or below the target
 * (falling back to an older one, or to version 0, when a checkpoint cannot
 * be read) and applies the JSON commits after it, which must all be there. */
#include "delta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "json.h"
#include "parquet.h"

/* ---- small owned containers ---- */

const struct delta_kv *delta_map_get(const struct delta_map *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->kv[i].key, key))
			return &m->kv[i];
	return NULL;
}

void delta_map_set(struct delta_map *m, const char *key, const char *val)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->kv[i].key, key)) {
			free(m->kv[i].val);
			m->kv[i].val = val ? xstrdup(val) : NULL;
			return;
		}
	m->kv = xrealloc(m->kv, (m->n + 1) * sizeof *m->kv);
	m->kv[m->n].key = xstrdup(key);
	m->kv[m->n].val = val ? xstrdup(val) : NULL;
	m->n++;
}

void delta_map_copy(struct delta_map *dst, const struct delta_map *src)
{
	dst->n = 0;
	dst->kv = NULL;
	for (size_t i = 0; i < src->n; i++)
		delta_map_set(dst, src->kv[i].key, src->kv[i].val);
}

void delta_map_free(struct delta_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->kv[i].key);
		free(m->kv[i].val);
	}
	free(m->kv);
	m->kv = NULL;
	m->n = 0;
}

static char *vstrdup(const struct value *v)
{
	return v && v->type == V_STRING ? xstrndup(v->s, v->n) : NULL;
}

static int64_t vint(const struct value *v, int64_t dflt)
{
	return v && v->type == V_INT ? v->i : dflt;
}

static bool vbool(const struct value *v, bool dflt)
{
	return v && v->type == V_BOOL ? v->b : dflt;
}

/* A string map from a JSON object (or a Parquet map) with string or null
 * values; other values are kept in their JSON text (configuration values
 * written by careless engines). */
static void map_from(struct delta_map *m, const struct value *v)
{
	m->n = 0;
	m->kv = NULL;
	if (!v || (v->type != V_OBJECT && v->type != V_MAP))
		return;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct value *k = &v->a[2 * i], *x = &v->a[2 * i + 1];
		if (k->type != V_STRING)
			continue;
		char *key = xstrndup(k->s, k->n), *val = NULL;
		if (x->type == V_STRING) {
			val = xstrndup(x->s, x->n);
		} else if (x->type != V_NULL) {
			struct buf b = BUF_INIT;
			json_write(&b, x);
			val = buf_cstr(&b);
		}
		delta_map_set(m, key, val);
		free(key);
		free(val);
	}
}

static void strlist_from(char ***out, size_t *n, const struct value *v)
{
	*out = NULL;
	*n = 0;
	if (!v || v->type != V_ARRAY)
		return;
	*out = xcalloc(v->n ? v->n : 1, sizeof **out);
	for (uint32_t i = 0; i < v->n; i++)
		if (v->a[i].type == V_STRING)
			(*out)[(*n)++] = xstrndup(v->a[i].s, v->a[i].n);
}

static void strlist_free(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static char **strlist_copy(char **l, size_t n)
{
	if (!l)
		return NULL;
	char **c = xcalloc(n ? n : 1, sizeof *c);
	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(l[i]);
	return c;
}

void delta_protocol_free(struct delta_protocol *p)
{
	strlist_free(p->reader_features, p->nreader_features);
	strlist_free(p->writer_features, p->nwriter_features);
	memset(p, 0, sizeof *p);
}

void delta_protocol_copy(struct delta_protocol *dst, const struct delta_protocol *src)
{
	*dst = *src;
	dst->reader_features = strlist_copy(src->reader_features, src->nreader_features);
	dst->writer_features = strlist_copy(src->writer_features, src->nwriter_features);
}

void delta_metadata_free(struct delta_metadata *m)
{
	free(m->id);
	free(m->name);
	free(m->description);
	free(m->provider);
	delta_map_free(&m->format_options);
	free(m->schema_string);
	type_free(m->schema);
	strlist_free(m->partition_columns, m->npartition_columns);
	delta_map_free(&m->configuration);
	memset(m, 0, sizeof *m);
}

void delta_metadata_copy(struct delta_metadata *dst, const struct delta_metadata *src)
{
	dst->id = src->id ? xstrdup(src->id) : NULL;
	dst->name = src->name ? xstrdup(src->name) : NULL;
	dst->description = src->description ? xstrdup(src->description) : NULL;
	dst->provider = src->provider ? xstrdup(src->provider) : NULL;
	delta_map_copy(&dst->format_options, &src->format_options);
	dst->schema_string = src->schema_string ? xstrdup(src->schema_string) : NULL;
	dst->schema = type_clone(src->schema);
	dst->partition_columns = strlist_copy(src->partition_columns, src->npartition_columns);
	dst->npartition_columns = src->npartition_columns;
	delta_map_copy(&dst->configuration, &src->configuration);
	dst->created_time = src->created_time;
}

void delta_file_free(struct delta_file *f)
{
	free(f->path);
	free(f->stats);
	delta_map_free(&f->partition_values);
	delta_map_free(&f->tags);
	memset(f, 0, sizeof *f);
}

void delta_file_copy(struct delta_file *dst, const struct delta_file *src)
{
	*dst = *src;
	dst->path = xstrdup(src->path);
	dst->stats = src->stats ? xstrdup(src->stats) : NULL;
	delta_map_copy(&dst->partition_values, &src->partition_values);
	delta_map_copy(&dst->tags, &src->tags);
}

int delta_file_from_json(const struct value *v, bool is_add, struct delta_file *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	const struct value *path = value_getz(v, "path");
	if (!path || path->type != V_STRING || !path->n) {
		snprintf(err, errlen, "%s action without a path", is_add ? "add" : "remove");
		return -1;
	}
	const struct value *dv = value_getz(v, "deletionVector");
	if (dv && dv->type != V_NULL) {
		snprintf(err, errlen, "table requires reader feature 'deletionVectors' (file '%.*s' has one)",
			 (int)(path->n > 200 ? 200 : path->n), path->s);
		return -1;
	}
	f->path = xstrndup(path->s, path->n);
	map_from(&f->partition_values, value_getz(v, "partitionValues"));
	map_from(&f->tags, value_getz(v, "tags"));
	f->size = vint(value_getz(v, "size"), is_add ? 0 : -1);
	f->time = vint(value_getz(v, is_add ? "modificationTime" : "deletionTimestamp"), 0);
	f->data_change = vbool(value_getz(v, "dataChange"), true);
	f->extended_file_metadata = vbool(value_getz(v, "extendedFileMetadata"), false);
	if (is_add) {
		const struct value *st = value_getz(v, "stats"), *sp = value_getz(v, "stats_parsed");
		if (st && st->type == V_STRING) {
			f->stats = xstrndup(st->s, st->n);
		} else if (sp && sp->type == V_OBJECT) {
			/* Databricks checkpoints may carry only the struct form */
			struct buf b = BUF_INIT;
			json_write(&b, sp);
			f->stats = buf_cstr(&b);
		}
	}
	return 0;
}

/* ---- listing ---- */

struct ckpt {
	int64_t version;
	int parts;      /* 1 for a classic checkpoint */
	int have;       /* parts found */
	uint64_t seen;  /* bitmask of part numbers seen (parts <= 64) */
};

struct listing {
	int64_t *json;
	size_t njson;
	struct ckpt *ckpts;
	size_t nckpts;
};

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

static int64_t digits_value(const char *s, size_t n)
{
	int64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_ckpt(const void *a, const void *b)
{
	const struct ckpt *x = a, *y = b;
	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return x->parts - y->parts;
}

static void add_ckpt(struct listing *l, int64_t version, int parts, int part)
{
	for (size_t i = 0; i < l->nckpts; i++) {
		struct ckpt *c = &l->ckpts[i];
		if (c->version == version && c->parts == parts) {
			if (!(c->seen & (1ull << (part - 1)))) {
				c->seen |= 1ull << (part - 1);
				c->have++;
			}
			return;
		}
	}
	l->ckpts = xrealloc(l->ckpts, (l->nckpts + 1) * sizeof *l->ckpts);
	l->ckpts[l->nckpts++] = (struct ckpt){version, parts, 1, 1ull << (part - 1)};
}

static void listing_free(struct listing *l)
{
	free(l->json);
	free(l->ckpts);
}

static char *log_path(const char *root, const char *name)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/" DELTA_LOG "/%s", root, name);
	return buf_cstr(&b);
}

/* 0 ok, 1 no _delta_log, -1 error. */
static int list_log(const char *root, struct listing *l, char *err, size_t errlen)
{
	memset(l, 0, sizeof *l);
	char *dir = log_path(root, "");
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		if (e == ENOENT) {
			free(dir);
			return 1;
		}
		snprintf(err, errlen, "cannot read '%s': %s", dir, strerror(e));
		free(dir);
		return -1;
	}
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		size_t len = strlen(n);
		if (len < 21 || !all_digits(n, 20) || n[20] != '.')
			continue;
		int64_t v = digits_value(n, 20);
		const char *rest = n + 21;
		if (!strcmp(rest, "json")) {
			if (l->njson == cap) {
				cap = cap ? 2 * cap : 64;
				l->json = xrealloc(l->json, cap * sizeof *l->json);
			}
			l->json[l->njson++] = v;
		} else if (!strcmp(rest, "checkpoint.parquet")) {
			add_ckpt(l, v, 1, 1);
		} else if (strlen(rest) == 11 + 10 + 1 + 10 + 8 && !strncmp(rest, "checkpoint.", 11) &&
			   all_digits(rest + 11, 10) && rest[21] == '.' && all_digits(rest + 22, 10) &&
			   !strcmp(rest + 32, ".parquet")) {
			int64_t part = digits_value(rest + 11, 10), parts = digits_value(rest + 22, 10);
			if (parts >= 1 && parts <= 64 && part >= 1 && part <= parts)
				add_ckpt(l, v, (int)parts, (int)part);
		}
		/* v2 checkpoints (checkpoint.UUID.*), .crc, compacted logs: ignored;
		 * a table that needs v2 checkpoints says so in its protocol */
	}
	closedir(d);
	free(dir);
	/* qsort's pointer must not be NULL even for zero elements (UBSan) */
	if (l->njson)
		qsort(l->json, l->njson, sizeof *l->json, cmp_i64);
	if (l->nckpts)
		qsort(l->ckpts, l->nckpts, sizeof *l->ckpts, cmp_ckpt);
	return 0;
}

static bool has_json(const struct listing *l, int64_t v)
{
	return l->njson && bsearch(&v, l->json, l->njson, sizeof *l->json, cmp_i64) != NULL;
}

int64_t delta_latest_version(const char *root, char *err, size_t errlen)
{
	struct listing l;
	int rc = list_log(root, &l, err, errlen);
	if (rc)
		return rc > 0 ? -1 : -2;
	int64_t v = l.njson ? l.json[l.njson - 1] : -1;
	for (size_t i = 0; i < l.nckpts; i++)
		if (l.ckpts[i].have == l.ckpts[i].parts && l.ckpts[i].version > v)
			v = l.ckpts[i].version;
	listing_free(&l);
	return v;
}

/* ---- reading commits ---- */

static int read_whole(const char *path, struct buf *out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return errno == ENOENT ? 1 : -1;
	}
	for (;;) {
		buf_grow(out, 65536);
		ssize_t n = read(fd, out->p + out->len, out->cap - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	close(fd);
	return 0;
}

int delta_read_commit(const char *root, int64_t version, struct arena *a, struct value **actions, size_t *n,
		      char *err, size_t errlen)
{
	char name[40];
	snprintf(name, sizeof name, "%020lld.json", (long long)version);
	char *path = log_path(root, name);
	struct buf b = BUF_INIT;
	int rc = read_whole(path, &b, err, errlen);
	free(path);
	*actions = NULL;
	*n = 0;
	if (rc) {
		buf_free(&b);
		return rc;
	}
	/* the values point into the text, so it lives in the arena too */
	char *text = arena_alloc(a, b.len + 1);
	memcpy(text, b.p, b.len);
	text[b.len] = 0;
	size_t len = b.len;
	buf_free(&b);
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	struct value *acts = arena_alloc(a, lines * sizeof *acts);
	size_t cnt = 0, lineno = 0;
	for (size_t i = 0; i < len;) {
		char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		lineno++;
		size_t s = i;
		while (s < end && (text[s] == ' ' || text[s] == '\t' || text[s] == '\r'))
			s++;
		if (s < end) {
			struct json_error je;
			if (json_parse(a, text + s, end - s, &acts[cnt], &je) || acts[cnt].type != V_OBJECT) {
				snprintf(err, errlen, "malformed commit %020lld.json line %zu: %s", (long long)version,
					 lineno, acts[cnt].type == V_OBJECT ? je.msg : "not a JSON object");
				return -1;
			}
			cnt++;
		}
		i = end + 1;
	}
	*actions = acts;
	*n = cnt;
	return 0;
}

int64_t delta_commit_time(const char *root, int64_t version, const struct value *actions, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct value *ci = value_getz(&actions[i], "commitInfo");
		if (!ci)
			continue;
		int64_t t = vint(value_getz(ci, "inCommitTimestamp"), -1);
		if (t < 0)
			t = vint(value_getz(ci, "timestamp"), -1);
		if (t >= 0)
			return t;
	}
	char name[40];
	snprintf(name, sizeof name, "%020lld.json", (long long)version);
	char *path = log_path(root, name);
	struct stat st;
	int64_t t = -1;
	if (!stat(path, &st))
		t = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	free(path);
	return t;
}

/* ---- replay ---- */

/* Files by decoded path, the key Delta uses (deletion vectors are refused,
 * so the key has no uniqueId part). */
struct entry {
	char *key;
	struct delta_file f;
	bool live;
};

struct replay {
	struct entry *e;
	size_t n, cap;
	size_t *slots; /* index+1, 0 = empty */
	size_t nslots;
	bool have_protocol, have_meta;
	struct delta_protocol protocol;
	struct delta_metadata meta;
	struct delta_txn *txns;
	size_t ntxns;
	struct buf scratch;
};

static void rehash(struct replay *r)
{
	size_t ns = r->nslots ? r->nslots * 2 : 1024;
	free(r->slots);
	r->slots = xcalloc(ns, sizeof *r->slots);
	r->nslots = ns;
	for (size_t i = 0; i < r->n; i++) {
		size_t h = hash_bytes(r->e[i].key, strlen(r->e[i].key), 0) & (ns - 1);
		while (r->slots[h])
			h = (h + 1) & (ns - 1);
		r->slots[h] = i + 1;
	}
}

static struct entry *lookup(struct replay *r, const char *key, bool create)
{
	if (create && (r->n + 1) * 2 > r->nslots)
		rehash(r);
	if (!r->nslots)
		return NULL;
	size_t h = hash_bytes(key, strlen(key), 0) & (r->nslots - 1);
	while (r->slots[h]) {
		struct entry *e = &r->e[r->slots[h] - 1];
		if (!strcmp(e->key, key))
			return e;
		h = (h + 1) & (r->nslots - 1);
	}
	if (!create)
		return NULL;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->e = xrealloc(r->e, r->cap * sizeof *r->e);
	}
	struct entry *e = &r->e[r->n];
	memset(e, 0, sizeof *e);
	e->key = xstrdup(key);
	r->slots[h] = ++r->n;
	return e;
}

static void replay_free(struct replay *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->e[i].key);
		delta_file_free(&r->e[i].f);
	}
	free(r->e);
	free(r->slots);
	delta_protocol_free(&r->protocol);
	delta_metadata_free(&r->meta);
	for (size_t i = 0; i < r->ntxns; i++)
		free(r->txns[i].app_id);
	free(r->txns);
	buf_free(&r->scratch);
}

static int apply_file(struct replay *r, const struct value *v, bool is_add, int64_t version, char *err,
		      size_t errlen)
{
	struct delta_file f;
	if (delta_file_from_json(v, is_add, &f, err, errlen))
		return -1;
	buf_reset(&r->scratch);
	if (!delta_uri_unescape(f.path, &r->scratch)) {
		/* keep odd paths keyed by their text; reading them fails later */
		buf_reset(&r->scratch);
		buf_puts(&r->scratch, f.path);
	}
	f.version = version;
	struct entry *e = lookup(r, buf_cstr(&r->scratch), true);
	delta_file_free(&e->f);
	e->f = f;
	e->live = is_add;
	return 0;
}

static int apply_metadata(struct replay *r, const struct value *v, char *err, size_t errlen)
{
	const struct value *ss = value_getz(v, "schemaString"), *fmt = value_getz(v, "format");
	/* hand-made logs (Delta's own golden tables) may leave the schema
	 * out: a table without columns, whose files can be listed but not read */
	static const struct value no_schema = {.type = V_STRING, .n = 29, .s = "{\"type\":\"struct\",\"fields\":[]}"};
	if (!ss || ss->type != V_STRING)
		ss = &no_schema;
	char serr[256];
	struct type *schema = schema_parse_delta(ss->s, ss->n, serr, sizeof serr);
	if (!schema) {
		snprintf(err, errlen, "table schema: %s", serr);
		return -1;
	}
	delta_metadata_free(&r->meta);
	struct delta_metadata *m = &r->meta;
	m->schema = schema;
	m->schema_string = xstrndup(ss->s, ss->n);
	m->id = vstrdup(value_getz(v, "id"));
	m->name = vstrdup(value_getz(v, "name"));
	m->description = vstrdup(value_getz(v, "description"));
	m->provider = vstrdup(value_getz(fmt, "provider"));
	map_from(&m->format_options, value_getz(fmt, "options"));
	strlist_from(&m->partition_columns, &m->npartition_columns, value_getz(v, "partitionColumns"));
	map_from(&m->configuration, value_getz(v, "configuration"));
	m->created_time = vint(value_getz(v, "createdTime"), -1);
	if (!m->id)
		m->id = xstrdup("");
	if (!m->provider)
		m->provider = xstrdup("parquet");
	for (size_t i = 0; i < m->npartition_columns; i++)
		if (type_field_index(schema, m->partition_columns[i]) < 0) {
			snprintf(err, errlen, "partition column '%s' is not in the table schema", m->partition_columns[i]);
			return -1;
		}
	r->have_meta = true;
	return 0;
}

static void apply_protocol(struct replay *r, const struct value *v)
{
	delta_protocol_free(&r->protocol);
	struct delta_protocol *p = &r->protocol;
	p->min_reader = (int)vint(value_getz(v, "minReaderVersion"), 1);
	p->min_writer = (int)vint(value_getz(v, "minWriterVersion"), 2);
	strlist_from(&p->reader_features, &p->nreader_features, value_getz(v, "readerFeatures"));
	strlist_from(&p->writer_features, &p->nwriter_features, value_getz(v, "writerFeatures"));
	r->have_protocol = true;
}

static void apply_txn(struct replay *r, const struct value *v)
{
	const struct value *id = value_getz(v, "appId");
	if (!id || id->type != V_STRING)
		return;
	struct delta_txn *t = NULL;
	for (size_t i = 0; i < r->ntxns; i++)
		if (strlen(r->txns[i].app_id) == id->n && !memcmp(r->txns[i].app_id, id->s, id->n))
			t = &r->txns[i];
	if (!t) {
		r->txns = xrealloc(r->txns, (r->ntxns + 1) * sizeof *r->txns);
		t = &r->txns[r->ntxns++];
		t->app_id = xstrndup(id->s, id->n);
	}
	t->version = vint(value_getz(v, "version"), -1);
	t->last_updated = vint(value_getz(v, "lastUpdated"), -1);
}

/* One action (a JSON line or a checkpoint row). */
static int apply_action(struct replay *r, const struct value *act, int64_t version, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < act->n; i++) {
		const struct value *k = &act->a[2 * i], *v = &act->a[2 * i + 1];
		if (v->type != V_OBJECT)
			continue; /* a checkpoint row's other columns are null */
#define IS(name) (k->n == sizeof name - 1 && !memcmp(k->s, name, sizeof name - 1))
		if (IS("add")) {
			if (apply_file(r, v, true, version, err, errlen))
				return -1;
		} else if (IS("remove")) {
			if (apply_file(r, v, false, version, err, errlen))
				return -1;
		} else if (IS("metaData")) {
			if (apply_metadata(r, v, err, errlen))
				return -1;
		} else if (IS("protocol")) {
			apply_protocol(r, v);
		} else if (IS("txn")) {
			apply_txn(r, v);
		}
#undef IS
		/* commitInfo, cdc, domainMetadata and unknown actions change no state we keep */
	}
	return 0;
}

static int replay_commit(struct replay *r, const char *root, int64_t version, char *err, size_t errlen)
{
	struct arena a = {0};
	struct value *acts;
	size_t n;
	int rc = delta_read_commit(root, version, &a, &acts, &n, err, errlen);
	if (rc > 0)
		snprintf(err, errlen, "versions not contiguous: commit %020lld.json is missing", (long long)version);
	for (size_t i = 0; !rc && i < n; i++) {
		rc = apply_action(r, &acts[i], version, err, errlen);
		if (rc) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " (in commit %lld)", (long long)version);
		}
	}
	arena_free(&a);
	return rc ? -1 : 0;
}

static int replay_checkpoint(struct replay *r, const char *root, const struct ckpt *c, char *err, size_t errlen)
{
	static const char *const wanted[] = {"txn", "add", "remove", "metaData", "protocol"};
	for (int part = 1; part <= c->parts; part++) {
		char name[80];
		if (c->parts == 1)
			snprintf(name, sizeof name, "%020lld.checkpoint.parquet", (long long)c->version);
		else
			snprintf(name, sizeof name, "%020lld.checkpoint.%010d.%010d.parquet", (long long)c->version, part,
				 c->parts);
		char *path = log_path(root, name);
		char perr[256];
		struct pq_file *f = pq_open(path, perr, sizeof perr);
		if (!f) {
			snprintf(err, errlen, "checkpoint '%s': %s", name, perr);
			free(path);
			return -1;
		}
		const struct type *sch = pq_schema(f);
		const char *cols[5];
		size_t ncols = 0;
		for (size_t i = 0; i < 5; i++)
			if (type_field_index(sch, wanted[i]) >= 0)
				cols[ncols++] = wanted[i];
		struct pq_cursor *cur = pq_cursor_open(f, cols, ncols, NULL, 0, perr, sizeof perr);
		int rc = cur ? 0 : -1;
		struct arena a = {0};
		struct value row;
		while (cur && (rc = pq_next(cur, &a, &row, perr, sizeof perr)) > 0) {
			if (apply_action(r, &row, c->version, err, errlen)) {
				rc = -2;
				break;
			}
			arena_reset(&a);
		}
		if (rc == -1)
			snprintf(err, errlen, "checkpoint '%s': %s", name, perr);
		if (rc == -2) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " (in checkpoint '%s')", name);
		}
		arena_free(&a);
		if (cur)
			pq_cursor_close(cur);
		pq_close(f);
		free(path);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static bool feature_listed(char **l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], name))
			return true;
	return false;
}

static const char *column_mapping_mode(const struct delta_metadata *m)
{
	const struct delta_kv *kv = delta_map_get(&m->configuration, "delta.columnMapping.mode");
	return kv && kv->val && strcmp(kv->val, "none") ? kv->val : NULL;
}

/* What a reader must understand (PROTOCOL.md "Reader Requirements"). */
static int check_read(const struct delta_protocol *p, const struct delta_metadata *m, char *err, size_t errlen)
{
	if (p->min_reader < 1 || p->min_reader > 3) {
		snprintf(err, errlen, "table requires reader version %d; supported: 1 to 3", p->min_reader);
		return -1;
	}
	const char *cm = column_mapping_mode(m);
	if (p->min_reader >= 2 && cm) {
		snprintf(err, errlen, "table requires reader feature 'columnMapping' (delta.columnMapping.mode=%s)", cm);
		return -1;
	}
	if (p->min_reader == 3) {
		for (size_t i = 0; i < p->nreader_features; i++) {
			const char *f = p->reader_features[i];
			if (!strcmp(f, "timestampNtz") || !strcmp(f, "vacuumProtocolCheck") ||
			    (!strcmp(f, "columnMapping") && !cm))
				continue;
			snprintf(err, errlen,
				 "table requires reader feature '%s' (minReaderVersion=3); supported: "
				 "timestampNtz, vacuumProtocolCheck",
				 f);
			return -1;
		}
	}
	return 0;
}

/* Names of type-level metadata keys that carry writer duties we lack. */
static const char *field_duty(const struct type *t)
{
	if (!t || t->kind != T_STRUCT)
		return NULL;
	for (size_t i = 0; i < t->nfields; i++) {
		const char *md = t->fields[i].metadata;
		if (strstr(md, "\"delta.invariants\""))
			return "invariants";
		if (strstr(md, "\"delta.generationExpression\""))
			return "generatedColumns";
		if (strstr(md, "\"delta.identity."))
			return "identityColumns";
		const struct type *ft = t->fields[i].type;
		while (ft && (ft->kind == T_ARRAY || ft->kind == T_MAP))
			ft = ft->kind == T_ARRAY ? ft->elem : ft->val;
		const char *d = field_duty(ft);
		if (d)
			return d;
	}
	return NULL;
}

int delta_check_write(const struct delta_snapshot *s, char *err, size_t errlen)
{
	const struct delta_protocol *p = &s->protocol;
	const struct delta_metadata *m = &s->meta;
	if (p->min_writer < 1 || p->min_writer > 7) {
		snprintf(err, errlen, "table requires writer version %d; supported: up to 7", p->min_writer);
		return -1;
	}
	const char *duty = field_duty(m->schema);
	if (duty) {
		snprintf(err, errlen, "table requires writer feature '%s', which weir does not implement", duty);
		return -1;
	}
	for (size_t i = 0; i < m->configuration.n; i++) {
		const struct delta_kv *kv = &m->configuration.kv[i];
		if (!strncmp(kv->key, "delta.constraints.", 18)) {
			snprintf(err, errlen, "table requires writer feature 'checkConstraints' (%s)", kv->key);
			return -1;
		}
		if (!strcmp(kv->key, "delta.enableChangeDataFeed") && kv->val && !strcmp(kv->val, "true")) {
			snprintf(err, errlen, "table requires writer feature 'changeDataFeed' (delta.enableChangeDataFeed)");
			return -1;
		}
	}
	if (column_mapping_mode(m)) {
		snprintf(err, errlen, "table requires writer feature 'columnMapping'");
		return -1;
	}
	if (p->min_writer == 7) {
		static const char *const known[] = {"appendOnly", "invariants", "checkConstraints", "changeDataFeed",
						    "generatedColumns", "columnMapping", "identityColumns",
						    "timestampNtz", "vacuumProtocolCheck"};
		for (size_t i = 0; i < p->nwriter_features; i++) {
			bool ok = false;
			for (size_t k = 0; k < sizeof known / sizeof *known; k++)
				ok |= !strcmp(p->writer_features[i], known[k]);
			if (!ok) {
				snprintf(err, errlen, "table requires writer feature '%s', which weir does not implement",
					 p->writer_features[i]);
				return -1;
			}
		}
	}
	return 0;
}

int64_t delta_txn_version(const struct delta_snapshot *s, const char *app_id)
{
	for (size_t i = 0; i < s->ntxns; i++)
		if (!strcmp(s->txns[i].app_id, app_id))
			return s->txns[i].version;
	return -1;
}

/* Every commit in [from, to] must be listed: a reader fails on a gap
 * rather than silently skipping a commit. */
static int check_contiguous(const struct listing *l, int64_t from, int64_t to, char *err, size_t errlen)
{
	for (int64_t v = from; v <= to; v++)
		if (!has_json(l, v)) {
			snprintf(err, errlen, "versions not contiguous: commit %020lld.json is missing", (long long)v);
			return -1;
		}
	return 0;
}

static int replay_to(struct replay *r, const char *root, const struct listing *l, int64_t version,
		     int64_t *from_ckpt, char *err, size_t errlen)
{
	/* newest complete checkpoint <= version whose later commits are all there */
	char cerr[512] = "";
	for (size_t i = l->nckpts; i-- > 0;) {
		const struct ckpt *c = &l->ckpts[i];
		if (c->version > version || c->have != c->parts)
			continue;
		struct replay tmp = {0};
		if (replay_checkpoint(&tmp, root, c, cerr, sizeof cerr)) {
			replay_free(&tmp);
			continue;
		}
		*r = tmp;
		*from_ckpt = c->version;
		if (check_contiguous(l, c->version + 1, version, err, errlen))
			return -1;
		for (int64_t v = c->version + 1; v <= version; v++)
			if (replay_commit(r, root, v, err, errlen))
				return -1;
		return 0;
	}
	*from_ckpt = -1;
	if (!has_json(l, 0)) {
		if (*cerr)
			snprintf(err, errlen, "%s, and the log before it is gone", cerr);
		else
			snprintf(err, errlen, "versions not contiguous: no checkpoint and commit 0 is missing");
		return -1;
	}
	if (check_contiguous(l, 0, version, err, errlen))
		return -1;
	for (int64_t v = 0; v <= version; v++)
		if (replay_commit(r, root, v, err, errlen))
			return -1;
	return 0;
}

static int cmp_file_path(const void *a, const void *b)
{
	return strcmp(((const struct delta_file *)a)->path, ((const struct delta_file *)b)->path);
}

struct delta_snapshot *delta_open(const char *root, int64_t version, char *err, size_t errlen)
{
	struct listing l;
	int rc = list_log(root, &l, err, errlen);
	if (rc) {
		if (rc > 0)
			snprintf(err, errlen, "'%s' is not a Delta table (no " DELTA_LOG ")", root);
		return NULL;
	}
	int64_t latest = l.njson ? l.json[l.njson - 1] : -1;
	for (size_t i = 0; i < l.nckpts; i++)
		if (l.ckpts[i].have == l.ckpts[i].parts && l.ckpts[i].version > latest)
			latest = l.ckpts[i].version;
	if (latest < 0) {
		snprintf(err, errlen, "'%s' is not a Delta table (no commits in " DELTA_LOG ")", root);
		listing_free(&l);
		return NULL;
	}
	if (version == DELTA_LATEST)
		version = latest;
	if (version < 0 || version > latest) {
		snprintf(err, errlen, "no version %lld in '%s' (latest is %lld)", (long long)version, root,
			 (long long)latest);
		listing_free(&l);
		return NULL;
	}
	struct replay r = {0};
	int64_t ck;
	rc = replay_to(&r, root, &l, version, &ck, err, errlen);
	listing_free(&l);
	if (!rc && !r.have_protocol) {
		snprintf(err, errlen, "table has no protocol action at version %lld", (long long)version);
		rc = -1;
	}
	if (!rc && !r.have_meta) {
		snprintf(err, errlen, "table has no metaData action at version %lld", (long long)version);
		rc = -1;
	}
	if (!rc)
		rc = check_read(&r.protocol, &r.meta, err, errlen);
	if (rc) {
		replay_free(&r);
		return NULL;
	}
	struct delta_snapshot *s = xcalloc(1, sizeof *s);
	s->root = xstrdup(root);
	s->version = version;
	s->checkpoint = ck;
	s->protocol = r.protocol;
	s->meta = r.meta;
	s->txns = r.txns;
	s->ntxns = r.ntxns;
	memset(&r.protocol, 0, sizeof r.protocol);
	memset(&r.meta, 0, sizeof r.meta);
	r.txns = NULL;
	r.ntxns = 0;
	size_t live = 0;
	for (size_t i = 0; i < r.n; i++)
		live += r.e[i].live;
	s->files = xcalloc(live ? live : 1, sizeof *s->files);
	s->tombstones = xcalloc(r.n - live ? r.n - live : 1, sizeof *s->tombstones);
	for (size_t i = 0; i < r.n; i++) {
		if (r.e[i].live)
			s->files[s->nfiles++] = r.e[i].f;
		else
			s->tombstones[s->ntombstones++] = r.e[i].f;
		memset(&r.e[i].f, 0, sizeof r.e[i].f);
	}
	replay_free(&r);
	if (s->nfiles)
		qsort(s->files, s->nfiles, sizeof *s->files, cmp_file_path);
	if (s->ntombstones)
		qsort(s->tombstones, s->ntombstones, sizeof *s->tombstones, cmp_file_path);
	struct arena a = {0};
	struct value *acts = NULL;
	size_t n = 0;
	char terr[256];
	delta_read_commit(root, version, &a, &acts, &n, terr, sizeof terr);
	s->timestamp = delta_commit_time(root, version, acts, n);
	arena_free(&a);
	return s;
}

void delta_snapshot_free(struct delta_snapshot *s)
{
	if (!s)
		return;
	free(s->root);
	delta_protocol_free(&s->protocol);
	delta_metadata_free(&s->meta);
	for (size_t i = 0; i < s->nfiles; i++)
		delta_file_free(&s->files[i]);
	for (size_t i = 0; i < s->ntombstones; i++)
		delta_file_free(&s->tombstones[i]);
	free(s->files);
	free(s->tombstones);
	for (size_t i = 0; i < s->ntxns; i++)
		free(s->txns[i].app_id);
	free(s->txns);
	free(s);
}

int64_t delta_version_at(const char *root, int64_t ms, char *err, size_t errlen)
{
	struct listing l;
	int rc = list_log(root, &l, err, errlen);
	if (rc) {
		if (rc > 0)
			snprintf(err, errlen, "'%s' is not a Delta table (no " DELTA_LOG ")", root);
		return -2;
	}
	int64_t found = -2, earliest = -1;
	for (size_t i = l.njson; i-- > 0;) {
		struct arena a = {0};
		struct value *acts;
		size_t n;
		char terr[256];
		if (delta_read_commit(root, l.json[i], &a, &acts, &n, terr, sizeof terr) == 0) {
			int64_t t = delta_commit_time(root, l.json[i], acts, n);
			earliest = t;
			if (t >= 0 && t <= ms)
				found = l.json[i];
		}
		arena_free(&a);
		if (found >= 0)
			break;
	}
	listing_free(&l);
	if (found < 0) {
		char when[48] = "none";
		if (earliest >= 0)
			snprintf(when, sizeof when, "%lld ms", (long long)earliest);
		snprintf(err, errlen, "no version of '%s' committed at or before that time (earliest commit: %s)", root,
			 when);
	}
	return found;
}

bool delta_protocol_for(const struct delta_protocol *old, const struct type *schema, struct delta_protocol *out)
{
	bool ntz = false;
	if (schema) {
		/* nested timestamp_ntz counts as well */
		struct buf b = BUF_INIT;
		schema_write_delta(&b, schema);
		ntz = strstr(buf_cstr(&b), "\"timestamp_ntz\"") != NULL;
		buf_free(&b);
	}
	memset(out, 0, sizeof *out);
	if (old) {
		bool has = old->min_reader == 3 && feature_listed(old->reader_features, old->nreader_features, "timestampNtz");
		if (!ntz || has)
			return false;
		delta_protocol_copy(out, old);
	}
	if (!ntz) {
		out->min_reader = 1;
		out->min_writer = 2;
		return true;
	}
	/* (3,7): the features a (1,2) table had implicitly become explicit */
	if (out->min_reader < 3) {
		strlist_free(out->reader_features, out->nreader_features);
		out->reader_features = NULL;
		out->nreader_features = 0;
	}
	if (out->min_writer < 7) {
		strlist_free(out->writer_features, out->nwriter_features);
		out->writer_features = xcalloc(3, sizeof *out->writer_features);
		out->nwriter_features = 0;
		if (old && old->min_writer >= 2) {
			out->writer_features[out->nwriter_features++] = xstrdup("appendOnly");
			out->writer_features[out->nwriter_features++] = xstrdup("invariants");
		}
	}
	out->min_reader = 3;
	out->min_writer = 7;
	if (!feature_listed(out->reader_features, out->nreader_features, "timestampNtz")) {
		out->reader_features = xrealloc(out->reader_features, (out->nreader_features + 1) * sizeof(char *));
		out->reader_features[out->nreader_features++] = xstrdup("timestampNtz");
	}
	if (!feature_listed(out->writer_features, out->nwriter_features, "timestampNtz")) {
		out->writer_features = xrealloc(out->writer_features, (out->nwriter_features + 1) * sizeof(char *));
		out->writer_features[out->nwriter_features++] = xstrdup("timestampNtz");
	}
	return true;
}
