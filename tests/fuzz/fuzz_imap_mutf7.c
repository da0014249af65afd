/*
 * libFuzzer target for modified UTF-7 (imap_mutf7.h). Decoding accepts
 * only canonical input, so whatever decodes must encode back to the same
 * bytes; and any valid UTF-8 must survive encode then decode unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_mutf7.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct buf a, b;

	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);
	if (imap_mutf7_decode(in, size, &a) == 0) {
		CHECK(imap_utf8_valid(buf_cstr(&a), a.len));
		CHECK(imap_mutf7_encode(buf_cstr(&a), a.len, &b) == 0);
		CHECK(b.len == size && memcmp(buf_cstr(&b), in, size) == 0);
	} else
		CHECK(a.len == 0);
	buf_reset(&a);
	buf_reset(&b);
	if (imap_utf8_valid(in, size)) {
		CHECK(imap_mutf7_encode(in, size, &a) == 0);
		CHECK(imap_mutf7_decode(buf_cstr(&a), a.len, &b) == 0);
		CHECK(b.len == size && memcmp(buf_cstr(&b), in, size) == 0);
	} else
		CHECK(imap_mutf7_encode(in, size, &a) == -1 && a.len == 0);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
