/*
 * 8BITMIME downgrade to quoted-printable (see smtp_downgrade.h). The parse
 * is line-based and keeps little: the header block of the entity being
 * read (with the start of its body while deciding), the start of a body
 * line that may be a boundary delimiter, and one boundary per open
 * multipart. The rules, where the RFCs leave room:
 *
 *  - Entities. The message is an entity (RFC 2045 2.4); so is each body
 *    part of a multipart (RFC 2046 5.1) and the body of a message/rfc822
 *    (RFC 2046 5.2.1). Content-Type and Content-Transfer-Encoding are
 *    matched case-insensitively, folded, with comments; the first of
 *    each counts. A missing or invalid Content-Type is text/plain (RFC
 *    2045 5.2), message/rfc822 in a multipart/digest (RFC 2046 5.1.5).
 *  - A header block ends at an empty line, or at a line that is not a
 *    field (no "name:") nor a continuation, which then starts the body
 *    (Python's email and Postfix do the same); when we rewrite such a
 *    header we put the missing empty line in.
 *  - Leaves with an absent, 7bit or 8bit encoding are held and converted
 *    as soon as an 8-bit byte appears in the body or header_max is
 *    reached; otherwise they come out byte-identical, except that a label
 *    "8bit" becomes "7bit" (nothing labelled 8bit goes to a 7-bit server).
 *    The new field replaces the first Content-Transfer-Encoding field in
 *    place; later ones are dropped. No MIME-Version is added to a message
 *    that has none: RFC 2045 4 wants one, but adding fields beyond the
 *    encoding is not ours to do, and readers take the encoding anyway.
 *  - Composites: multipart/ANY and message/rfc822 with an absent, 7bit,
 *    8bit or binary encoding are parsed; "8bit" becomes "7bit" at once (as
 *    Postfix does: their leaves are converted, so the label would lie),
 *    "binary" stays (a binary leaf inside passes through unchanged). Other
 *    message types, a multipart without a usable boundary parameter, a
 *    composite with another encoding and one nested deeper than depth_max
 *    pass through unchanged, 8-bit and all (the caller can check the
 *    output with smtp_downgrade_needed()).
 *  - Boundaries (RFC 2046 5.1.1): "--" boundary, optionally "--", then
 *    only SP, TAB or CR, on a line of its own, matched exactly (not as a
 *    prefix: a line "--b-x" is content, as for Python's email); every open
 *    multipart is checked, innermost first, so a missing close delimiter
 *    of an inner one is recovered at the outer one's. RFC 2231 boundary*
 *    parameters are not decoded (that multipart passes through).
 *  - Quoted-printable (RFC 2045 6.7): bytes outside 33..126, '=' and the
 *    SP or TAB before a line end (or the end of the part) become =XX in
 *    upper case; lines end where they did (hard breaks); a soft break
 *    "=" keeps every line within 76 characters; a line that a soft break
 *    starts never begins with a literal '-' (so no boundary appears in
 *    the encoded text, RFC 2046 5.1.1).
 */
#include "smtp/smtp_downgrade.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mw.h"
#include "lib/xalloc.h"
#include "smtp/smtp_mime_private.h"

enum dg_mode {
	DG_HEADER, /* reading an entity's header block into hold */
	DG_HOLD,   /* a text leaf's header and body held while deciding */
	DG_QP,     /* a text leaf being encoded */
	DG_PASS,   /* copied: opaque entity, preamble, epilogue */
};

enum dg_end {
	DG_END_BLANK, /* the header block ended at an empty line */
	DG_END_BODY,  /* ... at a line that starts the body */
	DG_END_NONE,  /* ... at a boundary or the end: no body */
};

enum dg_kind {
	DG_KIND_LEAF,
	DG_KIND_MULTI,
	DG_KIND_RFC822,
	DG_KIND_OPAQUE,
};

