/*
 * Mailbox names and the selected view (see imap_mailbox.h).
 */
#include "imap/imap_mailbox.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imap_mutf7.h"
#include "imap/imap_session_private.h"
#include "imap/imap_string.h"
#include "lib/buf.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "store/store_folder_name.h"

int
imap_mbox_from_client(const struct imap_session *s, struct imap_slice name,
    struct buf *out, const char **why_out)
{
	char sep = s->srv->sep;
	size_t i;

	buf_reset(out);
	if (s->utf8) {
		if (!imap_utf8_valid(name.p, name.n)) {
			*why_out = "Mailbox name is not valid UTF-8";
			return -1;
		}
		if (buf_append(out, name.p, name.n) == -1)
			goto toolong;
	} else if (imap_mutf7_decode(name.p, name.n, out) == -1) {
		/* RFC 3501 5.1.3: names are in modified UTF-7 */
		*why_out = "Mailbox name is not valid modified UTF-7";
		buf_reset(out);
		return -1;
	}
	/* RFC 9051 5.1: INBOX in any case is INBOX (so that "inbox" is
	 * echoed, compared with the selected name and refused as INBOX) */
	if (out->len == 5 && ascii_eq_n(out->data, "INBOX", 5))
		memcpy(out->data, "INBOX", 5);
	if (sep == STORE_FOLDER_SEP)
		return 0;
	for (i = 0; i < out->len; i++) {
		if (out->data[i] == STORE_FOLDER_SEP) {
			/* Maildir++ keeps levels apart with ".": with "."
			 * as the separator, "/" cannot be stored */
			*why_out = "Character not allowed in mailbox name: /";
			return -1;
		}
		if (out->data[i] == sep)
			out->data[i] = STORE_FOLDER_SEP;
	}
	return 0;
toolong:
	*why_out = "Mailbox name is too long";
	return -1;
}

int
imap_mbox_to_client(
    const struct imap_session *s, const char *name, struct buf *out)
{
	size_t start = out->len, i, n = strlen(name);
	char sep = s->srv->sep;

	if (s->utf8) {
		if (buf_append(out, name, n) == -1)
			return -1;
	} else if (imap_mutf7_encode(name, n, out) == -1)
		return -1;
	if (sep != STORE_FOLDER_SEP)
		for (i = start; i < out->len; i++)
			if (out->data[i] == STORE_FOLDER_SEP)
				out->data[i] = sep;
	return 0;
}

int
imap_mbox_append(
    const struct imap_session *s, const char *name, struct buf *out)
{
	struct buf b;
	int ret;

	buf_init(&b, 4 * strlen(name) + 16);
	ret = imap_mbox_to_client(s, name, &b);
	if (ret == 0)
		ret = imap_string_append(out, b.data != NULL ? b.data : "",
		    b.len, s->utf8);
	buf_free(&b);
	return ret;
}

size_t
imap_mailbox_index_from_uid(const struct imap_session *s, uint32_t uid)
{
	size_t lo = 0, hi = store_mailbox_count(s->mb), mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (store_mailbox_msg(s->mb, mid)->uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
imap_mailbox_recent_count(const struct imap_session *s)
{
	return store_mailbox_count(s->mb) -
	    imap_mailbox_index_from_uid(s, s->first_recent_uid);
}

static int
imap_mailbox_cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

int
imap_mailbox_resolve(const struct imap_session *s,
    const struct imap_seqset *set, bool uid, size_t **idx_out, size_t *n_out,
    const char **why_out)
{
	size_t count = store_mailbox_count(s->mb), n = 0, cap = 0, i, lo, hi;
	struct imap_range *r;
	struct imap_seqset res, saved = { 0 };
	uint32_t max;
	size_t *v = NULL;
	bool sorted = true;

	*idx_out = NULL;
	*n_out = 0;
	max = uid ? (count > 0 ? store_mailbox_msg(s->mb, count - 1)->uid : 0)
	          : (uint32_t)count;
	if (!uid && count == 0 && set->star) {
		/* RFC 9051 6.4.? "*" names no message in an empty mailbox */
		*why_out = "No messages";
		return -1;
	}
	r = xreallocarray(NULL, set->n + 1, sizeof(*r));
	/* "$" is resolved here by UID, below, for both kinds of set */
	if (imap_seqset_resolve(set, max, NULL, r, set->n + 1, &res) == -1) {
		free(r);
		*why_out = "Invalid message set";
		return -1;
	}
	if (!uid && !imap_seqset_within(&res, max)) {
		free(r);
		*why_out = "Invalid messageset";
		return -1;
	}
	for (i = 0; i < res.n; i++) {
		if (uid) {
			lo = imap_mailbox_index_from_uid(s, res.r[i].lo);
			hi = res.r[i].hi == UINT32_MAX
			    ? count
			    : imap_mailbox_index_from_uid(s, res.r[i].hi + 1);
		} else {
			lo = res.r[i].lo - 1;
			hi = res.r[i].hi;
		}
		if (hi > lo && n + (hi - lo) > cap) {
			cap = n + (hi - lo) + 16;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		for (; lo < hi; lo++)
			v[n++] = lo;
	}
	free(r);
	if (set->saved && s->nsaved > 0) {
		saved.r = s->saved_uids;
		saved.n = s->nsaved;
		for (i = 0; i < count; i++) {
			if (!imap_seqset_contains(
			        &saved, store_mailbox_msg(s->mb, i)->uid))
				continue;
			if (n == cap) {
				cap = cap * 2 + 16;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n++] = i;
			sorted = false;
		}
	}
	if (!sorted && n > 1) {
		size_t k = 1;

		qsort(v, n, sizeof(*v), imap_mailbox_cmp_size);
		for (i = 1; i < n; i++)
			if (v[i] != v[k - 1])
				v[k++] = v[i];
		n = k;
	}
	*idx_out = v;
	*n_out = n;
	return 0;
}

int
imap_uidset_append(struct buf *out, const uint32_t *uids, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		for (k = i; k + 1 < n && uids[k + 1] == uids[k] + 1; k++)
			;
		if (i > 0 && buf_append_char(out, ',') == -1)
			return -1;
		if (k == i ? buf_printf(out, "%u", uids[i]) == -1
		           : buf_printf(out, "%u:%u", uids[i], uids[k]) == -1)
			return -1;
		i = k + 1;
	}
	return 0;
}
