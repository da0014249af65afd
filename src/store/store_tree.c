/*
 * The MIME structure of stored messages, cached in the index (issue #10):
 * a second FETCH ENVELOPE or BODYSTRUCTURE (RFC 9051 7.5.2) of a message
 * decodes its tree from the mime table instead of reading the file. A
 * tree parsed here is kept in the mailbox and written with the others in
 * one transaction (store_mailbox_flush), so that a first FETCH over many
 * messages pays a commit or two (store_tree_batch, STORE_TREE_PENDING_MAX),
 * not one each.
 *
 * The cache is only a cache: a blob that does not decode (damaged, or
 * written by another version of mime_tree_encode) is parsed again and
 * replaced, and a flush that fails loses nothing but time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mime/mime_parse.h"
#include "mime/mime_tree.h"
#include "store/store_private.h"

/* Trees kept before store_msg_tree() flushes by itself, and the bytes
 * of their blobs (a few large trees flush sooner). */
#define STORE_TREE_PENDING_MAX ((size_t)4 * 1024 * 1024)
size_t store_tree_batch = 65536;
/* The largest blob kept: a tree is at most mime_limits_default's
 * tree_max (4 MiB), and its encoding is smaller than the tree. */
#define STORE_TREE_BLOB_MAX ((size_t)8 * 1024 * 1024)
/* What the parser is fed at a time. */
#define STORE_TREE_CHUNK 65536
/* A run of reads (store.h) holds its snapshot for at most this many
 * calls; rows of messages not asked for that it steps over before it
 * seeks instead (a b-tree seek costs about as much as a few steps). */
#define STORE_TREE_RUN_CALLS 1024
#define STORE_TREE_RUN_SKIP  16

void
store_tree_pending_free(struct store_mailbox *mb)
{
	size_t i;

	for (i = 0; i < mb->tp_n; i++)
		free(mb->tp[i].blob);
	free(mb->tp);
	mb->tp = NULL;
	mb->tp_n = mb->tp_cap = mb->tp_bytes = 0;
	mb->tp_max_uid = 0;
}

/* ---- runs of reads ----------------------------------------------------- */

