/*
 * libFuzzer target for IMAP sequence sets (imap_seqset.h). The first four
 * bytes give the mailbox's highest number; the rest is parsed as a set
 * under a small range limit, resolved, and checked: sorted and merged,
 * membership agreeing with iteration, counts adding up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_seqset.h"
#include "lib/mw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define RANGES_MAX 16

static void
check_normal(const struct imap_seqset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		CHECK(s->r[i].lo >= 1 && s->r[i].lo <= s->r[i].hi);
		if (i > 0)
			CHECK((uint64_t)s->r[i].lo >
			    (uint64_t)s->r[i - 1].hi + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_range r[RANGES_MAX], out_r[2 * RANGES_MAX], saved_r[2];
	struct imap_seqset s, out, saved;
	struct imap_seqset_iter it;
	uint32_t max, v, prev = 0;
	uint64_t seen = 0;
	size_t i;

	if (size < 4)
		return 0;
	max = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
	    (uint32_t)data[2] << 8 | data[3];
	/* small mailboxes most of the time, so that iteration ends */
	if (data[0] < 0xf0)
		max %= 1000;
	if (imap_seqset_parse(
	        (const char *)data + 4, size - 4, r, RANGES_MAX, &s) == -1)
		return 0;
	CHECK(s.n >= 1 || s.saved);
	CHECK(s.n <= RANGES_MAX);
	if (!s.star)
		check_normal(&s);
	for (i = 0; i < s.n; i++)
		CHECK(s.star || s.r[i].lo != IMAP_SEQ_STAR);
	saved_r[0] = (struct imap_range){ 2, 5 };
	saved_r[1] = (struct imap_range){ 9, 9 };
	saved = (struct imap_seqset){ saved_r, 2, false, false };
	CHECK(imap_seqset_resolve(
	          &s, max, &saved, out_r, MW_NELEM(out_r), &out) == 0);
	check_normal(&out);
	if (!s.star && !s.saved) { /* nothing to substitute: the same set */
		CHECK(out.n == s.n);
		CHECK(memcmp(out.r, s.r, s.n * sizeof(*s.r)) == 0);
	}
	for (i = 0; i < s.n; i++) {
		uint32_t a = s.r[i].lo == IMAP_SEQ_STAR ? max : s.r[i].lo;
		uint32_t b = s.r[i].hi == IMAP_SEQ_STAR ? max : s.r[i].hi;

		if (a >= 1)
			CHECK(imap_seqset_contains(&out, a));
		if (b >= 1)
			CHECK(imap_seqset_contains(&out, b));
	}
	if (imap_seqset_count(&out) > 100000)
		return 0;
	imap_seqset_iter_init(&it, &out, max);
	while (imap_seqset_iter_next(&it, &v)) {
		CHECK(v > prev && v <= max);
		CHECK(imap_seqset_contains(&out, v));
		prev = v;
		seen++;
	}
	CHECK(seen <= imap_seqset_count(&out));
	if (imap_seqset_within(&out, max))
		CHECK(seen == imap_seqset_count(&out));
	return 0;
}
