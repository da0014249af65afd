/*
 * The SMTP command parser: pure functions over one command line (without
 * its CRLF). No I/O, no globals; limits are passed in. Results are slices
 * that point into the caller's line and live as long as it does.
 * RFC 5321 4.1 (commands), 4.1.2 (syntax), 3.3 (MAIL/RCPT), RFC 1870 (SIZE),
 * RFC 6152 (8BITMIME), RFC 6531 (SMTPUTF8), RFC 3030 (BDAT), RFC 3461 (DSN).
 */
#ifndef SMTP_SMTP_PARSE_H
#define SMTP_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum smtp_verb {
	SMTP_VERB_UNKNOWN,
	SMTP_VERB_EHLO,
	SMTP_VERB_HELO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
};

struct smtp_slice {
	const char *p;
	size_t n;
};

/*
 * A parse failure: the reply to send (static strings). When detail is not
 * empty, the reply text is text ": " detail, e.g. "555 5.5.4 Unsupported
 * option: FOO". detail points into the argument and is printable ASCII of
 * at most 64 bytes.
 */
struct smtp_parse_err {
	int code;                 /* e.g. 501 */
	const char *enh;          /* e.g. "5.5.4" */
	const char *text;         /* e.g. "Syntax error in parameters" */
	struct smtp_slice detail; /* e.g. the unsupported parameter's name */
};

/* The verb and the rest of the line (after one space; may be empty). */
struct smtp_cmd {
	enum smtp_verb verb;
	struct smtp_slice verb_text; /* as sent, for unknown verbs */
	struct smtp_slice arg;
};

/* A reverse-path or forward-path (RFC 5321 4.1.2). */
struct smtp_path {
	bool null;                /* "<>" (only valid in MAIL) */
	bool postmaster;          /* "<Postmaster>" without domain (RCPT) */
	struct smtp_slice local;  /* as written, quotes included */
	struct smtp_slice domain; /* domain or "[address literal]" */
	bool utf8;                /* has octets >= 0x80 (needs SMTPUTF8) */
};

enum smtp_body {
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME,
};

struct smtp_mail_params {
	bool has_size;
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
	struct smtp_slice ret;   /* DSN RET=FULL|HDRS, empty if absent */
	struct smtp_slice envid; /* DSN ENVID= xtext, empty if absent */
	struct smtp_slice auth;  /* AUTH= (RFC 4954 5), empty if absent */
};

struct smtp_rcpt_params {
	struct smtp_slice notify; /* DSN NOTIFY=, empty if absent */
	struct smtp_slice orcpt;  /* DSN ORCPT=, empty if absent */
};

struct smtp_bdat_args {
	uint64_t size;
	bool last;
};

struct smtp_parse_limits {
	size_t path_max;   /* RFC 5321 4.5.3.1.3: 256 */
	size_t local_max;  /* RFC 5321 4.5.3.1.1: 64; we allow more */
	size_t domain_max; /* RFC 5321 4.5.3.1.2: 255 */
};

/* Splits line (no CRLF) into verb and argument. Never fails: an
 * unrecognised verb gives SMTP_VERB_UNKNOWN. Verbs are case-insensitive. */
void smtp_parse_command(const char *line, size_t len, struct smtp_cmd *out);

/* "FROM:<path> [params]" (RFC 5321 4.1.1.2; a space after the colon is
 * tolerated). 0, or -1 with err filled. */
int smtp_parse_mail(const char *arg, size_t n,
    const struct smtp_parse_limits *lim, struct smtp_path *path_out,
    struct smtp_mail_params *params_out, struct smtp_parse_err *err);

/* "TO:<path> [params]" (RFC 5321 4.1.1.3; source routes accepted and
 * ignored; "<Postmaster>" accepted). 0, or -1 with err filled. */
int smtp_parse_rcpt(const char *arg, size_t n,
    const struct smtp_parse_limits *lim, struct smtp_path *path_out,
    struct smtp_rcpt_params *params_out, struct smtp_parse_err *err);

/* EHLO/HELO argument: a domain or address literal. 0 or -1. */
int smtp_parse_helo(const char *arg, size_t n, bool ehlo,
    struct smtp_slice *domain_out, struct smtp_parse_err *err);

/* "BDAT <size> [LAST]" argument (RFC 3030 2). 0 or -1. */
int smtp_parse_bdat(const char *arg, size_t n, struct smtp_bdat_args *out,
    struct smtp_parse_err *err);

#endif
