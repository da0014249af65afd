/*
 * Unit tests for SEARCH evaluation (imap_search_eval.c, imap_search_text.c,
 * imap_search_fold.c): every key over a small mailbox of messages written
 * to temporary files (trees from mime_parse), RFC 2047 headers, QP and
 * base64 bodies in other charsets, case folding beyond ASCII, matches cut
 * by every chunk size, OR/NOT nesting, "$" and "*", content loaded only
 * when cheap keys do not decide, a 1 MB header line and a 10,000-part
 * message, and imap_search_reply() for SEARCH and every RETURN combination.
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

#include <errno.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "imap/imap_search_eval.h"
#include "imap_test.h"
#include "lib/buf.h"
#include "mime/mime_parse.h"
#include "mime/mime_tree.h"
#include "store/store.h"

static const struct imap_limits lim = {
	.line_max = 8192,
	.literal_max = 4096,
	.command_max = 8192,
	.args_max = 50,
	.depth_max = 5,
	.arena_max = 64 * 1024,
};

/* 2023-01-02 12:00:00 UTC and friends */
#define T_JAN2  1672660800
#define T_DEC31 1672516800 /* 2022-12-31 20:00 UTC: 1 Jan at UTC+10 */
#define T_MAR15 1678881600
#define T_APR1  1680350400
#define T_MAY1  1682942400

static const char *const msgs[] = {
	/* 1 */
	"From: Alice <alice@example.org>\n"
	"To: bob@example.com\n"
	"Cc: carol@example.net\n"
	"Subject: Hello World\n"
	"Date: Mon, 2 Jan 2023 10:00:00 +0000\n"
	"X-Custom: yes\n"
	"\n"
	"The quick brown fox jumps over the lazy dog.\n",
	/* 2: RFC 2047 words, a QP body in Latin-1, a Date in its own zone */
	"From: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.de>\n"
	"To: =?UTF-8?B?0JjQstCw0L0=?= <ivan@example.ru>\n"
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=\n"
	"Date: 31 Dec 2022 23:30:00 -0500\n"
	"MIME-Version: 1.0\n"
	"Content-Type: text/plain; charset=iso-8859-1\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"Stra=DFe und =C4pfel, sch=\n"
	"=F6n\n",
	/* 3: multipart, base64 UTF-8 text, an attachment, no Date */
	"From: dave@example.org\n"
	"Bcc: eve@example.org\n"
	"Subject: parts\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\n"
	"\n"
	"preamble PREAMBLEWORD\n"
	"--b1\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"0J/RgNC40LLQtdGCLCDQvNC40YAhIM6azpHOm86XzpzOlc6hzpE=\n"
	"--b1\n"
	"Content-Type: application/octet-stream\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"U0VDUkVUV09SRA==\n"
	"--b1\n"
	"Content-Type: text/html\n"
	"X-Part: inpart\n"
	"\n"
	"<p>HTML text</p>\n"
	"--b1--\n",
	/* 4: folded and empty fields, a bad Date, CRLF line ends */
	"From: frank@example.org\r\n"
	"Subject: a very\r\n"
	"  long subject line\r\n"
	"X-Empty:\r\n"
	"Date: garbage\r\n"
	"\r\n"
	"body of four\r\n",
	/* 5: an embedded message */
	"From: grace@example.org\n"
	"Subject: fwd\n"
	"MIME-Version: 1.0\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"Subject: inner\n"
	"From: heidi@example.org\n"
	"\n"
	"inner body text\n",
};

#define NMSG MW_NELEM(msgs)

struct fixture {
	FILE *f[NMSG + 1];
	struct mime_tree *tree[NMSG + 1];
	struct store_msg m[NMSG + 1];
	bool recent[NMSG + 1];
	size_t n;
	unsigned loads;
	unsigned file_loads; /* of those, with need_file */
	const char *const *text;
};

static struct fixture fx;

static int
fx_load(void *arg, uint32_t seq, const struct store_msg *m, bool need_file,
    int *fd_out, const struct mime_tree **tree_out)
{
	struct fixture *x = arg;

	(void)m;
	if (seq < 1 || seq > x->n)
		return -1;
	x->loads++;
	x->file_loads += need_file;
	/* no file unless asked for: the evaluator must not read it */
	*fd_out = need_file ? fileno(x->f[seq]) : -1;
	*tree_out = x->tree[seq];
	return 0;
}

