/*
 * Unit tests for what sendmail does before anything touches the disk: the
 * command-line parser (cli/sendmail_args.c), the RFC 5322 address-list
 * parser behind -t (sendmail_addr_list) and the message filter
 * (cli/sendmail_msg.c: line ends, the "." line, the header section, Bcc
 * removal, -t collection, header_size_limit at max-1, max and max+1).
 * Each filter case is fed whole, byte by byte, and split at every offset.
 */
/* cmocka.h needs these first */
// clang-format off
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "cli/sendmail_args.h"
#include "cli/sendmail_msg.h"
#include "lib/buf.h"
#include "lib/mw.h"

#define MAXARGS 12

/* ---- the command line --------------------------------------------------- */

struct args_case {
	const char *name;
	const char *argv[MAXARGS]; /* NULL-terminated */
	int ret;
	enum sendmail_mode mode;
	bool extract, ignore_dots;
	const char *sender, *fullname, *site, *config;
	size_t nrcpt;
	const char *rcpt0;
	const char *bad_arg; /* the argument blamed on failure */
};

#define OK      0
#define BAD     (-1)
#define DELIVER SENDMAIL_MODE_DELIVER

// clang-format off
static const struct args_case args_cases[] = {
	{ "recipients only", { "sendmail", "a@b.example", "c@d.example" },
	    OK, DELIVER, .nrcpt = 2, .rcpt0 = "a@b.example" },
	{ "cron: -FCronDaemon -i -odi -oem -oi -t",
	    { "/usr/sbin/sendmail", "-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t" },
	    OK, DELIVER, .extract = true, .ignore_dots = true, .fullname = "CronDaemon" },
	{ "PHP: -t -i", { "sendmail", "-t", "-i" }, OK, DELIVER, .extract = true,
	    .ignore_dots = true },
	{ "git send-email: -i -f SENDER rcpts",
	    { "sendmail", "-i", "-f", "me@x.example", "a@b.example", "c@d.example" },
	    OK, DELIVER, .ignore_dots = true, .sender = "me@x.example", .nrcpt = 2,
	    .rcpt0 = "a@b.example" },
	{ "mutt: -oem -oi -- rcpt", { "sendmail", "-oem", "-oi", "--", "a@b.example" },
	    OK, DELIVER, .ignore_dots = true, .nrcpt = 1, .rcpt0 = "a@b.example" },
	{ "-fSENDER glued", { "sendmail", "-fme@x.example", "a@b.example" }, OK,
	    DELIVER, .sender = "me@x.example", .nrcpt = 1, .rcpt0 = "a@b.example" },
	{ "-r is -f", { "sendmail", "-r", "me@x.example", "a@b" }, OK, DELIVER,
	    .sender = "me@x.example", .nrcpt = 1, .rcpt0 = "a@b" },
	{ "-f '' is the null sender", { "sendmail", "-f", "", "a@b" }, OK, DELIVER,
	    .sender = "", .nrcpt = 1, .rcpt0 = "a@b" },
	{ "-F with a space", { "sendmail", "-F", "Cron Daemon", "a@b" }, OK,
	    DELIVER, .fullname = "Cron Daemon", .nrcpt = 1, .rcpt0 = "a@b" },
	{ "clustered -ti", { "sendmail", "-ti" }, OK, DELIVER, .extract = true,
	    .ignore_dots = true },
	{ "cluster ending in f takes the next", { "sendmail", "-tif", "s@x", "r@y" },
	    OK, DELIVER, .extract = true, .ignore_dots = true, .sender = "s@x",
	    .nrcpt = 1, .rcpt0 = "r@y" },
	{ "-- ends options", { "sendmail", "--", "-t" }, OK, DELIVER, .nrcpt = 1,
	    .rcpt0 = "-t" },
	{ "options end at the first recipient", { "sendmail", "a@b", "-t" }, OK,
	    DELIVER, .nrcpt = 2, .rcpt0 = "a@b" },
	{ "- alone is a recipient", { "sendmail", "-" }, OK, DELIVER, .nrcpt = 1,
	    .rcpt0 = "-" },
	{ "ignored: -v -m -n -odb -om -oee -oep -o7 -o8",
	    { "sendmail", "-v", "-m", "-n", "-odb", "-om", "-oee", "-oep", "-o7", "-o8", "x@y" },
	    OK, DELIVER, .nrcpt = 1, .rcpt0 = "x@y" },
	{ "-B 8BITMIME and -N", { "sendmail", "-B", "8bitmime", "-N", "never", "x@y" },
	    OK, DELIVER, .nrcpt = 1, .rcpt0 = "x@y" },
	{ "-h hops", { "sendmail", "-h", "5", "x@y" }, OK, DELIVER, .nrcpt = 1,
	    .rcpt0 = "x@y" },
	{ "-C config", { "sendmail", "-C", "/etc/x.cf", "x@y" }, OK, DELIVER,
	    .config = "/etc/x.cf", .nrcpt = 1, .rcpt0 = "x@y" },
	{ "-bm", { "sendmail", "-bm", "x@y" }, OK, DELIVER, .nrcpt = 1, .rcpt0 = "x@y" },
	{ "-bp", { "sendmail", "-bp" }, OK, SENDMAIL_MODE_MAILQ, .nrcpt = 0 },
	{ "-bs", { "sendmail", "-bs" }, OK, SENDMAIL_MODE_SMTP, .nrcpt = 0 },
	{ "-bi", { "sendmail", "-bi" }, OK, SENDMAIL_MODE_NEWALIASES, .nrcpt = 0 },
	{ "-I", { "sendmail", "-I" }, OK, SENDMAIL_MODE_NEWALIASES, .nrcpt = 0 },
	{ "-q", { "sendmail", "-q" }, OK, SENDMAIL_MODE_FLUSH, .nrcpt = 0 },
	{ "-q30m", { "sendmail", "-q30m" }, OK, SENDMAIL_MODE_FLUSH, .nrcpt = 0 },
	{ "-qRsite", { "sendmail", "-qRexample.org" }, OK, SENDMAIL_MODE_FLUSH,
	    .site = "example.org" },
	{ "-qS site", { "sendmail", "-qS", "example.org" }, OK, SENDMAIL_MODE_FLUSH,
	    .site = "example.org" },
	{ "argv[0] mailq", { "/usr/bin/mailq" }, OK, SENDMAIL_MODE_MAILQ, .nrcpt = 0 },
	{ "argv[0] newaliases", { "newaliases" }, OK, SENDMAIL_MODE_NEWALIASES, .nrcpt = 0 },
	{ "no argv[0]", { NULL }, OK, DELIVER, .nrcpt = 0 },
	{ "unknown -x", { "sendmail", "-x", "a@b" }, BAD, .bad_arg = "-x" },
	{ "unknown inside a cluster", { "sendmail", "-tZ" }, BAD, .bad_arg = "-tZ" },
	{ "--long", { "sendmail", "--help" }, BAD, .bad_arg = "--help" },
	{ "-f without a value", { "sendmail", "-f" }, BAD, .bad_arg = "-f" },
	{ "-F without a value", { "sendmail", "-t", "-F" }, BAD, .bad_arg = "-F" },
	{ "unknown -o", { "sendmail", "-oQ/tmp" }, BAD, .bad_arg = "-oQ/tmp" },
	{ "-bd is not ours", { "sendmail", "-bd" }, BAD, .bad_arg = "-bd" },
	{ "-bv", { "sendmail", "-bv", "x@y" }, BAD, .bad_arg = "-bv" },
	{ "-B FOO", { "sendmail", "-B", "FOO" }, BAD, .bad_arg = "-B" },
	{ "-qR without a site", { "sendmail", "-qR" }, BAD, .bad_arg = "-qR" },
	{ "-q with junk", { "sendmail", "-qx" }, BAD, .bad_arg = "-qx" },
	{ "-N empty", { "sendmail", "-N", "" }, BAD, .bad_arg = "-N" },
};
// clang-format on

