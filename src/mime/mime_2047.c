/*
 * RFC 2047 encoded-words in header values, and charset conversion to
 * UTF-8 through glibc's iconv (see mime_decode.h).
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "mime/mime_decode.h"

#define CHARSET_NAME_MAX 64
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/* The length of the UTF-8 sequence at p[0..n), or 0 if it is invalid. */
static size_t
utf8_seq_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* UTF-8 in, UTF-8 out: invalid sequences become U+FFFD. */
static int
utf8_sanitize(const char *p, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, start = 0, len;

	if (n == 0)
		return 0; /* p may be NULL then */
	while (i < n) {
		len = utf8_seq_len(u + i, n - i);
		if (len > 0) {
			i += len;
			continue;
		}
		if (buf_append(out, p + start, i - start) == -1 ||
		    buf_append(out, UTF8_REPLACEMENT, 3) == -1)
			return -1;
		start = ++i;
	}
	return buf_append(out, p + start, n - start);
}

static bool
charset_is(const char *cs, const char *name)
{
	return ascii_eq(cs, name);
}

int
mime_charset_to_utf8(const char *charset, size_t charset_n, const char *p,
    size_t n, struct buf *out)
{
	char cs[CHARSET_NAME_MAX + 1], obuf[1024], *in, *o;
	const char *star;
	size_t inleft, oleft;
	iconv_t cd;
	int ret = -1;

	/* RFC 2231 5: charset*language */
	star = memchr(charset, '*', charset_n);
	if (star != NULL)
		charset_n = (size_t)(star - charset);
	if (charset_n == 0 || charset_n > CHARSET_NAME_MAX ||
	    memchr(charset, '\0', charset_n) != NULL) {
		errno = EINVAL;
		return -1;
	}
	memcpy(cs, charset, charset_n);
	cs[charset_n] = '\0';
	if (charset_is(cs, "utf-8") || charset_is(cs, "utf8") ||
	    charset_is(cs, "us-ascii") || charset_is(cs, "ascii"))
		return utf8_sanitize(p, n, out);
	cd = iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1) {
		errno = EINVAL;
		return -1;
	}
	in = (char *)p;
	inleft = n;
	while (inleft > 0) {
		o = obuf;
		oleft = sizeof(obuf);
		if (iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1 &&
		    errno != E2BIG) {
			/* EILSEQ or EINVAL (cut short): one byte is lost */
			if (buf_append(out, obuf, (size_t)(o - obuf)) == -1 ||
			    buf_append(out, UTF8_REPLACEMENT, 3) == -1)
				goto out;
			in++;
			inleft--;
			(void)iconv(cd, NULL, NULL, NULL, NULL);
			continue;
		}
		if (buf_append(out, obuf, (size_t)(o - obuf)) == -1)
			goto out;
	}
	/* the shift state back to the initial one (ISO-2022-JP) */
	o = obuf;
	oleft = sizeof(obuf);
	if (iconv(cd, NULL, NULL, &o, &oleft) != (size_t)-1 &&
	    buf_append(out, obuf, (size_t)(o - obuf)) == -1)
		goto out;
	ret = 0;
out:
	(void)iconv_close(cd);
	if (ret == -1)
		errno = ENOBUFS;
	return ret;
}

/* RFC 2047 2: =?charset?encoding?encoded-text?= with no white space or
 * "?" inside the text; on success the word's end and parts are given. */
struct eword {
	const char *cs, *text;
	size_t cs_n, text_n, end;
	char enc; /* 'B' or 'Q' */
};

