/*
 * MIME header field parsing (see smtp_mime_private.h): field names, RFC 2045
 * Content-Type and Content-Transfer-Encoding values with RFC 5322 comments,
 * quoted-strings and folding.
 */
#include <string.h>

#include "lib/buf.h"
#include "lib/mw.h"
#include "smtp/smtp_mime_private.h"

static bool
mime_ieq(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char a = (unsigned char)p[i], b = (unsigned char)s[i];

		if (b == '\0')
			return false;
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return s[n] == '\0';
}

/* RFC 2045 5.1: token chars, not SP, CTLs, 8-bit or tspecials */
static bool
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

/* Folding white space: a field is handled with its line ends in it. */
static bool
mime_fws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skips white space and RFC 5322 3.2.2 comments (nested, with
 * quoted-pairs); an unclosed comment runs to the end. */
static size_t
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

static size_t
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

/*
 * RFC 2045 5.1: type "/" subtype *(";" attribute "=" value). A value is a
 * quoted-string (its quoted-pairs undone and line ends unfolded) or a run
 * of chars up to ';', white space or '('. A parameter that does not parse
 * is skipped; the first boundary counts.
 */
void
smtp_mime_parse_ctype(
    const char *p, size_t n, struct buf *boundary, struct smtp_mime_ctype *ct)
{
	size_t i, t, t_end, s, s_end, a, a_end;
	bool is_bnd, seen_bnd = false, bad = false;

	memset(ct, 0, sizeof(*ct));
	buf_reset(boundary);
	t = mime_skip_cfws(p, 0, n);
	t_end = mime_skip_token(p, t, n);
	i = mime_skip_cfws(p, t_end, n);
	if (t_end == t || i == n || p[i] != '/')
		return;
	s = mime_skip_cfws(p, i + 1, n);
	s_end = mime_skip_token(p, s, n);
	if (s_end == s)
		return;
	ct->valid = true;
	ct->multipart = mime_ieq(p + t, t_end - t, "multipart");
	ct->digest = ct->multipart && mime_ieq(p + s, s_end - s, "digest");
	ct->message = mime_ieq(p + t, t_end - t, "message");
	ct->rfc822 = ct->message && mime_ieq(p + s, s_end - s, "rfc822");
	i = s_end;
	for (;;) {
		i = mime_skip_cfws(p, i, n);
		if (i == n)
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
		is_bnd = !seen_bnd && mime_ieq(p + a, a_end - a, "boundary");
		seen_bnd = seen_bnd || is_bnd;
		if (i < n && p[i] == '"') {
			for (i++; i < n && p[i] != '"'; i++) {
				if (p[i] == '\n' || p[i] == '\r')
					continue; /* RFC 5322 3.2.2 unfolding */
				if (p[i] == '\\' && i + 1 < n)
					i++;
				if (is_bnd &&
				    buf_append_char(boundary, p[i]) == -1)
					bad = true;
			}
			if (i < n)
				i++;
		} else {
			for (; i < n && mime_vchar((unsigned char)p[i]); i++)
				if (is_bnd &&
				    buf_append_char(boundary, p[i]) == -1)
					bad = true;
		}
	}
	ct->boundary = seen_bnd && !bad && boundary->len > 0;
}

/* RFC 2045 6.1: one token, comments around it allowed. */
enum smtp_mime_cte
smtp_mime_parse_cte(const char *p, size_t n)
{
	// clang-format off
	static const struct {
		const char *name;
		enum smtp_mime_cte cte;
	} names[] = {
		{ "7bit",             SMTP_MIME_CTE_7BIT },
		{ "8bit",             SMTP_MIME_CTE_8BIT },
		{ "binary",           SMTP_MIME_CTE_BINARY },
		{ "quoted-printable", SMTP_MIME_CTE_QP },
		{ "base64",           SMTP_MIME_CTE_BASE64 },
	};
	// clang-format on
	size_t t, t_end, k;

	t = mime_skip_cfws(p, 0, n);
	t_end = mime_skip_token(p, t, n);
	if (t_end == t || mime_skip_cfws(p, t_end, n) != n)
		return SMTP_MIME_CTE_OTHER;
	for (k = 0; k < MW_NELEM(names); k++)
		if (mime_ieq(p + t, t_end - t, names[k].name))
			return names[k].cte;
	return SMTP_MIME_CTE_OTHER;
}

/* RFC 5322 2.2: a field name (printable, not ':') then ':'; obsolete
 * white space before the colon is tolerated (RFC 5322 4.5). */
bool
smtp_mime_is_field(const char *p, size_t n, size_t *name_len_out)
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

/* The field starting at p[i] of a header block p[0..n): returns where the
 * next one starts; its kind and the start of its value go to the out
 * parameters. */
size_t
smtp_mime_field_next(const char *p, size_t n, size_t i,
    enum smtp_mime_field *kind_out, size_t *value_out)
{
	const char *nl;
	size_t name_len = 0, start = i, v;

	*kind_out = SMTP_MIME_FIELD_OTHER;
	*value_out = n;
	for (;;) {
		nl = memchr(p + i, '\n', n - i);
		i = nl != NULL ? (size_t)(nl - p) + 1 : n;
		if (i == n || (p[i] != ' ' && p[i] != '\t'))
			break;
	}
	if (!smtp_mime_is_field(p + start, i - start, &name_len))
		return i;
	for (v = start + name_len; p[v] != ':'; v++)
		;
	*value_out = v + 1;
	if (mime_ieq(p + start, name_len, "content-type"))
		*kind_out = SMTP_MIME_FIELD_CTYPE;
	else if (mime_ieq(p + start, name_len, "content-transfer-encoding"))
		*kind_out = SMTP_MIME_FIELD_CTE;
	return i;
}
