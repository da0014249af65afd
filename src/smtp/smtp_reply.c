/*
 * The SMTP client's reply parser, reply formatter and EHLO keyword reader
 * (see smtp_reply.h). The parser is a byte-at-a-time scanner over the whole
 * buffer, so that a reply split anywhere gives the same result once all of
 * it has arrived, and an error is found at the same byte however the input
 * was cut. What a reply means is left to the client state machine.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "smtp/smtp_reply.h"

/* RFC 1870 3: size-value ::= 1*20DIGIT */
#define SMTP_SIZE_DIGITS_MAX 20

void
smtp_reply_init(struct smtp_reply *r, size_t text_max)
{
	r->code = 0;
	r->dsn[0] = '\0';
	r->nlines = 0;
	buf_init(&r->text, text_max);
}

void
smtp_reply_reset(struct smtp_reply *r)
{
	r->code = 0;
	r->dsn[0] = '\0';
	r->nlines = 0;
	buf_reset(&r->text);
}

void
smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
	r->code = 0;
	r->dsn[0] = '\0';
	r->nlines = 0;
}

static bool
smtp_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * RFC 3463 2: status-code = class "." subject "." detail, class = "2" /
 * "4" / "5", subject and detail 1*3digit; RFC 2034 puts it first in the
 * text, followed by SP. Like Postfix, a class that is not the reply code's
 * first digit is no enhanced code.
 */
static void
smtp_reply_set_dsn(struct smtp_reply *r, const char *t, size_t n)
{
	size_t i = 2, part, k;

	if (n < 5 || t[0] != (char)('0' + r->code / 100) || t[1] != '.')
		return;
	for (part = 0; part < 2; part++) {
		for (k = 0; i < n && smtp_is_digit((unsigned char)t[i]); k++)
			i++;
		if (k < 1 || k > 3)
			return;
		if (part == 0) {
			if (i >= n || t[i] != '.')
				return;
			i++;
		}
	}
	if (i < n && t[i] != ' ')
		return;
	MW_ASSERT(i < sizeof(r->dsn));
	memcpy(r->dsn, t, i);
	r->dsn[i] = '\0';
}

static enum smtp_reply_status
smtp_reply_error(const char **errstr_out, const char *why)
{
	*errstr_out = why;
	return SMTP_REPLY_ERROR;
}

enum smtp_reply_status
smtp_reply_parse(const char *p, size_t n, size_t line_max, size_t lines_max,
    struct smtp_reply *r, size_t *consumed_out, const char **errstr_out)
{
	size_t i, col = 0, text_off = 0;
	int code = 0;
	char sep = 0;
	bool cr = false; /* a CR was seen in the text: text or the line end */

	smtp_reply_reset(r);
	*consumed_out = 0;
	*errstr_out = NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (col == 0) {
			if (++r->nlines > lines_max)
				return smtp_reply_error(
				    errstr_out, "too many reply lines");
			code = 0;
			sep = 0;
			cr = false;
		}
		/* line_max counts the line end too: byte col is the col+1st */
		if (col >= line_max)
			return smtp_reply_error(
			    errstr_out, "reply line too long");
		if (col < 3) {
			/* RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39;
			 * like Postfix we take any second digit */
			if (!smtp_is_digit(c) ||
			    (col == 0 && (c < '2' || c > '5')))
				return smtp_reply_error(
				    errstr_out, "malformed reply code");
			code = code * 10 + (c - '0');
			if (col == 2 && r->nlines == 1)
				r->code = code;
			else if (col == 2 && code != r->code)
				return smtp_reply_error(errstr_out,
				    "reply code differs between lines");
			col++;
			continue;
		}
		if (col == 3) {
			/* RFC 5321 4.2: "-" continues, SP (or, tolerated, the
			 * line end at once) is the last line */
			if (c != '-' && c != ' ' && c != '\r' && c != '\n')
				return smtp_reply_error(
				    errstr_out, "malformed reply separator");
			sep = (char)c;
			col++;
			text_off = r->text.len;
			if (c != '\n')
				continue;
		} else if (col == 4 && sep == '\r') {
			/* "250\r" then anything but LF */
			if (c != '\n')
				return smtp_reply_error(
				    errstr_out, "malformed reply separator");
		} else if (c != '\n') {
			if (cr && buf_append_char(&r->text, '\r') == -1)
				return smtp_reply_error(
				    errstr_out, "reply text too long");
			cr = c == '\r';
			if (!cr && buf_append_char(&r->text, (char)c) == -1)
				return smtp_reply_error(
				    errstr_out, "reply text too long");
			col++;
			continue;
		}
		/* c is the LF that ends the line; a CR before it is the CRLF */
		if (sep != '-') {
			if (buf_append(&r->text, "", 0) == -1)
				return smtp_reply_error(
				    errstr_out, "reply text too long");
			smtp_reply_set_dsn(
			    r, r->text.data + text_off, r->text.len - text_off);
			*consumed_out = i + 1;
			return SMTP_REPLY_OK;
		}
		if (buf_append_char(&r->text, '\n') == -1)
			return smtp_reply_error(
			    errstr_out, "reply text too long");
		col = 0;
	}
	return SMTP_REPLY_MORE;
}

