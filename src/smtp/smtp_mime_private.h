/*
 * MIME header field parsing for the 8BITMIME downgrade (smtp_downgrade.c):
 * pure functions over the bytes of one header block or field value, which
 * may hold folded lines (LF, then SP or TAB) and 8-bit bytes. Lenient as
 * Postfix is: what does not parse is reported as such, never an error.
 */
#ifndef SMTP_SMTP_MIME_PRIVATE_H
#define SMTP_SMTP_MIME_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

enum smtp_mime_cte {
	SMTP_MIME_CTE_NONE, /* no Content-Transfer-Encoding field */
	SMTP_MIME_CTE_7BIT,
	SMTP_MIME_CTE_8BIT,
	SMTP_MIME_CTE_BINARY,
	SMTP_MIME_CTE_QP,
	SMTP_MIME_CTE_BASE64,
	SMTP_MIME_CTE_OTHER, /* unknown or invalid: RFC 2045 6.4, opaque */
};

enum smtp_mime_field {
	SMTP_MIME_FIELD_OTHER,
	SMTP_MIME_FIELD_CTYPE,
	SMTP_MIME_FIELD_CTE,
};

struct smtp_mime_ctype {
	bool valid; /* type "/" subtype parsed */
	bool multipart, digest, message, rfc822;
	bool boundary; /* a non-empty boundary parameter was parsed */
};

/* RFC 5322 2.2: does line p[0..n) start a field ("name:")? Obsolete white
 * space before the colon is allowed (RFC 5322 4.5); *name_len_out (if not
 * NULL) gets the name's length. */
bool smtp_mime_is_field(const char *p, size_t n, size_t *name_len_out);
/* Of the header block p[0..n) (fields and their continuation lines), the
 * field that starts at p[i]: returns where the next one starts, and gives
 * its kind and where its value starts (n if it is not a field). */
size_t smtp_mime_field_next(const char *p, size_t n, size_t i,
    enum smtp_mime_field *kind_out, size_t *value_out);
/* A Content-Transfer-Encoding value (RFC 2045 6.1), comments allowed. */
enum smtp_mime_cte smtp_mime_parse_cte(const char *p, size_t n);
/* A Content-Type value (RFC 2045 5.1) into *ct; the first boundary
 * parameter, unquoted, into boundary (reset first; a boundary that does
 * not fit boundary->max is none). */
void smtp_mime_parse_ctype(
    const char *p, size_t n, struct buf *boundary, struct smtp_mime_ctype *ct);

#endif
