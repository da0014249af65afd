/*
 * The envelope record of a queue file (format version 1): encoding and a
 * strict, pure decoder. The record is text, one "key value" line per field
 * in a fixed order, then one "rcpt" line per recipient and "end":
 *
 *	id 0Vx3kq4D2h1Zf000a
 *	arrival 1700000000 123456
 *	size 1234
 *	sender alice@example.test
 *	client_name localhost
 *	client_addr 127.0.0.1
 *	helo client.example.test
 *	proto ESMTP
 *	smtputf8 0
 *	body_8bit 0
 *	dsn_ret 1                  (optional: RFC 3461 RET, 1 FULL 2 HDRS)
 *	envid QQ314159             (optional: RFC 3461 ENVID, decoded)
 *	nrcpt 1
 *	rcpt bob@example.test
 *	notify 6                   (optional: NOTIFY bits of that recipient)
 *	orcpt rfc822;bob@example.test  (optional: its ORCPT, decoded)
 *	end
 *
 * The optional lines appear only when set, so a record without DSN
 * parameters is the same as before they existed.
 * Values escape the bytes 0x00-0x20, 0x7f and '%' as %XX, so CR, LF and
 * spaces from hostile input round-trip and cannot forge a line; other bytes
 * (UTF-8) are stored as they are. The file layout around the record (header,
 * trailer, checksum) is in queue_file.c; both are described in docs/queue.md.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "queue/queue_file.h"
#include "queue/queue_id.h"

/* The strings of an envelope other than the recipients, in record order. */
enum queue_env_str {
	QUEUE_ENV_SENDER,
	QUEUE_ENV_CLIENT_NAME,
	QUEUE_ENV_CLIENT_ADDR,
	QUEUE_ENV_HELO,
	QUEUE_ENV_PROTO,
	QUEUE_ENV_NSTR,
};

static const char *const queue_env_str_keys[QUEUE_ENV_NSTR] = {
	"sender",
	"client_name",
	"client_addr",
	"helo",
	"proto",
};

static bool
queue_env_must_escape(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '%';
}

static int
queue_env_put_str(struct buf *out, const char *key, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t run;

	if (buf_append_str(out, key) == -1 || buf_append_char(out, ' ') == -1)
		return -1;
	while (*p != '\0') {
		for (run = 0; p[run] != '\0' && !queue_env_must_escape(p[run]);
		     run++)
			;
		if (run > 0) {
			if (buf_append(out, p, run) == -1)
				return -1;
			p += run;
			continue;
		}
		char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
		if (buf_append(out, esc, sizeof(esc)) == -1)
			return -1;
		p++;
	}
	return buf_append_char(out, '\n');
}

int
queue_env_encode(const struct queue_env *env, struct buf *out)
{
	const char *strs[QUEUE_ENV_NSTR] = { env->sender, env->client_name,
		env->client_addr, env->helo, env->proto };
	size_t i;

	if (buf_printf(out, "id %s\narrival %llu %llu\nsize %llu\n", env->id,
	        (unsigned long long)env->arrival,
	        (unsigned long long)env->arrival_usec,
	        (unsigned long long)env->size) == -1)
		return -1;
	for (i = 0; i < QUEUE_ENV_NSTR; i++)
		if (queue_env_put_str(out, queue_env_str_keys[i], strs[i]) ==
		    -1)
			return -1;
	if (buf_printf(out, "smtputf8 %d\nbody_8bit %d\n",
	        env->smtputf8 ? 1 : 0, env->body_8bit ? 1 : 0) == -1 ||
	    (env->dsn_ret != 0 &&
	        buf_printf(out, "dsn_ret %d\n", env->dsn_ret) == -1) ||
	    (env->envid != NULL && env->envid[0] != '\0' &&
	        queue_env_put_str(out, "envid", env->envid) == -1) ||
	    buf_printf(out, "nrcpt %zu\n", env->nrcpt) == -1)
		return -1;
	for (i = 0; i < env->nrcpt; i++) {
		if (queue_env_put_str(out, "rcpt", env->rcpts[i]) == -1)
			return -1;
		if (env->notify != NULL && env->notify[i] != 0 &&
		    buf_printf(out, "notify %u\n", env->notify[i]) == -1)
			return -1;
		if (env->orcpt != NULL && env->orcpt[i] != NULL &&
		    env->orcpt[i][0] != '\0' &&
		    queue_env_put_str(out, "orcpt", env->orcpt[i]) == -1)
			return -1;
	}
	return buf_append_str(out, "end\n");
}

