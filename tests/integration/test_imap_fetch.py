"""FETCH and UID FETCH, every item of RFC 9051 6.4.5 (and RFC 3501's
RFC822.*, RFC 3516's BINARY), against a running instance: the same
messages are also placed, byte for byte, in a Maildir that a private
Dovecot 2.3 serves, and the responses are compared (ENVELOPE,
BODYSTRUCTURE with its parameters, MD5, disposition, language, location
and line counts, BODY[section]<partial> of nested parts, HEADER.FIELDS,
BINARY...); then the RFC's rules Dovecot does not show: \\Seen set by
BODY[] and not by BODY.PEEK, UID FETCH past the end, "*" in an empty
mailbox, macros."""

import os
import pwd
import re

import pytest

from dovecot_ref import DovecotRef
from imap_helpers import (RawIMAP, USER, clear_maildir, iinst,  # noqa: F401
                          put_message, token)

MESSAGES = [
    # plain, folded header, RFC 2047 subject
    b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.org>\nTo: a@example.test,\n"
    b" b@example.test\nCc: Group: c@example.test, d@example.test;\n"
    b"Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= aus\nDate: Mon, 7 Dec 2026 "
    b"10:00:00 +0100\nMessage-ID: <p1@example.org>\nIn-Reply-To: "
    b"<p0@example.org>\n\nHello,\nthis is plain.\n",
    # multipart/alternative, QP
    b"From: a@example.org\nTo: user1@example.test\nSubject: alt\n"
    b"MIME-Version: 1.0\nContent-Type: multipart/alternative; "
    b"boundary=\"=_alt\"\n\npreamble\n--=_alt\nContent-Type: text/plain; "
    b"charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
    b"Gr=C3=BC=C3=9Fe, soft=\nbreak\n--=_alt\nContent-Type: text/html; "
    b"charset=utf-8\n\n<p>hi</p>\n--=_alt--\nepilogue\n",
    # mixed with a base64 attachment (RFC 2231 filename), disposition,
    # language, location, MD5, and an attached message
    b"From: b@example.org\nTo: user1@example.test\nSubject: mixed\n"
    b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XYZ\n\n"
    b"--XYZ\nContent-Type: text/plain; charset=us-ascii\n"
    b"Content-Language: en, de\n\nSee attached.\n--XYZ\n"
    b"Content-Type: application/pdf; name=\"r.pdf\"\n"
    b"Content-Transfer-Encoding: base64\nContent-Disposition: attachment;"
    b" filename*=utf-8''r%C3%A9sum%C3%A9.pdf\nContent-MD5: "
    b"Q2hlY2sgSW50ZWdyaXR5IQ==\nContent-Location: http://x.example/r\n"
    b"Content-ID: <att1@example.org>\nContent-Description: the report\n\n"
    b"JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\n"
    b"--XYZ\nContent-Type: message/rfc822\n\nFrom: inner@example.org\n"
    b"Subject: inner\nMIME-Version: 1.0\nContent-Type: multipart/mixed; "
    b"boundary=IN\n\n--IN\nContent-Type: text/plain\n\ninner text\n"
    b"--IN\nContent-Type: text/plain\n\nsecond\n--IN--\n--XYZ--\n",
    # no header at all
    b"just a body\n",
    # header only, no body
    b"Subject: head only\nFrom: x@example.org\n",
]

ITEMS = [
    "ENVELOPE", "BODYSTRUCTURE", "BODY", "RFC822.SIZE", "FLAGS",
    "RFC822.HEADER", "BODY.PEEK[]", "BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]",
    "BODY.PEEK[1]", "BODY.PEEK[2]", "BODY.PEEK[1.MIME]", "BODY.PEEK[2.MIME]",
    "BODY.PEEK[3]", "BODY.PEEK[3.HEADER]", "BODY.PEEK[3.TEXT]",
    "BODY.PEEK[3.1]", "BODY.PEEK[3.2]", "BODY.PEEK[3.1.MIME]",
    "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]",
    "BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM TO)]",
    "BODY.PEEK[3.HEADER.FIELDS (SUBJECT)]",
    "BODY.PEEK[]<0.20>", "BODY.PEEK[TEXT]<5.10>", "BODY.PEEK[1]<2.3>",
    "BODY.PEEK[]<100000.10>",
    "BINARY.PEEK[1]", "BINARY.PEEK[2]", "BINARY.SIZE[1]", "BINARY.SIZE[2]",
    "BINARY.PEEK[1]<1.5>",
]


def normalize(line):
    """A FETCH response without what legitimately differs between two
    servers (UIDs, internal dates, \\Recent)."""
    line = re.sub(rb"UID \d+ ?", b"", line)
    line = re.sub(rb"INTERNALDATE \"[^\"]*\" ?", b"", line)
    line = line.replace(b" \\Recent", b"").replace(b"\\Recent", b"")
    return line


def fetch_all(port, user, password, item):
    with RawIMAP(port) as c:
        c.greeting()
        c.login(user, password)
        c.cmd("EXAMINE INBOX")
        lines, t = c.cmd("FETCH 1:* (%s)" % item)
        return [normalize(ln) for ln in lines if b" FETCH " in ln], t


