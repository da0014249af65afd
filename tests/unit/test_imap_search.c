/*
 * Unit tests for the SEARCH program parser (imap_search_parse.c): every key
 * of RFC 9051 6.4.4 and RFC 3501 6.4.4 with its argument, the RFCs'
 * examples, CHARSET (UTF-8 and US-ASCII, others BADCHARSET), ESEARCH
 * RETURN options (RFC 4731) and SAVE/"$" (RFC 5182), syntax errors, and the
 * node and depth limits at max-1 / max / max+1. Trees are compared as text.
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

static const char *const key_names[] = {
	[IMAP_SK_AND] = "AND",
	[IMAP_SK_OR] = "OR",
	[IMAP_SK_NOT] = "NOT",
	[IMAP_SK_SEQSET] = "SEQ",
	[IMAP_SK_UID] = "UID",
	[IMAP_SK_ALL] = "ALL",
	[IMAP_SK_ANSWERED] = "ANSWERED",
	[IMAP_SK_DELETED] = "DELETED",
	[IMAP_SK_DRAFT] = "DRAFT",
	[IMAP_SK_FLAGGED] = "FLAGGED",
	[IMAP_SK_SEEN] = "SEEN",
	[IMAP_SK_UNANSWERED] = "UNANSWERED",
	[IMAP_SK_UNDELETED] = "UNDELETED",
	[IMAP_SK_UNDRAFT] = "UNDRAFT",
	[IMAP_SK_UNFLAGGED] = "UNFLAGGED",
	[IMAP_SK_UNSEEN] = "UNSEEN",
	[IMAP_SK_NEW] = "NEW",
	[IMAP_SK_OLD] = "OLD",
	[IMAP_SK_RECENT] = "RECENT",
	[IMAP_SK_KEYWORD] = "KEYWORD",
	[IMAP_SK_UNKEYWORD] = "UNKEYWORD",
	[IMAP_SK_BEFORE] = "BEFORE",
	[IMAP_SK_ON] = "ON",
	[IMAP_SK_SINCE] = "SINCE",
	[IMAP_SK_SENTBEFORE] = "SENTBEFORE",
	[IMAP_SK_SENTON] = "SENTON",
	[IMAP_SK_SENTSINCE] = "SENTSINCE",
	[IMAP_SK_LARGER] = "LARGER",
	[IMAP_SK_SMALLER] = "SMALLER",
	[IMAP_SK_BCC] = "BCC",
	[IMAP_SK_CC] = "CC",
	[IMAP_SK_FROM] = "FROM",
	[IMAP_SK_SUBJECT] = "SUBJECT",
	[IMAP_SK_TO] = "TO",
	[IMAP_SK_BODY] = "BODY",
	[IMAP_SK_TEXT] = "TEXT",
	[IMAP_SK_HEADER] = "HEADER",
};

static void
dump(const struct imap_search_node *n, struct buf *out)
{
	const struct imap_search_node *c;
	size_t i;
	int rc = buf_append_str(out, key_names[n->key]);

	switch (n->key) {
	case IMAP_SK_AND:
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
		rc |= buf_append_char(out, '(');
		for (c = n->child; c != NULL; c = c->next) {
			dump(c, out);
			if (c->next != NULL)
				rc |= buf_append_char(out, ' ');
		}
		rc |= buf_append_char(out, ')');
		break;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UID:
		for (i = 0; i < n->u.set.n; i++)
			rc |= buf_printf(out, "%s%u:%u", i ? "," : ":",
			    (unsigned)n->u.set.r[i].lo,
			    (unsigned)n->u.set.r[i].hi);
		if (n->u.set.saved)
			rc |= buf_append_str(out, ":$");
		break;
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		rc |= buf_printf(out, ":%d-%d-%d", n->u.date.year,
		    n->u.date.mon, n->u.date.day);
		break;
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
		rc |= buf_printf(out, ":%llu", (unsigned long long)n->u.size);
		break;
	case IMAP_SK_HEADER:
		rc |= buf_printf(out, ":%.*s=%.*s", (int)n->u.header.field.n,
		    n->u.header.field.p, (int)n->u.header.value.n,
		    n->u.header.value.p);
		break;
	case IMAP_SK_KEYWORD:
	case IMAP_SK_UNKEYWORD:
	case IMAP_SK_BCC:
	case IMAP_SK_CC:
	case IMAP_SK_FROM:
	case IMAP_SK_SUBJECT:
	case IMAP_SK_TO:
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		rc |= buf_printf(out, ":%.*s", (int)n->u.str.n, n->u.str.p);
		break;
	default:
		break;
	}
	assert_int_equal(rc, 0);
}

struct search_case {
	const char *in; /* after "a SEARCH " */
	size_t len;
	const char *want; /* the tree, or NULL for an error */
	enum imap_err_code code;
};

