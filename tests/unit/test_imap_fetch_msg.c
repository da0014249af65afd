/*
 * Unit tests for the FETCH response writer (imap_fetch_msg.c,
 * imap_fetch_src.c) and imap_flags.c: every fetch item on a plain message
 * and on multipart/mixed with a nested multipart/alternative (QP and
 * base64 parts) and an attached message/rfc822; section numbers (RFC 9051
 * 6.4.5), HEADER.FIELDS [.NOT], TEXT, MIME, partials, BINARY and
 * BINARY.SIZE (RFC 3516), CRLF files, a file shorter than its tree, and
 * UNKNOWN-CTE. Each response is written with budgets 1, 3, 64 and 1 MiB,
 * which must give the same bytes, and every literal's announced size must
 * match what follows it. Expected strings are written from the RFCs'
 * rules and Dovecot 2.3's answers.
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

#include <time.h>
#include <unistd.h>

#include "imap/imap_bodystructure.h"
#include "imap/imap_envelope.h"
#include "imap/imap_fetch_msg.h"
#include "imap/imap_flags.h"
#include "imap/imap_string.h"
#include "imap_test.h"
#include "lib/buf.h"
#include "mime/mime_parse.h"
#include "mime/mime_tree.h"
#include "store/store.h"

static const char plain_msg[] = "From: Alice <a@example.org>\n"
                                "To: bob@example.org\n"
                                "Subject: hello\n"
                                " world\n"
                                "Date: Mon, 7 Feb 1994 21:52:25 -0800\n"
                                "\n"
                                "line one\n"
                                "line two\n";

static const char mixed_msg[] =
    "From: a@example.org\n"
    "Subject: mixed\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "preamble\n"
    "--outer\n"
    "Content-Type: text/plain\n"
    "\n"
    "part one\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=\"inner\"\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "caf=C3=A9 =\n"
    "soft\n"
    "--inner\n"
    "Content-Type: text/html\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "PGI+aGk8L2I+AA==\n"
    "--inner--\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: inner\n"
    "From: c@example.org\n"
    "\n"
    "inner body\n"
    "--outer--\n";

static const char *const kw_names[] = { "$Forwarded", NULL, "Junk" };

struct fx {
	const char *file; /* what the file holds */
	size_t file_n;
	const char *tree_text; /* what the tree is built from (NULL: file) */
	size_t tree_n;
	bool add_uid, add_flags, recent;
};

/* Checks the framing of a response: "* 1 FETCH (", then literals whose
 * announced size is what follows, and ")" CRLF at the very end. */
static void
check_literals(const char *r, size_t n)
{
	size_t i = 0, j;
	unsigned long long len;

	assert_true(n >= 14 && memcmp(r, "* ", 2) == 0);
	assert_memory_equal(r + n - 3, ")\r\n", 3);
	while (i < n - 3) {
		if (r[i] == '\r' || r[i] == '\n')
			fail_msg("line end outside a literal at %zu", i);
		if (r[i] != '{') {
			i++;
			continue;
		}
		len = 0;
		for (j = i + 1; j < n && r[j] >= '0' && r[j] <= '9'; j++)
			len = len * 10 + (unsigned long long)(r[j] - '0');
		if (j == i + 1 || j + 2 >= n || r[j] != '}' ||
		    r[j + 1] != '\r' || r[j + 2] != '\n') {
			i++; /* a "{" in a quoted string */
			continue;
		}
		i = j + 3 + len;
		assert_true(i <= n - 3);
	}
}

static uint64_t
vsize_of(const char *p, size_t n)
{
	uint64_t v = n;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			v++;
	return v;
}

/* The response to "FETCH 1 (atts)" about the message fx describes, with
 * one budget; returns NULL and sets *code for a NO. */
