/* lines.c - see lines.h */
#include "lines.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"

#define CHUNK (256u << 10)
#define HEAD_KEPT 4096 /* of a too-long record, for the error message */

struct lines {
	char *const *paths;
	size_t npaths, next_path;
	const char *delim;
	size_t dlen, max;

	/* the input being read */
	bool open;
	const char *name;
	int fd;
	struct archive *ar;
	bool raw_stream;       /* a compressed file, not an archive: no members */
	bool in_member;
	char *member;
	int32_t member_index;
	uint64_t number;
	bool at_eof;           /* no more data in the member or plain input */

	/* data not yet handed out: chunk[pos, len) */
	char *rbuf;            /* plain inputs read into this */
	const char *chunk;
	size_t len, pos;
	/* the prefix read to recognize the input, given to libarchive first */
	const char *prefix;
	size_t prefix_len;
	char *prefix_copy;     /* libarchive may point into it until the input closes */

	struct buf carry;      /* a record that spans chunks */
	bool carry_used;       /* the last record handed out was the carry */
	bool skipping;         /* inside a too-long record, discarding to its end */
};

struct lines *lines_open(char *const *paths, size_t npaths, const char *delim, size_t dlen, size_t max_record)
{
	static char *const stdin_only[] = {"-"};
	struct lines *l = xcalloc(1, sizeof *l);
	l->paths = npaths ? paths : stdin_only;
	l->npaths = npaths ? npaths : 1;
	l->delim = delim;
	l->dlen = dlen;
	l->max = max_record < HEAD_KEPT ? HEAD_KEPT : max_record;
	l->rbuf = xmalloc(CHUNK);
	l->fd = -1;
	return l;
}

static void close_input(struct lines *l)
{
	if (l->ar) {
		archive_read_free(l->ar);
		l->ar = NULL;
	}
	if (l->fd > 0)
		close(l->fd);
	l->fd = -1;
	free(l->member);
	l->member = NULL;
	free(l->prefix_copy);
	l->prefix_copy = NULL;
	l->open = l->in_member = false;
	l->len = l->pos = 0;
	buf_reset(&l->carry);
	l->skipping = false;
}

void lines_close(struct lines *l)
{
	if (!l)
		return;
	close_input(l);
	buf_free(&l->carry);
	free(l->rbuf);
	free(l);
}

static bool magic(const unsigned char *p, size_t n, const char *m, size_t mlen, bool *maybe)
{
	if (n < mlen) {
		if (!memcmp(p, m, n))
			*maybe = true;
		return false;
	}
	return !memcmp(p, m, mlen);
}

/* Compressed or archived?  *more is set when the bytes so far could still
 * be the start of a magic number, so one more read may decide. */
static bool packed(const unsigned char *p, size_t n, bool *more)
{
	static const struct {
		const char *m;
		size_t len;
	} magics[] = {
		{"\x1f\x8b", 2},                  /* gzip */
		{"\x28\xb5\x2f\xfd", 4},          /* zstd */
		{"\xfd" "7zXZ\x00", 6},           /* xz */
		{"BZh", 3},                       /* bzip2 */
		{"\x04\x22\x4d\x18", 4},          /* lz4 */
		{"PK\x03\x04", 4},                /* zip */
		{"PK\x05\x06", 4},                /* empty zip */
		{"7z\xbc\xaf\x27\x1c", 6},        /* 7z */
		{"070707", 6}, {"070701", 6}, {"070702", 6}, /* cpio */
	};
	*more = false;
	for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
		if (magic(p, n, magics[i].m, magics[i].len, more))
			return true;
	/* ustar: the magic sits at offset 257 of the first header */
	return n >= 262 && !memcmp(p + 257, "ustar", 5);
}

static la_ssize_t prefixed_read(struct archive *a, void *data, const void **out)
{
	(void)a;
	struct lines *l = data;
	if (l->prefix_len) {
		*out = l->prefix;
		la_ssize_t n = (la_ssize_t)l->prefix_len;
		l->prefix_len = 0;
		return n;
	}
	for (;;) {
		ssize_t n = read(l->fd, l->rbuf, CHUNK);
		if (n >= 0 || errno != EINTR) {
			if (n < 0)
				archive_set_error(a, errno, "read error");
			*out = l->rbuf;
			return n;
		}
	}
}

