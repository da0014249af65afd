/*
 * Unit tests for the SMTP client's reply parser, formatter and EHLO reader
 * (smtp_reply.c): RFC 5321 4.2 replies, RFC 3463 enhanced codes, RFC
 * 5321 4.1.1.1 EHLO keywords. Each reply is parsed whole, from every
 * prefix (as the bytes arrive one by one, or in two pieces split at any
 * offset) in an exact-size copy, and followed by a pipelined reply; every
 * limit is tried at max-1, max and max+1.
 */
/* cmocka.h needs these first */
// clang-format off
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "smtp/smtp_reply.h"

#define S(s) s, sizeof(s) - 1

#define LINE_MAX_RFC 512 /* RFC 5321 4.5.3.1.5 */
#define LINES_MAX    100
#define TEXT_MAX     4096

#define E_CODE  "malformed reply code"
#define E_SEP   "malformed reply separator"
#define E_DIFF  "reply code differs between lines"
#define E_LONG  "reply line too long"
#define E_LINES "too many reply lines"
#define E_TEXT  "reply text too long"

struct reply_case {
	const char *name;
	const char *in;
	size_t n;
	enum smtp_reply_status status;
	size_t consumed; /* OK */
	int code;
	const char *dsn;
	size_t nlines;
	const char *text; /* OK: r.text, may hold NULs */
	size_t text_n;
	const char *err; /* ERROR */
};

#define OK(name, in, consumed, code, dsn, nlines, text)                        \
	{                                                                      \
		name, S(in), SMTP_REPLY_OK, consumed, code, dsn, nlines,       \
		    S(text), NULL                                              \
	}
#define MORE(name, in)                                                         \
	{                                                                      \
		name, S(in), SMTP_REPLY_MORE, 0, 0, NULL, 0, NULL, 0, NULL     \
	}
#define ERR(name, in, err)                                                     \
	{                                                                      \
		name, S(in), SMTP_REPLY_ERROR, 0, 0, NULL, 0, NULL, 0, err     \
	}

