"""SEARCH and UID SEARCH (RFC 9051 6.4.4, RFC 3501 6.4.4) on a running
instance, over a small fixture mailbox: every search key (flags,
KEYWORD, BEFORE/ON/SINCE on the internal date, SENT* on the Date:
header, LARGER/SMALLER, the address and text keys with an RFC 2047
encoded Subject and quoted-printable and base64 bodies, case-insensitive,
CHARSET UTF-8 with a literal), OR / NOT / parentheses, sequence and UID
sets, ESEARCH (RFC 4731) and the IMAP4rev2 form, SEARCHRES (RFC 5182),
BADCHARSET, an empty mailbox. Texts and codes follow Dovecot 2.3."""

import base64
import calendar
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from imap_helpers import (USER2, PASSWORD2, RawIMAP, iinst,  # noqa: F401
                          put_message)

SUBJ2 = "Grüße aus Köln"
SUBJ2_MIME = "=?UTF-8?B?%s?=" % base64.b64encode(SUBJ2.encode()).decode()

# (headers, body, internal date (noon UTC), flags set with STORE)
MSGS = [
    ("From: Alice Example <alice@example.org>\n"
     "To: user2@example.test\nCc: Carol <carol@example.net>\n"
     "Subject: Hello world\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n"
     "Message-ID: <m1@example.org>\n",
     "The quick brown fox\njumps over the lazy dog.\n",
     (2024, 1, 2), "\\Seen"),
    ("From: bob@example.com\nTo: Dave <dave@example.com>\n"
     "Bcc: eve@example.com\nSubject: %s\n"
     "Date: Thu, 15 Feb 2024 23:30:00 -0800\nMIME-Version: 1.0\n"
     "Content-Type: text/plain; charset=utf-8\n"
     "Content-Transfer-Encoding: quoted-printable\n" % SUBJ2_MIME,
     "Caf=C3=A9 cr=C3=A8me with a soft=\nbreak here.\n",
     (2024, 2, 16), "\\Flagged Work"),
    ("From: Carol <carol@example.net>\nTo: user2@example.test\n"
     "Subject: Report\nDate: Sun, 10 Mar 2024 08:00:00 +0100\n"
     "X-Priority: 1 (Highest)\nMIME-Version: 1.0\n"
     "Content-Type: text/plain; charset=us-ascii\n"
     "Content-Transfer-Encoding: base64\n",
     base64.encodebytes(b"Secret payload in base64, quarterly numbers."
                        ).decode(),
     (2024, 3, 11), "\\Answered \\Deleted"),
    ("From: dave@example.com\nTo: user2@example.test\n"
     "Subject: Large one\nDate: Mon, 01 Apr 2024 12:00:00 +0000\n",
     "".join("padding line %04d of the large message\n" % i
             for i in range(150)),
     (2024, 4, 1), "\\Draft Junk"),
    ("From: ALICE@EXAMPLE.ORG\nTo: user2@example.test\n"
     "Subject: hello AGAIN\nDate: Mon, 20 May 2024 09:15:00 +0000\n",
     "Short.\n",
     (2024, 5, 20), ""),
]
N = len(MSGS)


def data(m):
    return (m[0] + "\n" + m[1]).encode()


# RFC822.SIZE: with CRLF; message 5 is the smallest, 4 the largest
SIZES = [len(data(m).replace(b"\n", b"\r\n")) for m in MSGS]
assert SIZES[4] == min(SIZES) and SIZES[3] == max(SIZES) > 5000


def stamp(ymd):
    return calendar.timegm((ymd[0], ymd[1], ymd[2], 12, 0, 0))


def wipe(inst, addr):
    d = Path(inst.maildir(addr)).parent
    for _ in range(50):
        shutil.rmtree(d, ignore_errors=True)
        if not d.exists():
            return
        time.sleep(0.1)
    raise AssertionError("cannot remove %s" % d)


class Session(RawIMAP):
    def __exit__(self, *exc):
        try:
            self.cmd("LOGOUT")
            self.at_eof()
        except (OSError, EOFError):
            pass
        self.close()


