/*
 * The FETCH attribute parser (see imap_fetch.h): RFC 9051 9 fetch-att,
 * section, section-binary and partial, with RFC 3501's RFC822, RFC822.HEADER
 * and RFC822.TEXT. Macros (ALL, FAST, FULL) are expanded as RFC 9051 6.4.5
 * defines them and may only stand alone. Bounded: every item and header
 * field name counts against lim->args_max, part numbers against
 * IMAP_SECTION_PARTS_MAX.
 */
#include <string.h>

#include "imap/imap_parse_private.h"
#include "lib/parse.h"

/* The next fetch-att name: letters, digits and dots. */
static struct imap_slice
att_name(const struct imap_lex *lx)
{
	size_t i = lx->pos;

	while (i < lx->len &&
	    ((lx->p[i] >= 'A' && lx->p[i] <= 'Z') ||
	        (lx->p[i] >= 'a' && lx->p[i] <= 'z') ||
	        (lx->p[i] >= '0' && lx->p[i] <= '9') || lx->p[i] == '.'))
		i++;
	return (struct imap_slice){ lx->p + lx->pos, i - lx->pos };
}

static bool
name_is(struct imap_slice a, const char *s)
{
	return strlen(s) == a.n && ascii_eq_n(a.p, s, a.n);
}

/* header-list = "(" header-fld-name *(SP header-fld-name) ")";
 * header-fld-name = astring */
static bool
parse_header_list(struct imap_lex *lx, struct imap_fetch_item *it)
{
	size_t max = (lx->len - lx->pos) / 2 + 1;

	if (max > lx->lim->args_max)
		max = lx->lim->args_max;
	if (!lex_sp(lx) || !lex_char(lx, '(') ||
	    (it->fields = lex_alloc(lx, max, sizeof(*it->fields))) == NULL)
		return false;
	do {
		if (it->nfields == max || !lex_count(lx))
			return lex_fail(
			    lx, IMAP_ERR_LIMIT, "Too many header fields");
		if (!lex_astring(lx, &it->fields[it->nfields++]))
			return false;
	} while (lex_take(lx, ' '));
	return lex_char(lx, ')');
}

/* section-part = nz-number *("." nz-number); stops before a "." that is
 * not followed by a digit. */
static bool
parse_section_part(struct imap_lex *lx, struct imap_fetch_item *it)
{
	uint64_t v;

	for (;;) {
		if (it->nparts == IMAP_SECTION_PARTS_MAX)
			return lex_fail(
			    lx, IMAP_ERR_LIMIT, "Section nested too deeply");
		if (!lex_number(lx, IMAP_NUMBER_MAX, true, &v))
			return false;
		if (v == 0)
			return lex_fail(lx, IMAP_ERR_BAD, "Invalid section");
		it->parts[it->nparts++] = (uint32_t)v;
		if (lex_peek(lx) != '.' || lx->pos + 1 >= lx->len ||
		    lx->p[lx->pos + 1] < '0' || lx->p[lx->pos + 1] > '9')
			return true;
		lx->pos++;
	}
}

/* section = "[" [section-spec] "]"; section-spec = section-msgtext /
 * (section-part ["." section-text]); section-text = section-msgtext /
 * "MIME"; section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP
 * header-list / "TEXT". section-binary = "[" [section-part] "]". */
static bool
parse_section(struct imap_lex *lx, struct imap_fetch_item *it, bool binary)
{
	struct imap_slice a;
	int c;

	if (!lex_char(lx, '['))
		return false;
	if (lex_take(lx, ']'))
		return true;
	c = lex_peek(lx);
	if (c >= '0' && c <= '9') {
		if (!parse_section_part(lx, it))
			return false;
		if (lex_take(lx, ']'))
			return true;
		if (binary || !lex_char(lx, '.'))
			return false;
	} else if (binary)
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid section");
	a = att_name(lx);
	lx->pos += a.n;
	if (name_is(a, "HEADER"))
		it->text = IMAP_SECTION_HEADER;
	else if (name_is(a, "TEXT"))
		it->text = IMAP_SECTION_TEXT;
	else if (name_is(a, "MIME") && it->nparts > 0)
		it->text = IMAP_SECTION_MIME; /* RFC 9051 6.4.5: parts only */
	else if (name_is(a, "HEADER.FIELDS")) {
		it->text = IMAP_SECTION_HEADER_FIELDS;
		if (!parse_header_list(lx, it))
			return false;
	} else if (name_is(a, "HEADER.FIELDS.NOT")) {
		it->text = IMAP_SECTION_HEADER_FIELDS_NOT;
		if (!parse_header_list(lx, it))
			return false;
	} else
		return lex_fail(lx, IMAP_ERR_BAD, "Invalid section");
	return lex_char(lx, ']');
}

