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
    struct store_mailbox *mb, int fd, int wd_out[2], struct buf *err)
{
	static const char *const subs[] = { "new", "cur" };
	int saved, wd;
	size_t i;
	char *p;

	wd_out[0] = wd_out[1] = -1;
	for (i = 0; i < MW_NELEM(subs); i++) {
		p = xasprintf("%s/%s", mb->dir, subs[i]);
		wd = inotify_add_watch(
		    fd, p, WATCH_MASK | IN_ONLYDIR | IN_DONT_FOLLOW);
		if (wd == -1) {
			saved = errno;
			store_seterr(err, "inotify %s: %s", p, strerror(saved));
			free(p);
			errno = saved;
			return -1;
		}
		wd_out[i] = wd;
		free(p);
	}
	return 0;
}

int
store_watch_new(struct store_mailbox *mb, int *fd_out, struct buf *err)
{
	int fd, saved, wd[2];

	*fd_out = -1;
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		saved = errno;
		store_seterr(err, "inotify: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (store_watch_add(mb, fd, wd, err) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
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
