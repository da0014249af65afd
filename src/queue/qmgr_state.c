/*
 * The delivery state of a deferred message: <queue_dir>/defer/<id>, a small
 * text file replaced atomically after every attempt that leaves recipients
 * deferred. The queue file itself is never modified. Format version 1:
 *
 *	version 1
 *	attempts 3
 *	next_retry 1700000300
 *	nrcpt 4
 *	done 0 2
 *	reason outbound delivery is not available yet
 *
 * "done" lists the envelope recipient indexes that were delivered or
 * dropped. The state only saves work: a recipient missing from "done" is
 * delivered in retry mode, which finds the copy an earlier attempt made.
 *
 * Version 2 (written since outbound delivery) adds, between "done" and
 * "reason", optional lines in this order:
 *
 *	warned                      a delay warning was sent
 *	sent 3 bob@example.org      a remote destination of recipient 3
 *	                            already delivered (never sent again)
 *	why 1 connect to ...        recipient 1's last deferral (mailq)
 *
 * Values are %XX-escaped as in the envelope. Version 1 files are read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "queue/qmgr_private.h"

#define QMGR_STATE_VERSION    2
#define QMGR_STATE_REASON_MAX 1000
#define QMGR_STATE_FILE_MAX   ((size_t)16 * 1024 * 1024)

void
qmgr_state_init(struct qmgr_state *st, size_t nrcpt)
{
	memset(st, 0, sizeof(*st));
	st->nrcpt = nrcpt;
	st->done = xcalloc(nrcpt > 0 ? nrcpt : 1, sizeof(*st->done));
}

void
qmgr_state_free(struct qmgr_state *st)
{
	size_t i;

	for (i = 0; i < st->nsent; i++)
		free(st->sent[i].address);
	free(st->sent);
	if (st->why != NULL)
		for (i = 0; i < st->nrcpt; i++)
			free(st->why[i]);
	free(st->why);
	free(st->done);
	free(st->reason);
	st->done = NULL;
	st->reason = NULL;
	st->sent = NULL;
	st->nsent = 0;
	st->why = NULL;
}

void
qmgr_state_add_sent(struct qmgr_state *st, size_t rcpt, const char *address)
{
	if (qmgr_state_is_sent(st, rcpt, address))
		return;
	st->sent = xreallocarray(st->sent, st->nsent + 1, sizeof(*st->sent));
	st->sent[st->nsent].rcpt = rcpt;
	st->sent[st->nsent].address = xstrdup(address);
	st->nsent++;
}

bool
qmgr_state_is_sent(const struct qmgr_state *st, size_t rcpt,
    const char *address)
{
	size_t i;

	for (i = 0; i < st->nsent; i++)
		if (st->sent[i].rcpt == rcpt &&
		    strcmp(st->sent[i].address, address) == 0)
			return true;
	return false;
}

void
qmgr_state_set_why(struct qmgr_state *st, size_t rcpt, const char *why)
{
	if (rcpt >= st->nrcpt)
		return;
	if (st->why == NULL)
		st->why = xcalloc(st->nrcpt, sizeof(*st->why));
	free(st->why[rcpt]);
	st->why[rcpt] = why != NULL ? xstrdup(why) : NULL;
}

/* %XX for bytes 0x00-0x20, 0x7f and '%' (as the envelope), cut at max. */
static int
qmgr_state_escape(struct buf *out, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '%') {
			if (buf_printf(out, "%%%02X", c) == -1)
				return -1;
		} else if (buf_append_char(out, (char)c) == -1)
			return -1;
	}
	return 0;
}

static int
qmgr_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The inverse; NULL when malformed or holding NUL. */
static char *
qmgr_state_unescape(const char *p, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '%') {
			int h, l;

			if (i + 2 >= n || (h = qmgr_hexval(p[i + 1])) < 0 ||
			    (l = qmgr_hexval(p[i + 2])) < 0 || (h | l) == 0)
				goto bad;
			out[o++] = (char)(h << 4 | l);
			i += 2;
		} else if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)
			goto bad;
		else
			out[o++] = p[i];
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

