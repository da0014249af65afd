/*
 * Message reception: DATA (RFC 5321 4.1.1.4) and BDAT (RFC 3030) bodies
 * go through the decoders of smtp_data.c into the queue file, with the
 * Received: header (RFC 5321 4.4) in front; at the end the queue file is
 * committed on a worker thread and "250 ... queued as ID" is sent from
 * the job's done callback, once the message is durable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "lib/conf.h"
#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "queue/queue_file.h"
#include "smtp/smtp_session_private.h"

/* Decoder output is flushed to the queue file after each input slice;
 * a slice is at most this long so the output never outgrows tx->out. */
#define SMTP_SLICE_MAX (64 * 1024)

static const char *
smtp_receive_proto(const struct smtp_session *s)
{
	/* RFC 3848 and RFC 6531 3.7.3 with-protocol names */
	bool a = s->sasl_username != NULL;

	if (s->tx->smtputf8)
		return s->tls ? (a ? "UTF8SMTPSA" : "UTF8SMTPS")
			      : (a ? "UTF8SMTPA" : "UTF8SMTP");
	if (s->tls)
		return a ? "ESMTPSA" : "ESMTPS";
	if (a)
		return "ESMTPA";
	return s->esmtp ? "ESMTP" : "SMTP";
}

static void
smtp_receive_write(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_tx *tx = s->tx;

	if (tx->too_big || tx->write_failed)
		return;
	if (queue_msg_size(tx->qm) + n > s->srv->conf->message_size_limit) {
		tx->too_big = true;
		return;
	}
	if (queue_msg_write(tx->qm, p, n) == -1) {
		log_warn("%s: queue file write error: %m",
		    queue_msg_id(tx->qm));
		tx->write_failed = true;
	}
}

/* Writes the Received: header that starts every stored message. */
static void
smtp_receive_header(struct smtp_session *s)
{
	const struct conf *conf = s->srv->conf;
	struct smtp_tx *tx = s->tx;
	char date[64];
	struct buf h;
	struct tm tm;
	time_t now = time(NULL);

	(void)localtime_r(&now, &tm);
	/* RFC 5322 3.3 date-time, C locale */
	(void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z (%Z)",
	    &tm);
	buf_init(&h, 8192);
	if (buf_printf(&h, "Received: from %s (%s [%s])\n", s->helo, s->name,
		s->addr) == -1)
		goto out;
	if (s->tls && conf->smtpd_tls_received_header) {
		/* Postfix's form: "(using TLSv1.3 with cipher ...)" */
		if (buf_append_str(&h, "\t(using ") == -1)
			goto out;
		smtp_session_tls_describe(s, &h);
		if (buf_append_str(&h, ")\n") == -1)
			goto out;
	}
	if (s->sasl_username != NULL && conf->smtpd_sasl_authenticated_header &&
	    buf_printf(&h, "\t(Authenticated sender: %s)\n",
		s->sasl_username) == -1)
		goto out;
	if (buf_printf(&h, "\tby %s (%s) with %s id %s", conf->myhostname,
		conf->mail_name, smtp_receive_proto(s),
		queue_msg_id(tx->qm)) == -1)
		goto out;
	/* Postfix names the recipient only when there is one (privacy). */
	if (tx->nrcpt == 1 && buf_printf(&h, "\n\tfor <%s>", tx->rcpts[0]) == -1)
		goto out;
	if (buf_printf(&h, "; %s\n", date) == -1)
		goto out;
	smtp_receive_write(s, h.data, h.len);
out:
	buf_free(&h);
}

/* A commit running on a worker thread. */
struct commit_job {
	struct smtp_session *s;
	struct queue_msg *qm;
	struct queue_env env;
	int ret;
	int err;
};

static void
commit_job_run(void *arg)
{
	struct commit_job *j = arg;

	j->ret = queue_msg_commit(j->qm, &j->env);
	j->err = errno;
}

static void
commit_job_done(void *arg)
{
	struct commit_job *j = arg;
	struct smtp_session *s = j->s;
	char id[QUEUE_ID_MAX];

	(void)snprintf(id, sizeof(id), "%s", queue_msg_id(j->qm));
	if (j->ret == 0)
		queue_poke(s->srv->conf->queue_directory, id);
	else {
		errno = j->err;
		log_warn("%s: cannot commit queue file: %m", id);
	}
	/* The message is durable (or not) whatever became of the client. */
	if (smtp_session_release(s) && s->bev != NULL) {
		if (j->ret == 0)
			smtp_reply(s, 250, "2.0.0", "Ok: queued as %s", id);
		else
			smtp_reply(s, 451, "4.3.0",
			    "Error: queue file write error");
		smtp_session_reset_tx(s);
		smtp_session_resume(s);
	}
	free(j);
}