static char *
run_budget(const struct fx *fx, const char *atts, size_t budget, size_t *n_out,
    const char **code)
{
	char path[] = "/tmp/test_imap_fetch_msg.XXXXXX";
	struct imap_reader *r;
	struct imap_test_run run;
	struct imap_fetch_writer *w;
	struct imap_fetch_msg_in in = { 0 };
	struct store_msg msg = { 0 };
	struct mime_tree *t;
	struct buf cmd, out, again;
	int fd, rc;
	char *res = NULL;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(write(fd, fx->file, fx->file_n), (ssize_t)fx->file_n);
	t = mime_parse(fx->tree_text != NULL ? fx->tree_text : fx->file,
	    fx->tree_text != NULL ? fx->tree_n : fx->file_n,
	    &mime_limits_default);
	msg.uid = 7;
	msg.flags = STORE_FLAG_SEEN | STORE_FLAG_FLAGGED | STORE_FLAG_PASSED;
	msg.keywords = 1u << 0 | 1u << 2 | 1u << 5;
	msg.psize = fx->file_n;
	msg.vsize = vsize_of(fx->file, fx->file_n);
	msg.internaldate = 1700000000;
	in.seq = 1;
	in.msg = &msg;
	in.keywords = kw_names;
	in.nkeywords = 3;
	in.recent = fx->recent;
	in.tree = t;
	in.fd = fd;
	in.add_uid = fx->add_uid;
	in.add_flags = fx->add_flags;
	buf_init(&cmd, 8192);
	assert_int_equal(buf_printf(&cmd, "a FETCH 1 (%s)\r\n", atts), 0);
	run = imap_test_one_lim(
	    &r, &imap_test_lim_long, cmd.data, cmd.len, false);
	assert_int_equal(run.ev, IMAP_READ_COMMAND);
	if (imap_fetch_writer_new(&run.cmd->u.msg.fetch, &in, &w, code) == -1)
		goto out;
	buf_init(&out, BUF_MAX_DEFAULT);
	while ((rc = imap_fetch_writer_step(w, &out, budget)) == 1)
		;
	assert_int_equal(rc, 0);
	/* the writer again for the same message (as FETCH reuses it for
	 * the next one), after a response dropped halfway: the same bytes */
	buf_init(&again, BUF_MAX_DEFAULT);
	assert_int_equal(imap_fetch_writer_next(w, &in, code), 0);
	(void)imap_fetch_writer_step(w, &again, 1);
	buf_reset(&again);
	assert_int_equal(imap_fetch_writer_next(w, &in, code), 0);
	while ((rc = imap_fetch_writer_step(w, &again, budget)) == 1)
		;
	assert_int_equal(rc, 0);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.data, out.data, out.len);
	buf_free(&again);
	imap_fetch_writer_free(&w);
	assert_null(w);
	check_literals(out.data, out.len);
	*n_out = out.len;
	res = buf_steal(&out);
out:
	imap_reader_free(&r);
	buf_free(&cmd);
	mime_tree_free(&t);
	close(fd);
	return res;
}

/* The response, the same with every budget. */
static char *
run_fx(const struct fx *fx, const char *atts, size_t *n_out)
{
	static const size_t budgets[] = { 1, 3, 64, 1 << 20 };
	char *first = NULL, *res;
	const char *code = NULL;
	size_t i, n, first_n = 0;

	for (i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++) {
		res = run_budget(fx, atts, budgets[i], &n, &code);
		assert_non_null(res);
		if (first == NULL) {
			first = res;
			first_n = n;
			continue;
		}
		if (n != first_n || memcmp(res, first, n) != 0)
			fail_msg("budget %zu differs:\n%.*s\nvs\n%.*s",
			    budgets[i], (int)n, res, (int)first_n, first);
		free(res);
	}
	*n_out = first_n;
	return first;
}

static void
expect_fx(
    const struct fx *fx, const char *atts, const char *want, size_t want_n)
{
	size_t n;
	char *got = run_fx(fx, atts, &n);

	if (n != want_n || memcmp(got, want, n) != 0)
		fail_msg("FETCH (%s):\ngot  [%.*s]\nwant [%.*s]", atts, (int)n,
		    got, (int)want_n, want);
	free(got);
}

static void
expect(const char *msg, const char *atts, const char *want)
{
	struct fx fx = { .file = msg, .file_n = strlen(msg) };

	expect_fx(&fx, atts, want, strlen(want));
}

