/*
 * One inotify descriptor per imapd process for every IDLE (see
 * imap_watch.h).
 */
#include "imap/imap_watch.h"

#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

struct imap_watch {
	struct imap_watch_hub *hub;
	int wd[2]; /* new/, cur/ */
	imap_watch_fn *fn;
	void *arg;
	bool fired; /* called back in this round of events */
};

struct imap_watch_hub {
	int fd;
	struct event *ev;
	struct imap_watch **w; /* the watchers, unordered */
	size_t n, cap;
};

/* Whether another watcher still uses wd. */
static bool
imap_watch_wd_used(const struct imap_watch_hub *h, int wd)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->w[i]->wd[0] == wd || h->w[i]->wd[1] == wd)
			return true;
	return false;
}

static void
imap_watch_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct imap_watch_hub *h = arg;
	char ev[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	ssize_t n;
	size_t i, off;

	(void)what;
	for (i = 0; i < h->n; i++)
		h->w[i]->fired = false;
	for (;;) {
		n = read(fd, ev, sizeof(ev));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (off = 0; off + sizeof(*ie) <= (size_t)n;
		    off += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)(ev + off);
			for (i = 0; i < h->n; i++)
				if (h->w[i]->wd[0] == ie->wd ||
				    h->w[i]->wd[1] == ie->wd)
					h->w[i]->fired = true;
		}
	}
	/* a callback may remove watchers: walk from the end, re-checking */
	for (i = h->n; i-- > 0;) {
		struct imap_watch *w;

		if (i >= h->n)
			continue;
		w = h->w[i];
		if (w->fired) {
			w->fired = false;
			w->fn(w->arg);
		}
	}
}

struct imap_watch_hub *
imap_watch_hub_new(struct event_base *base)
{
	struct imap_watch_hub *h;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd == -1)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->fd = fd;
	h->ev = event_new(base, fd, EV_READ | EV_PERSIST, imap_watch_on_read, h);
	if (h->ev == NULL || event_add(h->ev, NULL) == -1)
		log_fatal("imap: cannot watch the inotify descriptor");
	return h;
}

void
imap_watch_hub_free(struct imap_watch_hub **hp)
{
	struct imap_watch_hub *h = *hp;

	if (h == NULL)
		return;
	MW_ASSERT(h->n == 0);
	event_free(h->ev);
	(void)close(h->fd);
	free(h->w);
	free(h);
	*hp = NULL;
}

struct imap_watch *
imap_watch_add(struct imap_watch_hub *h, struct store_mailbox *mb,
    imap_watch_fn *fn, void *arg, struct buf *err)
{
	struct imap_watch *w = xcalloc(1, sizeof(*w));

	w->hub = h;
	w->fn = fn;
	w->arg = arg;
	w->wd[0] = w->wd[1] = -1;
	if (store_watch_add(h->fd, mb, w->wd, err) == -1) {
		if (w->wd[0] != -1 && !imap_watch_wd_used(h, w->wd[0]))
			(void)inotify_rm_watch(h->fd, w->wd[0]);
		free(w);
		return NULL;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->w = xreallocarray(h->w, h->cap, sizeof(*h->w));
	}
	h->w[h->n++] = w;
	return w;
}

void
imap_watch_remove(struct imap_watch **wp)
{
	struct imap_watch *w = *wp;
	struct imap_watch_hub *h;
	size_t i, k;

	if (w == NULL)
		return;
	h = w->hub;
	for (i = 0; i < h->n; i++)
		if (h->w[i] == w) {
			h->w[i] = h->w[--h->n];
			break;
		}
	/* inotify shares a descriptor among the watches of a directory:
	 * the last one out removes it */
	for (k = 0; k < 2; k++)
		if (w->wd[k] != -1 && !imap_watch_wd_used(h, w->wd[k]))
			(void)inotify_rm_watch(h->fd, w->wd[k]);
	free(w);
	*wp = NULL;
}
