/*
 * maildrop files (see maildrop.h and docs/queue.md): the record encoder
 * and its strict decoder, the checks of header and trailer, and the
 * writer sendmail uses. The reader side that turns a file into a queue
 * file is pickup.c.
 *
 * The layout copies the queue file's: the message first (its length is
 * known only at the end of the input), then the record, then a trailer
 * with both lengths and a checksum, so that a file cut at any length is
 * refused. A hostile local user can of course write a well-formed file;
 * the checks keep a malformed one from doing more than land in corrupt/,
 * and the queue manager never trusts more of a file than its owner could
 * have typed into sendmail.
 */
#include "queue/maildrop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

#define MAILDROP_VERSION    1
#define MAILDROP_NONCE_SIZE 8
#define MAILDROP_WBUF_SIZE  ((size_t)64 * 1024)
#define MAILDROP_TRIES      10

static const char maildrop_hex[] = "0123456789abcdef";

static bool
maildrop_hex_n(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

bool
maildrop_name_valid(const char *name)
{
	return strnlen(name, MAILDROP_NAME_LEN + 1) == MAILDROP_NAME_LEN &&
	    maildrop_hex_n(name, MAILDROP_NAME_LEN);
}

bool
maildrop_tmp_name_valid(const char *name)
{
	return name[0] == 't' && name[1] == '.' &&
	    strnlen(name + 2, MAILDROP_NAME_LEN + 1) == MAILDROP_NAME_LEN &&
	    maildrop_hex_n(name + 2, MAILDROP_NAME_LEN);
}

static void
maildrop_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
maildrop_put_be64(unsigned char *p, uint64_t v)
{
	maildrop_put_be32(p, (uint32_t)(v >> 32));
	maildrop_put_be32(p + 4, (uint32_t)v);
}

static uint32_t
maildrop_get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
maildrop_get_be64(const unsigned char *p)
{
	return (uint64_t)maildrop_get_be32(p) << 32 | maildrop_get_be32(p + 4);
}

/* FNV-1a 64 over header, record and trailer[0..32): catches torn and
 * damaged files (the random nonce keeps a message that ends in a copy of
 * another file's record and trailer from passing). */
static uint64_t
maildrop_checksum(const unsigned char *head, const void *rec, size_t len,
    const unsigned char *tail)
{
	const unsigned char *parts[3] = { head, rec, tail };
	size_t lens[3] = { MAILDROP_HEAD_SIZE, len, MAILDROP_TAIL_SIZE - 8 };
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i, k;

	for (i = 0; i < 3; i++)
		for (k = 0; k < lens[i]; k++) {
			h ^= parts[i][k];
			h *= 0x100000001b3ULL;
		}
	return h;
}

/* ---- the record -------------------------------------------------------- */

static bool
maildrop_must_escape(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '%';
}

static int
maildrop_put_str(struct buf *out, const char *key, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

	if (buf_append_str(out, key) == -1 || buf_append_char(out, ' ') == -1)
		return -1;
	for (; *p != '\0'; p++) {
		if (!maildrop_must_escape(*p)) {
			if (buf_append_char(out, (char)*p) == -1)
				return -1;
			continue;
		}
		char esc[3] = { '%', "0123456789ABCDEF"[*p >> 4],
			"0123456789ABCDEF"[*p & 15] };
		if (buf_append(out, esc, sizeof(esc)) == -1)
			return -1;
	}
	return buf_append_char(out, '\n');
}

int
maildrop_rec_encode(const struct maildrop_rec *r, struct buf *out)
{
	size_t i;

	if (buf_printf(out, "time %llu %llu\n", (unsigned long long)r->time,
	        (unsigned long long)r->time_usec) == -1 ||
	    maildrop_put_str(out, "sender", r->sender) == -1 ||
	    buf_printf(out, "flags %u\n", r->flags) == -1 ||
	    maildrop_put_str(out, "fullname", r->fullname) == -1 ||
	    buf_printf(out, "nrcpt %zu\n", r->nrcpt) == -1)
		return -1;
	for (i = 0; i < r->nrcpt; i++)
		if (maildrop_put_str(out, "rcpt", r->rcpts[i]) == -1)
			return -1;
	return buf_append_str(out, "end\n");
}

struct maildrop_rd {
	const char *p, *end;
	const char *val;
	size_t vlen;
	struct buf *err;
};

static int
maildrop_fail(struct maildrop_rd *rd, const char *what, const char *key)
{
	if (rd->err != NULL) {
		buf_reset(rd->err);
		(void)!buf_printf(rd->err, "maildrop record: %s%s%s", what,
		    key != NULL ? ": " : "", key != NULL ? key : "");
	}
	errno = EBADMSG;
	return -1;
}

static int
maildrop_line(struct maildrop_rd *rd, const char *key)
{
	size_t klen = strlen(key);
	const char *nl = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));

	if (nl == NULL)
		return maildrop_fail(rd, "truncated before", key);
	if ((size_t)(nl - rd->p) < klen + 1 || memcmp(rd->p, key, klen) != 0 ||
	    rd->p[klen] != ' ')
		return maildrop_fail(rd, "expected field", key);
	rd->val = rd->p + klen + 1;
	rd->vlen = (size_t)(nl - rd->val);
	rd->p = nl + 1;
	return 0;
}

