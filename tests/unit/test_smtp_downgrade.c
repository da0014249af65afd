/*
 * Unit tests for the 8BITMIME downgrade (smtp_downgrade.c): table rows fed
 * whole, byte by byte and split at every offset (and at every pair of
 * offsets for short rows), which must all give the row's output; limits at
 * max-1, max and max+1; output that fills up; and round trips: random
 * multiparts whose converted parts, decoded by the small quoted-printable
 * decoder below, give back the original bytes, and whose other parts come
 * out byte-identical.
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

#include "lib/buf.h"
#include "lib/mw.h"
#include "smtp/smtp_downgrade.h"

#define S(s) s, sizeof(s) - 1

#define LINE_MAX_DEFAULT   65536
#define DEPTH_MAX_DEFAULT  32
#define HEADER_MAX_DEFAULT 262144

#define QP "Content-Transfer-Encoding: quoted-printable\n"

struct dg_case {
	const char *name;
	const char *in;
	size_t in_n;
	const char *out;
	size_t out_n;
	bool limits; /* else the defaults */
	size_t line_max, depth_max, header_max;
};

#define R(name, in, out)                                                       \
	{                                                                      \
		name, S(in), S(out), false, 0, 0, 0                            \
	}
#define RL(name, line, depth, header, in, out)                                 \
	{                                                                      \
		name, S(in), S(out), true, line, depth, header                 \
	}
#define SAME(name, in) R(name, in, in)

#define MP_HEAD "Content-Type: multipart/mixed; boundary=b\n\n"
#define SP10    "          "
#define LM      LINE_MAX_DEFAULT
#define HM      HEADER_MAX_DEFAULT

