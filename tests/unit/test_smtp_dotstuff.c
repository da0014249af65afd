/*
 * Unit tests for the SMTP client's DATA encoder (smtp_dotstuff.c): LF to
 * CRLF, a '.' that starts a line doubled (RFC 5321 4.5.2), the end marker
 * with and without a final line end (4.1.1.4), and the SIZE= estimate
 * (RFC 1870). Each vector is fed whole, byte by byte, split at every
 * offset and at every pair of offsets, and must give the same bytes; the
 * wire form decoded by the server's DATA decoder (smtp_data.c) must give
 * back the stored message.
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
#include "smtp/smtp_data.h"
#include "smtp/smtp_dotstuff.h"

#define S(s) s, sizeof(s) - 1

struct stuff_case {
	const char *name;
	const char *in;
	size_t in_n;
	const char *out; /* the wire form, end marker included */
	size_t out_n;
};

// clang-format off
static const struct stuff_case stuff_cases[] = {
	{ "empty message", S(""), S(".\r\n") },
	{ "one empty line", S("\n"), S("\r\n.\r\n") },
	{ "two empty lines", S("\n\n"), S("\r\n\r\n.\r\n") },
	{ "one line", S("a\n"), S("a\r\n.\r\n") },
	{ "no final newline", S("a"), S("a\r\n.\r\n") },
	{ "two lines, no final newline", S("a\nb"), S("a\r\nb\r\n.\r\n") },
	{ "headers and body", S("Subject: hi\n\nbody\n"),
	  S("Subject: hi\r\n\r\nbody\r\n.\r\n") },
	{ "dot at message start", S(".a\n"), S("..a\r\n.\r\n") },
	{ "dot alone at start", S(".\n"), S("..\r\n.\r\n") },
	{ "dot alone, no newline", S("."), S("..\r\n.\r\n") },
	{ "two dots at start", S("..\n"), S("...\r\n.\r\n") },
	{ "dot after a line", S("a\n.b\n"), S("a\r\n..b\r\n.\r\n") },
	{ "dot line after a line", S("a\n.\n"), S("a\r\n..\r\n.\r\n") },
	{ "dot line at the end, no newline", S("a\n."), S("a\r\n..\r\n.\r\n") },
	{ "every line a dot", S(".\n.\n.\n"), S("..\r\n..\r\n..\r\n.\r\n") },
	{ "dot mid-line stays", S("a.b\n"), S("a.b\r\n.\r\n") },
	{ "dot at line end stays", S("a.\n"), S("a.\r\n.\r\n") },
	{ "dot after a space stays", S(" .\n"), S(" .\r\n.\r\n") },
	{ "dots mid-line stay", S("a..\n"), S("a..\r\n.\r\n") },
	{ "bare CR is content", S("a\rb\n"), S("a\rb\r\n.\r\n") },
	{ "CR before LF is content", S("a\r\n"), S("a\r\r\n.\r\n") },
	{ "dot after a bare CR stays", S("\r.\n"), S("\r.\r\n.\r\n") },
	{ "CR at the end", S("a\r"), S("a\r\r\n.\r\n") },
	{ "NUL is content", S("a\0b\n"), "a\0b\r\n.\r\n", 8 },
	{ "8-bit is content", S("\xc3\xa9\xff\n"), S("\xc3\xa9\xff\r\n.\r\n") },
	{ "an end marker in the content", S("a\n.\nb\n"),
	  S("a\r\n..\r\nb\r\n.\r\n") },
	{ "CRLF dot CRLF in the content", S("a\r\n.\r\n"),
	  S("a\r\r\n..\r\r\n.\r\n") },
};
// clang-format on

/* Encodes in[0..n) in pieces ending at cuts[0..ncuts) (then at the end),
 * each into an allocation of exactly 2 * piece bytes (ASan checks the
 * bound), then the end into one of 5; appends the wire form to out. */
