/*
 * Lookup tables (see maptable.h): table names, the choice between PATH.db
 * and PATH for hash: tables, reloading changed files, and lookups from
 * many threads. The formats themselves are parsed in maptable_text.c,
 * maptable_cidr.c and maptable_regexp.c; PATH.db lives in maptable_hash.c.
 *
 * What a lookup reads is a snapshot: the parsed file or the open PATH.db,
 * with a reference count. A lookup takes a reference under the table's
 * lock (after at most two stat calls a second to notice a change) and
 * matches without the lock, so that a slow regexp on one thread does not
 * hold up the others, and a reload never frees what a lookup still reads.
 */
#include "policy/maptable.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "policy/maptable_private.h"

/* Where a snapshot came from. */
enum maptable_source {
	MAPTABLE_SOURCE_NONE, /* nothing loaded yet */
	MAPTABLE_SOURCE_MISSING,
	MAPTABLE_SOURCE_TEXT,
	MAPTABLE_SOURCE_DB,
};

struct maptable_snap {
	unsigned refs; /* under the table's lock */
	struct maptable_data *data;
	struct maptable_hashdb *db;
	char *broken; /* when set, lookups fail with this */
};

struct maptable {
	enum maptable_type type;
	char *spec, *path, *db_path; /* db_path: hash: only */
	struct maptable_limits lim;
	pthread_mutex_t lock;
	struct timespec checked; /* CLOCK_MONOTONIC of the last stat */
	struct maptable_snap *cur;
	enum maptable_source source;
	struct stat loaded; /* the file cur was made from */
	int missing_errno;  /* MAPTABLE_SOURCE_MISSING: why */
	struct stat warned; /* the text file last warned about */
	bool have_warned;
};

// clang-format off
static const struct {
	const char *name;
	enum maptable_type type;
} maptable_types[] = {
	{ "hash",     MAPTABLE_HASH },
	{ "texthash", MAPTABLE_TEXTHASH },
	{ "cidr",     MAPTABLE_CIDR },
	{ "regexp",   MAPTABLE_REGEXP },
	{ "pcre",     MAPTABLE_PCRE },
};
// clang-format on

const char *
maptable_type_name(enum maptable_type type)
{
	size_t i;

	for (i = 0; i < MW_NELEM(maptable_types); i++)
		if (maptable_types[i].type == type)
			return maptable_types[i].name;
	log_panic("maptable_type_name: bad type %d", (int)type);
}

int
maptable_spec_parse(const char *spec, enum maptable_type *type_out,
    const char **path_out, struct buf *err)
{
	size_t i, n;

	/* Postfix's "type:name"; a bare path has no "letters:" prefix */
	for (n = 0; (spec[n] >= 'a' && spec[n] <= 'z') ||
	     (spec[n] >= 'A' && spec[n] <= 'Z') ||
	     (spec[n] >= '0' && spec[n] <= '9');
	     n++)
		;
	if (n == 0 || spec[n] != ':') {
		*type_out = MAPTABLE_HASH;
		*path_out = spec;
	} else {
		for (i = 0; i < MW_NELEM(maptable_types); i++)
			if (strlen(maptable_types[i].name) == n &&
			    ascii_eq_n(spec, maptable_types[i].name, n))
				break;
		if (i == MW_NELEM(maptable_types)) {
			maptable_seterr(err,
			    "\"%s\": unsupported table type \"%.*s\" "
			    "(use hash, texthash, cidr, regexp or pcre)",
			    log_sanitize_str(spec), (int)n, spec);
			return -1;
		}
		*type_out = maptable_types[i].type;
		*path_out = spec + n + 1;
	}
	if ((*path_out)[0] == '\0') {
		maptable_seterr(
		    err, "\"%s\": no file name", log_sanitize_str(spec));
		return -1;
	}
	return 0;
}

struct maptable_data *
maptable_data_parse(enum maptable_type type, const char *data, size_t len,
    const char *name, const struct maptable_limits *lim, struct buf *warn,
    struct buf *err)
{
	struct maptable_data *d = xcalloc(1, sizeof(*d));

