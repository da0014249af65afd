/*
 * Unit tests for store_sleep(): a store whose index connection was
 * closed while idle keeps its views, and every call that needs the index
 * (sync, flags, expunge, append, status, folders, trees, \Recent) opens
 * it again by itself and sees what another store handle changed
 * meanwhile. Sleeping twice, with a mailbox open, or with no mailbox is
 * fine; an index replaced while asleep is opened with its checks, and
 * one that cannot be opened again gives the call's -1 with a reason.
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

static const char body[] = "From: a@example.org\n"
                           "Subject: hello\n"
                           "MIME-Version: 1.0\n"
                           "Content-Type: text/plain\n"
                           "\n"
                           "hello\n";

/* n messages in cur/, named so that they sort in order. */
static void
put_msgs(const struct store_fixture *f, const char *sub, size_t from, size_t n)
{
	char name[64];
	size_t i;

	for (i = from; i < from + n; i++) {
		(void)snprintf(name, sizeof(name), "%zu.M%zuP1.host%s",
		    (size_t)1000000000 + i, i,
		    strcmp(sub, "cur") == 0 ? ":2," : "");
		put_file(f, sub, name, body);
	}
}

static void
close_inbox(struct store **st, struct store_mailbox **mb)
{
	store_mailbox_close(mb);
	store_close(st);
}

static void
sleep_ok(struct store *st)
{
	store_sleep(st);
	assert_null(st->db);
}

static struct store_folder_status
status_ok(struct store *st, const char *name)
{
	struct store_folder_status s;
	struct buf err;

	buf_init(&err, 4096);
	if (store_folder_status(st, name, &s, &err) != 0)
		fail_msg("store_folder_status: %s", buf_cstr(&err));
	buf_free(&err);
	return s;
}

static uint32_t
append_ok(struct store_mailbox *mb, uint32_t flags)
{
	struct store_append a = { .fd = -1, .data = body, .len = strlen(body) };
	struct buf err;
	uint32_t uid = 0;

	a.flags = flags;
	buf_init(&err, 4096);
	if (store_mailbox_append(mb, &a, &uid, &err) != 0)
		fail_msg("append: %s", buf_cstr(&err));
	buf_free(&err);
	return uid;
}

static void
test_store_sleep_sync_sees_others(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;
	struct store_sync_result res;
	struct store_flag_change c = { 0, STORE_FLAG_FLAGGED, 0, false };
	size_t idx = 1;
	struct buf err;

	buf_init(&err, 4096);
	put_msgs(f, "cur", 0, 3);
	open_inbox(f, &st, &mb);
	sleep_ok(st);
	/* the view stays readable while asleep */
	assert_int_equal(store_mailbox_count(mb), 3);
	assert_int_equal(store_mailbox_msg(mb, 2)->uid, 3);
	assert_string_equal(
	    store_mailbox_msg(mb, 0)->uidl, store_mailbox_msg(mb, 0)->uidl);

	/* another session changes a flag, expunges, appends; a delivery */
	open_inbox(f, &st2, &mb2);
	assert_int_equal(store_mailbox_set_flags(mb2, &c, 1, &err), 0);
	assert_int_equal(store_mailbox_expunge(mb2, &idx, 1, &err), 0);
	assert_int_equal(append_ok(mb2, 0), 4);
	put_msgs(f, "new", 10, 1);
	close_inbox(&st2, &mb2);

	sync_ok(mb, &res);
	assert_non_null(st->db);
	assert_int_equal(res.removed, 1);
	assert_int_equal(res.expunged[0], 1);
	assert_int_equal(res.changed, 1);
	assert_int_equal(res.added, 2);
	assert_int_equal(store_mailbox_count(mb), 4);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags, STORE_FLAG_FLAGGED);
	assert_int_equal(store_mailbox_msg(mb, 1)->uid, 3);
	assert_int_equal(store_mailbox_msg(mb, 2)->uid, 4);
	assert_int_equal(store_mailbox_msg(mb, 3)->uid, 5);

	/* asleep again: a sync with nothing new wakes it and changes none */
	sleep_ok(st);
	sync_ok(mb, &res);
	assert_int_equal(res.added + res.removed + res.changed, 0);
	close_inbox(&st, &mb);
	buf_free(&err);
}