struct dg_frame {
	struct buf boundary;
	size_t depth_before; /* the nesting depth outside this multipart */
	bool digest;         /* multipart/digest: parts default to rfc822 */
	bool live;           /* the current line may be its delimiter */
};

struct smtp_downgrade {
	struct smtp_downgrade_limits lim;
	enum dg_mode mode;
	struct buf hold;   /* DG_HEADER: header lines; DG_HOLD: then body */
	size_t line_start; /* DG_HEADER: where the last line starts in hold */
	size_t hdr_len;    /* DG_HOLD: the fields are hold[0..hdr_len) */
	enum dg_end hdr_end;
	enum smtp_mime_cte hold_cte;
	bool dflt_rfc822; /* the entity being read defaults to rfc822 */
	struct buf lbuf;  /* a body line start that may be a delimiter */
	bool bol;         /* the next body byte starts a line */
	struct buf bline; /* a delimiter line met in a header block */
	struct buf bnd;   /* the boundary parameter being parsed */
	struct dg_frame *frames;
	size_t nframes, frames_cap;
	size_t depth; /* multipart and message/rfc822 entities open */
	size_t qp_col;
	int qp_pending; /* the byte before the next, or -1 */
	bool qp_soft;   /* the output line began after a soft break */
	bool failed, ended;
};

static int dg_run(
    struct smtp_downgrade *d, const char *in, size_t n, struct buf *out);

static const char dg_cte_field[] = "Content-Transfer-Encoding: ";

/*
 * Emits the held header fields hold[0..hdr_len): as they are when cte is
 * NULL, else with the first Content-Transfer-Encoding field replaced by
 * one with value cte (others dropped), or that field added. Then the end
 * of the block: the empty line if there was one, or, when the header was
 * rewritten and the body follows without one, an empty line put in.
 */
static int
dg_emit_header(struct smtp_downgrade *d, const char *cte, struct buf *out)
{
	const char *p = d->hold.data;
	size_t n = d->hdr_len, i, next, value;
	enum smtp_mime_field kind;
	bool done = false;

	if (cte == NULL) {
		if (n > 0 && buf_append(out, p, n) == -1)
			return -1;
	} else {
		for (i = 0; i < n; i = next) {
			next = smtp_mime_field_next(p, n, i, &kind, &value);
			if (kind != SMTP_MIME_FIELD_CTE) {
				if (buf_append(out, p + i, next - i) == -1)
					return -1;
				continue;
			}
			if (done)
				continue;
			done = true;
			if (buf_append_str(out, dg_cte_field) == -1 ||
			    buf_append_str(out, cte) == -1 ||
			    (p[next - 1] == '\n' &&
			        buf_append_char(out, '\n') == -1))
				return -1;
		}
		if (!done &&
		    ((n > 0 && p[n - 1] != '\n' &&
		         buf_append_char(out, '\n') == -1) ||
		        buf_append_str(out, dg_cte_field) == -1 ||
		        buf_append_str(out, cte) == -1 ||
		        buf_append_char(out, '\n') == -1))
			return -1;
	}
	if (d->hdr_end == DG_END_BLANK ||
	    (d->hdr_end == DG_END_BODY && cte != NULL))
		return buf_append_char(out, '\n');
	return 0;
}

/* RFC 2045 6.7: one byte; final: a line end or the part's end follows. */
static int
dg_qp_unit(
    struct smtp_downgrade *d, unsigned char c, bool final, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[3];
	bool lit;
	size_t len;

	/* (2) literal 33..126 but '='; (3) SP and TAB not at a line end */
	lit = (c >= 33 && c <= 126 && c != '=') ||
	    (!final && (c == ' ' || c == '\t'));
	len = lit ? 1 : 3;
	/* (5) at most 76 characters, the soft break's '=' included */
	if (d->qp_col + len > (final ? 76 : 75)) {
		if (buf_append(out, "=\n", 2) == -1)
			return -1;
		d->qp_col = 0;
		d->qp_soft = true;
	}
	/* RFC 2046 5.1.1: a soft break must not start a delimiter */
	if (lit && c == '-' && d->qp_col == 0 && d->qp_soft) {
		lit = false;
		len = 3;
	}
	enc[0] = (char)c;
	if (!lit) {
		enc[0] = '=';
		enc[1] = hex[c >> 4];
		enc[2] = hex[c & 15];
	}
	d->qp_col += len;
	return buf_append(out, enc, len);
}

