/*
 * SMTP AUTH towards relay hosts (RFC 4954): PLAIN with an initial
 * response (RFC 4616) or LOGIN, with the credentials of
 * smtp_sasl_password_maps; only over TLS unless smtp_sasl_tls_only = no.
 * Credentials are wiped from buffers as soon as they are sent.
 */
#include <string.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "smtp/smtp_client_private.h"

/* base64 of p[0..n) into out (cleared first); 0 or -1 */
static int
sc_b64(struct buf *out, const char *p, size_t n)
{
	buf_reset(out);
	return base64_encode(out, p, n);
}

/* RFC 4954: AUTH PLAIN (initial response) or LOGIN when credentials are
 * configured and the server offers one. True when a command went out. */
bool
smtp_client_auth_start(struct smtp_client *c)
{
	const char *u = c->dest.sasl_user, *pw = c->dest.sasl_pass;
	struct buf raw, b64;

	if (u == NULL || pw == NULL || !(c->ehlo.ext & SMTP_EXT_AUTH))
		return false;
	if (c->dest.sasl_tls_only && !c->tls) {
		log_warn("%s: not sending SASL credentials without TLS "
		         "(smtp_sasl_tls_only = yes)",
		    c->peer);
		return false;
	}
	buf_init(&raw, 2048);
	buf_init(&b64, 4096);
	if (c->ehlo.auth & SMTP_AUTH_PLAIN) {
		/* RFC 4616 2: authzid NUL authcid NUL passwd */
		if (buf_append_char(&raw, '\0') == -1 ||
		    buf_append_str(&raw, u) == -1 ||
		    buf_append_char(&raw, '\0') == -1 ||
		    buf_append_str(&raw, pw) == -1 ||
		    sc_b64(&b64, raw.data, raw.len) == -1)
			goto bad;
		c->state = SC_AUTH;
		smtp_client_send(c, "AUTH PLAIN %s", buf_cstr(&b64));
	} else if (c->ehlo.auth & SMTP_AUTH_LOGIN) {
		c->state = SC_AUTH_USER;
		smtp_client_send(c, "AUTH LOGIN");
	} else {
		log_warn("%s offers no SASL mechanism of ours (PLAIN, LOGIN)",
		    c->peer);
		buf_free(&raw);
		buf_free(&b64);
		return false;
	}
	buf_wipe(&raw);
	buf_wipe(&b64);
	buf_free(&raw);
	buf_free(&b64);
	smtp_client_timeout(c, c->env->t_helo);
	return true;
bad:
	buf_wipe(&raw);
	buf_free(&raw);
	buf_free(&b64);
	return false;
}

/* A reply during AUTH. */
void
smtp_client_auth_reply(struct smtp_client *c)
{
	char text[1024], diag[1024], why[1100];
	struct buf b64;
	const char *v;

	if (c->reply.code == 334) {
		/* AUTH LOGIN asks for the user name, then the password */
		v = c->state == SC_AUTH_USER ? c->dest.sasl_user
		                             : c->dest.sasl_pass;
		buf_init(&b64, 4096);
		if (sc_b64(&b64, v, strlen(v)) == -1) {
			buf_free(&b64);
			smtp_client_conn_fail(
			    c, "4.7.0", "SASL credentials too long", false);
			return;
		}
		smtp_client_send(c, "%s", buf_cstr(&b64));
		buf_wipe(&b64);
		buf_free(&b64);
		c->state = SC_AUTH;
		smtp_client_timeout(c, c->env->t_helo);
		return;
	}
	if (c->reply.code == 235) {
		smtp_client_tx_start(c);
		return;
	}
	/* Postfix (smtp_sasl_auth_soft_bounce = yes): a failed login is
	 * a temporary failure, so that fixing the password loses no mail */
	smtp_client_reply_text(
	    c, "AUTH command", text, sizeof(text), diag, sizeof(diag));
	smtp_client_fmt(why, sizeof(why),
	    "SASL authentication failed; server %s said: %s", c->peer_noport,
	    diag);
	log_warn("%s", why);
	smtp_client_conn_fail(c, "4.7.0", why, true);
}
