/*
 * The text side of lookup tables: the logical-line reader every table
 * format uses, the if..endif nesting and parse loop of cidr and regexp
 * tables, and the parser of postmap(1)'s "key value" format (hash:
 * and texthash:). Pure functions: no I/O, no globals.
 *
 * As postmap: the key is the first word, folded to lowercase; the value is
 * the rest of the logical line, trimmed; a duplicate key is a warning and
 * the first one wins. Unlike postmap, a line without a value is an error
 * (postmap skips it with a warning): an access table missing a line is
 * missing a rule.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "policy/maptable_private.h"

const struct maptable_limits maptable_limits_default = {
	.file_max = (size_t)64 * 1024 * 1024,
	.line_max = 64 * 1024,
	.entries_max = 1000000,
};

void
maptable_seterr(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	buf_reset(err);
	va_start(ap, fmt);
	if (buf_vprintf(err, fmt, ap) == -1)
		buf_reset(err);
	va_end(ap);
}

int
maptable_quote_len(size_t n)
{
	return (int)(n > MAPTABLE_QUOTE_MAX ? MAPTABLE_QUOTE_MAX : n);
}

bool
maptable_is_ws(char c)
{
	return c == ' ' || c == '\t';
}

size_t
maptable_keyword(const char *s, const char *kw)
{
	size_t n = strlen(kw);
	unsigned char c;

	if (!ascii_eq_n(s, kw, n) || strlen(s) < n)
		return 0;
	c = (unsigned char)s[n];
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 0;
	return n;
}

void
maptable_nest_push(struct maptable_nest *s, size_t rule, size_t line)
{
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 8 : s->cap * 2;
		s->open = xreallocarray(s->open, s->cap, sizeof(*s->open));
		s->lines = xreallocarray(s->lines, s->cap, sizeof(*s->lines));
	}
	s->open[s->n] = rule;
	s->lines[s->n] = line;
	s->n++;
}

int
maptable_nest_pop(struct maptable_nest *s, size_t *rule_out)
{
	if (s->n == 0)
		return -1;
	*rule_out = s->open[--s->n];
	return 0;
}

void
maptable_nest_free(struct maptable_nest *s)
{
	free(s->open);
	free(s->lines);
	memset(s, 0, sizeof(*s));
}

int
maptable_nest_endif(struct maptable_nest *s, const char *line_s, size_t len,
    size_t *rule_out, const char *name, size_t line, struct buf *err)
{
	size_t k;

	if ((k = maptable_keyword(line_s, "endif")) == 0)
		return 0;
	if (k != len) {
		maptable_seterr(err, "%s:%zu: text after endif", name, line);
		return -1;
	}
	if (maptable_nest_pop(s, rule_out) == -1) {
		maptable_seterr(err, "%s:%zu: endif without if", name, line);
		return -1;
	}
	return 1;
}

int
maptable_nest_if(struct maptable_nest *s, size_t rule, bool text_after,
    const char *name, size_t line, struct buf *err)
{
	if (text_after) {
		maptable_seterr(err,
		    "%s:%zu: text after the pattern of an "
		    "if",
		    name, line);
		return -1;
	}
	maptable_nest_push(s, rule, line);
	return 0;
}

int
maptable_rules_parse(const char *data, size_t len, const char *name,
    const struct maptable_limits *lim, maptable_rules_line_fn *line_fn,
    void *arg, struct buf *err)
{
	struct maptable_nest nest = { NULL, NULL, 0, 0 };
	struct maptable_reader r;
	size_t n = 0;
	int rc;

	if (len > lim->file_max) {
		maptable_seterr(
		    err, "%s is larger than %zu bytes", name, lim->file_max);
		return -1;
	}
	maptable_reader_init(&r, data, len, name, lim);
	while ((rc = maptable_reader_next(&r, err)) == 1) {
		if (n == lim->entries_max) {
			maptable_seterr(err, "%s:%zu: more than %zu rules",
			    name, r.line_no, lim->entries_max);
			rc = -1;
			break;
		}
		if (line_fn(arg, &nest, r.line.data, r.line.len, name,
		        r.line_no, err) == -1) {
			rc = -1;
			break;
		}
		n++;
	}
	if (rc == 0 && nest.n > 0) {
		maptable_seterr(err, "%s:%zu: if without endif", name,
		    nest.lines[nest.n - 1]);
		rc = -1;
	}
	maptable_nest_free(&nest);
	maptable_reader_free(&r);
	return rc == -1 ? -1 : 0;
}

void
maptable_reader_init(struct maptable_reader *r, const char *data, size_t len,
    const char *name, const struct maptable_limits *lim)
{
	memset(r, 0, sizeof(*r));
	r->data = data;
	r->len = len;
	r->name = name;
	r->lim = lim;
	buf_init(&r->line, lim->line_max + 1);
}

void
maptable_reader_free(struct maptable_reader *r)
{
	buf_free(&r->line);
}

/* Checks the bytes of one content line (without its line end). */
static int
maptable_reader_check(
    const struct maptable_reader *r, const char *p, size_t n, struct buf *err)
{
	size_t i, u;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			maptable_seterr(err, "%s:%zu: control byte 0x%02x",
			    r->name, r->lineno + 1, c);
			return -1;
		}
		if (c >= 0x80) {
			u = mailaddr_utf8_len(p + i, n - i);
			if (u == 0) {
				maptable_seterr(err, "%s:%zu: malformed UTF-8",
				    r->name, r->lineno + 1);
				return -1;
			}
			i += u - 1;
		}
	}
	return 0;
}