@pytest.fixture(scope="module")
def both(iinst):
    """iinst's user1 and a Dovecot over a copy of the same files."""
    clear_maildir(iinst, USER)
    for m in MESSAGES:
        put_message(iinst, USER, m)
    owner = pwd.getpwnam(iinst.get_param("mail_owner") or "nobody")
    root = iinst.dir.parent / "dovecot-mail"
    md = root / "example.test" / "user1" / "Maildir"
    for d in ("tmp", "new", "cur"):
        (md / d).mkdir(parents=True, exist_ok=True)
    for n, m in enumerate(MESSAGES):
        p = md / "new" / ("%d.M%dP1.ref" % (1700000000 + n, n))
        p.write_bytes(m)
    for dirpath, dirs, files in os.walk(root):
        for x in dirs + files:
            os.chown(os.path.join(dirpath, x), owner.pw_uid, owner.pw_gid)
        os.chown(dirpath, owner.pw_uid, owner.pw_gid)
    with DovecotRef(iinst.dir.parent / "dovecot", root,
                    {USER: iinst.users[USER]}, owner.pw_uid,
                    owner.pw_gid) as dc:
        yield iinst, dc


@pytest.mark.parametrize("item", ITEMS)
def test_fetch_item_as_dovecot(both, item):
    inst, dc = both
    ours, t1 = fetch_all(inst.imap_port, USER, inst.users[USER], item)
    ref, t2 = fetch_all(dc.imap_port, USER, inst.users[USER], item)
    assert b" OK " in t1, t1
    assert b" OK " in t2, t2
    assert len(ours) == len(MESSAGES)
    if item.startswith("BINARY"):
        # RFC 3516 4.3 (errata 3978): 8-bit data without NUL SHOULD be a
        # plain string, not literal8 as Dovecot sends it
        ref = [r.replace(b"~{", b"{") for r in ref]
    if os.environ.get("MW_SHOW_FETCH"):
        for a, b in zip(ours, ref):
            print("ours: %r\nref:  %r" % (a, b))
    for a, b in zip(ours, ref):
        assert a == b, "\nours: %r\nref:  %r" % (a, b)


def test_rfc2231_parameters_for_utf8_clients(both):
    """RFC 9051 7.5.2: a client with UTF-8 gets an RFC 2231 parameter
    decoded, as "name*" with the UTF-8 value; a rev1 client gets it as
    RFC 2231 writes it (the comparison with Dovecot above)."""
    inst, _ = both
    with RawIMAP(inst.imap_port) as c:
        c.greeting()
        c.login()
        c.cmd("ENABLE UTF8=ACCEPT")
        c.cmd("EXAMINE INBOX")
        lines, t = c.cmd("FETCH 3 BODYSTRUCTURE")
        assert b" OK " in t
        assert '("filename*" "résumé.pdf")'.encode() in lines[0], lines[0]


def session(inst):
    c = RawIMAP(inst.imap_port)
    c.greeting()
    c.login()
    return c


def test_seen_set_by_body_not_by_peek(iinst):
    clear_maildir(iinst, USER)
    for _ in range(3):
        put_message(iinst, USER, b"Subject: %s\n\nbody\n" % token().encode())
    with session(iinst) as c:
        c.cmd("SELECT INBOX")
        lines, _ = c.cmd("FETCH 1 (BODY.PEEK[] RFC822.HEADER)")
        assert b"\\Seen" not in b"".join(lines)
        lines, _ = c.cmd("FETCH 1 BODY[TEXT]")
        # the flag change is reported with the body (RFC 3501 6.4.5)
        assert re.search(rb"FLAGS \([^)]*\\Seen", b"".join(lines)), lines
        lines, _ = c.cmd("FETCH 2 RFC822")
        assert b"\\Seen" in b"".join(lines)
        lines, _ = c.cmd("FETCH 3 BINARY[1]")
        assert b"\\Seen" in b"".join(lines)
        lines, _ = c.cmd("FETCH 1:3 FLAGS")
        assert all(b"\\Seen" in ln for ln in lines), lines
    # EXAMINE never sets it
    put_message(iinst, USER, b"Subject: ro\n\nbody\n")
    with session(iinst) as c:
        c.cmd("EXAMINE INBOX")
        c.cmd("FETCH 4 BODY[]")
        lines, _ = c.cmd("FETCH 4 FLAGS")
        assert b"\\Seen" not in lines[0], lines
    clear_maildir(iinst, USER)


