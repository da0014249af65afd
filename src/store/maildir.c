/*
 * Maildir++ creation, file names and exactly-once delivery (see maildir.h).
 * Every step below the Maildir/ directory goes through directory
 * descriptors opened with O_NOFOLLOW, so a symbolic link planted inside a
 * mailbox cannot redirect a delivery.
 */
#include "store/maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#define MAILDIR_COPY_CHUNK ((size_t)256 * 1024)
#define MAILDIR_DIR_FLAGS  (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static const char *const maildir_subdirs[] = { "tmp", "new", "cur" };

/* Absolute, no empty, "." or ".." components, no control bytes. */
static bool
maildir_path_ok(const char *p)
{
	const char *c, *e;
	size_t n;

	if (p == NULL || p[0] != '/' || p[1] == '\0')
		return false;
	for (c = p + 1; *c != '\0'; c = *e == '/' ? e + 1 : e) {
		e = strchrnul(c, '/');
		n = (size_t)(e - c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		for (; c < e; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return false;
	}
	return true;
}

/* True when path/{tmp,new,cur} are all real directories. */
static bool
maildir_complete(const char *path)
{
	struct stat st;
	size_t i;
	int dfd;
	bool ok = true;

	dfd = open(path, MAILDIR_DIR_FLAGS);
	if (dfd == -1)
		return false;
	for (i = 0; i < MW_NELEM(maildir_subdirs) && ok; i++)
		ok = fstatat(dfd, maildir_subdirs[i], &st,
		         AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode);
	(void)close(dfd);
	return ok;
}

/* mkdir that reports whether it created the directory. */
static int
maildir_mkdir(const char *path, bool *created)
{
	if (mkdir(path, 0700) == 0) {
		*created = true;
		return 0;
	}
	return errno == EEXIST ? 0 : -1;
}

int
maildir_ensure(const char *path)
{
	char *p, *s, *sub = NULL;
	bool created, sync_path = false;
	int ret = -1, saved;
	size_t i;

	if (!maildir_path_ok(path)) {
		errno = EINVAL;
		return -1;
	}
	if (maildir_complete(path))
		return 0;
	p = xstrdup(path);
	/* Each prefix in turn; the parent of a new directory is fsynced so
	 * that the new entry survives a crash. */
	for (s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s != NULL)
			*s = '\0';
		created = false;
		if (maildir_mkdir(p, &created) == -1)
			goto out;
		if (created) {
			char *slash = strrchr(p, '/');
			char c = slash[1];

			slash[1] = '\0'; /* the parent ("/" stays "/") */
			if (fsync_dir(p) == -1)
				goto out;
			slash[1] = c;
		}
		if (s == NULL || s[1] == '\0')
			break;
		*s = '/';
	}
	for (i = 0; i < MW_NELEM(maildir_subdirs); i++) {
		free(sub);
		sub = xasprintf("%s/%s", path, maildir_subdirs[i]);
		if (maildir_mkdir(sub, &sync_path) == -1)
			goto out;
	}
	if (sync_path && fsync_dir(path) == -1)
		goto out;
	if (!maildir_complete(path)) {
		errno = ENOTDIR; /* a symbolic link or a file in the way */
		goto out;
	}
	ret = 0;
out:
	saved = errno;
	free(sub);
	free(p);
	errno = saved;
	return ret;
}

int
maildir_name(struct buf *out, uint64_t sec, uint64_t usec, const char *queue_id,
    size_t rcpt, size_t dest, const char *hostname)
{
	size_t start = out->len;
	const char *h;

	if (buf_printf(out, "%llu.M%lluQ%sR%zu", (unsigned long long)sec,
	        (unsigned long long)usec, queue_id, rcpt) == -1)
		return -1;
	if (dest != MAILDIR_NO_DEST && buf_printf(out, ".%zu", dest) == -1)
		return -1;
	if (buf_append_char(out, '.') == -1)
		return -1;
	for (h = hostname; *h != '\0'; h++) {
		int r;

		/* maildir(5): "/" and ":" in the host name are written in
		 * octal; "," too, as Maildir++ uses it to separate fields. */
		if (*h == '/' || *h == ':' || *h == ',')
			r = buf_printf(out, "\\%03o", (unsigned char)*h);
		else
			r = buf_append_char(out, *h);
		if (r == -1)
			return -1;
	}
	if (!fs_component_ok(out->data + start) ||
	    strpbrk(out->data + start, ":,") != NULL ||
	    strlen(out->data + start) + 32 > 255) { /* room for ,S= and :2, */
		buf_truncate(out, start);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* An entry is a copy of name when it is name itself or name followed by
 * Maildir++ fields (",S=...", ",W=...") or flags (":2,..."). */
static bool
maildir_entry_is(const char *entry, const char *name, size_t nlen)
{
	return strncmp(entry, name, nlen) == 0 &&
	    (entry[nlen] == '\0' || entry[nlen] == ',' || entry[nlen] == ':');
}

/* Scans directory dfd for a copy of name: 1 found, 0 not, -1 error. */
static int
maildir_scan(int dfd, const char *name)
{
	size_t nlen = strlen(name);
	struct dirent *de;
	DIR *d;
	int fd, found = 0, saved;

	if ((fd = dup(dfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	rewinddir(d);
	errno = 0;
	while ((de = readdir(d)) != NULL)
		if (maildir_entry_is(de->d_name, name, nlen)) {
			found = 1;
			break;
		}
	if (de == NULL && errno != 0)
		found = -1;
	saved = errno;
	(void)closedir(d);
	errno = saved;
	return found;
}

/* Adds the bare LFs of p[0..n) to *lf; *prev is the byte before p. */
static void
maildir_count_lf(const char *p, size_t n, char *prev, uint64_t *lf)
{
	const char *e = p + n, *nl;

	while ((nl = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		if ((nl == p ? *prev : nl[-1]) != '\r')
			(*lf)++;
		p = nl + 1;
	}
	if (n > 0)
		*prev = e[-1];
}

/* Copies len bytes at off of src to the end of dst, counting bare LFs:
 * the bytes pass through here (not copy_file_range) for that count. */
static int
maildir_copy(
    int src, uint64_t off, uint64_t len, int dst, char *prev, uint64_t *lf)
{
	char *chunk = xmalloc(MAILDIR_COPY_CHUNK);
	int ret = -1, saved;

	while (len > 0) {
		ssize_t n = pread(src, chunk,
		    len < MAILDIR_COPY_CHUNK ? (size_t)len : MAILDIR_COPY_CHUNK,
		    (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* shorter than it said */
			goto out;
		}
		maildir_count_lf(chunk, (size_t)n, prev, lf);
		if (write_full(dst, chunk, (size_t)n) == -1)
			goto out;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	ret = 0;
out:
	saved = errno;
	free(chunk);
	errno = saved;
	return ret;
}

/* Writes tmp/<file> completely and durably; *vsize_out is its size with
 * CRLF line ends. A file of that name left by a crashed attempt of this
 * same delivery is replaced. */
static int
maildir_write_tmp(int tmpfd, const char *file, const struct maildir_msg *m,
    uint64_t *vsize_out)
{
	int fd, ret = -1, saved;
	uint64_t lf = 0;
	char prev = 0;

	fd = openat(tmpfd, file,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 && errno == EEXIST) {
		if (unlinkat(tmpfd, file, 0) == -1)
			return -1;
		fd = openat(tmpfd, file,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd == -1)
		return -1;
	if (m->prefix_len > 0) {
		maildir_count_lf(m->prefix, m->prefix_len, &prev, &lf);
		if (write_full(fd, m->prefix, m->prefix_len) == -1)
			goto out;
	}
	if (maildir_copy(m->src_fd, m->src_off, m->src_len, fd, &prev, &lf) ==
	    -1)
		goto out;
	if (fdatasync(fd) == -1)
		goto out;
	*vsize_out = m->prefix_len + m->src_len + lf;
	ret = 0;
out:
	saved = errno;
	(void)close(fd);
	if (ret == -1)
		(void)unlinkat(tmpfd, file, 0);
	errno = saved;
	return ret;
}

int
maildir_deliver(const struct maildir_msg *m, bool *existed_out)
{
	int dfd = -1, fds[3] = { -1, -1, -1 }, ret = -1, saved, found;
	int *tmpfd = &fds[0], *newfd = &fds[1], *curfd = &fds[2];
	char *file = NULL, *final = NULL;
	uint64_t vsize = 0;
	struct stat st;
	bool existed = false;
	size_t i;

	if (!maildir_path_ok(m->maildir) || !fs_component_ok(m->name) ||
	    strpbrk(m->name, ":,") != NULL) {
		errno = EINVAL;
		return -1;
	}
	/* Maildir++: the size in the name lets readers skip a stat(); the
	 * tmp/ file has only S=, the CRLF size W= is known once written */
	file = xasprintf("%s,S=%llu", m->name,
	    (unsigned long long)(m->prefix_len + m->src_len));
	if ((dfd = open(m->maildir, MAILDIR_DIR_FLAGS)) == -1)
		goto out;
	for (i = 0; i < MW_NELEM(maildir_subdirs); i++)
		if ((fds[i] = openat(
		         dfd, maildir_subdirs[i], MAILDIR_DIR_FLAGS)) == -1)
			goto out;
	/* An earlier attempt's copy, left where it put it; that attempt may
	 * have died before removing its tmp/ file or fsyncing new/. Copies
	 * made before W= was written have the tmp/ name in new/. */
	if (fstatat(*newfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		existed = true;
		goto found;
	}
	if (errno != ENOENT)
		goto out;
	if (m->check_cur) {
		/* A retry: the copy may be in new/ as <name>,S=..,W=.., or a
		 * client may have moved it to cur/, adding ":2,<flags>" and
		 * perhaps fields of its own. */
		for (i = 1; i < MW_NELEM(fds); i++) {
			if ((found = maildir_scan(fds[i], m->name)) == -1)
				goto out;
			if (found) {
				existed = true;
				if (i == 2)
					newfd = curfd; /* fsync that one */
				goto found;
			}
		}
	}
	if (maildir_write_tmp(*tmpfd, file, m, &vsize) == -1)
		goto out;
	final = xasprintf("%s,W=%llu", file, (unsigned long long)vsize);
	/* link(), not rename(): EEXIST tells us a copy is already there
	 * (a first attempt that died after linking: the same name, as the
	 * same bytes give the same W=) */
	if (linkat(*tmpfd, file, *newfd, final, 0) == -1) {
		if (errno != EEXIST) {
			saved = errno;
			(void)unlinkat(*tmpfd, file, 0);
			errno = saved;
			goto out;
		}
		existed = true;
	}
found:
	(void)unlinkat(*tmpfd, file, 0);
	if (fsync(*newfd) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	for (i = 0; i < MW_NELEM(fds); i++)
		if (fds[i] != -1)
			(void)close(fds[i]);
	if (dfd != -1)
		(void)close(dfd);
	free(file);
	free(final);
	if (ret == 0 && existed_out != NULL)
		*existed_out = existed;
	errno = saved;
	return ret;
}
