/*
 * MIME header field values (see mime_field.h): the RFC 5322 / RFC 2045
 * lexical layer, the Content-* parsers and RFC 2231 parameter values.
 */
#include "mime/mime_field.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mw.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "mime/mime_decode.h"

/* Appends to a buffer sized for the input: past its ceiling, the rest is
 * cut, which is what the limits ask for. */
static void
put(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) == -1)
		return;
}

static void
put_char(struct buf *b, char c)
{
	put(b, &c, 1);
}

#define SECTION_MAX 999 /* RFC 2231 3: name*0 .. name*999 */

bool
mime_ieq(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char a = (unsigned char)p[i], b = (unsigned char)s[i];

		if (b == '\0')
			return false;
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return s[n] == '\0';
}

/* RFC 2045 5.1: token chars, not SP, CTLs, 8-bit or tspecials */
bool
mime_tchar(unsigned char c)
{
	return c > 32 && c < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* A parameter value that is not quoted: lenient, as Postfix and mail
 * readers are about boundary=----=_Part_1 */
static bool
mime_vchar(unsigned char c)
{
	return c > 32 && c != 127 && c != ';' && c != '"' && c != '(';
}

static bool
mime_fws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t
mime_skip_cfws(const char *p, size_t i, size_t n)
{
	size_t level = 0;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (level > 0) {
			if (c == '\\')
				i++;
			else if (c == '(')
				level++;
			else if (c == ')')
				level--;
		} else if (c == '(')
			level = 1;
		else if (!mime_fws(c))
			break;
		i++;
	}
	return i < n ? i : n;
}

size_t
mime_skip_token(const char *p, size_t i, size_t n)
{
	while (i < n && mime_tchar((unsigned char)p[i]))
		i++;
	return i;
}

/* Past a parameter that does not parse: to the next ';' outside quotes. */
static size_t
mime_skip_junk(const char *p, size_t i, size_t n)
{
	bool quoted = false;

	for (i++; i < n; i++) {
		if (quoted && p[i] == '\\')
			i++;
		else if (p[i] == '"')
			quoted = !quoted;
		else if (!quoted && p[i] == ';')
			break;
	}
	return i < n ? i : n;
}

bool
mime_field_is(const char *p, size_t n, size_t *name_len_out)
{
	size_t i = 0, name_end;

	while (i < n && (unsigned char)p[i] > 32 && (unsigned char)p[i] < 127 &&
	    p[i] != ':')
		i++;
	if (i == 0)
		return false;
	name_end = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == n || p[i] != ':')
		return false;
	if (name_len_out != NULL)
		*name_len_out = name_end;
	return true;
}

enum mime_cte
mime_cte_parse(const char *p, size_t n)
{
	// clang-format off
	static const struct {
		const char *name;
		enum mime_cte cte;
	} names[] = {
		{ "7bit",             MIME_CTE_7BIT },
		{ "8bit",             MIME_CTE_8BIT },
		{ "binary",           MIME_CTE_BINARY },
		{ "quoted-printable", MIME_CTE_QP },
		{ "base64",           MIME_CTE_BASE64 },
	};
	// clang-format on
	size_t t, t_end, k;

	t = mime_skip_cfws(p, 0, n);
	t_end = mime_skip_token(p, t, n);
	if (t_end == t || mime_skip_cfws(p, t_end, n) != n)
		return MIME_CTE_OTHER;
	for (k = 0; k < MW_NELEM(names); k++)
		if (mime_ieq(p + t, t_end - t, names[k].name))
			return names[k].cte;
	return MIME_CTE_OTHER;
}

/* A copy in the arena without NULs (they cannot be C strings). */
static char *
store(struct mime_tree *t, const char *p, size_t n)
{
	char *s = mime_tree_alloc(t, n + 1);
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (p[i] != '\0')
			s[k++] = p[i];
	s[k] = '\0';
	return s;
}

/* One parameter as written: its name, and its value unquoted. */
struct raw_param {
	const char *name;
	size_t name_n;
	size_t val_off, val_n; /* in the values buffer */
	long section;          /* -1: none */
	bool ext, done;        /* "*" at the end; emitted already */
	size_t base_n;         /* the name without its RFC 2231 suffix */
};

static void
raw_split_name(struct raw_param *r)
{
	const char *star = memchr(r->name, '*', r->name_n);
	size_t i, digits;
	long sec = 0;

	r->section = -1;
	r->ext = false;
	r->base_n = r->name_n;
	if (star == NULL)
		return;
	i = (size_t)(star - r->name) + 1;
	if (i == r->name_n) { /* name* */
		r->base_n = i - 1;
		r->ext = true;
		return;
	}
	for (digits = 0; i < r->name_n && r->name[i] >= '0' &&
	     r->name[i] <= '9' && digits < 4;
	     i++, digits++)
		sec = sec * 10 + (r->name[i] - '0');
	if (digits == 0 || digits > 3 || sec > SECTION_MAX ||
	    (digits > 1 && r->name[i - digits] == '0'))
		return;
	if (i < r->name_n && r->name[i] == '*') {
		r->ext = true;
		i++;
	}
	if (i != r->name_n) {
		r->ext = false;
		return;
	}
	r->section = sec;
	r->base_n = (size_t)(star - r->name);
}

