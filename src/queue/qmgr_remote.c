/*
 * Outbound scheduling on the queue manager's loop: remote destinations of
 * an attempt are grouped by next hop into deliveries (one message, up to
 * smtp_destination_recipient_limit recipients), queued per destination,
 * and sent by SMTP client connections (smtp_client.c) within
 * default_process_limit connections in all and a per-destination window:
 * smtp_initial_destination_concurrency at first, one more per success up
 * to smtp_destination_concurrency_limit, one less per failed connection
 * (Postfix's slow start). A destination whose every connection failed is
 * "dead" for minimal_backoff_time: its deliveries are deferred at once
 * with the last reason ("delivery temporarily suspended"), as Postfix's
 * queue manager does, until then or `mailwright queue flush`.
 *
 * A connection that finishes a message takes the next delivery queued for
 * its destination (RSET between), so that a stream of messages to one
 * place shares connections.
 */
#include <errno.h>
#include <event2/event.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/delivery_log.h"
#include "dns/dns.h"
#include "dns/dns_mx.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/parse.h"
#include "lib/tls_client.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "policy/maptable.h"
#include "queue/qmgr_private.h"
#include "queue/qmgr_remote_private.h"
#include "queue/queue_file.h"
#include "smtp/smtp_client.h"

int
qmgr_remote_init(struct qmgr *q, struct buf *err)
{
	const struct conf *conf = q->conf;
	struct qmgr_remote *r = xcalloc(1, sizeof(*r));
	size_t i;

	r->q = q;
	q->remote = r;
	r->dns = dns_resolver_new(&conf->dns_servers,
	    (unsigned)conf->dns_timeout * 1000, conf->dns_trust_anchor_file,
	    err);
	if (r->dns == NULL)
		return -1;
	if ((r->tls = tls_client_new(conf, err)) == NULL)
		return -1;
	r->tls_policy =
	    xcalloc(conf->smtp_tls_policy_maps.n + 1, sizeof(*r->tls_policy));
	for (i = 0; i < conf->smtp_tls_policy_maps.n; i++) {
		r->tls_policy[i] =
		    maptable_open(conf->smtp_tls_policy_maps.items[i], err);
		if (r->tls_policy[i] == NULL)
			return -1;
		r->ntls_policy++;
	}
	r->sasl_maps =
	    xcalloc(conf->smtp_sasl_password_maps.n + 1, sizeof(*r->sasl_maps));
	for (i = 0;
	     conf->smtp_sasl_auth_enable && i < conf->smtp_sasl_password_maps.n;
	     i++) {
		r->sasl_maps[i] =
		    maptable_open(conf->smtp_sasl_password_maps.items[i], err);
		if (r->sasl_maps[i] == NULL)
			return -1;
		r->nsasl_maps++;
	}
	r->dns_pool = worker_pool_new(q->base, QMGR_DNS_THREADS);
	r->v4 = strcmp(conf->inet_protocols, "ipv6") != 0;
	r->v6 = strcmp(conf->inet_protocols, "ipv4") != 0;
	r->prefer = strcmp(conf->smtp_address_preference, "ipv6") == 0 ? 6
	    : strcmp(conf->smtp_address_preference, "ipv4") == 0       ? 4
	                                                               : 0;
	qmgr_remote_own(r, conf);
	r->env.base = q->base;
	r->env.dns_pool = r->dns_pool;
	r->env.dns = r->dns;
	r->env.tls = r->tls;
	r->env.helo_name = conf->smtp_helo_name;
	r->env.bind4 = conf->smtp_bind_address;
	r->env.bind6 = conf->smtp_bind_address6;
	r->env.line_max = (size_t)conf->smtp_line_length_limit;
	r->env.t_connect = (unsigned)conf->smtp_connect_timeout;
	r->env.t_helo = (unsigned)conf->smtp_helo_timeout;
	r->env.t_starttls = (unsigned)conf->smtp_starttls_timeout;
	r->env.t_mail = (unsigned)conf->smtp_mail_timeout;
	r->env.t_rcpt = (unsigned)conf->smtp_rcpt_timeout;
	r->env.t_data_init = (unsigned)conf->smtp_data_init_timeout;
	r->env.t_data_xfer = (unsigned)conf->smtp_data_xfer_timeout;
	r->env.t_data_done = (unsigned)conf->smtp_data_done_timeout;
	r->env.t_rset = (unsigned)conf->smtp_rset_timeout;
	r->env.t_quit = (unsigned)conf->smtp_quit_timeout;
	r->env.skip_5xx_greeting = conf->smtp_skip_5xx_greeting;
	r->env.chunking = conf->smtp_use_chunking;
	r->env.cache_time = (unsigned)conf->smtp_connection_cache_time_limit;
	r->env.reuse_count_limit =
	    (size_t)conf->smtp_connection_reuse_count_limit;
	r->env.reuse_time_limit =
	    (unsigned)conf->smtp_connection_reuse_time_limit;
	return 0;
}

