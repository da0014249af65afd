/*
 * Unit tests for the SMTP command parser (smtp_parse.c): command split,
 * MAIL/RCPT paths and parameters (RFC 5321 4.1.2, RFC 1870, 3461, 6152,
 * 6531), EHLO/HELO and BDAT arguments, and every limit at max-1, max and
 * max+1. Each table row is one labelled case.
 */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "lib/mw.h"
#include "smtp/smtp_parse.h"

#define S(s) s, sizeof(s) - 1

static const struct smtp_parse_limits lim_rfc = { 256, 64, 255 };

static void
check_slice(const char *what, struct smtp_slice got, const char *want)
{
	size_t n = want != NULL ? strlen(want) : 0;

	if (got.n != n || (n > 0 && memcmp(got.p, want, n) != 0))
		fail_msg("%s: got \"%.*s\", want \"%s\"", what, (int)got.n,
		    got.p != NULL ? got.p : "", want != NULL ? want : "");
}

/* Checks a -1 result's reply; want_detail NULL means no detail. */
static void
check_err(const char *name, const struct smtp_parse_err *err, int code,
    const char *enh, const char *text, const char *want_detail)
{
	if (err->code != code || strcmp(err->enh, enh) != 0 ||
	    strcmp(err->text, text) != 0)
		fail_msg("%s: got %d %s %s, want %d %s %s", name, err->code,
		    err->enh, err->text, code, enh, text);
	check_slice(name, err->detail, want_detail);
}

struct cmd_case {
	const char *line;
	size_t len;
	enum smtp_verb verb;
	const char *verb_text;
	const char *arg;
};

// clang-format off
static const struct cmd_case cmd_cases[] = {
	{ S("EHLO example.com"), SMTP_VERB_EHLO, "EHLO", "example.com" },
	{ S("ehlo example.com"), SMTP_VERB_EHLO, "ehlo", "example.com" },
	{ S("HeLo x"), SMTP_VERB_HELO, "HeLo", "x" },
	{ S("MAIL FROM:<a@b>"), SMTP_VERB_MAIL, "MAIL", "FROM:<a@b>" },
	{ S("MAIL  FROM:<a@b>  "), SMTP_VERB_MAIL, "MAIL", "FROM:<a@b>" },
	{ S("MAIL FROM: <a@b> SIZE=1"), SMTP_VERB_MAIL, "MAIL",
	  "FROM: <a@b> SIZE=1" },
	{ S("RCPT TO:<a@b>"), SMTP_VERB_RCPT, "RCPT", "TO:<a@b>" },
	{ S("DATA"), SMTP_VERB_DATA, "DATA", "" },
	{ S("data "), SMTP_VERB_DATA, "data", "" },
	{ S("BDAT 10 LAST"), SMTP_VERB_BDAT, "BDAT", "10 LAST" },
	{ S("RSET"), SMTP_VERB_RSET, "RSET", "" },
	{ S("NOOP anything"), SMTP_VERB_NOOP, "NOOP", "anything" },
	{ S("QUIT"), SMTP_VERB_QUIT, "QUIT", "" },
	{ S("VRFY user"), SMTP_VERB_VRFY, "VRFY", "user" },
	{ S("EXPN list"), SMTP_VERB_EXPN, "EXPN", "list" },
	{ S("HELP"), SMTP_VERB_HELP, "HELP", "" },
	{ S("StartTLS"), SMTP_VERB_STARTTLS, "StartTLS", "" },
	{ S("AUTH PLAIN dGVzdA=="), SMTP_VERB_AUTH, "AUTH", "PLAIN dGVzdA==" },
	{ S("FOO bar"), SMTP_VERB_UNKNOWN, "FOO", "bar" },
	{ S(""), SMTP_VERB_UNKNOWN, "", "" },
	{ S(" MAIL FROM:<a@b>"), SMTP_VERB_UNKNOWN, "", "MAIL FROM:<a@b>" },
	{ S("MAILX"), SMTP_VERB_UNKNOWN, "MAILX", "" },
	{ S("MAI"), SMTP_VERB_UNKNOWN, "MAI", "" },
	{ S("MAIL\0 FROM:<a@b>"), SMTP_VERB_UNKNOWN, NULL, "FROM:<a@b>" },
	{ S("MA\tIL x"), SMTP_VERB_UNKNOWN, "MA\tIL", "x" },
	{ S("RSET\r"), SMTP_VERB_UNKNOWN, "RSET\r", "" },
	{ S("NOOP\x7f"), SMTP_VERB_UNKNOWN, "NOOP\x7f", "" },
	{ S("QUIT\xc3\xa9"), SMTP_VERB_UNKNOWN, "QUIT\xc3\xa9", "" },
	{ S("NOOP \t x \t"), SMTP_VERB_NOOP, "NOOP", "x" },
};
// clang-format on

static void
test_smtp_parse_command_table(void **state)
{
	struct smtp_cmd cmd;
	size_t i;

	for (i = 0; i < MW_NELEM(cmd_cases); i++) {
		const struct cmd_case *c = &cmd_cases[i];

		memset(&cmd, 0xa5, sizeof(cmd));
		smtp_parse_command(c->line, c->len, &cmd);
		if (cmd.verb != c->verb)
			fail_msg(
			    "row %zu: verb %d, want %d", i, cmd.verb, c->verb);
		if (c->verb_text != NULL)
			check_slice("verb", cmd.verb_text, c->verb_text);
		check_slice("arg", cmd.arg, c->arg);
		/* slices point into the line */
		assert_true(cmd.verb_text.p == c->line);
		assert_true(cmd.arg.p >= c->line &&
		    cmd.arg.p + cmd.arg.n <= c->line + c->len);
	}
}

