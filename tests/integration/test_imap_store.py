"""The IMAP commands of the selected state that change a mailbox, on a
running instance: STORE (RFC 9051 6.4.6, RFC 3501 6.4.6) with FLAGS /
+FLAGS / -FLAGS and .SILENT, keywords (dovecot-keywords letters in the
Maildir file names), UID STORE (6.4.9), read-only mailboxes, message
sets past the end; EXPUNGE (6.4.3) and UID EXPUNGE (RFC 4315 2.1), the
EXPUNGE numbers, expunges by another session (RFC 9051 7.4.1), CLOSE and
UNSELECT (RFC 3691); COPY (6.4.7) with COPYUID (RFC 4315 3) and
TRYCREATE, MOVE (RFC 6851). Texts and codes follow Dovecot 2.3 (the
reference), except that STORE and EXPUNGE in a read-only mailbox are NO
[READ-ONLY] where Dovecot answers OK and ignores them."""

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from imap_helpers import (USER, RawIMAP, iinst, message,  # noqa: F401
                          put_message, token)

NMSG = 4


def wipe(inst, addr=USER):
    """Removes addr's Maildir and index: each test starts afresh (a
    session that just logged out may still be closing its index)."""
    d = Path(inst.maildir(addr)).parent
    for _ in range(50):
        shutil.rmtree(d, ignore_errors=True)
        if not d.exists():
            return
        time.sleep(0.1)
    raise AssertionError("cannot remove %s" % d)


class Session(RawIMAP):
    """A logged-in raw session that logs out when the block ends."""

    def __exit__(self, *exc):
        try:
            self.cmd("LOGOUT")
            self.at_eof()
        except (OSError, EOFError):
            pass
        self.close()


@pytest.fixture
def box(iinst):
    """user1's INBOX with NMSG new messages; yields their Maildir names."""
    wipe(iinst)
    names = [put_message(iinst, USER, message(token() + "-%d" % i))
             for i in range(NMSG)]
    yield names
    wipe(iinst)


def raw(inst):
    r = Session(inst.ports["imap_port"])
    r.greeting()
    r.login()
    return r


def ok(res):
    lines, tagged = res
    assert re.match(rb"t\d+ OK ", tagged), (lines, tagged)
    return lines


def select(r, name="INBOX", examine=False):
    return ok(r.cmd("%s %s" % ("EXAMINE" if examine else "SELECT", name)))


def infos(inst, folder=None):
    """{base name: info letters after ":2,"} of the folder's messages."""
    md = Path(inst.maildir(USER))
    if folder is not None:
        md = md / ("." + folder)
    out = {}
    for sub in ("new", "cur"):
        if not (md / sub).is_dir():
            continue
        for f in (md / sub).iterdir():
            base, _, info = f.name.partition(":2,")
            out[base] = info
    return out


def letters(inst, names):
    """The info letters of the messages put as names, in that order."""
    i = infos(inst)
    return [i.get(n) for n in names]


def search(r, keys):
    lines = ok(r.cmd("SEARCH " + keys))
    assert len(lines) == 1 and lines[0].startswith(b"* SEARCH"), lines
    return [int(x) for x in lines[0].split()[2:]]


def fetch_flags(lines):
    """{number: flags line part} of "* n FETCH (... FLAGS (...))" lines."""
    out = {}
    for l in lines:
        m = re.match(rb"\* (\d+) FETCH \((.*)\)$", l)
        assert m, l
        out[int(m.group(1))] = m.group(2)
    return out


# --- STORE ------------------------------------------------------------------