// clang-format off
static const struct reply_case reply_cases[] = {
	OK("one line", "250 OK\r\n", 8, 250, "", 1, "OK"),
	OK("enhanced code", "250 2.1.0 Ok\r\n", 14, 250, "2.1.0", 1,
	   "2.1.0 Ok"),
	OK("Postfix reject", "550 5.1.1 <u@d>: Recipient address rejected\r\n",
	   45, 550, "5.1.1", 1, "5.1.1 <u@d>: Recipient address rejected"),
	OK("greeting", "220 mx.example.org ESMTP\r\n", 26, 220, "", 1,
	   "mx.example.org ESMTP"),
	OK("multi-line", "250-mx.example.org\r\n250-PIPELINING\r\n"
	   "250 8BITMIME\r\n", 50, 250, "", 3,
	   "mx.example.org\nPIPELINING\n8BITMIME"),
	OK("bare LF", "250 ok\n", 7, 250, "", 1, "ok"),
	OK("bare LF lines", "250-a\n250 b\n", 12, 250, "", 2, "a\nb"),
	OK("mixed line ends", "250-a\r\n250-b\n250 c\r\n", 20, 250, "", 3,
	   "a\nb\nc"),
	OK("code only, CRLF", "250\r\n", 5, 250, "", 1, ""),
	OK("code only, LF", "250\n", 4, 250, "", 1, ""),
	OK("code only last line", "250-first\r\n250\r\n", 16, 250, "", 2,
	   "first\n"),
	OK("empty continuation", "250-\r\n250 x\r\n", 13, 250, "", 2, "\nx"),
	OK("space only", "250 \r\n", 6, 250, "", 1, ""),
	OK("spaces kept", "250  a  b \r\n", 12, 250, "", 1, " a  b "),
	OK("bare CR is text", "250 a\rb\r\n", 9, 250, "", 1, "a\rb"),
	OK("CR CR LF", "250 a\r\r\n", 8, 250, "", 1, "a\r"),
	OK("CR at text start", "250 \rx\r\n", 8, 250, "", 1, "\rx"),
	OK("NUL is text", "250 a\0b\r\n", 9, 250, "", 1, "a\0b"),
	OK("8-bit is text", "250 caf\xc3\xa9 \xff\r\n", 13, 250, "", 1,
	   "caf\xc3\xa9 \xff"),
	OK("pipelined replies", "250 ok\r\n354 go\r\n", 8, 250, "", 1, "ok"),
	OK("trailing junk is the next reply's", "250 ok\r\nxyz", 8, 250, "",
	   1, "ok"),
	OK("enhanced code of the last line", "550-5.1.1 first\r\n"
	   "550 5.7.1 second\r\n", 35, 550, "5.7.1", 2,
	   "5.1.1 first\n5.7.1 second"),
	OK("last line without code", "550-5.1.1 first\r\n550 second\r\n",
	   29, 550, "", 2, "5.1.1 first\nsecond"),
	OK("class differs from code", "250 5.0.0 x\r\n", 13, 250, "", 1,
	   "5.0.0 x"),
	OK("enhanced code alone", "250 2.0.0\r\n", 11, 250, "2.0.0", 1,
	   "2.0.0"),
	OK("enhanced code then TAB is none", "250 2.0.0\tx\r\n", 13, 250, "",
	   1, "2.0.0\tx"),
	OK("three-digit parts", "550 5.123.456 x\r\n", 17, 550, "5.123.456",
	   1, "5.123.456 x"),
	OK("four-digit subject", "550 5.1234.1 x\r\n", 16, 550, "", 1,
	   "5.1234.1 x"),
	OK("four-digit detail", "550 5.1.1234 x\r\n", 16, 550, "", 1,
	   "5.1.1234 x"),
	OK("empty subject", "550 5..1 x\r\n", 12, 550, "", 1, "5..1 x"),
	OK("no detail", "550 5.1 x\r\n", 11, 550, "", 1, "5.1 x"),
	OK("code glued to text", "250 2.0.0x\r\n", 12, 250, "", 1, "2.0.0x"),
	OK("4xx", "421 4.3.2 Service shutting down\r\n", 33, 421, "4.3.2", 1,
	   "4.3.2 Service shutting down"),
	OK("lowest code", "200 x\r\n", 7, 200, "", 1, "x"),
	OK("highest code", "599 x\r\n", 7, 599, "", 1, "x"),
	OK("second digit past 5 is tolerated", "291 x\r\n", 7, 291, "", 1,
	   "x"),
	MORE("empty", ""),
	MORE("one digit", "2"),
	MORE("two digits", "25"),
	MORE("code", "250"),
	MORE("code CR", "250\r"),
	MORE("unfinished line", "250 ok"),
	MORE("CR pending", "250 ok\r"),
	MORE("continuation only", "250-a\r\n"),
	MORE("second line started", "250-a\r\n25"),
	MORE("second line code", "250-a\r\n250"),
	ERR("letters", "abc\r\n", E_CODE),
	ERR("1xx", "150 x\r\n", E_CODE),
	ERR("6xx", "600 x\r\n", E_CODE),
	ERR("0xx", "050 x\r\n", E_CODE),
	ERR("letter in code", "25x ok\r\n", E_CODE),
	ERR("leading space", " 250 x\r\n", E_CODE),
	ERR("empty line", "\r\n", E_CODE),
	ERR("bare LF line", "\n", E_CODE),
	ERR("short code", "25\r\n", E_CODE),
	ERR("NUL in code", "2\0" "0 x\r\n", E_CODE),
	ERR("four digits", "2500 x\r\n", E_SEP),
	ERR("letter separator", "250x\r\n", E_SEP),
	ERR("TAB separator", "250\tx\r\n", E_SEP),
	ERR("CR then text", "250\rX\r\n", E_SEP),
	ERR("CR CR", "250\r\r\n", E_SEP),
	ERR("other code", "250-a\r\n251 b\r\n", E_DIFF),
	ERR("other class", "250-a\r\n550 b\r\n", E_DIFF),
	ERR("bad second code", "250-a\r\nxyz\r\n", E_CODE),
	ERR("bad second separator", "250-a\r\n2501\r\n", E_SEP),
	ERR("blank second line", "250-a\r\n\r\n", E_CODE),
};
// clang-format on

