/*
 * Routing of non-local mail (see route.h): the transport(5) entry parser,
 * the lookup order of transport_maps, relay_domains matching and the
 * relayhost / default_transport fallbacks.
 */
#include "delivery/route.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "policy/maptable.h"

struct router {
	const struct conf *conf;
	struct maptable **transport; /* transport_maps */
	size_t ntransport;
	struct maptable **relay_tables; /* type:table items of relay_domains */
	size_t nrelay_tables;
	char **relay_names; /* the plain domain items of relay_domains */
	size_t nrelay_names;
	struct route relayhost; /* transport SMTP, host "" when unset */
	struct route deflt;     /* default_transport */
};

/* A host name or address as a nexthop may hold: no spaces, brackets,
 * controls or '@'; not empty. */
static bool
route_host_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= ROUTE_HOST_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '@' ||
		    c == ',' || c == '/' || c == '\\')
			return false;
	}
	return true;
}

int
route_parse_nexthop(const char *s, struct route *out, const char **errstr_out)
{
	const char *host = s, *port = NULL, *close;
	size_t hlen;
	uint64_t p;
	unsigned char bin[16];

	out->host[0] = '\0';
	out->port = 0;
	out->mx = true;
	if (s[0] == '[') {
		/* RFC 5321 4.1.3 address literals; Postfix also takes
		 * "[ipv6:...]" */
		if ((close = strchr(s, ']')) == NULL) {
			*errstr_out = "a '[' without its ']'";
			return -1;
		}
		host = s + 1;
		hlen = (size_t)(close - host);
		if (hlen > 5 && ascii_eq_n(host, "ipv6:", 5)) {
			host += 5;
			hlen -= 5;
		}
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0') {
			*errstr_out = "text after ']' that is not :port";
			return -1;
		}
		out->mx = false;
	} else {
		const char *colon = strchr(s, ':');

		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (colon != NULL)
			port = colon + 1;
	}
	if (!route_host_ok(host, hlen)) {
		*errstr_out = "not a host name or address";
		return -1;
	}
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	if (!out->mx && strchr(out->host, ':') != NULL &&
	    inet_pton(AF_INET6, out->host, bin) != 1) {
		*errstr_out = "not an IPv6 address";
		return -1;
	}
	if (out->mx && strchr(out->host, ':') != NULL) {
		*errstr_out = "more than one ':'";
		return -1;
	}
	if (port != NULL) {
		if (parse_uint(port, 1, 65535, &p) == -1) {
			*errstr_out = "the port is not a number (1..65535)";
			return -1;
		}
		out->port = (unsigned)p;
	}
	ascii_lower(out->host);
	return 0;
}

int
route_parse_entry(const char *s, struct route *out, const char **errstr_out)
{
	const char *colon = strchr(s, ':');
	size_t tlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	const char *rest = colon != NULL ? colon + 1 : "";

	memset(out, 0, sizeof(*out));
	out->mx = true;
	if (tlen == 0 || (tlen == 4 && ascii_eq_n(s, "smtp", 4)) ||
	    (tlen == 5 && ascii_eq_n(s, "relay", 5))) {
		out->transport = ROUTE_SMTP;
		if (*rest == '\0')
			return 0;
		return route_parse_nexthop(rest, out, errstr_out);
	}
	if (tlen == 5 && ascii_eq_n(s, "local", 5)) {
		out->transport = ROUTE_LOCAL;
		return 0;
	}
	if ((tlen == 5 && ascii_eq_n(s, "error", 5)) ||
	    (tlen == 5 && ascii_eq_n(s, "retry", 5))) {
		const char *t = *rest != '\0' ? rest
		    : s[0] == 'e' || s[0] == 'E'
		    ? "mail for this destination is not deliverable"
		    : "mail for this destination is deferred";
		size_t i;

		out->transport =
		    (s[0] == 'e' || s[0] == 'E') ? ROUTE_ERROR : ROUTE_RETRY;
		(void)snprintf(out->text, sizeof(out->text), "%s", t);
		for (i = 0; out->text[i] != '\0'; i++)
			if ((unsigned char)out->text[i] < 0x20 ||
			    (unsigned char)out->text[i] == 0x7f)
				out->text[i] = '?';
		return 0;
	}
	*errstr_out = "unknown transport (smtp, relay, local, error, retry)";
	return -1;
}

