/* Unit tests of src/dns/dns.c that need no name server: the syntax of
 * dns_servers and the classification of MX answers (RFC 1035 3.3.9, RFC
 * 7505). Lookups against a server are in tests/integration/test_smtp_dns.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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

/* MX rdata: a preference, then the exchange in wire form; the length is
 * sizeof - 1 (the string's own NUL is not part of it) */
#define RR(lit) { (const unsigned char *)(lit), (int)sizeof(lit) - 1 }
#define MX_HOST RR("\0\12\4mail\7example\0") /* 10 mail.example. */
#define MX_NULL RR("\0\0\0")                   /* 0 . */

struct rr {
	const unsigned char *data;
	int len;
};

static void
test_dns_mx_classify(void **state)
{
	static const struct {
		const char *label;
		struct rr rr[2];
		enum dns_mailhost want;
	} rows[] = {
		{ "a host", { MX_HOST }, DNS_MAILHOST_FOUND },
		{ "null MX (RFC 7505)", { MX_NULL }, DNS_MAILHOST_NULLMX },
		{ "null MX beside a host", { MX_NULL, MX_HOST }, DNS_MAILHOST_FOUND },
		{ "too short", { RR("\0\12") }, DNS_MAILHOST_INVALID },
		{ "label past the end", { RR("\0\12\11ma\0") }, DNS_MAILHOST_INVALID },
		{ "bytes after the name", { RR("\0\12\1m\0\0") }, DNS_MAILHOST_INVALID },
		{ "compression pointer", { RR("\0\12\300\14") }, DNS_MAILHOST_INVALID },
		{ "no records", { { NULL, 0 } }, DNS_MAILHOST_INVALID },
	};
	const unsigned char *d[2];
	int l[2];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (n = 0; n < 2 && rows[i].rr[n].data != NULL; n++) {
			d[n] = rows[i].rr[n].data;
			l[n] = rows[i].rr[n].len;
		}
		if (classify(n, d, l) != rows[i].want)
			fail_msg("%s: got %d", rows[i].label,
			    (int)classify(n, d, l));
	}
}

static void
test_dns_name_to_ascii(void **state)
{
	static const struct {
		const char *in, *want; /* want NULL: not a valid IDN */
	} rows[] = {
		{ "example.org", "example.org" },
		{ "Example.ORG", "Example.ORG" }, /* ASCII is left alone */
		{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
		{ "B\xc3\x9c" "CHER.example", "xn--bcher-kva.example" },
		{ "\xe4\xbe\x8b\xe3\x81\x88.jp", "xn--r8jz45g.jp" },
		{ "bad\xff.example", NULL },  /* not UTF-8 */
		{ "\xc3\xbc\xe2\x80\x8d.example", NULL }, /* ZWJ out of context */
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		got = dns_name_to_ascii(rows[i].in);
		if (rows[i].want == NULL ? got != NULL
		                         : got == NULL ||
		            strcmp(got, rows[i].want) != 0)
			fail_msg("%s: got %s, want %s", rows[i].in,
			    got != NULL ? got : "NULL",
			    rows[i].want != NULL ? rows[i].want : "NULL");
		free(got);
	}
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
		cmocka_unit_test(test_dns_name_to_ascii),
		cmocka_unit_test(test_dns_mailhost_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
