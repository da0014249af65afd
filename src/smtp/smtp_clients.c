/*
 * Connection counts per client address: an open-addressing hash table
 * keyed by the address text. Entries whose count drops to zero are
 * removed (backward-shift deletion), so the table holds only clients
 * that are connected now.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "smtp/smtp_clients.h"

struct client_slot {
	char *addr; /* NULL: empty */
	unsigned count;
};

struct smtp_client_count {
	struct client_slot *v;
	size_t cap, used; /* cap is a power of two */
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct smtp_client_count *
smtp_clients_new(void)
{
	struct smtp_client_count *c = xcalloc(1, sizeof(*c));

	c->cap = 64;
	c->v = xcalloc(c->cap, sizeof(*c->v));
	return c;
}

void
smtp_clients_free(struct smtp_client_count **cp)
{
	struct smtp_client_count *c = *cp;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->cap; i++)
		free(c->v[i].addr);
	free(c->v);
	free(c);
	*cp = NULL;
}

static size_t
find_slot(const struct smtp_client_count *c, const char *addr)
{
	size_t i = hash_str(addr) & (c->cap - 1);

	while (c->v[i].addr != NULL && strcmp(c->v[i].addr, addr) != 0)
		i = (i + 1) & (c->cap - 1);
	return i;
}

static void
grow(struct smtp_client_count *c)
{
	struct client_slot *old = c->v;
	size_t i, oldcap = c->cap;

	c->cap *= 2;
	c->v = xcalloc(c->cap, sizeof(*c->v));
	for (i = 0; i < oldcap; i++)
		if (old[i].addr != NULL)
			c->v[find_slot(c, old[i].addr)] = old[i];
	free(old);
}

unsigned
smtp_clients_add(struct smtp_client_count *c, const char *addr)
{
	size_t i;

	if ((c->used + 1) * 2 > c->cap)
		grow(c);
	i = find_slot(c, addr);
	if (c->v[i].addr == NULL) {
		c->v[i].addr = xstrdup(addr);
		c->used++;
	}
	return ++c->v[i].count;
}

void
smtp_clients_del(struct smtp_client_count *c, const char *addr)
{
	size_t i = find_slot(c, addr), j, k;

	if (c->v[i].addr == NULL || --c->v[i].count > 0)
		return;
	free(c->v[i].addr);
	c->v[i].addr = NULL;
	c->used--;
	/* Backward-shift the cluster behind the hole. */
	for (j = (i + 1) & (c->cap - 1); c->v[j].addr != NULL;
	     j = (j + 1) & (c->cap - 1)) {
		k = hash_str(c->v[j].addr) & (c->cap - 1);
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			c->v[i] = c->v[j];
			c->v[j].addr = NULL;
			c->v[j].count = 0;
			i = j;
		}
	}
}
