"""Real IMAP clients against imapd: curl (imap://, imaps://, --ssl-reqd for
STARTTLS: LIST, FETCH by UID, SEARCH), fetchmail over IMAP (keep, then
only what is new, then delete mode over imaps) and mbsync (isync) syncing
a mailbox both ways between two accounts, again after changes, without
duplicates."""

import os
import shutil
import subprocess

import pytest

from conftest import wait_for
from imap_helpers import (PASSWORD, PASSWORD2, USER, USER2, clear_maildir,
                          connect, crlf, iinst, message, ok,  # noqa: F401
                          put_message, token)

HOST = "127.0.0.1"


@pytest.fixture
def box2(iinst):
    clear_maildir(iinst, USER2)
    msgs = [message(token() + "-%d" % i) for i in range(2)]
    for m in msgs:
        put_message(iinst, USER2, m)
    yield msgs
    clear_maildir(iinst, USER2)


def curl(*args):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    r = subprocess.run(["curl", "-sS", "--max-time", "60",
                        "-u", "%s:%s" % (USER2, PASSWORD2)] + list(args),
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_curl_lists_folders(iinst, box2):
    out = curl("imap://%s:%d/" % (HOST, iinst.imap_port))
    lines = out.decode().splitlines()
    assert any(ln.endswith(" INBOX") or ln.endswith(' "INBOX"')
               for ln in lines), lines
    assert any("\\Sent" in ln and "Sent" in ln for ln in lines), lines


def test_curl_fetches_by_uid_and_searches(iinst, box2):
    url = "imap://%s:%d/INBOX" % (HOST, iinst.imap_port)
    out = curl(url + "?ALL")
    assert out.strip() == b"* SEARCH 1 2", out
    assert curl(url + "/;MAILINDEX=2") == crlf(box2[1])
    out = curl("-X", "UID SEARCH ALL", url)
    uids = out.split()[2:]
    assert len(uids) == 2, out
    assert curl(url + "/;UID=" + uids[0].decode()) == crlf(box2[0])


def test_curl_starttls_and_imaps(iinst, box2):
    out = curl("--ssl-reqd", "-k",
               "imap://%s:%d/INBOX/;MAILINDEX=1" % (HOST, iinst.imap_port))
    assert out == crlf(box2[0])
    out = curl("-k", "imaps://%s:%d/INBOX/;MAILINDEX=2"
               % (HOST, iinst.imaps_port))
    assert out == crlf(box2[1])


def test_curl_sasl_mechanisms(iinst, box2):
    for mech in ("PLAIN", "LOGIN"):
        out = curl("--login-options", "AUTH=" + mech,
                   "imap://%s:%d/INBOX/;MAILINDEX=1" % (HOST, iinst.imap_port))
        assert out == crlf(box2[0])


def fetchmail(inst, tmp_path, mode, ssl=False):
    """Runs fetchmail once over IMAP with a temporary rcfile; returns
    (exit status, what the MDA received)."""
    if shutil.which("fetchmail") is None:
        pytest.skip("fetchmail is not installed")
    out = tmp_path / "delivered"
    rc = tmp_path / "fetchmailrc"
    port = inst.imaps_port if ssl else inst.imap_port
    rc.write_text(
        "set no syslog\n"
        "poll %s with proto IMAP port %d\n"
        "  user \"%s\" there with password \"%s\" is \"root\" here\n"
        "  %s %s\n"
        "  mda \"/bin/sh -c 'cat >> %s; echo ====== >> %s'\"\n"
        % (HOST, port, USER2, PASSWORD2, mode,
           "ssl no sslcertck" if ssl else "sslproto ''", out, out))
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=str(tmp_path))
    if out.exists():
        out.unlink()
    r = subprocess.run(["fetchmail", "-f", str(rc), "--pidfile",
                        str(tmp_path / "fetchmail.pid"), "-v"],
                       capture_output=True, text=True, timeout=120, env=env)
    got = out.read_bytes() if out.exists() else b""
    return r, got


