/*
 * Queue files (see queue_file.h and docs/queue.md): writing a message into
 * incoming/, committing it durably into active/, reading and validating it
 * back, and poking the queue manager. The envelope record itself is
 * encoded in queue_env.c.
 *
 * Layout: a 16-byte header (magic "MWQF", version, a random nonce), the
 * message bytes, the envelope record, and a 40-byte trailer (magic "MWQT",
 * version, the nonce again, body and envelope lengths, and a checksum over
 * header, envelope and trailer). The envelope is known only at the end of
 * DATA, so it goes last; a file cut anywhere fails the trailer checks, and
 * the random nonce keeps a body that ends in a forged envelope and trailer
 * from passing them.
 */
#include "queue/queue_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/dirsync.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "queue/queue_id.h"
#include "queue/queue_private.h"

#define QUEUE_VERSION      1
#define QUEUE_HEAD_SIZE    16
#define QUEUE_TAIL_SIZE    40
#define QUEUE_NONCE_SIZE   8
#define QUEUE_WBUF_SIZE    ((size_t)64 * 1024)
#define QUEUE_ENV_MAX      BUF_MAX_DEFAULT
#define QUEUE_CREATE_TRIES 100

struct queue_msg {
	char id[QUEUE_ID_MAX];
	char *queue_dir;
	char *path; /* incoming/<id> */
	int fd;
	unsigned char head[QUEUE_HEAD_SIZE];
	char *wbuf;
	size_t wlen;
	uint64_t size; /* message bytes, without header */
	int err;       /* errno of a failed write: the message is lost */
	bool committed;
};

struct queue_file {
	int fd;
	struct queue_env *env;
	uint64_t body_off, body_len;
};

static void
queue_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
queue_put_be64(unsigned char *p, uint64_t v)
{
	queue_put_be32(p, (uint32_t)(v >> 32));
	queue_put_be32(p + 4, (uint32_t)v);
}

static uint32_t
queue_get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
queue_get_be64(const unsigned char *p)
{
	return (uint64_t)queue_get_be32(p) << 32 | queue_get_be32(p + 4);
}

/* FNV-1a, 64 bits: detects torn and damaged records, not an adversary (the
 * nonce handles forged trailers inside a body). */
static uint64_t
queue_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n-- > 0) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
queue_checksum(const unsigned char *head, const void *env, size_t env_len,
    const unsigned char *tail)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = queue_fnv(h, head, QUEUE_HEAD_SIZE);
	h = queue_fnv(h, env, env_len);
	return queue_fnv(h, tail, QUEUE_TAIL_SIZE - 8);
}

/* maildrop/ is a drop box like /tmp: anyone may create files (wx), only
 * the owner of a file or of the directory may remove or rename it (the
 * sticky bit), and only mail_owner may list it (no r for others), so the
 * random name of each file keeps other users out of it. queue_dir itself
 * must be searchable for sendmail to get there; its other directories
 * stay 0700. */
static int
queue_dirs_public(const char *queue_dir)
{
	struct stat st;
	char *p;
	int ret = 0;

	if (stat(queue_dir, &st) == 0 && (st.st_mode & 0111) != 0111 &&
	    st.st_uid == geteuid())
		ret = chmod(queue_dir, (st.st_mode & 07777) | 0111);
	p = xasprintf("%s/%s", queue_dir, QUEUE_DIR_MAILDROP);
	if (ret == 0 && stat(p, &st) == 0 && (st.st_mode & 07777) != 01733 &&
	    st.st_uid == geteuid())
		ret = chmod(p, 01733);
	free(p);
	return ret;
}

int
queue_dirs_create(const char *queue_dir)
{
	static const char *const subdirs[] = { QUEUE_DIR_INCOMING,
		QUEUE_DIR_ACTIVE, QUEUE_DIR_DEFER, QUEUE_DIR_HOLD,
		QUEUE_DIR_CORRUPT, QUEUE_DIR_MAILDROP };
	bool created = false;
	size_t i;
	char *p;

	if (!fs_exists(queue_dir)) {
		if (fs_mkdir_p(queue_dir, 0700) == -1)
			return -1;
		p = xasprintf("%s/..", queue_dir);
		if (fsync_dir(p) == -1) {
			free(p);
			return -1;
		}
		free(p);
	}
	for (i = 0; i < MW_NELEM(subdirs); i++) {
		p = xasprintf("%s/%s", queue_dir, subdirs[i]);
		if (mkdir(p, 0700) == 0)
			created = true;
		else if (errno != EEXIST) {
			free(p);
			return -1;
		}
		free(p);
	}
	if (queue_dirs_public(queue_dir) == -1)
		return -1;
	if (created && fsync_dir(queue_dir) == -1)
		return -1;
	return 0;
}

