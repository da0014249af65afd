/*
 * The /etc/aliases parser (see aliases_file.h). The format is Postfix's
 * aliases(5): a logical line starts with non-white-space text and goes on
 * over the following lines that start with white space; empty lines and
 * lines whose first non-white-space byte is '#' are ignored (also between
 * continuation lines). A line is "name: target, target, ...". The name is
 * a local part, double-quoted when it holds special characters, folded to
 * lowercase. Targets are separated by commas outside double quotes.
 *
 * Bytes: CRLF line ends are accepted; NUL, a bare CR, other control bytes
 * and non-ASCII bytes are errors (SMTPUTF8 names are not supported).
 */
#include "delivery/aliases_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

const struct aliases_limits aliases_limits_default = {
	.line_max = 64 * 1024,
	.name_max = 64,    /* RFC 5321 4.5.3.1.1: local part */
	.target_max = 256, /* RFC 5321 4.5.3.1.3: path */
	.targets_max = 1000,
	.entries_max = 1000000,
};

/* How much of a bad target or name an error message quotes. */
#define ALIASES_QUOTE_MAX 80

struct aliases_vec {
	char **v;
	size_t n, cap;
};

/* One logical line being assembled, with where its physical lines start
 * (to number errors by the line that holds them). */
struct aliases_line {
	struct buf text;
	size_t first;   /* number of its first physical line */
	size_t *starts; /* offset in text of each physical line */
	size_t nstarts, capstarts;
	bool active;
};

static void aliases_msg(struct buf *msg, const char *fmt, ...) MW_PRINTF(2, 3);

static void
aliases_msg(struct buf *msg, const char *fmt, ...)
{
	va_list ap;

	buf_reset(msg);
	va_start(ap, fmt);
	if (buf_vprintf(msg, fmt, ap) == -1)
		buf_reset(msg);
	va_end(ap);
}

static int
aliases_quote_len(size_t n)
{
	return (int)(n > ALIASES_QUOTE_MAX ? ALIASES_QUOTE_MAX : n);
}

static bool
aliases_is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static void
aliases_vec_free(struct aliases_vec *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = v->cap = 0;
}

/*
 * Checks one target t[0..n), trimmed and non-empty. Order matters: bytes
 * first (so that the message may quote the target), then the kinds we do
 * not support (whose text holds spaces), then the address syntax.
 */
static int
aliases_target_check(
    const char *t, size_t n, const struct aliases_limits *lim, struct buf *msg)
{
	const char *u = t, *kind = NULL;
	size_t i, un = n, at = n;
	bool inq = false;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c < 0x20 || c >= 0x7f) {
			aliases_msg(msg,
			    "a target contains a control or "
			    "non-ASCII byte");
			return -1;
		}
	}
	if (n > lim->target_max) {
		aliases_msg(msg, "target \"%.*s...\" is longer than %zu bytes",
		    aliases_quote_len(n), t, lim->target_max);
		return -1;
	}
	if (un > 0 &&
	    u[0] == '"') { /* "|command" is quoted when it has spaces */
		u++;
		un--;
	}
	if (un > 0 && u[0] == '|')
		kind = "|command";
	else if (un > 0 && u[0] == '/')
		kind = "/file";
	else if (un >= 9 && ascii_eq_n(u, ":include:", 9))
		kind = ":include:";
	if (kind != NULL) {
		aliases_msg(msg,
		    "target \"%.*s\": %s targets are not "
		    "supported (deliver to a mailbox or an address)",
		    aliases_quote_len(n), t, kind);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (inq && t[i] == '\\') {
			i++;
			continue;
		}
		if (t[i] == '"')
			inq = !inq;
		else if (!inq && aliases_is_ws(t[i])) {
			aliases_msg(msg,
			    "target \"%.*s\" contains white space "
			    "(separate targets with commas; comments go on "
			    "lines of their own)",
			    aliases_quote_len(n), t);
			return -1;
		} else if (!inq && t[i] == '@')
			at = i;
	}
	/* RFC 5321 4.1.2: Local-part ["@" Domain]; a bare local part is
	 * qualified with the alias's own domain by the resolver */
	if (!mailaddr_local_valid_n(t, at, NULL) ||
	    (at < n &&
	        !mailaddr_domain_valid_n(t + at + 1, n - at - 1, NULL))) {
		aliases_msg(msg, "target \"%.*s\" is not a valid address",
		    aliases_quote_len(n), t);
		return -1;
	}
	return 0;
}

