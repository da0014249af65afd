/*
 * The per-user index of the mail store (SQLite, beside the Maildir): the
 * schema, opening with recovery from a corrupt file, the prepared
 * statements, the mailboxes rows, and the POP3 UIDLs derived from file
 * names. The messages rows are read and written by store_sync.c and
 * store.c through the statements here.
 *
 * Durability: WAL with synchronous=FULL, as accounts.db: a flag change
 * that returned is still there after a power loss. The index caches what
 * the Maildir cannot hold; a corrupt file is moved aside and the index is
 * rebuilt from the Maildir (UIDLs derive from file names and survive).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store_private.h"

const char *const store_sql[STORE_ST_COUNT] = {
	[STORE_ST_BEGIN] = "BEGIN IMMEDIATE",
	[STORE_ST_COMMIT] = "COMMIT",
	[STORE_ST_ROLLBACK] = "ROLLBACK",
	[STORE_ST_MB_GET] = "SELECT id, uidvalidity, uidnext, highestmodseq, "
	                    "cur_mtime, new_mtime, gen FROM mailboxes "
	                    "WHERE name = ?1",
	[STORE_ST_MB_ADD] = "INSERT INTO mailboxes (name, uidvalidity, "
	                    "uidnext, highestmodseq) VALUES (?1, ?2, ?3, ?4)",
	[STORE_ST_MB_UPDATE] =
	    "UPDATE mailboxes SET uidvalidity = ?2, uidnext = ?3, "
	    "highestmodseq = ?4, cur_mtime = ?5, new_mtime = ?6, gen = ?7 "
	    "WHERE id = ?1",
	[STORE_ST_MB_LIST] = "SELECT name FROM mailboxes ORDER BY name",
	/* the view (store_view_load): the columns in the record's order */
	[STORE_ST_MSG_LIST] =
	    "SELECT uid, file, in_new, vsize, psize, flags, keywords, "
	    "internaldate, modseq, uidl FROM messages WHERE mailbox = ?1 "
	    "ORDER BY uid",
	[STORE_ST_MSG_SCAN] = "SELECT uid, base, file, in_new, flags, keywords "
	                      "FROM messages WHERE mailbox = ?1",
	[STORE_ST_MSG_GET] = "SELECT file, in_new, flags, keywords, base "
	                     "FROM messages WHERE mailbox = ?1 AND uid = ?2",
	[STORE_ST_MSG_ADD] =
	    "INSERT INTO messages (mailbox, uid, base, file, in_new, vsize, "
	    "psize, flags, keywords, internaldate, modseq, uidl) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[STORE_ST_MSG_SET_FILE] = "UPDATE messages SET file = ?3, in_new = ?4 "
	                          "WHERE mailbox = ?1 AND uid = ?2",
	[STORE_ST_MSG_SET_FLAGS] =
	    "UPDATE messages SET file = ?3, in_new = ?4, flags = ?5, "
	    "keywords = ?6, modseq = ?7 WHERE mailbox = ?1 AND uid = ?2",
	[STORE_ST_MSG_SET_SIZES] = "UPDATE messages SET vsize = ?3, psize = ?4 "
	                           "WHERE mailbox = ?1 AND uid = ?2",
	[STORE_ST_MSG_DEL] =
	    "DELETE FROM messages WHERE mailbox = ?1 AND uid = ?2",
	[STORE_ST_KW_ADD] = "INSERT OR REPLACE INTO keywords (mailbox, idx, "
	                    "name) VALUES (?1, ?2, ?3)",
	[STORE_ST_KW_LIST] =
	    "SELECT idx, name FROM keywords WHERE mailbox = ?1",
	[STORE_ST_MB_EMPTY] = "DELETE FROM messages WHERE mailbox = ?1",
	[STORE_ST_KW_EMPTY] = "DELETE FROM keywords WHERE mailbox = ?1",
	[STORE_ST_MB_RENAME] = "UPDATE mailboxes SET name = ?2 WHERE name = ?1",
	[STORE_ST_MB_DEL] = "DELETE FROM mailboxes WHERE name = ?1",
	[STORE_ST_MB_MAXVAL] = "SELECT max(uidvalidity) FROM mailboxes",
	[STORE_ST_MB_STATUS] =
	    "SELECT count(*), coalesce(sum((flags & 1) = 0), 0), "
	    "coalesce(sum((flags & 8) != 0), 0), coalesce(sum(vsize), 0) "
	    "FROM messages WHERE mailbox = ?1",
	[STORE_ST_MSG_HAS_BASE] =
	    "SELECT uid FROM messages WHERE mailbox = ?1 AND base = ?2",
	[STORE_ST_MIME_GET] =
	    "SELECT blob FROM mime WHERE folder = ?1 AND uid = ?2",
	/* a message expunged since it was parsed leaves no row behind */
	[STORE_ST_MIME_PUT] =
	    "INSERT OR REPLACE INTO mime (folder, uid, blob) SELECT ?1, ?2, "
	    "?3 WHERE EXISTS (SELECT 1 FROM messages WHERE mailbox = ?1 AND "
	    "uid = ?2)",
	[STORE_ST_MIME_DEL] = "DELETE FROM mime WHERE folder = ?1 AND uid = ?2",
	[STORE_ST_MIME_EMPTY] = "DELETE FROM mime WHERE folder = ?1",
	[STORE_ST_RECENT_GET] =
	    "SELECT first_uid FROM recent WHERE folder = ?1",
	[STORE_ST_RECENT_SET] = "INSERT OR REPLACE INTO recent (folder, "
	                        "first_uid) VALUES (?1, ?2)",
	[STORE_ST_RECENT_DEL] = "DELETE FROM recent WHERE folder = ?1",
	[STORE_ST_MB_RECENT] =
	    "SELECT count(*) FROM messages WHERE mailbox = ?1 AND uid >= ?2",
	[STORE_ST_MIME_RUN] = "SELECT uid, blob FROM mime WHERE folder = ?1 "
	                      "AND uid >= ?2 ORDER BY uid",
};