def test_store_flags_add_remove_replace(iinst, box):
    with raw(iinst) as r:
        select(r)
        # rev1: the messages are \Recent in this session (RFC 3501 2.3.2)
        lines = ok(r.cmd("STORE 1 +FLAGS (\\Seen)"))
        assert lines == [b"* 1 FETCH (FLAGS (\\Seen \\Recent))"]
        lines = ok(r.cmd("STORE 1:2 +FLAGS (\\Flagged \\Answered)"))
        assert lines == [
            b"* 1 FETCH (FLAGS (\\Answered \\Flagged \\Seen \\Recent))",
            b"* 2 FETCH (FLAGS (\\Answered \\Flagged \\Recent))"]
        lines = ok(r.cmd("STORE 1 -FLAGS (\\Answered)"))
        assert lines == [b"* 1 FETCH (FLAGS (\\Flagged \\Seen \\Recent))"]
        lines = ok(r.cmd("STORE 2 FLAGS (\\Draft \\Deleted)"))
        assert lines == [b"* 2 FETCH (FLAGS (\\Deleted \\Draft \\Recent))"]
        # FLAGS () clears all but \Recent, which no client sets
        lines = ok(r.cmd("STORE 2 FLAGS ()"))
        assert lines == [b"* 2 FETCH (FLAGS (\\Recent))"]
        # .SILENT: no FETCH (RFC 9051 6.4.6)
        assert ok(r.cmd("STORE 3:4 +FLAGS.SILENT (\\Seen)")) == []
        assert ok(r.cmd("STORE 3 -FLAGS.SILENT (\\Seen)")) == []
        assert ok(r.cmd("STORE 4 FLAGS.SILENT (\\Draft)")) == []
        assert search(r, "SEEN") == [1]
        assert search(r, "FLAGGED") == [1]
        assert search(r, "DRAFT") == [4]
        assert search(r, "UNSEEN") == [2, 3, 4]
    # Maildir info letters, sorted as Dovecot writes them
    assert letters(iinst, box) == ["FS", "", "", "D"]


def test_store_keywords_dovecot_letters(iinst, box):
    with raw(iinst) as r:
        select(r)
        # new keywords: FLAGS and PERMANENTFLAGS first (as Dovecot)
        lines = ok(r.cmd("STORE 1 +FLAGS ($Forwarded Work)"))
        assert lines == [
            b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft "
            b"$Forwarded Work)",
            b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
            b"\\Draft $Forwarded Work \\*)] Flags permitted.",
            b"* 1 FETCH (FLAGS (\\Recent $Forwarded Work))"]
        # known ones: no FLAGS
        assert ok(r.cmd("STORE 2 +FLAGS.SILENT (\\Seen Work)")) == []
        lines = ok(r.cmd("STORE 3 FLAGS.SILENT (Junk \\Flagged)"))
        assert len(lines) == 2 and lines[0].startswith(b"* FLAGS ") and \
            lines[0].endswith(b" Work Junk)"), lines
        # keywords are case-insensitive (RFC 9051 2.3.2): the first
        # spelling stays
        lines = ok(r.cmd("STORE 1 -FLAGS (work)"))
        assert lines == [b"* 1 FETCH (FLAGS (\\Recent $Forwarded))"]
        assert search(r, "KEYWORD Work") == [2]
        assert search(r, "KEYWORD junk") == [3]
        assert search(r, "UNKEYWORD $Forwarded") == [2, 3, 4]
        # a keyword never made: nothing has it
        assert search(r, "KEYWORD Nope") == []
        # next SELECT: the new keywords in FLAGS and PERMANENTFLAGS
        lines = select(r)
        assert (b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft "
                b"$Forwarded Work Junk)") in lines
        assert (b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted "
                b"\\Seen \\Draft $Forwarded Work Junk \\*)] Flags "
                b"permitted.") in lines
    md = Path(iinst.maildir(USER))
    assert (md / "dovecot-keywords").read_text() == \
        "0 $Forwarded\n1 Work\n2 Junk\n"
    assert letters(iinst, box) == ["a", "Sb", "Fc", ""]


def test_store_invalid_keyword_and_recent(iinst, box):
    with raw(iinst) as r:
        select(r)
        _, t = r.cmd("STORE 1 +FLAGS (\\Bogus)")
        assert b" BAD " in t, t
        _, t = r.cmd("STORE 1 +FLAGS (a{b)")
        assert b" BAD " in t, t
        # \Recent is the server's (RFC 3501 2.3.2; Dovecot: BAD)
        for c in ("+FLAGS (\\Recent)", "FLAGS (\\Seen \\Recent)",
                  "-FLAGS (\\Recent)"):
            _, t = r.cmd("STORE 1 " + c)
            assert b" BAD " in t, (c, t)
    assert letters(iinst, box) == ["", "", "", ""]


