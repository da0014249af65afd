/* Unit tests of compiled key-value files (src/lib/kvdb.c): writing them
 * atomically, reading them back, telling other files apart, value limits,
 * and the stat comparisons that detect a new or stale file. */
#include <dirent.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/kvdb.h"
#include "lib/xalloc.h"

static const struct kvdb_format test_format = {
	.table = "map",
	.key_col = "key",
	.value_col = "value",
	.application_id = 1836541296,
	.version = 1,
	.without_rowid = true,
};

/* The layout of alias databases: no application_id, a rowid table. */
static const struct kvdb_format test_format_plain = {
	.table = "aliases",
	.key_col = "name",
	.value_col = "targets",
	.application_id = 0,
	.version = 1,
	.without_rowid = false,
};

static const struct kvdb_entry test_entries[] = {
	{ "alpha", "one" },
	{ "Beta", "two words" },
	{ "gamma", "" },
	{ "d\xc3\xa9lta", "\xc3\xa9t\xc3\xa9" },
};
#define TEST_NENTRIES (sizeof(test_entries) / sizeof(test_entries[0]))

struct fixture {
	char dir[64];
	char *db_path;
	struct buf err, value;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test_kvdb.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->db_path = xasprintf("%s/table.db", f->dir);
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
	free(f->db_path);
	buf_free(&f->err);
	buf_free(&f->value);
	free(f);
	return 0;
}

static struct kvdb *
open_ok(struct fixture *f, const struct kvdb_format *fmt)
{
	struct kvdb *k = NULL;
	long version = 0;

	assert_int_equal(kvdb_open(f->db_path, fmt, &k, &version, &f->err), 0);
	assert_non_null(k);
	assert_int_equal(version, fmt->version);
	return k;
}

/* Runs sql on the file at path (for crafting files). */
static void
exec_sql(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* The number of entries in dir (a leftover temporary file shows). */
static size_t
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	(void)closedir(d);
	return n;
}

static void
test_kvdb_write_then_lookup_finds_every_entry(void **state)
{
	struct fixture *f = *state;
	struct kvdb *k;
	size_t i;

	assert_int_equal(kvdb_write(f->db_path, &test_format, test_entries,
	                     TEST_NENTRIES, 0644, NULL, &f->err),
	    0);
	k = open_ok(f, &test_format);
	for (i = 0; i < TEST_NENTRIES; i++) {
		assert_int_equal(
		    kvdb_lookup(k, test_entries[i].key, &f->value, &f->err), 0);
		assert_string_equal(buf_cstr(&f->value), test_entries[i].value);
	}
	kvdb_free(&k);
	assert_null(k);
	kvdb_free(&k); /* NULL is accepted */
	assert_int_equal(count_files(f->dir), 1);
}

static void
test_kvdb_lookup_is_exact(void **state)
{
	struct fixture *f = *state;
	static const char *const missing[] = { "beta", "ALPHA", "alph",
		"alphaa", "", "gamma " };
	struct kvdb *k;
	size_t i;

	assert_int_equal(kvdb_write(f->db_path, &test_format, test_entries,
	                     TEST_NENTRIES, 0644, NULL, &f->err),
	    0);
	k = open_ok(f, &test_format);
	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		assert_int_equal(buf_printf(&f->value, "kept"), 0);
		assert_int_equal(
		    kvdb_lookup(k, missing[i], &f->value, &f->err), 1);
		buf_reset(&f->value);
	}
	kvdb_free(&k);
}

static void
test_kvdb_empty_table_finds_nothing(void **state)
{
	struct fixture *f = *state;
	struct kvdb *k;

	assert_int_equal(
	    kvdb_write(f->db_path, &test_format, NULL, 0, 0644, NULL, &f->err),
	    0);
	k = open_ok(f, &test_format);
	assert_int_equal(kvdb_lookup(k, "alpha", &f->value, &f->err), 1);
	kvdb_free(&k);
}

static void
test_kvdb_rewrite_replaces_the_table(void **state)
{
	struct fixture *f = *state;
	static const struct kvdb_entry second[] = { { "alpha", "new" } };
	struct kvdb *old, *k;

	assert_int_equal(kvdb_write(f->db_path, &test_format, test_entries,
	                     TEST_NENTRIES, 0644, NULL, &f->err),
	    0);
	old = open_ok(f, &test_format);
	assert_int_equal(kvdb_write(f->db_path, &test_format, second, 1, 0644,
	                     NULL, &f->err),
	    0);
	/* a reader that opened the old file keeps seeing it whole */
	assert_int_equal(kvdb_lookup(old, "Beta", &f->value, &f->err), 0);
	assert_string_equal(buf_cstr(&f->value), "two words");
	k = open_ok(f, &test_format);
	assert_int_equal(kvdb_lookup(k, "alpha", &f->value, &f->err), 0);
	assert_string_equal(buf_cstr(&f->value), "new");
	assert_int_equal(kvdb_lookup(k, "Beta", &f->value, &f->err), 1);
	kvdb_free(&k);
	kvdb_free(&old);
	assert_int_equal(count_files(f->dir), 1);
}

