"""APPEND (RFC 9051 6.3.12): flags, internal date and keywords stored,
APPENDUID (RFC 4315 3), TRYCREATE, APPENDLIMIT with NO [TOOBIG] (RFC
7889 4) for {n} and {n+}, LITERAL+ (RFC 7888), MULTIAPPEND (RFC 3502)
with a uid-set, a connection dropped mid-literal leaves nothing behind,
EXISTS for the selected mailbox, and a 20 MB message byte-exact."""

import calendar
import os
import re
import time
from pathlib import Path

import pytest

from conftest import wait_for
from imap_helpers import (PASSWORD2, PASSWORD3, TRUSTED, USER, USER2, USER3,
                          RawIMAP, connect, message, ok, token)
from smtp_helpers import running_instance

SMALL_LIMIT = 1000


@pytest.fixture(scope="module")
def iinst(mw_bin):
    with running_instance(mw_bin, TRUSTED) as inst:
        yield inst


@pytest.fixture(scope="module")
def small_inst(mw_bin):
    """APPENDLIMIT of SMALL_LIMIT octets."""
    params = dict(TRUSTED, imap_append_limit=str(SMALL_LIMIT))
    with running_instance(mw_bin, params) as inst:
        yield inst


def raw(inst, user=USER2, password=PASSWORD2):
    c = RawIMAP(inst.imap_port, timeout=30)
    c.greeting()
    if user is not None:
        c.login(user, password)
    return c


def crlf_msg(tok, lines=3):
    return message(tok, lines).replace(b"\n", b"\r\n")


def status(c, box, items="MESSAGES UIDNEXT UIDVALIDITY UNSEEN"):
    untagged, tagged = c.cmd("STATUS %s (%s)" % (box, items))
    assert b" OK " in tagged, tagged
    line = [u for u in untagged if u.startswith(b"* STATUS")][0]
    return {k.decode(): int(v) for k, v in
            re.findall(rb"([A-Z]+) (\d+)", line.split(b"(", 1)[1])}


def folder_dir(inst, user, box):
    md = Path(inst.maildir(user))
    return md if box.upper() == "INBOX" else md / ("." + box)


def cur_files(inst, user, box):
    d = folder_dir(inst, user, box) / "cur"
    return sorted(d.iterdir()) if d.is_dir() else []


def append_raw(c, box, data, args="", plus=True):
    """APPEND with one literal: LITERAL+ or synchronizing."""
    tag = c.tag()
    head = "%s APPEND %s %s{%d%s}\r\n" % (tag, box, args + " " if args
                                          else "", len(data),
                                          "+" if plus else "")
    c.send(head.encode())
    if not plus:
        line = c.readline()
        assert line.startswith(b"+"), line
    c.send(data + b"\r\n")
    return c.until(tag)


def appenduid(tagged):
    m = re.search(rb"\[APPENDUID (\d+) ([\d:,]+)\]", tagged)
    assert m, tagged
    return int(m.group(1)), m.group(2).decode()


def test_append_flags_date_keywords(iinst):
    box = "AppT" + token()[:6]
    with raw(iinst, USER2, PASSWORD2) as c:
        assert b" OK " in c.cmd("CREATE %s" % box)[1]
        before = status(c, box)
        data = crlf_msg(token())
        _, t = append_raw(c, box, data, r'(\Seen \Flagged $Work) '
                          '"05-Mar-2021 10:11:12 +0100"', plus=False)
        assert b" OK " in t, t
        uidv, uid = appenduid(t)
        # RFC 4315 3: the UIDVALIDITY and the UID the message got
        assert uidv == before["UIDVALIDITY"]
        assert uid == str(before["UIDNEXT"])
        after = status(c, box)
        assert after["MESSAGES"] == 1
        assert after["UNSEEN"] == 0
        assert after["UIDNEXT"] == before["UIDNEXT"] + 1
        untagged, t = c.cmd("SELECT %s" % box)
        assert b" OK " in t
        assert b"* 1 EXISTS" in untagged
        assert any(b"$Work" in u for u in untagged if b"FLAGS" in u)
        # the flags as the store has them, seen through STORE's answer
        untagged, t = c.cmd(r"STORE 1 +FLAGS (\Answered)")
        assert b" OK " in t
        fl = [u for u in untagged if b"FETCH" in u][0]
        for f in (rb"\Seen", rb"\Flagged", rb"\Answered", b"$Work"):
            assert f in fl, fl
        assert b"NOOP completed" in c.cmd("NOOP")[1]
    files = cur_files(iinst, USER2, box)
    assert len(files) == 1
    # the internal date, as Dovecot keeps it: the file's mtime
    want = calendar.timegm((2021, 3, 5, 9, 11, 12, 0, 0, 0))
    assert int(files[0].stat().st_mtime) == want
    assert files[0].read_bytes() == data.replace(b"\r\n", b"\n")


