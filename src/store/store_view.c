/*
 * The view of a mailbox (store.h): built from the index's rows in one
 * statement (store_view_load), with its strings in blocks of its own, and
 * what changed since the last one (store_sync_result).
 *
 * Views of large folders are also kept per process (the view cache
 * below), so that a warm SELECT copies one instead of reading every row
 * again: a snapshot is the view as the index gave it for one state of a
 * folder's row (same index file, folder id, UIDVALIDITY, next UID,
 * highest modseq and generation, which every change to the folder's
 * messages raises, by any process), so one that matches the row just
 * read, inside the load's read transaction, is what the rows would give.
 * A view copies the snapshot's arrays (its own to change: flags, renames,
 * expunges) and shares its strings (never changed) by a reference count.
 * Worker threads open stores at once: a mutex guards the cache and the
 * counts; a snapshot's arrays are only read and are freed with it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "store/maildir_name.h"
#include "store/store_private.h"

/* The most view entries allocated up front from a guess (18 MiB of
 * arrays); a larger folder grows from there. */
#define VIEW_CAP_GUESS_MAX ((size_t)1 << 18)

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

/* The view cache: at most this many snapshots, of this many messages in
 * all (about 72 bytes of arrays and ~80 of strings each), of folders of
 * at least store_view_cache_min messages (smaller ones load quickly). */
#define VIEW_CACHE_MAX 32
size_t store_view_cache_min = 2048;
size_t store_view_cache_max_msgs = (size_t)256 * 1024;
size_t store_view_cache_hits;

struct store_view_snap {
	size_t refs; /* the cache's, while in it, and each view's */
	struct store_view_block *blocks;
	struct store_file_id index;
	char *name;
	struct store_mb_row row;
	struct store_msg *v;
	struct store_msg_file *f; /* into blocks, none own */
	size_t n;
	uint64_t used; /* for the least recently used to go first */
};

static pthread_mutex_t view_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_view_snap *view_cache[VIEW_CACHE_MAX];
static size_t view_cache_n, view_cache_msgs;
static uint64_t view_cache_tick;

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

/* ---- the view cache ---------------------------------------------------- */

static void store_view_diff(struct store_mailbox *mb,
    const struct store_msg *ov, size_t on, const struct store_msg *nv,
    size_t nn, struct store_sync_result *res);

static void
view_snap_free(struct store_view_snap *sn)
{
	view_blocks_free(&sn->blocks);
	free(sn->name);
	free(sn->v);
	free(sn->f);
	free(sn);
}

/* Drops a reference; the last frees it. */
static void
view_snap_unref(struct store_view_snap **snp)
{
	struct store_view_snap *sn = *snp;
	bool last;

	if (sn == NULL)
		return;
	MW_ASSERT(pthread_mutex_lock(&view_cache_lock) == 0);
	MW_ASSERT(sn->refs > 0);
	last = --sn->refs == 0;
	MW_ASSERT(pthread_mutex_unlock(&view_cache_lock) == 0);
	if (last)
		view_snap_free(sn);
	*snp = NULL;
}

static bool
view_snap_matches(const struct store_view_snap *sn,
    const struct store_file_id *id, const char *name,
    const struct store_mb_row *row)
{
	return sn->index.dev == id->dev && sn->index.ino == id->ino &&
	    sn->index.btime_ns == id->btime_ns && sn->row.id == row->id &&
	    sn->row.uidvalidity == row->uidvalidity &&
	    sn->row.uidnext == row->uidnext &&
	    sn->row.highestmodseq == row->highestmodseq &&
	    sn->row.gen == row->gen && strcmp(sn->name, name) == 0;
}

/* Takes slot i out of the cache (the lock held); the snapshot to free,
 * or NULL when views still use it. */
static struct store_view_snap *
view_cache_drop(size_t i)
{
	struct store_view_snap *sn = view_cache[i];

	view_cache_msgs -= sn->n;
	view_cache[i] = view_cache[--view_cache_n];
	view_cache[view_cache_n] = NULL;
	return --sn->refs == 0 ? sn : NULL;
}

/* The snapshot of name at row, with a reference for the caller; NULL. */
static struct store_view_snap *
view_cache_get(const struct store_file_id *id, const char *name,
    const struct store_mb_row *row)
{
	struct store_view_snap *sn = NULL;
	size_t i;

	if (id->dev == 0 && id->ino == 0)
		return NULL;
	MW_ASSERT(pthread_mutex_lock(&view_cache_lock) == 0);
	for (i = 0; i < view_cache_n; i++)
		if (view_snap_matches(view_cache[i], id, name, row)) {
			sn = view_cache[i];
			sn->refs++;
			sn->used = ++view_cache_tick;
			store_view_cache_hits++;
			break;
		}
	MW_ASSERT(pthread_mutex_unlock(&view_cache_lock) == 0);
	return sn;
}

/* Puts sn (one reference, the caller's) in the cache, in place of an
 * older one of the folder, making room as needed. */
