/*
 * MX selection (see dns_mx.h): rdata parsing, RFC 5321 5.1 ordering and
 * the loop rule, RFC 7505 null MX, and the address lookups of each
 * exchange through dns_query().
 */
#include "dns/dns_mx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "dns/dns_tlsa.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

/* RFC 5321 5.1 asks for no limit but sanity: Postfix's smtp_mx_session_limit
 * is 2, its address limit 5; we read at most this many MX records. */
#define DNS_MX_RECORDS_MAX 64

int
dns_mx_rdata(const unsigned char *d, size_t len, struct dns_mx *out)
{
	size_t off, o = 0;

	if (len < 3)
		return -1;
	out->pref = (unsigned)d[0] << 8 | d[1];
	for (off = 2; off < len && d[off] != 0; off += 1 + d[off]) {
		size_t l = d[off], i;

		if (l > 63 || off + 1 + l >= len)
			return -1;
		if (o + l + 1 >= sizeof(out->host))
			return -1;
		if (o > 0)
			out->host[o++] = '.';
		for (i = 0; i < l; i++) {
			unsigned char c = d[off + 1 + i];

			/* a host name (RFC 952/1123): what else would we
			 * connect to? */
			if (c <= ' ' || c >= 0x7f || c == '.' || c == '\\')
				return -1;
			out->host[o++] =
			    (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		}
	}
	/* RFC 1035 2.3.4: 255 octets in wire form */
	if (off != len - 1 || off - 2 + 1 > 255)
		return -1;
	out->host[o] = '\0';
	return 0;
}

void
dns_mx_order(struct dns_mx *v, size_t n, uint64_t (*rnd)(void *), void *rnd_arg)
{
	size_t i, j, k;
	struct dns_mx t;

	/* insertion sort: n is small and bounded */
	for (i = 1; i < n; i++) {
		t = v[i];
		for (j = i; j > 0 && v[j - 1].pref > t.pref; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
	/* Fisher-Yates within each run of equal preference */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].pref == v[i].pref; j++)
			;
		for (k = j - 1; k > i; k--) {
			size_t r = i + (size_t)(rnd(rnd_arg) % (k - i + 1));

			t = v[k];
			v[k] = v[r];
			v[r] = t;
		}
	}
}

bool
dns_addr_is_own(const struct sockaddr_storage *ss,
    const struct sockaddr_storage *own, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (own[i].ss_family != ss->ss_family)
			continue;
		if (ss->ss_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)ss;
			const struct sockaddr_in *b = (const void *)&own[i];

			if (a->sin_addr.s_addr == b->sin_addr.s_addr &&
			    (b->sin_port == 0 || a->sin_port == b->sin_port))
				return true;
		} else if (ss->ss_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const void *)ss;
			const struct sockaddr_in6 *b = (const void *)&own[i];

			if (memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0 &&
			    (b->sin6_port == 0 || a->sin6_port == b->sin6_port))
				return true;
		}
	}
	return false;
}

static void
dns_mx_push(struct dns_mx_plan *p, size_t *cap, unsigned pref, const char *host,
    const struct sockaddr_storage *ss, socklen_t len)
{
	if (p->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		p->v = xreallocarray(p->v, *cap, sizeof(*p->v));
	}
	memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
	p->v[p->n].pref = pref;
	(void)snprintf(p->v[p->n].host, sizeof(p->v[p->n].host), "%s", host);
	memcpy(&p->v[p->n].ss, ss, len);
	p->v[p->n].sslen = len;
	p->n++;
}

/* The addresses of one host, in the preferred family order. Returns the
 * DNS status that counts for the host: OK (some), NXDOMAIN/NODATA (none
 * for good), TEMPFAIL. */
