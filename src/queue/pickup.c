/*
 * pickup: the queue manager's side of maildrop/ (maildrop.h, docs/queue.md).
 * inotify tells it when sendmail renames a finished file into maildrop/
 * (IN_MOVED_TO) or closes one written there (IN_CLOSE_WRITE); the queue
 * scans (qmgr_scan.c) list the directory too, at start and then every
 * queue_run_delay, as a safety net for lost events and for mail posted
 * while the server was down.
 *
 * Each file is taken on a worker thread: opened without following links
 * and without blocking on a FIFO, checked to be a regular file with one
 * link and of bounded size, its owner (st_uid: only root can give a file
 * away, so it is the one thing about it a user cannot forge) named, its
 * record validated, and its message copied into a normal queue file behind
 * a Received: header, as Postfix's pickup does. Missing From:, Date: and
 * Message-ID: headers are added there (Postfix's cleanup does it). Once
 * the queue file is committed the maildrop file is removed and the new
 * message started. A file that fails validation goes to corrupt/.
 *
 * A crash after the commit and before the removal leaves both: the next
 * pickup queues the message a second time (docs/queue.md says so).
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pwd.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mailaddr.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "queue/maildrop.h"
#include "queue/qmgr_private.h"
#include "queue/queue_file.h"

/* The pickup state of the queue manager (loop thread only). */
struct qmgr_pickup {
	int ifd; /* inotify; -1 when not available */
	struct event *ev;
	void *busy; /* tsearch() tree of the names being picked up */
	char *dir;  /* <queue_dir>/maildrop */
};

struct pickup_job {
	struct qmgr *q;
	char *name;            /* owned by the busy tree */
	char id[QUEUE_ID_MAX]; /* output: the new queue ID, or "" */
};

static int
pickup_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* ---- one file (worker thread) ------------------------------------------- */

/* Moves a file that failed validation out of the way, for a human. */
static void
pickup_corrupt(struct qmgr *q, const char *name, const char *why)
{
	char *from =
	    xasprintf("%s/%s/%s", q->queue_dir, QUEUE_DIR_MAILDROP, name);
	char *to = xasprintf("%s/%s/%s", q->queue_dir, QUEUE_DIR_CORRUPT, name);

	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0 ||
	    ((errno == EINVAL || errno == ENOSYS) && rename(from, to) == 0))
		log_warn("%s/%s: %s; moved to %s/", QUEUE_DIR_MAILDROP, name,
		    why, QUEUE_DIR_CORRUPT);
	else if (errno != ENOENT)
		log_warn("%s/%s: %s; cannot move it to %s/: %m",
		    QUEUE_DIR_MAILDROP, name, why, QUEUE_DIR_CORRUPT);
	free(from);
	free(to);
}

/* RFC 5322 3.2.5: a display name that is not all atext and spaces goes
 * in quotes, with '"' and '\' escaped. */
static int
pickup_phrase(struct buf *b, const char *s)
{
	const char *p;
	bool plain = true;

	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || (unsigned char)*p >= 0x80 ||
		        strchr(" !#$%&'*+-/=?^_`{|}~", *p) != NULL))
			plain = false;
	if (plain)
		return buf_append_str(b, s);
	if (buf_append_char(b, '"') == -1)
		return -1;
	for (p = s; *p != '\0'; p++)
		if (((*p == '"' || *p == '\\') &&
		        buf_append_char(b, '\\') == -1) ||
		    buf_append_char(b, *p) == -1)
			return -1;
	return buf_append_char(b, '"');
}

/* The headers pickup puts in front: Received:, then those the message
 * lacks. */
