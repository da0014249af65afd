/*
 * What test_aliases_db.c and test_maptable_file.c share: a temporary
 * directory holding one source file and its compiled .db, and helpers to
 * write a file and move its mtime. Define TABLE_FILE_TEST_NAME (the
 * directory's prefix) and TABLE_FILE_TEST_FILE (the source file's name)
 * before including; included once per test executable (static functions).
 */
#ifndef TESTS_UNIT_TABLE_FILE_TEST_H
#define TESTS_UNIT_TABLE_FILE_TEST_H

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

struct fixture {
	char dir[64];
	char *path, *db_path;
	struct buf err, value;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir),
	    "/tmp/" TABLE_FILE_TEST_NAME ".XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->path = xasprintf("%s/" TABLE_FILE_TEST_FILE, f->dir);
	f->db_path = xasprintf("%s/" TABLE_FILE_TEST_FILE ".db", f->dir);
	buf_init(&f->err, 4096);
	buf_init(&f->value, 4096);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	(void)fs_rm_rf(f->dir);
	free(f->path);
	free(f->db_path);
	buf_free(&f->err);
	buf_free(&f->value);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	assert_int_equal(fs_atomic_write(path, text, strlen(text), 0644), 0);
}

/* Sets path's mtime to now + delta seconds. */
static void
set_mtime(const char *path, long delta)
{
	struct timespec ts[2];

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts[0]), 0);
	ts[0].tv_sec += delta;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

#endif
