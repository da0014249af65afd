/*
 * libFuzzer target for Maildir file names (src/store/maildir_name.c):
 * parsing never reads past the name, the base is a non-empty prefix, a
 * name rebuilt with new flags parses again to the same base and fields
 * and exactly those flags, and the delivery order is antisymmetric.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "store/maildir_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *name = (const char *)data;
	struct maildir_fname f, g;
	uint32_t flags = 0, kw = 0;
	struct buf out;
	size_t half = size / 2;

	if (size >= 8) {
		memcpy(&flags, data, 4);
		memcpy(&kw, data + 4, 4);
		flags &= 0x3f;
		kw &= (1u << 26) - 1;
	}
	/* the order of the two halves, both ways */
	{
		int a = maildir_base_cmp(name, half, name + half, size - half);
		int b = maildir_base_cmp(name + half, size - half, name, half);

		CHECK(
		    (a < 0 && b > 0) || (a > 0 && b < 0) || (a == 0 && b == 0));
		CHECK(maildir_base_cmp(name, size, name, size) == 0);
	}
	if (maildir_fname_parse(name, size, &f) == -1)
		return 0;
	CHECK(size <= MAILDIR_NAME_MAX && f.base_len > 0);
	CHECK(f.base_len <= f.prefix_len && f.prefix_len <= size);
	CHECK(memchr(f.base, ',', f.base_len) == NULL);
	CHECK(memchr(f.base, ':', f.base_len) == NULL);
	buf_init(&out, 4096);
	if (maildir_fname_with_flags(&out, name, &f, flags, kw) == 0) {
		CHECK(out.len <= MAILDIR_NAME_MAX);
		CHECK(maildir_fname_parse(out.data, out.len, &g) == 0);
		CHECK(g.base_len == f.base_len && g.info2);
		CHECK(memcmp(g.base, f.base, f.base_len) == 0);
		CHECK(g.has_psize == f.has_psize && g.has_vsize == f.has_vsize);
		CHECK(!g.has_psize || g.psize == f.psize);
		CHECK(!g.has_vsize || g.vsize == f.vsize);
		CHECK(g.flags == flags && g.keywords == kw);
	} else
		CHECK(out.len == 0);
	buf_free(&out);
	return 0;
}
