/* Unit tests of src/auth/auth_penalty.c: the growing delay and its cap,
 * the ban at the limit inside the window and its length, success, expiry
 * and the cap on tracked addresses; time is simulated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "auth/auth_penalty.h"

#define T0 1000000 /* an arbitrary monotonic clock */

static void
test_auth_penalty_delay_doubles_then_caps(void **state)
{
	static const uint64_t want[] = { 1000, 2000, 4000, 8000, 16000, 16000,
		16000 };
	struct auth_penalty *p;
	size_t i;

	(void)state;
	p = auth_penalty_new(100, 600, 900, 1);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(
		    auth_penalty_fail(p, "192.0.2.1", T0 + i), want[i]);
	/* another address starts from the base */
	assert_int_equal(auth_penalty_fail(p, "192.0.2.2", T0), 1000);
	auth_penalty_free(&p);
	assert_null(p);
	auth_penalty_free(&p);
}

static void
test_auth_penalty_zero_base_means_no_delay(void **state)
{
	struct auth_penalty *p;
	int i;

	(void)state;
	p = auth_penalty_new(100, 600, 900, 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(auth_penalty_fail(p, "192.0.2.1", T0), 0);
	auth_penalty_free(&p);
}

/* With limit 3: banned after the 3rd failure, not the 2nd (max-1, max,
 * max+1). */
static void
test_auth_penalty_ban_at_limit(void **state)
{
	static const struct {
		int failures;
		bool banned;
	} rows[] = {
		{ 2, false },
		{ 3, true },
		{ 4, true },
	};
	struct auth_penalty *p;
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		p = auth_penalty_new(3, 600, 900, 1);
		for (k = 0; k < rows[i].failures; k++)
			(void)auth_penalty_fail(p, "198.51.100.7", T0 + k);
		if (auth_penalty_banned(p, "198.51.100.7", T0 + k) !=
		    rows[i].banned)
			fail_msg("%d failures", rows[i].failures);
		assert_false(auth_penalty_banned(p, "198.51.100.8", T0 + k));
		auth_penalty_free(&p);
	}
}

/* The ban lasts ban_secs from the failure that reached the limit. */
static void
test_auth_penalty_ban_length(void **state)
{
	struct auth_penalty *p;

	(void)state;
	p = auth_penalty_new(2, 600, 900, 1);
	(void)auth_penalty_fail(p, "a", T0);
	(void)auth_penalty_fail(p, "a", T0 + 10);
	assert_true(auth_penalty_banned(p, "a", T0 + 10));
	assert_true(auth_penalty_banned(p, "a", T0 + 10 + 899));
	/* failing while banned neither extends the ban nor counts */
	assert_int_equal(auth_penalty_fail(p, "a", T0 + 500), 16000);
	assert_false(auth_penalty_banned(p, "a", T0 + 10 + 900));
	/* a fresh start after the ban */
	assert_int_equal(auth_penalty_fail(p, "a", T0 + 10 + 900), 1000);
	assert_false(auth_penalty_banned(p, "a", T0 + 10 + 900));
	auth_penalty_free(&p);
}

/* Failures count only inside the window: window-1 and window apart. */
static void
test_auth_penalty_window(void **state)
{
	struct auth_penalty *p;

	(void)state;
	p = auth_penalty_new(2, 600, 900, 1);
	(void)auth_penalty_fail(p, "a", T0);
	assert_int_equal(auth_penalty_fail(p, "a", T0 + 599), 2000);
	assert_true(auth_penalty_banned(p, "a", T0 + 599));
	(void)auth_penalty_fail(p, "b", T0);
	assert_int_equal(auth_penalty_fail(p, "b", T0 + 600), 1000);
	assert_false(auth_penalty_banned(p, "b", T0 + 600));
	assert_int_equal(auth_penalty_fail(p, "b", T0 + 601), 2000);
	assert_true(auth_penalty_banned(p, "b", T0 + 601));
	auth_penalty_free(&p);
}

static void
test_auth_penalty_no_ban_when_zero(void **state)
{
	struct auth_penalty *p;
	int i;

	(void)state;
	p = auth_penalty_new(2, 600, 0, 1);
	for (i = 0; i < 5; i++)
		(void)auth_penalty_fail(p, "a", T0);
	assert_false(auth_penalty_banned(p, "a", T0));
	auth_penalty_free(&p);
	p = auth_penalty_new(0, 600, 900, 1);
	for (i = 0; i < 5; i++)
		(void)auth_penalty_fail(p, "a", T0);
	assert_false(auth_penalty_banned(p, "a", T0));
	auth_penalty_free(&p);
}

