/*
 * Mail store work of an IMAP session on the worker pool. A job's run()
 * executes on a worker thread, touches the session's store and mailbox
 * (no other thread does while it runs: the session is busy) and writes
 * its untagged and tagged replies into j->out; the loop then sends them.
 * A job that has more to send (a FETCH of many messages) sets j->more:
 * the loop takes what it wrote (without copying it) and runs it again at
 * once, so that the next piece is built while this one is sent, unless
 * the client is more than two pieces behind: then it waits for the client
 * to read, so that output stays bounded.
 */
#ifndef IMAP_IMAP_JOB_H
#define IMAP_IMAP_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/mw.h"

struct imap_job;
struct imap_session;

typedef void imap_job_fn(struct imap_job *j);

struct imap_job {
	struct imap_session *s;
	imap_job_fn *run;  /* on a worker */
	imap_job_fn *done; /* on the loop after the last run; may be NULL */
	imap_job_fn *free; /* frees ctx; may be NULL */
	void *ctx;
	struct buf out; /* replies */
	struct buf err; /* a reason, for the log */
	bool more;      /* run again (out is sent meanwhile) */
};

/* A job for the command being answered; submit it with
 * imap_job_submit(). */
struct imap_job *imap_job_new(
    struct imap_session *s, imap_job_fn *run, void *ctx);
/* Marks the session busy and queues the job on the worker pool. */
void imap_job_submit(struct imap_job *j);
/* The loop: the output drained below the mark, run the waiting job. */
void imap_job_continue(struct imap_session *s);
/* Arms the timer that puts the session's store to sleep once it has
 * been quiet a while (store_sleep). */
void imap_job_sleep_arm(struct imap_session *s);
/* Closes the session's store and mailbox on a worker (the session is
 * going; no job of it runs). */
void imap_job_release_store(struct imap_session *s);

/* For run(): "tag STATUS text\r\n" into j->out. */
void imap_job_tagged(struct imap_job *j, const char *status, const char *fmt,
    ...) MW_PRINTF(3, 4);
/* For run(): an untagged line ("* " and CRLF added). */
void imap_job_untagged(struct imap_job *j, const char *fmt, ...)
    MW_PRINTF(2, 3);
/*
 * For run(), in the selected state: brings the view up to date and
 * writes what changed (RFC 9051 7.4.1 EXPUNGE, 7.3.1 EXISTS, RFC 3501
 * RECENT, 7.5.2 FETCH FLAGS). Only where expunges may be announced (not
 * during FETCH, STORE, SEARCH without UID: RFC 9051 7.4.1). 0, or -1 with
 * a reason in j->err (the view is as it was).
 */
int imap_job_sync(struct imap_job *j);
/* The same with store_mailbox_sync_quick(): for UID FETCH, UID STORE and
 * UID SEARCH, whose news may wait for the next NOOP (RFC 9051 7). */
int imap_job_sync_quick(struct imap_job *j);
/* For run(): "* n FETCH ([UID u ]FLAGS (...))" for view index i. */
void imap_job_flags_line(struct imap_job *j, size_t i, bool uid);
/* For run(), in the selected state: "* FLAGS (...)" and "* OK
 * [PERMANENTFLAGS (... \*)]" with the mailbox's keywords, once a STORE
 * made a new one (RFC 9051 7.3.5, as Dovecot sends them). */
void imap_job_flags_announce(struct imap_job *j);
/* For run(): " [ALERT]"-free "NO [SERVERBUG] ..." after a store error,
 * logged with j->err. */
void imap_job_store_error(struct imap_job *j, const char *what);

/*
 * For run(): the keyword bits of fl's keywords in mb (created there when
 * create, RFC 9051 2.3.2), into *bits_out. Unknown keywords without
 * create are left out. -1 after a tagged NO or BAD was written
 * ([LIMIT] past the 26 Maildir keywords).
 */
struct imap_flags;
struct store_mailbox;
int imap_job_keywords(struct imap_job *j, struct store_mailbox *mb,
    const struct imap_flags *fl, bool create, uint32_t *bits_out,
    bool *made_out);

#endif
