/*
 * Mailbox names between the client's form and the store's, and helpers
 * on the selected mailbox's view (numbers, \Recent, sets).
 *
 * Names: the client sends modified UTF-7 (RFC 3501 5.1.3) unless UTF-8
 * is enabled (RFC 9051 5.1, RFC 6855 3), with imap_hierarchy_separator
 * between levels; the store takes UTF-8 with "/" (store.h).
 */
#ifndef IMAP_IMAP_MAILBOX_H
#define IMAP_IMAP_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap_parse.h"
#include "imap/imap_seqset.h"
#include "lib/mw.h"

struct buf;
struct imap_session;
struct store_folder_status;

/*
 * The store's name for the client's name into out (reset first). -1 with
 * a static reason for a NO in *why_out (bad modified UTF-7, invalid
 * UTF-8, the store's separator inside a level). INBOX in any case
 * comes out as "INBOX".
 */
int imap_mbox_from_client(const struct imap_session *s, struct imap_slice name,
    struct buf *out, const char **why_out) MW_MUST_CHECK;
/* The client's form of a store name, unquoted (modified UTF-7 unless
 * UTF-8 is on, the separator swapped), appended to out. */
int imap_mbox_to_client(const struct imap_session *s, const char *name,
    struct buf *out) MW_MUST_CHECK;
/* The same, as an IMAP string (quoted or a literal), appended to out. */
int imap_mbox_append(const struct imap_session *s, const char *name,
    struct buf *out) MW_MUST_CHECK;

/* Messages of the view with uid >= s->first_recent_uid (rev1). */
size_t imap_mailbox_recent_count(const struct imap_session *s);
/* The first view index whose uid is >= uid (count when none). */
size_t imap_mailbox_index_from_uid(const struct imap_session *s, uint32_t uid);

/*
 * Resolves the sequence set of the command being answered against the
 * view: uid: UIDs, else message numbers. The message indexes it names go
 * to *idx_out (malloc'd, ascending, *n_out of them; UIDs that name no
 * message are left out, RFC 9051 6.4.9). -1 with a static reason in
 * *why_out for message numbers past the end (RFC 9051 6.4: BAD) or "$"
 * without a saved result.
 */
int imap_mailbox_resolve(const struct imap_session *s,
    const struct imap_seqset *set, bool uid, size_t **idx_out, size_t *n_out,
    const char **why_out) MW_MUST_CHECK;

/* Appends "(MESSAGES n ...)" for the STATUS items asked (RFC 9051
 * 6.3.11); also for LIST RETURN (STATUS ...) (RFC 5819). */
void imap_status_items(struct imap_session *s, unsigned items,
    const struct store_folder_status *st, struct buf *out);

/* Appends uids[0..n) (ascending) as a compact uid-set: "3:5,9". */
int imap_uidset_append(
    struct buf *out, const uint32_t *uids, size_t n) MW_MUST_CHECK;

#endif
