/*
 * APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502), APPENDUID (RFC
 * 4315 3), APPENDLIMIT (RFC 7889) and literal8 (RFC 3516 4.3).
 *
 * The reader announces each message literal before its octets
 * (imap_session.c): imap_append_literal() checks the state and the size
 * and opens an unnamed temporary file in the user's tmp/, which the
 * octets stream into (imap_append_data(), on the loop: page-cache writes,
 * no fsync). The line ends are stored as LF, as local delivery and
 * Dovecot (mail_save_crlf=no) store them: readers turn LF back into CRLF,
 * so a message sent with CRLF is given back byte for byte. Once the
 * command is complete, a job appends the files to the mailbox
 * (store_mailbox_append fsyncs each before the tagged OK) and closes them.
 * MULTIAPPEND is all or nothing: everything that can be checked is
 * checked first, and a message that still fails takes the ones already
 * appended out again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap/imap_cmd.h"
#include "imap/imap_flags.h"
#include "imap/imap_job.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_session_private.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

/* The messages of a complete APPEND, owned by its job. */
struct imap_append_ctx {
	struct imap_append_file *files;
	size_t n;
};

/* "tag STATUS text" before the command is parsed: s->cmd is not this
 * command's, the reader knows the tag. */
static void
imap_append_refuse(struct imap_session *s, const char *status, const char *text)
{
	struct imap_slice tag = imap_reader_tag(s->reader);

	imap_reader_literal_refuse(s->reader);
	imap_append_discard(s);
	if (tag.n == 0)
		imap_sendf(s, "* %s %s", status, text);
	else
		imap_sendf(s, "%.*s %s %s", (int)tag.n, tag.p, status, text);
}

/* An unnamed file for a message in <maildir>/tmp: O_TMPFILE, or where
 * the file system has none a named file unlinked at once. */
static int
imap_append_tmpfile(struct imap_session *s)
{
	static unsigned counter;
	char *dir = xasprintf("%s/tmp", s->maildir), *p;
	int fd, saved;

	fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd == -1 &&
	    (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		p = xasprintf("%s/mailwright-append.%ld.%u", dir,
		    (long)getpid(), ++counter);
		fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
		if (fd != -1)
			(void)unlink(p);
		free(p);
	}
	saved = errno;
	free(dir);
	errno = saved;
	return fd;
}

int
imap_append_literal(struct imap_session *s, const struct imap_literal_info *li)
{
	struct imap_append_file *f;

	/* RFC 9051 6.3.12: APPEND needs a login; refused before a byte
	 * is stored, so that nobody fills the disk unauthenticated */
	if (s->state != IMAP_STATE_AUTH && s->state != IMAP_STATE_SELECTED) {
		imap_append_refuse(s, "BAD", "Not logged in.");
		imap_session_error(s);
		return -1;
	}
	/* RFC 7889 4: above APPENDLIMIT, NO [TOOBIG] without reading it
	 * (a non-synchronizing literal's octets are skipped) */
	if (li->size > s->srv->append_limit) {
		imap_append_refuse(s, "NO", "[TOOBIG] Message too large.");
		return -1;
	}
	/* the reader bounds the literals of a command by args_max */
	s->appends =
	    xreallocarray(s->appends, s->nappends + 1, sizeof(*s->appends));
	f = &s->appends[s->nappends++];
	memset(f, 0, sizeof(*f));
	f->size = li->size;
	f->fd = imap_append_tmpfile(s);
	if (f->fd == -1) {
		/* the octets are still read; the APPEND fails with NO */
		f->err = errno;
		log_warn("imap(%s): APPEND: %s/tmp: %m",
		    log_sanitize_str(s->username), s->maildir);
	}
	return 0;
}

/* Writes p[0..n) with each CRLF as LF; a CR at the end waits for the
 * next chunk (last: written as it is). */
