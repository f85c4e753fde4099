/* lines_fuzz.c - libFuzzer target for records from files and archives.
 *
 * The input is a file: plain, or (by its first bytes) compressed or an
 * archive that libarchive opens.  Reading it must end, without a crash, an
 * allocation beyond the limits, or a record that holds its own delimiter;
 * record numbers must grow within a member.  The first byte picks the
 * delimiter (one byte, or two) and is part of the file too, so archives and
 * compressed streams keep their magic when the corpus has them whole. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("lines", 0);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	/* the file twice, under two names, so inputs follow one another */
	char path[64], again[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	snprintf(again, sizeof again, "/proc/self/fd/%d", fd);
	char *paths[] = {path, again};
	static const char *delims[] = {"\n", "\0", "||", "\r\n"};
	const char *d = delims[size ? data[0] % 4 : 0];
	size_t dlen = size && data[0] % 4 >= 2 ? 2 : 1;
	struct lines *l = lines_open(paths, 2, d, dlen, 4096);
	struct lines_rec r;
	int rc;
	const char *last_source = NULL;
	int32_t last_member = -1;
	uint64_t last = 0;
	while ((rc = lines_next(l, &r)) != 0) {
		if (rc < 0)
			continue;
		if (r.source != last_source || r.member_index != last_member)
			last = 0;
		if (r.number <= last)
			abort(); /* numbers go backwards */
		last = r.number;
		last_source = r.source;
		last_member = r.member_index;
		if (!r.err && (!r.n || memmem(r.p, r.n, d, dlen)))
			abort(); /* an empty record, or one that holds its delimiter */
		if (r.n > 4096 && !r.err)
			abort();
	}
	lines_close(l);
	close(fd);
	return 0;
}