static int
dg_qp_bytes(struct smtp_downgrade *d, const char *p, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n') {
			/* (4) line ends stay: hard line breaks */
			if (d->qp_pending >= 0 &&
			    dg_qp_unit(d, (unsigned char)d->qp_pending, true,
			        out) == -1)
				return -1;
			d->qp_pending = -1;
			if (buf_append_char(out, '\n') == -1)
				return -1;
			d->qp_col = 0;
			d->qp_soft = false;
			continue;
		}
		if (d->qp_pending >= 0 &&
		    dg_qp_unit(d, (unsigned char)d->qp_pending, false, out) ==
		        -1)
			return -1;
		d->qp_pending = c;
	}
	return 0;
}

static int
dg_qp_end(struct smtp_downgrade *d, struct buf *out)
{
	int c = d->qp_pending;

	d->qp_pending = -1;
	if (c >= 0)
		return dg_qp_unit(d, (unsigned char)c, true, out);
	return 0;
}

/* The held leaf has 8-bit (or is too long to hold): convert it. */
static int
dg_hold_convert(struct smtp_downgrade *d, struct buf *out)
{
	int ret;

	if (dg_emit_header(d, "quoted-printable", out) == -1)
		return -1;
	d->mode = DG_QP;
	d->qp_col = 0;
	d->qp_pending = -1;
	d->qp_soft = false;
	ret = dg_qp_bytes(
	    d, d->hold.data + d->hdr_len, d->hold.len - d->hdr_len, out);
	buf_reset(&d->hold);
	return ret;
}

/* The held leaf ended 7-bit: as it was, but never labelled 8bit. */
static int
dg_hold_keep(struct smtp_downgrade *d, struct buf *out)
{
	int ret;

	ret = dg_emit_header(
	    d, d->hold_cte == SMTP_MIME_CTE_8BIT ? "7bit" : NULL, out);
	if (ret == 0 && d->hold.len > d->hdr_len)
		ret = buf_append(
		    out, d->hold.data + d->hdr_len, d->hold.len - d->hdr_len);
	buf_reset(&d->hold);
	return ret;
}

/* Body bytes of the current entity. */
static int
dg_put(struct smtp_downgrade *d, const char *p, size_t n, struct buf *out)
{
	switch (d->mode) {
	case DG_PASS:
		return buf_append(out, p, n);
	case DG_QP:
		return dg_qp_bytes(d, p, n, out);
	case DG_HOLD:
		if (!smtp_downgrade_needed(p, n) &&
		    d->hold.len + n <= d->lim.header_max)
			return buf_append(&d->hold, p, n);
		if (dg_hold_convert(d, out) == -1)
			return -1;
		return dg_qp_bytes(d, p, n, out);
	case DG_HEADER:
		break;
	}
	log_panic("smtp_downgrade: body bytes in a header");
}

static void
dg_frame_push(struct smtp_downgrade *d, bool digest)
{
	struct dg_frame *f;
	struct buf tmp;
	size_t k;

	if (d->nframes == d->frames_cap) {
		k = d->frames_cap;
		d->frames_cap = k > 0 ? 2 * k : 4;
		d->frames =
		    xreallocarray(d->frames, d->frames_cap, sizeof(*d->frames));
		for (; k < d->frames_cap; k++)
			buf_init(&d->frames[k].boundary, d->lim.line_max);
	}
	f = &d->frames[d->nframes++];
	tmp = f->boundary;
	f->boundary = d->bnd;
	d->bnd = tmp;
	buf_reset(&d->bnd);
	f->depth_before = d->depth;
	f->digest = digest;
	f->live = false;
	d->depth++;
}

