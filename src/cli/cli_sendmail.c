/*
 * `sendmail` (also `mailwright sendmail`, and the binary called sendmail,
 * mailq or newaliases through a symlink): the Sendmail-compatible way to
 * post mail that cron, PHP's mail(), git send-email and mutt use. The
 * message comes on standard input; it is filtered (sendmail_msg.c),
 * written into maildrop/ and made durable there before the exit status 0,
 * whether or not the server runs; the queue manager's pickup takes it
 * from there (docs/queue.md). Exit statuses are sysexits(3)'s, as
 * Sendmail's and Postfix's: EX_USAGE for a bad command line, EX_DATAERR
 * for a message or address it cannot take, EX_NOINPUT when standard input
 * cannot be read, EX_TEMPFAIL when the message could not be queued.
 *
 * The command line is parsed by sendmail_args.c; -bs is in
 * cli_sendmail_smtp.c, -bp in cli_queue.c.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_sendmail_private.h"
#include "cli/sendmail_args.h"
#include "lib/conf.h"
#include "lib/mailaddr.h"
#include "lib/xalloc.h"
#include "queue/maildrop.h"
#include "queue/queue_file.h"

#define SENDMAIL_READ_SIZE ((size_t)64 * 1024)

static const char sendmail_usage_text[] =
    "usage: sendmail [-t] [-i] [-f sender] [-F name] [-bm|-bp|-bs|-bi] [-q] "
    "[--] [recipient ...]";

static void sendmail_fail(const char *fmt, ...) MW_PRINTF(1, 2);

static void
sendmail_fail(const char *fmt, ...)
{
	va_list ap;

	(void)fputs("sendmail: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

/* ---- addresses ---------------------------------------------------------- */

int
sendmail_address(const struct conf *conf, const char *p, size_t n,
    bool empty_ok, char **norm_out)
{
	char *raw, *norm;

	*norm_out = NULL;
	/* "<addr>" as the sender is written on many command lines */
	if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
		p++;
		n -= 2;
	}
	if (n == 0) {
		if (!empty_ok)
			return -1;
		*norm_out = xstrdup("");
		return 0;
	}
	if (memchr(p, '\0', n) != NULL || n > MAILDROP_ADDR_MAX)
		return -1;
	/* Postfix's append_at_myorigin: a bare user name is local */
	if (memchr(p, '@', n) == NULL)
		raw = xasprintf("%.*s@%s", (int)n, p, conf->myorigin);
	else
		raw = xstrndup(p, n);
	norm = mailaddr_normalize(raw);
	free(raw);
	if (norm == NULL || strchr(norm, '@') == NULL ||
	    strlen(norm) > MAILDROP_ADDR_MAX) {
		free(norm);
		return -1;
	}
	*norm_out = norm;
	return 0;
}

struct sendmail_list_arg {
	const struct conf *conf;
	struct sendmail_rcpts *r;
	struct buf *err;
};

