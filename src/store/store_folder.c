/*
 * The folders of a store (IMAP LIST, CREATE, DELETE, RENAME, STATUS) and
 * their special-use attributes (RFC 6154). Names map to Maildir++
 * directories in store_folder_name.c; subscriptions are in
 * store_subs.c; the default folders of a new user in store_defaults.c.
 *
 * Changes to the directories happen inside a write transaction of the
 * index, so that two sessions renaming or deleting at once serialise and
 * the index rows follow the directories. New folders are built under a
 * temporary name and renamed into place with RENAME_NOREPLACE, so that no
 * session sees half of one and an existing folder is never replaced.
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

/* Where a folder keeps its special-use attributes (ours; Dovecot keeps
 * them in its configuration and ignores unknown files in a folder). */
#define FOLDER_USE_FILE "mailwright-special-use"
/* More folders than anyone has (Dovecot's default limit is 0, none): a
 * bound for a damaged or hostile Maildir. */
#define FOLDER_LIST_MAX ((size_t)100000)

// clang-format off
static const struct {
	uint32_t bit;
	const char *name;
} folder_uses[] = {
	{ STORE_USE_ALL,     "\\All" },
	{ STORE_USE_ARCHIVE, "\\Archive" },
	{ STORE_USE_DRAFTS,  "\\Drafts" },
	{ STORE_USE_FLAGGED, "\\Flagged" },
	{ STORE_USE_JUNK,    "\\Junk" },
	{ STORE_USE_SENT,    "\\Sent" },
	{ STORE_USE_TRASH,   "\\Trash" },
};
// clang-format on

const char *
store_special_use_name(uint32_t use)
{
	size_t i;

	for (i = 0; i < MW_NELEM(folder_uses); i++)
		if (folder_uses[i].bit == use)
			return folder_uses[i].name;
	return NULL;
}

uint32_t
store_special_use_of(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < MW_NELEM(folder_uses); i++)
		if (strlen(folder_uses[i].name) == len &&
		    ascii_eq_n(s, folder_uses[i].name, len))
			return folder_uses[i].bit;
	return 0;
}

/* The attributes in a mailwright-special-use file (words). */
static uint32_t
folder_uses_parse(const char *p, size_t n)
{
	const char *e = p + n, *w;
	uint32_t use = 0;

	while (p < e) {
		while (p < e && (*p == ' ' || *p == '\t' || *p == '\n'))
			p++;
		for (w = p; p < e && *p != ' ' && *p != '\t' && *p != '\n';)
			p++;
		if (p > w)
			use |= store_special_use_of(w, (size_t)(p - w));
	}
	return use;
}

/* The special-use bits of folder directory ent in the Maildir. */
static uint32_t
folder_uses_read(int rootfd, const char *ent)
{
	char *path = xasprintf("%s/" FOLDER_USE_FILE, ent), chunk[512];
	ssize_t n = -1;
	int fd;

	fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return 0;
	n = read_full(fd, chunk, sizeof(chunk));
	(void)close(fd);
	return n > 0 ? folder_uses_parse(chunk, (size_t)n) : 0;
}

/* ---- listing ----------------------------------------------------------- */

static int
folder_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_folder *)a)->name,
	    ((const struct store_folder *)b)->name);
}

/* By name, and for one name the real folder before a level. */
static int
folder_cmp_level(const void *a, const void *b)
{
	const struct store_folder *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : (int)x->noselect - (int)y->noselect;
}

static struct store_folder *
folder_find(struct store_folder_list *l, const char *name)
{
	struct store_folder key = { .name = (char *)name };

	return bsearch(&key, l->v, l->n, sizeof(*l->v), folder_cmp);
}

