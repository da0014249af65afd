"""Real SMTP clients against the server: swaks (plain, pipelined, HELO
only, several recipients, refused recipients) and curl (upload of a file,
several recipients, a refused recipient). What they send must arrive as
sent."""

import subprocess

from smtp_helpers import (SENDER, maildir, split_stored, stored, token,
                          wait_one, wait_queue_drained)
# One instance shared by this module's tests (smtp_helpers).
from smtp_helpers import module_instance  # noqa: F401

RCPT = "user1@example.test"
TIMEOUT = 60


def swaks(inst, *args):
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % inst.smtp_port,
                        "--helo", "swaks.client.test", "--timeout", "30",
                        "--from", SENDER] + list(args),
                       capture_output=True, text=True, timeout=TIMEOUT)
    return r


def curl(inst, *args):
    return subprocess.run(["curl", "--silent", "--show-error",
                           "--max-time", "30",
                           "smtp://127.0.0.1:%d/curl.client.test"
                           % inst.smtp_port,
                           "--mail-from", SENDER] + list(args),
                          capture_output=True, text=True, timeout=TIMEOUT)


def test_swaks_sends_a_message(instance):
    tok = token()
    r = swaks(instance, "--to", RCPT, "--header", "Subject: swaks " + tok,
              "--body", "body " + tok)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<-  250 2.0.0 Ok: queued as " in r.stdout, r.stdout
    added, rest = split_stored(wait_one(instance, RCPT, tok))
    assert added["Return-Path"] == "<%s>" % SENDER
    assert added["Received"].startswith("from swaks.client.test ")
    assert b"Subject: swaks " + tok.encode() + b"\n" in rest
    # swaks ends the body with two empty lines of its own.
    assert rest.endswith(b"\n\nbody " + tok.encode() + b"\n\n\n")


def test_swaks_pipelined(instance):
    tok = token()
    r = swaks(instance, "--pipeline", "--to",
              "user1@example.test,user2@example.test",
              "--header", "Subject: pipelined " + tok, "--body", tok)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PIPELINING" in r.stdout
    for a in ("user1@example.test", "user2@example.test"):
        added, _ = split_stored(wait_one(instance, a, tok))
        assert added["Delivered-To"] == a


def test_swaks_plain_smtp_with_helo(instance):
    tok = token()
    r = swaks(instance, "--protocol", "SMTP", "--to", RCPT,
              "--header", "Subject: helo " + tok, "--body", tok)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "-> HELO swaks.client.test" in r.stdout
    added, _ = split_stored(wait_one(instance, RCPT, tok))
    assert " with SMTP id " in added["Received"]


def test_swaks_body_with_dot_lines_arrives_unstuffed(instance, tmp_path):
    tok = token()
    body = ("Subject: dots %s\r\n\r\n.one dot\r\n..two dots\r\n.\r\n"
            "last\r\n" % tok)
    f = tmp_path / "msg"
    f.write_bytes(body.encode())
    r = swaks(instance, "--to", RCPT, "--data", "@%s" % f)
    assert r.returncode == 0, r.stdout + r.stderr
    _, rest = split_stored(wait_one(instance, RCPT, tok))
    # swaks adds one CRLF of its own after the data.
    assert rest == body.replace("\r\n", "\n").encode() + b"\n"


def test_swaks_refused_recipient_fails(instance):
    tok = token()
    r = swaks(instance, "--to", "someone@example.org", "--body", tok)
    assert r.returncode != 0
    assert "554 5.7.1" in r.stdout, r.stdout
    r = swaks(instance, "--to", "nosuchuser@example.test", "--body", tok)
    assert r.returncode != 0
    assert "550 5.1.1" in r.stdout, r.stdout


def test_swaks_one_refused_among_several_recipients(instance):
    tok = token()
    r = swaks(instance, "--to",
              "user2@example.test,nosuchuser@example.test,user3@example.test",
              "--header", "Subject: some " + tok, "--body", tok)
    # swaks goes on with the accepted recipients.
    assert "550 5.1.1" in r.stdout, r.stdout
    assert "250 2.0.0 Ok: queued as" in r.stdout, r.stdout
    wait_one(instance, "user2@example.test", tok)
    wait_one(instance, "user3@example.test", tok)


def test_curl_uploads_a_file(instance, tmp_path):
    tok = token()
    msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: curl %s\r\n\r\n"
           ".leading dot\r\nline two\r\n" % (SENDER, RCPT, tok)).encode()
    f = tmp_path / "msg.eml"
    f.write_bytes(msg)
    r = curl(instance, "--mail-rcpt", RCPT, "--upload-file", str(f))
    assert r.returncode == 0, r.stderr
    added, rest = split_stored(wait_one(instance, RCPT, tok))
    assert added["Received"].startswith("from curl.client.test ")
    # curl dot-stuffs; the server unstuffs: the file arrives as it was.
    assert rest == msg.replace(b"\r\n", b"\n")


def test_curl_several_recipients(instance, tmp_path):
    tok = token()
    f = tmp_path / "msg.eml"
    f.write_bytes(b"Subject: curl many " + tok.encode() + b"\r\n\r\nx\r\n")
    rcpts = ["user1@example.test", "user2@example.test", "user3@example.test"]
    args = []
    for a in rcpts:
        args += ["--mail-rcpt", a]
    r = curl(instance, *(args + ["--upload-file", str(f)]))
    assert r.returncode == 0, r.stderr
    for a in rcpts:
        wait_one(instance, a, tok)


def test_curl_large_file_arrives_byte_exact(instance, tmp_path):
    tok = token()
    lines = [b"Subject: curl big " + tok.encode(), b""]
    for i in range(60000):
        lines.append((b"." if i % 7 == 0 else b"") +
                     (b"%08d " % i) * (i % 12))
    msg = b"\r\n".join(lines) + b"\r\n"
    f = tmp_path / "big.eml"
    f.write_bytes(msg)
    r = curl(instance, "--mail-rcpt", RCPT, "--upload-file", str(f))
    assert r.returncode == 0, r.stderr
    _, rest = split_stored(wait_one(instance, RCPT, tok))
    assert rest == msg.replace(b"\r\n", b"\n")


def test_curl_refused_recipient_fails_and_nothing_is_stored(instance,
                                                           tmp_path):
    tok = token()
    f = tmp_path / "msg.eml"
    f.write_bytes(b"Subject: refused " + tok.encode() + b"\r\n\r\nx\r\n")
    r = curl(instance, "--mail-rcpt", "someone@example.org",
             "--upload-file", str(f))
    assert r.returncode != 0
    wait_queue_drained(instance)
    for a in ("user1@example.test", "user2@example.test",
              "user3@example.test"):
        assert [m for m in stored(maildir(instance, a))
                if tok.encode() in m] == []
