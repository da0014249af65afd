/*
 * Unit tests for src/store/dovecot_uidlist.c: the dovecot-uidlist
 * versions 1, 2 and 3 (Dovecot's maildir-uidlist.c), damaged lines, the
 * lookup by base name, and dovecot-keywords. Each input is also parsed
 * whole at every shorter length (a file cut by a crash).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "store/dovecot_uidlist.h"

static struct dovecot_uidlist *
parse_ok(const char *s)
{
	struct dovecot_uidlist *ul = NULL;
	struct buf err;

	buf_init(&err, 1024);
	if (dovecot_uidlist_parse(s, strlen(s), 1000, &ul, &err) != 0)
		fail_msg("parse: %s", buf_cstr(&err));
	buf_free(&err);
	return ul;
}

static void
assert_rec(const struct dovecot_uidlist *ul, const char *name, uint32_t uid,
    const char *uidl)
{
	const char *c = strpbrk(name, ",:");
	size_t blen = c != NULL ? (size_t)(c - name) : strlen(name);
	const struct dovecot_uidlist_rec *r =
	    dovecot_uidlist_find(ul, name, blen);

	if (r == NULL)
		fail_msg("%s: not found", name);
	assert_int_equal(r->uid, uid);
	if (uidl == NULL)
		assert_int_equal(r->uidl_len, 0);
	else {
		assert_int_equal(r->uidl_len, strlen(uidl));
		assert_memory_equal(r->uidl, uidl, r->uidl_len);
	}
}

static void
test_dovecot_uidlist_v3(void **state)
{
	static const char in[] =
	    "3 V1700000000 N45 G0123456789abcdef0123456789abcdef\n"
	    "3 W1234 :1699999990.M1P2.mx,S=1200\n"
	    "7 P1699999991.M2P3.mx W2000 G00ff :1699999991.M2P3.mx,S=1900,W=2000\n"
	    "9 Pxyz :1699999992.M3P4.mx\n";
	struct dovecot_uidlist *ul = parse_ok(in);

	(void)state;
	assert_int_equal(ul->version, 3);
	assert_int_equal(ul->uidvalidity, 1700000000);
	assert_int_equal(ul->nextuid, 45);
	assert_int_equal(ul->n, 3);
	assert_rec(ul, "1699999990.M1P2.mx,S=1200:2,S", 3, NULL);
	assert_rec(ul, "1699999991.M2P3.mx", 7, "1699999991.M2P3.mx");
	assert_rec(ul, "1699999992.M3P4.mx:2,", 9, "xyz");
	assert_null(dovecot_uidlist_find(ul, "1699999992.M3P4", 15));
	dovecot_uidlist_free(&ul);
	assert_null(ul);
}

static void
test_dovecot_uidlist_v1_v2(void **state)
{
	struct dovecot_uidlist *ul;

	(void)state;
	ul = parse_ok("1 1100000000 12\n5 1099.M1.h:2,S\n6 1100.M2.h\n");
	assert_int_equal(ul->version, 1);
	assert_int_equal(ul->uidvalidity, 1100000000);
	assert_int_equal(ul->nextuid, 12);
	assert_rec(ul, "1099.M1.h", 5, NULL);
	assert_rec(ul, "1100.M2.h,S=5", 6, NULL);
	dovecot_uidlist_free(&ul);
	ul = parse_ok("2 1100000000 12\n5 0 1099.M1.h\n");
	assert_int_equal(ul->version, 2);
	assert_rec(ul, "1099.M1.h", 5, NULL);
	dovecot_uidlist_free(&ul);
}

/* Lines that are not certain are dropped; nextuid stays above all. */
static void
test_dovecot_uidlist_damaged_lines(void **state)
{
	static const char in[] = "3 V77 N2\n"
	                         "garbage\n"
	                         "0 :zero.uid\n"
	                         "4 :a.h\n"
	                         "4 :again.same.uid\n"
	                         "3 :lower.uid\n"
	                         "5 no-colon\n"
	                         "6 :/etc/passwd\n"
	                         "7 :.hidden\n"
	                         "8 P :b.h\n"
	                         "9 :a.h\n"
	                         "10 P\x01x :c.h\r\n"
	                         "4294967295 :max.uid\n"
	                         "11 :\n";
	struct dovecot_uidlist *ul = parse_ok(in);

	(void)state;
	assert_int_equal(ul->n, 3);
	assert_rec(ul, "a.h", 4, NULL); /* the lower UID of a duplicate */
	assert_rec(ul, "b.h", 8, NULL);
	assert_rec(ul, "c.h", 10, NULL); /* a bad P field is no UIDL */
	assert_int_equal(ul->nextuid, 11);
	dovecot_uidlist_free(&ul);
}

