/*
 * The commands of the selected state that change or refresh the view
 * (RFC 9051 6.4): NOOP and CHECK as a sync (6.1.2; CHECK is RFC 3501
 * 6.4.1), CLOSE (6.4.1) and UNSELECT (6.4.2, RFC 3691), EXPUNGE (6.4.3)
 * and UID EXPUNGE (RFC 4315 2.1), STORE (6.4.6), COPY (6.4.7, RFC 4315
 * COPYUID) and MOVE (6.4.8, RFC 6851). FETCH and SEARCH have files of
 * their own.
 *
 * Expunges are announced only where RFC 9051 7.4.1 allows: these UID
 * commands sync first; FETCH, STORE and SEARCH by number do not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_cmd.h"
#include "imap/imap_flags.h"
#include "imap/imap_job.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_session_private.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

/* --- NOOP, CHECK ---------------------------------------------------------- */

static void
imap_sync_run(struct imap_job *j)
{
	const struct imap_command *c = j->s->cmd;

	if (imap_job_sync(j) == -1) {
		imap_job_store_error(j, imap_cmd_name(c->id));
		return;
	}
	store_shrink(j->s->store);
	imap_job_tagged(j, "OK", "%s completed.",
	    c->id == IMAP_CMD_CHECK ? "Check" : "NOOP");
}

void
imap_cmd_sync(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_sync_run, NULL));
}

/* --- CLOSE, UNSELECT ------------------------------------------------------ */

/* The indexes of the messages flagged \Deleted, of those in idx[0..n)
 * (or all when idx is NULL), into *out (malloc'd). */
static size_t
imap_deleted_indexes(struct imap_session *s, const size_t *idx, size_t n,
    size_t **out)
{
	size_t count = idx != NULL ? n : store_mailbox_count(s->mb), k, m = 0;
	size_t *v = xreallocarray(NULL, count ? count : 1, sizeof(*v));

	for (k = 0; k < count; k++) {
		size_t i = idx != NULL ? idx[k] : k;

		if (store_mailbox_msg(s->mb, i)->flags & STORE_FLAG_DELETED)
			v[m++] = i;
	}
	*out = v;
	return m;
}

static void
imap_close_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	size_t *idx = NULL, n;

	/* RFC 9051 6.4.1: CLOSE expunges silently, not when read-only */
	if (c->id == IMAP_CMD_CLOSE && !s->read_only) {
		n = imap_deleted_indexes(s, NULL, 0, &idx);
		if (n > 0 &&
		    store_mailbox_expunge(s->mb, idx, n, &j->err) == -1)
			log_warn("imap(%s): CLOSE: expunge failed: %s",
			    log_sanitize_str(s->username), buf_cstr(&j->err));
		free(idx);
	}
	store_mailbox_close(&s->mb);
	free(s->mbox_name);
	s->mbox_name = NULL;
	free(s->saved_uids);
	s->saved_uids = NULL;
	s->nsaved = 0;
	s->exists = 0;
	s->state = IMAP_STATE_AUTH;
	store_shrink(s->store);
	imap_job_tagged(j, "OK", "%s completed.",
	    c->id == IMAP_CMD_CLOSE ? "Close" : "Unselect");
}

void
imap_cmd_close(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_close_run, NULL));
}

/* --- EXPUNGE, UID EXPUNGE ------------------------------------------------- */

/* Expunges idx[0..n) (ascending) and announces them; 0 or -1 (replied). */
static int
imap_expunge_announce(struct imap_job *j, const size_t *idx, size_t n)
{
	struct imap_session *s = j->s;
	size_t k;

	if (n == 0)
		return 0;
	if (store_mailbox_expunge(s->mb, idx, n, &j->err) == -1) {
		imap_job_store_error(j, "EXPUNGE");
		return -1;
	}
	/* highest first: each number is right as the client reads it */
	for (k = n; k-- > 0;)
		imap_job_untagged(j, "%zu EXPUNGE", idx[k] + 1);
	s->exists -= (uint32_t)n;
	return 0;
}

static void
imap_expunge_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	size_t *set = NULL, nset = 0, *idx = NULL, n;
	const char *why;

	if (s->read_only) {
		imap_job_tagged(j, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	if (imap_job_sync(j) == -1) {
		imap_job_store_error(j, "EXPUNGE");
		return;
	}
	if (c->uid && imap_mailbox_resolve(s, &c->u.msg.set, true, &set,
	                  &nset, &why) == -1) {
		imap_job_tagged(j, "BAD", "Error in IMAP command %s%s: %s",
		    c->uid ? "UID " : "", imap_cmd_name(c->id), why);
		return;
	}
	/* a UID set naming nothing expunges nothing (set is NULL then,
	 * which imap_deleted_indexes() takes for all) */
	n = c->uid && nset == 0
	    ? 0
	    : imap_deleted_indexes(s, c->uid ? set : NULL, nset, &idx);
	if (imap_expunge_announce(j, idx, n) == 0)
		imap_job_tagged(j, "OK", "Expunge completed.");
	free(idx);
	free(set);
	store_shrink(s->store);
}

void
imap_cmd_expunge(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_expunge_run, NULL));
}

