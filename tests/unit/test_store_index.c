/*
 * Unit tests for the store's index as a cache that can be lost: a
 * damaged or deleted index is rebuilt with the same POP3 UIDLs, a
 * Dovecot Maildir keeps its UIDs, UIDVALIDITY and UIDLs, and several
 * processes delivering and syncing at once give every file exactly one
 * UID and lose none.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/log.h"
#include "store/store_private.h"
#include "store_test.h"

static const char body[] = "Subject: x\n\nbody\n";

/* The UIDLs of the view, one per line. */
static char *
uidls(struct store_mailbox *mb)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	assert_int_equal(buf_append_str(&b, ""), 0);
	for (i = 0; i < store_mailbox_count(mb); i++)
		assert_int_equal(
		    buf_printf(&b, "%s\n", store_mailbox_msg(mb, i)->uidl), 0);
	return buf_steal(&b);
}

static char *
inbox_uidls(const struct store_fixture *f)
{
	struct store *st;
	struct store_mailbox *mb;
	char *u;

	open_inbox(f, &st, &mb);
	u = uidls(mb);
	store_mailbox_close(&mb);
	store_close(&st);
	return u;
}

static void
put_some(const struct store_fixture *f)
{
	char *longname;

	put_file(f, "new", "1700000000.M1Q1R0.host,S=17", body);
	put_file(f, "cur", "1700000001.M1Q2R0.host,S=17:2,S", body);
	/* too long for a UIDL: a digest stands in */
	longname = xasprintf("1700000002.M1Q3R0.%080d,S=17:2,", 7);
	put_file(f, "cur", longname, body);
	free(longname);
}

/* How many damaged index files were moved aside. */
static size_t
count_corrupt(const struct store_fixture *f)
{
	char *dir = xasprintf("%s/example.test/bob", f->dir);
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".corrupt-") != NULL &&
		    strchr(strstr(de->d_name, ".corrupt-"), '-') ==
		        strrchr(de->d_name, '-');
	(void)closedir(d);
	free(dir);
	return n;
}

static void
test_store_index_garbage_is_rebuilt(void **state)
{
	struct store_fixture *f = *state;
	char *before, *after;
	struct store *st;
	struct store_mailbox *mb;
	const char *digest;
	size_t pass;

	put_some(f);
	before = inbox_uidls(f);
	digest = strrchr(before, '\n');
	assert_non_null(digest);
	assert_non_null(strstr(before, "1700000000.M1Q1R0.host\n"));
	/* the third is 40 hex digits */
	{
		const char *third = strchr(strchr(before, '\n') + 1, '\n') + 1;

		assert_int_equal(strcspn(third, "\n"), 40);
	}
	for (pass = 0; pass < 3; pass++) {
		static const char *const damage[] = { "garbage garbage",
			"SQLite format 3", "" };
		char *p;

		assert_int_equal(fs_atomic_write(f->index, damage[pass],
		                     strlen(damage[pass]), 0600),
		    0);
		p = xasprintf("%s-wal", f->index);
		(void)unlink(p);
		free(p);
		after = inbox_uidls(f);
		assert_string_equal(after, before);
		free(after);
	}
	/* the damaged file was kept aside for a post-mortem */
	assert_true(count_corrupt(f) >= 1);
	/* and the mailbox works */
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_count(mb), 3);
	{
		struct buf err;
		size_t idx = 0;

		buf_init(&err, 1024);
		assert_int_equal(store_mailbox_expunge(mb, &idx, 1, &err), 0);
		buf_free(&err);
	}
	store_mailbox_close(&mb);
	store_close(&st);
	free(before);
}

/* A truncated index (a page cut off) is detected and rebuilt too. */
static void
test_store_index_truncated_is_rebuilt(void **state)
{
	struct store_fixture *f = *state;
	char *before, *after;
	struct stat sb;
	int i;

	put_some(f);
	for (i = 0; i < 20; i++) {
		char name[64];

		(void)snprintf(
		    name, sizeof(name), "17000001%02d.M1Q9R%d.host,S=17", i, i);
		put_file(f, "new", name, body);
	}
	before = inbox_uidls(f);
	assert_int_equal(stat(f->index, &sb), 0);
	{
		struct store *st;
		struct store_mailbox *mb;

		/* checkpointed into the main file first */
		open_inbox(f, &st, &mb);
		store_mailbox_close(&mb);
		store_close(&st);
	}
	assert_int_equal(stat(f->index, &sb), 0);
	assert_int_equal(truncate(f->index, sb.st_size / 2), 0);
	after = inbox_uidls(f);
	assert_string_equal(after, before);
	free(after);
	free(before);
}

/* A damaged index whose messages can still be read: those rows (UIDs,
 * UIDVALIDITY) are kept. The damage is in the base-name index only. */