def raw(inst):
    r = Session(inst.ports["imap_port"])
    r.greeting()
    r.login(USER2, PASSWORD2)
    return r


def ok(res):
    lines, tagged = res
    assert re.match(rb"t\d+ OK ", tagged), (lines, tagged)
    return lines


@pytest.fixture(scope="module")
def fixture_box(iinst):
    """user2's INBOX with MSGS (flags stored, \\Recent taken), and an
    empty folder Empty."""
    wipe(iinst, USER2)
    md = Path(iinst.maildir(USER2))
    for head, body, date, _ in MSGS:
        name = put_message(iinst, USER2, (head + "\n" + body).encode())
        os.utime(md / "new" / name, (stamp(date), stamp(date)))
    with raw(iinst) as r:
        ok(r.cmd("CREATE Empty"))
        ok(r.cmd("SELECT INBOX"))
        for i, m in enumerate(MSGS):
            if m[3]:
                ok(r.cmd("STORE %d FLAGS.SILENT (%s)" % (i + 1, m[3])))
    yield iinst
    wipe(iinst, USER2)


@pytest.fixture
def r(fixture_box):
    with raw(fixture_box) as s:
        ok(s.cmd("SELECT INBOX"))
        yield s


def search(r, keys, uid=False):
    lines = ok(r.cmd("%sSEARCH %s" % ("UID " if uid else "", keys)))
    assert len(lines) == 1 and re.match(rb"\* SEARCH( \d+)*$", lines[0]), \
        lines
    return [int(x) for x in lines[0].split()[2:]]


