/* Unit tests of the lookup-table parsers (src/policy/maptable_text.c,
 * maptable_cidr.c, maptable_regexp.c) through maptable_data_parse() and
 * maptable_data_lookup(): the formats, their errors and their limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "policy/maptable.h"

/*
 * Parses text as type and looks key up. Returns a malloc'd string: the
 * value; "-" when not found; "!" and the message when the lookup failed;
 * "E " and the message when the text did not parse.
 */
static char *
run(enum maptable_type type, const char *text, size_t len,
    const struct maptable_limits *lim, const char *key)
{
	struct maptable_data *d;
	struct buf err, value, out;
	int rc;

	buf_init(&err, 4096);
	buf_init(&value, 4096);
	buf_init(&out, 8192);
	d = maptable_data_parse(type, text, len, "t", lim, NULL, &err);
	if (d == NULL) {
		assert_true(err.len > 0);
		assert_null(memchr(err.data, '\n', err.len));
		assert_int_equal(buf_printf(&out, "E %s", buf_cstr(&err)), 0);
	} else {
		rc = maptable_data_lookup(d, key, &value, &err);
		if (rc == 0)
			assert_int_equal(
			    buf_append_str(&out, buf_cstr(&value)), 0);
		else if (rc == 1)
			assert_int_equal(buf_append_str(&out, "-"), 0);
		else
			assert_int_equal(
			    buf_printf(&out, "! %s", buf_cstr(&err)), 0);
		maptable_data_free(&d);
		assert_null(d);
	}
	buf_free(&err);
	buf_free(&value);
	return buf_steal(&out);
}

struct row {
	const char *label, *text, *key, *want;
};

static void
run_rows(enum maptable_type type, const struct row *rows, size_t n)
{
	size_t i;
	char *got;

	for (i = 0; i < n; i++) {
		got = run(type, rows[i].text, strlen(rows[i].text),
		    &maptable_limits_default, rows[i].key);
		/* "E ..." and "! ..." rows compare a prefix */
		if ((rows[i].want[0] == 'E' || rows[i].want[0] == '!') &&
		    rows[i].want[1] == ' ') {
			if (strncmp(got, rows[i].want, strlen(rows[i].want)) !=
			    0)
				fail_msg("%s: got \"%s\", want \"%s...\"",
				    rows[i].label, got, rows[i].want);
		} else if (strcmp(got, rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].label,
			    got, rows[i].want);
		free(got);
	}
}

// clang-format off
static const struct row text_rows[] = {
	{ "simple", "a.example OK\n", "a.example", "OK" },
	{ "key folded", "Foo@Example.COM REJECT\n", "foo@example.com", "REJECT" },
	{ "lookup folded", "foo REJECT\n", "FOO", "REJECT" },
	{ "value keeps case", "k Mixed Case Text\n", "k", "Mixed Case Text" },
	{ "value trimmed", "k \t  v v  \t\n", "k", "v v" },
	{ "tab separates", "k\tv\n", "k", "v" },
	{ "no final newline", "k v", "k", "v" },
	{ "not found", "k v\n", "x", "-" },
	{ "empty file", "", "k", "-" },
	{ "only comments", "# k v\n   # x\n\n \t\n", "k", "-" },
	{ "hash inside value", "k v # not a comment\n", "k", "v # not a comment" },
	{ "continuation", "k one\n  two\n", "k", "one  two" },
	{ "continuation keeps spaces", "k one  \n  two\n", "k", "one    two" },
	{ "comment inside continuation", "k one\n# c\n\n two\n", "k", "one two" },
	{ "next key after continuation", "k one\n two\nj x\n", "j", "x" },
	{ "crlf", "k v\r\nj w\r\n", "j", "w" },
	{ "utf-8 value", "k Gr\xc3\xbc\xc3\x9f" "e\n", "k", "Gr\xc3\xbc\xc3\x9f" "e" },
	{ "duplicate: first wins", "k one\nk two\n", "k", "one" },
	{ "duplicate folded", "K one\nk two\n", "k", "one" },
	{ "many keys", "c 3\na 1\nb 2\n", "b", "2" },
	{ "no value", "k\n", "k", "E t:1: expected format: key whitespace value" },
	{ "no value after spaces", "k   \n", "k", "E t:1: expected format" },
	{ "no value line 3", "a 1\n\nb\n", "a", "E t:3: expected format" },
	{ "leading white space", " k v\n", "k", "E t:1: a logical line must not start with white space" },
	{ "control byte", "k v\x01\n", "k", "E t:1: control byte 0x01" },
	{ "bare cr", "k v\rw\n", "k", "E t:1: control byte 0x0d" },
	{ "cr at the end", "k v\r", "k", "E t:1: control byte 0x0d" },
	{ "del", "k v\x7f\n", "k", "E t:1: control byte 0x7f" },
	{ "malformed utf-8", "k \xc3\n", "k", "E t:1: malformed UTF-8" },
	{ "latin-1", "k caf\xe9\n", "k", "E t:1: malformed UTF-8" },
	{ "error on line 2 of continuation", "k v\n \x02\n", "k", "E t:2: control byte" },
};
// clang-format on

