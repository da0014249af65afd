/*
 * Unit tests for the mail store (src/store/store*.c): the view, UIDs in
 * delivery order, moving new/ to cur/ (and leaving a bulk arrival in
 * new/), reading messages, flag changes,
 * expunges, changes other programs make (mutt's renames), the cheap sync
 * path that reads no directory, and two store handles at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "store_test.h"

static const char body1[] = "Subject: one\n\nline\n";
static const char body2[] = "Subject: two\r\n\r\ncrlf\r\n";
static const char body3[] = "Subject: three\n\nx\n";

/* Three deliveries whose names sort the wrong way as plain strings. */
static void
put_three(const struct store_fixture *f)
{
	put_file(f, "new", "999999999.M9Q1R0.host,S=19", body1);
	put_file(f, "new", "1000000000.M5Q2R0.host,S=22", body2);
	put_file(f, "new", "1000000000.M10Q3R0.host,S=18", body3);
}

static char *
read_msg(struct store_mailbox *mb, size_t i)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	assert_int_equal(store_msg_open(mb, i, &fd), 0);
	buf_init(&b, 1 << 20);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_append(&b, chunk, (size_t)n), 0);
	(void)close(fd);
	if (b.data == NULL)
		assert_int_equal(buf_append_str(&b, ""), 0);
	return buf_steal(&b);
}

static void
test_store_empty_mailbox(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	uint32_t now = (uint32_t)time(NULL);

	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_count(mb), 0);
	assert_int_equal(store_mailbox_uidnext(mb), 1);
	/* UIDVALIDITY of a new folder: the time (as Dovecot) */
	assert_true(store_mailbox_uidvalidity(mb) + 5 >= now);
	assert_true(store_mailbox_uidvalidity(mb) <= now + 5);
	assert_true(fs_exists(f->index));
	store_mailbox_close(&mb);
	store_close(&st);
}

static void
test_store_uids_in_delivery_order(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	const struct store_msg *m;
	char *file, *got;

	put_three(f);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_count(mb), 3);
	m = store_mailbox_msg(mb, 0);
	assert_int_equal(m->uid, 1);
	assert_string_equal(m->uidl, "999999999.M9Q1R0.host");
	assert_int_equal(m->psize, 19);
	assert_int_equal(m->vsize, 19 + 3); /* three bare LFs */
	assert_int_equal(m->flags, 0);
	assert_true(m->modseq >= 1);
	m = store_mailbox_msg(mb, 1);
	assert_int_equal(m->uid, 2);
	assert_string_equal(m->uidl, "1000000000.M5Q2R0.host");
	assert_int_equal(m->vsize, 22); /* CRLF already */
	m = store_mailbox_msg(mb, 2);
	assert_int_equal(m->uid, 3);
	assert_string_equal(m->uidl, "1000000000.M10Q3R0.host");
	assert_int_equal(store_mailbox_uidnext(mb), 4);
	assert_int_equal(store_mailbox_vsize(mb), 22 + 22 + 21);
	assert_int_equal(store_mailbox_find_uid(mb, 2), 1);
	assert_int_equal(store_mailbox_find_uid(mb, 7), SIZE_MAX);
	/* moved to cur/ with an empty info (maildir(5)) */
	assert_null(find_file(f, "new", "1"));
	file = find_file(f, "cur", "1000000000.M5Q2R0.host");
	assert_string_equal(file, "1000000000.M5Q2R0.host,S=22:2,");
	free(file);
	got = read_msg(mb, 1);
	assert_string_equal(got, body2);
	free(got);
	store_mailbox_close(&mb);
	store_close(&st);

	/* again: the same UIDs from the index */
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_count(mb), 3);
	assert_int_equal(store_mailbox_msg(mb, 2)->uid, 3);
	store_mailbox_close(&mb);
	store_close(&st);
}

static void
test_store_new_mail_appends_to_view(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct store_sync_result res;

	put_file(f, "new", "100.M1Q1R0.host,S=19", body1);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_count(mb), 1);
	sync_ok(mb, &res);
	assert_int_equal(res.added, 0);
	put_file(f, "new", "101.M1Q1R0.host,S=18", body3);
	sync_ok(mb, &res);
	assert_int_equal(res.added, 1);
	assert_int_equal(res.removed, 0);
	assert_int_equal(store_mailbox_count(mb), 2);
	assert_int_equal(store_mailbox_msg(mb, 1)->uid, 2);
	store_mailbox_close(&mb);
	store_close(&st);
}

