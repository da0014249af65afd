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

int
qmgr_bounce_send(struct qmgr_job *j, struct buf *err)
{
	struct qmgr *q = j->q;
	const struct conf *conf = q->conf;
	const struct queue_env *env = queue_file_env(j->qf);
	struct dsn_rcpt *rc = NULL;
	struct dsn_report r;
	struct queue_env benv;
	struct queue_msg *qm = NULL;
	struct buf out, hdr;
	const char *to = env->sender, *proto = "BOUNCE";
	const char *rcpts[1];
	char *from = NULL, *msgid = NULL, *boundary = NULL, **hosts = NULL;
	uint64_t now = (uint64_t)time(NULL), blen;
	size_t i, hlen;
	ssize_t got;
	int ret = -1;

	if (strcmp(env->proto, "2BOUNCE") == 0) {
		log_info("%s: a double bounce cannot be delivered; discarded",
		    j->id);
		return 0;
	}
	if (env->sender[0] == '\0') {
		to = conf->bounce_notice_recipient_2;
		proto = "2BOUNCE";
		if (to == NULL || to[0] == '\0') {
			log_info("%s: undeliverable mail from <>; "
			         "2bounce_notice_recipient is empty: discarded",
			    j->id);
			return 0;
		}
	}
	buf_init(&out, QMGR_BOUNCE_MAX);
	buf_init(&hdr, QMGR_BOUNCE_HDR_MAX + 1);
	/* the original's header section, read from the queue file */
	blen = queue_file_body_size(j->qf);
	hlen = blen < QMGR_BOUNCE_HDR_MAX ? (size_t)blen : QMGR_BOUNCE_HDR_MAX;
	if (hlen > 0) {
		char *tmp = xmalloc(hlen);

		got = pread(queue_file_fd(j->qf), tmp, hlen,
		    (off_t)queue_file_body_offset(j->qf));
		if (got < 0 || (size_t)got != hlen) {
			free(tmp);
			(void)!buf_printf(err, "cannot read the queue file: %s",
			    got < 0 ? strerror(errno) : "short read");
			goto out;
		}
		hlen = bounce_dsn_header_len(tmp, hlen);
		if (buf_append(&hdr, tmp, hlen) == -1) {
			free(tmp);
			goto nobufs;
		}
		free(tmp);
	}
	rc = xcalloc(j->nbounce, sizeof(*rc));
	hosts = xcalloc(j->nbounce, sizeof(*hosts));
	for (i = 0; i < j->nbounce; i++) {
		const struct qmgr_bounce_item *b = &j->bounces[i];

		hosts[i] = qmgr_bounce_host(b->remote);
		rc[i].final_rcpt = b->address;
		if (strcmp(b->address, env->rcpts[b->rcpt]) != 0)
			rc[i].orig_rcpt = env->rcpts[b->rcpt];
		rc[i].orig_type = rc[i].orig_rcpt != NULL ? "rfc822" : NULL;
		rc[i].action = DSN_ACTION_FAILED;
		rc[i].status = b->dsn;
		rc[i].remote_mta = hosts[i];
		rc[i].diag = b->diag;
		rc[i].reason = b->text;
		rc[i].last_attempt = now;
	}
	from = xasprintf("%s@%s", conf->bounce_sender_name, conf->myhostname);
	msgid = xasprintf("<%llu.%s.bounce@%s>", (unsigned long long)now,
	    j->id, conf->myhostname);
	boundary = xasprintf("%s.%llu/%s", j->id, (unsigned long long)now,
	    conf->myhostname);
	memset(&r, 0, sizeof(r));
	r.reporting_mta = conf->myhostname;
	r.mail_name = conf->mail_name;
	r.postmaster = from;
	r.to = to;
	r.queue_id = j->id;
	r.arrival = env->arrival;
	r.now = now;
	r.message_id = msgid;
	r.boundary = boundary;
	r.body_8bit = env->body_8bit;
	r.smtputf8 = env->smtputf8;
	r.rcpts = rc;
	r.nrcpt = j->nbounce;
	if (bounce_dsn_head(&r, &out) == -1 ||
	    buf_append(&out, hdr.data != NULL ? hdr.data : "", hdr.len) == -1 ||
	    bounce_dsn_tail(&r, &out) == -1)
		goto nobufs;
	if ((qm = queue_msg_create(q->queue_dir, err)) == NULL)
		goto out;
	if (queue_msg_write(qm, out.data, out.len) == -1) {
		(void)!buf_printf(err, "cannot write the bounce: %m");
		goto out;
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
		goto out;
	}
	/* Postfix: "ID: sender non-delivery notification: NEWID" */
	log_info("%s: sender non-delivery notification: %s", j->id,
	    queue_msg_id(qm));
	queue_poke(q->queue_dir, queue_msg_id(qm));
	ret = 0;
	goto out;
nobufs:
	(void)!buf_printf(err, "the bounce would be too large");
out:
	queue_msg_free(&qm);
	for (i = 0; hosts != NULL && i < j->nbounce; i++)
		free(hosts[i]);
	free(hosts);
	free(rc);
	free(from);
	free(msgid);
	free(boundary);
	buf_free(&hdr);
	buf_free(&out);
	return ret;
}