static void
test_sendmail_args_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(args_cases); i++) {
		const struct args_case *c = &args_cases[i];
		struct sendmail_opts o;
		const char *why, *arg;
		int argc = 0, r;

		while (argc < MAXARGS && c->argv[argc] != NULL)
			argc++;
		if (argc == 0 && c->argv[0] == NULL)
			argc = 0;
		r = sendmail_args_parse(
		    argc, (char *const *)c->argv, &o, &why, &arg);
		if (r != c->ret)
			fail_msg("%s: got %d (%s)", c->name, r, why ? why : "");
		if (r != 0) {
			assert_non_null(why);
			if (c->bad_arg != NULL) {
				assert_non_null(arg);
				assert_string_equal(arg, c->bad_arg);
			}
			continue;
		}
		if (o.mode != c->mode || o.extract != c->extract ||
		    o.ignore_dots != c->ignore_dots || o.nrcpt != c->nrcpt)
			fail_msg("%s: mode %d extract %d dots %d nrcpt %zu",
			    c->name, (int)o.mode, o.extract, o.ignore_dots,
			    o.nrcpt);
#define SAME(f)                                                                \
	do {                                                                   \
		if ((c->f == NULL) != (o.f == NULL) ||                         \
		    (c->f != NULL && strcmp(c->f, o.f) != 0))                  \
			fail_msg(                                              \
			    "%s: " #f " %s", c->name, o.f ? o.f : "NULL");     \
	} while (0)
		SAME(sender);
		SAME(fullname);
		SAME(site);
		SAME(config);
		if (c->nrcpt > 0)
			assert_string_equal(o.rcpts[0], c->rcpt0);
	}
}

