/*
 * One delivery attempt of one queued message, on a worker thread: read the
 * queue file and its delivery state, deliver every recipient not done yet
 * (delivery/local.c), then remove the message, or record the deferral and
 * the next retry time, or move an expired message to hold/.
 *
 * Retry mode (Maildir copies are also looked for in cur/) is used for every
 * attempt except the first one of a message that arrived after this
 * process started: only then can no earlier attempt, by this process or by
 * one that crashed, have made a copy that a client has since moved.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delivery/local.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/qmgr_private.h"
#include "queue/queue_file.h"

/* The wait before attempt number attempts+1: minimal_backoff_time,
 * doubled per attempt, at most maximal_backoff_time (as Postfix). */
static uint64_t
qmgr_backoff(const struct conf *conf, uint64_t attempts)
{
	uint64_t d =
	    conf->minimal_backoff_time > 0 ? conf->minimal_backoff_time : 1;
	uint64_t max =
	    conf->maximal_backoff_time > d ? conf->maximal_backoff_time : d;

	while (attempts-- > 1 && d < max)
		d = d > max / 2 ? max : d * 2;
	return d < max ? d : max;
}

static char *
qmgr_path(const struct qmgr *q, const char *dir, const char *id)
{
	return xasprintf("%s/%s/%s", q->queue_dir, dir, id);
}

/* The queue file cannot be used. A damaged file or an unknown version is
 * moved to corrupt/ for a human (Postfix does the same); anything else
 * (EMFILE, EIO) is retried later. */
static void
qmgr_deliver_unreadable(struct qmgr_job *j, int e, const struct buf *err)
{
	struct qmgr *q = j->q;
	char *from, *to;

	if (e == ENOENT) {
		j->result =
		    QMGR_GONE; /* delivered meanwhile, or a stray poke */
		return;
	}
	if (e != EBADMSG && e != ENOTSUP) {
		log_warn(
		    "%s: cannot open queue file: %s", j->id, buf_cstr(err));
		j->result = QMGR_WAIT;
		j->next_retry =
		    (uint64_t)time(NULL) + q->conf->minimal_backoff_time;
		return;
	}
	from = qmgr_path(q, QUEUE_DIR_ACTIVE, j->id);
	to = qmgr_path(q, QUEUE_DIR_CORRUPT, j->id);
	if (rename(from, to) == -1) {
		log_warn("%s: %s; cannot move it to %s/: %m", j->id,
		    buf_cstr(err), QUEUE_DIR_CORRUPT);
		j->result = QMGR_WAIT;
		j->next_retry =
		    (uint64_t)time(NULL) + q->conf->maximal_backoff_time;
	} else {
		log_warn("%s: %s; moved to %s/", j->id, buf_cstr(err),
		    QUEUE_DIR_CORRUPT);
		j->result = QMGR_GONE;
	}
	free(from);
	free(to);
}

/* Every recipient is done: the message leaves the queue. The maildir
 * copies are durable already, so the unlink needs no directory fsync: if
 * a crash undoes it, recovery finds every copy and makes none. */
static void
qmgr_deliver_remove(struct qmgr_job *j, bool had_state)
{
	char *path = qmgr_path(j->q, QUEUE_DIR_ACTIVE, j->id);

	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: cannot remove %s: %m", j->id, path);
	free(path);
	if (had_state) {
		path = qmgr_path(j->q, QUEUE_DIR_DEFER, j->id);
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("%s: cannot remove %s: %m", j->id, path);
		free(path);
	}
	log_info("%s: removed", j->id);
	j->result = QMGR_DONE;
}

/* Past maximal_queue_lifetime: keep the message in hold/ with its state
 * (returning it to the sender comes with bounces, #3). */