/* The header block hold[0..hold.len) is complete: decide what the entity
 * is and what to do with it. */
static int
dg_header_done(struct smtp_downgrade *d, enum dg_end end, struct buf *out)
{
	const char *p = d->hold.data;
	size_t n = d->hold.len, i, next, value;
	enum smtp_mime_field f;
	enum smtp_mime_cte cte = SMTP_MIME_CTE_NONE;
	enum dg_kind kind;
	struct smtp_mime_ctype ct;
	bool have_ct = false, have_cte = false, dflt_rfc822 = d->dflt_rfc822;
	int ret = 0;

	memset(&ct, 0, sizeof(ct));
	for (i = 0; i < n; i = next) {
		next = smtp_mime_field_next(p, n, i, &f, &value);
		if (f == SMTP_MIME_FIELD_CTYPE && !have_ct) {
			have_ct = true;
			smtp_mime_parse_ctype(
			    p + value, next - value, &d->bnd, &ct);
			/* a boundary no line of line_max bytes can hold is none
			 */
			ct.boundary =
			    ct.boundary && d->bnd.len + 2 <= d->lim.line_max;
		} else if (f == SMTP_MIME_FIELD_CTE && !have_cte) {
			have_cte = true;
			cte = smtp_mime_parse_cte(p + value, next - value);
		}
	}
	if (!have_ct)
		kind = dflt_rfc822 ? DG_KIND_RFC822 : DG_KIND_LEAF;
	else if (!ct.valid)
		kind = DG_KIND_LEAF; /* RFC 2045 5.2 */
	else if (ct.multipart)
		kind = ct.boundary ? DG_KIND_MULTI : DG_KIND_OPAQUE;
	else if (ct.rfc822)
		kind = DG_KIND_RFC822;
	else if (ct.message)
		kind = DG_KIND_OPAQUE;
	else
		kind = DG_KIND_LEAF;
	if (kind == DG_KIND_LEAF && cte != SMTP_MIME_CTE_NONE &&
	    cte != SMTP_MIME_CTE_7BIT && cte != SMTP_MIME_CTE_8BIT)
		kind = DG_KIND_OPAQUE;
	/* RFC 2045 6.4: composites are 7bit, 8bit or binary */
	if ((kind == DG_KIND_MULTI || kind == DG_KIND_RFC822) &&
	    ((cte != SMTP_MIME_CTE_NONE && cte != SMTP_MIME_CTE_7BIT &&
	         cte != SMTP_MIME_CTE_8BIT && cte != SMTP_MIME_CTE_BINARY) ||
	        d->depth >= d->lim.depth_max))
		kind = DG_KIND_OPAQUE;

	d->dflt_rfc822 = false;
	d->hdr_len = n;
	d->hdr_end = end;
	d->bol = true;
	switch (kind) {
	case DG_KIND_LEAF:
		d->hold_cte = cte;
		d->mode = DG_HOLD;
		return 0;
	case DG_KIND_OPAQUE:
		ret = dg_emit_header(d, NULL, out);
		d->mode = DG_PASS;
		break;
	case DG_KIND_MULTI:
		ret = dg_emit_header(
		    d, cte == SMTP_MIME_CTE_8BIT ? "7bit" : NULL, out);
		dg_frame_push(d, ct.digest);
		d->mode = DG_PASS; /* the preamble */
		break;
	case DG_KIND_RFC822:
		ret = dg_emit_header(
		    d, cte == SMTP_MIME_CTE_8BIT ? "7bit" : NULL, out);
		d->depth++;
		d->mode = DG_HEADER; /* the encapsulated message's */
		d->line_start = 0;
		break;
	}
	buf_reset(&d->hold);
	return ret;
}

