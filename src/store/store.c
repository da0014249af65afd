/*
 * The mail store's public side (store.h): opening the store and its
 * folders, the view, reading messages, and the rebuild. Flag changes and
 * expunges are in store_update.c, the directory sync in store_sync.c, the
 * SQLite side in store_index.c.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "store/dovecot_uidlist.h"
#include "store/maildir.h"
#include "store/maildir_name.h"
#include "store/store_folder_name.h"
#include "store/store_private.h"

/* dovecot-uidlist of 10 million messages is about 1 GB; more than we
 * import in one go, and a bound for a damaged file */
#define STORE_DOVECOT_FILE_MAX ((size_t)256 * 1024 * 1024)

int
store_open(const char *maildir, struct store **st_out, struct buf *err)
{
	struct store *st;
	char *parent;
	size_t len = strlen(maildir);

	*st_out = NULL;
	while (len > 1 && maildir[len - 1] == '/')
		len--;
	st = xcalloc(1, sizeof(*st));
	st->maildir = xstrndup(maildir, len);
	if (maildir_ensure(st->maildir) == -1) {
		store_seterr(err, "cannot create the Maildir %s: %s",
		    st->maildir, strerror(errno));
		goto fail;
	}
	parent = fs_dirname(st->maildir);
	st->index_path = xasprintf("%s%s%s", parent,
	    strcmp(parent, "/") == 0 ? "" : "/", STORE_INDEX_NAME);
	free(parent);
	if (store_index_open(st, err) == -1)
		goto fail;
	*st_out = st;
	return 0;
fail : {
	int saved = errno;

	store_close(&st);
	errno = saved;
	return -1;
}
}

