/*
 * libFuzzer target for the streaming base64 decoder (and quoted-printable)
 * (mime_decode.h). The first byte chooses a split offset;
 * fed whole, split and byte by byte they must give the same bytes, within
 * the bounds the header states.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "mime/mime_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static void
run(bool b64, const char *in, size_t n, size_t cut, size_t step,
    struct buf *out)
{
	struct mime_qp q;
	struct mime_b64 b;
	size_t pos = 0, end;

	mime_qp_init(&q);
	mime_b64_init(&b);
	buf_init(out, 1 << 20);
	while (pos < n) {
		end = pos < cut ? cut : n;
		if (step > 0 && end - pos > step)
			end = pos + step;
		if (b64)
			CHECK(
			    mime_b64_decode(&b, in + pos, end - pos, out) == 0);
		else
			CHECK(
			    mime_qp_decode(&q, in + pos, end - pos, out) == 0);
		pos = end;
	}
	CHECK((b64 ? mime_b64_end(&b, out) : mime_qp_end(&q, out)) == 0);
	CHECK(b64 ? out->len <= 3 * n / 4 + 3 : out->len <= n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b, c;
	const char *in = (const char *)data + 1;
	size_t n, cut;
	bool b64;

	if (size < 1 || size > 65536)
		return 0;
	n = size - 1;
	cut = n > 0 ? data[0] % (n + 1) : 0;
	b64 = true;
	run(b64, in, n, 0, 0, &a);
	run(b64, in, n, cut, 0, &b);
	run(b64, in, n, 0, 1, &c);
	CHECK(a.len == b.len && a.len == c.len);
	CHECK(a.len == 0 ||
	    (memcmp(a.data, b.data, a.len) == 0 &&
	        memcmp(a.data, c.data, a.len) == 0));
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