/* ---- address lists ------------------------------------------------------ */

struct list_case {
	const char *name;
	const char *in;
	int ret;
	const char *out; /* the addresses joined with '|' */
};

// clang-format off
static const struct list_case list_cases[] = {
	{ "one", "a@b.example", OK, "a@b.example" },
	{ "two with spaces", " a@b.example ,  c@d.example ", OK, "a@b.example|c@d.example" },
	{ "display names", "Alice <a@b.example>, \"Bob, Jr.\" <c@d.example>", OK,
	    "a@b.example|c@d.example" },
	{ "comment", "a@b.example (Alice (the first))", OK, "a@b.example" },
	{ "comment inside", "<a(x)@b.example>", OK, "a@b.example" },
	{ "spaces inside angle", "< a @ b.example >", OK, "a@b.example" },
	{ "folded", "a@b.example,\n\tc@d.example", OK, "a@b.example|c@d.example" },
	{ "quoted local part", "\"a b\"@c.example", OK, "\"a b\"@c.example" },
	{ "quoted with escapes", "\"a\\\"b\"@c.example", OK, "\"a\\\"b\"@c.example" },
	{ "domain literal", "a@[192.0.2.1]", OK, "a@[192.0.2.1]" },
	{ "IPv6 literal with colons", "a@[IPv6:2001:db8::1]", OK, "a@[IPv6:2001:db8::1]" },
	{ "group", "friends: a@b.example, c@d.example;, e@f.example", OK,
	    "a@b.example|c@d.example|e@f.example" },
	{ "empty group", "undisclosed-recipients:;", OK, "" },
	{ "route dropped", "<@r1.example,@r2.example:a@b.example>", OK, "a@b.example" },
	{ "bare user", "root", OK, "root" },
	{ "empties skipped", ",, a@b ,,", OK, "a@b" },
	{ "empty angle skipped", "<>", OK, "" },
	{ "UTF-8 kept", "\xe7\x94\xa8@\xe4\xbe\x8b.test", OK, "\xe7\x94\xa8@\xe4\xbe\x8b.test" },
	{ "dots around", "first . last @ example.org", OK, "first.last@example.org" },
	{ "empty", "", OK, "" },
	{ "phrase without angle", "Alice Smith", BAD, NULL },
	{ "unclosed quote", "\"a@b", BAD, NULL },
	{ "unclosed comment", "a@b (x", BAD, NULL },
	{ "unclosed angle", "<a@b", BAD, NULL },
	{ "stray >", "a@b>", BAD, NULL },
	{ "nested angle", "<a<b>>", BAD, NULL },
	{ "unclosed literal", "a@[1.2.3.4", BAD, NULL },
	{ "route without colon", "<@r.example>", BAD, NULL },
};
// clang-format on