static void
stuff_run(
    const char *in, size_t n, const size_t *cuts, size_t ncuts, struct buf *out)
{
	struct smtp_dotstuff d;
	size_t pos = 0, end, k, w;
	char *piece;

	smtp_dotstuff_init(&d);
	for (k = 0; k <= ncuts; k++) {
		end = k < ncuts ? cuts[k] : n;
		piece = xmalloc(end > pos ? 2 * (end - pos) : 1);
		w = smtp_dotstuff_feed(&d, in + pos, end - pos, piece);
		assert_true(w <= 2 * (end - pos));
		assert_true(w >= end - pos);
		assert_int_equal(buf_append(out, piece, w), 0);
		free(piece);
		pos = end;
	}
	piece = xmalloc(5);
	w = smtp_dotstuff_end(&d, piece);
	assert_true(w == 3 || w == 5);
	assert_int_equal(buf_append(out, piece, w), 0);
	free(piece);
}

static void
check_wire(
    const char *what, const struct buf *got, const char *want, size_t want_n)
{
	if (got->len != want_n ||
	    (want_n > 0 && memcmp(got->data, want, want_n) != 0))
		fail_msg("%s: got %zu bytes \"%.*s\", want %zu \"%.*s\"", what,
		    got->len, (int)got->len, got->data, want_n, (int)want_n,
		    want);
}

/* Encodes c whole, with an empty feed, byte by byte, split at every
 * offset and at every pair of offsets: always the same bytes. */
static void
stuff_every_split(
    const char *name, const char *in, size_t n, const char *want, size_t want_n)
{
	size_t cuts[4096], i, j;
	struct buf out;
	char what[128];

	assert_true(n < MW_NELEM(cuts));
	buf_init(&out, 1 << 20);
	stuff_run(in, n, NULL, 0, &out);
	(void)snprintf(what, sizeof(what), "%s: whole", name);
	check_wire(what, &out, want, want_n);
	/* empty feeds first and last change nothing */
	buf_reset(&out);
	cuts[0] = 0;
	cuts[1] = n;
	stuff_run(in, n, cuts, 2, &out);
	(void)snprintf(what, sizeof(what), "%s: empty feeds", name);
	check_wire(what, &out, want, want_n);
	buf_reset(&out);
	for (i = 0; i < n; i++)
		cuts[i] = i + 1;
	stuff_run(in, n, cuts, n, &out);
	(void)snprintf(what, sizeof(what), "%s: byte by byte", name);
	check_wire(what, &out, want, want_n);
	for (i = 0; i <= n; i++) {
		buf_reset(&out);
		cuts[0] = i;
		stuff_run(in, n, cuts, 1, &out);
		(void)snprintf(what, sizeof(what), "%s: split at %zu", name, i);
		check_wire(what, &out, want, want_n);
		for (j = i; j <= n && n <= 64; j++) {
			buf_reset(&out);
			cuts[0] = i;
			cuts[1] = j;
			stuff_run(in, n, cuts, 2, &out);
			(void)snprintf(what, sizeof(what),
			    "%s: split at %zu and %zu", name, i, j);
			check_wire(what, &out, want, want_n);
		}
	}
	buf_free(&out);
}

static void
test_smtp_dotstuff_table_every_split(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(stuff_cases); i++) {
		const struct stuff_case *c = &stuff_cases[i];

		stuff_every_split(c->name, c->in, c->in_n, c->out, c->out_n);
	}
}

/* The wire form through the server's DATA decoder: DONE exactly at the
 * end marker, with the stored message (plus the LF the encoder added to
 * an unterminated last line). Commands that follow are not consumed. */
