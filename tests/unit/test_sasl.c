/* Unit tests of src/auth/sasl.c: mechanism names, PLAIN and LOGIN
 * exchanges, the wire forms of RFC 4954 4 (initial "=", cancel "*"),
 * malformed messages, the field and response limits. SCRAM-SHA-256 is in
 * test_sasl_scram.c. */
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

#include "sasl_test.h"

static void
test_sasl_mechanism_names(void **state)
{
	static const struct {
		const char *name;
		const char *canonical;
	} rows[] = {
		{ "PLAIN", "PLAIN" },
		{ "plain", "PLAIN" },
		{ "Login", "LOGIN" },
		{ "scram-sha-256", "SCRAM-SHA-256" },
		{ "SCRAM-SHA-256-PLUS", NULL },
		{ "SCRAM-SHA-1", NULL },
		{ "CRAM-MD5", NULL },
		{ "PLAIN ", NULL },
		{ "", NULL },
	};
	struct sasl_server *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		s = sasl_server_new(rows[i].name, 100);
		assert_int_equal(sasl_mech_supported(rows[i].name),
		    rows[i].canonical != NULL);
		if (rows[i].canonical == NULL) {
			if (s != NULL)
				fail_msg("%s: accepted", rows[i].name);
			continue;
		}
		assert_non_null(s);
		assert_string_equal(sasl_server_mech(s), rows[i].canonical);
		sasl_server_free(&s);
		assert_null(s);
	}
	assert_null(sasl_server_new(NULL, 100));
	assert_false(sasl_mech_supported(NULL));
	sasl_server_free(&s); /* NULL is fine */
}

struct plain_case {
	const char *label;
	const char *msg; /* raw PLAIN message */
	size_t len;
	enum sasl_result want;
	const char *authcid, *authzid, *password;
};

