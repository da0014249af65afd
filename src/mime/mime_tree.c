/*
 * The MIME part tree (see mime_tree.h): its arena, the effective types of
 * RFC 2045 5.2 / RFC 2046 5.1.5, and the blob that caches a tree in the
 * per-user index. The blob is a magic, a version and the parts in document
 * order, each naming its parent by index; numbers are LEB128 varints and
 * strings are a length (0 for NULL, else length + 1) and their bytes.
 */
#include "mime/mime_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

#define ARENA_CHUNK 8192

#define BLOB_MAGIC       "MWMT"
/* 2: the line end of a close delimiter stays in its part (mime_parse.c),
 * a parameter carries its RFC 2231 flag; blobs of 1 are parsed again */
#define BLOB_VERSION     2
#define BLOB_FLAGS_KNOWN 0x1fu

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct mime_tree {
	struct arena_chunk *chunks;
	size_t mem, parts;
	struct mime_part *root;
};

/* n bytes of the arena, not zeroed. */
static void *
mime_tree_alloc_raw(struct mime_tree *t, size_t n)
{
	struct arena_chunk *c = t->chunks;
	size_t size;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (c == NULL || c->size - c->used < n) {
		size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = xmalloc(sizeof(*c) + size);
		c->used = 0;
		c->size = size;
		/* a big block goes behind the current chunk, which stays
		 * the one to fill */
		if (t->chunks != NULL && n > ARENA_CHUNK / 2) {
			c->next = t->chunks->next;
			t->chunks->next = c;
		} else {
			c->next = t->chunks;
			t->chunks = c;
		}
		t->mem += sizeof(*c) + size;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

void *
mime_tree_alloc(struct mime_tree *t, size_t n)
{
	void *p = mime_tree_alloc_raw(t, n);

	memset(p, 0, n);
	return p;
}

char *
mime_tree_strndup(struct mime_tree *t, const char *p, size_t n)
{
	/* not zeroed: every byte is written */
	char *s = mime_tree_alloc_raw(t, n + 1);

	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

struct mime_tree *
mime_tree_new(void)
{
	struct arena_chunk *c = xmalloc(sizeof(*c) + ARENA_CHUNK);
	struct mime_tree *t;

	/* the tree lives in its first chunk: one allocation for a small
	 * tree (a decoded one, most often), freed with the chunks */
	c->next = NULL;
	c->size = ARENA_CHUNK;
	c->used =
	    (sizeof(*t) + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	t = (struct mime_tree *)(void *)c->data;
	memset(t, 0, sizeof(*t));
	t->chunks = c;
	t->mem = sizeof(*c) + ARENA_CHUNK - sizeof(*t);
	t->root = mime_tree_alloc(t, sizeof(*t->root));
	t->root->flags = MIME_PART_TEXT;
	t->parts = 1;
	return t;
}

void
mime_tree_free(struct mime_tree **tp)
{
	struct mime_tree *t = *tp;
	struct arena_chunk *c, *next;

	if (t == NULL)
		return;
	/* one of the chunks holds t: it is read once, before any goes */
	for (c = t->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	*tp = NULL;
}

struct mime_part *
mime_tree_root(const struct mime_tree *t)
{
	return t->root;
}

size_t
mime_tree_part_count(const struct mime_tree *t)
{
	return t->parts;
}

size_t
mime_tree_mem(const struct mime_tree *t)
{
	return t->mem + sizeof(*t);
}

struct mime_part *
mime_tree_add_part(
    struct mime_tree *t, struct mime_part *parent, struct mime_part *after)
{
	struct mime_part *p = mime_tree_alloc(t, sizeof(*p));

	p->parent = parent;
	if (after != NULL)
		after->next = p;
	else
		parent->children = p;
	t->parts++;
	return p;
}

/* RFC 2046 5.1.5: in a digest, a part without Content-Type is a message */
static bool
part_in_digest(const struct mime_part *p)
{
	return p->parent != NULL && (p->parent->flags & MIME_PART_DIGEST) != 0;
}

const char *
mime_part_type(const struct mime_part *p)
{
	if (p->type != NULL)
		return p->type;
	return part_in_digest(p) ? "message" : "text";
}

const char *
mime_part_subtype(const struct mime_part *p)
{
	if (p->type != NULL)
		return p->subtype;
	return part_in_digest(p) ? "rfc822" : "plain";
}

const char *
mime_param_find(const struct mime_param *params, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ascii_eq(params[i].name, name))
			return params[i].value;
	return NULL;
}

/* Encoding */

static int
enc_num(struct buf *out, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			b[n] |= 0x80;
		n++;
	} while (v != 0);
	return buf_append(out, b, n);
}

static int
enc_str(struct buf *out, const char *s)
{
	size_t n;

	if (s == NULL)
		return enc_num(out, 0);
	n = strlen(s);
	if (enc_num(out, (uint64_t)n + 1) == -1)
		return -1;
	return buf_append(out, s, n);
}

static int
enc_params(struct buf *out, const struct mime_param *pa, size_t n)
{
	size_t i;

	if (enc_num(out, n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (enc_str(out, pa[i].name) == -1 ||
		    enc_str(out, pa[i].value) == -1 ||
		    enc_num(out, pa[i].ext ? 1 : 0) == -1)
			return -1;
	return 0;
}

static int
enc_part(struct buf *out, const struct mime_part *p, uint64_t parent)
{
	const uint64_t nums[] = { p->hdr_offset, p->hdr_size, p->hdr_vsize,
		p->body_offset, p->body_size, p->body_vsize, p->body_lines };
	const char *strs[] = { p->type, p->subtype, p->cte_name, p->id,
		p->description, p->md5, p->location, p->disposition };
	size_t i;

	if (enc_num(out, parent) == -1 || enc_num(out, p->flags) == -1 ||
	    enc_num(out, p->cte) == -1)
		return -1;
	for (i = 0; i < MW_NELEM(nums); i++)
		if (enc_num(out, nums[i]) == -1)
			return -1;
	for (i = 0; i < MW_NELEM(strs); i++)
		if (enc_str(out, strs[i]) == -1)
			return -1;
	if (enc_params(out, p->params, p->params_n) == -1 ||
	    enc_params(out, p->disp_params, p->disp_params_n) == -1 ||
	    enc_num(out, p->language_n) == -1)
		return -1;
	for (i = 0; i < p->language_n; i++)
		if (enc_str(out, p->language[i]) == -1)
			return -1;
	if (enc_num(out, p->envelope != NULL) == -1)
		return -1;
	if (p->envelope != NULL)
		for (i = 0; i < MIME_ENV_COUNT; i++)
			if (enc_str(out, p->envelope->field[i]) == -1)
				return -1;
	return 0;
}

/* Document order without recursion: down to the first child, else to the
 * next sibling of the nearest ancestor that has one; *depth follows. */
static const struct mime_part *
part_next_preorder(const struct mime_part *p, size_t *depth)
{
	if (p->children != NULL) {
		(*depth)++;
		return p->children;
	}
	while (p != NULL && p->next == NULL) {
		p = p->parent;
		(*depth)--;
	}
	return p != NULL ? p->next : NULL;
}

int
mime_tree_encode(const struct mime_tree *t, struct buf *out)
{
	const struct mime_part *p;
	size_t start = out->len, idx = 0, depth = 0, cap = 0;
	uint64_t *index_of_depth = NULL, pidx;
	int ret = -1;

	if (buf_append(out, BLOB_MAGIC, 4) == -1 ||
	    buf_append_char(out, BLOB_VERSION) == -1 ||
	    enc_num(out, t->parts) == -1)
		goto out;
	/* The parent of a part is the last part seen one level up; the
	 * root's is written as 0, itself, which is never valid. */
	for (p = t->root; p != NULL; p = part_next_preorder(p, &depth)) {
		if (depth + 1 > cap) {
			cap = depth + 16;
			index_of_depth = xreallocarray(
			    index_of_depth, cap, sizeof(*index_of_depth));
		}
		index_of_depth[depth] = idx;
		pidx = depth > 0 ? index_of_depth[depth - 1] : 0;
		if (enc_part(out, p, pidx) == -1)
			goto out;
		idx++;
	}
	ret = 0;
out:
	free(index_of_depth);
	if (ret == -1) {
		buf_truncate(out, start);
		errno = ENOBUFS;
	}
	return ret;
}

/* Decoding: every read checks what is left. */

struct dec {
	const unsigned char *p;
	size_t n, i;
	struct mime_tree *t;
	bool bad;
};

static uint64_t
dec_num(struct dec *d)
{
	uint64_t v = 0;
	unsigned shift = 0;

	/* most numbers are below 128: one byte */
	if (d->i < d->n && d->p[d->i] < 0x80)
		return d->p[d->i++];
	for (;;) {
		unsigned char b;

		if (d->i >= d->n || shift > 63) {
			d->bad = true;
			return 0;
		}
		b = d->p[d->i++];
		if (shift == 63 && (b & 0x7e) != 0) {
			d->bad = true; /* more than 64 bits */
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return v;
		shift += 7;
	}
}

static const char *
dec_str(struct dec *d)
{
	uint64_t len = dec_num(d);
	const char *s;

	if (d->bad || len == 0)
		return NULL;
	len--;
	if (len > d->n - d->i || memchr(d->p + d->i, '\0', len) != NULL) {
		d->bad = true;
		return NULL;
	}
	s = mime_tree_strndup(d->t, (const char *)d->p + d->i, len);
	d->i += len;
	return s;
}

static const char *
dec_str_nn(struct dec *d)
{
	const char *s = dec_str(d);

	if (s == NULL)
		d->bad = true;
	return s;
}

/* A count of items that take at least min_bytes each. */
static size_t
dec_count(struct dec *d, size_t min_bytes)
{
	uint64_t n = dec_num(d);

	if (d->bad || n > (d->n - d->i) / min_bytes) {
		d->bad = true;
		return 0;
	}
	return (size_t)n;
}

static struct mime_param *
dec_params(struct dec *d, size_t *n_out)
{
	struct mime_param *pa;
	size_t i, n = dec_count(d, 3);

	*n_out = 0;
	if (d->bad || n == 0)
		return NULL;
	pa = mime_tree_alloc(d->t, n * sizeof(*pa));
	for (i = 0; i < n && !d->bad; i++) {
		pa[i].name = dec_str_nn(d);
		pa[i].value = dec_str_nn(d);
		switch (dec_num(d)) {
		case 0:
			pa[i].ext = false;
			break;
		case 1:
			pa[i].ext = true;
			break;
		default:
			d->bad = true;
		}
	}
	*n_out = n;
	return pa;
}

static void
dec_fields(struct dec *d, struct mime_part *p)
{
	uint64_t *nums[] = { &p->hdr_offset, &p->hdr_size, &p->hdr_vsize,
		&p->body_offset, &p->body_size, &p->body_vsize,
		&p->body_lines };
	const char **strs[] = { &p->type, &p->subtype, &p->cte_name, &p->id,
		&p->description, &p->md5, &p->location, &p->disposition };
	uint64_t v;
	size_t i;

	v = dec_num(d);
	if (v > BLOB_FLAGS_KNOWN)
		d->bad = true;
	p->flags = (uint32_t)v;
	v = dec_num(d);
	if (v > MIME_CTE_OTHER)
		d->bad = true;
	p->cte = (enum mime_cte)v;
	for (i = 0; i < MW_NELEM(nums); i++)
		*nums[i] = dec_num(d);
	for (i = 0; i < MW_NELEM(strs); i++)
		*strs[i] = dec_str(d);
	if ((p->type == NULL) != (p->subtype == NULL))
		d->bad = true;
	p->params = dec_params(d, &p->params_n);
	p->disp_params = dec_params(d, &p->disp_params_n);
	p->language_n = dec_count(d, 1);
	if (!d->bad && p->language_n > 0) {
		p->language =
		    mime_tree_alloc(d->t, p->language_n * sizeof(*p->language));
		for (i = 0; i < p->language_n && !d->bad; i++)
			p->language[i] = dec_str_nn(d);
	}
	v = dec_num(d);
	if (v > 1)
		d->bad = true;
	if (v == 1 && !d->bad) {
		p->envelope = mime_tree_alloc(d->t, sizeof(*p->envelope));
		for (i = 0; i < MIME_ENV_COUNT; i++)
			p->envelope->field[i] = dec_str(d);
	}
}

/* What mime_tree_decode keeps per part while it links them (parts[i],
 * the last child of i so far, the path from the root to the part before,
 * indexed by depth, and i's depth); a tree of up to DEC_SMALL parts on
 * the stack. */
#define DEC_SMALL 16

struct dec_slot {
	struct mime_part *part, *last, *path;
	size_t depth;
};

/* The shape the parser guarantees and the writers rely on: a message part
 * has exactly one child, which has an envelope; a leaf has no children. */
static bool
dec_shape_ok(const struct mime_part *p)
{
	if ((p->flags & MIME_PART_MESSAGE) != 0)
		return (p->flags & MIME_PART_MULTIPART) == 0 &&
		    p->children != NULL && p->children->next == NULL &&
		    p->children->envelope != NULL;
	if ((p->flags & MIME_PART_MULTIPART) == 0)
		return p->children == NULL;
	return true;
}

struct mime_tree *
mime_tree_decode(const void *blob, size_t n, size_t part_max)
{
	struct dec d = { blob, n, 0, NULL, false };
	struct mime_part *p;
	struct dec_slot small[DEC_SMALL], *slots = NULL, *heap = NULL;
	size_t count, i, top = 0;
	uint64_t parent;

	if (n < 5 || memcmp(blob, BLOB_MAGIC, 4) != 0) {
		errno = EINVAL;
		return NULL;
	}
	if (d.p[4] != BLOB_VERSION) {
		errno = EPROTO;
		return NULL;
	}
	d.i = 5;
	d.t = mime_tree_new();
	count = dec_count(&d, 16);
	if (d.bad || count == 0 || count > part_max)
		goto bad;
	/* the bookkeeping of a small tree on the stack */
	slots =
	    count <= DEC_SMALL ? small : (heap = xcalloc(count, sizeof(*heap)));
	memset(slots, 0, count * sizeof(*slots));
	for (i = 0; i < count; i++) {
		parent = dec_num(&d);
		if (d.bad || (i > 0 && parent >= i))
			goto bad;
		if (i == 0)
			p = d.t->root;
		else {
			/* the parent is on the path from the root to the
			 * part before: the order is document order */
			if (slots[parent].depth > top ||
			    slots[slots[parent].depth].path !=
			        slots[parent].part)
				goto bad;
			p = mime_tree_add_part(
			    d.t, slots[parent].part, slots[parent].last);
			slots[parent].last = p;
			slots[i].depth = slots[parent].depth + 1;
		}
		top = slots[i].depth;
		slots[top].path = p;
		dec_fields(&d, p);
		if (d.bad)
			goto bad;
		slots[i].part = p;
	}
	if (d.i != d.n)
		goto bad;
	for (i = 0; i < count; i++)
		if (!dec_shape_ok(slots[i].part))
			goto bad;
	free(heap);
	return d.t;
bad:
	free(heap);
	mime_tree_free(&d.t);
	errno = EINVAL;
	return NULL;
}
