/*
 * The streaming MIME structure parser (see mime_parse.h). Input is cut
 * into lines; of each line only a bounded prefix is kept (enough for a
 * header field we use, or for a boundary), while offsets, LF counts and
 * bare-LF counts run over all of it. Part sizes are differences of those
 * running counts, taken where a part starts and ends, so that closing a
 * part costs the same whatever its size. The parts being read form a path
 * from the root (open[]); a boundary line closes every part inside its
 * multipart at once.
 */
#include "mime/mime_parse.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mime/mime_field.h"
#include "mime/mime_tree.h"

/* Appends to a buffer sized for the input: past its ceiling, the rest is
 * cut, which is what the limits ask for. */
static void
put(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) == -1)
		return;
}

// clang-format off
const struct mime_limits mime_limits_default = {
	.depth_max = 100,	/* Dovecot's mime_max_nested_parts default */
	.part_max = 10000,	/* Dovecot's max_total_mime_parts default */
	.field_max = 8192,
	.param_max = 64,
	.boundary_max = 256,
	.tree_max = 4 * 1024 * 1024,
};
// clang-format on

enum field_kind {
	F_NONE = -1,
	F_ENV = 0, /* F_ENV + enum mime_env_field */
	F_CTYPE = MIME_ENV_COUNT,
	F_CTE,
	F_ID,
	F_DESC,
	F_MD5,
	F_DISP,
	F_LANG,
	F_LOC,
};

struct open_part {
	struct mime_part *part, *last_child;
	uint64_t hdr_bare;           /* bare LFs before the header */
	uint64_t body_lf, body_bare; /* LFs and bare LFs before the body */
	const char *bnd;             /* an active boundary, or NULL */
	size_t bnd_n;
	bool in_header;
};

struct mime_parser {
	struct mime_limits lim;
	struct mime_tree *t;
	/* running counts over everything fed */
	uint64_t off, lf, bare;
	unsigned char last;
	/* the line being read: where it started, the counts before it, its
	 * length (without LF) and a prefix of it */
	uint64_t line_off, line_lf, line_bare, line_len;
	struct buf line;
	size_t keep;       /* bytes of a line worth keeping now */
	unsigned prev_eol; /* length of the previous line's end */
	bool line_close;  /* this line is a close delimiter */
	bool after_close; /* the line before this one was one */
	bool line_cr;      /* the line's LF had a CR before it */
	/* the header field being read */
	struct buf field;
	enum field_kind kind;
	/* the path of open parts; open[open_n - 1] is being read */
	struct open_part *open;
	size_t open_n;
	bool no_more_parts; /* a limit was hit: boundaries are not seen */
};

static const char *const env_names[MIME_ENV_COUNT] = { "date", "subject",
	"from", "sender", "reply-to", "to", "cc", "bcc", "in-reply-to",
	"message-id" };

static struct open_part *
top(struct mime_parser *mp)
{
	return &mp->open[mp->open_n - 1];
}

static void
set_keep(struct mime_parser *mp)
{
	mp->keep = top(mp)->in_header ? mp->lim.field_max + 256
	                              : mp->lim.boundary_max + 4;
}

static void
part_open(struct mime_parser *mp, struct mime_part *p)
{
	struct open_part *o = &mp->open[mp->open_n++];

	memset(o, 0, sizeof(*o));
	o->part = p;
	o->in_header = true;
	o->hdr_bare = mp->bare;
	p->hdr_offset = mp->off;
	set_keep(mp);
}

/* May another part be added? Past a limit, the rest is one opaque body. */
static bool
part_room(struct mime_parser *mp)
{
	if (mp->no_more_parts)
		return false;
	if (mime_tree_part_count(mp->t) + 1 > mp->lim.part_max ||
	    mime_tree_mem(mp->t) > mp->lim.tree_max) {
		mp->no_more_parts = true;
		return false;
	}
	return true;
}

/* A new part as the last child of the open part o, in O(1). */
static struct mime_part *
child_new(struct mime_parser *mp, struct open_part *o)
{
	o->last_child = mime_tree_add_part(mp->t, o->part, o->last_child);
	return o->last_child;
}