/* A NUL anywhere in the verb makes it unknown, even after a known one. */
static void
test_smtp_parse_command_nul_in_verb_is_unknown(void **state)
{
	static const char line[] = "DATA";
	char buf[8];
	struct smtp_cmd cmd;
	size_t i;

	for (i = 0; i <= 4; i++) {
		memcpy(buf, line, i);
		buf[i] = '\0';
		memcpy(buf + i + 1, line + i, 4 - i);
		smtp_parse_command(buf, 5, &cmd);
		assert_int_equal(cmd.verb, SMTP_VERB_UNKNOWN);
	}
}

#define P_NULL 1
#define P_PM   2
#define P_UTF8 4

struct path_case {
	const char *name;
	const char *arg;
	size_t n;
	int code; /* 0: accepted */
	const char *enh, *text, *detail;
	const char *local, *domain;
	int flags;
};

#define OK(name, arg, local, domain, flags)                                    \
	{                                                                      \
		name, S(arg), 0, NULL, NULL, NULL, local, domain, flags        \
	}
#define ERR(name, arg, code, enh, text)                                        \
	{                                                                      \
		name, S(arg), code, enh, text, NULL, NULL, NULL, 0             \
	}
#define ERRD(name, arg, code, enh, text, detail)                               \
	{                                                                      \
		name, S(arg), code, enh, text, detail, NULL, NULL, 0           \
	}

#define MSYN "Syntax: MAIL FROM:<address>"
#define MBAD "Bad sender address syntax"
#define RSYN "Syntax: RCPT TO:<address>"
#define RBAD "Bad recipient address syntax"
#define PSYN "Syntax error in parameters"

