/*
 * IMAP COPY and MOVE between folders (RFC 9051 6.4.7, RFC 6851): each
 * message becomes a new file in the target's cur/, a hard link of the
 * source file where the file system allows (one inode, so the internal
 * date, kept in the mtime, goes along), else a copy. The new files and
 * their rows are one transaction; cur/ is fsynced before the commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "store/maildir_name.h"
#include "store/store.h"
#include "store/store_private.h"

#define COPY_CHUNK ((size_t)64 * 1024)

/* Keywords of src as bits of dst: each used one looked up (or added) by
 * name; one with no room in dst is dropped. */
static int
copy_keyword_map(struct store_mailbox *src, const size_t *idx, size_t n,
    struct store_mailbox *dst, int map[STORE_MAX_KEYWORDS], struct buf *err)
{
	uint32_t used = 0;
	size_t k, i, to;
	int r;

	for (k = 0; k < n; k++)
		used |= src->v[idx[k]].keywords;
	for (i = 0; i < STORE_MAX_KEYWORDS; i++) {
		map[i] = -1;
		if ((used & (1u << i)) == 0 || src->keywords[i] == NULL)
			continue;
		if (src == dst) {
			map[i] = (int)i;
			continue;
		}
		r = store_mailbox_keyword_index(
		    dst, src->keywords[i], true, &to, err);
		if (r == -1 && errno != ENOSPC && errno != EINVAL)
			return -1;
		if (r == 1)
			map[i] = (int)to;
	}
	return 0;
}

static uint32_t
copy_keywords(uint32_t kw, const int map[STORE_MAX_KEYWORDS])
{
	uint32_t out = 0;
	size_t i;

	for (i = 0; i < STORE_MAX_KEYWORDS; i++)
		if ((kw & (1u << i)) != 0 && map[i] >= 0)
			out |= 1u << map[i];
	return out;
}

/* Copies the bytes of sfd into the new file dst/cur/<file> (another file
 * system, or no hard links): fsynced, with the mtime of the source. */