def test_uid_store_names_uid(iinst, box):
    with raw(iinst) as r:
        select(r)
        lines = ok(r.cmd("UID STORE 2:3 +FLAGS (\\Seen)"))
        assert lines == [b"* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent))",
                         b"* 3 FETCH (UID 3 FLAGS (\\Seen \\Recent))"]
        assert ok(r.cmd("UID STORE 4 +FLAGS.SILENT (\\Seen)")) == []
        # UIDs past the end: no error, nothing changes (RFC 9051 6.4.9)
        _, t = r.cmd("UID STORE 10:20 +FLAGS (\\Deleted)")
        assert t.endswith(b" OK Store completed."), t
        assert ok(r.cmd("UID STORE 4:* +FLAGS (\\Answered)")) == [
            b"* 4 FETCH (UID 4 FLAGS (\\Answered \\Seen \\Recent))"]
        # "*" is the highest UID even in 10:*
        assert ok(r.cmd("UID STORE 10:* -FLAGS (\\Answered)")) == [
            b"* 4 FETCH (UID 4 FLAGS (\\Seen \\Recent))"]
        assert search(r, "DELETED") == []
    assert letters(iinst, box) == ["", "S", "S", "S"]


def test_store_sequence_past_end_is_bad(iinst, box):
    with raw(iinst) as r:
        select(r)
        for s in ("5", "1:5", "0", "3,7"):
            lines, t = r.cmd("STORE %s +FLAGS (\\Seen)" % s)
            assert lines == [] and b" BAD " in t, (s, t)
        _, t = r.cmd("STORE 5 +FLAGS (\\Seen)")
        assert t.endswith(b"BAD Error in IMAP command STORE: Invalid "
                          b"messageset"), t
        # nothing was changed by the refused ones
        assert search(r, "SEEN") == []
    assert letters(iinst, box) == ["", "", "", ""]


def test_store_star_in_empty_mailbox(iinst, box):
    with raw(iinst) as r:
        ok(r.cmd("CREATE Empty"))
        select(r, "Empty")
        _, t = r.cmd("STORE * +FLAGS (\\Seen)")
        assert t.endswith(b"BAD Error in IMAP command STORE: Invalid "
                          b"messageset"), t
        _, t = r.cmd("STORE 1:* +FLAGS (\\Seen)")
        assert b" BAD " in t, t
        # by UID "*" names nothing: OK
        _, t = r.cmd("UID STORE * +FLAGS (\\Seen)")
        assert t.endswith(b" OK Store completed."), t
        _, t = r.cmd("UID STORE 1:* +FLAGS (\\Seen)")
        assert t.endswith(b" OK Store completed."), t


def test_store_read_only_is_no(iinst, box):
    with raw(iinst) as r:
        select(r, examine=True)
        for c in ("STORE 1 +FLAGS (\\Seen)", "UID STORE 1 +FLAGS (\\Seen)",
                  "STORE 1:* FLAGS.SILENT (\\Deleted kw)"):
            lines, t = r.cmd(c)
            assert lines == []
            assert t.endswith(b" NO [READ-ONLY] Mailbox is read-only."), t
    assert letters(iinst, box) == ["", "", "", ""]
    assert not (Path(iinst.maildir(USER)) / "dovecot-keywords").exists()


