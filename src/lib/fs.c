/* File-system helpers (see fs.h). */
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

int
write_full(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
read_full(int fd, void *p, size_t n)
{
	char *c = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, c + got, n - got);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
fsync_dir(const char *path)
{
	int fd, ret, saved;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	ret = fsync(fd);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return ret;
}

char *
fs_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
fs_atomic_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp, *dir;
	int fd, ret = -1, saved;

	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	dir = fs_dirname(path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd == -1)
		goto out;
	if (write_full(fd, data, len) == -1 || fsync(fd) == -1)
		goto out;
	if (rename(tmp, path) == -1 || /* commit point */
	    fsync_dir(dir) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	if (fd != -1)
		(void)close(fd);
	if (ret == -1)
		(void)unlink(tmp);
	free(tmp);
	free(dir);
	errno = saved;
	return ret;
}

int
fs_read_file(const char *path, struct buf *out)
{
	char chunk[8192];
	int fd, ret = -1, saved;
	ssize_t r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (r == 0)
			break;
		if (buf_append(out, chunk, (size_t)r) == -1)
			goto out;
	}
	ret = 0;
out:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return ret;
}

int
fs_mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;
	int ret = -1;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST)
			goto out;
		*s = c;
		if (c == '\0')
			break;
	}
	ret = 0;
out:
	free(p);
	return ret;
}

int
fs_rm_rf(const char *path)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret = 0;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *sub = xasprintf("%s/%s", path, de->d_name);
		if (fs_rm_rf(sub) == -1)
			ret = -1;
		free(sub);
	}
	(void)closedir(d);
	if (rmdir(path) == -1)
		ret = -1;
	return ret;
}

bool
fs_component_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0' || *s == '.')
		return false;
	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];
		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return n <= 255;
}

bool
fs_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}
