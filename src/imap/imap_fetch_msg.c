/*
 * The FETCH response of one message (see imap_fetch_msg.h). The writer
 * keeps a plan (the items to send, duplicates and added UID/FLAGS
 * settled in imap_fetch_writer_new()) and walks it in steps: small items
 * are appended whole; a content item announces its literal, then streams
 * its bytes through a pending buffer that holds at most one read's worth.
 * Two items read ahead before they can announce a size: BINARY (a
 * counting pass over the decoded bytes, which also tells whether a NUL
 * asks for literal8, RFC 3516 4.2) and HEADER.FIELDS (the result is
 * built whole in memory, at most the header's size).
 */
#include "imap/imap_fetch_msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_bodystructure.h"
#include "imap/imap_envelope.h"
#include "imap/imap_fetch.h"
#include "imap/imap_fetch_msg_private.h"
#include "imap/imap_flags.h"
#include "imap/imap_string.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mime/mime_tree.h"
#include "store/store.h"

enum phase {
	PH_START,   /* the item's name is next */
	PH_PREPASS, /* reading ahead: BINARY size, HEADER.FIELDS */
	PH_BODY,    /* the literal's contents */
};

enum wstate {
	W_HEAD,
	W_ITEMS,
	W_END,
};

static const struct imap_fetch_item uid_item = { .att = IMAP_FA_UID };
static const struct imap_fetch_item flags_item = { .att = IMAP_FA_FLAGS };

struct imap_fetch_writer {
	const struct imap_fetch *f;
	const struct imap_fetch_msg_in *in;
	/* the items of every response: UID first when added (UID FETCH),
	 * then those asked without duplicates (nbase in all), then FLAGS
	 * when has_flags_slot, sent only after this FETCH set \Seen */
	const struct imap_fetch_item **plan;
	struct buf *names; /* plan[i]'s name in the response */
	size_t nbase;
	bool add_uid;
	bool has_flags_slot;
	size_t nplan, cur;
	enum wstate state;
	/* the item being written */
	enum phase phase;
	bool binary; /* BINARY: decoded bytes, NUL kept */
	struct imap_section_range range;
	struct imap_src src;
	enum imap_src_dec dec;
	uint64_t skip, remain; /* output bytes to drop, then to send */
	uint64_t count;        /* prepass: decoded bytes */
	bool nul;              /* prepass: a NUL among them */
	bool hdr_fields;       /* prepass: HEADER.FIELDS [.NOT] */
	struct imap_hdr_filter hf;
	struct buf hdr; /* the HEADER.FIELDS result */
	bool padded;
	/* I/O */
	char *rbuf;
	size_t rbuf_n;
	struct buf pend;
	size_t pend_off;
};

