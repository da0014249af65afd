/*
 * hash: tables on disk: PATH.db, the compiled form of the text file PATH,
 * as `mailwright map PATH` writes it (Postfix's postmap writes a Berkeley
 * DB; we write SQLite, which we already use). One table
 * map(key PRIMARY KEY, value), keys lowercased, application_id "mwmp" and
 * user_version 1 so that another SQLite file (an alias database, say) is
 * recognised as not ours. The file is written beside the target under a
 * temporary name, fsynced and renamed into place, so readers see the old
 * table or the new one, never half of one. Choosing between PATH.db and
 * PATH is maptable.c's job.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "policy/maptable_private.h"

#define MAPTABLE_HASHDB_APPID   1836541296 /* 0x6d776d70, "mwmp" */
#define MAPTABLE_HASHDB_VERSION 1
#define MAPTABLE_STR2(x)        #x
#define MAPTABLE_STR(x)         MAPTABLE_STR2(x)

struct maptable_hashdb {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *get;
	pthread_mutex_t lock; /* one statement: lookups take turns */
};

static char *
maptable_hashdb_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Creates tmp with sb's permissions (and owner, as root). 0 or -1. */
static int
maptable_hashdb_create(const char *tmp, const struct stat *sb, struct buf *err)
{
	int fd;

	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		goto fail;
	/* as postmap: the table is as readable as its source, whatever
	 * the umask, and root compiling a file leaves it to its owner */
	if ((geteuid() == 0 && fchown(fd, sb->st_uid, sb->st_gid) == -1) ||
	    fchmod(fd, sb->st_mode & 0666) == -1) {
		(void)close(fd);
		goto fail;
	}
	(void)close(fd);
	return 0;
fail:
	maptable_seterr(err, "cannot create %s: %s", tmp, strerror(errno));
	return -1;
}

static int
maptable_hashdb_fill(
    const char *tmp, const struct maptable_text *t, struct buf *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t i;
	int ret = -1;

	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	/* a new file renamed into place needs no journal; FULL syncs it
	 * at COMMIT (and the caller fsyncs once more before the rename) */
	if (sqlite3_exec(db,
	        "PRAGMA journal_mode = OFF;"
	        "PRAGMA synchronous = FULL;"
	        "PRAGMA application_id = " MAPTABLE_STR(
	            MAPTABLE_HASHDB_APPID) ";"
	                                   "PRAGMA user_version = " MAPTABLE_STR(
	                                       MAPTABLE_HASHDB_VERSION) ";"
	                                                                "BEGIN;"
	                                                                "CREATE TABLE map (key TEXT NOT NULL PRIMARY KEY,"
	                                                                " value TEXT NOT NULL) WITHOUT ROWID;",
	        NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db,
	        "INSERT INTO map (key, value) VALUES (?1, ?2)", -1, &st,
	        NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < t->n; i++) {
		if (sqlite3_bind_text(st, 1, t->v[i].key, -1, SQLITE_STATIC) !=
		        SQLITE_OK ||
		    sqlite3_bind_text(
		        st, 2, t->v[i].value, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	ret = 0;
out:
	if (ret == -1)
		maptable_seterr(err, "cannot write %s: %s", tmp,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_finalize(st);
	if (sqlite3_close(db) != SQLITE_OK && ret == 0) {
		maptable_seterr(err, "cannot write %s: close failed", tmp);
		ret = -1;
	}
	return ret;
}

int
maptable_hashdb_write(const char *db_path, const struct maptable_text *t,
    const struct stat *sb, struct buf *err)
{
	char *tmp, *dir;
	int fd, ret = -1, saved;

	tmp = xasprintf("%s.tmp.%ld", db_path, (long)getpid());
	dir = maptable_hashdb_dirname(db_path);
	(void)unlink(tmp); /* left by a crash of a process with our pid */
	if (maptable_hashdb_create(tmp, sb, err) == -1)
		goto out;
	if (maptable_hashdb_fill(tmp, t, err) == -1)
		goto out;
	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || fsync(fd) == -1) {
		maptable_seterr(
		    err, "cannot fsync %s: %s", tmp, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		goto out;
	}
	(void)close(fd);
	if (rename(tmp, db_path) == -1 || /* commit point */
	    fsync_dir(dir) == -1) {
		maptable_seterr(
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
maptable_hashdb_pragma(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

struct maptable_hashdb *
maptable_hashdb_open(const char *db_path, struct buf *err)
{
	struct maptable_hashdb *h = xcalloc(1, sizeof(*h));

	h->path = xstrdup(db_path);
	MW_ASSERT(pthread_mutex_init(&h->lock, NULL) == 0);
	if (sqlite3_open_v2(db_path, &h->db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		goto fail;
	if (maptable_hashdb_pragma(h->db, "PRAGMA application_id") !=
	        MAPTABLE_HASHDB_APPID ||
	    maptable_hashdb_pragma(h->db, "PRAGMA user_version") !=
	        MAPTABLE_HASHDB_VERSION) {
		maptable_seterr(err,
		    "%s is not a table that mailwright map "
		    "wrote: run mailwright map on its text file",
		    db_path);
		maptable_hashdb_free(&h);
		return NULL;
	}
	if (sqlite3_prepare_v2(h->db, "SELECT value FROM map WHERE key = ?1",
	        -1, &h->get, NULL) != SQLITE_OK)
		goto fail;
	return h;
fail:
	maptable_seterr(err, "cannot read %s: %s", db_path,
	    h->db != NULL ? sqlite3_errmsg(h->db) : "out of memory");
	maptable_hashdb_free(&h);
	return NULL;
}

int
maptable_hashdb_lookup(struct maptable_hashdb *h, const char *key,
    struct buf *value_out, struct buf *err)
{
	const unsigned char *v;
	int rc, ret = -1;

	MW_ASSERT(pthread_mutex_lock(&h->lock) == 0);
	sqlite3_reset(h->get);
	if (sqlite3_bind_text(h->get, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(h->get);
	if (rc == SQLITE_DONE) {
		ret = 1;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	v = sqlite3_column_text(h->get, 0);
	buf_reset(value_out);
	if (v == NULL ||
	    buf_append(value_out, v, (size_t)sqlite3_column_bytes(h->get, 0)) ==
	        -1) {
		maptable_seterr(err, "%s: value of \"%s\" is too long", h->path,
		    log_sanitize_str(key));
		buf_reset(value_out);
		goto out;
	}
	ret = 0;
	goto out;
fail:
	maptable_seterr(
	    err, "cannot read %s: %s", h->path, sqlite3_errmsg(h->db));
out:
	sqlite3_reset(h->get);
	sqlite3_clear_bindings(h->get);
	MW_ASSERT(pthread_mutex_unlock(&h->lock) == 0);
	return ret;
}

void
maptable_hashdb_free(struct maptable_hashdb **hp)
{
	struct maptable_hashdb *h = *hp;

	if (h == NULL)
		return;
	sqlite3_finalize(h->get);
	(void)sqlite3_close(h->db);
	(void)pthread_mutex_destroy(&h->lock);
	free(h->path);
	free(h);
	*hp = NULL;
}
