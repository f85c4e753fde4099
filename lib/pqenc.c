/* pqenc.c - see pqenc.h */
#include "pqenc.h"

#include <string.h>

uint64_t bits_get(const uint8_t *p, uint64_t bit, int bw)
{
	if (!bw)
		return 0;
	const uint8_t *q = p + (bit >> 3);
	int shift = (int)(bit & 7);
	int need = (shift + bw + 7) >> 3; /* bytes touched, at most 9 */
	uint64_t lo = 0;
	int n = need > 8 ? 8 : need;
	for (int i = 0; i < n; i++)
		lo |= (uint64_t)q[i] << (8 * i);
	uint64_t v = lo >> shift;
	if (need > 8)
		v |= (uint64_t)q[8] << (64 - shift);
	return bw == 64 ? v : v & ((UINT64_C(1) << bw) - 1);
}

int bit_width(uint64_t max)
{
	int w = 0;
	while (max) {
		w++;
		max >>= 1;
	}
	return w;
}

void rle_init(struct rle_dec *d, const uint8_t *p, size_t n, int bw)
{
	memset(d, 0, sizeof *d);
	d->p = p;
	d->end = p + n;
	d->bw = bw;
}

bool rle_refill(struct rle_dec *d)
{
	uint64_t h;
	if (d->p >= d->end || get_uvarint(&d->p, d->end, &h) < 0)
		return false;
	if (h & 1) {
		uint64_t groups = h >> 1;
		if (!groups || groups > (uint64_t)(d->end - d->p) / ((uint64_t)d->bw ? (uint64_t)d->bw : 1) + 1)
			return false;
		uint64_t bytes = groups * (uint64_t)d->bw; /* 8 values of bw bits */
		/* writers may end the last run early: keep the values whose bits are there */
		uint64_t avail = (uint64_t)(d->end - d->p);
		uint64_t nvals = groups * 8;
		if (bytes > avail) {
			nvals = d->bw ? avail * 8 / (uint64_t)d->bw : nvals;
			bytes = avail;
		}
		if (!nvals)
			return false;
		d->packed = true;
		d->pk = d->p;
		d->pk_bit = 0;
		d->left = (uint32_t)(nvals > UINT32_MAX ? UINT32_MAX : nvals);
		d->p += bytes;
	} else {
		uint64_t count = h >> 1;
		size_t nb = ((size_t)d->bw + 7) / 8;
		if (!count || (size_t)(d->end - d->p) < nb || count > UINT32_MAX)
			return false;
		uint64_t v = 0;
		for (size_t i = 0; i < nb; i++)
			v |= (uint64_t)d->p[i] << (8 * i);
		d->p += nb;
		d->packed = false;
		d->value = v;
		d->left = (uint32_t)count;
	}
	return true;
}

/* A bit-packed run of n values, the last group padded with zeros (readers
 * stop at the count they were given). */
static void put_packed(struct buf *b, const uint32_t *v, size_t n, int bw)
{
	size_t groups = (n + 7) / 8;
	buf_uvarint(b, ((uint64_t)groups << 1) | 1);
	size_t bytes = groups * (size_t)bw;
	buf_grow(b, bytes);
	unsigned char *o = (unsigned char *)b->p + b->len;
	memset(o, 0, bytes);
	uint64_t bit = 0;
	for (size_t i = 0; i < n; i++, bit += (uint64_t)bw) {
		uint64_t x = v[i];
		for (int k = 0; k < bw;) {
			size_t byte = (size_t)((bit + (uint64_t)k) >> 3);
			int off = (int)((bit + (uint64_t)k) & 7);
			int take = 8 - off < bw - k ? 8 - off : bw - k;
			o[byte] |= (unsigned char)(((x >> k) & ((1u << take) - 1)) << off);
			k += take;
		}
	}
	b->len += bytes;
}

static void put_run(struct buf *b, uint32_t value, size_t count, int bw)
{
	buf_uvarint(b, (uint64_t)count << 1);
	for (int i = 0; i < (bw + 7) / 8; i++)
		buf_putc(b, (char)(value >> (8 * i)));
}

