/*
 * libFuzzer target for the POP3 command parser and the RETR/TOP encoder:
 * the input up to its first LF (a CR before it dropped) is parsed as one
 * command line under the RFC 2449 limits, and every result must stay
 * inside the line and respect the limits; the whole input is then encoded
 * as a message, in two pieces, as RETR and as TOP, and the output must
 * stay within its bound and be a well-formed multi-line response.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/pop3_encode.h"
#include "pop3/pop3_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static const struct pop3_parse_limits fuzz_lim = { 40 };

static void
check_in(struct pop3_slice s, const char *p, size_t n)
{
	if (s.n == 0)
		return;
	CHECK(s.p >= p && s.p + s.n <= p + n);
}

static void
fuzz_parse(const char *p, size_t n)
{
	const char *lf = memchr(p, '\n', n);
	struct pop3_cmd cmd;
	enum pop3_parse_result r;
	size_t len = lf != NULL ? (size_t)(lf - p) : n, i;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	r = pop3_parse_command(p, len, &fuzz_lim, &cmd);
	if (r == POP3_PARSE_EMPTY || r == POP3_PARSE_BAD_CHAR)
		return;
	check_in(cmd.keyword, p, len);
	CHECK(cmd.keyword.n > 0);
	if (r != POP3_PARSE_OK)
		return;
	CHECK(cmd.verb != POP3_VERB_UNKNOWN && cmd.verb < POP3_VERB_MAX);
	CHECK(cmd.nargs <= POP3_ARGS_MAX);
	for (i = 0; i < cmd.nargs; i++) {
		check_in(cmd.args[i], p, len);
		if (cmd.verb == POP3_VERB_USER || cmd.verb == POP3_VERB_PASS)
			continue;
		if (cmd.verb == POP3_VERB_AUTH && i == 1)
			continue;
		CHECK(cmd.args[i].n > 0 && cmd.args[i].n <= fuzz_lim.arg_max);
		CHECK(memchr(cmd.args[i].p, ' ', cmd.args[i].n) == NULL);
	}
	for (i = 0; i < cmd.nargs; i++) {
		uint64_t v;

		if (pop3_parse_number(cmd.args[i], 1, 1000, &v) == 0)
			CHECK(v >= 1 && v <= 1000);
	}
}

static void
fuzz_encode(const char *p, size_t n, bool top, uint64_t lines)
{
	struct pop3_encoder e;
	size_t cut = n / 2, o = 0, i;
	char *out = malloc(2 * n + 5);

	CHECK(out != NULL);
	pop3_encoder_init(&e, top, lines);
	o += pop3_encoder_feed(&e, p, cut, out + o);
	CHECK(o <= 2 * cut);
	o += pop3_encoder_feed(&e, p + cut, n - cut, out + o);
	CHECK(o <= 2 * n);
	o += pop3_encoder_end(&e, out + o);
	/* every LF has its CR; the response ends with CRLF "." CRLF, and
	 * no line before it is a lone "." */
	CHECK(o >= 3 && memcmp(out + o - 3, ".\r\n", 3) == 0);
	CHECK(o == 3 || (o >= 5 && out[o - 5] == '\r' && out[o - 4] == '\n'));
	for (i = 0; i < o; i++)
		if (out[i] == '\n')
			CHECK(i > 0 && out[i - 1] == '\r');
	for (i = 0; i + 3 < o; i++)
		if ((i == 0 || out[i - 1] == '\n') && out[i] == '.')
			CHECK(out[i + 1] != '\r' || i + 3 == o);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	fuzz_parse(p, size);
	fuzz_encode(p, size, false, 0);
	fuzz_encode(p, size, true, size > 0 ? data[0] % 4 : 0);
	return 0;
}