static void
test_dovecot_uidlist_bad_headers(void **state)
{
	static const char *const bad[] = { "", "\n", "4 V1 N2\n", "3 N2\n",
		"3 V1\n", "3 V0 N1\n", "3 Vx N1\n", "1 5\n", "1 0 5\n",
		"x 1 2\n", "3 V99999999999 N1\n" };
	struct dovecot_uidlist *ul = NULL;
	struct buf err;
	size_t i;

	(void)state;
	buf_init(&err, 1024);
	for (i = 0; i < MW_NELEM(bad); i++) {
		errno = 0;
		if (dovecot_uidlist_parse(
		        bad[i], strlen(bad[i]), 10, &ul, &err) != -1)
			fail_msg("row %zu accepted", i);
		assert_int_equal(errno, EINVAL);
		assert_null(ul);
		assert_true(err.len > 0);
	}
	buf_free(&err);
}

/* A file cut anywhere parses or fails cleanly; max_recs holds. */
static void
test_dovecot_uidlist_every_prefix_and_limit(void **state)
{
	static const char in[] = "3 V1700000000 N45\n"
	                         "3 :a.h\n"
	                         "7 P7 :b.h\n"
	                         "9 :c.h\n";
	struct dovecot_uidlist *ul;
	size_t len;

	(void)state;
	for (len = 0; len <= sizeof(in) - 1; len++) {
		ul = NULL;
		if (dovecot_uidlist_parse(in, len, 1000, &ul, NULL) == 0) {
			assert_true(ul->n <= 3);
			dovecot_uidlist_free(&ul);
		} else
			assert_null(ul);
	}
	assert_int_equal(
	    dovecot_uidlist_parse(in, sizeof(in) - 1, 2, &ul, NULL), 0);
	assert_int_equal(ul->n, 2);
	assert_null(dovecot_uidlist_find(ul, "c.h", 3));
	dovecot_uidlist_free(&ul);
}

static void
test_dovecot_keywords(void **state)
{
	static const char in[] = "0 $Junk\n"
	                         "1 NonJunk\n"
	                         "25 Last\r\n"
	                         "26 TooFar\n"
	                         "2 two words\n"
	                         "x Bad\n"
	                         "3 \n"
	                         "1 Again\n";
	char *names[26] = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(dovecot_keywords_parse(in, sizeof(in) - 1, names), 3);
	assert_string_equal(names[0], "$Junk");
	assert_string_equal(names[1], "Again");
	assert_string_equal(names[25], "Last");
	assert_null(names[2]);
	assert_null(names[3]);
	for (i = 0; i < 26; i++)
		free(names[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_uidlist_v3),
		cmocka_unit_test(test_dovecot_uidlist_v1_v2),
		cmocka_unit_test(test_dovecot_uidlist_damaged_lines),
		cmocka_unit_test(test_dovecot_uidlist_bad_headers),
		cmocka_unit_test(test_dovecot_uidlist_every_prefix_and_limit),
		cmocka_unit_test(test_dovecot_keywords),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
