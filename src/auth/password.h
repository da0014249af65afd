/*
 * Password hashes in Dovecot's "{SCHEME}hash" form. New hashes are
 * argon2id (libsodium); imported hashes of the common schemes verify too:
 * {ARGON2ID}, {ARGON2I} (libsodium), {SHA512-CRYPT}, {SHA256-CRYPT},
 * {BLF-CRYPT}, {CRYPT} (libxcrypt crypt_rn), {SCRAM-SHA-256} (Dovecot's
 * SCRAM credentials, which also serve the SASL mechanism of that name) and
 * {PLAIN} (for migrations).
 * Hashing and verifying cost tens of milliseconds on purpose: call them
 * from a worker thread, never from an event loop. All functions are
 * thread-safe.
 */
#ifndef AUTH_PASSWORD_H
#define AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

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

/*
 * Hashes password with a named scheme: "ARGON2ID" (as password_hash) or
 * "SCRAM-SHA-256" (random 16-byte salt, PASSWORD_SCRAM_ITER_DEFAULT
 * iterations). Returns a malloc'd string the caller frees, or NULL with
 * errno EINVAL for an unknown scheme, an empty password, or a password
 * SCRAM cannot take (see password_scram_make).
 */
char *password_hash_scheme(
    const char *password, const char *scheme) MW_MUST_CHECK;

/*
 * SCRAM-SHA-256 credentials (RFC 5802 3, RFC 7677) in Dovecot's form:
 * "{SCRAM-SHA-256}<iter>,<salt-b64>,<StoredKey-b64>,<ServerKey-b64>".
 * Dovecot writes 4096 iterations and 16 bytes of salt; RFC 7677 4 asks
 * for at least 4096 iterations; the upper bound keeps one PLAIN login
 * against an imported hash below a few seconds of CPU.
 */
#define PASSWORD_SCRAM_KEY_LEN      32 /* SHA-256 */
#define PASSWORD_SCRAM_SALT_MIN     8
#define PASSWORD_SCRAM_SALT_MAX     128
#define PASSWORD_SCRAM_ITER_MIN     4096
#define PASSWORD_SCRAM_ITER_MAX     10000000
#define PASSWORD_SCRAM_ITER_DEFAULT 4096

struct password_scram {
	unsigned int iter;
	size_t salt_len;
	unsigned char salt[PASSWORD_SCRAM_SALT_MAX];
	unsigned char stored_key[PASSWORD_SCRAM_KEY_LEN];
	unsigned char server_key[PASSWORD_SCRAM_KEY_LEN];
};

/* Parses a whole "{SCRAM-SHA-256}..." string into out. 0, or -1 when it is
 * another scheme or malformed (out is then zeroed). */
int password_scram_parse(
    const char *stored, struct password_scram *out) MW_MUST_CHECK;
/*
 * Builds "{SCRAM-SHA-256}..." for password with the given salt and
 * iteration count (both within the bounds above). SaltedPassword is
 * PBKDF2-HMAC-SHA-256 of the password as given: our SASLprep (RFC 4013)
 * is limited to ASCII, it refuses the control characters it prohibits
 * (U+0000-U+001F, U+007F) and takes other text unchanged, which is what
 * SASLprep gives for printable ASCII and for NFKC-normalised text (as
 * Dovecot, which applies no SASLprep). Malformed UTF-8 is refused. Returns
 * a malloc'd string, or NULL with errno EINVAL.
 */
char *password_scram_make(const char *password, const void *salt,
    size_t salt_len, unsigned int iter) MW_MUST_CHECK;
/* Whether password passes the limited SASLprep above (not empty either). */
bool password_scram_prep_ok(const char *password, size_t len);

#endif
