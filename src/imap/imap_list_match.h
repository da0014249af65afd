/*
 * LIST and LSUB patterns (RFC 9051 6.3.9, RFC 3501 6.3.8): "*" matches
 * any bytes, "%" any bytes but the hierarchy separator; every other byte
 * matches itself. A pure function over bytes, in the client's form of
 * names (modified UTF-7 or UTF-8, the client's separator): it does no
 * conversion, no I/O and keeps no state between calls.
 *
 * INBOX (RFC 9051 5.1): where a name is "INBOX" or begins with "INBOX"
 * and the separator, those five bytes match the pattern regardless of
 * case, as in Dovecot ("inbox*" and "i*" both match "INBOX.Sent").
 *
 * Time is O(pattern length x name length) whatever the pattern (it runs
 * the pattern as an NFA: no backtracking), so "*%*%*%*a" against a long
 * name is as cheap as "*a".
 */
#ifndef IMAP_IMAP_LIST_MATCH_H
#define IMAP_IMAP_LIST_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A compiled pattern: its scratch space is reused from match to match,
 * so one pattern serves one thread at a time. */
struct imap_list_pattern;

/* Compiles pattern[0..plen) for separator sep (runs of wildcards are
 * folded: "*%" is "*", "%%" is "%"). Owned by the caller: free it with
 * imap_list_pattern_free(). Never NULL (xalloc). */
struct imap_list_pattern *imap_list_pattern_new(
    const char *pattern, size_t plen, char sep);
void imap_list_pattern_free(struct imap_list_pattern **pat);

/*
 * Whether name[0..nlen) matches. *children_out (when not NULL) says
 * whether some name below it (name, the separator, one or more bytes)
 * could match: LSUB's and RECURSIVEMATCH's parents are found so, and a
 * listing can skip a subtree that cannot match.
 */
bool imap_list_pattern_match(struct imap_list_pattern *pat, const char *name,
    size_t nlen, bool *children_out);

/* The same in one call (compiles, matches, frees). */
bool imap_list_match(const char *pattern, size_t plen, const char *name,
    size_t nlen, char sep, bool *children_out);

#endif
