/*
 * Unit tests for the DATA and BDAT body decoders (smtp_data.c): each vector
 * is fed whole, byte by byte, split at every offset and at every pair of
 * offsets, and with output buffers that fill up, and must give the same
 * result every time. Includes the CVE-2023-51766 smuggling vectors.
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
#include "smtp/smtp_data.h"

#define S(s) s, sizeof(s) - 1

#define F_LF  1 /* saw_bare_lf */
#define F_CR  2 /* saw_bare_cr */
#define F_8   4 /* saw_8bit */
#define F_NUL 8 /* saw_nul */

struct data_case {
	const char *name;
	const char *in;
	size_t in_n;
	const char *out;
	size_t out_n;
	int status;  /* SMTP_DATA_DONE or SMTP_DATA_MORE */
	size_t used; /* input consumed in all */
	int flags;
};

// clang-format off
static const struct data_case data_cases[] = {
	{ "empty message", S(".\r\n"), S(""), SMTP_DATA_DONE, 3, 0 },
	{ "one empty line", S("\r\n.\r\n"), S("\n"), SMTP_DATA_DONE, 5, 0 },
	{ "one line", S("a\r\n.\r\n"), S("a\n"), SMTP_DATA_DONE, 6, 0 },
	{ "commands follow the end", S("x\r\n.\r\nQUIT\r\n"), S("x\n"),
	  SMTP_DATA_DONE, 6, 0 },
	{ "second end marker is a command", S("x\r\n.\r\n.\r\n"), S("x\n"),
	  SMTP_DATA_DONE, 6, 0 },
	{ "headers and body",
	  S("Subject: hi\r\n\r\nbody\r\n.\r\n"),
	  S("Subject: hi\n\nbody\n"), SMTP_DATA_DONE, 24, 0 },
	{ "no end yet", S("a\r\nb\r\n"), S("a\nb\n"), SMTP_DATA_MORE, 6, 0 },
	{ "pending CR is not stored", S("a\r"), S("a"), SMTP_DATA_MORE, 2, 0 },
	{ "pending dot is not stored", S("a\r\n."), S("a\n"),
	  SMTP_DATA_MORE, 4, 0 },
	{ "pending dot CR is not stored", S("a\r\n.\r"), S("a\n"),
	  SMTP_DATA_MORE, 5, 0 },
	{ "stuffed dot", S("..a\r\n.\r\n"), S(".a\n"), SMTP_DATA_DONE, 8, 0 },
	{ "stuffed dot alone", S("..\r\n.\r\n"), S(".\n"),
	  SMTP_DATA_DONE, 7, 0 },
	{ "only one dot is removed", S("...\r\n.\r\n"), S("..\n"),
	  SMTP_DATA_DONE, 8, 0 },
	{ "dot after a line", S("a\r\n.b\r\n.\r\n"), S("a\nb\n"),
	  SMTP_DATA_DONE, 10, 0 },
	{ "dot space line", S(". \r\n.\r\n"), S(" \n"), SMTP_DATA_DONE, 7, 0 },
	{ "dot inside a line stays", S("a.b\r\nc.\r\n.\r\n"),
	  S("a.b\nc.\n"), SMTP_DATA_DONE, 12, 0 },
	{ "bare CR is content", S("a\rb\r\n.\r\n"), S("a\rb\n"),
	  SMTP_DATA_DONE, 8, F_CR },
	{ "CR CR LF", S("a\r\r\n.\r\n"), S("a\r\n"), SMTP_DATA_DONE, 7, F_CR },
	{ "dot CR CR LF", S(".\r\r\n.\r\n"), S("\r\n"),
	  SMTP_DATA_DONE, 7, F_CR },
	{ "dot CR x", S(".\rx\r\n.\r\n"), S("\rx\n"),
	  SMTP_DATA_DONE, 8, F_CR },
	{ "bare LF is normalised", S("a\nb\r\n.\r\n"), S("a\nb\n"),
	  SMTP_DATA_DONE, 8, F_LF },
	{ "dot LF is a stuffed dot", S(".\nx\r\n.\r\n"), S("\nx\n"),
	  SMTP_DATA_DONE, 8, F_LF },
	{ "LF dot CRLF is no end", S("\n.\r\n"), S("\n.\n"),
	  SMTP_DATA_MORE, 4, F_LF },
	{ "LF dot LF is no end", S("a\n.\n"), S("a\n.\n"),
	  SMTP_DATA_MORE, 4, F_LF },
	{ "NUL is content", S("a\0b\r\n.\r\n"), "a\0b\n", 4,
	  SMTP_DATA_DONE, 8, F_NUL },
	{ "8bit is content", S("\xc3\xa9\xff\r\n.\r\n"), S("\xc3\xa9\xff\n"),
	  SMTP_DATA_DONE, 8, F_8 },
	{ "long line", S("0123456789abcdefghij0123456789\r\n.\r\n"),
	  S("0123456789abcdefghij0123456789\n"), SMTP_DATA_DONE, 35, 0 },
};
// clang-format on

