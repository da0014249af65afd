"""POP3 commands (RFC 1939, RFC 2449) with poplib and a raw socket: every
command in each state, the errors (wrong state, bad or deleted message
numbers, syntax, overlong lines), CAPA, UIDL stability, TOP, RSET,
DELE + QUIT removing the file, the snapshot at login (delivery during a
session), two sessions of one user, and pipelining. Plaintext logins are
allowed from loopback here (pop3_plaintext_auth_networks); the TLS rules
are in test_pop3_auth.py."""

import os
import poplib
import smtplib
from pathlib import Path

import pytest

from conftest import wait_for
from pop3_helpers import (PASSWORD, PASSWORD2, USER, USER2, USER3, PASSWORD3,
                          RawPOP3, clear_maildir, crlf, maildir_files,
                          message, pinst, put_message, token)

HOST = "127.0.0.1"


def pop(inst, user=USER, password=PASSWORD):
    p = poplib.POP3(HOST, inst.pop3_port, timeout=60)
    p.user(user)
    p.pass_(password)
    return p


@pytest.fixture
def box(pinst):
    """user2's maildrop holding three fresh messages; yields their data."""
    clear_maildir(pinst, USER2)
    msgs = []
    for i in range(3):
        m = message(token() + "-%d" % i, body_lines=5)
        put_message(pinst, USER2, m)
        msgs.append(m)
    yield msgs
    clear_maildir(pinst, USER2)


def pop2(inst):
    return pop(inst, USER2, PASSWORD2)


def test_greeting_and_capa(pinst):
    p = poplib.POP3(HOST, pinst.pop3_port, timeout=60)
    assert p.getwelcome().startswith(b"+OK")
    caps = p.capa()
    for c in ("TOP", "USER", "SASL", "RESP-CODES", "AUTH-RESP-CODE",
              "PIPELINING", "UIDL", "STLS", "UTF8", "IMPLEMENTATION"):
        assert c in caps, caps
    assert caps["IMPLEMENTATION"] == ["mailwright"]
    assert set(caps["SASL"]) == {"PLAIN", "LOGIN", "SCRAM-SHA-256"}
    assert "EXPIRE" not in caps
    # no APOP timestamp in the greeting: APOP is off
    assert b"<" not in p.getwelcome()
    p.quit()


def test_stat_list_uidl_retr_top(pinst, box):
    p = pop2(pinst)
    count, size = p.stat()
    assert count == 3
    assert size == sum(len(crlf(m)) for m in box)
    resp, lines, _ = p.list()
    assert resp.startswith(b"+OK")
    assert [l.split() for l in lines] == [
        [b"%d" % (i + 1), b"%d" % len(crlf(m))] for i, m in enumerate(box)]
    assert p.list(2) == b"+OK 2 %d" % len(crlf(box[1]))
    resp, uidls, _ = p.uidl()
    assert len(uidls) == 3
    ids = [u.split()[1] for u in uidls]
    assert len(set(ids)) == 3
    assert p.uidl(3).split()[2] == ids[2]
    resp, lines, octets = p.retr(1)
    assert resp.startswith(b"+OK %d octets" % len(crlf(box[0])))
    assert b"\r\n".join(lines) + b"\r\n" == crlf(box[0])
    resp, lines, _ = p.top(2, 2)
    head, body = crlf(box[1]).split(b"\r\n\r\n", 1)
    assert b"\r\n".join(lines) == head + b"\r\n\r\n" + \
        b"\r\n".join(body.split(b"\r\n")[:2])
    resp, lines, _ = p.top(3, 0)
    assert b"\r\n".join(lines) == crlf(box[2]).split(b"\r\n\r\n")[0] + \
        b"\r\n"
    assert p.noop().startswith(b"+OK")
    p.quit()


def test_uidl_is_stable_across_sessions(pinst, box):
    p = pop2(pinst)
    first = p.uidl()[1]
    p.quit()
    p = pop2(pinst)
    assert p.uidl()[1] == first
    p.quit()


