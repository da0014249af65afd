/*
 * libFuzzer target for the IMAP command reader and parser (imap_parse.h,
 * imap_command.h). The first byte chooses the options and a chunk size;
 * the input is fed whole and then in chunks, deciding each literal the
 * same way (keep, stream or refuse, by its index and size), and both runs
 * must give the same events. Every parsed command is checked against the
 * small limits it was parsed under.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	.line_max = 128,
	.literal_max = 64,
	.command_max = 512,
	.args_max = 24,
	.depth_max = 4,
	.arena_max = 32 * 1024,
};

static void
check_set(const struct imap_seqset *s)
{
	size_t i;

	CHECK(s->n <= fuzz_lim.line_max / 2);
	for (i = 0; i < s->n && !s->star; i++) {
		CHECK(s->r[i].lo >= 1 && s->r[i].lo <= s->r[i].hi);
		if (i > 0)
			CHECK(s->r[i].lo > s->r[i - 1].hi + 1ull);
	}
}

static size_t
check_search(const struct imap_search_node *n, size_t depth)
{
	const struct imap_search_node *c;
	size_t count = 1;

	CHECK(depth <= fuzz_lim.depth_max + 1);
	if (n->key == IMAP_SK_SEQSET || n->key == IMAP_SK_UID)
		check_set(&n->u.set);
	if (n->key == IMAP_SK_AND || n->key == IMAP_SK_OR ||
	    n->key == IMAP_SK_NOT)
		for (c = n->child; c != NULL; c = c->next)
			count += check_search(c, depth + 1);
	if (n->key == IMAP_SK_OR)
		CHECK(n->child != NULL && n->child->next != NULL &&
		    n->child->next->next == NULL);
	if (n->key == IMAP_SK_NOT)
		CHECK(n->child != NULL && n->child->next == NULL);
	return count;
}

static void
check_command(const struct imap_command *c)
{
	size_t i;

	CHECK(c->tag.n > 0 && c->name.n > 0);
	CHECK(c->id > IMAP_CMD_UNKNOWN && c->id < IMAP_CMD_MAX);
	for (i = 0; i < c->tag.n; i++)
		CHECK(c->tag.p[i] > ' ' && c->tag.p[i] < 0x7f &&
		    c->tag.p[i] != '+');
	switch (c->id) {
	case IMAP_CMD_FETCH:
		check_set(&c->u.msg.set);
		CHECK(c->u.msg.fetch.n >= 1 &&
		    c->u.msg.fetch.n <= fuzz_lim.args_max);
		for (i = 0; i < c->u.msg.fetch.n; i++) {
			const struct imap_fetch_item *it =
			    &c->u.msg.fetch.items[i];

			CHECK(it->nparts <= IMAP_SECTION_PARTS_MAX);
			CHECK(it->nfields <= fuzz_lim.args_max);
			CHECK(!it->partial || it->count > 0);
			CHECK(it->text != IMAP_SECTION_MIME || it->nparts > 0);
		}
		break;
	case IMAP_CMD_STORE:
	case IMAP_CMD_COPY:
	case IMAP_CMD_MOVE:
		check_set(&c->u.msg.set);
		break;
	case IMAP_CMD_SEARCH:
		CHECK(check_search(c->u.search.root, 0) == c->u.search.nodes);
		CHECK(c->u.search.nodes <= fuzz_lim.args_max);
		break;
	case IMAP_CMD_APPEND:
		CHECK(c->u.append.n >= 1);
		for (i = 0; i < c->u.append.n; i++)
			CHECK(c->u.append.msgs[i].streamed ||
			    c->u.append.msgs[i].data.n ==
			        c->u.append.msgs[i].size);
		break;
	case IMAP_CMD_ID:
		CHECK(c->u.id.n <= IMAP_ID_PAIRS_MAX);
		break;
	default:
		break;
	}
}

/* Runs the input through a reader in chunks of step (0: whole) and logs
 * the events into log. */