/* Feeds c->in in pieces ending at cuts[0..ncuts) (then at the end),
 * emptying out after every call, and checks the result against c. */
static void
data_run(
    const struct data_case *c, const size_t *cuts, size_t ncuts, size_t out_max)
{
	struct smtp_data d;
	struct buf out, all;
	size_t pos = 0, end, used, k;
	int r = SMTP_DATA_MORE;
	bool overflowed = false;

	smtp_data_init(&d, false);
	buf_init(&out, out_max);
	buf_init(&all, 1 << 20);
	for (k = 0; k <= ncuts && r != SMTP_DATA_DONE; k++) {
		end = k < ncuts ? cuts[k] : c->in_n;
		do {
			r = smtp_data_feed(
			    &d, c->in + pos, end - pos, &out, &used);
			assert_true(used <= end - pos);
			pos += used;
			assert_int_equal(
			    buf_append(&all, out.data, out.len), 0);
			buf_reset(&out);
			if (r == -1) {
				assert_int_equal(errno, ENOBUFS);
				overflowed = true;
			}
		} while (r == -1);
		if (r == SMTP_DATA_MORE)
			assert_int_equal(pos, end);
	}
	if (r != c->status || pos != c->used || all.len != c->out_n ||
	    memcmp(all.data, c->out, c->out_n) != 0)
		fail_msg("%s: cuts=%zu max=%zu: status %d used %zu out %zu",
		    c->name, ncuts, out_max, r, pos, all.len);
	assert_int_equal(d.size, c->out_n);
	assert_int_equal(d.saw_bare_lf, (c->flags & F_LF) != 0);
	assert_int_equal(d.saw_bare_cr, (c->flags & F_CR) != 0);
	assert_int_equal(d.saw_8bit, (c->flags & F_8) != 0);
	assert_int_equal(d.saw_nul, (c->flags & F_NUL) != 0);
	/* one call stores at most what fits: only then is there an error */
	if (ncuts == 0)
		assert_int_equal(overflowed, out_max < c->out_n);
	buf_free(&out);
	buf_free(&all);
}

/* Whole, byte by byte, at every offset and every pair of offsets. */
static void
data_run_all_splits(const struct data_case *c, size_t out_max)
{
	size_t cuts[4096], i, j;

	data_run(c, NULL, 0, out_max);
	assert_true(c->in_n < MW_NELEM(cuts));
	for (i = 0; i < c->in_n; i++)
		cuts[i] = i + 1;
	data_run(c, cuts, c->in_n, out_max);
	for (i = 0; i <= c->in_n; i++) {
		cuts[0] = i;
		data_run(c, cuts, 1, out_max);
		for (j = i; j <= c->in_n; j++) {
			cuts[1] = j;
			data_run(c, cuts, 2, out_max);
		}
	}
}

static void
test_smtp_data_vectors_any_split(void **state)
{
	size_t i;

	for (i = 0; i < MW_NELEM(data_cases); i++)
		data_run_all_splits(&data_cases[i], 1 << 16);
}

/* The output limit at max-1, max, max+1 and at every smaller size: the
 * caller empties out after each -1 and gets the same bytes in the end. */
static void
test_smtp_data_out_full_resumes(void **state)
{
	size_t i, m;

	for (i = 0; i < MW_NELEM(data_cases); i++) {
		const struct data_case *c = &data_cases[i];

		for (m = 1; m <= c->out_n + 1; m++)
			data_run_all_splits(c, m);
	}
}