def test_dele_rset_quit(pinst, box):
    p = pop2(pinst)
    assert p.dele(1).startswith(b"+OK")
    with pytest.raises(poplib.error_proto, match="deleted"):
        p.retr(1)
    with pytest.raises(poplib.error_proto, match="deleted"):
        p.dele(1)
    with pytest.raises(poplib.error_proto, match="deleted"):
        p.list(1)
    assert p.stat()[0] == 2
    assert len(p.list()[1]) == 2
    assert p.rset().startswith(b"+OK")
    assert p.stat()[0] == 3
    assert p.dele(2).startswith(b"+OK")
    # deletions happen only at QUIT (RFC 1939 6)
    assert len(maildir_files(pinst, USER2)) == 3
    assert p.quit().startswith(b"+OK")
    assert len(maildir_files(pinst, USER2)) == 2
    p = pop2(pinst)
    assert p.stat()[0] == 2
    lines = p.retr(2)[1]
    assert b"\r\n".join(lines) + b"\r\n" == crlf(box[2])
    p.quit()


def test_dropped_connection_deletes_nothing(pinst, box):
    p = pop2(pinst)
    p.dele(1)
    p.dele(2)
    p.sock.close()
    p = pop2(pinst)
    assert p.stat()[0] == 3
    p.quit()


def test_retr_marks_seen(pinst, box):
    p = pop2(pinst)
    p.retr(1)
    p.quit()
    names = maildir_files(pinst, USER2)
    seen = [n for n in names if ":2," in n and "S" in n.split(":2,")[1]]
    assert len(seen) == 1, names


def test_bad_message_numbers(pinst, box):
    p = pop2(pinst)
    for cmd in ("RETR 4", "RETR 0", "RETR x", "LIST 99", "DELE 4",
                "UIDL 0", "TOP 4 1", "TOP 1 x", "RETR 99999999999999"):
        with pytest.raises(poplib.error_proto):
            p._shortcmd(cmd)
        assert p.noop().startswith(b"+OK")
    with pytest.raises(poplib.error_proto, match="no message 4"):
        p.retr(4)
    p.quit()


def test_commands_in_the_wrong_state(pinst):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        for cmd in ("STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET",
                    "TOP 1 1", "UIDL"):
            r = c.cmd(cmd)
            assert r.startswith("-ERR") and "AUTHORIZATION" in r, (cmd, r)
        assert c.cmd("PASS x").startswith("-ERR")  # no USER before
        c.login(USER3, PASSWORD3)
        for cmd in ("USER x", "PASS x", "AUTH PLAIN", "STLS", "UTF8",
                    "APOP a b"):
            r = c.cmd(cmd)
            assert r.startswith("-ERR") and "TRANSACTION" in r, (cmd, r)
        assert c.cmd("NOOP").startswith("+OK")
        assert c.cmd("QUIT").startswith("+OK")
        assert c.at_eof()


def test_syntax_errors_and_unknown_commands(pinst):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        c.login(USER3, PASSWORD3)
        for cmd in ("XYZZY", "", "STAT 1", "RETR", "TOP 1",
                    "LIST " + "1" * 41, "RETR 1\x00"):
            r = c.cmd(cmd)
            assert r.startswith("-ERR"), (cmd, r)
            assert c.cmd("NOOP").startswith("+OK")
        assert c.cmd("stat").startswith("+OK")  # keywords ignore case
        r = c.cmd("LIST " + "1" * 40)  # 40 characters: a number too big
        assert r.startswith("-ERR Invalid message number"), r


def test_too_long_line(pinst):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        r = c.cmd("NOOP " + "x" * 5000)
        assert r.startswith("-ERR") and "too long" in r.lower(), r
        caps = c.cmd("CAPA")
        assert caps.startswith("+OK")
        assert "TOP" in c.multiline()
        assert c.cmd("QUIT").startswith("+OK")


def test_too_many_errors_disconnect(pinst):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        c.send("BOGUS\r\n" * 30)
        lines = []
        while True:
            try:
                lines.append(c.readline())
            except (EOFError, ConnectionResetError):
                break
        assert len(lines) == 21, lines  # 20 errors, then the goodbye
        assert all(l.startswith("-ERR") for l in lines)
        assert "Too many" in lines[-1]


