/*
 * Password hashing and verification (see password.h). New hashes use
 * libsodium's argon2id; verification also accepts the schemes Dovecot
 * installations commonly hold, so that their users can be imported
 * unchanged and rehashed at the next password change.
 *
 * Cost of a new hash: argon2id with t=2 passes over m=32 MiB, p=1. On the
 * AMD EPYC build machine one hash (= one verification) takes about 35 ms:
 * inside the 20-50 ms budget for a login, and at or above OWASP's argon2id
 * minimum (m=19 MiB, t=2). Each concurrent verification holds 32 MiB, so
 * the number of auth worker threads bounds that memory. Stored hashes carry
 * their own parameters, so changing these figures never breaks old hashes.
 *
 * {SCRAM-SHA-256} credentials cost PBKDF2-HMAC-SHA-256 over their
 * iteration count to verify (about 1 ms for 4096 rounds); they are what an
 * administrator stores for users who log in with SCRAM-SHA-256, whose
 * exchange never sends the password. They are weaker against offline
 * guessing than argon2id, which is why they are not the default.
 */
#include "auth/password.h"

#include <crypt.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

#define PASSWORD_OPSLIMIT 2ULL
#define PASSWORD_MEMLIMIT ((size_t)32 * 1024 * 1024)

/* Upper bounds for argon2 parameters read from a stored hash: an imported
 * hash must not make one login allocate gigabytes or spin for minutes. */
#define PASSWORD_ARGON2_M_MAX (1024ULL * 1024) /* KiB: 1 GiB */
#define PASSWORD_ARGON2_T_MAX 64ULL
#define PASSWORD_ARGON2_P_MAX 64ULL

enum password_kind {
	PASSWORD_KIND_ARGON2ID,
	PASSWORD_KIND_ARGON2I,
	PASSWORD_KIND_CRYPT,
	PASSWORD_KIND_SCRAM_SHA256,
	PASSWORD_KIND_PLAIN,
};

struct password_scheme_def {
	const char *name;
	enum password_kind kind;
};

// clang-format off
static const struct password_scheme_def password_schemes[] = {
	{ "ARGON2ID",     PASSWORD_KIND_ARGON2ID },
	{ "ARGON2I",      PASSWORD_KIND_ARGON2I },
	{ "SHA512-CRYPT", PASSWORD_KIND_CRYPT },
	{ "SHA256-CRYPT", PASSWORD_KIND_CRYPT },
	{ "BLF-CRYPT",    PASSWORD_KIND_CRYPT },
	{ "CRYPT",        PASSWORD_KIND_CRYPT },
	{ "SCRAM-SHA-256", PASSWORD_KIND_SCRAM_SHA256 },
	{ "PLAIN",        PASSWORD_KIND_PLAIN },
};
// clang-format on

/* Finds the "{SCHEME}" prefix of stored; *body_out points after it. */
static const struct password_scheme_def *
password_scheme_find(const char *stored, const char **body_out)
{
	const char *end;
	size_t i, n;

	if (stored == NULL || stored[0] != '{')
		return NULL;
	end = strchr(stored, '}');
	if (end == NULL)
		return NULL;
	n = (size_t)(end - stored - 1);
	for (i = 0; i < MW_NELEM(password_schemes); i++) {
		/* Dovecot: scheme names are case-insensitive */
		if (strlen(password_schemes[i].name) == n &&
		    ascii_eq_n(password_schemes[i].name, stored + 1, n)) {
			*body_out = end + 1;
			return &password_schemes[i];
		}
	}
	return NULL;
}

/* One "<key>=<decimal>" parameter of an argon2 string; advances *p. */
static int
password_argon2_param(const char **p, char key, uint64_t max, char sep)
{
	const char *s = *p, *e;
	uint64_t v;

	if (s[0] != key || s[1] != '=')
		return -1;
	s += 2;
	for (e = s; *e >= '0' && *e <= '9'; e++)
		;
	if (*e != sep || parse_uint_n(s, (size_t)(e - s), 1, max, &v) == -1)
		return -1;
	*p = e + 1;
	return 0;
}

