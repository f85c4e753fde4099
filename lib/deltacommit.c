/* deltacommit.c - commits and checkpoints (see delta.h).
 *
 * A commit becomes visible atomically through put-if-absent: the actions go
 * to _delta_log/.tmp/UUID.json, which is fsynced and then link()ed to the
 * version's name.  link() fails with EEXIST when another writer took the
 * version first; never rename() (it would overwrite) and never write the
 * version file in place (a crash would leave a torn commit).  A checkpoint
 * may be replaced, so it is written under a temporary name and renamed. */
#include "delta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "json.h"
#include "opt.h"
#include "parquet.h"
#include "timeutil.h"

void delta_uuid(char out[37])
{
	unsigned char r[16];
	size_t got = 0;
	while (got < sizeof r) {
		ssize_t n = getrandom(r + got, sizeof r - got, 0);
		if (n > 0)
			got += (size_t)n;
		else if (errno != EINTR) {
			/* no entropy source: time and pid still make names unique enough */
			uint64_t t = (uint64_t)now_micros() ^ ((uint64_t)getpid() << 40);
			for (size_t i = got; i < sizeof r; i++)
				r[i] = (unsigned char)(hash_bytes(&t, sizeof t, i) >> 8);
			break;
		}
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

int64_t delta_checkpoint_interval(const struct delta_metadata *m)
{
	const struct delta_kv *kv = delta_map_get(&m->configuration, "delta.checkpointInterval");
	if (kv && kv->val) {
		char *end;
		long long v = strtoll(kv->val, &end, 10);
		if (!*end && v > 0)
			return v;
	}
	return 10;
}

/* ---- action JSON ---- */

static void put_str(struct buf *b, const char *s)
{
	if (s)
		json_write_string(b, s, strlen(s));
	else
		buf_puts(b, "null");
}

static void put_map(struct buf *b, const struct delta_map *m)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < m->n; i++) {
		if (i)
			buf_putc(b, ',');
		put_str(b, m->kv[i].key);
		buf_putc(b, ':');
		put_str(b, m->kv[i].val);
	}
	buf_putc(b, '}');
}

static void put_list(struct buf *b, char **l, size_t n)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		put_str(b, l[i]);
	}
	buf_putc(b, ']');
}

static void put_protocol(struct buf *b, const struct delta_protocol *p)
{
	buf_printf(b, "{\"protocol\":{\"minReaderVersion\":%d,\"minWriterVersion\":%d", p->min_reader, p->min_writer);
	/* the feature lists appear exactly with versions 3 and 7 */
	if (p->min_reader == 3) {
		buf_puts(b, ",\"readerFeatures\":");
		put_list(b, p->reader_features, p->nreader_features);
	}
	if (p->min_writer == 7) {
		buf_puts(b, ",\"writerFeatures\":");
		put_list(b, p->writer_features, p->nwriter_features);
	}
	buf_puts(b, "}}\n");
}

static void put_metadata(struct buf *b, const struct delta_metadata *m)
{
	buf_puts(b, "{\"metaData\":{\"id\":");
	put_str(b, m->id);
	if (m->name) {
		buf_puts(b, ",\"name\":");
		put_str(b, m->name);
	}
	if (m->description) {
		buf_puts(b, ",\"description\":");
		put_str(b, m->description);
	}
	buf_puts(b, ",\"format\":{\"provider\":");
	put_str(b, m->provider ? m->provider : "parquet");
	buf_puts(b, ",\"options\":");
	put_map(b, &m->format_options);
	buf_puts(b, "},\"schemaString\":");
	struct buf s = BUF_INIT;
	schema_write_delta(&s, m->schema);
	json_write_string(b, s.p, s.len);
	buf_free(&s);
	buf_puts(b, ",\"partitionColumns\":");
	put_list(b, m->partition_columns, m->npartition_columns);
	buf_puts(b, ",\"configuration\":");
	put_map(b, &m->configuration);
	if (m->created_time >= 0)
		buf_printf(b, ",\"createdTime\":%lld", (long long)m->created_time);
	buf_puts(b, "}}\n");
}

