/*
 * Compiled key-value files: an SQLite file PATH.db holding one table
 * (key TEXT PRIMARY KEY, value TEXT) that a command compiles from a text
 * file PATH, and servers read one key at a time. The file is written
 * beside its target under a temporary name, fsynced and renamed into
 * place, so readers see the old table or the new one, never half of one.
 * What the text looks like and what the values mean is the caller's
 * business (aliases_db.c, maptable_hash.c); so is the layout, given as a
 * struct kvdb_format so that each kind of file keeps its own.
 */
#ifndef LIB_KVDB_H
#define LIB_KVDB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lib/mw.h"

struct buf;
struct kvdb;

struct kvdb_format {
	/* SQL identifiers, written into the statements as they are */
	const char *table, *key_col, *value_col;
	long application_id; /* PRAGMA application_id; 0: neither set nor
	                      * checked */
	long version;        /* PRAGMA user_version */
	bool without_rowid;
};

struct kvdb_entry {
	const char *key, *value; /* keys unique */
};

/*
 * Writes the n entries of v into db_path atomically (db_path.tmp.<pid>,
 * fsync, rename, directory fsync), with permissions mode whatever the
 * umask and, when running as root and owner is not NULL, owner's uid and
 * gid. 0, or -1 with one line in err and db_path left as it was.
 */
int kvdb_write(const char *db_path, const struct kvdb_format *f,
    const struct kvdb_entry *v, size_t n, mode_t mode, const struct stat *owner,
    struct buf *err) MW_MUST_CHECK;

/*
 * Opens db_path read-only. Returns 0 with the reader in *db_out; 1 when
 * the file is not in format f (a wrong application_id or user_version, or
 * not an SQLite file), with its user_version (-1 when it has none) in
 * *version_out; -1 with one line in err when it cannot be read.
 */
int kvdb_open(const char *db_path, const struct kvdb_format *f,
    struct kvdb **db_out, long *version_out, struct buf *err) MW_MUST_CHECK;
/*
 * Looks key up (as it is: no folding). Returns 0 with the value in
 * value_out (replacing what it held); 1 when there is no such key; -1 with
 * one line in err when the file cannot be read or the value does not fit
 * value_out. Thread-safe.
 */
int kvdb_lookup(struct kvdb *db, const char *key, struct buf *value_out,
    struct buf *err) MW_MUST_CHECK;
void kvdb_free(struct kvdb **db);

/* True when a and b (stat results) are the same version of one file. */
bool kvdb_same_file(const struct stat *a, const struct stat *b);
/* True when the compiled file db is as new as its text file text or newer
 * (mtimes): false means the text has changed since it was compiled. */
bool kvdb_is_current(const struct stat *db, const struct stat *text);

#endif
