/*
 * Which index files this process has checked (PRAGMA quick_check) since
 * it started: store_open checks a file only the first time the process
 * opens it, since the check reads the whole file (7% of a warm IMAP login
 * on a 100,000-message mailbox, growing with it). Damage found later by
 * any statement (SQLITE_CORRUPT) forgets them all, so that the next open
 * checks again and recovers (store_index.c).
 *
 * A file is known by its device, inode and birth time: a new file that
 * got the inode number of a removed one (an index moved aside and
 * rebuilt, or restored from a copy) is not taken for it. Stores are
 * opened on several worker threads at once: a mutex guards the table.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/xalloc.h"
#include "store/store_private.h"

/* More files than a process serves between two resets is no harm: the
 * table is emptied and they are checked once more. */
#define CHECKED_MAX ((size_t)1 << 16)

static pthread_mutex_t checked_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_file_id *checked; /* open addressing; dev 0 ino 0: free */
static size_t checked_cap, checked_n;

int
store_file_id_of(const char *path, struct store_file_id *id_out)
{
	struct statx sx;

	memset(id_out, 0, sizeof(*id_out));
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME,
	        &sx) == -1)
		return -1;
	id_out->dev = ((uint64_t)sx.stx_dev_major << 32) | sx.stx_dev_minor;
	id_out->ino = sx.stx_ino;
	if ((sx.stx_mask & STATX_BTIME) != 0)
		id_out->btime_ns = (int64_t)sx.stx_btime.tv_sec * 1000000000 +
		    sx.stx_btime.tv_nsec;
	return 0;
}

static bool
checked_free(const struct store_file_id *e)
{
	return e->dev == 0 && e->ino == 0;
}

static bool
checked_eq(const struct store_file_id *a, const struct store_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino &&
	    a->btime_ns == b->btime_ns;
}

static size_t
checked_slot(const struct store_file_id *id, size_t cap)
{
	uint64_t h = id->ino * 0x9e3779b97f4a7c15ull ^ id->dev ^
	    (uint64_t)id->btime_ns * 0xff51afd7ed558ccdull;

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* The slot of id, or the free one where it would go; cap > 0. */
static struct store_file_id *
checked_find(const struct store_file_id *id)
{
	size_t i = checked_slot(id, checked_cap);

	while (!checked_free(&checked[i]) && !checked_eq(&checked[i], id))
		i = (i + 1) & (checked_cap - 1);
	return &checked[i];
}

bool
store_index_checked_has(const struct store_file_id *id)
{
	bool r = false;

	if (checked_free(id))
		return false;
	MW_ASSERT(pthread_mutex_lock(&checked_lock) == 0);
	if (checked_cap > 0)
		r = !checked_free(checked_find(id));
	MW_ASSERT(pthread_mutex_unlock(&checked_lock) == 0);
	return r;
}

void
store_index_checked_add(const struct store_file_id *id)
{
	struct store_file_id *old, *e;
	size_t oldcap, i;

	if (checked_free(id))
		return;
	MW_ASSERT(pthread_mutex_lock(&checked_lock) == 0);
	if (checked_n >= CHECKED_MAX) {
		memset(checked, 0, checked_cap * sizeof(*checked));
		checked_n = 0;
	}
	/* at most half full: probes stay short */
	if (2 * (checked_n + 1) > checked_cap) {
		old = checked;
		oldcap = checked_cap;
		checked_cap = oldcap ? 2 * oldcap : 64;
		checked = xcalloc(checked_cap, sizeof(*checked));
		for (i = 0; i < oldcap; i++)
			if (!checked_free(&old[i]))
				*checked_find(&old[i]) = old[i];
		free(old);
	}
	e = checked_find(id);
	if (checked_free(e)) {
		*e = *id;
		checked_n++;
	}
	MW_ASSERT(pthread_mutex_unlock(&checked_lock) == 0);
}

void
store_index_checked_reset(void)
{
	MW_ASSERT(pthread_mutex_lock(&checked_lock) == 0);
	if (checked_cap > 0)
		memset(checked, 0, checked_cap * sizeof(*checked));
	checked_n = 0;
	MW_ASSERT(pthread_mutex_unlock(&checked_lock) == 0);
}