/* Keeps a trimmed copy of the field value (unfolded already). */
static const char *
field_value(struct mime_parser *mp, size_t *n_out)
{
	const char *p = mp->field.data != NULL ? mp->field.data : "";
	size_t n = mp->field.len;

	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*n_out = n;
	return p;
}

static char *
value_dup(struct mime_parser *mp, const char *p, size_t n)
{
	char *s = mime_tree_alloc(mp->t, n + 1);
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (p[i] != '\0') /* NULs cannot be C strings: dropped */
			s[k++] = p[i];
	s[k] = '\0';
	return s;
}

static bool
env_is_address(int f)
{
	return f == MIME_ENV_FROM || f == MIME_ENV_SENDER ||
	    f == MIME_ENV_REPLY_TO || f == MIME_ENV_TO || f == MIME_ENV_CC ||
	    f == MIME_ENV_BCC;
}

static void
env_store(
    struct mime_parser *mp, struct mime_part *p, int f, const char *v, size_t n)
{
	const char **slot = &p->envelope->field[f];
	struct buf b;

	if (*slot == NULL) {
		*slot = value_dup(mp, v, n);
		return;
	}
	if (!env_is_address(f))
		return; /* the first one counts */
	/* repeated address fields are joined, as Dovecot does, bounded */
	buf_init(&b, mp->lim.field_max);
	if (buf_append_str(&b, *slot) == 0 && buf_append(&b, ", ", 2) == 0)
		put(&b, v, n);
	if (b.len > 0)
		*slot = value_dup(mp, b.data, b.len);
	buf_free(&b);
}

static void
field_finish(struct mime_parser *mp)
{
	struct mime_part *p = top(mp)->part;
	const char *v;
	size_t n, lim = mp->lim.param_max;
	size_t t0, t1;

	if (mp->kind == F_NONE)
		return;
	v = field_value(mp, &n);
	switch (mp->kind) {
	case F_CTYPE:
		if (p->type == NULL)
			mime_field_ctype(mp->t, p, v, n, lim);
		break;
	case F_CTE:
		if (p->cte_name != NULL || p->cte != MIME_CTE_7BIT)
			break;
		p->cte = mime_cte_parse(v, n);
		t0 = mime_skip_cfws(v, 0, n);
		t1 = mime_skip_token(v, t0, n);
		if (t1 > t0 && mime_skip_cfws(v, t1, n) == n)
			p->cte_name = value_dup(mp, v + t0, t1 - t0);
		break;
	case F_ID:
		if (p->id == NULL)
			p->id = value_dup(mp, v, n);
		break;
	case F_DESC:
		if (p->description == NULL)
			p->description = value_dup(mp, v, n);
		break;
	case F_MD5:
		if (p->md5 == NULL)
			p->md5 = value_dup(mp, v, n);
		break;
	case F_DISP:
		if (p->disposition == NULL)
			mime_field_disposition(mp->t, p, v, n, lim);
		break;
	case F_LANG:
		if (p->language == NULL)
			mime_field_language(mp->t, p, v, n, lim);
		break;
	case F_LOC:
		if (p->location == NULL)
			p->location = value_dup(mp, v, n);
		break;
	default:
		if (p->envelope != NULL)
			env_store(mp, p, mp->kind - F_ENV, v, n);
		break;
	}
	mp->kind = F_NONE;
	buf_reset(&mp->field);
}

static enum field_kind
field_kind_of(const struct mime_part *p, const char *name, size_t n)
{
	// clang-format off
	static const struct {
		const char *name;
		enum field_kind kind;
	} content[] = {
		{ "content-type",              F_CTYPE },
		{ "content-transfer-encoding", F_CTE },
		{ "content-id",                F_ID },
		{ "content-description",       F_DESC },
		{ "content-md5",               F_MD5 },
		{ "content-disposition",       F_DISP },
		{ "content-language",          F_LANG },
		{ "content-location",          F_LOC },
	};
	// clang-format on
	size_t k;

	for (k = 0; k < MW_NELEM(content); k++)
		if (mime_ieq(name, n, content[k].name))
			return content[k].kind;
	if (p->envelope != NULL)
		for (k = 0; k < MIME_ENV_COUNT; k++)
			if (mime_ieq(name, n, env_names[k]))
				return (enum field_kind)(F_ENV + (int)k);
	return F_NONE;
}