	d->type = type;
	switch (type) {
	case MAPTABLE_HASH:
	case MAPTABLE_TEXTHASH:
		if (maptable_text_parse(
		        data, len, name, lim, &d->text, warn, err) == -1)
			goto fail;
		break;
	case MAPTABLE_CIDR:
		if ((d->cidr = maptable_cidr_parse(
		         data, len, name, lim, err)) == NULL)
			goto fail;
		break;
	case MAPTABLE_REGEXP:
	case MAPTABLE_PCRE:
		if ((d->re = maptable_regexp_parse(type == MAPTABLE_PCRE, data,
		         len, name, lim, err)) == NULL)
			goto fail;
		break;
	}
	return d;
fail:
	free(d);
	return NULL;
}

int
maptable_data_lookup(const struct maptable_data *d, const char *key,
    struct buf *value_out, struct buf *err)
{
	const char *v;
	char *folded;
	int ret = 1;

	switch (d->type) {
	case MAPTABLE_HASH:
	case MAPTABLE_TEXTHASH:
		folded = xstrdup(key);
		ascii_lower(folded);
		if ((v = maptable_text_find(&d->text, folded)) != NULL) {
			buf_reset(value_out);
			ret = 0;
			if (buf_append_str(value_out, v) == -1) {
				maptable_seterr(err,
				    "value of \"%s\" is longer than %zu bytes",
				    log_sanitize_str(key), value_out->max);
				buf_reset(value_out);
				ret = -1;
			}
		}
		free(folded);
		return ret;
	case MAPTABLE_CIDR:
		return maptable_cidr_lookup(d->cidr, key, value_out, err);
	case MAPTABLE_REGEXP:
	case MAPTABLE_PCRE:
		return maptable_regexp_lookup(d->re, key, value_out, err);
	}
	return 1;
}

size_t
maptable_data_count(const struct maptable_data *d)
{
	switch (d->type) {
	case MAPTABLE_HASH:
	case MAPTABLE_TEXTHASH:
		return d->text.n;
	case MAPTABLE_CIDR:
		return maptable_cidr_count(d->cidr);
	case MAPTABLE_REGEXP:
	case MAPTABLE_PCRE:
		return maptable_regexp_count(d->re);
	}
	return 0;
}

void
maptable_data_free(struct maptable_data **dp)
{
	struct maptable_data *d = *dp;

	if (d == NULL)
		return;
	maptable_text_free(&d->text);
	maptable_cidr_free(&d->cidr);
	maptable_regexp_free(&d->re);
	free(d);
	*dp = NULL;
}

/* Reads and parses the text file of m; a snapshot (maybe broken). */
static struct maptable_data *
maptable_read_text(const char *path, enum maptable_type type,
    const struct maptable_limits *lim, struct buf *warn, struct buf *err)
{
	struct maptable_data *d = NULL;
	struct buf text;

	buf_init(&text, lim->file_max);
	if (fs_read_file(path, &text) == -1) {
		if (errno == ENOBUFS)
			maptable_seterr(err, "%s is larger than %zu bytes",
			    path, lim->file_max);
		else
			maptable_seterr(
			    err, "cannot read %s: %s", path, strerror(errno));
	} else
		d = maptable_data_parse(type,
		    text.data != NULL ? text.data : "", text.len, path, lim,
		    warn, err);
	buf_free(&text);
	return d;
}

static void
maptable_snap_unref(struct maptable_snap **sp)
{
	struct maptable_snap *s = *sp;

	*sp = NULL;
	if (s == NULL || --s->refs > 0)
		return;
	maptable_data_free(&s->data);
	maptable_hashdb_free(&s->db);
	free(s->broken);
	free(s);
}

/* Makes a snapshot from what was loaded (or the reason in err) and puts it
 * in place. The caller holds the lock. */
