/*
 * Compiled key-value files (see kvdb.h): the atomic writer and the
 * read-only reader over SQLite, and the stat comparisons readers use to
 * notice a new or stale file.
 */
#include "lib/kvdb.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct kvdb {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *get;
	pthread_mutex_t lock; /* one statement: lookups take turns */
};

static void kvdb_seterr(struct buf *err, const char *fmt, ...) MW_PRINTF(2, 3);

static void
kvdb_seterr(struct buf *err, const char *fmt, ...)
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

/* Creates the empty file tmp with mode (and owner, as root). 0 or -1. */
static int
kvdb_create(
    const char *tmp, mode_t mode, const struct stat *owner, struct buf *err)
{
	int fd;

	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		goto fail;
	if ((owner != NULL && geteuid() == 0 &&
	        fchown(fd, owner->st_uid, owner->st_gid) == -1) ||
	    fchmod(fd, mode) == -1) {
		(void)close(fd);
		goto fail;
	}
	(void)close(fd);
	return 0;
fail:
	kvdb_seterr(err, "cannot create %s: %s", tmp, strerror(errno));
	return -1;
}

/* Fills the new SQLite file tmp with the entries. 0 or -1. */
static int
kvdb_fill(const char *tmp, const struct kvdb_format *f,
    const struct kvdb_entry *v, size_t n, struct buf *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *schema, *insert, appid[64] = "";
	size_t i;
	int ret = -1;

	if (f->application_id != 0)
		(void)snprintf(appid, sizeof(appid),
		    "PRAGMA application_id = %ld;", f->application_id);
	/* a new file renamed into place needs no journal; FULL syncs it
	 * at COMMIT (and kvdb_write fsyncs once more before the rename) */
	schema = xasprintf("PRAGMA journal_mode = OFF;"
	                   "PRAGMA synchronous = FULL;"
	                   "%sPRAGMA user_version = %ld;"
	                   "BEGIN;"
	                   "CREATE TABLE %s (%s TEXT NOT NULL PRIMARY KEY,"
	                   " %s TEXT NOT NULL)%s;",
	    appid, f->version, f->table, f->key_col, f->value_col,
	    f->without_rowid ? " WITHOUT ROWID" : "");
	insert = xasprintf("INSERT INTO %s (%s, %s) VALUES (?1, ?2)", f->table,
	    f->key_col, f->value_col);
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, insert, -1, &st, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (sqlite3_bind_text(st, 1, v[i].key, -1, SQLITE_STATIC) !=
		        SQLITE_OK ||
		    sqlite3_bind_text(st, 2, v[i].value, -1, SQLITE_STATIC) !=
		        SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	ret = 0;
out:
	if (ret == -1) {
		kvdb_seterr(err, "cannot write %s: %s", tmp,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		errno = EIO;
	}
	sqlite3_finalize(st);
	if (sqlite3_close(db) != SQLITE_OK && ret == 0) {
		kvdb_seterr(err, "cannot write %s: close failed", tmp);
		errno = EIO;
		ret = -1;
	}
	free(schema);
	free(insert);
	return ret;
}

int
kvdb_write(const char *db_path, const struct kvdb_format *f,
    const struct kvdb_entry *v, size_t n, mode_t mode, const struct stat *owner,
    struct buf *err)
{
	char *tmp, *dir;
	int fd, ret = -1, saved;

	tmp = xasprintf("%s.tmp.%ld", db_path, (long)getpid());
	dir = fs_dirname(db_path);
	(void)unlink(tmp); /* left by a crash of a process with our pid */
	if (kvdb_create(tmp, mode, owner, err) == -1)
		goto out;
	if (kvdb_fill(tmp, f, v, n, err) == -1)
		goto out;
	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || fsync(fd) == -1) {
		kvdb_seterr(err, "cannot fsync %s: %s", tmp, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		goto out;
	}
	(void)close(fd);
	if (rename(tmp, db_path) == -1 || /* commit point */
	    fsync_dir(dir) == -1) {
		kvdb_seterr(
		    err, "cannot install %s: %s", db_path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	saved = errno;
	if (ret == -1)
		(void)unlink(tmp);
	free(tmp);
	free(dir);
	errno = saved;
	return ret;
}

/* The integer a one-column PRAGMA returns, or -1. */
static long
kvdb_pragma(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
kvdb_open(const char *db_path, const struct kvdb_format *f,
    struct kvdb **db_out, long *version_out, struct buf *err)
{
	struct kvdb *k = xcalloc(1, sizeof(*k));
	char *select = NULL;
	int ret = -1;

	*db_out = NULL;
	*version_out = -1;
	k->path = xstrdup(db_path);
	MW_ASSERT(pthread_mutex_init(&k->lock, NULL) == 0);
	if (sqlite3_open_v2(db_path, &k->db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		goto fail;
	*version_out = kvdb_pragma(k->db, "PRAGMA user_version");
	if (*version_out != f->version ||
	    (f->application_id != 0 &&
	        kvdb_pragma(k->db, "PRAGMA application_id") !=
	            f->application_id)) {
		ret = 1;
		goto out;
	}
	select = xasprintf("SELECT %s FROM %s WHERE %s = ?1", f->value_col,
	    f->table, f->key_col);
	if (sqlite3_prepare_v2(k->db, select, -1, &k->get, NULL) != SQLITE_OK)
		goto fail;
	*db_out = k;
	k = NULL;
	ret = 0;
	goto out;
fail:
	kvdb_seterr(err, "cannot read %s: %s", db_path,
	    k->db != NULL ? sqlite3_errmsg(k->db) : "out of memory");
out:
	kvdb_free(&k);
	free(select);
	return ret;
}

int
kvdb_lookup(
    struct kvdb *k, const char *key, struct buf *value_out, struct buf *err)
{
	const unsigned char *v;
	int rc, ret = -1;

	MW_ASSERT(pthread_mutex_lock(&k->lock) == 0);
	sqlite3_reset(k->get);
	if (sqlite3_bind_text(k->get, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(k->get);
	if (rc == SQLITE_DONE) {
		ret = 1;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	v = sqlite3_column_text(k->get, 0);
	buf_reset(value_out);
	if (v == NULL ||
	    buf_append(value_out, v, (size_t)sqlite3_column_bytes(k->get, 0)) ==
	        -1) {
		kvdb_seterr(err, "%s: value of \"%s\" is too long", k->path,
		    log_sanitize_str(key));
		buf_reset(value_out);
		goto out;
	}
	ret = 0;
	goto out;
fail:
	kvdb_seterr(err, "cannot read %s: %s", k->path, sqlite3_errmsg(k->db));
out:
	sqlite3_reset(k->get);
	sqlite3_clear_bindings(k->get);
	MW_ASSERT(pthread_mutex_unlock(&k->lock) == 0);
	return ret;
}

void
kvdb_free(struct kvdb **kp)
{
	struct kvdb *k = *kp;

	if (k == NULL)
		return;
	sqlite3_finalize(k->get);
	(void)sqlite3_close(k->db);
	(void)pthread_mutex_destroy(&k->lock);
	free(k->path);
	free(k);
	*kp = NULL;
}

bool
kvdb_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

bool
kvdb_is_current(const struct stat *db, const struct stat *text)
{
	if (db->st_mtim.tv_sec != text->st_mtim.tv_sec)
		return db->st_mtim.tv_sec > text->st_mtim.tv_sec;
	return db->st_mtim.tv_nsec >= text->st_mtim.tv_nsec;
}
