/*
 * Compiled alias maps: what newaliases writes and the resolver reads. For
 * each alias_maps element "hash:PATH" (or a plain PATH), the text file
 * PATH is compiled into PATH.db, an SQLite file with one table
 * aliases(name PRIMARY KEY, targets TEXT), written to a temporary file,
 * fsynced and renamed into place. A reader uses PATH.db when it is at
 * least as new as PATH; otherwise it warns and parses PATH itself. A
 * missing PATH means no aliases. Readers notice a new PATH or PATH.db
 * within a second, without a restart.
 */
#ifndef DELIVERY_ALIASES_DB_H
#define DELIVERY_ALIASES_DB_H

#include <stddef.h>

struct buf;
struct aliases_db;

/* The PATH of an alias_maps element ("hash:PATH" or "PATH"), malloc'd; or
 * NULL with one line in err for a map type we do not support. */
char *aliases_db_map_path(const char *spec, struct buf *err);

/*
 * newaliases for one map: compiles the text file path into path.db.
 * Returns 0 and the number of aliases in *count_out; 1 when path does not
 * exist (nothing written); -1 with one line in err ("path:line: ..." for a
 * syntax error), and path.db is left as it was.
 */
int aliases_db_compile(const char *path, size_t *count_out, struct buf *err);

/* A reader of the map whose text file is path. Nothing is read before the
 * first lookup, so this cannot fail. */
struct aliases_db *aliases_db_open(const char *path);
void aliases_db_free(struct aliases_db **db);
/*
 * Looks name (a local part, any case) up. Returns 0 with a malloc'd array
 * of malloc'd targets (as written in the file) in *targets_out and their
 * number in *n_out (release with aliases_db_targets_free); 1 when there is
 * no such alias; -1 with one line in err when the map cannot be read or
 * does not parse (a temporary failure: the admin must fix the file).
 * Thread-safe.
 */
int aliases_db_lookup(struct aliases_db *db, const char *name,
    char ***targets_out, size_t *n_out, struct buf *err);
void aliases_db_targets_free(char **targets, size_t n);

#endif