/* The decoder's cursor over the record. */
struct queue_env_rd {
	const char *p, *end;
	const char *val; /* value of the line just read */
	size_t vlen;
	struct buf *err;
};

static int
queue_env_fail(struct queue_env_rd *rd, const char *what, const char *key)
{
	if (rd->err != NULL) {
		buf_reset(rd->err);
		(void)!buf_printf(rd->err, "envelope: %s%s%s", what,
		    key != NULL ? ": " : "", key != NULL ? key : "");
	}
	errno = EBADMSG;
	return -1;
}

/* Reads the next line, which must be "key value\n" for this key. */
static int
queue_env_line(struct queue_env_rd *rd, const char *key)
{
	size_t klen = strlen(key), n;
	const char *nl;

	n = (size_t)(rd->end - rd->p);
	nl = memchr(rd->p, '\n', n);
	if (nl == NULL)
		return queue_env_fail(rd, "truncated before", key);
	if ((size_t)(nl - rd->p) < klen + 1 || memcmp(rd->p, key, klen) != 0 ||
	    rd->p[klen] != ' ')
		return queue_env_fail(rd, "expected field", key);
	rd->val = rd->p + klen + 1;
	rd->vlen = (size_t)(nl - rd->val);
	rd->p = nl + 1;
	return 0;
}

static int
queue_env_uint(
    struct queue_env_rd *rd, const char *key, uint64_t max, uint64_t *v_out)
{
	if (queue_env_line(rd, key) == -1)
		return -1;
	if (parse_uint_n(rd->val, rd->vlen, 0, max, v_out) == -1)
		return queue_env_fail(rd, "bad number in", key);
	return 0;
}

static int
queue_env_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* the encoder writes upper case only */
}

/* Reads a string line, unescapes it into strs (NUL-terminated) and records
 * where it starts. */
static int
queue_env_str(
    struct queue_env_rd *rd, const char *key, struct buf *strs, size_t *off_out)
{
	size_t i;

	if (queue_env_line(rd, key) == -1)
		return -1;
	*off_out = strs->len;
	for (i = 0; i < rd->vlen; i++) {
		unsigned char c = (unsigned char)rd->val[i];
		int hi, lo;

		if (c == '%') {
			if (rd->vlen - i < 3 ||
			    (hi = queue_env_hexval(rd->val[i + 1])) < 0 ||
			    (lo = queue_env_hexval(rd->val[i + 2])) < 0)
				return queue_env_fail(rd, "bad escape in", key);
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\0')
				return queue_env_fail(rd, "NUL in", key);
			i += 2;
		} else if (queue_env_must_escape(c))
			return queue_env_fail(rd, "unescaped byte in", key);
		if (buf_append_char(strs, (char)c) == -1)
			return queue_env_fail(rd, "too long", key);
	}
	if (buf_append_char(strs, '\0') == -1)
		return queue_env_fail(rd, "too long", key);
	return 0;
}

/* Does the next line start with "key "? */
static bool
queue_env_next_is(const struct queue_env_rd *rd, const char *key)
{
	size_t klen = strlen(key);

	return (size_t)(rd->end - rd->p) > klen &&
	    memcmp(rd->p, key, klen) == 0 && rd->p[klen] == ' ';
}

