/*
 * IMAP command dispatch (RFC 9051 6: which command in which state) and
 * the commands valid in any state: CAPABILITY (6.1.1), NOOP (6.1.2, in
 * the selected state a sync), LOGOUT (6.1.3), STARTTLS (6.2.1), ENABLE
 * (RFC 5161; 6.3.1), ID (RFC 2971). The login commands live in
 * imap_auth.c, the others in imap_cmd_*.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_cmd.h"
#include "imap/imap_session_private.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/parse.h"

typedef void imap_cmd_fn(struct imap_session *, const struct imap_command *);

struct imap_handler {
	enum imap_cmd_id id;
	unsigned allowed; /* states in which the command is valid */
	imap_cmd_fn *fn;
};

#define ANY  (IMAP_STATE_NOT_AUTH | IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define AUTH (IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define SEL  IMAP_STATE_SELECTED

void
imap_capabilities(struct imap_session *s, struct buf *out)
{
	/* RFC 9051 and 3501 both: a rev1 client sees IMAP4rev1 and never
	 * ENABLEs rev2 (RFC 9051 2.1) */
	(void)!buf_append_str(out,
	    "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE");
	if (s->state == IMAP_STATE_NOT_AUTH) {
		if (!s->tls && s->srv->tls != NULL)
			(void)!buf_append_str(out, " STARTTLS");
		if (!s->plaintext_ok)
			/* RFC 9051 6.2.3 */
			(void)!buf_append_str(out, " LOGINDISABLED");
		imap_auth_capabilities(s, out);
		return;
	}
	(void)!buf_printf(out,
	    " NAMESPACE UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED "
	    "LIST-STATUS UIDPLUS MOVE STATUS=SIZE BINARY MULTIAPPEND "
	    "ESEARCH SEARCHRES UTF8=ACCEPT APPENDLIMIT=%llu",
	    (unsigned long long)s->srv->append_limit);
}

static void
imap_cmd_capability(struct imap_session *s, const struct imap_command *c)
{
	struct buf b;

	(void)c;
	buf_init(&b, 4096);
	(void)!buf_append_str(&b, "* CAPABILITY ");
	imap_capabilities(s, &b);
	(void)!buf_append_str(&b, "\r\n");
	imap_send(s, b.data, b.len);
	buf_free(&b);
	imap_tagged(s, "OK", "Pre-login capabilities listed, post-login "
	                     "capabilities have more.");
}

static void
imap_cmd_noop(struct imap_session *s, const struct imap_command *c)
{
	if (s->state == IMAP_STATE_SELECTED) {
		imap_cmd_sync(s, c); /* RFC 9051 6.1.2: a chance for updates */
		return;
	}
	imap_tagged(s, "OK", "NOOP completed.");
}

static void
imap_cmd_logout(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	/* RFC 9051 6.1.3: BYE, then the tagged OK */
	imap_sendf(s, "* BYE Logging out");
	imap_tagged(s, "OK", "Logout completed.");
	s->state = IMAP_STATE_LOGOUT;
	imap_session_close(s, "Logged out");
}

static void
imap_cmd_starttls(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	if (s->tls) {
		imap_tagged(s, "BAD", "TLS is already active.");
		imap_session_error(s);
		return;
	}
	if (s->srv->tls == NULL) {
		imap_tagged(s, "BAD", "TLS support isn't enabled.");
		imap_session_error(s);
		return;
	}
	imap_session_starttls(s);
}

static void
imap_cmd_enable(struct imap_session *s, const struct imap_command *c)
{
	struct buf b;
	size_t i;

	/* RFC 5161 3: only the capabilities we know and have not enabled
	 * yet are named in ENABLED */
	buf_init(&b, 1024);
	(void)!buf_append_str(&b, "* ENABLED");
	for (i = 0; i < c->u.enable.n; i++) {
		struct imap_slice e = c->u.enable.caps[i];

		if (e.n == 9 && ascii_eq_n(e.p, "IMAP4rev2", 9) && !s->rev2) {
			s->rev2 = true;
			s->utf8 = true; /* RFC 9051 6.3.1: UTF-8 names */
			(void)!buf_append_str(&b, " IMAP4rev2");
		} else if (e.n == 11 && ascii_eq_n(e.p, "UTF8=ACCEPT", 11) &&
		    !s->utf8_accept) {
			/* RFC 6855 3 */
			s->utf8_accept = true;
			s->utf8 = true;
			(void)!buf_append_str(&b, " UTF8=ACCEPT");
		}
	}
	(void)!buf_append_str(&b, "\r\n");
	imap_send(s, b.data, b.len);
	buf_free(&b);
	imap_session_update_opts(s);
	imap_tagged(s, "OK", "Enabled.");
}