static void
folder_push(struct store_folder_list *l, size_t *cap, char *name, uint32_t use,
    bool noselect)
{
	if (l->n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		l->v = xreallocarray(l->v, *cap, sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n].name = name;
	l->v[l->n].special_use = use;
	l->v[l->n].noselect = noselect;
	l->n++;
}

void
store_folder_list_free(struct store_folder_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The folder directories of the Maildir, as names (unsorted, without
 * INBOX and without levels that have no directory). */
int
store_folder_scan(struct store *st, struct store_folder_list *l,
    size_t *cap, bool first_only, struct buf *err)
{
	struct buf name;
	struct dirent *de;
	struct stat sb;
	const char *why;
	int rootfd, ret = -1, saved;
	DIR *d;

	if ((rootfd = open(st->maildir, STORE_DIR_FLAGS)) == -1) {
		store_seterr(err, "%s: %s", st->maildir, strerror(errno));
		return -1;
	}
	{
		int dfd = dup(rootfd);

		if (dfd == -1 || (d = fdopendir(dfd)) == NULL) {
			store_seterr(
			    err, "%s: %s", st->maildir, strerror(errno));
			if (dfd != -1)
				(void)close(dfd);
			(void)close(rootfd);
			return -1;
		}
	}
	buf_init(&name, 4 * STORE_FOLDER_DISK_MAX);
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				store_seterr(err, "%s: %s", st->maildir,
				    strerror(errno));
				goto out;
			}
			break;
		}
		if (de->d_name[0] != '.' ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		buf_reset(&name);
		if (store_folder_name_from_disk(
		        de->d_name, strlen(de->d_name), &name, &why) == -1) {
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				log_debug("%s/%s: not a folder: %s",
				    st->maildir, de->d_name, why);
			continue;
		}
		if (fstatat(rootfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
		        -1 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		if (l->n >= FOLDER_LIST_MAX) {
			store_seterr(err, "%s: more than %zu folders",
			    st->maildir, FOLDER_LIST_MAX);
			errno = EFBIG;
			goto out;
		}
		{
			/* a directory without cur/ cannot be opened: a
			 * level, as Maildir++ tools leave them */
			char *cur = xasprintf("%s/cur", de->d_name);
			bool sel = fstatat(rootfd, cur, &sb,
			               AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(sb.st_mode);

			free(cur);
			folder_push(l, cap, xstrdup(buf_cstr(&name)),
			    sel ? folder_uses_read(rootfd, de->d_name) : 0,
			    !sel);
		}
		if (first_only)
			break;
	}
	ret = 0;
out:
	saved = errno;
	(void)closedir(d);
	(void)close(rootfd);
	buf_free(&name);
	errno = saved;
	return ret;
}

int
store_folder_list(
    struct store *st, struct store_folder_list *out, struct buf *err)
{
	struct store_folder_list l = { 0 };
	struct store_folder *p;
	size_t cap = 0, i, n;
	char *slash, *parent;

	out->v = NULL;
	out->n = 0;
	folder_push(&l, &cap, xstrdup("INBOX"), 0, false);
	if (store_folder_scan(st, &l, &cap, false, err) == -1) {
		store_folder_list_free(&l);
		return -1;
	}
	/* the levels above each folder, as \Noselect where missing: pushed
	 * unsorted (perhaps several times), then one sort and the duplicates
	 * dropped, a real folder winning over a level */
	n = l.n;
	qsort(l.v, l.n, sizeof(*l.v), folder_cmp);
	for (i = 0; i < n; i++) {
		struct store_folder_list sorted = { l.v, n };

		parent = xstrdup(l.v[i].name);
		while ((slash = strrchr(parent, STORE_FOLDER_SEP)) != NULL) {
			*slash = '\0';
			if (folder_find(&sorted, parent) != NULL)
				break;
			folder_push(&l, &cap, xstrdup(parent), 0, true);
		}
		free(parent);
	}
	if (l.n > n) {
		size_t k = 1;

		qsort(l.v, l.n, sizeof(*l.v), folder_cmp_level);
		for (i = 1; i < l.n; i++) {
			if (strcmp(l.v[i].name, l.v[k - 1].name) == 0) {
				free(l.v[i].name);
				continue;
			}
			l.v[k++] = l.v[i];
		}
		l.n = k;
	}
	for (i = 0; i < l.n; i++) {
		parent = xstrdup(l.v[i].name);
		if ((slash = strrchr(parent, STORE_FOLDER_SEP)) != NULL) {
			*slash = '\0';
			if ((p = folder_find(&l, parent)) != NULL)
				p->has_children = true;
		}
		free(parent);
	}
	/* INBOX first (RFC 9051 does not ask it; clients like it) */
	p = folder_find(&l, "INBOX");
	MW_ASSERT(p != NULL);
	if (p != l.v) {
		struct store_folder t = *p;

		memmove(l.v + 1, l.v, (size_t)(p - l.v) * sizeof(*l.v));
		l.v[0] = t;
	}
	*out = l;
	return 0;
}

int
store_folder_any(struct store *st, bool *any_out, struct buf *err)
{
	struct store_folder_list l = { 0 };
	size_t cap = 0;

	if (store_folder_scan(st, &l, &cap, true, err) == -1)
		return -1;
	*any_out = l.n > 0;
	store_folder_list_free(&l);
	return 0;
}

/* ---- create ------------------------------------------------------------ */

/* A unique "..mailwright-<what>.<unique>" entry name in the Maildir:
 * two leading dots, so no listing takes it for a folder. */
static char *
folder_temp_name(const char *what)
{
	struct buf u;
	char *r;

	buf_init(&u, 512);
	MW_ASSERT(store_unique_name(&u) == 0);
	r = xasprintf("..mailwright-%s.%s", what, buf_cstr(&u));
	buf_free(&u);
	return r;
}

/* Builds a folder directory at path: cur/ new/ tmp/, maildirfolder
 * (Maildir++), the special-use file; everything fsynced. */
static int
folder_build(const char *path, uint32_t use)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	struct buf b;
	char *p = NULL;
	size_t i;
	int ret = -1, saved;

	buf_init(&b, 4096);
	if (mkdir(path, 0700) == -1)
		goto out;
	for (i = 0; i < MW_NELEM(subs); i++) {
		free(p);
		p = xasprintf("%s/%s", path, subs[i]);
		if (mkdir(p, 0700) == -1)
			goto out;
	}
	free(p);
	p = xasprintf("%s/maildirfolder", path);
	if (fs_atomic_write(p, "", 0, 0600) == -1)
		goto out;
	for (i = 0; i < MW_NELEM(folder_uses); i++)
		if ((use & folder_uses[i].bit) != 0 &&
		    buf_printf(&b, "%s%s", b.len > 0 ? " " : "",
		        folder_uses[i].name) == -1)
			goto out;
	if (b.len > 0) {
		free(p);
		p = xasprintf("%s/" FOLDER_USE_FILE, path);
		if (buf_append_char(&b, '\n') == -1 ||
		    fs_atomic_write(p, b.data, b.len, 0600) == -1)
			goto out;
	}
	if (fsync_dir(path) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	free(p);
	buf_free(&b);
	errno = saved;
	return ret;
}

int
store_folder_create(
    struct store *st, const char *name, uint32_t use, struct buf *err)
{
	char *dir = NULL, *canon = NULL, *tmp = NULL, *tmpname = NULL;
	int ret = -1, saved;

	if ((use & ~STORE_USE_MASK) != 0) {
		store_seterr(err, "unknown special-use attribute");
		errno = EINVAL;
		return -1;
	}
	if ((dir = store_folder_dir(st, name, &canon, err)) == NULL)
		return -1;
	if (strcmp(canon, "INBOX") == 0) {
		store_seterr(err, "INBOX exists");
		errno = EEXIST;
		goto out;
	}
	tmpname = folder_temp_name("new");
	tmp = xasprintf("%s/%s", st->maildir, tmpname);
	if (folder_build(tmp, use) == -1) {
		store_seterr(
		    err, "cannot create folder %s: %s", canon, strerror(errno));
		goto out;
	}
	/* the commit point: never over an existing (even empty) folder */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) == -1) {
		if (errno == EEXIST)
			store_seterr(err, "folder %s exists", canon);
		else
			store_seterr(err, "cannot create folder %s: %s", canon,
			    strerror(errno));
		goto out;
	}
	if (fsync_dir(st->maildir) == -1) {
		store_seterr(
		    err, "%s: fsync: %s", st->maildir, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	saved = errno;
	if (ret == -1 && tmp != NULL)
		(void)fs_rm_rf(tmp);
	free(tmp);
	free(tmpname);
	free(dir);
	free(canon);
	errno = saved;
	return ret;
}

/* ---- delete ------------------------------------------------------------ */

/* Empties the index rows of folder name; the row itself stays, with its
 * UIDVALIDITY and next UID, so that a folder made again under that name
 * does not reuse UIDs (RFC 9051 2.3.1.1). all: the row is about to go
 * (rename), its \Recent watermark with it. */
int
store_folder_rows_empty(
    struct store *st, const char *name, bool all, struct buf *err)
{
	struct store_mb_row row;
	sqlite3_stmt *s;
	int r;

	if ((r = store_mb_get(st, name, &row, err)) != 1)
		return r;
	if (store_folder_rows_drop(st, row.id, all, err) == -1)
		return -1;
	s = store_stmt(st, STORE_ST_MB_EMPTY);
	(void)sqlite3_bind_int64(s, 1, row.id);
	if (store_step_done(s) == -1)
		return store_dberr(st, err, "delete messages");
	s = store_stmt(st, STORE_ST_KW_EMPTY);
	(void)sqlite3_bind_int64(s, 1, row.id);
	if (store_step_done(s) == -1)
		return store_dberr(st, err, "delete keywords");
	row.cur_mtime = row.new_mtime = STORE_MTIME_UNKNOWN;
	row.gen++;
	return store_mb_update(st, &row, err);
}

int
store_folder_delete(struct store *st, const char *name, struct buf *err)
{
	char *dir = NULL, *canon = NULL, *trash = NULL;
	struct stat sb;
	int ret = -1, saved;

	if ((dir = store_folder_dir(st, name, &canon, err)) == NULL)
		return -1;
	if (strcmp(canon, "INBOX") == 0) {
		/* RFC 9051 6.3.4: it is an error to delete INBOX */
		store_seterr(err, "INBOX cannot be deleted");
		errno = EINVAL;
		goto out;
	}
	if (store_begin(st, err) == -1)
		goto out;
	if (lstat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		/* also a \Noselect level: RFC 9051 6.3.4 makes deleting one
		 * with children an error, and without any it is not there */
		store_seterr(err, "folder %s does not exist", canon);
		errno = ENOENT;
		goto out;
	}
	/* out of sight first (as Dovecot's ..DOVECOT-TRASH), then removed:
	 * a crash in between leaves only a hidden directory */
	{
		char *t = folder_temp_name("deleted");

		trash = xasprintf("%s/%s", st->maildir, t);
		free(t);
	}
	if (rename(dir, trash) == -1) {
		store_seterr(
		    err, "cannot delete folder %s: %s", canon, strerror(errno));
		goto out;
	}
	if (fsync_dir(st->maildir) == -1) {
		store_seterr(
		    err, "%s: fsync: %s", st->maildir, strerror(errno));
		goto out;
	}
	if (store_folder_rows_empty(st, canon, false, err) == -1 ||
	    store_commit(st, err) == -1)
		goto out;
	if (fs_rm_rf(trash) == -1)
		log_warn("%s: cannot remove it: %m", trash);
	ret = 0;
out:
	saved = errno;
	if (ret == -1)
		store_rollback(st);
	free(trash);
	free(dir);
	free(canon);
	errno = saved;
	return ret;
}

/* ---- status ------------------------------------------------------------ */

int
store_folder_status(struct store *st, const char *name,
    struct store_folder_status *out, struct buf *err)
{
	struct store_mailbox *mb = NULL;
	sqlite3_stmt *s;
	uint32_t first;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	/* read-only and index-only: the cheap sync, no view, no renames */
	if (store_mailbox_open_mode(st, name, true, true, &mb, err) == -1)
		return -1;
	s = store_stmt(st, STORE_ST_MB_STATUS);
	(void)sqlite3_bind_int64(s, 1, mb->row.id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		(void)store_dberr(st, err, "status");
		goto out;
	}
	out->messages = (uint32_t)sqlite3_column_int64(s, 0);
	out->unseen = (uint32_t)sqlite3_column_int64(s, 1);
	out->deleted = (uint32_t)sqlite3_column_int64(s, 2);
	out->size = (uint64_t)sqlite3_column_int64(s, 3);
	sqlite3_reset(s);
	/* RFC 3501 6.3.10 RECENT: what no session has taken yet */
	if (store_recent_get(st, mb->row.id, mb->row.uidnext, &first, err) ==
	    -1)
		goto out;
	s = store_stmt(st, STORE_ST_MB_RECENT);
	(void)sqlite3_bind_int64(s, 1, mb->row.id);
	(void)sqlite3_bind_int64(s, 2, first);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		(void)store_dberr(st, err, "status");
		goto out;
	}
	out->recent = (uint32_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	out->uidnext = mb->row.uidnext;
	out->uidvalidity = mb->row.uidvalidity;
	out->highestmodseq = mb->row.highestmodseq;
	ret = 0;
out:
	store_mailbox_close(&mb);
	return ret;
}