static char *
copy_exact(const char *p, size_t n)
{
	char *c = malloc(n > 0 ? n : 1);

	assert_non_null(c);
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

/* Parses an exact-size copy of p[0..n), so ASan sees any overread. */
static enum smtp_reply_status
parse_copy(const char *p, size_t n, size_t line_max, size_t lines_max,
    struct smtp_reply *r, size_t *consumed, const char **errstr)
{
	char *c = copy_exact(p, n);
	enum smtp_reply_status st;

	st = smtp_reply_parse(c, n, line_max, lines_max, r, consumed, errstr);
	free(c);
	return st;
}

static void
check_ok(const struct reply_case *c, const struct smtp_reply *r,
    size_t consumed, const char *how)
{
	if (consumed != c->consumed || r->code != c->code ||
	    strcmp(r->dsn, c->dsn) != 0 || r->nlines != c->nlines)
		fail_msg("%s (%s): consumed %zu code %d dsn \"%s\" lines %zu",
		    c->name, how, consumed, r->code, r->dsn, r->nlines);
	assert_non_null(r->text.data);
	if (r->text.len != c->text_n ||
	    memcmp(r->text.data, c->text, c->text_n) != 0)
		fail_msg("%s (%s): text \"%.*s\"", c->name, how,
		    (int)r->text.len, r->text.data);
	assert_int_equal(r->text.data[r->text.len], '\0');
}

static void
test_smtp_reply_parse_table(void **state)
{
	struct smtp_reply r;
	const char *errstr;
	size_t i, k, consumed;
	enum smtp_reply_status st;

	smtp_reply_init(&r, TEXT_MAX);
	for (i = 0; i < MW_NELEM(reply_cases); i++) {
		const struct reply_case *c = &reply_cases[i];

		st = parse_copy(c->in, c->n, LINE_MAX_RFC, LINES_MAX, &r,
		    &consumed, &errstr);
		if (st != c->status)
			fail_msg("%s: status %d, want %d (%s)", c->name, st,
			    c->status, errstr != NULL ? errstr : "");
		if (st == SMTP_REPLY_OK) {
			assert_null(errstr);
			check_ok(c, &r, consumed, "whole");
		} else if (st == SMTP_REPLY_ERROR) {
			assert_non_null(errstr);
			if (strcmp(errstr, c->err) != 0)
				fail_msg("%s: \"%s\", want \"%s\"", c->name,
				    errstr, c->err);
		}
		/* Every prefix, as the bytes arrive one at a time (and each
		 * two-piece split at offset k starts with this prefix): MORE
		 * until the reply is complete, then the same OK; for an error,
		 * MORE until the same error shows. */
		for (k = 0; k < c->n; k++) {
			st = parse_copy(c->in, k, LINE_MAX_RFC, LINES_MAX, &r,
			    &consumed, &errstr);
			if (c->status == SMTP_REPLY_OK && k < c->consumed) {
				if (st != SMTP_REPLY_MORE)
					fail_msg("%s: prefix %zu: status %d",
					    c->name, k, st);
			} else if (c->status == SMTP_REPLY_OK) {
				assert_int_equal(st, SMTP_REPLY_OK);
				check_ok(c, &r, consumed, "prefix");
			} else if (st == SMTP_REPLY_ERROR) {
				if (c->status != SMTP_REPLY_ERROR ||
				    strcmp(errstr, c->err) != 0)
					fail_msg("%s: prefix %zu: error %s",
					    c->name, k, errstr);
			} else if (st != SMTP_REPLY_MORE)
				fail_msg("%s: prefix %zu: status %d", c->name,
				    k, st);
		}
	}
	smtp_reply_free(&r);
}

/* A reply followed by others: each parse takes one off the front. */
static void
test_smtp_reply_parse_pipelined(void **state)
{
	static const char in[] = "250-a\r\n250 2.1.0 b\r\n"
	                         "550 5.1.1 no\n"
	                         "354 go\r\n";
	static const int codes[] = { 250, 550, 354 };
	static const char *const texts[] = { "a\n2.1.0 b", "5.1.1 no", "go" };
	struct smtp_reply r;
	const char *errstr;
	size_t pos = 0, consumed, i;

	smtp_reply_init(&r, TEXT_MAX);
	for (i = 0; i < 3; i++) {
		assert_int_equal(
		    smtp_reply_parse(in + pos, sizeof(in) - 1 - pos,
		        LINE_MAX_RFC, LINES_MAX, &r, &consumed, &errstr),
		    SMTP_REPLY_OK);
		assert_int_equal(r.code, codes[i]);
		assert_string_equal(r.text.data, texts[i]);
		pos += consumed;
	}
	assert_int_equal(pos, sizeof(in) - 1);
	assert_int_equal(smtp_reply_parse(in + pos, 0, LINE_MAX_RFC, LINES_MAX,
	                     &r, &consumed, &errstr),
	    SMTP_REPLY_MORE);
	smtp_reply_free(&r);
}

/* Reusing one reply: each parse starts from scratch. */
static void
test_smtp_reply_parse_resets(void **state)
{
	struct smtp_reply r;
	const char *errstr;
	size_t consumed;

	smtp_reply_init(&r, TEXT_MAX);
	assert_int_equal(smtp_reply_parse(S("550-5.1.1 a\r\n550 5.1.1 b\r\n"),
	                     LINE_MAX_RFC, LINES_MAX, &r, &consumed, &errstr),
	    SMTP_REPLY_OK);
	assert_int_equal(smtp_reply_parse(S("250\r\n"), LINE_MAX_RFC, LINES_MAX,
	                     &r, &consumed, &errstr),
	    SMTP_REPLY_OK);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.dsn, "");
	assert_string_equal(r.text.data, "");
	smtp_reply_reset(&r);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.text.len, 0);
	smtp_reply_free(&r);
	smtp_reply_free(&r); /* twice is fine */
}

