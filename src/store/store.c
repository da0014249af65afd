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

#define STORE_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* dovecot-uidlist of 10 million messages is about 1 GB; more than we
 * import in one go, and a bound for a damaged file */
#define STORE_DOVECOT_FILE_MAX ((size_t)256 * 1024 * 1024)
/* The most view entries allocated up front from a guess (18 MiB of
 * arrays); a larger folder grows from there. */
#define VIEW_CAP_GUESS_MAX ((size_t)1 << 18)

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

/* The view's strings (UIDLs, file names): in blocks that never move
 * (no copy as the view grows, no allocation per message), of 256 bytes
 * to 1 MiB. */
#define VIEW_BLOCK_MIN ((size_t)256)
/* What a message's strings take, for the first block's size: a
 * Dovecot-style name (~50) and a UIDL (~25) */
#define VIEW_MSG_BYTES ((size_t)80)
#define VIEW_BLOCK_MAX ((size_t)1 << 20)

struct store_view_block {
	struct store_view_block *next; /* the older blocks */
	size_t len, cap;
	char data[];
};

/* Copies s[0..n) and a NUL into the blocks at *head; the first block
 * has first bytes (a guess from the count: a folder of a few messages
 * keeps little slack), the next ones twice the last. */
static const char *
view_put(struct store_view_block **head, size_t first, const char *s, size_t n)
{
	struct store_view_block *b = *head;
	size_t cap;
	char *p;

	if (b == NULL || b->cap - b->len < n + 1) {
		cap = first < VIEW_BLOCK_MIN ? VIEW_BLOCK_MIN : first;
		if (cap > VIEW_BLOCK_MAX)
			cap = VIEW_BLOCK_MAX;
		if (b != NULL)
			cap = b->cap < VIEW_BLOCK_MAX ? 2 * b->cap : b->cap;
		if (cap < n + 1)
			cap = n + 1; /* n is at most MAILDIR_NAME_MAX */
		b = xmalloc(sizeof(*b) + cap);
		b->next = *head;
		b->len = 0;
		b->cap = cap;
		*head = b;
	}
	p = b->data + b->len;
	memcpy(p, s, n);
	p[n] = '\0';
	b->len += n + 1;
	return p;
}

