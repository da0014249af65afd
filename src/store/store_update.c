/*
 * Changing a folder from a session: flag changes (renames to the new
 * ":2," info, maildir(5)) and expunges (unlinks). Each call is one write
 * transaction; the directory is fsynced before the commit, so what the
 * caller is told is durable, and a crash in between leaves files the
 * next sync reconciles with the index.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "store/maildir_name.h"
#include "store/store.h"
#include "store/store_private.h"

/* The row of uid as set_flags needs it: 1, 0 when gone, -1 error. */
static int
store_row_file(struct store_mailbox *mb, uint32_t uid, char **file,
    bool *in_new, uint32_t *flags, uint32_t *keywords, struct buf *err)
{
	sqlite3_stmt *s = store_stmt(mb->st, STORE_ST_MSG_GET);
	const char *f;
	int rc;

	(void)sqlite3_bind_int64(s, 1, mb->row.id);
	(void)sqlite3_bind_int64(s, 2, uid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW &&
	    (f = (const char *)sqlite3_column_text(s, 0)) != NULL) {
		*file = xstrdup(f);
		*in_new = sqlite3_column_int(s, 1) != 0;
		*flags = (uint32_t)sqlite3_column_int64(s, 2);
		*keywords = (uint32_t)sqlite3_column_int64(s, 3);
		sqlite3_reset(s);
		return 1;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return store_dberr(mb->st, err, "read message");
}

/* What a change does to a message's flags: replace sets flags and
 * keywords; otherwise add and del (kw_add, kw_del) are applied to the
 * flags the file has when it is renamed. */
struct flag_op {
	bool replace;
	uint32_t flags, keywords;
	uint32_t add, del, kw_add, kw_del;
};

/* The op of change c to view entry m: what c adds and removes against
 * the view, so that what another session set meanwhile stays. */
static void
flag_op_make(struct flag_op *op, const struct store_flag_change *c,
    const struct store_msg *m)
{
	op->replace = c->replace;
	op->flags = c->flags;
	op->keywords = c->keywords;
	op->add = c->flags & ~m->flags;
	op->del = m->flags & ~c->flags;
	op->kw_add = c->keywords & ~m->keywords;
	op->kw_del = m->keywords & ~c->keywords;
}

/*
 * Renames file to carry what op makes of the flags its name has now (the
 * files' names are where Maildir keeps flags; the index row may lag
 * behind a rename by mutt): the new name in *file, the flags in
 * *flags_out and *kw_out, *moved when it was renamed. 0, 1 when the file
 * is gone (under any name), -1 on error.
 */
static int
store_rename_flags(struct store_mailbox *mb, char **file, bool *in_new,
    const struct flag_op *op, uint32_t *flags_out, uint32_t *kw_out,
    bool *moved, struct buf *err)
{
	struct maildir_fname fn;
	struct buf to;
	char *found = NULL;
	uint32_t flags, keywords;
	int dfd, r, tries;

	*moved = false;
	buf_init(&to, MAILDIR_NAME_MAX + 1);
	for (tries = 0; tries < 2; tries++) {
		if (maildir_fname_parse(*file, strlen(*file), &fn) == -1)
			goto gone;
		flags = (fn.flags | op->add) & ~op->del;
		keywords = (fn.keywords | op->kw_add) & ~op->kw_del;
		if (op->replace) {
			flags = op->flags;
			keywords = op->keywords;
		}
		*flags_out = flags;
		*kw_out = keywords;
		if (flags == fn.flags && keywords == fn.keywords) {
			buf_free(&to);
			return 0; /* the name says so already */
		}
		buf_reset(&to);
		if (maildir_fname_with_flags(
		        &to, *file, &fn, flags, keywords) == -1) {
			store_seterr(err, "%s: cannot name %s with its flags",
			    mb->dir, *file);
			buf_free(&to);
			return -1;
		}
		dfd = *in_new ? mb->newfd : mb->curfd;
		/* a file in new/ that gets flags moves to cur/ */
		if (renameat(dfd, *file, mb->curfd, to.data) == 0) {
			free(*file);
			*file = buf_steal(&to);
			*in_new = false;
			*moved = true;
			buf_free(&to);
			return 0;
		}
		if (errno != ENOENT) {
			store_seterr(err, "%s: cannot rename %s: %s", mb->dir,
			    *file, strerror(errno));
			buf_free(&to);
			return -1;
		}
		/* renamed by someone else meanwhile: find it once */
		r = store_find_base(mb, *file, fn.base_len, &found, in_new);
		if (r != 1)
			break;
		free(*file);
		*file = found;
		found = NULL;
	}
gone:
	buf_free(&to);
	return 1;
}

int
store_mailbox_set_flags(struct store_mailbox *mb,
    const struct store_flag_change *c, size_t n, struct buf *err)
{
	struct store *st = mb->st;
	struct store_mb_row row;
	uint32_t flags = 0, keywords = 0, want = 0, want_kw = 0;
	struct flag_op op;
	uint32_t kw_seen = 0; /* keywords the view got */
	char *file = NULL;
	bool in_new, moved, renamed = false;
	size_t k;
	int r, ret = -1, saved;
	sqlite3_stmt *s;

	if (n == 0)
		return 0;
	if (mb->read_only) {
		store_seterr(err, "folder %s is open read-only", mb->name);
		errno = EROFS;
		return -1;
	}
	if (store_begin(st, err) == -1)
		return -1;
	if ((r = store_mb_get(st, mb->name, &row, err)) != 1) {
		if (r == 0) {
			store_seterr(err, "folder %s vanished", mb->name);
			errno = ENOENT;
		}
		goto out;
	}
	for (k = 0; k < n; k++) {
		struct store_msg *m;

		MW_ASSERT(c[k].i < mb->n);
		m = &store_view_own(mb, NULL)[c[k].i];
		free(file);
		file = NULL;
		r = store_row_file(
		    mb, m->uid, &file, &in_new, &flags, &keywords, err);
		if (r == -1)
			goto out;
		if (r == 0)
			continue; /* expunged meanwhile: skipped */
		flag_op_make(&op, &c[k], m);
		r = store_rename_flags(
		    mb, &file, &in_new, &op, &want, &want_kw, &moved, err);
		if (r == -1)
			goto out;
		if (r == 1)
			continue; /* gone: the next sync drops it */
		if (!moved && want == flags && want_kw == keywords) {
			/* nothing to change (another session did it): the
			 * view learns the flags as they are */
			m->flags = want;
			m->keywords = want_kw;
			kw_seen |= want_kw;
			continue;
		}
		renamed |= moved;
		/* RFC 7162 3.1: each changed message gets a new modseq */
		row.highestmodseq++;
		s = store_stmt(st, STORE_ST_MSG_SET_FLAGS);
		(void)sqlite3_bind_int64(s, 1, row.id);
		(void)sqlite3_bind_int64(s, 2, m->uid);
		(void)sqlite3_bind_text(s, 3, file, -1, SQLITE_STATIC);
		(void)sqlite3_bind_int(s, 4, in_new);
		(void)sqlite3_bind_int64(s, 5, want);
		(void)sqlite3_bind_int64(s, 6, want_kw);
		(void)sqlite3_bind_int64(
		    s, 7, (sqlite3_int64)row.highestmodseq);
		if (store_step_done(s) == -1) {
			(void)store_dberr(st, err, "update flags");
			goto out;
		}
		m->flags = want;
		m->keywords = want_kw;
		m->modseq = row.highestmodseq;
		kw_seen |= want_kw;
		store_msg_file_set(mb, c[k].i, file, in_new);
		file = NULL;
	}
	/* keywords another session made and the view now has: their
	 * names (store_mailbox_keyword_name) */
	if ((kw_seen & ~store_mailbox_keywords_defined(mb)) != 0)
		store_keywords_load(mb);
	/* the renames are durable before the index says so */
	if (renamed && fsync(mb->curfd) == -1) {
		store_seterr(
		    err, "%s/cur: fsync: %s", mb->dir, strerror(errno));
		goto out;
	}
	row.gen++;
	if (store_mb_update(st, &row, err) == -1 || store_commit(st, err) == -1)
		goto out;
	/* our own change: the view has it already, unless someone else
	 * changed the folder since the view was loaded */
	if (row.gen == mb->row.gen + 1)
		mb->row.gen = row.gen;
	mb->row.highestmodseq = row.highestmodseq;
	ret = 0;
out:
	saved = errno;
	free(file);
	if (ret == -1)
		store_rollback(st);
	errno = saved;
	return ret;
}

/* Unlinks the file of view entry i, wherever it went: 0 or -1. */
static int
store_unlink_msg(
    struct store_mailbox *mb, size_t i, bool *synced_new, struct buf *err)
{
	const struct store_msg_file *f = &mb->f[i];
	struct maildir_fname fn;
	char *file = NULL;
	bool in_new = f->in_new;
	int r;

	if (unlinkat(in_new ? mb->newfd : mb->curfd, f->file, 0) == 0)
		goto done;
	if (errno != ENOENT)
		goto fail;
	/* renamed by someone: the same base under another name, or gone */
	if (maildir_fname_parse(f->file, strlen(f->file), &fn) == -1)
		return 0;
	r = store_find_base(mb, f->file, fn.base_len, &file, &in_new);
	if (r == 0)
		return 0; /* already gone: counts as removed */
	if (r == -1 ||
	    (unlinkat(in_new ? mb->newfd : mb->curfd, file, 0) == -1 &&
	        errno != ENOENT)) {
		free(file);
		goto fail;
	}
	free(file);
done:
	if (in_new)
		*synced_new = true;
	return 0;
fail:
	store_seterr(
	    err, "%s: cannot remove %s: %s", mb->dir, f->file, strerror(errno));
	return -1;
}

int
store_mailbox_expunge(
    struct store_mailbox *mb, const size_t *idx, size_t n, struct buf *err)
{
	struct store *st = mb->st;
	struct store_mb_row row;
	bool *drop = NULL, any_new = false;
	struct store_msg *v;
	struct store_msg_file *f;
	size_t k, i, j;
	sqlite3_stmt *s;
	int r, ret = -1, saved;

	if (n == 0)
		return 0;
	if (mb->read_only) {
		store_seterr(err, "folder %s is open read-only", mb->name);
		errno = EROFS;
		return -1;
	}
	/* the parsed trees first, so that those of the expunged go too */
	store_tree_flush_quiet(mb);
	if (store_begin(st, err) == -1)
		return -1;
	if ((r = store_mb_get(st, mb->name, &row, err)) != 1) {
		if (r == 0) {
			store_seterr(err, "folder %s vanished", mb->name);
			errno = ENOENT;
		}
		goto out;
	}
	drop = xcalloc(mb->n, sizeof(*drop));
	for (k = 0; k < n; k++) {
		MW_ASSERT(idx[k] < mb->n);
		if (drop[idx[k]])
			continue;
		drop[idx[k]] = true;
		if (store_unlink_msg(mb, idx[k], &any_new, err) == -1)
			goto out;
		s = store_stmt(st, STORE_ST_MSG_DEL);
		(void)sqlite3_bind_int64(s, 1, row.id);
		(void)sqlite3_bind_int64(s, 2, mb->v[idx[k]].uid);
		if (store_step_done(s) == -1) {
			(void)store_dberr(st, err, "delete message");
			goto out;
		}
		s = store_stmt(st, STORE_ST_MIME_DEL);
		(void)sqlite3_bind_int64(s, 1, row.id);
		(void)sqlite3_bind_int64(s, 2, mb->v[idx[k]].uid);
		if (store_step_done(s) == -1) {
			(void)store_dberr(st, err, "delete structure");
			goto out;
		}
	}
	/* the unlinks are durable before the index forgets the rows */
	if (fsync(mb->curfd) == -1 || (any_new && fsync(mb->newfd) == -1)) {
		store_seterr(err, "%s: fsync: %s", mb->dir, strerror(errno));
		goto out;
	}
	row.gen++;
	if (store_mb_update(st, &row, err) == -1 || store_commit(st, err) == -1)
		goto out;
	v = store_view_own(mb, &f);
	for (i = j = 0; i < mb->n; i++) {
		if (drop[i]) {
			store_msg_file_release(mb, &f[i]);
			continue;
		}
		v[j] = v[i];
		f[j++] = f[i];
	}
	mb->n = j;
	if (row.gen == mb->row.gen + 1)
		mb->row.gen = row.gen;
	ret = 0;
out:
	saved = errno;
	free(drop);
	if (ret == -1)
		store_rollback(st);
	errno = saved;
	return ret;
}