/*
 * Splits s[0..len) into out at commas outside quotes. On error, the offset
 * of the bad target is in *erroff_out and the reason in msg.
 */
static int
aliases_split(const char *s, size_t len, const struct aliases_limits *lim,
    struct aliases_vec *out, size_t *erroff_out, struct buf *msg)
{
	size_t i = 0, b, e;
	bool inq;

	while (i <= len) {
		b = i;
		for (inq = false; i < len; i++) {
			if (inq && s[i] == '\\' && i + 1 < len) {
				i++; /* RFC 5321 quoted-pairSMTP */
				continue;
			}
			if (s[i] == '"')
				inq = !inq;
			else if (s[i] == ',' && !inq)
				break;
		}
		e = i;
		while (b < e && aliases_is_ws(s[b]))
			b++;
		while (e > b && aliases_is_ws(s[e - 1]))
			e--;
		*erroff_out = b;
		if (inq) {
			aliases_msg(msg, "a quoted string is not closed");
			return -1;
		}
		if (e > b) {
			if (aliases_target_check(s + b, e - b, lim, msg) == -1)
				return -1;
			if (out->n >= lim->targets_max) {
				aliases_msg(msg, "more than %zu targets",
				    lim->targets_max);
				return -1;
			}
			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 4;
				out->v = xreallocarray(
				    out->v, out->cap, sizeof(*out->v));
			}
			out->v[out->n++] = xstrndup(s + b, e - b);
		}
		i++; /* past the comma, or past the end */
	}
	return 0;
}

int
aliases_targets_parse(const char *s, size_t len,
    const struct aliases_limits *lim, char ***targets_out, size_t *n_out,
    struct buf *err)
{
	struct aliases_vec v = { NULL, 0, 0 };
	size_t off;

	if (aliases_split(s, len, lim, &v, &off, err) == -1) {
		aliases_vec_free(&v);
		return -1;
	}
	*targets_out = v.v;
	*n_out = v.n;
	return 0;
}

