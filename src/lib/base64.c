/*
 * Strict base64 (see base64.h): the decoder maps each character to its
 * 6-bit value or refuses it, and checks the padding by position.
 */
#include "lib/base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define BASE64_BAD 0xff

/* The 6-bit value of an alphabet character, BASE64_BAD for any other
 * octet ('=' included). */
static uint8_t
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (uint8_t)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (uint8_t)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (uint8_t)(c - '0' + 52);
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return BASE64_BAD;
}

size_t
base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t
base64_decoded_max(size_t n)
{
	return n / 4 * 3 + (n % 4 != 0 ? 3 : 0);
}

int
base64_encode(struct buf *out, const void *p, size_t n)
{
	const unsigned char *in = p;
	size_t start = out->len, i;
	char q[4];
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		q[0] = base64_alphabet[v >> 18];
		q[1] = base64_alphabet[(v >> 12) & 63];
		q[2] = base64_alphabet[(v >> 6) & 63];
		q[3] = base64_alphabet[v & 63];
		if (buf_append(out, q, 4) == -1)
			goto fail;
	}
	if (n - i == 0)
		return 0;
	/* RFC 4648 4: one or two final octets, padded with '=' */
	v = (uint32_t)in[i] << 16;
	if (n - i == 2)
		v |= (uint32_t)in[i + 1] << 8;
	q[0] = base64_alphabet[v >> 18];
	q[1] = base64_alphabet[(v >> 12) & 63];
	q[2] = n - i == 2 ? base64_alphabet[(v >> 6) & 63] : '=';
	q[3] = '=';
	if (buf_append(out, q, 4) == -1)
		goto fail;
	return 0;
fail:
	buf_truncate(out, start);
	return -1;
}

int
base64_decode(struct buf *out, const char *s, size_t n)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t start = out->len, i, pad = 0;
	unsigned char o[3];
	uint8_t a, b, c, d;

	/* RFC 4648 3.1, 3.2: no line feeds, padding required */
	if (n % 4 != 0) {
		errno = EINVAL;
		return -1;
	}
	if (n > 0 && in[n - 1] == '=')
		pad = in[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n; i += 4) {
		bool last = i + 4 == n;

		a = base64_value(in[i]);
		b = base64_value(in[i + 1]);
		c = last && pad == 2 ? 0 : base64_value(in[i + 2]);
		d = last && pad >= 1 ? 0 : base64_value(in[i + 3]);
		if (a > 63 || b > 63 || c > 63 || d > 63)
			goto bad;
		/* RFC 4648 3.5: the bits that padding leaves over are zero */
		if (last && pad == 2 && (b & 15) != 0)
			goto bad;
		if (last && pad == 1 && (c & 3) != 0)
			goto bad;
		o[0] = (unsigned char)(a << 2 | b >> 4);
		o[1] = (unsigned char)(b << 4 | c >> 2);
		o[2] = (unsigned char)(c << 6 | d);
		if (buf_append(out, o, last ? 3 - pad : 3) == -1)
			goto fail;
	}
	explicit_bzero(o, sizeof(o)); /* the decoded bytes may be a password */
	return 0;
bad:
	errno = EINVAL;
fail:
	explicit_bzero(o, sizeof(o));
	buf_truncate(out, start);
	return -1;
}
