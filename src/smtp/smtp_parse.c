/*
 * The SMTP command parser (see smtp_parse.h): splits a command line into
 * verb and argument and checks the arguments of MAIL, RCPT, EHLO/HELO and
 * BDAT. Pure functions over bytes; results point into the caller's line.
 * Whether an accepted address or parameter may be used (SMTPUTF8 announced,
 * SIZE under the limit, relay rules) is the session's decision.
 */
#include <string.h>

#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "smtp/smtp_parse.h"

/* RFC 3461 4.4 and 4.2: ENVID and ORCPT values are bounded. */
#define SMTP_ENVID_MAX 100
#define SMTP_ORCPT_MAX 500
/* keeps "555 5.5.4 Unsupported option: <detail>" well inside 512 octets */
#define SMTP_DETAIL_MAX 64
/* RFC 1870 3: size-value ::= 1*20DIGIT */
#define SMTP_SIZE_DIGITS_MAX 20

// clang-format off
static const struct {
	const char *name;
	enum smtp_verb verb;
} smtp_verbs[] = {
	{ "EHLO",     SMTP_VERB_EHLO },
	{ "HELO",     SMTP_VERB_HELO },
	{ "MAIL",     SMTP_VERB_MAIL },
	{ "RCPT",     SMTP_VERB_RCPT },
	{ "DATA",     SMTP_VERB_DATA },
	{ "BDAT",     SMTP_VERB_BDAT },
	{ "RSET",     SMTP_VERB_RSET },
	{ "NOOP",     SMTP_VERB_NOOP },
	{ "QUIT",     SMTP_VERB_QUIT },
	{ "VRFY",     SMTP_VERB_VRFY },
	{ "EXPN",     SMTP_VERB_EXPN },
	{ "HELP",     SMTP_VERB_HELP },
	{ "STARTTLS", SMTP_VERB_STARTTLS },
	{ "AUTH",     SMTP_VERB_AUTH },
};
// clang-format on

/* What differs between MAIL and RCPT when a path is wrong. */
struct smtp_path_kind {
	bool rcpt;
	const char *prefix; /* "FROM:" or "TO:" */
	const char *syntax; /* the reply text for a missing <path> */
	const char *enh;    /* RFC 3463: 5.1.7 sender, 5.1.3 recipient */
	const char *bad;    /* the reply text for a bad address */
};

// clang-format off
static const struct smtp_path_kind smtp_path_mail = {
	false, "FROM:", "Syntax: MAIL FROM:<address>", "5.1.7",
	"Bad sender address syntax",
};
static const struct smtp_path_kind smtp_path_rcpt = {
	true, "TO:", "Syntax: RCPT TO:<address>", "5.1.3",
	"Bad recipient address syntax",
};
// clang-format on

/* One esmtp-param (RFC 5321 4.1.2): keyword ["=" value]. */
struct smtp_param {
	struct smtp_slice kw;
	struct smtp_slice val;
	bool has_val;
};

static int
smtp_err(
    struct smtp_parse_err *err, int code, const char *enh, const char *text)
{
	err->code = code;
	err->enh = enh;
	err->text = text;
	err->detail.p = NULL;
	err->detail.n = 0;
	return -1;
}

static int
smtp_err_detail(struct smtp_parse_err *err, int code, const char *text,
    struct smtp_slice detail)
{
	(void)smtp_err(err, code, "5.5.4", text);
	err->detail.p = detail.p;
	err->detail.n = detail.n < SMTP_DETAIL_MAX ? detail.n : SMTP_DETAIL_MAX;
	return -1;
}

static int
smtp_err_params(struct smtp_parse_err *err)
{
	return smtp_err(err, 501, "5.5.4", "Syntax error in parameters");
}

static bool
smtp_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static bool
smtp_slice_eq(struct smtp_slice s, const char *word)
{
	size_t n = strlen(word);

	return s.n == n && ascii_eq_n(s.p, word, n);
}

