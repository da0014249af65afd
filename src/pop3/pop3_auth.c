/*
 * The AUTHORIZATION state (RFC 1939 4, 7): USER/PASS, AUTH (RFC 5034:
 * SASL PLAIN, LOGIN and SCRAM-SHA-256 through src/auth/sasl.c, with an
 * initial response, "*" to cancel, and AUTH without an argument listing
 * the mechanisms), the refusal of plaintext logins before TLS, the
 * failure penalty (a growing delay before each -ERR [AUTH], as SMTP
 * AUTH's, and [LOGIN-DELAY] for a banned client), sessions per user and
 * address, and the login and failure log lines in Dovecot's shape.
 * Password checks run on the worker pool; passwords are never logged.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_check.h"
#include "auth/auth_log.h"
#include "auth/auth_penalty.h"
#include "auth/auth_verify.h"
#include "auth/sasl.h"
#include "lib/conf.h"
#include "lib/conn.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "pop3/pop3_session_private.h"
#include "smtp/smtp_clients.h"

/* Dovecot's text: clients show it to the user as it is. */
#define POP3_PLAINTEXT_REFUSED                                                 \
	"[AUTH] Plaintext authentication disallowed on non-secure "            \
	"(SSL/TLS) connections."

static bool
pop3_auth_mech_plaintext(const char *mech)
{
	return ascii_eq(mech, "PLAIN") || ascii_eq(mech, "LOGIN");
}

/* Whether mech may be used now (configured, known, TLS rules). */
static bool
pop3_auth_mech_usable(const struct pop3_session *s, const char *mech)
{
	return sasl_mech_supported(mech) &&
	    conf_list_has(&s->srv->conf->pop3_sasl_mechanisms, mech) &&
	    (s->plaintext_ok || !pop3_auth_mech_plaintext(mech));
}

void
pop3_auth_mechanisms(const struct pop3_session *s, struct buf *out)
{
	const struct conf_list *l = &s->srv->conf->pop3_sasl_mechanisms;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (pop3_auth_mech_usable(s, l->items[i]))
			(void)!buf_printf(out, " %s", l->items[i]);
}

/* The end of an exchange: forget the mechanism, wipe what it held. */
static void
pop3_auth_end(struct pop3_session *s)
{
	sasl_server_free(&s->sasl);
	buf_wipe(&s->line);
}

void
pop3_auth_abort(struct pop3_session *s)
{
	if (s->sasl != NULL)
		pop3_auth_end(s);
}

void
pop3_auth_log_disconnect(struct pop3_session *s, const char *how)
{
	struct buf line;

	buf_init(&line, 2048);
	auth_log_no_login(&line, how, s->auth_attempts,
	    conn_now_sec() - s->started, s->tried_user, s->method,
	    s->plaintext_refused);
	pop3_session_log_tail(s, &line);
	log_info("pop3-login: %s", buf_cstr(&line));
	buf_free(&line);
}

/* A refused client: the penalty box says it failed too often. */
static bool
pop3_auth_banned(struct pop3_session *s)
{
	if (!auth_penalty_banned(s->srv->penalty, s->addr, conn_now_sec()))
		return false;
	log_warn("%s: too many failed logins: refused", s->addr);
	/* RFC 2449 8.1.2: LOGIN-DELAY, so that the client does not ask
	 * its user for another password */
	pop3_err(s, "[LOGIN-DELAY] Too many failed logins; try again later.");
	pop3_session_close(s, "Too many failed logins");
	return true;
}

static bool
pop3_auth_plaintext_check(struct pop3_session *s)
{
	if (s->plaintext_ok)
		return true;
	/* RFC 2595 2.1, Dovecot's disable_plaintext_auth */
	s->plaintext_refused = true;
	pop3_err(s, "%s", POP3_PLAINTEXT_REFUSED);
	pop3_session_error(s);
	return false;
}

/* Authenticated as name: count the session, log, open the maildrop. */
static void
pop3_auth_login(struct pop3_session *s, const char *name, const char *method)
{
	const struct conf *conf = s->srv->conf;
	struct buf line;
	char *key;
	unsigned n;

	auth_penalty_success(s->srv->penalty, s->addr);
	key = xasprintf("%s\n%s", name, s->addr);
	ascii_lower(key);
	n = smtp_clients_add(s->srv->userips, key);
	if (conf->pop3_max_userip_connections > 0 &&
	    n > conf->pop3_max_userip_connections) {
		smtp_clients_del(s->srv->userips, key);
		free(key);
		log_info("pop3-login: Maximum number of connections from "
		         "user+IP exceeded (pop3_max_userip_connections=%llu): "
		         "user=<%s>, method=%s, rip=%s, lip=%s, session=<%s>",
		    (unsigned long long)conf->pop3_max_userip_connections,
		    log_sanitize_str(name), method, s->addr, s->laddr,
		    s->session_id);
		/* RFC 2449 8.1.1: IN-USE */
		pop3_err(s,
		    "[IN-USE] Maximum number of connections from "
		    "user+IP exceeded (pop3_max_userip_connections=%llu)",
		    (unsigned long long)conf->pop3_max_userip_connections);
		return;
	}
	s->userip_key = key;
	s->username = xstrdup(name);
	ascii_lower(s->username); /* logins compare without case */
	s->method = method;
	free(s->user);
	s->user = NULL;
	buf_init(&line, 2048);
	(void)!buf_printf(&line, "pop3-login: Login: user=<%s>, method=%s, ",
	    log_sanitize_str(s->username), method);
	pop3_session_log_tail(s, &line);
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
	pop3_maildrop_open(s);
}