/* Builds "250 xxx...\r\n" (or "\n") of exactly len bytes into b. */
static size_t
make_line(char *b, size_t cap, size_t len, bool crlf, bool last)
{
	size_t eol = crlf ? 2 : 1;

	assert_true(len >= 4 + eol && len < cap);
	memcpy(b, last ? "250 " : "250-", 4);
	memset(b + 4, 'x', len - 4 - eol);
	memcpy(b + len - eol, "\r\n", eol == 2 ? 2 : 0);
	b[len - 1] = '\n';
	return len;
}

struct line_limit_case {
	const char *what;
	size_t len; /* of the line, with its line end */
	bool crlf;
	size_t line_max;
	enum smtp_reply_status status;
};

// clang-format off
static const struct line_limit_case line_limit_cases[] = {
	{ "CRLF max-1", 512, true, 511, SMTP_REPLY_ERROR },
	{ "CRLF max", 512, true, 512, SMTP_REPLY_OK },
	{ "CRLF max+1", 512, true, 513, SMTP_REPLY_OK },
	{ "LF max-1", 512, false, 511, SMTP_REPLY_ERROR },
	{ "LF max", 512, false, 512, SMTP_REPLY_OK },
	{ "LF max+1", 512, false, 513, SMTP_REPLY_OK },
	{ "short CRLF max-1", 8, true, 7, SMTP_REPLY_ERROR },
	{ "short CRLF max", 8, true, 8, SMTP_REPLY_OK },
	{ "short CRLF max+1", 8, true, 9, SMTP_REPLY_OK },
	{ "code only max-1", 6, true, 5, SMTP_REPLY_ERROR },
	{ "code only max", 6, true, 6, SMTP_REPLY_OK },
};
// clang-format on

static void
test_smtp_reply_parse_line_max_at_edges(void **state)
{
	struct smtp_reply r;
	const char *errstr;
	char b[1024];
	size_t i, n, k, consumed;
	enum smtp_reply_status st;

	smtp_reply_init(&r, TEXT_MAX);
	for (i = 0; i < MW_NELEM(line_limit_cases); i++) {
		const struct line_limit_case *c = &line_limit_cases[i];

		n = make_line(b, sizeof(b), c->len, c->crlf, true);
		/* the second line too, after a first one that fits */
		for (k = 0; k < 2; k++) {
			const char *p = b;
			char two[2048];

			if (k == 1) {
				memcpy(two, "250-\r\n", 6);
				memcpy(two + 6, b, n);
				p = two;
			}
			st = parse_copy(p, n + 6 * k, c->line_max, LINES_MAX,
			    &r, &consumed, &errstr);
			if (st != c->status)
				fail_msg("%s (line %zu): status %d", c->what,
				    k + 1, st);
			if (st == SMTP_REPLY_ERROR)
				assert_string_equal(errstr, E_LONG);
			else
				assert_int_equal(consumed, n + 6 * k);
		}
	}
	/* too long shows before the line ends: no waiting for a LF */
	memset(b, 'x', sizeof(b));
	memcpy(b, "250 ", 4);
	assert_int_equal(
	    parse_copy(b, 21, 20, LINES_MAX, &r, &consumed, &errstr),
	    SMTP_REPLY_ERROR);
	assert_string_equal(errstr, E_LONG);
	assert_int_equal(
	    parse_copy(b, 20, 20, LINES_MAX, &r, &consumed, &errstr),
	    SMTP_REPLY_MORE);
	/* "...x\r" at max: the CR may be the CRLF's, so wait */
	b[19] = '\r';
	assert_int_equal(
	    parse_copy(b, 20, 20, LINES_MAX, &r, &consumed, &errstr),
	    SMTP_REPLY_MORE);
	smtp_reply_free(&r);
}

