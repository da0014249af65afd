/*
 * The queue service (see qmgr.h): one event loop that receives pokes on
 * <queue_dir>/qmgr.sock, keeps the table of messages it knows (running or
 * waiting for a retry), hands delivery attempts to a worker pool, runs the
 * retry timers and the periodic scans, and stops cleanly on SIGTERM.
 * Delivery itself is in qmgr_deliver.c, scans in qmgr_scan.c.
 */
#include "queue/qmgr.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delivery/resolve.h"
#include "delivery/route.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "queue/qmgr_private.h"
#include "queue/queue_admin.h"
#include "queue/queue_id.h"
#include "queue/queue_private.h"

/* Datagrams read per wakeup, so that a poke storm cannot starve the loop. */
#define QMGR_POKES_PER_WAKEUP 256
/* The kernel queues only net.unix.max_dgram_qlen (default 10) datagrams
 * per socket and smtpd never blocks on a poke: a wakeup that finds this
 * many waiting suggests some were dropped, so scan the queue soon. */
#define QMGR_POKE_BURST       8
#define QMGR_QUICK_SCAN_DELAY 1.0

double
qmgr_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
qmgr_timeval(double secs, struct timeval *tv_out)
{
	if (!(secs > 0))
		secs = 0;
	tv_out->tv_sec = (time_t)secs;
	tv_out->tv_usec = (suseconds_t)((secs - (double)tv_out->tv_sec) * 1e6);
}

static int
qmgr_msg_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct qmgr_msg *)a)->id, ((const struct qmgr_msg *)b)->id);
}

struct qmgr_msg *
qmgr_msg_find(struct qmgr *q, const char *id)
{
	struct qmgr_msg key;
	void *node;

	(void)snprintf(key.id, sizeof(key.id), "%s", id);
	node = tfind(&key, &q->msgs, qmgr_msg_cmp);
	return node != NULL ? *(struct qmgr_msg **)node : NULL;
}

static void qmgr_on_retry(evutil_socket_t fd, short what, void *arg);
static void qmgr_requeue_start(struct qmgr_msg *m);

struct qmgr_msg *
qmgr_msg_add(struct qmgr *q, const char *id)
{
	struct qmgr_msg *m = xcalloc(1, sizeof(*m));

	(void)snprintf(m->id, sizeof(m->id), "%s", id);
	m->q = q;
	m->timer = evtimer_new(q->base, qmgr_on_retry, m);
	if (m->timer == NULL || tsearch(m, &q->msgs, qmgr_msg_cmp) == NULL)
		log_fatal("queue: out of memory");
	return m;
}

static void
qmgr_msg_free(void *p)
{
	struct qmgr_msg *m = p;

	event_free(m->timer);
	free(m);
}

static void
qmgr_msg_remove(struct qmgr_msg *m)
{
	struct qmgr *q = m->q;

	(void)tdelete(m, &q->msgs, qmgr_msg_cmp);
	qmgr_msg_free(m);
}

void
qmgr_msg_start(struct qmgr_msg *m, bool respect_schedule)
{
	struct qmgr *q = m->q;
	struct qmgr_job *j;

	MW_ASSERT(!q->stopping);
	if (q->nactive >= q->active_limit) {
		/* Postfix's qmgr_message_active_limit: the rest wait, in
		 * order, without holding a file open */
		m->state = QMGR_MSG_PENDING;
		m->pending_schedule = respect_schedule;
		m->next_pending = NULL;
		if (q->pend_tail != NULL)
			q->pend_tail->next_pending = m;
		else
			q->pend_head = m;
		q->pend_tail = m;
		return;
	}
	j = xcalloc(1, sizeof(*j));
	q->nactive++;
	m->state = QMGR_MSG_RUNNING;
	j->q = q;
	j->m = m;
	memcpy(j->id, m->id, sizeof(j->id));
	j->respect_schedule = respect_schedule;
	j->retry_here = m->attempts_here > 0;
	j->t_queued = qmgr_now();
	q->njobs++;
	worker_submit(q->wp, qmgr_deliver_run, qmgr_deliver_done, j);
}