static void
pop3_auth_on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct pop3_session *s = arg;

	(void)fd;
	(void)what;
	if (!pop3_session_release(s) || s->bev == NULL)
		return;
	/* RFC 3206 4: AUTH, the credentials were wrong */
	pop3_err(s, "[AUTH] Authentication failed.");
	pop3_session_resume(s);
}

static void
pop3_auth_fail(struct pop3_session *s, const char *user)
{
	struct timeval tv;
	uint64_t ms;

	s->auth_attempts++;
	free(s->tried_user);
	s->tried_user = user != NULL ? xstrdup(user) : NULL;
	ms = auth_penalty_fail(s->srv->penalty, s->addr, conn_now_sec());
	pop3_auth_end(s);
	pop3_session_error(s);
	if (s->closing)
		return;
	/* the -ERR comes after a delay that grows with each failure */
	if (s->auth_timer == NULL)
		s->auth_timer =
		    evtimer_new(s->srv->base, pop3_auth_on_delay, s);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	pop3_session_hold(s);
	(void)evtimer_add(s->auth_timer, &tv);
}

/* What a check was for (struct auth_check kind). */
#define POP3_AUTH_SASL     0 /* AUTH */
#define POP3_AUTH_USERPASS 1 /* USER/PASS */

static void pop3_auth_result(struct pop3_session *s, enum sasl_result r);
static void pop3_send_challenge(struct pop3_session *s, const struct buf *ch);

static void
pop3_auth_job_done(struct auth_check *j)
{
	struct pop3_session *s = j->arg;
	enum sasl_result r;
	struct buf out;

	if (!pop3_session_release(s) || s->bev == NULL)
		return;
	if (j->ret == -1) {
		/* RFC 3206 4: SYS/TEMP, try again later */
		log_warn("%s: %s authentication aborted: %s", s->addr,
		    s->method, buf_cstr(&j->err));
		pop3_auth_end(s);
		pop3_err(s, "[SYS/TEMP] Temporary authentication failure.");
		pop3_session_resume(s);
		return;
	}
	if (j->kind == POP3_AUTH_USERPASS) {
		if (j->ret == 0)
			pop3_auth_login(s, j->user, "PLAIN");
		else {
			log_info("%s: USER/PASS authentication failed: %s",
			    s->addr, buf_cstr(&j->err));
			pop3_auth_fail(s, j->user);
		}
		pop3_session_resume(s);
		return;
	}
	if (s->sasl == NULL)
		return;
	if (j->scram) {
		buf_init(&out, SASL_CHALLENGE_MAX);
		r = sasl_server_set_credentials(
		    s->sasl, j->ret == 0 ? buf_cstr(&j->stored) : NULL, &out);
		if (r == SASL_CHALLENGE)
			pop3_send_challenge(s, &out);
		else
			pop3_auth_result(s, r);
		buf_free(&out);
	} else
		pop3_auth_result(
		    s, sasl_server_password_result(s->sasl, j->ret == 0));
	pop3_session_resume(s);
}

static void
pop3_auth_submit(struct pop3_session *s, const char *user, const char *pw,
    bool scram, bool userpass)
{
	pop3_session_hold(s);
	auth_check_submit(s->srv->workers, s->srv->verifier, user,
	    scram ? NULL : pw,
	    userpass ? POP3_AUTH_USERPASS : POP3_AUTH_SASL, pop3_auth_job_done,
	    s);
}

