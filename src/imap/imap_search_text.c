/*
 * The keys that need the message (see imap_search_eval.h): the envelope
 * fields of the tree first, then the file, read in chunks with pread() in
 * the order of its parts: header fields unfolded and RFC 2047-decoded
 * (RFC 5322 2.2.3, RFC 2047 6), text bodies decoded (RFC 2045 6.7, 6.8)
 * and converted to UTF-8, all folded and fed to each key's matcher. The
 * reading stops once the program's answer is known. Memory: one chunk,
 * one header field of at most SEARCH_FIELD_MAX bytes at a time (a longer
 * one is matched in pieces), and the decoders' buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap/imap_search_private.h"
#include "lib/xalloc.h"
#include "mime/mime_decode.h"
#include "mime/mime_tree.h"
#include "store/store.h"

/* Bytes of one header field matched at once (RFC 5322 2.1.1: lines of
 * 998; folded fields may be longer); past it the field goes in pieces. */
#define SEARCH_FIELD_MAX ((size_t)64 * 1024)
/* Decoded text held for a charset conversion to end at a line. */
#define SEARCH_CONV_HOLD ((size_t)64 * 1024)
#define SEARCH_NAME_MAX  128

struct scan {
	struct imap_search_prog *p;
	const struct store_msg *m;
	int fd;
	uint64_t roff;
	size_t rlen;
	bool changed; /* some leaf became known */
	/* the header being read */
	bool root, line_start, in_field, first_piece;
	size_t line_len;
	char name[SEARCH_NAME_MAX];
	size_t name_n; /* SIZE_MAX: none or too long */
	bool date_seen;
	/* the body being read */
	enum mime_cte cte;
	struct mime_qp qp;
	struct mime_b64 b64;
	const char *cs; /* converted from; NULL: taken as UTF-8 */
	bool cs_ascii;  /* pure ASCII stays ASCII in cs */
	bool cs_wide;   /* UTF-16, UTF-32, UCS-2/4 */
	struct search_fold_carry fc;
};

static bool
is_leaf(const struct search_node *d)
{
	return d->key != IMAP_SK_AND && d->key != IMAP_SK_OR &&
	    d->key != IMAP_SK_NOT;
}

static bool
is_sent(const struct search_node *d)
{
	return d->key == IMAP_SK_SENTBEFORE || d->key == IMAP_SK_SENTON ||
	    d->key == IMAP_SK_SENTSINCE;
}

static void
set_sent(struct search_node *d, int64_t day)
{
	switch (d->key) {
	case IMAP_SK_SENTBEFORE:
		d->val = day < d->u.day.lo;
		break;
	case IMAP_SK_SENTON:
		d->val = day == d->u.day.lo;
		break;
	default:
		d->val = day >= d->u.day.lo;
		break;
	}
}

static void
search_scratch_init(struct imap_search_prog *p)
{
	if (p->field.max != 0)
		return;
	buf_init(&p->field, SEARCH_FIELD_MAX);
	buf_init(&p->dec, BUF_MAX_DEFAULT);
	buf_init(&p->conv, BUF_MAX_DEFAULT);
	buf_init(&p->pend, BUF_MAX_DEFAULT);
}

/* Matches the field value v[0..n) (raw, unfolded) for d. */
static bool
match_value(
    struct imap_search_prog *p, struct search_node *d, const char *v, size_t n)
{
	size_t k;

	if (d->m.n == 0)
		return true;
	if (memmem(v, n, "=?", 2) != NULL) {
		search_scratch_init(p);
		buf_reset(&p->dec);
		if (mime_2047_decode(v, n, &p->dec) == 0 || p->dec.len > 0) {
			v = p->dec.data;
			n = p->dec.len;
		}
	}
	k = search_fold_into(p, v, n);
	search_matcher_reset(&d->m);
	return search_matcher_feed(&d->m, p->fold, k);
}

