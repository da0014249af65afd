/*
 * The IMAP session's mail store jobs (see imap_job.h).
 */
#include "imap/imap_job.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_flags.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_session_private.h"
#include "imap/imap_string.h"
#include "lib/conn.h"
#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "store/store.h"

/* A job's replies may exceed the chunk by one message's response. */
#define IMAP_JOB_OUT_MAX ((size_t)256 * 1024 * 1024)
/* A job with more to write runs again at once while less than this waits
 * to be sent (its next chunk is built while the loop sends this one);
 * past it, once the output drained below the write mark. A session holds
 * at most this, the chunk being built and one message's response. */
#define IMAP_JOB_OUT_AHEAD (2 * IMAP_JOB_OUT_CHUNK)
/* Replies shorter than this are copied into the output; longer ones are
 * handed to it as they are (evbuffer_add_reference). */
#define IMAP_JOB_OUT_COPY_MAX 4096

struct imap_job *
imap_job_new(struct imap_session *s, imap_job_fn *run, void *ctx)
{
	struct imap_job *j = xcalloc(1, sizeof(*j));

	j->s = s;
	j->run = run;
	j->ctx = ctx;
	buf_init(&j->out, IMAP_JOB_OUT_MAX);
	buf_init(&j->err, 1024);
	return j;
}

static void
imap_job_free(struct imap_job *j)
{
	if (j->free != NULL)
		j->free(j);
	buf_free(&j->out);
	buf_free(&j->err);
	free(j);
}

static void
imap_job_on_run(void *arg)
{
	struct imap_job *j = arg;

	j->more = false;
	j->run(j);
}

/* The loop is done sending a buffer a job wrote (imap_job_send_out). */
static void
imap_job_out_cleanup(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/*
 * On the loop: sends what run() wrote. A large buffer is not copied: its
 * memory goes to the bufferevent's output, which frees it once sent, and
 * the job starts a new one (the worker may fill it at once, while this is
 * sent). Only the loop touches the bufferevent (libevent is not built
 * thread-safe here); the worker's writes are visible to the loop through
 * the worker pool's queue.
 */
static void
imap_job_send_out(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct evbuffer *out = bufferevent_get_output(s->bev);

	if (j->out.len < IMAP_JOB_OUT_COPY_MAX ||
	    evbuffer_add_reference(out, j->out.data, j->out.len,
	        imap_job_out_cleanup, NULL) == -1) {
		imap_send(s, j->out.data, j->out.len);
		buf_reset(&j->out);
		return;
	}
	s->out_bytes += j->out.len;
	/* the memory is the evbuffer's now; the next piece gets room for
	 * a chunk and the response that crosses its end, so that it does
	 * not grow by copies */
	buf_init(&j->out, IMAP_JOB_OUT_MAX);
	if (j->more)
		(void)!buf_reserve(&j->out, IMAP_JOB_OUT_CHUNK + 16 * 1024);
}

static void
imap_job_on_done(void *arg)
{
	struct imap_job *j = arg;
	struct imap_session *s = j->s;

	if (s->bev == NULL) {
		/* the connection is gone: nothing to send, stop here */
		s->job = NULL;
		imap_job_free(j);
		(void)imap_session_release(s);
		return;
	}
	if (j->out.len > 0)
		imap_job_send_out(j);
	if (s->closing_after_job) {
		s->job = NULL;
		imap_job_free(j);
		imap_session_close(s, "Internal error");
		(void)imap_session_release(s);
		return;
	}
	if (j->more) {
		/* build the next piece while this one is sent, unless the
		 * client is that far behind: then wait for it to read */
		if (imap_session_outlen(s) >= IMAP_JOB_OUT_AHEAD)
			s->output_wait = true;
		else
			worker_submit(s->srv->workers, imap_job_on_run,
			    imap_job_on_done, j);
		return;
	}
	if (j->done != NULL)
		j->done(j);
	s->job = NULL;
	imap_job_free(j);
	imap_job_sleep_arm(s);
	if (imap_session_release(s))
		imap_session_resume(s);
}

/* The store of a session that stays quiet gives its index connection
 * back (store_sleep: ~30 KiB a session); the next command reopens it. A
 * second of quiet, so that a client's burst of commands pays nothing. */
#define IMAP_SLEEP_AFTER_MS 1000

/* What freed SQLite memory leaves in malloc's arenas goes back to the
 * system now and then (glibc keeps it otherwise: per worker thread an
 * arena, with live blocks between the freed ones). */
#define IMAP_TRIM_EVERY_SEC 2

static void
imap_sleep_run(void *arg)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t last_trim;
	struct imap_session *s = arg;
	uint64_t now = conn_now_sec();
	bool trim = false;

	if (s->store != NULL)
		store_sleep(s->store);
	(void)pthread_mutex_lock(&lock);
	if (now >= last_trim + IMAP_TRIM_EVERY_SEC) {
		last_trim = now;
		trim = true;
	}
	(void)pthread_mutex_unlock(&lock);
	if (trim)
		(void)malloc_trim(0);
}