def test_store_reaches_other_session(iinst, box):
    with raw(iinst) as a, raw(iinst) as b:
        select(a)
        select(b)
        ok(b.cmd("STORE 2 +FLAGS.SILENT (\\Seen \\Flagged)"))
        ok(b.cmd("STORE 3 FLAGS.SILENT (Work)"))
        # a's NOOP: the new flags of each (RFC 9051 7.5.2); \Recent is
        # a's own (a selected first, so it took them)
        lines = ok(a.cmd("NOOP"))
        # b's new keyword first (RFC 9051 7.3.5)
        assert lines[0].startswith(b"* FLAGS (") and b"Work" in lines[0], \
            lines
        got = fetch_flags([ln for ln in lines if b" FETCH " in ln])
        assert set(got) == {2, 3}, lines
        assert got[2] == b"FLAGS (\\Flagged \\Seen \\Recent)"
        assert got[3] == b"FLAGS (\\Recent Work)"
        # nothing more the second time
        assert ok(a.cmd("NOOP")) == []
        # a knows the keyword b made: SEARCH and STORE by its name
        assert search(a, "KEYWORD work") == [3]
        assert ok(a.cmd("STORE 3 -FLAGS (Work)")) == [
            b"* 3 FETCH (FLAGS (\\Recent))"]
        assert ok(b.cmd("NOOP")) == [b"* 3 FETCH (FLAGS ())"]
        # b took no \Recent: a had them
        assert ok(b.cmd("STORE 1 +FLAGS (\\Answered)")) == [
            b"* 1 FETCH (FLAGS (\\Answered))"]


def test_store_keeps_other_session_flags(iinst, box):
    """+FLAGS and -FLAGS change only the flags they name (RFC 9051
    6.4.6), also when another session changed others since this one last
    looked: its change is kept, and the reply shows the flags as they are
    now. FLAGS replaces them all."""
    with raw(iinst) as a, raw(iinst) as b:
        select(a)
        select(b)
        ok(b.cmd("STORE 1 +FLAGS.SILENT (\\Flagged Work)"))
        # a has not seen b's change (no NOOP), nor b's new keyword: it
        # learns the keyword (FLAGS, RFC 9051 7.3.5) before the flags
        lines = ok(a.cmd("STORE 1 +FLAGS (\\Seen)"))
        assert lines[0].startswith(b"* FLAGS (") and b"Work" in lines[0], \
            lines
        assert lines[1].startswith(b"* OK [PERMANENTFLAGS ("), lines
        got = fetch_flags(lines[2:])
        assert got[1] == b"FLAGS (\\Flagged \\Seen \\Recent Work)", got
        # b, whose view still lacks \Seen, removes only \Flagged
        got = fetch_flags(ok(b.cmd("STORE 1 -FLAGS (\\Flagged)")))
        assert got[1] == b"FLAGS (\\Seen Work)", got
        got = fetch_flags(ok(b.cmd("FETCH 1 FLAGS")))
        assert got[1] == b"FLAGS (\\Seen Work)", got
        # FLAGS: exactly these
        ok(a.cmd("STORE 1 FLAGS.SILENT (\\Answered)"))
        got = fetch_flags(ok(b.cmd("NOOP")))
        assert got[1] == b"FLAGS (\\Answered)", got


def test_other_session_keyword_announced_at_noop(iinst, box):
    """A keyword another session made comes with an untagged FLAGS (and
    PERMANENTFLAGS) at the next NOOP, before the FETCH that shows it."""
    with raw(iinst) as a, raw(iinst) as b:
        select(a)
        select(b)
        ok(b.cmd("STORE 2 +FLAGS.SILENT (Later)"))
        lines = ok(a.cmd("NOOP"))
        assert lines[0].startswith(b"* FLAGS (") and b"Later" in lines[0], \
            lines
        assert lines[1].startswith(b"* OK [PERMANENTFLAGS ("), lines
        assert fetch_flags(lines[2:])[2] == b"FLAGS (\\Recent Later)", lines
        assert ok(a.cmd("NOOP")) == []


