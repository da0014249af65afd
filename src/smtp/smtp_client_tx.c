/*
 * The mail transaction of the SMTP client (see smtp_client_private.h):
 * what cannot go to this server at all (SIZE, SMTPUTF8), MAIL, RCPT and
 * DATA pipelined when the server offers PIPELINING (RFC 2920), the DSN
 * parameters passed on (RFC 3461), the content streamed from the queue
 * file, and the per-recipient results of the replies.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/queue_file.h"
#include "queue/xtext.h"
#include "smtp/smtp_client_private.h"
#include "smtp/smtp_downgrade.h"

/* The message cannot go to this server at all (SIZE, SMTPUTF8). */
static bool
sc_tx_check(struct smtp_client *c)
{
	struct smtp_client_msg *m = c->msg;
	char why[1024];

	if ((c->ehlo.ext & SMTP_EXT_SIZE) && c->ehlo.size_max > 0 &&
	    m->wire_size > c->ehlo.size_max) {
		/* RFC 1870 6: do not send what the server will refuse */
		smtp_client_fmt(why, sizeof(why),
		    "message size %llu exceeds size limit %llu of server %s",
		    (unsigned long long)m->wire_size,
		    (unsigned long long)c->ehlo.size_max, c->peer_noport);
		smtp_client_settle(c, SMTP_RCPT_BOUNCED, "5.3.4", why, NULL);
		return false;
	}
	if (m->smtputf8 && !(c->ehlo.ext & SMTP_EXT_SMTPUTF8)) {
		/* RFC 6531 3.4: no downgrade; the message is returned */
		smtp_client_fmt(why, sizeof(why),
		    "SMTPUTF8 is required, but was not offered by host %s",
		    c->peer_noport);
		smtp_client_settle(c, SMTP_RCPT_BOUNCED, "5.6.7", why, NULL);
		return false;
	}
	return true;
}

/* " NOTIFY=SUCCESS,FAILURE" (RFC 3461 4.1) */
static void
sc_notify(unsigned bits, struct buf *l)
{
	const char *sep = "=";

	(void)!buf_append_str(l, " NOTIFY");
	if (bits & QUEUE_DSN_NOTIFY_NEVER) {
		(void)!buf_append_str(l, "=NEVER");
		return;
	}
	if (bits & QUEUE_DSN_NOTIFY_SUCCESS) {
		(void)!buf_printf(l, "%sSUCCESS", sep);
		sep = ",";
	}
	if (bits & QUEUE_DSN_NOTIFY_FAILURE) {
		(void)!buf_printf(l, "%sFAILURE", sep);
		sep = ",";
	}
	if (bits & QUEUE_DSN_NOTIFY_DELAY)
		(void)!buf_printf(l, "%sDELAY", sep);
}

static void
sc_send_tx_cmd(struct smtp_client *c, size_t k)
{
	struct smtp_client_msg *m = c->msg;

	if (k == 0) {
		struct buf l;

		buf_init(&l, 4096);
		(void)!buf_printf(&l, "MAIL FROM:<%s>", m->sender);
		if (c->ehlo.ext & SMTP_EXT_SIZE)
			(void)!buf_printf(
			    &l, " SIZE=%llu", (unsigned long long)m->wire_size);
		if (m->body_8bit && (c->ehlo.ext & SMTP_EXT_8BITMIME))
			(void)!buf_append_str(&l, " BODY=8BITMIME");
		if (m->smtputf8)
			(void)!buf_append_str(&l, " SMTPUTF8");
		m->dsn_passed = (c->ehlo.ext & SMTP_EXT_DSN) != 0;
		/* RFC 3461 4.3, 4.4: passed on to a server that offers DSN */
		if (m->dsn_passed && m->dsn_ret != 0)
			(void)!buf_append_str(&l,
			    m->dsn_ret == QUEUE_DSN_RET_FULL ? " RET=FULL"
			                                     : " RET=HDRS");
		if (m->dsn_passed && m->envid != NULL &&
		    (buf_append_str(&l, " ENVID=") == -1 ||
		        xtext_encode(m->envid, strlen(m->envid), &l) == -1))
			log_warn("%s: ENVID too long to pass on", m->id);
		smtp_client_send(c, "%s", buf_cstr(&l));
		buf_free(&l);
	} else if (k <= m->nrcpt) {
		const struct smtp_client_rcpt *r = &m->rcpts[k - 1];
		struct buf l;

		buf_init(&l, 4096);
		(void)!buf_printf(&l, "RCPT TO:<%s>", r->address);
		if (m->dsn_passed && r->notify != 0)
			sc_notify(r->notify, &l);
		/* RFC 3461 4.2: ORCPT=addr-type;xtext (rfc822 only here) */
		if (m->dsn_passed && r->orcpt != NULL &&
		    strncmp(r->orcpt, "rfc822;", 7) == 0 &&
		    (buf_append_str(&l, " ORCPT=rfc822;") == -1 ||
		        xtext_encode(r->orcpt + 7, strlen(r->orcpt + 7), &l) ==
		            -1))
			log_warn("%s: ORCPT too long to pass on", m->id);
		smtp_client_send(c, "%s", buf_cstr(&l));
		buf_free(&l);
	} else
		smtp_client_send(c, "DATA");
	c->tx_sent = k + 1;
}

