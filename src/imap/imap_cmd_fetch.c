/*
 * FETCH and UID FETCH (RFC 9051 6.4.5, 6.4.9; RFC 3501 6.4.5, 6.4.8): a
 * job that walks the messages of the set and lets imap_fetch_msg.c write
 * each response, opening the message file and getting its MIME structure
 * (from the index's cache, store_msg_tree) only when the items need them.
 * Structures the index lacks are parsed ahead, a window at a time, on
 * several workers (imap_fetch_pre.c), and written to the index in a run
 * of their own after the tagged reply has gone out.
 * The output goes out in pieces of about IMAP_JOB_OUT_CHUNK: the job
 * stops there and goes on once the client has read it, so that a FETCH
 * of 100,000 messages or of one 20 MB body never piles up in memory.
 *
 * \Seen is set (RFC 9051 6.4.5) in one transaction before the first
 * response, for the messages that lack it, and their FLAGS are sent.
 * Messages expunged by another session meanwhile are left out and the
 * command ends NO [EXPUNGEISSUED] (RFC 5530 3).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "imap/imap_cmd.h"
#include "imap/imap_fetch_pre.h"
#include "imap/imap_fetch_msg.h"
#include "imap/imap_job.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_session_private.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mime/mime_tree.h"
#include "store/store.h"

/* What the file is read in, per writer step. */
#define IMAP_FETCH_STEP (64 * 1024)

struct imap_fetch_ctx {
	size_t *idx, n, pos; /* the messages; the next one */
	unsigned needs;      /* enum imap_fetch_need */
	unsigned char *seen; /* per idx entry: \Seen set by this FETCH */
	const char *kw[STORE_MAX_KEYWORDS];
	bool started;
	bool expunged;    /* some message was gone */
	bool flush_after; /* replied: the trees to the index */
	/* the message being written; the writer is kept for the next */
	struct imap_fetch_writer *w;
	bool writing;
	struct imap_fetch_msg_in in;
	struct mime_tree *tree;
	int fd;
	struct imap_fetch_pre pre; /* trees parsed ahead */
};

static void
imap_fetch_msg_end(struct imap_fetch_ctx *x)
{
	x->writing = false;
	mime_tree_free(&x->tree);
	if (x->fd != -1)
		(void)close(x->fd);
	x->fd = -1;
}

static void
imap_fetch_ctx_free(struct imap_job *j)
{
	struct imap_fetch_ctx *x = j->ctx;

	imap_fetch_msg_end(x);
	imap_fetch_pre_free(&x->pre);
	imap_fetch_writer_free(&x->w);
	free(x->idx);
	free(x->seen);
	free(x);
}

/* Sets \Seen on the messages that lack it (RFC 9051 6.4.5); 0 or -1. */
static int
imap_fetch_set_seen(struct imap_job *j, struct imap_fetch_ctx *x)
{
	struct imap_session *s = j->s;
	struct store_flag_change *ch;
	size_t k, n = 0;
	int ret = 0;

	x->seen = xcalloc(x->n ? x->n : 1, 1);
	/* not replace: \Seen is added to the flags as they are now */
	ch = xcalloc(x->n ? x->n : 1, sizeof(*ch));
	for (k = 0; k < x->n; k++) {
		const struct store_msg *m = store_mailbox_msg(s->mb, x->idx[k]);

		if (m->flags & STORE_FLAG_SEEN)
			continue;
		ch[n].i = x->idx[k];
		ch[n].flags = m->flags | STORE_FLAG_SEEN;
		ch[n].keywords = m->keywords;
		n++;
		x->seen[k] = 1;
	}
	if (n > 0 && store_mailbox_set_flags(s->mb, ch, n, &j->err) == -1)
		ret = -1;
	free(ch);
	return ret;
}

/* Starts the first FETCH run: sync (UID FETCH), the set, \Seen. */
static int
imap_fetch_start(struct imap_job *j, struct imap_fetch_ctx *x)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	const char *why;
	uint32_t defined;
	size_t k;

	x->started = true;
	/* RFC 9051 7.4.1: expunges may be announced in UID FETCH only */
	if (c->uid && imap_job_sync_quick(j) == -1) {
		imap_job_store_error(j, "FETCH");
		return -1;
	}
	if (imap_mailbox_resolve(
	        s, &c->u.msg.set, c->uid, &x->idx, &x->n, &why) == -1) {
		imap_job_tagged(j, "BAD", "Error in IMAP command FETCH: %s", why);
		return -1;
	}
	x->needs = imap_fetch_needs(&c->u.msg.fetch);
	for (k = 0; k < STORE_MAX_KEYWORDS; k++)
		x->kw[k] = store_mailbox_keyword_name(s->mb, k);
	defined = store_mailbox_keywords_defined(s->mb);
	if (imap_fetch_sets_seen(&c->u.msg.fetch) && !s->read_only &&
	    imap_fetch_set_seen(j, x) == -1) {
		imap_job_store_error(j, "FETCH");
		return -1;
	}
	/* \Seen added to flags another session changed may bring its
	 * keywords: announced before the FLAGS that show them */
	if ((store_mailbox_keywords_defined(s->mb) & ~defined) != 0) {
		imap_job_flags_announce(j);
		for (k = 0; k < STORE_MAX_KEYWORDS; k++)
			x->kw[k] = store_mailbox_keyword_name(s->mb, k);
	}
	return 0;
}

/* Opens what message x->pos needs and makes its writer: 1 ready, 0
 * skipped (gone), -1 after a tagged reply. */
