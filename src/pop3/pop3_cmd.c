/*
 * POP3 command dispatch and the commands that need no login or only the
 * message list: CAPA (RFC 2449 5), STLS (RFC 2595 4), UTF8 (RFC 6856 3),
 * QUIT, and the TRANSACTION commands STAT, LIST, UIDL, DELE, RSET, NOOP,
 * RETR and TOP (RFC 1939 5, 7). The login commands live in pop3_auth.c,
 * the mail store work (RETR streaming, UPDATE) in pop3_maildrop.c.
 * Syntax and state are checked before anything changes.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/log.h"
#include "pop3/pop3_session_private.h"
#include "store/store.h"

typedef void pop3_cmd_fn(struct pop3_session *, const struct pop3_cmd *);

struct pop3_command {
	enum pop3_verb verb;
	unsigned allowed; /* states in which the command is valid */
	pop3_cmd_fn *fn;
};

/* Finds message number arg (1-based) of the view; replies -ERR and
 * returns false when there is none, or it is marked deleted. */
static bool
pop3_cmd_msg(struct pop3_session *s, struct pop3_slice arg, size_t *i_out)
{
	uint64_t n;

	if (pop3_parse_number(arg, 1, UINT32_MAX, &n) == -1) {
		pop3_err(s, "Invalid message number: %s",
		    log_sanitize(arg.p, arg.n));
		return false;
	}
	if (n > s->nmsgs) {
		pop3_err(s, "There's no message %llu.", (unsigned long long)n);
		return false;
	}
	if (s->marks[n - 1] & POP3_MARK_DELETED) {
		pop3_err(s, "Message is deleted.");
		return false;
	}
	*i_out = (size_t)(n - 1);
	return true;
}

static void
pop3_cmd_capa(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	struct buf b;

	(void)cmd;
	buf_init(&b, 1024);
	(void)!buf_append_str(&b,
	    "+OK Capability list follows\r\n"
	    "TOP\r\n");
	if (s->state == POP3_STATE_AUTHORIZATION) {
		struct buf mechs;

		/* Dovecot's rule: USER only where it may be used */
		if (s->plaintext_ok)
			(void)!buf_append_str(&b, "USER\r\n");
		buf_init(&mechs, 256);
		pop3_auth_mechanisms(s, &mechs);
		if (mechs.len > 0)
			(void)!buf_printf(&b, "SASL%s\r\n", buf_cstr(&mechs));
		buf_free(&mechs);
	}
	/* RFC 2449 8, RFC 3206 */
	(void)!buf_append_str(&b,
	    "RESP-CODES\r\n"
	    "AUTH-RESP-CODE\r\n"
	    "PIPELINING\r\n"
	    "UIDL\r\n");
	if (s->state == POP3_STATE_AUTHORIZATION && s->srv->tls != NULL &&
	    !s->tls)
		(void)!buf_append_str(&b, "STLS\r\n");
	/* RFC 6856 2: UTF8 may be given; USER takes UTF-8 names */
	if (s->state == POP3_STATE_AUTHORIZATION)
		(void)!buf_append_str(&b, "UTF8 USER\r\n");
	(void)!buf_printf(
	    &b, "IMPLEMENTATION %s\r\n.\r\n", s->srv->conf->mail_name);
	pop3_send(s, b.data, b.len);
	buf_free(&b);
}

static void
pop3_cmd_stls(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (s->tls) {
		/* RFC 2595 4: not once TLS is active */
		pop3_err(s, "TLS is already active.");
		return;
	}
	if (s->srv->tls == NULL) {
		pop3_err(s, "TLS support isn't enabled.");
		return;
	}
	pop3_session_starttls(s);
}

static void
pop3_cmd_utf8(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	/* RFC 6856 3: messages go out as stored; names may be UTF-8 */
	s->utf8 = true;
	pop3_ok(s, "UTF8 enabled.");
}

