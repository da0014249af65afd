/*
 * Unit tests for the MIME parser, its tree blob and the IMAP writers of
 * ENVELOPE and BODY/BODYSTRUCTURE: realistic messages as table rows whose
 * expected strings are what Dovecot 2.3 answers for the same message
 * (checked by hand with a private Dovecot), except where noted: RFC 2231
 * values decoded as RFC 9051 7.5.2 asks (Dovecot 2.3 keeps them encoded),
 * a subject kept as the header has it, an encoded message/rfc822 left
 * opaque, and quoted strings where Dovecot 2.3 picks a literal. Each row is
 * fed whole, byte by byte and split at every offset, which must all give
 * the same tree (compared by its blob). Then the limits: parts, depth, a
 * 1 MB header line, 10,000 parts; and damaged blobs.
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

#include "imap/imap_bodystructure.h"
#include "imap/imap_envelope.h"
#include "lib/buf.h"
#include "mime/mime_parse.h"
#include "mime/mime_tree.h"

struct msg_case {
	const char *name, *msg, *envelope, *body, *bodystructure;
};

// clang-format off
static const struct msg_case cases[] = {
	{ "alt",
	    "From: \"Doe, John\" <john@example.org>\n"
	    "To: Mary <mary@example.net>, bob@example.com (Bob B)\n"
	    "Cc: Undisclosed recipients:;\n"
	    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n"
	    "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
	    "Message-ID: <m1@example.org>\n"
	    "In-Reply-To: <m0@example.org>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=\"=_alt\"\n"
	    "\n"
	    "This is MIME.\n"
	    "--=_alt\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "Hello =C3=A9\n"
	    "line2\n"
	    "\n"
	    "--=_alt\n"
	    "Content-Type: text/html; charset=utf-8\n"
	    "\n"
	    "<p>Hello</p>\n"
	    "--=_alt--\n"
	    "",
	    "(\"Mon, 1 Jan 2024 10:00:00 +0000\" \"=?utf-8?q?Gr=C3=BC=C3=9Fe?=\" ((\"Doe, John\" NIL \"john\" \"example.org\")) ((\"Doe, John\" NIL \"john\" \"example.org\")) ((\"Doe, John\" NIL \"john\" \"example.org\")) ((\"Mary\" NIL \"mary\" \"example.net\")(\"Bob B\" NIL \"bob\" \"example.com\")) ((NIL NIL \"Undisclosed recipients\" NIL)(NIL NIL NIL NIL)) NIL \"<m0@example.org>\" \"<m1@example.org>\")",
	    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 21 2)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 12 0) \"alternative\")",
	    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 21 2 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 12 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"=_alt\") NIL NIL NIL)" },
	{ "mixed",
	    "From: a@example.org\n"
	    "To: team: x@example.org, \"Y Z\" <y@example.org>; , z@example.org\n"
	    "Sender: <>\n"
	    "Reply-To:\n"
	    "Subject: report\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed;\n"
	    " boundary=outer\n"
	    "\n"
	    "--outer\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "See attached.\r\n"
	    "--outer\r\n"
	    "Content-Type: application/pdf; name*0*=utf-8''r%C3%A9sum; name*1*=%C3%A9.pdf\r\n"
	    "Content-Disposition: attachment; filename*=utf-8'en'r%C3%A9sum%C3%A9.pdf; size=1234\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-ID: <att1@x>\r\n"
	    "Content-Language: fr\r\n"
	    "\r\n"
	    "JVBERi0xLjQK\r\n"
	    "JVBERi0xLjQK\r\n"
	    "--outer--\r\n"
	    "",
	    "(NIL \"report\" ((NIL NIL \"a\" \"example.org\")) ((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) ((NIL NIL \"a\" \"example.org\")) ((NIL NIL \"team\" NIL)(NIL NIL \"x\" \"example.org\")(\"Y Z\" NIL \"y\" \"example.org\")(NIL NIL NIL NIL)(NIL NIL \"z\" \"example.org\")) NIL NIL NIL NIL)",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0)(\"application\" \"pdf\" (\"name*\" \"utf-8''r%C3%A9sum%C3%A9.pdf\") \"<att1@x>\" NIL \"base64\" 26) \"mixed\")",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0 NIL NIL NIL NIL)(\"application\" \"pdf\" (\"name*\" \"utf-8''r%C3%A9sum%C3%A9.pdf\") \"<att1@x>\" NIL \"base64\" 26 NIL (\"attachment\" (\"filename*\" \"utf-8''r%C3%A9sum%C3%A9.pdf\" \"size\" \"1234\")) (\"fr\") NIL) \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)" },
	{ "nested",
	    "From: Outer <outer@example.org>\n"
	    "Subject: fwd\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b1\n"
	    "\n"
	    "--b1\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "see below\n"
	    "--b1\n"
	    "Content-Type: message/rfc822\n"
	    "Content-Description: forwarded\n"
	    "\n"
	    "From: Inner <inner@example.net>\n"
	    "To: <x@y.z>\n"
	    "Subject: inner subj\n"
	    "Date: Tue, 2 Jan 2024 00:00:00 +0100\n"
	    "Message-ID: <in@x>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=b1x\n"
	    "\n"
	    "--b1x\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "inner text\n"
	    "--b1x\n"
	    "Content-Type: text/html\n"
	    "\n"
	    "<b>x</b>\n"
	    "--b1x--\n"
	    "\n"
	    "--b1--\n"
	    "",
	    "(NIL \"fwd\" ((\"Outer\" NIL \"outer\" \"example.org\")) ((\"Outer\" NIL \"outer\" \"example.org\")) ((\"Outer\" NIL \"outer\" \"example.org\")) NIL NIL NIL NIL NIL)",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0)(\"message\" \"rfc822\" NIL NIL \"forwarded\" \"7bit\" 297 (\"Tue, 2 Jan 2024 00:00:00 +0100\" \"inner subj\" ((\"Inner\" NIL \"inner\" \"example.net\")) ((\"Inner\" NIL \"inner\" \"example.net\")) ((\"Inner\" NIL \"inner\" \"example.net\")) ((NIL NIL \"x\" \"y.z\")) NIL NIL NIL \"<in@x>\") ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0) \"alternative\") 17) \"mixed\")",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL \"forwarded\" \"7bit\" 297 (\"Tue, 2 Jan 2024 00:00:00 +0100\" \"inner subj\" ((\"Inner\" NIL \"inner\" \"example.net\")) ((\"Inner\" NIL \"inner\" \"example.net\")) ((\"Inner\" NIL \"inner\" \"example.net\")) ((NIL NIL \"x\" \"y.z\")) NIL NIL NIL \"<in@x>\") ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"b1x\") NIL NIL NIL) 17 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)" },
	{ "nomb",
	    "From: x@y\n"
	    "Content-Type: multipart/mixed; boundary=zz\n"
	    "\n"
	    "preamble\n"
	    "--zz\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "part one\n"
	    "--zz\n"
	    "\n"
	    "part two no end\n"
	    "",
	    "(NIL NIL ((NIL NIL \"x\" \"y\")) ((NIL NIL \"x\" \"y\")) ((NIL NIL \"x\" \"y\")) NIL NIL NIL NIL NIL)",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 17 1) \"mixed\")",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 17 1 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"zz\") NIL NIL NIL)" },
	{ "nohdr",
	    "just a body line\n"
	    "and another\n"
	    "",
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)" },
	{ "digest",
	    "Content-Type: multipart/digest; boundary=d\n"
	    "\n"
	    "--d\n"
	    "\n"
	    "Subject: one\n"
	    "\n"
	    "body1\n"
	    "--d\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "plain\n"
	    "--d--\n"
	    "",
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 21 (NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0) 2)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0) \"digest\")",
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 21 (NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL) \"digest\" (\"boundary\" \"d\") NIL NIL NIL)" },
	{ "crlf",
	    "Subject: crlf\r\n"
	    "From: a@b\r\n"
	    "\r\n"
	    "line1\r\n"
	    "line2\r\n"
	    "",
	    "(NIL \"crlf\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2 NIL NIL NIL NIL)" },
	{ "bad",
	    "Content-Type: multipart/mixed\n"
	    "\n"
	    "no boundary\n"
	    "",
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")",
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) \"mixed\" NIL NIL NIL NIL)" },
	{ "addr",
	    "From: \"quoted\\\"name\" <q@d>, bare, <@a.x,@b.x:joe@c.x>, x@y (Com Ment), <>\n"
	    "Sender: Group: ;\n"
	    "\n"
	    "b\n"
	    "",
	    "(NIL NIL ((\"quoted\\\"name\" NIL \"q\" \"d\")(NIL NIL \"bare\" \"MISSING_DOMAIN\")(NIL \"@a.x,@b.x\" \"joe\" \"c.x\")(\"Com Ment\" NIL \"x\" \"y\")(NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) ((NIL NIL \"Group\" NIL)(NIL NIL NIL NIL)) ((\"quoted\\\"name\" NIL \"q\" \"d\")(NIL NIL \"bare\" \"MISSING_DOMAIN\")(NIL \"@a.x,@b.x\" \"joe\" \"c.x\")(\"Com Ment\" NIL \"x\" \"y\")(NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL NIL)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1)",
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL)" },
	{ "enc",
	    "Content-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "U3ViamVjdDogeAoKYgo=\n"
	    "",
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	    "(\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 22)",
	    "(\"application\" \"octet-stream\" NIL NIL NIL \"base64\" 22 NIL NIL NIL NIL)" },
};
// clang-format on

static struct mime_tree *
parse_split(const char *m, size_t n, size_t cut, size_t step)
{
	struct mime_parser *mp = mime_parser_new(&mime_limits_default);
	size_t pos = 0, end;

	while (pos < n) {
		end = pos < cut ? cut : n;
		if (step > 0 && end - pos > step)
			end = pos + step;
		mime_parser_feed(mp, m + pos, end - pos);
		pos = end;
	}
	return mime_parser_end(&mp);
}

static void
blob_of(const struct mime_tree *t, struct buf *b)
{
	buf_init(b, 1 << 24);
	assert_int_equal(mime_tree_encode(t, b), 0);
}

static void
check_strings(const struct msg_case *c, const struct mime_tree *t)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(
	    imap_envelope_append(&b, mime_tree_root(t)->envelope, false), 0);
	assert_string_equal(b.data, c->envelope);
	buf_reset(&b);
	assert_int_equal(
	    imap_bodystructure_append(&b, mime_tree_root(t), false, false), 0);
	assert_string_equal(b.data, c->body);
	buf_reset(&b);
	assert_int_equal(
	    imap_bodystructure_append(&b, mime_tree_root(t), true, false), 0);
	assert_string_equal(b.data, c->bodystructure);
	buf_free(&b);
}

static void
test_mime_cases_whole_split_bytewise(void **state)
{
	size_t k, cut, n;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct msg_case *c = &cases[k];
		struct mime_tree *t, *u;
		struct buf ref, other;

		print_message("case %s\n", c->name);
		n = strlen(c->msg);
		t = mime_parse(c->msg, n, &mime_limits_default);
		check_strings(c, t);
		blob_of(t, &ref);
		/* the root's sizes add up to the file */
		assert_int_equal(
		    mime_tree_root(t)->hdr_size + mime_tree_root(t)->body_size,
		    n);
		for (cut = 0; cut <= n; cut++) {
			u = parse_split(c->msg, n, cut, 0);
			blob_of(u, &other);
			assert_int_equal(other.len, ref.len);
			assert_memory_equal(other.data, ref.data, ref.len);
			buf_free(&other);
			mime_tree_free(&u);
		}
		u = parse_split(c->msg, n, 0, 1);
		blob_of(u, &other);
		assert_int_equal(other.len, ref.len);
		assert_memory_equal(other.data, ref.data, ref.len);
		buf_free(&other);
		mime_tree_free(&u);
		/* the blob gives back the same tree */
		u = mime_tree_decode(ref.data, ref.len, 100000);
		assert_non_null(u);
		check_strings(c, u);
		blob_of(u, &other);
		assert_memory_equal(other.data, ref.data, ref.len);
		buf_free(&other);
		mime_tree_free(&u);
		buf_free(&ref);
		mime_tree_free(&t);
	}
}

