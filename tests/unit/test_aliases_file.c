/* Unit tests of src/delivery/aliases_file.c: the /etc/aliases parser. */
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

#include "delivery/aliases_file.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

/* Renders parsed aliases as "name@line=t1|t2\n" lines, in sorted order. */
static char *
dump(const struct aliases *a)
{
	struct buf b;
	size_t i, j;
	int rc = 0;

	buf_init(&b, 1 << 20);
	for (i = 0; i < a->n; i++) {
		rc |= buf_printf(&b, "%s@%zu=", a->v[i].name, a->v[i].line);
		for (j = 0; j < a->v[i].ntargets; j++)
			rc |= buf_printf(
			    &b, "%s%s", j ? "|" : "", a->v[i].targets[j]);
		rc |= buf_append_char(&b, '\n');
	}
	assert_int_equal(rc, 0);
	return buf_steal(&b);
}

struct parse_case {
	const char *label;
	const char *in;
	const char *want; /* dump on success, or NULL */
	const char *err;  /* exact error on failure, or NULL */
};

// clang-format off
static const struct parse_case parse_cases[] = {
	{ "empty", "", "", NULL },
	{ "comments and blanks", "# c\n\n   \n\t# indented comment\n", "", NULL },
	{ "simple", "root: bob\n", "root@1=bob\n", NULL },
	{ "no final newline", "root: bob", "root@1=bob\n", NULL },
	{ "crlf", "root: bob,\r\n  carol\r\n", "root@1=bob|carol\n", NULL },
	{ "no space after colon", "root:bob", "root@1=bob\n", NULL },
	{ "space before colon", "root : bob", "root@1=bob\n", NULL },
	{ "several targets", "staff: a, b@example.org ,c\n",
	  "staff@1=a|b@example.org|c\n", NULL },
	{ "continuation", "staff: a,\n  b,\n\tc\nroot: d\n",
	  "root@4=d\nstaff@1=a|b|c\n", NULL },
	{ "comment inside continuation", "staff: a,\n# note\n  b\n",
	  "staff@1=a|b\n", NULL },
	{ "blank inside continuation", "staff: a,\n\n  b\n", "staff@1=a|b\n", NULL },
	{ "continuation without comma", "staff: a\n  ,b\n", "staff@1=a|b\n", NULL },
	{ "empty elements", "staff: ,a,,b,\n", "staff@1=a|b\n", NULL },
	{ "name folded", "MAILER-DAEMON: postmaster\n",
	  "mailer-daemon@1=postmaster\n", NULL },
	{ "sorted", "b: x\na: y\nc: z\n", "a@2=y\nb@1=x\nc@3=z\n", NULL },
	{ "quoted name", "\"Foo Bar\": x\n", "foo bar@1=x\n", NULL },
	{ "quoted name escape", "\"a\\\"b\": x\n", "a\"b@1=x\n", NULL },
	{ "quoted name at", "\"a@b\": x\n", "a@b@1=x\n", NULL },
	{ "quoted target", "x: \"john doe\"@example.org\n",
	  "x@1=\"john doe\"@example.org\n", NULL },
	{ "quoted comma", "x: \"a,b\"@example.org, c\n",
	  "x@1=\"a,b\"@example.org|c\n", NULL },
	{ "dotted name", "john.smith: js\n", "john.smith@1=js\n", NULL },
	{ "self target", "bob: bob, bob@elsewhere.example\n",
	  "bob@1=bob|bob@elsewhere.example\n", NULL },

	{ "pipe", "a: b\nlist: \"|/usr/bin/procmail -a x\"\n", NULL,
	  "aliases:2: target \"\"|/usr/bin/procmail -a x\"\": |command targets are not supported (deliver to a mailbox or an address)" },
	{ "pipe bare", "list: |/bin/cat\n", NULL,
	  "aliases:1: target \"|/bin/cat\": |command targets are not supported (deliver to a mailbox or an address)" },
	{ "file", "log: bob,\n  /var/log/mail.copy\n", NULL,
	  "aliases:2: target \"/var/log/mail.copy\": /file targets are not supported (deliver to a mailbox or an address)" },
	{ "include", "\n\nlist: :include:/etc/list\n", NULL,
	  "aliases:3: target \":include:/etc/list\": :include: targets are not supported (deliver to a mailbox or an address)" },
	{ "include case", "list: :INCLUDE:/etc/list\n", NULL,
	  "aliases:1: target \":INCLUDE:/etc/list\": :include: targets are not supported (deliver to a mailbox or an address)" },
	{ "no colon", "root bob\n", NULL,
	  "aliases:1: expected ':' after the alias name \"root\" (the form is: name: target, target)" },
	{ "no targets", "root:\n", NULL, "aliases:1: alias \"root\" has no targets" },
	{ "only commas", "root: , ,\n", NULL, "aliases:1: alias \"root\" has no targets" },
	{ "empty name", ": bob\n", NULL, "aliases:1: empty alias name" },
	{ "empty quoted name", "\"\": bob\n", NULL, "aliases:1: empty alias name" },
	{ "name with domain", "root@example.org: bob\n", NULL,
	  "aliases:1: alias names are local parts: \"root@example.org\" has a domain (for a full address use: mailwright alias add)" },
	{ "name special", "ro(ot: bob\n", NULL,
	  "aliases:1: alias name \"ro(ot\" contains a special character (put the name in double quotes)" },
	{ "unclosed name", "\"root: bob\n", NULL,
	  "aliases:1: the quoted alias name is not closed" },
	{ "unclosed target", "root: \"bob\n", NULL,
	  "aliases:1: a quoted string is not closed" },
	{ "space in target", "root: bob smith\n", NULL,
	  "aliases:1: target \"bob smith\" contains white space (separate targets with commas; comments go on lines of their own)" },
	{ "trailing comment", "root: bob # the admin\n", NULL,
	  "aliases:1: target \"bob # the admin\" contains white space (separate targets with commas; comments go on lines of their own)" },
	{ "bad target", "root: bob@\n", NULL, "aliases:1: target \"bob@\" is not a valid address" },
	{ "bad target dot", "root: .bob\n", NULL, "aliases:1: target \".bob\" is not a valid address" },
	{ "bad target domain", "root: bob@ex_ample.org\n", NULL,
	  "aliases:1: target \"bob@ex_ample.org\" is not a valid address" },
	{ "continuation first", "  root: bob\n", NULL,
	  "aliases:1: a continuation line (starting with white space) without an alias before it" },
	{ "duplicate", "root: a\nfoo: b\nROOT: c\n", NULL,
	  "aliases:3: duplicate alias \"root\" (first on line 1)" },
	{ "nul", "root: a\nfoo: b\0c\n", NULL, "aliases:2: NUL byte" },
	{ "bare cr", "root: a\rfoo: b\n", NULL, "aliases:1: bare CR" },
	{ "control in target", "root: a\001b\n", NULL,
	  "aliases:1: a target contains a control or non-ASCII byte" },
	{ "8bit target", "root: j\xc3\xb6rg\n", NULL,
	  "aliases:1: a target contains a control or non-ASCII byte" },
	{ "8bit name", "j\xc3\xb6rg: x\n", NULL,
	  "aliases:1: an alias name contains a control or non-ASCII byte" },
	{ "control in quoted name", "\"a\001\": x\n", NULL,
	  "aliases:1: an alias name contains a control or non-ASCII byte" },
	{ "error on continuation line", "staff: a,\n  b,\n  c d\n", NULL,
	  "aliases:3: target \"c d\" contains white space (separate targets with commas; comments go on lines of their own)" },
};
// clang-format on

