/*
 * Mail address helpers (see mailaddr.h): RFC 5321 4.1.2 syntax checks for
 * local parts and domains, splitting, normalising for lookups and stripping
 * a recipient_delimiter extension. The SMTP parser uses the syntax checks;
 * everything that decides what an address means is left to the callers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

/* RFC 1035 2.3.4: labels of at most 63 octets, names of at most 255. */
#define MAILADDR_LABEL_MAX  63
#define MAILADDR_DOMAIN_MAX 255
/* INET6_ADDRSTRLEN - 1: the longest IPv6 text, "ffff:...:255.255.255.255" */
#define MAILADDR_IP_TEXT_MAX 45

size_t
mailaddr_utf8_len(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	/* RFC 3629 4: the UTF8-2/3/4 productions, no overlongs or surrogates */
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* RFC 5322 3.2.3 atext (RFC 5321 4.1.2 Atom), ASCII part. */
static bool
mailaddr_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
mailaddr_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 5321 4.1.2 Dot-string = Atom *("." Atom); RFC 6531 3.3 adds UTF-8. */
static bool
mailaddr_dot_string_valid(const char *l, size_t n, bool *utf8_out)
{
	bool atom_empty = true, utf8 = false;
	size_t i = 0, k;

	while (i < n) {
		unsigned char c = (unsigned char)l[i];

		if (c == '.') {
			if (atom_empty)
				return false;
			atom_empty = true;
			i++;
		} else if (c >= 0x80) {
			if ((k = mailaddr_utf8_len(l + i, n - i)) == 0)
				return false;
			utf8 = true;
			atom_empty = false;
			i += k;
		} else if (mailaddr_is_atext(c)) {
			atom_empty = false;
			i++;
		} else
			return false;
	}
	if (atom_empty) /* empty, or a trailing dot */
		return false;
	if (utf8 && utf8_out != NULL)
		*utf8_out = true;
	return true;
}

/*
 * RFC 5321 4.1.2 Quoted-string = DQUOTE *QcontentSMTP DQUOTE, where
 * qtextSMTP is %d32-33 / %d35-91 / %d93-126 (RFC 6531 3.3 adds UTF-8) and
 * quoted-pairSMTP is "\" %d32-126.
 */
static bool
mailaddr_quoted_valid(const char *l, size_t n, bool *utf8_out)
{
	bool utf8 = false;
	size_t i, k;

	if (n < 2 || l[0] != '"' || l[n - 1] != '"')
		return false;
	for (i = 1; i < n - 1;) {
		unsigned char c = (unsigned char)l[i];

		if (c == '\\') {
			if (i + 1 >= n - 1)
				return false; /* escapes the closing quote */
			c = (unsigned char)l[i + 1];
			if (c < 32 || c > 126)
				return false;
			i += 2;
		} else if (c >= 0x80) {
			if ((k = mailaddr_utf8_len(l + i, n - 1 - i)) == 0)
				return false;
			utf8 = true;
			i += k;
		} else if (c >= 32 && c <= 126 && c != '"')
			i++;
		else
			return false;
	}
	if (utf8 && utf8_out != NULL)
		*utf8_out = true;
	return true;
}

bool
mailaddr_local_valid_n(const char *l, size_t n, bool *utf8_out)
{
	if (n > 0 && l[0] == '"')
		return mailaddr_quoted_valid(l, n, utf8_out);
	return mailaddr_dot_string_valid(l, n, utf8_out);
}

/* RFC 5321 4.1.3 address-literal: IPv4 or "IPv6:" IPv6. General literals
 * (Standardized-tag ":" dcontent) have no registered tag we could use. */
static bool
mailaddr_literal_valid(const char *d, size_t n)
{
	char text[MAILADDR_IP_TEXT_MAX + 1];
	unsigned char addr[16];
	int af = AF_INET;

	if (n < 2 || d[0] != '[' || d[n - 1] != ']')
		return false;
	d++;
	n -= 2;
	if (n >= 5 && ascii_eq_n(d, "IPv6:", 5)) {
		af = AF_INET6;
		d += 5;
		n -= 5;
	}
	if (n == 0 || n > MAILADDR_IP_TEXT_MAX || memchr(d, '\0', n) != NULL)
		return false;
	memcpy(text, d, n);
	text[n] = '\0';
	return inet_pton(af, text, addr) == 1;
}

bool
mailaddr_domain_valid_n(const char *d, size_t n, bool *utf8_out)
{
	size_t i = 0, label = 0, k;
	bool utf8 = false, prev_hyphen = false;

	if (n > 0 && d[0] == '[')
		return mailaddr_literal_valid(d, n);
	if (n == 0 || n > MAILADDR_DOMAIN_MAX)
		return false;
	/*
	 * RFC 5321 4.1.2: sub-domain = Let-dig [Ldh-str], so a label starts
	 * and ends with a letter or digit; RFC 6531 3.3 adds U-labels, whose
	 * UTF-8 characters count as letters here.
	 */
	while (i < n) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0 || prev_hyphen)
				return false;
			label = 0;
			i++;
			continue;
		}
		if (c == '-') {
			if (label == 0)
				return false;
			prev_hyphen = true;
			k = 1;
		} else if (c >= 0x80) {
			if ((k = mailaddr_utf8_len(d + i, n - i)) == 0)
				return false;
			utf8 = true;
			prev_hyphen = false;
		} else if (mailaddr_is_alnum(c)) {
			prev_hyphen = false;
			k = 1;
		} else
			return false;
		label += k;
		if (label > MAILADDR_LABEL_MAX)
			return false;
		i += k;
	}
	if (label == 0 || prev_hyphen) /* a trailing dot or hyphen */
		return false;
	if (utf8 && utf8_out != NULL)
		*utf8_out = true;
	return true;
}

