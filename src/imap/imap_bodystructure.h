/*
 * IMAP BODY and BODYSTRUCTURE (RFC 9051 7.5.2, RFC 3501 7.4.2) of a part
 * of a mime_tree: the basic fields, line counts for text/ parts, the envelope,
 * body and lines of an embedded message/rfc822 or message/global, and
 * for BODYSTRUCTURE the extension data (MD5, disposition, language,
 * location; a multipart's parameters). Shaped as Dovecot 2.3 writes it.
 */
#ifndef IMAP_IMAP_BODYSTRUCTURE_H
#define IMAP_IMAP_BODYSTRUCTURE_H

#include <stdbool.h>

#include "lib/mw.h"

struct buf;
struct mime_part;

/*
 * Appends "(" ... ")" for part and what is below it; extended: the
 * BODYSTRUCTURE form, else BODY. utf8 as in imap_string.h. 0, or -1 with
 * errno ENOBUFS past out's ceiling (out is as it was then).
 */
int imap_bodystructure_append(struct buf *out, const struct mime_part *part,
    bool extended, bool utf8) MW_MUST_CHECK;

#endif
