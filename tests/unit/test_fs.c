/* Unit tests for src/lib/fs.c: atomic writes, mkdir -p, components. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

static void
test_fs_atomic_write_replaces_and_reads_back(void **state)
{
	char dir[] = "/tmp/mw-test-fs-XXXXXX";
	struct buf b;
	struct stat st;
	char *path;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/f", dir);
	assert_int_equal(fs_atomic_write(path, "one", 3, 0640), 0);
	assert_int_equal(fs_atomic_write(path, "two!", 4, 0640), 0);
	buf_init(&b, 100);
	assert_int_equal(fs_read_file(path, &b), 0);
	assert_string_equal(buf_cstr(&b), "two!");
	assert_int_equal(stat(path, &st), 0);
	{
		mode_t um = umask(0);

		(void)umask(um);
		assert_int_equal(st.st_mode & 0777, 0640 & ~um);
	}
	buf_free(&b);
	/* a file larger than the buffer's ceiling is refused */
	buf_init(&b, 2);
	assert_int_equal(fs_read_file(path, &b), -1);
	buf_free(&b);
	free(path);
	assert_int_equal(fs_rm_rf(dir), 0);
	assert_false(fs_exists(dir));
}

static void
test_fs_mkdir_p_creates_parents(void **state)
{
	char dir[] = "/tmp/mw-test-fs-XXXXXX";
	char *deep;

	(void)state;
	assert_non_null(mkdtemp(dir));
	deep = xasprintf("%s/a/b/c", dir);
	assert_int_equal(fs_mkdir_p(deep, 0700), 0);
	assert_true(fs_exists(deep));
	assert_int_equal(fs_mkdir_p(deep, 0700), 0); /* exists: fine */
	assert_int_equal(fsync_dir(deep), 0);
	free(deep);
	assert_int_equal(fs_rm_rf(dir), 0);
}

static void
test_fs_component_ok_table(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} rows[] = {
		{ "user1", true },  { "example.test", true }, { "", false },
		{ ".", false },     { "..", false },          { ".hidden", false },
		{ "a/b", false },   { "a\nb", false },        { "a\x7f", false },
	};
	char longname[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_true(fs_component_ok(rows[i].s) == rows[i].ok);
	memset(longname, 'a', sizeof(longname));
	longname[255] = '\0'; /* 255: max */
	assert_true(fs_component_ok(longname));
	longname[255] = 'a';
	longname[256] = '\0'; /* 256: max+1 */
	assert_false(fs_component_ok(longname));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fs_atomic_write_replaces_and_reads_back),
		cmocka_unit_test(test_fs_mkdir_p_creates_parents),
		cmocka_unit_test(test_fs_component_ok_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
