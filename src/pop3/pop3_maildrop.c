/*
 * The maildrop of a POP3 session through the mail store (store/store.h),
 * all on the worker pool: opening the INBOX after login (its view is the
 * message list of the session, RFC 1939 4: messages delivered later show
 * up at the next login), RETR and TOP streamed from the file in chunks
 * while the client reads (RFC 1939 7, never the whole message in memory,
 * never more than about POP3_OUTPUT_HIGH buffered for a slow client), and
 * the UPDATE state at QUIT (RFC 1939 6): \Seen for the messages
 * retrieved, then the expunge of those marked deleted, durable before
 * the +OK.
 *
 * Two sessions of one user both work (Dovecot's default): each has its
 * own view; a message one of them expunges makes RETR in the other answer
 * -ERR (store_msg_open's ENOENT), and its DELE of it at QUIT counts as
 * done. Nothing is lost or shown twice: the store serialises the changes.
 * With pop3_lock_session the second login gets -ERR [IN-USE] instead
 * (RFC 2449 8.1.1): a flock on the Maildir directory, across processes.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "delivery/resolve.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "pop3/pop3_session_private.h"
#include "store/store.h"

/* Bytes read from the file per job. */
#define POP3_RETR_CHUNK (32 * 1024)
/* Read on while less than this waits in the output buffer. */
#define POP3_RETR_LOW (128 * 1024)

/* --- closing ---------------------------------------------------------- */

struct pop3_close_job {
	struct store *st;
	struct store_mailbox *mb;
	int fd;
};

static void
pop3_close_job_run(void *arg)
{
	struct pop3_close_job *j = arg;

	store_mailbox_close(&j->mb);
	store_close(&j->st);
	if (j->fd != -1)
		(void)close(j->fd);
	free(j);
}

static void
pop3_retr_free(struct pop3_retr **rp)
{
	struct pop3_retr *r = *rp;

	if (r == NULL)
		return;
	if (r->fd != -1)
		(void)close(r->fd);
	free(r->in);
	free(r->out);
	free(r);
	*rp = NULL;
}

void
pop3_maildrop_release(struct pop3_session *s)
{
	struct pop3_close_job *j;

	pop3_retr_free(&s->retr);
	if (s->store == NULL && s->mb == NULL && s->lock_fd == -1)
		return;
	j = xcalloc(1, sizeof(*j));
	j->st = s->store;
	j->mb = s->mb;
	j->fd = s->lock_fd; /* closed last: the lock outlives the store */
	s->store = NULL;
	s->mb = NULL;
	s->lock_fd = -1;
	worker_submit(s->srv->workers, pop3_close_job_run, NULL, j);
}

/* --- opening at login ------------------------------------------------- */

struct pop3_open_job {
	struct pop3_session *s;
	struct pop3d *srv;
	char *maildir;
	bool lock;
	struct store *st;
	struct store_mailbox *mb;
	int lock_fd;
	bool in_use; /* another session holds the lock */
	int ret;
	struct buf err;
};