/* The end of the body: answer an error now, or commit and answer later. */
static void
smtp_receive_finish(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	struct commit_job *j;

	if (tx->too_big) {
		smtp_reply(s, 552, "5.3.4", "Message size exceeds fixed limit");
		log_info("%s: reject: %s from %s: 552 5.3.4 Message size "
			 "exceeds fixed limit; proto=%s helo=<%s>",
		    queue_msg_id(tx->qm), tx->bdat_seen ? "BDAT" : "DATA",
		    smtp_session_peer(s), smtp_receive_proto(s),
		    log_sanitize_str(s->helo));
		smtp_session_reset_tx(s);
		return;
	}
	if (tx->write_failed) {
		smtp_reply(s, 451, "4.3.0", "Error: queue file write error");
		smtp_session_reset_tx(s);
		return;
	}
	if (tx->dec.saw_bare_lf && tx->dec.reject_bare_lf) {
		/* CVE-2023-51766 class: strict mode refuses bare LF. */
		smtp_reply(s, 550, "5.5.2",
		    "Error: bare <LF> received; use <CR><LF>");
		smtp_session_reset_tx(s);
		smtp_session_error(s);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->qm = tx->qm;
	j->env.sender = tx->sender;
	j->env.rcpts = (const char *const *)tx->rcpts;
	j->env.nrcpt = tx->nrcpt;
	j->env.client_name = s->name;
	j->env.client_addr = s->addr;
	j->env.helo = s->helo != NULL ? s->helo : "";
	j->env.proto = smtp_receive_proto(s);
	j->env.smtputf8 = tx->smtputf8;
	j->env.body_8bit = tx->body_8bit;
	j->env.dsn_ret = tx->dsn_ret;
	j->env.envid = tx->envid;
	j->env.notify = tx->notify;
	j->env.orcpt = (const char *const *)tx->orcpt;
	{
		struct timeval tv;

		(void)gettimeofday(&tv, NULL);
		j->env.arrival = (uint64_t)tv.tv_sec;
		j->env.arrival_usec = (uint64_t)tv.tv_usec;
	}
	smtp_session_hold(s);
	worker_submit(s->srv->workers, commit_job_run, commit_job_done, j);
}

void
smtp_receive_start_data(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;

	smtp_data_init(&tx->dec, s->srv->conf->smtpd_reject_bare_newline);
	smtp_session_set_state(s, SMTP_STATE_DATA);
	smtp_receive_header(s);
	smtp_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

size_t
smtp_receive_data(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_tx *tx = s->tx;
	size_t used = 0;
	int r;

	if (n > SMTP_SLICE_MAX)
		n = SMTP_SLICE_MAX;
	buf_reset(&tx->out);
	r = smtp_data_feed(&tx->dec, p, n, &tx->out, &used);
	smtp_receive_write(s, tx->out.data, tx->out.len);
	buf_reset(&tx->out);
	if (r == -1)
		log_panic("smtp: decoder output outgrew its buffer");
	if (r == SMTP_DATA_DONE)
		smtp_receive_finish(s);
	return used;
}

void
smtp_receive_start_bdat(struct smtp_session *s, uint64_t size, bool last)
{
	struct smtp_tx *tx = s->tx;

	if (!tx->bdat_seen) {
		tx->bdat_seen = true;
		smtp_bdat_init(&tx->dec);
		smtp_session_set_state(s, SMTP_STATE_BDAT);
		smtp_receive_header(s);
	}
	tx->bdat_left = size;
	tx->bdat_total += size;
	tx->bdat_last = last;
	tx->in_chunk = true;
	/* Declared chunks over the limit are read and dropped, not stored. */
	if (queue_msg_size(tx->qm) + size > s->srv->conf->message_size_limit)
		tx->too_big = true;
	if (size == 0)
		(void)smtp_receive_bdat(s, "", 0);
}

size_t
smtp_receive_bdat(struct smtp_session *s, const char *p, size_t n)
{
	struct smtp_tx *tx = s->tx;
	if (n > tx->bdat_left)
		n = (size_t)tx->bdat_left;
	if (n > SMTP_SLICE_MAX)
		n = SMTP_SLICE_MAX;
	tx->bdat_left -= n;
	buf_reset(&tx->out);
	if (smtp_bdat_feed(&tx->dec, p, n, tx->bdat_last && tx->bdat_left == 0,
		&tx->out) == -1)
		log_panic("smtp: decoder output outgrew its buffer");
	smtp_receive_write(s, tx->out.data, tx->out.len);
	buf_reset(&tx->out);
	if (tx->bdat_left > 0)
		return n;
	tx->in_chunk = false;
	if (tx->bdat_last || tx->too_big || tx->write_failed) {
		/* RFC 3030 2: a failed chunk ends the transaction */
		smtp_receive_finish(s);
		return n;
	}
	smtp_reply(s, 250, "2.0.0", "Ok: %llu octets received",
	    (unsigned long long)tx->bdat_total);
	return n;
}
