/*
 * The SQLite side of the accounts database (see accounts.h): schema and
 * pragmas, opening and closing, the prepared statements and the small
 * helpers the operations in accounts.c share (accounts_private.h).
 *
 * Durability: WAL with synchronous=FULL, so that a command that reported
 * success survives a power loss (NORMAL may lose the last transactions).
 * Keys compare case-insensitively (COLLATE NOCASE folds ASCII, as every
 * MTA folds local parts).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/accounts_private.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

#define ACCOUNTS_SCHEMA_VERSION 1
#define ACCOUNTS_BUSY_MS        5000

static const char accounts_schema[] =
    "CREATE TABLE domains (\n"
    "  name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE\n"
    ");\n"
    "CREATE TABLE users (\n"
    "  address TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,\n"
    "  local TEXT NOT NULL,\n"
    "  domain TEXT NOT NULL COLLATE NOCASE REFERENCES domains(name),\n"
    "  password_hash TEXT NOT NULL,\n"
    "  created TEXT NOT NULL\n"
    "    DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))\n"
    ");\n"
    "CREATE INDEX users_domain ON users(domain);\n"
    "CREATE TABLE aliases (\n"
    "  address TEXT NOT NULL COLLATE NOCASE,\n"
    "  target TEXT NOT NULL COLLATE NOCASE,\n"
    "  PRIMARY KEY (address, target)\n"
    ");\n"
    "PRAGMA user_version = 1;\n";

static const char *const accounts_sql[ACCOUNTS_ST_COUNT] = {
	[ACCOUNTS_ST_BEGIN] = "BEGIN IMMEDIATE",
	[ACCOUNTS_ST_COMMIT] = "COMMIT",
	[ACCOUNTS_ST_ROLLBACK] = "ROLLBACK",
	[ACCOUNTS_ST_DOMAIN_ADD] = "INSERT INTO domains (name) VALUES (?1)",
	[ACCOUNTS_ST_DOMAIN_DEL] = "DELETE FROM domains WHERE name = ?1",
	[ACCOUNTS_ST_DOMAIN_GET] = "SELECT 1 FROM domains WHERE name = ?1",
	[ACCOUNTS_ST_DOMAIN_LIST] = "SELECT name FROM domains ORDER BY name",
	[ACCOUNTS_ST_DOMAIN_USERS] =
	    "SELECT count(*) FROM users WHERE domain = ?1",
	/* domains hold only letters, digits, '-' and '.': no LIKE wildcards */
	[ACCOUNTS_ST_DOMAIN_ALIASES] =
	    "SELECT count(DISTINCT address) "
	    "FROM aliases WHERE address LIKE '%@' || ?1",
	[ACCOUNTS_ST_USER_ADD] = "INSERT INTO users (address, local, domain, "
	                         "password_hash) VALUES (?1, ?2, ?3, ?4)",
	[ACCOUNTS_ST_USER_DEL] = "DELETE FROM users WHERE address = ?1",
	[ACCOUNTS_ST_USER_PASSWD] =
	    "UPDATE users SET password_hash = ?2 WHERE address = ?1",
	[ACCOUNTS_ST_USER_GET] =
	    "SELECT password_hash FROM users WHERE address = ?1",
	[ACCOUNTS_ST_USER_LIST] =
	    "SELECT address FROM users ORDER BY domain, address",
	[ACCOUNTS_ST_USER_LIST_DOMAIN] =
	    "SELECT address FROM users WHERE domain = ?1 ORDER BY address",
	[ACCOUNTS_ST_ALIAS_ADD] = "INSERT OR IGNORE INTO aliases "
	                          "(address, target) VALUES (?1, ?2)",
	[ACCOUNTS_ST_ALIAS_DEL] = "DELETE FROM aliases WHERE address = ?1",
	[ACCOUNTS_ST_ALIAS_GET] =
	    "SELECT target FROM aliases WHERE address = ?1 ORDER BY rowid",
	[ACCOUNTS_ST_ALIAS_LIST] =
	    "SELECT address, target FROM aliases ORDER BY address, rowid",
};

