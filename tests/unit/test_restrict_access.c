/* Unit tests of src/policy/restrict_access.c: check_client_access,
 * check_helo_access, check_sender_access and check_recipient_access, each
 * lookup order of access(5), each action, the DSN fixes, pattern tables
 * (whole keys only), broken tables, and smtpd_sender_login_maps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "restrict_test.h"

#define CLIENT       "smtpd_client_restrictions"
#define CCA          "check_client_access texthash:@D/t"
#define CHA          "check_helo_access texthash:@D/t"
#define CSA          "check_sender_access texthash:@D/t"
#define CRA          "check_recipient_access texthash:@D/t"
#define REJ(c, w, t) "REJECT 554 5.7.1 <" w ">: " c " rejected: " t

static const char client_table[] = "mx.bad.example REJECT bad name\n"
                                   "bad.example    REJECT parent\n"
                                   "192.0.2        REJECT net 192.0.2\n"
                                   "198.51.100.7   OK\n"
                                   "2001:db8       REJECT v6 net\n"
                                   "dunno.example  DUNNO\n";

// clang-format off
static const struct row client_rows[] = {
	{ "name", CLIENT, CCA, client_table, "203.0.113.1", "mx.bad.example", NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "mx.bad.example[203.0.113.1]", "bad name") },
	{ "parent domain", CLIENT, CCA, client_table, "203.0.113.1", "a.b.bad.example", NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "a.b.bad.example[203.0.113.1]", "parent") },
	{ "name before address", CLIENT, CCA, client_table, "198.51.100.7", "x.bad.example", NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "x.bad.example[198.51.100.7]", "parent") },
	{ "address", CLIENT, CCA, client_table, "198.51.100.7", "good.example", NULL, NULL, NULL, NULL, 0, "PERMIT" },
	{ "network", CLIENT, CCA, client_table, "192.0.2.99", "good.example", NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "good.example[192.0.2.99]", "net 192.0.2") },
	{ "network, no name", CLIENT, CCA, client_table, "192.0.2.99", NONE, NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "unknown[192.0.2.99]", "net 192.0.2") },
	{ "network, v4-mapped", CLIENT, CCA, client_table, "::ffff:192.0.2.99", NONE, NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "unknown[192.0.2.99]", "net 192.0.2") },
	{ "v6 network", CLIENT, CCA, client_table, "2001:db8::5", NONE, NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "unknown[2001:db8::5]", "v6 net") },
	{ "not listed", CLIENT, CCA, client_table, "203.0.113.1", "good.example", NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "DUNNO stops the search", CLIENT, CCA, client_table, "192.0.2.5", "sub.dunno.example", NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "no address", CLIENT, CCA, client_table, NONE, "good.example", NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "unknown is a key", CLIENT, CCA, "unknown REJECT no name\n", "203.0.113.1", NONE, NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "unknown[203.0.113.1]", "no name") },
	{ "numeric name: no parents", CLIENT, CCA, "2.3.4 REJECT p\n", "203.0.113.1", "1.2.3.4", NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "cidr table", CLIENT, "check_client_access cidr:@D/t", "192.0.2.0/24 REJECT cidr\n", "192.0.2.1", "mx.example", NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "mx.example[192.0.2.1]", "cidr") },
	{ "regexp table, name", CLIENT, "check_client_access regexp:@D/t", "/^mx\\./ REJECT re\n", "192.0.2.1", "mx.example", NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "mx.example[192.0.2.1]", "re") },
	{ "regexp table, no parent", CLIENT, "check_client_access regexp:@D/t", "/^example$/ REJECT re\n", "192.0.2.1", "mx.example", NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "regexp table, no network", CLIENT, "check_client_access regexp:@D/t", "/^192\\.0\\.2$/ REJECT re\n", "192.0.2.1", "mx.example", NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "client table in recipient list", NULL, CCA, client_table, "192.0.2.99", NONE, NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "unknown[192.0.2.99]", "net 192.0.2") },
};

static const char helo_table[] = "bad.helo.example REJECT helo bad\n"
				 "example.com      REJECT parent helo\n"
				 "[192.0.2.1]      REJECT literal\n";

static const struct row helo_rows[] = {
	{ "helo", NULL, CHA, helo_table, NULL, NULL, "bad.helo.example", NULL, NULL, NULL, 0,
	  REJ("Helo command", "bad.helo.example", "helo bad") },
	{ "helo any case", NULL, CHA, helo_table, NULL, NULL, "BAD.Helo.Example", NULL, NULL, NULL, 0,
	  REJ("Helo command", "BAD.Helo.Example", "helo bad") },
	{ "helo parent", NULL, CHA, helo_table, NULL, NULL, "mail.example.com", NULL, NULL, NULL, 0,
	  REJ("Helo command", "mail.example.com", "parent helo") },
	{ "helo literal", NULL, CHA, helo_table, NULL, NULL, "[192.0.2.1]", NULL, NULL, NULL, 0,
	  REJ("Helo command", "[192.0.2.1]", "literal") },
	{ "helo not listed", NULL, CHA, helo_table, NULL, NULL, "mx.example.org", NULL, NULL, NULL, 0, "DUNNO" },
	{ "no helo", NULL, CHA, helo_table, NULL, NULL, NONE, NULL, NULL, NULL, 0, "DUNNO" },
};

/* access(5): user+ext@domain, user@domain, domain, parents, user+ext@,
 * user@ -- each row removes the entry the row before matched. */
