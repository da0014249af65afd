/*
 * IMAP BODY and BODYSTRUCTURE (see imap_bodystructure.h). A part that the
 * parser left opaque although its type says multipart or message (no
 * boundary, an encoded message, a limit hit) is written as
 * application/octet-stream, as Dovecot does, since the grammar would
 * otherwise demand its children.
 */
#include "imap/imap_bodystructure.h"

#include <string.h>

#include "imap/imap_envelope.h"
#include "imap/imap_string.h"
#include "lib/buf.h"
#include "lib/parse.h"
#include "mime/mime_tree.h"

/* Deeper than the parser ever nests (its depth_max): a damaged cache. */
#define BODY_DEPTH_MAX 512

#define EMPTY_BODY                                                             \
	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0"

struct bs {
	struct buf *out;
	bool ext, utf8;
	int err;
};

static void
put(struct bs *w, const char *s)
{
	if (w->err == 0 && buf_append_str(w->out, s) == -1)
		w->err = -1;
}

static void
nstr(struct bs *w, const char *s)
{
	if (w->err == 0 && imap_nstring_append(w->out, s, w->utf8) == -1)
		w->err = -1;
}

static void
num(struct bs *w, uint64_t v)
{
	if (w->err == 0 && imap_number_append(w->out, v) == -1)
		w->err = -1;
}

/*
 * An RFC 2231 extended parameter, decoded to UTF-8 when parsed. RFC 9051
 * 7.5.2: a UTF-8 client gets it as "name*" with the UTF-8 value; others
 * (RFC 3501) as RFC 2231 wrote it, "name*" "utf-8''r%C3%A9sum%C3%A9",
 * which is what Dovecot 2.3 sends for such a parameter.
 */
static void
param_ext(struct bs *w, const struct mime_param *pa)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;
	const unsigned char *v = (const unsigned char *)pa->value;

	buf_init(&b, BUF_MAX_DEFAULT);
	if (buf_printf(&b, "%s*", pa->name) == -1) {
		w->err = -1;
		goto out;
	}
	nstr(w, buf_cstr(&b));
	put(w, " ");
	buf_reset(&b);
	if (w->utf8) {
		nstr(w, pa->value);
		goto out;
	}
	if (buf_append_str(&b, "utf-8''") == -1)
		w->err = -1;
	for (; *v != '\0' && w->err == 0; v++) {
		/* RFC 2231 7 attribute-char: not SPACE, CTL, "*", "'", "%"
		 * or tspecials (RFC 2045 5.1) */
		if (*v > 0x20 && *v < 0x7f && strchr("*'%()<>@,;:\\\"/[]?=",
		                                  *v) == NULL) {
			if (buf_append_char(&b, (char)*v) == -1)
				w->err = -1;
		} else if (buf_append_char(&b, '%') == -1 ||
		    buf_append_char(&b, hex[*v >> 4]) == -1 ||
		    buf_append_char(&b, hex[*v & 15]) == -1)
			w->err = -1;
	}
	nstr(w, buf_cstr(&b));
out:
	buf_free(&b);
}

/* body-fld-param: "(" string SP string *(SP string SP string) ")" / nil;
 * a text/ part always names its charset (RFC 2045 5.2 default). */
static void
params(struct bs *w, const struct mime_param *pa, size_t n, bool charset)
{
	size_t i;

	if (charset && mime_param_find(pa, n, "charset") != NULL)
		charset = false;
	if (n == 0 && !charset) {
		put(w, "NIL");
		return;
	}
	put(w, "(");
	for (i = 0; i < n; i++) {
		if (i > 0)
			put(w, " ");
		if (pa[i].ext)
			param_ext(w, &pa[i]);
		else {
			nstr(w, pa[i].name);
			put(w, " ");
			nstr(w, pa[i].value);
		}
	}
	if (charset)
		put(w,
		    n > 0 ? " \"charset\" \"us-ascii\""
		          : "\"charset\" \"us-ascii\"");
	put(w, ")");
}

