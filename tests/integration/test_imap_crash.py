"""kill -9 of imapd in the middle of work (issue #10 builds on #9's
"kill -9 of any process at any moment"): while APPENDs stream in, every
APPEND that was answered OK is in the mailbox after the master restarted
imapd, with the UID APPENDUID gave, exactly once; while STORE and EXPUNGE
run on many messages, the next session's view matches the Maildir (every
message readable, flags as the file names say, nothing twice)."""

import os
import re
import signal
import threading
import time

from conftest import wait_for
from imap_helpers import (USER2, PASSWORD2, RawIMAP, clear_maildir,
                          iinst, maildir_files, message,  # noqa: F401
                          put_message, token)


def imapd_pids(inst):
    return {int(p) for p in re.findall(r"imap-login: Login: .*?mpid=(\d+)",
                                       inst.log_text())}


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def kill_imapd(inst):
    pids = {p for p in imapd_pids(inst) if alive(p)}
    assert pids, "no imapd logged a login"
    for p in pids:
        os.kill(p, signal.SIGKILL)
    wait_for(lambda: not any(alive(p) for p in pids), 30, 0.05,
             "imapd to die")


def session(inst):
    """A logged-in RawIMAP once the restarted imapd answers."""
    def try_login():
        try:
            c = RawIMAP(inst.imap_port)
            c.greeting()
            c.login(USER2, PASSWORD2)
            return c
        except (OSError, EOFError, AssertionError):
            return None
    return wait_for(try_login, 60, 0.2, "an IMAP session after the restart")


def view(inst):
    """UID -> (flags, subject) of INBOX in a new session; every message
    is read whole."""
    c = session(inst)
    try:
        _, t = c.cmd("SELECT INBOX")
        assert b" OK " in t, t
        lines, t = c.cmd("UID FETCH 1:* (FLAGS BODY.PEEK[])")
        assert b" OK " in t, t
        out = {}
        for ln in lines:
            m = re.match(rb"\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) "
                         rb"BODY\[\] \{\d+\}\r\n(.*)\)$", ln, re.S)
            assert m, ln[:200]
            uid = int(m.group(1))
            subj = re.search(rb"Subject: (\S+)", m.group(3)).group(1)
            assert uid not in out
            out[uid] = (set(m.group(2).decode().split()), subj.decode())
        return out
    finally:
        c.close()


def test_kill_during_appends_keeps_every_ok(iinst):
    clear_maildir(iinst, USER2)
    c = session(iinst)
    acked = {}  # uid -> token
    stop = threading.Event()

    def appender():
        try:
            while not stop.is_set():
                tok = token()
                data = message(tok, body_lines=50).replace(b"\n", b"\r\n")
                tag = c.tag()
                c.send("%s APPEND INBOX (\\Flagged) {%d+}\r\n" % (
                    tag, len(data)))
                c.send(data + b"\r\n")
                _, t = c.until(tag)
                m = re.search(rb"APPENDUID \d+ (\d+)", t)
                if m and b" OK " in t:
                    acked[int(m.group(1))] = tok
        except (OSError, EOFError):
            pass

    th = threading.Thread(target=appender)
    th.start()
    wait_for(lambda: len(acked) >= 20, 60, 0.01, "20 APPENDs answered")
    kill_imapd(iinst)
    stop.set()
    th.join(30)
    c.close()
    got = view(iinst)
    for uid, tok in acked.items():
        assert uid in got, "APPENDUID %d answered OK but gone" % uid
        assert got[uid][1] == tok
        assert "\\Flagged" in got[uid][0]
    # nothing twice: each token once
    toks = [s for _, s in got.values()]
    assert len(toks) == len(set(toks))
    assert len(maildir_files(iinst, USER2)) == len(got)
    clear_maildir(iinst, USER2)


def test_kill_during_store_and_expunge_leaves_a_consistent_view(iinst):
    clear_maildir(iinst, USER2)
    toks = [token() for _ in range(300)]
    for t in toks:
        put_message(iinst, USER2, message(t))
    before = view(iinst)
    assert len(before) == 300
    c = session(iinst)
    _, t = c.cmd("SELECT INBOX")
    assert b" OK " in t
    # many changes in flight, then the kill while they run
    c.send("a1 STORE 1:* +FLAGS (\\Seen \\Deleted)\r\n"
           "a2 EXPUNGE\r\n"
           "a3 STORE 1:* +FLAGS (\\Answered)\r\n")
    time.sleep(0.05)
    kill_imapd(iinst)
    c.close()
    after = view(iinst)
    # what is left is readable, once each, and is a subset of before
    assert set(after) <= set(before)
    for uid, (flags, subj) in after.items():
        assert subj == before[uid][1]
    # the index agrees with the Maildir: as many messages as files
    assert len(maildir_files(iinst, USER2)) == len(after)
    # and a second session sees the same
    assert view(iinst) == after
    clear_maildir(iinst, USER2)
