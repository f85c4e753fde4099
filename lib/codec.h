/* codec.h - the block compressions Parquet pages use, by their Parquet codec
 * numbers.  Decompression is bounded by the size the page header declares:
 * the output buffer is exactly that big and any other outcome is an error,
 * so a lying header cannot make us allocate or write more. */
#ifndef WEIR_CODEC_H
#define WEIR_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
	CODEC_UNCOMPRESSED = 0, CODEC_SNAPPY = 1, CODEC_GZIP = 2, CODEC_LZO = 3, CODEC_BROTLI = 4,
	CODEC_LZ4 = 5, CODEC_ZSTD = 6, CODEC_LZ4_RAW = 7,
};

/* "SNAPPY", ...; "codec N" style text for unknown numbers is the caller's */
const char *codec_name(int codec);
/* Decompress [in, in+n) into exactly outlen bytes at out; 0 or -1 with err. */
int codec_decompress(int codec, const uint8_t *in, size_t n, uint8_t *out, size_t outlen, char *err, size_t errlen);
/* Append the compressed form of [in, in+n) to out; level 0 = the codec's
 * default.  0 or -1 with err. */
int codec_compress(int codec, int level, const uint8_t *in, size_t n, struct buf *out, char *err, size_t errlen);
/* The most bytes codec_compress can append for n bytes of input. */
size_t codec_bound(int codec, size_t n);

#endif
