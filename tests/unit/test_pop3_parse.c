/*
 * Unit tests for the POP3 command parser (pop3_parse.c) and the RETR/TOP
 * encoder (pop3_encode.c). Parser cases are table rows: keyword case,
 * argument counts per command (RFC 1939), the 40-character argument limit
 * at 39, 40 and 41 (RFC 2449 3), USER/PASS taking the rest of the line,
 * AUTH's long initial response (RFC 5034 4), control characters. Encoder
 * vectors are fed whole, byte by byte and split at every offset, and must
 * give the same bytes.
 */
/* cmocka.h needs these first */
// clang-format off
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "lib/mw.h"
#include "lib/xalloc.h"
#include "pop3/pop3_encode.h"
#include "pop3/pop3_parse.h"

#define S(s) s, sizeof(s) - 1

static const struct pop3_parse_limits lim = { 40 };

struct parse_case {
	const char *name;
	const char *line;
	size_t n;
	enum pop3_parse_result want;
	enum pop3_verb verb;
	size_t nargs;
	const char *arg0, *arg1;
};

#define A40 "0123456789012345678901234567890123456789"

// clang-format off
static const struct parse_case parse_cases[] = {
	{ "stat", S("STAT"), POP3_PARSE_OK, POP3_VERB_STAT, 0, NULL, NULL },
	{ "lower case", S("stat"), POP3_PARSE_OK, POP3_VERB_STAT, 0, NULL, NULL },
	{ "mixed case", S("sTaT"), POP3_PARSE_OK, POP3_VERB_STAT, 0, NULL, NULL },
	{ "trailing space", S("STAT "), POP3_PARSE_OK, POP3_VERB_STAT, 0, NULL, NULL },
	{ "leading space", S(" NOOP"), POP3_PARSE_OK, POP3_VERB_NOOP, 0, NULL, NULL },
	{ "stat with an argument", S("STAT 1"), POP3_PARSE_TOO_MANY_ARGS, 0, 0, NULL, NULL },
	{ "list", S("LIST"), POP3_PARSE_OK, POP3_VERB_LIST, 0, NULL, NULL },
	{ "list n", S("LIST 1"), POP3_PARSE_OK, POP3_VERB_LIST, 1, "1", NULL },
	{ "list n m", S("LIST 1 2"), POP3_PARSE_TOO_MANY_ARGS, 0, 0, NULL, NULL },
	{ "retr n", S("RETR 12"), POP3_PARSE_OK, POP3_VERB_RETR, 1, "12", NULL },
	{ "retr, two spaces", S("RETR  12"), POP3_PARSE_OK, POP3_VERB_RETR, 1, "12", NULL },
	{ "retr without n", S("RETR"), POP3_PARSE_TOO_FEW_ARGS, 0, 0, NULL, NULL },
	{ "retr with a space only", S("RETR "), POP3_PARSE_TOO_FEW_ARGS, 0, 0, NULL, NULL },
	{ "dele n", S("dele 3"), POP3_PARSE_OK, POP3_VERB_DELE, 1, "3", NULL },
	{ "top n m", S("TOP 1 10"), POP3_PARSE_OK, POP3_VERB_TOP, 2, "1", "10" },
	{ "top n", S("TOP 1"), POP3_PARSE_TOO_FEW_ARGS, 0, 0, NULL, NULL },
	{ "top n m x", S("TOP 1 2 3"), POP3_PARSE_TOO_MANY_ARGS, 0, 0, NULL, NULL },
	{ "uidl", S("UIDL"), POP3_PARSE_OK, POP3_VERB_UIDL, 0, NULL, NULL },
	{ "uidl n", S("UIDL 7"), POP3_PARSE_OK, POP3_VERB_UIDL, 1, "7", NULL },
	{ "arg of 39", S("LIST " "012345678901234567890123456789012345678"), POP3_PARSE_OK, POP3_VERB_LIST, 1, "012345678901234567890123456789012345678", NULL },
	{ "arg of 40", S("LIST " A40), POP3_PARSE_OK, POP3_VERB_LIST, 1, A40, NULL },
	{ "arg of 41", S("LIST " A40 "x"), POP3_PARSE_ARG_TOO_LONG, 0, 0, NULL, NULL },
	{ "user", S("USER bob@example.org"), POP3_PARSE_OK, POP3_VERB_USER, 1, "bob@example.org", NULL },
	{ "user over 40", S("USER " A40 "@example.org"), POP3_PARSE_OK, POP3_VERB_USER, 1, A40 "@example.org", NULL },
	{ "user trailing spaces", S("USER bob  "), POP3_PARSE_OK, POP3_VERB_USER, 1, "bob", NULL },
	{ "user with a space", S("USER bob x"), POP3_PARSE_TOO_MANY_ARGS, 0, 0, NULL, NULL },
	{ "user empty", S("USER "), POP3_PARSE_TOO_FEW_ARGS, 0, 0, NULL, NULL },
	{ "user none", S("USER"), POP3_PARSE_TOO_FEW_ARGS, 0, 0, NULL, NULL },
	{ "pass keeps spaces", S("PASS a b  c "), POP3_PARSE_OK, POP3_VERB_PASS, 1, "a b  c ", NULL },
	{ "pass empty", S("PASS "), POP3_PARSE_OK, POP3_VERB_PASS, 1, "", NULL },
	{ "pass none", S("PASS"), POP3_PARSE_TOO_FEW_ARGS, 0, 0, NULL, NULL },
	{ "pass utf-8", S("PASS p\xc3\xa4ss"), POP3_PARSE_OK, POP3_VERB_PASS, 1, "p\xc3\xa4ss", NULL },
	{ "auth", S("AUTH"), POP3_PARSE_OK, POP3_VERB_AUTH, 0, NULL, NULL },
	{ "auth mech", S("AUTH PLAIN"), POP3_PARSE_OK, POP3_VERB_AUTH, 1, "PLAIN", NULL },
	{ "auth mech ir", S("AUTH PLAIN AGJvYgBzZWNyZXQ="), POP3_PARSE_OK, POP3_VERB_AUTH, 2, "PLAIN", "AGJvYgBzZWNyZXQ=" },
	{ "auth long ir", S("AUTH PLAIN " A40 A40), POP3_PARSE_OK, POP3_VERB_AUTH, 2, "PLAIN", A40 A40 },
	{ "auth long mech", S("AUTH " A40 "x"), POP3_PARSE_ARG_TOO_LONG, 0, 0, NULL, NULL },
	{ "auth three", S("AUTH PLAIN a b"), POP3_PARSE_TOO_MANY_ARGS, 0, 0, NULL, NULL },
	{ "apop", S("APOP bob 0123abcd"), POP3_PARSE_OK, POP3_VERB_APOP, 2, "bob", "0123abcd" },
	{ "capa", S("CAPA"), POP3_PARSE_OK, POP3_VERB_CAPA, 0, NULL, NULL },
	{ "stls", S("STLS"), POP3_PARSE_OK, POP3_VERB_STLS, 0, NULL, NULL },
	{ "utf8", S("UTF8"), POP3_PARSE_OK, POP3_VERB_UTF8, 0, NULL, NULL },
	{ "quit", S("QUIT"), POP3_PARSE_OK, POP3_VERB_QUIT, 0, NULL, NULL },
	{ "rset", S("RSET"), POP3_PARSE_OK, POP3_VERB_RSET, 0, NULL, NULL },
	{ "empty", S(""), POP3_PARSE_EMPTY, 0, 0, NULL, NULL },
	{ "spaces", S("   "), POP3_PARSE_EMPTY, 0, 0, NULL, NULL },
	{ "unknown", S("XYZZY"), POP3_PARSE_UNKNOWN, 0, 0, NULL, NULL },
	{ "prefix of a keyword", S("STA"), POP3_PARSE_UNKNOWN, 0, 0, NULL, NULL },
	{ "keyword and more", S("STATS"), POP3_PARSE_UNKNOWN, 0, 0, NULL, NULL },
	{ "smtp", S("HELO x"), POP3_PARSE_UNKNOWN, 0, 0, NULL, NULL },
	{ "NUL", "STAT\0", 5, POP3_PARSE_BAD_CHAR, 0, 0, NULL, NULL },
	{ "CR inside", S("RETR 1\r2"), POP3_PARSE_BAD_CHAR, 0, 0, NULL, NULL },
	{ "tab", S("RETR\t1"), POP3_PARSE_BAD_CHAR, 0, 0, NULL, NULL },
	{ "DEL", S("NOOP\x7f"), POP3_PARSE_BAD_CHAR, 0, 0, NULL, NULL },
};
// clang-format on

