/*
 * The AUTH failure penalty box (see auth_penalty.h): a chained hash table
 * keyed by SipHash under a random key (client addresses are chosen by
 * clients, so the table must not let them force collisions), threaded on
 * a list ordered by the last failure, most recent first. Each failure
 * drops up to a few expired entries from the old end; at the cap, the
 * oldest goes whether it expired or not.
 */
#include "auth/auth_penalty.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mw.h"
#include "lib/xalloc.h"

#define AUTH_PENALTY_BUCKETS_MIN 64
/* Expired entries dropped per failure: enough to keep up, bounded work */
#define AUTH_PENALTY_EXPIRE_STEP 8

_Static_assert(
    crypto_shorthash_BYTES == sizeof(uint64_t), "SipHash-2-4 gives 64 bits");

struct auth_penalty_entry {
	struct auth_penalty_entry *hnext;       /* bucket chain */
	struct auth_penalty_entry *prev, *next; /* by last failure */
	uint64_t hash;
	uint64_t first;        /* start of the current window */
	uint64_t banned_until; /* 0: not banned */
	uint64_t failures;     /* within the window */
	char addr[];
};

struct auth_penalty {
	uint64_t limit, window, ban, base_ms;
	size_t count, nbuckets;
	struct auth_penalty_entry **buckets;
	struct auth_penalty_entry *head, *tail;
	unsigned char key[crypto_shorthash_KEYBYTES];
};

struct auth_penalty *
auth_penalty_new(uint64_t limit, uint64_t window_secs, uint64_t ban_secs,
    uint64_t base_delay_secs)
{
	struct auth_penalty *p;

	if (sodium_init() < 0)
		log_fatal("auth: cannot initialise libsodium");
	p = xcalloc(1, sizeof(*p));
	p->limit = limit;
	p->window = window_secs;
	p->ban = ban_secs;
	/* saturate: no sane configuration comes near */
	p->base_ms = base_delay_secs > UINT64_MAX / 1000 / 16
	    ? UINT64_MAX / 16
	    : base_delay_secs * 1000;
	randombytes_buf(p->key, sizeof(p->key));
	return p;
}

void
auth_penalty_free(struct auth_penalty **pp)
{
	struct auth_penalty *p = *pp;
	struct auth_penalty_entry *e, *next;

	if (p == NULL)
		return;
	for (e = p->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	free(p->buckets);
	free(p);
	*pp = NULL;
}

size_t
auth_penalty_count(const struct auth_penalty *p)
{
	return p->count;
}

static uint64_t
auth_penalty_hash(const struct auth_penalty *p, const char *addr)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, (const unsigned char *)addr,
	    strlen(addr), p->key);
	return h;
}

