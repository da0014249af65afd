/* Unit tests of src/auth/accounts.c on real SQLite files in a temporary
 * directory: schema, pragmas, validation, each operation and its errors. */
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "auth/accounts.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#define HASH "{PLAIN}secret"

struct fixture {
	char dir[64];
	char *path;
	struct accounts *a;
	struct buf err, out;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test_accounts.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xasprintf("%s/accounts.db", f->dir);
	buf_init(&f->err, 4096);
	buf_init(&f->out, 1 << 20);
	f->a = accounts_open(f->path, true, &f->err);
	if (f->a == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	accounts_close(&f->a);
	(void)fs_rm_rf(f->dir);
	buf_free(&f->err);
	buf_free(&f->out);
	free(f->path);
	free(f);
	return 0;
}

/* One integer or text pragma value read through a separate connection. */
static char *
pragma_text(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *ret = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		ret = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

static void
test_accounts_open_creates_private_wal_file(void **state)
{
	struct fixture *f = *state;
	struct stat sb;
	char *v;

	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	v = pragma_text(f->path, "PRAGMA journal_mode");
	assert_string_equal(v, "wal");
	free(v);
	v = pragma_text(f->path, "PRAGMA user_version");
	assert_string_equal(v, "1");
	free(v);
}

static void
test_accounts_open_missing_without_create_fails(void **state)
{
	struct fixture *f = *state;
	struct accounts *b;
	char *p = xasprintf("%s/none.db", f->dir);

	b = accounts_open(p, false, &f->err);
	assert_null(b);
	assert_non_null(strstr(buf_cstr(&f->err), "does not exist"));
	assert_false(fs_exists(p));
	free(p);
}

static void
test_accounts_open_newer_schema_fails(void **state)
{
	struct fixture *f = *state;
	struct accounts *b;
	sqlite3 *db;
	char *p = xasprintf("%s/new.db", f->dir);

	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	b = accounts_open(p, false, &f->err);
	assert_null(b);
	assert_non_null(strstr(buf_cstr(&f->err), "schema version 7"));
	free(p);
}

static void
test_accounts_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    accounts_domain_add(f->a, "example.org", &f->err), ACCOUNTS_OK);
	assert_int_equal(
	    accounts_user_add(f->a, "bob@example.org", HASH, &f->err),
	    ACCOUNTS_OK);
	accounts_close(&f->a);
	assert_null(f->a);
	f->a = accounts_open(f->path, false, &f->err);
	assert_non_null(f->a);
	assert_int_equal(
	    accounts_user_get(f->a, "bob@example.org", &f->out, &f->err),
	    ACCOUNTS_OK);
	assert_string_equal(buf_cstr(&f->out), HASH);
}

static void
test_accounts_domain_add_list_del(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    accounts_domain_add(f->a, "Example.ORG", &f->err), ACCOUNTS_OK);
	assert_int_equal(
	    accounts_domain_add(f->a, "b.test", &f->err), ACCOUNTS_OK);
	assert_int_equal(
	    accounts_domain_add(f->a, "example.org", &f->err), ACCOUNTS_EXISTS);
	assert_non_null(strstr(buf_cstr(&f->err), "already exists"));
	assert_int_equal(
	    accounts_domain_exists(f->a, "EXAMPLE.org", &f->err), ACCOUNTS_OK);
	assert_int_equal(accounts_domain_exists(f->a, "other.org", &f->err),
	    ACCOUNTS_NOTFOUND);
	assert_int_equal(
	    accounts_domain_list(f->a, &f->out, &f->err), ACCOUNTS_OK);
	assert_string_equal(buf_cstr(&f->out), "b.test\nexample.org\n");
	assert_int_equal(
	    accounts_domain_del(f->a, "B.TEST", &f->err), ACCOUNTS_OK);
	assert_int_equal(
	    accounts_domain_del(f->a, "b.test", &f->err), ACCOUNTS_NOTFOUND);
	assert_non_null(strstr(buf_cstr(&f->err), "does not exist"));
	buf_reset(&f->out);
	assert_int_equal(
	    accounts_domain_list(f->a, &f->out, &f->err), ACCOUNTS_OK);
	assert_string_equal(buf_cstr(&f->out), "example.org\n");
}

struct name_case {
	const char *label;
	const char *name;
	int want;
};