static void
test_maptable_text_rows(void **state)
{
	(void)state;
	run_rows(MAPTABLE_TEXTHASH, text_rows, MW_NELEM(text_rows));
	run_rows(MAPTABLE_HASH, text_rows, MW_NELEM(text_rows));
}

static void
test_maptable_text_nul_is_error(void **state)
{
	char *got;

	(void)state;
	got = run(
	    MAPTABLE_TEXTHASH, "k v\0w\n", 6, &maptable_limits_default, "k");
	assert_string_equal(got, "E t:1: control byte 0x00");
	free(got);
	/* a NUL in a comment line is ignored with the comment */
	got = run(
	    MAPTABLE_TEXTHASH, "# \0\nk v\n", 8, &maptable_limits_default, "k");
	assert_string_equal(got, "v");
	free(got);
}

static void
test_maptable_text_duplicate_warns(void **state)
{
	struct maptable_data *d;
	struct buf err, warn;
	const char *t = "a 1\nb 2\nA 3\n";

	(void)state;
	buf_init(&err, 4096);
	buf_init(&warn, 4096);
	d = maptable_data_parse(MAPTABLE_HASH, t, strlen(t), "f",
	    &maptable_limits_default, &warn, &err);
	assert_non_null(d);
	assert_int_equal(maptable_data_count(d), 2);
	assert_string_equal(buf_cstr(&warn),
	    "f:3: duplicate entry \"a\" (the one on line 1 wins)\n");
	maptable_data_free(&d);
	buf_free(&err);
	buf_free(&warn);
}

/* Every prefix of a file parses or fails with one line: no crash, no
 * partial table. */
static void
test_maptable_every_prefix(void **state)
{
	static const struct {
		enum maptable_type type;
		const char *text;
	} files[] = {
		{ MAPTABLE_HASH,
		    "# access\nfoo@example.org REJECT go away\n"
		    "  please\r\n1.2.3 OK\n" },
		{ MAPTABLE_CIDR,
		    "192.0.2.0/24 REJECT\nif !10.0.0.0/8\n[2001:db8::]/32 "
		    "OK\nendif\n" },
		{ MAPTABLE_REGEXP,
		    "/^(.*)@example\\.org$/ REJECT $1\nif !/x/\n!/y/i "
		    "OK ${1}\nendif\n" },
	};
	size_t f, n;
	char *got;

	(void)state;
	for (f = 0; f < MW_NELEM(files); f++)
		for (n = 0; n <= strlen(files[f].text); n++) {
			got = run(files[f].type, files[f].text, n,
			    &maptable_limits_default, "foo@example.org");
			free(got);
		}
}

