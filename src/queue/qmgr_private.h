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

#include "delivery/route.h"
#include "lib/mw.h"
#include "queue/queue_file.h"

struct buf;
struct conf;
struct dns_resolver;
struct event;
struct event_base;
struct qmgr_pickup;
struct qmgr_remote;
struct resolver;
struct router;
struct timeval;
struct worker_pool;

/* The service. Fields above the line never change once the loop runs, so
 * worker threads may read them; the rest belongs to the loop thread. */
struct qmgr {
	const struct conf *conf;
	const char *queue_dir;
	struct resolver *resolver;
	struct router *router;
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
	struct qmgr_remote *remote; /* outbound scheduling: qmgr_remote.c */
	/* attempts in progress, bounded by qmgr_message_active_limit (each
	 * keeps its queue file open); the others wait in this FIFO */
	size_t nactive, active_limit;
	struct qmgr_msg *pend_head, *pend_tail;
	struct qmgr_pickup *pickup; /* maildrop/: pickup.c */
};

enum qmgr_msg_state {
	QMGR_MSG_RUNNING, /* a delivery job is queued or running */
	QMGR_MSG_WAITING, /* deferred: timer pending */
	QMGR_MSG_PENDING, /* due, waiting for an attempt slot */
};

/* A message the manager knows about (loop thread only). */
struct qmgr_msg {
	char id[QUEUE_ID_MAX];
	enum qmgr_msg_state state;
	struct qmgr *q;
	struct event *timer;
	unsigned attempts_here; /* attempts made by this process */
	struct qmgr_msg *next_pending;
	bool pending_schedule;  /* respect_schedule of the pending start */
	bool requeue; /* queue requeue came while it ran: redo it after */
};

enum qmgr_result {
	QMGR_DONE,      /* every recipient done; files removed */
	QMGR_DEFERRED,  /* some recipients deferred: retry at next_retry */
	QMGR_WAIT,      /* nothing tried (not due yet, or unreadable now) */
	QMGR_GONE,      /* no such message (or moved to corrupt/) */
	QMGR_HELD,      /* expired, moved to hold/ */
	QMGR_CANCELLED, /* shutting down: not started */
	QMGR_REMOTE,    /* local part done; remote deliveries to schedule */
};

/* A remote destination of one attempt: where, and what happened. */
struct qmgr_rdest {
	size_t rcpt;   /* envelope recipient index */
	char *address; /* the final address */
	char key[320]; /* destination: route_describe() */
	struct route route;
	int status;    /* enum smtp_rcpt_status */
	char dsn[16];
	char *text;    /* for the log and the bounce */
	char *diag;    /* the remote reply, or NULL */
	char *relay;   /* host[addr]:port or NULL */
	bool dsn_passed; /* the peer took our DSN parameters (RFC 3461) */
};

/* A recipient to report to the sender in a DSN. */
struct qmgr_bounce_item {
	int action;    /* enum dsn_action: failed, delivered, relayed */
	size_t rcpt;
	char *address; /* final recipient */
	char dsn[16];
	char *text;    /* human explanation */
	char *diag;    /* remote reply, or NULL */
	char *remote;  /* remote host name, or NULL */
};

/* One delivery attempt of one message. The worker reads the inputs and
 * writes the outputs; m is touched only on the loop thread. Between the
 * phases (local on a worker, remote on the loop, the end on a worker) the
 * job keeps the queue file open and the state in memory. */
struct qmgr_job {
	struct qmgr *q;
	struct qmgr_msg *m;
	char id[QUEUE_ID_MAX];
	bool respect_schedule; /* from a scan: wait for the state's time */
	bool retry_here;       /* this process tried it before */
	double t_queued;
	double t_started;
	enum qmgr_result result; /* output */
	uint64_t next_retry;     /* output for DEFERRED and WAIT */
	/* the attempt, between phases */
	struct queue_file *qf;
	struct qmgr_state *st;
	bool *deferred; /* per envelope recipient: some destination deferred */
	char *reason;   /* the last deferral reason */
	struct qmgr_rdest *rd;
	size_t nrd, caprd;
	struct qmgr_bounce_item *bounces;
	size_t nbounce, capbounce;
	size_t npending; /* remote deliveries and state writes in flight */
	bool state_busy; /* a write of the state runs (loop) */
	bool state_again; /* and another is wanted after it */
};

/* qmgr_deliver.c: the end of an attempt (worker thread): bounces, the
 * state file, removal. */
void qmgr_finish_run(void *job);
void qmgr_job_free(struct qmgr_job *j);
void qmgr_job_bounce(struct qmgr_job *j, size_t rcpt, const char *address,
    const char *dsn, const char *text, const char *diag, const char *remote);