static void
pop3_open_job_run(void *arg)
{
	struct pop3_open_job *j = arg;

	j->ret = store_open(j->maildir, &j->st, &j->err);
	if (j->ret == 0 && j->lock) {
		/* RFC 2449 8.1.1: one session per maildrop. flock on the
		 * Maildir directory itself, so that the lock needs no file
		 * of its own and follows the sessions of every process */
		j->lock_fd = open(j->maildir,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (j->lock_fd == -1 ||
		    flock(j->lock_fd, LOCK_EX | LOCK_NB) == -1) {
			j->in_use = errno == EWOULDBLOCK;
			if (!j->in_use)
				(void)!buf_printf(&j->err, "cannot lock %s: %s",
				    j->maildir, strerror(errno));
			if (j->lock_fd != -1)
				(void)close(j->lock_fd);
			j->lock_fd = -1;
			store_close(&j->st);
			j->ret = -1;
			return;
		}
	}
	if (j->ret == 0) {
		/* read-write: new/ moves to cur/ as Dovecot's POP3 does */
		j->ret =
		    store_mailbox_open(j->st, "INBOX", false, &j->mb, &j->err);
		if (j->ret == -1) {
			store_close(&j->st);
			if (j->lock_fd != -1)
				(void)close(j->lock_fd);
			j->lock_fd = -1;
		} else
			/* the view is in memory now; the index is needed
			 * again only at QUIT (and by a RETR of a file
			 * renamed meanwhile): an idle session holds no
			 * SQLite connection (store_sleep) */
			store_sleep(j->st);
	}
}

static void
pop3_open_job_done(void *arg)
{
	struct pop3_open_job *j = arg;
	struct pop3_session *s = j->s;
	bool alive = pop3_session_release(s);

	if (!alive || s->bev == NULL) {
		/* the client left meanwhile */
		if (j->ret == 0) {
			struct pop3_close_job *c = xcalloc(1, sizeof(*c));

			c->st = j->st;
			c->mb = j->mb;
			c->fd = j->lock_fd;
			worker_submit(
			    j->srv->workers, pop3_close_job_run, NULL, c);
		}
		goto out;
	}
	if (j->ret == -1 && j->in_use) {
		log_info("pop3(%s)<%ld><%s>: the maildrop is in use by another "
		         "session (pop3_lock_session)",
		    log_sanitize_str(s->username), (long)getpid(),
		    s->session_id);
		/* RFC 2449 8.1.1: IN-USE, another session has it */
		pop3_err(s,
		    "[IN-USE] Mailbox is locked by another POP3 "
		    "session.");
		pop3_session_close(s, "Mailbox in use");
		goto out;
	}
	if (j->ret == -1) {
		log_warn("pop3(%s)<%ld><%s>: cannot open the maildrop %s: %s",
		    log_sanitize_str(s->username), (long)getpid(),
		    s->session_id, j->maildir, buf_cstr(&j->err));
		/* RFC 3206 4: SYS/TEMP, the client may try again later */
		pop3_err(s, "[SYS/TEMP] Couldn't open INBOX, try again later.");
		pop3_session_close(s, "Couldn't open INBOX");
		goto out;
	}
	s->store = j->st;
	s->mb = j->mb;
	s->lock_fd = j->lock_fd;
	s->nmsgs = store_mailbox_count(s->mb);
	s->mbox_size = store_mailbox_vsize(s->mb);
	s->marks = xcalloc(s->nmsgs ? s->nmsgs : 1, 1);
	pop3_session_set_state(s, POP3_STATE_TRANSACTION);
	pop3_session_set_timeouts(s);
	pop3_ok(s, "Logged in.");
	pop3_session_resume(s);
out:
	free(j->maildir);
	buf_free(&j->err);
	free(j);
}

void
pop3_maildrop_open(struct pop3_session *s)
{
	struct pop3_open_job *j;
	/* the path delivery writes to (resolve.c) */
	char *maildir =
	    resolve_user_maildir(s->srv->conf->mail_directory, s->username);

	if (maildir == NULL) {
		log_warn("pop3(%s): no maildrop for this name",
		    log_sanitize_str(s->username));
		/* RFC 3206 4: SYS/PERM, not to be retried */
		pop3_err(s, "[SYS/PERM] No mailbox for this user.");
		pop3_session_close(s, "No mailbox");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->srv = s->srv;
	j->maildir = maildir;
	j->lock = s->srv->conf->pop3_lock_session;
	j->lock_fd = -1;
	buf_init(&j->err, 1024);
	pop3_session_hold(s);
	worker_submit(
	    s->srv->workers, pop3_open_job_run, pop3_open_job_done, j);
}

/* --- UPDATE at QUIT --------------------------------------------------- */

struct pop3_update_job {
	struct pop3_session *s;
	struct store_mailbox *mb;
	struct store_flag_change *changes;
	size_t nchanges;
	size_t *idx;
	size_t nidx;
	int flags_ret, ret;
	struct buf flags_err, err;
};

static void
pop3_update_job_run(void *arg)
{
	struct pop3_update_job *j = arg;

	/* \Seen first: the expunge shifts the indexes of the view */
	j->flags_ret = j->nchanges == 0
	    ? 0
	    : store_mailbox_set_flags(
	          j->mb, j->changes, j->nchanges, &j->flags_err);
	j->ret = j->nidx == 0
	    ? 0
	    : store_mailbox_expunge(j->mb, j->idx, j->nidx, &j->err);
}

static void
pop3_update_job_done(void *arg)
{
	struct pop3_update_job *j = arg;
	struct pop3_session *s = j->s;

	if (!pop3_session_release(s) || s->bev == NULL)
		goto out;
	if (j->flags_ret == -1)
		log_warn("pop3(%s)<%ld><%s>: cannot set \\Seen: %s",
		    log_sanitize_str(s->username), (long)getpid(),
		    s->session_id, buf_cstr(&j->flags_err));
	if (j->ret == -1) {
		log_warn("pop3(%s)<%ld><%s>: expunge failed: %s",
		    log_sanitize_str(s->username), (long)getpid(),
		    s->session_id, buf_cstr(&j->err));
		/* RFC 2449 8.1, RFC 3206 4: the messages stay; try later */
		pop3_err(s,
		    "[SYS/TEMP] Couldn't delete the messages, "
		    "try again later.");
	} else {
		s->del_count = (unsigned)j->nidx;
		pop3_ok(s, "Logging out.");
	}
	pop3_session_close(s, "Logged out");
out:
	free(j->changes);
	free(j->idx);
	buf_free(&j->flags_err);
	buf_free(&j->err);
	free(j);
}

void
pop3_maildrop_update(struct pop3_session *s)
{
	struct pop3_update_job *j = xcalloc(1, sizeof(*j));
	size_t i;

	j->s = s;
	j->mb = s->mb;
	j->changes = xcalloc(s->nmsgs ? s->nmsgs : 1, sizeof(*j->changes));
	j->idx = xcalloc(s->nmsgs ? s->nmsgs : 1, sizeof(*j->idx));
	for (i = 0; i < s->nmsgs; i++) {
		const struct store_msg *m = store_mailbox_msg(s->mb, i);

		if (s->marks[i] & POP3_MARK_DELETED)
			j->idx[j->nidx++] = i;
		else if ((s->marks[i] & POP3_MARK_RETR) &&
		    !(m->flags & STORE_FLAG_SEEN)) {
			j->changes[j->nchanges].i = i;
			j->changes[j->nchanges].flags =
			    m->flags | STORE_FLAG_SEEN;
			j->changes[j->nchanges].keywords = m->keywords;
			j->nchanges++;
		}
	}
	buf_init(&j->flags_err, 1024);
	buf_init(&j->err, 1024);
	pop3_session_hold(s);
	worker_submit(
	    s->srv->workers, pop3_update_job_run, pop3_update_job_done, j);
}

/* --- RETR and TOP ----------------------------------------------------- */

struct pop3_read_job {
	struct pop3_session *s;
	struct store *st;
	struct store_mailbox *mb;
	struct pop3_retr *r;
};

/* One chunk of the file at r->off into r->out, encoded; r->err on a
 * failure. flags: 0 (may block: a worker) or RWF_NOWAIT (the loop: only
 * what the page cache holds; -1 with EAGAIN otherwise). */
static int
pop3_retr_read(struct pop3_retr *r, int flags)
{
	struct iovec iov = { r->in, POP3_RETR_CHUNK };
	ssize_t n;

	do
		n = preadv2(r->fd, &iov, 1, (off_t)r->off, flags);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	r->off += (uint64_t)n;
	r->outlen = pop3_encoder_feed(&r->enc, r->in, (size_t)n, r->out);
	/* Maildir files do not change: the size read at open is the end,
	 * which saves a read that returns 0 */
	if (n == 0 || r->off >= r->size || pop3_encoder_done(&r->enc)) {
		r->outlen += pop3_encoder_end(&r->enc, r->out + r->outlen);
		r->eof = true;
	}
	return 0;
}

/* Opens the message file of r (store_msg_open may rescan: a worker). */
static int
pop3_retr_open(struct store_mailbox *mb, struct pop3_retr *r, bool quick)
{
	uint64_t size = store_mailbox_msg(mb, r->msg)->psize;
	struct stat sb;
	int fd;

	if ((quick ? store_msg_open_quick(mb, r->msg, &fd)
	           : store_msg_open(mb, r->msg, &fd)) == -1)
		return -1;
	/* Maildir files do not change once delivered: the size the index
	 * holds (from ,S= or a stat when it was indexed) saves an fstat a
	 * message; without one, ask the file */
	if (size == 0) {
		if (fstat(fd, &sb) == -1) {
			(void)close(fd);
			return -1;
		}
		size = (uint64_t)sb.st_size;
	}
	r->fd = fd;
	r->size = size;
	return 0;
}

static void
pop3_read_job_run(void *arg)
{
	struct pop3_read_job *j = arg;
	struct pop3_retr *r = j->r;

	r->outlen = 0;
	if (r->fd == -1) {
		/* a renamed file: store_msg_open records the new name in
		 * the index, which wakes it; it goes back to sleep here */
		if (pop3_retr_open(j->mb, r, false) == -1) {
			r->err = errno;
			store_sleep(j->st);
			return;
		}
		store_sleep(j->st);
	}
	if (pop3_retr_read(r, 0) == -1)
		r->err = errno;
}

static void pop3_retr_submit(struct pop3_session *s);
static void pop3_retr_pump(struct pop3_session *s, bool resume);

/* The RETR has ended. resume: go on with the commands that wait (false
 * when called from the dispatch of this RETR itself, whose loop goes on:
 * resuming there would run the next command inside this one). */
static void
pop3_retr_finish(struct pop3_session *s, bool resume)
{
	struct pop3_retr *r = s->retr;

	if (r->top) {
		s->top_count++;
		s->top_bytes += r->sent;
	} else {
		s->retr_count++;
		s->retr_bytes += r->sent;
		s->marks[r->msg] |= POP3_MARK_RETR;
	}
	pop3_retr_free(&s->retr);
	s->busy = false;
	if (resume)
		pop3_session_resume(s);
}

/* Answers a RETR whose file could not be opened or read (r->err). */
static void
pop3_retr_failed(struct pop3_session *s, bool resume)
{
	struct pop3_retr *r = s->retr;

	errno = r->err;
	if (r->started) {
		/* half a message is out: the response cannot be ended
		 * cleanly */
		log_warn("pop3(%s)<%ld><%s>: reading message %zu: %m",
		    log_sanitize_str(s->username), (long)getpid(),
		    s->session_id, r->msg + 1);
		pop3_session_close(s, "Message read failed");
		return;
	}
	if (r->err == ENOENT)
		pop3_err(s, "Message %zu was removed by another session.",
		    r->msg + 1);
	else {
		log_warn("pop3(%s)<%ld><%s>: opening message %zu: %m",
		    log_sanitize_str(s->username), (long)getpid(),
		    s->session_id, r->msg + 1);
		pop3_err(s, "[SYS/TEMP] Couldn't read message %zu.", r->msg + 1);
	}
	pop3_retr_free(&s->retr);
	s->busy = false;
	if (resume)
		pop3_session_resume(s);
}

/* Sends the chunk in r->out; false when the RETR has ended. */
static bool
pop3_retr_emit(struct pop3_session *s, bool resume)
{
	struct pop3_retr *r = s->retr;

	if (!r->started) {
		r->started = true;
		if (r->top)
			pop3_ok_bare(s);
		else
			pop3_ok(s, "%llu octets",
			    (unsigned long long)store_mailbox_msg(s->mb, r->msg)
			        ->vsize);
	}
	pop3_send(s, r->out, r->outlen);
	r->sent += r->outlen;
	r->outlen = 0;
	if (r->eof) {
		pop3_retr_finish(s, resume);
		return false;
	}
	s->busy = true; /* commands wait for the rest of the message */
	return true;
}

static void
pop3_read_job_done(void *arg)
{
	struct pop3_read_job *j = arg;
	struct pop3_session *s = j->s;
	struct pop3_retr *r = j->r;

	free(j);
	r->pending = false;
	if (!pop3_session_release(s) || s->bev == NULL)
		return; /* pop3_session_free frees r */
	if (r->err != 0) {
		pop3_retr_failed(s, true);
		return;
	}
	if (pop3_retr_emit(s, true))
		pop3_retr_pump(s, true);
}

static void
pop3_retr_submit(struct pop3_session *s)
{
	struct pop3_read_job *j = xcalloc(1, sizeof(*j));

	j->s = s;
	j->st = s->store;
	j->mb = s->mb;
	j->r = s->retr;
	s->retr->pending = true;
	pop3_session_hold(s);
	worker_submit(
	    s->srv->workers, pop3_read_job_run, pop3_read_job_done, j);
}

/*
 * Sends the message on while the client keeps up (back-pressure: not
 * above POP3_RETR_LOW waiting). What the page cache holds is read here on
 * the loop (preadv2 RWF_NOWAIT never waits for the disk: a mailbox being
 * downloaded is mostly cached, and a round trip to a worker per message
 * would cost more than the read); what is not, and the first open when
 * the file was renamed, go to a worker.
 */
static void
pop3_retr_pump(struct pop3_session *s, bool resume)
{
	struct pop3_retr *r;

	while ((r = s->retr) != NULL && !r->pending && s->bev != NULL &&
	    !s->closing &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) <=
	        POP3_RETR_LOW) {
		if (r->fd == -1 || pop3_retr_read(r, RWF_NOWAIT) == -1) {
			if (r->fd != -1 && errno != EAGAIN &&
			    errno != EOPNOTSUPP) {
				r->err = errno;
				pop3_retr_failed(s, resume);
				return;
			}
			pop3_retr_submit(s);
			return;
		}
		if (!pop3_retr_emit(s, resume))
			return;
	}
}

void
pop3_retr_on_drain(struct pop3_session *s)
{
	pop3_retr_pump(s, true);
}

void
pop3_retr_start(struct pop3_session *s, size_t i, bool top, uint64_t lines)
{
	struct pop3_retr *r = xcalloc(1, sizeof(*r));

	MW_ASSERT(s->retr == NULL);
	r->fd = -1;
	r->msg = i;
	r->top = top;
	pop3_encoder_init(&r->enc, top, lines);
	r->in = xmalloc(POP3_RETR_CHUNK);
	/* pop3_encoder_feed writes 2 bytes per byte at most, _end 5 */
	r->out = xmalloc(2 * POP3_RETR_CHUNK + 5);
	s->retr = r;
	s->busy = true; /* until pop3_retr_finish: commands wait */
	/* the file where the view says it is: an openat on the loop */
	if (pop3_retr_open(s->mb, r, true) == -1)
		r->fd = -1;
	pop3_retr_pump(s, false);
}
