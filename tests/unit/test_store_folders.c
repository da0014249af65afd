/*
 * Unit tests for what IMAP needs from the mail store: folders (list,
 * create, delete, rename, status), subscriptions in Dovecot's file,
 * special-use defaults, APPEND, COPY, MOVE, keywords by name, the sync's
 * lists of expunged and changed messages, and the IDLE watch.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

static struct store *
open_store(const struct store_fixture *f)
{
	struct store *st;
	struct buf err;

	buf_init(&err, 4096);
	if (store_open(f->maildir, &st, &err) != 0)
		fail_msg("store_open: %s", buf_cstr(&err));
	buf_free(&err);
	return st;
}

static void
create_ok(struct store *st, const char *name, uint32_t use)
{
	struct buf err;

	buf_init(&err, 4096);
	if (store_folder_create(st, name, use, &err) != 0)
		fail_msg("create %s: %s", name, buf_cstr(&err));
	buf_free(&err);
}

static struct store_mailbox *
open_mb(struct store *st, const char *name)
{
	struct store_mailbox *mb;
	struct buf err;

	buf_init(&err, 4096);
	if (store_mailbox_open(st, name, false, &mb, &err) != 0)
		fail_msg("open %s: %s", name, buf_cstr(&err));
	buf_free(&err);
	return mb;
}

static uint32_t
append_ok(struct store_mailbox *mb, const char *body, uint32_t flags)
{
	struct store_append a = { .fd = -1, .data = body, .len = strlen(body) };
	struct buf err;
	uint32_t uid;

	a.flags = flags;
	buf_init(&err, 4096);
	if (store_mailbox_append(mb, &a, &uid, &err) != 0)
		fail_msg("append: %s", buf_cstr(&err));
	buf_free(&err);
	return uid;
}

static char *
read_file(const char *path)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(fs_read_file(path, &b), 0);
	if (b.data == NULL)
		assert_int_equal(buf_append_str(&b, ""), 0);
	return buf_steal(&b);
}

static bool
exists_in(const struct store_fixture *f, const char *rel)
{
	char *p = xasprintf("%s/%s", f->maildir, rel);
	bool r = fs_exists(p);

	free(p);
	return r;
}

static const struct store_folder *
list_find(const struct store_folder_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

/* ---- create, list ------------------------------------------------------ */

