/*
 * The not-authenticated state (RFC 9051 6.2): LOGIN (6.2.3) and
 * AUTHENTICATE (6.2.2: SASL PLAIN, LOGIN and SCRAM-SHA-256 through
 * src/auth/sasl.c, with SASL-IR, RFC 4959), the refusal of plaintext
 * logins before TLS (LOGINDISABLED, [PRIVACYREQUIRED]), the failure
 * penalty shared with SMTP AUTH and POP3 (a growing delay before each NO
 * [AUTHENTICATIONFAILED], RFC 5530 3), sessions per user and address,
 * opening the user's store, and the login and failure log lines in
 * Dovecot's shape. Password checks run on the worker pool; passwords are
 * never logged.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth_check.h"
#include "auth/auth_log.h"
#include "auth/auth_penalty.h"
#include "auth/auth_verify.h"
#include "auth/sasl.h"
#include "delivery/resolve.h"
#include "imap/imap_cmd.h"
#include "imap/imap_job.h"
#include "imap/imap_session_private.h"
#include "lib/conf.h"
#include "lib/conn.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "smtp/smtp_clients.h"
#include "store/store.h"

/* Dovecot's text: clients show it to the user as it is. */
#define IMAP_PLAINTEXT_REFUSED                                                 \
	"[PRIVACYREQUIRED] Plaintext authentication disallowed on "           \
	"non-secure (SSL/TLS) connections."

static bool
imap_auth_mech_plaintext(const char *mech)
{
	return ascii_eq(mech, "PLAIN") || ascii_eq(mech, "LOGIN");
}

static bool
imap_auth_mech_usable(const struct imap_session *s, const char *mech)
{
	return sasl_mech_supported(mech) &&
	    conf_list_has(&s->srv->conf->imap_sasl_mechanisms, mech) &&
	    (s->plaintext_ok || !imap_auth_mech_plaintext(mech));
}

void
imap_auth_capabilities(const struct imap_session *s, struct buf *out)
{
	const struct conf_list *l = &s->srv->conf->imap_sasl_mechanisms;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (imap_auth_mech_usable(s, l->items[i]))
			(void)!buf_printf(out, " AUTH=%s", l->items[i]);
}

/* The end of an exchange: forget the mechanism and its tag. */
static void
imap_auth_end(struct imap_session *s)
{
	sasl_server_free(&s->sasl);
	free(s->held_tag);
	s->held_tag = NULL;
}

void
imap_auth_abort(struct imap_session *s)
{
	if (s->sasl != NULL)
		imap_auth_end(s);
}

void
imap_auth_log_disconnect(struct imap_session *s, const char *how)
{
	struct buf line;

	buf_init(&line, 2048);
	auth_log_no_login(&line, how, s->auth_attempts,
	    conn_now_sec() - s->started, s->tried_user, s->method,
	    s->plaintext_refused);
	imap_session_log_tail(s, &line);
	log_info("imap-login: %s", buf_cstr(&line));
	buf_free(&line);
}

static bool
imap_auth_banned(struct imap_session *s)
{
	if (!auth_penalty_banned(s->srv->penalty, s->addr, conn_now_sec()))
		return false;
	log_warn("%s: too many failed logins: refused", s->addr);
	imap_tagged(s, "NO",
	    "[UNAVAILABLE] Too many failed logins; try again later.");
	imap_session_close(s, "Too many failed logins");
	return true;
}

static bool
imap_auth_plaintext_check(struct imap_session *s)
{
	if (s->plaintext_ok)
		return true;
	/* RFC 9051 6.2.3, Dovecot's disable_plaintext_auth */
	s->plaintext_refused = true;
	imap_tagged(s, "NO", "%s", IMAP_PLAINTEXT_REFUSED);
	imap_session_error(s);
	return false;
}

/* --- opening the store --------------------------------------------------- */

