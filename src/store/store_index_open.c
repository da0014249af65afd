/*
 * Opening the per-user index (store_index.c has its statements and rows):
 * the schema and its later tables, the connection settings, the checks
 * of a first open (quick_check once per file and process), recovery from
 * a corrupt file (moved aside, salvaged, rebuilt), and store_sleep's
 * closing and reopening of an idle connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
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