static void
qmgr_dest_free(void *p)
{
	struct qmgr_dest *d = p;

	if (d->sasl_pass != NULL)
		explicit_bzero(d->sasl_pass, strlen(d->sasl_pass));
	free(d->sasl_user);
	free(d->sasl_pass);
	free(d->idle);
	free(d);
}

void
qmgr_remote_free(struct qmgr *q)
{
	struct qmgr_remote *r = q->remote;
	size_t i;

	if (r == NULL)
		return;
	worker_pool_free(&r->dns_pool);
	tdestroy(r->dests, qmgr_dest_free);
	for (i = 0; i < r->ntls_policy; i++)
		maptable_free(&r->tls_policy[i]);
	free(r->tls_policy);
	for (i = 0; i < r->nsasl_maps; i++)
		maptable_free(&r->sasl_maps[i]);
	free(r->sasl_maps);
	tls_client_free(&r->tls);
	dns_resolver_free(&r->dns);
	free(r->own);
	free(r->conns);
	free(r);
	q->remote = NULL;
}

size_t
qmgr_remote_active(const struct qmgr *q)
{
	return q->remote != NULL ? q->remote->active : 0;
}

/* A durable record of what was sent, written as soon as a delivery
 * has succeeded: a crash (even kill -9 of this process) between the
 * remote 250 and this record is the only way a recipient is sent twice
 * (docs/queue.md). One write per job at a time; it counts as pending. */
struct qmgr_state_write {
	struct qmgr_remote *r;
	struct qmgr_job *j;
	char *path;
	struct buf data;
	int err;
};

static void qmgr_state_flush(struct qmgr_remote *r, struct qmgr_job *j);
static void qmgr_job_unpend(struct qmgr_remote *r, struct qmgr_job *j);

static void
qmgr_state_write_run(void *arg)
{
	struct qmgr_state_write *w = arg;

	w->err = fs_atomic_write(w->path, w->data.data, w->data.len, 0600) == -1
	    ? errno
	    : 0;
}

static void
qmgr_state_write_done(void *arg)
{
	struct qmgr_state_write *w = arg;
	struct qmgr_job *j = w->j;

	if (w->err != 0)
		log_warn("%s: cannot write the delivery state: %s", j->id,
		    strerror(w->err));
	j->state_busy = false;
	if (j->state_again) {
		j->state_again = false;
		qmgr_state_flush(w->r, j);
	}
	qmgr_job_unpend(w->r, j);
	free(w->path);
	buf_free(&w->data);
	free(w);
}