static void
pop3_cmd_quit(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (s->state == POP3_STATE_AUTHORIZATION) {
		/* RFC 1939 5: no UPDATE before login */
		pop3_ok(s, "Logging out.");
		pop3_session_close(s, "Aborted login");
		return;
	}
	/* RFC 1939 6: the UPDATE state; the reply waits for the store */
	pop3_session_set_state(s, POP3_STATE_UPDATE);
	pop3_maildrop_update(s);
}

static void
pop3_cmd_stat(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint64_t octets = 0;
	size_t i, n = 0;

	(void)cmd;
	/* RFC 1939 5: deleted messages are not counted */
	for (i = 0; i < s->nmsgs; i++)
		if (!(s->marks[i] & POP3_MARK_DELETED)) {
			n++;
			octets += store_mailbox_msg(s->mb, i)->vsize;
		}
	pop3_ok(s, "%zu %llu", n, (unsigned long long)octets);
}

/* LIST and UIDL: one message, or all that are not deleted. */
static void
pop3_cmd_list_uidl(
    struct pop3_session *s, const struct pop3_cmd *cmd, bool uidl)
{
	struct evbuffer *out;
	const struct store_msg *m;
	size_t i;

	if (cmd->nargs == 1) {
		if (!pop3_cmd_msg(s, cmd->args[0], &i))
			return;
		m = store_mailbox_msg(s->mb, i);
		if (uidl)
			pop3_ok(s, "%zu %s", i + 1, m->uidl);
		else
			pop3_ok(
			    s, "%zu %llu", i + 1, (unsigned long long)m->vsize);
		return;
	}
	if (s->bev == NULL)
		return;
	out = bufferevent_get_output(s->bev);
	(void)evbuffer_add_printf(out, "+OK\r\n");
	/* RFC 1939 7: the UIDL is 1..70 characters of 0x21..0x7E */
	for (i = 0; i < s->nmsgs; i++) {
		if (s->marks[i] & POP3_MARK_DELETED)
			continue;
		m = store_mailbox_msg(s->mb, i);
		if (uidl)
			(void)evbuffer_add_printf(
			    out, "%zu %s\r\n", i + 1, m->uidl);
		else
			(void)evbuffer_add_printf(out, "%zu %llu\r\n", i + 1,
			    (unsigned long long)m->vsize);
	}
	(void)evbuffer_add(out, ".\r\n", 3);
}

static void
pop3_cmd_list(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	pop3_cmd_list_uidl(s, cmd, false);
}

static void
pop3_cmd_uidl(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	pop3_cmd_list_uidl(s, cmd, true);
}

static void
pop3_cmd_dele(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	size_t i;

	if (!pop3_cmd_msg(s, cmd->args[0], &i))
		return;
	/* RFC 1939 5: marked only; removed in UPDATE */
	s->marks[i] |= POP3_MARK_DELETED;
	pop3_ok(s, "Marked to be deleted.");
}

static void
pop3_cmd_rset(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint64_t octets = 0;
	size_t i;

	(void)cmd;
	/* RFC 1939 5: unmark every message marked as deleted */
	for (i = 0; i < s->nmsgs; i++) {
		s->marks[i] &= (unsigned char)~POP3_MARK_DELETED;
		octets += store_mailbox_msg(s->mb, i)->vsize;
	}
	pop3_ok(s, "maildrop has %zu messages (%llu octets)", s->nmsgs,
	    (unsigned long long)octets);
}

static void
pop3_cmd_noop(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3_ok_bare(s);
}

static void
pop3_cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	size_t i;

	if (!pop3_cmd_msg(s, cmd->args[0], &i))
		return;
	pop3_retr_start(s, i, false, 0);
}

static void
pop3_cmd_top(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint64_t lines;
	size_t i;

	if (pop3_parse_number(cmd->args[1], 0, UINT64_MAX, &lines) == -1) {
		pop3_err(s, "Invalid number of lines: %s",
		    log_sanitize(cmd->args[1].p, cmd->args[1].n));
		return;
	}
	if (!pop3_cmd_msg(s, cmd->args[0], &i))
		return;
	pop3_retr_start(s, i, true, lines);
}

