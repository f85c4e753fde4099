/* codec.c - see codec.h */
#include "codec.h"

#include <stdio.h>
#include <string.h>

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

const char *codec_name(int codec)
{
	static const char *names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
	return codec >= 0 && codec < 8 ? names[codec] : NULL;
}

static int fail(char *err, size_t errlen, const char *codec, const char *what)
{
	snprintf(err, errlen, "%s: %s", codec, what);
	return -1;
}

/* gzip members may be concatenated (the file is then several streams back
 * to back); zlib stops at the end of each, so restart until input ends. */
static int gunzip(const uint8_t *in, size_t n, uint8_t *out, size_t outlen, char *err, size_t errlen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return fail(err, errlen, "GZIP", "cannot initialise zlib");
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)outlen;
	int rc = -1;
	for (;;) {
		int zr = inflate(&z, Z_FINISH);
		if (zr == Z_STREAM_END) {
			if (z.avail_in == 0) {
				rc = z.avail_out == 0 ? 0 : fail(err, errlen, "GZIP", "data shorter than the page says");
				break;
			}
			if (inflateReset(&z) != Z_OK) {
				fail(err, errlen, "GZIP", "cannot restart zlib");
				break;
			}
			continue;
		}
		if (zr == Z_BUF_ERROR && z.avail_out == 0)
			fail(err, errlen, "GZIP", "data longer than the page says");
		else
			fail(err, errlen, "GZIP", z.msg ? z.msg : "corrupt data");
		break;
	}
	inflateEnd(&z);
	return rc;
}

/* Hadoop's LZ4 codec frames blocks as [BE u32 raw size][BE u32 compressed
 * size][lz4 block], possibly several; older writers used the LZ4 frame
 * format or a bare block under the same codec number, so try all three. */
static int hadoop_lz4(const uint8_t *in, size_t n, uint8_t *out, size_t outlen)
{
	size_t ip = 0, op = 0;
	while (ip < n) {
		if (n - ip < 8)
			return -1;
		uint32_t raw = (uint32_t)in[ip] << 24 | (uint32_t)in[ip + 1] << 16 | (uint32_t)in[ip + 2] << 8 | in[ip + 3];
		uint32_t comp = (uint32_t)in[ip + 4] << 24 | (uint32_t)in[ip + 5] << 16 | (uint32_t)in[ip + 6] << 8 | in[ip + 7];
		ip += 8;
		if (comp > n - ip || raw > outlen - op)
			return -1;
		int got = LZ4_decompress_safe((const char *)in + ip, (char *)out + op, (int)comp, (int)raw);
		if (got < 0 || (uint32_t)got != raw)
			return -1;
		ip += comp;
		op += raw;
	}
	return op == outlen ? 0 : -1;
}

static int lz4_frame(const uint8_t *in, size_t n, uint8_t *out, size_t outlen)
{
	LZ4F_dctx *dc;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION)))
		return -1;
	size_t ip = 0, op = 0;
	int rc = -1;
	for (;;) {
		size_t isz = n - ip, osz = outlen - op;
		size_t r = LZ4F_decompress(dc, out + op, &osz, in + ip, &isz, NULL);
		if (LZ4F_isError(r))
			break;
		ip += isz;
		op += osz;
		if (r == 0 && ip == n) {
			rc = op == outlen ? 0 : -1;
			break;
		}
		if (isz == 0 && osz == 0)
			break; /* no progress: truncated or output full */
	}
	LZ4F_freeDecompressionContext(dc);
	return rc;
}

int codec_decompress(int codec, const uint8_t *in, size_t n, uint8_t *out, size_t outlen, char *err, size_t errlen)
{
	if (outlen > INT32_MAX || n > INT32_MAX)
		return fail(err, errlen, codec_name(codec) ? codec_name(codec) : "codec", "page too large");
	switch (codec) {
	case CODEC_UNCOMPRESSED:
		if (n != outlen)
			return fail(err, errlen, "UNCOMPRESSED", "page sizes disagree");
		memcpy(out, in, n);
		return 0;
	case CODEC_SNAPPY: {
		size_t len;
		if (snappy_uncompressed_length((const char *)in, n, &len) != SNAPPY_OK || len != outlen)
			return fail(err, errlen, "SNAPPY", "corrupt data or wrong size");
		len = outlen;
		if (snappy_uncompress((const char *)in, n, (char *)out, &len) != SNAPPY_OK || len != outlen)
			return fail(err, errlen, "SNAPPY", "corrupt data");
		return 0;
	}
	case CODEC_GZIP:
		return gunzip(in, n, out, outlen, err, errlen);
	case CODEC_ZSTD: {
		size_t r = ZSTD_decompress(out, outlen, in, n);
		if (ZSTD_isError(r))
			return fail(err, errlen, "ZSTD", ZSTD_getErrorName(r));
		if (r != outlen)
			return fail(err, errlen, "ZSTD", "data shorter than the page says");
		return 0;
	}
	case CODEC_LZ4_RAW: {
		int r = LZ4_decompress_safe((const char *)in, (char *)out, (int)n, (int)outlen);
		if (r < 0 || (size_t)r != outlen)
			return fail(err, errlen, "LZ4_RAW", "corrupt data or wrong size");
		return 0;
	}
	case CODEC_LZ4:
		if (hadoop_lz4(in, n, out, outlen) == 0 || lz4_frame(in, n, out, outlen) == 0)
			return 0;
		{
			int r = LZ4_decompress_safe((const char *)in, (char *)out, (int)n, (int)outlen);
			if (r >= 0 && (size_t)r == outlen)
				return 0;
		}
		return fail(err, errlen, "LZ4", "corrupt data or wrong size");
	case CODEC_BROTLI: {
		size_t len = outlen;
		if (BrotliDecoderDecompress(n, in, &len, out) != BROTLI_DECODER_RESULT_SUCCESS || len != outlen)
			return fail(err, errlen, "BROTLI", "corrupt data or wrong size");
		return 0;
	}
	case CODEC_LZO:
		snprintf(err, errlen, "unsupported codec LZO");
		return -1;
	}
	snprintf(err, errlen, "unknown codec %d", codec);
	return -1;
}