void
search_eval_envelope(struct imap_search_prog *p, const struct store_msg *m,
    const struct mime_tree *tree)
{
	const struct mime_envelope *env = NULL;
	struct search_node *d;
	const char *v;
	int64_t day;
	size_t i;

	if (tree != NULL)
		env = mime_tree_root(tree)->envelope;
	if (env == NULL)
		return; /* the root header answers them */
	for (i = 0; i < p->n; i++) {
		d = &p->nodes[i];
		if (d->need != SEARCH_NEED_ENV || d->val >= 0)
			continue;
		v = env->field[d->env];
		if (is_sent(d)) {
			if (v == NULL || !search_date_parse(v, strlen(v), &day))
				day = search_local_day(m->internaldate);
			set_sent(d, day);
		} else
			d->val = v != NULL && match_value(p, d, v, strlen(v));
	}
}

/* Bytes of the file at off (up to max, at least 1 unless at its end). */
static int
scan_read(struct scan *sc, uint64_t off, size_t max, const char **p_out,
    size_t *n_out)
{
	struct imap_search_prog *p = sc->p;
	ssize_t r;
	size_t n;

	if (off < sc->roff || off >= sc->roff + sc->rlen) {
		if (p->rbuf == NULL)
			p->rbuf = xmalloc(p->chunk);
		do
			r = pread(sc->fd, p->rbuf, p->chunk, (off_t)off);
		while (r == -1 && errno == EINTR);
		if (r == -1)
			return -1;
		sc->roff = off;
		sc->rlen = (size_t)r;
	}
	if (off >= sc->roff + sc->rlen) {
		*p_out = p->rbuf; /* the file is shorter than the tree says */
		*n_out = 0;
		return 0;
	}
	n = sc->rlen - (size_t)(off - sc->roff);
	*p_out = p->rbuf + (off - sc->roff);
	*n_out = n < max ? n : max;
	return 0;
}

/* Whether d reads the header of the root part (the field is there). */
static bool
wants_root_field(const struct search_node *d)
{
	return d->val < 0 &&
	    (d->need == SEARCH_NEED_HEADER || d->need == SEARCH_NEED_ENV);
}

static void
feed_text(struct scan *sc, const char *f, size_t k, bool body)
{
	struct imap_search_prog *p = sc->p;
	struct search_node *d;
	size_t i;

	for (i = 0; i < p->n; i++) {
		d = &p->nodes[i];
		if (d->val >= 0 ||
		    (d->need != SEARCH_NEED_TEXT &&
		        (!body || d->need != SEARCH_NEED_BODY)))
			continue;
		if (search_matcher_feed(&d->m, f, k)) {
			d->val = 1;
			sc->changed = true;
		}
	}
}

static bool
name_is(const struct scan *sc, const struct search_node *d)
{
	return d->field != NULL && d->field_n == sc->name_n &&
	    strncasecmp(d->field, sc->name, sc->name_n) == 0;
}

