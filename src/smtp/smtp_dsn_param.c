/*
 * The DSN parameter values of MAIL and RCPT (see smtp_dsn_param.h):
 * NOTIFY, RET, ENVID and ORCPT, checked and decoded. RFC 3461 4, RFC 6533 3.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "queue/xtext.h"
#include "smtp/smtp_dsn_param.h"

/* RFC 3461 4.4: "the ENVID ... MUST NOT exceed 100 characters" */
#define DSN_ENVID_MAX 100
/* RFC 3461 4.2: the ORCPT address, at most 500 characters */
#define DSN_ORCPT_MAX 500
/* RFC 6533 3: HEXPOINT is at most 6 hex digits (U+10FFFF) */
#define DSN_HEXPOINT_MAX 6

static int
dsn_fail(const char **errstr_out, const char *why, int err)
{
	*errstr_out = why;
	errno = err;
	return -1;
}

int
dsn_parse_notify(const char *v, unsigned *out)
{
	unsigned flags = 0;
	const char *comma;
	size_t n;

	if (ascii_eq(v, "NEVER")) {
		*out = DSN_NOTIFY_NEVER;
		return 0;
	}
	/* RFC 3461 4.1: 1#( "SUCCESS" / "FAILURE" / "DELAY" ) */
	for (;;) {
		comma = strchr(v, ',');
		n = comma != NULL ? (size_t)(comma - v) : strlen(v);
		if (n == 7 && ascii_eq_n(v, "SUCCESS", 7))
			flags |= DSN_NOTIFY_SUCCESS;
		else if (n == 7 && ascii_eq_n(v, "FAILURE", 7))
			flags |= DSN_NOTIFY_FAILURE;
		else if (n == 5 && ascii_eq_n(v, "DELAY", 5))
			flags |= DSN_NOTIFY_DELAY;
		else {
			errno = EINVAL; /* NEVER among others, empty, unknown */
			return -1;
		}
		if (comma == NULL)
			break;
		v = comma + 1;
	}
	*out = flags;
	return 0;
}

int
dsn_parse_ret(const char *v, int *out)
{
	if (ascii_eq(v, "FULL"))
		*out = 1;
	else if (ascii_eq(v, "HDRS"))
		*out = 2;
	else {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* True when b[from..len) is printable US-ASCII (SP to '~'). */
static bool
dsn_printable_from(const struct buf *b, size_t from)
{
	size_t i;

	for (i = from; i < b->len; i++)
		if ((unsigned char)b->data[i] < 0x20 ||
		    (unsigned char)b->data[i] > 0x7e)
			return false;
	return true;
}

int
dsn_parse_envid(const char *v, struct buf *out, const char **errstr_out)
{
	size_t n = strlen(v), start = out->len;

	if (n == 0)
		return dsn_fail(errstr_out, "empty ENVID", EINVAL);
	if (n > DSN_ENVID_MAX)
		return dsn_fail(
		    errstr_out, "ENVID longer than 100 characters", EINVAL);
	if (xtext_decode(v, n, out) == -1)
		return dsn_fail(errstr_out,
		    errno == ENOBUFS ? "ENVID too long"
		                     : "malformed ENVID xtext",
		    errno);
	/* RFC 3461 4.4: "consist of printable characters from US-ASCII" */
	if (!dsn_printable_from(out, start)) {
		buf_truncate(out, start);
		return dsn_fail(
		    errstr_out, "ENVID is not printable US-ASCII", EINVAL);
	}
	return 0;
}

/* RFC 5322 3.2.3 atext */
static bool
dsn_is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 6533 3: QCHAR = %x21-2a / %x2c-3c / %x3e-5b / %x5d-7e */
static bool
dsn_is_qchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '+' && c != '=' && c != '\\';
}

/* C0, DEL and C1 controls */
static bool
dsn_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Appends code point cp (checked by the caller) as UTF-8. */
static int
dsn_put_utf8(struct buf *out, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, u, n);
}