static enum dns_status
dns_mx_host_addrs(struct dns_resolver *r, const char *host,
    const struct dns_mx_opts *o, struct sockaddr_storage *out, size_t max,
    size_t *n_out, bool *secure_out)
{
	int fam[2], nfam = 0, i;
	enum dns_status st = DNS_NXDOMAIN;
	bool temp = false, secure = true;
	size_t n = 0, k;

	*n_out = 0;
	if (o->prefer == 6) {
		if (o->v6)
			fam[nfam++] = AF_INET6;
		if (o->v4)
			fam[nfam++] = AF_INET;
	} else {
		if (o->v4)
			fam[nfam++] = AF_INET;
		if (o->v6)
			fam[nfam++] = AF_INET6;
	}
	for (i = 0; i < nfam; i++) {
		struct dns_answer a;

		dns_query(r, host,
		    fam[i] == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA, &a);
		if (a.status == DNS_TEMPFAIL)
			temp = true;
		else if (a.status == DNS_NODATA && st == DNS_NXDOMAIN)
			st = DNS_NODATA;
		if (a.status == DNS_OK && !a.secure)
			secure = false;
		for (k = 0; a.status == DNS_OK && k < a.n && n < max; k++) {
			struct sockaddr_storage *ss = &out[n];

			memset(ss, 0, sizeof(*ss));
			if (fam[i] == AF_INET && a.len[k] == 4) {
				struct sockaddr_in *s4 = (void *)ss;

				s4->sin_family = AF_INET;
				s4->sin_port = htons((uint16_t)o->port);
				memcpy(&s4->sin_addr, a.data[k], 4);
				n++;
			} else if (fam[i] == AF_INET6 && a.len[k] == 16) {
				struct sockaddr_in6 *s6 = (void *)ss;

				s6->sin6_family = AF_INET6;
				s6->sin6_port = htons((uint16_t)o->port);
				memcpy(&s6->sin6_addr, a.data[k], 16);
				n++;
			}
		}
		dns_answer_free(&a);
	}
	/* "any": shuffle nothing, but interleave is not needed; Postfix
	 * sorts by family only for ipv4/ipv6 preference */
	*n_out = n;
	*secure_out = n > 0 && secure;
	if (n > 0)
		return DNS_OK;
	return temp ? DNS_TEMPFAIL : st;
}

static socklen_t
dns_ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in)
	                                : sizeof(struct sockaddr_in6);
}

/* A literal host ("192.0.2.1", "2001:db8::1"): its one address. */
static bool
dns_mx_literal(const char *host, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return true;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return true;
	}
	return false;
}

static uint64_t
dns_mx_rnd(void *arg)
{
	(void)arg;
	return (uint64_t)arc4random() << 32 | arc4random();
}

/* RFC 7672 2.2: the TLSA records of a host found securely, kept in p.
 * False when the lookup failed: the host must not be used. */
static bool
dns_mx_tlsa(struct dns_resolver *r, const char *domain, const char *host,
    const struct dns_mx_opts *o, struct dns_mx_plan *p,
    const struct dns_tlsa_set **out)
{
	struct dns_tlsa_set *s = xcalloc(1, sizeof(*s));

	dns_tlsa_lookup(r, host, o->port, s);
	if (s->status == DNS_DANE_TEMPFAIL) {
		log_info("%s: TLSA lookup error for %s:%u",
		    log_sanitize_str(domain), log_sanitize_str(host), o->port);
		free(s);
		return false;
	}
	p->tlsa = xreallocarray(p->tlsa, p->ntlsa + 1, sizeof(*p->tlsa));
	p->tlsa[p->ntlsa++] = s;
	*out = s;
	return true;
}

/* Adds the addresses of the hosts in mx[0..nmx) to p, applying the loop
 * rule; sets p->status. mx_secure: the MX lookup was secure. */
