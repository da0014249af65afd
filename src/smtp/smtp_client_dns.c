/*
 * The SMTP client's DNS step: the MX plan (dns_mx_plan, with TLSA records
 * for DANE) is built on a DNS worker thread, so the loop never waits; its
 * outcome starts the connections or settles the destination's messages
 * (null MX, no such domain, loop: bounced; DNS failure: deferred).
 */
#include <stdlib.h>

#include "dns/dns_mx.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "smtp/smtp_client_private.h"

static void
sc_dns_run(void *arg)
{
	struct sc_dns_job *j = arg;

	dns_mx_plan(j->dns, j->host, &j->opts, &j->plan);
}

static void sc_plan_ready(struct smtp_client *c);

static void
sc_dns_done(void *arg)
{
	struct sc_dns_job *j = arg;
	struct smtp_client *c = j->c;

	if (c == NULL) {
		dns_mx_plan_free(&j->plan);
		free(j);
		return;
	}
	c->dns_job = NULL;
	c->plan = j->plan;
	free(j);
	smtp_client_enter(c);
	sc_plan_ready(c);
	smtp_client_leave(c);
}

static void
sc_plan_ready(struct smtp_client *c)
{
	const char *dsn;
	enum smtp_rcpt_status st = SMTP_RCPT_BOUNCED;

	switch (c->plan.status) {
	case DNS_MX_OK:
		c->ai = 0;
		smtp_client_connect_next(c);
		return;
	case DNS_MX_NULLMX:
		dsn = "5.1.10"; /* RFC 7505 4.3 */
		break;
	case DNS_MX_NOTFOUND:
	case DNS_MX_NOHOST:
		dsn = "5.4.4";
		break;
	case DNS_MX_LOOP:
		dsn = "5.4.6";
		break;
	case DNS_MX_TEMPFAIL:
	default:
		dsn = "4.4.3";
		st = SMTP_RCPT_DEFERRED;
		break;
	}
	c->nodest = st == SMTP_RCPT_BOUNCED;
	smtp_client_settle(c, st, dsn, c->plan.why, NULL);
	/* later messages of the same destination fare no better */
	while ((c->msg = c->ops->next(c->arg, c)) != NULL)
		smtp_client_settle(c, st, dsn, c->plan.why, NULL);
	smtp_client_finish(c, c->plan.why);
}

void
smtp_client_dns_start(struct smtp_client *c)
{
	struct sc_dns_job *j = xcalloc(1, sizeof(*j));

	j->c = c;
	j->dns = c->env->dns;
	smtp_client_fmt(j->host, sizeof(j->host), "%s", c->dest.host);
	j->opts = *c->dest.mx;
	/* RFC 7672 2.2: TLSA records, on the worker thread with the rest */
	j->opts.dane = c->dest.tls >= TLS_LEVEL_DANE;
	c->dns_job = j;
	worker_submit(c->env->dns_pool, sc_dns_run, sc_dns_done, j);
}