static int
fx_keyword(void *arg, struct imap_slice name)
{
	(void)arg;
	if (name.n == 4 && strncasecmp(name.p, "work", 4) == 0)
		return 1;
	if (name.n == 10 && strncasecmp(name.p, "$Forwarded", 10) == 0)
		return 0;
	return -1;
}

static void
fx_add(const char *text, size_t len, uint32_t uid, uint32_t flags, uint32_t kw,
    int64_t date, bool recent)
{
	size_t i = ++fx.n, k, lf = 0;

	fx.f[i] = tmpfile();
	assert_non_null(fx.f[i]);
	assert_int_equal(fwrite(text, 1, len, fx.f[i]), len);
	assert_int_equal(fflush(fx.f[i]), 0);
	fx.tree[i] = mime_parse(text, len, &mime_limits_default);
	for (k = 0; k < len; k++)
		lf += text[k] == '\n' && (k == 0 || text[k - 1] != '\r');
	fx.m[i] = (struct store_msg){ .uid = uid,
		.flags = flags,
		.keywords = kw,
		.vsize = len + lf,
		.psize = len,
		.internaldate = date,
		.modseq = 1,
		.uidl = "x" };
	fx.recent[i] = recent;
}

static void
fx_setup(void)
{
	static const uint32_t uids[NMSG] = { 10, 20, 30, 31, 40 };
	static const uint32_t flags[NMSG] = {
		STORE_FLAG_SEEN,
		STORE_FLAG_FLAGGED | STORE_FLAG_ANSWERED,
		STORE_FLAG_DELETED | STORE_FLAG_DRAFT,
		0,
		STORE_FLAG_SEEN,
	};
	static const int64_t dates[NMSG] = { T_JAN2, T_DEC31, T_MAR15, T_APR1,
		T_MAY1 };
	size_t i;

	memset(&fx, 0, sizeof(fx));
	for (i = 0; i < NMSG; i++)
		fx_add(msgs[i], strlen(msgs[i]), uids[i], flags[i],
		    i == 1 ? 1u << 1 : 0, dates[i], i >= 3);
}

static void
fx_teardown(void)
{
	size_t i;

	for (i = 1; i <= fx.n; i++) {
		fclose(fx.f[i]);
		mime_tree_free(&fx.tree[i]);
	}
	fx.n = 0;
}

struct run_opts {
	size_t chunk; /* 0: default */
	bool uid;     /* list UIDs, not sequence numbers */
	bool rev2;    /* not rev1 */
	const struct imap_seqset *saved;
	uint32_t count; /* UINT32_MAX: fx.n */
};

/* The matches of "a SEARCH <prog>" as "1 3", or "ERR". */
static void
run_search(const char *prog, const struct run_opts *o, char *out, size_t max)
{
	struct imap_parse_opts popts = { .utf8 = true, .literal_plus = true };
	struct imap_search_env env = { 0 };
	struct imap_search_prog *p = NULL;
	struct imap_test_run run;
	struct imap_reader *r;
	struct buf in, err;
	size_t i, len = 0;
	bool match;

	buf_init(&in, 1 << 20);
	buf_init(&err, 1024);
	assert_int_equal(buf_printf(&in, "a SEARCH %s\r\n", prog), 0);
	r = imap_reader_new(&lim, &popts);
	run = imap_test_feed(r, in.data, in.len, 0);
	if (run.ev != IMAP_READ_COMMAND || run.cmd->id != IMAP_CMD_SEARCH)
		fail_msg("does not parse: %s", prog);
	env.count = o->count == UINT32_MAX ? (uint32_t)fx.n : o->count;
	env.max_uid = env.count > 0 ? fx.m[env.count].uid : 0;
	env.saved_uids = o->saved;
	env.keyword_bit = fx_keyword;
	env.load = fx_load;
	env.arg = &fx;
	env.rev1 = !o->rev2;
	assert_int_equal(
	    imap_search_prepare(&run.cmd->u.search, &env, &p, &err), 0);
	imap_reader_free(&r); /* the program keeps nothing of the command */
	if (o->chunk > 0)
		imap_search_prog_set_chunk(p, o->chunk);
	out[0] = '\0';
	for (i = 1; i <= env.count; i++) {
		assert_int_equal(imap_search_prog_match(p, (uint32_t)i,
		                     &fx.m[i], fx.recent[i], &match),
		    0);
		if (match)
			len += (size_t)snprintf(out + len, max - len, "%s%u",
			    len > 0 ? " " : "",
			    o->uid ? fx.m[i].uid : (unsigned)i);
	}
	imap_search_prog_free(&p);
	assert_null(p);
	buf_free(&in);
	buf_free(&err);
}

