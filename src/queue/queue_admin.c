/*
 * Queue administration on the files (see queue_admin.h): the listing
 * behind mailq, show, delete, hold, release and the state reset of
 * requeue. The formats are queue_file.c's, qmgr_state.c's and
 * maildrop.c's; this file only walks the directories and moves files.
 */
#include "queue/queue_admin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "queue/maildrop.h"
#include "queue/qmgr_private.h"
#include "queue/queue_file.h"
#include "queue/queue_id.h"

#define QUEUE_ADMIN_NAME_MAX 40

typedef char queue_admin_name[QUEUE_ADMIN_NAME_MAX];

static int
queue_admin_fail(struct buf *err, const char *fmt, const char *a, const char *b)
{
	int saved = errno;

	if (err != NULL) {
		buf_reset(err);
		(void)!buf_printf(err, fmt, a, b, strerror(saved));
	}
	errno = saved;
	return -1;
}

static bool
queue_admin_name_ok(const char *sub, const char *name)
{
	if (strcmp(sub, QUEUE_DIR_MAILDROP) == 0)
		return maildrop_name_valid(name);
	return queue_id_valid(name);
}

static int
queue_admin_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
queue_admin_ids(
    const char *queue_dir, const char *sub, char (**ids_out)[40], size_t *n_out)
{
	queue_admin_name *ids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	char *path;
	DIR *d;
	int saved;

	*ids_out = NULL;
	*n_out = 0;
	path = xasprintf("%s/%s", queue_dir, sub);
	d = opendir(path);
	saved = errno;
	free(path);
	if (d == NULL) {
		errno = saved;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len >= sizeof(ids[0]) ||
		    !queue_admin_name_ok(sub, de->d_name))
			continue;
		if (n == cap) {
			cap = cap > 0 ? cap * 2 : 256;
			ids = xreallocarray(ids, cap, sizeof(*ids));
		}
		memcpy(ids[n++], de->d_name, len + 1);
	}
	(void)closedir(d);
	if (n > 1)
		qsort(ids, n, sizeof(*ids), queue_admin_name_cmp);
	*ids_out = ids;
	*n_out = n;
	return 0;
}

/* Buffers reused from message to message while listing. */
struct queue_admin_walk {
	const char *queue_dir;
	queue_admin_list_fn *fn;
	void *arg;
	struct queue_admin_rcpt *rcpts;
	size_t cap;
	struct buf why;
};

static struct queue_admin_rcpt *
queue_admin_rcpts(struct queue_admin_walk *w, size_t n)
{
	if (n > w->cap) {
		w->cap = n;
		w->rcpts = xreallocarray(w->rcpts, n, sizeof(*w->rcpts));
	}
	return w->rcpts;
}

static int
queue_admin_list_queued(
    struct queue_admin_walk *w, const char *sub, const char *id)
{
	struct queue_admin_msg m;
	const struct queue_env *env;
	struct queue_admin_rcpt *r;
	struct queue_file *qf;
	struct qmgr_state st;
	struct stat sb;
	char *path;
	size_t i, k;
	int ret;

	memset(&m, 0, sizeof(m));
	m.queue_name = sub;
	m.id = id;
	path = xasprintf("%s/%s/%s", w->queue_dir, sub, id);
	qf = queue_file_open_path(path, &w->why);
	free(path);
	if (qf == NULL) {
		if (errno == ENOENT)
			return 0; /* delivered meanwhile */
		m.error = buf_cstr(&w->why);
		return w->fn(w->arg, &m);
	}
	env = queue_file_env(qf);
	m.arrival = env->arrival;
	m.size = env->size;
	m.file_size = fstat(queue_file_fd(qf), &sb) == 0 ? (uint64_t)sb.st_size
	                                                 : env->size;
	m.sender = env->sender;
	qmgr_state_init(&st, env->nrcpt);
	if (qmgr_state_read(w->queue_dir, id, &st, NULL) == -1) {
		/* unreadable state: every recipient is still to do */
		qmgr_state_free(&st);
		qmgr_state_init(&st, env->nrcpt);
	}
	m.deferred = st.exists;
	r = queue_admin_rcpts(w, env->nrcpt);
	for (i = 0, k = 0; i < env->nrcpt; i++) {
		if (st.done[i])
			continue;
		r[k].address = env->rcpts[i];
		r[k].why = st.why != NULL ? st.why[i] : NULL;
		/* a version 1 state has only the last reason */
		if (r[k].why == NULL && st.exists && st.reason != NULL &&
		    st.reason[0] != '\0')
			r[k].why = st.reason;
		k++;
	}
	m.rcpts = r;
	m.nrcpt = k;
	ret = w->fn(w->arg, &m);
	qmgr_state_free(&st);
	queue_file_free(&qf);
	return ret;
}

