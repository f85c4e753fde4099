/* sketch.c - see sketch.h */
#include "sketch.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

/* ---- HyperLogLog ---- */

static void hll_dense_add(uint8_t *reg, uint64_t hash)
{
	uint32_t idx = (uint32_t)(hash >> (64 - HLL_P));
	/* the sentinel bit caps the rank at 64 - HLL_P + 1 when the rest is 0 */
	uint8_t rank = (uint8_t)(__builtin_clzll((hash << HLL_P) | (1ull << (HLL_P - 1))) + 1);
	if (reg[idx] < rank)
		reg[idx] = rank;
}

static void hll_densify(struct hll *h)
{
	h->reg = xcalloc(HLL_M, 1);
	for (uint32_t i = 0; i < h->n; i++)
		hll_dense_add(h->reg, h->sparse[i]);
	free(h->sparse);
	h->sparse = NULL;
	h->n = h->cap = 0;
}

void hll_add(struct hll *h, uint64_t hash)
{
	if (h->reg) {
		hll_dense_add(h->reg, hash);
		return;
	}
	for (uint32_t i = 0; i < h->n; i++)
		if (h->sparse[i] == hash)
			return;
	if (h->n == HLL_SPARSE_MAX) {
		hll_densify(h);
		hll_dense_add(h->reg, hash);
		return;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 4;
		h->sparse = xrealloc(h->sparse, h->cap * sizeof *h->sparse);
	}
	h->sparse[h->n++] = hash;
}

/* Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
 * (2017): the improved raw estimator is unbiased over the whole range, so
 * neither linear counting nor empirical bias tables are needed. */
static double ertl_sigma(double x)
{
	if (x == 1.0)
		return INFINITY;
	double y = 1, z = x, prev;
	do {
		x *= x;
		prev = z;
		z += x * y;
		y += y;
	} while (z != prev);
	return z;
}

static double ertl_tau(double x)
{
	if (x == 0.0 || x == 1.0)
		return 0;
	double y = 1, z = 1 - x, prev;
	do {
		x = sqrt(x);
		prev = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != prev);
	return z / 3;
}

double hll_estimate(const struct hll *h)
{
	if (!h->reg)
		return h->n;
	enum { Q = 64 - HLL_P };
	uint32_t c[Q + 2] = {0};
	for (uint32_t i = 0; i < HLL_M; i++)
		c[h->reg[i]]++;
	double m = HLL_M;
	double z = m * ertl_tau(1 - c[Q + 1] / m);
	for (int k = Q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * ertl_sigma(c[0] / m);
	return m * m / (2 * log(2)) / z;
}

void hll_merge(struct hll *into, const struct hll *from)
{
	if (!from->reg) {
		for (uint32_t i = 0; i < from->n; i++)
			hll_add(into, from->sparse[i]);
		return;
	}
	if (!into->reg)
		hll_densify(into);
	for (uint32_t i = 0; i < HLL_M; i++)
		if (into->reg[i] < from->reg[i])
			into->reg[i] = from->reg[i];
}

void hll_free(struct hll *h)
{
	free(h->reg);
	free(h->sparse);
	memset(h, 0, sizeof *h);
}

size_t hll_bytes(const struct hll *h)
{
	return h->reg ? HLL_M : h->cap * sizeof *h->sparse;
}

void hll_save(struct buf *b, const struct hll *h)
{
	if (h->reg) {
		buf_putc(b, 1);
		buf_put(b, h->reg, HLL_M);
		return;
	}
	buf_putc(b, 0);
	buf_uvarint(b, h->n);
	for (uint32_t i = 0; i < h->n; i++)
		buf_put(b, &h->sparse[i], 8);
}

int hll_load(struct hll *h, const unsigned char **p, const unsigned char *end)
{
	memset(h, 0, sizeof *h);
	if (*p >= end)
		return -1;
	if (*(*p)++) {
		if (end - *p < (ptrdiff_t)HLL_M)
			return -1;
		h->reg = xmalloc(HLL_M);
		memcpy(h->reg, *p, HLL_M);
		*p += HLL_M;
		for (uint32_t i = 0; i < HLL_M; i++)
			if (h->reg[i] > 64 - HLL_P + 1) {
				hll_free(h);
				return -1;
			}
		return 0;
	}
	uint64_t n;
	if (get_uvarint(p, end, &n) || n > HLL_SPARSE_MAX || (uint64_t)(end - *p) < n * 8)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v;
		memcpy(&v, *p, 8);
		*p += 8;
		hll_add(h, v);
	}
	return 0;
}

/* ---- DDSketch ---- */

/* Values below this magnitude count as zero: their logarithm would leave the
 * int32 index range long before anyone cares about their relative error. */
#define DDS_MIN_MAGNITUDE 1e-300

static double dds_log_gamma(void)
{
	static double lg;
	if (!lg)
		lg = log((1 + DDS_ALPHA) / (1 - DDS_ALPHA));
	return lg;
}

static int32_t dds_index(double x)
{
	return (int32_t)ceil(log(x) / dds_log_gamma());
}

/* The midpoint (in relative terms) of bucket k = (gamma^(k-1), gamma^k]. */
static double dds_value(int32_t k)
{
	double g = (1 + DDS_ALPHA) / (1 - DDS_ALPHA);
	return 2 * exp(k * dds_log_gamma()) / (1 + g);
}

/* Make room for index k, collapsing the lowest buckets into one when the
 * store would exceed its bound; returns the slot for k. */