static void
qmgr_maybe_exit(struct qmgr *q)
{
	if (q->stopping && q->njobs == 0)
		(void)event_base_loopexit(q->base, NULL);
}

/* Back on the loop: send the remote part, forget the message, or wait
 * for its retry time. */
void
qmgr_deliver_done(void *arg)
{
	struct qmgr_job *j = arg;
	struct qmgr *q = j->q;
	struct qmgr_msg *m = j->m;
	struct timeval tv;

	if (j->result == QMGR_REMOTE) {
		/* the job stays counted in njobs until its end has run */
		qmgr_remote_submit(q, j);
		return;
	}
	q->njobs--;
	q->nactive--;
	while (!q->stopping && q->pend_head != NULL &&
	    q->nactive < q->active_limit) {
		struct qmgr_msg *p = q->pend_head;

		q->pend_head = p->next_pending;
		if (q->pend_head == NULL)
			q->pend_tail = NULL;
		qmgr_msg_start(p, p->pending_schedule);
	}
	switch (j->result) {
	case QMGR_DEFERRED:
		m->attempts_here++;
		/* FALLTHROUGH */
	case QMGR_WAIT:
		if (q->stopping)
			goto forget;
		if (m->requeue) {
			/* asked for while it ran: the schedule it just wrote
			 * goes now */
			qmgr_requeue_start(m);
			break;
		}
		m->state = QMGR_MSG_WAITING;
		qmgr_timeval((double)j->next_retry - qmgr_now(), &tv);
		if (evtimer_add(m->timer, &tv) == -1)
			log_panic("queue: cannot schedule a retry");
		break;
	default:
forget:
		qmgr_msg_remove(m);
		break;
	}
	qmgr_job_free(j);
	qmgr_maybe_exit(q);
}

static void
qmgr_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr_msg *m = arg;

	(void)fd;
	(void)what;
	if (m->q->stopping)
		return;
	qmgr_msg_start(m, false);
}

struct qmgr_flush_arg {
	struct qmgr *q;
	struct qmgr_msg **v;
	size_t n, cap;
};

static void
qmgr_flush_collect(const void *node, VISIT which, void *arg)
{
	struct qmgr_msg *m = *(struct qmgr_msg *const *)node;
	struct qmgr_flush_arg *a = arg;

	if ((which != postorder && which != leaf) ||
	    m->state != QMGR_MSG_WAITING)
		return;
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	a->v[a->n++] = m;
}

/* `mailwright queue flush [-d domain]`: forget dead destinations and try
 * every waiting message now (Postfix's postqueue -f), then scan for the
 * ones this process does not know. */
static void
qmgr_flush(struct qmgr *q, const char *domain)
{
	struct qmgr_flush_arg a = { q, NULL, 0, 0 };
	size_t i;

	log_info("flush%s%s: retrying deferred mail now",
	    domain[0] != '\0' ? " of " : "", log_sanitize_str(domain));
	qmgr_remote_flush(q, domain);
	twalk_r(q->msgs, qmgr_flush_collect, &a);
	for (i = 0; i < a.n; i++) {
		(void)evtimer_del(a.v[i]->timer);
		qmgr_msg_start(a.v[i], false);
	}
	free(a.v);
	qmgr_scan_schedule(q, 0);
}

/* `mailwright queue requeue ID`: the state file loses its schedule on a
 * worker (the manager is its only writer while it runs), then the message
 * is tried at once. */
struct qmgr_requeue_job {
	struct qmgr_msg *m;
	char id[QUEUE_ID_MAX];
};

static void
qmgr_requeue_run(void *arg)
{
	struct qmgr_requeue_job *j = arg;
	struct qmgr *q = j->m->q;
	struct buf err;

	if (atomic_load(&q->cancel))
		return;
	buf_init(&err, 1024);
	if (queue_admin_requeue_state(q->queue_dir, j->id, &err) == 0)
		log_info("%s: requeued", j->id);
	else if (errno != ENOENT)
		log_warn("%s: requeue: %s", j->id, buf_cstr(&err));
	buf_free(&err);
}