static void
run(const struct imap_parse_opts *opts, const char *in, size_t n, size_t step,
    bool line_mode, struct buf *log)
{
	struct imap_reader *r = imap_reader_new(&fuzz_lim, opts);
	const struct imap_literal_info *info;
	const struct imap_parse_err *err;
	struct imap_slice tag, d;
	struct buf reply;
	size_t pos = 0, used, len, data_total = 0, idle = 0;
	enum imap_read ev;
	bool last;

	buf_init(&reply, 4096);
	if (line_mode)
		imap_reader_want_line(r);
	while (pos < n) {
		len = n - pos;
		if (step > 0 && len > step)
			len = step;
		ev = imap_reader_feed(r, in + pos, len, &used);
		CHECK(used <= len);
		pos += used;
		/* every call makes progress or reports an event */
		idle = used == 0 && ev == IMAP_READ_MORE ? idle + 1 : 0;
		CHECK(idle < 2);
		switch (ev) {
		case IMAP_READ_MORE:
			break;
		case IMAP_READ_LITERAL:
			info = imap_reader_literal(r);
			if (info->append_message) {
				struct imap_slice nm = imap_reader_name(r);

				CHECK(nm.n == 6 &&
				    strncasecmp(nm.p, "APPEND", 6) == 0);
			}
			CHECK(buf_printf(log, "L%zu:%llu%c ", info->index,
			          (unsigned long long)info->size,
			          info->sync ? 's' : 'n') == 0);
			if (!info->over && info->index % 3 != 2)
				CHECK(imap_reader_literal_take(
				          r, IMAP_LITERAL_KEEP) == 0);
			else if (info->size % 2 == 0)
				CHECK(imap_reader_literal_take(
				          r, IMAP_LITERAL_STREAM) == 0);
			else
				imap_reader_literal_refuse(r);
			break;
		case IMAP_READ_DATA:
			d = imap_reader_data(r, &last);
			CHECK(d.p >= in && d.p + d.n <= in + n);
			data_total += d.n;
			if (last) {
				CHECK(
				    buf_printf(log, "D%zu ", data_total) == 0);
				data_total = 0;
			}
			break;
		case IMAP_READ_COMMAND:
			check_command(imap_reader_command(r));
			CHECK(buf_printf(log, "C%d ",
			          imap_reader_command(r)->id) == 0);
			if (imap_reader_command(r)->id == IMAP_CMD_IDLE ||
			    imap_reader_command(r)->id == IMAP_CMD_AUTHENTICATE)
				imap_reader_want_line(r);
			break;
		case IMAP_READ_LINE:
			d = imap_reader_line(r);
			CHECK(d.n + 2 <= fuzz_lim.line_max);
			CHECK(memchr(d.p, '\0', d.n) == NULL);
			CHECK(buf_printf(log, "N%zu ", d.n) == 0);
			break;
		case IMAP_READ_ERROR:
			err = imap_reader_error(r, &tag);
			CHECK(err->code != IMAP_ERR_NONE && err->text != NULL);
			/* a streamed literal cut short: split runs may have
			 * passed on some of it already */
			data_total = 0;
			buf_reset(&reply);
			CHECK(imap_parse_err_reply(err, tag, &reply) == 0);
			CHECK(buf_printf(log, "E%d:%.*s ", err->code,
			          (int)tag.n, tag.p) == 0);
			if (err->fatal)
				goto out;
			break;
		}
	}
out:
	buf_free(&reply);
	imap_reader_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parse_opts opts;
	struct buf whole, split;
	size_t step;

	if (size < 1)
		return 0;
	opts.utf8 = data[0] & 1;
	opts.literal_plus = data[0] & 2;
	step = (data[0] >> 3) + 1;
	buf_init(&whole, 1 << 20);
	buf_init(&split, 1 << 20);
	run(&opts, (const char *)data + 1, size - 1, 0, data[0] & 4, &whole);
	run(&opts, (const char *)data + 1, size - 1, step, data[0] & 4, &split);
	CHECK(whole.len == split.len &&
	    memcmp(buf_cstr(&whole), buf_cstr(&split), whole.len) == 0);
	buf_free(&whole);
	buf_free(&split);
	return 0;
}