static void
check(const char *prog, const struct run_opts *o, const char *want)
{
	char got[256];

	run_search(prog, o, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("SEARCH %s (chunk %zu): got \"%s\", want \"%s\"", prog,
		    o->chunk, got, want);
}

static const struct run_opts defaults = { .count = UINT32_MAX };

// clang-format off
static const struct {
	const char *prog, *want;
} keys[] = {
	/* cheap keys */
	{ "ALL",                 "1 2 3 4 5" },
	{ "SEEN",                "1 5" },
	{ "UNSEEN",              "2 3 4" },
	{ "ANSWERED",            "2" },
	{ "UNANSWERED",          "1 3 4 5" },
	{ "FLAGGED",             "2" },
	{ "UNFLAGGED",           "1 3 4 5" },
	{ "DELETED",             "3" },
	{ "UNDELETED",           "1 2 4 5" },
	{ "DRAFT",               "3" },
	{ "UNDRAFT",             "1 2 4 5" },
	{ "RECENT",              "4 5" },
	{ "NEW",                 "4" },
	{ "OLD",                 "1 2 3" },
	{ "KEYWORD work",        "2" },
	{ "KEYWORD WORK",        "2" },
	{ "UNKEYWORD work",      "1 3 4 5" },
	{ "KEYWORD $Forwarded",  "" },
	{ "KEYWORD nosuch",      "" },
	{ "UNKEYWORD nosuch",    "1 2 3 4 5" },
	{ "2:4",                 "2 3 4" },
	{ "4:2",                 "2 3 4" },
	{ "*",                   "5" },
	{ "1,*",                 "1 5" },
	{ "3:*",                 "3 4 5" },
	{ "9",                   "" },
	{ "UID 20:30",           "2 3" },
	{ "UID *",               "5" },
	{ "UID 41:*",            "5" },
	{ "UID 1:15,31",         "1 4" },
	{ "LARGER 200",          "2 3" },
	{ "LARGER 199",          "1 2 3" },
	{ "SMALLER 150",         "4" },
	{ "SMALLER 151",         "4 5" },
	{ "SMALLER 1",           "" },
	{ "BEFORE 2-Jan-2023",   "2" },
	{ "ON 2-Jan-2023",       "1" },
	{ "ON 31-Dec-2022",      "2" },
	{ "SINCE 1-Apr-2023",    "4 5" },
	{ "SINCE 1-Jan-2030",    "" },
	/* the Date: field in its own zone; none or bad: the internal date */
	{ "SENTON 2-Jan-2023",     "1" },
	{ "SENTON 31-Dec-2022",    "2" },
	{ "SENTON 15-Mar-2023",    "3" },
	{ "SENTON 1-Apr-2023",     "4" },
	{ "SENTBEFORE 1-Jan-2023", "2" },
	{ "SENTSINCE 2-Jan-2023",  "1 3 4 5" },
	/* header fields */
	{ "FROM alice",            "1" },
	{ "FROM ALICE@EXAMPLE",    "1" },
	{ "FROM \"J\xc3\x96RG\"",   "2" },
	{ "FROM joerg",            "2" },
	{ "TO \"\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd\"", "2" },
	{ "TO example",            "1 2" },
	{ "CC carol",              "1" },
	{ "CC \"\"",               "1" },
	{ "BCC eve",               "3" },
	{ "SUBJECT \"hello world\"", "1" },
	{ "SUBJECT \"M\xc3\x9cNCHEN\"", "2" },
	{ "SUBJECT \"gr\xc3\xbc\xc3\x9f\"", "2" },
	{ "SUBJECT \"very  long\"", "4" },
	{ "SUBJECT inner",         "" },
	{ "HEADER X-Custom yes",   "1" },
	{ "HEADER x-custom \"\"",  "1" },
	{ "HEADER X-Empty \"\"",   "4" },
	{ "HEADER X-Empty x",      "" },
	{ "HEADER X-Missing \"\"", "" },
	{ "HEADER Subject \"long subject\"", "4" },
	{ "HEADER Content-Type multipart", "3" },
	{ "HEADER X-Part inpart",  "" },
	{ "HEADER Date -0500",     "2" },
	/* bodies and text */
	{ "BODY \"LAZY dog\"",     "1" },
	{ "BODY \"hello world\"",  "" },
	{ "TEXT \"hello world\"",  "1" },
	{ "BODY \"stra\xc3\x9f" "e\"", "2" },
	{ "BODY \"\xc3\xa4pfel, sch\xc3\xb6n\"", "2" },
	{ "BODY \"\xd0\xbc\xd0\xb8\xd1\x80!\"", "3" },
	{ "BODY \"\xce\xba\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xad\xcf\x81\xce\xb1\"", "" },
	{ "BODY \"\xce\xba\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xb5\xcf\x81\xce\xb1\"", "3" },
	{ "BODY SECRETWORD",       "" },
	{ "TEXT SECRETWORD",       "" },
	{ "BODY PREAMBLEWORD",     "" },
	{ "BODY \"html text\"",    "3" },
	{ "TEXT inpart",           "3" },
	{ "TEXT \"x-part: inpart\"", "3" },
	{ "BODY \"body of four\"", "4" },
	{ "BODY \"inner body\"",   "5" },
	{ "BODY \"subject: inner\"", "" },
	{ "TEXT \"subject: inner\"", "5" },
	{ "TEXT \"Subject: fwd\"", "5" },
	{ "TEXT heidi",            "5" },
	{ "BODY \"\"",             "1 2 3 4 5" },
	{ "TEXT \"\"",             "1 2 3 4 5" },
	{ "TEXT example.org",      "1 3 4 5" },
	/* combinations */
	{ "OR SEEN FLAGGED",              "1 2 5" },
	{ "NOT (OR SEEN FLAGGED)",        "3 4" },
	{ "NOT NOT SEEN",                 "1 5" },
	{ "SEEN FROM alice",              "1" },
	{ "OR (SEEN FROM grace) DELETED", "3 5" },
	{ "OR BODY fox OR BODY inner SUBJECT parts", "1 3 5" },
	{ "NOT BODY fox UNSEEN",          "2 3 4" },
	{ "(UNSEEN NOT TEXT example.org)", "2" },
	{ "OR NOT 1:3 UID 10",            "1 4 5" },
	{ "TEXT fox TEXT dog NOT TEXT cat", "1" },
};
// clang-format on

static void
test_imap_search_eval_keys(void **state)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 5, 7, 16, 64 };
	struct run_opts o = defaults;
	size_t i, c;

	(void)state;
	fx_setup();
	for (c = 0; c < MW_NELEM(chunks); c++) {
		o.chunk = chunks[c];
		for (i = 0; i < MW_NELEM(keys); i++)
			check(keys[i].prog, &o, keys[i].want);
	}
	o.chunk = 0;
	o.uid = true;
	check("UID 20:30", &o, "20 30");
	check("OR BODY fox KEYWORD work", &o, "10 20");
	fx_teardown();
}

