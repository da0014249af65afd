/*
 * libFuzzer target for the FETCH attribute parser (imap_fetch_parse.c):
 * the input is what follows "a FETCH 1:* ", with CRLF added, run through a
 * reader that keeps the literals that fit. Parsed items must follow the
 * grammar's rules (MIME only after a part, partial counts above 0, BINARY
 * sections only parts) and the limits.
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

static void
check_item(const struct imap_fetch_item *it)
{
	size_t i;

	CHECK(it->nparts <= IMAP_SECTION_PARTS_MAX);
	for (i = 0; i < it->nparts; i++)
		CHECK(it->parts[i] >= 1);
	CHECK(!it->partial ||
	    (it->count >= 1 && it->count <= INT64_MAX &&
	        it->offset <= INT64_MAX));
	CHECK(it->text != IMAP_SECTION_MIME || it->nparts > 0);
	CHECK((it->nfields > 0) ==
	    (it->text == IMAP_SECTION_HEADER_FIELDS ||
	        it->text == IMAP_SECTION_HEADER_FIELDS_NOT));
	switch (it->att) {
	case IMAP_FA_BINARY:
	case IMAP_FA_BINARY_SIZE:
		CHECK(it->text == IMAP_SECTION_ALL);
		CHECK(it->att != IMAP_FA_BINARY_SIZE || !it->partial);
		break;
	case IMAP_FA_BODY_SECTION:
		break;
	default:
		CHECK(it->nparts == 0 && it->text == IMAP_SECTION_ALL &&
		    !it->partial && !it->peek);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parse_opts opts = { false, true };
	struct imap_reader *r;
	const struct imap_command *c;
	struct buf in;
	size_t pos = 0, used, i;

	buf_init(&in, 1 << 16);
	if (buf_append_str(&in, "a FETCH 1:* ") == -1 ||
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
			if (c->id != IMAP_CMD_FETCH)
				break;
			CHECK(c->u.msg.fetch.n >= 1 &&
			    c->u.msg.fetch.n <= fuzz_lim.args_max);
			for (i = 0; i < c->u.msg.fetch.n; i++)
				check_item(&c->u.msg.fetch.items[i]);
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
