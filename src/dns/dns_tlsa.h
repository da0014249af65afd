/*
 * TLSA records (RFC 6698) for DANE SMTP (RFC 7672): the rdata parser, the
 * verdict on a TLSA RRset (usable records, only unusable ones, none), and
 * the lookup of "_<port>._tcp.<host>". Certificate matching is OpenSSL's
 * (lib/tls_client.c); which hosts are looked up is dns_mx.c's.
 *
 * dns_tlsa_lookup() blocks on DNS: run it on a worker thread. The rest is
 * pure.
 */
#ifndef DNS_DNS_TLSA_H
#define DNS_DNS_TLSA_H

#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct dns_answer;
struct dns_resolver;

/* RFC 7218 2: certificate usages, selectors, matching types */
#define DNS_TLSA_PKIX_TA  0
#define DNS_TLSA_PKIX_EE  1
#define DNS_TLSA_DANE_TA  2
#define DNS_TLSA_DANE_EE  3
#define DNS_TLSA_CERT     0
#define DNS_TLSA_SPKI     1
#define DNS_TLSA_FULL     0
#define DNS_TLSA_SHA2_256 1
#define DNS_TLSA_SHA2_512 2

/* The most usable records kept of one RRset (no RFC limit; Postfix keeps
 * them all, real sets have two to four). */
#define DNS_TLSA_RECORDS_MAX 32

struct dns_tlsa {
	uint8_t usage, selector, mtype;
	const unsigned char *data; /* the association data */
	size_t len;
};

enum dns_tlsa_rr {
	DNS_TLSA_RR_USABLE,    /* DANE-TA or DANE-EE, known selector and type */
	DNS_TLSA_RR_UNUSABLE,  /* well formed, but not for SMTP or unknown */
	DNS_TLSA_RR_MALFORMED, /* too short, or a digest of the wrong length */
};

/*
 * Parses TLSA rdata (RFC 6698 2.1: usage, selector, matching type, then
 * the data). out->data points into d. PKIX-TA(0) and PKIX-EE(1) are
 * unusable for SMTP (RFC 7672 3.1.3), so are unknown usages, selectors and
 * matching types (RFC 6698 4.1); a SHA2-256 digest must have 32 octets, a
 * SHA2-512 one 64, full data at least one (RFC 7671 10.1.2).
 */
enum dns_tlsa_rr dns_tlsa_rdata(
    const unsigned char *d, size_t len, struct dns_tlsa *out);

/* What a TLSA lookup means for the connection (RFC 7672 2.2). */
enum dns_dane {
	DNS_DANE_NONE,     /* insecure, or securely denied: opportunistic */
	DNS_DANE_USABLE,   /* secure, usable records: authenticated TLS */
	DNS_DANE_UNUSABLE, /* secure, no usable record: TLS, no checks */
	DNS_DANE_TEMPFAIL, /* failed or bogus: the host must not be used */
};

/* A TLSA RRset: the usable records, data malloc'd. */
struct dns_tlsa_set {
	enum dns_dane status;
	size_t n;
	struct dns_tlsa *rr;
};

/* The verdict on answer a (pure). Free out with dns_tlsa_set_free(). */
void dns_tlsa_classify(const struct dns_answer *a, struct dns_tlsa_set *out);

/* Looks up "_<port>._tcp.<host>" TLSA (RFC 6698 3) and classifies it. */
void dns_tlsa_lookup(struct dns_resolver *r, const char *host, unsigned port,
    struct dns_tlsa_set *out);
void dns_tlsa_set_free(struct dns_tlsa_set *s);

/* "none", "usable", "unusable", "temporary failure" */
const char *dns_dane_str(enum dns_dane d);

#endif
