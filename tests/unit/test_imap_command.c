/*
 * Unit tests for the IMAP command parser (imap_command.c, imap_lex.c,
 * imap_command_msg.c): the examples of RFC 9051 6 and RFC 3501 6 and of
 * the extensions, one table row each (accepted or the error expected), then
 * the parsed arguments of each command, strings (quoted escapes, 8-bit only
 * with UTF-8, literals), numbers at 2^32 and 2^63, dates, flags, and the
 * argument and nesting limits at max-1 / max / max+1.
 */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "imap_test.h"
#include "lib/buf.h"
#include "lib/mw.h"

struct cmd_case {
	const char *in;
	size_t len;
	enum imap_cmd_id id;     /* IMAP_CMD_UNKNOWN: an error */
	enum imap_err_code code; /* for errors */
};

#define OK(s, id)                                                              \
	{                                                                      \
		S(s), id, IMAP_ERR_NONE                                        \
	}
#define BAD(s)                                                                 \
	{                                                                      \
		S(s), IMAP_CMD_UNKNOWN, IMAP_ERR_BAD                           \
	}
#define ERR(s, code)                                                           \
	{                                                                      \
		S(s), IMAP_CMD_UNKNOWN, code                                   \
	}

// clang-format off
static const struct cmd_case cmd_cases[] = {
	/* RFC 9051 6.1 */
	OK("abcd CAPABILITY\r\n", IMAP_CMD_CAPABILITY),
	OK("a002 NOOP\r\n", IMAP_CMD_NOOP),
	OK("A023 LOGOUT\r\n", IMAP_CMD_LOGOUT),
	BAD("A023 LOGOUT now\r\n"),
	BAD("abcd CAPABILITY \r\n"),
	/* 6.2 */
	OK("a001 STARTTLS\r\n", IMAP_CMD_STARTTLS),
	OK("A001 AUTHENTICATE GSSAPI\r\n", IMAP_CMD_AUTHENTICATE),
	OK("a AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n", IMAP_CMD_AUTHENTICATE),
	OK("a AUTHENTICATE PLAIN =\r\n", IMAP_CMD_AUTHENTICATE),
	OK("a AUTHENTICATE PLAIN AAAA\r\n", IMAP_CMD_AUTHENTICATE),
	OK("a AUTHENTICATE PLAIN AA==\r\n", IMAP_CMD_AUTHENTICATE),
	BAD("a AUTHENTICATE PLAIN A===\r\n"),
	BAD("a AUTHENTICATE PLAIN AA=A\r\n"),
	BAD("a AUTHENTICATE PLAIN AAA\r\n"),
	BAD("a AUTHENTICATE PLAIN \r\n"),
	BAD("a AUTHENTICATE PLAIN ==\r\n"),
	BAD("a AUTHENTICATE\r\n"),
	BAD("a AUTHENTICATE \"PLAIN\"\r\n"),
	OK("a001 LOGIN SMITH SESAME\r\n", IMAP_CMD_LOGIN),
	OK("a LOGIN \"fred smith\" \"pass word\"\r\n", IMAP_CMD_LOGIN),
	OK("a LOGIN {4}\r\nfred {2+}\r\npw\r\n", IMAP_CMD_LOGIN),
	OK("a LOGIN f] p]\r\n", IMAP_CMD_LOGIN),
	BAD("a LOGIN fred\r\n"),
	BAD("a LOGIN fred  pw\r\n"),
	BAD("a LOGIN f*d pw\r\n"),
	BAD("a LOGIN f%d pw\r\n"),
	BAD("a LOGIN (fred) pw\r\n"),
	BAD("a LOGIN fred pw extra\r\n"),
	BAD("a LOGIN NIL\r\n"),
	/* 6.3 */
	OK("t2 ENABLE CONDSTORE X-GOOD-IDEA\r\n", IMAP_CMD_ENABLE),
	OK("t2 ENABLE IMAP4rev2\r\n", IMAP_CMD_ENABLE),
	OK("t2 ENABLE AUTH=PLAIN\r\n", IMAP_CMD_ENABLE),
	BAD("t2 ENABLE\r\n"),
	BAD("t2 ENABLE \"UTF8=ACCEPT\"\r\n"),
	OK("A142 SELECT INBOX\r\n", IMAP_CMD_SELECT),
	OK("A142 SELECT inbox\r\n", IMAP_CMD_SELECT),
	OK("A142 SELECT \"\"\r\n", IMAP_CMD_SELECT),
	OK("a SELECT INBOX (CONDSTORE)\r\n", IMAP_CMD_SELECT),
	BAD("a SELECT INBOX ()\r\n"),
	BAD("a SELECT INBOX (QRESYNC (1 2))\r\n"),
	BAD("a SELECT\r\n"),
	BAD("a SELECT INBOX Drafts\r\n"),
	OK("A932 EXAMINE blurdybloop\r\n", IMAP_CMD_EXAMINE),
	OK("A003 CREATE owatagusiam/\r\n", IMAP_CMD_CREATE),
	OK("t1 CREATE \"Sent\" (USE (\\Sent))\r\n", IMAP_CMD_CREATE),
	OK("t1 CREATE x (USE ())\r\n", IMAP_CMD_CREATE),
	OK("t1 CREATE x (USE (\\Drafts \\Junk))\r\n", IMAP_CMD_CREATE),
	BAD("t1 CREATE x (USE (Sent))\r\n"),
	BAD("t1 CREATE x (FOO)\r\n"),
	BAD("t1 CREATE x ()\r\n"),
	OK("A683 DELETE blurdybloop\r\n", IMAP_CMD_DELETE),
	OK("A683 RENAME blurdybloop sarasoop\r\n", IMAP_CMD_RENAME),
	BAD("A683 RENAME blurdybloop\r\n"),
	OK("A002 SUBSCRIBE #news.comp.mail.mime\r\n", IMAP_CMD_SUBSCRIBE),
	OK("A002 UNSUBSCRIBE #news.comp.mail.mime\r\n", IMAP_CMD_UNSUBSCRIBE),
	OK("A101 LIST \"\" \"\"\r\n", IMAP_CMD_LIST),
	OK("A102 LIST #news.comp.mail.misc \"\"\r\n", IMAP_CMD_LIST),
	OK("A202 LIST ~/Mail/ %\r\n", IMAP_CMD_LIST),
	OK("A202 LIST \"\" *\r\n", IMAP_CMD_LIST),
	OK("A202 LIST \"\" INBOX.%.*]\r\n", IMAP_CMD_LIST),
	OK("A02 LIST (SUBSCRIBED) \"\" \"*\"\r\n", IMAP_CMD_LIST),
	OK("A02 LIST () \"\" *\r\n", IMAP_CMD_LIST),
	OK("A02 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n", IMAP_CMD_LIST),
	OK("A02 LIST (REMOTE) \"\" %\r\n", IMAP_CMD_LIST),
	OK("A02 LIST (SPECIAL-USE) \"\" *\r\n", IMAP_CMD_LIST),
	OK("A02 LIST \"\" * RETURN (CHILDREN)\r\n", IMAP_CMD_LIST),
	OK("A02 LIST \"\" * RETURN ()\r\n", IMAP_CMD_LIST),
	OK("A02 LIST \"\" (\"foo\" bar* %) RETURN (SUBSCRIBED CHILDREN)\r\n",
	    IMAP_CMD_LIST),
	OK("A02 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))\r\n", IMAP_CMD_LIST),
	OK("A02 LIST \"\" % RETURN (SPECIAL-USE STATUS (SIZE))\r\n", IMAP_CMD_LIST),
	BAD("A02 LIST (RECURSIVEMATCH) \"\" %\r\n"),
	BAD("A02 LIST (FOO) \"\" %\r\n"),
	BAD("A02 LIST \"\" % RETURN (FOO)\r\n"),
	BAD("A02 LIST \"\" % RETURN (STATUS ())\r\n"),
	BAD("A02 LIST \"\" % RETURN\r\n"),
	BAD("A02 LIST \"\" ()\r\n"),
	BAD("A02 LIST \"\"\r\n"),
	BAD("A02 LIST * \"\"\r\n"),
	OK("A002 LSUB \"#news.\" \"comp.mail.*\"\r\n", IMAP_CMD_LSUB),
	BAD("A002 LSUB (SUBSCRIBED) \"\" *\r\n"),
	BAD("A002 LSUB \"\" (a b)\r\n"),
	OK("A001 NAMESPACE\r\n", IMAP_CMD_NAMESPACE),
	OK("A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n", IMAP_CMD_STATUS),
	OK("A042 STATUS x (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
	   "RECENT HIGHESTMODSEQ APPENDLIMIT)\r\n", IMAP_CMD_STATUS),
	OK("A042 STATUS x (messages)\r\n", IMAP_CMD_STATUS),
	BAD("A042 STATUS x ()\r\n"),
	BAD("A042 STATUS x (FOO)\r\n"),
	BAD("A042 STATUS x MESSAGES\r\n"),
	BAD("A042 STATUS x (MESSAGES )\r\n"),
	OK("A003 APPEND saved-messages (\\Seen) {4}\r\nabcd\r\n", IMAP_CMD_APPEND),
	OK("A003 APPEND x {4+}\r\nabcd\r\n", IMAP_CMD_APPEND),
	OK("A003 APPEND x \" 7-Feb-1994 21:52:25 -0800\" {1}\r\nx\r\n",
	    IMAP_CMD_APPEND),
	OK("A003 APPEND x () \"07-Feb-1994 21:52:25 +0000\" {1}\r\nx\r\n",
	    IMAP_CMD_APPEND),
	OK("A003 APPEND x {1}\r\nx (\\Draft) {1}\r\ny\r\n", IMAP_CMD_APPEND),
	OK("A003 APPEND x ~{2}\r\n\0\0\r\n", IMAP_CMD_APPEND),
	/* RFC 6855 4: UTF8 (literal8) */
	OK("A003 APPEND x (\\Seen) UTF8 (~{2}\r\nab)\r\n", IMAP_CMD_APPEND),
	OK("A003 APPEND x utf8 (~{2+}\r\nab)\r\n", IMAP_CMD_APPEND),
	BAD("A003 APPEND x UTF8 ({2}\r\nab)\r\n"),
	BAD("A003 APPEND x UTF8 (~{2}\r\nab\r\n"),
	BAD("A003 APPEND x\r\n"),
	BAD("A003 APPEND x (\\Seen)\r\n"),
	BAD("A003 APPEND x \"abc\"\r\n"),
	BAD("A003 APPEND x {1}\r\nx \r\n"),
	BAD("A003 APPEND x \"7-Feb-1994 21:52:25 -0800\" {1}\r\nx\r\n"),
	BAD("A003 APPEND x \"31-Feb-1994 21:52:25 -0800\" {1}\r\nx\r\n"),
	BAD("A003 APPEND x \"07-Foo-1994 21:52:25 -0800\" {1}\r\nx\r\n"),
	BAD("A003 APPEND x \"07-Feb-1994 24:00:00 -0800\" {1}\r\nx\r\n"),
	BAD("A003 APPEND x \"07-Feb-1994 21:52:25 0800\" {1}\r\nx\r\n"),
	BAD("A003 APPEND x \"07-Feb-1994 21:52:25 -0860\" {1}\r\nx\r\n"),
	BAD("A003 APPEND x \"07-Feb-94 21:52:25 -0800\" {1}\r\nx\r\n"),
	OK("a IDLE\r\n", IMAP_CMD_IDLE),
	BAD("a IDLE x\r\n"),
	/* 6.4 */
	OK("FXXZ CHECK\r\n", IMAP_CMD_CHECK),
	OK("A341 CLOSE\r\n", IMAP_CMD_CLOSE),
	OK("a UNSELECT\r\n", IMAP_CMD_UNSELECT),
	OK("A202 EXPUNGE\r\n", IMAP_CMD_EXPUNGE),
	BAD("A202 EXPUNGE 1:2\r\n"),
	OK("A003 UID EXPUNGE 3000:3002\r\n", IMAP_CMD_EXPUNGE),
	BAD("A003 UID EXPUNGE\r\n"),
	OK("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
	    IMAP_CMD_SEARCH),
	OK("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n",
	    IMAP_CMD_FETCH),
	OK("A003 STORE 2:4 +FLAGS (\\Deleted)\r\n", IMAP_CMD_STORE),
	OK("A003 STORE 2:4 -FLAGS.SILENT \\Deleted $Junk\r\n", IMAP_CMD_STORE),
	OK("A003 STORE 1 FLAGS ()\r\n", IMAP_CMD_STORE),
	OK("A003 STORE 1 (UNCHANGEDSINCE 12345) FLAGS.SILENT (\\Seen)\r\n",
	    IMAP_CMD_STORE),
	OK("A003 STORE 1 (UNCHANGEDSINCE 0) FLAGS (\\Seen)\r\n", IMAP_CMD_STORE),
	OK("A003 store 1 flags.silent (\\SEEN \\answered)\r\n", IMAP_CMD_STORE),
	BAD("A003 STORE 1 FLAGS\r\n"),
	BAD("A003 STORE 1 FLAGS \r\n"),
	BAD("A003 STORE 1 +FLAGS.LOUD (\\Seen)\r\n"),
	BAD("A003 STORE 1 *FLAGS (\\Seen)\r\n"),
	BAD("A003 STORE 1 FLAGS (\\Recent)\r\n"),
	BAD("A003 STORE 1 FLAGS (\\*)\r\n"),
	BAD("A003 STORE 1 FLAGS (\\Foo)\r\n"),
	BAD("A003 STORE 1 FLAGS (\\)\r\n"),
	BAD("A003 STORE 1 FLAGS (\\Seen\r\n"),
	BAD("A003 STORE 1 FLAGS (\\Seen  \\Draft)\r\n"),
	BAD("A003 STORE 1 FLAGS (\"kw\")\r\n"),
	BAD("A003 STORE 1 FLAGS (k%w)\r\n"),
	BAD("A003 STORE 1 (FOO 1) FLAGS (\\Seen)\r\n"),
	BAD("A003 STORE 1 (UNCHANGEDSINCE 9223372036854775808) FLAGS ()\r\n"),
	OK("A003 COPY 2:4 MEETING\r\n", IMAP_CMD_COPY),
	OK("A003 UID COPY 1:* MEETING\r\n", IMAP_CMD_COPY),
	OK("a MOVE 1:* Trash\r\n", IMAP_CMD_MOVE),
	OK("a UID MOVE 42 \"Deleted Items\"\r\n", IMAP_CMD_MOVE),
	OK("A003 COPY 4294967295 x\r\n", IMAP_CMD_COPY),
	BAD("A003 COPY 4294967296 x\r\n"),
	BAD("A003 COPY 0 x\r\n"),
	BAD("A003 COPY 01 x\r\n"),
	BAD("A003 COPY x y\r\n"),
	BAD("A003 COPY 1\r\n"),
	BAD("A003 COPY 1 \r\n"),
	/* RFC 2971 */
	OK("a023 ID (\"name\" \"sodr\" \"version\" \"19.34\")\r\n", IMAP_CMD_ID),
	OK("a023 ID NIL\r\n", IMAP_CMD_ID),
	OK("a023 ID ()\r\n", IMAP_CMD_ID),
	OK("a023 ID (\"x\" NIL)\r\n", IMAP_CMD_ID),
	BAD("a023 ID (\"x\")\r\n"),
	BAD("a023 ID (x y)\r\n"),
	BAD("a023 ID (NIL \"y\")\r\n"),
	BAD("a023 ID\r\n"),
	BAD("a023 ID (\"0123456789012345678901234567890\" NIL)\r\n"),
	/* UID prefix */
	OK("a UID FETCH 1:* FLAGS\r\n", IMAP_CMD_FETCH),
	OK("a uid search all\r\n", IMAP_CMD_SEARCH),
	OK("a UID STORE 1 +FLAGS (x)\r\n", IMAP_CMD_STORE),
	ERR("a UID SELECT INBOX\r\n", IMAP_ERR_UNKNOWN),
	ERR("a UID UID FETCH 1 FLAGS\r\n", IMAP_ERR_UNKNOWN),
	BAD("a UID  FETCH 1 FLAGS\r\n"),
	/* missing SP between arguments */
	BAD("a COPY 1INBOX\r\n"),
	BAD("a STATUS x(MESSAGES)\r\n"),
	BAD("a LOGIN fred\"pw\"\r\n"),
	BAD("a LOGIN \"fred\"pw\r\n"),
	BAD("a FETCH 1(FLAGS)\r\n"),
	BAD("a STORE 1 FLAGS(\\Seen)\r\n"),
	BAD("a SEARCH ALL(SEEN)\r\n"),
	BAD("a LIST \"\"*\r\n"),
	BAD("a LOGIN {1}\r\nx{1}\r\ny\r\n"),
	/* strings */
	OK("a LOGIN \"a\\\"b\" \"c\\\\d\"\r\n", IMAP_CMD_LOGIN),
	BAD("a LOGIN \"a\\b\" x\r\n"),
	BAD("a LOGIN \"ab x\r\n"),
	BAD("a LOGIN \"\xc3\xa9\" x\r\n"),
	BAD("a LOGIN \xc3\xa9 x\r\n"),
	/* TEXT-CHAR is any CHAR but CR and LF: a tab may be quoted */
	OK("a LOGIN \"a\tb\" x\r\n", IMAP_CMD_LOGIN),
	OK("a LOGIN \"a\x01\" x\r\n", IMAP_CMD_LOGIN),
};
// clang-format on

