/*
 * IDLE (RFC 2177, RFC 9051 6.3.13): "+ idling", then the reader waits in
 * line mode for DONE while changes to the selected mailbox reach the
 * client as they happen. The mailbox is watched on the process's one
 * inotify descriptor (imap_watch.c): an idle session adds two registry
 * entries and one deferred event, with no descriptor, timer or polling of
 * its own. A change submits a job that syncs the view (imap_job_sync:
 * EXPUNGE, EXISTS, FETCH FLAGS); changes that come while a job runs are
 * coalesced into one more sync after it. The autologout timer stays
 * imap_idle_timeout (RFC 9051 5.4; RFC 2177 asks clients to restart IDLE
 * within 29 minutes).
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

static void imap_idle_on_again(evutil_socket_t fd, short what, void *arg);

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
		event_active(s->watch_event, EV_TIMEOUT, 1);
}

void
imap_idle_notify(struct imap_session *s)
{
	struct imap_job *j;

	if (s->bev == NULL || !s->idling)
		return;
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
imap_idle_on_again(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	imap_idle_notify(arg);
}

static void
imap_idle_start_run(struct imap_job *j)
{
	struct imap_session *s = j->s;

	/* the watch is already there: nothing slips in between it and
	 * this sync (whose own renames fire it once, harmlessly) */
	imap_idle_sync(j);
	/* an idle session keeps little of the index in memory */
	store_shrink(s->store);
	/* RFC 2177 3 */
	(void)!buf_append_str(&j->out, "+ idling\r\n");
}

static void
imap_idle_start_done(struct imap_job *j)
{
	imap_idle_sync_done(j);
}

void
imap_cmd_idle(struct imap_session *s, const struct imap_command *c)
{
	struct imap_job *j;
	struct buf err;

	/* the reader reuses the command's memory for the DONE line */
	free(s->held_tag);
	s->held_tag = xasprintf("%.*s", (int)c->tag.n, c->tag.p);
	s->idling = true;
	s->watch_pending = false;
	imap_reader_want_line(s->reader);
	if (s->state == IMAP_STATE_SELECTED) {
		buf_init(&err, 1024);
		/* no job runs: the mailbox is ours on the loop */
		if (imap_watch_add(s, &err) == -1)
			/* IDLE goes on; changes show at DONE */
			log_warn("imap(%s): IDLE: %s",
			    log_sanitize_str(s->username), buf_cstr(&err));
		buf_free(&err);
		if (s->watching) {
			s->watch_event = event_new(
			    s->srv->base, -1, 0, imap_idle_on_again, s);
			if (s->watch_event == NULL)
				log_fatal("imap: cannot create an event: out "
				          "of memory");
		}
	}
	j = imap_job_new(s, imap_idle_start_run, NULL);
	j->done = imap_idle_start_done;
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
	imap_watch_remove(s);
	s->watch_pending = false;
}
