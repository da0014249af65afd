"""Real POP3 clients against pop3d: curl (pop3://, pop3s://, --ssl-reqd
for STLS, LIST and RETR by URL) and fetchmail (keep mode, delete mode,
and UIDL-based "fetch only new" with keep), with temporary rcfiles and an
MDA that writes into a file."""

import os
import shutil
import subprocess

import pytest

from pop3_helpers import (PASSWORD2, USER2, clear_maildir, crlf,
                          maildir_files, message, pinst, put_message, token)

HOST = "127.0.0.1"


@pytest.fixture
def box2(pinst):
    clear_maildir(pinst, USER2)
    msgs = [message(token() + "-%d" % i) for i in range(2)]
    for m in msgs:
        put_message(pinst, USER2, m)
    yield msgs
    clear_maildir(pinst, USER2)


def curl(*args):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    r = subprocess.run(["curl", "-sS", "--max-time", "60",
                        "-u", "%s:%s" % (USER2, PASSWORD2)] + list(args),
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_curl_list_and_retr(pinst, box2):
    out = curl("pop3://%s:%d/" % (HOST, pinst.pop3_port))
    assert out.split(b"\r\n")[:2] == [
        b"1 %d" % len(crlf(box2[0])), b"2 %d" % len(crlf(box2[1]))]
    out = curl("pop3://%s:%d/2" % (HOST, pinst.pop3_port))
    assert out == crlf(box2[1])


def test_curl_stls_required(pinst, box2):
    out = curl("--ssl-reqd", "-k", "pop3://%s:%d/1" % (HOST, pinst.pop3_port))
    assert out == crlf(box2[0])


def test_curl_pop3s(pinst, box2):
    out = curl("-k", "pop3s://%s:%d/1" % (HOST, pinst.pop3s_port))
    assert out == crlf(box2[0])


def test_curl_sasl_mechanisms(pinst, box2):
    for mech in ("PLAIN", "LOGIN"):
        out = curl("--login-options", "AUTH=" + mech,
                   "pop3://%s:%d/1" % (HOST, pinst.pop3_port))
        assert out == crlf(box2[0])


def fetchmail(inst, tmp_path, mode, ssl=False, extra=""):
    """Runs fetchmail once over a temporary rcfile; returns (exit status,
    the mbox-ish file the MDA appended to)."""
    if shutil.which("fetchmail") is None:
        pytest.skip("fetchmail is not installed")
    out = tmp_path / "delivered"
    rc = tmp_path / "fetchmailrc"
    port = inst.pop3s_port if ssl else inst.pop3_port
    rc.write_text(
        "set no syslog\n"
        "poll %s with proto POP3 port %d uidl\n"
        "  user \"%s\" there with password \"%s\" is \"root\" here\n"
        "  %s %s\n"
        "  mda \"/bin/sh -c 'cat >> %s; echo ====== >> %s'\"\n"
        % (HOST, port, USER2, PASSWORD2, mode,
           "ssl no sslcertck" if ssl else "sslproto ''", out, out) + extra)
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=str(tmp_path))
    r = subprocess.run(["fetchmail", "-f", str(rc), "--idfile",
                        str(tmp_path / "fetchids"), "--pidfile",
                        str(tmp_path / "fetchmail.pid"), "-v"],
                       capture_output=True, text=True, timeout=180, env=env)
    got = out.read_bytes() if out.exists() else b""
    return r, got


def test_fetchmail_keep_then_only_new(pinst, box2, tmp_path):
    r, got = fetchmail(pinst, tmp_path, "keep")
    assert r.returncode == 0, r.stdout + r.stderr
    assert got.count(b"======") == 2
    for m in box2:
        assert m.split(b"\n")[2] in got  # the Subject line
    assert len(maildir_files(pinst, USER2)) == 2  # kept
    # UIDL: the second run finds nothing new (exit 1: no mail)
    r, again = fetchmail(pinst, tmp_path, "keep")
    assert r.returncode == 1, r.stdout + r.stderr
    assert again == got
    # a new message is the only one fetched
    tok = token()
    put_message(pinst, USER2, message(tok))
    r, third = fetchmail(pinst, tmp_path, "keep")
    assert r.returncode == 0, r.stdout + r.stderr
    assert third.count(b"======") == 3 and tok.encode() in third


def test_fetchmail_delete_mode_over_pop3s(pinst, box2, tmp_path):
    r, got = fetchmail(pinst, tmp_path, "nokeep", ssl=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert got.count(b"======") == 2
    assert maildir_files(pinst, USER2) == []
    r, _ = fetchmail(pinst, tmp_path, "nokeep", ssl=True)
    assert r.returncode == 1, r.stdout + r.stderr
