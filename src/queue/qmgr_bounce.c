/*
 * Bounces: a delivery status notification (RFC 3464, bounce_dsn.c) for
 * the recipients of one attempt that failed for good, queued as a new
 * message from the null sender <> (RFC 5321 4.5.5) to the original
 * sender, with the original headers attached (text/rfc822-headers).
 *
 * Never a bounce to <>: when the failed message came from the null
 * sender, a "double bounce" goes to 2bounce_notice_recipient instead
 * (Postfix's behaviour); when that is empty, or the failed message was
 * itself a double bounce, the failure is only logged. The envelope's
 * proto field marks what we made: "BOUNCE" or "2BOUNCE".
 *
 * Runs on a worker thread: the new message is written and committed
 * (fsynced) before the recipients it reports are marked done.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/bounce_dsn.h"
#include "queue/qmgr_private.h"
#include "queue/queue_file.h"

/* The original's headers are attached up to this size (RFC 3462 allows
 * any; a header section larger than this is cut). */
#define QMGR_BOUNCE_HDR_MAX ((size_t)256 * 1024)
#define QMGR_BOUNCE_MAX     ((size_t)1024 * 1024)

/* The host part of "host[addr]:port". */
static char *
qmgr_bounce_host(const char *relay)
{
	size_t n;

	if (relay == NULL)
		return NULL;
	n = strcspn(relay, "[");
	return n > 0 ? xstrndup(relay, n) : NULL;
}

/* Does the recipient's NOTIFY (RFC 3461 4.1) ask for a report of this
 * kind? Without NOTIFY: failures only (RFC 3461 5.2.1 default). */
static bool
qmgr_bounce_wanted(
    const struct queue_env *env, const struct qmgr_bounce_item *b)
{
	unsigned n = env->notify != NULL ? env->notify[b->rcpt] : 0;

	if (b->action == DSN_ACTION_FAILED)
		return n == 0 || (n & QUEUE_DSN_NOTIFY_FAILURE);
	if (b->action == DSN_ACTION_DELAYED)
		return n == 0 || (n & QUEUE_DSN_NOTIFY_DELAY);
	return (n & QUEUE_DSN_NOTIFY_SUCCESS) != 0;
}

/* Appends the original message (all of it for RET=FULL, else its header
 * section) to qm, streamed from the queue file. */
static int
qmgr_bounce_copy(
    struct qmgr_job *j, struct queue_msg *qm, bool full, struct buf *err)
{
	uint64_t left = queue_file_body_size(j->qf);
	uint64_t off = queue_file_body_offset(j->qf);
	char *tmp = xmalloc(QMGR_BOUNCE_HDR_MAX);
	bool first = true;
	ssize_t got;
	size_t n;
	int ret = -1;

	while (left > 0) {
		n = left < QMGR_BOUNCE_HDR_MAX ? (size_t)left
		                               : QMGR_BOUNCE_HDR_MAX;
		got = pread(queue_file_fd(j->qf), tmp, n, (off_t)off);
		if (got <= 0) {
			(void)!buf_printf(err, "cannot read the queue file: %s",
			    got < 0 ? strerror(errno) : "short read");
			goto out;
		}
		n = (size_t)got;
		if (!full && first)
			n = bounce_dsn_header_len(tmp, n);
		if (queue_msg_write(qm, tmp, n) == -1) {
			(void)!buf_printf(err, "cannot write the bounce: %m");
			goto out;
		}
		if (!full)
			break; /* headers: at most the first chunk */
		first = false;
		off += (uint64_t)got;
		left -= (uint64_t)got;
	}
	/* the attached part ends with a line end before the boundary */
	if (queue_msg_write(qm, "\n", 1) == -1)
		goto out;
	ret = 0;
out:
	free(tmp);
	return ret;
}

static enum qmgr_dsn_kind
qmgr_item_kind(const struct qmgr_bounce_item *b)
{
	switch (b->action) {
	case DSN_ACTION_FAILED:
		return QMGR_DSN_FAILED;
	case DSN_ACTION_DELAYED:
		return QMGR_DSN_DELAYED;
	default:
		return QMGR_DSN_SUCCESS;
	}
}