void
route_describe(const struct route *rt, char *out, size_t outsz)
{
	switch (rt->transport) {
	case ROUTE_SMTP:
		if (rt->port != 0)
			(void)snprintf(out, outsz,
			    rt->mx ? "smtp:%s:%u" : "smtp:[%s]:%u", rt->host,
			    rt->port);
		else
			(void)snprintf(out, outsz,
			    rt->mx ? "smtp:%s" : "smtp:[%s]", rt->host);
		break;
	case ROUTE_LOCAL:
		(void)snprintf(out, outsz, "local:");
		break;
	case ROUTE_ERROR:
		(void)snprintf(out, outsz, "error:%s", rt->text);
		break;
	case ROUTE_RETRY:
		(void)snprintf(out, outsz, "retry:%s", rt->text);
		break;
	}
}

/* domain equals name or (unless name starts with '.') is below it;
 * ".name" matches only below. Case-insensitive; trailing dots ignored. */
static bool
route_domain_match(const char *name, const char *domain)
{
	size_t nn = strlen(name), nd = strlen(domain);
	bool sub_only = nn > 0 && name[0] == '.';

	if (nn > 0 && name[nn - 1] == '.')
		nn--;
	if (nd > 0 && domain[nd - 1] == '.')
		nd--;
	if (sub_only) {
		name++;
		nn--;
	}
	if (nn == 0)
		return false;
	if (!sub_only && nd == nn && ascii_eq_n(name, domain, nn))
		return true;
	return nd > nn && domain[nd - nn - 1] == '.' &&
	    ascii_eq_n(name, domain + nd - nn, nn);
}

bool
route_domain_listed(const char *const *items, size_t n, const char *domain)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (route_domain_match(items[i], domain))
			return true;
	return false;
}

static void
router_tables_free(struct maptable **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		maptable_free(&v[i]);
	free(v);
}

void
router_free(struct router **rp)
{
	struct router *r = *rp;
	size_t i;

	if (r == NULL)
		return;
	router_tables_free(r->transport, r->ntransport);
	router_tables_free(r->relay_tables, r->nrelay_tables);
	for (i = 0; i < r->nrelay_names; i++)
		free(r->relay_names[i]);
	free(r->relay_names);
	free(r);
	*rp = NULL;
}

struct router *
router_new(const struct conf *conf, struct buf *err)
{
	struct router *r = xcalloc(1, sizeof(*r));
	const char *why = NULL;
	size_t i;

	r->conf = conf;
	r->transport =
	    xcalloc(conf->transport_maps.n + 1, sizeof(*r->transport));
	for (i = 0; i < conf->transport_maps.n; i++) {
		r->transport[i] =
		    maptable_open(conf->transport_maps.items[i], err);
		if (r->transport[i] == NULL)
			goto fail;
		r->ntransport++;
	}
	r->relay_tables =
	    xcalloc(conf->relay_domains.n + 1, sizeof(*r->relay_tables));
	r->relay_names =
	    xcalloc(conf->relay_domains.n + 1, sizeof(*r->relay_names));
	for (i = 0; i < conf->relay_domains.n; i++) {
		const char *it = conf->relay_domains.items[i];

		if (strchr(it, ':') != NULL || it[0] == '/') {
			struct maptable *t = maptable_open(it, err);

			if (t == NULL)
				goto fail;
			r->relay_tables[r->nrelay_tables++] = t;
		} else
			r->relay_names[r->nrelay_names++] = xstrdup(it);
	}
	r->relayhost.transport = ROUTE_SMTP;
	if (conf->relayhost[0] != '\0' &&
	    route_parse_nexthop(conf->relayhost, &r->relayhost, &why) == -1) {
		buf_reset(err);
		(void)!buf_printf(err,
		    "relayhost: \"%s\": %s (write host, host:port, [host] or "
		    "[host]:port)",
		    log_sanitize_str(conf->relayhost), why);
		goto fail;
	}
	if (route_parse_entry(conf->default_transport, &r->deflt, &why) == -1 ||
	    (r->deflt.transport == ROUTE_LOCAL &&
	        (why = "local: is not a "
	               "default transport"))) {
		buf_reset(err);
		(void)!buf_printf(err,
		    "default_transport: \"%s\": %s (write smtp, smtp:nexthop "
		    "or error:text)",
		    log_sanitize_str(conf->default_transport), why);
		goto fail;
	}
	return r;
fail:
	router_free(&r);
	return NULL;
}

/* Looks key up in the transport tables: 0 found (entry in val), 1 not
 * found, -1 failure. */
static int
router_table_get(
    struct router *r, const char *key, struct buf *val, struct buf *err)
{
	size_t i;
	int rc;

	for (i = 0; i < r->ntransport; i++) {
		rc = maptable_lookup(r->transport[i], key, val, err);
		if (rc != 1)
			return rc;
	}
	return 1;
}