// clang-format off
static const struct path_case mail_cases[] = {
	OK("plain", "FROM:<a@b.example>", "a", "b.example", 0),
	OK("lower case FROM", "from:<a@b>", "a", "b", 0),
	OK("space after colon", "FROM: <a@b>", "a", "b", 0),
	OK("spaces after colon", "FROM:   <a@b>", "a", "b", 0),
	OK("null sender", "FROM:<>", NULL, NULL, P_NULL),
	OK("null sender with SIZE", "FROM:<> SIZE=100", NULL, NULL, P_NULL),
	OK("trailing spaces", "FROM:<a@b>   ", "a", "b", 0),
	OK("source route", "FROM:<@r1.example,@r2.example:a@b>", "a", "b", 0),
	OK("one-hop source route", "FROM:<@r1:a@b>", "a", "b", 0),
	OK("quoted local", "FROM:<\"john doe\"@b>", "\"john doe\"", "b", 0),
	OK("quoted with >", "FROM:<\"a>b\"@c>", "\"a>b\"", "c", 0),
	OK("quoted with @", "FROM:<\"a@b\"@c>", "\"a@b\"", "c", 0),
	OK("quoted pair", "FROM:<\"a\\\"b\"@c>", "\"a\\\"b\"", "c", 0),
	OK("empty quoted", "FROM:<\"\"@c>", "\"\"", "c", 0),
	OK("dots", "FROM:<a.b.c@d>", "a.b.c", "d", 0),
	OK("all atext", "FROM:<!#$%&'*+-/=?^_`{|}~@b>", "!#$%&'*+-/=?^_`{|}~",
	   "b", 0),
	OK("IPv4 literal", "FROM:<a@[192.0.2.1]>", "a", "[192.0.2.1]", 0),
	OK("IPv6 literal", "FROM:<a@[IPv6:2001:db8::1]>", "a",
	   "[IPv6:2001:db8::1]", 0),
	OK("IPv6 tag case", "FROM:<a@[ipv6:::1]>", "a", "[ipv6:::1]", 0),
	OK("IPv4-mapped IPv6", "FROM:<a@[IPv6:::ffff:192.0.2.1]>", "a",
	   "[IPv6:::ffff:192.0.2.1]", 0),
	OK("hyphen inside", "FROM:<a@b-c.d-e>", "a", "b-c.d-e", 0),
	OK("A-label", "FROM:<a@xn--bcher-kva.example>", "a",
	   "xn--bcher-kva.example", 0),
	OK("numeric labels", "FROM:<a@1.2.3.4>", "a", "1.2.3.4", 0),
	OK("UTF-8 local", "FROM:<\xc3\xa9@b>", "\xc3\xa9", "b", P_UTF8),
	OK("UTF-8 domain", "FROM:<a@b\xc3\xbc" "cher.example>", "a",
	   "b\xc3\xbc" "cher.example", P_UTF8),
	OK("UTF-8 quoted", "FROM:<\"\xe2\x82\xac x\"@b>", "\"\xe2\x82\xac x\"",
	   "b", P_UTF8),
	OK("4-byte UTF-8", "FROM:<\xf0\x9f\x98\x80@b>", "\xf0\x9f\x98\x80", "b",
	   P_UTF8),
	OK("63-octet label", "FROM:<a@"
	   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b>",
	   "a",
	   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
	   0),
	ERR("empty", "", 501, "5.5.4", MSYN),
	ERR("FROM alone", "FROM", 501, "5.5.4", MSYN),
	ERR("colon alone", "FROM:", 501, "5.5.4", MSYN),
	ERR("no brackets", "FROM:a@b", 501, "5.5.4", MSYN),
	ERR("no closing bracket", "FROM:<a@b", 501, "5.5.4", MSYN),
	ERR("TO instead of FROM", "TO:<a@b>", 501, "5.5.4", MSYN),
	ERR("space before colon", "FROM :<a@b>", 501, "5.5.4", MSYN),
	ERR("no colon", "FROM <a@b>", 501, "5.5.4", MSYN),
	ERR("junk after path", "FROM:<a@b>x", 501, "5.5.4", MSYN),
	ERR("param without space", "FROM:<a@b>SIZE=1", 501, "5.5.4", MSYN),
	ERR("tab after path", "FROM:<a@b>\tSIZE=1", 501, "5.5.4", MSYN),
	ERR("unterminated quote", "FROM:<\"a@b>", 501, "5.5.4", MSYN),
	ERR("no domain", "FROM:<a>", 501, "5.1.7", MBAD),
	ERR("Postmaster needs a domain in MAIL", "FROM:<Postmaster>", 501,
	    "5.1.7", MBAD),
	ERR("trailing dot", "FROM:<a@b.example.>", 501, "5.1.7", MBAD),
	ERR("empty domain", "FROM:<a@>", 501, "5.1.7", MBAD),
	ERR("empty local", "FROM:<@b>", 501, "5.1.7", MBAD),
	ERR("leading dot", "FROM:<.a@b>", 501, "5.1.7", MBAD),
	ERR("trailing local dot", "FROM:<a.@b>", 501, "5.1.7", MBAD),
	ERR("double dot", "FROM:<a..b@c>", 501, "5.1.7", MBAD),
	ERR("space in local", "FROM:<a b@c>", 501, "5.1.7", MBAD),
	ERR("space in brackets", "FROM:< a@b>", 501, "5.1.7", MBAD),
	ERR("space before >", "FROM:<a@b >", 501, "5.1.7", MBAD),
	ERR("two @", "FROM:<a@b@c>", 501, "5.1.7", MBAD),
	ERR("leading hyphen", "FROM:<a@-b.c>", 501, "5.1.7", MBAD),
	ERR("trailing hyphen", "FROM:<a@b-.c>", 501, "5.1.7", MBAD),
	ERR("empty label", "FROM:<a@b..c>", 501, "5.1.7", MBAD),
	ERR("leading dot domain", "FROM:<a@.b>", 501, "5.1.7", MBAD),
	ERR("underscore", "FROM:<a@b_c.d>", 501, "5.1.7", MBAD),
	ERR("64-octet label", "FROM:<a@"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b>",
	    501, "5.1.7", MBAD),
	ERR("short IPv4", "FROM:<a@[1.2.3]>", 501, "5.1.7", MBAD),
	ERR("big IPv4", "FROM:<a@[1.2.3.256]>", 501, "5.1.7", MBAD),
	ERR("bad IPv6", "FROM:<a@[IPv6:zz::1]>", 501, "5.1.7", MBAD),
	ERR("IPv6 without tag", "FROM:<a@[2001:db8::1]>", 501, "5.1.7", MBAD),
	ERR("IPv4 with IPv6 tag", "FROM:<a@[IPv6:1.2.3.4]>", 501, "5.1.7",
	    MBAD),
	ERR("general literal", "FROM:<a@[x400:foo]>", 501, "5.1.7", MBAD),
	ERR("empty literal", "FROM:<a@[]>", 501, "5.1.7", MBAD),
	ERR("unclosed literal", "FROM:<a@[1.2.3.4>", 501, "5.1.7", MBAD),
	ERR("quote then text", "FROM:<\"a\"b@c>", 501, "5.1.7", MBAD),
	ERR("text then quote", "FROM:<a\"b\"@c>", 501, "5.1.7", MBAD),
	ERR("control in local", "FROM:<a\x01@b>", 501, "5.1.7", MBAD),
	ERR("NUL in local", "FROM:<a\0@b>", 501, "5.1.7", MBAD),
	ERR("NUL in domain", "FROM:<a@b\0c>", 501, "5.1.7", MBAD),
	ERR("DEL in quoted", "FROM:<\"a\x7f\"@b>", 501, "5.1.7", MBAD),
	ERR("control in quoted pair", "FROM:<\"a\\\x01\"@b>", 501, "5.1.7",
	    MBAD),
	ERR("bad UTF-8", "FROM:<\xff@b>", 501, "5.1.7", MBAD),
	ERR("lone continuation", "FROM:<\x80@b>", 501, "5.1.7", MBAD),
	ERR("overlong UTF-8", "FROM:<\xc0\xaf@b>", 501, "5.1.7", MBAD),
	ERR("surrogate", "FROM:<\xed\xa0\x80@b>", 501, "5.1.7", MBAD),
	ERR("past U+10FFFF", "FROM:<\xf4\x90\x80\x80@b>", 501, "5.1.7", MBAD),
	ERR("truncated UTF-8", "FROM:<a@b\xc3>", 501, "5.1.7", MBAD),
	ERR("UTF-8 in literal", "FROM:<a@[\xc3\xa9]>", 501, "5.1.7", MBAD),
	ERR("empty source route", "FROM:<@r1:>", 501, "5.1.7", MBAD),
	ERR("literal in source route", "FROM:<@[1.2.3.4]:a@b>", 501, "5.1.7",
	    MBAD),
	ERR("source route without colon", "FROM:<@r1,@r2>", 501, "5.1.7",
	    MBAD),
	ERR("source route empty hop", "FROM:<@r1,:a@b>", 501, "5.1.7", MBAD),
	ERR("second path", "FROM:<a@b> <c@d>", 501, "5.5.4", PSYN),
};

