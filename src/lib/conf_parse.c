/*
 * The main.cf-syntax parser (man 5 postconf): "name = value" logical lines,
 * '#' comment lines, blank lines, and continuation lines that start with
 * white space. A pure function over bytes: it neither reads files nor knows
 * the parameter table; conf.c checks names and values.
 */
#include "lib/conf_parse.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* clang-format off */
const struct conf_limits conf_limits_default = {
	.line_max   = 64 * 1024,
	.file_max   = 4 * 1024 * 1024,
	.value_max  = 1024 * 1024,
	.expand_max = 16 * 1024 * 1024,
	.depth_max  = 100, /* Postfix's mac_expand stops at 100 too */
};
/* clang-format on */

/* White space of the syntax; '\n' ends a line before this is asked. */
static bool
conf_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool
conf_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

bool
conf_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!conf_is_name_char(s[i]))
			return false;
	return true;
}

static void
conf_file_add(struct conf_file *f, const char *name, size_t namelen,
    const char *value, size_t valuelen, size_t line)
{
	struct conf_def *d;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->defs = xreallocarray(f->defs, f->cap, sizeof(*f->defs));
	}
	d = &f->defs[f->n++];
	d->name = xstrndup(name, namelen);
	d->value = xstrndup(value, valuelen);
	d->line = line;
}

/* Splits one logical line "name = value" and records it. */
static int
conf_parse_logical(const char *label, const struct buf *l, size_t line,
    struct conf_file *out, struct buf *err)
{
	const char *s = buf_cstr(l), *eq;
	size_t namelen, w;

	eq = memchr(s, '=', l->len);
	if (eq == NULL) {
		for (w = 0; w < l->len && !conf_is_space(s[w]); w++)
			;
		(void)!buf_printf(err, "%s:%zu: missing '=' after \"%s\"",
		    label, line, log_sanitize(s, w));
		return -1;
	}
	namelen = (size_t)(eq - s);
	while (namelen > 0 && conf_is_space(s[namelen - 1]))
		namelen--;
	if (namelen == 0) {
		(void)!buf_printf(err,
		    "%s:%zu: missing parameter name before '='", label, line);
		return -1;
	}
	if (!conf_name_ok(s, namelen)) {
		(void)!buf_printf(err,
		    "%s:%zu: bad parameter name \"%s\" (letters, digits and _ only)",
		    label, line, log_sanitize(s, namelen));
		return -1;
	}
	eq++;
	while (eq < s + l->len && conf_is_space(*eq))
		eq++;
	conf_file_add(out, s, namelen, eq, l->len - (size_t)(eq - s), line);
	return 0;
}

int
conf_parse(const char *label, const char *data, size_t len,
    const struct conf_limits *lim, struct conf_file *out, struct buf *err)
{
	struct buf logical;
	const char *line, *nl;
	size_t pos = 0, lineno = 0, start = 0, n, i;
	int ret = -1;

	buf_init(&logical, lim->line_max);
	if (len > lim->file_max) {
		(void)!buf_printf(
		    err, "%s: larger than %zu bytes", label, lim->file_max);
		goto out;
	}
	while (pos < len) {
		line = data + pos;
		nl = memchr(line, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		lineno++;
		if (memchr(line, '\0', n) != NULL) {
			(void)!buf_printf(
			    err, "%s:%zu: NUL byte in line", label, lineno);
			goto out;
		}
		while (n > 0 && conf_is_space(line[n - 1]))
			n--;
		for (i = 0; i < n && conf_is_space(line[i]); i++)
			;
		if (i == n || line[i] == '#')
			continue; /* blank or comment: ignored, even inside */
		if (i > 0) {
			/* man 5 postconf: a line that starts with white space
			 * continues a logical line */
			if (start == 0) {
				(void)!buf_printf(err,
				    "%s:%zu: line starts with white space but no definition precedes it",
				    label, lineno);
				goto out;
			}
			if (buf_append_char(&logical, ' ') == -1 ||
			    buf_append(&logical, line + i, n - i) == -1)
				goto too_long;
			continue;
		}
		if (start != 0 &&
		    conf_parse_logical(label, &logical, start, out, err) == -1)
			goto out;
		buf_reset(&logical);
		start = lineno;
		if (buf_append(&logical, line, n) == -1)
			goto too_long;
	}
	if (start != 0 &&
	    conf_parse_logical(label, &logical, start, out, err) == -1)
		goto out;
	ret = 0;
	goto out;
too_long:
	(void)!buf_printf(err, "%s:%zu: line longer than %zu bytes", label,
	    start, lim->line_max);
out:
	buf_free(&logical);
	if (ret == -1)
		conf_file_free(out);
	return ret;
}

void
conf_file_free(struct conf_file *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->defs[i].name);
		free(f->defs[i].value);
	}
	free(f->defs);
	f->defs = NULL;
	f->n = f->cap = 0;
}

const struct conf_def *
conf_file_find(const struct conf_file *f, const char *name)
{
	size_t i;

	for (i = f->n; i > 0; i--)
		if (strcmp(f->defs[i - 1].name, name) == 0)
			return &f->defs[i - 1];
	return NULL;
}
