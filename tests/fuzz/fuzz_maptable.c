/*
 * libFuzzer target for the lookup-table parsers (src/policy/maptable_*.c):
 * the first input byte picks the format ('h' hash text, 'c' cidr, 'r'
 * regexp, 'p' pcre; another byte by its value modulo 4), the rest is the
 * file, parsed under small limits. A failure must leave
 * one non-empty line; a table that parses must answer lookups of a few
 * fixed keys and of a key taken from the input with 0, 1 or -1 (a regexp
 * that hits the match limit), and a value that fits its buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "policy/maptable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// clang-format off
static const struct maptable_limits fuzz_limits = {
	.file_max    = 4096,
	.line_max    = 256,
	.entries_max = 32,
};
// clang-format on

static const enum maptable_type fuzz_types[] = { MAPTABLE_HASH, MAPTABLE_CIDR,
	MAPTABLE_REGEXP, MAPTABLE_PCRE };

static enum maptable_type
fuzz_type(uint8_t c)
{
	const char *letters = "hcrp", *p = memchr(letters, c, 4);

	return fuzz_types[p != NULL ? (size_t)(p - letters) : c % 4u];
}

static void
fuzz_lookup(const struct maptable_data *d, const char *key)
{
	struct buf value, err;
	int rc;

	buf_init(&value, 512);
	buf_init(&err, 4096);
	rc = maptable_data_lookup(d, key, &value, &err);
	if (rc < -1 || rc > 1)
		abort();
	if (rc == 0 &&
	    (value.len > value.max ||
	        (value.data != NULL && value.data[value.len] != '\0')))
		abort();
	if (rc == -1 && (err.len == 0 || memchr(err.data, '\n', err.len)))
		abort();
	buf_free(&value);
	buf_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "192.0.2.1", "2001:db8::1",
		"user@example.org", "EXAMPLE.ORG", "", "a" };
	struct maptable_data *d;
	struct buf err;
	char key[65];
	size_t i, n;

	if (size == 0)
		return 0;
	buf_init(&err, 4096);
	d = maptable_data_parse(fuzz_type(data[0]), (const char *)data + 1,
	    size - 1, "fuzz", &fuzz_limits, NULL, &err);
	if (d == NULL) {
		if (err.len == 0 || memchr(err.data, '\n', err.len) != NULL)
			abort(); /* a failure says one line */
		buf_free(&err);
		return 0;
	}
	if (maptable_data_count(d) > fuzz_limits.entries_max)
		abort();
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		fuzz_lookup(d, keys[i]);
	/* the input's first bytes as a key, up to a NUL or a newline */
	for (n = 0; n + 1 < size && n < sizeof(key) - 1 && data[n + 1] != 0 &&
	     data[n + 1] != '\n';
	     n++)
		key[n] = (char)data[n + 1];
	key[n] = '\0';
	fuzz_lookup(d, key);
	maptable_data_free(&d);
	buf_free(&err);
	return 0;
}
