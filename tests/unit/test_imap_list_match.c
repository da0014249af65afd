/*
 * Unit tests for LIST pattern matching (imap_list_match.c, RFC 9051
 * 6.3.9): labelled cases for "*" and "%" with both separators, INBOX in
 * any case (RFC 9051 5.1, as Dovecot matches it), whether children could
 * match, patterns that would make a backtracking matcher exponential,
 * and every pattern and name over a small alphabet against a reference
 * (a dynamic-programming matcher written separately).
 */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "imap/imap_list_match.h"
#include "lib/xalloc.h"

struct mcase {
	const char *label;
	const char *pattern;
	const char *name;
	char sep;
	bool match;
	int children; /* -1: not checked */
};

// clang-format off
static const struct mcase cases[] = {
	{ "empty matches empty",          "",        "",            '.', true,  false },
	{ "empty is not a name",          "",        "a",           '.', false, false },
	{ "literal",                      "Sent",    "Sent",        '.', true,  false },
	{ "literal is case-sensitive",    "sent",    "Sent",        '.', false, false },
	{ "literal prefix only",          "Sen",     "Sent",        '.', false, false },
	{ "star matches all",             "*",       "a.b.c",       '.', true,  true },
	{ "star matches empty",           "*",       "",            '.', true,  true },
	{ "percent one level",            "%",       "Sent",        '.', true,  false },
	{ "percent not across sep",       "%",       "a.b",         '.', false, false },
	{ "percent with slash sep",       "%",       "a.b",         '/', true,  false },
	{ "percent not across slash",     "%",       "a/b",         '/', false, false },
	{ "two levels",                   "%.%",     "a.b",         '.', true,  false },
	{ "two levels, child of level",   "%",       "a",           '.', true,  false },
	{ "level then star",              "a.*",     "a.b.c",       '.', true,  true },
	{ "level then star: not a",       "a.*",     "a",           '.', false, true },
	{ "a.% children of a",            "a.%",     "a",           '.', false, true },
	{ "a.% no grandchildren",         "a.%",     "a.b",         '.', true,  false },
	{ "a. has no child match",        "a.",      "a",           '.', false, false },
	{ "a.b has a child match at b",   "a.b",     "a",           '.', false, true },
	{ "prefix star",                  "S*",      "Sent",        '.', true,  true },
	{ "infix star",                   "a*c",     "a.b.c",       '.', true,  true },
	{ "infix percent",                "a%c",     "abc",         '.', true,  false },
	{ "infix percent no sep",         "a%c",     "a.c",         '.', false, false },
	{ "suffix",                       "*c",      "a.b.c",       '.', true,  true },
	{ "suffix no",                    "*c",      "a.b.d",       '.', false, true },
	{ "mixed runs fold to star",      "%*%",     "a.b",         '.', true,  true },
	{ "percent runs stay percent",    "%%%",     "a.b",         '.', false, false },
	{ "INBOX any case",               "inbox",   "INBOX",       '.', true,  false },
	{ "INBOX mixed case",             "InBoX",   "INBOX",       '.', true,  false },
	{ "INBOX child any case",         "inbox.%", "INBOX.sub",   '.', true,  false },
	{ "INBOX: i*",                    "i*",      "INBOX",       '.', true,  true },
	{ "INBOX: i* child",              "i*",      "INBOX.sub",   '.', true,  true },
	{ "INBOX: %box",                  "%box",    "INBOX",       '.', true,  false },
	{ "INBOX: only its 5 bytes",      "inbox.SUB", "INBOX.sub", '.', false, false },
	{ "INBOXfoo is not INBOX",        "INBOXFOO", "inboxfoo",   '.', false, false },
	{ "inboxfoo literal",             "inboxfoo", "inboxfoo",   '.', true,  false },
	{ "INBOX case with slash",        "inbox/%", "INBOX/x",     '/', true,  false },
	{ "INBOX.x case not with slash",  "inbox.x", "INBOX.x",     '/', false, false },
	{ "modified UTF-7 bytes",         "Entw%",   "Entw&APw-rfe", '.', true, false },
	{ "UTF-8 bytes",                  "Entw%rfe", "Entw\xc3\xbcrfe", '.', true, false },
	{ "many wildcards",               "*%*%*%*a", "bbbbbbbbbbbb", '.', false, true },
	{ "many wildcards match",         "*%*%*%*a", "b.b.b.b.a",  '.', true,  true },
	{ "literal separator",            ".",       ".",           '.', true,  false },
	{ "empty level",                  "a..b",    "a..b",        '.', true,  false },
};
// clang-format on