static void
test_imap_search_eval_timezone(void **state)
{
	struct run_opts o = defaults;

	(void)state;
	/* POSIX TZ strings need no tzdata: XST-10 is UTC+10 */
	setenv("TZ", "XST-10", 1);
	tzset();
	fx_setup();
	check("ON 1-Jan-2023", &o, "2");
	check("BEFORE 1-Jan-2023", &o, "");
	check("ON 31-Dec-2022", &o, "");
	/* SENT* takes the Date: field as written, whatever TZ says */
	check("SENTON 31-Dec-2022", &o, "2");
	fx_teardown();
	setenv("TZ", "UTC", 1);
	tzset();
}

static void
test_imap_search_eval_rev2(void **state)
{
	struct run_opts o = defaults;

	(void)state;
	o.rev2 = true;
	fx_setup();
	check("RECENT", &o, "");
	check("NEW", &o, "");
	check("OLD", &o, "1 2 3 4 5");
	fx_teardown();
}

static void
test_imap_search_eval_saved(void **state)
{
	struct imap_range r[] = { { 20, 20 }, { 40, 45 } };
	struct imap_seqset saved = { .r = r, .n = 2 };
	struct run_opts o = defaults;

	(void)state;
	fx_setup();
	check("$", &o, ""); /* no saved result: empty */
	o.saved = &saved;
	check("$", &o, "2 5");
	check("UID $", &o, "2 5");
	check("NOT $", &o, "1 3 4");
	check("OR $ 1", &o, "1 2 5");
	fx_teardown();
}