/* clang-format off */
static const char *const att_names[] = {
	[IMAP_FA_ENVELOPE] = "ENVELOPE",
	[IMAP_FA_FLAGS] = "FLAGS",
	[IMAP_FA_INTERNALDATE] = "INTERNALDATE",
	[IMAP_FA_RFC822_SIZE] = "RFC822.SIZE",
	[IMAP_FA_RFC822] = "RFC822",
	[IMAP_FA_RFC822_HEADER] = "RFC822.HEADER",
	[IMAP_FA_RFC822_TEXT] = "RFC822.TEXT",
	[IMAP_FA_BODY] = "BODY",
	[IMAP_FA_BODYSTRUCTURE] = "BODYSTRUCTURE",
	[IMAP_FA_UID] = "UID",
	[IMAP_FA_BODY_SECTION] = "BODY",
	[IMAP_FA_BINARY] = "BINARY",
	[IMAP_FA_BINARY_SIZE] = "BINARY.SIZE",
};
static const char *const text_names[] = {
	[IMAP_SECTION_ALL] = "",
	[IMAP_SECTION_HEADER] = "HEADER",
	[IMAP_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
	[IMAP_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
	[IMAP_SECTION_TEXT] = "TEXT",
	[IMAP_SECTION_MIME] = "MIME",
};
/* clang-format on */

static bool
is_content(const struct imap_fetch_item *it)
{
	switch (it->att) {
	case IMAP_FA_RFC822:
	case IMAP_FA_RFC822_HEADER:
	case IMAP_FA_RFC822_TEXT:
	case IMAP_FA_BODY_SECTION:
	case IMAP_FA_BINARY:
		return true;
	default:
		return false;
	}
}

static bool
is_whole(const struct imap_fetch_item *it)
{
	return it->att == IMAP_FA_RFC822 ||
	    ((it->att == IMAP_FA_BODY_SECTION || it->att == IMAP_FA_BINARY ||
	         it->att == IMAP_FA_BINARY_SIZE) &&
	        it->nparts == 0 && it->text == IMAP_SECTION_ALL);
}

unsigned
imap_fetch_needs(const struct imap_fetch *f)
{
	unsigned need = 0;
	size_t i;

	for (i = 0; i < f->n; i++) {
		const struct imap_fetch_item *it = &f->items[i];

		switch (it->att) {
		case IMAP_FA_ENVELOPE:
		case IMAP_FA_BODY:
		case IMAP_FA_BODYSTRUCTURE:
			need |= IMAP_FETCH_NEED_TREE;
			break;
		case IMAP_FA_RFC822_HEADER:
		case IMAP_FA_RFC822_TEXT:
		case IMAP_FA_RFC822:
		case IMAP_FA_BODY_SECTION:
		case IMAP_FA_BINARY:
		case IMAP_FA_BINARY_SIZE:
			if (it->att == IMAP_FA_BINARY_SIZE && is_whole(it))
				break; /* store_msg.vsize */
			need |= IMAP_FETCH_NEED_FILE;
			if (!is_whole(it))
				need |= IMAP_FETCH_NEED_TREE;
			break;
		default:
			break;
		}
	}
	return need;
}

bool
imap_fetch_sets_seen(const struct imap_fetch *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		switch (f->items[i].att) {
		case IMAP_FA_RFC822:
		case IMAP_FA_RFC822_TEXT:
			return true;
		case IMAP_FA_BODY_SECTION:
		case IMAP_FA_BINARY:
			if (!f->items[i].peek)
				return true;
			break;
		default:
			break;
		}
	}
	return false;
}

/* RFC 9051 9 ASTRING-CHAR: may a header field name go as an atom? */
static bool
atom_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\", c) != NULL)
			return false;
	}
	return true;
}

/*
 * The item's name in the response: RFC 9051 7.5.2 names a section as it
 * was asked; header field names upper-cased, atoms as atoms and others
 * quoted, as Dovecot writes them; "<origin>" after a partial (Dovecot
 * does this for BINARY too).
 */
static int
name_append(struct buf *out, const struct imap_fetch_item *it)
{
	size_t i, j, start;

	if (buf_append_str(out, att_names[it->att]) == -1)
		return -1;
	if (it->att != IMAP_FA_BODY_SECTION && it->att != IMAP_FA_BINARY &&
	    it->att != IMAP_FA_BINARY_SIZE)
		return 0;
	if (buf_append_char(out, '[') == -1)
		return -1;
	for (i = 0; i < it->nparts; i++)
		if ((i > 0 && buf_append_char(out, '.') == -1) ||
		    imap_number_append(out, it->parts[i]) == -1)
			return -1;
	if (it->nparts > 0 && it->text != IMAP_SECTION_ALL &&
	    buf_append_char(out, '.') == -1)
		return -1;
	if (buf_append_str(out, text_names[it->text]) == -1)
		return -1;
	if (it->nfields > 0) {
		if (buf_append_str(out, " (") == -1)
			return -1;
		for (i = 0; i < it->nfields; i++) {
			const struct imap_slice *f = &it->fields[i];

			if (i > 0 && buf_append_char(out, ' ') == -1)
				return -1;
			start = out->len;
			if (atom_ok(f->p, f->n)) {
				if (buf_append(out, f->p, f->n) == -1)
					return -1;
			} else if (imap_string_append(out, f->p, f->n, false) ==
			    -1) {
				return -1;
			}
			for (j = start; j < out->len; j++)
				if (out->data[j] >= 'a' && out->data[j] <= 'z')
					out->data[j] -= 'a' - 'A';
		}
		if (buf_append_char(out, ')') == -1)
			return -1;
	}
	if (buf_append_char(out, ']') == -1)
		return -1;
	if (it->partial &&
	    (buf_append_char(out, '<') == -1 ||
	        imap_number_append(out, it->offset) == -1 ||
	        buf_append_char(out, '>') == -1))
		return -1;
	return 0;
}