// clang-format off
static const struct dg_case dg_cases[] = {
	R("plain text with 8-bit",
	  "Subject: hi\n\nh\xc3\xa9llo\nplain\n",
	  "Subject: hi\n" QP "\nh=C3=A9llo\nplain\n"),
	SAME("7-bit message is byte-identical",
	  "From: a@example.org\nSubject: x\n\nhello = x  \n-- \nsig\n"),
	SAME("7-bit multipart is byte-identical",
	  "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"x\"\n\n"
	  "preamble\n--x\nContent-Type: text/plain\n\nhi \n--x\n"
	  "Content-Type: text/html\nContent-Transfer-Encoding: 7bit\n\n<p>\n--x--\n"),
	SAME("empty input", ""),
	SAME("header only, no LF", "Subject: x"),
	R("no header at all",
	  "\n\xe9\n", QP "\n=E9\n"),
	R("equals, trailing SP and TAB, CR, NUL",
	  "\n\xe9 a=b  \nc\t\nd \r\nx\0y\n",
	  QP "\n=E9 a=3Db =20\nc=09\nd =0D\nx=00y\n"),
	R("trailing space at the end of input",
	  "\n\xe9 ", QP "\n=E9=20"),
	R("multipart/alternative: 8bit text, base64 html",
	  "MIME-Version: 1.0\n"
	  "Content-Type: multipart/alternative; boundary=\"=_b1\"\n\n"
	  "preamble\n--=_b1\n"
	  "Content-Type: text/plain; charset=utf-8\n"
	  "Content-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9\n--=_b1\n"
	  "Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n"
	  "PGI+Y2Fmw6k8L2I+\n--=_b1--\nepilogue\n",
	  "MIME-Version: 1.0\n"
	  "Content-Type: multipart/alternative; boundary=\"=_b1\"\n\n"
	  "preamble\n--=_b1\n"
	  "Content-Type: text/plain; charset=utf-8\n"
	  QP "\ncaf=C3=A9\n--=_b1\n"
	  "Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n"
	  "PGI+Y2Fmw6k8L2I+\n--=_b1--\nepilogue\n"),
	R("nested multipart/mixed, multipart/alternative",
	  "Content-Type: multipart/mixed; boundary=outer\n\n"
	  "--outer\nContent-Type: multipart/alternative; boundary=inner\n\n"
	  "--inner\nContent-Type: text/plain\n\n\xe9t\xe9\n"
	  "--inner\nContent-Type: text/html\n\n<p>ok</p>\n--inner--\n"
	  "--outer\nContent-Type: application/pdf\n"
	  "Content-Transfer-Encoding: base64\n\nAAAA\n--outer--\n",
	  "Content-Type: multipart/mixed; boundary=outer\n\n"
	  "--outer\nContent-Type: multipart/alternative; boundary=inner\n\n"
	  "--inner\nContent-Type: text/plain\n" QP "\n=E9t=E9\n"
	  "--inner\nContent-Type: text/html\n\n<p>ok</p>\n--inner--\n"
	  "--outer\nContent-Type: application/pdf\n"
	  "Content-Transfer-Encoding: base64\n\nAAAA\n--outer--\n"),
	R("message/rfc822 8bit: inner converted, outer 7bit",
	  MP_HEAD "--b\nContent-Type: message/rfc822\n"
	  "Content-Transfer-Encoding: 8bit\n\n"
	  "Subject: inner\nContent-Type: text/plain; charset=latin1\n\n"
	  "na\xefve\n--b--\n",
	  MP_HEAD "--b\nContent-Type: message/rfc822\n"
	  "Content-Transfer-Encoding: 7bit\n\n"
	  "Subject: inner\nContent-Type: text/plain; charset=latin1\n" QP "\n"
	  "na=EFve\n--b--\n"),
	R("message/rfc822 with its own multipart",
	  "Content-Type: message/rfc822\n\n"
	  "Content-Type: multipart/mixed; boundary=in\n\n--in\n\n\xe9\n--in--\n",
	  "Content-Type: message/rfc822\n\n"
	  "Content-Type: multipart/mixed; boundary=in\n\n--in\n" QP "\n=E9\n"
	  "--in--\n"),
	SAME("message/rfc822 with base64 passes through",
	  "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
	  "\xe9\n"),
	SAME("other message types pass through",
	  "Content-Type: message/delivery-status\n"
	  "Content-Transfer-Encoding: 8bit\n\n\xe9\n"),
	R("multipart/digest parts default to message/rfc822",
	  "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	  "Subject: one\n\n\xe9\n--d--\n",
	  "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	  "Subject: one\n" QP "\n=E9\n--d--\n"),
	R("missing close delimiter",
	  MP_HEAD "--b\n\n\xff\xfe\n",
	  MP_HEAD "--b\n" QP "\n=FF=FE\n"),
	R("outer delimiter closes an inner multipart",
	  MP_HEAD "--b\nContent-Type: multipart/mixed; boundary=c\n\n"
	  "--c\n\n\xe9\n--b\n\n\xe8\n--b--\n",
	  MP_HEAD "--b\nContent-Type: multipart/mixed; boundary=c\n\n"
	  "--c\n" QP "\n=E9\n--b\n" QP "\n=E8\n--b--\n"),
	R("close delimiter at the end of input, no LF",
	  MP_HEAD "--b\n\n\xe9\n--b--",
	  MP_HEAD "--b\n" QP "\n=E9\n--b--"),
	R("part without LF at the end of input",
	  MP_HEAD "--b\n\n\xe9", MP_HEAD "--b\n" QP "\n=E9"),
	R("delimiter with transport padding",
	  MP_HEAD "--b \t\n\n\xe9\n--b-- \n",
	  MP_HEAD "--b \t\n" QP "\n=E9\n--b-- \n"),
	R("a boundary is matched exactly, not as a prefix",
	  MP_HEAD "--b\n\n\xe9\n--bx\n--b-\n--b--x\n--b\n\n\xe8\n",
	  MP_HEAD "--b\n" QP "\n=E9\n--bx\n--b-\n--b--x\n--b\n" QP "\n=E8\n"),
	R("text after the close delimiter is epilogue",
	  MP_HEAD "--b\n\nx\n--b--\n\xe9\n--b\n\xe9\n",
	  MP_HEAD "--b\n\nx\n--b--\n\xe9\n--b\n\xe9\n"),
	R("boundary unquoted with '='",
	  "Content-Type: multipart/mixed; boundary=----=_Part_1\n\n"
	  "------=_Part_1\n\n\xe9\n------=_Part_1--\n",
	  "Content-Type: multipart/mixed; boundary=----=_Part_1\n\n"
	  "------=_Part_1\n" QP "\n=E9\n------=_Part_1--\n"),
	R("boundary quoted with a space and a quoted-pair",
	  "Content-Type: multipart/mixed; boundary=\"a \\\"b\"\n\n"
	  "--a \"b\n\n\xe9\n--a \"b--\n",
	  "Content-Type: multipart/mixed; boundary=\"a \\\"b\"\n\n"
	  "--a \"b\n" QP "\n=E9\n--a \"b--\n"),
	R("folded Content-Type with comments, case-insensitive",
	  "content-TYPE : (x) Multipart/Mixed (y);\n\tcharset=x;\n"
	  " BOUNDARY=\n \"zz\" (z)\n\n--zz\n\n\xe9\n--zz--\n",
	  "content-TYPE : (x) Multipart/Mixed (y);\n\tcharset=x;\n"
	  " BOUNDARY=\n \"zz\" (z)\n\n--zz\n" QP "\n=E9\n--zz--\n"),
	R("junk parameter before the boundary",
	  "Content-Type: multipart/mixed; junk; x=\"a;b\"; boundary=b\n\n"
	  "--b\n\n\xe9\n",
	  "Content-Type: multipart/mixed; junk; x=\"a;b\"; boundary=b\n\n"
	  "--b\n" QP "\n=E9\n"),
	SAME("multipart without a boundary passes through",
	  "Content-Type: multipart/mixed\n\n--b\n\n\xe9\n"),
	SAME("RFC 2231 boundary* is not decoded",
	  "Content-Type: multipart/mixed; boundary*=''b\n\n--b\n\n\xe9\n"),
	R("invalid Content-Type is text/plain",
	  "Content-Type: garbage\n\n\xe9\n",
	  "Content-Type: garbage\n" QP "\n=E9\n"),
	R("image with 8bit is converted too",
	  "Content-Type: image/x-raw\nContent-Transfer-Encoding: 8bit\n\n\xff\n",
	  "Content-Type: image/x-raw\n" QP "\n=FF\n"),
	R("CTE 8bit with a comment, upper case",
	  "Content-Transfer-Encoding: 8BIT (raw)\nSubject: x\n\n\xe9\n",
	  QP "Subject: x\n\n=E9\n"),
	R("CTE 7bit with 8-bit content is converted",
	  "Content-Transfer-Encoding: 7bit\n\n\xe9\n", QP "\n=E9\n"),
	R("a second CTE field is dropped",
	  "Content-Transfer-Encoding: 8bit\nX: 1\nContent-Transfer-Encoding: 8bit\n"
	  "\n\xe9\n",
	  QP "X: 1\n\n=E9\n"),
	R("folded CTE field is replaced whole",
	  "Content-Transfer-Encoding:\n 8bit\nX: 1\n\n\xe9\n",
	  QP "X: 1\n\n=E9\n"),
	SAME("bogus CTE 8-bit passes through",
	  "Content-Transfer-Encoding: 8-bit\n\n\xe9\n"),
	SAME("bogus CTE with two tokens passes through",
	  "Content-Transfer-Encoding: 8bit 7bit\n\n\xe9\n"),
	SAME("empty CTE passes through",
	  "Content-Transfer-Encoding:\n\n\xe9\n"),
	SAME("x-uuencode passes through",
	  "Content-Transfer-Encoding: x-uuencode\n\n\xe9\n"),
	SAME("binary passes through",
	  "Content-Transfer-Encoding: binary\n\n\xe9\0\n"),
	SAME("base64 and quoted-printable pass through",
	  MP_HEAD "--b\nContent-Transfer-Encoding: BASE64\n\n\xe9\n"
	  "--b\nContent-Transfer-Encoding: Quoted-Printable\n\n\xe9\n--b--\n"),
	R("8bit label on 7-bit text becomes 7bit",
	  "Subject: x\nContent-Transfer-Encoding: 8bit\n\nhello\n",
	  "Subject: x\nContent-Transfer-Encoding: 7bit\n\nhello\n"),
	R("8bit label on a multipart becomes 7bit",
	  "Content-Type: multipart/mixed; boundary=b\n"
	  "Content-Transfer-Encoding: 8bit\n\n--b\n\nx\n--b--\n",
	  "Content-Type: multipart/mixed; boundary=b\n"
	  "Content-Transfer-Encoding: 7bit\n\n--b\n\nx\n--b--\n"),
	R("binary multipart keeps its label; its binary part too",
	  "Content-Type: multipart/mixed; boundary=b\n"
	  "Content-Transfer-Encoding: binary\n\n--b\n\n\xe9\n"
	  "--b\nContent-Transfer-Encoding: binary\n\n\xe9\n--b--\n",
	  "Content-Type: multipart/mixed; boundary=b\n"
	  "Content-Transfer-Encoding: binary\n\n--b\n" QP "\n=E9\n"
	  "--b\nContent-Transfer-Encoding: binary\n\n\xe9\n--b--\n"),
	SAME("multipart with base64 passes through",
	  "Content-Type: multipart/mixed; boundary=b\n"
	  "Content-Transfer-Encoding: base64\n\n--b\n\n\xe9\n"),
	R("8-bit in headers and preamble stays",
	  "Subject: caf\xc3\xa9\n" MP_HEAD "pr\xe9\n--b\nX-Name: \xe9\n\n\xe9\n"
	  "--b--\nep\xe9\n",
	  "Subject: caf\xc3\xa9\n" MP_HEAD "pr\xe9\n--b\nX-Name: \xe9\n" QP "\n"
	  "=E9\n--b--\nep\xe9\n"),
	R("header ended by a non-field line gets its empty line",
	  "Subject: x\nnot a field\n\xe9\n",
	  "Subject: x\n" QP "\nnot a field\n=E9\n"),
	R("a non-field line starting with a space after an empty header",
	  MP_HEAD "--b\n \xe9\n--b--\n",
	  MP_HEAD "--b\n" QP "\n =E9\n--b--\n"),
	R("a part whose header ends at a delimiter",
	  MP_HEAD "--b\nContent-Transfer-Encoding: 8bit\n--b\n\n\xe9\n",
	  MP_HEAD "--b\nContent-Transfer-Encoding: 7bit\n--b\n" QP "\n=E9\n"),
	SAME("a multipart header ended by its own first delimiter",
	  "Content-Type: multipart/mixed; boundary=b\n--b\n\nx\n--b--\n"),
	R("soft break never starts a line with '-'",
	  "\n\xe9"
	  "------------------------------------------------------------------------"
	  "--b\n",
	  QP "\n=E9"
	  "------------------------------------------------------------------------=\n"
	  "=2D-b\n"),
	R("76 columns: the last byte may use column 76",
	  "\n\xe9"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "b\n",
	  QP "\n=E9"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "b\n"),
	R("77 columns get a soft break",
	  "\n\xe9"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "bc\n",
	  QP "\n=E9"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\n"
	  "bc\n"),
	R("an =XX is never split by a soft break",
	  "\n"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "\xe9\n",
	  QP "\n"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "=E9\n"),
	R("an =XX that would pass column 76 goes to the next line",
	  "\n"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "\xe9\n",
	  QP "\n"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\n"
	  "=E9\n"),
	R("a trailing space at column 76 is encoded on the next line",
	  "\n\xe9"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  " \n",
	  QP "\n=E9"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\n"
	  "=20\n"),
	/* depth_max 2: two multiparts are parsed, the third passes */
	RL("nesting at depth_max - 1", LM, 2, HM,
	  MP_HEAD "--b\n\n\xe9\n--b--\n",
	  MP_HEAD "--b\n" QP "\n=E9\n--b--\n"),
	RL("nesting at depth_max", LM, 2, HM,
	  MP_HEAD "--b\nContent-Type: multipart/mixed; boundary=c\n\n"
	  "--c\n\n\xe9\n--c--\n--b--\n",
	  MP_HEAD "--b\nContent-Type: multipart/mixed; boundary=c\n\n"
	  "--c\n" QP "\n=E9\n--c--\n--b--\n"),
	RL("nesting at depth_max + 1 passes through", LM, 2, HM,
	  MP_HEAD "--b\nContent-Type: multipart/mixed; boundary=c\n\n"
	  "--c\nContent-Type: multipart/mixed; boundary=d\n"
	  "Content-Transfer-Encoding: 8bit\n\n--d\n\n\xe9\n--d--\n--c\n\n\xe8\n"
	  "--c--\n--b--\n",
	  MP_HEAD "--b\nContent-Type: multipart/mixed; boundary=c\n\n"
	  "--c\nContent-Type: multipart/mixed; boundary=d\n"
	  "Content-Transfer-Encoding: 8bit\n\n--d\n\n\xe9\n--d--\n--c\n" QP "\n"
	  "=E8\n--c--\n--b--\n"),
	RL("message/rfc822 counts as nesting", LM, 1, HM,
	  MP_HEAD "--b\nContent-Type: message/rfc822\n\nSubject: x\n\n\xe9\n"
	  "--b\n\n\xe8\n",
	  MP_HEAD "--b\nContent-Type: message/rfc822\n\nSubject: x\n\n\xe9\n"
	  "--b\n" QP "\n=E8\n"),
	RL("depth_max 0: only the top leaf", LM, 0, HM,
	  MP_HEAD "--b\n\n\xe9\n", MP_HEAD "--b\n\n\xe9\n"),
	/* line_max 44: MP_HEAD's first line has 41 */
	RL("delimiter line at line_max - 1", 44, 4, HM,
	  MP_HEAD "--b\n\n\xe9\n--b" SP10 SP10 SP10 SP10 "\n\n\xe8\n",
	  MP_HEAD "--b\n" QP "\n=E9\n--b" SP10 SP10 SP10 SP10 "\n" QP "\n=E8\n"),
	RL("delimiter line at line_max", 44, 4, HM,
	  MP_HEAD "--b\n\n\xe9\n--b" SP10 SP10 SP10 SP10 " \n\n\xe8\n",
	  MP_HEAD "--b\n" QP "\n=E9\n--b" SP10 SP10 SP10 SP10 " \n" QP "\n=E8\n"),
	RL("delimiter line over line_max is content", 44, 4, HM,
	  MP_HEAD "--b\n\n\xe9\n--b" SP10 SP10 SP10 SP10 "  \n\n\xe8\n",
	  MP_HEAD "--b\n" QP "\n=E9\n--b" SP10 SP10 SP10 SP10 " =20\n\n=E8\n"),
	RL("boundary longer than line_max - 2: the multipart passes", 20, 4, HM,
	  "Content-Type:\n multipart/mixed;\n boundary=\n bbbbbbbbbbbbbbbbbbb\n\n"
	  "--bbbbbbbbbbbbbbbbbbb\n\n\xe9\n",
	  "Content-Type:\n multipart/mixed;\n boundary=\n bbbbbbbbbbbbbbbbbbb\n\n"
	  "--bbbbbbbbbbbbbbbbbbb\n\n\xe9\n"),
	RL("boundary of line_max - 2", 20, 4, HM,
	  "Content-Type:\n multipart/mixed;\n boundary=\n bbbbbbbbbbbbbbbbbb\n\n"
	  "--bbbbbbbbbbbbbbbbbb\n\n\xe9\n",
	  "Content-Type:\n multipart/mixed;\n boundary=\n bbbbbbbbbbbbbbbbbb\n\n"
	  "--bbbbbbbbbbbbbbbbbb\n" QP "\n=E9\n"),
	RL("over-long 8-bit line streams in pieces", 8, 4, HM,
	  "\n\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\n",
	  QP "\n=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9=E9\n"),
	RL("header line at line_max - 1", 12, 4, HM,
	  "X: 12345678\n\n\xe9\n", "X: 12345678\n" QP "\n=E9\n"),
	RL("header line at line_max", 12, 4, HM,
	  "X: 123456789\n\n\xe9\n", "X: 123456789\n" QP "\n=E9\n"),
	RL("header line over line_max passes through", 12, 4, HM,
	  "X: 1234567890\n\n\xe9\n", "X: 1234567890\n\n\xe9\n"),
	/* header_max 20: the fields, then the fields and the body held */
	RL("header block at header_max - 1", LM, 4, 20,
	  "X: 123456789012345\n\n\xe9\n", "X: 123456789012345\n" QP "\n=E9\n"),
	RL("header block at header_max", LM, 4, 20,
	  "X: 1234567890123456\n\n\xe9\n", "X: 1234567890123456\n" QP "\n=E9\n"),
	RL("header block over header_max passes through", LM, 4, 20,
	  "X: 12345678901234567\n\n\xe9\n", "X: 12345678901234567\n\n\xe9\n"),
	RL("7-bit body held up to header_max stays", LM, 4, 20,
	  "X: 1234567890\n\nabcdef", "X: 1234567890\n\nabcdef"),
	RL("7-bit body over header_max is converted", LM, 4, 20,
	  "X: 1234567890\n\nabcdefg", "X: 1234567890\n" QP "\nabcdefg"),
	RL("header over header_max: a delimiter still counts", LM, 4, 48,
	  MP_HEAD "--b\nX: " SP10 SP10 SP10 SP10 SP10 "\n\n\xe9\n--b\n\n\xe8\n",
	  MP_HEAD "--b\nX: " SP10 SP10 SP10 SP10 SP10 "\n\n\xe9\n--b\n" QP "\n=E8\n"),
};
// clang-format on

static struct smtp_downgrade_limits
dg_limits(const struct dg_case *c)
{
	struct smtp_downgrade_limits lim;

	lim.line_max = c->limits ? c->line_max : LINE_MAX_DEFAULT;
	lim.depth_max = c->limits ? c->depth_max : DEPTH_MAX_DEFAULT;
	lim.header_max = c->limits ? c->header_max : HEADER_MAX_DEFAULT;
	return lim;
}

/* Runs in[0..n) in pieces ending at cuts[0..ncuts) (then at the end) and
 * returns the output in *all. */
static void
dg_run(const struct smtp_downgrade_limits *lim, const char *in, size_t n,
    const size_t *cuts, size_t ncuts, struct buf *all)
{
	struct smtp_downgrade *d = smtp_downgrade_new(lim);
	size_t pos = 0, end, k;

	buf_init(all, 1 << 22);
	for (k = 0; k <= ncuts; k++) {
		end = k < ncuts ? cuts[k] : n;
		assert_int_equal(
		    smtp_downgrade_feed(d, in + pos, end - pos, all), 0);
		pos = end;
	}
	assert_int_equal(smtp_downgrade_end(d, all), 0);
	smtp_downgrade_free(&d);
	assert_null(d);
}

static void
dg_check(const struct dg_case *c, const char *how, const struct buf *got)
{
	if (got->len != c->out_n ||
	    (c->out_n > 0 && memcmp(got->data, c->out, c->out_n) != 0)) {
		print_error("%s (%s): got %zu bytes:\n%.*s\n", c->name, how,
		    got->len, (int)got->len, buf_cstr(got));
		fail_msg("%s (%s): wrong output", c->name, how);
	}
}

/* Whole, byte by byte, at every offset, and (short rows) every pair. */
static void
dg_run_all_splits(const struct dg_case *c)
{
	struct smtp_downgrade_limits lim = dg_limits(c);
	size_t cuts[4096], i, j;
	struct buf got;

	assert_true(c->in_n < MW_NELEM(cuts));
	dg_run(&lim, c->in, c->in_n, NULL, 0, &got);
	dg_check(c, "whole", &got);
	buf_free(&got);
	for (i = 0; i < c->in_n; i++)
		cuts[i] = i + 1;
	dg_run(&lim, c->in, c->in_n, cuts, c->in_n, &got);
	dg_check(c, "byte by byte", &got);
	buf_free(&got);
	for (i = 0; i <= c->in_n; i++) {
		cuts[0] = i;
		dg_run(&lim, c->in, c->in_n, cuts, 1, &got);
		dg_check(c, "split", &got);
		buf_free(&got);
		for (j = i; c->in_n <= 128 && j <= c->in_n; j++) {
			cuts[1] = j;
			dg_run(&lim, c->in, c->in_n, cuts, 2, &got);
			dg_check(c, "split twice", &got);
			buf_free(&got);
		}
	}
}

static void
test_smtp_downgrade_vectors_any_split(void **state)
{
	size_t i;

	for (i = 0; i < MW_NELEM(dg_cases); i++)
		dg_run_all_splits(&dg_cases[i]);
}

/* RFC 2045 6.7: is p[0..n) valid quoted-printable as we write it (upper
 * case hex, lines of at most 76, nothing outside 33..126 but SP and TAB,
 * no SP or TAB before a line end)? Decodes it into out. */
static bool
qp_decode(const char *p, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, col = 0;
	const char *h1, *h2;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n') {
			if (i > 0 && (p[i - 1] == ' ' || p[i - 1] == '\t'))
				return false;
			assert_int_equal(buf_append_char(out, '\n'), 0);
			col = 0;
			i++;
			continue;
		}
		if (c == '=' && i + 1 < n && p[i + 1] == '\n') {
			if (col + 1 > 76)
				return false;
			col = 0;
			i += 2;
			continue;
		}
		if (c == '=') {
			if (i + 2 >= n)
				return false;
			h1 = p[i + 1] != '\0' ? strchr(hex, p[i + 1]) : NULL;
			h2 = p[i + 2] != '\0' ? strchr(hex, p[i + 2]) : NULL;
			if (h1 == NULL || h2 == NULL)
				return false;
			assert_int_equal(
			    buf_append_char(
			        out, (char)((h1 - hex) * 16 + (h2 - hex))),
			    0);
			col += 3;
			i += 3;
		} else {
			if (!((c >= 33 && c <= 126) || c == ' ' || c == '\t'))
				return false;
			assert_int_equal(buf_append_char(out, (char)c), 0);
			col++;
			i++;
		}
		if (col > 76)
			return false;
	}
	/* the end of the part is a line end too */
	return n == 0 || (p[n - 1] != ' ' && p[n - 1] != '\t');
}

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A random part body: 8-bit, '=', SP, TAB, CR, NUL, '-', '.', long and
 * empty lines; never "_", so never the boundary "=_rt". */