#define P(s) s, sizeof(s) - 1
// clang-format off
static const struct plain_case plain_cases[] = {
	{ "no authzid",       P("\0user\0pencil"), SASL_NEED_PASSWORD_CHECK, "user", "", "pencil" },
	{ "authzid = user",   P("user\0user\0pencil"), SASL_NEED_PASSWORD_CHECK, "user", "user", "pencil" },
	{ "authzid case",     P("USER@EX.ORG\0user@ex.org\0pw"), SASL_NEED_PASSWORD_CHECK, "user@ex.org", "USER@EX.ORG", "pw" },
	{ "authzid other",    P("admin\0user\0pencil"), SASL_FAIL_AUTH, "user", "admin", NULL },
	{ "utf-8 password",   P("\0user\0p\xc3\xa2ss \xe2\x82\xac"), SASL_NEED_PASSWORD_CHECK, "user", "", "p\xc3\xa2ss \xe2\x82\xac" },
	{ "space in password", P("\0user\0 a b "), SASL_NEED_PASSWORD_CHECK, "user", "", " a b " },
	{ "empty message",    P(""), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "no NUL",           P("userpencil"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "one NUL",          P("user\0pencil"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "three NULs",       P("\0user\0pen\0cil"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "trailing NUL",     P("\0user\0pencil\0"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "empty authcid",    P("\0\0pencil"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "empty password",   P("\0user\0"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "only NULs",        P("\0\0"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "bad utf-8 pass",   P("\0user\0\xff\xfe"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "overlong utf-8",   P("\0us\xc0\xafr\0pencil"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "surrogate",        P("\0user\0\xed\xa0\x80"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
	{ "cut utf-8 authzid", P("\xc3\0user\0pencil"), SASL_FAIL_SYNTAX, NULL, NULL, NULL },
};
// clang-format on

static void
test_sasl_plain_messages(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;
	enum sasl_result r;
	size_t i;

	for (i = 0; i < sizeof(plain_cases) / sizeof(plain_cases[0]); i++) {
		const struct plain_case *c = &plain_cases[i];

		s = sasl_server_new("PLAIN", MAX_RESPONSE);
		r = step_raw(f, s, c->msg, c->len);
		if (r != c->want)
			fail_msg(
			    "%s: result %d, want %d", c->label, r, c->want);
		if (c->authcid != NULL)
			assert_string_equal(sasl_server_authcid(s), c->authcid);
		else
			assert_null(sasl_server_authcid(s));
		if (c->authzid != NULL)
			assert_string_equal(sasl_server_authzid(s), c->authzid);
		if (c->password != NULL)
			assert_string_equal(
			    sasl_server_password(s), c->password);
		else
			assert_null(sasl_server_password(s));
		if (r != SASL_NEED_PASSWORD_CHECK)
			assert_non_null(sasl_server_reason(s));
		assert_null(sasl_server_username(s));
		sasl_server_free(&s);
	}
}

static void
test_sasl_plain_success_and_failure(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;

	/* with the initial response */
	s = sasl_server_new("PLAIN", MAX_RESPONSE);
	assert_int_equal(
	    step_raw(f, s, P("\0user\0pencil")), SASL_NEED_PASSWORD_CHECK);
	assert_int_equal(sasl_server_password_result(s, true), SASL_SUCCESS);
	assert_string_equal(sasl_server_username(s), "user");
	assert_null(sasl_server_password(s)); /* wiped */
	assert_null(sasl_server_reason(s));
	sasl_server_free(&s);

	/* without: an empty "334 " challenge first */
	s = sasl_server_new("PLAIN", MAX_RESPONSE);
	assert_int_equal(sasl_server_step(s, NULL, 0, &f->out), SASL_CHALLENGE);
	assert_int_equal(f->out.len, 0);
	assert_int_equal(
	    step_raw(f, s, P("\0user\0wrong")), SASL_NEED_PASSWORD_CHECK);
	assert_int_equal(sasl_server_password_result(s, false), SASL_FAIL_AUTH);
	assert_null(sasl_server_username(s));
	assert_string_equal(sasl_server_authcid(s), "user"); /* for the log */
	assert_non_null(sasl_server_reason(s));
	sasl_server_free(&s);
}

struct wire_case {
	const char *label;
	const char *mech;
	bool initial; /* the line is the AUTH command's initial response */
	const char *line;
	enum sasl_result want;
};

// clang-format off
static const struct wire_case wire_cases[] = {
	{ "plain = initial",     "PLAIN", true,  "=", SASL_FAIL_SYNTAX },
	{ "plain * initial",     "PLAIN", true,  "*", SASL_FAIL_SYNTAX },
	{ "plain * response",    "PLAIN", false, "*", SASL_CANCEL },
	{ "plain = response",    "PLAIN", false, "=", SASL_FAIL_SYNTAX },
	{ "plain empty line",    "PLAIN", false, "", SASL_FAIL_SYNTAX },
	{ "plain bad base64",    "PLAIN", true,  "AHVzZXIAcGVuY2ls=", SASL_FAIL_SYNTAX },
	{ "plain space",         "PLAIN", true,  "AHVzZXIA cGVuY2ls", SASL_FAIL_SYNTAX },
	{ "plain trailing sp",   "PLAIN", false, "AHVzZXIAcGVuY2ls ", SASL_FAIL_SYNTAX },
	{ "plain ok",            "PLAIN", false, "AHVzZXIAcGVuY2ls", SASL_NEED_PASSWORD_CHECK },
	{ "plain ** response",   "PLAIN", false, "**", SASL_FAIL_SYNTAX },
	{ "login = initial",     "LOGIN", true,  "=", SASL_FAIL_SYNTAX },
	{ "login * user",        "LOGIN", false, "*", SASL_CANCEL },
	{ "login empty user",    "LOGIN", false, "", SASL_FAIL_SYNTAX },
	{ "login bad base64",    "LOGIN", false, "dXNlcg", SASL_FAIL_SYNTAX },
	{ "login user",          "LOGIN", false, "dXNlcg==", SASL_CHALLENGE },
	{ "login user initial",  "LOGIN", true,  "dXNlcg==", SASL_CHALLENGE },
	{ "login NUL in user",   "LOGIN", false, "dQBy", SASL_FAIL_SYNTAX },
	{ "scram = initial",     "SCRAM-SHA-256", true, "=", SASL_FAIL_SYNTAX },
	{ "scram * response",    "SCRAM-SHA-256", false, "*", SASL_CANCEL },
	{ "scram empty line",    "SCRAM-SHA-256", false, "", SASL_FAIL_SYNTAX },
};
// clang-format on

static void
test_sasl_wire_forms(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;
	enum sasl_result r;
	size_t i;

	for (i = 0; i < sizeof(wire_cases) / sizeof(wire_cases[0]); i++) {
		const struct wire_case *c = &wire_cases[i];

		s = sasl_server_new(c->mech, MAX_RESPONSE);
		if (!c->initial)
			assert_int_equal(sasl_server_step(s, NULL, 0, &f->out),
			    SASL_CHALLENGE);
		r = sasl_server_step(s, c->line, strlen(c->line), &f->out);
		if (r != c->want)
			fail_msg(
			    "%s: result %d, want %d", c->label, r, c->want);
		sasl_server_free(&s);
	}
}

/* A NUL on the wire is not base64 either. */
static void
test_sasl_nul_on_the_wire(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;

	s = sasl_server_new("PLAIN", MAX_RESPONSE);
	assert_int_equal(
	    sasl_server_step(s, "AHVz\0XIA", 8, &f->out), SASL_FAIL_SYNTAX);
	sasl_server_free(&s);
}

/* max_response bounds the base64 text: max-1, max and max+1. */
static void
test_sasl_response_limit(void **state)
{
	static const char line[] = "AHVzZXIAcGVuY2ls"; /* 16 characters */
	static const struct {
		size_t max;
		enum sasl_result want;
	} rows[] = {
		{ 15, SASL_FAIL_SYNTAX },
		{ 16, SASL_NEED_PASSWORD_CHECK },
		{ 17, SASL_NEED_PASSWORD_CHECK },
	};
	struct fixture *f = *state;
	struct sasl_server *s;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		s = sasl_server_new("PLAIN", rows[i].max);
		assert_int_equal(
		    sasl_server_step(s, line, 16, &f->out), rows[i].want);
		sasl_server_free(&s);
		s = sasl_server_new("PLAIN", rows[i].max);
		assert_int_equal(
		    sasl_server_step(s, NULL, 0, &f->out), SASL_CHALLENGE);
		assert_int_equal(
		    sasl_server_step(s, line, 16, &f->out), rows[i].want);
		sasl_server_free(&s);
	}
}

/* Each PLAIN field at 254, 255 and 256 octets (RFC 4616 2). */
static void
test_sasl_plain_field_limits(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;
	char msg[3 * 300];
	size_t field, n, len;
	enum sasl_result want;

	for (field = 0; field < 3; field++) {
		for (n = SASL_FIELD_MAX - 1; n <= SASL_FIELD_MAX + 1; n++) {
			size_t sizes[3] = { 0, 4, 6 };
			size_t k, off = 0;

			sizes[field] = n;
			if (field == 0) /* authzid must equal authcid */
				sizes[1] = n;
			for (k = 0; k < 3; k++) {
				memset(msg + off, k == 2 ? 'p' : 'u', sizes[k]);
				off += sizes[k];
				if (k < 2)
					msg[off++] = '\0';
			}
			len = off;
			want = n <= SASL_FIELD_MAX ? SASL_NEED_PASSWORD_CHECK
			                           : SASL_FAIL_SYNTAX;
			s = sasl_server_new("PLAIN", MAX_RESPONSE);
			if (step_raw(f, s, msg, len) != want)
				fail_msg("field %zu at %zu", field, n);
			if (want == SASL_NEED_PASSWORD_CHECK)
				assert_int_equal(
				    strlen(sasl_server_password(s)), sizes[2]);
			sasl_server_free(&s);
		}
	}
}

static void
test_sasl_login_exchange(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;

	s = sasl_server_new("LOGIN", MAX_RESPONSE);
	assert_int_equal(sasl_server_step(s, NULL, 0, &f->out), SASL_CHALLENGE);
	assert_string_equal(buf_cstr(&f->out), "VXNlcm5hbWU6");
	assert_string_equal(challenge(f), "Username:");
	assert_int_equal(step_str(f, s, "user@example.org"), SASL_CHALLENGE);
	assert_string_equal(buf_cstr(&f->out), "UGFzc3dvcmQ6");
	assert_string_equal(challenge(f), "Password:");
	assert_string_equal(sasl_server_authcid(s), "user@example.org");
	assert_null(sasl_server_password(s));
	assert_int_equal(step_str(f, s, "pencil"), SASL_NEED_PASSWORD_CHECK);
	assert_string_equal(sasl_server_password(s), "pencil");
	assert_string_equal(sasl_server_authzid(s), "");
	assert_int_equal(sasl_server_password_result(s, true), SASL_SUCCESS);
	assert_string_equal(sasl_server_username(s), "user@example.org");
	sasl_server_free(&s);

	/* initial response = user name */
	s = sasl_server_new("login", MAX_RESPONSE);
	assert_int_equal(step_str(f, s, "user"), SASL_CHALLENGE);
	assert_string_equal(challenge(f), "Password:");
	assert_int_equal(step_str(f, s, "x"), SASL_NEED_PASSWORD_CHECK);
	assert_int_equal(sasl_server_password_result(s, false), SASL_FAIL_AUTH);
	assert_null(sasl_server_username(s));
	sasl_server_free(&s);
}

static void
test_sasl_login_malformed_password(void **state)
{
	static const struct {
		const char *label;
		const char *pass;
		size_t len;
		enum sasl_result want;
	} rows[] = {
		{ "empty", P(""), SASL_FAIL_SYNTAX },
		{ "NUL", P("pen\0cil"), SASL_FAIL_SYNTAX },
		{ "bad utf-8", P("pen\x80"), SASL_FAIL_SYNTAX },
		{ "utf-8", P("\xc3\xa9t\xc3\xa9"), SASL_NEED_PASSWORD_CHECK },
	};
	struct fixture *f = *state;
	struct sasl_server *s;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		s = sasl_server_new("LOGIN", MAX_RESPONSE);
		assert_int_equal(step_str(f, s, "user"), SASL_CHALLENGE);
		if (step_raw(f, s, rows[i].pass, rows[i].len) != rows[i].want)
			fail_msg("%s", rows[i].label);
		sasl_server_free(&s);
	}
	/* cancel at the password prompt */
	s = sasl_server_new("LOGIN", MAX_RESPONSE);
	assert_int_equal(step_str(f, s, "user"), SASL_CHALLENGE);
	assert_int_equal(sasl_server_step(s, "*", 1, &f->out), SASL_CANCEL);
	sasl_server_free(&s);
}

/* LOGIN's user name and password at 254, 255 and 256 octets. */
static void
test_sasl_login_field_limits(void **state)
{
	struct fixture *f = *state;
	struct sasl_server *s;
	char v[300];
	size_t n;

	memset(v, 'a', sizeof(v));
	for (n = SASL_FIELD_MAX - 1; n <= SASL_FIELD_MAX + 1; n++) {
		s = sasl_server_new("LOGIN", MAX_RESPONSE);
		assert_int_equal(step_raw(f, s, v, n),
		    n <= SASL_FIELD_MAX ? SASL_CHALLENGE : SASL_FAIL_SYNTAX);
		sasl_server_free(&s);
		s = sasl_server_new("LOGIN", MAX_RESPONSE);
		assert_int_equal(step_str(f, s, "user"), SASL_CHALLENGE);
		assert_int_equal(step_raw(f, s, v, n),
		    n <= SASL_FIELD_MAX ? SASL_NEED_PASSWORD_CHECK
		                        : SASL_FAIL_SYNTAX);
		sasl_server_free(&s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sasl_mechanism_names),
		cmocka_unit_test(test_sasl_plain_messages),
		cmocka_unit_test(test_sasl_plain_success_and_failure),
		cmocka_unit_test(test_sasl_wire_forms),
		cmocka_unit_test(test_sasl_nul_on_the_wire),
		cmocka_unit_test(test_sasl_response_limit),
		cmocka_unit_test(test_sasl_plain_field_limits),
		cmocka_unit_test(test_sasl_login_exchange),
		cmocka_unit_test(test_sasl_login_malformed_password),
		cmocka_unit_test(test_sasl_login_field_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
