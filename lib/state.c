/* state.c - see state.h */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "diag.h"
#include "record.h"

#define SNAP_FMT "snapshot-%020" PRId64 ".bin"

int state_dir_init(const char *dir, char *err, size_t errlen)
{
	/* a file size limit (ulimit -f) must fail a snapshot with a message,
	 * not kill the stage in silence with SIGXFSZ */
	signal(SIGXFSZ, SIG_IGN);
	/* parents too: one state/ directory holding a subdirectory per stage
	 * is the usual layout, and it should need no mkdir -p first */
	char path[4096];
	size_t n = strlen(dir);
	if (n >= sizeof path) {
		snprintf(err, errlen, "state directory name too long: '%s'", dir);
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		mkdir(path, 0777);
		*s = '/';
	}
	if (mkdir(dir, 0777) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create state directory '%s': %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int state_write_file(const char *path, const void *p, size_t n, char *err, size_t errlen)
{
	char tmp[4200], dir[4096];
	const char *slash = strrchr(path, '/');
	if (strlen(path) >= sizeof dir) {
		snprintf(err, errlen, "cannot write '%.64s...': %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	snprintf(tmp, sizeof tmp, "%.4095s/.tmp-%ld-%.60s", dir, (long)getpid(), slash ? slash + 1 : path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		return -1;
	}
	const char *q = p;
	size_t left = n;
	while (left) {
		ssize_t w = write(fd, q, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(w < 0 ? errno : ENOSPC));
			close(fd);
			unlink(tmp);
			return -1;
		}
		q += w;
		left -= (size_t)w;
	}
	if (fsync(fd) || close(fd)) {
		snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) || fsync_dir(dir)) {
		snprintf(err, errlen, "cannot replace '%s': %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* A snapshot ends in these 4 bytes and the CRC-32 of all before them,
 * little-endian. */
#define SNAP_SUM_TAG "wsum"

static uint32_t snap_crc(const char *p, size_t n)
{
	uLong crc = crc32(0, Z_NULL, 0);
	/* zlib takes at most UINT_MAX bytes at a time */
	for (size_t k; n; p += k, n -= k) {
		k = n > UINT_MAX ? UINT_MAX : n;
		crc = crc32(crc, (const Bytef *)p, (uInt)k);
	}
	return (uint32_t)crc;
}

int state_save(const char *dir, int64_t id, struct buf *b, char *err, size_t errlen)
{
	uint32_t crc = snap_crc(b->p, b->len);
	unsigned char sum[4] = {crc & 0xff, crc >> 8 & 0xff, crc >> 16 & 0xff, crc >> 24};
	buf_puts(b, SNAP_SUM_TAG);
	buf_put(b, sum, 4);
	char final[4096];
	snprintf(final, sizeof final, "%s/" SNAP_FMT, dir, id);
	return state_write_file(final, b->p, b->len, err, errlen);
}

int state_load(const char *dir, int64_t id, struct buf *out, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/" SNAP_FMT, dir, id);
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "cannot read state snapshot '%s': %s", path, strerror(errno));
		return -1;
	}
	buf_reset(out);
	for (;;) {
		buf_grow(out, 1 << 16);
		ssize_t r = read(fd, out->p + out->len, out->cap - out->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cannot read state snapshot '%s': %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (!r)
			break;
		out->len += (size_t)r;
	}
	close(fd);
	const unsigned char *tail = out->len < 8 ? NULL : (const unsigned char *)out->p + out->len - 8;
	if (!tail || memcmp(tail, SNAP_SUM_TAG, 4)) {
		snprintf(err, errlen, "corrupt state snapshot %" PRId64 " in '%s': no checksum", id, dir);
		return -1;
	}
	uint32_t want = (uint32_t)tail[4] | (uint32_t)tail[5] << 8 | (uint32_t)tail[6] << 16 | (uint32_t)tail[7] << 24;
	out->len -= 8;
	if (snap_crc(out->p, out->len) != want) {
		snprintf(err, errlen, "corrupt state snapshot %" PRId64 " in '%s': checksum mismatch", id, dir);
		return -1;
	}
	return 0;
}

/* Delete the snapshots whose id `doomed` picks, and temporary files when asked. */
static void prune(const char *dir, bool (*doomed)(int64_t id, int64_t arg), int64_t arg, bool tmp_too)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int64_t id;
		char path[4096];
		if ((sscanf(e->d_name, "snapshot-%" SCNd64 ".bin", &id) == 1 && doomed(id, arg)) ||
		    (tmp_too && !strncmp(e->d_name, ".tmp-", 5))) {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	closedir(d);
}

static bool not_kept(int64_t id, int64_t keep) { return id != keep; }
static bool older(int64_t id, int64_t below) { return id < below; }

void state_prune(const char *dir, int64_t keep)
{
	prune(dir, not_kept, keep, true);
}

void state_prune_below(const char *dir, int64_t below)
{
	prune(dir, older, below, false);
}

uint64_t snap_uvarint(struct snap_reader *r)
{
	uint64_t v;
	if (r->bad || get_uvarint(&r->p, r->end, &v)) {
		r->bad = true;
		return 0;
	}
	return v;
}

int64_t snap_int(struct snap_reader *r)
{
	return unzigzag64(snap_uvarint(r));
}

const char *snap_bytes(struct snap_reader *r, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	const char *s = (const char *)r->p;
	r->p += n;
	return s;
}

/* The late-record file as a snapshot saw it.  Only a regular file is
 * marked: a pipe or terminal cannot be cut. */
struct late_mark {
	bool set;
	uint64_t dev, ino, len;
};

/* Write out what the tool buffered for its late-record file, make it
 * durable and mark it; -1 with err set when it cannot be synced. */
static int mark_late(struct rec_writer *late, struct late_mark *m, char *err, size_t errlen)
{
	struct stat sb;
	*m = (struct late_mark){0};
	if (!late)
		return 0;
	rec_flush(late);
	int fd = rec_writer_fd(late);
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode))
		return 0;
	if (fsync(fd)) {
		snprintf(err, errlen, "cannot sync the late-record file: %s", strerror(errno));
		return -1;
	}
	*m = (struct late_mark){.set = true, .dev = sb.st_dev, .ino = sb.st_ino, .len = (uint64_t)sb.st_size};
	return 0;
}

static void put_late_mark(struct buf *b, const struct late_mark *m)
{
	buf_putc(b, m->set);
	if (m->set) {
		buf_uvarint(b, m->dev);
		buf_uvarint(b, m->ino);
		buf_uvarint(b, m->len);
	}
}

/* r->bad on a malformed mark */
static void get_late_mark(struct snap_reader *r, struct late_mark *m)
{
	*m = (struct late_mark){0};
	const char *set = snap_bytes(r, 1);
	if (!set || (unsigned char)*set > 1) {
		r->bad = true;
		return;
	}
	if (*set) {
		m->set = true;
		m->dev = snap_uvarint(r);
		m->ino = snap_uvarint(r);
		m->len = snap_uvarint(r);
	}
}

/* Write out what the tool buffered for its late-record file and cut the
 * file back to m when it is the marked one and longer: 0 then, 1 when it
 * is not the marked file (none, or one rotated or replaced since), -1 with
 * err set when cutting fails. */
static int cut_late(struct rec_writer *late, const struct late_mark *m, char *err, size_t errlen)
{
	struct stat sb;
	if (!late)
		return 1;
	rec_flush(late);
	int fd = rec_writer_fd(late);
	if (!m->set || fstat(fd, &sb) || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_dev != m->dev ||
	    (uint64_t)sb.st_ino != m->ino)
		return 1;
	if ((uint64_t)sb.st_size > m->len && ftruncate(fd, (off_t)m->len)) {
		snprintf(err, errlen, "cannot cut the late-record file back to its length at the snapshot: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

#define LATE_BASE_MAGIC "WLATE1"

int state_restore_zero(const char *dir, struct rec_writer *late, char *err, size_t errlen)
{
	state_prune(dir, 0);
	struct buf b = BUF_INIT;
	struct late_mark m;
	int rc = state_load(dir, 0, &b, err, errlen);
	if (rc == 0) {
		struct snap_reader r = snap_reader(&b);
		size_t n = strlen(LATE_BASE_MAGIC);
		const char *magic = snap_bytes(&r, n);
		if (magic && !memcmp(magic, LATE_BASE_MAGIC, n))
			get_late_mark(&r, &m);
		else
			r.bad = true;
		if (r.bad) {
			snprintf(err, errlen, "corrupt state snapshot 0 in '%s'", dir);
			rc = -1;
		} else {
			rc = cut_late(late, &m, err, errlen);
		}
	}
	if (rc > 0) {
		/* the first attempt, or its file is gone: mark this one */
		buf_reset(&b);
		rc = mark_late(late, &m, err, errlen);
		if (!rc && m.set) {
			buf_puts(&b, LATE_BASE_MAGIC);
			put_late_mark(&b, &m);
			rc = state_save(dir, 0, &b, err, errlen);
		}
	}
	buf_free(&b);
	return rc;
}

int snap_put_header(struct buf *b, const char *magic, const char *fingerprint, struct rec_writer *late,
		    char *err, size_t errlen)
{
	buf_puts(b, magic);
	buf_uvarint(b, strlen(fingerprint));
	buf_puts(b, fingerprint);
	struct late_mark m;
	if (mark_late(late, &m, err, errlen))
		return -1;
	put_late_mark(b, &m);
	return 0;
}

int snap_open(const char *dir, int64_t id, const char *magic, const char *fingerprint, struct rec_writer *late,
	      struct buf *out, struct snap_reader *r, char *err, size_t errlen)
{
	int rc = state_load(dir, id, out, err, errlen);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		snprintf(err, errlen, "no state snapshot %" PRId64 " in '%s' to restore", id, dir);
		return -1;
	}
	*r = snap_reader(out);
	size_t mlen = strlen(magic);
	const char *m = snap_bytes(r, mlen);
	size_t flen = snap_uvarint(r);
	const char *fp = snap_bytes(r, flen);
	if (r->bad || memcmp(m, magic, mlen)) {
		snprintf(err, errlen, "corrupt state snapshot %" PRId64 " in '%s'", id, dir);
		return -1;
	}
	if (flen != strlen(fingerprint) || memcmp(fp, fingerprint, flen)) {
		snprintf(err, errlen, "state snapshot %" PRId64 " in '%s' was written with other options (%.*s)", id,
			 dir, (int)flen, fp);
		return -1;
	}
	struct late_mark mark;
	get_late_mark(r, &mark);
	if (!r->bad && cut_late(late, &mark, err, errlen) < 0)
		return -1;
	if (r->bad) {
		snprintf(err, errlen, "corrupt state snapshot %" PRId64 " in '%s'", id, dir);
		return -1;
	}
	return 0;
}