/* Starts the transaction of c->msg. */
void
smtp_client_tx_start(struct smtp_client *c)
{
	struct smtp_client_msg *m;
	size_t k, n;

	for (;;) {
		if ((m = c->msg) == NULL) {
			smtp_client_idle(c);
			return;
		}
		smtp_client_fmt(m->relay, sizeof(m->relay), "%s", c->peer);
		m->t_conn = smtp_client_now();
		c->nmsgs++;
		if (sc_tx_check(c))
			break;
		/* settled: maybe the next one fits */
		c->msg = c->ops->next(c->arg, c);
	}
	c->state = SC_TX;
	c->tx_sent = c->tx_recv = 0;
	c->mail_ok = false;
	c->naccepted = 0;
	c->data_abort = false;
	free(c->accepted);
	c->accepted = xcalloc(m->nrcpt + 1, sizeof(*c->accepted));
	/* RFC 3030 2: BDAT instead of DATA, the content sent as it is (no
	 * dot-stuffing) in chunks of known size, after the RCPT replies */
	c->bdat = c->env->chunking && (c->ehlo.ext & SMTP_EXT_CHUNKING);
	c->bdat_sent = c->bdat_recv = 0;
	c->bdat_fail = 0;
	/* RFC 2920 3.1: MAIL, RCPT and DATA may go in one group, DATA last */
	n = (c->ehlo.ext & SMTP_EXT_PIPELINING) ? m->nrcpt + (c->bdat ? 1 : 2)
	                                        : 1;
	for (k = 0; k < n; k++)
		sc_send_tx_cmd(c, k);
	smtp_client_timeout(c, c->env->t_mail);
}

/* Puts p[0..n) of content on the wire: a BDAT chunk (the last one when
 * last), or dot-stuffed DATA content. */
static void
sc_body_emit(
    struct smtp_client *c, const char *p, size_t n, bool last, char *enc)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t piece, e;

	do {
		piece = n < SC_BODY_CHUNK ? n : SC_BODY_CHUNK;
		if (c->bdat) {
			bool fin = last && piece == n;

			e = smtp_dotstuff_crlf(p, piece, enc);
			(void)evbuffer_add_printf(
			    out, "BDAT %zu%s\r\n", e, fin ? " LAST" : "");
			(void)evbuffer_add(out, enc, e);
			c->bdat_sent++;
			if (fin)
				c->body_eof = true;
		} else {
			e = smtp_dotstuff_feed(&c->ds, p, piece, enc);
			(void)evbuffer_add(out, enc, e);
		}
		p += piece;
		n -= piece;
	} while (n > 0);
}

