/*
 * IMAP ENVELOPE (RFC 9051 7.5.2, RFC 3501 7.4.2) from the header fields a
 * mime_tree keeps of each message, with RFC 5322 3.4 address lists parsed
 * leniently into (name adl mailbox host) and groups written as the RFC's
 * start and end markers. Strings are sent as the header has them: RFC
 * 2047 encoded-words are left for the client to decode, as RFC 9051 says
 * and Dovecot does.
 */
#ifndef IMAP_IMAP_ENVELOPE_H
#define IMAP_IMAP_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"

struct buf;
struct mime_envelope;

/* RFC 5322 address without a local part or domain: as Dovecot fills
 * them, since a NIL host would mean a group (RFC 9051 7.5.2). */
#define IMAP_MISSING_MAILBOX "MISSING_MAILBOX"
#define IMAP_MISSING_DOMAIN  "MISSING_DOMAIN"

/*
 * Appends "(" date subject from sender reply-to to cc bcc in-reply-to
 * message-id ")". Sender and Reply-To default to From when absent or
 * empty (RFC 9051 7.5.2). utf8: the client may take 8-bit in quoted
 * strings (imap_string.h). 0, or -1 with errno ENOBUFS (out's ceiling).
 */
int imap_envelope_append(
    struct buf *out, const struct mime_envelope *env, bool utf8) MW_MUST_CHECK;

/*
 * Appends the address list p[0..n) as "(" address... ")", or NIL if it
 * holds none; *count_out (if not NULL) gets the number of addresses and
 * group markers written.
 */
int imap_address_list_append(struct buf *out, const char *p, size_t n,
    bool utf8, size_t *count_out) MW_MUST_CHECK;

#endif
