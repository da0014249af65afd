/*
 * Unit tests for the MIME content decoders (mime_decode.h): quoted-
 * printable and base64 as table rows, each fed whole, byte by byte and
 * split at every offset; RFC 2047 encoded-words with charsets through
 * iconv; output ceilings; and the IMAP string writer (imap_string.h):
 * quoted or literal as RFC 9051 4.3 requires, with and without UTF-8.
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

#include "imap/imap_string.h"
#include "lib/buf.h"
#include "mime/mime_decode.h"

#define S(s) s, sizeof(s) - 1

struct dec_case {
	const char *name, *in;
	size_t in_n;
	const char *out;
	size_t out_n;
};

#define R(name, in, out)                                                       \
	{                                                                      \
		name, S(in), S(out)                                            \
	}

// clang-format off
static const struct dec_case qp_cases[] = {
	R("plain", "hello\n", "hello\n"),
	R("hex both cases", "=C3=a9=3D\n", "\xc3\xa9=\n"),
	R("soft break LF", "ab=\ncd", "abcd"),
	R("soft break CRLF", "ab=\r\ncd", "abcd"),
	R("soft break with trailing white space", "ab= \t\r\ncd", "abcd"),
	R("trailing white space goes", "ab  \ncd\t\r\n", "ab\ncd\r\n"),
	R("inner white space stays", "a b\tc\n", "a b\tc\n"),
	R("invalid =XX kept", "a=XYb=4", "a=XYb=4"),
	R("= then one hex then junk", "=4z", "=4z"),
	R("= at the end", "abc=", "abc"),
	R("= space then text is literal", "a= b", "a= b"),
	R("= and a bare CR", "a=\rb", "a=\rb"),
	R("white space at the end", "ab   ", "ab"),
	R("equals equals", "==41", "=A"),
	R("NUL and 8-bit pass", "a\0\xff\n", "a\0\xff\n"),
	R("empty", "", ""),
};

static const struct dec_case b64_cases[] = {
	R("hello", "aGVsbG8=", "hello"),
	R("line breaks and junk skipped", "aGVs\r\nbG8g\n d29y*bGQ=\n", "hello world"),
	R("no padding", "aGVsbG8", "hello"),
	R("two groups", "YQ==YWI=", "aab"),
	R("one stray char dropped", "YWJjZ", "abc"),
	R("all junk", "!!!\n\n", ""),
	R("binary", "AP+A", "\x00\xff\x80"),
	R("empty", "", ""),
};

static const struct dec_case ew_cases[] = {
	R("Q utf-8", "=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "Gr\xc3\xbc\xc3\x9f" "e"),
	R("B utf-8", "=?UTF-8?B?w6k=?=", "\xc3\xa9"),
	R("latin1 to utf-8", "=?iso-8859-1?q?J=F6rg?= x", "J\xc3\xb6rg x"),
	R("adjacent words joined", "=?utf-8?q?a?= \n =?utf-8?q?b?=", "ab"),
	R("split character joined", "=?utf-8?b?ww==?= =?utf-8?b?qQ==?=", "\xc3\xa9"),
	R("text between words stays", "=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b"),
	R("underscore is space", "=?utf-8?q?a_b?=", "a b"),
	R("RFC 2231 language", "=?utf-8*en?q?hi?=", "hi"),
	R("unknown charset kept", "=?x-nonesuch?q?a?= b", "=?x-nonesuch?q?a?= b"),
	R("not a word", "=?utf-8?x?a?= =?bad", "=?utf-8?x?a?= =?bad"),
	R("unfolded", "a\r\n b", "a b"),
	R("invalid utf-8 replaced", "=?utf-8?q?=FF?=", "\xef\xbf\xbd"),
	R("8-bit text kept", "caf\xc3\xa9", "caf\xc3\xa9"),
};
// clang-format on

enum which {
	QP,
	B64
};

static void
feed(enum which w, const struct dec_case *c, size_t cut, size_t step,
    struct buf *out)
{
	struct mime_qp q;
	struct mime_b64 b;
	size_t pos = 0, end;

	mime_qp_init(&q);
	mime_b64_init(&b);
	buf_init(out, 1 << 20);
	while (pos < c->in_n) {
		end = pos < cut ? cut : c->in_n;
		if (step > 0 && end - pos > step)
			end = pos + step;
		if (w == QP)
			assert_int_equal(
			    mime_qp_decode(&q, c->in + pos, end - pos, out), 0);
		else
			assert_int_equal(
			    mime_b64_decode(&b, c->in + pos, end - pos, out),
			    0);
		pos = end;
	}
	if (w == QP)
		assert_int_equal(mime_qp_end(&q, out), 0);
	else
		assert_int_equal(mime_b64_end(&b, out), 0);
}

static void
check_rows(enum which w, const struct dec_case *rows, size_t n)
{
	struct buf out;
	size_t k, cut;

	for (k = 0; k < n; k++) {
		const struct dec_case *c = &rows[k];

		print_message("row %s\n", c->name);
		for (cut = 0; cut <= c->in_n; cut++) {
			feed(w, c, cut, 0, &out);
			assert_int_equal(out.len, c->out_n);
			if (c->out_n > 0)
				assert_memory_equal(out.data, c->out, c->out_n);
			buf_free(&out);
		}
		feed(w, c, 0, 1, &out);
		assert_int_equal(out.len, c->out_n);
		if (c->out_n > 0)
			assert_memory_equal(out.data, c->out, c->out_n);
		buf_free(&out);
	}
}

static void
test_mime_qp_rows_split_everywhere(void **state)
{
	check_rows(QP, qp_cases, sizeof(qp_cases) / sizeof(qp_cases[0]));
}

static void
test_mime_b64_rows_split_everywhere(void **state)
{
	check_rows(B64, b64_cases, sizeof(b64_cases) / sizeof(b64_cases[0]));
}

static void
test_mime_qp_long_white_space_run(void **state)
{
	char in[300];
	struct mime_qp q;
	struct buf out;

	memset(in, ' ', sizeof(in));
	in[sizeof(in) - 1] = 'x';
	mime_qp_init(&q);
	buf_init(&out, 1 << 16);
	assert_int_equal(mime_qp_decode(&q, in, sizeof(in), &out), 0);
	assert_int_equal(mime_qp_end(&q, &out), 0);
	assert_int_equal(out.len, sizeof(in)); /* not trailing: all kept */
	buf_free(&out);
}

