/*
 * Unit tests for IMAP sequence sets (imap_seqset.c): parsing (RFC 9051 9,
 * RFC 5182 "$"), normalisation of reversed and overlapping ranges, the
 * range limit at max-1 / max / max+1, resolving "*" and "$" against a
 * mailbox (RFC 9051 6.4.9: UID ranges past the end), membership, counting
 * and iteration.
 */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>

#include "imap/imap_seqset.h"
#include "lib/mw.h"

/* The set as "lo:hi,lo:hi" with "*" for IMAP_SEQ_STAR, and "$". */
static void
set_string(const struct imap_seqset *s, char *out, size_t size)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < s->n; i++) {
		char a[12], b[12];

		snprintf(a, sizeof(a), "%u", (unsigned)s->r[i].lo);
		snprintf(b, sizeof(b), "%u", (unsigned)s->r[i].hi);
		len += (size_t)snprintf(out + len, size - len, "%s%s:%s",
		    i ? "," : "", s->r[i].lo == IMAP_SEQ_STAR ? "*" : a,
		    s->r[i].hi == IMAP_SEQ_STAR ? "*" : b);
	}
	if (s->saved)
		snprintf(out + len, size - len, "%s$", s->n ? "," : "");
}

struct parse_case {
	const char *in;
	const char *want; /* NULL: EINVAL */
};

// clang-format off
static const struct parse_case parse_cases[] = {
	{ "1", "1:1" },
	{ "1,3:5,7:*", "1:1,3:5,7:*" },
	{ "*", "*:*" },
	{ "*:*", "*:*" },
	{ "1:*", "1:*" },
	{ "*:4", "*:4" },
	{ "5:3", "3:5" },
	{ "3,1,2", "1:3" },
	{ "1:2,2:4", "1:4" },
	{ "10:20,1:5,6:9", "1:20" },
	{ "7,7,7", "7:7" },
	{ "1,3", "1:1,3:3" },
	{ "4294967295", "4294967295:4294967295" },
	{ "1:4294967295", "1:4294967295" },
	{ "4294967295,1", "1:1,4294967295:4294967295" },
	{ "$", "$" },
	{ "1,$", "1:1,$" },
	{ "4294967296", NULL },
	{ "99999999999999999999", NULL },
	{ "0", NULL },
	{ "0:5", NULL },
	{ "01", NULL },
	{ "", NULL },
	{ ",", NULL },
	{ "1,", NULL },
	{ ",1", NULL },
	{ "1:", NULL },
	{ ":1", NULL },
	{ "1::2", NULL },
	{ "1:2:3", NULL },
	{ "1,,2", NULL },
	{ "$,1", NULL },
	{ "$$", NULL },
	{ "$:1", NULL },
	{ "1:$", NULL },
	{ "**", NULL },
	{ "1 2", NULL },
	{ " 1", NULL },
	{ "a", NULL },
	{ "-1", NULL },
	{ "+1", NULL },
	{ "1\0", NULL },
};
// clang-format on

