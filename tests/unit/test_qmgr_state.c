/*
 * Unit tests for the queue manager's delivery state file (qmgr_state.c):
 * version 2 (warned, sent and why lines) encoded and decoded back, the
 * exact text written, version 1 files, every truncation and damaged byte
 * of a valid file, bad recipient indexes, bad %XX escapes, the cut of
 * long values at max-1, max and max+1, and the file itself in a queue
 * directory. Each table row is one labelled case.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/mw.h"
#include "lib/xalloc.h"
#include "queue/qmgr_private.h"
#include "queue/queue_file.h"

/* QMGR_STATE_REASON_MAX and the cut of sent addresses in qmgr_state.c */
#define REASON_MAX  1000
#define ADDRESS_MAX 2048

#define HEAD(nrcpt) "version 2\nattempts 3\nnext_retry 9\nnrcpt " nrcpt "\n"

static void
assert_state_equal(const struct qmgr_state *a, const struct qmgr_state *b)
{
	size_t i;

	assert_int_equal(a->attempts, b->attempts);
	assert_int_equal(a->next_retry, b->next_retry);
	assert_int_equal(a->nrcpt, b->nrcpt);
	assert_int_equal(a->warned, b->warned);
	for (i = 0; i < a->nrcpt; i++)
		assert_int_equal(a->done[i], b->done[i]);
	assert_string_equal(a->reason != NULL ? a->reason : "",
	    b->reason != NULL ? b->reason : "");
	assert_int_equal(a->nsent, b->nsent);
	for (i = 0; i < a->nsent; i++)
		assert_true(
		    qmgr_state_is_sent(b, a->sent[i].rcpt, a->sent[i].address));
	for (i = 0; i < a->nrcpt; i++) {
		const char *wa = a->why != NULL ? a->why[i] : NULL;
		const char *wb = b->why != NULL ? b->why[i] : NULL;

		if (wa == NULL || wb == NULL)
			assert_true(wa == wb);
		else
			assert_string_equal(wa, wb);
	}
}

/* Encodes st and decodes it into back (qmgr_state_init'ed here). */
static void
round_trip(
    const struct qmgr_state *st, struct qmgr_state *back, struct buf *text)
{
	struct buf err;

	buf_init(&err, 1024);
	buf_reset(text);
	assert_int_equal(qmgr_state_encode(st, text), 0);
	qmgr_state_init(back, st->nrcpt);
	if (qmgr_state_decode(text->data, text->len, back, &err) != 0)
		fail_msg(
		    "decode of \"%s\": %s", buf_cstr(text), buf_cstr(&err));
	assert_true(back->exists);
	buf_free(&err);
}

/* Decodes n bytes from their own allocation (ASan sees reads past the
 * end) for nrcpt recipients; returns the result, st left to the caller. */
static int
decode_n(const char *p, size_t n, size_t nrcpt, struct qmgr_state *st,
    struct buf *err)
{
	char *copy = xmalloc(n > 0 ? n : 1);
	int rc;

	memcpy(copy, p, n);
	qmgr_state_init(st, nrcpt);
	errno = 0;
	rc = qmgr_state_decode(copy, n, st, err);
	if (rc == -1)
		assert_int_equal(errno, EBADMSG);
	free(copy);
	return rc;
}

/* A state with every kind of line and hostile values. */
static void
rich_state(struct qmgr_state *st)
{
	qmgr_state_init(st, 5);
	st->attempts = 7;
	st->next_retry = 1700000300;
	st->done[1] = st->done[4] = true;
	st->warned = true;
	st->reason = xstrdup("connect to mx.example.org[192.0.2.1]:25: "
	                     "Connection timed out");
	qmgr_state_add_sent(st, 0, "bob@example.org");
	qmgr_state_add_sent(st, 3, "a b@example.org");
	qmgr_state_add_sent(st, 3, "100%@example.org");
	qmgr_state_add_sent(st, 3, "%41%zz%");
	qmgr_state_add_sent(
	    st, 2, "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.test");
	qmgr_state_add_sent(st, 2, "tab\there\r\nX-Injected: 1");
	qmgr_state_add_sent(st, 2, "\x7f\x01\xff");
	qmgr_state_add_sent(st, 4, "");
	qmgr_state_set_why(st, 0,
	    "host mx[192.0.2.1] said: 451 4.7.1 try "
	    "again\r\n(in reply to RCPT TO)");
	qmgr_state_set_why(st, 3, "50% of \xc3\xbc, then %zz");
	qmgr_state_set_why(st, 2, "");
}

