/*
 * Lexer primitives for the IMAP argument parsers (see imap_parse_private.h)
 * and the bump arena parsed commands live in. Every rule follows RFC 9051 9
 * (which keeps RFC 3501 9's where both have it); strings are bytes, never
 * cut at a NUL.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_mutf7.h"
#include "imap/imap_parse_private.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

/* Arena: a chain of blocks, the total bounded by max. */
struct arena_block {
	struct arena_block *next;
	size_t cap, used;
	alignas(max_align_t) unsigned char data[];
};

struct imap_arena {
	struct arena_block *head;
	size_t total, max;
};

#define ARENA_BLOCK_MIN 2048

struct imap_arena *
imap_arena_new(size_t max)
{
	struct imap_arena *a = xcalloc(1, sizeof(*a));

	a->max = max;
	return a;
}

void
imap_arena_reset(struct imap_arena *a)
{
	struct arena_block *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->total = 0;
}

void
imap_arena_free(struct imap_arena **a)
{
	if (*a == NULL)
		return;
	imap_arena_reset(*a);
	free(*a);
	*a = NULL;
}

void *
imap_arena_alloc(struct imap_arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct arena_block *b = a->head;
	size_t cap;
	void *p;

	if (size > a->max)
		return NULL;
	size = (size + align - 1) & ~(align - 1);
	if (b == NULL || b->cap - b->used < size) {
		cap = b != NULL ? b->cap * 2 : ARENA_BLOCK_MIN;
		if (cap < size)
			cap = size;
		if (cap > a->max - a->total)
			cap = a->max - a->total;
		if (cap < size)
			return NULL;
		b = xmalloc(sizeof(*b) + cap);
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		a->total += cap;
	}
	p = b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

void *
lex_alloc(struct imap_lex *lx, size_t count, size_t size)
{
	void *p;

	if (count > lx->lim->arena_max / (size ? size : 1)) {
		lex_fail(lx, IMAP_ERR_LIMIT, "Command too complex");
		return NULL;
	}
	p = imap_arena_alloc(lx->arena, count * size > 0 ? count * size : 1);
	if (p == NULL)
		lex_fail(lx, IMAP_ERR_LIMIT, "Command too complex");
	return p;
}

bool
lex_fail(struct imap_lex *lx, enum imap_err_code code, const char *text)
{
	if (lx->err.code == IMAP_ERR_NONE) {
		lx->err.code = code;
		lx->err.text = text;
	}
	return false;
}

bool
lex_count(struct imap_lex *lx)
{
	if (++lx->args > lx->lim->args_max)
		return lex_fail(lx, IMAP_ERR_LIMIT, "Too many arguments");
	return true;
}

bool
lex_depth_push(struct imap_lex *lx)
{
	if (++lx->depth > lx->lim->depth_max)
		return lex_fail(lx, IMAP_ERR_LIMIT, "Nested too deeply");
	return true;
}

void
lex_depth_pop(struct imap_lex *lx)
{
	lx->depth--;
}

/* RFC 9051 9: ATOM-CHAR = any CHAR except atom-specials:
 * %x21 / %x23-24 / %x26-27 / %x2B-5B / %x5E-7A / %x7C-7E */
bool
imap_is_atom_char(unsigned char c)
{
	return c == 0x21 || c == 0x23 || c == 0x24 || c == 0x26 || c == 0x27 ||
	    (c >= 0x2b && c <= 0x5b) || (c >= 0x5e && c <= 0x7a) ||
	    (c >= 0x7c && c <= 0x7e);
}

/* ASTRING-CHAR = ATOM-CHAR / resp-specials */
bool
imap_is_astring_char(unsigned char c)
{
	return imap_is_atom_char(c) || c == ']';
}

/* list-char = ATOM-CHAR / list-wildcards / resp-specials */
bool
imap_is_list_char(unsigned char c)
{
	return imap_is_astring_char(c) || c == '%' || c == '*';
}

int
lex_peek(const struct imap_lex *lx)
{
	if (lx->pos >= lx->len || lx->p[lx->pos] == '\r')
		return -1;
	return (unsigned char)lx->p[lx->pos];
}

bool
lex_take(struct imap_lex *lx, char c)
{
	if (lex_peek(lx) != (unsigned char)c)
		return false;
	lx->pos++;
	return true;
}

bool
lex_char(struct imap_lex *lx, char c)
{
	if (lex_take(lx, c))
		return true;
	switch (c) {
	case ' ':
		return lex_fail(lx, IMAP_ERR_BAD, "Missing space");
	case '(':
		return lex_fail(lx, IMAP_ERR_BAD, "Missing '('");
	case ')':
		return lex_fail(lx, IMAP_ERR_BAD, "Missing ')'");
	default:
		return lex_fail(lx, IMAP_ERR_BAD, "Syntax error");
	}
}

bool
lex_sp(struct imap_lex *lx)
{
	if (!lex_char(lx, ' '))
		return false;
	if (lex_peek(lx) == ' ')
		return lex_fail(lx, IMAP_ERR_BAD, "Extra space");
	return true;
}

bool
lex_at_end(const struct imap_lex *lx)
{
	return lx->pos + 2 == lx->len && lx->p[lx->pos] == '\r' &&
	    lx->p[lx->pos + 1] == '\n';
}

bool
lex_end(struct imap_lex *lx)
{
	if (lex_at_end(lx))
		return true;
	if (lex_peek(lx) == ' ')
		return lex_fail(lx, IMAP_ERR_BAD, "Trailing space");
	return lex_fail(lx, IMAP_ERR_BAD, "Unexpected arguments");
}

struct imap_slice
lex_peek_atom(const struct imap_lex *lx)
{
	size_t i = lx->pos;

	while (i < lx->len && imap_is_atom_char((unsigned char)lx->p[i]))
		i++;
	return (struct imap_slice){ lx->p + lx->pos, i - lx->pos };
}

bool
lex_atom(struct imap_lex *lx, struct imap_slice *out)
{
	*out = lex_peek_atom(lx);
	if (out->n == 0)
		return lex_fail(lx, IMAP_ERR_BAD, "Atom expected");
	lx->pos += out->n;
	return true;
}

bool
lex_keyword(struct imap_lex *lx, const char *kw)
{
	struct imap_slice a = lex_peek_atom(lx);
	size_t n = strlen(kw);

	if (a.n != n || !ascii_eq_n(a.p, kw, n))
		return false;
	lx->pos += n;
	return true;
}

bool
lex_number(struct imap_lex *lx, uint64_t max, bool nz, uint64_t *v)
{
	size_t start = lx->pos;
	uint64_t x = 0;
	int c;

	while ((c = lex_peek(lx)) >= '0' && c <= '9') {
		if (lx->pos == start && nz && c == '0')
			return lex_fail(lx, IMAP_ERR_BAD, "Invalid number");
		if (x > (max - (uint64_t)(c - '0')) / 10)
			return lex_fail(lx, IMAP_ERR_BAD, "Number too big");
		x = x * 10 + (uint64_t)(c - '0');
		lx->pos++;
	}
	if (lx->pos == start)
		return lex_fail(lx, IMAP_ERR_BAD, "Number expected");
	*v = x;
	return true;
}

bool
lex_quoted(struct imap_lex *lx, struct imap_slice *out)
{
	char *w;
	size_t len;
	int c;

	if (!lex_char(lx, '"'))
		return false;
	w = lx->p + lx->pos; /* unescaped bytes go here, in place */
	out->p = w;
	for (;;) {
		c = lex_peek(lx);
		if (c == -1 || c == 0)
			return lex_fail(
			    lx, IMAP_ERR_BAD, "Unterminated string");
		lx->pos++;
		if (c == '"')
			break;
		if (c == '\\') {
			/* QUOTED-CHAR =/ "\" quoted-specials */
			c = lex_peek(lx);
			if (c != '"' && c != '\\')
				return lex_fail(lx, IMAP_ERR_BAD,
				    "Invalid escape in string");
			lx->pos++;
			*w++ = (char)c;
			continue;
		}
		if (c < 0x80) {
			*w++ = (char)c; /* TEXT-CHAR: not NUL, CR or LF */
			continue;
		}
		/* RFC 9051 9 QUOTED-CHAR =/ UTF8-2 / UTF8-3 / UTF8-4, with
		 * IMAP4rev2 or UTF8=ACCEPT (RFC 6855 3); 7-bit otherwise */
		len = imap_utf8_char_len(
		    (const unsigned char *)lx->p + lx->pos - 1,
		    lx->len - lx->pos + 1, NULL);
		if (!lx->opts->utf8 || len == 0)
			return lex_fail(
			    lx, IMAP_ERR_BAD, "8-bit data in string");
		memmove(w, lx->p + lx->pos - 1, len);
		w += len;
		lx->pos += len - 1;
	}
	out->n = (size_t)(w - out->p);
	return true;
}

bool
lex_literal(struct imap_lex *lx, bool binary_ok, bool stream_ok,
    struct imap_slice *out, const struct imap_frame_literal **lit_out)
{
	const struct imap_frame_literal *lit;
	bool binary = false;
	uint64_t size;

	if (lex_take(lx, '~')) {
		/* RFC 3516 4.3: literal8 only where the grammar has it */
		if (!binary_ok)
			return lex_fail(
			    lx, IMAP_ERR_BAD, "literal8 not allowed here");
		binary = true;
	}
	if (!lex_char(lx, '{') ||
	    !lex_number(lx, IMAP_NUMBER64_MAX, false, &size))
		return false;
	(void)lex_take(lx, '+'); /* RFC 7888 3: "{" number64 ["+"] "}" */
	if (!lex_char(lx, '}'))
		return false;
	if (lx->pos + 2 > lx->len || lx->p[lx->pos] != '\r' ||
	    lx->p[lx->pos + 1] != '\n')
		return lex_fail(lx, IMAP_ERR_BAD, "Literal must end the line");
	lx->pos += 2;
	if (lx->next_lit >= lx->nlit)
		return lex_fail(lx, IMAP_ERR_BAD, "Literal missing");
	lit = &lx->lit[lx->next_lit];
	if (lit->off != lx->pos || lit->size != size || lit->binary != binary)
		return lex_fail(lx, IMAP_ERR_BAD, "Literal out of place");
	lx->next_lit++;
	if (!lex_count(lx))
		return false;
	if (lit->streamed) {
		if (!stream_ok)
			return lex_fail(lx, IMAP_ERR_TOOBIG, "Literal too big");
		out->p = lx->p + lx->pos;
		out->n = 0;
	} else {
		if (size > lx->len - lx->pos)
			return lex_fail(lx, IMAP_ERR_BAD, "Literal missing");
		out->p = lx->p + lx->pos;
		out->n = (size_t)size;
		lx->pos += (size_t)size;
	}
	if (lit_out != NULL)
		*lit_out = lit;
	return true;
}

bool
lex_string(struct imap_lex *lx, struct imap_slice *out)
{
	int c = lex_peek(lx);

	if (c == '"')
		return lex_quoted(lx, out);
	if (c == '{')
		return lex_literal(lx, false, false, out, NULL);
	return lex_fail(lx, IMAP_ERR_BAD, "String expected");
}

bool
lex_astring(struct imap_lex *lx, struct imap_slice *out)
{
	size_t start = lx->pos;
	int c = lex_peek(lx);

	if (c == '"' || c == '{')
		return lex_string(lx, out);
	while (
	    (c = lex_peek(lx)) != -1 && imap_is_astring_char((unsigned char)c))
		lx->pos++;
	if (lx->pos == start)
		return lex_fail(lx, IMAP_ERR_BAD, "String expected");
	*out = (struct imap_slice){ lx->p + start, lx->pos - start };
	return true;
}

bool
lex_nstring(struct imap_lex *lx, struct imap_slice *out)
{
	if (lex_keyword(lx, "NIL")) {
		*out = (struct imap_slice){ NULL, 0 };
		return true;
	}
	return lex_string(lx, out);
}

bool
lex_list_mailbox(struct imap_lex *lx, struct imap_slice *out)
{
	size_t start = lx->pos;
	int c = lex_peek(lx);

	if (c == '"' || c == '{')
		return lex_string(lx, out);
	while ((c = lex_peek(lx)) != -1 && imap_is_list_char((unsigned char)c))
		lx->pos++;
	if (lx->pos == start)
		return lex_fail(lx, IMAP_ERR_BAD, "Mailbox pattern expected");
	*out = (struct imap_slice){ lx->p + start, lx->pos - start };
	return true;
}

bool
lex_mailbox(struct imap_lex *lx, struct imap_mailbox *out)
{
	if (!lex_astring(lx, &out->name))
		return false;
	/* RFC 9051 5.1: INBOX is case-insensitive */
	out->inbox = out->name.n == 5 && ascii_eq_n(out->name.p, "INBOX", 5);
	return true;
}

bool
lex_seqset(struct imap_lex *lx, struct imap_seqset *out)
{
	size_t start = lx->pos, max;
	struct imap_range *r;
	int c;

	while ((c = lex_peek(lx)) != -1 &&
	    ((c >= '0' && c <= '9') || c == ':' || c == ',' || c == '*' ||
	        c == '$'))
		lx->pos++;
	if (lx->pos == start)
		return lex_fail(lx, IMAP_ERR_BAD, "Sequence set expected");
	/* at most one range per two bytes: bounded by the line */
	max = (lx->pos - start + 1) / 2;
	if (!lex_count(lx) || (r = lex_alloc(lx, max, sizeof(*r))) == NULL)
		return false;
	if (imap_seqset_parse(lx->p + start, lx->pos - start, r, max, out) ==
	    -1) {
		if (errno == E2BIG)
			return lex_fail(
			    lx, IMAP_ERR_LIMIT, "Sequence set too long");
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid sequence set");
	}
	return true;
}

// clang-format off
static const struct {
	const char *name;
	unsigned bit;
} imap_system_flags[] = {
	{ "\\Answered", IMAP_FLAG_ANSWERED },
	{ "\\Flagged",  IMAP_FLAG_FLAGGED },
	{ "\\Deleted",  IMAP_FLAG_DELETED },
	{ "\\Seen",     IMAP_FLAG_SEEN },
	{ "\\Draft",    IMAP_FLAG_DRAFT },
};
// clang-format on

/* RFC 9051 9: flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" /
 * "\Draft" / flag-keyword / flag-extension. \Recent (RFC 3501 flag-fetch
 * only) and \* (flag-perm, responses only) are not flags a client may
 * set; other flag-extensions name no flag we know (RFC 3501 2.3.2). */
static bool
lex_flag(struct imap_lex *lx, struct imap_flags *out, size_t kw_max)
{
	struct imap_slice a;
	size_t i;

	if (!lex_count(lx))
		return false;
	if (lex_take(lx, '\\')) {
		if (!lex_atom(lx, &a))
			return lex_fail(lx, IMAP_ERR_BAD, "Invalid flag");
		for (i = 0; i < MW_NELEM(imap_system_flags); i++)
			if (strlen(imap_system_flags[i].name + 1) == a.n &&
			    ascii_eq_n(
			        a.p, imap_system_flags[i].name + 1, a.n)) {
				out->sys |= imap_system_flags[i].bit;
				return true;
			}
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid system flag");
	}
	if (!lex_atom(lx, &a))
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid flag");
	MW_ASSERT(out->nkw < kw_max);
	out->kw[out->nkw++] = a;
	return true;
}

/* The most flags that can follow: one per two bytes of what is left. */
static bool
flags_alloc(struct imap_lex *lx, struct imap_flags *out, size_t *max)
{
	*max = (lx->len - lx->pos) / 2 + 1;
	if (*max > lx->lim->args_max)
		*max = lx->lim->args_max;
	out->sys = 0;
	out->nkw = 0;
	out->kw = lex_alloc(lx, *max, sizeof(*out->kw));
	return out->kw != NULL;
}

bool
lex_flag_list(struct imap_lex *lx, struct imap_flags *out)
{
	size_t max;

	if (!lex_char(lx, '(') || !flags_alloc(lx, out, &max))
		return false;
	if (lex_take(lx, ')'))
		return true;
	do {
		if (out->nkw == max)
			return lex_fail(lx, IMAP_ERR_LIMIT, "Too many flags");
		if (!lex_flag(lx, out, max))
			return false;
	} while (lex_take(lx, ' '));
	return lex_char(lx, ')');
}

bool
lex_flags_bare(struct imap_lex *lx, struct imap_flags *out)
{
	size_t max;

	if (!flags_alloc(lx, out, &max))
		return false;
	do {
		if (out->nkw == max)
			return lex_fail(lx, IMAP_ERR_LIMIT, "Too many flags");
		if (!lex_flag(lx, out, max))
			return false;
	} while (lex_take(lx, ' '));
	return true;
}

static const char imap_months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool
lex_digits(struct imap_lex *lx, size_t n, int *v)
{
	int x = 0, c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = lex_peek(lx);
		if (c < '0' || c > '9')
			return lex_fail(lx, IMAP_ERR_BAD, "Invalid date");
		x = x * 10 + (c - '0');
		lx->pos++;
	}
	*v = x;
	return true;
}