/* disposition, language, location: the extension data after the MD5 or
 * a multipart's parameters */
static void
ext_common(struct bs *w, const struct mime_part *p)
{
	size_t i;

	put(w, " ");
	if (p->disposition == NULL)
		put(w, "NIL");
	else {
		put(w, "(");
		nstr(w, p->disposition);
		put(w, " ");
		params(w, p->disp_params, p->disp_params_n, false);
		put(w, ")");
	}
	put(w, " ");
	if (p->language_n == 0)
		put(w, "NIL");
	else {
		put(w, "(");
		for (i = 0; i < p->language_n; i++) {
			if (i > 0)
				put(w, " ");
			nstr(w, p->language[i]);
		}
		put(w, ")");
	}
	put(w, " ");
	nstr(w, p->location);
}

static void body(struct bs *w, const struct mime_part *p, unsigned depth);

static void
body_multipart(struct bs *w, const struct mime_part *p, unsigned depth)
{
	const struct mime_part *c;

	if (p->children == NULL) {
		/* RFC 2046 5.1.1 wants one part at least: as Dovecot, an
		 * empty text/plain */
		put(w, EMPTY_BODY);
		put(w, w->ext ? " NIL NIL NIL NIL)" : ")");
	}
	for (c = p->children; c != NULL; c = c->next)
		body(w, c, depth + 1);
	put(w, " ");
	nstr(w, p->subtype);
	if (!w->ext)
		return;
	put(w, " ");
	params(w, p->params, p->params_n, false);
	ext_common(w, p);
}

static void
body_leaf(struct bs *w, const struct mime_part *p, unsigned depth)
{
	const char *type = mime_part_type(p), *sub = mime_part_subtype(p);
	bool text = (p->flags & MIME_PART_TEXT) != 0;
	bool msg = (p->flags & MIME_PART_MESSAGE) != 0;

	if (!msg &&
	    (ascii_eq(type, "multipart") || ascii_eq(type, "message"))) {
		type = "application";
		sub = "octet-stream";
		text = false;
	}
	nstr(w, type);
	put(w, " ");
	nstr(w, sub);
	put(w, " ");
	params(w, p->params, p->params_n, text);
	put(w, " ");
	nstr(w, p->id);
	put(w, " ");
	nstr(w, p->description);
	put(w, " ");
	nstr(w, p->cte_name != NULL ? p->cte_name : "7bit");
	put(w, " ");
	num(w, p->body_vsize);
	if (text) {
		put(w, " ");
		num(w, p->body_lines);
	} else if (msg && p->children != NULL) {
		/* RFC 9051 7.5.2: envelope, body and lines of the message */
		put(w, " ");
		if (w->err == 0 &&
		    imap_envelope_append(
		        w->out, p->children->envelope, w->utf8) == -1)
			w->err = -1;
		put(w, " ");
		body(w, p->children, depth + 1);
		put(w, " ");
		num(w, p->body_lines);
	}
	if (!w->ext)
		return;
	put(w, " ");
	nstr(w, p->md5);
	ext_common(w, p);
}

static void
body(struct bs *w, const struct mime_part *p, unsigned depth)
{
	if (depth > BODY_DEPTH_MAX) {
		put(w, EMPTY_BODY);
		put(w, w->ext ? " NIL NIL NIL NIL)" : ")");
		return;
	}
	put(w, "(");
	if ((p->flags & MIME_PART_MULTIPART) != 0)
		body_multipart(w, p, depth);
	else
		body_leaf(w, p, depth);
	put(w, ")");
}

int
imap_bodystructure_append(
    struct buf *out, const struct mime_part *part, bool extended, bool utf8)
{
	struct bs w = { out, extended, utf8, 0 };
	size_t start = out->len;

	body(&w, part, 0);
	if (w.err != 0)
		buf_truncate(out, start);
	return w.err;
}
