/* deltamerge.h - MERGE by key into a Delta table, copy-on-write
 * (weir-lake-write --merge-on).
 *
 * A batch of changes is collected first: upserts (a row replaces every row
 * with its key, or is inserted) and deletes by key, one change per key, the
 * last by an order value and then by arrival.  Applying the batch reads
 * only the table's files whose partition values and add.stats ranges of the
 * key columns may hold an affected key, and rewrites only those that do,
 * without the affected rows.  The caller writes the rows handed to it (the
 * rows kept from rewritten files, then the upserts) into new files and
 * commits them with the removes, with delta_merge_read_file as the
 * conflict rule: a concurrent commit that removes a file the merge read,
 * or adds (not blindly) a file that may hold one of its keys, conflicts.
 *
 * Changes come from plain records, whose deletes a predicate picks, or from
 * Debezium change events (op c/r/u/d, before, after, source.ts_ms), bare,
 * in the JSON converter's {"schema","payload"} wrapper, or as the JSON text
 * of a Kafka envelope's value (weir-ingest) or payload (kcat -J); a null
 * value there is a tombstone. */
#ifndef WEIR_DELTAMERGE_H
#define WEIR_DELTAMERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "delta.h"
#include "schema.h"
#include "value.h"

enum merge_cdc { MERGE_CDC_NONE, MERGE_CDC_DEBEZIUM };

struct delta_merge_opts {
	const char *keys;        /* comma-separated top-level columns */
	const char *delete_when; /* predicate over the input record (lib/expr), NULL: none */
	const char *order_by;    /* path in the input record (CDC: in the change event); NULL:
				    arrival order (CDC: source.ts_ms, then arrival) */
	enum merge_cdc cdc;
};

struct delta_merge;
/* NULL with err on a bad key list or predicate. */
struct delta_merge *delta_merge_new(const struct delta_merge_opts *o, char *err, size_t errlen);
void delta_merge_free(struct delta_merge *mg);
/* Check the keys against the table schema: top-level columns of primitive
 * types.  Call again when the schema changes. */
bool delta_merge_bind(struct delta_merge *mg, const struct type *schema, char *err, size_t errlen);

enum { MERGE_REJECT = -1, MERGE_TOMBSTONE, MERGE_UPSERT, MERGE_DELETE };

/* One input record read as a change; values point into the record or the
 * arena given to delta_merge_decode. */
struct merge_change {
	int kind;
	struct value row;    /* upsert: the row; delete: a row holding the key columns */
	struct value before; /* an update's before image (V_NULL when none) */
	struct value order;  /* V_NULL when none */
};

/* Read a record as a change: MERGE_UPSERT, MERGE_DELETE, MERGE_TOMBSTONE
 * (nothing to do), or MERGE_REJECT with err.  Members of a plain record
 * that only --delete-when or --order-by use and the bound schema lacks are
 * left out of the row. */
int delta_merge_decode(struct delta_merge *mg, const struct value *rec, struct arena *a, struct merge_change *ch,
		       char *err, size_t errlen);
/* Add a change to the batch, made to fit the schema (an upsert's whole row,
 * a delete's key columns).  -1 with err when it does not fit or a key
 * column is null: nothing is added then. */
int delta_merge_add(struct delta_merge *mg, const struct type *schema, const struct merge_change *ch, char *err,
		    size_t errlen);

/* Apply the batch to snapshot s (NULL: a table not created yet): every row
 * of the new files goes to emit, in the table schema; the files to remove
 * are returned (the caller frees them).  -1 with err on a read error or when
 * emit fails. */
typedef int (*merge_emit_fn)(void *ctx, const struct value *row, char *err, size_t errlen);
int delta_merge_apply(struct delta_merge *mg, const struct delta_snapshot *s, merge_emit_fn emit, void *ctx,
		      struct delta_file **removes, size_t *nremoves, char *err, size_t errlen);

/* The conflict rule of the applied batch, for delta_commit's read_file
 * (ctx is the merge). */
bool delta_merge_read_file(void *ctx, const struct delta_file *f, bool removed);

struct merge_stats {
	int64_t source_rows;     /* changes received, superseded ones included */
	int64_t inserted, updated, deleted; /* rows of the table: inserted, replaced, deleted */
	int64_t copied, output_rows;        /* rows kept from rewritten files; rows written */
	int64_t files_before, files_read, files_removed;
};
const struct merge_stats *delta_merge_stats(const struct delta_merge *mg);
/* commitInfo operationParameters and operationMetrics (Spark's MERGE
 * names) of the applied batch, which wrote nadds files. */
void delta_merge_commit_info(const struct delta_merge *mg, size_t nadds, struct buf *params, struct buf *metrics);
/* Forget the batch (after its commit, or when it is dropped). */
void delta_merge_reset(struct delta_merge *mg);

#endif