/* The optional per-recipient fields, parallel to the recipients. */
struct queue_env_dsn {
	size_t envid_off; /* SIZE_MAX: none */
	unsigned char *notify;
	size_t *orcpt_offs; /* SIZE_MAX: none */
	bool any_notify, any_orcpt;
};

/* Builds the single allocation: the struct, the recipient pointers, the
 * ORCPT pointers, the NOTIFY bytes, then the strings. */
static struct queue_env *
queue_env_build(const struct queue_env *tmpl, const struct buf *strs,
    const size_t *offs, const size_t *rcpt_offs, size_t nrcpt,
    const struct queue_env_dsn *dsn)
{
	size_t ptrs_at, orcpt_at, notify_at, strs_at, i;
	struct queue_env *env;
	const char **rcpts, **orcpts;
	unsigned char *notify;
	char *mem, *s;

	ptrs_at = sizeof(*env) + alignof(char *) - 1;
	ptrs_at -= ptrs_at % alignof(char *);
	orcpt_at = ptrs_at + nrcpt * sizeof(char *);
	notify_at = orcpt_at + (dsn->any_orcpt ? nrcpt * sizeof(char *) : 0);
	strs_at = notify_at + (dsn->any_notify ? nrcpt : 0);
	mem = xmalloc(strs_at + strs->len + 1);
	env = (struct queue_env *)(void *)mem;
	rcpts = (const char **)(void *)(mem + ptrs_at);
	orcpts = (const char **)(void *)(mem + orcpt_at);
	notify = (unsigned char *)(mem + notify_at);
	s = mem + strs_at;
	memcpy(s, strs->data, strs->len);
	s[strs->len] = '\0';
	*env = *tmpl;
	env->envid = dsn->envid_off != SIZE_MAX ? s + dsn->envid_off : NULL;
	env->orcpt = NULL;
	env->notify = NULL;
	if (dsn->any_orcpt) {
		for (i = 0; i < nrcpt; i++)
			orcpts[i] = dsn->orcpt_offs[i] != SIZE_MAX
			    ? s + dsn->orcpt_offs[i]
			    : NULL;
		env->orcpt = orcpts;
	}
	if (dsn->any_notify) {
		memcpy(notify, dsn->notify, nrcpt);
		env->notify = notify;
	}
	env->sender = s + offs[QUEUE_ENV_SENDER];
	env->client_name = s + offs[QUEUE_ENV_CLIENT_NAME];
	env->client_addr = s + offs[QUEUE_ENV_CLIENT_ADDR];
	env->helo = s + offs[QUEUE_ENV_HELO];
	env->proto = s + offs[QUEUE_ENV_PROTO];
	for (i = 0; i < nrcpt; i++)
		rcpts[i] = s + rcpt_offs[i];
	env->rcpts = rcpts;
	env->nrcpt = nrcpt;
	return env;
}