/* The current entity ends (a delimiter or the end of input). */
static int
dg_entity_end(struct smtp_downgrade *d, struct buf *out)
{
	int ret = 0;

	while (d->mode == DG_HEADER)
		if (dg_header_done(d, DG_END_NONE, out) == -1)
			return -1;
	if (d->mode == DG_HOLD)
		ret = dg_hold_keep(d, out);
	else if (d->mode == DG_QP)
		ret = dg_qp_end(d, out);
	d->mode = DG_PASS;
	return ret;
}

static bool
dg_tail_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Is p[0..n) (no LF) a delimiter line of an open multipart? Returns its
 * index, innermost first, or -1; *close_out: it is the close delimiter. */
static long
dg_delimiter(
    const struct smtp_downgrade *d, const char *p, size_t n, bool *close_out)
{
	size_t k, j, blen;
	const struct dg_frame *f;

	for (k = d->nframes; k-- > 0;) {
		f = &d->frames[k];
		blen = f->boundary.len;
		if (n < 2 + blen || p[0] != '-' || p[1] != '-' ||
		    memcmp(p + 2, f->boundary.data, blen) != 0)
			continue;
		j = 2 + blen;
		*close_out = n - j >= 2 && p[j] == '-' && p[j + 1] == '-';
		if (*close_out)
			j += 2;
		while (j < n && dg_tail_ws(p[j]))
			j++;
		if (j == n)
			return (long)k;
	}
	return -1;
}

/* Could a line whose first k bytes are in lbuf, then c, still be a
 * delimiter? Keeps a flag per multipart, so each byte costs O(depth). */
static bool
dg_delimiter_step(struct smtp_downgrade *d, size_t k, char c)
{
	bool any = false;
	size_t i, j, blen;
	struct dg_frame *f;

	for (i = 0; i < d->nframes; i++) {
		f = &d->frames[i];
		if (k == 0)
			f->live = true;
		if (!f->live)
			continue;
		blen = f->boundary.len;
		if (k < 2)
			f->live = c == '-';
		else if ((j = k - 2) < blen)
			f->live = c == f->boundary.data[j];
		else if (j == blen)
			f->live = c == '-' || dg_tail_ws(c);
		else if (j == blen + 1 && d->lbuf.data[2 + blen] == '-')
			f->live = c == '-';
		else
			f->live = dg_tail_ws(c);
		any = any || f->live;
	}
	return any;
}

/* A delimiter of frames[idx] in line[0..n) (its LF included, if any). */
static int
dg_boundary(struct smtp_downgrade *d, size_t idx, bool close, const char *line,
    size_t n, struct buf *out)
{
	struct dg_frame *f;

	if (dg_entity_end(d, out) == -1 || buf_append(out, line, n) == -1)
		return -1;
	f = &d->frames[idx];
	d->bol = true;
	if (close) {
		/* RFC 2046 5.1.1: the epilogue follows, then the parent */
		d->nframes = idx;
		d->depth = f->depth_before;
		d->mode = DG_PASS;
		return 0;
	}
	d->nframes = idx + 1;
	d->depth = f->depth_before + 1;
	d->mode = DG_HEADER;
	d->dflt_rfc822 = f->digest;
	buf_reset(&d->hold);
	d->line_start = 0;
	return 0;
}

/* Feeds a copy of p[0..n) again, in the current (new) mode. */
static int
dg_refeed(struct smtp_downgrade *d, const char *p, size_t n, struct buf *out)
{
	struct buf copy;
	int ret;

	if (n == 0)
		return 0;
	buf_init(&copy, n);
	if (buf_append(&copy, p, n) == -1) /* cannot happen: max is n */
		log_panic("smtp_downgrade: refeed copy");
	ret = dg_run(d, copy.data, copy.len, out);
	buf_free(&copy);
	return ret;
}

