/*
 * IMAP flag lists and dates as the server writes them (RFC 9051 2.3.2,
 * 7.5.2 FLAGS and INTERNALDATE).
 */
#ifndef IMAP_IMAP_FLAGS_H
#define IMAP_IMAP_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

/*
 * Appends "(\Seen \Answered ... kw1 kw2)" for flags (enum store_flag;
 * PASSED is not an IMAP flag) and keyword bits, names[i] naming bit i
 * (NULL entries skipped); recent adds \Recent (RFC 3501 2.3.2). 0, or -1
 * with ENOBUFS past out's ceiling.
 */
int imap_flags_append(struct buf *out, uint32_t flags, uint32_t keywords,
    const char *const *names, size_t nnames, bool recent) MW_MUST_CHECK;

/* The store's enum store_flag bits for the IMAP_FLAG_* bits of a
 * flag-list (imap_command.h: struct imap_flags.sys). */
uint32_t imap_flags_to_store(unsigned sys);

/* RFC 9051 9 date-time, quoted: "dd-Mon-yyyy hh:mm:ss +zzzz" in the
 * local time zone. */
int imap_date_time_append(struct buf *out, int64_t t) MW_MUST_CHECK;

/* The seconds since the epoch of a parsed date-time (RFC 9051 9: its
 * zone is minutes east of UTC). */
struct imap_date_time;
int64_t imap_date_time_epoch(const struct imap_date_time *dt);

#endif