/* The kept part of the current line, without its line end. */
static const char *
line_text(struct mime_parser *mp, size_t *n_out)
{
	size_t n = mp->line.len;

	if (n > 0 && n == mp->line_len && mp->line.data[n - 1] == '\r')
		n--;
	*n_out = n;
	return mp->line.data != NULL ? mp->line.data : "";
}

static void
header_line(struct mime_parser *mp, const char *l, size_t n)
{
	size_t name_n, room;
	const char *colon;

	if (n > 0 && (l[0] == ' ' || l[0] == '\t')) {
		/* RFC 5322 2.2.3: a folded line continues the field */
		if (mp->kind != F_NONE) {
			room = mp->field.max - mp->field.len;
			put(&mp->field, l, n < room ? n : room);
		}
		return;
	}
	field_finish(mp);
	if (!mime_field_is(l, n, &name_n))
		return; /* not a field: ignored */
	mp->kind = field_kind_of(top(mp)->part, l, name_n);
	if (mp->kind == F_NONE)
		return;
	colon = memchr(l, ':', n);
	room = mp->field.max;
	n -= (size_t)(colon + 1 - l);
	put(&mp->field, colon + 1, n < room ? n : room);
}

static bool
type_is(const struct mime_part *p, const char *type, const char *subtype)
{
	return p->type != NULL && mime_ieq(p->type, strlen(p->type), type) &&
	    (subtype == NULL ||
	        mime_ieq(p->subtype, strlen(p->subtype), subtype));
}

/* The header ended at end (the body starts at body): what is this part? */
static void
header_end(struct mime_parser *mp, uint64_t end, uint64_t end_bare,
    uint64_t body, uint64_t body_lf, uint64_t body_bare)
{
	struct open_part *o = top(mp);
	struct mime_part *p = o->part, *c;
	const char *bnd;
	bool deeper = mp->open_n < mp->lim.depth_max;

	field_finish(mp);
	o->in_header = false;
	p->hdr_size = end - p->hdr_offset;
	p->hdr_vsize = p->hdr_size + (end_bare - o->hdr_bare);
	p->body_offset = body;
	o->body_lf = body_lf;
	o->body_bare = body_bare;
	set_keep(mp);
	p->flags &= MIME_PART_TRUNCATED;
	if (p->type == NULL) {
		/* RFC 2045 5.2, RFC 2046 5.1.5 */
		if (p->parent != NULL &&
		    (p->parent->flags & MIME_PART_DIGEST) != 0)
			goto message;
		p->flags |= MIME_PART_TEXT;
		return;
	}
	if (mime_ieq(p->type, strlen(p->type), "text")) {
		p->flags |= MIME_PART_TEXT;
		return;
	}
	if (type_is(p, "multipart", NULL)) {
		bnd = mime_param_find(p->params, p->params_n, "boundary");
		if (bnd == NULL || *bnd == '\0' ||
		    strlen(bnd) > mp->lim.boundary_max) {
			/* no usable boundary: a multipart without parts,
			 * its body all preamble (as Dovecot has it) */
			p->flags |= MIME_PART_MULTIPART;
			return;
		}
		if (!deeper || mp->no_more_parts) {
			p->flags |= MIME_PART_TRUNCATED;
			return;
		}
		p->flags |= MIME_PART_MULTIPART;
		if (mime_ieq(p->subtype, strlen(p->subtype), "digest"))
			p->flags |= MIME_PART_DIGEST;
		o->bnd = bnd;
		o->bnd_n = strlen(bnd);
		return;
	}
	if (!type_is(p, "message", "rfc822") &&
	    !type_is(p, "message", "global"))
		return;
message:
	/* RFC 2046 5.2.1: only 7bit, 8bit or binary; an encoded message is
	 * left opaque */
	if (p->cte != MIME_CTE_7BIT && p->cte != MIME_CTE_8BIT &&
	    p->cte != MIME_CTE_BINARY)
		return;
	if (!deeper || !part_room(mp)) {
		p->flags |= MIME_PART_TRUNCATED;
		return;
	}
	p->flags |= MIME_PART_MESSAGE;
	c = child_new(mp, o);
	c->envelope = mime_tree_alloc(mp->t, sizeof(*c->envelope));
	part_open(mp, c);
}

