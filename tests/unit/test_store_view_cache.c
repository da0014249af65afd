/*
 * Unit tests for the per-process view cache (store_view.c): a second
 * session on a folder that did not change copies the first one's view
 * instead of reading the rows; each session's view stays its own to
 * change (flags, renamed files); any change to the folder, a replaced
 * index or an eviction makes the next open read the rows again; sessions
 * on several threads at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

#include "lib/log.h"
#include "store/store_private.h"
#include "store_test.h"

#define NMSG 5

static int
cache_setup(void **state)
{
	store_view_cache_clear();
	store_view_cache_min = 1;
	store_view_cache_max_msgs = 1000;
	return store_fixture_setup(state);
}

static int
cache_teardown(void **state)
{
	store_view_cache_clear();
	return store_fixture_teardown(state);
}

static void
put_n(const struct store_fixture *f, const char *sub, size_t n)
{
	char name[64];
	size_t i;

	for (i = 0; i < n; i++) {
		(void)snprintf(name, sizeof(name), "%zu.M%zuP1.host:2,",
		    (size_t)1000000000 + i, i);
		put_file(f, sub, name, "Subject: x\n\nbody\n");
	}
}

/* The views a and b hold the same messages. */
static void
same_view(struct store_mailbox *a, struct store_mailbox *b)
{
	size_t i;

	assert_int_equal(store_mailbox_count(a), store_mailbox_count(b));
	for (i = 0; i < store_mailbox_count(a); i++) {
		const struct store_msg *x = store_mailbox_msg(a, i);
		const struct store_msg *y = store_mailbox_msg(b, i);

		assert_int_equal(x->uid, y->uid);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->vsize, y->vsize);
		assert_int_equal(x->modseq, y->modseq);
		assert_string_equal(x->uidl, y->uidl);
		assert_string_equal(a->f[i].file, b->f[i].file);
	}
}

static void
open_close_msg(struct store_mailbox *mb, size_t i)
{
	int fd;

	assert_int_equal(store_msg_open(mb, i, &fd), 0);
	(void)close(fd);
}

static void
test_store_view_cache_hit(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;
	size_t hits = store_view_cache_hits;

	put_n(f, "cur", NMSG);
	age_dirs(f);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_view_cache_hits, hits);
	open_inbox(f, &st2, &mb2);
	assert_int_equal(store_view_cache_hits, hits + 1);
	same_view(mb, mb2);
	open_close_msg(mb2, NMSG - 1);
	store_mailbox_close(&mb);
	store_close(&st);
	/* the strings outlive the session that loaded them */
	assert_string_equal(mb2->f[0].file, "1000000000.M0P1.host:2,");
	store_mailbox_close(&mb2);
	store_close(&st2);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_view_cache_hits, hits + 2);
	store_mailbox_close(&mb);
	store_close(&st);
}

/* A session's flag change is its own until the others sync; the next
 * session reads the rows again. */
static void
test_store_view_cache_own_copy(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2, *st3;
	struct store_mailbox *mb, *mb2, *mb3;
	struct store_flag_change c = { .i = 0, .flags = STORE_FLAG_FLAGGED };
	struct store_sync_result res;
	struct buf err;
	size_t hits;

	buf_init(&err, 1024);
	put_n(f, "cur", NMSG);
	age_dirs(f);
	open_inbox(f, &st, &mb);
	open_inbox(f, &st2, &mb2);
	hits = store_view_cache_hits;
	assert_int_equal(store_mailbox_set_flags(mb, &c, 1, &err), 0);
	assert_int_equal(store_mailbox_msg(mb, 0)->flags, STORE_FLAG_FLAGGED);
	assert_int_equal(store_mailbox_msg(mb2, 0)->flags, 0);
	open_inbox(f, &st3, &mb3);
	assert_int_equal(store_view_cache_hits, hits); /* a new state */
	assert_int_equal(store_mailbox_msg(mb3, 0)->flags, STORE_FLAG_FLAGGED);
	sync_ok(mb2, &res);
	assert_int_equal(res.changed, 1);
	assert_int_equal(store_mailbox_msg(mb2, 0)->flags, STORE_FLAG_FLAGGED);
	same_view(mb2, mb3);
	store_mailbox_close(&mb);
	store_mailbox_close(&mb2);
	store_mailbox_close(&mb3);
	store_close(&st);
	store_close(&st2);
	store_close(&st3);
	buf_free(&err);
}

/* Views from the cache share its arrays until one changes: an expunge
 * in one leaves the others as they were. */
static void
test_store_view_cache_shared(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2, *st3;
	struct store_mailbox *mb, *mb2, *mb3;
	struct store_flag_change c = { .i = 1, .flags = STORE_FLAG_SEEN };
	size_t gone = 0;
	struct buf err;

	buf_init(&err, 1024);
	put_n(f, "cur", NMSG);
	age_dirs(f);
	open_inbox(f, &st, &mb);
	open_inbox(f, &st2, &mb2);
	open_inbox(f, &st3, &mb3);
	assert_false(mb->shared);
	assert_true(mb2->shared);
	assert_true(mb3->shared);
	assert_ptr_equal(mb2->v, mb3->v);
	assert_int_equal(store_mailbox_expunge(mb2, &gone, 1, &err), 0);
	assert_false(mb2->shared);
	assert_int_equal(store_mailbox_count(mb2), NMSG - 1);
	assert_int_equal(store_mailbox_msg(mb2, 0)->uid, 2);
	assert_int_equal(store_mailbox_count(mb3), NMSG);
	assert_int_equal(store_mailbox_msg(mb3, 0)->uid, 1);
	assert_string_equal(mb3->f[0].file, "1000000000.M0P1.host:2,");
	/* a flag change in another shared view: its own copy too */
	assert_int_equal(store_mailbox_set_flags(mb3, &c, 1, &err), 0);
	assert_false(mb3->shared);
	assert_int_equal(store_mailbox_msg(mb3, 1)->flags, STORE_FLAG_SEEN);
	assert_int_equal(store_mailbox_msg(mb, 1)->flags, 0);
	store_mailbox_close(&mb);
	store_mailbox_close(&mb2);
	store_mailbox_close(&mb3);
	store_close(&st);
	store_close(&st2);
	store_close(&st3);
	buf_free(&err);
}