int
qmgr_state_encode(const struct qmgr_state *st, struct buf *out)
{
	const char *r = st->reason != NULL ? st->reason : "";
	size_t i;

	if (buf_printf(out,
	        "version %d\nattempts %llu\nnext_retry %llu\n"
	        "nrcpt %zu\ndone",
	        QMGR_STATE_VERSION, (unsigned long long)st->attempts,
	        (unsigned long long)st->next_retry, st->nrcpt) == -1)
		return -1;
	for (i = 0; i < st->nrcpt; i++)
		if (st->done[i] && buf_printf(out, " %zu", i) == -1)
			return -1;
	if (buf_append_char(out, '\n') == -1 ||
	    (st->warned && buf_append_str(out, "warned\n") == -1))
		return -1;
	for (i = 0; i < st->nsent; i++)
		if (buf_printf(out, "sent %zu ", st->sent[i].rcpt) == -1 ||
		    qmgr_state_escape(out, st->sent[i].address, 2048) == -1 ||
		    buf_append_char(out, '\n') == -1)
			return -1;
	for (i = 0; st->why != NULL && i < st->nrcpt; i++)
		if (st->why[i] != NULL &&
		    (buf_printf(out, "why %zu ", i) == -1 ||
		        qmgr_state_escape(
		            out, st->why[i], QMGR_STATE_REASON_MAX) == -1 ||
		        buf_append_char(out, '\n') == -1))
			return -1;
	if (buf_append_str(out, "reason ") == -1)
		return -1;
	for (i = 0; r[i] != '\0' && i < QMGR_STATE_REASON_MAX; i++) {
		unsigned char c = (unsigned char)r[i];

		if (buf_append_char(out, c < 0x20 || c == 0x7f ? '?' : r[i]) ==
		    -1)
			return -1;
	}
	return buf_append_char(out, '\n');
}

struct qmgr_state_rd {
	const char *p, *end;
	const char *val;
	size_t vlen;
	struct buf *err;
};

static int
qmgr_state_fail(struct qmgr_state_rd *rd, const char *what)
{
	if (rd->err != NULL) {
		buf_reset(rd->err);
		(void)!buf_printf(rd->err, "delivery state: %s", what);
	}
	errno = EBADMSG;
	return -1;
}

static int
qmgr_state_line(struct qmgr_state_rd *rd, const char *key)
{
	size_t klen = strlen(key);
	const char *nl = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));

	if (nl == NULL || (size_t)(nl - rd->p) < klen ||
	    memcmp(rd->p, key, klen) != 0 ||
	    (rd->p + klen < nl && rd->p[klen] != ' '))
		return qmgr_state_fail(rd, key);
	rd->val = rd->p + klen + (rd->p + klen < nl ? 1 : 0);
	rd->vlen = (size_t)(nl - rd->val);
	rd->p = nl + 1;
	return 0;
}

static int
qmgr_state_uint(
    struct qmgr_state_rd *rd, const char *key, uint64_t max, uint64_t *v_out)
{
	if (qmgr_state_line(rd, key) == -1 ||
	    parse_uint_n(rd->val, rd->vlen, 0, max, v_out) == -1)
		return qmgr_state_fail(rd, key);
	return 0;
}

/* Does the next line start with key and a space (or end there)? */
static bool
qmgr_state_next_is(const struct qmgr_state_rd *rd, const char *key)
{
	size_t klen = strlen(key), left = (size_t)(rd->end - rd->p);

	return left > klen && memcmp(rd->p, key, klen) == 0 &&
	    (rd->p[klen] == ' ' || rd->p[klen] == '\n');
}

/* "N value" of a sent or why line. */
static int
qmgr_state_rcpt_val(struct qmgr_state_rd *rd, const struct qmgr_state *st,
    const char *key, size_t *rcpt_out, char **val_out)
{
	const char *sp;
	uint64_t v;

	if (qmgr_state_line(rd, key) == -1)
		return -1;
	sp = memchr(rd->val, ' ', rd->vlen);
	if (sp == NULL || st->nrcpt == 0 ||
	    parse_uint_n(rd->val, (size_t)(sp - rd->val), 0, st->nrcpt - 1,
	        &v) == -1 ||
	    (*val_out = qmgr_state_unescape(
	         sp + 1, rd->vlen - (size_t)(sp + 1 - rd->val))) == NULL)
		return qmgr_state_fail(rd, key);
	*rcpt_out = (size_t)v;
	return 0;
}