/* Closes the open part being read, whose body ends at end with those
 * counts. */
static void
part_close(
    struct mime_parser *mp, uint64_t end, uint64_t end_lf, uint64_t end_bare)
{
	struct open_part *o = top(mp), *c;
	struct mime_part *p = o->part;

	if (o->in_header) {
		header_end(mp, end, end_bare, end, end_lf, end_bare);
		if (top(mp) != o) {
			/* a message whose header ended here: its message
			 * is empty */
			c = top(mp);
			c->part->hdr_offset = end;
			c->hdr_bare = end_bare;
			part_close(mp, end, end_lf, end_bare);
		}
	}
	if (end < p->body_offset) {
		end = p->body_offset;
		end_lf = o->body_lf;
		end_bare = o->body_bare;
	}
	p->body_size = end - p->body_offset;
	p->body_vsize = p->body_size + (end_bare - o->body_bare);
	p->body_lines = end_lf - o->body_lf;
	mp->open_n--;
}

/* Which open multipart's boundary does line l[0..n) delimit? RFC 2046
 * 5.1.1: "--" boundary, then maybe "--", then white space; as Dovecot, a
 * line that starts so counts, and the longest boundary wins. */
static struct open_part *
boundary_find(struct mime_parser *mp, const char *l, size_t n, bool *close)
{
	struct open_part *best = NULL;
	size_t k, end = n;

	if (mp->no_more_parts || n < 3 || l[0] != '-' || l[1] != '-')
		return NULL;
	while (end > 2 && (l[end - 1] == ' ' || l[end - 1] == '\t'))
		end--;
	for (k = mp->open_n; k-- > 0;) {
		struct open_part *o = &mp->open[k];

		if (o->bnd == NULL || o->bnd_n > end - 2 ||
		    memcmp(l + 2, o->bnd, o->bnd_n) != 0)
			continue;
		if (best == NULL || o->bnd_n > best->bnd_n)
			best = o;
		if (o->bnd_n + 2 == end ||
		    (o->bnd_n + 4 == end && l[end - 1] == '-' &&
		        l[end - 2] == '-'))
			break; /* exactly this one */
	}
	if (best != NULL)
		*close = end - 2 >= best->bnd_n + 2 &&
		    memcmp(l + 2 + best->bnd_n, "--", 2) == 0;
	return best;
}

static void
boundary_line(struct mime_parser *mp, struct open_part *mpo, bool close)
{
	uint64_t end = mp->line_off - mp->prev_eol;
	uint64_t end_lf = mp->line_lf - (mp->prev_eol > 0);
	uint64_t end_bare = mp->line_bare - (mp->prev_eol == 1);
	struct mime_part *c;

	/* As Dovecot: the line end of an inner close delimiter ("--in--")
	 * stays with the inner multipart (and a message around it) even
	 * when this boundary follows at once; RFC 2046's grammar gives it
	 * to either */
	if (mp->after_close) {
		end = mp->line_off;
		end_lf = mp->line_lf;
		end_bare = mp->line_bare;
	}

	/* RFC 2046 5.1.1: the line end before the boundary is part of it;
	 * every part inside this multipart ends here */
	while (top(mp) != mpo)
		part_close(mp, end, end_lf, end_bare);
	if (close) {
		mpo->bnd = NULL; /* the epilogue follows */
		return;
	}
	if (!part_room(mp)) {
		mpo->part->flags |= MIME_PART_TRUNCATED;
		return; /* the rest is the multipart's opaque epilogue */
	}
	/* the new part starts after this line */
	c = child_new(mp, mpo);
	part_open(mp, c);
}

