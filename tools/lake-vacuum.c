/* lake-vacuum.c - weir-lake-vacuum: the maintenance a Delta table needs to
 * stay fast and bounded, run from cron: compaction (--optimize), vacuum,
 * checkpoints and log cleanup.
 *
 * Streaming writers leave many small files, and every overwrite or
 * compaction leaves the replaced files behind so that time travel still
 * works; without maintenance reads slow down and storage only grows.  This
 * is Delta's OPTIMIZE, VACUUM and metadata cleanup, with one rule above all:
 * a reader of any version inside the retention window must never notice.
 *
 * So vacuum keeps every file referenced by any version from the one current
 * at the cutoff up to the newest (replaying those commits, not trusting
 * deletionTimestamp alone), plus every tombstone younger than the cutoff,
 * plus anything modified after the cutoff (a writer's file not committed
 * yet); it re-reads the log just before deleting; it refuses crafted paths
 * and symbolic links that lead out of the table; and it removes files
 * through directory descriptors opened without following links, so nothing
 * outside the table can be reached even if the tree changes under it.
 * Each deletion is atomic on its own, so a killed run leaves a valid table
 * and a rerun finishes the job. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "delta.h"
#include "diag.h"
#include "json.h"
#include "opt.h"
#include "parquet.h"
#include "timeutil.h"
#include "value.h"

static const char help[] =
	"usage: weir-lake-vacuum [-nqjv] [-r DURATION] [--force-retention] [-a FILE.tar.zst] TABLE\n"
	"       weir-lake-vacuum [-O [-s SIZE] [-w PRED]] [--vacuum] [-c] [-L [-l DURATION]] [-nqjv] TABLE\n"
	"\n"
	"Vacuum, compact, checkpoint and clean up the log of a Delta table.\n"
	"\n"
	"Without -O, -c or -L it vacuums; with them it runs what they ask, in the order\n"
	"optimize, vacuum (--vacuum), checkpoint, log cleanup.\n"
	"\n"
	"Vacuum: delete data files no version inside the retention window references.\n"
	"  -r, --retain DURATION     retention window (default: the table's\n"
	"                            delta.deletedFileRetentionDuration, else 168h);\n"
	"                            e.g. 168h, 7d, 'interval 2 weeks'\n"
	"      --force-retention     allow a window shorter than the table's\n"
	"  -a, --archive FILE.tar.zst  move the files into a new zstd tar archive\n"
	"                            instead of deleting them\n"
	"      --vacuum              vacuum as well when -O, -c or -L is given\n"
	"\n"
	"Compaction: rewrite small files of each partition into larger ones\n"
	"(committed with dataChange=false: streaming readers skip it).\n"
	"  -O, --optimize            compact\n"
	"  -s, --target-size SIZE    size of the files to make (default 128M)\n"
	"  -w, --where PRED          only partitions matching PRED (partition columns)\n"
	"\n"
	"Log:\n"
	"  -c, --checkpoint          write a checkpoint of the newest version\n"
	"  -L, --log-cleanup         delete log entries older than the log retention\n"
	"                            that a checkpoint makes unnecessary\n"
	"  -l, --log-retention DURATION  log retention (default: the table's\n"
	"                            delta.logRetentionDuration, else 30d)\n"
	"\n"
	"Output:\n"
	"  -n, --dry-run             change nothing; list what would go, with sizes\n"
	"  -j, --json                print the summary as one JSON object\n"
	"  -q, --quiet               print nothing but errors\n"
	"  -v, --verbose             say what is done, file by file\n"
	"      --help                show this help\n"
	"      --version             show the version\n"
	"\n"
	"Progress is shown on standard error when it is a terminal.  Exit status: 0 done,\n"
	"1 some files could not be removed or the compaction lost to a conflicting\n"
	"commit, 2 usage or system error or a table it refuses to touch.\n";

enum { OPT_FORCE_RETENTION = OPT_TOOL_FIRST, OPT_VACUUM };

static const struct option longopts[] = {
	{"archive", required_argument, NULL, 'a'},
	{"checkpoint", no_argument, NULL, 'c'},
	{"dry-run", no_argument, NULL, 'n'},
	{"force-retention", no_argument, NULL, OPT_FORCE_RETENTION},
	{"json", no_argument, NULL, 'j'},
	{"log-cleanup", no_argument, NULL, 'L'},
	{"log-retention", required_argument, NULL, 'l'},
	{"optimize", no_argument, NULL, 'O'},
	{"quiet", no_argument, NULL, 'q'},
	{"retain", required_argument, NULL, 'r'},
	{"target-size", required_argument, NULL, 's'},
	{"vacuum", no_argument, NULL, OPT_VACUUM},
	{"verbose", no_argument, NULL, 'v'},
	{"where", required_argument, NULL, 'w'},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

#define DEFAULT_FILE_RETENTION_US (168LL * 3600 * 1000000)
#define DEFAULT_LOG_RETENTION_US (30LL * 86400 * 1000000)
#define DEFAULT_TARGET_SIZE (128LL * 1024 * 1024)

static struct opts {
	const char *table;
	bool vacuum, optimize, checkpoint, log_cleanup;
	bool dry_run, json, quiet, force_retention;
	int64_t retain_us;     /* -1: from the table */
	int64_t log_retain_us; /* -1: from the table */
	int64_t target_size;
	const char *archive;
	const char *where;
} opt = {.retain_us = -1, .log_retain_us = -1, .target_size = DEFAULT_TARGET_SIZE};

/* The table, opened once: its real path (every containment check compares
 * against it) and a descriptor every file operation starts from. */
static struct {
	char *real;
	int fd;
} root = {NULL, -1};

static int status = EXIT_OK;
static struct buf json = BUF_INIT; /* the --json summary being built */

/* ---- small helpers ---- */

static void human_size(char out[32], int64_t n)
{
	static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, 32, "%lld B", (long long)n);
	else
		snprintf(out, 32, "%.1f %s", v, unit[u]);
}

/* "168h", "36h", "7d": a retention as people write it back. */
static void human_duration(char out[32], int64_t us)
{
	int64_t s = us / 1000000;
	if (s % 3600 == 0)
		snprintf(out, 32, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(out, 32, "%lldm", (long long)(s / 60));
	else
		snprintf(out, 32, "%llds", (long long)s);
}

static void iso_ms(char out[40], int64_t ms)
{
	format_timestamp(out, ms * 1000, false);
}

static int64_t mtime_ms(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* A set of strings (relative paths), open addressing; 100k files must not
 * make vacuum quadratic. */
struct strset {
	char **slot;
	size_t n, cap;
};

static size_t strset_find(const struct strset *s, const char *k)
{
	size_t mask = s->cap - 1;
	size_t i = hash_bytes(k, strlen(k), 0x5eed) & mask;
	while (s->slot[i] && strcmp(s->slot[i], k))
		i = (i + 1) & mask;
	return i;
}

static bool strset_has(const struct strset *s, const char *k)
{
	return s->cap && s->slot[strset_find(s, k)];
}

static void strset_add(struct strset *s, const char *k)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct strset t = {xcalloc(s->cap ? s->cap * 2 : 64, sizeof(char *)), 0, s->cap ? s->cap * 2 : 64};
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i]) {
				t.slot[strset_find(&t, s->slot[i])] = s->slot[i];
				t.n++;
			}
		free(s->slot);
		*s = t;
	}
	size_t i = strset_find(s, k);
	if (!s->slot[i]) {
		s->slot[i] = xstrdup(k);
		s->n++;
	}
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof *s);
}

/* ---- retention intervals ---- */

/* Table properties hold Spark CalendarInterval text: "interval 7 days",
 * "interval 1 week 12 hours", "168 hours".  Months and years are refused as
 * Delta refuses them (not a fixed length); weir's own "168h"/"7d" are also
 * accepted so one syntax works on the command line and in the table.
 * Returns microseconds, or -1. */
