/*
 * Password verification with a credential cache (see auth_verify.h). The
 * cache is a chained hash table (SipHash under a random key) threaded on
 * an LRU list, under one mutex; the database lookup and the hashing run
 * outside the lock, so that threads verify in parallel.
 */
#include "auth/auth_verify.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/password.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

/* RFC 5321 4.5.3.1.3: a path holds at most 256 octets, an address less;
 * SASL identities are at most 255 (RFC 4616 2) */
#define AUTH_USER_MAX 255
/* Stored hashes are short (argon2id < 128, SCRAM < 300 octets) */
#define AUTH_HASH_MAX    4096
#define AUTH_BUCKETS_MIN 64

_Static_assert(
    crypto_shorthash_BYTES == sizeof(uint64_t), "SipHash-2-4 gives 64 bits");

/*
 * What an unknown user is checked against, so that the answer takes as
 * long as for a known one: an argon2id hash with password_hash's
 * parameters (of a password nobody uses: it only burns the same time).
 */
#define AUTH_DUMMY_HASH                                                        \
	"{ARGON2ID}$argon2id$v=19$m=32768,t=2,p=1$iIvBZ4d8AWwZjAFIWrIlkw$"     \
	"aQXmVo26dvIpu+dyb6kLDCjeWSe4iJ3rnhzPPLYsuDA"

struct auth_cache_entry {
	struct auth_cache_entry *hnext;       /* bucket chain */
	struct auth_cache_entry *prev, *next; /* LRU: most recent first */
	uint64_t hash;
	char *user;   /* lowercased: lookups are case-insensitive */
	char *stored; /* the hash the password was verified against */
	unsigned char
	    mac[crypto_generichash_BYTES]; /* keyed, of the password */
};