static int
qmgr_state_v2_lines(struct qmgr_state_rd *rd, struct qmgr_state *st)
{
	size_t r;
	char *val;

	if (qmgr_state_next_is(rd, "warned")) {
		if (qmgr_state_line(rd, "warned") == -1)
			return -1;
		st->warned = true;
	}
	while (qmgr_state_next_is(rd, "sent")) {
		if (qmgr_state_rcpt_val(rd, st, "sent", &r, &val) == -1)
			return -1;
		qmgr_state_add_sent(st, r, val);
		free(val);
	}
	while (qmgr_state_next_is(rd, "why")) {
		if (qmgr_state_rcpt_val(rd, st, "why", &r, &val) == -1)
			return -1;
		qmgr_state_set_why(st, r, val);
		free(val);
	}
	return 0;
}

int
qmgr_state_decode(
    const char *p, size_t n, struct qmgr_state *st, struct buf *err)
{
	struct qmgr_state_rd rd = { p, p + n, NULL, 0, err };
	uint64_t v, version;
	const char *s, *e;
	size_t i;

	if (qmgr_state_uint(&rd, "version", UINT64_MAX, &v) == -1)
		return -1;
	if (v != 1 && v != QMGR_STATE_VERSION)
		return qmgr_state_fail(&rd, "unknown version");
	version = v;
	if (qmgr_state_uint(&rd, "attempts", UINT64_MAX, &st->attempts) == -1 ||
	    qmgr_state_uint(&rd, "next_retry", UINT64_MAX, &st->next_retry) ==
	        -1 ||
	    qmgr_state_uint(&rd, "nrcpt", UINT64_MAX, &v) == -1)
		return -1;
	if (v != st->nrcpt)
		return qmgr_state_fail(&rd, "recipient count differs");
	if (qmgr_state_line(&rd, "done") == -1)
		return -1;
	for (s = rd.val, e = rd.val + rd.vlen; s < e; s++) {
		const char *sp = memchr(s, ' ', (size_t)(e - s));
		size_t len = sp != NULL ? (size_t)(sp - s) : (size_t)(e - s);

		if (st->nrcpt == 0 ||
		    parse_uint_n(s, len, 0, st->nrcpt - 1, &v) == -1)
			return qmgr_state_fail(&rd, "done");
		st->done[v] = true;
		s += len;
	}
	if (version >= 2 && qmgr_state_v2_lines(&rd, st) == -1)
		return -1;
	if (qmgr_state_line(&rd, "reason") == -1)
		return -1;
	if (rd.p != rd.end)
		return qmgr_state_fail(&rd, "trailing data");
	for (i = 0; i < rd.vlen; i++)
		if ((unsigned char)rd.val[i] < 0x20 ||
		    (unsigned char)rd.val[i] == 0x7f)
			return qmgr_state_fail(&rd, "reason");
	free(st->reason);
	st->reason = xstrndup(rd.val, rd.vlen);
	st->exists = true;
	return 0;
}

int
qmgr_state_read(const char *queue_dir, const char *id, struct qmgr_state *st,
    struct buf *err)
{
	struct buf data;
	char *path;
	int ret = -1;

	buf_init(&data, QMGR_STATE_FILE_MAX);
	path = xasprintf("%s/%s/%s", queue_dir, QUEUE_DIR_DEFER, id);
	if (fs_read_file(path, &data) == -1) {
		if (errno == ENOENT)
			ret = 0;
		else if (err != NULL) {
			buf_reset(err);
			(void)!buf_printf(err, "%s: %m", path);
		}
		goto out;
	}
	ret = qmgr_state_decode(
	    data.data != NULL ? data.data : "", data.len, st, err);
out:
	free(path);
	buf_free(&data);
	return ret;
}

int
qmgr_state_write(
    const char *queue_dir, const char *id, const struct qmgr_state *st)
{
	struct buf data;
	char *path;
	int ret = -1, saved;

	buf_init(&data, QMGR_STATE_FILE_MAX);
	path = xasprintf("%s/%s/%s", queue_dir, QUEUE_DIR_DEFER, id);
	if (qmgr_state_encode(st, &data) == -1)
		goto out;
	ret = fs_atomic_write(path, data.data, data.len, 0600);
out:
	saved = errno;
	free(path);
	buf_free(&data);
	errno = saved;
	return ret;
}
