/*
 * Destinations of the outbound scheduler (see qmgr_remote_private.h):
 * one per next hop, with how to find its servers (MX options, our own
 * addresses for the loop rule), its TLS level from smtp_tls_policy_maps
 * and its credentials from smtp_sasl_password_maps, looked up once when
 * the destination is first used.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/xalloc.h"
#include "policy/maptable.h"
#include "queue/qmgr_private.h"
#include "queue/qmgr_remote_private.h"

int
qmgr_dest_cmp(const void *a, const void *b)
{
	return strcmp(((const struct qmgr_dest *)a)->key,
	    ((const struct qmgr_dest *)b)->key);
}

/* Our own addresses for the MX loop rule (RFC 5321 5.1): those the MX
 * listeners are bound to, with their ports; a wildcard listener means
 * every interface address. */
void
qmgr_remote_own(struct qmgr_remote *r, const struct conf *conf)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct buf err;
	size_t i, cap = 0;
	struct ifaddrs *ifa, *p;

	buf_init(&err, 256);
	for (i = 0; i < conf->smtpd_listen.n; i++) {
		bool any = false;
		unsigned port;

		if (net_parse_hostport(
		        conf->smtpd_listen.items[i], &ss, &len, &err) == -1)
			continue;
		port = net_addr_port((struct sockaddr *)&ss);
		if (ss.ss_family == AF_INET)
			any = ((struct sockaddr_in *)&ss)->sin_addr.s_addr ==
			    htonl(INADDR_ANY);
		else if (ss.ss_family == AF_INET6)
			any = memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr,
			          &in6addr_any, 16) == 0;
		if (!any) {
			if (r->nown == cap) {
				cap = cap ? cap * 2 : 8;
				r->own =
				    xreallocarray(r->own, cap, sizeof(*r->own));
			}
			r->own[r->nown++] = ss;
			continue;
		}
		if (getifaddrs(&ifa) == -1)
			continue;
		for (p = ifa; p != NULL; p = p->ifa_next) {
			if (p->ifa_addr == NULL ||
			    (p->ifa_addr->sa_family != AF_INET &&
			        p->ifa_addr->sa_family != AF_INET6))
				continue;
			if (r->nown == cap) {
				cap = cap ? cap * 2 : 8;
				r->own =
				    xreallocarray(r->own, cap, sizeof(*r->own));
			}
			memset(&r->own[r->nown], 0, sizeof(r->own[r->nown]));
			memcpy(&r->own[r->nown], p->ifa_addr,
			    p->ifa_addr->sa_family == AF_INET
			        ? sizeof(struct sockaddr_in)
			        : sizeof(struct sockaddr_in6));
			if (p->ifa_addr->sa_family == AF_INET)
				((struct sockaddr_in *)&r->own[r->nown])
				    ->sin_port = htons((uint16_t)port);
			else
				((struct sockaddr_in6 *)&r->own[r->nown])
				    ->sin6_port = htons((uint16_t)port);
			r->nown++;
		}
		freeifaddrs(ifa);
	}
	buf_free(&err);
}

/* smtp_tls_policy_maps: the nexthop, then its parent domains as
 * ".parent" (Postfix's lookup order); the first word of the value is the
 * level. */
static enum tls_level
qmgr_tls_level(struct qmgr_remote *r, const struct route *rt)
{
	int deflt = tls_level_parse(r->q->conf->smtp_tls_security_level);
	struct buf val, err, key;
	const char *d;
	size_t i;
	int rc, lvl = -1;

	if (r->ntls_policy == 0)
		return (enum tls_level)deflt;
	buf_init(&val, 1024);
	buf_init(&err, 512);
	buf_init(&key, 600);
	if (!rt->mx)
		(void)!buf_printf(&key, "[%s]", rt->host);
	else
		(void)!buf_append_str(&key, rt->host);
	for (d = NULL;;) {
		for (i = 0; i < r->ntls_policy; i++) {
			rc = maptable_lookup(
			    r->tls_policy[i], buf_cstr(&key), &val, &err);
			if (rc == 0) {
				char word[16];
				size_t n = strcspn(buf_cstr(&val), " \t");

				(void)snprintf(word, sizeof(word), "%.*s",
				    (int)(n < 15 ? n : 15), buf_cstr(&val));
				lvl = tls_level_parse(word);
				if (lvl == -1)
					log_warn("smtp_tls_policy_maps: %s: "
					         "unknown level \"%s\"",
					    buf_cstr(&key),
					    log_sanitize_str(word));
				goto out;
			}
		}
		if (!rt->mx)
			break;
		d = strchr(d == NULL ? rt->host : d + 1, '.');
		if (d == NULL)
			break;
		buf_reset(&key);
		if (buf_append_str(&key, d) == -1)
			break;
	}
out:
	buf_free(&key);
	buf_free(&err);
	buf_free(&val);
	return (enum tls_level)(lvl >= 0 ? lvl : deflt);
}