static void
test_smtp_reply_parse_lines_max_at_edges(void **state)
{
	static const size_t nlines = 5;
	struct smtp_reply r;
	const char *errstr;
	char b[256];
	size_t i, n = 0, consumed, max;
	enum smtp_reply_status st;

	for (i = 0; i < nlines; i++)
		n += make_line(b + n, sizeof(b) - n, 8, true, i + 1 == nlines);
	smtp_reply_init(&r, TEXT_MAX);
	for (max = nlines - 1; max <= nlines + 1; max++) {
		st =
		    parse_copy(b, n, LINE_MAX_RFC, max, &r, &consumed, &errstr);
		if (max < nlines) {
			assert_int_equal(st, SMTP_REPLY_ERROR);
			assert_string_equal(errstr, E_LINES);
			/* as soon as the extra line starts */
			assert_int_equal(
			    parse_copy(b, 8 * nlines - 7, LINE_MAX_RFC, max, &r,
			        &consumed, &errstr),
			    SMTP_REPLY_ERROR);
			assert_int_equal(
			    parse_copy(b, 8 * nlines - 8, LINE_MAX_RFC, max, &r,
			        &consumed, &errstr),
			    SMTP_REPLY_MORE);
		} else {
			assert_int_equal(st, SMTP_REPLY_OK);
			assert_int_equal(r.nlines, nlines);
			assert_int_equal(consumed, n);
		}
	}
	assert_int_equal(
	    parse_copy(S("250 x\r\n"), LINE_MAX_RFC, 0, &r, &consumed, &errstr),
	    SMTP_REPLY_ERROR);
	smtp_reply_free(&r);
}

struct text_limit_case {
	const char *what;
	const char *in;
	size_t n;
	size_t text_len; /* of the joined text */
};

// clang-format off
static const struct text_limit_case text_limit_cases[] = {
	{ "one line", S("250 abcdefghij\r\n"), 10 },
	{ "joined lines", S("250-abcd\r\n250-efgh\r\n250 ij\r\n"), 12 },
	{ "empty lines count their LF", S("250-\r\n250-\r\n250 x\r\n"), 3 },
	{ "text with CR", S("250 ab\rcd\r\n"), 5 },
	{ "empty", S("250\r\n"), 0 },
};
// clang-format on

static void
test_smtp_reply_parse_text_max_at_edges(void **state)
{
	struct smtp_reply r;
	const char *errstr;
	size_t i, max, consumed;
	enum smtp_reply_status st;

	for (i = 0; i < MW_NELEM(text_limit_cases); i++) {
		const struct text_limit_case *c = &text_limit_cases[i];

		for (max = c->text_len > 0 ? c->text_len - 1 : 0;
		     max <= c->text_len + 1; max++) {
			smtp_reply_init(&r, max);
			st = parse_copy(c->in, c->n, LINE_MAX_RFC, LINES_MAX,
			    &r, &consumed, &errstr);
			if (max < c->text_len) {
				if (st != SMTP_REPLY_ERROR)
					fail_msg(
					    "%s max %zu: %d", c->what, max, st);
				assert_string_equal(errstr, E_TEXT);
			} else {
				if (st != SMTP_REPLY_OK)
					fail_msg("%s max %zu: %d %s", c->what,
					    max, st, errstr);
				assert_int_equal(r.text.len, c->text_len);
				assert_non_null(r.text.data);
			}
			smtp_reply_free(&r);
		}
	}
}

struct format_case {
	const char *name;
	const char *in;
	size_t n;
	size_t max; /* of the output buffer */
	int ret;
	const char *out;
};

#define BIG 1024

