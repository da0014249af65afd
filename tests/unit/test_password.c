/* Unit tests of src/auth/password.c: hashing, verification of every
 * supported scheme against published vectors, malformed hashes. */
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

/* Published vectors: the Argon2 reference implementation's test.c
 * ("password", salt "somesalt", t=2, m=64 MiB), Drepper's SHA-crypt
 * specification, OpenBSD's bcrypt tests, and classic DES crypt. */
#define ARGON2I_REF                                                            \
	"$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKf"   \
	"bftvj+qf+YFY4NeBbtA"
#define ARGON2ID_REF                                                           \
	"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8"   \
	"y7cJHAph8ArZWb2GRPPc"
#define SHA512_REF                                                             \
	"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJ"   \
	"uesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
#define SHA256_REF "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
#define BLF_REF    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define DES_REF    "abJnggxhB/yWI"

struct verify_case {
	const char *label;
	const char *stored;
	const char *password;
	int want;
};

// clang-format off
static const struct verify_case verify_cases[] = {
	{ "argon2id ref ok",     "{ARGON2ID}" ARGON2ID_REF, "password", 0 },
	{ "argon2id ref bad",    "{ARGON2ID}" ARGON2ID_REF, "Password", 1 },
	{ "argon2i ref ok",      "{ARGON2I}" ARGON2I_REF, "password", 0 },
	{ "argon2i ref bad",     "{ARGON2I}" ARGON2I_REF, "passwor", 1 },
	{ "sha512 ok",           "{SHA512-CRYPT}" SHA512_REF, "Hello world!", 0 },
	{ "sha512 bad",          "{SHA512-CRYPT}" SHA512_REF, "Hello world", 1 },
	{ "sha256 ok",           "{SHA256-CRYPT}" SHA256_REF, "Hello world!", 0 },
	{ "sha256 bad",          "{SHA256-CRYPT}" SHA256_REF, "hello world!", 1 },
	{ "blf ok",              "{BLF-CRYPT}" BLF_REF, "U*U", 0 },
	{ "blf bad",             "{BLF-CRYPT}" BLF_REF, "U*V", 1 },
	{ "crypt sha512 ok",     "{CRYPT}" SHA512_REF, "Hello world!", 0 },
	{ "crypt des ok",        "{CRYPT}" DES_REF, "password", 0 },
	{ "crypt des bad",       "{CRYPT}" DES_REF, "passwore", 1 },
	{ "plain ok",            "{PLAIN}secret", "secret", 0 },
	{ "plain longer",        "{PLAIN}secret", "secrets", 1 },
	{ "plain shorter",       "{PLAIN}secret", "secre", 1 },
	{ "scheme any case",     "{plain}secret", "secret", 0 },
	{ "empty password",      "{PLAIN}secret", "", 1 },
	{ "argon2 in crypt",     "{CRYPT}" ARGON2ID_REF, "password", -1 },
	{ "no scheme",           SHA512_REF, "Hello world!", -1 },
	{ "unknown scheme",      "{MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", "secret", -1 },
	{ "unclosed scheme",     "{PLAINsecret", "secret", -1 },
	{ "empty plain",         "{PLAIN}", "", -1 },
	{ "sha512 wrong prefix", "{SHA512-CRYPT}" SHA256_REF, "Hello world!", -1 },
	{ "sha256 wrong prefix", "{SHA256-CRYPT}" SHA512_REF, "Hello world!", -1 },
	{ "blf wrong prefix",    "{BLF-CRYPT}" SHA512_REF, "Hello world!", -1 },
	{ "sha512 truncated",    "{SHA512-CRYPT}$6$saltstring$svn8", "Hello world!", -1 },
	{ "crypt garbage",       "{CRYPT}$9$nonsense$x", "x", -1 },
	{ "crypt empty",         "{CRYPT}", "x", -1 },
	{ "argon2id as argon2i", "{ARGON2I}" ARGON2ID_REF, "password", -1 },
	{ "argon2i as argon2id", "{ARGON2ID}" ARGON2I_REF, "password", -1 },
	{ "argon2 old version",  "{ARGON2ID}$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "password", -1 },
	{ "argon2 no salt",      "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "password", -1 },
	{ "argon2 no hash",      "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$", "password", -1 },
	{ "argon2 trailing",     "{ARGON2ID}" ARGON2ID_REF "$", "password", -1 },
	{ "argon2 m zero",       "{ARGON2ID}$argon2id$v=19$m=0,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "password", -1 },
	{ "argon2 bad b64",      "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c29tZXNh*HQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "password", -1 },
	{ "null stored",         NULL, "x", -1 },
};
// clang-format on

static void
test_password_verify_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(verify_cases) / sizeof(verify_cases[0]); i++) {
		const struct verify_case *c = &verify_cases[i];
		int got = password_verify(c->stored, c->password);

		if (got != c->want)
			fail_msg("%s: got %d, want %d", c->label, got, c->want);
	}
}

static void
test_password_hash_has_dovecot_argon2id_form(void **state)
{
	const char *want = "{ARGON2ID}$argon2id$v=19$m=32768,t=2,p=1$";
	char *h;

	(void)state;
	h = password_hash("correct horse");
	assert_non_null(h);
	assert_memory_equal(h, want, strlen(want));
	assert_true(password_scheme_ok(h));
	assert_string_equal(password_scheme(h), "ARGON2ID");
	free(h);
}

static void
test_password_hash_round_trip(void **state)
{
	char *a, *b;

	(void)state;
	a = password_hash("correct horse");
	b = password_hash("correct horse");
	assert_non_null(a);
	assert_non_null(b);
	assert_string_not_equal(a, b); /* random salt */
	assert_int_equal(password_verify(a, "correct horse"), 0);
	assert_int_equal(password_verify(b, "correct horse"), 0);
	assert_int_equal(password_verify(a, "correct horse "), 1);
	assert_int_equal(password_verify(a, "Correct horse"), 1);
	assert_int_equal(password_verify(a, ""), 1);
	free(a);
	free(b);
}

static void
test_password_hash_empty_is_einval(void **state)
{
	(void)state;
	errno = 0;
	assert_null(password_hash(""));
	assert_int_equal(errno, EINVAL);
	assert_null(password_hash(NULL));
}

static void
test_password_hash_long_password(void **state)
{
	char pw[4097];
	char *h;

	(void)state;
	memset(pw, 'a', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	h = password_hash(pw);
	assert_non_null(h);
	assert_int_equal(password_verify(h, pw), 0);
	pw[4095] = 'b';
	assert_int_equal(password_verify(h, pw), 1);
	free(h);
}

struct scheme_case {
	const char *label;
	const char *stored;
	bool ok;
	const char *scheme;
};

// clang-format off
static const struct scheme_case scheme_cases[] = {
	{ "argon2id",    "{ARGON2ID}" ARGON2ID_REF, true, "ARGON2ID" },
	{ "argon2i",     "{ARGON2I}" ARGON2I_REF, true, "ARGON2I" },
	{ "sha512",      "{SHA512-CRYPT}" SHA512_REF, true, "SHA512-CRYPT" },
	{ "sha256",      "{SHA256-CRYPT}" SHA256_REF, true, "SHA256-CRYPT" },
	{ "blf",         "{BLF-CRYPT}" BLF_REF, true, "BLF-CRYPT" },
	{ "crypt des",   "{CRYPT}" DES_REF, true, "CRYPT" },
	{ "plain",       "{PLAIN}x", true, "PLAIN" },
	{ "lower",       "{sha512-crypt}" SHA512_REF, true, "SHA512-CRYPT" },
	{ "truncated",   "{SHA512-CRYPT}$6$saltstring$", false, "SHA512-CRYPT" },
	{ "sha512 cut",  "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz", false, "SHA512-CRYPT" },
	{ "blf cut",     "{BLF-CRYPT}$2a$05$CCCCCCCCCCCCCCCCCCCCC.", false, "BLF-CRYPT" },
	{ "unknown",     "{SSHA}abc", false, NULL },
	{ "bare",        SHA512_REF, false, NULL },
	{ "empty",       "", false, NULL },
	/* argon2 parameter bounds: m <= 1 GiB, t <= 64, p <= 64 */
	{ "m max-1",     "{ARGON2ID}$argon2id$v=19$m=1048575,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", true, "ARGON2ID" },
	{ "m max",       "{ARGON2ID}$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", true, "ARGON2ID" },
	{ "m max+1",     "{ARGON2ID}$argon2id$v=19$m=1048577,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", false, "ARGON2ID" },
	{ "t max-1",     "{ARGON2ID}$argon2id$v=19$m=65536,t=63,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", true, "ARGON2ID" },
	{ "t max",       "{ARGON2ID}$argon2id$v=19$m=65536,t=64,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", true, "ARGON2ID" },
	{ "t max+1",     "{ARGON2ID}$argon2id$v=19$m=65536,t=65,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", false, "ARGON2ID" },
	{ "p max-1",     "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=63$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", true, "ARGON2ID" },
	{ "p max",       "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=64$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", true, "ARGON2ID" },
	{ "p max+1",     "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=65$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", false, "ARGON2ID" },
	{ "m huge",      "{ARGON2ID}$argon2id$v=19$m=99999999999999999999999,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", false, "ARGON2ID" },
	{ "m sign",      "{ARGON2ID}$argon2id$v=19$m=+65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", false, "ARGON2ID" },
	{ "order",       "{ARGON2ID}$argon2id$v=19$t=2,m=65536,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", false, "ARGON2ID" },
};
// clang-format on

static void
test_password_scheme_ok_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(scheme_cases) / sizeof(scheme_cases[0]); i++) {
		const struct scheme_case *c = &scheme_cases[i];
		const char *s = password_scheme(c->stored);

		if (password_scheme_ok(c->stored) != c->ok)
			fail_msg("%s: scheme_ok %d, want %d", c->label, !c->ok,
			    c->ok);
		if ((s == NULL) != (c->scheme == NULL) ||
		    (s != NULL && strcmp(s, c->scheme) != 0))
			fail_msg("%s: scheme %s, want %s", c->label,
			    s ? s : "(null)", c->scheme ? c->scheme : "(null)");
	}
}

static void
test_password_argon2_too_long_is_malformed(void **state)
{
	char stored[300];

	(void)state;
	/* longer than crypto_pwhash_STRBYTES: not something libsodium wrote */
	(void)snprintf(stored, sizeof(stored),
	    "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$%s$%s",
	    "c29tZXNhbHRjMjl0WlhOaGJIUmpNamwwV2xoT2FHSklVbXBOYW13d1YyeG9UMkZI",
	    "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPcCTFhFdXPJO1aFaMaO6Mm5c8");
	assert_false(password_scheme_ok(stored));
	assert_int_equal(password_verify(stored, "password"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_verify_table),
		cmocka_unit_test(test_password_hash_has_dovecot_argon2id_form),
		cmocka_unit_test(test_password_hash_round_trip),
		cmocka_unit_test(test_password_hash_empty_is_einval),
		cmocka_unit_test(test_password_hash_long_password),
		cmocka_unit_test(test_password_scheme_ok_table),
		cmocka_unit_test(test_password_argon2_too_long_is_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
