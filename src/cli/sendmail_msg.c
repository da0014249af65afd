/*
 * sendmail's message filter and the address-list parser (see
 * sendmail_msg.h). Both are pure: the caller reads standard input (or the
 * DATA of -bs) and writes what comes out into the maildrop file.
 */
#include "cli/sendmail_msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/parse.h"
#include "lib/xalloc.h"

enum {
	SM_FIRST, /* nothing read yet: a "From " line may come */
	SM_HDR,   /* in the header section */
	SM_BODY,
	SM_DONE,
	SM_ERR,
};

void
sendmail_msg_init(struct sendmail_msg *m, size_t header_max, size_t rcpts_max)
{
	memset(m, 0, sizeof(*m));
	m->header_max = header_max;
	m->dot_ends = true;
	m->state = SM_FIRST;
	buf_init(&m->line, header_max + 1);
	buf_init(&m->hdr, header_max + 1);
	buf_init(&m->rcpts, rcpts_max);
	buf_init(&m->rcpts_resent, rcpts_max);
}

void
sendmail_msg_free(struct sendmail_msg *m)
{
	buf_free(&m->line);
	buf_free(&m->hdr);
	buf_free(&m->rcpts);
	buf_free(&m->rcpts_resent);
}

/* ---- address lists ------------------------------------------------------ */

struct sm_addr {
	char *word; /* the mailbox text outside <...> */
	size_t wlen;
	char *angle; /* inside <...> */
	size_t alen;
	bool has_angle;
	bool gap;   /* white space between two words outside <...> */
	bool space; /* white space or a comment since the last token */
};

static bool
sm_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips a comment starting at p[*i] == '(' (nested, with quoted-pairs). */
static int
sm_skip_comment(const char *p, size_t n, size_t *i)
{
	int depth = 0;

	for (; *i < n; (*i)++) {
		if (p[*i] == '\\') {
			(*i)++;
			continue;
		}
		if (p[*i] == '(')
			depth++;
		else if (p[*i] == ')' && --depth == 0)
			return 0;
	}
	return -1;
}

/* Copies a quoted string ('"') or domain literal ('[') starting at p[*i]
 * to out, delimiters and quoted-pairs included; *i ends on the closer. */
static int
sm_copy_quoted(
    const char *p, size_t n, size_t *i, char close, char *out, size_t *len)
{
	out[(*len)++] = p[(*i)++];
	for (; *i < n; (*i)++) {
		if (p[*i] == '\\' && *i + 1 < n) {
			out[(*len)++] = p[(*i)++];
			out[(*len)++] = p[*i];
			continue;
		}
		out[(*len)++] = p[*i];
		if (p[*i] == close)
			return 0;
	}
	return -1;
}

static int
sm_addr_emit(struct sm_addr *a, sendmail_addr_fn *fn, void *arg)
{
	char *s = a->has_angle ? a->angle : a->word;
	size_t len = a->has_angle ? a->alen : a->wlen;
	int r = 0;

	if (!a->has_angle && a->gap) {
		errno = EINVAL; /* "Bob Smith" without <...>: not an address */
		return -1;
	}
	/* RFC 5322 4.4 obs-route: "<@a,@b:user@c>" is "<user@c>" */
	if (a->has_angle && len > 0 && s[0] == '@') {
		char *colon = memchr(s, ':', len);

		if (colon == NULL) {
			errno = EINVAL;
			return -1;
		}
		len -= (size_t)(colon + 1 - s);
		s = colon + 1;
	}
	if (len > 0)
		r = fn(arg, s, len);
	a->wlen = a->alen = 0;
	a->has_angle = a->gap = a->space = false;
	return r;
}

