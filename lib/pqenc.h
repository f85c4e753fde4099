/* pqenc.h - Parquet value and level encodings (parquet-format Encodings.md)
 * as streaming decoders over untrusted bytes, plus the encoders the writer
 * needs.  Decoders never read outside [p, end) and report corrupt input by
 * returning false; they allocate nothing. */
#ifndef WEIR_PQENC_H
#define WEIR_PQENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Read `bw` (0..64) bits at bit offset `bit` of a little-endian bit stream
 * known to hold them. */
uint64_t bits_get(const uint8_t *p, uint64_t bit, int bw);

/* The RLE / bit-packed hybrid (levels, dictionary indices, booleans). */
struct rle_dec {
	const uint8_t *p, *end;
	int bw;
	uint32_t left;       /* values left in the current run */
	bool packed;
	uint64_t value;      /* RLE run value */
	const uint8_t *pk;   /* bit-packed run data */
	uint64_t pk_bit;     /* next bit in it */
};
void rle_init(struct rle_dec *d, const uint8_t *p, size_t n, int bw);
bool rle_refill(struct rle_dec *d);
static inline bool rle_next(struct rle_dec *d, uint64_t *v)
{
	if (!d->left && !rle_refill(d))
		return false;
	d->left--;
	if (!d->packed) {
		*v = d->value;
		return true;
	}
	*v = bits_get(d->pk, d->pk_bit, d->bw);
	d->pk_bit += (uint64_t)d->bw;
	return true;
}
/* Append the hybrid encoding of v[0..n) (no length prefix). */
void rle_encode(struct buf *b, const uint32_t *v, size_t n, int bw);
/* Bits needed for values up to max. */
int bit_width(uint64_t max);

/* DELTA_BINARY_PACKED, one value at a time; also the lengths inside
 * DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY. */
struct dbp_dec {
	const uint8_t *p, *end;
	uint64_t block_size, per_mini, nminis;
	uint64_t total, done;     /* values in the header, values returned */
	int64_t last, min_delta;
	const uint8_t *widths;    /* bit widths of the current block's miniblocks */
	uint64_t mini;            /* current miniblock index */
	uint64_t in_mini;         /* values taken from it */
	const uint8_t *mdata;     /* its data */
};
bool dbp_init(struct dbp_dec *d, const uint8_t *p, size_t n);
bool dbp_next(struct dbp_dec *d, int64_t *v);
/* Where the encoded values end (for the data that follows the lengths);
 * consumes the rest of the stream. */
bool dbp_end(struct dbp_dec *d, const uint8_t **end);

#endif