static void
imap_cmd_id(struct imap_session *s, const struct imap_command *c)
{
	struct buf line;
	size_t i;

	/* RFC 2971 3.1: the client's fields go to the log, shortened */
	if (c->u.id.n > 0) {
		buf_init(&line, 2048);
		for (i = 0; i < c->u.id.n; i++) {
			const struct imap_slice *v = &c->u.id.values[i];

			(void)!buf_printf(&line, "%s%s=%s", i ? ", " : "",
			    log_sanitize(c->u.id.fields[i].p,
			        c->u.id.fields[i].n),
			    v->p == NULL ? "NIL" : log_sanitize(v->p, v->n));
		}
		log_info("imap-login: ID sent: %s, rip=%s", buf_cstr(&line),
		    s->addr);
		buf_free(&line);
	}
	imap_sendf(s, "* ID (\"name\" \"%s\")", s->srv->conf->mail_name);
	imap_tagged(s, "OK", "ID completed.");
}

static const struct imap_handler imap_handlers[] = {
	{ IMAP_CMD_CAPABILITY, ANY, imap_cmd_capability },
	{ IMAP_CMD_NOOP, ANY, imap_cmd_noop },
	{ IMAP_CMD_LOGOUT, ANY, imap_cmd_logout },
	{ IMAP_CMD_ID, ANY, imap_cmd_id },
	{ IMAP_CMD_STARTTLS, IMAP_STATE_NOT_AUTH, imap_cmd_starttls },
	{ IMAP_CMD_AUTHENTICATE, IMAP_STATE_NOT_AUTH, imap_cmd_authenticate },
	{ IMAP_CMD_LOGIN, IMAP_STATE_NOT_AUTH, imap_cmd_login },
	{ IMAP_CMD_ENABLE, AUTH, imap_cmd_enable },
	{ IMAP_CMD_SELECT, AUTH, imap_cmd_select },
	{ IMAP_CMD_EXAMINE, AUTH, imap_cmd_select },
	{ IMAP_CMD_CREATE, AUTH, imap_cmd_create },
	{ IMAP_CMD_DELETE, AUTH, imap_cmd_delete },
	{ IMAP_CMD_RENAME, AUTH, imap_cmd_rename },
	{ IMAP_CMD_SUBSCRIBE, AUTH, imap_cmd_subscribe },
	{ IMAP_CMD_UNSUBSCRIBE, AUTH, imap_cmd_subscribe },
	{ IMAP_CMD_LIST, AUTH, imap_cmd_list },
	{ IMAP_CMD_LSUB, AUTH, imap_cmd_list },
	{ IMAP_CMD_NAMESPACE, AUTH, imap_cmd_namespace },
	{ IMAP_CMD_STATUS, AUTH, imap_cmd_status },
	{ IMAP_CMD_APPEND, AUTH, imap_cmd_append },
	{ IMAP_CMD_IDLE, AUTH, imap_cmd_idle },
	{ IMAP_CMD_CHECK, SEL, imap_cmd_sync },
	{ IMAP_CMD_CLOSE, SEL, imap_cmd_close },
	{ IMAP_CMD_UNSELECT, SEL, imap_cmd_close },
	{ IMAP_CMD_EXPUNGE, SEL, imap_cmd_expunge },
	{ IMAP_CMD_SEARCH, SEL, imap_cmd_search },
	{ IMAP_CMD_FETCH, SEL, imap_cmd_fetch },
	{ IMAP_CMD_STORE, SEL, imap_cmd_store },
	{ IMAP_CMD_COPY, SEL, imap_cmd_copy },
	{ IMAP_CMD_MOVE, SEL, imap_cmd_copy },
};

void
imap_cmd_dispatch(struct imap_session *s, const struct imap_command *c)
{
	size_t i;

	for (i = 0; i < sizeof(imap_handlers) / sizeof(imap_handlers[0]); i++)
		if (imap_handlers[i].id == c->id)
			break;
	if (i == sizeof(imap_handlers) / sizeof(imap_handlers[0])) {
		imap_tagged(s, "BAD", "Unknown command.");
		imap_session_error(s);
		return;
	}
	if (!(imap_handlers[i].allowed & s->state)) {
		/* RFC 9051 6: a command in the wrong state is BAD; the text
		 * says why (a login command after login, not "no mailbox") */
		imap_tagged(s, "BAD", "%s",
		    s->state == IMAP_STATE_NOT_AUTH ? "Not logged in."
		        : imap_handlers[i].allowed == IMAP_STATE_NOT_AUTH
		        ? "Already logged in."
		        : "No mailbox selected.");
		imap_session_error(s);
		return;
	}
	imap_handlers[i].fn(s, c);
}
