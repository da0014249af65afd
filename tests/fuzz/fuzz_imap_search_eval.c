/*
 * libFuzzer target for SEARCH evaluation (imap_search_eval.c and friends):
 * the input is a SEARCH program, a newline, then a message. The program
 * goes through the parser as in fuzz_imap_search.c ("a UID SEARCH
 * <program>\r\n", small limits); the message is put in a memfd and parsed
 * by mime_parse under small limits; the program is then matched against
 * three messages (different flags) that share it, read in small chunks.
 * The reply is built too. Nothing may crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "imap/imap_command.h"
#include "imap/imap_parse.h"
#include "imap/imap_search_eval.h"
#include "lib/buf.h"
#include "mime/mime_parse.h"
#include "mime/mime_tree.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct imap_limits fuzz_lim = {
	.line_max = 2048,
	.literal_max = 64,
	.command_max = 4096,
	.args_max = 64,
	.depth_max = 6,
	.arena_max = 64 * 1024,
};

static const struct mime_limits fuzz_mime = {
	.depth_max = 8,
	.part_max = 64,
	.field_max = 256,
	.param_max = 8,
	.boundary_max = 80,
	.tree_max = 64 * 1024,
};

struct msg {
	int fd;
	const struct mime_tree *tree;
};

static int
load(void *arg, uint32_t seq, const struct store_msg *m, bool need_file,
    int *fd_out, const struct mime_tree **tree_out)
{
	const struct msg *x = arg;

	(void)seq;
	(void)m;
	(void)need_file;
	if (x->fd == -1)
		return -1;
	*fd_out = x->fd;
	*tree_out = x->tree;
	return 0;
}

static int
keyword(void *arg, struct imap_slice name)
{
	(void)arg;
	return name.n > 0 && name.n < 4 ? (int)name.n : -1;
}

static void
evaluate(const struct imap_search *s, struct msg *x, size_t chunk)
{
	struct imap_range saved_r[] = { { 2, 3 } };
	struct imap_seqset saved = { .r = saved_r, .n = 1 };
	struct imap_search_env env = {
		.count = 3,
		.max_uid = 7,
		.saved_uids = &saved,
		.keyword_bit = keyword,
		.load = load,
		.arg = x,
		.rev1 = chunk & 1,
	};
	struct store_msg m = { .vsize = 100, .internaldate = 1672660800 };
	struct imap_search_prog *p = NULL;
	struct imap_slice tag = { "a", 1 };
	struct buf err, out;
	uint32_t v[3];
	size_t n = 0;
	uint32_t i;
	bool match;

	buf_init(&err, 256);
	buf_init(&out, 4096);
	if (imap_search_prepare(s, &env, &p, &err) == -1)
		goto out;
	imap_search_prog_set_chunk(p, chunk);
	for (i = 1; i <= 3; i++) {
		m.uid = i * 2 + 1;
		m.flags = i * 7 & STORE_FLAG_MASK;
		m.keywords = i;
		m.internaldate += 86400 * 400 * i;
		if (imap_search_prog_match(p, i, &m, i == 2, &match) == 0 &&
		    match)
			v[n++] = m.uid;
	}
	(void)!imap_search_reply(&out, v, n, s->esearch, s->ret, tag, true);
out:
	imap_search_prog_free(&p);
	buf_free(&err);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parse_opts opts = { true, true };
	const uint8_t *nl = memchr(data, '\n', size);
	size_t prog_n = nl != NULL ? (size_t)(nl - data) : size;
	const uint8_t *msg = nl != NULL ? nl + 1 : data + size;
	size_t msg_n = size - (size_t)(msg - data);
	struct msg x = { -1, NULL };
	struct mime_tree *tree = NULL;
	struct imap_reader *r;
	const struct imap_command *c;
	struct imap_slice tag;
	struct buf in;
	size_t pos = 0, used;

	buf_init(&in, 1 << 16);
	if (buf_append_str(&in, "a UID SEARCH ") == -1 ||
	    buf_append(&in, data, prog_n) == -1 ||
	    buf_append_str(&in, "\r\n") == -1)
		goto out;
	x.fd = memfd_create("msg", MFD_CLOEXEC);
	if (x.fd == -1 ||
	    (msg_n > 0 && write(x.fd, msg, msg_n) != (ssize_t)msg_n))
		goto out;
	tree = mime_parse(msg, msg_n, &fuzz_mime);
	x.tree = tree;
	r = imap_reader_new(&fuzz_lim, &opts);
	while (pos < in.len) {
		switch (
		    imap_reader_feed(r, in.data + pos, in.len - pos, &used)) {
		case IMAP_READ_LITERAL:
			if (imap_reader_literal(r)->over)
				imap_reader_literal_refuse(r);
			else if (imap_reader_literal_take(
			             r, IMAP_LITERAL_KEEP) != 0)
				abort();
			break;
		case IMAP_READ_COMMAND:
			c = imap_reader_command(r);
			if (c->id == IMAP_CMD_SEARCH) {
				evaluate(&c->u.search, &x, 1 + size % 7);
				evaluate(&c->u.search, &x, 4096);
			}
			break;
		case IMAP_READ_ERROR:
			(void)imap_reader_error(r, &tag);
			break;
		default:
			break;
		}
		pos += used;
	}
	imap_reader_free(&r);
out:
	mime_tree_free(&tree);
	if (x.fd != -1)
		close(x.fd);
	buf_free(&in);
	return 0;
}