void
store_library_init(void)
{
	/* No up-front page cache per connection (SQLite allocates 20 pages,
	 * about 100 KiB, when a connection first reads): with one store
	 * open per idle POP3 or IMAP session that is most of a session's
	 * memory. Pages are then allocated as they are read. Must come
	 * before SQLite's first use in the process. */
	(void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
	/* no memory statistics: they take a global mutex per allocation */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

void
store_shrink(struct store *st)
{
	size_t i;

	if (st->db == NULL)
		return;
	store_tree_run_end(st);
	/* prepared again when next used (store_stmt) */
	for (i = 0; i < STORE_ST_COUNT; i++) {
		sqlite3_finalize(st->st[i]);
		st->st[i] = NULL;
	}
	(void)sqlite3_db_release_memory(st->db);
}

void
store_sleep(struct store *st)
{
	/* everything store_shrink gives back, and the connection with its
	 * schema, page cache and WAL index mapping; the views stay */
	store_tree_run_end(st);
	store_index_sleep(st);
}

void
store_close(struct store **stp)
{
	struct store *st = *stp;

	if (st == NULL)
		return;
	MW_ASSERT(st->mailboxes == 0);
	store_index_close(st);
	free(st->wake_err);
	free(st->maildir);
	free(st->index_path);
	free(st);
	*stp = NULL;
}

/* ---- mailboxes --------------------------------------------------------- */

char *
store_folder_dir(
    struct store *st, const char *name, char **canon_out, struct buf *err)
{
	struct buf disk, canon;
	const char *why = NULL;
	char *dir = NULL;
	size_t len = strlen(name);

	buf_init(&disk, STORE_FOLDER_DISK_MAX + 1);
	buf_init(&canon, 4 * STORE_FOLDER_DISK_MAX);
	if (store_folder_name_canon(name, len, &canon, &why) == -1 ||
	    store_folder_name_to_disk(name, len, &disk, &why) == -1) {
		store_seterr(err, "bad folder name: %s", why);
		errno = EINVAL;
		goto out;
	}
	/* Maildir++: folder "A/B" is the directory ".A.B"; INBOX is "" */
	dir = xasprintf(
	    "%s%s%s", st->maildir, disk.len > 0 ? "/" : "", buf_cstr(&disk));
	if (canon_out != NULL)
		*canon_out = buf_steal(&canon);
out:
	buf_free(&disk);
	buf_free(&canon);
	return dir;
}

void
store_keywords_load(struct store_mailbox *mb)
{
	sqlite3_stmt *s = store_stmt(mb->st, STORE_ST_KW_LIST);
	const char *name;
	int idx;

	(void)sqlite3_bind_int64(s, 1, mb->row.id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		idx = sqlite3_column_int(s, 0);
		name = (const char *)sqlite3_column_text(s, 1);
		if (idx < 0 || idx >= STORE_MAX_KEYWORDS || name == NULL)
			continue;
		free(mb->keywords[idx]);
		mb->keywords[idx] = xstrdup(name);
	}
	sqlite3_reset(s);
}

int
store_mailbox_open(struct store *st, const char *name, bool read_only,
    struct store_mailbox **mb_out, struct buf *err)
{
	return store_mailbox_open_mode(st, name, read_only, false, mb_out, err);
}

int
store_mailbox_open_mode(struct store *st, const char *name, bool read_only,
    bool index_only, struct store_mailbox **mb_out, struct buf *err)
{
	struct store_mailbox *mb;
	int saved;

	*mb_out = NULL;
	mb = xcalloc(1, sizeof(*mb));
	mb->st = st;
	mb->curfd = mb->newfd = -1;
	mb->seen_cur_mtime = mb->seen_new_mtime = STORE_MTIME_UNKNOWN;
	mb->read_only = read_only;
	mb->index_only = index_only;
	st->mailboxes++;
	if ((mb->dir = store_folder_dir(st, name, &mb->name, err)) == NULL)
		goto fail;
	{
		int dfd = open(mb->dir, STORE_DIR_FLAGS);

		if (dfd != -1) {
			mb->curfd = openat(dfd, "cur", STORE_DIR_FLAGS);
			mb->newfd = openat(dfd, "new", STORE_DIR_FLAGS);
			saved = errno;
			(void)close(dfd);
			errno = saved;
		}
		if (mb->curfd == -1 || mb->newfd == -1) {
			if (errno == ENOTDIR || errno == ELOOP)
				errno = ENOENT;
			store_seterr(err, "folder %s: %s", name,
			    errno == ENOENT ? "no such folder"
			                    : strerror(errno));
			goto fail;
		}
	}
	if (store_mailbox_sync(mb, NULL, err) == -1) {
		/* damage that the open's check did not look for (it checks
		 * a file once per process): check now, salvage, once more */
		if (!st->damaged || store_index_recover(st, err) == -1 ||
		    store_mailbox_sync(mb, NULL, err) == -1)
			goto fail;
	}
	if (!index_only)
		store_keywords_load(mb);
	*mb_out = mb;
	return 0;
fail:
	saved = errno;
	store_mailbox_close(&mb);
	errno = saved;
	return -1;
}

void
store_mailbox_close(struct store_mailbox **mbp)
{
	struct store_mailbox *mb = *mbp;
	size_t i;

	if (mb == NULL)
		return;
	store_msg_tree_end(mb);
	store_tree_flush_quiet(mb);
	store_tree_pending_free(mb);
	store_view_clear(mb);
	free(mb->sync_expunged);
	free(mb->sync_changed);
	for (i = 0; i < STORE_MAX_KEYWORDS; i++)
		free(mb->keywords[i]);
	if (mb->curfd != -1)
		(void)close(mb->curfd);
	if (mb->newfd != -1)
		(void)close(mb->newfd);
	MW_ASSERT(mb->st->mailboxes > 0);
	mb->st->mailboxes--;
	free(mb->name);
	free(mb->dir);
	free(mb);
	*mbp = NULL;
}

static int
store_mailbox_sync_how(struct store_mailbox *mb, bool quick,
    struct store_sync_result *res, struct buf *err)
{
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	store_msg_tree_end(mb);
	store_tree_flush_quiet(mb);
	if (store_sync_run(mb, false, quick, res, err) == -1)
		return -1;
	/* keywords another session made: their names, for the flags it
	 * set on messages of this view (store_mailbox_keyword_name) */
	if (res != NULL && !mb->index_only)
		store_keywords_load(mb);
	return 0;
}

int
store_mailbox_sync(
    struct store_mailbox *mb, struct store_sync_result *res, struct buf *err)
{
	return store_mailbox_sync_how(mb, false, res, err);
}

int
store_mailbox_sync_quick(
    struct store_mailbox *mb, struct store_sync_result *res, struct buf *err)
{
	return store_mailbox_sync_how(mb, true, res, err);
}

size_t
store_mailbox_count(const struct store_mailbox *mb)
{
	return mb->n;
}

const struct store_msg *
store_mailbox_msg(const struct store_mailbox *mb, size_t i)
{
	MW_ASSERT(i < mb->n);
	return &mb->v[i];
}

size_t
store_mailbox_find_uid(const struct store_mailbox *mb, uint32_t uid)
{
	size_t lo = 0, hi = mb->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mb->v[mid].uid == uid)
			return mid;
		if (mb->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

uint32_t
store_mailbox_uidvalidity(const struct store_mailbox *mb)
{
	return mb->row.uidvalidity;
}

uint32_t
store_mailbox_uidnext(const struct store_mailbox *mb)
{
	return mb->row.uidnext;
}

uint64_t
store_mailbox_highestmodseq(const struct store_mailbox *mb)
{
	return mb->row.highestmodseq;
}

uint64_t
store_mailbox_vsize(const struct store_mailbox *mb)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < mb->n; i++)
		sum += mb->v[i].vsize;
	return sum;
}

const char *
store_mailbox_keyword_name(const struct store_mailbox *mb, size_t i)
{
	return i < STORE_MAX_KEYWORDS ? mb->keywords[i] : NULL;
}

uint32_t
store_mailbox_keywords_defined(const struct store_mailbox *mb)
{
	uint32_t bits = 0;

	for (size_t i = 0; i < STORE_MAX_KEYWORDS; i++)
		if (mb->keywords[i] != NULL)
			bits |= 1u << i;
	return bits;
}

/* ---- messages ---------------------------------------------------------- */

int
store_msg_open_quick(struct store_mailbox *mb, size_t i, int *fd_out)
{
	const struct store_msg_file *f;
	int fd;

	MW_ASSERT(i < mb->n);
	f = &mb->f[i];
	fd = openat(f->in_new ? mb->newfd : mb->curfd, f->file,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	*fd_out = fd;
	return 0;
}

int
store_msg_open(struct store_mailbox *mb, size_t i, int *fd_out)
{
	const struct store_msg_file *f;
	struct maildir_fname fn;
	sqlite3_stmt *s;
	char *file = NULL;
	bool in_new = false;
	int fd, r;

	MW_ASSERT(i < mb->n);
	f = &mb->f[i];
	fd = openat(f->in_new ? mb->newfd : mb->curfd, f->file,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd != -1 || errno != ENOENT) {
		*fd_out = fd;
		return fd == -1 ? -1 : 0;
	}
	/* renamed by someone (a flag change by mutt, a move to cur/): the
	 * same base under another name */
	if (maildir_fname_parse(f->file, strlen(f->file), &fn) == -1) {
		errno = ENOENT;
		return -1;
	}
	r = store_find_base(mb, f->file, fn.base_len, &file, &in_new);
	if (r != 1) {
		if (r == 0)
			errno = ENOENT;
		return -1;
	}
	fd = openat(in_new ? mb->newfd : mb->curfd, file,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		free(file);
		return -1;
	}
	/* remember the new name; the next sync notices changed flags */
	s = store_stmt(mb->st, STORE_ST_MSG_SET_FILE);
	(void)sqlite3_bind_int64(s, 1, mb->row.id);
	(void)sqlite3_bind_int64(s, 2, mb->v[i].uid);
	(void)sqlite3_bind_text(s, 3, file, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int(s, 4, in_new);
	(void)!store_step_done(s); /* only a hint: the sync repairs it */
	store_msg_file_set(mb, i, file, in_new);
	*fd_out = fd;
	return 0;
}

/* ---- Dovecot ----------------------------------------------------------- */

int
store_read_folder_file(
    struct store_mailbox *mb, const char *name, struct buf *b)
{
	char *path = xasprintf("%s/%s", mb->dir, name);
	int fd, ret = -1, saved;
	char chunk[65536];
	ssize_t n;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		free(path);
		errno = saved;
		return errno == ENOENT ? 0 : -1;
	}
	free(path);
	while ((n = read_full(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(b, chunk, (size_t)n) == -1)
			goto out;
	if (n == 0)
		ret = 1;
out:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return ret;
}

int
store_dovecot_import(struct store_mailbox *mb, struct store_mb_row *row,
    struct dovecot_uidlist **ul_out, struct buf *err)
{
	char *names[STORE_MAX_KEYWORDS] = { 0 };
	struct dovecot_uidlist *ul = NULL;
	struct buf data, why;
	sqlite3_stmt *s;
	int r, ret = -1;
	size_t i;

	*ul_out = NULL;
	buf_init(&data, STORE_DOVECOT_FILE_MAX);
	buf_init(&why, 1024);
	r = store_read_folder_file(mb, "dovecot-uidlist", &data);
	if (r == -1)
		log_warn("%s/dovecot-uidlist: cannot read it: %m; UIDs start "
		         "again",
		    mb->dir);
	if (r == 1 &&
	    dovecot_uidlist_parse(
	        data.data, data.len, STORE_MAX_MESSAGES, &ul, &why) == -1)
		log_warn("%s/%s; UIDs start again", mb->dir, buf_cstr(&why));
	if (ul != NULL) {
		row->uidvalidity = ul->uidvalidity;
		row->uidnext = ul->nextuid;
		log_info("%s: taking %zu UIDs from dovecot-uidlist "
		         "(uidvalidity %u)",
		    mb->dir, ul->n, ul->uidvalidity);
	}
	buf_reset(&data);
	r = store_read_folder_file(mb, "dovecot-keywords", &data);
	if (r == 1)
		(void)dovecot_keywords_parse(data.data, data.len, names);
	for (i = 0; i < STORE_MAX_KEYWORDS; i++) {
		if (names[i] == NULL)
			continue;
		s = store_stmt(mb->st, STORE_ST_KW_ADD);
		(void)sqlite3_bind_int64(s, 1, row->id);
		(void)sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
		(void)sqlite3_bind_text(s, 3, names[i], -1, SQLITE_STATIC);
		if (store_step_done(s) == -1) {
			(void)store_dberr(mb->st, err, "add keyword");
			goto out;
		}
	}
	*ul_out = ul;
	ul = NULL;
	ret = 0;
out:
	for (i = 0; i < STORE_MAX_KEYWORDS; i++)
		free(names[i]);
	dovecot_uidlist_free(&ul);
	buf_free(&data);
	buf_free(&why);
	return ret;
}

/* ---- rebuild ----------------------------------------------------------- */

/* The folders the index knows besides INBOX (malloc'd names). */
static size_t
store_folder_rows(struct store *st, char ***names_out)
{
	sqlite3_stmt *s = store_stmt(st, STORE_ST_MB_LIST);
	char **v = NULL;
	const char *name;
	size_t n = 0;

	while (sqlite3_step(s) == SQLITE_ROW && n < 100000) {
		name = (const char *)sqlite3_column_text(s, 0);
		if (name == NULL || strcmp(name, "INBOX") == 0)
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = xstrdup(name);
	}
	sqlite3_reset(s);
	*names_out = v;
	return n;
}

/* A forced sync of one folder: every file looked at again. */
static int
store_rebuild_folder(struct store *st, const char *name, struct buf *err)
{
	struct store_mailbox *mb = NULL;
	int ret;

	if (store_mailbox_open(st, name, false, &mb, err) == -1)
		return -1;
	ret = store_sync_run(mb, true, false, NULL, err);
	store_mailbox_close(&mb);
	return ret;
}

int
store_index_rebuild(const char *maildir, struct buf *err)
{
	struct store *st = NULL;
	char **names = NULL;
	size_t n = 0, i;
	int ret = -1, saved;

	/* a damaged index is moved aside and started again by store_open
	 * (keeping what can be read of it); a readable one keeps its UIDs,
	 * and the files' state is read anew */
	if (store_open(maildir, &st, err) == -1)
		return -1;
	if (store_rebuild_folder(st, "INBOX", err) == -1)
		goto out;
	n = store_folder_rows(st, &names);
	for (i = 0; i < n; i++) {
		if (store_rebuild_folder(st, names[i], err) == 0)
			continue;
		if (errno != ENOENT)
			goto out;
		/* the folder is gone: its UIDs with it */
		log_info("%s: folder %s no longer exists", maildir, names[i]);
	}
	ret = 0;
out:
	saved = errno;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	store_close(&st);
	errno = saved;
	return ret;
}