/* A run of unpadded base64 (RFC 4648 4) ending at sep (or at the NUL). */
static int
password_b64_run(const char **p, char sep)
{
	const char *s = *p;
	size_t n = 0;

	while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	    (*s >= '0' && *s <= '9') || *s == '+' || *s == '/') {
		s++;
		n++;
	}
	/* at least 8 bytes of salt or hash: 11 base64 characters */
	if (n < 11 || *s != sep)
		return -1;
	*p = sep == '\0' ? s : s + 1;
	return 0;
}

/*
 * The PHC string format libsodium writes and reads:
 * "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>".
 */
static int
password_argon2_check(const char *body, const char *alg)
{
	const char *p = body;
	size_t n = strlen(alg);

	/* libsodium's strings, ours included, fit in crypto_pwhash_STRBYTES */
	if (strlen(body) >= crypto_pwhash_STRBYTES)
		return -1;
	if (p[0] != '$' || strncmp(p + 1, alg, n) != 0 || p[n + 1] != '$')
		return -1;
	p += n + 2;
	if (strncmp(p, "v=19$", 5) != 0) /* Argon2 version 1.3 only */
		return -1;
	p += 5;
	if (password_argon2_param(&p, 'm', PASSWORD_ARGON2_M_MAX, ',') == -1 ||
	    password_argon2_param(&p, 't', PASSWORD_ARGON2_T_MAX, ',') == -1 ||
	    password_argon2_param(&p, 'p', PASSWORD_ARGON2_P_MAX, '$') == -1)
		return -1;
	if (password_b64_run(&p, '$') == -1 || password_b64_run(&p, '\0') == -1)
		return -1;
	return 0;
}

/* The setting prefix each crypt scheme requires, as Dovecot maps them. */
static int
password_crypt_prefix_ok(const char *name, const char *body)
{
	if (strcmp(name, "SHA512-CRYPT") == 0)
		return strncmp(body, "$6$", 3) == 0 ? 0 : -1;
	if (strcmp(name, "SHA256-CRYPT") == 0)
		return strncmp(body, "$5$", 3) == 0 ? 0 : -1;
	if (strcmp(name, "BLF-CRYPT") == 0)
		return strncmp(body, "$2a$", 4) == 0 ||
		        strncmp(body, "$2b$", 4) == 0 ||
		        strncmp(body, "$2y$", 4) == 0
		    ? 0
		    : -1;
	return body[0] != '\0' ? 0 : -1; /* {CRYPT}: whatever crypt knows */
}

/*
 * Runs crypt_rn(password, body) and compares the result with body in
 * constant time. 0 match, 1 mismatch, -1 when libxcrypt rejects the
 * setting or the stored string is not a complete hash (the output of a
 * well-formed setting always has the stored hash's length).
 */
static int
password_crypt_verify(const char *body, const char *password)
{
	struct crypt_data *cd;
	const char *out;
	size_t n = strlen(body);
	int ret = -1;

	cd = xcalloc(1, sizeof(*cd));
	out = crypt_rn(password, body, cd, (int)sizeof(*cd));
	if (out == NULL || out[0] == '*' || strlen(out) != n)
		goto out;
	ret = sodium_memcmp(out, body, n) == 0 ? 0 : 1;
out:
	sodium_memzero(cd, sizeof(*cd));
	free(cd);
	return ret;
}

/*
 * libsodium declares the hash argument as char[crypto_pwhash_STRBYTES]:
 * hand it a buffer of that size. The form was checked before, so a
 * failure is a mismatch.
 */
static int
password_argon2_verify(
    enum password_kind kind, const char *body, const char *password)
{
	char str[crypto_pwhash_STRBYTES];
	size_t n = strlen(body);
	int r;

	memset(str, 0, sizeof(str));
	memcpy(str, body, n);
	if (kind == PASSWORD_KIND_ARGON2ID)
		r = crypto_pwhash_argon2id_str_verify(
		    str, password, strlen(password));
	else
		r = crypto_pwhash_argon2i_str_verify(
		    str, password, strlen(password));
	return r == 0 ? 0 : 1;
}