static int report(struct lines *l, const char *what)
{
	if (l->ar && archive_error_string(l->ar))
		warnx("cannot read '%s': %s", l->name, archive_error_string(l->ar));
	else if (l->ar)
		/* libarchive said nothing: a header that promises more than the
		 * file holds, as a truncated or damaged archive's does */
		warnx("cannot read '%s': damaged or truncated archive", l->name);
	else
		warnerr("cannot read '%s'%s", l->name, what);
	close_input(l);
	return -1;
}

/* Open the next input; 0 when there is none, -1 when it cannot be read. */
static int open_next(struct lines *l)
{
	if (l->next_path >= l->npaths)
		return 0;
	l->name = l->paths[l->next_path++];
	l->fd = strcmp(l->name, "-") ? open(l->name, O_RDONLY | O_CLOEXEC) : 0;
	if (l->fd < 0)
		return report(l, "");
	l->open = true;
	l->member_index = -1;
	l->number = 0;
	l->at_eof = false;
	/* read enough to recognize the input, without waiting on a pipe for
	 * bytes that cannot change the answer */
	size_t n = 0;
	bool more = true;
	while (more && n < 262) {
		ssize_t r = read(l->fd, l->rbuf + n, CHUNK - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return report(l, "");
		if (r == 0)
			break;
		n += (size_t)r;
		if (packed((unsigned char *)l->rbuf, n, &more))
			break;
	}
	if (!packed((unsigned char *)l->rbuf, n, &more)) {
		l->chunk = l->rbuf;
		l->len = n;
		l->pos = 0;
		l->at_eof = n == 0;
		l->in_member = true;
		l->member_index = 0;
		return 1;
	}
	l->ar = archive_read_new();
	archive_read_support_filter_all(l->ar);
	archive_read_support_format_tar(l->ar);
	archive_read_support_format_gnutar(l->ar);
	archive_read_support_format_zip(l->ar);
	archive_read_support_format_7zip(l->ar);
	archive_read_support_format_cpio(l->ar);
	archive_read_support_format_raw(l->ar);
	struct stat st;
	int rc;
	if (fstat(l->fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(l->fd, 0, SEEK_SET) == 0) {
		/* seekable: zip and 7z read their central directory */
		rc = archive_read_open_fd(l->ar, l->fd, CHUNK);
	} else {
		/* the recognized bytes are gone from the pipe; hand them over
		 * first (copied: rbuf is reused for what follows) */
		l->prefix_copy = xmalloc(n);
		memcpy(l->prefix_copy, l->rbuf, n);
		l->prefix = l->prefix_copy;
		l->prefix_len = n;
		rc = archive_read_open(l->ar, l, NULL, prefixed_read, NULL);
	}
	if (rc != ARCHIVE_OK)
		return report(l, "");
	return 1;
}

/* Step to the next regular file of the archive; 0 at its end. */
static int next_member(struct lines *l)
{
	for (;;) {
		struct archive_entry *e;
		int rc = archive_read_next_header(l->ar, &e);
		if (rc == ARCHIVE_EOF)
			return 0;
		if (rc < ARCHIVE_WARN)
			return report(l, "");
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		l->raw_stream = archive_format(l->ar) == ARCHIVE_FORMAT_RAW;
		free(l->member);
		l->member = l->raw_stream ? NULL : xstrdup(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
		l->member_index++;
		l->number = 0;
		l->in_member = true;
		l->at_eof = false;
		l->len = l->pos = 0;
		return 1;
	}
}

/* Refill chunk; false at the end of the member (or input), -1 on error. */
static int refill(struct lines *l)
{
	if (l->at_eof)
		return 0;
	if (l->ar) {
		const void *p;
		size_t n;
		la_int64_t off;
		int rc = archive_read_data_block(l->ar, &p, &n, &off);
		if (rc == ARCHIVE_EOF) {
			l->at_eof = true;
			return 0;
		}
		if (rc < ARCHIVE_WARN)
			return report(l, "");
		l->chunk = p ? p : "";
		l->len = n;
		l->pos = 0;
		return 1;
	}
	for (;;) {
		ssize_t n = read(l->fd, l->rbuf, CHUNK);
		if (n < 0 && errno == EINTR)
			return -2; /* nothing lost: the caller may call again */
		if (n < 0)
			return report(l, "");
		if (n == 0) {
			l->at_eof = true;
			return 0;
		}
		l->chunk = l->rbuf;
		l->len = (size_t)n;
		l->pos = 0;
		return 1;
	}
}

/* Where the delimiter starts in chunk[pos, len), or -1; *split is set when
 * the first bytes of the delimiter ended the carry. */
static long find_delim(struct lines *l, size_t *split)
{
	const char *s = l->chunk + l->pos;
	size_t n = l->len - l->pos;
	*split = 0;
	if (l->dlen > 1 && l->carry.len) {
		for (size_t k = l->dlen - 1; k >= 1; k--) {
			if (k <= l->carry.len && l->dlen - k <= n &&
			    !memcmp(l->carry.p + l->carry.len - k, l->delim, k) &&
			    !memcmp(s, l->delim + k, l->dlen - k)) {
				*split = k;
				return 0;
			}
		}
	}
	const char *d;
	if (!n)
		return -1;
	if (l->dlen == 1)
		d = memchr(s, l->delim[0], n);
	else
		d = memmem(s, n, l->delim, l->dlen);
	return d ? (long)(d - s) : -1;
}

static void fill_rec(struct lines *l, struct lines_rec *r, const char *p, size_t n)
{
	r->p = p;
	r->n = n;
	r->source = l->name;
	r->member = l->member && !l->raw_stream && l->ar ? l->member : NULL;
	r->member_index = l->member_index < 0 ? 0 : l->member_index;
	r->number = ++l->number;
	r->err = NULL;
	l->carry_used = true;
}

int lines_next(struct lines *l, struct lines_rec *r)
{
	/* the carry may hold half a record when a signal interrupted a read */
	if (l->carry_used)
		buf_reset(&l->carry);
	l->carry_used = false;
	for (;;) {
		if (!l->open) {
			int rc = open_next(l);
			if (rc <= 0)
				return rc;
		}
		if (!l->in_member) {
			int rc = next_member(l);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				close_input(l);
				continue;
			}
		}
		if (l->pos >= l->len) {
			int rc = refill(l);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				/* the member ended: a last record without a delimiter */
				size_t last = l->skipping ? 0 : l->carry.len;
				l->skipping = false;
				if (l->ar)
					l->in_member = false;
				else
					close_input(l); /* keeps carry's bytes, only its length goes */
				if (last) {
					fill_rec(l, r, l->carry.p, last);
					return 1;
				}
				buf_reset(&l->carry);
				continue;
			}
		}
		size_t split;
		long d = find_delim(l, &split);
		if (d < 0) {
			size_t n = l->len - l->pos;
			if (l->skipping) {
				/* keep only what could be the start of a delimiter */
				size_t keep = n < l->dlen - 1 ? n : l->dlen - 1;
				buf_reset(&l->carry);
				buf_put(&l->carry, l->chunk + l->len - keep, keep);
			} else {
				buf_put(&l->carry, l->chunk + l->pos, n);
				if (l->carry.len > l->max) {
					fill_rec(l, r, l->carry.p, HEAD_KEPT);
					r->err = "record longer than the limit (WEIR_MAX_RECORD)";
					l->skipping = true;
					l->pos = l->len;
					return 1;
				}
			}
			l->pos = l->len;
			continue;
		}
		const char *start = l->chunk + l->pos;
		l->pos += (size_t)d + l->dlen - split;
		if (l->skipping) {
			l->skipping = false;
			buf_reset(&l->carry);
			continue;
		}
		if (split) {
			l->carry.len -= split;
		} else if (l->carry.len) {
			buf_put(&l->carry, start, (size_t)d);
		}
		const char *p = l->carry.len || split ? l->carry.p : start;
		size_t n = l->carry.len || split ? l->carry.len : (size_t)d;
		if (n > l->max) {
			fill_rec(l, r, p, HEAD_KEPT);
			r->err = "record longer than the limit (WEIR_MAX_RECORD)";
			return 1;
		}
		if (!n) {
			/* an empty record carries nothing but still counts */
			l->number++;
			continue;
		}
		fill_rec(l, r, p, n);
		return 1;
	}
}
