/*
 * SMTP command handlers (RFC 5321 4.1, with RFC 1870 SIZE, RFC 2920
 * PIPELINING, RFC 2034/3463 enhanced status codes, RFC 6152 8BITMIME,
 * RFC 6531 SMTPUTF8, RFC 3030 CHUNKING). Each handler checks syntax and
 * state before it changes anything (OpenSMTPD's check/proceed split).
 * Recipient lookups run on the worker pool; the reply is sent from the
 * job's done callback.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/resolve.h"
#include "policy/restrict.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/mailaddr.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "queue/queue_file.h"
#include "smtp/smtp_dsn_param.h"
#include "smtp/smtp_session_private.h"

typedef void smtp_cmd_fn(struct smtp_session *, const struct smtp_cmd *);

struct smtp_command {
	enum smtp_verb verb;
	const char *name;
	unsigned allowed; /* states in which the verb is in sequence */
	enum smtp_counter counter;
	smtp_cmd_fn *fn;
};

static void
smtp_reply_parse_err(struct smtp_session *s, const struct smtp_parse_err *e)
{
	if (e->detail.n > 0)
		smtp_reply(s, e->code, e->enh, "%s: %.*s", e->text,
		    (int)e->detail.n, e->detail.p);
	else
		smtp_reply(s, e->code, e->enh, "%s", e->text);
	smtp_session_error(s);
}

void
smtp_tx_free(struct smtp_tx **txp)
{
	struct smtp_tx *tx = *txp;
	size_t i;

	if (tx == NULL)
		return;
	queue_msg_free(&tx->qm);
	for (i = 0; i < tx->nrcpt; i++) {
		free(tx->rcpts[i]);
		free(tx->orcpt[i]);
	}
	free(tx->rcpts);
	free(tx->orcpt);
	free(tx->notify);
	free(tx->envid);
	free(tx->sender);
	buf_free(&tx->out);
	free(tx);
	*txp = NULL;
}

void
smtp_session_reset_tx(struct smtp_session *s)
{
	smtp_tx_free(&s->tx);
	if (s->state != SMTP_STATE_CONNECTED && s->state != SMTP_STATE_CLOSED)
		smtp_session_set_state(s, SMTP_STATE_READY);
}

/* "user@example.org" from the parsed slices. */
static char *
smtp_path_address(const struct smtp_path *p)
{
	char *raw, *norm;

	if (p->null)
		return xstrdup("");
	raw = xasprintf("%.*s@%.*s", (int)p->local.n, p->local.p,
	    (int)p->domain.n, p->domain.p);
	norm = mailaddr_normalize(raw);
	if (norm == NULL)
		return raw;
	free(raw);
	return norm;
}

static void
smtp_cmd_ehlo(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	const struct conf *conf = s->srv->conf;
	bool ehlo = cmd->verb == SMTP_VERB_EHLO;
	struct smtp_parse_err err;
	struct smtp_slice dom;

	if (smtp_parse_helo(cmd->arg.p, cmd->arg.n, ehlo, &dom, &err) == -1) {
		smtp_reply_parse_err(s, &err);
		return;
	}
	/* RFC 5321 4.1.4: EHLO/HELO in a transaction resets it. */
	smtp_tx_free(&s->tx);
	free(s->helo);
	s->helo = xstrndup(dom.p, dom.n);
	s->esmtp = ehlo;
	if (s->state == SMTP_STATE_CONNECTED)
		smtp_session_set_state(s, SMTP_STATE_READY);
	else
		smtp_session_reset_tx(s);
	if (!ehlo) {
		smtp_reply(s, 250, NULL, "%s", conf->myhostname);
		return;
	}
	/* RFC 5321 4.1.1.1: one line per extension, the last with "250 ". */
	{
		struct buf r;

		buf_init(&r, 4096);
		if (buf_printf(&r,
			"250-%s\r\n250-PIPELINING\r\n250-SIZE %llu\r\n",
			conf->myhostname,
			(unsigned long long)conf->message_size_limit) == 0 &&
		    (!s->tls_offered ||
			buf_append_str(&r, "250-STARTTLS\r\n") == 0) &&
		    (!smtp_auth_offered(s) ||
			(buf_append_str(&r, "250-AUTH") == 0 &&
			    (smtp_auth_mechanisms(s, &r), true) &&
			    buf_append_str(&r, "\r\n") == 0)) &&
		    buf_append_str(&r, "250-ENHANCEDSTATUSCODES\r\n"
				       "250-8BITMIME\r\n250-DSN\r\n"
				       "250-SMTPUTF8\r\n"
				       "250 CHUNKING\r\n") == 0)
			smtp_reply_raw(s, r.data, r.len);
		buf_free(&r);
	}
}

