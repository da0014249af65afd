/*
 * Unit tests for the routing of non-local mail (src/delivery/route.c): the
 * transport(5) nexthop and entry parsers, relay_domains matching, the log
 * form of a route, and router_lookup over transport_maps (texthash: files
 * in a temporary directory), relay_domains, relayhost and
 * default_transport. Each table row is one labelled case.
 *
 * A row with a "bug" note describes a known defect of the source: it must
 * still fail as described (so the suite passes); once the source is fixed
 * the row passes, the test says so, and the note is to be removed.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "conf_test.h"
#include "delivery/route.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/mw.h"
#include "lib/xalloc.h"

/* A row that is expected to fail because of a known source bug. */
static void
check_known_bug(
    const char *label, const char *bug, bool passed, const char *got)
{
	if (passed)
		fail_msg(
		    "%s: passes now: remove its bug note (\"%s\")", label, bug);
	print_message(
	    "known source bug, row \"%s\": %s (got \"%s\")\n", label, bug, got);
}

/* Fills s with n copies of c and a NUL. */
static char *
repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

struct nexthop_row {
	const char *label;
	const char *in;
	bool ok;
	const char *host; /* when ok */
	unsigned port;
	bool mx;
};

// clang-format off
static const struct nexthop_row nexthop_rows[] = {
	{ "domain", "example.com", true, "example.com", 0, true },
	{ "domain:port", "example.com:2525", true, "example.com", 2525, true },
	{ "upper case folded", "MX.Example.COM:25", true, "mx.example.com", 25, true },
	{ "[host]", "[mx.example.com]", true, "mx.example.com", 0, false },
	{ "[host]:port", "[mx.example.com]:587", true, "mx.example.com", 587, false },
	{ "[HOST] folded", "[MX.EXAMPLE.COM]", true, "mx.example.com", 0, false },
	{ "[ipv4]", "[192.0.2.1]", true, "192.0.2.1", 0, false },
	{ "[ipv4]:port", "[192.0.2.1]:25", true, "192.0.2.1", 25, false },
	{ "[ipv6]", "[2001:db8::1]", true, "2001:db8::1", 0, false },
	{ "[ipv6]:port", "[2001:db8::1]:25", true, "2001:db8::1", 25, false },
	{ "[ipv6:...]:port", "[ipv6:2001:db8::1]:25", true, "2001:db8::1", 25, false },
	{ "[IPv6:...] folded", "[IPv6:2001:DB8::A]", true, "2001:db8::a", 0, false },
	{ "[::1]", "[::1]", true, "::1", 0, false },
	{ "port 1 (min)", "h:1", true, "h", 1, true },
	{ "port 65535 (max)", "h:65535", true, "h", 65535, true },
	{ "[h]:65535 (max)", "[h]:65535", true, "h", 65535, false },
	{ "port 0 (min-1)", "host:0", false, NULL, 0, false },
	{ "port 65536 (max+1)", "host:65536", false, NULL, 0, false },
	{ "[h]:0", "[h]:0", false, NULL, 0, false },
	{ "[h]:65536", "[h]:65536", false, NULL, 0, false },
	{ "port not a number", "host:abc", false, NULL, 0, false },
	{ "port with sign", "host:+25", false, NULL, 0, false },
	{ "port with space", "host: 25", false, NULL, 0, false },
	{ "port empty", "host:", false, NULL, 0, false },
	{ "[h]: port empty", "[h]:", false, NULL, 0, false },
	{ "two colons", "a:b:c", false, NULL, 0, false },
	{ "two ports", "a:25:26", false, NULL, 0, false },
	{ "bare ipv6", "2001:db8::1", false, NULL, 0, false },
	{ "empty", "", false, NULL, 0, false },
	{ "only port", ":25", false, NULL, 0, false },
	{ "[ without ]", "[host", false, NULL, 0, false },
	{ "[host]x", "[host]x", false, NULL, 0, false },
	{ "[host] space", "[host] ", false, NULL, 0, false },
	{ "[host]]", "[host]]", false, NULL, 0, false },
	{ "[]", "[]", false, NULL, 0, false },
	{ "[]:25", "[]:25", false, NULL, 0, false },
	{ "[[host]]", "[[host]]", false, NULL, 0, false },
	{ "] alone", "host]", false, NULL, 0, false },
	{ "[ inside", "ho[st", false, NULL, 0, false },
	{ "[bad ipv6]", "[2001:db8::g]", false, NULL, 0, false },
	{ "[ipv6:] empty", "[ipv6:]", false, NULL, 0, false },
	{ "[ipv6:bad]", "[ipv6:2001:db8:::1]", false, NULL, 0, false },
	{ "[ipv6:ipv6:...]", "[ipv6:ipv6:::1]", false, NULL, 0, false },
	{ "space", "mx example.com", false, NULL, 0, false },
	{ "leading space", " example.com", false, NULL, 0, false },
	{ "tab", "mx\texample.com", false, NULL, 0, false },
	{ "[space]", "[mx example.com]", false, NULL, 0, false },
	{ "@", "user@example.com", false, NULL, 0, false },
	{ "[@]", "[user@example.com]", false, NULL, 0, false },
	{ "comma", "a.example,b.example", false, NULL, 0, false },
	{ "slash", "a/b", false, NULL, 0, false },
	{ "backslash", "a\\b", false, NULL, 0, false },
	{ "CR", "a\rb", false, NULL, 0, false },
	{ "LF", "a\nb", false, NULL, 0, false },
	{ "DEL", "a\x7f" "b", false, NULL, 0, false },
	{ "8-bit is allowed (an IDN)", "b\xc3\xbc" "cher.example", true,
	  "b\xc3\xbc" "cher.example", 0, true },
};
// clang-format on

