/*
 * The IMAP command parser (see imap_command.h): tag, name, UID prefix, and
 * the arguments of the commands that manage the session and mailboxes.
 * SEARCH and FETCH programs have files of their own (imap_search_parse.c,
 * imap_fetch_parse.c), as do the commands on messages (imap_command_msg.c).
 * Grammar: RFC 9051 9, RFC 3501 9, with the rules of RFC 4466 (select and
 * create parameters), 4959 (SASL-IR), 5258 and 5819 (LIST-EXTENDED,
 * LIST-STATUS), 6154 (SPECIAL-USE), 2971 (ID), 3502 (MULTIAPPEND), 3516
 * (BINARY) and 7162 (CONDSTORE).
 */
#include <string.h>

#include "imap/imap_parse_private.h"
#include "lib/parse.h"

/* AUTHENTICATE mech [SP initial-resp] (RFC 9051 6.2.2, RFC 4959 7):
 * initial-resp = base64 / "="; base64 = *(4base64-char) [base64-terminal].
 * The responses that follow are lines (imap_reader_want_line). */
static bool
parse_authenticate(struct imap_lex *lx, struct imap_command *cmd)
{
	struct imap_slice ir;
	size_t i, pad = 0;
	int c;

	if (!lex_sp(lx) || !lex_atom(lx, &cmd->u.authenticate.mech))
		return false;
	if (!lex_take(lx, ' '))
		return true;
	ir.p = lx->p + lx->pos;
	while ((c = lex_peek(lx)) != -1 &&
	    ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	        (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
		lx->pos++;
	ir.n = (size_t)(lx->p + lx->pos - ir.p);
	cmd->u.authenticate.has_ir = true;
	if (ir.n == 1 && ir.p[0] == '=') { /* RFC 4959 3: empty response */
		cmd->u.authenticate.ir = (struct imap_slice){ ir.p, 0 };
		return true;
	}
	if (ir.n == 0 || ir.n % 4 != 0)
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid base64");
	for (i = 0; i < ir.n; i++)
		if (ir.p[i] == '=')
			pad++;
		else if (pad > 0)
			return lex_fail(lx, IMAP_ERR_BAD, "Invalid base64");
	if (pad > 2)
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid base64");
	cmd->u.authenticate.ir = ir;
	return true;
}

/* LOGIN SP userid SP password (both astring) */
static bool
parse_login(struct imap_lex *lx, struct imap_command *cmd)
{
	return lex_sp(lx) && lex_astring(lx, &cmd->u.login.user) &&
	    lex_sp(lx) && lex_astring(lx, &cmd->u.login.pass);
}

/* ENABLE 1*(SP capability) (RFC 5161 4, RFC 9051 6.3.1) */
static bool
parse_enable(struct imap_lex *lx, struct imap_command *cmd)
{
	size_t max = (lx->len - lx->pos) / 2 + 1;

	if (max > lx->lim->args_max)
		max = lx->lim->args_max;
	cmd->u.enable.caps = lex_alloc(lx, max, sizeof(struct imap_slice));
	if (cmd->u.enable.caps == NULL)
		return false;
	do {
		if (cmd->u.enable.n == max || !lex_count(lx))
			return lex_fail(
			    lx, IMAP_ERR_LIMIT, "Too many arguments");
		if (!lex_sp(lx) ||
		    !lex_atom(lx, &cmd->u.enable.caps[cmd->u.enable.n++]))
			return false;
	} while (lex_peek(lx) == ' ');
	return true;
}

/* SELECT / EXAMINE SP mailbox [select-params] (RFC 4466 2.1):
 * select-params = SP "(" select-param *(SP select-param) ")"; we know
 * CONDSTORE (RFC 7162 3.1.8), and refuse what we do not know (BAD). */
static bool
parse_select(struct imap_lex *lx, struct imap_command *cmd)
{
	if (!lex_sp(lx) || !lex_mailbox(lx, &cmd->u.select.mbox))
		return false;
	if (!lex_take(lx, ' '))
		return true;
	if (!lex_char(lx, '('))
		return false;
	do {
		if (!lex_count(lx))
			return false;
		if (!lex_keyword(lx, "CONDSTORE"))
			return lex_fail(
			    lx, IMAP_ERR_BAD, "Unknown SELECT parameter");
		cmd->u.select.condstore = true;
	} while (lex_take(lx, ' '));
	return lex_char(lx, ')');
}

// clang-format off
static const struct {
	const char *name;
	unsigned bit;
} imap_use_attrs[] = {
	{ "All", IMAP_USE_ALL },       { "Archive", IMAP_USE_ARCHIVE },
	{ "Drafts", IMAP_USE_DRAFTS }, { "Flagged", IMAP_USE_FLAGGED },
	{ "Junk", IMAP_USE_JUNK },     { "Sent", IMAP_USE_SENT },
	{ "Trash", IMAP_USE_TRASH },
};
// clang-format on

/* CREATE SP mailbox [create-params] (RFC 4466 2.2); create-param
 * "USE" SP "(" [use-attr *(SP use-attr)] ")" (RFC 6154 3, 6). */
static bool
parse_create(struct imap_lex *lx, struct imap_command *cmd)
{
	struct imap_slice a;
	size_t i;

	if (!lex_sp(lx) || !lex_mailbox(lx, &cmd->u.create.mbox))
		return false;
	if (!lex_take(lx, ' '))
		return true;
	if (!lex_char(lx, '('))
		return false;
	do {
		if (!lex_count(lx))
			return false;
		if (!lex_keyword(lx, "USE"))
			return lex_fail(
			    lx, IMAP_ERR_BAD, "Unknown CREATE parameter");
		if (!lex_sp(lx) || !lex_char(lx, '('))
			return false;
		if (lex_take(lx, ')'))
			continue;
		do {
			if (!lex_count(lx) || !lex_char(lx, '\\') ||
			    !lex_atom(lx, &a))
				return false;
			for (i = 0; i < MW_NELEM(imap_use_attrs); i++)
				if (strlen(imap_use_attrs[i].name) == a.n &&
				    ascii_eq_n(
				        a.p, imap_use_attrs[i].name, a.n))
					break;
			if (i < MW_NELEM(imap_use_attrs))
				cmd->u.create.use |= imap_use_attrs[i].bit;
			else
				cmd->u.create.use_unknown = true;
		} while (lex_take(lx, ' '));
		if (!lex_char(lx, ')'))
			return false;
	} while (lex_take(lx, ' '));
	return lex_char(lx, ')');
}

/* DELETE, SUBSCRIBE, UNSUBSCRIBE SP mailbox */
static bool
parse_mailbox(struct imap_lex *lx, struct imap_command *cmd)
{
	return lex_sp(lx) && lex_mailbox(lx, &cmd->u.mailbox.mbox);
}

/* RENAME SP mailbox SP mailbox */
static bool
parse_rename(struct imap_lex *lx, struct imap_command *cmd)
{
	return lex_sp(lx) && lex_mailbox(lx, &cmd->u.rename.from) &&
	    lex_sp(lx) && lex_mailbox(lx, &cmd->u.rename.to);
}

// clang-format off
static const struct {
	const char *name;
	unsigned bit;
} imap_status_atts[] = {
	{ "MESSAGES", IMAP_STATUS_MESSAGES },
	{ "UIDNEXT", IMAP_STATUS_UIDNEXT },
	{ "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY },
	{ "UNSEEN", IMAP_STATUS_UNSEEN },
	{ "DELETED", IMAP_STATUS_DELETED },
	{ "SIZE", IMAP_STATUS_SIZE },
	{ "RECENT", IMAP_STATUS_RECENT },
	{ "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ },
	{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT },
};
// clang-format on

/* "(" status-att *(SP status-att) ")" (RFC 9051 9) */
static bool
parse_status_atts(struct imap_lex *lx, unsigned *items)
{
	size_t i;

	if (!lex_char(lx, '('))
		return false;
	do {
		if (!lex_count(lx))
			return false;
		for (i = 0; i < MW_NELEM(imap_status_atts); i++)
			if (lex_keyword(lx, imap_status_atts[i].name))
				break;
		if (i == MW_NELEM(imap_status_atts))
			return lex_fail(
			    lx, IMAP_ERR_BAD, "Unknown STATUS item");
		*items |= imap_status_atts[i].bit;
	} while (lex_take(lx, ' '));
	return lex_char(lx, ')');
}

/* STATUS SP mailbox SP "(" status-att *(SP status-att) ")" */
static bool
parse_status(struct imap_lex *lx, struct imap_command *cmd)
{
	return lex_sp(lx) && lex_mailbox(lx, &cmd->u.status.mbox) &&
	    lex_sp(lx) && parse_status_atts(lx, &cmd->u.status.items);
}

/* RFC 5258 6 list-select-opts; RFC 6154 5.1 adds SPECIAL-USE as a base
 * option. A "mod" option (RECURSIVEMATCH) needs a base one (RFC 5258 3:
 * otherwise BAD); unknown options are refused with BAD. */
static bool
parse_list_select(struct imap_lex *lx, struct imap_command *cmd)
{
	unsigned *sel = &cmd->u.list.select;

	if (!lex_char(lx, '('))
		return false;
	if (!lex_take(lx, ')')) {
		do {
			if (!lex_count(lx))
				return false;
			if (lex_keyword(lx, "SUBSCRIBED"))
				*sel |= IMAP_LIST_SEL_SUBSCRIBED;
			else if (lex_keyword(lx, "REMOTE"))
				*sel |= IMAP_LIST_SEL_REMOTE;
			else if (lex_keyword(lx, "RECURSIVEMATCH"))
				*sel |= IMAP_LIST_SEL_RECURSIVEMATCH;
			else if (lex_keyword(lx, "SPECIAL-USE"))
				*sel |= IMAP_LIST_SEL_SPECIAL_USE;
			else
				return lex_fail(lx, IMAP_ERR_BAD,
				    "Unknown LIST selection option");
		} while (lex_take(lx, ' '));
		if (!lex_char(lx, ')'))
			return false;
	}
	if ((*sel & IMAP_LIST_SEL_RECURSIVEMATCH) &&
	    !(*sel & (IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_SPECIAL_USE)))
		return lex_fail(
		    lx, IMAP_ERR_BAD, "RECURSIVEMATCH needs a base option");
	return lex_char(lx, ' ');
}

/* "RETURN" SP "(" [return-option *(SP return-option)] ")" (RFC 5258 6,
 * RFC 5819 2 status-option, RFC 6154 5.2) */
static bool
parse_list_return(struct imap_lex *lx, struct imap_command *cmd)
{
	unsigned *ret = &cmd->u.list.ret;

	if (!lex_keyword(lx, "RETURN"))
		return lex_fail(lx, IMAP_ERR_BAD, "RETURN expected");
	if (!lex_sp(lx) || !lex_char(lx, '('))
		return false;
	if (lex_take(lx, ')'))
		return true;
	do {
		if (!lex_count(lx))
			return false;
		if (lex_keyword(lx, "SUBSCRIBED"))
			*ret |= IMAP_LIST_RET_SUBSCRIBED;
		else if (lex_keyword(lx, "CHILDREN"))
			*ret |= IMAP_LIST_RET_CHILDREN;
		else if (lex_keyword(lx, "SPECIAL-USE"))
			*ret |= IMAP_LIST_RET_SPECIAL_USE;
		else if (lex_keyword(lx, "STATUS")) {
			*ret |= IMAP_LIST_RET_STATUS;
			if (!lex_sp(lx) ||
			    !parse_status_atts(lx, &cmd->u.list.status))
				return false;
		} else
			return lex_fail(
			    lx, IMAP_ERR_BAD, "Unknown LIST return option");
	} while (lex_take(lx, ' '));
	return lex_char(lx, ')');
}

/* LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP
 * list-return-opts] (RFC 9051 9, RFC 5258 6); LSUB SP mailbox SP
 * list-mailbox (RFC 3501 9). */
static bool
parse_list(struct imap_lex *lx, struct imap_command *cmd)
{
	bool lsub = cmd->id == IMAP_CMD_LSUB;
	size_t max;

	if (!lex_sp(lx))
		return false;
	if (!lsub && lex_peek(lx) == '(') {
		cmd->u.list.extended = true;
		if (!parse_list_select(lx, cmd))
			return false;
	}
	if (!lex_mailbox(lx, &cmd->u.list.ref) || !lex_sp(lx))
		return false;
	max = (lx->len - lx->pos) / 2 + 1;
	if (max > lx->lim->args_max)
		max = lx->lim->args_max;
	if ((cmd->u.list.patterns =
	            lex_alloc(lx, max, sizeof(struct imap_slice))) == NULL)
		return false;
	if (!lsub && lex_take(lx, '(')) {
		/* patterns = "(" list-mailbox *(SP list-mailbox) ")" */
		cmd->u.list.extended = true;
		do {
			if (cmd->u.list.npatterns == max || !lex_count(lx))
				return lex_fail(
				    lx, IMAP_ERR_LIMIT, "Too many patterns");
			if (!lex_list_mailbox(lx,
			        &cmd->u.list.patterns[cmd->u.list.npatterns++]))
				return false;
		} while (lex_take(lx, ' '));
		if (!lex_char(lx, ')'))
			return false;
	} else if (!lex_list_mailbox(
	               lx, &cmd->u.list.patterns[cmd->u.list.npatterns++]))
		return false;
	if (!lsub && lex_take(lx, ' ')) {
		cmd->u.list.extended = true;
		return parse_list_return(lx, cmd);
	}
	return true;
}

/* ID SP ("(" [string SP nstring *(SP string SP nstring)] ")" / nil)
 * (RFC 2971 4 and its erratum; bounds of RFC 2971 3.3) */
static bool
parse_id(struct imap_lex *lx, struct imap_command *cmd)
{
	struct imap_slice f, v;

	if (!lex_sp(lx))
		return false;
	if (lex_keyword(lx, "NIL"))
		return true;
	if (!lex_char(lx, '('))
		return false;
	cmd->u.id.fields = lex_alloc(lx, IMAP_ID_PAIRS_MAX, sizeof(f));
	cmd->u.id.values = lex_alloc(lx, IMAP_ID_PAIRS_MAX, sizeof(v));
	if (cmd->u.id.fields == NULL || cmd->u.id.values == NULL)
		return false;
	if (lex_take(lx, ')'))
		return true;
	do {
		if (cmd->u.id.n == IMAP_ID_PAIRS_MAX)
			return lex_fail(lx, IMAP_ERR_BAD, "Too many ID fields");
		if (!lex_count(lx) || !lex_string(lx, &f) || !lex_sp(lx) ||
		    !lex_nstring(lx, &v))
			return false;
		if (f.n > IMAP_ID_FIELD_MAX || v.n > IMAP_ID_VALUE_MAX)
			return lex_fail(lx, IMAP_ERR_BAD, "ID field too long");
		cmd->u.id.fields[cmd->u.id.n] = f;
		cmd->u.id.values[cmd->u.id.n++] = v;
	} while (lex_take(lx, ' '));
	return lex_char(lx, ')');
}

// clang-format off
static const struct imap_cmd_def imap_cmds[] = {
	/* name            id                      uid    parse */
	{ "CAPABILITY",   IMAP_CMD_CAPABILITY,   false, NULL },
	{ "NOOP",         IMAP_CMD_NOOP,         false, NULL },
	{ "LOGOUT",       IMAP_CMD_LOGOUT,       false, NULL },
	{ "STARTTLS",     IMAP_CMD_STARTTLS,     false, NULL },
	{ "AUTHENTICATE", IMAP_CMD_AUTHENTICATE, false, parse_authenticate },
	{ "LOGIN",        IMAP_CMD_LOGIN,        false, parse_login },
	{ "ENABLE",       IMAP_CMD_ENABLE,       false, parse_enable },
	{ "SELECT",       IMAP_CMD_SELECT,       false, parse_select },
	{ "EXAMINE",      IMAP_CMD_EXAMINE,      false, parse_select },
	{ "CREATE",       IMAP_CMD_CREATE,       false, parse_create },
	{ "DELETE",       IMAP_CMD_DELETE,       false, parse_mailbox },
	{ "RENAME",       IMAP_CMD_RENAME,       false, parse_rename },
	{ "SUBSCRIBE",    IMAP_CMD_SUBSCRIBE,    false, parse_mailbox },
	{ "UNSUBSCRIBE",  IMAP_CMD_UNSUBSCRIBE,  false, parse_mailbox },
	{ "LIST",         IMAP_CMD_LIST,         false, parse_list },
	{ "LSUB",         IMAP_CMD_LSUB,         false, parse_list },
	{ "NAMESPACE",    IMAP_CMD_NAMESPACE,    false, NULL },
	{ "STATUS",       IMAP_CMD_STATUS,       false, parse_status },
	{ "APPEND",       IMAP_CMD_APPEND,       false, imap_parse_append },
	{ "IDLE",         IMAP_CMD_IDLE,         false, NULL },
	{ "CHECK",        IMAP_CMD_CHECK,        false, NULL },
	{ "CLOSE",        IMAP_CMD_CLOSE,        false, NULL },
	{ "UNSELECT",     IMAP_CMD_UNSELECT,     false, NULL },
	{ "EXPUNGE",      IMAP_CMD_EXPUNGE,      true,  imap_parse_expunge },
	{ "SEARCH",       IMAP_CMD_SEARCH,       true,  imap_parse_search },
	{ "FETCH",        IMAP_CMD_FETCH,        true,  imap_parse_fetch },
	{ "STORE",        IMAP_CMD_STORE,        true,  imap_parse_store },
	{ "COPY",         IMAP_CMD_COPY,         true,  imap_parse_copy },
	{ "MOVE",         IMAP_CMD_MOVE,         true,  imap_parse_copy },
	{ "ID",           IMAP_CMD_ID,           false, parse_id },
};
// clang-format on

const char *
imap_cmd_name(enum imap_cmd_id id)
{
	size_t i;

	for (i = 0; i < MW_NELEM(imap_cmds); i++)
		if (imap_cmds[i].id == id)
			return imap_cmds[i].name;
	return "UNKNOWN";
}

/* tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 9) */
static bool
parse_tag(struct imap_lex *lx, struct imap_slice *tag)
{
	size_t start = lx->pos;
	int c;

	while ((c = lex_peek(lx)) != -1 && c != '+' &&
	    imap_is_astring_char((unsigned char)c))
		lx->pos++;
	if (lx->pos == start)
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid tag");
	if (c != ' ')
		return lex_fail(lx, IMAP_ERR_BAD,
		    c == -1 ? "Missing command" : "Invalid tag");
	*tag = (struct imap_slice){ lx->p + start, lx->pos - start };
	return true;
}

static const struct imap_cmd_def *
cmd_lookup(struct imap_slice name)
{
	size_t i;

	for (i = 0; i < MW_NELEM(imap_cmds); i++)
		if (strlen(imap_cmds[i].name) == name.n &&
		    ascii_eq_n(name.p, imap_cmds[i].name, name.n))
			return &imap_cmds[i];
	return NULL;
}

/* tag SP ["UID" SP] name, the name known and allowed after UID; cmd
 * gets tag, name, uid and id. */
static bool
parse_head(struct imap_lex *lx, struct imap_command *cmd,
    const struct imap_cmd_def **def_out)
{
	const struct imap_cmd_def *def;

	if (!parse_tag(lx, &cmd->tag) || !lex_sp(lx) ||
	    !lex_atom(lx, &cmd->name))
		return false;
	/* RFC 9051 6.4.9: uid = "UID" SP (copy / move / fetch / search /
	 * store / uid-expunge) */
	if (cmd->name.n == 3 && ascii_eq_n(cmd->name.p, "UID", 3)) {
		cmd->uid = true;
		if (!lex_sp(lx) || !lex_atom(lx, &cmd->name))
			return false;
	}
	if (lex_peek(lx) != ' ' && !lex_at_end(lx))
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid command name");
	def = cmd_lookup(cmd->name);
	if (def == NULL || (cmd->uid && !def->uid_ok))
		return lex_fail(lx, IMAP_ERR_UNKNOWN, "Unknown command");
	cmd->id = def->id;
	*def_out = def;
	return true;
}

int
imap_command_check_head(const char *line, size_t n,
    const struct imap_limits *lim, const struct imap_parse_opts *opts,
    enum imap_cmd_id *id_out, size_t *args_out, struct imap_parse_err *err)
{
	struct imap_lex lx = { 0 };
	struct imap_command cmd;
	const struct imap_cmd_def *def;

	memset(&cmd, 0, sizeof(cmd));
	lx.p = (char *)line; /* only read: no quoted string is lexed */
	lx.len = n;
	lx.lim = lim;
	lx.opts = opts;
	if (parse_head(&lx, &cmd, &def)) {
		/* a literal follows, so the command must take arguments */
		if (def->parse != NULL &&
		    !(cmd.id == IMAP_CMD_EXPUNGE && !cmd.uid)) {
			*id_out = cmd.id;
			*args_out = lx.pos + 1; /* after the SP */
			return 0;
		}
		lex_fail(&lx, IMAP_ERR_BAD, "Unexpected arguments");
	}
	*err = lx.err;
	err->fatal = false;
	return -1;
}

int
imap_command_parse(struct imap_frame *frame, const struct imap_limits *lim,
    const struct imap_parse_opts *opts, struct imap_arena *arena,
    struct imap_command *cmd, struct imap_parse_err *err)
{
	struct imap_lex lx = { 0 };
	const struct imap_cmd_def *def;

	memset(cmd, 0, sizeof(*cmd));
	lx.p = frame->data;
	lx.len = frame->len;
	lx.lit = frame->lit;
	lx.nlit = frame->nlit;
	lx.lim = lim;
	lx.opts = opts;
	lx.arena = arena;
	if (lx.len < 2 || lx.p[lx.len - 2] != '\r' ||
	    lx.p[lx.len - 1] != '\n') {
		lex_fail(&lx, IMAP_ERR_BAD, "Line must end with CRLF");
		goto fail;
	}
	if (!parse_head(&lx, cmd, &def))
		goto fail;
	/* RFC 9051 6.4.3: plain EXPUNGE takes no arguments, UID EXPUNGE a
	 * sequence set (RFC 4315 2.1) */
	if (def->parse != NULL && !(cmd->id == IMAP_CMD_EXPUNGE && !cmd->uid) &&
	    !def->parse(&lx, cmd))
		goto fail;
	if (!lex_end(&lx))
		goto fail;
	if (lx.next_lit != lx.nlit) {
		lex_fail(&lx, IMAP_ERR_BAD, "Literal out of place");
		goto fail;
	}
	return 0;
fail:
	*err = lx.err;
	err->fatal = false;
	if (err->code == IMAP_ERR_NONE) { /* a parser forgot to say why */
		err->code = IMAP_ERR_BAD;
		err->text = "Syntax error";
	}
	return -1;
}

bool
imap_idle_done(struct imap_slice line)
{
	return line.n == 4 && ascii_eq_n(line.p, "DONE", 4);
}