/* A complete line (had_lf: it ended in LF, else at the end of input). */
static void
line_done(struct mime_parser *mp, bool had_lf)
{
	struct open_part *o = top(mp), *b;
	const char *l;
	size_t n;
	bool close = false, crlf;

	l = line_text(mp, &n);
	crlf = had_lf && mp->line_cr;
	b = boundary_find(mp, l, n, &close);
	mp->after_close = mp->line_close;
	mp->line_close = b != NULL && close;
	if (b != NULL)
		boundary_line(mp, b, close);
	else if (o->in_header) {
		if (mp->line_len - crlf == 0 && had_lf) {
			/* the empty line ends the header (RFC 5322 2.1) */
			header_end(
			    mp, mp->off, mp->bare, mp->off, mp->lf, mp->bare);
		} else
			header_line(mp, l, n);
	}
	mp->prev_eol = had_lf ? 1 + crlf : 0;
	buf_reset(&mp->line);
	mp->line_len = 0;
	mp->line_off = mp->off;
	mp->line_lf = mp->lf;
	mp->line_bare = mp->bare;
}

struct mime_parser *
mime_parser_new(const struct mime_limits *lim)
{
	struct mime_parser *mp = xcalloc(1, sizeof(*mp));

	mp->lim = *lim;
	if (mp->lim.depth_max == 0)
		mp->lim.depth_max = 1;
	if (mp->lim.part_max == 0)
		mp->lim.part_max = 1;
	mp->t = mime_tree_new();
	buf_init(&mp->line, mp->lim.field_max + mp->lim.boundary_max + 512);
	buf_init(&mp->field, mp->lim.field_max);
	mp->kind = F_NONE;
	/* the path holds at most depth_max parts, and a message's child */
	mp->open = xcalloc(mp->lim.depth_max + 2, sizeof(*mp->open));
	mime_tree_root(mp->t)->envelope =
	    mime_tree_alloc(mp->t, sizeof(*mime_tree_root(mp->t)->envelope));
	part_open(mp, mime_tree_root(mp->t));
	return mp;
}

void
mime_parser_feed(struct mime_parser *mp, const void *data, size_t n)
{
	const unsigned char *p = data, *nl;
	size_t seg, keep;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		seg = nl != NULL ? (size_t)(nl - p) : n;
		/* keep a prefix of the line: in a body, only lines that
		 * start with "--" matter */
		if (mp->line.len < mp->keep &&
		    (top(mp)->in_header || mp->line.len == 0 ||
		        (mp->line.data[0] == '-' &&
		            (mp->line.len == 1 || mp->line.data[1] == '-')))) {
			keep = mp->keep - mp->line.len;
			put(&mp->line, p, seg < keep ? seg : keep);
		}
		mp->line_len += seg;
		mp->off += seg;
		if (seg > 0)
			mp->last = p[seg - 1];
		if (nl == NULL)
			break;
		mp->off++;
		mp->lf++;
		mp->line_cr = mp->last == '\r';
		if (!mp->line_cr)
			mp->bare++;
		mp->last = '\n';
		line_done(mp, true);
		p += seg + 1;
		n -= seg + 1;
	}
}

struct mime_tree *
mime_parser_end(struct mime_parser **mpp)
{
	struct mime_parser *mp = *mpp;
	struct mime_tree *t;

	if (mp->line_len > 0)
		line_done(mp, false);
	while (mp->open_n > 0)
		part_close(mp, mp->off, mp->lf, mp->bare);
	t = mp->t;
	mp->t = NULL;
	mime_parser_free(mpp);
	return t;
}

void
mime_parser_free(struct mime_parser **mpp)
{
	struct mime_parser *mp = *mpp;

	if (mp == NULL)
		return;
	mime_tree_free(&mp->t);
	buf_free(&mp->line);
	buf_free(&mp->field);
	free(mp->open);
	free(mp);
	*mpp = NULL;
}

struct mime_tree *
mime_parse(const void *p, size_t n, const struct mime_limits *lim)
{
	struct mime_parser *mp = mime_parser_new(lim);

	mime_parser_feed(mp, p, n);
	return mime_parser_end(&mp);
}
