/*
 * Unit tests for the MIME structure cached in the index (issue #10): a
 * second store_msg_tree() decodes the tree and does not read the file, a
 * damaged or older blob is parsed again and replaced, the rows go with
 * their messages and folders, trees are written in batches of 256, and
 * an index from before the cache keeps its UIDs.
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

static const char msg_multi[] = "From: a@example.org\n"
                                "To: b@example.org\n"
                                "Subject: two parts\n"
                                "MIME-Version: 1.0\n"
                                "Content-Type: multipart/mixed; boundary=XX\n"
                                "\n"
                                "--XX\n"
                                "Content-Type: text/plain\n"
                                "\n"
                                "hello\n"
                                "--XX\n"
                                "Content-Type: application/octet-stream\n"
                                "Content-Transfer-Encoding: base64\n"
                                "\n"
                                "AAAA\n"
                                "--XX--\n";

/* n messages in cur/, named so that they sort in order. */
static void
put_msgs(const struct store_fixture *f, size_t n, const char *body)
{
	char name[64];
	size_t i;

	for (i = 0; i < n; i++) {
		(void)snprintf(name, sizeof(name), "%zu.M%zuP1.host:2,",
		    (size_t)1000000000 + i, i);
		put_file(f, "cur", name, body);
	}
}

/* The result of "SELECT count(*) ..." sql on the index, from another
 * connection (what is committed). */
static int
index_count(const struct store_fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int n = -1;

	assert_int_equal(sqlite3_open(f->index, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void
index_exec(const struct store_fixture *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->index, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static struct mime_tree *
tree_ok(struct store_mailbox *mb, size_t i, int fd)
{
	struct mime_tree *t = NULL;
	struct buf err;

	buf_init(&err, 4096);
	if (store_msg_tree(mb, i, fd, &t, &err) != 0)
		fail_msg("store_msg_tree: %s", buf_cstr(&err));
	assert_non_null(t);
	buf_free(&err);
	return t;
}

static void
flush_ok(struct store_mailbox *mb)
{
	struct buf err;

	buf_init(&err, 4096);
	if (store_mailbox_flush(mb, &err) != 0)
		fail_msg("store_mailbox_flush: %s", buf_cstr(&err));
	buf_free(&err);
}

/* The multipart of msg_multi, as the parser gives it. */
static void
check_multi(const struct mime_tree *t)
{
	const struct mime_part *root = mime_tree_root(t), *p;

	assert_int_equal(mime_tree_part_count(t), 3);
	assert_true(root->flags & MIME_PART_MULTIPART);
	assert_string_equal(
	    root->envelope->field[MIME_ENV_SUBJECT], "two parts");
	p = root->children;
	assert_non_null(p);
	assert_string_equal(mime_part_subtype(p), "plain");
	assert_int_equal(p->body_size, 5);
	assert_int_equal(p->next->cte, MIME_CTE_BASE64);
	assert_int_equal(root->hdr_size + root->body_size, strlen(msg_multi));
}

static void
test_store_tree_cache_hit(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t;
	char *path, *name;

	put_msgs(f, 1, msg_multi);
	open_inbox(f, &st, &mb);
	t = tree_ok(mb, 0, -1);
	check_multi(t);
	mime_tree_free(&t);
	assert_int_equal(mb->trees_parsed, 1);
	/* not yet flushed: the second comes from memory */
	t = tree_ok(mb, 0, -1);
	check_multi(t);
	mime_tree_free(&t);
	assert_int_equal(mb->trees_parsed, 1);
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 0);
	store_mailbox_close(&mb); /* flushes */
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 1);
	store_close(&st);

	/* another session: from the index, and the file is not needed */
	name = find_file(f, "cur", "1000000000.");
	path = xasprintf("%s/cur/%s", f->maildir, name);
	open_inbox(f, &st, &mb);
	assert_int_equal(unlink(path), 0);
	t = tree_ok(mb, 0, -1);
	check_multi(t);
	mime_tree_free(&t);
	assert_int_equal(mb->trees_parsed, 0);
	store_mailbox_close(&mb);
	store_close(&st);
	free(path);
	free(name);
}

static void
test_store_tree_fd(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t;
	int fd;

	put_msgs(f, 1, msg_multi);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_msg_open(mb, 0, &fd), 0);
	assert_int_equal(lseek(fd, 7, SEEK_SET), 7);
	t = tree_ok(mb, 0, fd);
	check_multi(t);
	mime_tree_free(&t);
	/* pread: the caller's offset stays */
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 7);
	assert_int_equal(mb->trees_parsed, 1);
	(void)close(fd);
	store_mailbox_close(&mb);
	store_close(&st);
}

