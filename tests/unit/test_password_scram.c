/* Unit tests of the {SCRAM-SHA-256} scheme of src/auth/password.c:
 * RFC 7677 3's credentials, Dovecot's form and its bounds, hashing with
 * a named scheme, the ASCII-only SASLprep. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "auth/password.h"

/* RFC 7677 3: password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, i=4096;
 * StoredKey and ServerKey computed independently (Python hashlib). */
#define SALT       "W22ZaJ0SNY7soEsUEjb6gQ=="
#define SKEY       "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
#define SVKEY      "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define RFC_STORED "{SCRAM-SHA-256}4096," SALT "," SKEY "," SVKEY

static void
test_password_scram_make_rfc7677(void **state)
{
	static const unsigned char salt[] = { 0x5b, 0x6d, 0x99, 0x68, 0x9d,
		0x12, 0x35, 0x8e, 0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa,
		0x81 };
	char *h;

	(void)state;
	h = password_scram_make("pencil", salt, sizeof(salt), 4096);
	assert_non_null(h);
	assert_string_equal(h, RFC_STORED);
	free(h);
}

struct verify_case {
	const char *label;
	const char *stored;
	const char *password;
	int want;
};

// clang-format off
static const struct verify_case verify_cases[] = {
	{ "rfc ok",          RFC_STORED, "pencil", 0 },
	{ "rfc lower name",  "{scram-sha-256}4096," SALT "," SKEY "," SVKEY, "pencil", 0 },
	{ "rfc bad",         RFC_STORED, "Pencil", 1 },
	{ "rfc longer",      RFC_STORED, "pencil ", 1 },
	{ "rfc empty",       RFC_STORED, "", 1 },
	{ "control char",    RFC_STORED, "pen\tcil", 1 },
	{ "bad utf-8",       RFC_STORED, "pencil\xff", 1 },
	{ "3 fields",        "{SCRAM-SHA-256}4096," SALT "," SKEY, "pencil", -1 },
	{ "5 fields",        RFC_STORED ",x", "pencil", -1 },
	{ "trailing comma",  RFC_STORED ",", "pencil", -1 },
	{ "iter 4095",       "{SCRAM-SHA-256}4095," SALT "," SKEY "," SVKEY, "pencil", -1 },
	{ "iter sign",       "{SCRAM-SHA-256}+4096," SALT "," SKEY "," SVKEY, "pencil", -1 },
	{ "iter empty",      "{SCRAM-SHA-256}," SALT "," SKEY "," SVKEY, "pencil", -1 },
	{ "iter 4097 wrong", "{SCRAM-SHA-256}4097," SALT "," SKEY "," SVKEY, "pencil", 1 },
	{ "salt short",      "{SCRAM-SHA-256}4096,AAAAAAAAAA==," SKEY "," SVKEY, "pencil", -1 },
	{ "salt bad b64",    "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ," SKEY "," SVKEY, "pencil", -1 },
	{ "key short",       "{SCRAM-SHA-256}4096," SALT ",WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT," SVKEY, "pencil", -1 },
	{ "server key long", "{SCRAM-SHA-256}4096," SALT "," SKEY "," SVKEY "AAAA", "pencil", -1 },
	{ "sha-1 scheme",    "{SCRAM-SHA-1}4096," SALT "," SKEY "," SVKEY, "pencil", -1 },
};
// clang-format on

static void
test_password_scram_verify_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(verify_cases) / sizeof(verify_cases[0]); i++) {
		const struct verify_case *c = &verify_cases[i];
		int got = password_verify(c->stored, c->password);

		if (got != c->want)
			fail_msg("%s: got %d, want %d", c->label, got, c->want);
		if (password_scheme_ok(c->stored) != (c->want != -1))
			fail_msg("%s: scheme_ok", c->label);
	}
}

/* Iterations 4095/4096/4097 and 9999999/10000000/10000001; salt of 7, 8,
 * 9 and 127, 128, 129 bytes (parsed, not hashed). */
