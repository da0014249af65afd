"""The restriction lists (smtpd_*_restrictions) and lookup tables against
a running server: each restriction decides with Postfix's reply, the
session goes on after a refusal, smtpd_delay_reject moves client/HELO/
sender decisions between RCPT and MAIL, and a bad list stops the start
with one line."""

import smtplib
import ssl
import subprocess

import pytest

from conftest import USERS, wait_for

RCPT = "user1@example.test"


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def table(inst, name, text):
    path = inst.dir / name
    path.write_text(text)
    path.chmod(0o644)
    return str(path)


@pytest.fixture
def restricted(make_instance):
    inst = make_instance(start=False)
    cidr = table(inst, "clients.cidr", "192.0.2.0/24 REJECT\n")
    senders = table(inst, "senders", "spammer@example.net REJECT go away\n"
                    "example.com DEFER try later\n")
    rcpts = table(inst, "rcpts.re", "/^blocked@/ REJECT no mail for you\n")
    inst.set_params({
        "smtpd_client_restrictions": "check_client_access cidr:" + cidr,
        "smtpd_helo_restrictions":
            "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
        "smtpd_sender_restrictions":
            "reject_non_fqdn_sender, check_sender_access texthash:" + senders,
        "smtpd_recipient_restrictions":
            "check_recipient_access regexp:" + rcpts,
    })
    inst.start()
    return inst


def rcpt_reply(inst, helo, sender, rcpt=RCPT):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
        c.ehlo(helo)
        code, msg = c.mail(sender)
        if code != 250:
            return "MAIL", code, msg
        code, msg = c.rcpt(rcpt)
        assert c.noop()[0] == 250  # the session survives a refusal
        return "RCPT", code, msg


def test_everything_clean_is_accepted(restricted):
    assert rcpt_reply(restricted, "client.example.net",
                      "someone@example.net")[1] == 250


def test_non_fqdn_helo_rejected_at_rcpt_504_5_5_2(restricted):
    stage, code, msg = rcpt_reply(restricted, "localbox",
                                  "someone@example.net")
    assert (stage, code) == ("RCPT", 504), msg
    assert b"5.5.2" in msg and b"Helo command rejected" in msg


def test_invalid_helo_rejected_501_5_5_2(restricted):
    stage, code, msg = rcpt_reply(restricted, "bad_host!.example.net",
                                  "someone@example.net")
    assert code == 501 and b"Helo command rejected" in msg, msg


def test_non_fqdn_sender_rejected_504(restricted):
    stage, code, msg = rcpt_reply(restricted, "client.example.net",
                                  "someone@localbox")
    assert code == 504 and b"Sender address rejected" in msg, msg


def test_sender_access_table_reject_with_text(restricted):
    stage, code, msg = rcpt_reply(restricted, "client.example.net",
                                  "spammer@example.net")
    assert code == 554 and b"go away" in msg, msg


def test_sender_access_table_defer_by_domain_450(restricted):
    stage, code, msg = rcpt_reply(restricted, "client.example.net",
                                  "someone@example.com")
    assert code == 450 and b"try later" in msg, msg


def test_recipient_access_regexp(restricted):
    stage, code, msg = rcpt_reply(restricted, "client.example.net",
                                  "someone@example.net",
                                  "blocked@example.test")
    assert code == 554 and b"no mail for you" in msg, msg


def test_reject_is_logged_in_postfix_shape(restricted):
    rcpt_reply(restricted, "client.example.net", "spammer@example.net")
    assert any("reject: RCPT from localhost[127.0.0.1]: 554" in l
               and "from=<spammer@example.net>" in l
               for l in restricted.log_text().splitlines())


def test_without_delay_reject_sender_is_refused_at_mail(make_instance):
    inst = make_instance(params={
        "smtpd_delay_reject": "no",
        "smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname"})
    stage, code, msg = rcpt_reply(inst, "localbox", "someone@example.net")
    assert (stage, code) == ("MAIL", 504), (stage, code, msg)


def test_data_restrictions_reject_data(make_instance):
    inst = make_instance(params={"smtpd_data_restrictions": "reject"})
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
        c.ehlo("client.example.net")
        c.mail("a@example.net")
        assert c.rcpt(RCPT)[0] == 250
        code, msg = c.docmd("DATA")
        assert code == 554 and msg.startswith(b"5.7.1"), (code, msg)
        assert c.noop()[0] == 250


