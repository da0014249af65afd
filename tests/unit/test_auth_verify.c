/* Unit tests of src/auth/auth_verify.c on a real accounts.db: the
 * credential cache skips the slow path only for the same password against
 * the same stored hash, forgets changed and deleted users, never keeps a
 * failure, stays within its size; SCRAM lookups; database errors. */
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
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

#include "auth/accounts.h"
#include "auth/auth_verify.h"
#include "auth/password.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#define SCRAM_PENCIL                                                           \
	"{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,"                        \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"                        \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
/* classic DES crypt of "password": only 8 characters count */
#define DES_PASSWORD "{CRYPT}abJnggxhB/yWI"

struct fixture {
	char dir[64];
	char *path;
	struct accounts *a;
	struct auth_verifier *v;
	struct buf err;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test_auth_verify.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xasprintf("%s/accounts.db", f->dir);
	buf_init(&f->err, 4096);
	f->a = accounts_open(f->path, true, &f->err);
	if (f->a == NULL ||
	    accounts_domain_add(f->a, "example.org", &f->err) != ACCOUNTS_OK)
		return -1;
	f->v = auth_verifier_new(f->a, 3);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	auth_verifier_free(&f->v);
	assert_null(f->v);
	accounts_close(&f->a);
	(void)fs_rm_rf(f->dir);
	buf_free(&f->err);
	free(f->path);
	free(f);
	return 0;
}

static void
add_user(struct fixture *f, const char *user, const char *hash)
{
	assert_int_equal(accounts_user_add(f->a, user, hash, &f->err), 0);
}

/* auth_verify's result, and whether it took the slow path. */
static void
check(struct fixture *f, const char *user, const char *password, int want,
    bool want_slow)
{
	size_t before = auth_verifier_slow_checks(f->v);
	int got;

	buf_reset(&f->err);
	got = auth_verify(f->v, user, password, &f->err);
	if (got != want)
		fail_msg("%s/%s: got %d, want %d (%s)", user, password, got,
		    want, buf_cstr(&f->err));
	if ((auth_verifier_slow_checks(f->v) != before) != want_slow)
		fail_msg("%s/%s: slow path %s", user, password,
		    want_slow ? "skipped" : "taken");
	if (want != 0)
		assert_true(f->err.len > 0);
}

static void
test_auth_verify_cache_hit_skips_slow_path(void **state)
{
	struct fixture *f = *state;
	char *h = password_hash("correct horse");

	assert_non_null(h);
	add_user(f, "alice@example.org", h);
	free(h);
	check(f, "alice@example.org", "correct horse", 0, true);
	check(f, "alice@example.org", "correct horse", 0, false);
	check(f, "alice@example.org", "correct horse", 0, false);
	/* lookups ignore case, and so does the cache */
	check(f, "Alice@EXAMPLE.org", "correct horse", 0, false);
	assert_int_equal(auth_verifier_slow_checks(f->v), 1);
}

static void
test_auth_verify_wrong_password_never_cached(void **state)
{
	struct fixture *f = *state;

	add_user(f, "bob@example.org", "{PLAIN}secret");
	check(f, "bob@example.org", "guess", 1, true);
	check(f, "bob@example.org", "guess", 1, true);
	assert_string_equal(buf_cstr(&f->err), "wrong password");
	check(f, "bob@example.org", "secret", 0, true);
	check(f, "bob@example.org", "secret", 0, false);
	/* a cached user with a wrong password is checked in full */
	check(f, "bob@example.org", "guess", 1, true);
	check(f, "bob@example.org", "", 1, true);
	check(f, "bob@example.org", "secret", 0, false);
}

/* Another password that the stored hash also accepts (DES crypt reads 8
 * characters) is checked, not mistaken for a miss or a hit. */
static void
test_auth_verify_other_matching_password(void **state)
{
	struct fixture *f = *state;

	add_user(f, "des@example.org", DES_PASSWORD);
	check(f, "des@example.org", "password", 0, true);
	check(f, "des@example.org", "password123", 0, true);
	check(f, "des@example.org", "password123", 0, false);
	check(f, "des@example.org", "passwor", 1, true);
}

static void
test_auth_verify_password_change_invalidates(void **state)
{
	struct fixture *f = *state;

	add_user(f, "carol@example.org", "{PLAIN}old");
	check(f, "carol@example.org", "old", 0, true);
	check(f, "carol@example.org", "old", 0, false);
	assert_int_equal(accounts_user_set_password(
	                     f->a, "carol@example.org", "{PLAIN}new", &f->err),
	    0);
	check(f, "carol@example.org", "old", 1, true);
	check(f, "carol@example.org", "new", 0, true);
	check(f, "carol@example.org", "new", 0, false);
	/* back to the old hash: the entry for "new" is stale again */
	assert_int_equal(accounts_user_set_password(
	                     f->a, "carol@example.org", "{PLAIN}old", &f->err),
	    0);
	check(f, "carol@example.org", "new", 1, true);
	check(f, "carol@example.org", "old", 0, true);
}

static void
test_auth_verify_deletion_invalidates(void **state)
{
	struct fixture *f = *state;

	add_user(f, "dave@example.org", "{PLAIN}secret");
	check(f, "dave@example.org", "secret", 0, true);
	check(f, "dave@example.org", "secret", 0, false);
	assert_int_equal(
	    accounts_user_del(f->a, "dave@example.org", &f->err), 0);
	check(f, "dave@example.org", "secret", 1, true); /* dummy check */
	assert_string_equal(buf_cstr(&f->err), "unknown user");
	/* the same hash again: the entry went with the deletion */
	add_user(f, "dave@example.org", "{PLAIN}secret");
	check(f, "dave@example.org", "secret", 0, true);
}