/* Appends one byte or UTF-8 character of s[0..n) made safe; returns the
 * bytes of s it used, or 0 when its output does not fit in room. */
static size_t
smtp_reply_put_char(const char *s, size_t n, struct buf *out, size_t room)
{
	unsigned char c = (unsigned char)s[0];
	size_t k;

	if (c < 0x20 || c == 0x7f)
		return room >= 1 && buf_append_char(out, '?') == 0 ? 1 : 0;
	k = c < 0x80 ? 1 : mailaddr_utf8_len(s, n);
	if (k == 0) /* not UTF-8: one byte becomes one '?' */
		return room >= 1 && buf_append_char(out, '?') == 0 ? 1 : 0;
	return room >= k && buf_append(out, s, k) == 0 ? k : 0;
}

int
smtp_reply_format(const struct smtp_reply *r, struct buf *out)
{
	const char *t = buf_cstr(&r->text), *end = t + r->text.len, *nl;
	int c = r->code >= 0 && r->code <= 999 ? r->code : 0;
	char code[3] = { (char)('0' + c / 100), (char)('0' + c / 10 % 10),
		(char)('0' + c % 10) };
	size_t room, line, k;

	if (out->len > out->max || out->max - out->len < sizeof(code)) {
		errno = ENOBUFS;
		return -1;
	}
	room = out->max - out->len;
	if (buf_append(out, code, sizeof(code)) == -1)
		return -1;
	room -= sizeof(code);
	while (t < end) {
		nl = memchr(t, '\n', (size_t)(end - t));
		if (nl == NULL)
			nl = end;
		/* no double spaces for empty lines; a separator only when
		 * something can follow it */
		if (nl > t && room < 2)
			return 0;
		if (nl > t) {
			if (buf_append_char(out, ' ') == -1)
				return -1;
			room--;
		}
		line = out->len;
		while (t < nl) {
			size_t before = out->len;

			k = smtp_reply_put_char(t, (size_t)(nl - t), out, room);
			if (k == 0) {
				/* cut at max, without a trailing separator */
				if (out->len == line)
					buf_truncate(out, line - 1);
				return 0;
			}
			room -= out->len - before;
			t += k;
		}
		t = nl + 1;
	}
	return 0;
}

