/*
 * Unit tests for modified UTF-7 (imap_mutf7.c, RFC 3501 5.1.3): the RFC's
 * example, pairs both ways, every kind of non-canonical or broken input,
 * invalid UTF-8 to encode, the output ceiling, and a round trip over many
 * generated names. Also the strict UTF-8 checks (RFC 3629).
 */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>

#include "imap/imap_mutf7.h"
#include "lib/buf.h"
#include "lib/mw.h"

#define S(s) s, sizeof(s) - 1

struct pair {
	const char *label;
	const char *utf8;
	size_t utf8_len;
	const char *mutf7;
};

// clang-format off
static const struct pair pairs[] = {
	{ "RFC 3501 5.1.3 example", S("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
	  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "empty", S(""), "" },
	{ "ASCII", S("INBOX.Sent Items"), "INBOX.Sent Items" },
	{ "ampersand", S("&"), "&-" },
	{ "ampersands", S("A&B&&"), "A&-B&-&-" },
	{ "umlaut", S("Entw\xc3\xbcrfe"), "Entw&APw-rfe" },
	{ "e acute", S("\xc3\xa9"), "&AOk-" },
	{ "astral (surrogate pair)", S("\xf0\x9f\x98\x80"), "&2D3eAA-" },
	{ "two astral then ASCII", S("\xf0\x9f\x98\x80\xf0\x9f\x98\x81x"),
	  "&2D3eANg93gE-x" },
	{ "tab is encoded", S("a\tb"), "a&AAk-b" },
	{ "NUL is encoded", S("\0"), "&AAA-" },
	{ "shift, ampersand, shift", S("\xc3\x9c&\xc3\x9c"), "&ANw-&-&ANw-" },
	{ "tilde and DEL", S("~\x7f"), "~&AH8-" },
};
// clang-format on

static void
test_imap_mutf7_pairs(void **state)
{
	struct buf b;
	size_t i;

	buf_init(&b, 4096);
	for (i = 0; i < MW_NELEM(pairs); i++) {
		const struct pair *p = &pairs[i];

		buf_reset(&b);
		if (imap_mutf7_encode(p->utf8, p->utf8_len, &b) != 0)
			fail_msg("%s: encode failed", p->label);
		if (b.len != strlen(p->mutf7) ||
		    memcmp(b.data, p->mutf7, b.len) != 0)
			fail_msg("%s: encoded %s, want %s", p->label,
			    buf_cstr(&b), p->mutf7);
		buf_reset(&b);
		if (imap_mutf7_decode(p->mutf7, strlen(p->mutf7), &b) != 0)
			fail_msg("%s: decode failed", p->label);
		if (b.len != p->utf8_len || memcmp(b.data, p->utf8, b.len) != 0)
			fail_msg("%s: decoded wrong", p->label);
	}
	buf_free(&b);
}

struct bad {
	const char *label;
	const char *in;
	size_t len;
};

// clang-format off
static const struct bad bad_mutf7[] = {
	{ "unterminated &", S("&") },
	{ "unterminated shift", S("&U,BTFw") },
	{ "unterminated at end", S("a&AOk") },
	{ "printable ASCII encoded", S("&AGE-") },
	{ "space encoded", S("&ACA-") },
	{ "ampersand encoded", S("&ACY-") },
	{ "adjacent shifts", S("&U,BTFw-&ZeVnLIqe-") },
	{ "bad base64 character", S("&Jjo!-") },
	{ "slash instead of comma", S("&U/BTFw-") },
	{ "base64 padding", S("&AOk=-") },
	{ "raw 8-bit", S("\xc3\xa9") },
	{ "raw control", S("a\tb") },
	{ "raw NUL", S("a\0b") },
	{ "raw DEL", S("\x7f") },
	{ "lone high surrogate", S("&2D0-") },
	{ "lone low surrogate", S("&3gA-") },
	{ "high then BMP", S("&2D0AOQ-") },
	{ "nonzero padding bits", S("&AOl-") },
	{ "extra base64 digit", S("&AOkA-") },
	{ "too few digits", S("&AO-") },
	{ "empty-looking shift", S("&,-") },
};
// clang-format on

static void
test_imap_mutf7_decode_rejects(void **state)
{
	struct buf b;
	size_t i;

	buf_init(&b, 4096);
	for (i = 0; i < MW_NELEM(bad_mutf7); i++) {
		assert_int_equal(buf_append_str(&b, "keep"), 0);
		errno = 0;
		if (imap_mutf7_decode(bad_mutf7[i].in, bad_mutf7[i].len, &b) !=
		    -1)
			fail_msg("%s: accepted", bad_mutf7[i].label);
		assert_int_equal(errno, EINVAL);
		/* nothing appended on failure */
		assert_string_equal(buf_cstr(&b), "keep");
		buf_reset(&b);
	}
	buf_free(&b);
}

// clang-format off
static const struct bad bad_utf8[] = {
	{ "truncated", S("\xc3") },
	{ "bare continuation", S("\x80") },
	{ "overlong NUL", S("\xc0\x80") },
	{ "overlong slash", S("\xe0\x80\xaf") },
	{ "surrogate", S("\xed\xa0\x80") },
	{ "above U+10FFFF", S("\xf4\x90\x80\x80") },
	{ "F5", S("\xf5\x80\x80\x80") },
	{ "bad continuation", S("\xe6\x97\x41") },
};
// clang-format on

static void
test_imap_mutf7_encode_rejects_bad_utf8(void **state)
{
	struct buf b;
	size_t i;

	buf_init(&b, 4096);
	for (i = 0; i < MW_NELEM(bad_utf8); i++) {
		errno = 0;
		if (imap_mutf7_encode(bad_utf8[i].in, bad_utf8[i].len, &b) !=
		    -1)
			fail_msg("%s: accepted", bad_utf8[i].label);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(b.len, 0);
		assert_false(imap_utf8_valid(bad_utf8[i].in, bad_utf8[i].len));
	}
	buf_free(&b);
}

static void
test_imap_mutf7_ceiling(void **state)
{
	struct buf b;

	buf_init(&b, 5);
	assert_int_equal(imap_mutf7_encode(S("\xc3\xa9\xc3\xa9"), &b), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(b.len, 0);
	assert_int_equal(imap_mutf7_decode(S("abcdef"), &b), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_imap_utf8_char_len(void **state)
{
	uint32_t cp;

	assert_int_equal(
	    imap_utf8_char_len((const unsigned char *)"a", 1, &cp), 1);
	assert_int_equal(cp, 'a');
	assert_int_equal(
	    imap_utf8_char_len((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(imap_utf8_char_len(
	                     (const unsigned char *)"\xf4\x8f\xbf\xbf", 4, &cp),
	    4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(
	    imap_utf8_char_len((const unsigned char *)"\xc3\xa9", 1, NULL), 0);
	assert_int_equal(
	    imap_utf8_char_len((const unsigned char *)"", 0, NULL), 0);
	assert_true(imap_utf8_valid(S("")));
	assert_true(imap_utf8_valid(S("a\0b")));
}

/* Appends cp as UTF-8. */
static size_t
put_utf8(char *p, uint32_t cp)
{
	if (cp < 0x80)
		return p[0] = (char)cp, 1;
	if (cp < 0x800)
		return p[0] = (char)(0xc0 | cp >> 6),
		       p[1] = (char)(0x80 | (cp & 0x3f)), 2;
	if (cp < 0x10000)
		return p[0] = (char)(0xe0 | cp >> 12),
		       p[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
		       p[2] = (char)(0x80 | (cp & 0x3f)), 3;
	return p[0] = (char)(0xf0 | cp >> 18),
	       p[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
	       p[2] = (char)(0x80 | ((cp >> 6) & 0x3f)),
	       p[3] = (char)(0x80 | (cp & 0x3f)), 4;
}

/* decode(encode(x)) == x, and encode(decode(y)) == y, for generated
 * names mixing ASCII, "&", controls, BMP and astral characters. */
static void
test_imap_mutf7_round_trip(void **state)
{
	static const uint32_t pool[] = { 'a', 'Z', ' ', '&', '-', '~', 0, '\t',
		0x7f, 0xe9, 0x7ff, 0x800, 0xfffd, 0xd7ff, 0xe000, 0xffff,
		0x10000, 0x1f600, 0x10ffff };
	char name[200];
	struct buf e, d, e2;
	unsigned seed = 1;
	size_t iter, n, k, len;

	buf_init(&e, 4096);
	buf_init(&d, 4096);
	buf_init(&e2, 4096);
	for (iter = 0; iter < 20000; iter++) {
		len = 0;
		n = iter % 12;
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245 + 12345;
			len += put_utf8(
			    name + len, pool[(seed >> 16) % MW_NELEM(pool)]);
		}
		buf_reset(&e);
		buf_reset(&d);
		buf_reset(&e2);
		assert_int_equal(imap_mutf7_encode(name, len, &e), 0);
		assert_int_equal(
		    imap_mutf7_decode(e.data ? e.data : "", e.len, &d), 0);
		assert_int_equal(d.len, len);
		assert_memory_equal(d.data ? d.data : "", name, len);
		assert_int_equal(
		    imap_mutf7_encode(d.data ? d.data : "", d.len, &e2), 0);
		assert_int_equal(e2.len, e.len);
		assert_memory_equal(
		    e2.data ? e2.data : "", e.data ? e.data : "", e.len);
	}
	buf_free(&e);
	buf_free(&d);
	buf_free(&e2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_mutf7_pairs),
		cmocka_unit_test(test_imap_mutf7_decode_rejects),
		cmocka_unit_test(test_imap_mutf7_encode_rejects_bad_utf8),
		cmocka_unit_test(test_imap_mutf7_ceiling),
		cmocka_unit_test(test_imap_utf8_char_len),
		cmocka_unit_test(test_imap_mutf7_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
