/*
 * Mailbox change notification for IDLE (RFC 2177), shared by all the
 * sessions of one imapd process: one inotify descriptor on the event loop
 * holds the watches of every idling session's folder (the kernel limits
 * inotify descriptors per user to fs.inotify.max_user_instances, 128 by
 * default; watches to many thousands). A change calls each watcher of
 * that folder back on the loop; what changed comes from a sync.
 */
#ifndef IMAP_IMAP_WATCH_H
#define IMAP_IMAP_WATCH_H

struct buf;
struct event_base;
struct imap_watch;
struct imap_watch_hub;
struct store_mailbox;

typedef void imap_watch_fn(void *arg);

/* The hub of a process; NULL with errno when inotify is unavailable. */
struct imap_watch_hub *imap_watch_hub_new(struct event_base *base);
/* The watches must all be gone. NULL is fine. */
void imap_watch_hub_free(struct imap_watch_hub **h);

/*
 * Calls fn(arg) on the loop whenever mb's folder changes (delivery, flag
 * renames, expunges by anyone), until imap_watch_remove(). Reads only
 * the folder's path of mb (no store access): may be called on the loop
 * while no job of the session runs. NULL with a reason in err.
 */
struct imap_watch *imap_watch_add(struct imap_watch_hub *h,
    struct store_mailbox *mb, imap_watch_fn *fn, void *arg, struct buf *err);
/* Stops it; sets *w to NULL; NULL is fine. */
void imap_watch_remove(struct imap_watch **w);

#endif