void
store_seterr(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	buf_reset(err);
	va_start(ap, fmt);
	if (buf_vprintf(err, fmt, ap) == -1)
		buf_reset(err);
	va_end(ap);
}

int
store_dberr(struct store *st, struct buf *err, const char *what)
{
	int code;

	if (st->db == NULL) {
		/* asleep, and store_db could not open it again */
		if (st->wake_err != NULL)
			store_seterr(err, "%s: %s", what, st->wake_err);
		else
			store_seterr(err, "index %s: %s: not open",
			    st->index_path, what);
		errno = st->wake_err != NULL ? st->wake_errno : EIO;
		return -1;
	}
	code = sqlite3_errcode(st->db);
	if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB) {
		/* the next open of any index checks it again */
		st->damaged = true;
		store_index_checked_reset();
	}
	store_seterr(err, "index %s: %s: %s", st->index_path, what,
	    sqlite3_errmsg(st->db));
	errno = code == SQLITE_BUSY || code == SQLITE_LOCKED ? EAGAIN : EIO;
	return -1;
}

/*
 * Statements are prepared on first use: a prepared statement costs about
 * 5 KiB, and a POP3 session that stays logged in uses a handful of the
 * ones here. A statement that does not prepare (a damaged schema) is
 * NULL: SQLite answers every call on it with SQLITE_MISUSE, which the
 * callers take as the failure it is.
 */