static const struct row order_rows[] = {
	{ "1 full address", NULL, CRA,
	  "u+tag@sub.d.example REJECT\nu@sub.d.example R2\nsub.d.example R3\nd.example R4\nu+tag@ R5\nu@ R6\n",
	  NULL, NULL, NULL, NULL, "u+tag@sub.d.example", NULL, 0,
	  "REJECT 554 5.7.1 <u+tag@sub.d.example>: Recipient address rejected: Access denied" },
	{ "2 without extension", NULL, CRA,
	  "u@sub.d.example DEFER 2\nsub.d.example R3\nd.example R4\nu+tag@ R5\nu@ R6\n",
	  NULL, NULL, NULL, NULL, "u+tag@sub.d.example", NULL, 0,
	  "DEFER 450 4.7.1 <u+tag@sub.d.example>: Recipient address rejected: 2" },
	{ "3 domain", NULL, CRA,
	  "sub.d.example DEFER 3\nd.example R4\nu+tag@ R5\nu@ R6\n",
	  NULL, NULL, NULL, NULL, "u+tag@sub.d.example", NULL, 0,
	  "DEFER 450 4.7.1 <u+tag@sub.d.example>: Recipient address rejected: 3" },
	{ "4 parent domain", NULL, CRA,
	  "d.example DEFER 4\nu+tag@ R5\nu@ R6\n",
	  NULL, NULL, NULL, NULL, "u+tag@sub.d.example", NULL, 0,
	  "DEFER 450 4.7.1 <u+tag@sub.d.example>: Recipient address rejected: 4" },
	{ "5 local part with extension", NULL, CRA,
	  "u+tag@ DEFER 5\nu@ R6\n",
	  NULL, NULL, NULL, NULL, "u+tag@sub.d.example", NULL, 0,
	  "DEFER 450 4.7.1 <u+tag@sub.d.example>: Recipient address rejected: 5" },
	{ "6 local part", NULL, CRA,
	  "u@ DEFER 6\n",
	  NULL, NULL, NULL, NULL, "u+tag@sub.d.example", NULL, 0,
	  "DEFER 450 4.7.1 <u+tag@sub.d.example>: Recipient address rejected: 6" },
	{ "7 nothing", NULL, CRA, "v@ DEFER 7\n",
	  NULL, NULL, NULL, NULL, "u+tag@sub.d.example", NULL, 0, "DUNNO" },
	{ "folded keys", NULL, CRA, "U@D.EXAMPLE DEFER up\n",
	  NULL, NULL, NULL, NULL, "u@d.example.", NULL, 0,
	  "DEFER 450 4.7.1 <u@d.example.>: Recipient address rejected: up" },
	{ "sender", NULL, CSA, "spam.example REJECT spammer\n",
	  NULL, NULL, NULL, "x@mail.spam.example", NULL, NULL, 0,
	  REJ("Sender address", "x@mail.spam.example", "spammer") },
	{ "null sender key", NULL, CSA, "<> REJECT Go away postmaster\n",
	  NULL, NULL, NULL, "", NULL, NULL, 0,
	  "REJECT 554 5.7.1 <>: Sender address rejected: Go away postmaster" },
	{ "no sender yet", CLIENT, CSA, "<> REJECT x\n", NULL, NULL, NULL, NONE, NULL, NULL, 0, "DUNNO" },
	{ "no recipient yet", CLIENT, CRA, "local.test REJECT x\n", NULL, NULL, NULL, NULL, NONE, NULL, 0, "DUNNO" },
	{ "regexp: whole address", NULL, "check_recipient_access regexp:@D/t", "/^u\\+tag@d\\.example$/ DEFER re\n",
	  NULL, NULL, NULL, NULL, "u+tag@d.example", NULL, 0,
	  "DEFER 450 4.7.1 <u+tag@d.example>: Recipient address rejected: re" },
	{ "regexp: no partial keys", NULL, "check_recipient_access pcre:@D/t", "/^d\\.example$/ DEFER re\n/^u@$/ DEFER re2\n",
	  NULL, NULL, NULL, NULL, "u@d.example", NULL, 0, "DUNNO" },
	{ "routed recipient: OK is not trusted", NULL, CRA, "local.test OK\n",
	  NULL, NULL, NULL, NULL, "a%b.example@local.test", NULL, 0, "DUNNO" },
	{ "routed recipient: REJECT is", NULL, CRA, "local.test REJECT\n",
	  NULL, NULL, NULL, NULL, "a!b@local.test", NULL, 0,
	  REJ("Recipient address", "a!b@local.test", "Access denied") },
	{ "plain recipient: OK", NULL, CRA, "local.test OK\n",
	  NULL, NULL, NULL, NULL, "ab@local.test", NULL, 0, "PERMIT" },
	{ "routed sender: OK", NULL, CSA, "local.test OK\n",
	  NULL, NULL, NULL, "a%b@local.test", NULL, NULL, 0, "PERMIT" },
};

