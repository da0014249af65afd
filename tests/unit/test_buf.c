/* Unit tests for src/lib/buf.c: growth, the ceiling, printf, consume. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"

static void
test_buf_append_grows_and_terminates(void **state)
{
	struct buf b;
	int i;

	(void)state;
	buf_init(&b, 100000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(b.len, 3000);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data + 2997, "abc", 3);
	buf_free(&b);
	assert_null(b.data);
}

static void
test_buf_ceiling_at_max_minus_one_max_and_plus_one(void **state)
{
	static const struct {
		const char *label;
		size_t n;
		int ret;
	} rows[] = {
		{ "max-1", 9, 0 },
		{ "max", 10, 0 },
		{ "max+1", 11, -1 },
	};
	char src[16];
	size_t i;

	(void)state;
	memset(src, 'x', sizeof(src));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf b;

		buf_init(&b, 10);
		errno = 0;
		assert_int_equal(buf_append(&b, src, rows[i].n), rows[i].ret);
		if (rows[i].ret == -1) {
			assert_int_equal(errno, ENOBUFS);
			assert_int_equal(b.len, 0);
		} else
			assert_int_equal(b.len, rows[i].n);
		buf_free(&b);
	}
}

static void
test_buf_printf_respects_ceiling(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_printf(&b, "%d-%s", 12, "ab"), 0);
	assert_string_equal(buf_cstr(&b), "12-ab");
	assert_int_equal(buf_printf(&b, "%s", "long!"), -1);
	assert_string_equal(buf_cstr(&b), "12-ab");
	buf_free(&b);
}

static void
test_buf_consume_truncate_and_nul_bytes(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(buf_append(&b, "a\0b\0c", 5), 0);
	assert_int_equal(b.len, 5);
	buf_consume(&b, 2);
	assert_memory_equal(b.data, "b\0c", 3);
	buf_truncate(&b, 1);
	assert_string_equal(buf_cstr(&b), "b");
	buf_consume(&b, 10);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_buf_wipe_zeroes_contents(void **state)
{
	struct buf b;
	char *p;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(buf_append_str(&b, "secret"), 0);
	p = b.data;
	buf_wipe(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(p[0], 0);
	assert_int_equal(p[5], 0);
	buf_free(&b);
}

static void
test_buf_reserve_makes_room_only(void **state)
{
	struct buf b;
	char *p;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_reserve(&b, 90), 0);
	assert_int_equal(b.len, 0);
	assert_true(b.cap >= 91);
	p = b.data;
	assert_int_equal(buf_append(&b, "0123456789", 10), 0);
	assert_ptr_equal(b.data, p); /* no growth within the room */
	assert_int_equal(buf_reserve(&b, 91), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_reserve(&b, 90), 0);
	buf_free(&b);
}

static void
test_buf_steal_detaches(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b, 64);
	s = buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(buf_append_str(&b, "x"), 0);
	s = buf_steal(&b);
	assert_string_equal(s, "x");
	assert_null(b.data);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append_grows_and_terminates),
		cmocka_unit_test(test_buf_ceiling_at_max_minus_one_max_and_plus_one),
		cmocka_unit_test(test_buf_printf_respects_ceiling),
		cmocka_unit_test(test_buf_consume_truncate_and_nul_bytes),
		cmocka_unit_test(test_buf_wipe_zeroes_contents),
		cmocka_unit_test(test_buf_reserve_makes_room_only),
		cmocka_unit_test(test_buf_steal_detaches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