static void
test_qmgr_state_v2_round_trip(void **state)
{
	struct qmgr_state st, back, again;
	struct buf text, text2;

	(void)state;
	buf_init(&text, 1 << 16);
	buf_init(&text2, 1 << 16);
	rich_state(&st);
	round_trip(&st, &back, &text);
	assert_state_equal(&st, &back);
	assert_int_equal(back.nsent, 8);
	/* every value is one line, with no raw spaces or controls */
	assert_null(strstr(buf_cstr(&text), "X-Injected: 1\n"));
	assert_non_null(
	    strstr(buf_cstr(&text), "\nsent 3 a%20b@example.org\n"));
	assert_non_null(
	    strstr(buf_cstr(&text), "\nsent 3 100%25@example.org\n"));
	assert_non_null(strstr(buf_cstr(&text), "\nsent 3 %2541%25zz%25\n"));
	assert_non_null(strstr(
	    buf_cstr(&text), "\nsent 2 tab%09here%0D%0AX-Injected:%201\n"));
	assert_non_null(strstr(buf_cstr(&text), "\nsent 2 %7F%01\xff\n"));
	assert_non_null(strstr(buf_cstr(&text), "\nsent 4 \n"));
	assert_non_null(strstr(buf_cstr(&text), "\nwhy 2 \n"));
	/* encoding what was decoded gives the same bytes */
	round_trip(&back, &again, &text2);
	assert_int_equal(text.len, text2.len);
	assert_memory_equal(text.data, text2.data, text.len);
	qmgr_state_free(&again);
	qmgr_state_free(&back);
	qmgr_state_free(&st);
	/* and freeing twice is harmless */
	qmgr_state_free(&st);
	buf_free(&text2);
	buf_free(&text);
}

/* The exact text of version 2 (the order of the optional lines). */
static void
test_qmgr_state_v2_text(void **state)
{
	static const char want[] = "version 2\n"
	                           "attempts 3\n"
	                           "next_retry 1700000300\n"
	                           "nrcpt 4\n"
	                           "done 0 2\n"
	                           "warned\n"
	                           "sent 1 bob@example.org\n"
	                           "sent 3 a%20b%25\n"
	                           "why 1 timed%20out\n"
	                           "why 3 451%204.7.1\n"
	                           "reason last?reason\n";
	static const char minimal[] = "version 2\n"
	                              "attempts 0\n"
	                              "next_retry 0\n"
	                              "nrcpt 0\n"
	                              "done\n"
	                              "reason \n";
	struct qmgr_state st;
	struct buf text;

	(void)state;
	buf_init(&text, 4096);
	qmgr_state_init(&st, 4);
	st.attempts = 3;
	st.next_retry = 1700000300;
	st.done[0] = st.done[2] = true;
	st.warned = true;
	qmgr_state_set_why(&st, 3, "451 4.7.1");
	qmgr_state_add_sent(&st, 1, "bob@example.org");
	qmgr_state_add_sent(&st, 3, "a b%");
	qmgr_state_set_why(&st, 1, "timed out");
	st.reason = xstrdup("last\nreason");
	assert_int_equal(qmgr_state_encode(&st, &text), 0);
	assert_string_equal(buf_cstr(&text), want);
	qmgr_state_free(&st);
	buf_reset(&text);
	qmgr_state_init(&st, 0);
	assert_int_equal(qmgr_state_encode(&st, &text), 0);
	assert_string_equal(buf_cstr(&text), minimal);
	qmgr_state_free(&st);
	buf_free(&text);
}

struct decode_row {
	const char *label;
	const char *text;
	bool ok;
};