static void
imap_open_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct buf caps;

	if (store_open_defaults(s->maildir, s->srv->defaults, &s->store,
	        &j->err) == -1) {
		log_warn("imap(%s)<%ld><%s>: cannot open the mail store %s: %s",
		    log_sanitize_str(s->username), (long)getpid(),
		    s->session_id, s->maildir, buf_cstr(&j->err));
		/* RFC 5530 3: UNAVAILABLE, try again later */
		imap_job_tagged(j, "NO",
		    "[UNAVAILABLE] Couldn't open the mailbox, try again "
		    "later.");
		return;
	}
	store_shrink(s->store);
	s->state = IMAP_STATE_AUTH;
	/* RFC 9051 7.1: CAPABILITY in the OK spares the client a round */
	buf_init(&caps, 4096);
	imap_capabilities(s, &caps);
	imap_job_tagged(j, "OK", "[CAPABILITY %s] Logged in", buf_cstr(&caps));
	buf_free(&caps);
}

static void
imap_open_done(struct imap_job *j)
{
	struct imap_session *s = j->s;

	free(s->held_tag);
	s->held_tag = NULL;
	if (s->store == NULL) {
		imap_session_close(s, "Couldn't open the mailbox");
		return;
	}
	imap_session_set_timeouts(s);
}

/* Authenticated as name: count the session, log, open the store. */
static void
imap_auth_login(struct imap_session *s, const char *name, const char *method)
{
	const struct conf *conf = s->srv->conf;
	struct imap_job *j;
	struct buf line;
	char *key;
	unsigned n;

	auth_penalty_success(s->srv->penalty, s->addr);
	key = xasprintf("%s\n%s", name, s->addr);
	ascii_lower(key);
	n = smtp_clients_add(s->srv->userips, key);
	if (conf->imap_max_userip_connections > 0 &&
	    n > conf->imap_max_userip_connections) {
		smtp_clients_del(s->srv->userips, key);
		free(key);
		log_info("imap-login: Maximum number of connections from "
		         "user+IP exceeded (imap_max_userip_connections=%llu): "
		         "user=<%s>, method=%s, rip=%s, lip=%s, session=<%s>",
		    (unsigned long long)conf->imap_max_userip_connections,
		    log_sanitize_str(name), method, s->addr, s->laddr,
		    s->session_id);
		/* RFC 5530 3: LIMIT */
		imap_tagged(s, "NO",
		    "[LIMIT] Maximum number of connections from user+IP "
		    "exceeded (imap_max_userip_connections=%llu)",
		    (unsigned long long)conf->imap_max_userip_connections);
		imap_auth_end(s);
		return;
	}
	s->maildir = resolve_user_maildir(conf->mail_directory, name);
	if (s->maildir == NULL) {
		smtp_clients_del(s->srv->userips, key);
		free(key);
		log_warn("imap: no usable mailbox path for %s",
		    log_sanitize_str(name));
		imap_tagged(s, "NO", "[SERVERBUG] No mailbox for this user.");
		imap_auth_end(s);
		return;
	}
	s->userip_key = key;
	s->username = xstrdup(name);
	ascii_lower(s->username); /* logins compare without case */
	s->method = method;
	buf_init(&line, 2048);
	(void)!buf_printf(&line, "imap-login: Login: user=<%s>, method=%s, ",
	    log_sanitize_str(s->username), method);
	imap_session_log_tail(s, &line);
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
	j = imap_job_new(s, imap_open_run, NULL);
	j->done = imap_open_done;
	imap_job_submit(j);
}

static void
imap_auth_on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;

	(void)fd;
	(void)what;
	if (!imap_session_release(s) || s->bev == NULL)
		return;
	/* RFC 5530 3 */
	imap_tagged(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed.");
	free(s->held_tag);
	s->held_tag = NULL;
	imap_session_resume(s);
}

static void
imap_auth_fail(struct imap_session *s, const char *user)
{
	struct timeval tv;
	uint64_t ms;

	s->auth_attempts++;
	free(s->tried_user);
	s->tried_user = user != NULL ? xstrdup(user) : NULL;
	ms = auth_penalty_fail(s->srv->penalty, s->addr, conn_now_sec());
	sasl_server_free(&s->sasl); /* the tag stays for the reply */
	imap_session_error(s);
	if (s->closing)
		return;
	if (s->auth_timer == NULL)
		s->auth_timer =
		    evtimer_new(s->srv->base, imap_auth_on_delay, s);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	imap_session_hold(s);
	(void)evtimer_add(s->auth_timer, &tv);
}