/* Each row whole, byte by byte, and cut in two at every offset: the
 * same outcome every time. */
static void
test_imap_command_table_any_split(void **state)
{
	struct imap_parse_opts opts = { false, true };
	size_t i, cut;

	for (i = 0; i < MW_NELEM(cmd_cases); i++) {
		const struct cmd_case *c = &cmd_cases[i];

		for (cut = 0; cut <= c->len + 1; cut++) {
			struct imap_reader *r =
			    imap_reader_new(&imap_test_lim, &opts);
			struct imap_test_run run = cut <= c->len
			    ? imap_test_feed_cut(r, c->in, c->len, 0, cut)
			    : imap_test_feed(r, c->in, c->len, 1);

			if (run.ev !=
			    (c->id != IMAP_CMD_UNKNOWN ? IMAP_READ_COMMAND
			                               : IMAP_READ_ERROR))
				fail_msg("row %zu cut %zu: event %d", i, cut,
				    run.ev);
			if (c->id != IMAP_CMD_UNKNOWN)
				assert_int_equal(run.cmd->id, c->id);
			else
				assert_int_equal(run.err.code, c->code);
			imap_reader_free(&r);
		}
	}
}

static void
test_imap_command_table(void **state)
{
	size_t i;

	for (i = 0; i < MW_NELEM(cmd_cases); i++) {
		const struct cmd_case *c = &cmd_cases[i];
		struct imap_reader *r;
		struct imap_test_run run =
		    imap_test_one(&r, c->in, c->len, false);

		if (c->id != IMAP_CMD_UNKNOWN) {
			if (run.ev != IMAP_READ_COMMAND)
				fail_msg("row %zu \"%s\": error %d %s", i,
				    c->in, run.err.code, run.err.text);
			if (run.cmd->id != c->id)
				fail_msg("row %zu \"%s\": id %d", i, c->in,
				    run.cmd->id);
			assert_int_equal(run.used, c->len);
		} else {
			if (run.ev != IMAP_READ_ERROR)
				fail_msg("row %zu \"%s\": accepted (ev %d)", i,
				    c->in, run.ev);
			if (run.err.code != c->code)
				fail_msg("row %zu \"%s\": error %d %s, want %d",
				    i, c->in, run.err.code, run.err.text,
				    c->code);
		}
		imap_reader_free(&r);
	}
}

