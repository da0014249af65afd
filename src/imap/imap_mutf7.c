/*
 * Modified UTF-7 (RFC 3501 5.1.3) and UTF-8 checks (see imap_mutf7.h).
 * "&" starts a shift into modified base64 (RFC 2152 base64 with "," for
 * "/", no padding) of UTF-16, "-" ends it; "&-" is "&" itself.
 */
#include "imap/imap_mutf7.h"

#include <errno.h>

#include "lib/buf.h"

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

size_t
imap_utf8_char_len(const unsigned char *p, size_t n, uint32_t *cp_out)
{
	size_t len, i;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		len = 1, cp = p[0];
	else if (p[0] >= 0xc2 && p[0] <= 0xdf)
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
	/* RFC 3629 3: shortest form only, no surrogates, <= U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	if (cp_out != NULL)
		*cp_out = cp;
	return len;
}

bool
imap_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len;

	while (i < n) {
		if ((len = imap_utf8_char_len(u + i, n - i, NULL)) == 0)
			return false;
		i += len;
	}
	return true;
}

static bool
printable(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Appends the modified base64 digits of the whole 6-bit groups held in
 * *bits (nbits of them), keeping the rest. */
static int
b64_flush(struct buf *out, uint32_t *bits, int *nbits)
{
	while (*nbits >= 6) {
		*nbits -= 6;
		if (buf_append_char(out, b64_chars[(*bits >> *nbits) & 0x3f]) ==
		    -1)
			return -1;
	}
	*bits &= (1u << *nbits) - 1;
	return 0;
}

/* Ends a shift: the last bits padded with zeros, then "-". */
static int
shift_close(struct buf *out, uint32_t bits, int nbits)
{
	if (nbits > 0 &&
	    buf_append_char(out, b64_chars[(bits << (6 - nbits)) & 0x3f]) == -1)
		return -1;
	return buf_append_char(out, '-');
}

int
imap_mutf7_encode(const char *s, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = out->len, i = 0, len;
	bool shifted = false;
	uint32_t cp, bits = 0;
	int nbits = 0;

	while (i < n) {
		if ((len = imap_utf8_char_len(u + i, n - i, &cp)) == 0) {
			errno = EINVAL;
			goto fail;
		}
		i += len;
		if (printable(cp)) {
			/* RFC 3501 5.1.3: printable ASCII stands for itself,
			 * "&" is written "&-" */
			if (shifted && shift_close(out, bits, nbits) == -1)
				goto fail;
			shifted = false;
			if (buf_append_char(out, (char)cp) == -1 ||
			    (cp == '&' && buf_append_char(out, '-') == -1))
				goto fail;
			continue;
		}
		if (!shifted) {
			if (buf_append_char(out, '&') == -1)
				goto fail;
			shifted = true;
			bits = 0;
			nbits = 0;
		}
		/* UTF-16: a surrogate pair above U+FFFF */
		if (cp >= 0x10000) {
			cp -= 0x10000;
			bits = bits << 16 | (0xd800 | cp >> 10);
			nbits += 16;
			if (b64_flush(out, &bits, &nbits) == -1)
				goto fail;
			cp = 0xdc00 | (cp & 0x3ff);
		}
		bits = bits << 16 | cp;
		nbits += 16;
		if (b64_flush(out, &bits, &nbits) == -1)
			goto fail;
	}
	if (shifted && shift_close(out, bits, nbits) == -1)
		goto fail;
	return 0;
fail:
	buf_truncate(out, start);
	return -1;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static int
utf8_append(struct buf *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80)
		b[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (char)(0xc0 | cp >> 6),
		b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		b[0] = (char)(0xe0 | cp >> 12),
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	else
		b[0] = (char)(0xf0 | cp >> 18),
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)),
		b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	return buf_append(out, b, n);
}

int
imap_mutf7_decode(const char *s, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = out->len, i = 0, chars;
	uint32_t bits, hi;
	int nbits, v;
	bool after_shift = false;

	while (i < n) {
		if (!printable(u[i]))
			goto inval; /* RFC 3501 5.1.3: 7-bit printable only */
		if (u[i] != '&') {
			if (buf_append_char(out, (char)u[i]) == -1)
				goto fail;
			i++;
			after_shift = false;
			continue;
		}
		i++;
		if (i < n && u[i] == '-') { /* "&-" is "&" */
			if (buf_append_char(out, '&') == -1)
				goto fail;
			i++;
			after_shift = false;
			continue;
		}
		/* canonical: a shift never follows a shift directly (the
		 * encoder joins them) */
		if (after_shift)
			goto inval;
		bits = 0;
		nbits = 0;
		hi = 0;
		chars = 0;
		while (i < n && u[i] != '-') {
			if ((v = b64_value(u[i])) == -1)
				goto inval;
			bits = (bits << 6 | (uint32_t)v) & 0xffffff;
			nbits += 6;
			chars++;
			i++;
			if (nbits < 16)
				continue;
			nbits -= 16;
			{
				uint32_t unit = (bits >> nbits) & 0xffff;

				if (hi != 0) {
					if (unit < 0xdc00 || unit > 0xdfff)
						goto inval;
					if (utf8_append(out,
					        0x10000 +
					            ((hi - 0xd800) << 10) +
					            (unit - 0xdc00)) == -1)
						goto fail;
					hi = 0;
				} else if (unit >= 0xd800 && unit <= 0xdbff)
					hi = unit;
				else if (unit >= 0xdc00 && unit <= 0xdfff)
					goto inval;
				else if (printable(unit))
					goto inval; /* must be written as itself
					             */
				else if (utf8_append(out, unit) == -1)
					goto fail;
			}
		}
		if (i == n)
			goto inval; /* unterminated shift */
		i++;                /* the "-" */
		/* an empty shift, a dangling high surrogate, 6 or more
		 * leftover bits, or nonzero padding bits: not canonical */
		if (chars == 0 || hi != 0 || nbits >= 6 ||
		    (bits & ((1u << nbits) - 1)) != 0)
			goto inval;
		after_shift = true;
	}
	return 0;
inval:
	errno = EINVAL;
fail:
	buf_truncate(out, start);
	return -1;
}
