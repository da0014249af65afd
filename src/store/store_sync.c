/*
 * Synchronising the index with a Maildir folder (store_sync_run): the
 * cheap path compares the directories' mtimes with the index and does
 * nothing more; the full path reads new/ and cur/, moves new mail to
 * cur/ (a few files at a time: STORE_SYNC_MOVE_MAX), gives unknown
 * files UIDs in delivery order, notices renames (flag changes by mutt
 * and others) and removals. One BEGIN IMMEDIATE
 * transaction covers a whole full sync, so processes syncing at once
 * serialise and each file gets exactly one UID.
 *
 * Dovecot's rule for mtimes (maildir-sync.c): a directory whose mtime is
 * within 2 seconds of now may still change within the same time stamp,
 * so such an mtime is not stored and the next sync scans again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/dovecot_uidlist.h"
#include "store/maildir_name.h"
#include "store/store_private.h"

/* One directory entry. */
struct sync_ent {
	char *name;
	bool in_new;
	struct maildir_fname fn; /* points into name */
	struct sync_row *row;    /* the row it matched, or NULL */
};

/* One messages row, as the sync compares it. */
struct sync_row {
	uint32_t uid, flags, keywords;
	char *base, *file;
	bool in_new, seen;
};

struct sync_list {
	struct sync_ent *v;
	size_t n, cap;
};

struct sync_ctx {
	struct store_mailbox *mb;
	struct store_mb_row row;
	struct sync_row *rows;
	size_t nrows;
	struct sync_list ents;
	struct dovecot_uidlist *ul; /* the first sync after an import */
	bool force, changed, incomplete;
	struct buf *err;
};

int64_t
store_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
store_mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int
store_dir_mtimes(struct store_mailbox *mb, int64_t *cur, int64_t *new)
{
	struct stat a, b;

	if (fstat(mb->curfd, &a) == -1 || fstat(mb->newfd, &b) == -1)
		return -1;
	*cur = store_mtime_ns(&a);
	*new = store_mtime_ns(&b);
	return 0;
}

int
store_count_vsize(int fd, uint64_t *vsize_out)
{
	char chunk[65536];
	uint64_t v = 0;
	char prev = 0;
	ssize_t n, i;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (chunk[i] == '\n' && prev != '\r')
				v++;
			prev = chunk[i];
		}
		v += (uint64_t)n;
	}
	*vsize_out = v;
	return 0;
}

/* ---- listing ----------------------------------------------------------- */

static void
sync_list_free(struct sync_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Appends the message files of directory fd to l. */
static int
sync_list_dir(int fd, bool in_new, struct sync_list *l)
{
	struct dirent *de;
	struct sync_ent *e;
	DIR *d;
	int dfd, saved, ret = 0;

	if ((dfd = dup(fd)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		saved = errno;
		(void)close(dfd);
		errno = saved;
		return -1;
	}
	rewinddir(d);
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				ret = -1;
			break;
		}
		if (de->d_name[0] == '.' ||
		    (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 256;
			l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
		}
		e = &l->v[l->n];
		memset(e, 0, sizeof(*e));
		e->name = xstrdup(de->d_name);
		if (maildir_fname_parse(e->name, strlen(e->name), &e->fn) ==
		    -1) {
			free(e->name);
			continue;
		}
		e->in_new = in_new;
		l->n++;
		if (l->n > STORE_MAX_MESSAGES) {
			errno = EFBIG;
			ret = -1;
			break;
		}
	}
	saved = errno;
	(void)closedir(d);
	errno = saved;
	return ret;
}

/* cur/ first: a base in both places is the cur/ one. */
static int
sync_list_all(struct store_mailbox *mb, struct sync_list *l)
{
	if (sync_list_dir(mb->curfd, false, l) == -1 ||
	    sync_list_dir(mb->newfd, true, l) == -1)
		return -1;
	return 0;
}

int
store_find_base(struct store_mailbox *mb, const char *base, size_t base_len,
    char **file_out, bool *in_new_out)
{
	struct sync_list l = { 0 };
	size_t i;
	int ret = 0;

	if (sync_list_all(mb, &l) == -1) {
		sync_list_free(&l);
		return -1;
	}
	for (i = 0; i < l.n; i++)
		if (l.v[i].fn.base_len == base_len &&
		    memcmp(l.v[i].name, base, base_len) == 0) {
			*file_out = xstrdup(l.v[i].name);
			*in_new_out = l.v[i].in_new;
			ret = 1;
			break;
		}
	sync_list_free(&l);
	return ret;
}

/* ---- rows -------------------------------------------------------------- */

static int
sync_row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sync_row *)a)->base,
	    ((const struct sync_row *)b)->base);
}

