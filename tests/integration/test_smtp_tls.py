"""TLS on the SMTP listeners: STARTTLS (RFC 3207) on smtp and submission,
implicit TLS (RFC 8314) on smtps, the STARTTLS injection case
(CVE-2011-0411), protocol floor, session resumption, the Received: header,
SNI, the certificate re-read on SIGHUP and the start-up error for a missing
certificate; and that every reply reaches a client that talks before the
greeting, pipelines right after a handshake, or closes its write side right
after QUIT."""

import base64
import os
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import wait_for, maildir_messages
from smtp_helpers import HOST, Reply, module_instance  # noqa: F401

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


# --- Replies to clients that do not wait ---------------------------------
#
# RFC 5321 4.3.1 lets a server answer a client that talks before the
# greeting with 554, but never silently: whatever the server does, every
# reply it sends (and logs) must reach the client, up to the 221 of a QUIT
# that the client follows with an immediate close. These tests drive TLS
# through ssl.MemoryBIO on a raw socket, so that they choose what makes one
# TLS record, what leaves in one TCP segment (the client's Finished and its
# first commands, as a client that does not wait for the greeting sends
# them) and when the TCP write side closes.

REPLY_TIMEOUT = 30


class RawTLS:
    """A TLS client on a raw TCP socket. write() makes one TLS record per
    call and queues it; flush() sends everything queued at once;
    replies_until_close() collects what the server sends until it closes
    the connection (close_notify, FIN or RST)."""

    def __init__(self, sock, ctx=None):
        self.sock = sock
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = (ctx or client_ctx()).wrap_bio(
            self.inc, self.out, server_hostname="mail.example.test")
        self.plain = b""
        self.closed = False

    @classmethod
    def connect(cls, port, ctx=None):
        return cls(socket.create_connection((HOST, port), REPLY_TIMEOUT), ctx)

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no more within %d s: %d replies, "
                                 "ending %r" % (REPLY_TIMEOUT,
                                                len(parse_replies(self.plain)),
                                                self.plain[-300:]))
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        except socket.timeout:
            return
        if chunk:
            self.inc.write(chunk)
        else:
            self.inc.write_eof()

    def handshake(self):
        """Completes the handshake; the client's last flight (its Finished
        in TLS 1.3) stays queued for the next flush()."""
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            try:
                self.tls.do_handshake()
                return self
            except ssl.SSLWantReadError:
                self.flush()
                self._recv(deadline)

    def write(self, data):
        self.tls.write(data)

    def flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def send(self, *records):
        """Writes each argument as one TLS record, then sends them all."""
        for r in records:
            self.write(r)
        self.flush()

    def shutdown_write(self, close_notify):
        """Ends the client's side: a TLS close_notify first if asked (as
        openssl s_client does at the end of its input), then a TCP FIN."""
        if close_notify:
            try:
                self.tls.unwrap()
            except ssl.SSLWantReadError:
                pass  # close_notify is queued; the server's comes later
        self.flush()
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server has closed already; its replies are queued

    def _read_plain(self):
        while not self.closed:
            try:
                data = self.tls.read(65536)
            except ssl.SSLWantReadError:
                return
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                data = b""
            except ssl.SSLError as e:
                raise AssertionError("TLS error after %r: %s"
                                     % (self.plain, e))
            self.plain += data
            # b"": the server's close_notify, or the TCP close
            self.closed = data == b""

    def replies(self, n):
        """The first n replies (fails at a deadline or at the close)."""
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            self._read_plain()
            got = parse_replies(self.plain)
            if len(got) >= n:
                return got
            assert not self.closed, \
                "server closed after %d replies, ending %r" % (
                    len(got), self.plain[-300:])
            self._recv(deadline)

    def replies_until_close(self):
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            self._read_plain()
            if self.closed:
                return parse_replies(self.plain, complete=True)
            self._recv(deadline)

    def close(self):
        self.sock.close()