def test_append_imaplib(iinst):
    m = connect(iinst, USER2, PASSWORD2)
    try:
        n = int(ok(m.select("INBOX"))[0])
        data = ok(m.append("INBOX", r"(\Draft)", None, crlf_msg(token())))
        assert b"APPENDUID" in data[0]
        assert int(ok(m.select("INBOX"))[0]) == n + 1
    finally:
        m.logout()


def test_append_missing_mailbox_trycreate(iinst):
    with raw(iinst, USER2, PASSWORD2) as c:
        _, t = append_raw(c, "NoSuch" + token()[:6], crlf_msg(token()))
        assert b" NO [TRYCREATE]" in t, t
        assert b"NOOP completed" in c.cmd("NOOP")[1]


def test_append_not_logged_in_is_refused(iinst):
    with raw(iinst, None) as c:
        tag = c.tag()
        c.send(("%s APPEND INBOX {10}\r\n" % tag).encode())
        line = c.readline()
        assert line.startswith(tag.encode() + b" BAD"), line
        assert b" OK " in c.cmd("CAPABILITY")[1]


def test_append_empty_message(iinst):
    with raw(iinst, USER2, PASSWORD2) as c:
        _, t = append_raw(c, "INBOX", b"")
        assert b" NO " in t, t
        assert b"NOOP completed" in c.cmd("NOOP")[1]


def test_appendlimit_toobig_sync(small_inst):
    with raw(small_inst, USER2, PASSWORD2) as c:
        untagged, _ = c.cmd("CAPABILITY")
        assert b"APPENDLIMIT=%d" % SMALL_LIMIT in untagged[0]
        n = status(c, "INBOX")["MESSAGES"]
        tag = c.tag()
        # RFC 7889 4: refused before the client sends a byte
        c.send(("%s APPEND INBOX {%d}\r\n" % (tag, SMALL_LIMIT + 1)).encode())
        line = c.readline()
        assert line.startswith(tag.encode() + b" NO [TOOBIG]"), line
        assert b"NOOP completed" in c.cmd("NOOP")[1]
        # at the limit it is taken
        data = b"Subject: x\r\n\r\n" + b"y" * (SMALL_LIMIT - 14)
        assert len(data) == SMALL_LIMIT
        _, t = append_raw(c, "INBOX", data, plus=False)
        assert b" OK " in t, t
        assert status(c, "INBOX")["MESSAGES"] == n + 1


def test_appendlimit_toobig_nonsync(small_inst):
    with raw(small_inst, USER3, PASSWORD3) as c:
        n = status(c, "INBOX")["MESSAGES"]
        data = b"Subject: x\r\n\r\n" + b"A003 LOGOUT\r\n" * 200
        assert len(data) > SMALL_LIMIT
        # the octets of a refused {n+} are skipped, not taken as commands
        _, t = append_raw(c, "INBOX", data, plus=True)
        assert b" NO [TOOBIG]" in t, t
        assert b"NOOP completed" in c.cmd("NOOP")[1]
        assert status(c, "INBOX")["MESSAGES"] == n


def test_literal_plus_append(iinst):
    with raw(iinst, USER2, PASSWORD2) as c:
        n = status(c, "INBOX")["MESSAGES"]
        tag = c.tag()
        data = crlf_msg(token())
        # command, literal and the next command in one write
        c.send(b"%s APPEND INBOX {%d+}\r\n%s\r\n%s NOOP\r\n"
               % (tag.encode(), len(data), data, b"x1"))
        _, t = c.until(tag)
        assert b" OK [APPENDUID " in t, t
        _, t = c.until("x1")
        assert b" OK " in t
        assert status(c, "INBOX")["MESSAGES"] == n + 1


def test_multiappend_uidset(iinst):
    box = "Multi" + token()[:6]
    msgs = [crlf_msg(token()) for _ in range(3)]
    with raw(iinst, USER2, PASSWORD2) as c:
        assert b" OK " in c.cmd("CREATE %s" % box)[1]
        before = status(c, box)
        tag = c.tag()
        c.send(("%s APPEND %s (\\Seen) {%d+}\r\n" % (tag, box, len(msgs[0])))
               .encode() + msgs[0] +
               (' "01-Jan-2020 00:00:00 +0000" {%d+}\r\n' % len(msgs[1]))
               .encode() + msgs[1] +
               (" {%d}\r\n" % len(msgs[2])).encode())
        line = c.readline()
        assert line.startswith(b"+"), line
        c.send(msgs[2] + b"\r\n")
        _, t = c.until(tag)
        assert b" OK " in t, t
        uidv, uids = appenduid(t)
        u = before["UIDNEXT"]
        assert uidv == before["UIDVALIDITY"]
        assert uids == "%d:%d" % (u, u + 2)
        after = status(c, box)
        assert after["MESSAGES"] == 3
        assert after["UNSEEN"] == 2
    got = sorted(f.read_bytes() for f in cur_files(iinst, USER2, box))
    assert got == sorted(m.replace(b"\r\n", b"\n") for m in msgs)