static int64_t interval_us(const char *s)
{
	int64_t us = duration_us(s);
	if (us >= 0)
		return us;
	static const struct {
		const char *name;
		int64_t us;
	} units[] = {
		{"week", 7 * 86400000000LL}, {"day", 86400000000LL}, {"hour", 3600000000LL},
		{"minute", 60000000LL},      {"second", 1000000LL},  {"millisecond", 1000LL},
		{"microsecond", 1LL},
	};
	const char *p = s;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!strncasecmp(p, "interval", 8) && (p[8] == ' ' || p[8] == '\t'))
		p += 8;
	int64_t total = 0;
	int terms = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		char *end;
		errno = 0;
		long long n = strtoll(p, &end, 10);
		if (end == p || errno || n < 0)
			return -1;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = 0;
		while (p[len] && p[len] != ' ' && p[len] != '\t')
			len++;
		size_t base = len > 1 && (p[len - 1] == 's' || p[len - 1] == 'S') ? len - 1 : len;
		size_t u;
		for (u = 0; u < sizeof units / sizeof *units; u++)
			if (strlen(units[u].name) == base && !strncasecmp(p, units[u].name, base))
				break;
		if (u == sizeof units / sizeof *units || (n && units[u].us > INT64_MAX / n) ||
		    total > INT64_MAX - n * units[u].us)
			return -1;
		total += n * units[u].us;
		terms++;
		p += len;
	}
	return terms ? total : -1;
}

/* The retention a table configures under `key`, or `dflt`. */
static int64_t table_interval(const struct delta_metadata *m, const char *key, int64_t dflt)
{
	const struct delta_kv *kv = delta_map_get(&m->configuration, key);
	if (!kv || !kv->val)
		return dflt;
	int64_t us = interval_us(kv->val);
	if (us < 0)
		die(EXIT_TROUBLE, "table property %s is not an interval: '%s'", key, kv->val);
	return us;
}

/* ---- progress on a terminal ---- */

static struct {
	bool on;
	int64_t last;
} progress;

static void progress_show(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress_show(const char *fmt, ...)
{
	if (!progress.on)
		return;
	int64_t now = mono_micros();
	if (now - progress.last < 200000)
		return;
	progress.last = now;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\r%s: %s\033[K", diag_prog, line);
}

static void progress_done(void)
{
	if (progress.on && progress.last) {
		fputs("\r\033[K", stderr);
		progress.last = 0;
	}
}

/* ---- paths that stay inside the table ---- */

/* The path of a log entry (a relative URI) as a path under the root,
 * percent-decoded once, with "." components dropped so that it compares
 * equal to what the walk finds.  Absolute paths, schemes and ".." (also
 * percent-encoded) die naming the entry: a vacuum cannot know what such a
 * file protects, so it must not run at all. */
static void log_path(const char *uri, struct buf *out)
{
	struct buf dec = BUF_INIT;
	if (!delta_uri_unescape(uri, &dec))
		die(EXIT_TROUBLE, "refusing table '%s': file path in the log is not a plain path inside the table: '%s'",
		    opt.table, uri);
	buf_reset(out);
	for (const char *p = buf_cstr(&dec); *p;) {
		const char *e = strchrnul(p, '/');
		if (!(e - p == 1 && *p == '.')) {
			if (out->len)
				buf_putc(out, '/');
			buf_put(out, p, (size_t)(e - p));
		}
		p = *e ? e + 1 : e;
	}
	if (!out->len)
		die(EXIT_TROUBLE, "refusing table '%s': file path in the log is not a plain path inside the table: '%s'",
		    opt.table, uri);
	buf_cstr(out);
	buf_free(&dec);
}

/* Open `rel` (normalised, relative) under the root, following no symbolic
 * link on the way: each directory is opened with O_NOFOLLOW from its parent's
 * descriptor, so a link swapped in at any moment fails with ELOOP or ENOTDIR
 * instead of leading out.  With dir_only the last component is not opened
 * and *base points at it: the returned descriptor is its directory. */
static int open_beneath(const char *rel, int flags, bool dir_only, const char **base)
{
	int fd = dup(root.fd);
	if (fd < 0)
		return -1;
	const char *p = rel;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash) {
			if (dir_only) {
				*base = p;
				return fd;
			}
			int f = openat(fd, p, flags | O_NOFOLLOW | O_CLOEXEC);
			int e = errno;
			close(fd);
			errno = e;
			return f;
		}
		char comp[NAME_MAX + 1];
		size_t n = (size_t)(slash - p);
		if (n > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (sub < 0) {
			errno = e;
			return -1;
		}
		fd = sub;
		p = slash + 1;
	}
}

/* Is `path` (absolute, resolved) the root or below it? */
static bool under_root(const char *path)
{
	size_t n = strlen(root.real);
	if (n == 1) /* the root is "/" */
		return true;
	return !strncmp(path, root.real, n) && (path[n] == 0 || path[n] == '/');
}

/* ---- the walk ---- */

struct found {
	char *path; /* relative to the root */
	int64_t size;
	int64_t mtime_ms;
};

struct dir {
	char *path;
	int64_t mtime_ms;
	bool empty; /* nothing at all in it when walked */
};

struct walk {
	const struct delta_metadata *meta;
	struct found *files;
	size_t nfiles, cap;
	struct dir *dirs; /* every directory below the root */
	size_t ndirs, dcap;
	int64_t bytes;
	bool refused; /* a symbolic link leads out: nothing may be deleted */
};

/* Spark's hidden-name rule: "." and "_" names are not data, except
 * partition directories of a partition column that itself starts with "_".
 * _change_data and _delta_index are left alone too: this tool does not
 * write change data feeds, and their files are not in the snapshot. */
static bool hidden_name(const struct walk *w, const char *name)
{
	if (name[0] == '.')
		return true;
	if (name[0] != '_')
		return false;
	const char *eq = strchr(name, '=');
	if (!eq)
		return true;
	for (size_t i = 0; i < w->meta->npartition_columns; i++) {
		const char *c = w->meta->partition_columns[i];
		if (strlen(c) == (size_t)(eq - name) && !strncmp(c, name, (size_t)(eq - name)))
			return false;
	}
	return true;
}

static void walk_symlink(struct walk *w, int dfd, const char *name, const char *rel)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);
	target[n > 0 ? n : 0] = 0;
	struct buf full = BUF_INIT;
	buf_printf(&full, "%s/%s", root.real, rel);
	char *res = realpath(buf_cstr(&full), NULL);
	if (!res) {
		warnx("symbolic link does not resolve: '%s' -> '%s'", rel, target);
		w->refused = true;
	} else if (!under_root(res)) {
		warnx("symbolic link leads out of the table: '%s' -> '%s'", rel, target);
		w->refused = true;
	} else {
		verbose(1, "not following symbolic link '%s' -> '%s'", rel, target);
	}
	free(res);
	buf_free(&full);
}

static void walk_add_dir(struct walk *w, const char *rel, const struct stat *st)
{
	if (w->ndirs == w->dcap) {
		w->dcap = w->dcap ? w->dcap * 2 : 64;
		w->dirs = xrealloc(w->dirs, w->dcap * sizeof *w->dirs);
	}
	w->dirs[w->ndirs++] = (struct dir){xstrdup(rel), mtime_ms(st), false};
}

/* Walk the directory open on dfd (closed here) whose path is rel; true when
 * it holds nothing at all. */
