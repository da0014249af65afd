/*
 * Where FETCH contents come from (see imap_fetch_msg_private.h): section
 * numbers resolved in the MIME tree, byte ranges read with pread through
 * the LF to CRLF conversion and the BINARY decoders, and the HEADER.FIELDS
 * filter. Writing the response is imap_fetch_msg.c's job.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap/imap_fetch.h"
#include "imap/imap_fetch_msg_private.h"
#include "lib/buf.h"
#include "mime/mime_field.h"
#include "store/store.h"

/*
 * RFC 9051 6.4.5: a multipart's parts are numbered from 1; a message that
 * is not multipart has only part 1, its body (a part inside a multipart
 * has none); after a message/rfc822 part, further numbers go into the
 * message it holds. Dovecot's imap_msgpart_find() also takes 1.1.1 for a
 * non-multipart message; the RFC has no such part, nor do we.
 */
static const struct mime_part *
part_find(const struct mime_part *p, const uint32_t *parts, size_t n)
{
	size_t i;
	uint32_t k;
	bool msg = true; /* p is a message: the root or a message's child */

	for (i = 0; i < n && p != NULL; i++) {
		if ((p->flags & MIME_PART_MULTIPART) != 0) {
			p = p->children;
			for (k = parts[i]; k > 1 && p != NULL; k--)
				p = p->next;
		} else if (parts[i] != 1 || !msg) {
			p = NULL;
		}
		msg = false;
		if (p != NULL && (p->flags & MIME_PART_MESSAGE) != 0 &&
		    i + 1 < n) {
			p = p->children;
			msg = true;
		}
	}
	return p;
}

static struct imap_section_range
range_header(const struct mime_part *p)
{
	return (struct imap_section_range){ .exists = true,
		.off = p->hdr_offset,
		.size = p->hdr_size,
		.vsize = p->hdr_vsize,
		.part = p };
}

static struct imap_section_range
range_body(const struct mime_part *p)
{
	return (struct imap_section_range){ .exists = true,
		.off = p->body_offset,
		.size = p->body_size,
		.vsize = p->body_vsize,
		.part = p };
}

struct imap_section_range
imap_section_find(const struct mime_tree *t, const struct store_msg *msg,
    const struct imap_fetch_item *it)
{
	const struct imap_section_range none = { .exists = false };
	const struct imap_section_range whole = { .exists = true,
		.whole = true,
		.size = msg->psize,
		.vsize = msg->vsize };
	const struct mime_part *p;
	enum imap_section_text text = it->text;

	switch (it->att) {
	case IMAP_FA_RFC822:
		return whole;
	case IMAP_FA_RFC822_HEADER:
		text = IMAP_SECTION_HEADER;
		break;
	case IMAP_FA_RFC822_TEXT:
		text = IMAP_SECTION_TEXT;
		break;
	default:
		break;
	}
	if (it->nparts == 0 && text == IMAP_SECTION_ALL)
		return whole;
	if (t == NULL)
		return none;
	p = part_find(mime_tree_root(t), it->parts, it->nparts);
	if (p == NULL)
		return none;
	switch (text) {
	case IMAP_SECTION_ALL:
		return range_body(p);
	case IMAP_SECTION_MIME:
		/* of a message/rfc822 part too: its own MIME header (what
		 * Dovecot has long done) */
		return range_header(p);
	default:
		break;
	}
	/* RFC 9051 6.4.5: HEADER, HEADER.FIELDS[.NOT] and TEXT after part
	 * numbers only of a message/rfc822 part: its message's */
	if (it->nparts > 0) {
		if ((p->flags & MIME_PART_MESSAGE) == 0 || p->children == NULL)
			return none;
		p = p->children;
	}
	if (text == IMAP_SECTION_TEXT)
		return range_body(p);
	return range_header(p);
}

void
imap_src_init_file(struct imap_src *s, int fd,
    const struct imap_section_range *r, bool crlf, enum imap_src_dec dec)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->pos = r->whole ? 0 : r->off;
	s->end = r->whole ? UINT64_MAX : r->off + r->size;
	s->crlf = crlf;
	s->dec = dec;
	mime_qp_init(&s->qp);
	mime_b64_init(&s->b64);
	if (!r->exists)
		s->end = s->pos;
}

void
imap_src_init_mem(struct imap_src *s, const char *p, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->mem = p;
	s->mem_n = n;
}

/* The decoder's last bytes at the end of the range. */
static int
src_end(struct imap_src *s, struct buf *out)
{
	s->eof = true;
	switch (s->dec) {
	case IMAP_SRC_QP:
		return mime_qp_end(&s->qp, out);
	case IMAP_SRC_BASE64:
		return mime_b64_end(&s->b64, out);
	default:
		return 0;
	}
}

/* RFC 9051 4.3 counts lines by CRLF: each LF without a CR before it
 * becomes CRLF, as the tree's vsize counts it. p[0..n) into dst (room
 * for 2 * n bytes); the length written. */