/* MAIL FROM passed its checks (and the sender restrictions): start the
 * transaction. Takes ownership of sender. */
static void
smtp_mail_accept(struct smtp_session *s, char *sender, uint64_t size,
    bool smtputf8, bool body_8bit, int dsn_ret, char *envid)
{
	const struct conf *conf = s->srv->conf;
	struct smtp_tx *tx;
	struct buf ebuf;

	tx = xcalloc(1, sizeof(*tx));
	buf_init(&ebuf, 512);
	tx->qm = queue_msg_create(conf->queue_directory, &ebuf);
	if (tx->qm == NULL) {
		log_warn("cannot create queue file: %s", buf_cstr(&ebuf));
		buf_free(&ebuf);
		free(tx);
		free(sender);
		free(envid);
		smtp_reply(s, 451, "4.3.0", "Error: queue file write error");
		return;
	}
	buf_free(&ebuf);
	tx->sender = sender;
	tx->declared_size = size;
	tx->smtputf8 = smtputf8;
	tx->body_8bit = body_8bit;
	tx->dsn_ret = dsn_ret;
	tx->envid = envid;
	buf_init(&tx->out, 256 * 1024);
	s->tx = tx;
	smtp_session_set_state(s, SMTP_STATE_MAIL);
	if (s->sasl_username != NULL)
		log_info("%s: client=%s, sasl_method=%s, sasl_username=%s",
		    queue_msg_id(tx->qm), smtp_session_peer(s), s->sasl_method,
		    log_sanitize_str(s->sasl_username));
	else
		log_info("%s: client=%s", queue_msg_id(tx->qm),
		    smtp_session_peer(s));
	smtp_reply(s, 250, "2.1.0", "Ok");
}

/* Client, HELO and sender restrictions at MAIL (smtpd_delay_reject=no). */
struct mail_job {
	struct smtp_session *s;
	char *sender;
	uint64_t size;
	bool smtputf8, body_8bit;
	int dsn_ret;
	char *envid;
	enum restrict_verdict verdict;
	struct restrict_reply reply;
};

static void
mail_job_run(void *arg)
{
	struct mail_job *j = arg;

	j->verdict = smtp_policy_eval(j->s, RESTRICT_STAGE_SENDER, j->sender,
	    NULL, &j->reply);
}

static void
mail_job_done(void *arg)
{
	struct mail_job *j = arg;
	struct smtp_session *s = j->s;

	if (smtp_session_release(s) && s->bev != NULL) {
		smtp_log_warnings(s, "MAIL", "", &j->reply);
		if (j->verdict == RESTRICT_REJECT || j->verdict == RESTRICT_DEFER)
			smtp_reply_restriction(s, "MAIL", "", &j->reply);
		else {
			smtp_mail_accept(s, j->sender, j->size, j->smtputf8,
			    j->body_8bit, j->dsn_ret, j->envid);
			j->sender = NULL;
			j->envid = NULL;
		}
		smtp_session_resume(s);
	}
	restrict_reply_free(&j->reply);
	free(j->sender);
	free(j->envid);
	free(j);
}

