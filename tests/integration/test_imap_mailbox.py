"""The IMAP mailbox commands of the authenticated state (RFC 9051 6.3,
RFC 3501 6.3): SELECT and EXAMINE (rev1 and, after ENABLE IMAP4rev2, rev2
responses), CREATE (with RFC 6154 USE), DELETE, RENAME (INBOX's rename
semantics), SUBSCRIBE/UNSUBSCRIBE (Dovecot's subscriptions file), STATUS
(RFC 8438 SIZE, RFC 7889 APPENDLIMIT), NAMESPACE (RFC 2342), UNSELECT and
CLOSE, and \\Recent for rev1 clients (RFC 3501 2.3.2). The mailbox is
user2's, emptied for each test; "." is the hierarchy separator."""

import re
import shutil
from pathlib import Path

import pytest

from imap_helpers import (BIG_LIMIT, PASSWORD2, USER2, RawIMAP,  # noqa
                          iinst, message, put_message, token)

FLAGS = b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"
PERM_RW = (b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
           b"\\Draft \\*)] Flags permitted.")
PERM_RO = b"* OK [PERMANENTFLAGS ()] Flags permitted."


@pytest.fixture
def md(iinst):
    """user2's Maildir, emptied of messages and folders."""
    path = Path(iinst.maildir(USER2))
    if path.is_dir():
        with RawIMAP(iinst.ports["imap_port"]) as c:
            c.greeting()
            c.login(USER2, PASSWORD2)
            for d in path.iterdir():
                if d.is_dir() and d.name.startswith("."):
                    c.cmd('DELETE "%s"' % d.name[1:])
        for sub in ("new", "cur"):
            for f in (path / sub).iterdir() if (path / sub).is_dir() else ():
                f.unlink()
        subs = path / "subscriptions"
        if subs.exists():
            subs.unlink()
    return path


def session(inst, rev2=False):
    c = RawIMAP(inst.ports["imap_port"])
    c.greeting()
    c.login(USER2, PASSWORD2)
    if rev2:
        assert c.cmd("ENABLE IMAP4rev2")[0] == [b"* ENABLED IMAP4rev2"]
    return c


def deliver(inst, n=1):
    for _ in range(n):
        put_message(inst, USER2, message(token()))


def value(lines, pattern):
    for l in lines:
        m = re.match(pattern, l)
        if m:
            return int(m.group(1))
    raise AssertionError("%r not in %r" % (pattern, lines))


# --- SELECT, EXAMINE -----------------------------------------------------------

def test_select_rev1(iinst, md):
    deliver(iinst, 3)
    with session(iinst) as c:
        u, t = c.cmd("SELECT INBOX")
        assert t == b"t2 OK [READ-WRITE] Select completed"
        assert u[0] == FLAGS and u[1] == PERM_RW
        assert u[2] == b"* 3 EXISTS"
        assert u[3] == b"* 3 RECENT"
        assert u[4] == b"* OK [UNSEEN 1] First unseen."
        assert re.match(rb"\* OK \[UIDVALIDITY \d+\] UIDs valid$", u[5])
        assert re.match(rb"\* OK \[UIDNEXT \d+\] Predicted next UID$", u[6])
        assert len(u) == 7
        # EXAMINE: read-only, no flags can be changed
        u, t = c.cmd("examine inbox")
        assert t == b"t3 OK [READ-ONLY] Examine completed"
        assert u[1] == PERM_RO
        assert b"* OK [CLOSED] Previous mailbox closed." not in u


def test_select_rev2(iinst, md):
    deliver(iinst, 2)
    with session(iinst, rev2=True) as c:
        u, t = c.cmd("SELECT INBOX")
        assert t == b"t3 OK [READ-WRITE] Select completed"
        assert u[0] == FLAGS and u[1] == PERM_RW
        assert u[2] == b"* 2 EXISTS"
        # RFC 9051 6.3.2: no RECENT, no UNSEEN; a LIST response
        assert not any(b"RECENT" in l or b"UNSEEN" in l for l in u), u
        assert b'* LIST () "." "INBOX"' in u
        assert any(re.match(rb"\* OK \[UIDNEXT \d+\] Predicted next UID$",
                            l) for l in u), u
        c.cmd("CREATE Other")
        u, t = c.cmd("EXAMINE Other")
        # RFC 9051 7.1: CLOSED first, for the mailbox left
        assert u[0] == b"* OK [CLOSED] Previous mailbox closed."
        assert PERM_RO in u and b'* LIST () "." "Other"' in u
        assert t.endswith(b"OK [READ-ONLY] Examine completed")