static void
test_imap_search_eval_empty(void **state)
{
	struct run_opts o = defaults;

	(void)state;
	fx_setup();
	o.count = 0; /* an empty mailbox: "*" is 0 and nothing matches */
	check("*", &o, "");
	check("UID *", &o, "");
	check("1:*", &o, "");
	o.count = 1;
	check("*", &o, "1");
	check("UID 5:*", &o, "1"); /* RFC 9051 6.4.9: "*" is UID 10 */
	fx_teardown();
}

static void
test_imap_search_eval_lazy(void **state)
{
	struct run_opts o = defaults;
	char got[256];

	(void)state;
	fx_setup();
	fx.loads = 0;
	run_search("SEEN BODY fox", &o, got, sizeof(got));
	assert_string_equal(got, "1");
	assert_int_equal(fx.loads, 2); /* only the seen ones */
	fx.loads = 0;
	run_search("OR SEEN BODY fox", &o, got, sizeof(got));
	assert_string_equal(got, "1 5");
	assert_int_equal(fx.loads, 3);
	fx.loads = 0;
	run_search("UID 10:20 FLAGGED", &o, got, sizeof(got));
	assert_string_equal(got, "2");
	assert_int_equal(fx.loads, 0);
	/* envelope fields: the trees, no file */
	fx.loads = fx.file_loads = 0;
	run_search("FROM joerg", &o, got, sizeof(got));
	assert_string_equal(got, "2");
	assert_int_equal(fx.loads, NMSG);
	assert_int_equal(fx.file_loads, 0);
	fx.loads = fx.file_loads = 0;
	run_search(
	    "OR SUBJECT parts HEADER Message-ID nomatch", &o, got, sizeof(got));
	assert_string_equal(got, "3");
	assert_int_equal(fx.file_loads, 0);
	/* a field the envelope does not hold: the file at once */
	fx.loads = fx.file_loads = 0;
	run_search("HEADER X-Empty \"\"", &o, got, sizeof(got));
	assert_string_equal(got, "4");
	assert_int_equal(fx.loads, NMSG);
	assert_int_equal(fx.file_loads, NMSG);
	fx_teardown();
}

/* A 1 MB header line and a 10,000-part message stay linear and bounded. */
static void
test_imap_search_eval_big(void **state)
{
	struct run_opts o = defaults;
	struct buf m;
	size_t i;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	buf_init(&m, 64 << 20);
	assert_int_equal(buf_append_str(&m, "X-Long: "), 0);
	for (i = 0; i < (1 << 20) / 16; i++)
		assert_int_equal(buf_append_str(&m, "aaaaaaaaaaaaaaa "), 0);
	assert_int_equal(buf_append_str(&m, "needle\nSubject: s\n\nbody\n"), 0);
	fx_add(m.data, m.len, 1, 0, 0, T_JAN2, false);
	buf_reset(&m);
	assert_int_equal(
	    buf_append_str(&m, "Content-Type: multipart/mixed; boundary=b\n\n"),
	    0);
	for (i = 0; i < 10000; i++)
		assert_int_equal(buf_printf(&m, "--b\n\npart %zu\n", i), 0);
	assert_int_equal(buf_append_str(&m, "--b--\n"), 0);
	fx_add(m.data, m.len, 2, 0, 0, T_JAN2, false);
	buf_free(&m);
	check("HEADER X-Long needle", &o, "1");
	check("HEADER X-Long \"aaa needle\"", &o, "1");
	check("TEXT needle", &o, "1");
	check("TEXT \"subject: s\"", &o, "1");
	/* mime_parse keeps 10,000 parts: the root, then 9,999 */
	check("BODY \"part 9997\"", &o, "2");
	check("BODY \"part 10000\"", &o, "");
	check("TEXT \"part 5000\"", &o, "2");
	fx_teardown();
}

