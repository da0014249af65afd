/*
 * Unit tests for xtext (xtext.c, RFC 3461 4): encoding and decoding
 * tables, every byte value round trip, and output limits at max-1, max and
 * max+1 (nothing is appended on failure).
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
#include "lib/mw.h"
#include "queue/xtext.h"

#define S(s) s, sizeof(s) - 1

struct encode_case {
	const char *name;
	const char *in;
	size_t n;
	const char *out;
};

// clang-format off
static const struct encode_case encode_cases[] = {
	{ "empty", S(""), "" },
	{ "plain", S("QQ314159"), "QQ314159" },
	{ "address", S("bob@example.org"), "bob@example.org" },
	{ "plus", S("a+b"), "a+2Bb" },
	{ "equals", S("a=b"), "a+3Db" },
	{ "space", S("a b"), "a+20b" },
	{ "all xchar ends", S("!~"), "!~" },
	{ "controls", S("\r\n\t"), "+0D+0A+09" },
	{ "NUL", S("a\0b"), "a+00b" },
	{ "DEL", S("\x7f"), "+7F" },
	{ "8-bit", S("\xc3\xa9\xff"), "+C3+A9+FF" },
	{ "quoted local part", S("\"j d\"@x"), "\"j+20d\"@x" },
};

struct decode_case {
	const char *name;
	const char *in;
	size_t n;
	const char *out; /* NULL: EINVAL */
	size_t out_n;
};

#define DOK(name, in, out) { name, S(in), S(out) }
#define DBAD(name, in) { name, S(in), NULL, 0 }

static const struct decode_case decode_cases[] = {
	DOK("empty", "", ""),
	DOK("plain", "QQ314159", "QQ314159"),
	DOK("plus", "a+2Bb", "a+b"),
	DOK("equals", "a+3Db", "a=b"),
	DOK("needless hex", "+41+42", "AB"),
	DOK("hex at the end", "a+20", "a "),
	DOK("controls decode", "+0D+0A", "\r\n"),
	DOK("8-bit decodes", "+C3+A9", "\xc3\xa9"),
	DOK("high byte", "+FF", "\xff"),
	DOK("xchar ends", "!~", "!~"),
	DOK("lower-case hex is taken", "a+2b", "a+"),
	DOK("lower-case hex digit is taken", "+c3", "\xc3"),
	DBAD("decoded NUL", "a+00b"),
	DBAD("plus alone", "+"),
	DBAD("plus one digit", "+2"),
	DBAD("plus at the end", "ab+"),
	DBAD("plus one digit at the end", "ab+4"),
	DBAD("not hex", "+GG"),
	DBAD("plus plus", "++41"),
	DBAD("equals", "a=b"),
	DBAD("space", "a b"),
	DBAD("TAB", "a\tb"),
	DBAD("CR", "a\r"),
	DBAD("LF", "a\nb"),
	DBAD("NUL", "a\0b"),
	DBAD("DEL", "a\x7f"),
	DBAD("8-bit", "\xc3\xa9"),
};
// clang-format on

static void
test_xtext_encode_table(void **state)
{
	struct buf out;
	size_t i;

	for (i = 0; i < MW_NELEM(encode_cases); i++) {
		const struct encode_case *c = &encode_cases[i];

		buf_init(&out, 1024);
		assert_int_equal(buf_append_str(&out, "x="), 0);
		assert_int_equal(xtext_encode(c->in, c->n, &out), 0);
		if (strcmp(buf_cstr(&out) + 2, c->out) != 0)
			fail_msg("%s: \"%s\"", c->name, buf_cstr(&out));
		buf_free(&out);
	}
}

static void
test_xtext_decode_table(void **state)
{
	struct buf out;
	size_t i;
	int r;

	for (i = 0; i < MW_NELEM(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];
		char *in = malloc(c->n > 0 ? c->n : 1); /* exact size */

		assert_non_null(in);
		memcpy(in, c->in, c->n);
		buf_init(&out, 1024);
		assert_int_equal(buf_append_str(&out, "x="), 0);
		errno = 0;
		r = xtext_decode(in, c->n, &out);
		if (c->out == NULL) {
			if (r != -1)
				fail_msg("%s: accepted", c->name);
			assert_int_equal(errno, EINVAL);
			/* nothing appended */
			assert_string_equal(buf_cstr(&out), "x=");
		} else {
			if (r != 0)
				fail_msg("%s: rejected", c->name);
			if (out.len != 2 + c->out_n ||
			    memcmp(out.data + 2, c->out, c->out_n) != 0)
				fail_msg("%s: \"%s\"", c->name, out.data);
		}
		buf_free(&out);
		free(in);
	}
}

/* Every byte but NUL encodes and decodes back; NUL encodes but is
 * refused when decoded (RFC 3461 4 values never hold one). */
static void
test_xtext_round_trip_every_byte(void **state)
{
	char all[255];
	struct buf enc, dec;
	size_t i;

	for (i = 0; i < sizeof(all); i++)
		all[i] = (char)(i + 1);
	buf_init(&enc, 4096);
	buf_init(&dec, 4096);
	assert_int_equal(xtext_encode(all, sizeof(all), &enc), 0);
	for (i = 0; i < enc.len; i++)
		assert_true(enc.data[i] >= '!' && enc.data[i] <= '~' &&
		    enc.data[i] != '=');
	assert_int_equal(xtext_decode(enc.data, enc.len, &dec), 0);
	assert_int_equal(dec.len, sizeof(all));
	assert_memory_equal(dec.data, all, sizeof(all));
	buf_reset(&enc);
	assert_int_equal(xtext_encode("\0", 1, &enc), 0);
	assert_string_equal(enc.data, "+00");
	assert_int_equal(xtext_decode(enc.data, enc.len, &dec), -1);
	buf_free(&enc);
	buf_free(&dec);
}

/* "a b" encodes to 5 bytes and "a+20b" decodes to 3: max-1 fails with
 * nothing appended, max and max+1 succeed. */
static void
test_xtext_limits_at_edges(void **state)
{
	struct buf out;
	size_t max;

	for (max = 4; max <= 6; max++) {
		buf_init(&out, max);
		errno = 0;
		assert_int_equal(
		    xtext_encode(S("a b"), &out), max < 5 ? -1 : 0);
		if (max < 5) {
			assert_int_equal(errno, ENOBUFS);
			assert_int_equal(out.len, 0);
		} else
			assert_string_equal(out.data, "a+20b");
		buf_free(&out);
	}
	for (max = 2; max <= 4; max++) {
		buf_init(&out, max);
		errno = 0;
		assert_int_equal(
		    xtext_decode(S("a+20b"), &out), max < 3 ? -1 : 0);
		if (max < 3) {
			assert_int_equal(errno, ENOBUFS);
			assert_int_equal(out.len, 0);
		} else
			assert_string_equal(out.data, "a b");
		buf_free(&out);
	}
	/* what was in the buffer counts, and stays */
	buf_init(&out, 6);
	assert_int_equal(buf_append_str(&out, "xy"), 0);
	assert_int_equal(xtext_encode(S("a b"), &out), -1);
	assert_string_equal(out.data, "xy");
	assert_int_equal(xtext_decode(S("a+20b"), &out), 0);
	assert_string_equal(out.data, "xya b");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xtext_encode_table),
		cmocka_unit_test(test_xtext_decode_table),
		cmocka_unit_test(test_xtext_round_trip_every_byte),
		cmocka_unit_test(test_xtext_limits_at_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