static void
test_mime_offsets_nested(void **state)
{
	const char *m = cases[2].msg; /* nested */
	struct mime_tree *t = mime_parse(m, strlen(m), &mime_limits_default);
	struct mime_part *root = mime_tree_root(t), *p1, *p2, *msg, *alt;

	p1 = root->children;
	p2 = p1->next;
	assert_non_null(p2);
	assert_null(p2->next);
	assert_true((p2->flags & MIME_PART_MESSAGE) != 0);
	/* part 1's body is "see below" without the LF before "--b1" */
	assert_int_equal(p1->body_size, 9);
	assert_memory_equal(m + p1->body_offset, "see below", 9);
	msg = p2->children;
	assert_int_equal(msg->hdr_offset, p2->body_offset);
	assert_memory_equal(m + msg->hdr_offset, "From: Inner", 11);
	assert_string_equal(
	    msg->envelope->field[MIME_ENV_SUBJECT], "inner subj");
	alt = msg;
	assert_true((alt->flags & MIME_PART_MULTIPART) != 0);
	assert_memory_equal(m + alt->children->body_offset, "inner text", 10);
	assert_int_equal(alt->children->body_size, 10);
	assert_int_equal(mime_tree_part_count(t), 6);
	mime_tree_free(&t);
}

/* A multipart of n parts, each "--b\n\nxN\n". */
static char *
many_parts(size_t n, size_t *len_out)
{
	struct buf b;
	size_t i;

	buf_init(&b, (size_t)1 << 30);
	assert_int_equal(
	    buf_append_str(&b, "Content-Type: multipart/mixed; boundary=b\n\n"),
	    0);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_printf(&b, "--b\n\nx%zu\n", i), 0);
	assert_int_equal(buf_append_str(&b, "--b--\n"), 0);
	*len_out = b.len;
	return buf_steal(&b);
}