static bool walk_dir(struct walk *w, int dfd, struct buf *rel, int depth)
{
	if (depth > 64)
		die(EXIT_TROUBLE, "directories nested too deep in the table: '%s'", rel->p);
	DIR *d = fdopendir(dfd);
	if (!d)
		die_errno(EXIT_TROUBLE, "cannot read directory '%s'", depth ? rel->p : root.real);
	size_t base = rel->len;
	bool empty = true;
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		empty = false;
		if ((depth == 0 && !strcmp(name, DELTA_LOG)) || hidden_name(w, name))
			continue;
		rel->len = base;
		if (base)
			buf_putc(rel, '/');
		buf_puts(rel, name);
		buf_cstr(rel);
		struct stat st;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* gone since readdir: a writer's temporary file */
				continue;
			die_errno(EXIT_TROUBLE, "cannot stat '%s'", rel->p);
		}
		if (S_ISLNK(st.st_mode)) {
			walk_symlink(w, dirfd(d), name, rel->p);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				if (errno == ENOENT)
					continue;
				die_errno(EXIT_TROUBLE, "cannot open directory '%s'", rel->p);
			}
			size_t me = w->ndirs;
			walk_add_dir(w, rel->p, &st);
			w->dirs[me].empty = walk_dir(w, sub, rel, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			if (w->nfiles == w->cap) {
				w->cap = w->cap ? w->cap * 2 : 256;
				w->files = xrealloc(w->files, w->cap * sizeof *w->files);
			}
			w->files[w->nfiles++] = (struct found){xstrdup(rel->p), st.st_size, mtime_ms(&st)};
			w->bytes += st.st_size;
			progress_show("scanned %zu files", w->nfiles);
		} else {
			verbose(1, "leaving '%s' alone: not a regular file", rel->p);
		}
	}
	int e = errno;
	closedir(d);
	rel->len = base;
	buf_cstr(rel);
	if (e) {
		errno = e;
		die_errno(EXIT_TROUBLE, "cannot read directory '%s'", depth ? rel->p : root.real);
	}
	return empty;
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->nfiles; i++)
		free(w->files[i].path);
	for (size_t i = 0; i < w->ndirs; i++)
		free(w->dirs[i].path);
	free(w->files);
	free(w->dirs);
}

/* ---- removing files ---- */

/* The directory descriptor of the last file removed, so that removing the
 * files of one partition opens its directory once. */
static struct {
	char *dir;
	int fd;
} parent = {NULL, -1};

static void parent_close(void)
{
	if (parent.fd >= 0)
		close(parent.fd);
	free(parent.dir);
	parent.dir = NULL;
	parent.fd = -1;
}

/* The descriptor of rel's directory, opened beneath the root; *base is the
 * last component.  -1 with errno set on failure. */
static int parent_of(const char *rel, const char **base)
{
	const char *slash = strrchr(rel, '/');
	size_t n = slash ? (size_t)(slash - rel) : 0;
	*base = slash ? slash + 1 : rel;
	if (parent.fd >= 0 && strlen(parent.dir) == n && !strncmp(parent.dir, rel, n))
		return parent.fd;
	parent_close();
	const char *b;
	int fd = open_beneath(rel, 0, true, &b);
	if (fd < 0)
		return -1;
	parent.dir = xstrndup(rel, n);
	parent.fd = fd;
	return fd;
}

/* Remove one data file, and the ".NAME.crc" Hadoop writes beside it (it
 * belongs to the file and nothing else reads it).  Adds the bytes freed. */
