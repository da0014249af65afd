"""Drop-in on Dovecot's Maildir (issue #9): a Dovecot of Debian's (run by
dovecot_ref.py) delivers mail with dovecot-lda and serves it over POP3
and IMAP; a client reads it there, leaves it on the server and sets a
flag and a keyword. Then mailwright serves the same Maildir: POP3 shows
the same UIDLs (Dovecot's default %08Xu%08Xv form, from dovecot-uidlist)
and the index takes the UIDs, UIDVALIDITY and keyword, so no client
downloads its mail a second time."""

import imaplib
import os
import poplib
import pwd
import re
import ssl

import pytest

from dovecot_ref import DovecotRef

USER = "user1@example.test"
PASSWORD = "secret-1"

def message(i):
    return ("From: sender@example.org\nTo: %s\nSubject: dovecot %d\n"
            "Message-ID: <dovecot.%d@example.org>\n\nBody %d,\nline two.\n"
            % (USER, i, i, i)).encode()


def pop3_uidls(host, port, tls=False, user=USER, password=PASSWORD):
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        p = poplib.POP3_SSL(host, port, context=ctx, timeout=30)
    else:
        p = poplib.POP3(host, port, timeout=30)
    try:
        p.user(user)
        p.pass_(password)
        _, lines, _ = p.uidl()
        sizes = dict(l.decode().split() for l in p.list()[1])
        out = {}
        for l in lines:
            num, uidl = l.decode().split()
            out[uidl] = int(sizes[num])
        first = p.retr(1)[1]
        return out, first
    finally:
        p.quit()


@pytest.fixture
def dovecot_maildir(make_instance):
    """The instance (not started) and, written by Dovecot into its
    mail_directory: three messages for user1, the second \\Seen with the
    keyword $Label1. Yields (inst, dovecot_uidls, imap_uids, uidvalidity)."""
    inst = make_instance(start=False)
    owner = pwd.getpwnam(inst.get_param("mail_owner") or "nobody")
    mail_root = inst.dir / "mail"
    dom = mail_root / "example.test"
    dom.mkdir(parents=True, exist_ok=True)
    for d in (mail_root, dom):
        os.chown(d, owner.pw_uid, owner.pw_gid)
    with DovecotRef(inst.dir.parent / "dovecot", mail_root, {USER: PASSWORD},
                    owner.pw_uid, owner.pw_gid) as dc:
        for i in range(1, 4):
            dc.deliver(USER, message(i))
        uidls, first = pop3_uidls("127.0.0.1", dc.pop3_port)
        assert b"Subject: dovecot 1" in b"\n".join(first)
        im = imaplib.IMAP4("127.0.0.1", dc.imap_port)
        im.login(USER, PASSWORD)
        typ, data = im.select("INBOX")
        assert typ == "OK"
        uidvalidity = int(im.response("UIDVALIDITY")[1][0])
        typ, data = im.store("2", "+FLAGS", "(\\Seen $Label1)")
        assert typ == "OK", data
        typ, data = im.fetch("1:3", "(UID)")
        uids = [int(re.search(rb"UID (\d+)", d).group(1)) for d in data]
        im.logout()
    maildir = inst.maildir(USER)
    assert (maildir / "dovecot-uidlist").exists()
    assert "$Label1" in (maildir / "dovecot-keywords").read_text()
    yield inst, uidls, uids, uidvalidity


def test_dovecot_maildir_keeps_its_uidls(dovecot_maildir):
    inst, uidls, uids, uidvalidity = dovecot_maildir
    # Dovecot's default pop3_uidl_format %08Xu%08Xv: its %X writes
    # lower-case hex digits
    assert all(re.fullmatch(r"[0-9a-f]{16}", u) for u in uidls), uidls
    inst.start()
    got, first = pop3_uidls("127.0.0.1", inst.pop3s_port, tls=True)
    assert got == uidls
    assert b"Subject: dovecot 1" in b"\n".join(first)
    shown = inst.cli("index", "show", USER, check=True).stdout
    for u in uids:
        assert re.search(r"\b%d\b" % u, shown), shown
    if uidvalidity is not None:
        assert str(uidvalidity) in shown, shown


def test_dovecot_uidls_survive_an_index_rebuild(dovecot_maildir):
    inst, uidls, _, _ = dovecot_maildir
    inst.start()
    got, _ = pop3_uidls("127.0.0.1", inst.pop3s_port, tls=True)
    assert got == uidls
    inst.cli("index", "rebuild", USER, check=True)
    got, _ = pop3_uidls("127.0.0.1", inst.pop3s_port, tls=True)
    assert got == uidls


def test_dovecot_maildir_over_imap_same_uids_flags_keywords(dovecot_maildir):
    """What an IMAP client of Dovecot had is what mailwright's imapd shows:
    the UIDVALIDITY, each message's UID, \\Seen and the keyword, and the
    bodies; so a client that caches by UID downloads nothing again."""
    inst, _, uids, uidvalidity = dovecot_maildir
    inst.start()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    im = imaplib.IMAP4_SSL("127.0.0.1", inst.imaps_port, ssl_context=ctx)
    try:
        im.login(USER, PASSWORD)
        typ, data = im.select("INBOX")
        assert typ == "OK" and data == [b"3"], data
        assert int(im.response("UIDVALIDITY")[1][0]) == uidvalidity
        typ, data = im.fetch("1:3", "(UID FLAGS BODY.PEEK[HEADER.FIELDS "
                                    "(SUBJECT)])")
        assert typ == "OK", data
        heads = [d[0] for d in data if isinstance(d, tuple)]
        got = [int(re.search(rb"UID (\d+)", h).group(1)) for h in heads]
        assert got == uids
        assert b"$Label1" in heads[1] and b"\\Seen" in heads[1], heads[1]
        # Dovecot's POP3 RETR'd message 1 and set \Seen at QUIT; 3 not
        assert b"\\Seen" in heads[0] and b"\\Seen" not in heads[2]
        typ, data = im.uid("SEARCH", "KEYWORD", "$Label1")
        assert data == [str(uids[1]).encode()], data
    finally:
        im.logout()