// clang-format off
static const struct format_case format_cases[] = {
	{ "one line", S("250 OK\r\n"), BIG, 0, "250 OK" },
	{ "Postfix reject",
	  S("550 5.1.1 <u@d>: Recipient address rejected\r\n"), BIG, 0,
	  "550 5.1.1 <u@d>: Recipient address rejected" },
	{ "lines joined by a space",
	  S("550-5.1.1 first\r\n550 5.1.1 second\r\n"), BIG, 0,
	  "550 5.1.1 first 5.1.1 second" },
	{ "empty lines add no space", S("250-\r\n250-x\r\n250\r\n"), BIG, 0,
	  "250 x" },
	{ "code only", S("250\r\n"), BIG, 0, "250" },
	{ "controls", S("550 a\tb\x01" "c\x7f\r\n"), BIG, 0, "550 a?b?c?" },
	{ "NUL", S("550 a\0b\r\n"), BIG, 0, "550 a?b" },
	{ "bare CR", S("550 a\rb\r\n"), BIG, 0, "550 a?b" },
	{ "ESC sequence", S("550 \x1b[31mred\r\n"), BIG, 0, "550 ?[31mred" },
	{ "UTF-8 stays", S("550 caf\xc3\xa9\r\n"), BIG, 0,
	  "550 caf\xc3\xa9" },
	{ "bad UTF-8", S("550 \xff\xc3x\r\n"), BIG, 0, "550 ??x" },
	{ "overlong UTF-8", S("550 \xc0\xaf\r\n"), BIG, 0, "550 ??" },
	{ "cut max-1", S("550 5.1.1 abc\r\n"), 12, 0, "550 5.1.1 ab" },
	{ "cut max", S("550 5.1.1 abc\r\n"), 13, 0, "550 5.1.1 abc" },
	{ "cut max+1", S("550 5.1.1 abc\r\n"), 14, 0, "550 5.1.1 abc" },
	{ "cut inside the second line", S("550-ab\r\n550 cd\r\n"), 8, 0,
	  "550 ab c" },
	{ "cut before a separator", S("550-ab\r\n550 cd\r\n"), 6, 0,
	  "550 ab" },
	{ "cut leaves no separator alone", S("550-ab\r\n550 cd\r\n"), 7, 0,
	  "550 ab" },
	{ "cut at a UTF-8 boundary", S("550 \xc3\xa9\xc3\xa9\r\n"), 7, 0,
	  "550 \xc3\xa9" },
	{ "cut after UTF-8", S("550 \xc3\xa9\xc3\xa9\r\n"), 8, 0,
	  "550 \xc3\xa9\xc3\xa9" },
	{ "no room after the code for a 4-byte char",
	  S("550 \xf0\x9f\x98\x80\r\n"), 5, 0, "550" },
	{ "code only fits", S("550 x\r\n"), 4, 0, "550" },
	{ "code and one char", S("550 x\r\n"), 5, 0, "550 x" },
	{ "exactly the code", S("550 x\r\n"), 3, 0, "550" },
	{ "not even the code", S("550 x\r\n"), 2, -1, "" },
	{ "nothing", S("550 x\r\n"), 0, -1, "" },
};
// clang-format on

static void
test_smtp_reply_format_table(void **state)
{
	struct smtp_reply r;
	struct buf out;
	const char *errstr;
	size_t i, consumed;

	smtp_reply_init(&r, TEXT_MAX);
	for (i = 0; i < MW_NELEM(format_cases); i++) {
		const struct format_case *c = &format_cases[i];
		int ret;

		assert_int_equal(smtp_reply_parse(c->in, c->n, LINE_MAX_RFC,
		                     LINES_MAX, &r, &consumed, &errstr),
		    SMTP_REPLY_OK);
		buf_init(&out, c->max);
		errno = 0;
		ret = smtp_reply_format(&r, &out);
		if (ret != c->ret || strcmp(buf_cstr(&out), c->out) != 0)
			fail_msg("%s: %d \"%s\"", c->name, ret, buf_cstr(&out));
		if (ret == -1)
			assert_int_equal(errno, ENOBUFS);
		assert_true(out.len <= c->max);
		buf_free(&out);
	}
	smtp_reply_free(&r);
}