void
smtp_parse_command(const char *line, size_t len, struct smtp_cmd *out)
{
	size_t vlen, a, e, i;

	out->verb = SMTP_VERB_UNKNOWN;
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		continue;
	out->verb_text.p = line;
	out->verb_text.n = vlen;
	/* RFC 5321 4.1.1: one SP; be liberal about more, and trailing ones */
	a = vlen < len ? vlen + 1 : len;
	while (a < len && (line[a] == ' ' || line[a] == '\t'))
		a++;
	e = len;
	while (e > a && (line[e - 1] == ' ' || line[e - 1] == '\t'))
		e--;
	out->arg.p = line + a;
	out->arg.n = e - a;
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			return; /* NUL or a control byte: never a known verb */
	}
	for (i = 0; i < MW_NELEM(smtp_verbs); i++) {
		if (strlen(smtp_verbs[i].name) == vlen &&
		    ascii_eq_n(line, smtp_verbs[i].name, vlen)) {
			out->verb = smtp_verbs[i].verb;
			return;
		}
	}
}

/*
 * The end of the path that starts with '<' at p[0]: the first '>' outside
 * a quoted string (a quoted local part may hold '>'). False if none.
 */
static bool
smtp_path_end(const char *p, size_t n, size_t *end_out)
{
	bool inq = false;
	size_t i;

	for (i = 1; i < n; i++) {
		if (inq && p[i] == '\\') {
			i++; /* quoted-pairSMTP */
			continue;
		}
		if (p[i] == '"')
			inq = !inq;
		else if (!inq && p[i] == '>') {
			*end_out = i;
			return true;
		}
	}
	return false;
}

/*
 * RFC 5321 4.1.2 A-d-l ":" (a source route, "@a,@b:"): checked, then
 * ignored (RFC 5321 C). Sets *len_out to its length including the ':'.
 */
static bool
smtp_source_route(const char *p, size_t n, size_t *len_out, bool *utf8)
{
	size_t i = 0, start;

	for (;;) {
		if (i >= n || p[i] != '@')
			return false;
		start = ++i;
		while (i < n && p[i] != ',' && p[i] != ':')
			i++;
		/* At-domain = "@" Domain: no address literal here */
		if (i >= n || i == start || p[start] == '[' ||
		    !mailaddr_domain_valid_n(p + start, i - start, utf8))
			return false;
		if (p[i++] == ':')
			break;
	}
	*len_out = i;
	return true;
}

/* The offset of the first '@' outside a quoted string, or n. */
static size_t
smtp_mailbox_at(const char *p, size_t n)
{
	bool inq = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (inq && p[i] == '\\') {
			i++;
			continue;
		}
		if (p[i] == '"')
			inq = !inq;
		else if (!inq && p[i] == '@')
			return i;
	}
	return n;
}

/*
 * Parses "<path>" at arg[*pos] after optional spaces; on success *pos is
 * just past the '>'. RFC 5321 4.1.2 Reverse-path / Forward-path.
 */
static int
smtp_parse_path(const char *arg, size_t n, size_t *pos,
    const struct smtp_path_kind *kind, const struct smtp_parse_limits *lim,
    struct smtp_path *path, struct smtp_parse_err *err)
{
	const char *c, *mb;
	size_t i = *pos, end, cn, route = 0, mn, at;