static void
imap_sleep_done(void *arg)
{
	struct imap_session *s = arg;

	if (imap_session_release(s))
		imap_session_resume(s);
}

static void
imap_on_sleep_timer(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;

	(void)fd;
	(void)what;
	/* a command came meanwhile: its end arms the timer again */
	if (s->busy || s->bev == NULL || s->store == NULL)
		return;
	imap_session_hold(s);
	worker_submit(s->srv->workers, imap_sleep_run, imap_sleep_done, s);
}

void
imap_job_sleep_arm(struct imap_session *s)
{
	struct timeval tv = { IMAP_SLEEP_AFTER_MS / 1000,
		(IMAP_SLEEP_AFTER_MS % 1000) * 1000 };

	if (s->store == NULL || s->bev == NULL)
		return;
	if (s->sleep_timer == NULL)
		s->sleep_timer =
		    evtimer_new(s->srv->base, imap_on_sleep_timer, s);
	if (s->sleep_timer == NULL)
		log_fatal("imap: cannot create a timer: out of memory");
	(void)evtimer_add(s->sleep_timer, &tv);
}

void
imap_job_submit(struct imap_job *j)
{
	struct imap_session *s = j->s;

	MW_ASSERT(s->job == NULL);
	s->job = j;
	imap_session_hold(s);
	worker_submit(s->srv->workers, imap_job_on_run, imap_job_on_done, j);
}

void
imap_job_continue(struct imap_session *s)
{
	MW_ASSERT(s->job != NULL);
	worker_submit(
	    s->srv->workers, imap_job_on_run, imap_job_on_done, s->job);
}

struct imap_close_job {
	struct store *st;
	struct store_mailbox *mb;
};

static void
imap_close_job_run(void *arg)
{
	struct imap_close_job *j = arg;

	store_mailbox_close(&j->mb);
	store_close(&j->st);
	free(j);
}

void
imap_job_release_store(struct imap_session *s)
{
	struct imap_close_job *j;

	if (s->store == NULL && s->mb == NULL)
		return;
	j = xcalloc(1, sizeof(*j));
	j->st = s->store;
	j->mb = s->mb;
	s->store = NULL;
	s->mb = NULL;
	worker_submit(s->srv->workers, imap_close_job_run, NULL, j);
}

static void
imap_job_vline(struct imap_job *j, const char *head, const char *status,
    const char *fmt, va_list ap)
{
	if (head != NULL)
		(void)!buf_printf(&j->out, "%s %s ", head, status);
	else
		(void)!buf_append(&j->out, "* ", 2);
	(void)!buf_vprintf(&j->out, fmt, ap);
	(void)!buf_append(&j->out, "\r\n", 2);
}

void
imap_job_tagged(struct imap_job *j, const char *status, const char *fmt, ...)
{
	char tag[IMAP_TAG_COPY_MAX];
	va_list ap;

	imap_session_tag(j->s, tag, sizeof(tag));
	va_start(ap, fmt);
	imap_job_vline(j, tag, status, fmt, ap);
	va_end(ap);
}

