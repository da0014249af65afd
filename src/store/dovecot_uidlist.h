/*
 * Dovecot's per-folder files, read once when mailwright takes over a
 * Maildir Dovecot used (a drop-in replacement keeps UIDs and POP3 UIDLs):
 *
 * dovecot-uidlist (Dovecot's maildir-uidlist.c describes it):
 *   version 3 (Dovecot 1.1 and later):
 *	3 V<uidvalidity> N<nextuid> [G<guid>] [<key><value> ...]
 *	<uid> [<key><value> ...] :<filename>
 *     keys of a message: P<pop3 uidl>, W<vsize>, S<psize>, G<guid>, ...
 *   version 1 (Dovecot 1.0, Courier's courierimapuiddb):
 *	1 <uidvalidity> <nextuid>
 *	<uid> <filename>
 *   version 2 (a few Dovecot development versions): <uid> <flags> <file>
 * The file name is the one in cur/ without its ":2,..." info; messages
 * are matched by its base (the part before the first ',' or ':').
 *
 * dovecot-keywords: lines "<index> <name>"; index i is the letter 'a'+i
 * in the ":2," info.
 *
 * Pure parsers over bytes: no I/O.
 */
#ifndef STORE_DOVECOT_UIDLIST_H
#define STORE_DOVECOT_UIDLIST_H

#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

struct dovecot_uidlist_rec {
	uint32_t uid;
	const char *base; /* not NUL-terminated */
	size_t base_len;
	const char *uidl; /* the P field when valid (RFC 1939 7), else len 0 */
	size_t uidl_len;
};

struct dovecot_uidlist {
	unsigned version;              /* 1, 2 or 3 */
	uint32_t uidvalidity;          /* != 0 */
	uint32_t nextuid;              /* > every record's uid */
	struct dovecot_uidlist_rec *v; /* ascending uid, unique */
	size_t n;
	char *data;      /* a copy of the input; the records point into it */
	size_t *by_base; /* indexes of v sorted by base (for find) */
};

/*
 * Parses a dovecot-uidlist of len bytes. At most max_recs records are
 * kept. A bad header is an error (-1, EINVAL, reason in err); a bad
 * record line, a UID not above the one before or a base seen before is
 * skipped (Dovecot would rebuild its list; we keep what is certain).
 * *out is the caller's to dovecot_uidlist_free().
 */
int dovecot_uidlist_parse(const char *data, size_t len, size_t max_recs,
    struct dovecot_uidlist **out, struct buf *err) MW_MUST_CHECK;
void dovecot_uidlist_free(struct dovecot_uidlist **ul);
/* The record whose base is the first base_len bytes of name, or NULL. */
const struct dovecot_uidlist_rec *dovecot_uidlist_find(
    const struct dovecot_uidlist *ul, const char *name, size_t base_len);

/*
 * Parses dovecot-keywords into names[0..25] (malloc'd, NULL where none;
 * the caller frees them). Lines that are not "<0..25> <name>" with a
 * name of 1..255 printable bytes are skipped. Returns how many were set.
 */
size_t dovecot_keywords_parse(const char *data, size_t len, char *names[26]);

#endif