/* Compares two strings of any lengths in constant time: by their BLAKE2b
 * digests, so that neither content nor length leaks through timing. */
static int
password_plain_verify(const char *body, const char *password)
{
	unsigned char a[crypto_generichash_BYTES];
	unsigned char b[crypto_generichash_BYTES];
	int ret;

	crypto_generichash(
	    a, sizeof(a), (const unsigned char *)body, strlen(body), NULL, 0);
	crypto_generichash(b, sizeof(b), (const unsigned char *)password,
	    strlen(password), NULL, 0);
	ret = sodium_memcmp(a, b, sizeof(a)) == 0 ? 0 : 1;
	sodium_memzero(a, sizeof(a));
	sodium_memzero(b, sizeof(b));
	return ret;
}

/* One base64 field of SCRAM credentials, s[0..n), into p[0..want) (exact
 * length) or, when want is 0, into p[0..max) with its length in *len_out. */
static int
password_scram_field(const char *s, size_t n, unsigned char *p, size_t want,
    size_t min, size_t max, size_t *len_out)
{
	struct buf b;
	int ret = -1;

	buf_init(&b, max);
	if (base64_decode(&b, s, n) == -1)
		goto out;
	if (want != 0 ? b.len != want : b.len < min)
		goto out;
	memcpy(p, b.data, b.len);
	if (len_out != NULL)
		*len_out = b.len;
	ret = 0;
out:
	buf_wipe(&b);
	buf_free(&b);
	return ret;
}

/* The body after "{SCRAM-SHA-256}": "<iter>,<salt>,<StoredKey>,<ServerKey>"
 * (Dovecot's password-scheme-scram.c writes exactly this). */
static int
password_scram_body(const char *body, struct password_scram *out)
{
	const char *f[4], *end;
	size_t n[4], i;
	uint64_t iter;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 4; i++) {
		f[i] = body;
		end = strchr(body, ',');
		if ((end == NULL) != (i == 3))
			return -1;
		n[i] = end != NULL ? (size_t)(end - body) : strlen(body);
		body = end != NULL ? end + 1 : body + n[i];
	}
	if (parse_uint_n(f[0], n[0], PASSWORD_SCRAM_ITER_MIN,
	        PASSWORD_SCRAM_ITER_MAX, &iter) == -1)
		goto bad;
	out->iter = (unsigned int)iter;
	if (password_scram_field(f[1], n[1], out->salt, 0,
	        PASSWORD_SCRAM_SALT_MIN, PASSWORD_SCRAM_SALT_MAX,
	        &out->salt_len) == -1 ||
	    password_scram_field(f[2], n[2], out->stored_key,
	        PASSWORD_SCRAM_KEY_LEN, 0, PASSWORD_SCRAM_KEY_LEN,
	        NULL) == -1 ||
	    password_scram_field(f[3], n[3], out->server_key,
	        PASSWORD_SCRAM_KEY_LEN, 0, PASSWORD_SCRAM_KEY_LEN, NULL) == -1)
		goto bad;
	return 0;
bad:
	sodium_memzero(out, sizeof(*out));
	return -1;
}

bool
password_scram_prep_ok(const char *password, size_t len)
{
	size_t i, n;

	if (len == 0)
		return false;
	for (i = 0; i < len; i += n) {
		unsigned char c = (unsigned char)password[i];

		/* RFC 4013 2.3 (RFC 3454 C.2.1): ASCII control characters */
		if (c < 0x20 || c == 0x7f)
			return false;
		n = mailaddr_utf8_len(password + i, len - i);
		if (n == 0)
			return false;
	}
	return true;
}

/*
 * RFC 5802 3: SaltedPassword := Hi(password, salt, i) (PBKDF2 with HMAC),
 * ClientKey := HMAC(SaltedPassword, "Client Key"), StoredKey :=
 * H(ClientKey), ServerKey := HMAC(SaltedPassword, "Server Key").
 */
