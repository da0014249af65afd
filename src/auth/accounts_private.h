/*
 * Inside the accounts database: the connection, its prepared statements
 * and the helpers that accounts_sqlite.c gives accounts.c. Every operation
 * holds a->lock from binding its first statement to resetting its last.
 */
#ifndef AUTH_ACCOUNTS_PRIVATE_H
#define AUTH_ACCOUNTS_PRIVATE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

#include "lib/mw.h"

struct buf;

enum accounts_stmt {
	ACCOUNTS_ST_BEGIN,
	ACCOUNTS_ST_COMMIT,
	ACCOUNTS_ST_ROLLBACK,
	ACCOUNTS_ST_DOMAIN_ADD,
	ACCOUNTS_ST_DOMAIN_DEL,
	ACCOUNTS_ST_DOMAIN_GET,
	ACCOUNTS_ST_DOMAIN_LIST,
	ACCOUNTS_ST_DOMAIN_USERS,
	ACCOUNTS_ST_DOMAIN_ALIASES,
	ACCOUNTS_ST_USER_ADD,
	ACCOUNTS_ST_USER_DEL,
	ACCOUNTS_ST_USER_PASSWD,
	ACCOUNTS_ST_USER_GET,
	ACCOUNTS_ST_USER_LIST,
	ACCOUNTS_ST_USER_LIST_DOMAIN,
	ACCOUNTS_ST_ALIAS_ADD,
	ACCOUNTS_ST_ALIAS_DEL,
	ACCOUNTS_ST_ALIAS_GET,
	ACCOUNTS_ST_ALIAS_LIST,
	ACCOUNTS_ST_COUNT,
};

struct accounts {
	sqlite3 *db;
	char *path;
	pthread_mutex_t lock; /* one operation (and transaction) at a time */
	sqlite3_stmt *st[ACCOUNTS_ST_COUNT];
};

/* Replaces err's contents (err may be NULL) with one line. */
void accounts_seterr(struct buf *err, const char *fmt, ...) MW_PRINTF(2, 3);
/* Writes "accounts database PATH: what: <SQLite message>" into err and
 * returns ACCOUNTS_ERROR (errno EIO). */
int accounts_dberr(struct accounts *a, struct buf *err, const char *what);
void accounts_lock(struct accounts *a);
void accounts_unlock(struct accounts *a);
/* Resets statement id and binds the NULL-terminated text arguments to
 * ?1, ?2, ... (borrowed until the next reset). NULL when binding fails. */
sqlite3_stmt *accounts_stmt(struct accounts *a, enum accounts_stmt id, ...);
/* Steps a statement that returns no rows, then resets it. 0 or -1. */
int accounts_exec_stmt(sqlite3_stmt *st);
/* The integer of a one-row counting statement, or -1. */
long long accounts_count(sqlite3_stmt *st);
/* Whether statement id with key ?1 returns a row: ACCOUNTS_OK,
 * ACCOUNTS_NOTFOUND or ACCOUNTS_ERROR. */
int accounts_row_exists(struct accounts *a, enum accounts_stmt id,
    const char *key, struct buf *err);
/* Appends column 0 of each row of st and a '\n' to out; the number of rows
 * in *n_out (may be NULL). ACCOUNTS_OK or ACCOUNTS_ERROR. */
int accounts_rows(struct accounts *a, sqlite3_stmt *st, struct buf *out,
    struct buf *err, size_t *n_out);

#endif