static bool
eword_parse(const char *p, size_t n, size_t i, struct eword *w)
{
	size_t j, k;

	if (i + 8 > n || p[i] != '=' || p[i + 1] != '?')
		return false;
	for (j = i + 2; j < n && p[j] != '?'; j++)
		if ((unsigned char)p[j] <= ' ' || p[j] == '=' ||
		    (unsigned char)p[j] >= 127)
			return false;
	if (j == i + 2 || j + 3 >= n || p[j + 2] != '?')
		return false;
	w->cs = p + i + 2;
	w->cs_n = j - (i + 2);
	w->enc = (char)(p[j + 1] & ~0x20);
	if (w->enc != 'B' && w->enc != 'Q')
		return false;
	for (k = j + 3; k + 1 < n && !(p[k] == '?' && p[k + 1] == '='); k++)
		if ((unsigned char)p[k] <= ' ' || (unsigned char)p[k] >= 127)
			return false;
	if (k + 1 >= n)
		return false;
	w->text = p + j + 3;
	w->text_n = k - (j + 3);
	w->end = k + 2;
	return true;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The bytes of one word's encoded text, appended to raw. */
static int
eword_bytes(const struct eword *w, struct buf *raw)
{
	struct mime_b64 b;
	size_t i;
	int h, l;

	if (w->enc == 'B') {
		mime_b64_init(&b);
		if (mime_b64_decode(&b, w->text, w->text_n, raw) == -1)
			return -1;
		return mime_b64_end(&b, raw);
	}
	/* RFC 2047 4.2: "_" is SP, "=XX" a byte; a bad "=" stays */
	for (i = 0; i < w->text_n; i++) {
		char c = w->text[i];

		if (c == '_')
			c = ' ';
		else if (c == '=' && i + 2 < w->text_n &&
		    (h = hexval((unsigned char)w->text[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)w->text[i + 2])) >= 0) {
			c = (char)(h << 4 | l);
			i += 2;
		}
		if (buf_append_char(raw, c) == -1)
			return -1;
	}
	return 0;
}

/* The run of decoded bytes of words in one charset, converted; a run in
 * an unknown charset is written as its original words. */
struct ew_run {
	struct buf raw;
	const char *cs, *src;
	size_t cs_n, src_n;
};

static int
run_flush(struct ew_run *r, struct buf *out)
{
	int ret = 0;

	if (r->cs == NULL)
		return 0;
	if (mime_charset_to_utf8(
	        r->cs, r->cs_n, r->raw.data, r->raw.len, out) == -1) {
		if (errno == ENOBUFS)
			ret = -1;
		else
			ret = buf_append(out, r->src, r->src_n);
	}
	buf_reset(&r->raw);
	r->cs = NULL;
	return ret;
}

int
mime_2047_decode(const char *p, size_t n, struct buf *out)
{
	struct ew_run r = { { NULL, 0, 0, 0 }, NULL, NULL, 0, 0 };
	struct eword w;
	size_t i = 0, text = 0, j;
	int ret = -1;

	buf_init(&r.raw, n + 1);
	while (i < n) {
		if (p[i] != '=' || !eword_parse(p, n, i, &w)) {
			i++;
			continue;
		}
		/* RFC 2047 6.2: only white space between two words goes */
		for (j = text; j < i; j++)
			if (p[j] != ' ' && p[j] != '\t' && p[j] != '\r' &&
			    p[j] != '\n')
				break;
		if (r.cs == NULL || j < i) {
			if (run_flush(&r, out) == -1 ||
			    mime_unfold(p + text, i - text, out) == -1)
				goto out;
		}
		if (r.cs != NULL &&
		    (r.cs_n != w.cs_n || !ascii_eq_n(r.cs, w.cs, w.cs_n)))
			if (run_flush(&r, out) == -1)
				goto out;
		if (r.cs == NULL) {
			r.cs = w.cs;
			r.cs_n = w.cs_n;
			r.src = p + i;
		}
		if (eword_bytes(&w, &r.raw) == -1)
			goto out;
		r.src_n = (size_t)(p + w.end - r.src);
		i = text = w.end;
	}
	if (run_flush(&r, out) == -1 ||
	    mime_unfold(p + text, n - text, out) == -1)
		goto out;
	ret = 0;
out:
	buf_free(&r.raw);
	return ret;
}