/* Parses in (one command), which must succeed. */
static const struct imap_command *
parse_ok(struct imap_reader **r, const char *in, size_t n, bool utf8)
{
	struct imap_test_run run = imap_test_one(r, in, n, utf8);

	if (run.ev != IMAP_READ_COMMAND)
		fail_msg("\"%s\": error %d %s", in, run.err.code, run.err.text);
	return run.cmd;
}

static void
test_imap_command_login_strings(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;

	c = parse_ok(&r, S("a LOGIN \"a\\\"b\" \"c\\\\d\"\r\n"), false);
	assert_slice(c->u.login.user, "a\"b");
	assert_slice(c->u.login.pass, "c\\d");
	imap_reader_free(&r);
}

static void
test_imap_command_login_literals(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;

	c = parse_ok(&r, S("a LOGIN {5}\r\nf\r\nd\xff {0}\r\n\r\n"), false);
	assert_int_equal(c->u.login.user.n, 5);
	assert_memory_equal(c->u.login.user.p, "f\r\nd\xff", 5);
	assert_int_equal(c->u.login.pass.n, 0);
	imap_reader_free(&r);
	c = parse_ok(&r, S("a LOGIN \"\" \"\"\r\n"), false);
	assert_int_equal(c->u.login.user.n, 0);
	imap_reader_free(&r);
}