/* RFC 3516 4.1: a part's body is decoded by its Content-Transfer-Encoding;
 * the whole message (BINARY[]) goes as it is. */
static int
binary_dec(const struct imap_section_range *r, enum imap_src_dec *dec_out)
{
	*dec_out = IMAP_SRC_PLAIN;
	if (!r->exists || r->whole)
		return 0;
	switch (r->part->cte) {
	case MIME_CTE_QP:
		*dec_out = IMAP_SRC_QP;
		return 0;
	case MIME_CTE_BASE64:
		*dec_out = IMAP_SRC_BASE64;
		return 0;
	case MIME_CTE_OTHER:
		return -1;
	default:
		return 0;
	}
}

/* RFC 3516 4.3: BINARY of a part whose encoding is unknown is refused. */
static int
binary_check(const struct imap_fetch *f, const struct imap_fetch_msg_in *in)
{
	struct imap_section_range r;
	enum imap_src_dec dec;
	size_t i;

	for (i = 0; i < f->n; i++) {
		const struct imap_fetch_item *it = &f->items[i];

		if (it->att != IMAP_FA_BINARY && it->att != IMAP_FA_BINARY_SIZE)
			continue;
		r = imap_section_find(in->tree, in->msg, it);
		if (binary_dec(&r, &dec) == -1)
			return -1;
	}
	return 0;
}

int
imap_fetch_writer_new(const struct imap_fetch *f,
    const struct imap_fetch_msg_in *in, struct imap_fetch_writer **w_out,
    const char **code_out)
{
	struct imap_fetch_writer *w;
	struct buf a;
	size_t i, j, n = 0, nall = 0;
	bool dup, has_uid = false, has_flags = false;

	*w_out = NULL;
	*code_out = NULL;
	for (i = 0; i < f->n; i++) {
		has_uid |= f->items[i].att == IMAP_FA_UID;
		has_flags |= f->items[i].att == IMAP_FA_FLAGS;
	}
	w = xcalloc(1, sizeof(*w));
	w->f = f;
	w->add_uid = in->add_uid;
	w->plan = xreallocarray(NULL, f->n + 2, sizeof(*w->plan));
	w->names = xreallocarray(NULL, f->n + 2, sizeof(*w->names));
	if (in->add_uid && !has_uid)
		w->plan[nall++] = &uid_item;
	for (i = 0; i < f->n; i++)
		w->plan[nall++] = &f->items[i];
	/* RFC 9051 7.5.2 gives each item once: drop what names one already
	 * there (BODY[1] and BODY.PEEK[1] both answer as BODY[1]) */
	for (i = 0; i < nall; i++) {
		buf_init(&a, BUF_MAX_DEFAULT);
		if (name_append(&a, w->plan[i]) == -1)
			log_panic("imap_fetch_writer_new: %m");
		dup = false;
		for (j = 0; j < n && !dup; j++)
			dup = a.len == w->names[j].len &&
			    memcmp(a.data, w->names[j].data, a.len) == 0;
		if (dup) {
			buf_free(&a);
			continue;
		}
		w->names[n] = a;
		w->plan[n++] = w->plan[i];
	}
	w->nbase = n;
	if (!has_flags) {
		w->has_flags_slot = true;
		buf_init(&w->names[n], BUF_MAX_DEFAULT);
		if (name_append(&w->names[n], &flags_item) == -1)
			log_panic("imap_fetch_writer_new: %m");
		w->plan[n] = &flags_item;
	}
	buf_init(&w->pend, BUF_MAX_DEFAULT);
	buf_init(&w->hdr, BUF_MAX_DEFAULT);
	if (imap_fetch_writer_next(w, in, code_out) == -1) {
		imap_fetch_writer_free(&w);
		return -1;
	}
	*w_out = w;
	return 0;
}