#define PLAIN(atts, want) expect(plain_msg, atts, want)
#define MIXED(atts, want) expect(mixed_msg, atts, want)

static void
test_imap_fetch_msg_simple_items(void **state)
{
	(void)state;
	PLAIN("UID", "* 1 FETCH (UID 7)\r\n");
	PLAIN("FLAGS",
	    "* 1 FETCH (FLAGS (\\Flagged \\Seen $Forwarded Junk))\r\n");
	PLAIN("INTERNALDATE",
	    "* 1 FETCH (INTERNALDATE \"14-Nov-2023 22:13:20 +0000\")\r\n");
	PLAIN("RFC822.SIZE", "* 1 FETCH (RFC822.SIZE 134)\r\n");
	/* each once, in the order asked */
	PLAIN("FLAGS RFC822.SIZE FLAGS UID UID",
	    "* 1 FETCH (FLAGS (\\Flagged \\Seen $Forwarded Junk) "
	    "RFC822.SIZE 134 UID 7)\r\n");
}

static void
test_imap_fetch_msg_uid_fetch_and_recent(void **state)
{
	struct fx fx = { .file = plain_msg,
		.file_n = sizeof(plain_msg) - 1,
		.add_uid = true,
		.recent = true };

	(void)state;
	/* RFC 9051 6.4.9: UID first when not asked, where asked else */
	expect_fx(
	    &fx, "RFC822.SIZE", S("* 1 FETCH (UID 7 RFC822.SIZE 134)\r\n"));
	expect_fx(
	    &fx, "RFC822.SIZE UID", S("* 1 FETCH (RFC822.SIZE 134 UID 7)\r\n"));
	expect_fx(&fx, "FLAGS",
	    S("* 1 FETCH (UID 7 FLAGS (\\Flagged \\Seen \\Recent $Forwarded "
	      "Junk))\r\n"));
	fx.add_uid = false;
	fx.recent = false;
	fx.add_flags = true;
	expect_fx(&fx, "BODY[1]<0.4>",
	    S("* 1 FETCH (BODY[1]<0> {4}\r\nline FLAGS (\\Flagged \\Seen "
	      "$Forwarded Junk))\r\n"));
}

