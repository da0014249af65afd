/*
 * Unit tests for the FETCH attribute parser (imap_fetch_parse.c): macros
 * (RFC 9051 6.4.5), every fetch-att of RFC 9051 9 and RFC 3501 9, sections
 * with part numbers, HEADER.FIELDS lists, MIME only after a part, partials,
 * BINARY / BINARY.PEEK / BINARY.SIZE (RFC 3516), the CHANGEDSINCE modifier
 * (RFC 7162), and the item, field and part-number limits. Items are
 * compared as text, in the grammar's own spelling.
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

static const char *const att_names[] = {
	[IMAP_FA_ENVELOPE] = "ENVELOPE",
	[IMAP_FA_FLAGS] = "FLAGS",
	[IMAP_FA_INTERNALDATE] = "INTERNALDATE",
	[IMAP_FA_RFC822_SIZE] = "RFC822.SIZE",
	[IMAP_FA_RFC822] = "RFC822",
	[IMAP_FA_RFC822_HEADER] = "RFC822.HEADER",
	[IMAP_FA_RFC822_TEXT] = "RFC822.TEXT",
	[IMAP_FA_BODY] = "BODY",
	[IMAP_FA_BODYSTRUCTURE] = "BODYSTRUCTURE",
	[IMAP_FA_UID] = "UID",
	[IMAP_FA_BODY_SECTION] = "BODY",
	[IMAP_FA_BINARY] = "BINARY",
	[IMAP_FA_BINARY_SIZE] = "BINARY.SIZE",
};

static const char *const text_names[] = {
	[IMAP_SECTION_ALL] = "",
	[IMAP_SECTION_HEADER] = "HEADER",
	[IMAP_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
	[IMAP_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
	[IMAP_SECTION_TEXT] = "TEXT",
	[IMAP_SECTION_MIME] = "MIME",
};

static void
dump_item(const struct imap_fetch_item *it, struct buf *out)
{
	size_t i;
	int rc = buf_append_str(out, att_names[it->att]);

	if (it->peek)
		rc |= buf_append_str(out, ".PEEK");
	if (it->att == IMAP_FA_BODY_SECTION || it->att == IMAP_FA_BINARY ||
	    it->att == IMAP_FA_BINARY_SIZE) {
		rc |= buf_append_char(out, '[');
		for (i = 0; i < it->nparts; i++)
			rc |= buf_printf(
			    out, "%s%u", i ? "." : "", (unsigned)it->parts[i]);
		if (it->nparts > 0 && it->text != IMAP_SECTION_ALL)
			rc |= buf_append_char(out, '.');
		rc |= buf_append_str(out, text_names[it->text]);
		if (it->nfields > 0) {
			rc |= buf_append_str(out, " (");
			for (i = 0; i < it->nfields; i++)
				rc |= buf_printf(out, "%s%.*s", i ? " " : "",
				    (int)it->fields[i].n, it->fields[i].p);
			rc |= buf_append_char(out, ')');
		}
		rc |= buf_append_char(out, ']');
	}
	if (it->partial)
		rc |= buf_printf(out, "<%llu.%llu>",
		    (unsigned long long)it->offset,
		    (unsigned long long)it->count);
	assert_int_equal(rc, 0);
}

static void
dump(const struct imap_fetch *f, struct buf *out)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (i > 0)
			assert_int_equal(buf_append_char(out, ' '), 0);
		dump_item(&f->items[i], out);
	}
	if (f->has_changedsince)
		assert_int_equal(buf_printf(out, " CHANGEDSINCE %llu",
		                     (unsigned long long)f->changedsince),
		    0);
}

struct fetch_case {
	const char *in; /* after "a FETCH 1 " */
	size_t len;
	const char *want; /* NULL: BAD */
};