struct auth_verifier {
	struct accounts *a;
	pthread_mutex_t lock;
	size_t cache_max, count, nbuckets;
	struct auth_cache_entry **buckets;
	struct auth_cache_entry *head, *tail;
	size_t slow_checks;
	unsigned char mac_key[crypto_generichash_KEYBYTES];
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

/* Replaces err's contents with one line (err may be NULL). */
static void auth_seterr(struct buf *err, const char *fmt, ...) MW_PRINTF(2, 3);

static void
auth_seterr(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	buf_reset(err);
	va_start(ap, fmt);
	if (buf_vprintf(err, fmt, ap) == -1)
		buf_reset(err); /* past err's ceiling: no reason then */
	va_end(ap);
}

struct auth_verifier *
auth_verifier_new(struct accounts *a, size_t cache_size)
{
	struct auth_verifier *v;

	if (sodium_init() < 0)
		log_fatal("auth: cannot initialise libsodium");
	v = xcalloc(1, sizeof(*v));
	v->a = a;
	v->cache_max = cache_size;
	MW_ASSERT(pthread_mutex_init(&v->lock, NULL) == 0);
	randombytes_buf(v->mac_key, sizeof(v->mac_key));
	randombytes_buf(v->hash_key, sizeof(v->hash_key));
	return v;
}

static void
auth_entry_free(struct auth_cache_entry *e)
{
	sodium_memzero(e->mac, sizeof(e->mac));
	free(e->user);
	free(e->stored);
	free(e);
}

void
auth_verifier_free(struct auth_verifier **vp)
{
	struct auth_verifier *v = *vp;
	struct auth_cache_entry *e, *next;

	if (v == NULL)
		return;
	for (e = v->head; e != NULL; e = next) {
		next = e->next;
		auth_entry_free(e);
	}
	free(v->buckets);
	(void)pthread_mutex_destroy(&v->lock);
	sodium_memzero(v, sizeof(*v));
	free(v);
	*vp = NULL;
}

size_t
auth_verifier_slow_checks(struct auth_verifier *v)
{
	size_t n;

	MW_ASSERT(pthread_mutex_lock(&v->lock) == 0);
	n = v->slow_checks;
	MW_ASSERT(pthread_mutex_unlock(&v->lock) == 0);
	return n;
}

/* The cache key: the user name lowercased (ASCII, as accounts compares). */
static char *
auth_key(const char *user)
{
	char *k = xstrdup(user);

	ascii_lower(k);
	return k;
}

/* Under the lock from here to auth_cache_put. */
static struct auth_cache_entry *
auth_cache_find(struct auth_verifier *v, const char *key, uint64_t h)
{
	struct auth_cache_entry *e;

	if (v->nbuckets == 0)
		return NULL;
	for (e = v->buckets[h & (v->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && strcmp(e->user, key) == 0)
			return e;
	return NULL;
}

static void
auth_lru_unlink(struct auth_verifier *v, struct auth_cache_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		v->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		v->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
auth_lru_push(struct auth_verifier *v, struct auth_cache_entry *e)
{
	e->prev = NULL;
	e->next = v->head;
	if (v->head != NULL)
		v->head->prev = e;
	v->head = e;
	if (v->tail == NULL)
		v->tail = e;
}

static void
auth_cache_remove(struct auth_verifier *v, struct auth_cache_entry *e)
{
	struct auth_cache_entry **pp;

	pp = &v->buckets[e->hash & (v->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	auth_lru_unlink(v, e);
	v->count--;
	auth_entry_free(e);
}

/* Doubles the table (powers of two) once it holds as many entries as
 * buckets, up to the cache size. */
static void
auth_cache_grow(struct auth_verifier *v)
{
	struct auth_cache_entry **nb, *e, *next;
	size_t n, i;

	if (v->nbuckets != 0 &&
	    (v->count < v->nbuckets || v->nbuckets >= v->cache_max))
		return;
	n = v->nbuckets == 0 ? AUTH_BUCKETS_MIN : v->nbuckets * 2;
	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < v->nbuckets; i++)
		for (e = v->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(v->buckets);
	v->buckets = nb;
	v->nbuckets = n;
}

/* Records a successful verification: a new entry, or the same one with
 * the new stored hash and password. Evicts the least recently used. */
static void
auth_cache_put(struct auth_verifier *v, char *key, uint64_t h,
    const char *stored, const unsigned char *mac)
{
	struct auth_cache_entry *e;

	e = auth_cache_find(v, key, h);
	if (e != NULL) {
		free(key);
		if (strcmp(e->stored, stored) != 0) {
			free(e->stored);
			e->stored = xstrdup(stored);
		}
		memcpy(e->mac, mac, sizeof(e->mac));
		auth_lru_unlink(v, e);
		auth_lru_push(v, e);
		return;
	}
	if (v->count >= v->cache_max)
		auth_cache_remove(v, v->tail);
	auth_cache_grow(v);
	e = xcalloc(1, sizeof(*e));
	e->hash = h;
	e->user = key;
	e->stored = xstrdup(stored);
	memcpy(e->mac, mac, sizeof(e->mac));
	e->hnext = v->buckets[h & (v->nbuckets - 1)];
	v->buckets[h & (v->nbuckets - 1)] = e;
	auth_lru_push(v, e);
	v->count++;
}

/*
 * The cache's verdict: true on a hit (the same password verified against
 * this very stored hash before). A stale entry (another stored hash) is
 * dropped.
 */
static bool
auth_cache_check(struct auth_verifier *v, const char *key, uint64_t h,
    const char *stored, const unsigned char *mac)
{
	struct auth_cache_entry *e;
	bool hit = false;

	e = auth_cache_find(v, key, h);
	if (e == NULL)
		return false;
	if (strcmp(e->stored, stored) != 0)
		auth_cache_remove(v, e); /* password changed */
	else if (sodium_memcmp(e->mac, mac, sizeof(e->mac)) == 0) {
		auth_lru_unlink(v, e);
		auth_lru_push(v, e);
		hit = true;
	}
	return hit;
}

/* Drops key's entry, if any (the user is gone). */
static void
auth_cache_forget(struct auth_verifier *v, const char *key, uint64_t h)
{
	struct auth_cache_entry *e = auth_cache_find(v, key, h);

	if (e != NULL)
		auth_cache_remove(v, e);
}

/* Runs password_verify and counts it. */
static int
auth_slow_verify(
    struct auth_verifier *v, const char *stored, const char *password)
{
	MW_ASSERT(pthread_mutex_lock(&v->lock) == 0);
	v->slow_checks++;
	MW_ASSERT(pthread_mutex_unlock(&v->lock) == 0);
	return password_verify(stored, password);
}

int
auth_verify(struct auth_verifier *v, const char *user, const char *password,
    struct buf *err)
{
	unsigned char mac[crypto_generichash_BYTES];
	struct buf stored;
	char *key = NULL;
	uint64_t h = 0;
	bool hit;
	int r, ret = 1;

	buf_init(&stored, AUTH_HASH_MAX);
	if (user == NULL || password == NULL || user[0] == '\0' ||
	    strlen(user) > AUTH_USER_MAX) {
		auth_seterr(err, "invalid user name");
		return 1;
	}
	r = accounts_user_get(v->a, user, &stored, err);
	if (r == ACCOUNTS_ERROR) {
		ret = -1;
		goto out;
	}
	if (v->cache_max > 0) {
		key = auth_key(user);
		crypto_shorthash((unsigned char *)&h,
		    (const unsigned char *)key, strlen(key), v->hash_key);
	}
	if (r == ACCOUNTS_NOTFOUND) {
		if (key != NULL) {
			MW_ASSERT(pthread_mutex_lock(&v->lock) == 0);
			auth_cache_forget(v, key, h);
			MW_ASSERT(pthread_mutex_unlock(&v->lock) == 0);
		}
		(void)auth_slow_verify(v, AUTH_DUMMY_HASH, password);
		auth_seterr(err, "unknown user");
		goto out;
	}
	crypto_generichash(mac, sizeof(mac), (const unsigned char *)password,
	    strlen(password), v->mac_key, sizeof(v->mac_key));
	if (key != NULL) {
		MW_ASSERT(pthread_mutex_lock(&v->lock) == 0);
		hit = auth_cache_check(v, key, h, buf_cstr(&stored), mac);
		MW_ASSERT(pthread_mutex_unlock(&v->lock) == 0);
		if (hit) {
			ret = 0;
			goto out;
		}
	}
	r = auth_slow_verify(v, buf_cstr(&stored), password);
	if (r == -1) {
		auth_seterr(err, "unusable password hash (scheme %s)",
		    password_scheme(buf_cstr(&stored)) != NULL
		        ? password_scheme(buf_cstr(&stored))
		        : "unknown");
		goto out;
	}
	if (r == 1) {
		auth_seterr(err, "wrong password");
		goto out;
	}
	if (key != NULL) {
		MW_ASSERT(pthread_mutex_lock(&v->lock) == 0);
		auth_cache_put(v, key, h, buf_cstr(&stored), mac);
		MW_ASSERT(pthread_mutex_unlock(&v->lock) == 0);
		key = NULL; /* the cache owns it */
	}
	ret = 0;
out:
	sodium_memzero(mac, sizeof(mac));
	free(key);
	buf_wipe(&stored);
	buf_free(&stored);
	return ret;
}

int
auth_lookup_scram(struct auth_verifier *v, const char *user,
    struct buf *stored_out, struct buf *err)
{
	struct password_scram sc;
	struct buf stored;
	int r, ret = 1;

	if (user == NULL || user[0] == '\0' || strlen(user) > AUTH_USER_MAX) {
		auth_seterr(err, "invalid user name");
		return 1;
	}
	buf_init(&stored, AUTH_HASH_MAX);
	r = accounts_user_get(v->a, user, &stored, err);
	if (r == ACCOUNTS_ERROR) {
		ret = -1;
		goto out;
	}
	if (r == ACCOUNTS_NOTFOUND) {
		auth_seterr(err, "unknown user");
		goto out;
	}
	if (password_scram_parse(buf_cstr(&stored), &sc) == -1) {
		auth_seterr(err, "no SCRAM-SHA-256 credentials");
		goto out;
	}
	sodium_memzero(&sc, sizeof(sc));
	if (buf_append(stored_out, stored.data, stored.len) == -1) {
		auth_seterr(err, "SCRAM credentials too long");
		ret = -1;
		goto out;
	}
	ret = 0;
out:
	buf_wipe(&stored);
	buf_free(&stored);
	return ret;
}
