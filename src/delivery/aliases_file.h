/*
 * The pure parser of the /etc/aliases format (man 5 aliases): "name:
 * target, target", '#' comment lines, continuation lines that start with
 * white space, quoted names. Targets are local names or addresses;
 * ":include:", "|command" and "/file" targets are refused with a line-
 * numbered error (not supported yet). No I/O, no globals: aliases_db.c
 * reads the file and compiles the result.
 */
#ifndef DELIVERY_ALIASES_FILE_H
#define DELIVERY_ALIASES_FILE_H

#include <stddef.h>

struct buf;

struct aliases_limits {
	size_t line_max;    /* one logical line, continuations included */
	size_t name_max;    /* one alias name, unquoted */
	size_t target_max;  /* one target as written */
	size_t targets_max; /* targets of one alias */
	size_t entries_max; /* aliases in one file */
};

/*
 * The defaults: a logical line of 64 KiB; a name of 64 octets and a target
 * of 256 (RFC 5321 4.5.3.1.1 local part and 4.5.3.1.3 path); 1000 targets
 * (Postfix's virtual_alias_expansion_limit); 1000000 aliases.
 */
extern const struct aliases_limits aliases_limits_default;

struct aliases_entry {
	char *name;     /* unquoted and lowercased */
	char **targets; /* as written (quotes kept), in file order */
	size_t ntargets;
	size_t line; /* where the entry starts, from 1 */
};

/* The aliases of one file, sorted by name; names are unique. */
struct aliases {
	struct aliases_entry *v;
	size_t n;
};

/*
 * Parses len bytes of data (need not be NUL-terminated). name is used only
 * in error messages. On success fills *out (release with aliases_free) and
 * returns 0; on error returns -1 with one line "name:line: what is wrong"
 * in err, and *out is empty.
 */
int aliases_file_parse(const char *data, size_t len, const char *name,
    const struct aliases_limits *lim, struct aliases *out, struct buf *err);
/*
 * Splits a target list "a, b,\"c, d\"@x" at commas outside quotes. Empty
 * elements are skipped. Checks each target as the file parser does. On
 * success returns 0 and a malloc'd array of malloc'd strings in
 * *targets_out (free each, then the array; NULL when *n_out is 0); on
 * error -1 with one line (what is wrong, no position) in err and nothing
 * allocated.
 */
int aliases_targets_parse(const char *s, size_t len,
    const struct aliases_limits *lim, char ***targets_out, size_t *n_out,
    struct buf *err);
/* The entry named name (any case), or NULL. Borrowed from a. */
const struct aliases_entry *aliases_find(
    const struct aliases *a, const char *name);
void aliases_free(struct aliases *a);

#endif
