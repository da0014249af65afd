/*
 * Content decoders for stored mail, lenient as real mail needs: streaming
 * quoted-printable (RFC 2045 6.7) and base64 (RFC 2045 6.8) body decoders
 * that take input in pieces of any size; RFC 2047 encoded-words and
 * header unfolding for header values; charset conversion to UTF-8 with
 * iconv. They serve IMAP SEARCH (decoded text) and BINARY[] (RFC 3516).
 * Pure functions over bytes; results are appended to a struct buf and each
 * returns -1 with errno ENOBUFS when that buf's ceiling is reached (what
 * was appended by then stays).
 */
#ifndef MIME_MIME_DECODE_H
#define MIME_MIME_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

#define MIME_QP_WS_MAX 64 /* trailing white space held to see the line end */

/* Quoted-printable state; zero it (or call mime_qp_init) before use. */
struct mime_qp {
	int state;
	unsigned char hex1;
	size_t ws_n;
	unsigned char ws[MIME_QP_WS_MAX];
};

void mime_qp_init(struct mime_qp *q);
/*
 * RFC 2045 6.7: "=XX" (either case of hex) is the byte XX; "=" at the end
 * of a line (white space may follow it) is a soft line break and goes;
 * white space at the end of a line goes (rule 3); an "=" that starts no
 * valid sequence is kept as it is, with what follows. Line ends are copied
 * as they come (LF or CRLF). Appends at most n + MIME_QP_WS_MAX + 2 bytes.
 */
int mime_qp_decode(
    struct mime_qp *q, const void *in, size_t n, struct buf *out) MW_MUST_CHECK;
/* The end of the body: flushes what is held ("=" at the very end is a
 * soft line break: the last line had no line end). */
int mime_qp_end(struct mime_qp *q, struct buf *out) MW_MUST_CHECK;

/* Base64 state; zero it (or call mime_b64_init) before use. */
struct mime_b64 {
	uint32_t acc;
	unsigned bits;
};

void mime_b64_init(struct mime_b64 *b);
/*
 * RFC 2045 6.8: characters outside the base64 alphabet (line breaks,
 * white space, junk) are ignored; "=" ends a group, and what comes after
 * it starts afresh (concatenated encodings decode too). A group of one
 * character is dropped. Appends at most 3 * n / 4 + 3 bytes.
 */
int mime_b64_decode(struct mime_b64 *b, const void *in, size_t n,
    struct buf *out) MW_MUST_CHECK;
int mime_b64_end(struct mime_b64 *b, struct buf *out) MW_MUST_CHECK;

/*
 * Converts p[0..n) from charset to UTF-8, appended to out. A byte sequence
 * that is invalid in the charset becomes U+FFFD. Charset names are
 * iconv's (case-insensitive; an RFC 2231 "*language" suffix is ignored).
 * 0; -1 with errno EINVAL for an unknown charset (nothing appended), or
 * ENOBUFS.
 */
int mime_charset_to_utf8(const char *charset, size_t charset_n, const char *p,
    size_t n, struct buf *out) MW_MUST_CHECK;

/* RFC 5322 2.2.3: the value p[0..n) with every CR and LF removed. */
int mime_unfold(const char *p, size_t n, struct buf *out) MW_MUST_CHECK;

/*
 * A header value for people: unfolded, and RFC 2047 encoded-words
 * (=?charset?B?...?= and =?charset?Q?...?=, charset may carry RFC 2231
 * "*lang") decoded to UTF-8. White space between two encoded-words goes
 * (RFC 2047 6.2), and adjacent words in one charset are joined before
 * conversion, so that a character split between them survives. A word in
 * an unknown charset, or one that does not parse, is kept as it is, and
 * so is the other text (8-bit bytes included).
 */
int mime_2047_decode(const char *p, size_t n, struct buf *out) MW_MUST_CHECK;

#endif
