/*
 * The mailbox commands of the authenticated state (RFC 9051 6.3):
 * SELECT and EXAMINE (6.3.2, 6.3.3), CREATE (6.3.4, RFC 6154 3 USE),
 * DELETE (6.3.5), RENAME (6.3.6), SUBSCRIBE and UNSUBSCRIBE (6.3.7,
 * 6.3.8), NAMESPACE (6.3.10, RFC 2342) and STATUS (6.3.11, RFC 8438
 * SIZE, RFC 7889 APPENDLIMIT). LIST and LSUB are in imap_cmd_list.c.
 * Failures carry RFC 5530 response codes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap/imap_cmd.h"
#include "imap/imap_flags.h"
#include "imap/imap_job.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_session_private.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "store/store_folder_name.h"

/* Longest store name, as bytes (levels of NAME_MAX, UTF-8 of mUTF-7). */
#define IMAP_NAME_MAX 4096

/* The store's name of c's mailbox into name; false after a NO. */
static bool
imap_mbox_name(struct imap_job *j, const struct imap_mailbox *mb,
    struct buf *name)
{
	const char *why = NULL;

	if (imap_mbox_from_client(j->s, mb->name, name, &why) == 0)
		return true;
	imap_job_tagged(j, "NO", "[CANNOT] %s", why);
	return false;
}

/* The reply for a store error on the named mailbox. */
static void
imap_mbox_error(struct imap_job *j, int e, const char *what)
{
	switch (e) {
	case ENOENT:
		imap_job_tagged(j, "NO", "[NONEXISTENT] Mailbox doesn't exist.");
		return;
	case EEXIST:
		imap_job_tagged(
		    j, "NO", "[ALREADYEXISTS] Mailbox already exists.");
		return;
	case EINVAL:
		imap_job_tagged(j, "NO", "[CANNOT] %s", buf_cstr(&j->err));
		return;
	case ENOSPC:
	case EDQUOT:
		imap_job_tagged(j, "NO", "[OVERQUOTA] Not enough disk space.");
		return;
	default:
		imap_job_store_error(j, what);
	}
}

/* Leaves the selected state (for SELECT of another mailbox, or DELETE
 * and RENAME of the selected one). */
static void
imap_mbox_deselect(struct imap_session *s)
{
	store_mailbox_close(&s->mb);
	free(s->mbox_name);
	s->mbox_name = NULL;
	s->state = IMAP_STATE_AUTH;
	s->exists = 0;
	free(s->saved_uids);
	s->saved_uids = NULL;
	s->nsaved = 0;
}

/* Whether name is the selected mailbox or below it. */
static bool
imap_mbox_is_selected(const struct imap_session *s, const char *name)
{
	size_t n = strlen(name);

	return s->mbox_name != NULL && strncmp(s->mbox_name, name, n) == 0 &&
	    (s->mbox_name[n] == '\0' || s->mbox_name[n] == '/');
}

/* "(\Answered ... kw)" of the mailbox's flags; with star "\*" (RFC 9051
 * 7.1 PERMANENTFLAGS: new keywords may be made). */
static void
imap_mbox_flag_list(struct imap_job *j, bool permanent)
{
	struct store_mailbox *mb = j->s->mb;
	const char *names[STORE_MAX_KEYWORDS];
	size_t k, used = 0;

	for (k = 0; k < STORE_MAX_KEYWORDS; k++)
		if ((names[k] = store_mailbox_keyword_name(mb, k)) != NULL)
			used++;
	(void)!imap_flags_append(&j->out,
	    STORE_FLAG_SEEN | STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED |
	        STORE_FLAG_DELETED | STORE_FLAG_DRAFT,
	    UINT32_MAX, names, STORE_MAX_KEYWORDS, false);
	if (permanent && used < STORE_MAX_KEYWORDS) {
		buf_truncate(&j->out, j->out.len - 1);
		(void)!buf_append_str(&j->out, " \\*)");
	}
}

/* --- SELECT, EXAMINE ------------------------------------------------------ */