// clang-format off
static const struct row cidr_rows[] = {
	{ "exact v4", "192.0.2.7 A\n", "192.0.2.7", "A" },
	{ "exact v4 other", "192.0.2.7 A\n", "192.0.2.8", "-" },
	{ "network v4", "192.0.2.0/24 A\n", "192.0.2.200", "A" },
	{ "outside network", "192.0.2.0/24 A\n", "192.0.3.1", "-" },
	{ "odd prefix", "192.0.2.128/25 A\n", "192.0.2.127", "-" },
	{ "odd prefix in", "192.0.2.128/25 A\n", "192.0.2.255", "A" },
	{ "prefix 0", "0.0.0.0/0 ALL\n", "203.0.113.9", "ALL" },
	{ "v6 network", "2001:db8::/32 A\n", "2001:db8:1::5", "A" },
	{ "v6 exact", "2001:db8::1 A\n", "2001:DB8:0::1", "A" },
	{ "v6 brackets", "[2001:db8::]/32 A\n", "2001:db8::9", "A" },
	{ "v4 brackets", "[192.0.2.1] A\n", "192.0.2.1", "A" },
	{ "first match wins", "192.0.2.1 OK\n192.0.2.0/24 REJECT\n", "192.0.2.1", "OK" },
	{ "first match wins 2", "192.0.2.1 OK\n192.0.2.0/24 REJECT\n", "192.0.2.2", "REJECT" },
	{ "v4 key, v6 rule", "::/0 V6\n", "192.0.2.1", "-" },
	{ "v6 key, v4 rule", "0.0.0.0/0 V4\n", "2001:db8::1", "-" },
	{ "v4-mapped key", "192.0.2.0/24 A\n", "::ffff:192.0.2.1", "A" },
	{ "v4-mapped rule", "::ffff:192.0.2.1 A\n", "192.0.2.1", "A" },
	{ "key not an address", "0.0.0.0/0 A\n", "mail.example", "-" },
	{ "key in brackets", "0.0.0.0/0 A\n", "[192.0.2.1]", "-" },
	{ "negated", "!192.0.2.0/24 OUT\n", "198.51.100.1", "OUT" },
	{ "negated no", "!192.0.2.0/24 OUT\n", "192.0.2.1", "-" },
	{ "negated other family", "!192.0.2.0/24 OUT\n", "2001:db8::1", "-" },
	{ "value text", "192.0.2.1 REJECT go away\n", "192.0.2.1", "REJECT go away" },
	{ "if true", "if 192.0.2.0/24\n192.0.2.0/25 LOW\nendif\n0.0.0.0/0 ANY\n", "192.0.2.1", "LOW" },
	{ "if false skips", "if 192.0.2.0/24\n0.0.0.0/0 IN\nendif\n0.0.0.0/0 ANY\n", "10.1.1.1", "ANY" },
	{ "if not", "if !10.0.0.0/8\n0.0.0.0/0 NOT10\nendif\n", "192.0.2.1", "NOT10" },
	{ "if not false", "if !10.0.0.0/8\n0.0.0.0/0 NOT10\nendif\n", "10.0.0.1", "-" },
	{ "nested ifs", "if 10.0.0.0/8\nif 10.1.0.0/16\n10.1.1.0/24 DEEP\nendif\n10.0.0.0/8 TEN\nendif\n", "10.2.0.1", "TEN" },
	{ "nested ifs deep", "if 10.0.0.0/8\nif 10.1.0.0/16\n10.1.1.0/24 DEEP\nendif\n10.0.0.0/8 TEN\nendif\n", "10.1.1.1", "DEEP" },
	{ "IF and ENDIF any case", "IF 10.0.0.0/8\n10.0.0.0/8 X\nEndIf\n", "10.0.0.1", "X" },
	{ "if without space", "if!10.0.0.0/8\n0.0.0.0/0 X\nendif\n", "192.0.2.1", "X" },
	{ "host bits", "192.0.2.1/24 A\n", "192.0.2.1", "E t:1: \"192.0.2.1/24\" has host bits set: perhaps you mean \"192.0.2.0/24\"" },
	{ "v6 host bits", "2001:db8::1/32 A\n", "2001:db8::1", "E t:1: \"2001:db8::1/32\" has host bits set: perhaps you mean \"2001:db8::/32\"" },
	{ "prefix too long", "192.0.2.0/33 A\n", "192.0.2.1", "E t:1: bad address pattern" },
	{ "prefix empty", "192.0.2.0/ A\n", "192.0.2.1", "E t:1: bad address pattern" },
	{ "prefix sign", "192.0.2.0/+8 A\n", "192.0.2.1", "E t:1: bad address pattern" },
	{ "leading zero", "01.2.3.4 A\n", "1.2.3.4", "E t:1: bad address pattern" },
	{ "name", "mail.example A\n", "1.2.3.4", "E t:1: bad address pattern \"mail.example\"" },
	{ "no value", "192.0.2.1\n", "192.0.2.1", "E t:1: expected format: pattern whitespace value" },
	{ "endif without if", "endif\n", "1.2.3.4", "E t:1: endif without if" },
	{ "if without endif", "0.0.0.0/0 A\nif 10.0.0.0/8\n", "1.2.3.4", "E t:2: if without endif" },
	{ "text after endif", "if 10.0.0.0/8\nendif x\n", "1.2.3.4", "E t:2: text after endif" },
	{ "text after if", "if 10.0.0.0/8 x\nendif\n", "1.2.3.4", "E t:1: text after the pattern of an if" },
};
// clang-format on

