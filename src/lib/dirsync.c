/*
 * Group commit of directory fsyncs (see dirsync.h). Generation counting:
 * a waiter needs a sync that *started* after it arrived. If one is running,
 * it waits for that to end and for the next one, which the first waiter to
 * find the directory idle starts and whose result all share.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/dirsync.h"
#include "lib/xalloc.h"

struct dirsync {
	int fd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running;
	uint64_t started;  /* number of syncs started */
	uint64_t finished; /* number of syncs finished */
	int last_errno;    /* of the last finished sync, 0 if it worked */
};

struct dirsync *
dirsync_new(const char *path)
{
	struct dirsync *ds;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		return NULL;
	ds = xcalloc(1, sizeof(*ds));
	ds->fd = fd;
	pthread_mutex_init(&ds->mu, NULL);
	pthread_cond_init(&ds->cv, NULL);
	return ds;
}

void
dirsync_free(struct dirsync **dsp)
{
	struct dirsync *ds = *dsp;

	if (ds == NULL)
		return;
	(void)close(ds->fd);
	pthread_mutex_destroy(&ds->mu);
	pthread_cond_destroy(&ds->cv);
	free(ds);
	*dsp = NULL;
}

int
dirsync_wait(struct dirsync *ds)
{
	uint64_t need;
	int err;

	pthread_mutex_lock(&ds->mu);
	/* The sync we need is the first one to start after now. */
	need = ds->started + 1;
	for (;;) {
		if (ds->finished >= need) {
			err = ds->last_errno;
			break;
		}
		if (!ds->running) {
			/* Start sync number `started + 1` (>= need) ourselves. */
			ds->running = true;
			ds->started++;
			pthread_mutex_unlock(&ds->mu);
			err = fsync(ds->fd) == -1 ? errno : 0;
			pthread_mutex_lock(&ds->mu);
			ds->running = false;
			ds->finished = ds->started;
			ds->last_errno = err;
			pthread_cond_broadcast(&ds->cv);
			break;
		}
		pthread_cond_wait(&ds->cv, &ds->mu);
	}
	pthread_mutex_unlock(&ds->mu);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
