/*
 * Arguments of the IMAP commands on messages (see imap_command.h): APPEND
 * (RFC 9051 6.3.12, MULTIAPPEND RFC 3502, literal8 RFC 3516 4.3), UID
 * EXPUNGE (RFC 9051 6.4.9), FETCH (its attributes: imap_fetch_parse.c),
 * STORE (RFC 9051 6.4.6, UNCHANGEDSINCE RFC 7162 3.1.3), COPY and MOVE
 * (RFC 9051 6.4.7, 6.4.8).
 */
#include "imap/imap_parse_private.h"
#include "lib/parse.h"

/* APPEND SP mailbox 1*append-message (RFC 3502 6); append-message =
 * [SP flag-list] [SP date-time] SP (literal / literal8) (RFC 9051 9,
 * RFC 3516 4.3). Only these literals may be streamed. */
bool
imap_parse_append(struct imap_lex *lx, struct imap_command *cmd)
{
	const struct imap_frame_literal *lit;
	struct imap_append_msg *m;
	size_t max = lx->nlit - lx->next_lit;
	struct imap_slice data;

	if (!lex_sp(lx) || !lex_mailbox(lx, &cmd->u.append.mbox))
		return false;
	if (max == 0)
		return lex_fail(lx, IMAP_ERR_BAD, "APPEND needs a literal");
	cmd->u.append.msgs = lex_alloc(lx, max, sizeof(*m));
	if (cmd->u.append.msgs == NULL)
		return false;
	do {
		if (!lex_sp(lx))
			return false;
		if (cmd->u.append.n == max)
			return lex_fail(
			    lx, IMAP_ERR_BAD, "APPEND needs a literal");
		m = &cmd->u.append.msgs[cmd->u.append.n++];
		if (lex_peek(lx) == '(') {
			if (!lex_flag_list(lx, &m->flags) || !lex_sp(lx))
				return false;
			m->has_flags = true;
		}
		if (lex_peek(lx) == '"') {
			if (!lex_date_time(lx, &m->date) || !lex_sp(lx))
				return false;
			m->has_date = true;
		}
		/* RFC 6855 4: append-data-ext "UTF8" SP "(" literal8 ")",
		 * a message with UTF-8 headers (UTF8=ACCEPT) */
		if (lex_peek(lx) == 'U' || lex_peek(lx) == 'u') {
			if (!lex_keyword(lx, "UTF8") || !lex_sp(lx) ||
			    !lex_char(lx, '(') || lex_peek(lx) != '~')
				return lex_fail(lx, IMAP_ERR_BAD,
				    "UTF8 needs a literal8 in parentheses");
			m->literal = lx->next_lit;
			if (!lex_literal(lx, true, true, &data, &lit) ||
			    !lex_char(lx, ')'))
				return false;
			m->utf8 = true;
		} else {
			if (lex_peek(lx) != '{' && lex_peek(lx) != '~')
				return lex_fail(lx, IMAP_ERR_BAD,
				    "Message literal expected");
			m->literal = lx->next_lit;
			if (!lex_literal(lx, true, true, &data, &lit))
				return false;
		}
		m->binary = lit->binary;
		m->streamed = lit->streamed;
		m->size = lit->size;
		m->data = data;
	} while (lex_peek(lx) == ' ');
	return true;
}

/* UID EXPUNGE SP sequence-set (RFC 4315 2.1, RFC 9051 6.4.9) */
bool
imap_parse_expunge(struct imap_lex *lx, struct imap_command *cmd)
{
	return lex_sp(lx) && lex_seqset(lx, &cmd->u.msg.set);
}

/* FETCH SP sequence-set SP (macro / fetch-att / "(" fetch-att *(SP
 * fetch-att) ")") [fetch-modifiers] (RFC 9051 9, RFC 4466 2.4) */
bool
imap_parse_fetch(struct imap_lex *lx, struct imap_command *cmd)
{
	struct imap_fetch *f = &cmd->u.msg.fetch;

	if (!lex_sp(lx) || !lex_seqset(lx, &cmd->u.msg.set) || !lex_sp(lx) ||
	    !imap_fetch_atts_parse(lx, f))
		return false;
	if (!lex_take(lx, ' '))
		return true;
	/* fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")";
	 * RFC 7162 3.1.4.1: "CHANGEDSINCE" SP mod-sequence-value */
	if (!lex_char(lx, '('))
		return false;
	do {
		if (!lex_count(lx))
			return false;
		if (!lex_keyword(lx, "CHANGEDSINCE"))
			return lex_fail(
			    lx, IMAP_ERR_BAD, "Unknown FETCH modifier");
		if (!lex_sp(lx) ||
		    !lex_number(lx, IMAP_NUMBER64_MAX, true, &f->changedsince))
			return false;
		f->has_changedsince = true;
	} while (lex_take(lx, ' '));
	return lex_char(lx, ')');
}

/* STORE SP sequence-set [store-modifiers] SP store-att-flags (RFC 9051 9,
 * RFC 4466 2.5, RFC 7162 3.1.3): store-att-flags = (["+" / "-"] "FLAGS"
 * [".SILENT"]) SP (flag-list / (flag *(SP flag))) */
bool
imap_parse_store(struct imap_lex *lx, struct imap_command *cmd)
{
	struct imap_slice a;

	if (!lex_sp(lx) || !lex_seqset(lx, &cmd->u.msg.set) || !lex_sp(lx))
		return false;
	if (lex_take(lx, '(')) {
		do {
			if (!lex_count(lx))
				return false;
			/* mod-sequence-valzer = "0" / mod-sequence-value */
			if (!lex_keyword(lx, "UNCHANGEDSINCE"))
				return lex_fail(
				    lx, IMAP_ERR_BAD, "Unknown STORE modifier");
			if (!lex_sp(lx) ||
			    !lex_number(lx, IMAP_NUMBER64_MAX, false,
			        &cmd->u.msg.store.unchangedsince))
				return false;
			cmd->u.msg.store.has_unchangedsince = true;
		} while (lex_take(lx, ' '));
		if (!lex_char(lx, ')') || !lex_sp(lx))
			return false;
	}
	if (lex_take(lx, '+'))
		cmd->u.msg.store.op = IMAP_STORE_ADD;
	else if (lex_take(lx, '-'))
		cmd->u.msg.store.op = IMAP_STORE_REMOVE;
	else
		cmd->u.msg.store.op = IMAP_STORE_REPLACE;
	a = lex_peek_atom(lx);
	if (a.n == 5 && ascii_eq_n(a.p, "FLAGS", 5))
		cmd->u.msg.store.silent = false;
	else if (a.n == 12 && ascii_eq_n(a.p, "FLAGS.SILENT", 12))
		cmd->u.msg.store.silent = true;
	else
		return lex_fail(lx, IMAP_ERR_BAD, "FLAGS expected");
	lx->pos += a.n;
	if (!lex_sp(lx))
		return false;
	if (lex_peek(lx) == '(')
		return lex_flag_list(lx, &cmd->u.msg.store.flags);
	return lex_flags_bare(lx, &cmd->u.msg.store.flags);
}

/* COPY / MOVE SP sequence-set SP mailbox */
bool
imap_parse_copy(struct imap_lex *lx, struct imap_command *cmd)
{
	return lex_sp(lx) && lex_seqset(lx, &cmd->u.msg.set) && lex_sp(lx) &&
	    lex_mailbox(lx, &cmd->u.msg.dest);
}
