/*
 * Unit tests for the DSN parameter values (smtp_dsn_param.c, RFC 3461 4.1
 * to 4.4, RFC 6533 3): NOTIFY, RET, ENVID and ORCPT tables, the 100- and
 * 500-character bounds at max-1, max and max+1, and that a failure leaves
 * the output buffers as they were.
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
#include "smtp/smtp_dsn_param.h"

#define N_NEVER DSN_NOTIFY_NEVER
#define N_S     DSN_NOTIFY_SUCCESS
#define N_F     DSN_NOTIFY_FAILURE
#define N_D     DSN_NOTIFY_DELAY

struct notify_case {
	const char *in;
	int ret;
	unsigned flags;
};

// clang-format off
static const struct notify_case notify_cases[] = {
	{ "NEVER", 0, N_NEVER },
	{ "never", 0, N_NEVER },
	{ "SUCCESS", 0, N_S },
	{ "FAILURE", 0, N_F },
	{ "DELAY", 0, N_D },
	{ "SUCCESS,FAILURE,DELAY", 0, N_S | N_F | N_D },
	{ "delay,Success", 0, N_S | N_D },
	{ "FAILURE,FAILURE", 0, N_F },
	{ "", -1, 0 },
	{ "NEVER,SUCCESS", -1, 0 },
	{ "SUCCESS,NEVER", -1, 0 },
	{ "NEVER,NEVER", -1, 0 },
	{ "SUCCESS,", -1, 0 },
	{ ",DELAY", -1, 0 },
	{ "SUCCESS,,DELAY", -1, 0 },
	{ ",", -1, 0 },
	{ "ALWAYS", -1, 0 },
	{ "SUCCESS FAILURE", -1, 0 },
	{ "NEVERX", -1, 0 },
	{ " NEVER", -1, 0 },
	{ "SUCCES", -1, 0 },
	{ "DELAYS", -1, 0 },
};
// clang-format on

static void
test_dsn_parse_notify_table(void **state)
{
	unsigned flags;
	size_t i;
	int r;

	for (i = 0; i < MW_NELEM(notify_cases); i++) {
		const struct notify_case *c = &notify_cases[i];

		flags = 0xdead;
		errno = 0;
		r = dsn_parse_notify(c->in, &flags);
		if (r != c->ret)
			fail_msg("\"%s\": %d", c->in, r);
		if (r == 0)
			assert_int_equal(flags, c->flags);
		else {
			assert_int_equal(flags, 0xdead);
			assert_int_equal(errno, EINVAL);
		}
	}
}

static void
test_dsn_parse_ret_table(void **state)
{
	static const struct {
		const char *in;
		int ret, v;
	} cases[] = {
		{ "FULL", 0, 1 },
		{ "full", 0, 1 },
		{ "HDRS", 0, 2 },
		{ "Hdrs", 0, 2 },
		{ "", -1, 0 },
		{ "FUL", -1, 0 },
		{ "FULLX", -1, 0 },
		{ "HEADERS", -1, 0 },
		{ "FULL ", -1, 0 },
	};
	size_t i;
	int v;

	for (i = 0; i < MW_NELEM(cases); i++) {
		v = 7;
		assert_int_equal(dsn_parse_ret(cases[i].in, &v), cases[i].ret);
		assert_int_equal(v, cases[i].ret == 0 ? cases[i].v : 7);
	}
}

struct envid_case {
	const char *name;
	const char *in;
	const char *out; /* NULL: rejected */
	const char *err;
};

#define E_EMPTY "empty ENVID"
#define E_LONG  "ENVID longer than 100 characters"
#define E_XTEXT "malformed ENVID xtext"
#define E_PRINT "ENVID is not printable US-ASCII"

