/*
 * What sendmail does to a message on its way into maildrop/: a pure,
 * streaming state machine (bytes in, stored bytes out; no I/O) and the
 * RFC 5322 address-list parser behind -t and the recipient arguments.
 *
 * The input may end its lines in LF or CRLF; the output ends them in LF
 * (the queue's stored form), a bare CR is content. A first line "From "
 * (a Unix mailbox separator) is dropped, as Postfix's sendmail does. The
 * header section ends at an empty line or at the first line that is not a
 * header (then an empty line is put in front of it, so that headers pickup
 * adds cannot swallow it). Each header is held whole (folded lines joined)
 * up to header_max bytes, so that Bcc: and Resent-Bcc: can be dropped and
 * To:/Cc:/Bcc: read for -t; the body streams through. Unless ignore_dots,
 * a line holding only "." ends the input (sendmail(8)); with it, input
 * ends at end of file only.
 */
#ifndef CLI_SENDMAIL_MSG_H
#define CLI_SENDMAIL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/mw.h"

struct sendmail_msg {
	/* input: set before the first feed */
	bool extract;      /* -t: collect To/Cc/Bcc (or Resent-To/Cc/Bcc) */
	bool dot_ends;     /* no -i: a "." line ends the input */
	size_t header_max; /* one header, folded lines included */
	/* output */
	bool saw_from, saw_date, saw_msgid;
	bool saw_8bit; /* an octet >= 0x80 */
	bool done;     /* the end was seen ("." line or _end()) */
	uint64_t size; /* bytes output so far */
	/* -t: addresses as written in the headers, each NUL-terminated;
	 * rcpts_resent holds those of Resent-To/Cc/Bcc, used instead when
	 * there are any (RFC 5322 3.6.6). Bounded by their max. */
	struct buf rcpts, rcpts_resent;
	/* private */
	int state;
	bool pending_cr;  /* a CR waits for the next byte */
	bool bol;         /* the body is at the start of a line */
	bool pending_dot; /* the body line so far is "." */
	struct buf line;  /* the header line being read */
	struct buf hdr;   /* the header being assembled */
};

/* Prepares m (extract, dot_ends, header_max set by the caller after);
 * rcpts_max bounds each recipient buffer. */
void sendmail_msg_init(
    struct sendmail_msg *m, size_t header_max, size_t rcpts_max);
void sendmail_msg_free(struct sendmail_msg *m);

enum sendmail_msg_status {
	SENDMAIL_MSG_MORE,       /* all input consumed */
	SENDMAIL_MSG_DONE,       /* a "." line ended the input */
	SENDMAIL_MSG_TOO_LONG,   /* a header is longer than header_max */
	SENDMAIL_MSG_TOO_MANY,   /* the -t recipients outgrew their buffer */
	SENDMAIL_MSG_BAD_HEADER, /* -t: an address list it cannot read */
};

/*
 * Feeds in[0..n) and appends the stored bytes to out (which must have
 * room for n + header_max + 2 bytes past its current length: a header is
 * written out when the next line starts). After DONE, the rest of the
 * input is ignored. An error status is final.
 */
enum sendmail_msg_status sendmail_msg_feed(
    struct sendmail_msg *m, const char *in, size_t n, struct buf *out);
/* End of input: writes what is pending (and a final LF if the last line
 * had none). Same statuses; DONE on success. */
enum sendmail_msg_status sendmail_msg_end(
    struct sendmail_msg *m, struct buf *out);

/*
 * RFC 5322 3.4 address-list: calls fn once per mailbox with its addr-spec
 * (the text of <...> when there is one, else the mailbox without display
 * name and comments; white space and comments removed, quoted strings and
 * domain literals kept). Groups ("name: a, b;") give their members; a
 * route ("<@a,@b:x@y>") is dropped. Pure. Returns 0, or -1 when fn does
 * (then at once) or when the list is malformed (an unclosed quote,
 * comment, angle or domain literal): errno EINVAL.
 */
typedef int sendmail_addr_fn(void *arg, const char *addr, size_t len);
int sendmail_addr_list(
    const char *p, size_t n, sendmail_addr_fn *fn, void *arg) MW_MUST_CHECK;

#endif
