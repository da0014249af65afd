/* Unit tests of src/auth/sasl_scram.c: SCRAM-SHA-256 exchanges (RFC 7677
 * 3's example), unknown users, malformed client messages, field limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "auth/password.h"
#include "auth/sasl.h"
#include "lib/base64.h"
#include "lib/buf.h"

/* RFC 7677 3: user "user", password "pencil" */
#define RFC_SALT_B64 "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_STORED                                                             \
	"{SCRAM-SHA-256}4096," RFC_SALT_B64 ","                                \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"                        \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define RFC_CFIRST    "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE    "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_NONCE     "rOprNGfwEbeRWgbNEkqO" RFC_SNONCE
#define RFC_SFIRST    "r=" RFC_NONCE ",s=" RFC_SALT_B64 ",i=4096"
#define RFC_CFINAL_WO "c=biws,r=" RFC_NONCE
#define RFC_PROOF     "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_CFINAL    RFC_CFINAL_WO ",p=" RFC_PROOF
#define RFC_SFINAL    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

#define P(s)         s, sizeof(s) - 1
#include "sasl_test.h"

/* RFC 7677 3, with and without the initial response. */
static void
test_sasl_scram_rfc7677_exchange(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;
	int initial;

	for (initial = 0; initial < 2; initial++) {
		s = sasl_server_new("SCRAM-SHA-256", MAX_RESPONSE);
		sasl_server_set_nonce(s, RFC_SNONCE);
		if (!initial) {
			assert_int_equal(sasl_server_step(s, NULL, 0, &f->out),
			    SASL_CHALLENGE);
			assert_int_equal(f->out.len, 0);
		}
		assert_int_equal(
		    step_str(f, s, RFC_CFIRST), SASL_NEED_CREDENTIALS);
		assert_string_equal(sasl_server_authcid(s), "user");
		assert_null(sasl_server_password(s));
		assert_int_equal(
		    sasl_server_set_credentials(s, RFC_STORED, &f->out),
		    SASL_CHALLENGE);
		assert_string_equal(challenge(f), RFC_SFIRST);
		assert_int_equal(step_str(f, s, RFC_CFINAL), SASL_CHALLENGE);
		assert_string_equal(challenge(f), RFC_SFINAL);
		assert_null(sasl_server_username(s));
		assert_int_equal(
		    sasl_server_step(s, "", 0, &f->out), SASL_SUCCESS);
		assert_string_equal(sasl_server_username(s), "user");
		sasl_server_free(&s);
	}
}

/* Starts SCRAM up to the server-first-message of RFC 7677 3. */
static struct sasl_server *
scram_to_final(struct fixture *f, const char *stored)
{
	struct sasl_server *s = sasl_server_new("SCRAM-SHA-256", MAX_RESPONSE);

	sasl_server_set_nonce(s, RFC_SNONCE);
	assert_int_equal(step_str(f, s, RFC_CFIRST), SASL_NEED_CREDENTIALS);
	assert_int_equal(
	    sasl_server_set_credentials(s, stored, &f->out), SASL_CHALLENGE);
	return s;
}

static void
test_sasl_scram_random_nonce(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;
	char first[SASL_CHALLENGE_MAX];
	const char *c;

	s = sasl_server_new("SCRAM-SHA-256", MAX_RESPONSE);
	assert_int_equal(step_str(f, s, RFC_CFIRST), SASL_NEED_CREDENTIALS);
	assert_int_equal(sasl_server_set_credentials(s, RFC_STORED, &f->out),
	    SASL_CHALLENGE);
	c = challenge(f);
	/* r=<client nonce><32 characters>,s=...,i=4096 */
	assert_memory_equal(c, "r=rOprNGfwEbeRWgbNEkqO", 22);
	assert_int_equal(strchr(c, ',') - c, 22 + 32);
	(void)snprintf(first, sizeof(first), "%s", c);
	sasl_server_free(&s);
	s = sasl_server_new("SCRAM-SHA-256", MAX_RESPONSE);
	assert_int_equal(step_str(f, s, RFC_CFIRST), SASL_NEED_CREDENTIALS);
	assert_int_equal(sasl_server_set_credentials(s, RFC_STORED, &f->out),
	    SASL_CHALLENGE);
	assert_string_not_equal(challenge(f), first);
	sasl_server_free(&s);
}

