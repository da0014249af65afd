/*
 * cidr: tables (Postfix cidr_table(5)): rules "pattern value", "!pattern
 * value", "if pattern" .. "endif" and "if !pattern" .. "endif", where a
 * pattern is an IPv4 or IPv6 address or network/prefix (optionally in
 * "[]"), tried in file order; the first match wins. A network with host
 * bits set, an octet with a leading zero (octal to some parsers) and a
 * rule without a value are errors (Postfix skips such rules with a
 * warning). An IPv4-mapped IPv6 address counts as IPv4, in patterns and
 * keys. Pure: no I/O, no globals.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "policy/maptable_private.h"

enum maptable_cidr_kind {
	MAPTABLE_CIDR_RULE,
	MAPTABLE_CIDR_IF,
	MAPTABLE_CIDR_ENDIF,
};

struct maptable_cidr_rule {
	enum maptable_cidr_kind kind;
	bool neg;
	int family;
	unsigned char addr[16];
	unsigned prefix;
	char *value; /* RULE */
	size_t skip; /* IF: the index of its endif */
};

struct maptable_cidr {
	struct maptable_cidr_rule *v;
	size_t n, cap;
	size_t nrules; /* RULE entries */
};

static const unsigned char maptable_v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0xff, 0xff };

/* Parses an address (no brackets, no prefix); 0 or -1. */
static int
maptable_cidr_addr(
    const char *s, size_t n, int *family_out, unsigned char addr_out[16])
{
	char host[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(addr_out, 0, 16);
	if (inet_pton(AF_INET, host, addr_out) == 1) {
		*family_out = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host, addr_out) != 1)
		return -1;
	if (memcmp(addr_out, maptable_v4mapped, 12) == 0) {
		memmove(addr_out, addr_out + 12, 4);
		memset(addr_out + 4, 0, 12);
		*family_out = AF_INET;
		return 0;
	}
	*family_out = AF_INET6;
	return 0;
}