static void
test_store_sleep_writes(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;
	struct store_flag_change c = { 0, STORE_FLAG_SEEN | STORE_FLAG_DELETED,
		0, false };
	struct store_folder_status s;
	size_t idx = 0, kw = 99;
	struct buf err;

	buf_init(&err, 4096);
	put_msgs(f, "cur", 0, 3);
	open_inbox(f, &st, &mb);

	sleep_ok(st);
	assert_int_equal(store_mailbox_set_flags(mb, &c, 1, &err), 0);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags,
	    STORE_FLAG_SEEN | STORE_FLAG_DELETED);
	sleep_ok(st);
	assert_int_equal(
	    store_mailbox_keyword_index(mb, "$Work", true, &kw, &err), 1);
	assert_int_equal(kw, 0);
	sleep_ok(st);
	assert_int_equal(append_ok(mb, STORE_FLAG_SEEN), 4);
	sleep_ok(st);
	s = status_ok(st, "INBOX");
	assert_int_equal(s.messages, 4);
	assert_int_equal(s.unseen, 2);
	assert_int_equal(s.deleted, 1);
	assert_int_equal(s.uidnext, 5);
	sleep_ok(st);
	sync_ok(mb, NULL); /* the view shows the append at a sync */
	assert_int_equal(store_mailbox_count(mb), 4);
	sleep_ok(st);
	assert_int_equal(store_mailbox_expunge(mb, &idx, 1, &err), 0);
	assert_int_equal(store_mailbox_count(mb), 3);
	sleep_ok(st);

	/* another handle sees all of it */
	open_inbox(f, &st2, &mb2);
	assert_int_equal(store_mailbox_count(mb2), 3);
	assert_int_equal(store_mailbox_msg(mb2, 0)->uid, 2);
	assert_int_equal(store_mailbox_msg(mb2, 2)->uid, 4);
	assert_int_equal(store_mailbox_msg(mb2, 2)->flags, STORE_FLAG_SEEN);
	assert_string_equal(store_mailbox_keyword_name(mb2, 0), "$Work");
	close_inbox(&st2, &mb2);
	close_inbox(&st, &mb);
	buf_free(&err);
}

static void
test_store_sleep_folders(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb;
	struct store_folder_list l;
	struct store_folder_status s;
	struct buf err;
	size_t i;
	bool found = false;

	buf_init(&err, 4096);
	open_inbox(f, &st, &mb);
	store_mailbox_close(&mb);
	/* no mailbox open */
	sleep_ok(st);
	assert_int_equal(store_folder_create(st, "Work", 0, &err), 0);
	sleep_ok(st);
	assert_int_equal(store_folder_rename(st, "Work", "Jobs", &err), 0);
	sleep_ok(st);
	assert_int_equal(store_folder_list(st, &l, &err), 0);
	for (i = 0; i < l.n; i++)
		found = found || strcmp(l.v[i].name, "Jobs") == 0;
	assert_true(found);
	store_folder_list_free(&l);

	/* a folder another handle fills while this one sleeps */
	sleep_ok(st);
	assert_int_equal(store_open(f->maildir, &st2, &err), 0);
	assert_int_equal(store_mailbox_open(st2, "Jobs", false, &mb, &err), 0);
	(void)append_ok(mb, 0);
	(void)append_ok(mb, 0);
	close_inbox(&st2, &mb);
	s = status_ok(st, "Jobs");
	assert_int_equal(s.messages, 2);
	assert_int_equal(s.recent, 2);
	sleep_ok(st);
	assert_int_equal(store_folder_delete(st, "Jobs", &err), 0);
	store_close(&st);
	buf_free(&err);
}

