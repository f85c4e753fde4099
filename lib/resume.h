/* resume.h - where a pipeline that commits to a Delta table goes on after a
 * restart (ARCHITECTURE §4, weir(7) EXACTLY-ONCE).
 *
 * weir-lake-write commits barrier N of an application id as txn{ID, N}
 * with the barrier's sources in commitInfo.weir.sources.  A source that
 * resumes (weir-ingest's topics, weir-lake-cat's tables) reads back the
 * last such commit, restores N and seeks to the positions it recorded;
 * while it runs it looks at the commits made since for the newest barrier
 * committed, which its barriers carry as "committed" so that stateful
 * stages can drop the snapshots no restart will ask for.  What the sources
 * name, and what a position means, is the caller's business.
 * Nothing here exits; errors come back as text in err (room errlen). */
#ifndef WEIR_RESUME_H
#define WEIR_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct resume {
	const char *table, *app_id; /* the caller's, kept */
	int64_t barrier;            /* the last barrier of app_id committed, 0 none */
	int64_t version;            /* the version of the table that committed it, -1 none */
	struct value sources;       /* its commitInfo.weir.sources (an object), {} when none */
	int64_t committed;          /* the newest barrier of app_id known committed */
	int64_t seen;               /* the newest version of the table looked at, -1 none */
	struct arena arena;         /* sources live here */
};

/* Find the last barrier of app_id in the table's log, newest commit first.
 * No table yet, or no commit of the app id: barrier 0, a fresh start (seen
 * tells the two apart).  -1 with err when the log cannot be read, when the
 * commit is malformed or records no sources, or when it is no longer in the
 * log (a checkpoint keeps the txn, but only the commit has the sources). */
int resume_load(struct resume *r, const char *table, const char *app_id, char *err, size_t errlen);
/* Read the commits made since the last look, raising committed to the
 * newest barrier of the app id among them.  A commit that is not there yet
 * or cannot be read waits for the next call. */
void resume_refresh(struct resume *r);
/* The position the barrier recorded for partition `part` of `source`: 1
 * with *pos set, 0 when it recorded none, -1 when what it recorded is not
 * a non-negative integer. */
int resume_position(const struct resume *r, const char *source, int32_t part, int64_t *pos);
void resume_free(struct resume *r);

#endif