#define T(s, w)                                                                \
	{                                                                      \
		S(s), w, IMAP_ERR_NONE                                         \
	}
#define E(s, c)                                                                \
	{                                                                      \
		S(s), NULL, c                                                  \
	}

// clang-format off
static const struct search_case search_cases[] = {
	/* RFC 9051 6.4.4 and RFC 3501 6.4.4 examples */
	T("FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"",
	  "AND(FLAGGED SINCE:1994-2-1 NOT(FROM:Smith))"),
	T("TEXT \"string not in mailbox\"", "AND(TEXT:string not in mailbox)"),
	T("CHARSET UTF-8 TEXT {4}\r\nXXXX", "AND(TEXT:XXXX)"),
	T("DELETED FROM \"SMITH\" SINCE 1-Feb-1994",
	  "AND(DELETED FROM:SMITH SINCE:1994-2-1)"),
	T("OR (FROM foo) (TO bar)", "AND(OR(AND(FROM:foo) AND(TO:bar)))"),
	T("OR FROM foo TO bar", "AND(OR(FROM:foo TO:bar))"),
	T("NOT NOT SEEN", "AND(NOT(NOT(SEEN)))"),
	/* every key */
	T("ALL ANSWERED DELETED DRAFT FLAGGED SEEN NEW OLD RECENT",
	  "AND(ALL ANSWERED DELETED DRAFT FLAGGED SEEN NEW OLD RECENT)"),
	T("UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN",
	  "AND(UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN)"),
	T("BCC a CC b FROM c SUBJECT d TO e BODY f TEXT g",
	  "AND(BCC:a CC:b FROM:c SUBJECT:d TO:e BODY:f TEXT:g)"),
	T("BEFORE 1-Feb-1994 ON 29-Feb-2000 SINCE 31-Dec-1999",
	  "AND(BEFORE:1994-2-1 ON:2000-2-29 SINCE:1999-12-31)"),
	T("SENTBEFORE \"1-Feb-1994\" SENTON 01-jan-2020 SENTSINCE 9-SEP-2001",
	  "AND(SENTBEFORE:1994-2-1 SENTON:2020-1-1 SENTSINCE:2001-9-9)"),
	T("LARGER 0 SMALLER 9223372036854775807",
	  "AND(LARGER:0 SMALLER:9223372036854775807)"),
	T("KEYWORD $Junk UNKEYWORD $Forwarded",
	  "AND(KEYWORD:$Junk UNKEYWORD:$Forwarded)"),
	T("HEADER X-Spam-Flag YES HEADER \"Message-ID\" \"\"",
	  "AND(HEADER:X-Spam-Flag=YES HEADER:Message-ID=)"),
	T("UID 10:* 1:3,5 * $", "AND(UID:10:0 SEQ:1:3,5:5 SEQ:0:0 SEQ:$)"),
	T("UID 5:3", "AND(UID:3:5)"),
	T("all", "AND(ALL)"),
	T("uNsEeN", "AND(UNSEEN)"),
	T("(SEEN (FLAGGED (DRAFT)))", "AND(AND(SEEN AND(FLAGGED AND(DRAFT))))"),
	T("CHARSET \"us-ascii\" ALL", "AND(ALL)"),
	T("FROM \"\"", "AND(FROM:)"),
	T("FROM ]", "AND(FROM:])"),
	/* errors */
	E("", IMAP_ERR_BAD),
	E(" ALL", IMAP_ERR_BAD),
	E("ALL ", IMAP_ERR_BAD),
	E("ALL  SEEN", IMAP_ERR_BAD),
	E("FOO", IMAP_ERR_BAD),
	E("SEENX", IMAP_ERR_BAD),
	E("FROM", IMAP_ERR_BAD),
	E("FROM ", IMAP_ERR_BAD),
	E("FROM a*", IMAP_ERR_BAD),
	E("BEFORE 1994-02-01", IMAP_ERR_BAD),
	E("BEFORE 1-Feb-94", IMAP_ERR_BAD),
	E("BEFORE 123-Feb-1994", IMAP_ERR_BAD),
	E("BEFORE 30-Feb-1994", IMAP_ERR_BAD),
	E("BEFORE \"1-Feb-1994", IMAP_ERR_BAD),
	E("BEFORE {10}\r\n1-Feb-1994", IMAP_ERR_BAD),
	E("LARGER -1", IMAP_ERR_BAD),
	E("LARGER", IMAP_ERR_BAD),
	E("LARGER 9223372036854775808", IMAP_ERR_BAD),
	E("LARGER 1k", IMAP_ERR_BAD),
	E("OR ALL", IMAP_ERR_BAD),
	E("OR", IMAP_ERR_BAD),
	E("NOT", IMAP_ERR_BAD),
	E("NOT ", IMAP_ERR_BAD),
	E("()", IMAP_ERR_BAD),
	E("(ALL", IMAP_ERR_BAD),
	E("ALL)", IMAP_ERR_BAD),
	E("( ALL)", IMAP_ERR_BAD),
	E("(ALL )", IMAP_ERR_BAD),
	E("KEYWORD \\Seen", IMAP_ERR_BAD),
	E("KEYWORD \"kw\"", IMAP_ERR_BAD),
	E("HEADER X-Foo", IMAP_ERR_BAD),
	E("UID", IMAP_ERR_BAD),
	E("UID ALL", IMAP_ERR_BAD),
	E("0", IMAP_ERR_BAD),
	E("1:", IMAP_ERR_BAD),
	E("$,1", IMAP_ERR_BAD),
	E("4294967296", IMAP_ERR_BAD),
	E("CHARSET UTF-8", IMAP_ERR_BAD),
	E("CHARSET UTF-8 ", IMAP_ERR_BAD),
	E("CHARSET ISO-8859-1 ALL", IMAP_ERR_BADCHARSET),
	E("CHARSET \"KOI8-R\" ALL", IMAP_ERR_BADCHARSET),
	E("CHARSET UTF8 ALL", IMAP_ERR_BADCHARSET),
	E("RETURN (FOO) ALL", IMAP_ERR_BAD),
	E("RETURN ALL", IMAP_ERR_BAD),
	E("RETURN (MIN)", IMAP_ERR_BAD),
	E("RETURN (MIN )ALL", IMAP_ERR_BAD),
	E("ALL RETURN (MIN)", IMAP_ERR_BAD),
	E("CHARSET UTF-8 RETURN (MIN) ALL", IMAP_ERR_BAD),
	E("SUBJECT \"\xc3\xa9\"", IMAP_ERR_BAD),
};
// clang-format on