static void
test_store_sleep_tree_recent(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;
	struct mime_tree *t = NULL;
	struct buf err;
	uint32_t first = 0;

	buf_init(&err, 4096);
	put_msgs(f, "new", 0, 2);
	open_inbox(f, &st, &mb);

	/* \Recent: taken after a sleep, gone for everyone else */
	sleep_ok(st);
	assert_int_equal(store_mailbox_take_recent(mb, &first, &err), 0);
	assert_int_equal(first, 1);
	sleep_ok(st);
	assert_int_equal(status_ok(st, "INBOX").recent, 0);

	/* a tree parsed after a sleep is cached: the next session reads it
	 * back without parsing */
	sleep_ok(st);
	assert_int_equal(store_msg_tree(mb, 1, -1, &t, &err), 0);
	assert_int_equal(mb->trees_parsed, 1);
	mime_tree_free(&t);
	/* pending trees survive a sleep; the flush wakes the index */
	sleep_ok(st);
	assert_int_equal(store_mailbox_flush(mb, &err), 0);
	sleep_ok(st);
	assert_int_equal(store_msg_tree(mb, 1, -1, &t, &err), 0);
	assert_int_equal(mb->trees_parsed, 1);
	mime_tree_free(&t);

	open_inbox(f, &st2, &mb2);
	assert_int_equal(store_msg_tree(mb2, 1, -1, &t, &err), 0);
	assert_int_equal(mb2->trees_parsed, 0);
	assert_string_equal(
	    mime_tree_root(t)->envelope->field[MIME_ENV_SUBJECT], "hello");
	mime_tree_free(&t);
	assert_int_equal(store_mailbox_take_recent(mb2, &first, &err), 0);
	assert_int_equal(first, store_mailbox_uidnext(mb2));
	close_inbox(&st2, &mb2);
	close_inbox(&st, &mb);
	buf_free(&err);
}

static void
test_store_sleep_twice(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct store_sync_result res;
	char buf[64];
	ssize_t n;
	int fd = -1;

	put_msgs(f, "cur", 0, 2);
	open_inbox(f, &st, &mb);
	store_shrink(st);
	sleep_ok(st);
	sleep_ok(st);
	store_shrink(st); /* asleep: nothing to give back, nothing opened */
	assert_null(st->db);
	/* the message files need no index (POP3's RETR on the loop) */
	assert_int_equal(store_msg_open_quick(mb, 1, &fd), 0);
	n = read(fd, buf, sizeof(buf));
	assert_true(n > 0);
	(void)close(fd);
	assert_int_equal(store_msg_open(mb, 0, &fd), 0);
	(void)close(fd);
	assert_null(st->db);
	sync_ok(mb, &res);
	assert_int_equal(store_mailbox_count(mb), 2);
	sleep_ok(st);
	/* closed asleep */
	close_inbox(&st, &mb);

	open_inbox(f, &st, &mb);
	sleep_ok(st);
	store_mailbox_close(&mb);
	store_close(&st);
}

/* A file renamed by another program: store_msg_open's slow path records
 * the new name in the index, which wakes it. */
static void
test_store_sleep_msg_open_renamed(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	char *old, *from, *to;
	int fd = -1;

	put_msgs(f, "cur", 0, 1);
	open_inbox(f, &st, &mb);
	sleep_ok(st);
	old = find_file(f, "cur", "1000000000.");
	from = xasprintf("%s/cur/%s", f->maildir, old);
	to = xasprintf("%s/cur/1000000000.M0P1.host:2,S", f->maildir);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(store_msg_open_quick(mb, 0, &fd), -1);
	assert_null(st->db);
	assert_int_equal(store_msg_open(mb, 0, &fd), 0);
	(void)close(fd);
	assert_non_null(st->db);
	sleep_ok(st);
	assert_int_equal(store_msg_open_quick(mb, 0, &fd), 0);
	(void)close(fd);
	close_inbox(&st, &mb);
	free(old);
	free(from);
	free(to);
}

/* Replaced while asleep (as another process's recovery does): the new
 * file is opened with store_open's checks, and its data is used. */