	memset(path, 0, sizeof(*path));
	/* RFC 5321 4.1.1.2 has no space after the colon; Postfix allows it */
	while (i < n && arg[i] == ' ')
		i++;
	if (i >= n || arg[i] != '<' || !smtp_path_end(arg + i, n - i, &end))
		return smtp_err(err, 501, "5.5.4", kind->syntax);
	/* RFC 5321 4.5.3.1.3: the path's length counts its punctuation */
	if (end + 1 > lim->path_max)
		return smtp_err(err, 501, kind->enh, "Path too long");
	c = arg + i + 1;
	cn = end - 1;
	*pos = i + end + 1;
	if (cn == 0) {
		/* RFC 5321 4.1.1.2: "<>" is the null reverse-path */
		if (kind->rcpt)
			return smtp_err(err, 501, kind->enh, kind->bad);
		path->null = true;
		return 0;
	}
	if (c[0] == '@' && !smtp_source_route(c, cn, &route, &path->utf8))
		return smtp_err(err, 501, kind->enh, kind->bad);
	mb = c + route;
	mn = cn - route;
	at = smtp_mailbox_at(mb, mn);
	if (at == mn) {
		/* RFC 5321 4.1.1.3: "<Postmaster>" needs no domain */
		if (kind->rcpt && route == 0 && mn == 10 &&
		    ascii_eq_n(mb, "Postmaster", 10)) {
			path->postmaster = true;
			path->local.p = mb;
			path->local.n = mn;
			return 0;
		}
		return smtp_err(err, 501, kind->enh, kind->bad);
	}
	path->local.p = mb;
	path->local.n = at;
	path->domain.p = mb + at + 1;
	path->domain.n = mn - at - 1;
	/* RFC 5321 4.5.3.1.1 and 4.5.3.1.2 */
	if (path->local.n > lim->local_max)
		return smtp_err(err, 501, kind->enh, "Local part too long");
	if (path->domain.n > lim->domain_max)
		return smtp_err(err, 501, kind->enh, "Domain name too long");
	if (!mailaddr_local_valid_n(path->local.p, path->local.n, &path->utf8))
		return smtp_err(err, 501, kind->enh, kind->bad);
	if (!mailaddr_domain_valid_n(path->domain.p, path->domain.n,
		&path->utf8))
		return smtp_err(err, 501, kind->enh, kind->bad);
	return 0;
}

/*
 * The next esmtp-param after spaces (RFC 5321 4.1.2): keyword =
 * (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), value = 1*(%d33-60 / %d62-126),
 * RFC 6531 3.3 adds UTF-8 to values. 1 with *p filled, 0 at the end, -1.
 */
static int
smtp_param_next(const char *arg, size_t n, size_t *pos, struct smtp_param *p,
    struct smtp_parse_err *err)
{
	size_t i = *pos, k;

	while (i < n && arg[i] == ' ')
		i++;
	if (i >= n) {
		*pos = i;
		return 0;
	}
	memset(p, 0, sizeof(*p));
	p->kw.p = arg + i;
	while (i < n && arg[i] != ' ' && arg[i] != '=') {
		unsigned char c = (unsigned char)arg[i];

		if (!smtp_is_alnum(c) && (c != '-' || p->kw.n == 0))
			return smtp_err_params(err);
		p->kw.n++;
		i++;
	}
	if (p->kw.n == 0)
		return smtp_err_params(err);
	if (i < n && arg[i] == '=') {
		p->has_val = true;
		p->val.p = arg + ++i;
		while (i < n && arg[i] != ' ') {
			unsigned char c = (unsigned char)arg[i];

			if (c >= 0x80 &&
			    (k = mailaddr_utf8_len(arg + i, n - i)) != 0) {
				i += k;
				continue;
			}
			if (c < 33 || c > 126 || c == '=')
				return smtp_err_params(err);
			i++;
		}
		p->val.n = (size_t)(arg + i - p->val.p);
		if (p->val.n == 0)
			return smtp_err_params(err);
	}
	*pos = i;
	return 1;
}

static int
smtp_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f') /* RFC 3461 wants upper case; be liberal */
		return c - 'a' + 10;
	return -1;
}

/*
 * RFC 3461 4: xtext = *( xchar / hexchar ), xchar = "!".."~" except "+"
 * and "=", hexchar = "+" 2HEXDIG. Non-empty, at most max characters once
 * decoded; with utf8_ok, UTF-8 characters too (RFC 6533 3 unitext).
 */
static bool
smtp_xtext_valid(struct smtp_slice s, size_t max, bool utf8_ok)
{
	size_t i = 0, chars = 0, k;

	if (s.n == 0)
		return false;
	while (i < s.n) {
		unsigned char c = (unsigned char)s.p[i];

		if (c == '+') {
			if (i + 2 >= s.n || smtp_hex(s.p[i + 1]) == -1 ||
			    smtp_hex(s.p[i + 2]) == -1)
				return false;
			i += 3;
		} else if (c >= 33 && c <= 126 && c != '=')
			i++;
		else if (utf8_ok && c >= 0x80 &&
		    (k = mailaddr_utf8_len(s.p + i, s.n - i)) != 0)
			i += k;
		else
			return false;
		chars++;
	}
	return chars <= max;
}