int
imap_fetch_writer_next(struct imap_fetch_writer *w,
    const struct imap_fetch_msg_in *in, const char **code_out)
{
	MW_ASSERT(in->add_uid == w->add_uid);
	*code_out = NULL;
	if (binary_check(w->f, in) == -1) {
		/* RFC 3516 4.3 */
		*code_out = "UNKNOWN-CTE";
		return -1;
	}
	w->in = in;
	w->nplan = w->nbase + (in->add_flags && w->has_flags_slot);
	w->cur = 0;
	w->state = W_HEAD;
	w->phase = PH_START;
	w->skip = w->remain = w->count = 0;
	w->nul = w->hdr_fields = w->padded = false;
	buf_reset(&w->pend);
	w->pend_off = 0;
	return 0;
}

void
imap_fetch_writer_free(struct imap_fetch_writer **wp)
{
	struct imap_fetch_writer *w = *wp;
	size_t i;

	if (w == NULL)
		return;
	imap_hdr_filter_free(&w->hf);
	buf_free(&w->hdr);
	buf_free(&w->pend);
	free(w->rbuf);
	for (i = 0; i < w->nbase + w->has_flags_slot; i++)
		buf_free(&w->names[i]);
	free(w->names);
	free(w->plan);
	free(w);
	*wp = NULL;
}

/* The values that need no file. */
static int
simple_append(struct imap_fetch_writer *w, const struct imap_fetch_item *it,
    struct buf *out)
{
	static const struct mime_envelope no_env;
	const struct imap_fetch_msg_in *in = w->in;
	const struct mime_part *root;

	switch (it->att) {
	case IMAP_FA_UID:
		return imap_number_append(out, in->msg->uid);
	case IMAP_FA_FLAGS:
		return imap_flags_append(out, in->msg->flags, in->msg->keywords,
		    in->keywords, in->nkeywords, in->recent);
	case IMAP_FA_INTERNALDATE:
		if (imap_date_time_append(out, in->msg->internaldate) == 0)
			return 0;
		if (errno != EOVERFLOW)
			return -1;
		/* a date no calendar holds: the epoch rather than none */
		return buf_append_str(out, "\"01-Jan-1970 00:00:00 +0000\"");
	case IMAP_FA_RFC822_SIZE:
		return imap_number_append(out, in->msg->vsize);
	case IMAP_FA_BINARY_SIZE:
		return imap_number_append(out, w->count);
	default:
		break;
	}
	MW_ASSERT(in->tree != NULL);
	root = mime_tree_root(in->tree);
	if (it->att == IMAP_FA_ENVELOPE)
		return imap_envelope_append(out,
		    root->envelope != NULL ? root->envelope : &no_env,
		    in->utf8);
	return imap_bodystructure_append(
	    out, root, it->att == IMAP_FA_BODYSTRUCTURE, in->utf8);
}

static int
rbuf_size(struct imap_fetch_writer *w, size_t budget)
{
	if (w->rbuf_n < budget) {
		free(w->rbuf);
		w->rbuf = xmalloc(IMAP_SRC_RBUF(budget));
		w->rbuf_n = budget;
	}
	return 0;
}

/* The next piece from the source into pend (emptied first). */
static int
fill(struct imap_fetch_writer *w, size_t budget)
{
	buf_reset(&w->pend);
	w->pend_off = 0;
	(void)rbuf_size(w, budget);
	return imap_src_fill(&w->src, w->rbuf, budget, &w->pend);
}

/* Announces the literal of size bytes (after the partial) and starts it. */
static int
literal_start(struct imap_fetch_writer *w, const struct imap_fetch_item *it,
    uint64_t size, struct buf *out)
{
	uint64_t n = 0;

	if (!it->partial)
		n = size;
	else if (it->offset < size)
		n = size - it->offset < it->count ? size - it->offset
		                                  : it->count;
	w->skip = it->partial ? it->offset : 0;
	w->remain = n;
	/* RFC 3516 4.2: literal8 only when the decoded data holds a NUL */
	if ((w->binary && w->nul && buf_append_char(out, '~') == -1) ||
	    buf_append_char(out, '{') == -1 ||
	    imap_number_append(out, n) == -1 ||
	    buf_append(out, "}\r\n", 3) == -1)
		return -1;
	/* without bare LFs, the file's offsets are the output's: seek */
	if (w->src.mem == NULL && w->dec == IMAP_SRC_PLAIN && w->range.exists &&
	    w->range.vsize == w->range.size) {
		w->src.pos += w->skip;
		w->skip = 0;
	}
	w->phase = n > 0 ? PH_BODY : PH_START;
	return 0;
}