static void
test_maptable_cidr_rows(void **state)
{
	(void)state;
	run_rows(MAPTABLE_CIDR, cidr_rows, MW_NELEM(cidr_rows));
}

// clang-format off
static const struct row regexp_rows[] = {
	{ "match", "/^spam@/ REJECT\n", "spam@example.org", "REJECT" },
	{ "no match", "/^spam@/ REJECT\n", "ham@example.org", "-" },
	{ "case-insensitive by default", "/^SPAM@/ REJECT\n", "spam@x", "REJECT" },
	{ "flag i toggles to sensitive", "/^SPAM@/i REJECT\n", "spam@x", "-" },
	{ "flag i sensitive match", "/^SPAM@/i REJECT\n", "SPAM@x", "REJECT" },
	{ "$1 and ${2}", "/^(.*)@(.*)$/ u=$1 d=${2}x\n", "Bob@Example.COM", "u=Bob d=Example.COMx" },
	{ "$(1)", "/^(.*)@/ [$(1)]\n", "bob@x", "[bob]" },
	{ "$$", "/^(.*)@/ cost $$5 $1\n", "bob@x", "cost $5 bob" },
	{ "$0 is the match", "/b+/ <$0>\n", "abbbc", "<bbb>" },
	{ "unset group is empty", "/a(b)?c/ [$1]\n", "ac", "[]" },
	{ "first match wins", "/a/ A\n/b/ B\n", "ab", "A" },
	{ "second rule", "/a/ A\n/b/ B\n", "xb", "B" },
	{ "negated", "!/^postmaster@/ NOTPM\n", "bob@x", "NOTPM" },
	{ "negated no", "!/^postmaster@/ NOTPM\n", "postmaster@x", "-" },
	{ "other delimiter", "#^a/b$# SLASH\n", "a/b", "-" },
	{ "other delimiter 2", "|^a/b$| SLASH\n", "a/b", "SLASH" },
	{ "escaped delimiter", "/^a\\/b$/ SLASH\n", "a/b", "SLASH" },
	{ "white space in pattern", "/^a b$/ AB\n", "a b", "AB" },
	{ "if", "if /@example\\.org$/\n/^bob@/ BOB\nendif\n/^bob@/ OTHER\n", "bob@example.org", "BOB" },
	{ "if false", "if /@example\\.org$/\n/^bob@/ BOB\nendif\n/^bob@/ OTHER\n", "bob@example.net", "OTHER" },
	{ "if not", "if !/^owner-/\n/^(.*)-outgoing@(.*)$/ 550 Use ${1}@${2} instead\nendif\n", "list-outgoing@x.org", "550 Use list@x.org instead" },
	{ "if not false", "if !/^owner-/\n/-outgoing@/ X\nendif\n", "owner-list-outgoing@x.org", "-" },
	{ "nested if", "if /a/\nif /b/\n/c/ ABC\nendif\n/./ A\nendif\n", "ac", "A" },
	{ "flag m", "/^b$/m B\n", "a\nb", "B" },
	{ "x flag is a no-op", "/a b/x AB\n", "a b", "AB" },
	{ "bad flag", "/a/s A\n", "a", "E t:1: unknown flag \"s\" (regexp tables know imx)" },
	{ "no closing delimiter", "/abc A\n", "a", "E t:1: no closing delimiter \"/\"" },
	{ "no pattern", "abc A\n", "a", "E t:1: expected /pattern/" },
	{ "backslash delimiter", "\\a\\ A\n", "a", "E t:1: expected /pattern/" },
	{ "bad pattern", "/(a/ A\n", "a", "E t:1: bad pattern \"(a\": missing closing parenthesis" },
	{ "no value", "/a/\n", "a", "E t:1: expected format: /pattern/ whitespace value" },
	{ "group out of range", "/(a)/ $2\n", "a", "E t:1: $2 but the pattern has 1 group" },
	{ "$1 without groups", "/a/ $1\n", "a", "E t:1: $1 but the pattern has 0 groups" },
	{ "$1 in negated", "!/(a)/ $1\n", "b", "E t:1: $1 in the value of a negated pattern" },
	{ "lone $", "/(a)/ cost $ 5\n", "a", "E t:1: bad replacement \"$ 5\"" },
	{ "$name", "/(a)/ $foo\n", "a", "E t:1: bad replacement \"$foo\"" },
	{ "$1z", "/(a)/ $1z\n", "a", "E t:1: bad replacement \"$1z\"" },
	{ "unclosed ${", "/(a)/ ${1\n", "a", "E t:1: bad replacement \"${1\"" },
	{ "endif without if", "endif\n", "a", "E t:1: endif without if" },
	{ "if without endif", "if /a/\n/a/ A\n", "a", "E t:1: if without endif" },
	{ "text after if", "if /a/ A\nendif\n", "a", "E t:1: text after the pattern of an if" },
};

