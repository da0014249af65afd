/*
 * libFuzzer target for LIST pattern matching (imap_list_match.h). The
 * input is a separator choice, a pattern and a name split at the first
 * NUL. Whatever the bytes, matching must finish within pattern x name
 * steps (libFuzzer's timeout catches backtracking), and agree with the
 * laws of the wildcards: a pattern matches itself when it has no
 * wildcards, "*" matches everything, the name with its wildcard-free
 * pattern, and a match stays a match when "*" is put at the end; a
 * pattern that matches name.child must report that children could match.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_list_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nul, *p, *name;
	size_t pn, nn, i, k;
	char sep, *star, *child;
	bool m, ch, ch2, wild = false;

	if (size < 1 || size > 4096)
		return 0;
	sep = data[0] & 1 ? '/' : '.';
	p = in + 1;
	nul = memchr(p, '\0', size - 1);
	pn = nul != NULL ? (size_t)(nul - p) : size - 1;
	name = nul != NULL ? nul + 1 : p;
	nn = nul != NULL ? size - 1 - pn - 1 : pn;

	m = imap_list_match(p, pn, name, nn, sep, &ch);
	for (i = 0; i < pn; i++)
		if (p[i] == '*' || p[i] == '%')
			wild = true;
	if (!wild)
		CHECK(imap_list_match(p, pn, p, pn, sep, NULL));
	CHECK(imap_list_match("*", 1, name, nn, sep, &ch2) && ch2);
	/* the pattern with "*" at its end matches more, never less */
	star = malloc(pn + 1);
	CHECK(star != NULL);
	memcpy(star, p, pn);
	star[pn] = '*';
	if (m)
		CHECK(imap_list_match(star, pn + 1, name, nn, sep, NULL));
	free(star);
	/* a child that matches: the parent said it could */
	child = malloc(nn + 2);
	CHECK(child != NULL);
	memcpy(child, name, nn);
	child[nn] = sep;
	for (k = 0; k < 2; k++) {
		child[nn + 1] = k == 0 ? 'x' : (pn > 0 ? p[pn - 1] : 'x');
		if (imap_list_match(p, pn, child, nn + 2, sep, NULL))
			CHECK(ch);
	}
	free(child);
	return 0;
}
