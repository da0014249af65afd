"""Real mail clients submitting through the submission (STARTTLS) and
smtps (implicit TLS, RFC 8314) listeners with SMTP AUTH: curl and mutt,
configured as a user would configure them, end to end into the
recipient's Maildir."""

import subprocess
import uuid

from conftest import USERS, maildir_messages, wait_for
from smtp_helpers import DELIVERY_TIMEOUT, module_instance  # noqa: F401

USER, PASSWORD = "user1@example.test", USERS["user1@example.test"]
RCPT = "user2@example.test"


def arrived(inst, token):
    """Waits until a message containing token is in RCPT's Maildir."""
    def find():
        for m in maildir_messages(inst.maildir(RCPT)):
            if token.encode() in m:
                return m
        return None
    return wait_for(find, DELIVERY_TIMEOUT, what="the message " + token)


def curl(url, user, password, msg_file):
    # -k: the instance's certificate is self-signed; --ssl-reqd: STARTTLS
    # or fail (smtps:// is TLS from the start anyway)
    return subprocess.run(
        ["curl", "--silent", "--show-error", "-k", "--ssl-reqd", "--url", url,
         "--user", "%s:%s" % (user, password), "--mail-from", USER,
         "--mail-rcpt", RCPT, "--upload-file", str(msg_file)],
        capture_output=True, timeout=60)


def message(tmp_path, token):
    f = tmp_path / "msg.txt"
    f.write_bytes(("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nhello\r\n"
                   % (USER, RCPT, token)).encode())
    return f


def test_curl_starttls_on_submission(instance, tmp_path):
    token = "curl-starttls-" + uuid.uuid4().hex
    r = curl("smtp://127.0.0.1:%d" % instance.submission_port, USER,
             PASSWORD, message(tmp_path, token))
    assert r.returncode == 0, r.stderr
    m = arrived(instance, token)
    assert b"Authenticated sender" not in m  # header off by default
    assert b"with ESMTPSA" in m


def test_curl_implicit_tls_on_smtps(instance, tmp_path):
    token = "curl-smtps-" + uuid.uuid4().hex
    r = curl("smtps://127.0.0.1:%d" % instance.smtps_port, USER, PASSWORD,
             message(tmp_path, token))
    assert r.returncode == 0, r.stderr
    assert b"with ESMTPSA" in arrived(instance, token)


def test_curl_wrong_password_is_denied(instance, tmp_path):
    token = "curl-denied-" + uuid.uuid4().hex
    r = curl("smtp://127.0.0.1:%d" % instance.submission_port, USER,
             "not-" + PASSWORD, message(tmp_path, token))
    assert r.returncode == 67, (r.returncode, r.stderr)  # login denied
    assert token.encode() not in b"".join(
        maildir_messages(instance.maildir(RCPT)))


def test_curl_without_tls_cannot_authenticate(instance, tmp_path):
    # submission requires TLS: no AUTH is offered before STARTTLS
    r = subprocess.run(
        ["curl", "--silent", "--show-error", "--url",
         "smtp://127.0.0.1:%d" % instance.submission_port, "--user",
         "%s:%s" % (USER, PASSWORD), "--mail-from", USER, "--mail-rcpt",
         RCPT, "--upload-file", str(message(tmp_path, "x"))],
        capture_output=True, timeout=60)
    assert r.returncode != 0


def mutt_send(inst, tmp_path, url, token, starttls):
    rc = tmp_path / "muttrc"
    lines = [
        'set smtp_url = "%s"' % url,
        'set smtp_pass = "%s"' % PASSWORD,
        'set from = "%s"' % USER,
        # trust the instance's self-signed certificate, issued for the
        # domain rather than for 127.0.0.1
        'set certificate_file = "%s"' % (inst.dir / "tls" / "cert.pem"),
        "set ssl_verify_host = no",
        'set record = ""',
        'set folder = "%s"' % tmp_path,
        'set spoolfile = "%s"' % (tmp_path / "mbox"),
    ]
    if starttls:
        lines += ["set ssl_starttls = yes", "set ssl_force_tls = yes"]
    rc.write_text("\n".join(lines) + "\n")
    body = tmp_path / "body.txt"
    body.write_text("sent by mutt\n")
    with open(body, "rb") as f:
        r = subprocess.run(["mutt", "-n", "-F", str(rc), "-s", token, RCPT],
                           stdin=f, capture_output=True, timeout=60,
                           env={"HOME": str(tmp_path), "TERM": "dumb",
                                "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    m = arrived(inst, token)
    assert b"From: " in m and USER.encode() in m


def test_mutt_smtps(instance, tmp_path):
    mutt_send(instance, tmp_path,
              "smtps://%s@127.0.0.1:%d/" % (USER, instance.smtps_port),
              "mutt-smtps-" + uuid.uuid4().hex, starttls=False)


def test_mutt_starttls(instance, tmp_path):
    mutt_send(instance, tmp_path,
              "smtp://%s@127.0.0.1:%d/" % (USER, instance.submission_port),
              "mutt-starttls-" + uuid.uuid4().hex, starttls=True)