def parse_replies(data, complete=False):
    """The complete replies in data; with complete, data must end at the
    end of a reply."""
    out, lines = [], []
    text = data.decode("utf-8", "replace")
    *full, rest = text.split("\r\n")
    assert not complete or rest == "", "partial reply line %r" % rest
    for line in full:
        assert line[:3].isdigit() and line[3:4] in ("-", " "), \
            "not a reply line: %r in %r" % (line, text)
        lines.append(line)
        if line[3] == " ":
            out.append(Reply(int(line[:3]), [l[4:] for l in lines]))
            lines = []
    return out


def codes(replies):
    return [r.code for r in replies]


def starttls_session(port):
    """A plain connection to port, greeted, past EHLO and STARTTLS (220),
    with the TLS handshake done and the client's Finished still unsent."""
    raw = socket.create_connection((HOST, port), REPLY_TIMEOUT)
    f = raw.makefile("rb")
    assert read_reply(f)[0] == 220
    raw.sendall(b"EHLO client.test\r\n")
    assert read_reply(f)[0] == 250
    raw.sendall(b"STARTTLS\r\n")
    assert read_reply(f)[0] == 220
    # the server says nothing more in plain text, so f has read no further
    return RawTLS(raw).handshake()


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_smtps_commands_before_the_greeting_get_every_reply(instance,
                                                            version):
    v = getattr(ssl.TLSVersion, version)
    c = RawTLS.connect(instance.smtps_port,
                       client_ctx(minimum_version=v, maximum_version=v))
    try:
        c.handshake()
        # EHLO and QUIT leave with the client's Finished, one record each
        c.send(b"EHLO client.test\r\n", b"QUIT\r\n")
        got = c.replies_until_close()
    finally:
        c.close()
    assert codes(got) == [220, 250, 221], got
    assert got[0].text.startswith("mail.example.test"), got
    assert "PIPELINING" in got[1].lines, got
    assert got[2].lines == ["2.0.0 Bye"], got


def test_smtps_commands_in_one_record_get_their_replies_in_order(instance):
    c = RawTLS.connect(instance.smtps_port)
    try:
        c.handshake()
        c.send(b"EHLO client.test\r\nNOOP\r\nNOOP\r\nQUIT\r\n")
        got = c.replies_until_close()
    finally:
        c.close()
    assert codes(got) == [220, 250, 250, 250, 221], got
    assert "CHUNKING" in got[1].lines, got
    assert got[2].lines == got[3].lines == ["2.0.0 Ok"], got
    assert got[4].lines == ["2.0.0 Bye"], got


@pytest.mark.parametrize("close_notify", [False, True],
                         ids=["fin", "close_notify"])
@pytest.mark.parametrize("greeted", [False, True],
                         ids=["before_greeting", "after_ehlo"])
def test_smtps_221_reaches_a_client_that_closes_after_quit(instance,
                                                           greeted,
                                                           close_notify):
    c = RawTLS.connect(instance.smtps_port)
    try:
        c.handshake()
        expected = [220, 221]
        if greeted:
            c.flush()
            assert codes(c.replies(1)) == [220]
            c.send(b"EHLO client.test\r\n")
            assert codes(c.replies(2)) == [220, 250]
            expected = [220, 250, 221]
        c.write(b"QUIT\r\n")
        c.shutdown_write(close_notify)
        got = c.replies_until_close()
    finally:
        c.close()
    assert codes(got) == expected, got
    assert got[-1].lines == ["2.0.0 Bye"], got


@pytest.mark.parametrize("commands,expected", [
    (b"NOOP\r\n", [250]),
    # answered from worker jobs; smtps relays nothing before AUTH
    (b"MAIL FROM:<a@example.org>\r\nRCPT TO:<%s>\r\n" % RCPT.encode(),
     [250, 554]),
], ids=["noop", "mail_rcpt"])
def test_smtps_replies_reach_a_client_that_half_closes_without_quit(
        instance, commands, expected):
    c = RawTLS.connect(instance.smtps_port)
    try:
        c.handshake()
        c.send(b"EHLO client.test\r\n")
        assert codes(c.replies(2)) == [220, 250]
        c.write(commands)
        c.shutdown_write(False)
        got = c.replies_until_close()
    finally:
        c.close()
    assert codes(got) == [220, 250] + expected, got


