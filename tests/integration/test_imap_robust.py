"""imapd against hostile or broken mailbox content and concurrent use:
messages without a header, binary garbage, a 10,000-part MIME tree and a
1 MB header line answer FETCH (ENVELOPE, BODYSTRUCTURE, sections) and
SEARCH without crashing or hanging the session; a message expunged by
another session during a FETCH; the same mailbox read over POP3 and IMAP
at once."""

import os
import poplib
import random

from imap_helpers import (PASSWORD, USER, RawIMAP, clear_maildir, connect,
                          iinst, message, ok, put_message,  # noqa: F401
                          token)


def many_parts(n):
    parts = "".join("--B\nContent-Type: text/plain\n\npart %d\n" % i
                    for i in range(n))
    return ("From: a@example.test\nSubject: many\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=B\n\n%s--B--\n"
            % parts).encode()


def nested(depth):
    head = "From: a@example.test\nSubject: deep\nMIME-Version: 1.0\n"
    body = "leaf\n"
    for i in range(depth):
        body = ("Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n%s"
                "\n--b%d--\n" % (i, i, body, i))
    return (head + body).encode()


BROKEN = {
    "noheader": b"just a body line\nand another\n",
    "empty": b"",
    "garbage": bytes(random.Random(7).randrange(256) for _ in range(20000)),
    "longline": b"Subject: " + b"x" * (1024 * 1024) + b"\n\nbody\n",
    "manyparts": many_parts(10000),
    "nested": nested(200),
    "badmime": (b"Content-Type: multipart/mixed; boundary=\"\n"
                b"Content-Transfer-Encoding: base64\n\n====\x00\x01\n"),
}


def test_broken_messages_answer_fetch_and_search(iinst):
    clear_maildir(iinst, USER)
    names = sorted(BROKEN)
    for n in names:
        put_message(iinst, USER, BROKEN[n])
    tok = token()
    put_message(iinst, USER, message(tok))  # a good one after them
    with RawIMAP(iinst.imap_port) as c:
        c.greeting()
        c.login()
        _, t = c.cmd("SELECT INBOX")
        assert b" OK " in t, t
        for item in ("ENVELOPE", "BODYSTRUCTURE", "BODY", "RFC822.SIZE",
                     "BODY.PEEK[HEADER]", "BODY.PEEK[1]", "BODY.PEEK[TEXT]",
                     "BODY.PEEK[1.MIME]", "BINARY.PEEK[1]",
                     "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]",
                     "BODY.PEEK[]<0.100>"):
            lines, t = c.cmd("FETCH 1:* (UID %s)" % item)
            # each message answered, or BINARY's UNKNOWN-CTE
            assert b" OK " in t or b"UNKNOWN-CTE" in t, (item, t)
            if b" OK " in t:
                assert sum(1 for ln in lines if b" FETCH (" in ln) \
                    == len(names) + 1, (item, t)
        for key in ("TEXT nothing-like-this", "BODY part", "SUBJECT x",
                    "HEADER X-Nope y", "FROM a", "SENTBEFORE 1-Jan-2030"):
            lines, t = c.cmd("SEARCH %s" % key)
            assert b" OK " in t, (key, t)
        lines, t = c.cmd("SEARCH SUBJECT %s" % tok)
        assert lines == [b"* SEARCH %d" % (len(names) + 1)], lines
        # the session still works
        _, t = c.cmd("NOOP")
        assert b" OK " in t
    clear_maildir(iinst, USER)


def test_expunge_by_another_session_during_fetch(iinst):
    clear_maildir(iinst, USER)
    for _ in range(30):
        put_message(iinst, USER, message(token(), body_lines=200))
    a = RawIMAP(iinst.imap_port)
    b = connect(iinst)
    try:
        a.greeting()
        a.login()
        a.cmd("SELECT INBOX")
        ok(b.select("INBOX"))
        ok(b.store("1:10", "+FLAGS", "(\\Deleted)"))
        ok(b.expunge())
        # a's view still has 30; the files of 1..10 are gone: FETCH by
        # number must not announce EXPUNGE (RFC 9051 7.4.1); it answers
        # what is left and ends NO [EXPUNGEISSUED] (RFC 5530)
        lines, t = a.cmd("FETCH 1:* (UID BODY.PEEK[])")
        assert b"NO [EXPUNGEISSUED]" in t, t
        assert sum(1 for ln in lines if b" FETCH (" in ln) == 20
        assert not any(ln.endswith(b" EXPUNGE") for ln in lines), lines
        # NOOP brings the expunges, then the view has 20
        lines, t = a.cmd("NOOP")
        assert sum(1 for ln in lines if ln.endswith(b" EXPUNGE")) == 10
        lines, t = a.cmd("SEARCH ALL")
        assert lines == [b"* SEARCH " + b" ".join(
            b"%d" % i for i in range(1, 21))], lines
    finally:
        a.close()
        b.logout()
    clear_maildir(iinst, USER)


def test_pop3_and_imap_on_one_mailbox_at_once(iinst):
    clear_maildir(iinst, USER)
    toks = [token() for _ in range(5)]
    for t in toks:
        put_message(iinst, USER, message(t))
    m = connect(iinst)
    ok(m.select("INBOX"))
    iinst_pop = poplib.POP3("127.0.0.1", iinst.pop3_port, timeout=60)
    try:
        iinst_pop.user(USER)
        iinst_pop.pass_(PASSWORD)
        assert iinst_pop.stat()[0] == 5
        # IMAP expunges the first; POP3 deletes the last and quits
        ok(m.store("1", "+FLAGS", "(\\Deleted)"))
        ok(m.expunge())
        body = b"\n".join(iinst_pop.retr(3)[1])
        assert toks[2].encode() in body
        iinst_pop.dele(5)
        iinst_pop.quit()
        ok(m.noop())
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subs = [d[1].decode().split(":", 1)[1].strip()
                for d in data if isinstance(d, tuple)]
        assert subs == toks[1:4], subs
    finally:
        m.logout()
    files = os.listdir(os.path.join(str(iinst.maildir(USER)), "cur"))
    assert len(files) == 3
    clear_maildir(iinst, USER)