static void
test_kvdb_write_sets_mode_whatever_the_umask(void **state)
{
	struct fixture *f = *state;
	static const mode_t modes[] = { 0600, 0640, 0644, 0666 };
	struct stat sb;
	mode_t old;
	size_t i;

	old = umask(077);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(
		    kvdb_write(f->db_path, &test_format, test_entries,
		        TEST_NENTRIES, modes[i], NULL, &f->err),
		    0);
		assert_int_equal(stat(f->db_path, &sb), 0);
		assert_int_equal(sb.st_mode & 07777, modes[i]);
	}
	(void)umask(old);
}

static void
test_kvdb_write_failure_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	char *bad = xasprintf("%s/missing/table.db", f->dir);

	assert_int_equal(kvdb_write(bad, &test_format, test_entries,
	                     TEST_NENTRIES, 0644, NULL, &f->err),
	    -1);
	assert_non_null(strstr(buf_cstr(&f->err), "cannot create"));
	assert_int_equal(count_files(f->dir), 0);
	free(bad);
}

static void
test_kvdb_duplicate_key_fails_and_keeps_the_old_file(void **state)
{
	struct fixture *f = *state;
	static const struct kvdb_entry dup[] = { { "a", "1" }, { "a", "2" } };
	struct kvdb *k;

	assert_int_equal(kvdb_write(f->db_path, &test_format, test_entries,
	                     TEST_NENTRIES, 0644, NULL, &f->err),
	    0);
	assert_int_equal(
	    kvdb_write(f->db_path, &test_format, dup, 2, 0644, NULL, &f->err),
	    -1);
	assert_non_null(strstr(buf_cstr(&f->err), "cannot write"));
	assert_int_equal(count_files(f->dir), 1);
	k = open_ok(f, &test_format);
	assert_int_equal(kvdb_lookup(k, "alpha", &f->value, &f->err), 0);
	kvdb_free(&k);
}

static void
test_kvdb_layout_matches_the_format(void **state)
{
	struct fixture *f = *state;
	struct kvdb *k;

	assert_int_equal(kvdb_write(f->db_path, &test_format_plain,
	                     test_entries, TEST_NENTRIES, 0644, NULL, &f->err),
	    0);
	k = open_ok(f, &test_format_plain);
	assert_int_equal(kvdb_lookup(k, "alpha", &f->value, &f->err), 0);
	assert_string_equal(buf_cstr(&f->value), "one");
	kvdb_free(&k);
	/* the columns are the format's: this fails on another layout */
	exec_sql(f->db_path,
	    "INSERT INTO aliases (name, targets) VALUES ('x', 'y')");
	k = open_ok(f, &test_format_plain);
	assert_int_equal(kvdb_lookup(k, "x", &f->value, &f->err), 0);
	assert_string_equal(buf_cstr(&f->value), "y");
	kvdb_free(&k);
}

static void
test_kvdb_open_refuses_other_files(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const struct kvdb_format *written, *opened;
		long version;
	} cases[] = {
		/* no application_id where one is wanted */
		{ &test_format_plain, &test_format, 1 },
		/* another table layout with our ids is not ours either */
		{ NULL, &test_format, 1 },
	};
	static const struct kvdb_format v2 = { "map", "key", "value",
		1836541296, 2, true };
	struct kvdb *k;
	long version;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		(void)unlink(f->db_path);
		if (cases[i].written != NULL)
			assert_int_equal(
			    kvdb_write(f->db_path, cases[i].written,
			        test_entries, TEST_NENTRIES, 0644, NULL,
			        &f->err),
			    0);
		else
			exec_sql(f->db_path,
			    "PRAGMA application_id = 1836541296;"
			    "PRAGMA user_version = 1;"
			    "CREATE TABLE other (a TEXT);");
		k = (struct kvdb *)1;
		if (cases[i].written != NULL) {
			assert_int_equal(kvdb_open(f->db_path, cases[i].opened,
			                     &k, &version, &f->err),
			    1);
			assert_int_equal(version, cases[i].version);
		} else /* the SELECT does not compile */
			assert_int_equal(kvdb_open(f->db_path, cases[i].opened,
			                     &k, &version, &f->err),
			    -1);
		assert_null(k);
	}
	/* a newer version */
	(void)unlink(f->db_path);
	assert_int_equal(kvdb_write(f->db_path, &v2, test_entries,
	                     TEST_NENTRIES, 0644, NULL, &f->err),
	    0);
	assert_int_equal(
	    kvdb_open(f->db_path, &test_format, &k, &version, &f->err), 1);
	assert_int_equal(version, 2);
	assert_null(k);
	/* not an SQLite file at all */
	assert_int_equal(
	    fs_atomic_write(f->db_path, "alpha one\n", 10, 0644), 0);
	assert_int_equal(
	    kvdb_open(f->db_path, &test_format, &k, &version, &f->err), 1);
	assert_int_equal(version, -1);
	assert_null(k);
}