CASES = [
    # flags (RFC 9051 6.4.4); \Recent was taken by the fixture's session
    ("ALL", [1, 2, 3, 4, 5]),
    ("SEEN", [1]), ("UNSEEN", [2, 3, 4, 5]),
    ("FLAGGED", [2]), ("UNFLAGGED", [1, 3, 4, 5]),
    ("ANSWERED", [3]), ("UNANSWERED", [1, 2, 4, 5]),
    ("DELETED", [3]), ("UNDELETED", [1, 2, 4, 5]),
    ("DRAFT", [4]), ("UNDRAFT", [1, 2, 3, 5]),
    ("RECENT", []), ("OLD", [1, 2, 3, 4, 5]), ("NEW", []),
    ("KEYWORD Work", [2]), ("KEYWORD work", [2]), ("KEYWORD Junk", [4]),
    ("UNKEYWORD Work", [1, 3, 4, 5]), ("KEYWORD Nonexistent", []),
    ("UNKEYWORD Nonexistent", [1, 2, 3, 4, 5]),
    # the internal date (the file's mtime), days only
    ("BEFORE 16-Feb-2024", [1]), ("ON 16-Feb-2024", [2]),
    ("SINCE 16-Feb-2024", [2, 3, 4, 5]), ("ON 15-Feb-2024", []),
    ("SINCE 21-May-2024", []), ("BEFORE 1-Jan-2024", []),
    # Date: as written, its own zone ignored (23:30 -0800 is the 15th)
    ("SENTON 15-Feb-2024", [2]), ("SENTBEFORE 15-Feb-2024", [1]),
    ("SENTSINCE 10-Mar-2024", [3, 4, 5]), ("SENTON 10-Mar-2024", [3]),
    ("SENTON 1-Apr-2024", [4]), ("SENTON 2-Jan-2024", []),
    # RFC822.SIZE (CRLF line ends): see SIZES
    ("LARGER 5000", [4]), ("LARGER 100000", []),
    ("SMALLER %d" % (SIZES[4] + 1), [5]), ("SMALLER %d" % SIZES[4], []),
    ("LARGER %d" % (SIZES[3] - 1), [4]), ("LARGER %d" % SIZES[3], []),
    ("NOT LARGER %d" % SIZES[4], [5]),
    # addresses and headers, substrings, case-insensitive
    ("FROM alice", [1, 5]), ("FROM \"Alice Example\"", [1]),
    ("FROM example.com", [2, 4]), ("TO dave", [2]),
    ("TO user2@example.test", [1, 3, 4, 5]), ("CC carol", [1]),
    ("BCC eve@", [2]), ("BCC carol", []),
    ("SUBJECT hello", [1, 5]), ("SUBJECT \"HELLO WORLD\"", [1]),
    ("SUBJECT report", [3]), ("SUBJECT =?UTF-8?B?", []),
    ("HEADER X-Priority highest", [3]), ("HEADER x-priority \"\"", [3]),
    ("HEADER Message-ID <m1@example.org>", [1]),
    ("HEADER X-Missing \"\"", []),
    # bodies after their transfer encoding, not the headers
    ("BODY fox", [1]), ("BODY \"LAZY DOG\"", [1]), ("BODY softbreak", [2]),
    ("BODY quarterly", [3]), ("BODY payload", [3]), ("BODY U2VjcmV0", []),
    ("BODY Hello", []), ("BODY padding", [4]),
    ("TEXT hello", [1, 5]), ("TEXT fox", [1]), ("TEXT x-priority", [3]),
    ("TEXT secret", [3]),
    # OR, NOT, parentheses, lists of keys (AND)
    ("OR SEEN FLAGGED", [1, 2]), ("NOT SEEN", [2, 3, 4, 5]),
    ("NOT (SEEN OR FLAGGED DRAFT)", [1, 2, 3, 4, 5]),
    ("NOT (OR SEEN FLAGGED)", [3, 4, 5]),
    ("OR (FROM alice SUBJECT world) DELETED", [1, 3]),
    ("(UNSEEN UNDELETED) LARGER %d" % SIZES[4], [2, 4]),
    ("OR OR SEEN FLAGGED DRAFT", [1, 2, 4]),
    ("NOT NOT SEEN", [1]), ("FROM alice NOT SUBJECT world", [5]),
    # sequence sets
    ("2:4", [2, 3, 4]), ("4:2", [2, 3, 4]), ("*", [5]), ("3:*", [3, 4, 5]),
    ("1,3,5", [1, 3, 5]), ("*:4 UNSEEN", [4, 5]),
    ("UID 2:3", [2, 3]), ("UID 4:*", [4, 5]), ("UID 10:20", []),
    ("UID 100:*", [5]), ("NOT 2:4", [1, 5]),
]


@pytest.mark.parametrize("keys,want", CASES, ids=[c[0] for c in CASES])
def test_search_key(r, keys, want):
    assert search(r, keys) == want


def test_uid_search_gives_uids(r):
    # after the first message goes, numbers and UIDs differ: a MOVE
    # elsewhere is not wanted here, so compare on a UID range
    assert search(r, "SEEN", uid=True) == [1]
    assert search(r, "2:3", uid=True) == [2, 3]
    assert search(r, "UID 3:100", uid=True) == [3, 4, 5]
    assert search(r, "UID 6:100", uid=True) == []
    # RFC 9051 6.4.9: "*" is the highest UID, so 100:* names it
    assert search(r, "UID 100:*", uid=True) == [5]
    assert search(r, "FROM alice", uid=True) == [1, 5]


def test_search_past_end(r):
    # as Dovecot: a search key, not a command's target set, so numbers
    # past the end match nothing (STORE, COPY and FETCH say BAD)
    assert search(r, "6") == []
    assert search(r, "1:6") == [1, 2, 3, 4, 5]
    assert search(r, "4:10 UNSEEN") == [4, 5]
    # 0 is no sequence number (RFC 9051 9 seq-number)
    lines, t = r.cmd("SEARCH 0")
    assert lines == [] and b" BAD " in t, t


def send_literal(r, head, lit, tail=b""):
    """A command with one synchronizing literal: waits for "+"."""
    tag = r.tag()
    r.send(b"%s %s{%d}\r\n" % (tag.encode(), head, len(lit)))
    cont = r.readline()
    assert cont.startswith(b"+"), cont
    r.send(lit + tail + b"\r\n")
    return r.until(tag)


