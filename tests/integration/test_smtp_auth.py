"""SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN against
accounts.db: where it is offered, every failure path with its reply code,
the penalty for repeated failures, what is logged, and relaying for
authenticated users only."""

import base64
import smtplib
import ssl

import pytest

from conftest import USERS, wait_for, maildir_messages

USER, PASSWORD = "user1@example.test", USERS["user1@example.test"]


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def submission(inst):
    c = smtplib.SMTP("127.0.0.1", inst.submission_port, timeout=30)
    c.starttls(context=client_ctx())
    c.ehlo("client.test")
    return c


@pytest.fixture(scope="module")
def inst(mw_bin):
    from smtp_helpers import running_instance
    with running_instance(mw_bin) as i:
        yield i


@pytest.fixture
def strict(make_instance):
    """Three failures ban a client; no delay, to keep the test fast."""
    return make_instance(params={"smtpd_auth_failure_limit": "3",
                                 "smtpd_auth_failure_delay": "0"})


def test_auth_is_not_offered_without_tls(inst):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
        c.ehlo("client.test")
        assert not c.has_extn("auth")
        code, msg = c.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert code == 503 and msg.startswith(b"5.5.1"), (code, msg)
        assert c.noop()[0] == 250


def test_mx_offers_no_auth_even_over_tls(inst):
    # Postfix's default: users submit on submission and smtps
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
        c.starttls(context=client_ctx())
        c.ehlo("client.test")
        assert not c.has_extn("auth")
        code, msg = c.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert code == 503 and msg.startswith(b"5.5.1"), (code, msg)


def test_smtpd_sasl_auth_enable_offers_auth_on_the_mx(make_instance):
    inst = make_instance(params={"smtpd_sasl_auth_enable": "yes"})
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
        c.ehlo("client.test")
        assert not c.has_extn("auth")  # smtpd_tls_auth_only
        c.starttls(context=client_ctx())
        c.ehlo("client.test")
        assert c.has_extn("auth")
        c.login(USER, PASSWORD)
        assert c.mail(USER)[0] == 250
        assert c.rcpt("someone@example.org")[0] == 250  # relays


def test_auth_is_offered_after_starttls(inst):
    with submission(inst) as c:
        mechs = c.esmtp_features["auth"].upper().split()
        assert "PLAIN" in mechs and "LOGIN" in mechs


def test_auth_before_starttls_on_submission_gets_530_5_7_0(inst):
    with smtplib.SMTP("127.0.0.1", inst.submission_port, timeout=30) as c:
        c.ehlo("client.test")
        code, msg = c.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert code == 530 and msg.startswith(b"5.7.0"), (code, msg)


def test_auth_plain_with_initial_response_succeeds_235(inst):
    with submission(inst) as c:
        code, msg = c.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert code == 235 and msg.startswith(b"2.7.0"), (code, msg)


def test_auth_plain_without_initial_response(inst):
    with submission(inst) as c:
        code, msg = c.docmd("AUTH", "PLAIN")
        assert code == 334, (code, msg)
        code, msg = c.docmd(b64("\0%s\0%s" % (USER, PASSWORD)))
        assert code == 235, (code, msg)


def test_auth_login_succeeds(inst):
    with submission(inst) as c:
        code, msg = c.docmd("AUTH", "LOGIN")
        assert code == 334 and base64.b64decode(msg) == b"Username:"
        code, msg = c.docmd(b64(USER))
        assert code == 334 and base64.b64decode(msg) == b"Password:"
        code, msg = c.docmd(b64(PASSWORD))
        assert code == 235, (code, msg)


def test_smtplib_login_and_send_over_submission(inst):
    token = "auth-submission-token"
    with submission(inst) as c:
        c.login(USER, PASSWORD)
        c.sendmail(USER, ["user2@example.test"],
                   "Subject: %s\r\n\r\nhello\r\n" % token)
    msgs = wait_for(lambda: [m for m in maildir_messages(
        inst.maildir("user2@example.test")) if token.encode() in m], 30)
    assert b"with ESMTPSA id" in msgs[0]


def test_smtps_auth_and_relay_to_outside_is_accepted(inst):
    with smtplib.SMTP_SSL("127.0.0.1", inst.smtps_port, timeout=30,
                          context=client_ctx()) as c:
        c.login(USER, PASSWORD)
        code, msg = c.mail(USER)
        assert code == 250
        code, msg = c.rcpt("someone@example.org")
        assert code == 250, (code, msg)
        c.rset()


def test_relay_without_auth_is_denied_554_5_7_1(inst):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
        c.ehlo("client.test")
        c.mail("a@example.net")
        code, msg = c.rcpt("someone@example.org")
        assert code == 554 and msg.startswith(b"5.7.1"), (code, msg)


def test_wrong_password_gets_535_5_7_8_and_session_continues(inst):
    with submission(inst) as c:
        code, msg = c.docmd("AUTH", "PLAIN " + b64("\0%s\0wrong" % USER))
        assert code == 535 and msg.startswith(b"5.7.8"), (code, msg)
        assert c.noop()[0] == 250
        code, msg = c.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert code == 235, (code, msg)


