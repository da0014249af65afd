/*
 * SEARCH evaluation (see imap_search_eval.h): preparing a program,
 * matching the keys that need only the store entry, combining results
 * three-valued so that content is read only when the cheap keys do not
 * decide, dates (RFC 5322 3.3) and the SEARCH/ESEARCH reply. String keys
 * and reading the message are in imap_search_text.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imap/imap_search_private.h"
#include "lib/xalloc.h"
#include "mime/mime_tree.h"
#include "store/store.h"

#define SEARCH_CHUNK_DEFAULT ((size_t)64 * 1024)

// clang-format off
static const struct {
	const char *name;
	int env;
} env_fields[] = {
	{ "Date",        MIME_ENV_DATE },
	{ "Subject",     MIME_ENV_SUBJECT },
	{ "From",        MIME_ENV_FROM },
	{ "Sender",      MIME_ENV_SENDER },
	{ "Reply-To",    MIME_ENV_REPLY_TO },
	{ "To",          MIME_ENV_TO },
	{ "Cc",          MIME_ENV_CC },
	{ "Bcc",         MIME_ENV_BCC },
	{ "In-Reply-To", MIME_ENV_IN_REPLY_TO },
	{ "Message-ID",  MIME_ENV_MESSAGE_ID },
};
// clang-format on

int64_t
search_days_from_civil(int64_t y, int m, int d)
{
	/* H. Hinnant's days_from_civil: proleptic Gregorian */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t
