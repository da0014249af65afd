/*
 * \Recent for IMAP4rev1 sessions (RFC 3501 2.3.2): a message is recent
 * in exactly one session, the first to select its mailbox after it
 * arrived (RFC 9051 dropped the flag; IMAP4rev2 sessions never ask).
 * The index keeps per folder the first UID that no session has taken
 * (the recent table); a read-write SELECT takes the messages from there
 * to the end of its view and raises the mark past them, all under the
 * write lock, so that two sessions selecting at once split them and
 * neither sees a message the other has.
 */
#include <errno.h>

#include "lib/buf.h"
#include "store/store_private.h"

int
store_mailbox_take_recent(
    struct store_mailbox *mb, uint32_t *first_out, struct buf *err)
{
	struct store *st = mb->st;
	uint32_t w, u = mb->row.uidnext;
	int ret = -1, saved;

	*first_out = u;
	if (mb->read_only) {
		/* EXAMINE: RFC 3501 6.3.2, the \Recent flags stay */
		if (store_recent_get(st, mb->row.id, u, &w, err) == -1)
			return -1;
		*first_out = w < u ? w : u;
		return 0;
	}
	if (store_begin(st, err) == -1)
		return -1;
	/* none (an index older than the mark): nothing before this view
	 * is recent */
	if (store_recent_get(st, mb->row.id, 0, &w, err) == -1)
		goto out;
	if (w != 0 && w < u)
		*first_out = w;
	/* the mark only goes up: a session with an older view that takes
	 * after one with a newer must not hand those out again */
	if ((w == 0 || w < u) &&
	    (store_recent_set(st, mb->row.id, u, err) == -1 ||
	        store_commit(st, err) == -1))
		goto out;
	ret = 0;
out:
	saved = errno;
	store_rollback(st); /* when nothing was written */
	if (ret == -1)
		*first_out = u;
	errno = saved;
	return ret;
}