/* Fills the output with content up to the high watermark. */
void
smtp_client_body_fill(struct smtp_client *c)
{
	struct smtp_client_msg *m = c->msg;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char in[SC_BODY_CHUNK];
	char *enc;
	size_t want, n;
	ssize_t r;
	bool last;

	enc = xmalloc(2 * SC_BODY_CHUNK + 8);
	while (!c->body_eof && evbuffer_get_length(out) < SC_OUT_HIGH) {
		want = m->body_len - c->body_done < SC_BODY_CHUNK
		    ? (size_t)(m->body_len - c->body_done)
		    : SC_BODY_CHUNK;
		if (!c->bdat && (want == 0 || c->data_abort)) {
			n = smtp_dotstuff_end(&c->ds, enc);
			(void)evbuffer_add(out, enc, n);
			c->body_eof = true;
			break;
		}
		if (c->bdat && want == 0) {
			/* an empty message, or one that ended on a chunk
			 * boundary: the last chunk is empty */
			smtp_client_send(c, "BDAT 0 LAST");
			c->bdat_sent++;
			c->body_eof = true;
			break;
		}
		r = pread(m->fd, in, want, (off_t)(m->body_off + c->body_done));
		if (r <= 0) {
			char why[256];

			smtp_client_fmt(why, sizeof(why),
			    "cannot read the queue file: %s",
			    r == 0 ? "unexpected end" : strerror(errno));
			free(enc);
			log_warn("%s: %s", m->id, why);
			smtp_client_settle(
			    c, SMTP_RCPT_DEFERRED, "4.3.0", why, NULL);
			smtp_client_finish(c, why);
			return;
		}
		c->body_done += (uint64_t)r;
		last = c->body_done == m->body_len;
		if (c->down == NULL) {
			sc_body_emit(c, in, (size_t)r, last, enc);
			continue;
		}
		/* RFC 6152 (and Postfix): 8-bit content to a server without
		 * 8BITMIME goes as quoted-printable */
		buf_reset(&c->down_out);
		if (smtp_downgrade_feed(c->down, in, (size_t)r, &c->down_out) ==
		        -1 ||
		    (last && smtp_downgrade_end(c->down, &c->down_out) == -1)) {
			free(enc);
			log_warn(
			    "%s: cannot convert the message to 7 bits", m->id);
			smtp_client_settle(c, SMTP_RCPT_DEFERRED, "4.3.0",
			    "cannot convert the message to 7 bits", NULL);
			smtp_client_finish(c, "conversion failed");
			return;
		}
		if (c->down_out.len > 0 || (c->bdat && last))
			sc_body_emit(c,
			    c->down_out.data != NULL ? c->down_out.data : "",
			    c->down_out.len, last, enc);
	}
	free(enc);
	if (c->body_eof) {
		c->state = SC_DOT;
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		smtp_client_timeout(c, c->env->t_data_done);
	}
}

static void
sc_body_start(struct smtp_client *c)
{
	struct smtp_client_msg *m = c->msg;
	/* the converter's own bounds (smtp_downgrade.h) */
	static const struct smtp_downgrade_limits lim = { 64 * 1024, 32,
		256 * 1024 };

	c->state = SC_BODY;
	smtp_dotstuff_init(&c->ds);
	c->body_done = 0;
	c->body_eof = false;
	smtp_downgrade_free(&c->down);
	if (m->body_8bit && !(c->ehlo.ext & SMTP_EXT_8BITMIME)) {
		c->down = smtp_downgrade_new(&lim);
		buf_free(&c->down_out);
		/* one feed appends at most 9n + 4 (header + line) + 128 */
		buf_init(&c->down_out,
		    9 * SC_BODY_CHUNK + 4 * (lim.header_max + lim.line_max) +
		        256);
	}
	bufferevent_setwatermark(c->bev, EV_WRITE, SC_OUT_LOW, 0);
	smtp_client_body_fill(c);
}

