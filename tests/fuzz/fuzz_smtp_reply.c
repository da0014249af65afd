/*
 * libFuzzer target for the SMTP client's reply parser: the input is what a
 * server sent. Each reply is parsed under two sets of small limits, then
 * formatted into a large and a small buffer and read as an EHLO reply.
 * Checks: OK only after a full final line, a shorter prefix of an OK reply
 * is MORE, a prefix of an error is MORE or the same error, the fields keep
 * their limits, and the formatted line is clean UTF-8 that only gets cut.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mailaddr.h"
#include "smtp/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

struct fuzz_limits {
	size_t line_max, lines_max, text_max;
};

static const struct fuzz_limits fuzz_limits[] = {
	{ 80, 6, 200 },
	{ 16, 3, 24 },
};

/* The formatted line: no control byte, well-formed UTF-8. */
static void
check_clean(const struct buf *b)
{
	size_t i = 0, k;

	while (i < b->len) {
		unsigned char c = (unsigned char)b->data[i];

		CHECK(c >= 0x20 && c != 0x7f);
		k = mailaddr_utf8_len(b->data + i, b->len - i);
		CHECK(k > 0);
		i += k;
	}
}

static void
check_dsn(const struct smtp_reply *r)
{
	size_t i, dots = 0;

	if (r->dsn[0] == '\0')
		return;
	CHECK(r->dsn[0] == '0' + r->code / 100 && r->dsn[1] == '.');
	for (i = 0; r->dsn[i] != '\0'; i++) {
		CHECK(i < 9);
		CHECK(
		    r->dsn[i] == '.' || (r->dsn[i] >= '0' && r->dsn[i] <= '9'));
		dots += r->dsn[i] == '.';
	}
	CHECK(dots == 2);
}

static void
check_ok(const char *p, size_t consumed, const struct fuzz_limits *lim,
    const struct smtp_reply *r)
{
	struct buf big, small;
	struct smtp_ehlo e;
	size_t i, nl = 0;

	CHECK(consumed > 0 && p[consumed - 1] == '\n');
	CHECK(r->code >= 200 && r->code <= 599);
	CHECK(r->nlines >= 1 && r->nlines <= lim->lines_max);
	CHECK(r->nlines * lim->line_max >= consumed);
	CHECK(r->text.data != NULL && r->text.len <= lim->text_max);
	CHECK(r->text.data[r->text.len] == '\0');
	for (i = 0; i < r->text.len; i++)
		nl += r->text.data[i] == '\n';
	CHECK(nl + 1 == r->nlines);
	check_dsn(r);

	/* the small line is the big one, cut */
	buf_init(&big, 4096);
	buf_init(&small, 3 + consumed % 16);
	CHECK(smtp_reply_format(r, &big) == 0);
	CHECK(smtp_reply_format(r, &small) == 0);
	check_clean(&big);
	check_clean(&small);
	CHECK(big.len >= 3 && small.len <= small.max);
	CHECK(small.len <= big.len &&
	    memcmp(small.data, big.data, small.len) == 0);
	buf_free(&big);
	buf_free(&small);

	smtp_ehlo_parse(r, &e);
	CHECK(e.size_max == 0 || (e.ext & SMTP_EXT_SIZE));
	CHECK(e.auth == 0 || (e.ext & SMTP_EXT_AUTH));
	CHECK(r->code == 250 || e.ext == 0);
}

static void
fuzz_one(const char *p, size_t n, const struct fuzz_limits *lim, size_t cut)
{
	struct smtp_reply r, r2;
	const char *err, *err2;
	size_t consumed, consumed2, k;
	enum smtp_reply_status st, st2;
	int replies;

	smtp_reply_init(&r, lim->text_max);
	smtp_reply_init(&r2, lim->text_max);
	/* up to a few pipelined replies */
	for (replies = 0; replies < 4 && n > 0; replies++) {
		st = smtp_reply_parse(
		    p, n, lim->line_max, lim->lines_max, &r, &consumed, &err);
		k = n > 0 ? cut % n : 0;
		st2 = smtp_reply_parse(p, k, lim->line_max, lim->lines_max, &r2,
		    &consumed2, &err2);
		if (st == SMTP_REPLY_MORE) {
			CHECK(consumed == 0 && err == NULL);
			CHECK(st2 == SMTP_REPLY_MORE);
			break;
		}
		if (st == SMTP_REPLY_ERROR) {
			CHECK(err != NULL);
			CHECK(st2 == SMTP_REPLY_MORE ||
			    (st2 == SMTP_REPLY_ERROR && err2 == err));
			break;
		}
		CHECK(consumed <= n && err == NULL);
		check_ok(p, consumed, lim, &r);
		/* a prefix is not a reply yet, until it holds this one */
		if (k < consumed)
			CHECK(st2 == SMTP_REPLY_MORE);
		else
			CHECK(st2 == SMTP_REPLY_OK && consumed2 == consumed);
		/* nor is one byte less */
		CHECK(smtp_reply_parse(p, consumed - 1, lim->line_max,
		          lim->lines_max, &r2, &consumed2,
		          &err2) == SMTP_REPLY_MORE);
		p += consumed;
		n -= consumed;
	}
	smtp_reply_free(&r);
	smtp_reply_free(&r2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 0; i < sizeof(fuzz_limits) / sizeof(fuzz_limits[0]); i++)
		fuzz_one((const char *)data, size, &fuzz_limits[i],
		    size > 0 ? data[0] * 7u + size / 2 : 0);
	return 0;
}
