/*
 * The command line of `sendmail` (and `mailq`, `newaliases` by argv[0]), as
 * cron, PHP's mail(), git send-email and mutt use it: a pure function from
 * argv to an options struct, no I/O. Postfix's sendmail(1) is the model:
 *
 *	-t            recipients from To:/Cc:/Bcc: too (Resent-* when present)
 *	-f SENDER     envelope sender (also -fSENDER, -r SENDER);
 *	              "" or <> for the null sender
 *	-F NAME       full name for a From: header that pickup adds
 *	-i, -oi       a line holding only "." does not end the input
 *	-bm           read a message (the default)
 *	-bp           list the queue (mailq)
 *	-bs           an SMTP session on standard input and output
 *	-bi, -I       newaliases
 *	-q            flush the queue; -qR SITE, -qS SITE: for one site;
 *	              -q30m (a queue run interval) flushes too
 *	-C FILE       the configuration file (as the global -c)
 *	-oem -oee -oep -oeq -oew -odi -odb -odq -om -o7 -o8 -m -n -v
 *	-B 7BIT|8BITMIME -N DSN -h HOPS
 *	              accepted and ignored
 *	--            ends the options; the rest are recipients
 *
 * As getopt(3) parses them: flags may be clustered ("-ti"), a value may
 * follow its letter ("-fbob") or be the next argument ("-f bob"), and the
 * options end at "--" or at the first argument that does not start with
 * '-'; every argument from there on is a recipient (an address list).
 */
#ifndef CLI_SENDMAIL_ARGS_H
#define CLI_SENDMAIL_ARGS_H

#include <stdbool.h>
#include <stddef.h>

enum sendmail_mode {
	SENDMAIL_MODE_DELIVER,    /* read a message (-bm) */
	SENDMAIL_MODE_MAILQ,      /* -bp, or invoked as mailq */
	SENDMAIL_MODE_SMTP,       /* -bs */
	SENDMAIL_MODE_FLUSH,      /* -q */
	SENDMAIL_MODE_NEWALIASES, /* -bi, -I, or invoked as newaliases */
};

struct sendmail_opts {
	enum sendmail_mode mode;
	bool extract;         /* -t */
	bool ignore_dots;     /* -i, -oi */
	bool verbose;         /* -v (ignored) */
	const char *sender;   /* -f / -r: borrowed from argv; NULL if absent */
	const char *fullname; /* -F: borrowed; NULL if absent */
	const char *site;     /* -qR / -qS: borrowed; NULL if absent */
	const char *config;   /* -C: borrowed; NULL if absent */
	char *const *rcpts;   /* the recipient arguments (argv slice) */
	size_t nrcpt;
};

/*
 * Parses argv (argv[0] is the program: a basename of "mailq" starts in
 * MAILQ mode, "newaliases" in NEWALIASES mode). 0, or -1 with a one-line
 * reason in *why_out (static) and, when one argument is at fault, that
 * argument in *arg_out (borrowed from argv; else NULL).
 */
int sendmail_args_parse(int argc, char *const *argv, struct sendmail_opts *out,
    const char **why_out, const char **arg_out);

#endif