/* transport(5) lookup order; 0 found, 1 not found, -1 failure. */
static int
router_transport_find(struct router *r, const char *address, const char *domain,
    struct buf *val, struct buf *err)
{
	struct buf key;
	const char *d;
	int rc;

	if (r->ntransport == 0)
		return 1;
	if ((rc = router_table_get(r, address, val, err)) != 1 ||
	    (rc = router_table_get(r, domain, val, err)) != 1)
		return rc;
	buf_init(&key, ROUTE_HOST_MAX * 2);
	for (d = strchr(domain, '.'); d != NULL; d = strchr(d + 1, '.')) {
		buf_reset(&key);
		if (buf_append_str(&key, d) == -1)
			break;
		if ((rc = router_table_get(r, buf_cstr(&key), val, err)) != 1)
			goto out;
	}
	rc = router_table_get(r, "*", val, err);
out:
	buf_free(&key);
	return rc;
}

enum route_answer
router_is_relay_domain(struct router *r, const char *domain)
{
	struct buf val, err;
	const char *d;
	enum route_answer ans = ROUTE_NO;
	size_t i;
	int rc;

	if (route_domain_listed(
	        (const char *const *)r->relay_names, r->nrelay_names, domain))
		return ROUTE_YES;
	if (r->nrelay_tables == 0)
		return ROUTE_NO;
	buf_init(&val, 4096);
	buf_init(&err, 1024);
	/* the domain, then each parent (Postfix: relay_domains is in
	 * parent_domain_matches_transport_maps) */
	for (d = domain; d != NULL && ans == ROUTE_NO;
	     d = (d = strchr(d, '.')) != NULL ? d + 1 : NULL) {
		for (i = 0; i < r->nrelay_tables; i++) {
			rc = maptable_lookup(r->relay_tables[i], d, &val, &err);
			if (rc == 0) {
				ans = ROUTE_YES;
				break;
			}
			if (rc == -1) {
				log_warn("relay_domains: %s", buf_cstr(&err));
				ans = ROUTE_TEMPFAIL;
				break;
			}
		}
	}
	buf_free(&err);
	buf_free(&val);
	return ans;
}

int
router_lookup(
    struct router *r, const char *address, struct route *out, struct buf *err)
{
	const char *at = strrchr(address, '@');
	const char *domain = at != NULL ? at + 1 : "";
	const char *why = NULL;
	struct buf val;
	int rc, ret = -1;

	buf_init(&val, 4096);
	rc = router_transport_find(r, address, domain, &val, err);
	if (rc == -1)
		goto out;
	if (rc == 0) {
		const char *v = buf_cstr(&val);

		if (route_parse_entry(v, out, &why) == -1) {
			buf_reset(err);
			(void)!buf_printf(err,
			    "transport_maps: bad entry \"%s\" for %s: %s",
			    log_sanitize_str(v), log_sanitize_str(domain), why);
			goto out;
		}
		/* transport(5): a null transport and null nexthop mean "as
		 * if the table did not exist"; a null transport with a
		 * nexthop keeps the default transport; a transport with a
		 * null nexthop means the recipient domain */
		if (v[0] == ':' && v[1] == '\0')
			rc = 1;
		else if (v[0] == ':' && r->deflt.transport != ROUTE_SMTP)
			*out = r->deflt;
	}
	if (rc == 1) {
		switch (router_is_relay_domain(r, domain)) {
		case ROUTE_TEMPFAIL:
			buf_reset(err);
			(void)!buf_printf(err, "relay_domains lookup failed");
			goto out;
		case ROUTE_YES:
			/* relay_transport (smtp) to the domain, or to
			 * relayhost: Postfix's resolve.c lets relayhost
			 * override the domain of every non-local address */
			memset(out, 0, sizeof(*out));
			out->transport = ROUTE_SMTP;
			out->mx = true;
			if (r->relayhost.host[0] != '\0')
				*out = r->relayhost;
			break;
		case ROUTE_NO:
			/* postconf(5): default_transport's own nexthop
			 * overrules relayhost */
			if (r->deflt.transport == ROUTE_SMTP &&
			    r->deflt.host[0] == '\0' &&
			    r->relayhost.host[0] != '\0')
				*out = r->relayhost;
			else
				*out = r->deflt;
			break;
		}
	}
	if (out->transport == ROUTE_SMTP && out->host[0] == '\0') {
		if (strlen(domain) >= sizeof(out->host) || domain[0] == '\0') {
			buf_reset(err);
			(void)!buf_printf(err, "<%s>: no domain to deliver to",
			    log_sanitize_str(address));
			goto out;
		}
		(void)snprintf(out->host, sizeof(out->host), "%s", domain);
		out->mx = true;
	}
	ret = 0;
out:
	buf_free(&val);
	return ret;
}