static int
imap_fetch_msg_begin(struct imap_job *j, struct imap_fetch_ctx *x)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	size_t i = x->idx[x->pos];
	const struct store_msg *m = store_mailbox_msg(s->mb, i);
	const char *code = NULL;
	int r;

	if (x->needs & IMAP_FETCH_NEED_TREE) {
		bool keep_fd = (x->needs & IMAP_FETCH_NEED_FILE) != 0;
		struct imap_fetch_pre_msg *e;

		if ((e = imap_fetch_pre_get(&x->pre, x->pos)) == NULL) {
			imap_fetch_pre_fill(
			    s, &x->pre, x->idx, x->n, x->pos, keep_fd);
			e = imap_fetch_pre_get(&x->pre, x->pos);
		}
		MW_ASSERT(e != NULL && e->i == i);
		x->tree = e->tree;
		x->fd = e->fd;
		e->tree = NULL;
		e->fd = -1;
	}
	if ((x->needs & (IMAP_FETCH_NEED_FILE | IMAP_FETCH_NEED_TREE)) != 0) {
		bool need_file = (x->needs & IMAP_FETCH_NEED_FILE) != 0;

		/* the tree alone may come from the cache without the file */
		if (need_file && x->fd == -1 &&
		    store_msg_open(s->mb, i, &x->fd) == -1) {
			if (errno == ENOENT) {
				x->expunged = true;
				return 0;
			}
			(void)!buf_printf(&j->err, "cannot open message %u: %m",
			    m->uid);
			imap_job_store_error(j, "FETCH");
			return -1;
		}
		if ((x->needs & IMAP_FETCH_NEED_TREE) && x->tree == NULL &&
		    store_msg_tree(s->mb, i, x->fd, &x->tree, &j->err) == -1) {
			if (errno == ENOENT) {
				x->expunged = true;
				imap_fetch_msg_end(x);
				return 0;
			}
			imap_job_store_error(j, "FETCH");
			return -1;
		}
	}
	x->in.seq = (uint32_t)(i + 1);
	/* again: store_msg_open may have made the view's arrays its own */
	x->in.msg = store_mailbox_msg(s->mb, i);
	x->in.keywords = x->kw;
	x->in.nkeywords = STORE_MAX_KEYWORDS;
	x->in.recent = !s->rev2 && m->uid >= s->first_recent_uid;
	x->in.tree = x->tree;
	x->in.fd = x->fd;
	x->in.utf8 = s->utf8;
	x->in.add_uid = c->uid;
	x->in.add_flags = x->seen != NULL && x->seen[x->pos];
	/* one writer for all the messages of the command */
	if (x->w != NULL)
		r = imap_fetch_writer_next(x->w, &x->in, &code);
	else
		r = imap_fetch_writer_new(
		    &c->u.msg.fetch, &x->in, &x->w, &code);
	if (r == -1) {
		/* RFC 3516 4.1: BINARY of an unknown encoding */
		imap_job_tagged(j, "NO", "[%s] Unknown Content-Transfer-Encoding.",
		    code != NULL ? code : "UNKNOWN-CTE");
		return -1;
	}
	x->writing = true;
	return 1;
}

static void
imap_fetch_run(struct imap_job *j)
{
	struct imap_fetch_ctx *x = j->ctx;
	struct imap_session *s = j->s;
	int r;

	if (x->flush_after) {
		if (store_mailbox_flush(s->mb, &j->err) == -1)
			log_warn("imap(%s): cannot cache message structure: %s",
			    log_sanitize_str(s->username), buf_cstr(&j->err));
		store_shrink(s->store);
		return;
	}
	if (!x->started && imap_fetch_start(j, x) == -1)
		return;
	while (x->pos < x->n || x->writing) {
		if (!x->writing) {
			r = imap_fetch_msg_begin(j, x);
			if (r == -1)
				goto stop;
			if (r == 0) {
				x->pos++;
				continue;
			}
		}
		do {
			r = imap_fetch_writer_step(x->w, &j->out,
			    IMAP_FETCH_STEP);
		} while (r == 1 && j->out.len < IMAP_JOB_OUT_CHUNK);
		if (r == -1) {
			/* the response is broken halfway: only closing
			 * the connection tells the client */
			log_warn("imap(%s): FETCH of UID %u failed: %m",
			    log_sanitize_str(s->username), x->in.msg->uid);
			(void)!buf_append_str(&j->out,
			    "\r\n* BYE Internal error while reading a "
			    "message.\r\n");
			s->closing_after_job = true;
			goto stop;
		}
		if (r == 0) {
			imap_fetch_msg_end(x);
			x->pos++;
		}
		if (j->out.len >= IMAP_JOB_OUT_CHUNK) {
			j->more = true;
			return;
		}
	}
	if (x->expunged)
		imap_job_tagged(j, "NO",
		    "[EXPUNGEISSUED] Some of the requested messages no longer "
		    "exist.");
	else
		imap_job_tagged(j, "OK", "Fetch completed.");
	/* the trees parsed go to the index in a run of their own once the
	 * reply is on its way: the client does not wait for a cache, and
	 * the session stays busy, so its next command sees them */
	if (store_mailbox_unflushed(s->mb)) {
		x->flush_after = true;
		j->more = true;
		imap_fetch_msg_end(x);
		return;
	}
stop:
	imap_fetch_msg_end(x);
	store_shrink(s->store);
}

void
imap_cmd_fetch(struct imap_session *s, const struct imap_command *c)
{
	struct imap_fetch_ctx *x = xcalloc(1, sizeof(*x));
	struct imap_job *j;

	(void)c;
	x->fd = -1;
	j = imap_job_new(s, imap_fetch_run, x);
	j->free = imap_fetch_ctx_free;
	imap_job_submit(j);
}
