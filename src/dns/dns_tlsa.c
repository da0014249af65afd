/*
 * TLSA records (see dns_tlsa.h): RFC 6698 2.1 rdata, the RFC 7672 2.2
 * rules that turn an RRset into a TLS policy, and the lookup.
 */
#include "dns/dns_tlsa.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "lib/log.h"
#include "lib/xalloc.h"

enum dns_tlsa_rr
dns_tlsa_rdata(const unsigned char *d, size_t len, struct dns_tlsa *out)
{
	memset(out, 0, sizeof(*out));
	/* RFC 6698 2.1: three octets, then at least one of data */
	if (len < 4)
		return DNS_TLSA_RR_MALFORMED;
	out->usage = d[0];
	out->selector = d[1];
	out->mtype = d[2];
	out->data = d + 3;
	out->len = len - 3;
	/* RFC 7671 10.1.2: a digest of the wrong length matches nothing */
	if ((out->mtype == DNS_TLSA_SHA2_256 && out->len != 32) ||
	    (out->mtype == DNS_TLSA_SHA2_512 && out->len != 64))
		return DNS_TLSA_RR_MALFORMED;
	/* RFC 7672 3.1.3: no PKIX usages in SMTP; RFC 6698 4.1: unknown
	 * parameters make a record unusable */
	if (out->usage != DNS_TLSA_DANE_TA && out->usage != DNS_TLSA_DANE_EE)
		return DNS_TLSA_RR_UNUSABLE;
	if (out->selector > DNS_TLSA_SPKI || out->mtype > DNS_TLSA_SHA2_512)
		return DNS_TLSA_RR_UNUSABLE;
	return DNS_TLSA_RR_USABLE;
}

void
dns_tlsa_classify(const struct dns_answer *a, struct dns_tlsa_set *out)
{
	struct dns_tlsa t;
	size_t i;

	memset(out, 0, sizeof(*out));
	switch (a->status) {
	case DNS_OK:
		break;
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		/* RFC 7672 2.2: no TLSA records, securely or not: the
		 * server is not known to do TLS */
		out->status = DNS_DANE_NONE;
		return;
	case DNS_TEMPFAIL:
	case DNS_INVALID:
	default:
		/* RFC 7672 2.1.1: a failed lookup may hide records: the
		 * host is not used */
		out->status = DNS_DANE_TEMPFAIL;
		return;
	}
	/* RFC 7672 2.2: records that are not secure are not used */
	if (!a->secure) {
		out->status = DNS_DANE_NONE;
		return;
	}
	out->rr = xcalloc(
	    a->n < DNS_TLSA_RECORDS_MAX ? a->n + 1 : DNS_TLSA_RECORDS_MAX,
	    sizeof(*out->rr));
	for (i = 0; i < a->n && out->n < DNS_TLSA_RECORDS_MAX; i++) {
		unsigned char *copy;

		if (a->len[i] < 0 ||
		    dns_tlsa_rdata(a->data[i], (size_t)a->len[i], &t) !=
		        DNS_TLSA_RR_USABLE)
			continue;
		copy = xmalloc(t.len);
		memcpy(copy, t.data, t.len);
		t.data = copy;
		out->rr[out->n++] = t;
	}
	/* RFC 7672 2.2: a secure RRset with no usable record still says
	 * that the server does TLS: encrypt, without authentication */
	out->status = out->n > 0 ? DNS_DANE_USABLE : DNS_DANE_UNUSABLE;
}

void
dns_tlsa_lookup(struct dns_resolver *r, const char *host, unsigned port,
    struct dns_tlsa_set *out)
{
	struct dns_answer a;
	char name[300];
	int n;

	n = snprintf(name, sizeof(name), "_%u._tcp.%s", port, host);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		memset(out, 0, sizeof(*out));
		out->status = DNS_DANE_TEMPFAIL;
		return;
	}
	dns_query(r, name, DNS_TYPE_TLSA, &a);
	dns_tlsa_classify(&a, out);
	dns_answer_free(&a);
}

void
dns_tlsa_set_free(struct dns_tlsa_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free((void *)s->rr[i].data);
	free(s->rr);
	memset(s, 0, sizeof(*s));
}

const char *
dns_dane_str(enum dns_dane d)
{
	switch (d) {
	case DNS_DANE_NONE:
		return "none";
	case DNS_DANE_USABLE:
		return "usable";
	case DNS_DANE_UNUSABLE:
		return "unusable";
	case DNS_DANE_TEMPFAIL:
		break;
	}
	return "temporary failure";
}
