/*
 * How the SMTP server answers and logs a refusal: the "reject:" and
 * "reject_warning:" lines in Postfix's shape, which fail2ban filters and
 * pflogsumm read:
 *
 *   ID: reject: RCPT from host[addr]: 550 5.1.1 <x@y>: ...; from=<a@b>
 *       to=<x@y> proto=ESMTP helo=<h>
 */
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "policy/restrict.h"
#include "smtp/smtp_session_private.h"

static const char *
smtp_reject_proto(const struct smtp_session *s)
{
	return s->esmtp ? "ESMTP" : "SMTP";
}

/* One line; reply is "550 5.1.1 <x@y>: text", reply_len bytes of it. */
static void
smtp_reject_log(struct smtp_session *s, const char *what, const char *cmd,
    const char *rcpt, const char *reply, size_t reply_len)
{
	log_info("%s: %s: %s from %s: %.*s; from=<%s> to=<%s> proto=%s "
		 "helo=<%s>",
	    smtp_session_logid(s), what, cmd, smtp_session_peer(s),
	    (int)reply_len, reply,
	    s->tx != NULL ? log_sanitize_str(s->tx->sender) : "",
	    log_sanitize_str(rcpt), smtp_reject_proto(s),
	    s->helo != NULL ? log_sanitize_str(s->helo) : "");
}

void
smtp_log_reject(struct smtp_session *s, const char *cmd, const char *rcpt,
    int code, const char *enh, const char *text)
{
	char reply[RESTRICT_TEXT_MAX + 600];
	int n;

	n = snprintf(reply, sizeof(reply), "%d %s <%s>: %s", code, enh,
	    log_sanitize_str(rcpt), text);
	if (n < 0)
		n = 0;
	smtp_reject_log(s, "reject", cmd, rcpt, reply,
	    (size_t)n < sizeof(reply) ? (size_t)n : sizeof(reply) - 1);
}

void
smtp_reply_restriction(struct smtp_session *s, const char *cmd,
    const char *rcpt, const struct restrict_reply *r)
{
	const char *text = buf_cstr(&r->text);
	char reply[RESTRICT_TEXT_MAX + 64];
	int n;

	smtp_reply(s, r->code, r->enh, "%s", text);
	n = snprintf(reply, sizeof(reply), "%d %s %s", r->code, r->enh,
	    log_sanitize_str(text));
	if (n < 0)
		n = 0;
	smtp_reject_log(s, "reject", cmd, rcpt, reply,
	    (size_t)n < sizeof(reply) ? (size_t)n : sizeof(reply) - 1);
	smtp_session_error(s);
	if (r->disconnect)
		smtp_session_close(s, NULL);
}

void
smtp_log_warnings(struct smtp_session *s, const char *cmd, const char *rcpt,
    const struct restrict_reply *r)
{
	const char *p = r->warnings.data, *end, *nl;

	if (r->warnings.len == 0)
		return;
	end = r->warnings.data + r->warnings.len;
	for (; (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1)
		smtp_reject_log(
		    s, "reject_warning", cmd, rcpt, p, (size_t)(nl - p));
}