/* The formatted line appends, and its max counts what was there. */
static void
test_smtp_reply_format_appends(void **state)
{
	struct smtp_reply r;
	struct buf out;
	const char *errstr;
	size_t consumed;

	smtp_reply_init(&r, TEXT_MAX);
	assert_int_equal(smtp_reply_parse(S("451 4.3.0 try later\r\n"),
	                     LINE_MAX_RFC, LINES_MAX, &r, &consumed, &errstr),
	    SMTP_REPLY_OK);
	buf_init(&out, 20);
	assert_int_equal(buf_append_str(&out, "said: "), 0);
	assert_int_equal(smtp_reply_format(&r, &out), 0);
	assert_string_equal(out.data, "said: 451 4.3.0 try ");
	buf_reset(&out);
	assert_int_equal(buf_append_str(&out, "0123456789abcdef01"), 0);
	assert_int_equal(smtp_reply_format(&r, &out), -1);
	assert_string_equal(out.data, "0123456789abcdef01");
	buf_free(&out);
	smtp_reply_free(&r);
}

struct ehlo_case {
	const char *name;
	const char *in;
	unsigned ext;
	uint64_t size_max;
	unsigned auth;
};

#define X(e) SMTP_EXT_##e
#define A(m) SMTP_AUTH_##m

// clang-format off
static const struct ehlo_case ehlo_cases[] = {
	{ "Postfix",
	  "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
	  "250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n"
	  "250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
	  "250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n",
	  X(PIPELINING) | X(SIZE) | X(STARTTLS) | X(AUTH) |
	  X(ENHANCEDSTATUSCODES) | X(8BITMIME) | X(DSN) | X(SMTPUTF8) |
	  X(CHUNKING), 10240000, A(PLAIN) | A(LOGIN) },
	{ "every keyword",
	  "250-x\r\n250-PIPELINING\r\n250-SIZE\r\n250-8BITMIME\r\n"
	  "250-SMTPUTF8\r\n250-CHUNKING\r\n250-DSN\r\n250-STARTTLS\r\n"
	  "250-AUTH\r\n250-ENHANCEDSTATUSCODES\r\n250 BINARYMIME\r\n",
	  X(PIPELINING) | X(SIZE) | X(8BITMIME) | X(SMTPUTF8) | X(CHUNKING) |
	  X(DSN) | X(STARTTLS) | X(AUTH) | X(ENHANCEDSTATUSCODES) |
	  X(BINARYMIME), 0, 0 },
	{ "case-insensitive", "250-x\r\n250-pipelining\r\n250-Size 100\r\n"
	  "250 auth plain Login cram-md5\r\n", X(PIPELINING) | X(SIZE) |
	  X(AUTH), 100, A(PLAIN) | A(LOGIN) | A(CRAM_MD5) },
	{ "greeting line is no keyword", "250-PIPELINING\r\n250 SIZE 5\r\n",
	  X(SIZE), 5, 0 },
	{ "one line", "250 mx.example.org\r\n", 0, 0, 0 },
	{ "one line that looks like a keyword", "250 PIPELINING\r\n", 0, 0,
	  0 },
	{ "not 250", "502-x\r\n502 PIPELINING\r\n", 0, 0, 0 },
	{ "SIZE without a number", "250-x\r\n250 SIZE\r\n", X(SIZE), 0, 0 },
	{ "SIZE 0", "250-x\r\n250 SIZE 0\r\n", X(SIZE), 0, 0 },
	{ "SIZE letters", "250-x\r\n250 SIZE abc\r\n", X(SIZE), 0, 0 },
	{ "SIZE suffix", "250-x\r\n250 SIZE 12x\r\n", X(SIZE), 0, 0 },
	{ "SIZE negative", "250-x\r\n250 SIZE -1\r\n", X(SIZE), 0, 0 },
	{ "SIZE two numbers", "250-x\r\n250 SIZE 1 2\r\n", X(SIZE), 0, 0 },
	{ "SIZE max", "250-x\r\n250 SIZE 18446744073709551615\r\n", X(SIZE),
	  UINT64_MAX, 0 },
	{ "SIZE past 64 bits", "250-x\r\n250 SIZE 18446744073709551616\r\n",
	  X(SIZE), 0, 0 },
	{ "SIZE 20 digits", "250-x\r\n250 SIZE 00000000000000000001\r\n",
	  X(SIZE), 1, 0 },
	{ "SIZE 21 digits", "250-x\r\n250 SIZE 000000000000000000001\r\n",
	  X(SIZE), 0, 0 },
	{ "SIZE spaces around", "250-x\r\n250 SIZE   42  \r\n", X(SIZE), 42,
	  0 },
	{ "SIZE=", "250-x\r\n250 SIZE=42\r\n", 0, 0, 0 },
	{ "AUTH mechanisms", "250-x\r\n250 AUTH CRAM-MD5 SCRAM-SHA-256 "
	  "SCRAM-SHA-256-PLUS GSSAPI XOAUTH2\r\n", X(AUTH),
	  0, A(CRAM_MD5) | A(SCRAM_SHA_256) },
	{ "old AUTH= form", "250-x\r\n250 AUTH=LOGIN\r\n", X(AUTH), 0,
	  A(LOGIN) },
	{ "both AUTH forms add up", "250-x\r\n250-AUTH PLAIN\r\n"
	  "250 AUTH=LOGIN\r\n", X(AUTH), 0, A(PLAIN) | A(LOGIN) },
	{ "AUTH TABs", "250-x\r\n250 AUTH\tPLAIN\tLOGIN\r\n", X(AUTH), 0,
	  A(PLAIN) | A(LOGIN) },
	{ "AUTH mechanism prefix", "250-x\r\n250 AUTH PLAINX LOGI\r\n",
	  X(AUTH), 0, 0 },
	{ "keyword prefixes", "250-x\r\n250-PIPELININGX\r\n250-SIZEX 5\r\n"
	  "250-DS\r\n250 XDSN\r\n", 0, 0, 0 },
	{ "unknown keywords", "250-x\r\n250-XFORWARD NAME ADDR\r\n"
	  "250-VRFY\r\n250 DSN\r\n", X(DSN), 0, 0 },
	{ "spaces around keywords", "250-x\r\n250-  PIPELINING \r\n"
	  "250 \tDSN\t\r\n", X(PIPELINING) | X(DSN), 0, 0 },
	{ "keyword with parameters", "250-x\r\n250 8BITMIME FOO\r\n",
	  X(8BITMIME), 0, 0 },
	{ "bare CR before LF", "250-x\r\n250 STARTTLS\r\r\n", X(STARTTLS), 0,
	  0 },
	{ "empty lines", "250-x\r\n250-\r\n250\r\n", 0, 0, 0 },
};
// clang-format on

