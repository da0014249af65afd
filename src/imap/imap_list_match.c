/*
 * LIST pattern matching (see imap_list_match.h). The pattern runs as a
 * nondeterministic automaton over its positions: the set of positions
 * reachable after each byte of the name is kept as a bitset, so that a
 * match costs at most (pattern length / 64 + active positions) steps per
 * byte of the name, with no backtracking however many wildcards there
 * are (RFC 9051 6.3.9 "*" and "%").
 */
#include "imap/imap_list_match.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

struct imap_list_pattern {
	char *p; /* the pattern, runs of wildcards folded */
	size_t n;
	char sep;
	uint64_t *cur, *next; /* sets of positions 0..n, (n + 1 + 63) / 64 */
	size_t words;
};

struct imap_list_pattern *
imap_list_pattern_new(const char *pattern, size_t plen, char sep)
{
	struct imap_list_pattern *pat = xcalloc(1, sizeof(*pat));
	size_t i, j;

	pat->p = xmalloc(plen + 1);
	pat->sep = sep;
	for (i = 0; i < plen; i = j) {
		char c = pattern[i];

		j = i + 1;
		if (c == '*' || c == '%') {
			/* a run of wildcards: "*" when one is a "*" */
			for (; j < plen &&
			     (pattern[j] == '*' || pattern[j] == '%');
			     j++)
				if (pattern[j] == '*')
					c = '*';
		}
		pat->p[pat->n++] = c;
	}
	pat->p[pat->n] = '\0';
	pat->words = (pat->n + 1 + 63) / 64;
	pat->cur = xcalloc(pat->words, sizeof(uint64_t));
	pat->next = xcalloc(pat->words, sizeof(uint64_t));
	return pat;
}

void
imap_list_pattern_free(struct imap_list_pattern **pat)
{
	if (*pat == NULL)
		return;
	free((*pat)->p);
	free((*pat)->cur);
	free((*pat)->next);
	free(*pat);
	*pat = NULL;
}

static inline void
set_add(uint64_t *set, size_t i)
{
	set[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline bool
set_has(const uint64_t *set, size_t i)
{
	return (set[i / 64] >> (i % 64)) & 1;
}

/* Adds position i and those reachable from it without a byte: a
 * wildcard also matches nothing. Folding left no two wildcards in a
 * row, so this is at most one step further. */
static inline void
set_add_closure(const struct imap_list_pattern *pat, uint64_t *set, size_t i)
{
	set_add(set, i);
	if (i < pat->n && (pat->p[i] == '*' || pat->p[i] == '%'))
		set_add(set, i + 1);
}

static inline char
ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* RFC 9051 5.1: the bytes of "INBOX" at the start of a name that is
 * INBOX or below it match in any case; 5, else 0. */
static size_t
inbox_prefix(const char *name, size_t nlen, char sep)
{
	static const char inbox[] = "INBOX";
	size_t i;

	if (nlen < 5 || (nlen > 5 && name[5] != sep))
		return 0;
	for (i = 0; i < 5; i++)
		if (ascii_upper(name[i]) != inbox[i])
			return 0;
	return 5;
}

bool
imap_list_pattern_match(struct imap_list_pattern *pat, const char *name,
    size_t nlen, bool *children_out)
{
	size_t ci = inbox_prefix(name, nlen, pat->sep), k, w, i;
	uint64_t *cur = pat->cur, *next = pat->next, *t, bits;
	char pc;
	bool any = true, children = false;

	memset(cur, 0, pat->words * sizeof(uint64_t));
	set_add_closure(pat, cur, 0);
	for (k = 0; k < nlen && any; k++) {
		char c = name[k];

		memset(next, 0, pat->words * sizeof(uint64_t));
		any = false;
		for (w = 0; w < pat->words; w++) {
			for (bits = cur[w]; bits != 0; bits &= bits - 1) {
				i = w * 64 + (size_t)__builtin_ctzll(bits);
				if (i >= pat->n)
					continue; /* the end consumes nothing */
				pc = pat->p[i];
				if (pc == '*' || (pc == '%' && c != pat->sep)) {
					/* the wildcard takes c and stays */
					set_add_closure(pat, next, i);
				} else if (pc == '%')
					continue;
				else if (pc == c ||
				    (k < ci &&
				        ascii_upper(pc) == ascii_upper(c)))
					set_add_closure(pat, next, i + 1);
				else
					continue;
				any = true;
			}
		}
		t = cur;
		cur = next;
		next = t;
	}
	if (!any) {
		if (children_out != NULL)
			*children_out = false;
		return false;
	}
	if (children_out != NULL) {
		/* a child is name, sep, one byte or more: a live "*" takes
		 * them all; a live separator must have more pattern after it
		 * ("%" cannot take sep, and closure already stepped over it) */
		for (i = 0; i < pat->n && !children; i++)
			if (set_has(cur, i) &&
			    (pat->p[i] == '*' ||
			        (pat->p[i] == pat->sep && i + 1 < pat->n)))
				children = true;
		*children_out = children;
	}
	return set_has(cur, pat->n);
}

bool
imap_list_match(const char *pattern, size_t plen, const char *name, size_t nlen,
    char sep, bool *children_out)
{
	struct imap_list_pattern *pat =
	    imap_list_pattern_new(pattern, plen, sep);
	bool ret = imap_list_pattern_match(pat, name, nlen, children_out);

	imap_list_pattern_free(&pat);
	return ret;
}