static const struct path_case rcpt_cases[] = {
	OK("plain", "TO:<a@b>", "a", "b", 0),
	OK("lower case TO", "to: <a@b>", "a", "b", 0),
	OK("Postmaster", "TO:<Postmaster>", "Postmaster", NULL, P_PM),
	OK("postmaster", "TO:<postmaster>", "postmaster", NULL, P_PM),
	OK("POSTMASTER", "TO:<POSTMASTER>", "POSTMASTER", NULL, P_PM),
	OK("Postmaster with domain", "TO:<Postmaster@b>", "Postmaster", "b", 0),
	OK("source route", "TO:<@a,@b:c@d>", "c", "d", 0),
	OK("UTF-8", "TO:<\xc3\xa9@\xc3\xa9.example>", "\xc3\xa9",
	   "\xc3\xa9.example", P_UTF8),
	ERR("null path", "TO:<>", 501, "5.1.3", RBAD),
	ERR("no brackets", "TO:a@b", 501, "5.5.4", RSYN),
	ERR("FROM instead of TO", "FROM:<a@b>", 501, "5.5.4", RSYN),
	ERR("empty", "", 501, "5.5.4", RSYN),
	ERR("quoted Postmaster", "TO:<\"Postmaster\">", 501, "5.1.3", RBAD),
	ERR("other local without domain", "TO:<abuse>", 501, "5.1.3", RBAD),
	ERR("Postmaster via source route", "TO:<@r:Postmaster>", 501, "5.1.3",
	    RBAD),
	ERR("trailing dot", "TO:<a@b.>", 501, "5.1.3", RBAD),
	ERR("Postmasters", "TO:<Postmasters>", 501, "5.1.3", RBAD),
	ERR("junk after path", "TO:<a@b>junk", 501, "5.5.4", RSYN),
};
// clang-format on

static void
check_path(const struct path_case *c, int r, const struct smtp_path *p,
    const struct smtp_parse_err *err)
{
	if (c->code == 0) {
		if (r != 0)
			fail_msg("%s: rejected: %d %s %s", c->name, err->code,
			    err->enh, err->text);
		assert_int_equal(p->null, (c->flags & P_NULL) != 0);
		assert_int_equal(p->postmaster, (c->flags & P_PM) != 0);
		assert_int_equal(p->utf8, (c->flags & P_UTF8) != 0);
		check_slice(c->name, p->local, c->local);
		check_slice(c->name, p->domain, c->domain);
		return;
	}
	if (r != -1)
		fail_msg("%s: accepted", c->name);
	check_err(c->name, err, c->code, c->enh, c->text, c->detail);
}

/* Both tables: MAIL rows through smtp_parse_mail, RCPT rows through
 * smtp_parse_rcpt. */
static void
test_smtp_parse_mail_rcpt_path_tables(void **state)
{
	struct smtp_mail_params mp;
	struct smtp_rcpt_params rp;
	struct smtp_parse_err err;
	struct smtp_path p;
	size_t i;

	for (i = 0; i < MW_NELEM(mail_cases); i++)
		check_path(&mail_cases[i],
		    smtp_parse_mail(mail_cases[i].arg, mail_cases[i].n,
			&lim_rfc, &p, &mp, &err),
		    &p, &err);
	for (i = 0; i < MW_NELEM(rcpt_cases); i++)
		check_path(&rcpt_cases[i],
		    smtp_parse_rcpt(rcpt_cases[i].arg, rcpt_cases[i].n,
			&lim_rfc, &p, &rp, &err),
		    &p, &err);
}

/* The path must not be read past n: the same bytes followed by more
 * text in the buffer parse the same. */
static void
test_smtp_parse_mail_respects_length(void **state)
{
	static const char arg[] = "FROM:<a@b> SIZE=10>garbage";
	struct smtp_mail_params mp;
	struct smtp_parse_err err;
	struct smtp_path p;

	assert_int_equal(smtp_parse_mail(arg, 18, &lim_rfc, &p, &mp, &err), 0);
	assert_true(mp.has_size);
	assert_int_equal(mp.size, 10);
	assert_int_equal(smtp_parse_mail(arg, 9, &lim_rfc, &p, &mp, &err), -1);
	check_err("cut", &err, 501, "5.5.4", MSYN, NULL);
}

struct mparam_case {
	const char *name;
	const char *arg;
	int code; /* 0: accepted */
	const char *enh, *text, *detail;
	bool has_size;
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
	const char *ret, *envid, *auth;
};

#define MOK(name, arg, has_size, size, body, utf8, ret, envid, auth)           \
	{                                                                      \
		name, arg, 0, NULL, NULL, NULL, has_size, size, body, utf8,    \
		    ret, envid, auth                                           \
	}