static void
test_imap_fetch_msg_plain_sections(void **state)
{
	(void)state;
	PLAIN("RFC822",
	    "* 1 FETCH (RFC822 {134}\r\n"
	    "From: Alice <a@example.org>\r\nTo: bob@example.org\r\n"
	    "Subject: hello\r\n world\r\n"
	    "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n"
	    "line one\r\nline two\r\n)\r\n");
	PLAIN("BODY.PEEK[]<0.6>", "* 1 FETCH (BODY[]<0> {6}\r\nFrom: )\r\n");
	/* offsets count the CRLF form */
	PLAIN("BODY[]<26.5>", "* 1 FETCH (BODY[]<26> {5}\r\n>\r\nTo)\r\n");
	/* what one item read past its end is not the next one's */
	PLAIN("BODY[]<0.4> BODY[TEXT]<0.4> BODY[1.MIME]<0.4>",
	    "* 1 FETCH (BODY[]<0> {4}\r\nFrom BODY[TEXT]<0> {4}\r\nline "
	    "BODY[1.MIME]<0> {4}\r\nFrom)\r\n");
	PLAIN("RFC822.HEADER",
	    "* 1 FETCH (RFC822.HEADER {114}\r\n"
	    "From: Alice <a@example.org>\r\nTo: bob@example.org\r\n"
	    "Subject: hello\r\n world\r\n"
	    "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n)\r\n");
	PLAIN("RFC822.TEXT",
	    "* 1 FETCH (RFC822.TEXT {20}\r\nline one\r\nline two\r\n)\r\n");
	PLAIN("BODY[TEXT]",
	    "* 1 FETCH (BODY[TEXT] {20}\r\nline one\r\nline two\r\n)\r\n");
	/* RFC 9051 6.4.5: a non-multipart message's part 1 is its body */
	PLAIN("BODY[1]",
	    "* 1 FETCH (BODY[1] {20}\r\nline one\r\nline two\r\n)\r\n");
	PLAIN("BODY[1.MIME]",
	    "* 1 FETCH (BODY[1.MIME] {114}\r\n"
	    "From: Alice <a@example.org>\r\nTo: bob@example.org\r\n"
	    "Subject: hello\r\n world\r\n"
	    "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n)\r\n");
	PLAIN("BODY[2]", "* 1 FETCH (BODY[2] {0}\r\n)\r\n");
	PLAIN("BODY[1.1]", "* 1 FETCH (BODY[1.1] {0}\r\n)\r\n");
	/* folded lines kept whole, the empty line at the end */
	PLAIN("BODY.PEEK[HEADER.FIELDS (subject To)]",
	    "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT TO)] {47}\r\n"
	    "To: bob@example.org\r\nSubject: hello\r\n world\r\n\r\n)\r\n");
	PLAIN("BODY[HEADER.FIELDS.NOT (SUBJECT TO DATE)]",
	    "* 1 FETCH (BODY[HEADER.FIELDS.NOT (SUBJECT TO DATE)] {31}\r\n"
	    "From: Alice <a@example.org>\r\n\r\n)\r\n");
	PLAIN("BODY[HEADER.FIELDS (X-NONE)]",
	    "* 1 FETCH (BODY[HEADER.FIELDS (X-NONE)] {2}\r\n\r\n)\r\n");
	PLAIN("BODY[HEADER.FIELDS (SUBJECT)]<3.6>",
	    "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)]<3> {6}\r\nject: )\r\n");
	/* partials past the end: an empty literal */
	PLAIN("BODY[TEXT]<20.5>", "* 1 FETCH (BODY[TEXT]<20> {0}\r\n)\r\n");
	PLAIN("BODY[TEXT]<18.5>", "* 1 FETCH (BODY[TEXT]<18> {2}\r\n\r\n)\r\n");
	PLAIN("BODY[TEXT]<9.100>",
	    "* 1 FETCH (BODY[TEXT]<9> {11}\r\n\nline two\r\n)\r\n");
	PLAIN("BINARY[]<0.4> BINARY.SIZE[] BINARY[1]<10.4> BINARY.SIZE[1]",
	    "* 1 FETCH (BINARY[]<0> {4}\r\nFrom BINARY.SIZE[] 134 "
	    "BINARY[1]<10> {4}\r\nline BINARY.SIZE[1] 20)\r\n");
}