static int
collect(void *arg, const char *addr, size_t len)
{
	struct buf *b = arg;

	if (b->len > 0 && buf_append_char(b, '|') == -1)
		return -1;
	return buf_append(b, addr, len);
}

static int
stop_at_second(void *arg, const char *addr, size_t len)
{
	int *n = arg;

	(void)addr;
	(void)len;
	if (++*n == 2) {
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

static void
test_sendmail_addr_list_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(list_cases); i++) {
		const struct list_case *c = &list_cases[i];
		struct buf b;
		int r;

		buf_init(&b, 4096);
		r = sendmail_addr_list(c->in, strlen(c->in), collect, &b);
		if (r != c->ret)
			fail_msg("%s: got %d", c->name, r);
		if (r == 0 && strcmp(buf_cstr(&b), c->out) != 0)
			fail_msg("%s: got \"%s\"", c->name, buf_cstr(&b));
		if (r == -1)
			assert_int_equal(errno, EINVAL);
		buf_free(&b);
	}
}

static void
test_sendmail_addr_list_callback_stops_it(void **state)
{
	int n = 0;

	(void)state;
	assert_int_equal(
	    sendmail_addr_list("a@b, c@d, e@f", 13, stop_at_second, &n), -1);
	assert_int_equal(n, 2);
	assert_int_equal(errno, ENOBUFS);
}

/* ---- the message filter ------------------------------------------------- */

struct msg_case {
	const char *name;
	const char *in;
	bool extract, ignore_dots;
	enum sendmail_msg_status st; /* after the end */
	const char *out;
	bool from, date, msgid, eightbit;
	const char *rcpts;  /* -t addresses joined with '|' */
	const char *resent; /* Resent-* addresses */
};

#define DONE SENDMAIL_MSG_DONE

