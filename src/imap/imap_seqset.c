/*
 * IMAP sequence sets (see imap_seqset.h): parsing, resolving against a
 * mailbox, membership and iteration. The caller provides the storage.
 */
#include "imap/imap_seqset.h"

#include <errno.h>
#include <stdlib.h>

static int
range_cmp(const void *a, const void *b)
{
	const struct imap_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* Sorts r[0..n) (all lo <= hi) and merges overlapping and adjacent ranges
 * in place; returns the new count. */
static size_t
ranges_normalize(struct imap_range *r, size_t n)
{
	size_t i, out = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 1; i < n; i++) {
		if ((uint64_t)r[i].lo <= (uint64_t)r[out].hi + 1) {
			if (r[i].hi > r[out].hi)
				r[out].hi = r[i].hi;
		} else
			r[++out] = r[i];
	}
	return out + 1;
}

/* RFC 9051 9: seq-number = nz-number / "*"; nz-number = digit-nz *DIGIT,
 * below 2^32. Returns the bytes used, 0 on bad syntax. */
static size_t
seq_number(const char *s, size_t n, uint32_t *v_out)
{
	uint64_t v = 0;
	size_t i;

	if (n > 0 && s[0] == '*') {
		*v_out = IMAP_SEQ_STAR;
		return 1;
	}
	if (n == 0 || s[0] < '1' || s[0] > '9')
		return 0;
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	*v_out = (uint32_t)v;
	return i;
}

int
imap_seqset_parse(const char *s, size_t n, struct imap_range *ranges,
    size_t max, struct imap_seqset *set)
{
	size_t pos = 0, k;
	uint32_t a, b;

	set->r = ranges;
	set->n = 0;
	set->star = set->saved = false;
	for (;;) {
		/* RFC 5182 2.1: sequence-set =/ seq-last-command ("$"); by
		 * the recursive rule it may only end a set ("1,$"). */
		if (pos < n && s[pos] == '$') {
			set->saved = true;
			pos++;
			break;
		}
		if ((k = seq_number(s + pos, n - pos, &a)) == 0)
			goto bad;
		pos += k;
		b = a;
		if (pos < n && s[pos] == ':') {
			pos++;
			if ((k = seq_number(s + pos, n - pos, &b)) == 0)
				goto bad;
			pos += k;
		}
		if (set->n == max) {
			errno = E2BIG;
			return -1;
		}
		if (a == IMAP_SEQ_STAR || b == IMAP_SEQ_STAR)
			set->star = true;
		/* RFC 9051 9 seq-range: "2:4" and "4:2" are the same */
		if (a != IMAP_SEQ_STAR && b != IMAP_SEQ_STAR && a > b)
			ranges[set->n++] = (struct imap_range){ b, a };
		else
			ranges[set->n++] = (struct imap_range){ a, b };
		if (pos == n || s[pos] != ',')
			break;
		pos++;
	}
	if (pos != n)
		goto bad;
	if (!set->star)
		set->n = ranges_normalize(ranges, set->n);
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
imap_seqset_resolve(const struct imap_seqset *set, uint32_t max_in_use,
    const struct imap_seqset *saved, struct imap_range *out_r, size_t out_max,
    struct imap_seqset *out)
{
	size_t i, n = 0, need = set->n;

	if (set->saved && saved != NULL)
		need += saved->n;
	if (need > out_max) {
		errno = E2BIG;
		return -1;
	}
	for (i = 0; i < set->n; i++) {
		uint32_t a = set->r[i].lo, b = set->r[i].hi;

		if (a == IMAP_SEQ_STAR)
			a = max_in_use;
		if (b == IMAP_SEQ_STAR)
			b = max_in_use;
		if (a > b) {
			uint32_t t = a;
			a = b;
			b = t;
		}
		if (a == 0) /* "*" in an empty mailbox */
			a = 1;
		if (b == 0)
			continue;
		out_r[n++] = (struct imap_range){ a, b };
	}
	if (set->saved && saved != NULL)
		for (i = 0; i < saved->n; i++)
			out_r[n++] = saved->r[i];
	out->r = out_r;
	out->n = ranges_normalize(out_r, n);
	out->star = out->saved = false;
	return 0;
}

bool
imap_seqset_within(const struct imap_seqset *set, uint32_t max)
{
	return set->n == 0 ||
	    (set->r[0].lo >= 1 && set->r[set->n - 1].hi <= max);
}

bool
imap_seqset_contains(const struct imap_seqset *set, uint32_t v)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v < set->r[mid].lo)
			hi = mid;
		else if (v > set->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint64_t
imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t c = 0;
	size_t i;

	for (i = 0; i < set->n; i++)
		c += (uint64_t)set->r[i].hi - set->r[i].lo + 1;
	return c;
}

void
imap_seqset_iter_init(
    struct imap_seqset_iter *it, const struct imap_seqset *set, uint32_t max)
{
	it->set = set;
	it->max = max;
	it->i = 0;
	it->next = set->n > 0 ? set->r[0].lo : 0;
}

bool
imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *v_out)
{
	while (it->i < it->set->n) {
		const struct imap_range *r = &it->set->r[it->i];

		if (it->next < r->lo)
			it->next = r->lo;
		if (it->next <= r->hi && it->next <= it->max) {
			*v_out = (uint32_t)it->next++;
			return true;
		}
		if (r->lo > it->max)
			break; /* sorted: nothing further is in range */
		it->i++;
	}
	it->i = it->set->n;
	return false;
}
