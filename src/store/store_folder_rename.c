/*
 * Renaming folders (RFC 9051 6.3.6): a folder with its children, their
 * index rows going along (UIDs and UIDVALIDITY kept), and INBOX's
 * special case, whose messages move into the new folder. The rest of the
 * folder operations are in store_folder.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "store/store_folder_name.h"
#include "store/store_private.h"

/* ---- rename ------------------------------------------------------------ */

/* Moves every file of directory sub of INBOX into the same directory of
 * the folder at dir (RFC 9051 6.3.6: renaming INBOX moves its messages). */
static int
folder_move_files(struct store *st, const char *sub, const char *dir)
{
	char *from = xasprintf("%s/%s", st->maildir, sub);
	char *to = xasprintf("%s/%s", dir, sub);
	int ffd = -1, tfd = -1, ret = -1, saved;
	struct dirent *de;
	DIR *d = NULL;

	if ((ffd = open(from, STORE_DIR_FLAGS)) == -1 ||
	    (tfd = open(to, STORE_DIR_FLAGS)) == -1)
		goto out;
	{
		int dfd = dup(ffd);

		if (dfd == -1 || (d = fdopendir(dfd)) == NULL) {
			saved = errno;
			if (dfd != -1)
				(void)close(dfd);
			errno = saved;
			goto out;
		}
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto out;
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		if (renameat2(ffd, de->d_name, tfd, de->d_name,
		        RENAME_NOREPLACE) == -1 &&
		    errno != ENOENT)
			goto out;
	}
	if (fsync(tfd) == -1 || fsync(ffd) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	if (d != NULL)
		(void)closedir(d);
	if (ffd != -1)
		(void)close(ffd);
	if (tfd != -1)
		(void)close(tfd);
	free(from);
	free(to);
	errno = saved;
	return ret;
}

static int
folder_rename_inbox(
    struct store *st, const char *to, const char *tdir, struct buf *err)
{
	struct store_mailbox fake = { .st = st, .dir = st->maildir };
	struct buf kw;
	char *p;
	int ret = -1, r;

	if (store_folder_create(st, to, 0, err) == -1)
		return -1;
	/* the keyword letters of the moved files mean what INBOX's
	 * dovecot-keywords says: the new folder gets a copy */
	buf_init(&kw, 1 << 20);
	r = store_read_folder_file(&fake, "dovecot-keywords", &kw);
	if (r == 1) {
		p = xasprintf("%s/dovecot-keywords", tdir);
		r = fs_atomic_write(
		    p, kw.data != NULL ? kw.data : "", kw.len, 0600);
		free(p);
	}
	buf_free(&kw);
	if (r == -1) {
		store_seterr(err, "cannot copy INBOX's dovecot-keywords: %s",
		    strerror(errno));
		return -1;
	}
	if (store_begin(st, err) == -1)
		return -1;
	if (folder_move_files(st, "cur", tdir) == -1 ||
	    folder_move_files(st, "new", tdir) == -1) {
		store_seterr(err, "cannot move INBOX's messages to %s: %s", to,
		    strerror(errno));
		goto out;
	}
	/* INBOX's next sync drops the rows; its UIDs are not reused */
	if (store_commit(st, err) == -1)
		goto out;
	ret = 0;
out:
	if (ret == -1)
		store_rollback(st);
	return ret;
}

/* The folders to move: from and its children, with old and new names
 * and directories. */
struct folder_move {
	char *oldname, *newname, *olddir, *newdir;
};

int
store_folder_rename(
    struct store *st, const char *from, const char *to, struct buf *err)
{
	struct store_folder_list l = { 0 };
	char *fdir = NULL, *fcanon = NULL, *tdir = NULL, *tcanon = NULL;
	struct folder_move *mv = NULL;
	size_t cap = 0, i, k = 0, done = 0, flen;
	sqlite3_stmt *s;
	struct stat sb;
	int ret = -1, saved;

	if ((fdir = store_folder_dir(st, from, &fcanon, err)) == NULL ||
	    (tdir = store_folder_dir(st, to, &tcanon, err)) == NULL)
		goto out;
	flen = strlen(fcanon);
	if (strcmp(tcanon, "INBOX") == 0 || strcmp(tcanon, fcanon) == 0) {
		store_seterr(err, "folder %s exists", tcanon);
		errno = EEXIST;
		goto out;
	}
	if (strncmp(tcanon, fcanon, flen) == 0 &&
	    tcanon[flen] == STORE_FOLDER_SEP) {
		store_seterr(err, "cannot move %s into itself", fcanon);
		errno = EINVAL;
		goto out;
	}
	if (strcmp(fcanon, "INBOX") == 0) {
		ret = folder_rename_inbox(st, tcanon, tdir, err);
		goto out;
	}
	if (store_begin(st, err) == -1)
		goto out;
	if (store_folder_scan(st, &l, &cap, false, err) == -1)
		goto out;
	mv = xcalloc(l.n + 1, sizeof(*mv));
	/* the folder and its children (RFC 9051 6.3.6), each checked
	 * before anything moves */
	for (i = 0; i < l.n; i++) {
		const char *n = l.v[i].name;
		struct folder_move *m;
		char *nn;

		if (strncmp(n, fcanon, flen) != 0 ||
		    (n[flen] != '\0' && n[flen] != STORE_FOLDER_SEP))
			continue;
		m = &mv[k++];
		m->oldname = xstrdup(n);
		nn = xasprintf("%s%s", tcanon, n + flen);
		m->olddir = store_folder_dir(st, n, NULL, err);
		m->newdir = store_folder_dir(st, nn, &m->newname, err);
		free(nn);
		if (m->olddir == NULL || m->newdir == NULL)
			goto out; /* too long under the new name */
		if (lstat(m->newdir, &sb) == 0) {
			store_seterr(err, "folder %s exists", m->newname);
			errno = EEXIST;
			goto out;
		}
	}
	if (k == 0) {
		store_seterr(err, "folder %s does not exist", fcanon);
		errno = ENOENT;
		goto out;
	}
	for (done = 0; done < k; done++)
		if (renameat2(AT_FDCWD, mv[done].olddir, AT_FDCWD,
		        mv[done].newdir, RENAME_NOREPLACE) == -1) {
			store_seterr(err, "cannot rename %s: %s",
			    mv[done].oldname, strerror(errno));
			goto undo;
		}
	if (fsync_dir(st->maildir) == -1) {
		store_seterr(
		    err, "%s: fsync: %s", st->maildir, strerror(errno));
		goto undo;
	}
	/* the index rows follow, UIDVALIDITY and UIDs with them; a stale
	 * row under a new name goes first */
	for (i = 0; i < k; i++) {
		if (store_folder_rows_empty(st, mv[i].newname, true, err) == -1)
			goto undo;
		s = store_stmt(st, STORE_ST_MB_DEL);
		(void)sqlite3_bind_text(s, 1, mv[i].newname, -1, SQLITE_STATIC);
		if (store_step_done(s) == -1) {
			(void)store_dberr(st, err, "rename");
			goto undo;
		}
		s = store_stmt(st, STORE_ST_MB_RENAME);
		(void)sqlite3_bind_text(s, 1, mv[i].oldname, -1, SQLITE_STATIC);
		(void)sqlite3_bind_text(s, 2, mv[i].newname, -1, SQLITE_STATIC);
		if (store_step_done(s) == -1) {
			(void)store_dberr(st, err, "rename");
			goto undo;
		}
	}
	if (store_commit(st, err) == -1)
		goto undo;
	ret = 0;
	goto out;
undo:
	saved = errno;
	while (done > 0) {
		done--;
		(void)rename(mv[done].newdir, mv[done].olddir);
	}
	errno = saved;
out:
	saved = errno;
	if (ret == -1)
		store_rollback(st);
	for (i = 0; i < k; i++) {
		free(mv[i].oldname);
		free(mv[i].newname);
		free(mv[i].olddir);
		free(mv[i].newdir);
	}
	free(mv);
	store_folder_list_free(&l);
	free(fdir);
	free(fcanon);
	free(tdir);
	free(tcanon);
	errno = saved;
	return ret;
}
