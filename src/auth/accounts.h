/*
 * The accounts database (accounts.db, SQLite in WAL mode): domains, users
 * with password hashes, aliases. This narrow interface is all the rest of
 * the code sees, so that PostgreSQL can serve the same data later.
 * Addresses are stored normalised: local part as given (lowercased for
 * lookups), domain lowercased. A handle is safe to use from several threads
 * (the connection is opened in serialized mode); calls block on I/O, so an
 * event loop calls them from a worker thread.
 */
#ifndef AUTH_ACCOUNTS_H
#define AUTH_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"

struct buf;
struct accounts;

enum accounts_result {
	ACCOUNTS_OK = 0,
	ACCOUNTS_NOTFOUND = 1,
	ACCOUNTS_EXISTS = 2,
	ACCOUNTS_ERROR = -1, /* temporary: I/O, busy; message in err */
};

/* Opens (create: and creates the schema of) the database. NULL with a
 * one-line reason in err on failure. */
struct accounts *accounts_open(const char *path, bool create,
    struct buf *err);
void accounts_close(struct accounts **a);

int accounts_domain_add(struct accounts *a, const char *domain,
    struct buf *err);
int accounts_domain_del(struct accounts *a, const char *domain,
    struct buf *err);
/* ACCOUNTS_OK when domain is one of ours, ACCOUNTS_NOTFOUND otherwise. */
int accounts_domain_exists(struct accounts *a, const char *domain,
    struct buf *err);
/* Appends each domain and a '\n' to out. */
int accounts_domain_list(struct accounts *a, struct buf *out,
    struct buf *err);

/* address is "local@domain"; the domain must exist. hash is a stored
 * password hash ("{ARGON2ID}$argon2id$..."). */
int accounts_user_add(struct accounts *a, const char *address,
    const char *hash, struct buf *err);
int accounts_user_del(struct accounts *a, const char *address,
    struct buf *err);
int accounts_user_set_password(struct accounts *a, const char *address,
    const char *hash, struct buf *err);
/* ACCOUNTS_OK and the stored hash in hash_out (may be NULL), or
 * ACCOUNTS_NOTFOUND. Lookup is case-insensitive. */
int accounts_user_get(struct accounts *a, const char *address,
    struct buf *hash_out, struct buf *err);
/* Appends each user address and a '\n' to out (domain may be NULL = all). */
int accounts_user_list(struct accounts *a, const char *domain,
    struct buf *out, struct buf *err);

/* Adds targets (each an address) to the alias address. */
int accounts_alias_add(struct accounts *a, const char *address,
    const char *const *targets, size_t ntargets, struct buf *err);
int accounts_alias_del(struct accounts *a, const char *address,
    struct buf *err);
/* Appends each target and a '\n' to out; ACCOUNTS_NOTFOUND if no alias. */
int accounts_alias_get(struct accounts *a, const char *address,
    struct buf *out, struct buf *err);
/* Appends "address: target, target\n" lines to out. */
int accounts_alias_list(struct accounts *a, struct buf *out,
    struct buf *err);

#endif