void
store_tree_run_end(struct store *st)
{
	if (st->run_mb == NULL)
		return;
	/* reset first: a read transaction ends when its statements do */
	if (st->st[STORE_ST_MIME_RUN] != NULL)
		sqlite3_reset(st->st[STORE_ST_MIME_RUN]);
	if (st->run_txn && st->db != NULL && !sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	st->run_mb = NULL;
	st->run_txn = false;
	st->run_have = false;
	st->run_calls = 0;
}

void
store_msg_tree_end(struct store_mailbox *mb)
{
	if (mb->st->run_mb == mb)
		store_tree_run_end(mb->st);
}

/* Takes the cursor's next row: 0 (on one, or past the last), -1. */
static int
tree_run_step(struct store *st)
{
	sqlite3_stmt *s = st->st[STORE_ST_MIME_RUN];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		st->run_have = true;
		st->run_uid = (uint32_t)sqlite3_column_int64(s, 0);
		return 0;
	}
	st->run_have = false;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Puts the cursor on the first row of mb from uid up. 0 or -1. */
static int
tree_run_seek(struct store_mailbox *mb, uint32_t uid)
{
	struct store *st = mb->st;
	sqlite3_stmt *s = store_stmt(st, STORE_ST_MIME_RUN);

	if (s == NULL)
		return -1;
	(void)sqlite3_bind_int64(s, 1, mb->row.id);
	(void)sqlite3_bind_int64(s, 2, uid);
	st->run_lo = uid;
	return tree_run_step(st);
}

/* Starts a run for mb at uid: its read transaction (unless the caller
 * has one open) and the cursor. 0 or -1 (no run then). */
static int
tree_run_start(struct store_mailbox *mb, uint32_t uid)
{
	struct store *st = mb->st;
	sqlite3 *db;

	store_tree_run_end(st);
	if ((db = store_db(st)) == NULL)
		return -1;
	if (sqlite3_get_autocommit(db)) {
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return -1;
		st->run_txn = true;
	}
	st->run_mb = mb;
	if (tree_run_seek(mb, uid) == -1) {
		store_tree_run_end(st);
		return -1;
	}
	return 0;
}

/*
 * The tree of uid from the run's cursor: 1 with *t_out (NULL when the
 * blob does not decode), 0 when the index has none, -1 when the run
 * cannot answer (the caller asks with a point lookup).
 */
static int
tree_run_get(struct store_mailbox *mb, uint32_t uid, struct mime_tree **t_out)
{
	struct store *st = mb->st;
	sqlite3_stmt *s;
	const void *blob;
	size_t k;
	int n;

	*t_out = NULL;
	if (st->run_mb != mb || ++st->run_calls > STORE_TREE_RUN_CALLS) {
		if (tree_run_start(mb, uid) == -1)
			return -1;
		st->run_calls = 1;
	} else if (uid < st->run_lo) {
		/* backwards: what the cursor passed says nothing of uid */
		if (tree_run_seek(mb, uid) == -1)
			goto fail;
	}
	/* forward: a few rows are stepped over, a gap is sought */
	for (k = 0; st->run_have && st->run_uid < uid; k++) {
		if (k == STORE_TREE_RUN_SKIP) {
			if (tree_run_seek(mb, uid) == -1)
				goto fail;
			break;
		}
		st->run_lo = st->run_uid + 1;
		if (tree_run_step(st) == -1)
			goto fail;
	}
	if (!st->run_have || st->run_uid != uid)
		return 0; /* none: the cursor passed where it would be */
	s = st->st[STORE_ST_MIME_RUN];
	blob = sqlite3_column_blob(s, 1);
	n = sqlite3_column_bytes(s, 1);
	if (blob != NULL && n > 0)
		*t_out = mime_tree_decode(
		    blob, (size_t)n, mime_limits_default.part_max);
	return 1;
fail:
	store_tree_run_end(st);
	return -1;
}

/* ---- flushing ----------------------------------------------------------- */

int
store_mailbox_flush(struct store_mailbox *mb, struct buf *err)
{
	struct store *st = mb->st;
	struct store_tree_pending *p;
	struct store_mb_row row;
	sqlite3_stmt *s;
	int r, ret = -1, saved;
	size_t i;

	store_msg_tree_end(mb);
	if (mb->tp_n == 0)
		return 0;
	if (store_begin(st, err) == -1)
		goto out;
	/* the folder still the one the trees were parsed in (the index may
	 * have been rebuilt by another process meanwhile) */
	if ((r = store_mb_get(st, mb->name, &row, err)) == -1)
		goto out;
	if (r == 0 || row.id != mb->row.id ||
	    row.uidvalidity != mb->row.uidvalidity) {
		ret = 0;
		goto out;
	}
	for (i = 0; i < mb->tp_n; i++) {
		p = &mb->tp[i];
		s = store_stmt(st, STORE_ST_MIME_PUT);
		(void)sqlite3_bind_int64(s, 1, mb->row.id);
		(void)sqlite3_bind_int64(s, 2, p->uid);
		(void)sqlite3_bind_blob(
		    s, 3, p->blob, (int)p->len, SQLITE_STATIC);
		if (store_step_done(s) == -1) {
			(void)store_dberr(st, err, "add structure");
			goto out;
		}
	}
	if (store_commit(st, err) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	store_rollback(st); /* when not committed */
	/* written or not, they go: the files can be parsed again */
	store_tree_pending_free(mb);
	errno = saved;
	return ret;
}

void
store_tree_flush_quiet(struct store_mailbox *mb)
{
	struct buf err;

	if (mb->tp_n == 0)
		return;
	buf_init(&err, 1024);
	if (store_mailbox_flush(mb, &err) == -1)
		log_warn("folder %s: parsed structures not kept: %s", mb->name,
		    buf_cstr(&err));
	buf_free(&err);
}

/* The tree of uid from the pending list or the index, or NULL (none, or
 * one that does not decode: then *stale is set). */
static struct mime_tree *
store_tree_cached(struct store_mailbox *mb, uint32_t uid, bool *stale)
{
	struct mime_tree *t = NULL;
	sqlite3_stmt *s;
	const void *blob;
	size_t k;
	int n;

	*stale = false;
	/* newest first: a FETCH asks in ascending order, so a message
	 * asked for twice in one command is near the end */
	for (k = uid <= mb->tp_max_uid ? mb->tp_n : 0; k > 0; k--)
		if (mb->tp[k - 1].uid == uid)
			return mime_tree_decode(mb->tp[k - 1].blob,
			    mb->tp[k - 1].len, mime_limits_default.part_max);
	switch (tree_run_get(mb, uid, &t)) {
	case 1:
		/* EINVAL (damaged) or EPROTO (another encoding): parse */
		*stale = t == NULL;
		return t;
	case 0:
		return NULL;
	default:
		break; /* the point lookup, outside any run */
	}
	s = store_stmt(mb->st, STORE_ST_MIME_GET);
	if (s == NULL)
		return NULL;
	(void)sqlite3_bind_int64(s, 1, mb->row.id);
	(void)sqlite3_bind_int64(s, 2, uid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		blob = sqlite3_column_blob(s, 0);
		n = sqlite3_column_bytes(s, 0);
		if (blob != NULL && n > 0)
			t = mime_tree_decode(
			    blob, (size_t)n, mime_limits_default.part_max);
		/* EINVAL (damaged) or EPROTO (another encoding): parse */
		*stale = t == NULL;
	}
	sqlite3_reset(s);
	return t;
}

struct mime_tree *
store_tree_parse(int fd)
{
	struct mime_parser *mp = mime_parser_new(&mime_limits_default);
	char *chunk = xmalloc(STORE_TREE_CHUNK);
	struct mime_tree *t = NULL;
	off_t off = 0;
	ssize_t n;
	int saved;

	for (;;) {
		n = pread(fd, chunk, STORE_TREE_CHUNK, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		mime_parser_feed(mp, chunk, (size_t)n);
		off += n;
	}
	if (n == 0)
		t = mime_parser_end(&mp);
	saved = errno;
	mime_parser_free(&mp);
	free(chunk);
	errno = saved;
	return t;
}

int
store_tree_blob(const struct mime_tree *t, char **blob_out, size_t *len_out)
{
	struct buf b;

	buf_init(&b, STORE_TREE_BLOB_MAX);
	if (mime_tree_encode(t, &b) == -1 || b.len == 0) {
		buf_free(&b);
		return -1;
	}
	*len_out = b.len;
	*blob_out = buf_steal(&b);
	buf_free(&b);
	return 0;
}

/* Keeps blob (taken over) as the tree of uid for the next flush. */
static void
store_tree_keep_blob(
    struct store_mailbox *mb, uint32_t uid, char *blob, size_t len)
{
	struct store_tree_pending *p;

	if (mb->tp_n == mb->tp_cap) {
		mb->tp_cap = mb->tp_cap ? 2 * mb->tp_cap : 16;
		mb->tp = xreallocarray(mb->tp, mb->tp_cap, sizeof(*mb->tp));
	}
	p = &mb->tp[mb->tp_n++];
	p->uid = uid;
	p->len = len;
	p->blob = blob;
	mb->tp_bytes += p->len;
	if (uid > mb->tp_max_uid)
		mb->tp_max_uid = uid;
	if (mb->tp_n >= store_tree_batch ||
	    mb->tp_bytes >= STORE_TREE_PENDING_MAX)
		store_tree_flush_quiet(mb);
}

/* Keeps the tree of uid for the next flush; a tree too large to encode
 * is simply not cached. */
static void
store_tree_keep(
    struct store_mailbox *mb, uint32_t uid, const struct mime_tree *t)
{
	char *blob;
	size_t len;

	if (store_tree_blob(t, &blob, &len) == 0)
		store_tree_keep_blob(mb, uid, blob, len);
}

bool
store_mailbox_unflushed(const struct store_mailbox *mb)
{
	return mb->tp_n > 0;
}

struct mime_tree *
store_msg_tree_cached(struct store_mailbox *mb, size_t i)
{
	struct mime_tree *t;
	bool stale;

	MW_ASSERT(i < mb->n);
	t = store_tree_cached(mb, mb->v[i].uid, &stale);
	if (stale)
		log_info("folder %s: uid %u: cached structure unreadable: "
		         "parsing the message again",
		    mb->name, mb->v[i].uid);
	return t;
}

void
store_msg_tree_keep_blob(
    struct store_mailbox *mb, size_t i, char *blob, size_t len)
{
	MW_ASSERT(i < mb->n);
	mb->trees_parsed++;
	store_tree_keep_blob(mb, mb->v[i].uid, blob, len);
}

int
store_msg_tree(struct store_mailbox *mb, size_t i, int fd,
    struct mime_tree **tree_out, struct buf *err)
{
	struct mime_tree *t;
	uint32_t uid;
	bool stale;
	int own = -1, saved;

	MW_ASSERT(i < mb->n);
	*tree_out = NULL;
	uid = mb->v[i].uid;
	if ((t = store_tree_cached(mb, uid, &stale)) != NULL) {
		*tree_out = t;
		return 0;
	}
	if (stale)
		log_info("folder %s: uid %u: cached structure unreadable: "
		         "parsing the message again",
		    mb->name, uid);
	if (fd == -1) {
		if (store_msg_open(mb, i, &own) == -1) {
			store_seterr(err, "folder %s: uid %u: %s", mb->name,
			    uid,
			    errno == ENOENT ? "message gone" : strerror(errno));
			return -1;
		}
		fd = own;
	}
	t = store_tree_parse(fd);
	saved = errno;
	if (own != -1)
		(void)close(own);
	if (t == NULL) {
		store_seterr(err, "folder %s: uid %u: cannot read it: %s",
		    mb->name, uid, strerror(saved));
		errno = saved;
		return -1;
	}
	mb->trees_parsed++;
	store_tree_keep(mb, uid, t);
	*tree_out = t;
	return 0;
}
