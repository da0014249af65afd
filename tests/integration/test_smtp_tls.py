"""TLS on the SMTP listeners: STARTTLS (RFC 3207) on smtp and submission,
implicit TLS (RFC 8314) on smtps, the STARTTLS injection case
(CVE-2011-0411), protocol floor, session resumption, the Received: header,
SNI, the certificate re-read on SIGHUP and the start-up error for a missing
certificate."""

import os
import smtplib
import socket
import ssl
import subprocess

import pytest

from conftest import wait_for, maildir_messages
from smtp_helpers import module_instance  # noqa: F401

RCPT = "user1@example.test"


def client_ctx(**kw):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def read_reply(f):
    lines = []
    while True:
        line = f.readline()
        assert line, "connection closed"
        lines.append(line.decode())
        if line[3:4] != b"-":
            return int(line[:3]), lines


def wait_delivered(inst, token):
    def found():
        return [m for m in maildir_messages(inst.maildir(RCPT))
                if token.encode() in m]
    return wait_for(found, 30)


def test_ehlo_on_smtp_offers_starttls_and_not_after_it(instance):
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=30) as c:
        c.ehlo("client.test")
        assert c.has_extn("starttls")
        code, _ = c.starttls(context=client_ctx())
        assert code == 220
        c.ehlo("client.test")
        assert not c.has_extn("starttls")
        assert c.noop()[0] == 250


def test_message_over_starttls_records_tls_in_received(instance):
    token = "tls-received-token-1"
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=30) as c:
        c.starttls(context=client_ctx())
        c.sendmail("a@example.org", [RCPT], "Subject: %s\r\n\r\nbody\r\n"
                   % token)
    msg = wait_delivered(instance, token)[0].decode()
    assert "with ESMTPS id" in msg
    assert "(using TLSv1." in msg and "with cipher" in msg


def test_smtps_implicit_tls_delivers(instance):
    token = "smtps-token-1"
    with smtplib.SMTP_SSL("127.0.0.1", instance.smtps_port, timeout=30,
                          context=client_ctx()) as c:
        c.ehlo("client.test")
        assert not c.has_extn("starttls")
        # smtps is for submission: authenticated users only
        c.login(RCPT, "secret-1")
        c.sendmail(RCPT, [RCPT], "Subject: %s\r\n\r\nx\r\n" % token)
    assert wait_delivered(instance, token)


def test_submission_requires_starttls_before_mail_530_5_7_0(instance):
    with smtplib.SMTP("127.0.0.1", instance.submission_port,
                      timeout=30) as c:
        c.ehlo("client.test")
        assert c.has_extn("starttls")
        code, msg = c.mail("a@example.org")
        assert code == 530 and msg.startswith(b"5.7.0"), (code, msg)
        assert c.noop()[0] == 250
        c.starttls(context=client_ctx())
        c.ehlo("client.test")
        assert c.mail("a@example.org")[0] == 250


def test_starttls_injection_is_discarded(instance):
    """CVE-2011-0411: commands pipelined behind STARTTLS in the same packet
    must not be executed after the handshake."""
    raw = socket.create_connection(("127.0.0.1", instance.smtp_port), 30)
    f = raw.makefile("rb")
    assert read_reply(f)[0] == 220
    raw.sendall(b"EHLO client.test\r\n")
    assert read_reply(f)[0] == 250
    raw.sendall(b"STARTTLS\r\nRSET\r\nMAIL FROM:<evil@example.org>\r\n")
    code, _ = read_reply(f)
    assert code == 220
    # Nothing else may come in plain text: the handshake follows.
    tls = client_ctx().wrap_socket(raw, server_hostname="mail.example.test")
    tf = tls.makefile("rb")
    # The first reply we get under TLS answers OUR next command: the
    # injected RSET and MAIL produced no replies.
    tls.sendall(b"NOOP\r\n")
    code, lines = read_reply(tf)
    assert code == 250 and "2.0.0" in lines[0], lines
    # And the state was forgotten: MAIL needs a new EHLO.
    tls.sendall(b"MAIL FROM:<a@example.org>\r\n")
    code, lines = read_reply(tf)
    assert code == 503, lines
    tls.sendall(b"EHLO client.test\r\n")
    assert read_reply(tf)[0] == 250
    tls.sendall(b"MAIL FROM:<a@example.org>\r\n")
    assert read_reply(tf)[0] == 250
    tls.close()


