/*
 * The client side of TLS (OpenSSL 3) for the SMTP client: one context per
 * process (trust anchors from smtp_tls_CAfile or the system store, the
 * protocol floor of smtp_tls_mandatory_protocols), per-connection SSL
 * objects with SNI and, for the verify and secure levels, the expected
 * peer name, for DANE (RFC 7671, RFC 7672) the TLSA records matched by
 * OpenSSL's DANE verifier; and the trust verdict Postfix logs
 * ("Verified", "Trusted", "Untrusted", "Anonymous").
 */
#ifndef LIB_TLS_CLIENT_H
#define LIB_TLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct conf;
struct tls_client;
typedef struct ssl_st SSL;

/* Postfix's smtp_tls_security_level values. */
enum tls_level {
	TLS_LEVEL_NONE,
	TLS_LEVEL_MAY,     /* STARTTLS when offered; no checks */
	TLS_LEVEL_ENCRYPT, /* TLS required; no checks */
	TLS_LEVEL_VERIFY,  /* TLS, a trusted chain, the name checked */
	TLS_LEVEL_SECURE,  /* as verify (names: the nexthop and its subdomains)
	                    */
	/* RFC 7672: per MX host, with usable secure TLSA records TLS
	 * authenticated by them; else encrypt or may (dns_tlsa.h). As a
	 * connection's level: TLS matched against the records added with
	 * tls_client_dane_add() */
	TLS_LEVEL_DANE,
	TLS_LEVEL_DANE_ONLY, /* as dane, but a host without usable TLSA
	                      * records is not used */
};

/* "none", ... -> level; -1 when unknown. */
int tls_level_parse(const char *s);
const char *tls_level_name(enum tls_level l);

/* Builds the context. NULL with one line in err. */
struct tls_client *tls_client_new(const struct conf *conf, struct buf *err);
void tls_client_free(struct tls_client **tc);
/*
 * A new SSL for a connection to host (SNI when host is a name). For
 * TLS_LEVEL_VERIFY and SECURE, the certificate must match one of names
 * (NULL-terminated; host itself when NULL). For TLS_LEVEL_DANE, host is
 * the TLSA base domain (RFC 7671 7) and names are more reference
 * identifiers for DANE-TA(2) (RFC 7672 3.2.2); DANE-EE(3) checks no name
 * (RFC 7672 3.1.1). NULL on failure.
 */
SSL *tls_client_ssl_new(struct tls_client *tc, const char *host,
    enum tls_level level, const char *const *names);
/* Adds one TLSA record to an SSL of TLS_LEVEL_DANE: 1 when added, 0 when
 * OpenSSL cannot use it (an unknown digest), -1 when it is malformed. */
int tls_client_dane_add(SSL *ssl, unsigned usage, unsigned selector,
    unsigned mtype, const unsigned char *data, size_t len);

enum tls_trust {
	TLS_TRUST_ANONYMOUS, /* no certificate */
	TLS_TRUST_UNTRUSTED, /* a chain that does not verify */
	TLS_TRUST_TRUSTED,   /* a chain that verifies; name not checked */
	TLS_TRUST_VERIFIED,  /* chain and name verified, or a DANE match */
};

/* After the handshake: what the peer proved, given the level asked. */
enum tls_trust tls_client_trust(SSL *ssl, enum tls_level level);
/* "Anonymous", "Untrusted", "Trusted", "Verified" */
const char *tls_trust_name(enum tls_trust t);
/* The verification failure, for logs ("certificate verify failed: ...") */
void tls_client_verify_error(SSL *ssl, struct buf *out);

#endif