static void
test_route_parse_nexthop_table(void **state)
{
	struct route rt;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(nexthop_rows); i++) {
		const struct nexthop_row *r = &nexthop_rows[i];
		int rc;

		memset(&rt, 0xa5, sizeof(rt));
		why = NULL;
		rc = route_parse_nexthop(r->in, &rt, &why);
		if (!r->ok) {
			if (rc != -1)
				fail_msg("%s: \"%s\" accepted as \"%s\"",
				    r->label, r->in, rt.host);
			if (why == NULL || why[0] == '\0')
				fail_msg("%s: no reason", r->label);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: \"%s\" rejected: %s", r->label, r->in,
			    why != NULL ? why : "?");
		if (strcmp(rt.host, r->host) != 0 || rt.port != r->port ||
		    rt.mx != r->mx)
			fail_msg("%s: got host \"%s\" port %u mx %d, want "
			         "\"%s\" %u %d",
			    r->label, rt.host, rt.port, rt.mx, r->host, r->port,
			    r->mx);
	}
}

/* ROUTE_HOST_MAX - 1 bytes of host fit, one more does not; brackets and
 * the port do not count. */
static void
test_route_parse_nexthop_host_length_limits(void **state)
{
	static const struct {
		size_t len;
		bool ok;
	} rows[] = {
		{ ROUTE_HOST_MAX - 2, true },  /* max-1 */
		{ ROUTE_HOST_MAX - 1, true },  /* max */
		{ ROUTE_HOST_MAX, false },     /* max+1 */
		{ ROUTE_HOST_MAX * 4, false }, /* far beyond */
	};
	static const char *const forms[] = { "%s", "%s:25", "[%s]", "[%s]:25" };
	struct route rt;
	const char *why;
	size_t i, k;

	(void)state;
	for (i = 0; i < MW_NELEM(rows); i++) {
		char *host = repeat('a', rows[i].len);

		for (k = 0; k < MW_NELEM(forms); k++) {
			char in[ROUTE_HOST_MAX * 4 + 16];
			int rc;

			(void)snprintf(in, sizeof(in), forms[k], host);
			rc = route_parse_nexthop(in, &rt, &why);
			if ((rc == 0) != rows[i].ok)
				fail_msg("host of %zu bytes in form %s: %s",
				    rows[i].len, forms[k],
				    rc == 0 ? "accepted" : why);
			if (rc == 0)
				assert_string_equal(rt.host, host);
		}
		free(host);
	}
}

struct entry_row {
	const char *label;
	const char *in;
	bool ok;
	enum route_transport transport;
	const char *host; /* ROUTE_SMTP */
	unsigned port;
	bool mx;
	const char *text; /* ROUTE_ERROR, ROUTE_RETRY */
	const char *describe;
	const char *bug; /* non-NULL: a known source bug (see the top) */
};

#define NOT_DELIVERABLE "mail for this destination is not deliverable"
#define DEFERRED        "mail for this destination is deferred"