/* RFC 9051 9 QUOTED-CHAR =/ UTF8-2 / UTF8-3 / UTF8-4 with UTF-8 only */
static void
test_imap_command_utf8_quoted(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;
	struct imap_test_run run;

	c = parse_ok(&r, S("a SELECT \"Entw\xc3\xbcrfe\"\r\n"), true);
	assert_slice(c->u.select.mbox.name, "Entw\xc3\xbcrfe");
	imap_reader_free(&r);
	run = imap_test_one(&r, S("a SELECT \"\xc3\"\r\n"), true);
	assert_int_equal(run.ev, IMAP_READ_ERROR);
	imap_reader_free(&r);
	run = imap_test_one(&r, S("a SELECT \"\xed\xa0\x80\"\r\n"), true);
	assert_int_equal(run.ev, IMAP_READ_ERROR);
	imap_reader_free(&r);
	/* atoms stay 7-bit even with UTF-8 */
	run = imap_test_one(&r, S("a SELECT Entw\xc3\xbcrfe\r\n"), true);
	assert_int_equal(run.ev, IMAP_READ_ERROR);
	imap_reader_free(&r);
}

static void
test_imap_command_authenticate(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;

	c = parse_ok(&r, S("a AUTHENTICATE plain dGVzdA==\r\n"), false);
	assert_slice(c->u.authenticate.mech, "plain");
	assert_true(c->u.authenticate.has_ir);
	assert_slice(c->u.authenticate.ir, "dGVzdA==");
	imap_reader_free(&r);
	c = parse_ok(&r, S("a AUTHENTICATE PLAIN =\r\n"), false);
	assert_true(c->u.authenticate.has_ir);
	assert_int_equal(c->u.authenticate.ir.n, 0);
	imap_reader_free(&r);
	c = parse_ok(&r, S("a AUTHENTICATE SCRAM-SHA-256\r\n"), false);
	assert_false(c->u.authenticate.has_ir);
	imap_reader_free(&r);
}