static void
test_smtp_ehlo_parse_table(void **state)
{
	struct smtp_reply r;
	struct smtp_ehlo e;
	const char *errstr;
	size_t i, consumed;

	smtp_reply_init(&r, TEXT_MAX);
	for (i = 0; i < MW_NELEM(ehlo_cases); i++) {
		const struct ehlo_case *c = &ehlo_cases[i];

		assert_int_equal(
		    smtp_reply_parse(c->in, strlen(c->in), LINE_MAX_RFC,
		        LINES_MAX, &r, &consumed, &errstr),
		    SMTP_REPLY_OK);
		memset(&e, 0xa5, sizeof(e));
		smtp_ehlo_parse(&r, &e);
		if (e.ext != c->ext || e.size_max != c->size_max ||
		    e.auth != c->auth)
			fail_msg("%s: ext %#x size %ju auth %#x", c->name,
			    e.ext, (uintmax_t)e.size_max, e.auth);
	}
	/* a NUL is no part of a keyword */
	assert_int_equal(
	    smtp_reply_parse(S("250-x\r\n250-DS\0N\r\n250 DSN\0\r\n"),
	        LINE_MAX_RFC, LINES_MAX, &r, &consumed, &errstr),
	    SMTP_REPLY_OK);
	smtp_ehlo_parse(&r, &e);
	assert_int_equal(e.ext, 0);
	/* an empty, never parsed reply announces nothing */
	smtp_reply_reset(&r);
	smtp_ehlo_parse(&r, &e);
	assert_int_equal(e.ext, 0);
	smtp_reply_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_reply_parse_table),
		cmocka_unit_test(test_smtp_reply_parse_pipelined),
		cmocka_unit_test(test_smtp_reply_parse_resets),
		cmocka_unit_test(test_smtp_reply_parse_line_max_at_edges),
		cmocka_unit_test(test_smtp_reply_parse_lines_max_at_edges),
		cmocka_unit_test(test_smtp_reply_parse_text_max_at_edges),
		cmocka_unit_test(test_smtp_reply_format_table),
		cmocka_unit_test(test_smtp_reply_format_appends),
		cmocka_unit_test(test_smtp_ehlo_parse_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
