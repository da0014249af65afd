/*
 * IMAP string output (RFC 9051 4.3, RFC 3501 4.3): NIL, a quoted string
 * or a literal, chosen per string. Used by the FETCH writers.
 */
#ifndef IMAP_IMAP_STRING_H
#define IMAP_IMAP_STRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

/* Longest string sent quoted; longer ones go as literals. */
#define IMAP_QUOTED_MAX 1024

/*
 * Appends s[0..n) as a quoted string if it may be one and is short:
 * RFC 9051 4.3: no CR, LF or NUL; no 8-bit bytes unless utf8 (UTF8=ACCEPT
 * or IMAP4rev2, RFC 6855 3) and valid UTF-8; at most 4 quoted-specials
 * (then a literal is as short). Otherwise a literal "{n}" CRLF and the
 * bytes. 0, or -1 with errno ENOBUFS past out's ceiling.
 */
int imap_string_append(
    struct buf *out, const char *s, size_t n, bool utf8) MW_MUST_CHECK;
/* RFC 9051 9 number / number64: v in decimal, without printf (FETCH
 * writes several per message). 0, or -1 with errno ENOBUFS. */
int imap_number_append(struct buf *out, uint64_t v) MW_MUST_CHECK;
/* The same into p (room for IMAP_NUMBER_MAX bytes); its length. */
#define IMAP_NUMBER_MAX 20
size_t imap_number_format(char *p, uint64_t v);
/* The same for a C string, or NIL when s is NULL. */
int imap_nstring_append(
    struct buf *out, const char *s, bool utf8) MW_MUST_CHECK;

#endif
