/*
 * Unit tests for \Recent (RFC 3501 2.3.2): the messages that arrived
 * before a read-write SELECT are recent in that session only, EXAMINE
 * does not take them, STATUS counts what no session has taken, and a
 * folder of an index from before the watermark starts with none.
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
#include "store_test.h"

static void
deliver(const struct store_fixture *f, size_t k)
{
	char name[64];

	(void)snprintf(
	    name, sizeof(name), "%zu.M%zuP1.host", (size_t)1000000000 + k, k);
	put_file(f, "new", name, "Subject: x\n\nbody\n");
}

static uint32_t
take(struct store_mailbox *mb)
{
	struct buf err;
	uint32_t first = 0;

	buf_init(&err, 4096);
	if (store_mailbox_take_recent(mb, &first, &err) != 0)
		fail_msg("store_mailbox_take_recent: %s", buf_cstr(&err));
	buf_free(&err);
	return first;
}

static uint32_t
status_recent(struct store *st)
{
	struct store_folder_status s;
	struct buf err;

	buf_init(&err, 4096);
	if (store_folder_status(st, "INBOX", &s, &err) != 0)
		fail_msg("store_folder_status: %s", buf_cstr(&err));
	buf_free(&err);
	return s.recent;
}

static void
open_mb(const struct store_fixture *f, bool ro, struct store **st,
    struct store_mailbox **mb)
{
	struct buf err;

	buf_init(&err, 4096);
	if (store_open(f->maildir, st, &err) != 0 ||
	    store_mailbox_open(*st, "INBOX", ro, mb, &err) != 0)
		fail_msg("open: %s", buf_cstr(&err));
	buf_free(&err);
}

static void
close_mb(struct store **st, struct store_mailbox **mb)
{
	store_mailbox_close(mb);
	store_close(st);
}

/* Two sessions (two stores, as two processes): each message is recent
 * in one of them only. */
static void
test_store_recent_once(void **state)
{
	struct store_fixture *f = *state;
	struct store *st1, *st2;
	struct store_mailbox *mb1, *mb2;

	deliver(f, 0);
	deliver(f, 1);
	deliver(f, 2);
	open_mb(f, false, &st1, &mb1);
	assert_int_equal(status_recent(st1), 3);
	assert_int_equal(take(mb1), 1); /* UIDs 1..3 */
	assert_int_equal(status_recent(st1), 0);
	/* again, nothing new: none */
	assert_int_equal(take(mb1), store_mailbox_uidnext(mb1));
	open_mb(f, false, &st2, &mb2);
	assert_int_equal(take(mb2), 4);
	assert_int_equal(store_mailbox_uidnext(mb2), 4);

	/* new mail: the first session to sync and take it has it */
	deliver(f, 3);
	deliver(f, 4);
	assert_int_equal(status_recent(st1), 2);
	sync_ok(mb2, NULL);
	assert_int_equal(store_mailbox_count(mb2), 5);
	assert_int_equal(take(mb2), 4); /* 4 and 5 */
	assert_int_equal(status_recent(st1), 0);
	sync_ok(mb1, NULL);
	assert_int_equal(take(mb1), 6);
	assert_int_equal(store_mailbox_uidnext(mb1), 6);

	/* one more while mb1 has the old view: mb2 takes it; mb1's older
	 * view then takes nothing and lowers nothing */
	deliver(f, 5);
	sync_ok(mb2, NULL);
	assert_int_equal(take(mb2), 6);
	close_mb(&st2, &mb2);
	deliver(f, 6);
	assert_int_equal(status_recent(st1), 1);
	open_mb(f, false, &st2, &mb2);
	/* mb1 still sees uidnext 6 and must not hand out 6 again */
	assert_int_equal(take(mb1), 6);
	assert_int_equal(store_mailbox_uidnext(mb1), 6);
	assert_int_equal(take(mb2), 7);
	assert_int_equal(status_recent(st1), 0);
	close_mb(&st2, &mb2);
	close_mb(&st1, &mb1);
}

/* Two handles of one store (one process, two sessions). */
static void
test_store_recent_same_store(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb1, *mb2;
	struct buf err;

	buf_init(&err, 4096);
	deliver(f, 0);
	open_mb(f, false, &st, &mb1);
	assert_int_equal(store_mailbox_open(st, "INBOX", false, &mb2, &err), 0);
	assert_int_equal(take(mb2), 1);
	assert_int_equal(take(mb1), 2);
	store_mailbox_close(&mb2);
	close_mb(&st, &mb1);
	buf_free(&err);
}

/* EXAMINE sees the recent ones and leaves them to the next SELECT. */
static void
test_store_recent_examine(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;

	deliver(f, 0);
	deliver(f, 1);
	open_mb(f, true, &st, &mb);
	assert_int_equal(take(mb), 1);
	assert_int_equal(take(mb), 1);
	assert_int_equal(status_recent(st), 2);
	open_mb(f, false, &st2, &mb2);
	assert_int_equal(take(mb2), 1);
	/* now taken: EXAMINE sees none */
	assert_int_equal(take(mb), 3);
	assert_int_equal(status_recent(st), 0);
	close_mb(&st2, &mb2);
	close_mb(&st, &mb);
}

/* An empty folder: the watermark is uidnext, new mail is recent. */
static void
test_store_recent_empty(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;

	open_mb(f, false, &st, &mb);
	assert_int_equal(take(mb), 1);
	assert_int_equal(status_recent(st), 0);
	deliver(f, 0);
	assert_int_equal(status_recent(st), 1);
	sync_ok(mb, NULL);
	assert_int_equal(take(mb), 1);
	assert_int_equal(status_recent(st), 0);
	close_mb(&st, &mb);
}

static void
index_exec(const struct store_fixture *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->index, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* An index from before the watermark: none of what the folder had is
 * recent, what comes later is. A damaged value counts as none. */
static void
test_store_recent_old_index(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;

	deliver(f, 0);
	deliver(f, 1);
	open_mb(f, false, &st, &mb);
	close_mb(&st, &mb);
	index_exec(f, "DROP TABLE recent");
	open_mb(f, false, &st, &mb);
	assert_int_equal(status_recent(st), 0);
	deliver(f, 2);
	assert_int_equal(status_recent(st), 1);
	assert_int_equal(take(mb), 3); /* its view: none */
	assert_int_equal(status_recent(st), 1);
	sync_ok(mb, NULL);
	assert_int_equal(take(mb), 3); /* UID 3 */
	assert_int_equal(status_recent(st), 0);
	close_mb(&st, &mb);

	index_exec(f, "UPDATE recent SET first_uid = 'x'");
	deliver(f, 3);
	open_mb(f, false, &st, &mb);
	assert_int_equal(status_recent(st), 0);
	assert_int_equal(take(mb), 5);
	close_mb(&st, &mb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t)                                                                   \
	cmocka_unit_test_setup_teardown(                                       \
	    t, store_fixture_setup, store_fixture_teardown)
		T(test_store_recent_once),
		T(test_store_recent_same_store),
		T(test_store_recent_examine),
		T(test_store_recent_empty),
		T(test_store_recent_old_index),
#undef T
	};

	log_set_min_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
