/*
 * The lexer shared by the IMAP argument parsers (imap_lex.c): primitives
 * for the rules of RFC 9051 9 over one framed command, each of which
 * consumes what it matched and returns true, or records the first error
 * and returns false. Used only inside src/imap.
 */
#ifndef IMAP_IMAP_PARSE_PRIVATE_H
#define IMAP_IMAP_PARSE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap_command.h"

struct imap_lex {
	char *p; /* the frame, changed in place by quoted strings */
	size_t len, pos;
	const struct imap_frame_literal *lit;
	size_t nlit, next_lit;
	const struct imap_limits *lim;
	const struct imap_parse_opts *opts;
	struct imap_arena *arena;
	size_t args;  /* arguments counted so far (lim->args_max) */
	size_t depth; /* open lists */
	struct imap_parse_err err;
};

/* RFC 9051 9: number < 2^32, number64 <= 2^63 - 1 */
#define IMAP_NUMBER_MAX   UINT32_MAX
#define IMAP_NUMBER64_MAX INT64_MAX

void *imap_arena_alloc(struct imap_arena *a, size_t size);
/* count elements of size, from lx's arena; NULL (error set) when full */
void *lex_alloc(struct imap_lex *lx, size_t count, size_t size);

/* Records err as the lexer's error (the first one wins); returns false. */
bool lex_fail(struct imap_lex *lx, enum imap_err_code code, const char *text);
/* Counts one more argument against lim->args_max. */
bool lex_count(struct imap_lex *lx);
/* Opens / closes a nesting level against lim->depth_max. */
bool lex_depth_push(struct imap_lex *lx);
void lex_depth_pop(struct imap_lex *lx);

/* The byte at the cursor, or -1 at the command's final CRLF. */
int lex_peek(const struct imap_lex *lx);
/* Consumes c if it is next. */
bool lex_take(struct imap_lex *lx, char c);
/* Requires c next (else BAD, "what" in the message). */
bool lex_char(struct imap_lex *lx, char c);
/* Exactly one SP (RFC 9051 9 note 2: SP is exactly one space). */
bool lex_sp(struct imap_lex *lx);
/* At the final CRLF: the command must end here. */
bool lex_end(struct imap_lex *lx);
bool lex_at_end(const struct imap_lex *lx);

/* RFC 9051 9 character classes */
bool imap_is_atom_char(unsigned char c);
bool imap_is_astring_char(unsigned char c);
bool imap_is_list_char(unsigned char c);

/* atom = 1*ATOM-CHAR */
bool lex_atom(struct imap_lex *lx, struct imap_slice *out);
/* The next atom, not consumed; n == 0 when no atom is next. */
struct imap_slice lex_peek_atom(const struct imap_lex *lx);
/* Consumes the atom kw (case-insensitive) when it is next as a whole
 * atom; false (no error) otherwise. */
bool lex_keyword(struct imap_lex *lx, const char *kw);
/* number (max IMAP_NUMBER_MAX) or number64; nz: at least 1. RFC 9051 9
 * number = 1*DIGIT, nz-number = digit-nz *DIGIT. */
bool lex_number(struct imap_lex *lx, uint64_t max, bool nz, uint64_t *v);
/* string = quoted / literal; quoted is unescaped in place. */
bool lex_string(struct imap_lex *lx, struct imap_slice *out);
bool lex_quoted(struct imap_lex *lx, struct imap_slice *out);
/* literal, or literal8 when binary_ok; reports which and whether it was
 * streamed (then out is empty). */
bool lex_literal(struct imap_lex *lx, bool binary_ok, bool stream_ok,
    struct imap_slice *out, const struct imap_frame_literal **lit_out);
/* astring = 1*ASTRING-CHAR / string */
bool lex_astring(struct imap_lex *lx, struct imap_slice *out);
/* nstring = string / nil; a NIL gives out->p == NULL */
bool lex_nstring(struct imap_lex *lx, struct imap_slice *out);
/* list-mailbox = 1*list-char / string */
bool lex_list_mailbox(struct imap_lex *lx, struct imap_slice *out);
/* mailbox = "INBOX" / astring */
bool lex_mailbox(struct imap_lex *lx, struct imap_mailbox *out);
/* sequence-set, ranges from the arena */
bool lex_seqset(struct imap_lex *lx, struct imap_seqset *out);
/* flag-list = "(" [flag *(SP flag)] ")" */
bool lex_flag_list(struct imap_lex *lx, struct imap_flags *out);
/* flag *(SP flag) without parentheses (STORE) */
bool lex_flags_bare(struct imap_lex *lx, struct imap_flags *out);
/* date = date-text / DQUOTE date-text DQUOTE */
bool lex_date(struct imap_lex *lx, struct imap_date *out);
/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time
 * SP zone DQUOTE */
bool lex_date_time(struct imap_lex *lx, struct imap_date_time *out);

/* A command: its name, whether UID may prefix it, and the parser of its
 * arguments (NULL: none), which starts right after the name. */
typedef bool imap_args_parse_fn(struct imap_lex *lx, struct imap_command *cmd);
struct imap_cmd_def {
	const char *name;
	enum imap_cmd_id id;
	bool uid_ok;
	imap_args_parse_fn *parse;
};

/*
 * Checks the head of a command's first line (tag, UID, name) before its
 * first literal is asked for, so that the client gets a BAD instead of a
 * continuation (RFC 9051 7.5). 0 with the command and the offset of its
 * arguments in line, or -1 with err filled.
 */
int imap_command_check_head(const char *line, size_t n,
    const struct imap_limits *lim, const struct imap_parse_opts *opts,
    enum imap_cmd_id *id_out, size_t *args_out, struct imap_parse_err *err);

/* imap_command_msg.c: commands on messages */
imap_args_parse_fn imap_parse_append;
imap_args_parse_fn imap_parse_expunge;
imap_args_parse_fn imap_parse_fetch;
imap_args_parse_fn imap_parse_store;
imap_args_parse_fn imap_parse_copy;
/* imap_search_parse.c */
imap_args_parse_fn imap_parse_search;
/* imap_fetch_parse.c: fetch-att list after "FETCH SP sequence-set SP" */
bool imap_fetch_atts_parse(struct imap_lex *lx, struct imap_fetch *out);

#endif