/* The header line hold[line_start..) is complete (or the input ended). */
static int
dg_header_line(struct smtp_downgrade *d, struct buf *out)
{
	const char *l = d->hold.data + d->line_start;
	size_t n = d->hold.len - d->line_start, len = n;
	long idx;
	bool close;

	if (len > 0 && l[len - 1] == '\n')
		len--;
	if (d->nframes > 0 && (idx = dg_delimiter(d, l, len, &close)) >= 0) {
		buf_reset(&d->bline);
		if (buf_append(&d->bline, l, n) == -1)
			return -1;
		buf_truncate(&d->hold, d->line_start);
		return dg_boundary(
		    d, (size_t)idx, close, d->bline.data, d->bline.len, out);
	}
	if (len == 0) {
		buf_truncate(&d->hold, d->line_start);
		return dg_header_done(d, DG_END_BLANK, out);
	}
	if (((l[0] == ' ' || l[0] == '\t') && d->line_start > 0) ||
	    smtp_mime_is_field(l, len, NULL)) {
		d->line_start = d->hold.len;
		return 0;
	}
	/* not a field: the body starts without the empty line */
	buf_reset(&d->bline);
	if (buf_append(&d->bline, l, n) == -1)
		return -1;
	buf_truncate(&d->hold, d->line_start);
	if (dg_header_done(d, DG_END_BODY, out) == -1)
		return -1;
	return dg_refeed(d, d->bline.data, d->bline.len, out);
}

/* A header line or block too long to hold: the fields so far pass
 * through, and so does the rest of the entity. */
static int
dg_header_overflow(struct smtp_downgrade *d, struct buf *out)
{
	size_t ls = d->line_start;

	if (ls > 0 && buf_append(out, d->hold.data, ls) == -1)
		return -1;
	buf_consume(&d->hold, ls);
	d->mode = DG_PASS;
	d->bol = true;
	d->dflt_rfc822 = false;
	buf_reset(&d->bline);
	if (buf_append(&d->bline, d->hold.data, d->hold.len) == -1)
		return -1;
	buf_reset(&d->hold);
	return dg_refeed(d, d->bline.data, d->bline.len, out);
}

static int
dg_header_bytes(struct smtp_downgrade *d, const char *p, size_t n,
    struct buf *out, size_t *used_out)
{
	const char *nl = memchr(p, '\n', n);
	size_t m = nl != NULL ? (size_t)(nl - p) + 1 : n;
	size_t line = d->hold.len - d->line_start + m - (nl != NULL);

	*used_out = 0;
	if (nl == p && d->hold.len == d->line_start) {
		/* the empty line: not held, so not counted */
		*used_out = 1;
		return dg_header_line(d, out);
	}
	if (line > d->lim.line_max || d->hold.len + m > d->lim.header_max)
		return dg_header_overflow(d, out);
	if (buf_append(&d->hold, p, m) == -1)
		return -1;
	*used_out = m;
	return nl != NULL ? dg_header_line(d, out) : 0;
}

static int
dg_lbuf_release(struct smtp_downgrade *d, struct buf *out)
{
	int ret = dg_put(d, d->lbuf.data, d->lbuf.len, out);

	buf_reset(&d->lbuf);
	return ret;
}

static int
dg_body_bytes(struct smtp_downgrade *d, const char *p, size_t n,
    struct buf *out, size_t *used_out)
{
	const char *nl;
	size_t i, m;
	long idx;
	bool close;

