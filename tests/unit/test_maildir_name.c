/*
 * Unit tests for src/store/maildir_name.c: splitting Maildir file names
 * into base, ,S= and ,W= fields and ":2," flags (maildir(5), Maildir++),
 * building names with new flags, and the delivery order of base names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "store/maildir_name.h"
#include "store/store.h"

#define SEEN     STORE_FLAG_SEEN
#define ANSWERED STORE_FLAG_ANSWERED
#define FLAGGED  STORE_FLAG_FLAGGED
#define DELETED  STORE_FLAG_DELETED
#define DRAFT    STORE_FLAG_DRAFT
#define PASSED   STORE_FLAG_PASSED
#define NONE     UINT64_MAX

static void
test_maildir_fname_parse_rows(void **state)
{
	static const struct {
		const char *label, *name, *base;
		uint64_t psize, vsize;
		bool info;
		uint32_t flags, keywords;
	} rows[] = {
		{ "plain", "1.M2Q3.host", "1.M2Q3.host", NONE, NONE, false, 0,
		    0 },
		{ "ours", "1.M2Q3.h,S=10,W=12", "1.M2Q3.h", 10, 12, false, 0,
		    0 },
		{ "dovecot cur", "1.M2P3.h,S=10,W=12:2,FS", "1.M2P3.h", 10, 12,
		    true, FLAGGED | SEEN, 0 },
		{ "empty info", "1.x:2,", "1.x", NONE, NONE, true, 0, 0 },
		{ "all flags", "b:2,DFPRST", "b", NONE, NONE, true,
		    DRAFT | FLAGGED | PASSED | ANSWERED | SEEN | DELETED, 0 },
		{ "keywords", "b:2,Sacz", "b", NONE, NONE, true, SEEN,
		    1u | 4u | (1u << 25) },
		{ "duplicates, unknown", "b:2,SSXS!", "b", NONE, NONE, true,
		    SEEN, 0 },
		{ "version 1 info", "b:1,S", "b", NONE, NONE, true, 0, 0 },
		{ "bad sizes", "b,S=x,W=,S=5", "b", 5, NONE, false, 0, 0 },
		{ "other fields", "b,X=1,S=3,Z", "b", 3, NONE, false, 0, 0 },
		{ "size overflow", "b,S=99999999999999999999", "b", NONE, NONE,
		    false, 0, 0 },
		{ "colon in info", "b:2,S:x", "b", NONE, NONE, true, SEEN,
		    1u << 23 },
	};
	struct maildir_fname f;
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(rows); i++) {
		const char *n = rows[i].name;

		if (maildir_fname_parse(n, strlen(n), &f) != 0)
			fail_msg("%s: parse failed", rows[i].label);
		assert_int_equal(f.base_len, strlen(rows[i].base));
		assert_memory_equal(f.base, rows[i].base, f.base_len);
		assert_int_equal(f.has_psize, rows[i].psize != NONE);
		if (f.has_psize)
			assert_int_equal(f.psize, rows[i].psize);
		assert_int_equal(f.has_vsize, rows[i].vsize != NONE);
		if (f.has_vsize)
			assert_int_equal(f.vsize, rows[i].vsize);
		assert_int_equal(f.has_info, rows[i].info);
		assert_int_equal(f.flags, rows[i].flags);
		assert_int_equal(f.keywords, rows[i].keywords);
	}
}

static void
test_maildir_fname_parse_rejects(void **state)
{
	static const char *const bad[] = { "", ".hidden", ",S=1", ":2,S",
		"a/b" };
	struct maildir_fname f;
	char longname[MAILDIR_NAME_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(bad); i++) {
		errno = 0;
		assert_int_equal(
		    maildir_fname_parse(bad[i], strlen(bad[i]), &f), -1);
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(maildir_fname_parse("a\0b", 3, &f), -1);
	/* MAILDIR_NAME_MAX is fine, one more is not */
	memset(longname, 'x', sizeof(longname));
	assert_int_equal(
	    maildir_fname_parse(longname, MAILDIR_NAME_MAX, &f), 0);
	assert_int_equal(
	    maildir_fname_parse(longname, MAILDIR_NAME_MAX + 1, &f), -1);
}

