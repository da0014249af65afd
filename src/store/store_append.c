/*
 * Adding messages to a folder from a session: APPEND (a new file), COPY
 * (hard links), MOVE (copy, then expunge), and keywords by name, which
 * dovecot-keywords numbers per folder. Each call is one write
 * transaction of the index; the files are fsynced, and the directory
 * too, before the commit, so that what the caller is told is durable. A
 * crash before the commit leaves files the next sync gives UIDs to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "store/maildir_name.h"
#include "store/store.h"
#include "store/store_private.h"

#define APPEND_CHUNK ((size_t)64 * 1024)
/* The longest keyword we keep (dovecot-keywords' own limit). */
#define KEYWORD_MAX 255
#define KW_MASK     ((1u << STORE_MAX_KEYWORDS) - 1)

int
store_unique_name(struct buf *out)
{
	static unsigned int counter;
	char host[256];
	struct timespec ts;
	unsigned int q;
	const char *h;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	q = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		(void)snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* Dovecot's "<sec>.M<usec>P<pid>Q<n>.<host>" (maildir(5)) */
	if (buf_printf(out, "%lld.M%ldP%ldQ%u.", (long long)ts.tv_sec,
	        ts.tv_nsec / 1000, (long)getpid(), q) == -1)
		return -1;
	for (h = host; *h != '\0' && h < host + 64; h++) {
		int r;

		/* maildir(5): "/" and ":" in octal, "," too (Maildir++) */
		if (*h == '/' || *h == ':' || *h == ',' ||
		    (unsigned char)*h < 0x21 || (unsigned char)*h > 0x7e)
			r = buf_printf(out, "\\%03o", (unsigned char)*h);
		else
			r = buf_append_char(out, *h);
		if (r == -1)
			return -1;
	}
	return 0;
}

/* Adds the bare LFs of p[0..n) to *lf; *prev is the byte before p. */
static void
append_count_lf(const char *p, size_t n, char *prev, uint64_t *lf)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && *prev != '\r')
			(*lf)++;
		*prev = p[i];
	}
}

