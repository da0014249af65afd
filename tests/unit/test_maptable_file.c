/* Unit tests of lookup tables on files (src/policy/maptable.c,
 * maptable_hash.c): compiling hash: tables, choosing PATH.db or PATH,
 * reloading changed files, broken files, and lookups from many threads. */
#include <fcntl.h>
#include <pthread.h>
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
#include <time.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "policy/maptable.h"

#define TABLE_FILE_TEST_NAME "test_maptable"
#define TABLE_FILE_TEST_FILE "access"
#include "table_file_test.h"

/* The value of key, "-" when not found, "!" and the error on failure. */
static char *
lookup(struct fixture *f, struct maptable *m, const char *key)
{
	int rc = maptable_lookup(m, key, &f->value, &f->err);

	if (rc == 0)
		return xstrdup(buf_cstr(&f->value));
	if (rc == 1)
		return xstrdup("-");
	return xasprintf("! %s", buf_cstr(&f->err));
}

static void
assert_lookup(
    struct fixture *f, struct maptable *m, const char *key, const char *want)
{
	char *got = lookup(f, m, key);

	if (strcmp(got, want) != 0)
		fail_msg("lookup %s: got \"%s\", want \"%s\"", key, got, want);
	free(got);
}

/* Polls until key has the value want (or one that starts with it, when
 * prefix): a reload is noticed within about a second. Fails after 10 s. */
static void
await_lookup(struct fixture *f, struct maptable *m, const char *key,
    const char *want, bool prefix)
{
	struct timespec start, now, nap = { 0, 20 * 1000 * 1000 };
	char *got;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &start), 0);
	for (;;) {
		got = lookup(f, m, key);
		if (prefix ? strncmp(got, want, strlen(want)) == 0
		           : strcmp(got, want) == 0)
			break;
		assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &now), 0);
		if (now.tv_sec - start.tv_sec > 10)
			fail_msg("lookup %s: still \"%s\", want \"%s\"", key,
			    got, want);
		free(got);
		(void)nanosleep(&nap, NULL);
	}
	free(got);
}

static struct maptable *
open_ok(struct fixture *f, const char *spec)
{
	struct maptable *m = maptable_open(spec, &f->err);

	if (m == NULL)
		fail_msg("open %s: %s", spec, buf_cstr(&f->err));
	return m;
}

