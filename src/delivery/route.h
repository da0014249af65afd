/*
 * Routing of mail that leaves: which transport and next hop a non-local
 * recipient goes to, from transport_maps, relay_domains, relayhost and
 * default_transport, with Postfix's semantics (transport(5)):
 *
 *   transport_maps   lookups of the full address, then the domain, then
 *                    ".parent" for each parent domain, then "*"
 *   relay_domains    mail for these domains is accepted from anyone and
 *                    goes to their own MX hosts, or to relayhost
 *   relayhost        the next hop of non-local mail (unless
 *                    default_transport names a nexthop of its own)
 *   default_transport  the transport when nothing else says
 *
 * Entries are "transport:nexthop": smtp (or relay) with a nexthop of
 * "domain", "domain:port", "[host]" or "[host]:port" (brackets: no MX
 * lookup), error:text (bounce), retry:text (defer), local: (deliver here).
 * transport(5): ":" alone means "as if the table did not exist", a
 * transport without a nexthop means the recipient's domain, ":nexthop"
 * keeps the default transport.
 *
 * Table lookups may block: use from worker threads. A router is
 * thread-safe.
 */
#ifndef DELIVERY_ROUTE_H
#define DELIVERY_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"

struct buf;
struct conf;
struct router;

enum route_transport {
	ROUTE_SMTP,  /* deliver with the SMTP client */
	ROUTE_LOCAL, /* deliver to the local part here */
	ROUTE_ERROR, /* bounce with text */
	ROUTE_RETRY, /* defer with text */
};

#define ROUTE_HOST_MAX 256

/* A route. host is "" until a nexthop is known (then the recipient's
 * domain is meant); port 0 means smtp_tcp_port. */
struct route {
	enum route_transport transport;
	char host[ROUTE_HOST_MAX]; /* domain or host, brackets removed */
	unsigned port;
	bool mx;        /* look up MX records (no brackets) */
	char text[512]; /* ROUTE_ERROR and ROUTE_RETRY: the reason */
};

/*
 * Pure parsers (tests, fuzzing, configuration checks). A nexthop:
 * "example.com", "example.com:2525", "[mx.example.com]", "[192.0.2.1]:25",
 * "[2001:db8::1]:25" or "[ipv6:2001:db8::1]". A transport entry:
 * "smtp:nexthop", "relay:nexthop", "smtp", ":nexthop", "local:",
 * "error:text", "retry:text". Both fill out (a nexthop only its host, port
 * and mx) and return 0, or -1 with a static reason in errstr_out.
 */
int route_parse_nexthop(
    const char *s, struct route *out, const char **errstr_out) MW_MUST_CHECK;
int route_parse_entry(
    const char *s, struct route *out, const char **errstr_out) MW_MUST_CHECK;

/* Opens the tables of transport_maps and relay_domains and checks
 * relayhost and default_transport. NULL with one line in err. */
struct router *router_new(const struct conf *conf, struct buf *err);
void router_free(struct router **r);

/*
 * The route of address (local@domain, domain lowercased, not local).
 * 0 with out filled; -1 when a table cannot be read (defer), with one line
 * in err. When out->host is "" on return it has been set to the domain.
 */
int router_lookup(struct router *r, const char *address, struct route *out,
    struct buf *err) MW_MUST_CHECK;

enum route_answer {
	ROUTE_NO,
	ROUTE_YES,
	ROUTE_TEMPFAIL,
};

/* Is domain one of relay_domains (a listed domain or a subdomain of one;
 * ".domain" lists only subdomains)? */
enum route_answer router_is_relay_domain(struct router *r, const char *domain);

/* As router_is_relay_domain, over a list and without tables (pure). */
bool route_domain_listed(
    const char *const *items, size_t n, const char *domain);

/* "smtp:[host]:port" style text of a route, for logs. */
void route_describe(const struct route *rt, char *out, size_t outsz);

#endif
