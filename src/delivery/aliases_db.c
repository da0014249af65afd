/*
 * Compiled alias maps (see aliases_db.h): newaliases' compiler, and the
 * reader the resolver uses. Parsing is aliases_file.c's job; what an alias
 * means (domains, recursion, loops) is resolve.c's.
 *
 * A reader re-checks its files at most once a second (two stat calls), so
 * a running server picks up `mailwright newaliases` without a reload,
 * like Postfix's table-change check but without restarting processes.
 */
#include "delivery/aliases_db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delivery/aliases_file.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

#define ALIASES_DB_VERSION 1

/* The largest aliases file we read: 64 MiB (Debian's is 300 bytes; a big
 * site's is a few MiB). */
static const size_t aliases_db_file_max = (size_t)64 * 1024 * 1024;

enum aliases_db_mode {
	ALIASES_DB_UNLOADED,
	ALIASES_DB_EMPTY,  /* no text file: no aliases */
	ALIASES_DB_DB,     /* reading path.db */
	ALIASES_DB_TEXT,   /* path.db missing or stale: reading path */
	ALIASES_DB_BROKEN, /* unreadable or unparsable: lookups fail */
};

struct aliases_db {
	char *path, *db_path;
	pthread_mutex_t lock;
	struct timespec checked; /* CLOCK_MONOTONIC of the last stat */
	enum aliases_db_mode mode;
	struct stat loaded; /* identity of the file the mode was loaded from */
	struct stat warned; /* the text file we last warned about */
	bool have_warned;
	sqlite3 *db;
	sqlite3_stmt *get;
	struct aliases text;
	char *broken; /* the reason, in ALIASES_DB_BROKEN */
};

static void aliases_db_seterr(struct buf *err, const char *fmt, ...)
    MW_PRINTF(2, 3);

static void
aliases_db_seterr(struct buf *err, const char *fmt, ...)
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

char *
aliases_db_map_path(const char *spec, struct buf *err)
{
	size_t i;

	/* Postfix's "type:name"; a plain path has no "letters:" prefix */
	for (i = 0; (spec[i] >= 'a' && spec[i] <= 'z') ||
	     (spec[i] >= 'A' && spec[i] <= 'Z') ||
	     (spec[i] >= '0' && spec[i] <= '9');
	     i++)
		;
	if (i == 0 || spec[i] != ':')
		return xstrdup(spec);
	if (i == 4 && ascii_eq_n(spec, "hash", 4) && spec[5] != '\0')
		return xstrdup(spec + 5);
	aliases_db_seterr(err,
	    "alias_maps: \"%s\": only hash:PATH maps are "
	    "supported",
	    log_sanitize_str(spec));
	errno = EINVAL;
	return NULL;
}