/* Input lengths: strlen, except for the case that holds a NUL. */
static size_t
case_len(const char *in)
{
	static const char nul_case[] = "root: a\nfoo: b\0c\n";

	if (strcmp(in, nul_case) == 0)
		return sizeof(nul_case) - 1;
	return strlen(in);
}

static void
test_aliases_file_parse_table(void **state)
{
	struct aliases a;
	struct buf err;
	size_t i;
	char *d;
	int rc;

	(void)state;
	buf_init(&err, 4096);
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];

		buf_reset(&err);
		rc = aliases_file_parse(c->in, case_len(c->in), "aliases",
		    &aliases_limits_default, &a, &err);
		if (c->want != NULL) {
			if (rc != 0)
				fail_msg(
				    "%s: error %s", c->label, buf_cstr(&err));
			d = dump(&a);
			if (strcmp(d, c->want) != 0)
				fail_msg("%s: got\n%s\nwant\n%s", c->label, d,
				    c->want);
			free(d);
			aliases_free(&a);
		} else {
			if (rc != -1)
				fail_msg("%s: accepted", c->label);
			assert_int_equal(a.n, 0);
			if (strcmp(buf_cstr(&err), c->err) != 0)
				fail_msg("%s: got\n%s\nwant\n%s", c->label,
				    buf_cstr(&err), c->err);
		}
	}
	buf_free(&err);
}