/*
 * RFC 6533 3: utf-8-addr-xtext / utf-8-addr-unitext = 1*(QUCHAR /
 * EmbeddedUnicodeChar), EmbeddedUnicodeChar = %x5C.78 "{" HEXPOINT "}".
 * 0, or -1 with errno EINVAL (malformed) or ENOBUFS; the caller cleans up.
 */
static int
dsn_decode_utf8_addr(const char *p, size_t n, struct buf *out)
{
	size_t i = 0, k, d;
	uint32_t cp;
	int h;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\') {
			if (n - i < 4 || p[i + 1] != 'x' || p[i + 2] != '{')
				goto inval;
			cp = 0;
			for (d = 0, k = i + 3; k < n && p[k] != '}'; k++, d++) {
				h = xtext_hexval((unsigned char)p[k]);
				if (h == -1 || d == DSN_HEXPOINT_MAX)
					goto inval;
				cp = cp << 4 | (uint32_t)h;
			}
			/* no control character, surrogate or code point
			 * past U+10FFFF may come out */
			if (k == n || d == 0 || dsn_is_control(cp) ||
			    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
				goto inval;
			if (dsn_put_utf8(out, cp) == -1)
				return -1;
			i = k + 1;
		} else if (c >= 0x80) {
			k = mailaddr_utf8_len(p + i, n - i);
			/* U+0080..U+009F are C1 controls */
			if (k == 0 ||
			    (c == 0xc2 && (unsigned char)p[i + 1] < 0xa0))
				goto inval;
			if (buf_append(out, p + i, k) == -1)
				return -1;
			i += k;
		} else if (dsn_is_qchar(c)) {
			if (buf_append_char(out, (char)c) == -1)
				return -1;
			i++;
		} else
			goto inval;
	}
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

int
dsn_parse_orcpt(const char *v, struct buf *type_out, struct buf *addr_out,
    const char **errstr_out)
{
	size_t tstart = type_out->len, astart = addr_out->len, tn, an, i;
	const char *semi = strchr(v, ';'), *addr, *why;
	bool utf8;
	int r;

	if (semi == NULL)
		return dsn_fail(
		    errstr_out, "ORCPT without an address type", EINVAL);
	tn = (size_t)(semi - v);
	for (i = 0; i < tn; i++)
		if (!dsn_is_atext((unsigned char)v[i]))
			break;
	if (tn == 0 || i < tn)
		return dsn_fail(
		    errstr_out, "malformed ORCPT address type", EINVAL);
	addr = semi + 1;
	an = strlen(addr);
	if (an == 0)
		return dsn_fail(errstr_out, "empty ORCPT address", EINVAL);
	if (an > DSN_ORCPT_MAX)
		return dsn_fail(
		    errstr_out, "ORCPT longer than 500 characters", EINVAL);
	if (buf_append(type_out, v, tn) == -1)
		return dsn_fail(
		    errstr_out, "ORCPT address type too long", ENOBUFS);
	for (i = tstart; i < type_out->len; i++)
		if (type_out->data[i] >= 'A' && type_out->data[i] <= 'Z')
			type_out->data[i] =
			    (char)(type_out->data[i] - 'A' + 'a');
	utf8 = tn == 5 && ascii_eq_n(v, "utf-8", 5);
	r = utf8 ? dsn_decode_utf8_addr(addr, an, addr_out)
	         : xtext_decode(addr, an, addr_out);
	if (r == -1) {
		why = errno == ENOBUFS ? "ORCPT address too long"
		                       : "malformed ORCPT address";
		goto fail;
	}
	/* RFC 3461 4.2: printable US-ASCII before encoding */
	if (!utf8 && !dsn_printable_from(addr_out, astart)) {
		why = "ORCPT address is not printable US-ASCII";
		errno = EINVAL;
		goto fail;
	}
	return 0;
fail:
	r = errno;
	buf_truncate(type_out, tstart);
	buf_truncate(addr_out, astart);
	return dsn_fail(errstr_out, why, r);
}