/* A success notice (RFC 3461 NOTIFY=SUCCESS): action is DSN_ACTION_
 * DELIVERED or DSN_ACTION_RELAYED; or a delay warning (DELAYED). */
void qmgr_job_notify(struct qmgr_job *j, size_t rcpt, const char *address,
    int action, const char *text, const char *remote);

/* qmgr_remote.c: outbound scheduling on the loop. */
int qmgr_remote_init(struct qmgr *q, struct buf *err) MW_MUST_CHECK;
void qmgr_remote_free(struct qmgr *q);
/* Takes the remote destinations of j (result QMGR_REMOTE); when every one
 * has its result, submits qmgr_finish_run for j. */
void qmgr_remote_submit(struct qmgr *q, struct qmgr_job *j);
/* queue flush: forget dead destinations (all, or those of domain). */
void qmgr_remote_flush(struct qmgr *q, const char *domain);
/* Shutdown: ends every connection (pending recipients deferred). */
void qmgr_remote_stop(struct qmgr *q);
/* Connections open now. */
size_t qmgr_remote_active(const struct qmgr *q);

/* qmgr_bounce.c: writes a DSN for the items of j of that kind that the
 * recipients' NOTIFY asks for, to the sender (a double bounce to 2bounce_notice_recipient when
 * the sender is <>), commits it to the queue and pokes it. 0 (also when
 * nothing was due), or -1 with a reason in err. Worker thread. */
enum qmgr_dsn_kind {
	QMGR_DSN_FAILED,  /* the bounce */
	QMGR_DSN_DELAYED, /* delay_warning_time passed */
	QMGR_DSN_SUCCESS, /* NOTIFY=SUCCESS: delivered or relayed */
};
int qmgr_bounce_send(struct qmgr_job *j, enum qmgr_dsn_kind kind,
    struct buf *err) MW_MUST_CHECK;

/* Wall-clock time in seconds, with fractions. */
double qmgr_now(void);
/* secs (negative: 0) as a timeval for event_add(). */
void qmgr_timeval(double secs, struct timeval *tv_out);

/* qmgr_deliver.c: the worker side of a delivery attempt. */
void qmgr_deliver_run(void *job);

/* qmgr.c: takes a message (new, or one whose retry time came) and queues
 * a delivery attempt. */
struct qmgr_msg *qmgr_msg_find(struct qmgr *q, const char *id);
/* The done callback of delivery and finish jobs (loop thread). */
void qmgr_deliver_done(void *job);
struct qmgr_msg *qmgr_msg_add(struct qmgr *q, const char *id);
void qmgr_msg_start(struct qmgr_msg *m, bool respect_schedule);

/* qmgr_scan.c: starts a scan of active/ now (startup: also the cleanup
 * that is only safe when no delivery runs), and schedules one in secs. */
void qmgr_scan_start(struct qmgr *q, bool startup);
void qmgr_scan_schedule(struct qmgr *q, double secs);

/* pickup.c: mail posted with sendmail into maildrop/. pickup_init()
 * watches the directory (-1 after a warning when it cannot: then only the
 * scans find files); pickup_file() takes one file (loop thread; never the
 * same file twice at once); pickup_stop() stops watching (SIGTERM);
 * pickup_free() after the worker pool is gone. */
int pickup_init(struct qmgr *q);
void pickup_file(struct qmgr *q, const char *name);
void pickup_stop(struct qmgr *q);
void pickup_free(struct qmgr *q);

/* qmgr_state.c: the delivery state of a deferred message, in
 * <queue_dir>/defer/<id>, replaced atomically. */
/* A remote destination already delivered, of a recipient not yet done
 * (an alias with several destinations, some deferred). */
struct qmgr_sent {
	size_t rcpt;
	char *address;
};

struct qmgr_state {
	bool exists;         /* read from a file */
	uint64_t attempts;   /* delivery attempts so far */
	uint64_t next_retry; /* seconds since the epoch */
	size_t nrcpt;
	bool *done;   /* per envelope recipient: delivered or dropped */
	char *reason; /* the last deferral reason (sanitised) */
	struct qmgr_sent *sent;
	size_t nsent;
	char **why; /* per envelope recipient: its last deferral, or NULL */
	bool warned; /* a delay warning was sent */
};
/* Records (rcpt, address) as sent. */
void qmgr_state_add_sent(struct qmgr_state *st, size_t rcpt,
    const char *address);
bool qmgr_state_is_sent(const struct qmgr_state *st, size_t rcpt,
    const char *address);
void qmgr_state_set_why(struct qmgr_state *st, size_t rcpt, const char *why);

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