def test_select_missing_mailbox(iinst, md):
    with session(iinst) as c:
        c.cmd("SELECT INBOX")
        _, t = c.cmd("SELECT Nosuch")
        assert t == b"t3 NO [NONEXISTENT] Mailbox doesn't exist."
        # the previous mailbox is deselected (RFC 9051 6.3.2)
        assert c.cmd("FETCH 1 FLAGS")[1] == b"t4 BAD No mailbox selected."
        assert c.cmd("CLOSE")[1] == b"t5 BAD No mailbox selected."
        assert c.cmd("SELECT INBOX")[1].startswith(b"t6 OK")


def test_select_name_in_modified_utf7(iinst, md):
    with session(iinst) as c:
        assert c.cmd('CREATE "Entw&APw-rfe"')[1].startswith(b"t2 OK")
        # on disk in modified UTF-7, as Dovecot's mailbox_list_utf8 = no
        assert (md / ".Entw&APw-rfe").is_dir()
        assert c.cmd('SELECT "Entw&APw-rfe"')[1].startswith(b"t3 OK")
        assert c.cmd('SELECT "Entw&APw"')[1].startswith(b"t4 NO [CANNOT]")


# --- CREATE ---------------------------------------------------------------------

def test_create(iinst, md):
    with session(iinst) as c:
        assert c.cmd("CREATE Work")[1] == b"t2 OK Create completed."
        assert (md / ".Work").is_dir()
        assert c.cmd("CREATE Work.Projects.2024")[1].endswith(b"OK Create "
                                                              b"completed.")
        assert (md / ".Work.Projects.2024").is_dir()
        # a trailing separator: the name without it (RFC 9051 6.3.4)
        assert c.cmd("CREATE Later.")[1].endswith(b" OK Create completed.")
        assert (md / ".Later").is_dir()
        assert c.cmd("CREATE Later")[1] == \
            b"t5 NO [ALREADYEXISTS] Mailbox already exists."
        assert c.cmd("CREATE work")[1].endswith(b" OK Create completed.")
        assert c.cmd("CREATE INBOX")[1] == \
            b"t7 NO [ALREADYEXISTS] Mailbox already exists."
        assert c.cmd("CREATE inbox")[1] == \
            b"t8 NO [ALREADYEXISTS] Mailbox already exists."
        assert c.cmd("STATUS Work.Projects.2024 (MESSAGES)")[0] == [
            b'* STATUS "Work.Projects.2024" (MESSAGES 0)']


@pytest.mark.parametrize("name", ['..', '".a"', '"a..b"', '"a/b"',
                                  '"a\x01b"', '"a\x7fb"', "x" * 300])
def test_create_bad_names(iinst, md, name):
    with session(iinst) as c:
        before = sorted(p.name for p in md.iterdir())
        _, t = c.cmd("CREATE " + name)
        assert t.startswith(b"t2 NO [CANNOT] "), t
        assert sorted(p.name for p in md.iterdir()) == before


def test_create_with_special_use(iinst, md):
    with session(iinst) as c:
        _, t = c.cmd("CREATE MySent (USE (\\Sent))")
        assert t == b"t2 OK Create completed."
        use = md / ".MySent" / "mailwright-special-use"
        assert use.exists() and "\\Sent" in use.read_text()
        _, t = c.cmd("CREATE Odd (USE (\\Bogus))")
        assert t == b"t3 NO [USEATTR] Unsupported special-use attribute."
        assert not (md / ".Odd").exists()


# --- DELETE ------------------------------------------------------------------------

def test_delete(iinst, md):
    with session(iinst) as c:
        assert c.cmd("DELETE INBOX")[1] == \
            b"t2 NO [CANNOT] INBOX can't be deleted."
        assert c.cmd("DELETE Nosuch")[1] == \
            b"t3 NO [NONEXISTENT] Mailbox doesn't exist."
        c.cmd("CREATE Gone")
        assert c.cmd("DELETE Gone")[1] == b"t5 OK Delete completed."
        assert not (md / ".Gone").exists()
        assert c.cmd("DELETE Gone")[1].startswith(b"t6 NO [NONEXISTENT]")


def test_delete_the_selected_mailbox(iinst, md):
    with session(iinst) as c:
        c.cmd("CREATE Sel")
        c.cmd("SELECT Sel")
        assert c.cmd("DELETE Sel")[1] == b"t4 OK Delete completed."
        assert c.cmd("FETCH 1 FLAGS")[1] == b"t5 BAD No mailbox selected."


# --- RENAME -----------------------------------------------------------------------