size_t codec_bound(int codec, size_t n)
{
	switch (codec) {
	case CODEC_SNAPPY: return snappy_max_compressed_length(n);
	/* deflateBound for a gzip wrapper is compressBound's zlib bound plus
	 * the 12 bytes the larger header and trailer take */
	case CODEC_GZIP: return compressBound((uLong)n) + 18;
	case CODEC_ZSTD: return ZSTD_compressBound(n);
	case CODEC_LZ4_RAW: return n > LZ4_MAX_INPUT_SIZE ? 0 : (size_t)LZ4_compressBound((int)n);
	case CODEC_BROTLI: {
		size_t cap = BrotliEncoderMaxCompressedSize(n);
		return cap ? cap : n + 1024;
	}
	default: return n;
	}
}

int codec_compress(int codec, int level, const uint8_t *in, size_t n, struct buf *out, char *err, size_t errlen)
{
	switch (codec) {
	case CODEC_UNCOMPRESSED:
		buf_put(out, in, n);
		return 0;
	case CODEC_SNAPPY: {
		size_t cap = codec_bound(codec, n);
		buf_grow(out, cap);
		if (snappy_compress((const char *)in, n, out->p + out->len, &cap) != SNAPPY_OK)
			return fail(err, errlen, "SNAPPY", "compression failed");
		out->len += cap;
		return 0;
	}
	case CODEC_GZIP: {
		z_stream z;
		memset(&z, 0, sizeof z);
		if (deflateInit2(&z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return fail(err, errlen, "GZIP", "cannot initialise zlib");
		size_t cap = deflateBound(&z, (uLong)n);
		buf_grow(out, cap);
		z.next_in = (Bytef *)in;
		z.avail_in = (uInt)n;
		z.next_out = (Bytef *)out->p + out->len;
		z.avail_out = (uInt)cap;
		int zr = deflate(&z, Z_FINISH);
		size_t got = cap - z.avail_out;
		deflateEnd(&z);
		if (zr != Z_STREAM_END)
			return fail(err, errlen, "GZIP", "compression failed");
		out->len += got;
		return 0;
	}
	case CODEC_ZSTD: {
		/* one context per thread, reused: creating it per page costs more
		 * than compressing a small page */
		static __thread ZSTD_CCtx *cctx;
		if (!cctx)
			cctx = ZSTD_createCCtx();
		size_t cap = codec_bound(codec, n);
		buf_grow(out, cap);
		size_t r = ZSTD_compressCCtx(cctx, out->p + out->len, cap, in, n, level ? level : 3);
		if (ZSTD_isError(r))
			return fail(err, errlen, "ZSTD", ZSTD_getErrorName(r));
		out->len += r;
		return 0;
	}
	case CODEC_LZ4_RAW: {
		if (n > LZ4_MAX_INPUT_SIZE)
			return fail(err, errlen, "LZ4_RAW", "page too large");
		int cap = (int)codec_bound(codec, n);
		buf_grow(out, (size_t)cap);
		int r = LZ4_compress_default((const char *)in, out->p + out->len, (int)n, cap);
		if (r <= 0)
			return fail(err, errlen, "LZ4_RAW", "compression failed");
		out->len += (size_t)r;
		return 0;
	}
	case CODEC_BROTLI: {
		size_t cap = codec_bound(codec, n);
		buf_grow(out, cap);
		if (!BrotliEncoderCompress(level ? level : 5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, n, in, &cap,
					   (uint8_t *)out->p + out->len))
			return fail(err, errlen, "BROTLI", "compression failed");
		out->len += cap;
		return 0;
	}
	}
	snprintf(err, errlen, "cannot write codec %s", codec_name(codec) ? codec_name(codec) : "unknown");
	return -1;
}
