/*
 * Unit tests of the configuration's text layers: the main.cf-syntax
 * parser, $name expansion, lists and the -e/-X text editor, with their
 * exact error and warning lines and their limits. Types, bounds, the table
 * and loading are in test_conf_values.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// clang-format off
#include <cmocka.h> /* after setjmp.h, stdarg.h and stddef.h */
// clang-format on

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/conf_parse.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include "conf_test.h"

/* ---- syntax ---- */

struct parse_row {
	const char *label;
	const char *text;
	const char *name;  /* looked up after parsing */
	const char *value; /* NULL: name not defined */
	size_t line;
};

// clang-format off
static const struct parse_row parse_rows[] = {
	{ "plain", "a = b\n", "a", "b", 1 },
	{ "no spaces", "a=b\n", "a", "b", 1 },
	{ "tabs around =", "a\t=\tb c \t\n", "a", "b c", 1 },
	{ "no final newline", "a = b", "a", "b", 1 },
	{ "CRLF", "a = b\r\nc = d\r\n", "a", "b", 1 },
	{ "empty value", "a =\n", "a", "", 1 },
	{ "comment line", "# a = x\na = b\n", "a", "b", 2 },
	{ "indented comment", "a = b\n   # c = d\n", "c", NULL, 0 },
	{ "# inside a value", "a = b # c\n", "a", "b # c", 1 },
	{ "blank lines", "\n\n  \t\na = b\n\n", "a", "b", 4 },
	{ "continuation", "a = b\n c\n\td\n", "a", "b c d", 1 },
	{ "continuation trailing space", "a = b  \n   c  \n", "a", "b c", 1 },
	{ "comment inside continuation", "a = b\n# x\n c\n", "a", "b c", 1 },
	{ "blank inside continuation", "a = b\n\n c\n", "a", "b c", 1 },
	{ "override", "a = b\nx = y\na = c\n", "a", "c", 3 },
	{ "= in value", "a = b=c\n", "a", "b=c", 1 },
	{ "digits and _", "A_9 = 1\n", "A_9", "1", 1 },
};
// clang-format on

static void
test_conf_parse_table(void **state)
{
	struct conf_file f = { NULL, 0, 0 };
	const struct conf_def *d;
	struct buf err;
	size_t i;

	buf_init(&err, 4096);
	for (i = 0; i < MW_NELEM(parse_rows); i++) {
		const struct parse_row *r = &parse_rows[i];

		buf_reset(&err);
		if (conf_parse(LABEL, r->text, strlen(r->text),
		        &conf_limits_default, &f, &err) == -1)
			fail_msg("%s: %s", r->label, buf_cstr(&err));
		d = conf_file_find(&f, r->name);
		if (r->value == NULL) {
			if (d != NULL)
				fail_msg("%s: %s defined", r->label, r->name);
		} else {
			if (d == NULL)
				fail_msg(
				    "%s: %s not defined", r->label, r->name);
			if (strcmp(d->value, r->value) != 0 ||
			    d->line != r->line)
				fail_msg("%s: got \"%s\" at %zu", r->label,
				    d->value, d->line);
		}
		conf_file_free(&f);
	}
	buf_free(&err);
}

struct parse_error_row {
	const char *text;
	const char *err;
};

// clang-format off
static const struct parse_error_row parse_error_rows[] = {
	{ "a = b\nsmtpd_banner\n", LABEL ":2: missing '=' after \"smtpd_banner\"" },
	{ "a = b\nfoo bar baz\n", LABEL ":2: missing '=' after \"foo\"" },
	{ "a = b\nfoo\n  bar\n", LABEL ":2: missing '=' after \"foo\"" },
	{ "= b\n", LABEL ":1: missing parameter name before '='" },
	{ "a b = c\n", LABEL ":1: bad parameter name \"a b\" (letters, digits and _ only)" },
	{ "a-b = c\n", LABEL ":1: bad parameter name \"a-b\" (letters, digits and _ only)" },
	{ "\n  a = b\n", LABEL ":2: line starts with white space but no definition precedes it" },
};
// clang-format on

