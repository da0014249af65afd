/*
 * The POP3 command parser: a pure function over one command line (without
 * its line end). No I/O, no globals; limits are passed in. Results are
 * slices into the caller's line and live as long as it does.
 *
 * RFC 1939 3: a command is a case-insensitive keyword of three or four
 * characters, then arguments separated by a single space; RFC 2449 3:
 * each argument is at most 40 characters. We accept runs of spaces between
 * arguments and trailing spaces (clients send "STAT "), and refuse control
 * characters anywhere. Exceptions to the 40-character rule, on purpose:
 * USER and PASS take the rest of the line as one argument (RFC 1939 7:
 * a password may hold spaces; addresses are often longer than 40), and
 * the initial response of AUTH (RFC 5034 4) is bounded by the line only.
 */
#ifndef POP3_POP3_PARSE_H
#define POP3_POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

enum pop3_verb {
	POP3_VERB_UNKNOWN,
	POP3_VERB_USER,
	POP3_VERB_PASS,
	POP3_VERB_APOP,
	POP3_VERB_AUTH,
	POP3_VERB_STAT,
	POP3_VERB_LIST,
	POP3_VERB_RETR,
	POP3_VERB_DELE,
	POP3_VERB_NOOP,
	POP3_VERB_RSET,
	POP3_VERB_QUIT,
	POP3_VERB_TOP,
	POP3_VERB_UIDL,
	POP3_VERB_CAPA,
	POP3_VERB_STLS,
	POP3_VERB_UTF8,
	POP3_VERB_MAX,
};

/* The most arguments any command takes (TOP n m, APOP name digest). */
#define POP3_ARGS_MAX 2

struct pop3_slice {
	const char *p;
	size_t n;
};

struct pop3_parse_limits {
	size_t arg_max; /* RFC 2449 3: 40 */
};

struct pop3_cmd {
	enum pop3_verb verb;
	struct pop3_slice keyword; /* as sent */
	struct pop3_slice args[POP3_ARGS_MAX];
	size_t nargs;
};

enum pop3_parse_result {
	POP3_PARSE_OK,
	POP3_PARSE_EMPTY,         /* an empty (or all-space) line */
	POP3_PARSE_UNKNOWN,       /* keyword not a command we know */
	POP3_PARSE_BAD_CHAR,      /* NUL or another control character */
	POP3_PARSE_TOO_FEW_ARGS,  /* e.g. RETR without a number */
	POP3_PARSE_TOO_MANY_ARGS, /* e.g. STAT 1 */
	POP3_PARSE_ARG_TOO_LONG,  /* past lim->arg_max */
};

/*
 * Parses line[0..len) into cmd. cmd->keyword is set whenever the line is
 * not empty (for the log); cmd->verb and the arguments only for
 * POP3_PARSE_OK. USER and PASS give one argument: the rest of the line
 * after one space (PASS keeps spaces; an empty password is an argument
 * of length 0). AUTH gives 0..2: the mechanism and the initial response.
 */
enum pop3_parse_result pop3_parse_command(const char *line, size_t len,
    const struct pop3_parse_limits *lim, struct pop3_cmd *cmd);

/* The keyword in upper case ("RETR"), or "UNKNOWN": a static string. */
const char *pop3_verb_name(enum pop3_verb verb);

/*
 * A message number or line count: decimal digits only, 1..max for a
 * message number (min 1) or 0..max for TOP's line count (min 0). 0 or -1.
 */
int pop3_parse_number(struct pop3_slice s, uint64_t min, uint64_t max,
    uint64_t *v_out) MW_MUST_CHECK;

#endif
