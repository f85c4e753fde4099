/* delta.h - Delta Lake tables, from delta-io/delta PROTOCOL.md
 * (ARCHITECTURE §5, notes/delta-parquet.md §1-2).
 *
 * A snapshot is the replayed state of a table at one version: protocol,
 * metadata, live files, tombstones and the txn of every appId.  A commit is
 * a list of actions plus a description of what the transaction read, so the
 * conflict rules can decide, when another writer won the race for a version,
 * between retrying at the next version and failing.  The modules:
 *   deltalog.c     listing, replay of JSON commits and Parquet checkpoints,
 *                  protocol checks, history
 *   deltacommit.c  put-if-absent commits, conflict checks, checkpoints
 *   deltapath.c    partition values, Hive escaping, URI paths, stats
 *   deltascan.c    rows of a snapshot's files, pruning and skipping
 *   deltapred.c    --where/--replace-where (lib/expr) over rows and files
 * Nothing here exits; errors come back as text in err (room errlen). */
#ifndef WEIR_DELTA_H
#define WEIR_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "schema.h"
#include "value.h"

#define DELTA_LOG "_delta_log"

/* A string map as the log has them (partitionValues, configuration, tags):
 * val NULL is JSON null. */
struct delta_kv {
	char *key, *val;
};
struct delta_map {
	struct delta_kv *kv;
	size_t n;
};
const struct delta_kv *delta_map_get(const struct delta_map *m, const char *key);
void delta_map_set(struct delta_map *m, const char *key, const char *val);
void delta_map_copy(struct delta_map *dst, const struct delta_map *src);
void delta_map_free(struct delta_map *m);

struct delta_protocol {
	int min_reader, min_writer;
	char **reader_features, **writer_features;
	size_t nreader_features, nwriter_features;
};

struct delta_metadata {
	char *id, *name, *description, *provider;
	struct delta_map format_options;
	char *schema_string;
	struct type *schema;
	char **partition_columns;
	size_t npartition_columns;
	struct delta_map configuration;
	int64_t created_time; /* ms, -1 when absent */
};

/* An add (live file) or a remove (tombstone). */
struct delta_file {
	char *path;       /* as in the log: a URI relative to the table root */
	struct delta_map partition_values;
	struct delta_map tags;
	int64_t size;     /* -1 when a remove does not say */
	int64_t time;     /* add: modificationTime; remove: deletionTimestamp (ms) */
	char *stats;      /* add.stats JSON text, NULL when none */
	int64_t version;  /* the commit that added or removed it */
	bool data_change;
	bool extended_file_metadata; /* remove */
};

struct delta_txn {
	char *app_id;
	int64_t version;
	int64_t last_updated; /* ms, -1 when absent */
};

struct delta_snapshot {
	char *root;
	int64_t version;
	int64_t timestamp;  /* commit time of `version` in ms (see delta_commit_time) */
	int64_t checkpoint; /* checkpoint the replay started from, -1 none */
	struct delta_protocol protocol;
	struct delta_metadata meta;
	struct delta_file *files, *tombstones;
	size_t nfiles, ntombstones;
	struct delta_txn *txns;
	size_t ntxns;
};

/* ---- reading (deltalog.c) ---- */

enum { DELTA_LATEST = -1 };

/* Newest version in the log by listing (-1 when there is no _delta_log or
 * no commit: not a table yet; -2 on error with err set). */
int64_t delta_latest_version(const char *root, char *err, size_t errlen);
/* Replay the table at `version` (DELTA_LATEST for the newest).  Fails on a
 * gap in the versions, a missing protocol or metadata, unreadable
 * checkpoints with no other way to the version, and any table whose reader
 * protocol this module does not implement (the error names the feature). */
struct delta_snapshot *delta_open(const char *root, int64_t version, char *err, size_t errlen);
/* The newest version committed at or before ms (-2 with err when none). */
int64_t delta_version_at(const char *root, int64_t ms, char *err, size_t errlen);
void delta_snapshot_free(struct delta_snapshot *s);

/* 0 when this module can write the table, -1 with err naming what it does
 * not implement (writer features, invariants, constraints, ...). */
int delta_check_write(const struct delta_snapshot *s, char *err, size_t errlen);
/* The txn version recorded for appId, -1 when none. */
int64_t delta_txn_version(const struct delta_snapshot *s, const char *app_id);

/* One commit's actions as parsed JSON values (in arena a): the lines of
 * version's file.  0 ok, 1 no such version, -1 error. */