/* RFC 2231 4: %XX is a byte; a bad "%" stays */
static void
pct_decode(const char *p, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		const char *h, *l;

		if (p[i] == '%' && i + 2 < n && p[i + 1] != '\0' &&
		    p[i + 2] != '\0' &&
		    (h = strchr(hex, p[i + 1] | 0x20)) != NULL &&
		    (l = strchr(hex, p[i + 2] | 0x20)) != NULL) {
			put_char(out, (char)((h - hex) << 4 | (l - hex)));
			i += 2;
		} else
			put_char(out, p[i]);
	}
}

/* charset'language'text: the offsets of charset's end and text's start. */
static bool
ext_split(const char *v, size_t n, size_t *cs_n, size_t *text)
{
	const char *q1 = memchr(v, '\'', n), *q2;

	if (q1 == NULL)
		return false;
	q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v));
	if (q2 == NULL)
		return false;
	*cs_n = (size_t)(q1 - v);
	*text = (size_t)(q2 + 1 - v);
	return true;
}

/*
 * Emits one parameter from its sections (one of them when not split),
 * sorted by section number. An extended first section gives the charset;
 * the bytes are converted to UTF-8. If the charset is unknown, the name
 * keeps its "*" and the value is the sections' text as written.
 */
static void
emit_joined(struct mime_tree *t, struct mime_param *out,
    struct raw_param **secs, size_t k, const char *vals)
{
	struct buf bytes, conv;
	const char *v0;
	size_t i, cs_n = 0, text0 = 0;
	bool ext = false, has_cs = false;

	if (vals == NULL)
		vals = ""; /* every value empty: no offset into NULL */
	v0 = vals + secs[0]->val_off;

	for (i = 0; i < k; i++)
		ext = ext || secs[i]->ext;
	buf_init(&bytes, BUF_MAX_DEFAULT);
	buf_init(&conv, BUF_MAX_DEFAULT);
	if (secs[0]->ext && ext_split(v0, secs[0]->val_n, &cs_n, &text0))
		has_cs = cs_n > 0;
	for (i = 0; i < k; i++) {
		const char *v = vals + secs[i]->val_off;
		size_t vn = secs[i]->val_n, off = i == 0 ? text0 : 0;

		if (secs[i]->ext)
			pct_decode(v + off, vn - off, &bytes);
		else
			put(&bytes, v + off, vn - off);
	}
	out->name = store(t, secs[0]->name, secs[0]->base_n);
	if (!ext || !has_cs) {
		out->value = store(t, bytes.data, bytes.len);
	} else if (mime_charset_to_utf8(
	               v0, cs_n, bytes.data, bytes.len, &conv) == 0) {
		out->value = store(t, conv.data, conv.len);
		out->ext = true;
	} else {
		/* unknown charset: as written, the name with its "*" */
		buf_reset(&bytes);
		for (i = 0; i < k; i++)
			put(&bytes, vals + secs[i]->val_off, secs[i]->val_n);
		out->name = store(t, secs[0]->name, secs[0]->base_n + 1);
		((char *)out->name)[secs[0]->base_n] = '*';
		out->value = store(t, bytes.data, bytes.len);
	}
	buf_free(&bytes);
	buf_free(&conv);
}

static void
emit_plain(struct mime_tree *t, struct mime_param *out,
    const struct raw_param *r, const char *vals)
{
	out->name = store(t, r->name, r->name_n);
	/* vals is NULL when every value is empty: no offset into it */
	out->value = store(t, vals != NULL ? vals + r->val_off : "", r->val_n);
}

static int
section_cmp(const void *a, const void *b)
{
	const struct raw_param *x = *(struct raw_param *const *)a;
	const struct raw_param *y = *(struct raw_param *const *)b;

	return (x->section > y->section) - (x->section < y->section);
}

/* Collects the parameters as written. */
static size_t
params_collect(const char *p, size_t i, size_t n, size_t max,
    struct raw_param *raw, struct buf *vals)
{
	size_t a, a_end, count = 0;

	for (;;) {
		i = mime_skip_cfws(p, i, n);
		if (i == n || count == max)
			break;
		if (p[i] != ';') {
			i = mime_skip_junk(p, i, n);
			continue;
		}
		a = mime_skip_cfws(p, i + 1, n);
		a_end = mime_skip_token(p, a, n);
		i = mime_skip_cfws(p, a_end, n);
		if (a_end == a || i == n || p[i] != '=')
			continue; /* not ';': skipped as junk */
		i = mime_skip_cfws(p, i + 1, n);
		raw[count].name = p + a;
		raw[count].name_n = a_end - a;
		raw[count].val_off = vals->len;
		if (i < n && p[i] == '"') {
			for (i++; i < n && p[i] != '"'; i++) {
				if (p[i] == '\n' || p[i] == '\r')
					continue; /* RFC 5322 3.2.2 unfolding */
				if (p[i] == '\\' && i + 1 < n)
					i++;
				put_char(vals, p[i]);
			}
			if (i < n)
				i++;
		} else {
			for (; i < n && mime_vchar((unsigned char)p[i]); i++)
				put_char(vals, p[i]);
		}
		raw[count].val_n = vals->len - raw[count].val_off;
		raw[count].done = false;
		raw_split_name(&raw[count]);
		count++;
	}
	return count;
}

