/*
 * SMTP AUTH (RFC 4954) in the session: the AUTH command, the exchange of
 * SASL responses (mechanisms in src/auth/sasl.c), password checks and
 * SCRAM credential lookups on the worker pool, and the failure penalty:
 * a growing delay before each 535, and 421 for a client past
 * smtpd_auth_failure_limit. Passwords and AUTH payloads are never logged.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth_check.h"
#include "auth/auth_penalty.h"
#include "auth/auth_verify.h"
#include "auth/sasl.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "smtp/smtp_session_private.h"

static uint64_t
smtp_auth_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

bool
smtp_auth_offered(const struct smtp_session *s)
{
	const struct conf *conf = s->srv->conf;

	bool enabled = s->kind == LISTENER_SMTP
	    ? conf->smtpd_sasl_auth_enable
	    : conf->submission_sasl_auth_enable;

	return enabled && s->srv->verifier != NULL &&
	    s->sasl_username == NULL &&
	    (s->tls || !conf->smtpd_tls_auth_only);
}

/* Appends " PLAIN LOGIN" (the configured mechanisms we know). */
void
smtp_auth_mechanisms(const struct smtp_session *s, struct buf *out)
{
	const struct conf_list *l = &s->srv->conf->smtpd_sasl_mechanisms;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (sasl_mech_supported(l->items[i]))
			(void)!buf_printf(out, " %s", l->items[i]);
}

static bool
smtp_auth_mech_enabled(const struct smtp_session *s, const char *mech)
{
	return sasl_mech_supported(mech) &&
	    conf_list_has(&s->srv->conf->smtpd_sasl_mechanisms, mech);
}

static void smtp_auth_result(struct smtp_session *s, enum sasl_result r);

/* The end of an exchange: forget the mechanism, wipe what it held. */
static void
smtp_auth_end(struct smtp_session *s)
{
	sasl_server_free(&s->sasl);
	buf_wipe(&s->line);
}

void
smtp_auth_abort(struct smtp_session *s)
{
	if (s->sasl != NULL)
		smtp_auth_end(s);
}

static void
smtp_auth_on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;

	(void)fd;
	(void)what;
	if (!smtp_session_release(s) || s->bev == NULL)
		return;
	smtp_reply(s, 535, "5.7.8",
	    "Error: authentication failed: authentication failure");
	smtp_session_resume(s);
}

static void
smtp_auth_fail(struct smtp_session *s, const char *why)
{
	struct timeval tv;
	uint64_t ms;

	log_warn("%s: SASL %s authentication failed: %s",
	    smtp_session_peer(s), sasl_server_mech(s->sasl), why);
	ms = auth_penalty_fail(s->srv->penalty, s->addr, smtp_auth_now());
	smtp_auth_end(s);
	smtp_session_error(s);
	if (s->closing)
		return;
	/* The 535 comes after a delay that grows with each failure. */
	if (s->auth_timer == NULL)
		s->auth_timer = evtimer_new(s->srv->base, smtp_auth_on_delay, s);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	smtp_session_hold(s);
	(void)evtimer_add(s->auth_timer, &tv);
}

static void
auth_job_done(struct auth_check *j)
{
	struct smtp_session *s = j->arg;
	enum sasl_result r;
	struct buf out;

	if (!smtp_session_release(s) || s->bev == NULL || s->sasl == NULL)
		return;
	if (j->ret == -1) {
		/* RFC 4954 6: 454 4.7.0 for a temporary failure */
		log_warn("%s: SASL %s authentication aborted: %s",
		    smtp_session_peer(s), sasl_server_mech(s->sasl),
		    buf_cstr(&j->err));
		smtp_auth_end(s);
		smtp_reply(s, 454, "4.7.0",
		    "Temporary authentication failure");
		smtp_session_resume(s);
		return;
	}
	if (j->scram) {
		buf_init(&out, SASL_CHALLENGE_MAX);
		r = sasl_server_set_credentials(s->sasl,
		    j->ret == 0 ? buf_cstr(&j->stored) : NULL, &out);
		if (r == SASL_CHALLENGE)
			smtp_reply(s, 334, NULL, "%s", buf_cstr(&out));
		else
			smtp_auth_result(s, r);
		buf_free(&out);
	} else
		smtp_auth_result(s,
		    sasl_server_password_result(s->sasl, j->ret == 0));
	smtp_session_resume(s);
}

static void
smtp_auth_submit(struct smtp_session *s, bool scram)
{
	smtp_session_hold(s);
	auth_check_submit(s->srv->workers, s->srv->verifier,
	    sasl_server_authcid(s->sasl),
	    scram ? NULL : sasl_server_password(s->sasl), 0, auth_job_done, s);
}