static void
imap_select_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	bool examine = c->id == IMAP_CMD_EXAMINE;
	struct store_mailbox *mb = NULL;
	struct buf name;
	size_t n, i, first_unseen = 0;

	buf_init(&name, IMAP_NAME_MAX);
	if (s->mb != NULL) {
		imap_mbox_deselect(s);
		/* RFC 9051 7.1: CLOSED, the previous mailbox is gone */
		if (s->rev2)
			imap_job_untagged(
			    j, "OK [CLOSED] Previous mailbox closed.");
	}
	if (!imap_mbox_name(j, &c->u.select.mbox, &name))
		goto out;
	if (store_mailbox_open(s->store, buf_cstr(&name), examine, &mb,
	        &j->err) == -1) {
		imap_mbox_error(j, errno, "SELECT");
		goto out;
	}
	s->mb = mb;
	s->mbox_name = xstrdup(buf_cstr(&name));
	s->read_only = examine;
	n = store_mailbox_count(mb);
	s->exists = (uint32_t)n;
	s->first_recent_uid = store_mailbox_uidnext(mb);
	/* RFC 3501 2.3.2: this session takes \Recent of what is new */
	if (!s->rev2 && store_mailbox_take_recent(mb, &s->first_recent_uid,
	                    &j->err) == -1)
		log_warn("imap(%s): cannot take \\Recent: %s",
		    log_sanitize_str(s->username), buf_cstr(&j->err));
	(void)!buf_append_str(&j->out, "* FLAGS ");
	imap_mbox_flag_list(j, false);
	(void)!buf_append_str(&j->out, "\r\n* OK [PERMANENTFLAGS ");
	if (examine)
		(void)!buf_append_str(&j->out, "()");
	else
		imap_mbox_flag_list(j, true);
	(void)!buf_append_str(&j->out, "] Flags permitted.\r\n");
	imap_job_untagged(j, "%zu EXISTS", n);
	if (!s->rev2) {
		/* RFC 3501 6.3.1: RECENT, and UNSEEN for the first unseen */
		imap_job_untagged(j, "%zu RECENT", imap_mailbox_recent_count(s));
		for (i = 0; i < n; i++)
			if (!(store_mailbox_msg(mb, i)->flags &
			        STORE_FLAG_SEEN)) {
				first_unseen = i + 1;
				break;
			}
		if (first_unseen > 0)
			imap_job_untagged(j,
			    "OK [UNSEEN %zu] First unseen.", first_unseen);
	}
	imap_job_untagged(j, "OK [UIDVALIDITY %u] UIDs valid",
	    store_mailbox_uidvalidity(mb));
	imap_job_untagged(j, "OK [UIDNEXT %u] Predicted next UID",
	    store_mailbox_uidnext(mb));
	if (s->rev2) {
		/* RFC 9051 6.3.2: a LIST response with the name */
		(void)!buf_printf(&j->out, "* LIST () \"%c\" ", s->srv->sep);
		(void)!imap_mbox_append(s, s->mbox_name, &j->out);
		(void)!buf_append_str(&j->out, "\r\n");
	}
	s->state = IMAP_STATE_SELECTED;
	imap_job_tagged(j, "OK", "[%s] %s completed",
	    examine ? "READ-ONLY" : "READ-WRITE",
	    examine ? "Examine" : "Select");
out:
	buf_free(&name);
	if (s->store != NULL)
		store_shrink(s->store);
}

void
imap_cmd_select(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_select_run, NULL));
}

/* --- CREATE, DELETE, RENAME, SUBSCRIBE ---------------------------------- */

static void
imap_create_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	struct buf name;

	buf_init(&name, IMAP_NAME_MAX);
	if (c->u.create.use_unknown) {
		/* RFC 6154 3 */
		imap_job_tagged(j, "NO", "[USEATTR] Unsupported special-use "
		                         "attribute.");
		goto out;
	}
	if (!imap_mbox_name(j, &c->u.create.mbox, &name))
		goto out;
	/* RFC 9051 6.3.4: a trailing separator declares the intent to
	 * create names below: the name is created without it */
	if (name.len > 1 && name.data[name.len - 1] == STORE_FOLDER_SEP)
		buf_truncate(&name, name.len - 1);
	if (store_folder_create(s->store, buf_cstr(&name),
	        c->u.create.use & STORE_USE_MASK, &j->err) == -1) {
		imap_mbox_error(j, errno, "CREATE");
		goto out;
	}
	imap_job_tagged(j, "OK", "Create completed.");
out:
	buf_free(&name);
	store_shrink(s->store);
}

void
imap_cmd_create(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_create_run, NULL));
}

static void
imap_delete_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	struct buf name;

	buf_init(&name, IMAP_NAME_MAX);
	if (!imap_mbox_name(j, &c->u.mailbox.mbox, &name))
		goto out;
	if (strcmp(buf_cstr(&name), "INBOX") == 0) {
		/* RFC 9051 6.3.5: deleting INBOX is an error */
		imap_job_tagged(j, "NO", "[CANNOT] INBOX can't be deleted.");
		goto out;
	}
	/* As Dovecot: the selected mailbox is closed first; RFC 9051 7.1
	 * CLOSED tells the client */
	if (s->mbox_name != NULL && strcmp(s->mbox_name, buf_cstr(&name)) == 0) {
		imap_mbox_deselect(s);
		imap_job_untagged(j, "OK [CLOSED] Mailbox closed.");
	}
	if (store_folder_delete(s->store, buf_cstr(&name), &j->err) == -1) {
		imap_mbox_error(j, errno, "DELETE");
		goto out;
	}
	imap_job_tagged(j, "OK", "Delete completed.");
out:
	buf_free(&name);
	store_shrink(s->store);
}

void
imap_cmd_delete(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_delete_run, NULL));
}