int delta_read_commit(const char *root, int64_t version, struct arena *a, struct value **actions, size_t *n,
		      char *err, size_t errlen);
/* Commit time in ms: commitInfo.inCommitTimestamp or commitInfo.timestamp,
 * else the file's modification time (copies of a table keep the first). */
int64_t delta_commit_time(const char *root, int64_t version, const struct value *actions, size_t n);

/* Parse add/remove actions (the value of "add"/"remove") into a delta_file. */
int delta_file_from_json(const struct value *v, bool is_add, struct delta_file *f, char *err, size_t errlen);
void delta_file_free(struct delta_file *f);
void delta_file_copy(struct delta_file *dst, const struct delta_file *src);

/* ---- writing (deltacommit.c) ---- */

enum { DELTA_OK = 0, DELTA_ERROR = -1, DELTA_CONFLICT = 1 };

/* One transaction.  What it read decides the conflicts with commits that
 * won the race (Spark's ConflictChecker under WriteSerializable): a winning
 * protocol or metadata change always conflicts, a winning txn for our appId
 * conflicts, winning non-blind adds conflict when they land in what we read,
 * winning removes conflict when they hit what we read or remove. */
struct delta_commit {
	int64_t read_version; /* -1: creating the table (version 0) */
	const struct delta_protocol *protocol; /* written when not NULL */
	const struct delta_metadata *meta;     /* written when not NULL */
	const struct delta_txn *txn;           /* written when not NULL */
	const struct delta_file *adds, *removes;
	size_t nadds, nremoves;
	/* commitInfo */
	const char *operation;            /* "WRITE", "STREAMING UPDATE", ... */
	const char *operation_parameters; /* JSON object text */
	const char *operation_metrics;    /* JSON object text */
	const char *commit_info_extra;    /* more members: JSON text without braces, or NULL */
	/* what the transaction read */
	bool read_whole_table;
	bool (*read_partition)(void *ctx, const struct delta_map *partition_values);
	/* Finer than read_partition, for a transaction that read some files of
	 * a partition (a MERGE): each file a winning commit adds or removes,
	 * with its stats; true when it touches what this transaction read.
	 * A commit with read_file is never a blind append. */
	bool (*read_file)(void *ctx, const struct delta_file *f, bool removed);
	void *read_ctx;
	int max_attempts; /* 0: the default (effectively unbounded for blind appends) */
};
/* Commit at read_version+1, or later when that lost a race and the conflict
 * rules allow.  DELTA_OK with *version set, DELTA_CONFLICT with err saying
 * which rule, DELTA_ERROR on I/O trouble.  Writers checkpoint after a
 * commit whose version is a multiple of delta_checkpoint_interval. */
int delta_commit(const char *root, const struct delta_commit *c, int64_t *version, char *err, size_t errlen);
/* Write the classic Parquet checkpoint for `version` and _last_checkpoint. */
int delta_checkpoint(const char *root, int64_t version, char *err, size_t errlen);
/* delta.checkpointInterval, default 10 */
int64_t delta_checkpoint_interval(const struct delta_metadata *m);

/* The protocol a new table (or an evolved schema) needs: (1,2), or (3,7)
 * with timestampNtz when a column has that type.  `old` is the current
 * protocol (NULL for a new table); false when old already suffices. */
bool delta_protocol_for(const struct delta_protocol *old, const struct type *schema, struct delta_protocol *out);
void delta_protocol_copy(struct delta_protocol *dst, const struct delta_protocol *src);
void delta_protocol_free(struct delta_protocol *p);
void delta_metadata_copy(struct delta_metadata *dst, const struct delta_metadata *src);
void delta_metadata_free(struct delta_metadata *m);
/* Random UUID text (36 chars + NUL). */
void delta_uuid(char out[37]);

/* ---- paths, partition values, stats (deltapath.c) ---- */

/* Hive-style directory name escaping of a partition value (NULL value:
 * __HIVE_DEFAULT_PARTITION__), and RFC 2396 escaping of a relative path for
 * add.path; the decoding of the latter. */
void delta_hive_escape(struct buf *b, const char *s);
void delta_uri_escape(struct buf *b, const char *s);
/* Decoded path; false when it is malformed or leaves the table (absolute,
 * "..", a scheme). */
bool delta_uri_unescape(const char *s, struct buf *out);
/* Full filesystem path of a file of the table, or false with err. */
bool delta_file_path(const char *root, const char *uri, struct buf *out, char *err, size_t errlen);