/* Two sessions with views of one folder: what one changes against its
 * stale view is applied to the flags as they are now, so that the
 * other's change stays; replace sets exactly what it says. */
static void
test_store_set_flags_merges(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;
	struct store_flag_change flag = { 0, STORE_FLAG_FLAGGED, 0, false };
	struct store_flag_change seen = { 0, STORE_FLAG_SEEN, 1u << 1, false };
	struct store_flag_change only = { 0, STORE_FLAG_ANSWERED, 0, true };
	struct store_flag_change unflag = { 0, 0, 0, false };
	struct buf err;

	buf_init(&err, 4096);
	put_three(f);
	open_inbox(f, &st, &mb);
	open_inbox(f, &st2, &mb2);
	/* session 2 flags message 1; session 1 has not seen it */
	assert_int_equal(store_mailbox_set_flags(mb2, &flag, 1, &err), 0);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags, 0);
	/* session 1 adds \Seen and a keyword: \Flagged stays */
	assert_int_equal(store_mailbox_set_flags(mb, &seen, 1, &err), 0);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags,
	    STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
	assert_int_equal(store_mailbox_msg(mb, 0)->keywords, 1u << 1);
	/* session 2, its view still at \Flagged, removes \Flagged only */
	assert_int_equal(store_mailbox_set_flags(mb2, &unflag, 1, &err), 0);
	assert_int_equal(store_mailbox_msg(mb2, 0)->flags, STORE_FLAG_SEEN);
	assert_int_equal(store_mailbox_msg(mb2, 0)->keywords, 1u << 1);
	/* replace: exactly \Answered, whatever the view says */
	assert_int_equal(store_mailbox_set_flags(mb, &only, 1, &err), 0);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags, STORE_FLAG_ANSWERED);
	assert_int_equal(store_mailbox_msg(mb, 0)->keywords, 0);
	store_mailbox_close(&mb);
	store_close(&st);
	store_mailbox_close(&mb2);
	store_close(&st2);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags, STORE_FLAG_ANSWERED);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

static void
test_store_set_flags_renames(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct store_flag_change c[2] = {
		{ 0, STORE_FLAG_SEEN | STORE_FLAG_ANSWERED, 0, false },
		{ 2, STORE_FLAG_DELETED, 1u << 2, false },
	};
	struct buf err;
	uint64_t ms;
	char *file;

	buf_init(&err, 4096);
	put_three(f);
	open_inbox(f, &st, &mb);
	ms = store_mailbox_highestmodseq(mb);
	assert_int_equal(store_mailbox_set_flags(mb, c, 2, &err), 0);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags,
	    STORE_FLAG_SEEN | STORE_FLAG_ANSWERED);
	assert_true(store_mailbox_msg(mb, 0)->modseq > ms);
	assert_true(store_mailbox_highestmodseq(mb) >= ms + 2);
	file = find_file(f, "cur", "999999999.M9Q1R0.host");
	assert_string_equal(file, "999999999.M9Q1R0.host,S=19:2,RS");
	free(file);
	file = find_file(f, "cur", "1000000000.M10Q3R0.host");
	assert_string_equal(file, "1000000000.M10Q3R0.host,S=18:2,Tc");
	free(file);
	/* reading still works under the new name */
	file = read_msg(mb, 0);
	assert_string_equal(file, body1);
	free(file);
	store_mailbox_close(&mb);
	store_close(&st);

	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags,
	    STORE_FLAG_SEEN | STORE_FLAG_ANSWERED);
	assert_int_equal(store_mailbox_msg(mb, 2)->keywords, 1u << 2);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