def test_sender_login_mismatch_on_submission(make_instance):
    inst = make_instance(params={
        "submission_relay_restrictions":
            "reject_sender_login_mismatch, permit_sasl_authenticated, reject"})
    with smtplib.SMTP("127.0.0.1", inst.submission_port, timeout=30) as c:
        c.starttls(context=client_ctx())
        c.login("user1@example.test", USERS["user1@example.test"])
        assert c.mail("user2@example.test")[0] == 250
        code, msg = c.rcpt("user3@example.test")
        assert code == 553 and b"not owned by user" in msg, (code, msg)
        c.rset()
        assert c.mail("user1@example.test")[0] == 250
        assert c.rcpt("user3@example.test")[0] == 250


def test_unknown_restriction_is_a_one_line_startup_error(make_instance):
    inst = make_instance(users=False, start=False)
    inst.set_param("smtpd_relay_restrictions",
                   "permit_mynetwork, reject_unauth_destination")
    out = subprocess.run([inst.bin, "-c", str(inst.conf), "serve"],
                         capture_output=True, timeout=60)
    assert out.returncode != 0
    lines = [l for l in out.stderr.decode().splitlines() if l.strip()]
    assert len(lines) == 1, lines
    assert "permit_mynetwork" in lines[0] and "permit_mynetworks" in lines[0]


def test_open_relay_configuration_is_refused(make_instance):
    inst = make_instance(users=False, start=False)
    inst.set_param("smtpd_relay_restrictions", "permit")
    out = subprocess.run([inst.bin, "-c", str(inst.conf), "serve"],
                         capture_output=True, timeout=60)
    assert out.returncode != 0
    assert "open relay" in out.stderr.decode()


@pytest.fixture(scope="module")
def pipelining(mw_bin):
    from smtp_helpers import running_instance
    with running_instance(mw_bin, {
            "smtpd_data_restrictions": "reject_unauth_pipelining"}) as i:
        yield i


def talk(inst, chunks):
    """Sends each chunk in one write and returns the replies' codes (and
    the last reply's text) read after the last chunk, up to n replies."""
    import socket
    with socket.create_connection(("127.0.0.1", inst.smtp_port), 30) as s:
        f = s.makefile("rb")
        f.readline()  # banner
        replies = []
        for data, n in chunks:
            s.sendall(data)
            for _ in range(n):
                while True:
                    line = f.readline().decode()
                    assert line, "connection closed"
                    if line[3:4] != "-":
                        break
                replies.append(line.strip())
        return replies


TX = b"MAIL FROM:<a@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % RCPT.encode()
DENIED = ("503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP "
          "command pipelining")


def test_pipelining_after_ehlo_is_allowed(pipelining):
    # RFC 2920: MAIL, RCPT and DATA in one group, after EHLO
    r = talk(pipelining, [(b"EHLO client.test\r\n", 1), (TX, 3),
                          (b"x\r\n.\r\nQUIT\r\n", 2)])
    assert r[1:4] == ["250 2.1.0 Ok", "250 2.1.5 Ok",
                      "354 End data with <CR><LF>.<CR><LF>"], r
    assert r[4].startswith("250 2.0.0 Ok: queued as"), r


@pytest.mark.parametrize("chunks", [
    # commands sent ahead after HELO, which offers no PIPELINING
    [(b"HELO client.test\r\n", 1), (TX, 3)],
    # EHLO must end a group (RFC 2920 3.1)
    [(b"EHLO client.test\r\n" + TX, 4)],
    # the message sent before DATA's 354
    [(b"EHLO client.test\r\n", 1),
     (b"MAIL FROM:<a@example.org>\r\n", 1), (b"RCPT TO:<%s>\r\n" %
                                             RCPT.encode(), 1),
     (b"DATA\r\nSubject: early\r\n", 1)],
], ids=["after-helo", "behind-ehlo", "behind-data"])
def test_improper_pipelining_is_refused_at_data(pipelining, chunks):
    assert talk(pipelining, chunks)[-1] == DENIED


def test_warn_if_reject_logs_instead_of_refusing(make_instance):
    inst = make_instance(start=False)
    rcpts = table(inst, "rcpts", "%s REJECT not yet\n" % RCPT)
    inst.set_params({"smtpd_recipient_restrictions":
                     "warn_if_reject check_recipient_access texthash:" +
                     rcpts})
    inst.start()
    assert rcpt_reply(inst, "client.test", "a@example.org") == \
        ("RCPT", 250, b"2.1.5 Ok")
    want = ("reject_warning: RCPT from localhost[127.0.0.1]: 554 5.7.1 "
            "<%s>: Recipient address rejected: not yet; from=<a@example.org> "
            "to=<%s> proto=ESMTP helo=<client.test>" % (RCPT, RCPT))
    wait_for(lambda: want in inst.log_text(), 10, what="the warning")