struct mime_param *
mime_params_parse(struct mime_tree *t, const char *p, size_t i, size_t n,
    size_t max, size_t *n_out)
{
	struct raw_param *raw, **secs;
	struct mime_param *out = NULL;
	struct buf vals;
	size_t count, j, l, k, m = 0;
	bool ok;

	*n_out = 0;
	if (max == 0)
		return NULL;
	buf_init(&vals, n + 1); /* values are never longer than the field */
	raw = xcalloc(max, sizeof(*raw));
	secs = xcalloc(max, sizeof(*secs));
	count = params_collect(p, i, n, max, raw, &vals);
	if (count == 0)
		goto out;
	out = mime_tree_alloc(t, count * sizeof(*out));
	for (j = 0; j < count; j++) {
		if (raw[j].done)
			continue;
		if (raw[j].section < 0) {
			if (raw[j].ext) {
				secs[0] = &raw[j];
				emit_joined(t, &out[m++], secs, 1, vals.data);
			} else
				emit_plain(t, &out[m++], &raw[j], vals.data);
			raw[j].done = true;
			continue;
		}
		/* RFC 2231 3: all sections of this name, numbered 0..k-1 */
		k = 0;
		for (l = j; l < count; l++)
			if (!raw[l].done && raw[l].section >= 0 &&
			    raw[l].base_n == raw[j].base_n &&
			    ascii_eq_n(raw[l].name, raw[j].name, raw[j].base_n))
				secs[k++] = &raw[l];
		qsort(secs, k, sizeof(*secs), section_cmp);
		ok = true;
		for (l = 0; l < k; l++)
			if (secs[l]->section != (long)l)
				ok = false;
		if (ok)
			emit_joined(t, &out[m++], secs, k, vals.data);
		else
			for (l = 0; l < k; l++)
				emit_plain(t, &out[m++], secs[l], vals.data);
		for (l = 0; l < k; l++)
			secs[l]->done = true;
	}
out:
	free(raw);
	free(secs);
	buf_free(&vals);
	*n_out = m;
	return m > 0 ? out : NULL;
}

void
mime_field_ctype(struct mime_tree *t, struct mime_part *part, const char *p,
    size_t n, size_t param_max)
{
	size_t i, ty, ty_end, st, st_end;

	ty = mime_skip_cfws(p, 0, n);
	ty_end = mime_skip_token(p, ty, n);
	i = mime_skip_cfws(p, ty_end, n);
	if (ty_end == ty || i == n || p[i] != '/')
		return; /* RFC 2045 5.2: invalid, so text/plain */
	st = mime_skip_cfws(p, i + 1, n);
	st_end = mime_skip_token(p, st, n);
	if (st_end == st)
		return;
	part->type = store(t, p + ty, ty_end - ty);
	part->subtype = store(t, p + st, st_end - st);
	part->params =
	    mime_params_parse(t, p, st_end, n, param_max, &part->params_n);
}

void
mime_field_disposition(struct mime_tree *t, struct mime_part *part,
    const char *p, size_t n, size_t param_max)
{
	size_t d, d_end;

	d = mime_skip_cfws(p, 0, n);
	d_end = mime_skip_token(p, d, n);
	if (d_end == d)
		return;
	part->disposition = store(t, p + d, d_end - d);
	part->disp_params =
	    mime_params_parse(t, p, d_end, n, param_max, &part->disp_params_n);
}

/* RFC 3282 2: Language-Tag *("," Language-Tag), comments allowed; as
 * Dovecot, the list stops at the first thing that is not a tag. */
void
mime_field_language(struct mime_tree *t, struct mime_part *part, const char *p,
    size_t n, size_t max)
{
	const char *tags[64];
	size_t i, a, a_end, k = 0;

	if (max > MW_NELEM(tags))
		max = MW_NELEM(tags);
	i = mime_skip_cfws(p, 0, n);
	while (i < n && k < max) {
		a = i;
		a_end = mime_skip_token(p, a, n);
		if (a_end == a)
			break;
		tags[k++] = store(t, p + a, a_end - a);
		i = mime_skip_cfws(p, a_end, n);
		if (i == n || p[i] != ',')
			break;
		i = mime_skip_cfws(p, i + 1, n);
	}
	if (k == 0)
		return;
	part->language = mime_tree_alloc(t, k * sizeof(*part->language));
	memcpy(part->language, tags, k * sizeof(*tags));
	part->language_n = k;
}