/* smtp_sasl_password_maps: the nexthop as written ("[host]:port",
 * "[host]", "host:port"), then the bare host (Postfix's order); the value
 * is "user:password". */
static void
qmgr_dest_sasl(struct qmgr_remote *r, struct qmgr_dest *d)
{
	const struct route *rt = &d->route;
	char keys[3][300];
	struct buf val, err;
	size_t nk = 0, i, k;
	const char *colon;

	if (r->nsasl_maps == 0)
		return;
	if (rt->port != 0)
		(void)snprintf(keys[nk++], sizeof(keys[0]),
		    rt->mx ? "%s:%u" : "[%s]:%u", rt->host, rt->port);
	if (!rt->mx)
		(void)snprintf(keys[nk++], sizeof(keys[0]), "[%s]", rt->host);
	(void)snprintf(keys[nk++], sizeof(keys[0]), "%s", rt->host);
	buf_init(&val, 4096);
	buf_init(&err, 512);
	for (k = 0; k < nk; k++)
		for (i = 0; i < r->nsasl_maps; i++) {
			int rc = maptable_lookup(
			    r->sasl_maps[i], keys[k], &val, &err);

			if (rc == -1)
				log_warn("smtp_sasl_password_maps: %s",
				    buf_cstr(&err));
			if (rc != 0)
				continue;
			colon = strchr(buf_cstr(&val), ':');
			if (colon == NULL) {
				log_warn("smtp_sasl_password_maps: %s: the "
				         "value is not user:password",
				    keys[k]);
				continue;
			}
			d->sasl_user = xstrndup(
			    buf_cstr(&val), (size_t)(colon - buf_cstr(&val)));
			d->sasl_pass = xstrdup(colon + 1);
			goto out;
		}
out:
	buf_wipe(&val);
	buf_free(&val);
	buf_free(&err);
}

struct qmgr_dest *
qmgr_dest_get(struct qmgr_remote *r, const struct qmgr_rdest *rd)
{
	struct qmgr_dest key, *d;
	void *node;

	(void)snprintf(key.key, sizeof(key.key), "%s", rd->key);
	node = tfind(&key, &r->dests, qmgr_dest_cmp);
	if (node != NULL)
		return *(struct qmgr_dest **)node;
	d = xcalloc(1, sizeof(*d));
	(void)snprintf(d->key, sizeof(d->key), "%s", rd->key);
	d->route = rd->route;
	d->mx.mx = rd->route.mx;
	d->mx.port = rd->route.port != 0 ? rd->route.port
	                                 : (unsigned)r->q->conf->smtp_tcp_port;
	d->mx.v4 = r->v4;
	d->mx.v6 = r->v6;
	d->mx.prefer = r->prefer;
	d->mx.max_addrs = (size_t)r->q->conf->smtp_mx_address_limit;
	d->mx.own = r->own;
	d->mx.nown = r->nown;
	d->tls = qmgr_tls_level(r, &d->route);
	qmgr_dest_sasl(r, d);
	d->window = (size_t)r->q->conf->smtp_initial_destination_concurrency;
	d->next_all = r->all;
	r->all = d;
	if (tsearch(d, &r->dests, qmgr_dest_cmp) == NULL)
		log_fatal("queue: out of memory");
	return d;
}