static void
test_store_expunge(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;
	struct store_sync_result res;
	size_t idx[2] = { 2, 0 };
	struct buf err;
	char *file;

	buf_init(&err, 4096);
	put_three(f);
	open_inbox(f, &st, &mb);
	open_inbox(f, &st2, &mb2);
	assert_int_equal(store_mailbox_expunge(mb, idx, 2, &err), 0);
	assert_int_equal(store_mailbox_count(mb), 1);
	assert_int_equal(store_mailbox_msg(mb, 0)->uid, 2);
	assert_null(find_file(f, "cur", "999999999"));
	file = find_file(f, "cur", "1000000000.M5");
	assert_non_null(file);
	free(file);
	/* the other session sees it at its next sync, not before */
	assert_int_equal(store_mailbox_count(mb2), 3);
	sync_ok(mb2, &res);
	assert_int_equal(res.removed, 2);
	assert_int_equal(store_mailbox_count(mb2), 1);
	/* the other session's view held them: it may still expunge */
	store_mailbox_close(&mb2);
	store_close(&st2);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

/* mutt renames files to change flags and deletes them itself. */
static void
test_store_notices_other_programs(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct store_sync_result res;
	char *from, *to, *got;

	put_three(f);
	open_inbox(f, &st, &mb);
	from = xasprintf("%s/cur/1000000000.M5Q2R0.host,S=22:2,", f->maildir);
	to = xasprintf("%s/cur/1000000000.M5Q2R0.host,S=22:2,FS", f->maildir);
	assert_int_equal(rename(from, to), 0);
	/* reading before the sync finds the renamed file */
	got = read_msg(mb, 1);
	assert_string_equal(got, body2);
	free(got);
	free(from);
	free(to);
	to = xasprintf("%s/cur/999999999.M9Q1R0.host,S=19:2,", f->maildir);
	assert_int_equal(unlink(to), 0);
	free(to);
	sync_ok(mb, &res);
	assert_int_equal(res.removed, 1);
	assert_int_equal(res.changed, 1);
	assert_int_equal(store_mailbox_count(mb), 2);
	assert_int_equal(store_mailbox_msg(mb, 0)->uid, 2);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags,
	    STORE_FLAG_FLAGGED | STORE_FLAG_SEEN);
	/* a file removed after the view was made: ENOENT, view unchanged */
	to = xasprintf("%s/cur/1000000000.M10Q3R0.host,S=18:2,", f->maildir);
	assert_int_equal(unlink(to), 0);
	free(to);
	{
		int fd;

		errno = 0;
		assert_int_equal(store_msg_open(mb, 1, &fd), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(store_mailbox_count(mb), 2);
	}
	store_mailbox_close(&mb);
	store_close(&st);
}

/* Unchanged directories (old mtimes): the sync reads no directory. */
static void
test_store_cheap_sync_reads_no_directory(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct store_sync_result res;
	struct timespec ts[2];
	struct stat sb;
	char *cur = xasprintf("%s/cur", f->maildir);

	put_three(f);
	open_inbox(f, &st, &mb);
	age_dirs(f);
	sync_ok(mb, &res); /* scans; the mtimes are old: stored */
	assert_int_equal(stat(cur, &sb), 0);
	/* a file slipped in behind an unchanged mtime is not seen: proof
	 * that nothing read the directory */
	put_file(f, "cur", "2000000000.M1Q9R0.host,S=18:2,", body3);
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, cur, ts, 0), 0);
	sync_ok(mb, &res);
	assert_int_equal(res.added, 0);
	assert_int_equal(store_mailbox_count(mb), 3);
	/* a recent mtime is never trusted: the change is seen */
	assert_int_equal(utimensat(AT_FDCWD, cur, NULL, 0), 0);
	sync_ok(mb, &res);
	assert_int_equal(res.added, 1);
	assert_int_equal(store_mailbox_count(mb), 4);
	store_mailbox_close(&mb);
	store_close(&st);
	free(cur);
}

