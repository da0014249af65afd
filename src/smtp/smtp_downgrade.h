/*
 * The SMTP client's 8BITMIME downgrade (RFC 6152 3, RFC 1652 5): when a
 * message with 8-bit body text goes to a server that does not offer
 * 8BITMIME, its text parts are re-encoded as quoted-printable (RFC 2045
 * 6.7), as Postfix's smtp client does. Pure and streaming: it sits in front
 * of smtp_dotstuff, takes the stored message (LF line ends) in chunks of
 * any size and gives out the converted message (still LF line ends). It
 * never fails on malformed MIME: what it cannot understand passes through.
 *
 * What it converts: a leaf entity (a type other than multipart and message)
 * whose Content-Transfer-Encoding is absent, 7bit or 8bit and whose body
 * holds a byte >= 0x80; its Content-Transfer-Encoding field is replaced
 * (or added) by "quoted-printable". A message without MIME fields is
 * text/plain (RFC 2045 5.2): only that field is added, not MIME-Version.
 * base64, quoted-printable, binary and unknown encodings pass through, and
 * so do headers (8-bit headers need SMTPUTF8, which the caller checks) and
 * the preamble and epilogue of multiparts. smtp_downgrade.c has the rules.
 *
 * Deciding needs the body, but the header comes first: an entity's header
 * block and the start of its body are held (together at most header_max
 * bytes) until an 8-bit byte shows up (convert), or the entity ends (keep
 * it byte-identical, a label "8bit" becoming "7bit"), or header_max is
 * reached (convert anyway: Postfix's rule that every text part of an 8-bit
 * message may hold 8-bit). So the caller should only pass messages that
 * need it (smtp_downgrade_needed(), or the queue's 8-bit flag).
 */
#ifndef SMTP_SMTP_DOWNGRADE_H
#define SMTP_SMTP_DOWNGRADE_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct smtp_downgrade;

struct smtp_downgrade_limits {
	/* The longest header line or body line start (a possible boundary
	 * delimiter) held, LF not counted; longer lines stream through (in
	 * a header they end its parsing). E.g. 64 KiB (Postfix: 2048). */
	size_t line_max;
	/* Nested multipart and message/rfc822 entities parsed; one deeper
	 * passes through unchanged. E.g. 32 (Postfix's mime_nesting_limit
	 * is 100). */
	size_t depth_max;
	/* One entity's header block plus the body held while deciding; a
	 * longer header passes through unparsed. E.g. 256 KiB (Postfix's
	 * header_size_limit is 100 KiB). */
	size_t header_max;
};

/* A new downgrade for one message, with a copy of *lim; free it with
 * smtp_downgrade_free(). It holds about header_max + (depth_max + 4) *
 * line_max bytes at most. */
struct smtp_downgrade *smtp_downgrade_new(
    const struct smtp_downgrade_limits *lim);
/* Frees *d (NULL is fine) and sets *d to NULL. */
void smtp_downgrade_free(struct smtp_downgrade **d);
/*
 * Feeds in[0..n) of the stored message (LF line ends, header then body, in
 * chunks of any size) and appends the converted bytes to out; some are
 * held back until more input or smtp_downgrade_end(). Returns 0, or -1
 * with errno ENOBUFS when out reached out->max: out then holds a prefix of
 * the converted message, and d fails every later call; free it. One call
 * appends at most 9 * n + 4 * (header_max + line_max) + 128 bytes (9: a
 * one-byte 8-bit part after a one-character boundary gets a
 * Content-Transfer-Encoding field; quoted-printable alone is 3.1).
 */
int smtp_downgrade_feed(
    struct smtp_downgrade *d, const char *in, size_t n, struct buf *out);
/* End of input: appends what is held (at most 4 * (header_max +
 * line_max) + 128 bytes). 0, or -1 (ENOBUFS) as for feed. Call it once;
 * only smtp_downgrade_free() may follow. */
int smtp_downgrade_end(struct smtp_downgrade *d, struct buf *out);
/* Pure: does p[0..n) hold a byte >= 0x80? */
bool smtp_downgrade_needed(const char *p, size_t n);

#endif
