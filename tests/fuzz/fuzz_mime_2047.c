/*
 * libFuzzer target for RFC 2047 decoding and the header writers: the
 * input is a header value; it is decoded to UTF-8 (bounded: iconv may
 * grow it, but never past 4 bytes per input byte plus replacements), and
 * written as an IMAP address list and as an IMAP string, which must fit
 * their bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_envelope.h"
#include "imap/imap_string.h"
#include "lib/buf.h"
#include "mime/mime_decode.h"

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
	struct buf out;
	size_t count;

	if (size > 16384)
		return 0;
	buf_init(&out, 1 << 22);
	CHECK(mime_2047_decode(in, size, &out) == 0);
	buf_reset(&out);
	CHECK(imap_address_list_append(&out, in, size, size & 1, &count) == 0);
	CHECK(count <= size + 1);
	CHECK(out.len > 0 && (out.data[0] == '(' || out.data[0] == 'N'));
	buf_reset(&out);
	CHECK(imap_string_append(&out, in, size, true) == 0);
	CHECK(out.len <= size * 2 + 16);
	buf_free(&out);
	return 0;
}
