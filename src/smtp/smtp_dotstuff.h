/*
 * The SMTP client's message encoder: the queue's stored form (LF line
 * ends) to DATA content on the wire (RFC 5321 4.5.2 and 2.3.8): CRLF line
 * ends, a '.' that starts a line doubled, and the end-of-data marker. Pure
 * and incremental: a message is fed in chunks of any size.
 */
#ifndef SMTP_SMTP_DOTSTUFF_H
#define SMTP_SMTP_DOTSTUFF_H

#include <stdbool.h>
#include <stddef.h>

struct smtp_dotstuff {
	bool bol;   /* the next byte starts a line */
	bool empty; /* nothing fed yet */
};

void smtp_dotstuff_init(struct smtp_dotstuff *d);
/* Encodes in[0..n) into out, which must hold 2 * n bytes; returns the
 * bytes written. */
size_t smtp_dotstuff_feed(
    struct smtp_dotstuff *d, const char *in, size_t n, char *out);
/* BDAT content (RFC 3030: no dot-stuffing): LF line ends to CRLF. out
 * holds 2 * n bytes; returns the bytes written. */
size_t smtp_dotstuff_crlf(const char *in, size_t n, char *out);
/* The end: CRLF if the last line was not ended, then ".\r\n"; out holds
 * at least 5 bytes; returns the bytes written. */
size_t smtp_dotstuff_end(struct smtp_dotstuff *d, char *out);
/* The size of the encoded form of a stored message of n bytes with
 * lines LF-ended lines (what SIZE= announces; RFC 1870 counts CRLF). */
unsigned long long smtp_dotstuff_size(
    unsigned long long n, unsigned long long lines);

#endif