static int
maildrop_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* the encoder writes upper case only */
}

/* Unescapes the value of the line just read into strs (NUL-terminated),
 * at most max bytes; *off_out is where it starts. */
static int
maildrop_str(struct maildrop_rd *rd, const char *key, size_t max,
    struct buf *strs, size_t *off_out)
{
	size_t i, start = strs->len;

	if (maildrop_line(rd, key) == -1)
		return -1;
	*off_out = start;
	for (i = 0; i < rd->vlen; i++) {
		unsigned char c = (unsigned char)rd->val[i];
		int hi, lo;

		if (c == '%') {
			if (rd->vlen - i < 3 ||
			    (hi = maildrop_hexval(rd->val[i + 1])) < 0 ||
			    (lo = maildrop_hexval(rd->val[i + 2])) < 0)
				return maildrop_fail(rd, "bad escape in", key);
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			/* a %XX must stand for a byte that needs it */
			if (!maildrop_must_escape(c))
				return maildrop_fail(rd, "bad escape in", key);
			if (c == '\0')
				return maildrop_fail(rd, "NUL in", key);
		} else if (maildrop_must_escape(c))
			return maildrop_fail(rd, "unescaped byte in", key);
		if (strs->len - start >= max)
			return maildrop_fail(rd, "too long", key);
		if (buf_append_char(strs, (char)c) == -1)
			return maildrop_fail(rd, "too long", key);
	}
	if (buf_append_char(strs, '\0') == -1)
		return maildrop_fail(rd, "too long", key);
	return 0;
}

/* An address must be what mailaddr_normalize() makes of it: sendmail
 * writes normal forms, so anything else did not come from it. */
static bool
maildrop_addr_ok(const char *a, bool empty_ok)
{
	char *norm;
	bool ok;

	if (a[0] == '\0')
		return empty_ok;
	if ((norm = mailaddr_normalize(a)) == NULL)
		return false;
	ok = strcmp(norm, a) == 0 && strchr(a, '@') != NULL;
	free(norm);
	return ok;
}

static bool
maildrop_fullname_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

