/* Unit tests for src/lib/cidr.c: mynetworks-style address lists. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "lib/cidr.h"
#include "lib/conf.h"

static struct cidr_list *
make_list(const char **items, size_t n, struct buf *err)
{
	struct conf_list l = { (char **)items, n };

	return cidr_list_new(&l, err);
}

static bool
match(const struct cidr_list *l, const char *addr)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		return cidr_list_match(l, (struct sockaddr *)&s4);
	}
	assert_int_equal(inet_pton(AF_INET6, addr, &s6.sin6_addr), 1);
	s6.sin6_family = AF_INET6;
	return cidr_list_match(l, (struct sockaddr *)&s6);
}

static void
test_cidr_matches_table(void **state)
{
	const char *items[] = { "127.0.0.0/8", "192.0.2.7", "[2001:db8::]/32",
		"10.1.2.128/25" };
	static const struct {
		const char *addr;
		bool want;
	} rows[] = {
		{ "127.0.0.1", true },   { "127.255.255.255", true },
		{ "128.0.0.1", false },  { "192.0.2.7", true },
		{ "192.0.2.8", false },  { "2001:db8::1", true },
		{ "2001:db9::1", false }, { "::ffff:127.0.0.1", true },
		{ "10.1.2.128", true },  { "10.1.2.127", false },
		{ "::1", false },
	};
	struct buf err;
	struct cidr_list *l;
	size_t i;

	(void)state;
	buf_init(&err, 256);
	l = make_list(items, 4, &err);
	assert_non_null(l);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_true(match(l, rows[i].addr) == rows[i].want);
	cidr_list_free(&l);
	assert_null(l);
	buf_free(&err);
}

static void
test_cidr_empty_list_matches_nothing(void **state)
{
	struct buf err;
	struct cidr_list *l;

	(void)state;
	buf_init(&err, 256);
	l = make_list(NULL, 0, &err);
	assert_non_null(l);
	assert_false(match(l, "127.0.0.1"));
	cidr_list_free(&l);
	buf_free(&err);
}

static void
test_cidr_bad_items_name_the_item(void **state)
{
	const char *bad[] = { "localhost", "10.0.0.0/33", "1.2.3.4/", "::1/129",
		"1.2.3.4/-1" };
	struct buf err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_init(&err, 256);
		assert_null(make_list(&bad[i], 1, &err));
		assert_non_null(strstr(buf_cstr(&err), bad[i]));
		buf_free(&err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_matches_table),
		cmocka_unit_test(test_cidr_empty_list_matches_nothing),
		cmocka_unit_test(test_cidr_bad_items_name_the_item),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