def test_bulk_arrival_stays_in_new_until_flagged(iinst):
    """More than 64 files that arrived while nobody looked are indexed
    where they are (store_sync.c: STORE_SYNC_MOVE_MAX): they stay in new/,
    read as any others, and a file moves to cur/ with its flags when a
    STORE changes them; a few new files move to cur/ at once."""
    wipe(iinst)
    names = [put_message(iinst, USER, message(token() + "-%d" % i))
             for i in range(100)]
    md = Path(iinst.maildir(USER))
    try:
        with raw(iinst) as r:
            select(r)
            assert sorted(os.listdir(md / "new")) == sorted(names)
            lines = ok(r.cmd("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS "
                             "(SUBJECT)])"))
            assert len([ln for ln in lines if b" FETCH " in ln]) == 100
            ok(r.cmd("STORE 7 +FLAGS.SILENT (\\Flagged)"))
            cur = os.listdir(md / "cur")
            assert cur == [names[6] + ":2,F"], cur
            assert names[6] not in os.listdir(md / "new")
            # a few more: moved to cur/ at the next look
            more = [put_message(iinst, USER, message(token()))
                    for _ in range(3)]
            lines = ok(r.cmd("NOOP"))
            assert b"* 103 EXISTS" in lines, lines
            cur = os.listdir(md / "cur")
            assert all(any(c.startswith(m) for c in cur) for m in more), cur
            lines = ok(r.cmd("FETCH 103 BODY.PEEK[HEADER.FIELDS "
                             "(SUBJECT)]"))
            assert len(lines) == 1, lines
    finally:
        wipe(iinst)


def test_rev2_no_recent(iinst, box):
    with raw(iinst) as r:
        ok(r.cmd("ENABLE IMAP4rev2"))
        lines = select(r)
        assert not any(b"RECENT" in l for l in lines), lines
        # rev2 FETCH replies of STORE carry the UID too
        lines = ok(r.cmd("STORE 1 +FLAGS (\\Seen)"))
        assert lines == [b"* 1 FETCH (UID 1 FLAGS (\\Seen))"]


# --- EXPUNGE ----------------------------------------------------------------


def test_expunge_only_deleted_numbers(iinst, box):
    with raw(iinst) as r:
        select(r)
        ok(r.cmd("STORE 1,3:4 +FLAGS.SILENT (\\Deleted)"))
        lines = ok(r.cmd("EXPUNGE"))
        # highest first: each number is right when the client reads it
        assert lines == [b"* 4 EXPUNGE", b"* 3 EXPUNGE", b"* 1 EXPUNGE"]
        # the client's view: one message, the old 2 (UID 2)
        assert ok(r.cmd("UID SEARCH ALL")) == [b"* SEARCH 2"]
        assert search(r, "ALL") == [1]
        _, t = r.cmd("STORE 2 +FLAGS (\\Seen)")
        assert b" BAD " in t
        assert ok(r.cmd("EXPUNGE")) == []
    assert list(infos(iinst)) == [box[1]]


def test_expunge_renumbers_in_client_view(iinst, box):
    """A client applying the EXPUNGEs in order ends with the right
    numbers: check against the UIDs."""
    for i in range(4):
        put_message(iinst, USER, message("more-%d" % i))
    with raw(iinst) as r:
        select(r)
        ok(r.cmd("STORE 2,3,5,8 +FLAGS.SILENT (\\Deleted)"))
        view = list(range(1, 9))  # seq -> uid
        for l in ok(r.cmd("EXPUNGE")):
            n = int(re.match(rb"\* (\d+) EXPUNGE$", l).group(1))
            del view[n - 1]
        assert view == [1, 4, 6, 7]
        lines = ok(r.cmd("UID SEARCH ALL"))
        assert lines == [b"* SEARCH 1 4 6 7"]


def test_uid_expunge_subset(iinst, box):
    with raw(iinst) as r:
        select(r)
        ok(r.cmd("STORE 1:* +FLAGS.SILENT (\\Deleted)"))
        lines = ok(r.cmd("UID EXPUNGE 2:3,9"))
        assert lines == [b"* 3 EXPUNGE", b"* 2 EXPUNGE"]
        assert ok(r.cmd("UID SEARCH DELETED")) == [b"* SEARCH 1 4"]
        # a UID set naming nothing: OK, nothing gone
        assert ok(r.cmd("UID EXPUNGE 50:60")) == []
    assert sorted(infos(iinst)) == [box[0], box[3]]


def test_expunge_examine_is_no(iinst, box):
    with raw(iinst) as r:
        select(r)
        ok(r.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)"))
        select(r, examine=True)
        for c in ("EXPUNGE", "UID EXPUNGE 1"):
            lines, t = r.cmd(c)
            assert lines == [] and t.endswith(
                b" NO [READ-ONLY] Mailbox is read-only."), t
        # CLOSE in a read-only mailbox expunges nothing
        ok(r.cmd("CLOSE"))
    assert len(infos(iinst)) == NMSG