def test_uid_fetch_ranges_macros_and_empty(iinst):
    clear_maildir(iinst, USER)
    with session(iinst) as c:
        _, t = c.cmd("SELECT INBOX")
        # "*" names no message in an empty mailbox; UID sets may
        lines, t = c.cmd("FETCH 1:* FLAGS")
        assert b" BAD " in t or b" NO " in t, t
        lines, t = c.cmd("UID FETCH 1:* FLAGS")
        assert b" OK " in t and lines == [], (lines, t)
    for _ in range(3):
        put_message(iinst, USER, b"Subject: m\n\nbody\n")
    with session(iinst) as c:
        c.cmd("SELECT INBOX")
        lines, t = c.cmd("UID FETCH 1:* (UID)")
        uids = [int(re.search(rb"UID (\d+)", ln).group(1)) for ln in lines]
        assert len(uids) == 3 and uids == sorted(uids)
        # past the end: nothing, no error (RFC 9051 6.4.9)
        lines, t = c.cmd("UID FETCH %d:%d FLAGS" % (uids[-1] + 1,
                                                    uids[-1] + 100))
        assert b" OK " in t and lines == [], (lines, t)
        # "*" in a UID range is the highest UID in use
        lines, t = c.cmd("UID FETCH %d:* (UID)" % (uids[-1] + 50))
        assert len(lines) == 1 and b"UID %d" % uids[-1] in lines[0]
        # UID FETCH answers with UID though it was not asked
        lines, t = c.cmd("UID FETCH %d FLAGS" % uids[0])
        assert b"UID %d" % uids[0] in lines[0]
        # message numbers past the end are BAD
        lines, t = c.cmd("FETCH 4 FLAGS")
        assert b" BAD " in t, t
        for macro, want in (("ALL", [b"FLAGS", b"INTERNALDATE",
                                     b"RFC822.SIZE", b"ENVELOPE"]),
                            ("FAST", [b"FLAGS", b"INTERNALDATE",
                                      b"RFC822.SIZE"]),
                            ("FULL", [b"FLAGS", b"INTERNALDATE",
                                      b"RFC822.SIZE", b"ENVELOPE",
                                      b"BODY ("])):
            lines, t = c.cmd("FETCH 1 %s" % macro)
            assert b" OK " in t
            for w in want:
                assert w in lines[0], (macro, w, lines[0])
        # a bad section is BAD, the session goes on
        lines, t = c.cmd("FETCH 1 BODY[1.BOGUS]")
        assert b" BAD " in t, t
        lines, t = c.cmd("NOOP")
        assert b" OK " in t
    clear_maildir(iinst, USER)



def _strip_seq(line):
    return re.sub(rb"^\* \d+ FETCH ", b"* FETCH ", line)


def test_first_fetch_of_many_parsed_ahead(iinst):
    """A first FETCH ENVELOPE/BODYSTRUCTURE of a folder whose structure
    the index does not have: the files are parsed ahead on several
    workers (imap_fetch_pre.c). Every response is the one the same message
    gets alone; a file renamed behind the server's back (mutt setting a
    flag) is still found, one removed makes the command end NO
    [EXPUNGEISSUED]; the parsed structure is in the index afterwards (the
    same responses again, from the cache and from a new session), and a
    command pipelined behind the FETCH is answered after it."""
    clear_maildir(iinst, USER)
    n = 300
    names = [put_message(iinst, USER, MESSAGES[k % len(MESSAGES)])
             for k in range(n)]
    items = ("ENVELOPE BODYSTRUCTURE BODY.PEEK[1] "
             "BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    md = iinst.maildir(USER)
    with session(iinst) as c:
        _, t = c.cmd("SELECT INBOX")
        assert b" OK " in t, t
        # behind the server's back: one renamed, one removed
        renamed, removed = names[150], names[201]
        os.rename(os.path.join(md, "new", renamed),
                  os.path.join(md, "cur", renamed + ":2,F"))
        os.unlink(os.path.join(md, "new", removed))
        c.send("f1 FETCH 1:* (%s)\r\nf2 NOOP\r\n" % items)
        first, t = c.until("f1")
        assert t.startswith(b"f1 NO [EXPUNGEISSUED]"), t
        lines, t2 = c.until("f2")
        assert b" OK " in t2, t2
        assert b"* 202 EXPUNGE" in lines, lines
        assert len(first) == n - 1, len(first)
        by_kind = {}
        for line in first:
            seq = int(line.split()[1])
            kind = (seq - 1) % len(MESSAGES)
            by_kind.setdefault(kind, set()).add(_strip_seq(line))
        assert sorted(by_kind) == list(range(len(MESSAGES)))
        for kind, got in by_kind.items():
            assert len(got) == 1, (kind, got)
        # the same from the cache, in this session (after NOOP's
        # EXPUNGE) and in a new one
        again, t = c.cmd("FETCH 1:* (%s)" % items)
        assert b" OK " in t, t
        assert [_strip_seq(x) for x in again] == \
            [_strip_seq(x) for x in first]
    with session(iinst) as c:
        c.cmd("SELECT INBOX")
        later, t = c.cmd("FETCH 1:* (%s)" % items)
        assert b" OK " in t, t
        assert [_strip_seq(x) for x in later] == \
            [_strip_seq(x) for x in first]
    for kind in range(len(MESSAGES)):
        with session(iinst) as c:
            c.cmd("SELECT INBOX")
            one, _ = c.cmd("FETCH %d (%s)" % (kind + 1, items))
            assert by_kind[kind] == {_strip_seq(one[0])}