static void
test_password_scram_bounds(void **state)
{
	static const struct {
		const char *iter;
		const char *salt;
		bool ok;
	} rows[] = {
		{ "4095", SALT, false },
		{ "4096", SALT, true },
		{ "4097", SALT, true },
		{ "9999999", SALT, true },
		{ "10000000", SALT, true },
		{ "10000001", SALT, false },
		{ "99999999999999999999999", SALT, false },
		{ "4096", "AAAAAAAAAA==", false },
		{ "4096", "AAAAAAAAAAA=", true },
		{ "4096", "AAAAAAAAAAAA", true },
	};
	struct password_scram sc;
	char stored[512], big[200];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		(void)snprintf(stored, sizeof(stored),
		    "{SCRAM-SHA-256}%s,%s," SKEY "," SVKEY, rows[i].iter,
		    rows[i].salt);
		if (password_scheme_ok(stored) != rows[i].ok)
			fail_msg("iter %s salt %s", rows[i].iter, rows[i].salt);
		assert_int_equal(
		    password_scram_parse(stored, &sc), rows[i].ok ? 0 : -1);
	}
	/* 126 to 129 bytes of salt: 168 to 172 base64 characters */
	for (n = 126; n <= 129; n++) {
		size_t chars = (n + 2) / 3 * 4;

		memset(big, 'A', chars);
		big[chars] = '\0';
		if (n % 3 == 1)
			memcpy(big + chars - 2, "==", 2);
		else if (n % 3 == 2)
			big[chars - 1] = '=';
		(void)snprintf(stored, sizeof(stored),
		    "{SCRAM-SHA-256}4096,%s," SKEY "," SVKEY, big);
		assert_int_equal(password_scram_parse(stored, &sc),
		    n <= PASSWORD_SCRAM_SALT_MAX ? 0 : -1);
		if (n <= PASSWORD_SCRAM_SALT_MAX)
			assert_int_equal(sc.salt_len, n);
	}
}

static void
test_password_scram_parse_fields(void **state)
{
	struct password_scram sc;

	(void)state;
	assert_int_equal(password_scram_parse(RFC_STORED, &sc), 0);
	assert_int_equal(sc.iter, 4096);
	assert_int_equal(sc.salt_len, 16);
	assert_int_equal(sc.salt[0], 0x5b);
	assert_int_equal(sc.stored_key[0], 0x58); /* 'WG5d' */
	assert_int_equal(password_scram_parse("{PLAIN}x", &sc), -1);
	assert_int_equal(password_scram_parse(NULL, &sc), -1);
	assert_int_equal(sc.iter, 0); /* zeroed on failure */
	assert_string_equal(password_scheme(RFC_STORED), "SCRAM-SHA-256");
}

static void
test_password_hash_scheme(void **state)
{
	char *a, *b;

	(void)state;
	a = password_hash_scheme("pencil", "SCRAM-SHA-256");
	b = password_hash_scheme("pencil", "scram-sha-256");
	assert_non_null(a);
	assert_non_null(b);
	assert_memory_equal(a, "{SCRAM-SHA-256}4096,", 20);
	assert_string_not_equal(a, b); /* random salt */
	assert_int_equal(password_verify(a, "pencil"), 0);
	assert_int_equal(password_verify(b, "pencil"), 0);
	assert_int_equal(password_verify(a, "pencil2"), 1);
	assert_true(password_scheme_ok(a));
	free(a);
	free(b);

	a = password_hash_scheme("pencil", "ARGON2ID");
	assert_non_null(a);
	assert_string_equal(password_scheme(a), "ARGON2ID");
	free(a);

	errno = 0;
	assert_null(password_hash_scheme("pencil", "MD5"));
	assert_int_equal(errno, EINVAL);
	assert_null(password_hash_scheme("pencil", NULL));
	errno = 0;
	assert_null(password_hash_scheme("", "SCRAM-SHA-256"));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(password_hash_scheme("a\x01", "SCRAM-SHA-256"));
	assert_int_equal(errno, EINVAL);
}

static void
test_password_scram_prep(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} rows[] = {
		{ "pencil", true },
		{ "with space", true },
		{ "~!@#$%^&*()", true },
		{ "\xc3\xa9t\xc3\xa9", true },
		{ "", false },
		{ "tab\there", false },
		{ "nl\n", false },
		{ "del\x7f", false },
		{ "\x1f", false },
		{ "\xc3", false },
		{ "\xed\xa0\x80", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (password_scram_prep_ok(rows[i].s, strlen(rows[i].s)) !=
		    rows[i].ok)
			fail_msg("row %zu", i);
	assert_false(password_scram_prep_ok("a\0b", 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_scram_make_rfc7677),
		cmocka_unit_test(test_password_scram_verify_table),
		cmocka_unit_test(test_password_scram_bounds),
		cmocka_unit_test(test_password_scram_parse_fields),
		cmocka_unit_test(test_password_hash_scheme),
		cmocka_unit_test(test_password_scram_prep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