static void
maptable_install(struct maptable *m, struct maptable_data *d,
    struct maptable_hashdb *db, struct buf *err, enum maptable_source source,
    const struct stat *sb)
{
	struct maptable_snap *s = xcalloc(1, sizeof(*s));

	s->refs = 1;
	s->data = d;
	s->db = db;
	if (d == NULL && db == NULL) {
		s->broken = xstrdup(
		    err->len > 0 ? buf_cstr(err) : "cannot load the table");
		/* one warning per failed version of the files; a failure
		 * at open is maptable_open's error instead */
		if (m->source != MAPTABLE_SOURCE_NONE)
			log_warn("table %s: %s", m->spec, s->broken);
	}
	maptable_snap_unref(&m->cur);
	m->cur = s;
	m->source = source;
	if (sb != NULL)
		m->loaded = *sb;
	else
		memset(&m->loaded, 0, sizeof(m->loaded));
}

static bool
maptable_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* True when a's mtime is the same as or later than b's. */
static bool
maptable_not_older(const struct stat *a, const struct stat *b)
{
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
		return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
	return a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec;
}

/* hash: with PATH.db usable; true when it was (cur set from it). */
static bool
maptable_refresh_db(struct maptable *m, const struct stat *ts, bool have_text)
{
	struct maptable_hashdb *db;
	struct stat ds;
	struct buf err;

	if (stat(m->db_path, &ds) == -1 ||
	    (have_text && !maptable_not_older(&ds, ts)))
		return false; /* maptable_refresh reads the text */
	if (m->source == MAPTABLE_SOURCE_DB &&
	    maptable_same_file(&ds, &m->loaded))
		return true;
	buf_init(&err, 4096);
	db = maptable_hashdb_open(m->db_path, &err);
	maptable_install(m, NULL, db, &err, MAPTABLE_SOURCE_DB, &ds);
	buf_free(&err);
	return true;
}

/* Brings cur up to date with the files, at most once a second (always
 * when force). The caller holds the lock. */