static void
pop3_auth_result(struct pop3_session *s, enum sasl_result r)
{
	const char *user;

	switch (r) {
	case SASL_CHALLENGE:
		log_panic("pop3: SASL challenge outside a step");
	case SASL_NEED_PASSWORD_CHECK:
		pop3_auth_submit(s, sasl_server_authcid(s->sasl),
		    sasl_server_password(s->sasl), false, false);
		return;
	case SASL_NEED_CREDENTIALS:
		pop3_auth_submit(
		    s, sasl_server_authcid(s->sasl), NULL, true, false);
		return;
	case SASL_SUCCESS:
		pop3_auth_login(s, sasl_server_authcid(s->sasl), s->method);
		pop3_auth_end(s);
		return;
	case SASL_FAIL_AUTH:
		user = sasl_server_authcid(s->sasl);
		log_info(
		    "%s: SASL %s authentication failed", s->addr, s->method);
		pop3_auth_fail(s, user);
		return;
	case SASL_FAIL_SYNTAX:
		log_info(
		    "%s: SASL %s authentication failed: malformed response",
		    s->addr, s->method);
		pop3_auth_end(s);
		pop3_err(s, "Invalid SASL response.");
		pop3_session_error(s);
		return;
	case SASL_CANCEL:
		pop3_auth_end(s);
		/* RFC 5034 4: a "*" response cancels; the server answers
		 * -ERR */
		pop3_err(s, "Authentication aborted by client.");
		return;
	}
}

/* RFC 5034 4: "+ " and the base64 challenge (possibly empty). */
static void
pop3_send_challenge(struct pop3_session *s, const struct buf *ch)
{
	pop3_send(s, "+ ", 2);
	pop3_send(s, ch->data != NULL ? ch->data : "", ch->len);
	pop3_send(s, "\r\n", 2);
}

static void
pop3_auth_step(struct pop3_session *s, const char *resp, size_t len)
{
	enum sasl_result r;
	struct buf out;

	buf_init(&out, SASL_CHALLENGE_MAX);
	r = sasl_server_step(s->sasl, resp, len, &out);
	if (r == SASL_CHALLENGE)
		pop3_send_challenge(s, &out);
	else
		pop3_auth_result(s, r);
	buf_free(&out);
}

void
pop3_auth_line(struct pop3_session *s, const char *line, size_t len)
{
	pop3_auth_step(s, line, len);
	buf_wipe(&s->line);
}

void
pop3_cmd_auth(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	const struct conf_list *l = &s->srv->conf->pop3_sasl_mechanisms;
	char mech[64];
	size_t i;

	if (cmd->nargs == 0) {
		struct buf b;

		/* RFC 1734's "AUTH" alone (fetchmail and others ask so):
		 * the mechanisms, one a line */
		buf_init(&b, 1024);
		(void)!buf_append_str(&b, "+OK\r\n");
		for (i = 0; i < l->n; i++)
			if (pop3_auth_mech_usable(s, l->items[i]))
				(void)!buf_printf(&b, "%s\r\n", l->items[i]);
		(void)!buf_append_str(&b, ".\r\n");
		pop3_send(s, b.data, b.len);
		buf_free(&b);
		return;
	}
	if (pop3_auth_banned(s))
		return;
	if (cmd->args[0].n >= sizeof(mech)) {
		pop3_err(s, "Unsupported authentication mechanism.");
		pop3_session_error(s);
		return;
	}
	memcpy(mech, cmd->args[0].p, cmd->args[0].n);
	mech[cmd->args[0].n] = '\0';
	if (!sasl_mech_supported(mech) || !conf_list_has(l, mech)) {
		pop3_err(s, "Unsupported authentication mechanism.");
		pop3_session_error(s);
		return;
	}
	if (pop3_auth_mech_plaintext(mech) && !pop3_auth_plaintext_check(s))
		return;
	s->sasl = sasl_server_new(mech, POP3_AUTH_LINE_MAX);
	MW_ASSERT(s->sasl != NULL);
	s->method = sasl_server_mech(s->sasl);
	/* RFC 5034 4: the initial response, "=" for an empty one */
	if (cmd->nargs == 2)
		pop3_auth_step(s, cmd->args[1].p, cmd->args[1].n);
	else
		pop3_auth_step(s, NULL, 0);
}

void
pop3_cmd_user(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (pop3_auth_banned(s) || !pop3_auth_plaintext_check(s))
		return;
	free(s->user);
	s->user = xasprintf("%.*s", (int)cmd->args[0].n, cmd->args[0].p);
	pop3_ok_bare(s);
}

void
pop3_cmd_pass(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	char *pw;

	if (pop3_auth_banned(s) || !pop3_auth_plaintext_check(s))
		return;
	if (s->user == NULL) {
		/* RFC 1939 7: PASS only right after a successful USER */
		pop3_err(s, "No username given.");
		pop3_session_error(s);
		return;
	}
	s->method = "PLAIN";
	pw = xasprintf("%.*s", (int)cmd->args[0].n, cmd->args[0].p);
	pop3_auth_submit(s, s->user, pw, false, true);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	free(s->user);
	s->user = NULL;
}

void
pop3_cmd_apop(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	/* RFC 1939 7: APOP needs the password in the clear on the server;
	 * accounts.db keeps only hashes, so it is never offered */
	pop3_err(s, "APOP is not supported.");
	pop3_session_error(s);
}
