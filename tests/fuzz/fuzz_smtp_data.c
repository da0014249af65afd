/*
 * libFuzzer target for the DATA and BDAT decoders. The first two bytes
 * choose a split offset and an output limit; the rest is the client's
 * bytes. Feeding them whole, split in two, byte by byte and through a
 * small output buffer must give the same status, consumption, stored bytes
 * and flags; DONE must only follow a real <CRLF>.<CRLF>.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "smtp/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_OUT_MAX 8192

struct data_result {
	int status;
	size_t used;
	struct buf out;
	struct smtp_data d;
};

/* Feeds in pieces of at most step bytes (0: whole), the first piece
 * ending at cut, through an out of out_max bytes emptied after every call. */
static void
data_feed(const char *in, size_t n, size_t cut, size_t step, size_t out_max,
    struct data_result *res)
{
	struct buf out;
	size_t pos = 0, end, used;
	int r = SMTP_DATA_MORE;

	smtp_data_init(&res->d, false);
	buf_init(&res->out, FUZZ_OUT_MAX);
	buf_init(&out, out_max);
	while (r != SMTP_DATA_DONE && pos < n) {
		end = pos < cut ? cut : n;
		if (step > 0 && end - pos > step)
			end = pos + step;
		r = smtp_data_feed(&res->d, in + pos, end - pos, &out, &used);
		CHECK(used <= end - pos);
		pos += used;
		CHECK(buf_append(&res->out, out.data, out.len) == 0);
		buf_reset(&out);
		if (r == SMTP_DATA_MORE)
			CHECK(pos == end);
	}
	res->status = r == SMTP_DATA_DONE ? r : SMTP_DATA_MORE;
	res->used = pos;
	CHECK(res->d.size == res->out.len);
	buf_free(&out);
}

static void
data_same(const struct data_result *a, const struct data_result *b)
{
	CHECK(a->status == b->status && a->used == b->used);
	CHECK(a->out.len == b->out.len);
	CHECK(a->out.len == 0 ||
	    memcmp(a->out.data, b->out.data, a->out.len) == 0);
	CHECK(a->d.saw_bare_lf == b->d.saw_bare_lf);
	CHECK(a->d.saw_bare_cr == b->d.saw_bare_cr);
	CHECK(a->d.saw_8bit == b->d.saw_8bit);
	CHECK(a->d.saw_nul == b->d.saw_nul);
}

static void
fuzz_data(const char *in, size_t n, size_t cut, size_t out_max)
{
	struct data_result whole, split, bytes, small;

	data_feed(in, n, 0, 0, FUZZ_OUT_MAX, &whole);
	if (whole.status == SMTP_DATA_DONE) {
		/* RFC 5321 4.1.1.4: only <CRLF>.<CRLF> (or a first "." line) */
		CHECK(whole.used >= 3);
		CHECK(memcmp(in + whole.used - 3, ".\r\n", 3) == 0);
		CHECK(whole.used == 3 || (whole.used >= 5 &&
		    memcmp(in + whole.used - 5, "\r\n", 2) == 0));
	} else
		CHECK(whole.used == n);
	data_feed(in, n, cut, 0, FUZZ_OUT_MAX, &split);
	data_same(&whole, &split);
	data_feed(in, n, 0, 1, FUZZ_OUT_MAX, &bytes);
	data_same(&whole, &bytes);
	data_feed(in, n, cut, 0, out_max, &small);
	data_same(&whole, &small);
	buf_free(&whole.out);
	buf_free(&split.out);
	buf_free(&bytes.out);
	buf_free(&small.out);
}

/* BDAT: whole as one LAST chunk vs two chunks; out big enough. */
static void
fuzz_bdat(const char *in, size_t n, size_t cut, size_t out_max)
{
	struct smtp_data a, b, c;
	struct buf oa, ob, oc;
	int rc;

	smtp_bdat_init(&a);
	buf_init(&oa, FUZZ_OUT_MAX);
	CHECK(smtp_bdat_feed(&a, in, n, true, &oa) == 0);
	smtp_bdat_init(&b);
	buf_init(&ob, FUZZ_OUT_MAX);
	CHECK(smtp_bdat_feed(&b, in, cut, false, &ob) == 0);
	CHECK(smtp_bdat_feed(&b, in + cut, n - cut, true, &ob) == 0);
	CHECK(oa.len == ob.len && a.size == oa.len && b.size == ob.len);
	CHECK(oa.len == 0 || memcmp(oa.data, ob.data, oa.len) == 0);
	CHECK(oa.len <= n);
	CHECK(a.saw_bare_lf == b.saw_bare_lf && a.saw_bare_cr == b.saw_bare_cr);
	CHECK(a.saw_8bit == b.saw_8bit && a.saw_nul == b.saw_nul);
	/* a small out keeps a prefix and says so */
	smtp_bdat_init(&c);
	buf_init(&oc, out_max);
	rc = smtp_bdat_feed(&c, in, n, true, &oc);
	CHECK(rc == (oa.len > out_max ? -1 : 0));
	CHECK(oc.len == (oa.len > out_max ? out_max : oa.len));
	CHECK(oc.len == 0 || memcmp(oc.data, oa.data, oc.len) == 0);
	CHECK(c.saw_bare_lf == a.saw_bare_lf && c.saw_nul == a.saw_nul);
	buf_free(&oa);
	buf_free(&ob);
	buf_free(&oc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in;
	size_t n, cut, out_max;

	if (size < 2 || size > FUZZ_OUT_MAX / 2)
		return 0;
	in = (const char *)data + 2;
	n = size - 2;
	cut = n > 0 ? data[0] % (n + 1) : 0;
	out_max = 1 + data[1] % 16;
	fuzz_data(in, n, cut, out_max);
	fuzz_bdat(in, n, cut, out_max);
	return 0;
}