// clang-format off
static const struct entry_row entry_rows[] = {
	{ "smtp:[host]:port", "smtp:[mx.example.com]:2525", true, ROUTE_SMTP,
	  "mx.example.com", 2525, false, "", "smtp:[mx.example.com]:2525", NULL },
	{ "smtp:[host]", "smtp:[mx.example.com]", true, ROUTE_SMTP,
	  "mx.example.com", 0, false, "", "smtp:[mx.example.com]", NULL },
	{ "smtp:host:port", "smtp:example.com:25", true, ROUTE_SMTP,
	  "example.com", 25, true, "", "smtp:example.com:25", NULL },
	{ "smtp:host", "smtp:example.com", true, ROUTE_SMTP, "example.com", 0,
	  true, "", "smtp:example.com", NULL },
	{ "smtp: (empty nexthop)", "smtp:", true, ROUTE_SMTP, "", 0, true, "",
	  "smtp:", NULL },
	{ "smtp (no colon)", "smtp", true, ROUTE_SMTP, "", 0, true, "", "smtp:",
	  NULL },
	{ ":nexthop (empty transport)", ":[gw.example]:25", true, ROUTE_SMTP,
	  "gw.example", 25, false, "", "smtp:[gw.example]:25", NULL },
	{ ": (both empty)", ":", true, ROUTE_SMTP, "", 0, true, "", "smtp:",
	  NULL },
	{ "empty entry", "", true, ROUTE_SMTP, "", 0, true, "", "smtp:", NULL },
	{ "relay:host", "relay:relay.example", true, ROUTE_SMTP,
	  "relay.example", 0, true, "", "smtp:relay.example", NULL },
	{ "relay:", "relay:", true, ROUTE_SMTP, "", 0, true, "", "smtp:", NULL },
	{ "relay", "relay", true, ROUTE_SMTP, "", 0, true, "", "smtp:", NULL },
	{ "SMTP:[HOST] folded", "SMTP:[MX.Example.COM]:25", true, ROUTE_SMTP,
	  "mx.example.com", 25, false, "", "smtp:[mx.example.com]:25", NULL },
	{ "RELAY: folded", "Relay:Host.Example", true, ROUTE_SMTP,
	  "host.example", 0, true, "", "smtp:host.example", NULL },
	{ "smtp:[ipv6:...]:25", "smtp:[ipv6:2001:db8::1]:25", true, ROUTE_SMTP,
	  "2001:db8::1", 25, false, "", "smtp:[2001:db8::1]:25", NULL },
	{ "smtp:[2001:db8::1]", "smtp:[2001:db8::1]", true, ROUTE_SMTP,
	  "2001:db8::1", 0, false, "", "smtp:[2001:db8::1]", NULL },
	{ "local:", "local:", true, ROUTE_LOCAL, "", 0, true, "", "local:", NULL },
	{ "local", "local", true, ROUTE_LOCAL, "", 0, true, "", "local:", NULL },
	{ "LOCAL: folded", "LOCAL:", true, ROUTE_LOCAL, "", 0, true, "",
	  "local:", NULL },
	{ "error:text", "error:5.1.1 no such user here", true, ROUTE_ERROR, "",
	  0, true, "5.1.1 no such user here", "error:5.1.1 no such user here",
	  NULL },
	{ "error:text with colons", "error:a:b:c", true, ROUTE_ERROR, "", 0,
	  true, "a:b:c", "error:a:b:c", NULL },
	{ "error", "error", true, ROUTE_ERROR, "", 0, true, NOT_DELIVERABLE,
	  "error:" NOT_DELIVERABLE, NULL },
	{ "error:", "error:", true, ROUTE_ERROR, "", 0, true, NOT_DELIVERABLE,
	  "error:" NOT_DELIVERABLE, NULL },
	{ "ERROR:x folded", "ERROR:x", true, ROUTE_ERROR, "", 0, true, "x",
	  "error:x", NULL },
	{ "retry:text", "retry:try later", true, ROUTE_RETRY, "", 0, true,
	  "try later", "retry:try later", NULL },
	{ "retry", "retry", true, ROUTE_RETRY, "", 0, true, DEFERRED,
	  "retry:" DEFERRED, NULL },
	{ "Retry: folded", "Retry:", true, ROUTE_RETRY, "", 0, true, DEFERRED,
	  "retry:" DEFERRED, NULL },
	{ "error text controls", "error:a\r\nb\tc\x01" "d\x1f", true,
	  ROUTE_ERROR, "", 0, true, "a??b?c?d?", "error:a??b?c?d?", NULL },
	{ "retry text controls", "retry:x\ny", true, ROUTE_RETRY, "", 0, true,
	  "x?y", "retry:x?y", NULL },
	{ "error text 8-bit kept", "error:gr\xc3\xbc\xc3\x9f" "e", true,
	  ROUTE_ERROR, "", 0, true, "gr\xc3\xbc\xc3\x9f" "e",
	  "error:gr\xc3\xbc\xc3\x9f" "e", NULL },
	{ "error text DEL", "error:a\x7f" "b", true, ROUTE_ERROR, "", 0, true,
	  "a?b", "error:a?b", NULL },
	/* rejected */
	{ "bogus:x", "bogus:x", false, 0, NULL, 0, false, NULL, NULL, NULL },
	{ "bogus", "bogus", false, 0, NULL, 0, false, NULL, NULL, NULL },
	{ "smtpx:", "smtpx:", false, 0, NULL, 0, false, NULL, NULL, NULL },
	{ "smt:", "smt:", false, 0, NULL, 0, false, NULL, NULL, NULL },
	{ "errors:x", "errors:x", false, 0, NULL, 0, false, NULL, NULL, NULL },
	{ "lmtp:", "lmtp:host", false, 0, NULL, 0, false, NULL, NULL, NULL },
	{ " smtp: (space)", " smtp:", false, 0, NULL, 0, false, NULL, NULL, NULL },
	{ "smtp:[host", "smtp:[host", false, 0, NULL, 0, false, NULL, NULL, NULL },
	{ "smtp:[host]x", "smtp:[host]x", false, 0, NULL, 0, false, NULL, NULL,
	  NULL },
	{ "smtp:host:0", "smtp:host:0", false, 0, NULL, 0, false, NULL, NULL,
	  NULL },
	{ "smtp:host:65536", "smtp:host:65536", false, 0, NULL, 0, false, NULL,
	  NULL, NULL },
	{ "smtp:host:abc", "smtp:host:abc", false, 0, NULL, 0, false, NULL,
	  NULL, NULL },
	{ "smtp:a:b:c", "smtp:a:b:c", false, 0, NULL, 0, false, NULL, NULL,
	  NULL },
	{ ":a:b:c", ":a:b:c", false, 0, NULL, 0, false, NULL, NULL, NULL },
	{ "a:b:c (unknown transport a)", "a:b:c", false, 0, NULL, 0, false,
	  NULL, NULL, NULL },
	{ "smtp:host with space", "smtp:mx example.com", false, 0, NULL, 0,
	  false, NULL, NULL, NULL },
	{ "smtp:user@host", "smtp:user@example.com", false, 0, NULL, 0, false,
	  NULL, NULL, NULL },
	{ "smtp:a,b", "smtp:a.example,b.example", false, 0, NULL, 0, false,
	  NULL, NULL, NULL },
	{ "smtp:[::g]", "smtp:[2001:db8::g]", false, 0, NULL, 0, false, NULL,
	  NULL, NULL },
	{ "smtp:bare ipv6", "smtp:2001:db8::1", false, 0, NULL, 0, false, NULL,
	  NULL, NULL },
};
// clang-format on

