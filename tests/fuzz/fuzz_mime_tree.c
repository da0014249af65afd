/*
 * libFuzzer target for the MIME parser and its tree blob. The first byte
 * chooses a split offset and the second small limits; the rest is a
 * stored message. Fed whole and split it must give the same blob; the
 * blob must decode to a tree that encodes to the same blob; BODYSTRUCTURE
 * must be writable. The input itself is also decoded as a blob (most are
 * refused), and so is the real blob with one byte changed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_bodystructure.h"
#include "lib/buf.h"
#include "mime/mime_parse.h"
#include "mime/mime_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static void
encode(const struct mime_tree *t, struct buf *b)
{
	buf_init(b, 1 << 24);
	CHECK(mime_tree_encode(t, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_limits lim = mime_limits_default;
	struct mime_parser *mp;
	struct mime_tree *t, *u;
	struct buf whole, split, again, bs;
	const char *in;
	size_t n, cut;

	if (size < 2 || size > 65536)
		return 0;
	u = mime_tree_decode(data, size, 1000);
	if (u != NULL) {
		buf_init(&bs, 1 << 24);
		CHECK(imap_bodystructure_append(
		          &bs, mime_tree_root(u), true, true) == 0);
		buf_free(&bs);
		mime_tree_free(&u);
	}
	in = (const char *)data + 2;
	n = size - 2;
	cut = n > 0 ? data[0] % (n + 1) : 0;
	lim.depth_max = 1 + (data[1] & 7);
	lim.part_max = 1 + (data[1] >> 3);
	lim.field_max = 16 + (data[1] & 0x3f);
	lim.boundary_max = 4 + (data[1] & 0xf);

	t = mime_parse(in, n, &lim);
	CHECK(mime_tree_part_count(t) <= lim.part_max);
	CHECK(mime_tree_root(t)->hdr_size + mime_tree_root(t)->body_size == n);
	encode(t, &whole);
	mp = mime_parser_new(&lim);
	mime_parser_feed(mp, in, cut);
	mime_parser_feed(mp, in + cut, n - cut);
	u = mime_parser_end(&mp);
	encode(u, &split);
	CHECK(split.len == whole.len &&
	    memcmp(split.data, whole.data, whole.len) == 0);
	mime_tree_free(&u);

	u = mime_tree_decode(whole.data, whole.len, lim.part_max);
	CHECK(u != NULL);
	encode(u, &again);
	CHECK(again.len == whole.len &&
	    memcmp(again.data, whole.data, whole.len) == 0);
	buf_init(&bs, 1 << 24);
	CHECK(imap_bodystructure_append(&bs, mime_tree_root(u), true, false) ==
	    0);
	buf_free(&bs);
	mime_tree_free(&u);

	if (whole.len > 0) {
		whole.data[cut % whole.len] ^= (char)(data[1] | 1);
		u = mime_tree_decode(whole.data, whole.len, lim.part_max);
		mime_tree_free(&u);
	}
	buf_free(&whole);
	buf_free(&split);
	buf_free(&again);
	mime_tree_free(&t);
	return 0;
}
