/*
 * The POP3 message encoder for RETR and TOP (RFC 1939 3, 7): a stored
 * message (LF line ends; CRLF where other programs wrote it) to a
 * multi-line response body: CRLF line ends (a bare LF gets its CR, a CRLF
 * passes as it is), a '.' that starts a line doubled, and the ".\r\n"
 * terminator. For TOP it stops after the header, the blank line and the
 * first n body lines. Pure and incremental: feed the file in chunks of
 * any size; no I/O.
 */
#ifndef POP3_POP3_ENCODE_H
#define POP3_POP3_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pop3_encoder {
	bool bol;            /* the next byte starts a line */
	bool cr;             /* the last byte was a CR */
	bool in_body;        /* past the blank line after the header */
	bool top;            /* TOP: count body lines */
	bool done;           /* TOP has all it wants: ignore the rest */
	size_t line_len;     /* bytes of the current line, CRs excluded */
	uint64_t lines_left; /* TOP: body lines still to send */
};

/* Starts a RETR (top false) or a TOP with body_lines lines. */
void pop3_encoder_init(struct pop3_encoder *e, bool top, uint64_t body_lines);
/* Encodes in[0..n) into out, which must hold 2 * n bytes; returns the
 * bytes written. */
size_t pop3_encoder_feed(
    struct pop3_encoder *e, const char *in, size_t n, char *out);
/* True once TOP needs no more input (RETR: never). */
bool pop3_encoder_done(const struct pop3_encoder *e);
/* The end: a line end if the last line had none, then ".\r\n"; out holds
 * at least 5 bytes; returns the bytes written. */
size_t pop3_encoder_end(struct pop3_encoder *e, char *out);

#endif
