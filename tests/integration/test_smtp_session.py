"""SMTP session commands (RFC 5321 4.1): the greeting, EHLO/HELO, NOOP,
RSET, QUIT, HELP, VRFY, EXPN, unknown commands, commands out of sequence
and the hard error limit."""

import re
import smtplib

import pytest

from conftest import wait_for
from smtp_helpers import HELO, SENDER, RawSMTP, check, session
# One instance shared by this module's tests (smtp_helpers).
from smtp_helpers import module_instance  # noqa: F401


def test_greeting_is_220_hostname_esmtp_mailwright(instance):
    with RawSMTP(instance.smtp_port) as c:
        r = c.greeting()
        assert re.fullmatch(r"\S+ ESMTP mailwright", r.lines[-1]), r
        host = r.lines[-1].split()[0]
        e = c.ehlo()
        # RFC 5321 4.1.1.1: the first EHLO line names the server.
        assert e.lines[0].split()[0] == host


def test_ehlo_lists_the_extensions(instance):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        r = c.ehlo()
        ext = {l.split()[0].upper(): l.split()[1:] for l in r.lines[1:]}
        for name in ("PIPELINING", "SIZE", "ENHANCEDSTATUSCODES", "8BITMIME",
                     "SMTPUTF8", "CHUNKING"):
            assert name in ext, "%s missing from %r" % (name, r)
        # RFC 1870 4: SIZE announces the fixed limit in octets.
        assert len(ext["SIZE"]) == 1 and ext["SIZE"][0].isdigit(), r
        assert int(ext["SIZE"][0]) > 0
        c.noop_ok()


def test_ehlo_with_smtplib_sees_the_extensions(instance):
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, HELO) as s:
        code, _ = s.ehlo()
        assert code == 250
        for name in ("pipelining", "size", "enhancedstatuscodes", "8bitmime",
                     "smtputf8", "chunking"):
            assert s.has_extn(name), name


def test_helo_gets_one_line_250(instance):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        r = c.expect("HELO " + HELO, 250)
        assert len(r.lines) == 1
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")


def test_ehlo_accepts_address_literal(instance):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        c.expect("EHLO [127.0.0.1]", 250)
        c.noop_ok()


@pytest.mark.parametrize("verb", ["EHLO", "HELO"])
def test_helo_without_domain_gets_501_5_5_4(instance, verb):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        c.expect(verb, 501, "5.5.4")
        c.noop_ok()
        # Still not greeted: MAIL is out of sequence.
        c.expect("MAIL FROM:<%s>" % SENDER, 503, "5.5.1")


def test_second_ehlo_resets_the_transaction(instance):
    # RFC 5321 4.1.4: EHLO in a transaction is an implicit RSET.
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")
        c.ehlo()
        c.expect("DATA", 503, "5.5.1")
        c.expect("RCPT TO:<user1@example.test>", 503, "5.5.1")
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")


def test_commands_are_case_insensitive(instance):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        c.expect("eHlO " + HELO, 250)
        c.expect("mail from:<%s>" % SENDER, 250, "2.1.0")
        c.expect("rcpt to:<user1@example.test>", 250, "2.1.5")
        c.expect("rset", 250, "2.0.0")
        c.expect("noop", 250, "2.0.0")


def test_command_ending_in_bare_lf_is_accepted(instance):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        c.send("EHLO %s\n" % HELO)
        check(c.reply(), 250)
        c.send("NOOP\n")
        check(c.reply(), 250, "2.0.0")


@pytest.mark.parametrize("line", ["NOOP", "NOOP with some text"])
def test_noop_gets_250_2_0_0(instance, line):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        # RFC 5321 4.1.4: NOOP is allowed before EHLO too.
        c.expect(line, 250, "2.0.0")
        c.ehlo()
        c.expect(line, 250, "2.0.0")