static const struct row pcre_rows[] = {
	{ "pcre match", "/^\\d+@/ DIGITS\n", "123@x", "DIGITS" },
	{ "pcre case-insensitive", "/^ABC$/ X\n", "abc", "X" },
	{ "pcre x extended", "/^a \\s b$/x AB\n", "a b", "AB" },
	{ "pcre without x", "/^a \\s b$/ AB\n", "a   b", "AB" },
	{ "pcre s dotall", "/a.b/s AB\n", "a\nb", "AB" },
	{ "pcre without s", "/a.b/ AB\n", "a\nb", "-" },
	{ "pcre U ungreedy", "/^(a+)/U [$1]\n", "aaa", "[a]" },
	{ "pcre A anchored", "/b/A B\n", "ab", "-" },
	{ "pcre E dollar end only", "/a$/E A\n", "a\n", "-" },
	{ "pcre X accepted", "/a/X A\n", "a", "A" },
	{ "pcre bad flag", "/a/q A\n", "a", "E t:1: unknown flag \"q\" (pcre tables know imsxAEUX)" },
	{ "pcre lookahead", "/^(?!postmaster@).*@example\\.org$/ NOTPM\n", "bob@example.org", "NOTPM" },
};
// clang-format on

static void
test_maptable_regexp_rows(void **state)
{
	(void)state;
	run_rows(MAPTABLE_REGEXP, regexp_rows, MW_NELEM(regexp_rows));
	/* pcre: reads what regexp: reads, up to "x flag is a no-op" */
	run_rows(MAPTABLE_PCRE, regexp_rows, 24);
	run_rows(MAPTABLE_PCRE, pcre_rows, MW_NELEM(pcre_rows));
}

/* A pattern that backtracks forever fails the lookup (a temporary error)
 * instead of holding the thread. */
static void
test_maptable_regexp_backtracking_is_bounded(void **state)
{
	const char *t = "/^(a+)+$/ X\n";
	char key[64], *got;

	(void)state;
	memset(key, 'a', 40);
	key[40] = 'b';
	key[41] = '\0';
	got = run(MAPTABLE_PCRE, t, strlen(t), &maptable_limits_default, key);
	assert_string_equal(
	    got, "! t:1: matching failed: match limit exceeded");
	free(got);
}