static void
test_imap_search_table(void **state)
{
	char in[600];
	size_t i;
	struct buf out;

	buf_init(&out, 1 << 16);
	for (i = 0; i < MW_NELEM(search_cases); i++) {
		const struct search_case *c = &search_cases[i];
		struct imap_parse_opts opts = { false, true };
		struct imap_reader *r;
		struct imap_test_run run;
		size_t n, k;

		memcpy(in, "a SEARCH ", 9);
		memcpy(in + 9, c->in, c->len);
		memcpy(in + 9 + c->len, "\r\n", 2);
		n = 9 + c->len + 2;
		if (c->len == 0)
			n = 10, memcpy(in + 8, "\r\n", 2); /* "a SEARCH" */
		/* whole, byte by byte, and cut in the middle */
		for (k = 0; k < 3; k++) {
			r = imap_reader_new(&imap_test_lim, &opts);
			run = imap_test_feed_cut(
			    r, in, n, k == 1, k == 2 ? n / 2 : 0);
			if (c->want == NULL) {
				if (run.ev != IMAP_READ_ERROR)
					fail_msg("row %zu \"%s\": accepted", i,
					    c->in);
				if (run.err.code != c->code)
					fail_msg(
					    "row %zu \"%s\": error %d (%s), want %d",
					    i, c->in, run.err.code,
					    run.err.text, c->code);
			} else {
				if (run.ev != IMAP_READ_COMMAND)
					fail_msg(
					    "row %zu \"%s\": error %d (%s)", i,
					    c->in, run.err.code, run.err.text);
				buf_reset(&out);
				dump(run.cmd->u.search.root, &out);
				if (strcmp(buf_cstr(&out), c->want) != 0)
					fail_msg(
					    "row %zu \"%s\": got %s, want %s",
					    i, c->in, buf_cstr(&out), c->want);
			}
			imap_reader_free(&r);
		}
	}
	buf_free(&out);
}

static const struct imap_command *
search_ok(struct imap_reader **r, const char *in, size_t n)
{
	struct imap_test_run run =
	    imap_test_one_lim(r, &imap_test_lim_long, in, n, false);

	if (run.ev != IMAP_READ_COMMAND)
		fail_msg("\"%s\": error %d %s", in, run.err.code, run.err.text);
	return run.cmd;
}