static void
test_imap_command_select_create(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;

	c = parse_ok(&r, S("a EXAMINE InBoX (CONDSTORE)\r\n"), false);
	assert_true(c->u.select.mbox.inbox);
	assert_true(c->u.select.condstore);
	imap_reader_free(&r);
	c = parse_ok(&r, S("a SELECT INBOXES\r\n"), false);
	assert_false(c->u.select.mbox.inbox);
	imap_reader_free(&r);
	c = parse_ok(
	    &r, S("a CREATE x (USE (\\Drafts \\Important \\sent))\r\n"), false);
	assert_int_equal(c->u.create.use, IMAP_USE_DRAFTS | IMAP_USE_SENT);
	assert_true(c->u.create.use_unknown);
	imap_reader_free(&r);
}

static void
test_imap_command_list(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;

	c = parse_ok(&r, S("a LIST \"\" %\r\n"), false);
	assert_false(c->u.list.extended);
	assert_int_equal(c->u.list.npatterns, 1);
	assert_slice(c->u.list.patterns[0], "%");
	assert_slice(c->u.list.ref.name, "");
	imap_reader_free(&r);
	c = parse_ok(&r,
	    S("a LIST (SUBSCRIBED RECURSIVEMATCH) Lists (\"a b\" "
	      "x/*) RETURN (CHILDREN STATUS (UIDNEXT SIZE))\r\n"),
	    false);
	assert_true(c->u.list.extended);
	assert_int_equal(c->u.list.select,
	    IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_RECURSIVEMATCH);
	assert_int_equal(
	    c->u.list.ret, IMAP_LIST_RET_CHILDREN | IMAP_LIST_RET_STATUS);
	assert_int_equal(
	    c->u.list.status, IMAP_STATUS_UIDNEXT | IMAP_STATUS_SIZE);
	assert_slice(c->u.list.ref.name, "Lists");
	assert_int_equal(c->u.list.npatterns, 2);
	assert_slice(c->u.list.patterns[0], "a b");
	assert_slice(c->u.list.patterns[1], "x/*");
	imap_reader_free(&r);
	c = parse_ok(&r, S("a LSUB \"\" news.*\r\n"), false);
	assert_int_equal(c->id, IMAP_CMD_LSUB);
	assert_slice(c->u.list.patterns[0], "news.*");
	imap_reader_free(&r);
}