static void
qmgr_deliver_expire(struct qmgr_job *j, const struct queue_env *env,
    const struct qmgr_state *st)
{
	struct qmgr *q = j->q;
	char *from, *to, *dir;

	from = qmgr_path(q, QUEUE_DIR_ACTIVE, j->id);
	to = qmgr_path(q, QUEUE_DIR_HOLD, j->id);
	dir = xasprintf("%s/%s", q->queue_dir, QUEUE_DIR_HOLD);
	if (qmgr_state_write(q->queue_dir, j->id, st) == -1)
		log_warn("%s: cannot write the delivery state: %m", j->id);
	if (rename(from, to) == -1 || fsync_dir(dir) == -1) {
		log_warn("%s: cannot move the expired message to %s/: %m",
		    j->id, QUEUE_DIR_HOLD);
		j->result = QMGR_DEFERRED;
		j->next_retry = st->next_retry;
	} else {
		log_info("%s: from=<%s>, status=expired, kept in %s/ "
		         "(returning to sender is not available yet)",
		    j->id, log_sanitize_str(env->sender), QUEUE_DIR_HOLD);
		j->result = QMGR_HELD;
	}
	free(dir);
	free(to);
	free(from);
}

void
qmgr_deliver_run(void *arg)
{
	struct qmgr_job *j = arg;
	struct qmgr *q = j->q;
	const struct conf *conf = q->conf;
	const struct queue_env *env;
	struct queue_file *qf;
	struct local_request req;
	struct qmgr_state st;
	struct buf err, reason;
	bool deferred = false;
	uint64_t now;
	size_t i;

	if (atomic_load(&q->cancel)) {
		j->result = QMGR_CANCELLED;
		return;
	}
	buf_init(&err, 4096);
	buf_init(&reason, 4096);
	qmgr_state_init(&st, 0);
	if ((qf = queue_file_open(q->queue_dir, j->id, &err)) == NULL) {
		qmgr_deliver_unreadable(j, errno, &err);
		goto out;
	}
	env = queue_file_env(qf);
	qmgr_state_free(&st);
	qmgr_state_init(&st, env->nrcpt);
	if (qmgr_state_read(q->queue_dir, j->id, &st, &err) == -1) {
		log_warn("%s: %s; delivering every recipient in retry mode",
		    j->id, buf_cstr(&err));
		qmgr_state_free(&st);
		qmgr_state_init(&st, env->nrcpt);
		st.attempts = 1;
	}
	now = (uint64_t)time(NULL);
	if (j->respect_schedule && st.exists && st.next_retry > now) {
		j->result = QMGR_WAIT;
		j->next_retry = st.next_retry;
		goto out;
	}
	log_info("%s: from=<%s>, size=%llu, nrcpt=%zu (queue active)", j->id,
	    log_sanitize_str(env->sender), (unsigned long long)env->size,
	    env->nrcpt);
	memset(&req, 0, sizeof(req));
	req.resolver = q->resolver;
	req.qf = qf;
	req.hostname = conf->myhostname;
	req.retry = j->retry_here || st.attempts > 0 ||
	    (double)env->arrival + (double)env->arrival_usec / 1e6 <=
	        q->t_start;
	req.t_queued = j->t_queued;
	for (i = 0; i < env->nrcpt; i++) {
		if (st.done[i])
			continue;
		req.rcpt = i;
		req.t_started = qmgr_now();
		if (local_deliver(&req, &reason) == LOCAL_DEFERRED)
			deferred = true;
		else
			st.done[i] = true;
	}
	if (!deferred) {
		qmgr_deliver_remove(j, st.exists);
		goto out;
	}
	now = (uint64_t)time(NULL);
	st.attempts++;
	st.next_retry = now + qmgr_backoff(conf, st.attempts);
	free(st.reason);
	st.reason = xstrdup(buf_cstr(&reason));
	if (now >= env->arrival + conf->maximal_queue_lifetime) {
		qmgr_deliver_expire(j, env, &st);
		goto out;
	}
	/* Without the state the next attempt redoes the done recipients in
	 * retry mode: more work, no duplicates. */
	if (qmgr_state_write(q->queue_dir, j->id, &st) == -1)
		log_warn("%s: cannot write the delivery state: %m", j->id);
	j->result = QMGR_DEFERRED;
	j->next_retry = st.next_retry;
out:
	qmgr_state_free(&st);
	queue_file_free(&qf);
	buf_free(&reason);
	buf_free(&err);
}
