/*
 * `sendmail -bs`: an SMTP session on standard input and output (RFC 5321),
 * as mail libraries that speak SMTP to a local sendmail use it. Commands
 * go through the server's parser (smtp/smtp_parse.c) and DATA through its
 * decoder (smtp/smtp_data.c); each message is queued through maildrop/
 * exactly as a message on standard input (cli_sendmail.c), with the MAIL
 * FROM address as its sender. EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP,
 * VRFY, HELP and QUIT are understood; there is no TLS or AUTH (the user is
 * known already: the owner of the maildrop file). Input lines may end in
 * LF or CRLF, in DATA too: a bare LF is read as CRLF before the decoder
 * sees it, so "." alone on a line ends the data whichever a local program
 * writes (Postfix's sendmail -bs does the same). The stored message has
 * LF line ends either way, so nothing ambiguous travels onward.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/cli_sendmail_private.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "queue/maildrop.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_parse.h"

#define SMTP_IN_CHUNK ((size_t)64 * 1024)

enum bs_state {
	BS_READY, /* no transaction */
	BS_MAIL,  /* after MAIL */
	BS_RCPT,  /* after a RCPT */
	BS_DATA,  /* reading the message */
};

struct bs {
	const struct conf *conf;
	struct sendmail_ident *id;
	struct smtp_parse_limits lim;
	enum bs_state state;
	struct buf in;  /* unread input */
	struct buf out; /* replies not yet written */
	bool eof, out_failed, quit;
	bool last_cr; /* the last input byte read was CR */
	/* the transaction */
	struct sendmail_rcpts rcpts;
	struct sendmail_tx tx;
	bool tx_open;
	struct smtp_data dec;
	struct buf dec_out;
	int data_err; /* EX_* of the first failure during DATA, or 0 */
	struct buf data_why;
};

static void bs_reply(struct bs *b, const char *fmt, ...) MW_PRINTF(2, 3);

static void
bs_reply(struct bs *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf_vprintf(&b->out, fmt, ap) == -1 ||
	    buf_append_str(&b->out, "\r\n") == -1)
		b->out_failed = true;
	va_end(ap);
}

static void
bs_flush(struct bs *b)
{
	if (b->out.len > 0 &&
	    write_full(STDOUT_FILENO, b->out.data, b->out.len) == -1)
		b->out_failed = true;
	buf_reset(&b->out);
}