def test_pipelined_commands_answered_in_order(pinst, box):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        c.send("USER %s\r\nPASS %s\r\nSTAT\r\nLIST\r\nRETR 1\r\nUIDL 2\r\n"
               "DELE 3\r\nTOP 2 1\r\nNOOP\r\nRSET\r\nQUIT\r\n"
               % (USER2, PASSWORD2))
        assert c.readline().startswith("+OK")  # USER
        assert c.readline().startswith("+OK")  # PASS
        assert c.readline().startswith("+OK 3 ")
        assert c.readline().startswith("+OK")
        assert len(c.multiline()) == 3
        assert c.readline().startswith("+OK %d octets" % len(crlf(box[0])))
        body = c.multiline()
        assert "\r\n".join(body).encode() + b"\r\n" == crlf(box[0])
        assert c.readline().startswith("+OK 2 ")
        assert c.readline().startswith("+OK")  # DELE
        assert c.readline().startswith("+OK")  # TOP
        top = c.multiline()
        assert top[-1].startswith("line 0 of")
        assert c.readline().startswith("+OK")  # NOOP
        assert c.readline().startswith("+OK")  # RSET
        assert c.readline().startswith("+OK")  # QUIT
        assert c.at_eof()
    assert len(maildir_files(pinst, USER2)) == 3


def test_snapshot_at_login_and_delivery_during_a_session(pinst, box):
    p = pop2(pinst)
    assert p.stat()[0] == 3
    tok = token()
    with smtplib.SMTP(HOST, pinst.smtp_port, timeout=60) as s:
        s.sendmail("sender@example.test", [USER2],
                   "Subject: %s\r\n\r\nhello\r\n" % tok)
    wait_for(lambda: len(maildir_files(pinst, USER2)) == 4, 30,
             what="the delivery")
    # RFC 1939 4: the maildrop is as it was at login
    assert p.stat()[0] == 3
    assert len(p.uidl()[1]) == 3
    p.quit()
    p = pop2(pinst)
    assert p.stat()[0] == 4
    assert tok.encode() in b"\n".join(p.retr(4)[1])
    p.quit()


def test_two_sessions_of_one_user(pinst, box):
    a = pop2(pinst)
    b = pop2(pinst)
    assert a.stat()[0] == b.stat()[0] == 3
    assert a.uidl()[1] == b.uidl()[1]
    a.dele(1)
    assert a.quit().startswith(b"+OK")
    # b's view keeps message 1 until its next login; it is gone on disk
    with pytest.raises(poplib.error_proto, match="removed"):
        b.retr(1)
    assert b.noop().startswith(b"+OK")
    b.retr(2)
    b.dele(1)  # already gone: counts as done
    assert b.quit().startswith(b"+OK")
    c = pop2(pinst)
    assert c.stat()[0] == 2
    c.quit()


def test_retr_of_files_renamed_during_the_session(pinst, box):
    """Another program (mutt setting a flag) renames the files after the
    login: RETR finds each under its new name (store_msg_open on a
    worker, which wakes the sleeping index to record it), and QUIT still
    marks them \\Seen, keeps the flag mutt set and the UIDLs."""
    p = pop2(pinst)
    uidls = p.uidl()[1]
    cur = Path(pinst.maildir(USER2)) / "cur"
    names = sorted(f.name for f in cur.iterdir())
    assert len(names) == 3
    for n in names:
        base, _, flags = n.partition(":2,")
        os.rename(cur / n, cur / (base + ":2," + "".join(sorted(flags + "F"))))
    for i, m in enumerate(box):
        resp, lines, _ = p.retr(i + 1)
        assert b"\r\n".join(lines) + b"\r\n" == crlf(m)
    assert p.quit().startswith(b"+OK")
    after = sorted(f.name for f in cur.iterdir())
    assert len(after) == 3
    # UPDATE adds \Seen to the flags the files have now: the F set
    # meanwhile stays
    assert all(n.split(":2,")[1] == "FS" for n in after), after
    p = pop2(pinst)
    assert p.uidl()[1] == uidls
    p.quit()


def test_quit_in_authorization(pinst):
    p = poplib.POP3(HOST, pinst.pop3_port, timeout=60)
    assert p.quit().startswith(b"+OK")


