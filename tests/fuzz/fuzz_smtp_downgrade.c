/*
 * libFuzzer target for the 8BITMIME downgrade (smtp_downgrade.c). The
 * first three bytes choose a split offset and small limits; the rest is a
 * stored message. Fed whole, split in two and byte by byte it must give
 * the same output; the output is bounded (in all: 9 n + 128 bytes; per
 * call: as smtp_downgrade.h says) and holds no more 8-bit bytes than the
 * input. Under limits large enough to hold the input, a 7-bit input with
 * no "8bit" label comes out byte-identical, and downgrading the output
 * again changes nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "smtp/smtp_downgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_IN_MAX  8192
#define FUZZ_OUT_MAX (1 << 20)

/* Feeds in pieces of at most step bytes (0: whole), the first piece
 * ending at cut, and checks each call's output bound. */
static void
dg_feed(const struct smtp_downgrade_limits *lim, const char *in, size_t n,
    size_t cut, size_t step, struct buf *out)
{
	struct smtp_downgrade *d = smtp_downgrade_new(lim);
	size_t pos = 0, end, before;
	size_t held = 4 * (lim->header_max + lim->line_max) + 128;

	buf_init(out, FUZZ_OUT_MAX);
	while (pos < n) {
		end = pos < cut ? cut : n;
		if (step > 0 && end - pos > step)
			end = pos + step;
		before = out->len;
		CHECK(smtp_downgrade_feed(d, in + pos, end - pos, out) == 0);
		CHECK(out->len - before <= 9 * (end - pos) + held);
		pos = end;
	}
	before = out->len;
	CHECK(smtp_downgrade_end(d, out) == 0);
	CHECK(out->len - before <= held);
	smtp_downgrade_free(&d);
	CHECK(d == NULL);
}

static bool
same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static size_t
count_8bit(const char *p, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += (unsigned char)p[i] >= 0x80;
	return k;
}

static bool
has_8bit_label(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 4 <= n; i++)
		if (p[i] == '8' && (p[i + 1] | 0x20) == 'b' &&
		    (p[i + 2] | 0x20) == 'i' && (p[i + 3] | 0x20) == 't')
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_downgrade_limits small, big = { 1 << 16, 64, 1 << 20 };
	struct buf whole, split, bytes, again;
	const char *in;
	size_t n, cut;

	if (size < 3 || size > FUZZ_IN_MAX)
		return 0;
	in = (const char *)data + 3;
	n = size - 3;
	cut = n > 0 ? data[0] % (n + 1) : 0;
	small.line_max = 4 + (size_t)(data[1] & 0x1f) * 4;
	small.depth_max = (size_t)(data[1] >> 5);
	small.header_max = 16 + (size_t)data[2] * 4;

	dg_feed(&small, in, n, 0, 0, &whole);
	CHECK(whole.len <= 9 * n + 128);
	CHECK(count_8bit(whole.data, whole.len) <= count_8bit(in, n));
	dg_feed(&small, in, n, cut, 0, &split);
	CHECK(same(&whole, &split));
	dg_feed(&small, in, n, 0, 1, &bytes);
	CHECK(same(&whole, &bytes));
	buf_free(&whole);
	buf_free(&split);
	buf_free(&bytes);

	dg_feed(&big, in, n, cut, 0, &whole);
	if (!smtp_downgrade_needed(in, n) && !has_8bit_label(in, n))
		CHECK(whole.len == n &&
		    (n == 0 || memcmp(whole.data, in, n) == 0));
	dg_feed(&big, whole.data, whole.len, 0, 0, &again);
	CHECK(same(&whole, &again));
	buf_free(&whole);
	buf_free(&again);
	return 0;
}