// clang-format off
static const struct envid_case envid_cases[] = {
	{ "plain", "QQ314159", "QQ314159", NULL },
	{ "plus", "a+2Bb", "a+b", NULL },
	{ "space", "a+20b", "a b", NULL },
	{ "tilde", "~!", "~!", NULL },
	{ "empty", "", NULL, E_EMPTY },
	{ "LF", "a+0Ab", NULL, E_PRINT },
	{ "TAB", "a+09b", NULL, E_PRINT },
	{ "DEL", "+7F", NULL, E_PRINT },
	{ "8-bit", "a+C3+A9", NULL, E_PRINT },
	{ "raw space", "a b", NULL, E_XTEXT },
	{ "lower-case hex is taken", "a+2b", "a+", NULL },
	{ "equals", "a=b", NULL, E_XTEXT },
	{ "decoded NUL", "+00", NULL, E_XTEXT },
	{ "raw 8-bit", "\xc3\xa9", NULL, E_XTEXT },
};
// clang-format on

static void
test_dsn_parse_envid_table(void **state)
{
	struct buf out;
	const char *err;
	size_t i;
	int r;

	for (i = 0; i < MW_NELEM(envid_cases); i++) {
		const struct envid_case *c = &envid_cases[i];

		buf_init(&out, 1024);
		assert_int_equal(buf_append_str(&out, "id:"), 0);
		err = NULL;
		errno = 0;
		r = dsn_parse_envid(c->in, &out, &err);
		if (c->out != NULL) {
			if (r != 0)
				fail_msg("%s: %s", c->name, err);
			assert_string_equal(out.data + 3, c->out);
		} else {
			if (r != -1)
				fail_msg("%s: accepted", c->name);
			assert_string_equal(err, c->err);
			assert_int_equal(errno, EINVAL);
			assert_string_equal(out.data, "id:");
		}
		buf_free(&out);
	}
}

/* RFC 3461 4.4: at most 100 characters as sent, "+XX" counting 3. */
static void
test_dsn_parse_envid_length_at_edges(void **state)
{
	char v[128];
	struct buf out;
	const char *err;
	size_t n;

	for (n = 99; n <= 101; n++) {
		memset(v, 'e', n);
		v[n] = '\0';
		memcpy(v, "+41", 3); /* encoded, still n characters */
		buf_init(&out, 1024);
		assert_int_equal(
		    dsn_parse_envid(v, &out, &err), n <= 100 ? 0 : -1);
		if (n <= 100) {
			assert_int_equal(out.len, n - 2);
			assert_int_equal(out.data[0], 'A');
		} else
			assert_string_equal(err, E_LONG);
		buf_free(&out);
	}
	/* the output buffer's own limit */
	for (n = 2; n <= 4; n++) {
		buf_init(&out, n);
		errno = 0;
		assert_int_equal(
		    dsn_parse_envid("a+20b", &out, &err), n < 3 ? -1 : 0);
		if (n < 3) {
			assert_int_equal(errno, ENOBUFS);
			assert_string_equal(err, "ENVID too long");
			assert_int_equal(out.len, 0);
		}
		buf_free(&out);
	}
}

struct orcpt_case {
	const char *name;
	const char *in;
	const char *type; /* NULL: rejected */
	const char *addr;
	const char *err;
};

#define O_NOTYPE "ORCPT without an address type"
#define O_TYPE   "malformed ORCPT address type"
#define O_EMPTY  "empty ORCPT address"
#define O_ADDR   "malformed ORCPT address"
#define O_PRINT  "ORCPT address is not printable US-ASCII"

#define OOK(name, in, type, addr)                                              \
	{                                                                      \
		name, in, type, addr, NULL                                     \
	}
#define OBAD(name, in, err)                                                    \
	{                                                                      \
		name, in, NULL, NULL, err                                      \
	}