def test_rset_gets_250_and_ends_the_transaction(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")
        c.expect("RSET", 250, "2.0.0")
        c.expect("DATA", 503, "5.5.1")
        c.expect("RCPT TO:<user1@example.test>", 503, "5.5.1")
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")


def test_rset_keeps_the_helo(instance):
    with session(instance) as c:
        c.expect("RSET", 250, "2.0.0")
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")


def test_rset_with_argument_gets_501_5_5_4(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RSET now", 501, "5.5.4")
        c.noop_ok()
        # The transaction is untouched by the refused RSET.
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_quit_gets_221_2_0_0_and_closes(instance):
    with session(instance) as c:
        c.expect("QUIT", 221, "2.0.0")
        assert c.at_eof()


def test_quit_before_ehlo_gets_221(instance):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        c.expect("QUIT", 221, "2.0.0")
        assert c.at_eof()


def test_quit_with_argument_gets_501_5_5_4(instance):
    with session(instance) as c:
        c.expect("QUIT now", 501, "5.5.4")
        c.noop_ok()


def test_quit_in_transaction_discards_it(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")
        c.expect("QUIT", 221, "2.0.0")
        assert c.at_eof()


def test_help_gets_214(instance):
    with session(instance) as c:
        r = c.expect("HELP", 214)
        assert "EHLO" in " ".join(r.lines)
        c.noop_ok()


def test_help_before_ehlo_gets_214(instance):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        c.expect("HELP", 214)


@pytest.mark.parametrize("arg", ["user1@example.test", "user1",
                                 "nosuchuser@example.test"])
def test_vrfy_gets_252_2_5_2(instance, arg):
    # RFC 5321 3.5.3: 252 neither confirms nor denies the address.
    with session(instance) as c:
        c.expect("VRFY " + arg, 252, "2.5.2")
        c.noop_ok()


def test_vrfy_without_argument_gets_501_5_5_4(instance):
    with session(instance) as c:
        c.expect("VRFY", 501, "5.5.4")
        c.noop_ok()


@pytest.mark.parametrize("arg", ["postmaster", "staff@example.test"])
def test_expn_gets_502_5_5_1(instance, arg):
    with session(instance) as c:
        c.expect("EXPN " + arg, 502, "5.5.1")
        c.noop_ok()


@pytest.mark.parametrize("line", ["FOO", "XYZZY arg", "MAILFROM:<a@b>",
                                  "DAT", "EHLOX client.test", ""])
def test_unknown_command_gets_500_5_5_2(instance, line):
    with session(instance) as c:
        c.expect(line, 500, "5.5.2")
        c.noop_ok()


def test_unknown_command_in_transaction_keeps_it(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("FROB", 500, "5.5.2")
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")
        c.expect("DATA", 354)
        c.send("Subject: x\r\n\r\nx\r\n.\r\n")
        check(c.reply(), 250, "2.0.0")


@pytest.mark.parametrize("line", ["MAIL FROM:<%s>" % SENDER,
                                  "RCPT TO:<user1@example.test>", "DATA"])
def test_transaction_command_before_ehlo_gets_503_5_5_1(instance, line):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        c.expect(line, 503, "5.5.1")
        c.noop_ok()
        c.ehlo()
        c.noop_ok()


def test_rcpt_without_mail_gets_503_5_5_1(instance):
    with session(instance) as c:
        c.expect("RCPT TO:<user1@example.test>", 503, "5.5.1")
        c.noop_ok()


def test_data_without_mail_gets_503_5_5_1(instance):
    with session(instance) as c:
        c.expect("DATA", 503, "5.5.1")
        c.noop_ok()


def test_data_without_accepted_rcpt_gets_554_5_5_1(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<nosuchuser@example.test>", 550, "5.1.1")
        c.expect("DATA", 554, "5.5.1")
        c.noop_ok()
        # No 354 was sent, so this is a command again, not message text.
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_data_right_after_mail_gets_554_5_5_1(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("DATA", 554, "5.5.1")
        c.noop_ok()


def test_nested_mail_gets_503_5_5_1(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("MAIL FROM:<other@example.test>", 503, "5.5.1")
        c.noop_ok()
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


@pytest.mark.parametrize("errors", [18, 19])
def test_errors_below_hard_limit_keep_the_session(instance, errors):
    # smtpd_hard_error_limit defaults to 20 (Postfix's value).
    with session(instance) as c:
        for _ in range(errors):
            c.expect("BOGUS", 500, "5.5.2")
        c.noop_ok()
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")


def test_error_at_hard_limit_gets_421_4_7_0_and_close(instance):
    with session(instance) as c:
        for _ in range(19):
            c.expect("BOGUS", 500, "5.5.2")
        c.send("BOGUS\r\n")
        replies = c.read_until_eof()
        assert [r.code for r in replies] == [500, 421], replies
        check(replies[1], 421, "4.7.0")


def test_error_limit_counts_pipelined_errors(instance):
    # Exactly as many as the limit: a close with unread input would reset
    # the connection and could eat the replies.
    with session(instance) as c:
        c.send("BOGUS\r\n" * 20)
        replies = c.read_until_eof()
        assert [r.code for r in replies] == [500] * 20 + [421], replies
        check(replies[-1], 421, "4.7.0")


def test_disconnect_is_logged_with_command_counts(instance):
    with session(instance) as c:
        c.expect("NOOP", 250, "2.0.0")
        c.expect("BOGUS", 500, "5.5.2")
        c.expect("QUIT", 221, "2.0.0")
        assert c.at_eof()
    line = re.compile(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 "
                      r"noop=1 quit=1 unknown=0/1 commands=3/4")
    wait_for(lambda: line.search(instance.log_text()), 10)