static void
test_imap_list_match_cases(void **state)
{
	size_t i;
	bool ch;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mcase *c = &cases[i];
		bool m = imap_list_match(c->pattern, strlen(c->pattern),
		    c->name, strlen(c->name), c->sep, &ch);

		if (m != c->match ||
		    (c->children != -1 && ch != (bool)c->children))
			fail_msg("%s: %s ~ %s: match %d children %d", c->label,
			    c->pattern, c->name, m, ch);
		/* children_out may be NULL */
		assert_int_equal(imap_list_match(c->pattern, strlen(c->pattern),
		                     c->name, strlen(c->name), c->sep, NULL),
		    c->match);
	}
}

/* The reference: m[i][k] = pattern[i..) matches name[k..), from the
 * end. children: some i with pattern[0..i) matching the whole name and
 * pattern[i..) able to match sep and one byte or more, or that prefix
 * ending in a "*" that can take them. */
static bool
ref_match(const char *p, size_t pn, const char *s, size_t sn, char sep,
    bool *children_out)
{
	bool *m = xcalloc((pn + 1) * (sn + 1), sizeof(bool));
	size_t ci = 0, i, k;
	bool ret, ch = false;

#define M(a, b) m[(a) * (sn + 1) + (b)]
	if (sn >= 5 && strncasecmp(s, "INBOX", 5) == 0 &&
	    (sn == 5 || s[5] == sep))
		ci = 5;
	for (i = pn + 1; i-- > 0;) {
		for (k = sn + 1; k-- > 0;) {
			bool v;

			if (i == pn)
				v = k == sn;
			else if (p[i] == '*')
				v = M(i + 1, k) || (k < sn && M(i, k + 1));
			else if (p[i] == '%')
				v = M(i + 1, k) ||
				    (k < sn && s[k] != sep && M(i, k + 1));
			else
				v = k < sn &&
				    (p[i] == s[k] ||
				        (k < ci &&
				            (p[i] | 0x20) == (s[k] | 0x20) &&
				            ((p[i] | 0x20) >= 'a' &&
				                (p[i] | 0x20) <= 'z'))) &&
				    M(i + 1, k + 1);
			M(i, k) = v;
		}
	}
	ret = M(0, 0);
	/* forward: which prefixes of the pattern match all of s */
	for (i = 0; i <= pn && !ch; i++) {
		bool *f = xcalloc((i + 1) * (sn + 1), sizeof(bool));
		size_t a, b, j;
		bool pre;

		/* f[a][b]: p[0..a) matches s[0..b) */
		for (a = 0; a <= i; a++)
			for (b = 0; b <= sn; b++) {
				bool v;

				if (a == 0)
					v = b == 0;
				else if (p[a - 1] == '*')
					v = f[(a - 1) * (sn + 1) + b] ||
					    (b > 0 && f[a * (sn + 1) + b - 1]);
				else if (p[a - 1] == '%')
					v = f[(a - 1) * (sn + 1) + b] ||
					    (b > 0 && s[b - 1] != sep &&
					        f[a * (sn + 1) + b - 1]);
				else
					v = b > 0 &&
					    (p[a - 1] == s[b - 1] ||
					        (b - 1 < ci &&
					            (p[a - 1] | 0x20) ==
					                (s[b - 1] | 0x20) &&
					            (p[a - 1] | 0x20) >= 'a' &&
					            (p[a - 1] | 0x20) <=
					                'z')) &&
					    f[(a - 1) * (sn + 1) + b - 1];
				f[a * (sn + 1) + b] = v;
			}
		pre = f[i * (sn + 1) + sn];
		free(f);
		if (!pre)
			continue;
		if (i > 0 && p[i - 1] == '*') {
			/* that "*" goes on taking sep and more */
			ch = true;
			continue;
		}
		for (j = i; j < pn && p[j] == '%'; j++)
			;
		if (j < pn && (p[j] == '*' || (p[j] == sep && j + 1 < pn)))
			ch = true;
	}
#undef M
	free(m);
	*children_out = ch;
	return ret;
}