/* The value_out ceiling: an expanded value that does not fit is an error,
 * not a truncated answer. */
static void
test_maptable_value_too_long(void **state)
{
	struct maptable_data *d;
	struct buf err, value;
	const char *t = "/(.*)/ $1$1$1$1\n";

	(void)state;
	buf_init(&err, 4096);
	buf_init(&value, 16);
	d = maptable_data_parse(MAPTABLE_REGEXP, t, strlen(t), "t",
	    &maptable_limits_default, NULL, &err);
	assert_non_null(d);
	assert_int_equal(maptable_data_lookup(d, "abc", &value, &err), 0);
	assert_string_equal(buf_cstr(&value), "abcabcabcabc");
	assert_int_equal(maptable_data_lookup(d, "abcde", &value, &err), -1);
	assert_string_equal(buf_cstr(&err), "t:1: value longer than 16 bytes");
	maptable_data_free(&d);
	buf_free(&err);
	buf_free(&value);
}

/* Makes n entries "kI vI\n" of each format. */
static char *
make_entries(enum maptable_type type, size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b, BUF_MAX_DEFAULT);
	for (i = 0; i < n; i++) {
		if (type == MAPTABLE_CIDR)
			assert_int_equal(buf_printf(&b, "10.0.%zu.%zu v%zu\n",
			                     i / 256, i % 256, i),
			    0);
		else if (type == MAPTABLE_REGEXP)
			assert_int_equal(
			    buf_printf(&b, "/^k%zu$/ v%zu\n", i, i), 0);
		else
			assert_int_equal(
			    buf_printf(&b, "k%zu v%zu\n", i, i), 0);
	}
	if (b.data == NULL)
		assert_int_equal(buf_append_str(&b, ""), 0);
	return buf_steal(&b);
}

static void
test_maptable_entries_limit(void **state)
{
	static const enum maptable_type types[] = { MAPTABLE_HASH,
		MAPTABLE_CIDR, MAPTABLE_REGEXP };
	struct maptable_limits lim = maptable_limits_default;
	size_t t, n;
	char *text, *got;

	(void)state;
	lim.entries_max = 10;
	for (t = 0; t < MW_NELEM(types); t++)
		for (n = 9; n <= 11; n++) {
			text = make_entries(types[t], n);
			got = run(types[t], text, strlen(text), &lim,
			    types[t] == MAPTABLE_CIDR ? "10.0.0.8" : "k8");
			if (n <= 10)
				assert_string_equal(got, "v8");
			else
				assert_non_null(
				    strstr(got, "t:11: more than 10"));
			free(got);
			free(text);
		}
}

/* A logical line of line_max - 1, line_max and line_max + 1 bytes, made
 * of one physical line or of a line and a continuation line. */
static void
test_maptable_line_limit(void **state)
{
	struct maptable_limits lim = maptable_limits_default;
	struct buf text;
	size_t len, i;
	char *got, want[64];
	int cont;

	(void)state;
	lim.line_max = 100;
	buf_init(&text, 4096);
	for (cont = 0; cont <= 1; cont++)
		for (len = 99; len <= 101; len++) {
			buf_reset(&text);
			assert_int_equal(buf_append_str(&text, "k "), 0);
			for (i = 2; i < len; i++) {
				/* the continuation's leading space counts */
				if (cont && i == 40)
					assert_int_equal(
					    buf_append_str(&text, "\n "), 0);
				else
					assert_int_equal(
					    buf_append_char(&text, 'x'), 0);
			}
			assert_int_equal(buf_append_char(&text, '\n'), 0);
			got =
			    run(MAPTABLE_HASH, text.data, text.len, &lim, "k");
			(void)snprintf(want, sizeof(want),
			    "E t:%d: logical line longer than 100 bytes",
			    cont ? 2 : 1);
			if (len <= 100)
				assert_int_equal(got[0], 'x');
			else
				assert_string_equal(got, want);
			free(got);
		}
	buf_free(&text);
}