static void
check_entry_row(const struct entry_row *r)
{
	char desc[1024];
	struct route rt;
	const char *why = NULL;
	bool passed;
	int rc;

	memset(&rt, 0xa5, sizeof(rt));
	rc = route_parse_entry(r->in, &rt, &why);
	if (!r->ok) {
		if (rc != -1) {
			route_describe(&rt, desc, sizeof(desc));
			fail_msg(
			    "%s: \"%s\" accepted as %s", r->label, r->in, desc);
		}
		if (why == NULL || why[0] == '\0')
			fail_msg("%s: no reason", r->label);
		return;
	}
	if (rc != 0)
		fail_msg("%s: rejected: %s", r->label, why != NULL ? why : "?");
	route_describe(&rt, desc, sizeof(desc));
	passed = rt.transport == r->transport &&
	    strcmp(desc, r->describe) == 0 &&
	    (r->transport != ROUTE_SMTP ||
	        (strcmp(rt.host, r->host) == 0 && rt.port == r->port &&
	            rt.mx == r->mx)) &&
	    ((r->transport != ROUTE_ERROR && r->transport != ROUTE_RETRY) ||
	        strcmp(rt.text, r->text) == 0);
	if (r->bug != NULL) {
		check_known_bug(r->label, r->bug, passed, desc);
		return;
	}
	if (!passed)
		fail_msg("%s: got transport %d host \"%s\" port %u mx %d text "
		         "\"%s\" (%s), want %s",
		    r->label, (int)rt.transport, rt.host, rt.port, rt.mx,
		    rt.text, desc, r->describe);
}

static void
test_route_parse_entry_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(entry_rows); i++)
		check_entry_row(&entry_rows[i]);
}

/* What route_describe() writes parses back to the same route. */
static void
test_route_describe_round_trip(void **state)
{
	char desc[1024], desc2[1024];
	struct route a, b;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(entry_rows); i++) {
		const struct entry_row *r = &entry_rows[i];

		if (!r->ok || r->bug != NULL)
			continue;
		assert_int_equal(route_parse_entry(r->in, &a, &why), 0);
		route_describe(&a, desc, sizeof(desc));
		if (route_parse_entry(desc, &b, &why) != 0)
			fail_msg("%s: \"%s\" does not parse: %s", r->label,
			    desc, why);
		route_describe(&b, desc2, sizeof(desc2));
		assert_string_equal(desc, desc2);
		assert_int_equal(a.transport, b.transport);
		assert_string_equal(a.host, b.host);
		assert_int_equal(a.port, b.port);
		assert_int_equal(a.mx, b.mx);
		assert_string_equal(a.text, b.text);
	}
}

/* The text of error: and retry: is cut to fit route.text (max-1, max,
 * max+1 bytes of text). */
static void
test_route_parse_entry_text_length_limits(void **state)
{
	static const size_t lens[] = { sizeof(((struct route *)0)->text) - 2,
		sizeof(((struct route *)0)->text) - 1,
		sizeof(((struct route *)0)->text), 4096 };
	const size_t max = sizeof(((struct route *)0)->text) - 1;
	struct route rt;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(lens); i++) {
		char *text = repeat('t', lens[i]);
		char *in = xasprintf("error:%s", text);
		size_t want = lens[i] < max ? lens[i] : max;

		assert_int_equal(route_parse_entry(in, &rt, &why), 0);
		assert_int_equal(rt.transport, ROUTE_ERROR);
		assert_int_equal(strlen(rt.text), want);
		assert_memory_equal(rt.text, text, want);
		free(in);
		free(text);
	}
}

/* route_describe() never writes past outsz and always terminates. */
static void
test_route_describe_truncates(void **state)
{
	static const char *const ins[] = { "smtp:[mx.example.com]:2525",
		"smtp:example.com", "local:", "error:some text",
		"retry:other text" };
	char full[600], out[64];
	struct route rt;
	const char *why;
	size_t i, sz;

	(void)state;
	for (i = 0; i < MW_NELEM(ins); i++) {
		assert_int_equal(route_parse_entry(ins[i], &rt, &why), 0);
		route_describe(&rt, full, sizeof(full));
		for (sz = 1; sz <= strlen(full) + 1; sz++) {
			memset(out, 'X', sizeof(out));
			route_describe(&rt, out, sz);
			assert_int_equal(strlen(out),
			    sz - 1 < strlen(full) ? sz - 1 : strlen(full));
			assert_memory_equal(out, full, strlen(out));
			assert_int_equal(out[sz], 'X');
		}
	}
	/* the longest: host of ROUTE_HOST_MAX - 1 bytes, [brackets], port */
	{
		char *host = repeat('h', ROUTE_HOST_MAX - 1);
		char *in = xasprintf("smtp:[%s]:65535", host);

		assert_int_equal(route_parse_entry(in, &rt, &why), 0);
		route_describe(&rt, full, sizeof(full));
		assert_string_equal(full, in);
		free(in);
		free(host);
	}
}

struct listed_row {
	const char *label;
	const char *items[3];
	const char *domain;
	bool want;
};

