/* sketch.h - small mergeable summaries for approximate aggregates.
 *
 * HyperLogLog counts distinct values in 4 KiB whatever their number, and
 * DDSketch answers quantiles with a bounded *relative* error in a few KiB.
 * Both merge exactly (union of the inputs), which session windows need when
 * an event bridges two sessions, and both serialize compactly for snapshots.
 *
 * Error bounds, stated once here and in weir-window(1):
 *  - hll: exact up to HLL_SPARSE_MAX distinct hashes; beyond, standard error
 *    1.04/sqrt(4096) = 1.6% (Ertl's improved estimator, no bias tables);
 *  - dds: the value returned for quantile q is within 1% (relative) of the
 *    exact nearest-rank quantile, the ceil(q*n)-th smallest value (exact for
 *    the smallest and the largest), as long as
 *    the values span fewer than DDS_MAX_BUCKETS buckets (a factor of about
 *    10^17); beyond that the smallest magnitudes are merged. */
#ifndef WEIR_SKETCH_H
#define WEIR_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define HLL_P 12
#define HLL_M (1u << HLL_P)
#define HLL_SPARSE_MAX 64

struct hll {
	uint8_t *reg;     /* HLL_M registers once dense, NULL while sparse */
	uint64_t *sparse; /* distinct hashes while few */
	uint32_t n, cap;
};

/* Add a 64-bit hash (it must be well mixed: every bit matters). */
void hll_add(struct hll *h, uint64_t hash);
double hll_estimate(const struct hll *h);
void hll_merge(struct hll *into, const struct hll *from);
void hll_free(struct hll *h);
size_t hll_bytes(const struct hll *h);
void hll_save(struct buf *b, const struct hll *h);
/* Returns 0, or -1 on malformed input (h is then empty). */
int hll_load(struct hll *h, const unsigned char **p, const unsigned char *end);

#define DDS_ALPHA 0.01
#define DDS_MAX_BUCKETS 2048

struct dds_store {
	int32_t off;     /* index of counts[0] */
	uint32_t len;
	uint64_t *counts;
};

struct dds {
	uint64_t n, zero;
	double min, max;
	struct dds_store pos, neg; /* neg holds -x for x < 0 */
};

void dds_add(struct dds *d, double x); /* NaN is ignored by callers */
/* The nearest-rank quantile q in [0,1]; the sketch must not be empty. */
double dds_quantile(const struct dds *d, double q);
void dds_merge(struct dds *into, const struct dds *from);
void dds_free(struct dds *d);
size_t dds_bytes(const struct dds *d);
void dds_save(struct buf *b, const struct dds *d);
int dds_load(struct dds *d, const unsigned char **p, const unsigned char *end);

#endif