int
qmgr_bounce_send(struct qmgr_job *j, enum qmgr_dsn_kind kind, struct buf *err)
{
	bool success = kind != QMGR_DSN_FAILED;
	struct qmgr *q = j->q;
	const struct conf *conf = q->conf;
	const struct queue_env *env = queue_file_env(j->qf);
	struct dsn_rcpt *rc = NULL;
	struct dsn_report r;
	struct queue_env benv;
	struct queue_msg *qm = NULL;
	struct buf out;
	const char *to = env->sender, *proto = "BOUNCE";
	const char *rcpts[1];
	char *from = NULL, *msgid = NULL, *boundary = NULL, **hosts = NULL;
	uint64_t now = (uint64_t)time(NULL);
	size_t i, n = 0;
	/* RFC 3461 4.3: RET is about failure reports */
	bool full = env->dsn_ret == QUEUE_DSN_RET_FULL && !success;
	int ret = -1;

	rc = xcalloc(j->nbounce + 1, sizeof(*rc));
	hosts = xcalloc(j->nbounce + 1, sizeof(*hosts));
	for (i = 0; i < j->nbounce; i++) {
		const struct qmgr_bounce_item *b = &j->bounces[i];
		const char *orcpt =
		    env->orcpt != NULL ? env->orcpt[b->rcpt] : NULL;

		if (qmgr_item_kind(b) != kind || !qmgr_bounce_wanted(env, b))
			continue;
		hosts[n] = qmgr_bounce_host(b->remote);
		rc[n].final_rcpt = b->address;
		if (orcpt != NULL && strncmp(orcpt, "rfc822;", 7) == 0) {
			rc[n].orig_type = "rfc822";
			rc[n].orig_rcpt = orcpt + 7;
		} else if (orcpt != NULL && strncmp(orcpt, "utf-8;", 6) == 0) {
			rc[n].orig_type = "utf-8";
			rc[n].orig_rcpt = orcpt + 6;
		} else if (strcmp(b->address, env->rcpts[b->rcpt]) != 0) {
			rc[n].orig_type = "rfc822";
			rc[n].orig_rcpt = env->rcpts[b->rcpt];
		}
		rc[n].action = (enum dsn_action)b->action;
		rc[n].status = b->dsn;
		rc[n].remote_mta = hosts[n];
		rc[n].diag = b->diag;
		rc[n].reason = b->text;
		rc[n].last_attempt = now;
		if (kind == QMGR_DSN_DELAYED)
			rc[n].will_retry_until =
			    env->arrival + conf->maximal_queue_lifetime;
		n++;
	}
	if (n == 0) {
		ret = 0; /* nothing asked for */
		goto out;
	}
	if (strcmp(env->proto, "2BOUNCE") == 0) {
		log_info("%s: a double bounce cannot be delivered; discarded",
		    j->id);
		ret = 0;
		goto out;
	}
	if (env->sender[0] == '\0') {
		to = conf->bounce_notice_recipient_2;
		proto = "2BOUNCE";
		if (success || to == NULL || to[0] == '\0') {
			log_info("%s: undeliverable mail from <>; %s", j->id,
			    success ? "no notification"
			            : "2bounce_notice_recipient is empty: "
			              "discarded");
			ret = 0;
			goto out;
		}
		full = false;
	}
	buf_init(&out, QMGR_BOUNCE_MAX);
	from = xasprintf("%s@%s", conf->bounce_sender_name, conf->myhostname);
	msgid = xasprintf("<%llu.%s.%s@%s>", (unsigned long long)now, j->id,
	    kind == QMGR_DSN_FAILED        ? "bounce"
	        : kind == QMGR_DSN_DELAYED ? "delay"
	                                   : "notice",
	    conf->myhostname);
	boundary = xasprintf(
	    "%s.%llu/%s", j->id, (unsigned long long)now, conf->myhostname);
	memset(&r, 0, sizeof(r));
	r.reporting_mta = conf->myhostname;
	r.mail_name = conf->mail_name;
	r.postmaster = from;
	r.to = to;
	r.queue_id = j->id;
	r.envid = env->envid;
	r.received_from = NULL;
	r.arrival = env->arrival;
	r.now = now;
	r.message_id = msgid;
	r.boundary = boundary;
	r.full = full;
	r.body_8bit = env->body_8bit;
	r.smtputf8 = env->smtputf8;
	r.rcpts = rc;
	r.nrcpt = n;
	if (bounce_dsn_head(&r, &out) == -1) {
		(void)!buf_printf(err, "the report would be too large");
		goto out_buf;
	}
	if ((qm = queue_msg_create(q->queue_dir, err)) == NULL)
		goto out_buf;
	if (queue_msg_write(qm, out.data, out.len) == -1) {
		(void)!buf_printf(err, "cannot write the bounce: %m");
		goto out_buf;
	}
	if (qmgr_bounce_copy(j, qm, full, err) == -1)
		goto out_buf;
	buf_reset(&out);
	if (bounce_dsn_tail(&r, &out) == -1 ||
	    queue_msg_write(qm, out.data, out.len) == -1) {
		(void)!buf_printf(err, "cannot write the bounce: %m");
		goto out_buf;
	}
	memset(&benv, 0, sizeof(benv));
	rcpts[0] = to;
	benv.arrival = now;
	benv.sender = "";
	benv.rcpts = rcpts;
	benv.nrcpt = 1;
	benv.client_name = "localhost";
	benv.client_addr = "127.0.0.1";
	benv.helo = "";
	benv.proto = proto;
	benv.smtputf8 = env->smtputf8;
	benv.body_8bit = env->body_8bit;
	if (queue_msg_commit(qm, &benv) == -1) {
		(void)!buf_printf(err, "cannot commit the bounce: %m");
		goto out_buf;
	}
	/* Postfix: "ID: sender non-delivery notification: NEWID" */
	log_info("%s: sender %s notification: %s", j->id,
	    kind == QMGR_DSN_FAILED        ? "non-delivery"
	        : kind == QMGR_DSN_DELAYED ? "delay"
	                                   : "delivery status",
	    queue_msg_id(qm));
	queue_poke(q->queue_dir, queue_msg_id(qm));
	ret = 0;
out_buf:
	buf_free(&out);
out:
	queue_msg_free(&qm);
	for (i = 0; i < n; i++)
		free(hosts[i]);
	free(hosts);
	free(rc);
	free(from);
	free(msgid);
	free(boundary);
	return ret;
}