static int
copy_bytes(int sfd, int curfd, const char *file)
{
	char *chunk = xmalloc(COPY_CHUNK);
	struct stat sb;
	struct timespec ts[2];
	int fd, ret = -1, saved;
	ssize_t n;

	fd = openat(curfd, file,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		free(chunk);
		return -1;
	}
	while ((n = read(sfd, chunk, COPY_CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || write_full(fd, chunk, (size_t)n) == -1)
			goto out;
	}
	if (fstat(sfd, &sb) == -1)
		goto out;
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	if (futimens(fd, ts) == -1 || fsync(fd) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	(void)close(fd);
	if (ret == -1)
		(void)unlinkat(curfd, file, 0);
	free(chunk);
	errno = saved;
	return ret;
}

/* Makes dst/cur/<file> the same message as view entry i of src: 0, 1
 * when the message is gone, -1 on error. */
static int
copy_one(struct store_mailbox *src, size_t i, struct store_mailbox *dst,
    const char *file)
{
	const struct store_msg_file *f = &src->f[i];
	int sfd, r;

	if (linkat(f->in_new ? src->newfd : src->curfd, f->file, dst->curfd,
	        file, 0) == 0)
		return 0;
	if (errno != ENOENT && errno != EXDEV && errno != EPERM &&
	    errno != EMLINK)
		return -1;
	/* renamed meanwhile (store_msg_open finds it), or no link: copy */
	if ((r = store_msg_open(src, i, &sfd)) == -1)
		return errno == ENOENT ? 1 : -1;
	/* store_msg_open followed a rename (the view's arrays may have
	 * become its own: f again): the link once more */
	f = &src->f[i];
	if (linkat(f->in_new ? src->newfd : src->curfd, f->file, dst->curfd,
	        file, 0) == 0) {
		(void)close(sfd);
		return 0;
	}
	r = copy_bytes(sfd, dst->curfd, file);
	(void)close(sfd);
	return r;
}

int
store_mailbox_copy(struct store_mailbox *src, const size_t *idx, size_t n,
    struct store_mailbox *dst, uint32_t *uids_out, struct buf *err)
{
	struct store *st = dst->st;
	int map[STORE_MAX_KEYWORDS];
	struct store_mb_row row;
	struct buf base, file;
	char **made = NULL;
	size_t k, nmade = 0;
	int r, ret = -1, saved;
	bool began = false;

	MW_ASSERT(src->st == dst->st);
	for (k = 0; k < n; k++) {
		MW_ASSERT(idx[k] < src->n);
		uids_out[k] = 0;
	}
	if (n == 0)
		return 0;
	if (dst->read_only) {
		store_seterr(err, "folder %s is open read-only", dst->name);
		errno = EROFS;
		return -1;
	}
	if (copy_keyword_map(src, idx, n, dst, map, err) == -1)
		return -1;
	buf_init(&base, MAILDIR_NAME_MAX + 1);
	buf_init(&file, MAILDIR_NAME_MAX + 1);
	made = xcalloc(n, sizeof(*made));
	if (store_begin(st, err) == -1)
		goto out;
	began = true;
	if (store_append_row_get(dst, &row, err) == -1)
		goto out;
	for (k = 0; k < n; k++) {
		const struct store_msg *m = &src->v[idx[k]];
		uint32_t kw = copy_keywords(m->keywords, map);

		buf_reset(&base);
		buf_reset(&file);
		if (store_unique_name(&base) == -1 ||
		    maildir_fname_build(&file, base.data, m->psize, m->vsize,
		        m->flags, kw) == -1) {
			store_seterr(err, "%s: cannot name the copy", dst->dir);
			goto out;
		}
		r = copy_one(src, idx[k], dst, file.data);
		if (r == -1) {
			store_seterr(err, "cannot copy %s/%s to %s: %s",
			    src->dir, src->f[idx[k]].file, dst->dir,
			    strerror(errno));
			goto out;
		}
		if (r == 1)
			continue; /* expunged meanwhile: no UID (RFC 4315) */
		made[nmade++] = xstrdup(file.data);
		if (store_append_row(dst, &row, base.data, file.data, m->psize,
		        m->vsize, m->flags, kw, m->internaldate, &uids_out[k],
		        err) == -1)
			goto out;
	}
	if (nmade > 0 && fsync(dst->curfd) == -1) {
		store_seterr(
		    err, "%s/cur: fsync: %s", dst->dir, strerror(errno));
		goto out;
	}
	if (store_mb_update(st, &row, err) == -1 || store_commit(st, err) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	if (ret == -1) {
		if (began)
			store_rollback(st);
		for (k = 0; k < nmade; k++)
			(void)unlinkat(dst->curfd, made[k], 0);
		for (k = 0; k < n; k++)
			uids_out[k] = 0;
	}
	for (k = 0; k < nmade; k++)
		free(made[k]);
	free(made);
	buf_free(&base);
	buf_free(&file);
	errno = saved;
	return ret;
}

int
store_mailbox_move(struct store_mailbox *src, const size_t *idx, size_t n,
    struct store_mailbox *dst, uint32_t *uids_out, struct buf *err)
{
	size_t *gone, k, m = 0;
	int ret;

	if (src == dst || strcmp(src->name, dst->name) == 0) {
		store_seterr(err, "cannot move messages into their own folder");
		errno = EINVAL;
		return -1;
	}
	if (src->read_only) {
		store_seterr(err, "folder %s is open read-only", src->name);
		errno = EROFS;
		return -1;
	}
	if (store_mailbox_copy(src, idx, n, dst, uids_out, err) == -1)
		return -1;
	/* RFC 6851 3.3: then the source messages are expunged; a crash
	 * before this leaves them in both folders, not in neither */
	gone = xreallocarray(NULL, n + 1, sizeof(*gone));
	for (k = 0; k < n; k++)
		if (uids_out[k] != 0)
			gone[m++] = idx[k];
	ret = store_mailbox_expunge(src, gone, m, err);
	free(gone);
	return ret;
}