static int
days_in_month(int year, int mon)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 2 && leap ? 29 : days[mon - 1];
}

/* "-" date-month "-" date-year, then checks day against the month */
static bool
lex_month_year(struct imap_lex *lx, struct imap_date *out)
{
	int i;

	if (!lex_char(lx, '-') || lx->len - lx->pos < 3)
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid date");
	for (i = 0; i < 12; i++)
		if (ascii_eq_n(lx->p + lx->pos, imap_months[i], 3))
			break;
	if (i == 12)
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid month");
	lx->pos += 3;
	out->mon = i + 1;
	if (!lex_char(lx, '-') || !lex_digits(lx, 4, &out->year))
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid date");
	if (out->day < 1 || out->day > days_in_month(out->year, out->mon))
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid day of month");
	return true;
}

bool
lex_date(struct imap_lex *lx, struct imap_date *out)
{
	bool quoted = lex_take(lx, '"');
	int c;

	/* date-day = 1*2DIGIT */
	if (!lex_digits(lx, 1, &out->day))
		return false;
	c = lex_peek(lx);
	if (c >= '0' && c <= '9') {
		out->day = out->day * 10 + (c - '0');
		lx->pos++;
	}
	if (!lex_month_year(lx, out))
		return false;
	if (quoted && !lex_char(lx, '"'))
		return false;
	return true;
}