static void
test_conf_parse_errors_exact(void **state)
{
	struct conf_file f = { NULL, 0, 0 };
	struct buf err;
	size_t i;

	buf_init(&err, 4096);
	for (i = 0; i < MW_NELEM(parse_error_rows); i++) {
		buf_reset(&err);
		assert_int_equal(conf_parse(LABEL, parse_error_rows[i].text,
		                     strlen(parse_error_rows[i].text),
		                     &conf_limits_default, &f, &err),
		    -1);
		assert_string_equal(buf_cstr(&err), parse_error_rows[i].err);
		assert_int_equal(f.n, 0);
	}
	buf_free(&err);
}

static void
test_conf_parse_nul_is_error(void **state)
{
	static const char text[] = "a = b\nc = d\0e\n";
	struct conf_file f = { NULL, 0, 0 };
	struct buf err;

	buf_init(&err, 4096);
	assert_int_equal(conf_parse(LABEL, text, sizeof(text) - 1,
	                     &conf_limits_default, &f, &err),
	    -1);
	assert_string_equal(buf_cstr(&err), LABEL ":2: NUL byte in line");
	buf_free(&err);
}

/* A logical line of exactly n bytes: "a = xxx..." or split in two. */
static char *
line_of(size_t n, bool continued)
{
	char *s = xmalloc(n + 3);

	memset(s, 'x', n + 2);
	memcpy(s, "a = ", 4);
	if (continued) {
		/* "a = xx\n yy": the newline and the space join as one */
		memcpy(s + n / 2, "\n ", 2);
		s[n + 1] = '\n';
		s[n + 2] = '\0';
	} else {
		s[n] = '\n';
		s[n + 1] = '\0';
	}
	return s;
}

static void
test_conf_parse_line_limit(void **state)
{
	struct conf_limits lim = conf_limits_default;
	struct conf_file f = { NULL, 0, 0 };
	struct buf err;
	size_t sizes[] = { 32, 65536 }, i, d;
	int cont;

	buf_init(&err, 4096);
	for (i = 0; i < MW_NELEM(sizes); i++) {
		lim.line_max = sizes[i];
		for (cont = 0; cont <= 1; cont++)
			for (d = 0; d <= 2; d++) { /* max-1, max, max+1 */
				size_t n = sizes[i] - 1 + d;
				char *s = line_of(n, cont);
				int r;

				buf_reset(&err);
				r = conf_parse(
				    LABEL, s, strlen(s), &lim, &f, &err);
				if (n <= sizes[i]) {
					assert_int_equal(r, 0);
					assert_int_equal(
					    strlen(f.defs[0].value), n - 4);
				} else {
					assert_int_equal(r, -1);
					assert_non_null(strstr(buf_cstr(&err),
					    ":1: line longer than"));
				}
				conf_file_free(&f);
				free(s);
			}
	}
	buf_free(&err);
}

static void
test_conf_parse_file_limit(void **state)
{
	struct conf_limits lim = conf_limits_default;
	struct conf_file f = { NULL, 0, 0 };
	struct buf err;
	char text[64];
	size_t n;

	buf_init(&err, 4096);
	memset(text, '#', sizeof(text));
	lim.file_max = 40;
	for (n = 39; n <= 41; n++) {
		buf_reset(&err);
		if (n <= 40) {
			assert_int_equal(
			    conf_parse(LABEL, text, n, &lim, &f, &err), 0);
		} else {
			assert_int_equal(
			    conf_parse(LABEL, text, n, &lim, &f, &err), -1);
			assert_string_equal(
			    buf_cstr(&err), LABEL ": larger than 40 bytes");
		}
	}
	buf_free(&err);
}

/* ---- expansion ---- */

struct expand_row {
	const char *label;
	const char *text; /* defines x and whatever it uses */
	const char *want; /* x expanded */
};