static void put_add(struct buf *b, const struct delta_file *f)
{
	buf_puts(b, "{\"add\":{\"path\":");
	put_str(b, f->path);
	buf_puts(b, ",\"partitionValues\":");
	put_map(b, &f->partition_values);
	buf_printf(b, ",\"size\":%lld,\"modificationTime\":%lld,\"dataChange\":%s", (long long)f->size,
		   (long long)f->time, f->data_change ? "true" : "false");
	if (f->stats) {
		buf_puts(b, ",\"stats\":");
		put_str(b, f->stats);
	}
	if (f->tags.n) {
		buf_puts(b, ",\"tags\":");
		put_map(b, &f->tags);
	}
	buf_puts(b, "}}\n");
}

static void put_remove(struct buf *b, const struct delta_file *f, int64_t now_ms)
{
	buf_puts(b, "{\"remove\":{\"path\":");
	put_str(b, f->path);
	buf_printf(b, ",\"deletionTimestamp\":%lld,\"dataChange\":%s,\"extendedFileMetadata\":true,\"partitionValues\":",
		   (long long)now_ms, f->data_change ? "true" : "false");
	put_map(b, &f->partition_values);
	if (f->size >= 0)
		buf_printf(b, ",\"size\":%lld", (long long)f->size);
	if (f->tags.n) {
		buf_puts(b, ",\"tags\":");
		put_map(b, &f->tags);
	}
	buf_puts(b, "}}\n");
}

static bool blind_append(const struct delta_commit *c)
{
	return !c->nremoves && !c->meta && !c->protocol && !c->read_whole_table && !c->read_partition && !c->read_file;
}

static void commit_text(struct buf *b, const struct delta_commit *c, int64_t read_version, const char *txn_id)
{
	int64_t now = now_micros() / 1000;
	buf_printf(b, "{\"commitInfo\":{\"timestamp\":%lld,\"operation\":", (long long)now);
	put_str(b, c->operation ? c->operation : "WRITE");
	buf_printf(b, ",\"operationParameters\":%s", c->operation_parameters ? c->operation_parameters : "{}");
	if (read_version >= 0)
		buf_printf(b, ",\"readVersion\":%lld", (long long)read_version);
	buf_printf(b, ",\"isolationLevel\":\"WriteSerializable\",\"isBlindAppend\":%s",
		   blind_append(c) ? "true" : "false");
	buf_printf(b, ",\"operationMetrics\":%s", c->operation_metrics ? c->operation_metrics : "{}");
	buf_printf(b, ",\"engineInfo\":\"weir/%s\",\"txnId\":\"%s\"", WEIR_VERSION, txn_id);
	if (c->commit_info_extra && *c->commit_info_extra)
		buf_printf(b, ",%s", c->commit_info_extra);
	buf_puts(b, "}}\n");
	if (c->protocol)
		put_protocol(b, c->protocol);
	if (c->meta)
		put_metadata(b, c->meta);
	if (c->txn) {
		buf_puts(b, "{\"txn\":{\"appId\":");
		put_str(b, c->txn->app_id);
		buf_printf(b, ",\"version\":%lld,\"lastUpdated\":%lld}}\n", (long long)c->txn->version, (long long)now);
	}
	for (size_t i = 0; i < c->nremoves; i++)
		put_remove(b, &c->removes[i], now);
	for (size_t i = 0; i < c->nadds; i++)
		put_add(b, &c->adds[i]);
}

/* ---- files ---- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write text to a new temporary file in the log's .tmp/ and fsync it. */
static char *write_tmp(const char *root, const char *suffix, const char *p, size_t n, char *err, size_t errlen)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/" DELTA_LOG "/.tmp", root);
	if (mkdir(path.p, 0777) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create '%s': %s", path.p, strerror(errno));
		buf_free(&path);
		return NULL;
	}
	char id[37];
	delta_uuid(id);
	buf_printf(&path, "/%s%s", id, suffix);
	char *name = buf_cstr(&path);
	int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 || write_all(fd, p, n) || fsync(fd)) {
		snprintf(err, errlen, "cannot write '%s': %s", name, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(name);
		}
		free(name);
		return NULL;
	}
	if (close(fd)) {
		snprintf(err, errlen, "cannot write '%s': %s", name, strerror(errno));
		unlink(name);
		free(name);
		return NULL;
	}
	return name;
}