static void
test_pop3_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct pop3_cmd cmd;
		enum pop3_parse_result r;

		r = pop3_parse_command(c->line, c->n, &lim, &cmd);
		if (r != c->want)
			fail_msg("%s: result %d, want %d", c->name, r, c->want);
		if (r != POP3_PARSE_OK)
			continue;
		if (cmd.verb != c->verb || cmd.nargs != c->nargs)
			fail_msg("%s: verb %d nargs %zu", c->name, cmd.verb,
			    cmd.nargs);
		if (c->arg0 != NULL &&
		    (cmd.args[0].n != strlen(c->arg0) ||
		        memcmp(cmd.args[0].p, c->arg0, cmd.args[0].n) != 0))
			fail_msg("%s: arg0 \"%.*s\"", c->name,
			    (int)cmd.args[0].n, cmd.args[0].p);
		if (c->arg1 != NULL &&
		    (cmd.args[1].n != strlen(c->arg1) ||
		        memcmp(cmd.args[1].p, c->arg1, cmd.args[1].n) != 0))
			fail_msg("%s: arg1 \"%.*s\"", c->name,
			    (int)cmd.args[1].n, cmd.args[1].p);
	}
}

static void
test_pop3_parse_keyword_kept_for_unknown(void **state)
{
	struct pop3_cmd cmd;

	(void)state;
	assert_int_equal(
	    pop3_parse_command(S("FOO bar"), &lim, &cmd), POP3_PARSE_UNKNOWN);
	assert_int_equal(cmd.keyword.n, 3);
	assert_memory_equal(cmd.keyword.p, "FOO", 3);
}

