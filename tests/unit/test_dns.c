/* Unit tests of src/dns/dns.c that need no name server: the syntax of
 * dns_servers and the classification of MX answers (RFC 1035 3.3.9, RFC
 * 7505). Lookups against a server are in tests/integration/test_smtp_dns.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "dns/dns.h"
#include "lib/buf.h"
#include "lib/conf.h"

static int
check_one(const char *spec, struct buf *err)
{
	char *items[1] = { (char *)spec };
	struct conf_list l = { items, 1 };

	return dns_servers_check(&l, err);
}

static void
test_dns_servers_syntax(void **state)
{
	static const char *const good[] = { "192.0.2.1", "192.0.2.1:53",
		"127.0.0.1:5353", "2001:db8::1", "[2001:db8::1]:53", "::1",
		"[::1]:5353" };
	static const char *const bad[] = { "dns.example.net",
		"dns.example.net:53", "192.0.2.1:", "192.0.2.1:99999",
		"[2001:db8::1]", "300.1.2.3", "", "192.0.2.1:53x",
		"localhost:53" };
	struct buf err;
	size_t i;

	(void)state;
	buf_init(&err, 1024);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (check_one(good[i], &err) != 0)
			fail_msg("%s: %s", good[i], buf_cstr(&err));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (check_one(bad[i], &err) != -1)
			fail_msg("%s accepted", bad[i]);
		assert_non_null(strstr(buf_cstr(&err), "dns_servers: "));
		assert_null(strchr(buf_cstr(&err), '\n'));
	}
	buf_free(&err);
}

/* Classifies the MX records given as (length, bytes) pairs. */
static enum dns_mailhost
classify(size_t n, const unsigned char *const *data, const int *len)
{
	struct dns_answer a;

	memset(&a, 0, sizeof(a));
	a.status = DNS_OK;
	a.n = n;
	a.data = data;
	a.len = len;
	return dns_mx_classify(&a);
}

static void
test_dns_mx_classify(void **state)
{
	/* 10 mail.example. */
	static const unsigned char host[] = { 0, 10, 4, 'm', 'a', 'i', 'l', 7,
		'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	static const unsigned char null[] = { 0, 0, 0 }; /* 0 . */
	static const unsigned char short_rr[] = { 0, 10 };
	static const unsigned char overrun[] = { 0, 10, 9, 'm', 'a', 0 };
	static const unsigned char trailing[] = { 0, 10, 1, 'm', 0, 0 };
	static const unsigned char pointer[] = { 0, 10, 0xc0, 12 };
	const unsigned char *d[2];
	int l[2];

	(void)state;
	d[0] = host;
	l[0] = sizeof(host);
	assert_int_equal(classify(1, d, l), DNS_MAILHOST_FOUND);
	d[0] = null;
	l[0] = sizeof(null);
	assert_int_equal(classify(1, d, l), DNS_MAILHOST_NULLMX);
	/* a null MX beside a real one: the real one counts */
	d[1] = host;
	l[1] = sizeof(host);
	assert_int_equal(classify(2, d, l), DNS_MAILHOST_FOUND);
	d[0] = short_rr;
	l[0] = sizeof(short_rr);
	assert_int_equal(classify(1, d, l), DNS_MAILHOST_INVALID);
	d[0] = overrun;
	l[0] = sizeof(overrun);
	assert_int_equal(classify(1, d, l), DNS_MAILHOST_INVALID);
	d[0] = trailing;
	l[0] = sizeof(trailing);
	assert_int_equal(classify(1, d, l), DNS_MAILHOST_INVALID);
	d[0] = pointer;
	l[0] = sizeof(pointer);
	assert_int_equal(classify(1, d, l), DNS_MAILHOST_INVALID);
	assert_int_equal(classify(0, d, l), DNS_MAILHOST_INVALID);
}

static void
test_dns_mailhost_str(void **state)
{
	(void)state;
	assert_string_equal(dns_mailhost_str(DNS_MAILHOST_NULLMX), "null MX");
	assert_string_equal(
	    dns_mailhost_str(DNS_MAILHOST_TEMPFAIL), "temporary failure");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_servers_syntax),
		cmocka_unit_test(test_dns_mx_classify),
		cmocka_unit_test(test_dns_mailhost_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