#define AUTHZ POP3_STATE_AUTHORIZATION
#define TRANS POP3_STATE_TRANSACTION

// clang-format off
static const struct pop3_command pop3_commands[] = {
	/* verb            allowed in      handler */
	{ POP3_VERB_USER,  AUTHZ,          pop3_cmd_user },
	{ POP3_VERB_PASS,  AUTHZ,          pop3_cmd_pass },
	{ POP3_VERB_APOP,  AUTHZ,          pop3_cmd_apop },
	{ POP3_VERB_AUTH,  AUTHZ,          pop3_cmd_auth },
	{ POP3_VERB_STLS,  AUTHZ,          pop3_cmd_stls },
	{ POP3_VERB_UTF8,  AUTHZ,          pop3_cmd_utf8 },
	{ POP3_VERB_CAPA,  AUTHZ | TRANS,  pop3_cmd_capa },
	{ POP3_VERB_QUIT,  AUTHZ | TRANS,  pop3_cmd_quit },
	{ POP3_VERB_STAT,  TRANS,          pop3_cmd_stat },
	{ POP3_VERB_LIST,  TRANS,          pop3_cmd_list },
	{ POP3_VERB_UIDL,  TRANS,          pop3_cmd_uidl },
	{ POP3_VERB_RETR,  TRANS,          pop3_cmd_retr },
	{ POP3_VERB_TOP,   TRANS,          pop3_cmd_top },
	{ POP3_VERB_DELE,  TRANS,          pop3_cmd_dele },
	{ POP3_VERB_RSET,  TRANS,          pop3_cmd_rset },
	{ POP3_VERB_NOOP,  TRANS,          pop3_cmd_noop },
};
// clang-format on

void
pop3_cmd_dispatch(struct pop3_session *s, const char *line, size_t len)
{
	const struct pop3_command *c = NULL;
	enum pop3_parse_result r;
	struct pop3_cmd cmd;
	size_t i;

	r = pop3_parse_command(line, len, &s->srv->plimits, &cmd);
	switch (r) {
	case POP3_PARSE_OK:
		break;
	case POP3_PARSE_EMPTY:
		pop3_err(s, "Unknown command.");
		pop3_session_error(s);
		return;
	case POP3_PARSE_UNKNOWN:
		pop3_err(s, "Unknown command: %s",
		    log_sanitize(cmd.keyword.p,
		        cmd.keyword.n > POP3_ARG_MAX ? POP3_ARG_MAX
		                                     : cmd.keyword.n));
		pop3_session_error(s);
		return;
	case POP3_PARSE_BAD_CHAR:
		pop3_err(s, "Invalid characters in command.");
		pop3_session_error(s);
		return;
	case POP3_PARSE_TOO_FEW_ARGS:
	case POP3_PARSE_TOO_MANY_ARGS:
		pop3_err(s, "Invalid arguments.");
		pop3_session_error(s);
		return;
	case POP3_PARSE_ARG_TOO_LONG:
		/* RFC 2449 3: arguments are at most 40 characters */
		pop3_err(s, "Argument too long.");
		pop3_session_error(s);
		return;
	}
	for (i = 0; i < MW_NELEM(pop3_commands); i++)
		if (pop3_commands[i].verb == cmd.verb) {
			c = &pop3_commands[i];
			break;
		}
	MW_ASSERT(c != NULL);
	if (!(c->allowed & s->state)) {
		pop3_err(s, "%s not allowed in %s state.",
		    pop3_verb_name(cmd.verb),
		    s->state == POP3_STATE_AUTHORIZATION ? "AUTHORIZATION"
		                                         : "TRANSACTION");
		pop3_session_error(s);
		return;
	}
	c->fn(s, &cmd);
}
