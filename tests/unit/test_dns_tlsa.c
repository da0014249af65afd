/*
 * Unit tests of the pure parts of src/dns/dns_tlsa.c: TLSA rdata (RFC 6698
 * 2.1) with the usage, selector and matching-type rules of RFC 7672 3.1
 * and RFC 7671 10.1.2, and the verdict on an answer (RFC 7672 2.2: usable,
 * unusable, none, failure). The lookup needs a name server: see
 * tests/integration/test_outbound_dane.py. Each table row is one labelled
 * case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "dns/dns.h"
#include "dns/dns_tlsa.h"

/* rdata: usage, selector, matching type, then n bytes of data */
static size_t
mk(unsigned char *out, unsigned u, unsigned s, unsigned m, size_t n)
{
	size_t i;

	out[0] = (unsigned char)u;
	out[1] = (unsigned char)s;
	out[2] = (unsigned char)m;
	for (i = 0; i < n; i++)
		out[3 + i] = (unsigned char)(0xa0 + i);
	return 3 + n;
}

struct rdata_row {
	const char *label;
	unsigned usage, selector, mtype;
	size_t datalen;
	enum dns_tlsa_rr want;
};

// clang-format off
static const struct rdata_row rdata_rows[] = {
	{ "3 1 1 (DANE-EE SPKI SHA2-256)", 3, 1, 1, 32, DNS_TLSA_RR_USABLE },
	{ "3 0 1 (DANE-EE cert SHA2-256)", 3, 0, 1, 32, DNS_TLSA_RR_USABLE },
	{ "2 0 1 (DANE-TA cert SHA2-256)", 2, 0, 1, 32, DNS_TLSA_RR_USABLE },
	{ "2 1 2 (DANE-TA SPKI SHA2-512)", 2, 1, 2, 64, DNS_TLSA_RR_USABLE },
	{ "3 1 0 (full SPKI)", 3, 1, 0, 91, DNS_TLSA_RR_USABLE },
	{ "3 0 0 one byte of data", 3, 0, 0, 1, DNS_TLSA_RR_USABLE },
	{ "0 0 1 PKIX-TA (RFC 7672 3.1.3)", 0, 0, 1, 32, DNS_TLSA_RR_UNUSABLE },
	{ "1 1 1 PKIX-EE (RFC 7672 3.1.3)", 1, 1, 1, 32, DNS_TLSA_RR_UNUSABLE },
	{ "usage 4 unknown", 4, 1, 1, 32, DNS_TLSA_RR_UNUSABLE },
	{ "usage 255 (private)", 255, 1, 1, 32, DNS_TLSA_RR_UNUSABLE },
	{ "selector 2 unknown", 3, 2, 1, 32, DNS_TLSA_RR_UNUSABLE },
	{ "selector 255", 3, 255, 1, 32, DNS_TLSA_RR_UNUSABLE },
	{ "matching type 3 unknown", 3, 1, 3, 32, DNS_TLSA_RR_UNUSABLE },
	{ "matching type 255", 3, 1, 255, 5, DNS_TLSA_RR_UNUSABLE },
	{ "SHA2-256 of 31", 3, 1, 1, 31, DNS_TLSA_RR_MALFORMED },
	{ "SHA2-256 of 33", 3, 1, 1, 33, DNS_TLSA_RR_MALFORMED },
	{ "SHA2-256 of 64", 3, 1, 1, 64, DNS_TLSA_RR_MALFORMED },
	{ "SHA2-512 of 63", 2, 0, 2, 63, DNS_TLSA_RR_MALFORMED },
	{ "SHA2-512 of 65", 2, 0, 2, 65, DNS_TLSA_RR_MALFORMED },
	{ "SHA2-512 of 32", 2, 0, 2, 32, DNS_TLSA_RR_MALFORMED },
	{ "no data", 3, 1, 0, 0, DNS_TLSA_RR_MALFORMED },
	{ "PKIX-EE with a bad digest", 1, 1, 1, 7, DNS_TLSA_RR_MALFORMED },
};
// clang-format on

static void
test_dns_tlsa_rdata_table(void **state)
{
	unsigned char buf[3 + 128];
	struct dns_tlsa t;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(rdata_rows) / sizeof(rdata_rows[0]); i++) {
		const struct rdata_row *r = &rdata_rows[i];
		enum dns_tlsa_rr got;

		len = mk(buf, r->usage, r->selector, r->mtype, r->datalen);
		got = dns_tlsa_rdata(buf, len, &t);
		if (got != r->want)
			fail_msg("%s: got %d, want %d", r->label, got, r->want);
		if (got == DNS_TLSA_RR_USABLE) {
			assert_int_equal(t.usage, r->usage);
			assert_int_equal(t.selector, r->selector);
			assert_int_equal(t.mtype, r->mtype);
			assert_ptr_equal(t.data, buf + 3);
			assert_int_equal(t.len, r->datalen);
		}
	}
}

