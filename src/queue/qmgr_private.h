/*
 * The queue manager's internals, shared by qmgr.c (event loop, pokes,
 * scheduling), qmgr_deliver.c (one delivery attempt on a worker thread),
 * qmgr_scan.c (directory scans and cleanup) and qmgr_state.c (the
 * per-message delivery state file). Not for use outside src/queue.
 */
#ifndef QUEUE_QMGR_PRIVATE_H
#define QUEUE_QMGR_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"
#include "queue/queue_file.h"

struct buf;
struct conf;
struct event;
struct event_base;
struct resolver;
struct timeval;
struct worker_pool;

/* The service. Fields above the line never change once the loop runs, so
 * worker threads may read them; the rest belongs to the loop thread. */
struct qmgr {
	const struct conf *conf;
	const char *queue_dir;
	struct resolver *resolver;
	double t_start;     /* process start: see qmgr_deliver.c */
	atomic_bool cancel; /* set at SIGTERM: jobs not yet begun skip */
	/* ---- loop thread only ---- */
	struct event_base *base;
	struct worker_pool *wp;
	int sock;
	struct event *ev_sock, *ev_term, *ev_int, *ev_scan, *ev_usr1;
	void *msgs;   /* tsearch() tree of struct qmgr_msg, by id */
	size_t njobs; /* submitted jobs whose done callback has not run */
	bool stopping;
	bool scan_running;
	bool scan_again;  /* a scan was asked for while one ran */
	double next_scan; /* when ev_scan fires; 0 when not pending */
};

enum qmgr_msg_state {
	QMGR_MSG_RUNNING, /* a delivery job is queued or running */
	QMGR_MSG_WAITING, /* deferred: timer pending */
};

/* A message the manager knows about (loop thread only). */
struct qmgr_msg {
	char id[QUEUE_ID_MAX];
	enum qmgr_msg_state state;
	struct qmgr *q;
	struct event *timer;
	unsigned attempts_here; /* attempts made by this process */
};

enum qmgr_result {
	QMGR_DONE,      /* every recipient done; files removed */
	QMGR_DEFERRED,  /* some recipients deferred: retry at next_retry */
	QMGR_WAIT,      /* nothing tried (not due yet, or unreadable now) */
	QMGR_GONE,      /* no such message (or moved to corrupt/) */
	QMGR_HELD,      /* expired, moved to hold/ */
	QMGR_CANCELLED, /* shutting down: not started */
};

/* One delivery attempt of one message. The worker reads the inputs and
 * writes the outputs; m is touched only on the loop thread. */
struct qmgr_job {
	struct qmgr *q;
	struct qmgr_msg *m;
	char id[QUEUE_ID_MAX];
	bool respect_schedule; /* from a scan: wait for the state's time */
	bool retry_here;       /* this process tried it before */
	double t_queued;
	enum qmgr_result result; /* output */
	uint64_t next_retry;     /* output for DEFERRED and WAIT */
};

/* Wall-clock time in seconds, with fractions. */
double qmgr_now(void);
/* secs (negative: 0) as a timeval for event_add(). */
void qmgr_timeval(double secs, struct timeval *tv_out);

/* qmgr_deliver.c: the worker side of a delivery attempt. */
void qmgr_deliver_run(void *job);

/* qmgr.c: takes a message (new, or one whose retry time came) and queues
 * a delivery attempt. */
struct qmgr_msg *qmgr_msg_find(struct qmgr *q, const char *id);
struct qmgr_msg *qmgr_msg_add(struct qmgr *q, const char *id);
void qmgr_msg_start(struct qmgr_msg *m, bool respect_schedule);

/* qmgr_scan.c: starts a scan of active/ now (startup: also the cleanup
 * that is only safe when no delivery runs), and schedules one in secs. */
void qmgr_scan_start(struct qmgr *q, bool startup);
void qmgr_scan_schedule(struct qmgr *q, double secs);

/* qmgr_state.c: the delivery state of a deferred message, in
 * <queue_dir>/defer/<id>, replaced atomically. */
struct qmgr_state {
	bool exists;         /* read from a file */
	uint64_t attempts;   /* delivery attempts so far */
	uint64_t next_retry; /* seconds since the epoch */
	size_t nrcpt;
	bool *done;   /* per envelope recipient: delivered or dropped */
	char *reason; /* the last deferral reason (sanitised) */
};

/* Empty state for nrcpt recipients. */
void qmgr_state_init(struct qmgr_state *st, size_t nrcpt);
void qmgr_state_free(struct qmgr_state *st);
/* Reads the state of id into st (qmgr_state_init'ed for the envelope's
 * nrcpt); a missing file leaves st empty. 0, or -1 with a reason in err
 * when the file is unreadable or does not fit the message. */
int qmgr_state_read(const char *queue_dir, const char *id,
    struct qmgr_state *st, struct buf *err) MW_MUST_CHECK;
/* Writes it durably (fs_atomic_write). 0 or -1 with errno. */
int qmgr_state_write(const char *queue_dir, const char *id,
    const struct qmgr_state *st) MW_MUST_CHECK;
/* Encoding and decoding, pure (for the tests and the queue command). */
int qmgr_state_encode(
    const struct qmgr_state *st, struct buf *out) MW_MUST_CHECK;
int qmgr_state_decode(const char *p, size_t n, struct qmgr_state *st,
    struct buf *err) MW_MUST_CHECK;

#endif
