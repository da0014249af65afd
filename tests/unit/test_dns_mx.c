/*
 * Unit tests of the pure parts of src/dns/dns_mx.c: MX rdata (RFC 1035
 * 3.3.9, RFC 7505 null MX), the RFC 5321 5.1 order (by preference, equal
 * preferences shuffled by the caller's random source) and the loop rule's
 * own-address match. dns_mx_plan() needs a name server: see
 * tests/integration. Each table row is one labelled case.
 *
 * A row with a "bug" note describes a known defect of the source: it must
 * still fail as described (so the suite passes); once the source is fixed
 * the row passes, the test says so, and the note is to be removed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "dns/dns_mx.h"
#include "lib/buf.h"
#include "lib/mw.h"
#include "lib/xalloc.h"

#define S(s) (const unsigned char *)(s), sizeof(s) - 1

struct rdata_row {
	const char *label;
	const unsigned char *in;
	size_t len;
	bool ok;
	unsigned pref;
	const char *host;
};

// clang-format off
static const struct rdata_row rdata_rows[] = {
	{ "host", S("\0\12\4mail\7example\3com\0"), true, 10, "mail.example.com" },
	{ "one label", S("\0\1\1a\0"), true, 1, "a" },
	{ "null MX (RFC 7505)", S("\0\0\0"), true, 0, "" },
	{ "root with a preference", S("\0\12\0"), true, 10, "" },
	{ "preference 65535", S("\377\377\1a\0"), true, 65535, "a" },
	{ "preference 256", S("\1\0\1a\0"), true, 256, "a" },
	{ "upper case folded", S("\0\5\4MAIL\7ExAmPlE\0"), true, 5, "mail.example" },
	{ "digits, hyphen, underscore", S("\0\1\6a-1_b2\0"), true, 1, "a-1_b2" },
	{ "8-bit label", S("\0\1\2\303\274\0"), false, 0, NULL },
	{ "label with a dot", S("\0\1\3a.b\0"), false, 0, NULL },
	{ "label with a space", S("\0\1\3a b\0"), false, 0, NULL },
	{ "label with a backslash", S("\0\1\3a\\b\0"), false, 0, NULL },
	{ "label with NUL", S("\0\1\3a\0b\0"), false, 0, NULL },
	{ "label with DEL", S("\0\1\3a\177b\0"), false, 0, NULL },
	{ "label with a control", S("\0\1\3a\nb\0"), false, 0, NULL },
	{ "empty", S(""), false, 0, NULL },
	{ "one byte", S("\0"), false, 0, NULL },
	{ "only a preference", S("\0\12"), false, 0, NULL },
	{ "label past the end", S("\0\12\11ma\0"), false, 0, NULL },
	{ "truncated label", S("\0\12\4mai"), false, 0, NULL },
	{ "no terminating root", S("\0\12\4mail"), false, 0, NULL },
	{ "no root after two labels", S("\0\12\1a\1b"), false, 0, NULL },
	{ "trailing byte", S("\0\12\1a\0\0"), false, 0, NULL },
	{ "trailing bytes after root", S("\0\0\0xy"), false, 0, NULL },
	{ "empty label inside", S("\0\1\1a\0\1b\0"), false, 0, NULL },
	{ "compression pointer", S("\0\12\300\14"), false, 0, NULL },
	{ "pointer after a label", S("\0\12\1a\300\14"), false, 0, NULL },
	{ "pointer then root", S("\0\12\300\14\0"), false, 0, NULL },
	{ "label type 0x40", S("\0\12\100a\0"), false, 0, NULL },
	{ "label type 0x80", S("\0\12\200a\0"), false, 0, NULL },
	{ "label 0xff", S("\0\12\377a\0"), false, 0, NULL },
};
// clang-format on

/* Parses n bytes from their own allocation, so that ASan sees any read
 * past the end. */