static void
smtp_auth_result(struct smtp_session *s, enum sasl_result r)
{
	switch (r) {
	case SASL_CHALLENGE:
		log_panic("smtp: SASL challenge outside a step");
	case SASL_NEED_PASSWORD_CHECK:
		smtp_auth_submit(s, false);
		return;
	case SASL_NEED_CREDENTIALS:
		smtp_auth_submit(s, true);
		return;
	case SASL_SUCCESS:
		s->sasl_username = xstrdup(sasl_server_authcid(s->sasl));
		ascii_lower(s->sasl_username); /* logins compare without case */
		s->sasl_method = sasl_server_mech(s->sasl);
		auth_penalty_success(s->srv->penalty, s->addr);
		/* a connection line, not Postfix's per-message "client="
		 * line (that comes at MAIL): pflogsumm counts those */
		log_info("%s: sasl_method=%s, sasl_username=%s",
		    smtp_session_peer(s), s->sasl_method,
		    log_sanitize_str(s->sasl_username));
		smtp_auth_end(s);
		smtp_reply(s, 235, "2.7.0", "Authentication successful");
		return;
	case SASL_FAIL_AUTH:
		smtp_auth_fail(s, "authentication failure");
		return;
	case SASL_FAIL_SYNTAX:
		log_warn("%s: SASL %s authentication failed: malformed response",
		    smtp_session_peer(s), sasl_server_mech(s->sasl));
		smtp_auth_end(s);
		smtp_reply(s, 501, "5.5.2",
		    "Error: authentication failed: malformed response");
		smtp_session_error(s);
		return;
	case SASL_CANCEL:
		smtp_auth_end(s);
		/* RFC 4954 4: a "*" response cancels with 501 */
		smtp_reply(s, 501, "5.0.0", "Authentication aborted");
		return;
	}
}

static void
smtp_auth_step(struct smtp_session *s, const char *resp, size_t len)
{
	enum sasl_result r;
	struct buf out;

	buf_init(&out, SASL_CHALLENGE_MAX);
	r = sasl_server_step(s->sasl, resp, len, &out);
	if (r == SASL_CHALLENGE)
		smtp_reply(s, 334, NULL, "%s", buf_cstr(&out));
	else
		smtp_auth_result(s, r);
	buf_free(&out);
}

void
smtp_auth_line(struct smtp_session *s, const char *line, size_t len)
{
	smtp_auth_step(s, line, len);
	buf_wipe(&s->line);
}

void
smtp_cmd_auth(struct smtp_session *s, const struct smtp_cmd *cmd)
{
	const struct conf *conf = s->srv->conf;
	const char *sp, *initial = NULL;
	char mech[64];
	size_t mlen, ilen = 0;

	if (s->sasl_username != NULL) {
		smtp_reply(s, 503, "5.5.1", "Error: already authenticated");
		smtp_session_error(s);
		return;
	}
	if (s->tls_required && !s->tls) {
		smtp_reply(s, 530, "5.7.0", "Must issue a STARTTLS command first");
		smtp_session_error(s);
		return;
	}
	if (!smtp_auth_offered(s)) {
		smtp_reply(s, 503, "5.5.1", "Error: authentication not enabled");
		smtp_session_error(s);
		return;
	}
	if (auth_penalty_banned(s->srv->penalty, s->addr, smtp_auth_now())) {
		log_warn("%s: too many failed logins: refused", smtp_session_peer(s));
		smtp_reply(s, 421, "4.7.0",
		    "%s Error: too many failed logins; try again later",
		    conf->myhostname);
		smtp_session_close(s, NULL);
		return;
	}
	sp = memchr(cmd->arg.p, ' ', cmd->arg.n);
	mlen = sp != NULL ? (size_t)(sp - cmd->arg.p) : cmd->arg.n;
	if (mlen == 0 || mlen >= sizeof(mech)) {
		smtp_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism");
		smtp_session_error(s);
		return;
	}
	memcpy(mech, cmd->arg.p, mlen);
	mech[mlen] = '\0';
	if (sp != NULL) {
		initial = sp + 1;
		ilen = cmd->arg.n - mlen - 1;
	}
	if (!smtp_auth_mech_enabled(s, mech)) {
		/* RFC 4954 4: 504 for an unknown mechanism */
		smtp_reply(s, 504, "5.5.4",
		    "Error: unsupported authentication mechanism");
		smtp_session_error(s);
		return;
	}
	s->sasl = sasl_server_new(mech, SMTP_AUTH_LINE_MAX);
	MW_ASSERT(s->sasl != NULL);
	smtp_auth_step(s, initial, ilen);
}
