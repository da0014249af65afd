/*
 * IMAP quoted strings and literals (see imap_string.h).
 */
#include "imap/imap_string.h"

#include <string.h>

#include "lib/buf.h"

#define QUOTED_SPECIALS_MAX 4 /* as Dovecot: then a literal is as short */

size_t
imap_number_format(char *p, uint64_t v)
{
	char tmp[IMAP_NUMBER_MAX];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

int
imap_number_append(struct buf *out, uint64_t v)
{
	char p[IMAP_NUMBER_MAX];

	return buf_append(out, p, imap_number_format(p, v));
}

/* The length of the valid UTF-8 sequence at p[0..n), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1fu;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0fu;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* RFC 9051 4.3: quoted = DQUOTE *QUOTED-CHAR DQUOTE, where QUOTED-CHAR is
 * a TEXT-CHAR (any CHAR but CR and LF) or "\" quoted-specials, and with
 * UTF-8 also UTF8-2/3/4 (RFC 9051 9, RFC 6855 3). */
static bool
can_quote(const char *s, size_t n, bool utf8)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, specials = 0, len;

	if (n > IMAP_QUOTED_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (u[i] == '\0' || u[i] == '\r' || u[i] == '\n')
			return false;
		if ((u[i] == '"' || u[i] == '\\') &&
		    ++specials > QUOTED_SPECIALS_MAX)
			return false;
		if (u[i] >= 0x80) {
			if (!utf8 || (len = utf8_len(u + i, n - i)) == 0)
				return false;
			i += len - 1;
		}
	}
	return true;
}

int
imap_string_append(struct buf *out, const char *s, size_t n, bool utf8)
{
	size_t start = out->len, i, run;

	if (!can_quote(s, n, utf8)) {
		/* RFC 9051 4.3: a literal is {n} CRLF, then exactly n
		 * octets */
		if (buf_append_char(out, '{') == -1 ||
		    imap_number_append(out, n) == -1 ||
		    buf_append(out, "}\r\n", 3) == -1 ||
		    buf_append(out, s, n) == -1)
			goto fail;
		return 0;
	}
	if (buf_append_char(out, '"') == -1)
		goto fail;
	for (i = 0; i < n; i = run + 1) {
		for (run = i; run < n && s[run] != '"' && s[run] != '\\'; run++)
			;
		if (buf_append(out, s + i, run - i) == -1)
			goto fail;
		if (run < n &&
		    (buf_append_char(out, '\\') == -1 ||
		        buf_append_char(out, s[run]) == -1))
			goto fail;
	}
	if (buf_append_char(out, '"') == -1)
		goto fail;
	return 0;
fail:
	buf_truncate(out, start);
	return -1;
}

int
imap_nstring_append(struct buf *out, const char *s, bool utf8)
{
	if (s == NULL)
		return buf_append(out, "NIL", 3);
	return imap_string_append(out, s, strlen(s), utf8);
}