/* One piece of the field in p->field (all of it unless last is false). */
static void
field_piece(struct scan *sc, bool last)
{
	struct imap_search_prog *p = sc->p;
	struct search_node *d;
	const char *raw = p->field.data, *v = raw, *colon = NULL, *end;
	size_t n = p->field.len, i, k, nn;
	bool hdr = false, text = false;
	int64_t day;

	if (n == 0 && sc->first_piece)
		return;
	end = raw + n;
	if (sc->first_piece) {
		sc->name_n = SIZE_MAX;
		colon = memchr(raw, ':', n);
		if (colon != NULL) {
			nn = (size_t)(colon - raw);
			while (nn > 0 &&
			    (raw[nn - 1] == ' ' || raw[nn - 1] == '\t'))
				nn--;
			if (nn < SEARCH_NAME_MAX) {
				memcpy(sc->name, raw, nn);
				sc->name_n = nn;
			}
			v = colon + 1;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
		}
	}
	for (i = 0; i < p->n; i++) {
		d = &p->nodes[i];
		if (d->val >= 0)
			continue;
		if (d->need == SEARCH_NEED_TEXT)
			text = true;
		else if (sc->root && wants_root_field(d) &&
		    sc->name_n != SIZE_MAX) {
			if (is_sent(d)) {
				if (sc->first_piece && !sc->date_seen &&
				    sc->name_n == 4 &&
				    strncasecmp(sc->name, "Date", 4) == 0 &&
				    search_date_parse(
				        v, (size_t)(end - v), &day)) {
					set_sent(d, day);
					sc->changed = true;
				}
			} else if (name_is(sc, d)) {
				if (sc->first_piece)
					search_matcher_reset(&d->m);
				hdr = true;
			}
		}
	}
	if (sc->first_piece && sc->name_n == 4 &&
	    strncasecmp(sc->name, "Date", 4) == 0)
		sc->date_seen = true;
	if (text && sc->first_piece && v > raw) {
		/* TEXT sees "Name: value" */
		k = search_fold_into(p, raw, (size_t)(colon - raw));
		feed_text(sc, p->fold, k, false);
		feed_text(sc, ": ", 2, false);
	}
	if ((hdr || text) && v < end) {
		n = (size_t)(end - v);
		if (memmem(v, n, "=?", 2) != NULL) {
			buf_reset(&p->dec);
			if (mime_2047_decode(v, n, &p->dec) == 0 ||
			    p->dec.len > 0) {
				v = p->dec.data;
				n = p->dec.len;
			}
		}
		k = search_fold_into(p, v, n);
		if (text)
			feed_text(sc, p->fold, k, false);
		for (i = 0; hdr && i < p->n; i++) {
			d = &p->nodes[i];
			if (d->val < 0 && !is_sent(d) && wants_root_field(d) &&
			    name_is(sc, d) &&
			    search_matcher_feed(&d->m, p->fold, k)) {
				d->val = 1;
				sc->changed = true;
			}
		}
	} else if (hdr) {
		/* an empty value: only an empty needle matches */
		for (i = 0; i < p->n; i++) {
			d = &p->nodes[i];
			if (d->val < 0 && !is_sent(d) && wants_root_field(d) &&
			    name_is(sc, d) && d->m.n == 0) {
				d->val = 1;
				sc->changed = true;
			}
		}
	}
	if (text && last)
		feed_text(sc, "\n", 1, false);
	sc->first_piece = false;
	buf_reset(&p->field);
}

static void
field_end(struct scan *sc)
{
	if (sc->in_field)
		field_piece(sc, true);
	sc->in_field = false;
}

/* Appends s[0..n) of a line to the field, in pieces past the limit. */
static void
field_add(struct scan *sc, const char *s, size_t n)
{
	struct buf *f = &sc->p->field;
	size_t room;
	int rc;

	while (n > 0) {
		room = SEARCH_FIELD_MAX - f->len;
		if (room == 0) {
			field_piece(sc, false);
			continue;
		}
		if (room > n)
			room = n;
		rc = buf_append(f, s, room);
		MW_ASSERT(rc == 0); /* room fits under the ceiling */
		sc->line_len += room;
		s += room;
		n -= room;
	}
}

/* RFC 5322 2.2: fields start at a line's first byte; a line that starts
 * with white space continues the field (2.2.3 unfolding). */
static void
header_feed(struct scan *sc, const char *s, size_t n)
{
	struct buf *f = &sc->p->field;
	const char *lf;
	size_t i = 0, end;

	while (i < n) {
		if (sc->line_start) {
			if ((s[i] != ' ' && s[i] != '\t') || !sc->in_field) {
				field_end(sc);
				sc->in_field = true;
				sc->first_piece = true;
			}
			sc->line_start = false;
			sc->line_len = 0;
		}
		lf = memchr(s + i, '\n', n - i);
		end = lf != NULL ? (size_t)(lf - s) : n;
		field_add(sc, s + i, end - i);
		if (lf == NULL)
			break;
		if (sc->line_len > 0 && f->len > 0 &&
		    f->data[f->len - 1] == '\r')
			buf_truncate(f, f->len - 1);
		sc->line_start = true;
		i = end + 1;
	}
}

static void
text_feed(struct scan *sc, const char *s, size_t n, bool more)
{
	size_t k = search_fold_stream(sc->p, &sc->fc, s, n, more);

	if (k > 0)
		feed_text(sc, sc->p->fold, k, true);
}

static bool
all_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* Decoded body text in the part's charset, to UTF-8: converted up to a
 * line end, so that no character is cut, unless SEARCH_CONV_HOLD bytes
 * come without one. */