/* Runs of 8 or more equal values become RLE runs; everything else is
 * bit-packed in groups of 8.  A bit-packed stretch must hold a multiple of 8
 * values unless it is the last, so a run first lends values to complete the
 * pending group. */
void rle_encode(struct buf *b, const uint32_t *v, size_t n, int bw)
{
	size_t lit = 0; /* start of the pending literals */
	size_t i = 0;
	while (i < n) {
		size_t j = i + 1;
		while (j < n && v[j] == v[i])
			j++;
		size_t run = j - i;
		size_t pending = i - lit;
		size_t lend = (8 - pending % 8) % 8;
		if (run >= lend + 8) {
			if (pending + lend)
				put_packed(b, v + lit, pending + lend, bw);
			put_run(b, v[i], run - lend, bw);
			lit = j;
		}
		i = j;
	}
	if (lit < n)
		put_packed(b, v + lit, n - lit, bw);
}

/* ---- DELTA_BINARY_PACKED ---- */

/* Bytes of a miniblock of width w that starts after `done` values: whole
 * miniblocks are stored, but a writer may cut the last one short. */
static bool dbp_mini(struct dbp_dec *d, int w)
{
	if (w > 64)
		return false;
	uint64_t full = d->per_mini * (uint64_t)w / 8;
	uint64_t left = d->total - d->done;
	uint64_t vals = left < d->per_mini ? left : d->per_mini;
	uint64_t min = (vals * (uint64_t)w + 7) / 8;
	uint64_t avail = (uint64_t)(d->end - d->p);
	if (avail < min)
		return false;
	d->mdata = d->p;
	d->p += full < avail ? full : avail;
	d->in_mini = 0;
	return true;
}

static bool dbp_block(struct dbp_dec *d)
{
	uint64_t u;
	if (get_uvarint(&d->p, d->end, &u) < 0)
		return false;
	d->min_delta = unzigzag64(u);
	if ((uint64_t)(d->end - d->p) < d->nminis)
		return false;
	d->widths = d->p;
	d->p += d->nminis;
	d->mini = 0;
	return dbp_mini(d, d->widths[0]);
}

bool dbp_init(struct dbp_dec *d, const uint8_t *p, size_t n)
{
	memset(d, 0, sizeof *d);
	d->p = p;
	d->end = p + n;
	uint64_t first;
	if (get_uvarint(&d->p, d->end, &d->block_size) < 0 || get_uvarint(&d->p, d->end, &d->nminis) < 0 ||
	    get_uvarint(&d->p, d->end, &d->total) < 0 || get_uvarint(&d->p, d->end, &first) < 0)
		return false;
	if (!d->block_size || d->block_size % 128 || d->block_size > (1u << 20) || !d->nminis ||
	    d->block_size % d->nminis || (d->block_size / d->nminis) % 32)
		return false;
	d->per_mini = d->block_size / d->nminis;
	d->last = unzigzag64(first);
	d->mini = d->nminis; /* no block loaded */
	return true;
}

bool dbp_next(struct dbp_dec *d, int64_t *v)
{
	if (d->done >= d->total)
		return false;
	if (d->done == 0) {
		d->done++;
		*v = d->last;
		return true;
	}
	if (d->mini >= d->nminis || d->in_mini == d->per_mini) {
		if (d->mini < d->nminis)
			d->mini++;
		if (d->mini >= d->nminis) {
			if (!dbp_block(d))
				return false;
		} else if (!dbp_mini(d, d->widths[d->mini])) {
			return false;
		}
	}
	int w = d->widths[d->mini];
	uint64_t delta = bits_get(d->mdata, d->in_mini * (uint64_t)w, w);
	d->in_mini++;
	d->last = (int64_t)((uint64_t)d->last + (uint64_t)d->min_delta + delta);
	d->done++;
	*v = d->last;
	return true;
}

bool dbp_end(struct dbp_dec *d, const uint8_t **end)
{
	int64_t v;
	while (d->done < d->total)
		if (!dbp_next(d, &v))
			return false;
	*end = d->p;
	return true;
}