static void
view_blocks_free(struct store_view_block **head)
{
	struct store_view_block *b, *next;

	for (b = *head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	*head = NULL;
}

void
store_msg_file_set(struct store_mailbox *mb, size_t i, char *file, bool in_new)
{
	struct store_msg_file *f = &mb->f[i];

	if (f->own)
		free(f->file);
	f->file = file;
	f->in_new = in_new;
	f->own = true;
}

void
store_msg_file_release(struct store_msg_file *f)
{
	if (f->own)
		free(f->file);
	f->file = NULL;
	f->own = false;
}

static void
store_view_clear(struct store_mailbox *mb)
{
	size_t i;

	for (i = 0; i < mb->n; i++)
		store_msg_file_release(&mb->f[i]);
	free(mb->v);
	free(mb->f);
	view_blocks_free(&mb->arena);
	mb->v = NULL;
	mb->f = NULL;
	mb->n = 0;
}

static void
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

int
store_mailbox_sync(
    struct store_mailbox *mb, struct store_sync_result *res, struct buf *err)
{
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	store_msg_tree_end(mb);
	store_tree_flush_quiet(mb);
	if (store_sync_run(mb, false, res, err) == -1)
		return -1;
	/* keywords another session made: their names, for the flags it
	 * set on messages of this view (store_mailbox_keyword_name) */
	if (res != NULL && !mb->index_only)
		store_keywords_load(mb);
	return 0;
}

/* ---- the view ---------------------------------------------------------- */

/* What changed between the old view (ov, on) and the new one; the
 * index lists go to the mailbox (store_sync_result). */
static void
store_view_diff(struct store_mailbox *mb, const struct store_msg *ov, size_t on,
    const struct store_msg *nv, size_t nn, struct store_sync_result *res)
{
	size_t i = 0, j = 0, k, t;

	free(mb->sync_expunged);
	free(mb->sync_changed);
	mb->sync_expunged = xreallocarray(NULL, on + 1, sizeof(size_t));
	mb->sync_changed = xreallocarray(NULL, nn + 1, sizeof(size_t));
	while (i < on || j < nn) {
		if (j == nn || (i < on && ov[i].uid < nv[j].uid)) {
			mb->sync_expunged[res->removed++] = i;
			i++;
		} else if (i == on || nv[j].uid < ov[i].uid) {
			res->added++;
			j++;
		} else {
			if (ov[i].flags != nv[j].flags ||
			    ov[i].keywords != nv[j].keywords)
				mb->sync_changed[res->changed++] = j;
			i++;
			j++;
		}
	}
	/* RFC 9051 7.5.1: each EXPUNGE renumbers what follows, so the
	 * highest goes first */
	for (k = 0; k < res->removed / 2; k++) {
		t = mb->sync_expunged[k];
		mb->sync_expunged[k] = mb->sync_expunged[res->removed - 1 - k];
		mb->sync_expunged[res->removed - 1 - k] = t;
	}
	res->expunged = mb->sync_expunged;
	res->flags_changed = mb->sync_changed;
}

int
store_view_load(
    struct store_mailbox *mb, struct store_sync_result *res, struct buf *err)
{
	struct store *st = mb->st;
	struct store_msg *v = NULL, *m;
	struct store_msg_file *f = NULL;
	struct store_view_block *arena = NULL;
	struct store_mb_row row;
	size_t n = 0, cap, first, ulen, flen;
	const char *uidl, *file;
	uint32_t uid;
	sqlite3_stmt *s;
	sqlite3 *db;
	int rc, ret = -1;

	/* one read transaction: the row and the messages agree */
	store_tree_run_end(st);
	if ((db = store_db(st)) == NULL ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_dberr(st, err, "begin");
	if ((rc = store_mb_get(st, mb->name, &row, err)) != 1) {
		if (rc == 0) {
			store_seterr(err, "index %s: folder %s vanished",
			    st->index_path, mb->name);
			errno = EIO;
		}
		goto out;
	}
	if (mb->loaded && row.gen == mb->row.gen &&
	    row.uidvalidity == mb->row.uidvalidity) {
		mb->row = row;
		ret = 0;
		goto out;
	}
	/* sized once: as the last view (a reload), else by the next UID
	 * (UIDs are unique: no more messages than that), within reason */
	cap = mb->loaded ? mb->n + mb->n / 8 + 64 : row.uidnext;
	if (cap > VIEW_CAP_GUESS_MAX)
		cap = VIEW_CAP_GUESS_MAX;
	v = xreallocarray(NULL, cap, sizeof(*v));
	f = xreallocarray(NULL, cap, sizeof(*f));
	first = cap * VIEW_MSG_BYTES;
	s = store_stmt(st, STORE_ST_MSG_LIST);
	(void)sqlite3_bind_int64(s, 1, row.id);
	/* the columns in the order the record holds them (store_index.c) */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		uid = (uint32_t)sqlite3_column_int64(s, 0);
		file = (const char *)sqlite3_column_text(s, 1);
		flen = (size_t)sqlite3_column_bytes(s, 1);
		/* a damaged row (or one this view cannot hold) is left out */
		if (file == NULL || flen == 0 || flen > MAILDIR_NAME_MAX ||
		    uid == 0 || (n > 0 && uid <= v[n - 1].uid) ||
		    n >= STORE_MAX_MESSAGES)
			continue;
		if (n == cap) {
			cap *= 2;
			v = xreallocarray(v, cap, sizeof(*v));
			f = xreallocarray(f, cap, sizeof(*f));
		}
		m = &v[n];
		m->uid = uid;
		f[n].in_new = sqlite3_column_int(s, 2) != 0;
		f[n].own = false;
		m->vsize = (uint64_t)sqlite3_column_int64(s, 3);
		m->psize = (uint64_t)sqlite3_column_int64(s, 4);
		m->flags = (uint32_t)sqlite3_column_int64(s, 5);
		m->keywords = (uint32_t)sqlite3_column_int64(s, 6);
		m->internaldate = sqlite3_column_int64(s, 7);
		m->modseq = (uint64_t)sqlite3_column_int64(s, 8);
		f[n].file = (char *)view_put(&arena, first, file, flen);
		uidl = (const char *)sqlite3_column_text(s, 9);
		ulen = (size_t)sqlite3_column_bytes(s, 9);
		/* a damaged row must not break the UIDL contract */
		if (uidl == NULL || !store_uidl_ok(uidl, ulen)) {
			char u[71];

			store_uidl_dovecot(m->uid, row.uidvalidity, u);
			m->uidl = view_put(&arena, first, u, strlen(u));
		} else
			m->uidl = view_put(&arena, first, uidl, ulen);
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		(void)store_dberr(st, err, "read messages");
		goto out;
	}
	/* the view lives as long as the session: no slack (the first
	 * allocation is a guess; most of an idle session's memory for a
	 * folder of a few messages) */
	if (n == 0) {
		free(v);
		free(f);
		v = NULL;
		f = NULL;
	} else if (n < cap) {
		v = xreallocarray(v, n, sizeof(*v));
		f = xreallocarray(f, n, sizeof(*f));
	}
	if (res != NULL)
		store_view_diff(mb, mb->v, mb->n, v, n, res);
	store_view_clear(mb);
	mb->v = v;
	mb->f = f;
	mb->n = n;
	mb->arena = arena;
	v = NULL;
	f = NULL;
	arena = NULL;
	mb->row = row;
	mb->loaded = true;
	ret = 0;
out:
	(void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	free(v);
	free(f);
	view_blocks_free(&arena);
	return ret;
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
	struct store_msg_file *f;
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
	ret = store_sync_run(mb, true, NULL, err);
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