static void
test_store_tree_gone(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t = NULL;
	struct buf err;
	char *path, *name;

	buf_init(&err, 4096);
	put_msgs(f, 1, msg_multi);
	open_inbox(f, &st, &mb);
	name = find_file(f, "cur", "1000000000.");
	path = xasprintf("%s/cur/%s", f->maildir, name);
	assert_int_equal(unlink(path), 0);
	errno = 0;
	assert_int_equal(store_msg_tree(mb, 0, -1, &t, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(t);
	assert_true(err.len > 0);
	store_mailbox_close(&mb);
	store_close(&st);
	free(path);
	free(name);
	buf_free(&err);
}

/* A blob that does not decode is parsed again and replaced. */
static void
damaged_case(const struct store_fixture *f, const char *sql)
{
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t;

	open_inbox(f, &st, &mb);
	index_exec(f, sql);
	t = tree_ok(mb, 0, -1);
	check_multi(t);
	mime_tree_free(&t);
	assert_int_equal(mb->trees_parsed, 1);
	store_mailbox_close(&mb);
	store_close(&st);
	/* replaced: the next session decodes it */
	open_inbox(f, &st, &mb);
	t = tree_ok(mb, 0, -1);
	check_multi(t);
	mime_tree_free(&t);
	assert_int_equal(mb->trees_parsed, 0);
	store_mailbox_close(&mb);
	store_close(&st);
}

static void
test_store_tree_damaged(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t;

	put_msgs(f, 1, msg_multi);
	open_inbox(f, &st, &mb);
	t = tree_ok(mb, 0, -1);
	mime_tree_free(&t);
	store_mailbox_close(&mb);
	store_close(&st);
	/* garbage, an empty blob, a text value */
	damaged_case(f, "UPDATE mime SET blob = x'00010203'");
	damaged_case(f, "UPDATE mime SET blob = x''");
	damaged_case(f, "UPDATE mime SET blob = 'not a tree'");
	/* cut short */
	damaged_case(f,
	    "UPDATE mime SET blob = substr(blob, 1, length(blob) "
	    "/ 2)");
	/* another encoding version (byte 5: mime_tree_decode's EPROTO) */
	damaged_case(f,
	    "UPDATE mime SET blob = substr(blob, 1, 4) || x'7f' "
	    "|| substr(blob, 6)");
}

static void
test_store_tree_expunge(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t;
	struct buf err;
	size_t i, idx = 0;
	char *path, *name;

	buf_init(&err, 4096);
	put_msgs(f, 3, msg_multi);
	open_inbox(f, &st, &mb);
	for (i = 0; i < 3; i++) {
		t = tree_ok(mb, i, -1);
		mime_tree_free(&t);
	}
	/* expunge flushes first: the expunged one's row goes too */
	assert_int_equal(store_mailbox_expunge(mb, &idx, 1, &err), 0);
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 2);
	assert_int_equal(
	    index_count(f, "SELECT count(*) FROM mime WHERE uid = 1"), 0);
	/* removed by another program: the sync drops its row */
	name = find_file(f, "cur", "1000000001.");
	path = xasprintf("%s/cur/%s", f->maildir, name);
	assert_int_equal(unlink(path), 0);
	sync_ok(mb, NULL);
	assert_int_equal(store_mailbox_count(mb), 1);
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 1);
	assert_int_equal(
	    index_count(f, "SELECT count(*) FROM mime WHERE uid = 3"), 1);
	store_mailbox_close(&mb);
	store_close(&st);
	free(path);
	free(name);
	buf_free(&err);
}