sqlite3_stmt *
store_stmt(struct store *st, enum store_stmt id)
{
	sqlite3_stmt *s;
	sqlite3 *db;

	/* anything but store_msg_tree's reads ends its run (store_tree.c):
	 * no write, transaction or other read inside its snapshot */
	if (st->run_mb != NULL && id != STORE_ST_MIME_RUN &&
	    id != STORE_ST_MIME_GET)
		store_tree_run_end(st);
	s = st->st[id];
	if (s == NULL) {
		/* none is prepared while asleep: this is where it wakes */
		if ((db = store_db(st)) == NULL)
			return NULL;
		if (sqlite3_prepare_v3(db, store_sql[id], -1,
		        SQLITE_PREPARE_PERSISTENT, &st->st[id],
		        NULL) != SQLITE_OK) {
			log_warn(
			    "index %s: %s", st->index_path, sqlite3_errmsg(db));
			st->st[id] = NULL;
			return NULL;
		}
		return st->st[id];
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int
store_step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_begin(struct store *st, struct buf *err)
{
	if (store_step_done(store_stmt(st, STORE_ST_BEGIN)) == -1)
		return store_dberr(st, err, "begin");
	return 0;
}

int
store_commit(struct store *st, struct buf *err)
{
	if (store_step_done(store_stmt(st, STORE_ST_COMMIT)) == -1) {
		(void)store_dberr(st, err, "commit");
		store_rollback(st);
		errno = EIO;
		return -1;
	}
	return 0;
}

void
store_rollback(struct store *st)
{
	/* asleep: no transaction, nothing to wake for */
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		(void)!store_step_done(store_stmt(st, STORE_ST_ROLLBACK));
}

static void
store_mb_from(sqlite3_stmt *s, struct store_mb_row *row)
{
	row->id = sqlite3_column_int64(s, 0);
	row->uidvalidity = (uint32_t)sqlite3_column_int64(s, 1);
	row->uidnext = (uint32_t)sqlite3_column_int64(s, 2);
	row->highestmodseq = (uint64_t)sqlite3_column_int64(s, 3);
	row->cur_mtime = sqlite3_column_int64(s, 4);
	row->new_mtime = sqlite3_column_int64(s, 5);
	row->gen = (uint64_t)sqlite3_column_int64(s, 6);
}

int
store_mb_get(struct store *st, const char *name, struct store_mb_row *row,
    struct buf *err)
{
	sqlite3_stmt *s = store_stmt(st, STORE_ST_MB_GET);
	int rc;

	(void)sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_mb_from(s, row);
		sqlite3_reset(s);
		/* UIDs are 32-bit and never 0 (RFC 3501 2.3.1.1) */
		if (row->uidvalidity == 0 || row->uidnext == 0) {
			store_seterr(err, "index %s: mailbox %s: bad row",
			    st->index_path, name);
			errno = EIO;
			return -1;
		}
		return 1;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	return store_dberr(st, err, "read mailbox");
}

int
store_mb_add(struct store *st, const char *name, struct store_mb_row *row,
    struct buf *err)
{
	sqlite3_stmt *s = store_stmt(st, STORE_ST_MB_ADD);

	(void)sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(s, 2, row->uidvalidity);
	(void)sqlite3_bind_int64(s, 3, row->uidnext);
	(void)sqlite3_bind_int64(s, 4, (sqlite3_int64)row->highestmodseq);
	if (store_step_done(s) == -1)
		return store_dberr(st, err, "add mailbox");
	row->id = sqlite3_last_insert_rowid(store_db(st));
	row->cur_mtime = row->new_mtime = STORE_MTIME_UNKNOWN;
	row->gen = 0;
	return 0;
}

int
store_mb_update(
    struct store *st, const struct store_mb_row *row, struct buf *err)
{
	sqlite3_stmt *s = store_stmt(st, STORE_ST_MB_UPDATE);

	(void)sqlite3_bind_int64(s, 1, row->id);
	(void)sqlite3_bind_int64(s, 2, row->uidvalidity);
	(void)sqlite3_bind_int64(s, 3, row->uidnext);
	(void)sqlite3_bind_int64(s, 4, (sqlite3_int64)row->highestmodseq);
	(void)sqlite3_bind_int64(s, 5, row->cur_mtime);
	(void)sqlite3_bind_int64(s, 6, row->new_mtime);
	(void)sqlite3_bind_int64(s, 7, (sqlite3_int64)row->gen);
	if (store_step_done(s) == -1)
		return store_dberr(st, err, "update mailbox");
	return 0;
}

int
store_recent_get(struct store *st, int64_t id, uint32_t dflt,
    uint32_t *first_out, struct buf *err)
{
	sqlite3_stmt *s = store_stmt(st, STORE_ST_RECENT_GET);
	sqlite3_int64 v;
	int rc;

	(void)sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	*first_out = dflt;
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_int64(s, 0);
		/* a damaged value: none are recent rather than all */
		*first_out = v >= 1 && v <= UINT32_MAX ? (uint32_t)v : dflt;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(st, err, "read recent");
	return 0;
}

int
store_recent_set(struct store *st, int64_t id, uint32_t first, struct buf *err)
{
	sqlite3_stmt *s = store_stmt(st, STORE_ST_RECENT_SET);

	(void)sqlite3_bind_int64(s, 1, id);
	(void)sqlite3_bind_int64(s, 2, first);
	if (store_step_done(s) == -1)
		return store_dberr(st, err, "set recent");
	return 0;
}

int
store_folder_rows_drop(struct store *st, int64_t id, bool all, struct buf *err)
{
	sqlite3_stmt *s = store_stmt(st, STORE_ST_MIME_EMPTY);

	(void)sqlite3_bind_int64(s, 1, id);
	if (store_step_done(s) == -1)
		return store_dberr(st, err, "delete structures");
	if (!all)
		return 0;
	s = store_stmt(st, STORE_ST_RECENT_DEL);
	(void)sqlite3_bind_int64(s, 1, id);
	if (store_step_done(s) == -1)
		return store_dberr(st, err, "delete recent");
	return 0;
}

/* ---- UIDLs ------------------------------------------------------------- */

bool
store_uidl_ok(const char *s, size_t len)
{
	size_t i;

	/* RFC 1939 7: 1 to 70 characters in the range 0x21 to 0x7E */
	if (len < 1 || len > 70)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

void
store_uidl_of_base(const char *base, size_t len, char out[71])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	if (store_uidl_ok(base, len)) {
		memcpy(out, base, len);
		out[len] = '\0';
		return;
	}
	/* too long or odd bytes: a digest of the name, the same every time
	 * (the first 20 bytes of SHA-256 as 40 hex digits) */
	MW_ASSERT(EVP_Digest(base, len, md, &mdlen, EVP_sha256(), NULL) == 1);
	MW_ASSERT(mdlen >= 20);
	for (i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[40] = '\0';
}

void
store_uidl_dovecot(uint32_t uid, uint32_t uidvalidity, char out[71])
{
	/* Dovecot's %X modifier writes lower-case hex digits (as the
	 * Dovecot 2.3 of tests/integration/test_store_dovecot.py shows) */
	(void)snprintf(out, 71, "%08x%08x", uid, uidvalidity);
}