static void
maptable_refresh(struct maptable *m, bool force)
{
	struct maptable_data *d;
	struct timespec now;
	struct stat ts;
	struct buf err, warn;
	bool have_text;
	size_t i;

	MW_ASSERT(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
	if (!force && m->cur != NULL &&
	    (now.tv_sec - m->checked.tv_sec) * 1000000000L +
	            (now.tv_nsec - m->checked.tv_nsec) <
	        1000000000L)
		return;
	m->checked = now;
	have_text = stat(m->path, &ts) == 0;
	if (!have_text)
		m->missing_errno = errno;
	if (m->type == MAPTABLE_HASH && maptable_refresh_db(m, &ts, have_text))
		return;
	buf_init(&err, 4096);
	if (!have_text) {
		if (m->source != MAPTABLE_SOURCE_MISSING) {
			maptable_seterr(&err, "cannot read %s: %s", m->path,
			    strerror(m->missing_errno));
			maptable_install(
			    m, NULL, NULL, &err, MAPTABLE_SOURCE_MISSING, NULL);
		}
		buf_free(&err);
		return;
	}
	if (m->source == MAPTABLE_SOURCE_TEXT &&
	    maptable_same_file(&ts, &m->loaded)) {
		buf_free(&err);
		return;
	}
	buf_init(&warn, 64 * 1024);
	d = maptable_read_text(m->path, m->type, &m->lim, &warn, &err);
	/* postmap's "duplicate entry" warnings, once per version */
	for (i = 0; d != NULL && i < warn.len;) {
		size_t e = i;

		while (e < warn.len && warn.data[e] != '\n')
			e++;
		log_warn(
		    "table %s: %.*s", m->spec, (int)(e - i), warn.data + i);
		i = e + 1;
	}
	/* postmap's "database is older than source file", once per
	 * version of the text, when the text is what we read instead */
	if (m->type == MAPTABLE_HASH && d != NULL &&
	    (!m->have_warned || !maptable_same_file(&ts, &m->warned))) {
		log_warn("table %s: %s is missing or older than %s: reading "
		         "the text; run mailwright map %s",
		    m->spec, m->db_path, m->path, m->path);
		m->warned = ts;
		m->have_warned = true;
	}
	maptable_install(m, d, NULL, &err, MAPTABLE_SOURCE_TEXT, &ts);
	buf_free(&warn);
	buf_free(&err);
}

struct maptable *
maptable_open_limits(
    const char *spec, const struct maptable_limits *lim, struct buf *err)
{
	struct maptable *m;
	enum maptable_type type;
	const char *path;

	if (maptable_spec_parse(spec, &type, &path, err) == -1)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->type = type;
	m->spec = xasprintf("%s:%s", maptable_type_name(type), path);
	m->path = xstrdup(path);
	if (type == MAPTABLE_HASH)
		m->db_path = xasprintf("%s.db", path);
	m->lim = *lim;
	MW_ASSERT(pthread_mutex_init(&m->lock, NULL) == 0);
	m->source = MAPTABLE_SOURCE_NONE;
	maptable_refresh(m, true);
	if (m->cur->broken != NULL) {
		maptable_seterr(err, "%s", m->cur->broken);
		maptable_free(&m);
	}
	return m;
}

struct maptable *
maptable_open(const char *spec, struct buf *err)
{
	return maptable_open_limits(spec, &maptable_limits_default, err);
}

void
maptable_free(struct maptable **mp)
{
	struct maptable *m = *mp;

	if (m == NULL)
		return;
	maptable_snap_unref(&m->cur);
	(void)pthread_mutex_destroy(&m->lock);
	free(m->spec);
	free(m->path);
	free(m->db_path);
	free(m);
	*mp = NULL;
}

int
maptable_lookup(
    struct maptable *m, const char *key, struct buf *value_out, struct buf *err)
{
	struct maptable_snap *s;
	char *folded = NULL;
	int ret;

	MW_ASSERT(pthread_mutex_lock(&m->lock) == 0);
	maptable_refresh(m, false);
	s = m->cur;
	s->refs++;
	MW_ASSERT(pthread_mutex_unlock(&m->lock) == 0);
	if (s->broken != NULL) {
		maptable_seterr(err, "table %s: %s", m->spec, s->broken);
		ret = -1;
	} else if (s->db != NULL) {
		folded = xstrdup(key);
		ascii_lower(folded); /* postmap folds keys */
		ret = maptable_hashdb_lookup(s->db, folded, value_out, err);
	} else
		ret = maptable_data_lookup(s->data, key, value_out, err);
	free(folded);
	MW_ASSERT(pthread_mutex_lock(&m->lock) == 0);
	maptable_snap_unref(&s);
	MW_ASSERT(pthread_mutex_unlock(&m->lock) == 0);
	return ret;
}

const char *
maptable_spec(const struct maptable *m)
{
	return m->spec;
}

enum maptable_type
maptable_type(const struct maptable *m)
{
	return m->type;
}

bool
maptable_is_fixed(const struct maptable *m)
{
	return m->type == MAPTABLE_HASH || m->type == MAPTABLE_TEXTHASH;
}

int
maptable_compile(
    const char *spec, size_t *count_out, struct buf *warn, struct buf *err)
{
	const struct maptable_limits *lim = &maptable_limits_default;
	struct maptable_data *d;
	enum maptable_type type;
	const char *path;
	struct stat sb;
	char *db_path;
	int ret = -1;

	if (maptable_spec_parse(spec, &type, &path, err) == -1)
		return -1;
	if (stat(path, &sb) == -1) {
		maptable_seterr(
		    err, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if ((d = maptable_read_text(path, type, lim, warn, err)) == NULL)
		return -1;
	if (type == MAPTABLE_HASH) {
		db_path = xasprintf("%s.db", path);
		ret = maptable_hashdb_write(db_path, &d->text, &sb, err);
		free(db_path);
	} else
		ret = 0;
	if (ret == 0)
		*count_out = maptable_data_count(d);
	maptable_data_free(&d);
	return ret;
}