static void
conv_feed(struct scan *sc, const char *s, size_t n, bool more)
{
	struct imap_search_prog *p = sc->p;
	const char *lf;
	size_t cut;
	int rc;

	if (sc->cs == NULL) {
		text_feed(sc, s, n, more);
		return;
	}
	if (n > 0) {
		rc = buf_append(&p->pend, s, n);
		MW_ASSERT(rc == 0); /* SEARCH_CONV_HOLD + a chunk at most */
	}
	cut = p->pend.len;
	if (more && sc->cs_wide) {
		/* UTF-16/32: a LF byte is half a character; whole units */
		if (p->pend.len < SEARCH_CONV_HOLD)
			return;
		cut = p->pend.len & ~(size_t)3;
	} else if (more) {
		lf = p->pend.len > 0 ? memrchr(p->pend.data, '\n', p->pend.len)
		                     : NULL;
		if (lf != NULL)
			cut = (size_t)(lf - p->pend.data) + 1;
		else if (p->pend.len < SEARCH_CONV_HOLD)
			return;
	}
	if (cut == 0) {
		text_feed(sc, NULL, 0, more);
		return;
	}
	if (sc->cs_ascii && all_ascii(p->pend.data, cut)) {
		text_feed(sc, p->pend.data, cut, more);
	} else {
		buf_reset(&p->conv);
		if (mime_charset_to_utf8(sc->cs, strlen(sc->cs), p->pend.data,
		        cut, &p->conv) == -1 &&
		    errno == EINVAL) {
			sc->cs = NULL; /* unknown: take the bytes as they are */
			text_feed(sc, p->pend.data, cut, more);
		} else
			text_feed(sc, p->conv.data, p->conv.len, more);
	}
	buf_consume(&p->pend, cut);
}

static void
body_feed(struct scan *sc, const char *s, size_t n, bool more)
{
	struct imap_search_prog *p = sc->p;
	int r = 0;

	switch (sc->cte) {
	case MIME_CTE_QP:
		buf_reset(&p->dec);
		if (n > 0)
			r = mime_qp_decode(&sc->qp, s, n, &p->dec);
		if (r == 0 && !more)
			r = mime_qp_end(&sc->qp, &p->dec);
		conv_feed(sc, p->dec.data, p->dec.len, more);
		break;
	case MIME_CTE_BASE64:
		buf_reset(&p->dec);
		if (n > 0)
			r = mime_b64_decode(&sc->b64, s, n, &p->dec);
		if (r == 0 && !more)
			r = mime_b64_end(&sc->b64, &p->dec);
		conv_feed(sc, p->dec.data, p->dec.len, more);
		break;
	default:
		conv_feed(sc, s, n, more);
		break;
	}
	(void)r; /* dec.max is past what a chunk can decode to */
}

static bool
charset_utf8(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
	    strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

/* Charsets in which ASCII bytes are not always ASCII characters. */
static bool
charset_ascii_safe(const char *cs)
{
	return strncasecmp(cs, "utf-16", 6) != 0 &&
	    strncasecmp(cs, "utf-32", 6) != 0 &&
	    strncasecmp(cs, "utf-7", 5) != 0 &&
	    strncasecmp(cs, "ucs", 3) != 0 &&
	    strncasecmp(cs, "iso-2022", 8) != 0 &&
	    strncasecmp(cs, "hz", 2) != 0;
}

static void
body_begin(struct scan *sc, const struct mime_part *part)
{
	const char *cs;

	sc->cte = part->cte;
	mime_qp_init(&sc->qp);
	mime_b64_init(&sc->b64);
	cs = mime_param_find(part->params, part->params_n, "charset");
	sc->cs = cs != NULL && *cs != '\0' && !charset_utf8(cs) ? cs : NULL;
	sc->cs_ascii = sc->cs != NULL && charset_ascii_safe(sc->cs);
	sc->cs_wide = sc->cs != NULL &&
	    (strncasecmp(sc->cs, "utf-16", 6) == 0 ||
	        strncasecmp(sc->cs, "utf-32", 6) == 0 ||
	        strncasecmp(sc->cs, "ucs", 3) == 0);
	buf_reset(&sc->p->pend);
	sc->fc.n = 0;
}

static int
decided(struct scan *sc)
{
	if (!sc->changed)
		return 0;
	sc->changed = false;
	return search_node_eval(&sc->p->nodes[0]) >= 0;
}

/* Reads [off, off + size) of the file into the header or body feeder;
 * 1 when the program got decided on the way, 0 at the end, -1. */
static int
scan_segment(struct scan *sc, uint64_t off, uint64_t size, bool body)
{
	uint64_t end = off + size;
	const char *s;
	size_t n;

	while (off < end) {
		if (scan_read(sc, off,
		        end - off > SIZE_MAX ? SIZE_MAX : (size_t)(end - off),
		        &s, &n) == -1)
			return -1;
		if (n == 0)
			break;
		off += n;
		if (body)
			body_feed(sc, s, n, off < end);
		else
			header_feed(sc, s, n);
		if (decided(sc))
			return 1;
	}
	if (body) {
		if (off < end) /* cut short: flush the decoders */
			body_feed(sc, NULL, 0, false);
	} else
		field_end(sc);
	return decided(sc);
}

static void
reset_stream(struct scan *sc)
{
	struct imap_search_prog *p = sc->p;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->nodes[i].need == SEARCH_NEED_TEXT ||
		    p->nodes[i].need == SEARCH_NEED_BODY)
			search_matcher_reset(&p->nodes[i].m);
	sc->line_start = true;
	sc->in_field = false;
	sc->fc.n = 0;
	buf_reset(&p->field);
}