/* An unquoted name: RFC 5322 atext and dots. */
static bool
aliases_name_char_ok(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.')
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * The name at the start of s[0..n): quoted or not, then optional white
 * space and ':'. Appends the unquoted name to name; *end_out is the offset
 * after the ':'.
 */
static int
aliases_parse_name(const char *s, size_t n, const struct aliases_limits *lim,
    struct buf *name, size_t *end_out, struct buf *msg)
{
	size_t i = 0, k;
	int rc = 0;

	if (s[0] == '"') {
		for (i = 1; i < n && s[i] != '"'; i++) {
			if (s[i] == '\\' && i + 1 < n)
				i++;
			if ((unsigned char)s[i] < 0x20 ||
			    (unsigned char)s[i] >= 0x7f) {
				aliases_msg(msg,
				    "an alias name contains a "
				    "control or non-ASCII byte");
				return -1;
			}
			rc |= buf_append_char(name, s[i]);
		}
		if (i >= n) {
			aliases_msg(msg, "the quoted alias name is not closed");
			return -1;
		}
		i++;
	} else {
		while (i < n && s[i] != ':' && !aliases_is_ws(s[i]))
			i++;
		for (k = 0; k < i; k++) {
			if ((unsigned char)s[k] < 0x20 ||
			    (unsigned char)s[k] >= 0x7f) {
				aliases_msg(msg,
				    "an alias name contains a "
				    "control or non-ASCII byte");
				return -1;
			}
		}
		if (memchr(s, '@', i) != NULL) {
			aliases_msg(msg,
			    "alias names are local parts: \"%.*s\" "
			    "has a domain (for a full address use: mailwright "
			    "alias add)",
			    aliases_quote_len(i), s);
			return -1;
		}
		for (k = 0; k < i; k++) {
			if (!aliases_name_char_ok(s[k])) {
				aliases_msg(msg,
				    "alias name \"%.*s\" contains "
				    "a special character (put the name in "
				    "double quotes)",
				    aliases_quote_len(i), s);
				return -1;
			}
		}
		rc = buf_append(name, s, i);
	}
	if (rc == -1 || name->len > lim->name_max) {
		aliases_msg(
		    msg, "alias name is longer than %zu bytes", lim->name_max);
		return -1;
	}
	if (name->len == 0) {
		aliases_msg(msg, "empty alias name");
		return -1;
	}
	while (i < n && aliases_is_ws(s[i]))
		i++;
	if (i >= n || s[i] != ':') {
		aliases_msg(msg,
		    "expected ':' after the alias name \"%s\" "
		    "(the form is: name: target, target)",
		    buf_cstr(name));
		return -1;
	}
	*end_out = i + 1;
	return 0;
}

/* The physical line number that holds offset off of logical line l. */
static size_t
aliases_line_of(const struct aliases_line *l, size_t off)
{
	size_t k = 0;

	while (k + 1 < l->nstarts && l->starts[k + 1] <= off)
		k++;
	return l->first + k;
}

/* Parses the logical line l into a new entry of out. */
static int
aliases_finish_line(struct aliases_line *l, const char *fname,
    const struct aliases_limits *lim, struct aliases *out, size_t *cap,
    struct buf *err)
{
	struct aliases_vec targets = { NULL, 0, 0 };
	struct aliases_entry *e;
	struct buf name, msg;
	size_t colon = 0, off = 0;
	int ret = -1;

	l->active = false;
	buf_init(&name, lim->name_max);
	buf_init(&msg, 1024);
	if (aliases_parse_name(
	        l->text.data, l->text.len, lim, &name, &colon, &msg) == -1)
		goto out;
	if (aliases_split(l->text.data + colon, l->text.len - colon, lim,
	        &targets, &off, &msg) == -1) {
		off += colon;
		goto out;
	}
	if (targets.n == 0) {
		aliases_msg(
		    &msg, "alias \"%s\" has no targets", buf_cstr(&name));
		goto out;
	}
	if (out->n >= lim->entries_max) {
		aliases_msg(&msg, "more than %zu aliases", lim->entries_max);
		goto out;
	}
	if (out->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		out->v = xreallocarray(out->v, *cap, sizeof(*out->v));
	}
	e = &out->v[out->n++];
	e->name = buf_steal(&name);
	ascii_lower(e->name);
	e->targets = targets.v;
	e->ntargets = targets.n;
	e->line = l->first;
	targets.v = NULL;
	targets.n = 0;
	ret = 0;
out:
	if (ret == -1) {
		buf_reset(err);
		if (buf_printf(err, "%s:%zu: %s", fname,
		        aliases_line_of(l, off), buf_cstr(&msg)) == -1)
			buf_reset(err);
	}
	aliases_vec_free(&targets);
	buf_free(&name);
	buf_free(&msg);
	return ret;
}

static int
aliases_entry_cmp(const void *a, const void *b)
{
	const struct aliases_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Appends physical line p[0..n) to the logical line. */
static int
aliases_line_add(struct aliases_line *l, const char *p, size_t n)
{
	if (l->nstarts == l->capstarts) {
		l->capstarts = l->capstarts ? l->capstarts * 2 : 8;
		l->starts =
		    xreallocarray(l->starts, l->capstarts, sizeof(*l->starts));
	}
	l->starts[l->nstarts++] = l->text.len;
	return buf_append(&l->text, p, n);
}

static void aliases_file_err(struct buf *err, const char *fname, size_t line,
    const char *fmt, ...) MW_PRINTF(4, 5);

static void
aliases_file_err(
    struct buf *err, const char *fname, size_t line, const char *fmt, ...)
{
	va_list ap;

	buf_reset(err);
	va_start(ap, fmt);
	if (buf_printf(err, "%s:%zu: ", fname, line) == -1 ||
	    buf_vprintf(err, fmt, ap) == -1)
		buf_reset(err);
	va_end(ap);
}

int
aliases_file_parse(const char *data, size_t len, const char *fname,
    const struct aliases_limits *lim, struct aliases *out, struct buf *err)
{
	struct aliases_line l;
	const char *p, *eol;
	size_t pos = 0, lineno = 0, n, k, cap = 0, i;
	int ret = -1;

	memset(&l, 0, sizeof(l));
	buf_init(&l.text, lim->line_max);
	out->v = NULL;
	out->n = 0;
	while (pos < len) {
		lineno++;
		p = data + pos;
		eol = memchr(p, '\n', len - pos);
		n = eol != NULL ? (size_t)(eol - p) : len - pos;
		pos += n + (eol != NULL);
		if (n > 0 && p[n - 1] == '\r')
			n--; /* CRLF */
		if (memchr(p, '\0', n) != NULL) {
			aliases_file_err(err, fname, lineno, "NUL byte");
			goto out;
		}
		if (memchr(p, '\r', n) != NULL) {
			aliases_file_err(err, fname, lineno, "bare CR");
			goto out;
		}
		for (k = 0; k < n && aliases_is_ws(p[k]); k++)
			;
		if (k == n || p[k] == '#')
			continue; /* empty, white space only, or a comment */
		if (k == 0 && l.active &&
		    aliases_finish_line(&l, fname, lim, out, &cap, err) == -1)
			goto out;
		if (k > 0 && !l.active) {
			aliases_file_err(err, fname, lineno,
			    "a continuation "
			    "line (starting with white space) without an "
			    "alias before it");
			goto out;
		}
		if (k == 0) {
			buf_reset(&l.text);
			l.nstarts = 0;
			l.first = lineno;
			l.active = true;
		}
		if (aliases_line_add(&l, p, n) == -1) {
			aliases_file_err(err, fname, lineno,
			    "the alias that "
			    "starts on line %zu is longer than %zu bytes",
			    l.first, lim->line_max);
			goto out;
		}
	}
	if (l.active &&
	    aliases_finish_line(&l, fname, lim, out, &cap, err) == -1)
		goto out;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), aliases_entry_cmp);
	for (i = 1; i < out->n; i++) {
		if (strcmp(out->v[i - 1].name, out->v[i].name) == 0) {
			aliases_file_err(err, fname, out->v[i].line,
			    "duplicate alias \"%s\" (first on line %zu)",
			    out->v[i].name, out->v[i - 1].line);
			goto out;
		}
	}
	ret = 0;
out:
	if (ret == -1)
		aliases_free(out);
	buf_free(&l.text);
	free(l.starts);
	return ret;
}

static int
aliases_find_cmp(const void *key, const void *elem)
{
	const struct aliases_entry *e = elem;

	return strcmp(key, e->name);
}

const struct aliases_entry *
aliases_find(const struct aliases *a, const char *name)
{
	const struct aliases_entry *e;
	char *key;

	if (a->n == 0)
		return NULL;
	key = xstrdup(name);
	ascii_lower(key);
	e = bsearch(key, a->v, a->n, sizeof(*a->v), aliases_find_cmp);
	free(key);
	return e;
}

void
aliases_free(struct aliases *a)
{
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		for (j = 0; j < a->v[i].ntargets; j++)
			free(a->v[i].targets[j]);
		free(a->v[i].targets);
		free(a->v[i].name);
	}
	free(a->v);
	a->v = NULL;
	a->n = 0;
}
