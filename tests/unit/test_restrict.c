/* Unit tests of src/policy/restrict.c and restrict_check.c: parsing
 * restriction lists, each restriction that needs no table with Postfix's
 * codes and texts, the relay-trick battery, and sender login ownership.
 * Access tables are test_restrict_access.c's. */
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

#include "restrict_test.h"

#define RR "smtpd_relay_restrictions"

// clang-format off
static const struct row simple_rows[] = {
	{ "permit", NULL, "permit", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "PERMIT" },
	{ "empty list", NULL, "", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "reject (recipient list)", NULL, "reject", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <user@local.test>: Recipient address rejected: Access denied" },
	{ "reject (relay list)", RR, "reject", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <user@local.test>: Recipient address rejected: Access denied" },
	{ "reject (client list)", "smtpd_client_restrictions", "reject", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <mx.client.example[192.0.2.10]>: Client host rejected: Access denied" },
	{ "reject (client list, no name)", "smtpd_client_restrictions", "reject", NULL, NULL, NONE, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <unknown[192.0.2.10]>: Client host rejected: Access denied" },
	{ "reject (client list, v4-mapped)", "smtpd_client_restrictions", "reject", NULL, "::ffff:192.0.2.7", NONE, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <unknown[192.0.2.7]>: Client host rejected: Access denied" },
	{ "reject (client list, v6)", "smtpd_client_restrictions", "reject", NULL, "2001:db8::1", NONE, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <unknown[2001:db8::1]>: Client host rejected: Access denied" },
	{ "reject (helo list)", "smtpd_helo_restrictions", "reject", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <mx.client.example>: Helo command rejected: Access denied" },
	{ "reject (sender list)", "smtpd_sender_restrictions", "reject", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <s@sender.example>: Sender address rejected: Access denied" },
	{ "reject (sender list, null sender)", "smtpd_sender_restrictions", "reject", NULL, NULL, NULL, NULL, "", NULL, NULL, 0,
	  "REJECT 554 5.7.1 <>: Sender address rejected: Access denied" },
	{ "reject (data list)", "smtpd_data_restrictions", "reject", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <DATA>: Data command rejected: Access denied" },
	{ "reject (submission relay list)", "submission_relay_restrictions", "permit_sasl_authenticated reject", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <user@local.test>: Recipient address rejected: Access denied" },
	{ "control bytes replaced", "smtpd_sender_restrictions", "reject", NULL, NULL, NULL, NULL, "a\rb\x01@x.example", NULL, NULL, 0,
	  "REJECT 554 5.7.1 <a?b?@x.example>: Sender address rejected: Access denied" },
	{ "defer", NULL, "defer", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "DEFER 450 4.3.2 <user@local.test>: Recipient address rejected: Try again later" },
	{ "names any case", NULL, "PERMIT_MYNETWORKS, Reject", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, "PERMIT" },
	{ "permit_mynetworks yes", NULL, "permit_mynetworks", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, "PERMIT" },
	{ "permit_mynetworks no", NULL, "permit_mynetworks", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "permit_sasl_authenticated yes", NULL, "permit_sasl_authenticated", NULL, NULL, NULL, NULL, NULL, NULL, "alice", 0, "PERMIT" },
	{ "permit_sasl_authenticated no", NULL, "permit_sasl_authenticated", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "order: first decision wins", NULL, "permit_mynetworks reject permit", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <user@local.test>: Recipient address rejected: Access denied" },
	{ "reject_unauth_destination local", RR, "reject_unauth_destination", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "reject_unauth_destination remote", RR, "reject_unauth_destination", NULL, NULL, NULL, NULL, NULL, "x@remote.example", NULL, 0,
	  "REJECT 554 5.7.1 <x@remote.example>: Relay access denied" },
	{ "reject_unauth_destination tempfail", RR, "reject_unauth_destination", NULL, NULL, NULL, NULL, NULL, "x@tempfail.test", NULL, 0,
	  "DEFER 451 4.3.0 <x@tempfail.test>: Temporary lookup failure" },
	{ "reject_unauth_destination no rcpt", "smtpd_client_restrictions", "reject_unauth_destination", NULL, NULL, NULL, NULL, NULL, NONE, NULL, 0, "DUNNO" },
	{ "defer_unauth_destination", RR, "defer_unauth_destination", NULL, NULL, NULL, NULL, NULL, "x@remote.example", NULL, 0,
	  "DEFER 450 4.7.1 <x@remote.example>: Relay access denied" },
	{ "permit_auth_destination local", RR, "permit_auth_destination", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "PERMIT" },
	{ "permit_auth_destination remote", RR, "permit_auth_destination", NULL, NULL, NULL, NULL, NULL, "x@remote.example", NULL, 0, "DUNNO" },
	{ "default relay list, mynetworks", RR, "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination", NULL, NULL, NULL, NULL, NULL, "x@remote.example", NULL, 1, "PERMIT" },
	{ "default relay list, authenticated", RR, "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination", NULL, NULL, NULL, NULL, NULL, "x@remote.example", "alice", 0, "PERMIT" },
	{ "default relay list, stranger", RR, "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination", NULL, NULL, NULL, NULL, NULL, "x@remote.example", NULL, 0,
	  "REJECT 554 5.7.1 <x@remote.example>: Relay access denied" },
	{ "reject_unlisted_recipient known", NULL, "reject_unlisted_recipient", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "reject_unlisted_recipient unknown", NULL, "reject_unlisted_recipient", NULL, NULL, NULL, NULL, NULL, "nobody@local.test", NULL, 0,
	  "REJECT 550 5.1.1 <nobody@local.test>: Recipient address rejected: User unknown in local recipient table" },
	{ "reject_unlisted_recipient remote", NULL, "reject_unlisted_recipient", NULL, NULL, NULL, NULL, NULL, "nobody@remote.example", NULL, 0, "DUNNO" },
	{ "reject_unlisted_recipient tempfail", NULL, "reject_unlisted_recipient", NULL, NULL, NULL, NULL, NULL, "temp@local.test", NULL, 0,
	  "DEFER 451 4.3.0 <temp@local.test>: Temporary lookup failure" },
	{ "reject_unlisted_recipient domain tempfail", NULL, "reject_unlisted_recipient", NULL, NULL, NULL, NULL, NULL, "x@tempfail.test", NULL, 0,
	  "DEFER 451 4.3.0 <x@tempfail.test>: Temporary lookup failure" },
	{ "reject_unlisted_recipient normalised", NULL, "reject_unlisted_recipient", NULL, NULL, NULL, NULL, NULL, "\"user\"@LOCAL.test.", NULL, 0, "DUNNO" },
	{ "reject_unlisted_sender", NULL, "reject_unlisted_sender", NULL, NULL, NULL, NULL, "nobody@local.test", NULL, NULL, 0,
	  "REJECT 550 5.1.0 <nobody@local.test>: Sender address rejected: User unknown in local recipient table" },
	{ "reject_unlisted_sender null", NULL, "reject_unlisted_sender", NULL, NULL, NULL, NULL, "", NULL, NULL, 0, "DUNNO" },
	{ "reject_unlisted_sender remote", NULL, "reject_unlisted_sender", NULL, NULL, NULL, NULL, "x@remote.example", NULL, NULL, 0, "DUNNO" },
};

#define SR "smtpd_sender_restrictions"
#define HR "smtpd_helo_restrictions"
static const struct row dns_rows[] = {
	{ "sender domain found", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "s@mx.example", NULL, NULL, 0, "DUNNO" },
	{ "sender domain not found", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "s@nx.example", NULL, NULL, 0,
	  "DEFER 450 4.1.8 <s@nx.example>: Sender address rejected: Domain not found" },
	{ "sender domain null MX", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "s@nullmx.example", NULL, NULL, 0,
	  "REJECT 550 5.7.27 <s@nullmx.example>: Sender address rejected: Domain nullmx.example does not accept mail (nullMX)" },
	{ "sender domain malformed MX", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "s@bad.example", NULL, NULL, 0,
	  "DEFER 450 4.1.8 <s@bad.example>: Sender address rejected: Malformed DNS server reply" },
	{ "sender domain DNS failure", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "s@fail.example", NULL, NULL, 0,
	  "DEFER 450 4.1.8 <s@fail.example>: Sender address rejected: Domain not found" },
	{ "DNS failure, then permit", SR, "reject_unknown_sender_domain permit", NULL, NULL, NULL, NULL, "s@fail.example", NULL, NULL, 0,
	  "DEFER 450 4.1.8 <s@fail.example>: Sender address rejected: Domain not found" },
	{ "DNS failure, then reject", SR, "reject_unknown_sender_domain reject", NULL, NULL, NULL, NULL, "s@fail.example", NULL, NULL, 0,
	  "REJECT 554 5.7.1 <s@fail.example>: Sender address rejected: Access denied" },
	{ "sender domain upper case, trailing dot", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "s@NX.Example.", NULL, NULL, 0,
	  "DEFER 450 4.1.8 <s@NX.Example.>: Sender address rejected: Domain not found" },
	{ "local sender domain not looked up", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "user@local.test", NULL, NULL, 0, "DUNNO" },
	{ "literal sender domain not looked up", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "s@[192.0.2.1]", NULL, NULL, 0, "DUNNO" },
	{ "null sender", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "", NULL, NULL, 0, "DUNNO" },
	{ "no domain", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "postmaster", NULL, NULL, 0, "DUNNO" },
	{ "local domain lookup fails", SR, "reject_unknown_sender_domain", NULL, NULL, NULL, NULL, "s@tempfail.test", NULL, NULL, 0,
	  "DEFER 451 4.3.0 <s@tempfail.test>: Temporary lookup failure" },
	{ "recipient domain not found", NULL, "reject_unknown_recipient_domain", NULL, NULL, NULL, NULL, NULL, "x@nx.example", NULL, 0,
	  "DEFER 450 4.1.2 <x@nx.example>: Recipient address rejected: Domain not found" },
	{ "recipient domain null MX", NULL, "reject_unknown_recipient_domain", NULL, NULL, NULL, NULL, NULL, "x@nullmx.example", NULL, 0,
	  "REJECT 556 5.1.10 <x@nullmx.example>: Recipient address rejected: Domain nullmx.example does not accept mail (nullMX)" },
	{ "recipient domain local", NULL, "reject_unknown_recipient_domain", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "recipient domain found", NULL, "reject_unknown_recipient_domain", NULL, NULL, NULL, NULL, NULL, "x@mx.example", NULL, 0, "DUNNO" },
	{ "helo found", HR, "reject_unknown_helo_hostname", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "helo not found", HR, "reject_unknown_helo_hostname", NULL, NULL, NULL, "nohost.example", NULL, NULL, NULL, 0,
	  "DEFER 450 4.7.1 <nohost.example>: Helo command rejected: Host not found" },
	{ "helo old name", HR, "reject_unknown_hostname", NULL, NULL, NULL, "nohost.example", NULL, NULL, NULL, 0,
	  "DEFER 450 4.7.1 <nohost.example>: Helo command rejected: Host not found" },
	{ "helo null MX exists", HR, "reject_unknown_helo_hostname", NULL, NULL, NULL, "nullmx.example", NULL, NULL, NULL, 0, "DUNNO" },
	{ "helo DNS failure", HR, "reject_unknown_helo_hostname", NULL, NULL, NULL, "fail.example", NULL, NULL, NULL, 0,
	  "DEFER 450 4.7.1 <fail.example>: Helo command rejected: Host not found" },
	{ "helo literal", HR, "reject_unknown_helo_hostname", NULL, NULL, NULL, "[192.0.2.1]", NULL, NULL, NULL, 0, "DUNNO" },
	{ "no helo", HR, "reject_unknown_helo_hostname", NULL, NULL, NULL, NONE, NULL, NULL, NULL, 0, "DUNNO" },
	{ "defer_if_permit", NULL, "defer_if_permit", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "DEFER 450 4.7.1 <user@local.test>: Recipient address rejected: defer_if_permit requested" },
	{ "defer_if_permit, then permit", NULL, "defer_if_permit permit", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "DEFER 450 4.7.1 <user@local.test>: Recipient address rejected: defer_if_permit requested" },
	{ "defer_if_permit, then reject", NULL, "defer_if_permit reject_unlisted_recipient", NULL, NULL, NULL, NULL, NULL, "nobody@local.test", NULL, 0,
	  "REJECT 550 5.1.1 <nobody@local.test>: Recipient address rejected: User unknown in local recipient table" },
	{ "warn_if_reject", NULL, "warn_if_reject reject", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "warn_if_reject, one restriction only", NULL, "warn_if_reject reject_unlisted_recipient reject", NULL, NULL, NULL, NULL, NULL, "nobody@local.test", NULL, 0,
	  "REJECT 554 5.7.1 <nobody@local.test>: Recipient address rejected: Access denied" },
	{ "warn_if_reject, no decision kept", NULL, "warn_if_reject permit_mynetworks reject", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  "REJECT 554 5.7.1 <user@local.test>: Recipient address rejected: Access denied" },
	{ "the first deferral stands", SR, "reject_unknown_sender_domain defer_if_permit", NULL, NULL, NULL, NULL, "s@fail.example", NULL, NULL, 0,
	  "DEFER 450 4.1.8 <s@fail.example>: Sender address rejected: Domain not found" },
};

static const struct row helo_rows[] = {
	{ "fqdn helo", NULL, "reject_non_fqdn_helo_hostname", NULL, NULL, NULL, "mx.example.org", NULL, NULL, NULL, 0, "DUNNO" },
	{ "fqdn helo trailing dot", NULL, "reject_non_fqdn_helo_hostname", NULL, NULL, NULL, "mx.example.org.", NULL, NULL, NULL, 0, "DUNNO" },
	{ "non-fqdn helo", NULL, "reject_non_fqdn_helo_hostname", NULL, NULL, NULL, "localhost", NULL, NULL, NULL, 0,
	  "REJECT 504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname" },
	{ "non-fqdn old name", NULL, "reject_non_fqdn_hostname", NULL, NULL, NULL, "localhost", NULL, NULL, NULL, 0,
	  "REJECT 504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname" },
	{ "helo two dots", NULL, "reject_non_fqdn_helo_hostname", NULL, NULL, NULL, "mx.example..", NULL, NULL, NULL, 0,
	  "REJECT 504 5.5.2 <mx.example..>: Helo command rejected: need fully-qualified hostname" },
	{ "helo numeric", NULL, "reject_non_fqdn_helo_hostname", NULL, NULL, NULL, "192.0.2.1", NULL, NULL, NULL, 0,
	  "REJECT 504 5.5.2 <192.0.2.1>: Helo command rejected: need fully-qualified hostname" },
	{ "helo leading hyphen", NULL, "reject_non_fqdn_helo_hostname", NULL, NULL, NULL, "-mx.example.org", NULL, NULL, NULL, 0,
	  "REJECT 504 5.5.2 <-mx.example.org>: Helo command rejected: need fully-qualified hostname" },
	{ "helo literal", NULL, "reject_non_fqdn_helo_hostname", NULL, NULL, NULL, "[192.0.2.1]", NULL, NULL, NULL, 0, "DUNNO" },
	{ "helo v6 literal", NULL, "reject_non_fqdn_helo_hostname", NULL, NULL, NULL, "[IPv6:2001:db8::1]", NULL, NULL, NULL, 0, "DUNNO" },
	{ "helo bad literal", NULL, "reject_non_fqdn_helo_hostname", NULL, NULL, NULL, "[300.0.0.1]", NULL, NULL, NULL, 0,
	  "REJECT 501 5.5.2 <[300.0.0.1]>: Helo command rejected: invalid ip address" },
	{ "helo v6 literal without tag", NULL, "reject_invalid_helo_hostname", NULL, NULL, NULL, "[2001:db8::1]", NULL, NULL, NULL, 0,
	  "REJECT 501 5.5.2 <[2001:db8::1]>: Helo command rejected: invalid ip address" },
	{ "no helo", NULL, "reject_non_fqdn_helo_hostname reject_invalid_helo_hostname", NULL, NULL, NULL, NONE, NULL, NULL, NULL, 0, "DUNNO" },
	{ "valid helo", NULL, "reject_invalid_helo_hostname", NULL, NULL, NULL, "localhost", NULL, NULL, NULL, 0, "DUNNO" },
	{ "valid helo underscore", NULL, "reject_invalid_helo_hostname", NULL, NULL, NULL, "my_host.example", NULL, NULL, NULL, 0, "DUNNO" },
	{ "valid helo address", NULL, "reject_invalid_helo_hostname", NULL, NULL, NULL, "192.0.2.1", NULL, NULL, NULL, 0, "DUNNO" },
	{ "invalid helo", NULL, "reject_invalid_helo_hostname", NULL, NULL, NULL, "bad!name", NULL, NULL, NULL, 0,
	  "REJECT 501 5.5.2 <bad!name>: Helo command rejected: Invalid name" },
	{ "invalid helo old name", NULL, "reject_invalid_hostname", NULL, NULL, NULL, "a..b", NULL, NULL, NULL, 0,
	  "REJECT 501 5.5.2 <a..b>: Helo command rejected: Invalid name" },
	{ "invalid helo trailing hyphen", NULL, "reject_invalid_helo_hostname", NULL, NULL, NULL, "mx-.example", NULL, NULL, NULL, 0,
	  "REJECT 501 5.5.2 <mx-.example>: Helo command rejected: Invalid name" },
	{ "invalid helo non-ascii", NULL, "reject_invalid_helo_hostname", NULL, NULL, NULL, "m\xc3\xbc.example", NULL, NULL, NULL, 0,
	  "REJECT 501 5.5.2 <m??.example>: Helo command rejected: Invalid name" },
};

static const struct row fqdn_rows[] = {
	{ "fqdn sender", NULL, "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, "s@sender.example", NULL, NULL, 0, "DUNNO" },
	{ "sender no dot", NULL, "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, "s@sender", NULL, NULL, 0,
	  "REJECT 504 5.5.2 <s@sender>: Sender address rejected: need fully-qualified address" },
	{ "sender no domain", NULL, "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, "s", NULL, NULL, 0,
	  "REJECT 504 5.5.2 <s>: Sender address rejected: need fully-qualified address" },
	{ "null sender", NULL, "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, "", NULL, NULL, 0, "DUNNO" },
	{ "sender literal", NULL, "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, "s@[192.0.2.1]", NULL, NULL, 0, "DUNNO" },
	{ "sender trailing dot", NULL, "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, "s@sender.example.", NULL, NULL, 0, "DUNNO" },
	{ "sender two dots", NULL, "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, "s@sender.example..", NULL, NULL, 0,
	  "REJECT 504 5.5.2 <s@sender.example..>: Sender address rejected: need fully-qualified address" },
	{ "sender utf-8 domain", NULL, "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, "s@m\xc3\xbcnchen.example", NULL, NULL, 0, "DUNNO" },
	{ "sender numeric domain", NULL, "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, "s@192.0.2.1", NULL, NULL, 0,
	  "REJECT 504 5.5.2 <s@192.0.2.1>: Sender address rejected: need fully-qualified address" },
	{ "sender list check in recipient list", NULL, "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, "s@x", NULL, NULL, 0,
	  "REJECT 504 5.5.2 <s@x>: Sender address rejected: need fully-qualified address" },
	{ "no sender yet", "smtpd_client_restrictions", "reject_non_fqdn_sender", NULL, NULL, NULL, NULL, NONE, NULL, NULL, 0, "DUNNO" },
	{ "fqdn recipient", NULL, "reject_non_fqdn_recipient", NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, "DUNNO" },
	{ "recipient postmaster", NULL, "reject_non_fqdn_recipient", NULL, NULL, NULL, NULL, NULL, "postmaster", NULL, 0,
	  "REJECT 504 5.5.2 <postmaster>: Recipient address rejected: need fully-qualified address" },
	{ "recipient localhost", NULL, "reject_non_fqdn_recipient", NULL, NULL, NULL, NULL, NULL, "u@localhost", NULL, 0,
	  "REJECT 504 5.5.2 <u@localhost>: Recipient address rejected: need fully-qualified address" },
	{ "recipient unclosed quote", NULL, "reject_non_fqdn_recipient", NULL, NULL, NULL, NULL, NULL, "\"u@x.example", NULL, 0,
	  "REJECT 504 5.5.2 <\"u@x.example>: Recipient address rejected: need fully-qualified address" },
};

static const struct row login_rows[] = {
	{ "own address", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@local.test", NULL, "alice", 0, "DUNNO" },
	{ "own address, login case", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "Alice@local.test", NULL, "ALICE", 0, "DUNNO" },
	{ "shared address", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "shared@local.test", NULL, "bob", 0, "DUNNO" },
	{ "someone else's", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@local.test", NULL, "bob", 0,
	  "REJECT 553 5.7.1 <alice@local.test>: Sender address rejected: not owned by user bob" },
	{ "nobody's, authenticated", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "x@remote.example", NULL, "alice", 0,
	  "REJECT 553 5.7.1 <x@remote.example>: Sender address rejected: not owned by user alice" },
	{ "owned, not logged in", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@local.test", NULL, NULL, 0,
	  "REJECT 553 5.7.1 <alice@local.test>: Sender address rejected: not logged in" },
	{ "nobody's, not logged in", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "x@remote.example", NULL, NULL, 0, "DUNNO" },
	{ "null sender", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "", NULL, "alice", 0, "DUNNO" },
	{ "tempfail", NULL, "reject_sender_login_mismatch", NULL, NULL, NULL, NULL, "temp@local.test", NULL, "alice", 0,
	  "DEFER 451 4.3.0 <temp@local.test>: Temporary lookup failure" },
	{ "known: nobody's", NULL, "reject_known_sender_login_mismatch", NULL, NULL, NULL, NULL, "x@remote.example", NULL, "alice", 0, "DUNNO" },
	{ "known: someone else's", NULL, "reject_known_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@local.test", NULL, "bob", 0,
	  "REJECT 553 5.7.1 <alice@local.test>: Sender address rejected: not owned by user bob" },
	{ "known: not logged in", NULL, "reject_known_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@local.test", NULL, NULL, 0,
	  "REJECT 553 5.7.1 <alice@local.test>: Sender address rejected: not logged in" },
	{ "authenticated only", NULL, "reject_authenticated_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@local.test", NULL, NULL, 0, "DUNNO" },
	{ "authenticated only, mismatch", NULL, "reject_authenticated_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@local.test", NULL, "bob", 0,
	  "REJECT 553 5.7.1 <alice@local.test>: Sender address rejected: not owned by user bob" },
	{ "unauthenticated only", NULL, "reject_unauthenticated_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@local.test", NULL, "bob", 0, "DUNNO" },
	{ "unauthenticated only, owned", NULL, "reject_unauthenticated_sender_login_mismatch", NULL, NULL, NULL, NULL, "alice@local.test", NULL, NULL, 0,
	  "REJECT 553 5.7.1 <alice@local.test>: Sender address rejected: not logged in" },
};

/* Every way of dressing up a foreign address as a local one must end as
 * "not relayed": either relay access denied, or a local (unknown) user. */
static const struct row relay_rows[] = {
#define RELAY_LIST "reject_unauth_destination, reject_unlisted_recipient, permit"
#define DENIED(a) "REJECT 554 5.7.1 <" a ">: Relay access denied"
#define UNKNOWN(a) "REJECT 550 5.1.1 <" a ">: Recipient address rejected: User unknown in local recipient table"
	{ "local user", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@local.test", NULL, 0, "PERMIT" },
	{ "remote", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@other.test", NULL, 0, DENIED("user@other.test") },
	{ "percent hack", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user%other.test@local.test", NULL, 0, UNKNOWN("user%other.test@local.test") },
	{ "percent hack, two", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user%other.test%x.test@local.test", NULL, 0, UNKNOWN("user%other.test%x.test@local.test") },
	{ "percent hack to us", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user%local.test@other.test", NULL, 0, DENIED("user%local.test@other.test") },
	{ "percent in domain", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@other.test%local.test", NULL, 0, DENIED("user@other.test%local.test") },
	{ "bang path", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "other.test!user@local.test", NULL, 0, UNKNOWN("other.test!user@local.test") },
	{ "bang path, no domain", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "other.test!user", NULL, 0, DENIED("other.test!user") },
	{ "source route", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "@local.test:user@other.test", NULL, 0, DENIED("@local.test:user@other.test") },
	{ "source route, two hops", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "@a.test,@local.test:user@other.test", NULL, 0, DENIED("@a.test,@local.test:user@other.test") },
	{ "quoted @", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "\"user@other.test\"@local.test", NULL, 0, UNKNOWN("\"user@other.test\"@local.test") },
	{ "quoted @, no domain", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "\"user@other.test\"", NULL, 0, DENIED("\"user@other.test\"") },
	{ "quoted escaped quote", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "\"a\\\"@other.test\"@local.test", NULL, 0, UNKNOWN("\"a\\\"@other.test\"@local.test") },
	{ "unclosed quote", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "\"user@local.test", NULL, 0, DENIED("\"user@local.test") },
	{ "two @, local last", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@other.test@local.test", NULL, 0, UNKNOWN("user@other.test@local.test") },
	{ "two @, remote last", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@local.test@other.test", NULL, 0, DENIED("user@local.test@other.test") },
	{ "trailing dot local", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@local.test.", NULL, 0, "PERMIT" },
	{ "trailing dot remote", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@other.test.", NULL, 0, DENIED("user@other.test.") },
	{ "two trailing dots", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@local.test..", NULL, 0, DENIED("user@local.test..") },
	{ "upper case local", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "USER@LOCAL.TEST", NULL, 0, "PERMIT" },
	{ "mixed case local", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "User@Local.Test", NULL, 0, "PERMIT" },
	{ "upper case remote", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@OTHER.TEST", NULL, 0, DENIED("user@OTHER.TEST") },
	{ "ip literal", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@[127.0.0.1]", NULL, 0, DENIED("user@[127.0.0.1]") },
	{ "ip literal v6", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@[IPv6:::1]", NULL, 0, DENIED("user@[IPv6:::1]") },
	{ "subdomain of local", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@sub.local.test", NULL, 0, DENIED("user@sub.local.test") },
	{ "local as subdomain", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@local.test.other.test", NULL, 0, DENIED("user@local.test.other.test") },
	{ "port in domain", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@local.test:25", NULL, 0, DENIED("user@local.test:25") },
	{ "space after domain", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@local.test ", NULL, 0, DENIED("user@local.test ") },
	{ "no domain", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user", NULL, 0, DENIED("user") },
	{ "postmaster without domain", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "Postmaster", NULL, 0, "PERMIT" },
	{ "empty", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "", NULL, 0, DENIED("") },
	{ "at only", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "@", NULL, 0, DENIED("@") },
	{ "empty local part", RR, RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "@local.test", NULL, 0, DENIED("@local.test") },
	{ "authenticated relays", RR, "permit_sasl_authenticated, " RELAY_LIST, NULL, NULL, NULL, NULL, NULL, "user@other.test", "alice", 0, "PERMIT" },
#undef RELAY_LIST
#undef DENIED
#undef UNKNOWN
};
// clang-format on

static void
test_restrict_simple_rows(void **state)
{
	struct fixture *f = *state;

	run_rows(simple_rows, MW_NELEM(simple_rows), f->dir, NULL);
}

static void
test_restrict_dns_rows(void **state)
{
	run_rows(dns_rows, MW_NELEM(dns_rows), *state, NULL);
}

/* Evaluates the list param = items[0..n) in ctx as one command; the
 * verdict rendered, reply left in *reply (initialised here). */
static char *
eval_items(const char *param, char **items, size_t n,
    const struct restrict_ctx *ctx, struct restrict_reply *reply)
{
	struct conf_list l = { items, n };
	struct restrict_list *rl;
	struct buf err;
	char *got;

	buf_init(&err, 1024);
	rl = restrict_list_new(param, &l, &err);
	if (rl == NULL)
		fail_msg("%s: %s", param, buf_cstr(&err));
	restrict_reply_init(reply);
	restrict_reply_begin(reply);
	got = render(restrict_reply_end(reply,
	                 restrict_list_eval(rl, ctx, reply)),
	    reply);
	restrict_list_free(&rl);
	buf_free(&err);
	return got;
}

/* warn_if_reject keeps what the next restriction would have said. */
static void
test_restrict_warn_if_reject_text(void **state)
{
	char *items[] = { "warn_if_reject", "reject_non_fqdn_sender",
		"warn_if_reject", "defer", "permit" };
	struct restrict_reply reply;
	struct restrict_ctx ctx;
	char *got;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ctx.stage = RESTRICT_STAGE_SENDER;
	ctx.sender = "someone";
	got = eval_items("smtpd_sender_restrictions", items, 5, &ctx, &reply);
	assert_string_equal(got, "PERMIT");
	free(got);
	assert_string_equal(buf_cstr(&reply.warnings),
	    "504 5.5.2 <someone>: Sender address rejected: need "
	    "fully-qualified address\n"
	    "450 4.3.2 <someone>: Sender address rejected: Try again later\n");
	restrict_reply_begin(&reply); /* the next command starts afresh */
	assert_int_equal(reply.warnings.len, 0);
	restrict_reply_free(&reply);
}

/* reject_unauth_pipelining reads a flag of the session, not a row's. */
static void
test_restrict_unauth_pipelining(void **state)
{
	char *items[] = { "reject_unauth_pipelining" };
	struct restrict_reply reply;
	struct restrict_ctx ctx;
	char *got;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ctx.stage = RESTRICT_STAGE_DATA;
	for (int flag = 0; flag < 2; flag++) {
		ctx.ill_pipelining = flag != 0;
		got = eval_items(
		    "smtpd_data_restrictions", items, 1, &ctx, &reply);
		assert_string_equal(got, flag == 0
		        ? "DUNNO"
		        : "REJECT 503 5.5.0 <DATA>: Data command rejected: "
		          "Improper use of SMTP command pipelining");
		free(got);
		restrict_reply_free(&reply);
	}
}

static void
test_restrict_helo_rows(void **state)
{
	struct fixture *f = *state;

	run_rows(helo_rows, MW_NELEM(helo_rows), f->dir, NULL);
}

static void
test_restrict_fqdn_rows(void **state)
{
	struct fixture *f = *state;

	run_rows(fqdn_rows, MW_NELEM(fqdn_rows), f->dir, NULL);
}

static void
test_restrict_login_rows(void **state)
{
	struct fixture *f = *state;

	run_rows(login_rows, MW_NELEM(login_rows), f->dir, NULL);
}

static void
test_restrict_relay_tricks_never_relay(void **state)
{
	struct fixture *f = *state;

	run_rows(relay_rows, MW_NELEM(relay_rows), f->dir, NULL);
}

/* What reject_unauth_destination asks is the domain, lowercased and
 * without its trailing dot; reject_unlisted_recipient asks the
 * normalised address. */
static void
test_restrict_callbacks_get_normalised_names(void **state)
{
	struct fixture *f = *state;
	const struct row r = { "normalised", NULL,
		"reject_unauth_destination reject_unlisted_recipient", NULL,
		NULL, NULL, NULL, NULL, "\"User\"@LOCAL.Test.", NULL, 0, NULL };
	struct world w;
	char *got;

	memset(&w, 0, sizeof(w));
	got = run_row(&r, f->dir, NULL, &w);
	assert_string_equal(got, "DUNNO");
	assert_string_equal(w.last_domain, "local.test");
	assert_string_equal(w.last_address, "User@local.test");
	free(got);
}

/* A label is 1..63 octets and a name at most 255 (RFC 1035 2.3.4):
 * max - 1, max and max + 1. */
static void
test_restrict_hostname_limits(void **state)
{
	struct fixture *f = *state;
	struct row r = { "limit", NULL, "reject_invalid_helo_hostname", NULL,
		NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL };
	char name[300], *got;
	size_t len, i;

	for (len = 62; len <= 64; len++) {
		memset(name, 'a', len);
		(void)snprintf(name + len, sizeof(name) - len, ".example");
		r.helo = name;
		got =
		    run_row(&r, f->dir, NULL, &(struct world){ { 0 }, { 0 } });
		if (len <= 63)
			assert_string_equal(got, "DUNNO");
		else
			assert_non_null(strstr(got, "REJECT 501 5.5.2"));
		free(got);
	}
	for (len = 254; len <= 256; len++) {
		/* labels of 9 letters and a dot */
		for (i = 0; i < len; i++)
			name[i] = i % 10 == 9 ? '.' : 'a';
		if (name[len - 1] == '.')
			name[len - 1] = 'a';
		name[len] = '\0';
		r.helo = name;
		got =
		    run_row(&r, f->dir, NULL, &(struct world){ { 0 }, { 0 } });
		if (len <= 255)
			assert_string_equal(got, "DUNNO");
		else
			assert_non_null(strstr(got, "REJECT 501 5.5.2"));
		free(got);
	}
}

/* A long address is cut to RESTRICT_TEXT_MAX, never overflows. */
static void
test_restrict_text_is_bounded(void **state)
{
	struct fixture *f = *state;
	struct row r = { "long", RR, "reject_unauth_destination", NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, 0, NULL };
	char rcpt[1100], *got;

	memset(rcpt, 'a', 1000);
	(void)snprintf(rcpt + 1000, sizeof(rcpt) - 1000, "@remote.example");
	r.rcpt = rcpt;
	got = run_row(&r, f->dir, NULL, &(struct world){ { 0 }, { 0 } });
	assert_int_equal(
	    strlen(got), strlen("REJECT 554 5.7.1 ") + RESTRICT_TEXT_MAX);
	assert_int_equal(strncmp(got, "REJECT 554 5.7.1 <aaaa", 22), 0);
	free(got);
}

static void
test_restrict_list_errors(void **state)
{
	// clang-format off
	static const struct {
		const char *param, *items, *want;
	} rows[] = {
		{ RR, "permit_mynetwork",
		  RR ": unknown restriction \"permit_mynetwork\" (did you mean \"permit_mynetworks\"?)" },
		{ RR, "permit_mynetworks, reject_unauth_destinaton",
		  RR ": unknown restriction \"reject_unauth_destinaton\" (did you mean \"reject_unauth_destination\"?)" },
		{ RR, "frobnicate",
		  RR ": unknown restriction \"frobnicate\"" },
		{ "smtpd_client_restrictions", "reject_rbl_client zen.spamhaus.org",
		  "smtpd_client_restrictions: reject_rbl_client is not supported yet (remove it for now)" },
		{ RR, "check_policy_service unix:private/policy",
		  RR ": check_policy_service is not supported yet (remove it for now)" },
		{ "smtpd_client_restrictions", "check_client_access",
		  "smtpd_client_restrictions: check_client_access needs a table after it, as in \"check_client_access hash:/etc/mailwright/access\"" },
		{ "smtpd_client_restrictions", "check_client_access reject",
		  "smtpd_client_restrictions: check_client_access needs a table after it, as in \"check_client_access hash:/etc/mailwright/access\" (not \"reject\")" },
		{ "smtpd_client_restrictions", "check_client_access hash:/nonexistent/access",
		  "smtpd_client_restrictions: check_client_access hash:/nonexistent/access: cannot read /nonexistent/access: No such file or directory" },
		{ "smtpd_client_restrictions", "check_client_access lmdb:/etc/x",
		  "smtpd_client_restrictions: check_client_access lmdb:/etc/x: \"lmdb:/etc/x\": unsupported table type \"lmdb\" (use hash, texthash, cidr, regexp or pcre)" },
		{ "smtpd_foo", "permit",
		  "smtpd_foo: not a restriction list" },
	};
	// clang-format on
	struct conf_list items;
	struct buf err;
	size_t i;

	(void)state;
	buf_init(&err, 4096);
	for (i = 0; i < MW_NELEM(rows); i++) {
		make_list(rows[i].items, &items);
		assert_null(restrict_list_new(rows[i].param, &items, &err));
		if (strcmp(buf_cstr(&err), rows[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].items,
			    buf_cstr(&err), rows[i].want);
		free_list(&items);
	}
	buf_free(&err);
}

static void
test_restrict_list_guards_relay(void **state)
{
	// clang-format off
	static const struct {
		const char *items;
		bool guards;
	} rows[] = {
		{ "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination", true },
		{ "permit_sasl_authenticated, reject", true },
		{ "permit_mynetworks defer_unauth_destination", true },
		{ "defer", true },
		{ "permit_mynetworks, permit_sasl_authenticated", false },
		{ "reject_unlisted_recipient", false },
		{ "", false },
	};
	// clang-format on
	struct restrict_list *l;
	struct conf_list items;
	struct buf err;
	size_t i;

	(void)state;
	buf_init(&err, 4096);
	for (i = 0; i < MW_NELEM(rows); i++) {
		make_list(rows[i].items, &items);
		l = restrict_list_new(RR, &items, &err);
		assert_non_null(l);
		assert_int_equal(restrict_list_guards_relay(l), rows[i].guards);
		assert_int_equal(restrict_list_empty(l), items.n == 0);
		restrict_list_free(&l);
		free_list(&items);
	}
	buf_free(&err);
}

/* The reply names the restriction that decided; PERMIT and DUNNO leave
 * the reply empty. */
static void
test_restrict_reply_names_restriction(void **state)
{
	struct restrict_list *l;
	struct restrict_reply reply;
	struct restrict_ctx ctx;
	struct conf_list items;
	struct buf err;

	(void)state;
	buf_init(&err, 4096);
	make_list("permit_mynetworks reject_unauth_destination", &items);
	l = restrict_list_new(RR, &items, &err);
	assert_non_null(l);
	memset(&ctx, 0, sizeof(ctx));
	ctx.recipient = "x@remote.example";
	restrict_reply_init(&reply);
	assert_int_equal(restrict_list_eval(l, &ctx, &reply), RESTRICT_REJECT);
	assert_string_equal(reply.restriction, "reject_unauth_destination");
	assert_false(reply.disconnect);
	ctx.in_mynetworks = true;
	assert_int_equal(restrict_list_eval(l, &ctx, &reply), RESTRICT_PERMIT);
	assert_string_equal(reply.restriction, "permit_mynetworks");
	assert_int_equal(reply.code, 0);
	assert_string_equal(reply.enh, "");
	assert_int_equal(reply.text.len, 0);
	ctx.in_mynetworks = false;
	ctx.recipient = "x@anything";
	/* no is_local_domain callback: nothing is local, nothing relays */
	assert_int_equal(restrict_list_eval(l, &ctx, &reply), RESTRICT_REJECT);
	restrict_reply_free(&reply);
	restrict_list_free(&l);
	free_list(&items);
	buf_free(&err);
}

int
main(void)
{
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_restrict_simple_rows),
		T(test_restrict_dns_rows),
		T(test_restrict_unauth_pipelining),
		T(test_restrict_warn_if_reject_text),
		T(test_restrict_helo_rows),
		T(test_restrict_fqdn_rows),
		T(test_restrict_login_rows),
		T(test_restrict_relay_tricks_never_relay),
		T(test_restrict_callbacks_get_normalised_names),
		T(test_restrict_hostname_limits),
		T(test_restrict_text_is_bounded),
		T(test_restrict_list_errors),
		T(test_restrict_list_guards_relay),
		T(test_restrict_reply_names_restriction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