static uint64_t *store_slot(struct dds_store *s, int32_t k)
{
	if (!s->len) {
		s->off = k;
		s->len = 1;
		s->counts = xcalloc(1, sizeof *s->counts);
		return &s->counts[0];
	}
	int64_t lo = s->off, hi = (int64_t)s->off + s->len - 1;
	if (k >= lo && k <= hi)
		return &s->counts[k - lo];
	int64_t nlo = k < lo ? k : lo, nhi = k > hi ? k : hi;
	if (nhi - nlo + 1 > DDS_MAX_BUCKETS) {
		/* keep the top DDS_MAX_BUCKETS indexes, fold the rest into the lowest kept */
		int64_t keep_lo = nhi - DDS_MAX_BUCKETS + 1;
		if (k < keep_lo)
			k = (int32_t)keep_lo;
		nlo = keep_lo;
	}
	uint32_t nlen = (uint32_t)(nhi - nlo + 1);
	uint64_t *nc = xcalloc(nlen, sizeof *nc);
	for (uint32_t i = 0; i < s->len; i++) {
		int64_t idx = lo + i;
		nc[(idx < nlo ? nlo : idx) - nlo] += s->counts[i];
	}
	free(s->counts);
	s->counts = nc;
	s->off = (int32_t)nlo;
	s->len = nlen;
	return &s->counts[k - nlo];
}

void dds_add(struct dds *d, double x)
{
	if (!d->n || x < d->min)
		d->min = x;
	if (!d->n || x > d->max)
		d->max = x;
	d->n++;
	if (x > DDS_MIN_MAGNITUDE)
		(*store_slot(&d->pos, dds_index(x)))++;
	else if (x < -DDS_MIN_MAGNITUDE)
		(*store_slot(&d->neg, dds_index(-x)))++;
	else
		d->zero++;
}

double dds_quantile(const struct dds *d, double q)
{
	uint64_t rank = (uint64_t)ceil(q * (double)d->n);
	if (rank < 1)
		rank = 1;
	if (rank >= d->n)
		return d->max;
	if (rank == 1)
		return d->min;
	uint64_t seen = 0;
	double v = d->max;
	bool found = false;
	for (uint32_t i = d->neg.len; i-- > 0 && !found;) {
		seen += d->neg.counts[i];
		if (seen >= rank) {
			v = -dds_value(d->neg.off + (int32_t)i);
			found = true;
		}
	}
	if (!found) {
		seen += d->zero;
		if (seen >= rank) {
			v = 0;
			found = true;
		}
	}
	for (uint32_t i = 0; i < d->pos.len && !found; i++) {
		seen += d->pos.counts[i];
		if (seen >= rank) {
			v = dds_value(d->pos.off + (int32_t)i);
			found = true;
		}
	}
	/* the extremes are known exactly; a bucket midpoint never beats them */
	if (v < d->min)
		v = d->min;
	if (v > d->max)
		v = d->max;
	return v;
}

static void store_merge(struct dds_store *into, const struct dds_store *from)
{
	for (uint32_t i = 0; i < from->len; i++)
		if (from->counts[i])
			*store_slot(into, from->off + (int32_t)i) += from->counts[i];
}

void dds_merge(struct dds *into, const struct dds *from)
{
	if (!from->n)
		return;
	if (!into->n || from->min < into->min)
		into->min = from->min;
	if (!into->n || from->max > into->max)
		into->max = from->max;
	into->n += from->n;
	into->zero += from->zero;
	store_merge(&into->pos, &from->pos);
	store_merge(&into->neg, &from->neg);
}

void dds_free(struct dds *d)
{
	free(d->pos.counts);
	free(d->neg.counts);
	memset(d, 0, sizeof *d);
}

size_t dds_bytes(const struct dds *d)
{
	return (d->pos.len + d->neg.len) * sizeof(uint64_t);
}

static void store_save(struct buf *b, const struct dds_store *s)
{
	buf_uvarint(b, zigzag64(s->off));
	buf_uvarint(b, s->len);
	for (uint32_t i = 0; i < s->len; i++)
		buf_uvarint(b, s->counts[i]);
}

static int store_load(struct dds_store *s, const unsigned char **p, const unsigned char *end)
{
	uint64_t off, len;
	if (get_uvarint(p, end, &off) || get_uvarint(p, end, &len) || len > DDS_MAX_BUCKETS)
		return -1;
	int64_t o = unzigzag64(off);
	if (o < INT32_MIN || o > INT32_MAX - DDS_MAX_BUCKETS)
		return -1;
	s->off = (int32_t)o;
	s->len = (uint32_t)len;
	s->counts = len ? xcalloc(len, sizeof *s->counts) : NULL;
	for (uint64_t i = 0; i < len; i++)
		if (get_uvarint(p, end, &s->counts[i]))
			return -1;
	return 0;
}

void dds_save(struct buf *b, const struct dds *d)
{
	buf_uvarint(b, d->n);
	buf_uvarint(b, d->zero);
	buf_put(b, &d->min, 8);
	buf_put(b, &d->max, 8);
	store_save(b, &d->pos);
	store_save(b, &d->neg);
}

int dds_load(struct dds *d, const unsigned char **p, const unsigned char *end)
{
	memset(d, 0, sizeof *d);
	if (get_uvarint(p, end, &d->n) || get_uvarint(p, end, &d->zero) || end - *p < 16)
		return -1;
	memcpy(&d->min, *p, 8);
	memcpy(&d->max, *p + 8, 8);
	*p += 16;
	if (store_load(&d->pos, p, end) || store_load(&d->neg, p, end)) {
		dds_free(d);
		return -1;
	}
	return 0;
}