static void
dns_mx_resolve_hosts(struct dns_resolver *r, const char *domain,
    const struct dns_mx *mx, size_t nmx, bool mx_secure,
    const struct dns_mx_opts *o, struct dns_mx_plan *p)
{
	struct sockaddr_storage addrs[16];
	size_t cap = 0, i, k, n;
	bool temp = false, loop = false, secure, tlsa_temp = false;
	unsigned cut = 0;
	enum dns_status st;
	const struct dns_tlsa_set *tlsa;

	for (i = 0; i < nmx; i++) {
		if (loop && mx[i].pref >= cut)
			break;
		if (dns_mx_literal(mx[i].host, o->port, &addrs[0])) {
			/* an MX must name a host (RFC 5321 5.1); an address
			 * used as a name is tolerated as Postfix does not:
			 * it is looked up as a name and fails */
			if (o->mx)
				continue;
			st = DNS_OK;
			n = 1;
			secure = false; /* no name: no TLSA base domain */
		} else
			st = dns_mx_host_addrs(r, mx[i].host, o, addrs,
			    sizeof(addrs) / sizeof(addrs[0]), &n, &secure);
		secure = secure && mx_secure;
		if (st == DNS_TEMPFAIL) {
			temp = true;
			log_info("%s: MX host %s: temporary DNS failure",
			    log_sanitize_str(domain),
			    log_sanitize_str(mx[i].host));
			continue;
		}
		if (st != DNS_OK) {
			/* RFC 5321 5.1: a host that does not resolve is
			 * skipped */
			log_info("%s: MX host %s has no address",
			    log_sanitize_str(domain),
			    log_sanitize_str(mx[i].host));
			continue;
		}
		for (k = 0; k < n; k++)
			if (o->mx &&
			    dns_addr_is_own(&addrs[k], o->own, o->nown))
				break;
		if (k < n) {
			/* RFC 5321 5.1: drop this MX and every one that is
			 * not more preferred */
			loop = true;
			cut = mx[i].pref;
			while (p->n > 0 && p->v[p->n - 1].pref >= cut)
				p->n--;
			continue;
		}
		if (o->max_addrs != 0 && p->n >= o->max_addrs)
			continue;
		tlsa = NULL;
		if (o->dane && secure &&
		    !dns_mx_tlsa(r, domain, mx[i].host, o, p, &tlsa)) {
			temp = tlsa_temp = true;
			continue;
		}
		for (k = 0; k < n; k++) {
			if (o->max_addrs != 0 && p->n >= o->max_addrs)
				break;
			dns_mx_push(p, &cap, mx[i].pref, mx[i].host, &addrs[k],
			    dns_ss_len(&addrs[k]));
			p->v[p->n - 1].secure = secure;
			p->v[p->n - 1].tlsa = tlsa;
		}
	}
	if (p->n > 0) {
		p->status = DNS_MX_OK;
		return;
	}
	if (loop) {
		p->status = DNS_MX_LOOP;
		(void)snprintf(p->why, sizeof(p->why),
		    "mail for %s loops back to myself",
		    log_sanitize_str(domain));
	} else if (tlsa_temp) {
		p->status = DNS_MX_TEMPFAIL;
		(void)snprintf(p->why, sizeof(p->why),
		    "TLSA lookup error for %s:%u",
		    log_sanitize_str(nmx == 1 ? mx[0].host : domain), o->port);
	} else if (temp) {
		p->status = DNS_MX_TEMPFAIL;
		(void)snprintf(p->why, sizeof(p->why),
		    "Host or domain name not found. Name service error for "
		    "name=%s: temporary failure",
		    log_sanitize_str(nmx == 1 ? mx[0].host : domain));
	} else {
		p->status = nmx == 1 && strcmp(mx[0].host, domain) == 0
		    ? DNS_MX_NOTFOUND
		    : DNS_MX_NOHOST;
		(void)snprintf(p->why, sizeof(p->why),
		    "Host or domain name not found. Name service error for "
		    "name=%s type=%s: Host not found",
		    log_sanitize_str(nmx == 1 ? mx[0].host : domain),
		    nmx == 1 && strcmp(mx[0].host, domain) == 0 ? "A" : "MX");
	}
}