static void
test_maptable_file_limit(void **state)
{
	struct maptable_limits lim = maptable_limits_default;
	static const enum maptable_type types[] = { MAPTABLE_HASH,
		MAPTABLE_CIDR, MAPTABLE_REGEXP };
	const char *text[] = { "k vvvvv\n", "1.2.3.4 v\n", "/k/ vvvv\n" };
	size_t t, len;
	char *got, want[64];

	(void)state;
	for (t = 0; t < MW_NELEM(types); t++) {
		len = strlen(text[t]);
		lim.file_max = len - 1;
		got = run(types[t], text[t], len, &lim, "k");
		(void)snprintf(want, sizeof(want),
		    "E t is larger than %zu bytes", len - 1);
		assert_string_equal(got, want);
		free(got);
		lim.file_max = len;
		got = run(types[t], text[t], len, &lim,
		    types[t] == MAPTABLE_CIDR ? "1.2.3.4" : "k");
		assert_int_equal(got[0], 'v');
		free(got);
	}
}

static void
test_maptable_spec_parse(void **state)
{
	// clang-format off
	static const struct {
		const char *spec;
		int ok;
		enum maptable_type type;
		const char *path;
	} rows[] = {
		{ "hash:/etc/x",      1, MAPTABLE_HASH,     "/etc/x" },
		{ "HASH:/etc/x",      1, MAPTABLE_HASH,     "/etc/x" },
		{ "/etc/x",           1, MAPTABLE_HASH,     "/etc/x" },
		{ "relative",         1, MAPTABLE_HASH,     "relative" },
		{ "./a:b",            1, MAPTABLE_HASH,     "./a:b" },
		{ "texthash:t",       1, MAPTABLE_TEXTHASH, "t" },
		{ "cidr:/c",          1, MAPTABLE_CIDR,     "/c" },
		{ "regexp:/r",        1, MAPTABLE_REGEXP,   "/r" },
		{ "pcre:/p",          1, MAPTABLE_PCRE,     "/p" },
		{ "lmdb:/etc/x",      0, MAPTABLE_HASH,     NULL },
		{ "hash:",            0, MAPTABLE_HASH,     NULL },
		{ "",                 0, MAPTABLE_HASH,     NULL },
	};
	// clang-format on
	struct buf err;
	enum maptable_type type;
	const char *path;
	size_t i;

	(void)state;
	buf_init(&err, 4096);
	for (i = 0; i < MW_NELEM(rows); i++) {
		buf_reset(&err);
		if (!rows[i].ok) {
			assert_int_equal(maptable_spec_parse(
			                     rows[i].spec, &type, &path, &err),
			    -1);
			assert_true(err.len > 0);
			continue;
		}
		assert_int_equal(
		    maptable_spec_parse(rows[i].spec, &type, &path, &err), 0);
		assert_int_equal(type, rows[i].type);
		assert_string_equal(path, rows[i].path);
	}
	assert_int_equal(
	    maptable_spec_parse("lmdb:/etc/x", &type, &path, &err), -1);
	assert_string_equal(buf_cstr(&err),
	    "\"lmdb:/etc/x\": unsupported table type \"lmdb\" (use hash, "
	    "texthash, cidr, regexp or pcre)");
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maptable_text_rows),
		cmocka_unit_test(test_maptable_text_nul_is_error),
		cmocka_unit_test(test_maptable_text_duplicate_warns),
		cmocka_unit_test(test_maptable_every_prefix),
		cmocka_unit_test(test_maptable_cidr_rows),
		cmocka_unit_test(test_maptable_regexp_rows),
		cmocka_unit_test(test_maptable_regexp_backtracking_is_bounded),
		cmocka_unit_test(test_maptable_value_too_long),
		cmocka_unit_test(test_maptable_entries_limit),
		cmocka_unit_test(test_maptable_line_limit),
		cmocka_unit_test(test_maptable_file_limit),
		cmocka_unit_test(test_maptable_spec_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