static int
pickup_headers(const struct qmgr *q, const char *id, unsigned long uid,
    const struct maildrop_rec *rec, const char *sender, struct buf *h)
{
	const struct conf *conf = q->conf;
	time_t now = time(NULL), posted;
	char date[64], stamp[32];
	struct tm tm;

	(void)localtime_r(&now, &tm);
	/* RFC 5322 3.3 date-time, as smtpd writes it */
	(void)strftime(
	    date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm);
	if (buf_printf(h,
	        "Received: by %s (%s, from userid %lu)\n\tid %s; %s\n",
	        conf->myhostname, conf->mail_name, uid, id, date) == -1)
		return -1;
	/* the time sendmail ran, unless it is in the future */
	posted = rec->time <= (uint64_t)now ? (time_t)rec->time : now;
	(void)localtime_r(&posted, &tm);
	if ((rec->flags & MAILDROP_F_ADD_FROM) != 0) {
		if (buf_append_str(h, "From: ") == -1)
			return -1;
		if (sender[0] == '\0') {
			if (buf_printf(h, "%s@%s\n", conf->bounce_sender_name,
			        conf->myhostname) == -1)
				return -1;
		} else if (rec->fullname[0] != '\0') {
			if (pickup_phrase(h, rec->fullname) == -1 ||
			    buf_printf(h, " <%s>\n", sender) == -1)
				return -1;
		} else if (buf_printf(h, "%s\n", sender) == -1)
			return -1;
	}
	if ((rec->flags & MAILDROP_F_ADD_DATE) != 0) {
		(void)strftime(
		    date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm);
		if (buf_printf(h, "Date: %s\n", date) == -1)
			return -1;
	}
	if ((rec->flags & MAILDROP_F_ADD_MSGID) != 0) {
		/* Postfix's form: <YYYYMMDDhhmmss.QUEUEID@myhostname> */
		(void)strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		if (buf_printf(h, "Message-ID: <%s.%s@%s>\n", stamp, id,
		        conf->myhostname) == -1)
			return -1;
	}
	return 0;
}

/* The envelope sender: what -f said; else the owner's address, from the
 * unforgeable owner uid (the record's copy only when the uid has no name
 * any more). */
static char *
pickup_sender(
    const struct qmgr *q, const struct maildrop_rec *rec, const char *login)
{
	char *raw, *norm;

	if ((rec->flags & MAILDROP_F_SENDER) != 0 || login == NULL)
		return xstrdup(rec->sender);
	raw = xasprintf("%s@%s", login, q->conf->myorigin);
	norm = mailaddr_normalize(raw);
	free(raw);
	if (norm == NULL || strchr(norm, '@') == NULL) {
		free(norm);
		return xstrdup(rec->sender);
	}
	return norm;
}