static bool remove_file(const char *rel, int64_t *freed)
{
	const char *base;
	int dfd = parent_of(rel, &base);
	if (dfd < 0 || unlinkat(dfd, base, 0) < 0) {
		if (errno == ENOENT) /* a run killed earlier got it, or a concurrent one */
			return true;
		warnerr("cannot remove '%s'", rel);
		return false;
	}
	verbose(1, "removed '%s'", rel);
	char crc[NAME_MAX + 8];
	struct stat st;
	if (snprintf(crc, sizeof crc, ".%s.crc", base) < (int)sizeof crc &&
	    fstatat(dfd, crc, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && unlinkat(dfd, crc, 0) == 0)
		*freed += st.st_size;
	return true;
}

/* ---- --archive ---- */

/* The archive must be new (a rerun after a crash must not overwrite the
 * files an earlier run archived and then deleted) and outside the table
 * (where the next vacuum would take it for an orphan). */
static void archive_check(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		die(EXIT_TROUBLE, "archive already exists: '%s'", path);
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = 0;
	char *real = realpath(slash ? dir : ".", NULL);
	if (!real)
		die_errno(EXIT_TROUBLE, "cannot use archive directory of '%s'", path);
	if (under_root(real))
		die(EXIT_TROUBLE, "archive must be outside the table: '%s'", path);
	free(real);
	free(dir);
}

/* The archive's temporary file while it is being written: removed before
 * any error ends the run, so that a failed run leaves nothing behind. */
static char *archive_tmp;

static void archive_discard(void)
{
	int e = errno;
	unlink(archive_tmp);
	errno = e;
}

static void archive_fail(struct archive *a, const char *what)
{
	archive_discard();
	die(EXIT_TROUBLE, "cannot write archive '%s': %s: %s", opt.archive, what, archive_error_string(a));
}

/* Copy the files into a zstd-compressed tar at opt.archive: written under a
 * temporary name, synced, then linked to its name (never over an existing
 * file), so the archive is either whole or absent.  Only then may the files
 * be deleted. */
static void archive_files(struct found *const *files, size_t n)
{
	struct buf tmp = BUF_INIT;
	const char *slash = strrchr(opt.archive, '/');
	size_t dlen = slash ? (size_t)(slash - opt.archive) + 1 : 0;
	buf_printf(&tmp, "%.*s.%s.XXXXXX", (int)dlen, opt.archive, opt.archive + dlen);
	archive_tmp = buf_cstr(&tmp);
	int fd = mkstemp(archive_tmp);
	if (fd < 0)
		die_errno(EXIT_TROUBLE, "cannot create archive '%s'", opt.archive);
	struct archive *a = archive_write_new();
	if (!a || archive_write_add_filter_zstd(a) != ARCHIVE_OK || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK)
		archive_fail(a, "setup");
	char *chunk = xmalloc(1 << 16);
	int64_t done = 0;
	for (size_t i = 0; i < n; i++) {
		int in = open_beneath(files[i]->path, O_RDONLY, false, NULL);
		struct stat st;
		if (in < 0 || fstat(in, &st) < 0) {
			archive_discard();
			die_errno(EXIT_TROUBLE, "cannot read '%s'", files[i]->path);
		}
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, files[i]->path);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, st.st_mode & 07777);
		archive_entry_set_size(e, st.st_size);
		archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			archive_fail(a, files[i]->path);
		archive_entry_free(e);
		int64_t left = st.st_size;
		while (left > 0) {
			ssize_t r = read(in, chunk, left < (1 << 16) ? (size_t)left : (1 << 16));
			if (r <= 0) {
				archive_discard();
				if (r == 0)
					die(EXIT_TROUBLE, "cannot read '%s': shorter than it was", files[i]->path);
				die_errno(EXIT_TROUBLE, "cannot read '%s'", files[i]->path);
			}
			if (archive_write_data(a, chunk, (size_t)r) != r)
				archive_fail(a, files[i]->path);
			left -= r;
			done += r;
		}
		close(in);
		progress_show("archived %zu of %zu files", i + 1, n);
	}
	free(chunk);
	if (archive_write_close(a) != ARCHIVE_OK)
		archive_fail(a, "finish");
	archive_write_free(a);
	if (fsync(fd) < 0 || close(fd) < 0) {
		archive_discard();
		die_errno(EXIT_TROUBLE, "cannot write archive '%s'", opt.archive);
	}
	if (link(archive_tmp, opt.archive) < 0) {
		archive_discard();
		die_errno(EXIT_TROUBLE, "cannot create archive '%s'", opt.archive);
	}
	archive_discard();
	struct buf dir = BUF_INIT;
	buf_printf(&dir, "%.*s", dlen ? (int)dlen : 1, dlen ? opt.archive : ".");
	int dfd = open(buf_cstr(&dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		die_errno(EXIT_TROUBLE, "cannot sync the directory of archive '%s'", opt.archive);
	close(dfd);
	buf_free(&dir);
	buf_free(&tmp);
	archive_tmp = NULL;
	verbose(1, "archived %zu files (%lld bytes) to '%s'", n, (long long)done, opt.archive);
}

/* ---- the log directory ---- */

enum lf_kind { LF_COMMIT, LF_CHECKPOINT, LF_CRC, LF_COMPACTED, LF_CHECKPOINT_V2 };

struct logfile {
	char *name;
	enum lf_kind kind;
	int64_t version;
	int64_t end;       /* LF_COMPACTED: last version covered */
	int part, parts;   /* LF_CHECKPOINT: 1 of 1 when classic */
};

static bool digits(const char *s, int n, int64_t *out)
{
	int64_t v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Recognise the names PROTOCOL.md gives log entries; others are not ours. */
static bool logfile_parse(const char *name, struct logfile *f)
{
	int64_t a, b;
	if (!digits(name, 20, &f->version) || name[20] != '.')
		return false;
	const char *r = name + 21;
	f->part = f->parts = 1;
	f->end = f->version;
	if (!strcmp(r, "json"))
		f->kind = LF_COMMIT;
	else if (!strcmp(r, "crc"))
		f->kind = LF_CRC;
	else if (!strcmp(r, "checkpoint.parquet"))
		f->kind = LF_CHECKPOINT;
	else if (!strncmp(r, "checkpoint.", 11) && digits(r + 11, 10, &a) && r[21] == '.' &&
		 digits(r + 22, 10, &b) && !strcmp(r + 32, ".parquet") && a >= 1 && a <= b && b <= INT_MAX) {
		f->kind = LF_CHECKPOINT;
		f->part = (int)a;
		f->parts = (int)b;
	} else if (!strncmp(r, "checkpoint.", 11))
		f->kind = LF_CHECKPOINT_V2;
	else if (digits(r, 20, &f->end) && !strcmp(r + 20, ".compacted.json"))
		f->kind = LF_COMPACTED;
	else
		return false;
	f->name = xstrdup(name);
	return true;
}

static int logfile_cmp(const void *x, const void *y)
{
	const struct logfile *a = x, *b = y;
	if (a->version != b->version)
		return a->version < b->version ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The entries of _delta_log, by version. */
static struct logfile *log_list(size_t *n)
{
	int fd = openat(root.fd, DELTA_LOG, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d)
		die_errno(EXIT_TROUBLE, "cannot read '%s/%s'", opt.table, DELTA_LOG);
	struct logfile *v = NULL;
	size_t cap = 0;
	*n = 0;
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		struct logfile f;
		if (!logfile_parse(de->d_name, &f))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[(*n)++] = f;
	}
	if (errno)
		die_errno(EXIT_TROUBLE, "cannot read '%s/%s'", opt.table, DELTA_LOG);
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, logfile_cmp);
	return v;
}

static void log_free(struct logfile *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* Is there a complete classic or multi-part checkpoint at v[i].version?
 * (readers skip incomplete part sets, so must we) */
static bool checkpoint_complete(const struct logfile *v, size_t n, size_t i)
{
	if (v[i].kind != LF_CHECKPOINT)
		return false;
	int parts = v[i].parts;
	int seen = 0;
	for (size_t j = 0; j < n; j++)
		if (v[j].version == v[i].version && v[j].kind == LF_CHECKPOINT && v[j].parts == parts)
			seen++;
	return seen == parts;
}

/* The oldest version a reader can still reconstruct: 0 while the first
 * commit exists, else the oldest complete checkpoint. */
static int64_t oldest_version(void)
{
	size_t n;
	struct logfile *v = log_list(&n);
	int64_t oldest = -1;
	for (size_t i = 0; i < n && oldest < 0; i++)
		if ((v[i].kind == LF_COMMIT && v[i].version == 0) || checkpoint_complete(v, n, i))
			oldest = v[i].version;
	log_free(v, n);
	return oldest;
}

/* ---- the table ---- */

static struct delta_snapshot *open_table(int64_t version)
{
	char err[1024];
	struct delta_snapshot *s = delta_open(root.real, version, err, sizeof err);
	if (!s)
		die(EXIT_TROUBLE, "cannot read table '%s': %s", opt.table, err);
	return s;
}

/* Maintenance rewrites the table, so it needs every writer feature understood
 * (Delta's vacuumProtocolCheck asks the same of VACUUM). */
static struct delta_snapshot *open_for_maintenance(const char *job)
{
	struct delta_snapshot *s = open_table(DELTA_LATEST);
	char err[1024];
	if (delta_check_write(s, err, sizeof err) < 0)
		die(EXIT_TROUBLE, "refusing to %s table '%s': %s", job, opt.table, err);
	return s;
}

/* Protect the file at uri; with keep NULL only check its path (a crafted
 * path anywhere in the log refuses the table, expired or not). */
static void keep_path(struct strset *keep, const char *uri)
{
	struct buf p = BUF_INIT;
	log_path(uri, &p);
	if (keep)
		strset_add(keep, p.p);
	buf_free(&p);
}

/* Protect the files the commits after `from` up to `to` add. */
static void keep_commits(struct strset *keep, int64_t from, int64_t to)
{
	struct arena a = {0};
	char err[1024];
	for (int64_t v = from + 1; v <= to; v++) {
		struct value *acts;
		size_t n;
		int r = delta_read_commit(root.real, v, &a, &acts, &n, err, sizeof err);
		if (r != 0)
			die(EXIT_TROUBLE, "cannot read version %lld of table '%s': %s", (long long)v, opt.table,
			    r > 0 ? "missing" : err);
		for (size_t i = 0; i < n; i++) {
			struct value *add = value_getz(&acts[i], "add");
			struct value *path = add ? value_getz(add, "path") : NULL;
			if (!path)
				continue;
			if (path->type != V_STRING)
				die(EXIT_TROUBLE, "version %lld of table '%s': add without a path", (long long)v, opt.table);
			char *uri = xstrndup(path->s, path->n);
			keep_path(keep, uri);
			free(uri);
		}
		arena_reset(&a);
		progress_show("read version %lld of %lld", (long long)v, (long long)to);
	}
	arena_free(&a);
}

/* ---- vacuum ---- */

static int found_cmp(const void *x, const void *y)
{
	const struct found *a = *(const struct found *const *)x, *b = *(const struct found *const *)y;
	return strcmp(a->path, b->path);
}

static int dir_cmp(const void *x, const void *y)
{
	return strcmp(((const struct dir *)x)->path, ((const struct dir *)y)->path);
}

/* Note that something in rel's directory was removed. */
static void touch_parent(struct strset *touched, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	if (slash) {
		char *d = xstrndup(rel, (size_t)(slash - rel));
		strset_add(touched, d);
		free(d);
	}
}

/* The retention to use, after Delta's retentionDurationCheck. */
static int64_t file_retention(const struct delta_snapshot *s)
{
	int64_t table = table_interval(&s->meta, "delta.deletedFileRetentionDuration", DEFAULT_FILE_RETENTION_US);
	if (opt.retain_us < 0)
		return table;
	if (opt.retain_us < table && !opt.force_retention) {
		char a[32], b[32];
		human_duration(a, opt.retain_us);
		human_duration(b, table);
		die(EXIT_TROUBLE,
		    "retention %s is shorter than the table's %s: readers of older versions and writers "
		    "still in flight could lose files (--force-retention to do it anyway)",
		    a, b);
	}
	return opt.retain_us;
}

/* Every file a reader of a retained version may open: the live files of the
 * version current at the cutoff (readers "as of" any retained instant start
 * there) and everything added since, plus the tombstones still inside the
 * window by their deletionTimestamp.  The replay does not trust
 * deletionTimestamp alone: writers set it, and a wrong one must not cost a
 * time-travel reader its files. */
static int64_t keep_retained(struct strset *keep, const struct delta_snapshot *s, int64_t cutoff_ms)
{
	for (size_t i = 0; i < s->nfiles; i++)
		keep_path(keep, s->files[i].path);
	for (size_t i = 0; i < s->ntombstones; i++)
		keep_path(s->tombstones[i].time >= cutoff_ms ? keep : NULL, s->tombstones[i].path);
	char err[1024];
	int64_t from = delta_version_at(root.real, cutoff_ms, err, sizeof err);
	int64_t oldest = oldest_version();
	if (from < oldest) /* nothing that old, or the log was cleaned up past it */
		from = oldest;
	if (from < 0)
		die(EXIT_TROUBLE, "cannot read table '%s': no version to start from", opt.table);
	if (from < s->version) {
		struct delta_snapshot *old = open_table(from);
		for (size_t i = 0; i < old->nfiles; i++)
			keep_path(keep, old->files[i].path);
		delta_snapshot_free(old);
		keep_commits(keep, from, s->version);
	}
	return from;
}

/* What a vacuum found and did, for the summary. */
struct vacuum_result {
	int64_t retention, cutoff_ms, from, latest;
	size_t scanned, ngone, removed, failed, dirs;
	int64_t scanned_bytes, gone_bytes, freed;
	struct found **gone;
};

/* Remove the files (archived first with --archive), then the directories
 * that this emptied. */
static void vacuum_remove(struct vacuum_result *r, struct walk *w)
{
	if (opt.archive && r->ngone)
		archive_files(r->gone, r->ngone);
	struct strset touched = {0};
	for (size_t i = 0; i < r->ngone; i++) {
		if (remove_file(r->gone[i]->path, &r->freed)) {
			r->removed++;
			r->freed += r->gone[i]->size;
			touch_parent(&touched, r->gone[i]->path);
		} else {
			r->failed++;
		}
		char h[32];
		human_size(h, r->freed);
		progress_show("removed %zu of %zu files (%s)", i + 1, r->ngone, h);
	}
	/* In reverse path order a directory comes after everything below it,
	 * so emptying a partition lets its parent go too.  A writer makes its
	 * partition directory and then its file: a directory that changed
	 * since the cutoff may be one a writer is about to use, so it stays
	 * for a later run.  Only quiet ones go. */
	if (w->ndirs)
		qsort(w->dirs, w->ndirs, sizeof *w->dirs, dir_cmp);
	for (size_t i = w->ndirs; i-- > 0;) {
		const struct dir *d = &w->dirs[i];
		if (d->mtime_ms >= r->cutoff_ms || !(d->empty || strset_has(&touched, d->path)))
			continue;
		const char *base;
		int pfd = parent_of(d->path, &base);
		if (pfd >= 0 && unlinkat(pfd, base, AT_REMOVEDIR) == 0) {
			r->dirs++;
			verbose(1, "removed directory '%s'", d->path);
			touch_parent(&touched, d->path);
		}
	}
	parent_close();
	strset_free(&touched);
}

static void vacuum_report(const struct vacuum_result *r)
{
	char hret[32], hb[32], cut[40];
	human_duration(hret, r->retention);
	iso_ms(cut, r->cutoff_ms);
	size_t kept = r->scanned - r->ngone;
	if (opt.json) {
		buf_printf(&json, ",\"vacuum\":{\"version\":%lld,\"retention_hours\":%.6g,\"cutoff\":\"%s\","
				  "\"oldest_retained_version\":%lld,\"files_scanned\":%zu,\"bytes_scanned\":%lld,"
				  "\"files_kept\":%zu,",
			   (long long)r->latest, r->retention / 3600e6, cut, (long long)r->from, r->scanned,
			   (long long)r->scanned_bytes, kept);
		if (opt.dry_run) {
			buf_printf(&json, "\"files_to_delete\":%zu,\"bytes_to_delete\":%lld,\"files\":[", r->ngone,
				   (long long)r->gone_bytes);
			for (size_t i = 0; i < r->ngone; i++) {
				buf_puts(&json, i ? ",{\"path\":" : "{\"path\":");
				json_write_string(&json, r->gone[i]->path, strlen(r->gone[i]->path));
				buf_printf(&json, ",\"size\":%lld}", (long long)r->gone[i]->size);
			}
			buf_puts(&json, "]}");
		} else {
			buf_printf(&json,
				   "\"files_deleted\":%zu,\"bytes_freed\":%lld,\"dirs_removed\":%zu,\"failed\":%zu,\"archive\":",
				   r->removed, (long long)r->freed, r->dirs, r->failed);
			if (opt.archive && r->ngone)
				json_write_string(&json, opt.archive, strlen(opt.archive));
			else
				buf_puts(&json, "null");
			buf_puts(&json, "}");
		}
	} else if (opt.dry_run) {
		if (opt.quiet)
			return;
		for (size_t i = 0; i < r->ngone; i++)
			printf("%lld\t%s\n", (long long)r->gone[i]->size, r->gone[i]->path);
		human_size(hb, r->gone_bytes);
		printf("vacuum: would delete %zu files (%s), keep %zu; retention %s, versions %lld to %lld\n", r->ngone, hb,
		       kept, hret, (long long)r->from, (long long)r->latest);
	} else if (!opt.quiet) {
		human_size(hb, r->freed);
		printf("vacuum: %s %zu files (%s) and %zu directories, kept %zu; retention %s, versions %lld to %lld\n",
		       opt.archive && r->ngone ? "archived and deleted" : "deleted", r->removed, hb, r->dirs, kept, hret,
		       (long long)r->from, (long long)r->latest);
	}
}

static void vacuum(void)
{
	struct delta_snapshot *s = open_for_maintenance("vacuum");
	struct vacuum_result r = {.retention = file_retention(s)};
	r.cutoff_ms = now_micros() / 1000 - r.retention / 1000;

	struct strset keep = {0};
	r.from = keep_retained(&keep, s, r.cutoff_ms);

	struct walk w = {.meta = &s->meta};
	struct buf rel = BUF_INIT;
	int dfd = dup(root.fd);
	if (dfd < 0)
		die_errno(EXIT_TROUBLE, "cannot read table '%s'", opt.table);
	walk_dir(&w, dfd, &rel, 0);
	buf_free(&rel);
	if (w.refused)
		die(EXIT_TROUBLE, "refusing to vacuum table '%s': it links outside itself (nothing was deleted)",
		    opt.table);
	r.scanned = w.nfiles;
	r.scanned_bytes = w.bytes;

	/* A writer may have committed since the replay: its files are new
	 * (younger than the cutoff) unless the retention was forced short or
	 * it restored old files, so look once more just before deleting. */
	char err[1024];
	r.latest = delta_latest_version(root.real, err, sizeof err);
	if (r.latest < 0)
		die(EXIT_TROUBLE, "cannot read table '%s': %s", opt.table, r.latest == -1 ? "no commits" : err);
	keep_commits(&keep, s->version, r.latest);

	r.gone = xmalloc((w.nfiles + 1) * sizeof *r.gone);
	for (size_t i = 0; i < w.nfiles; i++)
		if (w.files[i].mtime_ms < r.cutoff_ms && !strset_has(&keep, w.files[i].path)) {
			r.gone[r.ngone++] = &w.files[i];
			r.gone_bytes += w.files[i].size;
		}
	qsort(r.gone, r.ngone, sizeof *r.gone, found_cmp);
	if (!opt.dry_run)
		vacuum_remove(&r, &w);
	if (r.failed)
		status = EXIT_NEGATIVE;
	progress_done();
	vacuum_report(&r);
	free(r.gone);
	walk_free(&w);
	strset_free(&keep);
	delta_snapshot_free(s);
}

/* ---- --optimize ---- */

/* The files of one partition that are worth rewriting. */
struct part {
	char *dir; /* Hive-style directory of the partition, "" when unpartitioned */
	const struct delta_file **files;
	size_t n, cap;
};

struct member {
	char *dir;
	const struct delta_file *f;
};

static int member_cmp(const void *x, const void *y)
{
	const struct member *a = x, *b = y;
	int c = strcmp(a->dir, b->dir);
	return c ? c : strcmp(a->f->path, b->f->path);
}

static void partition_dir(struct buf *b, const struct delta_metadata *m, const struct delta_file *f)
{
	buf_reset(b);
	for (size_t i = 0; i < m->npartition_columns; i++) {
		const char *c = m->partition_columns[i];
		const struct delta_kv *kv = delta_map_get(&f->partition_values, c);
		delta_hive_escape(b, c);
		buf_putc(b, '=');
		delta_hive_escape(b, kv && kv->val && *kv->val ? kv->val : NULL);
		buf_putc(b, '/');
	}
	buf_cstr(b);
}

/* Small files grouped by partition, partitions and files in path order. */
static struct part *small_files(const struct delta_snapshot *s, const struct delta_pred *pred, size_t *nparts)
{
	struct member *m = xmalloc((s->nfiles + 1) * sizeof *m);
	size_t n = 0;
	struct buf dir = BUF_INIT;
	for (size_t i = 0; i < s->nfiles; i++) {
		const struct delta_file *f = &s->files[i];
		if (f->size >= opt.target_size || (pred && !delta_pred_all_match(pred, &s->meta, f)))
			continue;
		partition_dir(&dir, &s->meta, f);
		m[n++] = (struct member){xstrdup(dir.p), f};
	}
	buf_free(&dir);
	qsort(m, n, sizeof *m, member_cmp);
	struct part *parts = xmalloc((n + 1) * sizeof *parts);
	*nparts = 0;
	for (size_t i = 0; i < n; i++) {
		if (!*nparts || strcmp(parts[*nparts - 1].dir, m[i].dir))
			parts[(*nparts)++] = (struct part){m[i].dir, NULL, 0, 0};
		else
			free(m[i].dir);
		struct part *p = &parts[*nparts - 1];
		if (p->n == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 16;
			p->files = xrealloc(p->files, p->cap * sizeof *p->files);
		}
		p->files[p->n++] = m[i].f;
	}
	free(m);
	return parts;
}

/* The table schema without its partition columns: what data files hold. */
static struct type *data_schema(const struct delta_metadata *m, const char ***cols, size_t *ncols)
{
	struct type *t = type_new(T_STRUCT);
	*cols = xmalloc((m->schema->nfields + 1) * sizeof **cols);
	*ncols = 0;
	for (size_t i = 0; i < m->schema->nfields; i++) {
		const struct field *f = &m->schema->fields[i];
		bool part = false;
		for (size_t j = 0; j < m->npartition_columns && !part; j++)
			part = !strcasecmp(m->partition_columns[j], f->name);
		if (part)
			continue;
		type_add_field(t, f->name, type_clone(f->type), f->nullable);
		(*cols)[(*ncols)++] = f->name;
	}
	return t;
}

/* Make the directories of rel (which ends in a file name) beneath the root,
 * following no link, and return the descriptor of the last one. */
static int make_dirs(const char *rel, const char **base)
{
	int fd = dup(root.fd);
	const char *p = rel;
	const char *slash;
	while (fd >= 0 && (slash = strchr(p, '/'))) {
		char *comp = xstrndup(p, (size_t)(slash - p));
		if (mkdirat(fd, comp, 0777) < 0 && errno != EEXIST)
			die_errno(EXIT_TROUBLE, "cannot create directory for '%s'", rel);
		int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			die_errno(EXIT_TROUBLE, "cannot open directory for '%s'", rel);
		free(comp);
		close(fd);
		fd = sub;
		p = slash + 1;
	}
	if (fd < 0)
		die_errno(EXIT_TROUBLE, "cannot read table '%s'", opt.table);
	*base = p;
	return fd;
}

struct written {
	char *rel; /* file made, relative to the root */
	struct delta_file add;
};

/* Rewrite the files of one bin into one new file in their partition
 * directory.  The new file's path goes through /proc/self/fd of a directory
 * opened beneath the root, so the writer cannot be led out either. */
static void write_bin(const struct delta_snapshot *s, const struct type *schema, const char *const *cols, size_t ncols,
		      const struct part *p, size_t first, size_t n, struct written *out)
{
	char err[1024];
	struct delta_file *in = xmalloc(n * sizeof *in);
	for (size_t i = 0; i < n; i++) {
		in[i] = *p->files[first + i];
		struct buf rel = BUF_INIT;
		log_path(in[i].path, &rel);
		int fd = open_beneath(rel.p, O_RDONLY, false, NULL);
		if (fd < 0)
			die_errno(EXIT_TROUBLE, "cannot open '%s' inside the table without following links", rel.p);
		close(fd);
		buf_free(&rel);
	}
	char uuid[37];
	delta_uuid(uuid);
	struct buf rel = BUF_INIT;
	buf_printf(&rel, "%spart-00000-%s-c000.zstd.parquet", p->dir, uuid);
	const char *base;
	int dfd = make_dirs(rel.p, &base);
	struct buf full = BUF_INIT;
	buf_printf(&full, "/proc/self/fd/%d/%s", dfd, base);

	struct pq_write_opts wo;
	pq_write_opts_default(&wo);
	struct pq_writer *pw = pq_writer_open(buf_cstr(&full), schema, &wo, err, sizeof err);
	if (!pw)
		die(EXIT_TROUBLE, "cannot write '%s': %s", rel.p, err);
	struct delta_scan *sc = delta_scan_open(s, in, n, cols, ncols, NULL, err, sizeof err);
	if (!sc) {
		pq_writer_abort(pw);
		die(EXIT_TROUBLE, "cannot read files of partition '%s': %s", p->dir, err);
	}
	struct arena a = {0};
	struct value row;
	int r;
	while ((r = delta_scan_next(sc, &a, &row, err, sizeof err)) > 0) {
		if (pq_write_row(pw, &row, err, sizeof err) < 0) {
			pq_writer_abort(pw);
			die(EXIT_TROUBLE, "cannot rewrite a row of partition '%s': %s", p->dir, err);
		}
		arena_reset(&a);
	}
	if (r < 0) {
		pq_writer_abort(pw);
		die(EXIT_TROUBLE, "cannot read files of partition '%s': %s", p->dir, err);
	}
	delta_scan_close(sc);
	arena_free(&a);
	struct pq_file_stats st;
	if (pq_writer_close(pw, &st, err, sizeof err) < 0)
		die(EXIT_TROUBLE, "cannot write '%s': %s", rel.p, err);
	close(dfd);

	struct buf stats = BUF_INIT, uri = BUF_INIT;
	delta_stats_json(&stats, &st, schema);
	delta_uri_escape(&uri, rel.p);
	memset(&out->add, 0, sizeof out->add);
	out->add.path = xstrdup(buf_cstr(&uri));
	delta_map_copy(&out->add.partition_values, &p->files[first]->partition_values);
	out->add.size = st.file_bytes;
	out->add.time = now_micros() / 1000;
	out->add.stats = xstrdup(buf_cstr(&stats));
	out->add.data_change = false;
	out->rel = xstrdup(rel.p);
	pq_file_stats_free(&st);
	buf_free(&stats);
	buf_free(&uri);
	buf_free(&full);
	buf_free(&rel);
	free(in);
}

/* The compaction to do: small files by partition, packed into bins. */
struct plan {
	struct part *parts;
	size_t nparts;
	struct bin {
		size_t part, first, n;
		int64_t bytes;
	} *bins;
	size_t nbins, nin, ncompacted;
	int64_t in_bytes;
};

/* Bin-pack in path order: a bin closes when the next file would take it
 * past the target; a bin of one file gains nothing and is dropped. */
static void plan_bins(struct plan *pl)
{
	size_t cap = 0;
	for (size_t j = 0; j < pl->nparts; j++) {
		const struct part *p = &pl->parts[j];
		size_t had = pl->nbins, first = 0;
		int64_t sum = 0;
		for (size_t i = 0; i <= p->n; i++) {
			if (i == p->n || (i > first && sum + p->files[i]->size > opt.target_size)) {
				if (i - first > 1) {
					if (pl->nbins == cap) {
						cap = cap ? cap * 2 : 16;
						pl->bins = xrealloc(pl->bins, cap * sizeof *pl->bins);
					}
					pl->bins[pl->nbins++] = (struct bin){j, first, i - first, sum};
					pl->nin += i - first;
					pl->in_bytes += sum;
				}
				first = i;
				sum = 0;
			}
			if (i < p->n)
				sum += p->files[i]->size;
		}
		pl->ncompacted += pl->nbins > had;
	}
}

/* Write the bins and commit them as one version of dataChange=false
 * removes and adds.  Returns the version, or -1 when a conflicting commit
 * won (the new files are removed again). */
static int64_t compact(const struct delta_snapshot *s, const struct plan *pl, int64_t *out_bytes)
{
	const char **cols;
	size_t ncols;
	struct type *schema = data_schema(&s->meta, &cols, &ncols);
	struct written *made = xcalloc(pl->nbins, sizeof *made);
	struct delta_file *adds = xcalloc(pl->nbins, sizeof *adds);
	struct delta_file *removes = xcalloc(pl->nin, sizeof *removes);
	size_t nr = 0;
	for (size_t b = 0; b < pl->nbins; b++) {
		const struct bin *bin = &pl->bins[b];
		write_bin(s, schema, cols, ncols, &pl->parts[bin->part], bin->first, bin->n, &made[b]);
		adds[b] = made[b].add;
		*out_bytes += made[b].add.size;
		for (size_t i = 0; i < bin->n; i++) {
			struct delta_file *r = &removes[nr++];
			delta_file_copy(r, pl->parts[bin->part].files[bin->first + i]);
			r->data_change = false;
		}
		progress_show("compacted %zu of %zu bins", b + 1, pl->nbins);
	}
	/* commitInfo as Spark's OPTIMIZE writes it: the predicate is a JSON
	 * array in a string */
	struct buf pred = BUF_INIT, params = BUF_INIT, metrics = BUF_INIT;
	buf_putc(&pred, '[');
	if (opt.where)
		json_write_string(&pred, opt.where, strlen(opt.where));
	buf_putc(&pred, ']');
	buf_puts(&params, "{\"predicate\":");
	json_write_string(&params, pred.p, pred.len);
	buf_puts(&params, ",\"zOrderBy\":\"[]\",\"auto\":false}");
	buf_printf(&metrics,
		   "{\"numRemovedFiles\":\"%zu\",\"numAddedFiles\":\"%zu\",\"numRemovedBytes\":\"%lld\","
		   "\"numAddedBytes\":\"%lld\"}",
		   pl->nin, pl->nbins, (long long)pl->in_bytes, (long long)*out_bytes);
	/* What compaction read is exactly the files it removes: blind appends
	 * meanwhile do not touch them and are retried past; a concurrent delete
	 * or compaction of any of them is a conflict. */
	struct delta_commit c = {
		.read_version = s->version,
		.adds = adds,
		.nadds = pl->nbins,
		.removes = removes,
		.nremoves = nr,
		.operation = "OPTIMIZE",
		.operation_parameters = buf_cstr(&params),
		.operation_metrics = buf_cstr(&metrics),
	};
	char err[1024];
	int64_t version = -1;
	int r = delta_commit(root.real, &c, &version, err, sizeof err);
	/* an error after the version was linked (its directory not synced)
	 * still leaves the commit in: then the new files are the table's */
	if (r != DELTA_OK && version < 0) {
		for (size_t b = 0; b < pl->nbins; b++) {
			const char *base;
			int pfd = parent_of(made[b].rel, &base);
			if (pfd < 0 || unlinkat(pfd, base, 0) < 0)
				warnerr("cannot remove '%s' after the failed commit", made[b].rel);
		}
		parent_close();
	}
	if (r == DELTA_CONFLICT) {
		warnx("compaction of table '%s' not committed: %s", opt.table, err);
		status = EXIT_NEGATIVE;
	} else if (r != DELTA_OK) {
		die(EXIT_TROUBLE, "cannot commit to table '%s': %s", opt.table, err);
	} else if (version % delta_checkpoint_interval(&s->meta) == 0 &&
		   delta_checkpoint(root.real, version, err, sizeof err) < 0) {
		warnx("checkpoint at version %lld failed (the compaction stands): %s", (long long)version, err);
	}
	for (size_t b = 0; b < pl->nbins; b++) {
		delta_file_free(&made[b].add);
		free(made[b].rel);
	}
	for (size_t i = 0; i < nr; i++)
		delta_file_free(&removes[i]);
	free(made);
	free(adds);
	free(removes);
	free(cols);
	type_free(schema);
	buf_free(&pred);
	buf_free(&params);
	buf_free(&metrics);
	return r == DELTA_OK ? version : -1;
}

static void optimize(void)
{
	struct delta_snapshot *s = open_for_maintenance("optimize");
	char err[1024];
	struct delta_pred *pred = NULL;
	if (opt.where) {
		pred = delta_pred_parse(opt.where, err, sizeof err);
		if (!pred || !delta_pred_bind(pred, &s->meta, true, err, sizeof err))
			die(EXIT_TROUBLE, "invalid --where '%s': %s", opt.where, err);
	}
	struct plan pl = {0};
	pl.parts = small_files(s, pred, &pl.nparts);
	plan_bins(&pl);

	int64_t version = s->version, out_bytes = 0;
	bool committed = false;
	if (opt.dry_run) {
		if (!opt.json && !opt.quiet)
			for (size_t b = 0; b < pl.nbins; b++)
				printf("%lld\t%zu files\t%s\n", (long long)pl.bins[b].bytes, pl.bins[b].n,
				       *pl.parts[pl.bins[b].part].dir ? pl.parts[pl.bins[b].part].dir : "/");
	} else if (pl.nbins) {
		int64_t v = compact(s, &pl, &out_bytes);
		committed = v >= 0;
		if (committed)
			version = v;
	}
	progress_done();

	/* a dry run reports the plan; a lost commit, that nothing changed */
	bool done = opt.dry_run || committed;
	char hin[32], hout[32];
	human_size(hin, pl.in_bytes);
	human_size(hout, out_bytes);
	if (opt.json) {
		buf_printf(&json,
			   ",\"optimize\":{\"read_version\":%lld,\"version\":%lld,\"files_removed\":%zu,\"bytes_removed\":%lld,"
			   "\"files_added\":%zu,\"bytes_added\":%lld,\"partitions\":%zu,\"committed\":%s}",
			   (long long)s->version, (long long)version, done ? pl.nin : 0, (long long)(done ? pl.in_bytes : 0),
			   done ? pl.nbins : 0, (long long)(committed ? out_bytes : 0), done ? pl.ncompacted : 0,
			   committed ? "true" : "false");
	} else if (!opt.quiet) {
		if (!pl.nbins)
			printf("optimize: nothing to compact at version %lld\n", (long long)version);
		else if (opt.dry_run)
			printf("optimize: would compact %zu files (%s) into %zu in %zu partitions\n", pl.nin, hin, pl.nbins,
			       pl.ncompacted);
		else if (committed)
			printf("optimize: compacted %zu files (%s) into %zu (%s) in %zu partitions, version %lld\n", pl.nin,
			       hin, pl.nbins, hout, pl.ncompacted, (long long)version);
	}
	for (size_t j = 0; j < pl.nparts; j++) {
		free(pl.parts[j].dir);
		free(pl.parts[j].files);
	}
	free(pl.parts);
	free(pl.bins);
	delta_pred_free(pred);
	delta_snapshot_free(s);
}

/* ---- --checkpoint ---- */

static void checkpoint(void)
{
	struct delta_snapshot *s = open_for_maintenance("checkpoint");
	char err[1024];
	if (!opt.dry_run && delta_checkpoint(root.real, s->version, err, sizeof err) < 0)
		die(EXIT_TROUBLE, "cannot write a checkpoint of table '%s': %s", opt.table, err);
	if (opt.json)
		buf_printf(&json, ",\"checkpoint\":{\"version\":%lld}", (long long)s->version);
	else if (!opt.quiet)
		printf("checkpoint: %sversion %lld\n", opt.dry_run ? "would write " : "", (long long)s->version);
	delta_snapshot_free(s);
}

/* ---- --log-cleanup ---- */

/* Temporary files in _delta_log/.tmp that a killed writer left: anything
 * older than the log cutoff is long abandoned (a live commit's temporary
 * file lives for milliseconds). */
static size_t stale_temporaries(int lfd, int64_t cutoff_ms)
{
	int fd = openat(lfd, ".tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	size_t n = 0;
	struct dirent *de;
	struct stat st;
	while ((de = readdir(d)))
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    mtime_ms(&st) < cutoff_ms) {
			if (opt.dry_run) {
				if (!opt.json && !opt.quiet)
					printf("%s/.tmp/%s\n", DELTA_LOG, de->d_name);
				n++;
			} else if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
				verbose(1, "removed '%s/.tmp/%s'", DELTA_LOG, de->d_name);
				n++;
			}
		}
	closedir(d);
	return n;
}

/* Delete the log entries older than the log retention that the newest
 * checkpoint at or before the cutoff makes unnecessary (Spark's
 * MetadataCleanup): the cutoff is truncated to midnight UTC as Spark does,
 * nothing is deleted without such a checkpoint (a log without its start
 * is an unreadable table), the checkpoint is read back before anything
 * goes, and entries go oldest first so that a killed run leaves a log that
 * still starts somewhere. */
static void log_cleanup(void)
{
	struct delta_snapshot *s = open_for_maintenance("clean up the log of");
	int64_t table = table_interval(&s->meta, "delta.logRetentionDuration", DEFAULT_LOG_RETENTION_US);
	int64_t retention = opt.log_retain_us >= 0 ? opt.log_retain_us : table;
	if (retention < table && !opt.force_retention) {
		char a[32], b[32];
		human_duration(a, retention);
		human_duration(b, table);
		die(EXIT_TROUBLE,
		    "log retention %s is shorter than the table's %s: time travel would end sooner than "
		    "promised (--force-retention to do it anyway)",
		    a, b);
	}
	const struct delta_kv *kv = delta_map_get(&s->meta.configuration, "delta.enableExpiredLogCleanup");
	bool disabled = kv && kv->val && !strcasecmp(kv->val, "false");
	int64_t day = 86400000;
	int64_t cutoff_ms = (now_micros() / 1000 - retention / 1000) / day * day;

	size_t n;
	struct logfile *v = log_list(&n);
	char err[1024];
	int64_t at_cutoff = delta_version_at(root.real, cutoff_ms, err, sizeof err);
	int64_t keep_from = -1;
	for (size_t i = 0; i < n && !disabled && at_cutoff >= 0; i++)
		if (v[i].version <= at_cutoff && v[i].version <= s->version && checkpoint_complete(v, n, i))
			keep_from = v[i].version;
	if (keep_from > 0) {
		struct delta_snapshot *c = open_table(keep_from);
		if (c->checkpoint != keep_from)
			die(EXIT_TROUBLE, "cannot clean up the log of '%s': checkpoint %lld is not usable", opt.table,
			    (long long)keep_from);
		delta_snapshot_free(c);
	}
	size_t removed = 0, failed = 0;
	int lfd = openat(root.fd, DELTA_LOG, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (lfd < 0)
		die_errno(EXIT_TROUBLE, "cannot open '%s/%s'", opt.table, DELTA_LOG);
	for (size_t i = 0; i < n && keep_from > 0; i++) {
		if (v[i].version >= keep_from || v[i].end >= keep_from)
			continue;
		if (opt.dry_run) {
			if (!opt.json && !opt.quiet)
				printf("%s/%s\n", DELTA_LOG, v[i].name);
			removed++;
		} else if (unlinkat(lfd, v[i].name, 0) == 0 || errno == ENOENT) {
			verbose(1, "removed '%s/%s'", DELTA_LOG, v[i].name);
			removed++;
		} else {
			warnerr("cannot remove '%s/%s'", DELTA_LOG, v[i].name);
			failed++;
			break; /* keep the log contiguous: never delete past a hole */
		}
		progress_show("removed %zu log files", removed);
	}
	size_t temps = disabled ? 0 : stale_temporaries(lfd, cutoff_ms);
	if (!opt.dry_run && removed + temps && fsync(lfd) < 0)
		die_errno(EXIT_TROUBLE, "cannot sync '%s/%s'", opt.table, DELTA_LOG);
	close(lfd);
	progress_done();
	if (failed)
		status = EXIT_NEGATIVE;
	if (removed && !opt.dry_run) /* never leave a table that does not open */
		delta_snapshot_free(open_table(DELTA_LATEST));

	char cut[40];
	iso_ms(cut, cutoff_ms);
	if (opt.json) {
		buf_printf(&json,
			   ",\"log_cleanup\":{\"cutoff\":\"%s\",\"checkpoint\":%lld,\"%s\":%zu,\"temporaries\":%zu,"
			   "\"failed\":%zu,\"disabled\":%s}",
			   cut, (long long)keep_from, opt.dry_run ? "files_to_delete" : "files_deleted", removed, temps,
			   failed, disabled ? "true" : "false");
	} else if (!opt.quiet) {
		const char *verb = opt.dry_run ? "would delete" : "deleted";
		if (disabled)
			printf("log-cleanup: disabled by the table (delta.enableExpiredLogCleanup=false)\n");
		else if (keep_from <= 0)
			printf("log-cleanup: no checkpoint at or before %s, no log entry deleted; %s %zu stale temporary files\n",
			       cut, verb, temps);
		else
			printf("log-cleanup: %s %zu log files before checkpoint %lld and %zu stale temporary files\n", verb,
			       removed, (long long)keep_from, temps);
	}
	log_free(v, n);
	delta_snapshot_free(s);
}

/* ---- main ---- */

static void open_root(void)
{
	root.fd = open(opt.table, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root.fd < 0)
		die_errno(EXIT_TROUBLE, "cannot open table '%s'", opt.table);
	root.real = realpath(opt.table, NULL);
	if (!root.real)
		die_errno(EXIT_TROUBLE, "cannot open table '%s'", opt.table);
	struct stat st;
	if (fstatat(root.fd, DELTA_LOG, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		die(EXIT_TROUBLE, "refusing to touch table '%s': '%s' is a symbolic link", opt.table, DELTA_LOG);
}

/* The jobs, in the order that lets each build on the one before: a
 * compaction's tombstones wait in the window while vacuum removes older
 * ones, and the checkpoint is what log cleanup stands on. */
static void run(void)
{
	open_root();
	if (opt.archive && !opt.dry_run)
		archive_check(opt.archive);
	progress.on = isatty(STDERR_FILENO);
	if (opt.json) {
		buf_puts(&json, "{\"table\":");
		json_write_string(&json, opt.table, strlen(opt.table));
		buf_printf(&json, ",\"dry_run\":%s", opt.dry_run ? "true" : "false");
	}
	if (opt.optimize)
		optimize();
	if (opt.vacuum)
		vacuum();
	if (opt.checkpoint)
		checkpoint();
	if (opt.log_cleanup)
		log_cleanup();
	if (opt.json) {
		buf_puts(&json, "}\n");
		fwrite(json.p, 1, json.len, stdout);
	}
	buf_free(&json);
	close(root.fd);
	free(root.real);
}

static int64_t parse_retention(const char *s, const char *what)
{
	int64_t us = interval_us(s);
	if (us < 0)
		die(EXIT_TROUBLE, "invalid %s: '%s' (want e.g. 168h, 7d, 'interval 2 weeks')", what, s);
	return us;
}

int main(int argc, char **argv)
{
	diag_init("weir-lake-vacuum");
	bool sized = false;
	int c;
	while ((c = getopt_long(argc, argv, "a:cjLl:nOqr:s:vw:", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': opt.archive = optarg; break;
		case 'c': opt.checkpoint = true; break;
		case 'j': opt.json = true; break;
		case 'L': opt.log_cleanup = true; break;
		case 'l': opt.log_retain_us = parse_retention(optarg, "log retention"); break;
		case 'n': opt.dry_run = true; break;
		case 'O': opt.optimize = true; break;
		case 'q': opt.quiet = true; break;
		case 'r': opt.retain_us = parse_retention(optarg, "retention"); break;
		case 's':
			opt.target_size = parse_size(optarg, "target size");
			sized = true;
			break;
		case 'v': diag_verbose++; break;
		case 'w': opt.where = optarg; break;
		case OPT_FORCE_RETENTION: opt.force_retention = true; break;
		case OPT_VACUUM: opt.vacuum = true; break;
		default: opt_common(c, help);
		}
	}
	if (optind != argc - 1)
		usage_error(help, optind < argc ? "one TABLE at a time" : "missing TABLE");
	opt.table = argv[optind];
	if (!opt.optimize && !opt.checkpoint && !opt.log_cleanup)
		opt.vacuum = true;
	if ((sized || opt.where) && !opt.optimize)
		usage_error(help, "--target-size and --where go with --optimize");
	if ((opt.archive || opt.retain_us >= 0) && !opt.vacuum)
		usage_error(help, "--archive and --retain go with vacuum");
	if (opt.log_retain_us >= 0 && !opt.log_cleanup)
		usage_error(help, "--log-retention goes with --log-cleanup");
	if (opt.target_size < 1024)
		usage_error(help, "--target-size must be at least 1k");

	run();
	return finish_stdout(status);
}