static void
test_mime_part_limit_max_minus_one_max_plus_one(void **state)
{
	struct mime_limits lim = mime_limits_default;
	struct mime_tree *t;
	size_t n, len, k;
	char *m;

	lim.part_max = 10;
	for (n = 8; n <= 10; n++) {
		m = many_parts(n, &len);
		t = mime_parse(m, len, &lim);
		/* the root and its children, at most part_max */
		k = n + 1 <= lim.part_max ? n + 1 : lim.part_max;
		assert_int_equal(mime_tree_part_count(t), k);
		assert_int_equal(
		    ((mime_tree_root(t)->flags & MIME_PART_TRUNCATED) != 0),
		    n + 1 > lim.part_max);
		assert_int_equal(
		    mime_tree_root(t)->body_size + mime_tree_root(t)->hdr_size,
		    len);
		mime_tree_free(&t);
		free(m);
	}
}

static void
test_mime_10000_parts_linear_bounded(void **state)
{
	size_t len;
	char *m = many_parts(20000, &len);
	struct mime_tree *t = mime_parse(m, len, &mime_limits_default);
	struct buf b;

	assert_int_equal(mime_tree_part_count(t), mime_limits_default.part_max);
	assert_true(mime_tree_mem(t) < mime_limits_default.tree_max + 65536);
	buf_init(&b, 1 << 26);
	assert_int_equal(
	    imap_bodystructure_append(&b, mime_tree_root(t), true, false), 0);
	buf_free(&b);
	mime_tree_free(&t);
	free(m);
}