static int
rdata(const unsigned char *in, size_t n, struct dns_mx *out)
{
	unsigned char *copy = xmalloc(n > 0 ? n : 1);
	int rc;

	memcpy(copy, in, n);
	memset(out, 0xa5, sizeof(*out));
	rc = dns_mx_rdata(copy, n, out);
	free(copy);
	return rc;
}

static void
test_dns_mx_rdata_table(void **state)
{
	struct dns_mx mx;
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(rdata_rows); i++) {
		const struct rdata_row *r = &rdata_rows[i];
		int rc = rdata(r->in, r->len, &mx);

		if (!r->ok) {
			if (rc != -1)
				fail_msg("%s: accepted as %u \"%s\"", r->label,
				    mx.pref, mx.host);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: rejected", r->label);
		if (mx.pref != r->pref || strcmp(mx.host, r->host) != 0)
			fail_msg("%s: got %u \"%s\", want %u \"%s\"", r->label,
			    mx.pref, mx.host, r->pref, r->host);
	}
}

/* Every proper prefix of a valid record is rejected. */
static void
test_dns_mx_rdata_every_truncation_rejected(void **state)
{
	static const unsigned char rec[] = "\0\12\4mail\7example\3com\0";
	struct dns_mx mx;
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(rec) - 1; n++)
		if (rdata(rec, n, &mx) != -1)
			fail_msg("prefix of %zu bytes accepted", n);
	assert_int_equal(rdata(rec, sizeof(rec) - 1, &mx), 0);
}

/* Builds rdata for labels of the given lengths ('a'..); returns its
 * length. The text form is sum(lens) + nlens - 1 bytes, the wire form of
 * the name sum(lens) + nlens + 1 octets. */
static size_t
build_name(const size_t *lens, size_t nlens, unsigned char *out, size_t cap,
    char *text, size_t text_cap)
{
	size_t o = 2, t = 0, i, k;

	out[0] = 0;
	out[1] = 7;
	for (i = 0; i < nlens; i++) {
		assert_true(o + 1 + lens[i] < cap);
		out[o++] = (unsigned char)lens[i];
		if (i > 0 && t + 1 < text_cap)
			text[t++] = '.';
		for (k = 0; k < lens[i]; k++) {
			out[o++] = (unsigned char)('a' + i);
			if (t + 1 < text_cap)
				text[t++] = (char)('a' + i);
		}
	}
	out[o++] = 0;
	text[t] = '\0';
	return o;
}

/* A label holds 63 octets (RFC 1035 2.3.4): max-1, max, max+1. */
static void
test_dns_mx_rdata_label_length_limits(void **state)
{
	static const struct {
		size_t len;
		bool ok;
	} rows[] = { { 62, true }, { 63, true }, { 64, false } };
	unsigned char wire[600];
	char text[600];
	struct dns_mx mx;
	size_t i, n;

	(void)state;
	for (i = 0; i < MW_NELEM(rows); i++) {
		n = build_name(
		    &rows[i].len, 1, wire, sizeof(wire), text, sizeof(text));
		if ((rdata(wire, n, &mx) == 0) != rows[i].ok)
			fail_msg("label of %zu: %s", rows[i].len,
			    rows[i].ok ? "rejected" : "accepted");
		if (rows[i].ok)
			assert_string_equal(mx.host, text);
	}
}

/* A name is at most 255 octets in wire form (RFC 1035 2.3.4, 3.1), that
 * is 253 bytes of text; host[] (DNS_HOST_MAX) would hold 255. */