struct maildrop_rec *
maildrop_rec_decode(const char *p, size_t n, struct buf *err)
{
	struct maildrop_rd rd = { p, p + n, NULL, 0, err };
	struct maildrop_rec tmpl, *r = NULL;
	size_t sender_off, name_off, *offs = NULL, i, at;
	const char **rcpts;
	uint64_t v, nrcpt;
	struct buf strs;
	char *mem, *s;
	int saved;

	memset(&tmpl, 0, sizeof(tmpl));
	if (n > MAILDROP_RECORD_MAX) {
		(void)maildrop_fail(&rd, "too long", NULL);
		return NULL;
	}
	buf_init(&strs, n + 1); /* unescaping never grows a string */
	if (maildrop_line(&rd, "time") == -1)
		goto out;
	{
		const char *sp = memchr(rd.val, ' ', rd.vlen);
		size_t l1 = sp != NULL ? (size_t)(sp - rd.val) : rd.vlen;

		if (sp == NULL ||
		    parse_uint_n(rd.val, l1, 0, UINT64_MAX, &tmpl.time) == -1 ||
		    parse_uint_n(sp + 1, rd.vlen - l1 - 1, 0, 999999,
		        &tmpl.time_usec) == -1) {
			(void)maildrop_fail(&rd, "bad value in", "time");
			goto out;
		}
	}
	if (maildrop_str(
	        &rd, "sender", MAILDROP_ADDR_MAX, &strs, &sender_off) == -1)
		goto out;
	if (maildrop_line(&rd, "flags") == -1 ||
	    parse_uint_n(rd.val, rd.vlen, 0, MAILDROP_F_ALL, &v) == -1) {
		(void)maildrop_fail(&rd, "bad value in", "flags");
		goto out;
	}
	tmpl.flags = (unsigned)v;
	if (maildrop_str(
	        &rd, "fullname", MAILDROP_FULLNAME_MAX, &strs, &name_off) == -1)
		goto out;
	/* each rcpt line takes at least 8 bytes ("rcpt a@b\n" is 9) */
	if (maildrop_line(&rd, "nrcpt") == -1 ||
	    parse_uint_n(rd.val, rd.vlen, 1, (uint64_t)(rd.end - rd.p) / 8 + 1,
	        &nrcpt) == -1) {
		(void)maildrop_fail(&rd, "bad value in", "nrcpt");
		goto out;
	}
	offs = xreallocarray(NULL, (size_t)nrcpt, sizeof(*offs));
	for (i = 0; i < nrcpt; i++)
		if (maildrop_str(
		        &rd, "rcpt", MAILDROP_ADDR_MAX, &strs, &offs[i]) == -1)
			goto out;
	if ((size_t)(rd.end - rd.p) != 4 || memcmp(rd.p, "end\n", 4) != 0) {
		(void)maildrop_fail(&rd, "expected", "end");
		goto out;
	}
	if (!maildrop_addr_ok(strs.data + sender_off, true)) {
		(void)maildrop_fail(&rd, "bad address in", "sender");
		goto out;
	}
	if (!maildrop_fullname_ok(strs.data + name_off)) {
		(void)maildrop_fail(&rd, "control character in", "fullname");
		goto out;
	}
	for (i = 0; i < nrcpt; i++)
		if (!maildrop_addr_ok(strs.data + offs[i], false)) {
			(void)maildrop_fail(&rd, "bad address in", "rcpt");
			goto out;
		}
	/* one allocation: the struct, the pointers, the strings */
	at = sizeof(*r) + alignof(char *) - 1;
	at -= at % alignof(char *);
	mem = xmalloc(at + (size_t)nrcpt * sizeof(char *) + strs.len + 1);
	r = (struct maildrop_rec *)(void *)mem;
	rcpts = (const char **)(void *)(mem + at);
	s = mem + at + (size_t)nrcpt * sizeof(char *);
	memcpy(s, strs.data, strs.len);
	s[strs.len] = '\0';
	*r = tmpl;
	r->sender = s + sender_off;
	r->fullname = s + name_off;
	for (i = 0; i < nrcpt; i++)
		rcpts[i] = s + offs[i];
	r->rcpts = rcpts;
	r->nrcpt = (size_t)nrcpt;
out:
	saved = errno;
	free(offs);
	buf_free(&strs);
	errno = saved;
	return r;
}

