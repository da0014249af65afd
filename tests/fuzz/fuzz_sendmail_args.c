/*
 * libFuzzer target for sendmail's input parsers: the command line
 * (cli/sendmail_args.c; the input split at NUL bytes is argv), the RFC 5322
 * address-list parser and the message filter (cli/sendmail_msg.c) under a
 * small header_size_limit. Checked: no crash; an accepted command line
 * keeps its recipients inside argv and a value-taking option's value in
 * argv; every address the list parser gives is non-empty and no longer
 * than its input; the filter's output ends in LF, is no longer than its
 * input plus one separator and one LF, has no Bcc: header, and is the
 * same whether fed whole or byte by byte.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sendmail_args.h"
#include "cli/sendmail_msg.h"
#include "lib/buf.h"
#include "lib/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_ARGS_MAX 64

static bool
in_argv(char *const *argv, int argc, const char *p)
{
	int i;

	for (i = 0; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
			return true;
	return false;
}

static void
fuzz_args(const char *p, size_t n)
{
	char *copy = malloc(n + 1), *argv[FUZZ_ARGS_MAX + 1];
	struct sendmail_opts o;
	const char *why, *arg;
	int argc = 0;
	size_t i, start = 0;

	if (copy == NULL)
		return;
	memcpy(copy, p, n);
	copy[n] = '\0';
	for (i = 0; i <= n && argc < FUZZ_ARGS_MAX; i++)
		if (i == n || copy[i] == '\0') {
			copy[i] = '\0';
			argv[argc++] = copy + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	if (sendmail_args_parse(argc, argv, &o, &why, &arg) == 0) {
		CHECK(o.nrcpt <= (size_t)argc);
		CHECK(o.nrcpt == 0 ||
		    (o.rcpts >= argv && o.rcpts + o.nrcpt <= argv + argc));
		CHECK(o.sender == NULL || in_argv(argv, argc, o.sender));
		CHECK(o.fullname == NULL || in_argv(argv, argc, o.fullname));
		CHECK(o.site == NULL ||
		    (in_argv(argv, argc, o.site) && o.site[0] != '\0'));
	} else {
		CHECK(why != NULL && why[0] != '\0');
		CHECK(arg == NULL || in_argv(argv, argc, arg));
	}
	free(copy);
}

struct addr_check {
	size_t max;
	size_t count;
};

static int
addr_one(void *arg, const char *addr, size_t len)
{
	struct addr_check *c = arg;

	CHECK(len > 0 && len <= c->max);
	CHECK(addr != NULL);
	c->count++;
	return 0;
}

/* Feeds the whole input or byte by byte; the output goes to out. */
static enum sendmail_msg_status
filter(const char *p, size_t n, bool bytewise, bool extract, bool dots,
    struct buf *out, struct buf *rcpts)
{
	struct sendmail_msg m;
	enum sendmail_msg_status st = SENDMAIL_MSG_MORE;
	size_t i;

	sendmail_msg_init(&m, 64, 1024);
	m.extract = extract;
	m.dot_ends = dots;
	if (!bytewise)
		st = sendmail_msg_feed(&m, p, n, out);
	else
		for (i = 0; i < n && st == SENDMAIL_MSG_MORE; i++)
			st = sendmail_msg_feed(&m, p + i, 1, out);
	if (st == SENDMAIL_MSG_MORE)
		st = sendmail_msg_end(&m, out);
	if (st == SENDMAIL_MSG_DONE) {
		CHECK(m.size == out->len);
		CHECK(
		    buf_append(rcpts, m.rcpts.data != NULL ? m.rcpts.data : "",
		        m.rcpts.len) == 0);
	}
	sendmail_msg_free(&m);
	return st;
}

static void
check_output(const struct buf *out, size_t n, bool in_headers_bcc_free)
{
	size_t i, line = 0;

	CHECK(out->len <= n + 2);
	if (out->len > 0)
		CHECK(out->data[out->len - 1] == '\n');
	for (i = 0; i < out->len; i++) {
		if (out->data[i] != '\n')
			continue;
		if (i == line) /* the empty line: the headers end */
			break;
		if (in_headers_bcc_free)
			CHECK(i - line < 4 ||
			    !ascii_eq_n(out->data + line, "bcc:", 4));
		line = i + 1;
	}
}

static void
fuzz_msg(const char *p, size_t n, unsigned mode)
{
	struct buf a, b, ra, rb;
	enum sendmail_msg_status s1, s2;
	bool extract = mode & 1, dots = mode & 2;

	buf_init(&a, 2 * n + 256);
	buf_init(&b, 2 * n + 256);
	buf_init(&ra, 4096);
	buf_init(&rb, 4096);
	s1 = filter(p, n, false, extract, dots, &a, &ra);
	s2 = filter(p, n, true, extract, dots, &b, &rb);
	CHECK(s1 == s2);
	if (s1 == SENDMAIL_MSG_DONE) {
		CHECK(a.len == b.len &&
		    (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
		CHECK(ra.len == rb.len &&
		    (ra.len == 0 || memcmp(ra.data, rb.data, ra.len) == 0));
		check_output(&a, n, true);
	}
	buf_free(&a);
	buf_free(&b);
	buf_free(&ra);
	buf_free(&rb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct addr_check c = { size, 0 };

	fuzz_args(p, size);
	(void)!sendmail_addr_list(p, size, addr_one, &c);
	fuzz_msg(p, size, size > 0 ? data[0] & 3 : 0);
	return 0;
}