/* Writes the message of a to the new file fd: its size and CRLF size. */
static int
append_write(
    int fd, const struct store_append *a, uint64_t *psize, uint64_t *vsize)
{
	uint64_t lf = 0, off = 0;
	char prev = 0, *chunk;
	ssize_t n;
	int ret = -1, saved;

	if (a->fd == -1) {
		append_count_lf(a->data, a->len, &prev, &lf);
		if (a->len > 0 && write_full(fd, a->data, a->len) == -1)
			return -1;
		*psize = a->len;
		*vsize = a->len + lf;
		return 0;
	}
	chunk = xmalloc(APPEND_CHUNK);
	for (;;) {
		n = pread(a->fd, chunk, APPEND_CHUNK, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		append_count_lf(chunk, (size_t)n, &prev, &lf);
		if (write_full(fd, chunk, (size_t)n) == -1)
			goto out;
		off += (uint64_t)n;
	}
	*psize = off;
	*vsize = off + lf;
	ret = 0;
out:
	saved = errno;
	free(chunk);
	errno = saved;
	return ret;
}

/* Opens the folder's tmp/. */
static int
append_tmpdir(struct store_mailbox *mb)
{
	char *p = xasprintf("%s/tmp", mb->dir);
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	free(p);
	return fd;
}

/* Inserts the row of a file just linked into cur/. */
int
store_append_row(struct store_mailbox *mb, struct store_mb_row *row,
    const char *base, const char *file, uint64_t psize, uint64_t vsize,
    uint32_t flags, uint32_t keywords, int64_t date, uint32_t *uid_out,
    struct buf *err)
{
	sqlite3_stmt *s;
	char uidl[71];

	/* RFC 3501 2.3.1.1: UIDs are 32-bit; none left needs a new
	 * UIDVALIDITY, which a rebuild gives */
	if (row->uidnext == UINT32_MAX) {
		store_seterr(err,
		    "%s: no UIDs left (run mailwright index "
		    "rebuild)",
		    mb->dir);
		errno = EOVERFLOW;
		return -1;
	}
	store_uidl_of_base(base, strlen(base), uidl);
	/* RFC 7162 3.1: a new message gets a new mod-sequence */
	row->highestmodseq++;
	s = store_stmt(mb->st, STORE_ST_MSG_ADD);
	(void)sqlite3_bind_int64(s, 1, row->id);
	(void)sqlite3_bind_int64(s, 2, row->uidnext);
	(void)sqlite3_bind_text(s, 3, base, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(s, 4, file, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int(s, 5, 0);
	(void)sqlite3_bind_int64(s, 6, (sqlite3_int64)vsize);
	(void)sqlite3_bind_int64(s, 7, (sqlite3_int64)psize);
	(void)sqlite3_bind_int64(s, 8, flags);
	(void)sqlite3_bind_int64(s, 9, keywords);
	(void)sqlite3_bind_int64(s, 10, date);
	(void)sqlite3_bind_int64(s, 11, (sqlite3_int64)row->highestmodseq);
	(void)sqlite3_bind_text(s, 12, uidl, -1, SQLITE_STATIC);
	if (store_step_done(s) == -1)
		return store_dberr(mb->st, err, "add message");
	*uid_out = row->uidnext++;
	row->gen++;
	return 0;
}

/* The folder's row under the write lock: 0, or -1 (ENOENT: vanished). */
int
store_append_row_get(
    struct store_mailbox *mb, struct store_mb_row *row, struct buf *err)
{
	int r = store_mb_get(mb->st, mb->name, row, err);

	if (r == 0) {
		store_seterr(err, "folder %s vanished", mb->name);
		errno = ENOENT;
	}
	return r == 1 ? 0 : -1;
}

static int
append_writable(struct store_mailbox *mb, struct buf *err)
{
	if (!mb->read_only)
		return 0;
	store_seterr(err, "folder %s is open read-only", mb->name);
	errno = EROFS;
	return -1;
}

int
store_mailbox_append(struct store_mailbox *mb, const struct store_append *a,
    uint32_t *uid_out, struct buf *err)
{
	struct store *st = mb->st;
	struct store_mb_row row;
	struct buf base, file;
	uint64_t psize = 0, vsize = 0;
	int tmpfd = -1, fd = -1, ret = -1, saved;
	bool linked = false, began = false;
	struct timespec ts[2];

	*uid_out = 0;
	if (append_writable(mb, err) == -1)
		return -1;
	buf_init(&base, MAILDIR_NAME_MAX + 1);
	buf_init(&file, MAILDIR_NAME_MAX + 1);
	if ((tmpfd = append_tmpdir(mb)) == -1 ||
	    store_unique_name(&base) == -1) {
		store_seterr(err, "%s/tmp: %s", mb->dir, strerror(errno));
		goto out;
	}
	fd = openat(tmpfd, base.data,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 || append_write(fd, a, &psize, &vsize) == -1 ||
	    fdatasync(fd) == -1) {
		store_seterr(
		    err, "%s/tmp/%s: %s", mb->dir, base.data, strerror(errno));
		goto out;
	}
	/* the internal date lives in the file's mtime (as Dovecot keeps
	 * it; the sync reads it back from there) */
	if (a->internaldate > 0) {
		ts[0].tv_sec = ts[1].tv_sec = (time_t)a->internaldate;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if (futimens(fd, ts) == -1 || fsync(fd) == -1) {
			store_seterr(err, "%s/tmp/%s: %s", mb->dir, base.data,
			    strerror(errno));
			goto out;
		}
	}
	if (maildir_fname_build(&file, base.data, psize, vsize,
	        a->flags & STORE_FLAG_MASK, a->keywords & KW_MASK) == -1) {
		store_seterr(err, "%s: cannot name the new file", mb->dir);
		goto out;
	}
	/* the lock first, so that no sync gives the file a UID of its own
	 * between the link and our row */
	if (store_begin(st, err) == -1)
		goto out;
	began = true;
	if (store_append_row_get(mb, &row, err) == -1)
		goto out;
	if (linkat(tmpfd, base.data, mb->curfd, file.data, 0) == -1) {
		store_seterr(
		    err, "%s/cur/%s: %s", mb->dir, file.data, strerror(errno));
		goto out;
	}
	linked = true;
	if (fsync(mb->curfd) == -1) {
		store_seterr(
		    err, "%s/cur: fsync: %s", mb->dir, strerror(errno));
		goto out;
	}
	if (store_append_row(mb, &row, base.data, file.data, psize, vsize,
	        a->flags & STORE_FLAG_MASK, a->keywords & KW_MASK,
	        a->internaldate > 0 ? a->internaldate : (int64_t)time(NULL),
	        uid_out, err) == -1)
		goto out;
	if (store_mb_update(st, &row, err) == -1 || store_commit(st, err) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	if (ret == -1 && began)
		store_rollback(st);
	if (ret == -1 && linked)
		(void)unlinkat(mb->curfd, file.data, 0);
	if (ret == -1)
		*uid_out = 0;
	if (fd != -1)
		(void)close(fd);
	if (tmpfd != -1) {
		if (base.len > 0)
			(void)unlinkat(tmpfd, base.data, 0);
		(void)close(tmpfd);
	}
	buf_free(&base);
	buf_free(&file);
	errno = saved;
	return ret;
}

/* ---- keywords ---------------------------------------------------------- */

/* RFC 9051 9 flag-keyword: an atom (no "(){ %*\"\\]" or controls), and
 * "\" would make it a system flag. */
static bool
keyword_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > KEYWORD_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

static int
keyword_find(struct store_mailbox *mb, const char *name)
{
	size_t i;

	for (i = 0; i < STORE_MAX_KEYWORDS; i++)
		if (mb->keywords[i] != NULL && ascii_eq(mb->keywords[i], name))
			return (int)i;
	return -1;
}

/* Rereads the keywords from the index (another session may have added
 * some); under the write lock. */
static void
keyword_reload(struct store_mailbox *mb)
{
	sqlite3_stmt *s = store_stmt(mb->st, STORE_ST_KW_LIST);
	const char *name;
	int idx;

	(void)sqlite3_bind_int64(s, 1, mb->row.id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		idx = sqlite3_column_int(s, 0);
		name = (const char *)sqlite3_column_text(s, 1);
		if (idx < 0 || idx >= STORE_MAX_KEYWORDS || name == NULL)
			continue;
		free(mb->keywords[idx]);
		mb->keywords[idx] = xstrdup(name);
	}
	sqlite3_reset(s);
}

/* dovecot-keywords again from the mailbox's list ("<n> <name>" lines). */
static int
keyword_write_file(struct store_mailbox *mb, struct buf *err)
{
	struct buf b;
	char *path;
	size_t i;
	int ret = -1;

	buf_init(&b, (size_t)STORE_MAX_KEYWORDS * (KEYWORD_MAX + 8));
	for (i = 0; i < STORE_MAX_KEYWORDS; i++)
		if (mb->keywords[i] != NULL &&
		    buf_printf(&b, "%zu %s\n", i, mb->keywords[i]) == -1)
			goto out;
	path = xasprintf("%s/dovecot-keywords", mb->dir);
	ret = fs_atomic_write(path, b.data != NULL ? b.data : "", b.len, 0600);
	if (ret == -1)
		store_seterr(err, "%s: %s", path, strerror(errno));
	free(path);
out:
	buf_free(&b);
	return ret;
}

int
store_mailbox_keyword_index(struct store_mailbox *mb, const char *name,
    bool create, size_t *idx_out, struct buf *err)
{
	struct store_mb_row row;
	sqlite3_stmt *s;
	int i, ret = -1, saved;

	if (!keyword_ok(name)) {
		store_seterr(err, "not a keyword (RFC 9051 flag-keyword)");
		errno = EINVAL;
		return -1;
	}
	if ((i = keyword_find(mb, name)) >= 0) {
		*idx_out = (size_t)i;
		return 1;
	}
	if (!create)
		return 0;
	if (append_writable(mb, err) == -1)
		return -1;
	if (store_begin(mb->st, err) == -1)
		return -1;
	if (store_append_row_get(mb, &row, err) == -1)
		goto out;
	keyword_reload(mb);
	if ((i = keyword_find(mb, name)) < 0) {
		for (i = 0; i < STORE_MAX_KEYWORDS; i++)
			if (mb->keywords[i] == NULL)
				break;
		if (i == STORE_MAX_KEYWORDS) {
			/* Maildir has the letters a-z only */
			store_seterr(err, "folder %s has %d keywords already",
			    mb->name, STORE_MAX_KEYWORDS);
			errno = ENOSPC;
			goto out;
		}
		s = store_stmt(mb->st, STORE_ST_KW_ADD);
		(void)sqlite3_bind_int64(s, 1, row.id);
		(void)sqlite3_bind_int64(s, 2, i);
		(void)sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
		if (store_step_done(s) == -1) {
			(void)store_dberr(mb->st, err, "add keyword");
			goto out;
		}
		mb->keywords[i] = xstrdup(name);
		/* before the commit: the letter means this name to mutt and
		 * Dovecot as soon as a file carries it */
		if (keyword_write_file(mb, err) == -1) {
			free(mb->keywords[i]);
			mb->keywords[i] = NULL;
			goto out;
		}
	}
	if (store_commit(mb->st, err) == -1)
		goto out;
	*idx_out = (size_t)i;
	ret = 1;
out:
	saved = errno;
	if (ret == -1)
		store_rollback(mb->st);
	errno = saved;
	return ret;
}