bool
mailaddr_domain_valid(const char *domain)
{
	if (domain == NULL)
		return false;
	return mailaddr_domain_valid_n(domain, strlen(domain), NULL);
}

/* The offset of the last '@' outside a quoted string, or n when there is
 * none; -1 when a quoted string is not closed. */
static int
mailaddr_find_at(const char *addr, size_t n, size_t *at_out)
{
	bool inq = false;
	size_t i, at = n;

	for (i = 0; i < n; i++) {
		if (inq && addr[i] == '\\') {
			i++; /* quoted-pair */
			continue;
		}
		if (addr[i] == '"')
			inq = !inq;
		else if (!inq && addr[i] == '@')
			at = i;
	}
	if (inq || i > n)
		return -1;
	*at_out = at;
	return 0;
}

int
mailaddr_split(const char *addr, char **local_out, char **domain_out)
{
	size_t n, at;

	if (addr == NULL || (n = strlen(addr)) == 0 ||
	    mailaddr_find_at(addr, n, &at) == -1 || at == 0 ||
	    (at < n && at == n - 1)) {
		errno = EINVAL;
		return -1;
	}
	*local_out = xstrndup(addr, at);
	*domain_out = xstrdup(at < n ? addr + at + 1 : "");
	return 0;
}

/* Appends the normalised local part: a quoted local part loses its quotes
 * when its content is a Dot-string, else it is requoted with the fewest
 * escapes (only '"' and '\'). 0 or -1. */
static int
mailaddr_local_normalize(const char *l, size_t n, struct buf *out)
{
	struct buf content;
	size_t i;
	int ret = -1;

	if (l[0] != '"')
		return buf_append(out, l, n);
	buf_init(&content, n);
	for (i = 1; i < n - 1; i++) {
		if (l[i] == '\\')
			i++;
		if (buf_append_char(&content, l[i]) == -1)
			goto out;
	}
	if (content.len > 0 &&
	    mailaddr_dot_string_valid(content.data, content.len, NULL)) {
		ret = buf_append(out, content.data, content.len);
		goto out;
	}
	if (buf_append_char(out, '"') == -1)
		goto out;
	for (i = 0; i < content.len; i++) {
		if ((content.data[i] == '"' || content.data[i] == '\\') &&
		    buf_append_char(out, '\\') == -1)
			goto out;
		if (buf_append_char(out, content.data[i]) == -1)
			goto out;
	}
	ret = buf_append_char(out, '"');
out:
	buf_free(&content);
	return ret;
}

char *
mailaddr_normalize(const char *addr)
{
	struct buf out;
	size_t n, at, dn, i;
	const char *d;

	if (addr == NULL || (n = strlen(addr)) == 0 ||
	    mailaddr_find_at(addr, n, &at) == -1 ||
	    !mailaddr_local_valid_n(addr, at, NULL))
		return NULL;
	buf_init(&out, 2 * n + 2);
	if (mailaddr_local_normalize(addr, at, &out) == -1)
		goto fail;
	if (at < n) {
		d = addr + at + 1;
		dn = n - at - 1;
		/* a fully qualified "example.org." names "example.org" */
		if (dn > 1 && d[dn - 1] == '.' && d[0] != '[')
			dn--;
		if (!mailaddr_domain_valid_n(d, dn, NULL))
			goto fail;
		if (buf_append_char(&out, '@') == -1)
			goto fail;
		i = out.len;
		if (buf_append(&out, d, dn) == -1)
			goto fail;
		ascii_lower(out.data + i);
	}
	return buf_steal(&out);
fail:
	buf_free(&out);
	return NULL;
}

/* Postfix split_addr(): these never lose an "extension". */
static bool
mailaddr_is_unsplittable(const char *local, size_t n, const char *delims)
{
	if (ascii_eq(local, "postmaster") || ascii_eq(local, "MAILER-DAEMON"))
		return true;
	/* mailing-list owner-foo and foo-request keep their hyphen */
	if (strchr(delims, '-') != NULL) {
		if (n >= 6 && ascii_eq_n(local, "owner-", 6))
			return true;
		if (n > 8 && ascii_eq_n(local + n - 8, "-request", 8))
			return true;
	}
	return false;
}

char *
mailaddr_strip_extension(
    const char *local, const char *delimiters, char **ext_out)
{
	size_t n = strlen(local), k;

	if (ext_out != NULL)
		*ext_out = NULL;
	if (delimiters == NULL || delimiters[0] == '\0' || local[0] == '"' ||
	    mailaddr_is_unsplittable(local, n, delimiters))
		return xstrdup(local);
	k = strcspn(local, delimiters);
	/* Postfix: a local part that starts with a delimiter is not split */
	if (k == 0 || k == n)
		return xstrdup(local);
	if (ext_out != NULL)
		*ext_out = xstrdup(local + k + 1);
	return xstrndup(local, k);
}