struct queue_env *
queue_env_decode(const char *p, size_t n, struct buf *err)
{
	struct queue_env_rd rd = { p, p + n, NULL, 0, err };
	struct queue_env tmpl, *env = NULL;
	struct queue_env_dsn dsn = { SIZE_MAX, NULL, NULL, false, false };
	size_t offs[QUEUE_ENV_NSTR], *rcpt_offs = NULL, i;
	uint64_t v, nrcpt;
	struct buf strs;
	int saved;

	memset(&tmpl, 0, sizeof(tmpl));
	buf_init(&strs, n + 1); /* unescaping never grows a string */
	if (queue_env_line(&rd, "id") == -1)
		goto out;
	if (rd.vlen == 0 || rd.vlen > QUEUE_ID_LEN_MAX) {
		(void)queue_env_fail(&rd, "bad value in", "id");
		goto out;
	}
	memcpy(tmpl.id, rd.val, rd.vlen);
	tmpl.id[rd.vlen] = '\0';
	if (!queue_id_valid(tmpl.id)) {
		(void)queue_env_fail(&rd, "bad value in", "id");
		goto out;
	}
	if (queue_env_line(&rd, "arrival") == -1)
		goto out;
	{
		const char *sp = memchr(rd.val, ' ', rd.vlen);
		size_t l1 = sp != NULL ? (size_t)(sp - rd.val) : rd.vlen;

		if (sp == NULL ||
		    parse_uint_n(rd.val, l1, 0, UINT64_MAX, &tmpl.arrival) ==
		        -1 ||
		    parse_uint_n(sp + 1, rd.vlen - l1 - 1, 0, 999999,
		        &tmpl.arrival_usec) == -1) {
			(void)queue_env_fail(&rd, "bad value in", "arrival");
			goto out;
		}
	}
	if (queue_env_uint(&rd, "size", UINT64_MAX, &tmpl.size) == -1)
		goto out;
	for (i = 0; i < QUEUE_ENV_NSTR; i++)
		if (queue_env_str(
		        &rd, queue_env_str_keys[i], &strs, &offs[i]) == -1)
			goto out;
	if (queue_env_uint(&rd, "smtputf8", 1, &v) == -1)
		goto out;
	tmpl.smtputf8 = v == 1;
	if (queue_env_uint(&rd, "body_8bit", 1, &v) == -1)
		goto out;
	tmpl.body_8bit = v == 1;
	if (queue_env_next_is(&rd, "dsn_ret")) {
		if (queue_env_uint(&rd, "dsn_ret", 2, &v) == -1)
			goto out;
		if (v == 0) {
			(void)queue_env_fail(&rd, "bad value in", "dsn_ret");
			goto out;
		}
		tmpl.dsn_ret = (int)v;
	}
	if (queue_env_next_is(&rd, "envid") &&
	    queue_env_str(&rd, "envid", &strs, &dsn.envid_off) == -1)
		goto out;
	/* Each rcpt line takes at least 6 bytes: bounds the allocation. */
	if (queue_env_uint(
	        &rd, "nrcpt", (uint64_t)(rd.end - rd.p) / 6, &nrcpt) == -1)
		goto out;
	if (nrcpt == 0) {
		(void)queue_env_fail(&rd, "no recipients", NULL);
		goto out;
	}
	rcpt_offs = xreallocarray(NULL, (size_t)nrcpt, sizeof(*rcpt_offs));
	dsn.notify = xcalloc((size_t)nrcpt, 1);
	dsn.orcpt_offs = xreallocarray(NULL, (size_t)nrcpt, sizeof(size_t));
	for (i = 0; i < nrcpt; i++) {
		dsn.orcpt_offs[i] = SIZE_MAX;
		if (queue_env_str(&rd, "rcpt", &strs, &rcpt_offs[i]) == -1)
			goto out;
		if (queue_env_next_is(&rd, "notify")) {
			if (queue_env_uint(&rd, "notify", 15, &v) == -1)
				goto out;
			/* RFC 3461 4.1: NEVER stands alone */
			if (v == 0 || ((v & QUEUE_DSN_NOTIFY_NEVER) && v != 1)) {
				(void)queue_env_fail(&rd, "bad value in", "notify");
				goto out;
			}
			dsn.notify[i] = (unsigned char)v;
			dsn.any_notify = true;
		}
		if (queue_env_next_is(&rd, "orcpt")) {
			if (queue_env_str(&rd, "orcpt", &strs,
			        &dsn.orcpt_offs[i]) == -1)
				goto out;
			dsn.any_orcpt = true;
		}
	}
	if ((size_t)(rd.end - rd.p) != 4 || memcmp(rd.p, "end\n", 4) != 0) {
		(void)queue_env_fail(&rd, "expected", "end");
		goto out;
	}
	env = queue_env_build(
	    &tmpl, &strs, offs, rcpt_offs, (size_t)nrcpt, &dsn);
out:
	saved = errno;
	free(dsn.notify);
	free(dsn.orcpt_offs);
	free(rcpt_offs);
	buf_free(&strs);
	errno = saved;
	return env;
}

void
queue_env_free(struct queue_env **env)
{
	free(*env);
	*env = NULL;
}