int
sendmail_addr_list(const char *p, size_t n, sendmail_addr_fn *fn, void *arg)
{
	struct sm_addr a;
	char *mem;
	size_t i;
	int ret = -1, saved;

	memset(&a, 0, sizeof(a));
	/* each text is at most n bytes */
	mem = xmalloc(2 * (n + 1));
	a.word = mem;
	a.angle = mem + n + 1;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (sm_wsp(c)) {
			a.space = true;
			continue;
		}
		if (c == '(') {
			if (sm_skip_comment(p, n, &i) == -1)
				goto bad;
			a.space = true;
			continue;
		}
		if (c == ',' || c == ';') {
			if (sm_addr_emit(&a, fn, arg) == -1)
				goto out;
			continue;
		}
		if (c == ':' && !a.has_angle) {
			/* a group's display name ends: drop it */
			a.wlen = 0;
			a.gap = a.space = false;
			continue;
		}
		if (c == '<') {
			if (a.has_angle)
				goto bad;
			a.has_angle = true;
			for (i++; i < n && p[i] != '>'; i++) {
				if (sm_wsp(p[i]))
					continue;
				if (p[i] == '(') {
					if (sm_skip_comment(p, n, &i) == -1)
						goto bad;
				} else if (p[i] == '"' || p[i] == '[') {
					if (sm_copy_quoted(p, n, &i,
					        p[i] == '"' ? '"' : ']',
					        a.angle, &a.alen) == -1)
						goto bad;
				} else if (p[i] == '<')
					goto bad;
				else
					a.angle[a.alen++] = p[i];
			}
			if (i >= n)
				goto bad;
			continue;
		}
		if (c == '>')
			goto bad;
		/* a word of the mailbox: atoms, '.', '@', quoted strings */
		if (a.space && a.wlen > 0 && a.word[a.wlen - 1] != '.' &&
		    a.word[a.wlen - 1] != '@' && c != '.' && c != '@')
			a.gap = true;
		a.space = false;
		if (c == '"' || c == '[') {
			if (sm_copy_quoted(p, n, &i, c == '"' ? '"' : ']',
			        a.word, &a.wlen) == -1)
				goto bad;
		} else
			a.word[a.wlen++] = c;
	}
	if (sm_addr_emit(&a, fn, arg) == -1)
		goto out;
	ret = 0;
	goto out;
bad:
	errno = EINVAL;
out:
	saved = errno;
	free(mem);
	errno = saved;
	return ret;
}

/* ---- the message -------------------------------------------------------- */

/* RFC 5322 3.6.8: field-name = 1*ftext (33-126 except ':'); obs-optional
 * allows white space before the colon. Returns the name's length, or 0
 * when line is not the start of a header. */
static size_t
sm_header_name(const char *p, size_t n)
{
	size_t i, k;

	for (i = 0; i < n && p[i] >= 33 && p[i] <= 126 && p[i] != ':'; i++)
		;
	if (i == 0)
		return 0;
	for (k = i; k < n && (p[k] == ' ' || p[k] == '\t'); k++)
		;
	return k < n && p[k] == ':' ? i : 0;
}

static bool
sm_name_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && ascii_eq_n(p, name, n);
}

static int
sm_collect(void *arg, const char *addr, size_t len)
{
	struct buf *b = arg;

	if (buf_append(b, addr, len) == -1 || buf_append_char(b, '\0') == -1)
		return -1;
	return 0;
}

/* A whole header is in m->hdr: note it, collect its addresses, write it
 * unless it is a Bcc. */
static enum sendmail_msg_status
sm_header_done(struct sendmail_msg *m, struct buf *out)
{
	const char *h = m->hdr.data;
	size_t n = m->hdr.len, name, colon;
	struct buf *list = NULL;
	bool drop = false;

	if (n == 0)
		return SENDMAIL_MSG_MORE;
	name = sm_header_name(h, n);
	colon = (size_t)((const char *)memchr(h, ':', n) - h);
	if (sm_name_is(h, name, "From"))
		m->saw_from = true;
	else if (sm_name_is(h, name, "Date"))
		m->saw_date = true;
	else if (sm_name_is(h, name, "Message-ID"))
		m->saw_msgid = true;
	else if (sm_name_is(h, name, "To") || sm_name_is(h, name, "Cc"))
		list = &m->rcpts;
	else if (sm_name_is(h, name, "Bcc")) {
		list = &m->rcpts;
		drop = true; /* RFC 5322 3.6.3: blind copies stay blind */
	} else if (sm_name_is(h, name, "Resent-To") ||
	    sm_name_is(h, name, "Resent-Cc"))
		list = &m->rcpts_resent;
	else if (sm_name_is(h, name, "Resent-Bcc")) {
		list = &m->rcpts_resent;
		drop = true;
	}
	if (list != NULL && m->extract &&
	    sendmail_addr_list(
	        h + colon + 1, n - colon - 1, sm_collect, list) == -1) {
		m->state = SM_ERR;
		return errno == EINVAL ? SENDMAIL_MSG_BAD_HEADER
		                       : SENDMAIL_MSG_TOO_MANY;
	}
	if (!drop && buf_append(out, h, n) == -1) {
		m->state = SM_ERR;
		return SENDMAIL_MSG_TOO_LONG;
	}
	if (!drop)
		m->size += n;
	buf_reset(&m->hdr);
	return SENDMAIL_MSG_MORE;
}