static void
sync_rows_free(struct sync_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nrows; i++) {
		free(c->rows[i].base);
		free(c->rows[i].file);
	}
	free(c->rows);
	c->rows = NULL;
	c->nrows = 0;
}

static int
sync_rows_load(struct sync_ctx *c)
{
	struct store *st = c->mb->st;
	sqlite3_stmt *s = store_stmt(st, STORE_ST_MSG_SCAN);
	size_t cap = 0;
	struct sync_row *r;
	const char *b, *f;
	int rc;

	(void)sqlite3_bind_int64(s, 1, c->row.id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		b = (const char *)sqlite3_column_text(s, 1);
		f = (const char *)sqlite3_column_text(s, 2);
		if (b == NULL || f == NULL)
			continue;
		if (c->nrows == cap) {
			cap = cap ? 2 * cap : 256;
			c->rows = xreallocarray(c->rows, cap, sizeof(*c->rows));
		}
		r = &c->rows[c->nrows++];
		r->uid = (uint32_t)sqlite3_column_int64(s, 0);
		r->base = xstrdup(b);
		r->file = xstrdup(f);
		r->in_new = sqlite3_column_int(s, 3) != 0;
		r->flags = (uint32_t)sqlite3_column_int64(s, 4);
		r->keywords = (uint32_t)sqlite3_column_int64(s, 5);
		r->seen = false;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_dberr(st, c->err, "read messages");
	if (c->nrows > 0)
		qsort(c->rows, c->nrows, sizeof(*c->rows), sync_row_cmp);
	return 0;
}

static struct sync_row *
sync_row_find(struct sync_ctx *c, const char *base, size_t len)
{
	size_t lo = 0, hi = c->nrows, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = strncmp(base, c->rows[mid].base, len);
		if (r == 0 && c->rows[mid].base[len] != '\0')
			r = -1; /* the row's base is longer */
		if (r == 0)
			return &c->rows[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- changes ----------------------------------------------------------- */

/* new/<name> to cur/<name>:2, (maildir(5)); the entry follows. 0, 1 when
 * someone else moved it first, -1 on error. */
static int
sync_move_to_cur(struct sync_ctx *c, struct sync_ent *e)
{
	struct buf to;
	int ret = -1;

	buf_init(&to, MAILDIR_NAME_MAX + 1);
	if (e->fn.has_info)
		ret = buf_append_str(&to, e->name);
	else
		ret = maildir_fname_with_flags(&to, e->name, &e->fn, 0, 0);
	if (ret == -1) {
		buf_free(&to);
		return 0; /* no room for ":2,": leave it in new/ */
	}
	if (renameat(c->mb->newfd, e->name, c->mb->curfd, to.data) == -1) {
		ret = errno == ENOENT ? 1 : -1;
		if (ret == -1)
			store_seterr(c->err,
			    "%s: cannot move new/%s to cur/: %s", c->mb->dir,
			    e->name, strerror(errno));
		buf_free(&to);
		return ret;
	}
	free(e->name);
	e->name = buf_steal(&to);
	buf_free(&to);
	e->in_new = false;
	MW_ASSERT(maildir_fname_parse(e->name, strlen(e->name), &e->fn) == 0);
	return 0;
}

/* Brings a row up to date with the file it matched. */
static int
sync_update_row(struct sync_ctx *c, struct sync_ent *e)
{
	struct store *st = c->mb->st;
	struct sync_row *r = e->row;
	sqlite3_stmt *s;

	if (strcmp(r->file, e->name) == 0 && r->in_new == e->in_new &&
	    r->flags == e->fn.flags && r->keywords == e->fn.keywords)
		return 0;
	s = store_stmt(st, STORE_ST_MSG_SET_FLAGS);
	(void)sqlite3_bind_int64(s, 1, c->row.id);
	(void)sqlite3_bind_int64(s, 2, r->uid);
	(void)sqlite3_bind_text(s, 3, e->name, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int(s, 4, e->in_new);
	(void)sqlite3_bind_int64(s, 5, e->fn.flags);
	(void)sqlite3_bind_int64(s, 6, e->fn.keywords);
	/* RFC 7162 3.1: a flag change gets a new mod-sequence */
	if (r->flags != e->fn.flags || r->keywords != e->fn.keywords)
		c->row.highestmodseq++;
	(void)sqlite3_bind_int64(s, 7, (sqlite3_int64)c->row.highestmodseq);
	if (store_step_done(s) == -1)
		return store_dberr(st, c->err, "update message");
	c->changed = true;
	return 0;
}

/* psize, vsize and the arrival time of the file of e: 0, 1 when it is
 * gone or not a regular file, -1 on error. */
static int
sync_file_sizes(struct sync_ctx *c, const struct sync_ent *e, uint64_t *psize,
    uint64_t *vsize, int64_t *date)
{
	int dfd = e->in_new ? c->mb->newfd : c->mb->curfd, fd, r;
	struct stat sb;

	if (fstatat(dfd, e->name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 1 : -1;
	if (!S_ISREG(sb.st_mode))
		return 1;
	/* the arrival time: Dovecot keeps it in the file's mtime */
	*date = (int64_t)sb.st_mtim.tv_sec;
	*psize = e->fn.has_psize ? e->fn.psize : (uint64_t)sb.st_size;
	if (e->fn.has_vsize) {
		*vsize = e->fn.vsize;
		return 0;
	}
	/* no W=: read it once (the index keeps the result) */
	fd = openat(dfd, e->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 1 : -1;
	r = store_count_vsize(fd, vsize);
	(void)close(fd);
	return r;
}

static int
sync_ent_order(const void *a, const void *b)
{
	const struct sync_ent *x = *(const struct sync_ent *const *)a;
	const struct sync_ent *y = *(const struct sync_ent *const *)b;

	return maildir_base_cmp(
	    x->name, x->fn.base_len, y->name, y->fn.base_len);
}

/* Inserts a file the index did not know. */
static int
sync_insert(struct sync_ctx *c, struct sync_ent *e)
{
	struct store *st = c->mb->st;
	const struct dovecot_uidlist_rec *dr = NULL;
	uint64_t psize = 0, vsize = 0;
	int64_t date = 0;
	sqlite3_stmt *s;
	char uidl[71];
	uint32_t uid;
	int r;

	r = sync_file_sizes(c, e, &psize, &vsize, &date);
	if (r == -1) {
		store_seterr(c->err, "%s: cannot read %s/%s: %s", c->mb->dir,
		    e->in_new ? "new" : "cur", e->name, strerror(errno));
		return -1;
	}
	if (r == 1) {
		c->incomplete = true; /* gone meanwhile: look again later */
		return 0;
	}
	if (c->ul != NULL)
		dr = dovecot_uidlist_find(c->ul, e->name, e->fn.base_len);
	if (dr != NULL) {
		uid = dr->uid;
		if (dr->uidl_len > 0) {
			memcpy(uidl, dr->uidl, dr->uidl_len);
			uidl[dr->uidl_len] = '\0';
		} else
			store_uidl_dovecot(uid, c->row.uidvalidity, uidl);
	} else {
		/* RFC 3501 2.3.1.1: UIDs are 32-bit; none left means a new
		 * UIDVALIDITY, which a rebuild gives */
		if (c->row.uidnext == UINT32_MAX) {
			store_seterr(c->err,
			    "%s: no UIDs left (run "
			    "mailwright index rebuild)",
			    c->mb->dir);
			errno = EOVERFLOW;
			return -1;
		}
		uid = c->row.uidnext;
		store_uidl_of_base(e->name, e->fn.base_len, uidl);
	}
	if (uid >= c->row.uidnext)
		c->row.uidnext = uid + 1;
	c->row.highestmodseq++;
	s = store_stmt(st, STORE_ST_MSG_ADD);
	(void)sqlite3_bind_int64(s, 1, c->row.id);
	(void)sqlite3_bind_int64(s, 2, uid);
	(void)sqlite3_bind_text(
	    s, 3, e->name, (int)e->fn.base_len, SQLITE_STATIC);
	(void)sqlite3_bind_text(s, 4, e->name, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int(s, 5, e->in_new);
	(void)sqlite3_bind_int64(s, 6, (sqlite3_int64)vsize);
	(void)sqlite3_bind_int64(s, 7, (sqlite3_int64)psize);
	(void)sqlite3_bind_int64(s, 8, e->fn.flags);
	(void)sqlite3_bind_int64(s, 9, e->fn.keywords);
	(void)sqlite3_bind_int64(s, 10, date);
	(void)sqlite3_bind_int64(s, 11, (sqlite3_int64)c->row.highestmodseq);
	(void)sqlite3_bind_text(s, 12, uidl, -1, SQLITE_STATIC);
	if (store_step_done(s) == -1)
		return store_dberr(st, c->err, "add message");
	c->changed = true;
	return 0;
}

static int
sync_delete(struct sync_ctx *c, const struct sync_row *r)
{
	sqlite3_stmt *s = store_stmt(c->mb->st, STORE_ST_MSG_DEL);

	(void)sqlite3_bind_int64(s, 1, c->row.id);
	(void)sqlite3_bind_int64(s, 2, r->uid);
	if (store_step_done(s) == -1)
		return store_dberr(c->mb->st, c->err, "delete message");
	s = store_stmt(c->mb->st, STORE_ST_MIME_DEL);
	(void)sqlite3_bind_int64(s, 1, c->row.id);
	(void)sqlite3_bind_int64(s, 2, r->uid);
	if (store_step_done(s) == -1)
		return store_dberr(c->mb->st, c->err, "delete structure");
	c->changed = true;
	return 0;
}

/* Rows whose file was not seen: look once more (a rename during readdir
 * may hide a file from it), then they are gone. */
static int
sync_missing(struct sync_ctx *c)
{
	struct sync_list again = { 0 };
	struct sync_row *r;
	size_t i, missing = 0;
	int ret = -1;

	for (i = 0; i < c->nrows; i++)
		missing += !c->rows[i].seen;
	if (missing == 0 || c->incomplete)
		return 0;
	if (sync_list_all(c->mb, &again) == -1) {
		store_seterr(c->err, "%s: cannot read the folder: %s",
		    c->mb->dir, strerror(errno));
		goto out;
	}
	for (i = 0; i < again.n; i++) {
		r = sync_row_find(c, again.v[i].name, again.v[i].fn.base_len);
		if (r == NULL || r->seen)
			continue;
		r->seen = true;
		again.v[i].row = r;
		if (sync_update_row(c, &again.v[i]) == -1)
			goto out;
	}
	for (i = 0; i < c->nrows; i++)
		if (!c->rows[i].seen && sync_delete(c, &c->rows[i]) == -1)
			goto out;
	ret = 0;
out:
	sync_list_free(&again);
	return ret;
}

/* Sizes again, for a rebuild. */
static int
sync_resize(struct sync_ctx *c, struct sync_ent *e)
{
	uint64_t psize, vsize;
	int64_t date;
	sqlite3_stmt *s;
	int r;

	r = sync_file_sizes(c, e, &psize, &vsize, &date);
	if (r != 0)
		return r == 1 ? 0 : -1;
	s = store_stmt(c->mb->st, STORE_ST_MSG_SET_SIZES);
	(void)sqlite3_bind_int64(s, 1, c->row.id);
	(void)sqlite3_bind_int64(s, 2, e->row->uid);
	(void)sqlite3_bind_int64(s, 3, (sqlite3_int64)vsize);
	(void)sqlite3_bind_int64(s, 4, (sqlite3_int64)psize);
	if (store_step_done(s) == -1)
		return store_dberr(c->mb->st, c->err, "update sizes");
	c->changed = true;
	return 0;
}

/*
 * New mail moves from new/ to cur/ as it is indexed (maildir(5): a reader
 * moves what it has noticed), unless more than this many files arrived
 * since the last look: then they are indexed where they are, and each
 * moves to cur/ when its flags first change (store_update.c). Renaming
 * 100,000 files in two directories that large is most of the cost of a
 * first sync; Dovecot, too, keeps working with mail left in new/ (its
 * maildir-sync.c, "problem 3").
 */
#define STORE_SYNC_MOVE_MAX 64

/* The full path, inside the transaction. */
static int
sync_scan(struct sync_ctx *c)
{
	struct sync_ent **fresh = NULL, *e;
	size_t i, nfresh = 0, nnew = 0;
	bool move;
	int r, ret = -1;

	if (sync_rows_load(c) == -1)
		return -1;
	if (sync_list_all(c->mb, &c->ents) == -1) {
		store_seterr(c->err, "%s: cannot read the folder: %s",
		    c->mb->dir, strerror(errno));
		return -1;
	}
	fresh = xreallocarray(NULL, c->ents.n + 1, sizeof(*fresh));
	for (i = 0; i < c->ents.n; i++) {
		e = &c->ents.v[i];
		e->row = sync_row_find(c, e->name, e->fn.base_len);
		nnew += e->in_new && e->row == NULL;
	}
	move = !c->mb->read_only && nnew <= STORE_SYNC_MOVE_MAX;
	for (i = 0; i < c->ents.n; i++) {
		e = &c->ents.v[i];
		if (e->row != NULL && e->row->seen)
			continue; /* a second file with that base: ignored */
		if (e->in_new && e->row == NULL && move) {
			if ((r = sync_move_to_cur(c, e)) == -1)
				goto out;
			if (r == 1) {
				/* moved by someone else: it is in cur/ now */
				c->incomplete = true;
				if (e->row != NULL)
					e->row->seen = true;
				continue;
			}
		}
		if (e->row == NULL) {
			fresh[nfresh++] = e;
			continue;
		}
		e->row->seen = true;
		if (sync_update_row(c, e) == -1)
			goto out;
		if (c->force && sync_resize(c, e) == -1)
			goto out;
	}
	if (sync_missing(c) == -1)
		goto out;
	/* UIDs in delivery order: "<sec>.M<usec>..." names sort by time */
	if (nfresh > 1)
		qsort(fresh, nfresh, sizeof(*fresh), sync_ent_order);
	for (i = 0; i < nfresh; i++) {
		/* a base twice among the new (cur/ and new/): the first */
		if (i > 0 && sync_ent_order(&fresh[i - 1], &fresh[i]) == 0)
			continue;
		if (sync_insert(c, fresh[i]) == -1)
			goto out;
	}
	ret = 0;
out:
	free(fresh);
	return ret;
}

/* The mtime to store: only one that did not move during the scan and is
 * old enough that no change can share its time stamp. */
static int64_t
sync_trusted(int64_t before, int64_t after, int64_t now, bool incomplete)
{
	if (incomplete || before != after || after > now - STORE_MTIME_SLACK_NS)
		return STORE_MTIME_UNKNOWN;
	return after;
}

static bool
sync_unchanged(const struct store_mb_row *row, int64_t cm, int64_t nm)
{
	return row->cur_mtime != STORE_MTIME_UNKNOWN &&
	    row->new_mtime != STORE_MTIME_UNKNOWN && row->cur_mtime == cm &&
	    row->new_mtime == nm;
}

/* A new folder's row: from dovecot-uidlist, else UIDVALIDITY = now
 * (as Dovecot picks it). */
static int
sync_create(struct sync_ctx *c)
{
	struct store *st = c->mb->st;

	sqlite3_stmt *s = store_stmt(st, STORE_ST_MB_MAXVAL);
	int64_t maxval = 0;

	memset(&c->row, 0, sizeof(c->row));
	if (sqlite3_step(s) == SQLITE_ROW)
		maxval = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	/* RFC 9051 2.3.1.1: a folder made again under a name that was
	 * renamed away gets a UIDVALIDITY no earlier folder had (a deleted
	 * one keeps its row, and with it its next UID) */
	c->row.uidvalidity = (uint32_t)time(NULL);
	if (maxval >= (int64_t)c->row.uidvalidity && maxval < UINT32_MAX)
		c->row.uidvalidity = (uint32_t)maxval + 1;
	c->row.uidnext = 1;
	c->row.highestmodseq = 1;
	if (store_mb_add(st, c->mb->name, &c->row, c->err) == -1)
		return -1;
	/* takes UIDVALIDITY and the next UID; store_mb_update saves them */
	if (store_dovecot_import(c->mb, &c->row, &c->ul, c->err) == -1)
		return -1;
	/* RFC 3501 2.3.2: what is here now is recent for the first session
	 * that selects the folder; what Dovecot's sessions saw already was
	 * recent for them (its UIDs are below its next UID) */
	if (store_recent_set(st, c->row.id, c->ul != NULL ? c->row.uidnext : 1,
	        c->err) == -1)
		return -1;
	c->changed = true;
	return 0;
}

int
store_sync_run(struct store_mailbox *mb, bool force, bool quick,
    struct store_sync_result *res, struct buf *err)
{
	struct store *st = mb->st;
	struct sync_ctx c;
	int64_t cm, nm, cm2, nm2, now;
	int r, ret = -1;

	memset(&c, 0, sizeof(c));
	c.mb = mb;
	c.force = force;
	c.err = err;
	if (store_index_recheck(st, err) == -1)
		return -1;
	if (store_dir_mtimes(mb, &cm, &nm) == -1) {
		store_seterr(err, "%s: %s", mb->dir, strerror(errno));
		return -1;
	}
	/* the cheap path: no transaction, no directory read */
	r = store_mb_get(st, mb->name, &c.row, err);
	if (r == -1)
		return -1;
	if (r == 1 && !force && sync_unchanged(&c.row, cm, nm))
		goto load;
	/* quick: nothing moved since this handle's own last scan (a change
	 * within the same time stamp waits for the next full sync) */
	if (r == 1 && quick && mb->loaded && cm == mb->seen_cur_mtime &&
	    nm == mb->seen_new_mtime && cm != STORE_MTIME_UNKNOWN)
		goto load;
	if (store_begin(st, err) == -1)
		return -1;
	/* again under the write lock: another process may have synced */
	if ((r = store_mb_get(st, mb->name, &c.row, err)) == -1)
		goto out;
	if (r == 0 && mb->loaded) {
		/* deleted or renamed by another session: no new row for a
		 * directory that is gone */
		store_seterr(err, "folder %s vanished", mb->name);
		errno = ENOENT;
		goto out;
	}
	if (r == 0 && sync_create(&c) == -1)
		goto out;
	if (!force && sync_unchanged(&c.row, cm, nm)) {
		store_rollback(st);
		goto load;
	}
	if (sync_scan(&c) == -1)
		goto out;
	if (store_dir_mtimes(mb, &cm2, &nm2) == -1) {
		store_seterr(err, "%s: %s", mb->dir, strerror(errno));
		goto out;
	}
	now = store_now_ns();
	c.row.cur_mtime = sync_trusted(cm, cm2, now, c.incomplete);
	c.row.new_mtime = sync_trusted(nm, nm2, now, c.incomplete);
	/* what the directories looked like after this scan, for
	 * store_mailbox_sync_quick (its own renames from new/ to cur/ moved
	 * them; what another process did meanwhile waits for a full sync,
	 * or for the next change) */
	mb->seen_cur_mtime = c.incomplete ? STORE_MTIME_UNKNOWN : cm2;
	mb->seen_new_mtime = c.incomplete ? STORE_MTIME_UNKNOWN : nm2;
	if (c.changed)
		c.row.gen++;
	if (store_mb_update(st, &c.row, err) == -1 ||
	    store_commit(st, err) == -1)
		goto out;
load:
	if (mb->index_only) {
		mb->row = c.row;
		mb->loaded = true;
		ret = 0;
	} else
		ret = store_view_load(mb, res, err);
out:
	if (ret == -1) { /* store_rollback: only if one is open */
		int saved = errno;

		store_rollback(st);
		errno = saved;
	}
	sync_rows_free(&c);
	sync_list_free(&c.ents);
	dovecot_uidlist_free(&c.ul);
	return ret;
}