static int
pickup_copy(struct queue_msg *qm, int fd, uint64_t len)
{
	char chunk[65536];
	uint64_t off = MAILDROP_HEAD_SIZE;
	ssize_t r;

	while (len > 0) {
		r = pread(fd, chunk, len < sizeof(chunk) ? len : sizeof(chunk),
		    (off_t)off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EBADMSG; /* cut while we read it */
			return -1;
		}
		if (queue_msg_write(qm, chunk, (size_t)r) == -1)
			return -1;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

/* Turns the validated maildrop file open at fd into a queue file.
 * 0, or -1: errno EBADMSG when the file is at fault, else (the queue
 * cannot take it now) any other value. */
static int
pickup_queue(struct pickup_job *j, int fd, const struct stat *st,
    const struct maildrop_rec *rec, uint64_t len, struct buf *err)
{
	struct qmgr *q = j->q;
	struct passwd pw, *res = NULL;
	char pwbuf[16384], *sender = NULL;
	const char *login;
	struct queue_msg *qm = NULL;
	struct queue_env env;
	struct timeval tv;
	struct buf h;
	int ret = -1, saved;

	buf_init(&h, 64 * 1024);
	(void)getpwuid_r(st->st_uid, &pw, pwbuf, sizeof(pwbuf), &res);
	login = res != NULL ? pw.pw_name : NULL;
	sender = pickup_sender(q, rec, login);
	if ((qm = queue_msg_create(q->queue_dir, err)) == NULL)
		goto out;
	if (pickup_headers(q, queue_msg_id(qm), (unsigned long)st->st_uid, rec,
	        sender, &h) == -1 ||
	    queue_msg_write(qm, h.data, h.len) == -1 ||
	    pickup_copy(qm, fd, len) == -1) {
		saved = errno;
		buf_reset(err);
		(void)!buf_printf(err, "%s",
		    saved == EBADMSG ? "the file was cut while it was read"
		                     : strerror(saved));
		errno = saved;
		goto out;
	}
	memset(&env, 0, sizeof(env));
	(void)gettimeofday(&tv, NULL);
	env.arrival = (uint64_t)tv.tv_sec;
	env.arrival_usec = (uint64_t)tv.tv_usec;
	env.sender = sender;
	env.rcpts = rec->rcpts;
	env.nrcpt = rec->nrcpt;
	env.client_name = "localhost";
	env.client_addr = "127.0.0.1";
	env.helo = "";
	env.proto = "SENDMAIL";
	env.smtputf8 = (rec->flags & MAILDROP_F_SMTPUTF8) != 0;
	env.body_8bit = (rec->flags & MAILDROP_F_8BIT) != 0;
	if (queue_msg_commit(qm, &env) == -1) {
		saved = errno;
		buf_reset(err);
		(void)!buf_printf(err, "cannot commit queue file %s: %s",
		    queue_msg_id(qm), strerror(saved));
		errno = saved == EBADMSG ? EIO : saved;
		goto out;
	}
	(void)snprintf(j->id, sizeof(j->id), "%s", queue_msg_id(qm));
	/* Postfix's pickup line: uid=1000 from=<user> */
	log_info("%s: uid=%lu from=<%s>", j->id, (unsigned long)st->st_uid,
	    log_sanitize_str(sender));
	ret = 0;
out:
	saved = errno;
	queue_msg_free(&qm);
	free(sender);
	buf_free(&h);
	errno = saved;
	return ret;
}

static void
pickup_run(void *arg)
{
	struct pickup_job *j = arg;
	struct qmgr *q = j->q;
	uint64_t len = 0, max;
	struct maildrop_rec *rec = NULL;
	struct stat st;
	struct buf err;
	char *path, *dir, why[128];
	int fd;

	if (atomic_load(&q->cancel))
		return; /* the file stays for the next start */
	buf_init(&err, 4096);
	dir = xasprintf("%s/%s", q->queue_dir, QUEUE_DIR_MAILDROP);
	path = xasprintf("%s/%s", dir, j->name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			goto out; /* taken already */
		if (errno == ELOOP || errno == EACCES || errno == ENXIO)
			pickup_corrupt(q, j->name,
			    errno == ELOOP ? "a symbolic link" : "unreadable");
		else
			log_warn("%s/%s: cannot open: %m; will retry",
			    QUEUE_DIR_MAILDROP, j->name);
		goto out;
	}
	max = MAILDROP_HEAD_SIZE + q->conf->message_size_limit +
	    MAILDROP_RECORD_MAX + MAILDROP_TAIL_SIZE;
	if (fstat(fd, &st) == -1) {
		log_warn("%s/%s: fstat: %m; will retry", QUEUE_DIR_MAILDROP,
		    j->name);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		pickup_corrupt(q, j->name, "not a regular file");
		goto out;
	}
	if (st.st_nlink != 1) {
		/* a hard link to someone else's file is not a submission */
		(void)snprintf(why, sizeof(why), "%lu links (uid=%lu)",
		    (unsigned long)st.st_nlink, (unsigned long)st.st_uid);
		pickup_corrupt(q, j->name, why);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		(void)snprintf(why, sizeof(why),
		    "larger than message_size_limit (uid=%lu)",
		    (unsigned long)st.st_uid);
		pickup_corrupt(q, j->name, why);
		goto out;
	}
	rec = maildrop_file_read(
	    fd, (uint64_t)st.st_size, q->conf->message_size_limit, &len, &err);
	if (rec == NULL) {
		(void)!buf_printf(&err, " (uid=%lu)", (unsigned long)st.st_uid);
		pickup_corrupt(q, j->name, buf_cstr(&err));
		goto out;
	}
	if (pickup_queue(j, fd, &st, rec, len, &err) == -1) {
		if (errno == EBADMSG)
			pickup_corrupt(q, j->name, buf_cstr(&err));
		else
			log_warn("%s/%s: %s; will retry", QUEUE_DIR_MAILDROP,
			    j->name, buf_cstr(&err));
		goto out;
	}
	/* Queued and durable: the drop goes. Its removal is synced too, so
	 * that a power loss cannot bring it back for a second pickup. */
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: cannot remove %s: %m", j->id, path);
	else if (fsync_dir(dir) == -1)
		log_warn("%s: cannot sync %s: %m", j->id, dir);
out:
	if (fd != -1)
		(void)close(fd);
	maildrop_rec_free(&rec);
	free(path);
	free(dir);
	buf_free(&err);
}

/* ---- the loop ----------------------------------------------------------- */

static void
pickup_done(void *arg)
{
	struct pickup_job *j = arg;
	struct qmgr *q = j->q;
	struct qmgr_pickup *pk = q->pickup;
	struct qmgr_msg *m;

	(void)tdelete(j->name, &pk->busy, pickup_name_cmp);
	free(j->name);
	q->njobs--;
	if (j->id[0] != '\0' && !q->stopping) {
		if ((m = qmgr_msg_find(q, j->id)) == NULL) {
			m = qmgr_msg_add(q, j->id);
			qmgr_msg_start(m, false);
		}
	}
	free(j);
	if (q->stopping && q->njobs == 0)
		(void)event_base_loopexit(q->base, NULL);
}

void
pickup_file(struct qmgr *q, const char *name)
{
	struct qmgr_pickup *pk = q->pickup;
	struct pickup_job *j;
	char *key;

	if (q->stopping || pk == NULL || !maildrop_name_valid(name))
		return;
	if (tfind(name, &pk->busy, pickup_name_cmp) != NULL)
		return; /* being picked up: never twice at once */
	key = xstrdup(name);
	if (tsearch(key, &pk->busy, pickup_name_cmp) == NULL)
		log_fatal("queue: out of memory");
	j = xcalloc(1, sizeof(*j));
	j->q = q;
	j->name = key;
	q->njobs++;
	worker_submit(q->wp, pickup_run, pickup_done, j);
}

static void
pickup_on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr *q = arg;
	char buf[16384]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	(void)what;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if ((ev->mask & IN_Q_OVERFLOW) != 0) {
				/* events were lost: look at the directory */
				qmgr_scan_schedule(q, 0);
				continue;
			}
			if (ev->len > 0 && (ev->mask & IN_ISDIR) == 0)
				pickup_file(q, ev->name);
		}
	}
}

