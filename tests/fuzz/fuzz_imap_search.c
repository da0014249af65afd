/*
 * libFuzzer target for the SEARCH program parser (imap_search_parse.c):
 * the input is the program of "a UID SEARCH <input>\r\n", run through a
 * reader that keeps the literals that fit, under small limits. A parsed
 * tree must respect the node and depth limits and the arity of OR/NOT.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_command.h"
#include "imap/imap_parse.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static const struct imap_limits fuzz_lim = {
	.line_max = 2048,
	.literal_max = 64,
	.command_max = 4096,
	.args_max = 64,
	.depth_max = 6,
	.arena_max = 64 * 1024,
};

static size_t
walk(const struct imap_search_node *n, size_t depth, size_t *max_depth)
{
	const struct imap_search_node *c;
	size_t count = 1, kids = 0;

	if (depth > *max_depth)
		*max_depth = depth;
	switch (n->key) {
	case IMAP_SK_AND:
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
		for (c = n->child; c != NULL; c = c->next, kids++)
			count += walk(c, depth + 1, max_depth);
		CHECK(kids >= 1);
		CHECK(n->key != IMAP_SK_OR || kids == 2);
		CHECK(n->key != IMAP_SK_NOT || kids == 1);
		break;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UID:
		CHECK(n->u.set.n > 0 || n->u.set.saved);
		break;
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		CHECK(n->u.date.mon >= 1 && n->u.date.mon <= 12);
		CHECK(n->u.date.day >= 1 && n->u.date.day <= 31);
		break;
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
		CHECK(n->u.size <= INT64_MAX);
		break;
	default:
		CHECK(n->child == NULL);
		break;
	}
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parse_opts opts = { size > 0 && data[0] == '"', true };
	struct imap_reader *r;
	const struct imap_command *c;
	const struct imap_parse_err *err;
	struct imap_slice tag;
	struct buf in;
	size_t pos = 0, used, max_depth = 0;

	buf_init(&in, 1 << 16);
	if (buf_append_str(&in, "a UID SEARCH ") == -1 ||
	    buf_append(&in, data, size) == -1 ||
	    buf_append_str(&in, "\r\n") == -1)
		goto out;
	r = imap_reader_new(&fuzz_lim, &opts);
	while (pos < in.len) {
		switch (
		    imap_reader_feed(r, in.data + pos, in.len - pos, &used)) {
		case IMAP_READ_LITERAL:
			if (imap_reader_literal(r)->over)
				imap_reader_literal_refuse(r);
			else
				CHECK(imap_reader_literal_take(
				          r, IMAP_LITERAL_KEEP) == 0);
			break;
		case IMAP_READ_COMMAND:
			c = imap_reader_command(r);
			if (c->id != IMAP_CMD_SEARCH)
				break;
			CHECK(c->u.search.root->key == IMAP_SK_AND);
			CHECK(walk(c->u.search.root, 0, &max_depth) ==
			    c->u.search.nodes);
			CHECK(c->u.search.nodes <= fuzz_lim.args_max);
			/* the root, then one level per group, NOT or OR */
			CHECK(max_depth <= fuzz_lim.depth_max + 1);
			break;
		case IMAP_READ_ERROR:
			err = imap_reader_error(r, &tag);
			CHECK(err->text != NULL);
			break;
		default:
			break;
		}
		pos += used;
	}
	imap_reader_free(&r);
out:
	buf_free(&in);
	return 0;
}
