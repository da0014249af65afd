/* Unit tests of src/delivery/aliases_db.c: newaliases' compiler and the
 * reader's choice between PATH.db and PATH. */
#include <fcntl.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "delivery/aliases_db.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#define TABLE_FILE_TEST_NAME "test_aliases_db"
#define TABLE_FILE_TEST_FILE "aliases"
#include "table_file_test.h"

/* The targets of name joined with "|", "-" when absent, "!" on error. */
static char *
lookup(struct aliases_db *db, const char *name, struct buf *err)
{
	char **t = NULL;
	size_t n = 0, i;
	struct buf b;
	int rc;

	buf_init(&b, 4096);
	rc = aliases_db_lookup(db, name, &t, &n, err);
	if (rc == 1)
		assert_int_equal(buf_append_str(&b, "-"), 0);
	else if (rc == -1)
		assert_int_equal(buf_append_str(&b, "!"), 0);
	for (i = 0; rc == 0 && i < n; i++)
		assert_int_equal(buf_printf(&b, "%s%s", i ? "|" : "", t[i]), 0);
	aliases_db_targets_free(t, n);
	return buf_steal(&b);
}

static void
assert_lookup(
    struct aliases_db *db, const char *name, const char *want, struct buf *err)
{
	char *got = lookup(db, name, err);

	if (strcmp(got, want) != 0)
		fail_msg("lookup %s: got %s, want %s (%s)", name, got, want,
		    buf_cstr(err));
	free(got);
}

static void
test_aliases_db_map_path(void **state)
{
	struct fixture *f = *state;
	char *p;

	p = aliases_db_map_path("hash:/etc/aliases", &f->err);
	assert_string_equal(p, "/etc/aliases");
	free(p);
	p = aliases_db_map_path("HASH:/etc/aliases", &f->err);
	assert_string_equal(p, "/etc/aliases");
	free(p);
	p = aliases_db_map_path("/etc/aliases", &f->err);
	assert_string_equal(p, "/etc/aliases");
	free(p);
	p = aliases_db_map_path("relative/aliases", &f->err);
	assert_string_equal(p, "relative/aliases");
	free(p);
	assert_null(aliases_db_map_path("lmdb:/etc/aliases", &f->err));
	assert_non_null(strstr(buf_cstr(&f->err), "only hash:PATH"));
	assert_null(aliases_db_map_path("hash:", &f->err));
}

static void
test_aliases_db_compile_and_read(void **state)
{
	struct fixture *f = *state;
	struct aliases_db *db;
	struct stat sb;
	size_t count = 0;

	write_file(f->path,
	    "root: bob, \"x, y\"@remote.example\n"
	    "Staff: a,\n  b\n");
	assert_int_equal(aliases_db_compile(f->path, &count, &f->err), 0);
	assert_int_equal(count, 2);
	assert_int_equal(stat(f->db_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	/* no temporary file is left behind */
	{
		char *tmp = xasprintf("%s.tmp.%ld", f->db_path, (long)getpid());
		assert_false(fs_exists(tmp));
		free(tmp);
	}
	db = aliases_db_open(f->path);
	assert_lookup(db, "ROOT", "bob|\"x, y\"@remote.example", &f->err);
	assert_lookup(db, "staff", "a|b", &f->err);
	assert_lookup(db, "nobody", "-", &f->err);
	aliases_db_free(&db);
	assert_null(db);
}

static void
test_aliases_db_reads_db_when_not_older(void **state)
{
	struct fixture *f = *state;
	struct aliases_db *db;
	size_t count;

	write_file(f->path, "root: compiled\n");
	assert_int_equal(aliases_db_compile(f->path, &count, &f->err), 0);
	/* the text changes but is older than the .db: the .db is used */
	write_file(f->path, "root: text\n");
	set_mtime(f->path, -100);
	db = aliases_db_open(f->path);
	assert_lookup(db, "root", "compiled", &f->err);
	aliases_db_free(&db);
	/* the text is newer: the reader warns and parses the text */
	set_mtime(f->path, 100);
	db = aliases_db_open(f->path);
	assert_lookup(db, "root", "text", &f->err);
	aliases_db_free(&db);
}

static void
test_aliases_db_missing_db_reads_text(void **state)
{
	struct fixture *f = *state;
	struct aliases_db *db;

	write_file(f->path, "root: bob\n");
	db = aliases_db_open(f->path);
	assert_lookup(db, "root", "bob", &f->err);
	aliases_db_free(&db);
}

static void
test_aliases_db_missing_text_is_empty(void **state)
{
	struct fixture *f = *state;
	struct aliases_db *db;
	size_t count = 7;

	assert_int_equal(aliases_db_compile(f->path, &count, &f->err), 1);
	assert_int_equal(count, 7);
	assert_false(fs_exists(f->db_path));
	db = aliases_db_open(f->path);
	assert_lookup(db, "root", "-", &f->err);
	aliases_db_free(&db);
}

static void
test_aliases_db_syntax_error_keeps_old_db(void **state)
{
	struct fixture *f = *state;
	struct aliases_db *db;
	size_t count;

	write_file(f->path, "root: good\n");
	assert_int_equal(aliases_db_compile(f->path, &count, &f->err), 0);
	write_file(f->path, "root: good\nlist: :include:/etc/list\n");
	assert_int_equal(aliases_db_compile(f->path, &count, &f->err), -1);
	assert_non_null(strstr(buf_cstr(&f->err), "/aliases:2: target"));
	/* the reader sees a newer, broken text: a temporary failure */
	set_mtime(f->path, 100);
	db = aliases_db_open(f->path);
	assert_lookup(db, "root", "!", &f->err);
	assert_non_null(strstr(buf_cstr(&f->err), ":include:"));
	aliases_db_free(&db);
	/* with the text older again, the old .db still serves */
	set_mtime(f->path, -100);
	db = aliases_db_open(f->path);
	assert_lookup(db, "root", "good", &f->err);
	aliases_db_free(&db);
}

static void
test_aliases_db_unknown_format_is_error(void **state)
{
	struct fixture *f = *state;
	struct aliases_db *db;
	sqlite3 *s;

	write_file(f->path, "root: bob\n");
	set_mtime(f->path, -100);
	assert_int_equal(sqlite3_open(f->db_path, &s), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(s, "PRAGMA user_version = 9", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(s);
	db = aliases_db_open(f->path);
	assert_lookup(db, "root", "!", &f->err);
	assert_non_null(strstr(buf_cstr(&f->err), "newaliases"));
	aliases_db_free(&db);
}

static void
test_aliases_db_empty_file(void **state)
{
	struct fixture *f = *state;
	struct aliases_db *db;
	size_t count = 7;

	write_file(f->path, "");
	assert_int_equal(aliases_db_compile(f->path, &count, &f->err), 0);
	assert_int_equal(count, 0);
	db = aliases_db_open(f->path);
	assert_lookup(db, "root", "-", &f->err);
	aliases_db_free(&db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
		T(test_aliases_db_map_path),
		T(test_aliases_db_compile_and_read),
		T(test_aliases_db_reads_db_when_not_older),
		T(test_aliases_db_missing_db_reads_text),
		T(test_aliases_db_missing_text_is_empty),
		T(test_aliases_db_syntax_error_keeps_old_db),
		T(test_aliases_db_unknown_format_is_error),
		T(test_aliases_db_empty_file),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