static void
test_maptable_compile_and_read_db(void **state)
{
	struct fixture *f = *state;
	struct maptable *m;
	struct stat sb;
	size_t count = 0;
	char *tmp;

	write_file(f->path, "Spam@Example.org REJECT no\nexample.net OK\n");
	assert_int_equal(chmod(f->path, 0640), 0);
	assert_int_equal(maptable_compile(f->path, &count, NULL, &f->err), 0);
	assert_int_equal(count, 2);
	assert_int_equal(stat(f->db_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640); /* as its text file */
	tmp = xasprintf("%s.tmp.%ld", f->db_path, (long)getpid());
	assert_false(fs_exists(tmp));
	free(tmp);
	/* the text changes but is older: the .db answers */
	write_file(f->path, "spam@example.org TEXT\n");
	set_mtime(f->path, -100);
	m = open_ok(f, f->path);
	assert_int_equal(maptable_type(m), MAPTABLE_HASH);
	tmp = xasprintf("hash:%s", f->path);
	assert_string_equal(maptable_spec(m), tmp);
	free(tmp);
	assert_true(maptable_is_fixed(m));
	assert_lookup(f, m, "SPAM@example.ORG", "REJECT no");
	assert_lookup(f, m, "example.net", "OK");
	assert_lookup(f, m, "example.com", "-");
	maptable_free(&m);
	assert_null(m);
	/* the text is newer: it is read instead (with a warning) */
	set_mtime(f->path, 100);
	m = open_ok(f, f->path);
	assert_lookup(f, m, "spam@example.org", "TEXT");
	assert_lookup(f, m, "example.net", "-");
	maptable_free(&m);
}

static void
test_maptable_spec_names_type(void **state)
{
	struct fixture *f = *state;
	struct maptable *m;
	char *spec = xasprintf("TEXTHASH:%s", f->path);
	char *want = xasprintf("texthash:%s", f->path);

	write_file(f->path, "k v\n");
	m = open_ok(f, spec);
	assert_string_equal(maptable_spec(m), want);
	assert_int_equal(maptable_type(m), MAPTABLE_TEXTHASH);
	assert_lookup(f, m, "K", "v");
	maptable_free(&m);
	free(spec);
	free(want);
}

static void
test_maptable_missing_db_reads_text(void **state)
{
	struct fixture *f = *state;
	struct maptable *m;
	char *spec = xasprintf("hash:%s", f->path);

	write_file(f->path, "k v\n");
	m = open_ok(f, spec);
	assert_lookup(f, m, "k", "v");
	maptable_free(&m);
	free(spec);
}

static void
test_maptable_db_without_text(void **state)
{
	struct fixture *f = *state;
	struct maptable *m;
	size_t count;

	write_file(f->path, "k v\n");
	assert_int_equal(maptable_compile(f->path, &count, NULL, &f->err), 0);
	assert_int_equal(unlink(f->path), 0);
	m = open_ok(f, f->path);
	assert_lookup(f, m, "k", "v");
	maptable_free(&m);
}

static void
test_maptable_open_errors(void **state)
{
	struct fixture *f = *state;
	static const char *const types[] = { "hash", "texthash", "cidr",
		"regexp", "pcre" };
	char *spec, *want;
	size_t i;

	for (i = 0; i < MW_NELEM(types); i++) {
		spec = xasprintf("%s:%s", types[i], f->path);
		assert_null(maptable_open(spec, &f->err));
		want = xasprintf(
		    "cannot read %s: No such file or directory", f->path);
		assert_string_equal(buf_cstr(&f->err), want);
		free(want);
		free(spec);
	}
	write_file(f->path, "1.2.3.4/8 REJECT\n");
	spec = xasprintf("cidr:%s", f->path);
	assert_null(maptable_open(spec, &f->err));
	want = xasprintf("%s:1: \"1.2.3.4/8\" has host bits set: perhaps you "
	                 "mean \"1.0.0.0/8\"",
	    f->path);
	assert_string_equal(buf_cstr(&f->err), want);
	free(want);
	free(spec);
	assert_null(maptable_open("btree:/etc/x", &f->err));
	assert_non_null(strstr(buf_cstr(&f->err), "unsupported table type"));
}

/* A PATH.db that mailwright map did not write is refused. */
static void
test_maptable_foreign_db(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;

	write_file(f->path, "k v\n");
	set_mtime(f->path, -100);
	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                     "CREATE TABLE aliases (name TEXT, targets "
	                     "TEXT); PRAGMA user_version = 1;",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_null(maptable_open(f->path, &f->err));
	assert_non_null(strstr(
	    buf_cstr(&f->err), "is not a table that mailwright map wrote"));
}

static void
test_maptable_compile_keeps_db_on_error(void **state)
{
	struct fixture *f = *state;
	struct maptable *m;
	size_t count;
	char *want;

	write_file(f->path, "k old\n");
	assert_int_equal(maptable_compile(f->path, &count, NULL, &f->err), 0);
	write_file(f->path, "k new\nbroken\n");
	assert_int_equal(maptable_compile(f->path, &count, NULL, &f->err), -1);
	want =
	    xasprintf("%s:2: expected format: key whitespace value", f->path);
	assert_string_equal(buf_cstr(&f->err), want);
	free(want);
	set_mtime(f->path, -100);
	m = open_ok(f, f->path);
	assert_lookup(f, m, "k", "old");
	maptable_free(&m);
}

static void
test_maptable_compile_other_types_checks_only(void **state)
{
	struct fixture *f = *state;
	struct buf warn;
	size_t count = 0;
	char *spec;

	buf_init(&warn, 4096);
	write_file(f->path, "/a/ A\nif /b/\n/c/ C\nendif\n");
	spec = xasprintf("regexp:%s", f->path);
	assert_int_equal(maptable_compile(spec, &count, &warn, &f->err), 0);
	assert_int_equal(count, 2);
	assert_false(fs_exists(f->db_path));
	free(spec);
	write_file(f->path, "a 1\nA 2\n");
	spec = xasprintf("texthash:%s", f->path);
	assert_int_equal(maptable_compile(spec, &count, &warn, &f->err), 0);
	assert_int_equal(count, 1);
	assert_non_null(strstr(buf_cstr(&warn), ":2: duplicate entry \"a\""));
	assert_false(fs_exists(f->db_path));
	free(spec);
	buf_free(&warn);
}

static void
test_maptable_reloads_changed_file(void **state)
{
	struct fixture *f = *state;
	static const char *const types[] = { "texthash", "hash" };
	struct maptable *m;
	size_t i, count;
	char *spec;

	for (i = 0; i < MW_NELEM(types); i++) {
		(void)unlink(f->db_path);
		write_file(f->path, "k one\n");
		spec = xasprintf("%s:%s", types[i], f->path);
		m = open_ok(f, spec);
		assert_lookup(f, m, "k", "one");
		write_file(f->path, "k two, longer\n");
		if (i == 1)
			assert_int_equal(
			    maptable_compile(f->path, &count, NULL, &f->err),
			    0);
		await_lookup(f, m, "k", "two, longer", false);
		/* a syntax error makes lookups fail, not answer "not found" */
		write_file(f->path, "k three\nbroken\n");
		set_mtime(f->path, 100);
		await_lookup(f, m, "k", "! table ", true);
		free(spec);
		spec = lookup(f, m, "k");
		assert_non_null(strstr(spec, ":2: expected format"));
		free(spec);
		/* fixed: lookups work again */
		write_file(f->path, "k four\n");
		set_mtime(f->path, 200);
		await_lookup(f, m, "k", "four", false);
		/* removed: lookups fail */
		assert_int_equal(unlink(f->path), 0);
		(void)unlink(f->db_path);
		spec = xasprintf("! table %s:%s: cannot read %s: No such file "
		                 "or directory",
		    types[i], f->path, f->path);
		await_lookup(f, m, "k", spec, false);
		free(spec);
		maptable_free(&m);
	}
}

struct thread_job {
	struct maptable *m;
	const char *key;
	const char *want[2]; /* either answer is right */
	bool seen[2];
	int failures;
};

static void *
thread_run(void *arg)
{
	struct thread_job *j = arg;
	struct timespec start, now;
	struct buf value, err;
	int i, k;

	buf_init(&value, 4096);
	buf_init(&err, 4096);
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &start), 0);
	for (i = 0; !(j->seen[0] && j->seen[1]); i++) {
		if (j->want[1] == NULL && i >= 20000)
			break;
		assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &now), 0);
		if (now.tv_sec - start.tv_sec > 20)
			break; /* the test fails: a version was never seen */
		if (maptable_lookup(j->m, j->key, &value, &err) != 0) {
			j->failures++;
			continue;
		}
		for (k = 0; k < 2; k++)
			if (j->want[k] != NULL &&
			    strcmp(buf_cstr(&value), j->want[k]) == 0)
				break;
		if (k == 2)
			j->failures++;
		else
			j->seen[k] = true;
	}
	buf_free(&value);
	buf_free(&err);
	return NULL;
}