def test_unknown_user_gets_535_5_7_8(inst):
    with submission(inst) as c:
        code, msg = c.docmd("AUTH", "PLAIN " + b64("\0nobody@example.test\0x"))
        assert code == 535, (code, msg)


def test_failed_login_is_logged_without_the_password(inst):
    secret = "no-such-password-xyzzy"
    with submission(inst) as c:
        c.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (USER, secret)))
    line = wait_for(lambda: [l for l in inst.log_text().splitlines()
                             if "SASL PLAIN authentication failed" in l], 10)
    assert "localhost[127.0.0.1]" in line[0]
    assert secret not in inst.log_text()
    assert b64("\0%s\0%s" % (USER, secret)) not in inst.log_text()


def test_successful_login_is_logged_with_the_user(inst):
    with submission(inst) as c:
        c.login(USER, PASSWORD)
    wait_for(lambda: "sasl_method=PLAIN, sasl_username=%s" % USER
             in inst.log_text() or "sasl_method=LOGIN, sasl_username=%s" % USER
             in inst.log_text(), 10)
    assert PASSWORD not in inst.log_text()


def test_cancel_with_star_gets_501_5_0_0(inst):
    with submission(inst) as c:
        code, _ = c.docmd("AUTH", "LOGIN")
        assert code == 334
        code, msg = c.docmd("*")
        assert code == 501 and msg.startswith(b"5.0.0"), (code, msg)
        assert c.noop()[0] == 250


def test_malformed_base64_gets_501_5_5_2(inst):
    with submission(inst) as c:
        code, msg = c.docmd("AUTH", "PLAIN !!!notbase64")
        assert code == 501 and msg.startswith(b"5.5.2"), (code, msg)
        assert c.noop()[0] == 250


def test_plain_without_nul_separators_gets_501(inst):
    with submission(inst) as c:
        code, msg = c.docmd("AUTH", "PLAIN " + b64("userpassword"))
        assert code == 501, (code, msg)


def test_auth_lines_up_to_12288_octets_then_500_5_5_6(inst):
    # RFC 4954 4: AUTH lines may be 12288 octets, longer than other
    # commands (smtpd_line_limit, 2048 by default)
    with submission(inst) as c:
        code, msg = c.docmd("AUTH", "PLAIN " + "A" * 8000)
        assert code == 501 and msg.startswith(b"5.5.2"), (code, msg)
        code, msg = c.docmd("AUTH", "PLAIN " + "A" * 13000)
        assert code == 500 and msg.startswith(b"5.5.6"), (code, msg)
        assert c.noop()[0] == 250
        # a continuation line too long ends the exchange
        assert c.docmd("AUTH", "LOGIN")[0] == 334
        code, msg = c.docmd("A" * 13000)
        assert code == 500 and msg.startswith(b"5.5.6"), (code, msg)
        assert c.noop()[0] == 250
        c.login(USER, PASSWORD)


def test_unknown_mechanism_gets_504_5_5_4(inst):
    with submission(inst) as c:
        code, msg = c.docmd("AUTH", "CRAM-MD5")
        assert code == 504 and msg.startswith(b"5.5.4"), (code, msg)
        assert c.noop()[0] == 250


def test_auth_twice_gets_503_5_5_1(inst):
    with submission(inst) as c:
        c.login(USER, PASSWORD)
        code, msg = c.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert code == 503 and msg.startswith(b"5.5.1"), (code, msg)


def test_auth_in_a_transaction_gets_503(inst):
    with submission(inst) as c:
        c.login(USER, PASSWORD)
    with submission(inst) as c:
        c.mail(USER)
        code, msg = c.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert code == 503, (code, msg)


def test_submission_without_auth_cannot_send_at_all(inst):
    with submission(inst) as c:
        c.mail("a@example.net")
        code, msg = c.rcpt("user2@example.test")
        assert code in (554, 530) and msg[:1] == b"5", (code, msg)


def test_password_change_takes_effect_at_once(inst):
    user = "user3@example.test"
    with submission(inst) as c:
        c.login(user, USERS[user])
    inst.cli("user", "passwd", user, input="changed-3\n", check=True)
    try:
        with submission(inst) as c:
            with pytest.raises(smtplib.SMTPAuthenticationError):
                c.login(user, USERS[user])
        with submission(inst) as c:
            c.login(user, "changed-3")
    finally:
        inst.cli("user", "passwd", user, input=USERS[user] + "\n",
                 check=True)


def test_repeated_failures_ban_the_client_421_4_7_0(strict):
    for _ in range(3):
        with submission(strict) as c:
            code, _ = c.docmd("AUTH", "PLAIN " + b64("\0%s\0bad" % USER))
            assert code == 535
    with submission(strict) as c:
        code, msg = c.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
        assert code == 421 and msg.startswith(b"4.7.0"), (code, msg)