// clang-format off
static const struct fetch_case fetch_cases[] = {
	/* RFC 9051 6.4.5 macros */
	{ S("ALL"), "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE" },
	{ S("FAST"), "FLAGS INTERNALDATE RFC822.SIZE" },
	{ S("FULL"), "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY" },
	{ S("fast"), "FLAGS INTERNALDATE RFC822.SIZE" },
	{ S("(ALL)"), NULL },
	{ S("(FLAGS ALL)"), NULL },
	{ S("ALL FLAGS"), NULL },
	/* single items, with and without parentheses */
	{ S("FLAGS"), "FLAGS" },
	{ S("(FLAGS)"), "FLAGS" },
	{ S("uid"), "UID" },
	{ S("(ENVELOPE INTERNALDATE RFC822.SIZE UID BODYSTRUCTURE BODY)"),
	  "ENVELOPE INTERNALDATE RFC822.SIZE UID BODYSTRUCTURE BODY" },
	{ S("(RFC822 RFC822.HEADER RFC822.TEXT)"),
	  "RFC822 RFC822.HEADER RFC822.TEXT" },
	{ S("(FLAGS BODY[HEADER.FIELDS (DATE FROM)])"),
	  "FLAGS BODY[HEADER.FIELDS (DATE FROM)]" },
	/* sections */
	{ S("BODY[]"), "BODY[]" },
	{ S("BODY.PEEK[]"), "BODY.PEEK[]" },
	{ S("BODY[]<0.2048>"), "BODY[]<0.2048>" },
	{ S("BODY[TEXT]<100.1>"), "BODY[TEXT]<100.1>" },
	{ S("BODY[HEADER]"), "BODY[HEADER]" },
	{ S("body.peek[header]"), "BODY.PEEK[HEADER]" },
	{ S("BODY[1]"), "BODY[1]" },
	{ S("BODY[1.2.3]"), "BODY[1.2.3]" },
	{ S("BODY[1.2.HEADER]"), "BODY[1.2.HEADER]" },
	{ S("BODY[3.TEXT]"), "BODY[3.TEXT]" },
	{ S("BODY[4.2.2.1.MIME]"), "BODY[4.2.2.1.MIME]" },
	{ S("BODY[4294967295]"), "BODY[4294967295]" },
	{ S("BODY[HEADER.FIELDS.NOT (Received X-Spam)]"),
	  "BODY[HEADER.FIELDS.NOT (Received X-Spam)]" },
	{ S("BODY.PEEK[1.HEADER.FIELDS (\"From\" {2}\r\nTo)]<0.10>"),
	  "BODY.PEEK[1.HEADER.FIELDS (From To)]<0.10>" },
	{ S("BODY[header.fields (from)]"), "BODY[HEADER.FIELDS (from)]" },
	{ S("BINARY[]"), "BINARY[]" },
	{ S("BINARY.PEEK[1.2]<0.10>"), "BINARY.PEEK[1.2]<0.10>" },
	{ S("BINARY.SIZE[1]"), "BINARY.SIZE[1]" },
	{ S("BINARY.SIZE[]"), "BINARY.SIZE[]" },
	{ S("BODY[]<9223372036854775807.9223372036854775807>"),
	  "BODY[]<9223372036854775807.9223372036854775807>" },
	{ S("FLAGS (CHANGEDSINCE 12345)"), "FLAGS CHANGEDSINCE 12345" },
	{ S("(FLAGS UID) (CHANGEDSINCE 1)"), "FLAGS UID CHANGEDSINCE 1" },
	/* errors */
	{ S("()"), NULL },
	{ S("(FLAGS )"), NULL },
	{ S("( FLAGS)"), NULL },
	{ S("(FLAGS  UID)"), NULL },
	{ S("(FLAGS"), NULL },
	{ S("FLAGS)"), NULL },
	{ S("FLAGS UID"), NULL },
	{ S("FOO"), NULL },
	{ S("FLAGSX"), NULL },
	{ S("RFC822.FOO"), NULL },
	{ S("BODY.PEEK"), NULL },
	{ S("BODY [TEXT]"), NULL },
	{ S("BODY[MIME]"), NULL },
	{ S("BODY[0]"), NULL },
	{ S("BODY[1.0]"), NULL },
	{ S("BODY[01]"), NULL },
	{ S("BODY[1.]"), NULL },
	{ S("BODY[.1]"), NULL },
	{ S("BODY[1..2]"), NULL },
	{ S("BODY[4294967296]"), NULL },
	{ S("BODY[TEXT ]"), NULL },
	{ S("BODY[ TEXT]"), NULL },
	{ S("BODY[FOO]"), NULL },
	{ S("BODY[HEADER.FIELDS]"), NULL },
	{ S("BODY[HEADER.FIELDS ()]"), NULL },
	{ S("BODY[HEADER.FIELDS (From ]"), NULL },
	{ S("BODY[HEADER.FIELDS(From)]"), NULL },
	{ S("BODY[HEADER.FIELDS (From)"), NULL },
	{ S("BODY[HEADER (From)]"), NULL },
	{ S("BODY[TEXT.MIME]"), NULL },
	{ S("BODY[1.MIME.TEXT]"), NULL },
	{ S("BODY[]<0>"), NULL },
	{ S("BODY[]<0.0>"), NULL },
	{ S("BODY[]<.10>"), NULL },
	{ S("BODY[]<-1.10>"), NULL },
	{ S("BODY[]<0.10"), NULL },
	{ S("BODY[]<9223372036854775808.1>"), NULL },
	{ S("BODY[] <0.1>"), NULL },
	{ S("BODY<0.1>"), NULL },
	{ S("BINARY"), NULL },
	{ S("BINARY[TEXT]"), NULL },
	{ S("BINARY[1.MIME]"), NULL },
	{ S("BINARY[1.HEADER]"), NULL },
	{ S("BINARY.SIZE[]<0.1>"), NULL },
	{ S("BINARY.SIZE"), NULL },
	{ S("BINARY.PEEK.SIZE[]"), NULL },
	{ S("UID[]"), NULL },
	{ S("FLAGS ()"), NULL },
	{ S("FLAGS (CHANGEDSINCE 0)"), NULL },
	{ S("FLAGS (CHANGEDSINCE)"), NULL },
	{ S("FLAGS (VANISHED)"), NULL },
	{ S("FLAGS (CHANGEDSINCE 1) "), NULL },
};
// clang-format on

