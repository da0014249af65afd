/*
 * The SMTP client's TLS policy per server (see smtp_client.h): the level a
 * connection runs at, from the destination's level and, for dane and
 * dane-only, what DNSSEC said of the server (RFC 7672 2.2), and the SSL
 * for the handshake with its DANE records (RFC 7671). The handshake itself
 * and the checks after it are smtp_client.c's.
 */
#include <openssl/ssl.h>
#include <stdio.h>

#include "dns/dns_mx.h"
#include "dns/dns_tlsa.h"
#include "lib/log.h"
#include "lib/tls_client.h"
#include "smtp/smtp_client_private.h"

int
smtp_client_tls_level(const struct smtp_client *c, const struct dns_mx_addr *a,
    char *why, size_t whysz)
{
	enum dns_dane d = a->tlsa != NULL ? a->tlsa->status : DNS_DANE_NONE;

	if (c->dest.tls < TLS_LEVEL_DANE)
		return (int)c->dest.tls;
	switch (d) {
	case DNS_DANE_USABLE:
		return TLS_LEVEL_DANE;
	case DNS_DANE_UNUSABLE:
		/* RFC 7672 2.2: the records say TLS, but cannot
		 * authenticate it: mandatory TLS, no checks */
		if (c->dest.tls == TLS_LEVEL_DANE)
			return TLS_LEVEL_ENCRYPT;
		break;
	case DNS_DANE_NONE:
	case DNS_DANE_TEMPFAIL: /* not in a plan: such hosts are dropped */
		/* RFC 7672 2.2: not secure, or no TLSA records:
		 * opportunistic TLS, as Postfix does */
		if (c->dest.tls == TLS_LEVEL_DANE)
			return TLS_LEVEL_MAY;
		break;
	}
	/* Postfix's dane-only: no usable TLSA records, no delivery */
	smtp_client_fmt(why, whysz,
	    "no usable TLSA records for %s (%s): smtp_tls_security_level is "
	    "dane-only",
	    a->host,
	    a->tlsa == NULL ? (a->secure ? "none" : "not DNSSEC-signed")
	                    : dns_dane_str(d));
	return -1;
}

SSL *
smtp_client_tls_ssl(struct smtp_client *c)
{
	const struct dns_mx_addr *a = &c->plan.v[c->ai];
	const char *names[2] = { NULL, NULL };
	const char *const *np = c->dest.tls_names;
	size_t i, added = 0;
	SSL *ssl;

	if (c->level == TLS_LEVEL_DANE) {
		/* RFC 7672 3.2.2: the MX host name (the TLSA base domain)
		 * and the next-hop domain, as Postfix's "hostname, nexthop" */
		names[0] = c->dest.host;
		np = names;
	}
	ssl = tls_client_ssl_new(c->env->tls, a->host, c->level, np);
	if (ssl == NULL || c->level != TLS_LEVEL_DANE)
		return ssl;
	for (i = 0; i < a->tlsa->n; i++) {
		const struct dns_tlsa *t = &a->tlsa->rr[i];

		if (tls_client_dane_add(ssl, t->usage, t->selector, t->mtype,
		        t->data, t->len) == 1)
			added++;
	}
	if (added == 0) {
		/* RFC 7672 2.2: nothing OpenSSL can match: encrypt */
		log_info("%s: no TLSA record of %s is usable: TLS without "
		         "authentication",
		    c->peer, a->host);
		c->level = TLS_LEVEL_ENCRYPT;
	}
	return ssl;
}