/* RFC 4731 3 and RFC 5182 2.1 */
static void
test_imap_search_return(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;

	c = search_ok(&r, S("a SEARCH UNSEEN\r\n"));
	assert_false(c->u.search.esearch);
	assert_int_equal(c->u.search.charset, IMAP_CHARSET_DEFAULT);
	imap_reader_free(&r);
	c = search_ok(&r, S("a UID SEARCH RETURN (MIN COUNT) FLAGGED\r\n"));
	assert_true(c->uid);
	assert_true(c->u.search.esearch);
	assert_int_equal(
	    c->u.search.ret, IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_COUNT);
	imap_reader_free(&r);
	c = search_ok(&r, S("a SEARCH RETURN () ALL\r\n"));
	assert_int_equal(c->u.search.ret, IMAP_SEARCH_RET_ALL);
	imap_reader_free(&r);
	c = search_ok(&r,
	    S("a SEARCH RETURN (SAVE MAX ALL) CHARSET "
	      "UTF-8 $\r\n"));
	assert_int_equal(c->u.search.ret,
	    IMAP_SEARCH_RET_SAVE | IMAP_SEARCH_RET_MAX | IMAP_SEARCH_RET_ALL);
	assert_int_equal(c->u.search.charset, IMAP_CHARSET_UTF8);
	assert_true(c->u.search.uses_saved);
	imap_reader_free(&r);
	c = search_ok(&r, S("a SEARCH CHARSET US-ASCII UID 1,$\r\n"));
	assert_int_equal(c->u.search.charset, IMAP_CHARSET_US_ASCII);
	assert_true(c->u.search.uses_saved);
	imap_reader_free(&r);
}

/* UTF-8 search strings: in literals always, quoted with IMAP4rev2 */
static void
test_imap_search_utf8(void **state)
{
	struct imap_reader *r;
	const struct imap_command *c;
	struct imap_test_run run;

	c = search_ok(
	    &r, S("a SEARCH CHARSET UTF-8 SUBJECT {2}\r\n\xc3\xa9\r\n"));
	assert_slice(c->u.search.root->child->u.str, "\xc3\xa9");
	imap_reader_free(&r);
	run = imap_test_one(&r, S("a SEARCH SUBJECT \"\xc3\xa9\"\r\n"), true);
	assert_int_equal(run.ev, IMAP_READ_COMMAND);
	imap_reader_free(&r);
}

/* depth_max 5: groups, NOT and OR each open a level */
static void
test_imap_search_depth_limit(void **state)
{
	static const char *const ok[] = { "((((ALL))))", "(((((ALL)))))",
		"NOT NOT NOT NOT NOT ALL",
		"OR OR OR OR OR ALL ALL ALL ALL ALL ALL",
		"(NOT (OR NOT ALL ALL))" };
	static const char *const over[] = { "((((((ALL))))))",
		"NOT NOT NOT NOT NOT NOT ALL",
		"OR OR OR OR OR OR ALL ALL ALL ALL ALL ALL ALL",
		"(NOT (OR (NOT ALL) ALL))" };
	char in[300];
	size_t i;

	for (i = 0; i < MW_NELEM(ok) + MW_NELEM(over); i++) {
		bool want_ok = i < MW_NELEM(ok);
		const char *p = want_ok ? ok[i] : over[i - MW_NELEM(ok)];
		struct imap_reader *r;
		int n = snprintf(in, sizeof(in), "a SEARCH %s\r\n", p);
		struct imap_test_run run =
		    imap_test_one(&r, in, (size_t)n, false);

		if (want_ok && run.ev != IMAP_READ_COMMAND)
			fail_msg("\"%s\": error %s", p, run.err.text);
		if (!want_ok &&
		    (run.ev != IMAP_READ_ERROR ||
		        run.err.code != IMAP_ERR_LIMIT))
			fail_msg("\"%s\": not refused", p);
		imap_reader_free(&r);
	}
}

/* args_max 50: the root and each key are nodes: 48, 49 keys are fine,
 * 50 keys (51 nodes) are too many. */
static void
test_imap_search_node_limit(void **state)
{
	struct imap_reader *r;
	struct imap_test_run run;
	struct buf in;
	int k, i;

	for (k = 48; k <= 50; k++) {
		buf_init(&in, 1 << 16);
		assert_int_equal(buf_append_str(&in, "a SEARCH"), 0);
		for (i = 0; i < k; i++)
			assert_int_equal(buf_append_str(&in, " ALL"), 0);
		assert_int_equal(buf_append_str(&in, "\r\n"), 0);
		run = imap_test_one_lim(
		    &r, &imap_test_lim_long, in.data, in.len, false);
		if (k <= 49) {
			assert_int_equal(run.ev, IMAP_READ_COMMAND);
			assert_int_equal(
			    run.cmd->u.search.nodes, (size_t)k + 1);
		} else {
			assert_int_equal(run.ev, IMAP_READ_ERROR);
			assert_int_equal(run.err.code, IMAP_ERR_LIMIT);
		}
		imap_reader_free(&r);
		buf_free(&in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_search_table),
		cmocka_unit_test(test_imap_search_return),
		cmocka_unit_test(test_imap_search_utf8),
		cmocka_unit_test(test_imap_search_depth_limit),
		cmocka_unit_test(test_imap_search_node_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
