"""Relay control (issue #4 section 3): no variant of an outside address
relays without AUTH on the MX listener, authenticated users relay over
submission, and the restriction lists decide with Postfix's replies."""

import smtplib
import ssl

import pytest

from conftest import USERS
from smtp_helpers import module_instance  # noqa: F401

USER, PASSWORD = "user1@example.test", USERS["user1@example.test"]

# Addresses that must never be relayed from an unauthenticated client.
# Each either reaches a local mailbox (then it is not relaying), is an
# unknown local user (550), a syntax error (501/553) or relay denied (554).
RELAY_TRICKS = [
    "victim@example.org",
    "VICTIM@EXAMPLE.ORG",
    "victim@example.org.",
    "user1%victim.example.org@example.test",
    "victim%example.org@example.test",
    "example.org!victim@example.test",
    "@example.test:victim@example.org",
    "@example.test,@mx.example.test:victim@example.org",
    '"victim@example.org"@example.test',
    '"victim%example.org"@example.test',
    "victim@[192.0.2.1]",
    "victim@[127.0.0.1]",
    "victim@[IPv6:::1]",
    "victim@example.test@example.org",
    "victim@example.org@example.test",
    "victim@sub.example.test",
    "victim@example.test.example.org",
    "victim@localhost.example.org",
]


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def queued_for(inst, addr):
    """The lines of the log saying something was queued for addr."""
    return [l for l in inst.log_text().splitlines()
            if "to=<%s>" % addr.lower() in l.lower() and "status=" in l]


@pytest.mark.parametrize("rcpt", RELAY_TRICKS)
def test_no_relay_without_auth(instance, rcpt):
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=30) as c:
        c.ehlo("client.test")
        assert c.mail("spammer@example.net")[0] == 250
        code, msg = c.rcpt(rcpt)
        # Either refused, or accepted for a LOCAL mailbox (never remote).
        if code == 250:
            c.rset()
            pytest.fail("accepted %s: %s" % (rcpt, msg))
        assert code in (501, 550, 553, 554), (code, msg)
        assert c.noop()[0] == 250


def test_relay_denied_text_and_code(instance):
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=30) as c:
        c.ehlo("client.test")
        c.mail("spammer@example.net")
        code, msg = c.rcpt("victim@example.org")
        assert code == 554
        assert msg == b"5.7.1 <victim@example.org>: Relay access denied"


def test_unknown_local_user_is_550_5_1_1(instance):
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=30) as c:
        c.ehlo("client.test")
        c.mail("a@example.net")
        code, msg = c.rcpt("nosuchuser@example.test")
        assert code == 550 and msg.startswith(b"5.1.1"), (code, msg)


def test_authenticated_submission_relays(instance):
    with smtplib.SMTP("127.0.0.1", instance.submission_port,
                      timeout=30) as c:
        c.starttls(context=client_ctx())
        c.login(USER, PASSWORD)
        assert c.mail(USER)[0] == 250
        code, msg = c.rcpt("friend@example.org")
        assert code == 250, (code, msg)
        c.rset()


def test_unauthenticated_submission_is_refused(instance):
    with smtplib.SMTP("127.0.0.1", instance.submission_port,
                      timeout=30) as c:
        c.starttls(context=client_ctx())
        c.ehlo("client.test")
        assert c.mail("a@example.net")[0] == 250
        code, msg = c.rcpt("user2@example.test")
        assert code == 554 and msg.startswith(b"5.7.1"), (code, msg)
        code, msg = c.rcpt("friend@example.org")
        assert code == 554 and msg.startswith(b"5.7.1"), (code, msg)
