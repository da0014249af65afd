/*
 * The MIME trees of the next messages of a FETCH, parsed ahead on several
 * workers: a first FETCH ENVELOPE or BODYSTRUCTURE of a large folder,
 * whose trees the index does not have yet, is bound by opening, reading,
 * parsing and encoding the files. The FETCH's job takes the cached trees
 * and keeps the new ones in order (the store and its index are its
 * alone); the files are shared out between it and helper jobs on the
 * pool, which touch only the files, their trees and blobs. The job never
 * waits for a helper that has not started: it takes what nobody took
 * itself, so a busy pool costs only the parallelism.
 */
#ifndef IMAP_IMAP_FETCH_PRE_H
#define IMAP_IMAP_FETCH_PRE_H

#include <stdbool.h>
#include <stddef.h>

struct imap_session;
struct mime_tree;

/* One message of the window. */
struct imap_fetch_pre_msg {
	size_t i;               /* view index */
	struct mime_tree *tree; /* NULL: store_msg_tree() decides (gone,
	                           renamed, unreadable) */
	int fd;                 /* the file when kept open, else -1 */
};

struct imap_fetch_pre {
	struct imap_fetch_pre_msg *m;
	size_t first, n; /* FETCH positions first..first+n-1 */
};

/*
 * Fills pre with the messages idx[pos..n) up to a window (at most 256
 * messages and 4 MiB of files): their cached trees, or their files
 * parsed on up to the pool's threads (and left open when keep_fd: the
 * FETCH reads them too). What the last window held and nobody took is
 * freed.
 */
void imap_fetch_pre_fill(struct imap_session *s, struct imap_fetch_pre *pre,
    const size_t *idx, size_t n, size_t pos, bool keep_fd);
/* The entry of FETCH position pos, or NULL when it is not in the window;
 * the caller takes its tree and fd (setting them to NULL and -1). */
struct imap_fetch_pre_msg *imap_fetch_pre_get(
    struct imap_fetch_pre *pre, size_t pos);
/* Frees what is left. */
void imap_fetch_pre_free(struct imap_fetch_pre *pre);

#endif