static struct auth_penalty_entry *
auth_penalty_find(const struct auth_penalty *p, const char *addr, uint64_t h)
{
	struct auth_penalty_entry *e;

	if (p->nbuckets == 0)
		return NULL;
	for (e = p->buckets[h & (p->nbuckets - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && strcmp(e->addr, addr) == 0)
			return e;
	return NULL;
}

static void
auth_penalty_unlink(struct auth_penalty *p, struct auth_penalty_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		p->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		p->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
auth_penalty_push(struct auth_penalty *p, struct auth_penalty_entry *e)
{
	e->next = p->head;
	if (p->head != NULL)
		p->head->prev = e;
	p->head = e;
	if (p->tail == NULL)
		p->tail = e;
}

static void
auth_penalty_remove(struct auth_penalty *p, struct auth_penalty_entry *e)
{
	struct auth_penalty_entry **pp;

	pp = &p->buckets[e->hash & (p->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	auth_penalty_unlink(p, e);
	p->count--;
	free(e);
}

/* Whether e's window is over at now (a clock that went back counts as
 * no time passed). */
static bool
auth_penalty_window_over(const struct auth_penalty *p,
    const struct auth_penalty_entry *e, uint64_t now)
{
	return now >= e->first && now - e->first >= p->window;
}

/* Whether e no longer matters at now: its window and its ban are over. */
static bool
auth_penalty_expired(const struct auth_penalty *p,
    const struct auth_penalty_entry *e, uint64_t now)
{
	return auth_penalty_window_over(p, e, now) && now >= e->banned_until;
}

static void
auth_penalty_expire(struct auth_penalty *p, uint64_t now)
{
	int i;

	for (i = 0; i < AUTH_PENALTY_EXPIRE_STEP && p->tail != NULL; i++) {
		if (!auth_penalty_expired(p, p->tail, now))
			break;
		auth_penalty_remove(p, p->tail);
	}
}

/* Doubles the table once it holds as many entries as buckets. */
static void
auth_penalty_grow(struct auth_penalty *p)
{
	struct auth_penalty_entry **nb, *e, *next;
	size_t n, i;

	if (p->nbuckets != 0 &&
	    (p->count < p->nbuckets || p->nbuckets >= AUTH_PENALTY_MAX_ADDRS))
		return;
	n = p->nbuckets == 0 ? AUTH_PENALTY_BUCKETS_MIN : p->nbuckets * 2;
	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < p->nbuckets; i++)
		for (e = p->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(p->buckets);
	p->buckets = nb;
	p->nbuckets = n;
}

static struct auth_penalty_entry *
auth_penalty_add(
    struct auth_penalty *p, const char *addr, uint64_t h, uint64_t now)
{
	struct auth_penalty_entry *e;
	size_t n = strlen(addr);

	if (p->count >= AUTH_PENALTY_MAX_ADDRS)
		auth_penalty_remove(p, p->tail);
	auth_penalty_grow(p);
	e = xcalloc(1, sizeof(*e) + n + 1);
	memcpy(e->addr, addr, n + 1);
	e->hash = h;
	e->first = now;
	e->hnext = p->buckets[h & (p->nbuckets - 1)];
	p->buckets[h & (p->nbuckets - 1)] = e;
	auth_penalty_push(p, e);
	p->count++;
	return e;
}

uint64_t
auth_penalty_fail(struct auth_penalty *p, const char *addr, uint64_t now)
{
	struct auth_penalty_entry *e;
	uint64_t h = auth_penalty_hash(p, addr), shift;

	auth_penalty_expire(p, now);
	e = auth_penalty_find(p, addr, h);
	if (e == NULL)
		e = auth_penalty_add(p, addr, h, now);
	else if (now < e->banned_until)
		return p->base_ms * AUTH_PENALTY_DELAY_FACTOR_MAX;
	else if (e->banned_until != 0 || auth_penalty_window_over(p, e, now)) {
		/* a new window, or a fresh start once a ban is over */
		e->first = now;
		e->failures = 0;
		e->banned_until = 0;
	}
	e->failures++;
	auth_penalty_unlink(p, e);
	auth_penalty_push(p, e);
	if (p->limit != 0 && p->ban != 0 && e->failures >= p->limit)
		e->banned_until = now + p->ban;
	shift = e->failures - 1 < 4 ? e->failures - 1 : 4; /* 2^4 = 16 */
	return p->base_ms << shift;
}

bool
auth_penalty_banned(struct auth_penalty *p, const char *addr, uint64_t now)
{
	struct auth_penalty_entry *e;
	uint64_t h = auth_penalty_hash(p, addr);

	e = auth_penalty_find(p, addr, h);
	if (e == NULL)
		return false;
	if (now < e->banned_until)
		return true;
	if (auth_penalty_expired(p, e, now))
		auth_penalty_remove(p, e);
	return false;
}

void
auth_penalty_success(struct auth_penalty *p, const char *addr)
{
	struct auth_penalty_entry *e;

	e = auth_penalty_find(p, addr, auth_penalty_hash(p, addr));
	if (e != NULL)
		auth_penalty_remove(p, e);
}
