/*
 * The view of a mailbox (store.h): built from the index's rows in one
 * statement (store_view_load), with its strings in blocks of its own, and
 * what changed since the last one (store_sync_result). Views of large
 * folders are kept per process (store_view_cache.c), so that a warm
 * SELECT copies one instead of reading every row again.
 */
#include <errno.h>
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

void
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