static void
test_store_read_only_leaves_new(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct store_flag_change c = { 0, STORE_FLAG_SEEN, 0, false };
	struct buf err;
	size_t idx = 0;
	char *got;

	buf_init(&err, 4096);
	put_three(f);
	assert_int_equal(store_open(f->maildir, &st, &err), 0);
	assert_int_equal(store_mailbox_open(st, "inbox", true, &mb, &err), 0);
	assert_int_equal(store_mailbox_count(mb), 3);
	got = find_file(f, "new", "999999999");
	assert_non_null(got);
	free(got);
	got = read_msg(mb, 0);
	assert_string_equal(got, body1);
	free(got);
	errno = 0;
	assert_int_equal(store_mailbox_set_flags(mb, &c, 1, &err), -1);
	assert_int_equal(errno, EROFS);
	assert_int_equal(store_mailbox_expunge(mb, &idx, 1, &err), -1);
	assert_int_equal(errno, EROFS);
	store_mailbox_close(&mb);
	/* a writer later leaves what is indexed where it is; the UIDs stay,
	 * and a flag change moves the file to cur/ */
	assert_int_equal(store_mailbox_open(st, "INBOX", false, &mb, &err), 0);
	assert_int_equal(store_mailbox_count(mb), 3);
	assert_int_equal(store_mailbox_msg(mb, 0)->uid, 1);
	got = read_msg(mb, 0);
	assert_string_equal(got, body1);
	free(got);
	assert_int_equal(store_mailbox_set_flags(mb, &c, 1, &err), 0);
	assert_null(find_file(f, "new", "999999999"));
	got = find_file(f, "cur", "999999999");
	assert_non_null(got);
	free(got);
	got = read_msg(mb, 0);
	assert_string_equal(got, body1);
	free(got);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

/* More new mail than the sync moves at once (STORE_SYNC_MOVE_MAX) is
 * indexed in new/; each file moves to cur/ when its flags change, can be
 * expunged there, and keeps its UID when another program moves it. The
 * next delivery, alone, moves as usual. */
static void
test_store_bulk_new_stays(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct store_flag_change c = { 3, STORE_FLAG_FLAGGED, 0, false };
	struct buf err;
	size_t idx = 5, i;
	char name[64], *got, *from, *to;

	buf_init(&err, 4096);
	for (i = 0; i < 100; i++) {
		(void)snprintf(name, sizeof(name), "%zu.M%zuP1.host,S=19",
		    (size_t)1000000000 + i, i);
		put_file(f, "new", name, body1);
	}
	assert_int_equal(store_open(f->maildir, &st, &err), 0);
	assert_int_equal(store_mailbox_open(st, "INBOX", false, &mb, &err), 0);
	assert_int_equal(store_mailbox_count(mb), 100);
	assert_non_null(got = find_file(f, "new", "1000000000."));
	free(got);
	assert_null(find_file(f, "cur", "1000000000."));
	/* a flag change moves the file */
	assert_int_equal(store_mailbox_set_flags(mb, &c, 1, &err), 0);
	assert_null(find_file(f, "new", "1000000003."));
	assert_non_null(got = find_file(f, "cur", "1000000003."));
	assert_non_null(strstr(got, ":2,F"));
	free(got);
	/* an expunge removes it from new/ */
	assert_int_equal(store_mailbox_expunge(mb, &idx, 1, &err), 0);
	assert_null(find_file(f, "new", "1000000005."));
	assert_int_equal(store_mailbox_count(mb), 99);
	/* mutt moves one to cur/ as seen: the same UID, now \Seen */
	from = xasprintf("%s/new/1000000007.M7P1.host,S=19", f->maildir);
	to = xasprintf("%s/cur/1000000007.M7P1.host,S=19:2,S", f->maildir);
	assert_int_equal(rename(from, to), 0);
	free(from);
	free(to);
	/* one more delivery, alone: it moves to cur/ */
	put_file(f, "new", "1000000200.M200P1.host,S=19", body1);
	sync_ok(mb, NULL);
	assert_int_equal(store_mailbox_count(mb), 100);
	assert_int_equal(store_mailbox_msg(mb, 6)->uid, 8);
	assert_true(store_mailbox_msg(mb, 6)->flags & STORE_FLAG_SEEN);
	assert_int_equal(store_mailbox_msg(mb, 99)->uid, 101);
	assert_null(find_file(f, "new", "1000000200."));
	assert_non_null(got = find_file(f, "cur", "1000000200."));
	free(got);
	got = read_msg(mb, 99);
	assert_string_equal(got, body1);
	free(got);
	got = read_msg(mb, 50);
	assert_string_equal(got, body1);
	free(got);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

static void
test_store_folders(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct buf err;
	char *p;

	buf_init(&err, 4096);
	assert_int_equal(store_open(f->maildir, &st, &err), 0);
	errno = 0;
	assert_int_equal(store_mailbox_open(st, "Sent", false, &mb, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_mailbox_open(st, "../x", false, &mb, &err), -1);
	assert_int_equal(store_mailbox_open(st, ".x", false, &mb, &err), -1);
	p = xasprintf("%s/.Sent", f->maildir);
	assert_int_equal(maildir_ensure(p), 0);
	free(p);
	assert_int_equal(store_mailbox_open(st, "Sent", false, &mb, &err), 0);
	assert_int_equal(store_mailbox_count(mb), 0);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t)                                                                   \
	cmocka_unit_test_setup_teardown(                                       \
	    t, store_fixture_setup, store_fixture_teardown)
		T(test_store_empty_mailbox),
		T(test_store_uids_in_delivery_order),
		T(test_store_new_mail_appends_to_view),
		T(test_store_set_flags_renames),
		T(test_store_set_flags_merges),
		T(test_store_expunge),
		T(test_store_notices_other_programs),
		T(test_store_cheap_sync_reads_no_directory),
		T(test_store_read_only_leaves_new),
		T(test_store_bulk_new_stays),
		T(test_store_folders),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
