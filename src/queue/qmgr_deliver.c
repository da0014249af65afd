/*
 * One delivery attempt of one queued message, on a worker thread: read the
 * queue file and its delivery state, deliver every recipient not done yet
 * (delivery/local.c), then remove the message, or record the deferral and
 * the next retry time, or move an expired message to hold/.
 *
 * Remote destinations are routed here (route.h) and handed to the loop
 * (qmgr_remote.c); when their results are in, qmgr_finish_run() ends the
 * attempt on a worker: bounces (qmgr_bounce.c), the state, removal.
 *
 * Retry mode (Maildir copies are also looked for in cur/) is used for every
 * attempt except the first one of a message that arrived after this
 * process started: only then can no earlier attempt, by this process or by
 * one that crashed, have made a copy that a client has since moved.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delivery/delivery_log.h"
#include "delivery/local.h"
#include "delivery/resolve.h"
#include "delivery/route.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/bounce_dsn.h"
#include "queue/qmgr_private.h"
#include "queue/queue_file.h"
#include "smtp/smtp_client.h"

/* The wait before attempt number attempts+1: minimal_backoff_time,
 * doubled per attempt, at most maximal_backoff_time (as Postfix). */
static uint64_t
qmgr_backoff(const struct conf *conf, uint64_t attempts)
{
	uint64_t d =
	    conf->minimal_backoff_time > 0 ? conf->minimal_backoff_time : 1;
	uint64_t max =
	    conf->maximal_backoff_time > d ? conf->maximal_backoff_time : d;

	while (attempts-- > 1 && d < max)
		d = d > max / 2 ? max : d * 2;
	return d < max ? d : max;
}

static char *
qmgr_path(const struct qmgr *q, const char *dir, const char *id)
{
	return xasprintf("%s/%s/%s", q->queue_dir, dir, id);
}

/* The queue file cannot be used. A damaged file or an unknown version is
 * moved to corrupt/ for a human (Postfix does the same); anything else
 * (EMFILE, EIO) is retried later. */
static void
qmgr_deliver_unreadable(struct qmgr_job *j, int e, const struct buf *err)
{
	struct qmgr *q = j->q;
	char *from, *to;

	if (e == ENOENT) {
		j->result =
		    QMGR_GONE; /* delivered meanwhile, or a stray poke */
		return;
	}
	if (e != EBADMSG && e != ENOTSUP) {
		log_warn(
		    "%s: cannot open queue file: %s", j->id, buf_cstr(err));
		j->result = QMGR_WAIT;
		j->next_retry =
		    (uint64_t)time(NULL) + q->conf->minimal_backoff_time;
		return;
	}
	from = qmgr_path(q, QUEUE_DIR_ACTIVE, j->id);
	to = qmgr_path(q, QUEUE_DIR_CORRUPT, j->id);
	if (rename(from, to) == -1) {
		log_warn("%s: %s; cannot move it to %s/: %m", j->id,
		    buf_cstr(err), QUEUE_DIR_CORRUPT);
		j->result = QMGR_WAIT;
		j->next_retry =
		    (uint64_t)time(NULL) + q->conf->maximal_backoff_time;
	} else {
		log_warn("%s: %s; moved to %s/", j->id, buf_cstr(err),
		    QUEUE_DIR_CORRUPT);
		j->result = QMGR_GONE;
	}
	free(from);
	free(to);
}

/* Every recipient is done: the message leaves the queue. The maildir
 * copies are durable already, so the unlink needs no directory fsync: if
 * a crash undoes it, recovery finds every copy and makes none. */
static void
qmgr_deliver_remove(struct qmgr_job *j, bool had_state)
{
	char *path = qmgr_path(j->q, QUEUE_DIR_ACTIVE, j->id);

	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: cannot remove %s: %m", j->id, path);
	free(path);
	if (had_state) {
		path = qmgr_path(j->q, QUEUE_DIR_DEFER, j->id);
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("%s: cannot remove %s: %m", j->id, path);
		free(path);
	}
	log_info("%s: removed", j->id);
	j->result = QMGR_DONE;
}

static struct qmgr_bounce_item *qmgr_job_item(struct qmgr_job *j);

