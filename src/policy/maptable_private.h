/*
 * What the lookup-table files share inside src/policy: the logical-line
 * reader every text format uses (maptable_text.c), the parsed forms of
 * each format and their parsers (maptable_text.c, maptable_cidr.c,
 * maptable_regexp.c), and the SQLite side of hash: tables
 * (maptable_hash.c). maptable.c ties them to files.
 */
#ifndef POLICY_MAPTABLE_PRIVATE_H
#define POLICY_MAPTABLE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/mw.h"
#include "policy/maptable.h"

/*
 * Reads logical lines (man 5 postconf, access(5)): a line that starts with
 * white space continues the logical line before it (the newline is
 * dropped, the white space kept); empty and white-space-only lines and
 * lines whose first non-white-space byte is '#' are skipped, also between
 * continuation lines. CRLF is accepted; NUL, a bare CR, other control
 * bytes (TAB aside) and malformed UTF-8 are errors.
 */
struct maptable_reader {
	const char *data, *name;
	size_t len, pos;
	size_t lineno; /* physical lines consumed */
	const struct maptable_limits *lim;
	struct buf line; /* the logical line, trailing white space trimmed */
	size_t line_no;  /* where it starts, from 1 */
};

void maptable_reader_init(struct maptable_reader *r, const char *data,
    size_t len, const char *name, const struct maptable_limits *lim);
/* 1 with the next logical line in r->line, 0 at the end, -1 with
 * "name:line: what is wrong" in err. */
int maptable_reader_next(struct maptable_reader *r, struct buf *err);
void maptable_reader_free(struct maptable_reader *r);

/* Replaces err's contents with one formatted line (NULL err: ignored). */
void maptable_seterr(struct buf *err, const char *fmt, ...) MW_PRINTF(2, 3);
/* How much of a bad key or pattern a message quotes. */
#define MAPTABLE_QUOTE_MAX 60
int maptable_quote_len(size_t n);
bool maptable_is_ws(char c);
/* When s starts with keyword kw (any case) not followed by a letter or a
 * digit ("if", "endif" of cidr and regexp tables): the length of kw, else
 * 0. */
size_t maptable_keyword(const char *s, const char *kw);

/*
 * The if..endif blocks of cidr and regexp tables: the parser pushes the
 * index of each "if" rule and pops it at its "endif", which sets the if's
 * skip (where to go when its condition fails).
 */
struct maptable_nest {
	size_t *open;  /* rule indices of the unclosed ifs */
	size_t *lines; /* and their line numbers */
	size_t n, cap;
};
void maptable_nest_push(struct maptable_nest *s, size_t rule, size_t line);
/* The innermost open if, or -1 when none is open. */
int maptable_nest_pop(struct maptable_nest *s, size_t *rule_out);
void maptable_nest_free(struct maptable_nest *s);
/*
 * When line s[0..len) is "endif": pops its if into *rule_out and returns
 * 1; 0 when it is another line; -1 with "name:line: ..." in err (text
 * after endif, an endif without if).
 */
int maptable_nest_endif(struct maptable_nest *s, const char *line_s, size_t len,
    size_t *rule_out, const char *name, size_t line, struct buf *err);
/* Opens the if at index rule, whose pattern is all the line holds unless
 * text_after; 0 or -1 with "name:line: ..." in err. */
int maptable_nest_if(struct maptable_nest *s, size_t rule, bool text_after,
    const char *name, size_t line, struct buf *err);

/*
 * Parses one logical line of a rules table into arg; 0 or -1 with
 * "name:line: ..." in err. Each line adds exactly one rule (if and endif
 * lines too).
 */
typedef int maptable_rules_line_fn(void *arg, struct maptable_nest *nest,
    const char *s, size_t len, const char *name, size_t line, struct buf *err);
/*
 * The parse loop of cidr and regexp tables: feeds each logical line of
 * data to line_fn, at most lim->entries_max of them, then checks that
 * every if has its endif. 0, or -1 with one line in err.
 */
int maptable_rules_parse(const char *data, size_t len, const char *name,
    const struct maptable_limits *lim, maptable_rules_line_fn *line_fn,
    void *arg, struct buf *err);

/* hash:/texthash: text, sorted by key; keys unique and lowercased. */
struct maptable_entry {
	char *key, *value;
};

struct maptable_text {
	struct maptable_entry *v;
	size_t n;
};

int maptable_text_parse(const char *data, size_t len, const char *name,
    const struct maptable_limits *lim, struct maptable_text *out,
    struct buf *warn, struct buf *err);
/* The value of key (already lowercased), or NULL. Borrowed from t. */
const char *maptable_text_find(const struct maptable_text *t, const char *key);
void maptable_text_free(struct maptable_text *t);

/* cidr: rules (opaque: maptable_cidr.c). */
struct maptable_cidr;
struct maptable_cidr *maptable_cidr_parse(const char *data, size_t len,
    const char *name, const struct maptable_limits *lim, struct buf *err);
int maptable_cidr_lookup(const struct maptable_cidr *c, const char *key,
    struct buf *value_out, struct buf *err);
size_t maptable_cidr_count(const struct maptable_cidr *c);
void maptable_cidr_free(struct maptable_cidr **c);

/* regexp: and pcre: rules (opaque: maptable_regexp.c). */
struct maptable_regexp;
struct maptable_regexp *maptable_regexp_parse(bool pcre, const char *data,
    size_t len, const char *name, const struct maptable_limits *lim,
    struct buf *err);
int maptable_regexp_lookup(const struct maptable_regexp *re, const char *key,
    struct buf *value_out, struct buf *err);
size_t maptable_regexp_count(const struct maptable_regexp *re);
void maptable_regexp_free(struct maptable_regexp **re);

/* A parsed table of any text format. */
struct maptable_data {
	enum maptable_type type;
	struct maptable_text text; /* HASH, TEXTHASH */
	struct maptable_cidr *cidr;
	struct maptable_regexp *re; /* REGEXP, PCRE */
};

/* hash: PATH.db files (maptable_hash.c). */
struct maptable_hashdb;

/* Writes t into db_path atomically, with the permissions (and, as root,
 * the owner) of the text file sb describes. 0 or -1 with one line in err. */
int maptable_hashdb_write(const char *db_path, const struct maptable_text *t,
    const struct stat *sb, struct buf *err);
/* Opens db_path for reading; NULL with one line in err. */
struct maptable_hashdb *maptable_hashdb_open(
    const char *db_path, struct buf *err);
/* Thread-safe; key already lowercased. 0 found, 1 not, -1 error. */
int maptable_hashdb_lookup(struct maptable_hashdb *h, const char *key,
    struct buf *value_out, struct buf *err);
void maptable_hashdb_free(struct maptable_hashdb **h);

#endif