int
maptable_reader_next(struct maptable_reader *r, struct buf *err)
{
	const char *p, *nl;
	size_t n, next, i;
	bool have = false;

	buf_reset(&r->line);
	while (r->pos < r->len) {
		p = r->data + r->pos;
		nl = memchr(p, '\n', r->len - r->pos);
		n = nl != NULL ? (size_t)(nl - p) : r->len - r->pos;
		next = r->pos + n + (nl != NULL ? 1 : 0);
		if (nl != NULL && n > 0 && p[n - 1] == '\r')
			n--; /* CRLF */
		for (i = 0; i < n && maptable_is_ws(p[i]); i++)
			;
		if (i == n || p[i] == '#') { /* blank or comment */
			r->pos = next;
			r->lineno++;
			continue;
		}
		if (i == 0 && have)
			break; /* the next logical line starts here */
		if (i > 0 && !have) {
			maptable_seterr(err,
			    "%s:%zu: a logical line must not start with "
			    "white space",
			    r->name, r->lineno + 1);
			return -1;
		}
		if (maptable_reader_check(r, p, n, err) == -1)
			return -1;
		if (r->line.len + n > r->lim->line_max) {
			maptable_seterr(err,
			    "%s:%zu: logical line longer than %zu "
			    "bytes",
			    r->name, r->lineno + 1, r->lim->line_max);
			return -1;
		}
		if (!have)
			r->line_no = r->lineno + 1;
		/* cannot fail: line.max is line_max + 1 */
		MW_ASSERT(buf_append(&r->line, p, n) == 0);
		have = true;
		r->pos = next;
		r->lineno++;
	}
	if (!have)
		return 0;
	while (r->line.len > 0 && maptable_is_ws(r->line.data[r->line.len - 1]))
		r->line.len--;
	r->line.data[r->line.len] = '\0';
	return 1;
}

struct maptable_text_row {
	char *key, *value;
	size_t line, order;
};

static int
maptable_text_cmp(const void *a, const void *b)
{
	const struct maptable_text_row *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
maptable_entry_cmp(const void *key, const void *e)
{
	return strcmp(key, ((const struct maptable_entry *)e)->key);
}

int
maptable_text_parse(const char *data, size_t len, const char *name,
    const struct maptable_limits *lim, struct maptable_text *out,
    struct buf *warn, struct buf *err)
{
	struct maptable_reader r;
	struct maptable_text_row *rows = NULL;
	size_t n = 0, cap = 0, i, k, v, kept_line = 0;
	const char *s;
	int rc, ret = -1;

	out->v = NULL;
	out->n = 0;
	if (len > lim->file_max) {
		maptable_seterr(
		    err, "%s is larger than %zu bytes", name, lim->file_max);
		return -1;
	}
	maptable_reader_init(&r, data, len, name, lim);
	while ((rc = maptable_reader_next(&r, err)) == 1) {
		s = r.line.data;
		for (k = 0; k < r.line.len && !maptable_is_ws(s[k]); k++)
			;
		for (v = k; v < r.line.len && maptable_is_ws(s[v]); v++)
			;
		if (v == r.line.len) {
			maptable_seterr(err,
			    "%s:%zu: expected format: key whitespace "
			    "value",
			    name, r.line_no);
			goto out;
		}
		if (n == lim->entries_max) {
			maptable_seterr(err, "%s:%zu: more than %zu entries",
			    name, r.line_no, lim->entries_max);
			goto out;
		}
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			rows = xreallocarray(rows, cap, sizeof(*rows));
		}
		rows[n].key = xstrndup(s, k);
		ascii_lower(rows[n].key);
		rows[n].value = xstrdup(s + v);
		rows[n].line = r.line_no;
		rows[n].order = n;
		n++;
	}
	if (rc == -1)
		goto out;
	if (n > 0)
		qsort(rows, n, sizeof(*rows), maptable_text_cmp);
	out->v = xcalloc(n > 0 ? n : 1, sizeof(*out->v));
	for (i = 0; i < n; i++) {
		if (out->n > 0 &&
		    strcmp(out->v[out->n - 1].key, rows[i].key) == 0) {
			if (warn != NULL &&
			    buf_printf(warn,
			        "%s:%zu: duplicate entry \"%.*s\" (the one "
			        "on line %zu wins)\n",
			        name, rows[i].line,
			        maptable_quote_len(strlen(rows[i].key)),
			        rows[i].key, kept_line) == -1)
				buf_reset(warn);
			free(rows[i].key);
			free(rows[i].value);
			continue;
		}
		out->v[out->n].key = rows[i].key;
		out->v[out->n].value = rows[i].value;
		out->n++;
		kept_line = rows[i].line;
	}
	n = 0; /* moved into out */
	ret = 0;
out:
	for (i = 0; i < n; i++) {
		free(rows[i].key);
		free(rows[i].value);
	}
	free(rows);
	maptable_reader_free(&r);
	return ret;
}

const char *
maptable_text_find(const struct maptable_text *t, const char *key)
{
	const struct maptable_entry *e;

	if (t->n == 0)
		return NULL;
	e = bsearch(key, t->v, t->n, sizeof(*t->v), maptable_entry_cmp);
	return e != NULL ? e->value : NULL;
}

void
maptable_text_free(struct maptable_text *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].value);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}