void
qmgr_job_notify(struct qmgr_job *j, size_t rcpt, const char *address,
    int action, const char *text, const char *remote)
{
	struct qmgr_bounce_item *b = qmgr_job_item(j);

	b->action = action;
	b->rcpt = rcpt;
	b->address = xstrdup(address);
	(void)snprintf(b->dsn, sizeof(b->dsn), "2.0.0");
	b->text = xstrdup(text);
	b->remote = remote != NULL && remote[0] != '\0' ? xstrdup(remote) : NULL;
}

static struct qmgr_bounce_item *
qmgr_job_item(struct qmgr_job *j)
{
	struct qmgr_bounce_item *b;

	if (j->nbounce == j->capbounce) {
		j->capbounce = j->capbounce ? j->capbounce * 2 : 4;
		j->bounces = xreallocarray(
		    j->bounces, j->capbounce, sizeof(*j->bounces));
	}
	b = &j->bounces[j->nbounce++];
	memset(b, 0, sizeof(*b));
	return b;
}

void
qmgr_job_bounce(struct qmgr_job *j, size_t rcpt, const char *address,
    const char *dsn, const char *text, const char *diag, const char *remote)
{
	struct qmgr_bounce_item *b = qmgr_job_item(j);

	b->action = DSN_ACTION_FAILED;
	b->rcpt = rcpt;
	b->address = xstrdup(address);
	(void)snprintf(b->dsn, sizeof(b->dsn), "%s", dsn);
	b->text = xstrdup(text != NULL ? text : "");
	b->diag = diag != NULL && diag[0] != '\0' ? xstrdup(diag) : NULL;
	b->remote = remote != NULL && remote[0] != '\0' ? xstrdup(remote) : NULL;
}

void
qmgr_job_free(struct qmgr_job *j)
{
	size_t i;

	for (i = 0; i < j->nrd; i++) {
		free(j->rd[i].address);
		free(j->rd[i].text);
		free(j->rd[i].diag);
		free(j->rd[i].relay);
	}
	free(j->rd);
	for (i = 0; i < j->nbounce; i++) {
		free(j->bounces[i].address);
		free(j->bounces[i].text);
		free(j->bounces[i].diag);
		free(j->bounces[i].remote);
	}
	free(j->bounces);
	if (j->st != NULL) {
		qmgr_state_free(j->st);
		free(j->st);
	}
	free(j->deferred);
	free(j->reason);
	queue_file_free(&j->qf);
	free(j);
}

static void
qmgr_job_defer(struct qmgr_job *j, size_t rcpt, const char *why)
{
	j->deferred[rcpt] = true;
	free(j->reason);
	j->reason = xstrdup(why);
	qmgr_state_set_why(j->st, rcpt, why);
}

/* Logs a result decided here, before any connection (relay=none). */
static void
qmgr_log_none(const struct qmgr_job *j, size_t rcpt, const char *to,
    const char *dsn, const char *status, const char *text)
{
	const struct queue_env *env = queue_file_env(j->qf);
	double now = qmgr_now();
	struct delivery_log l = {
		.id = j->id,
		.to = to,
		.orig_to = env->rcpts[rcpt],
		.relay = "none",
		.dsn = dsn,
		.status = status,
		.text = text,
		.arrival = (double)env->arrival + (double)env->arrival_usec / 1e6,
		.t_queued = j->t_queued,
		.t_started = j->t_started,
		.t_conn = now,
		.t_done = now,
	};

	delivery_log_line(&l);
}

/* Maildir destination numbers of local: deliveries start at this times
 * (n + 1) for the nth outside destination of a recipient, far above what
 * one alias expansion gives (alias_expansion_limit). */
#define QMGR_LOCAL_DEST_BASE 100000

static void qmgr_route_one(struct qmgr_job *j,
    const struct local_request *req, size_t rcpt, const char *address,
    size_t nth, unsigned depth);
static void qmgr_local_one(struct qmgr_job *j,
    const struct local_request *req, size_t rcpt, unsigned depth);

/*
 * transport local: for a domain that is not local. Postfix's local(8)
 * delivers to the local part whatever the domain; here users have
 * domains, so the local part is delivered as local@$myorigin (a bare name
 * is qualified as everywhere else). Outside destinations of that
 * expansion are routed once more; a second local: on that path is a loop
 * and defers. nth numbers the remote destinations of rcpt, so that the
 * Maildir copies of each get their own exactly-once names.
 */