/* Opens a maildrop file as pickup does: never through a link, never
 * blocking on a FIFO, only a regular file. */
static int
queue_admin_open_drop(const char *queue_dir, const char *name, struct stat *sb)
{
	char *path = xasprintf("%s/%s/%s", queue_dir, QUEUE_DIR_MAILDROP, name);
	int fd, saved;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	saved = errno;
	free(path);
	if (fd == -1) {
		errno = saved;
		return -1;
	}
	if (fstat(fd, sb) == -1 || !S_ISREG(sb->st_mode)) {
		(void)close(fd);
		errno = EBADMSG;
		return -1;
	}
	return fd;
}

static int
queue_admin_list_drop(struct queue_admin_walk *w, const char *name)
{
	struct queue_admin_msg m;
	struct maildrop_rec *rec;
	struct queue_admin_rcpt *r;
	struct stat sb;
	uint64_t len = 0;
	size_t i;
	int fd, ret;

	memset(&m, 0, sizeof(m));
	m.queue_name = QUEUE_DIR_MAILDROP;
	m.id = name;
	if ((fd = queue_admin_open_drop(w->queue_dir, name, &sb)) == -1) {
		if (errno == ENOENT)
			return 0; /* picked up meanwhile */
		buf_reset(&w->why);
		(void)!buf_printf(&w->why, "%s", strerror(errno));
		m.error = buf_cstr(&w->why);
		return w->fn(w->arg, &m);
	}
	m.uid = (unsigned long)sb.st_uid;
	m.file_size = (uint64_t)sb.st_size;
	rec = maildrop_file_read(
	    fd, (uint64_t)sb.st_size, UINT64_MAX, &len, &w->why);
	(void)close(fd);
	if (rec == NULL) {
		m.error = buf_cstr(&w->why);
		return w->fn(w->arg, &m);
	}
	m.arrival = rec->time;
	m.size = len;
	m.sender = rec->sender;
	r = queue_admin_rcpts(w, rec->nrcpt);
	for (i = 0; i < rec->nrcpt; i++) {
		r[i].address = rec->rcpts[i];
		r[i].why = NULL;
	}
	m.rcpts = r;
	m.nrcpt = rec->nrcpt;
	ret = w->fn(w->arg, &m);
	maildrop_rec_free(&rec);
	return ret;
}

int
queue_admin_list(
    const char *queue_dir, queue_admin_list_fn *fn, void *arg, struct buf *err)
{
	static const char *const subs[] = { QUEUE_DIR_MAILDROP,
		QUEUE_DIR_ACTIVE, QUEUE_DIR_HOLD };
	struct queue_admin_walk w = { queue_dir, fn, arg, NULL, 0, { 0 } };
	queue_admin_name *ids;
	size_t i, k, n;
	int ret = 0;

	buf_init(&w.why, 4096);
	for (i = 0; i < MW_NELEM(subs) && ret == 0; i++) {
		if (queue_admin_ids(queue_dir, subs[i], &ids, &n) == -1) {
			/* a queue the server has not run on yet */
			if (errno == ENOENT)
				continue;
			ret = queue_admin_fail(
			    err, "cannot read %s/%s: %s", queue_dir, subs[i]);
			break;
		}
		for (k = 0; k < n && ret == 0; k++)
			ret = i == 0
			    ? queue_admin_list_drop(&w, ids[k])
			    : queue_admin_list_queued(&w, subs[i], ids[k]);
		free(ids);
	}
	free(w.rcpts);
	buf_free(&w.why);
	return ret;
}