static void
test_store_sleep_index_replaced(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct store_sync_result res;
	char *copy = xasprintf("%s.copy", f->index);
	struct buf data;
	sqlite3 *db;

	put_msgs(f, "cur", 0, 2);
	open_inbox(f, &st, &mb);
	sleep_ok(st);
	/* everything into the main file, then a copy under the old name */
	assert_int_equal(sqlite3_open(f->index, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	buf_init(&data, 1 << 24);
	assert_int_equal(fs_read_file(f->index, &data), 0);
	assert_int_equal(fs_atomic_write(copy, data.data, data.len, 0600), 0);
	assert_int_equal(rename(copy, f->index), 0);
	buf_free(&data);

	sync_ok(mb, &res);
	assert_int_equal(res.added + res.removed, 0);
	assert_int_equal(store_mailbox_msg(mb, 1)->uid, 2);
	assert_int_equal(status_ok(st, "INBOX").messages, 2);
	close_inbox(&st, &mb);
	free(copy);
}

/* Removed while asleep: made again and rebuilt from the Maildir, as a
 * new store_open would. */
static void
test_store_sleep_index_removed(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;

	put_msgs(f, "cur", 0, 3);
	open_inbox(f, &st, &mb);
	store_mailbox_close(&mb);
	sleep_ok(st);
	assert_int_equal(unlink(f->index), 0);
	assert_int_equal(status_ok(st, "INBOX").messages, 3);
	assert_true(fs_exists(f->index));
	store_close(&st);
}

/* The index cannot be opened again: the call fails with a reason, and a
 * later call opens it once it can. */
static void
test_store_sleep_reopen_fails(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct store_folder_status s;
	struct store_sync_result res;
	struct store_flag_change c = { 0, STORE_FLAG_SEEN, 0, false };
	char *aside = xasprintf("%s.aside", f->index);
	struct buf err;

	buf_init(&err, 4096);
	put_msgs(f, "cur", 0, 2);
	open_inbox(f, &st, &mb);
	sleep_ok(st);
	/* a directory where the file was: neither opened nor recreated */
	assert_int_equal(rename(f->index, aside), 0);
	assert_int_equal(mkdir(f->index, 0700), 0);

	assert_int_equal(store_folder_status(st, "INBOX", &s, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), f->index));
	assert_null(st->db);
	buf_reset(&err);
	assert_int_equal(store_mailbox_sync(mb, &res, &err), -1);
	assert_true(err.len > 0);
	buf_reset(&err);
	assert_int_equal(store_mailbox_set_flags(mb, &c, 1, &err), -1);
	assert_true(err.len > 0);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags, 0);
	assert_int_equal(store_mailbox_count(mb), 2);

	assert_int_equal(rmdir(f->index), 0);
	assert_int_equal(rename(aside, f->index), 0);
	assert_int_equal(store_mailbox_set_flags(mb, &c, 1, &err), 0);
	sync_ok(mb, &res);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags, STORE_FLAG_SEEN);
	close_inbox(&st, &mb);
	free(aside);
	buf_free(&err);
}

/* store_mailbox_sync_quick: what this handle's scan left is trusted;
 * a delivery, or a file another program renamed, moves an mtime and is
 * seen at once. */
static void
test_store_sync_quick(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct store_sync_result res;
	struct buf err;
	char *old, *from, *to;

	buf_init(&err, 4096);
	put_msgs(f, "new", 0, 3);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_count(mb), 3);
	assert_int_equal(store_mailbox_sync_quick(mb, &res, &err), 0);
	assert_int_equal(res.added + res.removed + res.changed, 0);
	/* a delivery right after the scan, within its time stamp or not */
	put_msgs(f, "new", 10, 1);
	assert_int_equal(store_mailbox_sync_quick(mb, &res, &err), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(store_mailbox_count(mb), 4);
	/* mutt sets a flag: a rename in cur/ */
	old = find_file(f, "cur", "1000000001.");
	assert_non_null(old);
	from = xasprintf("%s/cur/%s", f->maildir, old);
	to = xasprintf("%s/cur/%.*sF", f->maildir,
	    (int)(strchr(old, ':') - old + 3), old);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(store_mailbox_sync_quick(mb, &res, &err), 0);
	assert_int_equal(res.changed, 1);
	assert_int_equal(store_mailbox_msg(mb, 1)->flags, STORE_FLAG_FLAGGED);
	free(old);
	free(from);
	free(to);
	close_inbox(&st, &mb);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t)                                                                   \
	cmocka_unit_test_setup_teardown(                                       \
	    t, store_fixture_setup, store_fixture_teardown)
		T(test_store_sleep_sync_sees_others),
		T(test_store_sleep_writes),
		T(test_store_sleep_folders),
		T(test_store_sleep_tree_recent),
		T(test_store_sleep_twice),
		T(test_store_sleep_msg_open_renamed),
		T(test_store_sleep_index_replaced),
		T(test_store_sleep_index_removed),
		T(test_store_sleep_reopen_fails),
		T(test_store_sync_quick),
#undef T
	};

	store_library_init();
	log_set_min_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