static const char sample[] = "# /etc/aliases\n"
                             "mailer-daemon: postmaster\n"
                             "postmaster: root\n"
                             "\"john doe\": jd@example.org\n"
                             "root: admin@example.org,\n"
                             "\t\"x, y\"@remote.example,\n"
                             "# comment\n"
                             "  bob\n";

/* Every prefix of a valid file parses or fails cleanly, and the whole
 * file parses the same with LF and with CRLF line ends. */
static void
test_aliases_file_every_prefix_and_crlf(void **state)
{
	struct aliases a;
	struct buf err, crlf;
	char *d1, *d2;
	size_t i;

	(void)state;
	buf_init(&err, 4096);
	for (i = 0; i <= sizeof(sample) - 1; i++) {
		if (aliases_file_parse(
		        sample, i, "x", &aliases_limits_default, &a, &err) == 0)
			aliases_free(&a);
		else
			assert_int_equal(a.n, 0);
	}
	assert_int_equal(aliases_file_parse(sample, sizeof(sample) - 1, "x",
	                     &aliases_limits_default, &a, &err),
	    0);
	d1 = dump(&a);
	assert_string_equal(d1,
	    "john doe@4=jd@example.org\n"
	    "mailer-daemon@2=postmaster\npostmaster@3=root\n"
	    "root@5=admin@example.org|\"x, y\"@remote.example|bob\n");
	aliases_free(&a);
	buf_init(&crlf, 4096);
	for (i = 0; i < sizeof(sample) - 1; i++) {
		if (sample[i] == '\n')
			assert_int_equal(buf_append_char(&crlf, '\r'), 0);
		assert_int_equal(buf_append_char(&crlf, sample[i]), 0);
	}
	assert_int_equal(aliases_file_parse(crlf.data, crlf.len, "x",
	                     &aliases_limits_default, &a, &err),
	    0);
	d2 = dump(&a);
	assert_string_equal(d1, d2);
	aliases_free(&a);
	free(d1);
	free(d2);
	buf_free(&crlf);
	buf_free(&err);
}

static void
test_aliases_find_any_case(void **state)
{
	struct aliases a;
	struct buf err;
	const struct aliases_entry *e;

	(void)state;
	buf_init(&err, 4096);
	assert_int_equal(aliases_file_parse(sample, sizeof(sample) - 1, "x",
	                     &aliases_limits_default, &a, &err),
	    0);
	e = aliases_find(&a, "PostMaster");
	assert_non_null(e);
	assert_string_equal(e->targets[0], "root");
	assert_non_null(aliases_find(&a, "root"));
	assert_non_null(aliases_find(&a, "mailer-daemon"));
	assert_non_null(aliases_find(&a, "john doe"));
	assert_null(aliases_find(&a, "nobody"));
	aliases_free(&a);
	assert_null(aliases_find(&a, "root"));
	buf_free(&err);
}

/* Parses text under lim; returns 0 or -1. */
static int
parse_with(const char *text, const struct aliases_limits *lim)
{
	struct aliases a;
	struct buf err;
	int rc;

	buf_init(&err, 4096);
	rc = aliases_file_parse(text, strlen(text), "x", lim, &a, &err);
	if (rc == 0)
		aliases_free(&a);
	buf_free(&err);
	return rc;
}

