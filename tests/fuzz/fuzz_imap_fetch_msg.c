/*
 * libFuzzer target for the FETCH response writer (imap_fetch_msg.c): the
 * input's first line is a FETCH attribute list (parsed as
 * fuzz_imap_fetch.c does), the rest is the message (written to a memfd,
 * its tree built by mime_parse). The response is written with a small
 * budget and with a large one: both must be the same bytes, framed as
 * "* 1 FETCH (" ... ")" CRLF, and every literal's announced size must be
 * the bytes that follow it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "imap/imap_command.h"
#include "imap/imap_fetch_msg.h"
#include "imap/imap_parse.h"
#include "lib/buf.h"
#include "mime/mime_parse.h"
#include "mime/mime_tree.h"
#include "store/store.h"

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

static const struct mime_limits fuzz_mime_lim = {
	.depth_max = 8,
	.part_max = 64,
	.field_max = 256,
	.param_max = 8,
	.boundary_max = 70,
	.tree_max = 64 * 1024,
};

static void
check_response(const char *r, size_t n)
{
	size_t i, j;
	unsigned long long len;

	CHECK(n >= 14 && memcmp(r, "* 1 FETCH (", 11) == 0);
	CHECK(memcmp(r + n - 3, ")\r\n", 3) == 0);
	i = 11;
	while (i < n - 3) {
		CHECK(r[i] != '\r' && r[i] != '\n');
		if (r[i] != '{') {
			i++;
			continue;
		}
		len = 0;
		for (j = i + 1;
		     j < n && j < i + 21 && r[j] >= '0' && r[j] <= '9'; j++)
			len = len * 10 + (unsigned long long)(r[j] - '0');
		if (j == i + 1 || j + 2 >= n || r[j] != '}' ||
		    r[j + 1] != '\r' || r[j + 2] != '\n') {
			i++; /* a "{" in a quoted string */
			continue;
		}
		CHECK(len <= n && j + 3 + len <= n - 3);
		i = j + 3 + len;
	}
}

/* The whole response with one budget; NULL for a NO. */
static char *
respond(const struct imap_fetch *f, const struct imap_fetch_msg_in *in,
    size_t budget, size_t *n_out)
{
	struct imap_fetch_writer *w;
	const char *code;
	struct buf out, again;
	int rc;

	if (imap_fetch_writer_new(f, in, &w, &code) == -1) {
		CHECK(code != NULL);
		return NULL;
	}
	buf_init(&out, 1 << 24);
	while ((rc = imap_fetch_writer_step(w, &out, budget)) == 1)
		;
	CHECK(rc == 0);
	/* the writer reused (as FETCH does for the next message) after a
	 * response dropped halfway writes the same bytes */
	buf_init(&again, 1 << 24);
	CHECK(imap_fetch_writer_next(w, in, &code) == 0);
	(void)imap_fetch_writer_step(w, &again, budget);
	buf_reset(&again);
	CHECK(imap_fetch_writer_next(w, in, &code) == 0);
	while ((rc = imap_fetch_writer_step(w, &again, budget)) == 1)
		;
	CHECK(rc == 0);
	CHECK(again.len == out.len &&
	    (out.len == 0 || memcmp(again.data, out.data, out.len) == 0));
	buf_free(&again);
	imap_fetch_writer_free(&w);
	check_response(out.data, out.len);
	*n_out = out.len;
	return buf_steal(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kw[] = { "$Junk", NULL, "Work" };
	struct imap_parse_opts opts = { false, true };
	struct imap_fetch_msg_in in = { 0 };
	struct store_msg msg = { 0 };
	struct imap_reader *r = NULL;
	const struct imap_command *c = NULL;
	struct mime_tree *t = NULL;
	const uint8_t *nl, *m;
	struct buf cmd;
	size_t pos = 0, used, mn, i, n1 = 0, n2 = 0;
	char *r1, *r2;
	int fd = -1;

	nl = memchr(data, '\n', size);
	if (nl == NULL || size < 1)
		return 0;
	m = nl + 1;
	mn = size - (size_t)(m - data);
	buf_init(&cmd, 1 << 16);
	if (buf_append_str(&cmd, "a FETCH 1 ") == -1 ||
	    buf_append(&cmd, data, (size_t)(nl - data)) == -1 ||
	    buf_append_str(&cmd, "\r\n") == -1)
		goto out;
	r = imap_reader_new(&fuzz_lim, &opts);
	while (pos < cmd.len && c == NULL) {
		switch (
		    imap_reader_feed(r, cmd.data + pos, cmd.len - pos, &used)) {
		case IMAP_READ_LITERAL:
			if (imap_reader_literal(r)->over)
				imap_reader_literal_refuse(r);
			else
				CHECK(imap_reader_literal_take(
				          r, IMAP_LITERAL_KEEP) == 0);
			break;
		case IMAP_READ_COMMAND:
			c = imap_reader_command(r);
			break;
		case IMAP_READ_ERROR:
			goto out;
		default:
			break;
		}
		pos += used;
	}
	if (c == NULL || c->id != IMAP_CMD_FETCH)
		goto out;
	fd = memfd_create("fuzz_imap_fetch_msg", MFD_CLOEXEC);
	CHECK(fd != -1);
	CHECK(write(fd, m, mn) == (ssize_t)mn);
	t = mime_parse(m, mn, &fuzz_mime_lim);
	msg.uid = 42;
	msg.flags = data[0] & 0x3f;
	msg.keywords = data[0];
	msg.psize = mn;
	msg.vsize = mn;
	for (i = 0; i < mn; i++)
		if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
			msg.vsize++;
	msg.internaldate = (int64_t)data[0] << 24;
	in.seq = 1;
	in.msg = &msg;
	in.keywords = kw;
	in.nkeywords = 3;
	in.recent = (data[0] & 1) != 0;
	in.tree = t;
	in.fd = fd;
	in.add_uid = (data[0] & 2) != 0;
	in.add_flags = (data[0] & 4) != 0;
	(void)imap_fetch_needs(&c->u.msg.fetch);
	(void)imap_fetch_sets_seen(&c->u.msg.fetch);
	r1 = respond(&c->u.msg.fetch, &in, 1 + (data[0] % 5), &n1);
	r2 = respond(&c->u.msg.fetch, &in, 1 << 16, &n2);
	CHECK((r1 == NULL) == (r2 == NULL));
	if (n1 != n2 || (r1 != NULL && memcmp(r1, r2, n1) != 0)) {
		fprintf(stderr, "budget %u:\n%.*s\nbudget 65536:\n%.*s\n",
		    1 + (data[0] % 5), (int)n1, r1, (int)n2, r2);
		abort();
	}
	free(r1);
	free(r2);
out:
	mime_tree_free(&t);
	if (fd != -1)
		close(fd);
	imap_reader_free(&r);
	buf_free(&cmd);
	return 0;
}