static void
test_mime_depth_limit(void **state)
{
	struct mime_limits lim = mime_limits_default;
	struct mime_tree *t;
	struct mime_part *p;
	struct buf b;
	size_t i, depth = 0;

	lim.depth_max = 5;
	buf_init(&b, 1 << 20);
	for (i = 0; i < 50; i++)
		assert_int_equal(
		    buf_printf(&b,
		        "Content-Type: multipart/mixed; boundary=b%zu\n\n--b%zu\n",
		        i, i),
		    0);
	t = mime_parse(b.data, b.len, &lim);
	for (p = mime_tree_root(t); p->children != NULL; p = p->children)
		depth++;
	assert_true(depth < lim.depth_max);
	assert_true((p->flags & MIME_PART_TRUNCATED) != 0);
	buf_free(&b);
	mime_tree_free(&t);
}

static void
test_mime_1mb_header_line_is_cut(void **state)
{
	struct buf b;
	struct mime_tree *t;
	const char *subj;
	size_t i;

	buf_init(&b, 1 << 22);
	assert_int_equal(buf_append_str(&b, "Subject: "), 0);
	for (i = 0; i < (1 << 20); i++)
		assert_int_equal(buf_append_char(&b, 'a' + (char)(i % 26)), 0);
	assert_int_equal(
	    buf_append_str(&b, "\nContent-Type: text/html\n\nx\n"), 0);
	t = mime_parse(b.data, b.len, &mime_limits_default);
	subj = mime_tree_root(t)->envelope->field[MIME_ENV_SUBJECT];
	assert_non_null(subj);
	assert_true(strlen(subj) <= mime_limits_default.field_max);
	assert_string_equal(mime_tree_root(t)->subtype, "html");
	assert_int_equal(mime_tree_root(t)->body_size, 2);
	assert_true(mime_tree_mem(t) < 65536);
	buf_free(&b);
	mime_tree_free(&t);
}

