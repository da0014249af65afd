/*
 * The layers under conf_load(): the pure main.cf-syntax parser
 * (conf_parse.c), the $name expander (conf_expand.c) and the text editor
 * behind `mailwright conf -e/-X` (conf_edit.c). None of them does I/O or
 * keeps globals; limits come in a struct conf_limits, so the fuzzer and the
 * unit tests drive them directly. conf.c joins them to the parameter table.
 */
#ifndef LIB_CONF_PARSE_H
#define LIB_CONF_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"

struct buf;
struct conf;

struct conf_limits {
	size_t line_max;   /* one logical line, continuations joined */
	size_t file_max;   /* the whole file */
	size_t value_max;  /* one expanded value */
	size_t expand_max; /* all expanded values of one load together */
	size_t depth_max;  /* nesting of $name and ${name?text} */
};

/* 64 KiB lines, 4 MiB files, 1 MiB values, 16 MiB in all, 100 levels. */
extern const struct conf_limits conf_limits_default;

/* One "name = value" logical line. */
struct conf_def {
	char *name;
	char *value; /* raw: continuation lines joined with one space */
	size_t line; /* where the definition starts (1-based) */
};

/* A parsed file: its definitions in file order (a later one overrides). */
struct conf_file {
	struct conf_def *defs;
	size_t n, cap;
};

/*
 * Parses len bytes of main.cf syntax into out (which must be zeroed or
 * freed). label names the input in errors. Returns 0, or -1 with one line
 * "label:line: what is wrong" in err; out is empty then.
 */
int conf_parse(const char *label, const char *data, size_t len,
    const struct conf_limits *lim, struct conf_file *out,
    struct buf *err) MW_MUST_CHECK;
void conf_file_free(struct conf_file *f);
/* The last definition of name in f, or NULL. */
const struct conf_def *conf_file_find(
    const struct conf_file *f, const char *name);
/* True when the n bytes at s are a parameter name: [A-Za-z0-9_]+. */
bool conf_name_ok(const char *s, size_t n);

/*
 * The expander: a set of variables (the file's definitions over the table's
 * defaults), each expanded at most once and remembered. $name, ${name},
 * $(name), ${name?text} (text when name is non-empty), ${name:text} (text
 * when name is empty) and $$ (a literal $), as Postfix's mac_expand.
 */
struct conf_env;

/* Computes a variable's value on demand (e.g. mydomain from myhostname);
 * appends the expanded value to out; 0 or -1 with err set. */
typedef int conf_compute_fn(
    struct conf_env *env, struct buf *out, struct buf *err, struct buf *warn);

/* A new empty set; label names the file in errors and warnings. */
struct conf_env *conf_env_new(const char *label, const struct conf_limits *lim);
void conf_env_free(struct conf_env **env);
/* Adds or replaces a variable with a raw value; line 0 means a default. */
void conf_env_set(
    struct conf_env *env, const char *name, const char *raw, size_t line);
/* Adds or replaces a variable whose value fn computes when needed. */
void conf_env_set_computed(
    struct conf_env *env, const char *name, conf_compute_fn *fn);
bool conf_env_has(const struct conf_env *env, const char *name);
/* The label given to conf_env_new(). */
const char *conf_env_label(const struct conf_env *env);
/* The line of name's definition: 0 for a default or an unknown name. */
size_t conf_env_line(const struct conf_env *env, const char *name);
/* The raw value of name (NULL for unknown or computed names); owned by env. */
const char *conf_env_raw(const struct conf_env *env, const char *name);
/* True when some expansion so far referred to name. */
bool conf_env_referenced(const struct conf_env *env, const char *name);
/*
 * The expanded value of name, owned by env and valid until it is freed.
 * An unknown name gives "". NULL on error with one line "label:line: name:
 * what is wrong" in err. Each unknown $x adds one line to warn.
 */
const char *conf_env_expand(
    struct conf_env *env, const char *name, struct buf *err, struct buf *warn);

/*
 * Builds the variables of a load: every table parameter's default (with the
 * computed myhostname and mydomain), then f's definitions (f may be NULL
 * for the defaults alone). Lives in conf.c.
 */
struct conf_env *conf_env_build(const char *label, const struct conf_file *f,
    const struct conf_limits *lim);
/*
 * Expands and checks every table parameter of env into a new struct conf.
 * f (may be NULL) gives the names to warn about when unknown; warnings go
 * to warn, one per line. NULL with one line in err on a bad value.
 */
struct conf *conf_from_env(struct conf_env *env, const struct conf_file *f,
    struct buf *err, struct buf *warn);

/*
 * Reads path whole into data (initialised here, freed by the caller on
 * success) within lim->file_max. -1 with one line in err, "cannot read
 * PATH: reason" and a hint when the file does not exist. Lives in conf.c.
 */
int conf_read_file(const char *path, const struct conf_limits *lim,
    struct buf *data, struct buf *err) MW_MUST_CHECK;
/* Prints each line of warn to stderr as "mailwright: warning: LINE". */
void conf_print_warnings(const struct buf *warn);

/* One edit for conf_edit_text(): value NULL removes name. */
struct conf_edit {
	const char *name;
	const char *value;
};

/*
 * Applies edits to the text of a configuration file, as postconf -e/-X do:
 * every definition of an edited name (with its continuation lines) is
 * replaced by "name = value" or removed; comments, order and other lines
 * stay byte for byte; names not found are appended at the end. Later edits
 * of the same name win. The result is appended to out; 0, or -1 when out
 * is full. A name defined more than once adds a line to warn.
 */
int conf_edit_text(const char *data, size_t len, const struct conf_edit *edits,
    size_t n, struct buf *out, struct buf *warn) MW_MUST_CHECK;

#endif
