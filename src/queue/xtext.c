/* xtext encoding and decoding (see xtext.h). */
#include <errno.h>
#include <stdbool.h>

#include "lib/buf.h"
#include "queue/xtext.h"

static const char xtext_hexdig[] = "0123456789ABCDEF";

/* RFC 3461 4: xchar = any ASCII CHAR between "!" (33) and "~" (126)
 * inclusive, except for "+" and "=" */
static bool
xtext_is_xchar(unsigned char c)
{
	return c >= '!' && c <= '~' && c != '+' && c != '=';
}

/* RFC 3461 4: hexchar = ASCII "+" immediately followed by two upper case
 * hexadecimal digits. Lower case is taken too (RFC 5321 4.5.1 spirit, and
 * what the server's parameter check lets through): we encode upper case. */
int
xtext_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
xtext_encode(const char *s, size_t n, struct buf *out)
{
	size_t start = out->len, i, run;

	for (i = 0; i < n; i += run) {
		unsigned char c = (unsigned char)s[i];
		char hex[3];

		/* copy a run of xchars at once */
		for (run = 0;
		     i + run < n && xtext_is_xchar((unsigned char)s[i + run]);
		     run++)
			continue;
		if (run > 0) {
			if (buf_append(out, s + i, run) == -1)
				goto fail;
			continue;
		}
		hex[0] = '+';
		hex[1] = xtext_hexdig[c >> 4];
		hex[2] = xtext_hexdig[c & 0x0f];
		if (buf_append(out, hex, sizeof(hex)) == -1)
			goto fail;
		run = 1;
	}
	return 0;
fail:
	buf_truncate(out, start);
	errno = ENOBUFS;
	return -1;
}

int
xtext_decode(const char *p, size_t n, struct buf *out)
{
	size_t start = out->len, i;
	int hi, lo, err = EINVAL;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '+') {
			if (n - i < 3 ||
			    (hi = xtext_hexval((unsigned char)p[i + 1])) == -1 ||
			    (lo = xtext_hexval((unsigned char)p[i + 2])) == -1 ||
			    (hi == 0 && lo == 0))
				goto fail;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (!xtext_is_xchar(c))
			goto fail;
		if (buf_append_char(out, (char)c) == -1) {
			err = ENOBUFS;
			goto fail;
		}
	}
	return 0;
fail:
	buf_truncate(out, start);
	errno = err;
	return -1;
}