static void
qmgr_route_local(struct qmgr_job *j, const struct local_request *base,
    size_t rcpt, const char *address, size_t nth, unsigned depth)
{
	struct local_request req = *base;
	const char *at = strrchr(address, '@');
	char *local;

	if (depth > 0) {
		qmgr_log_none(j, rcpt, address, "4.4.6", "deferred",
		    "mail forwarding loop through transport local:");
		qmgr_job_defer(j, rcpt, "mail forwarding loop through "
		                        "transport local:");
		return;
	}
	local = at != NULL ? xstrndup(address, (size_t)(at - address))
	                   : xstrdup(address);
	req.address = xasprintf("%s@%s", local, resolver_origin(req.resolver));
	req.dest_base = QMGR_LOCAL_DEST_BASE * (nth + 1);
	req.t_started = qmgr_now();
	qmgr_local_one(j, &req, rcpt, depth + 1);
	free((char *)req.address);
	free(local);
}

/*
 * Delivers recipient rcpt (req->address instead, when set) to its local
 * mailboxes and routes its outside destinations; depth counts the local:
 * transports on the way.
 */
static void
qmgr_local_one(struct qmgr_job *j, const struct local_request *req,
    size_t rcpt, unsigned depth)
{
	const struct queue_env *env = queue_file_env(j->qf);
	struct resolve_list remote = { NULL, 0 };
	struct buf reason;
	enum local_status ls;
	size_t k;

	buf_init(&reason, 4096);
	ls = local_deliver(req, &reason, &remote);
	if (ls == LOCAL_SENT && remote.n == 0 && env->notify != NULL &&
	    (env->notify[rcpt] & QUEUE_DSN_NOTIFY_SUCCESS))
		/* RFC 3461 6.2.1: "delivered" to the mailbox */
		qmgr_job_notify(j, rcpt, env->rcpts[rcpt], DSN_ACTION_DELIVERED,
		    "delivered to mailbox", NULL);
	if (ls == LOCAL_DEFERRED)
		qmgr_job_defer(j, rcpt, buf_cstr(&reason));
	else if (ls == LOCAL_BOUNCED)
		qmgr_job_bounce(j, rcpt, env->rcpts[rcpt], "5.1.1",
		    buf_cstr(&reason), NULL, NULL);
	for (k = 0; k < remote.n; k++)
		qmgr_route_one(j, req, rcpt, remote.v[k].address, k, depth);
	resolve_list_free(&remote);
	buf_free(&reason);
}

/* Routes one remote destination of recipient rcpt (the nth of it). */
static void
qmgr_route_one(struct qmgr_job *j, const struct local_request *req,
    size_t rcpt, const char *address, size_t nth, unsigned depth)
{
	struct route rt;
	struct qmgr_rdest *d;
	struct buf err;

	if (qmgr_state_is_sent(j->st, rcpt, address))
		return; /* delivered by an earlier attempt */
	buf_init(&err, 1024);
	if (router_lookup(j->q->router, address, &rt, &err) == -1) {
		qmgr_log_none(j, rcpt, address, "4.3.0", "deferred",
		    buf_cstr(&err));
		qmgr_job_defer(j, rcpt, buf_cstr(&err));
		goto out;
	}
	switch (rt.transport) {
	case ROUTE_ERROR:
		/* transport(5) error: a bounce, Postfix's 5.0.0 */
		qmgr_log_none(j, rcpt, address, "5.0.0", "bounced", rt.text);
		qmgr_job_bounce(j, rcpt, address, "5.0.0", rt.text, NULL, NULL);
		goto out;
	case ROUTE_RETRY:
		qmgr_log_none(j, rcpt, address, "4.0.0", "deferred", rt.text);
		qmgr_job_defer(j, rcpt, rt.text);
		goto out;
	case ROUTE_LOCAL:
		qmgr_route_local(j, req, rcpt, address, nth, depth);
		goto out;
	case ROUTE_SMTP:
		break;
	}
	if (j->nrd == j->caprd) {
		j->caprd = j->caprd ? j->caprd * 2 : 4;
		j->rd = xreallocarray(j->rd, j->caprd, sizeof(*j->rd));
	}
	d = &j->rd[j->nrd++];
	memset(d, 0, sizeof(*d));
	d->rcpt = rcpt;
	d->address = xstrdup(address);
	d->route = rt;
	route_describe(&rt, d->key, sizeof(d->key));
	d->status = SMTP_RCPT_PENDING;
out:
	buf_free(&err);
}