/* What a check was for (struct auth_check kind). */
#define IMAP_AUTH_SASL  0 /* AUTHENTICATE */
#define IMAP_AUTH_LOGIN 1 /* LOGIN */

static void imap_auth_result(struct imap_session *s, enum sasl_result r);
static void imap_send_challenge(struct imap_session *s, const struct buf *ch);

static void
imap_auth_job_done(struct auth_check *j)
{
	struct imap_session *s = j->arg;
	enum sasl_result r;
	struct buf out;

	if (!imap_session_release(s) || s->bev == NULL)
		return;
	if (j->ret == -1) {
		log_warn("%s: %s authentication aborted: %s", s->addr,
		    s->method, buf_cstr(&j->err));
		imap_tagged(s, "NO",
		    "[UNAVAILABLE] Temporary authentication failure.");
		imap_auth_end(s);
		imap_session_resume(s);
		return;
	}
	if (j->kind == IMAP_AUTH_LOGIN) {
		if (j->ret == 0)
			imap_auth_login(s, j->user, "PLAIN");
		else {
			log_info("%s: LOGIN authentication failed: %s",
			    s->addr, buf_cstr(&j->err));
			imap_auth_fail(s, j->user);
		}
		if (!s->busy)
			imap_session_resume(s);
		return;
	}
	if (s->sasl == NULL)
		return;
	if (j->scram) {
		buf_init(&out, SASL_CHALLENGE_MAX);
		r = sasl_server_set_credentials(
		    s->sasl, j->ret == 0 ? buf_cstr(&j->stored) : NULL, &out);
		if (r == SASL_CHALLENGE)
			imap_send_challenge(s, &out);
		else
			imap_auth_result(s, r);
		buf_free(&out);
	} else
		imap_auth_result(
		    s, sasl_server_password_result(s->sasl, j->ret == 0));
	if (!s->busy)
		imap_session_resume(s);
}

static void
imap_auth_submit(struct imap_session *s, const char *user, const char *pw,
    bool scram, bool login)
{
	imap_session_hold(s);
	auth_check_submit(s->srv->workers, s->srv->verifier, user,
	    scram ? NULL : pw, login ? IMAP_AUTH_LOGIN : IMAP_AUTH_SASL,
	    imap_auth_job_done, s);
}

static void
imap_auth_result(struct imap_session *s, enum sasl_result r)
{
	char *user;

	switch (r) {
	case SASL_CHALLENGE:
		log_panic("imap: SASL challenge outside a step");
	case SASL_NEED_PASSWORD_CHECK:
		imap_auth_submit(s, sasl_server_authcid(s->sasl),
		    sasl_server_password(s->sasl), false, false);
		return;
	case SASL_NEED_CREDENTIALS:
		imap_auth_submit(
		    s, sasl_server_authcid(s->sasl), NULL, true, false);
		return;
	case SASL_SUCCESS:
		/* the tag stays until the OK after the store opened */
		user = xstrdup(sasl_server_authcid(s->sasl));
		sasl_server_free(&s->sasl);
		imap_auth_login(s, user, s->method);
		free(user);
		return;
	case SASL_FAIL_AUTH:
		log_info(
		    "%s: SASL %s authentication failed", s->addr, s->method);
		imap_auth_fail(s, sasl_server_authcid(s->sasl));
		return;
	case SASL_FAIL_SYNTAX:
		log_info(
		    "%s: SASL %s authentication failed: malformed response",
		    s->addr, s->method);
		imap_tagged(s, "BAD", "Invalid SASL response.");
		imap_auth_end(s);
		imap_session_error(s);
		return;
	case SASL_CANCEL:
		/* RFC 9051 6.2.2: "*" cancels; the server answers BAD */
		imap_tagged(s, "BAD", "Authentication aborted by client.");
		imap_auth_end(s);
		return;
	}
}