def test_charset_utf8_literal(r):
    lines, t = send_literal(r, b"SEARCH CHARSET UTF-8 SUBJECT ",
                            "grüße".encode())
    assert t.endswith(b" OK Search completed."), t
    assert lines == [b"* SEARCH 2"]
    lines, t = send_literal(r, b"SEARCH CHARSET utf-8 BODY ",
                            "CAFÉ CRÈME".encode())
    assert lines == [b"* SEARCH 2"], (lines, t)
    lines, t = send_literal(r, b"UID SEARCH CHARSET UTF-8 TEXT ",
                            "köln".encode(), b" UNSEEN")
    assert lines == [b"* SEARCH 2"], (lines, t)
    # US-ASCII is fine too
    assert search(r, "CHARSET US-ASCII SUBJECT report") == [3]


def test_badcharset(r):
    lines, t = r.cmd("SEARCH CHARSET KOI9-X SUBJECT x")
    assert lines == []
    # RFC 9051 6.4.4 / 7.1: BADCHARSET, optionally with the list
    assert re.match(rb"t\d+ NO \[BADCHARSET( \([^)]*UTF-8[^)]*\))?\] ", t), t


def test_esearch_return(r):
    lines, t = r.cmd("SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN")
    tag = t.split()[0]
    assert t.endswith(b" OK Search completed.")
    assert len(lines) == 1
    m = re.match(rb'\* ESEARCH \(TAG "%s"\) (.*)$' % tag, lines[0])
    assert m, lines
    items = m.group(1).split()
    got = dict(zip(items[::2], items[1::2]))
    assert got == {b"MIN": b"2", b"MAX": b"5", b"COUNT": b"4",
                   b"ALL": b"2:5"}, lines
    # RETURN (): as ALL (RFC 4731 3.1)
    lines, t = r.cmd("SEARCH RETURN () OR SEEN DRAFT")
    tag = t.split()[0]
    assert lines == [b'* ESEARCH (TAG "%s") ALL 1,4' % tag], lines
    # UID SEARCH: the UID marker
    lines, t = r.cmd("UID SEARCH RETURN (COUNT MAX) FROM alice")
    tag = t.split()[0]
    assert lines in ([b'* ESEARCH (TAG "%s") UID COUNT 2 MAX 5' % tag],
                     [b'* ESEARCH (TAG "%s") UID MAX 5 COUNT 2' % tag]), lines
    # nothing found: no MIN/MAX/ALL, COUNT 0 (RFC 4731 3.1)
    lines, t = r.cmd("SEARCH RETURN (MIN MAX ALL) FROM nobody")
    tag = t.split()[0]
    assert lines == [b'* ESEARCH (TAG "%s")' % tag], lines
    lines, t = r.cmd("SEARCH RETURN (COUNT) FROM nobody")
    tag = t.split()[0]
    assert lines == [b'* ESEARCH (TAG "%s") COUNT 0' % tag], lines
    # an unknown return option is BAD
    _, t = r.cmd("SEARCH RETURN (BOGUS) ALL")
    assert b" BAD " in t, t


def test_rev2_plain_search_is_esearch(fixture_box):
    with raw(fixture_box) as r:
        ok(r.cmd("ENABLE IMAP4rev2"))
        ok(r.cmd("SELECT INBOX"))
        lines, t = r.cmd("SEARCH UNSEEN")
        tag = t.split()[0]
        assert lines == [b'* ESEARCH (TAG "%s") ALL 2:5' % tag], lines
        lines, t = r.cmd("UID SEARCH FLAGGED")
        tag = t.split()[0]
        assert lines == [b'* ESEARCH (TAG "%s") UID ALL 2' % tag], lines
        lines, t = r.cmd("SEARCH FROM nobody")
        tag = t.split()[0]
        assert lines == [b'* ESEARCH (TAG "%s")' % tag], lines