/* Where a content item's bytes come from: the range it names. */
static void
content_open(struct imap_fetch_writer *w, const struct imap_fetch_item *it)
{
	w->binary = it->att == IMAP_FA_BINARY || it->att == IMAP_FA_BINARY_SIZE;
	w->range = imap_section_find(w->in->tree, w->in->msg, it);
	w->dec = IMAP_SRC_PLAIN;
	if (w->binary)
		(void)binary_dec(&w->range, &w->dec);
	/* base64 ignores line ends; QP's hard line breaks are CRLF (RFC
	 * 2045 6.7 rule 4), so they are converted before decoding */
	imap_src_init_file(
	    &w->src, w->in->fd, &w->range, w->dec != IMAP_SRC_BASE64, w->dec);
	w->count = 0;
	w->nul = false;
	w->padded = false;
	buf_reset(&w->pend); /* what the last item read beyond its end */
	w->pend_off = 0;
	w->hdr_fields = !w->binary && w->range.exists &&
	    (it->text == IMAP_SECTION_HEADER_FIELDS ||
	        it->text == IMAP_SECTION_HEADER_FIELDS_NOT);
}

/* The item's name and what can follow it without reading. 1: the item is
 * complete; 0: it goes on in a later phase. */
static int
item_start(struct imap_fetch_writer *w, const struct imap_fetch_item *it,
    struct buf *out)
{
	const struct buf *name = &w->names[w->cur];

	if ((w->cur > 0 && buf_append_char(out, ' ') == -1) ||
	    buf_append(out, name->data, name->len) == -1 ||
	    buf_append_char(out, ' ') == -1)
		return -1;
	if (it->att == IMAP_FA_BINARY_SIZE) {
		content_open(w, it);
		if (!w->range.exists)
			w->count = 0;
		else if (w->dec == IMAP_SRC_PLAIN)
			w->count = w->range.vsize; /* as it is */
		else {
			w->phase = PH_PREPASS;
			return 0;
		}
		return simple_append(w, it, out) == -1 ? -1 : 1;
	}
	if (!is_content(it))
		return simple_append(w, it, out) == -1 ? -1 : 1;
	content_open(w, it);
	if (w->hdr_fields) {
		buf_reset(&w->hdr);
		imap_hdr_filter_free(&w->hf);
		imap_hdr_filter_init(&w->hf, it->fields, it->nfields,
		    it->text == IMAP_SECTION_HEADER_FIELDS_NOT);
		w->phase = PH_PREPASS;
		return 0;
	}
	if (w->binary && w->range.exists) {
		w->phase = PH_PREPASS;
		return 0;
	}
	if (literal_start(w, it, w->range.exists ? w->range.vsize : 0, out) ==
	    -1)
		return -1;
	return w->phase == PH_BODY ? 0 : 1;
}

/* One read of the pass ahead. 1: the pass is over and the literal
 * announced (or BINARY.SIZE written), 0: more to read. */