static void
test_imap_fetch_msg_mixed_sections(void **state)
{
	(void)state;
	MIXED("BODY[1]", "* 1 FETCH (BODY[1] {8}\r\npart one)\r\n");
	MIXED("BODY[1.MIME]",
	    "* 1 FETCH (BODY[1.MIME] {28}\r\nContent-Type: text/plain\r\n\r\n)"
	    "\r\n");
	MIXED("BODY[2.1]",
	    "* 1 FETCH (BODY[2.1] {17}\r\ncaf=C3=A9 =\r\nsoft)\r\n");
	MIXED(
	    "BODY[2.2]", "* 1 FETCH (BODY[2.2] {16}\r\nPGI+aGk8L2I+AA==)\r\n");
	MIXED("BODY[2.3] BODY[4] BODY[1.1] BODY[1.HEADER] BODY[2.TEXT]",
	    "* 1 FETCH (BODY[2.3] {0}\r\n BODY[4] {0}\r\n BODY[1.1] {0}\r\n "
	    "BODY[1.HEADER] {0}\r\n BODY[2.TEXT] {0}\r\n)\r\n");
	/* the part 1 of a non-multipart message inside: its body */
	MIXED("BODY[3.1.1] BODY[3.2]",
	    "* 1 FETCH (BODY[3.1.1] {0}\r\n BODY[3.2] {0}\r\n)\r\n");
	MIXED("BODY[3]",
	    "* 1 FETCH (BODY[3] {49}\r\nSubject: inner\r\nFrom: c@example.org"
	    "\r\n\r\ninner body)\r\n");
	MIXED("BODY[3.HEADER]",
	    "* 1 FETCH (BODY[3.HEADER] {39}\r\nSubject: inner\r\n"
	    "From: c@example.org\r\n\r\n)\r\n");
	MIXED("BODY[3.TEXT] BODY[3.1]",
	    "* 1 FETCH (BODY[3.TEXT] {10}\r\ninner body BODY[3.1] {10}\r\n"
	    "inner body)\r\n");
	/* Dovecot: MIME of a message/rfc822 part is its own MIME header */
	MIXED("BODY[3.MIME]",
	    "* 1 FETCH (BODY[3.MIME] {32}\r\nContent-Type: message/rfc822"
	    "\r\n\r\n)\r\n");
	MIXED("BODY[3.HEADER.FIELDS (FROM)]",
	    "* 1 FETCH (BODY[3.HEADER.FIELDS (FROM)] {23}\r\n"
	    "From: c@example.org\r\n\r\n)\r\n");
	MIXED("BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]",
	    "* 1 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] {39}\r\n"
	    "From: a@example.org\r\nSubject: mixed\r\n\r\n)\r\n");
	MIXED("BODY[HEADER.FIELDS.NOT (FROM SUBJECT)]",
	    "* 1 FETCH (BODY[HEADER.FIELDS.NOT (FROM SUBJECT)] {70}\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n)\r\n");
	MIXED("BODY[TEXT]<0.10>",
	    "* 1 FETCH (BODY[TEXT]<0> {10}\r\npreamble\r\n)\r\n");
	MIXED("BODY[2]<0.9>", "* 1 FETCH (BODY[2]<0> {9}\r\n--inner\r\n)\r\n");
	MIXED("BODY[1]<5.100>", "* 1 FETCH (BODY[1]<5> {3}\r\none)\r\n");
}

static void
test_imap_fetch_msg_binary(void **state)
{
	(void)state;
	/* RFC 3516 4.2: QP decoded, a soft line break gone */
	MIXED("BINARY[2.1]",
	    "* 1 FETCH (BINARY[2.1] {10}\r\ncaf\xc3\xa9 soft)\r\n");
	/* a NUL: literal8 */
	expect_fx(
	    &(struct fx){ .file = mixed_msg, .file_n = sizeof(mixed_msg) - 1 },
	    "BINARY.PEEK[2.2]",
	    S("* 1 FETCH (BINARY[2.2] ~{10}\r\n<b>hi</b>\0)\r\n"));
	MIXED("BINARY[2.2]<3.2>", "* 1 FETCH (BINARY[2.2]<3> {2}\r\nhi)\r\n");
	MIXED("BINARY[2.2]<10.2>", "* 1 FETCH (BINARY[2.2]<10> {0}\r\n)\r\n");
	MIXED("BINARY.SIZE[2.1] BINARY.SIZE[2.2] BINARY.SIZE[1] "
	      "BINARY.SIZE[9]",
	    "* 1 FETCH (BINARY.SIZE[2.1] 10 BINARY.SIZE[2.2] 10 "
	    "BINARY.SIZE[1] 8 BINARY.SIZE[9] 0)\r\n");
	MIXED("BINARY[1] BINARY[7]",
	    "* 1 FETCH (BINARY[1] {8}\r\npart one BINARY[7] {0}\r\n)\r\n");
}

static void
test_imap_fetch_msg_unknown_cte(void **state)
{
	static const char m[] = "Content-Transfer-Encoding: x-uuencode\n"
	                        "\n"
	                        "begin 644 x\n";
	struct fx fx = { .file = m, .file_n = sizeof(m) - 1 };
	const char *code = NULL;
	size_t n;
	char *res;

	(void)state;
	res = run_budget(&fx, "UID BINARY[1]", 64, &n, &code);
	assert_null(res);
	assert_string_equal(code, "UNKNOWN-CTE");
	code = NULL;
	res = run_budget(&fx, "BINARY.SIZE[1]", 64, &n, &code);
	assert_null(res);
	assert_string_equal(code, "UNKNOWN-CTE");
	/* BODY[] is fine, and so is BINARY[] (the message as it is) */
	expect_fx(&fx, "BODY[1] BINARY[]<0.7>",
	    S("* 1 FETCH (BODY[1] {13}\r\nbegin 644 x\r\n BINARY[]<0> "
	      "{7}\r\nContent)\r\n"));
}

