/*
 * Password verification against accounts.db with a credential cache, as
 * Dovecot's auth_cache: a user who logs in again with the same password
 * skips the deliberately slow hash (argon2id: tens of milliseconds). The
 * cache never outlives a change: every call fetches the user's current
 * stored hash (one indexed SELECT) and a cached entry counts only while
 * that hash is byte-equal to the one the password was verified against,
 * so a new password or a deleted user takes effect at once. Only
 * successful verifications are cached, and the cache keeps no password:
 * only a keyed hash of it (BLAKE2b under a per-process random key).
 *
 * All functions are thread-safe and block on SQLite and on hashing: call
 * them from worker threads, never from an event loop.
 */
#ifndef AUTH_AUTH_VERIFY_H
#define AUTH_AUTH_VERIFY_H

#include <stddef.h>

#include "lib/mw.h"

struct accounts;
struct auth_verifier;
struct buf;

/*
 * A verifier over a (borrowed) accounts handle that must outlive it,
 * keeping at most cache_size users (smtpd_auth_cache_size; 0 disables the
 * cache), least recently used first out. Free with auth_verifier_free.
 */
struct auth_verifier *auth_verifier_new(struct accounts *a, size_t cache_size);
/* Wipes the cache and the key, frees, sets *v to NULL; NULL is fine. */
void auth_verifier_free(struct auth_verifier **v);

/*
 * Checks user's password. Returns 0 when it is right; 1 when the user does
 * not exist, the password is wrong or the stored hash is unusable; -1 on
 * a temporary failure (the database: answer 454 4.7.0). On 1 and -1, err
 * (may be NULL) says why in one line for the log, never with the
 * password; the client learns only that authentication failed. An unknown
 * user costs as much as a wrong password (a dummy argon2id check), so
 * timing does not reveal which users exist.
 */
int auth_verify(struct auth_verifier *v, const char *user, const char *password,
    struct buf *err) MW_MUST_CHECK;

/*
 * For SCRAM-SHA-256: appends user's stored "{SCRAM-SHA-256}..." credentials
 * to stored_out and returns 0; 1 when the user does not exist or has no
 * usable SCRAM credentials (hand NULL to sasl_server_set_credentials
 * then); -1 on a temporary failure, with err (may be NULL) saying why.
 */
int auth_lookup_scram(struct auth_verifier *v, const char *user,
    struct buf *stored_out, struct buf *err) MW_MUST_CHECK;

/* For tests and statistics: how many password hashes were checked (the
 * slow path), cache hits excluded. */
size_t auth_verifier_slow_checks(struct auth_verifier *v);

#endif
