/* base64.h - RFC 4648 base64, the canonical form of binary values. */
#ifndef WEIR_BASE64_H
#define WEIR_BASE64_H

#include <stddef.h>

#include "buf.h"

void base64_encode(struct buf *out, const void *p, size_t n);
/* Decode [s, s+n) into out (room for n*3/4+3 bytes); returns the length or -1
 * on a character outside the alphabet or bad padding. */
long base64_decode(unsigned char *out, const char *s, size_t n);

#endif