static void
decode_round_trip(const char *in, size_t n)
{
	static const char after[] = "QUIT\r\n";
	struct buf wire, stored, want;
	struct smtp_data d;
	size_t used, wire_n;
	int r;

	buf_init(&wire, 1 << 20);
	buf_init(&stored, 1 << 20);
	buf_init(&want, 1 << 20);
	stuff_run(in, n, NULL, 0, &wire);
	wire_n = wire.len;
	assert_int_equal(buf_append(&wire, after, sizeof(after) - 1), 0);
	assert_int_equal(buf_append(&want, in, n), 0);
	if (n > 0 && in[n - 1] != '\n')
		assert_int_equal(buf_append_char(&want, '\n'), 0);
	smtp_data_init(&d, true);
	r = smtp_data_feed(&d, wire.data, wire.len, &stored, &used);
	if (r != SMTP_DATA_DONE || used != wire_n)
		fail_msg("\"%.*s\": status %d used %zu, want DONE at %zu",
		    (int)n, in, r, used, wire_n);
	if (stored.len != want.len ||
	    (want.len > 0 && memcmp(stored.data, want.data, want.len) != 0))
		fail_msg("\"%.*s\": decoded to \"%.*s\"", (int)n, in,
		    (int)stored.len, stored.data);
	/* the encoder never sends a bare LF */
	assert_false(d.saw_bare_lf);
	/* fed byte by byte, the decoder agrees */
	buf_reset(&stored);
	smtp_data_init(&d, true);
	for (used = 0, r = SMTP_DATA_MORE; r != SMTP_DATA_DONE;) {
		size_t u;

		assert_true(used < wire_n);
		r = smtp_data_feed(&d, wire.data + used, 1, &stored, &u);
		assert_int_equal(u, 1);
		used += u;
	}
	assert_int_equal(used, wire_n);
	assert_int_equal(stored.len, want.len);
	if (want.len > 0)
		assert_memory_equal(stored.data, want.data, want.len);
	buf_free(&want);
	buf_free(&stored);
	buf_free(&wire);
}

static void
test_smtp_dotstuff_decodes_back(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(stuff_cases); i++)
		decode_round_trip(stuff_cases[i].in, stuff_cases[i].in_n);
}

/* Every message of up to 6 bytes over the alphabet that matters ('.',
 * LF, CR, NUL, a letter): the output bound holds, splits agree, and the
 * server decodes it back. */
static void
test_smtp_dotstuff_every_short_message(void **state)
{
	static const char alpha[] = { '.', '\n', '\r', '\0', 'a' };
	char in[8];
	size_t len, i, k, total;
	struct buf whole;

	(void)state;
	buf_init(&whole, 1 << 10);
	for (len = 0; len <= 6; len++) {
		for (total = 1, i = 0; i < len; i++)
			total *= MW_NELEM(alpha);
		for (k = 0; k < total; k++) {
			size_t v = k;

			for (i = 0; i < len; i++, v /= MW_NELEM(alpha))
				in[i] = alpha[v % MW_NELEM(alpha)];
			buf_reset(&whole);
			stuff_run(in, len, NULL, 0, &whole);
			stuff_every_split(
			    "short", in, len, whole.data, whole.len);
			decode_round_trip(in, len);
		}
	}
	buf_free(&whole);
}

/* A large message fed in chunks of many sizes gives the same bytes. */
static void
test_smtp_dotstuff_large_message_chunks(void **state)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64, 1000, 4096, 65536 };
	const size_t n = 200000;
	char *msg = xmalloc(n);
	struct buf ref, out;
	size_t i, k, *cuts, ncuts;
	uint32_t x = 12345;

	(void)state;
	/* short lines, many starting with dots */
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		msg[i] = "..\n.ab\r\nxyz."[(x >> 16) % 12];
	}
	buf_init(&ref, 1 << 22);
	buf_init(&out, 1 << 22);
	stuff_run(msg, n, NULL, 0, &ref);
	cuts = xcalloc(n, sizeof(*cuts));
	for (k = 0; k < MW_NELEM(steps); k++) {
		for (ncuts = 0, i = steps[k]; i < n; i += steps[k])
			cuts[ncuts++] = i;
		buf_reset(&out);
		stuff_run(msg, n, cuts, ncuts, &out);
		assert_int_equal(out.len, ref.len);
		assert_memory_equal(out.data, ref.data, ref.len);
	}
	decode_round_trip(msg, n);
	free(cuts);
	buf_free(&out);
	buf_free(&ref);
	free(msg);
}

