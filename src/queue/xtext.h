/*
 * xtext (RFC 3461 4), the encoding of the DSN parameters ENVID and ORCPT
 * and of AUTH= (RFC 4954 5): printable ASCII as it is, everything else,
 * '+' and '=' as "+XX". Pure functions over bytes; parsing the parameters
 * themselves is smtp/smtp_dsn_param.h's job.
 */
#ifndef QUEUE_XTEXT_H
#define QUEUE_XTEXT_H

#include <stddef.h>

#include "lib/mw.h"

struct buf;

/*
 * Appends s[0..n) xtext-encoded: chars "!".."~" except '+' and '=' as they
 * are, every other byte as "+XX" (upper-case hex). 0, or -1 (ENOBUFS) past
 * out->max with nothing appended.
 */
int xtext_encode(const char *s, size_t n, struct buf *out) MW_MUST_CHECK;

/* The value of a hex digit (either case), or -1. */
int xtext_hexval(unsigned char c);

/*
 * Appends the decoding of the xtext p[0..n) (empty is fine). -1 with
 * nothing appended: EINVAL on malformed input (a byte outside "!".."~",
 * '=', a '+' not followed by two hex digits (RFC 3461 4 says upper case;
 * lower case is taken too), or "+00", a decoded NUL), ENOBUFS past
 * out->max.
 */
int xtext_decode(const char *p, size_t n, struct buf *out) MW_MUST_CHECK;

#endif
