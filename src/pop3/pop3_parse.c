/*
 * The POP3 command parser (see pop3_parse.h): keyword lookup, argument
 * splitting and counting per command, and message numbers.
 */
#include "pop3/pop3_parse.h"

#include <string.h>

#include "lib/parse.h"

/* What each command takes (RFC 1939 5-7, RFC 2449 5, RFC 2595 4, RFC
 * 5034 4, RFC 6856 3). rest: one argument that is the rest of the line. */
struct pop3_syntax {
	const char *name;
	enum pop3_verb verb;
	unsigned char min, max;
	bool rest;
};

// clang-format off
static const struct pop3_syntax pop3_syntax[] = {
	{ "USER", POP3_VERB_USER, 1, 1, true },
	{ "PASS", POP3_VERB_PASS, 1, 1, true },
	{ "APOP", POP3_VERB_APOP, 2, 2, false },
	{ "AUTH", POP3_VERB_AUTH, 0, 2, false },
	{ "STAT", POP3_VERB_STAT, 0, 0, false },
	{ "LIST", POP3_VERB_LIST, 0, 1, false },
	{ "RETR", POP3_VERB_RETR, 1, 1, false },
	{ "DELE", POP3_VERB_DELE, 1, 1, false },
	{ "NOOP", POP3_VERB_NOOP, 0, 0, false },
	{ "RSET", POP3_VERB_RSET, 0, 0, false },
	{ "QUIT", POP3_VERB_QUIT, 0, 0, false },
	{ "TOP",  POP3_VERB_TOP,  2, 2, false },
	{ "UIDL", POP3_VERB_UIDL, 0, 1, false },
	{ "CAPA", POP3_VERB_CAPA, 0, 0, false },
	{ "STLS", POP3_VERB_STLS, 0, 0, false },
	{ "UTF8", POP3_VERB_UTF8, 0, 0, false },
};
// clang-format on

const char *
pop3_verb_name(enum pop3_verb verb)
{
	size_t i;

	for (i = 0; i < MW_NELEM(pop3_syntax); i++)
		if (pop3_syntax[i].verb == verb)
			return pop3_syntax[i].name;
	return "UNKNOWN";
}

enum pop3_parse_result
pop3_parse_command(const char *line, size_t len,
    const struct pop3_parse_limits *lim, struct pop3_cmd *cmd)
{
	const struct pop3_syntax *syn = NULL;
	size_t i = 0, k;

	memset(cmd, 0, sizeof(*cmd));
	for (k = 0; k < len; k++) {
		unsigned char c = (unsigned char)line[k];

		/* RFC 1939 3: printable ASCII; UTF-8 (RFC 6856) may appear
		 * in USER and PASS, so only control bytes are refused */
		if (c < 0x20 || c == 0x7f)
			return POP3_PARSE_BAD_CHAR;
	}
	while (i < len && line[i] == ' ')
		i++;
	if (i == len)
		return POP3_PARSE_EMPTY;
	cmd->keyword.p = line + i;
	while (i < len && line[i] != ' ')
		i++;
	cmd->keyword.n = (size_t)(line + i - cmd->keyword.p);
	for (k = 0; k < MW_NELEM(pop3_syntax); k++)
		if (strlen(pop3_syntax[k].name) == cmd->keyword.n &&
		    ascii_eq_n(
		        cmd->keyword.p, pop3_syntax[k].name, cmd->keyword.n)) {
			syn = &pop3_syntax[k];
			break;
		}
	if (syn == NULL)
		return POP3_PARSE_UNKNOWN;
	if (syn->rest) {
		/* RFC 1939 7: "PASS string", the rest of the line after
		 * exactly one space */
		if (i == len)
			return POP3_PARSE_TOO_FEW_ARGS;
		cmd->args[0].p = line + i + 1;
		cmd->args[0].n = len - i - 1;
		if (syn->verb == POP3_VERB_USER) {
			/* a user name has no spaces: trim what trails it */
			while (cmd->args[0].n > 0 &&
			    cmd->args[0].p[cmd->args[0].n - 1] == ' ')
				cmd->args[0].n--;
			if (cmd->args[0].n == 0 ||
			    memchr(cmd->args[0].p, ' ', cmd->args[0].n) != NULL)
				return cmd->args[0].n == 0
				    ? POP3_PARSE_TOO_FEW_ARGS
				    : POP3_PARSE_TOO_MANY_ARGS;
		}
		cmd->nargs = 1;
		cmd->verb = syn->verb;
		return POP3_PARSE_OK;
	}
	for (;;) {
		struct pop3_slice a;

		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		a.p = line + i;
		while (i < len && line[i] != ' ')
			i++;
		a.n = (size_t)(line + i - a.p);
		if (cmd->nargs == syn->max)
			return POP3_PARSE_TOO_MANY_ARGS;
		/* RFC 5034 4: the initial response is bounded by the line */
		if (a.n > lim->arg_max &&
		    !(syn->verb == POP3_VERB_AUTH && cmd->nargs == 1))
			return POP3_PARSE_ARG_TOO_LONG;
		cmd->args[cmd->nargs++] = a;
	}
	if (cmd->nargs < syn->min)
		return POP3_PARSE_TOO_FEW_ARGS;
	cmd->verb = syn->verb;
	return POP3_PARSE_OK;
}

int
pop3_parse_number(
    struct pop3_slice s, uint64_t min, uint64_t max, uint64_t *v_out)
{
	return parse_uint_n(s.p, s.n, min, max, v_out);
}
