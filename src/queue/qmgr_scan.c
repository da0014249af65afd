/*
 * Queue scans: at startup (recovery) and then every queue_run_delay, a
 * worker lists active/ and the loop takes every message it does not know
 * yet (a lost poke, or what a crashed manager left), and lists maildrop/
 * for pickup.c (mail posted with sendmail while the server was down, or
 * whose inotify event was lost). The same job cleans up: files in
 * incoming/ that nobody has written to for an hour (a live smtpd may be
 * writing younger ones), the same in maildrop/ for sendmail's temporary
 * files and for names that are not sendmail's, delivery states whose
 * message is gone, and, at startup only, temporary state files of a
 * crashed run.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "queue/maildrop.h"
#include "queue/qmgr_private.h"
#include "queue/queue_id.h"

#define QMGR_INCOMING_STALE 3600 /* seconds without a write */

struct qmgr_scan_job {
	struct qmgr *q;
	bool startup;
	char (*ids)[QUEUE_ID_MAX]; /* output: IDs in active/ */
	size_t n, cap;
	char (*drops)[MAILDROP_NAME_LEN + 1]; /* output: maildrop/ files */
	size_t ndrop, capdrop;
	time_t now;
};

/* Calls fn(dfd, name, arg) for each entry of queue_dir/sub except "." and
 * "..". Errors are logged: a scan is best effort. */