def test_empty_maildrop(pinst):
    clear_maildir(pinst, USER3)
    p = pop(pinst, USER3, PASSWORD3)
    assert p.stat() == (0, 0)
    assert p.list()[1] == []
    assert p.uidl()[1] == []
    with pytest.raises(poplib.error_proto):
        p.retr(1)
    p.quit()


def test_logout_line(pinst, box):
    p = pop2(pinst)
    p.retr(1)
    p.top(2, 0)
    p.dele(3)
    p.quit()
    size = sum(len(crlf(m)) for m in box)
    # RETR's bytes are those sent: the CRLF form and the ".\r\n"
    want = ("retr=1/%d, del=1/3, size=%d" % (len(crlf(box[0])) + 3, size))
    want = "top=1/%d, " % (len(crlf(box[1]).split(b"\r\n\r\n")[0]) + 7) \
        + want
    log = wait_for(lambda: pinst.log_text() if want in pinst.log_text()
                   else None, 30, what=want)
    line = [l for l in log.splitlines() if want in l][-1]
    assert "mailwright/pop3d[" in line
    assert "pop3(%s)<" % USER2 in line
    assert ": Disconnected: Logged out top=1/" in line


def test_uidl_survives_a_lost_index(pinst, box):
    p = pop2(pinst)
    first = p.uidl()[1]
    p.quit()
    # store.h: the index lives beside the Maildir and is rebuilt from it;
    # POP3 UIDLs derive from the files' unique names
    md = Path(pinst.maildir(USER2))
    index = list(md.parent.glob("mailwright-index.db*"))
    assert index, list(md.parent.iterdir())
    for f in index:
        # the -wal and -shm files go when pop3d closes the store after
        # QUIT, which may be now
        f.unlink(missing_ok=True)
    p = pop2(pinst)
    assert p.uidl()[1] == first
    p.quit()


def test_dovecot_maildir_keeps_its_uidls(pinst):
    """A Maildir Dovecot left (dovecot-uidlist version 3): POP3 shows
    Dovecot's UIDLs, its default %08Xu%08Xv form (lower-case hex, as
    Dovecot writes it) or a P<uidl> key, so a
    client that leaves mail on the server downloads nothing again."""
    clear_maildir(pinst, USER3)
    put_message(pinst, USER3, b"x")  # creates the Maildir, owned right
    clear_maildir(pinst, USER3)
    md = Path(pinst.maildir(USER3))
    for f in md.parent.glob("mailwright-index.db*"):
        f.unlink(missing_ok=True)  # may go by itself meanwhile
    names = ["1700000001.M1P11.old:2,S", "1700000002.M2P12.old:2,",
             "1700000003.M3P13.old:2,RS"]
    for i, n in enumerate(names):
        (md / "cur" / n).write_bytes(message("dovecot-%d" % i))
    (md / "dovecot-uidlist").write_text(
        "3 V1700000000 N8 G0123456789abcdef0123456789abcdef\n"
        "3 :1700000001.M1P11.old\n"
        "5 P0123abcd-custom :1700000002.M2P12.old\n"
        "7 W300 :1700000003.M3P13.old\n")
    if os.geteuid() == 0:
        st = os.stat(md)
        for p in list((md / "cur").iterdir()) + [md / "dovecot-uidlist"]:
            os.chown(p, st.st_uid, st.st_gid)
    p = pop(pinst, USER3, PASSWORD3)
    uidls = [l.decode().split() for l in p.uidl()[1]]
    assert uidls == [["1", "%08x%08x" % (3, 1700000000)],
                     ["2", "0123abcd-custom"],
                     ["3", "%08x%08x" % (7, 1700000000)]]
    assert b"dovecot-1" in b"\n".join(p.retr(2)[1])
    p.quit()
    clear_maildir(pinst, USER3)


def test_uidl_survives_index_rebuild(pinst, box):
    p = pop2(pinst)
    first = p.uidl()[1]
    p.quit()
    r = pinst.cli("index", "rebuild", USER2)
    assert r.returncode == 0, r.stderr
    p = pop2(pinst)
    assert p.uidl()[1] == first
    p.quit()