void
qmgr_deliver_run(void *arg)
{
	struct qmgr_job *j = arg;
	struct qmgr *q = j->q;
	const struct conf *conf = q->conf;
	const struct queue_env *env;
	struct local_request req;
	struct buf err;
	uint64_t now;
	size_t i;

	if (atomic_load(&q->cancel)) {
		j->result = QMGR_CANCELLED;
		return;
	}
	buf_init(&err, 4096);
	if ((j->qf = queue_file_open(q->queue_dir, j->id, &err)) == NULL) {
		qmgr_deliver_unreadable(j, errno, &err);
		goto out;
	}
	env = queue_file_env(j->qf);
	j->st = xcalloc(1, sizeof(*j->st));
	qmgr_state_init(j->st, env->nrcpt);
	if (qmgr_state_read(q->queue_dir, j->id, j->st, &err) == -1) {
		log_warn("%s: %s; delivering every recipient in retry mode",
		    j->id, buf_cstr(&err));
		qmgr_state_free(j->st);
		qmgr_state_init(j->st, env->nrcpt);
		j->st->attempts = 1;
	}
	now = (uint64_t)time(NULL);
	if (j->respect_schedule && j->st->exists && j->st->next_retry > now) {
		j->result = QMGR_WAIT;
		j->next_retry = j->st->next_retry;
		goto out;
	}
	log_info("%s: from=<%s>, size=%llu, nrcpt=%zu (queue active)", j->id,
	    log_sanitize_str(env->sender), (unsigned long long)env->size,
	    env->nrcpt);
	j->deferred = xcalloc(env->nrcpt + 1, sizeof(*j->deferred));
	memset(&req, 0, sizeof(req));
	req.resolver = q->resolver;
	req.qf = j->qf;
	req.hostname = conf->myhostname;
	req.retry = j->retry_here || j->st->attempts > 0 ||
	    (double)env->arrival + (double)env->arrival_usec / 1e6 <=
	        q->t_start;
	req.t_queued = j->t_queued;
	j->t_started = qmgr_now();
	for (i = 0; i < env->nrcpt; i++) {
		if (j->st->done[i])
			continue;
		req.rcpt = i;
		req.t_started = qmgr_now();
		qmgr_local_one(j, &req, i, 0);
	}
	if (j->nrd > 0) {
		j->result = QMGR_REMOTE; /* the loop sends them */
		goto out;
	}
	qmgr_finish_run(j);
out:
	buf_free(&err);
}

/* The lifetime of a message: bounces (null sender) have their own. */
static uint64_t
qmgr_lifetime(const struct conf *conf, const struct queue_env *env)
{
	return env->sender[0] == '\0' ? conf->bounce_queue_lifetime
	                              : conf->maximal_queue_lifetime;
}

/* delay_warning_time passed (Postfix's "Delayed Mail (still being
 * retried)"): one DSN with action "delayed" for the deferred recipients,
 * once per message. */
static void
qmgr_delay_warning(struct qmgr_job *j)
{
	const struct queue_env *env = queue_file_env(j->qf);
	struct qmgr_state *st = j->st;
	struct qmgr_bounce_item *b;
	struct buf err;
	size_t i, k, first = j->nbounce;

	for (i = 0; i < env->nrcpt; i++) {
		const struct qmgr_rdest *d = NULL;
		const char *why;

		if (st->done[i] || !j->deferred[i])
			continue;
		for (k = 0; k < j->nrd; k++)
			if (j->rd[k].rcpt == i &&
			    j->rd[k].status == SMTP_RCPT_DEFERRED)
				d = &j->rd[k];
		why = d != NULL && d->text != NULL ? d->text
		    : st->why != NULL && st->why[i] != NULL ? st->why[i]
		                                            : "deferred";
		qmgr_job_bounce(j, i, env->rcpts[i],
		    d != NULL && d->dsn[0] == '4' ? d->dsn : "4.0.0", why,
		    d != NULL ? d->diag : NULL, d != NULL ? d->relay : NULL);
		b = &j->bounces[j->nbounce - 1];
		b->action = DSN_ACTION_DELAYED;
	}
	if (j->nbounce == first)
		return;
	buf_init(&err, 1024);
	if (qmgr_bounce_send(j, QMGR_DSN_DELAYED, &err) == -1)
		log_warn("%s: cannot queue the delay warning: %s", j->id,
		    buf_cstr(&err));
	else
		st->warned = true;
	buf_free(&err);
}