/* A tree parsed for a message that another session expunges before the
 * flush leaves no row. */
static void
test_store_tree_expunged_before_flush(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;
	struct mime_tree *t;
	struct buf err;
	size_t idx = 0;

	buf_init(&err, 4096);
	put_msgs(f, 2, msg_multi);
	open_inbox(f, &st, &mb);
	open_inbox(f, &st2, &mb2);
	t = tree_ok(mb, 0, -1);
	mime_tree_free(&t);
	assert_int_equal(store_mailbox_expunge(mb2, &idx, 1, &err), 0);
	flush_ok(mb);
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 0);
	store_mailbox_close(&mb2);
	store_close(&st2);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

static void
test_store_tree_batches(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t;
	size_t i;

	size_t batch = store_tree_batch;

	store_tree_batch = 256;
	put_msgs(f, 300, msg_multi);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_count(mb), 300);
	for (i = 0; i < 255; i++) {
		t = tree_ok(mb, i, -1);
		mime_tree_free(&t);
	}
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 0);
	t = tree_ok(mb, 255, -1); /* the 256th: one commit */
	mime_tree_free(&t);
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 256);
	for (i = 256; i < 300; i++) {
		t = tree_ok(mb, i, -1);
		mime_tree_free(&t);
	}
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 256);
	flush_ok(mb);
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 300);
	flush_ok(mb); /* nothing left: nothing to do */
	assert_int_equal(mb->trees_parsed, 300);
	/* from the index now */
	t = tree_ok(mb, 0, -1);
	mime_tree_free(&t);
	assert_int_equal(mb->trees_parsed, 300);
	store_mailbox_close(&mb);
	store_close(&st);
	store_tree_batch = batch;
}

/* store_msg_tree() in parts, as a FETCH that parses on several threads
 * uses it: nothing cached, the file parsed and encoded apart from the
 * store, the blob kept, flushed, and then what the cache gives. */
static void
test_store_tree_parts(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t;
	char *blob;
	size_t len;
	int fd;

	put_msgs(f, 2, msg_multi);
	open_inbox(f, &st, &mb);
	assert_null(store_msg_tree_cached(mb, 1));
	assert_false(store_mailbox_unflushed(mb));
	assert_int_equal(store_msg_open_quick(mb, 1, &fd), 0);
	t = store_tree_parse(fd);
	(void)close(fd);
	assert_non_null(t);
	check_multi(t);
	assert_int_equal(store_tree_blob(t, &blob, &len), 0);
	assert_true(len > 0);
	mime_tree_free(&t);
	store_msg_tree_keep_blob(mb, 1, blob, len);
	assert_true(store_mailbox_unflushed(mb));
	assert_int_equal(mb->trees_parsed, 1);
	/* kept: the cache has it before and after the flush */
	t = store_msg_tree_cached(mb, 1);
	assert_non_null(t);
	check_multi(t);
	mime_tree_free(&t);
	assert_null(store_msg_tree_cached(mb, 0));
	flush_ok(mb);
	assert_false(store_mailbox_unflushed(mb));
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 1);
	t = store_msg_tree_cached(mb, 1);
	assert_non_null(t);
	check_multi(t);
	mime_tree_free(&t);
	store_msg_tree_end(mb);
	/* an unreadable fd: no tree */
	errno = 0;
	assert_null(store_tree_parse(-1));
	assert_int_equal(errno, EBADF);
	store_mailbox_close(&mb);
	store_close(&st);
}

