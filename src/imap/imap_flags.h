/*
 * IMAP flag lists and date-times for responses: FLAGS (RFC 9051 2.3.2,
 * 7.5.2) from the store's system flags and keyword bits, and the
 * date-time of INTERNALDATE (RFC 9051 9). Pure formatting: no I/O.
 */
#ifndef IMAP_IMAP_FLAGS_H
#define IMAP_IMAP_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

/*
 * Appends "(\Answered \Flagged \Deleted \Seen \Draft \Recent kw...)" for
 * the system flags (enum store_flag; PASSED is no IMAP flag and is left
 * out) in Dovecot's order, \Recent when recent (RFC 3501 2.3.2; IMAP4rev2
 * has none), then the keywords whose bit is set, names[i] naming bit i
 * (bits past nnames and NULL names are skipped). 0, or -1 with errno
 * ENOBUFS past out's ceiling.
 */
int imap_flags_append(struct buf *out, uint32_t flags, uint32_t keywords,
    const char *const *names, size_t nnames, bool recent) MW_MUST_CHECK;

/*
 * Appends the RFC 9051 9 date-time of t (seconds since the epoch) in the
 * local time zone, quoted: "dd-Mon-yyyy hh:mm:ss +zzzz" (the day with a
 * leading zero, as Dovecot writes it). 0, or -1 with errno ENOBUFS, or
 * EOVERFLOW for a time localtime cannot represent.
 */
int imap_date_time_append(struct buf *out, int64_t t) MW_MUST_CHECK;

#endif