// clang-format off
static const struct decode_row decode_rows[] = {
	/* version 1 (before outbound delivery) */
	{ "v1", "version 1\nattempts 2\nnext_retry 5\nnrcpt 3\n"
	  "done 0 2\nreason x y\n", true },
	{ "v1 none done", "version 1\nattempts 2\nnext_retry 5\nnrcpt 3\n"
	  "done\nreason \n", true },
	{ "v1 with warned", "version 1\nattempts 2\nnext_retry 5\nnrcpt 3\n"
	  "done\nwarned\nreason \n", false },
	{ "v1 with sent", "version 1\nattempts 2\nnext_retry 5\nnrcpt 3\n"
	  "done\nsent 0 a\nreason \n", false },
	{ "v1 with why", "version 1\nattempts 2\nnext_retry 5\nnrcpt 3\n"
	  "done\nwhy 0 a\nreason \n", false },
	/* versions */
	{ "v2 minimal", HEAD("3") "done\nreason \n", true },
	{ "v0", "version 0\nattempts 3\nnext_retry 9\nnrcpt 3\ndone\n"
	  "reason \n", false },
	{ "v3", "version 3\nattempts 3\nnext_retry 9\nnrcpt 3\ndone\n"
	  "reason \n", false },
	{ "v02", "version 02\nattempts 3\nnext_retry 9\nnrcpt 3\ndone\n"
	  "reason \n", true },
	{ "no version", "attempts 3\nnext_retry 9\nnrcpt 3\ndone\n"
	  "reason \n", false },
	{ "empty", "", false },
	/* the optional lines, in order */
	{ "all", HEAD("3") "done 1\nwarned\nsent 0 a\nsent 2 b\n"
	  "why 0 x\nwhy 2 y\nreason r\n", true },
	{ "warned alone", HEAD("3") "done\nwarned\nreason \n", true },
	{ "warned twice", HEAD("3") "done\nwarned\nwarned\nreason \n", false },
	{ "warned after sent", HEAD("3") "done\nsent 0 a\nwarned\nreason \n",
	  false },
	{ "sent after why", HEAD("3") "done\nwhy 0 a\nsent 0 a\nreason \n",
	  false },
	{ "why before done", HEAD("3") "why 0 a\ndone\nreason \n", false },
	{ "after reason", HEAD("3") "done\nreason \nwhy 0 a\n", false },
	{ "warnedx", HEAD("3") "done\nwarnedx\nreason \n", false },
	{ "sentx", HEAD("3") "done\nsentx 0 a\nreason \n", false },
	{ "whyx", HEAD("3") "done\nwhyx 0 a\nreason \n", false },
	{ "unknown line", HEAD("3") "done\nfoo 0 a\nreason \n", false },
	/* recipient indexes: nrcpt 3 holds 0..2 */
	{ "sent index max", HEAD("3") "done\nsent 2 a\nreason \n", true },
	{ "sent index max+1", HEAD("3") "done\nsent 3 a\nreason \n", false },
	{ "sent index huge", HEAD("3") "done\nsent 18446744073709551615 a\n"
	  "reason \n", false },
	{ "sent index overflow", HEAD("3") "done\nsent 18446744073709551616 a\n"
	  "reason \n", false },
	{ "sent index negative", HEAD("3") "done\nsent -1 a\nreason \n", false },
	{ "sent index +1", HEAD("3") "done\nsent +1 a\nreason \n", false },
	{ "sent index not a number", HEAD("3") "done\nsent x a\nreason \n",
	  false },
	{ "sent index 1x", HEAD("3") "done\nsent 1x a\nreason \n", false },
	{ "sent no index", HEAD("3") "done\nsent  a\nreason \n", false },
	{ "sent no value", HEAD("3") "done\nsent 1\nreason \n", false },
	{ "sent nothing", HEAD("3") "done\nsent\nreason \n", false },
	{ "sent nothing, space", HEAD("3") "done\nsent \nreason \n", false },
	{ "sent empty value", HEAD("3") "done\nsent 1 \nreason \n", true },
	{ "sent of no recipients", HEAD("0") "done\nsent 0 a\nreason \n",
	  false },
	{ "why index max", HEAD("3") "done\nwhy 2 a\nreason \n", true },
	{ "why index max+1", HEAD("3") "done\nwhy 3 a\nreason \n", false },
	{ "why no value", HEAD("3") "done\nwhy 1\nreason \n", false },
	{ "why of no recipients", HEAD("0") "done\nwhy 0 a\nreason \n",
	  false },
	{ "done index max", HEAD("3") "done 2\nreason \n", true },
	{ "done index max+1", HEAD("3") "done 3\nreason \n", false },
	{ "done of no recipients", HEAD("0") "done 0\nreason \n", false },
	{ "done double space", HEAD("3") "done 0  1\nreason \n", false },
	{ "done not a number", HEAD("3") "done a\nreason \n", false },
	/* %XX escapes */
	{ "%20", HEAD("3") "done\nsent 0 a%20b\nreason \n", true },
	{ "%25", HEAD("3") "done\nsent 0 %25\nreason \n", true },
	{ "%7F", HEAD("3") "done\nsent 0 %7F\nreason \n", true },
	{ "%FF", HEAD("3") "done\nsent 0 %FF\nreason \n", true },
	{ "%01", HEAD("3") "done\nsent 0 %01\nreason \n", true },
	{ "%40 (not needed, read)", HEAD("3") "done\nsent 0 a%40b\nreason \n",
	  true },
	{ "%0", HEAD("3") "done\nsent 0 %0\nreason \n", false },
	{ "%00", HEAD("3") "done\nsent 0 a%00b\nreason \n", false },
	{ "%zz", HEAD("3") "done\nsent 0 %zz\nreason \n", false },
	{ "%2z", HEAD("3") "done\nsent 0 %2z\nreason \n", false },
	{ "%z2", HEAD("3") "done\nsent 0 %z2\nreason \n", false },
	{ "%", HEAD("3") "done\nsent 0 a%\nreason \n", false },
	{ "lower-case hex", HEAD("3") "done\nsent 0 %2a\nreason \n", false },
	{ "% in why", HEAD("3") "done\nwhy 0 50%\nreason \n", false },
	{ "%00 in why", HEAD("3") "done\nwhy 0 %00\nreason \n", false },
	{ "raw space in value", HEAD("3") "done\nsent 0 a b\nreason \n", false },
	{ "raw tab in value", HEAD("3") "done\nsent 0 a\tb\nreason \n", false },
	{ "raw CR in value", HEAD("3") "done\nsent 0 a\rb\nreason \n", false },
	{ "raw DEL in value", HEAD("3") "done\nsent 0 a\x7f" "b\nreason \n",
	  false },
	{ "raw 8-bit in value", HEAD("3") "done\nsent 0 \xc3\xbc\nreason \n",
	  true },
	{ "raw space in why", HEAD("3") "done\nwhy 0 a b\nreason \n", false },
	/* reason */
	{ "reason with spaces", HEAD("3") "done\nreason a b  c \n", true },
	{ "reason with a control", HEAD("3") "done\nreason a\tb\n", false },
	{ "reason with CR", HEAD("3") "done\nreason a\r\n", false },
	{ "no reason", HEAD("3") "done\n", false },
	{ "reason without newline", HEAD("3") "done\nreason x", false },
	{ "trailing line", HEAD("3") "done\nreason \nx\n", false },
	{ "trailing newline", HEAD("3") "done\nreason \n\n", false },
	{ "CRLF lines", "version 2\r\nattempts 3\r\nnext_retry 9\r\n"
	  "nrcpt 3\r\ndone\r\nreason \r\n", false },
};
// clang-format on

