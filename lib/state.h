/* state.h - snapshots of a stateful tool's state in --state DIR
 * (ARCHITECTURE §4).  Snapshot N is written on barrier N before the barrier
 * is forwarded, atomically (temp file, fsync, rename, directory fsync), so a
 * kill at any instant leaves either the old set or the new one. */
#ifndef WEIR_STATE_H
#define WEIR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct rec_writer;

/* Create DIR and its parents if needed; -1 with err set when it cannot be
 * used.  Also ignores SIGXFSZ, so that a file size limit fails a snapshot
 * with EFBIG instead of killing the process. */
int state_dir_init(const char *dir, char *err, size_t errlen);
/* Snapshot `id` holds the bytes of b, followed by a checksum that
 * state_load verifies: fsync and rename guard against a crash, the checksum
 * against damage at rest, which would otherwise restore wrong state in
 * silence.  b gains the checksum's 8 bytes. */
int state_save(const char *dir, int64_t id, struct buf *b, char *err, size_t errlen);
/* 0 loaded (the bytes state_save was given), 1 no such snapshot, -1 error
 * (err set), a damaged snapshot too. */
int state_load(const char *dir, int64_t id, struct buf *out, char *err, size_t errlen);
/* Replace the file `path` with [p, p+n) atomically, the same way: a temp file
 * beside it, fsync, rename, directory fsync.  For small state kept as one
 * file (weir-lag --state, reports for node_exporter's textfile collector). */
int state_write_file(const char *path, const void *p, size_t n, char *err, size_t errlen);
/* On restore N: every snapshot other than N is stale (older ones are
 * superseded, newer ones belong to barriers that never committed). */
void state_prune(const char *dir, int64_t keep);
/* While running: every snapshot older than `below`, the barrier the sink had
 * committed when the source cut the current one, can never be restored. */
void state_prune_below(const char *dir, int64_t below);

/* Reading a snapshot back (written with buf_uvarint and zigzag64).  The
 * getters never read past the end: on short input they set bad and return
 * 0 or NULL, so a decoder reads on and checks bad once per item. */
struct snap_reader {
	const unsigned char *p, *end;
	bool bad;
};

static inline struct snap_reader snap_reader(const struct buf *b)
{
	struct snap_reader r = {(const unsigned char *)b->p, (const unsigned char *)b->p + b->len, false};
	return r;
}
uint64_t snap_uvarint(struct snap_reader *r);
int64_t snap_int(struct snap_reader *r); /* zigzag */
/* n bytes, or NULL */
const char *snap_bytes(struct snap_reader *r, size_t n);

/* The header of a keyed tool's snapshot: the tool's magic, then the
 * fingerprint of the options that shape its state, so a restore under other
 * options fails instead of misreading the state; then the mark of its
 * late-record file (--late FILE; late NULL without one), written out and
 * made durable first (fsync).  -1 with err set when that fails.
 *
 * The mark keeps the file exactly-once across restarts: snapshot N records
 * the file as barrier N left it, and restoring N cuts off what was appended
 * after, which the replay from barrier N appends again.  Only a regular
 * file is marked, and only the same file (device and inode) is cut, never
 * lengthened: one rotated or replaced since is left alone. */
int snap_put_header(struct buf *b, const char *magic, const char *fingerprint, struct rec_writer *late,
		    char *err, size_t errlen);
/* Load snapshot `id` into out, check its header against magic and
 * fingerprint and cut the late-record file back to its mark (after writing
 * out what late buffered); on success *r reads what follows the header.  -1 with err set when the snapshot is missing,
 * unreadable, corrupt or written with other options, or the cut fails. */
int snap_open(const char *dir, int64_t id, const char *magic, const char *fingerprint, struct rec_writer *late,
	      struct buf *out, struct snap_reader *r, char *err, size_t errlen);
/* Restore 0 (nothing committed yet, a first attempt or another one), what
 * the state directory needs of it: every snapshot but 0 dropped (an
 * earlier attempt's, which no barrier of this run may take for its own),
 * and the late-record file (late's) as the first attempt found it.  The
 * first restore 0 marks the file in snapshot 0; another attempt's cuts it
 * back to that mark (remarking a file replaced since).  Snapshot 0 goes
 * with the other old ones once a commit lets them go.  -1 with err set on
 * failure. */
int state_restore_zero(const char *dir, struct rec_writer *late, char *err, size_t errlen);

#endif