// clang-format off
static const struct orcpt_case orcpt_cases[] = {
	OOK("rfc822", "rfc822;bob@example.org", "rfc822", "bob@example.org"),
	OOK("type lower-cased", "RFC822;Bob@x", "rfc822", "Bob@x"),
	OOK("xtext decoded", "rfc822;a+2Bb+40x", "rfc822", "a+b@x"),
	OOK("quoted local part", "rfc822;\"j+20d\"@x", "rfc822", "\"j d\"@x"),
	OOK("other type", "x400;c+3Dus", "x400", "c=us"),
	OOK("atext type", "x-foo_bar;a", "x-foo_bar", "a"),
	OOK("unknown type", "unknown;a", "unknown", "a"),
	OOK("semicolon in the address", "rfc822;a;b", "rfc822", "a;b"),
	OOK("utf-8 unitext", "utf-8;al\xc3\xa9@x", "utf-8", "al\xc3\xa9@x"),
	OOK("utf-8 type case", "UTF-8;a@x", "utf-8", "a@x"),
	OOK("utf-8 xtext", "utf-8;al\\x{E9}@x", "utf-8", "al\xc3\xa9@x"),
	OOK("utf-8 lower-case hex", "utf-8;\\x{e9}", "utf-8", "\xc3\xa9"),
	OOK("utf-8 leading zeros", "utf-8;\\x{0000E9}", "utf-8", "\xc3\xa9"),
	OOK("utf-8 3 bytes", "utf-8;\\x{20AC}", "utf-8", "\xe2\x82\xac"),
	OOK("utf-8 4 bytes", "utf-8;\\x{1F600}@x", "utf-8",
	    "\xf0\x9f\x98\x80@x"),
	OOK("utf-8 last code point", "utf-8;\\x{10FFFF}", "utf-8",
	    "\xf4\x8f\xbf\xbf"),
	OOK("utf-8 escaped specials", "utf-8;a\\x{2B}b\\x{5C}\\x{20}", "utf-8",
	    "a+b\\ "),
	OBAD("no type", "bob@x", O_NOTYPE),
	OBAD("empty", "", O_NOTYPE),
	OBAD("empty type", ";bob@x", O_TYPE),
	OBAD("space in type", "rfc 822;x", O_TYPE),
	OBAD("8-bit type", "\xc3\xa9;x", O_TYPE),
	OBAD("empty address", "rfc822;", O_EMPTY),
	OBAD("decoded LF", "rfc822;a+0Ab", O_PRINT),
	OBAD("decoded 8-bit", "rfc822;a+C3+A9", O_PRINT),
	OBAD("raw 8-bit in rfc822", "rfc822;\xc3\xa9@x", O_ADDR),
	OOK("lower-case hex is taken", "rfc822;a+2b", "rfc822", "a+"),
	OBAD("decoded NUL", "rfc822;+00", O_ADDR),
	OBAD("raw space", "rfc822;a b", O_ADDR),
	OBAD("utf-8 plus", "utf-8;a+2Bb", O_ADDR),
	OBAD("utf-8 equals", "utf-8;a=b", O_ADDR),
	OBAD("utf-8 lone backslash", "utf-8;a\\b", O_ADDR),
	OBAD("utf-8 backslash at the end", "utf-8;a\\", O_ADDR),
	OBAD("utf-8 empty escape", "utf-8;\\x{}", O_ADDR),
	OBAD("utf-8 unterminated escape", "utf-8;\\x{41", O_ADDR),
	OBAD("utf-8 upper-case X", "utf-8;\\X{41}", O_ADDR),
	OBAD("utf-8 not hex", "utf-8;\\x{4G}", O_ADDR),
	OBAD("utf-8 7 digits", "utf-8;\\x{00000E9}", O_ADDR),
	OBAD("utf-8 surrogate", "utf-8;\\x{D800}", O_ADDR),
	OBAD("utf-8 past U+10FFFF", "utf-8;\\x{110000}", O_ADDR),
	OBAD("utf-8 escaped NUL", "utf-8;\\x{0}", O_ADDR),
	OBAD("utf-8 escaped LF", "utf-8;a\\x{0A}", O_ADDR),
	OBAD("utf-8 escaped DEL", "utf-8;\\x{7F}", O_ADDR),
	OBAD("utf-8 escaped C1", "utf-8;\\x{85}", O_ADDR),
	OBAD("utf-8 raw C1", "utf-8;\xc2\x85", O_ADDR),
	OBAD("utf-8 bad UTF-8", "utf-8;\xff@x", O_ADDR),
	OBAD("utf-8 truncated UTF-8", "utf-8;a\xc3", O_ADDR),
	OBAD("utf-8 raw space", "utf-8;a b", O_ADDR),
	OBAD("utf-8 raw control", "utf-8;a\x01", O_ADDR),
};
// clang-format on