static int
password_scram_keys(const char *password, const unsigned char *salt,
    size_t salt_len, unsigned int iter,
    unsigned char stored_key[PASSWORD_SCRAM_KEY_LEN],
    unsigned char server_key[PASSWORD_SCRAM_KEY_LEN])
{
	unsigned char salted[PASSWORD_SCRAM_KEY_LEN];
	unsigned char client_key[PASSWORD_SCRAM_KEY_LEN];
	unsigned int len = PASSWORD_SCRAM_KEY_LEN;
	int ret = -1;

	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt,
	        (int)salt_len, (int)iter, EVP_sha256(), sizeof(salted),
	        salted) != 1)
		goto out;
	if (HMAC(EVP_sha256(), salted, sizeof(salted),
	        (const unsigned char *)"Client Key", 10, client_key,
	        &len) == NULL)
		goto out;
	SHA256(client_key, sizeof(client_key), stored_key);
	if (server_key != NULL &&
	    HMAC(EVP_sha256(), salted, sizeof(salted),
	        (const unsigned char *)"Server Key", 10, server_key,
	        &len) == NULL)
		goto out;
	ret = 0;
out:
	sodium_memzero(salted, sizeof(salted));
	sodium_memzero(client_key, sizeof(client_key));
	return ret;
}

/* PLAIN (or LOGIN) against SCRAM credentials: recompute StoredKey. */
static int
password_scram_verify(const char *body, const char *password)
{
	struct password_scram sc;
	unsigned char stored_key[PASSWORD_SCRAM_KEY_LEN];
	int ret = -1;

	if (password_scram_body(body, &sc) == -1)
		return -1;
	if (!password_scram_prep_ok(password, strlen(password))) {
		ret = 1; /* SCRAM could never have stored it */
		goto out;
	}
	if (password_scram_keys(password, sc.salt, sc.salt_len, sc.iter,
	        stored_key, NULL) == -1)
		goto out;
	ret = sodium_memcmp(stored_key, sc.stored_key, sizeof(stored_key)) == 0
	    ? 0
	    : 1;
out:
	sodium_memzero(stored_key, sizeof(stored_key));
	sodium_memzero(&sc, sizeof(sc));
	return ret;
}

/* Checks the form of stored without running any hash. */
static const struct password_scheme_def *
password_parse(const char *stored, const char **body_out)
{
	const struct password_scheme_def *def;
	const char *body;

	def = password_scheme_find(stored, &body);
	if (def == NULL)
		return NULL;
	switch (def->kind) {
	case PASSWORD_KIND_ARGON2ID:
		if (password_argon2_check(body, "argon2id") == -1)
			return NULL;
		break;
	case PASSWORD_KIND_ARGON2I:
		if (password_argon2_check(body, "argon2i") == -1)
			return NULL;
		break;
	case PASSWORD_KIND_CRYPT:
		if (password_crypt_prefix_ok(def->name, body) == -1)
			return NULL;
		break;
	case PASSWORD_KIND_SCRAM_SHA256: {
		struct password_scram sc;
		int r = password_scram_body(body, &sc);

		sodium_memzero(&sc, sizeof(sc));
		if (r == -1)
			return NULL;
		break;
	}
	case PASSWORD_KIND_PLAIN:
		if (body[0] == '\0')
			return NULL;
		break;
	}
	*body_out = body;
	return def;
}

char *
password_hash(const char *password)
{
	char str[crypto_pwhash_STRBYTES];
	char *ret;

	if (password == NULL || password[0] == '\0') {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = ENOSYS;
		return NULL;
	}
	if (crypto_pwhash_str_alg(str, password, strlen(password),
	        PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT,
	        crypto_pwhash_ALG_ARGON2ID13) != 0) {
		errno = ENOMEM; /* libsodium fails only to allocate */
		return NULL;
	}
	/* Dovecot's form: "{ARGON2ID}" followed by libsodium's string */
	ret = xasprintf("{ARGON2ID}%s", str);
	sodium_memzero(str, sizeof(str));
	return ret;
}