/*
 * The active/ directory syncer of each queue directory this process
 * commits into, shared by all threads: this is what makes one directory
 * fsync cover many concurrent commits. Lives as long as the process.
 */
struct queue_syncer {
	char *queue_dir;
	struct dirsync *ds;
	struct queue_syncer *next;
};

static pthread_mutex_t queue_syncers_mu = PTHREAD_MUTEX_INITIALIZER;
static struct queue_syncer *queue_syncers;

static struct dirsync *
queue_active_syncer(const char *queue_dir)
{
	struct queue_syncer *s;
	struct dirsync *ds = NULL;
	char *p;

	pthread_mutex_lock(&queue_syncers_mu);
	for (s = queue_syncers; s != NULL; s = s->next)
		if (strcmp(s->queue_dir, queue_dir) == 0) {
			ds = s->ds;
			goto out;
		}
	p = xasprintf("%s/%s", queue_dir, QUEUE_DIR_ACTIVE);
	ds = dirsync_new(p);
	free(p);
	if (ds == NULL)
		goto out;
	s = xcalloc(1, sizeof(*s));
	s->queue_dir = xstrdup(queue_dir);
	s->ds = ds;
	s->next = queue_syncers;
	queue_syncers = s;
out:
	pthread_mutex_unlock(&queue_syncers_mu);
	return ds;
}

static void
queue_nonce(unsigned char *p)
{
	struct timeval tv;
	uint64_t v;

	if (getrandom(p, QUEUE_NONCE_SIZE, GRND_NONBLOCK) == QUEUE_NONCE_SIZE)
		return;
	/* No entropy yet (early boot): still unpredictable enough to keep a
	 * body from guessing it, and the checksum still catches tears. */
	(void)gettimeofday(&tv, NULL);
	v = (uint64_t)tv.tv_usec << 40 ^ (uint64_t)tv.tv_sec << 20 ^
	    (uint64_t)getpid() ^ (uint64_t)(uintptr_t)p;
	queue_put_be64(p, v);
}