/* Case folding beyond ASCII: our table (imap_search_fold.c). */
static void
test_imap_search_eval_fold(void **state)
{
	static const char text[] =
	    "Content-Type: text/plain; charset=utf-8\n\n"
	    "\xc5\x81\xc3\x93\x44\xc5\xb9 "     /* ŁÓDŹ */
	    "\xd0\x81\xd0\x9b\xd0\x9a\xd0\x90 " /* ЁЛКА */
	    "\xc3\x9c\x62\x65\x72 "             /* Über */
	    "\xce\x8c\xce\xa3\xce\x9f\xce\xa3 " /* ΌΣΟΣ */
	    "\xef\xbc\xa1\xef\xbc\xa2 "         /* fullwidth AB */
	    "\xd4\xb1\n";                       /* Armenian Ա */
	/* "line one\nLINE TWO\n" in UTF-16LE: a LF byte is half of one */
	static const char utf16[] =
	    "Content-Type: text/plain; charset=UTF-16LE\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "bABpAG4AZQAgAG8AbgBlAAoATABJAE4ARQAgAFQAVwBPAAoA\n";
	struct run_opts o = defaults;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx_add(text, strlen(text), 1, 0, 0, T_JAN2, false);
	fx_add(utf16, strlen(utf16), 2, 0, 0, T_JAN2, false);
	check("BODY \"line two\"", &o, "2");
	check("BODY \"\xc5\x82\xc3\xb3\x64\xc5\xba\"", &o, "1");
	check("BODY \"\xd1\x91\xd0\xbb\xd0\xba\xd0\xb0\"", &o, "1");
	check("BODY \"\xc3\xbc\x62\x65\x72\"", &o, "1");
	check("BODY \"\xc3\x9c\x42\x45\x52\"", &o, "1");
	/* sigma and final sigma are one letter */
	check("BODY \"\xcf\x8c\xcf\x83\xce\xbf\xcf\x82\"", &o, "1");
	check("BODY \"\xef\xbd\x81\xef\xbd\x82\"", &o, "1");
	check("BODY \"\xd5\xa1\"", &o, "1");
	check("BODY \"uber\"", &o, ""); /* no accent stripping */
	o.chunk = 1;
	check("BODY \"\xc5\x82\xc3\xb3\x64\xc5\xba\"", &o, "1");
	check("BODY \"line two\"", &o, "2");
	check("BODY \"\xcf\x8c\xcf\x83\xce\xbf\xcf\x82\"", &o, "1");
	fx_teardown();
}

static int
fail_load(void *arg, uint32_t seq, const struct store_msg *m, bool need_file,
    int *fd_out, const struct mime_tree **tree_out)
{
	(void)arg, (void)seq, (void)m, (void)need_file, (void)fd_out,
	    (void)tree_out;
	errno = EIO;
	return -1;
}

/* A failed load fails the match, unless cheap keys decided first. */
static void
test_imap_search_eval_load_fails(void **state)
{
	struct imap_search_node root = { 0 }, flag = { 0 }, body = { 0 };
	struct imap_search s = { .root = &root, .nodes = 3 };
	struct imap_search_env env = {
		.count = 1, .max_uid = 1, .load = fail_load
	};
	struct store_msg m = { .uid = 1, .flags = 0 };
	struct imap_search_prog *p = NULL;
	struct buf err;
	bool match = true;

	(void)state;
	buf_init(&err, 256);
	root.key = IMAP_SK_AND;
	root.child = &flag;
	flag.key = IMAP_SK_SEEN;
	flag.next = &body;
	body.key = IMAP_SK_BODY;
	body.u.str = (struct imap_slice){ "x", 1 };
	assert_int_equal(imap_search_prepare(&s, &env, &p, &err), 0);
	assert_true(imap_search_prog_needs_content(p));
	assert_int_equal(imap_search_prog_match(p, 1, &m, false, &match), 0);
	assert_false(match); /* not \Seen: no load */
	m.flags = STORE_FLAG_SEEN;
	assert_int_equal(imap_search_prog_match(p, 1, &m, false, &match), -1);
	assert_int_equal(errno, EIO);
	imap_search_prog_free(&p);
	imap_search_prog_free(&p); /* NULL is fine */
	buf_free(&err);
}

