/*
 * Unit tests for the address helpers (mailaddr.c): splitting, lookup-key
 * normalisation, recipient_delimiter extensions, domain and local-part
 * syntax (RFC 5321 4.1.2, RFC 6531 UTF-8) and the RFC 1035 length limits
 * at max-1, max and max+1.
 */
/* cmocka.h needs these first */
// clang-format off
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "lib/mailaddr.h"
#include "lib/mw.h"

static void
check_str(const char *what, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) ||
	    (got != NULL && strcmp(got, want) != 0))
		fail_msg("%s: got \"%s\", want \"%s\"", what,
		    got != NULL ? got : "(null)",
		    want != NULL ? want : "(null)");
}

struct split_case {
	const char *addr;
	const char *local, *domain; /* NULL: -1 */
};

// clang-format off
static const struct split_case split_cases[] = {
	{ "a@b", "a", "b" },
	{ "user@example.org", "user", "example.org" },
	{ "a", "a", "" },
	{ "a@b@c", "a@b", "c" },
	{ "\"a@b\"@c", "\"a@b\"", "c" },
	{ "\"a\\\"@b\"@c", "\"a\\\"@b\"", "c" },
	{ "\"a@b\"", "\"a@b\"", "" },
	{ "", NULL, NULL },
	{ "@b", NULL, NULL },
	{ "a@", NULL, NULL },
	{ "\"a@b", NULL, NULL },
	{ "\"a\\", NULL, NULL },
};
// clang-format on

static void
test_mailaddr_split_table(void **state)
{
	char *local, *domain;
	size_t i;
	int r;

	for (i = 0; i < MW_NELEM(split_cases); i++) {
		const struct split_case *c = &split_cases[i];

		local = domain = NULL;
		errno = 0;
		r = mailaddr_split(c->addr, &local, &domain);
		if (c->local == NULL) {
			if (r != -1)
				fail_msg("\"%s\": accepted", c->addr);
			assert_int_equal(errno, EINVAL);
			continue;
		}
		if (r != 0)
			fail_msg("\"%s\": rejected", c->addr);
		check_str(c->addr, local, c->local);
		check_str(c->addr, domain, c->domain);
		free(local);
		free(domain);
	}
	assert_int_equal(mailaddr_split(NULL, &local, &domain), -1);
}

struct norm_case {
	const char *addr, *want; /* want NULL: invalid */
};

// clang-format off
static const struct norm_case norm_cases[] = {
	{ "User@Example.TEST.", "User@example.test" },
	{ "a@x", "a@x" },
	{ "A.B@X.Y", "A.B@x.y" },
	{ "\"john\"@x", "john@x" },
	{ "\"john.doe\"@x", "john.doe@x" },
	{ "\"j\\ohn\"@x", "john@x" },
	{ "\"john doe\"@X", "\"john doe\"@x" },
	{ "\"a\\ b\"@x", "\"a b\"@x" },
	{ "\"a\\\"b\"@x", "\"a\\\"b\"@x" },
	{ "\"a\\\\b\"@x", "\"a\\\\b\"@x" },
	{ "\".john\"@x", "\".john\"@x" },
	{ "\"a..b\"@x", "\"a..b\"@x" },
	{ "\"\"@x", "\"\"@x" },
	{ "a@[192.0.2.1]", "a@[192.0.2.1]" },
	{ "a@[IPv6:2001:DB8::1]", "a@[ipv6:2001:db8::1]" },
	{ "postmaster", "postmaster" },
	{ "\xc3\xa9@B\xc3\xbc" "cher.Example", "\xc3\xa9@b\xc3\xbc" "cher.example" },
	{ "", NULL },
	{ "a..b@x", NULL },
	{ ".a@x", NULL },
	{ "a@x..", NULL },
	{ "a@.", NULL },
	{ "a@", NULL },
	{ "@x", NULL },
	{ "a@b_c", NULL },
	{ "a b@x", NULL },
	{ "a@[1.2.3.4].", NULL },
	{ "\"a@x", NULL },
	{ "\xff@x", NULL },
};
// clang-format on

static void
test_mailaddr_normalize_table(void **state)
{
	char *got;
	size_t i;

	for (i = 0; i < MW_NELEM(norm_cases); i++) {
		got = mailaddr_normalize(norm_cases[i].addr);
		check_str(norm_cases[i].addr, got, norm_cases[i].want);
		free(got);
	}
	assert_null(mailaddr_normalize(NULL));
}

