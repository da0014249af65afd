/*
 * Change notification for IMAP IDLE (RFC 2177): an inotify descriptor on
 * a folder's new/ and cur/. Deliveries link into new/, sessions and mutt
 * rename (flags) and unlink (expunges) in cur/, so these two directories
 * see every change a sync would find. The caller owns the descriptor and
 * its event loop; what changed comes from store_mailbox_sync().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "store/store_private.h"

#define WATCH_MASK                                                             \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |     \
	    IN_DELETE_SELF | IN_MOVE_SELF)

int
store_watch_add(
    int ifd, struct store_mailbox *mb, int wds_out[2], struct buf *err)
{
	static const char *const subs[] = { "new", "cur" };
	size_t i;
	char *p;

	for (i = 0; i < MW_NELEM(subs); i++) {
		p = xasprintf("%s/%s", mb->dir, subs[i]);
		wds_out[i] = inotify_add_watch(
		    ifd, p, WATCH_MASK | IN_ONLYDIR | IN_DONT_FOLLOW);
		if (wds_out[i] == -1) {
			int saved = errno;

			store_seterr(err, "inotify %s: %s", p, strerror(saved));
			free(p);
			/* the first one may be shared: the caller removes it
			 * as it removes its own watches */
			errno = saved;
			return -1;
		}
		free(p);
	}
	return 0;
}

int
store_watch_new(struct store_mailbox *mb, int *fd_out, struct buf *err)
{
	static const char *const subs[] = { "new", "cur" };
	int fd, saved;
	size_t i;
	char *p;

	*fd_out = -1;
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		store_seterr(err, "inotify: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < MW_NELEM(subs); i++) {
		p = xasprintf("%s/%s", mb->dir, subs[i]);
		if (inotify_add_watch(fd, p,
		        WATCH_MASK | IN_ONLYDIR | IN_DONT_FOLLOW) == -1) {
			saved = errno;
			store_seterr(err, "inotify %s: %s", p, strerror(saved));
			free(p);
			(void)close(fd);
			errno = saved;
			return -1;
		}
		free(p);
	}
	*fd_out = fd;
	return 0;
}

int
store_watch_read(int fd)
{
	/* aligned as struct inotify_event needs */
	char ev[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	int any = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, ev, sizeof(ev));
		if (n > 0) {
			any = 1;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return any;
		if (n == 0)
			return any;
		return -1;
	}
}
