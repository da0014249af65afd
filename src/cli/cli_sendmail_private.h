/*
 * What the two ways into sendmail share (cli_sendmail.c: a message on
 * standard input; cli_sendmail_smtp.c: -bs, an SMTP session): who the user
 * is, the recipient list, and one message on its way into maildrop/.
 */
#ifndef CLI_CLI_SENDMAIL_PRIVATE_H
#define CLI_CLI_SENDMAIL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli/sendmail_msg.h"
#include "lib/buf.h"

struct conf;
struct maildrop_msg;

/* The invoking user (the real uid, as Postfix's sendmail). */
struct sendmail_ident {
	uid_t uid;
	char *login;
	char *fullname;    /* -F, $NAME or the GECOS name; may be "" */
	char *sender;      /* normalised; "" for <> */
	bool sender_given; /* -f, or MAIL FROM in -bs */
};

/* Envelope recipients: normalised, in the order given, duplicates kept
 * until sendmail_tx_commit drops them. */
struct sendmail_rcpts {
	char **v;
	size_t n, cap;
	size_t bytes; /* sum of lengths: bounded by MAILDROP_RECORD_MAX */
};

/* One message on its way into maildrop/. */
struct sendmail_tx {
	const struct conf *conf;
	struct maildrop_msg *md;
	struct sendmail_msg filt;
	struct buf out;
};

/*
 * Qualifies an address (no '@': "@$myorigin" is appended, as Postfix's
 * append_at_myorigin), normalises it and sets *norm_out (malloc'd). 0, or
 * -1 when it is not a valid address. "" and "<>" give "" (only for the
 * sender: empty_ok).
 */
int sendmail_address(const struct conf *conf, const char *p, size_t n,
    bool empty_ok, char **norm_out);
/* Adds every address of the address list p[0..n) (sendmail_addr_list).
 * 0, or -1 with a one-line reason in err. */
int sendmail_rcpts_add_list(const struct conf *conf, struct sendmail_rcpts *r,
    const char *p, size_t n, struct buf *err);
void sendmail_rcpts_free(struct sendmail_rcpts *r);

/* Fills id from the real uid, -F (fullname) and -f (sender, or NULL).
 * An exit status: EX_OK, or an EX_* after printing why. */
int sendmail_ident_init(struct sendmail_ident *id, const struct conf *conf,
    const char *fullname, const char *sender);
void sendmail_ident_free(struct sendmail_ident *id);

/*
 * sendmail_tx_begin() creates the maildrop file (EX_OK, or EX_TEMPFAIL
 * with the reason in err). sendmail_tx_feed() filters and writes bytes:
 * 0 when it wants more, 1 at a "." line (dot_ends), or an EX_* status
 * with the reason in err (EX_DATAERR past message_size_limit or for a bad
 * header, EX_TEMPFAIL for a write error). sendmail_tx_commit() ends the
 * input, adds the -t recipients (extract) to rcpts, and makes the file
 * durable in maildrop/: EX_OK, EX_DATAERR (no recipients, bad address),
 * EX_TEMPFAIL. The final name is then maildrop_name(tx->md).
 */
int sendmail_tx_begin(struct sendmail_tx *tx, const struct conf *conf,
    bool extract, bool dot_ends, struct buf *err);
int sendmail_tx_feed(
    struct sendmail_tx *tx, const char *p, size_t n, struct buf *err);
int sendmail_tx_commit(struct sendmail_tx *tx, const struct sendmail_ident *id,
    struct sendmail_rcpts *rcpts, struct buf *err);
void sendmail_tx_free(struct sendmail_tx *tx);

/* -bs: an SMTP session on standard input and output. An exit status. */
int sendmail_smtp(const struct conf *conf, struct sendmail_ident *id);

#endif