def test_expunge_by_other_session_waits_for_noop(iinst, box):
    with raw(iinst) as a, raw(iinst) as b:
        select(a)
        select(b)
        ok(b.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)"))
        assert ok(b.cmd("EXPUNGE")) == [b"* 2 EXPUNGE"]
        # RFC 9051 7.4.1: not during STORE or SEARCH by number; the
        # numbers stay as a knows them
        lines = ok(a.cmd("STORE 3 +FLAGS (\\Seen)"))
        assert not any(b"EXPUNGE" in l for l in lines), lines
        assert lines == [b"* 3 FETCH (FLAGS (\\Seen \\Recent))"]
        assert search(a, "ALL") == [1, 2, 3, 4]
        assert search(a, "SEEN") == [3]
        # its content is gone: no match, and RFC 5530's EXPUNGEISSUED
        lines, t = a.cmd("SEARCH TEXT line")
        assert lines == [b"* SEARCH 1 3 4"]
        assert t.endswith(b" OK [EXPUNGEISSUED] Search completed."), t
        ok(a.cmd("CREATE Target"))
        for c in ("COPY 2 Target", "MOVE 2 Target"):
            lines, t = a.cmd(c)
            assert lines == [] and t.endswith(
                b" NO [EXPUNGEISSUED] The requested messages no longer "
                b"exist."), (c, lines, t)
        lines = ok(a.cmd("NOOP"))
        assert lines == [b"* 2 EXPUNGE"], lines
        assert search(a, "ALL") == [1, 2, 3]
        assert search(a, "SEEN") == [2]
        # b sees a's \Seen as a FETCH at its NOOP
        assert ok(b.cmd("NOOP")) == [b"* 2 FETCH (FLAGS (\\Seen))"]


def test_uid_command_announces_other_expunge(iinst, box):
    with raw(iinst) as a, raw(iinst) as b:
        select(a)
        select(b)
        ok(b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)"))
        ok(b.cmd("EXPUNGE"))
        # UID commands may announce it (RFC 9051 7.4.1)
        lines = ok(a.cmd("UID STORE 3 +FLAGS (\\Seen)"))
        assert lines == [b"* 1 EXPUNGE",
                         b"* 2 FETCH (UID 3 FLAGS (\\Seen \\Recent))"]


def test_close_expunges_silently(iinst, box):
    with raw(iinst) as r:
        select(r)
        ok(r.cmd("STORE 2:3 +FLAGS.SILENT (\\Deleted)"))
        lines, t = r.cmd("CLOSE")
        assert lines == [] and t.endswith(b" OK Close completed."), t
        # back in the authenticated state
        _, t = r.cmd("NOOP")
        assert b" OK " in t
        _, t = r.cmd("STORE 1 +FLAGS (\\Seen)")
        assert b" BAD " in t, t
    assert sorted(infos(iinst)) == [box[0], box[3]]


def test_unselect_does_not_expunge(iinst, box):
    with raw(iinst) as r:
        select(r)
        ok(r.cmd("STORE 2:3 +FLAGS.SILENT (\\Deleted)"))
        lines, t = r.cmd("UNSELECT")
        assert lines == [] and t.endswith(b" OK Unselect completed."), t
        _, t = r.cmd("EXPUNGE")
        assert b" BAD " in t, t
        lines = select(r)
        assert b"* 4 EXISTS" in lines
    assert len(infos(iinst)) == NMSG
    assert letters(iinst, box) == ["", "T", "T", ""]


# --- COPY, MOVE -------------------------------------------------------------


def uidvalidity(r, name):
    lines = ok(r.cmd("STATUS %s (UIDVALIDITY UIDNEXT MESSAGES)" % name))
    m = re.search(rb"UIDVALIDITY (\d+)", lines[0])
    return int(m.group(1))