static void
qmgr_state_flush(struct qmgr_remote *r, struct qmgr_job *j)
{
	struct qmgr_state_write *w;

	if (j->state_busy) {
		j->state_again = true;
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->r = r;
	w->j = j;
	w->path =
	    xasprintf("%s/%s/%s", r->q->queue_dir, QUEUE_DIR_DEFER, j->id);
	buf_init(&w->data, (size_t)64 * 1024 * 1024);
	if (qmgr_state_encode(j->st, &w->data) == -1) {
		log_warn("%s: cannot encode the delivery state", j->id);
		free(w->path);
		buf_free(&w->data);
		free(w);
		return;
	}
	j->st->exists = true; /* so that the end removes it */
	j->state_busy = true;
	j->npending++;
	worker_submit(r->q->wp, qmgr_state_write_run, qmgr_state_write_done, w);
}

/* One delivery or state write of j has ended; the last submits the end
 * of the attempt. */
static void
qmgr_job_unpend(struct qmgr_remote *r, struct qmgr_job *j)
{
	MW_ASSERT(j->npending > 0);
	if (--j->npending == 0)
		worker_submit(r->q->wp, qmgr_finish_run, qmgr_deliver_done, j);
}

/* Logs the result of each recipient of a finished delivery and hands
 * them to the job; the last delivery of a job submits its end. */
static void
qmgr_delivery_done(struct qmgr_remote *r, struct qmgr_delivery *dv)
{
	struct qmgr_job *j = dv->job;
	const struct queue_env *env = queue_file_env(j->qf);
	double now = qmgr_now();
	bool sent = false;
	size_t i;

	for (i = 0; i < dv->cm.nrcpt; i++) {
		struct smtp_client_rcpt *cr = &dv->cm.rcpts[i];
		struct qmgr_rdest *d = &j->rd[dv->rd[i]];
		static const char *const names[] = { "deferred", "sent",
			"deferred", "bounced" };
		struct delivery_log l = {
			.id = j->id,
			.to = d->address,
			.orig_to = env->rcpts[d->rcpt],
			.relay =
			    dv->cm.relay[0] != '\0' ? dv->cm.relay : "none",
			.dsn = cr->dsn[0] != '\0' ? cr->dsn : "4.0.0",
			.status = names[cr->status],
			.text = cr->text,
			.arrival = (double)env->arrival +
			    (double)env->arrival_usec / 1e6,
			.t_queued = j->t_queued,
			.t_started = dv->t_queued,
			.t_conn = dv->cm.t_conn > 0 ? dv->cm.t_conn : now,
			.t_done = now,
		};

		if (cr->status == SMTP_RCPT_PENDING)
			cr->status = SMTP_RCPT_DEFERRED;
		delivery_log_line(&l);
		d->status = cr->status;
		if (cr->status == SMTP_RCPT_SENT) {
			qmgr_state_add_sent(j->st, d->rcpt, d->address);
			sent = true;
		}
		(void)snprintf(d->dsn, sizeof(d->dsn), "%s", l.dsn);
		free(d->text);
		d->text = xstrdup(cr->text);
		free(d->diag);
		d->diag = cr->diag[0] != '\0' ? xstrdup(cr->diag) : NULL;
		d->dsn_passed = dv->cm.dsn_passed;
		free(d->relay);
		d->relay =
		    dv->cm.relay[0] != '\0' && strcmp(dv->cm.relay, "none") != 0
		    ? xstrdup(dv->cm.relay)
		    : NULL;
	}
	free(dv->cm.rcpts);
	free(dv->rd);
	free(dv);
	/* The last delivery of the attempt needs no record of its own: the
	 * end of the attempt follows at once and removes the message or
	 * writes the state with it, so a crash in between repeats this one
	 * delivery at most, as it would before the record (docs/queue.md).
	 * That saves a durable write for every message with one
	 * destination. */
	if (sent && j->npending > 1)
		qmgr_state_flush(r, j);
	qmgr_job_unpend(r, j);
}

/* Settles a delivery that never reached a connection. */
static void
qmgr_delivery_settle(struct qmgr_remote *r, struct qmgr_delivery *dv,
    const char *dsn, const char *why)
{
	size_t i;

	for (i = 0; i < dv->cm.nrcpt; i++) {
		struct smtp_client_rcpt *cr = &dv->cm.rcpts[i];

		if (cr->status != SMTP_RCPT_PENDING)
			continue;
		cr->status = SMTP_RCPT_DEFERRED;
		(void)snprintf(cr->dsn, sizeof(cr->dsn), "%s", dsn);
		(void)snprintf(cr->text, sizeof(cr->text), "%s", why);
	}
	qmgr_delivery_done(r, dv);
}

static struct qmgr_delivery *
qmgr_dest_pop(struct qmgr_dest *d)
{
	struct qmgr_delivery *dv = d->head;

	if (dv != NULL) {
		d->head = dv->next;
		if (d->head == NULL)
			d->tail = NULL;
		d->nwaiting--;
		dv->next = NULL;
	}
	return dv;
}

static void qmgr_remote_kick(struct qmgr_remote *r);

/* smtp_client ops */
/* The connection's destination: the arg of its callbacks. */
struct qmgr_conn {
	struct qmgr_remote *r;
	struct qmgr_dest *d;
	struct smtp_client *c;
};

static void
qmgr_on_client_done(void *arg, struct smtp_client_msg *msg)
{
	struct qmgr_conn *cn = arg;
	struct qmgr_dest *d = cn->d;
	size_t i;

	/* slow start: a server that takes mail earns one more connection
	 * (cached connections seldom close, so count deliveries too) */
	for (i = 0; i < msg->nrcpt; i++)
		if (msg->rcpts[i].status == SMTP_RCPT_SENT) {
			d->fails = 0;
			if (d->window <
			    cn->r->q->conf->smtp_destination_concurrency_limit)
				d->window++;
			break;
		}

	qmgr_delivery_done(cn->r, msg->arg);
}

static struct smtp_client_msg *
qmgr_on_client_next(void *arg, struct smtp_client *c)
{
	struct qmgr_conn *cn = arg;
	struct qmgr_delivery *dv = qmgr_dest_pop(cn->d);

	(void)c;
	return dv != NULL ? &dv->cm : NULL;
}

/* Takes cn out of its destination's cache, if it is there. */
static void
qmgr_conn_unidle(struct qmgr_conn *cn)
{
	struct qmgr_dest *d = cn->d;
	size_t i;

	for (i = 0; i < d->nidle; i++)
		if (d->idle[i] == cn) {
			d->idle[i] = d->idle[--d->nidle];
			return;
		}
}

static void
qmgr_on_client_idle(void *arg, struct smtp_client *c)
{
	struct qmgr_conn *cn = arg;
	struct qmgr_dest *d = cn->d;

	(void)c;
	if (d->nidle == d->capidle) {
		d->capidle = d->capidle ? d->capidle * 2 : 4;
		d->idle = xreallocarray(d->idle, d->capidle, sizeof(*d->idle));
	}
	d->idle[d->nidle++] = cn;
}

static void
qmgr_conn_forget(struct qmgr_remote *r, struct smtp_client *c)
{
	size_t i;

	for (i = 0; i < r->nconns; i++)
		if (r->conns[i] == c) {
			r->conns[i] = r->conns[--r->nconns];
			return;
		}
}

static void
qmgr_on_client_closed(void *arg, struct smtp_client *c,
    enum smtp_client_outcome outcome, const char *why)
{
	struct qmgr_conn *cn = arg;
	struct qmgr_remote *r = cn->r;
	struct qmgr_dest *d = cn->d;
	const struct conf *conf = r->q->conf;
	struct qmgr_delivery *dv;
	char text[1100];

	qmgr_conn_forget(r, c);
	qmgr_conn_unidle(cn);
	free(cn);
	r->active--;
	d->active--;
	if (outcome == SMTP_CLIENT_NODEST) {
		/* settled already (bounced); nothing to learn */
	} else if (outcome == SMTP_CLIENT_REACHED) {
		d->fails = 0;
		if (d->window < conf->smtp_destination_concurrency_limit)
			d->window++;
	} else {
		d->fails++;
		if (d->window > 1)
			d->window--;
		(void)snprintf(d->dead_why, sizeof(d->dead_why), "%s",
		    why != NULL && why[0] != '\0' ? why : "connection failed");
		/* every connection of this cohort failed: suspend */
		if (d->active == 0 && d->fails >= d->window) {
			d->dead_until =
			    qmgr_now() + (double)conf->minimal_backoff_time;
			log_info("%s: destination suspended for %llus: %s",
			    d->key,
			    (unsigned long long)conf->minimal_backoff_time,
			    d->dead_why);
			(void)snprintf(text, sizeof(text),
			    "delivery temporarily suspended: %s", d->dead_why);
			while ((dv = qmgr_dest_pop(d)) != NULL)
				qmgr_delivery_settle(r, dv, "4.4.1", text);
		}
	}
	if (!r->q->stopping)
		qmgr_remote_kick(r);
}

static const struct smtp_client_ops qmgr_client_ops = {
	.done = qmgr_on_client_done,
	.next = qmgr_on_client_next,
	.idle = qmgr_on_client_idle,
	.closed = qmgr_on_client_closed,
};

/* Closes one cached connection of another destination than keep. */
static void
qmgr_remote_evict_idle(struct qmgr_remote *r, const struct qmgr_dest *keep)
{
	struct qmgr_dest *d;

	for (d = r->all; d != NULL; d = d->next_all)
		if (d != keep && d->nidle > 0) {
			struct qmgr_conn *ic = d->idle[--d->nidle];

			smtp_client_abort(ic->c, "connection cache full");
			return;
		}
}

/* Starts connections where deliveries wait and windows allow. */
static void
qmgr_remote_kick(struct qmgr_remote *r)
{
	const struct conf *conf = r->q->conf;
	struct qmgr_dest *d;
	struct qmgr_delivery *dv;
	struct smtp_client_dest cd;
	struct qmgr_conn *cn;

	for (d = r->all; d != NULL; d = d->next_all) {
		/* cached connections first */
		while (d->head != NULL && d->nidle > 0) {
			struct qmgr_conn *ic = d->idle[--d->nidle];

			dv = d->head;
			if (!smtp_client_reuse(ic->c, &dv->cm))
				continue; /* closing: it leaves by itself */
			(void)qmgr_dest_pop(d);
		}
		/* a full house: cached connections of other destinations
		 * make room */
		if (d->head != NULL && d->active < d->window &&
		    r->active >= conf->default_process_limit)
			qmgr_remote_evict_idle(r, d);
		while (d->head != NULL && d->active < d->window &&
		    r->active < conf->default_process_limit) {
			dv = qmgr_dest_pop(d);
			memset(&cd, 0, sizeof(cd));
			(void)snprintf(
			    cd.host, sizeof(cd.host), "%s", d->route.host);
			cd.mx = &d->mx;
			cd.tls = d->tls;
			cd.sasl_user = d->sasl_user;
			cd.sasl_pass = d->sasl_pass;
			cd.sasl_tls_only = conf->smtp_sasl_tls_only;
			cn = xcalloc(1, sizeof(*cn));
			cn->r = r;
			cn->d = d;
			d->active++;
			r->active++;
			cn->c = smtp_client_start(
			    &r->env, &cd, &dv->cm, &qmgr_client_ops, cn);
			if (r->nconns == r->capconns) {
				r->capconns =
				    r->capconns ? r->capconns * 2 : 16;
				r->conns = xreallocarray(
				    r->conns, r->capconns, sizeof(*r->conns));
			}
			r->conns[r->nconns++] = cn->c;
		}
	}
}

static void
qmgr_delivery_queue(
    struct qmgr_remote *r, struct qmgr_dest *d, struct qmgr_delivery *dv)
{
	if (r->q->stopping) {
		qmgr_delivery_settle(
		    r, dv, "4.3.0", "mail system is shutting down");
		return;
	}
	if (d->dead_until > qmgr_now()) {
		char text[1100];

		(void)snprintf(text, sizeof(text),
		    "delivery temporarily suspended: %s", d->dead_why);
		qmgr_delivery_settle(r, dv, "4.4.1", text);
		return;
	}
	if (d->tail != NULL)
		d->tail->next = dv;
	else
		d->head = dv;
	d->tail = dv;
	d->nwaiting++;
}

void
qmgr_remote_submit(struct qmgr *q, struct qmgr_job *j)
{
	struct qmgr_remote *r = q->remote;
	const struct queue_env *env = queue_file_env(j->qf);
	size_t limit = (size_t)q->conf->smtp_destination_recipient_limit;
	bool *taken = xcalloc(j->nrd + 1, sizeof(*taken));
	struct qmgr_delivery **made = NULL;
	size_t nmade = 0, i, k;

	/* group by destination, limit recipients per delivery */
	for (i = 0; i < j->nrd; i++) {
		struct qmgr_delivery *dv;

		if (taken[i])
			continue;
		dv = xcalloc(1, sizeof(*dv));
		dv->job = j;
		dv->cm.arg = dv;
		dv->dest = qmgr_dest_get(r, &j->rd[i]);
		dv->t_queued = qmgr_now();
		dv->cm.rcpts = xcalloc(
		    limit < j->nrd ? limit : j->nrd, sizeof(*dv->cm.rcpts));
		dv->rd =
		    xcalloc(limit < j->nrd ? limit : j->nrd, sizeof(*dv->rd));
		for (k = i; k < j->nrd && dv->cm.nrcpt < limit; k++) {
			if (taken[k] || strcmp(j->rd[k].key, j->rd[i].key) != 0)
				continue;
			taken[k] = true;
			dv->cm.rcpts[dv->cm.nrcpt].address = j->rd[k].address;
			dv->cm.rcpts[dv->cm.nrcpt].index = j->rd[k].rcpt;
			dv->cm.rcpts[dv->cm.nrcpt].notify = env->notify != NULL
			    ? env->notify[j->rd[k].rcpt]
			    : 0;
			dv->cm.rcpts[dv->cm.nrcpt].orcpt = env->orcpt != NULL
			    ? env->orcpt[j->rd[k].rcpt]
			    : NULL;
			dv->rd[dv->cm.nrcpt] = k;
			dv->cm.nrcpt++;
		}
		dv->cm.id = j->id;
		dv->cm.sender = env->sender;
		dv->cm.fd = queue_file_fd(j->qf);
		dv->cm.body_off = queue_file_body_offset(j->qf);
		dv->cm.body_len = queue_file_body_size(j->qf);
		dv->cm.wire_size = env->size; /* RFC 1870: an estimate */
		dv->cm.body_8bit = env->body_8bit;
		dv->cm.dsn_ret = env->dsn_ret;
		dv->cm.envid = env->envid;
		dv->cm.smtputf8 = env->smtputf8;
		made = xreallocarray(made, nmade + 1, sizeof(*made));
		made[nmade++] = dv;
	}
	free(taken);
	/* count them all before any can finish */
	j->npending = nmade;
	for (i = 0; i < nmade; i++)
		qmgr_delivery_queue(r, made[i]->dest, made[i]);
	free(made);
	qmgr_remote_kick(r);
}

void
qmgr_remote_flush(struct qmgr *q, const char *domain)
{
	struct qmgr_dest *d;

	if (q->remote == NULL)
		return;
	for (d = q->remote->all; d != NULL; d = d->next_all)
		if (domain == NULL || domain[0] == '\0' ||
		    strcmp(d->route.host, domain) == 0) {
			d->dead_until = 0;
			d->fails = 0;
		}
}

void
qmgr_remote_stop(struct qmgr *q)
{
	struct qmgr_remote *r = q->remote;
	struct qmgr_delivery *dv;
	struct qmgr_dest *d;

	if (r == NULL)
		return;
	for (d = r->all; d != NULL; d = d->next_all)
		while ((dv = qmgr_dest_pop(d)) != NULL)
			qmgr_delivery_settle(
			    r, dv, "4.3.0", "mail system is shutting down");
	while (r->nconns > 0)
		smtp_client_abort(
		    r->conns[r->nconns - 1], "mail system is shutting down");
}