#define MERR(name, arg, code, text, detail)                                    \
	{                                                                      \
		name, arg, code, "5.5.4", text, detail, false, 0,              \
		    SMTP_BODY_7BIT, false, NULL, NULL, NULL                    \
	}

#define E100                                                                   \
	"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
#define KW64 "X234567890123456789012345678901234567890123456789012345678901234"

// clang-format off
static const struct mparam_case mparam_cases[] = {
	MOK("no params", "FROM:<a@b>", false, 0, SMTP_BODY_7BIT, false,
	    NULL, NULL, NULL),
	MOK("SIZE", "FROM:<a@b> SIZE=12345", true, 12345, SMTP_BODY_7BIT,
	    false, NULL, NULL, NULL),
	MOK("SIZE=0", "FROM:<a@b> size=0", true, 0, SMTP_BODY_7BIT, false,
	    NULL, NULL, NULL),
	MOK("SIZE max", "FROM:<a@b> SIZE=18446744073709551615", true,
	    UINT64_MAX, SMTP_BODY_7BIT, false, NULL, NULL, NULL),
	MOK("SIZE past 64 bits saturates", "FROM:<a@b> SIZE=18446744073709551616",
	    true, UINT64_MAX, SMTP_BODY_7BIT, false, NULL, NULL, NULL),
	MOK("SIZE 20 digits", "FROM:<a@b> SIZE=99999999999999999999", true,
	    UINT64_MAX, SMTP_BODY_7BIT, false, NULL, NULL, NULL),
	MOK("SIZE leading zeros", "FROM:<a@b> SIZE=00000000000000000001", true,
	    1, SMTP_BODY_7BIT, false, NULL, NULL, NULL),
	MOK("BODY=8BITMIME", "FROM:<a@b> BODY=8BITMIME", false, 0,
	    SMTP_BODY_8BITMIME, false, NULL, NULL, NULL),
	MOK("body=binarymime", "FROM:<a@b> body=binarymime", false, 0,
	    SMTP_BODY_BINARYMIME, false, NULL, NULL, NULL),
	MOK("BODY=7BIT", "FROM:<a@b> BODY=7bit", false, 0, SMTP_BODY_7BIT,
	    false, NULL, NULL, NULL),
	MOK("SMTPUTF8", "FROM:<\xc3\xa9@b> SMTPUTF8", false, 0, SMTP_BODY_7BIT,
	    true, NULL, NULL, NULL),
	MOK("RET=FULL", "FROM:<a@b> RET=FULL", false, 0, SMTP_BODY_7BIT, false,
	    "FULL", NULL, NULL),
	MOK("ret=hdrs", "FROM:<a@b> ret=hdrs", false, 0, SMTP_BODY_7BIT, false,
	    "hdrs", NULL, NULL),
	MOK("ENVID", "FROM:<a@b> ENVID=QQ314159+2B1", false, 0, SMTP_BODY_7BIT,
	    false, NULL, "QQ314159+2B1", NULL),
	MOK("ENVID 100", "FROM:<a@b> ENVID=" E100, false, 0, SMTP_BODY_7BIT,
	    false, NULL, E100, NULL),
	MOK("AUTH=<>", "FROM:<a@b> AUTH=<>", false, 0, SMTP_BODY_7BIT, false,
	    NULL, NULL, "<>"),
	MOK("AUTH mailbox", "FROM:<a@b> AUTH=e+2Bx@b", false, 0,
	    SMTP_BODY_7BIT, false, NULL, NULL, "e+2Bx@b"),
	MOK("all of them", "FROM:<> SIZE=1  BODY=8BITMIME SMTPUTF8 RET=HDRS "
	    "ENVID=x AUTH=<>", true, 1, SMTP_BODY_8BITMIME, true, "HDRS", "x",
	    "<>"),
	MERR("SIZE 21 digits", "FROM:<a@b> SIZE=000000000000000000001", 501,
	     "Bad message size syntax", NULL),
	MERR("SIZE negative", "FROM:<a@b> SIZE=-1", 501,
	     "Bad message size syntax", NULL),
	MERR("SIZE plus", "FROM:<a@b> SIZE=+1", 501, "Bad message size syntax",
	     NULL),
	MERR("SIZE letters", "FROM:<a@b> SIZE=1k", 501,
	     "Bad message size syntax", NULL),
	MERR("SIZE without value", "FROM:<a@b> SIZE", 501,
	     "Bad message size syntax", NULL),
	MERR("SIZE empty value", "FROM:<a@b> SIZE=", 501, PSYN, NULL),
	MERR("SIZE twice", "FROM:<a@b> SIZE=1 SIZE=2", 501,
	     "Duplicate parameter", "SIZE"),
	MERR("size then SIZE", "FROM:<a@b> size=1 SIZE=1", 501,
	     "Duplicate parameter", "SIZE"),
	MERR("BODY unknown", "FROM:<a@b> BODY=9BIT", 501, "Bad BODY parameter",
	     NULL),
	MERR("BODY no value", "FROM:<a@b> BODY", 501, "Bad BODY parameter",
	     NULL),
	MERR("SMTPUTF8 with value", "FROM:<a@b> SMTPUTF8=yes", 501,
	     "Bad SMTPUTF8 parameter", NULL),
	MERR("RET unknown", "FROM:<a@b> RET=ALL", 501, "Bad RET parameter",
	     NULL),
	MERR("ENVID 101", "FROM:<a@b> ENVID=" E100 "x", 501,
	     "Bad ENVID parameter", NULL),
	MERR("ENVID bad hex", "FROM:<a@b> ENVID=a+2", 501,
	     "Bad ENVID parameter", NULL),
	MERR("ENVID bad hex digit", "FROM:<a@b> ENVID=a+2G", 501,
	     "Bad ENVID parameter", NULL),
	MERR("ENVID 8bit", "FROM:<a@b> ENVID=\xc3\xa9", 501,
	     "Bad ENVID parameter", NULL),
	MERR("AUTH empty", "FROM:<a@b> AUTH", 501, "Bad AUTH parameter", NULL),
	MERR("unknown", "FROM:<a@b> FOO=bar", 555, "Unsupported option",
	     "FOO"),
	MERR("unknown without value", "FROM:<a@b> X-FOO", 555,
	     "Unsupported option", "X-FOO"),
	MERR("RCPT param in MAIL", "FROM:<a@b> NOTIFY=NEVER", 555,
	     "Unsupported option", "NOTIFY"),
	MERR("detail is capped", "FROM:<a@b> " KW64 "5", 555,
	     "Unsupported option", KW64),
	MERR("keyword starts with hyphen", "FROM:<a@b> -X=1", 501, PSYN, NULL),
	MERR("keyword with underscore", "FROM:<a@b> X_Y=1", 501, PSYN, NULL),
	MERR("= in value", "FROM:<a@b> SIZE=1=2", 501, PSYN, NULL),
	MERR("empty keyword", "FROM:<a@b> =1", 501, PSYN, NULL),
	MERR("control in value", "FROM:<a@b> ENVID=a\x01", 501, PSYN, NULL),
	MERR("tab between params", "FROM:<a@b> SIZE=1\tBODY=7BIT", 501, PSYN,
	     NULL),
};
// clang-format on

