/*
 * Parsers of Dovecot's dovecot-uidlist and dovecot-keywords (see
 * dovecot_uidlist.h). Written from the format Dovecot documents in
 * src/lib-storage/index/maildir/maildir-uidlist.c; our own code.
 */
#include "store/dovecot_uidlist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

struct dv_line {
	const char *p, *e;
};

/* The next space-separated token of l, or false at its end. */
static bool
dv_token(struct dv_line *l, const char **t, size_t *n)
{
	while (l->p < l->e && *l->p == ' ')
		l->p++;
	if (l->p == l->e)
		return false;
	*t = l->p;
	while (l->p < l->e && *l->p != ' ')
		l->p++;
	*n = (size_t)(l->p - *t);
	return true;
}

static bool
dv_u32(const char *s, size_t n, uint32_t min, uint32_t max, uint32_t *v)
{
	uint64_t x;

	if (parse_uint_n(s, n, min, max, &x) == -1)
		return false;
	*v = (uint32_t)x;
	return true;
}

/* "3 V<uidvalidity> N<nextuid> ..." or "1 <uidvalidity> <nextuid>". */
static int
dv_header(struct dv_line *l, struct dovecot_uidlist *ul, struct buf *err)
{
	const char *t;
	size_t n;

	if (!dv_token(l, &t, &n) || n != 1 || t[0] < '1' || t[0] > '3')
		goto bad;
	ul->version = (unsigned)(t[0] - '0');
	if (ul->version < 3) {
		if (!dv_token(l, &t, &n) ||
		    !dv_u32(t, n, 1, UINT32_MAX, &ul->uidvalidity) ||
		    !dv_token(l, &t, &n) ||
		    !dv_u32(t, n, 1, UINT32_MAX, &ul->nextuid))
			goto bad;
		return 0;
	}
	while (dv_token(l, &t, &n)) {
		if (n < 2)
			continue;
		if (t[0] == 'V' &&
		    !dv_u32(t + 1, n - 1, 1, UINT32_MAX, &ul->uidvalidity))
			goto bad;
		if (t[0] == 'N' &&
		    !dv_u32(t + 1, n - 1, 1, UINT32_MAX, &ul->nextuid))
			goto bad;
	}
	if (ul->uidvalidity == 0 || ul->nextuid == 0)
		goto bad;
	return 0;
bad:
	if (err != NULL) {
		buf_reset(err);
		(void)!buf_append_str(err,
		    "dovecot-uidlist: bad header line (expected "
		    "\"3 V<uidvalidity> N<nextuid> ...\" or \"1 <uidvalidity> "
		    "<nextuid>\")");
	}
	errno = EINVAL;
	return -1;
}

/* One record line into r: false when it is not usable. */
static bool
dv_record(struct dv_line *l, unsigned version, struct dovecot_uidlist_rec *r)
{
	const char *t, *name = NULL, *ne = l->e;
	size_t n, i;

	memset(r, 0, sizeof(*r));
	if (!dv_token(l, &t, &n) || !dv_u32(t, n, 1, UINT32_MAX - 1, &r->uid))
		return false;
	if (version == 3) {
		/* fields until the one that starts with ':' (the name) */
		while (dv_token(l, &t, &n)) {
			if (t[0] == ':') {
				name = t + 1;
				break;
			}
			/* RFC 1939 7: a UIDL is 1..70 of 0x21..0x7E */
			if (t[0] == 'P' && n >= 2 && n - 1 <= 70) {
				for (i = 1; i < n; i++)
					if ((unsigned char)t[i] < 0x21 ||
					    (unsigned char)t[i] > 0x7e)
						break;
				if (i == n) {
					r->uidl = t + 1;
					r->uidl_len = n - 1;
				}
			}
		}
	} else {
		if (version == 2 && !dv_token(l, &t, &n))
			return false; /* the flags field */
		while (l->p < l->e && *l->p == ' ')
			l->p++;
		name = l->p;
	}
	if (name == NULL)
		return false;
	for (t = name; t < ne && *t != ',' && *t != ':' && *t != ' '; t++)
		if (*t == '/' || *t == '\0')
			return false;
	r->base = name;
	r->base_len = (size_t)(t - name);
	return r->base_len > 0 && r->base_len <= 255 && name[0] != '.';
}

static const struct dovecot_uidlist *dv_sort_ul;