static void
test_maildir_fname_with_flags_rows(void **state)
{
	static const struct {
		const char *name;
		uint32_t flags, keywords;
		const char *want;
	} rows[] = {
		{ "b,S=1,W=2", SEEN, 0, "b,S=1,W=2:2,S" },
		{ "b:2,", SEEN | ANSWERED | DRAFT, 0, "b:2,DRS" },
		{ "b:2,ST", FLAGGED, 0, "b:2,F" },
		/* unknown letters stay, keywords are replaced */
		{ "b:2,XSa!", SEEN, 2, "b:2,!SXb" },
		{ "b:2,SS", SEEN, 0, "b:2,S" },
		/* ":1," info is replaced */
		{ "b,S=3:1,weird", DELETED, 0, "b,S=3:2,T" },
		{ "b:2,S", 0, 0, "b:2," },
	};
	struct maildir_fname f;
	struct buf out;
	size_t i;

	(void)state;
	buf_init(&out, 4096);
	for (i = 0; i < MW_NELEM(rows); i++) {
		buf_reset(&out);
		assert_int_equal(
		    maildir_fname_parse(rows[i].name, strlen(rows[i].name), &f),
		    0);
		assert_int_equal(maildir_fname_with_flags(&out, rows[i].name,
		                     &f, rows[i].flags, rows[i].keywords),
		    0);
		assert_string_equal(buf_cstr(&out), rows[i].want);
	}
	buf_free(&out);
}

static void
test_maildir_fname_build(void **state)
{
	struct buf out;
	char base[300];

	(void)state;
	buf_init(&out, 4096);
	assert_int_equal(
	    maildir_fname_build(&out, "1.M2Q3.h", 10, 12, SEEN | FLAGGED, 1),
	    0);
	assert_string_equal(buf_cstr(&out), "1.M2Q3.h,S=10,W=12:2,FSa");
	buf_reset(&out);
	assert_int_equal(maildir_fname_build(&out, "x", NONE, NONE, 0, 0), 0);
	assert_string_equal(buf_cstr(&out), "x:2,");
	assert_int_equal(
	    maildir_fname_build(&out, "a:b", NONE, NONE, 0, 0), -1);
	assert_int_equal(maildir_fname_build(&out, ".a", NONE, NONE, 0, 0), -1);
	/* the limit: 251 + ":2," is 254, 252 + 3 = 255, 253 + 3 too long */
	buf_reset(&out);
	memset(base, 'b', sizeof(base));
	base[252] = '\0';
	assert_int_equal(maildir_fname_build(&out, base, NONE, NONE, 0, 0), 0);
	assert_int_equal(out.len, 255);
	buf_reset(&out);
	base[252] = 'b';
	base[253] = '\0';
	errno = 0;
	assert_int_equal(maildir_fname_build(&out, base, NONE, NONE, 0, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static int
cmp(const char *a, const char *b)
{
	return maildir_base_cmp(a, strlen(a), b, strlen(b));
}

static void
test_maildir_base_cmp_delivery_order(void **state)
{
	static const char *const ordered[] = {
		"999999999.M9Q1.h",
		"1000000000.M5Q2.h",
		"1000000000.M10Q1.h",
		"1000000000.M10Q2.h",
		"1000000000.M10Q2.hx",
		"1000000001.M0.h",
		"a",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < MW_NELEM(ordered); i++)
		for (j = 0; j < MW_NELEM(ordered); j++) {
			int c = cmp(ordered[i], ordered[j]);

			if (i < j)
				assert_true(c < 0);
			else if (i > j)
				assert_true(c > 0);
			else
				assert_int_equal(c, 0);
		}
	/* equal numbers with other spellings still order, both ways */
	assert_true(cmp("01", "1") != 0);
	assert_true((cmp("01", "1") < 0) == (cmp("1", "01") > 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maildir_fname_parse_rows),
		cmocka_unit_test(test_maildir_fname_parse_rejects),
		cmocka_unit_test(test_maildir_fname_with_flags_rows),
		cmocka_unit_test(test_maildir_fname_build),
		cmocka_unit_test(test_maildir_base_cmp_delivery_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