static void
test_kvdb_open_missing_file_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct kvdb *k;
	long version;

	assert_int_equal(
	    kvdb_open(f->db_path, &test_format, &k, &version, &f->err), -1);
	assert_null(k);
	assert_non_null(strstr(buf_cstr(&f->err), f->db_path));
	assert_int_equal(count_files(f->dir), 0);
}

static void
test_kvdb_value_limit_max_minus_one_max_max_plus_one(void **state)
{
	struct fixture *f = *state;
	static const size_t lens[] = { 99, 100, 101 };
	struct kvdb_entry e[3];
	struct buf small;
	struct kvdb *k;
	char *v[3];
	size_t i;

	for (i = 0; i < 3; i++) {
		v[i] = xcalloc(lens[i] + 1, 1);
		memset(v[i], 'v', lens[i]);
		e[i].key = i == 0 ? "a" : i == 1 ? "b" : "c";
		e[i].value = v[i];
	}
	assert_int_equal(
	    kvdb_write(f->db_path, &test_format, e, 3, 0644, NULL, &f->err), 0);
	k = open_ok(f, &test_format);
	buf_init(&small, 100);
	assert_int_equal(kvdb_lookup(k, "a", &small, &f->err), 0);
	assert_int_equal(small.len, 99);
	assert_int_equal(kvdb_lookup(k, "b", &small, &f->err), 0);
	assert_int_equal(small.len, 100);
	assert_int_equal(kvdb_lookup(k, "c", &small, &f->err), -1);
	assert_int_equal(small.len, 0);
	assert_non_null(strstr(buf_cstr(&f->err), "too long"));
	/* the reader still works after a failed lookup */
	assert_int_equal(kvdb_lookup(k, "a", &small, &f->err), 0);
	assert_int_equal(small.len, 99);
	buf_free(&small);
	kvdb_free(&k);
	for (i = 0; i < 3; i++)
		free(v[i]);
}

static struct stat
stat_at(dev_t dev, ino_t ino, off_t size, time_t sec, long nsec)
{
	struct stat sb;

	memset(&sb, 0, sizeof(sb));
	sb.st_dev = dev;
	sb.st_ino = ino;
	sb.st_size = size;
	sb.st_mtim.tv_sec = sec;
	sb.st_mtim.tv_nsec = nsec;
	return sb;
}

static void
test_kvdb_same_file_compares_identity_size_and_mtime(void **state)
{
	static const struct {
		dev_t dev;
		ino_t ino;
		off_t size;
		time_t sec;
		long nsec;
		bool same;
	} cases[] = {
		{ 1, 2, 3, 100, 500, true },
		{ 9, 2, 3, 100, 500, false },
		{ 1, 9, 3, 100, 500, false },
		{ 1, 2, 9, 100, 500, false },
		{ 1, 2, 3, 101, 500, false },
		{ 1, 2, 3, 100, 499, false },
		{ 1, 2, 3, 100, 501, false },
	};
	struct stat a = stat_at(1, 2, 3, 100, 500), b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = stat_at(cases[i].dev, cases[i].ino, cases[i].size,
		    cases[i].sec, cases[i].nsec);
		assert_int_equal(kvdb_same_file(&a, &b), cases[i].same);
		assert_int_equal(kvdb_same_file(&b, &a), cases[i].same);
	}
}

static void
test_kvdb_is_current_compares_mtimes(void **state)
{
	static const struct {
		time_t db_sec;
		long db_nsec;
		bool current;
	} cases[] = {
		{ 100, 499, false }, /* one ns older */
		{ 100, 500, true },  /* same time */
		{ 100, 501, true },  /* one ns newer */
		{ 99, 999999999, false },
		{ 101, 0, true },
	};
	struct stat text = stat_at(1, 1, 10, 100, 500), db;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		db = stat_at(1, 2, 10, cases[i].db_sec, cases[i].db_nsec);
		assert_int_equal(kvdb_is_current(&db, &text), cases[i].current);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_kvdb_write_then_lookup_finds_every_entry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_kvdb_lookup_is_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kvdb_empty_table_finds_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kvdb_rewrite_replaces_the_table, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kvdb_write_sets_mode_whatever_the_umask, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_kvdb_write_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kvdb_duplicate_key_fails_and_keeps_the_old_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_kvdb_layout_matches_the_format, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kvdb_open_refuses_other_files, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kvdb_open_missing_file_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kvdb_value_limit_max_minus_one_max_max_plus_one, setup,
		    teardown),
		cmocka_unit_test(
		    test_kvdb_same_file_compares_identity_size_and_mtime),
		cmocka_unit_test(test_kvdb_is_current_compares_mtimes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