/* RFC 1870 3: SIZE=1*20DIGIT. A value past UINT64_MAX becomes UINT64_MAX:
 * it is well formed, and the caller refuses it as too big. */
static bool
smtp_size_value(struct smtp_slice s, uint64_t *v_out)
{
	uint64_t v = 0;
	size_t i;

	if (s.n == 0 || s.n > SMTP_SIZE_DIGITS_MAX)
		return false;
	for (i = 0; i < s.n; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';

		if (d > 9)
			return false;
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*v_out = v;
	return true;
}

enum {
	SMTP_SEEN_SIZE = 1 << 0,
	SMTP_SEEN_BODY = 1 << 1,
	SMTP_SEEN_SMTPUTF8 = 1 << 2,
	SMTP_SEEN_RET = 1 << 3,
	SMTP_SEEN_ENVID = 1 << 4,
	SMTP_SEEN_AUTH = 1 << 5,
	SMTP_SEEN_NOTIFY = 1 << 6,
	SMTP_SEEN_ORCPT = 1 << 7,
};

/* Marks a parameter as seen; -1 (501) when it was already given. */
static int
smtp_param_once(unsigned *seen, unsigned bit, const struct smtp_param *p,
    struct smtp_parse_err *err)
{
	if (*seen & bit)
		return smtp_err_detail(err, 501, "Duplicate parameter", p->kw);
	*seen |= bit;
	return 0;
}

static int
smtp_mail_param(const struct smtp_param *p, unsigned *seen,
    struct smtp_mail_params *mp, struct smtp_parse_err *err)
{
	if (smtp_slice_eq(p->kw, "SIZE")) {
		if (smtp_param_once(seen, SMTP_SEEN_SIZE, p, err) == -1)
			return -1;
		if (!p->has_val || !smtp_size_value(p->val, &mp->size))
			return smtp_err(
			    err, 501, "5.5.4", "Bad message size syntax");
		mp->has_size = true;
	} else if (smtp_slice_eq(p->kw, "BODY")) {
		/* RFC 6152 2, RFC 3030 3 */
		if (smtp_param_once(seen, SMTP_SEEN_BODY, p, err) == -1)
			return -1;
		if (p->has_val && smtp_slice_eq(p->val, "7BIT"))
			mp->body = SMTP_BODY_7BIT;
		else if (p->has_val && smtp_slice_eq(p->val, "8BITMIME"))
			mp->body = SMTP_BODY_8BITMIME;
		else if (p->has_val && smtp_slice_eq(p->val, "BINARYMIME"))
			mp->body = SMTP_BODY_BINARYMIME;
		else
			return smtp_err(
			    err, 501, "5.5.4", "Bad BODY parameter");
	} else if (smtp_slice_eq(p->kw, "SMTPUTF8")) {
		/* RFC 6531 3.4: no value */
		if (smtp_param_once(seen, SMTP_SEEN_SMTPUTF8, p, err) == -1)
			return -1;
		if (p->has_val)
			return smtp_err(
			    err, 501, "5.5.4", "Bad SMTPUTF8 parameter");
		mp->smtputf8 = true;
	} else if (smtp_slice_eq(p->kw, "RET")) {
		/* RFC 3461 4.3 */
		if (smtp_param_once(seen, SMTP_SEEN_RET, p, err) == -1)
			return -1;
		if (!p->has_val || !(smtp_slice_eq(p->val, "FULL") ||
		    smtp_slice_eq(p->val, "HDRS")))
			return smtp_err(err, 501, "5.5.4", "Bad RET parameter");
		mp->ret = p->val;
	} else if (smtp_slice_eq(p->kw, "ENVID")) {
		/* RFC 3461 4.4 */
		if (smtp_param_once(seen, SMTP_SEEN_ENVID, p, err) == -1)
			return -1;
		if (!p->has_val ||
		    !smtp_xtext_valid(p->val, SMTP_ENVID_MAX, false))
			return smtp_err(
			    err, 501, "5.5.4", "Bad ENVID parameter");
		mp->envid = p->val;
	} else if (smtp_slice_eq(p->kw, "AUTH")) {
		/* RFC 4954 5: AUTH=xtext (a mailbox or "<>") */
		if (smtp_param_once(seen, SMTP_SEEN_AUTH, p, err) == -1)
			return -1;
		if (!p->has_val || !smtp_xtext_valid(p->val, SIZE_MAX, false))
			return smtp_err(
			    err, 501, "5.5.4", "Bad AUTH parameter");
		mp->auth = p->val;
	} else /* RFC 5321 4.1.1.11: 555 for an unrecognised parameter */
		return smtp_err_detail(err, 555, "Unsupported option", p->kw);
	return 0;
}

/* RFC 3461 4.1: NOTIFY="NEVER" / 1#("SUCCESS" / "FAILURE" / "DELAY") */
static bool
smtp_notify_valid(struct smtp_slice v)
{
	struct smtp_slice e;
	size_t i = 0, j;

	if (smtp_slice_eq(v, "NEVER"))
		return true;
	for (;;) {
		for (j = i; j < v.n && v.p[j] != ','; j++)
			continue;
		e.p = v.p + i;
		e.n = j - i;
		if (!smtp_slice_eq(e, "SUCCESS") &&
		    !smtp_slice_eq(e, "FAILURE") && !smtp_slice_eq(e, "DELAY"))
			return false;
		if (j == v.n)
			return true;
		i = j + 1;
	}
}

/* RFC 3461 4.2: ORCPT=addr-type ";" xtext; "utf-8" addresses (RFC 6533
 * 3) may carry UTF-8 as it is. */
static bool
smtp_orcpt_valid(struct smtp_slice v)
{
	struct smtp_slice type, addr;
	size_t i;

	for (i = 0; i < v.n && v.p[i] != ';'; i++)
		if (!smtp_is_alnum((unsigned char)v.p[i]) && v.p[i] != '-')
			return false;
	if (i == 0 || i == v.n)
		return false;
	type.p = v.p;
	type.n = i;
	addr.p = v.p + i + 1;
	addr.n = v.n - i - 1;
	return smtp_xtext_valid(
	    addr, SMTP_ORCPT_MAX, smtp_slice_eq(type, "utf-8"));
}

static int
smtp_rcpt_param(const struct smtp_param *p, unsigned *seen,
    struct smtp_rcpt_params *rp, struct smtp_parse_err *err)
{
	if (smtp_slice_eq(p->kw, "NOTIFY")) {
		if (smtp_param_once(seen, SMTP_SEEN_NOTIFY, p, err) == -1)
			return -1;
		if (!p->has_val || !smtp_notify_valid(p->val))
			return smtp_err(
			    err, 501, "5.5.4", "Bad NOTIFY parameter");
		rp->notify = p->val;
	} else if (smtp_slice_eq(p->kw, "ORCPT")) {
		if (smtp_param_once(seen, SMTP_SEEN_ORCPT, p, err) == -1)
			return -1;
		if (!p->has_val || !smtp_orcpt_valid(p->val))
			return smtp_err(
			    err, 501, "5.5.4", "Bad ORCPT parameter");
		rp->orcpt = p->val;
	} else /* RFC 5321 4.1.1.11 */
		return smtp_err_detail(err, 555, "Unsupported option", p->kw);
	return 0;
}

/* "FROM:" or "TO:" and the path; *pos is left after the '>'. */
static int
smtp_parse_prefix_path(const char *arg, size_t n,
    const struct smtp_path_kind *kind, const struct smtp_parse_limits *lim,
    struct smtp_path *path, size_t *pos, struct smtp_parse_err *err)
{
	size_t plen = strlen(kind->prefix);

	if (n < plen || !ascii_eq_n(arg, kind->prefix, plen))
		return smtp_err(err, 501, "5.5.4", kind->syntax);
	*pos = plen;
	if (smtp_parse_path(arg, n, pos, kind, lim, path, err) == -1)
		return -1;
	/* RFC 5321 4.1.1.2: parameters follow after SP */
	if (*pos < n && arg[*pos] != ' ')
		return smtp_err(err, 501, "5.5.4", kind->syntax);
	return 0;
}

int
smtp_parse_mail(const char *arg, size_t n, const struct smtp_parse_limits *lim,
    struct smtp_path *path_out, struct smtp_mail_params *params_out,
    struct smtp_parse_err *err)
{
	struct smtp_param p;
	unsigned seen = 0;
	size_t pos;
	int r;

	memset(params_out, 0, sizeof(*params_out));
	params_out->body = SMTP_BODY_7BIT;
	if (smtp_parse_prefix_path(arg, n, &smtp_path_mail, lim, path_out,
		&pos, err) == -1)
		return -1;
	while ((r = smtp_param_next(arg, n, &pos, &p, err)) == 1)
		if (smtp_mail_param(&p, &seen, params_out, err) == -1)
			return -1;
	return r;
}

int
smtp_parse_rcpt(const char *arg, size_t n, const struct smtp_parse_limits *lim,
    struct smtp_path *path_out, struct smtp_rcpt_params *params_out,
    struct smtp_parse_err *err)
{
	struct smtp_param p;
	unsigned seen = 0;
	size_t pos;
	int r;

	memset(params_out, 0, sizeof(*params_out));
	if (smtp_parse_prefix_path(arg, n, &smtp_path_rcpt, lim, path_out,
		&pos, err) == -1)
		return -1;
	while ((r = smtp_param_next(arg, n, &pos, &p, err)) == 1)
		if (smtp_rcpt_param(&p, &seen, params_out, err) == -1)
			return -1;
	return r;
}

int
smtp_parse_helo(const char *arg, size_t n, bool ehlo,
    struct smtp_slice *domain_out, struct smtp_parse_err *err)
{
	const char *syntax =
	    ehlo ? "Syntax: EHLO hostname" : "Syntax: HELO hostname";
	size_t a = 0, e = n, i;

	while (a < e && arg[a] == ' ')
		a++;
	while (e > a && (arg[e - 1] == ' ' || arg[e - 1] == '\t'))
		e--;
	/*
	 * RFC 5321 4.1.1.1 wants a Domain or address-literal; like Postfix we
	 * take any one printable ASCII word (policy may check it later).
	 */
	if (a == e)
		return smtp_err(err, 501, "5.5.4", syntax);
	for (i = a; i < e; i++) {
		unsigned char c = (unsigned char)arg[i];

		if (c <= ' ' || c >= 0x7f)
			return smtp_err(err, 501, "5.5.4", syntax);
	}
	domain_out->p = arg + a;
	domain_out->n = e - a;
	return 0;
}

int
smtp_parse_bdat(const char *arg, size_t n, struct smtp_bdat_args *out,
    struct smtp_parse_err *err)
{
	const char *syntax = "Syntax: BDAT count [LAST]";
	size_t i = 0, d;

	/* RFC 3030 2: "BDAT" SP chunk-size [SP end-marker], 1*DIGIT */
	while (i < n && arg[i] == ' ')
		i++;
	for (d = i; d < n && arg[d] >= '0' && arg[d] <= '9'; d++)
		continue;
	if (parse_uint_n(arg + i, d - i, 0, UINT64_MAX, &out->size) == -1)
		return smtp_err(err, 501, "5.5.4", syntax);
	out->last = false;
	i = d;
	if (i < n && arg[i] != ' ')
		return smtp_err(err, 501, "5.5.4", syntax);
	while (i < n && arg[i] == ' ')
		i++;
	if (i == n)
		return 0;
	if (n - i < 4 || !ascii_eq_n(arg + i, "LAST", 4))
		return smtp_err(err, 501, "5.5.4", syntax);
	i += 4;
	while (i < n && (arg[i] == ' ' || arg[i] == '\t'))
		i++;
	if (i != n)
		return smtp_err(err, 501, "5.5.4", syntax);
	out->last = true;
	return 0;
}