static void
test_pop3_parse_number_bounds(void **state)
{
	struct {
		const char *s;
		uint64_t min, max;
		int ret;
		uint64_t v;
	} rows[] = {
		{ "1", 1, 10, 0, 1 },
		{ "10", 1, 10, 0, 10 },
		{ "11", 1, 10, -1, 0 },
		{ "0", 1, 10, -1, 0 },
		{ "0", 0, 10, 0, 0 },
		{ "-1", 0, 10, -1, 0 },
		{ "+1", 0, 10, -1, 0 },
		{ "1a", 0, 10, -1, 0 },
		{ "", 0, 10, -1, 0 },
		{ "99999999999999999999999", 0, UINT64_MAX, -1, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(rows); i++) {
		struct pop3_slice sl = { rows[i].s, strlen(rows[i].s) };
		uint64_t v = 0;

		assert_int_equal(
		    pop3_parse_number(sl, rows[i].min, rows[i].max, &v),
		    rows[i].ret);
		if (rows[i].ret == 0)
			assert_int_equal(v, rows[i].v);
	}
}

static void
test_pop3_verb_names(void **state)
{
	(void)state;
	assert_string_equal(pop3_verb_name(POP3_VERB_RETR), "RETR");
	assert_string_equal(pop3_verb_name(POP3_VERB_TOP), "TOP");
	assert_string_equal(pop3_verb_name(POP3_VERB_UNKNOWN), "UNKNOWN");
}

/* --- encoder ------------------------------------------------------------ */

struct enc_case {
	const char *name;
	const char *in;
	size_t in_n;
	bool top;
	uint64_t lines;
	const char *out;
	size_t out_n;
};

// clang-format off
static const struct enc_case enc_cases[] = {
	{ "empty", S(""), false, 0, S(".\r\n") },
	{ "one line", S("a\n"), false, 0, S("a\r\n.\r\n") },
	{ "no final newline", S("a"), false, 0, S("a\r\n.\r\n") },
	{ "CRLF passes", S("a\r\nb\r\n"), false, 0, S("a\r\nb\r\n.\r\n") },
	{ "mixed line ends", S("a\r\nb\nc"), false, 0, S("a\r\nb\r\nc\r\n.\r\n") },
	{ "CR at the end", S("a\r"), false, 0, S("a\r\n.\r\n") },
	{ "bare CR is content", S("a\rb\n"), false, 0, S("a\rb\r\n.\r\n") },
	{ "dot stuffed", S(".a\n.\n..\n"), false, 0, S("..a\r\n..\r\n...\r\n.\r\n") },
	{ "dot mid-line", S("a.b\n"), false, 0, S("a.b\r\n.\r\n") },
	{ "dot after CRLF", S("a\r\n.\r\n"), false, 0, S("a\r\n..\r\n.\r\n") },
	{ "NUL is content", S("a\0b\n"), false, 0, "a\0b\r\n.\r\n", 8 },
	{ "headers and body", S("S: x\n\nl1\nl2\n"), false, 0, S("S: x\r\n\r\nl1\r\nl2\r\n.\r\n") },
	{ "top 0", S("S: x\nT: y\n\nl1\nl2\n"), true, 0, S("S: x\r\nT: y\r\n\r\n.\r\n") },
	{ "top 1", S("S: x\n\nl1\nl2\n"), true, 1, S("S: x\r\n\r\nl1\r\n.\r\n") },
	{ "top 2 of 2", S("S: x\n\nl1\nl2\n"), true, 2, S("S: x\r\n\r\nl1\r\nl2\r\n.\r\n") },
	{ "top more than there is", S("S: x\n\nl1\nl2"), true, 9, S("S: x\r\n\r\nl1\r\nl2\r\n.\r\n") },
	{ "top CRLF", S("S: x\r\n\r\nl1\r\nl2\r\n"), true, 1, S("S: x\r\n\r\nl1\r\n.\r\n") },
	{ "top empty body lines count", S("S: x\n\n\n\nl3\n"), true, 2, S("S: x\r\n\r\n\r\n\r\n.\r\n") },
	{ "top dot line", S("S: x\n\n.\nl2\n"), true, 1, S("S: x\r\n\r\n..\r\n.\r\n") },
	{ "top without body", S("S: x\nT: y\n"), true, 3, S("S: x\r\nT: y\r\n.\r\n") },
	{ "top empty message", S(""), true, 3, S(".\r\n") },
	{ "top starts blank", S("\nbody\n"), true, 0, S("\r\n.\r\n") },
};
// clang-format on

/* Encodes in pieces ending at cuts (then at the end), each into an
 * allocation of exactly 2 * piece bytes, then the end into one of 5. */
static void
enc_run(
    const struct enc_case *c, const size_t *cuts, size_t ncuts, struct buf *out)
{
	struct pop3_encoder e;
	size_t from = 0, k, n;
	char *o;

	pop3_encoder_init(&e, c->top, c->lines);
	for (k = 0; k <= ncuts; k++) {
		size_t to = k < ncuts ? cuts[k] : c->in_n;

		o = xmalloc(2 * (to - from) + 1);
		n = pop3_encoder_feed(&e, c->in + from, to - from, o);
		assert_true(n <= 2 * (to - from));
		assert_int_equal(buf_append(out, o, n), 0);
		free(o);
		from = to;
	}
	o = xmalloc(5);
	n = pop3_encoder_end(&e, o);
	assert_int_equal(buf_append(out, o, n), 0);
	free(o);
}

static void
enc_check(const struct enc_case *c, const size_t *cuts, size_t ncuts)
{
	struct buf out;

	buf_init(&out, 4096);
	enc_run(c, cuts, ncuts, &out);
	if (out.len != c->out_n || memcmp(out.data, c->out, c->out_n) != 0)
		fail_msg("%s (%zu cuts): got \"%s\"", c->name, ncuts,
		    buf_cstr(&out));
	buf_free(&out);
}

static void
test_pop3_encode_whole_and_split(void **state)
{
	size_t i, k, cuts[1];

	(void)state;
	for (i = 0; i < MW_NELEM(enc_cases); i++) {
		const struct enc_case *c = &enc_cases[i];

		enc_check(c, NULL, 0);
		for (k = 0; k <= c->in_n; k++) {
			cuts[0] = k;
			enc_check(c, cuts, 1);
		}
	}
}

static void
test_pop3_encode_byte_by_byte(void **state)
{
	size_t i, k, cuts[64];

	(void)state;
	for (i = 0; i < MW_NELEM(enc_cases); i++) {
		const struct enc_case *c = &enc_cases[i];

		assert_true(c->in_n <= MW_NELEM(cuts));
		for (k = 0; k < c->in_n; k++)
			cuts[k] = k;
		enc_check(c, cuts, c->in_n);
	}
}

static void
test_pop3_encode_top_done(void **state)
{
	struct pop3_encoder e;
	char out[64];

	(void)state;
	pop3_encoder_init(&e, true, 1);
	(void)pop3_encoder_feed(&e, S("S: x\n\n"), out);
	assert_false(pop3_encoder_done(&e));
	(void)pop3_encoder_feed(&e, S("l1\n"), out);
	assert_true(pop3_encoder_done(&e));
	assert_int_equal(pop3_encoder_feed(&e, S("l2\n"), out), 0);
	pop3_encoder_init(&e, false, 0);
	(void)pop3_encoder_feed(&e, S("S: x\n\nl1\n"), out);
	assert_false(pop3_encoder_done(&e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pop3_parse_table),
		cmocka_unit_test(test_pop3_parse_keyword_kept_for_unknown),
		cmocka_unit_test(test_pop3_parse_number_bounds),
		cmocka_unit_test(test_pop3_verb_names),
		cmocka_unit_test(test_pop3_encode_whole_and_split),
		cmocka_unit_test(test_pop3_encode_byte_by_byte),
		cmocka_unit_test(test_pop3_encode_top_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