search_local_day(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return t / 86400;
	return search_days_from_civil(
	    (int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* Local midnight starting the day d days after date. */
static int64_t
local_midnight(const struct imap_date *date, int d)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = date->year - 1900;
	tm.tm_mon = date->mon - 1;
	tm.tm_mday = date->day + d;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1) /* out of range: take it as UTC */
		return (search_days_from_civil(
		            date->year, date->mon, date->day) +
		           d) *
		    86400;
	return (int64_t)t;
}

static void
skip_cfws(const char *s, size_t n, size_t *i)
{
	int depth = 0;

	for (; *i < n; (*i)++) {
		if (s[*i] == '(')
			depth++;
		else if (s[*i] == ')' && depth > 0)
			depth--;
		else if (depth == 0 && s[*i] != ' ' && s[*i] != '\t' &&
		    s[*i] != '\r' && s[*i] != '\n')
			return;
	}
}

static int
read_num(const char *s, size_t n, size_t *i, size_t max_digits, int *v_out)
{
	size_t k = 0;
	int v = 0;

	while (*i < n && k < max_digits && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	*v_out = v;
	return (int)k;
}

/*
 * RFC 5322 3.3 date-time, as much as SENT* needs: [day-of-week ","] day
 * month year, leniently (comments, no comma, "-" between, two- and
 * three-digit years as 4.3 reads them, month names in any case).
 */
bool
search_date_parse(const char *s, size_t n, int64_t *day_out)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	size_t i = 0, k;
	char mon[3];
	int day, year, m, digits;

	skip_cfws(s, n, &i);
	if (i < n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')) {
		while (i < n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
			i++;
		skip_cfws(s, n, &i);
		if (i < n && s[i] == ',')
			i++;
		skip_cfws(s, n, &i);
	}
	if (read_num(s, n, &i, 2, &day) == 0 || day < 1 || day > 31)
		return false;
	skip_cfws(s, n, &i);
	if (i < n && s[i] == '-')
		i++;
	skip_cfws(s, n, &i);
	if (n - i < 3)
		return false;
	for (k = 0; k < 3; k++)
		mon[k] = (char)(s[i + k] | 0x20);
	for (m = 0; m < 12; m++)
		if (memcmp(months + 3 * m, mon, 3) == 0)
			break;
	if (m == 12)
		return false;
	i += 3;
	while (i < n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
		i++; /* "January" */
	skip_cfws(s, n, &i);
	if (i < n && s[i] == '-')
		i++;
	skip_cfws(s, n, &i);
	digits = read_num(s, n, &i, 4, &year);
	if (digits < 2)
		return false;
	if (digits == 2) /* RFC 5322 4.3 */
		year += year < 50 ? 2000 : 1900;
	else if (digits == 3)
		year += 1900;
	*day_out = search_days_from_civil(year, m + 1, day);
	return true;
}

static int
env_of(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < MW_NELEM(env_fields); i++)
		if (strlen(env_fields[i].name) == n &&
		    strncasecmp(env_fields[i].name, name, n) == 0)
			return env_fields[i].env;
	return -1;
}

static const char *
field_of(enum imap_search_key key)
{
	switch (key) {
	case IMAP_SK_BCC:
		return "Bcc";
	case IMAP_SK_CC:
		return "Cc";
	case IMAP_SK_FROM:
		return "From";
	case IMAP_SK_SUBJECT:
		return "Subject";
	case IMAP_SK_TO:
		return "To";
	default:
		return NULL;
	}
}

static void
set_string(struct search_node *d, const char *field, size_t field_n,
    struct imap_slice str)
{
	char *s = NULL;
	size_t n = 0;

	if (field != NULL) {
		d->field = xmalloc(field_n + 1);
		memcpy(d->field, field, field_n);
		d->field[field_n] = '\0';
		d->field_n = field_n;
		d->env = env_of(field, field_n);
		d->need = d->env >= 0 ? SEARCH_NEED_ENV : SEARCH_NEED_HEADER;
	} else
		d->need = d->key == IMAP_SK_BODY ? SEARCH_NEED_BODY
		                                 : SEARCH_NEED_TEXT;
	search_fold_str(str.p, str.n, &s, &n);
	search_matcher_init(&d->m, s, n);
	if (n == 0 && field == NULL)
		d->need = SEARCH_NEED_NONE; /* BODY "": every message */
}

static int
prepare_set(struct search_node *d, const struct imap_seqset *set, uint32_t max)
{
	struct imap_range *r;
	size_t n = set->n > 0 ? set->n : 1;

	r = xreallocarray(NULL, n, sizeof(*r));
	d->u.set.saved = set->saved;
	if (imap_seqset_resolve(set, max, NULL, r, n, &d->u.set.set) == -1) {
		free(r);
		d->u.set.set.r = NULL;
		return -1;
	}
	d->u.set.set.r = r;
	return 0;
}

static struct search_node *
build(struct imap_search_prog *p, const struct imap_search_node *s,
    struct buf *err)
{
	struct search_node *d, *c, **tail;
	const struct imap_search_node *sc;

	MW_ASSERT(p->n < p->nodes_max);
	d = &p->nodes[p->n++];
	d->key = s->key;
	d->env = -1;
	d->u.kw = -1;
	switch (s->key) {
	case IMAP_SK_AND:
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
		tail = &d->child;
		for (sc = s->child; sc != NULL; sc = sc->next) {
			if ((c = build(p, sc, err)) == NULL)
				return NULL;
			*tail = c;
			tail = &c->next;
		}
		break;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UID:
		if (prepare_set(d, &s->u.set,
		        s->key == IMAP_SK_UID ? p->env.max_uid
		                              : p->env.count) == -1) {
			(void)!buf_printf(err, "Invalid sequence set");
			return NULL;
		}
		break;
	case IMAP_SK_KEYWORD:
	case IMAP_SK_UNKEYWORD:
		if (p->env.keyword_bit != NULL)
			d->u.kw = p->env.keyword_bit(p->env.arg, s->u.str);
		if (d->u.kw >= STORE_MAX_KEYWORDS)
			d->u.kw = -1;
		break;
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		d->u.t.lo = local_midnight(&s->u.date, 0);
		d->u.t.hi = local_midnight(&s->u.date, 1);
		break;
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		d->u.day.lo = search_days_from_civil(
		    s->u.date.year, s->u.date.mon, s->u.date.day);
		d->u.day.hi = d->u.day.lo + 1;
		d->env = MIME_ENV_DATE;
		d->need = SEARCH_NEED_ENV;
		break;
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
		d->u.size = s->u.size;
		break;
	case IMAP_SK_BCC:
	case IMAP_SK_CC:
	case IMAP_SK_FROM:
	case IMAP_SK_SUBJECT:
	case IMAP_SK_TO:
		set_string(
		    d, field_of(s->key), strlen(field_of(s->key)), s->u.str);
		break;
	case IMAP_SK_HEADER:
		set_string(d, s->u.header.field.p, s->u.header.field.n,
		    s->u.header.value);
		break;
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		set_string(d, NULL, 0, s->u.str);
		break;
	default:
		break;
	}
	if (d->need != SEARCH_NEED_NONE)
		p->needs_content = true;
	if (d->need != SEARCH_NEED_NONE && d->need != SEARCH_NEED_ENV)
		p->needs_file = true;
	return d;
}

static size_t
count_nodes(const struct imap_search_node *s)
{
	const struct imap_search_node *c;
	size_t n = 1;

	for (c = s->child; c != NULL; c = c->next)
		n += count_nodes(c);
	return n;
}

int
imap_search_prepare(const struct imap_search *s,
    const struct imap_search_env *env, struct imap_search_prog **out,
    struct buf *err)
{
	struct imap_search_prog *p;

	*out = NULL;
	if (s->root == NULL) {
		(void)!buf_printf(err, "Empty search program");
		errno = EINVAL;
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->env = *env;
	p->chunk = SEARCH_CHUNK_DEFAULT;
	p->nodes_max = count_nodes(s->root);
	p->nodes = xcalloc(p->nodes_max, sizeof(*p->nodes));
	if (build(p, s->root, err) == NULL) {
		imap_search_prog_free(&p);
		errno = EINVAL;
		return -1;
	}
	*out = p;
	return 0;
}

bool
imap_search_prog_needs_content(const struct imap_search_prog *p)
{
	return p->needs_content;
}

void
imap_search_prog_set_chunk(struct imap_search_prog *p, size_t chunk)
{
	p->chunk = chunk > 0 ? chunk : 1;
	free(p->rbuf);
	p->rbuf = NULL;
}

void
imap_search_prog_free(struct imap_search_prog **pp)
{
	struct imap_search_prog *p = *pp;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		if (p->nodes[i].key == IMAP_SK_SEQSET ||
		    p->nodes[i].key == IMAP_SK_UID)
			free(p->nodes[i].u.set.set.r);
		free(p->nodes[i].field);
		search_matcher_free(&p->nodes[i].m);
	}
	free(p->nodes);
	free(p->rbuf);
	free(p->fold);
	buf_free(&p->field);
	buf_free(&p->dec);
	buf_free(&p->conv);
	buf_free(&p->pend);
	free(p);
	*pp = NULL;
}

int
search_node_eval(const struct search_node *n)
{
	const struct search_node *c;
	int v, r;

	switch (n->key) {
	case IMAP_SK_AND:
		r = 1;
		for (c = n->child; c != NULL; c = c->next) {
			if ((v = search_node_eval(c)) == 0)
				return 0;
			if (v < 0)
				r = -1;
		}
		return r;
	case IMAP_SK_OR:
		r = 0;
		for (c = n->child; c != NULL; c = c->next) {
			if ((v = search_node_eval(c)) == 1)
				return 1;
			if (v < 0)
				r = -1;
		}
		return r;
	case IMAP_SK_NOT:
		v = search_node_eval(n->child);
		return v < 0 ? -1 : !v;
	default:
		return n->val;
	}
}

/* The value of a key from the store entry alone, or -1. */
static int
eval_cheap(const struct imap_search_prog *p, const struct search_node *d,
    uint32_t seq, const struct store_msg *m, bool recent)
{
	uint32_t f = m->flags;
	bool in;

	switch (d->key) {
	case IMAP_SK_SEQSET:
	case IMAP_SK_UID:
		in = imap_seqset_contains(
		    &d->u.set.set, d->key == IMAP_SK_UID ? m->uid : seq);
		/* RFC 5182 2.1: "$" holds UIDs, in SEARCH and UID SEARCH */
		if (!in && d->u.set.saved && p->env.saved_uids != NULL)
			in = imap_seqset_contains(p->env.saved_uids, m->uid);
		return in;
	case IMAP_SK_ALL:
		return 1;
	case IMAP_SK_ANSWERED:
		return (f & STORE_FLAG_ANSWERED) != 0;
	case IMAP_SK_DELETED:
		return (f & STORE_FLAG_DELETED) != 0;
	case IMAP_SK_DRAFT:
		return (f & STORE_FLAG_DRAFT) != 0;
	case IMAP_SK_FLAGGED:
		return (f & STORE_FLAG_FLAGGED) != 0;
	case IMAP_SK_SEEN:
		return (f & STORE_FLAG_SEEN) != 0;
	case IMAP_SK_UNANSWERED:
		return (f & STORE_FLAG_ANSWERED) == 0;
	case IMAP_SK_UNDELETED:
		return (f & STORE_FLAG_DELETED) == 0;
	case IMAP_SK_UNDRAFT:
		return (f & STORE_FLAG_DRAFT) == 0;
	case IMAP_SK_UNFLAGGED:
		return (f & STORE_FLAG_FLAGGED) == 0;
	case IMAP_SK_UNSEEN:
		return (f & STORE_FLAG_SEEN) == 0;
	case IMAP_SK_NEW: /* RFC 3501 6.4.4: RECENT UNSEEN */
		return recent && (f & STORE_FLAG_SEEN) == 0;
	case IMAP_SK_OLD:
		return !recent;
	case IMAP_SK_RECENT:
		return recent;
	case IMAP_SK_KEYWORD:
		return d->u.kw >= 0 && (m->keywords >> d->u.kw & 1) != 0;
	case IMAP_SK_UNKEYWORD:
		return d->u.kw < 0 || (m->keywords >> d->u.kw & 1) == 0;
	/* RFC 9051 6.4.4: "disregarding time and timezone" */
	case IMAP_SK_BEFORE:
		return m->internaldate < d->u.t.lo;
	case IMAP_SK_ON:
		return m->internaldate >= d->u.t.lo &&
		    m->internaldate < d->u.t.hi;
	case IMAP_SK_SINCE:
		return m->internaldate >= d->u.t.lo;
	case IMAP_SK_LARGER: /* RFC 9051 6.4.4: RFC822.SIZE */
		return m->vsize > d->u.size;
	case IMAP_SK_SMALLER:
		return m->vsize < d->u.size;
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		return d->need == SEARCH_NEED_NONE ? 1 : -1;
	default:
		return -1;
	}
}

int
imap_search_prog_match(struct imap_search_prog *p, uint32_t seq,
    const struct store_msg *m, bool recent, bool *match_out)
{
	const struct mime_tree *tree = NULL;
	struct search_node *d;
	size_t i;
	int r, fd = -1;

	*match_out = false;
	if (!p->env.rev1)
		recent = false;
	for (i = 0; i < p->n; i++) {
		d = &p->nodes[i];
		if (d->key != IMAP_SK_AND && d->key != IMAP_SK_OR &&
		    d->key != IMAP_SK_NOT)
			d->val = (signed char)eval_cheap(p, d, seq, m, recent);
	}
	r = search_node_eval(&p->nodes[0]);
	if (r < 0) {
		if (p->env.load == NULL) {
			errno = ENOTSUP;
			return -1;
		}
		/* the file only when some key reads it: a search of
		 * envelope fields is answered from the cached trees */
		if (p->env.load(
		        p->env.arg, seq, m, p->needs_file, &fd, &tree) == -1)
			return -1;
		search_eval_envelope(p, m, tree);
		r = search_node_eval(&p->nodes[0]);
	}
	if (r < 0) {
		/* a tree without an envelope: the root header answers */
		if (fd == -1 &&
		    p->env.load(p->env.arg, seq, m, true, &fd, &tree) == -1)
			return -1;
		if (search_eval_content(p, m, fd, tree) == -1)
			return -1;
		r = search_node_eval(&p->nodes[0]);
		MW_ASSERT(r >= 0);
	}
	*match_out = r == 1;
	return 0;
}

/* RFC 9051 9 sequence-set, compact: "2,5:7". */
static int
append_set(struct buf *out, const uint32_t *v, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j] == v[j - 1] + 1; j++)
			;
		if (buf_printf(out, "%s%u", i > 0 ? "," : "", v[i]) == -1)
			return -1;
		if (j - i > 1 && buf_printf(out, ":%u", v[j - 1]) == -1)
			return -1;
	}
	return 0;
}