void
maildrop_rec_free(struct maildrop_rec **r)
{
	free(*r);
	*r = NULL;
}

/* ---- the file ---------------------------------------------------------- */

static int
maildrop_bad(struct buf *err, int e, const char *why)
{
	if (err != NULL) {
		buf_reset(err);
		(void)!buf_printf(err, "%s", why);
	}
	errno = e;
	return -1;
}

/* Header and trailer against the file size: M and R out. */
static int
maildrop_check(const unsigned char *head, const unsigned char *tail,
    uint64_t size, uint64_t msg_max, uint64_t *m_out, uint64_t *r_out,
    struct buf *err)
{
	uint64_t m, r, room;

	if (size < MAILDROP_HEAD_SIZE + MAILDROP_TAIL_SIZE)
		return maildrop_bad(
		    err, EBADMSG, "torn or damaged (too short)");
	if (memcmp(head, "MWMD", 4) != 0)
		return maildrop_bad(err, EBADMSG, "not a maildrop file");
	if (maildrop_get_be32(head + 4) != MAILDROP_VERSION)
		return maildrop_bad(
		    err, ENOTSUP, "unknown maildrop file version");
	if (memcmp(tail, "MWMT", 4) != 0 ||
	    memcmp(tail + 8, head + 8, MAILDROP_NONCE_SIZE) != 0)
		return maildrop_bad(
		    err, EBADMSG, "torn or damaged (no trailer)");
	if (maildrop_get_be32(tail + 4) != MAILDROP_VERSION)
		return maildrop_bad(
		    err, ENOTSUP, "unknown maildrop file version in trailer");
	room = size - MAILDROP_HEAD_SIZE - MAILDROP_TAIL_SIZE;
	m = maildrop_get_be64(tail + 16);
	r = maildrop_get_be64(tail + 24);
	if (m > room || r != room - m || r > MAILDROP_RECORD_MAX)
		return maildrop_bad(err, EBADMSG, "torn or damaged (sizes)");
	if (m > msg_max)
		return maildrop_bad(
		    err, EBADMSG, "message larger than message_size_limit");
	*m_out = m;
	*r_out = r;
	return 0;
}

/* Checksum and record. */
static struct maildrop_rec *
maildrop_finish(const unsigned char *head, const unsigned char *tail,
    const char *rec, size_t len, struct buf *err)
{
	struct maildrop_rec *r;
	char *why;

	if (maildrop_checksum(head, rec, len, tail) !=
	    maildrop_get_be64(tail + 32)) {
		(void)maildrop_bad(err, EBADMSG, "torn or damaged (checksum)");
		return NULL;
	}
	if ((r = maildrop_rec_decode(rec, len, err)) == NULL && err != NULL) {
		why = buf_steal(err);
		(void)maildrop_bad(err, EBADMSG, why);
		free(why);
		errno = EBADMSG;
	}
	return r;
}

struct maildrop_rec *
maildrop_image_decode(const char *p, size_t n, uint64_t msg_max,
    uint64_t *msg_len_out, struct buf *err)
{
	const unsigned char *head = (const unsigned char *)p;
	const unsigned char *tail;
	struct maildrop_rec *r;
	uint64_t m, len;

	if (n < MAILDROP_HEAD_SIZE + MAILDROP_TAIL_SIZE) {
		(void)maildrop_bad(err, EBADMSG, "torn or damaged (too short)");
		return NULL;
	}
	tail = head + n - MAILDROP_TAIL_SIZE;
	if (maildrop_check(head, tail, n, msg_max, &m, &len, err) == -1)
		return NULL;
	r = maildrop_finish(
	    head, tail, p + MAILDROP_HEAD_SIZE + m, (size_t)len, err);
	if (r != NULL)
		*msg_len_out = m;
	return r;
}

