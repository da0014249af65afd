/*
 * IMAP ENVELOPE and its address lists (see imap_envelope.h). The address
 * parser is lenient, as mail readers are: RFC 5322 3.4 with the obsolete
 * forms of 4.4 (routes, phrases with dots, missing parts); whatever does
 * not parse ends the address it is in, never the list.
 */
#include "imap/imap_envelope.h"

#include <string.h>

#include "imap/imap_string.h"
#include "lib/buf.h"
#include "mime/mime_tree.h"

enum tok_type {
	TOK_END,
	TOK_ATOM,    /* a run of atext (and '.', 8-bit) */
	TOK_QUOTED,  /* a quoted-string; text holds its content unquoted */
	TOK_COMMENT, /* text holds its content */
	TOK_DLIT,    /* a domain literal, [...] as written */
	TOK_SPECIAL, /* one of < > @ , ; : */
};

struct tok {
	enum tok_type type;
	const char *raw; /* as written */
	size_t raw_n;
	char c;     /* TOK_SPECIAL */
	bool space; /* white space came before it */
};

struct addr_parser {
	const char *p;
	size_t n, i;
	struct buf *out;
	bool utf8;
	size_t count;
	struct buf name, local, domain, adl, comment, tmp;
	int err;
};

static bool
is_special(unsigned char c)
{
	return c == '<' || c == '>' || c == '@' || c == ',' || c == ';' ||
	    c == ':' || c == '(' || c == ')' || c == '"' || c == '[' ||
	    c == ']' || c == '\\';
}

static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The next token; comments are tokens (the parser may use them). */
static void
tok_next(struct addr_parser *ap, struct tok *t)
{
	const char *p = ap->p;
	size_t i = ap->i, n = ap->n, start, level;

	t->space = false;
	while (i < n &&
	    (is_ws((unsigned char)p[i]) || p[i] == ']' || p[i] == ')' ||
	        p[i] == '\\' || p[i] == '>'))
		t->space = true, i++; /* stray closers are white space */
	/* (an angle-addr is parsed up to its '>' only: see angle_addr) */
	t->raw = p + i;
	t->raw_n = 0;
	if (i >= n) {
		t->type = TOK_END;
		ap->i = i;
		return;
	}
	start = i;
	if (p[i] == '"') {
		t->type = TOK_QUOTED;
		for (i++; i < n && p[i] != '"'; i++)
			if (p[i] == '\\' && i + 1 < n)
				i++;
		if (i < n)
			i++;
	} else if (p[i] == '(') {
		t->type = TOK_COMMENT;
		for (level = 0; i < n; i++) {
			if (p[i] == '\\' && i + 1 < n)
				i++;
			else if (p[i] == '(')
				level++;
			else if (p[i] == ')' && --level == 0) {
				i++;
				break;
			}
		}
	} else if (p[i] == '[') {
		t->type = TOK_DLIT;
		while (i < n && p[i] != ']')
			i++;
		if (i < n)
			i++;
	} else if (is_special((unsigned char)p[i])) {
		t->type = TOK_SPECIAL;
		t->c = p[i++];
	} else {
		t->type = TOK_ATOM;
		while (i < n && !is_special((unsigned char)p[i]) &&
		    !is_ws((unsigned char)p[i]))
			i++;
	}
	t->raw_n = i - start;
	ap->i = i;
}

/* The content of a quoted-string or comment: delimiters off, quoted-pairs
 * undone, line ends gone. */
static void
unquote(const struct tok *t, struct buf *b)
{
	size_t i, run, end = t->raw_n;

	if (end > 1 && t->raw[end - 1] == (t->type == TOK_QUOTED ? '"' : ')'))
		end--;
	/* in runs up to the next CR, LF or backslash (once per ENVELOPE
	 * name: not a call per character) */
	for (i = 1; i < end; i = run) {
		for (run = i; run < end && t->raw[run] != '\r' &&
		     t->raw[run] != '\n' && t->raw[run] != '\\';
		     run++)
			;
		if (buf_append(b, t->raw + i, run - i) == -1)
			return;
		if (run == end)
			break;
		if (t->raw[run] == '\\' && run + 1 < end) {
			if (buf_append_char(b, t->raw[run + 1]) == -1)
				return;
			run++;
		} else if (t->raw[run] == '\\' &&
		    buf_append_char(b, '\\') == -1) {
			return; /* a last backslash stays, as before */
		}
		run++;
	}
}

static void
word_add(struct buf *b, const struct tok *t)
{
	if (b->len > 0 && buf_append_char(b, ' ') == -1)
		return;
	if (t->type == TOK_QUOTED)
		unquote(t, b);
	else if (buf_append(b, t->raw, t->raw_n) == -1)
		return;
}

static const char *
bstr(const struct buf *b)
{
	return b->len > 0 ? b->data : NULL;
}