// clang-format off
static const struct expand_row expand_rows[] = {
	{ "$name", "a = 1\nx = <$a>\n", "<1>" },
	{ "${name}", "a = 1\nx = <${a}b>\n", "<1b>" },
	{ "$(name)", "a = 1\nx = <$(a)b>\n", "<1b>" },
	{ "$$", "x = a$$b$$\n", "a$b$" },
	{ "$$name is not expanded", "a = 1\nx = $$a\n", "$a" },
	{ "recursive", "a = $b\nb = ${c}\nc = 3\nx = $a$b$c\n", "333" },
	{ "definition order is free", "x = $a\na = 1\n", "1" },
	{ "the later definition", "a = 1\nx = $a\na = 2\n", "2" },
	{ "default", "x = $mail_name\n", "mailwright" },
	{ "default using the file", "myhostname = h.example\nx = $smtpd_banner\n", "h.example ESMTP mailwright" },
	{ "? when set", "a = 1\nx = <${a?yes}>\n", "<yes>" },
	{ "? when empty", "a =\nx = <${a?yes}>\n", "<>" },
	{ ": when set", "a = 1\nx = <${a:no}>\n", "<>" },
	{ ": when empty", "a =\nx = <${a:no}>\n", "<no>" },
	{ "? with parens", "a = 1\nx = <$(a?y(e)s)>\n", "<y(e)s>" },
	{ "? text expands", "a = 1\nb = 2\nx = ${a?<$b>}\n", "<2>" },
	{ "nested conditional", "a = 1\nb =\nx = ${a?${b:in}}\n", "in" },
	{ "name stops at other chars", "a = 1\nx = $a.$a-$a/\n", "1.1-1/" },
	{ "mydomain from myhostname", "myhostname = mx.example.org\nx = $mydomain\n", "example.org" },
	{ "mydomain without a dot", "myhostname = mx\nx = $mydomain\n", "localdomain" },
};
// clang-format on