int
imap_search_reply(struct buf *out, const uint32_t *v, size_t n, bool esearch,
    unsigned ret, struct imap_slice tag, bool uid)
{
	size_t i;

	if (!esearch) {
		/* RFC 9051 7.3.4 (rev1), RFC 3501 7.2.5 */
		if (buf_append_str(out, "* SEARCH") == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (buf_printf(out, " %u", v[i]) == -1)
				return -1;
		return buf_append_str(out, "\r\n");
	}
	if ((ret & ~(unsigned)IMAP_SEARCH_RET_SAVE) == 0) {
		if (ret != 0)
			return 0; /* RFC 5182 2.1: SAVE alone, no ESEARCH */
		ret = IMAP_SEARCH_RET_ALL; /* RFC 9051 6.4.4 */
	}
	/* RFC 4731 3, RFC 9051 7.3.4: search-correlator is a quoted tag */
	if (buf_append_str(out, "* ESEARCH (TAG \"") == -1)
		return -1;
	for (i = 0; i < tag.n; i++)
		if ((tag.p[i] == '"' || tag.p[i] == '\\'
		            ? buf_append_char(out, '\\')
		            : 0) == -1 ||
		    buf_append_char(out, tag.p[i]) == -1)
			return -1;
	if (buf_append_str(out, uid ? "\") UID" : "\")") == -1)
		return -1;
	if (n > 0 && (ret & IMAP_SEARCH_RET_MIN) != 0 &&
	    buf_printf(out, " MIN %u", v[0]) == -1)
		return -1;
	if (n > 0 && (ret & IMAP_SEARCH_RET_MAX) != 0 &&
	    buf_printf(out, " MAX %u", v[n - 1]) == -1)
		return -1;
	if ((ret & IMAP_SEARCH_RET_COUNT) != 0 &&
	    buf_printf(out, " COUNT %zu", n) == -1)
		return -1;
	if (n > 0 && (ret & IMAP_SEARCH_RET_ALL) != 0 &&
	    (buf_append_str(out, " ALL ") == -1 || append_set(out, v, n) == -1))
		return -1;
	return buf_append_str(out, "\r\n");
}
