/* decimal-format.c - decimal_format against a plain digit-by-digit
 * rendering: the edge values (zero, below one, 64-bit and 128-bit limits,
 * scales 0 to 38) and pseudo-random values of every length at every scale.
 * Built and run by tests/parse.bats; prints each mismatch and exits 1 if any. */
#include <stdio.h>
#include <string.h>

#include "value.h"

/* the text decimal_format promises: '-', the whole digits (at least one),
 * '.' and exactly scale digits when scale > 0 */
static void reference(char *out, int128_t x, int scale)
{
	unsigned __int128 u = x < 0 ? -(unsigned __int128)x : (unsigned __int128)x;
	char d[64];
	int n = 0;
	do {
		d[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	while (n <= scale)
		d[n++] = '0';
	char *o = out;
	if (x < 0)
		*o++ = '-';
	while (n > 0) {
		if (n == scale)
			*o++ = '.';
		*o++ = d[--n];
	}
	*o = 0;
}

static int failures;

static void check(int128_t x, int scale)
{
	char want[64], got[64];
	memset(got, 'x', sizeof got);
	reference(want, x, scale);
	int len = decimal_format(got, x, scale);
	if (len < 0 || len > 41 || (size_t)len != strlen(want) || memcmp(got, want, (size_t)len + 1)) {
		got[sizeof got - 1] = 0;
		printf("scale %d: want %s, got %.*s (length %d)\n", scale, want, len > 0 && len < 64 ? len : 0, got,
		       len);
		failures++;
	}
}

int main(void)
{
	const int128_t int128_min = (int128_t)((unsigned __int128)1 << 127);
	const int128_t int128_max = (int128_t)(((unsigned __int128)1 << 127) - 1);
	int128_t edges[] = {0, 1, -1, 5, -5, 9, 10, 99, 100, 101, 999, 1000, INT64_MAX, INT64_MIN,
			    (int128_t)UINT64_MAX, -(int128_t)UINT64_MAX, (int128_t)UINT64_MAX + 1,
			    pow10_128(18) - 1, pow10_128(18), pow10_128(19) - 1, pow10_128(19), pow10_128(19) + 1,
			    pow10_128(20) - 1, pow10_128(38) - 1, -(pow10_128(38) - 1), int128_min, int128_max};
	for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
		for (int scale = 0; scale <= 38; scale++)
			check(edges[i], scale);
	/* every power of ten and its neighbours, where the digit count turns */
	for (int k = 0; k <= 38; k++)
		for (int scale = 0; scale <= 38; scale++)
			for (int d = -1; d <= 1; d++) {
				check(pow10_128(k) + d, scale);
				check(-pow10_128(k) - d, scale);
			}
	/* values of each length from a fixed generator */
	uint64_t s = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 200000; i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		uint64_t t = s * 0x2545f4914f6cdd1dull;
		unsigned __int128 u = (unsigned __int128)t << 64 | s;
		u >>= i % 128;
		int128_t x = (int128_t)(u >> 1);
		check(i & 1 ? -x : x, i % 39);
	}
	check(pow10_128(2) * -5 / 100, 2); /* -0.05 */
	return failures != 0;
}
