/*
 * The mailboxes of IDLE sessions, watched on one inotify descriptor per
 * imapd process. The kernel gives a user only
 * fs.inotify.max_user_instances descriptors (often 128), and every
 * session runs as mail_owner: one descriptor each would stop pushes after
 * a hundred idlers. Watches are cheap (fs.inotify.max_user_watches), and
 * sessions on the same folder share them: inotify gives the same watch
 * descriptor for the same directory, so a watch is removed only when the
 * last session using it stops. The registry is a flat array scanned per
 * event: a delivery touches it once, and thousands of entries scan in
 * microseconds.
 */
#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "imap/imap_session_private.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

static void
imap_watch_notify_wd(struct imapd *srv, int wd)
{
	size_t k;

	/* imap_idle_notify() only submits a job: the array stays put */
	for (k = 0; k < srv->nwatches; k++)
		if (wd == -1 || srv->watches[k].wd == wd)
			imap_idle_notify(srv->watches[k].s);
}

static void
imap_watch_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct imapd *srv = arg;
	/* aligned as struct inotify_event needs */
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	size_t off;

	(void)what;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (off = 0; off + sizeof(*ev) <= (size_t)n;
		     off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			/* lost events: everyone syncs */
			imap_watch_notify_wd(
			    srv, (ev->mask & IN_Q_OVERFLOW) ? -1 : ev->wd);
		}
	}
	if (n == -1 && errno != EAGAIN)
		log_warn("imap: inotify read: %m");
}

/* The process's descriptor, made the first time a session idles. */
static int
imap_watch_open(struct imapd *srv, struct buf *err)
{
	int fd;

	if (srv->inotify_event != NULL)
		return 0;
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		(void)!buf_printf(err, "inotify: %s%s", strerror(errno),
		    errno == EMFILE ? " (raise fs.inotify.max_user_instances)"
		                    : "");
		return -1;
	}
	srv->inotify_event = event_new(
	    srv->base, fd, EV_READ | EV_PERSIST, imap_watch_on_read, srv);
	if (srv->inotify_event == NULL ||
	    event_add(srv->inotify_event, NULL) == -1) {
		if (srv->inotify_event != NULL)
			event_free(srv->inotify_event);
		srv->inotify_event = NULL;
		(void)close(fd);
		(void)!buf_append_str(err, "cannot add the inotify event");
		errno = ENOMEM;
		return -1;
	}
	srv->inotify_fd = fd;
	return 0;
}

static void
imap_watch_push(struct imapd *srv, int wd, struct imap_session *s)
{
	if (srv->nwatches == srv->watches_cap) {
		srv->watches_cap = srv->watches_cap ? srv->watches_cap * 2 : 16;
		srv->watches = xreallocarray(
		    srv->watches, srv->watches_cap, sizeof(*srv->watches));
	}
	srv->watches[srv->nwatches].wd = wd;
	srv->watches[srv->nwatches].s = s;
	srv->nwatches++;
}

int
imap_watch_add(struct imap_session *s, struct buf *err)
{
	struct imapd *srv = s->srv;
	int wd[2];

	MW_ASSERT(!s->watching && s->mb != NULL);
	if (imap_watch_open(srv, err) == -1)
		return -1;
	if (store_watch_add(s->mb, srv->inotify_fd, wd, err) == -1) {
		int saved = errno;

		/* a half-made pair: the first may be shared, keep it
		 * unless nobody else uses it */
		s->watch_wd[0] = wd[0];
		s->watch_wd[1] = -1;
		s->watching = true;
		imap_watch_remove(s);
		errno = saved;
		return -1;
	}
	s->watch_wd[0] = wd[0];
	s->watch_wd[1] = wd[1];
	imap_watch_push(srv, wd[0], s);
	imap_watch_push(srv, wd[1], s);
	s->watching = true;
	return 0;
}

static bool
imap_watch_used(const struct imapd *srv, int wd)
{
	size_t k;

	for (k = 0; k < srv->nwatches; k++)
		if (srv->watches[k].wd == wd)
			return true;
	return false;
}

void
imap_watch_remove(struct imap_session *s)
{
	struct imapd *srv = s->srv;
	size_t k, m = 0;
	int i;

	if (!s->watching)
		return;
	for (k = 0; k < srv->nwatches; k++)
		if (srv->watches[k].s != s)
			srv->watches[m++] = srv->watches[k];
	srv->nwatches = m;
	for (i = 0; i < 2; i++) {
		/* EINVAL: the directory went away and took the watch */
		if (s->watch_wd[i] != -1 &&
		    !imap_watch_used(srv, s->watch_wd[i]))
			(void)inotify_rm_watch(srv->inotify_fd, s->watch_wd[i]);
		s->watch_wd[i] = -1;
	}
	s->watching = false;
}