/* ( name adl mailbox host ) */
static void
emit(struct addr_parser *ap, const char *name, const char *adl,
    const char *mailbox, const char *host)
{
	if (ap->err == 0 &&
	    (buf_append_char(ap->out, '(') == -1 ||
	        imap_nstring_append(ap->out, name, ap->utf8) == -1 ||
	        buf_append_char(ap->out, ' ') == -1 ||
	        imap_nstring_append(ap->out, adl, ap->utf8) == -1 ||
	        buf_append_char(ap->out, ' ') == -1 ||
	        imap_nstring_append(ap->out, mailbox, ap->utf8) == -1 ||
	        buf_append_char(ap->out, ' ') == -1 ||
	        imap_nstring_append(ap->out, host, ap->utf8) == -1 ||
	        buf_append_char(ap->out, ')') == -1))
		ap->err = -1;
	ap->count++;
}

static void
emit_mailbox(struct addr_parser *ap)
{
	const char *name = bstr(&ap->name);

	if (name == NULL)
		name = bstr(&ap->comment); /* "a@b (Name)": the comment */
	emit(ap, name, bstr(&ap->adl),
	    ap->local.len > 0 ? ap->local.data : IMAP_MISSING_MAILBOX,
	    ap->domain.len > 0 ? ap->domain.data : IMAP_MISSING_DOMAIN);
}

static void
reset(struct addr_parser *ap)
{
	buf_reset(&ap->name);
	buf_reset(&ap->local);
	buf_reset(&ap->domain);
	buf_reset(&ap->adl);
	buf_reset(&ap->comment);
}

/* A domain: atoms, dots and literals up to a special or the end. */
static void
domain_parse(struct addr_parser *ap, struct tok *t, bool angle)
{
	for (;;) {
		tok_next(ap, t);
		if (t->type == TOK_COMMENT) {
			if (ap->comment.len == 0)
				unquote(t, &ap->comment);
			continue;
		}
		if (t->type == TOK_ATOM || t->type == TOK_DLIT) {
			if (buf_append(&ap->domain, t->raw, t->raw_n) == -1)
				return;
			continue;
		}
		if (angle && t->type == TOK_SPECIAL && t->c != '>' &&
		    t->c != ',' && t->c != ';')
			continue;
		return;
	}
}

/* After "<": [route ":"] local "@" domain ">" (RFC 5322 4.4 obs-route). */
static void
angle_addr(struct addr_parser *ap, struct tok *t)
{
	size_t close;
	const char *gt = memchr(ap->p + ap->i, '>', ap->n - ap->i);
	size_t end = ap->n;

	close = gt != NULL ? (size_t)(gt - ap->p) : ap->n;
	/* parse within the angle brackets only */
	ap->n = close;
	tok_next(ap, t);
	if (t->type == TOK_SPECIAL && t->c == '@') {
		/* obs-route: @a,@b: -- kept as the adl */
		while (t->type != TOK_END &&
		    !(t->type == TOK_SPECIAL && t->c == ':')) {
			if (t->type != TOK_COMMENT &&
			    buf_append(&ap->adl, t->raw, t->raw_n) == -1)
				break;
			tok_next(ap, t);
		}
		if (t->type != TOK_END)
			tok_next(ap, t);
	}
	while (t->type != TOK_END && !(t->type == TOK_SPECIAL && t->c == '@')) {
		if (t->type != TOK_COMMENT &&
		    buf_append(&ap->local, t->raw, t->raw_n) == -1)
			break;
		tok_next(ap, t);
	}
	if (t->type != TOK_END)
		domain_parse(ap, t, true);
	ap->n = end;
	ap->i = close < end ? close + 1 : end;
}