static void
test_imap_fetch_msg_envelope_bodystructure(void **state)
{
	struct mime_tree *t;
	struct buf want;
	const char *msgs[] = { plain_msg, mixed_msg };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		t = mime_parse(msgs[i], strlen(msgs[i]), &mime_limits_default);
		buf_init(&want, BUF_MAX_DEFAULT);
		assert_int_equal(
		    buf_append_str(&want, "* 1 FETCH (ENVELOPE "), 0);
		assert_int_equal(imap_envelope_append(
		                     &want, mime_tree_root(t)->envelope, false),
		    0);
		assert_int_equal(buf_append_str(&want, " BODY "), 0);
		assert_int_equal(imap_bodystructure_append(
		                     &want, mime_tree_root(t), false, false),
		    0);
		assert_int_equal(buf_append_str(&want, " BODYSTRUCTURE "), 0);
		assert_int_equal(imap_bodystructure_append(
		                     &want, mime_tree_root(t), true, false),
		    0);
		assert_int_equal(buf_append_str(&want, ")\r\n"), 0);
		expect(msgs[i], "ENVELOPE BODY BODYSTRUCTURE", want.data);
		buf_free(&want);
		mime_tree_free(&t);
	}
	/* Dovecot 2.3's answer for the plain message */
	PLAIN("BODY",
	    "* 1 FETCH (BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") "
	    "NIL NIL \"7bit\" 20 2))\r\n");
}

static void
test_imap_fetch_msg_crlf_file(void **state)
{
	static const char m[] = "Subject: x\r\n\r\nab\r\ncd\nef\r\n";
	struct fx fx = { .file = m, .file_n = sizeof(m) - 1 };

	(void)state;
	/* CRLF kept as it is, only the bare LF gets a CR */
	expect_fx(&fx, "RFC822.SIZE BODY[TEXT] BODY[]<14.6>",
	    S("* 1 FETCH (RFC822.SIZE 26 BODY[TEXT] {12}\r\nab\r\ncd\r\nef\r\n "
	      "BODY[]<14> {6}\r\nab\r\ncd)\r\n"));
}

static void
test_imap_fetch_msg_nul_in_body(void **state)
{
	static const char m[] = "Subject: x\n\na\0b\n";
	struct fx fx = { .file = m, .file_n = sizeof(m) - 1 };

	(void)state;
	/* RFC 9051 4.3: no NUL in a literal; Dovecot sends 0x80 */
	expect_fx(&fx, "BODY[TEXT] BINARY[1]",
	    S("* 1 FETCH (BODY[TEXT] {5}\r\na\x80"
	      "b\r\n BINARY[1] ~{5}\r\na\0b\r\n)\r\n"));
}

static void
test_imap_fetch_msg_short_file(void **state)
{
	static const char full[] = "Subject: x\n\n0123456789\n";
	struct fx fx = { .file = full,
		.file_n = 16,
		.tree_text = full,
		.tree_n = sizeof(full) - 1 };

	(void)state;
	/* the tree says 12 bytes of text, the file has 4: padded */
	expect_fx(&fx, "BODY[TEXT] BODY[TEXT]<2.20>",
	    S("* 1 FETCH (BODY[TEXT] {12}\r\n0123         BODY[TEXT]<2> "
	      "{10}\r\n23        )\r\n"));
}

