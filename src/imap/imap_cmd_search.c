/*
 * SEARCH and UID SEARCH (RFC 9051 6.4.4, RFC 3501 6.4.4) with ESEARCH
 * (RFC 4731: RETURN MIN MAX ALL COUNT, and always for IMAP4rev2 sessions)
 * and SEARCHRES (RFC 5182: RETURN (SAVE) and "$"): a job that prepares the
 * program (imap_search_eval.h) against the view and matches every
 * message, handing it the MIME structure only when the cheap keys do not
 * decide, and the message file only when the envelope does not either.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap/imap_cmd.h"
#include "imap/imap_job.h"
#include "imap/imap_search_eval.h"
#include "imap/imap_session_private.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mime/mime_tree.h"
#include "store/store.h"

struct imap_search_ctx {
	struct imap_session *s;
	struct buf *err;
	/* the message whose content was loaded */
	size_t loaded; /* view index + 1; 0: none */
	int fd;
	struct mime_tree *tree;
};

static void
imap_search_unload(struct imap_search_ctx *x)
{
	mime_tree_free(&x->tree);
	if (x->fd != -1)
		(void)close(x->fd);
	x->fd = -1;
	x->loaded = 0;
}

static int
imap_search_load(void *arg, uint32_t seq, const struct store_msg *m,
    bool need_file, int *fd_out, const struct mime_tree **tree_out)
{
	struct imap_search_ctx *x = arg;
	size_t i = (size_t)seq - 1;
	int e;

	(void)m;
	if (x->loaded != seq) {
		imap_search_unload(x);
		/* the file first when it is needed anyway: an uncached tree
		 * is parsed from it (store_msg_tree opens it otherwise) */
		if (need_file && store_msg_open(x->s->mb, i, &x->fd) == -1)
			return -1;
		if (store_msg_tree(x->s->mb, i, x->fd, &x->tree, x->err) == -1)
			goto fail;
		x->loaded = seq;
	} else if (need_file && x->fd == -1 &&
	    store_msg_open(x->s->mb, i, &x->fd) == -1) {
		goto fail;
	}
	*fd_out = x->fd;
	*tree_out = x->tree;
	return 0;
fail:
	e = errno;
	imap_search_unload(x);
	errno = e;
	return -1;
}

static int
imap_search_keyword(void *arg, struct imap_slice name)
{
	struct imap_search_ctx *x = arg;
	char kw[256];
	size_t bit;

	if (name.n >= sizeof(kw) || memchr(name.p, '\0', name.n) != NULL)
		return -1;
	memcpy(kw, name.p, name.n);
	kw[name.n] = '\0';
	if (store_mailbox_keyword_index(x->s->mb, kw, false, &bit, x->err) != 1)
		return -1;
	return (int)bit;
}

/* RFC 5182 2.1: SAVE keeps the UIDs (MIN and/or MAX only, when those are
 * all that was asked besides SAVE). */
static void
imap_search_save(struct imap_session *s, const uint32_t *uids, size_t n,
    unsigned ret)
{
	struct imap_range *r;
	size_t k, m = 0;
	bool minmax = (ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX)) &&
	    !(ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT));

	free(s->saved_uids);
	s->saved_uids = NULL;
	s->nsaved = 0;
	if (n == 0)
		return;
	r = xreallocarray(NULL, n, sizeof(*r));
	if (minmax) {
		if (ret & IMAP_SEARCH_RET_MIN)
			r[m++] = (struct imap_range){ uids[0], uids[0] };
		if ((ret & IMAP_SEARCH_RET_MAX) && (m == 0 || uids[n - 1] != uids[0]))
			r[m++] = (struct imap_range){ uids[n - 1], uids[n - 1] };
	} else
		for (k = 0; k < n; k++) {
			if (m > 0 && r[m - 1].hi + 1 == uids[k])
				r[m - 1].hi = uids[k];
			else
				r[m++] = (struct imap_range){ uids[k], uids[k] };
		}
	s->saved_uids = r;
	s->nsaved = m;
}

static void
imap_search_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	const struct imap_search *q = &c->u.search;
	struct imap_search_ctx x = { s, &j->err, 0, -1, NULL };
	struct imap_search_env env;
	struct imap_search_prog *p = NULL;
	struct imap_seqset saved = { 0 };
	uint32_t *v = NULL, *uids = NULL;
	size_t count, i, n = 0;
	bool match, ok = false, save = (q->ret & IMAP_SEARCH_RET_SAVE) != 0;
	bool gone = false;

	/* RFC 9051 7.4.1: UID SEARCH may announce expunges */
	if (c->uid && imap_job_sync_quick(j) == -1) {
		imap_job_store_error(j, "SEARCH");
		return;
	}
	count = store_mailbox_count(s->mb);
	memset(&env, 0, sizeof(env));
	env.count = (uint32_t)count;
	env.max_uid = count > 0 ? store_mailbox_msg(s->mb, count - 1)->uid : 0;
	saved.r = s->saved_uids;
	saved.n = s->nsaved;
	env.saved_uids = &saved;
	env.keyword_bit = imap_search_keyword;
	env.load = imap_search_load;
	env.arg = &x;
	env.rev1 = !s->rev2;
	if (imap_search_prepare(q, &env, &p, &j->err) == -1) {
		imap_job_tagged(j, "BAD", "Error in IMAP command SEARCH: %s",
		    buf_cstr(&j->err));
		return;
	}
	v = xreallocarray(NULL, count ? count : 1, sizeof(*v));
	uids = xreallocarray(NULL, count ? count : 1, sizeof(*uids));
	for (i = 0; i < count; i++) {
		const struct store_msg *m = store_mailbox_msg(s->mb, i);

		if (imap_search_prog_match(p, (uint32_t)(i + 1), m,
		        !s->rev2 && m->uid >= s->first_recent_uid,
		        &match) == -1) {
			if (errno == ENOENT) {
				/* expunged meanwhile: no match */
				gone = true;
				continue;
			}
			(void)!buf_printf(&j->err, " (UID %u: %m)", m->uid);
			imap_job_store_error(j, "SEARCH");
			goto out;
		}
		if (!match)
			continue;
		uids[n] = m->uid;
		v[n++] = c->uid ? m->uid : (uint32_t)(i + 1);
	}
	/* RFC 9051 6.4.4: an IMAP4rev2 session always gets ESEARCH */
	if (imap_search_reply(&j->out, v, n, q->esearch || s->rev2, q->ret,
	        c->tag, c->uid) == -1) {
		(void)!buf_printf(&j->err, "reply too long");
		imap_job_store_error(j, "SEARCH");
		goto out;
	}
	/* RFC 5530 3: another session expunged some; Dovecot says so */
	imap_job_tagged(
	    j, "OK", "%sSearch completed.", gone ? "[EXPUNGEISSUED] " : "");
	ok = true;
out:
	imap_search_unload(&x);
	/* the program may point at the old saved set: free it first */
	if (ok && save)
		imap_search_save(s, uids, n, q->ret);
	imap_search_prog_free(&p);
	free(v);
	free(uids);
	if (store_mailbox_flush(s->mb, &j->err) == -1)
		log_warn("imap(%s): cannot cache message structure: %s",
		    log_sanitize_str(s->username), buf_cstr(&j->err));
	store_shrink(s->store);
}

void
imap_cmd_search(struct imap_session *s, const struct imap_command *c)
{
	(void)c;
	imap_job_submit(imap_job_new(s, imap_search_run, NULL));
}