/* A partition value as the log writes it (NULL for null) from a typed
 * value, and back (the value lives in a). */
char *delta_partition_string(const struct value *v);
int delta_partition_value(const char *s, const struct type *t, struct arena *a, struct value *out);

/* add.stats JSON for a written file: numRecords, minValues, maxValues,
 * nullCount; min/max for numbers, dates, timestamps and strings (cut to 32
 * characters, a cut max gets U+10FFFF appended), over the first 32 columns. */
struct pq_file_stats;
void delta_stats_json(struct buf *b, const struct pq_file_stats *st, const struct type *schema);

/* ---- predicates (deltapred.c) ---- */

/* Predicates in weir's filter language (expr.h) bound to a table: rows are
 * tested with expr_match, files with expr_may_match/expr_must_match fed
 * from their partition values and add.stats. */
struct delta_pred;
struct delta_pred *delta_pred_parse(const char *s, char *err, size_t errlen);
void delta_pred_free(struct delta_pred *p);
/* Column names the predicate uses, in order of first use. */
size_t delta_pred_columns(const struct delta_pred *p, const char ***names);
/* Check the columns exist in schema (and, with only_partition, are partition
 * columns); false with err otherwise. */
bool delta_pred_bind(struct delta_pred *p, const struct delta_metadata *m, bool only_partition, char *err,
		     size_t errlen);
/* Truth on a row (SQL: unknown counts as false). */
bool delta_pred_eval_row(const struct delta_pred *p, const struct value *row);
/* Could a file hold a matching row?  Evaluated on its partition values and
 * stats (min/max/nullCount); false only when it certainly cannot. */
bool delta_pred_may_match(const struct delta_pred *p, const struct delta_metadata *m, const struct delta_file *f);
/* Does every row of the file certainly match?  (partition columns only) */
bool delta_pred_all_match(const struct delta_pred *p, const struct delta_metadata *m, const struct delta_file *f);
/* What a file's partition values and add.stats say about a column (a
 * dotted path), for pruning by something other than a predicate, such as
 * MERGE keys: the value of a partition column, else the range of its
 * stats.  Values live in a. */
struct expr_colinfo;
void delta_file_colinfo(const struct delta_metadata *m, const struct delta_file *f, const char *column,
			struct arena *a, struct expr_colinfo *info);

/* ---- rows (deltascan.c) ---- */

/* Rows of files of a snapshot in the table schema (partition columns filled
 * in, missing columns null, types as the table says), projected to columns
 * (NULL: all) and filtered by pred (may be NULL). */
struct delta_scan;
struct delta_scan *delta_scan_open(const struct delta_snapshot *s, const struct delta_file *files, size_t nfiles,
				   const char *const *columns, size_t ncolumns, const struct delta_pred *pred,
				   char *err, size_t errlen);
/* 1 = a row in *row, 0 = end, -1 error.  The row's values live in a, which
 * each call resets. */
int delta_scan_next(struct delta_scan *sc, struct arena *a, struct value *row, char *err, size_t errlen);
/* Files skipped by pruning and stats so far. */
size_t delta_scan_skipped(const struct delta_scan *sc);
void delta_scan_close(struct delta_scan *sc);

/* Make v fit type t (NDJSON strings to timestamps, dates, decimals, binary
 * per the canonical forms; integers range-checked; structs, arrays, maps
 * element-wise).  false with err naming the field path when it cannot. */
bool delta_conform(struct arena *a, const struct type *t, bool nullable, const struct value *v,
		   struct value *out, struct buf *path, char *err, size_t errlen);

/* Records of a stream made to fit a struct schema, as delta_conform(a,
 * schema, false, ...) does, with the member each field takes found once per
 * key layout (value.h) instead of by name in every record. */
struct delta_conformer {
	const struct type *schema; /* the caller's, kept */
	struct layout keys;        /* of the last record that came without a layout id */
	uint64_t layout;           /* the layout the plan is for; 0 none */
	long *member;              /* per field: the member it takes, -1 none */
	size_t *len;               /* per field: the name's length */
	uint32_t *unknown;         /* the members no field takes (refused unless null) */
	size_t nunknown;
};
void delta_conformer_init(struct delta_conformer *c, const struct type *schema);
void delta_conformer_free(struct delta_conformer *c);
/* layout: the record's layout id when the caller has one (record.h), else 0. */
bool delta_conform_record(struct delta_conformer *c, struct arena *a, const struct value *v, uint64_t layout,
			  struct value *out, struct buf *path, char *err, size_t errlen);

#endif