static int
item_prepass(struct imap_fetch_writer *w, const struct imap_fetch_item *it,
    size_t budget, struct buf *out)
{
	if (fill(w, budget) == -1)
		return -1;
	if (w->hdr_fields) {
		if (imap_hdr_filter_feed(
		        &w->hf, w->pend.data, w->pend.len, &w->hdr) == -1)
			return -1;
	} else {
		/* literal8 only for a NUL in what is sent (the partial) */
		uint64_t lo = it->partial ? it->offset : 0;
		uint64_t hi = it->partial ? lo + it->count : UINT64_MAX;
		uint64_t a = w->count > lo ? w->count : lo;
		uint64_t b =
		    w->count + w->pend.len < hi ? w->count + w->pend.len : hi;

		if (!w->nul && a < b &&
		    memchr(w->pend.data + (a - w->count), '\0',
		        (size_t)(b - a)) != NULL)
			w->nul = true;
		w->count += w->pend.len;
	}
	buf_reset(&w->pend);
	if (!w->src.eof && !(w->hdr_fields && w->hf.done))
		return 0;
	if (it->att == IMAP_FA_BINARY_SIZE)
		return simple_append(w, it, out) == -1 ? -1 : 1;
	if (w->hdr_fields) {
		if (imap_hdr_filter_end(&w->hf, &w->hdr) == -1)
			return -1;
		imap_src_init_mem(&w->src, w->hdr.data, w->hdr.len);
		w->range.exists = false; /* no seeking in the file */
		return literal_start(w, it, w->hdr.len, out) == -1 ? -1 : 1;
	}
	/* the same range again, now to send it */
	imap_src_init_file(
	    &w->src, w->in->fd, &w->range, w->dec != IMAP_SRC_BASE64, w->dec);
	return literal_start(w, it, w->count, out) == -1 ? -1 : 1;
}

/* Up to budget bytes of the literal. 1 when it is complete. */
static int
item_body(struct imap_fetch_writer *w, size_t budget, struct buf *out)
{
	size_t n, start, i;

	if (w->pend_off == w->pend.len) {
		if (w->src.eof) {
			/* the file is shorter than the tree said: RFC 9051
			 * 4.3 needs exactly n octets */
			if (!w->padded)
				log_warn("message uid %u: file shorter than "
				         "its index says: FETCH literal "
				         "padded with spaces",
				    (unsigned)w->in->msg->uid);
			w->padded = true;
			n = w->remain < budget ? (size_t)w->remain : budget;
			for (i = 0; i < n; i++)
				if (buf_append_char(out, ' ') == -1)
					return -1;
			w->remain -= n;
			return w->remain == 0;
		}
		if (fill(w, budget) == -1)
			return -1;
	}
	n = w->pend.len - w->pend_off;
	if (w->skip > 0) {
		if (n > w->skip)
			n = (size_t)w->skip;
		w->pend_off += n;
		w->skip -= n;
		return 0;
	}
	if (n > w->remain)
		n = (size_t)w->remain;
	if (n > budget)
		n = budget;
	start = out->len;
	if (buf_append(out, w->pend.data + w->pend_off, n) == -1)
		return -1;
	/* RFC 9051 4.3: no NUL in a literal; as Dovecot */
	if (!w->binary && memchr(out->data + start, '\0', n) != NULL)
		for (i = start; i < out->len; i++)
			if (out->data[i] == '\0')
				out->data[i] = (char)0x80;
	w->pend_off += n;
	w->remain -= n;
	return w->remain == 0;
}

int
imap_fetch_writer_step(
    struct imap_fetch_writer *w, struct buf *out, size_t budget)
{
	const struct imap_fetch_item *it;
	size_t start = out->len;
	int rc;

	if (budget == 0)
		budget = 1;
	for (;;) {
		switch (w->state) {
		case W_HEAD:
			if (buf_append(out, "* ", 2) == -1 ||
			    imap_number_append(out, w->in->seq) == -1 ||
			    buf_append(out, " FETCH (", 8) == -1)
				return -1;
			w->state = W_ITEMS;
			break;
		case W_ITEMS:
			if (w->cur == w->nplan) {
				if (buf_append_str(out, ")\r\n") == -1)
					return -1;
				w->state = W_END;
				return 0;
			}
			it = w->plan[w->cur];
			switch (w->phase) {
			case PH_START:
				rc = item_start(w, it, out);
				break;
			case PH_PREPASS:
				rc = item_prepass(w, it, budget, out);
				if (rc == 1 && w->phase == PH_BODY)
					return 1; /* one read per step */
				if (rc == 0)
					return 1;
				break;
			default:
				rc = item_body(w, budget, out);
				if (rc == 0)
					return 1;
				break;
			}
			if (rc == -1)
				return -1;
			if (rc == 1) {
				w->cur++;
				w->phase = PH_START;
			}
			break;
		case W_END:
			return 0;
		}
		if (out->len - start >= budget && w->state != W_END)
			return 1;
	}
}