// clang-format off
static const struct msg_case msg_cases[] = {
	{ "plain", "Subject: x\n\nbody\n", .st = DONE, .out = "Subject: x\n\nbody\n" },
	{ "CRLF becomes LF", "Subject: x\r\n\r\nbody\r\n", .st = DONE,
	    .out = "Subject: x\n\nbody\n" },
	{ "bare CR is content", "Subject: x\n\na\rb\n", .st = DONE,
	    .out = "Subject: x\n\na\rb\n" },
	{ "CR at the end", "Subject: x\n\nab\r", .st = DONE,
	    .out = "Subject: x\n\nab\r\n" },
	{ "last line without LF", "Subject: x\n\nab", .st = DONE,
	    .out = "Subject: x\n\nab\n" },
	{ "dot line ends", "Subject: x\n\nbody\n.\nafter\n", .st = DONE,
	    .out = "Subject: x\n\nbody\n" },
	{ "dot CRLF ends", "Subject: x\r\n\r\nbody\r\n.\r\nafter\r\n", .st = DONE,
	    .out = "Subject: x\n\nbody\n" },
	{ "dot line in the headers ends", "Subject: x\n.\nmore\n", .st = DONE,
	    .out = "Subject: x\n" },
	{ "-i: dot line is content", "Subject: x\n\nbody\n.\nafter\n",
	    .ignore_dots = true, .st = DONE, .out = "Subject: x\n\nbody\n.\nafter\n" },
	{ "dots are not unstuffed", "Subject: x\n\n..a\n.b\n", .st = DONE,
	    .out = "Subject: x\n\n..a\n.b\n" },
	{ "dot at end of input", "Subject: x\n\nbody\n.", .st = DONE,
	    .out = "Subject: x\n\nbody\n.\n" },
	{ "mbox From line dropped", "From alice Thu Dec  3 11:32:19 2020\nSubject: x\n\nb\n",
	    .st = DONE, .out = "Subject: x\n\nb\n" },
	{ "From: is not an mbox line", "From: a@b\n\nb\n", .st = DONE,
	    .out = "From: a@b\n\nb\n", .from = true },
	{ "no headers: an empty line first", "hello world\nline 2\n", .st = DONE,
	    .out = "\nhello world\nline 2\n" },
	{ "header then a non-header line", "Subject: x\nnot a header\n", .st = DONE,
	    .out = "Subject: x\n\nnot a header\n" },
	{ "continuation without a header", " indented\n", .st = DONE,
	    .out = "\n indented\n" },
	{ "headers only", "Subject: x\nTo: a@b", .st = DONE,
	    .out = "Subject: x\nTo: a@b\n" },
	{ "empty input", "", .st = DONE, .out = "" },
	{ "folded header kept", "Subject: a\n b\n\tc\n\nx\n", .st = DONE,
	    .out = "Subject: a\n b\n\tc\n\nx\n" },
	{ "obs: space before colon", "Subject : x\n\nb\n", .st = DONE,
	    .out = "Subject : x\n\nb\n" },
	{ "seen headers", "from: a@b\nDATE: now\nmessage-id: <x@y>\n\n", .st = DONE,
	    .out = "from: a@b\nDATE: now\nmessage-id: <x@y>\n\n", .from = true,
	    .date = true, .msgid = true },
	{ "Resent-From is not From", "Resent-From: a@b\n\n", .st = DONE,
	    .out = "Resent-From: a@b\n\n" },
	{ "8-bit body", "Subject: x\n\n\xc3\xa9\n", .st = DONE,
	    .out = "Subject: x\n\n\xc3\xa9\n", .eightbit = true },
	{ "Bcc dropped, folded too", "To: a@b\nBcc: c@d,\n e@f\nSubject: s\n\nx\n",
	    .st = DONE, .out = "To: a@b\nSubject: s\n\nx\n" },
	{ "bcc any case dropped", "BCC: c@d\n\n", .st = DONE, .out = "\n" },
	{ "Resent-Bcc dropped", "Resent-Bcc: c@d\n\n", .st = DONE, .out = "\n" },
	{ "-t collects To Cc Bcc",
	    "To: A <a@b>, c@d\nCc: e@f\nBcc: g@h\nSubject: s\n\nbody To: x@y\n",
	    .extract = true, .st = DONE, .out = "To: A <a@b>, c@d\nCc: e@f\nSubject: s\n\nbody To: x@y\n",
	    .rcpts = "a@b|c@d|e@f|g@h" },
	{ "-t folded To", "To: a@b,\n\tc@d\n\n", .extract = true, .st = DONE,
	    .out = "To: a@b,\n\tc@d\n\n", .rcpts = "a@b|c@d" },
	{ "-t Resent-* kept apart", "To: a@b\nResent-To: r@s\nResent-Bcc: t@u\n\n",
	    .extract = true, .st = DONE, .out = "To: a@b\nResent-To: r@s\n\n",
	    .rcpts = "a@b", .resent = "r@s|t@u" },
	{ "-t ignores other headers", "From: a@b\nReply-To: c@d\n\n", .extract = true,
	    .st = DONE, .out = "From: a@b\nReply-To: c@d\n\n", .from = true },
	{ "no -t: To not collected", "To: a@b\n\n", .st = DONE, .out = "To: a@b\n\n" },
	{ "-t bad list", "To: \"unclosed\n\n", .extract = true,
	    .st = SENDMAIL_MSG_BAD_HEADER },
};
// clang-format on