/* One reply of the transaction, for command k of [MAIL, RCPT..., DATA]. */
void
smtp_client_tx_reply(struct smtp_client *c)
{
	struct smtp_client_msg *m = c->msg;
	size_t k = c->tx_recv++;
	int code = c->reply.code;
	char dsn[16], text[1024], diag[1024];
	enum smtp_rcpt_status st =
	    code >= 500 ? SMTP_RCPT_BOUNCED : SMTP_RCPT_DEFERRED;

	smtp_client_reply_dsn(&c->reply, dsn, sizeof(dsn));
	if (k == 0) {
		c->mail_ok = code / 100 == 2;
		if (!c->mail_ok) {
			smtp_client_reply_text(c, "MAIL FROM command", text,
			    sizeof(text), diag, sizeof(diag));
			for (size_t i = 0; i < m->nrcpt; i++)
				smtp_client_rcpt_set(
				    &m->rcpts[i], st, dsn, text, diag);
		}
	} else if (k <= m->nrcpt) {
		if (c->mail_ok && code / 100 == 2) {
			c->accepted[k - 1] = true;
			c->naccepted++;
		} else if (c->mail_ok) {
			smtp_client_reply_text(c, "RCPT TO command", text,
			    sizeof(text), diag, sizeof(diag));
			smtp_client_rcpt_set(
			    &m->rcpts[k - 1], st, dsn, text, diag);
		}
	} else {
		/* the DATA reply */
		if (code == 354) {
			c->data_abort = c->naccepted == 0;
			sc_body_start(c);
			return;
		}
		if (c->naccepted > 0) {
			smtp_client_reply_text(c, "DATA command", text,
			    sizeof(text), diag, sizeof(diag));
			smtp_client_settle(c, st, dsn, text, diag);
		} else
			smtp_client_settle(c, SMTP_RCPT_DEFERRED, "4.0.0",
			    "no recipient accepted", NULL);
		smtp_client_idle(c);
		return;
	}
	if (c->bdat && c->tx_recv == m->nrcpt + 1) {
		/* every RCPT has its reply: the content, or nothing */
		if (c->naccepted > 0)
			sc_body_start(c);
		else {
			smtp_client_settle(c, SMTP_RCPT_DEFERRED, "4.0.0",
			    "no recipient accepted", NULL);
			smtp_client_idle(c);
		}
		return;
	}
	/* without PIPELINING: one command at a time */
	if (c->tx_recv == c->tx_sent) {
		if (k < m->nrcpt && c->mail_ok) {
			sc_send_tx_cmd(c, k + 1);
			smtp_client_timeout(c, c->env->t_rcpt);
		} else if (c->naccepted > 0) {
			sc_send_tx_cmd(c, m->nrcpt + 1);
			smtp_client_timeout(c, c->env->t_data_init);
		} else {
			smtp_client_settle(c, SMTP_RCPT_DEFERRED, "4.0.0",
			    "no recipient accepted", NULL);
			smtp_client_idle(c);
		}
		return;
	}
	smtp_client_timeout(
	    c, k < m->nrcpt ? c->env->t_rcpt : c->env->t_data_init);
}

/* The end-of-data reply: the result of every accepted recipient. */
void
smtp_client_dot_reply(struct smtp_client *c)
{
	struct smtp_client_msg *m = c->msg;
	int code = c->reply.code;
	char dsn[16], text[1024], diag[1024];
	struct buf b;
	size_t i;

	if (c->data_abort) {
		smtp_client_settle(c, SMTP_RCPT_DEFERRED, "4.0.0",
		    "no recipient accepted", NULL);
		smtp_client_idle(c);
		return;
	}
	smtp_client_reply_dsn(&c->reply, dsn, sizeof(dsn));
	if (code / 100 == 2) {
		buf_init(&b, 1000);
		if (smtp_reply_format(&c->reply, &b) == -1 && b.len == 0)
			(void)!buf_printf(&b, "%d", code);
		for (i = 0; i < m->nrcpt; i++)
			if (c->accepted[i])
				smtp_client_rcpt_set(&m->rcpts[i],
				    SMTP_RCPT_SENT, dsn, buf_cstr(&b),
				    buf_cstr(&b));
		buf_free(&b);
	} else {
		smtp_client_reply_text(c, "end of DATA command", text,
		    sizeof(text), diag, sizeof(diag));
		for (i = 0; i < m->nrcpt; i++)
			if (c->accepted[i])
				smtp_client_rcpt_set(&m->rcpts[i],
				    code >= 500 ? SMTP_RCPT_BOUNCED
				                : SMTP_RCPT_DEFERRED,
				    dsn, text, diag);
	}
	smtp_client_settle(c, SMTP_RCPT_DEFERRED, "4.0.0", "no result", NULL);
	smtp_client_idle(c);
}

/* RFC 3030 2: each BDAT has a reply; the last one's is the message's
 * result, unless an earlier chunk failed (then the server discarded the
 * message and that first failure is the result). */
void
smtp_client_bdat_reply(struct smtp_client *c)
{
	bool last;

	c->bdat_recv++;
	last = c->body_eof && c->bdat_recv == c->bdat_sent;
	if (c->reply.code / 100 != 2 && c->bdat_fail == 0) {
		c->bdat_fail = c->reply.code;
		smtp_reply_reset(&c->bdat_reply);
		c->bdat_reply.code = c->reply.code;
		(void)snprintf(c->bdat_reply.dsn, sizeof(c->bdat_reply.dsn),
		    "%s", c->reply.dsn);
		c->bdat_reply.nlines = c->reply.nlines;
		(void)!buf_append(
		    &c->bdat_reply.text, c->reply.text.data, c->reply.text.len);
	}
	if (!last)
		return;
	if (c->bdat_fail != 0) {
		struct smtp_reply t = c->reply;

		c->reply = c->bdat_reply;
		c->bdat_reply = t;
	}
	smtp_client_dot_reply(c);
}