static void
test_dsn_parse_orcpt_table(void **state)
{
	struct buf type, addr;
	const char *err;
	size_t i;
	int r;

	for (i = 0; i < MW_NELEM(orcpt_cases); i++) {
		const struct orcpt_case *c = &orcpt_cases[i];

		buf_init(&type, 1024);
		buf_init(&addr, 1024);
		assert_int_equal(buf_append_str(&type, "T:"), 0);
		assert_int_equal(buf_append_str(&addr, "A:"), 0);
		err = NULL;
		errno = 0;
		r = dsn_parse_orcpt(c->in, &type, &addr, &err);
		if (c->type != NULL) {
			if (r != 0)
				fail_msg("%s: %s", c->name, err);
			assert_string_equal(type.data + 2, c->type);
			assert_string_equal(addr.data + 2, c->addr);
		} else {
			if (r != -1)
				fail_msg("%s: accepted: %s %s", c->name,
				    type.data, addr.data);
			if (strcmp(err, c->err) != 0)
				fail_msg("%s: \"%s\"", c->name, err);
			assert_int_equal(errno, EINVAL);
			assert_string_equal(type.data, "T:");
			assert_string_equal(addr.data, "A:");
		}
		buf_free(&type);
		buf_free(&addr);
	}
}

/* RFC 3461 4.2: at most 500 characters of address as sent. */
static void
test_dsn_parse_orcpt_length_at_edges(void **state)
{
	char v[600];
	struct buf type, addr;
	const char *err;
	size_t n;

	for (n = 499; n <= 501; n++) {
		memcpy(v, "rfc822;", 7);
		memset(v + 7, 'a', n);
		memcpy(v + 7, "+40", 3);
		v[7 + n] = '\0';
		buf_init(&type, 64);
		buf_init(&addr, 1024);
		assert_int_equal(
		    dsn_parse_orcpt(v, &type, &addr, &err), n <= 500 ? 0 : -1);
		if (n <= 500)
			assert_int_equal(addr.len, n - 2);
		else
			assert_string_equal(
			    err, "ORCPT longer than 500 characters");
		buf_free(&type);
		buf_free(&addr);
	}
	/* the output buffers' own limits; the other one stays as it was */
	for (n = 5; n <= 7; n++) {
		buf_init(&type, n);
		buf_init(&addr, 64);
		errno = 0;
		assert_int_equal(
		    dsn_parse_orcpt("rfc822;a", &type, &addr, &err),
		    n < 6 ? -1 : 0);
		if (n < 6) {
			assert_int_equal(errno, ENOBUFS);
			assert_int_equal(type.len, 0);
			assert_int_equal(addr.len, 0);
		}
		buf_free(&type);
		buf_free(&addr);
	}
	for (n = 2; n <= 4; n++) {
		buf_init(&type, 64);
		buf_init(&addr, n);
		errno = 0;
		assert_int_equal(
		    dsn_parse_orcpt("utf-8;\\x{E9}@", &type, &addr, &err),
		    n < 3 ? -1 : 0);
		if (n < 3) {
			assert_int_equal(errno, ENOBUFS);
			assert_string_equal(err, "ORCPT address too long");
			assert_int_equal(type.len, 0);
			assert_int_equal(addr.len, 0);
		} else
			assert_string_equal(addr.data, "\xc3\xa9@");
		buf_free(&type);
		buf_free(&addr);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsn_parse_notify_table),
		cmocka_unit_test(test_dsn_parse_ret_table),
		cmocka_unit_test(test_dsn_parse_envid_table),
		cmocka_unit_test(test_dsn_parse_envid_length_at_edges),
		cmocka_unit_test(test_dsn_parse_orcpt_table),
		cmocka_unit_test(test_dsn_parse_orcpt_length_at_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