static void
join(const struct buf *nul_list, struct buf *out)
{
	size_t off = 0, len;

	while (off < nul_list->len) {
		len = strlen(nul_list->data + off);
		if (out->len > 0)
			assert_int_equal(buf_append_char(out, '|'), 0);
		assert_int_equal(buf_append(out, nul_list->data + off, len), 0);
		off += len + 1;
	}
}

/* Feeds c->in in pieces of at most step bytes, with a split at split. */
static void
run_msg_case(const struct msg_case *c, size_t split, size_t step)
{
	size_t n = strlen(c->in), off = 0, piece;
	enum sendmail_msg_status st = SENDMAIL_MSG_MORE;
	struct sendmail_msg m;
	struct buf out, list;

	sendmail_msg_init(&m, 1000, 4096);
	m.extract = c->extract;
	m.dot_ends = !c->ignore_dots;
	buf_init(&out, 1 << 20);
	while (off < n && st == SENDMAIL_MSG_MORE) {
		piece = n - off;
		if (off < split && off + piece > split)
			piece = split - off;
		if (piece > step)
			piece = step;
		st = sendmail_msg_feed(&m, c->in + off, piece, &out);
		off += piece;
	}
	if (st == SENDMAIL_MSG_MORE)
		st = sendmail_msg_end(&m, &out);
	if (st != c->st)
		fail_msg("%s (split %zu step %zu): status %d", c->name, split,
		    step, (int)st);
	if (st != DONE) {
		sendmail_msg_free(&m);
		buf_free(&out);
		return;
	}
	if (strcmp(buf_cstr(&out), c->out) != 0)
		fail_msg("%s (split %zu step %zu): got \"%s\"", c->name, split,
		    step, buf_cstr(&out));
	assert_int_equal(m.size, out.len);
	if (m.saw_from != c->from || m.saw_date != c->date ||
	    m.saw_msgid != c->msgid || m.saw_8bit != c->eightbit)
		fail_msg("%s: flags", c->name);
	buf_init(&list, 4096);
	join(&m.rcpts, &list);
	if (strcmp(buf_cstr(&list), c->rcpts != NULL ? c->rcpts : "") != 0)
		fail_msg("%s: rcpts \"%s\"", c->name, buf_cstr(&list));
	buf_reset(&list);
	join(&m.rcpts_resent, &list);
	if (strcmp(buf_cstr(&list), c->resent != NULL ? c->resent : "") != 0)
		fail_msg("%s: resent \"%s\"", c->name, buf_cstr(&list));
	buf_free(&list);
	sendmail_msg_free(&m);
	buf_free(&out);
}

static void
test_sendmail_msg_table_whole_bytewise_and_split(void **state)
{
	size_t i, split;

	(void)state;
	for (i = 0; i < MW_NELEM(msg_cases); i++) {
		const struct msg_case *c = &msg_cases[i];
		size_t n = strlen(c->in);

		run_msg_case(c, n, SIZE_MAX);
		run_msg_case(c, n, 1);
		for (split = 0; split <= n; split++)
			run_msg_case(c, split, SIZE_MAX);
	}
}

/* One header of exactly len bytes with its LF, then a body. */
static enum sendmail_msg_status
feed_header_of(size_t len, size_t max, struct buf *out)
{
	struct sendmail_msg m;
	enum sendmail_msg_status st;
	struct buf in;
	size_t i;

	buf_init(&in, len + 64);
	assert_int_equal(buf_append_str(&in, "X-Long: "), 0);
	for (i = in.len; i + 1 < len; i++)
		assert_int_equal(buf_append_char(&in, 'a'), 0);
	assert_int_equal(buf_append_str(&in, "\n\nbody\n"), 0);
	sendmail_msg_init(&m, max, 4096);
	st = sendmail_msg_feed(&m, in.data, in.len, out);
	if (st == SENDMAIL_MSG_MORE)
		st = sendmail_msg_end(&m, out);
	sendmail_msg_free(&m);
	buf_free(&in);
	return st;
}

