/* Address/prefix lists (see cidr.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cidr.h"
#include "lib/conf.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

struct cidr {
	int family;
	unsigned char addr[16];
	unsigned prefix;
};

struct cidr_list {
	struct cidr *v;
	size_t n;
};

static int
cidr_parse(const char *item, struct cidr *c)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *slash = strchr(item, '/');
	size_t hl = slash != NULL ? (size_t)(slash - item) : strlen(item);
	uint64_t prefix;
	unsigned max;

	/* Postfix writes IPv6 networks as [::1]/128. */
	if (hl >= 2 && item[0] == '[' && item[hl - 1] == ']') {
		item++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, item, hl);
	host[hl] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		return -1;
	c->prefix = max;
	if (slash != NULL) {
		if (parse_uint(slash + 1, 0, max, &prefix) == -1)
			return -1;
		c->prefix = (unsigned)prefix;
	}
	return 0;
}

struct cidr_list *
cidr_list_new(const struct conf_list *items, struct buf *err)
{
	struct cidr_list *l = xcalloc(1, sizeof(*l));
	size_t i;

	l->v = xcalloc(items->n, sizeof(*l->v));
	for (i = 0; i < items->n; i++) {
		if (cidr_parse(items->items[i], &l->v[l->n]) == -1) {
			(void)!buf_printf(err,
			    "%s: not an address or address/prefix",
			    items->items[i]);
			cidr_list_free(&l);
			return NULL;
		}
		l->n++;
	}
	return l;
}

void
cidr_list_free(struct cidr_list **lp)
{
	if (*lp == NULL)
		return;
	free((*lp)->v);
	free(*lp);
	*lp = NULL;
}

static bool
cidr_match_bytes(const unsigned char *a, const unsigned char *net,
    unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ net[full]) & (0xff << (8 - rest))) == 0;
}

bool
cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0xff, 0xff };
	const unsigned char *a;
	int family = sa->sa_family;
	size_t i;

	if (l == NULL)
		return false;
	if (family == AF_INET)
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)
			->sin_addr;
	else if (family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
			a += 12;
			family = AF_INET;
		}
	} else
		return false;
	for (i = 0; i < l->n; i++)
		if (l->v[i].family == family &&
		    cidr_match_bytes(a, l->v[i].addr, l->v[i].prefix))
			return true;
	return false;
}