static void
test_imap_command_status(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;

	c = parse_ok(&r, S("a STATUS {5}\r\nINBOX (UNSEEN RECENT)\r\n"), false);
	assert_true(c->u.status.mbox.inbox);
	assert_int_equal(
	    c->u.status.items, IMAP_STATUS_UNSEEN | IMAP_STATUS_RECENT);
	imap_reader_free(&r);
}

static void
test_imap_command_append(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;
	const struct imap_append_msg *m;

	c = parse_ok(&r,
	    S("A003 APPEND saved (\\Seen $Forwarded) "
	      "\" 7-Feb-1994 21:52:25 -0800\" {5}\r\nhello ~{3}\r\na\0b\r\n"),
	    false);
	assert_slice(c->u.append.mbox.name, "saved");
	assert_int_equal(c->u.append.n, 2);
	m = &c->u.append.msgs[0];
	assert_true(m->has_flags);
	assert_int_equal(m->flags.sys, IMAP_FLAG_SEEN);
	assert_int_equal(m->flags.nkw, 1);
	assert_slice(m->flags.kw[0], "$Forwarded");
	assert_true(m->has_date);
	assert_int_equal(m->date.date.day, 7);
	assert_int_equal(m->date.date.mon, 2);
	assert_int_equal(m->date.date.year, 1994);
	assert_int_equal(m->date.hour, 21);
	assert_int_equal(m->date.min, 52);
	assert_int_equal(m->date.sec, 25);
	assert_int_equal(m->date.zone, -480);
	assert_slice(m->data, "hello");
	assert_false(m->binary);
	m = &c->u.append.msgs[1];
	assert_false(m->has_flags);
	assert_false(m->has_date);
	assert_true(m->binary);
	assert_int_equal(m->literal, 1);
	assert_int_equal(m->data.n, 3);
	assert_memory_equal(m->data.p, "a\0b", 3);
	imap_reader_free(&r);
	/* leap day, leap second */
	c = parse_ok(&r,
	    S("a APPEND x \"29-Feb-2000 23:59:60 +1400\" {0}\r\n\r\n"), false);
	assert_int_equal(c->u.append.msgs[0].date.zone, 840);
	imap_reader_free(&r);
}

