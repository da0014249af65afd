/*
 * Lookup tables in Postfix's formats, named "type:path" as in main.cf:
 *
 *   hash:PATH      postmap(1) text "key value", compiled by `mailwright map
 *                  PATH` into PATH.db (SQLite); a bare PATH means hash:
 *   texthash:PATH  the same text, read directly (nothing to compile)
 *   cidr:PATH      cidr_table(5): "network/prefix value", first match wins
 *   regexp:PATH    regexp_table(5): "/pattern/flags value", first match
 *   pcre:PATH      pcre_table(5); regexp: and pcre: both use PCRE2
 *
 * An open table notices a changed file (or a new PATH.db) within a second
 * and reloads it, without a restart. When PATH.db is missing or older than
 * PATH, a hash: table reads PATH itself and logs a warning once, as
 * aliases do. A table that cannot be read or no longer parses makes every
 * lookup fail (a temporary error) until it is fixed: mail waits rather
 * than being judged by rules nobody wrote.
 *
 * What the values mean (access(5) actions, login names) is the caller's
 * business; restrict.c interprets access tables.
 */
#ifndef POLICY_MAPTABLE_H
#define POLICY_MAPTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"

struct buf;
struct maptable;
struct maptable_data;

enum maptable_type {
	MAPTABLE_HASH,
	MAPTABLE_TEXTHASH,
	MAPTABLE_CIDR,
	MAPTABLE_REGEXP,
	MAPTABLE_PCRE,
};

struct maptable_limits {
	size_t file_max;    /* bytes of one table file */
	size_t line_max;    /* one logical line, continuation lines included */
	size_t entries_max; /* entries (or rules) of one file */
};

/*
 * The defaults: files of 64 MiB and 1000000 entries (the size of a large
 * site's access or login map), logical lines of 64 KiB (a long regexp).
 */
extern const struct maptable_limits maptable_limits_default;

/* "hash", "texthash", "cidr", "regexp" or "pcre". */
const char *maptable_type_name(enum maptable_type type);

/*
 * Splits a table name: "type:path" or a bare path (hash:). On success
 * returns 0 with the type and a pointer into spec where the path starts;
 * -1 with one line in err for an unknown type or an empty path.
 */
int maptable_spec_parse(const char *spec, enum maptable_type *type_out,
    const char **path_out, struct buf *err) MW_MUST_CHECK;

/*
 * Opens the table spec and loads it once, so that a missing file or a
 * syntax error shows at start-up. Returns the table, or NULL with one line
 * in err ("regexp:/etc/x:3: ..." for a syntax error). Free with
 * maptable_free().
 */
struct maptable *maptable_open(const char *spec, struct buf *err);
/* maptable_open() with other limits (tests, fuzzing). */
struct maptable *maptable_open_limits(
    const char *spec, const struct maptable_limits *lim, struct buf *err);
void maptable_free(struct maptable **m);

/*
 * Looks key up. hash: and texthash: keys are folded to lowercase first
 * (postmap's default); cidr: keys are IP addresses ("192.0.2.1",
 * "2001:db8::1"); regexp: and pcre: match the key as it is, first rule
 * first. Returns 0 with the value in value_out (replacing what it held),
 * 1 when not found, -1 with one line in err when the table cannot be read
 * or matched (a temporary failure). Thread-safe: any number of threads
 * may look up one table at once.
 */
int maptable_lookup(struct maptable *m, const char *key, struct buf *value_out,
    struct buf *err) MW_MUST_CHECK;

/* The name as opened, e.g. "hash:/etc/mailwright/access". Borrowed. */
const char *maptable_spec(const struct maptable *m);
enum maptable_type maptable_type(const struct maptable *m);
/*
 * True for tables of fixed strings (hash:, texthash:), where a caller may
 * also look up partial keys (parent domains, shorter networks, "user@");
 * pattern tables only ever see the whole key (access(5)).
 */
bool maptable_is_fixed(const struct maptable *m);

/*
 * `mailwright map`: for hash:PATH, parses PATH and writes PATH.db
 * atomically (temporary file, fsync, rename, directory fsync); the .db
 * gets PATH's permissions (and its owner, when run as root). For the other
 * types it only checks the file (nothing is compiled). Returns 0 with the
 * number of entries in *count_out; -1 with one line in err ("PATH:LINE:
 * what is wrong" for a syntax error), PATH.db left as it was. Warnings
 * (duplicate keys) go to warn, one per line, when warn is not NULL.
 */
int maptable_compile(const char *spec, size_t *count_out, struct buf *warn,
    struct buf *err) MW_MUST_CHECK;

/*
 * The pure parsers behind the tables, for tests and fuzzing: no I/O, no
 * globals. Parses len bytes (need not be NUL-terminated) of a file in the
 * format of type (MAPTABLE_HASH and MAPTABLE_TEXTHASH are the same text).
 * name is used only in messages. Returns the parsed table, or NULL with one
 * line "name:line: what is wrong" in err. Warnings (a duplicate key: the
 * first wins, as in postmap) are appended to warn, one per line, when warn
 * is not NULL.
 */
struct maptable_data *maptable_data_parse(enum maptable_type type,
    const char *data, size_t len, const char *name,
    const struct maptable_limits *lim, struct buf *warn, struct buf *err);
/* maptable_lookup() over parsed data (no folding: see maptable_lookup). */
int maptable_data_lookup(const struct maptable_data *d, const char *key,
    struct buf *value_out, struct buf *err) MW_MUST_CHECK;
/* Entries of a text (hash) table, rules of a cidr or regexp table (not
 * counting if/endif lines). */
size_t maptable_data_count(const struct maptable_data *d);
void maptable_data_free(struct maptable_data **d);

#endif