static void
reply_check(const uint32_t *v, size_t n, bool esearch, unsigned ret, bool uid,
    const char *want)
{
	struct imap_slice tag = { "a1", 2 };
	struct buf out;

	buf_init(&out, 4096);
	assert_int_equal(
	    imap_search_reply(&out, v, n, esearch, ret, tag, uid), 0);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void
test_imap_search_eval_reply(void **state)
{
	static const uint32_t v[] = { 2, 5, 6, 7, 9 };
	char want[256];
	unsigned ret;
	size_t len;
	int k;

	(void)state;
	reply_check(v, 0, false, 0, false, "* SEARCH\r\n");
	reply_check(v, 5, false, 0, true, "* SEARCH 2 5 6 7 9\r\n");
	reply_check(
	    v, 5, true, 0, false, "* ESEARCH (TAG \"a1\") ALL 2,5:7,9\r\n");
	reply_check(v, 4, true, IMAP_SEARCH_RET_ALL, true,
	    "* ESEARCH (TAG \"a1\") UID ALL 2,5:7\r\n");
	reply_check(v, 0, true, 0, true, "* ESEARCH (TAG \"a1\") UID\r\n");
	reply_check(v, 0, true, IMAP_SEARCH_RET_COUNT | IMAP_SEARCH_RET_MIN,
	    false, "* ESEARCH (TAG \"a1\") COUNT 0\r\n");
	reply_check(v, 5, true, IMAP_SEARCH_RET_SAVE, false, "");
	reply_check(v, 5, true, IMAP_SEARCH_RET_SAVE | IMAP_SEARCH_RET_MIN,
	    false, "* ESEARCH (TAG \"a1\") MIN 2\r\n");
	/* every combination of MIN, MAX, ALL, COUNT, with and without
	 * matches and SAVE */
	for (ret = 0; ret < 32; ret++) {
		for (k = 0; k < 2; k++) {
			size_t n = k == 0 ? 0 : 5;
			unsigned r = ret & 15 ? ret : ret | IMAP_SEARCH_RET_ALL;

			len = (size_t)snprintf(
			    want, sizeof(want), "* ESEARCH (TAG \"a1\") UID");
			if (n > 0 && (r & IMAP_SEARCH_RET_MIN))
				len += (size_t)snprintf(
				    want + len, sizeof(want) - len, " MIN 2");
			if (n > 0 && (r & IMAP_SEARCH_RET_MAX))
				len += (size_t)snprintf(
				    want + len, sizeof(want) - len, " MAX 9");
			if (r & IMAP_SEARCH_RET_COUNT)
				len += (size_t)snprintf(want + len,
				    sizeof(want) - len, " COUNT %zu", n);
			if (n > 0 && (r & IMAP_SEARCH_RET_ALL))
				len += (size_t)snprintf(want + len,
				    sizeof(want) - len, " ALL 2,5:7,9");
			snprintf(want + len, sizeof(want) - len, "\r\n");
			if (ret == IMAP_SEARCH_RET_SAVE)
				want[0] = '\0';
			reply_check(v, n, true, ret, true, want);
		}
	}
}

static void
test_imap_search_eval_reply_limit(void **state)
{
	static const uint32_t v[] = { 1, 3, 5 };
	struct imap_slice tag = { "a1", 2 };
	struct buf out;

	(void)state;
	buf_init(&out, 10);
	assert_int_equal(
	    imap_search_reply(&out, v, 3, false, 0, tag, false), -1);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_search_eval_keys),
		cmocka_unit_test(test_imap_search_eval_timezone),
		cmocka_unit_test(test_imap_search_eval_rev2),
		cmocka_unit_test(test_imap_search_eval_saved),
		cmocka_unit_test(test_imap_search_eval_empty),
		cmocka_unit_test(test_imap_search_eval_lazy),
		cmocka_unit_test(test_imap_search_eval_big),
		cmocka_unit_test(test_imap_search_eval_fold),
		cmocka_unit_test(test_imap_search_eval_load_fails),
		cmocka_unit_test(test_imap_search_eval_reply),
		cmocka_unit_test(test_imap_search_eval_reply_limit),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
