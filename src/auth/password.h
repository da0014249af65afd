/*
 * Password hashes in Dovecot's "{SCHEME}hash" form. New hashes are
 * argon2id (libsodium); imported hashes of the common schemes verify too:
 * {ARGON2ID}, {ARGON2I} (libsodium), {SHA512-CRYPT}, {SHA256-CRYPT},
 * {BLF-CRYPT}, {CRYPT} (libxcrypt crypt_rn) and {PLAIN} (for migrations).
 * Hashing and verifying cost tens of milliseconds on purpose: call them
 * from a worker thread, never from an event loop. All functions are
 * thread-safe.
 */
#ifndef AUTH_PASSWORD_H
#define AUTH_PASSWORD_H

#include <stdbool.h>

#include "lib/mw.h"

/*
 * Hashes password with argon2id: "{ARGON2ID}$argon2id$v=19$m=32768,t=2,
 * p=1$salt$hash". Returns a malloc'd string the caller frees, or NULL
 * (errno set) when libsodium cannot run (out of memory, EINVAL for an
 * empty password).
 */
char *password_hash(const char *password) MW_MUST_CHECK;
/*
 * Checks password against a stored "{SCHEME}..." hash in constant time.
 * Returns 0 on a match, 1 on a mismatch (also for an empty password), -1
 * when the scheme is unknown or the hash is malformed.
 */
int password_verify(const char *stored, const char *password) MW_MUST_CHECK;
/* True when stored is a well-formed hash of a supported scheme (for
 * validating imported hashes before they are stored). */
bool password_scheme_ok(const char *stored);
/* The scheme name of stored ("ARGON2ID", "SHA512-CRYPT", ...): a static
 * string, or NULL when stored has no known "{SCHEME}" prefix. */
const char *password_scheme(const char *stored);

#endif
