/*
 * Maildir file names (maildir(5), https://cr.yp.to/proto/maildir.html, and
 * the Maildir++ fields Dovecot and Courier write):
 *
 *	<base>[,S=<psize>][,W=<vsize>][,<other fields>][:<info>]
 *
 * base is the unique part; S= is the size on disk, W= the size with CRLF
 * line ends; info ":2,<letters>" holds the flags (D F P R S T system
 * flags; lower-case a-z are Dovecot keywords, letter 'a'+i being line i of
 * dovecot-keywords). A pure parser and builder: no I/O.
 */
#ifndef STORE_MAILDIR_NAME_H
#define STORE_MAILDIR_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

/* NAME_MAX of Linux file systems: no directory entry is longer. */
#define MAILDIR_NAME_MAX 255

/* A parsed name; the pointers point into the parsed string. */
struct maildir_fname {
	const char *base; /* the unique part: up to the first ',' or ':' */
	size_t base_len;
	size_t prefix_len; /* base and fields: everything before ':' */
	bool has_psize, has_vsize;
	uint64_t psize, vsize; /* from ,S= and ,W= (first valid one) */
	bool has_info;         /* a ':' was there */
	bool info2;            /* the info is ":2,<letters>" */
	uint32_t flags;        /* enum store_flag, from ":2," letters */
	uint32_t keywords;     /* bit i: letter 'a'+i */
	/* every letter of ":2," info (0x21..0x7E), including unknown ones:
	 * bit c%64 of letters[c/64] */
	uint64_t letters[2];
};

/*
 * Parses name (len bytes). 0, or -1 with errno EINVAL when it cannot be
 * a message file: empty, longer than MAILDIR_NAME_MAX, holding '/' or
 * NUL, starting with '.', or with an empty base. Junk elsewhere (unknown
 * fields and letters, duplicates, ":1," info, a bad size) is tolerated:
 * such a size is simply absent, such letters kept.
 */
int maildir_fname_parse(
    const char *name, size_t len, struct maildir_fname *out) MW_MUST_CHECK;

/* The info letter of one enum store_flag bit, or 0. */
char maildir_flag_letter(uint32_t flag);

/*
 * Appends to out the name f (parsed from name) gets with new flags and
 * keywords: its prefix (base and fields unchanged), then ":2," and the
 * letters in ASCII order (maildir(5)): the new flags and keywords plus
 * the unknown letters the old ":2," info had. 0 or -1 (ENOBUFS, or
 * EINVAL past MAILDIR_NAME_MAX; out unchanged then).
 */
int maildir_fname_with_flags(struct buf *out, const char *name,
    const struct maildir_fname *f, uint32_t flags,
    uint32_t keywords) MW_MUST_CHECK;

/*
 * Appends "<base>[,S=<psize>][,W=<vsize>]:2,<letters>" to out (a size of
 * UINT64_MAX is left out). 0 or -1 (ENOBUFS, EINVAL for a base that is
 * not a safe name or a result past MAILDIR_NAME_MAX; out unchanged then).
 */
int maildir_fname_build(struct buf *out, const char *base, uint64_t psize,
    uint64_t vsize, uint32_t flags, uint32_t keywords) MW_MUST_CHECK;

/*
 * Orders base names in delivery order: runs of digits compare by value
 * ("<sec>.M<usec>..." of maildir(5) names), other bytes as bytes. <0, 0
 * or >0 as strcmp.
 */
int maildir_base_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