/* A line "n: t1,t2,..." of exactly len bytes with ntargets targets. */
static char *
make_line(size_t namelen, size_t ntargets, size_t targetlen)
{
	struct buf b;
	size_t i;
	int rc = 0;

	buf_init(&b, 1 << 24);
	for (i = 0; i < namelen; i++)
		rc |= buf_append_char(&b, 'n');
	rc |= buf_append_str(&b, ":");
	for (i = 0; i < ntargets; i++) {
		rc |=
		    buf_printf(&b, "%s%0*zu", i ? "," : "", (int)targetlen, i);
	}
	rc |= buf_append_char(&b, '\n');
	assert_int_equal(rc, 0);
	return buf_steal(&b);
}

static void
test_aliases_file_limits_at_boundaries(void **state)
{
	struct aliases_limits lim = { 100, 10, 8, 5, 3 };
	char *s;
	int k;

	(void)state;
	/* name_max = 10 */
	for (k = -1; k <= 1; k++) {
		s = make_line((size_t)(10 + k), 1, 1);
		assert_int_equal(parse_with(s, &lim), k <= 0 ? 0 : -1);
		free(s);
	}
	/* target_max = 8 */
	for (k = -1; k <= 1; k++) {
		s = make_line(1, 1, (size_t)(8 + k));
		assert_int_equal(parse_with(s, &lim), k <= 0 ? 0 : -1);
		free(s);
	}
	/* targets_max = 5 */
	for (k = -1; k <= 1; k++) {
		s = make_line(1, (size_t)(5 + k), 1);
		assert_int_equal(parse_with(s, &lim), k <= 0 ? 0 : -1);
		free(s);
	}
	/* line_max = 102: a name of 2+k, ':', 10 targets of 9 digits and
	 * 9 commas make a line of 102+k bytes */
	lim.line_max = 102;
	lim.target_max = 20;
	lim.targets_max = 100;
	for (k = -1; k <= 1; k++) {
		s = make_line((size_t)(2 + k), 10, 9);
		assert_int_equal(strlen(s) - 1, (size_t)(102 + k));
		assert_int_equal(parse_with(s, &lim), k <= 0 ? 0 : -1);
		free(s);
	}
	/* entries_max = 3 */
	assert_int_equal(parse_with("a:x\nb:x\n", &lim), 0);
	assert_int_equal(parse_with("a:x\nb:x\nc:x\n", &lim), 0);
	assert_int_equal(parse_with("a:x\nb:x\nc:x\nd:x\n", &lim), -1);
}

static void
test_aliases_targets_parse_round_trip(void **state)
{
	char **t;
	size_t n, i;
	struct buf err;
	const char *s = "a@example.org, \"b, c\"@x.example ,d";

	(void)state;
	buf_init(&err, 1024);
	assert_int_equal(aliases_targets_parse(s, strlen(s),
	                     &aliases_limits_default, &t, &n, &err),
	    0);
	assert_int_equal(n, 3);
	assert_string_equal(t[0], "a@example.org");
	assert_string_equal(t[1], "\"b, c\"@x.example");
	assert_string_equal(t[2], "d");
	for (i = 0; i < n; i++)
		free(t[i]);
	free(t);
	assert_int_equal(aliases_targets_parse(
	                     "|x", 2, &aliases_limits_default, &t, &n, &err),
	    -1);
	assert_non_null(strstr(buf_cstr(&err), "|command"));
	assert_int_equal(
	    aliases_targets_parse("", 0, &aliases_limits_default, &t, &n, &err),
	    0);
	assert_int_equal(n, 0);
	free(t);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aliases_file_parse_table),
		cmocka_unit_test(test_aliases_file_every_prefix_and_crlf),
		cmocka_unit_test(test_aliases_find_any_case),
		cmocka_unit_test(test_aliases_file_limits_at_boundaries),
		cmocka_unit_test(test_aliases_targets_parse_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
