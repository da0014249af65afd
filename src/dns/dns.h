/*
 * DNS lookups through libunbound, for any thread. One resolver per
 * process (created after fork: it runs a thread): a background thread
 * drives libunbound's asynchronous queries; dns_query() sends one and
 * waits for its answer at most dns_timeout, so that a worker thread is
 * never held longer than that by a silent name server.
 */
#ifndef DNS_DNS_H
#define DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"

struct buf;
struct conf_list;
struct dns_resolver;

/* RR types (RFC 1035 3.2.2, RFC 3596) */
#define DNS_TYPE_A    1
#define DNS_TYPE_MX   15
#define DNS_TYPE_TXT  16
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_TLSA 52 /* RFC 6698 7.1 */

enum dns_status {
	DNS_OK,       /* records of the type exist */
	DNS_NODATA,   /* the name exists, without records of the type */
	DNS_NXDOMAIN, /* the name does not exist (RFC 1035 4.1.1 rcode 3) */
	DNS_TEMPFAIL, /* SERVFAIL, timeout, no server: try again later */
	DNS_INVALID,  /* a malformed name or answer */
};

/* One answer: rdata in wire format (names uncompressed). */
struct dns_answer {
	enum dns_status status;
	/* DNSSEC (RFC 4035 4.3): the answer, or its denial, validated from
	 * a trust anchor of dns_trust_anchor_file; a bogus answer (the
	 * validation failed) is never returned: it is DNS_TEMPFAIL */
	bool secure;
	size_t n;
	const unsigned char *const *data;
	const int *len;
	void *priv; /* the libunbound result */
};

/* dns_trust_anchor_file's default (Debian's dns-root-data): when it does
 * not exist, answers are not validated (none is secure). */
#define DNS_TRUST_ANCHOR_DEFAULT "/usr/share/dns/root.key"

/*
 * servers: "192.0.2.1", "192.0.2.1:5353", "[2001:db8::1]:53" (empty: the
 * name servers of /etc/resolv.conf, or recursion from the root when it
 * names none); timeout_ms bounds each dns_query(). trust_anchor: a file of
 * DS or DNSKEY records (zone file format) that DNSSEC validation starts
 * from; NULL or "": no validation. NULL with one line in err.
 */
struct dns_resolver *dns_resolver_new(const struct conf_list *servers,
    unsigned timeout_ms, const char *trust_anchor, struct buf *err);
void dns_resolver_free(struct dns_resolver **r);
/* Checks the syntax of servers, as dns_resolver_new() would: 0 or -1 with
 * one line in err. Starts nothing. */
int dns_servers_check(const struct conf_list *servers, struct buf *err);

/* Looks name up (class IN). Always fills out; free it with
 * dns_answer_free(). */
void dns_query(struct dns_resolver *r, const char *name, int rrtype,
    struct dns_answer *out);
void dns_answer_free(struct dns_answer *a);

/* What is known of a domain as a mail destination (Postfix's
 * reject_unknown_*_domain): MX, else A, else AAAA (RFC 5321 5.1). */
enum dns_mailhost {
	DNS_MAILHOST_FOUND,
	DNS_MAILHOST_NOTFOUND, /* no MX, no address: NXDOMAIN or NODATA */
	DNS_MAILHOST_NULLMX,   /* RFC 7505: "MX 0 ." only */
	DNS_MAILHOST_INVALID,  /* a malformed MX record */
	DNS_MAILHOST_TEMPFAIL,
};

/* An MX answer (status DNS_OK): FOUND when a record names a host, NULLMX
 * when the only exchange is the root (RFC 7505 3), INVALID when a record
 * does not parse. */
enum dns_mailhost dns_mx_classify(const struct dns_answer *a);

/* name (UTF-8) as DNS knows it: internationalised labels as A-labels
 * (RFC 5891, "bücher.example" -> "xn--bcher-kva.example"), an ASCII name
 * as it is. malloc'd; NULL when name is no valid IDN. */
char *dns_name_to_ascii(const char *name);

/* Looks domain up as a mail host (UTF-8 names converted first): its MX records first unless
 * address_first (HELO names are hosts), then A and AAAA. */
enum dns_mailhost dns_mailhost_lookup(
    struct dns_resolver *r, const char *domain, bool address_first);

/* "found", "not found", "null MX", "malformed", "temporary failure" */
const char *dns_mailhost_str(enum dns_mailhost m);

#endif