/* Appends n input bytes to b->in with every bare LF made CRLF. */
static int
bs_append_crlf(struct bs *b, const char *p, size_t n)
{
	const char *lf;
	size_t k;

	while (n > 0) {
		lf = memchr(p, '\n', n);
		k = lf != NULL ? (size_t)(lf - p) : n;
		if (buf_append(&b->in, p, k) == -1)
			return -1;
		if (k > 0)
			b->last_cr = p[k - 1] == '\r';
		if (lf == NULL)
			return 0;
		if (buf_append(&b->in, b->last_cr ? "\n" : "\r\n",
		        b->last_cr ? 1 : 2) == -1)
			return -1;
		b->last_cr = false;
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

/* Reads more input; false at end of file or on an error. */
static bool
bs_fill(struct bs *b)
{
	char chunk[8192];
	ssize_t n;

	bs_flush(b);
	for (;;) {
		n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->eof = true;
			return false;
		}
		if (bs_append_crlf(b, chunk, (size_t)n) == -1) {
			b->eof = true;
			return false;
		}
		return true;
	}
}

static void
bs_reset_tx(struct bs *b)
{
	if (b->tx_open)
		sendmail_tx_free(&b->tx);
	b->tx_open = false;
	sendmail_rcpts_free(&b->rcpts);
	b->state = BS_READY;
	b->data_err = 0;
	buf_reset(&b->data_why);
}

static void
bs_parse_error(struct bs *b, const struct smtp_parse_err *e)
{
	if (e->detail.n > 0)
		bs_reply(b, "%d %s %s: %.*s", e->code, e->enh, e->text,
		    (int)e->detail.n, e->detail.p);
	else
		bs_reply(b, "%d %s %s", e->code, e->enh, e->text);
}

static void
bs_ehlo(struct bs *b, const struct smtp_cmd *cmd)
{
	struct smtp_parse_err e;
	struct smtp_slice dom;
	bool ehlo = cmd->verb == SMTP_VERB_EHLO;

	if (smtp_parse_helo(cmd->arg.p, cmd->arg.n, ehlo, &dom, &e) == -1) {
		bs_parse_error(b, &e);
		return;
	}
	bs_reset_tx(b);
	if (!ehlo) {
		bs_reply(b, "250 %s", b->conf->myhostname);
		return;
	}
	bs_reply(b, "250-%s", b->conf->myhostname);
	bs_reply(b, "250-PIPELINING");
	bs_reply(b, "250-SIZE %llu",
	    (unsigned long long)b->conf->message_size_limit);
	bs_reply(b, "250-ENHANCEDSTATUSCODES");
	bs_reply(b, "250-8BITMIME");
	bs_reply(b, "250 SMTPUTF8");
}

/* "local@domain" of a parsed path, through sendmail's qualification. */
static int
bs_path(struct bs *b, const struct smtp_path *p, bool empty_ok, char **out)
{
	char *raw;
	int r;

	if (p->null)
		return sendmail_address(b->conf, "", 0, empty_ok, out);
	if (p->postmaster)
		return sendmail_address(b->conf, "postmaster", 10, false, out);
	raw = p->domain.n > 0 ? xasprintf("%.*s@%.*s", (int)p->local.n,
	                            p->local.p, (int)p->domain.n, p->domain.p)
	                      : xstrndup(p->local.p, p->local.n);
	r = sendmail_address(b->conf, raw, strlen(raw), empty_ok, out);
	free(raw);
	return r;
}

static void
bs_mail(struct bs *b, const struct smtp_cmd *cmd)
{
	struct smtp_mail_params params;
	struct smtp_parse_err e;
	struct smtp_path path;
	char *sender;

	if (b->state != BS_READY) {
		bs_reply(b, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (smtp_parse_mail(
	        cmd->arg.p, cmd->arg.n, &b->lim, &path, &params, &e) == -1) {
		bs_parse_error(b, &e);
		return;
	}
	if (params.has_size && params.size > b->conf->message_size_limit) {
		bs_reply(b, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	if (bs_path(b, &path, true, &sender) == -1) {
		bs_reply(b, "501 5.1.7 Bad sender address syntax");
		return;
	}
	free(b->id->sender);
	b->id->sender = sender;
	b->id->sender_given = true;
	b->state = BS_MAIL;
	bs_reply(b, "250 2.1.0 Ok");
}

static void
bs_rcpt(struct bs *b, const struct smtp_cmd *cmd)
{
	struct smtp_rcpt_params params;
	struct smtp_parse_err e;
	struct smtp_path path;
	char *rcpt;

	if (b->state != BS_MAIL && b->state != BS_RCPT) {
		bs_reply(b, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (smtp_parse_rcpt(
	        cmd->arg.p, cmd->arg.n, &b->lim, &path, &params, &e) == -1) {
		bs_parse_error(b, &e);
		return;
	}
	if (b->rcpts.n >= b->conf->smtpd_recipient_limit) {
		/* RFC 5321 4.5.3.1.10: too many recipients is temporary */
		bs_reply(b, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (bs_path(b, &path, false, &rcpt) == -1) {
		bs_reply(b, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	if (b->rcpts.n == b->rcpts.cap) {
		b->rcpts.cap = b->rcpts.cap > 0 ? b->rcpts.cap * 2 : 16;
		b->rcpts.v =
		    xreallocarray(b->rcpts.v, b->rcpts.cap, sizeof(char *));
	}
	b->rcpts.bytes += strlen(rcpt) + 8;
	b->rcpts.v[b->rcpts.n++] = rcpt;
	b->state = BS_RCPT;
	bs_reply(b, "250 2.1.5 Ok");
}

static void
bs_data(struct bs *b, const struct smtp_cmd *cmd)
{
	struct buf err;

	if (b->state == BS_READY) {
		bs_reply(b, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (b->state != BS_RCPT) {
		bs_reply(b, "503 5.5.1 Error: need RCPT command");
		return;
	}
	if (cmd->arg.n > 0) {
		bs_reply(b, "501 5.5.4 Syntax: DATA");
		return;
	}
	buf_init(&err, 1024);
	/* the SMTP decoder handles the dots: the filter must not */
	if (sendmail_tx_begin(&b->tx, b->conf, false, false, &err) != EX_OK) {
		(void)fprintf(stderr, "sendmail: %s\n", buf_cstr(&err));
		sendmail_tx_free(&b->tx);
		buf_free(&err);
		bs_reply(b, "451 4.3.0 Error: queue file write error");
		return;
	}
	buf_free(&err);
	b->tx_open = true;
	smtp_data_init(&b->dec, false);
	b->state = BS_DATA;
	bs_reply(b, "354 End data with <CR><LF>.<CR><LF>");
}

/* The end of DATA: queue the message, or say why not. */
static void
bs_data_end(struct bs *b)
{
	int r = b->data_err;

	if (r == 0)
		r = sendmail_tx_commit(&b->tx, b->id, &b->rcpts, &b->data_why);
	if (r == EX_OK)
		bs_reply(
		    b, "250 2.0.0 Ok: queued as %s", maildrop_name(b->tx.md));
	else if (r == EX_DATAERR &&
	    strstr(buf_cstr(&b->data_why), "message_size_limit") != NULL)
		bs_reply(b, "552 5.3.4 Message size exceeds fixed limit");
	else if (r == EX_DATAERR)
		bs_reply(b, "554 5.6.0 Error: %s", buf_cstr(&b->data_why));
	else {
		(void)fprintf(stderr, "sendmail: %s\n", buf_cstr(&b->data_why));
		bs_reply(b, "451 4.3.0 Error: queue file write error");
	}
	bs_reset_tx(b);
}

/* Decodes the DATA bytes at hand; true when the end was seen. */
static bool
bs_data_feed(struct bs *b)
{
	size_t used = 0, n;
	int r;

	while (b->in.len > 0) {
		n = b->in.len < SMTP_IN_CHUNK ? b->in.len : SMTP_IN_CHUNK;
		buf_reset(&b->dec_out);
		r = smtp_data_feed(&b->dec, b->in.data, n, &b->dec_out, &used);
		buf_consume(&b->in, used);
		if (b->data_err == 0 && b->dec_out.len > 0) {
			int t = sendmail_tx_feed(&b->tx, b->dec_out.data,
			    b->dec_out.len, &b->data_why);

			if (t > 1)
				b->data_err = t; /* read on to the end */
		}
		if (r == SMTP_DATA_DONE) {
			bs_data_end(b);
			return true;
		}
	}
	return false;
}

static void
bs_command(struct bs *b, const char *line, size_t n)
{
	struct smtp_cmd cmd;

	smtp_parse_command(line, n, &cmd);
	switch (cmd.verb) {
	case SMTP_VERB_EHLO:
	case SMTP_VERB_HELO:
		bs_ehlo(b, &cmd);
		break;
	case SMTP_VERB_MAIL:
		bs_mail(b, &cmd);
		break;
	case SMTP_VERB_RCPT:
		bs_rcpt(b, &cmd);
		break;
	case SMTP_VERB_DATA:
		bs_data(b, &cmd);
		break;
	case SMTP_VERB_RSET:
		bs_reset_tx(b);
		bs_reply(b, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_NOOP:
		bs_reply(b, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_VRFY:
		bs_reply(b, "252 2.0.0 Send mail to find out");
		break;
	case SMTP_VERB_HELP:
		bs_reply(b,
		    "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET "
		    "NOOP VRFY HELP QUIT");
		break;
	case SMTP_VERB_QUIT:
		bs_reply(b, "221 2.0.0 Bye");
		b->quit = true;
		break;
	case SMTP_VERB_UNKNOWN:
		bs_reply(b, "500 5.5.2 Error: command not recognized");
		break;
	default: /* BDAT, STARTTLS, AUTH, EXPN */
		bs_reply(b, "502 5.5.1 Error: command not implemented");
		break;
	}
}

/* Takes one command line from the input; false when none is complete. */
static bool
bs_next_line(struct bs *b, bool *skipping)
{
	const char *nl;
	size_t n, len;

	nl = b->in.len > 0 ? memchr(b->in.data, '\n', b->in.len) : NULL;
	if (nl == NULL) {
		if (b->in.len > b->conf->smtpd_line_limit) {
			/* RFC 5321 4.5.3.1.4: too long; skip to its end */
			if (!*skipping)
				bs_reply(b, "500 5.5.2 Error: line too long");
			*skipping = true;
			buf_reset(&b->in);
		}
		return false;
	}
	n = (size_t)(nl - b->in.data) + 1;
	len = n - 1;
	if (len > 0 && b->in.data[len - 1] == '\r')
		len--;
	if (*skipping)
		*skipping = false;
	else if (len > b->conf->smtpd_line_limit)
		bs_reply(b, "500 5.5.2 Error: line too long");
	else
		bs_command(b, b->in.data, len);
	buf_consume(&b->in, n);
	return true;
}

int
sendmail_smtp(const struct conf *conf, struct sendmail_ident *id)
{
	struct bs b;
	bool skipping = false;

	memset(&b, 0, sizeof(b));
	b.conf = conf;
	b.id = id;
	/* RFC 5321 4.5.3.1: path 256, local part 64 (256 here as in
	 * smtpd), domain 255 */
	b.lim.path_max = 256 + 64;
	b.lim.local_max = 256;
	b.lim.domain_max = 255;
	buf_init(&b.in, (size_t)conf->smtpd_line_limit + SMTP_IN_CHUNK + 8192);
	buf_init(&b.out, 64 * 1024);
	buf_init(&b.dec_out, SMTP_IN_CHUNK + 2);
	buf_init(&b.data_why, 4096);
	bs_reply(&b, "220 %s", conf->smtpd_banner);
	while (!b.quit && !b.out_failed) {
		if (b.state == BS_DATA) {
			if (bs_data_feed(&b))
				continue;
		} else if (bs_next_line(&b, &skipping))
			continue;
		if (b.eof || !bs_fill(&b))
			break;
	}
	bs_flush(&b);
	bs_reset_tx(&b);
	buf_free(&b.in);
	buf_free(&b.out);
	buf_free(&b.dec_out);
	buf_free(&b.data_why);
	return EX_OK;
}