static void
test_smtp_parse_mail_params_table(void **state)
{
	struct smtp_mail_params mp;
	struct smtp_parse_err err;
	struct smtp_path p;
	size_t i;
	int r;

	for (i = 0; i < MW_NELEM(mparam_cases); i++) {
		const struct mparam_case *c = &mparam_cases[i];

		r = smtp_parse_mail(
		    c->arg, strlen(c->arg), &lim_rfc, &p, &mp, &err);
		if (c->code != 0) {
			if (r != -1)
				fail_msg("%s: accepted", c->name);
			check_err(
			    c->name, &err, c->code, c->enh, c->text, c->detail);
			continue;
		}
		if (r != 0)
			fail_msg("%s: rejected: %s", c->name, err.text);
		assert_int_equal(mp.has_size, c->has_size);
		if (mp.size != c->size)
			fail_msg("%s: size %ju", c->name, (uintmax_t)mp.size);
		assert_int_equal(mp.body, c->body);
		assert_int_equal(mp.smtputf8, c->smtputf8);
		check_slice(c->name, mp.ret, c->ret);
		check_slice(c->name, mp.envid, c->envid);
		check_slice(c->name, mp.auth, c->auth);
	}
}

struct rparam_case {
	const char *name;
	const char *arg;
	int code;
	const char *text, *detail;
	const char *notify, *orcpt;
};

#define O500 E100 E100 E100 E100 E100

// clang-format off
static const struct rparam_case rparam_cases[] = {
	{ "none", "TO:<a@b>", 0, NULL, NULL, NULL, NULL },
	{ "NEVER", "TO:<a@b> NOTIFY=NEVER", 0, NULL, NULL, "NEVER", NULL },
	{ "list", "TO:<a@b> NOTIFY=SUCCESS,FAILURE,DELAY", 0, NULL, NULL,
	  "SUCCESS,FAILURE,DELAY", NULL },
	{ "lower case list", "TO:<a@b> notify=delay,success", 0, NULL, NULL,
	  "delay,success", NULL },
	{ "ORCPT", "TO:<a@b> ORCPT=rfc822;a+40b", 0, NULL, NULL, NULL,
	  "rfc822;a+40b" },
	{ "ORCPT with @", "TO:<a@b> ORCPT=rfc822;a@b", 0, NULL, NULL, NULL,
	  "rfc822;a@b" },
	{ "ORCPT utf-8", "TO:<a@b> ORCPT=utf-8;\xc3\xa9@b", 0, NULL, NULL, NULL,
	  "utf-8;\xc3\xa9@b" },
	{ "ORCPT 500", "TO:<a@b> ORCPT=rfc822;" O500, 0, NULL, NULL, NULL,
	  "rfc822;" O500 },
	{ "both", "TO:<Postmaster> NOTIFY=FAILURE ORCPT=rfc822;x", 0, NULL,
	  NULL, "FAILURE", "rfc822;x" },
	{ "NEVER and SUCCESS", "TO:<a@b> NOTIFY=NEVER,SUCCESS", 501,
	  "Bad NOTIFY parameter", NULL, NULL, NULL },
	{ "unknown NOTIFY", "TO:<a@b> NOTIFY=ALWAYS", 501,
	  "Bad NOTIFY parameter", NULL, NULL, NULL },
	{ "empty NOTIFY element", "TO:<a@b> NOTIFY=SUCCESS,", 501,
	  "Bad NOTIFY parameter", NULL, NULL, NULL },
	{ "leading comma", "TO:<a@b> NOTIFY=,DELAY", 501,
	  "Bad NOTIFY parameter", NULL, NULL, NULL },
	{ "NOTIFY without value", "TO:<a@b> NOTIFY", 501,
	  "Bad NOTIFY parameter", NULL, NULL, NULL },
	{ "NOTIFY twice", "TO:<a@b> NOTIFY=NEVER NOTIFY=DELAY", 501,
	  "Duplicate parameter", "NOTIFY", NULL, NULL },
	{ "ORCPT without type", "TO:<a@b> ORCPT=a@b", 501,
	  "Bad ORCPT parameter", NULL, NULL, NULL },
	{ "ORCPT empty type", "TO:<a@b> ORCPT=;a@b", 501,
	  "Bad ORCPT parameter", NULL, NULL, NULL },
	{ "ORCPT empty address", "TO:<a@b> ORCPT=rfc822;", 501,
	  "Bad ORCPT parameter", NULL, NULL, NULL },
	{ "ORCPT 8bit rfc822", "TO:<a@b> ORCPT=rfc822;\xc3\xa9@b", 501,
	  "Bad ORCPT parameter", NULL, NULL, NULL },
	{ "ORCPT bad UTF-8", "TO:<a@b> ORCPT=utf-8;\xff@b", 501, PSYN, NULL,
	  NULL, NULL },
	{ "ORCPT 501", "TO:<a@b> ORCPT=rfc822;" O500 "x", 501,
	  "Bad ORCPT parameter", NULL, NULL, NULL },
	{ "MAIL param in RCPT", "TO:<a@b> SIZE=1", 555, "Unsupported option",
	  "SIZE", NULL, NULL },
};
// clang-format on