/* Normalising twice gives the same key. */
static void
test_mailaddr_normalize_is_idempotent(void **state)
{
	char *once, *twice;
	size_t i;

	for (i = 0; i < MW_NELEM(norm_cases); i++) {
		if (norm_cases[i].want == NULL)
			continue;
		once = mailaddr_normalize(norm_cases[i].addr);
		twice = mailaddr_normalize(once);
		check_str(norm_cases[i].addr, twice, once);
		free(once);
		free(twice);
	}
}

struct ext_case {
	const char *local, *delims, *base, *ext;
};

// clang-format off
static const struct ext_case ext_cases[] = {
	{ "user+tag", "+", "user", "tag" },
	{ "user+tag", "+-", "user", "tag" },
	{ "user-tag+x", "+-", "user", "tag+x" },
	{ "user+tag-x", "-+", "user", "tag-x" },
	{ "user+a+b", "+", "user", "a+b" },
	{ "user+", "+", "user", "" },
	{ "+foo", "+", "+foo", NULL },
	{ "-foo", "+-", "-foo", NULL },
	{ "user", "+", "user", NULL },
	{ "user+tag", "", "user+tag", NULL },
	{ "user+tag", "-", "user+tag", NULL },
	{ "owner-list", "-", "owner-list", NULL },
	{ "Owner-list", "+-", "Owner-list", NULL },
	{ "list-request", "-", "list-request", NULL },
	{ "owner-list", "+", "owner-list", NULL },
	{ "a-b", "-", "a", "b" },
	{ "MAILER-DAEMON", "-", "MAILER-DAEMON", NULL },
	{ "Postmaster", "+", "Postmaster", NULL },
	{ "postmaster+x", "+", "postmaster", "x" },
	{ "\"a+b c\"", "+", "\"a+b c\"", NULL },
};
// clang-format on

static void
test_mailaddr_strip_extension_table(void **state)
{
	char *base, *ext;
	size_t i;

	for (i = 0; i < MW_NELEM(ext_cases); i++) {
		const struct ext_case *c = &ext_cases[i];

		ext = (char *)"junk";
		base = mailaddr_strip_extension(c->local, c->delims, &ext);
		check_str(c->local, base, c->base);
		check_str(c->local, ext, c->ext);
		free(base);
		free(ext);
		base = mailaddr_strip_extension(c->local, c->delims, NULL);
		check_str(c->local, base, c->base);
		free(base);
	}
	base = mailaddr_strip_extension("a+b", NULL, NULL);
	check_str("NULL delimiters", base, "a+b");
	free(base);
}

struct domain_case {
	const char *domain;
	bool valid;
};

// clang-format off
static const struct domain_case domain_cases[] = {
	{ "a", true },
	{ "example.org", true },
	{ "EXAMPLE.ORG", true },
	{ "a-b.c--d.e", true },
	{ "1.2.3.4", true },
	{ "xn--bcher-kva.example", true },
	{ "b\xc3\xbc" "cher.example", true },
	{ "[192.0.2.1]", true },
	{ "[IPv6:2001:db8::1]", true },
	{ "[ipv6:::1]", true },
	{ "[IPv6:::ffff:192.0.2.1]", true },
	{ "", false },
	{ ".", false },
	{ "a.", false },
	{ ".a", false },
	{ "a..b", false },
	{ "-a", false },
	{ "a-", false },
	{ "a.-b", false },
	{ "a-.b", false },
	{ "a_b", false },
	{ "a b", false },
	{ "a@b", false },
	{ "\xff.example", false },
	{ "\xc3", false },
	{ "[1.2.3.256]", false },
	{ "[01.2.3.4]", false },
	{ "[1.2.3]", false },
	{ "[IPv6:1.2.3.4]", false },
	{ "[IPv6:]", false },
	{ "[2001:db8::1]", false },
	{ "[tag:foo]", false },
	{ "[]", false },
	{ "[1.2.3.4", false },
	{ "1.2.3.4]", false },
	{ "[IPv6:1:2:3:4:5:6:7:8:9]", false },
};
// clang-format on

static void
test_mailaddr_domain_valid_table(void **state)
{
	size_t i;

	for (i = 0; i < MW_NELEM(domain_cases); i++)
		if (mailaddr_domain_valid(domain_cases[i].domain) !=
		    domain_cases[i].valid)
			fail_msg("\"%s\": want %d", domain_cases[i].domain,
			    domain_cases[i].valid);
	assert_false(mailaddr_domain_valid(NULL));
}

/* A domain of n octets, labels of label_n octets. */
static void
make_domain(char *buf, size_t n, size_t label_n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] =
		    (i % (label_n + 1) == label_n && i + 1 < n) ? '.' : 'a';
	buf[n] = '\0';
}