const char *
queue_admin_find(const char *queue_dir, const char *id)
{
	static const char *const subs[] = { QUEUE_DIR_ACTIVE, QUEUE_DIR_HOLD };
	struct stat sb;
	char *path;
	size_t i;
	int r;

	if (maildrop_name_valid(id)) {
		path = xasprintf("%s/%s/%s", queue_dir, QUEUE_DIR_MAILDROP, id);
		r = lstat(path, &sb);
		free(path);
		return r == 0 ? QUEUE_DIR_MAILDROP : NULL;
	}
	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < MW_NELEM(subs); i++) {
		path = xasprintf("%s/%s/%s", queue_dir, subs[i], id);
		r = lstat(path, &sb);
		free(path);
		if (r == 0)
			return subs[i];
		if (errno != ENOENT)
			return NULL;
	}
	errno = ENOENT;
	return NULL;
}

static int
queue_admin_not_found(const char *queue_dir, const char *id, struct buf *err)
{
	int e = errno;

	buf_reset(err);
	if (e == EINVAL)
		(void)!buf_printf(
		    err, "%s is not a queue ID (mailq lists them)", id);
	else if (e == ENOENT)
		(void)!buf_printf(err,
		    "%s: no such message in %s (delivered "
		    "already? mailq lists the queue)",
		    id, queue_dir);
	else
		(void)!buf_printf(err, "%s: %s", id, strerror(e));
	errno = e;
	return -1;
}