struct maildrop_rec *
maildrop_file_read(int fd, uint64_t size, uint64_t msg_max,
    uint64_t *msg_len_out, struct buf *err)
{
	unsigned char head[MAILDROP_HEAD_SIZE], tail[MAILDROP_TAIL_SIZE];
	struct maildrop_rec *r = NULL;
	uint64_t m, len;
	char *rec;

	if (size < MAILDROP_HEAD_SIZE + MAILDROP_TAIL_SIZE) {
		(void)maildrop_bad(err, EBADMSG, "torn or damaged (too short)");
		return NULL;
	}
	errno = 0;
	if (pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    pread(fd, tail, sizeof(tail), (off_t)(size - sizeof(tail))) !=
	        (ssize_t)sizeof(tail)) {
		(void)maildrop_bad(err, errno != 0 ? errno : EBADMSG,
		    errno != 0 ? strerror(errno) : "short read");
		return NULL;
	}
	if (maildrop_check(head, tail, size, msg_max, &m, &len, err) == -1)
		return NULL;
	rec = xmalloc((size_t)len + 1);
	errno = 0;
	if (pread(fd, rec, (size_t)len, (off_t)(MAILDROP_HEAD_SIZE + m)) !=
	    (ssize_t)len)
		(void)maildrop_bad(err, errno != 0 ? errno : EBADMSG,
		    errno != 0 ? strerror(errno) : "short read");
	else if ((r = maildrop_finish(head, tail, rec, (size_t)len, err)) !=
	    NULL)
		*msg_len_out = m;
	free(rec);
	return r;
}

/* ---- writing ----------------------------------------------------------- */

struct maildrop_msg {
	char *dir; /* <queue_dir>/maildrop */
	char *tmp; /* dir/t.<hex> */
	char name[MAILDROP_NAME_LEN + 1];
	int fd;
	unsigned char head[MAILDROP_HEAD_SIZE];
	char *wbuf;
	size_t wlen;
	uint64_t size;
	int err;
	bool committed;
};

/* 128 random bits as hex: the name is the only thing that keeps other
 * local users from a file they could otherwise read (the directory is
 * not listable), so there is no fallback to a weaker source. */
static int
maildrop_random_name(char *out)
{
	unsigned char r[MAILDROP_NAME_LEN / 2];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	for (i = 0; i < sizeof(r); i++) {
		out[2 * i] = maildrop_hex[r[i] >> 4];
		out[2 * i + 1] = maildrop_hex[r[i] & 15];
	}
	out[MAILDROP_NAME_LEN] = '\0';
	return 0;
}

/*
 * Lets reader, and nobody but the owner besides, read the file: a POSIX
 * access ACL (the kernel's xattr form, acl(5): version 2, then entries of
 * tag, permissions and id, little-endian, sorted by tag) of
 *	user::rw- user:<reader>:r-- group::--- mask::r-- other::---
 * The owner of a file may set it without privileges. -1 with errno
 * (EOPNOTSUPP: no ACLs on this file system).
 */
static int
maildrop_acl(int fd, uid_t reader)
{
	static const uint16_t tags[5] = { 0x01, 0x02, 0x04, 0x10, 0x20 };
	static const uint16_t perms[5] = { 6, 4, 0, 4, 0 };
	unsigned char blob[4 + 5 * 8], *p = blob;
	uint32_t id;
	size_t i;

	*p++ = 2, *p++ = 0, *p++ = 0, *p++ = 0;
	for (i = 0; i < 5; i++) {
		id = tags[i] == 0x02 ? (uint32_t)reader : 0xffffffffu;
		*p++ = (unsigned char)tags[i];
		*p++ = (unsigned char)(tags[i] >> 8);
		*p++ = (unsigned char)perms[i];
		*p++ = 0;
		*p++ = (unsigned char)id;
		*p++ = (unsigned char)(id >> 8);
		*p++ = (unsigned char)(id >> 16);
		*p++ = (unsigned char)(id >> 24);
	}
	return fsetxattr(fd, "system.posix_acl_access", blob, sizeof(blob), 0);
}