static void
test_store_index_damaged_keeps_readable_uids(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	sqlite3 *db;
	sqlite3_stmt *s;
	struct buf err;
	size_t idx = 0;
	uint32_t uv;
	long long page, psize;
	int fd;

	buf_init(&err, 1024);
	put_some(f);
	open_inbox(f, &st, &mb);
	uv = store_mailbox_uidvalidity(mb);
	assert_int_equal(store_mailbox_expunge(mb, &idx, 1, &err), 0);
	store_mailbox_close(&mb);
	store_close(&st); /* the last close checkpoints the WAL */
	assert_int_equal(sqlite3_open(f->index, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "SELECT rootpage, (SELECT page_size FROM "
	                     "pragma_page_size) FROM sqlite_master WHERE "
	                     "name = 'sqlite_autoindex_messages_2'",
	                     -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	page = sqlite3_column_int64(s, 0);
	psize = sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_true(page > 1);
	fd = open(f->index, O_WRONLY | O_CLOEXEC);
	assert_true(fd != -1);
	assert_int_equal(pwrite(fd, "\x77\x77\x77\x77\x77\x77\x77\x77", 8,
	                     (off_t)((page - 1) * psize)),
	    8);
	(void)close(fd);
	/* this process checked the file when it first opened it, and the
	 * damage is where no statement of an open looks: unseen */
	open_inbox(f, &st, &mb);
	assert_int_equal(count_corrupt(f), 0);
	assert_int_equal(store_mailbox_count(mb), 2);
	store_mailbox_close(&mb);
	store_close(&st);
	/* a process that had not opened it yet checks it */
	store_index_checked_reset();
	open_inbox(f, &st, &mb);
	assert_int_equal(count_corrupt(f), 1); /* it was seen as damaged */
	assert_int_equal(store_mailbox_uidvalidity(mb), uv);
	assert_int_equal(store_mailbox_count(mb), 2);
	assert_int_equal(store_mailbox_msg(mb, 0)->uid, 2);
	assert_int_equal(store_mailbox_msg(mb, 1)->uid, 3);
	assert_int_equal(store_mailbox_uidnext(mb), 4);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

/* Damage that a statement meets in a file this process has checked
 * already (store_open checks a file once per process): the open that
 * meets it checks the file again, moves it aside and rebuilds, and the
 * next open of another file checks that one again too. */
static void
test_store_index_damage_in_use_recovers(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	sqlite3 *db;
	sqlite3_stmt *s;
	long long page, psize;
	int fd;

	put_some(f);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_count(mb), 3);
	store_mailbox_close(&mb);
	store_close(&st); /* checkpointed: the rows are in the main file */
	assert_int_equal(sqlite3_open(f->index, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "SELECT rootpage, (SELECT page_size FROM "
	                     "pragma_page_size) FROM sqlite_master WHERE "
	                     "name = 'messages'",
	                     -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	page = sqlite3_column_int64(s, 0);
	psize = sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_true(page > 1);
	fd = open(f->index, O_WRONLY | O_CLOEXEC);
	assert_true(fd != -1);
	/* the page type byte and what follows: not a b-tree page */
	assert_int_equal(pwrite(fd, "\x77\x77\x77\x77\x77\x77\x77\x77", 8,
	                     (off_t)((page - 1) * psize)),
	    8);
	(void)close(fd);
	open_inbox(f, &st, &mb);
	assert_int_equal(count_corrupt(f), 1);
	assert_int_equal(store_mailbox_count(mb), 3);
	store_mailbox_close(&mb);
	store_close(&st);
	/* the new file is checked (once) and fine */
	open_inbox(f, &st, &mb);
	assert_int_equal(count_corrupt(f), 1);
	assert_int_equal(store_mailbox_count(mb), 3);
	store_mailbox_close(&mb);
	store_close(&st);
}

static void
test_store_index_rebuild_keeps_uids(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct buf err;
	uint32_t uv, uid3;
	char *p;

	buf_init(&err, 1024);
	put_some(f);
	open_inbox(f, &st, &mb);
	uv = store_mailbox_uidvalidity(mb);
	{
		size_t idx = 0;

		assert_int_equal(store_mailbox_expunge(mb, &idx, 1, &err), 0);
	}
	uid3 = store_mailbox_msg(mb, 1)->uid;
	assert_int_equal(uid3, 3);
	store_mailbox_close(&mb);
	store_close(&st);
	/* a readable index: the UIDs and UIDVALIDITY stay */
	assert_int_equal(store_index_rebuild(f->maildir, &err), 0);
	open_inbox(f, &st, &mb);
	assert_int_equal(count_corrupt(f), 0);
	assert_int_equal(store_mailbox_uidvalidity(mb), uv);
	assert_int_equal(store_mailbox_count(mb), 2);
	assert_int_equal(store_mailbox_msg(mb, 1)->uid, 3);
	assert_int_equal(store_mailbox_uidnext(mb), 4);
	store_mailbox_close(&mb);
	store_close(&st);
	/* no index at all: new UIDs, the same UIDLs */
	assert_int_equal(unlink(f->index), 0);
	p = xasprintf("%s-wal", f->index);
	(void)unlink(p);
	free(p);
	assert_int_equal(store_index_rebuild(f->maildir, &err), 0);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_count(mb), 2);
	assert_int_equal(store_mailbox_msg(mb, 0)->uid, 1);
	assert_string_equal(
	    store_mailbox_msg(mb, 0)->uidl, "1700000001.M1Q2R0.host");
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

/* An index replaced under an open store (removed, then rebuilt by
 * another process): the next sync opens the new file. */
static void
test_store_index_replaced_while_open(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct buf err;
	char *before, *after, *p;

	buf_init(&err, 1024);
	put_some(f);
	open_inbox(f, &st, &mb);
	before = uidls(mb);
	assert_int_equal(unlink(f->index), 0);
	p = xasprintf("%s-wal", f->index);
	(void)unlink(p);
	free(p);
	/* another process makes the new index and expunges in it */
	{
		struct store *st2;
		struct store_mailbox *mb2;
		size_t idx = 0;

		open_inbox(f, &st2, &mb2);
		assert_int_equal(store_mailbox_expunge(mb2, &idx, 1, &err), 0);
		store_mailbox_close(&mb2);
		store_close(&st2);
	}
	/* and a mark only the new file has */
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(f->index, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db,
		                     "UPDATE mailboxes SET uidvalidity = 42, "
		                     "gen = gen + 1",
		                     NULL, NULL, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
	}
	/* this one follows: it sees the expunge made in the new file */
	sync_ok(mb, NULL);
	assert_int_equal(store_mailbox_uidvalidity(mb), 42);
	assert_int_equal(store_mailbox_count(mb), 2);
	after = uidls(mb);
	assert_string_equal(after, strchr(before, '\n') + 1);
	store_mailbox_close(&mb);
	store_close(&st);
	free(before);
	free(after);
	buf_free(&err);
}

static void
test_store_index_dovecot_drop_in(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	const struct store_msg *m;
	char *p;

	put_file(f, "cur", "1600000000.M1P1.old,S=17,W=20:2,Sb", body);
	put_file(f, "cur", "1600000001.M2P2.old,S=17:2,", body);
	put_file(f, "new", "1600000002.M3P3.old", body);
	put_file(f, "new", "1600000003.M4P4.new", body); /* not listed */
	p = xasprintf("%s/dovecot-uidlist", f->maildir);
	{
		static const char ul[] =
		    "3 V1234567 N60 G0123456789abcdef\n"
		    "17 W20 :1600000000.M1P1.old,S=17,W=20\n"
		    "42 Pmy-old-uidl :1600000001.M2P2.old,S=17\n"
		    "50 :1600000002.M3P3.old\n"
		    "55 :1500000000.gone\n";

		assert_int_equal(
		    fs_atomic_write(p, ul, sizeof(ul) - 1, 0600), 0);
	}
	free(p);
	p = xasprintf("%s/dovecot-keywords", f->maildir);
	assert_int_equal(fs_atomic_write(p, "0 $Junk\n1 Work\n", 15, 0600), 0);
	free(p);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_uidvalidity(mb), 1234567);
	assert_int_equal(store_mailbox_count(mb), 4);
	m = store_mailbox_msg(mb, 0);
	assert_int_equal(m->uid, 17);
	/* Dovecot's default pop3_uidl_format %08Xu%08Xv (lower-case) */
	assert_string_equal(m->uidl,
	    "00000011"
	    "0012d687");
	assert_int_equal(m->vsize, 20);
	assert_int_equal(m->keywords, 2);
	assert_string_equal(store_mailbox_keyword_name(mb, 1), "Work");
	assert_string_equal(store_mailbox_keyword_name(mb, 0), "$Junk");
	assert_null(store_mailbox_keyword_name(mb, 2));
	assert_null(store_mailbox_keyword_name(mb, 99));
	m = store_mailbox_msg(mb, 1);
	assert_int_equal(m->uid, 42);
	assert_string_equal(m->uidl, "my-old-uidl");
	assert_int_equal(store_mailbox_msg(mb, 2)->uid, 50);
	m = store_mailbox_msg(mb, 3);
	assert_int_equal(m->uid, 60); /* after the list's next UID */
	assert_string_equal(m->uidl, "1600000003.M4P4.new");
	assert_int_equal(store_mailbox_uidnext(mb), 61);
	store_mailbox_close(&mb);
	store_close(&st);
}

/* ---- processes at once ------------------------------------------------ */

#define PROCS    4
#define PER_PROC 25

static void
store_seterr_test(struct buf *err, const char *fmt, const char *s)
{
	buf_reset(err);
	(void)!buf_printf(err, fmt, s);
}

/* A child: delivers PER_PROC messages, syncing after each, and writes
 * every "uid uidl" it saw to out. */
static int
child_run(const struct store_fixture *f, int k, const char *out)
{
	struct store *st = NULL;
	struct store_mailbox *mb = NULL;
	struct buf err, seen;
	size_t i;
	int j, ret = 1;

	buf_init(&err, 4096);
	buf_init(&seen, 1 << 24);
	if (store_open(f->maildir, &st, &err) == -1 ||
	    store_mailbox_open(st, "INBOX", false, &mb, &err) == -1)
		goto out;
	for (j = 0; j < PER_PROC; j++) {
		/* as deliveries do: written in tmp/, then moved to new/ */
		char *tmp = xasprintf(
		    "%s/tmp/17%08d.M%dQ%dR0.host,S=17", f->maildir, j, k, j);
		char *name = xasprintf(
		    "%s/new/17%08d.M%dQ%dR0.host,S=17", f->maildir, j, k, j);
		int r = fs_atomic_write(tmp, body, sizeof(body) - 1, 0600);

		if (r == 0)
			r = rename(tmp, name);
		free(tmp);
		free(name);
		if (r == -1) {
			store_seterr_test(&err, "deliver: %s", strerror(errno));
			goto out;
		}
		if (store_mailbox_sync(mb, NULL, &err) == -1)
			goto out;
		for (i = 0; i < store_mailbox_count(mb); i++) {
			const struct store_msg *m = store_mailbox_msg(mb, i);

			if (buf_printf(&seen, "%u %s\n", m->uid, m->uidl) == -1)
				goto out;
		}
	}
	if (fs_atomic_write(out, seen.data, seen.len, 0600) == -1)
		goto out;
	ret = 0;
out:
	if (ret != 0)
		fprintf(stderr, "child %d: %s\n", k, buf_cstr(&err));
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
	buf_free(&seen);
	return ret;
}

static void
test_store_index_processes_at_once(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	pid_t pids[PROCS];
	char *uidl_of[PROCS * PER_PROC + 1] = { 0 };
	int k, status;
	size_t i;

	/* the index exists before the race: creating it is tested above */
	open_inbox(f, &st, &mb);
	store_mailbox_close(&mb);
	store_close(&st);
	for (k = 0; k < PROCS; k++) {
		char *out = xasprintf("%s/seen.%d", f->dir, k);

		pids[k] = fork();
		assert_true(pids[k] != -1);
		if (pids[k] == 0)
			_exit(child_run(f, k, out));
		free(out);
	}
	for (k = 0; k < PROCS; k++) {
		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	/* nothing lost, nothing twice */
	open_inbox(f, &st, &mb);
	assert_int_equal(store_mailbox_count(mb), PROCS * PER_PROC);
	for (i = 0; i < store_mailbox_count(mb); i++) {
		const struct store_msg *m = store_mailbox_msg(mb, i);

		assert_int_equal(m->uid, i + 1);
		uidl_of[m->uid] = xstrdup(m->uidl);
	}
	store_mailbox_close(&mb);
	store_close(&st);
	/* every process saw every message under that one UID */
	for (k = 0; k < PROCS; k++) {
		char *out = xasprintf("%s/seen.%d", f->dir, k), *p, *nl;
		struct buf b;

		buf_init(&b, 1 << 24);
		assert_int_equal(fs_read_file(out, &b), 0);
		for (p = b.data; p != NULL && (nl = strchr(p, '\n')) != NULL;
		     p = nl + 1) {
			unsigned long uid;
			char *sp;

			*nl = '\0';
			uid = strtoul(p, &sp, 10);
			assert_true(uid >= 1 && uid <= PROCS * PER_PROC);
			assert_string_equal(sp + 1, uidl_of[uid]);
		}
		buf_free(&b);
		free(out);
	}
	for (i = 0; i < MW_NELEM(uidl_of); i++)
		free(uidl_of[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t)                                                                   \
	cmocka_unit_test_setup_teardown(                                       \
	    t, store_fixture_setup, store_fixture_teardown)
		T(test_store_index_garbage_is_rebuilt),
		T(test_store_index_truncated_is_rebuilt),
		T(test_store_index_damaged_keeps_readable_uids),
		T(test_store_index_damage_in_use_recovers),
		T(test_store_index_rebuild_keeps_uids),
		T(test_store_index_replaced_while_open),
		T(test_store_index_dovecot_drop_in),
		T(test_store_index_processes_at_once),
#undef T
	};

	log_set_min_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
