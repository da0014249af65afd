/*
 * libFuzzer target for the /etc/aliases parser: the input bytes are an
 * aliases file, parsed under small limits. When it parses, the result must
 * hold what the parser promises: names unique, sorted, lowercased and
 * findable; each target list non-empty, within the limits, and parsing
 * again to itself when joined with ", " (as aliases_db.c stores it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/aliases_file.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// clang-format off
static const struct aliases_limits fuzz_limits = {
	.line_max    = 512,
	.name_max    = 16,
	.target_max  = 40,
	.targets_max = 8,
	.entries_max = 32,
};
// clang-format on

static void
fuzz_check_entry(const struct aliases *a, size_t i)
{
	const struct aliases_entry *e = &a->v[i];
	struct buf joined, err;
	char **t = NULL;
	size_t n = 0, j;
	const char *c;

	if (e->name[0] == '\0' || strlen(e->name) > fuzz_limits.name_max)
		abort();
	for (c = e->name; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			abort();
	if (i > 0 && strcmp(a->v[i - 1].name, e->name) >= 0)
		abort();
	if (aliases_find(a, e->name) != e)
		abort();
	if (e->ntargets == 0 || e->ntargets > fuzz_limits.targets_max)
		abort();
	buf_init(&joined, 1 << 16);
	buf_init(&err, 4096);
	for (j = 0; j < e->ntargets; j++) {
		if (e->targets[j][0] == '\0' ||
		    strlen(e->targets[j]) > fuzz_limits.target_max)
			abort();
		if (buf_printf(&joined, "%s%s", j ? ", " : "", e->targets[j]) ==
		    -1)
			abort();
	}
	if (aliases_targets_parse(
	        joined.data, joined.len, &fuzz_limits, &t, &n, &err) == -1 ||
	    n != e->ntargets)
		abort();
	for (j = 0; j < n; j++) {
		if (strcmp(t[j], e->targets[j]) != 0)
			abort();
		free(t[j]);
	}
	free(t);
	buf_free(&joined);
	buf_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aliases a;
	struct buf err;
	size_t i;

	buf_init(&err, 4096);
	if (aliases_file_parse((const char *)data, size, "fuzz", &fuzz_limits,
	        &a, &err) == 0) {
		if (a.n > fuzz_limits.entries_max)
			abort();
		for (i = 0; i < a.n; i++)
			fuzz_check_entry(&a, i);
		aliases_free(&a);
	} else if (a.n != 0 || err.len == 0 ||
	    memchr(err.data, '\n', err.len) != NULL)
		abort(); /* a failure leaves nothing and says one line */
	buf_free(&err);
	return 0;
}