static void
imap_rename_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	struct buf from, to;

	buf_init(&from, IMAP_NAME_MAX);
	buf_init(&to, IMAP_NAME_MAX);
	if (!imap_mbox_name(j, &c->u.rename.from, &from) ||
	    !imap_mbox_name(j, &c->u.rename.to, &to))
		goto out;
	/* the view of a renamed folder would point at a moved directory;
	 * INBOX stays where it is (RFC 9051 6.3.6: its messages move, its
	 * children do not), so a view of it or below sees EXPUNGEs */
	if (strcmp(buf_cstr(&from), "INBOX") != 0 &&
	    imap_mbox_is_selected(s, buf_cstr(&from))) {
		imap_mbox_deselect(s);
		imap_job_untagged(j, "OK [CLOSED] Mailbox closed.");
	}
	if (store_folder_rename(s->store, buf_cstr(&from), buf_cstr(&to),
	        &j->err) == -1) {
		imap_mbox_error(j, errno, "RENAME");
		goto out;
	}
	imap_job_tagged(j, "OK", "Rename completed.");
out:
	buf_free(&from);
	buf_free(&to);
	store_shrink(s->store);
}

void
imap_cmd_rename(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_rename_run, NULL));
}

static void
imap_subscribe_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	bool on = c->id == IMAP_CMD_SUBSCRIBE;
	struct buf name;

	buf_init(&name, IMAP_NAME_MAX);
	if (!imap_mbox_name(j, &c->u.mailbox.mbox, &name))
		goto out;
	/* RFC 9051 6.3.7: a name need not exist to be subscribed */
	if (store_folder_subscribe(s->store, buf_cstr(&name), on, &j->err) ==
	    -1) {
		imap_mbox_error(j, errno, on ? "SUBSCRIBE" : "UNSUBSCRIBE");
		goto out;
	}
	imap_job_tagged(j, "OK", "%s completed.",
	    on ? "Subscribe" : "Unsubscribe");
out:
	buf_free(&name);
}

void
imap_cmd_subscribe(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_subscribe_run, NULL));
}

void
imap_cmd_namespace(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	/* RFC 2342 5: one personal namespace, no others (Dovecot's default
	 * inbox namespace: prefix "", Maildir++'s separator) */
	imap_sendf(s, "* NAMESPACE ((\"\" \"%c\")) NIL NIL", s->srv->sep);
	imap_tagged(s, "OK", "Namespace completed.");
}

/* --- STATUS --------------------------------------------------------------- */

/*
 * Appends "(MESSAGES n ...)" for the items asked (RFC 9051 6.3.11, the
 * order of the request's bits). Shared with LIST-STATUS.
 */
void
imap_status_items(struct imap_session *s, unsigned items,
    const struct store_folder_status *st, struct buf *out)
{
	const char *sp = "";

	(void)!buf_append_char(out, '(');
#define ITEM(bit, fmt, v)                                                      \
	do {                                                                   \
		if (items & (bit)) {                                           \
			(void)!buf_printf(out, "%s" fmt, sp, v);               \
			sp = " ";                                              \
		}                                                              \
	} while (0)
	ITEM(IMAP_STATUS_MESSAGES, "MESSAGES %u", st->messages);
	ITEM(IMAP_STATUS_RECENT, "RECENT %u", st->recent);
	ITEM(IMAP_STATUS_UIDNEXT, "UIDNEXT %u", st->uidnext);
	ITEM(IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY %u", st->uidvalidity);
	ITEM(IMAP_STATUS_UNSEEN, "UNSEEN %u", st->unseen);
	ITEM(IMAP_STATUS_DELETED, "DELETED %u", st->deleted);
	ITEM(IMAP_STATUS_SIZE, "SIZE %llu", (unsigned long long)st->size);
	ITEM(IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %llu",
	    (unsigned long long)st->highestmodseq);
	ITEM(IMAP_STATUS_APPENDLIMIT, "APPENDLIMIT %llu",
	    (unsigned long long)s->srv->append_limit);
#undef ITEM
	(void)!buf_append_char(out, ')');
}

static void
imap_status_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	struct store_folder_status st;
	struct buf name;

	buf_init(&name, IMAP_NAME_MAX);
	if (!imap_mbox_name(j, &c->u.status.mbox, &name))
		goto out;
	if (store_folder_status(s->store, buf_cstr(&name), &st, &j->err) ==
	    -1) {
		imap_mbox_error(j, errno, "STATUS");
		goto out;
	}
	(void)!buf_append_str(&j->out, "* STATUS ");
	(void)!imap_mbox_append(s, buf_cstr(&name), &j->out);
	(void)!buf_append_char(&j->out, ' ');
	imap_status_items(s, c->u.status.items, &st, &j->out);
	(void)!buf_append_str(&j->out, "\r\n");
	imap_job_tagged(j, "OK", "Status completed.");
out:
	buf_free(&name);
	store_shrink(s->store);
}

void
imap_cmd_status(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_status_run, NULL));
}