/* The end marker after a line end, after none, and after an empty feed
 * that followed a line. */
static void
test_smtp_dotstuff_end_marker(void **state)
{
	struct smtp_dotstuff d;
	char out[16];
	size_t w;

	(void)state;
	smtp_dotstuff_init(&d);
	w = smtp_dotstuff_end(&d, out);
	assert_int_equal(w, 3);
	assert_memory_equal(out, ".\r\n", 3);
	smtp_dotstuff_init(&d);
	w = smtp_dotstuff_feed(&d, "x", 1, out);
	assert_int_equal(w, 1);
	w = smtp_dotstuff_feed(&d, "", 0, out);
	assert_int_equal(w, 0);
	w = smtp_dotstuff_end(&d, out);
	assert_int_equal(w, 5);
	assert_memory_equal(out, "\r\n.\r\n", 5);
	smtp_dotstuff_init(&d);
	w = smtp_dotstuff_feed(&d, "x\n", 2, out);
	assert_int_equal(w, 3);
	w = smtp_dotstuff_end(&d, out);
	assert_int_equal(w, 3);
	assert_memory_equal(out, ".\r\n", 3);
	/* the worst case of feed: 2 bytes per byte */
	smtp_dotstuff_init(&d);
	w = smtp_dotstuff_feed(&d, "\n\n\n\n", 4, out);
	assert_int_equal(w, 8);
	smtp_dotstuff_init(&d);
	w = smtp_dotstuff_feed(&d, ".\n.\n", 4, out);
	assert_int_equal(w, 8);
	assert_memory_equal(out, "..\r\n..\r\n", 8);
}

/* RFC 1870 counts CRLF line ends, not the stuffed dots nor the end
 * marker: for a stored message that ends in LF, the wire content less
 * its stuffed dots. */
static void
test_smtp_dotstuff_size(void **state)
{
	size_t i, k, lines, dots;
	struct buf out;

	(void)state;
	assert_int_equal(smtp_dotstuff_size(0, 0), 0);
	assert_int_equal(smtp_dotstuff_size(10, 3), 13);
	assert_true(smtp_dotstuff_size(ULLONG_MAX - 1, 1) == ULLONG_MAX);
	buf_init(&out, 1 << 20);
	for (i = 0; i < MW_NELEM(stuff_cases); i++) {
		const struct stuff_case *c = &stuff_cases[i];

		if (c->in_n == 0 || c->in[c->in_n - 1] != '\n')
			continue;
		for (lines = dots = 0, k = 0; k < c->in_n; k++) {
			if (c->in[k] == '\n')
				lines++;
			if (c->in[k] == '.' && (k == 0 || c->in[k - 1] == '\n'))
				dots++;
		}
		buf_reset(&out);
		stuff_run(c->in, c->in_n, NULL, 0, &out);
		if (smtp_dotstuff_size(c->in_n, lines) !=
		    out.len - 3 /* ".\r\n" */ - dots)
			fail_msg("%s: size %llu, wire content %zu", c->name,
			    smtp_dotstuff_size(c->in_n, lines),
			    out.len - 3 - dots);
	}
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_dotstuff_table_every_split),
		cmocka_unit_test(test_smtp_dotstuff_decodes_back),
		cmocka_unit_test(test_smtp_dotstuff_every_short_message),
		cmocka_unit_test(test_smtp_dotstuff_large_message_chunks),
		cmocka_unit_test(test_smtp_dotstuff_end_marker),
		cmocka_unit_test(test_smtp_dotstuff_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