static void
test_imap_command_append_bad_dates(void **state)
{
	static const char *const dates[] = { "29-Feb-1900 00:00:00 +0000",
		"32-Jan-2000 00:00:00 +0000", "00-Jan-2000 00:00:00 +0000",
		"1-Jan-2000 00:00:00 +0000", "01-Jan-2000 00:60:00 +0000",
		"01-Jan-2000 00:00:61 +0000", "01-Jan-2000 0:00:00 +0000",
		"01-Jan-2000 00:00:00 +000", "01-Jan-2000 00:00:00  +0000",
		"01-Jan-2000 00:00:00 +0000 ", "01-Jan-2000",
		"01-JanX-2000 00:00:00 +0000" };
	char in[200];
	size_t i;

	for (i = 0; i < MW_NELEM(dates); i++) {
		struct imap_reader *r;
		int n = snprintf(
		    in, sizeof(in), "a APPEND x \"%s\" {0}\r\n\r\n", dates[i]);
		struct imap_test_run run =
		    imap_test_one(&r, in, (size_t)n, false);

		if (run.ev != IMAP_READ_ERROR || run.err.code != IMAP_ERR_BAD)
			fail_msg("\"%s\": accepted", dates[i]);
		imap_reader_free(&r);
	}
}

static void
test_imap_command_store(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;

	c = parse_ok(&r,
	    S("a UID STORE 1:3,5 (UNCHANGEDSINCE 320162338) "
	      "-FLAGS.SILENT (\\Deleted \\draft $MDNSent)\r\n"),
	    false);
	assert_true(c->uid);
	assert_int_equal(c->u.msg.set.n, 2);
	assert_int_equal(c->u.msg.store.op, IMAP_STORE_REMOVE);
	assert_true(c->u.msg.store.silent);
	assert_true(c->u.msg.store.has_unchangedsince);
	assert_true(c->u.msg.store.unchangedsince == 320162338);
	assert_int_equal(
	    c->u.msg.store.flags.sys, IMAP_FLAG_DELETED | IMAP_FLAG_DRAFT);
	assert_int_equal(c->u.msg.store.flags.nkw, 1);
	assert_slice(c->u.msg.store.flags.kw[0], "$MDNSent");
	imap_reader_free(&r);
	c = parse_ok(&r, S("a STORE * FLAGS \\Seen\r\n"), false);
	assert_int_equal(c->u.msg.store.op, IMAP_STORE_REPLACE);
	assert_false(c->u.msg.store.silent);
	assert_true(c->u.msg.set.star);
	assert_int_equal(c->u.msg.store.flags.sys, IMAP_FLAG_SEEN);
	imap_reader_free(&r);
}

static void
test_imap_command_copy_move_expunge(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;

	c = parse_ok(&r, S("a UID MOVE 5:3,$ Archive\r\n"), false);
	assert_int_equal(c->id, IMAP_CMD_MOVE);
	assert_int_equal(c->u.msg.set.n, 1);
	assert_int_equal(c->u.msg.set.r[0].lo, 3);
	assert_int_equal(c->u.msg.set.r[0].hi, 5);
	assert_true(c->u.msg.set.saved);
	assert_slice(c->u.msg.dest.name, "Archive");
	imap_reader_free(&r);
	c = parse_ok(&r, S("a UID EXPUNGE 3000:3002\r\n"), false);
	assert_true(c->uid);
	assert_int_equal(c->u.msg.set.r[0].lo, 3000);
	imap_reader_free(&r);
}

static void
test_imap_command_id(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;

	c = parse_ok(&r, S("a ID (\"name\" \"sodr\" \"os\" NIL)\r\n"), false);
	assert_int_equal(c->u.id.n, 2);
	assert_slice(c->u.id.fields[0], "name");
	assert_slice(c->u.id.values[0], "sodr");
	assert_null(c->u.id.values[1].p);
	imap_reader_free(&r);
	c = parse_ok(&r, S("a ID NIL\r\n"), false);
	assert_int_equal(c->u.id.n, 0);
	imap_reader_free(&r);
}

