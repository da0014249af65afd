/*
 * IMAP sequence sets (RFC 9051 9 "sequence-set", RFC 3501 9, RFC 5182 "$"):
 * "1,3:5,7:*", "*", "$". Parsed into a bounded list of ranges; resolved
 * against the mailbox ("*" is the highest number in use, RFC 9051 6.4.9)
 * into a sorted, merged list that can be iterated. Pure: no I/O.
 */
#ifndef IMAP_IMAP_SEQSET_H
#define IMAP_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

/* "*" in a range: the largest number in use (RFC 9051 9 seq-number). */
#define IMAP_SEQ_STAR 0u

/* lo <= hi once resolved; as parsed either may be IMAP_SEQ_STAR. */
struct imap_range {
	uint32_t lo, hi;
};

struct imap_seqset {
	struct imap_range *r; /* owned by whoever built the set */
	size_t n;
	bool star;  /* some range uses "*" */
	bool saved; /* "$": the saved search result (RFC 5182 2.1) */
};

/*
 * Parses s[0..n) as a whole sequence-set into set; ranges go into
 * ranges[0..max) (the caller's storage, e.g. an arena). Ranges without
 * "*" come out with lo <= hi ("5:3" is "3:5", RFC 9051 9), and the set is
 * sorted and merged when it has no "*". Numbers are nz-number: 1..2^32-1.
 * 0, or -1 on bad syntax (errno EINVAL) or more than max ranges (E2BIG).
 */
int imap_seqset_parse(const char *s, size_t n, struct imap_range *ranges,
    size_t max, struct imap_seqset *set) MW_MUST_CHECK;

/*
 * Resolves set against the mailbox: "*" becomes max_in_use (0 for an empty
 * mailbox, then the range ends at the other number), "$" adds the ranges
 * of saved (a resolved set, or NULL for none), and the result is sorted
 * and merged into out_r[0..out_max): out->r = out_r. Numbers above
 * max_in_use are kept (UID ranges past the end, RFC 9051 6.4.9); the
 * caller checks message numbers with imap_seqset_within(). 0, or -1 with
 * E2BIG when out_max is too small (set->n + saved->n always fits).
 */
int imap_seqset_resolve(const struct imap_seqset *set, uint32_t max_in_use,
    const struct imap_seqset *saved, struct imap_range *out_r, size_t out_max,
    struct imap_seqset *out) MW_MUST_CHECK;

/* Whether every number of a resolved set is in 1..max. */
bool imap_seqset_within(const struct imap_seqset *set, uint32_t max);
/* Whether v is in the resolved set (binary search). */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t v);
/* How many numbers the resolved set holds. */
uint64_t imap_seqset_count(const struct imap_seqset *set);

/* Iterates a resolved set in ascending order, bounded by max (numbers
 * above it are skipped: they name no message). */
struct imap_seqset_iter {
	const struct imap_seqset *set;
	uint32_t max;
	size_t i;
	uint64_t next;
};
void imap_seqset_iter_init(
    struct imap_seqset_iter *it, const struct imap_seqset *set, uint32_t max);
/* The next number into *v_out: true, or false at the end. */
bool imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *v_out);

#endif