#define ACT(v) "x@a.example " v "\n"
#define ACTROW(label, value, want) \
	{ label, NULL, CRA, ACT(value), NULL, NULL, NULL, NULL, "x@a.example", NULL, 0, want }
#define XR(t) "<x@a.example>: Recipient address rejected: " t

static const struct row action_rows[] = {
	ACTROW("OK", "OK", "PERMIT"),
	ACTROW("ok", "ok trailing text", "PERMIT"),
	ACTROW("RELAY", "RELAY", "PERMIT"),
	ACTROW("all digits", "1700000000", "PERMIT"),
	ACTROW("550 alone is digits", "550", "PERMIT"),
	ACTROW("REJECT", "REJECT", "REJECT 554 5.7.1 " XR("Access denied")),
	ACTROW("reject text", "reject go away", "REJECT 554 5.7.1 " XR("go away")),
	ACTROW("REJECT dsn", "REJECT 5.7.2 go away", "REJECT 554 5.7.2 " XR("go away")),
	ACTROW("REJECT dsn class fixed", "REJECT 4.7.2 go away", "REJECT 554 5.7.2 " XR("go away")),
	ACTROW("REJECT not a dsn", "REJECT 5.7 go away", "REJECT 554 5.7.1 " XR("5.7 go away")),
	ACTROW("REJECT dsn only", "REJECT 5.7.9", "REJECT 554 5.7.9 " XR("Access denied")),
	ACTROW("DEFER", "DEFER", "DEFER 450 4.7.1 " XR("Access denied")),
	ACTROW("DEFER text", "DEFER try later", "DEFER 450 4.7.1 " XR("try later")),
	ACTROW("5NN", "550 no such user", "REJECT 550 5.7.1 " XR("no such user")),
	ACTROW("5NN dsn", "550 5.1.1 no such user", "REJECT 550 5.1.1 " XR("no such user")),
	ACTROW("4NN", "450 busy", "DEFER 450 4.7.1 " XR("busy")),
	ACTROW("4NN dsn class fixed", "451 5.3.0 busy", "DEFER 451 4.3.0 " XR("busy")),
	ACTROW("421 disconnects", "421 bye", "DEFER 421 4.7.1 " XR("bye") " [disconnect]"),
	ACTROW("521 disconnects", "521 bye", "REJECT 521 5.7.1 " XR("bye") " [disconnect]"),
	ACTROW("6NN is no code", "600 x", "DEFER 451 4.3.5 " XR("Server configuration error")),
	ACTROW("DUNNO", "DUNNO", "DUNNO"),
	ACTROW("WARN logs", "WARN look at this", "DUNNO"),
	ACTROW("INFO logs", "INFO fyi", "DUNNO"),
	ACTROW("restrictions", "permit_mynetworks, reject", "REJECT 554 5.7.1 " XR("Access denied")),
	ACTROW("restriction permit", "permit_auth_destination reject", "REJECT 554 5.7.1 " XR("Access denied")),
	ACTROW("defer is the DEFER action", "defer", "DEFER 450 4.7.1 " XR("Access denied")),
	ACTROW("restriction defer", "permit_mynetworks defer", "DEFER 450 4.3.2 " XR("Try again later")),
	ACTROW("restriction nothing decides", "permit_mynetworks", "DUNNO"),
	ACTROW("empty restriction list", ",", "PERMIT"),
	ACTROW("table restriction refused", "check_client_access hash:/x", "DEFER 451 4.3.5 " XR("Server configuration error")),
	ACTROW("unknown restriction", "reject_everything", "DEFER 451 4.3.5 " XR("Server configuration error")),
	ACTROW("DNS restriction", "reject_unknown_recipient_domain", "DUNNO"),
	ACTROW("HOLD unsupported", "HOLD", "DEFER 451 4.3.5 " XR("Server configuration error")),
	ACTROW("DISCARD unsupported", "DISCARD", "DEFER 451 4.3.5 " XR("Server configuration error")),
	ACTROW("DEFER_IF_PERMIT", "DEFER_IF_PERMIT not now", "DEFER 450 4.7.1 " XR("not now")),
	ACTROW("DEFER_IF_PERMIT with dsn", "DEFER_IF_PERMIT 4.7.2 later", "DEFER 450 4.7.2 " XR("later")),
	ACTROW("DEFER_IF_PERMIT, generic text", "DEFER_IF_PERMIT", "DEFER 450 4.7.1 " XR("Access denied")),
	ACTROW("DEFER_IF_REJECT unsupported", "DEFER_IF_REJECT x", "DEFER 451 4.3.5 " XR("Server configuration error")),
	{ "restrictions in client table speak of the client", CLIENT, CCA, "192.0.2.10 reject\n", NULL, NONE, NULL, NULL, NULL, NULL, 0,
	  REJ("Client host", "unknown[192.0.2.10]", "Access denied") },
	{ "sender dsn 5.1.1 becomes 5.1.7", NULL, CSA, "s@sender.example REJECT 5.1.1 unknown\n", NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.1.7 <s@sender.example>: Sender address rejected: unknown" },
	{ "sender dsn 5.1.2 becomes 5.1.8", NULL, CSA, "s@sender.example REJECT 5.1.2 unknown\n", NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.1.8 <s@sender.example>: Sender address rejected: unknown" },
	{ "recipient dsn 5.1.8 becomes 5.1.2", NULL, CRA, ACT("REJECT 5.1.8 x"), NULL, NULL, NULL, NULL, "x@a.example", NULL, 0,
	  "REJECT 554 5.1.2 " XR("x") },
	{ "recipient dsn 5.1.9 becomes 5.1.0", NULL, CRA, ACT("REJECT 5.1.9 x"), NULL, NULL, NULL, NULL, "x@a.example", NULL, 0,
	  "REJECT 554 5.1.0 " XR("x") },
	{ "other dsn kept", CLIENT, CCA, "192.0.2.10 REJECT 5.7.27 x\n", NULL, NONE, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.27 <unknown[192.0.2.10]>: Client host rejected: x" },
	{ "regexp value with $1", NULL, "check_recipient_access regexp:@D/t", "/^(.*)@a\\.example$/ REJECT no $1 here\n", NULL, NULL, NULL, NULL, "x@a.example", NULL, 0,
	  "REJECT 554 5.7.1 " XR("no x here") },
};
// clang-format on

static void
test_restrict_access_client_rows(void **state)
{
	struct fixture *f = *state;

	run_rows(client_rows, MW_NELEM(client_rows), f->dir, NULL);
}

static void
test_restrict_access_helo_rows(void **state)
{
	struct fixture *f = *state;

	run_rows(helo_rows, MW_NELEM(helo_rows), f->dir, NULL);
}

static void
test_restrict_access_address_order(void **state)
{
	struct fixture *f = *state;

	run_rows(order_rows, MW_NELEM(order_rows), f->dir, NULL);
}

static void
test_restrict_access_actions(void **state)
{
	struct fixture *f = *state;

	run_rows(action_rows, MW_NELEM(action_rows), f->dir, NULL);
}

/* The client check fixes the DSN class digit: "REJECT 5.1.1" of a client
 * table is "5.0.0". */
static void
test_restrict_access_client_dsn(void **state)
{
	struct fixture *f = *state;
	const struct row r = { "dsn", CLIENT, CCA,
		"192.0.2.10 REJECT 5.1.1 x\n", NULL, NONE, NULL, NULL, NULL,
		NULL, 0, NULL };
	char *got = run_row(&r, f->dir, NULL, &(struct world){ { 0 }, { 0 } });

	assert_string_equal(got,
	    "REJECT 554 5.0.0 <unknown[192.0.2.10]>: Client host rejected: x");
	free(got);
}

/* A table that breaks after start-up makes lookups answer 451 4.3.5,
 * never "not found". */
static void
test_restrict_access_broken_table(void **state)
{
	struct fixture *f = *state;
	struct restrict_list *l;
	struct restrict_reply reply;
	struct restrict_ctx ctx;
	struct conf_list items;
	struct buf err;
	char *path = xasprintf("%s/t", f->dir), *spec;
	int i;

	assert_int_equal(
	    fs_atomic_write(path, "x@a.example OK\n", 15, 0644), 0);
	spec = xasprintf("check_recipient_access texthash:%s", path);
	make_list(spec, &items);
	buf_init(&err, 4096);
	l = restrict_list_new("smtpd_recipient_restrictions", &items, &err);
	assert_non_null(l);
	memset(&ctx, 0, sizeof(ctx));
	ctx.recipient = "x@a.example";
	restrict_reply_init(&reply);
	assert_int_equal(restrict_list_eval(l, &ctx, &reply), RESTRICT_PERMIT);
	assert_non_null(strstr(reply.restriction,
	    "check_recipient_access "
	    "texthash:"));
	assert_int_equal(unlink(path), 0);
	/* the table notices within a second; give up after 500 polls */
	for (i = 0; i < 500; i++) {
		if (restrict_list_eval(l, &ctx, &reply) == RESTRICT_DEFER)
			break;
		(void)usleep(20000);
	}
	assert_int_equal(reply.code, 451);
	assert_string_equal(reply.enh, "4.3.5");
	assert_string_equal(buf_cstr(&reply.text),
	    "<x@a.example>: Recipient address rejected: Server configuration "
	    "error");
	restrict_reply_free(&reply);
	restrict_list_free(&l);
	free_list(&items);
	buf_free(&err);
	free(spec);
	free(path);
}

// clang-format off
static const struct row login_map_rows[] = {
	{ "listed", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@maps.example", NULL, "alice", 0, "DUNNO" },
	{ "listed, extension", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice+lists@maps.example", NULL, "alice", 0, "DUNNO" },
	{ "listed for another", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@maps.example", NULL, "bob", 0,
	  "REJECT 553 5.7.1 <alice@maps.example>: Sender address rejected: not owned by user bob" },
	{ "catch-all @domain", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "anyone@catchall.example", NULL, "carol", 0, "DUNNO" },
	{ "catch-all for another", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "anyone@catchall.example", NULL, "alice", 0,
	  "REJECT 553 5.7.1 <anyone@catchall.example>: Sender address rejected: not owned by user alice" },
	{ "full address before @domain", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "boss@catchall.example", NULL, "dave", 0, "DUNNO" },
	{ "local part of a local domain", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "bob@local.test", NULL, "bob2", 0, "DUNNO" },
	{ "local part of a remote domain", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "bob@remote.example", NULL, "bob2", 0,
	  "REJECT 553 5.7.1 <bob@remote.example>: Sender address rejected: not owned by user bob2" },
	{ "not in maps: callback", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@local.test", NULL, "alice", 0, "DUNNO" },
	{ "in maps, not logged in", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@maps.example", NULL, NULL, 0,
	  "REJECT 553 5.7.1 <alice@maps.example>: Sender address rejected: not logged in" },
};
// clang-format on

static void
test_restrict_access_login_maps(void **state)
{
	struct fixture *f = *state;
	struct restrict_login_maps *m;
	struct conf_list specs;
	struct buf err;
	char *path = xasprintf("%s/logins", f->dir), *spec;
	const char *text = "alice@maps.example alice\n"
	                   "@catchall.example carol\n"
	                   "boss@catchall.example dave\n"
	                   "bob bob2\n";

	assert_int_equal(fs_atomic_write(path, text, strlen(text), 0644), 0);
	spec = xasprintf("texthash:%s", path);
	make_list(spec, &specs);
	buf_init(&err, 4096);
	m = restrict_login_maps_new(&specs, &err);
	assert_non_null(m);
	run_rows(login_map_rows, MW_NELEM(login_map_rows), f->dir, m);
	restrict_login_maps_free(&m);
	assert_null(m);
	free_list(&specs);
	free(spec);
	/* a missing table is a start-up error */
	make_list("hash:/nonexistent/logins", &specs);
	assert_null(restrict_login_maps_new(&specs, &err));
	assert_string_equal(buf_cstr(&err),
	    "smtpd_sender_login_maps: cannot read /nonexistent/logins: No "
	    "such file or directory");
	free_list(&specs);
	buf_free(&err);
	free(path);
}

int
main(void)
{
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_restrict_access_client_rows),
		T(test_restrict_access_helo_rows),
		T(test_restrict_access_address_order),
		T(test_restrict_access_actions),
		T(test_restrict_access_client_dsn),
		T(test_restrict_access_broken_table),
		T(test_restrict_access_login_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
