/*
 * Mail addresses outside the SMTP parser: splitting "local@domain",
 * normalising for lookups (domain lowercased, trailing dot dropped), and
 * stripping a recipient_delimiter extension ("user+tag" -> "user").
 * Pure functions; results are malloc'd strings the caller frees.
 */
#ifndef LIB_MAILADDR_H
#define LIB_MAILADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Splits at the last '@' outside quotes. Without '@', domain is "". 0 or
 * -1 (EINVAL) for empty/invalid input (also an unclosed quote, an empty
 * local part "@x" or an empty domain "x@"). */
int mailaddr_split(const char *addr, char **local_out, char **domain_out);
/*
 * The lookup key of an address: local part unquoted when quoting was not
 * needed (else requoted with only '"' and '\' escaped), domain lowercased
 * without a trailing dot. An address without '@' gives its local part
 * alone. Returns NULL when the address is not valid.
 */
char *mailaddr_normalize(const char *addr);
/*
 * Strips the extension: for delimiters "+" and "user+tag", returns "user"
 * and (if ext_out) "tag". The first delimiter character found wins
 * (Postfix). When there is none, returns a copy of local and sets *ext_out
 * to NULL. As Postfix's split_addr(), never splits a local part that
 * starts with a delimiter ("+foo"), is quoted, is postmaster or
 * MAILER-DAEMON, or, when '-' is a delimiter, is owner-* or *-request.
 */
char *mailaddr_strip_extension(const char *local, const char *delimiters,
    char **ext_out);
/* True when domain is a syntactically valid domain name or [literal]. */
bool mailaddr_domain_valid(const char *domain);

/*
 * Syntax checks over n bytes that need not be NUL-terminated (shared with
 * the SMTP parser). Octets >= 0x80 pass only as well-formed UTF-8 (RFC 6531
 * 3.3); then *utf8_out, when not NULL, is set to true (never to false).
 */
/* RFC 5321 4.1.2 Local-part: a Dot-string or a Quoted-string. */
bool mailaddr_local_valid_n(const char *l, size_t n, bool *utf8_out);
/* RFC 5321 4.1.2 Domain (LDH labels or U-labels, each at most 63 octets,
 * 255 in all, no trailing dot) or address-literal ("[192.0.2.1]",
 * "[IPv6:2001:db8::1]"). */
bool mailaddr_domain_valid_n(const char *d, size_t n, bool *utf8_out);
/* The length of the well-formed UTF-8 character at p[0..n): 1 for ASCII,
 * 2-4 otherwise, 0 when malformed (overlong, surrogate, > U+10FFFF). */
size_t mailaddr_utf8_len(const char *p, size_t n);

#endif
