/*
 * libFuzzer target for the address helpers: runs split, normalize,
 * strip_extension and domain_valid on the input (as a C string; the first
 * byte picks the delimiters) and checks their promises: a normalised
 * address normalises to itself and splits into valid parts, and an
 * extension put back gives the local part.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mailaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static void
fuzz_split(const char *s)
{
	char *local, *domain;

	if (mailaddr_split(s, &local, &domain) == -1)
		return;
	CHECK(local[0] != '\0');
	CHECK(strlen(local) + (domain[0] != '\0' ? 1 + strlen(domain) : 0) ==
	    strlen(s));
	free(local);
	free(domain);
}

static void
fuzz_normalize(const char *s)
{
	char *norm, *again, *local, *domain;

	if ((norm = mailaddr_normalize(s)) == NULL)
		return;
	again = mailaddr_normalize(norm);
	CHECK(again != NULL && strcmp(again, norm) == 0);
	CHECK(mailaddr_split(norm, &local, &domain) == 0);
	CHECK(mailaddr_local_valid_n(local, strlen(local), NULL));
	CHECK(domain[0] == '\0' || mailaddr_domain_valid(domain));
	free(local);
	free(domain);
	free(again);
	free(norm);
}

static void
fuzz_strip(const char *s, const char *delims)
{
	char *base, *ext;
	size_t bn;

	base = mailaddr_strip_extension(s, delims, &ext);
	bn = strlen(base);
	if (ext == NULL)
		CHECK(strcmp(base, s) == 0);
	else {
		/* base, one delimiter, ext: the local part again */
		CHECK(bn > 0 && bn + 1 + strlen(ext) == strlen(s));
		CHECK(memcmp(base, s, bn) == 0);
		CHECK(strchr(delims, s[bn]) != NULL);
		CHECK(strcmp(ext, s + bn + 1) == 0);
		CHECK(strpbrk(base, delims) == NULL);
	}
	free(base);
	free(ext);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *delims[] = { "+", "-", "+-", "" };
	bool utf8 = false;
	char *s;

	if (size == 0)
		return 0;
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0'; /* up to the first NUL, as callers see it */
	fuzz_split(s);
	fuzz_normalize(s);
	fuzz_strip(s, delims[data[0] % 4]);
	if (mailaddr_domain_valid(s))
		CHECK(mailaddr_domain_valid_n(s, strlen(s), &utf8));
	(void)mailaddr_local_valid_n((const char *)data + 1, size - 1, &utf8);
	free(s);
	return 0;
}