static void
list_parse(struct addr_parser *ap)
{
	struct tok t;
	bool in_group = false, any = false;

	reset(ap);
	for (;;) {
		tok_next(ap, &t);
		switch (t.type) {
		case TOK_ATOM:
		case TOK_QUOTED:
		case TOK_DLIT:
			word_add(&ap->name, &t);
			/* the local part, should an "@" follow */
			if (ap->local.len > 0 && t.space)
				buf_reset(&ap->local);
			any = true;
			if (buf_append(&ap->local, t.raw, t.raw_n) == -1)
				buf_reset(&ap->local); /* cannot happen */
			continue;
		case TOK_COMMENT:
			if (ap->comment.len == 0)
				unquote(&t, &ap->comment);
			continue;
		case TOK_SPECIAL:
			break;
		case TOK_END:
			break;
		}
		if (t.type == TOK_SPECIAL && t.c == '<') {
			buf_reset(&ap->local);
			buf_reset(&ap->comment);
			angle_addr(ap, &t);
			emit_mailbox(ap);
			reset(ap);
			any = false;
			continue;
		}
		if (t.type == TOK_SPECIAL && t.c == '@') {
			buf_reset(&ap->name);
			domain_parse(ap, &t, false);
			emit_mailbox(ap);
			reset(ap);
			any = false;
			/* domain_parse stopped at t: "," ";" or the end */
		}
		if (t.type == TOK_SPECIAL && t.c == ':' && !in_group) {
			/* RFC 5322 3.4: group start, display-name ":" */
			emit(ap, NULL, NULL,
			    ap->name.len > 0 ? ap->name.data : "", NULL);
			in_group = true;
			reset(ap);
			any = false;
			continue;
		}
		if (any) {
			/* a word without "@": a local part alone */
			buf_reset(&ap->name);
			emit_mailbox(ap);
			reset(ap);
			any = false;
		}
		if (t.type == TOK_SPECIAL && t.c == ';' && in_group) {
			emit(ap, NULL, NULL, NULL, NULL); /* end of group */
			in_group = false;
		}
		if (t.type == TOK_END)
			break;
	}
	if (in_group)
		emit(ap, NULL, NULL, NULL, NULL);
}

int
imap_address_list_append(
    struct buf *out, const char *p, size_t n, bool utf8, size_t *count_out)
{
	struct addr_parser ap;
	size_t start = out->len;
	int ret;

	memset(&ap, 0, sizeof(ap));
	ap.p = p;
	ap.n = n;
	ap.out = out;
	ap.utf8 = utf8;
	/* parts are never longer than the value */
	buf_init(&ap.name, n + 1);
	buf_init(&ap.local, n + 1);
	buf_init(&ap.domain, n + 1);
	buf_init(&ap.adl, n + 1);
	buf_init(&ap.comment, n + 1);
	if (buf_append_char(out, '(') == -1)
		ap.err = -1;
	else
		list_parse(&ap);
	if (ap.err == 0 && ap.count > 0)
		ret = buf_append_char(out, ')');
	else if (ap.err == 0) {
		buf_truncate(out, start);
		ret = buf_append(out, "NIL", 3);
	} else
		ret = -1;
	if (ret == -1)
		buf_truncate(out, start);
	buf_free(&ap.name);
	buf_free(&ap.local);
	buf_free(&ap.domain);
	buf_free(&ap.adl);
	buf_free(&ap.comment);
	if (count_out != NULL)
		*count_out = ret == 0 ? ap.count : 0;
	return ret;
}

static int
addr_field(struct buf *out, const char *v, bool utf8, size_t *count_out)
{
	*count_out = 0;
	if (v == NULL)
		return buf_append(out, "NIL", 3);
	return imap_address_list_append(out, v, strlen(v), utf8, count_out);
}

int
imap_envelope_append(
    struct buf *out, const struct mime_envelope *env, bool utf8)
{
	static const struct mime_envelope none;
	const char *const *f = (env != NULL ? env : &none)->field;
	size_t start = out->len, n, from_start;
	struct buf from;
	int k;

	buf_init(&from, out->max);

	if (buf_append_char(out, '(') == -1 ||
	    imap_nstring_append(out, f[MIME_ENV_DATE], utf8) == -1 ||
	    buf_append_char(out, ' ') == -1 ||
	    imap_nstring_append(out, f[MIME_ENV_SUBJECT], utf8) == -1 ||
	    buf_append_char(out, ' ') == -1)
		goto fail;
	from_start = out->len;
	if (addr_field(out, f[MIME_ENV_FROM], utf8, &n) == -1)
		goto fail;
	if (buf_append(&from, out->data + from_start, out->len - from_start) ==
	    -1)
		goto fail;
	for (k = MIME_ENV_SENDER; k <= MIME_ENV_BCC; k++) {
		size_t before;

		if (buf_append_char(out, ' ') == -1)
			goto fail;
		before = out->len;
		if (addr_field(out, f[k], utf8, &n) == -1)
			goto fail;
		/* RFC 9051 7.5.2: absent or empty Sender and Reply-To are
		 * the From */
		if (n == 0 &&
		    (k == MIME_ENV_SENDER || k == MIME_ENV_REPLY_TO)) {
			buf_truncate(out, before);
			if (buf_append(out, from.data, from.len) == -1)
				goto fail;
		}
	}
	if (buf_append_char(out, ' ') == -1 ||
	    imap_nstring_append(out, f[MIME_ENV_IN_REPLY_TO], utf8) == -1 ||
	    buf_append_char(out, ' ') == -1 ||
	    imap_nstring_append(out, f[MIME_ENV_MESSAGE_ID], utf8) == -1 ||
	    buf_append_char(out, ')') == -1)
		goto fail;
	buf_free(&from);
	return 0;
fail:
	buf_free(&from);
	buf_truncate(out, start);
	return -1;
}