/* What the leaves still unknown need: bits of 1 root header, 2 bodies,
 * 4 every header. */
static unsigned
wanted(const struct imap_search_prog *p)
{
	unsigned w = 0;
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->nodes[i].val >= 0)
			continue;
		if (wants_root_field(&p->nodes[i]))
			w |= 1;
		else if (p->nodes[i].need == SEARCH_NEED_BODY)
			w |= 2;
		else if (p->nodes[i].need == SEARCH_NEED_TEXT)
			w |= 2 | 4;
	}
	return w;
}

/* The root header has been read: fields not seen are not there. */
static void
root_header_done(struct scan *sc)
{
	struct imap_search_prog *p = sc->p;
	struct search_node *d;
	size_t i;

	for (i = 0; i < p->n; i++) {
		d = &p->nodes[i];
		if (!wants_root_field(d))
			continue;
		if (is_sent(d))
			set_sent(d, search_local_day(sc->m->internaldate));
		else
			d->val = 0;
		sc->changed = true;
	}
}

static const struct mime_part *
next_part(const struct mime_part *pt)
{
	if (pt->children != NULL)
		return pt->children;
	while (pt != NULL && pt->next == NULL)
		pt = pt->parent;
	return pt != NULL ? pt->next : NULL;
}

static int
scan_parts(struct scan *sc, const struct mime_part *root)
{
	const struct mime_part *pt;
	unsigned w;
	int r;

	for (pt = root; pt != NULL; pt = next_part(pt)) {
		w = wanted(sc->p);
		if (w == 0)
			return 0;
		sc->root = pt == root;
		if ((sc->root && (w & (1 | 4)) != 0) || (w & 4) != 0) {
			reset_stream(sc);
			sc->date_seen = false;
			r = scan_segment(
			    sc, pt->hdr_offset, pt->hdr_size, false);
			if (r != 0)
				return r;
		}
		if (sc->root) {
			root_header_done(sc);
			if (decided(sc))
				return 1;
			w = wanted(sc->p);
		}
		if (pt->children == NULL && (pt->flags & MIME_PART_TEXT) != 0 &&
		    (w & 2) != 0 && pt->body_size > 0) {
			reset_stream(sc);
			body_begin(sc, pt);
			r = scan_segment(
			    sc, pt->body_offset, pt->body_size, true);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

int
search_eval_content(struct imap_search_prog *p, const struct store_msg *m,
    int fd, const struct mime_tree *tree)
{
	struct scan sc;
	size_t i;

	memset(&sc, 0, sizeof(sc));
	sc.p = p;
	sc.m = m;
	sc.fd = fd;
	search_scratch_init(p);
	if (tree != NULL && scan_parts(&sc, mime_tree_root(tree)) == -1)
		return -1;
	/* what was not found is not there */
	for (i = 0; i < p->n; i++) {
		if (!is_leaf(&p->nodes[i]) || p->nodes[i].val >= 0)
			continue;
		if (is_sent(&p->nodes[i]))
			set_sent(
			    &p->nodes[i], search_local_day(m->internaldate));
		else
			p->nodes[i].val = 0;
	}
	return 0;
}