static void
test_qmgr_state_decode_table(void **state)
{
	struct qmgr_state st;
	struct buf err;
	size_t i;

	(void)state;
	buf_init(&err, 1024);
	for (i = 0; i < MW_NELEM(decode_rows); i++) {
		const struct decode_row *r = &decode_rows[i];
		size_t nrcpt;
		int rc;

		/* the nrcpt line says what the envelope must hold */
		const char *np = strstr(r->text, "nrcpt ");

		nrcpt = np != NULL ? strtoul(np + 6, NULL, 10) : 3;
		buf_reset(&err);
		rc = decode_n(r->text, strlen(r->text), nrcpt, &st, &err);
		if ((rc == 0) != r->ok)
			fail_msg("row \"%s\": %s", r->label,
			    rc == 0 ? "accepted" : buf_cstr(&err));
		if (rc == -1) {
			assert_non_null(
			    strstr(buf_cstr(&err), "delivery state: "));
			assert_null(strchr(buf_cstr(&err), '\n'));
			assert_false(st.exists);
		}
		qmgr_state_free(&st);
	}
	/* the envelope holds another number of recipients */
	{
		static const char four[] = HEAD("4") "done\nreason \n";

		assert_int_equal(
		    decode_n(four, sizeof(four) - 1, 3, &st, &err), -1);
	}
	assert_non_null(strstr(buf_cstr(&err), "recipient count differs"));
	qmgr_state_free(&st);
	/* a NULL err is allowed */
	assert_int_equal(decode_n("x", 1, 3, &st, NULL), -1);
	qmgr_state_free(&st);
	buf_free(&err);
}