/* RFC 2971 3.3: 30 pairs at most */
static void
test_imap_command_id_limit(void **state)
{
	struct imap_reader *r;
	struct imap_test_run run;
	struct buf in;
	int k, i;

	for (k = 29; k <= 31; k++) {
		buf_init(&in, 1 << 16);
		assert_int_equal(buf_append_str(&in, "a ID ("), 0);
		for (i = 0; i < k; i++)
			assert_int_equal(
			    buf_printf(&in, "%s\"f%d\" NIL", i ? " " : "", i),
			    0);
		assert_int_equal(buf_append_str(&in, ")\r\n"), 0);
		run = imap_test_one_lim(
		    &r, &imap_test_lim_long, in.data, in.len, false);
		if (k <= 30)
			assert_int_equal(run.ev, IMAP_READ_COMMAND);
		else
			assert_int_equal(run.ev, IMAP_READ_ERROR);
		imap_reader_free(&r);
		buf_free(&in);
	}
}

/* args_max 50: STORE flags at 49, 50 and 51 arguments (the sequence set
 * counts one) */
static void
test_imap_command_args_limit(void **state)
{
	struct imap_reader *r;
	struct imap_test_run run;
	struct buf in;
	int k, i;

	for (k = 48; k <= 50; k++) {
		buf_init(&in, 1 << 16);
		assert_int_equal(buf_append_str(&in, "a STORE 1 FLAGS ("), 0);
		for (i = 0; i < k; i++)
			assert_int_equal(
			    buf_printf(&in, "%sk%d", i ? " " : "", i), 0);
		assert_int_equal(buf_append_str(&in, ")\r\n"), 0);
		run = imap_test_one_lim(
		    &r, &imap_test_lim_long, in.data, in.len, false);
		if (k <= 49)
			assert_int_equal(run.ev, IMAP_READ_COMMAND);
		else {
			assert_int_equal(run.ev, IMAP_READ_ERROR);
			assert_int_equal(run.err.code, IMAP_ERR_LIMIT);
		}
		imap_reader_free(&r);
		buf_free(&in);
	}
}

/* A long UID set counts once: its ranges are bounded by the line only
 * (Thunderbird and mbsync send sets of many ranges). */
static void
test_imap_command_long_seqset(void **state)
{
	struct imap_reader *r;
	struct imap_test_run run;
	struct buf in;
	int i;

	buf_init(&in, 1 << 16);
	assert_int_equal(buf_append_str(&in, "a UID STORE 1"), 0);
	for (i = 1; i < 200; i++)
		assert_int_equal(buf_printf(&in, ",%d", 2 * i + 1), 0);
	assert_int_equal(buf_append_str(&in, " +FLAGS (\\Deleted)\r\n"), 0);
	run =
	    imap_test_one_lim(&r, &imap_test_lim_long, in.data, in.len, false);
	assert_int_equal(run.ev, IMAP_READ_COMMAND);
	assert_int_equal(run.cmd->u.msg.set.n, 200);
	assert_int_equal(run.cmd->u.msg.set.r[199].lo, 399);
	imap_reader_free(&r);
	buf_free(&in);
}

/* RFC 9051 9: number < 2^32 (sequence numbers), number64 < 2^63 */
static void
test_imap_command_numbers(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;
	struct imap_test_run run;

	c = parse_ok(&r,
	    S("a STORE 1 (UNCHANGEDSINCE 9223372036854775807) "
	      "FLAGS ()\r\n"),
	    false);
	assert_true(c->u.msg.store.unchangedsince == INT64_MAX);
	imap_reader_free(&r);
	run = imap_test_one(&r,
	    S("a STORE 1 (UNCHANGEDSINCE "
	      "18446744073709551616) FLAGS ()\r\n"),
	    false);
	assert_int_equal(run.ev, IMAP_READ_ERROR);
	imap_reader_free(&r);
	run = imap_test_one(
	    &r, S("a FETCH 1 BODY[]<0.9223372036854775808>\r\n"), false);
	assert_int_equal(run.ev, IMAP_READ_ERROR);
	imap_reader_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_command_table),
		cmocka_unit_test(test_imap_command_table_any_split),
		cmocka_unit_test(test_imap_command_login_strings),
		cmocka_unit_test(test_imap_command_login_literals),
		cmocka_unit_test(test_imap_command_utf8_quoted),
		cmocka_unit_test(test_imap_command_authenticate),
		cmocka_unit_test(test_imap_command_select_create),
		cmocka_unit_test(test_imap_command_list),
		cmocka_unit_test(test_imap_command_status),
		cmocka_unit_test(test_imap_command_append),
		cmocka_unit_test(test_imap_command_append_bad_dates),
		cmocka_unit_test(test_imap_command_store),
		cmocka_unit_test(test_imap_command_copy_move_expunge),
		cmocka_unit_test(test_imap_command_id),
		cmocka_unit_test(test_imap_command_id_limit),
		cmocka_unit_test(test_imap_command_args_limit),
		cmocka_unit_test(test_imap_command_long_seqset),
		cmocka_unit_test(test_imap_command_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