/* Readable by reader: see maildrop_create(). */
static int
maildrop_share(int fd, uid_t reader)
{
	if (reader == geteuid())
		return fchmod(fd, 0600);
	if (reader != (uid_t)-1 && fchmod(fd, 0600) == 0 &&
	    maildrop_acl(fd, reader) == 0)
		return 0;
	return fchmod(fd, 0644);
}

struct maildrop_msg *
maildrop_create(const char *queue_dir, uid_t reader, struct buf *err)
{
	struct maildrop_msg *md = xcalloc(1, sizeof(*md));
	char name[MAILDROP_NAME_LEN + 1];
	int tries, saved;

	md->fd = -1;
	md->dir = xasprintf("%s/%s", queue_dir, QUEUE_DIR_MAILDROP);
	for (tries = 0; tries < MAILDROP_TRIES; tries++) {
		if (maildrop_random_name(name) == -1)
			break;
		free(md->tmp);
		md->tmp = xasprintf("%s/t.%s", md->dir, name);
		md->fd = open(md->tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (md->fd != -1 || errno != EEXIST)
			break;
	}
	if (md->fd == -1 || maildrop_share(md->fd, reader) == -1) {
		saved = errno;
		if (err != NULL) {
			buf_reset(err);
			(void)!buf_printf(err, "cannot create a file in %s: %s",
			    md->dir, strerror(saved));
		}
		maildrop_free(&md);
		errno = saved;
		return NULL;
	}
	memcpy(md->head, "MWMD", 4);
	maildrop_put_be32(md->head + 4, MAILDROP_VERSION);
	if (getrandom(md->head + 8, MAILDROP_NONCE_SIZE, 0) !=
	    MAILDROP_NONCE_SIZE) {
		saved = errno;
		if (err != NULL) {
			buf_reset(err);
			(void)!buf_printf(
			    err, "getrandom: %s", strerror(saved));
		}
		maildrop_free(&md);
		errno = saved;
		return NULL;
	}
	md->wbuf = xmalloc(MAILDROP_WBUF_SIZE);
	memcpy(md->wbuf, md->head, MAILDROP_HEAD_SIZE);
	md->wlen = MAILDROP_HEAD_SIZE;
	return md;
}

static int
maildrop_flush(struct maildrop_msg *md)
{
	if (md->wlen > 0 && write_full(md->fd, md->wbuf, md->wlen) == -1) {
		md->err = errno;
		return -1;
	}
	md->wlen = 0;
	return 0;
}

int
maildrop_write(struct maildrop_msg *md, const void *p, size_t n)
{
	if (md->err != 0 || md->committed) {
		errno = md->err != 0 ? md->err : EINVAL;
		return -1;
	}
	md->size += n;
	if (md->wlen + n > MAILDROP_WBUF_SIZE && maildrop_flush(md) == -1)
		return -1;
	if (n >= MAILDROP_WBUF_SIZE) {
		if (write_full(md->fd, p, n) == -1) {
			md->err = errno;
			return -1;
		}
		return 0;
	}
	memcpy(md->wbuf + md->wlen, p, n);
	md->wlen += n;
	return 0;
}

uint64_t
maildrop_size(const struct maildrop_msg *md)
{
	return md->size;
}

const char *
maildrop_name(const struct maildrop_msg *md)
{
	return md->committed ? md->name : "";
}

/* Makes the new name in maildrop/ durable. A user other than mail_owner
 * may not read the directory (mode 1733), and open(2) of a directory for
 * fsync needs read permission; then syncfs() on the file's descriptor
 * commits the whole file system, the rename included. */
static int
maildrop_sync_dir(const struct maildrop_msg *md)
{
	if (fsync_dir(md->dir) == 0)
		return 0;
	if (errno != EACCES)
		return -1;
	return syncfs(md->fd);
}

static int
maildrop_fail_errno(struct buf *err, const char *what, const char *path)
{
	int saved = errno;

	if (err != NULL) {
		buf_reset(err);
		(void)!buf_printf(
		    err, "%s %s: %s", what, path, strerror(saved));
	}
	errno = saved;
	return -1;
}

int
maildrop_commit(
    struct maildrop_msg *md, const struct maildrop_rec *r, struct buf *err)
{
	unsigned char tail[MAILDROP_TAIL_SIZE];
	struct buf rec;
	char *dst = NULL;
	int ret = -1, saved;
	bool renamed = false;

	MW_ASSERT(!md->committed);
	buf_init(&rec, MAILDROP_RECORD_MAX);
	if (md->err != 0) {
		errno = md->err;
		(void)maildrop_fail_errno(err, "cannot write", md->tmp);
		goto out;
	}
	if (maildrop_rec_encode(r, &rec) == -1) {
		(void)maildrop_bad(err, ENOBUFS,
		    "too many recipients (the list must fit in 4 MiB)");
		goto out;
	}
	memcpy(tail, "MWMT", 4);
	maildrop_put_be32(tail + 4, MAILDROP_VERSION);
	memcpy(tail + 8, md->head + 8, MAILDROP_NONCE_SIZE);
	maildrop_put_be64(tail + 16, md->size);
	maildrop_put_be64(tail + 24, rec.len);
	maildrop_put_be64(
	    tail + 32, maildrop_checksum(md->head, rec.data, rec.len, tail));
	if (maildrop_flush(md) == -1 ||
	    write_full(md->fd, rec.data, rec.len) == -1 ||
	    write_full(md->fd, tail, sizeof(tail)) == -1 ||
	    fsync(md->fd) == -1) {
		(void)maildrop_fail_errno(err, "cannot write", md->tmp);
		goto out;
	}
	/* The final name: a file that has it is complete. */
	if (maildrop_random_name(md->name) == -1) {
		(void)maildrop_fail_errno(err, "getrandom for", md->tmp);
		goto out;
	}
	dst = xasprintf("%s/%s", md->dir, md->name);
	/* A file system without RENAME_NOREPLACE: 128 random bits do not
	 * collide, and link() would show pickup a second link. */
	if (renameat2(AT_FDCWD, md->tmp, AT_FDCWD, dst, RENAME_NOREPLACE) ==
	        -1 &&
	    ((errno != EINVAL && errno != ENOSYS) ||
	        rename(md->tmp, dst) == -1)) {
		(void)maildrop_fail_errno(err, "cannot rename", md->tmp);
		goto out;
	}
	renamed = true;
	if (maildrop_sync_dir(md) == -1) {
		(void)maildrop_fail_errno(err, "cannot sync", md->dir);
		/* The queue manager may have taken it already: then it is
		 * in the queue (pickup commits before it unlinks). */
		if (unlink(dst) == -1 && errno == ENOENT)
			ret = 0;
		goto out;
	}
	ret = 0;
out:
	saved = errno;
	if (ret == 0) {
		md->committed = true;
		(void)close(md->fd); /* fsynced: close cannot lose data */
		md->fd = -1;
	} else if (!renamed)
		(void)unlink(md->tmp);
	if (ret == -1)
		md->err = saved != 0 ? saved : EIO;
	free(dst);
	buf_free(&rec);
	errno = saved;
	return ret;
}

void
maildrop_free(struct maildrop_msg **mdp)
{
	struct maildrop_msg *md = *mdp;

	if (md == NULL)
		return;
	if (md->fd != -1)
		(void)close(md->fd);
	if (!md->committed && md->tmp != NULL)
		(void)unlink(md->tmp);
	free(md->wbuf);
	free(md->tmp);
	free(md->dir);
	free(md);
	*mdp = NULL;
}
