/* lines.h - delimited records from files, compressed files and archives.
 *
 * Backfills read yesterday's dumps the way a consumer reads a topic: each
 * input is read in order, and each of its records comes with where it was
 * (input, archive member, record number), so a position can be reported in
 * an error and resumed from.  Compressed files (gzip, zstd, xz, bzip2, lz4)
 * and archives (tar, zip, cpio, 7z; compressed or not) are recognized by
 * their first bytes and read through libarchive; anything else is read as
 * it is, and a record is handed out as soon as its delimiter arrives, so a
 * pipe or FIFO feeding a live stream is never held back waiting for more. */
#ifndef WEIR_LINES_H
#define WEIR_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lines_rec {
	const char *p;        /* the record without its delimiter; valid until the next call */
	size_t n;
	const char *source;   /* the input as named ("-" is standard input) */
	const char *member;   /* archive member name; NULL outside archives */
	int32_t member_index; /* 0-based among the regular files of an archive; 0 otherwise */
	uint64_t number;      /* 1-based record (line) number within the member or file */
	const char *err;      /* set when the record is unusable (too long); p holds its head */
};

struct lines;

/* Read `paths` in order ("-" = standard input; no paths = standard input).
 * Records end at `delim` (dlen bytes, at least 1); a last record without a
 * delimiter still counts.  Records longer than max_record are reported
 * through lines_rec.err and skipped to their end. */
struct lines *lines_open(char *const *paths, size_t npaths, const char *delim, size_t dlen, size_t max_record);
/* 1: a record in *r; 0: every input is done; -1: an input could not be
 * read to its end (the message is printed; the next call goes on with the
 * next input); -2: a signal interrupted a read (call again to go on). */
int lines_next(struct lines *l, struct lines_rec *r);
void lines_close(struct lines *l);

#endif