int
password_verify(const char *stored, const char *password)
{
	const struct password_scheme_def *def;
	const char *body;

	def = password_parse(stored, &body);
	if (def == NULL)
		return -1;
	if (password == NULL || password[0] == '\0')
		return 1; /* an empty password never matches */
	if (sodium_init() < 0)
		return -1;
	switch (def->kind) {
	case PASSWORD_KIND_ARGON2ID:
	case PASSWORD_KIND_ARGON2I:
		return password_argon2_verify(def->kind, body, password);
	case PASSWORD_KIND_CRYPT:
		return password_crypt_verify(body, password);
	case PASSWORD_KIND_SCRAM_SHA256:
		return password_scram_verify(body, password);
	case PASSWORD_KIND_PLAIN:
		return password_plain_verify(body, password);
	}
	return -1;
}

bool
password_scheme_ok(const char *stored)
{
	const struct password_scheme_def *def;
	const char *body;

	def = password_parse(stored, &body);
	if (def == NULL)
		return false;
	/* a crypt hash is complete when hashing with it as the setting
	 * gives a string of its length (crypt_rn rejects bad settings) */
	if (def->kind == PASSWORD_KIND_CRYPT)
		return password_crypt_verify(body, "x") != -1;
	return true;
}

const char *
password_scheme(const char *stored)
{
	const struct password_scheme_def *def;
	const char *body;

	def = password_scheme_find(stored, &body);
	return def != NULL ? def->name : NULL;
}

int
password_scram_parse(const char *stored, struct password_scram *out)
{
	const struct password_scheme_def *def;
	const char *body;

	def = password_scheme_find(stored, &body);
	if (def == NULL || def->kind != PASSWORD_KIND_SCRAM_SHA256) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return password_scram_body(body, out);
}

char *
password_scram_make(
    const char *password, const void *salt, size_t salt_len, unsigned int iter)
{
	unsigned char stored_key[PASSWORD_SCRAM_KEY_LEN];
	unsigned char server_key[PASSWORD_SCRAM_KEY_LEN];
	struct buf b;
	char *ret = NULL;

	if (password == NULL ||
	    !password_scram_prep_ok(password, strlen(password)) ||
	    salt_len < PASSWORD_SCRAM_SALT_MIN ||
	    salt_len > PASSWORD_SCRAM_SALT_MAX ||
	    iter < PASSWORD_SCRAM_ITER_MIN || iter > PASSWORD_SCRAM_ITER_MAX) {
		errno = EINVAL;
		return NULL;
	}
	buf_init(&b, 1024);
	if (password_scram_keys(
	        password, salt, salt_len, iter, stored_key, server_key) == -1) {
		errno = ENOMEM; /* OpenSSL fails only to allocate here */
		goto out;
	}
	if (buf_printf(&b, "{SCRAM-SHA-256}%u,", iter) == -1 ||
	    base64_encode(&b, salt, salt_len) == -1 ||
	    buf_append_char(&b, ',') == -1 ||
	    base64_encode(&b, stored_key, sizeof(stored_key)) == -1 ||
	    buf_append_char(&b, ',') == -1 ||
	    base64_encode(&b, server_key, sizeof(server_key)) == -1)
		goto out;
	ret = buf_steal(&b);
out:
	sodium_memzero(stored_key, sizeof(stored_key));
	sodium_memzero(server_key, sizeof(server_key));
	buf_free(&b);
	return ret;
}

char *
password_hash_scheme(const char *password, const char *scheme)
{
	unsigned char salt[16]; /* as Dovecot's scram_generate() */

	if (scheme != NULL && ascii_eq(scheme, "ARGON2ID"))
		return password_hash(password);
	if (scheme == NULL || !ascii_eq(scheme, "SCRAM-SHA-256")) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = ENOSYS;
		return NULL;
	}
	randombytes_buf(salt, sizeof(salt));
	return password_scram_make(
	    password, salt, sizeof(salt), PASSWORD_SCRAM_ITER_DEFAULT);
}
