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

static const char store_schema[] = "CREATE TABLE mailboxes (\n"
                                   "  id INTEGER PRIMARY KEY,\n"
                                   "  name TEXT NOT NULL UNIQUE,\n"
                                   "  uidvalidity INTEGER NOT NULL,\n"
                                   "  uidnext INTEGER NOT NULL,\n"
                                   "  highestmodseq INTEGER NOT NULL,\n"
                                   "  cur_mtime INTEGER NOT NULL DEFAULT -1,\n"
                                   "  new_mtime INTEGER NOT NULL DEFAULT -1,\n"
                                   "  gen INTEGER NOT NULL DEFAULT 0\n"
                                   ");\n"
                                   "CREATE TABLE messages (\n"
                                   "  mailbox INTEGER NOT NULL,\n"
                                   "  uid INTEGER NOT NULL,\n"
                                   "  base TEXT NOT NULL,\n"
                                   "  file TEXT NOT NULL,\n"
                                   "  in_new INTEGER NOT NULL,\n"
                                   "  vsize INTEGER NOT NULL,\n"
                                   "  psize INTEGER NOT NULL,\n"
                                   "  flags INTEGER NOT NULL,\n"
                                   "  keywords INTEGER NOT NULL,\n"
                                   "  internaldate INTEGER NOT NULL,\n"
                                   "  modseq INTEGER NOT NULL,\n"
                                   "  uidl TEXT NOT NULL,\n"
                                   "  PRIMARY KEY (mailbox, uid),\n"
                                   "  UNIQUE (mailbox, base)\n"
                                   ") WITHOUT ROWID;\n"
                                   "CREATE TABLE keywords (\n"
                                   "  mailbox INTEGER NOT NULL,\n"
                                   "  idx INTEGER NOT NULL,\n"
                                   "  name TEXT NOT NULL,\n"
                                   "  PRIMARY KEY (mailbox, idx)\n"
                                   ");\n"
                                   "PRAGMA user_version = 1;\n";

static const char *const store_sql[STORE_ST_COUNT] = {
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

/*
 * Tables added after version 1, created where they are missing at every
 * open: an index written before them keeps all it has (UIDs, UIDVALIDITY,
 * UIDLs, modseqs), and a mailwright that does not know them still opens
 * the file (the version stays 1).
 *   mime    the parsed MIME structure of a message (mime_tree_encode),
 *           a cache: deleted with the message's row
 *   recent  per folder, the first UID not yet \Recent in any session
 *           (RFC 3501 2.3.2); none: the folder's uidnext
 */
static const char store_schema_added[] =
    "CREATE TABLE IF NOT EXISTS mime (\n"
    "  folder INTEGER NOT NULL,\n"
    "  uid INTEGER NOT NULL,\n"
    "  blob BLOB NOT NULL,\n"
    "  PRIMARY KEY (folder, uid)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS recent (\n"
    "  folder INTEGER PRIMARY KEY,\n"
    "  first_uid INTEGER NOT NULL\n"
    ");\n"
    /* what a folder had before the mark existed is recent for no one */
    "INSERT OR IGNORE INTO recent (folder, first_uid) "
    "SELECT id, uidnext FROM mailboxes;\n";

enum store_open_result {
	STORE_OPEN_OK,
	STORE_OPEN_CORRUPT, /* move it aside and start again */
	STORE_OPEN_ERROR,
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

/* ---- opening ----------------------------------------------------------- */

static enum store_open_result
store_open_classify(struct store *st, int rc, struct buf *err, const char *what)
{
	(void)store_dberr(st, err, what);
	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		return STORE_OPEN_CORRUPT;
	return STORE_OPEN_ERROR;
}

/* Runs a pragma whose first row's first column must be want (NULL: any);
 * SQLITE_OK, or the error code. */
static int
store_pragma(struct store *st, const char *sql, const char *want)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *v;
	int rc;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_text(s, 0);
		rc = want == NULL ||
		        (v != NULL && strcmp((const char *)v, want) == 0)
		    ? SQLITE_OK
		    : SQLITE_CORRUPT;
	} else if (rc == SQLITE_DONE)
		rc = want == NULL ? SQLITE_OK : SQLITE_CORRUPT;
	sqlite3_finalize(s);
	return rc;
}