void
imap_job_untagged(struct imap_job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	imap_job_vline(j, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
imap_job_store_error(struct imap_job *j, const char *what)
{
	struct imap_session *s = j->s;

	log_warn("imap(%s): %s: %s", log_sanitize_str(s->username), what,
	    buf_cstr(&j->err));
	/* RFC 5530 3: SERVERBUG, the admin's problem, not the client's */
	imap_job_tagged(j, "NO",
	    "[SERVERBUG] Internal error occurred. Refer to server log for "
	    "more information.");
}

void
imap_job_flags_line(struct imap_job *j, size_t i, bool uid)
{
	struct imap_session *s = j->s;
	const struct store_msg *m = store_mailbox_msg(s->mb, i);
	const char *names[STORE_MAX_KEYWORDS];
	size_t k;

	for (k = 0; k < STORE_MAX_KEYWORDS; k++)
		names[k] = store_mailbox_keyword_name(s->mb, k);
	/* once per message of a STORE or a sync: no printf */
	(void)!buf_append(&j->out, "* ", 2);
	(void)!imap_number_append(&j->out, i + 1);
	(void)!buf_append_str(&j->out, " FETCH (");
	if (uid) {
		(void)!buf_append_str(&j->out, "UID ");
		(void)!imap_number_append(&j->out, m->uid);
		(void)!buf_append_char(&j->out, ' ');
	}
	(void)!buf_append_str(&j->out, "FLAGS ");
	(void)!imap_flags_append(&j->out, m->flags, m->keywords, names,
	    STORE_MAX_KEYWORDS, !s->rev2 && m->uid >= s->first_recent_uid);
	(void)!buf_append_str(&j->out, ")\r\n");
}

void
imap_job_flags_announce(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const char *names[STORE_MAX_KEYWORDS];
	uint32_t sys = STORE_FLAG_SEEN | STORE_FLAG_ANSWERED |
	    STORE_FLAG_FLAGGED | STORE_FLAG_DELETED | STORE_FLAG_DRAFT;
	size_t k, used = 0;

	for (k = 0; k < STORE_MAX_KEYWORDS; k++)
		if ((names[k] = store_mailbox_keyword_name(s->mb, k)) != NULL)
			used++;
	(void)!buf_append_str(&j->out, "* FLAGS ");
	(void)!imap_flags_append(&j->out, sys, UINT32_MAX, names,
	    STORE_MAX_KEYWORDS, false);
	(void)!buf_append_str(&j->out, "\r\n* OK [PERMANENTFLAGS ");
	(void)!imap_flags_append(&j->out, sys, UINT32_MAX, names,
	    STORE_MAX_KEYWORDS, false);
	/* "\*": more keywords may be made (RFC 9051 7.1) */
	if (used < STORE_MAX_KEYWORDS) {
		buf_truncate(&j->out, j->out.len - 1);
		(void)!buf_append_str(&j->out, " \\*)");
	}
	(void)!buf_append_str(&j->out, "] Flags permitted.\r\n");
}

static int
imap_job_sync_how(struct imap_job *j, bool quick)
{
	struct imap_session *s = j->s;
	struct store_sync_result res;
	uint32_t kw = store_mailbox_keywords_defined(s->mb);
	size_t k, n;

	if ((quick ? store_mailbox_sync_quick(s->mb, &res, &j->err)
	           : store_mailbox_sync(s->mb, &res, &j->err)) == -1)
		return -1;
	/* RFC 9051 7.4.1: each EXPUNGE renumbers what follows; the store
	 * gives them highest first, so each number is right as sent */
	for (k = 0; k < res.removed; k++)
		imap_job_untagged(j, "%zu EXPUNGE", res.expunged[k] + 1);
	n = store_mailbox_count(s->mb);
	if (res.added > 0) {
		size_t old = n - res.added;
		uint32_t first;
		/* none of the messages seen before is \Recent here */
		bool none = old == 0 ||
		    store_mailbox_msg(s->mb, old - 1)->uid < s->first_recent_uid;

		/* the new messages are \Recent here unless another session
		 * took them first: when this one had none, its range starts
		 * at what it took (nothing: past the end); else the range
		 * stays one (an approximation when another took some in
		 * between) */
		if (!s->rev2 && !s->read_only &&
		    store_mailbox_take_recent(s->mb, &first, &j->err) == 0 &&
		    (none || first < s->first_recent_uid))
			s->first_recent_uid = first;
		imap_job_untagged(j, "%zu EXISTS", n);
		if (!s->rev2)
			imap_job_untagged(
			    j, "%zu RECENT", imap_mailbox_recent_count(s));
	}
	s->exists = (uint32_t)n;
	/* RFC 9051 7.3.5: keywords another session made, before the
	 * FETCH responses that show them */
	if ((store_mailbox_keywords_defined(s->mb) & ~kw) != 0)
		imap_job_flags_announce(j);
	for (k = 0; k < res.changed; k++)
		imap_job_flags_line(j, res.flags_changed[k], s->rev2);
	return 0;
}

int
imap_job_keywords(struct imap_job *j, struct store_mailbox *mb,
    const struct imap_flags *fl, bool create, uint32_t *bits_out,
    bool *made_out)
{
	const struct imap_command *c = j->s->cmd;
	char name[256];
	size_t k, bit;
	int r;

	*bits_out = 0;
	for (k = 0; k < fl->nkw; k++) {
		if (fl->kw[k].n >= sizeof(name)) {
			imap_job_tagged(j, "BAD", "Keyword is too long.");
			return -1;
		}
		memcpy(name, fl->kw[k].p, fl->kw[k].n);
		name[fl->kw[k].n] = '\0';
		r = store_mailbox_keyword_index(mb, name, false, &bit, &j->err);
		if (r == 0 && create) {
			if (made_out != NULL)
				*made_out = true;
			r = store_mailbox_keyword_index(
			    mb, name, true, &bit, &j->err);
		}
		if (r == -1 && errno == ENOSPC) {
			/* RFC 5530 3: LIMIT (Dovecot's Maildir: 26 letters) */
			imap_job_tagged(j, "NO",
			    "[LIMIT] Too many keywords in this mailbox.");
			return -1;
		}
		if (r == -1 && errno == EINVAL) {
			imap_job_tagged(j, "BAD", "Invalid keyword.");
			return -1;
		}
		if (r == -1) {
			imap_job_store_error(j, imap_cmd_name(c->id));
			return -1;
		}
		if (r == 1)
			*bits_out |= 1u << bit;
	}
	return 0;
}

int
imap_job_sync(struct imap_job *j)
{
	return imap_job_sync_how(j, false);
}

int
imap_job_sync_quick(struct imap_job *j)
{
	return imap_job_sync_how(j, true);
}