static char *log_file(const char *root, int64_t version, const char *suffix)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/" DELTA_LOG "/%020lld%s", root, (long long)version, suffix);
	return buf_cstr(&b);
}

/* ---- conflicts ---- */

static bool removes_path(const struct delta_commit *c, const char *path)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	bool hit = false;
	if (!delta_uri_unescape(path, &a))
		buf_puts(&a, path);
	for (size_t i = 0; i < c->nremoves && !hit; i++) {
		if (!delta_uri_unescape(c->removes[i].path, &b))
			buf_puts(&b, c->removes[i].path);
		hit = !strcmp(buf_cstr(&a), buf_cstr(&b));
	}
	buf_free(&a);
	buf_free(&b);
	return hit;
}

/* Does winning commit `version` conflict with c?  0 no, 1 yes (err says
 * why), -1 error. */
static int check_conflict(const char *root, const struct delta_commit *c, int64_t version, char *err,
			  size_t errlen)
{
	struct arena a = {0};
	struct value *acts;
	size_t n;
	int rc = delta_read_commit(root, version, &a, &acts, &n, err, errlen);
	if (rc) {
		arena_free(&a);
		return -1;
	}
	bool winner_blind = false;
	for (size_t i = 0; i < n; i++) {
		const struct value *ci = value_getz(&acts[i], "commitInfo"), *b;
		if (ci && (b = value_getz(ci, "isBlindAppend")) && b->type == V_BOOL)
			winner_blind = b->b;
	}
	bool we_change_meta = c->meta || c->protocol;
	rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct value *act = &acts[i], *v;
		if (c->read_version < 0) {
			snprintf(err, errlen, "the table was created concurrently (version %lld exists)", (long long)version);
			rc = 1;
		} else if (value_getz(act, "protocol")) {
			snprintf(err, errlen, "concurrent protocol change in version %lld", (long long)version);
			rc = 1;
		} else if (value_getz(act, "metaData")) {
			snprintf(err, errlen, "concurrent metadata change in version %lld", (long long)version);
			rc = 1;
		} else if ((v = value_getz(act, "txn"))) {
			const struct value *id = value_getz(v, "appId");
			if (c->txn && id && id->type == V_STRING && strlen(c->txn->app_id) == id->n &&
			    !memcmp(id->s, c->txn->app_id, id->n)) {
				snprintf(err, errlen, "concurrent transaction for app id '%s' in version %lld", c->txn->app_id,
					 (long long)version);
				rc = 1;
			}
		} else if ((v = value_getz(act, "add")) || (v = value_getz(act, "remove"))) {
			bool is_add = value_getz(act, "add") != NULL;
			struct delta_file f;
			char ferr[256];
			if (delta_file_from_json(v, is_add, &f, ferr, sizeof ferr)) {
				snprintf(err, errlen, "concurrent commit %lld: %s", (long long)version, ferr);
				rc = 1;
				continue;
			}
			bool in_read = c->read_whole_table ||
				       (c->read_file ? c->read_file(c->read_ctx, &f, !is_add)
						     : c->read_partition && c->read_partition(c->read_ctx, &f.partition_values));
			if (is_add && f.data_change && in_read && !(winner_blind && !we_change_meta)) {
				snprintf(err, errlen, "concurrent append in version %lld touches data this write read",
					 (long long)version);
				rc = 1;
			} else if (!is_add && removes_path(c, f.path)) {
				snprintf(err, errlen, "concurrent delete of a file this write removes (version %lld)",
					 (long long)version);
				rc = 1;
			} else if (!is_add && f.data_change && in_read) {
				snprintf(err, errlen, "concurrent delete in version %lld of data this write read",
					 (long long)version);
				rc = 1;
			}
			delta_file_free(&f);
		}
	}
	arena_free(&a);
	return rc;
}