/* --- STORE ---------------------------------------------------------------- */

static void
imap_store_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	enum imap_store_op op = c->u.msg.store.op;
	struct store_flag_change *ch = NULL;
	size_t *idx = NULL, n = 0, k, nch = 0;
	uint32_t sys, kw, defined;
	const char *why;
	bool made = false;

	if (s->read_only) {
		imap_job_tagged(j, "NO", "[READ-ONLY] Mailbox is read-only.");
		return;
	}
	if (c->uid && imap_job_sync_quick(j) == -1) {
		imap_job_store_error(j, "STORE");
		return;
	}
	if (imap_mailbox_resolve(s, &c->u.msg.set, c->uid, &idx, &n, &why) ==
	    -1) {
		imap_job_tagged(j, "BAD", "Error in IMAP command %s%s: %s",
		    c->uid ? "UID " : "", imap_cmd_name(c->id), why);
		return;
	}
	sys = imap_flags_to_store(c->u.msg.store.flags.sys);
	defined = store_mailbox_keywords_defined(s->mb);
	if (imap_job_keywords(j, s->mb, &c->u.msg.store.flags,
	        op != IMAP_STORE_REMOVE, &kw, &made) == -1)
		goto out;
	ch = xreallocarray(NULL, n ? n : 1, sizeof(*ch));
	for (k = 0; k < n; k++) {
		const struct store_msg *m = store_mailbox_msg(s->mb, idx[k]);
		uint32_t f = m->flags, w = m->keywords;

		switch (op) {
		case IMAP_STORE_REPLACE:
			/* PASSED is no IMAP flag: it stays */
			f = sys | (m->flags & STORE_FLAG_PASSED);
			w = kw;
			break;
		case IMAP_STORE_ADD:
			f |= sys;
			w |= kw;
			break;
		case IMAP_STORE_REMOVE:
			f &= ~sys;
			w &= ~kw;
			break;
		}
		if (f == m->flags && w == m->keywords)
			continue;
		ch[nch].i = idx[k];
		ch[nch].flags = f;
		ch[nch].keywords = w;
		/* RFC 9051 6.4.6: FLAGS replaces, +FLAGS / -FLAGS change
		 * only the flags named (another session's stay) */
		ch[nch].replace = op == IMAP_STORE_REPLACE;
		nch++;
	}
	if (nch > 0 && store_mailbox_set_flags(s->mb, ch, nch, &j->err) == -1) {
		imap_job_store_error(j, "STORE");
		goto out;
	}
	/* the client learns the new keywords first (Dovecot's order): its
	 * own, and those of another session that the messages now show */
	if (made ||
	    (store_mailbox_keywords_defined(s->mb) & ~defined) != 0)
		imap_job_flags_announce(j);
	/* RFC 9051 6.4.6: the new flags of each message, unless .SILENT;
	 * UID STORE names the UID (6.4.9) */
	if (!c->u.msg.store.silent)
		for (k = 0; k < n; k++)
			imap_job_flags_line(j, idx[k], c->uid || s->rev2);
	imap_job_tagged(j, "OK", "Store completed.");
out:
	free(ch);
	free(idx);
	store_shrink(s->store);
}

void
imap_cmd_store(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_store_run, NULL));
}

/* --- COPY, MOVE ----------------------------------------------------------- */

/* Store names of one folder (INBOX in any case, RFC 9051 5.1). */
static bool
imap_same_folder(const char *a, const char *b)
{
	return strcmp(a, b) == 0 ||
	    (strcasecmp(a, "INBOX") == 0 && strcasecmp(b, "INBOX") == 0);
}

/*
 * MOVE into the selected mailbox itself (Dovecot does it: the messages
 * get new UIDs): the store's move refuses that, so a copy, then an
 * expunge of what was copied. A failure in between leaves them twice,
 * never lost (as store_mailbox_move). uids as store_mailbox_move.
 */
static int
imap_move_self(struct imap_job *j, const size_t *idx, size_t n,
    struct store_mailbox *dst, uint32_t *uids)
{
	struct imap_session *s = j->s;
	size_t *gone, k, m = 0;
	int r;

	if (store_mailbox_copy(s->mb, idx, n, dst, uids, &j->err) == -1)
		return -1;
	gone = xreallocarray(NULL, n, sizeof(*gone));
	for (k = 0; k < n; k++)
		if (uids[k] != 0)
			gone[m++] = idx[k];
	r = m > 0 ? store_mailbox_expunge(s->mb, gone, m, &j->err) : 0;
	free(gone);
	return r;
}