static void
test_imap_fetch_table(void **state)
{
	char in[600];
	size_t i;
	struct buf out;

	buf_init(&out, 1 << 16);
	for (i = 0; i < MW_NELEM(fetch_cases); i++) {
		const struct fetch_case *c = &fetch_cases[i];
		struct imap_parse_opts opts = { false, true };
		struct imap_reader *r;
		struct imap_test_run run;
		size_t n, k;

		memcpy(in, "a FETCH 1 ", 10);
		memcpy(in + 10, c->in, c->len);
		memcpy(in + 10 + c->len, "\r\n", 2);
		n = 10 + c->len + 2;
		/* whole, byte by byte, and cut in the middle */
		for (k = 0; k < 3; k++) {
			r = imap_reader_new(&imap_test_lim, &opts);
			run = imap_test_feed_cut(
			    r, in, n, k == 1, k == 2 ? n / 2 : 0);
			if (c->want == NULL) {
				if (run.ev != IMAP_READ_ERROR)
					fail_msg("row %zu \"%s\": accepted", i,
					    c->in);
				if (run.err.code != IMAP_ERR_BAD)
					fail_msg(
					    "row %zu \"%s\": error %d (%s)", i,
					    c->in, run.err.code, run.err.text);
			} else {
				if (run.ev != IMAP_READ_COMMAND)
					fail_msg(
					    "row %zu \"%s\": error %d (%s)", i,
					    c->in, run.err.code, run.err.text);
				buf_reset(&out);
				dump(&run.cmd->u.msg.fetch, &out);
				if (strcmp(buf_cstr(&out), c->want) != 0)
					fail_msg(
					    "row %zu \"%s\": got %s, want %s",
					    i, c->in, buf_cstr(&out), c->want);
			}
			imap_reader_free(&r);
		}
	}
	buf_free(&out);
}