int delta_commit(const char *root, const struct delta_commit *c, int64_t *version, char *err, size_t errlen)
{
	struct buf dir = BUF_INIT;
	buf_printf(&dir, "%s/" DELTA_LOG, root);
	if (c->read_version < 0 && mkdir(buf_cstr(&dir), 0777) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create '%s': %s", dir.p, strerror(errno));
		buf_free(&dir);
		return DELTA_ERROR;
	}
	int max = c->max_attempts > 0 ? c->max_attempts : blind_append(c) ? 1000000 : 1000;
	char txn_id[37];
	delta_uuid(txn_id);
	int64_t v = c->read_version + 1;
	int rc = DELTA_ERROR;
	struct buf text = BUF_INIT;
	for (int attempt = 0; attempt < max; attempt++) {
		buf_reset(&text);
		commit_text(&text, c, v - 1, txn_id);
		char *tmp = write_tmp(root, ".json", text.p, text.len, err, errlen);
		if (!tmp)
			break;
		char *final = log_file(root, v, ".json");
		int lr = link(tmp, final), le = errno;
		unlink(tmp);
		free(tmp);
		if (!lr) {
			if (fsync_dir(dir.p)) {
				snprintf(err, errlen, "cannot sync '%s': %s", dir.p, strerror(errno));
				free(final);
				/* the commit is in; only its durability is in doubt */
				*version = v;
				rc = DELTA_ERROR;
				break;
			}
			free(final);
			*version = v;
			rc = DELTA_OK;
			break;
		}
		if (le != EEXIST) {
			snprintf(err, errlen, "cannot create '%s': %s", final, strerror(le));
			free(final);
			break;
		}
		free(final);
		int cr = check_conflict(root, c, v, err, errlen);
		if (cr) {
			rc = cr > 0 ? DELTA_CONFLICT : DELTA_ERROR;
			break;
		}
		v++;
		if (attempt + 1 == max)
			snprintf(err, errlen, "gave up after %d attempts lost to concurrent commits", max);
	}
	buf_free(&text);
	buf_free(&dir);
	return rc;
}

/* ---- checkpoints ---- */

/* Spark's checkpoint schema (Delta 3.0), field for field: readers match
 * columns by name and physical type, so int vs long matters. */
static const char checkpoint_ddl[] =
	"txn STRUCT<appId STRING, version BIGINT, lastUpdated BIGINT>, "
	"add STRUCT<path STRING, partitionValues MAP<STRING,STRING>, size BIGINT, modificationTime BIGINT, "
	"dataChange BOOLEAN, tags MAP<STRING,STRING>, deletionVector STRUCT<storageType STRING, "
	"pathOrInlineDv STRING, offset INT, sizeInBytes INT, cardinality BIGINT, maxRowIndex BIGINT>, "
	"baseRowId BIGINT, defaultRowCommitVersion BIGINT, stats STRING>, "
	"remove STRUCT<path STRING, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, "
	"partitionValues MAP<STRING,STRING>, size BIGINT, deletionVector STRUCT<storageType STRING, "
	"pathOrInlineDv STRING, offset INT, sizeInBytes INT, cardinality BIGINT, maxRowIndex BIGINT>, "
	"baseRowId BIGINT, defaultRowCommitVersion BIGINT>, "
	"metaData STRUCT<id STRING, name STRING, description STRING, format STRUCT<provider STRING, "
	"options MAP<STRING,STRING>>, schemaString STRING, partitionColumns ARRAY<STRING>, "
	"configuration MAP<STRING,STRING>, createdTime BIGINT>, "
	"protocol STRUCT<minReaderVersion INT, minWriterVersion INT, readerFeatures ARRAY<STRING>, "
	"writerFeatures ARRAY<STRING>>, "
	"domainMetadata STRUCT<domain STRING, configuration STRING, removed BOOLEAN>";

/* Building rows: objects with a fixed number of members in an arena. */
static struct value obj(struct arena *a, size_t n)
{
	struct value v = {.type = V_OBJECT, .n = 0};
	v.a = arena_alloc(a, (n ? n : 1) * 2 * sizeof *v.a);
	return v;
}

static void member(struct value *o, const char *key, struct value v)
{
	o->a[2 * o->n] = value_str(key, strlen(key));
	o->a[2 * o->n + 1] = v;
	o->n++;
}

static struct value sval(const char *s)
{
	return s ? value_str(s, strlen(s)) : value_null();
}