static void
test_store_tree_read_only(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t;
	struct buf err;

	buf_init(&err, 4096);
	put_msgs(f, 2, msg_multi);
	assert_int_equal(store_open(f->maildir, &st, &err), 0);
	assert_int_equal(store_mailbox_open(st, "INBOX", true, &mb, &err), 0);
	t = tree_ok(mb, 1, -1);
	mime_tree_free(&t);
	sync_ok(mb, NULL); /* flushes */
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 1);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

static void
test_store_tree_folder_delete(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t;
	struct store_append a = { .fd = -1, .data = msg_multi };
	struct buf err;
	uint32_t uid;

	buf_init(&err, 4096);
	a.len = strlen(msg_multi);
	assert_int_equal(store_open(f->maildir, &st, &err), 0);
	assert_int_equal(store_folder_create(st, "Work", 0, &err), 0);
	assert_int_equal(store_mailbox_open(st, "Work", false, &mb, &err), 0);
	assert_int_equal(store_mailbox_append(mb, &a, &uid, &err), 0);
	sync_ok(mb, NULL);
	t = tree_ok(mb, 0, -1);
	check_multi(t);
	mime_tree_free(&t);
	store_mailbox_close(&mb);
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 1);
	/* a rename keeps them (the folder's id stays) */
	assert_int_equal(store_folder_rename(st, "Work", "Old", &err), 0);
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 1);
	assert_int_equal(store_folder_delete(st, "Old", &err), 0);
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 0);
	store_close(&st);
	buf_free(&err);
}

/* An index written before the mime and recent tables keeps its UIDs,
 * UIDVALIDITY, UIDLs and modseqs, and gets the tables. */
static void
test_store_tree_old_index(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct mime_tree *t;
	uint32_t uidvalidity;
	uint64_t modseq;
	char *uidl;

	put_msgs(f, 2, msg_multi);
	open_inbox(f, &st, &mb);
	uidvalidity = store_mailbox_uidvalidity(mb);
	modseq = store_mailbox_highestmodseq(mb);
	uidl = xstrdup(store_mailbox_msg(mb, 1)->uidl);
	store_mailbox_close(&mb);
	store_close(&st);
	index_exec(f, "DROP TABLE mime; DROP TABLE recent");
	assert_int_equal(index_count(f,
	                     "SELECT count(*) FROM sqlite_master "
	                     "WHERE name IN ('mime', 'recent')"),
	    0);

	open_inbox(f, &st, &mb);
	assert_int_equal(index_count(f,
	                     "SELECT count(*) FROM sqlite_master "
	                     "WHERE name IN ('mime', 'recent')"),
	    2);
	assert_int_equal(store_mailbox_uidvalidity(mb), uidvalidity);
	assert_int_equal(store_mailbox_highestmodseq(mb), modseq);
	assert_int_equal(store_mailbox_msg(mb, 1)->uid, 2);
	assert_string_equal(store_mailbox_msg(mb, 1)->uidl, uidl);
	t = tree_ok(mb, 1, -1);
	check_multi(t);
	mime_tree_free(&t);
	store_mailbox_close(&mb);
	assert_int_equal(index_count(f, "SELECT count(*) FROM mime"), 1);
	store_close(&st);
	free(uidl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t)                                                                   \
	cmocka_unit_test_setup_teardown(                                       \
	    t, store_fixture_setup, store_fixture_teardown)
		T(test_store_tree_cache_hit),
		T(test_store_tree_fd),
		T(test_store_tree_gone),
		T(test_store_tree_damaged),
		T(test_store_tree_expunge),
		T(test_store_tree_expunged_before_flush),
		T(test_store_tree_batches),
		T(test_store_tree_parts),
		T(test_store_tree_read_only),
		T(test_store_tree_folder_delete),
		T(test_store_tree_old_index),
#undef T
	};

	log_set_min_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