static void
test_conf_expand_forms(void **state)
{
	struct conf_file f = { NULL, 0, 0 };
	struct conf_env *env;
	struct buf err, warn;
	const char *v;
	size_t i;

	buf_init(&err, 4096);
	buf_init(&warn, 4096);
	for (i = 0; i < MW_NELEM(expand_rows); i++) {
		const struct expand_row *r = &expand_rows[i];

		assert_int_equal(conf_parse(LABEL, r->text, strlen(r->text),
		                     &conf_limits_default, &f, &err),
		    0);
		env = conf_env_build(LABEL, &f, &conf_limits_default);
		v = conf_env_expand(env, "x", &err, &warn);
		if (v == NULL)
			fail_msg("%s: %s", r->label, buf_cstr(&err));
		if (strcmp(v, r->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", r->label, v,
			    r->want);
		assert_string_equal(buf_cstr(&warn), "");
		conf_env_free(&env);
		conf_file_free(&f);
	}
	buf_free(&err);
	buf_free(&warn);
}

static void
test_conf_expand_unknown_is_empty_with_warning(void **state)
{
	struct buf err, warn;
	struct conf *c;

	c = load("smtpd_banner = a$nosuchthing b ${myhostnme}c\n", &err, &warn);
	assert_non_null(c);
	assert_string_equal(c->smtpd_banner, "a b c");
	assert_string_equal(buf_cstr(&warn),
	    LABEL
	    ":1: smtpd_banner: unknown parameter $nosuchthing expands to empty\n" LABEL
	    ":1: smtpd_banner: unknown parameter $myhostnme expands to empty (did you mean $myhostname?)\n");
	conf_free(&c);
	buf_free(&err);
	buf_free(&warn);
}

struct expand_error_row {
	const char *text;
	const char *err;
};

// clang-format off
static const struct expand_error_row expand_error_rows[] = {
	{ "smtpd_banner = $smtpd_banner\n", LABEL ":1: smtpd_banner: recursive expansion of $smtpd_banner" },
	{ "a = $b\nb = $a\nmyorigin = $a\n", LABEL ":2: b: recursive expansion of $a" },
	{ "a = ${a?x}\nmyorigin = $a\n", LABEL ":1: a: recursive expansion of $a" },
	{ "myhostname = x.$mydomain\n", LABEL ":1: myhostname: recursive expansion of $myhostname" },
	{ "smtpd_banner = a$\n", LABEL ":1: smtpd_banner: \"$\" not followed by a name (write \"$$\" for a literal \"$\")" },
	{ "smtpd_banner = a$ b\n", LABEL ":1: smtpd_banner: \"$\" not followed by a name (write \"$$\" for a literal \"$\")" },
	{ "smtpd_banner = ${}\n", LABEL ":1: smtpd_banner: \"${\" not followed by a name" },
	{ "smtpd_banner = ${mail_name\n", LABEL ":1: smtpd_banner: unterminated \"${mail_name\"" },
	{ "smtpd_banner = ${mail_name?x\n", LABEL ":1: smtpd_banner: unterminated \"${mail_name\"" },
	{ "smtpd_banner = $(mail_name}\n", LABEL ":1: smtpd_banner: unterminated \"$(mail_name\"" },
	{ "smtpd_banner = ${mail name}\n", LABEL ":1: smtpd_banner: bad character ' ' after \"${mail\"" },
	{ "a = $\nsmtpd_banner = $a\n", LABEL ":1: a: \"$\" not followed by a name (write \"$$\" for a literal \"$\")" },
};
// clang-format on

static void
test_conf_expand_errors_exact(void **state)
{
	size_t i;

	for (i = 0; i < MW_NELEM(expand_error_rows); i++) {
		char *e = load_error(expand_error_rows[i].text);

		assert_string_equal(e, expand_error_rows[i].err);
		free(e);
	}
}

/* A chain a0 = $a1, ..., a(n-1) = end, expanded from a0. */
static const char *
expand_chain(size_t n, size_t depth_max, struct buf *err)
{
	static char v[64];
	struct conf_limits lim = conf_limits_default;
	struct conf_env *env;
	struct buf warn;
	char name[32], raw[32];
	const char *r;
	size_t i;

	lim.depth_max = depth_max;
	buf_init(&warn, 4096);
	env = conf_env_new(LABEL, &lim);
	for (i = 0; i < n; i++) {
		(void)snprintf(name, sizeof(name), "a%zu", i);
		if (i + 1 < n)
			(void)snprintf(raw, sizeof(raw), "$a%zu", i + 1);
		else
			(void)snprintf(raw, sizeof(raw), "end");
		conf_env_set(env, name, raw, i + 1);
	}
	r = conf_env_expand(env, "a0", err, &warn);
	(void)snprintf(v, sizeof(v), "%s", r != NULL ? r : "(null)");
	conf_env_free(&env);
	buf_free(&warn);
	return v;
}

static void
test_conf_expand_depth_limit(void **state)
{
	struct buf err;

	buf_init(&err, 4096);
	/* n variables nest n deep: max-1, max, max+1 */
	assert_string_equal(expand_chain(9, 10, &err), "end");
	assert_string_equal(expand_chain(10, 10, &err), "end");
	assert_string_equal(expand_chain(11, 10, &err), "(null)");
	assert_string_equal(buf_cstr(&err),
	    LABEL ":10: a9: expansion nested more than 10 levels deep");
	buf_reset(&err);
	assert_string_equal(expand_chain(100, 100, &err), "end");
	buf_free(&err);
}

static void
test_conf_expand_loop_is_error(void **state)
{
	struct conf_env *env;
	struct buf err, warn;

	buf_init(&err, 4096);
	buf_init(&warn, 4096);
	env = conf_env_new(LABEL, &conf_limits_default);
	conf_env_set(env, "a", "x$b", 1);
	conf_env_set(env, "b", "${c:$a}", 2);
	conf_env_set(env, "c", "", 3);
	assert_null(conf_env_expand(env, "a", &err, &warn));
	assert_string_equal(
	    buf_cstr(&err), LABEL ":2: b: recursive expansion of $a");
	assert_true(conf_env_referenced(env, "a"));
	/* asking again gives the same answer, not a stale half value */
	buf_reset(&err);
	assert_null(conf_env_expand(env, "b", &err, &warn));
	assert_string_equal(
	    buf_cstr(&err), LABEL ":1: a: recursive expansion of $b");
	conf_env_free(&env);
	buf_free(&err);
	buf_free(&warn);
}

static void
test_conf_expand_value_and_total_limits(void **state)
{
	struct conf_limits lim = conf_limits_default;
	struct conf_env *env;
	struct buf err, warn;
	const char *v;

	buf_init(&err, 4096);
	buf_init(&warn, 4096);
	lim.value_max = 16;
	lim.expand_max = 40;
	env = conf_env_new(LABEL, &lim);
	conf_env_set(env, "a", "12345678", 1);
	conf_env_set(env, "b", "$a$a", 2);        /* 16: max */
	conf_env_set(env, "c", "$a$a$$", 3);      /* 17: max+1 */
	conf_env_set(env, "d", "${a}1234567", 4); /* 15: max-1 */
	v = conf_env_expand(env, "d", &err, &warn);
	assert_string_equal(v, "123456781234567");
	v = conf_env_expand(env, "b", &err, &warn);
	assert_string_equal(v, "1234567812345678");
	assert_null(conf_env_expand(env, "c", &err, &warn));
	assert_string_equal(
	    buf_cstr(&err), LABEL ":3: c: expanded value longer than 16 bytes");
	/* 8 + 15 + 16 = 39 bytes so far: 2 more pass 40 */
	conf_env_set(env, "e", "12", 5);
	buf_reset(&err);
	assert_null(conf_env_expand(env, "e", &err, &warn));
	assert_string_equal(buf_cstr(&err),
	    LABEL ":5: e: expansion produces more than 40 bytes in all");
	conf_env_free(&env);
	buf_free(&err);
	buf_free(&warn);
}

/* a(i) = $a(i+1)$a(i+1): 2^n bytes from n lines, stopped by the limits. */
static void
test_conf_expand_doubling_is_bounded(void **state)
{
	struct buf text, err, warn;
	struct conf *c;
	int i;

	buf_init(&text, 1 << 20);
	for (i = 0; i < 60; i++)
		assert_int_equal(
		    buf_printf(&text, "a%d = $a%d$a%d\n", i, i + 1, i + 1), 0);
	assert_int_equal(
	    buf_printf(&text, "a60 = xy\nsmtpd_banner = $a0\n"), 0);
	c = load(buf_cstr(&text), &err, &warn);
	assert_null(c);
	assert_non_null(strstr(buf_cstr(&err), "longer than 1048576 bytes"));
	buf_free(&text);
	buf_free(&err);
	buf_free(&warn);
}

/* ---- lists ---- */

static void
test_conf_list_split_on_commas_and_space(void **state)
{
	static const char *const want[] = { "a.example", "b.example",
		"c.example", "d.example" };
	static const char *const want_hosts[] = { "h.example",
		"localhost.example", "localhost" };
	struct conf *c;

	c = load_ok("myhostname = h.example\n"
	            "mynetworks = ,a.example,, b.example ,\tc.example\n"
	            "  d.example,\n"
	            "smtpd_listen =\n");
	assert_list(&c->mynetworks, want, 4);
	assert_list(&c->mydestination, want_hosts, 3);
	assert_int_equal(c->smtpd_listen.n, 0);
	assert_true(conf_list_has(&c->mydestination, "LOCALHOST"));
	assert_true(conf_list_has(&c->mydestination, "H.Example"));
	assert_false(conf_list_has(&c->mydestination, "example"));
	assert_false(conf_list_has(&c->smtpd_listen, ""));
	conf_free(&c);
}

/* ---- editing ---- */

struct edit_row {
	const char *label;
	const char *before;
	struct conf_edit edits[3];
	const char *after;
	const char *warn;
};

// clang-format off
static const struct edit_row edit_rows[] = {
	{ "replace, keep comments",
	  "# top\na = 1\n# mid\nb = 2\n\n# end\n",
	  { { "a", "9" } },
	  "# top\na = 9\n# mid\nb = 2\n\n# end\n", "" },
	{ "replace a multi-line value",
	  "a = 1,\n  2,\n\t3\nb = 2\n",
	  { { "a", "x" } },
	  "a = x\nb = 2\n", "" },
	{ "keep a comment inside a replaced value",
	  "a = 1,\n# note\n  2\nb = 2\n",
	  { { "a", "x" } },
	  "a = x\n# note\nb = 2\n", "" },
	{ "append",
	  "# only a comment\n",
	  { { "a", "1" }, { "b", "" } },
	  "# only a comment\na = 1\nb = \n", "" },
	{ "append after a last line without newline",
	  "a = 1",
	  { { "b", "2" } },
	  "a = 1\nb = 2\n", "" },
	{ "append to an empty file",
	  "",
	  { { "b", "2" } },
	  "b = 2\n", "" },
	{ "remove with continuation",
	  "a = 1\n  2\nb = 2\n  3\nc = 3\n",
	  { { "b", NULL } },
	  "a = 1\n  2\nc = 3\n", "" },
	{ "remove what is not there",
	  "a = 1\n",
	  { { "b", NULL } },
	  "a = 1\n", "" },
	{ "later edit wins",
	  "a = 1\n",
	  { { "a", "2" }, { "a", "3" }, { "b", "4" } },
	  "a = 3\nb = 4\n", "" },
	{ "every definition replaced",
	  "a = 1\nb = 1\na = 2\n",
	  { { "a", "5" } },
	  "a = 5\nb = 1\na = 5\n", "multiple entries for \"a\"\n" },
	{ "prefix names are other names",
	  "ab = 1\na = 2\n",
	  { { "a", "3" } },
	  "ab = 1\na = 3\n", "" },
	{ "CRLF lines kept",
	  "a = 1\r\nb = 2\r\n",
	  { { "b", "3" } },
	  "a = 1\r\nb = 3\n", "" },
};
// clang-format on

static void
test_conf_edit_text_table(void **state)
{
	struct buf out, warn;
	size_t i, n;

	buf_init(&out, 1 << 20);
	buf_init(&warn, 4096);
	for (i = 0; i < MW_NELEM(edit_rows); i++) {
		const struct edit_row *r = &edit_rows[i];

		for (n = 0; n < 3 && r->edits[n].name != NULL; n++)
			;
		buf_reset(&out);
		buf_reset(&warn);
		assert_int_equal(conf_edit_text(r->before, strlen(r->before),
		                     r->edits, n, &out, &warn),
		    0);
		if (strcmp(buf_cstr(&out), r->after) != 0)
			fail_msg("%s: got \"%s\"", r->label, buf_cstr(&out));
		if (strcmp(buf_cstr(&warn), r->warn) != 0)
			fail_msg(
			    "%s: warned \"%s\"", r->label, buf_cstr(&warn));
	}
	buf_free(&out);
	buf_free(&warn);
}

static void
test_conf_edit_result_loads(void **state)
{
	static const char before[] = "# mailwright\n"
	                             "myhostname = mx.example.org\n"
	                             "mydestination = $myhostname,\n"
	                             "    localhost\n"
	                             "smtpd_timeout = 5m # not a comment\n";
	struct conf_edit edits[] = { { "mydestination", "a.example b.example" },
		{ "smtpd_timeout", "10m" }, { "smtpd_recipient_limit", "7" } };
	struct buf out, warn;
	struct conf *c;

	buf_init(&out, 1 << 20);
	buf_init(&warn, 4096);
	assert_int_equal(
	    conf_edit_text(before, strlen(before), edits, 3, &out, &warn), 0);
	c = load_ok(buf_cstr(&out));
	assert_int_equal(c->mydestination.n, 2);
	assert_int_equal(c->smtpd_timeout, 600);
	assert_int_equal(c->smtpd_recipient_limit, 7);
	assert_string_equal(c->myhostname, "mx.example.org");
	conf_free(&c);
	buf_free(&out);
	buf_free(&warn);
}

static void
test_conf_edit_output_limit(void **state)
{
	struct conf_edit e = { "a", "12345" };
	struct buf out, warn;

	buf_init(&warn, 4096);
	buf_init(&out, 10); /* "a = 12345\n" is 10 bytes: max */
	assert_int_equal(conf_edit_text("", 0, &e, 1, &out, &warn), 0);
	buf_free(&out);
	buf_init(&out, 9); /* max-1 */
	assert_int_equal(conf_edit_text("", 0, &e, 1, &out, &warn), -1);
	buf_free(&out);
	buf_free(&warn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_parse_table),
		cmocka_unit_test(test_conf_parse_errors_exact),
		cmocka_unit_test(test_conf_parse_nul_is_error),
		cmocka_unit_test(test_conf_parse_line_limit),
		cmocka_unit_test(test_conf_parse_file_limit),
		cmocka_unit_test(test_conf_expand_forms),
		cmocka_unit_test(
		    test_conf_expand_unknown_is_empty_with_warning),
		cmocka_unit_test(test_conf_expand_errors_exact),
		cmocka_unit_test(test_conf_expand_depth_limit),
		cmocka_unit_test(test_conf_expand_loop_is_error),
		cmocka_unit_test(test_conf_expand_value_and_total_limits),
		cmocka_unit_test(test_conf_expand_doubling_is_bounded),
		cmocka_unit_test(test_conf_list_split_on_commas_and_space),
		cmocka_unit_test(test_conf_edit_text_table),
		cmocka_unit_test(test_conf_edit_result_loads),
		cmocka_unit_test(test_conf_edit_output_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