def test_multiappend_all_or_nothing(iinst):
    box = "MultiF" + token()[:6]
    with raw(iinst, USER2, PASSWORD2) as c:
        assert b" OK " in c.cmd("CREATE %s" % box)[1]
        a, b = crlf_msg(token()), crlf_msg(token())
        tag = c.tag()
        # the second message is empty: none of them is appended
        c.send(("%s APPEND %s {%d+}\r\n" % (tag, box, len(a))).encode() +
               a + b" {0+}\r\n" + (" {%d+}\r\n" % len(b)).encode() + b +
               b"\r\n")
        _, t = c.until(tag)
        assert b" NO " in t, t
        assert status(c, box)["MESSAGES"] == 0
    assert cur_files(iinst, USER2, box) == []


def open_tmp_fds(inst, user):
    """Descriptors of the services still open on files of user's tmp/."""
    tmp = str(folder_dir(inst, user, "INBOX") / "tmp")
    n = 0
    for pid in inst.children():
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(tmp):
                    n += 1
            except OSError:
                pass
    return n


def test_drop_mid_literal_leaves_nothing(iinst):
    md = folder_dir(iinst, USER3, "INBOX")
    with raw(iinst, USER3, PASSWORD3) as c:
        n = status(c, "INBOX")["MESSAGES"]
    before = set(p.name for p in (md / "cur").iterdir()) | set(
        p.name for p in (md / "new").iterdir())
    c = raw(iinst, USER3, PASSWORD3)
    c.send(b"a1 APPEND INBOX {500000+}\r\n" + b"x" * 100000)
    # the temporary file is open while the literal comes
    wait_for(lambda: open_tmp_fds(iinst, USER3) > 0, what="the temp file")
    c.close()
    wait_for(lambda: open_tmp_fds(iinst, USER3) == 0,
             what="the temp file closed")
    assert list((md / "tmp").iterdir()) == []
    after = set(p.name for p in (md / "cur").iterdir()) | set(
        p.name for p in (md / "new").iterdir())
    assert after == before
    with raw(iinst, USER3, PASSWORD3) as c:
        assert status(c, "INBOX")["MESSAGES"] == n


def test_append_to_selected_gives_exists(iinst):
    with raw(iinst, USER2, PASSWORD2) as c:
        untagged, t = c.cmd("SELECT INBOX")
        n = int([u for u in untagged if u.endswith(b" EXISTS")][0].split()[1])
        untagged, t = append_raw(c, "INBOX", crlf_msg(token()))
        assert b" OK " in t, t
        # RFC 9051 6.3.12: the new message shows in the selected view
        assert b"* %d EXISTS" % (n + 1) in untagged, untagged


def big_message(size):
    out = [b"From: a@example.test\r\nSubject: big %s\r\n\r\n"
           % token().encode()]
    n, i = len(out[0]), 0
    while n < size:
        i += 1
        line = (b"%08d " % i) + bytes(range(33, 33 + i % 90)) + b"\r\n"
        if i % 1001 == 0:
            line = b"\r\n"
        out.append(line)
        n += len(line)
    return b"".join(out)


def test_append_20mb_byte_exact(iinst):
    box = "Big" + token()[:6]
    data = big_message(20 * 1024 * 1024)
    with raw(iinst, USER3, PASSWORD3) as c:
        assert b" OK " in c.cmd("CREATE %s" % box)[1]
        t0 = time.monotonic()
        _, t = append_raw(c, box, data, plus=False)
        assert b" OK " in t, (t, time.monotonic() - t0)
        st = status(c, box, "MESSAGES SIZE")
        assert st["MESSAGES"] == 1
        # RFC 8438: the size a client FETCHes, CRLF counted
        assert st["SIZE"] == len(data)
    files = cur_files(iinst, USER3, box)
    assert len(files) == 1
    # stored with LF line ends (as delivered mail and Dovecot store it):
    # readers give back CRLF, which is what was sent
    stored = files[0].read_bytes()
    assert stored == data.replace(b"\r\n", b"\n")
    assert stored.replace(b"\n", b"\r\n") == data
    assert ",W=%d" % len(data) in files[0].name
