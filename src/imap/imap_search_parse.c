/*
 * The SEARCH program parser (see imap_search.h): RFC 9051 9 search,
 * search-return-opts (RFC 4731 3, RFC 5182 2.1), search-program and
 * search-key, with the RFC 3501 keys NEW, OLD and RECENT. The tree is
 * bounded: every node counts against lim->args_max, and NOT, OR and
 * groups against lim->depth_max (which also bounds the recursion here).
 */
#include <string.h>

#include "imap/imap_parse_private.h"
#include "lib/parse.h"

enum sk_arg {
	SK_NONE,
	SK_ASTRING,
	SK_DATE,
	SK_NUMBER64,
	SK_KEYWORD,
	SK_SEQSET,
	SK_HEADER,
	SK_NOT,
	SK_OR,
};

// clang-format off
static const struct {
	const char *name;
	enum imap_search_key key;
	enum sk_arg arg;
} search_keys[] = {
	{ "ALL",        IMAP_SK_ALL,        SK_NONE },
	{ "ANSWERED",   IMAP_SK_ANSWERED,   SK_NONE },
	{ "BCC",        IMAP_SK_BCC,        SK_ASTRING },
	{ "BEFORE",     IMAP_SK_BEFORE,     SK_DATE },
	{ "BODY",       IMAP_SK_BODY,       SK_ASTRING },
	{ "CC",         IMAP_SK_CC,         SK_ASTRING },
	{ "DELETED",    IMAP_SK_DELETED,    SK_NONE },
	{ "DRAFT",      IMAP_SK_DRAFT,      SK_NONE },
	{ "FLAGGED",    IMAP_SK_FLAGGED,    SK_NONE },
	{ "FROM",       IMAP_SK_FROM,       SK_ASTRING },
	{ "HEADER",     IMAP_SK_HEADER,     SK_HEADER },
	{ "KEYWORD",    IMAP_SK_KEYWORD,    SK_KEYWORD },
	{ "LARGER",     IMAP_SK_LARGER,     SK_NUMBER64 },
	{ "NEW",        IMAP_SK_NEW,        SK_NONE },
	{ "NOT",        IMAP_SK_NOT,        SK_NOT },
	{ "OLD",        IMAP_SK_OLD,        SK_NONE },
	{ "ON",         IMAP_SK_ON,         SK_DATE },
	{ "OR",         IMAP_SK_OR,         SK_OR },
	{ "RECENT",     IMAP_SK_RECENT,     SK_NONE },
	{ "SEEN",       IMAP_SK_SEEN,       SK_NONE },
	{ "SENTBEFORE", IMAP_SK_SENTBEFORE, SK_DATE },
	{ "SENTON",     IMAP_SK_SENTON,     SK_DATE },
	{ "SENTSINCE",  IMAP_SK_SENTSINCE,  SK_DATE },
	{ "SINCE",      IMAP_SK_SINCE,      SK_DATE },
	{ "SMALLER",    IMAP_SK_SMALLER,    SK_NUMBER64 },
	{ "SUBJECT",    IMAP_SK_SUBJECT,    SK_ASTRING },
	{ "TEXT",       IMAP_SK_TEXT,       SK_ASTRING },
	{ "TO",         IMAP_SK_TO,         SK_ASTRING },
	{ "UID",        IMAP_SK_UID,        SK_SEQSET },
	{ "UNANSWERED", IMAP_SK_UNANSWERED, SK_NONE },
	{ "UNDELETED",  IMAP_SK_UNDELETED,  SK_NONE },
	{ "UNDRAFT",    IMAP_SK_UNDRAFT,    SK_NONE },
	{ "UNFLAGGED",  IMAP_SK_UNFLAGGED,  SK_NONE },
	{ "UNKEYWORD",  IMAP_SK_UNKEYWORD,  SK_KEYWORD },
	{ "UNSEEN",     IMAP_SK_UNSEEN,     SK_NONE },
};
// clang-format on

static struct imap_search_node *
node_new(struct imap_lex *lx, struct imap_search *s, enum imap_search_key key)
{
	struct imap_search_node *n;

	if (!lex_count(lx) || (n = lex_alloc(lx, 1, sizeof(*n))) == NULL)
		return NULL;
	n->key = key;
	s->nodes++;
	return n;
}

static struct imap_search_node *parse_key(
    struct imap_lex *lx, struct imap_search *s);

/* search-key *(SP search-key) into parent's children, until ')' or the
 * end of the command. */
static bool
parse_keys(
    struct imap_lex *lx, struct imap_search *s, struct imap_search_node *parent)
{
	struct imap_search_node **tail = &parent->child, *n;

	do {
		if ((n = parse_key(lx, s)) == NULL)
			return false;
		*tail = n;
		tail = &n->next;
	} while (lex_take(lx, ' '));
	return true;
}

