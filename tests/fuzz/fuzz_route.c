/*
 * libFuzzer target for the routing parsers of src/delivery/route.c. The
 * input, as a NUL-terminated string, goes through route_parse_entry() and
 * route_parse_nexthop(): what they accept must be a well-formed route
 * whose route_describe() text parses back to the same route. Split at the
 * first newline it is a relay_domains item and a domain for
 * route_domain_listed(), checked against the rule of route.h and for
 * case, trailing-dot and subdomain consistency.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static bool
host_ok(const char *h)
{
	size_t i, n = strlen(h);

	if (n == 0 || n >= ROUTE_HOST_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '@' ||
		    c == ',' || c == '/' || c == '\\' || (c >= 'A' && c <= 'Z'))
			return false;
	}
	return true;
}

static void
check_same(const struct route *a, const struct route *b)
{
	CHECK(a->transport == b->transport);
	if (a->transport == ROUTE_SMTP) {
		CHECK(strcmp(a->host, b->host) == 0);
		CHECK(a->port == b->port);
		CHECK(a->mx == b->mx);
	}
	if (a->transport == ROUTE_ERROR || a->transport == ROUTE_RETRY)
		CHECK(strcmp(a->text, b->text) == 0);
}

/* A parsed route is well formed, and its log text parses back to it. */
static void
check_route(const struct route *rt, bool from_entry)
{
	char desc[ROUTE_HOST_MAX + sizeof(rt->text) + 32];
	struct route back;
	const char *why = NULL;
	size_t i;

	CHECK(rt->port <= 65535);
	switch (rt->transport) {
	case ROUTE_SMTP:
		CHECK(rt->host[0] == '\0'
		        ? from_entry && rt->port == 0 && rt->mx
		        : host_ok(rt->host));
		/* only a bracketed host may hold ':' (an IPv6 address) */
		CHECK(rt->mx || rt->host[0] != '\0');
		CHECK(!rt->mx || strchr(rt->host, ':') == NULL);
		break;
	case ROUTE_LOCAL:
		CHECK(from_entry);
		break;
	case ROUTE_ERROR:
	case ROUTE_RETRY:
		CHECK(from_entry);
		CHECK(rt->text[0] != '\0');
		/* controls are '?' (DEL is not yet: a known bug, see
		 * tests/unit/test_route.c) */
		for (i = 0; rt->text[i] != '\0'; i++)
			CHECK((unsigned char)rt->text[i] >= 0x20);
		break;
	default:
		abort();
	}
	route_describe(rt, desc, sizeof(desc));
	CHECK(strlen(desc) < sizeof(desc) - 1); /* nothing was cut */
	CHECK(route_parse_entry(desc, &back, &why) == 0);
	check_same(rt, &back);
}

/* The rule of route.h for one item, written out plainly. */
static bool
ascii_eq_fold(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static bool
model_listed(const char *item, const char *domain)
{
	size_t ni = strlen(item), nd = strlen(domain);
	bool sub = ni > 0 && item[0] == '.';

	if (sub) {
		item++;
		ni--;
	}
	if (ni > 0 && item[ni - 1] == '.')
		ni--;
	if (nd > 0 && domain[nd - 1] == '.')
		nd--;
	if (ni == 0)
		return false;
	if (!sub && nd == ni && ascii_eq_fold(item, domain, ni))
		return true;
	return nd > ni && domain[nd - ni - 1] == '.' &&
	    ascii_eq_fold(item, domain + nd - ni, ni);
}

static bool
listed1(const char *item, const char *domain)
{
	const char *items[1] = { item };

	return route_domain_listed(items, 1, domain);
}

static char *
dup_upper(const char *s, const char *prefix, const char *suffix)
{
	size_t np = strlen(prefix), n = strlen(s), ns = strlen(suffix), i;
	char *d = malloc(np + n + ns + 1);

	if (d == NULL)
		abort();
	memcpy(d, prefix, np);
	for (i = 0; i < n; i++)
		d[np + i] = s[i] >= 'a' && s[i] <= 'z'
		    ? (char)(s[i] - 'a' + 'A')
		    : s[i];
	memcpy(d + np + n, suffix, ns + 1);
	return d;
}

static void
check_listed(const char *item, const char *domain)
{
	const char *items[2];
	bool got = listed1(item, domain);
	size_t nd = strlen(domain);
	char *t;

	CHECK(got == model_listed(item, domain));
	/* case-insensitive, both sides */
	t = dup_upper(domain, "", "");
	CHECK(listed1(item, t) == got);
	free(t);
	t = dup_upper(item, "", "");
	CHECK(listed1(t, domain) == got);
	free(t);
	/* one trailing dot on the domain changes nothing */
	if (nd > 0 && domain[nd - 1] != '.') {
		t = dup_upper(domain, "", ".");
		CHECK(listed1(item, t) == got);
		free(t);
	}
	/* a subdomain of a listed domain is listed */
	if (got) {
		t = dup_upper(domain, "x.", "");
		CHECK(listed1(item, t));
		free(t);
	}
	/* ".d" never lists d itself; "d" lists itself */
	if (item[0] == '.')
		CHECK(!listed1(item, item + 1));
	else if (item[0] != '\0')
		CHECK(listed1(item, item));
	/* a list matches when one of its items does */
	items[0] = "never.invalid.";
	items[1] = item;
	CHECK(route_domain_listed(items, 2, domain) == got);
	CHECK(!route_domain_listed(items, 0, domain));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route rt;
	const char *why;
	char *s, *nl;
	int rc;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	why = NULL;
	rc = route_parse_entry(s, &rt, &why);
	if (rc == 0)
		check_route(&rt, true);
	else
		CHECK(rc == -1 && why != NULL && why[0] != '\0');
	why = NULL;
	memset(&rt, 0, sizeof(rt));
	rt.transport = ROUTE_SMTP;
	rc = route_parse_nexthop(s, &rt, &why);
	if (rc == 0) {
		CHECK(rt.host[0] != '\0');
		check_route(&rt, false);
	} else
		CHECK(rc == -1 && why != NULL && why[0] != '\0');
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		check_listed(s, nl + 1);
	} else
		check_listed(s, s);
	free(s);
	return 0;
}