/* What the values decode to. */
static void
test_qmgr_state_decode_values(void **state)
{
	static const char text[] = HEAD("3") "done 2 0\n"
	                                     "sent 1 a%20b%25c%40d\n"
	                                     "sent 1 a%20b%25c%40d\n"
	                                     "sent 1 a%20b%25c@d\n"
	                                     "sent 0 %7F%01%FF\n"
	                                     "sent 2 \n"
	                                     "why 1 first\n"
	                                     "why 1 second%0Aline\n"
	                                     "why 2 \n"
	                                     "reason a ? b\n";
	struct qmgr_state st;
	struct buf err;

	(void)state;
	buf_init(&err, 1024);
	if (decode_n(text, sizeof(text) - 1, 3, &st, &err) != 0)
		fail_msg("%s", buf_cstr(&err));
	assert_true(st.exists);
	assert_int_equal(st.attempts, 3);
	assert_int_equal(st.next_retry, 9);
	assert_true(st.done[0] && !st.done[1] && st.done[2]);
	assert_false(st.warned);
	/* the same (rcpt, address) once */
	assert_int_equal(st.nsent, 3);
	assert_true(qmgr_state_is_sent(&st, 1, "a b%c@d"));
	assert_false(qmgr_state_is_sent(&st, 0, "a b%c@d"));
	assert_true(qmgr_state_is_sent(&st, 0, "\x7f\x01\xff"));
	assert_true(qmgr_state_is_sent(&st, 2, ""));
	/* the last why of a recipient wins */
	assert_non_null(st.why);
	assert_null(st.why[0]);
	assert_string_equal(st.why[1], "second\nline");
	assert_string_equal(st.why[2], "");
	assert_string_equal(st.reason, "a ? b");
	qmgr_state_free(&st);
	buf_free(&err);
}

/* Decoding a file, re-encoding and decoding again gives the same state;
 * when decoding fails the state stays free-able (ASan: no leak). */
static void
check_consistent(const char *p, size_t n, size_t nrcpt)
{
	struct qmgr_state st, back;
	struct buf text;

	if (decode_n(p, n, nrcpt, &st, NULL) == 0) {
		buf_init(&text, 1 << 16);
		round_trip(&st, &back, &text);
		assert_state_equal(&st, &back);
		qmgr_state_free(&back);
		buf_free(&text);
	}
	qmgr_state_free(&st);
}

static void
test_qmgr_state_every_truncation(void **state)
{
	struct qmgr_state st, back;
	struct buf text;
	size_t n;

	(void)state;
	buf_init(&text, 1 << 16);
	rich_state(&st);
	assert_int_equal(qmgr_state_encode(&st, &text), 0);
	for (n = 0; n < text.len; n++) {
		/* every line ends in LF: no proper prefix is a whole file */
		if (decode_n(text.data, n, st.nrcpt, &back, NULL) != -1)
			fail_msg("prefix of %zu bytes accepted", n);
		qmgr_state_free(&back);
		check_consistent(text.data, n, st.nrcpt);
	}
	assert_int_equal(
	    decode_n(text.data, text.len, st.nrcpt, &back, NULL), 0);
	qmgr_state_free(&back);
	/* a file for another recipient count */
	for (n = 0; n < 8; n++)
		if (n != st.nrcpt) {
			assert_int_equal(
			    decode_n(text.data, text.len, n, &back, NULL), -1);
			qmgr_state_free(&back);
		}
	qmgr_state_free(&st);
	buf_free(&text);
}

/* Every byte replaced by each of a few that matter: no crash, and what
 * decodes round-trips. */
