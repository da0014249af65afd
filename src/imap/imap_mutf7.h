/*
 * Modified UTF-7 mailbox names (RFC 3501 5.1.3, kept by RFC 9051 5.1.3 for
 * IMAP4rev1 clients) and strict UTF-8 checks. Decoding is strict: only the
 * one canonical encoding of a name is accepted (no base64 for printable
 * ASCII, no empty or adjacent shifts, no padding bits set, UTF-16 with
 * proper surrogate pairs), so that one name has one spelling.
 */
#ifndef IMAP_IMAP_MUTF7_H
#define IMAP_IMAP_MUTF7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

/*
 * The length of the valid UTF-8 sequence at p[0..n) (RFC 3629 4: shortest
 * form, no surrogates, at most U+10FFFF), 1 for ASCII, or 0 when invalid
 * or n is 0. The code point goes into *cp_out when not NULL.
 */
size_t imap_utf8_char_len(const unsigned char *p, size_t n, uint32_t *cp_out);
/* Whether s[0..n) is valid UTF-8. */
bool imap_utf8_valid(const char *s, size_t n);

/* Appends the modified UTF-7 form of the UTF-8 name s[0..n). 0, or -1
 * with EINVAL (not valid UTF-8) or ENOBUFS (out's ceiling); out is left
 * as it was on error. */
int imap_mutf7_encode(const char *s, size_t n, struct buf *out) MW_MUST_CHECK;
/* Appends the UTF-8 form of the modified UTF-7 name s[0..n). 0, or -1
 * with EINVAL (not canonical modified UTF-7) or ENOBUFS. */
int imap_mutf7_decode(const char *s, size_t n, struct buf *out) MW_MUST_CHECK;

#endif