static struct value mapval(struct arena *a, const struct delta_map *m)
{
	struct value v = {.type = V_MAP, .n = (uint32_t)m->n};
	v.a = arena_alloc(a, (m->n ? m->n : 1) * 2 * sizeof *v.a);
	for (size_t i = 0; i < m->n; i++) {
		v.a[2 * i] = sval(m->kv[i].key);
		v.a[2 * i + 1] = sval(m->kv[i].val);
	}
	return v;
}

static struct value listval(struct arena *a, char **l, size_t n)
{
	struct value v = {.type = V_ARRAY, .n = (uint32_t)n};
	v.a = arena_alloc(a, (n ? n : 1) * sizeof *v.a);
	for (size_t i = 0; i < n; i++)
		v.a[i] = sval(l[i]);
	return v;
}

static struct value row_of(struct arena *a, const char *action, struct value body)
{
	struct value r = obj(a, 1);
	member(&r, action, body);
	return r;
}

static int64_t retention_ms(const struct delta_metadata *m)
{
	const struct delta_kv *kv = delta_map_get(&m->configuration, "delta.deletedFileRetentionDuration");
	int64_t ms = 7 * 24 * 3600 * 1000LL;
	if (kv && kv->val) {
		/* "interval 1 week", "interval 168 hours" */
		long long n;
		char unit[32];
		if (sscanf(kv->val, "interval %lld %31s", &n, unit) == 2 && n >= 0) {
			int64_t u = !strncmp(unit, "week", 4) ? 7 * 86400000LL : !strncmp(unit, "day", 3) ? 86400000LL
				  : !strncmp(unit, "hour", 4) ? 3600000LL : !strncmp(unit, "minute", 6) ? 60000LL
				  : !strncmp(unit, "second", 6) ? 1000LL : -1;
			if (u > 0)
				ms = n * u;
		}
	}
	return ms;
}

static int write_checkpoint_rows(struct pq_writer *w, const struct delta_snapshot *s, int64_t *rows, char *err,
				 size_t errlen)
{
	struct arena a = {0};
	struct value r, b;
	int rc = 0;
	const struct delta_protocol *p = &s->protocol;
	const struct delta_metadata *m = &s->meta;
#define EMIT(action, body)                                                    \
	do {                                                                  \
		r = row_of(&a, action, body);                                 \
		if (pq_write_row(w, &r, err, errlen)) {                       \
			rc = -1;                                              \
			goto out;                                             \
		}                                                             \
		(*rows)++;                                                    \
		arena_reset(&a);                                              \
	} while (0)

	b = obj(&a, 4);
	member(&b, "minReaderVersion", value_int(p->min_reader));
	member(&b, "minWriterVersion", value_int(p->min_writer));
	if (p->min_reader == 3)
		member(&b, "readerFeatures", listval(&a, p->reader_features, p->nreader_features));
	if (p->min_writer == 7)
		member(&b, "writerFeatures", listval(&a, p->writer_features, p->nwriter_features));
	EMIT("protocol", b);

	struct value fmt = obj(&a, 2);
	member(&fmt, "provider", sval(m->provider ? m->provider : "parquet"));
	member(&fmt, "options", mapval(&a, &m->format_options));
	b = obj(&a, 8);
	member(&b, "id", sval(m->id));
	member(&b, "name", sval(m->name));
	member(&b, "description", sval(m->description));
	member(&b, "format", fmt);
	member(&b, "schemaString", sval(m->schema_string));
	member(&b, "partitionColumns", listval(&a, m->partition_columns, m->npartition_columns));
	member(&b, "configuration", mapval(&a, &m->configuration));
	member(&b, "createdTime", m->created_time >= 0 ? value_int(m->created_time) : value_null());
	EMIT("metaData", b);

	for (size_t i = 0; i < s->ntxns; i++) {
		b = obj(&a, 3);
		member(&b, "appId", sval(s->txns[i].app_id));
		member(&b, "version", value_int(s->txns[i].version));
		member(&b, "lastUpdated", s->txns[i].last_updated >= 0 ? value_int(s->txns[i].last_updated) : value_null());
		EMIT("txn", b);
	}
	for (size_t i = 0; i < s->nfiles; i++) {
		const struct delta_file *f = &s->files[i];
		b = obj(&a, 7);
		member(&b, "path", sval(f->path));
		member(&b, "partitionValues", mapval(&a, &f->partition_values));
		member(&b, "size", value_int(f->size));
		member(&b, "modificationTime", value_int(f->time));
		member(&b, "dataChange", value_bool(false));
		if (f->tags.n)
			member(&b, "tags", mapval(&a, &f->tags));
		member(&b, "stats", sval(f->stats));
		EMIT("add", b);
	}
	int64_t cutoff = now_micros() / 1000 - retention_ms(m);
	for (size_t i = 0; i < s->ntombstones; i++) {
		const struct delta_file *f = &s->tombstones[i];
		if (f->time < cutoff)
			continue; /* expired: VACUUM may delete it, no reader needs it */
		b = obj(&a, 6);
		member(&b, "path", sval(f->path));
		member(&b, "deletionTimestamp", value_int(f->time));
		member(&b, "dataChange", value_bool(false));
		member(&b, "extendedFileMetadata", value_bool(f->extended_file_metadata));
		member(&b, "partitionValues", mapval(&a, &f->partition_values));
		member(&b, "size", f->size >= 0 ? value_int(f->size) : value_null());
		EMIT("remove", b);
	}
#undef EMIT
out:
	arena_free(&a);
	return rc;
}

