/*
 * Evaluating a parsed SEARCH program (imap_search.h) against the messages
 * of a mailbox (RFC 9051 6.4.4, RFC 3501 6.4.4), and the untagged SEARCH or
 * ESEARCH reply for the result (RFC 9051 7.3.4, RFC 4731 3, RFC 5182).
 *
 * A program is prepared once per command: sequence sets are resolved
 * against the mailbox ("*", "$"), dates turned into times, keywords into
 * bits, search strings case-folded. Then it is matched against each message
 * in turn. Cheap keys (numbers, flags, sizes, internal dates) decide first;
 * the message's tree and file are asked for (env->load) only when they do
 * not, and the file is read in chunks only as far as the answer needs.
 * Memory does not depend on the message's size.
 *
 * String matching (imap_search_text.c) is a substring search, without
 * regard to case, on UTF-8 text: header fields unfolded with RFC 2047
 * encoded-words decoded; text/ bodies decoded from quoted-printable or
 * base64 and converted from their charset. Case folding is our own table:
 * ASCII, Latin-1, Latin Extended-A/B (most), Latin Extended Additional,
 * Greek, Cyrillic, Armenian, fullwidth Latin (see search_fold_cp()).
 *
 * Choices where the RFCs leave room (Dovecot's behaviour unless noted):
 * - BODY searches the bodies of text/ parts only (and the default
 *   text/plain); other parts and multipart preambles are not searched.
 *   TEXT also searches every part's header (all fields, "Name: value").
 * - FROM, TO, CC, BCC, SUBJECT and HEADER of those (and of Date, Sender,
 *   Reply-To, In-Reply-To, Message-ID) use the tree's envelope: values are
 *   cut at its field limit. Other HEADER fields are read from the file.
 *   HEADER with an empty string matches a message that has the field; so
 *   does FROM "" and its kind. BODY "" and TEXT "" match every message.
 * - SENTBEFORE/SENTON/SENTSINCE compare the date written in Date: (its
 *   own zone); without a Date: that parses they use the internal date in
 *   the local zone. (Dovecot uses 1970-01-01 then: its sent date is 0.)
 * - BEFORE/ON/SINCE compare the internal date's day in the server's local
 *   time zone (TZ).
 * - Without rev1, RECENT is never set: RECENT and NEW match nothing.
 */
#ifndef IMAP_IMAP_SEARCH_EVAL_H
#define IMAP_IMAP_SEARCH_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap_parse.h"
#include "imap/imap_search.h"
#include "imap/imap_seqset.h"
#include "lib/mw.h"

struct buf;
struct mime_tree;
struct store_msg;

/*
 * The tree of one message, and its file when need_file (else *fd_out may
 * be -1: the envelope keys need only the tree, which the index caches).
 * Called again with need_file for the same message when the tree did not
 * decide. 0, or -1 (errno kept).
 */
typedef int imap_search_load_fn(void *arg, uint32_t seq,
    const struct store_msg *m, bool need_file, int *fd_out,
    const struct mime_tree **tree_out);
/* The bit (0..STORE_MAX_KEYWORDS-1) of a keyword, or -1 when the mailbox
 * has none by that name. */
typedef int imap_search_keyword_fn(void *arg, struct imap_slice name);

/* The mailbox as the session sees it. Copied by imap_search_prepare(); the
 * saved set must live as long as the program. */
struct imap_search_env {
	uint32_t count;   /* messages: "*" in sequence sets */
	uint32_t max_uid; /* highest UID in use: "*" in UID sets */
	/* "$" (RFC 5182 2.1): a resolved set of UIDs, or NULL (empty) */
	const struct imap_seqset *saved_uids;
	imap_search_keyword_fn *keyword_bit; /* NULL: no keywords */
	/* Content on demand. The fd (read with pread only, never closed
	 * here) and the tree stay the caller's; they must stay valid until
	 * imap_search_prog_match() returns. */
	imap_search_load_fn *load;
	void *arg;
	bool rev1; /* RECENT/NEW/OLD meaningful (not IMAP4rev2) */
};

struct imap_search_prog;

/*
 * Prepares s (which may be freed afterwards: what is needed is copied) for
 * env. 0 with *out set (free it with imap_search_prog_free()), or -1 with
 * errno and a reason in err (the reply is then NO or BAD).
 */
int imap_search_prepare(const struct imap_search *s,
    const struct imap_search_env *env, struct imap_search_prog **out,
    struct buf *err) MW_MUST_CHECK;

/* Whether some key may need the tree or the file (so the caller can plan:
 * e.g. match on a worker thread). */
bool imap_search_prog_needs_content(const struct imap_search_prog *p);

/* For tests: read the file chunk bytes at a time (default 64 KiB). */
void imap_search_prog_set_chunk(struct imap_search_prog *p, size_t chunk);

/*
 * Whether message seq (1..count) with store entry m matches; recent: it
 * has \Recent in this session (rev1). 0 with *match_out, or -1 with errno
 * when env->load or reading the file failed.
 */
int imap_search_prog_match(struct imap_search_prog *p, uint32_t seq,
    const struct store_msg *m, bool recent, bool *match_out) MW_MUST_CHECK;

void imap_search_prog_free(struct imap_search_prog **p);

/*
 * Appends the untagged reply for the n matches v[] (ascending sequence
 * numbers or UIDs) to out:
 * - esearch false: "* SEARCH 2 5 7\r\n" (RFC 3501 7.2.5, RFC 9051 7.3.4
 *   for rev1 sessions);
 * - esearch true (RETURN given, or an IMAP4rev2 session): "* ESEARCH (TAG
 *   "a1") UID MIN 2 MAX 7 COUNT 3 ALL 2,5:7\r\n" with the options of ret
 *   (RFC 4731 3; 0 means ALL, RFC 9051 6.4.4), UID for UID SEARCH; MIN,
 *   MAX and ALL are left out when nothing matched; with only SAVE in ret
 *   nothing is appended (RFC 5182 2.1, as Dovecot).
 * 0, or -1 with errno ENOBUFS past out's ceiling.
 */
int imap_search_reply(struct buf *out, const uint32_t *v, size_t n,
    bool esearch, unsigned ret, struct imap_slice tag, bool uid) MW_MUST_CHECK;

#endif