def test_copy_copyuid_sets(iinst, box):
    with raw(iinst) as r:
        ok(r.cmd("CREATE Target"))
        v = uidvalidity(r, "Target")
        select(r)
        _, t = r.cmd("COPY 1:3 Target")
        assert t.endswith(b" OK [COPYUID %d 1:3 1:3] Copy completed." % v), t
        _, t = r.cmd("COPY 4,2 Target")
        assert t.endswith(b" OK [COPYUID %d 2,4 4:5] Copy completed." % v), t
        _, t = r.cmd("UID COPY 1,3:4,99 Target")
        assert t.endswith(b" OK [COPYUID %d 1,3:4 6:8] Copy completed."
                          % v), t
        # a UID set naming nothing: OK, nothing copied (Dovecot's text)
        lines, t = r.cmd("UID COPY 50:60 Target")
        assert lines == [] and t.endswith(b" OK No messages found."), t
        _, t = r.cmd("COPY 5 Target")
        assert t.endswith(b"BAD Error in IMAP command COPY: Invalid "
                          b"messageset"), t
        lines = ok(r.cmd("STATUS Target (MESSAGES UIDNEXT)"))
        # an astring either way (Dovecot sends the atom unquoted)
        assert lines[0] in (b"* STATUS Target (MESSAGES 8 UIDNEXT 9)",
                            b'* STATUS "Target" (MESSAGES 8 UIDNEXT 9)')
    assert len(infos(iinst)) == NMSG
    assert len(infos(iinst, "Target")) == 8


def test_copy_trycreate(iinst, box):
    with raw(iinst) as r:
        select(r)
        for c in ("COPY 1 Nope", "MOVE 1 Nope", "UID COPY 1 Nope",
                  "UID MOVE 1 Nope"):
            lines, t = r.cmd(c)
            assert lines == []
            assert t.endswith(b" NO [TRYCREATE] Mailbox doesn't exist."), t
    assert len(infos(iinst)) == NMSG


def test_copy_flags_and_keywords_travel(iinst, box):
    with raw(iinst) as r:
        ok(r.cmd("CREATE Target"))
        select(r, "Target")
        # Target's own keywords first: the copied one gets another letter
        ok(r.cmd("CLOSE"))
        select(r)
        ok(r.cmd("STORE 1 +FLAGS.SILENT (\\Flagged \\Seen Work)"))
        ok(r.cmd("STORE 2 +FLAGS.SILENT (\\Answered Junk)"))
        ok(r.cmd("COPY 1:2 Target"))
        select(r, "Target")
        assert search(r, "FLAGGED SEEN KEYWORD Work") == [1]
        assert search(r, "ANSWERED KEYWORD Junk") == [2]
        assert search(r, "KEYWORD Work") == [1]
    md = Path(iinst.maildir(USER)) / ".Target"
    kw = (md / "dovecot-keywords").read_text().split("\n")
    assert set(kw) >= {"0 Work", "1 Junk"}, kw
    assert sorted(infos(iinst, "Target").values()) == ["FSa", "Rb"]


def test_copy_to_same_mailbox(iinst, box):
    with raw(iinst) as r:
        lines = select(r)
        v = int(re.search(rb"UIDVALIDITY (\d+)", b"".join(lines)).group(1))
        ok(r.cmd("STORE 2 +FLAGS.SILENT (\\Seen)"))
        _, t = r.cmd("COPY 2 INBOX")
        assert t.endswith(b" OK [COPYUID %d 2 5] Copy completed." % v), t
        lines = ok(r.cmd("NOOP"))
        assert b"* 5 EXISTS" in lines, lines
        assert ok(r.cmd("UID SEARCH SEEN")) == [b"* SEARCH 2 5"]
    assert len(infos(iinst)) == NMSG + 1