void
dns_mx_plan(struct dns_resolver *r, const char *domain,
    const struct dns_mx_opts *o, struct dns_mx_plan *out)
{
	struct dns_answer a;
	struct dns_mx *mx = NULL, self;
	size_t nmx = 0, i;
	bool null = false, secure;
	char *name;

	memset(out, 0, sizeof(*out));
	out->status = DNS_MX_TEMPFAIL;
	if ((name = dns_name_to_ascii(domain)) == NULL) {
		out->status = DNS_MX_NOTFOUND;
		(void)snprintf(out->why, sizeof(out->why),
		    "%s is not a valid domain name", log_sanitize_str(domain));
		return;
	}
	memset(&self, 0, sizeof(self));
	(void)snprintf(self.host, sizeof(self.host), "%s", name);
	if (!o->mx) {
		/* [host]: no MX lookup to be insecure (RFC 7672 2.2.2) */
		dns_mx_resolve_hosts(r, name, &self, 1, true, o, out);
		goto out;
	}
	dns_query(r, name, DNS_TYPE_MX, &a);
	switch (a.status) {
	case DNS_OK:
		secure = a.secure;
		mx = xcalloc(
		    a.n < DNS_MX_RECORDS_MAX ? a.n + 1 : DNS_MX_RECORDS_MAX,
		    sizeof(*mx));
		for (i = 0; i < a.n && nmx < DNS_MX_RECORDS_MAX; i++) {
			if (a.len[i] < 0 ||
			    dns_mx_rdata(
			        a.data[i], (size_t)a.len[i], &mx[nmx]) == -1)
				continue; /* malformed: ignored */
			if (mx[nmx].host[0] == '\0')
				null = true; /* RFC 7505 3: "." */
			else
				nmx++;
		}
		dns_answer_free(&a);
		if (nmx == 0 && null) {
			/* RFC 7505 4.2: 550 5.1.10 for a null MX */
			out->status = DNS_MX_NULLMX;
			(void)snprintf(out->why, sizeof(out->why),
			    "Domain %s does not accept mail (nullMX)",
			    log_sanitize_str(domain));
			goto out;
		}
		if (nmx == 0) {
			out->status = DNS_MX_TEMPFAIL;
			(void)snprintf(out->why, sizeof(out->why),
			    "malformed MX records for %s",
			    log_sanitize_str(domain));
			goto out;
		}
		dns_mx_order(mx, nmx, dns_mx_rnd, NULL);
		dns_mx_resolve_hosts(r, domain, mx, nmx, secure, o, out);
		break;
	case DNS_NODATA:
		/* RFC 5321 5.1: no MX: the domain itself, preference 0;
		 * DANE when the MX denial was secure too (RFC 7672 2.2.2) */
		secure = a.secure;
		dns_answer_free(&a);
		dns_mx_resolve_hosts(r, name, &self, 1, secure, o, out);
		break;
	case DNS_NXDOMAIN:
	case DNS_INVALID:
		dns_answer_free(&a);
		out->status = DNS_MX_NOTFOUND;
		(void)snprintf(out->why, sizeof(out->why),
		    "Host or domain name not found. Name service error for "
		    "name=%s type=MX: Host not found",
		    log_sanitize_str(domain));
		break;
	case DNS_TEMPFAIL:
		dns_answer_free(&a);
		out->status = DNS_MX_TEMPFAIL;
		(void)snprintf(out->why, sizeof(out->why),
		    "Host or domain name not found. Name service error for "
		    "name=%s type=MX: Host not found, try again",
		    log_sanitize_str(domain));
		break;
	}
out:
	free(mx);
	free(name);
}

void
dns_mx_plan_free(struct dns_mx_plan *p)
{
	size_t i;

	for (i = 0; i < p->ntlsa; i++) {
		dns_tlsa_set_free(p->tlsa[i]);
		free(p->tlsa[i]);
	}
	free(p->tlsa);
	p->tlsa = NULL;
	p->ntlsa = 0;
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