static void
test_imap_seqset_parse_table(void **state)
{
	struct imap_range r[16];
	struct imap_seqset s;
	char got[256];
	size_t i, n;

	for (i = 0; i < MW_NELEM(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		int rc;

		n = strlen(c->in);
		if (i == MW_NELEM(parse_cases) - 1)
			n = 2; /* "1\0": the NUL counts */
		errno = 0;
		rc = imap_seqset_parse(c->in, n, r, MW_NELEM(r), &s);
		if (c->want == NULL) {
			if (rc != -1 || errno != EINVAL)
				fail_msg("\"%s\": accepted", c->in);
			continue;
		}
		if (rc != 0)
			fail_msg("\"%s\": rejected", c->in);
		set_string(&s, got, sizeof(got));
		if (strcmp(got, c->want) != 0)
			fail_msg(
			    "\"%s\": got %s, want %s", c->in, got, c->want);
	}
}

/* max 3 ranges: 2 and 3 fit, 4 is E2BIG (before merging). */
static void
test_imap_seqset_parse_limit(void **state)
{
	struct imap_range r[3];
	struct imap_seqset s;

	assert_int_equal(imap_seqset_parse("1,3", 3, r, 3, &s), 0);
	assert_int_equal(imap_seqset_parse("1,3,5", 5, r, 3, &s), 0);
	assert_int_equal(s.n, 3);
	errno = 0;
	assert_int_equal(imap_seqset_parse("1,3,5,7", 7, r, 3, &s), -1);
	assert_int_equal(errno, E2BIG);
	errno = 0;
	assert_int_equal(imap_seqset_parse("1,2,3,4", 7, r, 3, &s), -1);
	assert_int_equal(errno, E2BIG);
}

struct resolve_case {
	const char *in;
	uint32_t max;
	const char *want;
};

// clang-format off
static const struct resolve_case resolve_cases[] = {
	{ "1:*", 10, "1:10" },
	{ "*", 10, "10:10" },
	{ "*", 0, "" },
	{ "1:*", 0, "1:1" },           /* UID 1:* on an empty mailbox */
	{ "5:*", 3, "3:5" },           /* RFC 9051 6.4.9: past the end */
	{ "100:*", 50, "50:100" },
	{ "*:4", 10, "4:10" },
	{ "3:5,1:*", 4, "1:5" },
	{ "1,3:*,2", 3, "1:3" },
	{ "7,1:2", 9, "1:2,7:7" },
	{ "$", 9, "2:3,8:8" },
	{ "1,$", 9, "1:3,8:8" },
};
// clang-format on

static void
test_imap_seqset_resolve_table(void **state)
{
	struct imap_range saved_r[2] = { { 2, 3 }, { 8, 8 } };
	struct imap_seqset saved = { saved_r, 2, false, false };
	struct imap_range r[8], out_r[8];
	struct imap_seqset s, out;
	char got[256];
	size_t i;

	for (i = 0; i < MW_NELEM(resolve_cases); i++) {
		const struct resolve_case *c = &resolve_cases[i];

		assert_int_equal(
		    imap_seqset_parse(c->in, strlen(c->in), r, MW_NELEM(r), &s),
		    0);
		assert_int_equal(imap_seqset_resolve(&s, c->max, &saved, out_r,
		                     MW_NELEM(out_r), &out),
		    0);
		set_string(&out, got, sizeof(got));
		if (strcmp(got, c->want) != 0)
			fail_msg("\"%s\" max %u: got %s, want %s", c->in,
			    (unsigned)c->max, got, c->want);
	}
	/* no saved result: "$" is empty */
	assert_int_equal(imap_seqset_parse("$", 1, r, MW_NELEM(r), &s), 0);
	assert_int_equal(imap_seqset_resolve(&s, 5, NULL, out_r, 8, &out), 0);
	assert_int_equal(out.n, 0);
	/* output too small */
	assert_int_equal(imap_seqset_parse("1,3,5", 5, r, MW_NELEM(r), &s), 0);
	assert_int_equal(imap_seqset_resolve(&s, 5, NULL, out_r, 2, &out), -1);
	assert_int_equal(errno, E2BIG);
}

static void
resolve(const char *in, uint32_t max, struct imap_range *r,
    struct imap_range *out_r, struct imap_seqset *out)
{
	struct imap_seqset s;

	assert_int_equal(imap_seqset_parse(in, strlen(in), r, 8, &s), 0);
	assert_int_equal(imap_seqset_resolve(&s, max, NULL, out_r, 8, out), 0);
}

static void
test_imap_seqset_within_contains_count(void **state)
{
	struct imap_range r[8], out_r[8];
	struct imap_seqset s;

	resolve("1:3,7:*", 9, r, out_r, &s);
	assert_true(imap_seqset_within(&s, 9));
	assert_false(imap_seqset_within(&s, 8));
	assert_true(imap_seqset_contains(&s, 1));
	assert_true(imap_seqset_contains(&s, 3));
	assert_false(imap_seqset_contains(&s, 4));
	assert_false(imap_seqset_contains(&s, 6));
	assert_true(imap_seqset_contains(&s, 7));
	assert_true(imap_seqset_contains(&s, 9));
	assert_false(imap_seqset_contains(&s, 10));
	assert_false(imap_seqset_contains(&s, 0));
	assert_true(imap_seqset_count(&s) == 6);
	resolve("1:4294967295", 1, r, out_r, &s);
	assert_true(imap_seqset_count(&s) == 4294967295u);
	assert_false(imap_seqset_within(&s, 1));
}

static void
iterate(const struct imap_seqset *s, uint32_t max, char *out, size_t size)
{
	struct imap_seqset_iter it;
	size_t len = 0;
	uint32_t v;

	out[0] = '\0';
	imap_seqset_iter_init(&it, s, max);
	while (imap_seqset_iter_next(&it, &v))
		len +=
		    (size_t)snprintf(out + len, size - len, "%u ", (unsigned)v);
	assert_false(imap_seqset_iter_next(&it, &v)); /* stays at the end */
}

static void
test_imap_seqset_iterate(void **state)
{
	struct imap_range r[8], out_r[8];
	struct imap_seqset s;
	char got[256];

	resolve("1:3,7:*", 8, r, out_r, &s);
	iterate(&s, 8, got, sizeof(got));
	assert_string_equal(got, "1 2 3 7 8 ");
	iterate(&s, 5, got, sizeof(got));
	assert_string_equal(got, "1 2 3 ");
	resolve("100:*", 50, r, out_r, &s);
	iterate(&s, 50, got, sizeof(got));
	assert_string_equal(got, "50 ");
	resolve("*", 0, r, out_r, &s);
	iterate(&s, 0, got, sizeof(got));
	assert_string_equal(got, "");
	resolve("4294967294:4294967295", 4294967295u, r, out_r, &s);
	iterate(&s, 4294967295u, got, sizeof(got));
	assert_string_equal(got, "4294967294 4294967295 ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_seqset_parse_table),
		cmocka_unit_test(test_imap_seqset_parse_limit),
		cmocka_unit_test(test_imap_seqset_resolve_table),
		cmocka_unit_test(test_imap_seqset_within_contains_count),
		cmocka_unit_test(test_imap_seqset_iterate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