static void
test_imap_fetch_msg_needs(void **state)
{
	// clang-format off
	static const struct {
		const char *atts;
		unsigned need;
		bool seen;
	} rows[] = {
		{ "UID FLAGS INTERNALDATE RFC822.SIZE", 0, false },
		{ "RFC822", IMAP_FETCH_NEED_FILE, true },
		{ "BODY.PEEK[]", IMAP_FETCH_NEED_FILE, false },
		{ "BODY[]<0.10>", IMAP_FETCH_NEED_FILE, true },
		{ "BINARY.PEEK[]", IMAP_FETCH_NEED_FILE, false },
		{ "BINARY.SIZE[]", 0, false },
		{ "BINARY[1]", IMAP_FETCH_NEED_FILE | IMAP_FETCH_NEED_TREE, true },
		{ "BINARY.SIZE[1]", IMAP_FETCH_NEED_FILE | IMAP_FETCH_NEED_TREE, false },
		{ "ENVELOPE", IMAP_FETCH_NEED_TREE, false },
		{ "BODY", IMAP_FETCH_NEED_TREE, false },
		{ "BODYSTRUCTURE", IMAP_FETCH_NEED_TREE, false },
		{ "RFC822.HEADER", IMAP_FETCH_NEED_FILE | IMAP_FETCH_NEED_TREE, false },
		{ "RFC822.TEXT", IMAP_FETCH_NEED_FILE | IMAP_FETCH_NEED_TREE, true },
		{ "BODY.PEEK[HEADER]", IMAP_FETCH_NEED_FILE | IMAP_FETCH_NEED_TREE, false },
		{ "BODY[1]", IMAP_FETCH_NEED_FILE | IMAP_FETCH_NEED_TREE, true },
	};
	// clang-format on
	struct imap_reader *r;
	struct imap_test_run run;
	struct buf cmd;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		buf_init(&cmd, 1024);
		assert_int_equal(
		    buf_printf(&cmd, "a FETCH 1 (%s)\r\n", rows[i].atts), 0);
		run = imap_test_one(&r, cmd.data, cmd.len, false);
		assert_int_equal(run.ev, IMAP_READ_COMMAND);
		if (imap_fetch_needs(&run.cmd->u.msg.fetch) != rows[i].need ||
		    imap_fetch_sets_seen(&run.cmd->u.msg.fetch) != rows[i].seen)
			fail_msg("row %zu: %s", i, rows[i].atts);
		imap_reader_free(&r);
		buf_free(&cmd);
	}
}