static void
imap_copy_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	bool move = c->id == IMAP_CMD_MOVE, self;
	struct store_mailbox *dst = NULL;
	size_t *idx = NULL, n = 0, k, m = 0;
	uint32_t *uids = NULL, *src = NULL, *dsts = NULL;
	const char *why = NULL;
	struct buf name, codes;

	buf_init(&name, 4096);
	buf_init(&codes, 1024 * 1024);
	if (move && s->read_only) {
		imap_job_tagged(j, "NO", "[READ-ONLY] Mailbox is read-only.");
		goto out;
	}
	if (c->uid && imap_job_sync(j) == -1) {
		imap_job_store_error(j, imap_cmd_name(c->id));
		goto out;
	}
	if (imap_mailbox_resolve(s, &c->u.msg.set, c->uid, &idx, &n, &why) ==
	    -1) {
		imap_job_tagged(j, "BAD", "Error in IMAP command %s%s: %s",
		    c->uid ? "UID " : "", imap_cmd_name(c->id), why);
		goto out;
	}
	if (imap_mbox_from_client(s, c->u.msg.dest.name, &name, &why) == -1) {
		imap_job_tagged(j, "NO", "[CANNOT] %s", why);
		goto out;
	}
	if (store_mailbox_open(s->store, buf_cstr(&name), false, &dst,
	        &j->err) == -1) {
		/* RFC 9051 6.4.7: TRYCREATE when it does not exist */
		if (errno == ENOENT)
			imap_job_tagged(j, "NO",
			    "[TRYCREATE] Mailbox doesn't exist.");
		else if (errno == EINVAL)
			imap_job_tagged(j, "NO", "[CANNOT] %s",
			    buf_cstr(&j->err));
		else
			imap_job_store_error(j, imap_cmd_name(c->id));
		goto out;
	}
	if (n == 0) {
		/* RFC 9051 6.4.9: a UID set naming nothing copies nothing */
		imap_job_tagged(j, "OK", "No messages found.");
		goto out;
	}
	uids = xreallocarray(NULL, n, sizeof(*uids));
	src = xreallocarray(NULL, n, sizeof(*src));
	dsts = xreallocarray(NULL, n, sizeof(*dsts));
	/* the UIDs before MOVE takes the messages out of the view */
	for (k = 0; k < n; k++)
		src[k] = store_mailbox_msg(s->mb, idx[k])->uid;
	self = move && imap_same_folder(buf_cstr(&name), s->mbox_name);
	if ((self     ? imap_move_self(j, idx, n, dst, uids)
	        : move ? store_mailbox_move(s->mb, idx, n, dst, uids, &j->err)
	               : store_mailbox_copy(
	                     s->mb, idx, n, dst, uids, &j->err)) == -1) {
		if (errno == ENOSPC || errno == EDQUOT)
			imap_job_tagged(
			    j, "NO", "[OVERQUOTA] Not enough disk space.");
		else
			imap_job_store_error(j, imap_cmd_name(c->id));
		goto out;
	}
	for (k = 0; k < n; k++) {
		if (uids[k] == 0)
			continue; /* gone meanwhile */
		src[m] = src[k];
		dsts[m++] = uids[k];
	}
	/* RFC 4315 3: COPYUID uidvalidity source-uids dest-uids */
	if (m > 0) {
		(void)!buf_printf(&codes, "[COPYUID %u ",
		    store_mailbox_uidvalidity(dst));
		(void)!imap_uidset_append(&codes, src, m);
		(void)!buf_append_char(&codes, ' ');
		(void)!imap_uidset_append(&codes, dsts, m);
		(void)!buf_append_str(&codes, "] ");
	}
	if (!move || m == 0) {
		if (m == 0)
			/* RFC 5530 3 */
			imap_job_tagged(j, "NO",
			    "[EXPUNGEISSUED] The requested messages no longer "
			    "exist.");
		else
			imap_job_tagged(
			    j, "OK", "%sCopy completed.", buf_cstr(&codes));
		goto out;
	}
	/* RFC 6851 3.3: COPYUID in an untagged OK before the EXPUNGEs,
	 * which come highest first (the moved ones left the view) */
	if (m > 0)
		imap_job_untagged(j, "OK %sMoved UIDs.", buf_cstr(&codes));
	for (k = n; k-- > 0;)
		if (uids[k] != 0)
			imap_job_untagged(j, "%zu EXPUNGE", idx[k] + 1);
	s->exists -= (uint32_t)m;
	/* into itself: the new copies as EXISTS now, as Dovecot sends */
	if (self && imap_job_sync(j) == -1) {
		imap_job_store_error(j, "MOVE");
		goto out;
	}
	imap_job_tagged(j, "OK", "Move completed.");
out:
	free(src);
	free(dsts);
	free(uids);
	free(idx);
	store_mailbox_close(&dst);
	buf_free(&name);
	buf_free(&codes);
	store_shrink(s->store);
}

void
imap_cmd_copy(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_copy_run, NULL));
}