static void
test_store_folder_create_layout(void **state)
{
	struct store_fixture *f = *state;
	struct store *st = open_store(f);
	struct buf err;

	buf_init(&err, 4096);
	create_ok(st,
	    "Entw\xc3\xbc"
	    "rfe",
	    0);
	create_ok(st, "a/b", STORE_USE_ARCHIVE);
	/* Dovecot's directories: modified UTF-7, "." between levels */
	assert_true(exists_in(f, ".Entw&APw-rfe/cur"));
	assert_true(exists_in(f, ".Entw&APw-rfe/new"));
	assert_true(exists_in(f, ".Entw&APw-rfe/tmp"));
	assert_true(exists_in(f, ".Entw&APw-rfe/maildirfolder"));
	assert_true(exists_in(f, ".a.b/maildirfolder"));
	assert_false(exists_in(f, ".a"));
	/* refused with a reason */
	errno = 0;
	assert_int_equal(store_folder_create(st, "a/b", 0, &err), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(store_folder_create(st, "inbox", 0, &err), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(store_folder_create(st, "x.y", 0, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(buf_cstr(&err), "\".\""));
	assert_int_equal(store_folder_create(st, "../etc", 0, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(store_folder_create(st, "a//b", 0, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(store_folder_create(st, "", 0, &err), -1);
	assert_int_equal(errno, EINVAL);
	/* the new folder opens, empty */
	{
		struct store_mailbox *mb = open_mb(st, "a/b");

		assert_int_equal(store_mailbox_count(mb), 0);
		store_mailbox_close(&mb);
	}
	store_close(&st);
	buf_free(&err);
}

static void
test_store_folder_list_attributes(void **state)
{
	struct store_fixture *f = *state;
	struct store *st = open_store(f);
	struct store_folder_list l;
	const struct store_folder *x;
	struct buf err;
	char *p;

	buf_init(&err, 4096);
	create_ok(st, "Sent", STORE_USE_SENT);
	create_ok(st, "a/b/c", 0);
	create_ok(st, "a b", 0);
	create_ok(st, "INBOX/Lists", 0);
	/* what others leave: a junk directory, a second INBOX, a file */
	p = xasprintf("%s/..DOVECOT-TRASH", f->maildir);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = xasprintf("%s/.INBOX", f->maildir);
	assert_int_equal(maildir_ensure(p), 0);
	free(p);
	put_file(f, ".", ".notadir", "x");
	assert_int_equal(store_folder_list(st, &l, &err), 0);
	assert_string_equal(l.v[0].name, "INBOX");
	assert_true(l.v[0].has_children);
	assert_false(l.v[0].noselect);
	x = list_find(&l, "Sent");
	assert_non_null(x);
	assert_int_equal(x->special_use, STORE_USE_SENT);
	assert_false(x->has_children);
	assert_false(x->noselect);
	/* levels without a directory: \Noselect \HasChildren */
	x = list_find(&l, "a");
	assert_non_null(x);
	assert_true(x->noselect && x->has_children);
	x = list_find(&l, "a/b");
	assert_true(x->noselect && x->has_children);
	x = list_find(&l, "a/b/c");
	assert_true(!x->noselect && !x->has_children);
	x = list_find(&l, "a b");
	assert_true(!x->noselect && !x->has_children);
	assert_non_null(list_find(&l, "INBOX/Lists"));
	assert_int_equal(l.n, 7); /* INBOX Sent a a/b a/b/c "a b" INBOX/Lists */
	store_folder_list_free(&l);
	store_close(&st);
	buf_free(&err);
}

/* ---- delete ------------------------------------------------------------ */

static void
test_store_folder_delete_keeps_children(void **state)
{
	struct store_fixture *f = *state;
	struct store *st = open_store(f);
	struct store_folder_list l;
	struct store_mailbox *mb;
	struct buf err;
	uint32_t uidv, uid;

	buf_init(&err, 4096);
	create_ok(st, "p", 0);
	create_ok(st, "p/c", 0);
	mb = open_mb(st, "p");
	uid = append_ok(mb, "Subject: x\n\nx\n", 0);
	assert_int_equal(uid, 1);
	uidv = store_mailbox_uidvalidity(mb);
	store_mailbox_close(&mb);
	assert_int_equal(store_folder_delete(st, "p", &err), 0);
	assert_false(exists_in(f, ".p"));
	assert_true(exists_in(f, ".p.c/cur"));
	/* RFC 9051 6.3.4: the parent remains as \Noselect */
	assert_int_equal(store_folder_list(st, &l, &err), 0);
	assert_true(list_find(&l, "p")->noselect);
	assert_true(list_find(&l, "p")->has_children);
	store_folder_list_free(&l);
	/* and deleting a \Noselect level is an error */
	errno = 0;
	assert_int_equal(store_folder_delete(st, "p", &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_folder_delete(st, "INBOX", &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(store_folder_delete(st, "nope", &err), -1);
	assert_int_equal(errno, ENOENT);
	/* made again: no UID is used twice (RFC 9051 2.3.1.1) */
	create_ok(st, "p", 0);
	mb = open_mb(st, "p");
	assert_int_equal(store_mailbox_count(mb), 0);
	assert_true(store_mailbox_uidvalidity(mb) != uidv ||
	    store_mailbox_uidnext(mb) > uid);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

/* ---- rename ------------------------------------------------------------ */

static void
test_store_folder_rename_moves_children(void **state)
{
	struct store_fixture *f = *state;
	struct store *st = open_store(f);
	struct store_mailbox *mb;
	struct buf err;
	uint32_t uidv;

	buf_init(&err, 4096);
	create_ok(st, "old", 0);
	create_ok(st, "old/kid", 0);
	create_ok(st, "other", 0);
	mb = open_mb(st, "old/kid");
	(void)append_ok(mb, "Subject: k\n\nk\n", STORE_FLAG_SEEN);
	uidv = store_mailbox_uidvalidity(mb);
	store_mailbox_close(&mb);
	errno = 0;
	assert_int_equal(store_folder_rename(st, "old", "other", &err), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(store_folder_rename(st, "old", "old/kid/x", &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(store_folder_rename(st, "none", "x", &err), -1);
	assert_int_equal(errno, ENOENT);
	if (store_folder_rename(st, "old", "new/\xc3\xa9", &err) != 0)
		fail_msg("rename: %s", buf_cstr(&err));
	assert_false(exists_in(f, ".old"));
	assert_false(exists_in(f, ".old.kid"));
	assert_true(exists_in(f, ".new.&AOk-/cur"));
	assert_true(exists_in(f, ".new.&AOk-.kid/cur"));
	/* UIDs and UIDVALIDITY go along */
	mb = open_mb(st, "new/\xc3\xa9/kid");
	assert_int_equal(store_mailbox_count(mb), 1);
	assert_int_equal(store_mailbox_msg(mb, 0)->uid, 1);
	assert_int_equal(store_mailbox_uidvalidity(mb), uidv);
	store_mailbox_close(&mb);
	/* the old name made again: a new UIDVALIDITY */
	create_ok(st, "old/kid", 0);
	mb = open_mb(st, "old/kid");
	assert_true(store_mailbox_uidvalidity(mb) != uidv);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

static void
test_store_folder_rename_inbox(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_mailbox *mb;
	struct buf err;

	buf_init(&err, 4096);
	put_file(f, "new", "1000000000.M1Q1R0.host,S=5", "a\nb\n\n");
	put_file(f, "cur", "1000000001.M1Q2R0.host,S=2:2,S", "c\n");
	st = open_store(f);
	create_ok(st, "INBOX/child", 0);
	if (store_folder_rename(st, "INBOX", "Old Inbox", &err) != 0)
		fail_msg("rename: %s", buf_cstr(&err));
	/* RFC 9051 6.3.6: INBOX is left empty, its children stay */
	mb = open_mb(st, "INBOX");
	assert_int_equal(store_mailbox_count(mb), 0);
	store_mailbox_close(&mb);
	assert_true(exists_in(f, ".INBOX.child/cur"));
	mb = open_mb(st, "Old Inbox");
	assert_int_equal(store_mailbox_count(mb), 2);
	assert_int_equal(store_mailbox_msg(mb, 1)->flags, STORE_FLAG_SEEN);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

/* ---- subscriptions ----------------------------------------------------- */

static void
test_store_folder_subscriptions_dovecot_file(void **state)
{
	struct store_fixture *f = *state;
	struct store *st = open_store(f);
	struct store_folder_list l;
	struct buf err;
	char *path = xasprintf("%s/subscriptions", f->maildir), *got;

	buf_init(&err, 4096);
	/* what Dovecot 2.3 wrote, plus a line we cannot map */
	assert_int_equal(fs_atomic_write(path,
	                     "V\t2\n\nINBOX\nSent\nLists\tEntw&APw-rfe\n"
	                     "bad..\n",
	                     strlen("V\t2\n\nINBOX\nSent\nLists\tEntw&APw-rfe\n"
	                            "bad..\n"),
	                     0600),
	    0);
	assert_int_equal(store_folder_subscriptions(st, &l, &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].name, "INBOX");
	assert_string_equal(l.v[1].name, "Sent");
	assert_string_equal(l.v[2].name,
	    "Lists/Entw\xc3\xbc"
	    "rfe");
	store_folder_list_free(&l);
	assert_int_equal(store_folder_subscribe(st, "Sent", false, &err), 0);
	assert_int_equal(
	    store_folder_subscribe(st, "a/\xc3\xa9", true, &err), 0);
	assert_int_equal(
	    store_folder_subscribe(st, "a/\xc3\xa9", true, &err), 0);
	assert_int_equal(store_folder_subscribe(st, "x.y", true, &err), -1);
	assert_int_equal(errno, EINVAL);
	got = read_file(path);
	assert_string_equal(
	    got, "V\t2\n\nINBOX\nLists\tEntw&APw-rfe\nbad..\na\t&AOk-\n");
	free(got);
	/* version 1 (no header) is read, and written back as version 2 */
	assert_int_equal(
	    fs_atomic_write(path, "INBOX\nx.y\n", strlen("INBOX\nx.y\n"), 0600),
	    0);
	assert_int_equal(store_folder_subscriptions(st, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1].name, "x/y");
	store_folder_list_free(&l);
	assert_int_equal(store_folder_subscribe(st, "inbox", false, &err), 0);
	got = read_file(path);
	assert_string_equal(got, "V\t2\n\nx\ty\n");
	free(got);
	free(path);
	store_close(&st);
	buf_free(&err);
}

/* ---- status ------------------------------------------------------------ */

static void
test_store_folder_status_counts(void **state)
{
	struct store_fixture *f = *state;
	struct store *st;
	struct store_folder_status s;
	struct buf err;

	buf_init(&err, 4096);
	put_file(f, "new", "1000000000.M1Q1R0.host", "a\nb\n");
	put_file(f, "cur", "1000000001.M1Q2R0.host:2,S", "c\r\n");
	put_file(f, "cur", "1000000002.M1Q3R0.host:2,ST", "dd\n");
	st = open_store(f);
	if (store_folder_status(st, "inbox", &s, &err) != 0)
		fail_msg("status: %s", buf_cstr(&err));
	assert_int_equal(s.messages, 3);
	assert_int_equal(s.unseen, 1);
	assert_int_equal(s.deleted, 1);
	/* RFC 3501 2.3.2: no session has selected INBOX yet */
	assert_int_equal(s.recent, 3);
	assert_int_equal(s.uidnext, 4);
	assert_true(s.uidvalidity > 0);
	assert_int_equal(s.size, 6 + 3 + 4);
	assert_true(s.highestmodseq >= 4);
	/* read-only: the new/ file stayed where it was */
	assert_true(exists_in(f, "new/1000000000.M1Q1R0.host"));
	errno = 0;
	assert_int_equal(store_folder_status(st, "nope", &s, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_folder_status(st, "a.b", &s, &err), -1);
	assert_int_equal(errno, EINVAL);
	store_close(&st);
	buf_free(&err);
}

/* ---- special-use defaults ---------------------------------------------- */

static void
test_store_defaults_parse_and_create(void **state)
{
	struct store_fixture *f = *state;
	struct store_defaults d;
	struct store_folder_list l;
	struct store *st;
	struct buf err;
	static const char *const bad[] = {
		"Sent",
		"Sent=\\Bogus",
		"Sent=\\Sent, Sent=\\Drafts",
		"Sent=\\Sent, Other=\\Sent",
		"a.b=\\Sent",
		"INBOX=\\Trash",
		"=\\Sent",
	};
	size_t i;

	buf_init(&err, 4096);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		if (store_defaults_parse(bad[i], &d, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(
		    err.len > 0 && strchr(buf_cstr(&err), '\n') == NULL);
	}
	assert_int_equal(store_defaults_parse("", &d, &err), 0);
	assert_int_equal(d.n, 0);
	store_defaults_free(&d);
	assert_int_equal(store_defaults_parse("Sent=\\Sent, Drafts=\\Drafts, "
	                                      "Trash=\\Trash, Junk=\\junk, "
	                                      "Old Mail/Archive = \\Archive,",
	                     &d, &err),
	    0);
	assert_int_equal(d.n, 5);
	assert_string_equal(d.v[4].name, "Old Mail/Archive");
	assert_int_equal(d.v[3].special_use, STORE_USE_JUNK);
	if (store_open_defaults(f->maildir, &d, &st, &err) != 0)
		fail_msg("open: %s", buf_cstr(&err));
	assert_int_equal(store_folder_list(st, &l, &err), 0);
	assert_int_equal(list_find(&l, "Sent")->special_use, STORE_USE_SENT);
	assert_int_equal(
	    list_find(&l, "Old Mail/Archive")->special_use, STORE_USE_ARCHIVE);
	store_folder_list_free(&l);
	/* a user who deleted one keeps it deleted */
	assert_int_equal(store_folder_delete(st, "Junk", &err), 0);
	assert_int_equal(store_create_defaults(st, &d, &err), 0);
	assert_false(exists_in(f, ".Junk"));
	store_close(&st);
	store_defaults_free(&d);
	buf_free(&err);
}

/* ---- append ------------------------------------------------------------ */

static void
test_store_append_durable_with_uid(void **state)
{
	struct store_fixture *f = *state;
	struct store *st = open_store(f);
	struct store_mailbox *mb = open_mb(st, "INBOX");
	struct store_append a = { .fd = -1 };
	struct store_sync_result res;
	const struct store_msg *m;
	struct buf err;
	uint32_t uid;
	char *p;
	int fd;

	buf_init(&err, 4096);
	assert_int_equal(append_ok(mb, "Subject: a\n\nbody\n", 0), 1);
	/* from a file, with flags and an internal date */
	p = xasprintf("%s/src", f->dir);
	assert_int_equal(fs_atomic_write(p, "x\r\ny\n", 5, 0600), 0);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	a.fd = fd;
	a.flags = STORE_FLAG_SEEN | STORE_FLAG_DRAFT;
	a.internaldate = 1000000000;
	assert_int_equal(store_mailbox_append(mb, &a, &uid, &err), 0);
	(void)close(fd);
	free(p);
	assert_int_equal(uid, 2);
	/* the view changes at the next sync */
	assert_int_equal(store_mailbox_count(mb), 0);
	sync_ok(mb, &res);
	assert_int_equal(res.added, 2);
	assert_int_equal(store_mailbox_count(mb), 2);
	m = store_mailbox_msg(mb, 1);
	assert_int_equal(m->uid, 2);
	assert_int_equal(m->flags, STORE_FLAG_SEEN | STORE_FLAG_DRAFT);
	assert_int_equal(m->psize, 5);
	assert_int_equal(m->vsize, 6);
	assert_int_equal(m->internaldate, 1000000000);
	assert_int_equal(store_mailbox_uidnext(mb), 3);
	/* Dovecot's name: ,S= ,W= and the flags; nothing left in tmp/ */
	{
		char *want = NULL;
		struct dirent *de;
		char *dir = xasprintf("%s/cur", f->maildir);
		DIR *d = opendir(dir);

		while ((de = readdir(d)) != NULL)
			if (strstr(de->d_name, ",S=5,W=6:2,DS") != NULL)
				want = xstrdup(de->d_name);
		(void)closedir(d);
		free(dir);
		assert_non_null(want);
		free(want);
	}
	assert_null(find_file(f, "tmp", "1"));
	store_mailbox_close(&mb);
	/* a read-only mailbox refuses */
	assert_int_equal(store_mailbox_open(st, "INBOX", true, &mb, &err), 0);
	a.fd = -1;
	a.data = "x\n";
	a.len = 2;
	assert_int_equal(store_mailbox_append(mb, &a, &uid, &err), -1);
	assert_int_equal(errno, EROFS);
	store_mailbox_close(&mb);
	store_close(&st);
	/* another store sees the same UIDs (the index has them) */
	st = open_store(f);
	mb = open_mb(st, "INBOX");
	assert_int_equal(store_mailbox_count(mb), 2);
	assert_int_equal(store_mailbox_msg(mb, 1)->uid, 2);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

/* ---- keywords ---------------------------------------------------------- */

static void
test_store_keyword_index_limit(void **state)
{
	struct store_fixture *f = *state;
	struct store *st = open_store(f);
	struct store_mailbox *mb = open_mb(st, "INBOX");
	struct buf err;
	char name[16], *got;
	size_t idx, i;
	char *path;

	buf_init(&err, 4096);
	assert_int_equal(
	    store_mailbox_keyword_index(mb, "$Junk", false, &idx, &err), 0);
	assert_int_equal(
	    store_mailbox_keyword_index(mb, "$Junk", true, &idx, &err), 1);
	assert_int_equal(idx, 0);
	assert_int_equal(
	    store_mailbox_keyword_index(mb, "$junk", false, &idx, &err), 1);
	assert_int_equal(idx, 0);
	assert_int_equal(
	    store_mailbox_keyword_index(mb, "\\Seen", true, &idx, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(
	    store_mailbox_keyword_index(mb, "a b", true, &idx, &err), -1);
	assert_int_equal(errno, EINVAL);
	for (i = 1; i < STORE_MAX_KEYWORDS; i++) {
		(void)snprintf(name, sizeof(name), "k%zu", i);
		assert_int_equal(
		    store_mailbox_keyword_index(mb, name, true, &idx, &err), 1);
		assert_int_equal(idx, i);
	}
	/* 26 letters a-z: the 27th does not fit */
	assert_int_equal(
	    store_mailbox_keyword_index(mb, "k26", true, &idx, &err), -1);
	assert_int_equal(errno, ENOSPC);
	path = xasprintf("%s/dovecot-keywords", f->maildir);
	got = read_file(path);
	assert_true(strncmp(got, "0 $Junk\n1 k1\n2 k2\n", 18) == 0);
	assert_non_null(strstr(got, "\n25 k25\n"));
	free(got);
	free(path);
	assert_string_equal(store_mailbox_keyword_name(mb, 25), "k25");
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

/* ---- copy, move -------------------------------------------------------- */

static void
test_store_copy_and_move_map_uids(void **state)
{
	struct store_fixture *f = *state;
	struct store *st = open_store(f);
	struct store_mailbox *in, *dst;
	struct store_flag_change c = { 0 };
	struct store_sync_result res;
	uint32_t uids[3];
	size_t idx[3], kw;
	struct buf err;
	struct stat a, b;
	char *p;

	buf_init(&err, 4096);
	create_ok(st, "Archive", STORE_USE_ARCHIVE);
	in = open_mb(st, "INBOX");
	(void)append_ok(in, "Subject: 1\n\n1\n", 0);
	(void)append_ok(in, "Subject: 2\n\n2\n", STORE_FLAG_FLAGGED);
	(void)append_ok(in, "Subject: 3\n\n3\n", 0);
	sync_ok(in, NULL);
	/* a keyword on message 3 that the target has under another number */
	assert_int_equal(
	    store_mailbox_keyword_index(in, "$Work", true, &kw, &err), 1);
	c.i = 2;
	c.flags = 0;
	c.keywords = 1u << kw;
	assert_int_equal(store_mailbox_set_flags(in, &c, 1, &err), 0);
	dst = open_mb(st, "Archive");
	assert_int_equal(
	    store_mailbox_keyword_index(dst, "Other", true, &kw, &err), 1);
	(void)append_ok(dst, "Subject: old\n\nold\n", 0);
	/* COPY 3,2 (any order): new UIDs in the order asked */
	idx[0] = 2;
	idx[1] = 1;
	if (store_mailbox_copy(in, idx, 2, dst, uids, &err) != 0)
		fail_msg("copy: %s", buf_cstr(&err));
	assert_int_equal(uids[0], 2);
	assert_int_equal(uids[1], 3);
	sync_ok(dst, NULL);
	assert_int_equal(store_mailbox_count(dst), 3);
	assert_int_equal(store_mailbox_msg(dst, 2)->flags, STORE_FLAG_FLAGGED);
	/* the keyword by name: "$Work" is number 1 in Archive */
	assert_int_equal(store_mailbox_msg(dst, 1)->keywords, 1u << 1);
	assert_string_equal(store_mailbox_keyword_name(dst, 1), "$Work");
	assert_int_equal(
	    store_mailbox_msg(dst, 1)->vsize, store_mailbox_msg(in, 2)->vsize);
	/* a hard link: one inode */
	{
		int fa, fb;

		assert_int_equal(store_msg_open(in, 2, &fa), 0);
		assert_int_equal(store_msg_open(dst, 1, &fb), 0);
		assert_int_equal(fstat(fa, &a), 0);
		assert_int_equal(fstat(fb, &b), 0);
		assert_int_equal(a.st_ino, b.st_ino);
		(void)close(fa);
		(void)close(fb);
	}
	/* MOVE 1: copied, then expunged in the source */
	idx[0] = 0;
	if (store_mailbox_move(in, idx, 1, dst, uids, &err) != 0)
		fail_msg("move: %s", buf_cstr(&err));
	assert_int_equal(uids[0], 4);
	assert_int_equal(store_mailbox_count(in), 2);
	assert_int_equal(store_mailbox_msg(in, 0)->uid, 2);
	sync_ok(dst, &res);
	assert_int_equal(res.added, 1);
	assert_int_equal(store_mailbox_msg(dst, 3)->uid, 4);
	assert_int_equal(store_mailbox_move(in, idx, 1, in, uids, &err), -1);
	assert_int_equal(errno, EINVAL);
	store_mailbox_close(&dst);
	store_mailbox_close(&in);
	p = xasprintf("%s/.Archive/dovecot-keywords", f->maildir);
	{
		char *got = read_file(p);

		assert_string_equal(got, "0 Other\n1 $Work\n");
		free(got);
	}
	free(p);
	store_close(&st);
	buf_free(&err);
}

/* ---- sync result lists ------------------------------------------------- */

static void
test_store_sync_reports_indexes(void **state)
{
	struct store_fixture *f = *state;
	struct store *st = open_store(f);
	struct store_mailbox *a, *b;
	struct store_flag_change c[2] = { { 0 } };
	struct store_sync_result res;
	size_t idx[2];
	struct buf err;
	int i;

	buf_init(&err, 4096);
	a = open_mb(st, "INBOX");
	for (i = 0; i < 5; i++)
		(void)append_ok(a, "Subject: s\n\nx\n", 0);
	sync_ok(a, NULL);
	b = open_mb(st, "INBOX");
	assert_int_equal(store_mailbox_count(b), 5);
	/* session a: expunge 2 and 4 (indexes 1, 3), flag 5 (index 4) */
	c[0].i = 4;
	c[0].flags = STORE_FLAG_SEEN;
	c[0].keywords = 0;
	c[1].i = 0;
	c[1].flags = STORE_FLAG_ANSWERED;
	c[1].keywords = 0;
	assert_int_equal(store_mailbox_set_flags(a, c, 2, &err), 0);
	idx[0] = 1;
	idx[1] = 3;
	assert_int_equal(store_mailbox_expunge(a, idx, 2, &err), 0);
	/* session b learns which, in the order IMAP sends them */
	sync_ok(b, &res);
	assert_int_equal(res.removed, 2);
	assert_int_equal(res.expunged[0], 3);
	assert_int_equal(res.expunged[1], 1);
	assert_int_equal(res.changed, 2);
	assert_int_equal(res.flags_changed[0], 0);
	assert_int_equal(res.flags_changed[1], 2);
	assert_int_equal(store_mailbox_msg(b, 2)->flags, STORE_FLAG_SEEN);
	/* nothing more */
	sync_ok(b, &res);
	assert_int_equal(res.removed + res.changed + res.added, 0);
	store_mailbox_close(&b);
	store_mailbox_close(&a);
	store_close(&st);
	buf_free(&err);
}

/* ---- IDLE watch -------------------------------------------------------- */

static bool
readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void
test_store_watch_delivery_wakes(void **state)
{
	struct store_fixture *f = *state;
	struct store *st = open_store(f);
	struct store_mailbox *mb = open_mb(st, "INBOX");
	struct store_sync_result res;
	struct maildir_msg m = { 0 };
	struct buf err;
	char *src;
	int fd, sfd;

	buf_init(&err, 4096);
	assert_int_equal(store_watch_new(mb, &fd, &err), 0);
	assert_int_equal(store_watch_read(fd), 0);
	assert_false(readable_within(fd, 0));
	/* a delivery as the queue makes it */
	src = xasprintf("%s/msg", f->dir);
	assert_int_equal(
	    fs_atomic_write(src, "Subject: w\n\nw\n", 14, 0600), 0);
	sfd = open(src, O_RDONLY);
	m.maildir = f->maildir;
	m.name = "1700000000.M1Q9R0.host";
	m.src_fd = sfd;
	m.src_len = 14;
	assert_int_equal(maildir_deliver(&m, NULL), 0);
	(void)close(sfd);
	free(src);
	/* inotify queues the event before link() returns */
	assert_true(readable_within(fd, 5000));
	assert_int_equal(store_watch_read(fd), 1);
	assert_false(readable_within(fd, 0));
	sync_ok(mb, &res);
	assert_int_equal(res.added, 1);
	(void)close(fd);
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
		T(test_store_folder_create_layout),
		T(test_store_folder_list_attributes),
		T(test_store_folder_delete_keeps_children),
		T(test_store_folder_rename_moves_children),
		T(test_store_folder_rename_inbox),
		T(test_store_folder_subscriptions_dovecot_file),
		T(test_store_folder_status_counts),
		T(test_store_defaults_parse_and_create),
		T(test_store_append_durable_with_uid),
		T(test_store_keyword_index_limit),
		T(test_store_copy_and_move_map_uids),
		T(test_store_sync_reports_indexes),
		T(test_store_watch_delivery_wakes),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