/* A file renamed behind the sessions' backs: each finds it on its own;
 * the shared names are not changed. */
static void
test_store_view_cache_renamed(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;
	char *from, *to;

	put_n(f, "cur", NMSG);
	age_dirs(f);
	open_inbox(f, &st, &mb);
	open_inbox(f, &st2, &mb2);
	from = xasprintf("%s/cur/1000000001.M1P1.host:2,", f->maildir);
	to = xasprintf("%s/cur/1000000001.M1P1.host:2,S", f->maildir);
	assert_int_equal(rename(from, to), 0);
	open_close_msg(mb, 1);
	assert_true(mb->f[1].own);
	assert_string_equal(mb2->f[1].file, "1000000001.M1P1.host:2,");
	open_close_msg(mb2, 1);
	store_mailbox_close(&mb);
	store_mailbox_close(&mb2);
	store_close(&st);
	store_close(&st2);
	free(from);
	free(to);
}

/* An index removed (and made again) is another file: no snapshot of the
 * old one is taken for it. */
static void
test_store_view_cache_index_replaced(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	size_t hits;
	char *p;

	put_n(f, "cur", NMSG);
	age_dirs(f);
	open_inbox(f, &st, &mb);
	store_mailbox_close(&mb);
	store_close(&st);
	hits = store_view_cache_hits;
	assert_int_equal(unlink(f->index), 0);
	p = xasprintf("%s-wal", f->index);
	(void)unlink(p);
	free(p);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_view_cache_hits, hits);
	assert_int_equal(store_mailbox_count(mb), NMSG);
	store_mailbox_close(&mb);
	store_close(&st);
}

/* Past the cache's size the least recently used goes; a session still
 * on it keeps its view. */
static void
test_store_view_cache_evict(void **state)
{
	struct store_fixture *f = *state;
	struct store *st, *st2;
	struct store_mailbox *mb, *mb2;
	struct buf err;
	size_t hits, i;
	char *dir;

	buf_init(&err, 1024);
	store_view_cache_max_msgs = NMSG + 1;
	put_n(f, "cur", NMSG);
	age_dirs(f);
	open_inbox(f, &st, &mb);
	assert_int_equal(store_folder_create(st, "Other", 0, &err), 0);
	dir = xasprintf("%s/.Other/cur", f->maildir);
	for (i = 0; i < NMSG; i++) {
		char *p = xasprintf(
		    "%s/%zu.M%zuP2.host:2,", dir, (size_t)1100000000 + i, i);

		assert_int_equal(fs_atomic_write(p, "x\n", 2, 0600), 0);
		free(p);
	}
	free(dir);
	assert_int_equal(store_mailbox_open(st, "Other", false, &mb2, &err), 0);
	/* INBOX's snapshot is gone from the cache; mb keeps its strings */
	for (i = 0; i < NMSG; i++)
		assert_true(strlen(store_mailbox_msg(mb, i)->uidl) > 0);
	store_mailbox_close(&mb2);
	store_mailbox_close(&mb);
	hits = store_view_cache_hits;
	open_inbox(f, &st2, &mb);
	assert_int_equal(store_view_cache_hits, hits);
	store_mailbox_close(&mb);
	store_close(&st2);
	store_close(&st);
	buf_free(&err);
}

/* ---- threads ------------------------------------------------------------ */

struct opener {
	const struct store_fixture *f;
	size_t rounds;
};

static void *
opener_run(void *arg)
{
	struct opener *o = arg;
	struct store *st;
	struct store_mailbox *mb;
	struct buf err;
	size_t r, i;

	buf_init(&err, 1024);
	for (r = 0; r < o->rounds; r++) {
		if (store_open(o->f->maildir, &st, &err) != 0 ||
		    store_mailbox_open(st, "INBOX", r % 2 == 0, &mb, &err) != 0)
			abort();
		if (store_mailbox_count(mb) != 50)
			abort();
		for (i = 0; i < 50; i++)
			if (store_mailbox_msg(mb, i)->uidl[0] == '\0' ||
			    mb->f[i].file[0] == '\0')
				abort();
		store_mailbox_close(&mb);
		store_close(&st);
	}
	buf_free(&err);
	return NULL;
}

static void
test_store_view_cache_threads(void **state)
{
	struct store_fixture *f = *state;
	struct opener o = { f, 25 };
	pthread_t t[4];
	size_t i, hits;

	put_n(f, "cur", 50);
	age_dirs(f);
	opener_run(&o); /* the first sync: not what is tested */
	hits = store_view_cache_hits;
	for (i = 0; i < MW_NELEM(t); i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, opener_run, &o), 0);
	for (i = 0; i < MW_NELEM(t); i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_true(store_view_cache_hits >= hits + 4 * 25 - 4);
}

int
main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, cache_setup, cache_teardown)
	const struct CMUnitTest tests[] = {
		T(test_store_view_cache_hit),
		T(test_store_view_cache_own_copy),
		T(test_store_view_cache_shared),
		T(test_store_view_cache_renamed),
		T(test_store_view_cache_index_replaced),
		T(test_store_view_cache_evict),
		T(test_store_view_cache_threads),
#undef T
	};

	log_set_min_level(LOG_LEVEL_ERROR);
	store_library_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