def test_starttls_syntax_and_sequence_errors(instance):
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=30) as c:
        c.ehlo("client.test")
        code, msg = c.docmd("STARTTLS", "now")
        assert code == 501 and msg.startswith(b"5.5.4")
        assert c.mail("a@example.org")[0] == 250
        code, msg = c.docmd("STARTTLS")
        assert code == 503 and msg.startswith(b"5.5.1")
        assert c.rset()[0] == 250
        c.starttls(context=client_ctx())
        c.ehlo("client.test")
        code, msg = c.docmd("STARTTLS")
        assert code == 554 and msg.startswith(b"5.5.1"), (code, msg)
        assert c.noop()[0] == 250


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_tls_1_2_and_1_3_are_accepted(instance, version):
    v = getattr(ssl.TLSVersion, version)
    ctx = client_ctx(minimum_version=v, maximum_version=v)
    with smtplib.SMTP_SSL("127.0.0.1", instance.smtps_port, timeout=30,
                          context=ctx) as c:
        assert c.sock.version() == version.replace("_", ".")
        assert c.noop()[0] == 250


def test_tls_1_1_is_refused(instance):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        smtplib.SMTP_SSL("127.0.0.1", instance.smtps_port, timeout=30,
                         context=ctx).noop()


def test_openssl_s_client_starttls_smtp(instance):
    out = subprocess.run(
        ["openssl", "s_client", "-connect",
         "127.0.0.1:%d" % instance.smtp_port, "-starttls", "smtp",
         "-brief", "-ign_eof"], input=b"EHLO client.test\r\nQUIT\r\n",
        capture_output=True, timeout=30)
    text = (out.stdout + out.stderr).decode(errors="replace")
    assert "Protocol version: TLSv1.3" in text, text
    assert "221 2.0.0" in text, text


def test_tls_session_is_resumed(instance):
    ctx = client_ctx(maximum_version=ssl.TLSVersion.TLSv1_2)
    with socket.create_connection(("127.0.0.1", instance.smtps_port),
                                  30) as raw:
        with ctx.wrap_socket(raw) as t:
            t.recv(1000)
            session = t.session
    with socket.create_connection(("127.0.0.1", instance.smtps_port),
                                  30) as raw:
        with ctx.wrap_socket(raw, session=session) as t:
            t.recv(1000)
            assert t.session_reused


def test_missing_certificate_is_a_one_line_startup_error(make_instance):
    inst = make_instance(users=False, start=False)
    missing = str(inst.dir / "tls" / "nope.pem")
    inst.set_param("smtpd_tls_cert_file", missing)
    out = subprocess.run([str(inst.bin), "-c", str(inst.conf), "serve"],
                         capture_output=True, timeout=60)
    assert out.returncode != 0
    lines = [l for l in out.stderr.decode().splitlines() if l.strip()]
    assert len(lines) == 1, lines
    assert missing in lines[0], lines


def test_sni_chooses_the_domain_certificate(make_instance):
    inst = make_instance(users=False, start=False)
    tls = inst.dir / "tls"
    key, cert = str(tls / "other-key.pem"), str(tls / "other-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=mail.other.test",
                    "-keyout", key, "-out", cert], check=True,
                   capture_output=True)
    for p in (key, cert):
        os.chmod(p, 0o644)  # mail_owner reads them when the tests run as root
    sni = inst.dir / "sni"
    sni.write_text("# domain key cert\nmail.other.test %s %s\n" % (key, cert))
    sni.chmod(0o644)
    inst.set_param("tls_server_sni_maps", str(sni))
    inst.start()

    def subject(name):
        ctx = client_ctx()
        with socket.create_connection(("127.0.0.1", inst.smtps_port),
                                      30) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as t:
                der = t.getpeercert(binary_form=True)
        out = subprocess.run(["openssl", "x509", "-inform", "DER",
                              "-noout", "-subject"], input=der,
                             capture_output=True, check=True)
        return out.stdout.decode()

    assert "mail.other.test" in subject("mail.other.test")
    assert "mail.example.test" in subject("mail.example.test")


def test_sighup_rereads_the_certificate(make_instance):
    inst = make_instance(users=False)

    def subject():
        with socket.create_connection(("127.0.0.1", inst.smtps_port),
                                      30) as raw:
            with client_ctx().wrap_socket(raw) as t:
                der = t.getpeercert(binary_form=True)
        out = subprocess.run(["openssl", "x509", "-inform", "DER",
                              "-noout", "-subject"], input=der,
                             capture_output=True, check=True)
        return out.stdout.decode()

    assert "mail.example.test" in subject()
    # a renewed certificate, written over the old files (as certbot's
    # deploy hooks do), then SIGHUP
    tls = inst.dir / "tls"
    new_key, new_cert = tls / "new-key.pem", tls / "new-cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=renewed.example.test",
                    "-keyout", str(new_key), "-out", str(new_cert)],
                   check=True, capture_output=True)
    for p in (new_key, new_cert):
        os.chmod(p, 0o644)  # mail_owner reads them when tests run as root
    os.replace(new_key, inst.get_param("smtpd_tls_key_file"))
    os.replace(new_cert, inst.get_param("smtpd_tls_cert_file"))
    inst.reload()

    def renewed():
        try:
            return "renewed.example.test" in subject()
        except (OSError, ssl.SSLError):
            return False  # a session cut short by the restart

    wait_for(renewed, 30, what="the renewed certificate")