static void
test_auth_penalty_success_clears(void **state)
{
	struct auth_penalty *p;

	(void)state;
	p = auth_penalty_new(3, 600, 900, 1);
	(void)auth_penalty_fail(p, "a", T0);
	(void)auth_penalty_fail(p, "a", T0);
	auth_penalty_success(p, "a");
	assert_int_equal(auth_penalty_count(p), 0);
	assert_int_equal(auth_penalty_fail(p, "a", T0), 1000);
	(void)auth_penalty_fail(p, "a", T0);
	assert_false(auth_penalty_banned(p, "a", T0));
	auth_penalty_success(p, "unknown"); /* no-op */
	assert_int_equal(auth_penalty_count(p), 1);
	auth_penalty_free(&p);
}

/* A clock that goes back does not underflow into "window over". */
static void
test_auth_penalty_clock_going_back(void **state)
{
	struct auth_penalty *p;

	(void)state;
	p = auth_penalty_new(2, 600, 900, 1);
	(void)auth_penalty_fail(p, "a", T0);
	assert_int_equal(auth_penalty_fail(p, "a", T0 - 5), 2000);
	assert_true(auth_penalty_banned(p, "a", T0 - 5));
	auth_penalty_free(&p);
}

/* Old entries go as later failures come in. */
static void
test_auth_penalty_expiry(void **state)
{
	struct auth_penalty *p;
	char addr[32];
	int i;

	(void)state;
	p = auth_penalty_new(100, 600, 900, 1);
	for (i = 0; i < 20; i++) {
		(void)snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		(void)auth_penalty_fail(p, addr, T0);
	}
	assert_int_equal(auth_penalty_count(p), 20);
	(void)auth_penalty_fail(p, "x", T0 + 599);
	assert_int_equal(auth_penalty_count(p), 21);
	(void)auth_penalty_fail(p, "x", T0 + 600);
	(void)auth_penalty_fail(p, "x", T0 + 600);
	(void)auth_penalty_fail(p, "x", T0 + 600);
	assert_int_equal(auth_penalty_count(p), 1);
	/* a banned entry stays for its ban, past its window */
	auth_penalty_free(&p);
	p = auth_penalty_new(1, 10, 900, 1);
	(void)auth_penalty_fail(p, "banned", T0);
	(void)auth_penalty_fail(p, "other", T0 + 100);
	assert_int_equal(auth_penalty_count(p), 2);
	assert_true(auth_penalty_banned(p, "banned", T0 + 100));
	assert_false(auth_penalty_banned(p, "banned", T0 + 900));
	assert_int_equal(auth_penalty_count(p), 1); /* dropped when asked */
	auth_penalty_free(&p);
}

/* max-1, max and max+1 tracked addresses: past the cap, the address that
 * failed longest ago is forgotten. */
static void
test_auth_penalty_address_cap(void **state)
{
	static const struct {
		size_t others;
		size_t count;
		bool first_banned;
	} rows[] = {
		{ AUTH_PENALTY_MAX_ADDRS - 2, AUTH_PENALTY_MAX_ADDRS - 1,
		    true },
		{ AUTH_PENALTY_MAX_ADDRS - 1, AUTH_PENALTY_MAX_ADDRS, true },
		{ AUTH_PENALTY_MAX_ADDRS, AUTH_PENALTY_MAX_ADDRS, false },
	};
	struct auth_penalty *p;
	char addr[32];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		p = auth_penalty_new(1, 3600, 3600, 1);
		(void)auth_penalty_fail(p, "first", T0);
		for (k = 0; k < rows[i].others; k++) {
			(void)snprintf(addr, sizeof(addr), "2001:db8::%zx", k);
			(void)auth_penalty_fail(p, addr, T0 + 1);
		}
		assert_int_equal(auth_penalty_count(p), rows[i].count);
		assert_int_equal(auth_penalty_banned(p, "first", T0 + 2),
		    rows[i].first_banned);
		assert_true(auth_penalty_banned(p, "2001:db8::1", T0 + 2));
		auth_penalty_free(&p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_penalty_delay_doubles_then_caps),
		cmocka_unit_test(test_auth_penalty_zero_base_means_no_delay),
		cmocka_unit_test(test_auth_penalty_ban_at_limit),
		cmocka_unit_test(test_auth_penalty_ban_length),
		cmocka_unit_test(test_auth_penalty_window),
		cmocka_unit_test(test_auth_penalty_no_ban_when_zero),
		cmocka_unit_test(test_auth_penalty_success_clears),
		cmocka_unit_test(test_auth_penalty_clock_going_back),
		cmocka_unit_test(test_auth_penalty_expiry),
		cmocka_unit_test(test_auth_penalty_address_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