def test_smtps_batch_over_the_input_mark_while_busy_gets_every_reply(
        instance):
    """The server reads ahead at most 64 KiB (its input high-water mark).
    While a failed AUTH waits out smtpd_auth_failure_delay, the client
    pipelines five records of NOOPs, about 78 KiB: reading stops inside the
    fifth record, whose rest waits decrypted in the server's SSL object
    while the socket has nothing more. Every NOOP must still be answered."""
    per_record = 2666  # "NOOP\r\n" * 2666: 15996 bytes, one TLS record
    records = 5
    c = RawTLS.connect(instance.smtps_port)
    try:
        c.handshake()
        c.send(b"EHLO client.test\r\n")
        assert codes(c.replies(2)) == [220, 250]
        wrong = base64.b64encode(b"\0%s\0wrong" % RCPT.encode())
        c.send(b"AUTH PLAIN " + wrong + b"\r\n",
               *[b"NOOP\r\n" * per_record] * records)
        want = 3 + per_record * records
        got = c.replies(want)
    finally:
        c.close()
    assert got[2].code == 535, got[2]
    assert len(got) == want and set(codes(got[3:])) == {250}, len(got)


@pytest.mark.parametrize("records", ["one_record", "record_per_command"])
@pytest.mark.parametrize("port", ["smtp_port", "submission_port"])
def test_commands_pipelined_after_starttls_handshake_get_every_reply(
        instance, port, records):
    c = starttls_session(getattr(instance, port))
    try:
        if records == "one_record":
            c.send(b"EHLO client.test\r\nNOOP\r\nQUIT\r\n")
        else:
            c.send(b"EHLO client.test\r\n", b"NOOP\r\n", b"QUIT\r\n")
        got = c.replies_until_close()
    finally:
        c.close()
    # RFC 3207 4.2: no new greeting; the EHLO is answered without STARTTLS
    assert codes(got) == [250, 250, 221], got
    assert "STARTTLS" not in got[0].lines, got
    assert got[2].lines == ["2.0.0 Bye"], got


def test_starttls_221_reaches_a_client_that_closes_after_quit(instance):
    c = starttls_session(instance.smtp_port)
    try:
        c.write(b"EHLO client.test\r\n")
        c.write(b"QUIT\r\n")
        c.shutdown_write(False)
        got = c.replies_until_close()
    finally:
        c.close()
    assert codes(got) == [250, 221], got


@pytest.mark.parametrize("port,extra", [("smtps_port", []),
                                        ("smtp_port", ["-starttls", "smtp"]),
                                        ("submission_port",
                                         ["-starttls", "smtp"])])
def test_openssl_s_client_early_ehlo_quit_gets_every_reply(instance, port,
                                                           extra):
    # printf 'EHLO a\nQUIT\n' | openssl s_client -connect H:P -quiet -crlf
    # -quiet implies -ign_eof: s_client reads until the server closes.
    out = subprocess.run(
        ["openssl", "s_client", "-connect",
         "127.0.0.1:%d" % getattr(instance, port), "-quiet", "-crlf"]
        + extra, input=b"EHLO a\nQUIT\n", capture_output=True,
        timeout=REPLY_TIMEOUT)
    text = out.stdout.decode(errors="replace")
    # the last line of each reply; with -starttls, s_client has read the
    # greeting and the reply to its own EHLO itself
    ends = [l for l in text.split("\r\n") if l[3:4] == " "]
    if not extra:
        assert len(ends) == 3 and ends[0].startswith("220 "), \
            (text, out.stderr)
    assert len(ends) >= 2, (text, out.stderr)
    assert ends[-2].startswith("250 "), (text, out.stderr)
    assert ends[-1] == "221 2.0.0 Bye", (text, out.stderr)