static void
test_mime_decode_ceiling_enobufs(void **state)
{
	struct mime_qp q;
	struct mime_b64 b;
	struct buf out;

	mime_qp_init(&q);
	buf_init(&out, 3);
	assert_int_equal(mime_qp_decode(&q, S("abc"), &out), 0);
	assert_int_equal(mime_qp_decode(&q, S("d"), &out), -1);
	assert_int_equal(errno, ENOBUFS);
	buf_free(&out);
	mime_b64_init(&b);
	buf_init(&out, 2);
	assert_int_equal(mime_b64_decode(&b, S("YWJj"), &out), -1);
	assert_int_equal(errno, ENOBUFS);
	buf_free(&out);
	buf_init(&out, 2);
	assert_int_equal(mime_2047_decode(S("=?utf-8?q?abc?="), &out), -1);
	buf_free(&out);
}

static void
test_mime_2047_rows(void **state)
{
	struct buf out;
	size_t k;

	for (k = 0; k < sizeof(ew_cases) / sizeof(ew_cases[0]); k++) {
		const struct dec_case *c = &ew_cases[k];

		print_message("row %s\n", c->name);
		buf_init(&out, 1 << 16);
		assert_int_equal(mime_2047_decode(c->in, c->in_n, &out), 0);
		assert_int_equal(out.len, c->out_n);
		assert_memory_equal(out.data, c->out, c->out_n);
		buf_free(&out);
	}
}

static void
test_mime_charset_unknown_einval(void **state)
{
	struct buf out;

	buf_init(&out, 64);
	assert_int_equal(
	    mime_charset_to_utf8(S("x-nonesuch"), S("a"), &out), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(out.len, 0);
	assert_int_equal(
	    mime_charset_to_utf8(S("windows-1252"), S("\x80"), &out), 0);
	assert_string_equal(out.data, "\xe2\x82\xac");
	buf_free(&out);
}

struct str_case {
	const char *in;
	size_t in_n;
	bool utf8;
	const char *out;
};

// clang-format off
static const struct str_case str_cases[] = {
	{ S("hello"), false, "\"hello\"" },
	{ S(""), false, "\"\"" },
	{ S("a\"b\\c"), false, "\"a\\\"b\\\\c\"" },
	{ S("\"\"\"\""), false, "\"\\\"\\\"\\\"\\\"\"" },
	{ S("\"\"\"\"\""), false, "{5}\r\n\"\"\"\"\"" },
	{ S("a\nb"), false, "{3}\r\na\nb" },
	{ S("a\rb"), false, "{3}\r\na\rb" },
	{ S("caf\xc3\xa9"), false, "{5}\r\ncaf\xc3\xa9" },
	{ S("caf\xc3\xa9"), true, "\"caf\xc3\xa9\"" },
	{ S("bad \xff"), true, "{5}\r\nbad \xff" },
	{ S("tab\there"), false, "\"tab\there\"" },
};
// clang-format on

static void
test_imap_string_quoted_or_literal(void **state)
{
	struct buf out;
	size_t k;

	for (k = 0; k < sizeof(str_cases) / sizeof(str_cases[0]); k++) {
		buf_init(&out, 1 << 16);
		assert_int_equal(imap_string_append(&out, str_cases[k].in,
		                     str_cases[k].in_n, str_cases[k].utf8),
		    0);
		assert_string_equal(out.data, str_cases[k].out);
		buf_free(&out);
	}
	buf_init(&out, 64);
	assert_int_equal(imap_nstring_append(&out, NULL, false), 0);
	assert_string_equal(out.data, "NIL");
	buf_free(&out);
}

static void
test_imap_string_long_is_literal_and_ceiling(void **state)
{
	char big[IMAP_QUOTED_MAX + 1];
	struct buf out;

	memset(big, 'a', sizeof(big));
	buf_init(&out, 1 << 16);
	assert_int_equal(
	    imap_string_append(&out, big, IMAP_QUOTED_MAX, false), 0);
	assert_int_equal(out.data[0], '"');
	buf_reset(&out);
	assert_int_equal(imap_string_append(&out, big, sizeof(big), false), 0);
	assert_memory_equal(out.data, "{1025}\r\n", 8);
	buf_free(&out);
	buf_init(&out, 4);
	assert_int_equal(imap_string_append(&out, S("hello"), false), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mime_qp_rows_split_everywhere),
		cmocka_unit_test(test_mime_b64_rows_split_everywhere),
		cmocka_unit_test(test_mime_qp_long_white_space_run),
		cmocka_unit_test(test_mime_decode_ceiling_enobufs),
		cmocka_unit_test(test_mime_2047_rows),
		cmocka_unit_test(test_mime_charset_unknown_einval),
		cmocka_unit_test(test_imap_string_quoted_or_literal),
		cmocka_unit_test(test_imap_string_long_is_literal_and_ceiling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
