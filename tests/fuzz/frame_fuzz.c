/* frame_fuzz.c - libFuzzer target for the framed reader (and NDJSON reader:
 * the reader detects which from the first bytes, so both get fuzzed).
 *
 * Every record read must re-encode and decode to an equal value; nothing
 * may read outside the input or allocate beyond what it justifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "record.h"
#include "value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("frame_fuzz", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	struct rec_reader *r = rec_reader_open(fd, "fuzz");
	struct record rec;
	struct buf b = BUF_INIT;
	struct arena a = {0};
	int guard = 0;
	while (rec_read(r, &rec) != REC_EOF && guard++ < 100000) {
		if (rec.kind == REC_BAD)
			continue;
		buf_reset(&b);
		frame_put_value(&b, &rec.v);
		const unsigned char *p = (const unsigned char *)b.p;
		struct value w;
		if (frame_get_value(&a, &p, p + b.len, &w) || p != (const unsigned char *)b.p + b.len)
			abort();
		if (!value_eq(&rec.v, &w))
			abort();
		arena_reset(&a);
	}
	rec_reader_close(r);
	close(fd);
	buf_free(&b);
	arena_free(&a);
	return 0;
}