static int
store_user_version(struct store *st, int *v_out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v_out = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Creates the schema in an empty database (another process may be
 * doing the same: the check runs inside the write transaction). */
static int
store_create_schema(struct store *st)
{
	int rc, v = -1;

	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = store_user_version(st, &v);
	if (rc == SQLITE_OK && v == 0) {
		sqlite3_stmt *s = NULL;

		/* version 0 with tables in it: someone else's file */
		rc = sqlite3_prepare_v2(
		    st->db, "SELECT count(*) FROM sqlite_master", -1, &s, NULL);
		if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
			rc = sqlite3_column_int(s, 0) == 0 ? SQLITE_OK
			                                   : SQLITE_NOTADB;
		sqlite3_finalize(s);
	}
	if (rc == SQLITE_OK && v == 0)
		rc = sqlite3_exec(st->db, store_schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Adds the tables of store_schema_added where they are missing; a write
 * only the first time. SQLITE_OK, or the error code. */
static int
store_schema_upgrade(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int rc, have = 0;

	rc = sqlite3_prepare_v2(st->db,
	    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
	    "name IN ('mime', 'recent')",
	    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		have = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK || have == 2)
		return rc;
	/* IF NOT EXISTS: another process may be doing the same */
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(st->db, store_schema_added, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static void
store_index_finalize(struct store *st)
{
	size_t i;

	store_tree_run_end(st);
	for (i = 0; i < STORE_ST_COUNT; i++) {
		sqlite3_finalize(st->st[i]);
		st->st[i] = NULL;
	}
	if (st->db != NULL)
		(void)sqlite3_close_v2(st->db);
	st->db = NULL;
}

/* Prepared at open: they name every table, so a changed schema shows. */
static const enum store_stmt store_open_stmts[] = {
	STORE_ST_MB_GET,
	STORE_ST_MSG_LIST,
	STORE_ST_KW_LIST,
};

/* Opens st->db with the settings every connection gets (at open and at
 * a wake after store_sleep); create: the file may be made. SQLITE_OK,
 * or the error code (st->db may then be set: finalize it). */
static int
store_index_connect(struct store *st, bool create)
{
	int rc;

	/* NOMUTEX: a store is used by one thread at a time (store.h), so
	 * the connection's mutex would only cost (a lock per column read) */
	rc = sqlite3_open_v2(st->index_path, &st->db,
	    SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
	        SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK)
		return rc;
	(void)sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	/* no lookaside buffer (120 KiB a connection by default): a POP3
	 * or IMAP session keeps its store open while idle, and thousands
	 * of them must stay cheap */
	(void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0);
	/* the file is the user's to damage: no SQL runs from its schema */
	(void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	(void)sqlite3_db_config(
	    st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	rc = store_pragma(st, "PRAGMA journal_mode = WAL", "wal");
	if (rc == SQLITE_OK)
		rc = store_pragma(st, "PRAGMA synchronous = FULL", NULL);
	return rc;
}

/* One attempt at opening st->index_path. */
static enum store_open_result
store_index_try(struct store *st, struct buf *err)
{
	struct store_file_id id;
	bool known;
	int rc, v = -1;
	size_t i;

	rc = store_index_connect(st, true);
	/* the check reads the whole file: once per file and process (and
	 * again after damage was seen, store_dberr) */
	known = store_file_id_of(st->index_path, &id) == 0 &&
	    store_index_checked_has(&id);
	if (rc == SQLITE_OK && !known)
		rc = store_pragma(st, "PRAGMA quick_check", "ok");
	if (rc == SQLITE_OK)
		rc = store_user_version(st, &v);
	if (rc != SQLITE_OK)
		return store_open_classify(st, rc, err, "check");
	if (v == 0) {
		rc = store_create_schema(st);
		if (rc != SQLITE_OK)
			return store_open_classify(st, rc, err, "create");
		if ((rc = store_user_version(st, &v)) != SQLITE_OK)
			return store_open_classify(st, rc, err, "check");
	}
	if (v > STORE_SCHEMA_VERSION) {
		store_seterr(err,
		    "index %s: schema version %d is newer than this "
		    "mailwright's %d (upgrade mailwright, or remove the file "
		    "to rebuild it)",
		    st->index_path, v, STORE_SCHEMA_VERSION);
		errno = EPROTO;
		return STORE_OPEN_ERROR;
	}
	if (v != STORE_SCHEMA_VERSION) {
		store_seterr(err, "index %s: unknown schema version %d",
		    st->index_path, v);
		return STORE_OPEN_CORRUPT;
	}
	if ((rc = store_schema_upgrade(st)) != SQLITE_OK)
		return store_open_classify(st, rc, err, "upgrade");
	/* the statements every open uses check the schema; the others are
	 * prepared when first used (store_stmt) */
	for (i = 0; i < MW_NELEM(store_open_stmts); i++) {
		rc = sqlite3_prepare_v3(st->db, store_sql[store_open_stmts[i]],
		    -1, SQLITE_PREPARE_PERSISTENT, &st->st[store_open_stmts[i]],
		    NULL);
		if (rc != SQLITE_OK) {
			/* tables missing or changed: not our file */
			(void)store_dberr(st, err, "prepare");
			return STORE_OPEN_CORRUPT;
		}
	}
	if (!known)
		store_index_checked_add(&id);
	return STORE_OPEN_OK;
}

/* Moves the index (and its WAL) aside as <index>.corrupt-<time>; the
 * new name in *aside_out. */
static int
store_index_move_aside(struct store *st, char **aside_out, struct buf *err)
{
	static const char *const sfx[] = { "-wal", "-shm" };
	char *aside, *from = NULL, *to = NULL;
	int ret = -1;
	size_t i;

	aside =
	    xasprintf("%s.corrupt-%lld", st->index_path, (long long)time(NULL));
	if (rename(st->index_path, aside) == -1 && errno != ENOENT) {
		store_seterr(err, "index %s: cannot move it aside: %s",
		    st->index_path, strerror(errno));
		goto out;
	}
	for (i = 0; i < MW_NELEM(sfx); i++) {
		free(from);
		free(to);
		from = xasprintf("%s%s", st->index_path, sfx[i]);
		to = xasprintf("%s%s", aside, sfx[i]);
		if (i == 0)
			(void)rename(from, to);
		else
			(void)unlink(from);
	}
	log_warn("index %s is damaged: moved to %s; rebuilding it from the "
	         "Maildir",
	    st->index_path, aside);
	*aside_out = aside;
	aside = NULL;
	ret = 0;
out:
	free(from);
	free(to);
	free(aside);
	return ret;
}

/* Remembers which file is open (store_index_recheck). */
static int
store_index_note(struct store *st)
{
	struct stat sb;

	if (stat(st->index_path, &sb) == 0) {
		st->index_dev = sb.st_dev;
		st->index_ino = sb.st_ino;
	}
	if (store_file_id_of(st->index_path, &st->index_id) == -1)
		memset(&st->index_id, 0, sizeof(st->index_id)); /* no cache */
	return 0;
}

int
store_index_recheck(struct store *st, struct buf *err)
{
	struct stat sb;

	if (stat(st->index_path, &sb) == 0 && sb.st_dev == st->index_dev &&
	    sb.st_ino == st->index_ino)
		return 0;
	log_info("index %s was replaced: opening it again", st->index_path);
	store_index_finalize(st);
	return store_index_open(st, err);
}

int
store_index_recover(struct store *st, struct buf *err)
{
	log_warn("index %s: damage seen: checking it again", st->index_path);
	store_index_checked_reset();
	store_index_finalize(st);
	return store_index_open(st, err);
}

int
store_index_open(struct store *st, struct buf *err)
{
	enum store_open_result r;
	char *lock_path, *aside = NULL;
	int lfd, ret = -1, saved;

	st->damaged = false;
	r = store_index_try(st, err);
	if (r == STORE_OPEN_OK)
		return store_index_note(st);
	store_index_finalize(st);
	if (r == STORE_OPEN_ERROR)
		return -1;
	/* Recovery: one process at a time, and only if it is still bad
	 * once we hold the lock (another may have just rebuilt it). */
	lock_path = xasprintf("%s.lock", st->index_path);
	lfd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(lock_path);
	if (lfd == -1 || flock(lfd, LOCK_EX) == -1) {
		store_seterr(err, "index %s: cannot lock it for recovery: %s",
		    st->index_path, strerror(errno));
		goto out;
	}
	r = store_index_try(st, err);
	if (r == STORE_OPEN_CORRUPT) {
		store_index_finalize(st);
		if (store_index_move_aside(st, &aside, err) == -1)
			goto out;
		r = store_index_try(st, err);
		if (r == STORE_OPEN_OK)
			store_salvage(st, aside);
	}
	if (r != STORE_OPEN_OK) {
		store_index_finalize(st);
		errno = EIO;
		goto out;
	}
	ret = store_index_note(st);
out:
	saved = errno;
	if (lfd != -1)
		(void)close(lfd);
	free(aside);
	errno = saved;
	return ret;
}

void
store_index_close(struct store *st)
{
	store_index_finalize(st);
}

/* ---- sleeping ---------------------------------------------------------- */

void
store_index_sleep(struct store *st)
{
	size_t i;

	if (st->db == NULL)
		return;
	MW_ASSERT(sqlite3_get_autocommit(st->db));
	for (i = 0; i < STORE_ST_COUNT; i++)
		MW_ASSERT(st->st[i] == NULL || !sqlite3_stmt_busy(st->st[i]));
	/* the last connection to a WAL file checkpoints it at close (with
	 * fsyncs); a session that sleeps after each command leaves that
	 * to the automatic checkpoints and to store_close */
	(void)sqlite3_db_config(
	    st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	store_index_finalize(st);
	MW_ASSERT(st->db == NULL);
}

/* Opens the index again after store_sleep: the file was checked when the
 * store opened, so only the connection's settings are applied. A file
 * replaced or removed meanwhile (another process recovered it, an admin
 * deleted it) is opened as store_index_recheck would: with every check,
 * and with recovery. 0, or -1 with st->db NULL and a reason in err. */
static int
store_index_wake(struct store *st, struct buf *err)
{
	struct stat sb;
	bool same;
	int rc;

	rc = store_index_connect(st, false);
	same = stat(st->index_path, &sb) == 0 && sb.st_dev == st->index_dev &&
	    sb.st_ino == st->index_ino;
	if (rc == SQLITE_OK && same)
		return 0;
	if (rc != SQLITE_OK && same) {
		(void)store_dberr(st, err, "reopen");
		store_index_finalize(st);
		return -1;
	}
	store_index_finalize(st);
	log_info("index %s was replaced: opening it again", st->index_path);
	return store_index_open(st, err);
}

sqlite3 *
store_db(struct store *st)
{
	struct buf why;

	if (st->db != NULL)
		return st->db;
	buf_init(&why, 1024);
	free(st->wake_err);
	st->wake_err = NULL;
	if (store_index_wake(st, &why) == -1) {
		st->wake_errno = errno;
		st->wake_err =
		    xstrdup(why.len > 0 ? buf_cstr(&why)
		                        : "cannot open the index again");
		log_warn("%s", st->wake_err);
		errno = st->wake_errno;
	}
	buf_free(&why);
	return st->db;
}