// clang-format off
static const struct name_case domain_cases[] = {
	{ "simple",        "example.org", ACCOUNTS_OK },
	{ "single label",  "localhost", ACCOUNTS_OK },
	{ "hyphen",        "my-host.example", ACCOUNTS_OK },
	{ "label 62",      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", ACCOUNTS_OK },
	{ "label 63",      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", ACCOUNTS_OK },
	{ "label 64",      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", ACCOUNTS_ERROR },
	{ "empty",         "", ACCOUNTS_ERROR },
	{ "leading dot",   ".example.org", ACCOUNTS_ERROR },
	{ "trailing dot",  "example.org.", ACCOUNTS_ERROR },
	{ "double dot",    "example..org", ACCOUNTS_ERROR },
	{ "leading hyph",  "-x.org", ACCOUNTS_ERROR },
	{ "slash",         "a/b.org", ACCOUNTS_ERROR },
	{ "dotdot",        "..", ACCOUNTS_ERROR },
	{ "underscore",    "a_b.org", ACCOUNTS_ERROR },
	{ "space",         "a b.org", ACCOUNTS_ERROR },
	{ "literal",       "[192.0.2.1]", ACCOUNTS_ERROR },
	{ "utf8",          "b\xc3\xbc" "cher.example", ACCOUNTS_ERROR },
	{ "at",            "a@b.org", ACCOUNTS_ERROR },
};
// clang-format on

static void
test_accounts_domain_validation_table(void **state)
{
	struct fixture *f = *state;
	size_t i;
	int got;

	for (i = 0; i < sizeof(domain_cases) / sizeof(domain_cases[0]); i++) {
		got = accounts_domain_add(f->a, domain_cases[i].name, &f->err);
		if (got != domain_cases[i].want)
			fail_msg("%s: got %d, want %d (%s)",
			    domain_cases[i].label, got, domain_cases[i].want,
			    buf_cstr(&f->err));
	}
}

#define L64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// clang-format off
static const struct name_case local_cases[] = {
	{ "simple",      "bob@example.org", ACCOUNTS_OK },
	{ "dots",        "bob.smith@example.org", ACCOUNTS_OK },
	{ "atext",       "a!#$%&'*+-=?^_`{|}~z@example.org", ACCOUNTS_OK },
	{ "local 63",    L64 "@example.org" + 1, ACCOUNTS_OK },
	{ "local 64",    "b" L64 "@example.org" + 1, ACCOUNTS_OK },
	{ "local 65",    "b" L64 "@example.org", ACCOUNTS_ERROR },
	{ "no at",       "bob", ACCOUNTS_ERROR },
	{ "empty local", "@example.org", ACCOUNTS_ERROR },
	{ "empty dom",   "bob@", ACCOUNTS_ERROR },
	{ "lead dot",    ".bob@example.org", ACCOUNTS_ERROR },
	{ "trail dot",   "bob.@example.org", ACCOUNTS_ERROR },
	{ "double dot",  "b..b@example.org", ACCOUNTS_ERROR },
	{ "slash",       "a/b@example.org", ACCOUNTS_ERROR },
	{ "quoted",      "\"bob\"@example.org", ACCOUNTS_ERROR },
	{ "quoted at",   "\"a@b\"@example.org", ACCOUNTS_ERROR },
	{ "space",       "a b@example.org", ACCOUNTS_ERROR },
	{ "utf8",        "j\xc3\xb6rg@example.org", ACCOUNTS_ERROR },
	{ "control",     "a\tb@example.org", ACCOUNTS_ERROR },
	{ "bad domain",  "bob@exa_mple.org", ACCOUNTS_ERROR },
	{ "no domain",   "bob@missing.org", ACCOUNTS_NOTFOUND },
};
// clang-format on

static void
test_accounts_user_validation_table(void **state)
{
	struct fixture *f = *state;
	size_t i;
	int got;

	assert_int_equal(
	    accounts_domain_add(f->a, "example.org", &f->err), ACCOUNTS_OK);
	for (i = 0; i < sizeof(local_cases) / sizeof(local_cases[0]); i++) {
		got =
		    accounts_user_add(f->a, local_cases[i].name, HASH, &f->err);
		if (got != local_cases[i].want)
			fail_msg("%s: got %d, want %d (%s)",
			    local_cases[i].label, got, local_cases[i].want,
			    buf_cstr(&f->err));
	}
}

static void
test_accounts_user_add_missing_domain_says_how(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(accounts_user_add(f->a, "bob@x.test", HASH, &f->err),
	    ACCOUNTS_NOTFOUND);
	assert_string_equal(buf_cstr(&f->err),
	    "domain \"x.test\" does not "
	    "exist (add it with: mailwright domain add x.test)");
}

static void
test_accounts_user_lifecycle(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    accounts_domain_add(f->a, "example.org", &f->err), ACCOUNTS_OK);
	assert_int_equal(
	    accounts_user_add(f->a, "Bob@EXAMPLE.org", HASH, &f->err),
	    ACCOUNTS_OK);
	/* local parts compare case-insensitively */
	assert_int_equal(
	    accounts_user_add(f->a, "bob@example.org", HASH, &f->err),
	    ACCOUNTS_EXISTS);
	assert_non_null(strstr(buf_cstr(&f->err), "already exists"));
	assert_int_equal(
	    accounts_user_get(f->a, "BOB@Example.Org", &f->out, &f->err),
	    ACCOUNTS_OK);
	assert_string_equal(buf_cstr(&f->out), HASH);
	assert_int_equal(
	    accounts_user_get(f->a, "bob@example.org", NULL, &f->err),
	    ACCOUNTS_OK);
	assert_int_equal(
	    accounts_user_get(f->a, "alice@example.org", NULL, &f->err),
	    ACCOUNTS_NOTFOUND);

	assert_int_equal(accounts_user_set_password(
	                     f->a, "bob@example.org", "{PLAIN}new", &f->err),
	    ACCOUNTS_OK);
	buf_reset(&f->out);
	assert_int_equal(
	    accounts_user_get(f->a, "bob@example.org", &f->out, &f->err),
	    ACCOUNTS_OK);
	assert_string_equal(buf_cstr(&f->out), "{PLAIN}new");
	assert_int_equal(accounts_user_set_password(
	                     f->a, "eve@example.org", "{PLAIN}x", &f->err),
	    ACCOUNTS_NOTFOUND);

	/* stored with the local part as typed, the domain lowercased */
	buf_reset(&f->out);
	assert_int_equal(
	    accounts_user_list(f->a, NULL, &f->out, &f->err), ACCOUNTS_OK);
	assert_string_equal(buf_cstr(&f->out), "Bob@example.org\n");

	/* a domain with users cannot go */
	assert_int_equal(
	    accounts_domain_del(f->a, "example.org", &f->err), ACCOUNTS_ERROR);
	assert_non_null(strstr(buf_cstr(&f->err), "still has 1 user"));

	assert_int_equal(
	    accounts_user_del(f->a, "BOB@example.org", &f->err), ACCOUNTS_OK);
	assert_int_equal(accounts_user_del(f->a, "bob@example.org", &f->err),
	    ACCOUNTS_NOTFOUND);
	assert_int_equal(
	    accounts_domain_del(f->a, "example.org", &f->err), ACCOUNTS_OK);
}

static void
test_accounts_user_list_by_domain(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(accounts_domain_add(f->a, "a.test", &f->err), 0);
	assert_int_equal(accounts_domain_add(f->a, "b.test", &f->err), 0);
	assert_int_equal(
	    accounts_user_add(f->a, "zed@a.test", HASH, &f->err), 0);
	assert_int_equal(
	    accounts_user_add(f->a, "amy@b.test", HASH, &f->err), 0);
	assert_int_equal(
	    accounts_user_add(f->a, "bea@a.test", HASH, &f->err), 0);
	assert_int_equal(accounts_user_list(f->a, NULL, &f->out, &f->err), 0);
	assert_string_equal(
	    buf_cstr(&f->out), "bea@a.test\nzed@a.test\namy@b.test\n");
	buf_reset(&f->out);
	assert_int_equal(
	    accounts_user_list(f->a, "A.TEST", &f->out, &f->err), 0);
	assert_string_equal(buf_cstr(&f->out), "bea@a.test\nzed@a.test\n");
	buf_reset(&f->out);
	assert_int_equal(
	    accounts_user_list(f->a, "c.test", &f->out, &f->err), 0);
	assert_string_equal(buf_cstr(&f->out), "");
}

static void
test_accounts_alias_lifecycle(void **state)
{
	struct fixture *f = *state;
	const char *t1[] = { "bob@example.org", "Carol@Remote.EXAMPLE" };
	const char *t2[] = { "bob@example.org", "dave@example.org" };
	const char *t3[] = { "x@example.org" };

	assert_int_equal(accounts_domain_add(f->a, "example.org", &f->err), 0);
	assert_int_equal(
	    accounts_alias_add(f->a, "Sales@Example.org", t1, 2, &f->err),
	    ACCOUNTS_OK);
	/* adding again merges; an existing pair is not duplicated */
	assert_int_equal(
	    accounts_alias_add(f->a, "sales@example.org", t2, 2, &f->err),
	    ACCOUNTS_OK);
	assert_int_equal(
	    accounts_alias_add(f->a, "info@example.org", t3, 1, &f->err),
	    ACCOUNTS_OK);
	assert_int_equal(
	    accounts_alias_get(f->a, "SALES@example.org", &f->out, &f->err),
	    ACCOUNTS_OK);
	assert_string_equal(buf_cstr(&f->out),
	    "bob@example.org\nCarol@remote.example\ndave@example.org\n");
	buf_reset(&f->out);
	assert_int_equal(
	    accounts_alias_get(f->a, "nobody@example.org", &f->out, &f->err),
	    ACCOUNTS_NOTFOUND);
	assert_int_equal(accounts_alias_list(f->a, &f->out, &f->err), 0);
	assert_string_equal(buf_cstr(&f->out),
	    "info@example.org: x@example.org\n"
	    "Sales@example.org: bob@example.org, Carol@remote.example, "
	    "dave@example.org\n");

	assert_int_equal(
	    accounts_domain_del(f->a, "example.org", &f->err), ACCOUNTS_ERROR);
	assert_non_null(strstr(buf_cstr(&f->err), "2 aliases"));
	assert_int_equal(accounts_alias_del(f->a, "sales@EXAMPLE.org", &f->err),
	    ACCOUNTS_OK);
	assert_int_equal(accounts_alias_del(f->a, "sales@example.org", &f->err),
	    ACCOUNTS_NOTFOUND);
	buf_reset(&f->out);
	assert_int_equal(accounts_alias_list(f->a, &f->out, &f->err), 0);
	assert_string_equal(
	    buf_cstr(&f->out), "info@example.org: x@example.org\n");
}

static void
test_accounts_alias_rejects_bad_targets(void **state)
{
	struct fixture *f = *state;
	const char *bad[][1] = { { "bob" }, { "bob@" }, { "@x.org" },
		{ "a b@x.org" }, { "bob@[192.0.2.1]" }, { "|/bin/sh" },
		{ "/etc/passwd" } };
	const char *ok[] = { "\"john doe\"@remote.example" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (accounts_alias_add(f->a, "a@example.org", bad[i], 1,
		        &f->err) != ACCOUNTS_ERROR)
			fail_msg("target \"%s\" accepted", bad[i][0]);
		assert_non_null(strstr(buf_cstr(&f->err), "alias target"));
	}
	assert_int_equal(
	    accounts_alias_add(f->a, "a@example.org", ok, 0, &f->err),
	    ACCOUNTS_ERROR);
	assert_int_equal(
	    accounts_alias_add(f->a, "not an address", ok, 1, &f->err),
	    ACCOUNTS_ERROR);
	assert_int_equal(
	    accounts_alias_add(f->a, "a@example.org", ok, 1, &f->err),
	    ACCOUNTS_OK);
	assert_int_equal(
	    accounts_alias_get(f->a, "a@example.org", &f->out, &f->err),
	    ACCOUNTS_OK);
	assert_string_equal(buf_cstr(&f->out), "\"john doe\"@remote.example\n");
}

struct reader {
	struct accounts *a;
	int failures;
};

static void *
reader_run(void *arg)
{
	struct reader *r = arg;
	struct buf hash, err;
	int i;

	buf_init(&hash, 1024);
	buf_init(&err, 1024);
	for (i = 0; i < 200; i++) {
		buf_reset(&hash);
		if (accounts_user_get(r->a, "bob@example.org", &hash, &err) !=
		        ACCOUNTS_OK ||
		    strcmp(buf_cstr(&hash), HASH) != 0)
			r->failures++;
		if (accounts_domain_exists(r->a, "example.org", &err) !=
		    ACCOUNTS_OK)
			r->failures++;
	}
	buf_free(&hash);
	buf_free(&err);
	return NULL;
}

static void
test_accounts_threads_share_one_handle(void **state)
{
	struct fixture *f = *state;
	struct reader r[4];
	pthread_t t[4];
	struct accounts *writer;
	char name[64];
	size_t i;

	assert_int_equal(accounts_domain_add(f->a, "example.org", &f->err), 0);
	assert_int_equal(
	    accounts_user_add(f->a, "bob@example.org", HASH, &f->err), 0);
	writer = accounts_open(f->path, false, &f->err);
	assert_non_null(writer);
	for (i = 0; i < 4; i++) {
		r[i].a = f->a;
		r[i].failures = 0;
		assert_int_equal(
		    pthread_create(&t[i], NULL, reader_run, &r[i]), 0);
	}
	/* a second connection writes meanwhile (WAL: readers go on) */
	for (i = 0; i < 20; i++) {
		(void)snprintf(name, sizeof(name), "u%zu@example.org", i);
		assert_int_equal(accounts_user_add(writer, name, HASH, &f->err),
		    ACCOUNTS_OK);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i].failures, 0);
	}
	accounts_close(&writer);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
		T(test_accounts_open_creates_private_wal_file),
		T(test_accounts_open_missing_without_create_fails),
		T(test_accounts_open_newer_schema_fails),
		T(test_accounts_reopen_keeps_data),
		T(test_accounts_domain_add_list_del),
		T(test_accounts_domain_validation_table),
		T(test_accounts_user_validation_table),
		T(test_accounts_user_add_missing_domain_says_how),
		T(test_accounts_user_lifecycle),
		T(test_accounts_user_list_by_domain),
		T(test_accounts_alias_lifecycle),
		T(test_accounts_alias_rejects_bad_targets),
		T(test_accounts_threads_share_one_handle),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