	if (!d->bol || d->nframes == 0) {
		nl = memchr(p, '\n', n);
		m = nl != NULL ? (size_t)(nl - p) + 1 : n;
		*used_out = m;
		d->bol = nl != NULL;
		return dg_put(d, p, m, out);
	}
	/* a line start: hold it while it may be a delimiter */
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\n') {
			*used_out = i + 1;
			idx =
			    dg_delimiter(d, d->lbuf.data, d->lbuf.len, &close);
			if (buf_append_char(&d->lbuf, '\n') == -1)
				return -1;
			if (idx >= 0) {
				int ret = dg_boundary(d, (size_t)idx, close,
				    d->lbuf.data, d->lbuf.len, out);

				buf_reset(&d->lbuf);
				return ret;
			}
			return dg_lbuf_release(d, out);
		}
		if (d->lbuf.len >= d->lim.line_max ||
		    !dg_delimiter_step(d, d->lbuf.len, c)) {
			*used_out = i + 1;
			d->bol = false;
			if (buf_append_char(&d->lbuf, c) == -1)
				return -1;
			return dg_lbuf_release(d, out);
		}
		if (buf_append_char(&d->lbuf, c) == -1)
			return -1;
	}
	*used_out = n;
	return 0;
}

static int
dg_run(struct smtp_downgrade *d, const char *in, size_t n, struct buf *out)
{
	size_t i = 0, used;
	int ret;

	while (i < n) {
		if (d->mode == DG_HEADER)
			ret = dg_header_bytes(d, in + i, n - i, out, &used);
		else
			ret = dg_body_bytes(d, in + i, n - i, out, &used);
		if (ret == -1)
			return -1;
		i += used;
	}
	return 0;
}

struct smtp_downgrade *
smtp_downgrade_new(const struct smtp_downgrade_limits *lim)
{
	struct smtp_downgrade *d = xcalloc(1, sizeof(*d));

	d->lim = *lim;
	d->mode = DG_HEADER;
	d->bol = true;
	d->qp_pending = -1;
	buf_init(&d->hold, lim->header_max);
	buf_init(&d->lbuf, lim->line_max + 1);
	buf_init(&d->bline, lim->line_max + 1);
	buf_init(&d->bnd, lim->line_max);
	return d;
}

void
smtp_downgrade_free(struct smtp_downgrade **dp)
{
	struct smtp_downgrade *d = *dp;
	size_t k;

	if (d == NULL)
		return;
	for (k = 0; k < d->frames_cap; k++)
		buf_free(&d->frames[k].boundary);
	free(d->frames);
	buf_free(&d->hold);
	buf_free(&d->lbuf);
	buf_free(&d->bline);
	buf_free(&d->bnd);
	free(d);
	*dp = NULL;
}

int
smtp_downgrade_feed(
    struct smtp_downgrade *d, const char *in, size_t n, struct buf *out)
{
	MW_ASSERT(!d->ended);
	if (!d->failed && dg_run(d, in, n, out) == 0)
		return 0;
	d->failed = true;
	errno = ENOBUFS;
	return -1;
}

int
smtp_downgrade_end(struct smtp_downgrade *d, struct buf *out)
{
	long idx;
	bool close;

	MW_ASSERT(!d->ended);
	d->ended = true;
	if (d->failed)
		goto fail;
	/* the last line has no LF: it is still a line, maybe a delimiter
	 * (feeding it again in a new mode ends in one of these) */
	for (;;) {
		if (d->mode == DG_HEADER && d->hold.len > d->line_start) {
			if (dg_header_line(d, out) == -1)
				goto fail;
		} else if (d->mode != DG_HEADER && d->lbuf.len > 0) {
			idx =
			    dg_delimiter(d, d->lbuf.data, d->lbuf.len, &close);
			if (idx >= 0) {
				if (dg_boundary(d, (size_t)idx, close,
				        d->lbuf.data, d->lbuf.len, out) == -1)
					goto fail;
				buf_reset(&d->lbuf);
			} else if (dg_lbuf_release(d, out) == -1)
				goto fail;
		} else
			break;
	}
	if (dg_entity_end(d, out) == -1)
		goto fail;
	return 0;
fail:
	d->failed = true;
	errno = ENOBUFS;
	return -1;
}

bool
smtp_downgrade_needed(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return true;
	return false;
}