static void
test_sasl_scram_wrong_proof_fails(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;

	s = scram_to_final(f, RFC_STORED);
	/* the last proof character changed: 'Q' -> 'R' flips one bit */
	assert_int_equal(step_str(f, s,
	                     RFC_CFINAL_WO ",p=dHzbZapWIk4jUhN+"
	                                   "Ute9ytag9zjfMHgsqmmiz7AndVR="),
	    SASL_FAIL_SYNTAX); /* non-zero pad bits: not canonical */
	sasl_server_free(&s);
	s = scram_to_final(f, RFC_STORED);
	assert_int_equal(step_str(f, s,
	                     RFC_CFINAL_WO ",p=dHzbZapWIk4jUhN+"
	                                   "Ute9ytag9zjfMHgsqmmiz7AndVU="),
	    SASL_FAIL_AUTH);
	assert_null(sasl_server_username(s));
	assert_non_null(sasl_server_reason(s));
	sasl_server_free(&s);
	/* the right proof for other credentials */
	s = scram_to_final(f,
	    "{SCRAM-SHA-256}4096," RFC_SALT_B64 ","
	    "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qQ=,"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
	assert_int_equal(step_str(f, s, RFC_CFINAL), SASL_FAIL_AUTH);
	sasl_server_free(&s);
}

/* Unknown users get a stable made-up salt and fail only at the proof. */
static void
test_sasl_scram_unknown_user_is_indistinguishable(void **state)
{
	static const char *const unusable[] = {
		NULL,
		"{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"{SCRAM-SHA-256}4095," RFC_SALT_B64 ",x,y",
		"",
	};
	struct fixture *f = *state;
	struct sasl_server *s;
	char first[SASL_CHALLENGE_MAX], *p;
	size_t i;

	for (i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
		s = scram_to_final(f, unusable[i]);
		p = strstr(challenge(f), ",s=");
		assert_non_null(p);
		if (i == 0)
			(void)snprintf(first, sizeof(first), "%s", p);
		else
			assert_string_equal(p, first); /* same salt, i=4096 */
		assert_string_not_equal(p, ",s=" RFC_SALT_B64 ",i=4096");
		assert_int_equal(step_str(f, s, RFC_CFINAL), SASL_FAIL_AUTH);
		sasl_server_free(&s);
	}
	/* the name's case does not change the salt; another name does */
	s = sasl_server_new("SCRAM-SHA-256", MAX_RESPONSE);
	assert_int_equal(
	    step_str(f, s, "n,,n=USER,r=abc"), SASL_NEED_CREDENTIALS);
	assert_int_equal(
	    sasl_server_set_credentials(s, NULL, &f->out), SASL_CHALLENGE);
	assert_string_equal(strstr(challenge(f), ",s="), first);
	sasl_server_free(&s);
	s = sasl_server_new("SCRAM-SHA-256", MAX_RESPONSE);
	assert_int_equal(
	    step_str(f, s, "n,,n=other,r=abc"), SASL_NEED_CREDENTIALS);
	assert_int_equal(
	    sasl_server_set_credentials(s, NULL, &f->out), SASL_CHALLENGE);
	assert_string_not_equal(strstr(challenge(f), ",s="), first);
	sasl_server_free(&s);
}

struct first_case {
	const char *label;
	const char *msg;
	enum sasl_result want;
	const char *authcid;
};

// clang-format off
static const struct first_case first_cases[] = {
	{ "rfc",               RFC_CFIRST, SASL_NEED_CREDENTIALS, "user" },
	{ "y flag",            "y,,n=user,r=abc", SASL_NEED_CREDENTIALS, "user" },
	{ "authzid = user",    "n,a=user,n=user,r=abc", SASL_NEED_CREDENTIALS, "user" },
	{ "authzid case",      "n,a=User,n=user,r=abc", SASL_NEED_CREDENTIALS, "user" },
	{ "extension",         "n,,n=user,r=abc,x=1,y=2", SASL_NEED_CREDENTIALS, "user" },
	{ "escaped user",      "n,,n=a=2Cb=3Dc,r=abc", SASL_NEED_CREDENTIALS, "a,b=c" },
	{ "utf-8 user",        "n,,n=\xc3\xa9,r=abc", SASL_NEED_CREDENTIALS, "\xc3\xa9" },
	{ "authzid other",     "n,a=admin,n=user,r=abc", SASL_FAIL_AUTH, "user" },
	{ "channel binding",   "p=tls-unique,,n=user,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "bad flag",          "x,,n=user,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "no gs2 header",     "n=user,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "one comma",         "n,n=user,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "empty authzid a=",  "n,a=,n=user,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "bad authzid",       "n,b=user,n=user,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "mext",              "n,,m=ext,n=user,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "no user",           "n,,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "empty user",        "n,,n=,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "bad escape",        "n,,n=us=41er,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "cut escape",        "n,,n=user=2,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "control in user",   "n,,n=us\ter,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "DEL in user",       "n,,n=us\x7f" "er,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "bad utf-8 user",    "n,,n=\xff,r=abc", SASL_FAIL_SYNTAX, NULL },
	{ "no nonce",          "n,,n=user", SASL_FAIL_SYNTAX, NULL },
	{ "no nonce comma",    "n,,n=user,", SASL_FAIL_SYNTAX, NULL },
	{ "empty nonce",       "n,,n=user,r=", SASL_FAIL_SYNTAX, NULL },
	{ "empty nonce ext",   "n,,n=user,r=,x=1", SASL_FAIL_SYNTAX, NULL },
	{ "space in nonce",    "n,,n=user,r=a b", SASL_FAIL_SYNTAX, NULL },
	{ "8-bit nonce",       "n,,n=user,r=a\xc3\xa9", SASL_FAIL_SYNTAX, NULL },
	{ "nonce first",       "n,,r=abc,n=user", SASL_FAIL_SYNTAX, NULL },
	{ "empty",             "", SASL_FAIL_SYNTAX, NULL },
	{ "n only",            "n", SASL_FAIL_SYNTAX, NULL },
	{ "n comma",           "n,", SASL_FAIL_SYNTAX, NULL },
	{ "header only",       "n,,", SASL_FAIL_SYNTAX, NULL },
};
// clang-format on

static void
test_sasl_scram_client_first_table(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;
	enum sasl_result r;
	size_t i;

	for (i = 0; i < sizeof(first_cases) / sizeof(first_cases[0]); i++) {
		const struct first_case *c = &first_cases[i];

		s = sasl_server_new("SCRAM-SHA-256", MAX_RESPONSE);
		r = step_str(f, s, c->msg);
		if (r != c->want)
			fail_msg(
			    "%s: result %d, want %d", c->label, r, c->want);
		if (c->authcid != NULL)
			assert_string_equal(sasl_server_authcid(s), c->authcid);
		if (r != SASL_NEED_CREDENTIALS)
			assert_non_null(sasl_server_reason(s));
		sasl_server_free(&s);
	}
	/* a NUL inside the message */
	s = sasl_server_new("SCRAM-SHA-256", MAX_RESPONSE);
	assert_int_equal(
	    step_raw(f, s, P("n,,n=us\0er,r=abc")), SASL_FAIL_SYNTAX);
	sasl_server_free(&s);
}

/* The SCRAM user name and client nonce at 254, 255 and 256 octets. */
static void
test_sasl_scram_field_limits(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;
	char v[300], msg[700];
	size_t n;
	enum sasl_result want;

	memset(v, 'a', sizeof(v));
	for (n = SASL_FIELD_MAX - 1; n <= SASL_FIELD_MAX + 1; n++) {
		want = n <= SASL_FIELD_MAX ? SASL_NEED_CREDENTIALS
		                           : SASL_FAIL_SYNTAX;
		(void)snprintf(msg, sizeof(msg), "n,,n=%.*s,r=abc", (int)n, v);
		s = sasl_server_new("SCRAM-SHA-256", MAX_RESPONSE);
		assert_int_equal(step_str(f, s, msg), want);
		sasl_server_free(&s);
		(void)snprintf(msg, sizeof(msg), "n,,n=u,r=%.*s", (int)n, v);
		s = sasl_server_new("SCRAM-SHA-256", MAX_RESPONSE);
		assert_int_equal(step_str(f, s, msg), want);
		if (want == SASL_NEED_CREDENTIALS) /* fits SASL_CHALLENGE_MAX */
			assert_int_equal(
			    sasl_server_set_credentials(s, RFC_STORED, &f->out),
			    SASL_CHALLENGE);
		sasl_server_free(&s);
	}
}

struct final_case {
	const char *label;
	const char *msg;
	enum sasl_result want;
};

// clang-format off
static const struct final_case final_cases[] = {
	{ "rfc",              RFC_CFINAL, SASL_CHALLENGE },
	{ "extension",        RFC_CFINAL_WO ",x=1,p=" RFC_PROOF, SASL_FAIL_AUTH },
	{ "no proof",         RFC_CFINAL_WO, SASL_FAIL_SYNTAX },
	{ "empty proof",      RFC_CFINAL_WO ",p=", SASL_FAIL_SYNTAX },
	{ "short proof",      RFC_CFINAL_WO ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndQ==", SASL_FAIL_SYNTAX },
	{ "long proof",       RFC_CFINAL_WO ",p=" RFC_PROOF "AAAA", SASL_FAIL_SYNTAX },
	{ "proof not last",   "c=biws,p=" RFC_PROOF ",r=" RFC_NONCE, SASL_FAIL_SYNTAX },
	{ "proof only",       "p=" RFC_PROOF, SASL_FAIL_SYNTAX },
	{ "wrong binding y",  "c=eSws,r=" RFC_NONCE ",p=" RFC_PROOF, SASL_FAIL_SYNTAX },
	{ "binding data",     "c=biwsYWJj,r=" RFC_NONCE ",p=" RFC_PROOF, SASL_FAIL_SYNTAX },
	{ "bad binding b64",  "c=biw,r=" RFC_NONCE ",p=" RFC_PROOF, SASL_FAIL_SYNTAX },
	{ "no binding",       "r=" RFC_NONCE ",p=" RFC_PROOF, SASL_FAIL_SYNTAX },
	{ "binding to proof", "c=biws,p=" RFC_PROOF, SASL_FAIL_SYNTAX },
	{ "client nonce",     "c=biws,r=rOprNGfwEbeRWgbNEkqO,p=" RFC_PROOF, SASL_FAIL_SYNTAX },
	{ "longer nonce",     "c=biws,r=" RFC_NONCE "x,p=" RFC_PROOF, SASL_FAIL_SYNTAX },
	{ "no nonce",         "c=biws,x=1,p=" RFC_PROOF, SASL_FAIL_SYNTAX },
	{ "empty",            "", SASL_FAIL_SYNTAX },
	{ "c= only",          "c=", SASL_FAIL_SYNTAX },
	{ "comma",            ",", SASL_FAIL_SYNTAX },
	{ "comma p=",         ",p=", SASL_FAIL_SYNTAX },
};
// clang-format on

static void
test_sasl_scram_client_final_table(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;
	enum sasl_result r;
	size_t i;

	for (i = 0; i < sizeof(final_cases) / sizeof(final_cases[0]); i++) {
		const struct final_case *c = &final_cases[i];

		s = scram_to_final(f, RFC_STORED);
		r = step_str(f, s, c->msg);
		if (r != c->want)
			fail_msg(
			    "%s: result %d, want %d", c->label, r, c->want);
		sasl_server_free(&s);
	}
	s = scram_to_final(f, RFC_STORED);
	assert_int_equal(sasl_server_step(s, "*", 1, &f->out), SASL_CANCEL);
	sasl_server_free(&s);
}

/* After server-final, only an empty line completes the exchange. */
static void
test_sasl_scram_final_ack(void **state)
{
	static const struct {
		const char *line;
		enum sasl_result want;
	} rows[] = {
		{ "", SASL_SUCCESS },
		{ "*", SASL_CANCEL },
		{ "=", SASL_FAIL_SYNTAX },
		{ "AA==", SASL_FAIL_SYNTAX },
		{ "dj1hYmM=", SASL_FAIL_SYNTAX },
	};
	struct fixture *f = *state;
	struct sasl_server *s;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		s = scram_to_final(f, RFC_STORED);
		assert_int_equal(step_str(f, s, RFC_CFINAL), SASL_CHALLENGE);
		assert_int_equal(sasl_server_step(s, rows[i].line,
		                     strlen(rows[i].line), &f->out),
		    rows[i].want);
		assert_int_equal(sasl_server_username(s) != NULL,
		    rows[i].want == SASL_SUCCESS);
		sasl_server_free(&s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sasl_scram_rfc7677_exchange),
		cmocka_unit_test(test_sasl_scram_random_nonce),
		cmocka_unit_test(test_sasl_scram_wrong_proof_fails),
		cmocka_unit_test(
		    test_sasl_scram_unknown_user_is_indistinguishable),
		cmocka_unit_test(test_sasl_scram_client_first_table),
		cmocka_unit_test(test_sasl_scram_field_limits),
		cmocka_unit_test(test_sasl_scram_client_final_table),
		cmocka_unit_test(test_sasl_scram_final_ack),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
