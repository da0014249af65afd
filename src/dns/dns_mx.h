/*
 * Where mail for a domain goes (RFC 5321 5.1): its MX records in
 * preference order (random among equal preferences), the addresses of
 * each exchange, the implicit MX when there is none (the domain's own
 * A/AAAA), null MX (RFC 7505), and the loop rule (an MX that is one of our
 * own addresses ends the list, with every less preferred one).
 *
 * dns_mx_plan() blocks on DNS (at most dns_timeout per query): run it on a
 * worker thread. The rest is pure.
 */
#ifndef DNS_DNS_MX_H
#define DNS_DNS_MX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/mw.h"

struct dns_resolver;
struct dns_tlsa_set;

#define DNS_HOST_MAX 256

struct dns_mx {
	unsigned pref;
	char host[DNS_HOST_MAX]; /* lowercase, no trailing dot; "" = root */
};

/* Parses MX rdata (RFC 1035 3.3.9: 16-bit preference, uncompressed
 * name). 0 or -1 when malformed. */
int dns_mx_rdata(
    const unsigned char *d, size_t len, struct dns_mx *out) MW_MUST_CHECK;

/* Sorts v by preference; equal preferences in an order drawn from rnd
 * (RFC 5321 5.1: "randomize them to spread the load"). */
void dns_mx_order(
    struct dns_mx *v, size_t n, uint64_t (*rnd)(void *), void *rnd_arg);

/* One address to try. */
struct dns_mx_addr {
	unsigned pref;
	char host[DNS_HOST_MAX]; /* the exchange's name, for logs */
	struct sockaddr_storage ss;
	socklen_t sslen;
	/* DNSSEC: the MX lookup (none for [host]; its denial for an
	 * implicit MX) and the host's address lookups were secure */
	bool secure;
	/* with dns_mx_opts.dane and secure: the host's TLSA RRset (owned by
	 * the plan, shared by the host's addresses); NULL: not looked up */
	const struct dns_tlsa_set *tlsa;
};

enum dns_mx_status {
	DNS_MX_OK,       /* addresses to try, best first */
	DNS_MX_NULLMX,   /* RFC 7505: the domain accepts no mail: 5.1.10 */
	DNS_MX_NOTFOUND, /* no such domain, or no MX and no address: 5.1.2 */
	DNS_MX_NOHOST,   /* every exchange failed to resolve for good */
	DNS_MX_LOOP,     /* the best MX is ourselves: 5.4.6 */
	DNS_MX_TEMPFAIL, /* DNS failed: 4.4.3 */
};

struct dns_mx_plan {
	enum dns_mx_status status;
	struct dns_mx_addr *v; /* malloc'd */
	size_t n;
	struct dns_tlsa_set **tlsa; /* what v[].tlsa point to */
	size_t ntlsa;
	char why[512]; /* for logs and bounces, when status != OK */
};

/* Which addresses: inet_protocols and smtp_address_preference. */
struct dns_mx_opts {
	bool mx;          /* false: host is a host ([host]): no MX lookup */
	unsigned port;    /* of every address */
	bool v4, v6;      /* inet_protocols */
	int prefer;       /* 0 any, 4 or 6: that family first per host */
	size_t max_addrs; /* 0: no limit */
	/* RFC 7672 2.2: look up the TLSA records of each host whose MX and
	 * address lookups were secure */
	bool dane;
	/* our own addresses (RFC 5321 5.1 loop rule) */
	const struct sockaddr_storage *own;
	size_t nown;
};

/* Builds the plan for domain (UTF-8 names as A-labels). Free with
 * dns_mx_plan_free(). */
void dns_mx_plan(struct dns_resolver *r, const char *domain,
    const struct dns_mx_opts *o, struct dns_mx_plan *out);
void dns_mx_plan_free(struct dns_mx_plan *p);

/* True when ss (address only, port ignored) is in own[0..n). */
bool dns_addr_is_own(const struct sockaddr_storage *ss,
    const struct sockaddr_storage *own, size_t n);

#endif