// clang-format off
static const struct listed_row listed_rows[] = {
	{ "the domain", { "example.com" }, "example.com", true },
	{ "a subdomain", { "example.com" }, "mx.example.com", true },
	{ "a deep subdomain", { "example.com" }, "a.b.c.example.com", true },
	{ "not a suffix of the label", { "example.com" }, "ample.com", false },
	{ "suffix without a dot", { "ample.com" }, "example.com", false },
	{ "suffix without a dot, sub", { "ample.com" }, "mx.example.com", false },
	{ "other domain", { "example.com" }, "example.org", false },
	{ "a parent is not listed", { "mx.example.com" }, "example.com", false },
	{ "longer TLD", { "example.com" }, "example.community", false },
	{ ".dom: the domain is not", { ".example.com" }, "example.com", false },
	{ ".dom: a subdomain is", { ".example.com" }, "mx.example.com", true },
	{ ".dom: deep subdomain", { ".example.com" }, "a.b.example.com", true },
	{ ".dom: not a suffix", { ".example.com" }, "xexample.com", false },
	{ "case: domain upper", { "example.com" }, "MX.EXAMPLE.COM", true },
	{ "case: item upper", { "EXAMPLE.Com" }, "mx.example.com", true },
	{ "case: .ITEM", { ".EXAMPLE.COM" }, "a.example.com", true },
	{ "trailing dot: domain", { "example.com" }, "example.com.", true },
	{ "trailing dot: item", { "example.com." }, "example.com", true },
	{ "trailing dot: both", { "example.com." }, "mx.example.com.", true },
	{ "trailing dot: .item.", { ".example.com." }, "a.example.com.", true },
	{ "trailing dot: .item. self", { ".example.com." }, "example.com", false },
	{ "second item", { "example.org", "example.com" }, "example.com", true },
	{ "third item", { "a.test", "b.test", ".example.com" }, "x.example.com", true },
	{ "none of three", { "a.test", "b.test", ".example.com" }, "example.net", false },
	{ "empty item", { "" }, "example.com", false },
	{ "empty item, empty domain", { "" }, "", false },
	{ "item \".\"", { "." }, "example.com", false },
	{ "item \".\", domain \".\"", { "." }, ".", false },
	{ "item \"..\"", { ".." }, "example.com", false },
	{ "empty domain", { "example.com" }, "", false },
	{ "domain \".\"", { "example.com" }, ".", false },
	{ "domain is .item", { "example.com" }, ".example.com", true },
	{ "one letter", { "c" }, "a.b.c", true },
	{ "one letter, not", { "c" }, "a.bc", false },
	{ "TLD", { "com" }, "example.com", true },
	{ ".TLD", { ".com" }, "com", false },
};
// clang-format on

static void
test_route_domain_listed_table(void **state)
{
	size_t i, n;

	(void)state;
	for (i = 0; i < MW_NELEM(listed_rows); i++) {
		const struct listed_row *r = &listed_rows[i];
		bool got;

		for (n = 0; n < MW_NELEM(r->items) && r->items[n] != NULL; n++)
			;
		got = route_domain_listed(r->items, n, r->domain);
		if (got != r->want)
			fail_msg("%s: %s matched \"%s\": %d, want %d", r->label,
			    r->items[0], r->domain, got, r->want);
	}
	assert_false(route_domain_listed(NULL, 0, "example.com"));
}

/* ---- router_lookup over a configuration and texthash: files ---- */

struct rfix {
	char dir[64];
	struct buf err;
};

static int
rfix_setup(void **state)
{
	struct rfix *f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/mw-test-route.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	buf_init(&f->err, 4096);
	*state = f;
	return 0;
}

static int
rfix_teardown(void **state)
{
	struct rfix *f = *state;

	(void)fs_rm_rf(f->dir);
	buf_free(&f->err);
	free(f);
	return 0;
}

static void
rfix_write(const struct rfix *f, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", f->dir, name);

	assert_int_equal(fs_atomic_write(path, text, strlen(text), 0644), 0);
	free(path);
}

/* A router for conf_text, where every "@D@" is the fixture's directory. */
static struct router *
rfix_router(struct rfix *f, const char *conf_text, struct conf **conf_out)
{
	struct buf text;
	struct router *r;
	const char *p, *at;

	buf_init(&text, 1 << 16);
	for (p = conf_text; (at = strstr(p, "@D@")) != NULL; p = at + 3) {
		assert_int_equal(buf_append(&text, p, (size_t)(at - p)), 0);
		assert_int_equal(buf_append_str(&text, f->dir), 0);
	}
	assert_int_equal(buf_append_str(&text, p), 0);
	*conf_out = load_ok(buf_cstr(&text));
	buf_free(&text);
	r = router_new(*conf_out, &f->err);
	if (r == NULL)
		fail_msg("router_new: %s", buf_cstr(&f->err));
	return r;
}

struct lookup_row {
	const char *address;
	const char *want; /* route_describe(), or NULL: lookup fails */
	const char *bug;  /* non-NULL: a known source bug (see the top) */
};

static void
check_lookups(struct rfix *f, const char *conf_text,
    const struct lookup_row *rows, size_t n)
{
	struct conf *conf;
	struct router *r = rfix_router(f, conf_text, &conf);
	char desc[1024];
	struct route rt;
	size_t i;

	for (i = 0; i < n; i++) {
		int rc;
		bool passed;

		memset(&rt, 0xa5, sizeof(rt));
		buf_reset(&f->err);
		rc = router_lookup(r, rows[i].address, &rt, &f->err);
		if (rc == 0)
			route_describe(&rt, desc, sizeof(desc));
		else {
			(void)snprintf(desc, sizeof(desc), "(failed: %s)",
			    buf_cstr(&f->err));
			assert_true(f->err.len > 0);
			assert_null(strchr(buf_cstr(&f->err), '\n'));
		}
		passed = rows[i].want == NULL
		    ? rc == -1
		    : rc == 0 && strcmp(desc, rows[i].want) == 0;
		if (rows[i].bug != NULL) {
			check_known_bug(
			    rows[i].address, rows[i].bug, passed, desc);
			continue;
		}
		if (!passed)
			fail_msg("<%s>: got %s, want %s", rows[i].address, desc,
			    rows[i].want != NULL ? rows[i].want : "a failure");
	}
	router_free(&r);
	assert_null(r);
	conf_free(&conf);
}

static const char transport_table[] =
    "# transport(5)\n"
    "bob@t.example        error:bob is gone\n"
    "t.example            smtp:[t-gw.example]:2525\n"
    ".t.example           relay:sub-gw.example\n"
    ".parent.example      retry:parents wait\n"
    "exact.parent.example local:\n"
    "empty.example        smtp:\n"
    "null.example         :\n"
    "hop.example          :[hop.example.net]\n"
    "port.example         smtp:port.example:587\n"
    "relay.example        smtp:[relay-override.example]\n";

