/*
 * Unit tests for store_msg_tree()'s runs of reads (store.h): calls for
 * increasing indexes read the cached trees through one cursor and one
 * read transaction; any order still gives each message its own tree;
 * writes, syncs, other connections, store_sleep and store_shrink end the
 * run instead of meeting its transaction; a run sees one snapshot and
 * takes a new one after STORE_TREE_RUN_CALLS (1,024) calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/log.h"
#include "mime/mime_tree.h"
#include "store/store_private.h"
#include "store_test.h"

#define NMSG 40

/* n messages in cur/ whose Subject is "msg <i>", in UID order. */
static void
put_numbered(const struct store_fixture *f, size_t n)
{
	char name[64], *body;
	size_t i;

	for (i = 0; i < n; i++) {
		(void)snprintf(name, sizeof(name), "%zu.M%zuP1.host:2,",
		    (size_t)1000000000 + i, i);
		body = xasprintf("From: a@example.org\nSubject: msg %zu\n"
		                 "MIME-Version: 1.0\nContent-Type: text/plain\n"
		                 "\nbody %zu\n",
		    i, i);
		put_file(f, "cur", name, body);
		free(body);
	}
}

static void
index_exec(const struct store_fixture *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->index, &db), SQLITE_OK);
	assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Message i's tree has Subject "msg <n>". */
static void
tree_has(struct store_mailbox *mb, size_t i, size_t n)
{
	struct mime_tree *t = NULL;
	struct buf err;
	char want[32];

	buf_init(&err, 4096);
	if (store_msg_tree(mb, i, -1, &t, &err) != 0)
		fail_msg("store_msg_tree(%zu): %s", i, buf_cstr(&err));
	(void)snprintf(want, sizeof(want), "msg %zu", n);
	assert_string_equal(
	    mime_tree_root(t)->envelope->field[MIME_ENV_SUBJECT], want);
	mime_tree_free(&t);
	buf_free(&err);
}

static void
tree_is(struct store_mailbox *mb, size_t i)
{
	tree_has(mb, i, i);
}

/* A folder of NMSG messages whose trees are all in the index; st and mb
 * a new session on it. */
static void
cached_folder(
    struct store_fixture *f, struct store **st, struct store_mailbox **mb)
{
	size_t i;

	put_numbered(f, NMSG);
	open_inbox(f, st, mb);
	for (i = 0; i < NMSG; i++)
		tree_is(*mb, i);
	assert_int_equal((*mb)->trees_parsed, NMSG);
	store_mailbox_close(mb);
	store_close(st);
	open_inbox(f, st, mb);
}

static bool
run_open(struct store *st)
{
	return st->run_mb != NULL && !sqlite3_get_autocommit(st->db);
}

static void
test_store_tree_run_orders(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	size_t i;

	cached_folder(f, &st, &mb);
	for (i = 0; i < NMSG; i++) {
		tree_is(mb, i);
		assert_true(run_open(st));
	}
	/* one transaction for the whole run */
	assert_int_equal(st->run_calls, NMSG);
	/* again from the start, backwards, in strides past the skip limit,
	 * and the same message twice */
	tree_is(mb, 0);
	for (i = NMSG; i > 0; i--)
		tree_is(mb, i - 1);
	for (i = 0; i < NMSG; i += 19)
		tree_is(mb, i);
	tree_is(mb, 7);
	tree_is(mb, 7);
	tree_is(mb, 8);
	assert_int_equal(mb->trees_parsed, 0);
	store_msg_tree_end(mb);
	assert_null(st->run_mb);
	assert_true(sqlite3_get_autocommit(st->db));
	store_mailbox_close(&mb);
	store_close(&st);
}

/* Rows missing from the cache (one in three) are parsed; the others
 * still come from the cursor. */
static void
test_store_tree_run_gaps(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	size_t i;

	cached_folder(f, &st, &mb);
	store_mailbox_close(&mb);
	store_close(&st);
	index_exec(f, "DELETE FROM mime WHERE uid % 3 = 0");
	open_inbox(f, &st, &mb);
	for (i = 0; i < NMSG; i++)
		tree_is(mb, i);
	/* uids 3, 6, ..., 39 */
	assert_int_equal(mb->trees_parsed, NMSG / 3);
	store_mailbox_close(&mb);
	store_close(&st);
}