static void
test_mime_garbage_never_fails(void **state)
{
	static const char bin[] =
	    "\0\xff\x80--\n\r\n--\0\n:\n \n\t\nContent-Type:"
	    "multipart/x;boundary=\0\n\n--\n";
	struct mime_tree *t;
	struct buf b;
	unsigned seed = 1;
	char junk[4096];
	size_t i, r;

	t = mime_parse(bin, sizeof(bin) - 1, &mime_limits_default);
	assert_non_null(t);
	mime_tree_free(&t);
	for (r = 0; r < 200; r++) {
		for (i = 0; i < sizeof(junk); i++) {
			seed = seed * 1103515245 + 12345;
			junk[i] = "-\n\rb:; =\"ab\0\x80"[(seed >> 16) % 13];
		}
		t = mime_parse(junk, sizeof(junk), &mime_limits_default);
		buf_init(&b, 1 << 24);
		assert_int_equal(imap_bodystructure_append(
		                     &b, mime_tree_root(t), true, true),
		    0);
		buf_free(&b);
		mime_tree_free(&t);
	}
}

static void
test_mime_blob_damage_is_an_error(void **state)
{
	const char *m = cases[1].msg; /* mixed */
	struct mime_tree *t = mime_parse(m, strlen(m), &mime_limits_default);
	struct mime_tree *u;
	struct buf b;
	size_t i;
	int bit;

	blob_of(t, &b);
	for (i = 0; i < b.len; i++) {
		u = mime_tree_decode(b.data, i, 100000);
		assert_null(u); /* every prefix is short */
		assert_int_equal(errno, i >= 5 || i < 4 ? EINVAL : EINVAL);
	}
	for (i = 0; i < b.len; i++)
		for (bit = 0; bit < 8; bit++) {
			b.data[i] ^= (char)(1 << bit);
			u = mime_tree_decode(b.data, b.len, 100000);
			mime_tree_free(&u); /* an error or some tree */
			b.data[i] ^= (char)(1 << bit);
		}
	b.data[4] = 99;
	assert_null(mime_tree_decode(b.data, b.len, 100000));
	assert_int_equal(errno, EPROTO);
	buf_free(&b);
	mime_tree_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mime_cases_whole_split_bytewise),
		cmocka_unit_test(test_mime_offsets_nested),
		cmocka_unit_test(
		    test_mime_part_limit_max_minus_one_max_plus_one),
		cmocka_unit_test(test_mime_10000_parts_linear_bounded),
		cmocka_unit_test(test_mime_depth_limit),
		cmocka_unit_test(test_mime_1mb_header_line_is_cut),
		cmocka_unit_test(test_mime_garbage_never_fails),
		cmocka_unit_test(test_mime_blob_damage_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