/* relayhost, relay_domains (a list and a table), default_transport smtp */
static void
test_router_lookup_order_and_relayhost(void **state)
{
	struct rfix *f = *state;
	// clang-format off
	static const struct lookup_row rows[] = {
		/* the full address first, then the domain */
		{ "bob@t.example", "error:bob is gone", NULL },
		{ "BOB@t.example", "error:bob is gone", NULL }, /* keys folded */
		{ "alice@t.example", "smtp:[t-gw.example]:2525", NULL },
		/* then ".parent" for each parent */
		{ "x@a.t.example", "smtp:sub-gw.example", NULL },
		{ "x@a.b.t.example", "smtp:sub-gw.example", NULL },
		{ "x@s.parent.example", "retry:parents wait", NULL },
		{ "x@exact.parent.example", "local:", NULL },
		{ "x@a.exact.parent.example", "retry:parents wait", NULL },
		/* ".parent.example" is not "parent.example" itself */
		{ "x@parent.example", "smtp:[smart.example]:2525", NULL },
		/* a transport with an empty nexthop: the recipient domain
		 * (default_transport "smtp" has none), as transport(5) */
		{ "x@empty.example", "smtp:empty.example", NULL },
		{ "x@hop.example", "smtp:[hop.example.net]", NULL },
		{ "x@port.example", "smtp:port.example:587", NULL },
		/* transport(5): a null transport and null nexthop mean "as if
		 * the table did not exist": relayhost */
		{ "x@null.example", "smtp:[smart.example]:2525", NULL },
		/* transport_maps beats relay_domains */
		{ "x@relay.example", "smtp:[relay-override.example]", NULL },
		/* relay_domains: relayhost overrides their domain too, as
		 * Postfix's resolve.c does */
		{ "x@a.relay.example", "smtp:[smart.example]:2525", NULL },
		{ "x@b.subrelay.example", "smtp:[smart.example]:2525", NULL },
		{ "x@subrelay.example", "smtp:[smart.example]:2525", NULL },
		{ "x@tab.example", "smtp:[smart.example]:2525", NULL },
		{ "x@a.tab.example", "smtp:[smart.example]:2525", NULL },
		/* everything else: relayhost */
		{ "x@other.example", "smtp:[smart.example]:2525", NULL },
		{ "x@example", "smtp:[smart.example]:2525", NULL },
		{ "x@ample.relay.example.org", "smtp:[smart.example]:2525", NULL },
	};
	// clang-format on

	rfix_write(f, "transport", transport_table);
	rfix_write(f, "relay", "tab.example OK\n");
	check_lookups(f,
	    "transport_maps = texthash:@D@/transport\n"
	    "relay_domains = relay.example, .subrelay.example, "
	    "texthash:@D@/relay\n"
	    "relayhost = [smart.example]:2525\n",
	    rows, MW_NELEM(rows));
}

/* No relayhost: the recipient domain's MX; no domain: a failure. */
static void
test_router_lookup_no_relayhost(void **state)
{
	struct rfix *f = *state;
	// clang-format off
	static const struct lookup_row rows[] = {
		{ "x@other.example", "smtp:other.example", NULL },
		{ "x@null.example", "smtp:null.example", NULL },
		{ "x@empty.example", "smtp:empty.example", NULL },
		{ "alice@t.example", "smtp:[t-gw.example]:2525", NULL },
		{ "x@", NULL, NULL },
		{ "no-at-sign", NULL, NULL },
	};
	// clang-format on

	rfix_write(f, "transport", transport_table);
	check_lookups(f, "transport_maps = texthash:@D@/transport\n", rows,
	    MW_NELEM(rows));
	/* no tables at all */
	check_lookups(f, "", rows, 1);
}

/* "*" is looked up last, after every parent. */
static void
test_router_lookup_star(void **state)
{
	struct rfix *f = *state;
	// clang-format off
	static const struct lookup_row rows[] = {
		{ "x@any.example", "smtp:[star.example]", NULL },
		{ "x@a.b.c.d.example", "smtp:[star.example]", NULL },
		{ "x@t.example", "smtp:[t.example]", NULL },
		{ "x@s.t.example", "error:sub", NULL },
		{ "x@relay.example", "smtp:[star.example]", NULL },
		{ "x@x.example", "smtp:x.example", NULL },
	};
	// clang-format on

	rfix_write(f, "transport",
	    "*            smtp:[star.example]\n"
	    "t.example    smtp:[t.example]\n"
	    ".t.example   error:sub\n"
	    "x.example    smtp:\n");
	check_lookups(f,
	    "transport_maps = texthash:@D@/transport\n"
	    "relay_domains = relay.example\n"
	    "relayhost = [smart.example]\n"
	    "default_transport = error:nothing else\n",
	    rows, MW_NELEM(rows));
}

/* Two tables: the first that has the key wins, key by key. */
static void
test_router_lookup_two_tables(void **state)
{
	struct rfix *f = *state;
	// clang-format off
	static const struct lookup_row rows[] = {
		{ "x@one.example", "smtp:[first.example]", NULL },
		{ "x@two.example", "smtp:[second.example]", NULL },
		/* the domain in table 1 beats ".parent" in table 0 */
		{ "x@a.two.example", "smtp:[second-sub.example]", NULL },
		{ "x@a.one.example", "error:one sub", NULL },
	};
	// clang-format on

	rfix_write(f, "t0",
	    "one.example smtp:[first.example]\n"
	    ".one.example error:one sub\n"
	    ".example error:catch\n");
	rfix_write(f, "t1",
	    "one.example smtp:[never.example]\n"
	    "two.example smtp:[second.example]\n"
	    "a.two.example smtp:[second-sub.example]\n");
	check_lookups(f, "transport_maps = texthash:@D@/t0, texthash:@D@/t1\n",
	    rows, MW_NELEM(rows));
}