static void
smtp_cmd_mail(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	const struct conf *conf = s->srv->conf;
	int dsn_ret;
	char *envid;
	struct smtp_mail_params params;
	struct smtp_parse_err err;
	struct smtp_path path;
	struct mail_job *j;

	if (s->tls_required && !s->tls) {
		/* RFC 3207 4: a server that requires TLS says so with 530 */
		smtp_reply(s, 530, "5.7.0", "Must issue a STARTTLS command first");
		smtp_session_error(s);
		return;
	}
	if (smtp_parse_mail(cmd->arg.p, cmd->arg.n, &s->srv->plimits, &path,
		&params, &err) == -1) {
		smtp_reply_parse_err(s, &err);
		return;
	}
	if (path.utf8 && !params.smtputf8) {
		/* RFC 6531 3.5: a non-ASCII address needs SMTPUTF8 */
		smtp_reply(s, 553, "5.6.7",
		    "Error: non-ASCII address requires SMTPUTF8");
		smtp_session_error(s);
		return;
	}
	if (params.has_size && params.size > conf->message_size_limit) {
		/* RFC 1870 6: a declared size over the limit is 552 */
		smtp_reply(s, 552, "5.3.4",
		    "Message size exceeds fixed limit");
		smtp_session_error(s);
		return;
	}
	if (smtp_mail_dsn(s, &params, &dsn_ret, &envid) == -1)
		return;
	if (!smtp_policy_needed(s, RESTRICT_STAGE_SENDER)) {
		smtp_mail_accept(s, smtp_path_address(&path),
		    params.has_size ? params.size : 0, params.smtputf8,
		    params.body != SMTP_BODY_7BIT, dsn_ret, envid);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->sender = smtp_path_address(&path);
	j->size = params.has_size ? params.size : 0;
	j->smtputf8 = params.smtputf8;
	j->body_8bit = params.body != SMTP_BODY_7BIT;
	j->dsn_ret = dsn_ret;
	j->envid = envid;
	restrict_reply_init(&j->reply);
	smtp_session_hold(s);
	worker_submit(s->srv->policy_workers, mail_job_run, mail_job_done, j);
}

/* A recipient check running on a worker thread. */
struct rcpt_job {
	struct smtp_session *s;
	struct resolver *resolver;
	char *address;
	unsigned char notify; /* QUEUE_DSN_NOTIFY_* */
	char *orcpt;          /* "type;addr", decoded */
	enum resolve_status status;
	enum restrict_verdict verdict;
	struct restrict_reply reply;
};

static void
rcpt_job_run(void *arg)
{
	struct rcpt_job *j = arg;

	/* Postfix's order: the restriction lists, then the recipient table
	 * (smtpd_reject_unlisted_recipient). */
	j->verdict = smtp_policy_eval(j->s, RESTRICT_STAGE_RECIPIENT,
	    j->s->tx->sender, j->address, &j->reply);
	if (j->verdict == RESTRICT_REJECT || j->verdict == RESTRICT_DEFER)
		return;
	j->status = resolver_check(j->resolver, j->address);
}

static void
rcpt_job_done(void *arg)
{
	struct rcpt_job *j = arg;
	struct smtp_session *s = j->s;
	struct smtp_tx *tx;
	const char *text;

	if (!smtp_session_release(s) || s->bev == NULL || s->tx == NULL)
		goto out;
	tx = s->tx;
	smtp_log_warnings(s, "RCPT", j->address, &j->reply);
	if (j->verdict == RESTRICT_REJECT || j->verdict == RESTRICT_DEFER) {
		smtp_reply_restriction(s, "RCPT", j->address, &j->reply);
		goto resume;
	}
	switch (j->status) {
	case RESOLVE_LOCAL_OK:
	case RESOLVE_NOT_LOCAL: /* the relay restrictions allowed it */
		break;
	case RESOLVE_UNKNOWN_USER:
		text = "Recipient address rejected: User unknown";
		smtp_reply(s, 550, "5.1.1", "<%s>: %s", j->address, text);
		smtp_log_reject(s, "RCPT", j->address, 550, "5.1.1", text);
		smtp_session_error(s);
		goto resume;
	case RESOLVE_TEMPFAIL:
		text = "Recipient address rejected: temporary lookup failure";
		smtp_reply(s, 451, "4.3.0", "<%s>: %s", j->address, text);
		smtp_log_reject(s, "RCPT", j->address, 451, "4.3.0", text);
		goto resume;
	}
	/* A repeated recipient is accepted once: one copy per mailbox
	 * (Postfix's cleanup does the same). */
	for (size_t i = 0; i < tx->nrcpt; i++)
		if (strcmp(tx->rcpts[i], j->address) == 0)
			goto accepted;
	if (tx->nrcpt == tx->rcpt_cap) {
		tx->rcpt_cap = tx->rcpt_cap ? tx->rcpt_cap * 2 : 4;
		tx->rcpts = xreallocarray(tx->rcpts, tx->rcpt_cap,
		    sizeof(*tx->rcpts));
		tx->orcpt = xreallocarray(tx->orcpt, tx->rcpt_cap,
		    sizeof(*tx->orcpt));
		tx->notify = xreallocarray(tx->notify, tx->rcpt_cap, 1);
	}
	tx->orcpt[tx->nrcpt] = j->orcpt;
	tx->notify[tx->nrcpt] = j->notify;
	tx->rcpts[tx->nrcpt++] = j->address;
	j->address = NULL;
	j->orcpt = NULL;
accepted:
	s->cnt[SMTP_CNT_RCPT][0]++;
	if (s->state == SMTP_STATE_MAIL)
		smtp_session_set_state(s, SMTP_STATE_RCPT);
	smtp_reply(s, 250, "2.1.5", "Ok");
resume:
	smtp_session_resume(s);
out:
	restrict_reply_free(&j->reply);
	free(j->address);
	free(j->orcpt);
	free(j);
}

static void
smtp_cmd_rcpt(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	const struct conf *conf = s->srv->conf;
	struct smtp_rcpt_params params;
	struct smtp_parse_err err;
	struct smtp_path path;
	struct rcpt_job *j;

	if (smtp_parse_rcpt(cmd->arg.p, cmd->arg.n, &s->srv->plimits, &path,
		&params, &err) == -1) {
		smtp_reply_parse_err(s, &err);
		return;
	}
	if (path.utf8 && !s->tx->smtputf8) {
		smtp_reply(s, 553, "5.6.7",
		    "Error: non-ASCII address requires SMTPUTF8");
		smtp_session_error(s);
		return;
	}
	if (s->tx->nrcpt >= conf->smtpd_recipient_limit) {
		/* RFC 5321 4.5.3.1.10: too many recipients is 452 */
		smtp_reply(s, 452, "4.5.3", "Error: too many recipients");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	if (smtp_rcpt_dsn(s, &params, &j->notify, &j->orcpt) == -1) {
		free(j);
		return;
	}
	j->s = s;
	j->resolver = s->srv->resolver;
	restrict_reply_init(&j->reply);
	if (path.postmaster) /* RFC 5321 4.5.1: <Postmaster> */
		j->address = xasprintf("postmaster@%s", conf->mydomain);
	else
		j->address = smtp_path_address(&path);
	smtp_session_hold(s);
	worker_submit(s->srv->policy_workers, rcpt_job_run, rcpt_job_done, j);
}

/* smtpd_data_restrictions at DATA or at the first BDAT. */
struct data_job {
	struct smtp_session *s;
	bool bdat, last;
	uint64_t size;
	enum restrict_verdict verdict;
	struct restrict_reply reply;
};

static void
data_job_run(void *arg)
{
	struct data_job *j = arg;

	j->verdict = smtp_policy_eval(j->s, RESTRICT_STAGE_DATA,
	    j->s->tx->sender, NULL, &j->reply);
}

static void
smtp_data_proceed(struct smtp_session *s, bool bdat, uint64_t size,
    bool last)
{
	if (bdat)
		smtp_receive_start_bdat(s, size, last);
	else
		smtp_receive_start_data(s);
}

static void
data_job_done(void *arg)
{
	struct data_job *j = arg;
	struct smtp_session *s = j->s;

	if (smtp_session_release(s) && s->bev != NULL && s->tx != NULL) {
		smtp_log_warnings(s, j->bdat ? "BDAT" : "DATA", "", &j->reply);
		if (j->verdict == RESTRICT_REJECT ||
		    j->verdict == RESTRICT_DEFER) {
			if (j->bdat)
				s->discard_left = j->size; /* RFC 3030 */
			smtp_reply_restriction(s, j->bdat ? "BDAT" : "DATA", "",
			    &j->reply);
		} else
			smtp_data_proceed(s, j->bdat, j->size, j->last);
		smtp_session_resume(s);
	}
	restrict_reply_free(&j->reply);
	free(j);
}

static void
smtp_data_policy(struct smtp_session *s, bool bdat, uint64_t size,
    bool last)
{
	struct data_job *j;

	if (!smtp_policy_needed(s, RESTRICT_STAGE_DATA)) {
		smtp_data_proceed(s, bdat, size, last);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->bdat = bdat;
	j->size = size;
	j->last = last;
	restrict_reply_init(&j->reply);
	smtp_session_hold(s);
	worker_submit(s->srv->policy_workers, data_job_run, data_job_done, j);
}

static void
smtp_cmd_data(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	if (cmd->arg.n > 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax: DATA");
		smtp_session_error(s);
		return;
	}
	if (s->tx->bdat_seen) {
		/* RFC 3030 2: DATA and BDAT do not mix in one transaction */
		smtp_reply(s, 503, "5.5.1", "Error: DATA after BDAT");
		smtp_session_error(s);
		return;
	}
	if (s->state == SMTP_STATE_MAIL) {
		smtp_reply(s, 554, "5.5.1", "Error: no valid recipients");
		smtp_session_error(s);
		return;
	}
	smtp_data_policy(s, false, 0, false);
}

static void
smtp_cmd_bdat(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	struct smtp_bdat_args args;
	struct smtp_parse_err err;

	if (smtp_parse_bdat(cmd->arg.p, cmd->arg.n, &args, &err) == -1) {
		/* The chunk's length is unknown: we cannot find the next
		 * command, so end the session (RFC 3030 leaves no choice). */
		smtp_reply_parse_err(s, &err);
		smtp_session_close(s, "bad BDAT syntax");
		return;
	}
	if (s->state == SMTP_STATE_CONNECTED || s->state == SMTP_STATE_READY ||
	    s->state == SMTP_STATE_MAIL) {
		/* Out of sequence or no recipients: skip the chunk, refuse. */
		s->discard_left = args.size;
		if (s->state == SMTP_STATE_MAIL)
			smtp_reply(s, 554, "5.5.1", "Error: no valid recipients");
		else
			smtp_reply(s, 503, "5.5.1", "Error: need RCPT command");
		smtp_session_error(s);
		return;
	}
	if (s->tx->bdat_seen)
		smtp_receive_start_bdat(s, args.size, args.last);
	else
		smtp_data_policy(s, true, args.size, args.last);
}

static void
smtp_cmd_rset(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	if (cmd->arg.n > 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax: RSET");
		smtp_session_error(s);
		return;
	}
	smtp_session_reset_tx(s);
	smtp_reply(s, 250, "2.0.0", "Ok");
}

static void
smtp_cmd_noop(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	/* RFC 5321 4.1.1.9: NOOP may carry a string; it is ignored */
	smtp_reply(s, 250, "2.0.0", "Ok");
}

static void
smtp_cmd_quit(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	if (cmd->arg.n > 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax: QUIT");
		smtp_session_error(s);
		return;
	}
	smtp_reply(s, 221, "2.0.0", "Bye");
	smtp_session_close(s, NULL);
}

static void
smtp_cmd_vrfy(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	if (cmd->arg.n == 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax: VRFY address");
		smtp_session_error(s);
		return;
	}
	/* RFC 5321 3.5.3: 252 when we will not confirm addresses */
	smtp_reply(s, 252, "2.5.2",
	    "Cannot VRFY user, but will accept message and attempt delivery");
}

static void
smtp_cmd_expn(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	/* RFC 5321 3.5.2: EXPN is optional; lists are not disclosed */
	smtp_reply(s, 502, "5.5.1", "Error: EXPN command is disabled");
}

static void
smtp_cmd_help(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	smtp_reply(s, 214, "2.0.0",
	    "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
}

static void
smtp_cmd_starttls(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	if (cmd->arg.n > 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax: STARTTLS");
		smtp_session_error(s);
		return;
	}
	if (s->tls) {
		smtp_reply(s, 554, "5.5.1", "Error: TLS already active");
		smtp_session_error(s);
		return;
	}
	if (!s->tls_offered) {
		smtp_reply(s, 502, "5.5.1", "Error: command not implemented");
		smtp_session_error(s);
		return;
	}
	if (s->tx != NULL) {
		/* RFC 3207 4: not in the middle of a transaction */
		smtp_reply(s, 503, "5.5.1", "Error: MAIL transaction in progress");
		smtp_session_error(s);
		return;
	}
	smtp_session_starttls(s);
}

#define ST_ANY                                                              \
	(SMTP_STATE_CONNECTED | SMTP_STATE_READY | SMTP_STATE_MAIL |        \
	    SMTP_STATE_RCPT | SMTP_STATE_BDAT)
#define ST_TX (SMTP_STATE_MAIL | SMTP_STATE_RCPT | SMTP_STATE_BDAT)

// clang-format off
static const struct smtp_command smtp_commands[] = {
	/* verb              name        allowed in                         counter            handler */
	{ SMTP_VERB_EHLO,     "EHLO",     ST_ANY,                            SMTP_CNT_EHLO,     smtp_cmd_ehlo },
	{ SMTP_VERB_HELO,     "HELO",     ST_ANY,                            SMTP_CNT_HELO,     smtp_cmd_ehlo },
	{ SMTP_VERB_MAIL,     "MAIL",     SMTP_STATE_READY,                  SMTP_CNT_MAIL,     smtp_cmd_mail },
	{ SMTP_VERB_RCPT,     "RCPT",     SMTP_STATE_MAIL | SMTP_STATE_RCPT, SMTP_CNT_RCPT,     smtp_cmd_rcpt },
	{ SMTP_VERB_DATA,     "DATA",     SMTP_STATE_MAIL | SMTP_STATE_RCPT | SMTP_STATE_BDAT, SMTP_CNT_DATA, smtp_cmd_data },
	{ SMTP_VERB_BDAT,     "BDAT",     ST_ANY,                            SMTP_CNT_BDAT,     smtp_cmd_bdat },
	{ SMTP_VERB_RSET,     "RSET",     ST_ANY,                            SMTP_CNT_RSET,     smtp_cmd_rset },
	{ SMTP_VERB_NOOP,     "NOOP",     ST_ANY,                            SMTP_CNT_NOOP,     smtp_cmd_noop },
	{ SMTP_VERB_QUIT,     "QUIT",     ST_ANY,                            SMTP_CNT_QUIT,     smtp_cmd_quit },
	{ SMTP_VERB_VRFY,     "VRFY",     ST_ANY,                            SMTP_CNT_VRFY,     smtp_cmd_vrfy },
	{ SMTP_VERB_EXPN,     "EXPN",     ST_ANY,                            SMTP_CNT_EXPN,     smtp_cmd_expn },
	{ SMTP_VERB_HELP,     "HELP",     ST_ANY,                            SMTP_CNT_HELP,     smtp_cmd_help },
	{ SMTP_VERB_STARTTLS, "STARTTLS", SMTP_STATE_READY,                  SMTP_CNT_STARTTLS, smtp_cmd_starttls },
	{ SMTP_VERB_AUTH,     "AUTH",     SMTP_STATE_READY,                  SMTP_CNT_AUTH,     smtp_cmd_auth },
};
// clang-format on

/* The reply for a command that is valid but out of sequence. */
static void
smtp_reply_sequence(struct smtp_session *s, const struct smtp_command *c)
{
	if (s->state == SMTP_STATE_CONNECTED)
		smtp_reply(s, 503, "5.5.1", "Error: send HELO/EHLO first");
	else if (c->verb == SMTP_VERB_MAIL)
		smtp_reply(s, 503, "5.5.1", "Error: nested MAIL command");
	else if (c->verb == SMTP_VERB_RCPT)
		smtp_reply(s, 503, "5.5.1", "Error: need MAIL command");
	else if (c->verb == SMTP_VERB_DATA && s->state == SMTP_STATE_READY)
		smtp_reply(s, 503, "5.5.1", "Error: need RCPT command");
	else
		smtp_reply(s, 503, "5.5.1", "Error: bad sequence of commands");
	smtp_session_error(s);
}

/*
 * RFC 2920 3.1: a client may send commands ahead only after EHLO has
 * offered PIPELINING, and EHLO, DATA, VRFY, EXPN, TURN, QUIT and NOOP
 * (and STARTTLS, RFC 3207 4.2; HELO, like EHLO) only as the last of a
 * group. Input already waiting behind such a command marks the session,
 * as Postfix 2.6+ does, for reject_unauth_pipelining.
 */
static void
smtp_cmd_check_pipelining(struct smtp_session *s, enum smtp_verb verb)
{
	if (s->ill_pipelining || s->bev == NULL ||
	    evbuffer_get_length(bufferevent_get_input(s->bev)) == 0)
		return;
	switch (verb) {
	case SMTP_VERB_EHLO:
	case SMTP_VERB_HELO:
	case SMTP_VERB_DATA:
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
	case SMTP_VERB_QUIT:
	case SMTP_VERB_NOOP:
	case SMTP_VERB_STARTTLS:
		s->ill_pipelining = true;
		break;
	default:
		if (!s->esmtp)
			s->ill_pipelining = true;
		break;
	}
}

void
smtp_cmd_dispatch(struct smtp_session *s, const char *line, size_t len)
{
	const struct smtp_command *c = NULL;
	struct smtp_cmd cmd;
	size_t i;

	smtp_parse_command(line, len, &cmd);
	for (i = 0; i < MW_NELEM(smtp_commands); i++)
		if (smtp_commands[i].verb == cmd.verb) {
			c = &smtp_commands[i];
			break;
		}
	if (c == NULL) {
		smtp_session_count(s, SMTP_CNT_UNKNOWN, false);
		smtp_reply(s, 500, "5.5.2", "Error: command not recognized");
		smtp_session_error(s);
		return;
	}
	smtp_cmd_check_pipelining(s, c->verb);
	if (!(c->allowed & s->state)) {
		smtp_session_count(s, c->counter, false);
		smtp_reply_sequence(s, c);
		/* A BDAT's chunk follows even when it is out of sequence. */
		if (c->verb == SMTP_VERB_BDAT) {
			struct smtp_bdat_args a;
			struct smtp_parse_err e;
			if (smtp_parse_bdat(cmd.arg.p, cmd.arg.n, &a, &e) == 0)
				s->discard_left = a.size;
		}
		return;
	}
	/* A command counts as ok when it caused no error reply; RCPT is
	 * counted ok when its lookup accepts it (rcpt_job_done). */
	{
		unsigned before = s->errors;

		s->cnt[c->counter][1]++;
		c->fn(s, &cmd);
		if (s->errors == before && c->verb != SMTP_VERB_RCPT)
			s->cnt[c->counter][0]++;
	}
}