/* Many threads look up one table while the file changes under them: every
 * answer is one of the two versions, and both are seen. */
static void
test_maptable_threads(void **state)
{
	struct fixture *f = *state;
	struct thread_job jobs[6];
	pthread_t th[6];
	struct maptable *m, *re;
	char *spec, *re_path = xasprintf("%s/re", f->dir);
	bool done;
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	size_t i, n = 0;

	write_file(f->path, "k v1\n");
	spec = xasprintf("texthash:%s", f->path);
	m = open_ok(f, spec);
	write_file(re_path, "/^(.*)@(.*)$/ $2 $1\n");
	free(spec);
	spec = xasprintf("pcre:%s", re_path);
	re = open_ok(f, spec);
	free(spec);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < 6; i++) {
		if (i % 2 == 0) {
			jobs[i].m = m;
			jobs[i].key = "K";
			jobs[i].want[0] = "v1";
			jobs[i].want[1] = "v2, the second";
		} else {
			jobs[i].m = re;
			jobs[i].key = "bob@example.org";
			jobs[i].want[0] = "example.org bob";
		}
		assert_int_equal(
		    pthread_create(&th[i], NULL, thread_run, &jobs[i]), 0);
	}
	/* rewrite until the first text thread saw both versions */
	do {
		write_file(f->path, n++ % 2 ? "k v1\n" : "k v2, the second\n");
		(void)nanosleep(&nap, NULL);
		done = true;
		for (i = 0; i < 6; i += 2)
			done = done && jobs[i].seen[0] && jobs[i].seen[1];
	} while (!done && n < 400);
	for (i = 0; i < 6; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(jobs[i].failures, 0);
	}
	for (i = 0; i < 6; i += 2)
		assert_true(jobs[i].seen[0] && jobs[i].seen[1]);
	maptable_free(&m);
	maptable_free(&re);
	free(re_path);
}

int
main(void)
{
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_maptable_compile_and_read_db),
		T(test_maptable_spec_names_type),
		T(test_maptable_missing_db_reads_text),
		T(test_maptable_db_without_text),
		T(test_maptable_open_errors),
		T(test_maptable_foreign_db),
		T(test_maptable_compile_keeps_db_on_error),
		T(test_maptable_compile_other_types_checks_only),
		T(test_maptable_reloads_changed_file),
		T(test_maptable_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