/* default_transport: error: and retry: for everything not routed;
 * relay_domains and tables still apply. */
static void
test_router_lookup_default_transport(void **state)
{
	struct rfix *f = *state;
	// clang-format off
	static const struct lookup_row err_rows[] = {
		{ "x@other.example", "error:no relaying here", NULL },
		{ "x@rd.example", "smtp:[smart.example]", NULL },
		{ "alice@t.example", "smtp:[t-gw.example]:2525", NULL },
		/* an empty nexthop with a default that has none: the domain */
		{ "x@empty.example", "smtp:empty.example", NULL },
	};
	static const struct lookup_row retry_rows[] = {
		{ "x@other.example", "retry:" DEFERRED, NULL },
	};
	/* a default with a nexthop; "smtp:" (a transport, no nexthop) is
	 * the recipient domain, as transport(5) says */
	static const struct lookup_row gw_rows[] = {
		{ "x@other.example", "smtp:[gw.example]:587", NULL },
		{ "x@empty.example", "smtp:empty.example", NULL },
		{ "x@null.example", "smtp:[gw.example]:587", NULL },
		{ "x@hop.example", "smtp:[hop.example.net]", NULL },
		{ "x@relay.example", "smtp:relay.example", NULL },
	};
	/* default_transport with a nexthop and relayhost: postconf(5)
	 * "relayhost ... is overruled with ... default_transport" */
	static const struct lookup_row both_rows[] = {
		{ "x@other.example", "smtp:[gw.example]:587", NULL },
		{ "x@relay.example", "smtp:[smart.example]", NULL },
	};
	// clang-format on

	rfix_write(f, "transport", transport_table);
	check_lookups(f,
	    "transport_maps = texthash:@D@/transport\n"
	    "relay_domains = rd.example\n"
	    "relayhost = [smart.example]\n"
	    "default_transport = error:no relaying here\n",
	    err_rows, MW_NELEM(err_rows));
	check_lookups(
	    f, "default_transport = retry\n", retry_rows, MW_NELEM(retry_rows));
	rfix_write(f, "transport",
	    "empty.example smtp:\n"
	    "null.example :\n"
	    "hop.example :[hop.example.net]\n");
	check_lookups(f,
	    "transport_maps = texthash:@D@/transport\n"
	    "relay_domains = relay.example\n"
	    "default_transport = smtp:[gw.example]:587\n",
	    gw_rows, MW_NELEM(gw_rows));
	check_lookups(f,
	    "relay_domains = relay.example\n"
	    "relayhost = [smart.example]\n"
	    "default_transport = smtp:[gw.example]:587\n",
	    both_rows, MW_NELEM(both_rows));
}

/* Makes path's mtime now + delta seconds, so that a table reloads. */
static void
rfix_touch(const struct rfix *f, const char *name, long delta)
{
	char *path = xasprintf("%s/%s", f->dir, name);
	struct timespec ts[2];

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts[0]), 0);
	ts[0].tv_sec += delta;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	free(path);
}

/* Polls router_lookup(address) until it fails (a table noticed its
 * broken file, within about a second); fails the test after 10 s. */
static void
await_lookup_failure(struct rfix *f, struct router *r, const char *address)
{
	struct timespec start, now, nap = { 0, 20 * 1000 * 1000 };
	struct route rt;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &start), 0);
	for (;;) {
		buf_reset(&f->err);
		if (router_lookup(r, address, &rt, &f->err) == -1)
			break;
		assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &now), 0);
		if (now.tv_sec - start.tv_sec > 10)
			fail_msg("<%s>: the lookup still works", address);
		(void)nanosleep(&nap, NULL);
	}
	assert_true(f->err.len > 0);
	assert_null(strchr(buf_cstr(&f->err), '\n'));
}

/* A bad entry or a table that no longer parses defers (-1, one line). */
static void
test_router_lookup_failures(void **state)
{
	struct rfix *f = *state;
	// clang-format off
	static const struct lookup_row rows[] = {
		{ "x@bad.example", NULL, NULL },
		{ "x@badhost.example", NULL, NULL },
		{ "x@badport.example", NULL, NULL },
		{ "x@good.example", "smtp:[good.example]", NULL },
	};
	// clang-format on
	struct conf *conf;
	struct router *r;

	rfix_write(f, "transport",
	    "bad.example bogus:x\n"
	    "badhost.example smtp:[bad host\n"
	    "badport.example smtp:host:99999\n"
	    "good.example smtp:[good.example]\n");
	check_lookups(f, "transport_maps = texthash:@D@/transport\n", rows,
	    MW_NELEM(rows));
	/* the table breaks after the router opened it */
	r = rfix_router(f, "transport_maps = texthash:@D@/transport\n", &conf);
	rfix_write(f, "transport", "a-key-without-a-value\n");
	rfix_touch(f, "transport", 100);
	await_lookup_failure(f, r, "x@good.example");
	router_free(&r);
	conf_free(&conf);
	/* relay_domains breaks: a domain no table routes defers */
	rfix_write(f, "relay", "tab.example OK\n");
	r = rfix_router(
	    f, "relay_domains = rl.example, texthash:@D@/relay\n", &conf);
	rfix_write(f, "relay", "a-key-without-a-value\n");
	rfix_touch(f, "relay", 100);
	await_lookup_failure(f, r, "x@other.example");
	assert_int_equal(
	    router_is_relay_domain(r, "tab.example"), ROUTE_TEMPFAIL);
	/* a name listed in relay_domains needs no table */
	assert_int_equal(router_is_relay_domain(r, "a.rl.example"), ROUTE_YES);
	router_free(&r);
	conf_free(&conf);
}