static int
imap_append_write(
    struct imap_append_file *f, const char *p, size_t n, bool last)
{
	char *out = xmalloc(n + 2);
	size_t i, o = 0;
	int ret, saved;

	if (f->cr && (n > 0 || last)) {
		if (n == 0 || p[0] != '\n')
			out[o++] = '\r';
		f->cr = false;
	}
	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 == n && !last) {
			f->cr = true;
			break;
		}
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		out[o++] = p[i];
	}
	ret = o > 0 ? write_full(f->fd, out, o) : 0;
	saved = errno;
	free(out);
	errno = saved;
	return ret;
}

void
imap_append_data(struct imap_session *s, struct imap_slice chunk, bool last)
{
	struct imap_append_file *f;

	MW_ASSERT(s->nappends > 0);
	f = &s->appends[s->nappends - 1];
	f->got += chunk.n;
	MW_ASSERT(f->got <= f->size);
	if (f->err != 0)
		return;
	if (imap_append_write(f, chunk.p, chunk.n, last) == -1) {
		f->err = errno;
		log_warn("imap(%s): APPEND: writing a temporary file: %m",
		    log_sanitize_str(s->username));
	}
}

static void
imap_append_files_close(struct imap_append_file *files, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (files[k].fd != -1)
			(void)close(files[k].fd);
	free(files);
}

void
imap_append_discard(struct imap_session *s)
{
	imap_append_files_close(s->appends, s->nappends);
	s->appends = NULL;
	s->nappends = 0;
}

static void
imap_append_ctx_free(struct imap_job *j)
{
	struct imap_append_ctx *x = j->ctx;

	imap_append_files_close(x->files, x->n);
	free(x);
}

/* The NO for a store error of errno e. */
static void
imap_append_fail(struct imap_job *j, int e)
{
	if (e == ENOSPC || e == EDQUOT)
		/* RFC 5530 3 */
		imap_job_tagged(j, "NO", "[OVERQUOTA] Not enough disk space.");
	else
		imap_job_store_error(j, "APPEND");
}

/* RFC 3502 6: takes out again the n messages of a MULTIAPPEND that
 * were appended before one failed. */
static void
imap_append_rollback(struct imap_job *j, struct store_mailbox *dst,
    const uint32_t *uids, size_t n)
{
	size_t *idx, k, m = 0;
	struct buf err;

	if (n == 0)
		return;
	buf_init(&err, 1024);
	idx = xreallocarray(NULL, n, sizeof(*idx));
	if (store_mailbox_sync(dst, NULL, &err) == 0) {
		for (k = 0; k < n; k++)
			if ((idx[m] = store_mailbox_find_uid(dst, uids[k])) !=
			    SIZE_MAX)
				m++;
		if (store_mailbox_expunge(dst, idx, m, &err) == 0)
			goto out;
	}
	log_warn("imap(%s): MULTIAPPEND: cannot take back %zu messages: %s",
	    log_sanitize_str(j->s->username), n, buf_cstr(&err));
out:
	free(idx);
	buf_free(&err);
}

/* What can be checked before anything is appended; -1 after a reply. */
static int
imap_append_check(struct imap_job *j)
{
	const struct imap_command *c = j->s->cmd;
	struct imap_append_ctx *x = j->ctx;
	size_t k;

	for (k = 0; k < x->n; k++) {
		if (x->files[k].err != 0) {
			(void)!buf_printf(&j->err, "temporary file: %s",
			    strerror(x->files[k].err));
			imap_append_fail(j, x->files[k].err);
			return -1;
		}
		if (c->u.append.msgs[k].size == 0) {
			/* Dovecot's answer: an empty message is no message */
			imap_job_tagged(
			    j, "NO", "Can't save a zero byte message.");
			return -1;
		}
	}
	return 0;
}