/* Every pattern of up to 4 bytes and name of up to 5 over small
 * alphabets (with both wildcards, the separator and INBOX's letters). */
static void
test_imap_list_match_exhaustive(void **state)
{
	static const char pa[] = "*%.aIi";
	static const char na[] = ".aI";
	char p[8], s[8];
	size_t pn, sn, np = sizeof(pa) - 1, nn = sizeof(na) - 1;
	unsigned long pi, si, pmax, smax, x;
	size_t checked = 0;

	(void)state;
	for (pn = 0; pn <= 4; pn++) {
		for (pmax = 1, x = 0; x < pn; x++)
			pmax *= np;
		for (pi = 0; pi < pmax; pi++) {
			struct imap_list_pattern *pat;

			for (x = pi, sn = 0; sn < pn; sn++, x /= np)
				p[sn] = pa[x % np];
			pat = imap_list_pattern_new(p, pn, '.');
			for (sn = 0; sn <= 5; sn++) {
				size_t k;

				for (smax = 1, x = 0; x < sn; x++)
					smax *= nn;
				for (si = 0; si < smax; si++) {
					bool c1, c2, m1, m2;

					for (x = si, k = 0; k < sn;
					     k++, x /= nn)
						s[k] = na[x % nn];
					m1 = imap_list_pattern_match(
					    pat, s, sn, &c1);
					m2 = ref_match(p, pn, s, sn, '.', &c2);
					if (m1 != m2 || c1 != c2)
						fail_msg("%.*s ~ %.*s: %d/%d "
						         "children %d/%d",
						    (int)pn, p, (int)sn, s, m1,
						    m2, c1, c2);
					checked++;
				}
			}
			imap_list_pattern_free(&pat);
		}
	}
	assert_true(checked > 1000);
}

/* A pattern that costs a backtracking matcher exponential time, against a
 * long name that almost matches: here it is pattern x name steps. */
static void
test_imap_list_match_no_backtracking(void **state)
{
	size_t pn = 4000, sn = 60000, i;
	char *p = xmalloc(pn + 1), *s = xmalloc(sn + 1);
	bool ch;

	(void)state;
	for (i = 0; i < pn - 1; i++)
		p[i] = i % 2 ? '%' : '*';
	p[pn - 1] = 'a';
	for (i = 0; i < sn; i++)
		s[i] = i % 7 == 6 ? '.' : 'b';
	assert_false(imap_list_match(p, pn, s, sn, '.', &ch));
	assert_true(ch);
	s[sn - 1] = 'a';
	assert_true(imap_list_match(p, pn, s, sn, '.', &ch));
	/* "%a%a%a...b": alternatives a backtracker revisits (shorter: every
	 * position stays live) */
	pn = 400;
	sn = 6000;
	for (i = 0; i < pn - 1; i++)
		p[i] = i % 2 ? 'a' : '%';
	p[pn - 1] = 'b';
	memset(s, 'a', sn);
	assert_false(imap_list_match(p, pn, s, sn, '.', NULL));
	free(p);
	free(s);
}

/* One compiled pattern, many names: the scratch space is reset. */
static void
test_imap_list_match_reuse(void **state)
{
	struct imap_list_pattern *pat = imap_list_pattern_new("a.%", 3, '.');
	bool ch;

	(void)state;
	assert_false(imap_list_pattern_match(pat, "a", 1, &ch));
	assert_true(ch);
	assert_true(imap_list_pattern_match(pat, "a.b", 3, &ch));
	assert_false(ch);
	assert_false(imap_list_pattern_match(pat, "b", 1, &ch));
	assert_false(ch);
	assert_false(imap_list_pattern_match(pat, "a.b.c", 5, &ch));
	assert_true(imap_list_pattern_match(pat, "a.", 2, NULL));
	imap_list_pattern_free(&pat);
	assert_null(pat);
	imap_list_pattern_free(&pat); /* NULL is fine */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_list_match_cases),
		cmocka_unit_test(test_imap_list_match_exhaustive),
		cmocka_unit_test(test_imap_list_match_no_backtracking),
		cmocka_unit_test(test_imap_list_match_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