def test_move(iinst, box):
    with raw(iinst) as r:
        ok(r.cmd("CREATE Target"))
        v = uidvalidity(r, "Target")
        select(r)
        ok(r.cmd("STORE 2 +FLAGS.SILENT (\\Seen Work)"))
        lines, t = r.cmd("MOVE 2:3 Target")
        # RFC 6851 3.3: untagged OK with COPYUID, the EXPUNGEs, tagged OK
        assert lines == [
            b"* OK [COPYUID %d 2:3 1:2] Moved UIDs." % v,
            b"* 3 EXPUNGE", b"* 2 EXPUNGE"], lines
        assert t.endswith(b" OK Move completed."), t
        assert ok(r.cmd("UID SEARCH ALL")) == [b"* SEARCH 1 4"]
        # UID MOVE
        lines, t = r.cmd("UID MOVE 4 Target")
        assert lines == [b"* OK [COPYUID %d 4 3] Moved UIDs." % v,
                         b"* 2 EXPUNGE"], lines
        assert t.endswith(b" OK Move completed."), t
        lines, t = r.cmd("UID MOVE 40:50 Target")
        assert lines == [] and t.endswith(b" OK No messages found."), t
        select(r, "Target")
        assert search(r, "ALL") == [1, 2, 3]
        assert search(r, "SEEN KEYWORD Work") == [1]
    # the source files are gone, the target has its own (Dovecot names)
    assert list(infos(iinst)) == [box[0]]
    assert sorted(infos(iinst, "Target").values()) == ["", "", "Sa"]


def test_move_examine_is_no(iinst, box):
    with raw(iinst) as r:
        ok(r.cmd("CREATE Target"))
        select(r, examine=True)
        for c in ("MOVE 1 Target", "UID MOVE 1 Target"):
            lines, t = r.cmd(c)
            assert lines == [] and t.endswith(
                b" NO [READ-ONLY] Mailbox is read-only."), t
        # COPY out of a read-only mailbox is fine
        _, t = r.cmd("COPY 1 Target")
        assert b" OK [COPYUID " in t, t
    assert len(infos(iinst)) == NMSG
    assert len(infos(iinst, "Target")) == 1


def test_move_to_same_mailbox(iinst, box):
    """Dovecot moves a message into its own mailbox: it gets a new UID."""
    with raw(iinst) as r:
        lines = select(r)
        v = int(re.search(rb"UIDVALIDITY (\d+)", b"".join(lines)).group(1))
        lines, t = r.cmd("MOVE 1 INBOX")
        assert t.endswith(b" OK Move completed."), (lines, t)
        assert lines[:2] == [b"* OK [COPYUID %d 1 5] Moved UIDs." % v,
                             b"* 1 EXPUNGE"], lines
        lines = lines[2:] + ok(r.cmd("NOOP"))
        assert b"* 4 EXISTS" in lines, lines
        assert ok(r.cmd("UID SEARCH ALL")) == [b"* SEARCH 2 3 4 5"]
        # INBOX in any case; flags go along
        ok(r.cmd("STORE 1 +FLAGS.SILENT (\\Flagged)"))
        lines, t = r.cmd("UID MOVE 2 inbox")
        assert t.endswith(b" OK Move completed."), (lines, t)
        assert lines == [b"* OK [COPYUID %d 2 6] Moved UIDs." % v,
                         b"* 1 EXPUNGE", b"* 4 EXISTS", b"* 4 RECENT"], lines
        assert ok(r.cmd("UID SEARCH FLAGGED")) == [b"* SEARCH 6"]
    assert len(infos(iinst)) == NMSG
    assert os.path.exists(iinst.maildir(USER))


def test_new_mail_at_noop_is_recent(iinst, box):
    with raw(iinst) as a, raw(iinst) as b:
        select(a)
        select(b)
        put_message(iinst, USER, message(token()))
        # a selected first: it takes the new one's \Recent (RFC 3501
        # 2.3.2), b sees it as not recent
        assert ok(a.cmd("NOOP")) == [b"* 5 EXISTS", b"* 5 RECENT"]
        assert ok(b.cmd("NOOP")) == [b"* 5 EXISTS", b"* 0 RECENT"]
        assert ok(a.cmd("STORE 5 +FLAGS (\\Seen)")) == [
            b"* 5 FETCH (FLAGS (\\Seen \\Recent))"]
        assert search(a, "RECENT") == [1, 2, 3, 4, 5]
        assert search(b, "RECENT") == []
