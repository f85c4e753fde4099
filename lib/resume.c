/* resume.c - the last barrier an application id committed to a Delta
 * table, and the newest one committed since (resume.h). */
#include <stdio.h>
#include <string.h>

#include "delta.h"
#include "resume.h"

/* The txn action of the app id among a commit's actions, and its
 * commitInfo; NULL when the commit has none. */
static const struct value *our_txn(const char *app_id, const struct value *acts, size_t n, const struct value **info)
{
	const struct value *txn = NULL;
	size_t len = strlen(app_id);
	*info = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct value *t = value_getz(&acts[i], "txn"), *app = t ? value_getz(t, "appId") : NULL;
		if (app && app->type == V_STRING && app->n == len && !memcmp(app->s, app_id, len))
			txn = t;
		if (value_getz(&acts[i], "commitInfo"))
			*info = value_getz(&acts[i], "commitInfo");
	}
	return txn;
}

/* The commit of the app id's last barrier, newest first: its id, version
 * and sources into r.  1 found, 0 not in the log (or the log no longer goes
 * back that far), -1 error. */
static int find_barrier_commit(struct resume *r, int64_t latest, char *err, size_t errlen)
{
	struct arena a = {0};
	int found = 0;
	for (int64_t v = latest; v >= 0 && !found; v--) {
		struct value *acts;
		size_t n;
		arena_reset(&a);
		int rc = delta_read_commit(r->table, v, &a, &acts, &n, err, errlen);
		if (rc < 0) {
			found = -1;
			break;
		}
		if (rc > 0)
			break; /* older commits were cleaned up */
		const struct value *info;
		const struct value *txn = our_txn(r->app_id, acts, n, &info);
		if (!txn)
			continue;
		const struct value *ver = value_getz(txn, "version");
		const struct value *src = info ? value_path(info, "weir.sources") : NULL;
		if (!ver || ver->type != V_INT || ver->i < 0) {
			snprintf(err, errlen, "version %lld has a txn for app id '%s' without a valid version", (long long)v,
				 r->app_id);
			found = -1;
		} else if (!src || src->type != V_OBJECT) {
			snprintf(err, errlen,
				 "version %lld commits barrier %lld for app id '%s' but records no sources (not written by "
				 "weir-lake-write from a barrier)",
				 (long long)v, (long long)ver->i, r->app_id);
			found = -1;
		} else {
			r->barrier = ver->i;
			r->version = v;
			value_copy(&r->arena, &r->sources, src);
			found = 1;
		}
	}
	arena_free(&a);
	return found;
}

int resume_load(struct resume *r, const char *table, const char *app_id, char *err, size_t errlen)
{
	*r = (struct resume){.table = table, .app_id = app_id, .version = -1, .seen = -1};
	r->sources = (struct value){.type = V_OBJECT};
	int64_t latest = delta_latest_version(table, err, errlen);
	if (latest == -2)
		return -1;
	r->seen = latest;
	int found = latest < 0 ? 0 : find_barrier_commit(r, latest, err, errlen);
	if (found < 0)
		return -1;
	r->committed = r->barrier;
	if (found || latest < 0)
		return 0;
	/* not in the commits still listed: a checkpoint may hold the txn,
	 * but not the sources, which only the commit's commitInfo has */
	struct delta_snapshot *s = delta_open(table, DELTA_LATEST, err, errlen);
	if (!s)
		return -1;
	int64_t committed = delta_txn_version(s, app_id);
	delta_snapshot_free(s);
	if (committed >= 0) {
		snprintf(err, errlen, "the commit of barrier %lld for app id '%s' is no longer in its log", (long long)committed,
			 app_id);
		return -1;
	}
	return 0;
}

void resume_refresh(struct resume *r)
{
	struct arena a = {0};
	char err[512];
	struct value *acts;
	size_t n;
	while (!delta_read_commit(r->table, r->seen + 1, &a, &acts, &n, err, sizeof err)) {
		const struct value *info, *txn = our_txn(r->app_id, acts, n, &info);
		const struct value *ver = txn ? value_getz(txn, "version") : NULL;
		if (ver && ver->type == V_INT && ver->i > r->committed)
			r->committed = ver->i;
		r->seen++;
		arena_reset(&a);
	}
	arena_free(&a);
}

int resume_position(const struct resume *r, const char *source, int32_t part, int64_t *pos)
{
	const struct value *s = value_getz(&r->sources, source);
	char key[16];
	snprintf(key, sizeof key, "%d", (int)part);
	const struct value *v = s && s->type == V_OBJECT ? value_getz(s, key) : NULL;
	if (!v)
		return 0;
	if (v->type != V_INT || v->i < 0)
		return -1;
	*pos = v->i;
	return 1;
}

void resume_free(struct resume *r)
{
	arena_free(&r->arena);
}