def test_rename_with_children(iinst, md):
    with session(iinst) as c:
        c.cmd("CREATE A.B.C")
        c.cmd("CREATE A")
        assert c.cmd("RENAME A Z")[1] == b"t4 OK Rename completed."
        assert (md / ".Z").is_dir() and (md / ".Z.B.C").is_dir()
        assert not (md / ".A").exists() and not (md / ".A.B.C").exists()
        assert c.cmd("RENAME Nosuch Y")[1] == \
            b"t5 NO [NONEXISTENT] Mailbox doesn't exist."
        c.cmd("CREATE Y")
        assert c.cmd("RENAME Z Y")[1] == \
            b"t7 NO [ALREADYEXISTS] Mailbox already exists."


def test_rename_inbox_moves_the_messages(iinst, md):
    deliver(iinst, 2)
    with session(iinst) as c:
        c.cmd("CREATE INBOX.Sub")
        _, t = c.cmd("RENAME INBOX Old")
        assert t == b"t3 OK Rename completed."
        # RFC 9051 6.3.6: INBOX stays, empty; its children do not move
        assert c.cmd("STATUS INBOX (MESSAGES)")[0] == [
            b'* STATUS "INBOX" (MESSAGES 0)']
        assert c.cmd("STATUS Old (MESSAGES)")[0] == [
            b'* STATUS "Old" (MESSAGES 2)']
        assert c.cmd("STATUS INBOX.Sub (MESSAGES)")[1].startswith(b"t6 OK")
        u, _ = c.cmd("SELECT Old")
        assert b"* 2 EXISTS" in u


# --- SUBSCRIBE, UNSUBSCRIBE ------------------------------------------------------

def test_subscriptions_file(iinst, md):
    with session(iinst) as c:
        c.cmd("CREATE Lists.Dev")
        assert c.cmd("SUBSCRIBE Lists.Dev")[1] == \
            b"t3 OK Subscribe completed."
        # a name need not exist (RFC 9051 6.3.7)
        assert c.cmd('SUBSCRIBE "Entw&APw-rfe"')[1].startswith(b"t4 OK")
        subs = (md / "subscriptions").read_text()
        # Dovecot's version 2 file: levels in modified UTF-7, tabs
        assert subs.startswith("V\t2\n\n")
        assert set(subs[5:].splitlines()) == {"Lists\tDev", "Entw&APw-rfe"}
        assert c.cmd("UNSUBSCRIBE Lists.Dev")[1] == \
            b"t5 OK Unsubscribe completed."
        assert (md / "subscriptions").read_text() == \
            "V\t2\n\nEntw&APw-rfe\n"


# --- STATUS, NAMESPACE ---------------------------------------------------------

def test_status_every_item(iinst, md):
    deliver(iinst, 2)
    files = sorted((md / "new").iterdir())
    size = sum(len(f.read_bytes().replace(b"\n", b"\r\n")) for f in files)
    with session(iinst) as c:
        u, t = c.cmd("STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY "
                     "UNSEEN DELETED SIZE APPENDLIMIT)")
        assert t == b"t2 OK Status completed."
        m = re.match(rb'\* STATUS "INBOX" \(MESSAGES 2 RECENT 2 UIDNEXT \d+ '
                     rb'UIDVALIDITY (\d+) UNSEEN 2 DELETED 0 SIZE (\d+) '
                     rb'APPENDLIMIT (\d+)\)$', u[0])
        assert m, u
        assert int(m.group(2)) == size
        assert int(m.group(3)) == BIG_LIMIT
        u, _ = c.cmd("SELECT INBOX")
        assert value(u, rb"\* OK \[UIDVALIDITY (\d+)\]") == int(m.group(1))
        assert c.cmd("STATUS Nosuch (MESSAGES)")[1] == \
            b"t4 NO [NONEXISTENT] Mailbox doesn't exist."
        assert c.cmd("STATUS INBOX ()")[1].startswith(b"t5 BAD")
        assert c.cmd("STATUS INBOX (BOGUS)")[1].startswith(b"t6 BAD")


def test_namespace(iinst, md):
    with session(iinst) as c:
        assert c.cmd("NAMESPACE") == ([b'* NAMESPACE (("" ".")) NIL NIL'],
                                      b"t2 OK Namespace completed.")


# --- UNSELECT, CLOSE -------------------------------------------------------------