static bool
parse_key_arg(struct imap_lex *lx, struct imap_search *s,
    struct imap_search_node *n, enum sk_arg arg)
{
	switch (arg) {
	case SK_NONE:
		return true;
	case SK_ASTRING:
		return lex_sp(lx) && lex_astring(lx, &n->u.str);
	case SK_DATE:
		return lex_sp(lx) && lex_date(lx, &n->u.date);
	case SK_NUMBER64:
		return lex_sp(lx) &&
		    lex_number(lx, IMAP_NUMBER64_MAX, false, &n->u.size);
	case SK_KEYWORD: /* flag-keyword = atom */
		return lex_sp(lx) && lex_atom(lx, &n->u.str);
	case SK_SEQSET:
		if (!lex_sp(lx) || !lex_seqset(lx, &n->u.set))
			return false;
		s->uses_saved |= n->u.set.saved;
		return true;
	case SK_HEADER: /* "HEADER" SP header-fld-name SP astring */
		return lex_sp(lx) && lex_astring(lx, &n->u.header.field) &&
		    lex_sp(lx) && lex_astring(lx, &n->u.header.value);
	case SK_NOT:
		if (!lex_sp(lx) || !lex_depth_push(lx) ||
		    (n->child = parse_key(lx, s)) == NULL)
			return false;
		lex_depth_pop(lx);
		return true;
	case SK_OR:
		if (!lex_sp(lx) || !lex_depth_push(lx) ||
		    (n->child = parse_key(lx, s)) == NULL || !lex_sp(lx) ||
		    (n->child->next = parse_key(lx, s)) == NULL)
			return false;
		lex_depth_pop(lx);
		return true;
	}
	return false;
}

static struct imap_search_node *
parse_key(struct imap_lex *lx, struct imap_search *s)
{
	struct imap_search_node *n;
	struct imap_slice a;
	size_t i;
	int c = lex_peek(lx);

	if (c == '(') { /* "(" search-key *(SP search-key) ")" */
		lx->pos++;
		if (!lex_depth_push(lx) ||
		    (n = node_new(lx, s, IMAP_SK_AND)) == NULL ||
		    !parse_keys(lx, s, n) || !lex_char(lx, ')'))
			return NULL;
		lex_depth_pop(lx);
		return n;
	}
	if ((c >= '0' && c <= '9') || c == '*' || c == '$') {
		if ((n = node_new(lx, s, IMAP_SK_SEQSET)) == NULL ||
		    !lex_seqset(lx, &n->u.set))
			return NULL;
		s->uses_saved |= n->u.set.saved;
		return n;
	}
	a = lex_peek_atom(lx);
	for (i = 0; i < MW_NELEM(search_keys); i++)
		if (strlen(search_keys[i].name) == a.n &&
		    ascii_eq_n(a.p, search_keys[i].name, a.n))
			break;
	if (a.n == 0 || i == MW_NELEM(search_keys)) {
		lex_fail(lx, IMAP_ERR_BAD,
		    a.n == 0 && c == -1 ? "Search key expected"
		                        : "Unknown search key");
		return NULL;
	}
	lx->pos += a.n;
	if ((n = node_new(lx, s, search_keys[i].key)) == NULL ||
	    !parse_key_arg(lx, s, n, search_keys[i].arg))
		return NULL;
	return n;
}

// clang-format off
static const struct {
	const char *name;
	unsigned bit;
} search_returns[] = {
	{ "MIN", IMAP_SEARCH_RET_MIN },     { "MAX", IMAP_SEARCH_RET_MAX },
	{ "ALL", IMAP_SEARCH_RET_ALL },     { "COUNT", IMAP_SEARCH_RET_COUNT },
	{ "SAVE", IMAP_SEARCH_RET_SAVE },
};
// clang-format on

/* search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP
 * search-return-opt)] ")" (RFC 4731 3; "RETURN ()" means ALL) */
static bool
parse_return(struct imap_lex *lx, struct imap_search *s)
{
	size_t i;

	s->esearch = true;
	if (!lex_sp(lx) || !lex_char(lx, '('))
		return false;
	if (lex_take(lx, ')')) {
		s->ret = IMAP_SEARCH_RET_ALL;
		return true;
	}
	do {
		if (!lex_count(lx))
			return false;
		for (i = 0; i < MW_NELEM(search_returns); i++)
			if (lex_keyword(lx, search_returns[i].name))
				break;
		if (i == MW_NELEM(search_returns))
			return lex_fail(
			    lx, IMAP_ERR_BAD, "Unknown SEARCH return option");
		s->ret |= search_returns[i].bit;
	} while (lex_take(lx, ' '));
	return lex_char(lx, ')');
}

/* SEARCH [search-return-opts] SP search-program; search-program =
 * ["CHARSET" SP charset SP] search-key *(SP search-key) */
bool
imap_parse_search(struct imap_lex *lx, struct imap_command *cmd)
{
	struct imap_search *s = &cmd->u.search;
	struct imap_slice cs;

	if (!lex_sp(lx))
		return false;
	if (lex_keyword(lx, "RETURN")) {
		if (!parse_return(lx, s) || !lex_sp(lx))
			return false;
	}
	if (lex_keyword(lx, "CHARSET")) {
		/* charset = atom / quoted */
		if (!lex_sp(lx))
			return false;
		if (lex_peek(lx) == '"') {
			if (!lex_quoted(lx, &cs))
				return false;
		} else if (!lex_atom(lx, &cs))
			return false;
		/* RFC 9051 6.4.4: US-ASCII and UTF-8 are what we do */
		if (cs.n == 5 && ascii_eq_n(cs.p, "UTF-8", 5))
			s->charset = IMAP_CHARSET_UTF8;
		else if (cs.n == 8 && ascii_eq_n(cs.p, "US-ASCII", 8))
			s->charset = IMAP_CHARSET_US_ASCII;
		else
			return lex_fail(
			    lx, IMAP_ERR_BADCHARSET, "Unsupported charset");
		if (!lex_sp(lx))
			return false;
	}
	if ((s->root = node_new(lx, s, IMAP_SK_AND)) == NULL)
		return false;
	return parse_keys(lx, s, s->root);
}