static void
test_smtp_parse_rcpt_params_table(void **state)
{
	struct smtp_rcpt_params rp;
	struct smtp_parse_err err;
	struct smtp_path p;
	size_t i;
	int r;

	for (i = 0; i < MW_NELEM(rparam_cases); i++) {
		const struct rparam_case *c = &rparam_cases[i];

		r = smtp_parse_rcpt(
		    c->arg, strlen(c->arg), &lim_rfc, &p, &rp, &err);
		if (c->code != 0) {
			if (r != -1)
				fail_msg("%s: accepted", c->name);
			check_err(c->name, &err, c->code, "5.5.4", c->text,
			    c->detail);
			continue;
		}
		if (r != 0)
			fail_msg("%s: rejected: %s", c->name, err.text);
		check_slice(c->name, rp.notify, c->notify);
		check_slice(c->name, rp.orcpt, c->orcpt);
	}
}

/* Builds "<local@domain>" of the given lengths into buf. */
static size_t
make_path(
    char *buf, size_t cap, const char *prefix, size_t local_n, size_t domain_n)
{
	size_t n, i;

	n = (size_t)snprintf(buf, cap, "%s<", prefix);
	assert_true(n + local_n + domain_n + 3 < cap);
	memset(buf + n, 'l', local_n);
	n += local_n;
	buf[n++] = '@';
	/* labels of 63 octets: a dot every 64th byte, never at the end */
	for (i = 0; i < domain_n; i++)
		buf[n + i] = (i % 64 == 63 && i + 1 < domain_n) ? '.' : 'd';
	n += domain_n;
	buf[n++] = '>';
	buf[n] = '\0';
	return n;
}

struct limit_case {
	const char *what;
	struct smtp_parse_limits lim;
	size_t local_n, domain_n;
	bool ok;
	const char *text;
};

// clang-format off
static const struct limit_case limit_cases[] = {
	/* path: "<" local "@" domain ">" counts all of its octets */
	{ "path max-1", { 256, 300, 300 }, 64, 188, true, NULL },
	{ "path max", { 256, 300, 300 }, 64, 189, true, NULL },
	{ "path max+1", { 256, 300, 300 }, 64, 190, false, "Path too long" },
	{ "small path max", { 10, 300, 300 }, 3, 4, true, NULL },
	{ "small path max+1", { 10, 300, 300 }, 3, 5, false, "Path too long" },
	{ "local max-1", { 1000, 64, 300 }, 63, 10, true, NULL },
	{ "local max", { 1000, 64, 300 }, 64, 10, true, NULL },
	{ "local max+1", { 1000, 64, 300 }, 65, 10, false,
	  "Local part too long" },
	{ "long local allowed", { 1000, 200, 300 }, 200, 10, true, NULL },
	{ "domain max-1", { 1000, 64, 255 }, 1, 254, true, NULL },
	{ "domain max", { 1000, 64, 255 }, 1, 255, true, NULL },
	{ "domain max+1", { 1000, 64, 255 }, 1, 256, false,
	  "Domain name too long" },
	{ "small domain max", { 1000, 64, 5 }, 1, 5, true, NULL },
	{ "small domain max+1", { 1000, 64, 5 }, 1, 6, false,
	  "Domain name too long" },
};
// clang-format on