static void
qmgr_requeue_done(void *arg)
{
	struct qmgr_requeue_job *j = arg;
	struct qmgr_msg *m = j->m;
	struct qmgr *q = m->q;

	free(j);
	q->njobs--;
	if (q->stopping) {
		qmgr_msg_remove(m);
		qmgr_maybe_exit(q);
		return;
	}
	qmgr_msg_start(m, false);
}

static void
qmgr_requeue_start(struct qmgr_msg *m)
{
	struct qmgr *q = m->q;
	struct qmgr_requeue_job *j = xcalloc(1, sizeof(*j));

	m->requeue = false;
	m->state = QMGR_MSG_RUNNING; /* no attempt starts meanwhile */
	(void)evtimer_del(m->timer);
	j->m = m;
	memcpy(j->id, m->id, sizeof(j->id));
	q->njobs++;
	worker_submit(q->wp, qmgr_requeue_run, qmgr_requeue_done, j);
}

static void
qmgr_requeue(struct qmgr *q, const char *id)
{
	struct qmgr_msg *m;

	if (!queue_id_valid(id)) {
		log_warn("ignoring a requeue request for a bad queue ID");
		return;
	}
	if ((m = qmgr_msg_find(q, id)) == NULL)
		m = qmgr_msg_add(q, id);
	else if (m->state == QMGR_MSG_RUNNING) {
		m->requeue = true; /* after this attempt */
		return;
	}
	qmgr_requeue_start(m);
}

/* One poke: checks size, magic and version before it reads the ID. */
static void
qmgr_poke_one(struct qmgr *q, const char *p, size_t n)
{
	char id[QUEUE_ID_MAX];
	struct qmgr_msg *m;

	if (n >= QUEUE_POKE_HDR && memcmp(p, QUEUE_FLUSH_MAGIC, 4) == 0 &&
	    p[4] == QUEUE_POKE_VERSION) {
		char dom[256];
		size_t dl = n - QUEUE_POKE_HDR;

		if (dl >= sizeof(dom))
			dl = sizeof(dom) - 1;
		memcpy(dom, p + QUEUE_POKE_HDR, dl);
		dom[dl] = '\0';
		qmgr_flush(q, dom);
		return;
	}
	if (n > QUEUE_POKE_HDR && n - QUEUE_POKE_HDR < sizeof(id) &&
	    memcmp(p, QUEUE_REQUEUE_MAGIC, 4) == 0 &&
	    p[4] == QUEUE_POKE_VERSION) {
		memcpy(id, p + QUEUE_POKE_HDR, n - QUEUE_POKE_HDR);
		id[n - QUEUE_POKE_HDR] = '\0';
		qmgr_requeue(q, id);
		return;
	}

	if (n <= QUEUE_POKE_HDR || n - QUEUE_POKE_HDR >= sizeof(id) ||
	    memcmp(p, QUEUE_POKE_MAGIC, 4) != 0 || p[4] != QUEUE_POKE_VERSION) {
		log_warn("ignoring a malformed poke (%zu bytes)", n);
		return;
	}
	memcpy(id, p + QUEUE_POKE_HDR, n - QUEUE_POKE_HDR);
	id[n - QUEUE_POKE_HDR] = '\0';
	if (!queue_id_valid(id)) {
		log_warn("ignoring a poke for a bad queue ID");
		return;
	}
	if ((m = qmgr_msg_find(q, id)) == NULL)
		m = qmgr_msg_add(q, id);
	else if (m->state == QMGR_MSG_RUNNING || m->state == QMGR_MSG_PENDING)
		return; /* never two attempts of one message at once */
	else
		(void)evtimer_del(m->timer); /* asked for now: flush */
	qmgr_msg_start(m, false);
}

static void
qmgr_on_poke(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr *q = arg;
	char msg[QUEUE_POKE_HDR + QUEUE_ID_MAX + 1];
	size_t i;
	ssize_t n;

	(void)what;
	for (i = 0; i < QMGR_POKES_PER_WAKEUP && !q->stopping; i++) {
		n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("qmgr.sock: recv: %m");
			break;
		}
		qmgr_poke_one(
		    q, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg));
	}
	if (i >= QMGR_POKE_BURST)
		qmgr_scan_schedule(q, QMGR_QUICK_SCAN_DELAY);
}