static struct imap_test_run
fetch_run(struct imap_reader **r, const struct buf *spec)
{
	char in[9000];
	int n =
	    snprintf(in, sizeof(in), "a UID FETCH 1:* %s\r\n", buf_cstr(spec));

	return imap_test_one_lim(r, &imap_test_lim_long, in, (size_t)n, false);
}

/* IMAP_SECTION_PARTS_MAX part numbers: 31, 32 fine, 33 refused */
static void
test_imap_fetch_parts_limit(void **state)
{
	struct imap_reader *r;
	struct imap_test_run run;
	struct buf spec;
	int k, i;

	for (k = IMAP_SECTION_PARTS_MAX - 1; k <= IMAP_SECTION_PARTS_MAX + 1;
	     k++) {
		buf_init(&spec, 4096);
		assert_int_equal(buf_append_str(&spec, "BODY[1"), 0);
		for (i = 1; i < k; i++)
			assert_int_equal(buf_append_str(&spec, ".1"), 0);
		assert_int_equal(buf_append_str(&spec, ".MIME]"), 0);
		run = fetch_run(&r, &spec);
		if (k <= IMAP_SECTION_PARTS_MAX) {
			assert_int_equal(run.ev, IMAP_READ_COMMAND);
			assert_int_equal(
			    run.cmd->u.msg.fetch.items[0].nparts, (size_t)k);
		} else {
			assert_int_equal(run.ev, IMAP_READ_ERROR);
			assert_int_equal(run.err.code, IMAP_ERR_LIMIT);
		}
		imap_reader_free(&r);
		buf_free(&spec);
	}
}

/* args_max 50: the set, the items and the field names all count */
static void
test_imap_fetch_items_limit(void **state)
{
	struct imap_reader *r;
	struct imap_test_run run;
	struct buf spec;
	int k, i;

	for (k = 48; k <= 50; k++) {
		buf_init(&spec, 8192);
		assert_int_equal(buf_append_str(&spec, "("), 0);
		for (i = 0; i < k; i++)
			assert_int_equal(
			    buf_append_str(&spec, i ? " UID" : "UID"), 0);
		assert_int_equal(buf_append_str(&spec, ")"), 0);
		run = fetch_run(&r, &spec);
		if (k <= 49)
			assert_int_equal(run.ev, IMAP_READ_COMMAND);
		else
			assert_int_equal(run.err.code, IMAP_ERR_LIMIT);
		imap_reader_free(&r);
		buf_free(&spec);
	}
	for (k = 47; k <= 49; k++) {
		buf_init(&spec, 8192);
		assert_int_equal(
		    buf_append_str(&spec, "BODY[HEADER.FIELDS ("), 0);
		for (i = 0; i < k; i++)
			assert_int_equal(
			    buf_printf(&spec, "%sF%d", i ? " " : "", i), 0);
		assert_int_equal(buf_append_str(&spec, ")]"), 0);
		run = fetch_run(&r, &spec);
		if (k <= 48) {
			assert_int_equal(run.ev, IMAP_READ_COMMAND);
			assert_int_equal(
			    run.cmd->u.msg.fetch.items[0].nfields, (size_t)k);
		} else
			assert_int_equal(run.err.code, IMAP_ERR_LIMIT);
		imap_reader_free(&r);
		buf_free(&spec);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_fetch_table),
		cmocka_unit_test(test_imap_fetch_parts_limit),
		cmocka_unit_test(test_imap_fetch_items_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