static void
rnd_body(uint32_t *s, struct buf *b, bool eight)
{
	static const char alpha[] = "ab= \t\r-.\n\n\0xyz";
	size_t n = rnd(s) % 400, i;
	char c;

	for (i = 0; i < n; i++) {
		uint32_t r = rnd(s) % 100;

		if (r < 3)
			c = (char)(0x80 + rnd(s) % 128);
		else if (r < 40)
			c = alpha[rnd(s) % (sizeof(alpha) - 1)];
		else
			c = 'a' + (char)(rnd(s) % 26);
		if ((unsigned char)c >= 0x80 && !eight)
			c = 'e';
		assert_int_equal(buf_append_char(b, c), 0);
	}
	/* a run that needs soft breaks */
	if (rnd(s) % 4 == 0)
		for (i = rnd(s) % 300; i > 0; i--)
			assert_int_equal(
			    buf_append_char(b, rnd(s) % 2 ? '-' : '\xe9'), 0);
}

/* Finds "\n--=_rt" line by line: the parts of out after the preamble. */
static size_t
split_parts(const char *p, size_t n, const char **part, size_t *len, size_t max)
{
	static const char delim[] = "\n--=_rt";
	size_t k = 0, i, start = 0;
	bool in = false;

	for (i = 0; i + sizeof(delim) - 1 <= n; i++) {
		if (memcmp(p + i, delim, sizeof(delim) - 1) != 0)
			continue;
		if (in) {
			assert_true(k < max);
			part[k] = p + start;
			len[k++] = i - start;
		}
		i += sizeof(delim) - 1;
		if (i + 2 <= n && memcmp(p + i, "--", 2) == 0)
			break;
		assert_true(i < n && p[i] == '\n');
		start = i + 1;
		in = true;
	}
	return k;
}

