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
 * -1 (EINVAL) for empty/invalid input. */
int mailaddr_split(const char *addr, char **local_out, char **domain_out);
/*
 * The lookup key of an address: local part unquoted when quoting was not
 * needed, domain lowercased without a trailing dot. Returns NULL when the
 * address is not valid.
 */
char *mailaddr_normalize(const char *addr);
/*
 * Strips the extension: for delimiters "+" and "user+tag", returns "user"
 * and (if ext_out) "tag". The first delimiter character found wins
 * (Postfix). When there is none, returns a copy of local.
 */
char *mailaddr_strip_extension(const char *local, const char *delimiters,
    char **ext_out);
/* True when domain is a syntactically valid domain name or [literal]. */
bool mailaddr_domain_valid(const char *domain);

#endif