void
accounts_seterr(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	buf_reset(err);
	va_start(ap, fmt);
	if (buf_vprintf(err, fmt, ap) == -1)
		buf_reset(err); /* err too small: leave it empty */
	va_end(ap);
}

/* An SQLite failure: "accounts database PATH: what: message". */
int
accounts_dberr(struct accounts *a, struct buf *err, const char *what)
{
	accounts_seterr(err, "accounts database %s: %s: %s", a->path, what,
	    sqlite3_errmsg(a->db));
	errno = EIO;
	return ACCOUNTS_ERROR;
}

void
accounts_lock(struct accounts *a)
{
	MW_ASSERT(pthread_mutex_lock(&a->lock) == 0);
}

void
accounts_unlock(struct accounts *a)
{
	MW_ASSERT(pthread_mutex_unlock(&a->lock) == 0);
}

/* Binds text parameters ?1..?n (NULL-terminated list) of statement id. */
sqlite3_stmt *
accounts_stmt(struct accounts *a, enum accounts_stmt id, ...)
{
	sqlite3_stmt *st = a->st[id];
	const char *s;
	va_list ap;
	int i = 1;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	va_start(ap, id);
	while ((s = va_arg(ap, const char *)) != NULL) {
		/* SQLITE_STATIC: the caller's strings outlive the step */
		if (sqlite3_bind_text(st, i++, s, -1, SQLITE_STATIC) !=
		    SQLITE_OK) {
			st = NULL;
			break;
		}
	}
	va_end(ap);
	return st;
}

