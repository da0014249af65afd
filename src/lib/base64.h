/*
 * Base64 (RFC 4648 4, the standard alphabet with '=' padding), strict:
 * the decoder takes only the canonical encoding, as SASL (RFC 4422 3.5 via
 * RFC 4954 4) and stored credentials need, and refuses everything else.
 * Pure functions over bytes; results go into a struct buf.
 */
#ifndef LIB_BASE64_H
#define LIB_BASE64_H

#include <stddef.h>

#include "lib/mw.h"

struct buf;

/* The length of the encoding of n bytes (without a NUL). */
size_t base64_encoded_len(size_t n);
/* An upper bound on the bytes that n characters of base64 decode to. */
size_t base64_decoded_max(size_t n);

/* Appends the base64 of p[0..n) to out. 0, or -1 (errno ENOBUFS, out
 * unchanged) past out's ceiling. */
int base64_encode(struct buf *out, const void *p, size_t n) MW_MUST_CHECK;

/*
 * Decodes s[0..n) and appends the bytes to out. Accepts only the canonical
 * form: a multiple of 4 characters of the alphabet, '=' only as one or two
 * final pad characters, the unused bits before the padding zero (RFC 4648
 * 3.5), no white space, no line breaks, no NUL. The empty string decodes
 * to nothing. 0, or -1 with out unchanged and errno EINVAL (not canonical
 * base64) or ENOBUFS (past out's ceiling).
 */
int base64_decode(struct buf *out, const char *s, size_t n) MW_MUST_CHECK;

#endif