bool
lex_date_time(struct imap_lex *lx, struct imap_date_time *out)
{
	int zh, zm;
	bool neg;

	if (!lex_char(lx, '"'))
		return false;
	/* date-day-fixed = (SP DIGIT) / 2DIGIT */
	if (lex_take(lx, ' ')) {
		if (!lex_digits(lx, 1, &out->date.day))
			return false;
	} else if (!lex_digits(lx, 2, &out->date.day))
		return false;
	if (!lex_month_year(lx, &out->date) || !lex_char(lx, ' '))
		return false;
	/* time = 2DIGIT ":" 2DIGIT ":" 2DIGIT */
	if (!lex_digits(lx, 2, &out->hour) || !lex_char(lx, ':') ||
	    !lex_digits(lx, 2, &out->min) || !lex_char(lx, ':') ||
	    !lex_digits(lx, 2, &out->sec) || !lex_char(lx, ' '))
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid time");
	/* 60 for a leap second (RFC 5322 3.3) */
	if (out->hour > 23 || out->min > 59 || out->sec > 60)
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid time");
	/* zone = ("+" / "-") 4DIGIT */
	if (lex_take(lx, '+'))
		neg = false;
	else if (lex_take(lx, '-'))
		neg = true;
	else
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid time zone");
	if (!lex_digits(lx, 2, &zh) || !lex_digits(lx, 2, &zm) || zm > 59)
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid time zone");
	out->zone = (neg ? -1 : 1) * (zh * 60 + zm);
	return lex_char(lx, '"');
}