static int
sm_out(struct sendmail_msg *m, struct buf *out, const char *p, size_t n)
{
	if (buf_append(out, p, n) == -1)
		return -1;
	m->size += n;
	return 0;
}

/* The header section ends before p[0..n) + "\n": it starts the body. */
static enum sendmail_msg_status
sm_body_starts(struct sendmail_msg *m, struct buf *out, const char *p, size_t n,
    bool separator, bool eol)
{
	enum sendmail_msg_status st = sm_header_done(m, out);

	if (st != SENDMAIL_MSG_MORE)
		return st;
	m->state = SM_BODY;
	m->bol = eol;
	if ((separator && sm_out(m, out, "\n", 1) == -1) ||
	    sm_out(m, out, p, n) == -1 ||
	    (eol && sm_out(m, out, "\n", 1) == -1)) {
		m->state = SM_ERR;
		return SENDMAIL_MSG_TOO_LONG;
	}
	return SENDMAIL_MSG_MORE;
}

/* One complete line of the header section (without its LF). */
static enum sendmail_msg_status
sm_header_line(struct sendmail_msg *m, struct buf *out, const char *p, size_t n)
{
	enum sendmail_msg_status st;

	if (m->dot_ends && n == 1 && p[0] == '.') {
		st = sm_header_done(m, out);
		if (st == SENDMAIL_MSG_MORE) {
			m->state = SM_DONE;
			m->done = true;
			st = SENDMAIL_MSG_DONE;
		}
		return st;
	}
	if (m->state == SM_FIRST) {
		m->state = SM_HDR;
		if (n >= 5 && memcmp(p, "From ", 5) == 0)
			return SENDMAIL_MSG_MORE; /* an mbox separator */
	}
	if (n == 0) /* the empty line: the body follows */
		return sm_body_starts(m, out, "", 0, false, true);
	if (p[0] == ' ' || p[0] == '\t') {
		if (m->hdr.len == 0) /* no header to continue: body */
			return sm_body_starts(m, out, p, n, true, true);
		if (buf_append(&m->hdr, p, n) == -1 ||
		    buf_append_char(&m->hdr, '\n') == -1 ||
		    m->hdr.len > m->header_max) {
			m->state = SM_ERR;
			return SENDMAIL_MSG_TOO_LONG;
		}
		return SENDMAIL_MSG_MORE;
	}
	if (sm_header_name(p, n) == 0)
		return sm_body_starts(m, out, p, n, true, true);
	if ((st = sm_header_done(m, out)) != SENDMAIL_MSG_MORE)
		return st;
	if (buf_append(&m->hdr, p, n) == -1 ||
	    buf_append_char(&m->hdr, '\n') == -1 ||
	    m->hdr.len > m->header_max) {
		m->state = SM_ERR;
		return SENDMAIL_MSG_TOO_LONG;
	}
	return SENDMAIL_MSG_MORE;
}

/* A header line outgrew header_max: an error when it is (part of) a
 * header, else the start of a body (a message without headers whose
 * first line is long). */
static enum sendmail_msg_status
sm_header_overflow(struct sendmail_msg *m, struct buf *out)
{
	const char *p = m->line.data;
	size_t n = m->line.len;
	enum sendmail_msg_status st;

	if (((p[0] == ' ' || p[0] == '\t') && m->hdr.len > 0) ||
	    sm_header_name(p, n) > 0) {
		m->state = SM_ERR;
		return SENDMAIL_MSG_TOO_LONG;
	}
	if (m->state == SM_FIRST)
		m->state = SM_HDR;
	st = sm_body_starts(m, out, p, n, true, false);
	buf_reset(&m->line);
	return st;
}

