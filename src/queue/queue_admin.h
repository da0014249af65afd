/*
 * The administrator's operations on the queue files: listing (mailq),
 * showing one message (as postcat -q), deleting, holding, releasing and
 * requeueing (as postsuper). They act on the files under queue_directory
 * directly, so they work whether or not the queue manager runs, and they
 * must run as mail_owner (or root, which the CLI turns into mail_owner).
 * Blocking file I/O: not for an event loop.
 *
 * A message is in one of three places (docs/queue.md): maildrop/ (posted
 * with sendmail, not yet picked up; its name is not a queue ID), active/
 * (queued; with a defer/ state file once an attempt deferred it) or hold/.
 */
#ifndef QUEUE_QUEUE_ADMIN_H
#define QUEUE_QUEUE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

/* A recipient not yet done. */
struct queue_admin_rcpt {
	const char *address;
	const char *why; /* the reason of its last deferral, or NULL */
};

/* One message as listed; everything is valid during the callback only. */
struct queue_admin_msg {
	const char *queue_name; /* "maildrop", "active" or "hold" */
	const char *id;         /* queue ID, or the maildrop file name */
	const char *error;      /* not NULL: the file is unreadable (why) */
	uint64_t arrival;       /* seconds since the epoch */
	uint64_t size;          /* message bytes */
	uint64_t file_size;     /* bytes on disk */
	const char *sender;     /* "" for <> */
	bool deferred;          /* a delivery attempt deferred it */
	unsigned long uid;      /* maildrop: the owner of the file */
	const struct queue_admin_rcpt *rcpts;
	size_t nrcpt;
};

typedef int queue_admin_list_fn(void *arg, const struct queue_admin_msg *m);

/*
 * Calls fn for each message of maildrop/, active/ and hold/, in that
 * order, each directory in name order (queue IDs sort by arrival). A
 * message that disappears meanwhile is skipped. Reads only the envelope
 * at the end of each queue file and the small state file; memory does not
 * grow with the number of messages except for their names. Returns 0, or
 * -1 with errno and a reason in err (a directory cannot be read), or what
 * fn returned when that was not 0.
 */
int queue_admin_list(
    const char *queue_dir, queue_admin_list_fn *fn, void *arg, struct buf *err);

/* The directory ("maildrop", "active", "hold") holding id, or NULL with
 * errno (ENOENT, or EINVAL when id is neither a queue ID nor a maildrop
 * name). */
const char *queue_admin_find(const char *queue_dir, const char *id);

/*
 * Writes the message id as stored, then its envelope and delivery state,
 * to fd (postcat -q). 0, or -1 with a reason in err.
 */
int queue_admin_show(const char *queue_dir, const char *id, int fd,
    struct buf *err) MW_MUST_CHECK;

/* Each: 0, or -1 with errno and a one-line reason in err. */
/* Removes id from active/, hold/ or maildrop/, and its state. */
int queue_admin_delete(
    const char *queue_dir, const char *id, struct buf *err) MW_MUST_CHECK;
/* active/<id> to hold/<id> (the state stays): a running queue manager
 * finds it gone at its next attempt. */
int queue_admin_hold(
    const char *queue_dir, const char *id, struct buf *err) MW_MUST_CHECK;
/* hold/<id> back to active/<id>; the caller pokes the queue manager. */
int queue_admin_release(
    const char *queue_dir, const char *id, struct buf *err) MW_MUST_CHECK;
/*
 * Drops the retry schedule of id: its state keeps which recipients are
 * done and which remote destinations were sent (so nothing is sent
 * twice), and loses the attempt count, the next retry time and the
 * reasons. Only for the one writer of state files: the queue manager, or
 * the CLI while it holds qmgr.lock (queue_admin_lock).
 */
int queue_admin_requeue_state(
    const char *queue_dir, const char *id, struct buf *err) MW_MUST_CHECK;

/* Takes <queue_dir>/qmgr.lock when no queue manager holds it: the fd, or
 * -1 (errno EWOULDBLOCK: a manager runs). */
int queue_admin_lock(const char *queue_dir);

/* The names in <queue_dir>/sub that are queue IDs (or maildrop names),
 * sorted; *ids_out is one allocation (free()). 0 or -1 with errno. */
int queue_admin_ids(const char *queue_dir, const char *sub,
    char (**ids_out)[40], size_t *n_out) MW_MUST_CHECK;

#endif