static void
test_sendmail_msg_header_limit_at_edges(void **state)
{
	const size_t max = 200;
	struct buf out;

	(void)state;
	buf_init(&out, 1 << 16);
	assert_int_equal(feed_header_of(max - 1, max, &out), SENDMAIL_MSG_DONE);
	buf_reset(&out);
	assert_int_equal(feed_header_of(max, max, &out), SENDMAIL_MSG_DONE);
	assert_int_equal(out.len, max + 6);
	buf_reset(&out);
	assert_int_equal(
	    feed_header_of(max + 1, max, &out), SENDMAIL_MSG_TOO_LONG);
	buf_free(&out);
}

static void
test_sendmail_msg_folded_header_limit(void **state)
{
	struct sendmail_msg m;
	struct buf out;
	size_t i;

	(void)state;
	buf_init(&out, 1 << 16);
	sendmail_msg_init(&m, 100, 4096);
	assert_int_equal(
	    sendmail_msg_feed(&m, "To: a@b\n", 8, &out), SENDMAIL_MSG_MORE);
	for (i = 0; i < 20; i++)
		if (sendmail_msg_feed(&m, " continued\n", 11, &out) !=
		    SENDMAIL_MSG_MORE)
			break;
	assert_true(i < 20);
	assert_int_equal(sendmail_msg_end(&m, &out), SENDMAIL_MSG_TOO_LONG);
	sendmail_msg_free(&m);
	buf_free(&out);
}

static void
test_sendmail_msg_long_first_body_line_streams(void **state)
{
	struct sendmail_msg m;
	struct buf out, in;
	size_t i;

	(void)state;
	/* no headers, a first line longer than header_max: body, not error */
	buf_init(&in, 1000);
	for (i = 0; i < 500; i++)
		assert_int_equal(buf_append_char(&in, 'x'), 0);
	assert_int_equal(buf_append_str(&in, " end\n"), 0);
	buf_init(&out, 1 << 16);
	sendmail_msg_init(&m, 100, 4096);
	assert_int_equal(
	    sendmail_msg_feed(&m, in.data, in.len, &out), SENDMAIL_MSG_MORE);
	assert_int_equal(sendmail_msg_end(&m, &out), SENDMAIL_MSG_DONE);
	assert_int_equal(out.len, in.len + 1);
	assert_int_equal(out.data[0], '\n');
	assert_memory_equal(out.data + 1, in.data, in.len);
	sendmail_msg_free(&m);
	buf_free(&out);
	buf_free(&in);
}

static void
test_sendmail_msg_too_many_rcpts(void **state)
{
	struct sendmail_msg m;
	struct buf out;

	(void)state;
	buf_init(&out, 1 << 16);
	sendmail_msg_init(&m, 1000, 16); /* room for about 3 addresses */
	m.extract = true;
	assert_int_equal(sendmail_msg_feed(&m,
	                     "To: a@b, c@d, e@f, g@h, i@j, k@l\n\n", 35, &out),
	    SENDMAIL_MSG_TOO_MANY);
	/* final */
	assert_int_equal(
	    sendmail_msg_feed(&m, "x", 1, &out), SENDMAIL_MSG_TOO_LONG);
	sendmail_msg_free(&m);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sendmail_args_table),
		cmocka_unit_test(test_sendmail_addr_list_table),
		cmocka_unit_test(test_sendmail_addr_list_callback_stops_it),
		cmocka_unit_test(
		    test_sendmail_msg_table_whole_bytewise_and_split),
		cmocka_unit_test(test_sendmail_msg_header_limit_at_edges),
		cmocka_unit_test(test_sendmail_msg_folded_header_limit),
		cmocka_unit_test(
		    test_sendmail_msg_long_first_body_line_streams),
		cmocka_unit_test(test_sendmail_msg_too_many_rcpts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