static void
test_smtp_parse_limits_at_edges(void **state)
{
	struct smtp_mail_params mp;
	struct smtp_rcpt_params rp;
	struct smtp_parse_err err;
	struct smtp_path p;
	char buf[1024];
	size_t i, n;
	int r;

	for (i = 0; i < MW_NELEM(limit_cases); i++) {
		const struct limit_case *c = &limit_cases[i];

		n = make_path(
		    buf, sizeof(buf), "FROM:", c->local_n, c->domain_n);
		r = smtp_parse_mail(buf, n, &c->lim, &p, &mp, &err);
		if (c->ok && r != 0)
			fail_msg("MAIL %s: %s", c->what, err.text);
		if (!c->ok)
			check_err(c->what, &err, 501, "5.1.7", c->text, NULL);
		n = make_path(buf, sizeof(buf), "TO:", c->local_n, c->domain_n);
		r = smtp_parse_rcpt(buf, n, &c->lim, &p, &rp, &err);
		if (c->ok && r != 0)
			fail_msg("RCPT %s: %s", c->what, err.text);
		if (!c->ok)
			check_err(c->what, &err, 501, "5.1.3", c->text, NULL);
		if (c->ok) {
			assert_int_equal(p.local.n, c->local_n);
			assert_int_equal(p.domain.n, c->domain_n);
		}
	}
}

struct helo_case {
	const char *arg;
	size_t n;
	bool ok;
	const char *domain;
};

// clang-format off
static const struct helo_case helo_cases[] = {
	{ S("example.com"), true, "example.com" },
	{ S("[192.0.2.1]"), true, "[192.0.2.1]" },
	{ S("[IPv6:::1]"), true, "[IPv6:::1]" },
	{ S("localhost"), true, "localhost" },
	{ S("not_a_domain!"), true, "not_a_domain!" },
	{ S(" example.com "), true, "example.com" },
	{ S(""), false, NULL },
	{ S("   "), false, NULL },
	{ S("a b"), false, NULL },
	{ S("a\tb"), false, NULL },
	{ S("a\x01"), false, NULL },
	{ S("a\0b"), false, NULL },
	{ S("a\x7f"), false, NULL },
	{ S("\xc3\xa9.example"), false, NULL },
};
// clang-format on

static void
test_smtp_parse_helo_table(void **state)
{
	struct smtp_parse_err err;
	struct smtp_slice d;
	size_t i;
	int r;

	for (i = 0; i < MW_NELEM(helo_cases); i++) {
		const struct helo_case *c = &helo_cases[i];

		r = smtp_parse_helo(c->arg, c->n, true, &d, &err);
		if (c->ok) {
			if (r != 0)
				fail_msg("row %zu: rejected", i);
			check_slice("helo", d, c->domain);
			continue;
		}
		if (r != -1)
			fail_msg("row %zu: accepted", i);
		check_err(
		    "EHLO", &err, 501, "5.5.4", "Syntax: EHLO hostname", NULL);
		assert_int_equal(
		    smtp_parse_helo(c->arg, c->n, false, &d, &err), -1);
		check_err(
		    "HELO", &err, 501, "5.5.4", "Syntax: HELO hostname", NULL);
	}
}

struct bdat_case {
	const char *arg;
	bool ok;
	uint64_t size;
	bool last;
};

// clang-format off
static const struct bdat_case bdat_cases[] = {
	{ "0", true, 0, false },
	{ "0 LAST", true, 0, true },
	{ "10 LAST", true, 10, true },
	{ "10 last", true, 10, true },
	{ "  10   LaSt  ", true, 10, true },
	{ "4096", true, 4096, false },
	{ "18446744073709551615", true, UINT64_MAX, false },
	{ "00000000000000000001 LAST", true, 1, true },
	{ "", false, 0, false },
	{ "LAST", false, 0, false },
	{ "-1", false, 0, false },
	{ "+1", false, 0, false },
	{ "0x10", false, 0, false },
	{ "1LAST", false, 0, false },
	{ "1 LASTX", false, 0, false },
	{ "1 LAS", false, 0, false },
	{ "1 LAST X", false, 0, false },
	{ "1 FIRST", false, 0, false },
	{ "1 2", false, 0, false },
	{ "18446744073709551616", false, 0, false },
	{ "000000000000000000001", false, 0, false },
	{ "1\tLAST", false, 0, false },
};
// clang-format on

static void
test_smtp_parse_bdat_table(void **state)
{
	struct smtp_bdat_args b;
	struct smtp_parse_err err;
	size_t i;
	int r;

	for (i = 0; i < MW_NELEM(bdat_cases); i++) {
		const struct bdat_case *c = &bdat_cases[i];

		r = smtp_parse_bdat(c->arg, strlen(c->arg), &b, &err);
		if (!c->ok) {
			if (r != -1)
				fail_msg("\"%s\": accepted", c->arg);
			check_err(c->arg, &err, 501, "5.5.4",
			    "Syntax: BDAT count [LAST]", NULL);
			continue;
		}
		if (r != 0)
			fail_msg("\"%s\": rejected", c->arg);
		assert_true(b.size == c->size);
		assert_int_equal(b.last, c->last);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_parse_command_table),
		cmocka_unit_test(
		    test_smtp_parse_command_nul_in_verb_is_unknown),
		cmocka_unit_test(test_smtp_parse_mail_rcpt_path_tables),
		cmocka_unit_test(test_smtp_parse_mail_respects_length),
		cmocka_unit_test(test_smtp_parse_mail_params_table),
		cmocka_unit_test(test_smtp_parse_rcpt_params_table),
		cmocka_unit_test(test_smtp_parse_limits_at_edges),
		cmocka_unit_test(test_smtp_parse_helo_table),
		cmocka_unit_test(test_smtp_parse_bdat_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