static int
sendmail_rcpt_one(void *arg, const char *addr, size_t len)
{
	struct sendmail_list_arg *a = arg;
	struct sendmail_rcpts *r = a->r;
	char *norm;

	if (sendmail_address(a->conf, addr, len, false, &norm) == -1) {
		buf_reset(a->err);
		(void)!buf_printf(a->err, "bad recipient address: %.*s",
		    (int)(len > 200 ? 200 : len), addr);
		errno = EINVAL;
		return -1;
	}
	if (r->bytes + strlen(norm) + 8 > MAILDROP_RECORD_MAX / 2) {
		free(norm);
		buf_reset(a->err);
		(void)!buf_append_str(a->err, "too many recipients");
		errno = ENOBUFS;
		return -1;
	}
	if (r->n == r->cap) {
		r->cap = r->cap > 0 ? r->cap * 2 : 16;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	r->bytes += strlen(norm) + 8;
	r->v[r->n++] = norm;
	return 0;
}

int
sendmail_rcpts_add_list(const struct conf *conf, struct sendmail_rcpts *r,
    const char *p, size_t n, struct buf *err)
{
	struct sendmail_list_arg a = { conf, r, err };

	buf_reset(err);
	if (sendmail_addr_list(p, n, sendmail_rcpt_one, &a) == -1) {
		if (err->len == 0)
			(void)!buf_printf(err,
			    "cannot parse the address list: %.*s",
			    (int)(n > 200 ? 200 : n), p);
		return -1;
	}
	return 0;
}

void
sendmail_rcpts_free(struct sendmail_rcpts *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static int
sendmail_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Drops duplicates (Postfix's cleanup does too), keeping the first. */
static void
sendmail_rcpts_dedupe(struct sendmail_rcpts *r)
{
	char **sorted;
	size_t i, k;

	if (r->n < 2)
		return;
	sorted = xreallocarray(NULL, r->n, sizeof(*sorted));
	memcpy(sorted, r->v, r->n * sizeof(*sorted));
	qsort(sorted, r->n, sizeof(*sorted), sendmail_strcmp);
	for (i = 1; i < r->n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			break;
	free(sorted);
	if (i == r->n)
		return; /* the usual case: no duplicates */
	/* quadratic only when there are duplicates, over few recipients */
	for (i = 0, k = 0; i < r->n; i++) {
		size_t j;

		for (j = 0; j < k && strcmp(r->v[j], r->v[i]) != 0; j++)
			;
		if (j < k)
			free(r->v[i]);
		else
			r->v[k++] = r->v[i];
	}
	r->n = k;
}

/* ---- the user ----------------------------------------------------------- */

/* Control bytes dropped, cut at MAILDROP_FULLNAME_MAX on a character
 * boundary. */
static char *
sendmail_clean_name(const char *s)
{
	size_t n = 0, len;
	char *out = xmalloc(MAILDROP_FULLNAME_MAX + 1);

	for (; *s != '\0' && n < MAILDROP_FULLNAME_MAX; s++)
		if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			out[n++] = *s;
	len = n;
	/* do not end inside a UTF-8 sequence */
	if (*s != '\0')
		while (len > 0 && ((unsigned char)out[len - 1] & 0xc0) == 0x80)
			len--;
	if (*s != '\0' && len > 0 && (unsigned char)out[len - 1] >= 0xc0)
		len--;
	out[len] = '\0';
	return out;
}

/* The GECOS name: its first comma-separated field, '&' standing for the
 * capitalised login (the BSD convention). */
static char *
sendmail_gecos_name(const char *gecos, const char *login)
{
	struct buf b;
	char *out;
	const char *p;

	buf_init(&b, 4 * MAILDROP_FULLNAME_MAX);
	for (p = gecos; *p != '\0' && *p != ','; p++) {
		if (*p == '&') {
			if (login[0] != '\0' &&
			    (buf_append_char(&b,
			         (char)(login[0] >= 'a' && login[0] <= 'z'
			                 ? login[0] - 'a' + 'A'
			                 : login[0])) == -1 ||
			        buf_append_str(&b, login + 1) == -1))
				break;
		} else if (buf_append_char(&b, *p) == -1)
			break;
	}
	out = sendmail_clean_name(buf_cstr(&b));
	buf_free(&b);
	return out;
}

int
sendmail_ident_init(struct sendmail_ident *id, const struct conf *conf,
    const char *fullname, const char *sender)
{
	struct passwd pw, *res = NULL;
	char pwbuf[16384];
	const char *env;
	int e;

	memset(id, 0, sizeof(*id));
	id->uid = getuid();
	e = getpwuid_r(id->uid, &pw, pwbuf, sizeof(pwbuf), &res);
	if (res == NULL) {
		sendmail_fail("no login name found for user ID %lu%s%s",
		    (unsigned long)id->uid, e != 0 ? ": " : "",
		    e != 0 ? strerror(e) : "");
		return EX_NOUSER;
	}
	id->login = xstrdup(pw.pw_name);
	if (fullname != NULL)
		id->fullname = sendmail_clean_name(fullname);
	else if ((env = getenv("NAME")) != NULL && env[0] != '\0')
		id->fullname = sendmail_clean_name(env);
	else
		id->fullname = sendmail_gecos_name(
		    pw.pw_gecos != NULL ? pw.pw_gecos : "", pw.pw_name);
	if (sender != NULL) {
		id->sender_given = true;
		if (sendmail_address(conf, sender, strlen(sender), true,
		        &id->sender) == -1) {
			sendmail_fail("bad sender address: %s (use -f "
			              "user@domain, or -f '' for <>)",
			    sender);
			return EX_DATAERR;
		}
	} else if (sendmail_address(conf, id->login, strlen(id->login), false,
	               &id->sender) == -1) {
		sendmail_fail("the login name %s is not a valid address (give "
		              "one with -f)",
		    id->login);
		return EX_DATAERR;
	}
	return EX_OK;
}

void
sendmail_ident_free(struct sendmail_ident *id)
{
	free(id->login);
	free(id->fullname);
	free(id->sender);
	memset(id, 0, sizeof(*id));
}

/* ---- one message -------------------------------------------------------- */

int
sendmail_tx_begin(struct sendmail_tx *tx, const struct conf *conf, bool extract,
    bool dot_ends, struct buf *err)
{
	struct passwd *pw;

	memset(tx, 0, sizeof(*tx));
	tx->conf = conf;
	sendmail_msg_init(&tx->filt, (size_t)conf->header_size_limit,
	    MAILDROP_RECORD_MAX / 2);
	tx->filt.extract = extract;
	tx->filt.dot_ends = dot_ends;
	buf_init(&tx->out,
	    SENDMAIL_READ_SIZE + (size_t)conf->header_size_limit + 16);
	/* the queue manager, running as mail_owner, must read the file */
	pw = getpwnam(conf->mail_owner);
	tx->md = maildrop_create(
	    conf->queue_directory, pw != NULL ? pw->pw_uid : (uid_t)-1, err);
	if (tx->md == NULL)
		return EX_TEMPFAIL;
	return EX_OK;
}

static int
sendmail_tx_status(
    struct sendmail_tx *tx, enum sendmail_msg_status st, struct buf *err)
{
	const struct conf *conf = tx->conf;

	buf_reset(err);
	switch (st) {
	case SENDMAIL_MSG_TOO_LONG:
		(void)!buf_printf(err,
		    "a message header is longer than header_size_limit (%llu "
		    "bytes)",
		    (unsigned long long)conf->header_size_limit);
		return EX_DATAERR;
	case SENDMAIL_MSG_TOO_MANY:
		(void)!buf_append_str(
		    err, "too many recipients in the message headers");
		return EX_DATAERR;
	case SENDMAIL_MSG_BAD_HEADER:
		(void)!buf_append_str(err,
		    "cannot read the addresses of a To:, Cc: or Bcc: header "
		    "(-t)");
		return EX_DATAERR;
	default:
		break;
	}
	if (maildrop_size(tx->md) + tx->out.len > conf->message_size_limit) {
		(void)!buf_printf(err,
		    "message is larger than message_size_limit (%llu bytes)",
		    (unsigned long long)conf->message_size_limit);
		return EX_DATAERR;
	}
	if (tx->out.len > 0 &&
	    maildrop_write(tx->md, tx->out.data, tx->out.len) == -1) {
		(void)!buf_printf(
		    err, "cannot write the message: %s", strerror(errno));
		return EX_TEMPFAIL;
	}
	buf_reset(&tx->out);
	return st == SENDMAIL_MSG_DONE ? 1 : 0;
}

int
sendmail_tx_feed(
    struct sendmail_tx *tx, const char *p, size_t n, struct buf *err)
{
	size_t chunk;
	int r = 0;

	/* in slices, so that the output always fits tx->out */
	while (n > 0 && r == 0) {
		chunk = n < SENDMAIL_READ_SIZE ? n : SENDMAIL_READ_SIZE;
		r = sendmail_tx_status(
		    tx, sendmail_msg_feed(&tx->filt, p, chunk, &tx->out), err);
		p += chunk;
		n -= chunk;
	}
	return r;
}

/* Does any address need SMTPUTF8 (RFC 6531)? */
static bool
sendmail_utf8(const struct sendmail_ident *id, const struct sendmail_rcpts *r)
{
	const unsigned char *s;
	size_t i;

	for (s = (const unsigned char *)id->sender; *s != '\0'; s++)
		if (*s >= 0x80)
			return true;
	for (i = 0; i < r->n; i++)
		for (s = (const unsigned char *)r->v[i]; *s != '\0'; s++)
			if (*s >= 0x80)
				return true;
	return false;
}

static int
sendmail_add_collected(const struct conf *conf, struct sendmail_rcpts *r,
    const struct buf *b, struct buf *err)
{
	size_t off = 0, len;

	while (off < b->len) {
		len = strlen(b->data + off);
		if (sendmail_rcpts_add_list(conf, r, b->data + off, len, err) ==
		    -1)
			return -1;
		off += len + 1;
	}
	return 0;
}

int
sendmail_tx_commit(struct sendmail_tx *tx, const struct sendmail_ident *id,
    struct sendmail_rcpts *rcpts, struct buf *err)
{
	struct maildrop_rec rec;
	struct timeval tv;
	int r;

	r = sendmail_tx_status(tx, sendmail_msg_end(&tx->filt, &tx->out), err);
	if (r > 1)
		return r;
	if (tx->filt.extract &&
	    sendmail_add_collected(tx->conf, rcpts,
	        tx->filt.rcpts_resent.len > 0 ? &tx->filt.rcpts_resent
	                                      : &tx->filt.rcpts,
	        err) == -1)
		return EX_DATAERR;
	sendmail_rcpts_dedupe(rcpts);
	if (rcpts->n == 0) {
		buf_reset(err);
		(void)!buf_append_str(err,
		    tx->filt.extract ? "no recipient addresses found in the "
		                       "message headers"
		                     : "no recipients specified");
		return EX_DATAERR;
	}
	(void)gettimeofday(&tv, NULL);
	memset(&rec, 0, sizeof(rec));
	rec.time = (uint64_t)tv.tv_sec;
	rec.time_usec = (uint64_t)tv.tv_usec;
	rec.sender = id->sender;
	rec.fullname = id->fullname;
	rec.rcpts = (const char *const *)rcpts->v;
	rec.nrcpt = rcpts->n;
	rec.flags = (id->sender_given ? MAILDROP_F_SENDER : 0) |
	    (tx->filt.saw_from ? 0 : MAILDROP_F_ADD_FROM) |
	    (tx->filt.saw_date ? 0 : MAILDROP_F_ADD_DATE) |
	    (tx->filt.saw_msgid ? 0 : MAILDROP_F_ADD_MSGID) |
	    (tx->filt.saw_8bit ? MAILDROP_F_8BIT : 0) |
	    (sendmail_utf8(id, rcpts) ? MAILDROP_F_SMTPUTF8 : 0);
	if (maildrop_commit(tx->md, &rec, err) == -1)
		return errno == ENOBUFS ? EX_DATAERR : EX_TEMPFAIL;
	return EX_OK;
}

void
sendmail_tx_free(struct sendmail_tx *tx)
{
	maildrop_free(&tx->md);
	sendmail_msg_free(&tx->filt);
	buf_free(&tx->out);
}

/* ---- the command -------------------------------------------------------- */

/* A message on standard input. */
static int
sendmail_deliver(const struct conf *conf, const struct sendmail_opts *o)
{
	struct sendmail_ident id;
	struct sendmail_rcpts rcpts;
	struct sendmail_tx tx;
	struct buf err;
	char *in = NULL;
	size_t i;
	ssize_t n;
	int r;

	memset(&rcpts, 0, sizeof(rcpts));
	memset(&tx, 0, sizeof(tx));
	buf_init(&err, 4096);
	if ((r = sendmail_ident_init(&id, conf, o->fullname, o->sender)) !=
	    EX_OK)
		goto out;
	if (o->nrcpt == 0 && !o->extract) {
		sendmail_fail("no recipients: give them as arguments, or use "
		              "-t to read them from the message");
		r = EX_USAGE;
		goto out;
	}
	for (i = 0; i < o->nrcpt; i++)
		if (sendmail_rcpts_add_list(conf, &rcpts, o->rcpts[i],
		        strlen(o->rcpts[i]), &err) == -1) {
			sendmail_fail("%s", buf_cstr(&err));
			r = EX_DATAERR;
			goto out;
		}
	if ((r = sendmail_tx_begin(
	         &tx, conf, o->extract, !o->ignore_dots, &err)) != EX_OK) {
		sendmail_fail("%s (is queue_directory %s right? `mailwright "
		              "serve` or `mailwright init` creates it)",
		    buf_cstr(&err), conf->queue_directory);
		goto out;
	}
	in = xmalloc(SENDMAIL_READ_SIZE);
	for (;;) {
		n = read(STDIN_FILENO, in, SENDMAIL_READ_SIZE);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			sendmail_fail("cannot read the message from standard "
			              "input: %s",
			    strerror(errno));
			r = errno == EBADF ? EX_NOINPUT : EX_IOERR;
			goto out;
		}
		if (n == 0)
			break;
		r = sendmail_tx_feed(&tx, in, (size_t)n, &err);
		if (r == 1)
			break; /* a "." line */
		if (r != 0) {
			sendmail_fail("%s", buf_cstr(&err));
			goto out;
		}
	}
	if ((r = sendmail_tx_commit(&tx, &id, &rcpts, &err)) != EX_OK) {
		sendmail_fail("%s", buf_cstr(&err));
		goto out;
	}
	if (o->verbose)
		(void)fprintf(stderr, "sendmail: queued as %s in %s/%s\n",
		    maildrop_name(tx.md), conf->queue_directory,
		    QUEUE_DIR_MAILDROP);
out:
	free(in);
	sendmail_tx_free(&tx);
	sendmail_rcpts_free(&rcpts);
	sendmail_ident_free(&id);
	buf_free(&err);
	return r;
}

int
cli_sendmail(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct sendmail_opts o;
	struct cli_ctx c = *ctx;
	struct sendmail_ident id;
	const char *why, *arg;
	char *sub[2];
	struct conf *conf;
	struct buf err;
	int r;

	if (sendmail_args_parse(argc, argv, &o, &why, &arg) == -1) {
		if (arg != NULL)
			sendmail_fail(
			    "%s: %s (%s)", why, arg, sendmail_usage_text);
		else
			sendmail_fail("%s (%s)", why, sendmail_usage_text);
		return EX_USAGE;
	}
	if (o.config != NULL) {
		c.config_path = o.config;
		c.config_given = true;
	}
	if (o.mode == SENDMAIL_MODE_MAILQ) {
		sub[0] = (char *)"mailq";
		sub[1] = NULL;
		return cli_mailq(&c, 1, sub);
	}
	if (o.mode == SENDMAIL_MODE_NEWALIASES) {
		sub[0] = (char *)"newaliases";
		sub[1] = NULL;
		return cli_newaliases(&c, 1, sub) == 0 ? EX_OK : EX_TEMPFAIL;
	}
	(void)signal(SIGPIPE, SIG_IGN);
	buf_init(&err, 4096);
	conf = conf_load(c.config_path, &err);
	if (conf == NULL) {
		sendmail_fail("%s", buf_cstr(&err));
		buf_free(&err);
		return EX_TEMPFAIL;
	}
	buf_free(&err);
	switch (o.mode) {
	case SENDMAIL_MODE_FLUSH:
		if (queue_flush(conf->queue_directory, o.site) == -1) {
			sendmail_fail(
			    "cannot reach the queue manager in %s: %s "
			    "(is `mailwright serve` running?)",
			    conf->queue_directory, strerror(errno));
			r = EX_UNAVAILABLE;
		} else
			r = EX_OK;
		break;
	case SENDMAIL_MODE_SMTP:
		if ((r = sendmail_ident_init(&id, conf, o.fullname, NULL)) ==
		    EX_OK)
			r = sendmail_smtp(conf, &id);
		sendmail_ident_free(&id);
		break;
	default:
		r = sendmail_deliver(conf, &o);
		break;
	}
	conf_free(&conf);
	return r;
}