static void
qmgr_scan_dir(const struct qmgr *q, const char *sub,
    void (*fn)(int, const char *, void *), void *arg)
{
	struct dirent *de;
	char *path = xasprintf("%s/%s", q->queue_dir, sub);
	DIR *d;

	if ((d = opendir(path)) == NULL) {
		log_warn("cannot scan %s: %m", path);
		free(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		fn(dirfd(d), de->d_name, arg);
	}
	(void)closedir(d);
	free(path);
}

static void
qmgr_scan_active_one(int dfd, const char *name, void *arg)
{
	struct qmgr_scan_job *sj = arg;

	(void)dfd;
	if (!queue_id_valid(name))
		return; /* not ours: left alone */
	if (sj->n == sj->cap) {
		sj->cap = sj->cap ? sj->cap * 2 : 256;
		sj->ids = xreallocarray(sj->ids, sj->cap, sizeof(*sj->ids));
	}
	memcpy(sj->ids[sj->n++], name, strlen(name) + 1);
}

static void
qmgr_scan_incoming_one(int dfd, const char *name, void *arg)
{
	struct stat st;
	time_t now = *(const time_t *)arg;

	/* Every write updates the mtime, so an old one means a dead writer;
	 * a commit that still comes fails its rename and answers 451. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st.st_mtime > now - QMGR_INCOMING_STALE)
		return;
	if (unlinkat(dfd, name, 0) == 0)
		log_warn("%s/%s: removed a stale file (no write for %d s)",
		    QUEUE_DIR_INCOMING, log_sanitize_str(name),
		    QMGR_INCOMING_STALE);
}

/* maildrop/: final names are picked up; sendmail's temporary files and
 * anything else there (any local user may create files) go when nobody
 * has written to them for an hour. */
static void
qmgr_scan_maildrop_one(int dfd, const char *name, void *arg)
{
	struct qmgr_scan_job *sj = arg;
	struct stat st;

	if (maildrop_name_valid(name)) {
		if (sj->ndrop == sj->capdrop) {
			sj->capdrop = sj->capdrop ? sj->capdrop * 2 : 64;
			sj->drops = xreallocarray(
			    sj->drops, sj->capdrop, sizeof(*sj->drops));
		}
		memcpy(sj->drops[sj->ndrop++], name, MAILDROP_NAME_LEN + 1);
		return;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st.st_mtime > sj->now - QMGR_INCOMING_STALE)
		return;
	if (S_ISDIR(st.st_mode))
		return; /* unlinkat() cannot; a human may look */
	if (unlinkat(dfd, name, 0) == 0 && !maildrop_tmp_name_valid(name))
		log_warn("%s/%s: removed a stray file (uid=%lu)",
		    QUEUE_DIR_MAILDROP, log_sanitize_str(name),
		    (unsigned long)st.st_uid);
}

struct qmgr_scan_defer {
	const struct qmgr *q;
	bool startup;
};

static void
qmgr_scan_defer_one(int dfd, const char *name, void *arg)
{
	const struct qmgr_scan_defer *sd = arg;
	char *p;
	bool live;

	if (!queue_id_valid(name)) {
		/* fs_atomic_write() temporaries: only a crashed run leaves
		 * them, but the running one may be writing one now. */
		if (sd->startup && strstr(name, ".tmp.") != NULL)
			(void)unlinkat(dfd, name, 0);
		return;
	}
	/* active/ before hold/: a message moves active -> hold atomically,
	 * so in this order one of the two checks always sees it. */
	p = xasprintf("%s/%s/%s", sd->q->queue_dir, QUEUE_DIR_ACTIVE, name);
	live = fs_exists(p);
	free(p);
	if (!live) {
		p = xasprintf(
		    "%s/%s/%s", sd->q->queue_dir, QUEUE_DIR_HOLD, name);
		live = fs_exists(p);
		free(p);
	}
	if (!live)
		(void)unlinkat(dfd, name, 0);
}

static void
qmgr_scan_run(void *arg)
{
	struct qmgr_scan_job *sj = arg;
	struct qmgr_scan_defer sd = { sj->q, sj->startup };
	time_t now = time(NULL);

	sj->now = now;
	/* maildrop/ first: what it holds is older than what it will list
	 * in active/ next */
	qmgr_scan_dir(sj->q, QUEUE_DIR_MAILDROP, qmgr_scan_maildrop_one, sj);
	qmgr_scan_dir(sj->q, QUEUE_DIR_ACTIVE, qmgr_scan_active_one, sj);
	qmgr_scan_dir(sj->q, QUEUE_DIR_INCOMING, qmgr_scan_incoming_one, &now);
	qmgr_scan_dir(sj->q, QUEUE_DIR_DEFER, qmgr_scan_defer_one, &sd);
}

static int
qmgr_scan_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
qmgr_scan_done(void *arg)
{
	struct qmgr_scan_job *sj = arg;
	struct qmgr *q = sj->q;
	struct qmgr_msg *m;
	size_t i, started = 0;

	q->njobs--;
	q->scan_running = false;
	/* Oldest first: IDs sort by arrival time. */
	if (sj->n > 1)
		qsort(sj->ids, sj->n, sizeof(*sj->ids), qmgr_scan_cmp);
	for (i = 0; i < sj->n && !q->stopping; i++) {
		if (qmgr_msg_find(q, sj->ids[i]) != NULL)
			continue; /* running or waiting for its retry */
		m = qmgr_msg_add(q, sj->ids[i]);
		qmgr_msg_start(m, true);
		started++;
	}
	if (started > 0)
		log_debug(
		    "queue scan: %zu of %zu messages taken", started, sj->n);
	for (i = 0; i < sj->ndrop && !q->stopping; i++)
		pickup_file(q, sj->drops[i]);
	free(sj->drops);
	free(sj->ids);
	free(sj);
	if (q->stopping) {
		if (q->njobs == 0)
			(void)event_base_loopexit(q->base, NULL);
		return;
	}
	if (q->scan_again) {
		q->scan_again = false;
		qmgr_scan_start(q, false);
		return;
	}
	qmgr_scan_schedule(q, (double)q->conf->queue_run_delay);
}

void
qmgr_scan_start(struct qmgr *q, bool startup)
{
	struct qmgr_scan_job *sj;

	if (q->stopping)
		return;
	if (q->scan_running) {
		q->scan_again = true;
		return;
	}
	if (q->next_scan != 0) {
		(void)event_del(q->ev_scan);
		q->next_scan = 0;
	}
	sj = xcalloc(1, sizeof(*sj));
	sj->q = q;
	sj->startup = startup;
	q->scan_running = true;
	q->njobs++;
	worker_submit(q->wp, qmgr_scan_run, qmgr_scan_done, sj);
}

void
qmgr_scan_schedule(struct qmgr *q, double secs)
{
	double when = qmgr_now() + secs;
	struct timeval tv;

	if (q->stopping)
		return;
	if (q->scan_running) {
		/* It may have listed active/ before the messages this
		 * request is about: scan once more when it ends. */
		q->scan_again = true;
		return;
	}
	if (q->next_scan != 0 && q->next_scan <= when)
		return; /* an earlier one is due anyway */
	qmgr_timeval(secs, &tv);
	if (event_add(q->ev_scan, &tv) == -1)
		log_panic("queue: cannot schedule the queue scan");
	q->next_scan = when;
}
