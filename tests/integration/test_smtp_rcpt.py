"""RCPT TO (RFC 5321 4.1.1.3): local users, plus-addressing, postmaster
(RFC 5321 4.5.1), unknown users, relay control, syntax errors, DSN
parameters (RFC 3461), SMTPUTF8 (RFC 6531) and the recipient limit."""

import re

import pytest

from conftest import wait_for
from smtp_helpers import (LIMITED_RCPT_MAX, SENDER, check,
                          limited_instance, session)  # noqa: F401
# One instance shared by this module's tests (smtp_helpers).
from smtp_helpers import module_instance  # noqa: F401


def in_transaction(inst, sender=SENDER, params=""):
    c = session(inst)
    c.expect("MAIL FROM:<%s>%s" % (sender, params), 250, "2.1.0")
    return c


@pytest.mark.parametrize("addr", ["user1@example.test", "user2@example.test",
                                  "user3@example.test", "user1@EXAMPLE.TEST",
                                  "user1+tag@example.test",
                                  "user2+a.b-c@example.test",
                                  "postmaster@example.test",
                                  "POSTMASTER@example.test"])
def test_rcpt_local_recipient_gets_250_2_1_5(instance, addr):
    with in_transaction(instance) as c:
        c.expect("RCPT TO:<%s>" % addr, 250, "2.1.5")


@pytest.mark.parametrize("arg", ["<Postmaster>", "<postmaster>",
                                 "<POSTMASTER>"])
def test_rcpt_postmaster_without_domain_gets_250_2_1_5(instance, arg):
    # RFC 5321 4.5.1: <Postmaster> (any case) must be accepted.
    with in_transaction(instance) as c:
        c.expect("RCPT TO:" + arg, 250, "2.1.5")


def test_rcpt_postmaster_accepted_from_null_sender(instance):
    with in_transaction(instance, sender="") as c:
        c.expect("RCPT TO:<postmaster@example.test>", 250, "2.1.5")


@pytest.mark.parametrize("addr", ["nosuchuser@example.test",
                                  "user4@example.test", "nosuch+user1@example.test"])
def test_rcpt_unknown_local_user_gets_550_5_1_1(instance, addr):
    with in_transaction(instance) as c:
        r = c.expect("RCPT TO:<%s>" % addr, 550, "5.1.1")
        assert addr.lower() in r.text.lower(), r
        c.noop_ok()
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


@pytest.mark.parametrize("addr", ["someone@example.org", "user1@example.test.org",
                                  "user1@sub.example.test", "x@[192.0.2.1]"])
def test_rcpt_non_local_domain_gets_554_5_7_1_relay_denied(instance, addr):
    # mynetworks is empty by default and there is no AUTH yet: no relaying.
    with in_transaction(instance) as c:
        r = c.expect("RCPT TO:<%s>" % addr, 554, "5.7.1")
        assert "Relay access denied" in r.text, r
        c.noop_ok()
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_rcpt_relay_refusal_is_logged_in_postfix_shape(instance):
    with in_transaction(instance) as c:
        c.expect("RCPT TO:<someone@example.org>", 554, "5.7.1")
        c.expect("QUIT", 221, "2.0.0")
    line = re.compile(
        r": reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
        r"<someone@example\.org>: Relay access denied; "
        r"from=<sender@example\.test> to=<someone@example\.org> "
        r"proto=ESMTP helo=<client\.test>")
    wait_for(lambda: line.search(instance.log_text()), 10)


def test_rcpt_unknown_user_is_logged_in_postfix_shape(instance):
    with in_transaction(instance) as c:
        c.expect("RCPT TO:<nosuchuser@example.test>", 550, "5.1.1")
        c.expect("QUIT", 221, "2.0.0")
    line = re.compile(
        r": reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.1\.1 "
        r"<nosuchuser@example\.test>: Recipient address rejected: "
        r"User unknown; from=<sender@example\.test> "
        r"to=<nosuchuser@example\.test> proto=ESMTP helo=<client\.test>")
    wait_for(lambda: line.search(instance.log_text()), 10)


@pytest.mark.parametrize("line", ["RCPT", "RCPT TO", "RCPT FROM:<user1@example.test>",
                                  "RCPT TO:user1@example.test",
                                  "RCPT TO:<user1@example.test",
                                  "RCPT TO:<user1@example.test>x"])
def test_rcpt_syntax_error_gets_501_5_5_4(instance, line):
    with in_transaction(instance) as c:
        c.expect(line, 501, "5.5.4")
        c.noop_ok()
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


@pytest.mark.parametrize("addr", ["", "user1", "user1@", "@example.test",
                                  "us er@example.test", "user1@example..test",
                                  "Postmaster@", "@a.example:Postmaster"])
def test_rcpt_bad_address_gets_501_5_1_3(instance, addr):
    with in_transaction(instance) as c:
        c.expect("RCPT TO:<%s>" % addr, 501, "5.1.3")
        c.noop_ok()
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_rcpt_source_route_is_ignored(instance):
    with in_transaction(instance) as c:
        c.expect("RCPT TO:<@relay.example.org:user1@example.test>", 250,
                 "2.1.5")


