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
#include <pthread.h>
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
#include "lib/kvdb.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

static const struct kvdb_format aliases_db_format = {
	.table = "aliases",
	.key_col = "name",
	.value_col = "targets",
	.application_id = 0, /* files from before kvdb.c have none */
	.version = 1,
	.without_rowid = false,
};

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
	struct kvdb *kv;
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

/* The entries of path.db: each alias with its targets joined by ", "
 * (aliases_targets_parse reads them back). 0, or -1 with one line in err. */
static int
aliases_db_entries(const char *path, const struct aliases *a,
    struct kvdb_entry **v_out, char ***joined_out, struct buf *err)
{
	struct kvdb_entry *v;
	char **joined;
	struct buf b;
	size_t i, j;
	int rc = 0;

	v = xcalloc(a->n > 0 ? a->n : 1, sizeof(*v));
	joined = xcalloc(a->n > 0 ? a->n : 1, sizeof(*joined));
	buf_init(&b, aliases_db_file_max);
	for (i = 0; i < a->n; i++) {
		buf_reset(&b);
		for (j = 0; j < a->v[i].ntargets; j++)
			rc |= buf_printf(
			    &b, "%s%s", j ? ", " : "", a->v[i].targets[j]);
		if (rc == -1) {
			errno = ENOBUFS;
			aliases_db_seterr(err, "%s.db: alias too large", path);
			buf_free(&b);
			aliases_db_targets_free(joined, i);
			free(v);
			return -1;
		}
		joined[i] = xstrdup(buf_cstr(&b));
		v[i].key = a->v[i].name;
		v[i].value = joined[i];
	}
	buf_free(&b);
	*v_out = v;
	*joined_out = joined;
	return 0;
}

int
aliases_db_compile(const char *path, size_t *count_out, struct buf *err)
{
	struct aliases a = { NULL, 0 };
	struct kvdb_entry *v = NULL;
	struct buf text;
	char *db_path = NULL, **joined = NULL;
	int ret = -1, saved;

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
	if (aliases_db_entries(path, &a, &v, &joined, err) == -1)
		goto out;
	db_path = xasprintf("%s.db", path);
	/* 0644: aliases are not secret, and the services read the file as
	 * mail_owner (Postfix's aliases.db is 0644 too) */
	if (kvdb_write(db_path, &aliases_db_format, v, a.n, 0644, NULL, err) ==
	    -1)
		goto out;
	*count_out = a.n;
	ret = 0;
out:
	saved = errno;
	if (joined != NULL)
		aliases_db_targets_free(joined, a.n);
	free(v);
	aliases_free(&a);
	buf_free(&text);
	free(db_path);
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
	kvdb_free(&d->kv);
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
	struct buf err;
	long version;
	int rc;

	aliases_db_unload(d);
	buf_init(&err, 4096);
	rc = kvdb_open(d->db_path, &aliases_db_format, &d->kv, &version, &err);
	if (rc == 1)
		aliases_db_set_broken(d,
		    "alias database %s has an unknown "
		    "format (version %ld): run mailwright newaliases",
		    d->db_path, version);
	else if (rc == -1)
		aliases_db_set_broken(d, "%s", buf_cstr(&err));
	else
		d->mode = ALIASES_DB_DB;
	d->loaded = *sb;
	buf_free(&err);
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
	if (stat(d->db_path, &ds) == 0 && kvdb_is_current(&ds, &ts)) {
		if (d->mode != ALIASES_DB_DB ||
		    !kvdb_same_file(&ds, &d->loaded))
			aliases_db_load_db(d, &ds);
		return;
	}
	if (!d->have_warned || !kvdb_same_file(&ts, &d->warned)) {
		log_warn("alias database %s is out of date: run mailwright "
		         "newaliases",
		    d->db_path);
		d->warned = ts;
		d->have_warned = true;
	}
	if (d->mode != ALIASES_DB_TEXT || !kvdb_same_file(&ts, &d->loaded))
		aliases_db_load_text(d, &ts);
}

static int
aliases_db_lookup_db(struct aliases_db *d, const char *key, char ***targets_out,
    size_t *n_out, struct buf *err)
{
	struct buf v;
	int ret;

	buf_init(&v, aliases_db_file_max);
	ret = kvdb_lookup(d->kv, key, &v, err);
	if (ret == 0 &&
	    aliases_targets_parse(buf_cstr(&v), v.len, &aliases_limits_default,
	        targets_out, n_out, err) == -1) {
		aliases_db_seterr(err,
		    "alias database %s: alias \"%s\" does "
		    "not parse: run mailwright newaliases",
		    d->db_path, log_sanitize_str(key));
		ret = -1;
	}
	buf_free(&v);
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