static void
qmgr_on_scan_timer(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr *q = arg;

	(void)fd;
	(void)what;
	q->next_scan = 0;
	qmgr_scan_start(q, false);
}

/* SIGUSR1 from the master: an smtpd died, maybe between committing a
 * message and poking us about it; look at the queue now. */
static void
qmgr_on_rescan(evutil_socket_t sig, short what, void *arg)
{
	struct qmgr *q = arg;

	(void)sig;
	(void)what;
	if (!q->stopping)
		qmgr_scan_schedule(q, 0);
}

/* SIGTERM: take no more work, let running deliveries finish, then exit. */
static void
qmgr_on_term(evutil_socket_t sig, short what, void *arg)
{
	struct qmgr *q = arg;

	(void)what;
	if (q->stopping)
		return;
	log_info(
	    "stopping on signal %d; %zu jobs to finish", (int)sig, q->njobs);
	q->stopping = true;
	atomic_store(&q->cancel, true);
	(void)event_del(q->ev_sock);
	(void)event_del(q->ev_scan);
	pickup_stop(q);
	/* connections end now; their recipients are deferred and saved */
	qmgr_remote_stop(q);
	qmgr_maybe_exit(q);
}

/*
 * One queue manager per queue directory: two would deliver the same
 * messages at once and could replace each other's tmp/ files. The lock
 * dies with the process, so a manager killed with -9 never blocks its
 * successor. Returns the descriptor that holds the lock.
 */
static int
qmgr_lock(const char *queue_dir)
{
	char *path = xasprintf("%s/%s", queue_dir, QUEUE_LOCK_FILE);
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		log_fatal("cannot open %s: %m", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			log_fatal("%s is locked: another queue manager runs "
			          "on this queue",
			    path);
		log_fatal("cannot lock %s: %m", path);
	}
	free(path);
	return fd;
}

/* Binds <queue_dir>/qmgr.sock, replacing a stale one. */
static int
qmgr_sock_open(const char *queue_dir)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, dirfd = -1, saved, bufsz = 1 << 20;
	char *path;

	path = xasprintf("%s/%s", queue_dir, QUEUE_SOCKET);
	(void)unlink(path); /* a previous run's: nobody else binds it */
	free(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (queue_sock_addr(queue_dir, &sun, &len, &dirfd) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, len) == -1) {
		saved = errno;
		if (dirfd != -1)
			(void)close(dirfd);
		(void)close(fd);
		errno = saved;
		return -1;
	}
	if (dirfd != -1)
		(void)close(dirfd);
	return fd;
}

static void
qmgr_setup_events(struct qmgr *q)
{
	q->ev_sock =
	    event_new(q->base, q->sock, EV_READ | EV_PERSIST, qmgr_on_poke, q);
	q->ev_term = evsignal_new(q->base, SIGTERM, qmgr_on_term, q);
	q->ev_int = evsignal_new(q->base, SIGINT, qmgr_on_term, q);
	q->ev_scan = evtimer_new(q->base, qmgr_on_scan_timer, q);
	q->ev_usr1 = evsignal_new(q->base, SIGUSR1, qmgr_on_rescan, q);
	if (q->ev_usr1 == NULL || event_add(q->ev_usr1, NULL) == -1)
		log_fatal("queue: cannot set up the event loop");
	if (q->ev_sock == NULL || q->ev_term == NULL || q->ev_int == NULL ||
	    q->ev_scan == NULL || event_add(q->ev_sock, NULL) == -1 ||
	    event_add(q->ev_term, NULL) == -1 ||
	    event_add(q->ev_int, NULL) == -1)
		log_fatal("queue: cannot set up the event loop");
}

/* qmgr_message_active_limit, within the descriptors we may open: each
 * attempt holds its queue file, each connection a socket. */