static size_t
crlf_convert(struct imap_src *s, const char *p, size_t n, char *dst)
{
	const char *end = p + n, *from = p, *q = p, *nl;
	char *d = dst;

	while (q < end && (nl = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		if (nl > p ? nl[-1] != '\r' : !s->prev_cr) {
			memcpy(d, from, (size_t)(nl - from));
			d += nl - from;
			*d++ = '\r';
			from = nl;
		}
		q = nl + 1;
	}
	memcpy(d, from, (size_t)(end - from));
	d += end - from;
	if (n > 0)
		s->prev_cr = p[n - 1] == '\r';
	return (size_t)(d - dst);
}

int
imap_src_fill(struct imap_src *s, char *rbuf, size_t chunk, struct buf *out)
{
	const char *p;
	ssize_t got;
	size_t n;

	if (s->eof)
		return 0;
	if (s->mem != NULL) {
		n = s->mem_n - s->mem_pos;
		if (n > chunk)
			n = chunk;
		if (n == 0) {
			s->eof = true;
			return 0;
		}
		s->mem_pos += n;
		return buf_append(out, s->mem + s->mem_pos - n, n);
	}
	if (s->pos >= s->end)
		return src_end(s, out);
	if (s->end - s->pos < chunk)
		chunk = (size_t)(s->end - s->pos);
	do
		got = pread(s->fd, rbuf, chunk, (off_t)s->pos);
	while (got == -1 && errno == EINTR);
	if (got == -1)
		return -1;
	if (got == 0) /* a file shorter than the tree: the caller pads */
		return src_end(s, out);
	s->pos += (uint64_t)got;
	p = rbuf;
	n = (size_t)got;
	if (s->crlf) {
		n = crlf_convert(s, rbuf, n, rbuf + chunk);
		p = rbuf + chunk;
	}
	switch (s->dec) {
	case IMAP_SRC_QP:
		return mime_qp_decode(&s->qp, p, n, out);
	case IMAP_SRC_BASE64:
		return mime_b64_decode(&s->b64, p, n, out);
	default:
		return buf_append(out, p, n);
	}
}

void
imap_hdr_filter_init(struct imap_hdr_filter *hf, const struct imap_slice *names,
    size_t n, bool not )
{
	memset(hf, 0, sizeof(*hf));
	hf->names = names;
	hf->n = n;
	hf->not = not ;
	/* bounded by the header's size, which the caller holds anyway */
	buf_init(&hf->field, BUF_MAX_DEFAULT);
}

/* Is field f[0..n) one of the names? Case-insensitive (RFC 5322 1.2.2). */
static bool
field_named(const struct imap_hdr_filter *hf, const char *f, size_t n)
{
	size_t name_n, i;

	if (!mime_field_is(f, n, &name_n))
		return false;
	for (i = 0; i < hf->n; i++)
		if (hf->names[i].n == name_n &&
		    strncasecmp(hf->names[i].p, f, name_n) == 0)
			return true;
	return false;
}

/* The field field[0..n) is complete: keep it or not. */
static int
field_done(struct imap_hdr_filter *hf, size_t n, struct buf *out)
{
	if (n == 0 || field_named(hf, hf->field.data, n) == hf->not )
		return 0;
	if (buf_append(out, hf->field.data, n) == -1)
		return -1;
	if (hf->field.data[n - 1] != '\n') /* the header's last line */
		return buf_append(out, "\r\n", 2);
	return 0;
}

/* A line ended at the end of field: which field does it belong to? */
static int
line_done(struct imap_hdr_filter *hf, struct buf *out)
{
	const char *l = hf->field.data + hf->line_start;
	size_t n = hf->field.len - hf->line_start;

	if (n <= 2 && (l[0] == '\n' || l[0] == '\r')) {
		/* the empty line: the header ends */
		hf->done = true;
		hf->eoh = true;
		buf_truncate(&hf->field, hf->line_start);
		return 0;
	}
	if (hf->line_start > 0 && l[0] != ' ' && l[0] != '\t') {
		/* RFC 5322 2.2.3: a line not starting with white space
		 * starts the next field */
		if (field_done(hf, hf->line_start, out) == -1)
			return -1;
		memmove(hf->field.data, l, n);
		buf_truncate(&hf->field, n);
	}
	hf->line_start = hf->field.len;
	return 0;
}

int
imap_hdr_filter_feed(
    struct imap_hdr_filter *hf, const char *p, size_t n, struct buf *out)
{
	const char *nl;
	size_t k;

	while (n > 0 && !hf->done) {
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) + 1 : n;
		if (buf_append(&hf->field, p, k) == -1)
			return -1;
		if (nl != NULL && line_done(hf, out) == -1)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

int
imap_hdr_filter_end(struct imap_hdr_filter *hf, struct buf *out)
{
	if (!hf->done && hf->line_start < hf->field.len && hf->line_start > 0) {
		/* a last line without a line end: as line_done() would */
		const char *l = hf->field.data + hf->line_start;

		if (l[0] != ' ' && l[0] != '\t') {
			size_t n = hf->field.len - hf->line_start;

			if (field_done(hf, hf->line_start, out) == -1)
				return -1;
			memmove(hf->field.data, l, n);
			buf_truncate(&hf->field, n);
		}
	}
	if (field_done(hf, hf->field.len, out) == -1)
		return -1;
	buf_reset(&hf->field);
	hf->line_start = 0;
	hf->done = true;
	/* the empty line that ends a header, as Dovecot sends it: always
	 * for HEADER.FIELDS, for .NOT only when the header had one */
	if (hf->not && !hf->eoh)
		return 0;
	return buf_append(out, "\r\n", 2);
}

void
imap_hdr_filter_free(struct imap_hdr_filter *hf)
{
	buf_free(&hf->field);
}