static void
test_smtp_data_out_full_reports_enobufs(void **state)
{
	static const char in[] = "abcdef\r\n.\r\n";
	struct smtp_data d;
	struct buf out;
	size_t used;

	smtp_data_init(&d, false);
	buf_init(&out, 4);
	errno = 0;
	assert_int_equal(
	    smtp_data_feed(&d, in, sizeof(in) - 1, &out, &used), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(used, 4);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "abcd", 4);
	/* a full out that is not emptied makes no progress, but stays sane */
	assert_int_equal(
	    smtp_data_feed(&d, in + used, sizeof(in) - 1 - used, &out, &used),
	    -1);
	assert_int_equal(used, 0);
	buf_reset(&out);
	assert_int_equal(
	    smtp_data_feed(&d, in + 4, sizeof(in) - 1 - 4, &out, &used),
	    SMTP_DATA_DONE);
	assert_int_equal(used, sizeof(in) - 1 - 4);
	assert_memory_equal(out.data, "ef\n", 3);
	assert_int_equal(d.size, 7);
	buf_free(&out);
}

static void
test_smtp_data_after_done_consumes_nothing(void **state)
{
	struct smtp_data d;
	struct buf out;
	size_t used = 99;

	smtp_data_init(&d, true);
	assert_true(d.reject_bare_lf);
	buf_init(&out, 100);
	assert_int_equal(smtp_data_feed(&d, S(".\r\nQUIT\r\n"), &out, &used),
	    SMTP_DATA_DONE);
	assert_int_equal(used, 3);
	assert_int_equal(
	    smtp_data_feed(&d, S("QUIT\r\n"), &out, &used), SMTP_DATA_DONE);
	assert_int_equal(used, 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(
	    smtp_data_feed(&d, NULL, 0, &out, &used), SMTP_DATA_DONE);
	buf_free(&out);
}

/*
 * CVE-2023-51766 and friends (SMTP smuggling): none of these sequences
 * may end the data; the smuggled transaction must be stored as content
 * and only the real <CRLF>.<CRLF> ends the message.
 */
static void
test_smtp_data_smuggling_is_content(void **state)
{
	// clang-format off
	static const struct {
		const char *name;
		const char *seq;
		const char *stored; /* what seq becomes */
		int flags;
	} smug[] = {
		{ "LF.LF",     "\n.\n",   "\n.\n",  F_LF },
		{ "LF.CRLF",   "\n.\r\n", "\n.\n",  F_LF },
		{ "CRLF.LF",   "\r\n.\n", "\n\n",   F_LF },
		{ "CR.CRLF",   "\r.\r\n", "\r.\n",  F_CR },
		{ "CRLF.CR",   "\r\n.\r", "\n\r",   F_CR },
		{ "CR.CR",     "\r.\r",   "\r.\r",  F_CR },
	};
	// clang-format on
	static const char head[] = "Subject: x\r\n\r\nhello";
	static const char smuggled[] =
	    "MAIL FROM:<x@y>\r\nRCPT TO:<v@z>\r\nDATA\r\nevil";
	static const char tail[] = "\r\n.\r\nQUIT\r\n";
	char in[512], out[512];
	struct data_case c;
	size_t i;
	int n, m;

	for (i = 0; i < MW_NELEM(smug); i++) {
		n = snprintf(in, sizeof(in), "%s%s%s%s", head, smug[i].seq,
		    smuggled, tail);
		m = snprintf(out, sizeof(out), "%s%s%s\n",
		    "Subject: x\n\nhello", smug[i].stored,
		    "MAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil");
		assert_true(n > 0 && (size_t)n < sizeof(in));
		assert_true(m > 0 && (size_t)m < sizeof(out));
		c.name = smug[i].name;
		c.in = in;
		c.in_n = (size_t)n;
		c.out = out;
		c.out_n = (size_t)m;
		c.status = SMTP_DATA_DONE;
		c.used = (size_t)n - strlen("QUIT\r\n");
		c.flags = smug[i].flags;
		data_run_all_splits(&c, 1 << 16);
		data_run(&c, NULL, 0, 7);
	}
}

struct bdat_case {
	const char *name;
	const char *in;
	size_t in_n;
	const char *out;
	size_t out_n;
	int flags;
};

// clang-format off
static const struct bdat_case bdat_cases[] = {
	{ "empty", S(""), S(""), 0 },
	{ "CRLF becomes LF", S("a\r\nb"), S("a\nb"), 0 },
	{ "trailing CR is flushed", S("a\r"), S("a\r"), F_CR },
	{ "bare CR", S("a\rb"), S("a\rb"), F_CR },
	{ "bare LF", S("a\nb"), S("a\nb"), F_LF },
	{ "CR CR LF", S("\r\r\n"), S("\r\n"), F_CR },
	{ "no dot handling", S("x\r\n.\r\n..\r\nMAIL"), S("x\n.\n..\nMAIL"), 0 },
	{ "NUL and 8bit", S("\0\xff\r\n"), "\0\xff\n", 3, F_NUL | F_8 },
	{ "CRLF CRLF", S("\r\n\r\n"), S("\n\n"), 0 },
};
// clang-format on

/* Feeds c in chunks ending at cuts (last flag on the final one). */
static void
bdat_run(
    const struct bdat_case *c, const size_t *cuts, size_t ncuts, size_t out_max)
{
	struct smtp_data d;
	struct buf out;
	size_t pos = 0, end, k;
	int r, ret = 0;

	smtp_bdat_init(&d);
	buf_init(&out, out_max);
	for (k = 0; k <= ncuts; k++) {
		end = k < ncuts ? cuts[k] : c->in_n;
		r = smtp_bdat_feed(
		    &d, c->in + pos, end - pos, k == ncuts, &out);
		if (r == -1) {
			assert_int_equal(errno, ENOBUFS);
			ret = -1;
		} else
			assert_int_equal(r, 0);
		pos = end;
	}
	if (out_max >= c->out_n) {
		assert_int_equal(ret, 0);
		if (out.len != c->out_n ||
		    (c->out_n > 0 && memcmp(out.data, c->out, c->out_n) != 0))
			fail_msg("%s: %zu cuts: wrong output", c->name, ncuts);
	} else {
		/* out holds a prefix of what would have been stored */
		assert_int_equal(ret, -1);
		assert_int_equal(out.len, out_max);
		assert_memory_equal(out.data, c->out, out_max);
	}
	assert_int_equal(d.size, out.len);
	assert_int_equal(d.saw_bare_lf, (c->flags & F_LF) != 0);
	assert_int_equal(d.saw_bare_cr, (c->flags & F_CR) != 0);
	assert_int_equal(d.saw_8bit, (c->flags & F_8) != 0);
	assert_int_equal(d.saw_nul, (c->flags & F_NUL) != 0);
	buf_free(&out);
}

static void
test_smtp_bdat_vectors_any_chunking(void **state)
{
	size_t cuts[256], i, j, k, m;

	for (i = 0; i < MW_NELEM(bdat_cases); i++) {
		const struct bdat_case *c = &bdat_cases[i];

		for (m = 0; m <= c->out_n + 1; m++) {
			size_t max = m <= c->out_n ? m : 1 << 16;

			bdat_run(c, NULL, 0, max);
			for (j = 0; j < c->in_n; j++)
				cuts[j] = j + 1;
			bdat_run(c, cuts, c->in_n, max);
			for (j = 0; j <= c->in_n; j++) {
				cuts[0] = j;
				bdat_run(c, cuts, 1, max);
				for (k = j; k <= c->in_n; k++) {
					cuts[1] = k;
					bdat_run(c, cuts, 2, max);
				}
			}
		}
	}
}

/* "BDAT 1" with a CR, then "BDAT 0 LAST": the CR is content. */
static void
test_smtp_bdat_cr_before_empty_last_chunk(void **state)
{
	struct smtp_data d;
	struct buf out;

	smtp_bdat_init(&d);
	buf_init(&out, 10);
	assert_int_equal(smtp_bdat_feed(&d, S("\r"), false, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(smtp_bdat_feed(&d, S(""), true, &out), 0);
	assert_int_equal(out.len, 1);
	assert_int_equal(out.data[0], '\r');
	assert_true(d.saw_bare_cr);
	buf_free(&out);
}

/* The limit at max-1, max, max+1 of stored bytes. */
static void
test_smtp_bdat_out_limit(void **state)
{
	static const char in[] = "abc\r\ndef"; /* stores 7 bytes */
	struct smtp_data d;
	struct buf out;
	size_t max;

	for (max = 6; max <= 8; max++) {
		smtp_bdat_init(&d);
		buf_init(&out, max);
		assert_int_equal(
		    smtp_bdat_feed(&d, in, sizeof(in) - 1, true, &out),
		    max >= 7 ? 0 : -1);
		assert_int_equal(out.len, max >= 7 ? 7 : max);
		buf_free(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_data_vectors_any_split),
		cmocka_unit_test(test_smtp_data_out_full_resumes),
		cmocka_unit_test(test_smtp_data_out_full_reports_enobufs),
		cmocka_unit_test(test_smtp_data_after_done_consumes_nothing),
		cmocka_unit_test(test_smtp_data_smuggling_is_content),
		cmocka_unit_test(test_smtp_bdat_vectors_any_chunking),
		cmocka_unit_test(test_smtp_bdat_cr_before_empty_last_chunk),
		cmocka_unit_test(test_smtp_bdat_out_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