#define RT_HEAD                                                                \
	"Subject: rt\nMIME-Version: 1.0\n"                                     \
	"Content-Type: multipart/mixed; boundary=\"=_rt\"\n\npreamble\n"
#define RT_PART "--=_rt\nContent-Type: text/plain"
#define RT_8BIT "\nContent-Transfer-Encoding: 8bit"

static void
test_smtp_downgrade_round_trip(void **state)
{
	struct smtp_downgrade_limits lim = { LINE_MAX_DEFAULT,
		DEPTH_MAX_DEFAULT, HEADER_MAX_DEFAULT };
	struct buf msg, body[8], got, dec;
	const char *part[8];
	size_t len[8], nparts, k, iter, cut[1], hl;
	uint32_t seed = 2463534242u;
	bool eight[8], kind8[8];

	for (iter = 0; iter < 300; iter++) {
		buf_init(&msg, 1 << 20);
		assert_int_equal(buf_append_str(&msg, RT_HEAD), 0);
		nparts = 1 + rnd(&seed) % 8;
		for (k = 0; k < nparts; k++) {
			eight[k] = rnd(&seed) % 2;
			kind8[k] = rnd(&seed) % 2;
			buf_init(&body[k], 1 << 16);
			rnd_body(&seed, &body[k], eight[k]);
			assert_int_equal(buf_append_str(&msg,
			                     kind8[k] ? RT_PART RT_8BIT "\n\n"
			                              : RT_PART "\n\n"),
			    0);
			assert_int_equal(
			    buf_append(&msg, body[k].data, body[k].len), 0);
			assert_int_equal(buf_append_char(&msg, '\n'), 0);
		}
		assert_int_equal(buf_append_str(&msg, "--=_rt--\n"), 0);
		cut[0] = rnd(&seed) % (msg.len + 1);
		dg_run(&lim, msg.data, msg.len, cut, 1, &got);

		assert_int_equal(
		    split_parts(got.data, got.len, part, len, 8), nparts);
		for (k = 0; k < nparts; k++) {
			const char *p = part[k], *eoh;
			bool eight_out =
			    smtp_downgrade_needed(body[k].data, body[k].len);

			eoh = memmem(p, len[k], "\n\n", 2);
			assert_non_null(eoh);
			hl = (size_t)(eoh - p) + 2;
			if (eight_out) {
				assert_non_null(memmem(p, hl,
				    "\nContent-Transfer-Encoding: "
				    "quoted-printable\n",
				    45));
				buf_init(&dec, 1 << 20);
				assert_true(
				    qp_decode(p + hl, len[k] - hl, &dec));
				assert_int_equal(dec.len, body[k].len);
				assert_memory_equal(
				    dec.data, body[k].data, dec.len);
				buf_free(&dec);
			} else {
				/* 7-bit: the same body; a label 8bit is 7bit */
				assert_int_equal(len[k] - hl, body[k].len);
				assert_memory_equal(
				    p + hl, body[k].data, body[k].len);
				assert_null(memmem(p, hl, "8bit", 4));
			}
			buf_free(&body[k]);
		}
		assert_false(smtp_downgrade_needed(got.data, got.len));
		buf_free(&got);
		buf_free(&msg);
	}
}