/* Writes in the middle of a run: the store's own (flags, expunge,
 * append), another connection's, a sync. None fails or waits on the
 * run's transaction. */
static void
test_store_tree_run_writes(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;
	struct store_flag_change c = { .i = 3, .flags = STORE_FLAG_SEEN };
	struct store_append a = {
		.fd = -1, .data = "Subject: msg 99\n\nnew\n", .len = 21
	};
	struct store_sync_result res;
	struct buf err;
	uint32_t uid;
	size_t idx = 1;

	buf_init(&err, 4096);
	cached_folder(f, &st, &mb);
	tree_is(mb, 0);
	tree_is(mb, 1);
	assert_true(run_open(st));
	if (store_mailbox_set_flags(mb, &c, 1, &err) != 0)
		fail_msg("set_flags: %s", buf_cstr(&err));
	assert_false(run_open(st));
	tree_is(mb, 2);
	tree_is(mb, 3);
	assert_true(run_open(st));
	/* another process delivers while the run reads */
	open_inbox(f, &st2, &mb2);
	if (store_mailbox_append(mb2, &a, &uid, &err) != 0)
		fail_msg("append: %s", buf_cstr(&err));
	store_mailbox_close(&mb2);
	store_close(&st2);
	tree_is(mb, 4);
	if (store_mailbox_append(mb, &a, &uid, &err) != 0)
		fail_msg("append: %s", buf_cstr(&err));
	tree_is(mb, 5);
	if (store_mailbox_expunge(mb, &idx, 1, &err) != 0)
		fail_msg("expunge: %s", buf_cstr(&err));
	/* the indexes above 1 moved down by one */
	tree_has(mb, 5, 6);
	tree_has(mb, 6, 7);
	sync_ok(mb, &res);
	assert_false(run_open(st));
	assert_int_equal(res.added, 2);
	assert_int_equal(store_mailbox_count(mb), NMSG + 1);
	tree_has(mb, 10, 11);
	tree_has(mb, NMSG, 99);
	store_mailbox_close(&mb);
	assert_true(sqlite3_get_autocommit(st->db));
	store_close(&st);
	buf_free(&err);
}

/* store_sleep and store_shrink in the middle of a run end it; the next
 * call starts another. */
static void
test_store_tree_run_sleep(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;

	cached_folder(f, &st, &mb);
	tree_is(mb, 0);
	assert_true(run_open(st));
	store_shrink(st);
	assert_null(st->run_mb);
	tree_is(mb, 1);
	assert_true(run_open(st));
	store_sleep(st);
	assert_null(st->db);
	tree_is(mb, 2);
	assert_true(run_open(st));
	assert_int_equal(mb->trees_parsed, 0);
	store_mailbox_close(&mb);
	store_close(&st);
}

/* A run reads one snapshot: rows another connection deletes meanwhile
 * are still seen, until the run ends or after 1,024 calls. */
static void
test_store_tree_run_snapshot(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	size_t i;

	cached_folder(f, &st, &mb);
	tree_is(mb, 0);
	index_exec(f, "DELETE FROM mime");
	for (i = 1; i < 1024; i++)
		tree_is(mb, i % 2);
	assert_int_equal(mb->trees_parsed, 0);
	/* the 1,025th call takes a new snapshot: no rows any more */
	tree_is(mb, 2);
	assert_int_equal(mb->trees_parsed, 1);
	tree_is(mb, 3);
	assert_int_equal(mb->trees_parsed, 2);
	store_mailbox_close(&mb);
	store_close(&st);
}

int
main(void)
{
#define T(t)                                                                   \
	cmocka_unit_test_setup_teardown(                                       \
	    t, store_fixture_setup, store_fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_store_tree_run_orders),
		T(test_store_tree_run_gaps),
		T(test_store_tree_run_writes),
		T(test_store_tree_run_sleep),
		T(test_store_tree_run_snapshot),
#undef T
	};

	log_set_min_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