@pytest.mark.parametrize("params", ["NOTIFY=NEVER", "NOTIFY=SUCCESS,FAILURE",
                                    "NOTIFY=DELAY",
                                    "ORCPT=rfc822;user1@example.test",
                                    "NOTIFY=FAILURE ORCPT=rfc822;a+2Bb@example.test"])
def test_rcpt_dsn_parameters_are_accepted(instance, params):
    with in_transaction(instance) as c:
        c.expect("RCPT TO:<user1@example.test> " + params, 250, "2.1.5")


@pytest.mark.parametrize("params", ["NOTIFY=SOMETIMES", "NOTIFY=NEVER,SUCCESS",
                                    "NOTIFY", "ORCPT=user1@example.test",
                                    "ORCPT=rfc822;", "NOTIFY=DELAY NOTIFY=DELAY"])
def test_rcpt_bad_dsn_parameter_gets_501_5_5_4(instance, params):
    with in_transaction(instance) as c:
        c.expect("RCPT TO:<user1@example.test> " + params, 501, "5.5.4")
        c.noop_ok()


@pytest.mark.parametrize("param", ["FOO=BAR", "SIZE=10", "SMTPUTF8"])
def test_rcpt_unsupported_parameter_gets_555_5_5_4(instance, param):
    with in_transaction(instance) as c:
        r = c.expect("RCPT TO:<user1@example.test> " + param, 555, "5.5.4")
        assert param.split("=")[0] in r.text, r
        c.noop_ok()
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_rcpt_non_ascii_without_smtputf8_gets_553_5_6_7(instance):
    with in_transaction(instance) as c:
        c.expect("RCPT TO:<j\u00f6rg@example.test>", 553, "5.6.7")
        c.noop_ok()
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_rcpt_non_ascii_unknown_user_with_smtputf8_gets_550_5_1_1(instance):
    with in_transaction(instance, params=" SMTPUTF8") as c:
        c.expect("RCPT TO:<j\u00f6rg@example.test>", 550, "5.1.1")
        c.noop_ok()


def test_rcpt_same_recipient_twice_is_accepted(instance):
    with in_transaction(instance) as c:
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_rcpt_pipelined_replies_come_in_order(instance):
    # RFC 2920 3.1: replies to pipelined commands keep their order even
    # though each lookup runs on a worker thread.
    addrs = (["user1@example.test", "nosuch@example.test", "x@example.org",
              "user2@example.test", "user3+t@example.test", "bad@"] * 5)
    want = {"user1@example.test": (250, "2.1.5"),
            "nosuch@example.test": (550, "5.1.1"),
            "x@example.org": (554, "5.7.1"),
            "user2@example.test": (250, "2.1.5"),
            "user3+t@example.test": (250, "2.1.5"),
            "bad@": (501, "5.1.3")}
    with session(instance) as c:
        c.send("MAIL FROM:<%s>\r\n" % SENDER +
               "".join("RCPT TO:<%s>\r\n" % a for a in addrs) + "RSET\r\n")
        check(c.reply(), 250, "2.1.0")
        for a in addrs:
            r = c.reply()
            assert (r.code, r.enh) == want[a], (a, r)
        check(c.reply(), 250, "2.0.0")


# The limit tests run against an instance with a small
# smtpd_recipient_limit (see smtp_helpers.limited_instance).
@pytest.mark.parametrize("n", [LIMITED_RCPT_MAX - 1, LIMITED_RCPT_MAX])
def test_rcpt_up_to_limit_gets_250(limited_instance, n):
    with in_transaction(limited_instance) as c:
        for i in range(n):
            c.expect("RCPT TO:<user%d@example.test>" % (i % 3 + 1), 250,
                     "2.1.5")


def test_rcpt_over_limit_gets_452_4_5_3(limited_instance):
    # RFC 5321 4.5.3.1.10: too many recipients is a temporary 452.
    with in_transaction(limited_instance) as c:
        for i in range(LIMITED_RCPT_MAX):
            c.expect("RCPT TO:<user%d@example.test>" % (i % 3 + 1), 250,
                     "2.1.5")
        c.expect("RCPT TO:<user1@example.test>", 452, "4.5.3")
        c.noop_ok()
        c.expect("RCPT TO:<postmaster@example.test>", 452, "4.5.3")
        # The transaction goes on with the recipients already accepted.
        c.expect("DATA", 354)
        c.send("Subject: limit\r\n\r\nlimit\r\n.\r\n")
        check(c.reply(), 250, "2.0.0")


def test_rcpt_limit_counts_only_accepted_recipients(limited_instance):
    with in_transaction(limited_instance) as c:
        c.expect("RCPT TO:<nosuch@example.test>", 550, "5.1.1")
        c.expect("RCPT TO:<x@example.org>", 554, "5.7.1")
        for i in range(LIMITED_RCPT_MAX):
            c.expect("RCPT TO:<user%d@example.test>" % (i % 3 + 1), 250,
                     "2.1.5")
        c.expect("RCPT TO:<user1@example.test>", 452, "4.5.3")


def test_rcpt_limit_is_per_transaction(limited_instance):
    with in_transaction(limited_instance) as c:
        for i in range(LIMITED_RCPT_MAX):
            c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")
        c.expect("RSET", 250, "2.0.0")
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        for i in range(LIMITED_RCPT_MAX):
            c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")