/* One byte of the body (line ends already LF). */
static enum sendmail_msg_status
sm_body_byte(struct sendmail_msg *m, struct buf *out, char c)
{
	if (m->pending_dot) {
		m->pending_dot = false;
		if (c == '\n') {
			m->state = SM_DONE;
			m->done = true;
			return SENDMAIL_MSG_DONE;
		}
		if (sm_out(m, out, ".", 1) == -1)
			goto full;
	} else if (m->bol && c == '.' && m->dot_ends) {
		m->pending_dot = true;
		m->bol = false;
		return SENDMAIL_MSG_MORE;
	}
	if (sm_out(m, out, &c, 1) == -1)
		goto full;
	m->bol = c == '\n';
	return SENDMAIL_MSG_MORE;
full:
	m->state = SM_ERR;
	return SENDMAIL_MSG_TOO_LONG;
}

/* One byte with LF line ends. */
static enum sendmail_msg_status
sm_byte(struct sendmail_msg *m, struct buf *out, char c)
{
	enum sendmail_msg_status st;

	if ((unsigned char)c >= 0x80)
		m->saw_8bit = true;
	if (m->state == SM_BODY)
		return sm_body_byte(m, out, c);
	if (c == '\n') {
		st = sm_header_line(m, out,
		    m->line.data != NULL ? m->line.data : "", m->line.len);
		buf_reset(&m->line);
		return st;
	}
	if (buf_append_char(&m->line, c) == -1 || m->line.len > m->header_max)
		return sm_header_overflow(m, out);
	return SENDMAIL_MSG_MORE;
}

enum sendmail_msg_status
sendmail_msg_feed(
    struct sendmail_msg *m, const char *in, size_t n, struct buf *out)
{
	enum sendmail_msg_status st = SENDMAIL_MSG_MORE;
	size_t i;

	if (m->state == SM_DONE)
		return SENDMAIL_MSG_DONE;
	if (m->state == SM_ERR)
		return SENDMAIL_MSG_TOO_LONG;
	for (i = 0; i < n && st == SENDMAIL_MSG_MORE; i++) {
		char c = in[i];

		/* CRLF is a line end; a CR before anything else is content */
		if (m->pending_cr) {
			m->pending_cr = false;
			if (c != '\n' &&
			    (st = sm_byte(m, out, '\r')) != SENDMAIL_MSG_MORE)
				break;
		}
		if (c == '\r') {
			m->pending_cr = true;
			continue;
		}
		st = sm_byte(m, out, c);
	}
	return st;
}

enum sendmail_msg_status
sendmail_msg_end(struct sendmail_msg *m, struct buf *out)
{
	enum sendmail_msg_status st;

	if (m->state == SM_DONE)
		return SENDMAIL_MSG_DONE;
	if (m->state == SM_ERR)
		return SENDMAIL_MSG_TOO_LONG;
	if (m->pending_cr) {
		m->pending_cr = false;
		if ((st = sm_byte(m, out, '\r')) != SENDMAIL_MSG_MORE)
			return st;
	}
	if (m->state != SM_BODY && m->line.len > 0) {
		st = sm_header_line(m, out, m->line.data, m->line.len);
		buf_reset(&m->line);
		if (st != SENDMAIL_MSG_MORE)
			return st;
	}
	if (m->state == SM_FIRST || m->state == SM_HDR) {
		if ((st = sm_header_done(m, out)) != SENDMAIL_MSG_MORE)
			return st;
	} else if (m->state == SM_BODY) {
		if (m->pending_dot) {
			m->pending_dot = false;
			if (sm_out(m, out, ".", 1) == -1)
				return SENDMAIL_MSG_TOO_LONG;
			m->bol = false;
		}
		if (!m->bol && sm_out(m, out, "\n", 1) == -1)
			return SENDMAIL_MSG_TOO_LONG;
	}
	m->state = SM_DONE;
	m->done = true;
	return SENDMAIL_MSG_DONE;
}
