/*
 * Unit tests for the IMAP command reader (imap_parse.c): framing of lines
 * and literals ({n}, {n+}, ~{n}), LITERAL- (RFC 7888 4), refusing and
 * streaming literals, skipping bad commands, line mode, every limit at
 * max-1 / max / max+1, and feeding in every chunking. The arguments of the
 * commands are checked in test_imap_command.c.
 */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "imap_test.h"
#include "lib/buf.h"
#include "lib/mw.h"

struct frame_case {
	const char *label;
	const char *in;
	size_t len;
	enum imap_read ev;
	enum imap_err_code code; /* for IMAP_READ_ERROR */
	const char *tag;         /* NULL: untagged */
};

// clang-format off
static const struct frame_case frame_cases[] = {
	{ "simple", S("a001 NOOP\r\n"), IMAP_READ_COMMAND, 0, "a001" },
	{ "lower case", S("a001 noop\r\n"), IMAP_READ_COMMAND, 0, "a001" },
	{ "mixed case", S("a001 NoOp\r\n"), IMAP_READ_COMMAND, 0, "a001" },
	{ "tag with ]", S("a] NOOP\r\n"), IMAP_READ_COMMAND, 0, "a]" },
	{ "tag of symbols", S("!#$&'-./:;<=>?@[^_`|}~ NOOP\r\n"),
	  IMAP_READ_COMMAND, 0, "!#$&'-./:;<=>?@[^_`|}~" },
	{ "bare LF", S("a NOOP\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, "a" },
	{ "CR without LF", S("a NO\rOP\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD,
	  "a" },
	{ "NUL in line", S("a NO\0OP\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, "a" },
	{ "empty line", S("\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, NULL },
	{ "tag only", S("a\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, NULL },
	{ "tag and space", S("a \r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, "a" },
	{ "plus in tag", S("a+b NOOP\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, NULL },
	{ "plus tag", S("+ NOOP\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, NULL },
	{ "star tag", S("* NOOP\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, NULL },
	{ "8-bit tag", S("\xc3\xa9 NOOP\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD,
	  NULL },
	{ "two spaces", S("a  NOOP\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, "a" },
	{ "tab", S("a\tNOOP\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, NULL },
	{ "trailing space", S("a NOOP \r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD,
	  "a" },
	{ "unknown", S("a FROB\r\n"), IMAP_READ_ERROR, IMAP_ERR_UNKNOWN, "a" },
	{ "8-bit name", S("a NO\xc3\xa9P\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD,
	  "a" },
	{ "UID NOOP", S("a UID NOOP\r\n"), IMAP_READ_ERROR, IMAP_ERR_UNKNOWN,
	  "a" },
	{ "UID alone", S("a UID\r\n"), IMAP_READ_ERROR, IMAP_ERR_BAD, "a" },
	{ "literal", S("a LOGIN {3}\r\nabc {1}\r\nx\r\n"), IMAP_READ_COMMAND,
	  0, "a" },
	{ "literal+", S("a LOGIN {3+}\r\nabc {1+}\r\nx\r\n"),
	  IMAP_READ_COMMAND, 0, "a" },
	{ "empty literal", S("a LOGIN {0}\r\n {0}\r\n\r\n"),
	  IMAP_READ_COMMAND, 0, "a" },
	{ "literal with CRLF inside", S("a LOGIN {4}\r\na\r\nb x\r\n"),
	  IMAP_READ_COMMAND, 0, "a" },
	{ "literal with 8-bit", S("a LOGIN {2}\r\n\xff\x80 x\r\n"),
	  IMAP_READ_COMMAND, 0, "a" },
	{ "literal, leading zeros", S("a LOGIN {003}\r\nabc x\r\n"),
	  IMAP_READ_COMMAND, 0, "a" },
	{ "NUL in literal", S("a LOGIN {3}\r\na\0c x\r\n"), IMAP_READ_ERROR,
	  IMAP_ERR_BAD, "a" },
	{ "literal8 in LOGIN", S("a LOGIN ~{3}\r\nabc x\r\n"),
	  IMAP_READ_ERROR, IMAP_ERR_BAD, "a" },
	{ "literal8 in APPEND", S("a APPEND x ~{3}\r\na\0c\r\n"),
	  IMAP_READ_COMMAND, 0, "a" },
	{ "literal not at line end", S("a LOGIN {3} x\r\n"), IMAP_READ_ERROR,
	  IMAP_ERR_BAD, "a" },
	{ "literal size 2^63", S("a LOGIN {9223372036854775808}\r\n"),
	  IMAP_READ_ERROR, IMAP_ERR_BAD, "a" },
	{ "literal size 2^64+", S("a LOGIN {99999999999999999999}\r\n"),
	  IMAP_READ_ERROR, IMAP_ERR_BAD, "a" },
	{ "literal over", S("a LOGIN {101}\r\n"), IMAP_READ_LITERAL, 0, "a" },
	{ "literal short", S("a LOGIN {5}\r\nabc\r\n"), IMAP_READ_MORE, 0,
	  "a" },
	/* RFC 9051 7.5: BAD instead of a continuation */
	{ "literal for unknown", S("a FROB {5}\r\n"), IMAP_READ_ERROR,
	  IMAP_ERR_UNKNOWN, "a" },
	{ "literal for NOOP", S("a NOOP {5}\r\n"), IMAP_READ_ERROR,
	  IMAP_ERR_BAD, "a" },
	{ "literal for EXPUNGE", S("a EXPUNGE {5}\r\n"), IMAP_READ_ERROR,
	  IMAP_ERR_BAD, "a" },
	{ "literal for UID SELECT", S("a UID SELECT {5}\r\n"),
	  IMAP_READ_ERROR, IMAP_ERR_UNKNOWN, "a" },
	{ "literal for bad tag", S("a+ LOGIN {5}\r\n"), IMAP_READ_ERROR,
	  IMAP_ERR_BAD, NULL },
	{ "literal glued to name", S("a LOGIN{5}\r\n"), IMAP_READ_ERROR,
	  IMAP_ERR_BAD, "a" },
	{ "literal for UID EXPUNGE", S("a UID EXPUNGE {1}\r\n1\r\n"),
	  IMAP_READ_ERROR, IMAP_ERR_BAD, "a" },
};
// clang-format on

static void
test_imap_reader_frames_table(void **state)
{
	size_t i, chunk;

	for (i = 0; i < MW_NELEM(frame_cases); i++) {
		const struct frame_case *c = &frame_cases[i];

		for (chunk = 0; chunk <= c->len; chunk++) {
			struct imap_parse_opts opts = { false, true };
			struct imap_reader *r =
			    imap_reader_new(&imap_test_lim, &opts);
			struct imap_test_run run =
			    imap_test_feed(r, c->in, c->len, chunk);
			enum imap_read want = c->ev;

			if (want ==
			    IMAP_READ_LITERAL) /* refused by the helper */
				assert_true(run.refused);
			else if (run.ev != want)
				fail_msg("%s (chunk %zu): event %d, want %d",
				    c->label, chunk, run.ev, want);
			if (want == IMAP_READ_ERROR) {
				if (run.err.code != c->code)
					fail_msg("%s: error %d (%s), want %d",
					    c->label, run.err.code,
					    run.err.text, c->code);
				if (c->tag == NULL && run.tag.n != 0)
					fail_msg("%s: tag %.*s, want none",
					    c->label, (int)run.tag.n,
					    run.tag.p);
				if (c->tag != NULL)
					assert_slice(run.tag, c->tag);
			}
			if (want == IMAP_READ_COMMAND) {
				assert_slice(run.cmd->tag, c->tag);
				assert_int_equal(run.used, c->len);
			}
			imap_reader_free(&r);
		}
	}
}

/* What a sequence of commands gives, one event per line of out. */
static void
run_events(struct imap_reader *r, const char *in, size_t n, size_t chunk,
    struct buf *out)
{
	size_t pos = 0, used, len;
	struct imap_slice tag, d;
	const struct imap_parse_err *err;
	enum imap_read ev;
	bool last;

	while (pos < n) {
		len = n - pos;
		if (chunk > 0 && len > chunk)
			len = chunk;
		ev = imap_reader_feed(r, in + pos, len, &used);
		pos += used;
		switch (ev) {
		case IMAP_READ_MORE:
			if (pos == n)
				return;
			break;
		case IMAP_READ_LITERAL:
			if (imap_reader_literal(r)->over) {
				imap_reader_literal_refuse(r);
				assert_int_equal(
				    buf_printf(out, "refuse %llu\n",
				        (unsigned long long)imap_reader_literal(
				            r)
				            ->size),
				    0);
			} else
				assert_int_equal(imap_reader_literal_take(
				                     r, IMAP_LITERAL_KEEP),
				    0);
			break;
		case IMAP_READ_DATA:
			d = imap_reader_data(r, &last);
			assert_int_equal(buf_append(out, d.p, d.n), 0);
			break;
		case IMAP_READ_COMMAND:
			assert_int_equal(
			    buf_printf(out, "command %.*s %s\n",
			        (int)imap_reader_command(r)->tag.n,
			        imap_reader_command(r)->tag.p,
			        imap_cmd_name(imap_reader_command(r)->id)),
			    0);
			break;
		case IMAP_READ_LINE:
			d = imap_reader_line(r);
			assert_int_equal(
			    buf_printf(out, "line %.*s\n", (int)d.n, d.p), 0);
			break;
		case IMAP_READ_ERROR:
			err = imap_reader_error(r, &tag);
			assert_int_equal(
			    buf_printf(out, "error %.*s %d%s\n", (int)tag.n,
			        tag.p, err->code, err->fatal ? " fatal" : ""),
			    0);
			if (err->fatal)
				return; /* the session closes */
			break;
		}
	}
}

static void
check_events(const struct imap_parse_opts *opts, const char *in, size_t n,
    const char *want)
{
	size_t chunk;

	for (chunk = 0; chunk <= n; chunk++) {
		struct imap_reader *r = imap_reader_new(&imap_test_lim, opts);
		struct buf out;

		buf_init(&out, 1 << 20);
		run_events(r, in, n, chunk, &out);
		if (strcmp(buf_cstr(&out), want) != 0)
			fail_msg("chunk %zu: got\n%s\nwant\n%s", chunk,
			    buf_cstr(&out), want);
		buf_free(&out);
		imap_reader_free(&r);
	}
}

static const struct imap_parse_opts opts_plus = { false, true };
static const struct imap_parse_opts opts_minus = { false, false };

static void
test_imap_reader_several_commands(void **state)
{
	check_events(&opts_plus, S("a NOOP\r\nb LOGOUT\r\nc CAPABILITY\r\n"),
	    "command a NOOP\ncommand b LOGOUT\ncommand c CAPABILITY\n");
}

/* RFC 9051 7.5: a refused synchronizing literal is never sent; the next
 * line is a new command. */
static void
test_imap_reader_refuse_sync_literal(void **state)
{
	struct imap_reader *r = imap_reader_new(&imap_test_lim, &opts_plus);
	struct buf out;
	struct imap_slice tag;
	size_t used;

	check_events(&opts_plus, S("a LOGIN {101}\r\nb NOOP\r\n"),
	    "refuse 101\ncommand b NOOP\n");
	/* the reply for the refusal: tagged NO [TOOBIG] */
	assert_int_equal(imap_reader_feed(r, S("a7 LOGIN {101}\r\n"), &used),
	    IMAP_READ_LITERAL);
	imap_reader_literal_refuse(r);
	buf_init(&out, 256);
	assert_int_equal(
	    imap_parse_err_reply(imap_reader_error(r, &tag), tag, &out), 0);
	assert_string_equal(
	    buf_cstr(&out), "a7 NO [TOOBIG] Literal too big\r\n");
	buf_free(&out);
	imap_reader_free(&r);
}

/* A refused non-synchronizing literal is skipped, then its command. */
static void
test_imap_reader_refuse_nonsync_literal(void **state)
{
	char in[400];
	int n;

	n = snprintf(in, sizeof(in),
	    "a LOGIN {101+}\r\n%0101d {2+}\r\nxy\r\n"
	    "b NOOP\r\n",
	    0);
	check_events(&opts_plus, in, (size_t)n, "refuse 101\ncommand b NOOP\n");
}

/* RFC 7888 4: under LITERAL-, {4096+} is fine and {4097+} a BAD [TOOBIG];
 * its octets are skipped. */
static void
test_imap_reader_literal_minus(void **state)
{
	static const struct imap_limits lim = { 200, 5000, 10000, 50, 5,
		65536 };
	char *in = malloc(5000);
	size_t n;
	int k;

	for (k = 4095; k <= 4097; k++) {
		struct imap_reader *r = imap_reader_new(&lim, &opts_minus);
		struct buf out;

		n = (size_t)snprintf(in, 100, "a LOGIN {%d+}\r\n", k);
		memset(in + n, 'x', (size_t)k);
		n += (size_t)k;
		memcpy(in + n, " p\r\nb NOOP\r\n", 12);
		n += 12;
		buf_init(&out, 4096);
		run_events(r, in, n, 0, &out);
		assert_string_equal(buf_cstr(&out),
		    k <= 4096 ? "command a LOGIN\ncommand b NOOP\n"
		              : "error a 4\ncommand b NOOP\n");
		buf_free(&out);
		imap_reader_free(&r);
	}
	free(in);
}

/* A synchronizing literal is never limited by LITERAL-. */
static void
test_imap_reader_literal_minus_sync_ok(void **state)
{
	check_events(
	    &opts_minus, S("a LOGIN {5}\r\nabcde x\r\n"), "command a LOGIN\n");
}

/* literal_max 100: 99 and 100 are kept, 101 is over. */
static void
test_imap_reader_literal_limit(void **state)
{
	char in[300];
	int k, n;

	for (k = 99; k <= 101; k++) {
		/* a refused synchronizing literal is never sent */
		n = k <= 100 ? snprintf(in, sizeof(in),
		                   "a LOGIN {%d}\r\n%0*d x\r\n", k, k, 0)
		             : snprintf(in, sizeof(in), "a LOGIN {%d}\r\n", k);
		check_events(&opts_plus, in, (size_t)n,
		    k <= 100 ? "command a LOGIN\n" : "refuse 101\n");
	}
}

/* line_max 200 (CRLF included): 199 and 200 are fine, 201 is BAD
 * [TOOBIG]; the rest of the line is skipped. */
static void
test_imap_reader_line_limit(void **state)
{
	char in[400];
	int k, n;

	for (k = 199; k <= 201; k++) {
		/* "a LOGIN x " is 10, CRLF 2 */
		n = snprintf(
		    in, sizeof(in), "a LOGIN x %0*d\r\nb NOOP\r\n", k - 12, 0);
		check_events(&opts_plus, in, (size_t)n,
		    k <= 200 ? "command a LOGIN\ncommand b NOOP\n"
		             : "error a 4\ncommand b NOOP\n");
	}
}

/* A line limit below the tag peek (65 bytes): the line's LF still ends
 * the skip. */
static void
test_imap_reader_tiny_line_limit(void **state)
{
	static const struct imap_limits lim = { 20, 10, 100, 10, 3, 4096 };
	static const char in[] = "a LOGIN abcdefgh ijklmnop\r\nb NOOP\r\n";
	size_t chunk;

	for (chunk = 0; chunk < sizeof(in); chunk++) {
		struct imap_reader *r = imap_reader_new(&lim, &opts_plus);
		struct buf out;

		buf_init(&out, 4096);
		run_events(r, in, sizeof(in) - 1, chunk, &out);
		assert_string_equal(
		    buf_cstr(&out), "error a 4\ncommand b NOOP\n");
		buf_free(&out);
		imap_reader_free(&r);
	}
}

/* An overlong line that ends with a non-synchronizing literal: the
 * literal is skipped too. */
static void
test_imap_reader_long_line_then_literal(void **state)
{
	char in[600];
	int n;

	n = snprintf(in, sizeof(in),
	    "a LOGIN %0250d {8+}\r\nb NOOP\r\n x\r\n"
	    "c NOOP\r\n",
	    0);
	check_events(&opts_plus, in, (size_t)n, "error a 4\ncommand c NOOP\n");
}

/* command_max 1000: literals add up. */
static void
test_imap_reader_command_limit(void **state)
{
	struct buf in;
	int i;

	buf_init(&in, 1 << 20);
	assert_int_equal(buf_append_str(&in, "a ID ("), 0);
	for (i = 0; i < 12; i++)
		assert_int_equal(buf_printf(&in, "{90+}\r\n%090d ", i), 0);
	assert_int_equal(buf_append_str(&in, "NIL)\r\nb NOOP\r\n"), 0);
	check_events(
	    &opts_plus, in.data, in.len, "refuse 90\ncommand b NOOP\n");
	buf_free(&in);
}

/* args_max 50 literals at most. */
static void
test_imap_reader_too_many_literals(void **state)
{
	struct buf in;
	int i;

	buf_init(&in, 1 << 20);
	assert_int_equal(buf_append_str(&in, "a SEARCH"), 0);
	for (i = 0; i < 51; i++)
		assert_int_equal(buf_append_str(&in, " TEXT {0+}\r\n"), 0);
	assert_int_equal(buf_append_str(&in, "\r\nb NOOP\r\n"), 0);
	check_events(
	    &opts_plus, in.data, in.len, "error a 5\ncommand b NOOP\n");
	buf_free(&in);
}

/* A size past 2^63 - 1 on a non-synchronizing literal: the next command
 * cannot be found, so the error is fatal. */
static void
test_imap_reader_huge_nonsync_is_fatal(void **state)
{
	struct imap_reader *r = imap_reader_new(&imap_test_lim, &opts_plus);
	struct buf out;

	buf_init(&out, 4096);
	run_events(r, S("a LOGIN {99999999999999999999+}\r\n"), 0, &out);
	assert_string_equal(buf_cstr(&out), "error a 1 fatal\n");
	buf_free(&out);
	imap_reader_free(&r);
}

/* While skipping a bad command, a literal announcement is found however
 * many leading zeros its size has; an unreadable size is fatal. */
static void
test_imap_reader_skip_finds_padded_literal(void **state)
{
	char in[600];
	int n;

	n = snprintf(in, sizeof(in),
	    "a LOGIN %0250d {%040d+}\r\nb NOOP\r\n x\r\nc NOOP\r\n", 0, 8);
	check_events(&opts_plus, in, (size_t)n, "error a 4\ncommand c NOOP\n");
	n = snprintf(in, sizeof(in),
	    "a LOGIN %0250d {99999999999999999999+}\r\nb NOOP\r\n", 0);
	check_events(&opts_plus, in, (size_t)n, "error a 4\nerror a 1 fatal\n");
	/* synchronizing: nothing follows, the next line is a command */
	n = snprintf(in, sizeof(in), "a LOGIN %0250d {8}\r\nc NOOP\r\n", 0);
	check_events(&opts_plus, in, (size_t)n, "error a 4\ncommand c NOOP\n");
	/* not at the end of the line: no literal */
	n = snprintf(in, sizeof(in), "a LOGIN %0250d {8+} x\r\nc NOOP\r\n", 0);
	check_events(&opts_plus, in, (size_t)n, "error a 4\ncommand c NOOP\n");
}

/* APPEND with a streamed literal: chunks in order, nothing stored. */
static void
test_imap_reader_stream_literal(void **state)
{
	char in[2000], data[1000];
	size_t chunk, n, pos, used, k;
	int len;

	for (k = 0; k < sizeof(data); k++)
		data[k] = (char)('a' + k % 26);
	len = snprintf(in, sizeof(in), "a APPEND INBOX (\\Seen) {1000}\r\n");
	memcpy(in + len, data, sizeof(data));
	n = (size_t)len + sizeof(data);
	memcpy(in + n, " ~{0}\r\n\r\n", 9);
	n += 9;
	for (chunk = 1; chunk <= n; chunk += 7) {
		struct imap_reader *r =
		    imap_reader_new(&imap_test_lim, &opts_plus);
		const struct imap_command *cmd = NULL;
		struct buf got;
		struct imap_slice d;
		bool last;
		size_t lits = 0, lasts = 0;

		buf_init(&got, 1 << 20);
		for (pos = 0; pos < n && cmd == NULL;) {
			k = n - pos < chunk ? n - pos : chunk;
			switch (imap_reader_feed(r, in + pos, k, &used)) {
			case IMAP_READ_LITERAL:
				assert_true(imap_reader_literal(r)->size ==
				    (lits ? 0 : 1000));
				assert_slice(imap_reader_name(r), "APPEND");
				assert_true(
				    imap_reader_literal(r)->append_message);
				assert_int_equal(imap_reader_literal_take(
				                     r, IMAP_LITERAL_STREAM),
				    0);
				lits++;
				break;
			case IMAP_READ_DATA:
				d = imap_reader_data(r, &last);
				assert_int_equal(buf_append(&got, d.p, d.n), 0);
				lasts += last;
				break;
			case IMAP_READ_COMMAND:
				cmd = imap_reader_command(r);
				break;
			case IMAP_READ_MORE:
				break;
			default:
				fail_msg("chunk %zu: unexpected event", chunk);
			}
			pos += used;
		}
		assert_non_null(cmd);
		assert_int_equal(lits, 2);
		assert_int_equal(lasts, 2);
		assert_int_equal(got.len, sizeof(data));
		assert_memory_equal(got.data, data, sizeof(data));
		assert_int_equal(cmd->id, IMAP_CMD_APPEND);
		assert_int_equal(cmd->u.append.n, 2);
		assert_true(cmd->u.append.msgs[0].streamed);
		assert_true(cmd->u.append.msgs[0].size == 1000);
		assert_int_equal(
		    cmd->u.append.msgs[0].flags.sys, IMAP_FLAG_SEEN);
		assert_true(cmd->u.append.msgs[1].binary);
		assert_int_equal(cmd->u.append.msgs[1].literal, 1);
		buf_free(&got);
		imap_reader_free(&r);
	}
}

/* Only APPEND's messages are append_message, not its mailbox name */
static void
test_imap_reader_append_message_flag(void **state)
{
	static const struct {
		const char *in;
		bool want;
	} cases[] = {
		{ "a APPEND {5}\r\n", false },
		{ "a APPEND INBOX {5}\r\n", true },
		{ "a APPEND INBOX ~{5}\r\n", true },
		{ "a APPEND INBOX (\\Seen) {5}\r\n", true },
		{ "a UID FETCH 1 BODY[HEADER.FIELDS ({5}\r\n", false },
		{ "a LOGIN {5}\r\n", false },
	};
	size_t i, used;

	for (i = 0; i < MW_NELEM(cases); i++) {
		struct imap_reader *r =
		    imap_reader_new(&imap_test_lim, &opts_plus);

		assert_int_equal(imap_reader_feed(r, cases[i].in,
		                     strlen(cases[i].in), &used),
		    IMAP_READ_LITERAL);
		if (imap_reader_literal(r)->append_message != cases[i].want)
			fail_msg("%s: wrong", cases[i].in);
		imap_reader_literal_refuse(r);
		imap_reader_free(&r);
	}
	/* the message after a literal mailbox name */
	{
		struct imap_reader *r =
		    imap_reader_new(&imap_test_lim, &opts_plus);
		static const char in[] = "a APPEND {5}\r\nINBOX {3}\r\n";
		size_t pos;

		assert_int_equal(imap_reader_feed(r, in, sizeof(in) - 1, &used),
		    IMAP_READ_LITERAL);
		pos = used;
		assert_int_equal(
		    imap_reader_literal_take(r, IMAP_LITERAL_KEEP), 0);
		assert_int_equal(
		    imap_reader_feed(r, in + pos, sizeof(in) - 1 - pos, &used),
		    IMAP_READ_LITERAL);
		assert_true(imap_reader_literal(r)->append_message);
		imap_reader_literal_refuse(r);
		imap_reader_free(&r);
	}
}

/* KEEP is refused for a literal that is over; STREAM is still possible. */
static void
test_imap_reader_take_over_literal(void **state)
{
	struct imap_reader *r = imap_reader_new(&imap_test_lim, &opts_plus);
	size_t used;

	assert_int_equal(imap_reader_feed(r, S("a LOGIN {500}\r\n"), &used),
	    IMAP_READ_LITERAL);
	assert_true(imap_reader_literal(r)->over);
	assert_true(imap_reader_literal(r)->sync);
	assert_int_equal(imap_reader_literal_take(r, IMAP_LITERAL_KEEP), -1);
	assert_int_equal(imap_reader_literal_take(r, IMAP_LITERAL_STREAM), 0);
	imap_reader_free(&r);
}

/* A streamed literal where a kept string is needed: NO [TOOBIG]. */
static void
test_imap_reader_streamed_login_is_toobig(void **state)
{
	struct imap_reader *r = imap_reader_new(&imap_test_lim, &opts_plus);
	struct imap_slice tag;
	size_t used, pos = 0;
	enum imap_read ev;
	static const char in[] = "a LOGIN {3}\r\nabc x\r\n";

	ev = imap_reader_feed(r, in, sizeof(in) - 1, &used);
	assert_int_equal(ev, IMAP_READ_LITERAL);
	pos += used;
	assert_int_equal(imap_reader_literal_take(r, IMAP_LITERAL_STREAM), 0);
	do {
		ev = imap_reader_feed(r, in + pos, sizeof(in) - 1 - pos, &used);
		pos += used;
	} while (ev == IMAP_READ_DATA);
	assert_int_equal(ev, IMAP_READ_ERROR);
	assert_int_equal(imap_reader_error(r, &tag)->code, IMAP_ERR_TOOBIG);
	imap_reader_free(&r);
}

/* RFC 9051 6.3.13: IDLE, then "DONE" read in line mode. */
static void
test_imap_reader_line_mode(void **state)
{
	struct imap_reader *r = imap_reader_new(&imap_test_lim, &opts_plus);
	static const char in[] = "a IDLE\r\ndone\r\nb NOOP\r\n";
	size_t used, pos = 0;

	assert_int_equal(
	    imap_reader_feed(r, in, sizeof(in) - 1, &used), IMAP_READ_COMMAND);
	assert_int_equal(imap_reader_command(r)->id, IMAP_CMD_IDLE);
	pos += used;
	imap_reader_want_line(r);
	assert_int_equal(
	    imap_reader_feed(r, in + pos, sizeof(in) - 1 - pos, &used),
	    IMAP_READ_LINE);
	assert_true(imap_idle_done(imap_reader_line(r)));
	pos += used;
	assert_int_equal(
	    imap_reader_feed(r, in + pos, sizeof(in) - 1 - pos, &used),
	    IMAP_READ_COMMAND);
	assert_int_equal(imap_reader_command(r)->id, IMAP_CMD_NOOP);
	imap_reader_free(&r);
}

static void
test_imap_idle_done(void **state)
{
	assert_true(imap_idle_done((struct imap_slice){ S("DONE") }));
	assert_true(imap_idle_done((struct imap_slice){ S("Done") }));
	assert_false(imap_idle_done((struct imap_slice){ S("DONE ") }));
	assert_false(imap_idle_done((struct imap_slice){ S("DON") }));
	assert_false(imap_idle_done((struct imap_slice){ S("a DONE") }));
}

/* AUTHENTICATE responses may be long base64 lines; line mode keeps
 * literals unparsed and still bounds the line. */
static void
test_imap_reader_line_mode_limits(void **state)
{
	struct imap_reader *r = imap_reader_new(&imap_test_lim, &opts_plus);
	char in[600];
	size_t used, pos = 0, n;
	enum imap_read ev;

	imap_reader_want_line(r);
	n = (size_t)snprintf(in, sizeof(in), "{5}\r\n%0300d\r\nb NOOP\r\n", 0);
	assert_int_equal(imap_reader_feed(r, in, n, &used), IMAP_READ_LINE);
	assert_slice(imap_reader_line(r), "{5}");
	pos += used;
	imap_reader_want_line(r);
	ev = imap_reader_feed(r, in + pos, n - pos, &used);
	assert_int_equal(ev, IMAP_READ_ERROR);
	pos += used;
	do {
		ev = imap_reader_feed(r, in + pos, n - pos, &used);
		pos += used;
	} while (ev == IMAP_READ_MORE && pos < n);
	assert_int_equal(ev, IMAP_READ_COMMAND);
	assert_int_equal(imap_reader_command(r)->id, IMAP_CMD_NOOP);
	imap_reader_free(&r);
}

/* After an error the reader skips to the end of that command, following
 * its non-synchronizing literals. */
static void
test_imap_reader_error_skips_command(void **state)
{
	check_events(&opts_plus, S("a FROB {6+}\r\nb NO\r\n x\r\nc NOOP\r\n"),
	    "error a 2\ncommand c NOOP\n");
	check_events(&opts_plus,
	    S("a LOGIN \"x\\y\" {6+}\r\nb NO\r\n\r\nc NOOP\r\n"),
	    "error a 1\ncommand c NOOP\n");
	check_events(&opts_plus, S("a NO\0OP {3+}\r\nb\r\n\r\nc NOOP\r\n"),
	    "error a 1\ncommand c NOOP\n");
}

static void
test_imap_parse_err_reply(void **state)
{
	struct imap_parse_err e = { IMAP_ERR_TOOBIG, "Literal too big", false };
	struct buf out;

	buf_init(&out, 4096);
	assert_int_equal(
	    imap_parse_err_reply(&e, (struct imap_slice){ S("a1") }, &out), 0);
	assert_string_equal(
	    buf_cstr(&out), "a1 NO [TOOBIG] Literal too big\r\n");
	buf_reset(&out);
	e = (struct imap_parse_err){ IMAP_ERR_BAD, "Missing space", false };
	assert_int_equal(
	    imap_parse_err_reply(&e, (struct imap_slice){ NULL, 0 }, &out), 0);
	assert_string_equal(buf_cstr(&out), "* BAD Missing space\r\n");
	buf_reset(&out);
	e = (struct imap_parse_err){ IMAP_ERR_BADCHARSET, "x", false };
	assert_int_equal(
	    imap_parse_err_reply(&e, (struct imap_slice){ S("t") }, &out), 0);
	assert_string_equal(
	    buf_cstr(&out), "t NO [BADCHARSET (UTF-8 US-ASCII)] x\r\n");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_reader_frames_table),
		cmocka_unit_test(test_imap_reader_several_commands),
		cmocka_unit_test(test_imap_reader_refuse_sync_literal),
		cmocka_unit_test(test_imap_reader_refuse_nonsync_literal),
		cmocka_unit_test(test_imap_reader_literal_minus),
		cmocka_unit_test(test_imap_reader_literal_minus_sync_ok),
		cmocka_unit_test(test_imap_reader_literal_limit),
		cmocka_unit_test(test_imap_reader_line_limit),
		cmocka_unit_test(test_imap_reader_tiny_line_limit),
		cmocka_unit_test(test_imap_reader_long_line_then_literal),
		cmocka_unit_test(test_imap_reader_command_limit),
		cmocka_unit_test(test_imap_reader_too_many_literals),
		cmocka_unit_test(test_imap_reader_huge_nonsync_is_fatal),
		cmocka_unit_test(test_imap_reader_skip_finds_padded_literal),
		cmocka_unit_test(test_imap_reader_stream_literal),
		cmocka_unit_test(test_imap_reader_take_over_literal),
		cmocka_unit_test(test_imap_reader_append_message_flag),
		cmocka_unit_test(test_imap_reader_streamed_login_is_toobig),
		cmocka_unit_test(test_imap_reader_line_mode),
		cmocka_unit_test(test_imap_idle_done),
		cmocka_unit_test(test_imap_reader_line_mode_limits),
		cmocka_unit_test(test_imap_reader_error_skips_command),
		cmocka_unit_test(test_imap_parse_err_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
