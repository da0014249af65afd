/*
 * Maildir++ mailboxes (https://cr.yp.to/proto/maildir.html, Dovecot's
 * Maildir++ size field): creating cur/new/tmp, naming delivered files, and
 * exactly-once delivery. Shared by local delivery and, later, imapd and
 * pop3d. Everything here blocks on the file system: call it from a worker
 * thread, never from an event loop.
 *
 * Exactly-once: the caller names each delivery deterministically (queue ID,
 * recipient and destination index), so a delivery repeated after a crash
 * finds the copy it already made (in new/, or in cur/ once a client has
 * seen it) instead of making a second one.
 */
#ifndef STORE_MAILDIR_H
#define STORE_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

/* maildir_name() dest argument when a recipient has one destination. */
#define MAILDIR_NO_DEST SIZE_MAX

/*
 * Creates path (a Maildir/ directory) and its cur/, new/ and tmp/ with mode
 * 0700, and missing parents, fsyncing the parent of every directory it
 * creates. path must be absolute without "." or ".." components, and
 * Maildir/ and its subdirectories must not be symbolic links. Cheap when
 * everything exists. 0 or -1 with errno (EINVAL for an unsafe path).
 */
int maildir_ensure(const char *path) MW_MUST_CHECK;

/*
 * Appends the unique part of a delivered file's name to out:
 * "<sec>.M<usec>Q<queue_id>R<rcpt>[.<dest>].<host>", where host has "/"
 * as "\057", ":" as "\072" and "," as "\054" (the Maildir spec's escapes).
 * The same arguments always give the same name. 0 or -1 (ENOBUFS, or
 * EINVAL when the result is not a safe file name).
 */
int maildir_name(struct buf *out, uint64_t sec, uint64_t usec,
    const char *queue_id, size_t rcpt, size_t dest,
    const char *hostname) MW_MUST_CHECK;

/* One delivery. All pointers are borrowed for the call. */
struct maildir_msg {
	const char *maildir; /* the Maildir/ directory (maildir_ensure'd) */
	const char *name;    /* from maildir_name(): ",S=..,W=.." is added */
	const char
	    *prefix; /* bytes written first: header lines (may be NULL) */
	size_t prefix_len;
	int src_fd;       /* the rest: src_len bytes at src_off of src_fd, */
	uint64_t src_off; /* read with explicit offsets (the file position */
	uint64_t src_len; /* of src_fd is not used) */
	bool check_cur;   /* a retry or recovery: an earlier copy may have
	                     been moved to cur/ */
};

/*
 * Delivers m: writes tmp/<name>,S=<size>, fsyncs it, links it into new/
 * as <name>,S=<size>,W=<vsize> (vsize: the size with every bare LF
 * counted as CRLF, what POP3 and IMAP report; EEXIST means an earlier
 * attempt made it), removes the tmp/ file and fsyncs new/. Before
 * writing, looks for an earlier copy: new/<name>,S=<size> (written before
 * W= was added) always; with check_cur any entry of new/ or cur/ that is
 * <name> or starts with "<name>," or "<name>:" (a scan: slower).
 * Returns 0 once the message is durably in the Maildir; *existed_out (may
 * be NULL) tells whether it was an earlier copy. -1 with errno on failure
 * (EDQUOT, ENOSPC, EACCES, ...: retry later); nothing is left in new/ then,
 * except when the final fsync of new/ failed: the retry finds that copy
 * and fsyncs again.
 */
int maildir_deliver(
    const struct maildir_msg *m, bool *existed_out) MW_MUST_CHECK;

#endif
