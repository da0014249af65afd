/* Unit tests for src/lib/parse.c: strict numbers, durations, booleans. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/parse.h"

static void
test_parse_uint_table(void **state)
{
	static const struct {
		const char *in;
		uint64_t min, max;
		int ret;
		uint64_t v;
	} rows[] = {
		{ "0", 0, 10, 0, 0 },
		{ "9", 0, 10, 0, 9 },     /* max-1 */
		{ "10", 0, 10, 0, 10 },   /* max */
		{ "11", 0, 10, -1, 0 },   /* max+1 */
		{ "", 0, 10, -1, 0 },
		{ "-1", 0, 10, -1, 0 },
		{ "+1", 0, 10, -1, 0 },
		{ " 1", 0, 10, -1, 0 },
		{ "1 ", 0, 10, -1, 0 },
		{ "1k", 0, 10000, -1, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, -1, 0 },
		{ "5", 6, 10, -1, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v = 0;
		int r = parse_uint(rows[i].in, rows[i].min, rows[i].max, &v);

		assert_int_equal(r, rows[i].ret);
		if (r == 0)
			assert_true(v == rows[i].v);
	}
}

static void
test_parse_duration_suffixes(void **state)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t v;
	} rows[] = {
		{ "300", 0, 300 }, { "300s", 0, 300 }, { "5m", 0, 300 },
		{ "1h", 0, 3600 }, { "5d", 0, 432000 }, { "1w", 0, 604800 },
		{ "m", -1, 0 },    { "5x", -1, 0 },    { "", -1, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v = 0;

		assert_int_equal(parse_duration(rows[i].in, 0, UINT64_MAX, &v),
		    rows[i].ret);
		if (rows[i].ret == 0)
			assert_true(v == rows[i].v);
	}
}

static void
test_parse_bool_and_ascii_helpers(void **state)
{
	bool v;

	(void)state;
	assert_int_equal(parse_bool("yes", &v), 0);
	assert_true(v);
	assert_int_equal(parse_bool("NO", &v), 0);
	assert_false(v);
	assert_int_equal(parse_bool("maybe", &v), -1);
	assert_true(ascii_eq("MaIl", "mail"));
	assert_false(ascii_eq("mail", "mails"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_uint_table),
		cmocka_unit_test(test_parse_duration_suffixes),
		cmocka_unit_test(test_parse_bool_and_ascii_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