static void
test_dns_mx_rdata_name_length_limits(void **state)
{
	static const struct {
		const char *label;
		size_t lens[5];
		size_t nlens;
		bool ok;
		const char *bug;
	} rows[] = {
		{ "wire 254 (text 252)", { 63, 63, 63, 60 }, 4, true, NULL },
		{ "wire 255 (text 253): max", { 63, 63, 63, 61 }, 4, true,
		    NULL },
		{ "wire 256 (text 254): max+1", { 63, 63, 63, 62 }, 4, false,
		    NULL },
		{ "wire 257 (text 255)", { 63, 63, 63, 63 }, 4, false, NULL },
		{ "wire 258 (text 256)", { 63, 63, 63, 62, 1 }, 5, false,
		    NULL },
		{ "wire 322 (text 320)", { 63, 63, 63, 63, 63 }, 5, false,
		    NULL },
	};
	unsigned char wire[600];
	char text[600];
	struct dns_mx mx;
	size_t i, n;

	(void)state;
	for (i = 0; i < MW_NELEM(rows); i++) {
		bool accepted;

		n = build_name(rows[i].lens, rows[i].nlens, wire, sizeof(wire),
		    text, sizeof(text));
		accepted = rdata(wire, n, &mx) == 0;
		if (accepted)
			assert_string_equal(mx.host, text);
		if (rows[i].bug != NULL) {
			if (accepted == rows[i].ok)
				fail_msg("%s: passes now: remove its bug note",
				    rows[i].label);
			print_message("known source bug, row \"%s\": %s\n",
			    rows[i].label, rows[i].bug);
			continue;
		}
		if (accepted != rows[i].ok)
			fail_msg("%s: %s", rows[i].label,
			    accepted ? "accepted" : "rejected");
	}
}

/* ---- dns_mx_order ---- */

/* A deterministic random source: returns script[0..n) in turn (then 0)
 * and counts the calls. */
struct script {
	const uint64_t *v;
	size_t n, calls;
};

static uint64_t
script_rnd(void *arg)
{
	struct script *s = arg;
	uint64_t v = s->calls < s->n ? s->v[s->calls] : 0;

	s->calls++;
	return v;
}

static void
mx_set(struct dns_mx *v, const unsigned *prefs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].pref = prefs[i];
		(void)snprintf(v[i].host, sizeof(v[i].host), "h%zu", i);
	}
}

/* v is sorted by preference and holds each of the n hosts h0.. once,
 * each with its preference prefs[k]. */
static void
assert_ordered(const struct dns_mx *v, const unsigned *prefs, size_t n)
{
	bool seen[16] = { false };
	size_t i, k;

	assert_true(n <= MW_NELEM(seen));
	for (i = 0; i < n; i++) {
		if (i > 0 && v[i - 1].pref > v[i].pref)
			fail_msg("position %zu: preference %u after %u", i,
			    v[i].pref, v[i - 1].pref);
		assert_int_equal(sscanf(v[i].host, "h%zu", &k), 1);
		assert_true(k < n);
		assert_false(seen[k]);
		seen[k] = true;
		assert_int_equal(v[i].pref, prefs[k]);
	}
}

/* The order as a string of host indexes, "2 0 1". */
static void
order_key(const struct dns_mx *v, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, outsz - o, "%s%s",
		    i > 0 ? " " : "", v[i].host + 1);
}

/* Runs dns_mx_order over prefs with every script of ncalls values in
 * 0..base-1, checks the order each time and returns how many different
 * orders came out. */
static size_t
count_orders(const unsigned *prefs, size_t n, size_t ncalls, size_t base)
{
	struct dns_mx v[16];
	uint64_t script[16];
	char *keys; /* combos keys of 64 bytes */
	size_t combos = 1, c, i, k, nkeys = 0;

	assert_true(n <= MW_NELEM(v) && ncalls <= MW_NELEM(script));
	for (i = 0; i < ncalls; i++)
		combos *= base;
	keys = xcalloc(combos, 64);
	for (c = 0; c < combos; c++) {
		struct script s = { script, ncalls, 0 };
		char key[64];

		for (i = 0, k = c; i < ncalls; i++, k /= base)
			script[i] = k % base;
		mx_set(v, prefs, n);
		dns_mx_order(v, n, script_rnd, &s);
		assert_int_equal(s.calls, ncalls);
		assert_ordered(v, prefs, n);
		order_key(v, n, key, sizeof(key));
		for (k = 0; k < nkeys && strcmp(keys + 64 * k, key) != 0; k++)
			;
		if (k == nkeys)
			memcpy(keys + 64 * nkeys++, key, sizeof(key));
	}
	free(keys);
	return nkeys;
}