// clang-format off
static const struct {
	const char *kw;
	unsigned ext;
} smtp_ehlo_keywords[] = {
	{ "PIPELINING",          SMTP_EXT_PIPELINING },
	{ "SIZE",                SMTP_EXT_SIZE },
	{ "8BITMIME",            SMTP_EXT_8BITMIME },
	{ "SMTPUTF8",            SMTP_EXT_SMTPUTF8 },
	{ "CHUNKING",            SMTP_EXT_CHUNKING },
	{ "DSN",                 SMTP_EXT_DSN },
	{ "STARTTLS",            SMTP_EXT_STARTTLS },
	{ "AUTH",                SMTP_EXT_AUTH },
	{ "ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCEDSTATUSCODES },
	{ "BINARYMIME",          SMTP_EXT_BINARYMIME },
};

static const struct {
	const char *name;
	unsigned bit;
} smtp_auth_mechs[] = {
	{ "PLAIN",         SMTP_AUTH_PLAIN },
	{ "LOGIN",         SMTP_AUTH_LOGIN },
	{ "CRAM-MD5",      SMTP_AUTH_CRAM_MD5 },
	{ "SCRAM-SHA-256", SMTP_AUTH_SCRAM_SHA_256 },
};
// clang-format on

static bool
smtp_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool
smtp_word_eq(const char *w, size_t n, const char *word)
{
	return n == strlen(word) && ascii_eq_n(w, word, n);
}

/* RFC 1870 3: "SIZE" [SP 1*20DIGIT]; anything else is no limit. */
static uint64_t
smtp_ehlo_size(const char *p, size_t n)
{
	uint64_t v;

	if (n > SMTP_SIZE_DIGITS_MAX ||
	    parse_uint_n(p, n, 0, UINT64_MAX, &v) == -1)
		return 0;
	return v;
}

/* RFC 4954 3: "AUTH" SP mech *(SP mech); the mechanisms we know. */
static unsigned
smtp_ehlo_auth(const char *p, size_t n)
{
	unsigned bits = 0;
	size_t i = 0, j, m;

	while (i < n) {
		while (i < n && smtp_is_space(p[i]))
			i++;
		for (j = i; j < n && !smtp_is_space(p[j]); j++)
			continue;
		for (m = 0; m < MW_NELEM(smtp_auth_mechs); m++)
			if (smtp_word_eq(p + i, j - i, smtp_auth_mechs[m].name))
				bits |= smtp_auth_mechs[m].bit;
		i = j;
	}
	return bits;
}

/* One ehlo-line (RFC 5321 4.1.1.1): keyword, then SP and parameters. */
static void
smtp_ehlo_line(const char *p, size_t n, struct smtp_ehlo *out)
{
	size_t a = 0, e = n, k, i;
	bool old_auth;

	/* be liberal: spaces around the line, a CR before its end */
	while (a < e && smtp_is_space(p[a]))
		a++;
	while (e > a && smtp_is_space(p[e - 1]))
		e--;
	for (k = a; k < e && !smtp_is_space(p[k]) && p[k] != '='; k++)
		continue;
	/* "AUTH=LOGIN PLAIN": what old Microsoft clients needed */
	old_auth = k < e && p[k] == '=';
	for (i = 0; i < MW_NELEM(smtp_ehlo_keywords); i++)
		if (smtp_word_eq(p + a, k - a, smtp_ehlo_keywords[i].kw))
			break;
	if (i == MW_NELEM(smtp_ehlo_keywords))
		return;
	if (old_auth && smtp_ehlo_keywords[i].ext != SMTP_EXT_AUTH)
		return; /* "SIZE=10" is no keyword we know */
	out->ext |= smtp_ehlo_keywords[i].ext;
	k++; /* past the SP or '=' (or to e + 1 at the end) */
	if (k > e)
		k = e;
	while (k < e && smtp_is_space(p[k]))
		k++;
	if (smtp_ehlo_keywords[i].ext == SMTP_EXT_SIZE)
		out->size_max = smtp_ehlo_size(p + k, e - k);
	else if (smtp_ehlo_keywords[i].ext == SMTP_EXT_AUTH)
		out->auth |= smtp_ehlo_auth(p + k, e - k);
}

void
smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *out)
{
	const char *t = buf_cstr(&r->text), *end = t + r->text.len, *nl;

	memset(out, 0, sizeof(*out));
	if (r->code != 250)
		return;
	/* RFC 5321 4.1.1.1: the first line is "Domain [SP ehlo-greet]" */
	nl = memchr(t, '\n', r->text.len);
	if (nl == NULL)
		return;
	for (t = nl + 1;; t = nl + 1) {
		nl = memchr(t, '\n', (size_t)(end - t));
		if (nl == NULL)
			nl = end;
		smtp_ehlo_line(t, (size_t)(nl - t), out);
		if (nl == end)
			break;
	}
}