static void
test_qmgr_state_every_damaged_byte(void **state)
{
	static const char subst[] = { ' ', '\n', '%', '0', '9', 'x', '\0',
		'\x7f', '\xff' };
	struct qmgr_state st;
	struct buf text;
	size_t i, k;

	(void)state;
	buf_init(&text, 1 << 16);
	rich_state(&st);
	assert_int_equal(qmgr_state_encode(&st, &text), 0);
	for (i = 0; i < text.len; i++) {
		char *copy = xmalloc(text.len);

		memcpy(copy, text.data, text.len);
		for (k = 0; k < sizeof(subst); k++) {
			copy[i] = subst[k];
			check_consistent(copy, text.len, st.nrcpt);
		}
		/* and the byte deleted */
		memcpy(copy, text.data, i);
		memcpy(copy + i, text.data + i + 1, text.len - i - 1);
		check_consistent(copy, text.len - 1, st.nrcpt);
		free(copy);
	}
	qmgr_state_free(&st);
	buf_free(&text);
}

/* Long values are cut when written: reason and why at REASON_MAX bytes,
 * sent addresses at ADDRESS_MAX (max-1, max, max+1). */
static void
test_qmgr_state_value_length_limits(void **state)
{
	static const size_t reason_lens[] = { REASON_MAX - 1, REASON_MAX,
		REASON_MAX + 1, 3 * REASON_MAX };
	static const size_t addr_lens[] = { ADDRESS_MAX - 1, ADDRESS_MAX,
		ADDRESS_MAX + 1 };
	struct qmgr_state st, back;
	struct buf text;
	size_t i;

	(void)state;
	buf_init(&text, 1 << 16);
	for (i = 0; i < MW_NELEM(reason_lens); i++) {
		size_t n = reason_lens[i],
		       want = n < REASON_MAX ? n : REASON_MAX;
		char *v = xmalloc(n + 1);

		memset(v, 'r', n);
		v[n] = '\0';
		v[0] = ' '; /* escaped in why, kept in reason */
		qmgr_state_init(&st, 2);
		st.reason = xstrdup(v);
		qmgr_state_set_why(&st, 1, v);
		round_trip(&st, &back, &text);
		assert_int_equal(strlen(back.reason), want);
		assert_memory_equal(back.reason, v, want);
		assert_int_equal(strlen(back.why[1]), want);
		assert_memory_equal(back.why[1], v, want);
		qmgr_state_free(&back);
		qmgr_state_free(&st);
		free(v);
	}
	for (i = 0; i < MW_NELEM(addr_lens); i++) {
		size_t n = addr_lens[i];
		char *v = xmalloc(n + 1);

		memset(v, 'a', n);
		v[n] = '\0';
		qmgr_state_init(&st, 2);
		qmgr_state_add_sent(&st, 1, v);
		round_trip(&st, &back, &text);
		assert_int_equal(back.nsent, 1);
		/* up to the max the address comes back; past it, cut (so
		 * it no longer matches: see the report of this test) */
		assert_int_equal(strlen(back.sent[0].address),
		    n <= ADDRESS_MAX ? n : ADDRESS_MAX);
		assert_int_equal(
		    qmgr_state_is_sent(&back, 1, v), n <= ADDRESS_MAX);
		qmgr_state_free(&back);
		qmgr_state_free(&st);
		free(v);
	}
	buf_free(&text);
}

/* The reason is written with controls and DEL as '?'. */
static void
test_qmgr_state_reason_sanitised(void **state)
{
	struct qmgr_state st, back;
	struct buf text;

	(void)state;
	buf_init(&text, 4096);
	qmgr_state_init(&st, 1);
	st.reason = xstrdup("a\r\nb\tc\x01\x7f"
	                    "d\xc3\xbc");
	round_trip(&st, &back, &text);
	assert_string_equal(back.reason, "a??b?c??d\xc3\xbc");
	qmgr_state_free(&back);
	qmgr_state_free(&st);
	/* no reason is an empty one */
	qmgr_state_init(&st, 1);
	round_trip(&st, &back, &text);
	assert_string_equal(back.reason, "");
	qmgr_state_free(&back);
	qmgr_state_free(&st);
	buf_free(&text);
}

/* A DEL (0x7f) in the reason is refused, as every raw control is: the
 * encoder writes it as '?', so accepting it would not round-trip. */
static void
test_qmgr_state_reason_del_refused(void **state)
{
	static const char text[] = HEAD("1") "done\nreason a\x7f"
	                                     "b\n";
	struct qmgr_state st;

	(void)state;
	assert_int_equal(decode_n(text, sizeof(text) - 1, 1, &st, NULL), -1);
	qmgr_state_free(&st);
}