static size_t
qmgr_active_limit(const struct conf *conf)
{
	struct rlimit rl;
	uint64_t lim = conf->qmgr_message_active_limit;
	uint64_t reserve = conf->default_process_limit + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur > reserve + 16 && lim > rl.rlim_cur - reserve) {
		log_warn("qmgr_message_active_limit %llu exceeds what %llu file "
		         "descriptors allow; using %llu",
		    (unsigned long long)lim, (unsigned long long)rl.rlim_cur,
		    (unsigned long long)(rl.rlim_cur - reserve));
		lim = rl.rlim_cur - reserve;
	}
	return lim > 0 ? (size_t)lim : 1;
}

int
qmgr_main(const struct conf *conf)
{
	struct qmgr q;
	struct buf err;
	sigset_t term;
	char *path;
	int lockfd;

	log_set_service("queue");
	/* A SIGTERM that comes before the loop can take it waits, instead of
	 * killing us half set up; the worker threads inherit the mask and so
	 * leave signals to the loop thread. */
	(void)sigemptyset(&term);
	(void)sigaddset(&term, SIGTERM);
	(void)sigaddset(&term, SIGINT);
	(void)pthread_sigmask(SIG_BLOCK, &term, NULL);
	(void)umask(077);
	(void)signal(SIGPIPE, SIG_IGN);
	/* The master rereads the configuration on SIGHUP and restarts the
	 * services that need it; the queue keeps going meanwhile. */
	(void)signal(SIGHUP, SIG_IGN);
	memset(&q, 0, sizeof(q));
	q.conf = conf;
	q.queue_dir = conf->queue_directory;
	q.sock = -1;
	atomic_init(&q.cancel, false);
	if (queue_dirs_create(q.queue_dir) == -1)
		log_fatal("cannot create the queue directories in %s: %m",
		    q.queue_dir);
	lockfd = qmgr_lock(q.queue_dir);
	buf_init(&err, 4096);
	if ((q.resolver = resolver_new(conf, &err)) == NULL)
		log_fatal(
		    "cannot open the recipient resolver: %s", buf_cstr(&err));
	if ((q.router = router_new(conf, &err)) == NULL)
		log_fatal("%s: %s", conf->config_file, buf_cstr(&err));
	if ((q.base = event_base_new()) == NULL)
		log_fatal("queue: cannot create the event loop");
	/* Before the first scan, so that a message committed during it is
	 * either listed or poked. */
	if ((q.sock = qmgr_sock_open(q.queue_dir)) == -1)
		log_fatal("cannot bind %s/%s: %m", q.queue_dir, QUEUE_SOCKET);
	q.wp = worker_pool_new(q.base,
	    conf->queue_delivery_threads > 0
	        ? (size_t)conf->queue_delivery_threads
	        : 1);
	if (qmgr_remote_init(&q, &err) == -1)
		log_fatal("%s: %s", conf->config_file, buf_cstr(&err));
	buf_free(&err);
	qmgr_setup_events(&q);
	(void)pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	q.active_limit = qmgr_active_limit(conf);
	q.t_start = qmgr_now();
	log_info("started: %s, %llu delivery threads", q.queue_dir,
	    (unsigned long long)conf->queue_delivery_threads);
	/* Before the first scan, so that a file dropped during it is either
	 * listed or announced. */
	(void)pickup_init(&q);
	qmgr_scan_start(&q, true); /* recovery, and mail posted meanwhile */
	if (event_base_dispatch(q.base) == -1)
		log_error("queue: event loop failed");
	/* Every job has ended, unless the loop failed: then the pool waits
	 * for the running ones and the rest skip. */
	q.stopping = true;
	atomic_store(&q.cancel, true);
	worker_pool_free(&q.wp);
	pickup_free(&q);
	qmgr_remote_free(&q);
	router_free(&q.router);
	tdestroy(q.msgs, qmgr_msg_free);
	path = xasprintf("%s/%s", q.queue_dir, QUEUE_SOCKET);
	(void)unlink(path);
	free(path);
	(void)close(q.sock);
	event_free(q.ev_sock);
	event_free(q.ev_term);
	event_free(q.ev_int);
	event_free(q.ev_scan);
	event_free(q.ev_usr1);
	event_base_free(q.base);
	resolver_free(&q.resolver);
	(void)close(lockfd);
	log_info("stopped");
	return 0;
}