static int
dv_base_cmp(const void *a, const void *b)
{
	const struct dovecot_uidlist_rec *x =
	    &dv_sort_ul->v[*(const size_t *)a];
	const struct dovecot_uidlist_rec *y =
	    &dv_sort_ul->v[*(const size_t *)b];
	size_t n = x->base_len < y->base_len ? x->base_len : y->base_len;
	int c = memcmp(x->base, y->base, n);

	if (c != 0)
		return c;
	if (x->base_len != y->base_len)
		return x->base_len < y->base_len ? -1 : 1;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* by_base, without duplicate bases (the lower UID stays). */
static void
dv_index(struct dovecot_uidlist *ul)
{
	size_t i, j;
	bool *drop;

	ul->by_base = xreallocarray(NULL, ul->n + 1, sizeof(*ul->by_base));
	for (i = 0; i < ul->n; i++)
		ul->by_base[i] = i;
	/* qsort has no context argument in C17: one parse at a time is
	 * fine for the callers (the store's sync, the fuzzer) */
	dv_sort_ul = ul;
	qsort(ul->by_base, ul->n, sizeof(*ul->by_base), dv_base_cmp);
	dv_sort_ul = NULL;
	drop = xcalloc(ul->n + 1, sizeof(*drop));
	for (i = 1; i < ul->n; i++) {
		const struct dovecot_uidlist_rec *a =
		    &ul->v[ul->by_base[i - 1]];
		const struct dovecot_uidlist_rec *b = &ul->v[ul->by_base[i]];

		if (a->base_len == b->base_len &&
		    memcmp(a->base, b->base, a->base_len) == 0)
			drop[ul->by_base[i]] = true;
	}
	for (i = j = 0; i < ul->n; i++)
		if (!drop[i])
			ul->v[j++] = ul->v[i];
	free(drop);
	if (j != ul->n) {
		ul->n = j;
		free(ul->by_base);
		dv_index(ul);
	}
}

int
dovecot_uidlist_parse(const char *data, size_t len, size_t max_recs,
    struct dovecot_uidlist **out, struct buf *err)
{
	struct dovecot_uidlist *ul = xcalloc(1, sizeof(*ul));
	struct dovecot_uidlist_rec r;
	struct dv_line l;
	const char *p, *e, *nl;
	size_t cap = 0;
	uint32_t last = 0;

	*out = NULL;
	ul->data = xmalloc(len + 1);
	memcpy(ul->data, data, len);
	ul->data[len] = '\0';
	p = ul->data;
	e = ul->data + len;
	l.p = l.e = p;
	for (bool first = true; p < e; p = nl + 1, first = false) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		l.p = p;
		l.e = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (first) {
			if (dv_header(&l, ul, err) == -1) {
				dovecot_uidlist_free(&ul);
				return -1;
			}
			continue;
		}
		if (!dv_record(&l, ul->version, &r) || r.uid <= last ||
		    ul->n >= max_recs)
			continue;
		last = r.uid;
		if (ul->n == cap) {
			cap = cap ? 2 * cap : 64;
			ul->v = xreallocarray(ul->v, cap, sizeof(*ul->v));
		}
		ul->v[ul->n++] = r;
	}
	if (ul->version == 0) {
		(void)dv_header(&l, ul, err); /* empty: the header error */
		dovecot_uidlist_free(&ul);
		errno = EINVAL;
		return -1;
	}
	if (last >= ul->nextuid)
		ul->nextuid = last + 1; /* last <= UINT32_MAX - 1 */
	dv_index(ul);
	*out = ul;
	return 0;
}

void
dovecot_uidlist_free(struct dovecot_uidlist **ul)
{
	if (*ul == NULL)
		return;
	free((*ul)->v);
	free((*ul)->by_base);
	free((*ul)->data);
	free(*ul);
	*ul = NULL;
}

const struct dovecot_uidlist_rec *
dovecot_uidlist_find(
    const struct dovecot_uidlist *ul, const char *name, size_t base_len)
{
	size_t lo = 0, hi = ul->n, mid, n;
	const struct dovecot_uidlist_rec *r;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = &ul->v[ul->by_base[mid]];
		n = r->base_len < base_len ? r->base_len : base_len;
		c = memcmp(name, r->base, n);
		if (c == 0 && base_len != r->base_len)
			c = base_len < r->base_len ? -1 : 1;
		if (c == 0)
			return r;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t
dovecot_keywords_parse(const char *data, size_t len, char *names[26])
{
	const char *p = data, *e = data + len, *nl, *sp, *t;
	size_t count = 0;
	uint32_t idx;

	for (; p < e; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (sp == NULL || !dv_u32(p, (size_t)(sp - p), 0, 25, &idx))
			continue;
		sp++;
		t = nl > sp && nl[-1] == '\r' ? nl - 1 : nl;
		if (t == sp || t - sp > 255)
			continue;
		for (p = sp; p < t; p++)
			if ((unsigned char)*p <= 0x20 ||
			    (unsigned char)*p == 0x7f)
				break;
		if (p != t)
			continue;
		if (names[idx] == NULL)
			count++;
		free(names[idx]);
		names[idx] = xstrndup(sp, (size_t)(t - sp));
	}
	return count;
}