/* partial = "<" number64 "." nz-number64 ">" (RFC 9051 9) */
static bool
parse_partial(struct imap_lex *lx, struct imap_fetch_item *it)
{
	if (!lex_take(lx, '<'))
		return true;
	it->partial = true;
	return lex_number(lx, IMAP_NUMBER64_MAX, false, &it->offset) &&
	    lex_char(lx, '.') &&
	    lex_number(lx, IMAP_NUMBER64_MAX, true, &it->count) &&
	    lex_char(lx, '>');
}

// clang-format off
static const struct {
	const char *name;
	enum imap_fetch_att att;
} simple_atts[] = {
	{ "ENVELOPE",      IMAP_FA_ENVELOPE },
	{ "FLAGS",         IMAP_FA_FLAGS },
	{ "INTERNALDATE",  IMAP_FA_INTERNALDATE },
	{ "RFC822.SIZE",   IMAP_FA_RFC822_SIZE },
	{ "RFC822",        IMAP_FA_RFC822 },
	{ "RFC822.HEADER", IMAP_FA_RFC822_HEADER },
	{ "RFC822.TEXT",   IMAP_FA_RFC822_TEXT },
	{ "BODYSTRUCTURE", IMAP_FA_BODYSTRUCTURE },
	{ "UID",           IMAP_FA_UID },
};
// clang-format on

static bool
parse_att(struct imap_lex *lx, struct imap_fetch_item *it)
{
	struct imap_slice a = att_name(lx);
	size_t i;

	if (!lex_count(lx))
		return false;
	lx->pos += a.n;
	for (i = 0; i < MW_NELEM(simple_atts); i++)
		if (name_is(a, simple_atts[i].name)) {
			it->att = simple_atts[i].att;
			return true;
		}
	if (name_is(a, "BODY") || name_is(a, "BODY.PEEK")) {
		it->peek = a.n == 9;
		if (lex_peek(lx) != '[') {
			if (it->peek) /* BODY.PEEK needs a section */
				return lex_fail(
				    lx, IMAP_ERR_BAD, "Section expected");
			it->att = IMAP_FA_BODY;
			return true;
		}
		it->att = IMAP_FA_BODY_SECTION;
		return parse_section(lx, it, false) && parse_partial(lx, it);
	}
	if (name_is(a, "BINARY") || name_is(a, "BINARY.PEEK")) {
		it->att = IMAP_FA_BINARY;
		it->peek = a.n == 11;
		return parse_section(lx, it, true) && parse_partial(lx, it);
	}
	if (name_is(a, "BINARY.SIZE")) {
		it->att = IMAP_FA_BINARY_SIZE;
		return parse_section(lx, it, true);
	}
	return lex_fail(lx, IMAP_ERR_BAD, "Unknown FETCH attribute");
}

/* RFC 9051 6.4.5: ALL = (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE), FAST =
 * (FLAGS INTERNALDATE RFC822.SIZE), FULL = (FLAGS INTERNALDATE RFC822.SIZE
 * ENVELOPE BODY) */
static const enum imap_fetch_att macro_atts[] = { IMAP_FA_FLAGS,
	IMAP_FA_INTERNALDATE, IMAP_FA_RFC822_SIZE, IMAP_FA_ENVELOPE,
	IMAP_FA_BODY };

bool
imap_fetch_atts_parse(struct imap_lex *lx, struct imap_fetch *f)
{
	struct imap_slice a = att_name(lx);
	size_t max, i, n = 0;

	if (name_is(a, "ALL"))
		n = 4;
	else if (name_is(a, "FAST"))
		n = 3;
	else if (name_is(a, "FULL"))
		n = 5;
	if (n > 0) {
		lx->pos += a.n;
		if ((f->items = lex_alloc(lx, n, sizeof(*f->items))) == NULL)
			return false;
		for (i = 0; i < n; i++)
			f->items[i].att = macro_atts[i];
		f->n = n;
		return lex_count(lx);
	}
	if (!lex_take(lx, '(')) {
		if ((f->items = lex_alloc(lx, 1, sizeof(*f->items))) == NULL)
			return false;
		f->n = 1;
		return parse_att(lx, &f->items[0]);
	}
	max = (lx->len - lx->pos) / 2 + 1;
	if (max > lx->lim->args_max)
		max = lx->lim->args_max;
	if ((f->items = lex_alloc(lx, max, sizeof(*f->items))) == NULL)
		return false;
	do {
		if (f->n == max)
			return lex_fail(
			    lx, IMAP_ERR_LIMIT, "Too many FETCH items");
		if (!parse_att(lx, &f->items[f->n++]))
			return false;
	} while (lex_take(lx, ' '));
	return lex_char(lx, ')');
}