int
pickup_init(struct qmgr *q)
{
	struct qmgr_pickup *pk = xcalloc(1, sizeof(*pk));

	q->pickup = pk;
	pk->dir = xasprintf("%s/%s", q->queue_dir, QUEUE_DIR_MAILDROP);
	pk->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pk->ifd == -1 ||
	    inotify_add_watch(pk->ifd, pk->dir,
	        IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) == -1) {
		log_warn("cannot watch %s: %m; mail posted with sendmail is "
		         "picked up at each queue scan only (queue_run_delay)",
		    pk->dir);
		if (pk->ifd != -1)
			(void)close(pk->ifd);
		pk->ifd = -1;
		return -1;
	}
	pk->ev = event_new(
	    q->base, pk->ifd, EV_READ | EV_PERSIST, pickup_on_inotify, q);
	if (pk->ev == NULL || event_add(pk->ev, NULL) == -1)
		log_fatal("queue: cannot set up the event loop");
	return 0;
}

void
pickup_stop(struct qmgr *q)
{
	struct qmgr_pickup *pk = q->pickup;

	if (pk != NULL && pk->ev != NULL)
		(void)event_del(pk->ev);
}

void
pickup_free(struct qmgr *q)
{
	struct qmgr_pickup *pk = q->pickup;

	if (pk == NULL)
		return;
	if (pk->ev != NULL)
		event_free(pk->ev);
	if (pk->ifd != -1)
		(void)close(pk->ifd);
	tdestroy(pk->busy, free);
	free(pk->dir);
	free(pk);
	q->pickup = NULL;
}