static void
test_dns_mx_order_sorts_by_preference(void **state)
{
	static const unsigned prefs[] = { 30, 10, 65535, 0, 20 };
	struct dns_mx v[MW_NELEM(prefs)];
	struct script s = { NULL, 0, 0 };

	(void)state;
	mx_set(v, prefs, MW_NELEM(prefs));
	dns_mx_order(v, MW_NELEM(prefs), script_rnd, &s);
	assert_ordered(v, prefs, MW_NELEM(prefs));
	assert_int_equal(s.calls, 0); /* no ties: nothing to shuffle */
	assert_string_equal(v[0].host, "h3");
	assert_string_equal(v[4].host, "h2");
}

static void
test_dns_mx_order_zero_and_one(void **state)
{
	static const unsigned one[] = { 7 };
	struct dns_mx v[1];
	struct script s = { NULL, 0, 0 };

	(void)state;
	dns_mx_order(NULL, 0, script_rnd, &s);
	assert_int_equal(s.calls, 0);
	mx_set(v, one, 1);
	dns_mx_order(v, 1, script_rnd, &s);
	assert_int_equal(s.calls, 0);
	assert_int_equal(v[0].pref, 7);
	assert_string_equal(v[0].host, "h0");
}

/* RFC 5321 5.1: equal preferences in random order. Every permutation of a
 * run is reachable from the random source, and none breaks the order. */
static void
test_dns_mx_order_every_permutation_reachable(void **state)
{
	static const struct {
		const char *label;
		unsigned prefs[8];
		size_t n;
		size_t want; /* distinct orders */
	} rows[] = {
		{ "two equal", { 10, 10 }, 2, 2 },
		{ "three equal", { 5, 5, 5 }, 3, 6 },
		{ "four equal", { 1, 1, 1, 1 }, 4, 24 },
		{ "five equal", { 0, 0, 0, 0, 0 }, 5, 120 },
		{ "runs of 3, 2 and 1, mixed", { 20, 10, 20, 10, 30, 10 }, 6,
		    6 * 2 },
		{ "two runs of 2 around a single", { 2, 1, 3, 1, 2 }, 5,
		    2 * 2 },
		{ "all different", { 4, 3, 2, 1 }, 4, 1 },
	};
	size_t i, k, ncalls, run;

	(void)state;
	for (i = 0; i < MW_NELEM(rows); i++) {
		size_t base = rows[i].n, got;

		/* one call per element of a run but its first */
		for (ncalls = 0, k = 0; k < rows[i].n; k++) {
			size_t j;

			for (run = 0, j = 0; j < k; j++)
				if (rows[i].prefs[j] == rows[i].prefs[k])
					run++;
			if (run > 0)
				ncalls++;
		}
		got = count_orders(rows[i].prefs, rows[i].n, ncalls, base);
		if (got != rows[i].want)
			fail_msg("%s: %zu orders, want %zu", rows[i].label, got,
			    rows[i].want);
	}
}

/* Large values from the random source are reduced, not trusted. */
static void
test_dns_mx_order_large_random_values(void **state)
{
	static const unsigned prefs[] = { 10, 10, 10, 10, 10, 10, 10, 10 };
	static const uint64_t big[] = { UINT64_MAX, UINT64_MAX - 1,
		(uint64_t)1 << 63, 12345678901234567ULL, UINT64_MAX, 7, 8 };
	struct dns_mx v[MW_NELEM(prefs)];
	struct script s = { big, MW_NELEM(big), 0 };

	(void)state;
	mx_set(v, prefs, MW_NELEM(prefs));
	dns_mx_order(v, MW_NELEM(prefs), script_rnd, &s);
	assert_int_equal(s.calls, MW_NELEM(prefs) - 1);
	assert_ordered(v, prefs, MW_NELEM(prefs));
}