int delta_checkpoint(const char *root, int64_t version, char *err, size_t errlen)
{
	struct delta_snapshot *s = delta_open(root, version, err, errlen);
	if (!s)
		return -1;
	char perr[256];
	struct type *schema = schema_parse_ddl(checkpoint_ddl, perr, sizeof perr);
	if (!schema) {
		snprintf(err, errlen, "checkpoint schema: %s", perr);
		delta_snapshot_free(s);
		return -1;
	}
	struct buf tmp = BUF_INIT;
	char id[37];
	delta_uuid(id);
	buf_printf(&tmp, "%s/" DELTA_LOG "/.tmp", root);
	mkdir(tmp.p, 0777);
	buf_printf(&tmp, "/%s.checkpoint.parquet", id);
	struct pq_write_opts o;
	pq_write_opts_default(&o);
	o.codec = PQ_SNAPPY; /* what Spark writes and every reader has */
	int rc = -1;
	int64_t rows = 0;
	struct pq_writer *w = pq_writer_open(buf_cstr(&tmp), schema, &o, err, errlen);
	struct pq_file_stats st = {0};
	if (w && write_checkpoint_rows(w, s, &rows, err, errlen)) {
		pq_writer_abort(w);
		w = NULL;
	}
	if (w && !pq_writer_close(w, &st, err, errlen)) {
		char *final = log_file(root, version, ".checkpoint.parquet");
		if (rename(tmp.p, final)) {
			snprintf(err, errlen, "cannot rename checkpoint to '%s': %s", final, strerror(errno));
			unlink(tmp.p);
		} else {
			rc = 0;
		}
		free(final);
	} else if (w) {
		unlink(tmp.p);
	}
	if (!rc) {
		/* _last_checkpoint: a hint for other readers, tmp + rename */
		struct buf lc = BUF_INIT;
		buf_printf(&lc, "{\"version\":%lld,\"size\":%lld,\"sizeInBytes\":%lld,\"numOfAddFiles\":%zu}\n",
			   (long long)version, (long long)rows, (long long)st.file_bytes, s->nfiles);
		char *t = write_tmp(root, ".last_checkpoint", lc.p, lc.len, err, errlen);
		struct buf fin = BUF_INIT;
		buf_printf(&fin, "%s/" DELTA_LOG "/_last_checkpoint", root);
		if (!t || rename(t, fin.p)) {
			if (t) {
				snprintf(err, errlen, "cannot write '%s': %s", fin.p, strerror(errno));
				unlink(t);
			}
			rc = -1;
		}
		free(t);
		buf_free(&fin);
		buf_free(&lc);
		struct buf dir = BUF_INIT;
		buf_printf(&dir, "%s/" DELTA_LOG, root);
		fsync_dir(dir.p);
		buf_free(&dir);
	}
	pq_file_stats_free(&st);
	type_free(schema);
	buf_free(&tmp);
	delta_snapshot_free(s);
	return rc;
}