/* Every prefix of a good record but the whole is refused: shorter than 4
 * bytes, or a digest cut short. */
static void
test_dns_tlsa_rdata_every_truncation_rejected(void **state)
{
	unsigned char buf[3 + 64];
	struct dns_tlsa t;
	size_t len, cut;

	(void)state;
	len = mk(buf, 3, 1, 1, 32);
	assert_int_equal(dns_tlsa_rdata(buf, len, &t), DNS_TLSA_RR_USABLE);
	for (cut = 0; cut < len; cut++)
		assert_int_equal(
		    dns_tlsa_rdata(buf, cut, &t), DNS_TLSA_RR_MALFORMED);
	len = mk(buf, 2, 0, 2, 64);
	for (cut = 0; cut < len; cut++)
		assert_int_equal(
		    dns_tlsa_rdata(buf, cut, &t), DNS_TLSA_RR_MALFORMED);
}

/* One answer of n records, each made by mk(). */
struct answer {
	struct dns_answer a;
	unsigned char rr[4][3 + 64];
	const unsigned char *data[4];
	int len[4];
};

static void
answer(struct answer *x, enum dns_status st, bool secure)
{
	memset(x, 0, sizeof(*x));
	x->a.status = st;
	x->a.secure = secure;
	x->a.data = x->data;
	x->a.len = x->len;
}

static void
add(struct answer *x, unsigned u, unsigned s, unsigned m, size_t n)
{
	size_t i = x->a.n++;

	x->len[i] = (int)mk(x->rr[i], u, s, m, n);
	x->data[i] = x->rr[i];
}

static void
test_dns_tlsa_classify_rules(void **state)
{
	struct answer x;
	struct dns_tlsa_set s;

	(void)state;
	/* secure, usable: only the usable records are kept, copied */
	answer(&x, DNS_OK, true);
	add(&x, 1, 1, 1, 32);
	add(&x, 3, 1, 1, 32);
	add(&x, 3, 1, 1, 20);
	add(&x, 2, 0, 2, 64);
	dns_tlsa_classify(&x.a, &s);
	assert_int_equal(s.status, DNS_DANE_USABLE);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.rr[0].usage, 3);
	assert_int_equal(s.rr[1].usage, 2);
	assert_int_equal(s.rr[1].len, 64);
	assert_ptr_not_equal(s.rr[0].data, x.rr[1] + 3);
	assert_memory_equal(s.rr[0].data, x.rr[1] + 3, 32);
	dns_tlsa_set_free(&s);
	assert_int_equal(s.n, 0);

	/* RFC 7672 2.2: secure, nothing usable: encrypt */
	answer(&x, DNS_OK, true);
	add(&x, 1, 1, 1, 32);
	add(&x, 3, 1, 1, 31);
	dns_tlsa_classify(&x.a, &s);
	assert_int_equal(s.status, DNS_DANE_UNUSABLE);
	assert_int_equal(s.n, 0);
	dns_tlsa_set_free(&s);

	/* insecure records are never used */
	answer(&x, DNS_OK, false);
	add(&x, 3, 1, 1, 32);
	dns_tlsa_classify(&x.a, &s);
	assert_int_equal(s.status, DNS_DANE_NONE);
	dns_tlsa_set_free(&s);

	/* denial, secure or not: none; failures: the host is not used */
	answer(&x, DNS_NODATA, true);
	dns_tlsa_classify(&x.a, &s);
	assert_int_equal(s.status, DNS_DANE_NONE);
	answer(&x, DNS_NXDOMAIN, true);
	dns_tlsa_classify(&x.a, &s);
	assert_int_equal(s.status, DNS_DANE_NONE);
	answer(&x, DNS_NXDOMAIN, false);
	dns_tlsa_classify(&x.a, &s);
	assert_int_equal(s.status, DNS_DANE_NONE);
	answer(&x, DNS_TEMPFAIL, false);
	dns_tlsa_classify(&x.a, &s);
	assert_int_equal(s.status, DNS_DANE_TEMPFAIL);
	answer(&x, DNS_INVALID, false);
	dns_tlsa_classify(&x.a, &s);
	assert_int_equal(s.status, DNS_DANE_TEMPFAIL);
	dns_tlsa_set_free(&s);
}

/* A negative rdata length (never from libunbound) is skipped, not read. */
static void
test_dns_tlsa_classify_bad_length_skipped(void **state)
{
	struct answer x;
	struct dns_tlsa_set s;

	(void)state;
	answer(&x, DNS_OK, true);
	add(&x, 3, 1, 1, 32);
	x.len[0] = -1;
	dns_tlsa_classify(&x.a, &s);
	assert_int_equal(s.status, DNS_DANE_UNUSABLE);
	dns_tlsa_set_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_tlsa_rdata_table),
		cmocka_unit_test(test_dns_tlsa_rdata_every_truncation_rejected),
		cmocka_unit_test(test_dns_tlsa_classify_rules),
		cmocka_unit_test(test_dns_tlsa_classify_bad_length_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