/* RFC 9051 6.2.2: "+ " and the base64 challenge (possibly empty); the
 * next line is the client's response. */
static void
imap_send_challenge(struct imap_session *s, const struct buf *ch)
{
	imap_send(s, "+ ", 2);
	imap_send(s, ch->data != NULL ? ch->data : "", ch->len);
	imap_send(s, "\r\n", 2);
	imap_reader_want_line(s->reader);
}

static void
imap_auth_step(struct imap_session *s, const char *resp, size_t len)
{
	enum sasl_result r;
	struct buf out;

	buf_init(&out, SASL_CHALLENGE_MAX);
	r = sasl_server_step(s->sasl, resp, len, &out);
	if (r == SASL_CHALLENGE)
		imap_send_challenge(s, &out);
	else
		imap_auth_result(s, r);
	buf_free(&out);
}

void
imap_auth_line(struct imap_session *s, struct imap_slice line)
{
	imap_auth_step(s, line.p, line.n);
}

void
imap_cmd_authenticate(struct imap_session *s, const struct imap_command *c)
{
	char mech[64];

	if (imap_auth_banned(s))
		return;
	if (c->u.authenticate.mech.n >= sizeof(mech)) {
		imap_tagged(s, "NO", "Unsupported authentication mechanism.");
		imap_session_error(s);
		return;
	}
	memcpy(mech, c->u.authenticate.mech.p, c->u.authenticate.mech.n);
	mech[c->u.authenticate.mech.n] = '\0';
	if (!sasl_mech_supported(mech) ||
	    !conf_list_has(&s->srv->conf->imap_sasl_mechanisms, mech)) {
		imap_tagged(s, "NO", "Unsupported authentication mechanism.");
		imap_session_error(s);
		return;
	}
	if (imap_auth_mech_plaintext(mech) && !imap_auth_plaintext_check(s))
		return;
	s->sasl = sasl_server_new(mech, IMAP_AUTH_LINE_MAX);
	MW_ASSERT(s->sasl != NULL);
	s->method = sasl_server_mech(s->sasl);
	s->held_tag = xasprintf("%.*s", (int)c->tag.n, c->tag.p);
	/* RFC 4959 3: the initial response; "=" for an empty one */
	if (!c->u.authenticate.has_ir)
		imap_auth_step(s, NULL, 0);
	else if (c->u.authenticate.ir.n == 0)
		imap_auth_step(s, "=", 1);
	else
		imap_auth_step(
		    s, c->u.authenticate.ir.p, c->u.authenticate.ir.n);
}

void
imap_cmd_login(struct imap_session *s, const struct imap_command *c)
{
	char *user, *pw;

	if (imap_auth_banned(s) || !imap_auth_plaintext_check(s))
		return;
	if (!conf_list_has(&s->srv->conf->imap_sasl_mechanisms, "PLAIN") &&
	    !conf_list_has(&s->srv->conf->imap_sasl_mechanisms, "LOGIN")) {
		imap_tagged(s, "NO", "[CANNOT] LOGIN is disabled.");
		return;
	}
	if (c->u.login.user.n == 0 || c->u.login.user.n > SASL_FIELD_MAX ||
	    c->u.login.pass.n > SASL_FIELD_MAX ||
	    memchr(c->u.login.user.p, '\0', c->u.login.user.n) != NULL ||
	    memchr(c->u.login.pass.p, '\0', c->u.login.pass.n) != NULL) {
		imap_tagged(s, "NO",
		    "[AUTHENTICATIONFAILED] Authentication failed.");
		imap_session_error(s);
		return;
	}
	s->method = "PLAIN";
	s->held_tag = xasprintf("%.*s", (int)c->tag.n, c->tag.p);
	user = xasprintf("%.*s", (int)c->u.login.user.n, c->u.login.user.p);
	pw = xasprintf("%.*s", (int)c->u.login.pass.n, c->u.login.pass.p);
	imap_auth_submit(s, user, pw, false, true);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	free(user);
}