def test_searchres_save(r):
    # SAVE alone: no ESEARCH response (RFC 5182 2.1)
    lines = ok(r.cmd("SEARCH RETURN (SAVE) OR FLAGGED DRAFT"))
    assert lines == [], lines
    assert search(r, "$") == [2, 4]
    assert search(r, "$", uid=True) == [2, 4]
    assert search(r, "$ FROM dave") == [4]
    assert search(r, "NOT $") == [1, 3, 5]
    assert search(r, "OR $ 1") == [1, 2, 4]
    # SAVE with other options: those are returned, everything saved
    lines, t = r.cmd("UID SEARCH RETURN (SAVE COUNT) FROM alice")
    tag = t.split()[0]
    assert lines == [b'* ESEARCH (TAG "%s") UID COUNT 2' % tag], lines
    assert search(r, "$") == [1, 5]
    # SAVE MIN: only the minimum is saved (RFC 5182 2.1)
    ok(r.cmd("SEARCH RETURN (SAVE MIN) UNSEEN"))
    assert search(r, "$") == [2]
    # FETCH $ (UID) if FETCH exists; STORE $ in any case
    lines, t = r.cmd("FETCH $ (UID)")
    if not t.endswith(b"NO [CANNOT] Not yet."):
        assert lines == [b"* 2 FETCH (UID 2)"], (lines, t)
    lines = ok(r.cmd("STORE $ +FLAGS (Saved)"))
    assert lines[-1:] == [b"* 2 FETCH (FLAGS (\\Flagged Work Saved))"], lines
    lines = ok(r.cmd("UID STORE $ -FLAGS (Saved)"))
    assert lines == [b"* 2 FETCH (UID 2 FLAGS (\\Flagged Work))"], lines
    # a search that finds nothing saves the empty set
    ok(r.cmd("SEARCH RETURN (SAVE) FROM nobody"))
    assert search(r, "$") == []
    # a refused SEARCH ... SAVE: Dovecot empties $, we keep the old
    # result (only a completed SEARCH replaces it); both are accepted
    ok(r.cmd("SEARCH RETURN (SAVE) SEEN"))
    r.cmd("SEARCH RETURN (SAVE) CHARSET BOGUS ALL")
    assert search(r, "$") in ([], [1])


def test_search_dollar_without_save(fixture_box):
    with raw(fixture_box) as r:
        ok(r.cmd("SELECT INBOX"))
        # no saved result: "$" is the empty set (RFC 5182 2.1)
        assert search(r, "$") == []
        lines = ok(r.cmd("STORE $ +FLAGS (\\Seen)"))
        assert lines == []
        # a SELECT forgets it
        ok(r.cmd("SEARCH RETURN (SAVE) SEEN"))
        assert search(r, "$") == [1]
        ok(r.cmd("SELECT INBOX"))
        assert search(r, "$") == []


def test_search_empty_mailbox(fixture_box):
    with raw(fixture_box) as r:
        ok(r.cmd("SELECT Empty"))
        assert search(r, "ALL") == []
        assert search(r, "1:*") == []
        assert search(r, "*") == []
        assert search(r, "UID 1:*", uid=True) == []
        assert search(r, "TEXT x OR SEEN NOT DELETED") == []
        lines, t = r.cmd("SEARCH RETURN (MIN MAX COUNT) ALL")
        tag = t.split()[0]
        assert lines == [b'* ESEARCH (TAG "%s") COUNT 0' % tag], lines


def test_search_not_selected_is_bad(fixture_box):
    with raw(fixture_box) as r:
        _, t = r.cmd("SEARCH ALL")
        assert b" BAD " in t, t


def test_search_syntax_errors(r):
    for keys in ("", "FROM", "BEFORE 1-Foo-2024", "LARGER x", "OR SEEN",
                 "(SEEN", "BOGUSKEY"):
        lines, t = r.cmd("SEARCH " + keys)
        assert lines == [] and b" BAD " in t, (keys, lines, t)