/* A 200-byte 8-bit line: 8 lines of 25 "=E9", soft breaks between. */
static void
test_smtp_downgrade_soft_breaks_200(void **state)
{
	struct smtp_downgrade_limits lim = { LINE_MAX_DEFAULT,
		DEPTH_MAX_DEFAULT, HEADER_MAX_DEFAULT };
	struct buf in, want, got, dec;
	size_t i, j;

	buf_init(&in, 1024);
	buf_init(&want, 4096);
	assert_int_equal(buf_append_str(&in, "Subject: x\n\n"), 0);
	for (i = 0; i < 200; i++)
		assert_int_equal(buf_append_char(&in, '\xe9'), 0);
	assert_int_equal(buf_append_char(&in, '\n'), 0);
	assert_int_equal(buf_append_str(&want, "Subject: x\n" QP "\n"), 0);
	for (i = 0; i < 8; i++) {
		for (j = 0; j < 25; j++)
			assert_int_equal(buf_append_str(&want, "=E9"), 0);
		assert_int_equal(
		    buf_append_str(&want, i < 7 ? "=\n" : "\n"), 0);
	}
	dg_run(&lim, in.data, in.len, NULL, 0, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	buf_init(&dec, 1024);
	assert_true(qp_decode(got.data + 56, got.len - 56, &dec));
	assert_int_equal(dec.len, 201);
	assert_memory_equal(dec.data, in.data + 12, 201);
	buf_free(&in);
	buf_free(&want);
	buf_free(&got);
	buf_free(&dec);
}

/* Output that fills up: -1 ENOBUFS, out holds a prefix, and the error
 * sticks; at the exact size it fits. */
static void
test_smtp_downgrade_out_full(void **state)
{
	static const char in[] = MP_HEAD "--b\n\n\xe9 x\n--b--\n";
	static const char want[] = MP_HEAD "--b\n" QP "\n=E9 x\n--b--\n";
	struct smtp_downgrade_limits lim = { LINE_MAX_DEFAULT,
		DEPTH_MAX_DEFAULT, HEADER_MAX_DEFAULT };
	struct smtp_downgrade *d;
	struct buf out;
	size_t max;
	int r;

	for (max = 0; max <= sizeof(want); max++) {
		d = smtp_downgrade_new(&lim);
		buf_init(&out, max);
		errno = 0;
		r = smtp_downgrade_feed(d, in, sizeof(in) - 1, &out);
		if (r == 0)
			r = smtp_downgrade_end(d, &out);
		if (max < sizeof(want) - 1) {
			assert_int_equal(r, -1);
			assert_int_equal(errno, ENOBUFS);
			assert_true(out.len <= max);
			assert_true(out.len == 0 ||
			    memcmp(out.data, want, out.len) == 0);
			assert_int_equal(
			    smtp_downgrade_feed(d, "x", 1, &out), -1);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(out.len, sizeof(want) - 1);
			assert_memory_equal(out.data, want, out.len);
		}
		smtp_downgrade_free(&d);
		buf_free(&out);
	}
}

static void
test_smtp_downgrade_needed(void **state)
{
	assert_false(smtp_downgrade_needed(NULL, 0));
	assert_false(smtp_downgrade_needed(S("plain \x7f\0text")));
	assert_true(smtp_downgrade_needed(S("x\x80")));
	assert_true(smtp_downgrade_needed(S("\xff")));
}

static void
test_smtp_downgrade_free_null(void **state)
{
	struct smtp_downgrade *d = NULL;

	smtp_downgrade_free(&d);
	assert_null(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_downgrade_vectors_any_split),
		cmocka_unit_test(test_smtp_downgrade_round_trip),
		cmocka_unit_test(test_smtp_downgrade_soft_breaks_200),
		cmocka_unit_test(test_smtp_downgrade_out_full),
		cmocka_unit_test(test_smtp_downgrade_needed),
		cmocka_unit_test(test_smtp_downgrade_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