static bool
maptable_cidr_bits_match(
    const unsigned char *a, const unsigned char *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ net[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/*
 * Parses the pattern p[0..n) into rule; -1 with the message in err (name
 * and line in front).
 */
static int
maptable_cidr_pattern(const char *p, size_t n, struct maptable_cidr_rule *rule,
    const char *name, size_t line, struct buf *err)
{
	const char *slash, *h = p;
	size_t hn;
	uint64_t prefix;
	unsigned char net[16];
	unsigned max, i;
	char text[INET6_ADDRSTRLEN];

	if (n > 0 && p[0] == '!') {
		rule->neg = true;
		h++;
		n--;
	}
	slash = memchr(h, '/', n);
	hn = slash != NULL ? (size_t)(slash - h) : n;
	/* cidr_table(5): "address information may be enclosed inside []" */
	if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') {
		if (maptable_cidr_addr(
		        h + 1, hn - 2, &rule->family, rule->addr) == -1)
			goto bad;
	} else if (maptable_cidr_addr(h, hn, &rule->family, rule->addr) == -1)
		goto bad;
	max = rule->family == AF_INET ? 32 : 128;
	rule->prefix = max;
	if (slash != NULL) {
		if (parse_uint_n(slash + 1, n - hn - 1, 0, max, &prefix) == -1)
			goto bad;
		rule->prefix = (unsigned)prefix;
	}
	memset(net, 0, sizeof(net));
	memcpy(net, rule->addr, rule->prefix / 8);
	if (rule->prefix % 8 != 0)
		net[rule->prefix / 8] = rule->addr[rule->prefix / 8] &
		    (unsigned char)(0xff << (8 - rule->prefix % 8));
	for (i = 0; i < 16; i++)
		if (net[i] != rule->addr[i])
			break;
	if (i < 16) {
		if (inet_ntop(rule->family, net, text, sizeof(text)) == NULL)
			text[0] = '\0';
		maptable_seterr(err,
		    "%s:%zu: \"%.*s\" has host bits set: perhaps "
		    "you mean \"%s/%u\"",
		    name, line, (int)n, h, text, rule->prefix);
		return -1;
	}
	return 0;
bad:
	maptable_seterr(err,
	    "%s:%zu: bad address pattern \"%.*s\" (an address or "
	    "network/prefix)",
	    name, line, maptable_quote_len(n), h);
	return -1;
}

static struct maptable_cidr_rule *
maptable_cidr_add(struct maptable_cidr *c)
{
	if (c->n == c->cap) {
		c->cap = c->cap == 0 ? 32 : c->cap * 2;
		c->v = xreallocarray(c->v, c->cap, sizeof(*c->v));
	}
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
	return &c->v[c->n++];
}

/* Parses one logical line into c (a maptable_rules_line_fn); 0 or -1. */
static int
maptable_cidr_line(void *arg, struct maptable_nest *nest, const char *s,
    size_t len, const char *name, size_t line, struct buf *err)
{
	struct maptable_cidr *c = arg;
	struct maptable_cidr_rule *rule;
	size_t k, p, e, open;

	switch (maptable_nest_endif(nest, s, len, &open, name, line, err)) {
	case -1:
		return -1;
	case 1:
		c->v[open].skip = c->n;
		maptable_cidr_add(c)->kind = MAPTABLE_CIDR_ENDIF;
		return 0;
	}
	k = maptable_keyword(s, "if");
	for (p = k; p < len && maptable_is_ws(s[p]); p++)
		;
	for (e = p; e < len && !maptable_is_ws(s[e]); e++)
		;
	rule = maptable_cidr_add(c);
	if (maptable_cidr_pattern(s + p, e - p, rule, name, line, err) == -1)
		return -1;
	for (p = e; p < len && maptable_is_ws(s[p]); p++)
		;
	if (k > 0) {
		rule->kind = MAPTABLE_CIDR_IF;
		return maptable_nest_if(
		    nest, c->n - 1, p != len, name, line, err);
	}
	if (p == len) {
		maptable_seterr(err,
		    "%s:%zu: expected format: pattern whitespace "
		    "value",
		    name, line);
		return -1;
	}
	rule->kind = MAPTABLE_CIDR_RULE;
	rule->value = xstrdup(s + p);
	c->nrules++;
	return 0;
}

struct maptable_cidr *
maptable_cidr_parse(const char *data, size_t len, const char *name,
    const struct maptable_limits *lim, struct buf *err)
{
	struct maptable_cidr *c = xcalloc(1, sizeof(*c));

	if (maptable_rules_parse(
	        data, len, name, lim, maptable_cidr_line, c, err) == -1)
		maptable_cidr_free(&c);
	return c;
}

/* True when rule's pattern matches the key address. */
static bool
maptable_cidr_match(const struct maptable_cidr_rule *rule, int family,
    const unsigned char *addr)
{
	return rule->family == family &&
	    maptable_cidr_bits_match(addr, rule->addr, rule->prefix);
}

int
maptable_cidr_lookup(const struct maptable_cidr *c, const char *key,
    struct buf *value_out, struct buf *err)
{
	const struct maptable_cidr_rule *rule;
	unsigned char addr[16];
	int family;
	size_t i = 0;

	/* a key that is not an address matches nothing (Postfix) */
	if (maptable_cidr_addr(key, strlen(key), &family, addr) == -1)
		return 1;
	while (i < c->n) {
		rule = &c->v[i];
		/* cidr_table(5): another family never matches, not even
		 * a negated pattern */
		switch (rule->kind) {
		case MAPTABLE_CIDR_RULE:
			if (rule->family == family &&
			    maptable_cidr_match(rule, family, addr) !=
			        rule->neg) {
				buf_reset(value_out);
				if (buf_append_str(value_out, rule->value) ==
				    -1) {
					maptable_seterr(err,
					    "value longer than %zu bytes",
					    value_out->max);
					return -1;
				}
				return 0;
			}
			i++;
			break;
		case MAPTABLE_CIDR_IF:
			if (rule->family == family &&
			    maptable_cidr_match(rule, family, addr) !=
			        rule->neg)
				i++;
			else
				i = rule->skip + 1;
			break;
		case MAPTABLE_CIDR_ENDIF:
			i++;
			break;
		}
	}
	return 1;
}

size_t
maptable_cidr_count(const struct maptable_cidr *c)
{
	return c->nrules;
}

void
maptable_cidr_free(struct maptable_cidr **cp)
{
	struct maptable_cidr *c = *cp;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->v[i].value);
	free(c->v);
	free(c);
	*cp = NULL;
}