def test_unselect_keeps_deleted_messages(iinst, md):
    deliver(iinst, 2)
    with session(iinst) as c:
        c.cmd("SELECT INBOX")
        assert c.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")[1].startswith(
            b"t3 OK")
        u, t = c.cmd("UNSELECT")
        assert u == [] and t == b"t4 OK Unselect completed."
        assert c.cmd("UNSELECT")[1] == b"t5 BAD No mailbox selected."
        assert c.cmd("STATUS INBOX (MESSAGES DELETED)")[0] == [
            b'* STATUS "INBOX" (MESSAGES 2 DELETED 1)']


def test_close_expunges_silently(iinst, md):
    deliver(iinst, 3)
    with session(iinst) as c:
        c.cmd("SELECT INBOX")
        c.cmd("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        u, t = c.cmd("CLOSE")
        # RFC 9051 6.4.1: no EXPUNGE responses
        assert u == [] and t == b"t4 OK Close completed."
        assert c.cmd("FETCH 1 FLAGS")[1] == b"t5 BAD No mailbox selected."
        assert c.cmd("STATUS INBOX (MESSAGES DELETED)")[0] == [
            b'* STATUS "INBOX" (MESSAGES 1 DELETED 0)']


def test_close_after_examine_expunges_nothing(iinst, md):
    deliver(iinst, 2)
    with session(iinst) as c:
        c.cmd("SELECT INBOX")
        c.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        c.cmd("EXAMINE INBOX")
        u, t = c.cmd("CLOSE")
        assert u == [] and t == b"t5 OK Close completed."
        assert c.cmd("STATUS INBOX (MESSAGES DELETED)")[0] == [
            b'* STATUS "INBOX" (MESSAGES 2 DELETED 1)']


# --- \Recent (RFC 3501 2.3.2) ------------------------------------------------------

def test_recent_in_the_first_session_only(iinst, md):
    deliver(iinst, 2)
    with session(iinst) as a:
        assert a.cmd("STATUS INBOX (RECENT)")[0] == [
            b'* STATUS "INBOX" (RECENT 2)']
        u, _ = a.cmd("SELECT INBOX")
        assert b"* 2 RECENT" in u
        with session(iinst) as b:
            u, _ = b.cmd("SELECT INBOX")
            assert b"* 2 EXISTS" in u and b"* 0 RECENT" in u
            assert b.cmd("STATUS INBOX (RECENT)")[0] == [
                b'* STATUS "INBOX" (RECENT 0)']
        # the first session keeps them \Recent until it leaves
        u, _ = a.cmd("SELECT INBOX")
        assert b"* 0 RECENT" in u
    deliver(iinst, 1)
    with session(iinst) as c:
        # EXAMINE shows \Recent but does not take it (Dovecot's
        # MAILBOX_FLAG_DROP_RECENT is for SELECT only)
        u, _ = c.cmd("EXAMINE INBOX")
        assert b"* 3 EXISTS" in u and b"* 1 RECENT" in u
        u, _ = c.cmd("SELECT INBOX")
        assert b"* 1 RECENT" in u
        u, _ = c.cmd("SELECT INBOX")
        assert b"* 0 RECENT" in u


def test_rev2_session_takes_no_recent(iinst, md):
    deliver(iinst, 1)
    with session(iinst, rev2=True) as c:
        c.cmd("SELECT INBOX")
    with session(iinst) as c:
        u, _ = c.cmd("SELECT INBOX")
        assert b"* 1 RECENT" in u


def test_inbox_in_any_case(iinst, md):
    deliver(iinst, 1)
    with session(iinst, rev2=True) as c:
        # RFC 9051 5.1: INBOX is case-insensitive; the server's name
        u, _ = c.cmd("STATUS inbox (MESSAGES)")
        assert u == [b'* STATUS "INBOX" (MESSAGES 1)']
        u, _ = c.cmd("SELECT Inbox")
        assert b'* LIST () "." "INBOX"' in u
        assert c.cmd("DELETE inBox")[1].endswith(
            b" NO [CANNOT] INBOX can't be deleted.")


def test_rename_the_selected_inbox(iinst, md):
    deliver(iinst, 2)
    with session(iinst) as c:
        c.cmd("SELECT INBOX")
        assert c.cmd("RENAME INBOX Saved")[1] == b"t3 OK Rename completed."
        # INBOX is still selected: its messages went, as EXPUNGEs
        u, t = c.cmd("NOOP")
        assert u in ([b"* 1 EXPUNGE"] * 2, [b"* 2 EXPUNGE", b"* 1 EXPUNGE"]), u
        assert t == b"t4 OK NOOP completed."
        assert c.cmd("CLOSE")[1] == b"t5 OK Close completed."
        assert c.cmd("STATUS Saved (MESSAGES)")[0] == [
            b'* STATUS "Saved" (MESSAGES 2)']