struct queue_msg *
queue_msg_create(const char *queue_dir, struct buf *err)
{
	struct queue_msg *qm = xcalloc(1, sizeof(*qm));
	bool made_dirs = false;
	int tries;

	qm->fd = -1;
	for (tries = 0; tries < QUEUE_CREATE_TRIES; tries++) {
		if (queue_id_new(qm->id, sizeof(qm->id)) == -1)
			break;
		free(qm->path);
		qm->path = xasprintf(
		    "%s/%s/%s", queue_dir, QUEUE_DIR_INCOMING, qm->id);
		qm->fd = open(qm->path,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (qm->fd != -1)
			break;
		if (errno == ENOENT && !made_dirs) {
			made_dirs = true;
			if (queue_dirs_create(queue_dir) == -1)
				break;
			continue;
		}
		if (errno != EEXIST)
			break;
	}
	if (qm->fd == -1) {
		if (err != NULL) {
			buf_reset(err);
			(void)!buf_printf(err,
			    "cannot create queue file %s: %m",
			    qm->path != NULL ? qm->path : queue_dir);
		}
		free(qm->path);
		free(qm);
		return NULL;
	}
	qm->queue_dir = xstrdup(queue_dir);
	memcpy(qm->head, "MWQF", 4);
	queue_put_be32(qm->head + 4, QUEUE_VERSION);
	queue_nonce(qm->head + 8);
	qm->wbuf = xmalloc(QUEUE_WBUF_SIZE);
	memcpy(qm->wbuf, qm->head, QUEUE_HEAD_SIZE);
	qm->wlen = QUEUE_HEAD_SIZE;
	return qm;
}

const char *
queue_msg_id(const struct queue_msg *qm)
{
	return qm->id;
}

uint64_t
queue_msg_size(const struct queue_msg *qm)
{
	return qm->size;
}

static int
queue_msg_flush(struct queue_msg *qm)
{
	if (qm->wlen > 0 && write_full(qm->fd, qm->wbuf, qm->wlen) == -1) {
		qm->err = errno;
		return -1;
	}
	qm->wlen = 0;
	return 0;
}

int
queue_msg_write(struct queue_msg *qm, const void *p, size_t n)
{
	if (qm->err != 0 || qm->committed) {
		errno = qm->err != 0 ? qm->err : EINVAL;
		return -1;
	}
	qm->size += n;
	if (qm->wlen + n <= QUEUE_WBUF_SIZE) {
		memcpy(qm->wbuf + qm->wlen, p, n);
		qm->wlen += n;
		return 0;
	}
	if (queue_msg_flush(qm) == -1)
		return -1;
	if (n >= QUEUE_WBUF_SIZE) {
		if (write_full(qm->fd, p, n) == -1) {
			qm->err = errno;
			return -1;
		}
		return 0;
	}
	memcpy(qm->wbuf, p, n);
	qm->wlen = n;
	return 0;
}

/* Writes both iovecs completely (retrying short writes and EINTR). */
static int
queue_writev_full(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t w = writev(fd, iov, cnt);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (cnt > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* rename() that never replaces an existing message: an ID collision must
 * fail the commit, not silently destroy an accepted message. */
static int
queue_rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: link() fails on EEXIST. */
	if (link(from, to) == -1)
		return -1;
	(void)unlink(from);
	return 0;
}

int
queue_msg_commit(struct queue_msg *qm, const struct queue_env *env)
{
	unsigned char tail[QUEUE_TAIL_SIZE];
	struct queue_env e = *env;
	struct iovec iov[3];
	struct dirsync *ds;
	struct buf rec;
	char *dst = NULL;
	int ret = -1, saved;
	bool renamed = false;

	MW_ASSERT(!qm->committed);
	if (qm->err != 0) {
		errno = qm->err;
		return -1;
	}
	buf_init(&rec, QUEUE_ENV_MAX);
	memcpy(e.id, qm->id, sizeof(e.id));
	e.size = qm->size;
	if (queue_env_encode(&e, &rec) == -1)
		goto out;
	memcpy(tail, "MWQT", 4);
	queue_put_be32(tail + 4, QUEUE_VERSION);
	memcpy(tail + 8, qm->head + 8, QUEUE_NONCE_SIZE);
	queue_put_be64(tail + 16, qm->size);
	queue_put_be64(tail + 24, rec.len);
	queue_put_be64(
	    tail + 32, queue_checksum(qm->head, rec.data, rec.len, tail));
	iov[0].iov_base = qm->wbuf;
	iov[0].iov_len = qm->wlen;
	iov[1].iov_base = rec.data;
	iov[1].iov_len = rec.len;
	iov[2].iov_base = tail;
	iov[2].iov_len = sizeof(tail);
	if (queue_writev_full(qm->fd, iov, 3) == -1)
		goto out;
	qm->wlen = 0;
	/* The size changed, so fdatasync() also writes the inode. */
	if (fdatasync(qm->fd) == -1)
		goto out;
	dst = xasprintf("%s/%s/%s", qm->queue_dir, QUEUE_DIR_ACTIVE, qm->id);
	if ((ds = queue_active_syncer(qm->queue_dir)) == NULL)
		goto out;
	if (queue_rename_noreplace(qm->path, dst) == -1)
		goto out;
	renamed = true;
	/* The commit point: once this returns, the message survives a crash. */
	if (dirsync_wait(ds) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	if (ret == -1) {
		qm->err = saved != 0 ? saved : EIO;
		/* Not acknowledged, so it must not be delivered either. */
		if (renamed)
			(void)unlink(dst);
	} else {
		qm->committed = true;
		(void)close(qm->fd); /* fsynced: close cannot lose data */
		qm->fd = -1;
	}
	free(dst);
	buf_free(&rec);
	errno = saved;
	return ret;
}

void
queue_msg_free(struct queue_msg **qmp)
{
	struct queue_msg *qm = *qmp;

	if (qm == NULL)
		return;
	if (qm->fd != -1)
		(void)close(qm->fd);
	if (!qm->committed)
		(void)unlink(qm->path);
	free(qm->wbuf);
	free(qm->path);
	free(qm->queue_dir);
	free(qm);
	*qmp = NULL;
}

int
queue_sock_addr(const char *queue_dir, struct sockaddr_un *sun_out,
    socklen_t *len_out, int *dirfd_out)
{
	int n;

	*dirfd_out = -1;
	memset(sun_out, 0, sizeof(*sun_out));
	sun_out->sun_family = AF_UNIX;
	n = snprintf(sun_out->sun_path, sizeof(sun_out->sun_path), "%s/%s",
	    queue_dir, QUEUE_SOCKET);
	if (n < 0 || (size_t)n >= sizeof(sun_out->sun_path)) {
		/* Too long for sun_path (108 bytes): go through the directory
		 * descriptor instead. */
		*dirfd_out = open(queue_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (*dirfd_out == -1)
			return -1;
		n = snprintf(sun_out->sun_path, sizeof(sun_out->sun_path),
		    "/proc/self/fd/%d/%s", *dirfd_out, QUEUE_SOCKET);
	}
	*len_out =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}

static int queue_poke_fd = -1;
static pthread_once_t queue_poke_once = PTHREAD_ONCE_INIT;

static void
queue_poke_init(void)
{
	queue_poke_fd =
	    socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

void
queue_poke(const char *queue_dir, const char *id)
{
	char msg[QUEUE_POKE_HDR + QUEUE_ID_MAX];
	struct sockaddr_un sun;
	socklen_t len;
	size_t idlen = strlen(id);
	int dirfd, saved = errno;

	(void)pthread_once(&queue_poke_once, queue_poke_init);
	if (queue_poke_fd == -1 || idlen >= QUEUE_ID_MAX)
		goto out;
	memcpy(msg, QUEUE_POKE_MAGIC, 4);
	msg[4] = QUEUE_POKE_VERSION;
	memcpy(msg + QUEUE_POKE_HDR, id, idlen);
	if (queue_sock_addr(queue_dir, &sun, &len, &dirfd) == -1)
		goto out;
	/* Best effort: when the manager is down or busy, its scan finds the
	 * message. */
	(void)sendto(queue_poke_fd, msg, QUEUE_POKE_HDR + idlen,
	    MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
	if (dirfd != -1)
		(void)close(dirfd);
out:
	errno = saved;
}

/* Sends one request (magic, version, payload) to the queue manager and
 * waits for the kernel to take it. 0 or -1 with errno. */
static int
queue_request(const char *queue_dir, const char *magic, const char *payload,
    size_t plen, size_t pmax)
{
	char msg[QUEUE_POKE_HDR + 256];
	struct sockaddr_un sun;
	socklen_t len;
	int fd, dirfd = -1, ret = -1, saved;

	if (plen >= pmax || plen > sizeof(msg) - QUEUE_POKE_HDR) {
		errno = EINVAL;
		return -1;
	}
	memcpy(msg, magic, 4);
	msg[4] = QUEUE_POKE_VERSION;
	if (plen > 0)
		memcpy(msg + QUEUE_POKE_HDR, payload, plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (queue_sock_addr(queue_dir, &sun, &len, &dirfd) == -1)
		goto out;
	if (sendto(fd, msg, QUEUE_POKE_HDR + plen, MSG_NOSIGNAL,
	        (struct sockaddr *)&sun, len) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	if (dirfd != -1)
		(void)close(dirfd);
	(void)close(fd);
	errno = saved;
	return ret;
}

int
queue_flush(const char *queue_dir, const char *domain)
{
	return queue_request(queue_dir, QUEUE_FLUSH_MAGIC, domain,
	    domain != NULL ? strlen(domain) : 0, 256);
}

int
queue_requeue(const char *queue_dir, const char *id)
{
	size_t idlen = strlen(id);

	if (idlen == 0) {
		errno = EINVAL;
		return -1;
	}
	return queue_request(
	    queue_dir, QUEUE_REQUEUE_MAGIC, id, idlen, QUEUE_ID_MAX);
}

static int
queue_file_fail(struct buf *err, const char *path, int e, const char *why)
{
	if (err != NULL) {
		buf_reset(err);
		errno = e;
		(void)!buf_printf(
		    err, "%s: %s", path, why != NULL ? why : strerror(e));
	}
	errno = e;
	return -1;
}

/* Checks header and trailer against the file size; fills body and envelope
 * positions. */
static int
queue_file_check(struct queue_file *qf, const char *path,
    const unsigned char *head, const unsigned char *tail, uint64_t size,
    uint64_t *env_len_out, struct buf *err)
{
	uint64_t body_len, env_len, room;

	if (memcmp(head, "MWQF", 4) != 0)
		return queue_file_fail(err, path, EBADMSG, "not a queue file");
	if (queue_get_be32(head + 4) != QUEUE_VERSION)
		return queue_file_fail(
		    err, path, ENOTSUP, "unknown queue file version");
	if (memcmp(tail, "MWQT", 4) != 0 ||
	    memcmp(tail + 8, head + 8, QUEUE_NONCE_SIZE) != 0)
		return queue_file_fail(
		    err, path, EBADMSG, "torn or damaged (no trailer)");
	if (queue_get_be32(tail + 4) != QUEUE_VERSION)
		return queue_file_fail(err, path, ENOTSUP,
		    "unknown queue file version in trailer");
	room = size - QUEUE_HEAD_SIZE - QUEUE_TAIL_SIZE;
	body_len = queue_get_be64(tail + 16);
	env_len = queue_get_be64(tail + 24);
	if (body_len > room || env_len != room - body_len ||
	    env_len > QUEUE_ENV_MAX)
		return queue_file_fail(
		    err, path, EBADMSG, "torn or damaged (sizes)");
	qf->body_off = QUEUE_HEAD_SIZE;
	qf->body_len = body_len;
	*env_len_out = env_len;
	return 0;
}

struct queue_file *
queue_file_open_path(const char *path, struct buf *err)
{
	unsigned char head[QUEUE_HEAD_SIZE], tail[QUEUE_TAIL_SIZE];
	struct queue_file *qf = xcalloc(1, sizeof(*qf));
	const char *base = strrchr(path, '/');
	uint64_t env_len = 0;
	struct stat st;
	char *rec = NULL;
	int ok = -1, saved;

	base = base != NULL ? base + 1 : path;
	qf->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (qf->fd == -1) {
		(void)queue_file_fail(err, path, errno, NULL);
		goto out;
	}
	if (fstat(qf->fd, &st) == -1) {
		(void)queue_file_fail(err, path, errno, NULL);
		goto out;
	}
	if (!S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < QUEUE_HEAD_SIZE + QUEUE_TAIL_SIZE) {
		(void)queue_file_fail(
		    err, path, EBADMSG, "torn or damaged (too short)");
		goto out;
	}
	errno = 0; /* a short read sets none */
	if (pread(qf->fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    pread(qf->fd, tail, sizeof(tail), st.st_size - QUEUE_TAIL_SIZE) !=
	        (ssize_t)sizeof(tail)) {
		(void)queue_file_fail(
		    err, path, errno != 0 ? errno : EIO, NULL);
		goto out;
	}
	if (queue_file_check(qf, path, head, tail, (uint64_t)st.st_size,
	        &env_len, err) == -1)
		goto out;
	rec = xmalloc((size_t)env_len + 1);
	if (pread(qf->fd, rec, (size_t)env_len,
	        (off_t)(QUEUE_HEAD_SIZE + qf->body_len)) != (ssize_t)env_len) {
		(void)queue_file_fail(err, path, EIO, "short read");
		goto out;
	}
	if (queue_checksum(head, rec, (size_t)env_len, tail) !=
	    queue_get_be64(tail + 32)) {
		(void)queue_file_fail(
		    err, path, EBADMSG, "torn or damaged (checksum)");
		goto out;
	}
	if ((qf->env = queue_env_decode(rec, (size_t)env_len, err)) == NULL) {
		char *why = err != NULL ? buf_steal(err) : NULL;

		(void)queue_file_fail(err, path, EBADMSG, why);
		free(why);
		goto out;
	}
	if (qf->env->size != qf->body_len || strcmp(qf->env->id, base) != 0) {
		(void)queue_file_fail(
		    err, path, EBADMSG, "envelope does not match the file");
		goto out;
	}
	ok = 0;
out:
	saved = errno;
	free(rec);
	if (ok == -1)
		queue_file_free(&qf);
	errno = saved;
	return qf;
}

struct queue_file *
queue_file_open(const char *queue_dir, const char *id, struct buf *err)
{
	struct queue_file *qf;
	char *path;

	if (!queue_id_valid(id)) {
		(void)queue_file_fail(err, id, EINVAL, "not a queue ID");
		return NULL;
	}
	path = xasprintf("%s/%s/%s", queue_dir, QUEUE_DIR_ACTIVE, id);
	qf = queue_file_open_path(path, err);
	free(path);
	return qf;
}

const struct queue_env *
queue_file_env(const struct queue_file *qf)
{
	return qf->env;
}

int
queue_file_fd(const struct queue_file *qf)
{
	return qf->fd;
}

uint64_t
queue_file_body_offset(const struct queue_file *qf)
{
	return qf->body_off;
}

uint64_t
queue_file_body_size(const struct queue_file *qf)
{
	return qf->body_len;
}

void
queue_file_free(struct queue_file **qfp)
{
	struct queue_file *qf = *qfp;

	if (qf == NULL)
		return;
	if (qf->fd != -1)
		(void)close(qf->fd);
	queue_env_free(&qf->env);
	free(qf);
	*qfp = NULL;
}