static int
imap_append_open(struct imap_job *j, struct store_mailbox **dst)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	const char *why;
	struct buf name;
	int ret = -1;

	buf_init(&name, 4096);
	if (imap_mbox_from_client(s, c->u.append.mbox.name, &name, &why) ==
	    -1) {
		imap_job_tagged(j, "NO", "[CANNOT] %s", why);
		goto out;
	}
	if (store_mailbox_open(
	        s->store, buf_cstr(&name), false, dst, &j->err) == -1) {
		/* RFC 9051 6.3.12: TRYCREATE when it does not exist */
		if (errno == ENOENT)
			imap_job_tagged(
			    j, "NO", "[TRYCREATE] Mailbox doesn't exist.");
		else if (errno == EINVAL)
			imap_job_tagged(
			    j, "NO", "[CANNOT] %s", buf_cstr(&j->err));
		else
			imap_job_store_error(j, "APPEND");
		goto out;
	}
	ret = 0;
out:
	buf_free(&name);
	return ret;
}

static void
imap_append_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	struct imap_append_ctx *x = j->ctx;
	struct store_mailbox *dst = NULL;
	uint32_t *uids = NULL, *kw = NULL;
	struct buf code;
	size_t k;

	buf_init(&code, 1024 * 1024);
	if (imap_append_check(j) == -1 || imap_append_open(j, &dst) == -1)
		goto out;
	uids = xreallocarray(NULL, x->n, sizeof(*uids));
	kw = xreallocarray(NULL, x->n, sizeof(*kw));
	for (k = 0; k < x->n; k++)
		if (imap_job_keywords(
		        j, dst, &c->u.append.msgs[k].flags, true, &kw[k], NULL) ==
		    -1)
			goto out;
	for (k = 0; k < x->n; k++) {
		const struct imap_append_msg *m = &c->u.append.msgs[k];
		struct store_append a = { 0 };

		a.fd = x->files[k].fd;
		a.flags = imap_flags_to_store(m->flags.sys);
		a.keywords = kw[k];
		/* RFC 9051 6.3.12: the date-time given, else now (0); the
		 * store keeps dates after 1970 */
		if (m->has_date) {
			a.internaldate = imap_date_time_epoch(&m->date);
			if (a.internaldate <= 0)
				a.internaldate = 1;
		}
		if (store_mailbox_append(dst, &a, &uids[k], &j->err) == -1) {
			int e = errno;

			imap_append_rollback(j, dst, uids, k);
			imap_append_fail(j, e);
			goto out;
		}
	}
	/* RFC 4315 3: APPENDUID uidvalidity uid-set (RFC 3502: several) */
	(void)!buf_printf(
	    &code, "[APPENDUID %u ", store_mailbox_uidvalidity(dst));
	(void)!imap_uidset_append(&code, uids, x->n);
	(void)!buf_append_str(&code, "] ");
	/* RFC 9051 6.3.12: appended to the selected mailbox, the client
	 * learns of it (EXISTS) from the sync before the OK */
	if (s->state == IMAP_STATE_SELECTED && imap_job_sync(j) == -1)
		log_warn("imap(%s): APPEND: sync failed: %s",
		    log_sanitize_str(s->username), buf_cstr(&j->err));
	imap_job_tagged(j, "OK", "%sAppend completed.", buf_cstr(&code));
out:
	free(kw);
	free(uids);
	store_mailbox_close(&dst);
	buf_free(&code);
	store_shrink(s->store);
}

void
imap_cmd_append(struct imap_session *s, const struct imap_command *c)
{
	struct imap_append_ctx *x = xcalloc(1, sizeof(*x));
	struct imap_job *j;

	/* every message literal of APPEND streams (imap_session_literal) */
	MW_ASSERT(s->nappends == c->u.append.n);
	x->files = s->appends;
	x->n = s->nappends;
	s->appends = NULL;
	s->nappends = 0;
	j = imap_job_new(s, imap_append_run, x);
	j->free = imap_append_ctx_free;
	imap_job_submit(j);
}