static void
view_cache_put(struct store_view_snap *sn)
{
	struct store_view_snap *gone[VIEW_CACHE_MAX + 1];
	size_t i, ngone = 0, lru;

	MW_ASSERT(pthread_mutex_lock(&view_cache_lock) == 0);
	for (i = 0; i < view_cache_n; i++)
		if (view_cache[i]->row.id == sn->row.id &&
		    view_cache[i]->index.dev == sn->index.dev &&
		    view_cache[i]->index.ino == sn->index.ino &&
		    strcmp(view_cache[i]->name, sn->name) == 0) {
			gone[ngone++] = view_cache_drop(i);
			break;
		}
	while (view_cache_n > 0 &&
	    (view_cache_n == VIEW_CACHE_MAX ||
	        view_cache_msgs + sn->n > store_view_cache_max_msgs)) {
		for (lru = 0, i = 1; i < view_cache_n; i++)
			if (view_cache[i]->used < view_cache[lru]->used)
				lru = i;
		gone[ngone++] = view_cache_drop(lru);
	}
	if (view_cache_msgs + sn->n <= store_view_cache_max_msgs) {
		sn->refs++;
		sn->used = ++view_cache_tick;
		view_cache[view_cache_n++] = sn;
		view_cache_msgs += sn->n;
	}
	MW_ASSERT(pthread_mutex_unlock(&view_cache_lock) == 0);
	for (i = 0; i < ngone; i++)
		if (gone[i] != NULL)
			view_snap_free(gone[i]);
}

void
store_view_cache_clear(void)
{
	struct store_view_snap *gone[VIEW_CACHE_MAX];
	size_t i, ngone = 0;

	MW_ASSERT(pthread_mutex_lock(&view_cache_lock) == 0);
	while (view_cache_n > 0)
		gone[ngone++] = view_cache_drop(view_cache_n - 1);
	MW_ASSERT(pthread_mutex_unlock(&view_cache_lock) == 0);
	for (i = 0; i < ngone; i++)
		if (gone[i] != NULL)
			view_snap_free(gone[i]);
}

/* Makes snapshot sn (whose reference it takes) mb's view: its arrays are
 * shared until a change needs them (store_view_own), so that a warm
 * SELECT of a large folder copies nothing. */
static void
view_from_snap(struct store_mailbox *mb, struct store_view_snap *sn,
    const struct store_mb_row *row, struct store_sync_result *res)
{
	if (res != NULL)
		store_view_diff(mb, mb->v, mb->n, sn->v, sn->n, res);
	store_view_clear(mb);
	mb->v = sn->v;
	mb->f = sn->f;
	mb->n = sn->n;
	mb->shared = true;
	mb->snap = sn;
	mb->row = *row;
	mb->loaded = true;
}

struct store_msg *
store_view_own(struct store_mailbox *mb, struct store_msg_file **f_out)
{
	if (mb->shared) {
		struct store_msg *v = NULL;
		struct store_msg_file *f = NULL;

		if (mb->n > 0) {
			v = xreallocarray(NULL, mb->n, sizeof(*v));
			f = xreallocarray(NULL, mb->n, sizeof(*f));
			memcpy(v, mb->v, mb->n * sizeof(*v));
			memcpy(f, mb->f, mb->n * sizeof(*f));
		}
		mb->v = v;
		mb->f = f;
		mb->shared = false;
	}
	if (f_out != NULL)
		*f_out = (struct store_msg_file *)mb->f;
	return (struct store_msg *)mb->v;
}

/* Keeps a view just loaded (v, f, n with its strings in *blocks) as a
 * snapshot: the blocks go to it, and the view holds a reference for
 * them. Folders below store_view_cache_min are not kept. */
static struct store_view_snap *
view_to_snap(struct store_mailbox *mb, const struct store_mb_row *row,
    const struct store_msg *v, const struct store_msg_file *f, size_t n,
    struct store_view_block **blocks)
{
	struct store_view_snap *sn;
	const struct store_file_id *id = &mb->st->index_id;

	if (n == 0 || n < store_view_cache_min ||
	    n > store_view_cache_max_msgs || (id->dev == 0 && id->ino == 0))
		return NULL;
	sn = xcalloc(1, sizeof(*sn));
	sn->refs = 1;
	sn->blocks = *blocks;
	*blocks = NULL;
	sn->index = *id;
	sn->name = xstrdup(mb->name);
	sn->row = *row;
	sn->n = n;
	sn->v = xreallocarray(NULL, n, sizeof(*sn->v));
	sn->f = xreallocarray(NULL, n, sizeof(*sn->f));
	memcpy(sn->v, v, n * sizeof(*v));
	memcpy(sn->f, f, n * sizeof(*f));
	view_cache_put(sn);
	return sn;
}

void
store_msg_file_set(struct store_mailbox *mb, size_t i, char *file, bool in_new)
{
	struct store_msg_file *fs, *f;

	(void)store_view_own(mb, &fs);
	f = &fs[i];
	if (f->own)
		free(f->file);
	else
		mb->nown++;
	f->file = file;
	f->in_new = in_new;
	f->own = true;
}

void
store_msg_file_release(struct store_mailbox *mb, struct store_msg_file *f)
{
	if (f->own) {
		free(f->file);
		mb->nown--;
	}
	f->file = NULL;
	f->own = false;
}

void
store_view_clear(struct store_mailbox *mb)
{
	if (!mb->shared) {
		struct store_msg_file *f = (struct store_msg_file *)mb->f;

		for (size_t i = 0; i < mb->n && mb->nown > 0; i++)
			store_msg_file_release(mb, &f[i]);
		free((void *)mb->v);
		free((void *)mb->f);
	}
	view_blocks_free(&mb->arena);
	view_snap_unref(&mb->snap);
	mb->v = NULL;
	mb->f = NULL;
	mb->n = 0;
	mb->shared = false;
	mb->nown = 0;
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
	struct store_view_snap *sn;
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
	/* another session of this process loaded the same state */
	if ((sn = view_cache_get(&st->index_id, mb->name, &row)) != NULL) {
		view_from_snap(mb, sn, &row, res);
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
	sn = view_to_snap(mb, &row, v, f, n, &arena);
	mb->v = v;
	mb->f = f;
	mb->n = n;
	mb->arena = arena; /* NULL when the snapshot took the strings */
	mb->snap = sn;
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
