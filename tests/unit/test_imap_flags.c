/*
 * Unit tests for imap_flags.c: IMAP_FLAG_* to the store's bits, and the
 * APPEND date-time (RFC 9051 9) to seconds since the epoch, zones east
 * and west, leap days, the epoch itself.
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

#include "imap/imap_command.h"
#include "imap/imap_flags.h"
#include "store/store.h"

static void
test_imap_flags_to_store_each_bit(void **state)
{
	(void)state;
	assert_int_equal(imap_flags_to_store(0), 0);
	assert_int_equal(
	    imap_flags_to_store(IMAP_FLAG_ANSWERED), STORE_FLAG_ANSWERED);
	assert_int_equal(
	    imap_flags_to_store(IMAP_FLAG_FLAGGED), STORE_FLAG_FLAGGED);
	assert_int_equal(
	    imap_flags_to_store(IMAP_FLAG_DELETED), STORE_FLAG_DELETED);
	assert_int_equal(imap_flags_to_store(IMAP_FLAG_SEEN), STORE_FLAG_SEEN);
	assert_int_equal(
	    imap_flags_to_store(IMAP_FLAG_DRAFT), STORE_FLAG_DRAFT);
	assert_int_equal(imap_flags_to_store(IMAP_FLAG_SEEN | IMAP_FLAG_DRAFT),
	    STORE_FLAG_SEEN | STORE_FLAG_DRAFT);
}

static void
test_imap_date_time_epoch_table(void **state)
{
	static const struct {
		const char *label;
		int y, mo, d, h, mi, s, zone;
		int64_t want;
	} rows[] = {
		{ "epoch", 1970, 1, 1, 0, 0, 0, 0, 0 },
		{ "east zone", 2021, 3, 5, 10, 11, 12, 60, 1614935472 },
		{ "west zone", 2021, 3, 5, 2, 11, 12, -420, 1614935472 },
		{ "leap day", 2024, 2, 29, 12, 0, 0, 0, 1709208000 },
		{ "year 2000", 2000, 3, 1, 0, 0, 0, 0, 951868800 },
		{ "before 1970", 1969, 12, 31, 23, 59, 59, 0, -1 },
		{ "2038", 2038, 1, 19, 3, 14, 8, 0, 2147483648LL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct imap_date_time dt = { { rows[i].y, rows[i].mo,
			                         rows[i].d },
			rows[i].h, rows[i].mi, rows[i].s, rows[i].zone };

		if (imap_date_time_epoch(&dt) != rows[i].want)
			fail_msg("%s: %lld, want %lld", rows[i].label,
			    (long long)imap_date_time_epoch(&dt),
			    (long long)rows[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_flags_to_store_each_bit),
		cmocka_unit_test(test_imap_date_time_epoch_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