static char *
aliases_db_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Writes the parsed aliases into a new SQLite file tmp. 0 or -1. */
static int
aliases_db_write(const char *tmp, const struct aliases *a, struct buf *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct buf joined;
	size_t i, j;
	int fd, ret = -1, rc = 0;

	/* 0644 whatever the umask: aliases are not secret, and the services
	 * read the file as mail_owner (Postfix's aliases.db is 0644 too) */
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1 || fchmod(fd, 0644) == -1) {
		aliases_db_seterr(
		    err, "cannot create %s: %s", tmp, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	(void)close(fd);
	buf_init(&joined, aliases_db_file_max);
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto fail;
	/* a new file renamed into place needs no journal; FULL syncs it at
	 * COMMIT (and we fsync once more before the rename) */
	if (sqlite3_exec(db,
	        "PRAGMA journal_mode = OFF;"
	        "PRAGMA synchronous = FULL;"
	        "BEGIN;"
	        "CREATE TABLE aliases (name TEXT NOT NULL PRIMARY KEY,"
	        " targets TEXT NOT NULL);"
	        "PRAGMA user_version = 1;",
	        NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(db,
	        "INSERT INTO aliases (name, targets) "
	        "VALUES (?1, ?2)",
	        -1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < a->n; i++) {
		buf_reset(&joined);
		for (j = 0; j < a->v[i].ntargets; j++)
			rc |= buf_printf(
			    &joined, "%s%s", j ? ", " : "", a->v[i].targets[j]);
		if (rc == -1) {
			errno = ENOBUFS;
			aliases_db_seterr(err, "%s: alias too large", tmp);
			goto out;
		}
		if (sqlite3_bind_text(st, 1, a->v[i].name, -1, SQLITE_STATIC) !=
		        SQLITE_OK ||
		    sqlite3_bind_text(st, 2, joined.data, (int)joined.len,
		        SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(st);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	ret = 0;
	goto out;
fail:
	aliases_db_seterr(err, "%s: %s", tmp,
	    db != NULL ? sqlite3_errmsg(db) : "out of memory");
	errno = EIO;
out:
	sqlite3_finalize(st);
	if (sqlite3_close(db) != SQLITE_OK && ret == 0) {
		aliases_db_seterr(err, "%s: close failed", tmp);
		ret = -1;
	}
	buf_free(&joined);
	return ret;
}

int
aliases_db_compile(const char *path, size_t *count_out, struct buf *err)
{
	struct aliases a = { NULL, 0 };
	struct buf text;
	char *db_path = NULL, *tmp = NULL, *dir = NULL;
	int fd, ret = -1, saved;

	buf_init(&text, aliases_db_file_max);
	if (fs_read_file(path, &text) == -1) {
		if (errno == ENOENT) {
			ret = 1;
			goto out;
		}
		if (errno == ENOBUFS)
			aliases_db_seterr(err, "%s is larger than %zu bytes",
			    path, aliases_db_file_max);
		else
			aliases_db_seterr(
			    err, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (aliases_file_parse(text.data != NULL ? text.data : "", text.len,
	        path, &aliases_limits_default, &a, err) == -1)
		goto out;
	db_path = xasprintf("%s.db", path);
	tmp = xasprintf("%s.db.tmp.%ld", path, (long)getpid());
	dir = aliases_db_dirname(path);
	(void)unlink(tmp); /* left by a crash of a process with our pid */
	if (aliases_db_write(tmp, &a, err) == -1)
		goto out;
	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || fsync(fd) == -1) {
		aliases_db_seterr(
		    err, "cannot fsync %s: %s", tmp, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		goto out;
	}
	(void)close(fd);
	if (rename(tmp, db_path) == -1 || /* commit point */
	    fsync_dir(dir) == -1) {
		aliases_db_seterr(
		    err, "cannot install %s: %s", db_path, strerror(errno));
		goto out;
	}
	*count_out = a.n;
	ret = 0;
out:
	saved = errno;
	if (ret == -1 && tmp != NULL)
		(void)unlink(tmp);
	aliases_free(&a);
	buf_free(&text);
	free(db_path);
	free(tmp);
	free(dir);
	errno = saved;
	return ret;
}

struct aliases_db *
aliases_db_open(const char *path)
{
	struct aliases_db *d = xcalloc(1, sizeof(*d));

	d->path = xstrdup(path);
	d->db_path = xasprintf("%s.db", path);
	MW_ASSERT(pthread_mutex_init(&d->lock, NULL) == 0);
	d->mode = ALIASES_DB_UNLOADED;
	return d;
}

/* Drops whatever is loaded. */
static void
aliases_db_unload(struct aliases_db *d)
{
	sqlite3_finalize(d->get);
	d->get = NULL;
	(void)sqlite3_close(d->db);
	d->db = NULL;
	aliases_free(&d->text);
	free(d->broken);
	d->broken = NULL;
	d->mode = ALIASES_DB_UNLOADED;
}

void
aliases_db_free(struct aliases_db **dp)
{
	struct aliases_db *d = *dp;

	if (d == NULL)
		return;
	aliases_db_unload(d);
	(void)pthread_mutex_destroy(&d->lock);
	free(d->path);
	free(d->db_path);
	free(d);
	*dp = NULL;
}

static bool
aliases_db_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* True when a's mtime is the same as or later than b's. */
static bool
aliases_db_not_older(const struct stat *a, const struct stat *b)
{
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
		return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
	return a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec;
}

static void aliases_db_set_broken(struct aliases_db *d, const char *fmt, ...)
    MW_PRINTF(2, 3);

static void
aliases_db_set_broken(struct aliases_db *d, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	aliases_db_unload(d);
	buf_init(&b, 4096);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) == -1)
		buf_reset(&b);
	va_end(ap);
	d->broken = buf_steal(&b);
	d->mode = ALIASES_DB_BROKEN;
}

static void
aliases_db_load_db(struct aliases_db *d, const struct stat *sb)
{
	sqlite3_stmt *st = NULL;
	int version = -1;

	aliases_db_unload(d);
	if (sqlite3_open_v2(d->db_path, &d->db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(d->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version != ALIASES_DB_VERSION) {
		aliases_db_set_broken(d,
		    "alias database %s has an unknown "
		    "format (version %d): run mailwright newaliases",
		    d->db_path, version);
		d->loaded = *sb;
		return;
	}
	if (sqlite3_prepare_v2(d->db,
	        "SELECT targets FROM aliases WHERE "
	        "name = ?1",
	        -1, &d->get, NULL) != SQLITE_OK)
		goto fail;
	d->mode = ALIASES_DB_DB;
	d->loaded = *sb;
	return;
fail:
	aliases_db_set_broken(d, "alias database %s: %s", d->db_path,
	    d->db != NULL ? sqlite3_errmsg(d->db) : "out of memory");
	d->loaded = *sb;
}

static void
aliases_db_load_text(struct aliases_db *d, const struct stat *sb)
{
	struct buf text, err;

	aliases_db_unload(d);
	buf_init(&text, aliases_db_file_max);
	buf_init(&err, 4096);
	if (fs_read_file(d->path, &text) == -1)
		aliases_db_set_broken(d, "cannot read alias map %s: %s",
		    d->path, strerror(errno));
	else if (aliases_file_parse(text.data != NULL ? text.data : "",
	             text.len, d->path, &aliases_limits_default, &d->text,
	             &err) == -1)
		aliases_db_set_broken(d, "%s", buf_cstr(&err));
	else
		d->mode = ALIASES_DB_TEXT;
	d->loaded = *sb;
	buf_free(&text);
	buf_free(&err);
}

/* Brings the loaded map up to date with the files, at most once a
 * second. The caller holds the lock. */
static void
aliases_db_refresh(struct aliases_db *d)
{
	struct timespec now;
	struct stat ts, ds;

	MW_ASSERT(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
	if (d->mode != ALIASES_DB_UNLOADED &&
	    (now.tv_sec - d->checked.tv_sec) * 1000000000L +
	            (now.tv_nsec - d->checked.tv_nsec) <
	        1000000000L)
		return;
	d->checked = now;
	if (stat(d->path, &ts) == -1) {
		if (errno == ENOENT) { /* no file, no aliases */
			if (d->mode != ALIASES_DB_EMPTY) {
				aliases_db_unload(d);
				d->mode = ALIASES_DB_EMPTY;
			}
			return;
		}
		aliases_db_set_broken(d, "cannot read alias map %s: %s",
		    d->path, strerror(errno));
		return;
	}
	if (stat(d->db_path, &ds) == 0 && aliases_db_not_older(&ds, &ts)) {
		if (d->mode != ALIASES_DB_DB ||
		    !aliases_db_same_file(&ds, &d->loaded))
			aliases_db_load_db(d, &ds);
		return;
	}
	if (!d->have_warned || !aliases_db_same_file(&ts, &d->warned)) {
		log_warn("alias database %s is out of date: run mailwright "
		         "newaliases",
		    d->db_path);
		d->warned = ts;
		d->have_warned = true;
	}
	if (d->mode != ALIASES_DB_TEXT ||
	    !aliases_db_same_file(&ts, &d->loaded))
		aliases_db_load_text(d, &ts);
}

static int
aliases_db_lookup_db(struct aliases_db *d, const char *key, char ***targets_out,
    size_t *n_out, struct buf *err)
{
	const char *v;
	int rc, ret = -1;

	sqlite3_reset(d->get);
	if (sqlite3_bind_text(d->get, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	rc = sqlite3_step(d->get);
	if (rc == SQLITE_DONE) {
		ret = 1;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	v = (const char *)sqlite3_column_text(d->get, 0);
	if (v == NULL ||
	    aliases_targets_parse(v, strlen(v), &aliases_limits_default,
	        targets_out, n_out, err) == -1) {
		aliases_db_seterr(err,
		    "alias database %s: alias \"%s\" does "
		    "not parse: run mailwright newaliases",
		    d->db_path, log_sanitize_str(key));
		goto out;
	}
	ret = 0;
	goto out;
fail:
	aliases_db_seterr(
	    err, "alias database %s: %s", d->db_path, sqlite3_errmsg(d->db));
out:
	sqlite3_reset(d->get);
	return ret;
}

int
aliases_db_lookup(struct aliases_db *d, const char *name, char ***targets_out,
    size_t *n_out, struct buf *err)
{
	const struct aliases_entry *e;
	char *key = xstrdup(name);
	size_t i;
	int ret = 1;

	ascii_lower(key);
	MW_ASSERT(pthread_mutex_lock(&d->lock) == 0);
	aliases_db_refresh(d);
	switch (d->mode) {
	case ALIASES_DB_UNLOADED:
	case ALIASES_DB_EMPTY:
		break;
	case ALIASES_DB_BROKEN:
		aliases_db_seterr(err, "%s", d->broken);
		ret = -1;
		break;
	case ALIASES_DB_DB:
		ret = aliases_db_lookup_db(d, key, targets_out, n_out, err);
		break;
	case ALIASES_DB_TEXT:
		e = aliases_find(&d->text, key);
		if (e == NULL)
			break;
		*targets_out = xcalloc(e->ntargets, sizeof(char *));
		for (i = 0; i < e->ntargets; i++)
			(*targets_out)[i] = xstrdup(e->targets[i]);
		*n_out = e->ntargets;
		ret = 0;
		break;
	}
	MW_ASSERT(pthread_mutex_unlock(&d->lock) == 0);
	free(key);
	return ret;
}

void
aliases_db_targets_free(char **targets, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(targets[i]);
	free(targets);
}