/* The helpers: sent once per (rcpt, address); why per recipient. */
static void
test_qmgr_state_sent_and_why_helpers(void **state)
{
	struct qmgr_state st;

	(void)state;
	qmgr_state_init(&st, 3);
	assert_false(qmgr_state_is_sent(&st, 0, "a"));
	qmgr_state_add_sent(&st, 0, "a");
	qmgr_state_add_sent(&st, 0, "a");
	qmgr_state_add_sent(&st, 1, "a");
	qmgr_state_add_sent(&st, 0, "A");
	assert_int_equal(st.nsent, 3);
	assert_true(qmgr_state_is_sent(&st, 0, "a"));
	assert_true(qmgr_state_is_sent(&st, 0, "A"));
	assert_false(qmgr_state_is_sent(&st, 2, "a"));
	assert_null(st.why);
	qmgr_state_set_why(&st, 3, "out of range"); /* ignored */
	assert_null(st.why);
	qmgr_state_set_why(&st, 2, "x");
	assert_string_equal(st.why[2], "x");
	qmgr_state_set_why(&st, 2, "y");
	assert_string_equal(st.why[2], "y");
	qmgr_state_set_why(&st, 2, NULL);
	assert_null(st.why[2]);
	qmgr_state_free(&st);
	/* no recipients */
	qmgr_state_init(&st, 0);
	qmgr_state_set_why(&st, 0, "x");
	assert_null(st.why);
	qmgr_state_free(&st);
}

/* Through a queue directory: written durably, read back; no file is an
 * empty state; a damaged or empty one is an error with one line. */
static void
test_qmgr_state_read_write_file(void **state)
{
	char tmpl[] = "/tmp/mw-test-qmgr-state-XXXXXX";
	struct qmgr_state st, back;
	struct buf err;
	char *path;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(queue_dirs_create(tmpl), 0);
	buf_init(&err, 1024);
	qmgr_state_init(&back, 5);
	assert_int_equal(qmgr_state_read(tmpl, "ABC", &back, &err), 0);
	assert_false(back.exists);
	qmgr_state_free(&back);
	rich_state(&st);
	assert_int_equal(qmgr_state_write(tmpl, "ABC", &st), 0);
	qmgr_state_init(&back, 5);
	assert_int_equal(qmgr_state_read(tmpl, "ABC", &back, &err), 0);
	assert_true(back.exists);
	assert_state_equal(&st, &back);
	qmgr_state_free(&back);
	/* another recipient count does not fit */
	qmgr_state_init(&back, 4);
	assert_int_equal(qmgr_state_read(tmpl, "ABC", &back, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "recipient count"));
	qmgr_state_free(&back);
	/* a damaged file */
	path = xasprintf("%s/%s/ABC", tmpl, QUEUE_DIR_DEFER);
	assert_int_equal(fs_atomic_write(path, "version 9\n", 10, 0600), 0);
	qmgr_state_init(&back, 5);
	assert_int_equal(qmgr_state_read(tmpl, "ABC", &back, &err), -1);
	assert_null(strchr(buf_cstr(&err), '\n'));
	qmgr_state_free(&back);
	/* an empty file */
	assert_int_equal(fs_atomic_write(path, "", 0, 0600), 0);
	qmgr_state_init(&back, 5);
	assert_int_equal(qmgr_state_read(tmpl, "ABC", &back, &err), -1);
	qmgr_state_free(&back);
	free(path);
	qmgr_state_free(&st);
	buf_free(&err);
	assert_int_equal(fs_rm_rf(tmpl), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qmgr_state_v2_round_trip),
		cmocka_unit_test(test_qmgr_state_v2_text),
		cmocka_unit_test(test_qmgr_state_decode_table),
		cmocka_unit_test(test_qmgr_state_decode_values),
		cmocka_unit_test(test_qmgr_state_every_truncation),
		cmocka_unit_test(test_qmgr_state_every_damaged_byte),
		cmocka_unit_test(test_qmgr_state_value_length_limits),
		cmocka_unit_test(test_qmgr_state_reason_sanitised),
		cmocka_unit_test(test_qmgr_state_reason_del_refused),
		cmocka_unit_test(test_qmgr_state_sent_and_why_helpers),
		cmocka_unit_test(test_qmgr_state_read_write_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