def test_fetchmail_keep_then_only_new(iinst, box2, tmp_path):
    r, got = fetchmail(iinst, tmp_path, "keep")
    assert r.returncode == 0, r.stdout + r.stderr
    assert got.count(b"======") == 2
    for m in box2:
        assert m.split(b"\n")[2] in got  # the Subject line
    # fetchmail marked them \Seen: the next run fetches nothing (exit 1:
    # no mail) until something new arrives
    r, again = fetchmail(iinst, tmp_path, "keep")
    assert r.returncode == 1 and again == b"", r.stdout + r.stderr
    tok = token()
    put_message(iinst, USER2, message(tok))
    r, third = fetchmail(iinst, tmp_path, "keep")
    assert r.returncode == 0, r.stdout + r.stderr
    assert third.count(b"======") == 1 and tok.encode() in third


def test_fetchmail_delete_mode_over_imaps(iinst, box2, tmp_path):
    r, got = fetchmail(iinst, tmp_path, "nokeep", ssl=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert got.count(b"======") == 2
    m = connect(iinst, USER2, PASSWORD2)
    try:
        assert ok(m.select("INBOX")) == [b"0"]
    finally:
        m.logout()


def mbsync(tmp_path, port):
    """One `mbsync -a` run between user1's and user2's INBOX."""
    if shutil.which("mbsync") is None:
        pytest.skip("mbsync (isync) is not installed")
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    rc = tmp_path / "mbsyncrc"
    acct = ""
    for name, user, pw in (("a", USER, PASSWORD), ("b", USER2, PASSWORD2)):
        acct += ("IMAPAccount %s\nHost %s\nPort %d\nUser %s\nPass %s\n"
                 "SSLType None\nAuthMechs LOGIN\n\n"
                 "IMAPStore %s\nAccount %s\n\n"
                 % (name, HOST, port, user, pw, name, name))
    rc.write_text(acct +
                  "Channel ab\nFar :a:\nNear :b:\nPatterns INBOX\n"
                  "Sync All\nCreate Both\nExpunge Both\n"
                  "SyncState %s/\n" % state)
    r = subprocess.run(["mbsync", "-c", str(rc), "-a"], capture_output=True,
                       text=True, timeout=120,
                       env=dict(os.environ, HOME=str(tmp_path)))
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def subjects(inst, user, password):
    """Subject -> flags of every message in user's INBOX."""
    m = connect(inst, user, password)
    try:
        n = int(ok(m.select("INBOX"))[0])
        out = {}
        if n == 0:
            return out
        data = ok(m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS "
                                 "(SUBJECT)])"))
        for item in data:
            if not isinstance(item, tuple):
                continue
            head, body = item
            subj = body.decode().split(":", 1)[1].strip()
            assert subj not in out, "duplicate %r in %s" % (subj, user)
            out[subj] = head.decode()
        return out
    finally:
        m.logout()


def test_mbsync_both_ways_without_duplicates(iinst, tmp_path):
    clear_maildir(iinst, USER)
    clear_maildir(iinst, USER2)
    ta, tb = token(), token()
    put_message(iinst, USER, message(ta))
    put_message(iinst, USER2, message(tb))
    mbsync(tmp_path, iinst.imap_port)
    for u, pw in ((USER, PASSWORD), (USER2, PASSWORD2)):
        assert set(subjects(iinst, u, pw)) == {ta, tb}
    # again: nothing new, nothing doubled
    mbsync(tmp_path, iinst.imap_port)
    for u, pw in ((USER, PASSWORD), (USER2, PASSWORD2)):
        assert set(subjects(iinst, u, pw)) == {ta, tb}
    # changes on both sides: a new message on one, a flag on the other,
    # a deletion on the first
    tc = token()
    put_message(iinst, USER2, message(tc))
    m = connect(iinst, USER, PASSWORD)
    try:
        ok(m.select("INBOX"))
        typ, data = m.search(None, "SUBJECT", ta)
        num = data[0].split()[0]
        ok(m.store(num, "+FLAGS", "(\\Flagged)"))
        typ, data = m.search(None, "SUBJECT", tb)
        ok(m.store(data[0].split()[0], "+FLAGS", "(\\Deleted)"))
        ok(m.expunge())
    finally:
        m.logout()
    mbsync(tmp_path, iinst.imap_port)
    for u, pw in ((USER, PASSWORD), (USER2, PASSWORD2)):
        got = wait_for(lambda: (lambda s: s if set(s) == {ta, tc} else None)(
            subjects(iinst, u, pw)), 10, 0.2,
            "the synced view of %s" % u)
        assert "\\Flagged" in got[ta], got
    clear_maildir(iinst, USER)
    clear_maildir(iinst, USER2)