/* router_new rejects bad relayhost and default_transport values with one
 * line naming the parameter. */
static void
test_router_new_rejects(void **state)
{
	static const struct {
		const char *conf, *param;
	} rows[] = {
		{ "relayhost = [smart.example\n", "relayhost: " },
		{ "relayhost = smart.example:0\n", "relayhost: " },
		{ "relayhost = a:b:c\n", "relayhost: " },
		{ "relayhost = user@smart.example\n", "relayhost: " },
		{ "default_transport = bogus:x\n", "default_transport: " },
		{ "default_transport = local:\n", "default_transport: " },
		{ "default_transport = smtp:[x\n", "default_transport: " },
		{ "transport_maps = nosuchtype:/x\n", "nosuchtype" },
		{ "transport_maps = texthash:/nonexistent/mw/transport\n",
		    "/nonexistent/mw/transport" },
		{ "relay_domains = texthash:/nonexistent/mw/relay\n",
		    "/nonexistent/mw/relay" },
	};
	struct rfix *f = *state;
	struct conf *conf;
	struct router *r;
	size_t i;

	for (i = 0; i < MW_NELEM(rows); i++) {
		conf = load_ok(rows[i].conf);
		buf_reset(&f->err);
		r = router_new(conf, &f->err);
		if (r != NULL)
			fail_msg("%s: accepted", rows[i].conf);
		if (strstr(buf_cstr(&f->err), rows[i].param) == NULL ||
		    strchr(buf_cstr(&f->err), '\n') != NULL)
			fail_msg("%s: error \"%s\"", rows[i].conf,
			    buf_cstr(&f->err));
		conf_free(&conf);
	}
	router_free(&r); /* NULL is fine */
}

/* The port of routes without one (route.h: port 0 means smtp_tcp_port):
 * 1..65535 at min-1, min, max, max+1. */
static void
test_route_smtp_tcp_port_limits(void **state)
{
	static const char *const bad[] = { "smtp_tcp_port = 0\n",
		"smtp_tcp_port = 65536\n", "smtp_tcp_port = smtp\n" };
	static const struct {
		const char *text;
		unsigned long long want;
	} good[] = {
		{ "smtp_tcp_port = 1\n", 1 },
		{ "smtp_tcp_port = 65535\n", 65535 },
		{ "", 25 },
	};
	struct conf *conf;
	char *e;
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(bad); i++) {
		e = load_error(bad[i]);
		if (strstr(e, "smtp_tcp_port") == NULL)
			fail_msg("%s: %s", bad[i], e);
		free(e);
	}
	for (i = 0; i < MW_NELEM(good); i++) {
		conf = load_ok(good[i].text);
		assert_int_equal(conf->smtp_tcp_port, good[i].want);
		conf_free(&conf);
	}
}

/* router_is_relay_domain: names and tables, parents of table keys. */
static void
test_router_is_relay_domain(void **state)
{
	static const struct {
		const char *domain;
		enum route_answer want;
	} rows[] = {
		{ "list.example", ROUTE_YES },
		{ "a.list.example", ROUTE_YES },
		{ "sublist.example", ROUTE_NO },
		{ "a.sublist.example", ROUTE_YES },
		{ "tab.example", ROUTE_YES },
		{ "a.b.tab.example", ROUTE_YES },
		{ "other.example", ROUTE_NO },
		{ "ab.example", ROUTE_NO },
		{ "", ROUTE_NO },
	};
	struct rfix *f = *state;
	struct conf *conf;
	struct router *r;
	size_t i;

	rfix_write(f, "relay", "tab.example OK\n");
	r = rfix_router(f,
	    "relay_domains = list.example .sublist.example "
	    "texthash:@D@/relay\n",
	    &conf);
	{
		char *want[] = { "list.example", ".sublist.example", NULL };

		want[2] = xasprintf("texthash:%s/relay", f->dir);
		assert_list(&conf->relay_domains, (const char *const *)want,
		    MW_NELEM(want));
		free(want[2]);
	}
	for (i = 0; i < MW_NELEM(rows); i++)
		if (router_is_relay_domain(r, rows[i].domain) != rows[i].want)
			fail_msg("%s: got %d", rows[i].domain,
			    (int)router_is_relay_domain(r, rows[i].domain));
	router_free(&r);
	conf_free(&conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_parse_nexthop_table),
		cmocka_unit_test(test_route_parse_nexthop_host_length_limits),
		cmocka_unit_test(test_route_parse_entry_table),
		cmocka_unit_test(test_route_describe_round_trip),
		cmocka_unit_test(test_route_parse_entry_text_length_limits),
		cmocka_unit_test(test_route_describe_truncates),
		cmocka_unit_test(test_route_domain_listed_table),
		cmocka_unit_test(test_route_smtp_tcp_port_limits),
		cmocka_unit_test_setup_teardown(
		    test_router_lookup_order_and_relayhost, rfix_setup,
		    rfix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_router_lookup_no_relayhost, rfix_setup, rfix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_router_lookup_star, rfix_setup, rfix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_router_lookup_two_tables, rfix_setup, rfix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_router_lookup_default_transport, rfix_setup,
		    rfix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_router_lookup_failures, rfix_setup, rfix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_router_new_rejects, rfix_setup, rfix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_router_is_relay_domain, rfix_setup, rfix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