/* RFC 1035 2.3.4: labels 63 octets, names 255 octets. */
static void
test_mailaddr_domain_limits_at_edges(void **state)
{
	char buf[300];

	make_domain(buf, 62, 100);
	assert_true(mailaddr_domain_valid(buf));
	make_domain(buf, 63, 100);
	assert_true(mailaddr_domain_valid(buf));
	make_domain(buf, 64, 100);
	assert_false(mailaddr_domain_valid(buf));
	make_domain(buf, 254, 10);
	assert_true(mailaddr_domain_valid(buf));
	make_domain(buf, 255, 10);
	assert_true(mailaddr_domain_valid(buf));
	make_domain(buf, 256, 10);
	assert_false(mailaddr_domain_valid(buf));
}

struct local_case {
	const char *local;
	size_t n;
	bool valid, utf8;
};

#define S(s) s, sizeof(s) - 1

// clang-format off
static const struct local_case local_cases[] = {
	{ S("a"), true, false },
	{ S("a.b"), true, false },
	{ S("!#$%&'*+-/=?^_`{|}~"), true, false },
	{ S("\"\""), true, false },
	{ S("\"a b\""), true, false },
	{ S("\"a\\\"b\""), true, false },
	{ S("\"a\\\\\""), true, false },
	{ S("\xc3\xa9"), true, true },
	{ S("\"\xc3\xa9\""), true, true },
	{ S(""), false, false },
	{ S("."), false, false },
	{ S("a."), false, false },
	{ S(".a"), false, false },
	{ S("a..b"), false, false },
	{ S("a b"), false, false },
	{ S("a\0b"), false, false },
	{ S("a\"b"), false, false },
	{ S("\""), false, false },
	{ S("\"a"), false, false },
	{ S("\"a\\\""), false, false },
	{ S("\"a\"b\""), false, false },
	{ S("\"\x01\""), false, false },
	{ S("\"\\\x01\""), false, false },
	{ S("\xc3"), false, false },
	{ S("\"\xc3\""), false, false },
	{ S("(comment)a"), false, false },
};
// clang-format on

static void
test_mailaddr_local_valid_table(void **state)
{
	bool utf8;
	size_t i;

	for (i = 0; i < MW_NELEM(local_cases); i++) {
		const struct local_case *c = &local_cases[i];

		utf8 = false;
		if (mailaddr_local_valid_n(c->local, c->n, &utf8) != c->valid)
			fail_msg("row %zu: want %d", i, c->valid);
		assert_int_equal(utf8, c->utf8);
		assert_int_equal(
		    mailaddr_local_valid_n(c->local, c->n, NULL), c->valid);
	}
}

struct utf8_case {
	const char *s;
	size_t n, len;
};

// clang-format off
static const struct utf8_case utf8_cases[] = {
	{ S("a"), 1 },
	{ S("\0"), 1 },
	{ S("\xc2\x80"), 2 },
	{ S("\xdf\xbf"), 2 },
	{ S("\xe0\xa0\x80"), 3 },
	{ S("\xed\x9f\xbf"), 3 },
	{ S("\xef\xbf\xbf"), 3 },
	{ S("\xf0\x90\x80\x80"), 4 },
	{ S("\xf4\x8f\xbf\xbf"), 4 },
	{ S(""), 0 },
	{ S("\x80"), 0 },
	{ S("\xc0\x80"), 0 },
	{ S("\xc1\xbf"), 0 },
	{ S("\xc2"), 0 },
	{ S("\xc2\x41"), 0 },
	{ S("\xe0\x9f\xbf"), 0 },
	{ S("\xed\xa0\x80"), 0 },
	{ S("\xe1\x80"), 0 },
	{ S("\xf0\x8f\xbf\xbf"), 0 },
	{ S("\xf4\x90\x80\x80"), 0 },
	{ S("\xf5\x80\x80\x80"), 0 },
	{ S("\xff"), 0 },
};
// clang-format on

static void
test_mailaddr_utf8_len_table(void **state)
{
	size_t i;

	for (i = 0; i < MW_NELEM(utf8_cases); i++)
		if (mailaddr_utf8_len(utf8_cases[i].s, utf8_cases[i].n) !=
		    utf8_cases[i].len)
			fail_msg("row %zu: want %zu", i, utf8_cases[i].len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mailaddr_split_table),
		cmocka_unit_test(test_mailaddr_normalize_table),
		cmocka_unit_test(test_mailaddr_normalize_is_idempotent),
		cmocka_unit_test(test_mailaddr_strip_extension_table),
		cmocka_unit_test(test_mailaddr_domain_valid_table),
		cmocka_unit_test(test_mailaddr_domain_limits_at_edges),
		cmocka_unit_test(test_mailaddr_local_valid_table),
		cmocka_unit_test(test_mailaddr_utf8_len_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