/* ---- dns_addr_is_own ---- */

static struct sockaddr_storage
addr(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
	} else
		fail_msg("bad test address %s", ip);
	return ss;
}

static void
test_dns_addr_is_own(void **state)
{
	static const struct {
		const char *label, *ip;
		unsigned port;
		bool want;
	} rows[] = {
		{ "v4, own port 0: port 25", "192.0.2.1", 25, true },
		{ "v4, own port 0: port 2525", "192.0.2.1", 2525, true },
		{ "v4, own port 0: port 0", "192.0.2.1", 0, true },
		{ "v4, own port 25: port 25", "192.0.2.2", 25, true },
		{ "v4, own port 25: port 2525", "192.0.2.2", 2525, false },
		{ "v4, own port 25: port 0", "192.0.2.2", 0, false },
		{ "v4, not own", "192.0.2.3", 25, false },
		{ "v4, byte order", "1.2.0.192", 25, false },
		{ "v6, own port 0: port 25", "2001:db8::1", 25, true },
		{ "v6, own port 0: port 587", "2001:db8::1", 587, true },
		{ "v6, own port 25: port 25", "2001:db8::2", 25, true },
		{ "v6, own port 25: port 26", "2001:db8::2", 26, false },
		{ "v6, not own", "2001:db8::3", 25, false },
		{ "v6, last byte differs", "2001:db8::101", 25, false },
		{ "v6 form of an own v4 address", "::ffff:192.0.2.1", 25,
		    false },
		{ "v4 where own has the v6 form", "198.51.100.1", 25, false },
		{ "v6 loopback", "::1", 25, true },
	};
	struct sockaddr_storage own[6], ss;
	struct sockaddr_un *un;
	size_t i;

	(void)state;
	own[0] = addr("192.0.2.1", 0);
	own[1] = addr("192.0.2.2", 25);
	own[2] = addr("2001:db8::1", 0);
	own[3] = addr("2001:db8::2", 25);
	own[4] = addr("::ffff:198.51.100.1", 0);
	own[5] = addr("::1", 0);
	for (i = 0; i < MW_NELEM(rows); i++) {
		ss = addr(rows[i].ip, rows[i].port);
		if (dns_addr_is_own(&ss, own, MW_NELEM(own)) != rows[i].want)
			fail_msg("%s: got %d", rows[i].label, !rows[i].want);
	}
	/* no own addresses */
	ss = addr("192.0.2.1", 25);
	assert_false(dns_addr_is_own(&ss, own, 0));
	assert_false(dns_addr_is_own(&ss, NULL, 0));
	/* only the first n count */
	ss = addr("2001:db8::1", 25);
	assert_false(dns_addr_is_own(&ss, own, 2));
	assert_true(dns_addr_is_own(&ss, own, 3));
	/* another family is never own, even with the same bytes */
	memset(&ss, 0, sizeof(ss));
	un = (struct sockaddr_un *)&ss;
	un->sun_family = AF_UNIX;
	assert_false(dns_addr_is_own(&ss, own, MW_NELEM(own)));
	own[0].ss_family = AF_UNIX;
	assert_false(dns_addr_is_own(&ss, own, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_mx_rdata_table),
		cmocka_unit_test(test_dns_mx_rdata_every_truncation_rejected),
		cmocka_unit_test(test_dns_mx_rdata_label_length_limits),
		cmocka_unit_test(test_dns_mx_rdata_name_length_limits),
		cmocka_unit_test(test_dns_mx_order_sorts_by_preference),
		cmocka_unit_test(test_dns_mx_order_zero_and_one),
		cmocka_unit_test(test_dns_mx_order_every_permutation_reachable),
		cmocka_unit_test(test_dns_mx_order_large_random_values),
		cmocka_unit_test(test_dns_addr_is_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