static void
test_imap_flags_append_all(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(imap_flags_append(&b, 0, 0, NULL, 0, false), 0);
	assert_string_equal(buf_cstr(&b), "()");
	buf_reset(&b);
	assert_int_equal(imap_flags_append(&b, STORE_FLAG_MASK, 0xffffffffu,
	                     kw_names, 3, true),
	    0);
	assert_string_equal(buf_cstr(&b),
	    "(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\Recent "
	    "$Forwarded Junk)");
	/* keywords alone; \Recent alone; PASSED is no IMAP flag */
	buf_reset(&b);
	assert_int_equal(imap_flags_append(&b, STORE_FLAG_PASSED, 1u << 2,
	                     kw_names, 3, false),
	    0);
	assert_string_equal(buf_cstr(&b), "(Junk)");
	buf_reset(&b);
	assert_int_equal(imap_flags_append(&b, 0, 0, kw_names, 3, true), 0);
	assert_string_equal(buf_cstr(&b), "(\\Recent)");
	buf_free(&b);
	/* past the ceiling: -1 and nothing left behind */
	buf_init(&b, 12);
	assert_int_equal(
	    imap_flags_append(&b, STORE_FLAG_SEEN, 1u << 0, kw_names, 3, false),
	    -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* One writer for several messages, as FETCH uses it: UID added first,
 * FLAGS added after \Seen was set for some messages only. */
static void
test_imap_fetch_msg_writer_next(void **state)
{
	struct imap_reader *r;
	struct imap_test_run run;
	struct imap_fetch_writer *w;
	struct imap_fetch_msg_in in = { 0 };
	struct store_msg msg = { 0 };
	const char *code;
	struct buf out;
	static const char cmd[] = "a UID FETCH 1:* (RFC822.SIZE)\r\n";
	static const char *const want[] = {
		"* 1 FETCH (UID 10 RFC822.SIZE 100)\r\n",
		"* 2 FETCH (UID 11 RFC822.SIZE 101 FLAGS (\\Seen))\r\n",
		"* 3 FETCH (UID 4294967295 RFC822.SIZE 18446744073709551615)\r\n",
	};
	size_t i;

	(void)state;
	run = imap_test_one_lim(
	    &r, &imap_test_lim_long, cmd, sizeof(cmd) - 1, false);
	assert_int_equal(run.ev, IMAP_READ_COMMAND);
	in.msg = &msg;
	in.fd = -1;
	in.add_uid = true;
	buf_init(&out, 4096);
	for (i = 0; i < 3; i++) {
		in.seq = (uint32_t)i + 1;
		msg.uid = i < 2 ? 10 + (uint32_t)i : UINT32_MAX;
		msg.vsize = i < 2 ? 100 + i : UINT64_MAX;
		msg.flags = i == 1 ? STORE_FLAG_SEEN : 0;
		in.add_flags = i == 1;
		if (i == 0)
			assert_int_equal(
			    imap_fetch_writer_new(
			        &run.cmd->u.msg.fetch, &in, &w, &code),
			    0);
		else
			assert_int_equal(
			    imap_fetch_writer_next(w, &in, &code), 0);
		buf_reset(&out);
		assert_int_equal(imap_fetch_writer_step(w, &out, 65536), 0);
		assert_string_equal(buf_cstr(&out), want[i]);
	}
	imap_fetch_writer_free(&w);
	buf_free(&out);
	imap_reader_free(&r);
}

static void
test_imap_number_append(void **state)
{
	static const struct {
		uint64_t v;
		const char *s;
	} rows[] = {
		{ 0, "0" },
		{ 7, "7" },
		{ 10, "10" },
		{ 4294967295u, "4294967295" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 64);
	for (i = 0; i < MW_NELEM(rows); i++) {
		buf_reset(&b);
		assert_int_equal(imap_number_append(&b, rows[i].v), 0);
		assert_string_equal(buf_cstr(&b), rows[i].s);
	}
	buf_free(&b);
	/* past the ceiling: nothing appended */
	buf_init(&b, 3);
	assert_int_equal(imap_number_append(&b, 1234), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_imap_date_time_zones(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1), 0);
	tzset();
	assert_int_equal(imap_date_time_append(&b, 1700000000), 0);
	assert_string_equal(buf_cstr(&b), "\"14-Nov-2023 17:13:20 -0500\"");
	buf_reset(&b);
	assert_int_equal(imap_date_time_append(&b, 1690000000), 0);
	assert_string_equal(buf_cstr(&b), "\"22-Jul-2023 00:26:40 -0400\"");
	buf_reset(&b);
	assert_int_equal(setenv("TZ", "IST-5:30", 1), 0);
	tzset();
	assert_int_equal(imap_date_time_append(&b, 0), 0);
	assert_string_equal(buf_cstr(&b), "\"01-Jan-1970 05:30:00 +0530\"");
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	tzset();
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_fetch_msg_simple_items),
		cmocka_unit_test(test_imap_fetch_msg_uid_fetch_and_recent),
		cmocka_unit_test(test_imap_fetch_msg_plain_sections),
		cmocka_unit_test(test_imap_fetch_msg_mixed_sections),
		cmocka_unit_test(test_imap_fetch_msg_binary),
		cmocka_unit_test(test_imap_fetch_msg_unknown_cte),
		cmocka_unit_test(test_imap_fetch_msg_envelope_bodystructure),
		cmocka_unit_test(test_imap_fetch_msg_crlf_file),
		cmocka_unit_test(test_imap_fetch_msg_nul_in_body),
		cmocka_unit_test(test_imap_fetch_msg_short_file),
		cmocka_unit_test(test_imap_fetch_msg_needs),
		cmocka_unit_test(test_imap_fetch_msg_writer_next),
		cmocka_unit_test(test_imap_number_append),
		cmocka_unit_test(test_imap_flags_append_all),
		cmocka_unit_test(test_imap_date_time_zones),
	};

	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
