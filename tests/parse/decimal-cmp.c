/* decimal-cmp.c - decimal_cmp against an exact comparison of the decimals'
 * text: edge values (zero, the 64-bit and 128-bit limits, scales 0 to 38)
 * and pseudo-random values of every length at every pair of scales, both
 * orders, and pairs that differ in their last digit only.  Built and run by
 * tests/parse.bats; prints each mismatch and exits 1 if any. */
#include <stdio.h>
#include <string.h>

#include "value.h"

/* sign, then the whole digits by length and text, then the fraction's
 * digits padded with zeros to equal length */
static int reference(int128_t a, int sa, int128_t b, int sb)
{
	char x[64], y[64];
	decimal_format(x, a, sa);
	decimal_format(y, b, sb);
	const char *px = x, *py = y;
	int negx = *px == '-', negy = *py == '-';
	px += negx, py += negy;
	/* "-0.00" is zero: decimal_format writes no sign for it */
	if (negx != negy)
		return negx ? -1 : 1;
	int sign = negx ? -1 : 1;
	size_t wx = strcspn(px, "."), wy = strcspn(py, ".");
	if (wx != wy)
		return wx < wy ? -sign : sign;
	int c = strncmp(px, py, wx);
	if (c)
		return c < 0 ? -sign : sign;
	const char *fx = px[wx] ? px + wx + 1 : "", *fy = py[wy] ? py + wy + 1 : "";
	for (;; fx += *fx != 0, fy += *fy != 0) {
		char dx = *fx ? *fx : '0', dy = *fy ? *fy : '0';
		if (dx != dy)
			return dx < dy ? -sign : sign;
		if (!*fx && !*fy)
			return 0;
	}
}

static int failures;

static void check(int128_t a, int sa, int128_t b, int sb)
{
	int want = reference(a, sa, b, sb), got = decimal_cmp(a, sa, b, sb);
	if (got != want && failures++ < 20) {
		char x[64], y[64];
		decimal_format(x, a, sa);
		decimal_format(y, b, sb);
		printf("decimal_cmp(%s, %s) = %d, want %d\n", x, y, got, want);
	}
}

/* a value of `digits` digits from a 64-bit generator */
static uint64_t state = 88172645463325252ull;
static int128_t random_value(int digits)
{
	int128_t v = 0;
	for (int i = 0; i < digits; i++) {
		state ^= state << 13, state ^= state >> 7, state ^= state << 17;
		v = v * 10 + (int128_t)(state % 10);
	}
	return state & 1 ? -v : v;
}

int main(void)
{
	const int128_t max = pow10_128(38) - 1;
	const int128_t edges[] = {0, 1, -1, 9, 10, 99, INT64_MAX, INT64_MIN, (int128_t)INT64_MAX + 1,
				  pow10_128(18), pow10_128(36) - 1, pow10_128(36), pow10_128(37) - 1, pow10_128(37), max - 1, max, -max};
	size_t ne = sizeof edges / sizeof edges[0];
	for (size_t i = 0; i < ne; i++)
		for (size_t j = 0; j < ne; j++)
			for (int sa = 0; sa <= 38; sa++)
				for (int sb = 0; sb <= 38; sb++)
					check(edges[i], sa, edges[j], sb);
	/* random lengths and scales; then the same number at the other scale,
	 * and one unit of the last digit either side, while that fits */
	for (int k = 0; k < 400000; k++) {
		int sa = (int)(state % 39), sb = (int)((state >> 8) % 39);
		int d = sa < sb ? sb - sa : sa - sb;
		int128_t a = random_value(1 + (int)((state >> 16) % 38));
		int128_t b = random_value(1 + (int)((state >> 24) % 38));
		check(a, sa, b, sb);
		check(b, sb, a, sa);
		if (sa < sb && a < pow10_128(38 - d) && a > -pow10_128(38 - d))
			for (int u = -1; u <= 1; u++) {
				check(a, sa, a * pow10_128(d) + u, sb);
				check(a * pow10_128(d) + u, sb, a, sa);
			}
	}
	if (failures)
		printf("%d mismatches\n", failures);
	return failures != 0;
}