static void
test_auth_verify_unknown_and_invalid_users(void **state)
{
	struct fixture *f = *state;
	char big[300];

	check(f, "nobody@example.org", "x", 1, true);
	check(f, "nobody@example.org", "x", 1, true);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	check(f, big, "x", 1, false);
	check(f, "", "x", 1, false);
	assert_int_equal(auth_verify(f->v, NULL, "x", NULL), 1);
	assert_int_equal(auth_verify(f->v, "a@example.org", NULL, NULL), 1);
}

static void
test_auth_verify_unusable_hash(void **state)
{
	struct fixture *f = *state;

	add_user(f, "eve@example.org", "{MD5}5ebe2294ecd0e0f08eab7690d2a6ee69");
	check(f, "eve@example.org", "secret", 1, true);
	assert_non_null(strstr(buf_cstr(&f->err), "unusable"));
	check(f, "eve@example.org", "secret", 1, true);
}

/* cache_size users fit; one more evicts the least recently used. */
static void
test_auth_verify_cache_size_bound(void **state)
{
	struct fixture *f = *state;
	char user[64];
	size_t n, i, max = 3; /* the fixture's cache_size */

	for (i = 0; i <= max; i++) {
		(void)snprintf(user, sizeof(user), "u%zu@example.org", i);
		add_user(f, user, "{PLAIN}pw");
	}
	for (n = max - 1; n <= max + 1; n++) {
		auth_verifier_free(&f->v);
		f->v = auth_verifier_new(f->a, max);
		for (i = 0; i < n; i++) {
			(void)snprintf(
			    user, sizeof(user), "u%zu@example.org", i);
			check(f, user, "pw", 0, true);
		}
		/* newest first, so a hit does not reorder what is left */
		for (i = n; i-- > 0;) {
			(void)snprintf(
			    user, sizeof(user), "u%zu@example.org", i);
			check(f, user, "pw", 0, n > max && i == 0);
		}
	}
}

static void
test_auth_verify_cache_disabled(void **state)
{
	struct fixture *f = *state;

	auth_verifier_free(&f->v);
	f->v = auth_verifier_new(f->a, 0);
	add_user(f, "frank@example.org", "{PLAIN}pw");
	check(f, "frank@example.org", "pw", 0, true);
	check(f, "frank@example.org", "pw", 0, true);
}

/* A database that fails is a temporary error, not a wrong password. */
static void
test_auth_verify_database_error_is_temporary(void **state)
{
	struct fixture *f = *state;
	struct buf out;
	sqlite3 *db;

	add_user(f, "gina@example.org", SCRAM_PENCIL);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "DROP TABLE users", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	check(f, "gina@example.org", "pencil", -1, false);
	buf_init(&out, 1024);
	assert_int_equal(
	    auth_lookup_scram(f->v, "gina@example.org", &out, &f->err), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void
test_auth_lookup_scram(void **state)
{
	static const struct {
		const char *user;
		int want;
	} rows[] = {
		{ "scram@example.org", 0 },
		{ "SCRAM@example.org", 0 },
		{ "plain@example.org", 1 },
		{ "bad@example.org", 1 },
		{ "nobody@example.org", 1 },
		{ "", 1 },
	};
	struct fixture *f = *state;
	struct buf out;
	size_t i;

	add_user(f, "scram@example.org", SCRAM_PENCIL);
	add_user(f, "plain@example.org", "{PLAIN}pencil");
	add_user(f, "bad@example.org", "{SCRAM-SHA-256}1,x,y,z");
	buf_init(&out, 1024);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		buf_reset(&out);
		buf_reset(&f->err);
		if (auth_lookup_scram(f->v, rows[i].user, &out, &f->err) !=
		    rows[i].want)
			fail_msg("%s", rows[i].user);
		if (rows[i].want == 0)
			assert_string_equal(buf_cstr(&out), SCRAM_PENCIL);
		else {
			assert_int_equal(out.len, 0);
			assert_true(f->err.len > 0);
		}
	}
	buf_free(&out);
	/* the same credentials serve PLAIN through password_verify */
	check(f, "scram@example.org", "pencil", 0, true);
	check(f, "scram@example.org", "pencil", 0, false);
	check(f, "scram@example.org", "Pencil", 1, true);
}

struct thread_arg {
	struct auth_verifier *v;
	int id;
	int failures;
};

static void *
verify_thread(void *p)
{
	struct thread_arg *t = p;
	char user[64];
	int i, want, got;

	for (i = 0; i < 300; i++) {
		(void)snprintf(
		    user, sizeof(user), "t%d@example.org", (i + t->id) % 6);
		want = i % 5 == 0 ? 1 : 0;
		got = auth_verify(t->v, user, want ? "wrong" : "pw", NULL);
		if (got != want)
			t->failures++;
	}
	return NULL;
}

/* Worker threads share one verifier (and a cache smaller than the set of
 * users, so that they also evict each other's entries). */
static void
test_auth_verify_threads(void **state)
{
	struct fixture *f = *state;
	struct thread_arg args[8];
	pthread_t th[8];
	char user[64];
	int i;

	for (i = 0; i < 6; i++) {
		(void)snprintf(user, sizeof(user), "t%d@example.org", i);
		add_user(f, user, "{PLAIN}pw");
	}
	for (i = 0; i < 8; i++) {
		args[i].v = f->v;
		args[i].id = i;
		args[i].failures = 0;
		assert_int_equal(
		    pthread_create(&th[i], NULL, verify_thread, &args[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_cache_hit_skips_slow_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_wrong_password_never_cached, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_other_matching_password, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_password_change_invalidates, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_deletion_invalidates, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_unknown_and_invalid_users, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_unusable_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_cache_size_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_cache_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_database_error_is_temporary, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_lookup_scram, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_auth_verify_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
