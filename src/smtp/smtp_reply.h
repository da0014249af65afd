/*
 * The SMTP client's reply parser: pure functions over the bytes a server
 * sent. smtp_reply_parse() takes one reply (RFC 5321 4.2) off the front of
 * a buffer, smtp_reply_format() turns it into the one line that logs and
 * bounces show, and smtp_ehlo_parse() reads the extensions an EHLO reply
 * announces (RFC 5321 4.1.1.1). No I/O, no globals; limits are passed in.
 * Reading the socket, timeouts and what a code means for the transaction
 * are the client state machine's business.
 */
#ifndef SMTP_SMTP_REPLY_H
#define SMTP_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/mw.h"

/* A reply of an SMTP server (RFC 5321 4.2): one or more lines "ddd-text"
 * ... "ddd text". */
struct smtp_reply {
	int code; /* 200..599 */
	/*
	 * The enhanced status code (RFC 3463 2, RFC 2034) at the start of
	 * the LAST line's text, e.g. "5.1.1", or "" when that line carries
	 * none or one whose class differs from the code's first digit (as
	 * Postfix's smtp_chat_resp(): "250 5.0.0" carries none).
	 */
	char dsn[16];
	size_t nlines;
	/*
	 * Every line's text after "ddd-"/"ddd " (and NOT stripped of the
	 * enhanced code), lines joined by '\n', NUL-terminated (data is never
	 * NULL after SMTP_REPLY_OK); bounded by the max given to
	 * smtp_reply_init. The bytes are the server's: a bare CR, a NUL or
	 * 8-bit data stay as they came (smtp_reply_format() cleans them).
	 */
	struct buf text;
};

/* Initialises an empty reply whose text may grow to text_max bytes. */
void smtp_reply_init(struct smtp_reply *r, size_t text_max);
/* Empties the reply but keeps its memory. */
void smtp_reply_reset(struct smtp_reply *r);
/* Releases the memory; init again before reuse. */
void smtp_reply_free(struct smtp_reply *r);

enum smtp_reply_status {
	SMTP_REPLY_OK,
	SMTP_REPLY_MORE,
	SMTP_REPLY_ERROR,
};

/*
 * Parses one complete reply from the start of p[0..n); r is reset first.
 * Lines end in CRLF; a bare LF is accepted too, a bare CR inside the text
 * is text. A line "250" with nothing after the code is a final line (RFC
 * 5321 4.2.1 tolerance).
 *  OK: *consumed_out = bytes of the whole reply, up to and including the
 *    final line's LF (p[*consumed_out..n) is the next reply, when the
 *    server pipelines); r is filled.
 *  MORE: no complete final line yet and nothing seen so far is wrong: call
 *    again with the same bytes and more after them.
 *  ERROR: not a reply, *errstr_out says why in one line (a static string):
 *    a code that is not 3 digits 2xx..5xx, a separator other than '-',
 *    ' ' or the line end, a continuation line whose code differs from the
 *    first, a line longer than line_max, more than lines_max lines, text
 *    over r->text's max.
 * line_max counts every byte of a line including its CRLF (RFC 5321
 * 4.5.3.1.5: 512 octets). The bytes are judged one by one, so a prefix of
 * the input never gives OK or another ERROR than the whole input: an error
 * shows as soon as its first wrong byte has arrived, also in an unfinished
 * line. r's contents are unspecified after MORE or ERROR.
 */
enum smtp_reply_status smtp_reply_parse(const char *p, size_t n,
    size_t line_max, size_t lines_max, struct smtp_reply *r,
    size_t *consumed_out, const char **errstr_out);

/*
 * Appends the reply as one line for logs and bounces, as Postfix writes it:
 * "550 5.1.1 <u@d>: Recipient address rejected", the code, then each
 * non-empty line's text after a ' '. Control bytes (CR, TAB, NUL, DEL...)
 * and bytes that are not well-formed UTF-8 become '?'; well-formed UTF-8
 * stays. The line is cut, at a character boundary, to fit out->max. 0, or
 * -1 (ENOBUFS) when not even the code fits.
 */
int smtp_reply_format(
    const struct smtp_reply *r, struct buf *out) MW_MUST_CHECK;

/* EHLO keywords (RFC 5321 4.1.1.1: keyword [SP params], case-insensitive;
 * the first line is the greeting name, not a keyword). */
enum {
	SMTP_EXT_PIPELINING = 1 << 0,          /* RFC 2920 */
	SMTP_EXT_SIZE = 1 << 1,                /* RFC 1870 */
	SMTP_EXT_8BITMIME = 1 << 2,            /* RFC 6152 */
	SMTP_EXT_SMTPUTF8 = 1 << 3,            /* RFC 6531 */
	SMTP_EXT_CHUNKING = 1 << 4,            /* RFC 3030 */
	SMTP_EXT_DSN = 1 << 5,                 /* RFC 3461 */
	SMTP_EXT_STARTTLS = 1 << 6,            /* RFC 3207 */
	SMTP_EXT_AUTH = 1 << 7,                /* RFC 4954 */
	SMTP_EXT_ENHANCEDSTATUSCODES = 1 << 8, /* RFC 2034 */
	SMTP_EXT_BINARYMIME = 1 << 9,          /* RFC 3030 */
};

/* SASL mechanisms offered (RFC 4954 3, RFC 4616, RFC 2195, RFC 7677). */
enum {
	SMTP_AUTH_PLAIN = 1 << 0,
	SMTP_AUTH_LOGIN = 1 << 1,
	SMTP_AUTH_CRAM_MD5 = 1 << 2,
	SMTP_AUTH_SCRAM_SHA_256 = 1 << 3,
};

struct smtp_ehlo {
	unsigned ext;      /* SMTP_EXT_* */
	uint64_t size_max; /* SIZE's parameter; 0 = no limit announced or
	                      SIZE without a number */
	unsigned auth;     /* SMTP_AUTH_* from "AUTH mech..." and the old
	                      "AUTH=mech..." form */
};

/*
 * Fills out from an EHLO reply. A reply whose code is not 250 announces
 * nothing. Unknown keywords and mechanisms are ignored; a malformed SIZE
 * parameter (not 1*20DIGIT, past UINT64_MAX, more than one) means "SIZE
 * without a limit". Never fails.
 */
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *out);

#endif
