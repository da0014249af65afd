/*
 * IDLE (RFC 2177, RFC 9051 6.3.13): "+ idling", then the reader waits in
 * line mode for DONE while changes to the selected mailbox reach the
 * client as they happen. The mailbox is watched with inotify
 * (store_watch_new): its descriptor and one event are all an idle
 * session adds, with no timer and no polling; when it fires, a job syncs
 * the view (imap_job_sync: EXPUNGE, EXISTS, FETCH FLAGS). Changes that
 * come while that job runs are coalesced into one more sync after it.
 * The autologout timer stays imap_idle_timeout (RFC 9051 5.4; RFC 2177
 * asks clients to restart IDLE within 29 minutes).
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap/imap_cmd.h"
#include "imap/imap_job.h"
#include "imap/imap_session_private.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

/* The watch made by the job that starts IDLE, until the loop takes it. */
struct imap_idle_start {
	int fd;
};

static void imap_idle_on_watch(evutil_socket_t fd, short what, void *arg);

/* For run(): the sync of an idle session; changes go out untagged. */
static void
imap_idle_sync(struct imap_job *j)
{
	struct imap_session *s = j->s;

	if (s->state != IMAP_STATE_SELECTED)
		return;
	if (imap_job_sync(j) == -1)
		log_warn("imap(%s): IDLE: sync failed: %s",
		    log_sanitize_str(s->username), buf_cstr(&j->err));
}

static void
imap_idle_sync_run(struct imap_job *j)
{
	imap_idle_sync(j);
	store_shrink(j->s->store);
}

static void
imap_idle_sync_done(struct imap_job *j)
{
	struct imap_session *s = j->s;

	/* changes came while the job ran: once more, from the loop (this
	 * job is still the session's until done returns) */
	if (s->watch_pending && s->watch_event != NULL)
		event_active(s->watch_event, EV_READ, 1);
}

static void
imap_idle_on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;
	struct imap_job *j;

	(void)what;
	if (store_watch_read(fd) == -1) {
		log_warn("imap(%s): IDLE: inotify: %m",
		    log_sanitize_str(s->username));
		imap_idle_stop_watch(s);
		return;
	}
	if (s->busy) {
		s->watch_pending = true;
		return;
	}
	s->watch_pending = false;
	j = imap_job_new(s, imap_idle_sync_run, NULL);
	j->done = imap_idle_sync_done;
	imap_job_submit(j);
}

static void
imap_idle_start_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct imap_idle_start *x = j->ctx;

	if (s->state == IMAP_STATE_SELECTED) {
		/* the watch first: nothing slips in between it and the
		 * sync (our own sync's renames fire it once, harmlessly) */
		if (store_watch_new(s->mb, &x->fd, &j->err) == -1) {
			/* Dovecot's advice; IDLE goes on without pushes */
			log_warn("imap(%s): IDLE: %s%s",
			    log_sanitize_str(s->username), buf_cstr(&j->err),
			    errno == EMFILE
			        ? " (raise fs.inotify.max_user_instances)"
			        : "");
			buf_reset(&j->err);
		}
		imap_idle_sync(j);
	}
	/* an idle session keeps little of the index in memory */
	store_shrink(s->store);
	/* RFC 2177 3 */
	(void)!buf_append_str(&j->out, "+ idling\r\n");
}

static void
imap_idle_start_done(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct imap_idle_start *x = j->ctx;

	s->idling = true;
	imap_reader_want_line(s->reader);
	if (x->fd == -1)
		return;
	s->watch_event = event_new(
	    s->srv->base, x->fd, EV_READ | EV_PERSIST, imap_idle_on_watch, s);
	if (s->watch_event == NULL || event_add(s->watch_event, NULL) == -1) {
		log_warn("imap(%s): IDLE: cannot watch the mailbox",
		    log_sanitize_str(s->username));
		if (s->watch_event != NULL)
			event_free(s->watch_event);
		s->watch_event = NULL;
		return; /* x->fd is closed with the job */
	}
	s->watch_fd = x->fd;
	x->fd = -1;
}

static void
imap_idle_start_free(struct imap_job *j)
{
	struct imap_idle_start *x = j->ctx;

	if (x->fd != -1)
		(void)close(x->fd);
	free(x);
}

void
imap_cmd_idle(struct imap_session *s, const struct imap_command *c)
{
	struct imap_idle_start *x = xcalloc(1, sizeof(*x));
	struct imap_job *j;

	/* the reader reuses the command's memory for the DONE line */
	free(s->held_tag);
	s->held_tag = xasprintf("%.*s", (int)c->tag.n, c->tag.p);
	x->fd = -1;
	j = imap_job_new(s, imap_idle_start_run, x);
	j->done = imap_idle_start_done;
	j->free = imap_idle_start_free;
	imap_job_submit(j);
}

static void
imap_idle_done_run(struct imap_job *j)
{
	/* what changed since the last push, before the OK */
	imap_idle_sync(j);
	store_shrink(j->s->store);
	imap_job_tagged(j, "OK", "Idle completed.");
}

static void
imap_idle_end(struct imap_job *j)
{
	struct imap_session *s = j->s;

	free(s->held_tag);
	s->held_tag = NULL;
}

void
imap_idle_line(struct imap_session *s, struct imap_slice line)
{
	struct imap_job *j;

	imap_idle_stop_watch(s);
	s->idling = false;
	/* RFC 2177 3: DONE ends IDLE; anything else is an error */
	if (!imap_idle_done(line)) {
		imap_tagged(s, "BAD", "Expected DONE.");
		free(s->held_tag);
		s->held_tag = NULL;
		imap_session_error(s);
		return;
	}
	if (s->state != IMAP_STATE_SELECTED) {
		imap_tagged(s, "OK", "Idle completed.");
		free(s->held_tag);
		s->held_tag = NULL;
		return;
	}
	j = imap_job_new(s, imap_idle_done_run, NULL);
	j->done = imap_idle_end;
	imap_job_submit(j);
}

void
imap_idle_stop_watch(struct imap_session *s)
{
	if (s->watch_event != NULL) {
		event_free(s->watch_event);
		s->watch_event = NULL;
	}
	if (s->watch_fd != -1) {
		(void)close(s->watch_fd);
		s->watch_fd = -1;
	}
	s->watch_pending = false;
}