/* Copies bytes [off, off+len) of fd to out. */
static int
queue_admin_copy(int fd, uint64_t off, uint64_t len, int out)
{
	char chunk[65536];
	ssize_t r;

	while (len > 0) {
		r = pread(fd, chunk, len < sizeof(chunk) ? len : sizeof(chunk),
		    (off_t)off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		if (write_full(out, chunk, (size_t)r) == -1)
			return -1;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static int
queue_admin_put(int fd, struct buf *b)
{
	int r = write_full(fd, b->data, b->len);

	buf_reset(b);
	return r;
}

static int
queue_admin_time(struct buf *b, const char *label, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[64];

	(void)localtime_r(&tt, &tm);
	(void)strftime(s, sizeof(s), "%a %b %e %H:%M:%S %Y", &tm);
	return buf_printf(b, "%s: %s\n", label, s);
}

static int
queue_admin_show_drop(
    const char *queue_dir, const char *id, int out, struct buf *err)
{
	struct maildrop_rec *rec = NULL;
	struct stat sb;
	struct buf b;
	uint64_t len = 0;
	int fd, ret = -1;

	buf_init(&b, MAILDROP_RECORD_MAX + 4096);
	if ((fd = queue_admin_open_drop(queue_dir, id, &sb)) == -1) {
		(void)queue_admin_not_found(queue_dir, id, err);
		goto out;
	}
	if ((rec = maildrop_file_read(
	         fd, (uint64_t)sb.st_size, UINT64_MAX, &len, err)) == NULL)
		goto out;
	if (buf_printf(&b, "*** MESSAGE CONTENTS %s/%s ***\n",
	        QUEUE_DIR_MAILDROP, id) == -1 ||
	    queue_admin_put(out, &b) == -1 ||
	    queue_admin_copy(fd, MAILDROP_HEAD_SIZE, len, out) == -1 ||
	    buf_printf(&b, "*** ENVELOPE RECORDS %s/%s ***\nowner_uid: %lu\n",
	        QUEUE_DIR_MAILDROP, id, (unsigned long)sb.st_uid) == -1 ||
	    queue_admin_time(&b, "posted", rec->time) == -1 ||
	    maildrop_rec_encode(rec, &b) == -1 ||
	    buf_printf(&b, "*** MESSAGE FILE END %s/%s ***\n",
	        QUEUE_DIR_MAILDROP, id) == -1 ||
	    queue_admin_put(out, &b) == -1) {
		(void)queue_admin_fail(err, "%s%s: %s", "write", "");
		goto out;
	}
	ret = 0;
out:
	maildrop_rec_free(&rec);
	if (fd != -1)
		(void)close(fd);
	buf_free(&b);
	return ret;
}

int
queue_admin_show(
    const char *queue_dir, const char *id, int out, struct buf *err)
{
	const char *sub = queue_admin_find(queue_dir, id);
	struct queue_file *qf;
	struct buf b, st;
	char *path;
	int ret = -1;

	if (sub == NULL)
		return queue_admin_not_found(queue_dir, id, err);
	if (strcmp(sub, QUEUE_DIR_MAILDROP) == 0)
		return queue_admin_show_drop(queue_dir, id, out, err);
	path = xasprintf("%s/%s/%s", queue_dir, sub, id);
	qf = queue_file_open_path(path, err);
	free(path);
	if (qf == NULL)
		return errno == ENOENT
		    ? queue_admin_not_found(queue_dir, id, err)
		    : -1;
	buf_init(&b, BUF_MAX_DEFAULT);
	buf_init(&st, (size_t)16 * 1024 * 1024);
	path = xasprintf("%s/%s/%s", queue_dir, QUEUE_DIR_DEFER, id);
	if (fs_read_file(path, &st) == -1 && errno != ENOENT)
		(void)!buf_printf(&st, "(unreadable: %s)\n", strerror(errno));
	free(path);
	if (buf_printf(&b, "*** MESSAGE CONTENTS %s/%s ***\n", sub, id) == -1 ||
	    queue_admin_put(out, &b) == -1 ||
	    queue_admin_copy(queue_file_fd(qf), queue_file_body_offset(qf),
	        queue_file_body_size(qf), out) == -1 ||
	    buf_printf(&b, "*** ENVELOPE RECORDS %s/%s ***\n", sub, id) == -1 ||
	    queue_admin_time(&b, "arrival_time", queue_file_env(qf)->arrival) ==
	        -1 ||
	    queue_env_encode(queue_file_env(qf), &b) == -1 ||
	    (st.len > 0 &&
	        (buf_printf(&b, "*** DELIVERY STATE %s/%s ***\n",
	             QUEUE_DIR_DEFER, id) == -1 ||
	            buf_append(&b, st.data, st.len) == -1)) ||
	    buf_printf(&b, "*** MESSAGE FILE END %s/%s ***\n", sub, id) == -1 ||
	    queue_admin_put(out, &b) == -1) {
		(void)queue_admin_fail(err, "%s%s: %s", "write", "");
		goto out;
	}
	ret = 0;
out:
	buf_free(&st);
	buf_free(&b);
	queue_file_free(&qf);
	return ret;
}

static int
queue_admin_unlink(const char *queue_dir, const char *sub, const char *id)
{
	char *path = xasprintf("%s/%s/%s", queue_dir, sub, id);
	int r = unlink(path), saved = errno;

	free(path);
	errno = saved;
	return r;
}

int
queue_admin_delete(const char *queue_dir, const char *id, struct buf *err)
{
	const char *sub = queue_admin_find(queue_dir, id);

	if (sub == NULL)
		return queue_admin_not_found(queue_dir, id, err);
	if (queue_admin_unlink(queue_dir, sub, id) == -1)
		return errno == ENOENT
		    ? queue_admin_not_found(queue_dir, id, err)
		    : queue_admin_fail(err, "cannot remove %s/%s: %s", sub, id);
	if (strcmp(sub, QUEUE_DIR_MAILDROP) != 0 &&
	    queue_admin_unlink(queue_dir, QUEUE_DIR_DEFER, id) == -1 &&
	    errno != ENOENT)
		return queue_admin_fail(
		    err, "cannot remove %s/%s: %s", QUEUE_DIR_DEFER, id);
	return 0;
}

/* Without RENAME_NOREPLACE: link() fails on EEXIST instead. */
static int
queue_admin_link_move(const char *src, const char *dst)
{
	if (link(src, dst) == -1)
		return -1;
	(void)unlink(src);
	return 0;
}

/* sub/id to dst/id without replacing anything, made durable. */
static int
queue_admin_move(const char *queue_dir, const char *from, const char *to,
    const char *id, struct buf *err)
{
	char *src = xasprintf("%s/%s/%s", queue_dir, from, id);
	char *dst = xasprintf("%s/%s/%s", queue_dir, to, id);
	char *d1 = xasprintf("%s/%s", queue_dir, from);
	char *d2 = xasprintf("%s/%s", queue_dir, to);
	int ret = -1;

	if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == -1 &&
	    ((errno != EINVAL && errno != ENOSYS) ||
	        queue_admin_link_move(src, dst) == -1)) {
		if (errno == ENOENT)
			(void)queue_admin_not_found(queue_dir, id, err);
		else
			(void)queue_admin_fail(
			    err, "cannot move %s to %s: %s", src, dst);
		goto out;
	}
	/* the new name first: a crash between leaves the old one, never
	 * neither */
	if (fsync_dir(d2) == -1 || fsync_dir(d1) == -1) {
		(void)queue_admin_fail(err, "cannot sync %s or %s: %s", d2, d1);
		goto out;
	}
	ret = 0;
out:
	free(src);
	free(dst);
	free(d1);
	free(d2);
	return ret;
}

int
queue_admin_hold(const char *queue_dir, const char *id, struct buf *err)
{
	const char *sub = queue_admin_find(queue_dir, id);

	if (sub == NULL)
		return queue_admin_not_found(queue_dir, id, err);
	if (strcmp(sub, QUEUE_DIR_ACTIVE) != 0) {
		buf_reset(err);
		(void)!buf_printf(err,
		    strcmp(sub, QUEUE_DIR_HOLD) == 0
		        ? "%s is on hold already (queue release %s lets it go)"
		        : "%s is in maildrop/, not queued yet: it can be "
		          "deleted, not held (%s)",
		    id, id);
		errno = EINVAL;
		return -1;
	}
	return queue_admin_move(
	    queue_dir, QUEUE_DIR_ACTIVE, QUEUE_DIR_HOLD, id, err);
}

int
queue_admin_release(const char *queue_dir, const char *id, struct buf *err)
{
	const char *sub = queue_admin_find(queue_dir, id);

	if (sub == NULL)
		return queue_admin_not_found(queue_dir, id, err);
	if (strcmp(sub, QUEUE_DIR_HOLD) != 0) {
		buf_reset(err);
		(void)!buf_printf(err, "%s is not on hold (%s)", id,
		    strcmp(sub, QUEUE_DIR_ACTIVE) == 0
		        ? "it is queued: queue hold puts it there"
		        : "it is in maildrop/, not queued yet");
		errno = EINVAL;
		return -1;
	}
	return queue_admin_move(
	    queue_dir, QUEUE_DIR_HOLD, QUEUE_DIR_ACTIVE, id, err);
}

int
queue_admin_requeue_state(
    const char *queue_dir, const char *id, struct buf *err)
{
	struct queue_file *qf;
	struct qmgr_state st;
	size_t i;
	int ret = -1;

	if ((qf = queue_file_open(queue_dir, id, err)) == NULL)
		return errno == ENOENT
		    ? queue_admin_not_found(queue_dir, id, err)
		    : -1;
	qmgr_state_init(&st, queue_file_env(qf)->nrcpt);
	if (qmgr_state_read(queue_dir, id, &st, err) == -1)
		goto out;
	if (!st.exists) {
		ret = 0; /* never deferred: nothing to drop */
		goto out;
	}
	st.attempts = 0;
	st.next_retry = 0;
	for (i = 0; st.why != NULL && i < st.nrcpt; i++)
		qmgr_state_set_why(&st, i, NULL);
	free(st.reason);
	st.reason = xstrdup("requeued");
	if (qmgr_state_write(queue_dir, id, &st) == -1) {
		(void)queue_admin_fail(
		    err, "cannot write %s/%s: %s", QUEUE_DIR_DEFER, id);
		goto out;
	}
	ret = 0;
out:
	qmgr_state_free(&st);
	queue_file_free(&qf);
	return ret;
}

int
queue_admin_lock(const char *queue_dir)
{
	char *path = xasprintf("%s/%s", queue_dir, QUEUE_LOCK_FILE);
	int fd, saved;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	saved = errno;
	free(path);
	if (fd == -1) {
		errno = saved;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