void
qmgr_finish_run(void *arg)
{
	struct qmgr_job *j = arg;
	struct qmgr *q = j->q;
	const struct conf *conf = q->conf;
	const struct queue_env *env = queue_file_env(j->qf);
	struct qmgr_state *st = j->st;
	struct buf err;
	bool deferred = false, expired;
	uint64_t now;
	size_t i;

	buf_init(&err, 1024);
	/* the remote results */
	for (i = 0; i < j->nrd; i++) {
		struct qmgr_rdest *d = &j->rd[i];

		if (d->status == SMTP_RCPT_SENT) {
			qmgr_state_add_sent(st, d->rcpt, d->address);
			/* RFC 3461 6.2.1: "relayed" when the next server
			 * cannot report success itself */
			if (!d->dsn_passed && env->notify != NULL &&
			    (env->notify[d->rcpt] & QUEUE_DSN_NOTIFY_SUCCESS))
				qmgr_job_notify(j, d->rcpt, d->address,
				    DSN_ACTION_RELAYED,
				    "relayed to a server without DSN support",
				    d->relay);
		}
		else if (d->status == SMTP_RCPT_BOUNCED)
			qmgr_job_bounce(j, d->rcpt, d->address, d->dsn, d->text,
			    d->diag, d->relay);
		else
			qmgr_job_defer(j, d->rcpt,
			    d->text != NULL ? d->text : "deferred");
	}
	now = (uint64_t)time(NULL);
	for (i = 0; i < env->nrcpt; i++)
		if (!st->done[i] && j->deferred[i])
			deferred = true;
	expired = deferred && now >= env->arrival + qmgr_lifetime(conf, env);
	if (expired) {
		/* RFC 5321 4.5.4.1: give up; the sender learns why */
		for (i = 0; i < env->nrcpt; i++) {
			const char *why;

			if (st->done[i] || !j->deferred[i])
				continue;
			why = st->why != NULL && st->why[i] != NULL
			    ? st->why[i]
			    : j->reason != NULL ? j->reason : "delivery expired";
			log_info("%s: to=<%s>, relay=none, dsn=4.4.7, "
			         "status=expired, returned to sender (%s)",
			    j->id, log_sanitize_str(env->rcpts[i]),
			    log_sanitize_str(why));
			qmgr_job_bounce(
			    j, i, env->rcpts[i], "4.4.7", why, NULL, NULL);
			j->deferred[i] = false;
		}
		deferred = false;
	}
	if (j->nbounce > 0 && qmgr_bounce_send(j, QMGR_DSN_FAILED, &err) == -1) {
		/* the sender must learn it: keep those recipients */
		log_warn("%s: cannot queue the bounce: %s; will retry", j->id,
		    buf_cstr(&err));
		for (i = 0; i < j->nbounce; i++)
			if (j->bounces[i].action == DSN_ACTION_FAILED)
				qmgr_job_defer(
				    j, j->bounces[i].rcpt, buf_cstr(&err));
		deferred = true;
	}
	/* a success notice that cannot be queued is not worth a retry of
	 * the delivery: log it */
	if (j->nbounce > 0 && qmgr_bounce_send(j, QMGR_DSN_SUCCESS, &err) == -1)
		log_warn("%s: cannot queue the success notification: %s",
		    j->id, buf_cstr(&err));
	for (i = 0; i < env->nrcpt; i++)
		if (!st->done[i] && !j->deferred[i]) {
			st->done[i] = true;
			qmgr_state_set_why(st, i, NULL);
		}
	if (!deferred) {
		qmgr_deliver_remove(j, st->exists);
		goto out;
	}
	if (conf->delay_warning_time > 0 && !st->warned &&
	    now >= env->arrival + conf->delay_warning_time)
		qmgr_delay_warning(j);
	st->attempts++;
	st->next_retry = now + qmgr_backoff(conf, st->attempts);
	free(st->reason);
	st->reason = xstrdup(j->reason != NULL ? j->reason : "deferred");
	/* Without the state the next attempt redoes the done recipients in
	 * retry mode: more work, no duplicates for local mailboxes. */
	if (qmgr_state_write(q->queue_dir, j->id, st) == -1)
		log_warn("%s: cannot write the delivery state: %m", j->id);
	j->result = QMGR_DEFERRED;
	j->next_retry = st->next_retry;
out:
	buf_free(&err);
}