/* Runs a statement that returns no rows. 0 or -1. */
int
accounts_exec_stmt(sqlite3_stmt *st)
{
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The single integer a counting statement returns, or -1. */
long long
accounts_count(sqlite3_stmt *st)
{
	long long n = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* Whether statement id with key ?1 returns a row: ACCOUNTS_OK,
 * ACCOUNTS_NOTFOUND or ACCOUNTS_ERROR. The caller holds the lock. */
int
accounts_row_exists(
    struct accounts *a, enum accounts_stmt id, const char *key, struct buf *err)
{
	sqlite3_stmt *st = accounts_stmt(a, id, key, NULL);
	int rc, ret;

	rc = st != NULL ? sqlite3_step(st) : SQLITE_ERROR;
	if (rc == SQLITE_ROW)
		ret = ACCOUNTS_OK;
	else if (rc == SQLITE_DONE)
		ret = ACCOUNTS_NOTFOUND;
	else
		ret = accounts_dberr(a, err, "lookup");
	sqlite3_reset(a->st[id]);
	return ret;
}

/* PRAGMA user_version: the schema version, or -1. */
static int
accounts_user_version(struct accounts *a)
{
	sqlite3_stmt *st = NULL;
	int version = -1;

	if (sqlite3_prepare_v2(a->db, "PRAGMA user_version", -1, &st, NULL) ==
	        SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

static int
accounts_schema_init(struct accounts *a, struct buf *err)
{
	int version = accounts_user_version(a);

	if (version == 0) {
		/* BEGIN IMMEDIATE: of two first opens, one creates the
		 * tables and the other then sees them */
		if (sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
		    SQLITE_OK)
			return accounts_dberr(a, err, "begin");
		version = accounts_user_version(a);
		if (version < 0 ||
		    (version == 0 &&
		        sqlite3_exec(a->db, accounts_schema, NULL, NULL,
		            NULL) != SQLITE_OK) ||
		    sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) !=
		        SQLITE_OK) {
			accounts_dberr(a, err, "creating the schema");
			(void)sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
			return ACCOUNTS_ERROR;
		}
		if (version == 0)
			version = ACCOUNTS_SCHEMA_VERSION;
	}
	if (version < 0)
		return accounts_dberr(a, err, "reading the schema version");
	if (version > ACCOUNTS_SCHEMA_VERSION) {
		accounts_seterr(err,
		    "accounts database %s has schema version %d; this "
		    "mailwright knows up to %d (upgrade mailwright)",
		    a->path, version, ACCOUNTS_SCHEMA_VERSION);
		errno = EINVAL;
		return ACCOUNTS_ERROR;
	}
	return ACCOUNTS_OK;
}

/* Runs a pragma and checks the single text value it returns, if want. */
static int
accounts_pragma(
    struct accounts *a, const char *sql, const char *want, struct buf *err)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto out;
	if (want != NULL) {
		v = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
		if (v == NULL || !ascii_eq((const char *)v, want)) {
			sqlite3_finalize(st);
			accounts_seterr(err,
			    "accounts database %s: %s did "
			    "not take effect",
			    a->path, sql);
			errno = EIO;
			return -1;
		}
	}
	ret = 0;
out:
	if (ret == -1)
		accounts_dberr(a, err, sql);
	sqlite3_finalize(st);
	return ret;
}

struct accounts *
accounts_open(const char *path, bool create, struct buf *err)
{
	struct accounts *a;
	int fd, i;

	if (create) {
		/* created here with 0600: SQLite would use 0644 & ~umask, and
		 * its -wal and -shm files copy the database's mode */
		fd =
		    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1) {
			accounts_seterr(err,
			    "cannot create accounts database "
			    "%s: %s",
			    path, strerror(errno));
			return NULL;
		}
		(void)close(fd);
	} else if (!fs_exists(path)) {
		accounts_seterr(err,
		    "accounts database %s does not exist "
		    "(create it with: mailwright domain add DOMAIN)",
		    path);
		errno = ENOENT;
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	a->path = xstrdup(path);
	MW_ASSERT(pthread_mutex_init(&a->lock, NULL) == 0);
	if (sqlite3_open_v2(path, &a->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
	        NULL) != SQLITE_OK) {
		if (a->db == NULL) {
			accounts_seterr(err,
			    "accounts database %s: out of "
			    "memory",
			    path);
			goto fail;
		}
		accounts_dberr(a, err, "open");
		goto fail;
	}
	sqlite3_extended_result_codes(a->db, 1);
	if (sqlite3_busy_timeout(a->db, ACCOUNTS_BUSY_MS) != SQLITE_OK ||
	    accounts_pragma(a, "PRAGMA foreign_keys = ON", NULL, err) == -1 ||
	    accounts_pragma(a, "PRAGMA journal_mode = WAL", "wal", err) == -1 ||
	    accounts_pragma(a, "PRAGMA synchronous = FULL", NULL, err) == -1)
		goto fail;
	if (accounts_schema_init(a, err) != ACCOUNTS_OK)
		goto fail;
	for (i = 0; i < ACCOUNTS_ST_COUNT; i++) {
		if (sqlite3_prepare_v3(a->db, accounts_sql[i], -1,
		        SQLITE_PREPARE_PERSISTENT, &a->st[i],
		        NULL) != SQLITE_OK) {
			accounts_dberr(a, err, "preparing statements");
			goto fail;
		}
	}
	return a;
fail:
	accounts_close(&a);
	return NULL;
}

void
accounts_close(struct accounts **ap)
{
	struct accounts *a = *ap;
	int i;

	if (a == NULL)
		return;
	for (i = 0; i < ACCOUNTS_ST_COUNT; i++)
		sqlite3_finalize(a->st[i]);
	(void)sqlite3_close(a->db);
	(void)pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a);
	*ap = NULL;
}

/* Appends column 0 of each row and a '\n' to out. */
int
accounts_rows(struct accounts *a, sqlite3_stmt *st, struct buf *out,
    struct buf *err, size_t *n_out)
{
	const unsigned char *v;
	size_t n = 0;
	int rc;

	if (st == NULL)
		return accounts_dberr(a, err, "bind");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = sqlite3_column_text(st, 0);
		if (v == NULL)
			continue;
		if (buf_append_str(out, (const char *)v) == -1 ||
		    buf_append_char(out, '\n') == -1) {
			sqlite3_reset(st);
			accounts_seterr(err,
			    "accounts database %s: result "
			    "too large",
			    a->path);
			return ACCOUNTS_ERROR;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		accounts_dberr(a, err, "select");
		sqlite3_reset(st);
		return ACCOUNTS_ERROR;
	}
	sqlite3_reset(st);
	if (n_out != NULL)
		*n_out = n;
	return ACCOUNTS_OK;
}
